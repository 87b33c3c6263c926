/*
 * report.c - writes the reports of a finished mark (see report.h for the
 * contract, shared/REPORT-FORMAT.md for the schema): under report_lock,
 * which serialises reports (the symbolizer's session is global), it reads
 * the suppressions, groups the blocks (reportgroups.c), writes the text
 * (reporttext.c) and then the JSON (reportjson.c) through one 64 KiB
 * output buffer, and frees the report's memory.
 *
 * Owns: report_lock.  Per report, in mmap'd memory (lm_mmvec): the
 * groups, a hash index over (kind, stack id), the node -> group map, the
 * sorted order and the output buffer (a 1 KiB stack buffer if mapping it
 * fails: the report is then written in small pieces).  Nothing here runs
 * inside malloc or a signal handler (libdwfl mallocs, see symbolize.h).
 */
#include "reportctx.h"

#include "options.h"
#include "os.h"
#include "symbolize.h"

#include <pthread.h>

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

int lm_report_write(const struct lm_mark_result *res, const struct lm_report_info *info_in)
{
    struct lm_report_info info = { .trigger = "exit" };
    if (info_in)
        info = *info_in;
    if (!info.trigger)
        info.trigger = "exit";
    if (!info.pid)
        info.pid = lm_os_getpid();
    bool json = lm_options.report == 1, text = !(json && lm_options.quiet);

    pthread_mutex_lock(&report_lock);
    struct lm_report_ctx c = { .res = res, .g = res->graph_ok ? lm_mark_graph(res) : NULL, .info = &info };
    c.v = (struct view){ .live = res->live, .reachable = res->reachable,
                         .possible = res->possible, .leaked = res->leaked,
                         .definite = res->definite, .indirect = res->indirect,
                         .cycles = res->cycles, .sup_blocks = info.suppressed_blocks,
                         .sup_bytes = info.suppressed_bytes };
    const struct view v0 = c.v;
    lm_supp_init(&c.supp);
    lm_mmvec_init(&c.node_supp, sizeof(uint8_t));
    lm_mmvec_init(&c.groups, sizeof(struct group));
    lm_mmvec_init(&c.index, sizeof(uint32_t));
    lm_mmvec_init(&c.node_group, sizeof(uint32_t));
    lm_mmvec_init(&c.order, sizeof(uint32_t));
    lm_mmvec_init(&c.rank, sizeof(uint32_t));
    lm_symbolize_begin();                /* suppressions symbolize too */
    if (lm_options.suppressions[0])
        lm_supp_load(&c.supp, lm_options.suppressions);
    int err = lm_report_build_groups(&c);

    char small[1024];
    void *big = NULL;
    char *buf = small;
    size_t cap = sizeof small;
    if (lm_os_map(OUT_BUF_SIZE, &big) == 0) {
        buf = big;
        cap = OUT_BUF_SIZE;
    }
    if (err) {
        lm_log("leak report: out of memory while grouping leaks; summary only");
        c.order.len = 0;
        c.g = NULL;
        c.v = v0;
        lm_supp_free(&c.supp);
    }
    if (info.reported_out)
        *info.reported_out = c.v.definite.blocks + c.v.indirect.blocks;
    int text_fd = text ? lm_log_fd_checked() : -1;   /* -1: stderr was closed or replaced */
    if (text_fd >= 0) {
        struct lm_bufw w;
        lm_bufw_init(&w, text_fd, buf, cap);
        if (err)
            lm_report_text_summary(&w, &c.v);
        else
            lm_report_write_text(&c, &w, &info);
        lm_bufw_flush(&w);
    }
    if (json) {
        int jerr = lm_report_json_to_file(&c, buf, cap, &info);
        if (jerr)
            err = jerr;
    }
    lm_symbolize_end();

    if (big)
        lm_os_unmap(big, OUT_BUF_SIZE);
    lm_mmvec_free(&c.groups);
    lm_mmvec_free(&c.index);
    lm_mmvec_free(&c.node_group);
    lm_mmvec_free(&c.order);
    lm_mmvec_free(&c.rank);
    lm_mmvec_free(&c.node_supp);
    lm_supp_free(&c.supp);
    pthread_mutex_unlock(&report_lock);
    return err;
}
