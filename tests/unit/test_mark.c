/*
 * test_mark.c - the conservative mark (preload/mark.h) on heaps built with
 * lm_malloc: roots are explicit arrays of this file given with
 * lm_roots_add, so each test decides exactly what is reachable.
 * Classification follows shared/REPORT-FORMAT.md:
 *   reachable = from roots along start pointers; possible = only if
 *   interior pointers are followed; leaked = the rest; among leaked, SCCs
 *   that no other leaked block points into are definite, the rest
 *   indirect; a cycle = SCC of >= 2 blocks or a block pointing to itself.
 * Every test frees what it allocated and checks that the heap it sees
 * holds exactly its own blocks (live count), so counts are exact.
 * test_random_heap_matches_reference checks every block's state on random
 * heaps against the contract applied naively (lm_lookup_block word by
 * word), with and without mark-stack overflow.
 * The last test measures seconds per GiB scanned and per million blocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alloc.h"
#include "mark.h"
#include "options.h"
#include "os.h"

#define MAXB 64
static void *roots[16];                 /* the root range of most tests */
static void *blocks[MAXB];
static size_t nblocks;
static void **bulk;                     /* big tests' blocks (libc array) */
static size_t nbulk;

static int setup(void **state)
{
    (void)state;
    return lm_init() ? 0 : -1;
}

static int teardown_each(void **state)
{
    (void)state;
    for (size_t i = 0; i < nblocks; i++)
        lm_free(blocks[i]);
    nblocks = 0;
    for (size_t i = 0; i < nbulk; i++)
        lm_free(bulk[i]);
    free(bulk);
    bulk = NULL;
    nbulk = 0;
    memset(roots, 0, sizeof roots);
    lm_options.scan_unaligned = false;
    lm_mark_stack_limit = 0;
    return 0;
}

static void *blk(size_t size)
{
    void *p = lm_calloc(1, size);
    assert_non_null(p);
    assert_true(nblocks < MAXB);
    blocks[nblocks++] = p;
    return p;
}

static void set_ptr(void *blockp, size_t offset, const void *target)
{
    memcpy((char *)blockp + offset, &target, sizeof target);
}

static void run(struct lm_mark_result *res, const void *lo, size_t bytes)
{
    struct lm_roots r;
    lm_roots_init(&r);
    assert_int_equal(lm_roots_add(&r, (uintptr_t)lo, (uintptr_t)lo + bytes, LM_ROOT_USER), 0);
    lm_mark_result_init(res);
    assert_int_equal(lm_mark_run(&r, res), 0);
    assert_true(res->graph_ok);
    lm_roots_free(&r);
}

static void expect(const struct lm_mark_result *res, size_t reach, size_t poss,
                   size_t def, size_t ind, uint32_t cycles)
{
    assert_int_equal(res->live.blocks, reach + poss + def + ind);
    assert_int_equal(res->reachable.blocks, reach);
    assert_int_equal(res->possible.blocks, poss);
    assert_int_equal(res->leaked.blocks, def + ind);
    assert_int_equal(res->definite.blocks, def);
    assert_int_equal(res->indirect.blocks, ind);
    assert_int_equal(res->cycles, cycles);
    assert_int_equal(lm_mark_leaked_count(res), def + ind);
}

static enum lm_leak_kind kind_of(const struct lm_mark_result *res, const void *p)
{
    uint32_t n = lm_mark_find_leaked(res, (uintptr_t)p);
    assert_int_not_equal(n, LM_LG_NONE);
    return lm_leakgraph_kind(lm_mark_graph(res), n);
}

/* Start pointer -> reachable; interior only -> possible; nothing -> leaked;
 * what a possible block points to is possible even by start pointer. */
static void test_basic_states(void **state)
{
    (void)state;
    char *a = blk(48), *b = blk(48), *c = blk(48), *d = blk(48), *e = blk(48), *f = blk(100);
    roots[0] = a;               /* start */
    roots[1] = b + 8;           /* interior */
    set_ptr(a, 16, d);          /* reachable -> start -> reachable */
    set_ptr(b, 0, e);           /* possible -> start -> possible */
    set_ptr(a, 24, f + 99);     /* reachable -> interior (last byte) -> possible */
    (void)c;
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, 2, 3, 1, 0, 0);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)a), LM_MARK_REACHABLE);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)d + 5), LM_MARK_REACHABLE);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)b), LM_MARK_POSSIBLE);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)e), LM_MARK_POSSIBLE);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)f), LM_MARK_POSSIBLE);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)c), LM_MARK_LEAKED);
    assert_int_equal(kind_of(&res, c), LM_LEAK_DEFINITE);
    assert_int_equal(res.reachable.bytes, 96);
    assert_int_equal(res.possible.bytes, 48 + 48 + 100);
    assert_int_equal(res.definite.bytes, 48);
    assert_true(res.root_bytes == sizeof roots);
    lm_mark_result_free(&res);
}

/* A block first found through an interior pointer, then through a start
 * pointer from a reachable block, ends reachable and is rescanned as such:
 * its start-pointer child is reachable too. */
static void test_possible_upgraded(void **state)
{
    (void)state;
    char *x = blk(64), *y = blk(64), *child = blk(32);
    roots[0] = x + 16;          /* scanned first: x possible */
    roots[1] = y;               /* y reachable, points to x's start */
    set_ptr(y, 8, x);
    set_ptr(x, 40, child);
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, 3, 0, 0, 0, 0);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)child), LM_MARK_REACHABLE);
    lm_mark_result_free(&res);
}

/* Lost tree: root definite, the four below it indirect, no cycle. */
static void test_lost_tree(void **state)
{
    (void)state;
    char *r = blk(32), *l = blk(32), *rr = blk(32), *l1 = blk(32), *l2 = blk(32);
    set_ptr(r, 0, l);
    set_ptr(r, 8, rr);
    set_ptr(l, 0, l1);
    set_ptr(l, 8, l2 + 4);      /* interior counts between leaked blocks */
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, 0, 0, 1, 4, 0);
    assert_int_equal(kind_of(&res, r), LM_LEAK_DEFINITE);
    assert_int_equal(kind_of(&res, l2), LM_LEAK_INDIRECT);
    assert_int_equal(res.definite.bytes, 32);
    assert_int_equal(res.indirect.bytes, 128);
    /* r's out-edges: +0 -> l, +8 -> rr, in offset order */
    size_t n;
    const lm_lg_edge_t *e = lm_leakgraph_out_edges(lm_mark_graph(&res),
                                                   lm_mark_find_leaked(&res, (uintptr_t)r), &n);
    assert_int_equal(n, 2);
    assert_int_equal(e[0].offset, 0);
    assert_int_equal(e[0].to, lm_mark_find_leaked(&res, (uintptr_t)l));
    assert_int_equal(e[1].offset, 8);
    assert_int_equal(e[1].to, lm_mark_find_leaked(&res, (uintptr_t)rr));
    lm_mark_result_free(&res);
}

static void test_two_cycle(void **state)
{
    (void)state;
    char *a = blk(32), *b = blk(32);
    set_ptr(a, 8, b);
    set_ptr(b, 0, a);
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, 0, 0, 2, 0, 1);
    const lm_leakgraph_t *g = lm_mark_graph(&res);
    uint32_t na = lm_mark_find_leaked(&res, (uintptr_t)a), nb = lm_mark_find_leaked(&res, (uintptr_t)b);
    assert_true(lm_leakgraph_in_cycle(g, na) && lm_leakgraph_in_cycle(g, nb));
    size_t n;
    const lm_lg_edge_t *e = lm_leakgraph_out_edges(g, na, &n);
    assert_int_equal(n, 1);
    assert_int_equal(e[0].offset, 8);
    assert_int_equal(e[0].to, nb);
    lm_mark_result_free(&res);
}

static void test_self_loop(void **state)
{
    (void)state;
    char *a = blk(40);
    set_ptr(a, 16, a + 8);
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, 0, 0, 1, 0, 1);
    assert_true(lm_leakgraph_in_cycle(lm_mark_graph(&res), 0));
    lm_mark_result_free(&res);
}

static void test_doubly_linked_list(void **state)
{
    (void)state;
    char *n[6];
    for (int i = 0; i < 6; i++)
        n[i] = blk(24);
    for (int i = 0; i < 6; i++) {
        if (i < 5) set_ptr(n[i], 0, n[i + 1]);
        if (i > 0) set_ptr(n[i], 8, n[i - 1]);
    }
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, 0, 0, 6, 0, 1);        /* one SCC of 6, a root */
    lm_mark_result_free(&res);
}

/* T -> (A <-> B): T definite, A and B indirect, 1 cycle.
 * (C <-> D) -> E: C, D definite (root cycle), E indirect. */
static void test_cycle_with_tails(void **state)
{
    (void)state;
    char *t = blk(16), *a = blk(16), *b = blk(16), *c = blk(32), *d = blk(32), *e = blk(32);
    set_ptr(t, 0, a);
    set_ptr(a, 0, b);
    set_ptr(b, 0, a);
    set_ptr(c, 0, d);
    set_ptr(d, 0, c);
    set_ptr(c, 8, e);
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, 0, 0, 3, 3, 2);
    assert_int_equal(kind_of(&res, t), LM_LEAK_DEFINITE);
    assert_int_equal(kind_of(&res, a), LM_LEAK_INDIRECT);
    assert_int_equal(kind_of(&res, b), LM_LEAK_INDIRECT);
    assert_int_equal(kind_of(&res, c), LM_LEAK_DEFINITE);
    assert_int_equal(kind_of(&res, e), LM_LEAK_INDIRECT);
    lm_mark_result_free(&res);
}

static void test_two_separate_cycles(void **state)
{
    (void)state;
    char *a = blk(16), *b = blk(16), *c = blk(64), *d = blk(64), *e = blk(64);
    set_ptr(a, 0, b);
    set_ptr(b, 0, a);
    set_ptr(c, 0, d);
    set_ptr(d, 0, e);
    set_ptr(e, 56, c);
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, 0, 0, 5, 0, 2);
    assert_int_equal(lm_leakgraph_stats(lm_mark_graph(&res))->roots, 2);
    lm_mark_result_free(&res);
}

static int by_address(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
    return x < y ? -1 : x > y;
}

/* 100,000-node singly linked lists, linked in address order: a lost one
 * (1 definite, the rest indirect) and a reachable one (deep chain:
 * explicit stack, no recursion).  Every reachable pointer leads forward,
 * so the sweep reads the chain in order and needs no stack at all: a
 * stack capped at one entry never overflows. */
static void test_long_lists(void **state)
{
    (void)state;
    enum { N = 100000 };
    bulk = malloc(2 * N * sizeof *bulk);
    assert_non_null(bulk);
    void **lost = bulk, **kept = bulk + N;
    for (int i = 0; i < 2 * N; i++) {
        bulk[i] = lm_calloc(1, 16);
        assert_non_null(bulk[i]);
        nbulk++;
    }
    qsort(kept, N, sizeof *kept, by_address);
    for (int i = 0; i + 1 < N; i++) {
        set_ptr(lost[i], 0, lost[i + 1]);
        set_ptr(kept[i], 8, kept[i + 1]);
    }
    roots[0] = kept[0];
    lm_mark_stack_limit = 1;
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, N, 0, 1, N - 1, 0);
    assert_int_equal(res.overflow_rounds, 0);
    assert_int_equal(kind_of(&res, lost[0]), LM_LEAK_DEFINITE);
    assert_int_equal(kind_of(&res, lost[N - 1]), LM_LEAK_INDIRECT);
    lm_mark_result_free(&res);
}

/* Pointers that lead backward: a binary tree whose root is the highest
 * block and whose children lie below their parent.  The sweep meets the
 * root last and everything else is marked behind it, through the stack;
 * capped at 3 entries, pushes fail and the overflow rescan must still
 * find every node. */
static void test_backward_tree(void **state)
{
    (void)state;
    enum { N = 100000 };
    bulk = malloc(N * sizeof *bulk);
    assert_non_null(bulk);
    for (int i = 0; i < N; i++) {
        bulk[i] = lm_calloc(1, 16);
        assert_non_null(bulk[i]);
        nbulk++;
    }
    qsort(bulk, N, sizeof *bulk, by_address);
    for (int j = 0; j < N; j++) {       /* node j is bulk[N - 1 - j] */
        for (int c = 0; c < 2; c++)
            if (2 * j + 1 + c < N)
                set_ptr(bulk[N - 1 - j], 8 * (size_t)c, bulk[N - 1 - (2 * j + 1 + c)]);
    }
    roots[0] = bulk[N - 1];
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, N, 0, 0, 0, 0);
    assert_int_equal(res.overflow_rounds, 0);
    lm_mark_result_free(&res);

    lm_mark_stack_limit = 3;
    run(&res, roots, sizeof roots);
    expect(&res, N, 0, 0, 0, 0);
    assert_true(res.overflow_rounds > 0);
    lm_mark_result_free(&res);
}

/* Overflow with possible/reachable upgrades: a capped stack must give the
 * same states as an unlimited one. */
static void test_overflow_same_states(void **state)
{
    (void)state;
    char *n[40];
    for (int i = 0; i < 40; i++)
        n[i] = blk(64);
    /* a tree where every node has start and interior pointers to others */
    for (int i = 0; i < 40; i++) {
        set_ptr(n[i], 0, n[(i * 7 + 3) % 40]);
        set_ptr(n[i], 8, n[(i * 5 + 1) % 40] + 8);
    }
    roots[0] = n[0] + 1;
    roots[1] = n[17];
    struct lm_mark_result ref, capped;
    run(&ref, roots, sizeof roots);
    lm_mark_stack_limit = 1;
    run(&capped, roots, sizeof roots);
    assert_true(capped.overflow_rounds > 0);
    assert_int_equal(ref.reachable.blocks, capped.reachable.blocks);
    assert_int_equal(ref.possible.blocks, capped.possible.blocks);
    assert_int_equal(ref.leaked.blocks, capped.leaked.blocks);
    assert_true(ref.reachable.blocks > 0 && ref.possible.blocks > 0);
    for (int i = 0; i < 40; i++)
        assert_int_equal(lm_mark_state_at(&ref, (uintptr_t)n[i]),
                         lm_mark_state_at(&capped, (uintptr_t)n[i]));
    lm_mark_result_free(&ref);
    lm_mark_result_free(&capped);
}

/* A 1 MiB block reachable only from inside a small block; a pointer near
 * its end (scanned: the whole requested size) keeps another block. */
static void test_large_from_small(void **state)
{
    (void)state;
    size_t big = 1u << 20;
    char *s = blk(32), *l = blk(big), *tail = blk(16), *lost_large = blk(big);
    assert_true(lm_lookup_block((uintptr_t)l, &(struct lm_block_ref){ 0 }));
    roots[3] = s;
    set_ptr(s, 8, l);
    set_ptr(l, big - 8, tail);
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, 3, 0, 1, 0, 0);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)l + big / 2), LM_MARK_REACHABLE);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)tail), LM_MARK_REACHABLE);
    assert_int_equal(kind_of(&res, lost_large), LM_LEAK_DEFINITE);
    assert_int_equal(res.definite.bytes, big);
    lm_mark_result_free(&res);
}

/* One past the end names no block: not for a small block whose class has
 * slack (24 in class 32), nor for a large block. */
static void test_one_past_end(void **state)
{
    (void)state;
    char *a = blk(24), *l = blk(300000);
    roots[0] = a + 24;
    roots[1] = l + 300000;
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, 0, 0, 2, 0, 0);
    lm_mark_result_free(&res);
    roots[0] = a + 23;          /* the last byte does count */
    roots[1] = l + 299999;
    run(&res, roots, sizeof roots);
    expect(&res, 0, 2, 0, 0, 0);
    lm_mark_result_free(&res);
}

/* Only [start, start + requested size) is scanned: a pointer stored in the
 * class slack past the requested size keeps nothing. */
static void test_slack_not_scanned(void **state)
{
    (void)state;
    char *a = blk(40), *b = blk(16);  /* 40 is in class 48 */
    roots[0] = a;
    set_ptr(a, 40, b);
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, 1, 0, 1, 0, 0);
    lm_mark_result_free(&res);
}

static void test_zero_size_block(void **state)
{
    (void)state;
    char *z = blk(0);
    roots[0] = z;
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, 1, 0, 0, 0, 0);
    lm_mark_result_free(&res);
}

static void test_unaligned(void **state)
{
    (void)state;
    static unsigned char buf[40];
    char *a = blk(32), *b = blk(32);
    memset(buf, 0, sizeof buf);
    memcpy(buf + 3, &a, sizeof a);
    set_ptr(a, 0, NULL);
    memcpy(a + 13, &b, sizeof b);       /* unaligned inside a block too */
    struct lm_mark_result res;
    run(&res, buf, sizeof buf);
    expect(&res, 0, 0, 2, 0, 0);
    lm_mark_result_free(&res);
    lm_options.scan_unaligned = true;
    run(&res, buf, sizeof buf);
    expect(&res, 2, 0, 0, 0, 0);
    lm_mark_result_free(&res);
}

/* States are per run: a second run on the same result starts clean. */
static void test_rerun_resets(void **state)
{
    (void)state;
    char *a = blk(32);
    roots[0] = a;
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, 1, 0, 0, 0, 0);
    roots[0] = NULL;
    struct lm_roots r;
    lm_roots_init(&r);
    lm_roots_add(&r, (uintptr_t)roots, (uintptr_t)roots + sizeof roots, LM_ROOT_USER);
    assert_int_equal(lm_mark_run(&r, &res), 0);
    expect(&res, 0, 0, 1, 0, 0);
    lm_roots_free(&r);
    lm_mark_result_free(&res);
}

/* leakmark's own result memory, scanned as a root, keeps nothing alive:
 * leaked blocks are stored encoded, never as addresses. */
static void test_own_memory_not_pointers(void **state)
{
    (void)state;
    char *a = blk(32), *b = blk(32);
    set_ptr(a, 0, b);
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, 0, 0, 1, 1, 0);
    struct lm_roots r;
    lm_roots_init(&r);
    uintptr_t lo = (uintptr_t)res.leaked_list.data;
    lm_roots_add(&r, lo, lo + res.leaked_list.map_bytes, LM_ROOT_USER);
    struct lm_mark_result res2;
    lm_mark_result_init(&res2);
    assert_int_equal(lm_mark_run(&r, &res2), 0);
    expect(&res2, 0, 0, 1, 1, 0);
    lm_roots_free(&r);
    lm_mark_result_free(&res2);
    lm_mark_result_free(&res);
}

/* Foreach gives every leaked block once, in node (address) order. */
static void count_cb(uint32_t node, const struct lm_block_ref *b, enum lm_leak_kind k,
                     bool cyc, void *arg)
{
    size_t *c = arg;
    assert_int_equal(node, c[0]);
    assert_true(c[1] < b->start);
    c[0]++;
    c[1] = b->start;
    c[2 + (k == LM_LEAK_INDIRECT)]++;
    c[4] += cyc;
}

static void test_foreach_leaked(void **state)
{
    (void)state;
    char *a = blk(32), *b = blk(32), *c = blk(400000), *d = blk(16);
    set_ptr(c, 0, a);
    set_ptr(a, 0, c);
    set_ptr(a, 8, b);
    roots[0] = d;
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    size_t cnt[5] = { 0 };
    lm_mark_foreach_leaked(&res, count_cb, cnt);
    assert_int_equal(cnt[0], 3);
    assert_int_equal(cnt[2], 2);        /* a, c: root cycle */
    assert_int_equal(cnt[3], 1);        /* b */
    assert_int_equal(cnt[4], 2);
    lm_mark_result_free(&res);
}

/* ---- the mark against a reference model ----
 * A random heap of small, 64 KiB-class and large (multi-unit) blocks,
 * some of size 0, whose words are start pointers, interior pointers,
 * one-past-the-end pointers, pointers into class slack, or plain numbers.
 * The reference is the report contract applied naively: repeat until
 * nothing changes, scanning the roots and every marked block word by word
 * and resolving each word with lm_lookup_block.  Every block's state and
 * every count must agree with the mark's (which resolves words through its
 * own view of the heap, in batches, with a bounded pipeline). */
enum { RN = 3000 };
static uintptr_t rstart[RN];            /* sorted block starts */
static size_t rsize[RN];
static unsigned rstate[RN];

static uint64_t rng_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static int cmp_uintptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return (x > y) - (x < y);
}

static size_t ref_find(uintptr_t start)
{
    size_t lo = 0, hi = RN;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (rstart[mid] < start)
            lo = mid + 1;
        else
            hi = mid;
    }
    assert_true(lo < RN && rstart[lo] == start);
    return lo;
}

static bool ref_apply(const uintptr_t *w, size_t words, unsigned from)
{
    bool changed = false;
    for (size_t i = 0; i < words; i++) {
        struct lm_block_ref b;
        if (!lm_lookup_block(w[i], &b))
            continue;
        size_t k = ref_find(b.start);
        unsigned want = from == LM_MARK_REACHABLE && w[i] == b.start ? LM_MARK_REACHABLE
                                                                      : LM_MARK_POSSIBLE;
        if (rstate[k] < want) {
            rstate[k] = want;
            changed = true;
        }
    }
    return changed;
}

static void ref_mark(const uintptr_t *root, size_t words)
{
    memset(rstate, 0, sizeof rstate);
    bool changed = true;
    while (changed) {
        changed = ref_apply(root, words, LM_MARK_REACHABLE);
        for (size_t k = 0; k < RN; k++)
            if (rstate[k])
                changed |= ref_apply((const uintptr_t *)rstart[k], rsize[k] / 8, rstate[k]);
    }
}

/* A word for the random heap: mostly numbers, else a pointer of some
 * kind to a random block. */
static uintptr_t random_word(uint64_t *x, void *const *blocksv)
{
    uint64_t r = rng_next(x);
    size_t t = (size_t)(r >> 32) % RN;
    uintptr_t start = (uintptr_t)blocksv[t];
    size_t size = lm_usable_size(blocksv[t]);
    unsigned kind = (unsigned)(r % 1024);
    if (kind < 20)
        return start;                                           /* start */
    if (kind < 30)
        return start + (size > 1 ? (r >> 8) % (size - 1) + 1 : 0);  /* interior */
    if (kind < 34)
        return start + size;                                    /* one past, or slack */
    return (uintptr_t)(r & 0xfffff);                            /* a number */
}

static void build_random_heap(uint64_t seed, void **blocksv)
{
    static const size_t sizes[] = { 0, 8, 16, 24, 40, 64, 100, 256, 1000, 4000, 65536, 70000, 300000 };
    uint64_t x = seed;
    for (size_t i = 0; i < RN; i++) {
        uint64_t r = rng_next(&x);
        size_t s = sizes[r % 10];               /* mostly small */
        if (i % 400 == 7)
            s = sizes[10 + (r >> 8) % 3];       /* a few of 64 KiB and large */
        blocksv[i] = lm_calloc(1, s);
        assert_non_null(blocksv[i]);
        bulk[nbulk++] = blocksv[i];
    }
    for (size_t i = 0; i < RN; i++) {
        /* requested size, and the class slack after it, both random */
        size_t req = lm_usable_size(blocksv[i]);
        struct lm_block_ref b;
        assert_true(lm_lookup_block((uintptr_t)blocksv[i], &b));
        uintptr_t *w = blocksv[i];
        for (size_t j = 0; j < b.size / 8 && j < 512; j++)   /* large: the head only */
            w[j] = random_word(&x, blocksv);
        for (size_t j = b.size / 8; j < req / 8; j++)
            w[j] = (uintptr_t)blocksv[(j * 31 + i) % RN];       /* slack: never scanned */
        rstart[i] = b.start;
    }
    qsort(rstart, RN, sizeof rstart[0], cmp_uintptr);
    for (size_t k = 0; k < RN; k++) {
        struct lm_block_ref b;
        assert_true(lm_lookup_block(rstart[k], &b));
        rsize[k] = b.size;
    }
}

static void check_against_reference(const struct lm_mark_result *res)
{
    size_t n[4] = { 0 }, bytes[4] = { 0 };
    for (size_t k = 0; k < RN; k++) {
        unsigned want = rstate[k] ? rstate[k] : LM_MARK_LEAKED;
        assert_int_equal(lm_mark_state_at(res, rstart[k]), want);
        n[want]++;
        bytes[want] += rsize[k];
    }
    assert_int_equal(res->live.blocks, RN);
    assert_int_equal(res->reachable.blocks, n[LM_MARK_REACHABLE]);
    assert_int_equal(res->possible.blocks, n[LM_MARK_POSSIBLE]);
    assert_int_equal(res->leaked.blocks, n[LM_MARK_LEAKED]);
    assert_int_equal(res->reachable.bytes, bytes[LM_MARK_REACHABLE]);
    assert_int_equal(res->possible.bytes, bytes[LM_MARK_POSSIBLE]);
    assert_int_equal(res->leaked.bytes, bytes[LM_MARK_LEAKED]);
    assert_int_equal(lm_mark_leaked_count(res), n[LM_MARK_LEAKED]);
    printf("[ random   ] reachable %zu, possible %zu, leaked %zu\n", n[2], n[1], n[3]);
    /* all three states occur, or the comparison proves little */
    assert_true(n[LM_MARK_REACHABLE] > 10 && n[LM_MARK_POSSIBLE] > 10 && n[LM_MARK_LEAKED] > 10);
}

static void test_random_heap_matches_reference(void **state)
{
    (void)state;
    bulk = malloc(RN * sizeof *bulk);
    assert_non_null(bulk);
    void **blocksv = malloc(RN * sizeof *blocksv);
    assert_non_null(blocksv);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        build_random_heap(seed * 0x9e3779b97f4a7c15ull, blocksv);
        /* roots: 150 words, 15 start pointers and 15 pointers near a start
         * (interior, one past a block of size 0, or the next block's start)
         * among numbers */
        static uintptr_t root[150];
        uint64_t x = seed + 77;
        for (size_t i = 0; i < LM_ARRAY_LEN(root); i++)
            root[i] = i % 10 == 0 ? (uintptr_t)blocksv[rng_next(&x) % RN]
                    : i % 10 == 5 ? (uintptr_t)blocksv[rng_next(&x) % RN] + 1 + rng_next(&x) % 8
                    : (uintptr_t)i;
        ref_mark(root, LM_ARRAY_LEN(root));
        struct lm_mark_result res;
        run(&res, root, sizeof root);
        check_against_reference(&res);
        lm_mark_result_free(&res);
        /* the same through the overflow rescan */
        lm_mark_stack_limit = 2;
        run(&res, root, sizeof root);
        assert_true(res.overflow_rounds > 0);
        check_against_reference(&res);
        lm_mark_result_free(&res);
        lm_mark_stack_limit = 0;
        for (size_t i = 0; i < nbulk; i++)
            lm_free(bulk[i]);
        nbulk = 0;
    }
    free(blocksv);
}

/* lm_mark_foreach_possible gives exactly the possible blocks, in address
 * order, and a callback may reclassify the block it is given. */
struct possible_seen {
    uintptr_t last;
    size_t count;
    struct lm_mark_result *res;
    bool promote;
};

static void possible_cb(const struct lm_block_ref *b, void *arg)
{
    struct possible_seen *s = arg;
    assert_true(b->start > s->last);
    assert_int_equal(lm_mark_block_state(s->res, b), LM_MARK_POSSIBLE);
    s->last = b->start;
    s->count++;
    if (s->promote)
        assert_true(lm_mark_possible_to_reachable(s->res, b));
}

static void test_foreach_possible(void **state)
{
    (void)state;
    char *p1 = blk(40), *r = blk(40), *p2 = blk(1000), *lost = blk(24), *pl = blk(300000);
    roots[0] = r;
    roots[1] = p1 + 4;
    set_ptr(r, 0, p2 + 999);
    set_ptr(r, 8, pl + 270000);        /* interior, in the large block's second unit */
    (void)lost;
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, 1, 3, 1, 0, 0);
    struct possible_seen s = { 0, 0, &res, false };
    lm_mark_foreach_possible(&res, possible_cb, &s);
    assert_int_equal(s.count, 3);
    s = (struct possible_seen){ 0, 0, &res, true };
    lm_mark_foreach_possible(&res, possible_cb, &s);
    assert_int_equal(s.count, 3);
    assert_int_equal(res.possible.blocks, 0);
    assert_int_equal(res.reachable.blocks, 4);
    assert_int_equal(res.reachable.bytes, 40 + 40 + 1000 + 300000);
    s = (struct possible_seen){ 0, 0, &res, false };
    lm_mark_foreach_possible(&res, possible_cb, &s);
    assert_int_equal(s.count, 0);
    lm_mark_result_free(&res);
}

/* A 65536-byte request, the top small class, records its size as 0
 * (block.h): it is still scanned to its last word, and an interior
 * pointer to its last byte still names it. */
static void test_top_class_full_size(void **state)
{
    (void)state;
    char *top = blk(65536), *tail = blk(32), *via_end = blk(65536);
    roots[0] = top;
    roots[1] = via_end + 65535;
    set_ptr(top, 65536 - 8, tail);
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, 2, 1, 0, 0, 0);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)tail), LM_MARK_REACHABLE);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)via_end), LM_MARK_POSSIBLE);
    assert_int_equal(res.reachable.bytes, 65536 + 32);
    lm_mark_result_free(&res);
}

/* The run's view is of the heap as it was: a freed block named by a root
 * keeps nothing and is not counted, and a block allocated after the run
 * (even in a new arena of its own class) reads as unvisited. */
static void test_view_is_a_snapshot(void **state)
{
    (void)state;
    char *kept = blk(48), *gone = lm_malloc(48);
    assert_non_null(gone);
    roots[0] = kept;
    roots[1] = gone;
    lm_free(gone);
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, 1, 0, 0, 0, 0);
    char *later = blk(48), *other_class = blk(5000), *large = blk(200000);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)later), LM_MARK_UNVISITED);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)other_class), LM_MARK_UNVISITED);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)large), LM_MARK_UNVISITED);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)kept), LM_MARK_REACHABLE);
    lm_mark_result_free(&res);
}

static double secs(uint64_t ns) { return (double)ns / 1e9; }

/* Speed on a synthetic heap: 1M small blocks in a reachable chain (cost per
 * block) and 256 MiB of pointer-free data in large blocks (cost per GiB);
 * then the same 1M chain lost (collection + graph per million leaked). */
static void test_speed(void **state)
{
    (void)state;
    enum { N = 1000000 };
    bulk = malloc((N + 16) * sizeof *bulk);
    assert_non_null(bulk);
    void **v = bulk;
    for (int i = 0; i < N; i++) {
        v[i] = lm_malloc(32);
        assert_non_null(v[i]);
        nbulk++;
        memset(v[i], 0x11, 32);
    }
    for (int i = 0; i + 1 < N; i++)
        set_ptr(v[i], 0, v[i + 1]);
    roots[0] = v[0];
    struct lm_mark_result res;
    run(&res, roots, sizeof roots);
    expect(&res, N, 0, 0, 0, 0);
    double t_blocks = secs(res.mark_ns + res.leak_ns);
    lm_mark_result_free(&res);

    roots[0] = NULL;
    run(&res, roots, sizeof roots);
    expect(&res, 0, 0, 1, N - 1, 0);
    double t_leaked = secs(res.mark_ns + res.leak_ns);
    lm_mark_result_free(&res);

    enum { CH = 16, CHSZ = 16 << 20 };
    void *big[CH];
    for (int i = 0; i < CH; i++) {
        big[i] = bulk[nbulk++] = lm_malloc(CHSZ);
        assert_non_null(big[i]);
        uint64_t *w = big[i];
        for (size_t j = 0; j < CHSZ / 8; j++)
            w[j] = j * 0x9e3779b97f4a7c15ull | 1;   /* odd, high: no pointers */
    }
    struct lm_roots r;
    lm_roots_init(&r);
    lm_roots_add(&r, (uintptr_t)big, (uintptr_t)big + sizeof big, LM_ROOT_USER);
    lm_mark_result_init(&res);
    assert_int_equal(lm_mark_run(&r, &res), 0);
    expect(&res, CH, 0, 1, N - 1, 0);
    assert_true(res.block_bytes >= (size_t)CH * CHSZ);
    double gib = (double)res.block_bytes / (double)(1u << 30);
    double t_bytes = secs(res.mark_ns);
    lm_mark_result_free(&res);
    lm_roots_free(&r);

    printf("[ speed    ] reachable: %.3f s per million blocks; lost: %.3f s per million leaked "
           "blocks (with graph); scan: %.3f s per GiB (%.2f GiB)\n",
           t_blocks * 1e6 / N, t_leaked * 1e6 / N, t_bytes / gib, gib);
    /* generous bounds (10x the targets 0.05 s/M blocks, 0.3 s/GiB): only
     * gross regressions fail */
    assert_true(t_blocks * 1e6 / N < 0.5);
    assert_true(t_bytes / gib < 3.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_basic_states, teardown_each),
        cmocka_unit_test_teardown(test_possible_upgraded, teardown_each),
        cmocka_unit_test_teardown(test_lost_tree, teardown_each),
        cmocka_unit_test_teardown(test_two_cycle, teardown_each),
        cmocka_unit_test_teardown(test_self_loop, teardown_each),
        cmocka_unit_test_teardown(test_doubly_linked_list, teardown_each),
        cmocka_unit_test_teardown(test_cycle_with_tails, teardown_each),
        cmocka_unit_test_teardown(test_two_separate_cycles, teardown_each),
        cmocka_unit_test_teardown(test_long_lists, teardown_each),
        cmocka_unit_test_teardown(test_backward_tree, teardown_each),
        cmocka_unit_test_teardown(test_overflow_same_states, teardown_each),
        cmocka_unit_test_teardown(test_large_from_small, teardown_each),
        cmocka_unit_test_teardown(test_one_past_end, teardown_each),
        cmocka_unit_test_teardown(test_slack_not_scanned, teardown_each),
        cmocka_unit_test_teardown(test_zero_size_block, teardown_each),
        cmocka_unit_test_teardown(test_unaligned, teardown_each),
        cmocka_unit_test_teardown(test_rerun_resets, teardown_each),
        cmocka_unit_test_teardown(test_own_memory_not_pointers, teardown_each),
        cmocka_unit_test_teardown(test_foreach_leaked, teardown_each),
        cmocka_unit_test_teardown(test_random_heap_matches_reference, teardown_each),
        cmocka_unit_test_teardown(test_foreach_possible, teardown_each),
        cmocka_unit_test_teardown(test_top_class_full_size, teardown_each),
        cmocka_unit_test_teardown(test_view_is_a_snapshot, teardown_each),
        cmocka_unit_test_teardown(test_speed, teardown_each),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
