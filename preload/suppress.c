/*
 * suppress.c - suppression sets: their lifetime, the pattern matchers,
 * matching a stack against the rules (cached per stack id), which leaked
 * nodes of a mark they hide, and how they are listed in the reports.
 * Files are read and parsed by suppparse.c; the formats and rules are
 * described in suppress.h.
 *
 * Owns: nothing global.  A struct lm_supp_set holds the file text, the
 * rules, the valgrind frame lines (supprules.h) and the per-stack cache,
 * all mmap'd (lm_os_map, lm_mmvec).
 *
 * Invariants: cache capacity is 0 or a power of two, at most half full; a
 * cache slot is in use iff used != 0.  Matching calls lm_symbolize (may
 * allocate): reporter context only, never inside malloc or a signal
 * handler.
 */
#include "supprules.h"
#include "log.h"
#include "os.h"
#include "stackdepot.h"
#include "symbolize.h"

#include <errno.h>

struct lm_supp_cache_slot {
    uint32_t stack;
    uint32_t used;
    uint32_t rule[3];           /* per kind: definite, indirect, possible */
};

#define MAX_MATCH_FRAMES 256

/* ---- matchers ---- */

/* p[0..pn) against s: '*' any run, '?' one char when qmark.  prefix_ok:
 * s may go on after the pattern ends (an implicit trailing '*');
 * lead_star: an implicit leading '*'.  Backtracks to the last '*' only,
 * which is exact for glob patterns. */
static bool wild(const char *p, size_t pn, const char *s, bool qmark, bool lead_star,
                 bool prefix_ok)
{
    size_t pi = 0, star_p = lead_star ? 0 : SIZE_MAX;
    const char *si = s, *star_s = s;
    for (;;) {
        if (pi < pn && p[pi] == '*') {
            star_p = ++pi;
            star_s = si;
            continue;
        }
        if (pi == pn && (prefix_ok || !*si))
            return true;
        if (*si && pi < pn && (p[pi] == *si || (qmark && p[pi] == '?'))) {
            pi++;
            si++;
            continue;
        }
        if (star_p != SIZE_MAX && *star_s) {
            pi = star_p;
            si = ++star_s;
            continue;
        }
        return false;
    }
}

static size_t slen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

bool lm_supp_lsan_match(const char *pat, const char *str)
{
    if (!str || !*str)
        return false;
    size_t n = slen(pat);
    bool start = n && pat[0] == '^';
    if (start) {
        pat++;
        n--;
    }
    bool end = n && pat[n - 1] == '$';
    if (end)
        n--;
    return wild(pat, n, str, false, !start, !end);
}

bool lm_supp_glob_match(const char *pat, const char *str)
{
    return wild(pat, slen(pat), str ? str : "", true, false, false);
}

/* ---- the set ---- */


void lm_supp_init(struct lm_supp_set *s)
{
    *s = (struct lm_supp_set){ 0 };
    lm_mmvec_init(&s->rules, sizeof(struct lm_supp_rule));
    lm_mmvec_init(&s->frames, sizeof(struct lm_supp_frame));
    lm_mmvec_init(&s->cache, sizeof(struct lm_supp_cache_slot));
}

void lm_supp_free(struct lm_supp_set *s)
{
    if (s->text)
        lm_os_unmap(s->text, s->text_map);
    lm_mmvec_free(&s->rules);
    lm_mmvec_free(&s->frames);
    lm_mmvec_free(&s->cache);
    lm_supp_init(s);
}

size_t lm_supp_rule_count(const struct lm_supp_set *s) { return s->rules.len; }

const char *lm_supp_rule_text(const struct lm_supp_set *s, uint32_t r)
{
    return lm_supp_rule_at(s, r)->text;
}

void lm_supp_rule_hits(const struct lm_supp_set *s, uint32_t r, size_t *blocks, size_t *bytes)
{
    *blocks = lm_supp_rule_at(s, r)->hit_blocks;
    *bytes = lm_supp_rule_at(s, r)->hit_bytes;
}

void lm_supp_hit(struct lm_supp_set *s, uint32_t r, size_t blocks, size_t bytes)
{
    lm_supp_rule_at(s, r)->hit_blocks += blocks;
    lm_supp_rule_at(s, r)->hit_bytes += bytes;
}

/* ---- matching one stack ---- */

static bool frame_match(const struct lm_supp_frame *f, const struct lm_sym *sym)
{
    switch (f->type) {
    case F_FUN:
        return lm_supp_glob_match(f->pat, sym->function ? sym->function : "???");
    case F_OBJ:
        return lm_supp_glob_match(f->pat, sym->module);
    default: {
        const char *file = sym->file ? sym->file : "???";
        if (!lm_supp_glob_match(f->pat, file) && !lm_supp_glob_match(f->pat, lm_path_base(file)))
            return false;
        return !f->line || f->line == sym->line;
    }
    }
}

/* valgrind: frame lines against the stack from its top; "..." is a '*'
 * over frames, and a trailing implicit "..." lets the stack go on. */
static bool vg_match(const struct lm_supp_set *s, const struct lm_supp_rule *r,
                     const struct lm_sym *syms, int n)
{
    const struct lm_supp_frame *f = (const struct lm_supp_frame *)s->frames.data + r->frame0;
    size_t pn = r->nframes, pi = r->implicit_top ? 1 : 0, star_p = SIZE_MAX;
    int si = 0, star_s = 0;
    for (;;) {
        if (pi < pn && f[pi].type == F_DOTS) {
            star_p = ++pi;
            star_s = si;
            continue;
        }
        if (pi == pn)
            return true;
        if (si < n && frame_match(&f[pi], &syms[si])) {
            pi++;
            si++;
            continue;
        }
        if (star_p != SIZE_MAX && star_s < n) {
            pi = star_p;
            si = ++star_s;
            continue;
        }
        return false;
    }
}

static uint32_t lsan_match_stack(const struct lm_supp_set *s, const struct lm_sym *syms, int n)
{
    size_t nr = s->rules.len;
    for (int i = 0; i < n; i++) {
        for (size_t r = 0; r < nr; r++)
            if (lm_supp_rule_at(s, (uint32_t)r)->type == R_LSAN &&
                lm_supp_lsan_match(lm_supp_rule_at(s, (uint32_t)r)->text, syms[i].module))
                return (uint32_t)r;
        for (size_t r = 0; r < nr; r++) {
            const struct lm_supp_rule *x = lm_supp_rule_at(s, (uint32_t)r);
            if (x->type == R_LSAN && (lm_supp_lsan_match(x->text, syms[i].function) ||
                                      lm_supp_lsan_match(x->text, syms[i].file)))
                return (uint32_t)r;
        }
    }
    return LM_SUPP_NONE;
}

static void match_stack(struct lm_supp_set *s, uint32_t stack_id, uint32_t out[3])
{
    static const unsigned kind_bit[3] = { LM_SUPP_DEFINITE, LM_SUPP_INDIRECT, LM_SUPP_POSSIBLE };
    struct lm_sym syms[MAX_MATCH_FRAMES];
    const uintptr_t *pcs;
    int n = lm_stackdepot_get(stack_id, &pcs);
    if (n > MAX_MATCH_FRAMES)
        n = MAX_MATCH_FRAMES;
    for (int i = 0; i < n; i++)
        lm_symbolize(pcs[i], true, &syms[i]);
    s->matches++;
    uint32_t r = s->lsan_rules ? lsan_match_stack(s, syms, n) : LM_SUPP_NONE;
    out[0] = out[1] = out[2] = r;
    if (r != LM_SUPP_NONE)
        return;
    for (size_t k = 0; k < s->rules.len; k++) {
        const struct lm_supp_rule *x = lm_supp_rule_at(s, (uint32_t)k);
        if (x->type != R_VG)
            continue;
        unsigned want = 0;
        for (int j = 0; j < 3; j++)
            if (out[j] == LM_SUPP_NONE && (x->kinds & kind_bit[j]))
                want |= 1u << j;
        if (!want || !vg_match(s, x, syms, n))
            continue;
        for (int j = 0; j < 3; j++)
            if (want & (1u << j))
                out[j] = (uint32_t)k;
    }
}

static size_t cache_hash(uint32_t stack, size_t mask)
{
    return (size_t)(((uint64_t)stack * 0x9e3779b97f4a7c15ull) >> 24) & mask;
}

static struct lm_supp_cache_slot *cache_find(struct lm_supp_set *s, uint32_t stack, bool *found)
{
    size_t cap = s->cache.len;
    if ((s->cached + 1) * 2 > cap) {      /* grow: rehash into a new table */
        size_t ncap = cap ? cap * 2 : 256;
        lm_mmvec_t nv;
        lm_mmvec_init(&nv, sizeof(struct lm_supp_cache_slot));
        if (lm_mmvec_resize(&nv, ncap))
            return NULL;
        struct lm_supp_cache_slot *old = s->cache.data, *tab = nv.data;
        for (size_t i = 0; i < cap; i++) {
            if (!old[i].used)
                continue;
            size_t j = cache_hash(old[i].stack, ncap - 1);
            while (tab[j].used)
                j = (j + 1) & (ncap - 1);
            tab[j] = old[i];
        }
        lm_mmvec_free(&s->cache);
        s->cache = nv;
        cap = ncap;
    }
    struct lm_supp_cache_slot *tab = s->cache.data;
    size_t j = cache_hash(stack, cap - 1);
    while (tab[j].used && tab[j].stack != stack)
        j = (j + 1) & (cap - 1);
    *found = tab[j].used;
    return &tab[j];
}

uint32_t lm_supp_match(struct lm_supp_set *s, uint32_t stack_id, unsigned kind)
{
    if (lm_supp_empty(s))
        return LM_SUPP_NONE;
    int k = kind == LM_SUPP_DEFINITE ? 0 : kind == LM_SUPP_INDIRECT ? 1 : 2;
    bool found;
    struct lm_supp_cache_slot *slot = cache_find(s, stack_id, &found);
    if (slot && found)
        return slot->rule[k];
    uint32_t out[3];
    match_stack(s, stack_id, out);
    if (slot) {
        slot->stack = stack_id;
        slot->used = 1;
        for (int j = 0; j < 3; j++)
            slot->rule[j] = out[j];
        s->cached++;
    }
    return out[k];
}

/* ---- leaked nodes ---- */

int lm_supp_leaked_nodes(struct lm_supp_set *s, const struct lm_mark_result *res,
                         lm_mmvec_t *out)
{
    uint32_t n = lm_mark_leaked_count(res);
    lm_mmvec_reset(out);
    if (lm_mmvec_resize(out, n))
        return ENOMEM;
    uint8_t *st = out->data;
    const lm_leakgraph_t *g = res->graph_ok ? lm_mark_graph(res) : NULL;
    for (uint32_t v = 0; v < n; v++) {
        struct lm_block_ref b;
        lm_mark_leaked_block(res, v, &b);
        unsigned kind = g && lm_leakgraph_kind(g, v) == LM_LEAK_INDIRECT ? LM_SUPP_INDIRECT
                                                                          : LM_SUPP_DEFINITE;
        uint32_t r = lm_supp_match(s, b.stack_id, kind);
        st[v] = 0;
        if (r != LM_SUPP_NONE) {
            st[v] = LM_SUPP_NODE_MATCHED;
            lm_supp_hit(s, r, 1, b.size);
        }
    }
    if (!g)
        return 0;
    /* Topological SCC order: whatever suppresses an SCC is decided before
     * it is visited (edges go to the same or a later SCC). */
    uint32_t nscc = lm_leakgraph_scc_count(g);
    for (uint32_t c = 0; c < nscc; c++) {
        uint32_t cnt;
        const uint32_t *m = lm_leakgraph_scc_members(g, c, &cnt);
        bool any = false;
        for (uint32_t i = 0; i < cnt && !any; i++)
            any = st[m[i]] != 0;
        if (!any)
            continue;
        for (uint32_t i = 0; i < cnt; i++) {
            if (!st[m[i]])
                st[m[i]] = LM_SUPP_NODE_HELD;
            size_t ne;
            const lm_lg_edge_t *e = lm_leakgraph_out_edges(g, m[i], &ne);
            for (size_t k = 0; k < ne; k++)
                if (!st[e[k].to])
                    st[e[k].to] = LM_SUPP_NODE_HELD;
        }
    }
    return 0;
}

void lm_supp_write_used(const struct lm_supp_set *s, struct lm_bufw *w)
{
    bool any = false;
    for (size_t r = 0; r < s->rules.len; r++) {
        const struct lm_supp_rule *x = lm_supp_rule_at(s, (uint32_t)r);
        if (!x->hit_blocks)
            continue;
        if (!any)
            lm_bufw_puts(w, "Suppressions used:\n   blocks      bytes suppression\n");
        any = true;
        if (x->type == R_LSAN)
            lm_bufw_printf(w, "  %7zu %10zu %s\n", x->hit_blocks, x->hit_bytes, x->line_text);
        else
            lm_bufw_printf(w, "  %7zu %10zu {%s} (line %u)\n", x->hit_blocks, x->hit_bytes,
                           x->text, x->line);
    }
    if (any)
        lm_bufw_puts(w, "\n");
}

void lm_supp_write_json(const struct lm_supp_set *s, struct lm_jw *j)
{
    lm_jw_key(j, "suppressions");
    lm_jw_arr_begin(j);
    for (size_t r = 0; r < s->rules.len; r++) {
        const struct lm_supp_rule *x = lm_supp_rule_at(s, (uint32_t)r);
        if (!x->hit_blocks)
            continue;
        lm_jw_obj_begin(j);
        lm_jw_key(j, "type"); lm_jw_str(j, x->type == R_LSAN ? "leak" : "valgrind");
        lm_jw_key(j, "rule"); lm_jw_str(j, x->text);
        lm_jw_key(j, "line"); lm_jw_u64(j, x->line);
        lm_jw_key(j, "blocks"); lm_jw_u64(j, x->hit_blocks);
        lm_jw_key(j, "bytes"); lm_jw_u64(j, x->hit_bytes);
        lm_jw_obj_end(j);
    }
    lm_jw_arr_end(j);
}
