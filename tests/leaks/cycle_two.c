/*
 * cycle_two - two 32-byte blocks pointing at each other, nothing else
 * pointing at them.  Expected: 1 cycle (2 blocks, 64 bytes, a leak root),
 * both blocks definite (2 blocks / 64 bytes) and in_cycle; nothing
 * indirect.
 * Built and dropped inside make_pair; main clobbers the stack afterwards.
 */
#include "leaks_common.h"

struct pair {
    struct pair *other;
    char pad[24];
};
_Static_assert(sizeof(struct pair) == 32, "expected numbers assume 32-byte blocks");

LK_NOINLINE void make_pair(void)
{
    struct pair *a = lk_xmalloc(sizeof *a), *b = lk_xmalloc(sizeof *b);
    lk_fill(a, sizeof *a);
    lk_fill(b, sizeof *b);
    a->other = b;
    b->other = a;
}

int main(void)
{
    make_pair();
    lk_clobber_stack();
    return 0;
}
