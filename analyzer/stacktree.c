/*
 * stacktree.c - builds the frame tree of a dump (see stacktree.h).
 *
 * Blocks are first summed per stack (one pass), then each stack with
 * counted blocks is walked once from its outermost frame inwards, adding
 * its sums to every node on the way.  Labels are interned (a hash table of
 * names), so that a node's child for a label is found in a second hash
 * table keyed by (parent, name id).  Both tables use open addressing and
 * double at half full.  No recursion.
 */
#include "stacktree.h"
#include "stackfmt.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;        /* FNV-1a, 64 bit */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static uint64_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
}

static bool grow_names(struct an_ftree *t)
{
    size_t ncap = t->name_tab_cap ? t->name_tab_cap * 2 : 1024;
    uint32_t *nt = calloc(ncap, sizeof *nt);
    if (!nt)
        return false;
    for (size_t i = 0; i < t->nnames; i++) {
        size_t j = hash_str(t->names[i]) & (ncap - 1);
        while (nt[j])
            j = (j + 1) & (ncap - 1);
        nt[j] = (uint32_t)i + 1;
    }
    free(t->name_tab);
    t->name_tab = nt;
    t->name_tab_cap = ncap;
    return true;
}

/* Id of name (copied on first sight), or AN_NONE when out of memory. */
static uint32_t intern(struct an_ftree *t, const char *name)
{
    if ((t->nnames + 1) * 2 > t->name_tab_cap && !grow_names(t))
        return AN_NONE;
    size_t j = hash_str(name) & (t->name_tab_cap - 1);
    for (; t->name_tab[j]; j = (j + 1) & (t->name_tab_cap - 1))
        if (!strcmp(t->names[t->name_tab[j] - 1], name))
            return t->name_tab[j] - 1;
    if (!an_vec_reserve((void **)&t->names, t->nnames, &t->cap_names, 1, sizeof *t->names))
        return AN_NONE;
    char *copy = strdup(name);
    if (!copy)
        return AN_NONE;
    t->names[t->nnames] = copy;
    t->name_tab[j] = (uint32_t)++t->nnames;
    return (uint32_t)t->nnames - 1;
}

static bool grow_children(struct an_ftree *t)
{
    size_t ncap = t->child_tab_cap ? t->child_tab_cap * 2 : 1024;
    uint64_t *nk = calloc(ncap, sizeof *nk);
    uint32_t *nv = malloc(ncap * sizeof *nv);
    if (!nk || !nv) {
        free(nk);
        free(nv);
        return false;
    }
    for (size_t i = 0; i < t->child_tab_cap; i++) {
        if (!t->child_tab[i])
            continue;
        size_t j = mix(t->child_tab[i]) & (ncap - 1);
        while (nk[j])
            j = (j + 1) & (ncap - 1);
        nk[j] = t->child_tab[i];
        nv[j] = t->child_val[i];
    }
    free(t->child_tab);
    free(t->child_val);
    t->child_tab = nk;
    t->child_val = nv;
    t->child_tab_cap = ncap;
    return true;
}

static uint32_t add_node(struct an_ftree *t, uint32_t name, uint32_t parent)
{
    if (t->n >= UINT32_MAX - 1 ||
        !an_vec_reserve((void **)&t->nodes, t->n, &t->cap, 1, sizeof *t->nodes))
        return AN_NONE;
    uint32_t depth = parent == AN_NONE ? 0 : t->nodes[parent].depth + 1;
    t->nodes[t->n] = (struct an_fnode){ .name = t->names[name], .parent = parent,
                                        .depth = depth };
    if (depth > t->max_depth)
        t->max_depth = depth;
    return (uint32_t)t->n++;
}

/* The child of parent labelled name, created when missing; AN_NONE when
 * out of memory. */
static uint32_t child(struct an_ftree *t, uint32_t parent, const char *name)
{
    uint32_t id = intern(t, name);
    if (id == AN_NONE)
        return AN_NONE;
    if ((t->n + 1) * 2 > t->child_tab_cap && !grow_children(t))
        return AN_NONE;
    uint64_t key = ((uint64_t)parent << 32 | id) + 1;
    size_t j = mix(key) & (t->child_tab_cap - 1);
    for (; t->child_tab[j]; j = (j + 1) & (t->child_tab_cap - 1))
        if (t->child_tab[j] == key)
            return t->child_val[j];
    uint32_t v = add_node(t, id, parent);
    if (v != AN_NONE) {
        t->child_tab[j] = key;
        t->child_val[j] = v;
    }
    return v;
}

static void note_line(struct an_fnode *n, const struct an_sym *s)
{
    if (!s->file)
        return;
    if (!n->file) {
        n->file = s->file;          /* the symtab's cache owns it */
        n->line_min = n->line_max = s->line;
    } else if (strcmp(n->file, s->file)) {
        n->other_files = true;
    } else {
        if (s->line < n->line_min) n->line_min = s->line;
        if (s->line > n->line_max) n->line_max = s->line;
    }
}

static void add(struct an_fnode *n, uint64_t bytes, uint64_t blocks)
{
    n->bytes += bytes;
    n->blocks += blocks;
}

/* One stack's sums along its frames, outermost first. */
static int add_stack(struct an_ftree *t, struct an_symtab *sym, const struct an_stack *st,
                     uint64_t bytes, uint64_t blocks)
{
    uint32_t used = st->nframes < AN_FTREE_MAX_DEPTH ? st->nframes : AN_FTREE_MAX_DEPTH;
    uint32_t cur = 0;
    for (uint32_t i = used; i-- > 0;) {
        struct an_sym s;
        an_sym_lookup(sym, st->pcs[i], &s);
        char buf[4096];
        const char *label = s.function;
        if (!label) {
            snprintf(buf, sizeof buf, "%s+0x%llx", an_basename(s.module),
                     (unsigned long long)(st->pcs[i] - s.bias));
            label = buf;
        }
        if ((cur = child(t, cur, label)) == AN_NONE)
            return -1;
        note_line(&t->nodes[cur], &s);
        add(&t->nodes[cur], bytes, blocks);
    }
    t->nodes[cur].self_bytes += bytes;
    t->nodes[cur].self_blocks += blocks;
    return 0;
}

static int cmp_kid(const void *a, const void *b, void *arg)
{
    const struct an_fnode *n = arg;
    return strcmp(n[*(const uint32_t *)a].name, n[*(const uint32_t *)b].name);
}

static int link_kids(struct an_ftree *t)
{
    t->kid_start = calloc(t->n + 1, sizeof *t->kid_start);
    t->kids = malloc((t->n ? t->n : 1) * sizeof *t->kids);
    uint32_t *fill = malloc((t->n ? t->n : 1) * sizeof *fill);
    if (!t->kid_start || !t->kids || !fill) {
        free(fill);
        return -1;
    }
    for (size_t v = 1; v < t->n; v++)
        t->kid_start[t->nodes[v].parent + 1]++;
    for (size_t v = 0; v < t->n; v++) {
        t->kid_start[v + 1] += t->kid_start[v];
        fill[v] = t->kid_start[v];
    }
    for (size_t v = 1; v < t->n; v++)
        t->kids[fill[t->nodes[v].parent]++] = (uint32_t)v;
    for (size_t v = 0; v < t->n; v++)
        qsort_r(t->kids + t->kid_start[v], an_ftree_nkids(t, (uint32_t)v), sizeof *t->kids,
                cmp_kid, t->nodes);
    free(fill);
    return 0;
}

int an_ftree_build(struct an_ftree *t, const struct an_dump *d, struct an_symtab *sym,
                   enum an_ftree_filter filter)
{
    memset(t, 0, sizeof *t);
    uint32_t root_name = intern(t, "all");
    if (root_name == AN_NONE || add_node(t, root_name, AN_NONE) == AN_NONE)
        return -1;
    uint64_t (*per)[2] = calloc(d->nstacks ? d->nstacks : 1, sizeof *per);
    if (!per)
        return -1;
    uint64_t none_bytes = 0, none_blocks = 0;
    for (size_t i = 0; i < d->nblocks; i++) {
        const struct an_block *b = &d->blocks[i];
        if (filter == AN_FTREE_LEAKED && !an_class_leaked(b->cls))
            continue;
        add(&t->nodes[0], b->size, 1);
        if (b->stack == AN_NONE || !d->stacks[b->stack].nframes) {
            none_bytes += b->size;
            none_blocks++;
        } else {
            per[b->stack][0] += b->size;
            per[b->stack][1]++;
        }
    }
    int rc = 0;
    for (size_t s = 0; s < d->nstacks && !rc; s++)
        if (per[s][1])
            rc = add_stack(t, sym, &d->stacks[s], per[s][0], per[s][1]);
    free(per);
    if (!rc && none_blocks) {
        uint32_t v = child(t, 0, "[no stack]");
        if (v == AN_NONE)
            return -1;
        add(&t->nodes[v], none_bytes, none_blocks);
        t->nodes[v].self_bytes = none_bytes;
        t->nodes[v].self_blocks = none_blocks;
    }
    return rc ? rc : link_kids(t);
}

void an_ftree_free(struct an_ftree *t)
{
    for (size_t i = 0; i < t->nnames; i++)
        free(t->names[i]);
    free(t->names);
    free(t->name_tab);
    free(t->child_tab);
    free(t->child_val);
    free(t->nodes);
    free(t->kid_start);
    free(t->kids);
    memset(t, 0, sizeof *t);
}
