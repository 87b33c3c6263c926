/*
 * test_stopworld.c - signal-based stop-the-world (preload/stopworld.h):
 * stopped threads make no progress and resume after start; saved SPs lie in
 * the registered stacks; values held only in a general or an SSE register
 * are in the saved register area; the caller's callee-saved registers are
 * captured; threads that never registered get bounds from their SP; a
 * thread that blocks every signal is reported not-stopped within the
 * timeout and lives on; threads exiting during stops; 200 cycles with
 * malloc/free traffic; a read() blocked on a pipe is restarted (no EINTR);
 * errno survives; two concurrent stoppers; a program handler on the stop
 * signal makes us pick another signal.
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
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "heap.h"
#include "os.h"
#include "span.h"
#include "stopworld.h"

#define NSPIN 8
#define MAGIC_GPR 0x5eed1234abcd0001ull
#define MAGIC_XMM 0x7ee1c0de99880002ull

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits (up to 5 s: CI shares two cores between parallel tests) until
 * *p differs from old. */
static bool moves(volatile uint64_t *p, uint64_t old)
{
    uint64_t t0 = now_ms();
    while (*p == old && now_ms() - t0 < 5000)
        sched_yield();
    return *p != old;
}

/* ---- spinning workers ------------------------------------------------ */

struct worker {
    pthread_t th;
    volatile pid_t tid;
    volatile uint64_t counter;
    volatile int stop;
    int kind;           /* 0 plain spin, 1 magic in r12, 2 magic in xmm7, 3 silent */
    int bad;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    if (w->kind != 3 && lm_threads_register_self() != 0)
        w->bad++;
    __atomic_store_n(&w->tid, gettid_(), __ATOMIC_RELEASE);
#if defined(__x86_64__)
    if (w->kind == 1) {
        /* The magic lives only in r12 while the loop runs. */
        __asm__ __volatile__("movabs %2, %%r12\n"
                             "1: incq (%0)\n"
                             "cmpl $0, (%1)\n"
                             "je 1b\n"
                             "xorl %%r12d, %%r12d\n"
                             : : "r"(&w->counter), "r"(&w->stop), "i"(MAGIC_GPR)
                             : "r12", "memory", "cc");
    } else if (w->kind == 2) {
        __asm__ __volatile__("movabs %2, %%rax\n"
                             "movq %%rax, %%xmm7\n"
                             "xorl %%eax, %%eax\n"
                             "1: incq (%0)\n"
                             "cmpl $0, (%1)\n"
                             "je 1b\n"
                             "pxor %%xmm7, %%xmm7\n"
                             : : "r"(&w->counter), "r"(&w->stop), "i"(MAGIC_XMM)
                             : "rax", "xmm7", "memory", "cc");
    }
#endif
    while (!w->stop)
        w->counter++;
    if (w->kind != 3)
        lm_threads_unregister_self();
    return NULL;
}

static void start_workers(struct worker *w, int n, int kind)
{
    for (int i = 0; i < n; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].kind = kind;
        assert_int_equal(pthread_create(&w[i].th, NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < n; i++)
        while (!__atomic_load_n(&w[i].tid, __ATOMIC_ACQUIRE) || w[i].counter == 0)
            sched_yield();
}

static void stop_workers(struct worker *w, int n)
{
    for (int i = 0; i < n; i++)
        w[i].stop = 1;
    for (int i = 0; i < n; i++) {
        pthread_join(w[i].th, NULL);
        assert_int_equal(w[i].bad, 0);
    }
}

static bool regs_contain(const struct lm_thread *t, uint64_t v)
{
    for (unsigned i = 0; i < t->nregs; i++)
        if (t->regs[i] == v)
            return true;
    return false;
}

/* Generous timeout for tests that expect every thread to stop (CI runs
 * tests in parallel on two cores); the timeout tests set their own. */
#define RELAXED() lm_stopworld_configure(0, 3000, 10)

static int setup(void **state)
{
    (void)state;
    RELAXED();
    return lm_threads_register_self();
}

/* After a failed assertion: never leave the world stopped for the next
 * test (the workers' structs are static, so stray threads stay harmless). */
static int teardown(void **state)
{
    (void)state;
    lm_start_world();
    RELAXED();
    return 0;
}

/* ---- tests ----------------------------------------------------------- */

static void test_stop_spinners(void **state)
{
    (void)state;
    static struct worker w[NSPIN];
    start_workers(w, NSPIN, 0);
    struct lm_stop_result r;
    int local = 0;
    assert_int_equal(lm_stop_world(&r), 0);
    assert_true(lm_world_stopped_by_me());
    uint64_t snap[NSPIN];
    for (int i = 0; i < NSPIN; i++)
        snap[i] = w[i].counter;
    sleep_ms(50);
    for (int i = 0; i < NSPIN; i++)
        assert_true(w[i].counter == snap[i]);
    assert_int_equal(r.signal, SIGRTMAX - 4);
    assert_int_equal(r.self_tid, gettid_());
    assert_non_null(r.self);
    assert_int_equal(r.self->stop_state, LM_STOP_SELF);
    assert_true(r.self->sp >= r.self->stack_lo && r.self->sp < r.self->stack_hi);
    assert_true(r.self->sp <= (uintptr_t)&local + 4096 && r.self->sp + 4096 > (uintptr_t)&local);
    assert_int_equal(r.nnot_stopped, 0);
    assert_true(r.nstopped >= NSPIN);
    assert_int_equal(r.nthreads, r.nstopped + r.nnot_stopped + r.ngone + 1);
    for (int i = 0; i < NSPIN; i++) {
        struct lm_thread *t = lm_threads_find_tid(w[i].tid, LM_THREADS_MAX);
        assert_non_null(t);
        assert_int_equal(t->stop_state, LM_STOP_STOPPED);
        assert_true(t->flags & LM_THREAD_BOUNDS);
        assert_true(t->sp >= t->stack_lo && t->sp < t->stack_hi);
        assert_false(t->stop_flags & LM_STOPF_SP_OUTSIDE);
#if defined(__x86_64__)
        assert_true(t->nregs >= NGREG);
        assert_true(t->regs[REG_RSP] == t->sp);
#endif
    }
    lm_start_world();
    assert_false(lm_world_stopped_by_me());
    int still = 0;
    for (int i = 0; i < NSPIN; i++)
        still += !moves(&w[i].counter, snap[i]);
    stop_workers(w, NSPIN);
    assert_int_equal(still, 0);
}

static void test_register_values(void **state)
{
    (void)state;
#if defined(__x86_64__)
    static struct worker w[2];
    start_workers(&w[0], 1, 1);
    start_workers(&w[1], 1, 2);
    /* Let both enter their asm loops (counter keeps moving there). */
    sleep_ms(5);
    struct lm_stop_result r;
    assert_int_equal(lm_stop_world(&r), 0);
    struct lm_thread *g = lm_threads_find_tid(w[0].tid, LM_THREADS_MAX);
    struct lm_thread *x = lm_threads_find_tid(w[1].tid, LM_THREADS_MAX);
    assert_non_null(g);
    assert_non_null(x);
    assert_int_equal(g->stop_state, LM_STOP_STOPPED);
    assert_int_equal(x->stop_state, LM_STOP_STOPPED);
    bool in_gpr = regs_contain(g, MAGIC_GPR), in_xmm = regs_contain(x, MAGIC_XMM);
    assert_true(g->regs[REG_R12] == MAGIC_GPR);
    bool gpr_not_in_xmm = !regs_contain(x, MAGIC_GPR);
    lm_start_world();
    stop_workers(w, 2);
    assert_true(in_gpr);
    assert_true(in_xmm);
    assert_true(gpr_not_in_xmm);
#else
    skip();
#endif
}

/* The caller's callee-saved registers are captured at entry. */
static LM_NOINLINE int stop_with_r12(struct lm_stop_result *r, bool *found)
{
#if defined(__x86_64__)
    int rc;
    /* Step over the red zone and align the stack for the call; rbx keeps
     * the old SP.  r12 holds the magic only across the call. */
    register struct lm_stop_result *rr __asm__("rdi") = r;
    __asm__ __volatile__("movq %%rsp, %%rbx\n"
                         "subq $256, %%rsp\n"
                         "andq $-16, %%rsp\n"
                         "movabs %[m], %%r12\n"
                         "call lm_stop_world\n"
                         "movq %%rbx, %%rsp\n"
                         "xorl %%r12d, %%r12d\n"
                         : "=a"(rc), "+r"(rr)
                         : [m] "i"(MAGIC_GPR)
                         : "rbx", "r12", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "memory", "cc",
                           "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
                           "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    *found = rc == 0 && r->self && regs_contain(r->self, MAGIC_GPR) && r->self_regs[2] == MAGIC_GPR;
    return rc;
#else
    *found = true;
    return lm_stop_world(r);
#endif
}

static void test_self_registers(void **state)
{
    (void)state;
    struct lm_stop_result r;
    bool found = false;
    assert_int_equal(stop_with_r12(&r, &found), 0);
    lm_start_world();
    assert_true(found);
}

static void test_silent_thread_bounds(void **state)
{
    (void)state;
    static struct worker w;
    start_workers(&w, 1, 3);
    assert_null(lm_threads_find_tid(w.tid, LM_THREADS_MAX));
    struct lm_stop_result r;
    assert_int_equal(lm_stop_world(&r), 0);
    struct lm_thread *t = lm_threads_find_tid(w.tid, LM_THREADS_MAX);
    assert_non_null(t);
    int st = t->stop_state;
    unsigned flags = t->flags;
    bool in = t->sp >= t->stack_lo && t->sp < t->stack_hi;
    bool self_in = (uintptr_t)w.th >= t->stack_lo && (uintptr_t)w.th < t->stack_hi;
    lm_start_world();
    stop_workers(&w, 1);
    assert_int_equal(st, LM_STOP_STOPPED);
    assert_true(flags & LM_THREAD_BOUNDS);
    assert_false(flags & LM_THREAD_REGISTERED);
    assert_true(in);
    assert_true(self_in);       /* its pthread descriptor is on that stack */
}

/* ---- a thread that blocks every signal ------------------------------- */

struct blocker {
    volatile pid_t tid;
    volatile int stop;
    volatile uint64_t counter;
    int in_syscall;
    int fds[2];
};

static void *blocker_main(void *arg)
{
    struct blocker *b = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    if (!b->in_syscall)
        lm_threads_register_self();
    __atomic_store_n(&b->tid, gettid_(), __ATOMIC_RELEASE);
    if (b->in_syscall) {
        char c;
        while (read(b->fds[0], &c, 1) < 0 && errno == EINTR)
            ;
    } else {
        while (!b->stop)
            b->counter++;
    }
    /* Unblock: the pending stop signals arrive now and must be harmless. */
    pthread_sigmask(SIG_UNBLOCK, &all, NULL);
    b->counter++;
    if (!b->in_syscall)
        lm_threads_unregister_self();
    return NULL;
}

static void test_blocked_thread(void **state)
{
    (void)state;
    static struct worker w[2];
    start_workers(w, 2, 0);
    static struct blocker b;
    memset(&b, 0, sizeof b);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, blocker_main, &b), 0);
    while (!__atomic_load_n(&b.tid, __ATOMIC_ACQUIRE) || b.counter == 0)
        sched_yield();
    lm_stopworld_configure(0, 100, 10);
    for (int round = 0; round < 2; round++) {
        uint64_t t0 = now_ms();
        struct lm_stop_result r;
        assert_int_equal(lm_stop_world(&r), 0);
        uint64_t took = now_ms() - t0;
        struct lm_thread *t = lm_threads_find_tid(b.tid, LM_THREADS_MAX);
        assert_non_null(t);
        int st = t->stop_state;
        unsigned sf = t->stop_flags;
        uintptr_t sp = t->sp;
        bool moving = moves(&b.counter, b.counter);   /* it runs during the stop */
        int w0 = lm_threads_find_tid(w[0].tid, LM_THREADS_MAX)->stop_state;
        unsigned nns = r.nnot_stopped;
        lm_start_world();
        assert_true(took >= 90 && took < 1000);
        assert_int_equal(st, LM_STOP_NOT_STOPPED);
        assert_true(sf & LM_STOPF_BLOCKS_SIGNAL);
        assert_false(sf & LM_STOPF_ASLEEP);     /* spinning: waited it out */
        assert_int_equal(sp, 0);
        assert_true(moving);
        assert_int_equal(w0, LM_STOP_STOPPED);
        assert_int_equal(nns, 1);
    }
    RELAXED();
    b.stop = 1;
    pthread_join(th, NULL);
    assert_true(b.counter > 0);
    /* The program goes on: another stop sees nobody left behind. */
    struct lm_stop_result r;
    assert_int_equal(lm_stop_world(&r), 0);
    unsigned nns = r.nnot_stopped;
    lm_start_world();
    assert_int_equal(nns, 0);
    stop_workers(w, 2);
}

/* Unregistered, all signals blocked, parked in read(): not stopped, but its
 * stack is found from the SP in /proc/self/task/T/syscall. */
static void test_blocked_silent_in_syscall(void **state)
{
    (void)state;
    static struct blocker b;
    memset(&b, 0, sizeof b);
    b.in_syscall = 1;
    assert_int_equal(pipe(b.fds), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, blocker_main, &b), 0);
    while (!__atomic_load_n(&b.tid, __ATOMIC_ACQUIRE))
        sched_yield();
    sleep_ms(20);                   /* let it reach read() */
    /* Long timeout: blocked and asleep, it is given up on early. */
    lm_stopworld_configure(0, 3000, 10);
    struct lm_stop_result r;
    uint64_t t0 = now_ms();
    assert_int_equal(lm_stop_world(&r), 0);
    uint64_t took = now_ms() - t0;
    struct lm_thread *t = lm_threads_find_tid(b.tid, LM_THREADS_MAX);
    assert_non_null(t);
    int st = t->stop_state;
    unsigned flags = t->flags, sf = t->stop_flags;
    bool desc_in = (uintptr_t)th >= t->stack_lo && (uintptr_t)th < t->stack_hi;
    lm_start_world();
    RELAXED();
    assert_int_equal(write(b.fds[1], "x", 1), 1);
    pthread_join(th, NULL);
    close(b.fds[0]);
    close(b.fds[1]);
    assert_int_equal(st, LM_STOP_NOT_STOPPED);
    assert_true(sf & LM_STOPF_ASLEEP);
    assert_true(took < 1500);
    assert_true(flags & LM_THREAD_BOUNDS);
    assert_true(desc_in);
}

/* ---- churn ----------------------------------------------------------- */

static volatile int churn_stop;

static void *short_lived(void *arg)
{
    (void)arg;
    lm_threads_register_self();
    volatile int x = 0;
    for (int i = 0; i < 2000; i++)
        x += i;
    lm_threads_unregister_self();
    return NULL;
}

static void *spawner(void *arg)
{
    long *spawned = arg;
    while (!churn_stop) {
        pthread_t th[4];
        int n = 0;
        for (int i = 0; i < 4; i++)
            n += pthread_create(&th[n], NULL, short_lived, NULL) == 0;
        for (int i = 0; i < n; i++)
            pthread_join(th[i], NULL);
        *spawned += n;
    }
    return NULL;
}

static void test_exiting_threads(void **state)
{
    (void)state;
    long spawned = 0;
    churn_stop = 0;
    pthread_t sp;
    assert_int_equal(pthread_create(&sp, NULL, spawner, &spawned), 0);
    int fails = 0, bad_sum = 0;
    for (int i = 0; i < 60; i++) {
        struct lm_stop_result r;
        if (lm_stop_world(&r) != 0) {
            fails++;
            continue;
        }
        if (r.nthreads != r.nstopped + r.nnot_stopped + r.ngone + 1)
            bad_sum++;
        lm_start_world();
        sleep_ms(1);
    }
    churn_stop = 1;
    pthread_join(sp, NULL);
    assert_int_equal(fails, 0);
    assert_int_equal(bad_sum, 0);
    assert_true(spawned > 0);
}

struct mallocer {
    pthread_t th;
    volatile int stop;
    volatile uint64_t iters;
};

static void *mallocer_main(void *arg)
{
    struct mallocer *m = arg;
    lm_threads_register_self();
    void *keep[16] = { 0 };
    unsigned s = 1;
    while (!m->stop) {
        s = s * 1103515245u + 12345u;
        unsigned k = (s >> 16) % 16;
        free(keep[k]);
        keep[k] = malloc(((s >> 8) % 4096) + 1);
        if (keep[k])
            memset(keep[k], 1, 8);
        m->iters++;
    }
    for (int i = 0; i < 16; i++)
        free(keep[i]);
    lm_threads_unregister_self();
    return NULL;
}

static void test_cycles_with_malloc(void **state)
{
    (void)state;
    static struct mallocer m[4];
    memset(m, 0, sizeof m);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&m[i].th, NULL, mallocer_main, &m[i]), 0);
    for (int i = 0; i < 4; i++)
        while (m[i].iters == 0)
            sched_yield();
    int fails = 0, not_stopped = 0;
    for (int i = 0; i < 200; i++) {
        struct lm_stop_result r;
        if (lm_stop_world(&r) != 0) {
            fails++;
            continue;
        }
        not_stopped += r.nnot_stopped;
        lm_start_world();
    }
    int still = 0;
    for (int i = 0; i < 4; i++)
        still += !moves(&m[i].iters, m[i].iters);
    for (int i = 0; i < 4; i++)
        m[i].stop = 1;
    for (int i = 0; i < 4; i++)
        pthread_join(m[i].th, NULL);
    assert_int_equal(still, 0);
    assert_int_equal(fails, 0);
    assert_int_equal(not_stopped, 0);
}

/* ---- EINTR and errno ------------------------------------------------- */

struct reader {
    int fds[2];
    volatile pid_t tid;
    long n;
    int err;
    char buf[8];
};

static void *reader_main(void *arg)
{
    struct reader *rd = arg;
    lm_threads_register_self();
    __atomic_store_n(&rd->tid, gettid_(), __ATOMIC_RELEASE);
    errno = 0;
    rd->n = read(rd->fds[0], rd->buf, 5);    /* no EINTR retry on purpose */
    rd->err = errno;
    lm_threads_unregister_self();
    return NULL;
}

static void test_read_restarts(void **state)
{
    (void)state;
    static struct reader rd;
    memset(&rd, 0, sizeof rd);
    assert_int_equal(pipe(rd.fds), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, reader_main, &rd), 0);
    while (!__atomic_load_n(&rd.tid, __ATOMIC_ACQUIRE))
        sched_yield();
    sleep_ms(20);
    int stopped = 0;
    for (int i = 0; i < 5; i++) {
        struct lm_stop_result r;
        assert_int_equal(lm_stop_world(&r), 0);
        struct lm_thread *t = lm_threads_find_tid(rd.tid, LM_THREADS_MAX);
        stopped += t && t->stop_state == LM_STOP_STOPPED;
        lm_start_world();
        sleep_ms(2);
    }
    assert_int_equal(write(rd.fds[1], "hello", 5), 5);
    pthread_join(th, NULL);
    close(rd.fds[0]);
    close(rd.fds[1]);
    assert_int_equal(stopped, 5);
    assert_int_equal(rd.n, 5);
    assert_int_equal(rd.err, 0);
    assert_memory_equal(rd.buf, "hello", 5);
}

struct errno_worker {
    volatile pid_t tid;
    volatile int stop;
    volatile long checks;
    long bad;
};

static void *errno_main(void *arg)
{
    struct errno_worker *e = arg;
    lm_threads_register_self();
    volatile int *ep = &errno;
    *ep = 4242;
    __atomic_store_n(&e->tid, gettid_(), __ATOMIC_RELEASE);
    while (!e->stop) {
        if (*ep != 4242) {
            e->bad++;
            *ep = 4242;
        }
        e->checks++;
    }
    lm_threads_unregister_self();
    return NULL;
}

static void test_errno_preserved(void **state)
{
    (void)state;
    static struct errno_worker e;
    memset(&e, 0, sizeof e);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, errno_main, &e), 0);
    while (!__atomic_load_n(&e.tid, __ATOMIC_ACQUIRE) || e.checks == 0)
        sched_yield();
    int stopped = 0;
    for (int i = 0; i < 50; i++) {
        struct lm_stop_result r;
        errno = 777;
        assert_int_equal(lm_stop_world(&r), 0);
        assert_int_equal(errno, 777);
        struct lm_thread *t = lm_threads_find_tid(e.tid, LM_THREADS_MAX);
        stopped += t && t->stop_state == LM_STOP_STOPPED;
        errno = 778;
        lm_start_world();
        assert_int_equal(errno, 778);
        long c = e.checks;
        while (e.checks == c)
            sched_yield();
    }
    e.stop = 1;
    pthread_join(th, NULL);
    assert_int_equal(stopped, 50);
    assert_int_equal(e.bad, 0);
}

/* ---- concurrency and signal choice ----------------------------------- */

struct stopper {
    pthread_t th;
    int fails, cycles, deadlk;
};

static void *stopper_main(void *arg)
{
    struct stopper *s = arg;
    lm_threads_register_self();
    for (int i = 0; i < 50; i++) {
        struct lm_stop_result r, r2;
        if (lm_stop_world(&r) != 0) {
            s->fails++;
            continue;
        }
        if (lm_stop_world(&r2) == EDEADLK)
            s->deadlk++;
        s->cycles++;
        lm_start_world();
    }
    lm_threads_unregister_self();
    return NULL;
}

static void test_concurrent_stoppers(void **state)
{
    (void)state;
    static struct worker w[2];
    start_workers(w, 2, 0);
    static struct stopper s[2];
    memset(s, 0, sizeof s);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&s[i].th, NULL, stopper_main, &s[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(s[i].th, NULL);
    stop_workers(w, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(s[i].fails, 0);
        assert_int_equal(s[i].cycles, 50);
        assert_int_equal(s[i].deadlk, 50);
    }
}

/* lm_stopworld_reserve: the stop lock taken ahead of the stop, handed over
 * to lm_stop_world, released by lm_start_world or unreserve. */
static void *reserve_then_stop(void *arg)
{
    struct lm_stop_result r;
    int *ok = arg;
    *ok = lm_stop_world(&r) == 0;
    if (*ok)
        lm_start_world();
    return NULL;
}

static volatile int forker_stop;
static void *forker_main(void *arg)
{
    int *forks = arg;
    while (!forker_stop) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        if (pid > 0 && waitpid(pid, NULL, 0) == pid)
            (*forks)++;
    }
    return NULL;
}

static void test_reserve(void **state)
{
    (void)state;
    struct lm_stop_result r;
    assert_int_equal(lm_stopworld_reserve(), 0);
    assert_int_equal(lm_stopworld_reserve(), EDEADLK);
    assert_int_equal(lm_stop_world(&r), 0);        /* takes the reservation over */
    assert_true(lm_world_stopped_by_me());
    lm_start_world();
    assert_false(lm_world_stopped_by_me());
    lm_stopworld_unreserve();                       /* nothing reserved: no-op */

    /* unreserve lets another thread stop */
    assert_int_equal(lm_stopworld_reserve(), 0);
    lm_stopworld_unreserve();
    pthread_t t;
    int ok = 0;
    assert_int_equal(pthread_create(&t, NULL, reserve_then_stop, &ok), 0);
    pthread_join(t, NULL);
    assert_true(ok);

    /* The dumper's sequence (stop lock, allocator locks, stop) against a
     * thread that forks in a loop (prepare: stop lock, then the allocator
     * locks): in the other order this could deadlock. */
    static struct worker w[1];
    start_workers(w, 1, 0);
    int forks = 0;
    forker_stop = 0;
    assert_int_equal(pthread_create(&t, NULL, forker_main, &forks), 0);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(lm_stopworld_reserve(), 0);
        lm_heap_atfork_prepare();
        lm_span_atfork_prepare();
        lm_os_atfork_prepare();
        int err = lm_stop_world(&r);
        lm_os_atfork_parent();
        lm_span_atfork_parent();
        lm_heap_atfork_parent();
        assert_int_equal(err, 0);
        lm_start_world();
    }
    forker_stop = 1;
    pthread_join(t, NULL);
    stop_workers(w, 1);
    assert_true(forks > 0);
}

static volatile int program_handler_calls;
static void program_handler(int sig)
{
    (void)sig;
    program_handler_calls++;
}

static void test_signal_in_use(void **state)
{
    (void)state;
    int mine = SIGRTMAX - 10;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = program_handler;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(mine, &sa, &old), 0);
    lm_stopworld_configure(mine, 3000, 10);
    static struct worker w;
    start_workers(&w, 1, 0);
    struct lm_stop_result r;
    assert_int_equal(lm_stop_world(&r), 0);
    int used = r.signal;
    unsigned ns = r.nstopped;
    lm_start_world();
    stop_workers(&w, 1);
    RELAXED();
    assert_int_equal(used, mine - 1);
    assert_true(ns >= 1);
    assert_int_equal(program_handler_calls, 0);
    struct sigaction now;
    assert_int_equal(sigaction(mine, NULL, &now), 0);
    assert_true(now.sa_handler == program_handler);
    sigaction(mine, &old, NULL);
    /* A stray stop signal while the world runs is ignored. */
    assert_int_equal(raise(used), 0);
    assert_int_equal(raise(SIGRTMAX - 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_stop_spinners, teardown),
        cmocka_unit_test_teardown(test_reserve, teardown),
        cmocka_unit_test_teardown(test_register_values, teardown),
        cmocka_unit_test_teardown(test_self_registers, teardown),
        cmocka_unit_test_teardown(test_silent_thread_bounds, teardown),
        cmocka_unit_test_teardown(test_blocked_thread, teardown),
        cmocka_unit_test_teardown(test_blocked_silent_in_syscall, teardown),
        cmocka_unit_test_teardown(test_exiting_threads, teardown),
        cmocka_unit_test_teardown(test_cycles_with_malloc, teardown),
        cmocka_unit_test_teardown(test_read_restarts, teardown),
        cmocka_unit_test_teardown(test_errno_preserved, teardown),
        cmocka_unit_test_teardown(test_concurrent_stoppers, teardown),
        cmocka_unit_test_teardown(test_signal_in_use, teardown),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
