/*
 * jsonw.c - buffered fd writer and streaming JSON writer (see jsonw.h).
 *
 * Owns no global state.  Invariants: w->len <= w->cap; once w->err is set
 * nothing more is written; lm_jw keeps depth in [0, LM_JW_MAX_DEPTH].
 */
#include "jsonw.h"
#include "log.h"

#include <errno.h>
#include <stdarg.h>

/* ---- lm_bufw ---- */

void lm_bufw_init(struct lm_bufw *w, int fd, char *buf, size_t cap)
{
    w->fd = fd;
    w->err = 0;
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->total = 0;
}

int lm_bufw_flush(struct lm_bufw *w)
{
    if (w->len && !w->err && w->fd >= 0)
        w->err = lm_write_all(w->fd, w->buf, w->len);
    w->len = 0;
    return w->err;
}

void lm_bufw_write(struct lm_bufw *w, const void *p, size_t n)
{
    const char *s = p;
    w->total += n;
    if (w->err || w->fd < 0)
        return;
    while (n) {
        if (w->len == w->cap) {
            if (lm_bufw_flush(w))
                return;
            if (w->cap == 0) {               /* no buffer: write through */
                w->err = lm_write_all(w->fd, s, n);
                return;
            }
        }
        size_t room = w->cap - w->len, k = n < room ? n : room;
        for (size_t i = 0; i < k; i++)
            w->buf[w->len + i] = s[i];
        w->len += k;
        s += k;
        n -= k;
    }
}

void lm_bufw_puts(struct lm_bufw *w, const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    lm_bufw_write(w, s, n);
}

void lm_bufw_printf(struct lm_bufw *w, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    size_t n = lm_vformat(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    lm_bufw_write(w, tmp, n);
}

/* ---- lm_jw ---- */

void lm_jw_init(struct lm_jw *j, struct lm_bufw *w, int pretty_depth)
{
    j->w = w;
    j->depth = 0;
    j->pretty_depth = pretty_depth;
    j->after_key = false;
    for (int i = 0; i < LM_JW_MAX_DEPTH; i++)
        j->has_items[i] = false;
}

static void newline_indent(struct lm_jw *j, int depth)
{
    static const char spaces[] = "                                ";
    lm_bufw_write(j->w, "\n", 1);
    int n = 2 * depth;
    if (n > (int)sizeof spaces - 1)
        n = (int)sizeof spaces - 1;
    lm_bufw_write(j->w, spaces, (size_t)n);
}

/* Separator before a key, or before a value that is not after a key. */
static void item_sep(struct lm_jw *j)
{
    if (j->depth == 0)
        return;
    bool had = j->has_items[j->depth - 1];
    j->has_items[j->depth - 1] = true;
    if (had)
        lm_bufw_write(j->w, ",", 1);
    if (j->depth <= j->pretty_depth)
        newline_indent(j, j->depth);
    else if (had)
        lm_bufw_write(j->w, " ", 1);            /* compact: ", " */
}

static void before_value(struct lm_jw *j)
{
    if (j->after_key)
        j->after_key = false;
    else
        item_sep(j);
}

static void open_container(struct lm_jw *j, char c)
{
    before_value(j);
    if (j->depth >= LM_JW_MAX_DEPTH) {
        if (!j->w->err)
            j->w->err = EOVERFLOW;
        return;
    }
    lm_bufw_write(j->w, &c, 1);
    j->has_items[j->depth] = false;
    j->depth++;
}

static void close_container(struct lm_jw *j, char c)
{
    if (j->depth <= 0)
        return;
    j->depth--;
    if (j->has_items[j->depth] && j->depth + 1 <= j->pretty_depth)
        newline_indent(j, j->depth);
    lm_bufw_write(j->w, &c, 1);
    j->after_key = false;
}

void lm_jw_obj_begin(struct lm_jw *j) { open_container(j, '{'); }
void lm_jw_obj_end(struct lm_jw *j) { close_container(j, '}'); }
void lm_jw_arr_begin(struct lm_jw *j) { open_container(j, '['); }
void lm_jw_arr_end(struct lm_jw *j) { close_container(j, ']'); }

static void put_escaped(struct lm_bufw *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    lm_bufw_write(w, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        lm_bufw_write(w, run, (size_t)(s - run));
        char esc[6] = { '\\', 0, 0, 0, 0, 0 };
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\t': esc[1] = 't'; break;
        case '\r': esc[1] = 'r'; break;
        default:
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            n = 6;
        }
        lm_bufw_write(w, esc, n);
        run = s + 1;
    }
    lm_bufw_write(w, run, (size_t)(s - run));
    lm_bufw_write(w, "\"", 1);
}

void lm_jw_key(struct lm_jw *j, const char *key)
{
    item_sep(j);
    put_escaped(j->w, key);
    lm_bufw_write(j->w, ": ", 2);
    j->after_key = true;
}

void lm_jw_str(struct lm_jw *j, const char *s)
{
    before_value(j);
    put_escaped(j->w, s ? s : "");
}

void lm_jw_u64(struct lm_jw *j, uint64_t v)
{
    before_value(j);
    lm_bufw_printf(j->w, "%llu", (unsigned long long)v);
}

void lm_jw_i64(struct lm_jw *j, int64_t v)
{
    before_value(j);
    lm_bufw_printf(j->w, "%lld", (long long)v);
}

void lm_jw_bool(struct lm_jw *j, bool v)
{
    before_value(j);
    lm_bufw_puts(j->w, v ? "true" : "false");
}

void lm_jw_null(struct lm_jw *j)
{
    before_value(j);
    lm_bufw_puts(j->w, "null");
}

void lm_jw_hex(struct lm_jw *j, uint64_t v)
{
    before_value(j);
    lm_bufw_printf(j->w, "\"0x%llx\"", (unsigned long long)v);
}

size_t lm_fmt_fixed(char *buf, size_t cap, double v, int decimals)
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
    if (!(x >= 0.5))                    /* NaN, negative */
        u = 0;
    else if (x >= 1.8e19)
        u = UINT64_MAX / scale * scale;
    else
        u = (uint64_t)x;
    if (decimals == 0)
        return lm_format(buf, cap, "%llu", (unsigned long long)u);
    return lm_format(buf, cap, "%llu.%0*llu", (unsigned long long)(u / scale),
                     decimals, (unsigned long long)(u % scale));
}

void lm_jw_fixed(struct lm_jw *j, double v, int decimals)
{
    char tmp[48];
    before_value(j);
    lm_bufw_write(j->w, tmp, lm_fmt_fixed(tmp, sizeof tmp, v, decimals));
}
