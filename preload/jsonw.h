/*
 * jsonw.h - a buffered writer to a file descriptor (lm_bufw) and a tiny
 * streaming JSON writer on top of it (lm_jw), for the leak report.
 *
 * lm_bufw: the caller supplies the buffer (a mapping, a static or an
 * on-stack array); output accumulates there and leaves through
 * lm_write_all when the buffer is full and on lm_bufw_flush.  The first
 * write error is kept in `err` (an errno value) and every later write is
 * dropped, so callers check once, at the end.  fd < 0 drops everything
 * without error (a disabled log).
 *
 * lm_jw: objects and arrays nest up to LM_JW_MAX_DEPTH; the writer inserts
 * the commas and the ':' after keys, escapes strings (", \, control
 * characters), and pretty-prints: a newline and two spaces per level
 * before every key or array element at depth <= pretty_depth, deeper ones
 * stay on one line (one leak, one stack frame, one edge per line).
 * Deeper nesting than LM_JW_MAX_DEPTH sets err = EOVERFLOW.
 *
 * No malloc, no stdio, no locks; both structures belong to one thread.
 * Async-signal-safe (only write(2) through lm_write_all).
 */
#ifndef LM_JSONW_H
#define LM_JSONW_H

#include "internal.h"

struct lm_bufw {
    int fd;
    int err;            /* first errno of a failed write, 0 while fine */
    char *buf;
    size_t cap, len;
    size_t total;       /* bytes handed to the writer (flushed or not) */
};

void lm_bufw_init(struct lm_bufw *w, int fd, char *buf, size_t cap);
void lm_bufw_write(struct lm_bufw *w, const void *p, size_t n);
void lm_bufw_puts(struct lm_bufw *w, const char *s);
/* lm_format into the buffer; a single formatted piece longer than 1024
 * bytes is cut. */
void lm_bufw_printf(struct lm_bufw *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes out what is buffered.  Returns w->err. */
int lm_bufw_flush(struct lm_bufw *w);

#define LM_JW_MAX_DEPTH 16

struct lm_jw {
    struct lm_bufw *w;
    int depth;                        /* open containers */
    int pretty_depth;                 /* break lines up to this depth */
    bool after_key;                   /* a key was written, value pending */
    bool has_items[LM_JW_MAX_DEPTH];  /* container at depth d has items */
};

void lm_jw_init(struct lm_jw *j, struct lm_bufw *w, int pretty_depth);
void lm_jw_obj_begin(struct lm_jw *j);
void lm_jw_obj_end(struct lm_jw *j);
void lm_jw_arr_begin(struct lm_jw *j);
void lm_jw_arr_end(struct lm_jw *j);
void lm_jw_key(struct lm_jw *j, const char *key);
void lm_jw_str(struct lm_jw *j, const char *s);
void lm_jw_u64(struct lm_jw *j, uint64_t v);
void lm_jw_i64(struct lm_jw *j, int64_t v);
void lm_jw_bool(struct lm_jw *j, bool v);
void lm_jw_null(struct lm_jw *j);
/* "0x..." lowercase hex, as a JSON string (addresses, pcs, offsets). */
void lm_jw_hex(struct lm_jw *j, uint64_t v);
/* A number with exactly `decimals` (0..9) digits after the point, rounded
 * half up; NaN, infinities and negatives print as 0. */
void lm_jw_fixed(struct lm_jw *j, double v, int decimals);

/* Formats v like lm_jw_fixed into buf (cap >= 32); returns the length. */
size_t lm_fmt_fixed(char *buf, size_t cap, double v, int decimals);

#endif
