/*
 * suppress_lsan - suppressions in LeakSanitizer's format
 * (suppress_lsan.supp, given with suppressions=FILE).
 *   hidden_root    a 24-byte node holding two 24-byte children that
 *                  alloc_kid allocated: "leak:hidden_root" hides the root
 *                  and, as LeakSanitizer does, the two indirect children
 *                  it holds (their own stacks match no rule)
 *   quiet_leak     50 bytes, hidden by the anchored "leak:^quiet_leak$"
 *   loud_leak      100 bytes, matched by no rule: the only leak reported
 *                  ("leak:^loud" would match; the file has "leak:^oud",
 *                  which must not: '^' anchors)
 * Expected: definite 1 block / 100 bytes in loud_leak, nothing indirect or
 * possible; suppressed 4 blocks / 122 bytes; rule hits hidden_root 1/24,
 * ^quiet_leak$ 1/50.
 * Every block is made and dropped in its own function; main clobbers the
 * stack afterwards (leaks_common.h).
 */
#include "leaks_common.h"

struct node {
    struct node *left, *right;
    long value;
};
_Static_assert(sizeof(struct node) == 24, "expected numbers assume 24-byte nodes");

static LK_NOINLINE struct node *alloc_kid(long v)
{
    struct node *n = lk_xmalloc(sizeof *n);
    n->left = n->right = NULL;
    n->value = v;
    return n;
}

LK_NOINLINE struct node *hidden_root(void)
{
    struct node *n = lk_xmalloc(sizeof *n);
    n->value = 0;
    return n;
}

LK_NOINLINE void build_hidden_tree(void)
{
    struct node *a = alloc_kid(1), *b = alloc_kid(2);
    struct node *root = hidden_root();
    root->left = a;
    root->right = b;
}

LK_NOINLINE void quiet_leak(void)
{
    lk_fill(lk_xmalloc(50), 50);
}

LK_NOINLINE void loud_leak(void)
{
    lk_fill(lk_xmalloc(100), 100);
}

int main(void)
{
    build_hidden_tree();
    lk_clobber_stack();
    quiet_leak();
    lk_clobber_stack();
    loud_leak();
    lk_clobber_stack();
    return 0;
}
