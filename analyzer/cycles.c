/*
 * cycles.c - `cycles DUMP [--dot]`: every leaked cycle of the dump with
 * its members (size, address, allocation site) and the pointers between
 * them, as text (the report's cycle layout, without its limits) or as a
 * Graphviz dot document: one cluster per cycle, one node per member, one
 * edge per pointer labelled with its byte offset in the source block.
 */
#include "commands.h"
#include "report.h"
#include "stackfmt.h"

#include <stdlib.h>
#include <string.h>

static void dot_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, f);
    }
}

static void dot_edge(const struct an_gedge *e, void *arg)
{
    fprintf(arg, "  n%u -> n%u [label=\"+%llu\"];\n", e->from, e->to,
            (unsigned long long)e->offset);
}

static void print_dot(FILE *f, struct an_leaks *L, struct an_symtab *t)
{
    const struct an_graph *g = &L->g;
    fputs("digraph leakmark_cycles {\n  node [shape=box, fontname=\"monospace\"];\n", f);
    uint32_t id = 0;
    for (uint32_t c = 0; c < g->nscc; c++) {
        if (!(g->scc_flags[c] & AN_SCC_CYCLE))
            continue;
        uint32_t cnt = an_scc_size(g, c);
        const uint32_t *m = an_scc_members(g, c);
        uint64_t bytes = 0;
        for (uint32_t i = 0; i < cnt; i++)
            bytes += L->d->blocks[g->node_block[m[i]]].size;
        fprintf(f, "  subgraph cluster_%u {\n    label=\"cycle #%u: %u block%s, %llu bytes%s\";\n",
                id, id, cnt, an_plural(cnt), (unsigned long long)bytes,
                g->scc_flags[c] & AN_SCC_ROOT ? ", leak root" : ", held by other leaks");
        for (uint32_t i = 0; i < cnt; i++) {
            const struct an_block *b = &L->d->blocks[g->node_block[m[i]]];
            fprintf(f, "    n%u [label=\"%llu bytes at 0x%llx\\n", m[i],
                    (unsigned long long)b->size, (unsigned long long)b->addr);
            char *site = NULL;
            size_t len = 0;
            FILE *mf = open_memstream(&site, &len);
            if (mf) {
                an_print_site(mf, t, L->d, b->stack);
                fclose(mf);
                dot_escape(f, site);
            }
            free(site);
            fputs("\"];\n", f);
        }
        fputs("  }\n", f);
        an_graph_scc_edges(g, c, dot_edge, f);
        id++;
    }
    fputs("}\n", f);
}

int an_cmd_cycles(int argc, char **argv)
{
    const char *path;
    bool dot = false;
    const struct an_opt opts[] = { { .name = "--dot", .flag = &dot }, { 0 } };
    int err = an_parse_one_dump("cycles", argc, argv, opts, &path);
    if (err)
        return err;
    struct an_dump d;
    an_dump_init(&d, path);
    int rc = an_load_or_complain(&d);
    if (rc)
        return rc;
    struct an_leaks L;
    struct an_symtab *t = NULL;
    if (an_leaks_build(&d, &L) || !(t = an_sym_open(&d, stderr))) {
        fprintf(stderr, "leakmark-analyze: %s: out of memory\n", path);
        rc = 2;
    } else if (dot) {
        print_dot(stdout, &L, t);
    } else {
        uint64_t blocks = 0, bytes = 0;
        for (uint32_t c = 0; c < L.g.nscc; c++) {
            if (!(L.g.scc_flags[c] & AN_SCC_CYCLE))
                continue;
            for (uint32_t i = 0; i < an_scc_size(&L.g, c); i++) {
                blocks++;
                bytes += d.blocks[L.g.node_block[an_scc_members(&L.g, c)[i]]].size;
            }
        }
        if (!L.g.cycles)
            printf("No leaked cycles.\n");
        else
            printf("%u leaked cycle%s: %llu bytes in %llu block%s\n\n", L.g.cycles,
                   an_plural(L.g.cycles), (unsigned long long)bytes, (unsigned long long)blocks,
                   an_plural(blocks));
        uint32_t id = 0;
        for (uint32_t c = 0; c < L.g.nscc; c++)
            if (L.g.scc_flags[c] & AN_SCC_CYCLE)
                an_report_cycle(stdout, &L, t, c, id++, AN_NO_LIMIT, AN_NO_LIMIT);
    }
    an_sym_close(t);
    an_leaks_free(&L);
    an_dump_free(&d);
    return rc;
}
