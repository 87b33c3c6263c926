/*
 * test_threads.c - the thread registry (preload/threads.h): self
 * registration gives stack bounds that hold the thread's locals (main
 * thread: the mapping of __libc_stack_end; others: their glibc stack block,
 * not wider than the stack asked for), a static TLS range that holds the
 * thread's __thread variables, unregister removes, /proc/self/task
 * discovery adds silent threads and drops dead ones, /proc/self/maps lookup,
 * tid locks (EDEADLK, try), concurrent register/unregister churn, and the
 * fork child keeping only the forking thread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "threads.h"

extern void *__libc_stack_end;
static __thread uintptr_t tls_var[4];

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static void test_register_main(void **state)
{
    (void)state;
    int local = 0;
    assert_int_equal(lm_threads_register_self(), 0);
    struct lm_thread *t = lm_threads_find_tid(gettid_(), LM_THREADS_MAX);
    assert_non_null(t);
    assert_true(t->flags & LM_THREAD_REGISTERED);
    assert_true(t->flags & LM_THREAD_MAIN);
    assert_true(t->flags & LM_THREAD_BOUNDS);
    assert_true((uintptr_t)&local >= t->stack_lo && (uintptr_t)&local < t->stack_hi);
    assert_true((uintptr_t)__libc_stack_end >= t->stack_lo &&
                (uintptr_t)__libc_stack_end < t->stack_hi);
    assert_true(t->pthread == pthread_self());
    assert_true(t->flags & LM_THREAD_TLS);
    assert_true((uintptr_t)&tls_var[0] >= t->tls_lo && (uintptr_t)&tls_var[4] <= t->tls_hi);
    assert_true(t->tls_hi - t->tls_lo < (1u << 20));
    /* Registering again refreshes, does not duplicate. */
    unsigned n = lm_threads_count();
    assert_int_equal(lm_threads_register_self(), 0);
    assert_int_equal(lm_threads_count(), n);
}

struct reg_probe {
    uintptr_t local, tls, self;
    pid_t tid;
    int rc;
    struct lm_thread copy;
    unsigned count_after_unreg;
    int found_after_unreg;
};

static void *reg_thread(void *arg)
{
    struct reg_probe *p = arg;
    volatile int local = 1;
    p->local = (uintptr_t)&local;
    p->tls = (uintptr_t)&tls_var[0];
    p->self = (uintptr_t)pthread_self();
    p->tid = gettid_();
    p->rc = lm_threads_register_self();
    struct lm_thread *t = lm_threads_find_tid(p->tid, LM_THREADS_MAX);
    if (t)
        p->copy = *t;
    lm_threads_unregister_self();
    p->found_after_unreg = lm_threads_find_tid(p->tid, LM_THREADS_MAX) != NULL;
    return NULL;
}

static void test_register_thread(void **state)
{
    (void)state;
    pthread_attr_t a;
    pthread_attr_init(&a);
    size_t stack = 256u << 10;
    pthread_attr_setstacksize(&a, stack);
    struct reg_probe p;
    memset(&p, 0, sizeof p);
    pthread_t th;
    assert_int_equal(pthread_create(&th, &a, reg_thread, &p), 0);
    pthread_join(th, NULL);
    pthread_attr_destroy(&a);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.copy.tid, p.tid);
    assert_true(p.copy.flags & LM_THREAD_BOUNDS);
    assert_false(p.copy.flags & LM_THREAD_MAIN);
    assert_true(p.local >= p.copy.stack_lo && p.local < p.copy.stack_hi);
    /* The glibc descriptor sits at the top of the block, inside the bounds,
     * and the bounds are not wider than the stack we asked for (+ slack for
     * glibc's rounding and the TLS/descriptor). */
    assert_true(p.self >= p.copy.stack_lo && p.self < p.copy.stack_hi);
    assert_true(p.copy.stack_hi - p.copy.stack_lo <= stack + (64u << 10));
    assert_true(p.copy.flags & LM_THREAD_TLS);
    assert_true(p.tls >= p.copy.tls_lo && p.tls + sizeof tls_var <= p.copy.tls_hi);
    assert_false(p.found_after_unreg);
}

/* A thread that never registers, parked on a pipe. */
struct silent {
    int fds[2];
    volatile pid_t tid;
};

static void *silent_thread(void *arg)
{
    struct silent *s = arg;
    __atomic_store_n(&s->tid, gettid_(), __ATOMIC_RELEASE);
    char c;
    while (read(s->fds[0], &c, 1) < 0 && errno == EINTR)
        ;
    return NULL;
}

static void test_discover(void **state)
{
    (void)state;
    struct silent s;
    memset(&s, 0, sizeof s);
    assert_int_equal(pipe(s.fds), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, silent_thread, &s), 0);
    while (!__atomic_load_n(&s.tid, __ATOMIC_ACQUIRE))
        sched_yield();
    pid_t tid = s.tid;
    assert_null(lm_threads_find_tid(tid, LM_THREADS_MAX));
    unsigned overflow = 99;
    int added = lm_threads_discover(&overflow);
    assert_true(added >= 1);
    assert_int_equal(overflow, 0);
    struct lm_thread *t = lm_threads_find_tid(tid, LM_THREADS_MAX);
    assert_non_null(t);
    assert_false(t->flags & (LM_THREAD_REGISTERED | LM_THREAD_BOUNDS));
    /* A second listing adds nothing. */
    assert_int_equal(lm_threads_discover(NULL), 0);
    /* Our own slot survives discovery. */
    assert_non_null(lm_threads_find_tid(gettid_(), LM_THREADS_MAX));

    assert_int_equal(write(s.fds[1], "x", 1), 1);
    pthread_join(th, NULL);
    /* pthread_join returns when the thread cleared its tid word; the kernel
     * may list the task in /proc/self/task a little longer (seen under
     * load): discovery drops the slot once the tid is gone. */
    for (int i = 0; i < 2000; i++) {
        assert_true(lm_threads_discover(NULL) >= 0);
        if (!lm_threads_find_tid(tid, LM_THREADS_MAX))
            break;
        usleep(1000);
    }
    assert_null(lm_threads_find_tid(tid, LM_THREADS_MAX));
    close(s.fds[0]);
    close(s.fds[1]);
}

static void test_find_mapping(void **state)
{
    (void)state;
    uintptr_t lo = 0, hi = 0;
    int local = 0;
    assert_int_equal(lm_threads_find_mapping((uintptr_t)&local, &lo, &hi), 0);
    assert_true((uintptr_t)&local >= lo && (uintptr_t)&local < hi);

    size_t len = 3 * 4096;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    /* Make the middle page unreadable: it is not a readable mapping, and the
     * pages around it are their own mappings. */
    assert_int_equal(mprotect(m + 4096, 4096, PROT_NONE), 0);
    assert_int_equal(lm_threads_find_mapping((uintptr_t)m + 4096 + 10, &lo, &hi), ENOENT);
    assert_int_equal(lm_threads_find_mapping((uintptr_t)m + 2 * 4096 + 8, &lo, &hi), 0);
    assert_int_equal(lo, (uintptr_t)m + 2 * 4096);
    munmap(m, len);
    assert_int_equal(lm_threads_find_mapping((uintptr_t)m + 4096 + 10, &lo, &hi), ENOENT);
    assert_int_equal(lm_threads_find_mapping(0, &lo, &hi), ENOENT);

    char buf[64];
    assert_true(lm_proc_read("/proc/self/stat", buf, sizeof buf) > 0);
    assert_true(strlen(buf) < sizeof buf);
    assert_true(lm_proc_read("/proc/self/no-such-file", buf, sizeof buf) == -ENOENT);
}

static volatile uint32_t test_lock;
static int try_result = -1;

static void *try_thread(void *arg)
{
    (void)arg;
    try_result = lm_tidlock_try(&test_lock);
    return NULL;
}

static void test_tidlock(void **state)
{
    (void)state;
    assert_int_equal(lm_tidlock_acquire(&test_lock), 0);
    assert_int_equal(lm_tidlock_owner(&test_lock), gettid_());
    assert_int_equal(lm_tidlock_acquire(&test_lock), EDEADLK);
    pthread_t th;
    pthread_create(&th, NULL, try_thread, NULL);
    pthread_join(th, NULL);
    assert_int_equal(try_result, 0);
    lm_tidlock_release(&test_lock);
    assert_int_equal(lm_tidlock_owner(&test_lock), 0);
    pthread_create(&th, NULL, try_thread, NULL);
    pthread_join(th, NULL);
    assert_int_equal(try_result, 1);
    /* Owned by the (now gone) thread that took it. */
    assert_true(lm_tidlock_owner(&test_lock) != 0 && lm_tidlock_owner(&test_lock) != gettid_());
    test_lock = 0;
    assert_int_equal(lm_threads_lock(), 0);
    assert_int_equal(lm_threads_lock(), EDEADLK);
    assert_int_equal(lm_threads_register_self(), EDEADLK);
    lm_threads_unlock();
}

/* Contended lock: a counter bumped under the lock by 4 threads stays exact. */
static volatile uint32_t count_lock;
static long locked_counter;

static void *churn_thread(void *arg)
{
    int *bad = arg;
    for (int i = 0; i < 300; i++) {
        if (lm_threads_register_self() != 0)
            (*bad)++;
        if (!lm_threads_find_tid(gettid_(), LM_THREADS_MAX))
            (*bad)++;
        lm_tidlock_acquire(&count_lock);
        locked_counter++;
        lm_tidlock_release(&count_lock);
        lm_threads_unregister_self();
        if (lm_threads_find_tid(gettid_(), LM_THREADS_MAX))
            (*bad)++;
    }
    return NULL;
}

static void test_churn(void **state)
{
    (void)state;
    unsigned before = lm_threads_count();
    pthread_t th[8];
    int bad[8] = { 0 };
    for (int i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, churn_thread, &bad[i]);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 8; i++)
        assert_int_equal(bad[i], 0);
    assert_int_equal(locked_counter, 8 * 300);
    assert_int_equal(lm_threads_count(), before);
    assert_true(lm_threads_hiwater() <= before + 8 + 4);
    uintptr_t lo, hi;
    lm_threads_table_range(&lo, &hi);
    struct lm_thread *me = lm_threads_find_tid(gettid_(), LM_THREADS_MAX);
    assert_true((uintptr_t)me >= lo && (uintptr_t)me < hi);
}

static void *idle_thread(void *arg)
{
    struct silent *s = arg;
    lm_threads_register_self();
    return silent_thread(s);
}

static void test_fork_child(void **state)
{
    (void)state;
    struct silent s;
    memset(&s, 0, sizeof s);
    assert_int_equal(pipe(s.fds), 0);
    pthread_t th;
    pthread_create(&th, NULL, idle_thread, &s);
    while (!__atomic_load_n(&s.tid, __ATOMIC_ACQUIRE))
        sched_yield();
    assert_int_equal(lm_threads_register_self(), 0);
    assert_true(lm_threads_count() >= 2);
    lm_threads_atfork_prepare();
    pid_t pid = fork();
    if (pid == 0) {
        lm_threads_atfork_child();
        int rc = 0;
        if (lm_threads_count() != 1)
            rc |= 1;
        struct lm_thread *t = lm_threads_find_tid(gettid_(), LM_THREADS_MAX);
        if (!t || !(t->flags & LM_THREAD_MAIN))
            rc |= 2;
        /* The lock is usable in the child. */
        if (lm_threads_register_self() != 0 || lm_threads_discover(NULL) < 0)
            rc |= 4;
        if (lm_threads_count() != 1)
            rc |= 8;
        _exit(rc);
    }
    lm_threads_atfork_parent();
    assert_true(pid > 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* Parent unchanged, lock free again. */
    assert_non_null(lm_threads_find_tid(s.tid, LM_THREADS_MAX));
    assert_int_equal(lm_threads_register_self(), 0);
    assert_int_equal(write(s.fds[1], "x", 1), 1);
    pthread_join(th, NULL);
    close(s.fds[0]);
    close(s.fds[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_main),
        cmocka_unit_test(test_register_thread),
        cmocka_unit_test(test_discover),
        cmocka_unit_test(test_find_mapping),
        cmocka_unit_test(test_tidlock),
        cmocka_unit_test(test_churn),
        cmocka_unit_test(test_fork_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
