/*
 * stopworld.h - stop every other thread of the program, signal-based (the
 * Boehm GC way, see stopworld.c for the protocol and its safety argument),
 * and let them go again.  No ptrace (fails in containers, under gdb/strace).
 *
 * Usage (the leak check):
 *     struct lm_stop_result r;
 *     if (lm_stop_world(&r) == 0) {
 *         ... for i < lm_threads_hiwater(): t = lm_threads_slot(i):
 *             LM_STOP_STOPPED / LM_STOP_SELF: registers t->regs[0..nregs),
 *                 stack [max(t->sp - LM_STACK_REDZONE, t->stack_lo),
 *                 t->stack_hi) (whole stack if LM_STOPF_SP_OUTSIDE);
 *             LM_STOP_NOT_STOPPED: the whole stack if LM_THREAD_BOUNDS, no
 *                 registers; the thread may still run, so read its memory
 *                 with a fault-tolerant copy (process_vm_readv): it can exit
 *                 and its stack be unmapped meanwhile;
 *             LM_STOP_GONE: nothing;
 *             plus [tls_lo, tls_hi) when LM_THREAD_TLS.
 *         lm_start_world();
 *     }
 *
 * Between a successful lm_stop_world and lm_start_world the caller holds
 * the stop lock and the registry lock: it must not call malloc paths that
 * register threads, must not fork, and must not call lm_stop_world again
 * (EDEADLK).  The registry is frozen, so slots can be read without locks.
 *
 * Concurrency: a second thread calling lm_stop_world waits (sleeping on a
 * futex, still stoppable) until the first one has called lm_start_world,
 * then stops the world itself.  Nothing here kills or exits the program.
 */
#ifndef LM_STOPWORLD_H
#define LM_STOPWORLD_H

#include "threads.h"

#include <stdint.h>

#define LM_SELF_REGS 8u
struct lm_stop_result {
    /* Written first thing by lm_stop_world (x86_64: an assembly entry, before
     * any prologue can move them): the caller's callee-saved registers and
     * its SP, which are also copied into the caller's slot.  Keep first. */
    uintptr_t self_regs[LM_SELF_REGS];
    int signal;               /* signal used */
    pid_t self_tid;
    struct lm_thread *self;   /* caller's slot (NULL if the table was full) */
    unsigned nthreads;        /* live slots, the caller included */
    unsigned nstopped;        /* parked in the handler, registers saved */
    unsigned nnot_stopped;    /* did not answer before the timeout */
    unsigned ngone;           /* exited while being stopped */
    unsigned noverflow;       /* threads with no slot (table full): they run
                               * on and their stacks are unknown */
    unsigned passes;          /* /proc/self/task listings made */
    uint64_t elapsed_ns;
};

/* Defaults used when a parameter is 0. */
#define LM_STOP_TIMEOUT_MS 100u   /* give up on a thread after this */
#define LM_STOP_RESEND_MS  10u    /* look at laggards and resend this often */
#define LM_STOP_QUICK_LOOK_NS 1000000u   /* first looks: 1 ms, and 1 ms after a
                                           first blocked-and-asleep sighting */

/* Sets the stop signal (0: SIGRTMAX-4), the total timeout and the resend
 * interval.  When the signal has a handler of the program's, the next lower
 * signals (down to SIGRTMIN+3, at most 5 tried) are used instead.  Takes
 * effect at the next stop; not thread-safe against a running stop. */
void lm_stopworld_configure(int sig, uint32_t timeout_ms, uint32_t resend_ms);

/* Stops every other thread.  Returns 0 (the world is stopped: call
 * lm_start_world; some threads may be NOT_STOPPED, see r), EDEADLK (the
 * caller already holds the world stopped), EAGAIN (no usable signal: the
 * program handles all candidates) or ENOMEM (no registry).  On error the
 * world is running and lm_start_world must not be called.  errno is
 * preserved. */
int lm_stop_world(struct lm_stop_result *r);
/* The caller's registers come from the entry capture above, so only
 * registers holding the caller's own values are saved: call lm_stop_world
 * directly from the function whose registers matter. */
/* Takes the stop lock ahead of lm_stop_world, so that a stopper can take
 * the locks it must hold across the stop (the allocator's, the
 * own-mapping registry's) in the same order as fork's prepare handler:
 * stop lock first.  lm_stop_world then uses the reserved lock; on its
 * failure, and otherwise at lm_start_world, the lock is released.  Returns
 * 0 or EDEADLK (the caller already holds it).  lm_stopworld_unreserve
 * releases a reservation lm_stop_world did not take over (no-op else). */
int lm_stopworld_reserve(void);
void lm_stopworld_unreserve(void);
/* Restarts the threads stopped by the calling thread (no-op otherwise). */
void lm_start_world(void);
/* True while the calling thread holds the world stopped. */
bool lm_world_stopped_by_me(void);

/* fork: call prepare before lm_threads_atfork_prepare, parent/child after
 * the threads ones.  prepare waits for a running stop to end. */
void lm_stopworld_atfork_prepare(void);
void lm_stopworld_atfork_parent(void);
void lm_stopworld_atfork_child(void);

#endif
