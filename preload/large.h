/*
 * large.h - blocks above LM_SMALL_MAX: whole spans of 256 KiB units, their
 * record (size, state, stack) in the head unit's lm_units[] entry.
 *
 * A large block starts at its span's base, so any alignment up to 256 KiB
 * is free and larger ones come from an aligned span.  Freed spans keep their
 * pages for reuse up to the large_cache_mb budget (span.c).
 * Thread-safe: the span allocator locks; the record belongs to the block.
 */
#ifndef LM_LARGE_H
#define LM_LARGE_H

#include "span.h"

void *lm_large_alloc(size_t size, size_t align, bool zero);
/* Frees the large block at p (the head unit's base).  False if p is not a
 * live large block (double free). */
bool lm_large_free(void *p);
void *lm_large_realloc(void *p, size_t size);
/* Usable size (the size rounded up to pages). */
size_t lm_large_usable(const void *p);
/* Is p the start of a live large block? */
bool lm_large_is_live(const void *p);

#endif
