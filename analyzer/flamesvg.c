/*
 * flamesvg.c - the SVG flame graph of a frame tree (see flamesvg.h).
 *
 * Two passes over the tree: the first decides which frames are drawn (a
 * frame narrower than AN_FLAME_MIN_WIDTH px is left out with everything
 * above it) and how deep the drawing goes; the second writes the nested
 * groups depth first with an explicit stack (stacks may be deep).
 */
#include "flamesvg.h"
#include "markup.h"

#include <stdlib.h>
#include <string.h>

#define WIDTH    1200
#define PAD      10
#define FRAME_H  16
#define TOP      50              /* title, subtitle */
#define BOTTOM   26              /* details line */
#define FONT_PX  12
#define CHAR_W   7.3             /* monospace at 12 px */

const char an_flame_script[] =
    "function lmFlameInit(svg) {\n"
    "  var ns = 'http://www.w3.org/2000/svg';\n"
    "  var pad = +svg.getAttribute('data-pad'), full = +svg.getAttribute('data-frame-width');\n"
    "  var cw = +svg.getAttribute('data-char-width');\n"
    "  var det = svg.querySelector('.lm-details'), reset = svg.querySelector('.lm-reset');\n"
    "  if (det) det.textContent += ', click to zoom';\n"
    "  var hint = det ? det.textContent : '';\n"
    "  var frames = Array.prototype.slice.call(svg.querySelectorAll('g.f'));\n"
    "  frames.forEach(function (g) {\n"
    "    g.lmRect = g.querySelector(':scope > rect');\n"
    "    g.lmText = g.querySelector(':scope > text');\n"
    "    g.lmTitle = g.querySelector(':scope > title').textContent;\n"
    "    g.lmName = g.lmTitle.split('\\n')[0];\n"
    "    g.lmX = +g.lmRect.getAttribute('x');\n"
    "    g.lmW = +g.lmRect.getAttribute('width');\n"
    "  });\n"
    "  function label(g, x, w) {\n"
    "    var n = Math.floor((w - 6) / cw), s = '';\n"
    "    if (n >= 3) s = g.lmName.length <= n ? g.lmName : g.lmName.slice(0, n - 2) + '..';\n"
    "    if (!g.lmText) {\n"
    "      if (!s) return;\n"
    "      g.lmText = document.createElementNS(ns, 'text');\n"
    "      g.lmText.setAttribute('y', (+g.lmRect.getAttribute('y') + 11.5).toFixed(1));\n"
    "      g.insertBefore(g.lmText, g.lmRect.nextSibling);\n"
    "    }\n"
    "    g.lmText.setAttribute('x', (x + 3).toFixed(2));\n"
    "    g.lmText.textContent = s;\n"
    "  }\n"
    "  function place(g, x, w) {\n"
    "    g.style.display = '';\n"
    "    g.lmRect.setAttribute('x', x.toFixed(2));\n"
    "    g.lmRect.setAttribute('width', w.toFixed(2));\n"
    "    label(g, x, w);\n"
    "  }\n"
    "  function zoom(z) {\n"
    "    frames.forEach(function (g) {\n"
    "      if (g.contains(z)) place(g, pad, full);\n"
    "      else if (z.contains(g)) place(g, pad + (g.lmX - z.lmX) * full / z.lmW, g.lmW * full / z.lmW);\n"
    "      else g.style.display = 'none';\n"
    "      g.classList.toggle('lm-under', g !== z && g.contains(z));\n"
    "    });\n"
    "    if (reset) reset.style.display = z === frames[0] ? 'none' : '';\n"
    "  }\n"
    "  svg.addEventListener('click', function (e) {\n"
    "    var g = e.target.closest('g.f');\n"
    "    if (g) zoom(g); else if (e.target.closest('.lm-reset') && frames.length) zoom(frames[0]);\n"
    "  });\n"
    "  svg.addEventListener('mouseover', function (e) {\n"
    "    var g = e.target.closest('g.f');\n"
    "    if (g && det) det.textContent = g.lmTitle.split('\\n').join('  |  ');\n"
    "  });\n"
    "  svg.addEventListener('mouseout', function () { if (det) det.textContent = hint; });\n"
    "  svg.classList.add('lm-interactive');\n"
    "  svg.setAttribute('data-lm-zoom', 'ready');\n"
    "  return frames.length;\n"
    "}\n";

static const char style[] =
    "<style>\n"
    ".lm-flame .f rect{stroke:#fff;stroke-width:0.5}\n"
    ".lm-flame .f rect:hover{stroke:#000;stroke-width:1}\n"
    ".lm-flame .f text{font:12px 'DejaVu Sans Mono',monospace;fill:#000;pointer-events:none}\n"
    ".lm-flame .lm-under > rect{opacity:0.6}\n"
    ".lm-flame .lm-head{font:17px sans-serif;fill:#000}\n"
    ".lm-flame .lm-sub,.lm-flame .lm-details,.lm-flame .lm-reset{font:12px sans-serif;fill:#555}\n"
    ".lm-flame.lm-interactive .f{cursor:pointer}\n"
    ".lm-flame.lm-interactive .lm-reset{cursor:pointer;fill:#06c}\n"
    "</style>\n";

struct walk {
    uint32_t node;
    uint32_t next_kid;
    double kid_x;               /* where the next drawn child starts */
};

static void frame_title(FILE *f, const struct an_ftree *t, const struct an_fnode *n)
{
    char amount[64], blocks[32], pct[32];
    an_esc(f, n->name);
    if (n->file) {
        fputc('\n', f);
        an_esc(f, n->file);
        if (n->line_min)
            fprintf(f, n->line_min == n->line_max ? ":%d" : ":%d-%d", n->line_min, n->line_max);
        if (n->other_files)
            fputs(" (and other files)", f);
    }
    an_fmt_count(amount, sizeof amount, n->bytes);
    an_fmt_count(blocks, sizeof blocks, n->blocks);
    uint64_t total = t->nodes[0].bytes;
    snprintf(pct, sizeof pct, "%.2f%%", total ? 100.0 * (double)n->bytes / (double)total : 0.0);
    fprintf(f, "\n%s byte%s in %s block%s, %s", amount, n->bytes == 1 ? "" : "s", blocks,
            n->blocks == 1 ? "" : "s", pct);
    if (n->bytes >= 1024) {
        an_fmt_bytes(amount, sizeof amount, n->bytes);
        fprintf(f, " (%s)", amount);
    }
    if (n->self_bytes && n->self_bytes != n->bytes) {
        an_fmt_count(amount, sizeof amount, n->self_bytes);
        fprintf(f, "\nallocated here directly: %s bytes", amount);
    }
}

static void open_frame(FILE *f, const struct an_ftree *t, uint32_t v, double x, double scale,
                       uint32_t max_depth, uint64_t omitted, int palette)
{
    const struct an_fnode *n = &t->nodes[v];
    double w = (double)n->bytes * scale;
    int y = TOP + (int)(max_depth - n->depth) * FRAME_H;
    char color[32];
    if (v == 0 || n->name[0] == '[')
        an_name_color(color, sizeof color, n->name, AN_PALETTE_GREY);
    else
        an_name_color(color, sizeof color, n->name, palette);
    fprintf(f, "<g class=\"f\" data-bytes=\"%llu\" data-blocks=\"%llu\" data-self=\"%llu\"",
            (unsigned long long)n->bytes, (unsigned long long)n->blocks,
            (unsigned long long)n->self_bytes);
    if (omitted)
        fprintf(f, " data-omit=\"%llu\"", (unsigned long long)omitted);
    fputs("><title>", f);
    frame_title(f, t, n);
    fprintf(f, "</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" rx=\"2\" fill=\"%s\"/>",
            x, y, w, FRAME_H - 1, color);
    size_t chars = w > 6 ? (size_t)((w - 6) / CHAR_W) : 0;
    if (chars >= 3) {
        fprintf(f, "<text x=\"%.2f\" y=\"%.1f\">", x + 3, y + 11.5);
        an_esc_clip(f, n->name, chars);
        fputs("</text>", f);
    }
    fputc('\n', f);
}

/* shown[v]: frame v is drawn.  Returns the depth of the deepest drawn
 * frame. */
static uint32_t choose(const struct an_ftree *t, double scale, uint8_t *shown)
{
    uint32_t deepest = 0;
    shown[0] = 1;
    for (size_t v = 1; v < t->n; v++) {                 /* parents come first */
        const struct an_fnode *n = &t->nodes[v];
        shown[v] = shown[n->parent] && (double)n->bytes * scale >= AN_FLAME_MIN_WIDTH;
        if (shown[v] && n->depth > deepest)
            deepest = n->depth;
    }
    return deepest;
}

static void frames(FILE *f, const struct an_ftree *t, const uint8_t *shown, double scale,
                   uint32_t max_depth, int palette)
{
    struct walk *st = malloc((max_depth + 1) * sizeof *st);
    if (!st) {
        fputs("<text x=\"10\" y=\"70\">out of memory</text>\n", f);
        return;
    }
    size_t sp = 0;
    st[sp++] = (struct walk){ 0, 0, PAD };
    open_frame(f, t, 0, PAD, scale, max_depth, 0, palette);
    while (sp) {
        struct walk *w = &st[sp - 1];
        uint32_t nk = an_ftree_nkids(t, w->node);
        const uint32_t *kids = an_ftree_kids(t, w->node);
        while (w->next_kid < nk && !shown[kids[w->next_kid]])
            w->next_kid++;
        if (w->next_kid == nk) {
            fputs("</g>\n", f);
            sp--;
            continue;
        }
        uint32_t v = kids[w->next_kid++];
        double x = w->kid_x;
        w->kid_x += (double)t->nodes[v].bytes * scale;
        uint64_t omitted = 0;
        for (uint32_t i = 0; i < an_ftree_nkids(t, v); i++)
            if (!shown[an_ftree_kids(t, v)[i]])
                omitted += t->nodes[an_ftree_kids(t, v)[i]].bytes;
        open_frame(f, t, v, x, scale, max_depth, omitted, palette);
        st[sp++] = (struct walk){ v, 0, x };
    }
    free(st);
}

void an_flame_svg(FILE *f, const struct an_ftree *t, const struct an_flame_opts *o)
{
    const double frame_w = WIDTH - 2 * PAD;
    uint64_t total = t->nodes[0].bytes;
    double scale = total ? frame_w / (double)total : 0;
    uint8_t *shown = calloc(t->n ? t->n : 1, 1);
    uint32_t depth = total && shown ? choose(t, scale, shown) : 0;
    int height = TOP + (int)(depth + 1) * FRAME_H + BOTTOM;
    if (!total)
        height = TOP + 40;
    if (o->standalone)
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n", f);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" id=\"%s\""
            " class=\"lm-flame\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
            " data-total-bytes=\"%llu\" data-pad=\"%d\" data-frame-width=\"%.2f\""
            " data-char-width=\"%.1f\">\n", o->id, WIDTH, height, WIDTH, height,
            (unsigned long long)total, PAD, frame_w, CHAR_W);
    fputs(style, f);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fafafa\"/>\n", WIDTH,
            height);
    fprintf(f, "<text class=\"lm-head\" x=\"%d\" y=\"22\" text-anchor=\"middle\">", WIDTH / 2);
    an_esc(f, o->title);
    fputs("</text>\n", f);
    if (o->subtitle) {
        fprintf(f, "<text class=\"lm-sub\" x=\"%d\" y=\"40\" text-anchor=\"middle\">",
                WIDTH / 2);
        an_esc(f, o->subtitle);
        fputs("</text>\n", f);
    }
    if (!total || !shown) {
        fprintf(f, "<text class=\"lm-sub\" x=\"%d\" y=\"%d\">", PAD, TOP + 20);
        an_esc(f, shown ? o->empty : "out of memory");
        fputs("</text>\n</svg>\n", f);
        free(shown);
        return;
    }
    fprintf(f, "<text class=\"lm-reset\" x=\"%d\" y=\"22\" style=\"display:none\">Reset zoom"
            "</text>\n", PAD);
    fprintf(f, "<text class=\"lm-details\" x=\"%d\" y=\"%d\">Hover over a frame for details"
            "</text>\n", PAD, height - 9);
    fputs("<g class=\"frames\">\n", f);
    frames(f, t, shown, scale, depth, o->palette);
    fputs("</g>\n", f);
    if (o->standalone) {
        fputs("<script type=\"text/ecmascript\"><![CDATA[\n", f);
        fputs(an_flame_script, f);
        fputs("lmFlameInit(document.documentElement);\n]]></script>\n", f);
    }
    fputs("</svg>\n", f);
    free(shown);
}
