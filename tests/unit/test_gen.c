/*
 * test_gen.c - generations: promotion of survivors, unreachable-scan
 * counting, the CPython-like scan schedule.  Builds a real heap with
 * lm_malloc, marks it from explicit roots, then applies lm_gen_after_scan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "alloc.h"
#include "gen.h"
#include "lookup.h"
#include "mark.h"
#include "options.h"
#include "roots.h"

static unsigned gen_at(void *p)
{
    struct lm_block_ref b;
    assert_true(lm_lookup_block((uintptr_t)p, &b));
    return b.gen;
}

static void mark_from(void **roots_arr, size_t n, struct lm_mark_result *res)
{
    struct lm_roots roots;
    lm_roots_init(&roots);
    lm_roots_add(&roots, (uintptr_t)roots_arr, (uintptr_t)(roots_arr + n), LM_ROOT_USER);
    assert_int_equal(lm_mark_run(&roots, res), 0);
    lm_roots_free(&roots);
}

static void test_encoding(void **state)
{
    (void)state;
    uint8_t g = lm_gen_make(LM_GEN_MIDDLE, 5);
    assert_int_equal(lm_gen_of(g), LM_GEN_MIDDLE);
    assert_int_equal(lm_gen_unref(g), 5);
    assert_int_equal(lm_gen_unref(lm_gen_make(LM_GEN_OLD, 1000)), LM_GEN_UNREF_MAX);
    assert_string_equal(lm_gen_name(LM_GEN_YOUNG), "young");
    assert_string_equal(lm_gen_name(LM_GEN_OLD), "old");
}

static void test_promotion_and_unref(void **state)
{
    (void)state;
    assert_true(lm_init());
    void **keep = lm_calloc(4, sizeof(void *));
    keep[0] = lm_calloc(1, 64);                 /* reachable small */
    keep[1] = lm_calloc(1, 200000);             /* reachable large */
    keep[2] = (char *)lm_calloc(1, 96) + 8;     /* possible (interior) */
    void *lost = lm_calloc(1, 48);              /* leaked */
    uintptr_t lost_addr = (uintptr_t)lost;
    lost = NULL;
    void *root[1] = { keep };

    assert_int_equal(lm_gen_of(gen_at(keep[0])), LM_GEN_YOUNG);
    struct lm_mark_result res;
    lm_mark_result_init(&res);

    /* A young scan: young survivors become middle, the leak counts 1. */
    mark_from(root, 1, &res);
    lm_gen_after_scan(&res, LM_GEN_YOUNG);
    assert_int_equal(lm_gen_of(gen_at(keep[0])), LM_GEN_MIDDLE);
    assert_int_equal(lm_gen_of(gen_at(keep[1])), LM_GEN_MIDDLE);
    assert_int_equal(lm_gen_of(gen_at(keep[2])), LM_GEN_MIDDLE);
    assert_int_equal(lm_gen_of(gen_at((void *)lost_addr)), LM_GEN_YOUNG);
    assert_int_equal(lm_gen_unref(gen_at((void *)lost_addr)), 1);

    /* Another young scan leaves middle blocks alone. */
    mark_from(root, 1, &res);
    lm_gen_after_scan(&res, LM_GEN_YOUNG);
    assert_int_equal(lm_gen_of(gen_at(keep[0])), LM_GEN_MIDDLE);
    assert_int_equal(lm_gen_unref(gen_at((void *)lost_addr)), 2);

    /* A middle scan promotes to old; an old scan keeps old. */
    mark_from(root, 1, &res);
    lm_gen_after_scan(&res, LM_GEN_MIDDLE);
    assert_int_equal(lm_gen_of(gen_at(keep[1])), LM_GEN_OLD);
    mark_from(root, 1, &res);
    lm_gen_after_scan(&res, LM_GEN_OLD);
    assert_int_equal(lm_gen_of(gen_at(keep[1])), LM_GEN_OLD);
    assert_int_equal(lm_gen_unref(gen_at((void *)lost_addr)), 4);

    /* Reachable again: the unreachable count starts over. */
    keep[3] = (void *)lost_addr;
    mark_from(root, 1, &res);
    lm_gen_after_scan(&res, LM_GEN_OLD);
    assert_int_equal(lm_gen_unref(gen_at((void *)lost_addr)), 0);
    assert_int_equal(lm_gen_of(gen_at((void *)lost_addr)), LM_GEN_MIDDLE);

    lm_mark_result_free(&res);
    lm_free((void *)lost_addr);
    lm_free(keep[0]);
    lm_free(keep[1]);
    lm_free((char *)keep[2] - 8);
    lm_free(keep);
}

static void test_schedule(void **state)
{
    (void)state;
    struct lm_options saved = lm_options;
    lm_options.gen1_threshold = 3;
    lm_options.gen2_threshold = 2;
    struct lm_gen_schedule s = { 0, 0 };
    unsigned seq[12];
    for (int i = 0; i < 12; i++)
        seq[i] = lm_gen_next_level(&s);
    /* Every 3rd scan is middle, every 2nd middle one is old. */
    unsigned want[12] = { 0, 0, 1, 0, 0, 2, 0, 0, 1, 0, 0, 2 };
    for (int i = 0; i < 12; i++)
        assert_int_equal(seq[i], want[i]);
    lm_options = saved;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_promotion_and_unref),
        cmocka_unit_test(test_schedule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
