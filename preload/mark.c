/*
 * mark.c - the conservative mark and the leaked-block graph (see mark.h for
 * the run, the states and what memory is owned).
 *
 * Invariants.
 *   - State transitions only go up: UNVISITED < POSSIBLE < REACHABLE during
 *     the flood; LEAKED is set afterwards on blocks still UNVISITED.
 *   - A block is pushed each time its state rises, with that state in the
 *     entry; an entry whose state no longer matches the block's was
 *     superseded by a later push (or by the overflow rescan) and is
 *     skipped.  So a block is scanned at most twice per round (as possible,
 *     then as reachable).
 *   - When a push fails, `overflow` is set; marks are never lost, only
 *     scans, and the rescan round scans every marked block again.  Each
 *     failed push follows a new mark, so rounds end.
 *   - Blocks flagged through the public API (api.h) are set REACHABLE
 *     before the first root is scanned; NOT_LEAK ones are pushed (their
 *     contents are scanned as a root's), IGNORE ones never are - not
 *     even by the overflow rescan - so what only they point to stays
 *     unreachable.  Both count as reachable.  Without any flagged block
 *     this costs one load per run.
 *   - Encoded block values (enc()) have bit 63 set: no user-space address
 *     looks like one, so stale mark-stack or leaked-list memory, if ever
 *     scanned, keeps nothing alive.  Their order is address order.
 *
 * Reads: root ranges (the caller's), unit kind bytes and records, arena
 * headers and block records (through lookup.c and arena.h), and live
 * blocks' first `requested size` bytes.  No locks, no malloc, no stdio.
 */
#include "mark.h"
#include "api.h"
#include "arena.h"
#include "log.h"
#include "options.h"
#include "os.h"
#include "span.h"

#include <errno.h>

size_t lm_mark_stack_limit;

#define ENC_TAG    (1ull << 63)
#define STATE_UNIT LM_PAGE_SIZE          /* bytes of state per unit */

_Static_assert(LM_UNIT_SIZE / 16 * 2 / 8 <= STATE_UNIT, "2 bits per 16-byte block fit a page per unit");

LM_INLINE uint64_t enc(uint32_t unit, uint32_t idx, unsigned st)
{
    return ENC_TAG | (uint64_t)unit << 18 | (uint64_t)idx << 2 | st;
}
LM_INLINE uint32_t enc_unit(uint64_t e) { return (uint32_t)(e >> 18); }
LM_INLINE uint32_t enc_index(uint64_t e) { return (uint32_t)(e >> 2) & 0xffffu; }
LM_INLINE unsigned enc_state(uint64_t e) { return (unsigned)e & 3u; }

LM_INLINE unsigned st_get(const uint8_t *s, uint32_t unit, uint32_t idx)
{
    return (s[(size_t)unit * STATE_UNIT + (idx >> 2)] >> ((idx & 3) * 2)) & 3u;
}
LM_INLINE void st_set(uint8_t *s, uint32_t unit, uint32_t idx, unsigned v)
{
    uint8_t *b = &s[(size_t)unit * STATE_UNIT + (idx >> 2)];
    unsigned sh = (idx & 3) * 2;
    *b = (uint8_t)((*b & ~(3u << sh)) | v << sh);
}

/* The block named by (unit, idx); it was live when marked and the heap is
 * still. */
static void block_of(uint32_t unit, uint32_t idx, struct lm_block_ref *b)
{
    b->unit = unit;
    b->index = idx;
    if (lm_unit_kind[unit] == LM_UNIT_ARENA) {
        const struct lm_arena *a = lm_unit_addr(unit);
        b->start = (uintptr_t)lm_arena_block(a, idx);
        b->size = lm_arena_req_size(a, idx);
        b->stack_id = a->meta[idx].stack_id;
        b->gen = a->meta[idx].gen;
        b->large = false;
    } else {
        b->start = (uintptr_t)lm_unit_addr(unit);
        b->size = lm_units[unit].size;
        b->stack_id = lm_units[unit].stack_id;
        b->gen = lm_units[unit].gen;
        b->large = true;
    }
}

struct marker {
    struct lm_mark_result *res;
    uintptr_t lo, span;        /* heap bounds: candidate - lo < span */
    bool unaligned;
    bool overflow;
    bool skip_ignored;         /* a block was ever flagged IGNORE (api.h) */
    int err;                   /* edges phase: first ENOMEM */
    lm_mmvec_t stack;          /* uint64_t enc() */
    lm_mmvec_t unit_first;     /* edges phase: uint32_t[units + 1], first
                                * node of each unit (NULL data: none) */
    uint32_t from_node;        /* edges phase: node being scanned */
    uintptr_t from_start;
};

/* scan_unaligned=1: the words of [lo, hi) at unaligned addresses. */
LM_INLINE void scan_unaligned(struct marker *m, uintptr_t lo, uintptr_t hi, unsigned from,
                              void (*hit)(struct marker *, uintptr_t, uintptr_t, unsigned))
{
    if (hi - lo < sizeof(uintptr_t))
        return;
    for (uintptr_t p = lo; p <= hi - sizeof(uintptr_t); p++) {
        if (!(p & (sizeof(uintptr_t) - 1)))
            continue;
        uintptr_t v;
        __builtin_memcpy(&v, (const void *)p, sizeof v);
        if (v - m->lo < m->span)
            hit(m, v, p, from);
    }
}

/* Calls hit(m, value, address) for every candidate word of [lo, hi) that
 * falls in the heap bounds.  Always inlined, so each caller gets its own
 * loop with its hit function inlined or called directly. */
LM_INLINE void scan_words(struct marker *m, uintptr_t lo, uintptr_t hi, unsigned from,
                          void (*hit)(struct marker *, uintptr_t, uintptr_t, unsigned))
{
    const uintptr_t blo = m->lo, span = m->span;
    uintptr_t a = lm_align_up(lo, sizeof(uintptr_t));
    if (a < hi) {
        const uintptr_t *w = (const uintptr_t *)a;
        size_t n = (hi - a) / sizeof(uintptr_t);
        for (size_t i = 0; i < n; i++) {
            uintptr_t v = w[i];
            if (lm_unlikely(v - blo < span))
                hit(m, v, a + i * sizeof(uintptr_t), from);
        }
    }
    if (m->unaligned)
        scan_unaligned(m, lo, hi, from, hit);
}

/* ---- flood ---- */

static void push(struct marker *m, uint64_t e)
{
    if ((lm_mark_stack_limit && m->stack.len >= lm_mark_stack_limit) ||
        lm_mmvec_push(&m->stack, &e) != 0)
        m->overflow = true;
}

static LM_NOINLINE void mark_hit(struct marker *m, uintptr_t v, uintptr_t at, unsigned from)
{
    (void)at;
    struct lm_block_ref b;
    if (!lm_lookup_block_lean(v, &b) || b.unit >= m->res->state_units)
        return;
    m->res->hits++;
    unsigned want = from == LM_MARK_REACHABLE && v == b.start ? LM_MARK_REACHABLE : LM_MARK_POSSIBLE;
    if (st_get(m->res->state, b.unit, b.index) >= want)
        return;
    st_set(m->res->state, b.unit, b.index, want);
    push(m, enc(b.unit, b.index, want));
    __builtin_prefetch((const void *)b.start);      /* scanned soon: LIFO */
}

/* The mark's scan of a range, with prefetching: on a large heap nearly
 * every candidate pointer costs cache and TLB misses on its unit's arena
 * header (kind, liveness bits) and on its state page.  Candidates wait in
 * a ring of MARK_PREFETCH entries after their prefetches are issued, so
 * those misses overlap instead of following one another.  The order in
 * which a range's candidates are marked does not matter (marks only rise). */
#define MARK_PREFETCH 16u

LM_INLINE void prefetch_candidate(const struct marker *m, uintptr_t v)
{
    uintptr_t off = v - m->lo;
    size_t unit = off >> LM_UNIT_SHIFT;
    __builtin_prefetch((const void *)(m->lo + (unit << LM_UNIT_SHIFT)));
    /* The state byte's page (one per unit): its line for 16-byte blocks,
     * the right TLB entry for any block size. */
    __builtin_prefetch(m->res->state + unit * STATE_UNIT + ((off & (LM_UNIT_SIZE - 1)) >> 6));
}

static void scan_range(struct marker *m, uintptr_t lo, uintptr_t hi, unsigned from)
{
    const uintptr_t blo = m->lo, span = m->span;
    uintptr_t ring[MARK_PREFETCH];
    unsigned n = 0;
    uintptr_t a = lm_align_up(lo, sizeof(uintptr_t));
    if (a < hi) {
        const uintptr_t *w = (const uintptr_t *)a;
        size_t words = (hi - a) / sizeof(uintptr_t);
        for (size_t i = 0; i < words; i++) {
            uintptr_t v = w[i];
            if (lm_likely(v - blo >= span))
                continue;
            prefetch_candidate(m, v);
            unsigned slot = n++ % MARK_PREFETCH;
            if (n > MARK_PREFETCH)
                mark_hit(m, ring[slot], 0, from);
            ring[slot] = v;
        }
    }
    unsigned first = n > MARK_PREFETCH ? n - MARK_PREFETCH : 0;
    for (unsigned k = first; k < n; k++)
        mark_hit(m, ring[k % MARK_PREFETCH], 0, from);
    if (m->unaligned)
        scan_unaligned(m, lo, hi, from, mark_hit);
}

static void scan_block(struct marker *m, uint32_t unit, uint32_t idx, unsigned st)
{
    struct lm_block_ref b;
    block_of(unit, idx, &b);
    m->res->block_bytes += b.size;
    scan_range(m, b.start, b.start + b.size, st);
}

static void drain(struct marker *m)
{
    uint64_t e;
    while (lm_mmvec_pop(&m->stack, &e)) {
        uint32_t unit = enc_unit(e), idx = enc_index(e);
        unsigned st = enc_state(e);
        if (st_get(m->res->state, unit, idx) == st)
            scan_block(m, unit, idx, st);
    }
}

static void rescan_cb(const struct lm_block_ref *b, void *arg)
{
    struct marker *m = arg;
    if (b->unit >= m->res->state_units)
        return;
    unsigned st = st_get(m->res->state, b->unit, b->index);
    if (st == LM_MARK_REACHABLE && m->skip_ignored && lm_api_block_flags(b) == LM_BLOCK_F_IGNORE)
        return;
    if (st == LM_MARK_REACHABLE || st == LM_MARK_POSSIBLE) {
        scan_block(m, b->unit, b->index, st);
        drain(m);
    }
}

/* A block the program flagged through the public API (api.h), before any
 * root is scanned: reachable either way; a NOT_LEAK block is pushed so its
 * contents are scanned as a root's, an IGNORE block is not, and since it
 * is already reachable no pointer to it can push it later. */
static void flagged_cb(const struct lm_block_ref *b, unsigned flags, void *arg)
{
    struct marker *m = arg;
    if (b->unit >= m->res->state_units || st_get(m->res->state, b->unit, b->index) == LM_MARK_REACHABLE)
        return;
    st_set(m->res->state, b->unit, b->index, LM_MARK_REACHABLE);
    if (flags == LM_BLOCK_F_NOT_LEAK)
        push(m, enc(b->unit, b->index, LM_MARK_REACHABLE));
}

static void flood(struct marker *m, const struct lm_roots *roots)
{
    if (lm_api_blocks_used()) {
        m->skip_ignored = lm_api_ignore_used();
        lm_api_foreach_flagged(flagged_cb, m);
        drain(m);
    }
    for (size_t i = 0; i < lm_roots_len(roots); i++) {
        const struct lm_root *r = lm_roots_at(roots, i);
        m->res->root_bytes += r->hi - r->lo;
        scan_range(m, r->lo, r->hi, LM_MARK_REACHABLE);
        drain(m);
    }
    while (m->overflow) {
        m->overflow = false;
        m->res->overflow_rounds++;
        lm_foreach_live_block(rescan_cb, m);
    }
}

/* ---- leaked blocks ---- */

struct collect_ctx {
    struct marker *m;
    size_t arena_run;          /* leaked entries that came from arenas */
    bool in_large;
};

static void collect_cb(const struct lm_block_ref *b, void *arg)
{
    struct collect_ctx *c = arg;
    struct lm_mark_result *res = c->m->res;
    if (b->unit >= res->state_units)
        return;
    res->live.blocks++;
    res->live.bytes += b->size;
    unsigned st = st_get(res->state, b->unit, b->index);
    if (st == LM_MARK_REACHABLE) {
        res->reachable.blocks++;
        res->reachable.bytes += b->size;
        return;
    }
    if (st == LM_MARK_POSSIBLE) {
        res->possible.blocks++;
        res->possible.bytes += b->size;
        return;
    }
    res->leaked.blocks++;
    res->leaked.bytes += b->size;
    st_set(res->state, b->unit, b->index, LM_MARK_LEAKED);
    if (b->large && !c->in_large) {
        c->in_large = true;
        c->arena_run = res->leaked_list.len;
    }
    uint64_t e = enc(b->unit, b->index, 0);
    if (lm_mmvec_push(&res->leaked_list, &e) != 0 && !c->m->err)
        c->m->err = ENOMEM;
}

/* lm_foreach_live_block gives arenas in address order, then large blocks
 * in address order: merge the two sorted runs so node order is address
 * order (binary search by encoded value). */
static int merge_runs(lm_mmvec_t *v, size_t k)
{
    uint64_t *a = v->data;
    size_t n = v->len;
    if (k == 0 || k >= n || a[k - 1] < a[k])
        return 0;
    lm_mmvec_t tmp = LM_MMVEC_INIT(sizeof(uint64_t));
    if (lm_mmvec_resize(&tmp, n - k) != 0)
        return ENOMEM;
    uint64_t *b = tmp.data;
    __builtin_memcpy(b, a + k, (n - k) * sizeof *b);
    size_t i = k, j = n - k, o = n;
    while (j) {
        if (i && a[i - 1] > b[j - 1])
            a[--o] = a[--i];
        else
            a[--o] = b[--j];
    }
    lm_mmvec_free(&tmp);
    return 0;
}

/* Node of `key` among nodes [lo, hi), or LM_LG_NONE. */
static uint32_t find_node_in(const struct lm_mark_result *res, uint64_t key, size_t lo, size_t hi)
{
    const uint64_t *a = res->leaked_list.data;
    size_t end = hi;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < end && a[lo] == key ? (uint32_t)lo : LM_LG_NONE;
}

static uint32_t find_node(const struct lm_mark_result *res, uint64_t key)
{
    return find_node_in(res, key, 0, res->leaked_list.len);
}

static LM_NOINLINE void edge_hit(struct marker *m, uintptr_t v, uintptr_t at, unsigned from)
{
    (void)from;
    struct lm_block_ref b;
    if (!lm_lookup_block(v, &b) || b.unit >= m->res->state_units ||
        st_get(m->res->state, b.unit, b.index) != LM_MARK_LEAKED)
        return;
    uint64_t key = enc(b.unit, b.index, 0);
    const uint32_t *uf = m->unit_first.data;
    uint32_t to = uf ? find_node_in(m->res, key, uf[b.unit], uf[b.unit + 1]) : find_node(m->res, key);
    if (to == LM_LG_NONE)
        return;
    if (lm_leakgraph_add_edge(&m->res->graph, m->from_node, to, at - m->from_start) != 0 && !m->err)
        m->err = ENOMEM;
}

static int leaked_graph(struct marker *m)
{
    struct lm_mark_result *res = m->res;
    struct collect_ctx c = { m, 0, false };
    lm_foreach_live_block(collect_cb, &c);
    if (m->err)
        return m->err;
    if (c.in_large && merge_runs(&res->leaked_list, c.arena_run) != 0)
        return ENOMEM;
    uint32_t n = (uint32_t)res->leaked_list.len;
    int err = res->graph_init ? lm_leakgraph_reset(&res->graph, n) : lm_leakgraph_init(&res->graph, n);
    res->graph_init = true;
    if (err)
        return err;
    const uint64_t *list = res->leaked_list.data;
    /* Per-unit node ranges narrow the edge lookups' binary search to one
     * unit's leaked blocks (optional: without memory, search them all). */
    lm_mmvec_init(&m->unit_first, sizeof(uint32_t));
    if (lm_mmvec_resize(&m->unit_first, (size_t)res->state_units + 1) == 0) {
        uint32_t *uf = m->unit_first.data, j = 0;
        for (uint32_t u = 0; u <= res->state_units; u++) {
            while (j < n && enc_unit(list[j]) < u)
                j++;
            uf[u] = j;
        }
    }
    for (uint32_t i = 0; i < n && !m->err; i++) {
        struct lm_block_ref b;
        block_of(enc_unit(list[i]), enc_index(list[i]), &b);
        m->from_node = i;
        m->from_start = b.start;
        scan_words(m, b.start, b.start + b.size, 0, edge_hit);
    }
    lm_mmvec_free(&m->unit_first);
    if (m->err)
        return m->err;
    uint64_t t = lm_os_now_ns();
    err = lm_leakgraph_compute(&res->graph);
    res->graph_ns = lm_os_now_ns() - t;
    if (err)
        return err;
    const lm_leakgraph_t *g = &res->graph;
    for (uint32_t i = 0; i < n; i++) {
        struct lm_block_ref b;
        block_of(enc_unit(list[i]), enc_index(list[i]), &b);
        struct lm_mark_count *k = lm_leakgraph_kind(g, i) == LM_LEAK_INDIRECT ? &res->indirect : &res->definite;
        k->blocks++;
        k->bytes += b.size;
    }
    res->cycles = lm_leakgraph_stats(g)->cycles;
    res->graph_ok = true;
    return 0;
}

/* ---- results ---- */

static void release_state(struct lm_mark_result *res)
{
    if (res->state)
        lm_os_unmap(res->state, res->state_bytes);
    res->state = NULL;
    res->state_bytes = 0;
    res->state_units = 0;
}

static void clear_counts(struct lm_mark_result *res)
{
    static const struct lm_mark_count zero;
    res->live = res->reachable = res->possible = zero;
    res->leaked = res->definite = res->indirect = zero;
    res->cycles = 0;
    res->root_bytes = res->block_bytes = res->hits = 0;
    res->overflow_rounds = 0;
    res->graph_ok = false;
    res->mark_ns = res->leak_ns = res->graph_ns = 0;
}

void lm_mark_result_init(struct lm_mark_result *res)
{
    res->state = NULL;
    res->state_bytes = 0;
    res->state_units = 0;
    lm_mmvec_init(&res->leaked_list, sizeof(uint64_t));
    res->graph_init = false;
    clear_counts(res);
}

void lm_mark_result_free(struct lm_mark_result *res)
{
    release_state(res);
    lm_mmvec_free(&res->leaked_list);
    if (res->graph_init)
        lm_leakgraph_destroy(&res->graph);
    res->graph_init = false;
    clear_counts(res);
}

int lm_mark_run(const struct lm_roots *roots, struct lm_mark_result *res)
{
    release_state(res);
    lm_mmvec_reset(&res->leaked_list);
    clear_counts(res);
    uint64_t t0 = lm_os_now_ns();

    uint32_t units = lm_region_size ? lm_span_top() : 0;
    if (units) {
        void *p;
        size_t bytes = (size_t)units * STATE_UNIT;
        if (lm_os_map(bytes, &p) != 0)
            return ENOMEM;
        res->state = p;
        res->state_bytes = bytes;
        res->state_units = units;
    }
    struct marker m = { .res = res, .unaligned = lm_options.scan_unaligned };
    lm_mmvec_init(&m.stack, sizeof(uint64_t));
    uintptr_t lo = 0, hi = 0;
    if (units)
        lm_heap_bounds(&lo, &hi);
    m.lo = lo;
    m.span = hi - lo;

    if (units)
        flood(&m, roots);
    lm_mmvec_free(&m.stack);
    uint64_t t1 = lm_os_now_ns();
    res->mark_ns = t1 - t0;

    int err = units ? leaked_graph(&m) : 0;
    if (!res->graph_ok) {
        /* No graph: every leaked block is reported as definite. */
        res->definite = res->leaked;
        res->indirect = (struct lm_mark_count){ 0, 0 };
        res->cycles = 0;
    }
    res->leak_ns = lm_os_now_ns() - t1;
    if (lm_options.verbosity >= 3)
        lm_log("mark: %zu live blocks, %zu reachable, %zu possible, %zu leaked; "
               "%zu root bytes, %zu block bytes, %u overflow rounds, %llu+%llu us (graph %llu)",
               res->live.blocks, res->reachable.blocks, res->possible.blocks,
               res->leaked.blocks, res->root_bytes, res->block_bytes, res->overflow_rounds,
               (unsigned long long)(res->mark_ns / 1000), (unsigned long long)(res->leak_ns / 1000),
               (unsigned long long)(res->graph_ns / 1000));
    return err;
}

/* ---- queries ---- */

enum lm_mark_state lm_mark_block_state(const struct lm_mark_result *res, const struct lm_block_ref *b)
{
    if (!res->state || b->unit >= res->state_units)
        return LM_MARK_UNVISITED;
    return (enum lm_mark_state)st_get(res->state, b->unit, b->index);
}

bool lm_mark_possible_to_reachable(struct lm_mark_result *res, const struct lm_block_ref *b)
{
    if (lm_mark_block_state(res, b) != LM_MARK_POSSIBLE)
        return false;
    st_set(res->state, b->unit, b->index, LM_MARK_REACHABLE);
    res->possible.blocks--;
    res->possible.bytes -= b->size;
    res->reachable.blocks++;
    res->reachable.bytes += b->size;
    return true;
}

enum lm_mark_state lm_mark_state_at(const struct lm_mark_result *res, uintptr_t p)
{
    struct lm_block_ref b;
    if (!lm_lookup_block(p, &b))
        return LM_MARK_UNVISITED;
    return lm_mark_block_state(res, &b);
}

void lm_mark_leaked_block(const struct lm_mark_result *res, uint32_t node, struct lm_block_ref *out)
{
    uint64_t e = ((const uint64_t *)res->leaked_list.data)[node];
    block_of(enc_unit(e), enc_index(e), out);
}

uint32_t lm_mark_find_leaked(const struct lm_mark_result *res, uintptr_t p)
{
    struct lm_block_ref b;
    if (!lm_lookup_block(p, &b))
        return LM_LG_NONE;
    return find_node(res, enc(b.unit, b.index, 0));
}

void lm_mark_foreach_leaked(const struct lm_mark_result *res,
                            void (*fn)(uint32_t node, const struct lm_block_ref *b,
                                       enum lm_leak_kind kind, bool in_cycle, void *arg),
                            void *arg)
{
    uint32_t n = lm_mark_leaked_count(res);
    for (uint32_t i = 0; i < n; i++) {
        struct lm_block_ref b;
        lm_mark_leaked_block(res, i, &b);
        enum lm_leak_kind k = res->graph_ok ? lm_leakgraph_kind(&res->graph, i) : LM_LEAK_DEFINITE;
        bool cyc = res->graph_ok && lm_leakgraph_in_cycle(&res->graph, i);
        fn(i, &b, k, cyc, arg);
    }
}
