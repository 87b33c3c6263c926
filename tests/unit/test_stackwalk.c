/*
 * test_stackwalk.c - leakmark's own stack walk (preload/stackwalk.h) must
 * return exactly what libunwind returns, frame for frame, on every shape of
 * stack the walker accepts, and decline (so that libunwind answers) where it
 * does not: recursion of every depth with fixed frames, alloca (rbp-based
 * CFA), large frames and calls through function pointers; glibc frames
 * (qsort's comparator); another thread; a signal handler (signal frame:
 * declined, same result); depth limits and skips.  Also the per-thread
 * cache (hits on repetition, emptied by lm_unwind_forget), code without
 * unwind information (ends the walk when rbp is 0), the stack-bound
 * guard, and walks from hostile start states that must never fault.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <alloca.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "alloc.h"
#include "backtrace.h"
#include "cfi.h"
#include "stackdepot.h"
#include "stackwalk.h"
#include "threads.h"

#define BARRIER() __asm__ __volatile__("" ::: "memory")
#define MAXF LM_BT_MAX_FRAMES

struct pair {
    uintptr_t fast[MAXF], slow[MAXF];
    int nfast, nslow;
};

/* Captures the same stack with the walker and with libunwind alone, from
 * the same call site (the pcs must then be identical). */
static __attribute__((noinline)) void capture_both(struct pair *p, int max, int skip)
{
    /* volatile: one call site for both rounds (no unrolling). */
    for (volatile int round = 0; round < 2; round++) {
        lm_backtrace_set_unwinder(round == 1 ? LM_UNWINDER_LIBUNWIND : LM_UNWINDER_FAST);
        int n = lm_backtrace(round ? p->slow : p->fast, max, skip);
        BARRIER();
        if (round)
            p->nslow = n;
        else
            p->nfast = n;
    }
    lm_backtrace_set_unwinder(LM_UNWINDER_FAST);
    BARRIER();
}

static void assert_same(const struct pair *p)
{
    assert_int_equal(p->nfast, p->nslow);
    assert_true(p->nfast > 0);
    for (int i = 0; i < p->nfast; i++)
        assert_int_equal(p->fast[i], p->slow[i]);
}

/* ---- stack shapes --------------------------------------------------- */

struct shape {
    struct pair *out;
    int max, skip;
};

static __attribute__((noinline)) int recurse(int d, const struct shape *s);

static __attribute__((noinline)) int via_alloca(int d, const struct shape *s)
{
    volatile char *buf = alloca(16 + (size_t)d * 24);
    buf[0] = (char)d;
    int r = recurse(d - 1, s);
    BARRIER();
    return r + buf[0];
}

static __attribute__((noinline)) int via_big_frame(int d, const struct shape *s)
{
    volatile char buf[3000];
    buf[d] = (char)d;
    int r = recurse(d - 1, s);
    BARRIER();
    return r + buf[d];
}

static int (*volatile indirect)(int, const struct shape *) = recurse;

static __attribute__((noinline)) int via_pointer(int d, const struct shape *s)
{
    int r = indirect(d - 1, s);
    BARRIER();
    return r + 1;
}

static __attribute__((noinline)) int recurse(int d, const struct shape *s)
{
    if (d <= 0) {
        capture_both(s->out, s->max, s->skip);
        return 0;
    }
    int r;
    switch (d % 4) {
    case 0: r = via_alloca(d, s); break;
    case 1: r = via_big_frame(d, s); break;
    case 2: r = via_pointer(d, s); break;
    default: r = recurse(d - 1, s); break;
    }
    BARRIER();
    return r + 1;
}

static void fresh_stats(struct lm_unwind_stats *st) { lm_unwind_thread_stats(st); }

static void test_shapes_match_libunwind(void **state)
{
    (void)state;
    static const int maxes[] = { 1, 4, 16, 64 };
    struct lm_unwind_stats before, after;
    fresh_stats(&before);
    for (int d = 0; d <= 45; d++) {
        for (unsigned m = 0; m < sizeof maxes / sizeof maxes[0]; m++) {
            for (int skip = 0; skip <= 3; skip += 3) {
                struct pair p;
                struct shape s = { &p, maxes[m], skip };
                recurse(d, &s);
                assert_same(&p);
                /* Deep stacks fill the buffer, shallow ones reach main's callers. */
                if (d + 2 >= maxes[m] + skip)
                    assert_int_equal(p.nfast, maxes[m]);
            }
        }
    }
    fresh_stats(&after);
    /* The walker itself answered (none of these frames is declined). */
    assert_true(after.walks - before.walks >= 46 * 4 * 2);
    assert_int_equal(after.declined, before.declined);
}

/* ---- through glibc -------------------------------------------------- */

static struct pair qsort_pair;
static int qsort_captured;

static int compare_and_capture(const void *a, const void *b)
{
    if (!qsort_captured++)
        capture_both(&qsort_pair, 32, 0);
    return *(const int *)a - *(const int *)b;
}

static void test_through_qsort(void **state)
{
    (void)state;
    int v[64];
    for (int i = 0; i < 64; i++)
        v[i] = (i * 37) % 64;
    qsort_captured = 0;
    qsort(v, 64, sizeof v[0], compare_and_capture);
    assert_true(qsort_captured > 0);
    assert_same(&qsort_pair);
    assert_true(qsort_pair.nfast >= 4);
}

/* ---- another thread ------------------------------------------------- */

static void *thread_main(void *arg)
{
    struct pair *p = arg;
    void *block = lm_malloc(32);         /* gives the thread a heap and its bounds */
    assert_non_null(block);
    struct shape s = { p, 64, 0 };
    recurse(9, &s);
    lm_free(block);
    return NULL;
}

static void test_other_thread(void **state)
{
    (void)state;
    struct pair p;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, thread_main, &p), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_same(&p);
    /* main's recursion, the thread start: more than the 9 + 1 frames. */
    assert_true(p.nfast > 10);
}

/* ---- signal handler: declined at the signal frame, same answer ----- */

static struct pair sig_pair;

static void on_signal(int sig)
{
    (void)sig;
    capture_both(&sig_pair, 32, 0);
}

static void test_signal_frame(void **state)
{
    (void)state;
    struct lm_unwind_stats before, after;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR2, &sa, &old), 0);
    fresh_stats(&before);
    raise(SIGUSR2);
    fresh_stats(&after);
    sigaction(SIGUSR2, &old, NULL);
    assert_same(&sig_pair);
    assert_true(sig_pair.nfast >= 3);            /* the handler, then past the signal frame */
    assert_true(after.declined > before.declined);

    /* On an alternate signal stack (outside the registered stack): the
     * walker declines at once, libunwind answers, both agree. */
    static char alt[64 * 1024];
    stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0 }, old_ss;
    assert_int_equal(sigaltstack(&ss, &old_ss), 0);
    sa.sa_flags = SA_ONSTACK;
    assert_int_equal(sigaction(SIGUSR2, &sa, &old), 0);
    memset(&sig_pair, 0, sizeof sig_pair);
    raise(SIGUSR2);
    sigaction(SIGUSR2, &old, NULL);
    sigaltstack(&old_ss, NULL);
    assert_same(&sig_pair);
    assert_true(sig_pair.nfast >= 3);
}

/* ---- fork from a threaded parent ----------------------------------- */

static pthread_mutex_t hold = PTHREAD_MUTEX_INITIALIZER;
static int child_sig_frames = -1;

static void *holder_main(void *arg)
{
    (void)arg;
    void *block = lm_malloc(48);         /* registered: the parent has two threads */
    pthread_mutex_lock(&hold);
    pthread_mutex_unlock(&hold);
    lm_free(block);
    return NULL;
}

static __attribute__((noinline)) int capture_here(uintptr_t *pcs)
{
    int n = lm_backtrace(pcs, 16, 0);
    BARRIER();
    return n;
}

static void on_signal_in_child(int sig)
{
    (void)sig;
    uintptr_t pcs[16];
    child_sig_frames = capture_here(pcs);
}

/* The child of a multi-threaded parent must not call into libunwind (its
 * mutexes may be held by threads the child lacks) but still records the
 * stacks the walker takes: frames from ordinary code, none from a handler
 * (a signal frame is what the walker declines). */
static void test_fork_child_of_threaded_parent(void **state)
{
    (void)state;
    pthread_t t;
    pthread_mutex_lock(&hold);
    assert_int_equal(pthread_create(&t, NULL, holder_main, NULL), 0);
    for (int i = 0; i < 2000 && lm_threads_count() < 2; i++)
        usleep(1000);
    assert_true(lm_threads_count() >= 2);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        uintptr_t pcs[16];
        int n = capture_here(pcs);
        bool ok = n >= 3 && pcs[0] > (uintptr_t)capture_here && pcs[0] < (uintptr_t)capture_here + 256;
        signal(SIGUSR2, on_signal_in_child);
        raise(SIGUSR2);
        _exit(ok && child_sig_frames == 0 ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    pthread_mutex_unlock(&hold);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* The parent still falls back to libunwind for a handler's stack. */
    signal(SIGUSR2, on_signal_in_child);
    raise(SIGUSR2);
    signal(SIGUSR2, SIG_DFL);
    assert_true(child_sig_frames >= 3);
}

/* ---- cache ---------------------------------------------------------- */

/* Walks the same stack from one call site; stats after each walk. */
static void walk_rounds(struct pair *p, struct lm_unwind_stats *st, int rounds, bool forget_before_last)
{
    struct shape s = { p, 16, 0 };
    for (volatile int i = 0; i < rounds; i++) {
        if (forget_before_last && i == rounds - 1)
            lm_unwind_forget();
        recurse(5, &s);
        lm_unwind_thread_stats(&st[i]);
    }
}

static void test_cache_hits_and_forget(void **state)
{
    (void)state;
    struct pair p;
    struct lm_unwind_stats st[3];
    walk_rounds(&p, st, 3, true);
    assert_int_equal(st[1].misses, st[0].misses);      /* every rule was cached */
    assert_true(st[1].hits > st[0].hits);
    assert_int_equal(st[2].flushes, st[1].flushes + 1);
    assert_true(st[2].misses > st[1].misses);          /* learnt again */
    assert_same(&p);
}

/* ---- memo ----------------------------------------------------------- */

static __attribute__((noinline)) uint32_t capture_id_leaf(void)
{
    uint32_t id = lm_backtrace_id(16, 0, lm_stackdepot_put);
    BARRIER();
    return id;
}

/* Two callers with the same frame: the leaf runs at the same sp with the
 * same return address into it, so both land in one memo slot; only the
 * return address into via_x / via_y (one frame up) tells them apart. */
static __attribute__((noinline)) uint32_t via_x(void)
{
    uint32_t id = capture_id_leaf();
    BARRIER();
    return id;
}

static __attribute__((noinline)) uint32_t via_y(void)
{
    uint32_t id = capture_id_leaf();
    BARRIER();
    return id;
}

static void test_memo_hits_only_when_proven(void **state)
{
    (void)state;
    uint32_t x[7], y[7];
    struct lm_unwind_stats a, b, before_forget, after_forget;
    lm_unwind_thread_stats(&a);
    for (volatile int i = 0; i < 7; i++) {
        if (i == 6) {
            /* A forgotten cache forgets the memo too: the next capture walks. */
            lm_unwind_forget();
            lm_unwind_thread_stats(&before_forget);
        }
        for (volatile int k = 0; k <= i % 2; k++)
            x[i] = via_x();                  /* twice in a row every other round */
        if (i == 6)
            lm_unwind_thread_stats(&after_forget);
        y[i] = via_y();
        if (i == 5)
            lm_unwind_thread_stats(&b);
    }
    assert_true(x[0] != 0 && y[0] != 0);
    assert_true(x[0] != y[0]);
    for (int i = 1; i < 7; i++) {
        assert_int_equal(x[i], x[0]);
        assert_int_equal(y[i], y[0]);
    }
    assert_true(b.memo_hits > a.memo_hits);
    assert_true(b.memo_misses > a.memo_misses);
    assert_int_equal(after_forget.memo_hits, before_forget.memo_hits);
    assert_true(after_forget.walks > before_forget.walks);
    /* The ids name the frames libunwind sees. */
    const uintptr_t *frames;
    int n = lm_stackdepot_get(x[0], &frames);
    assert_true(n >= 3);
    assert_true(frames[0] > (uintptr_t)capture_id_leaf && frames[0] < (uintptr_t)capture_id_leaf + 256);
    assert_true(frames[1] > (uintptr_t)via_x && frames[1] < (uintptr_t)via_x + 256);
    n = lm_stackdepot_get(y[0], &frames);
    assert_true(n >= 3);
    assert_true(frames[1] > (uintptr_t)via_y && frames[1] < (uintptr_t)via_y + 256);
}

/* ---- guards ---------------------------------------------------------- */

static void test_outside_stack_declines(void **state)
{
    (void)state;
    uintptr_t pcs[8];
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    assert_true(here >= lm_tls_stack_lo && here < lm_tls_stack_hi);
    /* An sp outside the registered stack (an alternate signal stack). */
    static char other_stack[4096];
    assert_int_equal(lm_unwind_walk(pcs, 8, 0, (uintptr_t)test_outside_stack_declines,
                                     (uintptr_t)other_stack + 2048, 0, NULL), -1);
    uintptr_t lo = lm_tls_stack_lo, hi = lm_tls_stack_hi;
    lm_tls_stack_lo = lm_tls_stack_hi = 0;         /* not registered */
    int n = lm_unwind_walk(pcs, 8, 0, (uintptr_t)__builtin_return_address(0), here + 16, here, NULL);
    lm_tls_stack_lo = lo, lm_tls_stack_hi = hi;
    assert_int_equal(n, -1);
}

/* Code no FDE covers (here: the padding after a function of this test):
 * with rbp 0, as entry code leaves it, the walk ends at that frame, the way
 * libunwind ends it; with any other rbp it declines (libunwind would
 * follow rbp). */
static void test_code_without_fde(void **state)
{
    (void)state;
    struct lm_cfi_rule r;
    uintptr_t pc = (uintptr_t)test_outside_stack_declines;
    for (int i = 0; i < 65536 && lm_cfi_rule_for(pc, &r) != LM_CFI_NO_FDE; i++)
        pc++;
    assert_int_equal(lm_cfi_rule_for(pc, &r), LM_CFI_NO_FDE);
    uintptr_t pcs[8];
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    /* ip is a return address: the walker looks up ip - 1 */
    assert_int_equal(lm_unwind_walk(pcs, 8, 0, pc + 1, here, 0, NULL), 1);
    assert_int_equal(pcs[0], pc + 1);
    assert_int_equal(lm_unwind_walk(pcs, 8, 0, pc + 1, here, here + 64, NULL), -1);
}

/* Start states made of wrong registers: code addresses all over libc and
 * this test, random rbp values.  Every read stays inside the stack: the
 * walk returns (any count or -1) and never faults. */
static void test_hostile_starts_never_fault(void **state)
{
    (void)state;
    uintptr_t pcs[MAXF];
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    uintptr_t code[] = { (uintptr_t)qsort, (uintptr_t)memcpy, (uintptr_t)pthread_create,
                         (uintptr_t)recurse, (uintptr_t)test_hostile_starts_never_fault };
    uint64_t rng = 88172645463325252ull;
    int walked = 0;
    for (int i = 0; i < 20000; i++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        uintptr_t ip = code[rng % 5] + (rng >> 8) % 4096 + 1;
        uintptr_t rbp = (i & 1) ? (uintptr_t)(rng >> 3) : sp + (rng >> 40) % 65536;
        int n = lm_unwind_walk(pcs, MAXF, 0, ip, sp + (rng >> 20) % 512, rbp, NULL);
        assert_true(n >= -1 && n <= MAXF);
        walked += n > 0;
    }
    assert_true(walked > 0);
}

static int setup(void **state)
{
    (void)state;
    /* A heap (the cache lives in it) and registered stack bounds. */
    void *p = lm_malloc(24);
    assert_non_null(p);
    lm_free(p);
    return lm_tls_stack_hi ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes_match_libunwind),
        cmocka_unit_test(test_through_qsort),
        cmocka_unit_test(test_other_thread),
        cmocka_unit_test(test_signal_frame),
        cmocka_unit_test(test_fork_child_of_threaded_parent),
        cmocka_unit_test(test_cache_hits_and_forget),
        cmocka_unit_test(test_memo_hits_only_when_proven),
        cmocka_unit_test(test_outside_stack_declines),
        cmocka_unit_test(test_code_without_fde),
        cmocka_unit_test(test_hostile_starts_never_fault),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
