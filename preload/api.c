/*
 * api.c - the public API (include/leakmark.h: the exported lm_v1_* entry
 * points) and the registry behind it (api.h: root regions, the index of
 * flagged blocks).
 *
 * Slots.  A slot is three words: state = sequence * 4 + FREE/BUSY/READY,
 * key = ~address (complemented: never a pointer into the heap, whoever
 * scans it), len (regions; 0 for blocks).  Life of a slot:
 *   claim    CAS FREE(seq) -> BUSY(seq + 1)     the claimer owns key/len
 *   publish  release store BUSY(s) -> READY(s)  readers may use key/len
 *   remove   CAS READY(s) -> FREE(s)            fails if anyone touched it
 *   reset    BUSY(s) -> FREE(s), in a fork child only: the claimer is a
 *            thread that does not exist there
 * A remover reads key/len after an acquire load of READY(s); if the slot
 * was removed and claimed again meanwhile, the sequence moved on and its
 * CAS fails, so it never removes what it did not match (no ABA).  Fresh
 * slots come from a bump counter (hiwater); once every slot has been used,
 * a search for a FREE one starts at a rotating cursor.
 *
 * The block index and the flag.  lm_api_flag_block writes the flag into
 * the block's record (block.h) with an atomic exchange, then - when the
 * block had no flag before - adds its start address to the index.  The
 * record is the truth; an entry is only a way to find it without walking
 * the heap.  When the index is full, a sweep removes the entries whose
 * block is no longer live or no longer flagged (freed, or freed and
 * reused: malloc zeroed the record).  The sweep runs while the program
 * runs, so its answers may be stale, but only in the safe direction: a
 * live block's liveness bit, its start and its flag do not change until
 * it is freed, so a live flagged block is never swept; and a block flagged
 * again after a sweep looked at it had no flag when that call began, so
 * that call adds an entry of its own.  If a sweep frees less than an
 * eighth of the index, the index gives up for good ("walk"): every flag is
 * still honoured, by the mark reading every live block's record.
 *
 * Readers (lm_api_foreach_*) run with the world stopped or in a snapshot
 * child, and take READY slots only.
 *
 * Locking: none (see api.h).  Every function here but lm_v1_check_now and
 * lm_v1_dump_heap is async-signal-safe: CAS, loads and stores on static
 * memory, lock-free lookups (lookup.c), and lm_log (own formatter,
 * write(2)) for warnings.
 */
#define LEAKMARK_IMPLEMENTATION
#include <leakmark.h>

#include "api.h"
#include "alloc.h"
#include "arena.h"
#include "atomic.h"
#include "dumper.h"
#include "leakcheck.h"
#include "log.h"
#include "options.h"
#include "os.h"
#include "span.h"
#include "threads.h"

#include <errno.h>
#include <stdarg.h>

enum { SLOT_FREE = 0, SLOT_BUSY = 1, SLOT_READY = 2 };
#define SLOT_KIND(s) ((unsigned)((s) & 3u))
#define SLOT_SEQ(s)  ((s) & ~(AO_t)3)
#define SEQ_STEP     ((AO_t)4)

struct slot {
    volatile AO_t state;
    volatile AO_t key;         /* ~address */
    volatile AO_t len;
};

struct table {
    struct slot *slots;
    uint32_t cap;
    volatile AO_t hiwater;     /* slots [0, min(hiwater, cap)) were claimed once */
    volatile AO_t cursor;      /* next search start once hiwater reached cap */
};

static struct slot region_slots[LM_API_REGION_SLOTS];
static struct slot block_slots[LM_API_BLOCK_SLOTS];
static struct table regions = { region_slots, LM_API_REGION_SLOTS, 0, 0 };
static struct table blocks = { block_slots, LM_API_BLOCK_SLOTS, 0, 0 };

enum {
    USED_REGIONS = 1,          /* a region was registered once */
    USED_BLOCKS = 2,           /* a block was flagged once */
    USED_IGNORE = 4,           /* ... with LM_BLOCK_F_IGNORE */
    USED_WALK = 8,             /* the block index gave up: walk the heap */
};
static volatile AO_t used;
static volatile AO_t sweeps;

static void set_used(AO_t bits)
{
    if ((lm_load_relaxed(&used) & bits) != bits)
        __atomic_fetch_or(&used, bits, __ATOMIC_SEQ_CST);
}

static bool is_used(AO_t bit) { return (lm_load_acq(&used) & bit) != 0; }

bool lm_api_regions_used(void) { return is_used(USED_REGIONS); }
bool lm_api_blocks_used(void) { return is_used(USED_BLOCKS); }
bool lm_api_ignore_used(void) { return is_used(USED_IGNORE); }

/* ---- slots ---- */

static uint32_t table_top(const struct table *t)
{
    AO_t h = lm_load_acq((volatile AO_t *)&t->hiwater);
    return h < t->cap ? (uint32_t)h : t->cap;
}

static bool try_claim(struct slot *s)
{
    AO_t st = lm_load_relaxed(&s->state);
    return SLOT_KIND(st) == SLOT_FREE &&
           lm_cas_full(&s->state, st, SLOT_SEQ(st) + SEQ_STEP + SLOT_BUSY);
}

/* A FREE slot made BUSY for the caller, or UINT32_MAX when none is. */
static uint32_t claim(struct table *t)
{
    for (;;) {
        AO_t h = lm_load_relaxed(&t->hiwater);
        if (h >= t->cap)
            break;
        if (lm_cas_full(&t->hiwater, h, h + 1) && try_claim(&t->slots[h]))
            return (uint32_t)h;
    }
    uint32_t start = (uint32_t)(lm_load_relaxed(&t->cursor) % t->cap);
    for (uint32_t k = 0; k < t->cap; k++) {
        uint32_t i = start + k < t->cap ? start + k : start + k - t->cap;
        if (try_claim(&t->slots[i])) {
            lm_store_relaxed(&t->cursor, i + 1);
            return i;
        }
    }
    return UINT32_MAX;
}

static void publish(struct slot *s, uintptr_t addr, size_t len)
{
    lm_store_relaxed(&s->key, ~(AO_t)addr);
    lm_store_relaxed(&s->len, (AO_t)len);
    lm_store_rel(&s->state, SLOT_SEQ(lm_load_relaxed(&s->state)) + SLOT_READY);
}

/* READY(st) -> FREE; false when the slot changed since st was read. */
static bool remove_slot(struct slot *s, AO_t st)
{
    return lm_cas_full(&s->state, st, SLOT_SEQ(st) + SLOT_FREE);
}

static void free_busy(struct table *t)
{
    uint32_t top = table_top(t);
    for (uint32_t i = 0; i < top; i++) {
        AO_t st = lm_load_relaxed(&t->slots[i].state);
        if (SLOT_KIND(st) == SLOT_BUSY)
            lm_store_rel(&t->slots[i].state, SLOT_SEQ(st) + SLOT_FREE);
    }
}

/* ---- warnings ---- */

static void warn(const void *caller, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(const void *caller, const char *fmt, ...)
{
    if (lm_options.verbosity < 1)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    lm_vformat(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lm_log("%s (called from %p)", msg, caller);
}

/* ---- flagged blocks ---- */

unsigned lm_api_block_flags(const struct lm_block_ref *b)
{
    if (b->large)
        return __atomic_load_n(&lm_units[b->unit].block_flags, __ATOMIC_RELAXED);
    const struct lm_arena *a = lm_unit_addr(b->unit);
    return __atomic_load_n(&a->meta[b->index].flags, __ATOMIC_RELAXED);
}

static unsigned exchange_flags(const struct lm_block_ref *b, unsigned flags)
{
    if (b->large)
        return __atomic_exchange_n(&lm_units[b->unit].block_flags, (uint32_t)flags, __ATOMIC_SEQ_CST);
    struct lm_arena *a = lm_unit_addr(b->unit);
    return __atomic_exchange_n(&a->meta[b->index].flags, (uint8_t)flags, __ATOMIC_SEQ_CST);
}

/* The live block starting at `start` still carries a flag. */
static bool entry_valid(uintptr_t start)
{
    struct lm_block_ref b;
    return lm_lookup_block(start, &b) && b.start == start && lm_api_block_flags(&b) != 0;
}

/* Removes index entries that name no flagged block; returns how many. */
static uint32_t sweep_index(void)
{
    uint32_t freed = 0, top = table_top(&blocks);
    for (uint32_t i = 0; i < top; i++) {
        struct slot *s = &blocks.slots[i];
        AO_t st = lm_load_acq(&s->state);
        if (SLOT_KIND(st) != SLOT_READY)
            continue;
        if (!entry_valid((uintptr_t)~lm_load_relaxed(&s->key)) && remove_slot(s, st))
            freed++;
    }
    lm_fetch_add(&sweeps, 1);
    return freed;
}

static void index_add(uintptr_t start)
{
    if (is_used(USED_WALK))
        return;
    uint32_t i = claim(&blocks);
    if (i == UINT32_MAX) {
        uint32_t freed = sweep_index();
        if (freed >= blocks.cap / 8)
            i = claim(&blocks);
        if (i == UINT32_MAX) {
            set_used(USED_WALK);
            if (lm_options.verbosity >= 2)
                lm_log("the index of blocks flagged through the API (%u slots) is full of live "
                       "ones: leak checks now read every block's record to find them", blocks.cap);
            return;
        }
    }
    publish(&blocks.slots[i], start, 0);
}

int lm_api_flag_block(const void *p, unsigned flags, const char *who, const void *caller)
{
    if (!p)
        return 0;
    struct lm_block_ref b;
    if (!lm_lookup_block((uintptr_t)p, &b)) {
        warn(caller, "%s(%p): %s; ignored", who, p,
             lm_in_region(p) ? "no live block there (freed?)" : "not a block allocated by leakmark");
        return EINVAL;
    }
    set_used(USED_BLOCKS | (flags == LM_BLOCK_F_IGNORE ? USED_IGNORE : 0));
    if (exchange_flags(&b, flags) == LM_BLOCK_F_NONE)
        index_add(b.start);
    return 0;
}

struct walk_ctx {
    void (*fn)(const struct lm_block_ref *b, unsigned flags, void *arg);
    void *arg;
};

static void walk_cb(const struct lm_block_ref *b, void *arg)
{
    const struct walk_ctx *w = arg;
    unsigned flags = lm_api_block_flags(b);
    if (flags)
        w->fn(b, flags, w->arg);
}

void lm_api_foreach_flagged(void (*fn)(const struct lm_block_ref *b, unsigned flags, void *arg),
                            void *arg)
{
    if (!is_used(USED_BLOCKS))
        return;
    if (is_used(USED_WALK)) {
        struct walk_ctx w = { fn, arg };
        lm_foreach_live_block(walk_cb, &w);
        return;
    }
    uint32_t top = table_top(&blocks);
    for (uint32_t i = 0; i < top; i++) {
        const struct slot *s = &blocks.slots[i];
        if (SLOT_KIND(lm_load_acq((volatile AO_t *)&s->state)) != SLOT_READY)
            continue;
        uintptr_t start = (uintptr_t)~lm_load_relaxed((volatile AO_t *)&s->key);
        struct lm_block_ref b;
        if (!lm_lookup_block(start, &b) || b.start != start)
            continue;
        unsigned flags = lm_api_block_flags(&b);
        if (flags)
            fn(&b, flags, arg);
    }
}

/* ---- root regions ---- */

static bool overlaps_heap(uintptr_t lo, uintptr_t hi)
{
    return lm_region_size && lo < lm_region_base + lm_region_size && hi > lm_region_base;
}

int lm_api_register_region(const void *addr, size_t len, const void *caller)
{
    uintptr_t lo = (uintptr_t)addr;
    if (len == 0 || lo + len < lo) {
        warn(caller, "lm_register_root(%p, %zu): %s; ignored", addr, len,
             len ? "the range wraps around the address space" : "empty region");
        return EINVAL;
    }
    if (overlaps_heap(lo, lo + len)) {
        warn(caller, "lm_register_root(%p, %zu): inside malloc'ed memory, never a root "
             "(use lm_not_leak on the block); ignored", addr, len);
        return EINVAL;
    }
    uint32_t i = claim(&regions);
    if (i == UINT32_MAX) {
        warn(caller, "lm_register_root(%p, %zu): %u regions registered already; ignored",
             addr, len, regions.cap);
        return ENOSPC;
    }
    set_used(USED_REGIONS);
    publish(&regions.slots[i], lo, len);
    return 0;
}

int lm_api_unregister_region(const void *addr, size_t len, const void *caller)
{
    AO_t key = ~(AO_t)(uintptr_t)addr;
    bool retry = true;
    while (retry) {
        retry = false;
        uint32_t top = table_top(&regions);
        for (uint32_t i = 0; i < top; i++) {
            struct slot *s = &regions.slots[i];
            AO_t st = lm_load_acq(&s->state);
            if (SLOT_KIND(st) != SLOT_READY || lm_load_relaxed(&s->key) != key ||
                lm_load_relaxed(&s->len) != (AO_t)len)
                continue;
            if (remove_slot(s, st))
                return 0;
            retry = true;          /* changed under us: look again */
        }
    }
    warn(caller, "lm_unregister_root(%p, %zu): no such region registered; ignored", addr, len);
    return ENOENT;
}

void lm_api_foreach_region(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg)
{
    if (!is_used(USED_REGIONS))
        return;
    uint32_t top = table_top(&regions);
    for (uint32_t i = 0; i < top; i++) {
        const struct slot *s = &regions.slots[i];
        if (SLOT_KIND(lm_load_acq((volatile AO_t *)&s->state)) != SLOT_READY)
            continue;
        uintptr_t lo = (uintptr_t)~lm_load_relaxed((volatile AO_t *)&s->key);
        fn(lo, lo + (size_t)lm_load_relaxed((volatile AO_t *)&s->len), arg);
    }
}

/* ---- process events and tests ---- */

void lm_api_atfork_child(void)
{
    free_busy(&regions);
    free_busy(&blocks);
}

static void count_table(const struct table *t, uint32_t *ready, uint32_t *busy)
{
    uint32_t top = table_top(t);
    for (uint32_t i = 0; i < top; i++) {
        unsigned k = SLOT_KIND(lm_load_acq((volatile AO_t *)&t->slots[i].state));
        *ready += k == SLOT_READY;
        *busy += k == SLOT_BUSY;
    }
}

void lm_api_stats(struct lm_api_stats *out)
{
    *out = (struct lm_api_stats){ 0 };
    count_table(&regions, &out->regions, &out->busy);
    count_table(&blocks, &out->blocks, &out->busy);
    out->sweeps = (uint32_t)lm_load_relaxed(&sweeps);
    out->walk = is_used(USED_WALK);
}

void lm_api_test_half_register(const void *addr, size_t len)
{
    uint32_t i = claim(&regions);
    if (i == UINT32_MAX)
        return;
    set_used(USED_REGIONS);
    lm_store_relaxed(&regions.slots[i].key, ~(AO_t)(uintptr_t)addr);
    lm_store_relaxed(&regions.slots[i].len, (AO_t)len);
}

static void reset_table(struct table *t)
{
    uint32_t top = table_top(t);
    for (uint32_t i = 0; i < top; i++)
        t->slots[i] = (struct slot){ 0, 0, 0 };
    lm_store_relaxed(&t->hiwater, 0);
    lm_store_relaxed(&t->cursor, 0);
}

void lm_api_reset_for_tests(void)
{
    reset_table(&regions);
    reset_table(&blocks);
    lm_store_relaxed(&used, 0);
    lm_store_relaxed(&sweeps, 0);
}

/* ---- the exported entry points (include/leakmark.h) ---- */

#define SCRUB_MAX (256u * 1024u)

/* A check or a dump leaves copies of block addresses in the dead stack
 * below the caller's frame (the mark's locals, the report's).  The
 * program's next calls reuse that memory without initialising all of it,
 * so the next check would find those copies in live frames and take
 * leaked blocks for reachable ones.  Zero up to SCRUB_MAX below this
 * frame, within the stack mapping (which the call just used that deep),
 * keeping two pages from its lower end. */
static LM_NOINLINE void scrub_stack(void)
{
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0), lo, hi;
    if (lm_threads_find_mapping(sp, &lo, &hi) != 0 || sp - lo <= 3 * LM_PAGE_SIZE)
        return;
    size_t n = sp - lo - 3 * LM_PAGE_SIZE;
    if (n > SCRUB_MAX)
        n = SCRUB_MAX;
    char *below = __builtin_alloca(n);
    __builtin_memset(below, 0, n);
    __asm__ volatile("" : : "r"(below) : "memory");
}

LM_EXPORT int lm_v1_is_active(void) { return lm_init() ? 1 : 0; }

LM_EXPORT long lm_v1_check_now(void)
{
    long leaked = lm_leakcheck_run("api");
    scrub_stack();
    return leaked;
}

LM_EXPORT int lm_v1_dump_heap(void)
{
    if (!lm_init())
        return ENOMEM;
    int err = lm_dump_now(LM_DUMP_TRIGGER_API);
    scrub_stack();
    return err;
}

LM_EXPORT int lm_v1_not_leak(const void *p)
{
    const void *caller = __builtin_return_address(0);
    return lm_init() ? lm_api_flag_block(p, LM_BLOCK_F_NOT_LEAK, "lm_not_leak", caller) : ENOMEM;
}

LM_EXPORT int lm_v1_ignore(const void *p)
{
    const void *caller = __builtin_return_address(0);
    return lm_init() ? lm_api_flag_block(p, LM_BLOCK_F_IGNORE, "lm_ignore", caller) : ENOMEM;
}

LM_EXPORT int lm_v1_register_root(const void *addr, size_t len)
{
    const void *caller = __builtin_return_address(0);
    return lm_init() ? lm_api_register_region(addr, len, caller) : ENOMEM;
}

LM_EXPORT int lm_v1_unregister_root(const void *addr, size_t len)
{
    const void *caller = __builtin_return_address(0);
    return lm_init() ? lm_api_unregister_region(addr, len, caller) : ENOMEM;
}
