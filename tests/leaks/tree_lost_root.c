/*
 * tree_lost_root - a complete binary tree of 7 nodes (24 bytes each) whose
 * root pointer is dropped.  Expected: the root definite (1 block, 24
 * bytes), its 6 descendants indirect (144 bytes), no cycle.
 * The tree is built and dropped inside make_tree; main clobbers the stack
 * afterwards.
 */
#include "leaks_common.h"

struct tree {
    struct tree *left, *right;
    long value;
};
_Static_assert(sizeof(struct tree) == 24, "expected numbers assume 24-byte nodes");

static LK_NOINLINE struct tree *node(long value, struct tree *l, struct tree *r)
{
    struct tree *t = lk_xmalloc(sizeof *t);
    t->left = l;
    t->right = r;
    t->value = value;
    return t;
}

LK_NOINLINE void make_tree(void)
{
    struct tree *a = node(1, NULL, NULL), *b = node(2, NULL, NULL);
    struct tree *c = node(3, NULL, NULL), *d = node(4, NULL, NULL);
    struct tree *root = node(0, node(10, a, b), node(20, c, d));
    (void)root;
}

int main(void)
{
    make_tree();
    lk_clobber_stack();
    return 0;
}
