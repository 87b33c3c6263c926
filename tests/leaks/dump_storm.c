/*
 * dump_storm.c - two threads allocate, hand blocks to each other and free
 * them while a driver (run_dump_storm.py, a separate process) dumps the
 * heap with SIGUSR1 hundreds of times.  The work is fixed by the driver,
 * not by time, so the output is the same with and without leakmark.
 *
 *   dump_storm            reads stdin: every byte is one round of work;
 *                         EOF ends the program.
 *
 * A round (both workers, in lock step with main through two barriers):
 *   1. produce: OPS_PER_ROUND times, free the block in a window slot and
 *      put a new one of a mixed size there (32 B .. 2 MiB, mostly small),
 *      stamped with a seed; now and then realloc a kept block instead; every
 *      HANDOFF_EVERY-th block goes to the other worker's inbox (a mutex-
 *      protected list threaded through the blocks), which that worker
 *      checks and frees: cross-thread frees, while both keep allocating;
 *   2. the two workers meet, then each drains its inbox, so every block
 *      handed off in round r is freed in round r, whatever the schedule.
 * Every block carries its seed in its first and last words and its fill
 * byte everywhere else (blocks over 16 KiB: once every 4 KiB, to keep the
 * work small); every free checks a sample of the block first
 * (a dump's snapshot must not change the program's memory).  The random
 * numbers of a worker in round r depend only on (worker, r), so sizes,
 * counts and checksums do not depend on timing.  Sums over frees are
 * commutative, so the order in which an inbox is drained does not matter.
 *
 * Prints one line at the start (the SIGUSR1 disposition the program sees,
 * which must be "default" under leakmark too) and one summary line at the
 * end.  A read() of stdin that fails with EINTR is printed as such: the
 * dump signal's handler must be SA_RESTART, a plain run never sees one.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    WORKERS = 2,
    WINDOW = 384,           /* blocks each worker keeps across rounds */
    OPS_PER_ROUND = 1500,
    HANDOFF_EVERY = 3,
    REALLOC_EVERY = 29,
    MIN_BLOCK = 32,         /* room for the link and the seed */
};

struct block {              /* the head of every block */
    struct block *next;     /* inbox link while handed off */
    uint64_t seed;
};

struct worker {
    int index;
    struct block *slot[WINDOW];
    size_t slot_size[WINDOW];
    pthread_mutex_t inbox_lock;
    struct block *inbox;    /* handed to this worker, not yet freed */
    uint64_t rng;
    /* totals (deterministic) */
    uint64_t allocs, bytes, handoffs, reallocs, verified, corrupt, checksum;
};

static struct worker g_workers[WORKERS];
static pthread_barrier_t g_round_start, g_round_end, g_produced;
static volatile int g_quit;
static unsigned g_round;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static uint64_t next_random(struct worker *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}

static size_t pick_size(struct worker *w)
{
    uint64_t r = next_random(w);
    unsigned pct = (unsigned)(r % 1000);
    r >>= 10;
    if (pct < 700)
        return MIN_BLOCK + r % 225;                 /* 32 .. 256 */
    if (pct < 950)
        return 257 + r % (16384 - 257);             /* .. 16 KiB */
    if (pct < 998)
        return 16384 + r % (262144 - 16384);        /* .. 256 KiB */
    return 262144 + r % (2097152 - 262144);         /* .. 2 MiB */
}

/* The size lives in the block too (after the seed), so that a block freed
 * by the other worker can be checked without a side table. */
static void stamp(struct block *b, size_t size, uint64_t seed)
{
    unsigned char fill = (unsigned char)(seed | 1);
    if (size <= 16384) {
        memset(b, fill, size);
    } else {                        /* big ones: the bytes that are checked */
        memset(b, fill, 64);
        for (size_t off = 24; off + 8 < size; off += 4096)
            ((unsigned char *)b)[off] = fill;
    }
    b->next = NULL;
    b->seed = seed;
    memcpy((char *)b + 16, &size, sizeof size);
    memcpy((char *)b + size - 8, &seed, sizeof seed);
}

/* Checks the head, the tail and one byte per 4 KiB, then frees the block. */
static void check_and_free(struct worker *w, struct block *b)
{
    size_t size;
    memcpy(&size, (char *)b + 16, sizeof size);
    uint64_t seed = b->seed, tail;
    bool ok = size >= MIN_BLOCK && size <= (size_t)4 << 20;
    if (ok) {
        memcpy(&tail, (char *)b + size - 8, sizeof tail);
        unsigned char fill = (unsigned char)(seed | 1);
        ok = tail == seed;
        for (size_t off = 24; ok && off + 8 < size; off += 4096)
            ok = ((unsigned char *)b)[off] == fill;
    }
    if (ok) {
        w->verified++;
        w->checksum += mix(seed ^ size);
    } else {
        w->corrupt++;
    }
    free(b);
}

static struct block *new_block(struct worker *w, size_t size, uint64_t seed)
{
    struct block *b = malloc(size);
    if (!b) {
        fprintf(stderr, "dump_storm: malloc(%zu) failed\n", size);
        exit(1);
    }
    stamp(b, size, seed);
    w->allocs++;
    w->bytes += size;
    return b;
}

static void hand_off(struct worker *to, struct block *b)
{
    pthread_mutex_lock(&to->inbox_lock);
    b->next = to->inbox;
    to->inbox = b;
    pthread_mutex_unlock(&to->inbox_lock);
}

static void drain_inbox(struct worker *w)
{
    pthread_mutex_lock(&w->inbox_lock);
    struct block *b = w->inbox;
    w->inbox = NULL;
    pthread_mutex_unlock(&w->inbox_lock);
    while (b) {
        struct block *next = b->next;
        check_and_free(w, b);
        b = next;
    }
}

static void produce(struct worker *w, unsigned round)
{
    struct worker *peer = &g_workers[(w->index + 1) % WORKERS];
    w->rng = mix(((uint64_t)round << 8 | (uint64_t)w->index) + 0x9e3779b97f4a7c15ull) | 1;
    for (unsigned op = 0; op < OPS_PER_ROUND; op++) {
        unsigned k = (unsigned)(next_random(w) % WINDOW);
        uint64_t seed = mix((uint64_t)round << 32 | (uint64_t)op << 4 | (uint64_t)w->index);
        size_t size = pick_size(w);
        if (op % REALLOC_EVERY == 0 && w->slot[k]) {
            /* realloc keeps the old contents; re-stamp at the new size */
            struct block *b = realloc(w->slot[k], size);
            if (!b) {
                fprintf(stderr, "dump_storm: realloc(%zu) failed\n", size);
                exit(1);
            }
            stamp(b, size, seed);
            w->slot[k] = b;
            w->reallocs++;
            w->bytes += size;
            continue;
        }
        if (w->slot[k])
            check_and_free(w, w->slot[k]);
        struct block *b = new_block(w, size, seed);
        if (op % HANDOFF_EVERY == 0) {
            hand_off(peer, b);
            w->handoffs++;
            b = new_block(w, MIN_BLOCK + (size & 63), seed + 1);
        }
        w->slot[k] = b;
        if (op % 64 == 63)
            drain_inbox(w);         /* frees while the peer still allocates */
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (;;) {
        pthread_barrier_wait(&g_round_start);
        if (g_quit)
            break;
        produce(w, g_round);
        pthread_barrier_wait(&g_produced);
        drain_inbox(w);
        pthread_barrier_wait(&g_round_end);
    }
    for (unsigned k = 0; k < WINDOW; k++)
        if (w->slot[k])
            check_and_free(w, w->slot[k]);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction old;
    sigaction(SIGUSR1, NULL, &old);
    printf("dump_storm: SIGUSR1 disposition %s\n",
           old.sa_handler == SIG_DFL && !(old.sa_flags & SA_SIGINFO) ? "default" : "other");
    pthread_barrier_init(&g_round_start, NULL, WORKERS + 1);
    pthread_barrier_init(&g_round_end, NULL, WORKERS + 1);
    pthread_barrier_init(&g_produced, NULL, WORKERS);
    pthread_t threads[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        g_workers[i].index = i;
        pthread_mutex_init(&g_workers[i].inbox_lock, NULL);
        if (pthread_create(&threads[i], NULL, worker_main, &g_workers[i]) != 0) {
            fprintf(stderr, "dump_storm: pthread_create failed\n");
            return 1;
        }
    }
    unsigned eintr = 0;
    char buf[64];
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            eintr++;
            continue;
        }
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            pthread_barrier_wait(&g_round_start);
            pthread_barrier_wait(&g_round_end);
            g_round++;
        }
    }
    g_quit = 1;
    pthread_barrier_wait(&g_round_start);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(threads[i], NULL);
    uint64_t allocs = 0, bytes = 0, handoffs = 0, reallocs = 0, verified = 0, corrupt = 0, sum = 0;
    for (int i = 0; i < WORKERS; i++) {
        struct worker *w = &g_workers[i];
        allocs += w->allocs;
        bytes += w->bytes;
        handoffs += w->handoffs;
        reallocs += w->reallocs;
        verified += w->verified;
        corrupt += w->corrupt;
        sum += w->checksum;
    }
    if (eintr)
        printf("dump_storm: read() of stdin failed with EINTR %u times\n", eintr);
    printf("dump_storm: rounds %u allocs %llu bytes %llu handoffs %llu reallocs %llu "
           "verified %llu corrupt %llu checksum %016llx\n",
           g_round, (unsigned long long)allocs, (unsigned long long)bytes,
           (unsigned long long)handoffs, (unsigned long long)reallocs,
           (unsigned long long)verified, (unsigned long long)corrupt, (unsigned long long)sum);
    return corrupt ? 1 : 0;
}
