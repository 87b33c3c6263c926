/*
 * html.c - `html DUMP... [-o FILE]`: one self-contained HTML page (inline
 * CSS, SVG and script; nothing fetched) about a series of dumps, sorted by
 * dump time (then pid, sequence number, argument order), which may come
 * from different processes:
 *   - a summary table, one row per dump: process, trigger, time, live,
 *     leaked (definite + indirect), possible and reachable blocks and
 *     bytes, cycles, pause;
 *   - the growth chart of live and leaked bytes over the series (chart.h);
 *   - for the latest dump: the live and the leaked flame graphs
 *     (flamesvg.h), the top allocation sites (as `top`), and its leaked
 *     cycles drawn as graphs (cyclesvg.h), at most MAX_CYCLES of them.
 * Everything that comes from a dump or a binary is escaped (markup.h).
 * The page is complete without script; the script adds zoom to the flame
 * graphs and then sets data-lm-ready="N" (N frames) on <html>.
 *
 * Dumps are read one at a time (a row of numbers is kept per dump), then
 * the latest is read again for its pictures, so memory stays that of one
 * dump.  Any unreadable dump: the one-line error, exit status 2, no page.
 */
#include "chart.h"
#include "commands.h"
#include "cyclesvg.h"
#include "flamesvg.h"
#include "jsonout.h"
#include "leaks.h"
#include "markup.h"
#include "stackfmt.h"

#include <stdlib.h>
#include <string.h>

#define MAX_CYCLES 20
#define TOP_SITES  10
#define SITE_FRAMES 3

struct row {
    const char *path;
    int argi;
    uint32_t pid, seq, trigger;
    uint64_t time_ns, pause_ns;
    char *exe;                  /* NULL when the dump has no PROCESS record */
    char *cmdline;              /* arguments joined with spaces */
    uint64_t s[AN_S_COUNT];
};

static int cmp_row(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    if (x->time_ns != y->time_ns) return x->time_ns < y->time_ns ? -1 : 1;
    if (x->pid != y->pid) return x->pid < y->pid ? -1 : 1;
    if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
    return x->argi - y->argi;
}

static char *join_args(const struct an_dump *d)
{
    char *s = malloc(d->cmdline_len + 1);
    if (!s)
        return NULL;
    size_t n = d->cmdline_len;
    for (size_t i = 0; i < n; i++)
        s[i] = d->cmdline[i] ? d->cmdline[i] : ' ';
    while (n && s[n - 1] == ' ')
        n--;
    s[n] = 0;
    return s;
}

/* Loads dump r->path and fills the row; 0, or 2 after the error line. */
static int read_row(struct row *r)
{
    struct an_dump d;
    an_dump_init(&d, r->path);
    int rc = an_load_or_complain(&d);
    if (rc)
        return rc;
    struct an_leaks L;
    if (an_leaks_build(&d, &L) == 0 && (!d.exe || (r->exe = strdup(d.exe))) &&
        (r->cmdline = join_args(&d))) {
        r->pid = d.pid;
        r->seq = d.seq;
        r->trigger = d.trigger;
        r->time_ns = d.time_ns;
        r->pause_ns = d.pause_ns;
        memcpy(r->s, L.summary, sizeof r->s);
    } else {
        fprintf(stderr, "leakmark-analyze: %s: out of memory\n", r->path);
        rc = 2;
    }
    an_leaks_free(&L);
    an_dump_free(&d);
    return rc;
}

static const char style[] =
    "<style>\n"
    "body{font:14px/1.45 'DejaVu Sans',sans-serif;color:#222;margin:0;background:#eceff1}\n"
    "main{max-width:1240px;margin:0 auto;padding:12px 24px 40px;background:#fff}\n"
    "h1{font-size:22px;margin:10px 0 2px}\n"
    "h2{font-size:18px;margin:30px 0 8px;padding-bottom:3px;border-bottom:1px solid #ddd}\n"
    "h3{font-size:15px;margin:18px 0 4px}\n"
    "table{border-collapse:collapse;font-size:13px}\n"
    "th,td{border:1px solid #d8d8d8;padding:4px 8px;vertical-align:top}\n"
    "th{background:#f2f2f2;text-align:left}\n"
    "td.n{text-align:right;white-space:nowrap}\n"
    "td .b{color:#777;font-size:12px}\n"
    ".leak{color:#b3261e;font-weight:bold}\n"
    ".muted{color:#666}\n"
    "svg{max-width:100%;height:auto;display:block;margin:6px 0}\n"
    "pre{font-size:12px;margin:4px 0;white-space:pre-wrap}\n"
    "summary{cursor:pointer;color:#06c}\n"
    ".lm-cycles{display:flex;flex-wrap:wrap;gap:4px 28px}\n"
    "figure{margin:8px 0}\n"
    "figcaption{font-size:13px;font-weight:bold}\n"
    ".lm-cycle .lm-label{font:12px sans-serif;fill:#222}\n"
    ".lm-cycle .lm-letter{font:bold 13px sans-serif}\n"
    ".lm-cycle .lm-off{font:11px monospace;fill:#555}\n"
    "</style>\n";

static void cell_amount(FILE *f, uint64_t bytes, uint64_t blocks, bool leak)
{
    char h[32], b[32], k[32];
    an_fmt_bytes(h, sizeof h, bytes);
    an_fmt_count(b, sizeof b, bytes);
    an_fmt_count(k, sizeof k, blocks);
    fprintf(f, "<td class=\"n\" title=\"%s bytes\"><span%s>%s</span><div class=\"b\">%s block%s"
            "</div></td>", b, leak && bytes ? " class=\"leak\"" : "", h, k, an_plural(blocks));
}

static void summary_table(FILE *f, const struct row *r, size_t n)
{
    fputs("<h2>Summary</h2>\n<table id=\"lm-summary\">\n<tr><th>#</th><th>process</th>"
          "<th>trigger</th><th>time</th><th>live</th><th>leaked</th><th>possible</th>"
          "<th>reachable</th><th>cycles</th><th>pause</th></tr>\n", f);
    for (size_t i = 0; i < n; i++) {
        char when[64], pause[32];
        an_fmt_time(when, sizeof when, r[i].time_ns);
        an_fmt_fixed(pause, sizeof pause, (double)r[i].pause_ns / 1e6, 3);
        fprintf(f, "<tr><td class=\"n\">%zu</td><td title=\"", i);
        an_esc(f, r[i].cmdline);
        fputs("\">", f);
        an_esc(f, r[i].exe ? an_basename(r[i].exe) : "?");
        fprintf(f, " <span class=\"muted\">pid %u</span><div class=\"b\">", r[i].pid);
        an_esc(f, r[i].path);
        fprintf(f, "</div></td><td>%s #%u</td><td>%s</td>", an_trigger_name(r[i].trigger),
                r[i].seq, when);
        const uint64_t *s = r[i].s;
        cell_amount(f, s[AN_S_LIVE_BYTES], s[AN_S_LIVE_BLOCKS], false);
        cell_amount(f, s[AN_S_DEF_BYTES] + s[AN_S_IND_BYTES],
                    s[AN_S_DEF_BLOCKS] + s[AN_S_IND_BLOCKS], true);
        cell_amount(f, s[AN_S_POS_BYTES], s[AN_S_POS_BLOCKS], false);
        cell_amount(f, s[AN_S_REACH_BYTES], s[AN_S_REACH_BLOCKS], false);
        fprintf(f, "<td class=\"n\">%llu</td><td class=\"n\">%s ms</td></tr>\n",
                (unsigned long long)s[AN_S_CYCLES], pause);
    }
    fputs("</table>\n", f);
}

static int growth(FILE *f, const struct row *r, size_t n)
{
    struct an_growth_point *p = calloc(n, sizeof *p);
    if (!p)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const uint64_t *s = r[i].s;
        p[i] = (struct an_growth_point){ r[i].time_ns, r[i].pid, r[i].seq,
            an_trigger_name(r[i].trigger), s[AN_S_LIVE_BYTES], s[AN_S_LIVE_BLOCKS],
            s[AN_S_DEF_BYTES] + s[AN_S_IND_BYTES], s[AN_S_DEF_BLOCKS] + s[AN_S_IND_BLOCKS] };
    }
    fprintf(f, "<h2>Growth</h2>\n<p class=\"muted\">Live and leaked bytes of the %zu dump%s"
            " above, by dump time.</p>\n", n, an_plural(n));
    an_growth_svg(f, p, n);
    free(p);
    return 0;
}

static int flames(FILE *f, const struct an_dump *d, struct an_symtab *t)
{
    static const struct { enum an_ftree_filter filter; const char *title, *id, *empty; int pal; }
    kinds[] = {
        { AN_FTREE_LIVE, "Live bytes by allocation stack", "lm-flame-live",
          "No live blocks in this dump.", AN_PALETTE_HOT },
        { AN_FTREE_LEAKED, "Leaked bytes by allocation stack", "lm-flame-leaked",
          "No leaked blocks in this dump.", AN_PALETTE_LEAK },
    };
    fputs("<h2>Flame graphs of the latest dump</h2>\n<p class=\"muted\">Each frame is as wide as"
          " the bytes allocated below it; the root is at the bottom. Hover for the function,"
          " source line and bytes; click to zoom.</p>\n", f);
    for (size_t k = 0; k < 2; k++) {
        struct an_ftree tree;
        if (an_ftree_build(&tree, d, t, kinds[k].filter)) {
            an_ftree_free(&tree);
            return -1;
        }
        char bytes[32], blocks[32], sub[128];
        an_fmt_count(bytes, sizeof bytes, tree.nodes[0].bytes);
        an_fmt_count(blocks, sizeof blocks, tree.nodes[0].blocks);
        snprintf(sub, sizeof sub, "%s bytes in %s block%s", bytes, blocks,
                 an_plural(tree.nodes[0].blocks));
        struct an_flame_opts o = { kinds[k].title, sub, kinds[k].id, kinds[k].empty,
                                   kinds[k].pal, false };
        an_flame_svg(f, &tree, &o);
        an_ftree_free(&tree);
    }
    return 0;
}

struct site {
    uint32_t stack_id, stack;
    uint64_t blocks, bytes, cls_bytes[5];
};

static int cmp_site_id(const void *a, const void *b)
{
    uint32_t x = ((const struct site *)a)->stack_id, y = ((const struct site *)b)->stack_id;
    return x < y ? -1 : x > y;
}

static int cmp_site_bytes(const void *a, const void *b)
{
    const struct site *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
    if (x->blocks != y->blocks) return x->blocks > y->blocks ? -1 : 1;
    return cmp_site_id(a, b);
}

/* The innermost SITE_FRAMES frames, "f file:line <- g file:line ...": the
 * first alone is often an allocation wrapper. */
static void site_chain(FILE *f, struct an_symtab *t, const struct an_dump *d, uint32_t stack)
{
    const struct an_stack *st = stack == AN_NONE ? NULL : &d->stacks[stack];
    if (!st || !st->nframes) {
        fputs("&lt;no stack&gt;", f);
        return;
    }
    for (uint32_t i = 0; i < st->nframes && i < SITE_FRAMES; i++) {
        struct an_sym s;
        an_sym_lookup(t, st->pcs[i], &s);
        if (i)
            fputs(" <span class=\"muted\">&#8592;</span> ", f);
        if (s.function) {
            an_esc(f, s.function);
        } else {
            an_esc(f, an_basename(s.module));
            fprintf(f, "+0x%llx", (unsigned long long)(st->pcs[i] - s.bias));
        }
        if (s.file) {
            fputs(" <span class=\"muted\">", f);
            an_esc(f, an_basename(s.file));
            fprintf(f, ":%d</span>", s.line);
        }
    }
}

static void stack_cell(FILE *f, struct an_symtab *t, const struct an_dump *d, uint32_t stack)
{
    char *s = NULL;
    size_t len = 0;
    FILE *m;
    site_chain(f, t, d, stack);
    if ((m = open_memstream(&s, &len))) {
        an_print_stack(m, t, d, stack);
        fclose(m);
        fputs("<details><summary>stack</summary><pre>", f);
        an_esc(f, s);
        fputs("</pre></details>", f);
    }
    free(s);
}

static int top_sites(FILE *f, const struct an_dump *d, struct an_symtab *t)
{
    struct site *s = calloc(d->nblocks ? d->nblocks : 1, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < d->nblocks; i++)
        s[i] = (struct site){ .stack_id = d->blocks[i].stack_id, .stack = d->blocks[i].stack,
                              .blocks = 1, .bytes = d->blocks[i].size };
    for (size_t i = 0; i < d->nblocks; i++)
        s[i].cls_bytes[d->blocks[i].cls] = d->blocks[i].size;
    qsort(s, d->nblocks, sizeof *s, cmp_site_id);
    size_t n = 0;
    for (size_t i = 0; i < d->nblocks; i++) {
        if (n && s[n - 1].stack_id == s[i].stack_id) {
            s[n - 1].blocks++;
            s[n - 1].bytes += s[i].bytes;
            for (int c = 0; c < 5; c++)
                s[n - 1].cls_bytes[c] += s[i].cls_bytes[c];
        } else {
            s[n++] = s[i];
        }
    }
    qsort(s, n, sizeof *s, cmp_site_bytes);
    fprintf(f, "<h2>Top allocation sites of the latest dump</h2>\n<p class=\"muted\">%zu"
            " allocation site%s; the %zu largest by live bytes.</p>\n<table id=\"lm-top\">\n"
            "<tr><th>#</th><th>live</th><th>by class (bytes)</th><th>allocated at</th></tr>\n",
            n, an_plural(n), n < TOP_SITES ? n : TOP_SITES);
    for (size_t i = 0; i < n && i < TOP_SITES; i++) {
        fprintf(f, "<tr><td class=\"n\">%zu</td>", i);
        cell_amount(f, s[i].bytes, s[i].blocks, false);
        fputs("<td>", f);
        const char *sep = "";
        for (unsigned c = 0; c < 5; c++) {
            if (!s[i].cls_bytes[c])
                continue;
            char b[32];
            an_fmt_count(b, sizeof b, s[i].cls_bytes[c]);
            fprintf(f, "%s<span%s>%s %s</span>", sep,
                    an_class_leaked(c) ? " class=\"leak\"" : "", an_class_name(c), b);
            sep = ", ";
        }
        fputs("</td><td>", f);
        stack_cell(f, t, d, s[i].stack);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    free(s);
    return 0;
}

static int cycles(FILE *f, const struct an_dump *d, struct an_symtab *t)
{
    struct an_leaks L;
    if (an_leaks_build(d, &L)) {
        an_leaks_free(&L);
        return -1;
    }
    fprintf(f, "<h2>Leaked cycles of the latest dump</h2>\n<p class=\"muted\">%u leaked"
            " cycle%s. Members are lettered in address order as in the text report; an arrow"
            " A&#8594;B labelled +N is a pointer at byte N of A to B; a leak root is a cycle"
            " that nothing outside it points into.</p>\n", L.g.cycles, an_plural(L.g.cycles));
    uint32_t id = 0;
    int rc = 0;
    for (uint32_t c = 0; c < L.g.nscc && !rc; c++) {
        if (!(L.g.scc_flags[c] & AN_SCC_CYCLE))
            continue;
        if (id == MAX_CYCLES) {
            fprintf(f, "<p class=\"muted\">%u more cycle%s: see <code>leakmark-analyze cycles"
                    "</code>.</p>\n", L.g.cycles - id, an_plural(L.g.cycles - id));
            break;
        }
        uint32_t cnt = an_scc_size(&L.g, c);
        uint64_t bytes = 0;
        for (uint32_t i = 0; i < cnt; i++)
            bytes += d->blocks[L.g.node_block[an_scc_members(&L.g, c)[i]]].size;
        char b[32];
        an_fmt_count(b, sizeof b, bytes);
        if (!id)
            fputs("<div class=\"lm-cycles\">\n", f);
        fprintf(f, "<figure><figcaption>Cycle #%u: %u block%s, %s bytes, %s%s</figcaption>\n",
                id, cnt, an_plural(cnt), b, L.g.scc_flags[c] & AN_SCC_ROOT
                ? "a leak root" : "held by other leaked blocks",
                cnt > AN_CYCLE_MAX_NODES ? " (the first members shown)" : "");
        rc = an_cycle_svg(f, &L, t, c, id++);
        fputs("</figure>\n", f);
    }
    if (id)
        fputs("</div>\n", f);
    an_leaks_free(&L);
    return rc;
}

static void page_head(FILE *f, const struct row *r, size_t n)
{
    const struct row *last = &r[n - 1];
    size_t procs = 0;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = r[j].pid == r[i].pid;
        procs += !seen;
    }
    char t0[64], t1[64];
    an_fmt_time(t0, sizeof t0, r[0].time_ns);
    an_fmt_time(t1, sizeof t1, last->time_ns);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"generator\" content=\"leakmark-analyze " LM_VERSION "\">\n<title>leakmark: ",
          f);
    an_esc(f, last->exe ? an_basename(last->exe) : "?");
    fprintf(f, " (pid %u)</title>\n", last->pid);
    fputs(style, f);
    fputs("</head>\n<body>\n<main>\n<h1>leakmark heap report: ", f);
    an_esc(f, last->exe ? last->exe : "?");
    fprintf(f, "</h1>\n<p class=\"muted\">%zu dump%s of %zu process%s, %s", n, an_plural(n),
            procs, procs == 1 ? "" : "es", t0);
    if (n > 1)
        fprintf(f, " to %s", t1);
    fputs(". Pictures of the latest dump: ", f);
    an_esc(f, last->path);
    fputs(".</p>\n<p class=\"muted\" id=\"lm-js-status\">Static page: tooltips work without"
          " script; zooming the flame graphs needs it.</p>\n", f);
}

static void page_tail(FILE *f)
{
    fputs("</main>\n<script>\n", f);
    fputs(an_flame_script, f);
    fputs("(function () {\n"
          "  var n = 0;\n"
          "  document.querySelectorAll('svg.lm-flame').forEach(function (s) {"
          " n += lmFlameInit(s); });\n"
          "  var el = document.getElementById('lm-js-status');\n"
          "  if (el) el.textContent = 'Interactive: click a frame of a flame graph to zoom ('"
          " + n + ' frames).';\n"
          "  document.documentElement.setAttribute('data-lm-ready', String(n));\n"
          "})();\n</script>\n</body>\n</html>\n", f);
}

/* The sections about the latest dump. */
static int latest(FILE *f, const char *path)
{
    struct an_dump d;
    an_dump_init(&d, path);
    int rc = an_load_or_complain(&d);
    if (rc)
        return rc;
    struct an_symtab *t = an_sym_open(&d, stderr);
    if (!t || flames(f, &d, t) || top_sites(f, &d, t) || cycles(f, &d, t)) {
        fprintf(stderr, "leakmark-analyze: %s: out of memory\n", path);
        rc = 2;
    }
    an_sym_close(t);
    an_dump_free(&d);
    return rc;
}

int an_cmd_html(int argc, char **argv)
{
    const char *out_path = NULL;
    struct row *r = calloc(argc > 0 ? (size_t)argc : 1, sizeof *r);
    size_t n = 0;
    int rc = 0;
    if (!r) {
        fputs("leakmark-analyze: out of memory\n", stderr);
        return 2;
    }
    for (int i = 0; i < argc && !rc; i++) {
        if (!strcmp(argv[i], "-o")) {
            if (i + 1 >= argc || !argv[i + 1][0])
                rc = an_usage_error("html: -o needs a file name");
            else
                out_path = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            rc = an_usage_error("html: unknown option");
        } else {
            r[n].path = argv[i];
            r[n].argi = i;
            n++;
        }
    }
    if (!rc && !n)
        rc = an_usage_error("html: no dump given");
    for (size_t i = 0; i < n && !rc; i++)
        rc = read_row(&r[i]);
    if (!rc) {
        qsort(r, n, sizeof *r, cmp_row);
        /* the page goes to memory first: a dump that fails on the second
         * read must not leave half a page behind */
        char *page = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&page, &len);
        if (!m) {
            fputs("leakmark-analyze: out of memory\n", stderr);
            rc = 2;
        } else {
            page_head(m, r, n);
            summary_table(m, r, n);
            if (growth(m, r, n)) {
                fputs("leakmark-analyze: out of memory\n", stderr);
                rc = 2;
            }
            if (!rc)
                rc = latest(m, r[n - 1].path);
            page_tail(m);
            if (fclose(m) != 0 && !rc) {
                fputs("leakmark-analyze: out of memory\n", stderr);
                rc = 2;
            }
        }
        FILE *out = rc ? NULL : an_output_open(out_path);
        if (!rc && !out)
            rc = 1;
        if (out) {
            fwrite(page, 1, len, out);
            rc = an_output_close(out, out_path, true);
        }
        free(page);
    }
    for (size_t i = 0; i < n; i++) {
        free(r[i].exe);
        free(r[i].cmdline);
    }
    free(r);
    return rc;
}
