/*
 * dumper.c - owns the dump trigger and the snapshot (dumper.h).
 *
 * Trigger.  The dump signal's handler bumps g_requests and FUTEX_WAKEs it
 * (errno saved): no lock, no malloc, no file descriptor.  A futex, not a
 * self-pipe: a pipe would take two fd numbers the program may expect to be
 * free (programs print them, compare them, or close every fd and reuse
 * the numbers - a byte written into a reused number would land in the
 * program's own file).  leakmark's dumper thread sleeps on g_requests and
 * runs one dump per wake-up; requests that arrive while a dump runs are
 * coalesced into the next one (the kernel coalesces pending signals too).
 * The thread blocks every signal except the stop-signal candidates
 * (SIGRTMAX-8..SIGRTMAX-4, stopworld.c), so process-directed signals keep
 * reaching the program's threads.
 *
 * Snapshot (lm_dump_now and the thread both call dump_once):
 *   1. loader lock (lm_roots_with_loader_lock, as leakcheck.c), allocator
 *      locks, lm_stop_world, allocator locks released;
 *   2. raw clone(flags 0): a fork without pthread_atfork handlers (the
 *      program's could wait for locks that stopped threads hold), whose exit
 *      signal is 0: no SIGCHLD reaches the program, its wait(-1)/
 *      waitpid(-1) never sees the child (only __WCLONE waits do), and
 *      SIGCHLD=SIG_IGN cannot auto-reap it;
 *   3. parent: lm_start_world at once; pause = before the stop -> after
 *      the restart, handed to the child through a MAP_SHARED page (no fd);
 *      then wait4(child, __WCLONE) and read the child's result there;
 *   4. child (one thread, copy-on-write image of the stopped process,
 *      saved registers in the thread table, loader lock held under the
 *      forking thread's cached tid so dl_iterate_phdr re-enters it):
 *      closes every fd but the log fd (it must not keep the program's
 *      pipes open), builds the roots as leakcheck.c does, marks, waits for
 *      the pause value, writes the file (dump.c: temporary + rename) and
 *      leaves with exit_group: no atexit handler, no exit check, no stdio.
 * The child touches no lock a stopped thread could hold except the
 * loader lock (ours) and os.c's own-mapping spinlock (see the report).
 *
 * Interposition: see dumper.h.  The real sigaction is libc's __sigaction,
 * referenced directly (no dlsym, so stopworld.c - which reaches our
 * sigaction through -Bsymbolic - never allocates inside a stop); signal
 * and sysv_signal come from dlsym(RTLD_NEXT) in the constructor, or lazily.
 *
 * Locking: g_dump_lock (a tid lock) serialises dumps; g_view_lock (spin)
 * the program's view of the dump signal.  Neither is taken by a handler.
 */
#include "dumper.h"
#include "leakcheck.h"
#include "alloc.h"
#include "atomic.h"
#include "backtrace.h"
#include "dump.h"
#include "gen.h"
#include "log.h"
#include "mark.h"
#include "options.h"
#include "os.h"
#include "roots.h"
#include "scan.h"
#include "stackdepot.h"
#include "stopworld.h"
#include "threads.h"
#include "unref.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <linux/futex.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

static int g_sig;                         /* armed signal, 0: off */
static volatile AO_t g_armed;
static volatile uint32_t g_requests;      /* futex: bumped by the handler */
static volatile uint32_t g_dump_lock;
static volatile AO_t g_seq;
static volatile AO_t g_started;
static volatile AO_t g_registered;        /* the dumper thread has a slot */
static volatile AO_t g_thread_wanted;     /* dumps on a signal or periodic scans */
static uint64_t g_scan_seq;               /* periodic scans done (dumper thread) */
static size_t g_live_at_scan;             /* estimate when the last one ran */
static bool g_scan_pending;               /* it left unconfirmed leaks */
static struct lm_gen_schedule g_schedule;
static volatile AO_TS_t g_view_lock = AO_TS_INITIALIZER;
static struct sigaction g_view;           /* the program's view (SIG_DFL) */
static __sighandler_t (*real_signal)(int, __sighandler_t);
static __sighandler_t (*real_sysv_signal)(int, __sighandler_t);
static struct lm_dump_last g_last;

/* ---- signal names ---- */

static const char *const sig_names[] = {
    [SIGHUP] = "HUP", [SIGINT] = "INT", [SIGQUIT] = "QUIT", [SIGILL] = "ILL",
    [SIGTRAP] = "TRAP", [SIGABRT] = "ABRT", [SIGBUS] = "BUS", [SIGFPE] = "FPE",
    [SIGKILL] = "KILL", [SIGUSR1] = "USR1", [SIGSEGV] = "SEGV", [SIGUSR2] = "USR2",
    [SIGPIPE] = "PIPE", [SIGALRM] = "ALRM", [SIGTERM] = "TERM", [SIGSTKFLT] = "STKFLT",
    [SIGCHLD] = "CHLD", [SIGCONT] = "CONT", [SIGSTOP] = "STOP", [SIGTSTP] = "TSTP",
    [SIGTTIN] = "TTIN", [SIGTTOU] = "TTOU", [SIGURG] = "URG", [SIGXCPU] = "XCPU",
    [SIGXFSZ] = "XFSZ", [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF", [SIGWINCH] = "WINCH",
    [SIGIO] = "IO", [SIGPWR] = "PWR", [SIGSYS] = "SYS",
};

static bool parse_uint(const char *s, int *out)
{
    if (!*s)
        return false;
    long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 1000)
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = (int)v;
    return true;
}

static bool ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'a' && *a <= 'z' ? (char)(*a - 32) : *a;
        if (x != *b)
            return false;
    }
    return *a == *b;
}

int lm_dumper_parse_signal(const char *text, int *sig)
{
    *sig = 0;
    if (!text || !text[0] || (text[0] == '0' && !text[1]))
        return 0;
    const char *s = text;
    if ((s[0] == 'S' || s[0] == 's') && (s[1] == 'I' || s[1] == 'i') && (s[2] == 'G' || s[2] == 'g'))
        s += 3;
    int v = -1;
    if (!parse_uint(s, &v)) {
        for (unsigned i = 1; i < LM_ARRAY_LEN(sig_names); i++)
            if (sig_names[i] && ieq(s, sig_names[i]))
                v = (int)i;
        char head[6];
        size_t k = 0;
        for (; k < 5 && s[k]; k++)
            head[k] = s[k];
        head[k] = 0;
        if (v < 0 && k == 5 && (ieq(head, "RTMIN") || ieq(head, "RTMAX"))) {
            int off = 0;
            const char *r = s + 5;
            if (*r && !((*r == '+' || *r == '-') && parse_uint(r + 1, &off)))
                return EINVAL;
            bool min = ieq(head, "RTMIN");
            if ((min && *r == '-') || (!min && *r == '+'))
                return EINVAL;
            v = min ? SIGRTMIN + off : SIGRTMAX - off;
        }
    }
    if (v < 1 || v > SIGRTMAX || v == SIGKILL || v == SIGSTOP || (v > 31 && v < SIGRTMIN))
        return EINVAL;
    *sig = v;
    return 0;
}

void lm_dumper_signal_name(int sig, char *buf, size_t cap)
{
    if (sig > 0 && sig < (int)LM_ARRAY_LEN(sig_names) && sig_names[sig])
        lm_format(buf, cap, "SIG%s", sig_names[sig]);
    else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
        lm_format(buf, cap, "SIGRTMIN+%d", sig - SIGRTMIN);
    else
        lm_format(buf, cap, "signal %d", sig);
}

/* ---- the handler and the thread ---- */

static void dump_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)si, (void)uc;
    int saved = errno;
    __atomic_fetch_add(&g_requests, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, &g_requests, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    errno = saved;
}

static int dump_once(enum lm_dump_trigger trigger);

/* Sleeps until a dump request or the next periodic scan (deadline 0: no
 * scans).  The futex wait returns early on a request, a signal or a
 * spurious wake: the loop looks again. */
static void wait_for_work(uint32_t cur, uint64_t deadline)
{
    if (!deadline) {
        syscall(SYS_futex, &g_requests, FUTEX_WAIT_PRIVATE, cur, NULL, NULL, 0);
        return;
    }
    uint64_t now = lm_os_now_ns();
    if (now >= deadline)
        return;
    uint64_t left = deadline - now;
    struct timespec ts = { (time_t)(left / 1000000000u), (long)(left % 1000000000u) };
    syscall(SYS_futex, &g_requests, FUTEX_WAIT_PRIVATE, cur, &ts, NULL, 0);
}

/* CPython collects the young generation when allocations minus frees
 * exceed gen0_threshold; a periodic scan here is skipped when the live
 * block count moved by less than that since the last scan - unless that
 * scan saw leaks still waiting for confirmation (they need their next
 * scans, or an idle program would never hear of its last leak), and never
 * more than gen1_threshold - 1 times in a row (a slow leak in a program
 * whose heap size stays put is still found, 10 intervals later). */
static bool scan_worth_it(void)
{
    static uint32_t skipped;
    if (!g_scan_seq || g_scan_pending || skipped + 1 >= lm_options.gen1_threshold) {
        skipped = 0;
        return true;
    }
    size_t live = lm_live_blocks_estimate();
    size_t moved = live > g_live_at_scan ? live - g_live_at_scan : g_live_at_scan - live;
    if (moved >= lm_options.gen0_threshold) {
        skipped = 0;
        return true;
    }
    skipped++;
    if (lm_options.verbosity >= 3)
        lm_log("periodic scan skipped: %zu live blocks, %zu at the last scan (gen0_threshold %u)",
               live, g_live_at_scan, (unsigned)lm_options.gen0_threshold);
    return false;
}

static void *dumper_main(void *arg)
{
    (void)arg;
    if (lm_threads_register_self() == 0)
        lm_store_rel(&g_registered, 1);
    /* Take this thread's heap now: the snapshot child allocates (the
     * periodic report symbolizes with libdw), and a first allocation there
     * would register the thread under the threads lock, which the stopped
     * parent held when it forked. */
    lm_free(lm_malloc(16));
    uint64_t interval = (uint64_t)lm_options.scan_interval * 1000000000u;
    uint64_t next_scan = interval ? lm_os_now_ns() + interval : 0;
    uint32_t seen = 0;          /* requests made before we ran count too */
    for (;;) {
        if (next_scan && lm_os_now_ns() >= next_scan) {
            if (scan_worth_it())
                dump_once(LM_DUMP_TRIGGER_PERIODIC);
            next_scan = lm_os_now_ns() + interval;
            continue;
        }
        uint32_t cur = __atomic_load_n(&g_requests, __ATOMIC_ACQUIRE);
        if (cur == seen || !lm_load_acq(&g_armed)) {
            wait_for_work(cur, next_scan);
            seen = lm_load_acq(&g_armed) ? seen : __atomic_load_n(&g_requests, __ATOMIC_ACQUIRE);
            continue;
        }
        seen = cur;
        dump_once(LM_DUMP_TRIGGER_SIGNAL);
    }
    return NULL;
}

static void start_thread(void)
{
    sigset_t all, old;
    sigfillset(&all);
    for (int s = SIGRTMAX - 8; s <= SIGRTMAX - 4; s++)
        sigdelset(&all, s);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, (size_t)1 << 20);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_sigmask(SIG_SETMASK, &all, &old);      /* inherited by the thread */
    pthread_t th;
    int err = pthread_create(&th, &attr, dumper_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (err) {
        lm_store_rel(&g_armed, 0);
        lm_store_rel(&g_thread_wanted, 0);
        lm_log("cannot start the dump thread (errno %d); dumps on a signal and periodic "
               "scans are off", err);
    }
    else
        pthread_setname_np(th, "leakmark-dump");
}

static void resolve_reals(void)
{
    if (!real_signal)
        real_signal = (__sighandler_t (*)(int, __sighandler_t))dlsym(RTLD_NEXT, "signal");
    if (!real_sysv_signal)
        real_sysv_signal = (__sighandler_t (*)(int, __sighandler_t))dlsym(RTLD_NEXT, "sysv_signal");
}

static void log_taken(void)
{
    char name[32];
    lm_dumper_signal_name(g_sig, name, sizeof name);
    lm_log("dump_signal %s is used by the program; dumps on that signal are off", name);
}

static void arm_signal(void);

void lm_dumper_start(void)
{
    if (!lm_cas_full(&g_started, 0, 1))
        return;
    resolve_reals();
    arm_signal();
    if ((lm_load_acq(&g_armed) || lm_options.scan_interval) && lm_init()) {
        lm_store_rel(&g_thread_wanted, 1);
        start_thread();
    }
}

static void arm_signal(void)
{
    int sig;
    if (lm_dumper_parse_signal(lm_options.dump_signal, &sig) != 0) {
        lm_log("dump_signal '%s' is not a signal (a name like SIGUSR1 or USR1, a number, "
               "or 0 for none); dumps on a signal are off", lm_options.dump_signal);
        return;
    }
    if (!sig || !lm_init())
        return;
    g_sig = sig;
    struct sigaction old;
    if (__sigaction(sig, NULL, &old) != 0)
        return;
    if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler != SIG_DFL) {
        log_taken();                 /* inherited SIG_IGN, or set before us */
        return;
    }
    g_view = old;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = dump_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (__sigaction(sig, &sa, NULL) != 0)
        return;
    lm_store_rel(&g_armed, 1);
}

unsigned lm_dumper_thread_registered(void) { return (unsigned)lm_load_acq(&g_registered); }

int lm_dumper_signal(void) { return lm_load_acq(&g_armed) ? g_sig : 0; }

void lm_dumper_atfork_child(void)
{
    /* The dumper thread did not survive the fork: the child gets its own.
     * A dump lock held by another thread of the parent is void here. */
    g_dump_lock = 0;
    g_requests = 0;
    g_scan_seq = 0;
    lm_store_rel(&g_registered, 0);
    lm_unref_atfork_child();
    if (lm_load_acq(&g_thread_wanted))
        start_thread();
}

/* ---- interposition ---- */

static void view_lock(void)
{
    while (AO_test_and_set_acquire(&g_view_lock) != AO_TS_CLEAR)
        sched_yield();
}
static void view_unlock(void) { AO_CLEAR(&g_view_lock); }

static bool is_default(const struct sigaction *act)
{
    return !(act->sa_flags & SA_SIGINFO) ? act->sa_handler == SIG_DFL
                                          : (void *)act->sa_sigaction == (void *)SIG_DFL;
}

/* The program takes the signal: our handler goes, dumps stop. */
static void disarm(void)
{
    if (lm_cas_full(&g_armed, 1, 0))
        log_taken();
}

int lm_dumper_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (sig != g_sig || !lm_load_acq(&g_armed))
        return __sigaction(sig, act, old);
    view_lock();
    struct sigaction prev = g_view;
    int r = 0;
    if (act && is_default(act)) {
        g_view = *act;
    } else if (act) {
        r = __sigaction(sig, act, NULL);
        if (r == 0)
            disarm();
    }
    view_unlock();
    if (r == 0 && old)
        *old = prev;
    return r;
}

__sighandler_t lm_dumper_signal_call(int sig, __sighandler_t h, enum lm_signal_flavour f)
{
    resolve_reals();
    __sighandler_t (*real)(int, __sighandler_t) = f == LM_SIGNAL_SYSV ? real_sysv_signal : real_signal;
    if (sig != g_sig || !lm_load_acq(&g_armed) || h == SIG_ERR)
        return real ? real(sig, h) : SIG_ERR;
    view_lock();
    __sighandler_t prev = (g_view.sa_flags & SA_SIGINFO) ? (__sighandler_t)(void *)g_view.sa_sigaction
                                                          : g_view.sa_handler;
    if (h == SIG_DFL) {
        memset(&g_view, 0, sizeof g_view);
        g_view.sa_handler = SIG_DFL;
    } else if (!real || real(sig, h) == SIG_ERR) {
        prev = SIG_ERR;
    } else {
        disarm();
    }
    view_unlock();
    return prev;
}

/* ---- the dump ---- */

struct shared {                 /* MAP_SHARED page: parent <-> child */
    volatile uint32_t pause_ready;
    uint32_t pad;
    uint64_t pause_ns;
    int err;
    uint32_t done;
    uint64_t scan_ns, bytes, blocks;
    uint64_t pending;           /* periodic: leaked blocks not yet confirmed */
};

struct job {
    enum lm_dump_trigger trigger;
    uint32_t seq;               /* dump number (dumps), scan number (periodic) */
    unsigned level;             /* oldest generation the scan examines */
    uint64_t snap_ns;           /* monotonic: the world stopped */
    pid_t pid;                  /* the dumped process */
    uint64_t t0, wall_ns;
    struct shared *sh;
    struct lm_stop_result stop;
    long child;                 /* pid, or -errno */
    int err;
};

static void close_fds_but_log(void)
{
    int keep = lm_log_fd();
    if (keep < 0) {
        syscall(SYS_close_range, 0u, ~0u, 0u);
        return;
    }
    if (keep > 0)
        syscall(SYS_close_range, 0u, (unsigned)keep - 1u, 0u);
    syscall(SYS_close_range, (unsigned)keep + 1u, ~0u, 0u);
}

static __attribute__((noreturn)) void child_main(struct job *j)
{
    close_fds_but_log();
    struct shared *sh = j->sh;
    struct lm_roots roots;
    struct lm_mark_result res;
    lm_roots_init(&roots);
    lm_mark_result_init(&res);
    lm_leakcheck_thread_roots(&roots);
    lm_roots_collect(&roots);
    int err = lm_mark_run(&roots, &res);
    if (!err)
        lm_leakcheck_forgive_loader(&res);
    uint64_t scan_ns = lm_os_now_ns() - j->t0;
    /* The parent restarts the world right after the clone: the pause is
     * known by now, or very soon. */
    for (int i = 0; i < 1000 && !__atomic_load_n(&sh->pause_ready, __ATOMIC_ACQUIRE); i++) {
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        syscall(SYS_futex, &sh->pause_ready, FUTEX_WAIT, 0, &ts, NULL, 0);
    }
    struct lm_dump_info info = {
        .trigger = j->trigger, .seq = j->seq, .pid = j->pid, .wall_ns = j->wall_ns,
        .pause_ns = sh->pause_ns, .scan_ns = scan_ns,
        .threads_not_stopped = j->stop.nnot_stopped, .snap_ns = j->snap_ns,
    };
    struct lm_dump_stats st = { 0 };
    if (j->trigger == LM_DUMP_TRIGGER_PERIODIC) {
        struct lm_scan_job sj = {
            .seq = j->seq, .level = j->level, .snap_ns = j->snap_ns, .pid = j->pid,
            .scan_ms = (double)scan_ns / 1e6, .pause_ms = (double)sh->pause_ns / 1e6,
            .threads_not_stopped = j->stop.nnot_stopped,
        };
        struct lm_scan_stats ss;
        if (!err)
            err = lm_scan_report(&res, &sj, &ss);
        st.blocks = err ? 0 : ss.new_blocks;
        st.bytes = err ? 0 : ss.new_bytes;
        sh->pending = err ? 1 : ss.pending_blocks;
    } else if (!err) {
        char path[LM_DUMP_PATH_MAX];
        if (!lm_dump_expand_path(path, sizeof path, lm_options.dump_path, j->pid, j->seq))
            err = ENAMETOOLONG;
        else
            err = lm_dump_write_file(path, &res, &info, &st);
    }
    sh->err = err;
    sh->scan_ns = scan_ns;
    sh->bytes = st.bytes;
    sh->blocks = st.blocks;
    __atomic_store_n(&sh->done, 1, __ATOMIC_RELEASE);
    syscall(SYS_exit_group, err ? 1 : 0);
    __builtin_unreachable();
}

static void log_not_stopped(void)
{
    unsigned n = lm_threads_hiwater();
    for (unsigned i = 0; i < n; i++) {
        struct lm_thread *t = lm_threads_slot(i);
        if (t && t->stop_state == LM_STOP_NOT_STOPPED)
            lm_log("dump: thread %d did not stop (flags 0x%x): its whole stack is scanned "
                   "without registers", (int)t->tid, t->stop_flags);
    }
}

static void stopped_phase(void *arg)
{
    struct job *j = arg;
    /* Stop lock, then the allocator's: fork's prepare takes them in that
     * order too (stopworld.c, "Notes on locking"). */
    int err = lm_stopworld_reserve();
    if (err) {
        j->err = err;
        return;
    }
    lm_heap_atfork_prepare();
    lm_span_atfork_prepare();
    lm_os_atfork_prepare();
    uint64_t t_stop = lm_os_now_ns();
    err = lm_stop_world(&j->stop);
    lm_os_atfork_parent();
    lm_span_atfork_parent();
    lm_heap_atfork_parent();
    if (err) {
        lm_stopworld_unreserve();
        j->err = err;
        return;
    }
    j->snap_ns = t_stop;
    /* clone(2) with flags 0: fork without atfork handlers, exit signal 0. */
    long pid = syscall(SYS_clone, 0UL, 0UL, NULL, NULL, 0UL);
    if (pid == 0)
        child_main(j);
    j->child = pid < 0 ? -errno : pid;
    if (pid > 0)
        lm_gen_scan_done(j->level, t_stop);     /* the child keeps the old epoch */
    if (j->stop.nnot_stopped && lm_options.verbosity >= 2)
        log_not_stopped();
    lm_start_world();
    j->sh->pause_ns = lm_os_now_ns() - t_stop;
    __atomic_store_n(&j->sh->pause_ready, 1, __ATOMIC_RELEASE);
    syscall(SYS_futex, &j->sh->pause_ready, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* Waits for the snapshot child, at most LM_SNAPSHOT_MAX_S seconds: a child
 * stuck on a lock a stopped thread held (the loader's, while it dlopen'ed)
 * is killed, so that it never blocks the next dumps. */
#define LM_SNAPSHOT_MAX_S 600
static void wait_child(long child)
{
    int status = 0;
    uint64_t deadline = lm_os_now_ns() + (uint64_t)LM_SNAPSHOT_MAX_S * 1000000000u;
    for (unsigned ms = 1;; ms = ms < 50 ? ms * 2 : 50) {
        long r = syscall(SYS_wait4, child, &status, __WCLONE | WNOHANG, NULL);
        if (r == child || (r < 0 && errno != EINTR))
            return;
        if (lm_os_now_ns() > deadline) {
            lm_log("snapshot %ld did not finish in %d s: killed", child, LM_SNAPSHOT_MAX_S);
            syscall(SYS_kill, child, SIGKILL);
            while (syscall(SYS_wait4, child, &status, __WCLONE, NULL) < 0 && errno == EINTR)
                ;
            return;
        }
        struct timespec ts = { 0, (long)ms * 1000000L };
        nanosleep(&ts, NULL);
    }
}

void lm_dumper_lock(void) { lm_tidlock_acquire(&g_dump_lock); }
void lm_dumper_unlock(void) { lm_tidlock_release(&g_dump_lock); }

static int dump_once(enum lm_dump_trigger trigger)
{
    if (!lm_init())
        return ENOMEM;
    int saved = errno;
    int err = lm_tidlock_acquire(&g_dump_lock);
    if (err)
        return err;
    struct job j;
    memset(&j, 0, sizeof j);
    j.trigger = trigger;
    bool periodic = trigger == LM_DUMP_TRIGGER_PERIODIC;
    j.seq = periodic ? (uint32_t)g_scan_seq++ : (uint32_t)lm_fetch_add(&g_seq, 1);
    j.level = periodic ? lm_gen_next_level(&g_schedule) : LM_GEN_OLD;
    if (lm_unref_setup() != 0 && lm_options.verbosity >= 2)
        lm_log("scan: no memory for the unreachable-scan table; counts start at 1 each scan");
    j.pid = lm_os_getpid();
    j.t0 = lm_os_now_ns();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    j.wall_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    void *page = (void *)syscall(SYS_mmap, NULL, (size_t)LM_PAGE_SIZE, PROT_READ | PROT_WRITE,
                                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        err = ENOMEM;
        goto out;
    }
    j.sh = page;
    lm_backtrace_thread_block();
    lm_roots_with_loader_lock(stopped_phase, &j);
    lm_backtrace_thread_unblock();
    if (j.err || j.child < 0) {
        err = j.err ? j.err : (int)-j.child;
        lm_log("%s %u failed: %s (errno %d)", periodic ? "periodic scan" : "heap dump", j.seq,
               j.err ? "could not stop the world" : "could not fork the snapshot", err);
        goto unmap;
    }
    wait_child(j.child);
    err = j.sh->done ? j.sh->err : ECHILD;
    if (periodic) {
        g_live_at_scan = lm_live_blocks_estimate();
        g_scan_pending = err || j.sh->pending;
        if (err)
            lm_log("periodic scan %u failed (errno %d)", j.seq, err);
        else if (lm_options.verbosity >= 2)
            lm_log("periodic scan %u (generations up to %s): %lu new leaked blocks, %lu bytes; "
                   "pause %lu us, scan %lu ms", j.seq, lm_gen_name(j.level),
                   (unsigned long)j.sh->blocks, (unsigned long)j.sh->bytes,
                   (unsigned long)(j.sh->pause_ns / 1000), (unsigned long)(j.sh->scan_ns / 1000000));
        goto unmap;
    }
    char path[LM_DUMP_PATH_MAX];
    if (!lm_dump_expand_path(path, sizeof path, lm_options.dump_path, j.pid, j.seq))
        path[0] = 0;
    if (err)
        lm_log("heap dump %u to '%s' failed (errno %d)", j.seq, path, err);
    else if (lm_options.verbosity >= 2)
        lm_log("heap dump %u: %s, %lu blocks, %lu bytes, pause %lu us, scan %lu ms", j.seq, path,
               (unsigned long)j.sh->blocks, (unsigned long)j.sh->bytes,
               (unsigned long)(j.sh->pause_ns / 1000), (unsigned long)(j.sh->scan_ns / 1000000));
    g_last = (struct lm_dump_last){ .seq = j.seq, .err = err, .pause_ns = j.sh->pause_ns,
                                    .scan_ns = j.sh->scan_ns, .bytes = j.sh->bytes,
                                    .blocks = j.sh->blocks };
    lm_format(g_last.path, sizeof g_last.path, "%s", path);
unmap:
    syscall(SYS_munmap, page, (size_t)LM_PAGE_SIZE);
out:
    lm_tidlock_release(&g_dump_lock);
    errno = saved;
    return err;
}

int lm_dump_now(enum lm_dump_trigger trigger) { return dump_once(trigger); }

void lm_dump_last_get(struct lm_dump_last *out) { *out = g_last; }
