/*
 * root_data - a block (4001 bytes) whose only pointer is an initialised
 * global, placed in .data (checked against the linker's __data_start and
 * _edata).  Expected: no definite/indirect leak, no leak entry of 4001
 * bytes, the block counted in reachable.
 * The global is written in keep(), whose frame main then clobbers, so the
 * global is the only copy left.
 */
#include "leaks_common.h"

extern char __data_start[], _edata[];

void *data_root = (void *)1;   /* non-zero initialiser: .data, not .bss */

LK_NOINLINE void keep(void)
{
    void *p = lk_xmalloc(4001);
    lk_fill(p, 4001);
    data_root = p;
}

int main(void)
{
    LK_REQUIRE((char *)&data_root >= __data_start && (char *)&data_root < _edata);
    keep();
    lk_clobber_stack();
    return 0;
}
