/*
 * alloc.h - the malloc/free fast paths, inline, and the rest of the family.
 *
 * malloc: size -> class, pop the current arena's free list, write the
 * block's record: a handful of instructions and one unlikely branch into
 * the out-of-line slow path (refill, thread set-up, large blocks).
 * free: region check, unit kind byte, mask to the arena, header secret, one
 * multiply for the index, liveness bit check; then a push onto the arena's
 * local list (owner) or a lock-free push onto its thread_free (others).
 * Anything unusual (NULL, large, foreign or double free) goes out of line.
 */
#ifndef LM_ALLOC_H
#define LM_ALLOC_H

#include "heap.h"
#include "large.h"

void *lm_malloc_slow(size_t size) LM_NOINLINE;
void lm_free_slow(void *p) LM_NOINLINE;

/* Marks block b of a live and writes its record.  The free-list link left
 * in the block's first word is cleared: it points at the next free block,
 * usually the next one handed out, and the conservative marker would take
 * it for a pointer the program holds (a leak hidden behind it). */
LM_INLINE void lm_arena_hand_out(struct lm_arena *a, lm_block_t *b, size_t size)
{
    b->next = NULL;
    uint32_t idx = lm_arena_index(a, b);
    uint64_t *live = &lm_arena_live(a)[idx >> 6];
    lm_bits_store(live, lm_bits_load(live) | (1ull << (idx & 63)));
    a->meta[idx] = (struct lm_meta){ .size = (uint16_t)size, .stack_id = lm_tls_stack_id,
                                     .gen = lm_gen_stamp };
}

LM_INLINE void *lm_malloc(size_t size)
{
    if (lm_likely(size <= LM_SMALL_MAX)) {
        unsigned cls = lm_size_class(size);
        struct lm_arena *a = lm_tls_heap->bins[cls];
        lm_block_t *b = a->free;
        if (lm_likely(b != NULL)) {
            a->free = b->next;
            a->used++;
            lm_arena_hand_out(a, b, size);
            return b;
        }
    }
    return lm_malloc_slow(size);
}

LM_INLINE void lm_free(void *p)
{
    if (lm_likely(lm_in_region(p) && lm_unit_kind[lm_unit_index(p)] == LM_UNIT_ARENA)) {
        struct lm_arena *a = lm_arena_of(p);
        uint32_t idx = lm_arena_index(a, p);
        uint64_t bit = 1ull << (idx & 63);
        uint64_t *live = &lm_arena_live(a)[idx >> 6];
        uint64_t word = lm_bits_load(live);
        if (lm_likely(lm_arena_valid(a) && lm_arena_block(a, idx) == (char *)p &&
                      idx < a->capacity && (word & bit))) {
            lm_block_t *b = p;
            if (lm_likely(a->owner == lm_tls_heap)) {
                if (lm_unlikely(lm_bits_load(&lm_arena_remote(a)[idx >> 6]) & bit))
                    goto bad;           /* already freed by another thread */
                lm_bits_store(live, word & ~bit);
                b->next = a->local_free;
                a->local_free = b;
                if (lm_unlikely(--a->used <= a->slow_at))
                    lm_heap_local_free_slow(a);
                return;
            }
            lm_heap_remote_free(a, b, idx);
            return;
        }
    }
bad:
    lm_free_slow(p);
}

void *lm_calloc(size_t n, size_t size);
void *lm_realloc(void *p, size_t size);
void *lm_memalign(size_t align, size_t size);
size_t lm_usable_size(const void *p);

/* Process set-up; true once the allocator can serve requests. */
bool lm_init(void);

#endif
