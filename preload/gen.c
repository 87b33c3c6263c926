/*
 * gen.c - birth stamps, the scan history, generations and ages (gen.h).
 *
 * The history (epoch, time of each of the last LM_GEN_STAMPS scans, the
 * latest middle-or-old scan) is written only by lm_gen_scan_done, with the
 * world stopped, by the one thread that runs scans; readers are that thread
 * and its snapshot children.  No locks, no allocation.
 */
#include "gen.h"
#include "arena.h"
#include "lookup.h"
#include "options.h"
#include "span.h"

#include <string.h>

uint8_t lm_gen_stamp;

static uint64_t g_epoch;                       /* scans done */
static uint64_t g_scan_ns[LM_GEN_STAMPS];      /* time of scan k at k % 255 */
static uint64_t g_last_mid;                    /* 1 + number of the latest
                                                  middle-or-old scan, 0: none */

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

uint64_t lm_gen_epoch(void) { return g_epoch; }

static uint64_t age_since_scan(uint64_t scan, uint64_t now_ns)
{
    uint64_t t = g_scan_ns[scan % LM_GEN_STAMPS];
    return now_ns > t ? (now_ns - t) / 1000000u : 0;
}

void lm_gen_classify(uint8_t stamp, uint64_t now_ns, struct lm_gen_info *out)
{
    const uint64_t half = LM_GEN_STAMPS / 2 + 1;
    if (stamp == LM_GEN_ANCIENT) {
        out->gen = LM_GEN_OLD;
        out->scans = (uint32_t)half;
        out->age_ms = now_ns && g_epoch >= half ? age_since_scan(g_epoch - half, now_ns) : 0;
        return;
    }
    uint32_t now_stamp = (uint32_t)(g_epoch % LM_GEN_STAMPS);
    uint32_t d = (now_stamp + LM_GEN_STAMPS - stamp) % LM_GEN_STAMPS;
    if (d > g_epoch)
        d = (uint32_t)g_epoch;       /* a stamp from before any scan: 0 */
    out->scans = d;
    if (d == 0) {
        out->gen = LM_GEN_YOUNG;
        out->age_ms = 0;
        return;
    }
    uint64_t first = g_epoch - d;    /* the first scan after its birth */
    out->gen = g_last_mid >= first + 2 ? LM_GEN_OLD : LM_GEN_MIDDLE;
    out->age_ms = now_ns ? age_since_scan(first, now_ns) : 0;
}

void lm_gen_classify_after(uint8_t stamp, uint64_t now_ns, unsigned level,
                           struct lm_gen_info *out)
{
    lm_gen_classify(stamp, now_ns, out);
    if (out->gen == LM_GEN_YOUNG)
        out->gen = LM_GEN_MIDDLE;               /* every scan examines young */
    else if (out->gen == LM_GEN_MIDDLE && level >= LM_GEN_MIDDLE)
        out->gen = LM_GEN_OLD;
    out->scans++;
}

/* ---- re-stamping ---- */

static uint8_t restamp(uint8_t stamp, uint32_t now_stamp)
{
    if (stamp == LM_GEN_ANCIENT)
        return stamp;
    uint32_t d = (now_stamp + LM_GEN_STAMPS - stamp) % LM_GEN_STAMPS;
    return d > LM_GEN_STAMPS / 2 ? (uint8_t)LM_GEN_ANCIENT : stamp;
}

static void restamp_slice(uint32_t slice)
{
    uint32_t top = lm_span_top();
    uint32_t now_stamp = (uint32_t)(g_epoch % LM_GEN_STAMPS);
    for (uint32_t unit = slice; unit < top; unit += LM_GEN_SLICES) {
        uint8_t kind = lm_unit_kind[unit];
        if (kind == LM_UNIT_LARGE) {
            if (lm_units[unit].state == LM_BLOCK_LIVE)
                lm_units[unit].gen = restamp(lm_units[unit].gen, now_stamp);
            continue;
        }
        if (kind != LM_UNIT_ARENA)
            continue;
        struct lm_arena *a = lm_unit_addr(unit);
        if (!lm_arena_valid(a))
            continue;
        const uint64_t *live = lm_arena_live(a);
        uint32_t words = (a->extended + 63u) >> 6;
        for (uint32_t w = 0; w < words; w++) {
            for (uint64_t bits = live[w]; bits; bits &= bits - 1) {
                uint32_t idx = w * 64 + (uint32_t)__builtin_ctzll(bits);
                if (idx < a->extended)
                    a->meta[idx].gen = restamp(a->meta[idx].gen, now_stamp);
            }
        }
    }
}

void lm_gen_scan_done(unsigned level, uint64_t now_ns)
{
    g_scan_ns[g_epoch % LM_GEN_STAMPS] = now_ns;
    if (level >= LM_GEN_MIDDLE)
        g_last_mid = g_epoch + 1;
    g_epoch++;
    __atomic_store_n(&lm_gen_stamp, (uint8_t)(g_epoch % LM_GEN_STAMPS), __ATOMIC_RELAXED);
    if (g_epoch > LM_GEN_STAMPS / 2)
        restamp_slice((uint32_t)(g_epoch % LM_GEN_SLICES));
}

void lm_gen_reset_for_tests(void)
{
    g_epoch = 0;
    g_last_mid = 0;
    memset(g_scan_ns, 0, sizeof g_scan_ns);
    lm_gen_stamp = 0;
}
