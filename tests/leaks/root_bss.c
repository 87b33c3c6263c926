/*
 * root_bss - a block (4002 bytes) whose only pointer is a zero-initialised
 * static global, placed in .bss (checked against __bss_start and _end).
 * Expected: no definite/indirect leak, no leak entry of 4002 bytes, the
 * block counted in reachable.
 * The global is written in keep(), whose frame main then clobbers.
 */
#include "leaks_common.h"

extern char __bss_start[], _end[];

static void *bss_root;

LK_NOINLINE void keep(void)
{
    void *p = lk_xmalloc(4002);
    lk_fill(p, 4002);
    bss_root = p;
}

int main(void)
{
    LK_REQUIRE((char *)&bss_root >= __bss_start && (char *)&bss_root < _end);
    keep();
    lk_clobber_stack();
    return 0;
}
