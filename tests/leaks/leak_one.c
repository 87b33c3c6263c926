/*
 * leak_one - the simplest leak: one block of 100 bytes whose only pointer
 * is dropped.  Expected: definite 1 block / 100 bytes, allocated in
 * make_plain; nothing indirect, possible or cyclic.
 * Lost for sure: make_plain returns nothing, main clobbers the stack and
 * caller-saved registers afterwards (leaks_common.h).
 */
#include "leaks_common.h"

LK_NOINLINE void make_plain(void)
{
    char *p = lk_xmalloc(100);
    lk_fill(p, 100);
}

int main(void)
{
    make_plain();
    lk_clobber_stack();
    return 0;
}
