/*
 * wl_tree.h - the reachable heap of the exit-check and dump workloads
 * (wl_exitcheck.c, wl_dumpheap.c): BLOCKS blocks of equal size (MIB MiB /
 * BLOCKS, rounded down to a multiple of 8, at least 16 bytes); block i
 * holds start pointers to blocks 2i+1 and 2i+2 in its first two words (a
 * binary tree over the allocation order: BLOCKS - 1 edges, no deep chain);
 * each further word is, with probability DENSITY, a start pointer to a
 * random block, else a small integer below 16 Mi that no pointer test
 * accepts.  The table that remembers the blocks while they are linked is
 * mmap'ed and unmapped again, so only the root keeps the tree alive.
 * Deterministic for a seed.  Header-only: each workload is one program.
 */
#ifndef WL_TREE_H
#define WL_TREE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "wl_rng.h"

struct wl_tree {
    double mib, density;
    size_t blocks, size;
    uint64_t pointers;     /* pointer words written */
    uint64_t checksum;     /* sum of the non-pointer words */
    void **root;           /* block 0 */
};

static void *wl_xmalloc(const char *name, size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, "%s: malloc(%zu) failed\n", name, n);
        exit(1);
    }
    return p;
}

/* argv[1] MIB, argv[2] BLOCKS, argv[3] DENSITY (default 0.1).  Returns 0,
 * or 2 after one line on stderr (usage: what follows the program name). */
static int wl_tree_args(const char *name, const char *usage, int argc, char **argv,
                        struct wl_tree *t)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s %s\n", name, usage);
        return 2;
    }
    t->mib = atof(argv[1]);
    t->blocks = strtoull(argv[2], NULL, 10);
    t->density = argc > 3 ? atof(argv[3]) : 0.1;
    if (t->mib <= 0 || t->blocks < 1 || t->density < 0 || t->density > 1) {
        fprintf(stderr, "%s: need MIB > 0, BLOCKS >= 1, 0 <= POINTER_DENSITY <= 1\n", name);
        return 2;
    }
    t->size = (size_t)(t->mib * 1048576.0 / (double)t->blocks) & ~(size_t)7;
    if (t->size < 16) {
        fprintf(stderr, "%s: %g MiB in %zu blocks is below 16 bytes a block\n", name, t->mib,
                t->blocks);
        return 2;
    }
    return 0;
}

/* Builds the tree with the rng seeded by `seed`.  Returns 0, or 1 after
 * one line on stderr. */
static int wl_tree_build(const char *name, uint64_t seed, struct wl_tree *t)
{
    size_t n = t->blocks, words = t->size / sizeof(void *);
    uint64_t threshold = (uint64_t)(t->density * 4294967296.0);
    rng = seed;
    size_t tablen = (n * sizeof(void *) + 4095) & ~(size_t)4095;
    void ***blk = mmap(NULL, tablen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (blk == MAP_FAILED) {
        fprintf(stderr, "%s: mmap of the block table failed\n", name);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        blk[i] = wl_xmalloc(name, t->size);
    t->pointers = t->checksum = 0;
    for (size_t i = 0; i < n; i++) {
        void **b = blk[i];
        b[0] = 2 * i + 1 < n ? (void *)blk[2 * i + 1] : NULL;
        b[1] = 2 * i + 2 < n ? (void *)blk[2 * i + 2] : NULL;
        t->pointers += (b[0] != NULL) + (b[1] != NULL);
        for (size_t w = 2; w < words; w++) {
            uint64_t r = rnd();
            if ((r & 0xffffffffu) < threshold) {
                b[w] = blk[(r >> 32) % n];
                t->pointers++;
            } else {
                b[w] = (void *)(uintptr_t)((r >> 40) & 0xffffff);
                t->checksum += (uintptr_t)b[w];
            }
        }
    }
    t->root = blk[0];
    munmap(blk, tablen);
    return 0;
}

#endif
