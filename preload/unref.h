/*
 * unref.h - how many consecutive scans each leaked block has been
 * unreachable, carried from one snapshot to the next.
 *
 * Snapshots are marked in forked children (dumper.c), which cannot write
 * the program's heap records; they hand this count forward through a table
 * in memory shared with every child: the leaked blocks of the last
 * completed scan, in address order, each with its identity (address, size,
 * allocation stack, birth stamp), its count and whether a periodic scan has
 * reported it.  A child reads the last table while it writes the next one
 * (two halves), and publishes it with one release store at the end: a
 * child that dies half-way leaves the previous table in force.
 *
 * A block matches its entry of the previous scan when address, size, stack
 * and stamp agree, or when its stamp is LM_GEN_ANCIENT (such a block lived
 * through that scan, so the entry at its address was its own).  A block
 * freed and another allocated at the same address in between has a newer
 * stamp: its count starts again at 1.
 *
 * Capacity: LM_UNREF_CAP leaked blocks; blocks past it count 1 every scan
 * (never confirmed) and the scan says so once.
 *
 * Threads: lm_unref_setup on the thread that runs scans; walks only in the
 * snapshot child (one at a time: dumps are serialised).  The table is
 * leakmark's own memory (never a root).  A forked program's child forgets
 * the table (it is shared with the parent) and maps its own on first use.
 */
#ifndef LM_UNREF_H
#define LM_UNREF_H

#include "lookup.h"

#define LM_UNREF_CAP ((size_t)1 << 20)
#define LM_UNREF_NONE ((size_t)-1)

struct lm_unref_entry {
    uint64_t addr;
    uint32_t stack_id;
    uint32_t size_lo;
    uint16_t unref;            /* consecutive unreachable scans, saturating */
    uint8_t stamp;
    uint8_t reported;
    uint32_t pad;
};

struct lm_unref_walk {
    const struct lm_unref_entry *old;
    size_t old_len, old_pos;
    struct lm_unref_entry *next;
    size_t next_len;
    size_t last;                   /* entry of the block visited last,
                                    * LM_UNREF_NONE when it has none */
    bool overflow;
};

/* Maps the table once; 0 or errno (without it every count is 1). */
int lm_unref_setup(void);
/* A forked program's child: the table belongs to the parent. */
void lm_unref_atfork_child(void);

void lm_unref_begin(struct lm_unref_walk *w);
/* The next leaked block, in address order: its count including this scan
 * (>= 1) and, in *reported, whether a periodic scan reported it before. */
unsigned lm_unref_visit(struct lm_unref_walk *w, const struct lm_block_ref *b, bool *reported);
/* The entry w->last had after a visit is reported by this scan. */
void lm_unref_mark_reported(struct lm_unref_walk *w, size_t entry);
/* Publishes this scan's table. */
void lm_unref_commit(struct lm_unref_walk *w);

#endif
