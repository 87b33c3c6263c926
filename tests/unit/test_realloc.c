/*
 * test_realloc.c - lm_realloc and the edges of the malloc family:
 * realloc(NULL) allocates, realloc(p, 0) frees and returns NULL (glibc),
 * sizes inside the block's class stay in place, moves between classes and
 * between small and large keep the prefix and free the old block, 100
 * growth steps from 1 byte to 4 MiB keep every byte, a failed realloc
 * leaves the block alone, realloc of a freed pointer returns NULL and
 * reports it once; calloc overflow and impossible sizes give NULL + ENOMEM;
 * malloc(0) gives distinct, freeable blocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "alloc.h"
#include "log.h"

static int setup(void **state)
{
    (void)state;
    return lm_init() ? 0 : -1;
}

/* Is p the start of a live block (small or large)? */
static bool is_live(const void *p)
{
    if (!lm_in_region(p))
        return false;
    if (lm_unit_kind[lm_unit_index(p)] == LM_UNIT_ARENA) {
        const struct lm_arena *a = lm_arena_of(p);
        uint32_t idx;
        return lm_arena_valid(a) && lm_arena_find_live(a, p, &idx) && lm_arena_block(a, idx) == (const char *)p;
    }
    return lm_large_is_live(p);
}

static void fill(unsigned char *p, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        p[i] = (unsigned char)(i * 131 + (i >> 9));
}

static void check(const unsigned char *p, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(i * 131 + (i >> 9)))
            fail_msg("%s: byte %zu of %zu lost", what, i, n);
}

static void test_null_and_zero(void **state)
{
    (void)state;
    void *p = lm_realloc(NULL, 100);
    assert_non_null(p);
    assert_true(is_live(p));
    assert_true(lm_usable_size(p) >= 100);
    assert_null(lm_realloc(p, 0));
    assert_false(is_live(p));

    void *l = lm_realloc(NULL, 3u << 20);
    assert_non_null(l);
    assert_true(lm_large_is_live(l));
    assert_null(lm_realloc(l, 0));
    assert_false(lm_large_is_live(l));
}

/* Any size of the block's own class keeps the block where it is. */
static void test_in_place_within_class(void **state)
{
    (void)state;
    for (unsigned c = 1; c < LM_NUM_CLASSES; c++) {
        size_t lo = lm_class_size[c - 1] + 1, hi = lm_class_size[c];
        unsigned char *p = lm_malloc(lo);
        assert_non_null(p);
        fill(p, 0, lo);
        const size_t steps[] = { hi, lo, (lo + hi) / 2, hi - 1, lo + 1 };
        size_t have = lo;
        for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
            void *q = lm_realloc(p, steps[k]);
            if (q != p)
                fail_msg("class %u (%zu): realloc %zu -> %zu moved", c, hi, have, steps[k]);
            check(p, have < steps[k] ? have : steps[k], "in place");
            if (steps[k] > have)
                fill(p, have, steps[k]);
            have = steps[k];
            assert_int_equal(lm_usable_size(p), hi);
        }
        lm_free(p);
    }
}

static void test_moves_keep_prefix(void **state)
{
    (void)state;
    const size_t path[] = { 16, 1000, 20, 5000, 100, LM_SMALL_MAX, LM_SMALL_MAX + 1, 300000,
                            64, 2u << 20, LM_SMALL_MAX - 1, 1 };
    unsigned char *p = lm_malloc(path[0]);
    fill(p, 0, path[0]);
    size_t have = path[0];
    for (size_t k = 1; k < sizeof path / sizeof path[0]; k++) {
        unsigned char *q = lm_realloc(p, path[k]);
        assert_non_null(q);
        assert_true(is_live(q));
        assert_true(lm_usable_size(q) >= path[k]);
        size_t keep = have < path[k] ? have : path[k];
        check(q, keep, "move");
        if (q != p)
            assert_false(is_live(p));       /* the old block was freed */
        fill(q, keep, path[k]);
        p = q;
        have = path[k];
    }
    lm_free(p);
}

static void test_growth_1b_to_4mib(void **state)
{
    (void)state;
    const size_t top = 4u << 20;
    unsigned char *p = lm_realloc(NULL, 1);
    assert_non_null(p);
    fill(p, 0, 1);
    size_t have = 1;
    for (int i = 1; i < 100; i++) {
        /* geometric: (4 MiB)^(i/99) = 2^(22 i / 99), 2^frac by 16 halvings */
        size_t want = (size_t)1 << (22 * i / 99);
        want += want * (size_t)(22 * i % 99) / 99;
        if (i == 99)
            want = top;
        if (want <= have)
            want = have + 1;
        unsigned char *q = lm_realloc(p, want);
        if (!q)
            fail_msg("step %d: realloc to %zu failed", i, want);
        check(q, have, "growth");
        fill(q, have, want);
        p = q;
        have = want;
    }
    assert_int_equal(have, top);
    check(p, have, "growth end");
    lm_free(p);
}

/* A realloc that cannot be served leaves the block as it was. */
static void test_failed_realloc_keeps_block(void **state)
{
    (void)state;
    unsigned char *p = lm_malloc(200);
    fill(p, 0, 200);
    errno = 0;
    assert_null(lm_realloc(p, SIZE_MAX));
    assert_int_equal(errno, ENOMEM);
    assert_true(is_live(p));
    check(p, 200, "after failed realloc");
    errno = 0;
    assert_null(lm_realloc(p, (size_t)1 << 46));
    assert_int_equal(errno, ENOMEM);
    assert_true(is_live(p));
    lm_free(p);
}

/* Reads what the log pipe holds now. */
static size_t drain(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = 0;
    return n;
}

static unsigned count_lines_with(const char *buf, const char *a, const char *b)
{
    unsigned n = 0;
    for (const char *line = buf; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char tmp[2048];
        if (len >= sizeof tmp)
            len = sizeof tmp - 1;
        memcpy(tmp, line, len);
        tmp[len] = 0;
        if (strstr(tmp, a) && strstr(tmp, b))
            n++;
        line += len + (end ? 1 : 0);
    }
    return n;
}

static void test_realloc_of_freed_pointer(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    int old = lm_log_fd();
    lm_log_set_fd(fds[1]);
    char buf[16384], addr[64];

    void *sizes_p[2] = { lm_malloc(48), lm_malloc(1u << 20) };
    for (int k = 0; k < 2; k++) {
        void *p = sizes_p[k];
        lm_free(p);
        drain(fds[0], buf, sizeof buf);
        void *q = lm_realloc(p, 64);
        size_t n = drain(fds[0], buf, sizeof buf);
        assert_null(q);
        snprintf(addr, sizeof addr, "%p", p);
        if (count_lines_with(buf, "invalid pointer", addr) != 1)
            fail_msg("realloc of freed %p: expected one report line, log was:\n%.*s", p, (int)n, buf);
        assert_non_null(strstr(buf, "realloc"));
    }
    /* The heap goes on. */
    void *r = lm_malloc(48);
    assert_true(is_live(r));
    lm_free(r);
    lm_log_set_fd(old);
    close(fds[0]);
    close(fds[1]);
}

static void test_calloc_overflow(void **state)
{
    (void)state;
    const size_t cases[][2] = {
        { SIZE_MAX / 2, 3 }, { 3, SIZE_MAX / 2 }, { SIZE_MAX, 2 }, { (size_t)1 << 32, (size_t)1 << 32 },
        { ((size_t)1 << 33) + 1, (size_t)1 << 31 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        errno = 0;
        void *p = lm_calloc(cases[i][0], cases[i][1]);
        if (p)
            fail_msg("calloc(%#zx, %#zx) = %p", cases[i][0], cases[i][1], p);
        assert_int_equal(errno, ENOMEM);
    }
    /* no overflow, but no room either */
    errno = 0;
    assert_null(lm_calloc((size_t)1 << 23, (size_t)1 << 23));
    assert_int_equal(errno, ENOMEM);
    /* and ordinary calloc still zeroes */
    unsigned char *p = lm_malloc(4000);
    memset(p, 0xFF, 4000);
    lm_free(p);
    for (int k = 0; k < 50; k++) {
        unsigned char *q = lm_calloc(1000, 4);
        assert_non_null(q);
        for (int i = 0; i < 4000; i++)
            if (q[i])
                fail_msg("calloc byte %d is %#x", i, q[i]);
        lm_free(q);
    }
}

static void test_malloc_huge(void **state)
{
    (void)state;
    const size_t sizes[] = { SIZE_MAX, (size_t)1 << 46, SIZE_MAX - 15, (size_t)-LM_UNIT_SIZE };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        errno = 0;
        assert_null(lm_malloc(sizes[i]));
        assert_int_equal(errno, ENOMEM);
    }
}

static int cmp_ptr(const void *x, const void *y)
{
    uintptr_t a = *(const uintptr_t *)x, b = *(const uintptr_t *)y;
    return a < b ? -1 : a > b;
}

static void test_malloc_zero(void **state)
{
    (void)state;
    enum { N = 20000 };
    uintptr_t *ps = malloc(N * sizeof *ps);
    assert_non_null(ps);
    for (int i = 0; i < N; i++) {
        void *p = lm_malloc(0);
        assert_non_null(p);
        assert_true(is_live(p));
        ps[i] = (uintptr_t)p;
    }
    qsort(ps, N, sizeof *ps, cmp_ptr);
    for (int i = 1; i < N; i++)
        if (ps[i] == ps[i - 1])
            fail_msg("malloc(0) returned %#lx twice", (unsigned long)ps[i]);
    for (int i = 0; i < N; i++) {
        lm_free((void *)ps[i]);
        assert_false(is_live((void *)ps[i]));
    }
    free(ps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_and_zero),
        cmocka_unit_test(test_in_place_within_class),
        cmocka_unit_test(test_moves_keep_prefix),
        cmocka_unit_test(test_growth_1b_to_4mib),
        cmocka_unit_test(test_failed_realloc_keeps_block),
        cmocka_unit_test(test_realloc_of_freed_pointer),
        cmocka_unit_test(test_calloc_overflow),
        cmocka_unit_test(test_malloc_huge),
        cmocka_unit_test(test_malloc_zero),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
