/*
 * test_gen.c - generations and ages from birth stamps (gen.h): the stamp
 * malloc records, promotion by scans (young -> middle at the first scan,
 * -> old at the first middle-or-old scan after that), age lower bounds from
 * the scan times, re-stamping of blocks that lived through half the stamp
 * space, and the CPython-like schedule.  Builds a real heap with lm_malloc
 * and drives lm_gen_scan_done by hand (the world is "stopped": one thread).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "alloc.h"
#include "gen.h"
#include "lookup.h"
#include "options.h"

#define MS 1000000ull

static uint8_t stamp_of(void *p)
{
    struct lm_block_ref b;
    assert_true(lm_lookup_block((uintptr_t)p, &b));
    return b.gen;
}

static struct lm_gen_info info_of(void *p, uint64_t now)
{
    struct lm_gen_info gi;
    lm_gen_classify(stamp_of(p), now, &gi);
    return gi;
}

static int setup(void **state)
{
    (void)state;
    assert_true(lm_init());
    lm_gen_reset_for_tests();
    return 0;
}

static void test_promotion_and_age(void **state)
{
    (void)state;
    void *a = lm_malloc(64);              /* born before any scan */
    void *big = lm_malloc(300000);        /* large blocks carry stamps too */
    struct lm_gen_info gi = info_of(a, 5 * MS);
    assert_int_equal(gi.gen, LM_GEN_YOUNG);
    assert_int_equal(gi.scans, 0);
    assert_int_equal(gi.age_ms, 0);

    lm_gen_scan_done(LM_GEN_YOUNG, 1000 * MS);       /* scan 0 at t = 1 s */
    void *b = lm_malloc(64);                         /* born after scan 0 */
    gi = info_of(a, 1500 * MS);
    assert_int_equal(gi.gen, LM_GEN_MIDDLE);
    assert_int_equal(gi.scans, 1);
    assert_int_equal(gi.age_ms, 500);                /* since scan 0 */
    assert_int_equal(info_of(big, 1500 * MS).gen, LM_GEN_MIDDLE);
    assert_int_equal(info_of(b, 1500 * MS).gen, LM_GEN_YOUNG);

    /* A young scan does not promote middle blocks... */
    lm_gen_scan_done(LM_GEN_YOUNG, 2000 * MS);       /* scan 1 */
    assert_int_equal(info_of(a, 2000 * MS).gen, LM_GEN_MIDDLE);
    assert_int_equal(info_of(b, 2000 * MS).gen, LM_GEN_MIDDLE);
    assert_int_equal(info_of(a, 2000 * MS).age_ms, 1000);
    assert_int_equal(info_of(b, 2000 * MS).age_ms, 0);
    /* ... a middle scan does, but only blocks that were middle before it. */
    lm_gen_scan_done(LM_GEN_MIDDLE, 3000 * MS);      /* scan 2 */
    void *c = lm_malloc(64);
    assert_int_equal(info_of(a, 3000 * MS).gen, LM_GEN_OLD);
    assert_int_equal(info_of(b, 3000 * MS).gen, LM_GEN_OLD);
    assert_int_equal(info_of(c, 3000 * MS).gen, LM_GEN_YOUNG);
    lm_gen_scan_done(LM_GEN_YOUNG, 4000 * MS);       /* scan 3 */
    assert_int_equal(info_of(c, 4000 * MS).gen, LM_GEN_MIDDLE);
    assert_int_equal(info_of(a, 4000 * MS).gen, LM_GEN_OLD);
    assert_int_equal(info_of(a, 4000 * MS).scans, 4);
    assert_int_equal(info_of(a, 4000 * MS).age_ms, 3000);
    /* Without a time, no age. */
    assert_int_equal(info_of(a, 0).age_ms, 0);
    lm_free(a);
    lm_free(b);
    lm_free(c);
    lm_free(big);
}

static void test_reused_block_is_young(void **state)
{
    (void)state;
    void *a = lm_malloc(48);
    lm_gen_scan_done(LM_GEN_OLD, 10 * MS);
    lm_gen_scan_done(LM_GEN_OLD, 20 * MS);
    assert_int_equal(info_of(a, 20 * MS).gen, LM_GEN_OLD);
    lm_free(a);
    void *again = lm_malloc(48);                     /* likely the same slot */
    assert_int_equal(info_of(again, 20 * MS).gen, LM_GEN_YOUNG);
    lm_free(again);
}

/* 400 scans: more than the 255 stamps.  A block that lives through them
 * all must stay old (re-stamped ancient, never wrapped back to young), with
 * an age that keeps growing; a block born late has its own exact age. */
static void test_stamps_never_wrap(void **state)
{
    (void)state;
    void *old_small = lm_malloc(32);
    void *old_large = lm_malloc(200000);
    void *late = NULL;
    uint64_t t = 0;
    for (unsigned i = 0; i < 400; i++) {
        t += 1000 * MS;
        lm_gen_scan_done(i % 10 == 9 ? LM_GEN_MIDDLE : LM_GEN_YOUNG, t);
        if (i == 300)
            late = lm_malloc(32);
        struct lm_gen_info s = info_of(old_small, t), l = info_of(old_large, t);
        assert_int_equal(s.gen, i < 9 ? LM_GEN_MIDDLE : LM_GEN_OLD);
        assert_int_equal(l.gen, s.gen);
        assert_true(s.scans >= (i < 127 ? i + 1 : 127));
        /* The age bound is exact until re-stamping, then at least the time
         * of the scan half a stamp space ago. */
        assert_true(s.age_ms <= (uint64_t)(i + 1) * 1000);
        if (i >= 200)
            assert_true(s.age_ms >= 100000);
    }
    struct lm_gen_info lg = info_of(late, t);
    assert_int_equal(lg.scans, 99);
    assert_int_equal(lg.age_ms, 98 * 1000);
    assert_int_equal(stamp_of(old_small), LM_GEN_ANCIENT);
    assert_int_equal(stamp_of(old_large), LM_GEN_ANCIENT);
    lm_free(old_small);
    lm_free(old_large);
    lm_free(late);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(lm_gen_name(LM_GEN_YOUNG), "young");
    assert_string_equal(lm_gen_name(LM_GEN_MIDDLE), "middle");
    assert_string_equal(lm_gen_name(LM_GEN_OLD), "old");
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
        cmocka_unit_test_setup(test_promotion_and_age, setup),
        cmocka_unit_test_setup(test_reused_block_is_young, setup),
        cmocka_unit_test_setup(test_stamps_never_wrap, setup),
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
