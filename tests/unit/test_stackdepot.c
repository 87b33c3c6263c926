/*
 * test_stackdepot.c - the stack depot (preload/stackdepot.h): dedup,
 * stable ids and contents, growth over many chunks, iteration, stats,
 * concurrent inserts of overlapping stacks from threads and from a signal
 * handler, a fork child, and lm_stack_capture.
 *
 * Synthetic stacks are made of pcs that no other test uses (each test has
 * its own `salt`), so the depot being process-global does not matter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backtrace.h"
#include "stackdepot.h"

#define BARRIER() __asm__ __volatile__("" ::: "memory")

/* Stack number k of family `salt`: 1..16 frames, all distinct per k. */
static int make_stack(uint64_t salt, uint64_t k, uintptr_t *pcs)
{
    int n = 1 + (int)(k % 16);
    for (int i = 0; i < n; i++)
        pcs[i] = (uintptr_t)(salt << 40 | k << 8 | (uint64_t)i);
    return n;
}

static void test_dedup(void **state)
{
    (void)state;
    uintptr_t a[4] = { 0x1000, 0x2000, 0x3000, 0x4000 };
    uintptr_t b[4] = { 0x1000, 0x2000, 0x3000, 0x4000 };
    uintptr_t c[4] = { 0x1000, 0x2000, 0x3000, 0x4001 };
    uint32_t ia = lm_stackdepot_put(a, 4);
    assert_int_not_equal(ia, 0);
    assert_int_equal(lm_stackdepot_put(b, 4), ia);       /* equal content */
    uint32_t ic = lm_stackdepot_put(c, 4);
    assert_int_not_equal(ic, 0);
    assert_int_not_equal(ic, ia);
    uint32_t i3 = lm_stackdepot_put(a, 3);               /* prefix differs */
    assert_int_not_equal(i3, 0);
    assert_int_not_equal(i3, ia);
    assert_int_equal(lm_stackdepot_put(a, 3), i3);
    assert_int_equal(lm_stackdepot_put(a, 0), 0);
    assert_int_equal(lm_stackdepot_put(a, -1), 0);
}

static void test_get(void **state)
{
    (void)state;
    uintptr_t a[5] = { 0xabc1, 0xabc2, 0xabc3, 0xabc4, 0xabc5 };
    uint32_t id = lm_stackdepot_put(a, 5);
    const uintptr_t *p = NULL;
    assert_int_equal(lm_stackdepot_get(id, &p), 5);
    assert_memory_equal(p, a, sizeof(a));
    assert_ptr_not_equal(p, a);                           /* a copy */
    a[0] = 0;                                             /* caller's buffer is free */
    assert_int_equal(lm_stackdepot_get(id, &p), 5);
    assert_int_equal(p[0], 0xabc1);
    assert_int_equal(lm_stackdepot_get(0, &p), 0);
    assert_null(p);
    assert_int_equal(lm_stackdepot_get(0xfffffff0u, &p), 0);   /* unmapped chunk */
    assert_null(p);
}

static void test_truncates_long_stacks(void **state)
{
    (void)state;
    static uintptr_t big[LM_STACKDEPOT_MAX_FRAMES + 10];
    for (int i = 0; i < LM_STACKDEPOT_MAX_FRAMES + 10; i++)
        big[i] = 0x7700000 + (uintptr_t)i;
    uint32_t id = lm_stackdepot_put(big, LM_STACKDEPOT_MAX_FRAMES + 10);
    const uintptr_t *p;
    assert_int_equal(lm_stackdepot_get(id, &p), LM_STACKDEPOT_MAX_FRAMES);
    assert_int_equal(lm_stackdepot_put(big, LM_STACKDEPOT_MAX_FRAMES), id);
}

#define MANY 200000

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t *many_ids;

static void count_family(uint32_t id, const uintptr_t *pcs, int n, void *arg)
{
    size_t *seen = arg;
    if (pcs[0] >> 40 != 7)                     /* salt of test_many */
        return;
    uint64_t k = (pcs[0] >> 8) & 0xffffffff;
    assert_true(k < MANY);
    assert_int_equal(n, 1 + (int)(k % 16));
    assert_int_equal(many_ids[k], id);
    seen[0]++;
}

static void test_many(void **state)
{
    (void)state;
    struct lm_stackdepot_stats s0, s1;
    lm_stackdepot_get_stats(&s0);
    many_ids = calloc(MANY, sizeof(*many_ids));
    assert_non_null(many_ids);
    uintptr_t pcs[16];
    size_t frames = 0;
    for (uint64_t k = 0; k < MANY; k++) {
        int n = make_stack(7, k, pcs);
        frames += (size_t)n;
        many_ids[k] = lm_stackdepot_put(pcs, n);
        assert_int_not_equal(many_ids[k], 0);
    }
    lm_stackdepot_get_stats(&s1);
    assert_int_equal(s1.stacks - s0.stacks, MANY);
    assert_int_equal(s1.frames - s0.frames, frames);
    /* ~ 200k * (16 + 8 * 8.5) bytes: several chunks */
    assert_true(s1.bytes_used - s0.bytes_used >= frames * sizeof(uintptr_t));
    assert_true(s1.bytes_mapped - s0.bytes_mapped >= 3 * LM_STACKDEPOT_CHUNK_SIZE);
    assert_true(s1.bytes_mapped >= s1.bytes_used);
    /* ids distinct: sort a copy */
    uint32_t *sorted = malloc(MANY * sizeof(*sorted));
    memcpy(sorted, many_ids, MANY * sizeof(*sorted));
    qsort(sorted, MANY, sizeof(*sorted), cmp_u32);
    for (size_t i = 1; i < MANY; i++)
        assert_true(sorted[i] != sorted[i - 1]);
    free(sorted);
    /* second pass: every stack is found (same id) and reads back */
    for (uint64_t k = 0; k < MANY; k++) {
        int n = make_stack(7, k, pcs);
        assert_int_equal(lm_stackdepot_put(pcs, n), many_ids[k]);
        const uintptr_t *p;
        assert_int_equal(lm_stackdepot_get(many_ids[k], &p), n);
        assert_memory_equal(p, pcs, (size_t)n * sizeof(uintptr_t));
    }
    lm_stackdepot_get_stats(&s0);
    assert_int_equal(s0.stacks, s1.stacks);               /* no new stacks */
    /* foreach visits each exactly once */
    size_t seen = 0;
    lm_stackdepot_foreach(count_family, &seen);
    assert_int_equal(seen, MANY);
    free(many_ids);
}

/* Threads insert the same ~20k stacks, each in its own order. */
#define SHARED 20011     /* prime: every k -> a*k+b permutation works */
#define THREADS 4

struct worker { int idx; uint32_t ids[SHARED]; };

static void *put_worker(void *arg)
{
    struct worker *w = arg;
    uintptr_t pcs[16];
    for (uint64_t j = 0; j < SHARED; j++) {
        /* threads 2i and 2i+1 share an order: they race on every insert */
        uint64_t o = (uint64_t)w->idx / 2;
        uint64_t k = (j * (2 * o + 1) + o * 977) % SHARED;
        int n = make_stack(9, k, pcs);
        w->ids[k] = lm_stackdepot_put(pcs, n);
    }
    return NULL;
}

static void test_concurrent_put(void **state)
{
    (void)state;
    struct lm_stackdepot_stats s0, s1;
    lm_stackdepot_get_stats(&s0);
    static struct worker w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i].idx = i;
        assert_int_equal(pthread_create(&t[i], NULL, put_worker, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    lm_stackdepot_get_stats(&s1);
    assert_int_equal(s1.stacks - s0.stacks, SHARED);
    print_message("races lost: %zu\n", s1.races_lost - s0.races_lost);
    uintptr_t pcs[16];
    for (int k = 0; k < SHARED; k++) {
        assert_int_not_equal(w[0].ids[k], 0);
        for (int i = 1; i < THREADS; i++)
            assert_int_equal(w[i].ids[k], w[0].ids[k]);
        int n = make_stack(9, (uint64_t)k, pcs);
        const uintptr_t *p;
        assert_int_equal(lm_stackdepot_get(w[0].ids[k], &p), n);
        assert_memory_equal(p, pcs, (size_t)n * sizeof(uintptr_t));
    }
}

/* A timer signal interrupts puts (also of the same stacks) on this thread;
 * the handler puts stacks too.  Ids must agree, nothing may hang. */
#define SIGSET 512
static uint32_t main_ids[SIGSET];
static volatile uint32_t handler_ids[SIGSET];
static volatile sig_atomic_t handler_runs, handler_next;

static void on_alarm(int sig)
{
    (void)sig;
    uintptr_t pcs[16];
    uint64_t k = (uint64_t)handler_next;
    handler_next = (sig_atomic_t)((k + 1) % SIGSET);
    int n = make_stack(11, k, pcs);
    handler_ids[k] = lm_stackdepot_put(pcs, n);
    handler_runs++;
}

static void test_signal_put(void **state)
{
    (void)state;
    struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART }, old;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGPROF, &sa, &old), 0);
    struct itimerval it = { { 0, 100 }, { 0, 100 } }, off = { { 0, 0 }, { 0, 0 } };
    assert_int_equal(setitimer(ITIMER_PROF, &it, NULL), 0);
    uintptr_t pcs[16];
    for (int round = 0; round < 200000 && handler_runs < 50; round++)
        for (uint64_t k = 0; k < SIGSET; k++) {
            int n = make_stack(11, k, pcs);
            uint32_t id = lm_stackdepot_put(pcs, n);
            assert_true(main_ids[k] == 0 || main_ids[k] == id);
            main_ids[k] = id;
        }
    setitimer(ITIMER_PROF, &off, NULL);
    sigaction(SIGPROF, &old, NULL);
    print_message("handler runs: %d\n", (int)handler_runs);
    assert_true(handler_runs > 0);
    for (int k = 0; k < SIGSET; k++) {
        assert_int_not_equal(main_ids[k], 0);
        assert_true(handler_ids[k] == 0 || handler_ids[k] == main_ids[k]);
    }
}

/* Fork while other threads insert; the child reads and inserts. */
static volatile int stop_bg;

static void *bg_put(void *arg)
{
    uint64_t salt = (uint64_t)(uintptr_t)arg, k = 0;
    uintptr_t pcs[16];
    while (!__atomic_load_n(&stop_bg, __ATOMIC_RELAXED)) {
        int n = make_stack(salt, k++ % 100000, pcs);
        lm_stackdepot_put(pcs, n);
    }
    return NULL;
}

static void test_fork_child(void **state)
{
    (void)state;
    uintptr_t a[3] = { 0xf0f1, 0xf0f2, 0xf0f3 };
    uint32_t id = lm_stackdepot_put(a, 3);
    pthread_t t[2];
    stop_bg = 0;
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, bg_put, (void *)(uintptr_t)(20 + i)), 0);
    usleep(20000);
    lm_stackdepot_atfork_prepare();
    pid_t pid = fork();
    if (pid == 0) {
        lm_stackdepot_atfork_child();
        alarm(10);
        const uintptr_t *p;
        int ok = lm_stackdepot_get(id, &p) == 3 && p[2] == 0xf0f3 &&
                 lm_stackdepot_put(a, 3) == id;
        uintptr_t pcs[16];
        for (uint64_t k = 0; k < 50000 && ok; k++) {
            int n = make_stack(22, k, pcs);
            uint32_t nid = lm_stackdepot_put(pcs, n);
            ok = nid != 0 && lm_stackdepot_put(pcs, n) == nid;
        }
        uint32_t cid = lm_stack_capture(0, 16);
        ok = ok && cid != 0;
        _exit(ok ? 0 : 1);
    }
    lm_stackdepot_atfork_parent();
    assert_true(pid > 0);
    __atomic_store_n(&stop_bg, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static __attribute__((noinline)) uint32_t site_a(void)
{
    uint32_t id = lm_stack_capture(0, 16);
    BARRIER();
    return id;
}

static __attribute__((noinline)) uint32_t site_b(void)
{
    uint32_t id = lm_stack_capture(0, 16);
    BARRIER();
    return id;
}

/* site_a n times from one call site; site_b once in the middle. */
static __attribute__((noinline)) void repeat_site_a(uint32_t *ids, int n)
{
    for (int i = 0; i < n; i++) {
        ids[i] = site_a();
        if (i == n / 2 && site_b() == 0)
            ids[i] = 0;
    }
    BARRIER();
}

static void test_capture(void **state)
{
    (void)state;
    uint32_t a = 0, b = 0;
    for (int i = 0; i < 100; i++) {
        uint32_t x = site_a(), y = site_b();
        assert_int_not_equal(x, 0);
        assert_int_not_equal(y, 0);
        if (i == 0) {
            a = x;
            b = y;
        }
        assert_int_equal(x, a);
        assert_int_equal(y, b);
    }
    assert_int_not_equal(a, b);
    const uintptr_t *p;
    int n = lm_stackdepot_get(a, &p);
    assert_true(n >= 2);
    /* first frame is site_a itself */
    assert_true(p[0] > (uintptr_t)site_a && p[0] < (uintptr_t)site_a + 256);
    assert_true(lm_stackdepot_get(lm_stack_capture(0, 2), &p) <= 2);
    /* One site again and again (the thread's last-stack entry answers):
     * always one id, the depot's own for those frames; a capture from
     * elsewhere in between does not disturb it. */
    uint32_t ids[10];
    repeat_site_a(ids, 10);
    assert_int_not_equal(ids[0], 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(ids[i], ids[0]);
    n = lm_stackdepot_get(ids[0], &p);
    assert_true(n >= 2);
    assert_int_equal(lm_stackdepot_put(p, n), ids[0]);
    lm_backtrace_thread_block();
    assert_int_equal(lm_stack_capture(0, 16), 0);       /* no frames, no id */
    lm_backtrace_thread_unblock();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dedup),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_truncates_long_stacks),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_concurrent_put),
        cmocka_unit_test(test_signal_put),
        cmocka_unit_test(test_fork_child),
        cmocka_unit_test(test_capture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
