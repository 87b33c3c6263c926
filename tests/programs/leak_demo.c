/*
 * leak_demo.c - the bundled demo that `scripts/leakmark` runs when no program
 * is given: it loses three kinds of memory and says what it did, so the
 * leak report at exit has something to show.
 *
 *   1. a plain block (definite leak);
 *   2. a small tree whose root pointer is dropped (root definite, the
 *      children indirect);
 *   3. a cycle of three blocks that nothing outside points to.
 *
 * It also keeps one block reachable from a global and frees everything else
 * it allocates, so "reachable" and "freed" are represented too.  Output is
 * deterministic (no addresses), so the integration tests can compare a plain
 * run with a preloaded one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    struct node *next;
    char tag[24];
};

struct tree {
    struct tree *left, *right;
    int value;
};

static char *kept;  /* reachable at exit through this global */

/* Hides a pointer from the compiler's view so the optimiser keeps the
 * allocation and its stores. */
static void *volatile sink;

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        perror("malloc");
        exit(1);
    }
    return p;
}

static size_t leak_plain(void)
{
    char *p = xmalloc(100);
    memset(p, 'x', 100);
    sink = p;
    return 100;
}

static struct tree *tree_new(int value, int depth, size_t *bytes)
{
    struct tree *t = xmalloc(sizeof *t);
    *bytes += sizeof *t;
    t->value = value;
    t->left = depth > 0 ? tree_new(2 * value, depth - 1, bytes) : NULL;
    t->right = depth > 0 ? tree_new(2 * value + 1, depth - 1, bytes) : NULL;
    return t;
}

static int tree_sum(const struct tree *t)
{
    return t ? t->value + tree_sum(t->left) + tree_sum(t->right) : 0;
}

static size_t leak_tree(int *sum)
{
    size_t bytes = 0;
    struct tree *root = tree_new(1, 2, &bytes);  /* 7 nodes */
    *sum = tree_sum(root);
    sink = root;
    sink = NULL;  /* the only pointer to the root is gone */
    return bytes;
}

static size_t leak_cycle(void)
{
    struct node *a = xmalloc(sizeof *a), *b = xmalloc(sizeof *b), *c = xmalloc(sizeof *c);
    a->next = b;
    b->next = c;
    c->next = a;
    snprintf(a->tag, sizeof a->tag, "cycle-a");
    snprintf(b->tag, sizeof b->tag, "cycle-b");
    snprintf(c->tag, sizeof c->tag, "cycle-c");
    sink = a;
    sink = NULL;
    return 3 * sizeof(struct node);
}

static size_t churn(void)
{
    size_t total = 0;
    for (int i = 0; i < 1000; i++) {
        size_t n = (size_t)(i % 97) * 16 + 1;
        char *p = xmalloc(n);
        memset(p, i & 0xff, n);
        total += n;
        free(p);
    }
    return total;
}

int main(void)
{
    int sum = 0;
    size_t plain = leak_plain();
    size_t tree = leak_tree(&sum);
    size_t cycle = leak_cycle();
    size_t freed = churn();

    kept = strdup("still reachable from a global");
    printf("leak_demo: leaked a plain block of %zu bytes\n", plain);
    printf("leak_demo: leaked a tree of 7 nodes (%zu bytes, values sum to %d) by dropping its root\n",
           tree, sum);
    printf("leak_demo: leaked a cycle of 3 blocks (%zu bytes) a -> b -> c -> a\n", cycle);
    printf("leak_demo: allocated and freed %zu bytes in 1000 blocks\n", freed);
    printf("leak_demo: kept %zu bytes reachable from a global\n", strlen(kept) + 1);
    printf("leak_demo: expected lost: %zu bytes in 11 blocks\n", plain + tree + cycle);
    return 0;
}
