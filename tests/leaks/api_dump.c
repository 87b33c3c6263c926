/*
 * api_dump - lm_dump_heap writes one heap dump (trigger "api"); it returns
 * 0 (ENOSYS without leakmark).  The dump holds a 777-byte block lost just
 * before, as its only definite leak, and a 1234-byte block whose only
 * pointer is in a registered shared mapping (a root of dumps too, so not
 * leaked).  The exit check reports the same.
 */
#include "api_common.h"

#include <errno.h>
#include <sys/mman.h>

static void **region;

LK_NOINLINE void make_leak(void)
{
    lk_fill(lk_xmalloc(777), 777);
}

LK_NOINLINE void stash(void)
{
    void *b = lk_xmalloc(1234);
    lk_fill(b, 1234);
    region[9] = b;
}

int main(void)
{
    region = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    LK_REQUIRE(region != MAP_FAILED);
    lk_api_expect("register", lm_register_root(region, 4096), 0, 0);
    stash();
    lk_clobber_stack();
    make_leak();
    lk_clobber_stack();
    lk_api_expect("dump_heap", lm_dump_heap(), 0, ENOSYS);
    return lk_api_status();
}
