/*
 * reportgroups.c - groups a finished mark's leaked and possible blocks for
 * the report: by (kind, allocation stack), through a hash index over the
 * groups; applies the suppressions (suppress.h: leaked nodes it hides -
 * matched, or held by a suppressed block - and matching possible blocks
 * join no group and are counted as suppressed; an SCC is suppressed whole,
 * since its members reach each other); finds the definite group that
 * holds each indirect one; ranks the groups, largest first.
 *
 * Memory: the context's lm_mmvecs (mmap'd).  Runs under report.c's lock,
 * never inside malloc or a signal handler.
 */
#include "reportctx.h"

#include "gen.h"

#include <errno.h>

const char *const lm_report_kind_name[3] = { "definite", "indirect", "possible" };
const char *const lm_report_kind_title[3] = { "Definite", "Indirect", "Possible" };


static size_t key_hash(uint8_t kind, uint32_t stack, size_t mask)
{
    uint64_t h = ((uint64_t)stack << 2 | kind) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 20) & mask;
}

static int index_rebuild(struct lm_report_ctx *c, size_t cap)
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
static uint32_t group_of(struct lm_report_ctx *c, uint8_t kind, uint32_t stack)
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

static void add_block(struct lm_report_ctx *c, uint8_t kind, const struct lm_block_ref *b,
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

static bool node_suppressed(const struct lm_report_ctx *c, uint32_t node)
{
    return c->node_supp.len && ((const uint8_t *)c->node_supp.data)[node];
}

/* Left out by the caller (a periodic scan shows only new, confirmed leaks):
 * in no group and in no count. */
static bool node_hidden(const struct lm_report_ctx *c, uint32_t node)
{
    return c->info->node_shown && !c->info->node_shown[node];
}

static void sub(struct lm_mark_count *m, size_t bytes)
{
    m->blocks--;
    m->bytes -= bytes;
}

static void suppress_block(struct lm_report_ctx *c, uint8_t kind, const struct lm_block_ref *b)
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
    struct lm_report_ctx *c = arg;
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
    struct lm_report_ctx *c = arg;
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
bool lm_report_cycle_shown(const struct lm_report_ctx *c, uint32_t s)
{
    if (!lm_leakgraph_scc_is_cycle(c->g, s))
        return false;
    uint32_t cnt;
    const uint32_t *m = lm_leakgraph_scc_members(c->g, s, &cnt);
    return cnt && !node_suppressed(c, m[0]) && !node_hidden(c, m[0]);
}

/* Slot of the group of the first member of the root SCC owning node v's
 * SCC, or NO_GROUP. */
uint32_t lm_report_owner_group(const struct lm_report_ctx *c, uint32_t v)
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
    struct lm_report_ctx *c = arg;
    (void)in_cycle;
    if (kind != LM_LEAK_INDIRECT || u32(&c->node_group)[node] == NO_GROUP)
        return;
    uint32_t og = lm_report_owner_group(c, node);
    if (og == NO_GROUP)
        return;
    grp(c, og)->held_blocks++;
    grp(c, og)->held_bytes += b->size;
    struct group *mine = grp(c, u32(&c->node_group)[node]);
    if (mine->owner == NO_GROUP)
        mine->owner = og;
}

/* a before b in the report order? */
static bool before(const struct lm_report_ctx *c, uint32_t a, uint32_t b)
{
    const struct group *x = grp(c, a), *y = grp(c, b);
    if (x->bytes != y->bytes) return x->bytes > y->bytes;
    if (x->blocks != y->blocks) return x->blocks > y->blocks;
    if (x->kind != y->kind) return x->kind < y->kind;
    return x->stack_id < y->stack_id;
}

static void sift(const struct lm_report_ctx *c, uint32_t *o, size_t i, size_t n)
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

int lm_report_build_groups(struct lm_report_ctx *c)
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
            c->v.cycles += lm_report_cycle_shown(c, s);
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

uint32_t lm_report_rank_of_node(const struct lm_report_ctx *c, uint32_t node)
{
    return u32(&c->rank)[u32(&c->node_group)[node]];
}
