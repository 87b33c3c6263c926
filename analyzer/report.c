/*
 * report.c - the leak report of a dump as text and JSON (see report.h);
 * a port of preload/report.c's writers onto the analyzer's model: keep
 * the two in step when the report layout changes.
 */
#include "report.h"
#include "graph.h"
#include "jsonout.h"
#include "stackfmt.h"

#ifndef LM_VERSION
#define LM_VERSION "0.0.0"
#endif

#define TEXT_MAX_CYCLES  50
#define TEXT_MAX_MEMBERS 20
#define TEXT_MAX_EDGES   48

static const char *const kind_title[] = { "Definite", "Indirect", "Possible" };

static const struct an_block *node_block(const struct an_leaks *L, uint32_t v)
{
    return &L->d->blocks[L->g.node_block[v]];
}

struct edge_print {
    FILE *f;
    const struct an_graph *g;
    uint32_t shown, max_edges;
    uint64_t printed, hidden;
};

static void print_edge(const struct an_gedge *e, void *arg)
{
    struct edge_print *p = arg;
    uint32_t fi = an_graph_member_index(p->g, e->from), ti = an_graph_member_index(p->g, e->to);
    if (fi >= p->shown || ti >= p->shown || p->printed >= p->max_edges) {
        p->hidden++;
        return;
    }
    char a[8], b[8];
    an_member_name(fi, a);
    an_member_name(ti, b);
    fprintf(p->f, "%s%s+%llu -> %s", p->printed % 6 ? "    " : "  ", a,
            (unsigned long long)e->offset, b);
    if (++p->printed % 6 == 0)
        fputs("\n", p->f);
}

void an_report_cycle(FILE *f, struct an_leaks *L, struct an_symtab *t, uint32_t scc,
                     uint32_t id, uint32_t max_members, uint32_t max_edges)
{
    const struct an_graph *g = &L->g;
    uint32_t cnt = an_scc_size(g, scc);
    const uint32_t *m = an_scc_members(g, scc);
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < cnt; i++)
        bytes += node_block(L, m[i])->size;
    fprintf(f, "Leaked cycle #%u: %u block%s, %llu bytes", id, cnt, an_plural(cnt),
            (unsigned long long)bytes);
    if (g->scc_flags[scc] & AN_SCC_ROOT) {
        fputs(" - nothing outside the cycle points into it\n", f);
    } else {
        uint32_t og = an_leaks_owner_group(L, m[0]);
        if (og != AN_NONE)
            fprintf(f, " - held by leak #%u\n", L->rank[og]);
        else
            fputs(" - held by other leaked blocks\n", f);
    }
    uint32_t shown = cnt < max_members ? cnt : max_members;
    char name[8], other[8];
    for (uint32_t i = 0; i < shown; i++) {
        const struct an_block *b = node_block(L, m[i]);
        an_member_name(i, name);
        uint32_t k = L->rank[L->node_group[m[i]]];
        fprintf(f, "  [%s] %llu bytes at 0x%llx (%s, leak #%u), allocated at", name,
                (unsigned long long)b->size, (unsigned long long)b->addr,
                an_kind_name[L->groups[L->order[k]].kind], k);
        uint32_t same = i;
        for (uint32_t j = 0; j < i && same == i; j++)
            if (node_block(L, m[j])->stack_id == b->stack_id)
                same = j;
        if (same != i) {
            an_member_name(same, other);
            fputs(" ", f);
            an_print_site(f, t, L->d, b->stack);
            fprintf(f, " (same stack as %s)\n", other);
        } else {
            fputs("\n", f);
            an_print_stack(f, t, L->d, b->stack);
            struct an_group *gm = &L->groups[L->node_group[m[i]]];
            if (!gm->shown_in)
                gm->shown_in = id + 1;
        }
    }
    if (shown < cnt)
        fprintf(f, "  ... %u more member%s\n", cnt - shown, an_plural(cnt - shown));
    struct edge_print p = { f, g, shown, max_edges, 0, 0 };
    an_graph_scc_edges(g, scc, print_edge, &p);
    if (p.printed % 6)
        fputs("\n", f);
    if (p.hidden)
        fprintf(f, "  ... %llu more pointer%s inside the cycle\n", (unsigned long long)p.hidden,
                an_plural(p.hidden));
    fputs("\n", f);
}

static const char *const gen_name[] = { "young", "middle", "old" };

/* The generation of a group's blocks: its name, or "mixed". */
static const char *group_generation(const struct an_group *g)
{
    unsigned only = 0, kinds = 0;
    for (unsigned i = 0; i < 3; i++) {
        if (g->gen_blocks[i]) {
            only = i;
            kinds++;
        }
    }
    return kinds == 1 ? gen_name[only] : "mixed";
}

static void text_group(FILE *f, struct an_leaks *L, struct an_symtab *t, uint32_t slot)
{
    const struct an_group *g = &L->groups[slot];
    fprintf(f, "%s leak #%u: %llu byte%s in %llu block%s (%s generation)", kind_title[g->kind],
            L->rank[slot], (unsigned long long)g->bytes, an_plural(g->bytes),
            (unsigned long long)g->blocks, an_plural(g->blocks), group_generation(g));
    if (g->in_cycle)
        fputs(", in a cycle above", f);
    if (g->owner != AN_NONE)
        fprintf(f, ", held by leak #%u", L->rank[g->owner]);
    if (g->kind == AN_K_POSSIBLE)
        fputs(" (only interior pointers reach it)", f);
    if (g->shown_in) {
        fputs(", allocated at ", f);
        an_print_site(f, t, L->d, g->stack);
        fprintf(f, " (stack shown in cycle #%u)\n", g->shown_in - 1);
    } else {
        fputs(", allocated at\n", f);
        an_print_stack(f, t, L->d, g->stack);
    }
    if (g->held_blocks)
        fprintf(f, "  it holds %llu indirectly leaked byte%s in %llu block%s\n",
                (unsigned long long)g->held_bytes, an_plural(g->held_bytes),
                (unsigned long long)g->held_blocks, an_plural(g->held_blocks));
    fputs("\n", f);
}

#define S(field) ((unsigned long long)s[AN_S_##field])

static void text_summary(FILE *f, const uint64_t *s)
{
    uint64_t leaked_blocks = s[AN_S_DEF_BLOCKS] + s[AN_S_IND_BLOCKS];
    uint64_t leaked_bytes = s[AN_S_DEF_BYTES] + s[AN_S_IND_BYTES];
    bool any = leaked_blocks || s[AN_S_POS_BLOCKS];
    if (!any) {
        fprintf(f, "SUMMARY: leakmark: no leaks (%llu block%s, %llu bytes still reachable",
                S(REACH_BLOCKS), an_plural(s[AN_S_REACH_BLOCKS]), S(REACH_BYTES));
    } else {
        fprintf(f, "SUMMARY: leakmark: %llu bytes lost in %llu block%s (definite %llu in %llu,"
                " indirect %llu in %llu), %llu cycle%s, possible %llu in %llu, reachable %llu"
                " in %llu", (unsigned long long)leaked_bytes, (unsigned long long)leaked_blocks,
                an_plural(leaked_blocks), S(DEF_BYTES), S(DEF_BLOCKS), S(IND_BYTES),
                S(IND_BLOCKS), S(CYCLES), an_plural(s[AN_S_CYCLES]), S(POS_BYTES), S(POS_BLOCKS),
                S(REACH_BYTES), S(REACH_BLOCKS));
    }
    if (s[AN_S_SUP_BLOCKS])
        fprintf(f, ", suppressed %llu in %llu", S(SUP_BYTES), S(SUP_BLOCKS));
    fputs(any ? "\n" : ")\n", f);
}

void an_report_text(FILE *f, struct an_leaks *L, struct an_symtab *t)
{
    const uint64_t *s = L->summary;
    uint64_t leaked_blocks = s[AN_S_DEF_BLOCKS] + s[AN_S_IND_BLOCKS];
    if (leaked_blocks || s[AN_S_POS_BLOCKS]) {
        fprintf(f, "==%u== leakmark: %llu bytes lost in %llu block%s (definite %llu, indirect"
                " %llu), %llu cycle%s, %llu bytes possibly lost in %llu block%s [%s check]\n\n",
                L->d->pid, (unsigned long long)(s[AN_S_DEF_BYTES] + s[AN_S_IND_BYTES]),
                (unsigned long long)leaked_blocks, an_plural(leaked_blocks), S(DEF_BYTES),
                S(IND_BYTES), S(CYCLES), an_plural(s[AN_S_CYCLES]), S(POS_BYTES), S(POS_BLOCKS),
                an_plural(s[AN_S_POS_BLOCKS]), an_trigger_name(L->d->trigger));
        uint32_t id = 0;
        for (uint32_t c = 0; c < L->g.nscc; c++) {
            if (!(L->g.scc_flags[c] & AN_SCC_CYCLE))
                continue;
            if (id < TEXT_MAX_CYCLES)
                an_report_cycle(f, L, t, c, id, TEXT_MAX_MEMBERS, TEXT_MAX_EDGES);
            id++;
        }
        if (id > TEXT_MAX_CYCLES)
            fprintf(f, "... %u more leaked cycles (all of them are in the JSON report)\n\n",
                    id - TEXT_MAX_CYCLES);
        for (uint8_t k = AN_K_DEFINITE; k <= AN_K_POSSIBLE; k++)
            for (size_t i = 0; i < L->ngroups; i++)
                if (L->groups[L->order[i]].kind == k)
                    text_group(f, L, t, L->order[i]);
    }
    text_summary(f, s);
}

/* ---- JSON ---- */

static void json_count(struct an_jw *j, const char *kb, const char *ky, uint64_t blocks,
                       uint64_t bytes)
{
    an_jw_key(j, kb); an_jw_u64(j, blocks);
    an_jw_key(j, ky); an_jw_u64(j, bytes);
}

static void json_stack(struct an_jw *j, struct an_symtab *t, const struct an_dump *d,
                       uint32_t stack)
{
    an_jw_key(j, "stack");
    an_jw_arr_begin(j);
    const struct an_stack *st = stack == AN_NONE ? NULL : &d->stacks[stack];
    for (uint32_t i = 0; st && i < st->nframes; i++) {
        uint64_t pc = st->pcs[i];
        struct an_sym s;
        an_sym_lookup(t, pc, &s);
        an_jw_obj_begin(j);
        an_jw_key(j, "pc"); an_jw_hex(j, pc);
        an_jw_key(j, "module"); an_jw_str(j, s.module);
        an_jw_key(j, "offset"); an_jw_hex(j, pc - s.bias);
        if (s.function) { an_jw_key(j, "function"); an_jw_str(j, s.function); }
        if (s.file) { an_jw_key(j, "file"); an_jw_str(j, s.file); }
        if (s.file && s.line > 0) { an_jw_key(j, "line"); an_jw_u64(j, (uint64_t)s.line); }
        an_jw_obj_end(j);
    }
    an_jw_arr_end(j);
}

struct edge_json {
    struct an_jw *j;
    const struct an_graph *g;
};

static void json_edge(const struct an_gedge *e, void *arg)
{
    struct edge_json *p = arg;
    an_jw_obj_begin(p->j);
    an_jw_key(p->j, "from"); an_jw_u64(p->j, an_graph_member_index(p->g, e->from));
    an_jw_key(p->j, "offset"); an_jw_u64(p->j, e->offset);
    an_jw_key(p->j, "to"); an_jw_u64(p->j, an_graph_member_index(p->g, e->to));
    an_jw_obj_end(p->j);
}

static void json_cycles(struct an_jw *j, struct an_leaks *L)
{
    const struct an_graph *g = &L->g;
    an_jw_key(j, "cycles");
    an_jw_arr_begin(j);
    uint32_t id = 0;
    for (uint32_t c = 0; c < g->nscc; c++) {
        if (!(g->scc_flags[c] & AN_SCC_CYCLE))
            continue;
        uint32_t cnt = an_scc_size(g, c);
        const uint32_t *m = an_scc_members(g, c);
        uint64_t bytes = 0;
        for (uint32_t i = 0; i < cnt; i++)
            bytes += node_block(L, m[i])->size;
        an_jw_obj_begin(j);
        an_jw_key(j, "id"); an_jw_u64(j, id++);
        json_count(j, "blocks", "bytes", cnt, bytes);
        bool root = g->scc_flags[c] & AN_SCC_ROOT;
        an_jw_key(j, "root"); an_jw_bool(j, root);
        uint32_t og = root ? AN_NONE : an_leaks_owner_group(L, m[0]);
        if (og != AN_NONE) { an_jw_key(j, "held_by"); an_jw_u64(j, L->rank[og]); }
        an_jw_key(j, "members");
        an_jw_arr_begin(j);
        for (uint32_t i = 0; i < cnt; i++) {
            const struct an_block *b = node_block(L, m[i]);
            an_jw_obj_begin(j);
            an_jw_key(j, "address"); an_jw_hex(j, b->addr);
            an_jw_key(j, "size"); an_jw_u64(j, b->size);
            an_jw_key(j, "leak"); an_jw_u64(j, L->rank[L->node_group[m[i]]]);
            an_jw_obj_end(j);
        }
        an_jw_arr_end(j);
        an_jw_key(j, "edges");
        an_jw_arr_begin(j);
        struct edge_json p = { j, g };
        an_graph_scc_edges(g, c, json_edge, &p);
        an_jw_arr_end(j);
        an_jw_obj_end(j);
    }
    an_jw_arr_end(j);
}

void an_report_json(FILE *f, struct an_leaks *L, struct an_symtab *t)
{
    const struct an_dump *d = L->d;
    const uint64_t *s = L->summary;
    struct an_jw jw, *j = &jw;
    an_jw_init(j, f, 2);
    an_jw_obj_begin(j);
    an_jw_key(j, "tool"); an_jw_str(j, "leakmark");
    an_jw_key(j, "schema"); an_jw_u64(j, 1);
    an_jw_key(j, "version"); an_jw_str(j, LM_VERSION);
    an_jw_key(j, "pid"); an_jw_u64(j, d->pid);
    an_jw_key(j, "exe"); an_jw_str(j, d->exe ? d->exe : "?");
    an_jw_key(j, "trigger"); an_jw_str(j, an_trigger_name(d->trigger));
    an_jw_key(j, "summary");
    an_jw_obj_begin(j);
    json_count(j, "live_blocks", "live_bytes", s[AN_S_LIVE_BLOCKS], s[AN_S_LIVE_BYTES]);
    json_count(j, "definite_blocks", "definite_bytes", s[AN_S_DEF_BLOCKS], s[AN_S_DEF_BYTES]);
    json_count(j, "indirect_blocks", "indirect_bytes", s[AN_S_IND_BLOCKS], s[AN_S_IND_BYTES]);
    json_count(j, "possible_blocks", "possible_bytes", s[AN_S_POS_BLOCKS], s[AN_S_POS_BYTES]);
    json_count(j, "reachable_blocks", "reachable_bytes", s[AN_S_REACH_BLOCKS],
               s[AN_S_REACH_BYTES]);
    json_count(j, "suppressed_blocks", "suppressed_bytes", s[AN_S_SUP_BLOCKS], s[AN_S_SUP_BYTES]);
    an_jw_key(j, "cycles"); an_jw_u64(j, s[AN_S_CYCLES]);
    an_jw_key(j, "scan_ms"); an_jw_fixed(j, (double)d->scan_ns / 1e6, 3);
    an_jw_key(j, "pause_ms"); an_jw_fixed(j, (double)d->pause_ns / 1e6, 3);
    an_jw_key(j, "threads_not_stopped"); an_jw_u64(j, s[AN_S_THREADS_NOT_STOPPED]);
    an_jw_obj_end(j);
    an_jw_key(j, "leaks");
    an_jw_arr_begin(j);
    for (size_t i = 0; i < L->ngroups; i++) {
        const struct an_group *g = &L->groups[L->order[i]];
        an_jw_obj_begin(j);
        an_jw_key(j, "kind"); an_jw_str(j, an_kind_name[g->kind]);
        json_count(j, "blocks", "bytes", g->blocks, g->bytes);
        an_jw_key(j, "in_cycle"); an_jw_bool(j, g->in_cycle);
        if (g->owner != AN_NONE) { an_jw_key(j, "held_by"); an_jw_u64(j, L->rank[g->owner]); }
        an_jw_key(j, "generation"); an_jw_str(j, group_generation(g));
        an_jw_key(j, "generations");
        an_jw_obj_begin(j);
        for (unsigned k = 0; k < 3; k++) {
            an_jw_key(j, gen_name[k]);
            an_jw_u64(j, g->gen_blocks[k]);
        }
        an_jw_obj_end(j);
        json_stack(j, t, d, g->stack);
        an_jw_obj_end(j);
    }
    an_jw_arr_end(j);
    json_cycles(j, L);
    an_jw_key(j, "suppressions");      /* no suppression file applied offline (yet) */
    an_jw_arr_begin(j);
    an_jw_arr_end(j);
    an_jw_obj_end(j);
    fputs("\n", f);
}

/* ---- the subcommand ---- */

#include "commands.h"

#include <string.h>

int an_cmd_report(int argc, char **argv)
{
    const char *path;
    bool json = false;
    const struct an_opt opts[] = { { .name = "--json", .flag = &json }, { 0 } };
    int err = an_parse_one_dump("report", argc, argv, opts, &path);
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
    } else if (json) {
        an_report_json(stdout, &L, t);
    } else {
        an_report_text(stdout, &L, t);
    }
    an_sym_close(t);
    an_leaks_free(&L);
    an_dump_free(&d);
    return rc;
}
