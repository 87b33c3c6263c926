/*
 * graph.h - the graph of leaked blocks of a dump, from its EDGES record:
 * strongly connected components, cycles, leak roots and, per SCC, a root
 * that reaches it (its owner).
 *
 * It reproduces preload/leakgraph.c step for step, so that the analyzer
 * numbers cycles and members exactly as the exit report does: nodes are
 * the leaked (definite or indirect) blocks in file order, which is address
 * order as in the mark; each node's out-edges are sorted by (offset, to)
 * with exact duplicates removed; iterative Tarjan from nodes in order,
 * SCC ids reversed into topological order; members of an SCC ascending;
 * owners propagated in topological order.
 *
 * Memory: malloc; an_graph_free releases it.  No recursion.
 */
#ifndef AN_GRAPH_H
#define AN_GRAPH_H

#include "model.h"

#define AN_SCC_CYCLE 0x1u
#define AN_SCC_ROOT  0x2u

struct an_gedge {
    uint32_t from, to;          /* node ids */
    uint64_t offset;
};

struct an_graph {
    uint32_t n;                 /* nodes = leaked blocks */
    uint32_t *node_block;       /* [n] block index of node */
    uint32_t *block_node;       /* [nblocks] node of block, AN_NONE if not leaked */
    struct an_gedge *e;         /* sorted by (from, offset, to), no duplicates */
    size_t ne;
    size_t *est;                /* [n + 1]: out-edges of v are e[est[v] .. est[v+1]) */
    uint32_t *scc;              /* [n] SCC of node */
    uint32_t nscc;
    uint32_t *scc_start;        /* [nscc + 1] into members */
    uint32_t *members;          /* [n] grouped by SCC, ascending */
    uint8_t *scc_flags;         /* [nscc] AN_SCC_* */
    uint32_t *owner;            /* [nscc] a root SCC reaching it, AN_NONE */
    uint32_t cycles;            /* cyclic SCCs */
};

/* Builds and computes the graph of d.  Returns 0 or -1 (out of memory). */
int an_graph_build(const struct an_dump *d, struct an_graph *g);
void an_graph_free(struct an_graph *g);

static inline uint32_t an_scc_size(const struct an_graph *g, uint32_t c)
{
    return g->scc_start[c + 1] - g->scc_start[c];
}
static inline const uint32_t *an_scc_members(const struct an_graph *g, uint32_t c)
{
    return g->members + g->scc_start[c];
}
/* Position of node v in its SCC's member list. */
uint32_t an_graph_member_index(const struct an_graph *g, uint32_t v);

/* Calls fn for every edge inside SCC c, in (member, offset, to) order. */
void an_graph_scc_edges(const struct an_graph *g, uint32_t c,
                        void (*fn)(const struct an_gedge *e, void *arg), void *arg);

/* The name of cycle member i in the reports: A, B, ..., Z, AA, AB, ...
 * (at most 7 letters; buf holds 8 bytes). */
void an_member_name(uint32_t i, char *buf);

#endif
