/*
 * span.h - leakmark's address space: one reserved region cut into 256 KiB
 * units, and the allocator of spans (runs of units) inside it.
 *
 * Every block leakmark hands out lies in the region, so "is this word one of
 * ours" is one subtraction and compare, and "which unit" is a shift.  Each
 * unit has a kind byte (lm_unit_kind[], 1 byte per 256 KiB: hot in cache)
 * and a 32-byte record (lm_units[]), both in their own lazily touched
 * mappings outside the region:
 *
 *   UNUSED     beyond the bump pointer, never handed out
 *   ARENA      head of a small-block arena (header at the unit's base)
 *   LARGE      head of a large block; the record holds its size and state
 *   CONT       a later unit of a large block; record.span = head index
 *                (may be stale after the block is freed: check the head)
 *   FREE       head of a free span; record.span = length
 *   FREE_TAIL  last unit of a free span of >= 2 units; record.span = head
 *
 * Free spans are coalesced on free and kept in bins by length (exact up to
 * 63 units, one best-fit bin above).  A free span remembers how many of its
 * bytes may be resident ("dirty"); dirty bytes over the large_cache_mb
 * budget are given back with madvise, so address space is reused without
 * fresh mappings while memory is returned.
 *
 * Locking: lm_span_lock (a mutex) guards the bins, the bump pointer and the
 * records of FREE/FREE_TAIL units.  The records of ARENA/LARGE/CONT units
 * belong to their block's owner.  Kind bytes are written under the lock and
 * read without it (a racy read only ever sees a value the unit really had;
 * readers validate what they find).
 */
#ifndef LM_SPAN_H
#define LM_SPAN_H

#include "internal.h"
#include <pthread.h>

#define LM_UNIT_SHIFT 18u
#define LM_UNIT_SIZE  ((size_t)1 << LM_UNIT_SHIFT)     /* 256 KiB */
#define LM_UNIT_MASK  (LM_UNIT_SIZE - 1)

enum lm_unit_kind {
    LM_UNIT_UNUSED = 0,
    LM_UNIT_ARENA,
    LM_UNIT_LARGE,
    LM_UNIT_CONT,
    LM_UNIT_FREE,
    LM_UNIT_FREE_TAIL,
};

struct lm_unit {
    uint32_t span;       /* head: length in units; CONT / FREE_TAIL: head index */
    union {
        uint32_t next;   /* FREE: bin list links (index + 1, 0 = none) */
        uint32_t block_flags;   /* LARGE, live: enum lm_block_flag (block.h),
                                   zeroed by lm_large_alloc */
    };
    uint32_t prev;
    uint32_t stack_id;   /* LARGE: allocation stack (0 = none) */
    uint64_t size;       /* LARGE: the size the program asked for */
    uint32_t dirty;      /* FREE / LARGE: pages from the head that may be resident */
    uint8_t state;       /* LARGE: block state (block.h) */
    uint8_t gen;         /* LARGE: birth stamp (gen.h) */
    uint16_t slack;      /* LARGE: resident pages past the block's end */
};

/* Set once by lm_span_init, read-only afterwards. */
extern uintptr_t lm_region_base;
extern size_t lm_region_size;
extern uint8_t *lm_unit_kind;
extern struct lm_unit *lm_units;

LM_INLINE bool lm_in_region(const void *p)
{
    return (uintptr_t)p - lm_region_base < lm_region_size;
}
LM_INLINE uint32_t lm_unit_index(const void *p)
{
    return (uint32_t)(((uintptr_t)p - lm_region_base) >> LM_UNIT_SHIFT);
}
LM_INLINE void *lm_unit_addr(uint32_t idx)
{
    return (void *)(lm_region_base + ((uintptr_t)idx << LM_UNIT_SHIFT));
}

/* Reserves the region (1 TiB, halving on failure down to 1 GiB).  Returns 0
 * or an errno value.  Called once, by the allocator's initialisation. */
int lm_span_init(void);

/* A span of n units whose address is a multiple of align_units units.
 * Marks the head with `kind` (ARENA or LARGE; LARGE also marks CONT units).
 * *zeroed tells whether the span is known to read as zero up to
 * *dirty_pages (pages beyond are zero in any case).  Returns the head index
 * or UINT32_MAX when the region is exhausted. */
uint32_t lm_span_alloc(uint32_t n, uint32_t align_units, uint8_t kind, uint32_t *dirty_pages);

/* Returns a span to the free bins; dirty_pages = how many pages from its
 * start may be resident. */
void lm_span_free(uint32_t head, uint32_t dirty_pages);

/* Grows a LARGE span in place to `n` units if the following units are
 * free.  Returns true on success (new units' dirtiness is folded into the
 * head's dirty count). */
bool lm_span_grow(uint32_t head, uint32_t n);
/* Shrinks a LARGE span to n units, freeing the tail. */
void lm_span_shrink(uint32_t head, uint32_t n);

/* Resident pages a large block's span holds past the block's end (a cached
 * span reused for a smaller block) count against the same budget as free
 * dirty pages.  keep: true if `pages` more fit (they are then counted),
 * false if the caller must purge them.  drop: they are gone or freed. */
bool lm_span_keep_slack(uint32_t pages);
void lm_span_drop_slack(uint32_t pages);

/* Gives back every dirty free page; returns the bytes released. */
size_t lm_span_purge_all(void);

/* Statistics (approximate, read without the lock). */
struct lm_span_stats {
    size_t reserved, committed, in_use, free_dirty;
};
void lm_span_stats(struct lm_span_stats *out);

/* Index one past the highest unit ever handed out (for walks). */
uint32_t lm_span_top(void);

void lm_span_atfork_prepare(void);
void lm_span_atfork_parent(void);
void lm_span_atfork_child(void);

/* Internal-metadata memory (heaps, tables): zeroed, never freed, from
 * lm_os_map in chunks; leakmark's own memory, outside the region. */
void *lm_meta_alloc(size_t size);

#endif
