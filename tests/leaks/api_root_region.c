/*
 * api_root_region - a block (2011 bytes) whose only pointer lies in a
 * shared anonymous mapping, which leakmark never scans on its own (only
 * private anonymous memory is an MMAP root).  Registered with
 * lm_register_root, the mapping is a root: lm_check_now reports no leak.
 * Unregistered, it is not: the exit check reports the block as a definite
 * leak allocated in stash().  (2011 bytes: not the size class of stdout's
 * 4096-byte buffer, whose one-past-the-end pointer in the FILE would name
 * the next block of that class and keep it alive.)
 */
#include "api_common.h"

#include <sys/mman.h>

#define REGION_BYTES 4096

static void **region;

LK_NOINLINE void stash(void)
{
    void *b = lk_xmalloc(2011);
    lk_fill(b, 2011);
    region[5] = b;
}

int main(void)
{
    region = mmap(NULL, REGION_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    LK_REQUIRE(region != MAP_FAILED);
    lk_api_expect("register", lm_register_root(region, REGION_BYTES), 0, 0);
    stash();
    lk_clobber_stack();
    lk_api_expect("check_now while registered", lm_check_now(), 0, -1);
    lk_api_keep_report();
    lk_api_expect("unregister", lm_unregister_root(region, REGION_BYTES), 0, 0);
    return lk_api_status();
}
