/*
 * scan.c - a periodic scan's decisions and report (scan.h).
 *
 * One walk over the live blocks in address order (the order of the unref
 * table and of leak-graph node numbers) gives each leaked node its
 * consecutive unreachable count, its table entry and whether it is
 * confirmed and new; then SCCs are made all-or-nothing, the shown nodes are
 * marked reported in the table, the table is published and the report
 * written.  Memory: two arrays of one entry per leaked node, mmap'd.
 */
#include "scan.h"
#include "dump.h"
#include "gen.h"
#include "log.h"
#include "lookup.h"
#include "mmvec.h"
#include "options.h"
#include "report.h"
#include "unref.h"

#include <errno.h>

struct walk {
    const struct lm_mark_result *res;
    const struct lm_scan_job *job;
    struct lm_unref_walk unref;
    uint8_t *shown;                /* per node */
    size_t *entry;                 /* per node: unref table entry */
    uint32_t next_node;
    struct lm_scan_stats *st;
};

static uint32_t node_of(struct walk *w, const struct lm_block_ref *b)
{
    uint32_t node = w->next_node;
    struct lm_block_ref lb;
    if (node < lm_mark_leaked_count(w->res)) {
        lm_mark_leaked_block(w->res, node, &lb);
        if (lb.start == b->start)
            return node;
    }
    return lm_mark_find_leaked(w->res, b->start);
}

static void visit(const struct lm_block_ref *b, void *arg)
{
    struct walk *w = arg;
    if (lm_mark_block_state(w->res, b) != LM_MARK_LEAKED)
        return;
    bool reported;
    unsigned count = lm_unref_visit(&w->unref, b, &reported);
    uint32_t node = node_of(w, b);
    if (node == LM_LG_NONE)
        return;
    w->next_node = node + 1;
    struct lm_gen_info gi;
    lm_gen_classify(b->gen, w->job->snap_ns, &gi);
    bool confirmed = count >= lm_options.min_unref_scans && gi.age_ms >= lm_options.min_age_ms &&
                     gi.gen <= w->job->level;
    if (confirmed) {
        w->st->confirmed_blocks++;
        w->st->confirmed_bytes += b->size;
    } else if (!reported) {
        w->st->pending_blocks++;
    }
    w->shown[node] = confirmed && !reported;
    w->entry[node] = w->unref.last;
}

/* A component is shown whole or not at all. */
static void whole_components(struct walk *w)
{
    if (!w->res->graph_ok)
        return;
    const lm_leakgraph_t *g = lm_mark_graph(w->res);
    for (uint32_t c = 0, n = lm_leakgraph_scc_count(g); c < n; c++) {
        uint32_t cnt;
        const uint32_t *m = lm_leakgraph_scc_members(g, c, &cnt);
        bool all = true;
        for (uint32_t i = 0; i < cnt && all; i++)
            all = w->shown[m[i]];
        if (!all)
            for (uint32_t i = 0; i < cnt; i++)
                w->shown[m[i]] = 0;
    }
}

static void report(struct walk *w, uint32_t n)
{
    const struct lm_scan_job *job = w->job;
    for (uint32_t v = 0; v < n; v++) {
        if (!w->shown[v])
            continue;
        struct lm_block_ref b;
        lm_mark_leaked_block(w->res, v, &b);
        w->st->new_blocks++;
        w->st->new_bytes += b.size;
        lm_unref_mark_reported(&w->unref, w->entry[v]);
    }
    lm_unref_commit(&w->unref);
    if (!w->st->new_blocks)
        return;
    char path[LM_DUMP_PATH_MAX];
    if (!lm_dump_expand_path(path, sizeof path, lm_options.scan_report_path, job->pid,
                             (uint32_t)job->seq))
        path[0] = 0;
    struct lm_report_info info = {
        .trigger = "periodic", .scan_ms = job->scan_ms, .pause_ms = job->pause_ms,
        .threads_not_stopped = job->threads_not_stopped, .pid = job->pid,
        .json_path = path, .periodic = true, .scan_level = job->level, .scan_seq = job->seq,
        .node_shown = w->shown, .hide_possible = true,
        .confirmed_blocks = w->st->confirmed_blocks, .confirmed_bytes = w->st->confirmed_bytes,
    };
    lm_report_write(w->res, &info);
}

int lm_scan_report(const struct lm_mark_result *res, const struct lm_scan_job *job,
                   struct lm_scan_stats *st)
{
    *st = (struct lm_scan_stats){ 0 };
    uint32_t n = lm_mark_leaked_count(res);
    lm_mmvec_t shown, entry;
    lm_mmvec_init(&shown, sizeof(uint8_t));
    lm_mmvec_init(&entry, sizeof(size_t));
    int err = 0;
    if (lm_mmvec_resize(&shown, n) || lm_mmvec_resize(&entry, n)) {
        err = ENOMEM;
        goto out;
    }
    struct walk w = { .res = res, .job = job, .shown = shown.data, .entry = entry.data, .st = st };
    for (uint32_t v = 0; v < n; v++) {
        w.shown[v] = 0;
        w.entry[v] = LM_UNREF_NONE;
    }
    lm_unref_begin(&w.unref);
    lm_foreach_live_block(visit, &w);
    whole_components(&w);
    report(&w, n);
out:
    lm_mmvec_free(&shown);
    lm_mmvec_free(&entry);
    return err;
}
