/*
 * stackdepot.c - owns the stack depot: every distinct call stack stored
 * once, in mmap'd chunks, found through a fixed hash table of chains
 * (the kernel's lib/stackdepot.c and sanitizer_common's StackDepot).
 *
 * Layout
 *   records  appended to 4 MiB chunks (lm_os_map) by a bump cursor; a
 *            record is {next id, hash, n, tag} + n pcs and never changes
 *            after it is published.  An id names a record's place:
 *            id = chunk << 19 | offset / 8, so lm_stackdepot_get is two
 *            loads.  Chunk 0 starts at offset 16: no record has id 0.
 *   table    2^18 chain heads (uint32 ids, 1 MiB, mapped on first put):
 *            load factor 1 at 262k stacks; chains just get longer after
 *            that (no rehash, no stall).
 *
 * Notes on locking: there are no locks.
 *   - cursor: one word (chunk << 32 | offset), advanced by CAS only, never
 *     goes back (no ABA).  A thread that finds the current chunk full
 *     CASes it to the start of the next one; a thread that finds a chunk
 *     unmapped maps one and CASes it into chunks[] (the loser unmaps).
 *   - insert: the record is filled in, then CASed (release) onto its
 *     chain head.  If the head moved, only the new part of the chain is
 *     searched for the same stack before retrying; if found, the new
 *     record is abandoned (counted in races_lost) and the winner's id
 *     returned, so one stack has one id.
 *   - readers load heads and chunk pointers with acquire and read records
 *     without any synchronisation (they are immutable once reachable).
 * Hence every entry point is async-signal-safe (a handler that interrupts
 * an insert on the same thread completes its own operation; the
 * interrupted CAS then fails and retries) and fork-safe (an insert cut
 * short by fork in another thread only leaves unreachable bytes).
 */
#include "stackdepot.h"
#include "alloc.h"
#include "heap.h"
#include "backtrace.h"
#include "internal.h"
#include "os.h"

#include <atomic_ops.h>

#define CHUNK_SHIFT  22                        /* 4 MiB */
#define OFF_BITS     (CHUNK_SHIFT - 3)         /* id bits for offset / 8 */
#define MAX_CHUNKS   ((size_t)1 << (32 - OFF_BITS))
#define FIRST_OFFSET 16
#define TABLE_LOG    18
#define TABLE_SIZE   ((size_t)1 << TABLE_LOG)
#define REC_TAG      0x5dc7u

_Static_assert(LM_STACKDEPOT_CHUNK_SIZE == (size_t)1 << CHUNK_SHIFT, "chunk size");
_Static_assert(LM_STACKDEPOT_MAX_FRAMES < 65536, "n is 16 bits");

struct rec {
    uint32_t next;        /* id of the next record on the chain, 0 = end */
    uint32_t hash;
    uint16_t n;
    uint16_t tag;         /* REC_TAG: cheap check of ids given to get() */
    uint32_t pad;
    uintptr_t pcs[];
};

static volatile AO_t cursor = FIRST_OFFSET;      /* chunk << 32 | offset */
static volatile AO_t chunks[MAX_CHUNKS];         /* 64 KiB of .bss */
static volatile AO_t table;                      /* unsigned[TABLE_SIZE] */

static volatile AO_t st_stacks, st_frames, st_used, st_mapped, st_races;

static uint32_t hash_stack(const uintptr_t *pcs, int n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n;
    for (int i = 0; i < n; i++) {
        h ^= (uint64_t)pcs[i];
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return (uint32_t)(h >> 32);
}

static struct rec *rec_of(uint32_t id)
{
    size_t c = id >> OFF_BITS, off = (size_t)(id & ((1u << OFF_BITS) - 1)) << 3;
    char *base = (char *)AO_load_acquire(&chunks[c]);
    if (!base || off < (c == 0 ? FIRST_OFFSET : 0) ||
        off + sizeof(struct rec) > LM_STACKDEPOT_CHUNK_SIZE)
        return NULL;
    return (struct rec *)(base + off);
}

static volatile unsigned *get_table(void)
{
    volatile unsigned *t = (volatile unsigned *)AO_load_acquire(&table);
    if (lm_likely(t != NULL))
        return t;
    void *p;
    if (lm_os_map(TABLE_SIZE * sizeof(unsigned), &p))
        return NULL;
    if (AO_compare_and_swap_full(&table, 0, (AO_t)p)) {
        AO_fetch_and_add(&st_mapped, TABLE_SIZE * sizeof(unsigned));
        return p;
    }
    lm_os_unmap(p, TABLE_SIZE * sizeof(unsigned));
    return (volatile unsigned *)AO_load_acquire(&table);
}

static char *map_chunk(size_t c)
{
    void *p;
    if (lm_os_map(LM_STACKDEPOT_CHUNK_SIZE, &p))
        return NULL;
    if (AO_compare_and_swap_full(&chunks[c], 0, (AO_t)p)) {
        AO_fetch_and_add(&st_mapped, LM_STACKDEPOT_CHUNK_SIZE);
        return p;
    }
    lm_os_unmap(p, LM_STACKDEPOT_CHUNK_SIZE);
    return (char *)AO_load_acquire(&chunks[c]);
}

/* Reserves `size` bytes (a multiple of 8) of record space. */
static struct rec *rec_alloc(size_t size, uint32_t *id)
{
    for (;;) {
        AO_t cur = AO_load_acquire(&cursor);
        size_t c = cur >> 32, off = cur & 0xffffffffu;
        if (c >= MAX_CHUNKS)
            return NULL;                          /* 32 GiB of stacks */
        char *base = (char *)AO_load_acquire(&chunks[c]);
        if (!base && !(base = map_chunk(c)))
            return NULL;
        if (off + size <= LM_STACKDEPOT_CHUNK_SIZE) {
            if (AO_compare_and_swap_full(&cursor, cur, cur + size)) {
                AO_fetch_and_add(&st_used, size);
                *id = (uint32_t)(c << OFF_BITS | off >> 3);
                return (struct rec *)(base + off);
            }
        } else {
            /* The tail of chunk c stays unused. */
            AO_compare_and_swap_full(&cursor, cur, (AO_t)(c + 1) << 32);
        }
    }
}

static bool same(const struct rec *r, uint32_t h, const uintptr_t *pcs, int n)
{
    if (r->hash != h || r->n != n)
        return false;
    for (int i = 0; i < n; i++)
        if (r->pcs[i] != pcs[i])
            return false;
    return true;
}

/* Walks the chain from `id` until `stop` (exclusive) or its end. */
static uint32_t find(uint32_t id, uint32_t stop, uint32_t h, const uintptr_t *pcs, int n)
{
    while (id != 0 && id != stop) {
        const struct rec *r = rec_of(id);
        if (!r)
            return 0;                             /* cannot happen */
        if (same(r, h, pcs, n))
            return id;
        id = r->next;
    }
    return 0;
}

uint32_t lm_stackdepot_put(const uintptr_t *pcs, int n)
{
    if (n <= 0 || !pcs)
        return 0;
    if (n > LM_STACKDEPOT_MAX_FRAMES)
        n = LM_STACKDEPOT_MAX_FRAMES;
    volatile unsigned *t = get_table();
    if (!t)
        return 0;
    uint32_t h = hash_stack(pcs, n);
    volatile unsigned *head = &t[h & (TABLE_SIZE - 1)];

    uint32_t first = AO_int_load_acquire(head);
    uint32_t id = find(first, 0, h, pcs, n);
    if (id)
        return id;

    uint32_t new_id;
    struct rec *r = rec_alloc(sizeof(struct rec) + (size_t)n * sizeof(uintptr_t), &new_id);
    if (!r)
        return 0;
    r->hash = h;
    r->n = (uint16_t)n;
    r->tag = REC_TAG;
    r->pad = 0;
    for (int i = 0; i < n; i++)
        r->pcs[i] = pcs[i];

    for (;;) {
        r->next = first;
        unsigned seen = AO_int_fetch_compare_and_swap_release(head, first, new_id);
        if (seen == first)
            break;
        /* Someone pushed onto this chain: did they add our stack? */
        if ((id = find(seen, first, h, pcs, n)) != 0) {
            AO_fetch_and_add1(&st_races);
            return id;
        }
        first = seen;
    }
    AO_fetch_and_add1(&st_stacks);
    AO_fetch_and_add(&st_frames, (AO_t)n);
    return new_id;
}

int lm_stackdepot_get(uint32_t id, const uintptr_t **pcs)
{
    const struct rec *r = id ? rec_of(id) : NULL;
    if (!r || r->tag != REC_TAG || r->n == 0 || r->n > LM_STACKDEPOT_MAX_FRAMES) {
        *pcs = NULL;
        return 0;
    }
    *pcs = r->pcs;
    return r->n;
}

void lm_stackdepot_foreach(lm_stackdepot_fn fn, void *arg)
{
    volatile unsigned *t = (volatile unsigned *)AO_load_acquire(&table);
    if (!t)
        return;
    for (size_t b = 0; b < TABLE_SIZE; b++) {
        for (uint32_t id = AO_int_load_acquire(&t[b]); id != 0;) {
            const struct rec *r = rec_of(id);
            if (!r)
                break;
            fn(id, r->pcs, r->n, arg);
            id = r->next;
        }
    }
}

void lm_stackdepot_get_stats(struct lm_stackdepot_stats *out)
{
    out->stacks = AO_load(&st_stacks);
    out->frames = AO_load(&st_frames);
    out->bytes_used = AO_load(&st_used);
    out->bytes_mapped = AO_load(&st_mapped);
    out->races_lost = AO_load(&st_races);
}

void lm_stackdepot_atfork_prepare(void) {}
void lm_stackdepot_atfork_parent(void) {}
void lm_stackdepot_atfork_child(void) {}

/* The last stack this thread captured and its id.  A loop that allocates
 * from one place captures the same stack again and again: comparing with
 * it (in L1) skips the hash and the chain walk in the table, a cache miss
 * once the depot is large.  `busy` is set while this thread reads or
 * writes the entry, so that a signal handler capturing in between goes
 * straight to the depot and never sees or leaves a half-written entry (a
 * handler that runs before busy is set completes its own use first). */
struct last_stack {
    uint32_t busy, id;
    int n;
    uintptr_t pcs[LM_BT_MAX_FRAMES];
};
static __thread __attribute__((tls_model("initial-exec"))) struct last_stack last_stack;

static bool same_pcs(const uintptr_t *a, const uintptr_t *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* Interns through the last-stack entry (see struct last_stack). */
static uint32_t intern_via_last_stack(const uintptr_t *pcs, int n)
{
    struct last_stack *c = &last_stack;
    if (c->busy)
        return lm_stackdepot_put(pcs, n);
    c->busy = 1;
    __asm__ __volatile__("" ::: "memory");
    uint32_t id;
    if (c->id && c->n == n && same_pcs(pcs, c->pcs, n)) {
        id = c->id;
    } else {
        id = lm_stackdepot_put(pcs, n);
        c->id = 0;
        if (id) {
            for (int i = 0; i < n; i++)
                c->pcs[i] = pcs[i];
            c->n = n;
            c->id = id;
        }
    }
    __asm__ __volatile__("" ::: "memory");
    c->busy = 0;
    return id;
}

LM_NOINLINE uint32_t lm_stack_capture(int skip, int depth)
{
    if (depth > LM_BT_MAX_FRAMES)
        depth = LM_BT_MAX_FRAMES;
    /* A thread's first request: set the thread up now rather than in the
     * allocation that follows, so that the walker knows its stack and has
     * its cache from the first capture on (else libunwind takes it, and
     * its first use costs a dl_iterate_phdr over every object with the
     * signal mask saved and restored for each). */
    if (lm_unlikely(lm_tls_heap == &lm_empty_heap) && lm_init())
        lm_heap_thread_start();
    uint32_t id = lm_backtrace_id(depth, skip + 1, intern_via_last_stack);   /* + our own frame */
    __asm__ __volatile__("" ::: "memory");        /* no tail call */
    return id;
}
