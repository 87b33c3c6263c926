/*
 * large.c - large blocks on spans (see large.h).
 *
 * Dirty bookkeeping: a LARGE record's `dirty` counts pages from the head
 * that may be resident.  A span reused from the cache may hold more resident
 * pages than the new block needs (its "slack"); slack is kept while the
 * span allocator's cache budget allows (so churning blocks of varying size
 * reuse pages without faults) and given back at once otherwise, so reuse
 * never pins memory beyond the budget.  calloc skips the memset on pages
 * that are known zero.
 */
#include "large.h"
#include "block.h"
#include "os.h"

#include <errno.h>
#include <string.h>

#define PAGES_PER_UNIT (LM_UNIT_SIZE / LM_PAGE_SIZE)

static uint32_t pages_of(size_t size) { return (uint32_t)((size + LM_PAGE_SIZE - 1) / LM_PAGE_SIZE); }
static uint32_t units_of(size_t size) { return (uint32_t)((size + LM_UNIT_SIZE - 1) >> LM_UNIT_SHIFT); }

void *lm_large_alloc(size_t size, size_t align, bool zero)
{
    if (size == 0)
        size = 1;
    if (size > lm_region_size || align > lm_region_size) {
        errno = ENOMEM;
        return NULL;
    }
    uint32_t align_units = align > LM_UNIT_SIZE ? (uint32_t)(align >> LM_UNIT_SHIFT) : 1;
    uint32_t dirty, head = lm_span_alloc(units_of(size), align_units, LM_UNIT_LARGE, &dirty);
    if (head == UINT32_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    char *p = lm_unit_addr(head);
    uint32_t pages = pages_of(size);
    if (zero && dirty)
        memset(p, 0, dirty < pages ? (size_t)dirty * LM_PAGE_SIZE : size);
    struct lm_unit *u = &lm_units[head];
    u->slack = 0;
    if (dirty > pages) {
        if (lm_span_keep_slack(dirty - pages)) {
            u->slack = (uint16_t)(dirty - pages);
        } else {
            lm_os_purge(p + (size_t)pages * LM_PAGE_SIZE, (size_t)(dirty - pages) * LM_PAGE_SIZE);
            dirty = pages;
        }
    }
    u->size = size;
    u->stack_id = lm_tls_stack_id;
    u->gen = lm_gen_stamp;
    u->block_flags = LM_BLOCK_F_NONE;   /* the span's free-list link until now */
    u->dirty = dirty > pages ? dirty : pages;
    __atomic_store_n(&u->state, LM_BLOCK_LIVE, __ATOMIC_RELEASE);
    return p;
}

static struct lm_unit *live_record(const void *p)
{
    if (!lm_in_region(p) || ((uintptr_t)p & LM_UNIT_MASK))
        return NULL;
    uint32_t head = lm_unit_index(p);
    if (lm_unit_kind[head] != LM_UNIT_LARGE || lm_units[head].state != LM_BLOCK_LIVE)
        return NULL;
    return &lm_units[head];
}

bool lm_large_is_live(const void *p) { return live_record(p) != NULL; }

bool lm_large_free(void *p)
{
    uint32_t head = lm_unit_index(p);
    struct lm_unit *u = &lm_units[head];
    /* The exchange makes two racing frees of one block report, not corrupt. */
    if (__atomic_exchange_n(&u->state, LM_BLOCK_FREE, __ATOMIC_ACQ_REL) != LM_BLOCK_LIVE)
        return false;
    if (u->slack)
        lm_span_drop_slack(u->slack);
    lm_span_free(head, u->dirty);
    return true;
}

size_t lm_large_usable(const void *p)
{
    struct lm_unit *u = live_record(p);
    return u ? (size_t)pages_of(u->size) * LM_PAGE_SIZE : 0;
}

void *lm_large_realloc(void *p, size_t size)
{
    if (size > lm_region_size) {        /* no span can hold it; p stays */
        errno = ENOMEM;
        return NULL;
    }
    uint32_t head = lm_unit_index(p);
    struct lm_unit *u = &lm_units[head];
    uint32_t need = units_of(size), have = u->span, pages = pages_of(size);
    if (need < have) {
        lm_span_shrink(head, need);
    } else if (need > have && !lm_span_grow(head, need)) {
        void *q = lm_large_alloc(size, 0, false);
        if (!q)
            return NULL;
        size_t old_usable = (size_t)pages_of(u->size) * LM_PAGE_SIZE;
        memcpy(q, p, old_usable < size ? old_usable : size);
        lm_large_free(p);
        return q;
    }
    u->size = size;
    u->stack_id = lm_tls_stack_id;
    if (u->dirty < pages)
        u->dirty = pages;
    if (u->dirty > need * PAGES_PER_UNIT)
        u->dirty = need * PAGES_PER_UNIT;
    if (u->slack)
        lm_span_drop_slack(u->slack);
    u->slack = 0;
    if (u->dirty > pages && lm_span_keep_slack(u->dirty - pages))
        u->slack = (uint16_t)(u->dirty - pages);
    return p;
}
