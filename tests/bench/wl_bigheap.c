/*
 * wl_bigheap.c - benchmark workload (c): a large long-lived heap with churn.
 *
 *   wl_bigheap [SCALE]    (default 1.0: 1.5 million live blocks, 4 million
 *                          churn operations)
 *
 * Builds a heap of 16..160-byte nodes, each pointing to another live node
 * (a graph the leak checker's mark has to follow), then replaces random
 * nodes: free and allocate a new one of another size, relinking.  The heap
 * stays alive and reachable from a global at exit, as in most real programs,
 * so a leak check at exit has to mark all of it.  Deterministic; the
 * checksum does not depend on addresses.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "wl_rng.h"

struct node {
    struct node *next;
    uint32_t size;
    uint32_t tag;
};


struct node **heap;     /* global root: everything stays reachable */

static struct node *make(size_t live, uint64_t r)
{
    static const uint32_t sizes[] = { 16, 24, 32, 32, 48, 64, 64, 96, 128, 160 };
    uint32_t sz = sizes[r % 10];
    struct node *n = malloc(sz);
    if (!n) {
        perror("malloc");
        exit(1);
    }
    n->size = sz;
    n->tag = (uint32_t)(r >> 32);
    n->next = live ? heap[(r >> 8) % live] : NULL;
    return n;
}

int main(int argc, char **argv)
{
    rng = 0xabcdef;
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    size_t live = (size_t)(1.5e6 * scale);
    long churn = (long)(4e6 * scale);
    uint64_t sum = 0;

    if (live < 2)
        live = 2;
    heap = malloc(live * sizeof *heap);
    for (size_t i = 0; i < live; i++)
        heap[i] = make(i, rnd());
    for (long i = 0; i < churn; i++) {
        uint64_t r = rnd();
        size_t k = r % live;
        sum += heap[k]->tag + heap[k]->size;
        /* Nodes that pointed to the old one keep a stale value: it is never
         * dereferenced, only seen by a conservative scan, like real stale
         * pointers. */
        struct node *old = heap[k];
        heap[k] = make(live, r >> 16);
        free(old);
    }
    printf("wl_bigheap: live=%zu churn=%ld checksum=%llu\n", live, churn,
           (unsigned long long)sum);
    return 0;   /* the heap stays allocated and reachable */
}
