/*
 * markview.c - builds and releases the mark's view of the heap (see
 * markview.h for what it holds and its invariant).
 *
 * Reads arena headers, their live and remote bitmaps and the unit table,
 * once per run with the heap still; no locks, no malloc, no stdio.
 */
#include "markview.h"
#include "os.h"

#include <errno.h>

/* Fills the view of one valid arena; returns its number of groups. */
static uint32_t view_arena(struct lm_mark_unit *v, const struct lm_arena *a, uint32_t group)
{
    uint32_t limit = a->extended < a->capacity ? a->extended : a->capacity;
    uintptr_t meta_offset = (uintptr_t)a->meta - (uintptr_t)a;
    if (!limit || meta_offset >= LM_UNIT_SIZE || a->data_offset >= LM_UNIT_SIZE || !a->block_size)
        return 0;
    v->magic = a->magic;
    v->data_offset = a->data_offset;
    v->block_size = a->block_size;
    v->limit = limit;
    v->group = group;
    v->meta_offset = (uint32_t)meta_offset;
    v->kind = VIEW_ARENA;
    return (limit + 63) >> 6;
}

/* Maps and fills the view of units [0, units): one walk for the geometry
 * and the number of groups, a second for the liveness bits.  Returns 0 or
 * ENOMEM. */
int lm_mark_view_build(struct lm_mark_result *res, uint32_t units)
{
    void *p;
    size_t vbytes = lm_align_up((size_t)units * sizeof(struct lm_mark_unit), LM_PAGE_SIZE);
    if (lm_os_map(vbytes, &p) != 0)
        return ENOMEM;
    struct lm_mark_unit *view = p;
    res->view = view;
    res->view_bytes = vbytes;
    res->state_units = units;
    size_t groups = 0;
    for (uint32_t unit = 0; unit < units; unit++) {
        uint8_t kind = lm_unit_kind[unit];
        if (kind == LM_UNIT_ARENA) {
            const struct lm_arena *a = lm_unit_addr(unit);
            if (lm_arena_valid(a))
                groups += view_arena(&view[unit], a, (uint32_t)groups);
            continue;
        }
        if (kind != LM_UNIT_LARGE || lm_units[unit].state != LM_BLOCK_LIVE)
            continue;
        view[unit] = (struct lm_mark_unit){ .magic = lm_units[unit].size, .limit = 1,
                                            .group = (uint32_t)groups++, .kind = VIEW_LARGE };
        /* The span's later units, as lm_lookup_block checks them (a CONT
         * byte outside a live span may be stale). */
        uint32_t span = lm_units[unit].span;
        for (uint32_t k = 1; k < span && unit + k < units; k++)
            if (lm_unit_kind[unit + k] == LM_UNIT_CONT && lm_units[unit + k].span == unit)
                view[unit + k] = (struct lm_mark_unit){ .group = unit, .kind = VIEW_CONT };
    }
    if (groups >= UINT32_MAX)
        return ENOMEM;
    if (!groups)
        return 0;
    size_t gbytes = lm_align_up(groups * sizeof(struct lm_mark_group), LM_PAGE_SIZE);
    if (lm_os_map(gbytes, &p) != 0)
        return ENOMEM;
    struct lm_mark_group *g = p;
    res->groups = g;
    res->groups_bytes = gbytes;
    for (uint32_t unit = 0; unit < units; unit++) {
        const struct lm_mark_unit *v = &view[unit];
        if (v->kind == VIEW_LARGE) {
            g[v->group].live = 1;
            continue;
        }
        if (v->kind != VIEW_ARENA)
            continue;
        const struct lm_arena *a = lm_unit_addr(unit);
        const uint64_t *live = lm_arena_live(a), *remote = lm_arena_remote(a);
        uint32_t words = (v->limit + 63) >> 6;
        for (uint32_t w = 0; w < words; w++)
            g[v->group + w].live = lm_bits_load(&live[w]) & ~lm_bits_load(&remote[w]);
        if (v->limit & 63)
            g[v->group + words - 1].live &= (1ull << (v->limit & 63)) - 1;
    }
    return 0;
}

/* The block named by (unit, idx); it was live when marked and the heap is
 * still. */
void lm_mark_view_block(uint32_t unit, uint32_t idx, struct lm_block_ref *b)
{
    b->unit = unit;
    b->index = idx;
    if (lm_unit_kind[unit] == LM_UNIT_ARENA) {
        const struct lm_arena *a = lm_unit_addr(unit);
        b->start = (uintptr_t)lm_arena_block(a, idx);
        b->size = lm_arena_req_size(a, idx);
        b->stack_id = a->meta[idx].stack_id;
        b->gen = a->meta[idx].gen;
        b->large = false;
    } else {
        b->start = (uintptr_t)lm_unit_addr(unit);
        b->size = lm_units[unit].size;
        b->stack_id = lm_units[unit].stack_id;
        b->gen = lm_units[unit].gen;
        b->large = true;
    }
}

void lm_mark_view_release(struct lm_mark_result *res)
{
    if (res->view)
        lm_os_unmap(res->view, res->view_bytes);
    if (res->groups)
        lm_os_unmap(res->groups, res->groups_bytes);
    res->view = NULL;
    res->groups = NULL;
    res->view_bytes = res->groups_bytes = 0;
    res->state_units = 0;
}
