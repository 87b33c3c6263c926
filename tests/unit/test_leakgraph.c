/*
 * test_leakgraph.c - SCCs and leak classification (preload/leakgraph.h)
 * against shared/REPORT-FORMAT.md:
 *   cycle      = SCC of >= 2 blocks, or 1 block pointing to itself;
 *   leak root  = SCC no other leaked block points into -> its blocks definite;
 *   indirect   = reachable from a leak root and not in it;
 *   summary.cycles counts every cycle, root or not.
 * Expected values of the named cases are derived by hand in comments; random
 * graphs are checked against a transitive-closure reference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>

#include "leakgraph.h"

typedef struct { uint32_t from, to; uint64_t off; } E;

static void build(lm_leakgraph_t *g, uint32_t n, const E *e, size_t ne)
{
    assert_int_equal(lm_leakgraph_init(g, n), 0);
    for (size_t i = 0; i < ne; i++)
        assert_int_equal(lm_leakgraph_add_edge(g, e[i].from, e[i].to, e[i].off), 0);
    assert_int_equal(lm_leakgraph_compute(g), 0);
}

static void expect_counts(const lm_leakgraph_t *g, uint32_t sccs, uint32_t cycles,
                          uint32_t roots, uint32_t definite, uint32_t indirect)
{
    const lm_leakgraph_stats_t *s = lm_leakgraph_stats(g);
    assert_int_equal(s->sccs, sccs);
    assert_int_equal(s->cycles, cycles);
    assert_int_equal(s->roots, roots);
    assert_int_equal(s->definite, definite);
    assert_int_equal(s->indirect, indirect);
    assert_int_equal(s->unreached, 0);
}

static void expect_node(const lm_leakgraph_t *g, uint32_t v, enum lm_leak_kind k, bool cyc)
{
    assert_int_equal(lm_leakgraph_kind(g, v), k);
    assert_int_equal(lm_leakgraph_in_cycle(g, v), cyc);
}

/* Number of edges internal to v's SCC, and whether (from,+off->to) is one. */
static size_t internal_edges(const lm_leakgraph_t *g, uint32_t c, const E *want)
{
    lm_lg_scc_edge_iter_t it;
    size_t k = 0;
    bool found = want == NULL;
    lm_leakgraph_scc_edges_begin(g, c, &it);
    for (const lm_lg_edge_t *e; (e = lm_leakgraph_scc_edges_next(&it));) {
        assert_int_equal(lm_leakgraph_node_scc(g, e->from), c);
        assert_int_equal(lm_leakgraph_node_scc(g, e->to), c);
        if (want && e->from == want->from && e->to == want->to && e->offset == want->off)
            found = true;
        k++;
    }
    assert_true(found);
    return k;
}

/* One leaked block, pointing nowhere: a definite leak, no cycle. */
static void test_single_block(void **state)
{
    (void)state;
    lm_leakgraph_t g;
    build(&g, 1, NULL, 0);
    expect_counts(&g, 1, 0, 1, 1, 0);
    expect_node(&g, 0, LM_LEAK_DEFINITE, false);
    assert_true(lm_leakgraph_scc_is_root(&g, 0));
    assert_false(lm_leakgraph_scc_is_cycle(&g, 0));
    assert_int_equal(internal_edges(&g, 0, NULL), 0);
    lm_leakgraph_destroy(&g);
}

/* A <-> B: one SCC of 2 = one cycle; nothing else points in: root, both definite. */
static void test_two_block_cycle(void **state)
{
    (void)state;
    const E e[] = { { 0, 1, 0 }, { 1, 0, 8 } };
    lm_leakgraph_t g;
    build(&g, 2, e, 2);
    expect_counts(&g, 1, 1, 1, 2, 0);
    expect_node(&g, 0, LM_LEAK_DEFINITE, true);
    expect_node(&g, 1, LM_LEAK_DEFINITE, true);
    uint32_t c = lm_leakgraph_node_scc(&g, 0);
    assert_int_equal(lm_leakgraph_node_scc(&g, 1), c);
    assert_true(lm_leakgraph_scc_is_cycle(&g, c) && lm_leakgraph_scc_is_root(&g, c));
    assert_int_equal(lm_leakgraph_stats(&g)->root_cycles, 1);
    assert_int_equal(internal_edges(&g, c, &e[0]), 2);
    assert_int_equal(internal_edges(&g, c, &e[1]), 2);
    assert_int_equal(lm_leakgraph_member_index(&g, 0), 0);
    assert_int_equal(lm_leakgraph_member_index(&g, 1), 1);
    lm_leakgraph_destroy(&g);
}

/* One block pointing to itself: a one-block cycle (self edge), definite. A
 * second, non-self-pointing block next to it is no cycle. */
static void test_self_pointer(void **state)
{
    (void)state;
    const E e[] = { { 0, 0, 16 } };
    lm_leakgraph_t g;
    build(&g, 2, e, 1);
    expect_counts(&g, 2, 1, 2, 2, 0);
    expect_node(&g, 0, LM_LEAK_DEFINITE, true);
    expect_node(&g, 1, LM_LEAK_DEFINITE, false);
    assert_int_equal(lm_leakgraph_scc_size(&g, lm_leakgraph_node_scc(&g, 0)), 1);
    assert_int_equal(internal_edges(&g, lm_leakgraph_node_scc(&g, 0), &e[0]), 1);
    lm_leakgraph_destroy(&g);
}

/* Doubly-linked list of 5: next at +0, prev at +8.  Every node reaches
 * every other: one SCC of 5, one cycle, a root, all definite; 8 pointers. */
static void test_doubly_linked_list(void **state)
{
    (void)state;
    E e[8];
    size_t k = 0;
    for (uint32_t i = 0; i < 4; i++) {
        e[k++] = (E){ i, i + 1, 0 };
        e[k++] = (E){ i + 1, i, 8 };
    }
    lm_leakgraph_t g;
    build(&g, 5, e, k);
    expect_counts(&g, 1, 1, 1, 5, 0);
    for (uint32_t i = 0; i < 5; i++) {
        expect_node(&g, i, LM_LEAK_DEFINITE, true);
        assert_int_equal(lm_leakgraph_member_index(&g, i), i);
    }
    assert_int_equal(internal_edges(&g, 0, &e[5]), 8);
    lm_leakgraph_destroy(&g);
}

/* Tail T(0) -> ring 1 -> 2 -> 3 -> 1.  SCCs {0} and {1,2,3}.  Only {0} is
 * entered by nothing: T is the leak root (definite, not in a cycle); the
 * ring is indirect but still counted: cycles = 1, root_cycles = 0. */
static void test_tail_into_cycle(void **state)
{
    (void)state;
    const E e[] = { { 0, 1, 0 }, { 1, 2, 0 }, { 2, 3, 0 }, { 3, 1, 0 } };
    lm_leakgraph_t g;
    build(&g, 4, e, 4);
    expect_counts(&g, 2, 1, 1, 1, 3);
    expect_node(&g, 0, LM_LEAK_DEFINITE, false);
    for (uint32_t i = 1; i < 4; i++)
        expect_node(&g, i, LM_LEAK_INDIRECT, true);
    uint32_t ct = lm_leakgraph_node_scc(&g, 0), cc = lm_leakgraph_node_scc(&g, 1);
    assert_true(ct < cc);                          /* topological order */
    assert_false(lm_leakgraph_scc_is_root(&g, cc));
    assert_true(lm_leakgraph_scc_is_cycle(&g, cc));
    assert_int_equal(lm_leakgraph_scc_owner(&g, cc), ct);
    assert_int_equal(lm_leakgraph_stats(&g)->root_cycles, 0);
    /* The edge T -> ring is not internal to the ring. */
    assert_int_equal(internal_edges(&g, cc, &e[3]), 3);
    assert_int_equal(internal_edges(&g, ct, NULL), 0);
    lm_leakgraph_destroy(&g);
}

/* Ring {0,1} -> 2 -> 3.  The ring is the root (definite, cycle); 2 and 3
 * are indirect, not in a cycle. */
static void test_cycle_into_tail(void **state)
{
    (void)state;
    const E e[] = { { 0, 1, 0 }, { 1, 0, 0 }, { 1, 2, 8 }, { 2, 3, 0 } };
    lm_leakgraph_t g;
    build(&g, 4, e, 4);
    expect_counts(&g, 3, 1, 1, 2, 2);
    expect_node(&g, 0, LM_LEAK_DEFINITE, true);
    expect_node(&g, 1, LM_LEAK_DEFINITE, true);
    expect_node(&g, 2, LM_LEAK_INDIRECT, false);
    expect_node(&g, 3, LM_LEAK_INDIRECT, false);
    assert_int_equal(lm_leakgraph_stats(&g)->root_cycles, 1);
    uint32_t cr = lm_leakgraph_node_scc(&g, 0);
    assert_int_equal(lm_leakgraph_scc_owner(&g, lm_leakgraph_node_scc(&g, 3)), cr);
    assert_int_equal(internal_edges(&g, cr, &e[1]), 2);
    lm_leakgraph_destroy(&g);
}

/* {0,1} and {2,3,4}: two root cycles, all definite. */
static void test_two_separate_cycles(void **state)
{
    (void)state;
    const E e[] = { { 2, 3, 0 }, { 0, 1, 0 }, { 3, 4, 0 }, { 1, 0, 0 }, { 4, 2, 24 } };
    lm_leakgraph_t g;
    build(&g, 5, e, 5);
    expect_counts(&g, 2, 2, 2, 5, 0);
    for (uint32_t i = 0; i < 5; i++)
        expect_node(&g, i, LM_LEAK_DEFINITE, true);
    assert_int_not_equal(lm_leakgraph_node_scc(&g, 0), lm_leakgraph_node_scc(&g, 2));
    assert_int_equal(lm_leakgraph_scc_size(&g, lm_leakgraph_node_scc(&g, 4)), 3);
    assert_int_equal(internal_edges(&g, lm_leakgraph_node_scc(&g, 4), &e[4]), 3);
    lm_leakgraph_destroy(&g);
}

/* Tree 0 -> {1,2}, 1 -> {3,4}, 2 -> 5 with its root lost: 6 singleton SCCs,
 * no cycle, one leak root (0, definite), five indirect. */
static void test_tree_lost_root(void **state)
{
    (void)state;
    const E e[] = { { 0, 1, 0 }, { 0, 2, 8 }, { 1, 3, 0 }, { 1, 4, 8 }, { 2, 5, 0 } };
    lm_leakgraph_t g;
    build(&g, 6, e, 5);
    expect_counts(&g, 6, 0, 1, 1, 5);
    expect_node(&g, 0, LM_LEAK_DEFINITE, false);
    for (uint32_t i = 1; i < 6; i++) {
        expect_node(&g, i, LM_LEAK_INDIRECT, false);
        assert_int_equal(lm_leakgraph_scc_owner(&g, lm_leakgraph_node_scc(&g, i)),
                         lm_leakgraph_node_scc(&g, 0));
    }
    /* Out-edges of the root, in offset order. */
    size_t cnt;
    const lm_lg_edge_t *o = lm_leakgraph_out_edges(&g, 0, &cnt);
    assert_int_equal(cnt, 2);
    assert_true(o[0].to == 1 && o[0].offset == 0 && o[1].to == 2 && o[1].offset == 8);
    lm_leakgraph_destroy(&g);
}

/* Reference-counted object graph, unreachable: parent 0 with children 1,2,3
 * (pointers at +16,+24,+32), each child holding a back-pointer to its parent
 * at +0; child 1 has children 4,5 with back-pointers.  Parent and child
 * reach each other, so all six form one SCC: one root cycle, all definite.
 * Then a lost owner 6 -> 0 turns the cycle into an indirect one. */
static void test_refcounted_backpointers(void **state)
{
    (void)state;
    const E e[] = { { 0, 1, 16 }, { 0, 2, 24 }, { 0, 3, 32 }, { 1, 0, 0 }, { 2, 0, 0 },
                    { 3, 0, 0 },  { 1, 4, 16 }, { 1, 5, 24 }, { 4, 1, 0 }, { 5, 1, 0 },
                    { 6, 0, 8 } };
    lm_leakgraph_t g;
    build(&g, 6, e, 10);
    expect_counts(&g, 1, 1, 1, 6, 0);
    for (uint32_t i = 0; i < 6; i++)
        expect_node(&g, i, LM_LEAK_DEFINITE, true);
    assert_int_equal(internal_edges(&g, 0, &e[9]), 10);
    lm_leakgraph_destroy(&g);

    build(&g, 7, e, 11);
    expect_counts(&g, 2, 1, 1, 1, 6);
    expect_node(&g, 6, LM_LEAK_DEFINITE, false);
    for (uint32_t i = 0; i < 6; i++)
        expect_node(&g, i, LM_LEAK_INDIRECT, true);
    assert_int_equal(lm_leakgraph_stats(&g)->root_cycles, 0);
    lm_leakgraph_destroy(&g);
}

/* Permutation of 0..n-1 (LCG, fixed seed) so node order != list order. */
static uint32_t *permutation(uint32_t n, uint64_t seed)
{
    uint32_t *p = malloc(n * sizeof *p);
    assert_non_null(p);
    for (uint32_t i = 0; i < n; i++)
        p[i] = i;
    for (uint32_t i = n - 1; i > 0; i--) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t j = (uint32_t)((seed >> 33) % (i + 1));
        uint32_t t = p[i]; p[i] = p[j]; p[j] = t;
    }
    return p;
}

/* A lost singly-linked list of 10^6 nodes: the head is the only leak root,
 * everything else indirect, no cycles, 10^6 singleton SCCs whose ids follow
 * the list (topological order).  Edges added tail first and node numbers
 * shuffled, so neither the sort nor the DFS gets an easy order. */
#define BIG 1000000u
static void test_million_chain(void **state)
{
    (void)state;
    uint32_t *p = permutation(BIG, 1);
    lm_leakgraph_t g;
    assert_int_equal(lm_leakgraph_init(&g, BIG), 0);
    for (uint32_t i = BIG - 1; i > 0; i--)
        assert_int_equal(lm_leakgraph_add_edge(&g, p[i - 1], p[i], 8), 0);
    assert_int_equal(lm_leakgraph_compute(&g), 0);
    expect_counts(&g, BIG, 0, 1, 1, BIG - 1);
    expect_node(&g, p[0], LM_LEAK_DEFINITE, false);
    assert_true(lm_leakgraph_scc_is_root(&g, lm_leakgraph_node_scc(&g, p[0])));
    for (uint32_t i = 1; i < BIG; i++) {
        if (lm_leakgraph_kind(&g, p[i]) != LM_LEAK_INDIRECT)
            fail_msg("list node %u not indirect", i);
        if (lm_leakgraph_node_scc(&g, p[i - 1]) >= lm_leakgraph_node_scc(&g, p[i]))
            fail_msg("scc ids not topological at %u", i);
    }
    assert_int_equal(lm_leakgraph_stats(&g)->edges, BIG - 1);
    lm_leakgraph_destroy(&g);
    free(p);
}

/* A lost ring of 10^6 nodes: one SCC, one cycle, a root, all definite, and
 * all 10^6 pointers close it. */
static void test_million_ring(void **state)
{
    (void)state;
    uint32_t *p = permutation(BIG, 2);
    lm_leakgraph_t g;
    assert_int_equal(lm_leakgraph_init(&g, BIG), 0);
    for (uint32_t i = 0; i < BIG; i++)
        assert_int_equal(lm_leakgraph_add_edge(&g, p[i], p[(i + 1) % BIG], 0), 0);
    assert_int_equal(lm_leakgraph_compute(&g), 0);
    expect_counts(&g, 1, 1, 1, BIG, 0);
    assert_int_equal(lm_leakgraph_stats(&g)->in_cycle, BIG);
    assert_int_equal(lm_leakgraph_scc_size(&g, 0), BIG);
    assert_int_equal(internal_edges(&g, 0, NULL), BIG);
    uint32_t cnt;
    const uint32_t *m = lm_leakgraph_scc_members(&g, 0, &cnt);
    assert_int_equal(cnt, BIG);
    for (uint32_t i = 0; i < BIG; i++)
        if (m[i] != i)
            fail_msg("members not ascending at %u", i);
    lm_leakgraph_destroy(&g);
    free(p);
}

/* Dense: complete digraph on 1200 nodes (1.44M edges, one cycle) and the
 * complete DAG i -> j (i < j) on 1500 nodes (no cycle, only node 0 is a
 * root). */
static void test_dense(void **state)
{
    (void)state;
    lm_leakgraph_t g;
    assert_int_equal(lm_leakgraph_init(&g, 1200), 0);
    for (uint32_t i = 0; i < 1200; i++)
        for (uint32_t j = 0; j < 1200; j++)
            assert_int_equal(lm_leakgraph_add_edge(&g, i, j, 8 * (uint64_t)j), 0);
    assert_int_equal(lm_leakgraph_compute(&g), 0);
    expect_counts(&g, 1, 1, 1, 1200, 0);
    lm_leakgraph_destroy(&g);

    assert_int_equal(lm_leakgraph_init(&g, 1500), 0);
    for (uint32_t j = 1500; j-- > 0;)
        for (uint32_t i = 0; i < j; i++)
            assert_int_equal(lm_leakgraph_add_edge(&g, i, j, 8 * (uint64_t)j), 0);
    assert_int_equal(lm_leakgraph_compute(&g), 0);
    expect_counts(&g, 1500, 0, 1, 1, 1499);
    expect_node(&g, 0, LM_LEAK_DEFINITE, false);
    for (uint32_t i = 0; i < 1500; i++)
        assert_int_equal(lm_leakgraph_node_scc(&g, i), i);   /* unique topo order */
    lm_leakgraph_destroy(&g);
}

/* Duplicates collapse; out-edges come back sorted by (offset, to); bad
 * arguments are refused; reset reuses the graph; empty graph. */
static void test_api_edges(void **state)
{
    (void)state;
    lm_leakgraph_t g;
    assert_int_equal(lm_leakgraph_init(&g, 3), 0);
    assert_int_equal(lm_leakgraph_add_edge(&g, 0, 3, 0), EINVAL);
    assert_int_equal(lm_leakgraph_add_edge(&g, 3, 0, 0), EINVAL);
    const E e[] = { { 0, 1, 24 }, { 0, 2, 8 }, { 0, 1, 24 }, { 0, 1, 0 }, { 1, 0, 16 },
                    { 0, 2, 8 }, { 1, 0, 16 } };
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(lm_leakgraph_add_edge(&g, e[i].from, e[i].to, e[i].off), 0);
    assert_int_equal(lm_leakgraph_compute(&g), 0);
    assert_int_equal(lm_leakgraph_compute(&g), EINVAL);
    assert_int_equal(lm_leakgraph_add_edge(&g, 0, 1, 0), EINVAL);
    assert_int_equal(lm_leakgraph_stats(&g)->edges_added, 7);
    assert_int_equal(lm_leakgraph_stats(&g)->edges, 4);
    size_t cnt;
    const lm_lg_edge_t *o = lm_leakgraph_out_edges(&g, 0, &cnt);
    assert_int_equal(cnt, 3);
    assert_true(o[0].offset == 0 && o[0].to == 1);
    assert_true(o[1].offset == 8 && o[1].to == 2);
    assert_true(o[2].offset == 24 && o[2].to == 1);
    assert_int_equal(internal_edges(&g, lm_leakgraph_node_scc(&g, 0), NULL), 3);
    expect_counts(&g, 2, 1, 1, 2, 1);

    /* Reuse: now 4 blocks, 3 -> 2 -> 1, and 0 alone. */
    assert_int_equal(lm_leakgraph_reset(&g, 4), 0);
    assert_int_equal(lm_leakgraph_add_edge(&g, 3, 2, 0), 0);
    assert_int_equal(lm_leakgraph_add_edge(&g, 2, 1, 0), 0);
    assert_int_equal(lm_leakgraph_compute(&g), 0);
    expect_counts(&g, 4, 0, 2, 2, 2);
    expect_node(&g, 0, LM_LEAK_DEFINITE, false);
    expect_node(&g, 3, LM_LEAK_DEFINITE, false);
    expect_node(&g, 1, LM_LEAK_INDIRECT, false);
    assert_int_equal(lm_leakgraph_stats(&g)->edges, 2);
    o = lm_leakgraph_out_edges(&g, 0, &cnt);
    assert_int_equal(cnt, 0);

    assert_int_equal(lm_leakgraph_reset(&g, 0), 0);
    assert_int_equal(lm_leakgraph_compute(&g), 0);
    expect_counts(&g, 0, 0, 0, 0, 0);
    assert_int_equal(lm_leakgraph_reset(&g, UINT32_MAX), EINVAL);
    lm_leakgraph_destroy(&g);
}

/* ---- random graphs against a naive reference ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void check_random_graph(uint32_t n, unsigned density_pct)
{
    uint64_t adj[64] = {0}, reach[64];
    E e[2 * 64 * 64];
    size_t ne = 0;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < n; j++)
            if (rnd() % 1000 < density_pct * 10u / (i == j ? 4 : 1)) {
                e[ne++] = (E){ i, j, 8 * (rnd() % 4) };
                adj[i] |= 1ull << j;
                if (rnd() % 8 == 0) {
                    e[ne] = e[ne - 1];                /* duplicate */
                    ne++;
                }
            }
    /* Shuffle the insertion order. */
    for (size_t i = ne; i > 1; i--) {
        size_t j = rnd() % i;
        E t = e[i - 1]; e[i - 1] = e[j]; e[j] = t;
    }
    /* Transitive closure (Warshall on bit rows). */
    memcpy(reach, adj, sizeof reach);
    for (uint32_t k = 0; k < n; k++)
        for (uint32_t i = 0; i < n; i++)
            if (reach[i] >> k & 1)
                reach[i] |= reach[k];
#define SAME(a, b) ((a) == (b) || ((reach[a] >> (b) & 1) && (reach[b] >> (a) & 1)))
    bool root[64], cyc[64], indirect[64];
    uint32_t ref_cycles = 0, ref_roots = 0, ref_sccs = 0;
    for (uint32_t i = 0; i < n; i++) {
        cyc[i] = reach[i] >> i & 1;
        root[i] = true;
        for (uint32_t u = 0; u < n; u++)
            for (uint32_t w = 0; w < n; w++)
                if ((adj[u] >> w & 1) && SAME(w, i) && !SAME(u, i))
                    root[i] = false;
    }
    for (uint32_t i = 0; i < n; i++) {
        indirect[i] = false;
        for (uint32_t r = 0; r < n; r++)
            if (root[r] && !SAME(r, i) && (reach[r] >> i & 1))
                indirect[i] = true;
        bool first = true;               /* i is the smallest of its SCC */
        for (uint32_t j = 0; j < i; j++)
            if (SAME(i, j))
                first = false;
        if (first) {
            ref_sccs++;
            ref_cycles += cyc[i];
            ref_roots += root[i];
        }
    }

    lm_leakgraph_t g;
    build(&g, n, e, ne);
    const lm_leakgraph_stats_t *s = lm_leakgraph_stats(&g);
    assert_int_equal(s->sccs, ref_sccs);
    assert_int_equal(s->cycles, ref_cycles);
    assert_int_equal(s->roots, ref_roots);
    assert_int_equal(s->unreached, 0);
    assert_int_equal(s->definite + s->indirect, n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t ci = lm_leakgraph_node_scc(&g, i);
        for (uint32_t j = 0; j < n; j++)
            assert_int_equal(ci == lm_leakgraph_node_scc(&g, j), SAME(i, j));
        assert_int_equal(lm_leakgraph_in_cycle(&g, i), cyc[i]);
        assert_int_equal(lm_leakgraph_scc_is_cycle(&g, ci), cyc[i]);
        assert_int_equal(lm_leakgraph_scc_is_root(&g, ci), root[i]);
        /* Definite iff in a leak root; indirect iff reached from one. */
        assert_int_equal(lm_leakgraph_kind(&g, i), root[i] ? LM_LEAK_DEFINITE : LM_LEAK_INDIRECT);
        assert_int_equal(indirect[i], !root[i]);
        /* The owner is a root SCC that reaches i. */
        uint32_t own = lm_leakgraph_scc_owner(&g, ci);
        assert_true(lm_leakgraph_scc_is_root(&g, own));
        uint32_t cnt;
        const uint32_t *m = lm_leakgraph_scc_members(&g, own, &cnt);
        assert_true(own == ci || (reach[m[0]] >> i & 1));
        /* Member lists: ascending, and member_index inverts them. */
        m = lm_leakgraph_scc_members(&g, ci, &cnt);
        assert_int_equal(m[lm_leakgraph_member_index(&g, i)], i);
        for (uint32_t k = 1; k < cnt; k++)
            assert_true(m[k - 1] < m[k]);
        /* Out-edges sorted, distinct, topological. */
        size_t oc;
        const lm_lg_edge_t *o = lm_leakgraph_out_edges(&g, i, &oc);
        for (size_t k = 0; k < oc; k++) {
            assert_int_equal(o[k].from, i);
            assert_true(lm_leakgraph_node_scc(&g, o[k].to) >= ci);
            if (k)
                assert_true(o[k - 1].offset < o[k].offset ||
                            (o[k - 1].offset == o[k].offset && o[k - 1].to < o[k].to));
        }
    }
    /* Internal edges of each SCC = distinct input edges with both ends in it. */
    size_t total_internal = 0, ref_internal = 0;
    for (uint32_t c = 0; c < s->sccs; c++)
        total_internal += internal_edges(&g, c, NULL);
    size_t distinct = 0;
    for (size_t a = 0; a < ne; a++) {
        bool dup = false;
        for (size_t b = 0; b < a; b++)
            if (e[b].from == e[a].from && e[b].to == e[a].to && e[b].off == e[a].off)
                dup = true;
        if (dup)
            continue;
        distinct++;
        ref_internal += SAME(e[a].from, e[a].to);
    }
    assert_int_equal(s->edges, distinct);
    assert_int_equal(total_internal, ref_internal);
#undef SAME
    lm_leakgraph_destroy(&g);
}

static void test_random_vs_reference(void **state)
{
    (void)state;
    static const unsigned density[] = { 1, 3, 5, 10, 30, 60 };
    for (int round = 0; round < 1500; round++) {
        uint32_t n = 1 + (uint32_t)(rnd() % 60);
        check_random_graph(n, density[round % 6]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_block),
        cmocka_unit_test(test_two_block_cycle),
        cmocka_unit_test(test_self_pointer),
        cmocka_unit_test(test_doubly_linked_list),
        cmocka_unit_test(test_tail_into_cycle),
        cmocka_unit_test(test_cycle_into_tail),
        cmocka_unit_test(test_two_separate_cycles),
        cmocka_unit_test(test_tree_lost_root),
        cmocka_unit_test(test_refcounted_backpointers),
        cmocka_unit_test(test_million_chain),
        cmocka_unit_test(test_million_ring),
        cmocka_unit_test(test_dense),
        cmocka_unit_test(test_api_edges),
        cmocka_unit_test(test_random_vs_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
