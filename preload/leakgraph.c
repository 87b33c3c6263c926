/*
 * leakgraph.c - SCCs and leak classification of the leaked-block graph
 * (concept, guarantees and cost in leakgraph.h).
 *
 * Pipeline of lm_leakgraph_compute():
 *   1. group edges by `from` (stable counting sort, skipped when they were
 *      added in that order) into CSR form: edge_start[v]..edge_start[v+1];
 *   2. sort each block's out-edges by (offset, to) and drop exact
 *      duplicates (compacting the array and rebuilding edge_start);
 *   3. iterative Tarjan: an explicit frame stack (node, next edge) replaces
 *      recursion, an explicit SCC stack holds the open nodes.  A visited
 *      node whose SCC is complete gets the index TARJAN_DONE, larger than
 *      any low-link, so a node with a real index is exactly a node on the
 *      SCC stack: the edge loop reads one per-node word (idx[w]) per edge
 *      and needs no on-stack bit.  Tarjan completes SCCs sinks first; ids
 *      are then reversed, which makes them topological;
 *   4. members grouped per SCC (counting sort by SCC id);
 *   5. one pass over the edges: an edge between SCCs marks its target as
 *      entered (not a root), an edge v -> v marks a one-block cycle;
 *   6. reachability from the roots in topological order (an SCC's
 *      predecessors all have smaller ids), recording an owner root;
 *   7. per-node kind and in-cycle flags, statistics.
 *
 * Invariants after compute: see the header.  No recursion anywhere (the
 * per-node sort is an in-place heap sort).  Memory only from lm_mmvec; the
 * temporaries of step 3 are unmapped before returning.
 *
 * Locking: none (one owner thread).  Signal safety: syscalls only.
 */
#include "leakgraph.h"

#include <errno.h>

#define LG_SCC_ENTERED 0x4u   /* temporary during compute */
/* Tarjan index of a node whose SCC is complete: larger than any real index
 * (n <= UINT32_MAX - 1, so indexes are <= UINT32_MAX - 2), so the low-link
 * update ignores it without reading a second array. */
#define TARJAN_DONE (LM_LG_NONE - 1)

typedef struct tarjan_frame {
    uint32_t v;
    size_t next;              /* next out-edge of v to look at */
} tarjan_frame_t;

static void vecs_init(lm_leakgraph_t *g)
{
    lm_mmvec_init(&g->edges, sizeof(lm_lg_edge_t));
    lm_mmvec_init(&g->edge_start, sizeof(size_t));
    lm_mmvec_init(&g->node_scc, sizeof(uint32_t));
    lm_mmvec_init(&g->node_flags, sizeof(uint8_t));
    lm_mmvec_init(&g->scc_start, sizeof(uint32_t));
    lm_mmvec_init(&g->scc_members, sizeof(uint32_t));
    lm_mmvec_init(&g->scc_flags, sizeof(uint8_t));
    lm_mmvec_init(&g->scc_owner, sizeof(uint32_t));
}

static void clear_state(lm_leakgraph_t *g, uint32_t n)
{
    g->n = n;
    g->computed = false;
    g->by_from = true;
    lm_leakgraph_stats_t zero = {0};
    g->stats = zero;
    g->stats.nodes = n;
}

int lm_leakgraph_init(lm_leakgraph_t *g, uint32_t n)
{
    vecs_init(g);
    clear_state(g, 0);
    if (n == LM_LG_NONE)
        return EINVAL;
    clear_state(g, n);
    return 0;
}

int lm_leakgraph_reset(lm_leakgraph_t *g, uint32_t n)
{
    if (n == LM_LG_NONE)
        return EINVAL;
    lm_mmvec_reset(&g->edges);
    lm_mmvec_reset(&g->edge_start);
    lm_mmvec_reset(&g->node_scc);
    lm_mmvec_reset(&g->node_flags);
    lm_mmvec_reset(&g->scc_start);
    lm_mmvec_reset(&g->scc_members);
    lm_mmvec_reset(&g->scc_flags);
    lm_mmvec_reset(&g->scc_owner);
    clear_state(g, n);
    return 0;
}

void lm_leakgraph_destroy(lm_leakgraph_t *g)
{
    lm_mmvec_free(&g->edges);
    lm_mmvec_free(&g->edge_start);
    lm_mmvec_free(&g->node_scc);
    lm_mmvec_free(&g->node_flags);
    lm_mmvec_free(&g->scc_start);
    lm_mmvec_free(&g->scc_members);
    lm_mmvec_free(&g->scc_flags);
    lm_mmvec_free(&g->scc_owner);
    clear_state(g, 0);
}

int lm_leakgraph_add_edge(lm_leakgraph_t *g, uint32_t from, uint32_t to,
                          uint64_t offset)
{
    if (g->computed || from >= g->n || to >= g->n)
        return EINVAL;
    lm_lg_edge_t *e = lm_mmvec_push_slot(&g->edges);
    if (!e)
        return ENOMEM;
    if (g->edges.len > 1 && e[-1].from > from)
        g->by_from = false;
    e->from = from;
    e->to = to;
    e->offset = offset;
    g->stats.edges_added++;
    return 0;
}

/* ---- step 1: CSR grouping ---- */

static int group_by_from(lm_leakgraph_t *g)
{
    size_t ne = g->edges.len, n = g->n;
    if (lm_mmvec_resize(&g->edge_start, n + 1) != 0)
        return ENOMEM;
    size_t *st = g->edge_start.data;
    lm_lg_edge_t *e = g->edges.data;
    for (size_t i = 0; i < ne; i++)
        st[e[i].from + 1]++;
    for (size_t v = 0; v < n; v++)
        st[v + 1] += st[v];
    if (g->by_from)
        return 0;

    lm_mmvec_t sorted;
    lm_mmvec_init(&sorted, sizeof(lm_lg_edge_t));
    if (lm_mmvec_resize(&sorted, ne) != 0)
        return ENOMEM;
    lm_lg_edge_t *out = sorted.data;
    /* st[v] serves as v's write cursor; afterwards st[v] = old st[v+1]. */
    for (size_t i = 0; i < ne; i++)
        out[st[e[i].from]++] = e[i];
    for (size_t v = n; v > 0; v--)
        st[v] = st[v - 1];
    st[0] = 0;
    lm_mmvec_swap(&g->edges, &sorted);
    lm_mmvec_free(&sorted);
    return 0;
}

/* ---- step 2: per-node order and duplicates ---- */

static inline bool edge_less(const lm_lg_edge_t *a, const lm_lg_edge_t *b)
{
    return a->offset < b->offset || (a->offset == b->offset && a->to < b->to);
}

static void sift_down(lm_lg_edge_t *a, size_t root, size_t end)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= end)
            return;
        if (child + 1 < end && edge_less(&a[child], &a[child + 1]))
            child++;
        if (!edge_less(&a[root], &a[child]))
            return;
        lm_lg_edge_t t = a[root];
        a[root] = a[child];
        a[child] = t;
        root = child;
    }
}

/* In-place heap sort by (offset, to); O(d) when already sorted. */
static void sort_out_edges(lm_lg_edge_t *a, size_t d)
{
    size_t i;
    for (i = 1; i < d; i++)
        if (edge_less(&a[i], &a[i - 1]))
            break;
    if (i >= d)
        return;
    for (i = d / 2; i > 0; i--)
        sift_down(a, i - 1, d);
    for (i = d; i > 1; i--) {
        lm_lg_edge_t t = a[0];
        a[0] = a[i - 1];
        a[i - 1] = t;
        sift_down(a, 0, i - 1);
    }
}

static void sort_and_dedup(lm_leakgraph_t *g)
{
    size_t *st = g->edge_start.data;
    lm_lg_edge_t *e = g->edges.data;
    size_t w = 0, old_start = 0;
    for (uint32_t v = 0; v < g->n; v++) {
        size_t old_end = st[v + 1];
        sort_out_edges(e + old_start, old_end - old_start);
        st[v] = w;
        for (size_t i = old_start; i < old_end; i++) {
            if (w > st[v] && e[w - 1].to == e[i].to && e[w - 1].offset == e[i].offset)
                continue;
            e[w++] = e[i];
        }
        old_start = old_end;
    }
    st[g->n] = w;
    lm_mmvec_resize(&g->edges, w);   /* shrinking never fails */
    g->stats.edges = w;
}

/* ---- step 3: iterative Tarjan ---- */

static int tarjan(lm_leakgraph_t *g, uint32_t *nscc_out)
{
    uint32_t n = g->n;
    const size_t *st = g->edge_start.data;
    const lm_lg_edge_t *e = g->edges.data;
    lm_mmvec_t idxv, lowv, frames, stack;
    lm_mmvec_init(&idxv, sizeof(uint32_t));
    lm_mmvec_init(&lowv, sizeof(uint32_t));
    lm_mmvec_init(&frames, sizeof(tarjan_frame_t));
    lm_mmvec_init(&stack, sizeof(uint32_t));
    int err = ENOMEM;
    if (lm_mmvec_resize(&idxv, n) || lm_mmvec_resize(&lowv, n) ||
        lm_mmvec_resize(&g->node_scc, n) || lm_mmvec_reserve(&stack, n))
        goto out;
    uint32_t *idx = idxv.data, *low = lowv.data, *scc = g->node_scc.data;
    for (uint32_t v = 0; v < n; v++)
        idx[v] = LM_LG_NONE;

    uint32_t counter = 0, nscc = 0;
    for (uint32_t r = 0; r < n; r++) {
        if (idx[r] != LM_LG_NONE)
            continue;
        idx[r] = low[r] = counter++;
        lm_mmvec_push(&stack, &r);            /* reserved: cannot fail */
        tarjan_frame_t f0 = { r, st[r] };
        if (lm_mmvec_push(&frames, &f0))
            goto out;
        while (frames.len) {
            tarjan_frame_t *f = lm_mmvec_top(&frames);
            uint32_t v = f->v;
            if (f->next < st[v + 1]) {
                uint32_t w = e[f->next++].to;
                if (idx[w] == LM_LG_NONE) {
                    idx[w] = low[w] = counter++;
                    lm_mmvec_push(&stack, &w);
                    tarjan_frame_t fw = { w, st[w] };
                    if (lm_mmvec_push(&frames, &fw))   /* may move f */
                        goto out;
                } else if (idx[w] < low[v]) {
                    low[v] = idx[w];   /* w is on the stack (DONE is huge) */
                }
                continue;
            }
            lm_mmvec_pop(&frames, NULL);
            if (low[v] == idx[v]) {
                uint32_t x;
                do {
                    lm_mmvec_pop(&stack, &x);
                    scc[x] = nscc;
                    idx[x] = TARJAN_DONE;
                } while (x != v);
                nscc++;
            }
            if (frames.len) {
                tarjan_frame_t *p = lm_mmvec_top(&frames);
                if (low[v] < low[p->v])
                    low[p->v] = low[v];
            }
        }
    }
    /* Tarjan finishes sinks first; reversing makes ids topological. */
    for (uint32_t v = 0; v < n; v++)
        scc[v] = nscc - 1 - scc[v];
    *nscc_out = nscc;
    err = 0;
out:
    lm_mmvec_free(&idxv);
    lm_mmvec_free(&lowv);
    lm_mmvec_free(&frames);
    lm_mmvec_free(&stack);
    return err;
}

/* ---- steps 4-7 ---- */

static int group_members(lm_leakgraph_t *g, uint32_t nscc)
{
    if (lm_mmvec_resize(&g->scc_start, (size_t)nscc + 1) ||
        lm_mmvec_resize(&g->scc_members, g->n))
        return ENOMEM;
    uint32_t *st = g->scc_start.data, *mem = g->scc_members.data;
    const uint32_t *scc = g->node_scc.data;
    for (uint32_t v = 0; v < g->n; v++)
        st[scc[v] + 1]++;
    for (uint32_t c = 0; c < nscc; c++)
        st[c + 1] += st[c];
    for (uint32_t v = 0; v < g->n; v++)
        mem[st[scc[v]]++] = v;
    for (uint32_t c = nscc; c > 0; c--)
        st[c] = st[c - 1];
    st[0] = 0;
    return 0;
}

static void mark_scc_flags(lm_leakgraph_t *g, uint32_t nscc)
{
    uint8_t *fl = g->scc_flags.data;
    const uint32_t *st = g->scc_start.data, *scc = g->node_scc.data;
    const lm_lg_edge_t *e = g->edges.data;
    for (uint32_t c = 0; c < nscc; c++)
        if (st[c + 1] - st[c] >= 2)
            fl[c] |= LM_LG_SCC_CYCLE;
    for (size_t i = 0; i < g->edges.len; i++) {
        uint32_t cf = scc[e[i].from], ct = scc[e[i].to];
        if (cf != ct)
            fl[ct] |= LG_SCC_ENTERED;
        else if (e[i].from == e[i].to)
            fl[ct] |= LM_LG_SCC_CYCLE;
    }
    for (uint32_t c = 0; c < nscc; c++) {
        if (!(fl[c] & LG_SCC_ENTERED))
            fl[c] |= LM_LG_SCC_ROOT;
        fl[c] &= (uint8_t)~LG_SCC_ENTERED;
    }
}

/* Propagates an owner root along edges in topological order. */
static void propagate_owners(lm_leakgraph_t *g, uint32_t nscc)
{
    uint32_t *own = g->scc_owner.data;
    const uint8_t *fl = g->scc_flags.data;
    const uint32_t *st = g->scc_start.data, *mem = g->scc_members.data;
    const uint32_t *scc = g->node_scc.data;
    const size_t *est = g->edge_start.data;
    const lm_lg_edge_t *e = g->edges.data;
    for (uint32_t c = 0; c < nscc; c++)
        own[c] = (fl[c] & LM_LG_SCC_ROOT) ? c : LM_LG_NONE;
    for (uint32_t c = 0; c < nscc; c++) {
        if (own[c] == LM_LG_NONE) {
            g->stats.unreached += st[c + 1] - st[c];
            continue;
        }
        for (uint32_t m = st[c]; m < st[c + 1]; m++) {
            uint32_t v = mem[m];
            for (size_t i = est[v]; i < est[v + 1]; i++) {
                uint32_t ct = scc[e[i].to];
                lm_assert(ct >= c);
                if (own[ct] == LM_LG_NONE)
                    own[ct] = own[c];
            }
        }
    }
}

static void classify_nodes(lm_leakgraph_t *g, uint32_t nscc)
{
    uint8_t *nf = g->node_flags.data;
    const uint8_t *fl = g->scc_flags.data;
    const uint32_t *scc = g->node_scc.data, *own = g->scc_owner.data;
    lm_leakgraph_stats_t *s = &g->stats;
    s->sccs = nscc;
    for (uint32_t c = 0; c < nscc; c++) {
        bool cyc = fl[c] & LM_LG_SCC_CYCLE, root = fl[c] & LM_LG_SCC_ROOT;
        s->cycles += cyc;
        s->roots += root;
        s->root_cycles += cyc && root;
    }
    for (uint32_t v = 0; v < g->n; v++) {
        uint32_t c = scc[v];
        uint8_t f;
        if (fl[c] & LM_LG_SCC_ROOT) {
            f = LM_LEAK_DEFINITE;
            s->definite++;
        } else {
            /* Unreached blocks cannot exist (see leakgraph.h); were one to
             * appear, nothing would hold it, so it is reported definite. */
            f = own[c] != LM_LG_NONE ? LM_LEAK_INDIRECT : LM_LEAK_DEFINITE;
            if (f == LM_LEAK_INDIRECT)
                s->indirect++;
            else
                s->definite++;
        }
        if (fl[c] & LM_LG_SCC_CYCLE) {
            f |= LM_LG_NODE_CYCLE;
            s->in_cycle++;
        }
        nf[v] = f;
    }
}

int lm_leakgraph_compute(lm_leakgraph_t *g)
{
    if (g->computed)
        return EINVAL;
    uint32_t nscc = 0;
    if (group_by_from(g))
        return ENOMEM;
    sort_and_dedup(g);
    if (tarjan(g, &nscc) || group_members(g, nscc) ||
        lm_mmvec_resize(&g->scc_flags, nscc) ||
        lm_mmvec_resize(&g->scc_owner, nscc) ||
        lm_mmvec_resize(&g->node_flags, g->n))
        return ENOMEM;
    mark_scc_flags(g, nscc);
    propagate_owners(g, nscc);
    classify_nodes(g, nscc);
    g->computed = true;
    return 0;
}

uint32_t lm_leakgraph_member_index(const lm_leakgraph_t *g, uint32_t v)
{
    uint32_t cnt;
    const uint32_t *m = lm_leakgraph_scc_members(g, lm_leakgraph_node_scc(g, v), &cnt);
    uint32_t lo = 0, hi = cnt;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    lm_assert(lo < cnt && m[lo] == v);
    return lo;
}

/* ---- internal edges of an SCC ---- */

static void iter_load_member(lm_lg_scc_edge_iter_t *it)
{
    const size_t *est = it->g->edge_start.data;
    const uint32_t *mem = it->g->scc_members.data;
    if (it->mpos < it->mend) {
        uint32_t v = mem[it->mpos];
        it->epos = est[v];
        it->eend = est[v + 1];
    } else {
        it->epos = it->eend = 0;
    }
}

void lm_leakgraph_scc_edges_begin(const lm_leakgraph_t *g, uint32_t c,
                                  lm_lg_scc_edge_iter_t *it)
{
    const uint32_t *st = g->scc_start.data;
    it->g = g;
    it->scc = c;
    it->mpos = st[c];
    it->mend = st[c + 1];
    iter_load_member(it);
}

const lm_lg_edge_t *lm_leakgraph_scc_edges_next(lm_lg_scc_edge_iter_t *it)
{
    const lm_lg_edge_t *e = it->g->edges.data;
    const uint32_t *scc = it->g->node_scc.data;
    while (it->mpos < it->mend) {
        while (it->epos < it->eend) {
            const lm_lg_edge_t *x = &e[it->epos++];
            if (scc[x->to] == it->scc)
                return x;
        }
        it->mpos++;
        iter_load_member(it);
    }
    return NULL;
}
