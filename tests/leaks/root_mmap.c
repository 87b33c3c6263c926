/*
 * root_mmap - a block (4010 bytes) whose only pointer is stored in memory
 * the program mapped itself (anonymous, private, read-write mmap), which
 * the check scans by default (scan_mmap=1).  Expected: no
 * definite/indirect leak, no leak entry of 4010 bytes, the block counted
 * in reachable.
 * The pointer is stored in keep(), whose frame main then clobbers; main
 * keeps only the mapping's address, which is not a heap address.
 */
#include "leaks_common.h"

#include <sys/mman.h>

LK_NOINLINE void keep(void **area)
{
    void *p = lk_xmalloc(4010);
    lk_fill(p, 4010);
    area[100] = p;
}

int main(void)
{
    void **area = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    LK_REQUIRE(area != MAP_FAILED);
    keep(area);
    lk_clobber_stack();
    return 0;
}
