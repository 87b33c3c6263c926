/*
 * arena.h - 256 KiB small-block arenas: one size class each, header,
 * liveness bitmaps and per-block records at the start, blocks after them.
 *
 *   unit base  +0    struct lm_arena (128 bytes; the first cache line holds
 *                    every field the malloc/free fast paths touch)
 *              +128  uint64_t live[words]    bit i: block i handed out
 *                    uint64_t remote[words]  bit i: freed by another thread,
 *                                            not yet collected by the owner
 *              meta  struct lm_meta meta[capacity]   (size, stack, gen)
 *              data  blocks, aligned to the class's natural alignment
 *
 * A block is live iff live=1 and remote=0.  free() reads and clears bits
 * (small, hot bitmaps) instead of the per-block records, so a free touches
 * the header, one bitmap word and the block itself.
 *
 * pointer -> arena is a mask once lm_unit_kind says ARENA; the header is
 * then checked against the per-process secret before it is trusted.
 * pointer -> block index is one multiply by a precomputed reciprocal.
 *
 * Ownership: an arena belongs to one heap (heap.c); only the thread that
 * currently holds that heap touches free/local_free/used/extended/lists and
 * writes `live` (other threads may read it).  Other threads free into it by
 * an atomic fetch-or on `remote` (a second free of the same block sees the
 * bit: double free) and a lock-free push onto thread_free, whose low bit
 * LM_ARENA_FULL_FLAG means "the owner parked me as full: the pusher that
 * clears the flag hands the arena back through the owner's delayed list".
 */
#ifndef LM_ARENA_H
#define LM_ARENA_H

#include "block.h"
#include "sizeclass.h"
#include "span.h"
#include "atomic.h"

struct lm_heap;

#define LM_ARENA_FULL_FLAG ((AO_t)1)

struct lm_arena {
    /* --- line 0: the fast paths --- */
    uint64_t secret;            /* lm_arena_secret ^ (uintptr_t)this */
    uint64_t magic;             /* lm_div_magic(block_size) */
    lm_block_t *free;           /* blocks to allocate from (owner) */
    lm_block_t *local_free;     /* blocks freed by the owner */
    struct lm_heap *owner;
    struct lm_meta *meta;       /* per-block records */
    uint32_t data_offset;       /* first block, from the arena's base */
    uint32_t block_size;        /* <= LM_SMALL_MAX */
    uint16_t capacity;
    uint16_t used;              /* blocks out, as the owner knows it */
    uint16_t slow_at;           /* a local free that leaves used <= slow_at
                                   takes the slow path: 0 normally (release
                                   the arena when empty); while parked, the
                                   level at which it is worth unparking */
    uint16_t pad0;
    /* --- line 1: slow paths and other threads --- */
    volatile AO_t thread_free;  /* blocks freed by other threads | FULL flag */
    struct lm_arena *next, *prev;           /* owner heap's per-class list */
    struct lm_arena *delayed_next;          /* owner heap's delayed stack */
    uint16_t extended;          /* blocks carved so far */
    uint8_t cls;
    uint8_t in_full;            /* parked in the owner's full list */
    uint32_t span_dirty;        /* pages the unit may have held resident when
                                   the arena was made (given back on release) */
    char pad1[24];
};

#define LM_ARENA_HEADER 128u

extern uint64_t lm_arena_secret;

LM_INLINE struct lm_arena *lm_arena_of(const void *p)
{
    return (struct lm_arena *)((uintptr_t)p & ~(uintptr_t)LM_UNIT_MASK);
}

LM_INLINE bool lm_arena_valid(const struct lm_arena *a)
{
    return a->secret == (lm_arena_secret ^ (uint64_t)(uintptr_t)a);
}

LM_INLINE char *lm_arena_data(const struct lm_arena *a)
{
    return (char *)a + a->data_offset;
}

/* Index of the block containing p (p may be interior); only meaningful
 * when p >= lm_arena_data(a). */
LM_INLINE uint32_t lm_arena_index(const struct lm_arena *a, const void *p)
{
    return (uint32_t)((((uintptr_t)p - (uintptr_t)a - a->data_offset) * a->magic) >> 48);
}

LM_INLINE char *lm_arena_block(const struct lm_arena *a, uint32_t idx)
{
    return lm_arena_data(a) + (size_t)idx * a->block_size;
}

LM_INLINE uint64_t *lm_arena_live(const struct lm_arena *a)
{
    return (uint64_t *)((char *)a + LM_ARENA_HEADER);
}

LM_INLINE uint64_t *lm_arena_remote(const struct lm_arena *a)
{
    return lm_arena_live(a) + ((a->capacity + 63u) >> 6);
}

/* Racy-but-atomic word access to the bitmaps (plain loads/stores on x86). */
LM_INLINE uint64_t lm_bits_load(const uint64_t *w) { return __atomic_load_n(w, __ATOMIC_RELAXED); }
LM_INLINE void lm_bits_store(uint64_t *w, uint64_t v) { __atomic_store_n(w, v, __ATOMIC_RELAXED); }

LM_INLINE bool lm_arena_is_live(const struct lm_arena *a, uint32_t idx)
{
    uint64_t m = 1ull << (idx & 63);
    return (lm_bits_load(&lm_arena_live(a)[idx >> 6]) & m) &&
           !(lm_bits_load(&lm_arena_remote(a)[idx >> 6]) & m);
}

/* The size the program asked for, for block idx (live). */
LM_INLINE size_t lm_arena_req_size(const struct lm_arena *a, uint32_t idx)
{
    size_t s = a->meta[idx].size;
    return s == 0 && a->block_size > 0xffff ? 0x10000 : s;
}

/* Computes the class layouts; once, before the first arena. */
void lm_arena_init_classes(void);

/* A fresh arena of class cls owned by heap (NULL when out of space). */
struct lm_arena *lm_arena_create(struct lm_heap *heap, unsigned cls);
/* Returns an arena with no live block to the span allocator. */
void lm_arena_release(struct lm_arena *a);
/* Carves the next batch of never-used blocks onto a->free; false when
 * every block has been carved. */
bool lm_arena_extend(struct lm_arena *a);

/* Block containing p (start or interior) if it is live; its index. */
bool lm_arena_find_live(const struct lm_arena *a, const void *p, uint32_t *idx);

#endif
