/*
 * interior_pointer - a 64-byte block whose only pointer (in a .bss global)
 * points 8 bytes into it, as custom allocators and headers-before-data
 * schemes do.  Expected: possible 1 block / 64 bytes, not definite (no
 * definite leak at all), no cycle.
 * The global is set in keep(), whose frame (which also held the start
 * pointer) main then clobbers.
 */
#include "leaks_common.h"

static char *inner;

LK_NOINLINE void keep(void)
{
    char *p = lk_xmalloc(64);
    lk_fill(p, 64);
    inner = p + 8;
}

int main(void)
{
    keep();
    lk_clobber_stack();
    return 0;
}
