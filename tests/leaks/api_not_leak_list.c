/*
 * api_not_leak_list - a 48-byte head holding a list of 10 nodes (32 bytes
 * each), marked with lm_not_leak through an interior pointer, then every
 * pointer to it dropped: neither the head nor the list is reported (the
 * head's contents are scanned as a root).  A plain 100-byte leak next to
 * it is still reported, alone.
 */
#include "api_common.h"

struct node {
    struct node *next;
    char pad[24];
};

struct head {
    char name[8];
    struct node *first;
    char pad[32];
};

LK_NOINLINE void make_kept_list(void)
{
    struct head *h = lk_xmalloc(sizeof *h);
    lk_fill(h, sizeof *h);
    h->first = NULL;
    for (int i = 0; i < 10; i++) {
        struct node *n = lk_xmalloc(sizeof *n);
        lk_fill(n, sizeof *n);
        n->next = h->first;
        h->first = n;
    }
    lk_api_expect("not_leak (interior pointer)", lm_not_leak(&h->first), 0, 0);
}

LK_NOINLINE void make_plain_leak(void)
{
    lk_fill(lk_xmalloc(100), 100);
}

int main(void)
{
    _Static_assert(sizeof(struct head) == 48 && sizeof(struct node) == 32, "sizes the test expects");
    make_kept_list();
    lk_clobber_stack();
    make_plain_leak();
    lk_clobber_stack();
    return lk_api_status();
}
