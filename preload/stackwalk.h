/*
 * stackwalk.h - leakmark's own return-address walk (the fast path of stack
 * capture; backtrace.c falls back to libunwind whenever it declines).
 *
 * A walk starts from one frame's (ip, sp, rbp), looks up each return
 * address's rule (cfi.h) in a process-wide table, and
 * steps: CFA = rsp or rbp + offset, return address and saved rbp read at
 * fixed offsets from the CFA.  Every stack read is checked to lie inside
 * the calling thread's registered stack (threads.h lm_tls_stack_lo/hi), so
 * a wrong rule can give a wrong stack but never a fault.
 *
 * Thread safety: the rule table is shared and written without locks (each
 * slot carries a check word, see stackwalk.c); the memo and statistics
 * belong to the calling thread's heap (heap.h), which only that thread
 * uses; a thread without a heap yet, or not registered, gets -1 (use
 * libunwind).  Not reentrant on one thread: the caller's nesting guard
 * (backtrace.c) keeps a signal handler out.  Signal safety: no locks, no
 * malloc (tables are mmap'd on first use).  dlclose bumps a generation
 * (lm_unwind_forget) that invalidates every rule and memo, as code at a
 * reused address has other rules.
 */
#ifndef LM_STACKWALK_H
#define LM_STACKWALK_H

#include "internal.h"

/* What one walk read from the stack, enough to tell cheaply that a walk
 * from the same start state would read the same words, hence follow the
 * same rules and return the same frames: the start (ip, sp, and rbp when
 * some frame's CFA came from it), the stack bound, and every word whose
 * value steered the walk (return addresses; saved rbp values that a later
 * frame's CFA used).  Rules are fixed within a cache generation. */
#define LM_WALK_PROOF_READS 32
struct lm_walk_proof {
    uintptr_t ip0, sp0, rbp0, hi;
    bool valid, rbp0_needed;
    uint8_t nreads, max, skip;
    uintptr_t addr[LM_WALK_PROOF_READS], value[LM_WALK_PROOF_READS];
};

/* Fills pcs with up to max return addresses, starting with `ip` (the
 * return address of the frame whose caller's sp and rbp are given) and
 * dropping the first `skip`.  Returns the count, or -1 when some frame has
 * no rule this walker can apply (signal frames, CFA expressions, code
 * without unwind information) or the thread has no cache: the caller must
 * then unwind another way. */
int lm_unwind_walk(uintptr_t *pcs, int max, int skip, uintptr_t ip, uintptr_t sp, uintptr_t rbp,
                   struct lm_walk_proof *proof);

/* The memo: a few walks per thread remembered with their proofs and the
 * id their frames got (stack depot), 4-way set associative by (ip, sp).  find
 * returns the id when the remembered walk from this start state is proven
 * to repeat (all its words still read the same), else 0; keep remembers a
 * proof (proof->valid) with its id.  Owner thread only; emptied with the
 * rule cache. */
uint32_t lm_unwind_memo_find(uintptr_t ip, uintptr_t sp, uintptr_t rbp, int max, int skip);
void lm_unwind_memo_keep(const struct lm_walk_proof *proof, uint32_t id);

/* Code was unmapped (dlclose): every thread's cached rules are stale. */
void lm_unwind_forget(void);

/* Cache statistics of the calling thread (tests, benchmarks). */
struct lm_unwind_stats {
    uint64_t hits, misses, evictions, flushes;
    uint64_t walks, declined;   /* walks that started; of them, returned -1 */
    uint64_t memo_hits, memo_misses;
};
void lm_unwind_thread_stats(struct lm_unwind_stats *out);

#endif
