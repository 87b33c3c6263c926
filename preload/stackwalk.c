/*
 * stackwalk.c - owns the fast stack walk, the process-wide rule table and
 * the per-thread memos.
 *
 * Why our own walk: libunwind's unw_backtrace costs about 10 ns per frame
 * here (bench_backtrace), which made stack capture half of the time of a
 * small-block churn (perf: 45-50% of wl_small).  The rules themselves are
 * the program's .eh_frame, read once per code address by cfi.c; a walk is
 * then a cache lookup and two loads per frame.
 *
 * Rule table: LM_UNWIND_SLOTS slots of (code address, packed rule, check)
 * for the whole process (cc1 alone walks through ~7000 code addresses; per
 * thread tables would cost that much memory in every thread), hashed with a
 * short linear probe; a full probe window evicts the home slot.  Written
 * without locks: a slot counts only when its check word matches its pc,
 * its rule and the current generation, so torn writes and rules from
 * before a dlclose read as misses and are recomputed.
 *
 * Per thread (one struct rule_cache per heap, so recycled with the heap
 * when a thread exits; mmap'd on the thread's first walk): statistics and
 * the memo, emptied when the generation moves.
 *
 * Memo: LM_UNWIND_MEMO remembered walks, 4-way set associative by the
 * start (ip, sp), replaced round robin, each with the id its frames were
 * interned under and its proof (stackwalk.h): the words that steered it.  A walk is a function of
 * its start state, the rules (fixed within a generation) and the words it
 * reads, whose addresses follow from earlier words; so when the start and
 * every proof word are unchanged, walking again would read the same
 * addresses, get the same values and return the same frames.  Checking a
 * proof is a few independent loads from the (hot) stack instead of a
 * dependent chain of lookups per frame.  Saved rbp values that no later
 * CFA used are left out of the proof (in code without frame pointers rbp
 * is an ordinary register whose value changes from call to call).
 *
 * Safety: every load from the stack is of an address in
 * [lm_tls_stack_lo, lm_tls_stack_hi - 8], the CFA must rise strictly from
 * frame to frame (the walk ends), and a frame with no usable rule makes the
 * whole walk return -1 so that results never mix two unwinders.  A
 * thread's memo is only touched by that thread, with the caller's nesting
 * guard set.
 */
#include "stackwalk.h"

#include "cfi.h"
#include "heap.h"
#include "os.h"
#include "threads.h"

#include <atomic_ops.h>
#include <string.h>

#define LM_UNWIND_SLOTS 16384u
#define LM_UNWIND_MEMO_SETS 16u
#define LM_UNWIND_MEMO_WAYS 4u
#define LM_UNWIND_MEMO (LM_UNWIND_MEMO_SETS * LM_UNWIND_MEMO_WAYS)
#define PROBE 4u

/* Packed rule flags */
#define F_NORMAL    0x1u
#define F_OUTERMOST 0x2u
#define F_CFA_RBP   0x4u
#define F_RBP_SAVED 0x8u
#define F_NO_FDE    0x10u

/* A rule in one word: flags (bits 0-7, 0: no usable rule), ra_off / 8
 * (8-15, signed), rbp_off (16-31, signed), cfa_off (32-63). */
#define R_FLAGS(r)   ((unsigned)((r) & 0xff))
#define R_RA_OFF(r)  ((intptr_t)(int8_t)((r) >> 8) * 8)
#define R_RBP_OFF(r) ((intptr_t)(int16_t)((r) >> 16))
#define R_CFA_OFF(r) ((uintptr_t)(uint32_t)((r) >> 32))

/* One slot of the process-wide rule table.  Threads write slots without
 * locks, word by word; a reader accepts a slot only if `check` matches
 * (pc, rule) and the current generation, so a torn slot (two writers, or a
 * read during a write) or one from before a dlclose reads as a miss. */
struct slot {
    volatile uint64_t pc, rule, check;
};
#define CHECK_MUL 0x9e3779b97f4a7c15ull
#define SALT_MUL  0xc2b2ae3d27d4eb4full

struct memo {
    uint32_t id;            /* 0: empty */
    struct lm_walk_proof proof;
};

struct rule_cache {
    uint64_t generation;
    struct lm_unwind_stats stats;
    struct memo memo[LM_UNWIND_MEMO];
    uint8_t memo_next[LM_UNWIND_MEMO_SETS];   /* next way to replace, per set */
};

static volatile AO_t generation = 1;
static struct slot *volatile rule_table;     /* LM_UNWIND_SLOTS, mapped once */

static struct slot *rule_table_get(void)
{
    struct slot *t = rule_table;
    if (lm_likely(t != NULL))
        return t;
    void *mem;
    if (lm_os_map(sizeof(struct slot) * LM_UNWIND_SLOTS, &mem) != 0)
        return NULL;
    if (!AO_compare_and_swap_full((volatile AO_t *)&rule_table, 0, (AO_t)mem)) {
        lm_os_unmap(mem, sizeof(struct slot) * LM_UNWIND_SLOTS);
        return rule_table;
    }
    return mem;
}

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
        for (unsigned i = 0; i < LM_UNWIND_MEMO; i++)
            c->memo[i].id = 0;
        c->generation = g;
        c->stats.flushes++;
    }
    return c;
}

static inline unsigned home_of(uintptr_t pc)
{
    return (unsigned)((pc * 0x9e3779b97f4a7c15ull) >> 32) & (LM_UNWIND_SLOTS - 1);
}

static uint64_t pack(const struct lm_cfi_rule *r)
{
    if (r->kind == LM_CFI_OUTERMOST)
        return F_OUTERMOST;
    if (r->kind == LM_CFI_NO_FDE)
        return F_NO_FDE;
    if (r->kind != LM_CFI_NORMAL || r->ra_off % 8 != 0 || r->ra_off < -1024 ||
        r->rbp_off < INT16_MIN || r->cfa_off < 0)
        return 0;
    unsigned flags = F_NORMAL | (r->cfa_base == LM_CFI_RBP ? F_CFA_RBP : 0) | (r->rbp_saved ? F_RBP_SAVED : 0);
    return (uint64_t)flags | (uint64_t)(uint8_t)(int8_t)(r->ra_off / 8) << 8 |
           (uint64_t)(uint16_t)(int16_t)r->rbp_off << 16 | (uint64_t)(uint32_t)r->cfa_off << 32;
}

/* The packed rule for the code at pc (a return address minus one). */
static uint64_t rule_of(struct rule_cache *c, struct slot *tab, uint64_t salt, uintptr_t pc)
{
    unsigned home = home_of(pc);
    struct slot *victim = &tab[home];
    for (unsigned i = 0; i < PROBE; i++) {
        struct slot *e = &tab[(home + i) & (LM_UNWIND_SLOTS - 1)];
        uint64_t epc = e->pc;
        if (lm_likely(epc == pc)) {
            uint64_t r = e->rule;
            if (lm_likely(e->check == (pc ^ (r * CHECK_MUL) ^ salt))) {
                c->stats.hits++;
                return r;
            }
            victim = e;                  /* torn, or from an older generation */
            goto fill;
        }
        if (epc == 0) {
            victim = e;
            goto fill;
        }
    }
    c->stats.evictions++;
fill:
    c->stats.misses++;
    struct lm_cfi_rule cr;
    lm_cfi_rule_for(pc, &cr);
    uint64_t r = pack(&cr);
    victim->pc = pc;
    victim->rule = r;
    victim->check = pc ^ (r * CHECK_MUL) ^ salt;
    return r;
}

/* Tentative reads a proof can hold while walking (saved-rbp reads that
 * turn out not to matter are dropped at the end). */
#define PROOF_TENTATIVE 64

int lm_unwind_walk(uintptr_t *pcs, int max, int skip, uintptr_t ip, uintptr_t sp, uintptr_t rbp,
                   struct lm_walk_proof *proof)
{
    uintptr_t lo = lm_tls_stack_lo, hi = lm_tls_stack_hi;
    if (lm_unlikely(sp < lo || sp >= hi))
        return -1;                   /* unregistered, or on another stack */
    struct rule_cache *c = cache_get();
    struct slot *tab = rule_table_get();
    if (lm_unlikely(!c || !tab))
        return -1;
    uint64_t salt = (uint64_t)c->generation * SALT_MUL;

    /* Every word read, and whether the walk's course depended on it:
     * return addresses always; a saved rbp only once a later frame's CFA
     * is computed from it (rbp_src: which read rbp came from, -1: the
     * start state). */
    uintptr_t t_addr[PROOF_TENTATIVE], t_value[PROOF_TENTATIVE];
    uint64_t needed = 0;
    int nt = 0, rbp_src = -1;
    bool rbp0_needed = false, overflow = false;

    c->stats.walks++;
    uintptr_t ip0 = ip, sp0 = sp, rbp0 = rbp;
    int n = 0;
    for (int frame = 0; n < max; frame++) {
        if (ip == 0)
            break;
        if (frame >= skip)
            pcs[n++] = ip;
        if (n == max)
            break;
        uint64_t rule = rule_of(c, tab, salt, ip - 1);
        unsigned flags = R_FLAGS(rule);
        if (flags & F_OUTERMOST)
            break;
        if (lm_unlikely(flags & F_NO_FDE)) {
            /* Code without unwind information: libunwind then follows
             * rbp, and ends the walk when rbp is 0, as entry code leaves
             * it (ld.so's _dl_start_user while constructors run).  That
             * case ends here too; any other goes to libunwind. */
            if (rbp_src < 0)
                rbp0_needed = true;
            else
                needed |= 1ull << rbp_src;
            if (rbp == 0)
                break;
            goto decline;
        }
        if (lm_unlikely(!(flags & F_NORMAL)))
            goto decline;
        uintptr_t base = sp;
        if (flags & F_CFA_RBP) {
            base = rbp;
            if (rbp_src < 0)
                rbp0_needed = true;
            else
                needed |= 1ull << rbp_src;
        }
        uintptr_t cfa = base + R_CFA_OFF(rule);
        uintptr_t ra_at = cfa + R_RA_OFF(rule);
        if (lm_unlikely(cfa <= sp || cfa > hi || ra_at < sp || ra_at > hi - sizeof(uintptr_t)))
            goto decline;
        if (flags & F_RBP_SAVED) {
            uintptr_t rbp_at = cfa + R_RBP_OFF(rule);
            if (lm_unlikely(rbp_at < sp || rbp_at > hi - sizeof(uintptr_t)))
                goto decline;
            rbp = *(const uintptr_t *)rbp_at;
            if (proof && nt < PROOF_TENTATIVE) {
                t_addr[nt] = rbp_at, t_value[nt] = rbp;
                rbp_src = nt++;
            } else {
                overflow = true;
            }
        }
        ip = *(const uintptr_t *)ra_at;
        sp = cfa;
        if (proof && nt < PROOF_TENTATIVE) {
            t_addr[nt] = ra_at, t_value[nt] = ip;
            needed |= 1ull << nt++;
        } else {
            overflow = true;
        }
    }
    if (proof) {
        proof->valid = false;
        if (!overflow) {
            unsigned k = 0;
            for (int i = 0; i < nt && k <= LM_WALK_PROOF_READS; i++) {
                if (!(needed & (1ull << i)))
                    continue;
                if (k < LM_WALK_PROOF_READS)
                    proof->addr[k] = t_addr[i], proof->value[k] = t_value[i];
                k++;
            }
            if (k <= LM_WALK_PROOF_READS) {
                proof->ip0 = ip0, proof->sp0 = sp0, proof->rbp0 = rbp0;
                proof->hi = hi;
                proof->rbp0_needed = rbp0_needed;
                proof->nreads = (uint8_t)k;
                proof->max = (uint8_t)max, proof->skip = (uint8_t)skip;
                proof->valid = true;
            }
        }
    }
    return n;
decline:
    c->stats.declined++;
    return -1;
}

/* ---- memo: walks known to repeat ------------------------------------- */

static inline unsigned memo_set(uintptr_t ip0, uintptr_t sp0)
{
    return (unsigned)(((ip0 ^ (sp0 * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull) >> 58) &
           (LM_UNWIND_MEMO_SETS - 1);
}

static inline bool proof_holds(const struct memo *m, uintptr_t ip0, uintptr_t sp0, uintptr_t rbp0,
                               int max, int skip)
{
    const struct lm_walk_proof *p = &m->proof;
    if (m->id == 0 || p->ip0 != ip0 || p->sp0 != sp0 || p->max != max || p->skip != skip ||
        p->hi != lm_tls_stack_hi || (p->rbp0_needed && p->rbp0 != rbp0))
        return false;
    /* Every address is in [sp0, hi) of this very stack (checked when the
     * walk read it, and sp0 and hi are the same now). */
    uintptr_t diff = 0;
    for (unsigned i = 0; i < p->nreads; i++)
        diff |= *(const volatile uintptr_t *)p->addr[i] ^ p->value[i];
    return diff == 0;
}

uint32_t lm_unwind_memo_find(uintptr_t ip0, uintptr_t sp0, uintptr_t rbp0, int max, int skip)
{
    struct lm_heap *h = lm_tls_heap;
    struct rule_cache *c = h->unwind_cache;     /* NULL for the empty and dead heaps */
    if (lm_unlikely(!c) || lm_unlikely(c->generation != AO_load(&generation)))
        return 0;
    const struct memo *set = &c->memo[memo_set(ip0, sp0) * LM_UNWIND_MEMO_WAYS];
    for (unsigned w = 0; w < LM_UNWIND_MEMO_WAYS; w++) {
        if (proof_holds(&set[w], ip0, sp0, rbp0, max, skip)) {
            c->stats.memo_hits++;
            return set[w].id;
        }
    }
    c->stats.memo_misses++;
    return 0;
}

void lm_unwind_memo_keep(const struct lm_walk_proof *proof, uint32_t id)
{
    struct lm_heap *h = lm_tls_heap;
    struct rule_cache *c = h->unwind_cache;
    if (!c || !proof->valid || c->generation != AO_load(&generation))
        return;
    unsigned s = memo_set(proof->ip0, proof->sp0);
    /* Round robin within the set: walks that alternate at one start
     * (two malloc calls in one loop body) each keep a way. */
    unsigned w = c->memo_next[s]++ % LM_UNWIND_MEMO_WAYS;
    struct memo *m = &c->memo[s * LM_UNWIND_MEMO_WAYS + w];
    m->id = 0;
    m->proof.ip0 = proof->ip0, m->proof.sp0 = proof->sp0, m->proof.rbp0 = proof->rbp0;
    m->proof.hi = proof->hi;
    m->proof.rbp0_needed = proof->rbp0_needed;
    m->proof.max = proof->max, m->proof.skip = proof->skip;
    m->proof.nreads = proof->nreads;
    for (unsigned i = 0; i < proof->nreads; i++)
        m->proof.addr[i] = proof->addr[i], m->proof.value[i] = proof->value[i];
    m->id = id;
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
