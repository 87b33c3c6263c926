/*
 * gen.h - generations of live blocks, in the spirit of CPython's gc.
 *
 * Every block is born young.  A scan examines the generations up to a
 * level; its survivors (reachable or possibly reachable blocks of those
 * generations) move one generation up, and the blocks it finds unreachable
 * count one more consecutive unreachable scan.  Scans are scheduled like
 * CPython's collections: a young scan after gen0_threshold allocations, a
 * middle scan every gen1_threshold young scans, an old (full) scan every
 * gen2_threshold middle scans.  The exit check is always a full scan.
 *
 * A block's generation state is one byte (struct lm_meta.gen for small
 * blocks, struct lm_unit.gen for large ones): bits 0-1 the generation,
 * bits 2-7 the consecutive unreachable scans (saturating at 63).  Written
 * only while the world is stopped (or by the block's allocation).
 */
#ifndef LM_GEN_H
#define LM_GEN_H

#include "internal.h"

struct lm_mark_result;

enum lm_generation {
    LM_GEN_YOUNG = 0,
    LM_GEN_MIDDLE = 1,
    LM_GEN_OLD = 2,
};

#define LM_GEN_UNREF_MAX 63u

LM_INLINE unsigned lm_gen_of(uint8_t g) { return g & 3u; }
LM_INLINE unsigned lm_gen_unref(uint8_t g) { return (unsigned)g >> 2; }
LM_INLINE uint8_t lm_gen_make(unsigned gen, unsigned unref)
{
    if (unref > LM_GEN_UNREF_MAX)
        unref = LM_GEN_UNREF_MAX;
    return (uint8_t)((gen & 3u) | unref << 2);
}
const char *lm_gen_name(unsigned gen);

/* The scan schedule (one per process, used by periodic scans). */
struct lm_gen_schedule {
    uint32_t young_scans;     /* young scans since the last middle scan */
    uint32_t middle_scans;    /* middle scans since the last old scan */
};

/* The oldest generation the next scan examines, advancing the schedule
 * with the gen1/gen2 thresholds of lm_options. */
unsigned lm_gen_next_level(struct lm_gen_schedule *s);

/* After a scan that examined generations <= level: promotes its survivors
 * and counts unreachable scans (see above).  The world must be stopped and
 * res must describe the current heap. */
void lm_gen_after_scan(const struct lm_mark_result *res, unsigned level);

#endif
