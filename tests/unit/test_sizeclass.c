/*
 * test_sizeclass.c - the size-class table and the O(1) mappings of
 * preload/sizeclass.h: size -> smallest fitting class for every small size,
 * the table's shape (increasing, multiples of 16, 8 classes of 16 bytes then
 * 4 per doubling, worst rounding 25% above 128), natural alignment, and the
 * reciprocal division used for pointer -> block index (exact on block
 * starts, floor on interior offsets, over a whole 256 KiB arena).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sizeclass.h"
#include "span.h"

static void test_table_shape(void **state)
{
    (void)state;
    assert_int_equal(lm_class_size[LM_NUM_CLASSES - 1], LM_SMALL_MAX);
    for (unsigned c = 0; c < LM_NUM_CLASSES; c++) {
        uint32_t s = lm_class_size[c];
        if (s % 16 != 0)
            fail_msg("class %u size %u is not a multiple of 16", c, s);
        if (c > 0 && s <= lm_class_size[c - 1])
            fail_msg("class %u size %u not above class %u size %u", c, s, c - 1, lm_class_size[c - 1]);
        if (c < 8)
            assert_int_equal(s, 16u * (c + 1));     /* multiples of 16 up to 128 */
    }
    /* 4 classes per doubling above 128: every power of two from 256 on is a
     * class, and exactly 4 classes lie in (2^k, 2^(k+1)]. */
    for (uint32_t p = 128; p < LM_SMALL_MAX; p *= 2) {
        unsigned n = 0;
        for (unsigned c = 0; c < LM_NUM_CLASSES; c++)
            n += lm_class_size[c] > p && lm_class_size[c] <= 2 * p;
        if (n != 4)
            fail_msg("%u classes in (%u, %u], expected 4", n, p, 2 * p);
    }
}

static void test_every_size_maps_to_smallest_fit(void **state)
{
    (void)state;
    unsigned ref = 0;      /* reference: linear walk of the table */
    for (size_t size = 0; size <= LM_SMALL_MAX; size++) {
        while (lm_class_size[ref] < size)
            ref++;
        unsigned c = lm_size_class(size);
        if (c >= LM_NUM_CLASSES)
            fail_msg("size %zu -> class %u out of range", size, c);
        if (c != ref)
            fail_msg("size %zu -> class %u (%u bytes), smallest fit is class %u (%u bytes)",
                     size, c, lm_class_size[c], ref, lm_class_size[ref]);
        /* Documented worst-case rounding above 128: below 25%. */
        if (size > 128 && (uint64_t)lm_class_size[c] * 4 >= (uint64_t)size * 5)
            fail_msg("size %zu rounded to %u (>= 25%%)", size, lm_class_size[c]);
    }
    assert_int_equal(ref, LM_NUM_CLASSES - 1);
}

static void test_class_align(void **state)
{
    (void)state;
    for (unsigned c = 0; c < LM_NUM_CLASSES; c++) {
        uint32_t s = lm_class_size[c], a = lm_class_align(s);
        assert_true(lm_is_pow2(a));
        assert_true(a >= 16 && a <= 4096);
        assert_int_equal(s % a, 0);
        /* the largest such power of two, up to 4 KiB */
        if (a < 4096)
            assert_int_not_equal(s % (2 * a), 0);
    }
}

/* (offset * magic) >> 48 must be offset / size for every offset in a unit:
 * exact on block starts, the floor inside blocks. */
static void test_div_magic_whole_arena(void **state)
{
    (void)state;
    for (unsigned c = 0; c < LM_NUM_CLASSES; c++) {
        uint32_t s = lm_class_size[c];
        uint64_t magic = lm_div_magic(s);
        uint64_t q = 0, r = 0;          /* offset = q * s + r, kept by hand */
        for (uint64_t off = 0; off < LM_UNIT_SIZE; off++) {
            uint64_t got = (off * magic) >> 48;
            if (got != q)
                fail_msg("class %u (size %u): offset %llu -> %llu, expected %llu",
                         c, s, (unsigned long long)off, (unsigned long long)got,
                         (unsigned long long)q);
            if (++r == s) {
                r = 0;
                q++;
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_shape),
        cmocka_unit_test(test_every_size_maps_to_smallest_fit),
        cmocka_unit_test(test_class_align),
        cmocka_unit_test(test_div_magic_whole_arena),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
