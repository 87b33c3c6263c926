/*
 * list_100k - a singly-linked list of 100,000 nodes (16 bytes each) whose
 * head pointer is dropped.  Expected: the head definite (1 block, 16
 * bytes), the other 99,999 nodes indirect (1,599,984 bytes), no cycle.
 * This also makes the leak graph long and thin: any recursive traversal of
 * it (marking, SCCs) would need 100,000 frames.
 * Built by appending in make_list; main clobbers the stack afterwards.
 */
#include "leaks_common.h"

#define NODES 100000

struct node {
    struct node *next;
    long value;
};
_Static_assert(sizeof(struct node) == 16, "expected numbers assume 16-byte nodes");

LK_NOINLINE void make_list(void)
{
    struct node *head = NULL, **tail = &head;
    for (long i = 0; i < NODES; i++) {
        struct node *n = lk_xmalloc(sizeof *n);
        n->next = NULL;
        n->value = i;
        *tail = n;
        tail = &n->next;
    }
    head = NULL;
    tail = NULL;
}

int main(void)
{
    make_list();
    lk_clobber_stack();
    return 0;
}
