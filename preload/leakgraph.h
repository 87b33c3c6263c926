/*
 * leakgraph.h - the graph of leaked blocks: strongly connected components,
 * definite/indirect classification, cycles and leak roots, exactly as
 * shared/REPORT-FORMAT.md defines them.  Pure algorithm: it knows nothing
 * about the allocator, addresses or sizes.
 *
 * Model.  Nodes are 0..n-1: the leaked blocks, in whatever order the caller
 * chose (the reporter keeps the node -> block mapping).  An edge
 * (from, to, offset) says "the word at byte `offset` of block `from` points
 * (start or interior) into block `to`".  Edges are added in any order;
 * exact duplicates are collapsed.  Then lm_leakgraph_compute() derives:
 *
 *   - SCCs, numbered 0..scc_count-1 in TOPOLOGICAL order: every edge
 *     u -> v satisfies scc(u) <= scc(v).  So leak roots tend to come first
 *     and a reporter that walks SCCs in order prints owners before what they
 *     hold.
 *   - cycle: an SCC of >= 2 blocks, or of 1 block with an edge to itself.
 *   - leak root: an SCC no edge from another SCC enters.
 *   - kind: DEFINITE for the blocks of root SCCs; INDIRECT for every block
 *     reachable from a root SCC and not in it.  Each non-root SCC has an
 *     entering edge from an SCC with a smaller (topological) id, so
 *     following entering edges backwards ends at a root: every non-root
 *     block is indirect.  compute() derives reachability explicitly anyway
 *     (stats.unreached counts blocks it did not reach; it is 0 unless
 *     there is a bug) and records for each SCC one root SCC that reaches
 *     it (its "owner"), for "it holds the indirect leaks below" reports.
 *   - stats.cycles counts every cycle, root or not.
 *
 * Cost.  compute() is O(n + E) time for the SCCs and classification
 * (counting sort into CSR adjacency, iterative Tarjan with explicit stacks:
 * no recursion, so a lost list of 10^6 nodes is fine).  Each block's
 * out-edges are then kept sorted by (offset, to); input that already comes
 * in that order per block (a marker scanning words upwards) is checked in
 * O(d), other lists are heap-sorted in O(d log d).  Edges added with
 * non-decreasing `from` (block-by-block scanning) are sorted in place;
 * otherwise a second edge array exists during compute().  Memory comes
 * only from mmap (lm_mmvec): 16 bytes per edge, 26 bytes per node (SCCs
 * included), plus up to 28 bytes per node of DFS stacks during compute().
 *
 * Limits: n < 2^32 - 1.  Edge counts are size_t.
 *
 * Locking: none; a graph belongs to one thread at a time.  Signal safety:
 * all functions are async-signal-safe (only mmap-family syscalls); errno
 * may change.  Results stay valid until reset/destroy.
 */
#ifndef LM_LEAKGRAPH_H
#define LM_LEAKGRAPH_H

#include "internal.h"
#include "mmvec.h"

enum lm_leak_kind {
    LM_LEAK_DEFINITE = 1,
    LM_LEAK_INDIRECT = 2,
};

#define LM_LG_NONE UINT32_MAX  /* "no node / no SCC" */

/* One pointer between leaked blocks; after compute() the edge array is
 * sorted by (from, offset, to) with exact duplicates removed. */
typedef struct lm_lg_edge {
    uint32_t from;
    uint32_t to;
    uint64_t offset;   /* byte offset of the pointer inside `from` */
} lm_lg_edge_t;

typedef struct lm_leakgraph_stats {
    uint32_t nodes;
    uint32_t sccs;
    uint32_t cycles;          /* cyclic SCCs, root or not */
    uint32_t roots;           /* root SCCs (leak roots) */
    uint32_t root_cycles;     /* cyclic root SCCs */
    uint32_t definite;        /* blocks in root SCCs */
    uint32_t indirect;        /* blocks reached from a root, outside it */
    uint32_t in_cycle;        /* blocks that belong to a cycle */
    uint32_t unreached;       /* non-root blocks no root reaches: always 0 */
    size_t edges;             /* distinct edges */
    size_t edges_added;       /* edges given to add_edge, duplicates too */
} lm_leakgraph_stats_t;

typedef struct lm_leakgraph {
    uint32_t n;
    bool computed;
    bool by_from;             /* edges so far added with non-decreasing from */
    lm_mmvec_t edges;         /* lm_lg_edge_t */
    lm_mmvec_t edge_start;    /* size_t[n + 1]: out-edges of v are
                               * edges[edge_start[v] .. edge_start[v+1]) */
    lm_mmvec_t node_scc;      /* uint32_t[n] */
    lm_mmvec_t node_flags;    /* uint8_t[n]: kind | LG_NODE_CYCLE */
    lm_mmvec_t scc_start;     /* uint32_t[sccs + 1] into scc_members */
    lm_mmvec_t scc_members;   /* uint32_t[n], grouped by SCC, ascending */
    lm_mmvec_t scc_flags;     /* uint8_t[sccs]: LG_SCC_* */
    lm_mmvec_t scc_owner;     /* uint32_t[sccs]: a root SCC reaching it */
    lm_leakgraph_stats_t stats;
} lm_leakgraph_t;

/* Empty graph of n nodes (no memory is mapped until edges are added).
 * Returns 0 or EINVAL (n too large). */
int lm_leakgraph_init(lm_leakgraph_t *g, uint32_t n);
/* Starts over with n nodes, keeping the mappings for reuse (periodic
 * checks).  Returns 0 or EINVAL. */
int lm_leakgraph_reset(lm_leakgraph_t *g, uint32_t n);
/* Unmaps everything. */
void lm_leakgraph_destroy(lm_leakgraph_t *g);

/* Adds "from + offset -> to".  Returns 0, EINVAL (node out of range, or
 * the graph was already computed) or ENOMEM. */
int lm_leakgraph_add_edge(lm_leakgraph_t *g, uint32_t from, uint32_t to,
                          uint64_t offset);

/* Computes everything described above.  Returns 0, EINVAL (already
 * computed) or ENOMEM (the graph is then unusable until reset). */
int lm_leakgraph_compute(lm_leakgraph_t *g);

/* ---- results (valid after a successful compute) ---- */

#define LM_LG_NODE_KIND_MASK 0x3u
#define LM_LG_NODE_CYCLE     0x4u
#define LM_LG_SCC_CYCLE      0x1u
#define LM_LG_SCC_ROOT       0x2u

LM_INLINE const lm_leakgraph_stats_t *lm_leakgraph_stats(const lm_leakgraph_t *g)
{
    return &g->stats;
}
LM_INLINE uint32_t lm_leakgraph_node_scc(const lm_leakgraph_t *g, uint32_t v)
{
    return ((const uint32_t *)g->node_scc.data)[v];
}
LM_INLINE enum lm_leak_kind lm_leakgraph_kind(const lm_leakgraph_t *g, uint32_t v)
{
    return (enum lm_leak_kind)(((const uint8_t *)g->node_flags.data)[v] & LM_LG_NODE_KIND_MASK);
}
LM_INLINE bool lm_leakgraph_in_cycle(const lm_leakgraph_t *g, uint32_t v)
{
    return (((const uint8_t *)g->node_flags.data)[v] & LM_LG_NODE_CYCLE) != 0;
}
/* Out-edges of v, sorted by (offset, to); *count receives their number. */
LM_INLINE const lm_lg_edge_t *lm_leakgraph_out_edges(const lm_leakgraph_t *g,
                                                     uint32_t v, size_t *count)
{
    const size_t *st = (const size_t *)g->edge_start.data;
    *count = st[v + 1] - st[v];
    return (const lm_lg_edge_t *)g->edges.data + st[v];
}

LM_INLINE uint32_t lm_leakgraph_scc_count(const lm_leakgraph_t *g) { return g->stats.sccs; }
/* Members of SCC c in ascending node order; *count receives their number. */
LM_INLINE const uint32_t *lm_leakgraph_scc_members(const lm_leakgraph_t *g,
                                                   uint32_t c, uint32_t *count)
{
    const uint32_t *st = (const uint32_t *)g->scc_start.data;
    *count = st[c + 1] - st[c];
    return (const uint32_t *)g->scc_members.data + st[c];
}
LM_INLINE uint32_t lm_leakgraph_scc_size(const lm_leakgraph_t *g, uint32_t c)
{
    const uint32_t *st = (const uint32_t *)g->scc_start.data;
    return st[c + 1] - st[c];
}
LM_INLINE bool lm_leakgraph_scc_is_cycle(const lm_leakgraph_t *g, uint32_t c)
{
    return (((const uint8_t *)g->scc_flags.data)[c] & LM_LG_SCC_CYCLE) != 0;
}
LM_INLINE bool lm_leakgraph_scc_is_root(const lm_leakgraph_t *g, uint32_t c)
{
    return (((const uint8_t *)g->scc_flags.data)[c] & LM_LG_SCC_ROOT) != 0;
}
/* A root SCC from which c is reachable (c itself for a root SCC); the one
 * whose path is found first in topological order.  LM_LG_NONE only if
 * stats.unreached != 0. */
LM_INLINE uint32_t lm_leakgraph_scc_owner(const lm_leakgraph_t *g, uint32_t c)
{
    return ((const uint32_t *)g->scc_owner.data)[c];
}
/* Position of node v in the member list of its SCC (the "member index" of
 * the JSON report's cycle edges).  O(log size). */
uint32_t lm_leakgraph_member_index(const lm_leakgraph_t *g, uint32_t v);

/* Iteration over the edges internal to one SCC: the pointers that close a
 * cycle, in (member, offset, to) order.
 *
 *   lm_lg_scc_edge_iter_t it;
 *   lm_leakgraph_scc_edges_begin(g, c, &it);
 *   for (const lm_lg_edge_t *e; (e = lm_leakgraph_scc_edges_next(&it)); )
 *       print(e->from, e->offset, e->to);
 */
typedef struct lm_lg_scc_edge_iter {
    const lm_leakgraph_t *g;
    uint32_t scc;
    uint32_t mpos, mend;      /* positions in scc_members */
    size_t epos, eend;        /* positions in edges for member mpos */
} lm_lg_scc_edge_iter_t;

void lm_leakgraph_scc_edges_begin(const lm_leakgraph_t *g, uint32_t c,
                                  lm_lg_scc_edge_iter_t *it);
const lm_lg_edge_t *lm_leakgraph_scc_edges_next(lm_lg_scc_edge_iter_t *it);

#endif
