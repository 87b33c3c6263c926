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

#include "wl_tree.h"

#define LEAK_GROUPS 250
#define LEAK_SIZE 64

void **exitcheck_root;      /* the global root of the whole reachable heap */

static void *xmalloc(size_t n) { return wl_xmalloc("wl_exitcheck", n); }

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
    struct wl_tree t;
    int err = wl_tree_args("wl_exitcheck", "MIB BLOCKS [POINTER_DENSITY]", argc, argv, &t);
    if (!err)
        err = wl_tree_build("wl_exitcheck", 0x5eed5eed, &t);
    if (err)
        return err;
    exitcheck_root = t.root;

    make_leaks();
    scrub_stack();

    printf("wl_exitcheck: blocks=%zu block_size=%zu live_bytes=%llu pointers=%llu "
           "leaked_blocks=%d definite=%d indirect=%d checksum=%llu\n",
           t.blocks, t.size, (unsigned long long)t.blocks * t.size,
           (unsigned long long)t.pointers, 4 * LEAK_GROUPS, 3 * LEAK_GROUPS, LEAK_GROUPS,
           (unsigned long long)t.checksum);
    return 0;   /* the tree stays allocated and reachable from exitcheck_root */
}
