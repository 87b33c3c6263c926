/*
 * suppress_valgrind - suppressions in valgrind's format
 * (suppress_valgrind.supp), written as valgrind --gen-suppressions prints
 * them: the top frame is the allocation function (fun:malloc), which
 * leakmark's stacks leave out.
 *   make_vg_cycle   a two-block cycle (32 bytes each) from vg_cycle_node:
 *                   hidden by a frame-by-frame rule (fun:malloc,
 *                   fun:lk_xmalloc, fun:vg_cycle_node, fun:make_vg_cycle)
 *                   with match-leak-kinds: definite
 *   keep_interior   64 bytes reachable only through an interior pointer
 *                   (possible): hidden by "match-leak-kinds: possible" with
 *                   "..." before fun:keep_interior; lose_interior calls
 *                   keep_interior too but drops the block (definite, 64
 *                   bytes): the kind filter keeps it reported
 *   dup_name        strdup of a 15-character string (16 bytes), allocated
 *                   inside libc: hidden by obj:*libc.so* + fun:dup_name
 *   vg_visible      77 bytes, matched by no rule
 * Expected: definite 2 blocks / 141 bytes (vg_visible, keep_interior via
 * lose_interior), no possible, no cycle; suppressed 4 blocks / 144 bytes.
 * Every block is made and dropped in its own function; main clobbers the
 * stack afterwards (leaks_common.h).
 */
#define _GNU_SOURCE
#include "leaks_common.h"

#include <string.h>

static char *inner;

LK_NOINLINE void *vg_cycle_node(void)
{
    void **p = lk_xmalloc(32);
    lk_fill(p, 32);
    return p;
}

LK_NOINLINE void make_vg_cycle(void)
{
    void **a = vg_cycle_node(), **b = vg_cycle_node();
    a[0] = b;
    b[0] = a;
}

LK_NOINLINE char *keep_interior(void)
{
    char *p = lk_xmalloc(64);
    lk_fill(p, 64);
    return p;
}

LK_NOINLINE void hold_interior(void)
{
    inner = keep_interior() + 8;
}

LK_NOINLINE void lose_interior(void)
{
    keep_interior();
}

LK_NOINLINE void dup_name(void)
{
    char *s = strdup("suppressed-name");
    LK_REQUIRE(s != NULL && strlen(s) == 15);
}

LK_NOINLINE void vg_visible(void)
{
    lk_fill(lk_xmalloc(77), 77);
}

int main(void)
{
    make_vg_cycle();
    lk_clobber_stack();
    hold_interior();
    lk_clobber_stack();
    lose_interior();
    lk_clobber_stack();
    dup_name();
    lk_clobber_stack();
    vg_visible();
    lk_clobber_stack();
    return 0;
}
