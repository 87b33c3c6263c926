/*
 * test_align.c - lm_memalign (memalign, aligned_alloc, posix_memalign and
 * valloc all end there): every power-of-two alignment from 1 to 2 MiB with
 * sizes from 0 to 1 MiB gives an aligned address (absolute, not relative to
 * the region), at least malloc's 16-byte alignment, a usable size that
 * covers the request, and blocks that do not overlap while all are live.
 * Non-power-of-two alignments are rounded up to the next power of two
 * (glibc memalign), and alignments no block can meet fail instead of
 * returning a misaligned block.
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

static int setup(void **state)
{
    (void)state;
    return lm_init() ? 0 : -1;
}

struct blk {
    uintptr_t p;
    size_t usable;
    size_t size;
    unsigned char tag;
};

static int cmp_blk(const void *x, const void *y)
{
    uintptr_t a = ((const struct blk *)x)->p, b = ((const struct blk *)y)->p;
    return a < b ? -1 : a > b;
}

static void test_pow2_alignments(void **state)
{
    (void)state;
    static const size_t sizes[] = { 0, 1, 15, 16, 17, 100, 4095, 4096, 5000, 32768, 40000,
                                    LM_SMALL_MAX, LM_SMALL_MAX + 1, 1u << 20 };
    enum { NS = sizeof sizes / sizeof sizes[0], NA = 22 };   /* 2^0 .. 2^21 */
    struct blk *b = calloc(NS * NA, sizeof *b);
    assert_non_null(b);
    size_t n = 0;
    for (unsigned k = 0; k < NA; k++) {
        size_t align = (size_t)1 << k;
        size_t need = align < 16 ? 16 : align;
        for (size_t s = 0; s < NS; s++) {
            void *p = lm_memalign(align, sizes[s]);
            if (!p)
                fail_msg("memalign(%zu, %zu) = NULL", align, sizes[s]);
            if ((uintptr_t)p % need != 0)
                fail_msg("memalign(%zu, %zu) = %p: not %zu-aligned", align, sizes[s], p, need);
            size_t us = lm_usable_size(p);
            if (us < sizes[s])
                fail_msg("memalign(%zu, %zu): usable size %zu", align, sizes[s], us);
            b[n] = (struct blk){ (uintptr_t)p, us, sizes[s], (unsigned char)(n * 13 + 1) };
            memset(p, b[n].tag, sizes[s]);
            n++;
        }
    }
    qsort(b, n, sizeof *b, cmp_blk);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && b[i - 1].p + b[i - 1].usable > b[i].p)
            fail_msg("blocks %#lx (+%zu) and %#lx overlap", (unsigned long)b[i - 1].p,
                     b[i - 1].usable, (unsigned long)b[i].p);
        const unsigned char *c = (const unsigned char *)b[i].p;
        for (size_t j = 0; j < b[i].size; j++)
            if (c[j] != b[i].tag)
                fail_msg("block %#lx byte %zu overwritten", (unsigned long)b[i].p, j);
    }
    for (size_t i = 0; i < n; i++)
        lm_free((void *)b[i].p);
    free(b);
}

/* posix_memalign's alignments (powers of two, multiples of sizeof(void *))
 * many times over: each block aligned, distinct from the others. */
static void test_many_same_alignment(void **state)
{
    (void)state;
    enum { N = 300 };
    void *ps[N];
    for (size_t align = sizeof(void *); align <= 8192; align *= 4) {
        for (int i = 0; i < N; i++) {
            ps[i] = lm_memalign(align, 24 + (size_t)i % 3 * 40);
            assert_non_null(ps[i]);
            assert_int_equal((uintptr_t)ps[i] % align, 0);
            memset(ps[i], i & 0xff, 24);
        }
        for (int i = 0; i < N; i++) {
            assert_int_equal(*(unsigned char *)ps[i], i & 0xff);
            lm_free(ps[i]);
        }
    }
}

/* glibc memalign: an alignment that is not a power of two is rounded up. */
static void test_non_pow2_rounds_up(void **state)
{
    (void)state;
    static const struct { size_t align, want; } cases[] = {
        { 3, 16 }, { 12, 16 }, { 24, 32 }, { 48, 64 }, { 80, 128 }, { 100, 128 },
        { 1000, 1024 }, { 3000, 4096 }, { 5000, 8192 }, { 40000, 65536 },
        { 300000, 524288 }, { 1500000, 2097152 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        void *ps[8];
        for (int j = 0; j < 8; j++) {
            ps[j] = lm_memalign(cases[i].align, 100 + (size_t)j);
            if (!ps[j])
                fail_msg("memalign(%zu, ...) = NULL", cases[i].align);
            if ((uintptr_t)ps[j] % cases[i].want)
                fail_msg("memalign(%zu, %d) = %p: not %zu-aligned", cases[i].align, 100 + j,
                         ps[j], cases[i].want);
            assert_true(lm_usable_size(ps[j]) >= 100 + (size_t)j);
        }
        for (int j = 0; j < 8; j++)
            lm_free(ps[j]);
    }
}

/* Alignments beyond what the region can offer: NULL (ENOMEM or EINVAL), or
 * a block that really is that aligned - never a misaligned one. */
static void test_huge_alignment(void **state)
{
    (void)state;
    const size_t aligns[] = { (size_t)1 << 36, (size_t)1 << 40, (size_t)1 << 44, (size_t)1 << 50,
                              (size_t)1 << 62, (size_t)1 << 63, ((size_t)1 << 62) + 1, SIZE_MAX };
    for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
        errno = 0;
        void *p = lm_memalign(aligns[i], 1);
        if (p) {
            size_t want = lm_is_pow2(aligns[i]) ? aligns[i] : 0;
            if (!want || (uintptr_t)p % want)
                fail_msg("memalign(%#zx, 1) = %p: misaligned", aligns[i], p);
            lm_free(p);
        } else {
            assert_true(errno == ENOMEM || errno == EINVAL);
        }
    }
    /* A reasonable size with a huge size: NULL + ENOMEM. */
    errno = 0;
    assert_null(lm_memalign(4096, SIZE_MAX));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(lm_memalign((size_t)1 << 21, SIZE_MAX - 4096));
    assert_int_equal(errno, ENOMEM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pow2_alignments),
        cmocka_unit_test(test_many_same_alignment),
        cmocka_unit_test(test_non_pow2_rounds_up),
        cmocka_unit_test(test_huge_alignment),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
