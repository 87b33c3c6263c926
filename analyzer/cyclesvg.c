/*
 * cyclesvg.c - a leaked cycle as an SVG graph (see cyclesvg.h).
 *
 * Layout: members evenly on a circle, the first at the top, clockwise;
 * labels outside the circle, anchored away from it.  Edges of the SCC are
 * collected, sorted by (from, to, offset) and merged per ordered pair into
 * one arrow listing its offsets.
 */
#include "cyclesvg.h"
#include "graph.h"
#include "markup.h"
#include "stackfmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NODE_R    16.0
#define LABEL_W   180.0
#define LABEL_CH  22               /* characters of a node label */
#define PI        3.14159265358979323846

struct pedge {
    uint32_t from, to;          /* member positions */
    uint64_t offset;
};

struct collect {
    const struct an_graph *g;
    struct pedge *e;
    size_t n, cap;
    uint32_t shown;
    bool oom;
};

struct pt {
    double x, y;
};

static void collect_edge(const struct an_gedge *e, void *arg)
{
    struct collect *c = arg;
    uint32_t fi = an_graph_member_index(c->g, e->from), ti = an_graph_member_index(c->g, e->to);
    if (fi >= c->shown || ti >= c->shown || c->oom)
        return;
    if (!an_vec_reserve((void **)&c->e, c->n, &c->cap, 1, sizeof *c->e)) {
        c->oom = true;
        return;
    }
    c->e[c->n++] = (struct pedge){ fi, ti, e->offset };
}

static int cmp_pedge(const void *a, const void *b)
{
    const struct pedge *x = a, *y = b;
    if (x->from != y->from) return x->from < y->from ? -1 : 1;
    if (x->to != y->to) return x->to < y->to ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static bool has_pair(const struct pedge *e, size_t n, uint32_t from, uint32_t to)
{
    size_t lo = 0, hi = n;
    const struct pedge key = { from, to, 0 };
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_pedge(&e[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && e[lo].from == from && e[lo].to == to;
}

/* The member's allocation stack as text, for its tooltip. */
static void stack_text(FILE *f, struct an_symtab *t, const struct an_dump *d, uint32_t stack,
                       bool site_only)
{
    char *s = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&s, &len);
    if (!m)
        return;
    if (site_only)
        an_print_site(m, t, d, stack);
    else
        an_print_stack(m, t, d, stack);
    fclose(m);
    if (site_only)
        an_esc_clip(f, s, LABEL_CH);
    else
        an_esc(f, s);
    free(s);
}

static void node(FILE *f, const struct an_leaks *L, struct an_symtab *t, uint32_t pos,
                 uint32_t v, struct pt p, double angle, bool alone)
{
    const struct an_block *b = &L->d->blocks[L->g.node_block[v]];
    char name[8], size[32];
    an_member_name(pos, name);
    an_fmt_bytes(size, sizeof size, b->size);
    fprintf(f, "<g class=\"lm-node\" data-size=\"%llu\"><title>%s: %llu bytes at 0x%llx (%s),"
            " allocated at\n", (unsigned long long)b->size, name,
            (unsigned long long)b->size, (unsigned long long)b->addr, an_class_name(b->cls));
    stack_text(f, t, L->d, b->stack, false);
    fprintf(f, "</title><circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.0f\" fill=\"%s\" stroke=\"#333\"/>"
            "<text class=\"lm-letter\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
            p.x, p.y, NODE_R, b->cls == LM_DUMP_DEFINITE ? "#f4a6a6" : "#f7d08a", p.x,
            p.y + 4.5, name);
    double c = cos(angle), s = sin(angle), lr = NODE_R + 8;
    double lx = p.x + c * lr, ly = p.y + s * lr + 4;
    const char *anchor = c > 0.3 ? "start" : c < -0.3 ? "end" : "middle";
    if (alone) {                            /* the only member: label below */
        lx = p.x;
        ly = p.y + NODE_R + 18;
        anchor = "middle";
    } else if (!strcmp(anchor, "middle")) {
        ly = s < 0 ? p.y - NODE_R - 8 : p.y + NODE_R + 18;
    }
    fprintf(f, "<text class=\"lm-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s, ", lx, ly,
            anchor, size);
    stack_text(f, t, L->d, b->stack, true);
    fputs("</text></g>\n", f);
}

static void offsets(FILE *f, const struct pedge *e, size_t n)
{
    for (size_t i = 0; i < n && i < 3; i++)
        fprintf(f, "%s+%llu", i ? "," : "", (unsigned long long)e[i].offset);
    if (n > 3)
        fputs(",\xe2\x80\xa6", f);           /* ellipsis */
}

static void arrow(FILE *f, const struct pedge *e, size_t n, const struct pt *pos,
                  const double *angle, bool both_ways, uint32_t id, bool alone)
{
    char a[8], b[8];
    an_member_name(e->from, a);
    an_member_name(e->to, b);
    fputs("<g class=\"lm-edge\"><title>", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%s+%llu -> %s", i ? "\n" : "", a, (unsigned long long)e[i].offset, b);
    fputs("</title>", f);
    struct pt p = pos[e->from], q = pos[e->to];
    double lx, ly;
    if (e->from == e->to) {
        /* a loop: outward for a lone node, else toward the centre */
        double d = alone ? -PI / 2 : angle[e->from] + PI, spread = 0.6, far = NODE_R + 40;
        struct pt s0 = { p.x + cos(d - spread) * NODE_R, p.y + sin(d - spread) * NODE_R };
        struct pt s1 = { p.x + cos(d + spread) * NODE_R, p.y + sin(d + spread) * NODE_R };
        fprintf(f, "<path d=\"M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"none\""
                " stroke=\"#444\" marker-end=\"url(#lm-arrow-%u)\"/>", s0.x, s0.y,
                p.x + cos(d - spread) * far, p.y + sin(d - spread) * far,
                p.x + cos(d + spread) * far, p.y + sin(d + spread) * far, s1.x, s1.y, id);
        lx = p.x + cos(d) * (far - 4);
        ly = p.y + sin(d) * (far - 4) + 4;
    } else {
        double dx = q.x - p.x, dy = q.y - p.y, len = sqrt(dx * dx + dy * dy);
        if (len < 1e-6)
            len = 1e-6;
        double ux = dx / len, uy = dy / len, nx = -uy, ny = ux, off = both_ways ? 5 : 0;
        double x1 = p.x + ux * NODE_R + nx * off, y1 = p.y + uy * NODE_R + ny * off;
        double x2 = q.x - ux * (NODE_R + 1) + nx * off, y2 = q.y - uy * (NODE_R + 1) + ny * off;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\""
                " marker-end=\"url(#lm-arrow-%u)\"/>", x1, y1, x2, y2, id);
        lx = (x1 + x2) / 2 + nx * (off + 9);
        ly = (y1 + y2) / 2 + ny * (off + 9) + 4;
    }
    fprintf(f, "<text class=\"lm-off\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", lx, ly);
    offsets(f, e, n);
    fputs("</text></g>\n", f);
}

int an_cycle_svg(FILE *f, const struct an_leaks *L, struct an_symtab *t, uint32_t scc,
                 uint32_t id)
{
    const struct an_graph *g = &L->g;
    uint32_t cnt = an_scc_size(g, scc);
    uint32_t n = cnt < AN_CYCLE_MAX_NODES ? cnt : AN_CYCLE_MAX_NODES;
    struct collect c = { .g = g, .shown = n };
    an_graph_scc_edges(g, scc, collect_edge, &c);
    struct pt *pos = malloc((n ? n : 1) * sizeof *pos);
    double *angle = malloc((n ? n : 1) * sizeof *angle);
    if (c.oom || !pos || !angle) {
        free(c.e);
        free(pos);
        free(angle);
        return -1;
    }
    qsort(c.e, c.n, sizeof *c.e, cmp_pedge);
    double r = n < 2 ? 0 : (2 * NODE_R + 34) * n / (2 * PI);
    if (n >= 2 && r < 70)
        r = 70;
    double w = 2 * (r + NODE_R + 12 + LABEL_W), h = 2 * (r + NODE_R + 48);
    double cx = w / 2, cy = h / 2;
    for (uint32_t i = 0; i < n; i++) {
        angle[i] = -PI / 2 + 2 * PI * i / (n ? n : 1);
        pos[i] = (struct pt){ cx + r * cos(angle[i]), cy + r * sin(angle[i]) };
    }
    size_t arrows = 0;
    for (size_t i = 0; i < c.n; i++)
        arrows += !i || c.e[i].from != c.e[i - 1].from || c.e[i].to != c.e[i - 1].to;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"lm-cycle\" width=\"%.0f\""
            " height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" data-members=\"%u\" data-shown=\"%u\""
            " data-arrows=\"%zu\">\n", w, h, w, h, cnt, n, arrows);
    fprintf(f, "<defs><marker id=\"lm-arrow-%u\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\""
            " markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
            "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"#444\"/></marker></defs>\n", id);
    for (size_t i = 0; i < c.n;) {
        size_t j = i;
        while (j < c.n && c.e[j].from == c.e[i].from && c.e[j].to == c.e[i].to)
            j++;
        bool both = c.e[i].from != c.e[i].to && has_pair(c.e, c.n, c.e[i].to, c.e[i].from);
        arrow(f, &c.e[i], j - i, pos, angle, both, id, n == 1);
        i = j;
    }
    const uint32_t *m = an_scc_members(g, scc);
    for (uint32_t i = 0; i < n; i++)
        node(f, L, t, i, m[i], pos[i], angle[i], n == 1);
    fputs("</svg>\n", f);
    free(c.e);
    free(pos);
    free(angle);
    return 0;
}
