/*
 * reporttext.c - the text report on stderr: every leaked cycle as a cycle
 * (its members, each one's allocation site, who points to whom at which
 * offset), then the groups (definite, indirect, possible) largest first
 * with their stacks symbolised, then one summary line.  Output goes
 * through the caller's buffered writer.
 *
 * Runs under report.c's lock, with the symbolizer's session open.
 */
#include "reportctx.h"

#include "gen.h"
#include "options.h"
#include "stackdepot.h"
#include "symbolize.h"

static void letters(uint32_t i, char *buf)
{
    char tmp[8];
    int n = 0;
    for (uint32_t v = i + 1; v && n < 7; v = (v - 1) / 26)
        tmp[n++] = (char)('A' + (v - 1) % 26);
    for (int k = 0; k < n; k++)
        buf[k] = tmp[n - 1 - k];
    buf[n] = 0;
}

static void text_frame(struct lm_bufw *w, int i, uintptr_t pc)
{
    struct lm_sym s;
    lm_symbolize(pc, true, &s);
    lm_bufw_printf(w, "        #%d 0x%lx", i, (unsigned long)pc);
    if (s.function)
        lm_bufw_printf(w, " in %s", s.function);
    if (s.file)
        lm_bufw_printf(w, " %s:%d", s.file, s.line);
    lm_bufw_printf(w, " (%s+0x%lx)\n", s.module, (unsigned long)(pc - s.bias));
}

static void text_stack(struct lm_bufw *w, uint32_t stack_id)
{
    const uintptr_t *pcs;
    int n = lm_stackdepot_get(stack_id, &pcs);
    if (n <= 0)
        lm_bufw_puts(w, "        <no allocation stack recorded>\n");
    for (int i = 0; i < n; i++)
        text_frame(w, i, pcs[i]);
}

/* "make_cycle leak.c:5" for the innermost frame of a stack. */
static void text_site(struct lm_bufw *w, uint32_t stack_id)
{
    const uintptr_t *pcs;
    if (lm_stackdepot_get(stack_id, &pcs) <= 0) {
        lm_bufw_puts(w, "<no stack>");
        return;
    }
    struct lm_sym s;
    lm_symbolize(pcs[0], true, &s);
    if (s.function)
        lm_bufw_puts(w, s.function);
    else
        lm_bufw_printf(w, "%s+0x%lx", lm_path_base(s.module), (unsigned long)(pcs[0] - s.bias));
    if (s.file)
        lm_bufw_printf(w, " %s:%d", lm_path_base(s.file), s.line);
}

static const char *plural(size_t n) { return n == 1 ? "" : "s"; }

static void text_cycle(struct lm_report_ctx *c, struct lm_bufw *w, uint32_t scc, uint32_t id)
{
    const lm_leakgraph_t *g = c->g;
    uint32_t cnt;
    const uint32_t *m = lm_leakgraph_scc_members(g, scc, &cnt);
    size_t bytes = 0;
    struct lm_block_ref b;
    for (uint32_t i = 0; i < cnt; i++) {
        lm_mark_leaked_block(c->res, m[i], &b);
        bytes += b.size;
    }
    lm_bufw_printf(w, "Leaked cycle #%u: %u block%s, %zu bytes", id, cnt, plural(cnt), bytes);
    if (lm_leakgraph_scc_is_root(g, scc)) {
        lm_bufw_puts(w, " - nothing outside the cycle points into it\n");
    } else {
        uint32_t og = lm_report_owner_group(c, m[0]);
        if (og != NO_GROUP)
            lm_bufw_printf(w, " - held by leak #%u\n", u32(&c->rank)[og]);
        else
            lm_bufw_puts(w, " - held by other leaked blocks\n");
    }
    uint32_t shown = cnt < TEXT_MAX_MEMBERS ? cnt : TEXT_MAX_MEMBERS;
    uint32_t stacks[TEXT_MAX_MEMBERS];
    char name[8], other[8];
    for (uint32_t i = 0; i < shown; i++) {
        lm_mark_leaked_block(c->res, m[i], &b);
        stacks[i] = b.stack_id;
        letters(i, name);
        uint32_t k = lm_report_rank_of_node(c, m[i]);
        lm_bufw_printf(w, "  [%s] %zu bytes at 0x%lx (%s, leak #%u), allocated at", name,
                       b.size, (unsigned long)b.start, lm_report_kind_name[grp(c, u32(&c->order)[k])->kind], k);
        uint32_t same = i;
        for (uint32_t j = 0; j < i && same == i; j++)
            if (stacks[j] == b.stack_id)
                same = j;
        if (same != i) {
            letters(same, other);
            lm_bufw_puts(w, " ");
            text_site(w, b.stack_id);
            lm_bufw_printf(w, " (same stack as %s)\n", other);
        } else {
            lm_bufw_puts(w, "\n");
            text_stack(w, b.stack_id);
            struct group *gm = grp(c, u32(&c->node_group)[m[i]]);
            if (!gm->shown_in)
                gm->shown_in = id + 1;
        }
    }
    if (shown < cnt)
        lm_bufw_printf(w, "  ... %u more member%s\n", cnt - shown, plural(cnt - shown));
    lm_lg_scc_edge_iter_t it;
    lm_leakgraph_scc_edges_begin(g, scc, &it);
    size_t printed = 0, hidden = 0;
    for (const lm_lg_edge_t *e; (e = lm_leakgraph_scc_edges_next(&it));) {
        uint32_t f = lm_leakgraph_member_index(g, e->from), t = lm_leakgraph_member_index(g, e->to);
        if (f >= shown || t >= shown || printed >= TEXT_MAX_EDGES) {
            hidden++;
            continue;
        }
        letters(f, name);
        letters(t, other);
        lm_bufw_printf(w, "%s%s+%llu -> %s", printed % 6 ? "    " : "  ", name,
                       (unsigned long long)e->offset, other);
        if (++printed % 6 == 0)
            lm_bufw_puts(w, "\n");
    }
    if (printed % 6)
        lm_bufw_puts(w, "\n");
    if (hidden)
        lm_bufw_printf(w, "  ... %zu more pointer%s inside the cycle\n", hidden, plural(hidden));
    lm_bufw_puts(w, "\n");
}

/* The generation of a group's blocks: its name, or "mixed". */
const char *lm_report_group_generation(const struct group *g)
{
    unsigned only = 3, kinds = 0;
    for (unsigned i = 0; i < 3; i++) {
        if (g->gen_blocks[i]) {
            only = i;
            kinds++;
        }
    }
    return kinds == 1 ? lm_gen_name(only) : "mixed";
}

static void text_group(struct lm_report_ctx *c, struct lm_bufw *w, uint32_t slot)
{
    const struct group *g = grp(c, slot);
    lm_bufw_printf(w, "%s leak #%u: %zu byte%s in %zu block%s (%s generation)", lm_report_kind_title[g->kind],
                   u32(&c->rank)[slot], g->bytes, plural(g->bytes), g->blocks, plural(g->blocks),
                   lm_report_group_generation(g));
    if (g->in_cycle)
        lm_bufw_puts(w, ", in a cycle above");
    if (g->owner != NO_GROUP)
        lm_bufw_printf(w, ", held by leak #%u", u32(&c->rank)[g->owner]);
    if (g->kind == K_POSSIBLE)
        lm_bufw_puts(w, " (only interior pointers reach it)");
    if (g->shown_in) {                 /* the cycle printed this stack */
        lm_bufw_puts(w, ", allocated at ");
        text_site(w, g->stack_id);
        lm_bufw_printf(w, " (stack shown in cycle #%u)\n", g->shown_in - 1);
    } else {
        lm_bufw_puts(w, ", allocated at\n");
        text_stack(w, g->stack_id);
    }
    if (g->held_blocks)
        lm_bufw_printf(w, "  it holds %zu indirectly leaked byte%s in %zu block%s\n",
                       g->held_bytes, plural(g->held_bytes), g->held_blocks, plural(g->held_blocks));
    lm_bufw_puts(w, "\n");
}

void lm_report_text_summary(struct lm_bufw *w, const struct view *r)
{
    if (!r->leaked.blocks && !r->possible.blocks) {
        lm_bufw_printf(w, "SUMMARY: leakmark: no leaks (%zu block%s, %zu bytes still reachable",
                       r->reachable.blocks, plural(r->reachable.blocks), r->reachable.bytes);
    } else {
        lm_bufw_printf(w, "SUMMARY: leakmark: %zu bytes lost in %zu block%s (definite %zu in %zu,"
                       " indirect %zu in %zu), %u cycle%s, possible %zu in %zu, reachable %zu in %zu",
                       r->leaked.bytes, r->leaked.blocks, plural(r->leaked.blocks),
                       r->definite.bytes, r->definite.blocks, r->indirect.bytes, r->indirect.blocks,
                       r->cycles, plural(r->cycles), r->possible.bytes, r->possible.blocks,
                       r->reachable.bytes, r->reachable.blocks);
    }
    if (r->sup_blocks)
        lm_bufw_printf(w, ", suppressed %zu in %zu", r->sup_bytes, r->sup_blocks);
    lm_bufw_puts(w, r->leaked.blocks || r->possible.blocks ? "\n" : ")\n");
}

void lm_report_write_text(struct lm_report_ctx *c, struct lm_bufw *w, const struct lm_report_info *info)
{
    const struct view *r = &c->v;
    int pid = (int)info->pid;
    if (info->periodic)
        lm_bufw_printf(w, "==%d== leakmark: periodic scan %lu (generations up to %s): "
                       "leaks new since the last scan, unreachable in %u scans in a row and "
                       "older than %u ms\n", pid, (unsigned long)info->scan_seq,
                       lm_gen_name(info->scan_level), (unsigned)lm_options.min_unref_scans,
                       (unsigned)lm_options.min_age_ms);
    if (r->leaked.blocks || r->possible.blocks) {
        lm_bufw_printf(w, "==%d== leakmark: %zu bytes lost in %zu block%s (definite %zu, indirect %zu),"
                       " %u cycle%s, %zu bytes possibly lost in %zu block%s [%s check]\n\n", pid,
                       r->leaked.bytes, r->leaked.blocks, plural(r->leaked.blocks), r->definite.bytes,
                       r->indirect.bytes, r->cycles, plural(r->cycles), r->possible.bytes,
                       r->possible.blocks, plural(r->possible.blocks), info->trigger);
        if (c->g) {
            uint32_t id = 0, nscc = lm_leakgraph_scc_count(c->g);
            for (uint32_t s = 0; s < nscc; s++) {
                if (!lm_report_cycle_shown(c, s))
                    continue;
                if (id < TEXT_MAX_CYCLES)
                    text_cycle(c, w, s, id);
                id++;
            }
            if (id > TEXT_MAX_CYCLES)
                lm_bufw_printf(w, "... %u more leaked cycles (all of them are in the JSON report)\n\n",
                               id - TEXT_MAX_CYCLES);
        }
        for (uint8_t k = K_DEFINITE; k <= K_POSSIBLE; k++)
            for (size_t i = 0; i < c->order.len; i++)
                if (grp(c, u32(&c->order)[i])->kind == k)
                    text_group(c, w, u32(&c->order)[i]);
    }
    lm_supp_write_used(&c->supp, w);
    if (lm_options.verbosity >= 2) {
        char a[48], b[48];
        lm_fmt_fixed(a, sizeof a, info->scan_ms, 3);
        lm_fmt_fixed(b, sizeof b, info->pause_ms, 3);
        lm_bufw_printf(w, "==%d== leakmark: %s check: %zu live blocks, %zu bytes; scan %s ms,"
                       " world stopped %s ms\n", pid, info->trigger, r->live.blocks, r->live.bytes, a, b);
    }
    lm_report_text_summary(w, r);
}
