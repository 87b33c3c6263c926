/*
 * cycle_self - one 48-byte block that points to itself (at offset 8).
 * Expected: 1 cycle of 1 block (a self-loop counts as a cycle), the block
 * definite and in_cycle.
 * Built and dropped inside make_self; main clobbers the stack afterwards.
 */
#include "leaks_common.h"

struct self {
    long tag;
    struct self *me;
    char pad[32];
};
_Static_assert(sizeof(struct self) == 48, "expected numbers assume a 48-byte block");

LK_NOINLINE void make_self(void)
{
    struct self *s = lk_xmalloc(sizeof *s);
    lk_fill(s, sizeof *s);
    s->me = s;
}

int main(void)
{
    make_self();
    lk_clobber_stack();
    return 0;
}
