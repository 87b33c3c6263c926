/*
 * root_pthread_key - two blocks whose only pointers are thread-specific
 * values of the main thread: one (4007 bytes) under the first key
 * (glibc keeps it in struct pthread itself, in the static TLS area), one
 * (4107 bytes) under the 40th key (glibc keeps keys >= 32 in a second-level
 * array it callocs, so the block is reachable only through a block libc
 * allocated).  Expected: no definite/indirect leak, no leak entry of 4007
 * or 4107 bytes, both counted in reachable.
 * The values are set in keep(), whose frame main then clobbers.
 */
#include "leaks_common.h"

#include <pthread.h>

#define NKEYS 40

static pthread_key_t keys[NKEYS];

LK_NOINLINE void keep(void)
{
    void *a = lk_xmalloc(4007), *b = lk_xmalloc(4107);
    lk_fill(a, 4007);
    lk_fill(b, 4107);
    LK_REQUIRE(pthread_setspecific(keys[0], a) == 0);
    LK_REQUIRE(pthread_setspecific(keys[NKEYS - 1], b) == 0);
}

int main(void)
{
    for (int i = 0; i < NKEYS; i++)
        LK_REQUIRE(pthread_key_create(&keys[i], NULL) == 0);
    keep();
    lk_clobber_stack();
    return 0;
}
