/*
 * cycle_two_separate - two unrelated leaked cycles: a pair of 32-byte
 * blocks and a ring of three 64-byte blocks.  Expected: 2 cycles (2 blocks
 * / 64 bytes and 3 blocks / 192 bytes, both leak roots), all 5 blocks
 * definite (256 bytes) and in_cycle.
 * Built and dropped inside make_cycles; main clobbers the stack afterwards.
 */
#include "leaks_common.h"

LK_NOINLINE void **block(size_t size)
{
    void **b = lk_xmalloc(size);
    lk_fill(b, size);
    return b;
}

LK_NOINLINE void make_pair_cycle(void)
{
    void **a = block(32), **b = block(32);
    a[0] = b;
    b[0] = a;
}

LK_NOINLINE void make_ring_cycle(void)
{
    void **a = block(64), **b = block(64), **c = block(64);
    a[1] = b;
    b[2] = c;
    c[3] = a;
}

int main(void)
{
    make_pair_cycle();
    make_ring_cycle();
    lk_clobber_stack();
    return 0;
}
