/*
 * test_backtrace.c - stack capture (preload/backtrace.h): frame positions
 * against __builtin_return_address and function addresses, depth and skip,
 * nesting and blocking, the global switch, captures from a signal handler
 * racing captures on the same thread, a fork child, and the printed form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backtrace.h"
#include "log.h"
#include "os.h"

#define BARRIER() __asm__ __volatile__("" ::: "memory")

/* Upper bound on the size of the small noinline functions below: a pc
 * "inside f" must lie in [f, f + FN_SPAN). */
#define FN_SPAN 512

static uintptr_t inner_ra;            /* return address of inner() into outer() */

static __attribute__((noinline)) int inner(uintptr_t *pcs, int max, int skip)
{
    inner_ra = (uintptr_t)__builtin_return_address(0);
    int n = lm_backtrace(pcs, max, skip);
    BARRIER();
    return n;
}

static __attribute__((noinline)) int outer(uintptr_t *pcs, int max, int skip)
{
    int n = inner(pcs, max, skip);
    BARRIER();
    return n;
}

static bool in_fn(uintptr_t pc, void *fn)
{
    return pc > (uintptr_t)fn && pc < (uintptr_t)fn + FN_SPAN;
}

static void test_frames_are_callers(void **state)
{
    (void)state;
    uintptr_t pcs[16];
    int n = outer(pcs, 16, 0);
    assert_true(n >= 3);                       /* inner, outer, this test */
    assert_true(in_fn(pcs[0], (void *)inner));
    assert_int_equal(pcs[1], inner_ra);        /* exact return address */
    assert_true(in_fn(pcs[1], (void *)outer));
    assert_true(pcs[2] > (uintptr_t)test_frames_are_callers &&
                pcs[2] < (uintptr_t)test_frames_are_callers + 8 * FN_SPAN);
}

static void test_skip(void **state)
{
    (void)state;
    uintptr_t full[16], skipped[16];
    int n0 = outer(full, 16, 0);
    int n1 = outer(skipped, 16, 1);
    assert_int_equal(skipped[0], inner_ra);    /* first frame is outer's */
    assert_int_equal(n1, n0 - 1);
    assert_true(in_fn(skipped[0], (void *)outer));
    /* skipped[1] and full[2] are two call sites in this test; above them
     * the stacks are the same */
    for (int i = 2; i < n1; i++)
        assert_int_equal(skipped[i], full[i + 1]);
}

static __attribute__((noinline)) int recurse(int d, uintptr_t *pcs, int max)
{
    int n = d == 0 ? lm_backtrace(pcs, max, 0) : recurse(d - 1, pcs, max);
    BARRIER();
    return n;
}

static void test_depth(void **state)
{
    (void)state;
    uintptr_t pcs[LM_BT_MAX_FRAMES + 8];
    memset(pcs, 0xa5, sizeof(pcs));
    assert_int_equal(recurse(20, pcs, 8), 8);
    for (int i = 0; i < 8; i++)
        assert_true(in_fn(pcs[i], (void *)recurse));
    assert_int_equal(pcs[8], (uintptr_t)0xa5a5a5a5a5a5a5a5ull);   /* untouched */
    assert_int_equal(recurse(20, pcs, 1), 1);
    assert_int_equal(recurse(20, pcs, 0), 0);
    /* max above the limit is clamped, never overruns */
    int n = recurse(LM_BT_MAX_FRAMES + 10, pcs, LM_BT_MAX_FRAMES + 8);
    assert_int_equal(n, LM_BT_MAX_FRAMES);
    /* a shallow stack gives fewer frames than asked */
    int shallow = recurse(0, pcs, LM_BT_MAX_FRAMES);
    int deeper = recurse(5, pcs, LM_BT_MAX_FRAMES);
    assert_true(shallow > 0 && shallow < LM_BT_MAX_FRAMES);
    assert_int_equal(deeper, shallow + 5);
}

static void test_thread_block_nests(void **state)
{
    (void)state;
    uintptr_t pcs[8];
    assert_false(lm_backtrace_in_capture());
    lm_backtrace_thread_block();
    lm_backtrace_thread_block();
    assert_true(lm_backtrace_in_capture());
    assert_int_equal(lm_backtrace(pcs, 8, 0), 0);
    lm_backtrace_thread_unblock();
    assert_int_equal(lm_backtrace(pcs, 8, 0), 0);
    lm_backtrace_thread_unblock();
    assert_false(lm_backtrace_in_capture());
    assert_true(lm_backtrace(pcs, 8, 0) > 0);
}

static void test_global_switch(void **state)
{
    (void)state;
    uintptr_t pcs[8];
    assert_true(lm_backtrace_enabled());
    lm_backtrace_disable();
    lm_backtrace_disable();
    assert_false(lm_backtrace_enabled());
    assert_int_equal(lm_backtrace(pcs, 8, 0), 0);
    lm_backtrace_enable();
    assert_int_equal(lm_backtrace(pcs, 8, 0), 0);
    lm_backtrace_enable();
    assert_true(lm_backtrace(pcs, 8, 0) > 0);
}

/* A profiling timer fires while this thread captures in a loop; the
 * handler captures too.  When it interrupted a capture it must get 0
 * frames (nested), otherwise a real stack.  Deadlock = test timeout. */
static volatile sig_atomic_t h_nested, h_nested_bad, h_plain, h_plain_ok;

static void on_prof(int sig)
{
    (void)sig;
    uintptr_t pcs[16];
    bool nested = lm_backtrace_in_capture();
    int n = lm_backtrace(pcs, 16, 0);
    if (nested) {
        h_nested++;
        if (n != 0)
            h_nested_bad++;
    } else {
        h_plain++;
        if (n > 0)
            h_plain_ok++;
    }
}

static void test_signal_handler_capture(void **state)
{
    (void)state;
    struct sigaction sa = { .sa_handler = on_prof, .sa_flags = SA_RESTART }, old;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGPROF, &sa, &old), 0);
    struct itimerval it = { { 0, 200 }, { 0, 200 } }, off = { { 0, 0 }, { 0, 0 } };
    assert_int_equal(setitimer(ITIMER_PROF, &it, NULL), 0);
    uintptr_t pcs[32];
    uint64_t deadline = lm_os_now_ns() + 10ull * 1000 * 1000 * 1000;
    long loops = 0;
    while ((h_nested < 20 || h_plain_ok < 20) && lm_os_now_ns() < deadline) {
        int n = recurse(10, pcs, 32);
        assert_true(n > 10);
        loops++;
    }
    setitimer(ITIMER_PROF, &off, NULL);
    sigaction(SIGPROF, &old, NULL);
    print_message("loops %ld, handler: nested %d, plain %d (ok %d)\n", loops,
                  (int)h_nested, (int)h_plain, (int)h_plain_ok);
    assert_int_equal(h_nested_bad, 0);
    assert_true(h_plain_ok > 0);
    assert_int_equal(h_plain_ok, h_plain);
    assert_true(h_nested > 0);
}

static void test_fork_child_captures(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(10);
        uintptr_t pcs[16];
        int n = outer(pcs, 16, 0);
        _exit(n >= 3 && in_fn(pcs[0], (void *)inner) && pcs[1] == inner_ra ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_print(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    int old = lm_log_fd();
    uintptr_t pcs[33];
    int n = outer(pcs, 32, 0);
    assert_true(n >= 2);
    pcs[n++] = 0;                          /* no module */
    lm_log_set_fd(fds[1]);
    lm_backtrace_print(pcs, n);
    lm_log_set_fd(old);
    close(fds[1]);
    char buf[8192];
    size_t len = 0;
    ssize_t r;
    while (len < sizeof(buf) - 1 && (r = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t)r;
    close(fds[0]);
    buf[len] = 0;
    print_message("%s", buf);
    /* one line per frame, numbered, the pc in hex, the module of the test */
    int lines = 0;
    for (char *p = buf; (p = strchr(p, '\n')); p++)
        lines++;
    assert_int_equal(lines, n);
    char want[64];
    lm_format(want, sizeof(want), "#0 %p ", (void *)pcs[0]);
    assert_non_null(strstr(buf, want));
    assert_non_null(strstr(buf, "test_backtrace+0x"));
    lm_format(want, sizeof(want), "#%d 0x0 <unknown module>", n - 1);
    assert_non_null(strstr(buf, want));
    /* libc frames have symbols: __libc_start_call_main or main's caller */
    assert_non_null(strstr(buf, "libc.so.6+0x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames_are_callers),
        cmocka_unit_test(test_skip),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_thread_block_nests),
        cmocka_unit_test(test_global_switch),
        cmocka_unit_test(test_signal_handler_capture),
        cmocka_unit_test(test_fork_child_captures),
        cmocka_unit_test(test_print),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
