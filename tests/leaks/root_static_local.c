/*
 * root_static_local - a block (4003 bytes) whose only pointer is a static
 * local variable of a function.  Expected: no definite/indirect leak, no
 * leak entry of 4003 bytes, the block counted in reachable.
 * The variable is set in cache_once(), whose frame main then clobbers.
 */
#include "leaks_common.h"

LK_NOINLINE void *cache_once(void)
{
    static void *cached;
    if (!cached) {
        cached = lk_xmalloc(4003);
        lk_fill(cached, 4003);
    }
    return cached != NULL ? (void *)1 : NULL;   /* never hand the pointer out */
}

int main(void)
{
    LK_REQUIRE(cache_once() != NULL);
    lk_clobber_stack();
    return 0;
}
