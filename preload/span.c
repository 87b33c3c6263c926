/*
 * span.c - the reserved region, its unit tables and the span allocator
 * (see span.h for the unit kinds and the dirty-page bookkeeping).
 *
 * Notes on locking
 *   span_lock  guards: bins, bin_mask, bump, committed, dirty_total and the
 *              records of FREE / FREE_TAIL units.  Taken by arena creation
 *              and release, every large alloc/free/grow/shrink, purges.
 *              Nothing else is locked while it is held, and nothing called
 *              under it allocates.  Syscalls made under it: mprotect
 *              (commit) and madvise (purge).
 *   meta_lock  guards the internal-metadata bump allocator; a leaf lock.
 * Fork: prepare takes span_lock then meta_lock; parent releases; the child
 * re-initialises both (the forking thread was the only one left).
 * Signals: programs call malloc from signal handlers.  A handler that
 * interrupts its own thread inside span_lock must not wait for it: a
 * thread-local flag says "this thread holds span_lock", and a re-entered
 * call then fails softly instead (an allocation returns NULL/ENOMEM, a
 * free is queued on a lock-free stack that the lock holder drains before
 * it unlocks).  No signal masking, so no syscalls on the common path.
 */
#include "span.h"
#include "atomic.h"
#include "options.h"
#include "os.h"

#include <errno.h>
#include <string.h>

#define PAGES_PER_UNIT   (LM_UNIT_SIZE / LM_PAGE_SIZE)     /* 64 */
#define NUM_BINS         64u        /* bin i holds spans of i units; bin 63 spans >= 63 */
#define COMMIT_STEP      128u       /* units committed at a time (32 MiB) */
#define REGION_MAX       ((size_t)1 << 40)   /* 1 TiB */
#define REGION_MIN       ((size_t)1 << 30)

uintptr_t lm_region_base;
size_t lm_region_size;
uint8_t *lm_unit_kind;
struct lm_unit *lm_units;

static pthread_mutex_t span_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t unit_count;        /* units in the region */
static uint32_t bump;              /* units [0, bump) have been handed out at least once */
static uint32_t committed;         /* units [0, committed) are read-write */
static uint32_t bins[NUM_BINS];    /* head index + 1 of each bin's first span, 0 = empty */
static uint64_t bin_mask;          /* bit i set when bins[i] is non-empty */
static size_t dirty_total;         /* pages, over all free spans */
static size_t in_use_units;
static volatile AO_t slack_pages;  /* resident pages past large blocks' ends */

static LM_THREAD bool holds_span_lock;
static volatile AO_t deferred_frees;   /* head unit index + 1, linked by .next */

/* The flag covers acquiring, holding and releasing: it is set before the
 * lock is taken and cleared after it is released, so a handler that
 * interrupts any of the three steps sees it (a signal fence keeps the
 * compiler from moving the stores across them). */
static bool span_lock_enter(void)
{
    if (holds_span_lock)
        return false;       /* a signal handler re-entered this thread */
    holds_span_lock = true;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    pthread_mutex_lock(&span_lock);
    return true;
}

static void free_locked(uint32_t head, uint32_t len, uint32_t dirty);

static void span_lock_leave(void)
{
    while (lm_load_relaxed(&deferred_frees)) {
        AO_t i = lm_exchange_full(&deferred_frees, 0);
        while (i) {
            struct lm_unit *u = &lm_units[i - 1];
            AO_t next = u->next;
            in_use_units -= u->span;
            free_locked((uint32_t)(i - 1), u->span, u->dirty);
            i = next;
        }
    }
    pthread_mutex_unlock(&span_lock);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    holds_span_lock = false;
}

int lm_span_init(void)
{
    void *base = NULL;
    size_t size = REGION_MAX;
    int err = ENOMEM;
    while (size >= REGION_MIN) {
        err = lm_os_reserve(size, LM_UNIT_SIZE, &base);
        if (!err)
            break;
        size >>= 1;
    }
    if (err)
        return err;
    size_t units = size >> LM_UNIT_SHIFT;
    void *kinds, *records;
    err = lm_os_map(lm_align_up(units, LM_PAGE_SIZE), &kinds);
    if (err)
        return err;
    err = lm_os_map(lm_align_up(units * sizeof(struct lm_unit), LM_PAGE_SIZE), &records);
    if (err)
        return err;
    lm_unit_kind = kinds;
    lm_units = records;
    unit_count = (uint32_t)units;
    /* Unit 0 is never handed out: its address is lm_region_base, a value
     * leakmark's own code keeps in registers and on its stack, which a
     * conservative scan would take for a start pointer to the block there. */
    bump = committed = 1;      /* (it stays PROT_NONE) */
    lm_region_base = (uintptr_t)base;
    lm_region_size = size;          /* last: lm_in_region() is false until now */
    return 0;
}

/* Free pages kept resident for reuse: large_cache_mb at most, and no more
 * than 32 MiB plus 1/4 of what is in use, so a program's peak RSS stays
 * close to its live data (glibc keeps about as much in its free lists). */
static size_t dirty_budget_pages(void)
{
    size_t opt = (size_t)lm_options.large_cache_mb * ((1u << 20) / LM_PAGE_SIZE);
    size_t rel = (32u << 20) / LM_PAGE_SIZE + in_use_units * PAGES_PER_UNIT / 4;
    return opt < rel ? opt : rel;
}

static unsigned bin_of(uint32_t len) { return len < NUM_BINS - 1 ? len : NUM_BINS - 1; }

static void bin_insert(uint32_t head, uint32_t len, uint32_t dirty)
{
    struct lm_unit *u = &lm_units[head];
    unsigned b = bin_of(len);
    lm_unit_kind[head] = LM_UNIT_FREE;
    u->span = len;
    u->dirty = dirty;
    u->prev = 0;
    u->next = bins[b];
    if (bins[b])
        lm_units[bins[b] - 1].prev = head + 1;
    bins[b] = head + 1;
    bin_mask |= 1ull << b;
    if (len > 1) {
        lm_unit_kind[head + len - 1] = LM_UNIT_FREE_TAIL;
        lm_units[head + len - 1].span = head;
    }
    dirty_total += dirty;
}

static void bin_remove(uint32_t head)
{
    struct lm_unit *u = &lm_units[head];
    unsigned b = bin_of(u->span);
    if (u->prev)
        lm_units[u->prev - 1].next = u->next;
    else
        bins[b] = u->next;
    if (u->next)
        lm_units[u->next - 1].prev = u->prev;
    if (!bins[b])
        bin_mask &= ~(1ull << b);
    dirty_total -= u->dirty;
}

/* Removes and returns the head of the smallest free span of >= n units. */
static uint32_t bins_take(uint32_t n)
{
    uint32_t found = UINT32_MAX;
    if (n < NUM_BINS - 1) {
        uint64_t m = bin_mask & (~0ull << n);
        if (!m)
            return UINT32_MAX;
        unsigned b = (unsigned)__builtin_ctzll(m);
        if (b < NUM_BINS - 1)
            found = bins[b] - 1;
    }
    if (found == UINT32_MAX) {
        uint32_t best_len = UINT32_MAX;
        for (uint32_t i = bins[NUM_BINS - 1]; i; i = lm_units[i - 1].next) {
            uint32_t len = lm_units[i - 1].span;
            if (len >= n && len < best_len) {
                best_len = len;
                found = i - 1;
                if (len == n)
                    break;
            }
        }
        if (found == UINT32_MAX)
            return UINT32_MAX;
    }
    bin_remove(found);
    return found;
}

/* Cuts [head+n, head+len) off a span just taken from a bin and frees it. */
static void split_tail(uint32_t head, uint32_t n, uint32_t len)
{
    uint32_t dirty = lm_units[head].dirty, keep = n * PAGES_PER_UNIT;
    if (len > n)
        bin_insert(head + n, len - n, dirty > keep ? dirty - keep : 0);
    lm_units[head].dirty = dirty < keep ? dirty : keep;
}

static int ensure_committed(uint32_t end)
{
    if (end <= committed)
        return 0;
    uint32_t target = committed + COMMIT_STEP;
    if (target < end)
        target = end;
    if (target > unit_count)
        target = unit_count;
    void *at = lm_unit_addr(committed);
    if (lm_os_commit(at, (size_t)(target - committed) << LM_UNIT_SHIFT) != 0) {
        target = end;       /* the generous step may be what failed */
        int err = lm_os_commit(at, (size_t)(target - committed) << LM_UNIT_SHIFT);
        if (err)
            return err;
    }
    committed = target;
    return 0;
}

static uint32_t bump_take(uint32_t n, uint32_t align)
{
    /* Alignment is of the address, not of the unit index: the region
     * itself is only unit-aligned. */
    uintptr_t at = lm_align_up(lm_region_base + ((uintptr_t)bump << LM_UNIT_SHIFT),
                               (uintptr_t)align << LM_UNIT_SHIFT);
    uint64_t start64 = (at - lm_region_base) >> LM_UNIT_SHIFT;
    if (start64 + n > unit_count)
        return UINT32_MAX;
    uint32_t start = (uint32_t)start64;
    if (ensure_committed(start + n) != 0)
        return UINT32_MAX;
    if (start > bump)
        bin_insert(bump, start - bump, 0);
    bump = start + n;
    lm_units[start].dirty = 0;
    return start;
}

static void purge_locked(size_t target_pages)
{
    for (int b = NUM_BINS - 1; b > 0 && dirty_total > target_pages; b--) {
        for (uint32_t i = bins[b]; i && dirty_total > target_pages; i = lm_units[i - 1].next) {
            struct lm_unit *u = &lm_units[i - 1];
            if (!u->dirty)
                continue;
            lm_os_purge(lm_unit_addr(i - 1), (size_t)u->dirty * LM_PAGE_SIZE);
            dirty_total -= u->dirty;
            u->dirty = 0;
        }
    }
}

/* Frees [head, head+len) with `dirty` resident pages, coalescing. */
static void free_locked(uint32_t head, uint32_t len, uint32_t dirty)
{
    uint32_t right = head + len;
    if (right < bump && lm_unit_kind[right] == LM_UNIT_FREE) {
        struct lm_unit *r = &lm_units[right];
        uint32_t rlen = r->span, rdirty = r->dirty;
        bin_remove(right);
        if (rdirty)
            dirty = len * PAGES_PER_UNIT + rdirty;
        len += rlen;
    }
    if (head > 0) {
        uint8_t k = lm_unit_kind[head - 1];
        uint32_t left = UINT32_MAX;
        if (k == LM_UNIT_FREE)
            left = head - 1;
        else if (k == LM_UNIT_FREE_TAIL)
            left = lm_units[head - 1].span;
        if (left != UINT32_MAX) {
            struct lm_unit *l = &lm_units[left];
            uint32_t gap = head - left, ldirty = l->dirty;
            bin_remove(left);
            dirty = dirty ? gap * PAGES_PER_UNIT + dirty : ldirty;
            len += gap;
            head = left;
        }
    }
    bin_insert(head, len, dirty);
    size_t budget = dirty_budget_pages();
    if (dirty_total > budget)
        purge_locked(budget - budget / 4);
}

/* Slack may use up to the cache budget on top of the free pages. */
bool lm_span_keep_slack(uint32_t pages)
{
    if (lm_load_relaxed(&slack_pages) + pages > dirty_budget_pages())
        return false;
    lm_fetch_add(&slack_pages, pages);
    return true;
}

void lm_span_drop_slack(uint32_t pages)
{
    lm_fetch_add(&slack_pages, (AO_t)0 - pages);
}

static void mark_large(uint32_t head, uint32_t from, uint32_t n)
{
    for (uint32_t i = from; i < n; i++) {
        lm_units[head + i].span = head;
        lm_unit_kind[head + i] = LM_UNIT_CONT;
    }
}

uint32_t lm_span_alloc(uint32_t n, uint32_t align_units, uint8_t kind, uint32_t *dirty_pages)
{
    if (n == 0 || n > unit_count)
        return UINT32_MAX;
    if (!span_lock_enter())
        return UINT32_MAX;
    uint32_t head = UINT32_MAX;
    if (align_units <= 1) {
        head = bins_take(n);
        if (head != UINT32_MAX)
            split_tail(head, n, lm_units[head].span);
    }
    if (head == UINT32_MAX)
        head = bump_take(n, align_units ? align_units : 1);
    if (head != UINT32_MAX) {
        lm_units[head].span = n;
        if (kind == LM_UNIT_LARGE)
            mark_large(head, 1, n);
        lm_unit_kind[head] = kind;
        in_use_units += n;
        *dirty_pages = lm_units[head].dirty;
    }
    span_lock_leave();
    return head;
}

void lm_span_free(uint32_t head, uint32_t dirty_pages)
{
    uint32_t len = lm_units[head].span;
    if (dirty_pages > len * PAGES_PER_UNIT)
        dirty_pages = len * PAGES_PER_UNIT;
    if (!span_lock_enter()) {
        /* Re-entered from a signal handler: queue it for the holder. */
        struct lm_unit *u = &lm_units[head];
        u->dirty = dirty_pages;
        AO_t top;
        do {
            top = lm_load_relaxed(&deferred_frees);
            u->next = (uint32_t)top;
        } while (!lm_cas_full(&deferred_frees, top, head + 1));
        return;
    }
    in_use_units -= len;
    free_locked(head, len, dirty_pages);
    span_lock_leave();
}

bool lm_span_grow(uint32_t head, uint32_t n)
{
    bool ok = false;
    if (!span_lock_enter())
        return false;
    struct lm_unit *h = &lm_units[head];
    uint32_t len = h->span, right = head + len, need = n - len;
    if (n <= len) {
        ok = true;
    } else if (right == bump) {
        if ((uint64_t)bump + need <= unit_count && ensure_committed(bump + need) == 0) {
            bump += need;
            ok = true;
        }
    } else if (right < bump && lm_unit_kind[right] == LM_UNIT_FREE && lm_units[right].span >= need) {
        uint32_t rlen = lm_units[right].span, rdirty = lm_units[right].dirty;
        bin_remove(right);
        uint32_t take = need * PAGES_PER_UNIT;
        if (rlen > need)
            bin_insert(right + need, rlen - need, rdirty > take ? rdirty - take : 0);
        if (rdirty)
            h->dirty = len * PAGES_PER_UNIT + (rdirty < take ? rdirty : take);
        ok = true;
    }
    if (ok && n > len) {
        mark_large(head, len, n);
        h->span = n;
        in_use_units += need;
    }
    span_lock_leave();
    return ok;
}

void lm_span_shrink(uint32_t head, uint32_t n)
{
    if (!span_lock_enter())
        return;             /* keeping the tail is always correct */
    struct lm_unit *h = &lm_units[head];
    uint32_t len = h->span;
    if (n > 0 && n < len) {
        uint32_t keep = n * PAGES_PER_UNIT, dirty = h->dirty;
        h->span = n;
        h->dirty = dirty < keep ? dirty : keep;
        in_use_units -= len - n;
        free_locked(head + n, len - n, dirty > keep ? dirty - keep : 0);
    }
    span_lock_leave();
}

size_t lm_span_purge_all(void)
{
    if (!span_lock_enter())
        return 0;
    size_t before = dirty_total;
    purge_locked(0);
    size_t released = (before - dirty_total) * LM_PAGE_SIZE;
    span_lock_leave();
    return released;
}

void lm_span_stats(struct lm_span_stats *out)
{
    out->reserved = lm_region_size;
    out->committed = (size_t)committed << LM_UNIT_SHIFT;
    out->in_use = in_use_units << LM_UNIT_SHIFT;
    out->free_dirty = dirty_total * LM_PAGE_SIZE;
}

uint32_t lm_span_top(void) { return bump; }

/* ---- internal metadata ---------------------------------------------- */

#define META_CHUNK ((size_t)1 << 20)
static lm_spinlock_t meta_lock = LM_SPINLOCK_INIT;
static char *meta_cur, *meta_end;

void *lm_meta_alloc(size_t size)
{
    size = lm_align_up(size, 64);
    lm_spin_lock(&meta_lock);
    if ((size_t)(meta_end - meta_cur) < size) {
        size_t chunk = size > META_CHUNK ? lm_align_up(size, LM_PAGE_SIZE) : META_CHUNK;
        void *p;
        if (lm_os_map(chunk, &p) != 0) {
            lm_spin_unlock(&meta_lock);
            return NULL;
        }
        meta_cur = p;
        meta_end = meta_cur + chunk;
    }
    void *r = meta_cur;
    meta_cur += size;
    lm_spin_unlock(&meta_lock);
    return r;
}

void lm_span_atfork_prepare(void)
{
    pthread_mutex_lock(&span_lock);
    holds_span_lock = true;
    lm_spin_lock(&meta_lock);
}

void lm_span_atfork_parent(void)
{
    lm_spin_unlock(&meta_lock);
    pthread_mutex_unlock(&span_lock);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    holds_span_lock = false;
}

void lm_span_atfork_child(void)
{
    lm_spin_reset(&meta_lock);
    holds_span_lock = false;
    pthread_mutex_init(&span_lock, NULL);
}
