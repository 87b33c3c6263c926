/*
 * api.h - the registry behind the public API (include/leakmark.h): root
 * regions the program registered and blocks it flagged as "not a leak" or
 * "ignore", as the leak check, dumps and tests see them.
 *
 * Two tables of slots in leakmark's own static memory (never a root:
 * roots.c leaves libleakmark.so's data out, and the addresses in the slots
 * are stored complemented, so they never look like pointers even when
 * lm_core is linked into a test executable whose data is scanned):
 *   regions  [addr, addr + len), LM_API_REGION_SLOTS slots, duplicates
 *            allowed (each unregister removes one);
 *   blocks   the start address of each flagged block, an index only: the
 *            flag itself lives in the block's record (block.h), which
 *            malloc zeroes, so an entry whose block was freed (or freed and
 *            reused) names no flagged block and is dropped by the next
 *            sweep.  When the index cannot hold every flagged block it
 *            switches (for good) to "walk": the mark then finds flagged
 *            blocks by reading every live block's record.
 *
 * Slots are claimed with a CAS (FREE -> BUSY), written, and published with
 * a release store (READY); the state word carries a sequence number bumped
 * on every claim, so a remover's CAS on a stale READY fails (no ABA).
 * Readers - the mark and the root collection, with the world stopped, or a
 * dump's snapshot child - use READY slots only: a slot a stopped thread
 * left half-written (BUSY) is skipped.  No locks anywhere, so a stopped
 * thread can never hold something the scanner needs, and every call that
 * only touches the tables is async-signal-safe.  Fork: the child turns
 * the BUSY slots of threads that do not exist there back to FREE
 * (lm_api_atfork_child).
 */
#ifndef LM_API_H
#define LM_API_H

#include "internal.h"
#include "lookup.h"

#define LM_API_REGION_SLOTS 4096u
#define LM_API_BLOCK_SLOTS  65536u

/* ---- what the scanner reads (world stopped or a snapshot) ---- */

/* True once a region was ever registered / a block ever flagged (one
 * relaxed load: what a program that never calls the API pays). */
bool lm_api_regions_used(void);
bool lm_api_blocks_used(void);
/* True once a block was ever flagged IGNORE. */
bool lm_api_ignore_used(void);

/* fn(lo, hi) for every registered region (READY slots). */
void lm_api_foreach_region(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg);

/* fn(block, flags) for every live block whose record carries a flag; a
 * block may be given more than once (duplicate index entries). */
void lm_api_foreach_flagged(void (*fn)(const struct lm_block_ref *b, unsigned flags, void *arg),
                            void *arg);

/* The flag in b's record (b: a live block from lookup.h). */
unsigned lm_api_block_flags(const struct lm_block_ref *b);

/* ---- calls behind include/leakmark.h (0 or an errno value) ---- */

/* flags: LM_BLOCK_F_NOT_LEAK or LM_BLOCK_F_IGNORE; p: start or interior
 * pointer of a live block; `who` names the public call in the warning a bad
 * pointer gets.  EINVAL for a pointer to no live block. */
int lm_api_flag_block(const void *p, unsigned flags, const char *who, const void *caller);
/* EINVAL: empty, wrapping, or overlapping leakmark's heap; ENOSPC: table
 * full.  `caller` (the program's return address) goes into warnings. */
int lm_api_register_region(const void *addr, size_t len, const void *caller);
/* ENOENT: no such region registered. */
int lm_api_unregister_region(const void *addr, size_t len, const void *caller);

/* ---- process events ---- */

void lm_api_atfork_child(void);

/* ---- tests ---- */

struct lm_api_stats {
    uint32_t regions;          /* READY region slots */
    uint32_t blocks;           /* READY block index slots */
    uint32_t busy;             /* BUSY slots, both tables */
    uint32_t sweeps;           /* sweeps of the block index so far */
    bool walk;                 /* the block index overflowed */
};
void lm_api_stats(struct lm_api_stats *out);
/* Claims a region slot and writes it without publishing it, as a thread
 * stopped half-way through lm_register_root would leave it. */
void lm_api_test_half_register(const void *addr, size_t len);
/* Empties both tables and forgets every "used" bit. */
void lm_api_reset_for_tests(void);

#endif
