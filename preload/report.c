/*
 * report.c - groups the leaked and possible blocks of a finished mark and
 * writes the text report and the JSON report (see report.h for the
 * contract, shared/REPORT-FORMAT.md for the schema).
 *
 * Owns: report_lock, which serialises reports (the symbolizer's session
 * is global).  Per report, in mmap'd memory (lm_mmvec): the groups, a hash
 * index over (kind, stack id), the node -> group map and the sorted order;
 * one 64 KiB output buffer shared by the text and the JSON writer (the text
 * is flushed before the JSON starts).
 *
 * Suppressions (suppress.h): the file named by lm_options.suppressions is
 * read at the start of every report; leaked nodes it hides (matched, or
 * held by a suppressed block) and matching possible blocks join no group:
 * they are counted in the view's suppressed_* and taken out of their
 * kind's counts, and a cycle of suppressed nodes is not shown (all members
 * of an SCC are suppressed together, since they reach each other).
 *
 * Invariants: every leaked node and every possible block belongs to
 * exactly one group, or is suppressed (node_group NO_GROUP); rank[] is a
 * permutation of the groups; the JSON "leaks" index of a group is its
 * rank; the view's counts are the mark's minus what was suppressed.
 * Nothing here runs inside malloc or a signal handler (libdwfl mallocs,
 * see symbolize.h).
 */
#include "report.h"
#include "gen.h"
#include "jsonw.h"
#include "log.h"
#include "options.h"
#include "os.h"
#include "stackdepot.h"
#include "suppress.h"
#include "symbolize.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef LM_VERSION
#define LM_VERSION "0.0.0"
#endif

enum { K_DEFINITE, K_INDIRECT, K_POSSIBLE };
static const char *const kind_name[] = { "definite", "indirect", "possible" };
static const char *const kind_title[] = { "Definite", "Indirect", "Possible" };

#define TEXT_MAX_CYCLES  50
#define TEXT_MAX_MEMBERS 20
#define TEXT_MAX_EDGES   48
#define OUT_BUF_SIZE     ((size_t)64 << 10)
#define NO_GROUP         UINT32_MAX

struct group {
    uint32_t stack_id;
    uint8_t kind;
    bool in_cycle;
    size_t blocks, bytes;
    uint32_t gen_blocks[3];     /* blocks per generation: young, middle, old */
    uint32_t owner;             /* indirect: slot of a holding definite group */
    size_t held_blocks, held_bytes;  /* definite: indirect blocks it holds */
    uint32_t shown_in;          /* text: 1 + cycle whose member printed the stack */
};

/* The numbers the report shows: the mark's, minus suppressed blocks. */
struct view {
    struct lm_mark_count live, reachable, possible, leaked, definite, indirect;
    uint32_t cycles;
    size_t sup_blocks, sup_bytes;   /* the caller's (info) + ours */
    struct lm_mark_count unreported;  /* left out by a periodic scan */
};

struct ctx {
    const struct lm_mark_result *res;
    struct view v;
    struct lm_supp_set supp;
    lm_mmvec_t node_supp;       /* uint8_t per leaked node (LM_SUPP_NODE_*),
                                 * empty when nothing is suppressed */
    const lm_leakgraph_t *g;    /* NULL when !graph_ok */
    const struct lm_report_info *info;
    lm_mmvec_t groups;          /* struct group */
    lm_mmvec_t index;           /* uint32_t slot + 1, 0 = empty; pow2 size */
    lm_mmvec_t node_group;      /* uint32_t per leaked node */
    lm_mmvec_t order;           /* uint32_t slots, sorted */
    lm_mmvec_t rank;            /* uint32_t per slot */
    int err;
};

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- grouping ---- */

static struct group *grp(const struct ctx *c, uint32_t slot)
{
    return (struct group *)c->groups.data + slot;
}

static uint32_t *u32(const lm_mmvec_t *v) { return (uint32_t *)v->data; }

static size_t key_hash(uint8_t kind, uint32_t stack, size_t mask)
{
    uint64_t h = ((uint64_t)stack << 2 | kind) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 20) & mask;
}

static int index_rebuild(struct ctx *c, size_t cap)
{
    lm_mmvec_t nv;
    lm_mmvec_init(&nv, sizeof(uint32_t));
    if (lm_mmvec_resize(&nv, cap))
        return ENOMEM;
    for (uint32_t s = 0; s < c->groups.len; s++) {
        size_t j = key_hash(grp(c, s)->kind, grp(c, s)->stack_id, cap - 1);
        while (u32(&nv)[j])
            j = (j + 1) & (cap - 1);
        u32(&nv)[j] = s + 1;
    }
    lm_mmvec_free(&c->index);
    c->index = nv;
    return 0;
}

/* Slot of the (kind, stack) group, created if new; NO_GROUP on ENOMEM. */
static uint32_t group_of(struct ctx *c, uint8_t kind, uint32_t stack)
{
    size_t cap = c->index.len;
    if ((c->groups.len + 1) * 2 > cap) {
        if (index_rebuild(c, cap ? cap * 2 : 1024))
            return NO_GROUP;
        cap = c->index.len;
    }
    size_t j = key_hash(kind, stack, cap - 1);
    for (uint32_t s; (s = u32(&c->index)[j]); j = (j + 1) & (cap - 1))
        if (grp(c, s - 1)->kind == kind && grp(c, s - 1)->stack_id == stack)
            return s - 1;
    struct group *g = lm_mmvec_push_slot(&c->groups);
    if (!g)
        return NO_GROUP;
    *g = (struct group){ .stack_id = stack, .kind = kind, .owner = NO_GROUP };
    uint32_t slot = (uint32_t)(c->groups.len - 1);
    u32(&c->index)[j] = slot + 1;
    return slot;
}

static void add_block(struct ctx *c, uint8_t kind, const struct lm_block_ref *b,
                      bool in_cycle, uint32_t node)
{
    uint32_t s = group_of(c, kind, b->stack_id);
    if (s == NO_GROUP) {
        c->err = ENOMEM;
        return;
    }
    struct group *g = grp(c, s);
    g->blocks++;
    g->bytes += b->size;
    g->gen_blocks[lm_gen_of_stamp(b->gen)]++;
    g->in_cycle |= in_cycle;
    if (node != NO_GROUP)
        u32(&c->node_group)[node] = s;
}

static bool node_suppressed(const struct ctx *c, uint32_t node)
{
    return c->node_supp.len && ((const uint8_t *)c->node_supp.data)[node];
}

/* Left out by the caller (a periodic scan shows only new, confirmed leaks):
 * in no group and in no count. */
static bool node_hidden(const struct ctx *c, uint32_t node)
{
    return c->info->node_shown && !c->info->node_shown[node];
}

static void sub(struct lm_mark_count *m, size_t bytes)
{
    m->blocks--;
    m->bytes -= bytes;
}

static void suppress_block(struct ctx *c, uint8_t kind, const struct lm_block_ref *b)
{
    c->v.sup_blocks++;
    c->v.sup_bytes += b->size;
    if (kind == K_POSSIBLE) {
        sub(&c->v.possible, b->size);
        return;
    }
    sub(kind == K_DEFINITE ? &c->v.definite : &c->v.indirect, b->size);
    sub(&c->v.leaked, b->size);
}

static void leaked_cb(uint32_t node, const struct lm_block_ref *b,
                      enum lm_leak_kind kind, bool in_cycle, void *arg)
{
    struct ctx *c = arg;
    uint8_t k = kind == LM_LEAK_INDIRECT ? K_INDIRECT : K_DEFINITE;
    if (node_hidden(c, node)) {
        sub(k == K_DEFINITE ? &c->v.definite : &c->v.indirect, b->size);
        sub(&c->v.leaked, b->size);
        c->v.unreported.blocks++;
        c->v.unreported.bytes += b->size;
        u32(&c->node_group)[node] = NO_GROUP;
        return;
    }
    if (node_suppressed(c, node)) {
        suppress_block(c, k, b);
        u32(&c->node_group)[node] = NO_GROUP;
        return;
    }
    add_block(c, k, b, in_cycle, node);
}

static void possible_cb(const struct lm_block_ref *b, void *arg)
{
    struct ctx *c = arg;
    if (lm_mark_block_state(c->res, b) != LM_MARK_POSSIBLE)
        return;
    if (c->info->hide_possible) {
        sub(&c->v.possible, b->size);
        c->v.unreported.blocks++;
        c->v.unreported.bytes += b->size;
        return;
    }
    uint32_t r = lm_supp_match(&c->supp, b->stack_id, LM_SUPP_POSSIBLE);
    if (r != LM_SUPP_NONE) {
        lm_supp_hit(&c->supp, r, 1, b->size);
        suppress_block(c, K_POSSIBLE, b);
        return;
    }
    add_block(c, K_POSSIBLE, b, false, NO_GROUP);
}

/* SCC s is a cycle the report shows (not suppressed). */
static bool cycle_shown(const struct ctx *c, uint32_t s)
{
    if (!lm_leakgraph_scc_is_cycle(c->g, s))
        return false;
    uint32_t cnt;
    const uint32_t *m = lm_leakgraph_scc_members(c->g, s, &cnt);
    return cnt && !node_suppressed(c, m[0]) && !node_hidden(c, m[0]);
}

/* Slot of the group of the first member of the root SCC owning node v's
 * SCC, or NO_GROUP. */
static uint32_t owner_group(const struct ctx *c, uint32_t v)
{
    uint32_t o = lm_leakgraph_scc_owner(c->g, lm_leakgraph_node_scc(c->g, v));
    if (o == LM_LG_NONE)
        return NO_GROUP;
    uint32_t cnt;
    const uint32_t *m = lm_leakgraph_scc_members(c->g, o, &cnt);
    return cnt ? u32(&c->node_group)[m[0]] : NO_GROUP;
}

static void holds_cb(uint32_t node, const struct lm_block_ref *b,
                     enum lm_leak_kind kind, bool in_cycle, void *arg)
{
    struct ctx *c = arg;
    (void)in_cycle;
    if (kind != LM_LEAK_INDIRECT || u32(&c->node_group)[node] == NO_GROUP)
        return;
    uint32_t og = owner_group(c, node);
    if (og == NO_GROUP)
        return;
    grp(c, og)->held_blocks++;
    grp(c, og)->held_bytes += b->size;
    struct group *mine = grp(c, u32(&c->node_group)[node]);
    if (mine->owner == NO_GROUP)
        mine->owner = og;
}

/* a before b in the report order? */
static bool before(const struct ctx *c, uint32_t a, uint32_t b)
{
    const struct group *x = grp(c, a), *y = grp(c, b);
    if (x->bytes != y->bytes) return x->bytes > y->bytes;
    if (x->blocks != y->blocks) return x->blocks > y->blocks;
    if (x->kind != y->kind) return x->kind < y->kind;
    return x->stack_id < y->stack_id;
}

static void sift(const struct ctx *c, uint32_t *o, size_t i, size_t n)
{
    for (;;) {                         /* max-heap of "comes last" */
        size_t k = 2 * i + 1;
        if (k >= n) return;
        if (k + 1 < n && before(c, o[k], o[k + 1])) k++;
        if (!before(c, o[i], o[k])) return;
        uint32_t t = o[i]; o[i] = o[k]; o[k] = t;
        i = k;
    }
}

static int build_groups(struct ctx *c)
{
    uint32_t n = lm_mark_leaked_count(c->res);
    if (lm_mmvec_resize(&c->node_group, n))
        return ENOMEM;
    if (!lm_supp_empty(&c->supp) && lm_supp_leaked_nodes(&c->supp, c->res, &c->node_supp))
        lm_mmvec_free(&c->node_supp);     /* ENOMEM: suppress no leaked node */
    lm_mark_foreach_leaked(c->res, leaked_cb, c);
    lm_mark_foreach_possible(c->res, possible_cb, c);
    if (c->err)
        return c->err;
    if (c->g) {
        lm_mark_foreach_leaked(c->res, holds_cb, c);
        c->v.cycles = 0;
        for (uint32_t s = 0, nscc = lm_leakgraph_scc_count(c->g); s < nscc; s++)
            c->v.cycles += cycle_shown(c, s);
    }
    size_t ng = c->groups.len;
    if (lm_mmvec_resize(&c->order, ng) || lm_mmvec_resize(&c->rank, ng))
        return ENOMEM;
    uint32_t *o = u32(&c->order);
    for (size_t i = 0; i < ng; i++)
        o[i] = (uint32_t)i;
    for (size_t i = ng / 2; i-- > 0;)
        sift(c, o, i, ng);
    for (size_t end = ng; end > 1; end--) {
        uint32_t t = o[0]; o[0] = o[end - 1]; o[end - 1] = t;
        sift(c, o, 0, end - 1);
    }
    for (size_t i = 0; i < ng; i++)
        u32(&c->rank)[o[i]] = (uint32_t)i;
    return 0;
}

static uint32_t rank_of_node(const struct ctx *c, uint32_t node)
{
    return u32(&c->rank)[u32(&c->node_group)[node]];
}

/* ---- text ---- */

static void letters(uint32_t i, char *buf)
{
    char tmp[8];
    int n = 0;
    for (uint32_t v = i + 1; v && n < 7; v = (v - 1) / 26)
        tmp[n++] = (char)('A' + (v - 1) % 26);
    for (int k = 0; k < n; k++)
        buf[k] = tmp[n - 1 - k];
    buf[n] = 0;
}

static const char *basename_of(const char *p)
{
    const char *b = p;
    for (; *p; p++)
        if (*p == '/')
            b = p + 1;
    return b;
}

static void text_frame(struct lm_bufw *w, int i, uintptr_t pc)
{
    struct lm_sym s;
    lm_symbolize(pc, true, &s);
    lm_bufw_printf(w, "        #%d 0x%lx", i, (unsigned long)pc);
    if (s.function)
        lm_bufw_printf(w, " in %s", s.function);
    if (s.file)
        lm_bufw_printf(w, " %s:%d", s.file, s.line);
    lm_bufw_printf(w, " (%s+0x%lx)\n", s.module, (unsigned long)(pc - s.bias));
}

static void text_stack(struct lm_bufw *w, uint32_t stack_id)
{
    const uintptr_t *pcs;
    int n = lm_stackdepot_get(stack_id, &pcs);
    if (n <= 0)
        lm_bufw_puts(w, "        <no allocation stack recorded>\n");
    for (int i = 0; i < n; i++)
        text_frame(w, i, pcs[i]);
}

/* "make_cycle leak.c:5" for the innermost frame of a stack. */
static void text_site(struct lm_bufw *w, uint32_t stack_id)
{
    const uintptr_t *pcs;
    if (lm_stackdepot_get(stack_id, &pcs) <= 0) {
        lm_bufw_puts(w, "<no stack>");
        return;
    }
    struct lm_sym s;
    lm_symbolize(pcs[0], true, &s);
    if (s.function)
        lm_bufw_puts(w, s.function);
    else
        lm_bufw_printf(w, "%s+0x%lx", basename_of(s.module), (unsigned long)(pcs[0] - s.bias));
    if (s.file)
        lm_bufw_printf(w, " %s:%d", basename_of(s.file), s.line);
}

static const char *plural(size_t n) { return n == 1 ? "" : "s"; }

static void text_cycle(struct ctx *c, struct lm_bufw *w, uint32_t scc, uint32_t id)
{
    const lm_leakgraph_t *g = c->g;
    uint32_t cnt;
    const uint32_t *m = lm_leakgraph_scc_members(g, scc, &cnt);
    size_t bytes = 0;
    struct lm_block_ref b;
    for (uint32_t i = 0; i < cnt; i++) {
        lm_mark_leaked_block(c->res, m[i], &b);
        bytes += b.size;
    }
    lm_bufw_printf(w, "Leaked cycle #%u: %u block%s, %zu bytes", id, cnt, plural(cnt), bytes);
    if (lm_leakgraph_scc_is_root(g, scc)) {
        lm_bufw_puts(w, " - nothing outside the cycle points into it\n");
    } else {
        uint32_t og = owner_group(c, m[0]);
        if (og != NO_GROUP)
            lm_bufw_printf(w, " - held by leak #%u\n", u32(&c->rank)[og]);
        else
            lm_bufw_puts(w, " - held by other leaked blocks\n");
    }
    uint32_t shown = cnt < TEXT_MAX_MEMBERS ? cnt : TEXT_MAX_MEMBERS;
    uint32_t stacks[TEXT_MAX_MEMBERS];
    char name[8], other[8];
    for (uint32_t i = 0; i < shown; i++) {
        lm_mark_leaked_block(c->res, m[i], &b);
        stacks[i] = b.stack_id;
        letters(i, name);
        uint32_t k = rank_of_node(c, m[i]);
        lm_bufw_printf(w, "  [%s] %zu bytes at 0x%lx (%s, leak #%u), allocated at", name,
                       b.size, (unsigned long)b.start, kind_name[grp(c, u32(&c->order)[k])->kind], k);
        uint32_t same = i;
        for (uint32_t j = 0; j < i && same == i; j++)
            if (stacks[j] == b.stack_id)
                same = j;
        if (same != i) {
            letters(same, other);
            lm_bufw_puts(w, " ");
            text_site(w, b.stack_id);
            lm_bufw_printf(w, " (same stack as %s)\n", other);
        } else {
            lm_bufw_puts(w, "\n");
            text_stack(w, b.stack_id);
            struct group *gm = grp(c, u32(&c->node_group)[m[i]]);
            if (!gm->shown_in)
                gm->shown_in = id + 1;
        }
    }
    if (shown < cnt)
        lm_bufw_printf(w, "  ... %u more member%s\n", cnt - shown, plural(cnt - shown));
    lm_lg_scc_edge_iter_t it;
    lm_leakgraph_scc_edges_begin(g, scc, &it);
    size_t printed = 0, hidden = 0;
    for (const lm_lg_edge_t *e; (e = lm_leakgraph_scc_edges_next(&it));) {
        uint32_t f = lm_leakgraph_member_index(g, e->from), t = lm_leakgraph_member_index(g, e->to);
        if (f >= shown || t >= shown || printed >= TEXT_MAX_EDGES) {
            hidden++;
            continue;
        }
        letters(f, name);
        letters(t, other);
        lm_bufw_printf(w, "%s%s+%llu -> %s", printed % 6 ? "    " : "  ", name,
                       (unsigned long long)e->offset, other);
        if (++printed % 6 == 0)
            lm_bufw_puts(w, "\n");
    }
    if (printed % 6)
        lm_bufw_puts(w, "\n");
    if (hidden)
        lm_bufw_printf(w, "  ... %zu more pointer%s inside the cycle\n", hidden, plural(hidden));
    lm_bufw_puts(w, "\n");
}

/* The generation of a group's blocks: its name, or "mixed". */
static const char *group_generation(const struct group *g)
{
    unsigned only = 3, kinds = 0;
    for (unsigned i = 0; i < 3; i++) {
        if (g->gen_blocks[i]) {
            only = i;
            kinds++;
        }
    }
    return kinds == 1 ? lm_gen_name(only) : "mixed";
}

static void text_group(struct ctx *c, struct lm_bufw *w, uint32_t slot)
{
    const struct group *g = grp(c, slot);
    lm_bufw_printf(w, "%s leak #%u: %zu byte%s in %zu block%s (%s generation)", kind_title[g->kind],
                   u32(&c->rank)[slot], g->bytes, plural(g->bytes), g->blocks, plural(g->blocks),
                   group_generation(g));
    if (g->in_cycle)
        lm_bufw_puts(w, ", in a cycle above");
    if (g->owner != NO_GROUP)
        lm_bufw_printf(w, ", held by leak #%u", u32(&c->rank)[g->owner]);
    if (g->kind == K_POSSIBLE)
        lm_bufw_puts(w, " (only interior pointers reach it)");
    if (g->shown_in) {                 /* the cycle printed this stack */
        lm_bufw_puts(w, ", allocated at ");
        text_site(w, g->stack_id);
        lm_bufw_printf(w, " (stack shown in cycle #%u)\n", g->shown_in - 1);
    } else {
        lm_bufw_puts(w, ", allocated at\n");
        text_stack(w, g->stack_id);
    }
    if (g->held_blocks)
        lm_bufw_printf(w, "  it holds %zu indirectly leaked byte%s in %zu block%s\n",
                       g->held_bytes, plural(g->held_bytes), g->held_blocks, plural(g->held_blocks));
    lm_bufw_puts(w, "\n");
}

static void text_summary(struct lm_bufw *w, const struct view *r)
{
    if (!r->leaked.blocks && !r->possible.blocks) {
        lm_bufw_printf(w, "SUMMARY: leakmark: no leaks (%zu block%s, %zu bytes still reachable",
                       r->reachable.blocks, plural(r->reachable.blocks), r->reachable.bytes);
    } else {
        lm_bufw_printf(w, "SUMMARY: leakmark: %zu bytes lost in %zu block%s (definite %zu in %zu,"
                       " indirect %zu in %zu), %u cycle%s, possible %zu in %zu, reachable %zu in %zu",
                       r->leaked.bytes, r->leaked.blocks, plural(r->leaked.blocks),
                       r->definite.bytes, r->definite.blocks, r->indirect.bytes, r->indirect.blocks,
                       r->cycles, plural(r->cycles), r->possible.bytes, r->possible.blocks,
                       r->reachable.bytes, r->reachable.blocks);
    }
    if (r->sup_blocks)
        lm_bufw_printf(w, ", suppressed %zu in %zu", r->sup_bytes, r->sup_blocks);
    lm_bufw_puts(w, r->leaked.blocks || r->possible.blocks ? "\n" : ")\n");
}

static void write_text(struct ctx *c, struct lm_bufw *w, const struct lm_report_info *info)
{
    const struct view *r = &c->v;
    int pid = (int)info->pid;
    if (info->periodic)
        lm_bufw_printf(w, "==%d== leakmark: periodic scan %lu (generations up to %s): "
                       "leaks new since the last scan, unreachable in %u scans in a row and "
                       "older than %u ms\n", pid, (unsigned long)info->scan_seq,
                       lm_gen_name(info->scan_level), (unsigned)lm_options.min_unref_scans,
                       (unsigned)lm_options.min_age_ms);
    if (r->leaked.blocks || r->possible.blocks) {
        lm_bufw_printf(w, "==%d== leakmark: %zu bytes lost in %zu block%s (definite %zu, indirect %zu),"
                       " %u cycle%s, %zu bytes possibly lost in %zu block%s [%s check]\n\n", pid,
                       r->leaked.bytes, r->leaked.blocks, plural(r->leaked.blocks), r->definite.bytes,
                       r->indirect.bytes, r->cycles, plural(r->cycles), r->possible.bytes,
                       r->possible.blocks, plural(r->possible.blocks), info->trigger);
        if (c->g) {
            uint32_t id = 0, nscc = lm_leakgraph_scc_count(c->g);
            for (uint32_t s = 0; s < nscc; s++) {
                if (!cycle_shown(c, s))
                    continue;
                if (id < TEXT_MAX_CYCLES)
                    text_cycle(c, w, s, id);
                id++;
            }
            if (id > TEXT_MAX_CYCLES)
                lm_bufw_printf(w, "... %u more leaked cycles (all of them are in the JSON report)\n\n",
                               id - TEXT_MAX_CYCLES);
        }
        for (uint8_t k = K_DEFINITE; k <= K_POSSIBLE; k++)
            for (size_t i = 0; i < c->order.len; i++)
                if (grp(c, u32(&c->order)[i])->kind == k)
                    text_group(c, w, u32(&c->order)[i]);
    }
    lm_supp_write_used(&c->supp, w);
    if (lm_options.verbosity >= 2) {
        char a[48], b[48];
        lm_fmt_fixed(a, sizeof a, info->scan_ms, 3);
        lm_fmt_fixed(b, sizeof b, info->pause_ms, 3);
        lm_bufw_printf(w, "==%d== leakmark: %s check: %zu live blocks, %zu bytes; scan %s ms,"
                       " world stopped %s ms\n", pid, info->trigger, r->live.blocks, r->live.bytes, a, b);
    }
    text_summary(w, r);
}

/* ---- JSON ---- */

static void json_count(struct lm_jw *j, const char *blocks_key, const char *bytes_key,
                       size_t blocks, size_t bytes)
{
    lm_jw_key(j, blocks_key); lm_jw_u64(j, blocks);
    lm_jw_key(j, bytes_key); lm_jw_u64(j, bytes);
}

static void json_stack(struct lm_jw *j, uint32_t stack_id)
{
    const uintptr_t *pcs;
    int n = lm_stackdepot_get(stack_id, &pcs);
    lm_jw_key(j, "stack");
    lm_jw_arr_begin(j);
    for (int i = 0; i < n; i++) {
        struct lm_sym s;
        lm_symbolize(pcs[i], true, &s);
        lm_jw_obj_begin(j);
        lm_jw_key(j, "pc"); lm_jw_hex(j, pcs[i]);
        lm_jw_key(j, "module"); lm_jw_str(j, s.module);
        lm_jw_key(j, "offset"); lm_jw_hex(j, pcs[i] - s.bias);
        if (s.function) { lm_jw_key(j, "function"); lm_jw_str(j, s.function); }
        if (s.file) { lm_jw_key(j, "file"); lm_jw_str(j, s.file); }
        if (s.file && s.line > 0) { lm_jw_key(j, "line"); lm_jw_u64(j, (uint64_t)s.line); }
        lm_jw_obj_end(j);
    }
    lm_jw_arr_end(j);
}

static void json_cycles(struct ctx *c, struct lm_jw *j)
{
    lm_jw_key(j, "cycles");
    lm_jw_arr_begin(j);
    uint32_t id = 0, nscc = c->g ? lm_leakgraph_scc_count(c->g) : 0;
    for (uint32_t s = 0; s < nscc; s++) {
        if (!cycle_shown(c, s))
            continue;
        uint32_t cnt;
        const uint32_t *m = lm_leakgraph_scc_members(c->g, s, &cnt);
        size_t bytes = 0;
        struct lm_block_ref b;
        for (uint32_t i = 0; i < cnt; i++) {
            lm_mark_leaked_block(c->res, m[i], &b);
            bytes += b.size;
        }
        lm_jw_obj_begin(j);
        lm_jw_key(j, "id"); lm_jw_u64(j, id++);
        json_count(j, "blocks", "bytes", cnt, bytes);
        bool root = lm_leakgraph_scc_is_root(c->g, s);
        lm_jw_key(j, "root"); lm_jw_bool(j, root);
        uint32_t og = root ? NO_GROUP : owner_group(c, m[0]);
        if (og != NO_GROUP) { lm_jw_key(j, "held_by"); lm_jw_u64(j, u32(&c->rank)[og]); }
        lm_jw_key(j, "members");
        lm_jw_arr_begin(j);
        for (uint32_t i = 0; i < cnt; i++) {
            lm_mark_leaked_block(c->res, m[i], &b);
            lm_jw_obj_begin(j);
            lm_jw_key(j, "address"); lm_jw_hex(j, b.start);
            lm_jw_key(j, "size"); lm_jw_u64(j, b.size);
            lm_jw_key(j, "leak"); lm_jw_u64(j, rank_of_node(c, m[i]));
            lm_jw_obj_end(j);
        }
        lm_jw_arr_end(j);
        lm_jw_key(j, "edges");
        lm_jw_arr_begin(j);
        lm_lg_scc_edge_iter_t it;
        lm_leakgraph_scc_edges_begin(c->g, s, &it);
        for (const lm_lg_edge_t *e; (e = lm_leakgraph_scc_edges_next(&it));) {
            lm_jw_obj_begin(j);
            lm_jw_key(j, "from"); lm_jw_u64(j, lm_leakgraph_member_index(c->g, e->from));
            lm_jw_key(j, "offset"); lm_jw_u64(j, e->offset);
            lm_jw_key(j, "to"); lm_jw_u64(j, lm_leakgraph_member_index(c->g, e->to));
            lm_jw_obj_end(j);
        }
        lm_jw_arr_end(j);
        lm_jw_obj_end(j);
    }
    lm_jw_arr_end(j);
}

static void write_json(struct ctx *c, struct lm_bufw *w, const struct lm_report_info *info)
{
    const struct view *r = &c->v;
    struct lm_jw jw, *j = &jw;
    lm_jw_init(j, w, 2);
    lm_jw_obj_begin(j);
    lm_jw_key(j, "tool"); lm_jw_str(j, "leakmark");
    lm_jw_key(j, "schema"); lm_jw_u64(j, 1);
    lm_jw_key(j, "version"); lm_jw_str(j, LM_VERSION);
    lm_jw_key(j, "pid"); lm_jw_i64(j, info->pid);
    lm_jw_key(j, "exe"); lm_jw_str(j, lm_exe_path());
    lm_jw_key(j, "trigger"); lm_jw_str(j, info->trigger);
    lm_jw_key(j, "summary");
    lm_jw_obj_begin(j);
    json_count(j, "live_blocks", "live_bytes", r->live.blocks, r->live.bytes);
    json_count(j, "definite_blocks", "definite_bytes", r->definite.blocks, r->definite.bytes);
    json_count(j, "indirect_blocks", "indirect_bytes", r->indirect.blocks, r->indirect.bytes);
    json_count(j, "possible_blocks", "possible_bytes", r->possible.blocks, r->possible.bytes);
    json_count(j, "reachable_blocks", "reachable_bytes", r->reachable.blocks, r->reachable.bytes);
    json_count(j, "suppressed_blocks", "suppressed_bytes", r->sup_blocks, r->sup_bytes);
    lm_jw_key(j, "cycles"); lm_jw_u64(j, r->cycles);
    lm_jw_key(j, "scan_ms"); lm_jw_fixed(j, info->scan_ms, 3);
    lm_jw_key(j, "pause_ms"); lm_jw_fixed(j, info->pause_ms, 3);
    lm_jw_key(j, "threads_not_stopped"); lm_jw_u64(j, info->threads_not_stopped);
    if (info->periodic)
        json_count(j, "unreported_blocks", "unreported_bytes", r->unreported.blocks,
                   r->unreported.bytes);
    lm_jw_obj_end(j);
    if (info->periodic) {
        lm_jw_key(j, "scan");
        lm_jw_obj_begin(j);
        lm_jw_key(j, "seq"); lm_jw_u64(j, info->scan_seq);
        lm_jw_key(j, "generation"); lm_jw_str(j, lm_gen_name(info->scan_level));
        lm_jw_key(j, "min_unref_scans"); lm_jw_u64(j, lm_options.min_unref_scans);
        lm_jw_key(j, "min_age_ms"); lm_jw_u64(j, lm_options.min_age_ms);
        json_count(j, "confirmed_blocks", "confirmed_bytes", info->confirmed_blocks,
                   info->confirmed_bytes);
        lm_jw_obj_end(j);
    }
    lm_jw_key(j, "leaks");
    lm_jw_arr_begin(j);
    for (size_t i = 0; i < c->order.len; i++) {
        const struct group *g = grp(c, u32(&c->order)[i]);
        lm_jw_obj_begin(j);
        lm_jw_key(j, "kind"); lm_jw_str(j, kind_name[g->kind]);
        json_count(j, "blocks", "bytes", g->blocks, g->bytes);
        lm_jw_key(j, "in_cycle"); lm_jw_bool(j, g->in_cycle);
        if (g->owner != NO_GROUP) { lm_jw_key(j, "held_by"); lm_jw_u64(j, u32(&c->rank)[g->owner]); }
        lm_jw_key(j, "generation"); lm_jw_str(j, group_generation(g));
        lm_jw_key(j, "generations");
        lm_jw_obj_begin(j);
        for (unsigned k = 0; k < 3; k++) {
            lm_jw_key(j, lm_gen_name(k));
            lm_jw_u64(j, g->gen_blocks[k]);
        }
        lm_jw_obj_end(j);
        json_stack(j, g->stack_id);
        lm_jw_obj_end(j);
    }
    lm_jw_arr_end(j);
    json_cycles(c, j);
    lm_supp_write_json(&c->supp, j);
    lm_jw_obj_end(j);
    lm_bufw_write(w, "\n", 1);
}

size_t lm_report_expand_path(char *out, size_t cap, const char *pattern, pid_t pid)
{
    size_t n = 0;
    char num[24];
    for (const char *p = pattern; *p; p++) {
        const char *piece = p;
        size_t len = 1;
        if (p[0] == '%' && p[1] == 'p') {
            len = lm_format(num, sizeof num, "%d", (int)pid);
            piece = num;
            p++;
        } else if (p[0] == '%' && p[1] == '%') {
            p++;
        }
        if (n + len >= cap)
            return 0;
        for (size_t i = 0; i < len; i++)
            out[n++] = piece[i];
    }
    if (n >= cap)
        return 0;
    out[n] = 0;
    return n;
}

static const char *errno_name(int e)
{
    switch (e) {
    case ENOENT: return "ENOENT: no such directory";
    case EACCES: return "EACCES: permission denied";
    case EROFS: return "EROFS: read-only file system";
    case ENOSPC: return "ENOSPC: no space left";
    case EISDIR: return "EISDIR: is a directory";
    case ENOTDIR: return "ENOTDIR: not a directory";
    case EDQUOT: return "EDQUOT: quota exceeded";
    case ENAMETOOLONG: return "ENAMETOOLONG: path too long";
    case EINVAL: return "EINVAL: empty report_path";
    default: return "see errno(3)";
    }
}

static int json_failed(const char *path, int err)
{
    lm_log("cannot write the JSON report to '%s': errno %d (%s)", path, err, errno_name(err));
    return err;
}

/* JSON into path via "<path>.tmp.<pid>" + rename.  Returns 0 or errno. */
static int json_to_file(struct ctx *c, char *buf, size_t cap, const struct lm_report_info *info)
{
    char path[LM_OPT_STR_MAX + 64], tmp[LM_OPT_STR_MAX + 96];
    pid_t pid = lm_os_getpid();
    int err = 0;
    const char *pattern = info->json_path ? info->json_path : lm_options.report_path;
    if (!pattern[0])
        return json_failed("", EINVAL);
    if (!lm_report_expand_path(path, sizeof path, pattern, info->pid) ||
        lm_format(tmp, sizeof tmp, "%s.tmp.%d", path, (int)pid) >= sizeof tmp - 1)
        return json_failed(lm_options.report_path, ENAMETOOLONG);
    long fd = syscall(SYS_openat, AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return json_failed(path, errno);
    struct lm_bufw w;
    lm_bufw_init(&w, (int)fd, buf, cap);
    write_json(c, &w, info);
    err = lm_bufw_flush(&w);
    if (syscall(SYS_close, (int)fd) != 0 && !err)
        err = errno;
    if (!err && syscall(SYS_rename, tmp, path) != 0)
        err = errno;
    if (err) {
        syscall(SYS_unlink, tmp);
        return json_failed(path, err);
    }
    return 0;
}

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
    struct ctx c = { .res = res, .g = res->graph_ok ? lm_mark_graph(res) : NULL, .info = &info };
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
    int err = build_groups(&c);

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
            text_summary(&w, &c.v);
        else
            write_text(&c, &w, &info);
        lm_bufw_flush(&w);
    }
    if (json) {
        int jerr = json_to_file(&c, buf, cap, &info);
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
