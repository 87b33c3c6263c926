/*
 * test_arena.c - pointer -> arena -> block lookups on blocks the allocator
 * really hands out (preload/arena.h, alloc.h): for every size class, the
 * block lies in the region in an ARENA unit whose header validates, the
 * block index is found from its start and from interior pointers while it
 * is live and not after free, block starts sit on the class grid at the
 * class's natural alignment, usable size is the class size, and blocks of
 * two arenas' worth per class never overlap (fill patterns survive).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alloc.h"

static int setup(void **state)
{
    (void)state;
    return lm_init() ? 0 : -1;
}

static void check_live_block(void *p, size_t req, unsigned cls)
{
    uint32_t bs = lm_class_size[cls];
    assert_non_null(p);
    assert_true(lm_in_region(p));
    assert_int_equal(lm_unit_kind[lm_unit_index(p)], LM_UNIT_ARENA);
    struct lm_arena *a = lm_arena_of(p);
    assert_true(((uintptr_t)a & LM_UNIT_MASK) == 0);
    assert_true(lm_arena_valid(a));
    assert_int_equal(a->block_size, bs);
    assert_int_equal(a->cls, cls);
    assert_true((char *)p >= lm_arena_data(a));
    assert_true((uintptr_t)p + bs <= (uintptr_t)a + LM_UNIT_SIZE);
    assert_int_equal(((uintptr_t)p - (uintptr_t)lm_arena_data(a)) % bs, 0);
    assert_int_equal((uintptr_t)p % lm_class_align(bs), 0);
    assert_int_equal((uintptr_t)p % 16, 0);

    uint32_t idx = UINT32_MAX, j = UINT32_MAX;
    assert_true(lm_arena_find_live(a, p, &idx));
    assert_ptr_equal(lm_arena_block(a, idx), p);
    assert_true(idx < a->capacity);
    assert_true(lm_arena_find_live(a, (char *)p + 1, &j));
    assert_int_equal(j, idx);
    j = UINT32_MAX;
    assert_true(lm_arena_find_live(a, (char *)p + bs / 2, &j));
    assert_int_equal(j, idx);
    j = UINT32_MAX;
    assert_true(lm_arena_find_live(a, (char *)p + bs - 1, &j));
    assert_int_equal(j, idx);
    assert_true(lm_arena_is_live(a, idx));

    size_t us = lm_usable_size(p);
    assert_true(us >= req);
    assert_int_equal(us, bs);
}

static void test_lookup_every_class(void **state)
{
    (void)state;
    for (unsigned c = 0; c < LM_NUM_CLASSES; c++) {
        size_t lo = c ? lm_class_size[c - 1] + 1 : 0, hi = lm_class_size[c];
        size_t sizes[3] = { lo, (lo + hi) / 2, hi };
        void *ps[3];
        for (int k = 0; k < 3; k++) {
            ps[k] = lm_malloc(sizes[k]);
            check_live_block(ps[k], sizes[k], c);
            memset(ps[k], 0xA5, sizes[k]);
        }
        for (int k = 0; k < 3; k++) {
            struct lm_arena *a = lm_arena_of(ps[k]);
            uint32_t idx;
            assert_true(lm_arena_find_live(a, ps[k], &idx));
            lm_free(ps[k]);
            /* Freed: neither the start nor an interior pointer is live (the
             * arena may have been given back; only look if it still is). */
            if (lm_unit_kind[lm_unit_index(ps[k])] == LM_UNIT_ARENA && lm_arena_valid(a)) {
                uint32_t j;
                assert_false(lm_arena_find_live(a, ps[k], &j));
                assert_false(lm_arena_find_live(a, (char *)ps[k] + 1, &j));
                assert_false(lm_arena_is_live(a, idx));
            }
        }
    }
}

/* Pointers into the header, the bitmaps or the records are no block. */
static void test_header_is_not_a_block(void **state)
{
    (void)state;
    void *p = lm_malloc(64);
    struct lm_arena *a = lm_arena_of(p);
    uint32_t idx;
    assert_false(lm_arena_find_live(a, a, &idx));
    assert_false(lm_arena_find_live(a, (char *)a + LM_ARENA_HEADER, &idx));
    assert_false(lm_arena_find_live(a, lm_arena_data(a) - 1, &idx));
    /* Past the carved blocks: not live. */
    assert_false(lm_arena_find_live(a, lm_arena_block(a, a->capacity - 1), &idx) &&
                 a->extended < a->capacity);
    lm_free(p);
}

static int cmp_ptr(const void *x, const void *y)
{
    uintptr_t a = *(const uintptr_t *)x, b = *(const uintptr_t *)y;
    return a < b ? -1 : a > b;
}

/* Two arenas' worth of blocks per class, all live at once: every block is
 * distinct, none overlaps the next, and each keeps its fill pattern. */
static void test_no_overlap_every_class(void **state)
{
    (void)state;
    for (unsigned c = 0; c < LM_NUM_CLASSES; c++) {
        uint32_t bs = lm_class_size[c];
        void *first = lm_malloc(bs);
        assert_non_null(first);
        size_t n = 2u * lm_arena_of(first)->capacity + 3;
        void **ps = malloc(n * sizeof *ps);
        uintptr_t *sorted = malloc(n * sizeof *sorted);
        assert_non_null(ps);
        assert_non_null(sorted);
        ps[0] = first;
        for (size_t i = 1; i < n; i++) {
            ps[i] = lm_malloc(bs - (i % 16));     /* same class: bs-15 .. bs */
            assert_non_null(ps[i]);
        }
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(lm_unit_kind[lm_unit_index(ps[i])], LM_UNIT_ARENA);
            assert_int_equal(lm_arena_of(ps[i])->block_size, bs);
            memset(ps[i], (int)(i * 7 + c), bs);
            sorted[i] = (uintptr_t)ps[i];
        }
        qsort(sorted, n, sizeof *sorted, cmp_ptr);
        for (size_t i = 1; i < n; i++)
            if (sorted[i - 1] + bs > sorted[i])
                fail_msg("class %u: blocks %#lx and %#lx overlap", c,
                         (unsigned long)sorted[i - 1], (unsigned long)sorted[i]);
        for (size_t i = 0; i < n; i++) {
            const unsigned char *b = ps[i];
            unsigned char want = (unsigned char)(i * 7 + c);
            for (uint32_t k = 0; k < bs; k++)
                if (b[k] != want)
                    fail_msg("class %u block %zu byte %u: %#x, expected %#x", c, i, k, b[k], want);
        }
        /* More than one arena was used. */
        assert_true(lm_arena_of((void *)sorted[0]) != lm_arena_of((void *)sorted[n - 1]));
        for (size_t i = 0; i < n; i++)
            lm_free(ps[i]);
        free(ps);
        free(sorted);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_every_class),
        cmocka_unit_test(test_header_is_not_a_block),
        cmocka_unit_test(test_no_overlap_every_class),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
