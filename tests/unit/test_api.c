/*
 * test_api.c - the registry behind the public API (preload/api.h) and what
 * the mark makes of it, on heaps built with lm_malloc (the lm_* heap holds
 * only this file's blocks, so counts are exact):
 *   - root regions: register, duplicates, unregister one, unknown ones
 *     (ENOENT + one log line), bad ranges, the table's limit and slot
 *     reuse, a half-written slot skipped by readers and freed in a fork
 *     child, concurrent register/unregister from several threads;
 *   - a registered region is a root of lm_roots_collect (and stops being
 *     one when unregistered);
 *   - flagged blocks: not-leak makes a list reachable, ignore keeps its
 *     target leaked (also through the mark's overflow rescan), interior
 *     pointers, large blocks, a freed and reused block loses its flag,
 *     bad pointers (EINVAL + exactly one log line), the index sweep and
 *     the switch to walking the heap when it overflows;
 *   - the tables never keep a block alive although, in this executable,
 *     lm_core's globals are scanned as roots.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc.h"
#include "api.h"
#include "block.h"
#include "log.h"
#include "mark.h"
#include "os.h"

static int setup(void **state)
{
    (void)state;
    return lm_init() ? 0 : -1;
}

static int reset_each(void **state)
{
    (void)state;
    lm_api_reset_for_tests();
    lm_mark_stack_limit = 0;
    return 0;
}

/* ---- helpers ---- */

struct seen_regions {
    uintptr_t lo[8], hi[8];
    unsigned n;
};

static void region_cb(uintptr_t lo, uintptr_t hi, void *arg)
{
    struct seen_regions *s = arg;
    if (s->n < 8) {
        s->lo[s->n] = lo;
        s->hi[s->n] = hi;
    }
    s->n++;
}

static struct lm_api_stats stats(void)
{
    struct lm_api_stats st;
    lm_api_stats(&st);
    return st;
}

/* Runs f with leakmark's log going to a pipe; returns the lines logged. */
static int log_lines_of(void (*f)(void *), void *arg)
{
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK), 0);
    int old = lm_log_fd();
    lm_log_set_fd(p[1]);
    f(arg);
    lm_log_set_fd(old);
    char buf[4096];
    ssize_t n = read(p[0], buf, sizeof buf);
    close(p[0]);
    close(p[1]);
    int lines = 0;
    for (ssize_t i = 0; i < n; i++)
        lines += buf[i] == '\n';
    return lines;
}

/* A mark whose only roots are [lo, lo + bytes) (nothing at all when
 * bytes == 0). */
static void mark_with(struct lm_mark_result *res, const void *lo, size_t bytes)
{
    struct lm_roots r;
    lm_roots_init(&r);
    if (bytes)
        assert_int_equal(lm_roots_add(&r, (uintptr_t)lo, (uintptr_t)lo + bytes, LM_ROOT_USER), 0);
    lm_mark_result_init(res);
    assert_int_equal(lm_mark_run(&r, res), 0);
    assert_true(res->graph_ok);
    lm_roots_free(&r);
}

static void expect_counts(const struct lm_mark_result *res, size_t reach, size_t leaked)
{
    assert_int_equal(res->live.blocks, reach + res->possible.blocks + leaked);
    assert_int_equal(res->possible.blocks, 0);
    assert_int_equal(res->reachable.blocks, reach);
    assert_int_equal(res->leaked.blocks, leaked);
    assert_int_equal(res->definite.blocks + res->indirect.blocks, leaked);
}

static void set_ptr(void *blockp, size_t offset, const void *target)
{
    memcpy((char *)blockp + offset, &target, sizeof target);
}

static void *zblock(size_t n)
{
    void *p = lm_calloc(1, n);
    assert_non_null(p);
    return p;
}

/* ---- root regions ---- */

static char region_a[256], region_b[64];

static void test_region_register_unregister(void **state)
{
    (void)state;
    assert_false(lm_api_regions_used());
    assert_int_equal(lm_api_register_region(region_a, sizeof region_a, NULL), 0);
    assert_int_equal(lm_api_register_region(region_b, 16, NULL), 0);
    assert_int_equal(lm_api_register_region(region_b, 16, NULL), 0);   /* twice */
    assert_true(lm_api_regions_used());
    assert_int_equal(stats().regions, 3);

    struct seen_regions s = { .n = 0 };
    lm_api_foreach_region(region_cb, &s);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.lo[0], (uintptr_t)region_a);
    assert_int_equal(s.hi[0], (uintptr_t)region_a + sizeof region_a);
    assert_int_equal(s.lo[1], (uintptr_t)region_b);
    assert_int_equal(s.hi[1], (uintptr_t)region_b + 16);

    /* exactly (addr, len): another length is another region */
    int old = lm_log_fd(), null = open("/dev/null", O_WRONLY);
    lm_log_set_fd(null);
    assert_int_equal(lm_api_unregister_region(region_b, 17, NULL), ENOENT);
    assert_int_equal(lm_api_unregister_region(region_b, 16, NULL), 0);
    assert_int_equal(stats().regions, 2);
    assert_int_equal(lm_api_unregister_region(region_b, 16, NULL), 0);
    assert_int_equal(lm_api_unregister_region(region_b, 16, NULL), ENOENT);
    lm_log_set_fd(old);
    close(null);
    assert_int_equal(lm_api_unregister_region(region_a, sizeof region_a, NULL), 0);
    assert_int_equal(stats().regions, 0);
    s.n = 0;
    lm_api_foreach_region(region_cb, &s);
    assert_int_equal(s.n, 0);
}

static void call_unregister_unknown(void *arg)
{
    (void)arg;
    assert_int_equal(lm_api_unregister_region(region_a, 8, NULL), ENOENT);
}

static void call_register_bad(void *arg)
{
    int which = *(int *)arg;
    void *heap = NULL;
    switch (which) {
    case 0:
        assert_int_equal(lm_api_register_region(region_a, 0, NULL), EINVAL);
        break;
    case 1:
        assert_int_equal(lm_api_register_region((void *)(UINTPTR_MAX - 8), 64, NULL), EINVAL);
        break;
    default:
        heap = lm_malloc(100);
        assert_int_equal(lm_api_register_region(heap, 100, NULL), EINVAL);
        lm_free(heap);
        break;
    }
}

/* Each bad call: its errno, one log line, nothing registered. */
static void test_region_bad_calls_warn_once(void **state)
{
    (void)state;
    assert_int_equal(log_lines_of(call_unregister_unknown, NULL), 1);
    for (int which = 0; which < 3; which++)
        assert_int_equal(log_lines_of(call_register_bad, &which), 1);
    assert_int_equal(stats().regions, 0);
    assert_int_equal(stats().busy, 0);
}

/* The table holds LM_API_REGION_SLOTS regions; a freed slot is reused. */
static void test_region_table_full(void **state)
{
    (void)state;
    static char many[LM_API_REGION_SLOTS + 1];
    for (unsigned i = 0; i < LM_API_REGION_SLOTS; i++)
        assert_int_equal(lm_api_register_region(&many[i], 1, NULL), 0);
    int old = lm_log_fd(), null = open("/dev/null", O_WRONLY);
    lm_log_set_fd(null);
    assert_int_equal(lm_api_register_region(&many[LM_API_REGION_SLOTS], 1, NULL), ENOSPC);
    lm_log_set_fd(old);
    close(null);
    assert_int_equal(lm_api_unregister_region(&many[100], 1, NULL), 0);
    assert_int_equal(lm_api_register_region(&many[LM_API_REGION_SLOTS], 1, NULL), 0);
    assert_int_equal(stats().regions, LM_API_REGION_SLOTS);
    for (unsigned i = 0; i <= LM_API_REGION_SLOTS; i++)
        if (i != 100)
            assert_int_equal(lm_api_unregister_region(&many[i], 1, NULL), 0);
    assert_int_equal(stats().regions, 0);
}

/* A thread stopped between claiming a slot and publishing it leaves a
 * BUSY slot: readers skip it, unregister does not match it, a fork child
 * (where that thread does not exist) frees it for reuse. */
static void test_half_written_slot(void **state)
{
    (void)state;
    lm_api_test_half_register(region_a, sizeof region_a);
    assert_int_equal(lm_api_register_region(region_b, sizeof region_b, NULL), 0);
    assert_int_equal(stats().busy, 1);
    struct seen_regions s = { .n = 0 };
    lm_api_foreach_region(region_cb, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.lo[0], (uintptr_t)region_b);
    int old = lm_log_fd(), null = open("/dev/null", O_WRONLY);
    lm_log_set_fd(null);
    assert_int_equal(lm_api_unregister_region(region_a, sizeof region_a, NULL), ENOENT);
    lm_log_set_fd(old);
    close(null);
    lm_api_atfork_child();
    assert_int_equal(stats().busy, 0);
    assert_int_equal(stats().regions, 1);
    assert_int_equal(lm_api_unregister_region(region_b, sizeof region_b, NULL), 0);
}

#define RACE_THREADS 4
#define RACE_ROUNDS 20000
static char race_regions[RACE_THREADS][8];

static void *race_thread(void *arg)
{
    char *mine = arg;
    for (int i = 0; i < RACE_ROUNDS; i++) {
        size_t len = 1 + (size_t)(i % 8);
        if (lm_api_register_region(mine, len, NULL) != 0 ||
            lm_api_unregister_region(mine, len, NULL) != 0)
            return (void *)1;
    }
    return NULL;
}

/* Threads registering and unregistering their own regions at once never
 * lose or steal each other's slots. */
static void test_region_concurrent(void **state)
{
    (void)state;
    pthread_t t[RACE_THREADS];
    for (int i = 0; i < RACE_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, race_thread, race_regions[i]), 0);
    for (int i = 0; i < RACE_THREADS; i++) {
        void *ret;
        assert_int_equal(pthread_join(t[i], &ret), 0);
        assert_null(ret);
    }
    struct lm_api_stats st = stats();
    assert_int_equal(st.regions, 0);
    assert_int_equal(st.busy, 0);
}

/* A block whose only pointer is in a registered region is reachable
 * through lm_roots_collect_user, and leaked once the region is gone. */
static void test_region_is_a_root(void **state)
{
    (void)state;
    void *b = zblock(48);
    memcpy(region_a + 8, &b, sizeof b);
    struct lm_roots r;
    struct lm_mark_result res;

    assert_int_equal(lm_api_register_region(region_a, sizeof region_a, NULL), 0);
    lm_roots_init(&r);
    assert_int_equal(lm_roots_collect_user(&r), 0);
    assert_int_equal(r.count[LM_ROOT_USER], 1);
    assert_int_equal(r.bytes[LM_ROOT_USER], sizeof region_a);
    lm_mark_result_init(&res);
    assert_int_equal(lm_mark_run(&r, &res), 0);
    expect_counts(&res, 1, 0);
    lm_mark_result_free(&res);
    lm_roots_free(&r);

    assert_int_equal(lm_api_unregister_region(region_a, sizeof region_a, NULL), 0);
    lm_roots_init(&r);
    assert_int_equal(lm_roots_collect_user(&r), 0);
    assert_int_equal(r.count[LM_ROOT_USER], 0);
    lm_mark_result_init(&res);
    assert_int_equal(lm_mark_run(&r, &res), 0);
    expect_counts(&res, 0, 1);
    lm_mark_result_free(&res);
    lm_roots_free(&r);
    memset(region_a, 0, sizeof region_a);
    lm_free(b);
}

/* Only the readable part of a region is a root: a page of it made
 * inaccessible is clipped out, never read. */
static void test_region_clipped_to_mappings(void **state)
{
    (void)state;
    void *pages;
    assert_int_equal(lm_os_map(3 * LM_PAGE_SIZE, &pages), 0);
    char *p = pages;
    assert_int_equal(mprotect(p + LM_PAGE_SIZE, LM_PAGE_SIZE, PROT_NONE), 0);
    assert_int_equal(lm_api_register_region(p, 3 * LM_PAGE_SIZE, NULL), 0);
    struct lm_roots r;
    lm_roots_init(&r);
    assert_int_equal(lm_roots_collect_user(&r), 0);
    assert_int_equal(r.count[LM_ROOT_USER], 2);
    assert_int_equal(r.bytes[LM_ROOT_USER], 2 * LM_PAGE_SIZE);
    assert_int_equal(lm_roots_at(&r, 0)->lo, (uintptr_t)p);
    assert_int_equal(lm_roots_at(&r, 1)->lo, (uintptr_t)p + 2 * LM_PAGE_SIZE);
    lm_roots_free(&r);
    lm_os_unmap(p, 3 * LM_PAGE_SIZE);
}

/* ---- flagged blocks ---- */

/* not-leak: the block and the list it holds are reachable. */
static void test_not_leak_keeps_list(void **state)
{
    (void)state;
    void *head = zblock(64), *n1 = zblock(32), *n2 = zblock(32), *other = zblock(40);
    set_ptr(head, 0, n1);
    set_ptr(n1, 0, n2);
    assert_int_equal(lm_api_flag_block(head, LM_BLOCK_F_NOT_LEAK, "t", NULL), 0);
    assert_true(lm_api_blocks_used());
    assert_false(lm_api_ignore_used());
    struct lm_mark_result res;
    mark_with(&res, NULL, 0);
    expect_counts(&res, 3, 1);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)n2), LM_MARK_REACHABLE);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)other), LM_MARK_LEAKED);
    lm_mark_result_free(&res);
    lm_free(head);
    lm_free(n1);
    lm_free(n2);
    lm_free(other);
}

/* ignore: the block is reachable, what only it points to is leaked, also
 * when the mark stack overflows and every reachable block is rescanned. */
static void test_ignore_not_scanned(void **state)
{
    (void)state;
    void *ign = zblock(64), *target = zblock(24);
    void *chain[30];                 /* chain[0] points to all the others */
    chain[0] = zblock(29 * sizeof(void *));
    for (int i = 1; i < 30; i++) {
        chain[i] = zblock(32);
        set_ptr(chain[0], (size_t)(i - 1) * sizeof(void *), chain[i]);
    }
    set_ptr(ign, 8, target);
    assert_int_equal(lm_api_flag_block((char *)ign + 20, LM_BLOCK_F_IGNORE, "t", NULL), 0);
    assert_true(lm_api_ignore_used());
    void *roots[2] = { ign, chain[0] };      /* a root points to it, too */
    for (size_t limit = 0; limit <= 1; limit++) {
        lm_mark_stack_limit = limit;
        struct lm_mark_result res;
        mark_with(&res, roots, sizeof roots);
        if (limit)
            assert_true(res.overflow_rounds > 0);
        expect_counts(&res, 31, 1);
        assert_int_equal(lm_mark_state_at(&res, (uintptr_t)ign), LM_MARK_REACHABLE);
        assert_int_equal(lm_mark_state_at(&res, (uintptr_t)target), LM_MARK_LEAKED);
        lm_mark_result_free(&res);
    }
    lm_mark_stack_limit = 0;
    lm_free(ign);
    lm_free(target);
    for (int i = 0; i < 30; i++)
        lm_free(chain[i]);
}

/* The last call wins: ignore after not-leak stops the scan of the block. */
static void test_last_flag_wins(void **state)
{
    (void)state;
    void *a = zblock(32), *b = zblock(32);
    set_ptr(a, 0, b);
    assert_int_equal(lm_api_flag_block(a, LM_BLOCK_F_NOT_LEAK, "t", NULL), 0);
    assert_int_equal(lm_api_flag_block(a, LM_BLOCK_F_IGNORE, "t", NULL), 0);
    assert_int_equal(stats().blocks, 1);                 /* one index entry */
    struct lm_mark_result res;
    mark_with(&res, NULL, 0);
    expect_counts(&res, 1, 1);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)b), LM_MARK_LEAKED);
    lm_mark_result_free(&res);
    lm_free(a);
    lm_free(b);
}

/* A freed block's address handed out again: the new block has no flag,
 * and its stale index entry keeps nothing alive (the tables sit in this
 * executable's globals, which lm_roots_collect_globals scans here). */
static void test_reuse_loses_flag(void **state)
{
    (void)state;
    void *x = zblock(272);
    uintptr_t xa = (uintptr_t)x;
    assert_int_equal(lm_api_flag_block(x, LM_BLOCK_F_NOT_LEAK, "t", NULL), 0);
    lm_free(x);
    /* allocate until the allocator hands the address out again */
    void **other = malloc(20000 * sizeof *other);
    assert_non_null(other);
    size_t n = 0;
    void *y = NULL;
    while (n < 20000 && (y = lm_malloc(272)) != (void *)xa)
        other[n++] = y;
    for (size_t i = 0; i < n; i++)
        lm_free(other[i]);
    free(other);
    assert_int_equal((uintptr_t)y, xa);
    struct lm_block_ref b;
    assert_true(lm_lookup_block(xa, &b));
    assert_int_equal(lm_api_block_flags(&b), LM_BLOCK_F_NONE);
    memset(y, 0x5a, 272);
    y = NULL;
    struct lm_roots r;
    lm_roots_init(&r);
    assert_int_equal(lm_roots_collect_globals(&r), 0);
    struct lm_mark_result res;
    lm_mark_result_init(&res);
    assert_int_equal(lm_mark_run(&r, &res), 0);
    assert_int_equal(lm_mark_state_at(&res, xa), LM_MARK_LEAKED);
    lm_mark_result_free(&res);
    lm_roots_free(&r);
    lm_free((void *)xa);
}

/* Large blocks keep the flag in their unit record; reuse clears it. */
static void test_large_block(void **state)
{
    (void)state;
    size_t big = 3u << 20;
    void *l = zblock(big), *small = zblock(16);
    set_ptr(l, big - 8, small);                          /* scanned to its end */
    assert_int_equal(lm_api_flag_block((char *)l + 100000, LM_BLOCK_F_NOT_LEAK, "t", NULL), 0);
    struct lm_mark_result res;
    mark_with(&res, NULL, 0);
    expect_counts(&res, 2, 0);
    lm_mark_result_free(&res);
    uintptr_t la = (uintptr_t)l;
    lm_free(l);
    void *again = lm_malloc(big);
    assert_int_equal((uintptr_t)again, la);             /* the cached span */
    struct lm_block_ref b;
    assert_true(lm_lookup_block(la, &b) && b.large);
    assert_int_equal(lm_api_block_flags(&b), LM_BLOCK_F_NONE);
    mark_with(&res, NULL, 0);
    expect_counts(&res, 0, 2);
    lm_mark_result_free(&res);
    lm_free(again);
    lm_free(small);
}

struct bad_call {
    const void *p;
    int want;
};

static void call_flag(void *arg)
{
    struct bad_call *c = arg;
    assert_int_equal(lm_api_flag_block(c->p, LM_BLOCK_F_NOT_LEAK, "lm_not_leak", NULL), c->want);
}

/* A pointer that is no live block: EINVAL and one log line; NULL: 0 and
 * nothing. */
static void test_bad_pointers(void **state)
{
    (void)state;
    int local;
    void *freed = lm_malloc(48);
    lm_free(freed);
    struct bad_call stack_ptr = { &local, EINVAL }, freed_ptr = { freed, EINVAL }, null_ptr = { NULL, 0 };
    assert_int_equal(log_lines_of(call_flag, &stack_ptr), 1);
    assert_int_equal(log_lines_of(call_flag, &freed_ptr), 1);
    assert_int_equal(log_lines_of(call_flag, &null_ptr), 0);
    assert_false(lm_api_blocks_used());
    assert_int_equal(stats().blocks, 0);
}

#define MANY (LM_API_BLOCK_SLOTS + 1000)

/* Index full of freed blocks: the sweep makes room, no walk. */
static void test_index_sweep(void **state)
{
    (void)state;
    void **v = malloc(LM_API_BLOCK_SLOTS * sizeof *v);
    assert_non_null(v);
    for (unsigned i = 0; i < LM_API_BLOCK_SLOTS; i++) {
        v[i] = lm_malloc(16);
        assert_int_equal(lm_api_flag_block(v[i], LM_BLOCK_F_IGNORE, "t", NULL), 0);
    }
    assert_int_equal(stats().blocks, LM_API_BLOCK_SLOTS);
    for (unsigned i = 0; i < LM_API_BLOCK_SLOTS; i++)
        lm_free(v[i]);
    void *one = lm_malloc(16);
    assert_int_equal(lm_api_flag_block(one, LM_BLOCK_F_IGNORE, "t", NULL), 0);
    struct lm_api_stats st = stats();
    assert_int_equal(st.sweeps, 1);
    assert_false(st.walk);
    assert_int_equal(st.blocks, 1);
    struct lm_mark_result res;
    mark_with(&res, NULL, 0);
    expect_counts(&res, 1, 0);
    lm_mark_result_free(&res);
    lm_free(one);
    free(v);
}

/* More live flagged blocks than slots: the index gives up, the mark walks
 * the heap, every flag still counts. */
static void test_index_overflow_walks(void **state)
{
    (void)state;
    void **v = malloc(MANY * sizeof *v);
    assert_non_null(v);
    for (unsigned i = 0; i < MANY; i++) {
        v[i] = lm_malloc(16);
        assert_int_equal(lm_api_flag_block(v[i], LM_BLOCK_F_NOT_LEAK, "t", NULL), 0);
    }
    void *unflagged = zblock(16);
    struct lm_api_stats st = stats();
    assert_true(st.walk);
    assert_int_equal(st.sweeps, 1);
    struct lm_mark_result res;
    mark_with(&res, NULL, 0);
    expect_counts(&res, MANY, 1);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)unflagged), LM_MARK_LEAKED);
    lm_mark_result_free(&res);
    for (unsigned i = 0; i < MANY; i++)
        lm_free(v[i]);
    lm_free(unflagged);
    free(v);
}

/* Without any API call the mark finds nothing flagged and pays nothing. */
static void test_unused_api_costs_nothing(void **state)
{
    (void)state;
    assert_false(lm_api_blocks_used());
    assert_false(lm_api_regions_used());
    void *a = zblock(32);
    struct lm_mark_result res;
    mark_with(&res, NULL, 0);
    expect_counts(&res, 0, 1);
    lm_mark_result_free(&res);
    struct lm_roots r;
    lm_roots_init(&r);
    assert_int_equal(lm_roots_collect_user(&r), 0);
    assert_int_equal(lm_roots_len(&r), 0);
    lm_roots_free(&r);
    lm_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_unused_api_costs_nothing, reset_each),
        cmocka_unit_test_setup(test_region_register_unregister, reset_each),
        cmocka_unit_test_setup(test_region_bad_calls_warn_once, reset_each),
        cmocka_unit_test_setup(test_region_table_full, reset_each),
        cmocka_unit_test_setup(test_half_written_slot, reset_each),
        cmocka_unit_test_setup(test_region_concurrent, reset_each),
        cmocka_unit_test_setup(test_region_is_a_root, reset_each),
        cmocka_unit_test_setup(test_region_clipped_to_mappings, reset_each),
        cmocka_unit_test_setup(test_not_leak_keeps_list, reset_each),
        cmocka_unit_test_setup(test_ignore_not_scanned, reset_each),
        cmocka_unit_test_setup(test_last_flag_wins, reset_each),
        cmocka_unit_test_setup(test_reuse_loses_flag, reset_each),
        cmocka_unit_test_setup(test_large_block, reset_each),
        cmocka_unit_test_setup(test_bad_pointers, reset_each),
        cmocka_unit_test_setup(test_index_sweep, reset_each),
        cmocka_unit_test_setup(test_index_overflow_walks, reset_each),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
