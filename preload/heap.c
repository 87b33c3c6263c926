/*
 * heap.c - per-thread heaps and the small-block slow paths (see heap.h).
 *
 * Arena lists of a heap, per class:
 *   avail  arenas that may still have blocks (free, local_free, thread_free
 *          or not yet carved); bins[cls] is the one being allocated from.
 *   full   arenas with every block out.  Parking one sets the FULL flag in
 *          its thread_free word with a CAS from 0; a remote free that finds
 *          the flag clears it in the same CAS that pushes its block, and
 *          then pushes the arena onto the owner's `delayed` stack.  The
 *          owner moves delayed arenas back to avail at its next refill.
 *          Exactly one party takes an arena out of full, and an arena is
 *          never released while parked, so a remote pusher never touches an
 *          arena that was given back.
 * A parked arena comes back to avail once an eighth of its blocks have been
 * freed by the owner (slow_at), or at the first free by another thread.
 * An arena whose last block the owner frees goes back to the span
 * allocator, unless it is the class's current arena.
 *
 * Notes on locking
 *   heaps_lock   (spinlock) the list of all heaps and the abandoned list.
 *   global_lock  (spinlock) lm_global_heap, used by threads past their exit
 *                destructor.  Order: global_lock before span_lock.
 *   A thread-local flag marks each one held, so a signal handler's malloc
 *   that interrupts its own thread inside them fails (ENOMEM) instead of
 *   spinning on a lock its own thread holds.
 *   A thread's own heap needs no lock: only its owner touches it, except
 *   the lock-free `delayed` stack and arenas' thread_free words.
 */
#include "heap.h"
#include "alloc.h"
#include "badfree.h"
#include "threads.h"
#include "options.h"
#include "log.h"
#include "os.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

/* The arena every empty bin points at: no free block, owned by nobody. */
static struct lm_arena empty_arena;

#define EMPTY_BINS { [0 ... LM_NUM_CLASSES - 1] = &empty_arena }
struct lm_heap lm_empty_heap = { .bins = EMPTY_BINS };
struct lm_heap lm_dead_heap = { .bins = EMPTY_BINS };
static struct lm_heap global_heap = { .bins = EMPTY_BINS };

LM_THREAD struct lm_heap *lm_tls_heap = &lm_empty_heap;

static lm_spinlock_t heaps_lock = LM_SPINLOCK_INIT;
static lm_spinlock_t global_lock = LM_SPINLOCK_INIT;
static struct lm_heap *all_heaps;
static struct lm_heap *abandoned_heaps;
static pthread_key_t heap_key;

/* ---- arena lists ---------------------------------------------------- */

static void list_push(struct lm_arena **list, struct lm_arena *a)
{
    a->prev = NULL;
    a->next = *list;
    if (*list)
        (*list)->prev = a;
    *list = a;
}

static void list_remove(struct lm_arena **list, struct lm_arena *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else
        *list = a->next;
    if (a->next)
        a->next->prev = a->prev;
    a->next = a->prev = NULL;
}

/* Moves blocks other threads freed onto a->free.  a is not parked. */
static bool collect_thread_free(struct lm_arena *a)
{
    if (!lm_load_relaxed(&a->thread_free))
        return false;
    lm_block_t *list = (lm_block_t *)lm_exchange_full(&a->thread_free, 0);
    if (!list)
        return false;
    uint64_t *live = lm_arena_live(a), *remote = lm_arena_remote(a);
    unsigned n = 0;
    lm_block_t *tail = list;
    for (lm_block_t *b = list; b; b = b->next) {
        uint32_t idx = lm_arena_index(a, b);
        uint64_t bit = 1ull << (idx & 63);
        lm_bits_store(&live[idx >> 6], lm_bits_load(&live[idx >> 6]) & ~bit);
        __atomic_fetch_and(&remote[idx >> 6], ~bit, __ATOMIC_RELAXED);
        tail = b;
        n++;
    }
    tail->next = a->free;
    a->free = list;
    a->used = (uint16_t)(a->used - n);
    return true;
}

static void unpark(struct lm_heap *h, struct lm_arena *a)
{
    list_remove(&h->full[a->cls], a);
    a->in_full = 0;
    a->slow_at = 0;
    list_push(&h->avail[a->cls], a);
}

static void drain_delayed(struct lm_heap *h)
{
    if (!lm_load_relaxed(&h->delayed))
        return;
    struct lm_arena *a = (struct lm_arena *)lm_exchange_full(&h->delayed, 0);
    while (a) {
        struct lm_arena *next = a->delayed_next;
        unpark(h, a);
        a = next;
    }
}

/* Parks a full arena; false if a remote free arrived meanwhile. */
static bool park(struct lm_heap *h, struct lm_arena *a)
{
    if (!lm_cas_full(&a->thread_free, 0, LM_ARENA_FULL_FLAG))
        return false;
    list_remove(&h->avail[a->cls], a);
    a->in_full = 1;
    /* Hysteresis: come back once an eighth of the blocks are free again,
     * not at the first free (a nearly full heap with random frees would
     * otherwise park and unpark an arena at every malloc). */
    a->slow_at = (uint16_t)(a->capacity - (a->capacity + 7u) / 8u);
    list_push(&h->full[a->cls], a);
    return true;
}

/* Finds or makes an arena of class cls with a free block; NULL if out of
 * memory. */
static struct lm_arena *refill(struct lm_heap *h, unsigned cls)
{
    drain_delayed(h);
    struct lm_arena *a = h->avail[cls];
    while (a) {
        struct lm_arena *next = a->next;
        if (a->free)
            break;
        if (a->local_free) {
            a->free = a->local_free;
            a->local_free = NULL;
            break;
        }
        if (collect_thread_free(a) || lm_arena_extend(a))
            break;
        if (!park(h, a)) {
            collect_thread_free(a);
            break;
        }
        a = next;
    }
    if (!a) {
        a = lm_arena_create(h, cls);
        if (!a)
            return NULL;
        list_push(&h->avail[cls], a);
        lm_arena_extend(a);
    }
    h->bins[cls] = a;
    return a;
}

static void *class_alloc(struct lm_heap *h, unsigned cls, size_t size)
{
    struct lm_arena *a = h->bins[cls];
    if (!a->free) {
        a = refill(h, cls);
        if (!a)
            return NULL;
    }
    lm_block_t *b = a->free;
    a->free = b->next;
    a->used++;
    lm_arena_hand_out(a, b, size);
    return b;
}

/* ---- thread life cycle ---------------------------------------------- */

static struct lm_heap *heap_new(void)
{
    struct lm_heap *h = lm_meta_alloc(sizeof *h);
    if (!h)
        return NULL;
    for (unsigned c = 0; c < LM_NUM_CLASSES; c++)
        h->bins[c] = &empty_arena;
    h->next_all = all_heaps;
    all_heaps = h;
    return h;
}

/* Set while this thread holds heaps_lock / global_lock: a signal handler's
 * malloc that re-enters then fails softly instead of spinning forever. */
static LM_THREAD bool holds_heaps_lock, holds_global_lock;

static struct lm_heap *heap_acquire(void)
{
    if (holds_heaps_lock)
        return NULL;
    holds_heaps_lock = true;            /* before taking, after releasing */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    lm_spin_lock(&heaps_lock);
    struct lm_heap *h = abandoned_heaps;
    if (h) {
        abandoned_heaps = h->next_abandoned;
        h->abandoned = false;
    } else {
        h = heap_new();
    }
    lm_spin_unlock(&heaps_lock);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    holds_heaps_lock = false;
    return h;
}

struct lm_heap *lm_heap_thread_start(void)
{
    struct lm_heap *h = heap_acquire();
    if (!h)
        return NULL;
    lm_tls_heap = h;
    /* May allocate (keys >= 32): the heap is already in place. */
    pthread_setspecific(heap_key, h);
    /* Stack bounds and TLS for the leak check's roots (and the walker). */
    lm_threads_register_self();
    return h;
}

/* Gives back what a heap no longer needs before it is abandoned: blocks
 * freed by others are collected and arenas with no live block released. */
static void heap_trim(struct lm_heap *h)
{
    drain_delayed(h);
    for (unsigned c = 0; c < LM_NUM_CLASSES; c++) {
        struct lm_arena *a = h->avail[c];
        while (a) {
            struct lm_arena *next = a->next;
            collect_thread_free(a);
            if (a->used == 0) {
                list_remove(&h->avail[c], a);
                lm_arena_release(a);
            }
            a = next;
        }
        h->bins[c] = h->avail[c] ? h->avail[c] : &empty_arena;
    }
}

static void heap_thread_exit(void *arg)
{
    struct lm_heap *h = arg;
    lm_tls_heap = &lm_dead_heap;
    lm_threads_unregister_self();
    heap_trim(h);
    lm_spin_lock(&heaps_lock);
    h->abandoned = true;
    h->next_abandoned = abandoned_heaps;
    abandoned_heaps = h;
    lm_spin_unlock(&heaps_lock);
}

bool lm_heap_global_init(void)
{
    return pthread_key_create(&heap_key, heap_thread_exit) == 0;
}

void *lm_small_alloc(unsigned cls, size_t size)
{
    struct lm_heap *h = lm_tls_heap;
    void *p;
    if (lm_unlikely(h == &lm_dead_heap)) {
        if (holds_global_lock) {
            errno = ENOMEM;
            return NULL;
        }
        holds_global_lock = true;       /* before taking, after releasing */
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        lm_spin_lock(&global_lock);
        p = class_alloc(&global_heap, cls, size);
        lm_spin_unlock(&global_lock);
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        holds_global_lock = false;
    } else {
        if (lm_unlikely(h == &lm_empty_heap)) {
            h = lm_heap_thread_start();
            if (!h) {
                errno = ENOMEM;
                return NULL;
            }
        }
        p = class_alloc(h, cls, size);
    }
    if (lm_unlikely(!p))
        errno = ENOMEM;
    return p;
}

/* ---- free slow paths ------------------------------------------------ */

void lm_heap_local_free_slow(struct lm_arena *a)
{
    struct lm_heap *h = a->owner;
    if (a->in_full) {
        /* Take it out of full ourselves unless a remote free already
         * claimed that job (then it arrives through `delayed`). */
        if (lm_cas_full(&a->thread_free, LM_ARENA_FULL_FLAG, 0))
            unpark(h, a);
        return;
    }
    if (a->used == 0 && h->bins[a->cls] != a) {
        list_remove(&h->avail[a->cls], a);
        lm_arena_release(a);
    }
}

void lm_heap_remote_free(struct lm_arena *a, lm_block_t *b, uint32_t idx)
{
    uint64_t bit = 1ull << (idx & 63);
    uint64_t *remote = &lm_arena_remote(a)[idx >> 6];
    if (__atomic_fetch_or(remote, bit, __ATOMIC_ACQ_REL) & bit) {
        lm_report_bad_free("free", b, LM_BAD_DOUBLE);    /* freed by others already */
        return;
    }
    if (!(lm_bits_load(&lm_arena_live(a)[idx >> 6]) & bit)) {
        __atomic_fetch_and(remote, ~bit, __ATOMIC_RELAXED);
        lm_report_bad_free("free", b, LM_BAD_DOUBLE);
        return;
    }
    AO_t old;
    do {
        old = lm_load_relaxed(&a->thread_free);
        b->next = (lm_block_t *)(old & ~LM_ARENA_FULL_FLAG);
    } while (!lm_cas_full(&a->thread_free, old, (AO_t)b));
    if (!(old & LM_ARENA_FULL_FLAG))
        return;
    /* We unparked it: hand it to its owner, which may not release it
     * before it has come through this stack. */
    struct lm_heap *h = a->owner;
    AO_t top;
    do {
        top = lm_load_relaxed(&h->delayed);
        a->delayed_next = (struct lm_arena *)top;
    } while (!lm_cas_full(&h->delayed, top, (AO_t)a));
}

void lm_heap_foreach(void (*fn)(struct lm_heap *h, void *arg), void *arg)
{
    lm_spin_lock(&heaps_lock);
    for (struct lm_heap *h = all_heaps; h; h = h->next_all)
        fn(h, arg);
    lm_spin_unlock(&heaps_lock);
    fn(&global_heap, arg);
}

/* ---- fork ------------------------------------------------------------ */

void lm_heap_atfork_prepare(void)
{
    lm_spin_lock(&global_lock);
    lm_spin_lock(&heaps_lock);
}

void lm_heap_atfork_parent(void)
{
    lm_spin_unlock(&heaps_lock);
    lm_spin_unlock(&global_lock);
}

void lm_heap_atfork_child(void)
{
    lm_spin_reset(&heaps_lock);
    lm_spin_reset(&global_lock);
    /* Only the forking thread survives: every other heap that had an
     * owner is orphaned; let new threads adopt them. */
    struct lm_heap *mine = lm_tls_heap;
    for (struct lm_heap *h = all_heaps; h; h = h->next_all) {
        if (h == mine || h->abandoned)
            continue;
        h->abandoned = true;
        h->next_abandoned = abandoned_heaps;
        abandoned_heaps = h;
    }
}
