/*
 * cycle_tail - a "tail" block (64 bytes) pointing into a cycle of three
 * 32-byte blocks A -> B -> C -> A, all dropped.  The tail is the only leak
 * root: expected tail definite (1 block, 64 bytes), A, B, C indirect (3
 * blocks, 96 bytes), 1 cycle that is not a root (root=false, in_cycle on
 * the indirect entry).
 * Built and dropped inside make_tail; main clobbers the stack afterwards.
 */
#include "leaks_common.h"

struct ring {
    struct ring *next;
    char pad[24];
};
_Static_assert(sizeof(struct ring) == 32, "expected numbers assume 32-byte ring blocks");

LK_NOINLINE struct ring *ring_node(void)
{
    struct ring *r = lk_xmalloc(sizeof *r);
    lk_fill(r, sizeof *r);
    return r;
}

LK_NOINLINE void make_tail(void)
{
    struct ring *a = ring_node(), *b = ring_node(), *c = ring_node();
    a->next = b;
    b->next = c;
    c->next = a;
    void **tail = lk_xmalloc(64);
    lk_fill(tail, 64);
    tail[0] = b;
}

int main(void)
{
    make_tail();
    lk_clobber_stack();
    return 0;
}
