/*
 * init.c - process set-up of the allocator and its fork handlers.
 *
 * lm_init() is called from every slow path; the first call in the process
 * (often from ld.so or libc set-up, before any constructor of ours) does
 * the work: options, the arena secret, size-class layouts, the address
 * region, the thread-exit key.  None of it allocates.  Concurrent first
 * calls wait for the winner; a call re-entering from inside set-up (it
 * should not happen) fails with ENOMEM instead of deadlocking.
 *
 * The constructor registers pthread_atfork handlers (registration may
 * allocate, so it is not done inside malloc).  Lock order, taken in this
 * order by prepare and released by parent / reset by child:
 *   stop lock -> thread registry -> heap global_lock -> heaps_lock ->
 *   span_lock -> meta_lock
 * The destructor runs the exit-time leak check (leakcheck.c).
 */
#include "alloc.h"
#include "api.h"
#include "backtrace.h"
#include "dumper.h"
#include "leakcheck.h"
#include "stopworld.h"
#include "threads.h"
#include "atomic.h"
#include "log.h"
#include "options.h"
#include "os.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { INIT_NONE, INIT_RUNNING, INIT_DONE, INIT_FAILED };

static volatile AO_t init_state = INIT_NONE;
static volatile AO_t init_tid;

static void open_log_path(void)
{
    const char *src = lm_options.log_path;
    if (!src[0])
        return;
    char path[LM_OPT_STR_MAX + 32];
    size_t o = 0;
    for (size_t i = 0; src[i] && o + 24 < sizeof path; i++) {
        if (src[i] == '%' && src[i + 1] == 'p') {
            o += lm_format(path + o, sizeof path - o, "%d", (int)lm_os_getpid());
            i++;
        } else {
            path[o++] = src[i];
        }
    }
    path[o] = 0;
    long fd = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        lm_log("cannot open log_path '%s'; logging to stderr", path);
    else
        lm_log_set_fd((int)fd);
}

static bool init_slow(void)
{
    if (lm_cas_full(&init_state, INIT_NONE, INIT_RUNNING)) {
        lm_store_relaxed(&init_tid, (AO_t)lm_os_gettid());
        lm_options_init();
        lm_backtrace_set_unwinder((int)lm_options.unwinder);
        open_log_path();
        lm_log_remember_fd();
        lm_leakcheck_set_pid();
        lm_arena_secret = lm_os_random() | 1;
        lm_arena_init_classes();
        int err = lm_span_init();
        if (err) {
            lm_log("cannot reserve address space for the heap (errno %d); every allocation will fail", err);
            lm_store_rel(&init_state, INIT_FAILED);
            return false;
        }
        if (!lm_heap_global_init())
            lm_log("cannot create the thread-exit key; heaps of exited threads are not reused");
        lm_store_rel(&init_state, INIT_DONE);
        return true;
    }
    if (lm_load_relaxed(&init_tid) == (AO_t)lm_os_gettid() &&
        lm_load_acq(&init_state) == INIT_RUNNING)
        return false;
    AO_t s;
    while ((s = lm_load_acq(&init_state)) == INIT_RUNNING)
        sched_yield();
    return s == INIT_DONE;
}

bool lm_init(void)
{
    if (lm_likely(lm_load_acq(&init_state) == INIT_DONE))
        return true;
    return init_slow();
}

/* Set in prepare: the parent has other threads, one of which may hold
 * libunwind's lock at the fork; the child then records only the stacks
 * the walker can take without libunwind. */
static bool fork_from_threads;

static void fork_prepare(void)
{
    /* leakmark's dumper thread never unwinds: it does not count. */
    fork_from_threads = lm_threads_count() > 1 + lm_dumper_thread_registered();
    lm_stopworld_atfork_prepare();
    lm_threads_atfork_prepare();
    lm_heap_atfork_prepare();
    lm_span_atfork_prepare();
    lm_os_atfork_prepare();
}

static void fork_parent(void)
{
    lm_os_atfork_parent();
    lm_span_atfork_parent();
    lm_heap_atfork_parent();
    lm_threads_atfork_parent();
    lm_stopworld_atfork_parent();
}

static void fork_child(void)
{
    lm_os_atfork_child();
    lm_span_atfork_child();
    lm_heap_atfork_child();
    lm_threads_atfork_child();
    lm_stopworld_atfork_child();
    lm_leakcheck_atfork_child();
    lm_api_atfork_child();
    if (fork_from_threads)
        lm_backtrace_atfork_child_of_threads();
    lm_dumper_atfork_child();
}

__attribute__((constructor(101))) static void lm_constructor(void)
{
    lm_init();
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* Runs at exit() and on return from main, after the program's atexit
 * handlers and its libraries' destructors (a preloaded object is finalised
 * last), before libc flushes stdio. */
__attribute__((destructor(101))) static void lm_destructor(void)
{
    lm_backtrace_verify_summary();
    lm_leakcheck_at_exit();
}
