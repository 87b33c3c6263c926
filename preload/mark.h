/*
 * mark.h - the conservative mark: from a root set (roots.h) to every live
 * block classified as reachable, possible or leaked, and the graph of the
 * leaked ones (leakgraph.h), with the words of shared/REPORT-FORMAT.md.
 *
 * Run (lm_mark_run), with the heap kept still by the caller (world
 * stopped, or a forked snapshot):
 *   1. flood: every aligned word of every root range (and, with
 *      lm_options.scan_unaligned, every byte offset) is a candidate; words
 *      outside lm_heap_bounds are dropped before any lookup, the rest are
 *      resolved against the run's view of the heap (below), which gives
 *      lm_lookup_block's answers.  A start pointer from a reachable source
 *      marks its block reachable, any other pointer marks it possible
 *      (unless already reachable); reachable wins over possible, and a
 *      block upgraded from possible to reachable is scanned again as
 *      reachable.  Once the roots are marked, a sweep scans the contents
 *      of marked blocks, [start, start + requested size), in address
 *      order; a block marked ahead of the sweep waits for it, one marked
 *      behind it goes on an explicit mark stack (never recursion) and is
 *      scanned from there.  So a heap whose pointers mostly lead forward
 *      in memory is read as one stream.  If the stack cannot grow (ENOMEM),
 *      the block stays marked, a flag is set, and once the stack drains
 *      every marked block is rescanned until no push failed (Boehm GC's
 *      mark-stack overflow).
 *   2. every live block neither reachable nor possible is leaked; they are
 *      numbered 0..n-1 in address order (node id), each is scanned once
 *      and every pointer (start or interior) to another leaked block
 *      becomes an edge of the leak graph with its byte offset.
 *   3. the graph is computed: definite / indirect / cycles.
 *
 * Memory: leakmark's own, all mmap'd.  Before the flood the run takes a
 * view of the heap (two dense arrays, built in two walks over the units):
 * per unit, 32 bytes of geometry (class, carved blocks, where its
 * records are, or the large block it belongs to), and per 64 blocks of a
 * unit a 32-byte group holding their liveness bits (copied from the
 * arena's live and remote bitmaps) beside their mark state (2 bits per
 * block as two bit planes: unvisited / possible / reachable / leaked).
 * A candidate word is resolved inside these arrays alone - unit entry,
 * one multiply, one group - without touching arena headers or block
 * records; a block's record is read only to scan it or to check an
 * interior pointer that would change its state.  Both arrays are about
 * 1/8000 of the heap's address range plus half a byte per block, so on
 * large heaps they stay in cache where per-unit pages did not.  The view,
 * the leaked list and the graph belong to the result: each run starts
 * from a fresh view, and lm_mark_result_free (or the next run on the same
 * result) releases it, so per-block states stay queryable by the reporter
 * (e.g. to list possible leaks).  The mark stack and the leaked list
 * store blocks as encoded (unit, index) values with bit 63 set - never a
 * user-space address - so that leakmark's own mappings, if scanned as
 * roots, cannot keep a block alive.
 *
 * Never faults: reads only the root ranges given (roots.h guarantees they
 * are readable) and live blocks inside the region.
 *
 * Locking: none; one thread runs a mark.  No malloc, no stdio; not meant
 * for signal handlers (it may run for seconds) though it takes no locks.
 */
#ifndef LM_MARK_H
#define LM_MARK_H

#include "internal.h"
#include "leakgraph.h"
#include "lookup.h"
#include "mmvec.h"
#include "roots.h"

struct lm_mark_unit;
struct lm_mark_group;

enum lm_mark_state {
    LM_MARK_UNVISITED = 0,
    LM_MARK_POSSIBLE = 1,
    LM_MARK_REACHABLE = 2,
    LM_MARK_LEAKED = 3,
};

struct lm_mark_count {
    size_t blocks, bytes;      /* bytes = sizes the program asked for */
};

struct lm_mark_result {
    /* ---- results, valid after lm_mark_run ---- */
    struct lm_mark_count live, reachable, possible, leaked, definite, indirect;
    uint32_t cycles;           /* leaked cycles, root or not */
    size_t root_bytes;         /* bytes of root ranges scanned */
    size_t block_bytes;        /* bytes of blocks scanned (rescans included) */
    size_t hits;               /* candidates that fell on a live block's
                                * slot (start, or interior to the class
                                * size) */
    uint32_t overflow_rounds;  /* rescans after a mark-stack push failed */
    bool graph_ok;             /* false: the graph could not be computed
                                * (ENOMEM); leaked blocks count as definite */
    uint64_t mark_ns, leak_ns; /* flood; collection + edges + graph */
    uint64_t graph_ns;         /* lm_leakgraph_compute alone (in leak_ns) */
    /* ---- owned memory (private) ---- */
    struct lm_mark_unit *view;     /* per unit, state_units entries */
    struct lm_mark_group *groups;  /* per 64 blocks: liveness and state */
    size_t view_bytes, groups_bytes;
    uint32_t state_units;
    lm_mmvec_t leaked_list;    /* uint64_t encoded refs, sorted = node order */
    lm_leakgraph_t graph;
    bool graph_init;
};

void lm_mark_result_init(struct lm_mark_result *res);
void lm_mark_result_free(struct lm_mark_result *res);

/* Runs steps 1-3.  Returns 0, or ENOMEM when the state could not be mapped
 * (nothing classified) or the leaked list / graph could not be built
 * (counts still filled; see graph_ok).  res must have been initialised; its
 * previous contents are released. */
int lm_mark_run(const struct lm_roots *roots, struct lm_mark_result *res);

/* State of the live block containing p (start or interior) after the run,
 * LM_MARK_UNVISITED for anything else. */
enum lm_mark_state lm_mark_state_at(const struct lm_mark_result *res, uintptr_t p);
enum lm_mark_state lm_mark_block_state(const struct lm_mark_result *res,
                                       const struct lm_block_ref *b);

/* Reclassifies a POSSIBLE block as REACHABLE (counts follow); false if
 * it was not possible.  For blocks the runtime itself holds through a
 * known interior pointer (glibc's DTV, see leakcheck.c).  Blocks it points
 * to keep their own state. */
bool lm_mark_possible_to_reachable(struct lm_mark_result *res, const struct lm_block_ref *b);

/* fn(block, arg) for every block the run left POSSIBLE, in address
 * order; reads only the run's view and those blocks' records (no walk over
 * every live block).  fn may reclassify the block it is given
 * (lm_mark_possible_to_reachable). */
void lm_mark_foreach_possible(const struct lm_mark_result *res,
                              void (*fn)(const struct lm_block_ref *b, void *arg), void *arg);

/* ---- leaked blocks, for the reporter ---- */

LM_INLINE uint32_t lm_mark_leaked_count(const struct lm_mark_result *res)
{
    return (uint32_t)res->leaked_list.len;
}
/* Block of node `node` (< lm_mark_leaked_count). */
void lm_mark_leaked_block(const struct lm_mark_result *res, uint32_t node,
                          struct lm_block_ref *out);
/* Node id of the leaked block containing p, or LM_LG_NONE. */
uint32_t lm_mark_find_leaked(const struct lm_mark_result *res, uintptr_t p);
/* The graph (valid when graph_ok): kinds, SCCs, cycles, edges by node id. */
LM_INLINE const lm_leakgraph_t *lm_mark_graph(const struct lm_mark_result *res)
{
    return &res->graph;
}
/* fn(node, block, kind, in_cycle, arg) for every leaked block in node
 * order (kind DEFINITE and in_cycle false when !graph_ok). */
void lm_mark_foreach_leaked(const struct lm_mark_result *res,
                            void (*fn)(uint32_t node, const struct lm_block_ref *b,
                                       enum lm_leak_kind kind, bool in_cycle, void *arg),
                            void *arg);

/* Tests only: caps the mark stack at this many entries (0 = no cap) to
 * exercise the overflow rescan. */
extern size_t lm_mark_stack_limit;

#endif
