/*
 * markview.h - the mark's view of the heap (private to mark.c and
 * markview.c): two dense arrays taken once per run with the heap still.
 *
 *   units   per 256 KiB unit, 32 bytes: its kind (arena, head or later
 *           unit of a large block, nothing) and, for an arena, the
 *           geometry a candidate needs (first block, class size, divisor,
 *           carved blocks, where the records are);
 *   groups  per 64 blocks of a unit, 32 bytes: their liveness bits (the
 *           arena's live bits minus those freed from another thread, as
 *           lm_lookup_block reads them) beside their mark state, two bit
 *           planes: unvisited / possible / reachable / leaked.
 *
 * Invariant: a block is in the view iff lm_lookup_block finds it live; the
 * functions below give its answers (view_find: the slot, within_block: the
 * requested-size check) from these arrays and the block records alone.
 *
 * Locking: none.  The heap must not change while a view is used (the
 * caller stops the world or works in a forked snapshot); no malloc, no
 * stdio.  Arrays are mmap'd, owned by the lm_mark_result.
 */
#ifndef LM_MARKVIEW_H
#define LM_MARKVIEW_H

#include "mark.h"
#include "arena.h"
#include "span.h"

enum view_kind {
    VIEW_NONE = 0,      /* no live block starts or lies here */
    VIEW_ARENA,         /* a valid arena with carved blocks */
    VIEW_LARGE,         /* head of a live large block */
    VIEW_CONT,          /* a later unit of a live large block */
};

struct lm_mark_unit {
    uint64_t magic;            /* ARENA: lm_div_magic(block_size);
                                * LARGE: the size the program asked for */
    uint32_t data_offset;      /* ARENA: first block, from the unit's base */
    uint32_t block_size;       /* ARENA */
    uint32_t limit;            /* ARENA: carved blocks (indexes < limit);
                                * LARGE: 1 */
    uint32_t group;            /* ARENA, LARGE: first group; CONT: head unit */
    uint32_t meta_offset;      /* ARENA: block records, from the unit's base */
    uint8_t kind;              /* enum view_kind */
};
_Static_assert(sizeof(struct lm_mark_unit) == 32, "a unit's view is half a cache line");

struct lm_mark_group {         /* blocks 64k .. 64k+63 of one unit */
    uint64_t live;             /* live when the view was taken */
    uint64_t low, high;        /* bit 0 and bit 1 of each block's state */
    uint64_t first_node;       /* after the flood: node id of the group's
                                * first leaked block (see node_of) */
};
_Static_assert(sizeof(struct lm_mark_group) == 32, "a group is half a cache line");

LM_INLINE unsigned grp_state(const struct lm_mark_group *g, uint32_t idx)
{
    unsigned b = idx & 63;
    return (unsigned)((g->low >> b) & 1) | (unsigned)((g->high >> b) & 1) << 1;
}
LM_INLINE void grp_set(struct lm_mark_group *g, uint32_t idx, unsigned v)
{
    uint64_t bit = 1ull << (idx & 63);
    g->low = (g->low & ~bit) | (v & 1 ? bit : 0);
    g->high = (g->high & ~bit) | (v & 2 ? bit : 0);
}

/* Group of block (unit, idx) if the view has that block live, else NULL. */
LM_INLINE struct lm_mark_group *group_of(const struct lm_mark_result *res, uint32_t unit, uint32_t idx)
{
    if (!res->view || unit >= res->state_units)
        return NULL;
    const struct lm_mark_unit *u = &res->view[unit];
    if ((u->kind != VIEW_ARENA && u->kind != VIEW_LARGE) || idx >= u->limit)
        return NULL;
    struct lm_mark_group *g = &res->groups[u->group + (idx >> 6)];
    return (g->live >> (idx & 63)) & 1 ? g : NULL;
}

/* The size the program asked for, for an arena block in the view. */
LM_INLINE size_t arena_req_size(const struct lm_mark_unit *u, uintptr_t base, uint32_t idx)
{
    const struct lm_meta *meta = (const struct lm_meta *)(base + u->meta_offset);
    size_t s = meta[idx].size;
    return s == 0 && u->block_size > 0xffff ? 0x10000 : s;
}

/* A candidate resolved against the view. */
struct hit {
    uintptr_t start;
    uint32_t unit, idx;        /* the block: head unit for large blocks */
    struct lm_mark_group *g;
    const struct lm_mark_unit *u;   /* the block's unit (head for large) */
};

/* The live block whose slot holds v (v - base < units << LM_UNIT_SHIFT):
 * for an arena, the class-sized slot (the requested size is not checked:
 * within_block does that when it matters); for a large block, the whole
 * span.  False when no live block is there. */
LM_INLINE bool view_find(const struct lm_mark_result *res, uintptr_t base, uintptr_t v, struct hit *h)
{
    uintptr_t off = v - base;
    uint32_t unit = (uint32_t)(off >> LM_UNIT_SHIFT);
    const struct lm_mark_unit *u = &res->view[unit];
    if (lm_likely(u->kind == VIEW_ARENA)) {
        uint32_t in = (uint32_t)(off & LM_UNIT_MASK);
        if (in < u->data_offset)
            return false;
        uint32_t idx = (uint32_t)(((uint64_t)(in - u->data_offset) * u->magic) >> 48);
        if (idx >= u->limit)
            return false;
        struct lm_mark_group *g = &res->groups[u->group + (idx >> 6)];
        if (!((g->live >> (idx & 63)) & 1))
            return false;
        h->start = base + ((uintptr_t)unit << LM_UNIT_SHIFT) + u->data_offset +
                   (uintptr_t)idx * u->block_size;
        h->unit = unit;
        h->idx = idx;
        h->g = g;
        h->u = u;
        return true;
    }
    if (u->kind == VIEW_CONT) {
        unit = u->group;
        u = &res->view[unit];
    } else if (u->kind != VIEW_LARGE) {
        return false;
    }
    h->start = base + ((uintptr_t)unit << LM_UNIT_SHIFT);
    h->unit = unit;
    h->idx = 0;
    h->g = &res->groups[u->group];
    h->u = u;
    return true;
}

/* v (found by view_find) lies in [start, start + max(requested size, 1)). */
LM_INLINE bool within_block(const struct hit *h, uintptr_t base, uintptr_t v)
{
    if (v == h->start)
        return true;
    size_t size;
    if (h->u->kind == VIEW_ARENA)
        size = arena_req_size(h->u, base + ((uintptr_t)h->unit << LM_UNIT_SHIFT), h->idx);
    else
        size = (size_t)h->u->magic;
    return v - h->start < (size ? size : 1);
}

/* Start and requested size of block (unit, idx), live in the view. */
LM_INLINE void view_block(const struct lm_mark_result *res, uintptr_t base, uint32_t unit, uint32_t idx,
                        uintptr_t *start, size_t *size)
{
    const struct lm_mark_unit *u = &res->view[unit];
    uintptr_t ubase = base + ((uintptr_t)unit << LM_UNIT_SHIFT);
    if (u->kind == VIEW_ARENA) {
        *start = ubase + u->data_offset + (uintptr_t)idx * u->block_size;
        *size = arena_req_size(u, ubase, idx);
    } else {
        *start = ubase;
        *size = (size_t)u->magic;
    }
}



/* Calls fn(unit, idx, state, arg) for every block live in the view (only
 * the POSSIBLE ones with only_possible), in address order.  fn may change
 * the state of the block it is given: the loop works on a copy of the bits. */
LM_INLINE void view_foreach(const struct lm_mark_result *res, bool only_possible,
                            void (*fn)(uint32_t unit, uint32_t idx, unsigned st, void *arg), void *arg)
{
    for (uint32_t unit = 0; unit < res->state_units; unit++) {
        const struct lm_mark_unit *v = &res->view[unit];
        if (v->kind != VIEW_ARENA && v->kind != VIEW_LARGE)
            continue;
        const struct lm_mark_group *g = &res->groups[v->group];
        for (uint32_t w = 0, words = (v->limit + 63) >> 6; w < words; w++) {
            uint64_t want = only_possible ? g[w].low & ~g[w].high : ~(uint64_t)0;
            for (uint64_t bits = g[w].live & want; bits; bits &= bits - 1) {
                uint32_t idx = w * 64 + (uint32_t)__builtin_ctzll(bits);
                fn(unit, idx, grp_state(&g[w], idx), arg);
            }
        }
    }
}

/* Maps and fills the view of units [0, units) into res.  0 or ENOMEM. */
int lm_mark_view_build(struct lm_mark_result *res, uint32_t units);
/* Unmaps res's view (if any). */
void lm_mark_view_release(struct lm_mark_result *res);
/* The block named by (unit, idx): live in the view, the heap still. */
void lm_mark_view_block(uint32_t unit, uint32_t idx, struct lm_block_ref *b);

#endif
