/*
 * options.h - the parsed LEAKMARK_OPTIONS (see options.def for every key).
 *
 * lm_options is filled once, by lm_options_init(), early in the allocator's
 * first initialisation: no malloc, no stdio, environ read directly.  After
 * that it is read-only, so any thread (and any signal handler) may read it
 * without locks.
 */
#ifndef LM_OPTIONS_H
#define LM_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define LM_OPT_STR_MAX 256

struct lm_options {
#define LM_OPT_BOOL(name, def, help) bool name;
#define LM_OPT_UINT(name, def, lo, hi, help) uint64_t name;
#define LM_OPT_STR(name, def, help) char name[LM_OPT_STR_MAX];
#define LM_OPT_ENUM(name, def, choices, help) unsigned name;
#include "options.def"
#undef LM_OPT_BOOL
#undef LM_OPT_UINT
#undef LM_OPT_STR
#undef LM_OPT_ENUM
};

extern struct lm_options lm_options;

/* Sets every option to its default, then applies `text` (the value of
 * LEAKMARK_OPTIONS; NULL or "" means none).  Pairs are key=value separated
 * by ':'.  An unknown key, a missing '=', or a bad value prints one line
 * through lm_log naming the key/value and what is valid, and that pair is
 * ignored (the option keeps its default).  Returns the number of pairs
 * rejected. */
int lm_options_parse(struct lm_options *opts, const char *text);

/* lm_options_parse(&lm_options, getenv("LEAKMARK_OPTIONS")) without libc's
 * getenv. */
void lm_options_init(void);

#endif
