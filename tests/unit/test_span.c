/*
 * test_span.c - the span allocator of preload/span.h, called directly:
 * coalescing of adjacent free spans in every order (one span comes back at
 * the same address), the unit kind bytes and records of free spans,
 * absolute alignment of aligned spans, in-place grow and shrink, rejected
 * requests, and the dirty-page bookkeeping seen through lm_span_stats
 * (free_dirty grows on free, purge_all gives it back and later spans read
 * as zero).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "alloc.h"
#include "os.h"

static int setup(void **state)
{
    (void)state;
    return lm_init() ? 0 : -1;
}

static uint32_t alloc_span(uint32_t n, uint32_t align)
{
    uint32_t dirty = UINT32_MAX;
    uint32_t h = lm_span_alloc(n, align, LM_UNIT_LARGE, &dirty);
    assert_int_not_equal(h, UINT32_MAX);
    assert_true(dirty <= n * (LM_UNIT_SIZE / LM_PAGE_SIZE));     /* set, and within the span */
    assert_int_equal(lm_unit_kind[h], LM_UNIT_LARGE);
    assert_int_equal(lm_units[h].span, n);
    for (uint32_t i = 1; i < n; i++) {
        assert_int_equal(lm_unit_kind[h + i], LM_UNIT_CONT);
        assert_int_equal(lm_units[h + i].span, h);
    }
    assert_true(lm_span_top() >= h + n);
    return h;
}

/* The free span starting at head is `len` units long, as span.h describes. */
static void check_free_span(uint32_t head, uint32_t len)
{
    assert_int_equal(lm_unit_kind[head], LM_UNIT_FREE);
    assert_int_equal(lm_units[head].span, len);
    if (len > 1) {
        assert_int_equal(lm_unit_kind[head + len - 1], LM_UNIT_FREE_TAIL);
        assert_int_equal(lm_units[head + len - 1].span, head);
    }
}

/* Three adjacent spans of 2, 4 and 6 units (behind an allocated guard, and
 * the last one ending at the top) freed in each of the 6 orders: after each
 * free, every run of freed neighbours is one free span; at the end a span of
 * 12 units is handed out again at the first one's address. */
static void test_coalesce_all_orders(void **state)
{
    (void)state;
    static const int orders[6][3] = {
        {0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0},
    };
    const uint32_t off[3] = {0, 2, 6}, len[3] = {2, 4, 6};
    for (int o = 0; o < 6; o++) {
        /* Even lengths at even alignment: consecutive from the top. */
        uint32_t guard = alloc_span(2, 2);
        uint32_t a = alloc_span(2, 2), b = alloc_span(4, 2), c = alloc_span(6, 2);
        if (a != guard + 2 || b != a + 2 || c != b + 4)
            fail_msg("set-up: spans %u %u %u %u are not consecutive", guard, a, b, c);
        uint32_t heads[3] = {a, b, c};
        bool freed[3] = {false, false, false};
        for (int k = 0; k < 3; k++) {
            int i = orders[o][k];
            lm_span_free(heads[i], 0);
            freed[i] = true;
            for (int s = 0; s < 3;) {       /* every maximal run of freed pieces */
                if (!freed[s]) {
                    s++;
                    continue;
                }
                int e = s;
                uint32_t run = 0;
                while (e < 3 && freed[e])
                    run += len[e++];
                check_free_span(a + off[s], run);
                s = e;
            }
        }
        uint32_t dirty;
        uint32_t again = lm_span_alloc(12, 1, LM_UNIT_LARGE, &dirty);
        if (again != a)
            fail_msg("order %d: 12 units came back at %u, expected %u", o, again, a);
        lm_span_free(again, 0);
        lm_span_free(guard, 0);
    }
}

/* align_units: the span's address (not just its index) is a multiple of
 * align_units units. */
static void test_aligned_spans(void **state)
{
    (void)state;
    uint32_t heads[64];
    int nh = 0;
    for (uint32_t align = 1; align <= 64; align *= 2) {
        for (uint32_t n = 1; n <= 9; n += 4) {
            uint32_t h = alloc_span(n, align);
            uintptr_t addr = (uintptr_t)lm_unit_addr(h);
            if (addr % ((uintptr_t)align * LM_UNIT_SIZE) != 0)
                fail_msg("span of %u units aligned to %u units at %#lx (region base %#lx): "
                         "address not a multiple of %#lx", n, align, (unsigned long)addr,
                         (unsigned long)lm_region_base, (unsigned long)(align * LM_UNIT_SIZE));
            heads[nh++] = h;
        }
    }
    for (int i = 0; i < nh; i++)
        lm_span_free(heads[i], 0);
}

static void test_grow_shrink(void **state)
{
    (void)state;
    uint32_t s = alloc_span(2, 2);                  /* at the top */
    assert_true(lm_span_grow(s, 5));                /* into never-used units */
    assert_int_equal(lm_units[s].span, 5);
    for (uint32_t i = 1; i < 5; i++) {
        assert_int_equal(lm_unit_kind[s + i], LM_UNIT_CONT);
        assert_int_equal(lm_units[s + i].span, s);
    }
    memset(lm_unit_addr(s), 0x11, 5 * LM_UNIT_SIZE);  /* all of it is usable */

    uint32_t x = alloc_span(2, 2);                  /* a neighbour a little further */
    assert_true(x > s + 5);
    uint32_t gap = x - (s + 5);
    assert_true(lm_span_grow(s, 5 + gap));          /* the free units between */
    assert_int_equal(lm_units[s].span, 5 + gap);
    assert_false(lm_span_grow(s, 6 + gap));         /* x is in the way */
    assert_int_equal(lm_units[s].span, 5 + gap);
    assert_int_equal(lm_unit_kind[x], LM_UNIT_LARGE);

    lm_span_shrink(s, 2);
    assert_int_equal(lm_units[s].span, 2);
    assert_int_equal(lm_unit_kind[s], LM_UNIT_LARGE);
    assert_int_equal(lm_unit_kind[s + 1], LM_UNIT_CONT);
    check_free_span(s + 2, 3 + gap);
    assert_true(lm_span_grow(s, 4));                /* from the free tail */
    assert_int_equal(lm_units[s].span, 4);
    check_free_span(s + 4, 1 + gap);
    lm_span_free(s, 0);
    lm_span_free(x, 0);
}

static void test_in_use_stats(void **state)
{
    (void)state;
    struct lm_span_stats st0, st1, st2;
    lm_span_stats(&st0);
    assert_int_equal(st0.reserved, lm_region_size);
    uint32_t h = alloc_span(7, 1);
    lm_span_stats(&st1);
    assert_int_equal(st1.in_use, st0.in_use + 7 * LM_UNIT_SIZE);
    assert_true(st1.committed >= (size_t)(h + 7) * LM_UNIT_SIZE);
    assert_true(st1.committed <= st1.reserved);
    lm_span_free(h, 0);
    lm_span_stats(&st2);
    assert_int_equal(st2.in_use, st0.in_use);
}

static void test_rejects(void **state)
{
    (void)state;
    uint32_t dirty, units = (uint32_t)(lm_region_size >> LM_UNIT_SHIFT);
    assert_int_equal(lm_span_alloc(0, 1, LM_UNIT_LARGE, &dirty), UINT32_MAX);
    assert_int_equal(lm_span_alloc(units + 1, 1, LM_UNIT_LARGE, &dirty), UINT32_MAX);
    assert_int_equal(lm_span_alloc(UINT32_MAX, 1, LM_UNIT_LARGE, &dirty), UINT32_MAX);
    /* An alignment as large as the region: NULL, or really that aligned. */
    uint32_t h = lm_span_alloc(1, units, LM_UNIT_LARGE, &dirty);
    if (h != UINT32_MAX) {
        assert_int_equal((uintptr_t)lm_unit_addr(h) % lm_region_size, 0);
        lm_span_free(h, 0);
    }
}

/* Dirty pages of freed spans are counted, purge_all gives them back, and
 * afterwards spans read as zero and say so. */
static void test_dirty_and_purge(void **state)
{
    (void)state;
    const uint32_t n = 4, pages = n * (LM_UNIT_SIZE / LM_PAGE_SIZE);
    struct lm_span_stats st0, st1, st2;
    uint32_t dirty;
    /* Allocated neighbours on both sides: h's free span stays h alone. */
    uint32_t lguard = alloc_span(2, 2);
    uint32_t h = lm_span_alloc(n, 2, LM_UNIT_LARGE, &dirty);   /* fresh, from the top */
    assert_int_not_equal(h, UINT32_MAX);
    assert_int_equal(dirty, 0);
    uint32_t guard = alloc_span(2, 2);
    if (h != lguard + 2 || guard != h + n)
        fail_msg("set-up: spans %u %u %u are not consecutive", lguard, h, guard);
    memset(lm_unit_addr(h), 0x5A, (size_t)n * LM_UNIT_SIZE);
    lm_span_stats(&st0);
    lm_span_free(h, pages);
    lm_span_stats(&st1);
    if (st1.free_dirty < st0.free_dirty + (size_t)pages * LM_PAGE_SIZE)
        fail_msg("free_dirty %zu -> %zu after freeing %u dirty pages", st0.free_dirty, st1.free_dirty, pages);

    /* The same span comes back (exact fit, freed last) still dirty. */
    uint32_t h2 = lm_span_alloc(n, 1, LM_UNIT_LARGE, &dirty);
    assert_int_equal(h2, h);
    assert_int_equal(dirty, pages);
    lm_span_free(h2, pages);

    size_t released = lm_span_purge_all();
    assert_true(released >= (size_t)pages * LM_PAGE_SIZE);
    lm_span_stats(&st2);
    assert_int_equal(st2.free_dirty, 0);
    assert_int_equal(lm_span_purge_all(), 0);       /* nothing left to give */

    h2 = lm_span_alloc(n, 1, LM_UNIT_LARGE, &dirty);
    assert_int_not_equal(h2, UINT32_MAX);
    assert_int_equal(dirty, 0);
    const uint64_t *w = lm_unit_addr(h2);
    for (size_t i = 0; i < (size_t)n * LM_UNIT_SIZE / 8; i++)
        if (w[i])
            fail_msg("purged span %u word %zu reads %#llx", h2, i, (unsigned long long)w[i]);
    lm_span_free(h2, 0);
    lm_span_free(guard, 0);
    lm_span_free(lguard, 0);
}

/* Splitting a dirty span: the part handed out reports at most its own
 * pages dirty, and the rest keeps the remainder (pages from its head). */
static void test_split_dirty(void **state)
{
    (void)state;
    const uint32_t ppu = LM_UNIT_SIZE / LM_PAGE_SIZE;
    uint32_t dirty;
    uint32_t lguard = alloc_span(2, 2);
    uint32_t h = lm_span_alloc(8, 2, LM_UNIT_LARGE, &dirty);
    assert_int_not_equal(h, UINT32_MAX);
    uint32_t guard = alloc_span(2, 2);
    if (h != lguard + 2 || guard != h + 8)
        fail_msg("set-up: spans %u %u %u are not consecutive", lguard, h, guard);
    memset(lm_unit_addr(h), 0x77, 8 * LM_UNIT_SIZE);
    lm_span_free(h, 8 * ppu);
    /* Take the whole span back as 3 + 5 (exact fit first, freed last). */
    uint32_t a = lm_span_alloc(8, 1, LM_UNIT_LARGE, &dirty);
    assert_int_equal(a, h);
    lm_span_shrink(a, 3);
    assert_int_equal(lm_units[a + 3].dirty, 5 * ppu);
    assert_true(lm_units[a].dirty <= 3 * ppu);
    lm_span_free(a, 3 * ppu);
    lm_span_purge_all();
    lm_span_free(guard, 0);
    lm_span_free(lguard, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coalesce_all_orders),
        cmocka_unit_test(test_grow_shrink),
        cmocka_unit_test(test_in_use_stats),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_dirty_and_purge),
        cmocka_unit_test(test_split_dirty),
        cmocka_unit_test(test_aligned_spans),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
