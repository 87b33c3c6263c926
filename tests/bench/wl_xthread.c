/*
 * wl_xthread.c - benchmark workload (b): two threads, cross-thread frees.
 *
 *   wl_xthread [SCALE]    (default 1.0: 4 million blocks each way)
 *
 * Thread A mallocs blocks of 16..512 bytes, writes them and passes them to
 * thread B through a single-producer/single-consumer ring; B checks and
 * frees them.  B does the same towards A through a second ring.  Every free
 * is therefore a remote free.  Each thread also keeps a small private window
 * of its own blocks (local churn) so the allocator sees both kinds.
 * Deterministic per thread; the checksum does not depend on timing or
 * addresses.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING 4096          /* power of two */
#define LOCAL 256

struct ring {
    _Alignas(64) _Atomic size_t head;   /* written by producer */
    _Alignas(64) _Atomic size_t tail;   /* written by consumer */
    _Alignas(64) unsigned char *item[RING];
};

struct side {
    struct ring *out, *in;
    uint64_t seed;
    long n;
    uint64_t sum;
};

static inline uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int consume(struct side *s)
{
    size_t t = atomic_load_explicit(&s->in->tail, memory_order_relaxed);
    if (t == atomic_load_explicit(&s->in->head, memory_order_acquire))
        return 0;
    unsigned char *p = s->in->item[t % RING];
    s->sum += p[0] + p[1];
    free(p);
    atomic_store_explicit(&s->in->tail, t + 1, memory_order_release);
    return 1;
}

static void *run(void *arg)
{
    struct side *s = arg;
    unsigned char *local[LOCAL] = {0};
    long received = 0;

    for (long i = 0; i < s->n; i++) {
        uint64_t r = rnd(&s->seed);
        size_t sz = 16 + r % 497;
        unsigned char *p = malloc(sz);
        if (!p) {
            perror("malloc");
            exit(1);
        }
        memset(p, (int)(r >> 40), sz < 64 ? sz : 64);
        p[1] = (unsigned char)(sz - 1 < 255 ? sz - 1 : 255);
        size_t h = atomic_load_explicit(&s->out->head, memory_order_relaxed);
        while (h - atomic_load_explicit(&s->out->tail, memory_order_acquire) >= RING) {
            if (consume(s))
                received++;
            else
                sched_yield();
        }
        s->out->item[h % RING] = p;
        atomic_store_explicit(&s->out->head, h + 1, memory_order_release);
        /* local churn */
        size_t k = (r >> 20) % LOCAL;
        free(local[k]);
        local[k] = malloc(16 + (r >> 32) % 113);
        if (consume(s))
            received++;
    }
    while (received < s->n) {
        if (consume(s))
            received++;
        else
            sched_yield();
    }
    for (size_t k = 0; k < LOCAL; k++)
        free(local[k]);
    return NULL;
}

int main(int argc, char **argv)
{
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    long n = (long)(4e6 * scale);
    static struct ring ab, ba;
    struct side a = { &ab, &ba, 1, n, 0 }, b = { &ba, &ab, 2, n, 0 };
    pthread_t ta, tb;

    pthread_create(&ta, NULL, run, &a);
    pthread_create(&tb, NULL, run, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    printf("wl_xthread: blocks=%ld checksum=%llu\n", 2 * n,
           (unsigned long long)(a.sum + b.sum));
    return 0;
}
