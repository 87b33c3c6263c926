/*
 * gen.h - generations and ages of live blocks, in the spirit of CPython's
 * gc, kept without ever touching a block after its allocation.
 *
 * Every snapshot of the heap (a periodic scan, a dump) is a scan; scans are
 * numbered by the epoch, the count of scans done.  A block records one byte
 * at allocation: its birth stamp, the epoch modulo LM_GEN_STAMPS (0..254).
 * From the stamp and the history of the last LM_GEN_STAMPS scans (their
 * times and levels) follow
 *   - the scans a block has lived through, d = (epoch - stamp) mod 255;
 *   - its generation: young until the first scan after its birth (d = 0),
 *     middle until the first middle-or-old scan after that, then old -
 *     every scan examines the young generation, so surviving one promotes
 *     a block, as CPython promotes the survivors of a collection;
 *   - a lower bound of its age: now minus the time of the first scan after
 *     its birth (0 while d = 0).
 * So that d never wraps, each scan re-stamps a slice of the heap (one unit
 * in LM_GEN_SLICES): a block that has lived through LM_GEN_STAMPS/2 scans
 * or more gets the stamp LM_GEN_ANCIENT (old, age from the scan
 * LM_GEN_STAMPS/2 ago).  Every unit is visited within LM_GEN_SLICES scans,
 * long before d could reach 255.
 *
 * Scans are scheduled like CPython's collections: the level of a periodic
 * scan is young, middle every gen1_threshold scans, old every
 * gen2_threshold middle scans (lm_gen_next_level); a scan reports leaks of
 * the generations up to its level.  Dumps and the exit check examine
 * everything (level old).
 *
 * Concurrency: lm_gen_stamp is read by every allocation (relaxed: a block
 * allocated while a scan starts gets either stamp, both correct within one
 * scan).  lm_gen_scan_done runs with the world stopped, on the thread that
 * runs scans (serialised by the dumper's lock); the other calls read the
 * history and are made by that thread or by its snapshot child.
 */
#ifndef LM_GEN_H
#define LM_GEN_H

#include "block.h"
#include "internal.h"

enum lm_generation {
    LM_GEN_YOUNG = 0,
    LM_GEN_MIDDLE = 1,
    LM_GEN_OLD = 2,
};

#define LM_GEN_STAMPS 255u        /* stamps 0..254 are epochs modulo 255 */
#define LM_GEN_ANCIENT 255u       /* lived through LM_GEN_STAMPS/2 scans or more */
#define LM_GEN_SLICES 64u         /* re-stamping visits 1/64 of the units per scan */

const char *lm_gen_name(unsigned gen);

/* What a block's stamp says, as of now (before the scan in progress). */
struct lm_gen_info {
    unsigned gen;          /* enum lm_generation */
    uint32_t scans;        /* scans lived through (a lower bound for ancient) */
    uint64_t age_ms;       /* lower bound of its age */
};
void lm_gen_classify(uint8_t stamp, uint64_t now_ns, struct lm_gen_info *out);
/* The same, as it will be once the scan in progress (of `level`) is done:
 * what a dump records, so that a report made right after it agrees. */
void lm_gen_classify_after(uint8_t stamp, uint64_t now_ns, unsigned level,
                           struct lm_gen_info *out);
LM_INLINE unsigned lm_gen_of_stamp(uint8_t stamp)
{
    struct lm_gen_info gi;
    lm_gen_classify(stamp, 0, &gi);
    return gi.gen;
}

/* The scan schedule of periodic scans. */
struct lm_gen_schedule {
    uint32_t young_scans;     /* young scans since the last middle scan */
    uint32_t middle_scans;    /* middle scans since the last old scan */
};
/* The oldest generation the next periodic scan examines, advancing the
 * schedule with the gen1/gen2 thresholds of lm_options. */
unsigned lm_gen_next_level(struct lm_gen_schedule *s);

/* Scans done so far. */
uint64_t lm_gen_epoch(void);

/* Records a scan of `level` taken at now_ns and starts the next epoch;
 * re-stamps one slice of the heap.  World stopped; after the snapshot was
 * taken (the snapshot still sees the previous epoch). */
void lm_gen_scan_done(unsigned level, uint64_t now_ns);

/* Fork child: the history is the parent's, still right for the child's
 * copy of the heap; nothing to do.  Tests: forget every scan. */
void lm_gen_reset_for_tests(void);

#endif
