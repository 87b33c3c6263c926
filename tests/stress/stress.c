/*
 * stress.c - multi-threaded allocator stress test.
 *
 *   stress THREADS ITERATIONS [MAX_SIZE] [SEED]
 *
 * Each of THREADS threads performs ITERATIONS operations on its own table of
 * slots, drawn from a deterministic per-thread PRNG (seeded from SEED and the
 * thread index): malloc, calloc, realloc (grow, shrink, from NULL, to 0),
 * posix_memalign, aligned_alloc, memalign, free, a read-only check, and a
 * hand-off that swaps a slot with an entry of a shared exchange array
 * (striped mutexes), so that a good fraction of frees and reallocs happen on
 * a thread other than the one that allocated the block.
 *
 * Sizes are weighted to small blocks (1..128 B most of the time), with some
 * 1-64 KiB, a few 64 KiB..MAX_SIZE (default 1 MiB) and, once in ~50,000
 * allocations, a block of 1-6 x MAX_SIZE.
 *
 * Checks (any failure prints one line on stderr and exits with status 1):
 *  - every block is filled over its whole usable size with a pattern keyed by
 *    (address, size, thread, sequence) and verified before free, before
 *    realloc, on hand-off and at random; an allocator that hands out
 *    overlapping blocks, or a usable size that reaches into a neighbour,
 *    breaks some other block's pattern.  Blocks up to 4 KiB are patterned in
 *    full; larger ones in their first and last 256 bytes plus one word in 8.
 *  - realloc preserves the pattern of the old prefix;
 *  - calloc memory reads zero;
 *  - malloc results are aligned for any object that fits; explicitly aligned
 *    allocations honour the alignment;
 *  - malloc_usable_size(p) >= the size requested;
 *  - no allocation of a sane size returns NULL.
 * At the end the threads free their slots, the main thread drains the
 * exchange array, and one summary line goes to stdout.
 *
 * STRESS_ALIGN_MAX=N caps the alignments asked for.  Debian 12's mimalloc
 * 2.0.9 returns misaligned blocks for alignments 256..1024 with small sizes
 * (microsoft/mimalloc#700, fixed upstream in 2.1); STRESS_ALIGN_MAX=128 lets
 * the rest of the test run against it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLOTS        4096          /* per-thread table */
#define EXCH_SLOTS   1024          /* shared hand-off array */
#define EXCH_LOCKS   64
#define FULL_LIMIT   4096          /* blocks up to this are patterned fully */
#define EDGE_WORDS   32            /* fully patterned words at each end */
#define SPARSE_STEP  8             /* one word in 8 in between */

struct block {
    unsigned char *p;
    size_t size;                   /* requested */
    size_t usable;                 /* malloc_usable_size at allocation */
    uint64_t key;
    uint32_t owner;                /* thread that allocated it */
};

struct exch {
    pthread_mutex_t lock[EXCH_LOCKS];
    struct block slot[EXCH_SLOTS];
};

struct counters {
    uint64_t ops, allocs, frees, reallocs, cross_frees, cross_reallocs,
             handoffs, checks, large;
};

struct thread_arg {
    pthread_t tid;
    uint32_t index;
    uint64_t rng;
    struct counters c;
};

static struct exch exch;
static size_t max_size = 1u << 20;
static unsigned long long iterations;
static size_t align_max = 65536;   /* STRESS_ALIGN_MAX, to step around peer bugs */

/* ---- PRNG and pattern ---------------------------------------------------- */

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rnd(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ULL;
    return mix64(*s);
}

static inline size_t rnd_range(uint64_t *s, size_t lo, size_t hi)
{
    return lo + (size_t)(rnd(s) % (hi - lo + 1));
}

static inline uint64_t word_value(uint64_t key, size_t w)
{
    return (key + w) * 0x9e3779b97f4a7c15ULL | 1;  /* never zero */
}

static inline unsigned char tail_byte(uint64_t key, size_t i)
{
    return (unsigned char)(((key >> 8) + i * 131) | 0x80);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("stress: FAIL: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    _exit(1);   /* other threads still run: do not call exit handlers */
}

/*
 * Patterned positions of a block with `extent` bytes: words [0, nw) where
 * nw = extent / 8, each checked if extent <= FULL_LIMIT, else if it is among
 * the first/last EDGE_WORDS or a multiple of SPARSE_STEP; then the trailing
 * extent % 8 bytes.  `limit` restricts filling/checking to bytes < limit.
 */
typedef int (*word_fn)(unsigned char *p, size_t w, uint64_t key, const struct block *b,
                       const char *what);

static int fill_word(unsigned char *p, size_t w, uint64_t key, const struct block *b,
                     const char *what)
{
    (void)b; (void)what;
    uint64_t v = word_value(key, w);
    memcpy(p + w * 8, &v, 8);
    return 0;
}

static int check_word(unsigned char *p, size_t w, uint64_t key, const struct block *b,
                      const char *what)
{
    uint64_t v, want = word_value(key, w);
    memcpy(&v, p + w * 8, 8);
    if (v != want)
        die("%s: pattern mismatch at %p+%zu (block %p size %zu usable %zu "
            "allocated by thread %u): got %016" PRIx64 " want %016" PRIx64,
            what, (void *)(p + w * 8), w * 8, (void *)b->p, b->size, b->usable,
            b->owner, v, want);
    return 0;
}

static void walk(unsigned char *p, size_t extent, size_t limit, uint64_t key,
                 const struct block *b, word_fn fn, const char *what, int tail_fill)
{
    size_t nw = extent / 8, lw = limit / 8 < nw ? limit / 8 : nw;
    if (extent <= FULL_LIMIT) {
        for (size_t w = 0; w < lw; w++)
            fn(p, w, key, b, what);
    } else {
        size_t w = 0;
        for (; w < EDGE_WORDS && w < lw; w++)
            fn(p, w, key, b, what);
        for (w = EDGE_WORDS; w < nw - EDGE_WORDS && w < lw; w += SPARSE_STEP)
            fn(p, w, key, b, what);
        for (w = nw - EDGE_WORDS; w < lw; w++)
            fn(p, w, key, b, what);
    }
    for (size_t i = nw * 8; i < extent && i < limit; i++) {
        if (tail_fill) {
            p[i] = tail_byte(key, i);
        } else if (p[i] != tail_byte(key, i)) {
            die("%s: pattern mismatch at %p+%zu (block %p size %zu usable %zu "
                "allocated by thread %u): got %02x want %02x",
                what, (void *)(p + i), i, (void *)b->p, b->size, b->usable, b->owner,
                p[i], tail_byte(key, i));
        }
    }
}

static void fill(struct block *b)
{
    walk(b->p, b->usable, b->usable, b->key, b, fill_word, "fill", 1);
}

static void check(const struct block *b, size_t limit, const char *what)
{
    walk(b->p, b->usable, limit, b->key, b, check_word, what, 0);
}

static void check_zero(const struct block *b)
{
    /* calloc guarantees zero for the requested size; patterned positions of
     * big blocks only, everything for small ones. */
    const unsigned char *p = b->p;
    size_t n = b->size;
    size_t step = n <= 65536 ? 1 : 64;
    for (size_t i = 0; i < n; i += step)
        if (p[i])
            die("calloc(%zu) returned %p with non-zero byte %02x at offset %zu",
                n, (void *)p, p[i], i);
    if (n && p[n - 1])
        die("calloc(%zu) returned %p with non-zero last byte", n, (void *)p);
}

/* ---- allocation ---------------------------------------------------------- */

static size_t pick_size(uint64_t *s, struct counters *c)
{
    uint64_t r = rnd(s) % 100000;
    size_t size;
    if (r < 2 && max_size >= 4096) {        /* 1 in 50,000: several MAX_SIZE */
        c->large++;
        return rnd_range(s, max_size, 6 * max_size);
    }
    r %= 1000;
    if (r < 400)
        size = rnd_range(s, 1, 32);
    else if (r < 700)
        size = rnd_range(s, 33, 128);
    else if (r < 900)
        size = rnd_range(s, 129, 1024);
    else if (r < 975)
        size = rnd_range(s, 1025, 16384);
    else if (r < 998)
        size = rnd_range(s, 16385, 65536);
    else
        size = rnd_range(s, 65537, max_size > 65537 ? max_size : 65537);
    if (size > max_size)                    /* small MAX_SIZE: fold back */
        size = rnd_range(s, 1, max_size);
    if (size > 65536)
        c->large++;
    return size;
}

static size_t natural_align(size_t size)
{
    size_t a = 16;
    while (a > 1 && a > size)
        a >>= 1;
    return a;
}

static void validate_new(struct block *b, size_t align, const char *how)
{
    if (!b->p)
        die("%s(%zu, align %zu) returned NULL (errno %d)", how, b->size, align, errno);
    if ((uintptr_t)b->p % align)
        die("%s(%zu) returned %p, not aligned to %zu", how, b->size, (void *)b->p, align);
    b->usable = malloc_usable_size(b->p);
    if (b->usable < b->size)
        die("%s(%zu) returned %p with malloc_usable_size %zu < requested",
            how, b->size, (void *)b->p, b->usable);
}

static void new_block(struct thread_arg *t, struct block *b)
{
    uint64_t *s = &t->rng;
    size_t size = pick_size(s, &t->c);
    size_t align = natural_align(size);
    const char *how;
    int zero = 0;
    uint64_t r = rnd(s) % 100;

    b->size = size;
    if (r < 55) {
        how = "malloc";
        b->p = malloc(size);
    } else if (r < 70) {
        how = "calloc";
        size_t n = rnd(s) & 1 ? size : 1;   /* calloc(n, m): both orders */
        b->p = n == 1 ? calloc(1, size) : calloc(size, 1);
        zero = 1;
    } else if (r < 80) {
        how = "realloc(NULL)";
        b->p = realloc(NULL, size);
    } else {
        static const size_t aligns[] = { 8, 16, 32, 64, 128, 256, 512, 4096, 16384, 65536 };
        size_t ai = rnd(s) % 100;
        align = ai < 90 ? aligns[ai % 7] : aligns[7 + ai % 3];
        if (align > 4096 && size > (1u << 20))
            align = 4096;
        if (align > align_max)
            align = align_max;
        if (r < 90) {
            how = "posix_memalign";
            void *p = NULL;
            int rc = posix_memalign(&p, align, size);
            if (rc)
                die("posix_memalign(%zu, %zu) failed: %d", align, size, rc);
            b->p = p;
        } else if (r < 96) {
            how = "aligned_alloc";
            size = b->size = (size + align - 1) & ~(align - 1);  /* C11 rule */
            b->p = aligned_alloc(align, size);
        } else {
            how = "memalign";
            b->p = memalign(align, size);
        }
    }
    validate_new(b, align, how);
    if (zero)
        check_zero(b);
    b->owner = t->index;
    b->key = mix64((uintptr_t)b->p ^ size * 0x100000001b3ULL ^ (uint64_t)t->index << 56 ^ t->c.ops);
    fill(b);
    t->c.allocs++;
}

static void free_block(struct thread_arg *t, struct block *b, const char *what)
{
    check(b, b->usable, what);
    if (b->owner != t->index)
        t->c.cross_frees++;
    free(b->p);
    b->p = NULL;
    t->c.frees++;
}

static void realloc_block(struct thread_arg *t, struct block *b)
{
    uint64_t *s = &t->rng;
    size_t newsize;
    uint64_t r = rnd(s) % 100;

    check(b, b->usable, "before realloc");
    if (b->owner != t->index)
        t->c.cross_reallocs++;
    t->c.reallocs++;
    if (r < 1) {
        /* realloc(p, 0): glibc frees and returns NULL, others may return a
         * minimal block; either is allowed. */
        void *q = realloc(b->p, 0);
        if (b->owner != t->index)
            t->c.cross_frees++;
        t->c.frees++;
        free(q);
        b->p = NULL;
        return;
    }
    if (r < 50)        /* grow by a small step */
        newsize = b->size + rnd_range(s, 1, b->size < 64 ? 64 : b->size / 2);
    else if (r < 80)   /* shrink */
        newsize = rnd_range(s, 1, b->size);
    else
        newsize = pick_size(s, &t->c);
    if (newsize > 6 * max_size)
        newsize = rnd_range(s, 1, max_size);

    struct block old = *b;
    b->p = realloc(old.p, newsize);
    b->size = newsize;
    validate_new(b, natural_align(newsize), "realloc");
    /* The old pattern must survive in the common prefix; its positions are
     * those of the old extent, now at the new address. */
    struct block moved = old;
    moved.p = b->p;
    walk(moved.p, old.usable, old.size < newsize ? old.size : newsize, old.key,
         &moved, check_word, "realloc prefix", 0);
    b->owner = t->index;
    b->key = mix64((uintptr_t)b->p ^ newsize * 0x100000001b3ULL ^ (uint64_t)t->index << 56 ^ t->c.ops);
    fill(b);
}

static void handoff(struct thread_arg *t, struct block *b)
{
    size_t j = rnd(&t->rng) % EXCH_SLOTS;
    pthread_mutex_t *l = &exch.lock[j % EXCH_LOCKS];
    if (b->p)
        check(b, b->usable, "before hand-off");
    pthread_mutex_lock(l);
    struct block tmp = exch.slot[j];
    exch.slot[j] = *b;
    *b = tmp;
    pthread_mutex_unlock(l);
    if (b->p)
        check(b, b->usable, "after hand-off");
    t->c.handoffs++;
}

static void *worker(void *arg)
{
    struct thread_arg *t = arg;
    struct block *slots = calloc(SLOTS, sizeof *slots);
    if (!slots)
        die("calloc of the slot table failed");

    for (unsigned long long i = 0; i < iterations; i++) {
        t->c.ops++;
        uint64_t r = rnd(&t->rng);
        struct block *b = &slots[r % SLOTS];
        unsigned op = (unsigned)(r >> 32) % 100;
        if (!b->p) {
            if (op < 25)
                handoff(t, b);     /* may pick up another thread's block */
            else
                new_block(t, b);
        } else if (op < 40) {
            free_block(t, b, "before free");
        } else if (op < 60) {
            realloc_block(t, b);
        } else if (op < 85) {
            handoff(t, b);
        } else {
            check(b, b->usable, "check");
            t->c.checks++;
        }
    }
    for (size_t i = 0; i < SLOTS; i++)
        if (slots[i].p)
            free_block(t, &slots[i], "final free");
    free(slots);
    return NULL;
}

static unsigned long long parse_num(const char *s, const char *what)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || end == s) {
        fprintf(stderr, "stress: bad %s '%s'\n", what, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: %s THREADS ITERATIONS [MAX_SIZE] [SEED]\n"
                "  ITERATIONS operations per thread; MAX_SIZE defaults to 1 MiB\n",
                argv[0]);
        return 2;
    }
    unsigned nthreads = (unsigned)parse_num(argv[1], "THREADS");
    iterations = parse_num(argv[2], "ITERATIONS");
    if (argc > 3)
        max_size = (size_t)parse_num(argv[3], "MAX_SIZE");
    uint64_t seed = argc > 4 ? parse_num(argv[4], "SEED") : 42;
    if (nthreads < 1 || nthreads > 1024 || max_size < 16 || max_size > (1u << 30)) {
        fprintf(stderr, "stress: THREADS must be 1..1024, MAX_SIZE 16..1 GiB\n");
        return 2;
    }

    const char *am = getenv("STRESS_ALIGN_MAX");
    if (am) {
        align_max = (size_t)parse_num(am, "STRESS_ALIGN_MAX");
        if (align_max < 8 || (align_max & (align_max - 1))) {
            fprintf(stderr, "stress: STRESS_ALIGN_MAX must be a power of two >= 8\n");
            return 2;
        }
    }
    for (int i = 0; i < EXCH_LOCKS; i++)
        pthread_mutex_init(&exch.lock[i], NULL);
    struct thread_arg *ta = calloc(nthreads, sizeof *ta);
    if (!ta)
        die("calloc of thread table failed");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = 0; i < nthreads; i++) {
        ta[i].index = i;
        ta[i].rng = mix64(seed * 0x9e3779b97f4a7c15ULL + i + 1);
        int rc = pthread_create(&ta[i].tid, NULL, worker, &ta[i]);
        if (rc)
            die("pthread_create: %s", strerror(rc));
    }
    struct counters sum = {0};
    for (unsigned i = 0; i < nthreads; i++) {
        pthread_join(ta[i].tid, NULL);
        struct counters *c = &ta[i].c;
        sum.ops += c->ops; sum.allocs += c->allocs; sum.frees += c->frees;
        sum.reallocs += c->reallocs; sum.cross_frees += c->cross_frees;
        sum.cross_reallocs += c->cross_reallocs; sum.handoffs += c->handoffs;
        sum.checks += c->checks; sum.large += c->large;
    }
    /* Drain the exchange: the main thread (index nthreads) frees what the
     * workers left there, all of it cross-thread. */
    struct thread_arg mainarg = { .index = nthreads };
    for (size_t j = 0; j < EXCH_SLOTS; j++)
        if (exch.slot[j].p)
            free_block(&mainarg, &exch.slot[j], "drain");
    sum.frees += mainarg.c.frees;
    sum.cross_frees += mainarg.c.cross_frees;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(ta);

    if (sum.allocs != sum.frees)
        die("allocation count %" PRIu64 " != free count %" PRIu64, sum.allocs, sum.frees);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("stress: OK threads=%u ops=%" PRIu64 " allocs=%" PRIu64 " frees=%" PRIu64
           " cross_thread_frees=%" PRIu64 " (%.1f%%) reallocs=%" PRIu64
           " cross_thread_reallocs=%" PRIu64 " large=%" PRIu64 " seconds=%.2f\n",
           nthreads, sum.ops, sum.allocs, sum.frees, sum.cross_frees,
           sum.frees ? 100.0 * (double)sum.cross_frees / (double)sum.frees : 0.0,
           sum.reallocs, sum.cross_reallocs, sum.large, secs);
    return 0;
}
