/*
 * cycle_refcount - the classic leak of reference counting: a parent object
 * (40 bytes) holds a counted reference to a children array (24 bytes: 3
 * pointers), each of 3 children (40 bytes) holds a counted reference back
 * to its parent, and each child owns a name string (16 bytes, no pointers).
 * The program drops its own reference: the parent's count goes from 4 to 3
 * (the children's back-references), never 0, so nothing is freed.
 * Graph: parent -> array -> child_i -> parent (one SCC of 5 blocks, a leak
 * root) and child_i -> name_i (outside the SCC).
 * Expected: 1 cycle of 5 blocks (40 + 24 + 3*40 = 184 bytes), those 5
 * definite; the 3 names indirect (48 bytes).
 * Built and released inside make_family; main clobbers the stack afterwards.
 */
#include "leaks_common.h"

#include <string.h>

struct obj {
    long refs;
    void (*destroy)(struct obj *);
};

struct parent {
    struct obj base;
    struct obj **children;   /* array of 3, counted references */
    long nchildren;
    long pad;
};
_Static_assert(sizeof(struct parent) == 40, "expected numbers assume a 40-byte parent");

struct child {
    struct obj base;
    struct parent *parent;   /* counted back-reference: the cycle */
    char *name;
    long pad;
};
_Static_assert(sizeof(struct child) == 40, "expected numbers assume 40-byte children");

static void obj_release(struct obj *o)
{
    if (--o->refs == 0)
        o->destroy(o);
}

static void parent_destroy(struct obj *o)
{
    struct parent *p = (struct parent *)o;
    for (long i = 0; i < p->nchildren; i++)
        obj_release(p->children[i]);
    free(p->children);
    free(p);
}

static void child_destroy(struct obj *o)
{
    struct child *c = (struct child *)o;
    obj_release(&c->parent->base);
    free(c->name);
    free(c);
}

LK_NOINLINE void make_family(void)
{
    struct parent *p = lk_xmalloc(sizeof *p);
    p->base.refs = 1;                       /* the program's reference */
    p->base.destroy = parent_destroy;
    p->nchildren = 3;
    p->pad = 0;
    p->children = lk_xmalloc(3 * sizeof *p->children);
    for (int i = 0; i < 3; i++) {
        struct child *c = lk_xmalloc(sizeof *c);
        c->base.refs = 1;                   /* held by the parent's array */
        c->base.destroy = child_destroy;
        c->parent = p;
        p->base.refs++;                     /* the back-reference */
        c->name = lk_xmalloc(16);
        memset(c->name, 0, 16);
        c->name[0] = (char)('a' + i);
        c->pad = 0;
        p->children[i] = &c->base;
    }
    obj_release(&p->base);                  /* 4 -> 3: nothing freed */
    LK_REQUIRE(p->base.refs == 3);
}

int main(void)
{
    make_family();
    lk_clobber_stack();
    return 0;
}
