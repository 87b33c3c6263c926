/*
 * stackdepot.h - deduplicated store of call stacks, named by 32-bit ids.
 *
 * A stack put twice gets the same id; ids are never reused or moved and
 * 0 means "no stack".  Lock-free throughout (reads and inserts), so any
 * function here may run in a signal handler that interrupted another call
 * on the same thread, and a fork child can use the depot whatever other
 * threads were doing.  Memory comes from lm_os_map, never malloc, and is
 * never given back.
 */
#ifndef LM_STACKDEPOT_H
#define LM_STACKDEPOT_H

#include <stddef.h>
#include <stdint.h>

/* Longer stacks are stored truncated to their innermost frames. */
#define LM_STACKDEPOT_MAX_FRAMES 256
/* Storage grows by chunks of this many bytes (virtual; pages are
 * committed as records are written). */
#define LM_STACKDEPOT_CHUNK_SIZE ((size_t)4 << 20)

/* Returns the id of the stack pcs[0..n), inserting it if new; 0 when
 * n <= 0 or storage cannot grow (mmap failure, 32 GiB of stacks). */
uint32_t lm_stackdepot_put(const uintptr_t *pcs, int n);

/* Points *pcs at the stored frames of `id` and returns their count, or
 * returns 0 (and *pcs = NULL) for 0 or an id the depot never gave out
 * (checked cheaply: chunk bounds and a record tag). */
int lm_stackdepot_get(uint32_t id, const uintptr_t **pcs);

/* Calls fn once per stored stack, in no particular order.  Stacks inserted
 * concurrently may or may not be visited. */
typedef void (*lm_stackdepot_fn)(uint32_t id, const uintptr_t *pcs, int n, void *arg);
void lm_stackdepot_foreach(lm_stackdepot_fn fn, void *arg);

struct lm_stackdepot_stats {
    size_t stacks;        /* distinct stacks stored */
    size_t frames;        /* sum of their frame counts */
    size_t bytes_used;    /* record bytes handed out (incl. lost races) */
    size_t bytes_mapped;  /* chunks + hash table */
    size_t races_lost;    /* inserts that found the stack added meanwhile */
};
void lm_stackdepot_get_stats(struct lm_stackdepot_stats *out);

/* For the allocator's pthread_atfork handlers.  The depot holds no lock,
 * so these do nothing today; they exist so that the allocator's fork
 * protocol does not change if the depot ever takes one. */
void lm_stackdepot_atfork_prepare(void);
void lm_stackdepot_atfork_parent(void);
void lm_stackdepot_atfork_child(void);

/* lm_backtrace + lm_stackdepot_put: the allocation stack of the caller
 * (skip = 0: first frame is the function calling lm_stack_capture), at
 * most `depth` frames.  0 when capture returned no frame. */
uint32_t lm_stack_capture(int skip, int depth);

#endif
