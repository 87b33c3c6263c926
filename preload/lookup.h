/*
 * lookup.h - the heap seen from outside the allocator: "which live block
 * contains this address" in O(1), and a walk over every live block.  This
 * is what the leak check, reports and dumps use.  The conservative marker
 * resolves its candidates through a dense copy of the same facts taken
 * once per run (mark.c); its answers must stay those of lm_lookup_block.
 *
 * Callers must keep the heap still (world stopped, or a forked snapshot):
 * the functions read allocator state without locks.  They never fault on
 * any input value: the region check and the unit kind byte come before any
 * header is read, and headers are checked against the secret.
 */
#ifndef LM_LOOKUP_H
#define LM_LOOKUP_H

#include "internal.h"

struct lm_block_ref {
    uintptr_t start;     /* first byte of the block */
    size_t size;         /* the size the program asked for */
    uint32_t unit;       /* arena unit, or the large block's head unit */
    uint32_t index;      /* block index inside its arena (0 for large) */
    uint32_t stack_id;   /* allocation stack in the stack depot (0: none) */
    uint8_t gen;         /* generation and scan bits (block.h) */
    bool large;
};

/* The live block with start <= p < start + max(size, 1), if any.  A block
 * of size 0 counts as one byte so that a pointer to it keeps it alive. */
bool lm_lookup_block(uintptr_t p, struct lm_block_ref *out);

/* Calls fn for every live block, in address order. */
void lm_foreach_live_block(void (*fn)(const struct lm_block_ref *b, void *arg), void *arg);

/* About how many blocks are live, read without stopping anybody (arena
 * counts as their owners last wrote them; racy, never faults): the
 * periodic scans' gen0_threshold test. */
size_t lm_live_blocks_estimate(void);

/* Bounds of the region that holds every block (a quick pre-filter:
 * anything outside is not a pointer to a block). */
void lm_heap_bounds(uintptr_t *lo, uintptr_t *hi);

#endif
