/*
 * test_large.c - blocks above LM_SMALL_MAX (preload/large.h and the large
 * paths of alloc.h): placement and usable size, sizes just above the small
 * limit up to 64 MiB, impossible sizes (NULL + ENOMEM, never an abort),
 * calloc returning zeros on spans that earlier blocks (large or an arena)
 * dirtied, realloc in place (shrink, grow into free units) and moving
 * (content kept), liveness, and reuse of a freed block's address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "alloc.h"
#include "os.h"

#define MiB ((size_t)1 << 20)

static int setup(void **state)
{
    (void)state;
    return lm_init() ? 0 : -1;
}

static size_t page_round(size_t n) { return (n + LM_PAGE_SIZE - 1) & ~(size_t)(LM_PAGE_SIZE - 1); }

static void check_large(void *p, size_t size)
{
    assert_non_null(p);
    assert_true(lm_in_region(p));
    assert_int_equal((uintptr_t)p & LM_UNIT_MASK, 0);
    uint32_t head = lm_unit_index(p);
    assert_int_equal(lm_unit_kind[head], LM_UNIT_LARGE);
    uint32_t units = (uint32_t)((size + LM_UNIT_SIZE - 1) / LM_UNIT_SIZE);
    assert_true(lm_units[head].span >= units);
    for (uint32_t i = 1; i < units; i++)
        assert_int_equal(lm_unit_kind[head + i], LM_UNIT_CONT);
    assert_true(lm_large_is_live(p));
    assert_false(lm_large_is_live((char *)p + LM_PAGE_SIZE));
    assert_int_equal(lm_large_usable(p), page_round(size));
    assert_int_equal(lm_usable_size(p), page_round(size));
}

static void test_sizes(void **state)
{
    (void)state;
    const size_t sizes[] = { LM_SMALL_MAX + 1, LM_SMALL_MAX + 4096, LM_UNIT_SIZE - 1, LM_UNIT_SIZE,
                             LM_UNIT_SIZE + 1, MiB - 1, MiB, MiB + 1, 64 * MiB };
    void *ps[sizeof sizes / sizeof sizes[0]];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        ps[i] = lm_malloc(sizes[i]);
        check_large(ps[i], sizes[i]);
        /* Every page of the usable size can be written. */
        unsigned char *b = ps[i];
        size_t us = lm_usable_size(b);
        for (size_t o = 0; o < us; o += LM_PAGE_SIZE)
            b[o] = (unsigned char)(i + o / LM_PAGE_SIZE);
        b[us - 1] = (unsigned char)i;
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *b = ps[i];
        size_t us = page_round(sizes[i]);
        for (size_t o = 0; o < us - 1; o += LM_PAGE_SIZE)
            if (b[o] != (unsigned char)(i + o / LM_PAGE_SIZE))
                fail_msg("block %zu (size %zu) page %zu overwritten", i, sizes[i], o / LM_PAGE_SIZE);
        assert_int_equal(b[us - 1], (unsigned char)i);
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        lm_free(ps[i]);
        assert_false(lm_large_is_live(ps[i]));
        assert_int_equal(lm_large_usable(ps[i]), 0);
    }
}

static void test_impossible_sizes(void **state)
{
    (void)state;
    const size_t sizes[] = { SIZE_MAX, SIZE_MAX - LM_UNIT_SIZE, (size_t)1 << 46, (size_t)1 << 62,
                             lm_region_size + 1 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        errno = 0;
        void *p = lm_malloc(sizes[i]);
        if (p)
            fail_msg("malloc(%#zx) = %p, expected NULL", sizes[i], p);
        assert_int_equal(errno, ENOMEM);
        errno = 0;
        assert_null(lm_calloc(1, sizes[i]));
        assert_int_equal(errno, ENOMEM);
    }
    /* The allocator still works. */
    void *p = lm_malloc(MiB);
    check_large(p, MiB);
    lm_free(p);
}

/* realloc of a large block to an impossible size fails (NULL, ENOMEM) and
 * leaves the block as it was. */
static void test_realloc_impossible(void **state)
{
    (void)state;
    const size_t sizes[] = { (size_t)1 << 46, (size_t)1 << 62, SIZE_MAX - LM_UNIT_SIZE, SIZE_MAX };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = lm_malloc(MiB);
        check_large(p, MiB);
        memset(p, 0x3C, MiB);
        errno = 0;
        void *q = lm_realloc(p, sizes[i]);
        if (q)
            fail_msg("realloc(%p, %#zx) = %p (usable %zu), expected NULL", (void *)p, sizes[i], q,
                     lm_usable_size(q));
        assert_int_equal(errno, ENOMEM);
        check_large(p, MiB);
        assert_true(p[0] == 0x3C && p[MiB - 1] == 0x3C);
        lm_free(p);
    }
}

static void check_zero(const void *p, size_t n, const char *what)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            fail_msg("%s: calloc'd byte %zu of %zu is %#x", what, i, n, b[i]);
}

/* calloc on a span that a freed large block dirtied reads zero. */
static void test_calloc_reuses_dirty(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        size_t size = MiB + (size_t)round * 12345;
        unsigned char *p = lm_malloc(size);
        check_large(p, size);
        memset(p, 0xEE, lm_usable_size(p));
        lm_free(p);
        unsigned char *q = lm_calloc(1, size);
        check_large(q, size);
        check_zero(q, size, "same size");
        lm_free(q);
    }
    /* Many sizes dirtied and freed, then calloc'd in another order. */
    enum { N = 24 };
    void *ps[N];
    for (int i = 0; i < N; i++) {
        size_t size = LM_SMALL_MAX + 1 + (size_t)(i * 7919 % 23) * (LM_UNIT_SIZE / 3);
        ps[i] = lm_malloc(size);
        assert_non_null(ps[i]);
        memset(ps[i], 0xC5, lm_usable_size(ps[i]));
    }
    for (int i = 0; i < N; i++)
        lm_free(ps[i]);
    for (int i = 0; i < N; i++) {
        size_t size = LM_SMALL_MAX + 1 + (size_t)(i * 104729 % 29) * (LM_UNIT_SIZE / 5);
        ps[i] = lm_calloc(size, 1);
        assert_non_null(ps[i]);
        check_zero(ps[i], size, "mixed sizes");
    }
    for (int i = 0; i < N; i++)
        lm_free(ps[i]);
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* A unit dirtied by a large block, then made into an arena that hands out
 * (and touches) only part of it, then given back: calloc on it reads zero. */
static void test_calloc_after_arena_on_dirty_unit(void **state)
{
    (void)state;
    enum { N = 32 };
    void *blk[N];
    uint32_t idx[N];
    for (int i = 0; i < N; i++) {
        blk[i] = lm_malloc(LM_UNIT_SIZE);
        check_large(blk[i], LM_UNIT_SIZE);
        idx[i] = lm_unit_index(blk[i]);
    }
    uint32_t sorted[N];
    memcpy(sorted, idx, sizeof sorted);
    qsort(sorted, N, sizeof sorted[0], cmp_u32);
    uint32_t u = UINT32_MAX;
    for (int i = 0; i + 2 < N && u == UINT32_MAX; i++)
        if (sorted[i + 1] == sorted[i] + 1 && sorted[i + 2] == sorted[i] + 2)
            u = sorted[i + 1];
    if (u == UINT32_MAX)
        fail_msg("set-up: no three consecutive 1-unit blocks among %d", N);
    /* Keep u's neighbours, free everything else, then u, dirty, last. */
    for (int i = 0; i < N; i++)
        if (idx[i] != u && idx[i] != u - 1 && idx[i] != u + 1)
            lm_free(blk[i]);
    memset(lm_unit_addr(u), 0xAB, LM_UNIT_SIZE);
    lm_free(lm_unit_addr(u));

    /* Top-class blocks until one arena sits on u and another is current. */
    enum { M = 256 };
    void *sm[M];
    int n = 0, on_u = 0;
    bool past = false;
    while (n < M && !past) {
        sm[n] = lm_malloc(LM_SMALL_MAX);
        assert_non_null(sm[n]);
        if (lm_unit_index(sm[n]) == u)
            on_u++;
        else if (on_u)
            past = true;
        n++;
    }
    if (!on_u)
        fail_msg("set-up: no arena was made on the freed unit %u", u);
    assert_true(past);
    for (int i = 0; i < n; i++)
        if (lm_unit_index(sm[i]) == u)
            lm_free(sm[i]);
    if (lm_unit_kind[u] == LM_UNIT_ARENA)
        fail_msg("set-up: the emptied arena on unit %u was not given back", u);

    void *c[8];
    for (int i = 0; i < 8; i++) {
        c[i] = lm_calloc(1, LM_UNIT_SIZE);
        check_large(c[i], LM_UNIT_SIZE);
        check_zero(c[i], LM_UNIT_SIZE, "unit that held an arena");
    }
    for (int i = 0; i < 8; i++)
        lm_free(c[i]);
    for (int i = 0; i < n; i++)
        if (lm_unit_index(sm[i]) != u)
            lm_free(sm[i]);
    lm_free(lm_unit_addr(u - 1));
    lm_free(lm_unit_addr(u + 1));
}

static void fill(void *p, size_t n, unsigned seed)
{
    uint32_t *w = p;
    for (size_t i = 0; i < n / 4; i++)
        w[i] = (uint32_t)(i * 2654435761u) ^ seed;
}

static void check_fill(const void *p, size_t n, unsigned seed)
{
    const uint32_t *w = p;
    for (size_t i = 0; i < n / 4; i++)
        if (w[i] != ((uint32_t)(i * 2654435761u) ^ seed))
            fail_msg("word %zu of %zu changed (seed %u)", i, n / 4, seed);
}

static void test_realloc_shrink_then_grow_in_place(void **state)
{
    (void)state;
    char *p = lm_malloc(3 * MiB);
    check_large(p, 3 * MiB);
    fill(p, 3 * MiB, 1);
    char *q = lm_realloc(p, MiB);
    assert_ptr_equal(q, p);                  /* shrink stays */
    check_large(p, MiB);
    check_fill(p, MiB, 1);
    uint32_t tail = lm_unit_index(p) + (uint32_t)(MiB / LM_UNIT_SIZE);
    assert_int_equal(lm_unit_kind[tail], LM_UNIT_FREE);   /* the tail was given back */
    q = lm_realloc(p, 2 * MiB);              /* the next units are free */
    assert_ptr_equal(q, p);
    check_large(p, 2 * MiB);
    check_fill(p, MiB, 1);
    memset(p + MiB, 0x42, MiB);
    q = lm_realloc(p, 2 * MiB - 100000);     /* same units, smaller */
    assert_ptr_equal(q, p);
    check_large(p, 2 * MiB - 100000);
    check_fill(p, MiB, 1);
    assert_int_equal((unsigned char)p[2 * MiB - 100001], 0x42);
    lm_free(p);
}

/* Growing a block whose next units are taken must move it; whose next
 * units are free (or never used) must not.  Content survives either way. */
static void test_realloc_grow_moves_or_stays(void **state)
{
    (void)state;
    enum { N = 20 };
    char *ps[N];
    for (int i = 0; i < N; i++) {
        ps[i] = lm_malloc(MiB);
        check_large(ps[i], MiB);
        fill(ps[i], MiB, (unsigned)i + 100);
    }
    int moved = 0, stayed = 0;
    for (int i = 0; i < N; i++) {
        uint32_t head = lm_unit_index(ps[i]), right = head + lm_units[head].span;
        uint32_t extra = (uint32_t)(MiB / LM_UNIT_SIZE);
        bool room = right == lm_span_top() ||
                    (lm_unit_kind[right] == LM_UNIT_FREE && lm_units[right].span >= extra);
        char *q = lm_realloc(ps[i], 2 * MiB);
        check_large(q, 2 * MiB);
        check_fill(q, MiB, (unsigned)i + 100);
        if (room) {
            assert_ptr_equal(q, ps[i]);
            stayed++;
        } else {
            assert_ptr_not_equal(q, ps[i]);
            assert_false(lm_large_is_live(ps[i]));
            moved++;
        }
        ps[i] = q;
    }
    for (int i = 0; i < N; i++)
        lm_free(ps[i]);
    print_message("realloc grow: %d moved, %d in place\n", moved, stayed);
}

/* Large <-> small through realloc keeps the prefix. */
static void test_realloc_large_small(void **state)
{
    (void)state;
    char *p = lm_malloc(LM_SMALL_MAX + 1);
    fill(p, LM_SMALL_MAX, 7);
    char *q = lm_realloc(p, 1000);
    assert_non_null(q);
    assert_false(lm_large_is_live(p));
    assert_int_equal(lm_unit_kind[lm_unit_index(q)], LM_UNIT_ARENA);
    check_fill(q, 1000, 7);
    p = lm_realloc(q, 5 * MiB);
    check_large(p, 5 * MiB);
    check_fill(p, 1000, 7);
    lm_free(p);
}

/* Freeing and allocating the same large size again and again gets the
 * same address back and maps nothing new. */
static void test_churn_reuses_address(void **state)
{
    (void)state;
    void *first = NULL;
    struct lm_span_stats st0, st1;
    for (int i = 0; i < 200; i++) {
        char *p = lm_malloc(MiB);
        check_large(p, MiB);
        p[0] = 1;
        p[MiB - 1] = 2;
        if (i == 1) {
            first = p;
            lm_span_stats(&st0);
        } else if (i > 1 && p != first) {
            fail_msg("iteration %d: %p, earlier %p", i, (void *)p, first);
        }
        lm_free(p);
        assert_false(lm_large_is_live(p));
    }
    lm_span_stats(&st1);
    assert_int_equal(st1.committed, st0.committed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_impossible_sizes),
        cmocka_unit_test(test_realloc_impossible),
        cmocka_unit_test(test_calloc_reuses_dirty),
        cmocka_unit_test(test_calloc_after_arena_on_dirty_unit),
        cmocka_unit_test(test_realloc_shrink_then_grow_in_place),
        cmocka_unit_test(test_realloc_grow_moves_or_stays),
        cmocka_unit_test(test_realloc_large_small),
        cmocka_unit_test(test_churn_reuses_address),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
