/*
 * jsonout.c - JSON writer for the analyzer (see jsonout.h).  Deeper
 * nesting than AN_JW_MAX_DEPTH is ignored (the analyzer never nests that
 * deep).
 */
#include "jsonout.h"

void an_jw_init(struct an_jw *j, FILE *f, int pretty_depth)
{
    *j = (struct an_jw){ .f = f, .pretty_depth = pretty_depth };
}

static void newline_indent(struct an_jw *j, int depth)
{
    fprintf(j->f, "\n%*s", 2 * (depth > 16 ? 16 : depth), "");
}

static void item_sep(struct an_jw *j)
{
    if (j->depth == 0)
        return;
    bool had = j->has_items[j->depth - 1];
    j->has_items[j->depth - 1] = true;
    if (had)
        fputc(',', j->f);
    if (j->depth <= j->pretty_depth)
        newline_indent(j, j->depth);
    else if (had)
        fputc(' ', j->f);
}

static void before_value(struct an_jw *j)
{
    if (j->after_key)
        j->after_key = false;
    else
        item_sep(j);
}

static void open_container(struct an_jw *j, char c)
{
    before_value(j);
    if (j->depth >= AN_JW_MAX_DEPTH)
        return;
    fputc(c, j->f);
    j->has_items[j->depth++] = false;
}

static void close_container(struct an_jw *j, char c)
{
    if (j->depth <= 0)
        return;
    j->depth--;
    if (j->has_items[j->depth] && j->depth + 1 <= j->pretty_depth)
        newline_indent(j, j->depth);
    fputc(c, j->f);
    j->after_key = false;
}

void an_jw_obj_begin(struct an_jw *j) { open_container(j, '{'); }
void an_jw_obj_end(struct an_jw *j) { close_container(j, '}'); }
void an_jw_arr_begin(struct an_jw *j) { open_container(j, '['); }
void an_jw_arr_end(struct an_jw *j) { close_container(j, ']'); }

static void put_escaped(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\t': fputs("\\t", f); break;
        case '\r': fputs("\\r", f); break;
        default:
            if (c < 0x20)
                fprintf(f, "\\u%04x", c);
            else
                fputc(c, f);
        }
    }
    fputc('"', f);
}

void an_jw_key(struct an_jw *j, const char *key)
{
    item_sep(j);
    put_escaped(j->f, key);
    fputs(": ", j->f);
    j->after_key = true;
}

void an_jw_str(struct an_jw *j, const char *s)
{
    before_value(j);
    put_escaped(j->f, s ? s : "");
}

void an_jw_u64(struct an_jw *j, uint64_t v)
{
    before_value(j);
    fprintf(j->f, "%llu", (unsigned long long)v);
}

void an_jw_bool(struct an_jw *j, bool v)
{
    before_value(j);
    fputs(v ? "true" : "false", j->f);
}

void an_jw_hex(struct an_jw *j, uint64_t v)
{
    before_value(j);
    fprintf(j->f, "\"0x%llx\"", (unsigned long long)v);
}

void an_fmt_fixed(char *buf, size_t cap, double v, int decimals)
{
    if (decimals < 0)
        decimals = 0;
    if (decimals > 9)
        decimals = 9;
    uint64_t scale = 1;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    double x = v * (double)scale + 0.5;
    uint64_t u;
    if (!(x >= 0.5))
        u = 0;
    else if (x >= 1.8e19)
        u = UINT64_MAX / scale * scale;
    else
        u = (uint64_t)x;
    if (decimals == 0)
        snprintf(buf, cap, "%llu", (unsigned long long)u);
    else
        snprintf(buf, cap, "%llu.%0*llu", (unsigned long long)(u / scale), decimals,
                 (unsigned long long)(u % scale));
}

void an_jw_fixed(struct an_jw *j, double v, int decimals)
{
    char tmp[48];
    before_value(j);
    an_fmt_fixed(tmp, sizeof tmp, v, decimals);
    fputs(tmp, j->f);
}
