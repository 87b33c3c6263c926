/*
 * alloc_variants - leaks made by every way of getting a block but malloc;
 * the sizes reported must be the sizes asked for, not the allocator's:
 *   leak_realloc_grow    malloc(10) then realloc to 3000     -> 3000 bytes
 *   leak_realloc_shrink  malloc(5000) then realloc to 40     ->   40 bytes
 *   leak_calloc          calloc(7, 13)                       ->   91 bytes
 *   leak_aligned_alloc   aligned_alloc(64, 192)              ->  192 bytes
 *   leak_posix_memalign  posix_memalign(&p, 256, 1000)       -> 1000 bytes
 * Expected: definite 5 blocks / 4323 bytes, one entry of each size.
 * Each is made and dropped in its own function; main clobbers the stack.
 */
#include "leaks_common.h"

#include <stdint.h>

LK_NOINLINE void leak_realloc_grow(void)
{
    char *p = lk_xmalloc(10);
    lk_fill(p, 10);
    p = realloc(p, 3000);
    LK_REQUIRE(p != NULL);
    lk_fill(p, 3000);
}

LK_NOINLINE void leak_realloc_shrink(void)
{
    char *p = lk_xmalloc(5000);
    lk_fill(p, 5000);
    p = realloc(p, 40);
    LK_REQUIRE(p != NULL);
}

LK_NOINLINE void leak_calloc(void)
{
    char *p = calloc(7, 13);
    LK_REQUIRE(p != NULL);
}

LK_NOINLINE void leak_aligned_alloc(void)
{
    char *p = aligned_alloc(64, 192);
    LK_REQUIRE(p != NULL && ((uintptr_t)p & 63) == 0);
    lk_fill(p, 192);
}

LK_NOINLINE void leak_posix_memalign(void)
{
    void *p = NULL;
    LK_REQUIRE(posix_memalign(&p, 256, 1000) == 0);
    LK_REQUIRE(((uintptr_t)p & 255) == 0);
    lk_fill(p, 1000);
}

int main(void)
{
    leak_realloc_grow();
    leak_realloc_shrink();
    leak_calloc();
    leak_aligned_alloc();
    leak_posix_memalign();
    lk_clobber_stack();
    return 0;
}
