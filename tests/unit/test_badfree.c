/*
 * test_badfree.c - frees of pointers leakmark never handed out or already
 * took back (preload/badfree.h, the bad paths of alloc.h/heap.c), with the
 * log captured through lm_log_set_fd(pipe): a stack address, a glibc
 * pointer, wild pointers into the region, double frees (small and large),
 * interior pointers (small, large head unit and later unit), and double
 * frees across threads (remote path, owner after remote, remote after
 * owner).  Each gives exactly one "invalid pointer" line naming the address
 * as %p prints it; the program goes on; the heap stays intact: a block
 * freed twice is handed out at most once among two arenas' worth of live
 * blocks of its class, and interior frees leave their block live.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include "alloc.h"
#include "log.h"

static int log_pipe[2];
static int saved_fd;
static char logbuf[65536];

static int setup(void **state)
{
    (void)state;
    if (!lm_init())
        return -1;
    if (pipe2(log_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
        return -1;
    saved_fd = lm_log_fd();
    lm_log_set_fd(log_pipe[1]);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    lm_log_set_fd(saved_fd);
    close(log_pipe[0]);
    close(log_pipe[1]);
    return 0;
}

static size_t drain(void)
{
    size_t n = 0;
    for (;;) {
        ssize_t r = read(log_pipe[0], logbuf + n, sizeof logbuf - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    logbuf[n] = 0;
    return n;
}

/* Does `line` (len bytes) hold addr as a whole token? */
static bool has_addr(const char *line, size_t len, const char *addr)
{
    size_t al = strlen(addr);
    for (size_t i = 0; i + al <= len; i++)
        if (!memcmp(line + i, addr, al) && (i + al == len || !isxdigit((unsigned char)line[i + al])))
            return true;
    return false;
}

/* Everything logged since the last call: exactly one "invalid pointer"
 * line, and it names p. */
static void expect_one_report(const void *p, const char *what)
{
    size_t n = drain();
    char addr[64];
    snprintf(addr, sizeof addr, "%p", p);
    unsigned reports = 0, naming = 0;
    for (const char *line = logbuf; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (memmem(line, len, "invalid pointer", 15)) {
            reports++;
            naming += has_addr(line, len, addr);
        }
        line += len + (end ? 1 : 0);
    }
    if (reports != 1 || naming != 1)
        fail_msg("%s of %s: %u report lines, %u naming it; log:\n%.*s", what, addr, reports, naming,
                 (int)n, logbuf);
}

static void expect_no_report(const char *what)
{
    size_t n = drain();
    if (strstr(logbuf, "invalid pointer"))
        fail_msg("%s: unexpected report:\n%.*s", what, (int)n, logbuf);
}

static bool small_live(const void *p)
{
    if (!lm_in_region(p) || lm_unit_kind[lm_unit_index(p)] != LM_UNIT_ARENA)
        return false;
    const struct lm_arena *a = lm_arena_of(p);
    uint32_t idx;
    return lm_arena_valid(a) && lm_arena_find_live(a, p, &idx) && lm_arena_block(a, idx) == (const char *)p;
}

static int cmp_ptr(const void *x, const void *y)
{
    uintptr_t a = *(const uintptr_t *)x, b = *(const uintptr_t *)y;
    return a < b ? -1 : a > b;
}

/* Two arenas' worth of live blocks of p's class (p freed, maybe twice):
 * no address comes twice, p at most once, and every block keeps its
 * contents. */
static void check_class_intact(size_t size)
{
    void *probe = lm_malloc(size);
    assert_non_null(probe);
    size_t n = 2u * lm_arena_of(probe)->capacity + 2;
    uintptr_t *ps = malloc(n * sizeof *ps);
    assert_non_null(ps);
    ps[0] = (uintptr_t)probe;
    for (size_t i = 1; i < n; i++) {
        ps[i] = (uintptr_t)lm_malloc(size);
        assert_true(ps[i] != 0);
    }
    for (size_t i = 0; i < n; i++)
        memset((void *)ps[i], (int)(i & 0xff), size);
    for (size_t i = 0; i < n; i++)
        if (*(unsigned char *)ps[i] != (unsigned char)(i & 0xff) ||
            ((unsigned char *)ps[i])[size - 1] != (unsigned char)(i & 0xff))
            fail_msg("block %zu (%#lx) shared with another", i, (unsigned long)ps[i]);
    qsort(ps, n, sizeof *ps, cmp_ptr);
    for (size_t i = 1; i < n; i++)
        if (ps[i] == ps[i - 1])
            fail_msg("%#lx handed out twice", (unsigned long)ps[i]);
    for (size_t i = 0; i < n; i++)
        lm_free((void *)ps[i]);
    free(ps);
}

static void test_foreign(void **state)
{
    (void)state;
    drain();
    int on_stack[4];
    lm_free(&on_stack[1]);
    expect_one_report(&on_stack[1], "free of a stack address");
    void *g = malloc(32);                   /* glibc's */
    assert_non_null(g);
    lm_free(g);
    expect_one_report(g, "free of a glibc block");
    free(g);                                /* still glibc's to free */
    lm_free(NULL);
    expect_no_report("free(NULL)");
    static char in_data[64];
    lm_free(in_data + 16);
    expect_one_report(in_data + 16, "free of a static address");
}

static void test_wild_in_region(void **state)
{
    (void)state;
    drain();
    void *p = lm_malloc(64);
    struct lm_arena *a = lm_arena_of(p);
    lm_free(a);                             /* the arena header */
    expect_one_report(a, "free of an arena header");
    lm_free((char *)a + LM_ARENA_HEADER + 8);    /* its bitmaps */
    expect_one_report((char *)a + LM_ARENA_HEADER + 8, "free into the bitmaps");
    char *unused = (char *)lm_region_base + lm_region_size - LM_UNIT_SIZE;   /* never handed out */
    lm_free(unused);
    expect_one_report(unused, "free of an unused unit");
    lm_free(unused + 48);
    expect_one_report(unused + 48, "free inside an unused unit");
    assert_true(small_live(p));
    lm_free(p);
    expect_no_report("good free after wild ones");
}

static void test_double_free_small(void **state)
{
    (void)state;
    drain();
    const size_t size = 96;
    void *keep = lm_malloc(size);           /* keeps the arena in use */
    void *p = lm_malloc(size);
    lm_free(p);
    expect_no_report("first free");
    lm_free(p);
    expect_one_report(p, "double free (small)");
    check_class_intact(size);
    expect_no_report("after the double free");
    lm_free(keep);
}

static void test_double_free_large(void **state)
{
    (void)state;
    drain();
    void *p = lm_malloc(3u << 20);
    lm_free(p);
    lm_free(p);
    expect_one_report(p, "double free (large)");
    /* The span is handed out once: several live large blocks, distinct. */
    enum { N = 8 };
    char *q[N];
    for (int i = 0; i < N; i++) {
        q[i] = lm_malloc(3u << 20);
        assert_non_null(q[i]);
        memset(q[i], i + 1, 3u << 20);
    }
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < i; j++)
            assert_ptr_not_equal(q[i], q[j]);
        assert_int_equal(q[i][0], i + 1);
        assert_int_equal(q[i][(3u << 20) - 1], i + 1);
    }
    for (int i = 0; i < N; i++)
        lm_free(q[i]);
    expect_no_report("after the large double free");
}

static void test_interior(void **state)
{
    (void)state;
    drain();
    char *p = lm_malloc(200);
    memset(p, 0x6B, 200);
    lm_free(p + 8);
    expect_one_report(p + 8, "interior free (small)");
    lm_free(p + 199);
    expect_one_report(p + 199, "interior free (small, last byte)");
    assert_true(small_live(p));
    assert_int_equal(p[0], 0x6B);
    assert_int_equal(p[199], 0x6B);

    char *l = lm_malloc(3 * LM_UNIT_SIZE);
    lm_free(l + 4096);
    expect_one_report(l + 4096, "interior free (large, head unit)");
    lm_free(l + LM_UNIT_SIZE);
    expect_one_report(l + LM_UNIT_SIZE, "interior free (large, unit boundary)");
    lm_free(l + 2 * LM_UNIT_SIZE + 16);
    expect_one_report(l + 2 * LM_UNIT_SIZE + 16, "interior free (large, last unit)");
    assert_true(lm_large_is_live(l));

    lm_free(p);
    lm_free(l);
    expect_no_report("freeing the real starts");
    assert_false(small_live(p));
    assert_false(lm_large_is_live(l));
    check_class_intact(200);
}

struct remote_job {
    void *p;
    int times;
};

static void *remote_free(void *arg)
{
    struct remote_job *j = arg;
    for (int i = 0; i < j->times; i++)
        lm_free(j->p);
    return NULL;
}

static void run_remote(void *p, int times)
{
    pthread_t t;
    struct remote_job j = { p, times };
    assert_int_equal(pthread_create(&t, NULL, remote_free, &j), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
}

static void test_double_free_remote(void **state)
{
    (void)state;
    drain();
    const size_t size = 48;
    void *keep = lm_malloc(size);

    void *p = lm_malloc(size);              /* another thread frees it twice */
    run_remote(p, 2);
    expect_one_report(p, "double free by another thread");
    assert_false(small_live(p));

    void *q = lm_malloc(size);              /* another thread, then the owner */
    run_remote(q, 1);
    expect_no_report("remote free");
    lm_free(q);
    expect_one_report(q, "owner free after a remote free");

    void *r = lm_malloc(size);              /* the owner, then another thread */
    lm_free(r);
    run_remote(r, 1);
    expect_one_report(r, "remote free after the owner's");

    check_class_intact(size);
    expect_no_report("after the remote double frees");
    lm_free(keep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_foreign),
        cmocka_unit_test(test_wild_in_region),
        cmocka_unit_test(test_double_free_small),
        cmocka_unit_test(test_double_free_large),
        cmocka_unit_test(test_interior),
        cmocka_unit_test(test_double_free_remote),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
