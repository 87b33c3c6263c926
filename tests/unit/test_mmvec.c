/*
 * test_mmvec.c - the mmap-backed growable vector (preload/mmvec.h):
 * growth keeps contents, capacity/mapping invariants, LIFO pop, reset keeps
 * the mapping, resize zero-fills reused memory, failure leaves the vector
 * unchanged, odd element sizes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>

#include "mmvec.h"
#include "os.h"

static void check_invariants(const lm_mmvec_t *v)
{
    assert_true(v->len <= v->cap);
    assert_true(v->cap * v->elem_size <= v->map_bytes);
    assert_int_equal(v->map_bytes % LM_PAGE_SIZE, 0);
    assert_int_equal(v->data == NULL, v->map_bytes == 0);
    assert_int_equal(v->cap, v->map_bytes / v->elem_size);
}

static void test_empty(void **state)
{
    (void)state;
    lm_mmvec_t v;
    lm_mmvec_init(&v, sizeof(uint64_t));
    assert_int_equal(lm_mmvec_len(&v), 0);
    assert_null(v.data);
    assert_null(lm_mmvec_top(&v));
    uint64_t x = 7;
    assert_false(lm_mmvec_pop(&v, &x));
    assert_int_equal(x, 7);
    check_invariants(&v);
    lm_mmvec_free(&v);          /* freeing an empty vector is fine */
    assert_null(v.data);
}

static void test_push_pop_many(void **state)
{
    (void)state;
    const size_t N = 3000000;
    lm_mmvec_t v = LM_MMVEC_INIT(sizeof(uint64_t));
    size_t remaps = 0, last_bytes = 0;
    for (size_t i = 0; i < N; i++) {
        uint64_t x = i * 2654435761u;
        assert_int_equal(lm_mmvec_push(&v, &x), 0);
        if (v.map_bytes != last_bytes) {
            /* Each growth at least doubles the mapping (or starts it). */
            assert_true(last_bytes == 0 || v.map_bytes >= 2 * last_bytes);
            last_bytes = v.map_bytes;
            remaps++;
        }
    }
    check_invariants(&v);
    assert_int_equal(lm_mmvec_len(&v), N);
    assert_true(remaps <= 20);   /* 24 MB from one page: about 13 doublings */
    for (size_t i = 0; i < N; i++)
        assert_true(*(uint64_t *)lm_mmvec_at(&v, i) == i * 2654435761u);
    assert_true(*(uint64_t *)lm_mmvec_top(&v) == (N - 1) * 2654435761u);
    for (size_t i = N; i-- > 0;) {
        uint64_t x;
        assert_true(lm_mmvec_pop(&v, &x));
        if (x != i * 2654435761u)
            fail_msg("pop %zu returned %llu", i, (unsigned long long)x);
    }
    assert_false(lm_mmvec_pop(&v, NULL));
    lm_mmvec_free(&v);
}

/* Elements whose size does not divide the page: contents survive growth. */
typedef struct { uint8_t b[3]; } tri_t;
typedef struct { uint64_t a, b, c; } big_t;

static void test_odd_sizes(void **state)
{
    (void)state;
    lm_mmvec_t t, b;
    lm_mmvec_init(&t, sizeof(tri_t));
    lm_mmvec_init(&b, sizeof(big_t));
    for (uint32_t i = 0; i < 100000; i++) {
        tri_t x = { { (uint8_t)i, (uint8_t)(i >> 8), (uint8_t)(i >> 16) } };
        big_t y = { i, ~(uint64_t)i, (uint64_t)i * i };
        assert_int_equal(lm_mmvec_push(&t, &x), 0);
        big_t *ys = lm_mmvec_push_slot(&b);
        assert_non_null(ys);
        *ys = y;
    }
    check_invariants(&t);
    check_invariants(&b);
    for (uint32_t i = 0; i < 100000; i++) {
        tri_t *x = lm_mmvec_at(&t, i);
        big_t *y = lm_mmvec_at(&b, i);
        assert_int_equal(x->b[0] | x->b[1] << 8 | x->b[2] << 16, i & 0xffffff);
        assert_true(y->a == i && y->b == ~(uint64_t)i && y->c == (uint64_t)i * i);
    }
    lm_mmvec_free(&t);
    lm_mmvec_free(&b);
}

static void test_reset_keeps_mapping(void **state)
{
    (void)state;
    lm_mmvec_t v = LM_MMVEC_INIT(sizeof(uint32_t));
    for (uint32_t i = 0; i < 50000; i++)
        assert_int_equal(lm_mmvec_push(&v, &i), 0);
    void *data = v.data;
    size_t bytes = v.map_bytes, cap = v.cap;
    lm_mmvec_reset(&v);
    assert_int_equal(lm_mmvec_len(&v), 0);
    assert_ptr_equal(v.data, data);
    assert_int_equal(v.map_bytes, bytes);
    /* Refilling up to the old capacity does not remap. */
    for (uint32_t i = 0; i < cap; i++)
        assert_int_equal(lm_mmvec_push(&v, &i), 0);
    assert_ptr_equal(v.data, data);
    assert_int_equal(v.map_bytes, bytes);
    assert_int_equal(*(uint32_t *)lm_mmvec_at(&v, cap - 1), cap - 1);
    lm_mmvec_free(&v);
    assert_null(v.data);
    assert_int_equal(v.map_bytes, 0);
    /* Usable again after free. */
    uint32_t x = 42;
    assert_int_equal(lm_mmvec_push(&v, &x), 0);
    assert_int_equal(*(uint32_t *)lm_mmvec_top(&v), 42);
    lm_mmvec_free(&v);
}

static void test_resize_zero_fills(void **state)
{
    (void)state;
    lm_mmvec_t v = LM_MMVEC_INIT(sizeof(uint64_t));
    for (uint64_t i = 0; i < 10000; i++) {
        uint64_t x = ~i;
        assert_int_equal(lm_mmvec_push(&v, &x), 0);
    }
    assert_int_equal(lm_mmvec_resize(&v, 100), 0);      /* shrink */
    assert_int_equal(lm_mmvec_len(&v), 100);
    assert_true(*(uint64_t *)lm_mmvec_at(&v, 99) == ~(uint64_t)99);
    assert_int_equal(lm_mmvec_resize(&v, 50000), 0);    /* grow past old data */
    check_invariants(&v);
    assert_true(*(uint64_t *)lm_mmvec_at(&v, 99) == ~(uint64_t)99);
    for (size_t i = 100; i < 50000; i++)
        if (*(uint64_t *)lm_mmvec_at(&v, i) != 0)
            fail_msg("element %zu not zero after resize", i);
    lm_mmvec_reset(&v);
    assert_int_equal(lm_mmvec_resize(&v, 50000), 0);
    for (size_t i = 0; i < 50000; i++)
        if (*(uint64_t *)lm_mmvec_at(&v, i) != 0)
            fail_msg("element %zu not zero after reset+resize", i);
    lm_mmvec_free(&v);
}

static void test_reserve_and_failure(void **state)
{
    (void)state;
    lm_mmvec_t v = LM_MMVEC_INIT(16);
    assert_int_equal(lm_mmvec_reserve(&v, 1000000), 0);
    assert_true(v.cap >= 1000000);
    check_invariants(&v);
    void *data = v.data;
    size_t bytes = v.map_bytes;
    for (size_t i = 0; i < 1000000; i++)
        assert_non_null(lm_mmvec_push_slot(&v));
    assert_ptr_equal(v.data, data);        /* reserved: no growth */
    /* Impossible requests fail with ENOMEM and leave the vector alone. */
    assert_int_equal(lm_mmvec_reserve(&v, SIZE_MAX / 2), ENOMEM);
    assert_int_equal(lm_mmvec_reserve(&v, (size_t)1 << 50), ENOMEM);
    assert_int_equal(lm_mmvec_resize(&v, (size_t)1 << 50), ENOMEM);
    assert_ptr_equal(v.data, data);
    assert_int_equal(v.map_bytes, bytes);
    assert_int_equal(lm_mmvec_len(&v), 1000000);
    lm_mmvec_free(&v);
}

static void test_swap(void **state)
{
    (void)state;
    lm_mmvec_t a = LM_MMVEC_INIT(sizeof(uint32_t)), b = LM_MMVEC_INIT(sizeof(uint64_t));
    uint32_t x = 5;
    uint64_t y = 9, z = 10;
    assert_int_equal(lm_mmvec_push(&a, &x), 0);
    assert_int_equal(lm_mmvec_push(&b, &y), 0);
    assert_int_equal(lm_mmvec_push(&b, &z), 0);
    lm_mmvec_swap(&a, &b);
    assert_int_equal(a.elem_size, sizeof(uint64_t));
    assert_int_equal(lm_mmvec_len(&a), 2);
    assert_int_equal(*(uint64_t *)lm_mmvec_at(&a, 1), 10);
    assert_int_equal(lm_mmvec_len(&b), 1);
    assert_int_equal(*(uint32_t *)lm_mmvec_at(&b, 0), 5);
    lm_mmvec_free(&a);
    lm_mmvec_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_push_pop_many),
        cmocka_unit_test(test_odd_sizes),
        cmocka_unit_test(test_reset_keeps_mapping),
        cmocka_unit_test(test_resize_zero_fills),
        cmocka_unit_test(test_reserve_and_failure),
        cmocka_unit_test(test_swap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
