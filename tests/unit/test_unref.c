/*
 * test_unref.c - the table of consecutive unreachable scans (unref.h):
 * counts carried from one committed walk to the next, identity checks
 * (address, size, stack, stamp; ancient stamps), reported flags, walks that
 * are never committed, and a forked snapshot child writing the table its
 * parent's next child reads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gen.h"
#include "unref.h"

static struct lm_block_ref ref(uintptr_t addr, size_t size, uint32_t stack, uint8_t stamp)
{
    return (struct lm_block_ref){ .start = addr, .size = size, .stack_id = stack, .gen = stamp };
}

/* One scan: visits blocks (address order), returns their counts. */
static void scan(const struct lm_block_ref *b, size_t n, unsigned *counts, bool *reported,
                 bool commit)
{
    struct lm_unref_walk w;
    lm_unref_begin(&w);
    for (size_t i = 0; i < n; i++)
        counts[i] = lm_unref_visit(&w, &b[i], &reported[i]);
    if (commit)
        lm_unref_commit(&w);
}

static void test_counts_and_identity(void **state)
{
    (void)state;
    assert_int_equal(lm_unref_setup(), 0);
    struct lm_block_ref s1[3] = { ref(0x1000, 32, 7, 0), ref(0x2000, 64, 8, 0),
                                  ref(0x3000, 16, 9, 0) };
    unsigned c[3];
    bool r[3];
    scan(s1, 3, c, r, true);
    assert_int_equal(c[0], 1);
    assert_int_equal(c[2], 1);
    scan(s1, 3, c, r, true);
    assert_int_equal(c[0], 2);
    assert_int_equal(c[1], 2);
    assert_false(r[0]);

    /* 0x2000 reachable this time: it drops out; 0x3000 is another block
     * now (new stamp); a new block appears in between. */
    struct lm_block_ref s3[3] = { ref(0x1000, 32, 7, 0), ref(0x2800, 8, 1, 1),
                                  ref(0x3000, 16, 9, 1) };
    scan(s3, 3, c, r, true);
    assert_int_equal(c[0], 3);
    assert_int_equal(c[1], 1);
    assert_int_equal(c[2], 1);
    struct lm_block_ref s4[2] = { ref(0x1000, 32, 7, 0), ref(0x2000, 64, 8, 0) };
    scan(s4, 2, c, r, true);
    assert_int_equal(c[0], 4);
    assert_int_equal(c[1], 1);                 /* not consecutive */

    /* Another size or stack at the same address is another block. */
    struct lm_block_ref s5[1] = { ref(0x1000, 33, 7, 0) };
    scan(s5, 1, c, r, true);
    assert_int_equal(c[0], 1);
    struct lm_block_ref s6[1] = { ref(0x1000, 33, 6, 0) };
    scan(s6, 1, c, r, true);
    assert_int_equal(c[0], 1);
    /* A block re-stamped ancient between two scans is still itself. */
    struct lm_block_ref s7[1] = { ref(0x1000, 33, 6, LM_GEN_ANCIENT) };
    scan(s7, 1, c, r, true);
    assert_int_equal(c[0], 2);
}

static void test_uncommitted_and_reported(void **state)
{
    (void)state;
    assert_int_equal(lm_unref_setup(), 0);
    struct lm_block_ref b[2] = { ref(0x5000, 8, 1, 3), ref(0x6000, 8, 1, 3) };
    unsigned c[2];
    bool r[2];
    scan(b, 2, c, r, true);
    unsigned base = c[0];
    scan(b, 2, c, r, false);                   /* a snapshot that died */
    assert_int_equal(c[0], base + 1);
    scan(b, 2, c, r, true);
    assert_int_equal(c[0], base + 1);          /* the dead one did not count */

    struct lm_unref_walk w;
    lm_unref_begin(&w);
    lm_unref_visit(&w, &b[0], &r[0]);
    size_t first = w.last;
    lm_unref_visit(&w, &b[1], &r[1]);
    lm_unref_mark_reported(&w, first);
    lm_unref_commit(&w);
    scan(b, 2, c, r, true);
    assert_true(r[0]);
    assert_false(r[1]);
    scan(b, 2, c, r, true);
    assert_true(r[0]);                         /* stays reported */
}

static void test_shared_with_children(void **state)
{
    (void)state;
    assert_int_equal(lm_unref_setup(), 0);
    struct lm_block_ref b[1] = { ref(0x9000, 8, 2, 4) };
    unsigned c[1];
    bool r[1];
    scan(b, 1, c, r, true);
    assert_int_equal(c[0], 1);
    for (int i = 0; i < 2; i++) {              /* two snapshot children */
        pid_t pid = fork();
        if (pid == 0) {
            scan(b, 1, c, r, true);
            _exit(c[0] == (unsigned)(2 + i) ? 0 : 1);
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    scan(b, 1, c, r, true);
    assert_int_equal(c[0], 4);
    /* A forked program's child forgets the parent's table. */
    pid_t pid = fork();
    if (pid == 0) {
        lm_unref_atfork_child();
        scan(b, 1, c, r, true);                 /* no table yet: count 1 */
        if (c[0] != 1 || lm_unref_setup() != 0)
            _exit(1);
        scan(b, 1, c, r, true);
        _exit(c[0] == 1 ? 0 : 2);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    scan(b, 1, c, r, true);
    assert_int_equal(c[0], 5);                  /* the parent's is untouched */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_identity),
        cmocka_unit_test(test_uncommitted_and_reported),
        cmocka_unit_test(test_shared_with_children),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
