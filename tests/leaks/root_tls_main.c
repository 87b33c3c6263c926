/*
 * root_tls_main - a block (4005 bytes) whose only pointer is a __thread
 * variable of the main thread (static TLS of the executable).  Expected:
 * no definite/indirect leak, no leak entry of 4005 bytes, the block
 * counted in reachable.
 * The variable is set in keep(), whose frame main then clobbers.
 */
#include "leaks_common.h"

static __thread void *tls_root;

LK_NOINLINE void keep(void)
{
    void *p = lk_xmalloc(4005);
    lk_fill(p, 4005);
    tls_root = p;
}

int main(void)
{
    keep();
    lk_clobber_stack();
    return 0;
}
