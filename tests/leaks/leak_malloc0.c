/*
 * leak_malloc0 - malloc(0) returns a unique non-NULL pointer on glibc and
 * under leakmark; the block is leaked.  Its size is 0, so no word can point
 * into [start, start + 0): it is leaked whatever is on the stack.
 * Expected: definite 1 block / 0 bytes.
 * Made and dropped in leak_zero; main clobbers the stack.
 */
#include "leaks_common.h"

LK_NOINLINE void leak_zero(void)
{
    void *p = malloc(0);
    LK_REQUIRE(p != NULL);
}

int main(void)
{
    leak_zero();
    lk_clobber_stack();
    return 0;
}
