/*
 * leak_64mib - one 64 MiB block (67108864 bytes) leaked.  Expected:
 * definite 1 block / 67108864 bytes, nothing possible: a block this size
 * is a big target for values that merely look like pointers into it (the
 * valgrind "possibly lost" trap of shared/PITFALLS.md), and nothing in this
 * program points into it.  Only the first and last page are written (the
 * rest of a fresh large block is zero pages).
 * Made and dropped in leak_big; main clobbers the stack.
 */
#include "leaks_common.h"

#define BIG (64u << 20)

LK_NOINLINE void leak_big(void)
{
    char *p = lk_xmalloc(BIG);
    lk_fill(p, 4096);
    lk_fill(p + BIG - 4096, 4096);
}

int main(void)
{
    leak_big();
    lk_clobber_stack();
    return 0;
}
