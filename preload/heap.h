/*
 * heap.h - per-thread heaps: the current arena of every size class, the
 * arena lists, and the thread's life cycle (first malloc, exit, adoption).
 *
 * A thread's TLS pointer lm_tls_heap starts at lm_empty_heap, whose bins all
 * point at an arena with no free block, so the first malloc of a thread
 * falls into the slow path, which sets the thread up: no init test on the
 * fast path (mimalloc's trick).  After the thread's pthread key destructor
 * has given its heap away, lm_tls_heap is lm_dead_heap: late mallocs (glibc
 * frees the DTV and dynamic TLS after the destructors) are served from the
 * shared, locked lm_global_heap, and late frees take the remote path.
 *
 * A heap is owned by at most one thread at a time; heaps of exited threads
 * are kept on an abandoned list and adopted, with all their arenas, by the
 * next new thread.  Heaps are never freed, so a pointer to one stays valid.
 */
#ifndef LM_HEAP_H
#define LM_HEAP_H

#include "arena.h"

struct lm_heap {
    struct lm_arena *bins[LM_NUM_CLASSES];  /* current arena, or the empty one */
    struct lm_arena *avail[LM_NUM_CLASSES]; /* arenas that may have free blocks */
    struct lm_arena *full[LM_NUM_CLASSES];  /* arenas parked as full */
    volatile AO_t delayed;                  /* parked arenas handed back by remote frees */
    struct lm_heap *next_all;
    struct lm_heap *next_abandoned;
    bool abandoned;
    void *unwind_cache;                     /* stackwalk.c's rule cache (kept on reuse) */
};

extern LM_THREAD struct lm_heap *lm_tls_heap;
extern struct lm_heap lm_empty_heap;
extern struct lm_heap lm_dead_heap;

/* Sets the calling thread up (it has lm_empty_heap): takes a heap and
 * registers the thread (threads.h: stack bounds, TLS).  The heap, or NULL
 * when none could be had (the thread stays on lm_empty_heap).  Takes the
 * heaps lock; call with no allocator lock held. */
struct lm_heap *lm_heap_thread_start(void);

/* Allocates a block of class cls for a request of `size` bytes on the
 * calling thread's heap (setting the thread up if needed).  NULL with
 * errno=ENOMEM when there is no memory. */
void *lm_small_alloc(unsigned cls, size_t size);

/* Slow halves of free(): the owner freed the last block of an arena or one
 * parked as full; another thread freed a block. */
void lm_heap_local_free_slow(struct lm_arena *a);
void lm_heap_remote_free(struct lm_arena *a, lm_block_t *b, uint32_t idx);

/* Global set-up (once, lazily, from the first malloc of the process). */
bool lm_heap_global_init(void);

/* Walks every heap (for statistics). */
void lm_heap_foreach(void (*fn)(struct lm_heap *h, void *arg), void *arg);

void lm_heap_atfork_prepare(void);
void lm_heap_atfork_parent(void);
void lm_heap_atfork_child(void);

#endif
