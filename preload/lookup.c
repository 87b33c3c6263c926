/*
 * lookup.c - address -> live block and the walk over live blocks (see
 * lookup.h).  Reads only: unit kind bytes, unit records, arena headers,
 * liveness bitmaps and block records.  No locks (the caller keeps the heap
 * still), no allocation, async-signal-safe.
 */
#include "lookup.h"
#include "arena.h"
#include "block.h"
#include "span.h"

static bool arena_ref(const struct lm_arena *a, uint32_t unit, uint32_t idx, struct lm_block_ref *out)
{
    out->start = (uintptr_t)lm_arena_block(a, idx);
    out->size = lm_arena_req_size(a, idx);
    out->unit = unit;
    out->index = idx;
    out->stack_id = a->meta[idx].stack_id;
    out->gen = a->meta[idx].gen;
    out->large = false;
    return true;
}

bool lm_lookup_block(uintptr_t p, struct lm_block_ref *out)
{
    if (!lm_in_region((const void *)p))
        return false;
    uint32_t unit = lm_unit_index((const void *)p);
    uint8_t kind = lm_unit_kind[unit];
    if (kind == LM_UNIT_ARENA) {
        const struct lm_arena *a = lm_unit_addr(unit);
        if (!lm_arena_valid(a) || p < (uintptr_t)lm_arena_data(a))
            return false;
        uint32_t idx = lm_arena_index(a, (const void *)p);
        if (idx >= a->extended || idx >= a->capacity || !lm_arena_is_live(a, idx))
            return false;
        arena_ref(a, unit, idx, out);
        size_t span = out->size ? out->size : 1;
        return p - out->start < span;
    }
    if (kind != LM_UNIT_LARGE && kind != LM_UNIT_CONT)
        return false;
    uint32_t head = kind == LM_UNIT_LARGE ? unit : lm_units[unit].span;
    if (head > unit || lm_unit_kind[head] != LM_UNIT_LARGE)
        return false;
    const struct lm_unit *u = &lm_units[head];
    if (u->state != LM_BLOCK_LIVE || unit - head >= u->span)
        return false;
    uintptr_t start = (uintptr_t)lm_unit_addr(head);
    size_t span = u->size ? u->size : 1;
    if (p - start >= span)
        return false;
    out->start = start;
    out->size = u->size;
    out->unit = head;
    out->index = 0;
    out->stack_id = u->stack_id;
    out->gen = u->gen;
    out->large = true;
    return true;
}

void lm_foreach_live_block(void (*fn)(const struct lm_block_ref *b, void *arg), void *arg)
{
    uint32_t top = lm_span_top();
    struct lm_block_ref ref;
    for (uint32_t unit = 0; unit < top; unit++) {
        uint8_t kind = lm_unit_kind[unit];
        if (kind == LM_UNIT_LARGE && lm_units[unit].state == LM_BLOCK_LIVE) {
            ref.start = (uintptr_t)lm_unit_addr(unit);
            ref.size = lm_units[unit].size;
            ref.unit = unit;
            ref.index = 0;
            ref.stack_id = lm_units[unit].stack_id;
            ref.gen = lm_units[unit].gen;
            ref.large = true;
            fn(&ref, arg);
            continue;
        }
        if (kind != LM_UNIT_ARENA)
            continue;
        const struct lm_arena *a = lm_unit_addr(unit);
        if (!lm_arena_valid(a))
            continue;
        const uint64_t *live = lm_arena_live(a), *remote = lm_arena_remote(a);
        uint32_t words = (a->extended + 63u) >> 6;
        for (uint32_t w = 0; w < words; w++) {
            uint64_t bits = live[w] & ~remote[w];
            while (bits) {
                uint32_t idx = w * 64 + (uint32_t)__builtin_ctzll(bits);
                bits &= bits - 1;
                if (idx < a->extended && arena_ref(a, unit, idx, &ref))
                    fn(&ref, arg);
            }
        }
    }
}

size_t lm_live_blocks_estimate(void)
{
    uint32_t top = lm_span_top();
    size_t n = 0;
    for (uint32_t unit = 0; unit < top; unit++) {
        uint8_t kind = __atomic_load_n(&lm_unit_kind[unit], __ATOMIC_RELAXED);
        if (kind == LM_UNIT_LARGE)
            n += __atomic_load_n(&lm_units[unit].state, __ATOMIC_RELAXED) == LM_BLOCK_LIVE;
        else if (kind == LM_UNIT_ARENA)
            n += __atomic_load_n(&((const struct lm_arena *)lm_unit_addr(unit))->used,
                                 __ATOMIC_RELAXED);
    }
    return n;
}

void lm_heap_bounds(uintptr_t *lo, uintptr_t *hi)
{
    *lo = lm_region_base;
    *hi = lm_region_base + ((uintptr_t)lm_span_top() << LM_UNIT_SHIFT);
}
