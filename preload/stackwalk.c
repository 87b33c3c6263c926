/*
 * stackwalk.c - owns the fast stack walk and its per-thread rule caches.
 *
 * Why our own walk: libunwind's unw_backtrace costs about 10 ns per frame
 * here (bench_backtrace), which made stack capture half of the time of a
 * small-block churn (perf: 45-50% of wl_small).  The rules themselves are
 * the program's .eh_frame, read once per code address by cfi.c; a walk is
 * then a cache lookup and two loads per frame.
 *
 * Cache: LM_UNWIND_SLOTS entries of (code address, packed rule), direct
 * mapped by a multiplicative hash with a short linear probe; a full probe
 * window evicts the home slot.  One cache per heap (so per thread, and
 * recycled with the heap when the thread exits); mmap'd on the thread's
 * first walk.  `generation` is compared with the global one on each walk;
 * after a dlclose the cache is emptied.
 *
 * Safety: every load from the stack is of an address in
 * [lm_tls_stack_lo, lm_tls_stack_hi - 8], the CFA must rise strictly from
 * frame to frame (the walk ends), and a frame with no usable rule makes the
 * whole walk return -1 so that results never mix two unwinders.  The cache
 * is only touched by its owner thread, with the caller's nesting guard set.
 */
#include "stackwalk.h"

#include "cfi.h"
#include "heap.h"
#include "os.h"
#include "threads.h"

#include <atomic_ops.h>
#include <string.h>

#define LM_UNWIND_SLOTS 2048u
#define PROBE 4u

/* Packed rule flags */
#define F_NORMAL    0x1u
#define F_OUTERMOST 0x2u
#define F_CFA_RBP   0x4u
#define F_RBP_SAVED 0x8u

struct entry {
    uintptr_t pc;           /* 0: empty */
    uint32_t cfa_off;
    int16_t rbp_off;
    int8_t ra_off8;         /* ra_off / 8 */
    uint8_t flags;          /* 0 with pc set: no usable rule */
};

struct rule_cache {
    uint64_t generation;
    struct lm_unwind_stats stats;
    struct entry slot[LM_UNWIND_SLOTS];
};

static volatile AO_t generation = 1;

void lm_unwind_forget(void) { AO_fetch_and_add1_full(&generation); }

static struct rule_cache *cache_get(void)
{
    struct lm_heap *h = lm_tls_heap;
    if (lm_unlikely(h == &lm_empty_heap || h == &lm_dead_heap))
        return NULL;
    struct rule_cache *c = h->unwind_cache;
    if (lm_unlikely(!c)) {
        void *mem;
        if (lm_os_map(sizeof *c, &mem) != 0)
            return NULL;
        c = mem;
        c->generation = AO_load(&generation);
        h->unwind_cache = c;
    }
    uint64_t g = AO_load(&generation);
    if (lm_unlikely(c->generation != g)) {
        memset(c->slot, 0, sizeof c->slot);
        c->generation = g;
        c->stats.flushes++;
    }
    return c;
}

static inline unsigned home_of(uintptr_t pc)
{
    return (unsigned)((pc * 0x9e3779b97f4a7c15ull) >> 53) & (LM_UNWIND_SLOTS - 1);
}

static void pack(struct entry *e, uintptr_t pc, const struct lm_cfi_rule *r)
{
    e->pc = pc;
    e->flags = 0;
    if (r->kind == LM_CFI_OUTERMOST) {
        e->flags = F_OUTERMOST;
        return;
    }
    if (r->kind != LM_CFI_NORMAL || r->ra_off % 8 != 0 || r->ra_off < -1024 ||
        r->rbp_off < INT16_MIN || r->cfa_off < 0)
        return;
    e->cfa_off = (uint32_t)r->cfa_off;
    e->ra_off8 = (int8_t)(r->ra_off / 8);
    e->rbp_off = (int16_t)r->rbp_off;
    e->flags = F_NORMAL | (r->cfa_base == LM_CFI_RBP ? F_CFA_RBP : 0) | (r->rbp_saved ? F_RBP_SAVED : 0);
}

/* The rule for the code at pc (a return address minus one). */
static const struct entry *rule_of(struct rule_cache *c, uintptr_t pc)
{
    unsigned home = home_of(pc);
    for (unsigned i = 0; i < PROBE; i++) {
        struct entry *e = &c->slot[(home + i) & (LM_UNWIND_SLOTS - 1)];
        if (lm_likely(e->pc == pc)) {
            c->stats.hits++;
            return e;
        }
        if (e->pc == 0)
            goto fill;
    }
    c->stats.evictions++;
    struct entry *e;
fill:
    c->stats.misses++;
    e = &c->slot[home];
    for (unsigned i = 0; i < PROBE; i++) {
        struct entry *f = &c->slot[(home + i) & (LM_UNWIND_SLOTS - 1)];
        if (f->pc == 0) {
            e = f;
            break;
        }
    }
    struct lm_cfi_rule r;
    lm_cfi_rule_for(pc, &r);
    pack(e, pc, &r);
    return e;
}

int lm_unwind_walk(uintptr_t *pcs, int max, int skip, uintptr_t ip, uintptr_t sp, uintptr_t rbp)
{
    uintptr_t lo = lm_tls_stack_lo, hi = lm_tls_stack_hi;
    if (lm_unlikely(sp < lo || sp >= hi))
        return -1;                   /* unregistered, or on another stack */
    struct rule_cache *c = cache_get();
    if (lm_unlikely(!c))
        return -1;

    c->stats.walks++;
    int n = 0;
    for (int frame = 0; n < max; frame++) {
        if (ip == 0)
            break;
        if (frame >= skip)
            pcs[n++] = ip;
        if (n == max)
            break;
        const struct entry *e = rule_of(c, ip - 1);
        unsigned flags = e->flags;
        if (flags & F_OUTERMOST)
            break;
        if (lm_unlikely(!(flags & F_NORMAL)))
            goto decline;
        uintptr_t cfa = ((flags & F_CFA_RBP) ? rbp : sp) + e->cfa_off;
        uintptr_t ra_at = cfa + (intptr_t)e->ra_off8 * 8;
        if (lm_unlikely(cfa <= sp || cfa > hi || ra_at < sp || ra_at > hi - sizeof(uintptr_t)))
            goto decline;
        if (flags & F_RBP_SAVED) {
            uintptr_t rbp_at = cfa + (intptr_t)e->rbp_off;
            if (lm_unlikely(rbp_at < sp || rbp_at > hi - sizeof(uintptr_t)))
                goto decline;
            rbp = *(const uintptr_t *)rbp_at;
        }
        ip = *(const uintptr_t *)ra_at;
        sp = cfa;
    }
    return n;
decline:
    c->stats.declined++;
    return -1;
}

void lm_unwind_thread_stats(struct lm_unwind_stats *out)
{
    struct lm_heap *h = lm_tls_heap;
    struct rule_cache *c = (h == &lm_empty_heap || h == &lm_dead_heap) ? NULL : h->unwind_cache;
    if (c)
        *out = c->stats;
    else
        memset(out, 0, sizeof *out);
}
