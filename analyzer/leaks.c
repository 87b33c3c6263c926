/*
 * leaks.c - grouping of leaked and possible blocks (see leaks.h).
 * Sort-based: (kind, stack id, block) triples are sorted and each run of
 * equal keys becomes one group.
 */
#include "leaks.h"

#include <stdlib.h>
#include <string.h>

const char *const an_kind_name[3] = { "definite", "indirect", "possible" };

struct item {
    uint8_t kind;
    uint32_t stack_id;
    uint32_t block;
};

static int cmp_item(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->stack_id != y->stack_id)
        return x->stack_id < y->stack_id ? -1 : 1;
    return x->block < y->block ? -1 : x->block > y->block;
}

static const struct an_leaks *sort_ctx;

static int cmp_group(const void *a, const void *b)
{
    const struct an_group *x = &sort_ctx->groups[*(const uint32_t *)a];
    const struct an_group *y = &sort_ctx->groups[*(const uint32_t *)b];
    if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
    if (x->blocks != y->blocks) return x->blocks > y->blocks ? -1 : 1;
    if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
    return x->stack_id < y->stack_id ? -1 : x->stack_id > y->stack_id;
}

uint32_t an_leaks_owner_group(const struct an_leaks *L, uint32_t v)
{
    uint32_t o = L->g.owner[L->g.scc[v]];
    if (o == AN_NONE || !an_scc_size(&L->g, o))
        return AN_NONE;
    return L->node_group[an_scc_members(&L->g, o)[0]];
}

static int group(struct an_leaks *L)
{
    const struct an_dump *d = L->d;
    size_t n = 0;
    struct item *it = malloc((d->nblocks ? d->nblocks : 1) * sizeof *it);
    if (!it)
        return -1;
    for (size_t i = 0; i < d->nblocks; i++) {
        unsigned c = d->blocks[i].cls;
        if (c == LM_DUMP_DEFINITE || c == LM_DUMP_INDIRECT || c == LM_DUMP_POSSIBLE)
            it[n++] = (struct item){ c == LM_DUMP_DEFINITE ? AN_K_DEFINITE
                                   : c == LM_DUMP_INDIRECT ? AN_K_INDIRECT : AN_K_POSSIBLE,
                                   d->blocks[i].stack_id, (uint32_t)i };
    }
    qsort(it, n, sizeof *it, cmp_item);
    L->groups = calloc(n ? n : 1, sizeof *L->groups);
    if (!L->groups) {
        free(it);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const struct an_block *b = &d->blocks[it[i].block];
        if (!i || cmp_item(&(struct item){ it[i].kind, it[i].stack_id, 0 },
                           &(struct item){ it[i - 1].kind, it[i - 1].stack_id, 0 }))
            L->groups[L->ngroups++] = (struct an_group){ .stack_id = b->stack_id,
                .stack = b->stack, .kind = it[i].kind, .owner = AN_NONE };
        struct an_group *g = &L->groups[L->ngroups - 1];
        g->blocks++;
        g->bytes += b->size;
        g->gen_blocks[b->gen]++;
        uint32_t v = L->g.block_node[it[i].block];
        if (v != AN_NONE) {
            L->node_group[v] = (uint32_t)(L->ngroups - 1);
            if (L->g.scc_flags[L->g.scc[v]] & AN_SCC_CYCLE)
                g->in_cycle = true;
        }
    }
    free(it);
    return 0;
}

int an_leaks_build(const struct an_dump *d, struct an_leaks *L)
{
    memset(L, 0, sizeof *L);
    L->d = d;
    if (an_graph_build(d, &L->g))
        return -1;
    an_dump_summary(d, L->g.cycles, L->summary);
    L->node_group = malloc((L->g.n ? L->g.n : 1) * sizeof *L->node_group);
    if (!L->node_group || group(L))
        return -1;
    for (uint32_t v = 0; v < L->g.n; v++) {       /* what holds what */
        if (L->groups[L->node_group[v]].kind != AN_K_INDIRECT)
            continue;
        uint32_t c = L->g.scc[v];
        if (L->g.owner[c] == c)                   /* class says indirect, graph root */
            continue;
        uint32_t og = an_leaks_owner_group(L, v);
        if (og == AN_NONE)
            continue;
        L->groups[og].held_blocks++;
        L->groups[og].held_bytes += d->blocks[L->g.node_block[v]].size;
        struct an_group *mine = &L->groups[L->node_group[v]];
        if (mine->owner == AN_NONE)
            mine->owner = og;
    }
    L->order = malloc((L->ngroups ? L->ngroups : 1) * sizeof *L->order);
    L->rank = malloc((L->ngroups ? L->ngroups : 1) * sizeof *L->rank);
    if (!L->order || !L->rank)
        return -1;
    for (size_t i = 0; i < L->ngroups; i++)
        L->order[i] = (uint32_t)i;
    sort_ctx = L;
    qsort(L->order, L->ngroups, sizeof *L->order, cmp_group);
    for (size_t i = 0; i < L->ngroups; i++)
        L->rank[L->order[i]] = (uint32_t)i;
    return 0;
}

void an_leaks_free(struct an_leaks *L)
{
    an_graph_free(&L->g);
    free(L->groups);
    free(L->order);
    free(L->rank);
    free(L->node_group);
    memset(L, 0, sizeof *L);
}
