/*
 * chart.c - the growth line chart (see chart.h).  Pure layout arithmetic;
 * no libm (nice steps are found by loops over powers of ten).
 */
#include "chart.h"
#include "markup.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define W      1000
#define H      340
#define LEFT   90
#define RIGHT  24
#define TOP    46
#define BOTTOM 62
#define PW     (W - LEFT - RIGHT)
#define PH     (H - TOP - BOTTOM)
#define MAX_LEGEND_PIDS 3

static const char *const live_color[] = { "#1f77b4", "#2ca02c", "#9467bd", "#17becf",
                                          "#8c564b", "#7f7f7f" };
static const char *const leak_color[] = { "#d62728", "#ff7f0e", "#e377c2", "#bcbd22",
                                          "#c49c94", "#393b79" };

/* A 1-2-2.5-5 step for about `parts` parts of v (v > 0). */
static double nice_step(double v, int parts, double min_step)
{
    double raw = v / parts, mag = 1;
    while (mag * 10 <= raw)
        mag *= 10;
    while (mag > raw && mag > 1e-9)
        mag /= 10;
    double norm = raw / mag;
    double s = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10;
    return s * mag < min_step ? min_step : s * mag;
}

struct yscale {
    double unit;                /* bytes per unit */
    const char *uname;
    double step, top;           /* in units */
};

static struct yscale y_scale(uint64_t max)
{
    static const char *const names[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    struct yscale s = { 1, names[0], 1, 1 };
    for (int u = 1; u < 7 && (double)max / s.unit >= 1024; u++) {
        s.unit *= 1024;
        s.uname = names[u];
    }
    double v = (double)max / s.unit;
    if (v <= 0)
        v = 1;
    s.step = nice_step(v, 5, s.unit == 1 ? 1 : 0);
    uint64_t k = (uint64_t)(v / s.step);
    if ((double)k * s.step < v)
        k++;
    s.top = (double)(k ? k : 1) * s.step;
    return s;
}

static double x_of(const struct an_growth_point *p, uint64_t t0, uint64_t span)
{
    if (!span)
        return LEFT + PW / 2.0;
    return LEFT + (double)(p->time_ns - t0) / (double)span * PW;
}

static double y_of(uint64_t bytes, const struct yscale *s)
{
    return TOP + PH - (double)bytes / s->unit / s->top * PH;
}

static void x_axis(FILE *f, uint64_t t0, uint64_t span)
{
    char when[64];
    an_fmt_time(when, sizeof when, t0);
    if (!span) {
        fprintf(f, "<line class=\"tick\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
                "<text class=\"lbl\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                LEFT + PW / 2.0, TOP + PH, LEFT + PW / 2.0, TOP + PH + 5, LEFT + PW / 2.0,
                TOP + PH + 20, when);
        fprintf(f, "<text class=\"lbl\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">dump time"
                "</text>\n", LEFT + PW / 2, H - 14);
        return;
    }
    static const double steps[] = { 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1,
                                     2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
                                     7200, 10800, 21600, 43200, 86400, 172800, 604800 };
    double secs = (double)span / 1e9, step = steps[0];
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        step = steps[i];
        if (secs / step <= 8)
            break;
    }
    double div = step < 60 ? 1 : step < 3600 ? 60 : step < 86400 ? 3600 : 86400;
    const char *unit = step < 60 ? "s" : step < 3600 ? "min" : step < 86400 ? "h" : "d";
    for (int k = 0; k * step <= secs * (1 + 1e-9) && k <= 1000; k++) {
        double x = LEFT + k * step / secs * PW;
        fprintf(f, "<line class=\"tick\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
                "<text class=\"lbl\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">+%g %s</text>\n",
                x, TOP + PH, x, TOP + PH + 5, x, TOP + PH + 20, k * step / div, unit);
    }
    fprintf(f, "<text class=\"lbl\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">time since the"
            " first dump (%s)</text>\n", LEFT + PW / 2, H - 14, when);
}

static void y_axis(FILE *f, const struct yscale *s)
{
    for (int k = 0; k * s->step <= s->top * (1 + 1e-9) && k <= 100; k++) {
        double y = TOP + PH - k * s->step / s->top * PH;
        fprintf(f, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
                "<text class=\"lbl\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g%s%s</text>\n",
                LEFT, y, LEFT + PW, y, LEFT - 8, y + 4, k * s->step, k ? " " : "",
                k ? s->uname : "");
    }
}

static void point_title(FILE *f, const struct an_growth_point *p)
{
    char when[64], a[32], b[32], c[32], d[32];
    an_fmt_time(when, sizeof when, p->time_ns);
    an_fmt_count(a, sizeof a, p->live_bytes);
    an_fmt_count(b, sizeof b, p->live_blocks);
    an_fmt_count(c, sizeof c, p->leaked_bytes);
    an_fmt_count(d, sizeof d, p->leaked_blocks);
    fprintf(f, "<title>pid %u, ", p->pid);
    an_esc(f, p->trigger);
    fprintf(f, " dump #%u, %s\nlive: %s bytes in %s blocks\nleaked: %s bytes in %s blocks"
            "</title>", p->seq, when, a, b, c, d);
}

static void series(FILE *f, const struct an_growth_point *p, size_t n, uint32_t pid, size_t k,
                   uint64_t t0, uint64_t span, const struct yscale *s)
{
    for (int leaked = 0; leaked < 2; leaked++) {
        const char *color = (leaked ? leak_color : live_color)[k % 6];
        fprintf(f, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s"
                " points=\"", leaked ? "lm-line-leaked" : "lm-line-live", color,
                leaked ? " stroke-dasharray=\"6 4\"" : "");
        for (size_t i = 0; i < n; i++)
            if (p[i].pid == pid)
                fprintf(f, "%.1f,%.1f ", x_of(&p[i], t0, span),
                        y_of(leaked ? p[i].leaked_bytes : p[i].live_bytes, s));
        fputs("\"/>\n", f);
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i].pid != pid)
            continue;
        double x = x_of(&p[i], t0, span);
        fprintf(f, "<circle class=\"lm-pt-live\" data-bytes=\"%llu\" cx=\"%.1f\" cy=\"%.1f\""
                " r=\"4.5\" fill=\"%s\">", (unsigned long long)p[i].live_bytes, x,
                y_of(p[i].live_bytes, s), live_color[k % 6]);
        point_title(f, &p[i]);
        fprintf(f, "</circle>\n<rect class=\"lm-pt-leaked\" data-bytes=\"%llu\" x=\"%.1f\""
                " y=\"%.1f\" width=\"8\" height=\"8\" fill=\"%s\">",
                (unsigned long long)p[i].leaked_bytes, x - 4, y_of(p[i].leaked_bytes, s) - 4,
                leak_color[k % 6]);
        point_title(f, &p[i]);
        fputs("</rect>\n", f);
    }
}

void an_growth_svg(FILE *f, const struct an_growth_point *p, size_t n)
{
    uint64_t t0 = p[0].time_ns, span = p[n - 1].time_ns - p[0].time_ns, max = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i].live_bytes > max)
            max = p[i].live_bytes;
    struct yscale s = y_scale(max);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"lm-growth\" width=\"%d\""
            " height=\"%d\" viewBox=\"0 0 %d %d\" data-points=\"%zu\">\n", W, H, W, H, n);
    fputs("<style>.lm-growth .lbl{font:12px sans-serif;fill:#333}"
          ".lm-growth .grid{stroke:#ddd}.lm-growth .tick{stroke:#333}"
          ".lm-growth .axis{stroke:#333;stroke-width:1.5}</style>\n", f);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", W, H);
    y_axis(f, &s);
    fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", LEFT, TOP,
            LEFT, TOP + PH);
    fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", LEFT,
            TOP + PH, LEFT + PW, TOP + PH);
    x_axis(f, t0, span);
    /* processes in order of their first dump */
    uint32_t *pids = malloc(n * sizeof *pids);
    size_t npids = 0;
    for (size_t i = 0; pids && i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < npids && !seen; j++)
            seen = pids[j] == p[i].pid;
        if (!seen)
            pids[npids++] = p[i].pid;
    }
    double lx = LEFT;
    for (size_t k = 0; k < npids; k++) {
        series(f, p, n, pids[k], k, t0, span, &s);
        if (k >= MAX_LEGEND_PIDS)
            continue;
        for (int leaked = 0; leaked < 2; leaked++) {
            fprintf(f, "<line x1=\"%.1f\" y1=\"18\" x2=\"%.1f\" y2=\"18\" stroke=\"%s\""
                    " stroke-width=\"2\"%s/><text class=\"lbl\" x=\"%.1f\" y=\"22\">%s",
                    lx, lx + 24, (leaked ? leak_color : live_color)[k % 6],
                    leaked ? " stroke-dasharray=\"6 4\"" : "", lx + 30,
                    leaked ? "leaked" : "live");
            if (npids > 1)
                fprintf(f, " (pid %u)", pids[k]);
            fputs("</text>\n", f);
            lx += npids > 1 ? 150 : 100;
        }
    }
    if (npids > MAX_LEGEND_PIDS)
        fprintf(f, "<text class=\"lbl\" x=\"%.1f\" y=\"22\">and %zu more processes</text>\n",
                lx, npids - MAX_LEGEND_PIDS);
    fputs("</svg>\n", f);
    free(pids);
}
