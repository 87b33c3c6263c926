/*
 * gen.c - generation promotion and scan scheduling (see gen.h).
 *
 * Runs with the world stopped: it writes generation bytes of live blocks
 * (block records of arenas, unit records of large blocks) while nobody
 * allocates or frees.  No locks, no allocation.
 */
#include "gen.h"
#include "arena.h"
#include "mark.h"
#include "options.h"
#include "span.h"

const char *lm_gen_name(unsigned gen)
{
    static const char *const names[] = { "young", "middle", "old", "old" };
    return names[gen & 3u];
}

unsigned lm_gen_next_level(struct lm_gen_schedule *s)
{
    if (++s->young_scans < lm_options.gen1_threshold)
        return LM_GEN_YOUNG;
    s->young_scans = 0;
    if (++s->middle_scans < lm_options.gen2_threshold)
        return LM_GEN_MIDDLE;
    s->middle_scans = 0;
    return LM_GEN_OLD;
}

static uint8_t *gen_byte(const struct lm_block_ref *b)
{
    if (b->large)
        return &lm_units[b->unit].gen;
    struct lm_arena *a = lm_unit_addr(b->unit);
    return &a->meta[b->index].gen;
}

struct promote {
    const struct lm_mark_result *res;
    unsigned level;
};

static void promote_one(const struct lm_block_ref *b, void *arg)
{
    const struct promote *p = arg;
    uint8_t *g = gen_byte(b);
    unsigned gen = lm_gen_of(*g);
    if (gen > p->level)
        return;                         /* not examined by this scan */
    enum lm_mark_state st = lm_mark_block_state(p->res, b);
    if (st == LM_MARK_REACHABLE || st == LM_MARK_POSSIBLE)
        *g = lm_gen_make(gen < LM_GEN_OLD ? gen + 1 : LM_GEN_OLD, 0);
    else if (st == LM_MARK_LEAKED)
        *g = lm_gen_make(gen, lm_gen_unref(*g) + 1);
}

void lm_gen_after_scan(const struct lm_mark_result *res, unsigned level)
{
    struct promote p = { res, level };
    lm_foreach_live_block(promote_one, &p);
}
