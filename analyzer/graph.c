/*
 * graph.c - SCCs and owners of the leaked-block graph (see graph.h; the
 * algorithm and its order guarantees are those of preload/leakgraph.c).
 */
#include "graph.h"

#include <stdlib.h>
#include <string.h>

#define TARJAN_DONE (AN_NONE - 1)

static int cmp_edge(const void *a, const void *b)
{
    const struct an_gedge *x = a, *y = b;
    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return x->to < y->to ? -1 : x->to > y->to;
}

static int load_edges(const struct an_dump *d, struct an_graph *g)
{
    g->e = malloc((d->nedges ? d->nedges : 1) * sizeof *g->e);
    g->est = calloc((size_t)g->n + 1, sizeof *g->est);
    if (!g->e || !g->est)
        return -1;
    for (size_t i = 0; i < d->nedges; i++)
        g->e[i] = (struct an_gedge){ g->block_node[d->edges[i].from],
                                     g->block_node[d->edges[i].to], d->edges[i].offset };
    qsort(g->e, d->nedges, sizeof *g->e, cmp_edge);
    size_t w = 0;
    for (size_t i = 0; i < d->nedges; i++) {
        if (w && g->e[w - 1].from == g->e[i].from && g->e[w - 1].to == g->e[i].to &&
            g->e[w - 1].offset == g->e[i].offset)
            continue;
        g->e[w++] = g->e[i];
    }
    g->ne = w;
    for (size_t i = 0; i < w; i++)
        g->est[g->e[i].from + 1]++;
    for (uint32_t v = 0; v < g->n; v++)
        g->est[v + 1] += g->est[v];
    return 0;
}

struct frame {
    uint32_t v;
    size_t next;
};

static int tarjan(struct an_graph *g)
{
    uint32_t n = g->n, counter = 0, nscc = 0;
    uint32_t *idx = malloc((n ? n : 1) * sizeof *idx), *low = malloc((n ? n : 1) * sizeof *low);
    uint32_t *stack = malloc((n ? n : 1) * sizeof *stack);
    struct frame *fr = malloc((n ? n : 1) * sizeof *fr);
    g->scc = malloc((n ? n : 1) * sizeof *g->scc);
    int rc = -1;
    if (!idx || !low || !stack || !fr || !g->scc)
        goto out;
    size_t sp = 0, fp = 0;
    for (uint32_t v = 0; v < n; v++)
        idx[v] = AN_NONE;
    for (uint32_t r = 0; r < n; r++) {
        if (idx[r] != AN_NONE)
            continue;
        idx[r] = low[r] = counter++;
        stack[sp++] = r;
        fr[fp++] = (struct frame){ r, g->est[r] };
        while (fp) {
            struct frame *f = &fr[fp - 1];
            uint32_t v = f->v;
            if (f->next < g->est[v + 1]) {
                uint32_t w = g->e[f->next++].to;
                if (idx[w] == AN_NONE) {
                    idx[w] = low[w] = counter++;
                    stack[sp++] = w;
                    fr[fp++] = (struct frame){ w, g->est[w] };
                } else if (idx[w] < low[v]) {
                    low[v] = idx[w];
                }
                continue;
            }
            fp--;
            if (low[v] == idx[v]) {
                uint32_t x;
                do {
                    x = stack[--sp];
                    g->scc[x] = nscc;
                    idx[x] = TARJAN_DONE;
                } while (x != v);
                nscc++;
            }
            if (fp && low[v] < low[fr[fp - 1].v])
                low[fr[fp - 1].v] = low[v];
        }
    }
    for (uint32_t v = 0; v < n; v++)
        g->scc[v] = nscc - 1 - g->scc[v];
    g->nscc = nscc;
    rc = 0;
out:
    free(idx);
    free(low);
    free(stack);
    free(fr);
    return rc;
}

static int classify(struct an_graph *g)
{
    uint32_t n = g->n, nscc = g->nscc;
    g->scc_start = calloc((size_t)nscc + 1, sizeof *g->scc_start);
    g->members = malloc((n ? n : 1) * sizeof *g->members);
    g->scc_flags = calloc(nscc ? nscc : 1, 1);
    g->owner = malloc((nscc ? nscc : 1) * sizeof *g->owner);
    uint8_t *entered = calloc(nscc ? nscc : 1, 1);
    if (!g->scc_start || !g->members || !g->scc_flags || !g->owner || !entered) {
        free(entered);
        return -1;
    }
    uint32_t *st = g->scc_start;
    for (uint32_t v = 0; v < n; v++)
        st[g->scc[v] + 1]++;
    for (uint32_t c = 0; c < nscc; c++)
        st[c + 1] += st[c];
    for (uint32_t v = 0; v < n; v++)
        g->members[st[g->scc[v]]++] = v;
    for (uint32_t c = nscc; c > 0; c--)
        st[c] = st[c - 1];
    st[0] = 0;

    for (uint32_t c = 0; c < nscc; c++)
        if (st[c + 1] - st[c] >= 2)
            g->scc_flags[c] |= AN_SCC_CYCLE;
    for (size_t i = 0; i < g->ne; i++) {
        uint32_t cf = g->scc[g->e[i].from], ct = g->scc[g->e[i].to];
        if (cf != ct)
            entered[ct] = 1;
        else if (g->e[i].from == g->e[i].to)
            g->scc_flags[ct] |= AN_SCC_CYCLE;
    }
    for (uint32_t c = 0; c < nscc; c++) {
        if (!entered[c])
            g->scc_flags[c] |= AN_SCC_ROOT;
        g->owner[c] = entered[c] ? AN_NONE : c;
        g->cycles += (g->scc_flags[c] & AN_SCC_CYCLE) != 0;
    }
    free(entered);
    for (uint32_t c = 0; c < nscc; c++) {
        if (g->owner[c] == AN_NONE)
            continue;
        for (uint32_t m = st[c]; m < st[c + 1]; m++) {
            uint32_t v = g->members[m];
            for (size_t i = g->est[v]; i < g->est[v + 1]; i++) {
                uint32_t ct = g->scc[g->e[i].to];
                if (g->owner[ct] == AN_NONE)
                    g->owner[ct] = g->owner[c];
            }
        }
    }
    return 0;
}

int an_graph_build(const struct an_dump *d, struct an_graph *g)
{
    memset(g, 0, sizeof *g);
    g->block_node = malloc((d->nblocks ? d->nblocks : 1) * sizeof *g->block_node);
    g->node_block = malloc((d->nblocks ? d->nblocks : 1) * sizeof *g->node_block);
    if (!g->block_node || !g->node_block)
        return -1;
    for (size_t i = 0; i < d->nblocks; i++) {
        g->block_node[i] = AN_NONE;
        if (an_class_leaked(d->blocks[i].cls)) {
            g->node_block[g->n] = (uint32_t)i;
            g->block_node[i] = g->n++;
        }
    }
    /* the reader guarantees edges join leaked blocks */
    if (load_edges(d, g) || tarjan(g) || classify(g))
        return -1;
    return 0;
}

void an_graph_free(struct an_graph *g)
{
    free(g->node_block);
    free(g->block_node);
    free(g->e);
    free(g->est);
    free(g->scc);
    free(g->scc_start);
    free(g->members);
    free(g->scc_flags);
    free(g->owner);
    memset(g, 0, sizeof *g);
}

uint32_t an_graph_member_index(const struct an_graph *g, uint32_t v)
{
    const uint32_t *m = an_scc_members(g, g->scc[v]);
    uint32_t lo = 0, hi = an_scc_size(g, g->scc[v]);
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void an_graph_scc_edges(const struct an_graph *g, uint32_t c,
                        void (*fn)(const struct an_gedge *e, void *arg), void *arg)
{
    const uint32_t *m = an_scc_members(g, c);
    for (uint32_t k = 0; k < an_scc_size(g, c); k++)
        for (size_t i = g->est[m[k]]; i < g->est[m[k] + 1]; i++)
            if (g->scc[g->e[i].to] == c)
                fn(&g->e[i], arg);
}

void an_member_name(uint32_t i, char *buf)
{
    char tmp[8];
    int n = 0;
    for (uint32_t v = i + 1; v && n < 7; v = (v - 1) / 26)
        tmp[n++] = (char)('A' + (v - 1) % 26);
    for (int k = 0; k < n; k++)
        buf[k] = tmp[n - 1 - k];
    buf[n] = 0;
}
