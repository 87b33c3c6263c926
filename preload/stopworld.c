/*
 * stopworld.c - signal-based stop and restart of the program's threads
 * (stopworld.h), after Boehm GC's pthread_stop_world.c.
 *
 * Protocol.  g_seq is a 32-bit epoch: even while the world runs, odd while
 * it is stopped.  The stopper
 *   1. takes the stop lock, then the registry lock (so no stopped thread can
 *      hold the registry lock: it is taken before any signal is sent);
 *   2. captures its own registers (getcontext) and SP into its slot;
 *   3. stores g_seq = S (odd) with release;
 *   4. lists /proc/self/task (lm_threads_discover_locked), marks every other
 *      live slot REQUESTED and sends it the stop signal with
 *      rt_tgsigqueueinfo, carrying the slot index as a hint;
 *   5. sleeps on the futex word g_acks until every REQUESTED slot has
 *      ack_seq == S.  Every resend interval it reads the laggards'
 *      /proc/self/task/T/status: exited or zombie -> GONE; stop signal
 *      still pending -> just wait; not pending and not acked -> the signal
 *      was lost or is being handled: send again (a duplicate is harmless);
 *      pending and blocked at two looks in a row, asleep in the kernel at
 *      the first (the first looks come 1 ms apart, so this costs ~2 ms) ->
 *      NOT_STOPPED at once (LM_STOPF_ASLEEP).  At the total timeout the
 *      remaining ones become NOT_STOPPED;
 *   6. lists the tasks again and repeats 4-5 for threads created meanwhile
 *      (by threads that were not yet stopped), at most LM_STOP_PASSES times;
 *   7. completes stack bounds from /proc/self/maps.
 * The handler (SA_SIGINFO|SA_RESTART|SA_ONSTACK, sa_mask = every signal)
 *   saves errno; if g_seq is odd, it is not the stopper, it has a slot whose
 *   ack_seq != g_seq: copies the interrupted registers from the ucontext
 *   into the slot, stores SP, release-stores ack_seq = S, bumps g_acks and
 *   wakes the stopper, then FUTEX_WAITs while g_seq == S; restores errno.
 * lm_start_world stores g_seq = S + 1 (release), FUTEX_WAKEs every parked
 * thread, then drops the registry lock and the stop lock.
 *
 * Safety argument.
 *   - The handler is async-signal-safe: atomics, raw futex/gettid syscalls,
 *     a lock-free slot lookup; it takes no lock and allocates nothing.
 *   - No lost wake-up: FUTEX_WAIT compares g_seq with S in the kernel, so a
 *     restart that happens before the wait makes the wait return at once.
 *     That is why a futex replaces Boehm's sigsuspend + restart signal
 *     (which needs a second signal round that can itself be lost).
 *   - A parked thread runs no program code: sa_mask blocks every signal
 *     while the handler runs (SIGKILL/SIGSTOP excepted), so none of the
 *     program's handlers can mutate the heap during the scan.
 *   - Never hangs: the stopper waits at most timeout per pass, whatever the
 *     threads do (block the signal, exit, stay zombie).  A thread that
 *     blocks the signal keeps it pending; when it unblocks later, the
 *     handler finds g_seq even (or its own ack for that epoch) and returns,
 *     or parks for the stop then in progress, which is correct too.
 *   - Late or duplicate signals: a handler entered for epoch S that runs
 *     after the world restarted sees g_seq != S and returns at once.  A
 *     pending stale signal delivered to the stopper itself is ignored (the
 *     handler compares its tid with the stop lock's owner), else the stopper
 *     would park itself forever.
 *   - SA_RESTART: system calls interrupted by the stop (read, write, wait,
 *     futex-based locks...) restart transparently.  Calls that Linux never
 *     restarts (poll, epoll_wait, select, nanosleep, sem_timedwait...) may
 *     return EINTR, as with any signal; programs must cope with that.
 *   - errno is preserved by the handler and by lm_stop_world/start_world.
 *   - The signal: SIGRTMAX-4 by default, not SIGUSR1/2 and not glibc's
 *     internal ones; if the program installed its own handler on it we move
 *     to a lower one.  Our handler stays installed for good: a pending stop
 *     signal delivered after a restart must never meet SIG_DFL (which
 *     terminates for real-time signals).  Signals of that number sent by
 *     others are ignored unless a stop is in progress (then they park the
 *     thread, which is harmless).
 *
 * Notes on locking.
 *   stop lock (g_stop_lock, a tid lock): one stop at a time; held from
 *     lm_stop_world to lm_start_world.  A second stopper sleeps on it (and
 *     is stopped like any thread meanwhile); the holder calling again gets
 *     EDEADLK.  Taken before the registry lock (threads.c).
 *   fork: prepare takes the stop lock (waits for a running stop), parent
 *     releases it, child resets it and the epoch.  Stoppers that hold the
 *     allocator's locks across a stop (dumper.c, leakcheck.c) reserve the
 *     stop lock before taking them (lm_stopworld_reserve), the order fork's
 *     prepare uses: the reverse order deadlocked a dump against a fork.
 */
#include "stopworld.h"
#include "log.h"
#include "os.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define LM_STOP_PASSES 4

static volatile uint32_t g_stop_lock;
/* Tid that reserved the stop lock (lm_stopworld_reserve) and has not
 * stopped the world with it yet; 0 if none.  Written by the owner only. */
static volatile pid_t g_reserved_by;
static volatile uint32_t g_seq;     /* odd while stopped */
static volatile uint32_t g_acks;    /* futex: bumped by every ack */
static int g_cfg_sig;
static uint32_t g_cfg_timeout_ms, g_cfg_resend_ms;

static pid_t sys_gettid(void) { return (pid_t)syscall(SYS_gettid); }

static void futex_wait(volatile uint32_t *w, uint32_t val, const struct timespec *rel)
{
    syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, rel, NULL, 0);
}

static void futex_wake_all(volatile uint32_t *w)
{
    syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* The handler                                                         */

static void save_context(struct lm_thread *t, const ucontext_t *uc)
{
    const uintptr_t *m = (const uintptr_t *)&uc->uc_mcontext;
    unsigned n = sizeof(uc->uc_mcontext) / sizeof(uintptr_t);
    if (n > LM_REGS_WORDS)
        n = LM_REGS_WORDS;
    for (unsigned i = 0; i < n; i++)
        t->regs[i] = m[i];
#if defined(__x86_64__)
    if (uc->uc_mcontext.fpregs && n + 32 <= LM_REGS_WORDS) {
        const uintptr_t *x = (const uintptr_t *)uc->uc_mcontext.fpregs->_xmm;
        for (unsigned i = 0; i < 32; i++)
            t->regs[n + i] = x[i];
        n += 32;
    }
    t->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    t->sp = (uintptr_t)uc->uc_mcontext.sp;
#elif defined(__i386__)
    t->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_ESP];
#else
    t->sp = (uintptr_t)__builtin_frame_address(0);
#endif
    t->nregs = n;
}

static void stop_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    int saved = errno;
    uint32_t seq = __atomic_load_n(&g_seq, __ATOMIC_ACQUIRE);
    if (!(seq & 1))
        goto out;                          /* stale: the world is running */
    pid_t tid = sys_gettid();
    if (tid == lm_tidlock_owner(&g_stop_lock))
        goto out;                          /* the stopper: never park */
    unsigned hint = LM_THREADS_MAX;
    if (si && si->si_code == SI_QUEUE && si->si_value.sival_int > 0)
        hint = (unsigned)si->si_value.sival_int - 1;
    struct lm_thread *t = lm_threads_find_tid(tid, hint);
    if (!t || __atomic_load_n(&t->ack_seq, __ATOMIC_RELAXED) == seq)
        goto out;                          /* untracked, or a duplicate */
    save_context(t, (const ucontext_t *)ucv);
    __atomic_store_n(&t->ack_seq, seq, __ATOMIC_RELEASE);
    __atomic_fetch_add(&g_acks, 1, __ATOMIC_RELEASE);
    futex_wake_all(&g_acks);
    while (__atomic_load_n(&g_seq, __ATOMIC_ACQUIRE) == seq)
        futex_wait(&g_seq, seq, NULL);
out:
    errno = saved;
}

/* ------------------------------------------------------------------ */
/* Signal choice                                                       */

static bool is_ours(const struct sigaction *sa)
{
    return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == stop_handler;
}

/* A signal whose disposition is ours, or default/ignored (then ours is
 * installed).  0 when the program handles every candidate. */
static int pick_signal(void)
{
    int base = g_cfg_sig ? g_cfg_sig : SIGRTMAX - 4;
    for (int k = 0, s = base; k < 5 && s >= SIGRTMIN + 3; k++, s--) {
        struct sigaction old;
        if (sigaction(s, NULL, &old) != 0)
            continue;
        if (is_ours(&old))
            return s;
        if ((old.sa_flags & SA_SIGINFO) ||
            (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN))
            continue;                      /* the program's */
        struct sigaction sa;
        __builtin_memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = stop_handler;
        sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
        sigfillset(&sa.sa_mask);
        if (sigaction(s, &sa, NULL) == 0)
            return s;
    }
    return 0;
}

void lm_stopworld_configure(int sig, uint32_t timeout_ms, uint32_t resend_ms)
{
    g_cfg_sig = sig;
    g_cfg_timeout_ms = timeout_ms;
    g_cfg_resend_ms = resend_ms;
}

/* ------------------------------------------------------------------ */
/* Sending and waiting                                                 */

static int send_stop(struct lm_thread *t, int sig)
{
    pid_t pid = lm_os_getpid();
    siginfo_t si;
    __builtin_memset(&si, 0, sizeof si);
    si.si_signo = sig;
    si.si_code = SI_QUEUE;
    si.si_pid = pid;
    si.si_uid = (uid_t)syscall(SYS_getuid);
    si.si_value.sival_int = (int)lm_threads_index(t) + 1;
    if (syscall(SYS_rt_tgsigqueueinfo, pid, t->tid, sig, &si) == 0)
        return 0;
    if (errno == ESRCH || errno == EAGAIN)
        return errno;
    return syscall(SYS_tgkill, pid, t->tid, sig) == 0 ? 0 : errno;
}

static uint64_t parse_hex(const char *s)
{
    uint64_t v = 0;
    for (;; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (*s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else
            return v;
        v = v << 4 | d;
    }
}

/* Value after "key:\t" at a line start of text, or NULL. */
static const char *status_field(const char *text, const char *key)
{
    for (const char *line = text; *line;) {
        const char *a = line, *b = key;
        while (*b && *a == *b)
            a++, b++;
        if (!*b && *a == ':') {
            a++;
            while (*a == '\t' || *a == ' ')
                a++;
            return a;
        }
        while (*line && *line != '\n')
            line++;
        if (*line)
            line++;
    }
    return NULL;
}

enum laggard { LAG_GONE, LAG_PENDING, LAG_NOT_PENDING };

/* Looks at a thread that has not answered: gone, signal pending, or not.
 * *asleep: it blocks the signal and sleeps in the kernel (state S or D). */
static enum laggard inspect(struct lm_thread *t, int sig, bool *asleep, bool *blocked)
{
    *asleep = false;
    *blocked = false;
    char path[64], text[4096];
    lm_format(path, sizeof path, "/proc/self/task/%d/status", (int)t->tid);
    if (lm_proc_read(path, text, sizeof text) < 0)
        return LAG_GONE;                 /* ENOENT: reaped */
    const char *st = status_field(text, "State");
    if (st && (*st == 'Z' || *st == 'X'))
        return LAG_GONE;
    uint64_t bit = 1ull << (sig - 1);
    const char *blk = status_field(text, "SigBlk");
    if (blk && (parse_hex(blk) & bit)) {
        t->stop_flags |= LM_STOPF_BLOCKS_SIGNAL;
        *blocked = true;
        *asleep = st && (*st == 'S' || *st == 'D');
    }
    const char *pnd = status_field(text, "SigPnd");
    return pnd && (parse_hex(pnd) & bit) ? LAG_PENDING : LAG_NOT_PENDING;
}

/* Returns true when the thread was seen blocked and asleep for the first
 * time: the next look comes after LM_STOP_QUICK_LOOK_NS, not a whole
 * resend interval. */
static bool resend(struct lm_thread *t, int sig)
{
    bool asleep, blocked;
    enum laggard l = inspect(t, sig, &asleep, &blocked);
    if (l == LAG_GONE) {
        t->stop_state = LM_STOP_GONE;
    } else if (l == LAG_PENDING && blocked && (asleep || (t->stop_flags & LM_STOPF_ASLEEP))) {
        /* Blocked and asleep, and still blocking the signal at the next
         * look (it may have woken for a moment: a timed wait): it will
         * most likely not answer before the timeout (jemalloc's background
         * thread sleeps with every signal blocked for good); do not wait. */
        if (t->stop_flags & LM_STOPF_ASLEEP) {
            t->stop_state = LM_STOP_NOT_STOPPED;
            return false;
        }
        t->stop_flags |= LM_STOPF_ASLEEP;
        return true;
    } else if (l == LAG_NOT_PENDING) {
        t->stop_flags |= LM_STOPF_RESENT;
        if (send_stop(t, sig) == ESRCH)
            t->stop_state = LM_STOP_GONE;
    }
    return false;
}

static void give_up(struct lm_thread *t, int sig)
{
    pid_t pid = lm_os_getpid();
    bool asleep, blocked;
    if (syscall(SYS_tgkill, pid, t->tid, 0) != 0 && errno == ESRCH)
        t->stop_state = LM_STOP_GONE;
    else if (inspect(t, sig, &asleep, &blocked) == LAG_GONE)
        t->stop_state = LM_STOP_GONE;
    else
        t->stop_state = LM_STOP_NOT_STOPPED;
}

/* Sleeps until every REQUESTED slot acked epoch seq, or the timeout. */
static void wait_acks(uint32_t seq, int sig)
{
    uint64_t ms = g_cfg_timeout_ms ? g_cfg_timeout_ms : LM_STOP_TIMEOUT_MS;
    uint64_t rs = g_cfg_resend_ms ? g_cfg_resend_ms : LM_STOP_RESEND_MS;
    uint64_t now = lm_os_now_ns(), deadline = now + ms * 1000000u;
    uint64_t interval = rs * 1000000u;
    uint64_t quick = interval < LM_STOP_QUICK_LOOK_NS ? interval : LM_STOP_QUICK_LOOK_NS;
    /* First look soon: most threads answer within microseconds, and one
     * that blocks the signal while asleep is then known after two quick
     * looks (~2 ms) instead of two resend intervals. */
    uint64_t next_resend = now + quick;
    for (;;) {
        uint32_t acks = __atomic_load_n(&g_acks, __ATOMIC_ACQUIRE);
        unsigned pending = 0, hw = lm_threads_hiwater();
        for (unsigned i = 0; i < hw; i++) {
            struct lm_thread *t = lm_threads_slot(i);
            if (!t || t->stop_state != LM_STOP_REQUESTED)
                continue;
            if (__atomic_load_n(&t->ack_seq, __ATOMIC_ACQUIRE) == seq)
                t->stop_state = LM_STOP_STOPPED;
            else
                pending++;
        }
        if (!pending)
            return;
        now = lm_os_now_ns();
        bool timeout = now >= deadline, resend_now = now >= next_resend, look_again = false;
        for (unsigned i = 0; (timeout || resend_now) && i < hw; i++) {
            struct lm_thread *t = lm_threads_slot(i);
            if (!t || t->stop_state != LM_STOP_REQUESTED)
                continue;
            if (timeout)
                give_up(t, sig);
            else
                look_again |= resend(t, sig);
        }
        if (timeout)
            return;
        if (resend_now) {
            next_resend = now + (look_again ? quick : interval);
            continue;           /* the looks may have settled every laggard */
        }
        uint64_t until = next_resend < deadline ? next_resend : deadline;
        uint64_t rel = until > now ? until - now : 0;
        struct timespec ts = { (time_t)(rel / 1000000000u), (long)(rel % 1000000000u) };
        futex_wait(&g_acks, acks, &ts);
    }
}

/* ------------------------------------------------------------------ */
/* Stop and start                                                      */

/* Bounds for not-stopped threads that never registered: the SP of a thread
 * blocked in a system call is in /proc/self/task/T/syscall. */
static void not_stopped_sp_hint(struct lm_thread *t)
{
    char path[64], text[256];
    lm_format(path, sizeof path, "/proc/self/task/%d/syscall", (int)t->tid);
    if (lm_proc_read(path, text, sizeof text) <= 0 || text[0] == 'r')
        return;                            /* "running": no SP */
    /* "nr args... sp pc": the second to last field. */
    const char *f[10];
    unsigned n = 0;
    for (const char *s = text; *s && n < 10;) {
        while (*s == ' ' || *s == '\n')
            s++;
        if (!*s)
            break;
        f[n++] = s;
        while (*s && *s != ' ' && *s != '\n')
            s++;
    }
    if (n >= 3 && f[n - 2][0] == '0' && f[n - 2][1] == 'x')
        t->sp = (uintptr_t)parse_hex(f[n - 2] + 2);
}

static void finish(struct lm_stop_result *r)
{
    unsigned hw = lm_threads_hiwater();
    for (unsigned i = 0; i < hw; i++) {
        struct lm_thread *t = lm_threads_slot(i);
        if (t && t->stop_state == LM_STOP_NOT_STOPPED && !(t->flags & LM_THREAD_BOUNDS))
            not_stopped_sp_hint(t);
    }
    lm_threads_refresh_bounds_locked();
    for (unsigned i = 0; i < hw; i++) {
        struct lm_thread *t = lm_threads_slot(i);
        if (!t)
            continue;
        r->nthreads++;
        switch (t->stop_state) {
        case LM_STOP_STOPPED:
            r->nstopped++;
            /* fall through */
        case LM_STOP_SELF:
            if (!(t->flags & LM_THREAD_BOUNDS) || t->sp < t->stack_lo || t->sp >= t->stack_hi)
                t->stop_flags |= LM_STOPF_SP_OUTSIDE;
            break;
        case LM_STOP_NOT_STOPPED:
            r->nnot_stopped++;
            t->sp = 0, t->nregs = 0;       /* nothing saved: scan it all */
            break;
        case LM_STOP_GONE:
            r->ngone++;
            break;
        default:
            break;
        }
    }
}

/*
 * Entry.  The caller's callee-saved registers are what holds its values
 * across the call; a C function's prologue may push and reuse them, so on
 * x86_64 they are stored into r->self_regs by a few instructions before any
 * C code runs (slot 6: the caller's SP after the return).  Elsewhere
 * getcontext in a helper is a close approximation.
 */
int lm_stop_world_impl(struct lm_stop_result *r);
#if defined(__x86_64__)
_Static_assert(__builtin_offsetof(struct lm_stop_result, self_regs) == 0, "self_regs first");
__asm__(".text\n"
        ".globl lm_stop_world\n"
        ".hidden lm_stop_world\n"
        ".type lm_stop_world, @function\n"
        "lm_stop_world:\n"
#ifdef __CET__
        "  endbr64\n"
#endif
        "  movq %rbx, 0(%rdi)\n"
        "  movq %rbp, 8(%rdi)\n"
        "  movq %r12, 16(%rdi)\n"
        "  movq %r13, 24(%rdi)\n"
        "  movq %r14, 32(%rdi)\n"
        "  movq %r15, 40(%rdi)\n"
        "  leaq 8(%rsp), %rax\n"
        "  movq %rax, 48(%rdi)\n"
        "  movq $0, 56(%rdi)\n"
        "  jmp lm_stop_world_impl\n"
        ".size lm_stop_world, .-lm_stop_world\n");
#define SELF_NREGS 6u
#define SELF_SP_INDEX 6u
#else
static LM_NOINLINE void capture_self(struct lm_stop_result *r)
{
    ucontext_t uc;
    __builtin_memset(&uc, 0, sizeof uc);
    getcontext(&uc);
    const uintptr_t *m = (const uintptr_t *)&uc.uc_mcontext;
    for (unsigned i = 0; i + 1 < LM_SELF_REGS && i < sizeof(uc.uc_mcontext) / sizeof(uintptr_t); i++)
        r->self_regs[i] = m[i];
    r->self_regs[LM_SELF_REGS - 1] = (uintptr_t)__builtin_frame_address(1);
}
int LM_NOINLINE lm_stop_world(struct lm_stop_result *r)
{
    capture_self(r);
    return lm_stop_world_impl(r);
}
#define SELF_NREGS (LM_SELF_REGS - 1)
#define SELF_SP_INDEX (LM_SELF_REGS - 1)
#endif

int lm_stop_world_impl(struct lm_stop_result *r)
{
    int saved = errno;
    __builtin_memset((char *)r + sizeof r->self_regs, 0, sizeof *r - sizeof r->self_regs);
    uint64_t t0 = lm_os_now_ns();
    pid_t me = sys_gettid();
    int err = 0;
    if (g_reserved_by == me && lm_tidlock_owner(&g_stop_lock) == me)
        g_reserved_by = 0;                      /* take over the reservation */
    else if ((err = lm_tidlock_acquire(&g_stop_lock)) != 0)
        goto out;
    err = lm_threads_lock();
    if (err)
        goto unlock_stop;
    int sig = pick_signal();
    if (!sig) {
        err = EAGAIN;
        goto unlock_all;
    }
    r->signal = sig;
    r->self_tid = me;

    unsigned hw = lm_threads_hiwater();
    for (unsigned i = 0; i < hw; i++) {
        struct lm_thread *t = lm_threads_slot(i);
        if (!t)
            continue;
        t->stop_state = LM_STOP_RUNNING, t->stop_flags = 0;
        /* Bounds of unregistered threads come from this stop's SP: an SP
         * seen on an alternate signal stack must not stick. */
        if (!(t->flags & LM_THREAD_REGISTERED))
            t->flags &= ~LM_THREAD_BOUNDS;
    }
    uint32_t seq = __atomic_load_n(&g_seq, __ATOMIC_RELAXED) | 1u;
    __atomic_store_n(&g_seq, seq, __ATOMIC_SEQ_CST);

    for (unsigned pass = 0; pass < LM_STOP_PASSES; pass++) {
        unsigned lost = 0;
        int added = lm_threads_discover_locked(&lost);
        r->passes++;
        r->noverflow = lost;
        if (added < 0 && pass == 0 && !lm_threads_count()) {
            err = -added;                  /* no table: cannot stop */
            __atomic_store_n(&g_seq, seq + 1, __ATOMIC_RELEASE);
            goto unlock_all;
        }
        if (pass > 0 && added <= 0)
            break;
        unsigned sent = 0;
        hw = lm_threads_hiwater();
        for (unsigned i = 0; i < hw; i++) {
            struct lm_thread *t = lm_threads_slot(i);
            if (!t || t->stop_state != LM_STOP_RUNNING)
                continue;
            if (t->tid == me) {
                t->stop_state = LM_STOP_SELF;
                for (unsigned k = 0; k < SELF_NREGS; k++)
                    t->regs[k] = r->self_regs[k];
                t->nregs = SELF_NREGS;
                t->sp = r->self_regs[SELF_SP_INDEX];
                r->self = t;
                continue;
            }
            t->stop_state = LM_STOP_REQUESTED;
            int e = send_stop(t, sig);
            if (e == ESRCH)
                t->stop_state = LM_STOP_GONE;
            sent++;
        }
        if (sent)
            wait_acks(seq, sig);
    }
    finish(r);
    r->elapsed_ns = lm_os_now_ns() - t0;
    errno = saved;
    return 0;

unlock_all:
    lm_threads_unlock();
unlock_stop:
    lm_tidlock_release(&g_stop_lock);
out:
    errno = saved;
    return err;
}

int lm_stopworld_reserve(void)
{
    int err = lm_tidlock_acquire(&g_stop_lock);
    if (!err)
        g_reserved_by = sys_gettid();
    return err;
}

void lm_stopworld_unreserve(void)
{
    pid_t me = sys_gettid();
    if (g_reserved_by == me && lm_tidlock_owner(&g_stop_lock) == me) {
        g_reserved_by = 0;
        lm_tidlock_release(&g_stop_lock);
    }
}

bool lm_world_stopped_by_me(void)
{
    return (__atomic_load_n(&g_seq, __ATOMIC_ACQUIRE) & 1) &&
           lm_tidlock_owner(&g_stop_lock) == sys_gettid();
}

void lm_start_world(void)
{
    if (!lm_world_stopped_by_me())
        return;
    int saved = errno;
    unsigned hw = lm_threads_hiwater();
    for (unsigned i = 0; i < hw; i++) {
        struct lm_thread *t = lm_threads_slot(i);
        if (t)
            t->stop_state = LM_STOP_RUNNING;
    }
    __atomic_store_n(&g_seq, __atomic_load_n(&g_seq, __ATOMIC_RELAXED) + 1, __ATOMIC_SEQ_CST);
    futex_wake_all(&g_seq);
    lm_threads_unlock();
    lm_tidlock_release(&g_stop_lock);
    errno = saved;
}

/* ------------------------------------------------------------------ */
/* fork                                                                */

static bool g_fork_held;

void lm_stopworld_atfork_prepare(void)
{
    g_fork_held = lm_tidlock_acquire(&g_stop_lock) == 0;
}

void lm_stopworld_atfork_parent(void)
{
    if (g_fork_held)
        lm_tidlock_release(&g_stop_lock);
}

void lm_stopworld_atfork_child(void)
{
    __atomic_store_n(&g_stop_lock, 0, __ATOMIC_RELAXED);
    g_reserved_by = 0;
    uint32_t s = __atomic_load_n(&g_seq, __ATOMIC_RELAXED);
    __atomic_store_n(&g_seq, (s + 1) & ~1u, __ATOMIC_RELAXED);
    __atomic_store_n(&g_acks, 0, __ATOMIC_RELAXED);
}
