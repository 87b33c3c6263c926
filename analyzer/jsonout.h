/*
 * jsonout.h - a streaming JSON writer on a stdio FILE that formats exactly
 * like preload/jsonw.c (the exit report's writer): commas and ": " after
 * keys, string escaping, and pretty printing with a newline and two spaces
 * per level for every key or element at depth <= pretty_depth, deeper
 * containers on one line with ", " separators.  So `analyze report --json`
 * prints byte for byte what the exit report would have written.
 */
#ifndef AN_JSONOUT_H
#define AN_JSONOUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define AN_JW_MAX_DEPTH 16

struct an_jw {
    FILE *f;
    int depth, pretty_depth;
    bool after_key;
    bool has_items[AN_JW_MAX_DEPTH];
};

void an_jw_init(struct an_jw *j, FILE *f, int pretty_depth);
void an_jw_obj_begin(struct an_jw *j);
void an_jw_obj_end(struct an_jw *j);
void an_jw_arr_begin(struct an_jw *j);
void an_jw_arr_end(struct an_jw *j);
void an_jw_key(struct an_jw *j, const char *key);
void an_jw_str(struct an_jw *j, const char *s);
void an_jw_u64(struct an_jw *j, uint64_t v);
void an_jw_bool(struct an_jw *j, bool v);
void an_jw_hex(struct an_jw *j, uint64_t v);
/* v with exactly `decimals` digits after the point, rounded half up;
 * negative and NaN print as 0 (lm_jw_fixed's rules). */
void an_jw_fixed(struct an_jw *j, double v, int decimals);
/* The same number into buf (cap >= 32). */
void an_fmt_fixed(char *buf, size_t cap, double v, int decimals);

#endif
