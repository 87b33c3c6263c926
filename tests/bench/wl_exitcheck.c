/*
 * wl_exitcheck.c - benchmark workload for the exit-time leak check alone.
 *
 *   wl_exitcheck MIB BLOCKS [POINTER_DENSITY]
 *
 * Builds a live heap of BLOCKS blocks of equal size (MIB MiB / BLOCKS,
 * rounded down to a multiple of 8, at least 16 bytes), all reachable from
 * a global: block i holds start pointers to blocks 2i+1 and 2i+2 in its
 * first two words (a binary tree over the allocation order, so the mark
 * has to follow BLOCKS - 1 edges and no single chain is deep).  Each further
 * word is, with probability POINTER_DENSITY (default 0.1), a start pointer
 * to a random block, else a small integer that no pointer test accepts.
 * Then it leaks LEAK_GROUPS groups of four 64-byte blocks: a two-block
 * cycle (both definite), and a block (definite) pointing to another
 * (indirect); and exits by returning from main, so that an exit-time leak
 * check sees the whole heap.
 *
 * The array that remembers the blocks while they are linked is mmap'ed and
 * unmapped again, so that the live heap at exit is exactly the tree, the
 * leaks and what libc itself allocated.  Prints one line on stdout:
 *   wl_exitcheck: blocks=N block_size=S live_bytes=B pointers=P \
 *                 leaked_blocks=L definite=D indirect=I checksum=C
 * where P counts the pointer words written, and D and I are the numbers a
 * leak checker following REPORT-FORMAT.md must find.  Deterministic (fixed
 * seed); nothing printed depends on addresses.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "wl_rng.h"

#define LEAK_GROUPS 250
#define LEAK_SIZE 64

void **exitcheck_root;      /* the global root of the whole reachable heap */

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, "wl_exitcheck: malloc(%zu) failed\n", n);
        exit(1);
    }
    return p;
}

/* The leaked blocks are made here and nothing that survives this frame
 * points to them; scrub_stack() then overwrites the dead frames, so that
 * no stale copy on the stack keeps them alive under a conservative scan. */
__attribute__((noinline)) static void make_leaks(void)
{
    for (int g = 0; g < LEAK_GROUPS; g++) {
        void **a = xmalloc(LEAK_SIZE), **b = xmalloc(LEAK_SIZE);
        void **c = xmalloc(LEAK_SIZE), **d = xmalloc(LEAK_SIZE);
        memset(a, 0, LEAK_SIZE);
        memset(b, 0, LEAK_SIZE);
        memset(c, 0, LEAK_SIZE);
        memset(d, 0, LEAK_SIZE);
        a[0] = b;
        b[0] = a;       /* a <-> b: a leaked cycle, both definite */
        c[0] = d;       /* c definite, d indirect */
    }
}

__attribute__((noinline)) static void scrub_stack(void)
{
    volatile char pad[64 * 1024];
    memset((char *)pad, 0, sizeof pad);
    __asm__ volatile("" : : "r"(pad) : "memory");
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: wl_exitcheck MIB BLOCKS [POINTER_DENSITY]\n");
        return 2;
    }
    double mib = atof(argv[1]);
    size_t nblocks = strtoull(argv[2], NULL, 10);
    double density = argc > 3 ? atof(argv[3]) : 0.1;
    if (mib <= 0 || nblocks < 1 || density < 0 || density > 1) {
        fprintf(stderr, "wl_exitcheck: need MIB > 0, BLOCKS >= 1, 0 <= POINTER_DENSITY <= 1\n");
        return 2;
    }
    size_t size = (size_t)(mib * 1048576.0 / (double)nblocks) & ~(size_t)7;
    if (size < 16) {
        fprintf(stderr, "wl_exitcheck: %g MiB in %zu blocks is below 16 bytes a block\n",
                mib, nblocks);
        return 2;
    }
    size_t words = size / sizeof(void *);
    uint64_t threshold = (uint64_t)(density * 4294967296.0);
    rng = 0x5eed5eed;

    size_t tablen = (nblocks * sizeof(void *) + 4095) & ~(size_t)4095;
    void ***blk = mmap(NULL, tablen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (blk == MAP_FAILED) {
        perror("wl_exitcheck: mmap");
        return 1;
    }
    for (size_t i = 0; i < nblocks; i++)
        blk[i] = xmalloc(size);

    uint64_t pointers = 0, sum = 0;
    for (size_t i = 0; i < nblocks; i++) {
        void **b = blk[i];
        b[0] = 2 * i + 1 < nblocks ? (void *)blk[2 * i + 1] : NULL;
        b[1] = 2 * i + 2 < nblocks ? (void *)blk[2 * i + 2] : NULL;
        pointers += (b[0] != NULL) + (b[1] != NULL);
        for (size_t w = 2; w < words; w++) {
            uint64_t r = rnd();
            if ((r & 0xffffffffu) < threshold) {
                b[w] = blk[(r >> 32) % nblocks];
                pointers++;
            } else {
                b[w] = (void *)(uintptr_t)((r >> 40) & 0xffffff);    /* < 16 Mi: never a heap address */
                sum += (uintptr_t)b[w];
            }
        }
    }
    exitcheck_root = blk[0];
    munmap(blk, tablen);
    blk = NULL;

    make_leaks();
    scrub_stack();

    printf("wl_exitcheck: blocks=%zu block_size=%zu live_bytes=%llu pointers=%llu "
           "leaked_blocks=%d definite=%d indirect=%d checksum=%llu\n",
           nblocks, size, (unsigned long long)nblocks * size, (unsigned long long)pointers,
           4 * LEAK_GROUPS, 3 * LEAK_GROUPS, LEAK_GROUPS, (unsigned long long)sum);
    return 0;   /* the tree stays allocated and reachable from exitcheck_root */
}
