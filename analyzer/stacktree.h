/*
 * stacktree.h - the blocks of a dump as a tree of symbolised call frames,
 * what a flame graph draws: the root ("all") holds every counted block,
 * its children the outermost frames of the allocation stacks (main, a
 * thread's start routine), each path from the root to a node one stack
 * prefix, read outermost to innermost (the innermost frame is the one that
 * called malloc).
 *
 * Frames are identified by their label: the function name when the
 * module's symbols know it, else "module+0xOFFSET" (basename); two stacks
 * whose first k frames have the same labels share the first k nodes
 * (merged prefixes), whatever their pcs or stack ids.  Blocks without a
 * stack hang under one "[no stack]" child of the root.  A stack deeper
 * than AN_FTREE_MAX_DEPTH keeps its innermost frames.
 *
 * Invariants after an_ftree_build:
 *   - nodes[0] is the root; every other node's parent has a smaller index;
 *   - bytes/blocks of a node = its self_* + the sum of its children's;
 *   - a node's children are kids[kid_start[v] .. kid_start[v+1]), sorted
 *     by strcmp of their names (deterministic output order).
 * Memory: malloc, released by an_ftree_free.  Names are owned by the tree;
 * `file` strings belong to the symbol session (symbols.h), which must
 * outlive the tree.
 */
#ifndef AN_STACKTREE_H
#define AN_STACKTREE_H

#include "model.h"
#include "symbols.h"

#define AN_FTREE_MAX_DEPTH 1024

struct an_fnode {
    const char *name;           /* interned label */
    const char *file;           /* source file of the first pc seen, NULL */
    int line_min, line_max;     /* lines of the pcs in `file`, 0: none */
    bool other_files;           /* some pcs of this node are in another file */
    uint32_t parent;            /* AN_NONE for the root */
    uint32_t depth;             /* root 0 */
    uint64_t bytes, blocks;     /* this frame and everything above it */
    uint64_t self_bytes, self_blocks;   /* stacks that end at this frame */
};

struct an_ftree {
    struct an_fnode *nodes;
    size_t n, cap;
    uint32_t *kid_start;        /* [n + 1] */
    uint32_t *kids;             /* [n - 1] */
    uint32_t max_depth;
    /* private: interned names and the (parent, name) -> node index */
    char **names;
    size_t nnames, cap_names;
    uint32_t *name_tab;
    size_t name_tab_cap;
    uint64_t *child_tab;        /* (parent << 32 | name id), 0 empty */
    uint32_t *child_val;
    size_t child_tab_cap;
};

enum an_ftree_filter { AN_FTREE_LIVE, AN_FTREE_LEAKED };

/* Builds the tree of the blocks of d that pass filter (live: all; leaked:
 * definite and indirect), symbolising through sym.  Returns 0, or -1 when
 * out of memory (then free it). */
int an_ftree_build(struct an_ftree *t, const struct an_dump *d, struct an_symtab *sym,
                   enum an_ftree_filter filter);
void an_ftree_free(struct an_ftree *t);

static inline uint32_t an_ftree_nkids(const struct an_ftree *t, uint32_t v)
{
    return t->kid_start[v + 1] - t->kid_start[v];
}
static inline const uint32_t *an_ftree_kids(const struct an_ftree *t, uint32_t v)
{
    return t->kids + t->kid_start[v];
}

#endif
