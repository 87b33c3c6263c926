/*
 * mark.c - the conservative mark and the leaked-block graph (see mark.h for
 * the run, the states and what memory is owned).
 *
 * Invariants.
 *   - State transitions only go up: UNVISITED < POSSIBLE < REACHABLE during
 *     the flood; LEAKED is set afterwards on blocks still UNVISITED.
 *   - Every marked block below the finger (struct marker) has been
 *     scanned in its current state, is on the stack or in the FIFO with
 *     it, or waits for the overflow rescan; every one at or above it will
 *     be met by the sweep, which scans it in the state it has then.  A
 *     block whose state rises below the finger is pushed with that state;
 *     an entry whose state no longer matches the block's was superseded
 *     by a later push (or by the overflow rescan) and is skipped.  So a
 *     block is scanned at most twice per round (as possible, then as
 *     reachable).
 *   - When a push fails, `overflow` is set; marks are never lost, only
 *     scans, and the rescan round scans every marked block again.  Each
 *     failed push follows a new mark, so rounds end.
 *   - Blocks flagged through the public API (api.h) are set REACHABLE
 *     before the first root is scanned; NOT_LEAK ones are scanned as
 *     reachable blocks are (by the sweep), IGNORE ones never are - not
 *     even by the overflow rescan - so what only they point to stays
 *     unreachable.  Both count as reachable.  Without any flagged block
 *     this costs one load per run.
 *   - Encoded block values (enc()) have bit 63 set: no user-space address
 *     looks like one, so stale mark-stack or leaked-list memory, if ever
 *     scanned, keeps nothing alive.  Their order is address order.
 *   - The view (markview.h) is taken once per run
 *     with the heap still, and agrees with lookup.c's answer for every
 *     address: a block is in it iff lm_lookup_block finds it live.  The
 *     interior-pointer size check is done only when it could change a
 *     state, so its answer is the same as a full lookup's.
 *
 * Order: after the roots, a sweep visits marked blocks in address order
 * (sweep()); what it marks further on it meets later, what it marks
 * behind it goes through the mark stack.  Blocks linked in allocation
 * order - lists, trees, records - are then read page after page: on a
 * 10 M-block tree the mark took a third of the time of a stack-only
 * flood, while a tree in shuffled order costs the same either way.
 *
 * Latency: the flood overlaps the cache and TLB misses of many blocks
 * instead of taking them one after the other:
 *   - a scanned range's candidate words are copied into a batch without a
 *     data-dependent branch; a batch of CAND_BATCH candidates is resolved
 *     against the view and its groups prefetched, then marked (mark_batch);
 *   - popped mark-stack entries wait in a FIFO of SCAN_AHEAD after their
 *     first line and their record are prefetched, then are scanned; long
 *     blocks are prefetched SCAN_PREFETCH_WORDS ahead of the scan.
 * Batches carry over from one block to the next, so a small block's two
 * or three pointers do not wait alone.  The order of marks does not
 * matter (marks only rise).
 *
 * Reads: root ranges (the caller's), unit kind bytes and records, arena
 * headers and bitmaps (once, for the view), block records, and live
 * blocks' first `requested size` bytes.  No locks, no malloc, no stdio.
 */
#include "mark.h"
#include "api.h"
#include "arena.h"
#include "markview.h"
#include "log.h"
#include "options.h"
#include "os.h"
#include "span.h"

#include <errno.h>

size_t lm_mark_stack_limit;

#define ENC_TAG (1ull << 63)

LM_INLINE uint64_t enc(uint32_t unit, uint32_t idx, unsigned st)
{
    return ENC_TAG | (uint64_t)unit << 18 | (uint64_t)idx << 2 | st;
}
LM_INLINE uint32_t enc_unit(uint64_t e) { return (uint32_t)(e >> 18); }
LM_INLINE uint32_t enc_index(uint64_t e) { return (uint32_t)(e >> 2) & 0xffffu; }
LM_INLINE unsigned enc_state(uint64_t e) { return (unsigned)e & 3u; }

/* ---- scanning ---- */

/* Pipeline depths, measured (thread CPU time, 2-core EPYC VM) on
 * wl_exitcheck-like heaps: 1 M to 10 M blocks of 64 to 520 bytes, 1 GiB
 * in 16 KiB blocks.  Without the pop-time prefetches the 4 M-block mark
 * takes 2.5x as long, and prefetching only a popped block's first line
 * left blocks of 104 bytes twice as slow per block as blocks of 64 (their
 * second line missed); 16 blocks in flight beat 4 by ~25% and 8
 * slightly, while 32, batches of 32 or 128 candidates, or refilling the
 * FIFO in bursts change nothing measurable.  Reading a long block 2 KiB
 * ahead saves ~15% per GiB (the hardware prefetcher stops at page
 * boundaries).  What remains per block is mostly page walks (4 KiB pages:
 * block, record and group each on their own page). */
#define CAND_BATCH 64u           /* candidates resolved together */
#define SCAN_AHEAD 16u           /* popped blocks in flight */
#define SCAN_PREFETCH_WORDS 256u /* a long block is read this far ahead */
#define SCAN_POP_PREFETCH 256u   /* bytes of a popped block prefetched */

struct marker {
    struct lm_mark_result *res;
    uintptr_t lo, span;        /* heap bounds: candidate - lo < span */
    bool unaligned;
    bool overflow;
    bool skip_ignored;         /* a block was ever flagged IGNORE (api.h) */
    int err;                   /* edges phase: first ENOMEM */
    lm_mmvec_t stack;          /* uint64_t enc() */
    /* The sweep's position (enc(unit, idx, 0) of the block after the one
     * it is scanning): a block marked at or above it is left for the
     * sweep, one marked below it is pushed.  0 before the sweep (every
     * mark is left for it), UINT64_MAX after (every mark is pushed). */
    uint64_t finger;
    /* popped blocks whose lines are on their way (drain) */
    uint64_t fifo[SCAN_AHEAD];
    unsigned fifo_head, fifo_len;
    /* candidates waiting to be marked, by source: [0] from possible
     * blocks, [1] from reachable blocks and roots.  Fewer than CAND_BATCH
     * wait between calls; scan_range adds a chunk of at most CAND_BATCH
     * words, then marks the batch once CAND_BATCH or more wait. */
    uintptr_t cand[2][2 * CAND_BATCH];
    unsigned ncand[2];
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

/* The mark stack's push and pop, typed (lm_mmvec_push/pop copy with a
 * memcpy of the run-time element size: a libc call per entry). */
static void push(struct marker *m, uint64_t e)
{
    uint64_t *slot = NULL;
    if (!lm_mark_stack_limit || m->stack.len < lm_mark_stack_limit)
        slot = lm_mmvec_push_slot(&m->stack);
    if (slot)
        *slot = e;
    else
        m->overflow = true;
}

/* A block's state just rose to that of e: scanned by the sweep if it has
 * not passed the block yet, else from the stack. */
LM_INLINE void marked(struct marker *m, uint64_t e)
{
    if (e < m->finger)
        push(m, e);
}

LM_INLINE bool pop(struct marker *m, uint64_t *e)
{
    if (!m->stack.len)
        return false;
    *e = ((const uint64_t *)m->stack.data)[--m->stack.len];
    return true;
}

static void mark_hit(struct marker *m, uintptr_t v, uintptr_t at, unsigned from)
{
    (void)at;
    struct hit h;
    if (!view_find(m->res, m->lo, v, &h))
        return;
    m->res->hits++;
    unsigned want = from == LM_MARK_REACHABLE && v == h.start ? LM_MARK_REACHABLE : LM_MARK_POSSIBLE;
    if (grp_state(h.g, h.idx) >= want || !within_block(&h, m->lo, v))
        return;
    grp_set(h.g, h.idx, want);
    marked(m, enc(h.unit, h.idx, want));
}

/* Marks the waiting candidates of one source (k: 1 reachable, 0
 * possible) in two passes: the first resolves each against the view and
 * prefetches its group, the second marks, by then mostly from cache. */
static void mark_batch(struct marker *m, unsigned k)
{
    struct lm_mark_result *res = m->res;
    const uintptr_t base = m->lo;
    const unsigned from = k ? LM_MARK_REACHABLE : LM_MARK_POSSIBLE;
    unsigned n = m->ncand[k];
    m->ncand[k] = 0;
    uintptr_t *cand = m->cand[k];
    struct lm_mark_group *grp[2 * CAND_BATCH];
    uint32_t index[2 * CAND_BATCH];
    for (unsigned i = 0; i < n; i++) {
        uintptr_t off = cand[i] - base;
        const struct lm_mark_unit *u = &res->view[off >> LM_UNIT_SHIFT];
        uint32_t in = (uint32_t)(off & LM_UNIT_MASK);
        uint32_t idx = (uint32_t)(((uint64_t)(in - u->data_offset) * u->magic) >> 48);
        struct lm_mark_group *g = NULL;        /* no block there */
        if (u->kind == VIEW_ARENA) {
            if (in >= u->data_offset && idx < u->limit)
                g = &res->groups[u->group + (idx >> 6)];
        } else if (u->kind == VIEW_LARGE || u->kind == VIEW_CONT) {
            idx = 0;
            g = &res->groups[u->kind == VIEW_CONT ? res->view[u->group].group : u->group];
        }
        if (g)
            __builtin_prefetch(g);
        grp[i] = g;
        index[i] = idx;
    }
    for (unsigned i = 0; i < n; i++) {
        uintptr_t v = cand[i];
        struct lm_mark_group *g = grp[i];
        uint32_t idx = index[i];
        uint64_t bit = 1ull << (idx & 63);
        if (!g || !(g->live & bit))
            continue;
        /* The state test first: most candidates name a block already
         * marked, and need neither its start nor its record.  During the
         * flood a set high bit means reachable (leaked comes later). */
        if ((g->high & bit) || (!k && (g->low & bit))) {
            res->hits++;
            continue;
        }
        unsigned st = grp_state(g, idx);
        uintptr_t off = v - base;
        uint32_t unit = (uint32_t)(off >> LM_UNIT_SHIFT);
        const struct lm_mark_unit *u = &res->view[unit];
        if (u->kind != VIEW_ARENA) {
            mark_hit(m, v, 0, from);   /* a large block: the general path */
            continue;
        }
        res->hits++;
        struct hit h = { base + ((uintptr_t)unit << LM_UNIT_SHIFT) + u->data_offset +
                             (uintptr_t)idx * u->block_size, unit, idx, g, u };
        unsigned want = k && v == h.start ? LM_MARK_REACHABLE : LM_MARK_POSSIBLE;
        if (st >= want || !within_block(&h, base, v))
            continue;
        grp_set(g, idx, want);
        marked(m, enc(unit, idx, want));
    }
}

/* Every candidate of [lo, hi) joins its source's batch.  The copy into
 * the batch is unconditional and only the count depends on the bounds
 * test, so the loop has no branch a random heap would mispredict. */
static void scan_range(struct marker *m, uintptr_t lo, uintptr_t hi, unsigned from)
{
    const uintptr_t blo = m->lo, span = m->span;
    const unsigned k = from == LM_MARK_REACHABLE;
    uintptr_t *cand = m->cand[k];
    unsigned n = m->ncand[k];
    uintptr_t a = lm_align_up(lo, sizeof(uintptr_t));
    if (a < hi) {
        const uintptr_t *w = (const uintptr_t *)a;
        size_t words = (hi - a) / sizeof(uintptr_t);
        while (words) {
            size_t chunk = words < CAND_BATCH ? words : CAND_BATCH;
            if (words > SCAN_PREFETCH_WORDS)
                for (size_t j = 0; j < CAND_BATCH; j += 8)
                    __builtin_prefetch(w + SCAN_PREFETCH_WORDS + j);
#pragma GCC unroll 8
            for (size_t i = 0; i < chunk; i++) {    /* unrolled: ~8% per GiB */
                uintptr_t v = w[i];
                cand[n] = v;
                n += v - blo < span;
            }
            w += chunk;
            words -= chunk;
            if (n >= CAND_BATCH) {
                m->ncand[k] = n;
                mark_batch(m, k);
                n = 0;
            }
        }
    }
    m->ncand[k] = n;
    if (m->unaligned)
        scan_unaligned(m, lo, hi, from, mark_hit);
}

static void scan_block(struct marker *m, uint32_t unit, uint32_t idx, unsigned st)
{
    uintptr_t start;
    size_t size;
    view_block(m->res, m->lo, unit, idx, &start, &size);
    m->res->block_bytes += size;
    scan_range(m, start, start + size, st);
}

/* Marks both sources' waiting candidates, however few. */
static void settle(struct marker *m)
{
    if (m->ncand[1])
        mark_batch(m, 1);
    if (m->ncand[0])
        mark_batch(m, 0);
}

/* Pops mark-stack entries into the FIFO, prefetching each block's first
 * lines and record, and scans the oldest once SCAN_AHEAD wait.  With
 * `settle_all` it returns only when the stack, the FIFO and both batches
 * are empty (a batch shorter than CAND_BATCH is marked once nothing else
 * is left).  Without, it returns as soon as the stack is empty, leaving
 * up to SCAN_AHEAD - 1 blocks in flight for the next call: the sweep
 * pushes a block or two per step and would otherwise wait for each. */
static void drain(struct marker *m, bool settle_all)
{
    struct lm_mark_result *res = m->res;
    for (;;) {
        uint64_t e;
        if (m->fifo_len < SCAN_AHEAD && pop(m, &e)) {
            uint32_t unit = enc_unit(e), idx = enc_index(e);
            const struct lm_mark_unit *u = &res->view[unit];
            if (grp_state(&res->groups[u->group + (idx >> 6)], idx) != enc_state(e))
                continue;
            uintptr_t ubase = m->lo + ((uintptr_t)unit << LM_UNIT_SHIFT), start = ubase;
            uintptr_t ahead = SCAN_POP_PREFETCH;
            if (u->kind == VIEW_ARENA) {
                start += u->data_offset + (uintptr_t)idx * u->block_size;
                if (u->block_size < ahead)
                    ahead = u->block_size;
                __builtin_prefetch((const struct lm_meta *)(ubase + u->meta_offset) + idx);
            }
            /* every line of the block's head (its class size: the
             * requested size is in the record, still on its way) */
            for (uintptr_t line = start & ~(uintptr_t)63; line < start + ahead; line += 64)
                __builtin_prefetch((const void *)line);
            m->fifo[(m->fifo_head + m->fifo_len++) % SCAN_AHEAD] = e;
            continue;
        }
        if (m->fifo_len == SCAN_AHEAD || (m->fifo_len && settle_all)) {
            e = m->fifo[m->fifo_head];
            m->fifo_head = (m->fifo_head + 1) % SCAN_AHEAD;
            m->fifo_len--;
            uint32_t unit = enc_unit(e), idx = enc_index(e);
            unsigned st = enc_state(e);
            if (grp_state(&res->groups[res->view[unit].group + (idx >> 6)], idx) == st)
                scan_block(m, unit, idx, st);
            continue;
        }
        if (!settle_all || !(m->ncand[0] | m->ncand[1]))
            return;
        settle(m);
    }
}

/* The scan of block (unit, idx) in state st is skipped: a reachable block
 * flagged IGNORE through the public API. */
static bool ignored(const struct marker *m, uint32_t unit, uint32_t idx, unsigned st)
{
    if (st != LM_MARK_REACHABLE || !m->skip_ignored)
        return false;
    struct lm_block_ref b;
    lm_mark_view_block(unit, idx, &b);
    return lm_api_block_flags(&b) == LM_BLOCK_F_IGNORE;
}

/* Scans every marked block in address order, the finger just past the
 * block being scanned, so that what a block marks further on waits for
 * the sweep instead of being pushed: where pointers mostly lead forward
 * in memory (structures built in allocation order: lists, trees, arrays
 * of records) the heap is read as one stream, pages and lines in order,
 * instead of block by block in graph order.  Blocks marked behind the
 * finger go through the stack, drained after each block.  Before the
 * sweep steps over a live block that is not marked, waiting candidates
 * are settled: one of them may mark it (a list's next node). */
static void sweep(struct marker *m)
{
    struct lm_mark_result *res = m->res;
    for (uint32_t unit = 0; unit < res->state_units; unit++) {
        const struct lm_mark_unit *v = &res->view[unit];
        if (v->kind != VIEW_ARENA && v->kind != VIEW_LARGE)
            continue;
        struct lm_mark_group *g = &res->groups[v->group];
        for (uint32_t w = 0, words = (v->limit + 63) >> 6; w < words; w++) {
            uint64_t ahead = ~(uint64_t)0;      /* bits the sweep has not passed */
            for (;;) {
                uint64_t live = g[w].live & ahead;
                if (!live)
                    break;
                uint64_t todo = (g[w].low | g[w].high) & live;
                if (!(todo & live & (0 - live)) && (m->ncand[0] | m->ncand[1])) {
                    settle(m);
                    if (m->stack.len)
                        drain(m, false);
                    continue;
                }
                if (!todo)
                    break;
                unsigned b = (unsigned)__builtin_ctzll(todo);
                ahead = b == 63 ? 0 : ~(uint64_t)0 << (b + 1);
                uint32_t idx = w * 64 + b;
                unsigned st = grp_state(&g[w], idx);
                m->finger = enc(unit, idx, 0) + 4;
                if (ignored(m, unit, idx, st))
                    continue;
                scan_block(m, unit, idx, st);
                if (m->stack.len)
                    drain(m, false);
            }
        }
    }
}

static void rescan_cb(uint32_t unit, uint32_t idx, unsigned st, void *arg)
{
    struct marker *m = arg;
    if ((st == LM_MARK_REACHABLE || st == LM_MARK_POSSIBLE) && !ignored(m, unit, idx, st)) {
        scan_block(m, unit, idx, st);
        drain(m, true);
    }
}

/* A block the program flagged through the public API (api.h), before any
 * root is scanned: reachable either way; a NOT_LEAK block is pushed so its
 * contents are scanned as a root's, an IGNORE block is not, and since it
 * is already reachable no pointer to it can push it later. */
static void flagged_cb(const struct lm_block_ref *b, unsigned flags, void *arg)
{
    struct marker *m = arg;
    struct lm_mark_group *g = group_of(m->res, b->unit, b->index);
    if (!g || grp_state(g, b->index) == LM_MARK_REACHABLE)
        return;
    grp_set(g, b->index, LM_MARK_REACHABLE);
    if (flags == LM_BLOCK_F_NOT_LEAK)
        marked(m, enc(b->unit, b->index, LM_MARK_REACHABLE));
}

static void flood(struct marker *m, const struct lm_roots *roots)
{
    m->finger = 0;                      /* roots' marks wait for the sweep */
    if (lm_api_blocks_used()) {
        m->skip_ignored = lm_api_ignore_used();
        lm_api_foreach_flagged(flagged_cb, m);
    }
    for (size_t i = 0; i < lm_roots_len(roots); i++) {
        const struct lm_root *r = lm_roots_at(roots, i);
        m->res->root_bytes += r->hi - r->lo;
        scan_range(m, r->lo, r->hi, LM_MARK_REACHABLE);
    }
    settle(m);
    sweep(m);
    m->finger = UINT64_MAX;             /* from here every mark is pushed */
    drain(m, true);
    while (m->overflow) {
        m->overflow = false;
        m->res->overflow_rounds++;
        view_foreach(m->res, false, rescan_cb, m);
    }
}

/* ---- leaked blocks ---- */

/* Counts every block of the view by state and lists the unvisited ones
 * as leaked, in address order (units ascending, then indexes). */
static void collect(struct marker *m)
{
    struct lm_mark_result *res = m->res;
    for (uint32_t unit = 0; unit < res->state_units; unit++) {
        const struct lm_mark_unit *v = &res->view[unit];
        if (v->kind != VIEW_ARENA && v->kind != VIEW_LARGE)
            continue;
        uintptr_t ubase = m->lo + ((uintptr_t)unit << LM_UNIT_SHIFT);
        struct lm_mark_group *g = &res->groups[v->group];
        for (uint32_t w = 0, words = (v->limit + 63) >> 6; w < words; w++) {
            g[w].first_node = res->leaked_list.len;
            uint64_t live = g[w].live, reach = g[w].high & ~g[w].low, poss = g[w].low & ~g[w].high;
            uint64_t lost = live & ~(g[w].low | g[w].high);
            res->live.blocks += (size_t)__builtin_popcountll(live);
            res->reachable.blocks += (size_t)__builtin_popcountll(live & reach);
            res->possible.blocks += (size_t)__builtin_popcountll(live & poss);
            res->leaked.blocks += (size_t)__builtin_popcountll(lost);
            for (uint64_t bits = live; bits; bits &= bits - 1) {
                uint32_t idx = w * 64 + (uint32_t)__builtin_ctzll(bits);
                uint64_t bit = bits & (0 - bits);
                size_t size = v->kind == VIEW_ARENA ? arena_req_size(v, ubase, idx) : (size_t)v->magic;
                res->live.bytes += size;
                if (reach & bit) {
                    res->reachable.bytes += size;
                } else if (poss & bit) {
                    res->possible.bytes += size;
                } else {
                    res->leaked.bytes += size;
                    uint64_t *slot = lm_mmvec_push_slot(&res->leaked_list);
                    if (slot)
                        *slot = enc(unit, idx, 0);
                    else if (!m->err)
                        m->err = ENOMEM;
                }
            }
            g[w].low |= lost;           /* unvisited -> leaked */
            g[w].high |= lost;
        }
    }
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

/* Node of leaked block (unit, idx) in group g: the group's first node
 * plus the leaked blocks before it in the group (leaked bits never change
 * after the collection).  Checked against the list; a list cut short by
 * ENOMEM falls back to the search. */
static uint32_t node_of(const struct lm_mark_result *res, const struct lm_mark_group *g,
                        uint32_t unit, uint32_t idx)
{
    uint64_t lost = g->live & g->low & g->high;
    uint64_t node = g->first_node + (uint64_t)__builtin_popcountll(lost & ((1ull << (idx & 63)) - 1));
    uint64_t key = enc(unit, idx, 0);
    if (node < res->leaked_list.len && ((const uint64_t *)res->leaked_list.data)[node] == key)
        return (uint32_t)node;
    return find_node(res, key);
}

static LM_NOINLINE void edge_hit(struct marker *m, uintptr_t v, uintptr_t at, unsigned from)
{
    (void)from;
    struct hit h;
    if (!view_find(m->res, m->lo, v, &h) || grp_state(h.g, h.idx) != LM_MARK_LEAKED ||
        !within_block(&h, m->lo, v))
        return;
    uint32_t to = node_of(m->res, h.g, h.unit, h.idx);
    if (to == LM_LG_NONE)
        return;
    if (lm_leakgraph_add_edge(&m->res->graph, m->from_node, to, at - m->from_start) != 0 && !m->err)
        m->err = ENOMEM;
}

static int leaked_graph(struct marker *m)
{
    struct lm_mark_result *res = m->res;
    collect(m);
    if (m->err)
        return m->err;
    uint32_t n = (uint32_t)res->leaked_list.len;
    int err = res->graph_init ? lm_leakgraph_reset(&res->graph, n) : lm_leakgraph_init(&res->graph, n);
    res->graph_init = true;
    if (err)
        return err;
    const uint64_t *list = res->leaked_list.data;
    for (uint32_t i = 0; i < n && !m->err; i++) {
        uintptr_t start;
        size_t size;
        view_block(res, m->lo, enc_unit(list[i]), enc_index(list[i]), &start, &size);
        m->from_node = i;
        m->from_start = start;
        scan_words(m, start, start + size, 0, edge_hit);
    }
    if (m->err)
        return m->err;
    uint64_t t = lm_os_now_ns();
    err = lm_leakgraph_compute(&res->graph);
    res->graph_ns = lm_os_now_ns() - t;
    if (err)
        return err;
    const lm_leakgraph_t *g = &res->graph;
    for (uint32_t i = 0; i < n; i++) {
        uintptr_t start;
        size_t size;
        view_block(res, m->lo, enc_unit(list[i]), enc_index(list[i]), &start, &size);
        struct lm_mark_count *k = lm_leakgraph_kind(g, i) == LM_LEAK_INDIRECT ? &res->indirect : &res->definite;
        k->blocks++;
        k->bytes += size;
    }
    res->cycles = lm_leakgraph_stats(g)->cycles;
    res->graph_ok = true;
    return 0;
}

/* ---- results ---- */


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
    res->view = NULL;
    res->groups = NULL;
    res->view_bytes = res->groups_bytes = 0;
    res->state_units = 0;
    lm_mmvec_init(&res->leaked_list, sizeof(uint64_t));
    res->graph_init = false;
    clear_counts(res);
}

void lm_mark_result_free(struct lm_mark_result *res)
{
    lm_mark_view_release(res);
    lm_mmvec_free(&res->leaked_list);
    if (res->graph_init)
        lm_leakgraph_destroy(&res->graph);
    res->graph_init = false;
    clear_counts(res);
}

int lm_mark_run(const struct lm_roots *roots, struct lm_mark_result *res)
{
    lm_mark_view_release(res);
    lm_mmvec_reset(&res->leaked_list);
    clear_counts(res);
    uint64_t t0 = lm_os_now_ns();

    uint32_t units = lm_region_size ? lm_span_top() : 0;
    if (units && lm_mark_view_build(res, units) != 0) {
        lm_mark_view_release(res);
        return ENOMEM;
    }
    /* Bounds: the units of the view (lm_heap_bounds' range). */
    struct marker m = { .res = res, .unaligned = lm_options.scan_unaligned };
    lm_mmvec_init(&m.stack, sizeof(uint64_t));
    m.lo = lm_region_base;
    m.span = (uintptr_t)units << LM_UNIT_SHIFT;

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
    const struct lm_mark_group *g = group_of(res, b->unit, b->index);
    return g ? (enum lm_mark_state)grp_state(g, b->index) : LM_MARK_UNVISITED;
}

bool lm_mark_possible_to_reachable(struct lm_mark_result *res, const struct lm_block_ref *b)
{
    struct lm_mark_group *g = group_of(res, b->unit, b->index);
    if (!g || grp_state(g, b->index) != LM_MARK_POSSIBLE)
        return false;
    grp_set(g, b->index, LM_MARK_REACHABLE);
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
    lm_mark_view_block(enc_unit(e), enc_index(e), out);
}

uint32_t lm_mark_find_leaked(const struct lm_mark_result *res, uintptr_t p)
{
    struct lm_block_ref b;
    if (!lm_lookup_block(p, &b))
        return LM_LG_NONE;
    const struct lm_mark_group *g = group_of(res, b.unit, b.index);
    if (!g || grp_state(g, b.index) != LM_MARK_LEAKED)
        return LM_LG_NONE;
    return node_of(res, g, b.unit, b.index);
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

struct possible_walk {
    void (*fn)(const struct lm_block_ref *b, void *arg);
    void *arg;
};

static void possible_visit(uint32_t unit, uint32_t idx, unsigned st, void *arg)
{
    (void)st;
    const struct possible_walk *p = arg;
    struct lm_block_ref b;
    lm_mark_view_block(unit, idx, &b);
    p->fn(&b, p->arg);
}

void lm_mark_foreach_possible(const struct lm_mark_result *res,
                              void (*fn)(const struct lm_block_ref *b, void *arg), void *arg)
{
    if (!res->view || !res->groups)
        return;
    struct possible_walk p = { fn, arg };
    view_foreach(res, true, possible_visit, &p);
}
