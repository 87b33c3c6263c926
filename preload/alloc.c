/*
 * alloc.c - the out-of-line parts of the malloc family: slow paths, calloc,
 * realloc, aligned allocation, usable size, and what happens with pointers
 * leakmark never handed out.
 *
 * Bad frees (a pointer that is not the start of a live block of ours, or a
 * block freed twice) are reported in one line with the address, followed by
 * the call stack (badfree.c), and otherwise ignored: the heap is never
 * touched on their behalf, and the program goes on.
 */
#include "alloc.h"
#include "badfree.h"

#include <errno.h>
#include <string.h>

LM_THREAD uint32_t lm_tls_stack_id;

void *lm_malloc_slow(size_t size)
{
    if (lm_unlikely(!lm_init())) {
        errno = ENOMEM;
        return NULL;
    }
    if (size > LM_SMALL_MAX)
        return lm_large_alloc(size, 0, false);
    return lm_small_alloc(lm_size_class(size), size);
}

/* Is p the start of a live small block?  Returns its arena. */
static struct lm_arena *live_small(const void *p, uint32_t *idx)
{
    if (!lm_in_region(p) || lm_unit_kind[lm_unit_index(p)] != LM_UNIT_ARENA)
        return NULL;
    struct lm_arena *a = lm_arena_of(p);
    if (!lm_arena_valid(a) || !lm_arena_find_live(a, p, idx) || lm_arena_block(a, *idx) != (const char *)p)
        return NULL;
    return a;
}

static enum lm_bad_free classify_bad(const void *p)
{
    if (!lm_in_region(p))
        return LM_BAD_FOREIGN;
    uint32_t unit = lm_unit_index(p);
    uint8_t kind = lm_unit_kind[unit];
    if (kind == LM_UNIT_ARENA) {
        struct lm_arena *a = lm_arena_of(p);
        if (lm_arena_valid(a) && (const char *)p >= lm_arena_data(a)) {
            uint32_t idx = lm_arena_index(a, p);
            if (idx < a->extended && idx < a->capacity) {
                if (lm_arena_block(a, idx) != (const char *)p)
                    return lm_arena_is_live(a, idx) ? LM_BAD_INTERIOR : LM_BAD_UNKNOWN;
                return LM_BAD_DOUBLE;
            }
        }
        return LM_BAD_UNKNOWN;
    }
    if (kind == LM_UNIT_LARGE || kind == LM_UNIT_CONT) {
        uint32_t head = kind == LM_UNIT_LARGE ? unit : lm_units[unit].span;
        if (lm_unit_kind[head] == LM_UNIT_LARGE && head + lm_units[head].span > unit) {
            if (p != lm_unit_addr(head))
                return lm_units[head].state == LM_BLOCK_LIVE ? LM_BAD_INTERIOR : LM_BAD_UNKNOWN;
            return LM_BAD_DOUBLE;
        }
    }
    if (kind == LM_UNIT_FREE || kind == LM_UNIT_FREE_TAIL || kind == LM_UNIT_LARGE)
        return LM_BAD_DOUBLE;
    return LM_BAD_UNKNOWN;
}

void lm_free_slow(void *p)
{
    if (!p)
        return;
    if (lm_in_region(p) && !((uintptr_t)p & LM_UNIT_MASK) &&
        lm_unit_kind[lm_unit_index(p)] == LM_UNIT_LARGE && lm_large_free(p))
        return;
    lm_report_bad_free("free", p, classify_bad(p));
}

void *lm_calloc(size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (total > LM_SMALL_MAX) {
        if (lm_unlikely(!lm_init())) {
            errno = ENOMEM;
            return NULL;
        }
        return lm_large_alloc(total, 0, true);
    }
    void *p = lm_malloc(total);
    if (p)
        memset(p, 0, total);
    return p;
}

void *lm_realloc(void *p, size_t size)
{
    if (!p)
        return lm_malloc(size);
    if (size == 0) {                 /* glibc: frees and returns NULL */
        lm_free(p);
        return NULL;
    }
    uint32_t idx;
    struct lm_arena *a = live_small(p, &idx);
    if (a) {
        uint32_t bs = a->block_size;
        if (size <= bs && (size > bs / 2 || bs <= 64)) {
            a->meta[idx].size = (uint16_t)size;      /* stays in place */
            a->meta[idx].stack_id = lm_tls_stack_id;
            return p;
        }
        void *q = lm_malloc(size);
        if (!q)
            return NULL;
        memcpy(q, p, bs < size ? bs : size);
        lm_free(p);
        return q;
    }
    if (lm_large_is_live(p)) {
        if (size <= LM_SMALL_MAX) {
            void *q = lm_malloc(size);
            if (!q)
                return NULL;
            memcpy(q, p, size);
            lm_large_free(p);
            return q;
        }
        return lm_large_realloc(p, size);
    }
    lm_report_bad_free("realloc", p, classify_bad(p));
    errno = EINVAL;
    return NULL;
}

void *lm_memalign(size_t align, size_t size)
{
    if (align <= 16)
        return lm_malloc(size);
    if (!lm_is_pow2(align)) {        /* glibc's memalign rounds up */
        if (align > ((size_t)1 << 62)) {
            errno = EINVAL;
            return NULL;
        }
        align = (size_t)1 << (64 - __builtin_clzl(align));
    }
    if (lm_unlikely(!lm_init())) {
        errno = ENOMEM;
        return NULL;
    }
    if (size <= LM_SMALL_MAX && align <= 4096) {
        for (unsigned c = lm_size_class(size); c < LM_NUM_CLASSES; c++)
            if (lm_class_size[c] % align == 0)
                return lm_small_alloc(c, size);
    }
    return lm_large_alloc(size, align, false);
}

size_t lm_usable_size(const void *p)
{
    if (!p)
        return 0;
    uint32_t idx;
    struct lm_arena *a = live_small(p, &idx);
    if (a)
        return a->block_size;
    size_t n = lm_large_usable(p);
    if (!n)
        lm_report_bad_free("malloc_usable_size", p, classify_bad(p));
    return n;
}
