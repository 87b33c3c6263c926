/*
 * test_graph_parity.c - analyzer/graph.c must number SCCs, order members
 * and pick owners exactly as preload/leakgraph.c does (the exit report's
 * cycle ids, member letters and "held by" come from there, and `analyze
 * report` must print the same).  Random graphs from a fixed seed, small
 * and dense enough to have many cycles, self-loops, duplicate edges and
 * chains, are given to both; every result array is compared.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "graph.h"          /* analyzer */
#include "leakgraph.h"      /* preload (lm_core) */

#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static void compare_one(uint32_t n, size_t ne)
{
    struct an_dump d;
    an_dump_init(&d, "parity");
    d.blocks = calloc(n, sizeof *d.blocks);
    d.edges = calloc(ne ? ne : 1, sizeof *d.edges);
    assert_non_null(d.blocks);
    assert_non_null(d.edges);
    d.nblocks = n;
    for (uint32_t i = 0; i < n; i++)
        d.blocks[i] = (struct an_block){ .addr = 0x1000 + 64ull * i, .size = 64,
                                         .cls = LM_DUMP_DEFINITE, .stack = AN_NONE };
    lm_leakgraph_t lg;
    assert_int_equal(lm_leakgraph_init(&lg, n), 0);
    for (size_t i = 0; i < ne; i++) {
        uint32_t f = rnd(n), t = rnd(n);
        uint64_t off = 8 * rnd(8);
        d.edges[d.nedges++] = (struct an_edge){ f, t, off, 0 };
        assert_int_equal(lm_leakgraph_add_edge(&lg, f, t, off), 0);
    }
    assert_int_equal(lm_leakgraph_compute(&lg), 0);
    struct an_graph g;
    assert_int_equal(an_graph_build(&d, &g), 0);

    assert_int_equal(g.nscc, lm_leakgraph_scc_count(&lg));
    assert_int_equal(g.cycles, lm_leakgraph_stats(&lg)->cycles);
    assert_int_equal(g.ne, lm_leakgraph_stats(&lg)->edges);
    for (uint32_t v = 0; v < n; v++) {
        assert_int_equal(g.scc[v], lm_leakgraph_node_scc(&lg, v));
        assert_int_equal(an_graph_member_index(&g, v), lm_leakgraph_member_index(&lg, v));
    }
    for (uint32_t c = 0; c < g.nscc; c++) {
        uint32_t cnt;
        const uint32_t *m = lm_leakgraph_scc_members(&lg, c, &cnt);
        assert_int_equal(an_scc_size(&g, c), cnt);
        assert_memory_equal(an_scc_members(&g, c), m, cnt * sizeof *m);
        assert_int_equal(!!(g.scc_flags[c] & AN_SCC_CYCLE), lm_leakgraph_scc_is_cycle(&lg, c));
        assert_int_equal(!!(g.scc_flags[c] & AN_SCC_ROOT), lm_leakgraph_scc_is_root(&lg, c));
        assert_int_equal(g.owner[c], lm_leakgraph_scc_owner(&lg, c));
    }
    an_graph_free(&g);
    lm_leakgraph_destroy(&lg);
    an_dump_free(&d);
}

static void test_random_graphs(void **state)
{
    (void)state;
    for (int round = 0; round < 400; round++) {
        uint32_t n = 1 + rnd(60);
        compare_one(n, rnd(3 * n + 1));
    }
}

static void test_long_chain_and_ring(void **state)
{
    (void)state;
    compare_one(5000, 0);
    compare_one(2000, 8000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_graphs),
        cmocka_unit_test(test_long_chain_and_ring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
