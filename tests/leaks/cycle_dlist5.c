/*
 * cycle_dlist5 - a doubly-linked (not circular) list of 5 nodes of 24
 * bytes, dropped.  next/prev make the 5 nodes one strongly connected
 * component: expected 1 cycle of 5 blocks (120 bytes, a leak root), all 5
 * definite and in_cycle, nothing indirect.
 * Built and dropped inside make_dlist; main clobbers the stack afterwards.
 */
#include "leaks_common.h"

struct dnode {
    struct dnode *next, *prev;
    long value;
};
_Static_assert(sizeof(struct dnode) == 24, "expected numbers assume 24-byte nodes");

LK_NOINLINE void make_dlist(void)
{
    struct dnode *head = NULL, *last = NULL;
    for (long i = 0; i < 5; i++) {
        struct dnode *n = lk_xmalloc(sizeof *n);
        n->next = NULL;
        n->prev = last;
        n->value = i;
        if (last)
            last->next = n;
        else
            head = n;
        last = n;
    }
    head = last = NULL;
    (void)head;
}

int main(void)
{
    make_dlist();
    lk_clobber_stack();
    return 0;
}
