/*
 * threads.h - the registry of the program's threads: what a leak check needs
 * to know about every thread (tid, stack bounds, static TLS block) and, after
 * a stop (stopworld.h), its saved stack pointer and registers.
 *
 * Concept: one fixed table of LM_THREADS_MAX slots in an anonymous mapping
 * (never malloc), made on first use.  A thread enters it in two ways:
 *   - lm_threads_register_self(): the thread describes itself (tid,
 *     pthread_self, stack bounds from /proc/self/maps, static TLS);
 *   - lm_threads_discover(): /proc/self/task lists threads that never
 *     registered (they never called malloc, or were created before us); they
 *     get a slot without bounds, which a stop completes from the saved SP.
 * Slots of threads that no longer exist are dropped by lm_threads_discover
 * (a registered thread normally leaves with lm_threads_unregister_self).
 *
 * Invariants: a slot is live iff slot->live == 1; live slots have distinct
 * tids; every live slot has index < lm_threads_hiwater().  Slots are never
 * unmapped, so a slot pointer stays dereferenceable forever (a signal handler
 * may read a slot while it is being reused; it checks tid).
 *
 * Locking: one registry lock (a tid-owned word, see threads.c "Notes on
 * locking") serialises insert, remove and discover.  lm_stop_world holds it
 * from before its first signal until lm_start_world, so the table cannot
 * change while the world is stopped and the scanner may read it freely; a
 * thread registering meanwhile spins (a stopped one is parked in the stop
 * handler; a not-stopped one waits for the scan to end).  Lock order:
 * stop lock (stopworld.c) -> registry lock.  The stop signal handler reads
 * the table without the lock.
 *
 * Signal safety: nothing here allocates or uses stdio (raw syscalls for
 * /proc); lm_threads_find_tid is async-signal-safe; the others take the
 * registry lock and must not be called from a signal handler that could
 * interrupt its holder.  Fork: call the atfork hooks (prepare / parent /
 * child) after stopworld's; the child keeps only the forking thread.
 */
#ifndef LM_THREADS_H
#define LM_THREADS_H

#include "internal.h"

#include <atomic_ops.h>
#include <pthread.h>
#include <sys/types.h>

#define LM_THREADS_MAX 4096u
/* Saved register area, in words: the interrupted mcontext (x86_64: 23
 * general registers, fpregs pointer, reserved) plus the 16 SSE registers
 * (pointers do end up in xmm registers after spills), see stopworld.c. */
#define LM_REGS_WORDS 64u
/* Bytes below a saved SP that the ABI lets leaf code use without moving SP:
 * a stack scan should start at sp - LM_STACK_REDZONE (clamped to stack_lo). */
#if defined(__x86_64__)
#define LM_STACK_REDZONE 128u
#else
#define LM_STACK_REDZONE 0u
#endif

/* lm_thread.flags */
#define LM_THREAD_REGISTERED 0x1u  /* called lm_threads_register_self */
#define LM_THREAD_MAIN       0x2u  /* the process's initial thread (stack grows) */
#define LM_THREAD_BOUNDS     0x4u  /* stack_lo/stack_hi are valid */
#define LM_THREAD_TLS        0x8u  /* tls_lo/tls_hi are valid */

/* lm_thread.stop_state, meaningful while the world is stopped. */
enum lm_stop_state {
    LM_STOP_RUNNING = 0,   /* not part of a stop (world running) */
    LM_STOP_SELF,          /* the thread that stopped the world */
    LM_STOP_REQUESTED,     /* signalled, no answer yet (only inside a stop) */
    LM_STOP_STOPPED,       /* parked in the handler; sp and regs are valid */
    LM_STOP_NOT_STOPPED,   /* did not answer in time (blocks the signal...):
                            * scan its whole stack, no registers */
    LM_STOP_GONE,          /* exited during the stop: nothing to scan */
};

/* lm_thread.stop_flags: observations made while stopping (diagnostics). */
#define LM_STOPF_BLOCKS_SIGNAL 0x1u  /* SigBlk held the stop signal */
#define LM_STOPF_RESENT        0x2u  /* the stop signal was sent again */
#define LM_STOPF_SP_OUTSIDE    0x4u  /* saved SP outside [stack_lo, stack_hi)
                                      * (alternate signal stack): scan the
                                      * whole stack, and the mapping around
                                      * sp (lm_threads_find_mapping) */
#define LM_STOPF_ASLEEP        0x8u  /* blocked the signal while asleep in the
                                      * kernel at two looks in a row: given up
                                      * before the timeout (glibc's
                                      * SIGEV_THREAD helper, for one, never
                                      * unblocks) */

struct lm_thread {
    /* --- registry (written under the registry lock) --- */
    volatile AO_t live;        /* 1 while the slot is in use */
    pid_t tid;
    uint32_t flags;            /* LM_THREAD_* */
    uint32_t seen;             /* discover pass that last saw the tid */
    pthread_t pthread;         /* 0 for discovered threads */
    uintptr_t stack_lo, stack_hi;  /* [lo, hi), readable; see flags */
    uintptr_t tls_lo, tls_hi;      /* static TLS + thread control block */
    /* --- stop state (stopworld.c; valid while the world is stopped) --- */
    uint32_t stop_state;       /* enum lm_stop_state */
    uint32_t stop_flags;       /* LM_STOPF_* */
    volatile uint32_t ack_seq; /* handler: release store after sp/regs */
    uint32_t nregs;            /* words valid in regs */
    uintptr_t sp;              /* saved stack pointer (0: unknown) */
    uintptr_t regs[LM_REGS_WORDS];
} __attribute__((aligned(64)));

/* Registers (or refreshes) the calling thread: tid, pthread_self(), stack
 * bounds, static TLS.  Never allocates.  Returns 0, ENOMEM when the table is
 * full or cannot be mapped, EDEADLK when called by the thread that holds the
 * world stopped. */
int lm_threads_register_self(void);
/* The calling thread's stack as registration found it: [lo, hi), both 0
 * until it registers (and after it unregisters).  For the initial thread lo
 * is 128 MiB below hi (its stack grows into that).  Read by the stack
 * walker (stackwalk.c) to keep its reads inside the stack. */
extern LM_THREAD uintptr_t lm_tls_stack_lo, lm_tls_stack_hi;

/* Removes the calling thread's slot (no-op if it has none). */
void lm_threads_unregister_self(void);

/* Adds a slot (without bounds) for every tid in /proc/self/task that has
 * none, and drops slots whose tid is gone.  Returns the number of slots
 * added, or -errno.  Threads that did not fit count in *overflow (may be
 * NULL).  Caller must hold the registry lock (lm_threads_lock). */
int lm_threads_discover_locked(unsigned *overflow);
/* Same, taking the lock itself. */
int lm_threads_discover(unsigned *overflow);

/* Makes the table if it does not exist yet (a program that never called
 * malloc, with no dump thread, has none at exit).  Call before taking the
 * locks a stop holds: making the table maps memory, and lm_os_map takes the
 * own-mapping lock that a leak check holds across the stop.  Returns 0 or
 * an errno. */
int lm_threads_prepare(void);

/* Registry lock.  lock returns 0 or EDEADLK (the caller already holds it). */
int lm_threads_lock(void);
void lm_threads_unlock(void);

/* A futex lock whose word holds the owner's tid (plus a waiters bit), so
 * that self-deadlock is detected and a waiter sleeps instead of spinning
 * (the stop lock and the registry lock are held across a whole leak check).
 * acquire returns 0, or EDEADLK when the caller already owns it; a waiter
 * stays interruptible by signals (a stop can park it).  Async-signal-safe
 * in the sense that it never allocates; not reentrant with itself. */
int lm_tidlock_acquire(volatile uint32_t *word);
/* Returns false instead of waiting when another thread owns it. */
bool lm_tidlock_try(volatile uint32_t *word);
void lm_tidlock_release(volatile uint32_t *word);
/* Tid of the owner, 0 if free. */
pid_t lm_tidlock_owner(const volatile uint32_t *word);

/* Slots [0, hiwater) may be live; lm_threads_slot returns NULL for dead
 * ones.  Stable while the registry lock is held. */
unsigned lm_threads_hiwater(void);
struct lm_thread *lm_threads_slot(unsigned i);
unsigned lm_threads_count(void);
/* Slot of tid, lock-free (async-signal-safe); hint is a slot index to try
 * first (pass LM_THREADS_MAX for none).  NULL if absent. */
struct lm_thread *lm_threads_find_tid(pid_t tid, unsigned hint);
/* Index of a slot pointer. */
unsigned lm_threads_index(const struct lm_thread *t);
/* The table's mapping, so that root scanning can exclude it. */
void lm_threads_table_range(uintptr_t *lo, uintptr_t *hi);

/* The readable mapping of /proc/self/maps that contains addr ([lo, hi)).
 * Raw syscalls, no allocation, async-signal-safe.  Returns 0, ENOENT, or
 * the errno of open/read. */
int lm_threads_find_mapping(uintptr_t addr, uintptr_t *lo, uintptr_t *hi);
/* Completes bounds for every live slot that lacks them (from its saved sp)
 * and refreshes the main thread's lower bound (its stack grows), in one
 * pass over /proc/self/maps.  Registry lock held (world stopped). */
void lm_threads_refresh_bounds_locked(void);

/* Reads up to cap-1 bytes of a /proc file into buf (NUL-terminated) with raw
 * syscalls.  Returns the length or -errno. */
long lm_proc_read(const char *path, char *buf, size_t cap);

void lm_threads_atfork_prepare(void);
void lm_threads_atfork_parent(void);
void lm_threads_atfork_child(void);

#endif
