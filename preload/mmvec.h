/*
 * mmvec.h - a growable array of fixed-size elements in mmap'd memory
 * (LeakSanitizer's InternalMmapVector): never malloc, so it can be used
 * inside malloc, during a leak check with the world stopped, and by the
 * marker for its grey stack.
 *
 * Concept: `data` is one anonymous mapping of `map_bytes` bytes (a multiple
 * of the page size) holding `cap` = map_bytes / elem_size elements, of which
 * the first `len` are in use.  Growth doubles the mapping with mremap
 * (MREMAP_MAYMOVE; map + copy + unmap if mremap fails), so pointers into the
 * vector are invalidated by any call that can grow it (push, reserve,
 * resize).  An empty, never-grown vector owns no memory.
 *
 * Invariants: len <= cap; cap * elem_size <= map_bytes; data == NULL iff
 * map_bytes == 0; elem_size > 0 is fixed by lm_mmvec_init.  Elements are
 * aligned to the page for element 0 and to elem_size after that.
 *
 * Locking: none.  A vector belongs to one thread at a time; callers that
 * share one must serialise.  Signal safety: every function is
 * async-signal-safe (raw mmap/mremap/munmap syscalls, no locks); the slow
 * path may change errno, so a signal handler must save it.  Fork: a vector
 * is plain memory and survives fork like any other.
 */
#ifndef LM_MMVEC_H
#define LM_MMVEC_H

#include "internal.h"

#include <errno.h>

typedef struct lm_mmvec {
    void *data;        /* element 0 (void * so typed views need no cast) */
    size_t len;        /* elements in use */
    size_t cap;        /* elements that fit in the mapping */
    size_t elem_size;  /* bytes per element, fixed at init */
    size_t map_bytes;  /* bytes mapped (page multiple), 0 when empty */
    size_t hiwater;    /* highest len ever reached since the mapping was made:
                        * elements at and beyond it are still zero pages */
} lm_mmvec_t;

#define LM_MMVEC_INIT(esz) { NULL, 0, 0, (esz), 0, 0 }

/* Empty vector of elem_size-byte elements; owns no memory yet. */
void lm_mmvec_init(lm_mmvec_t *v, size_t elem_size);
/* Makes room for at least n elements.  Returns 0, or ENOMEM (the vector is
 * unchanged). */
int lm_mmvec_reserve(lm_mmvec_t *v, size_t n);
/* Sets len to n, growing if needed; elements [old len, n) read as zero.
 * Returns 0 or ENOMEM (vector unchanged). */
int lm_mmvec_resize(lm_mmvec_t *v, size_t n);
/* Slow path of push: grows the mapping to hold at least len + 1. */
int lm_mmvec_grow(lm_mmvec_t *v) LM_NOINLINE;
/* len = 0; the mapping is kept for reuse. */
void lm_mmvec_reset(lm_mmvec_t *v);
/* Unmaps everything; the vector is empty again and can be reused. */
void lm_mmvec_free(lm_mmvec_t *v);
/* Exchanges the contents of two vectors (element sizes too). */
void lm_mmvec_swap(lm_mmvec_t *a, lm_mmvec_t *b);

LM_INLINE size_t lm_mmvec_len(const lm_mmvec_t *v) { return v->len; }
LM_INLINE void *lm_mmvec_data(const lm_mmvec_t *v) { return v->data; }

/* Address of element i (i < len, unchecked except under LM_DEBUG). */
LM_INLINE void *lm_mmvec_at(const lm_mmvec_t *v, size_t i)
{
    lm_assert(i < v->len);
    return (unsigned char *)v->data + i * v->elem_size;
}

/* Appends one uninitialised element and returns its address, or NULL when
 * memory is exhausted (the vector is unchanged). */
LM_INLINE void *lm_mmvec_push_slot(lm_mmvec_t *v)
{
    if (lm_unlikely(v->len == v->cap) && lm_mmvec_grow(v) != 0)
        return NULL;
    void *slot = (unsigned char *)v->data + v->len * v->elem_size;
    v->len++;
    if (v->len > v->hiwater)
        v->hiwater = v->len;
    return slot;
}

/* Appends a copy of the elem_size bytes at e.  Returns 0 or ENOMEM. */
LM_INLINE int lm_mmvec_push(lm_mmvec_t *v, const void *e)
{
    void *slot = lm_mmvec_push_slot(v);
    if (lm_unlikely(!slot))
        return ENOMEM;
    __builtin_memcpy(slot, e, v->elem_size);
    return 0;
}

/* Address of the last element, or NULL when empty. */
LM_INLINE void *lm_mmvec_top(const lm_mmvec_t *v)
{
    return v->len ? (unsigned char *)v->data + (v->len - 1) * v->elem_size : NULL;
}

/* Removes the last element, copying it to out (when out != NULL).  Returns
 * false when the vector was empty. */
LM_INLINE bool lm_mmvec_pop(lm_mmvec_t *v, void *out)
{
    if (lm_unlikely(v->len == 0))
        return false;
    v->len--;
    if (out)
        __builtin_memcpy(out, (unsigned char *)v->data + v->len * v->elem_size, v->elem_size);
    return true;
}

#endif
