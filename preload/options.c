/*
 * options.c - the LEAKMARK_OPTIONS parser and the global lm_options.
 *
 * Owns: lm_options.  It is statically initialised to the defaults (so code
 * that reads it before lm_options_init sees sane values), written once by
 * lm_options_init during the allocator's first initialisation, and read-only
 * afterwards: readers need no lock, signal handlers included.
 *
 * Every key comes from options.def, expanded three times with X-macros: the
 * struct (options.h), the defaults and the descriptor table below.
 *
 * Syntax: key=value pairs separated by ':'.  Empty pairs ("a=1::b=2", a
 * trailing ':') are ignored.  Keys are case-sensitive and nothing is trimmed
 * (" verbosity=1" is an unknown key).  Because ':' separates pairs, a value
 * can never contain ':' (there is no escape); the first '=' separates key
 * from value, so a value may contain '='.
 *   bool  1/0/true/false/yes/no (case-insensitive)
 *   uint  decimal, or hex with a 0x/0X prefix; no sign; must lie in the
 *         option's [min, max]; 64-bit overflow is detected
 *   enum  one of the option's '|'-separated names (case-insensitive),
 *         stored as its index
 *   str   any bytes but ':' and NUL, at most LM_OPT_STR_MAX-1 of them;
 *         "key=" sets the empty string
 * A rejected pair leaves the option as it was and prints exactly one line
 * through lm_log naming the pair and what is valid.
 *
 * No malloc, no stdio, no locks: all scratch space is on the stack, and the
 * parser never reads past the NUL of its input.
 */
#include "options.h"
#include "internal.h"
#include "log.h"
#include "os.h"

#include <stddef.h>

/* The defaults, as an initializer list expanded from options.def. */
#define LM_OPT_BOOL(name, def, help) .name = (def),
#define LM_OPT_UINT(name, def, lo, hi, help) .name = (def),
#define LM_OPT_STR(name, def, help) .name = def,
#define LM_OPT_ENUM(name, def, choices, help) .name = (def),
struct lm_options lm_options = {
#include "options.def"
};

static const struct lm_options lm_options_defaults = {
#include "options.def"
};
#undef LM_OPT_BOOL
#undef LM_OPT_UINT
#undef LM_OPT_STR
#undef LM_OPT_ENUM

enum opt_type { OPT_BOOL, OPT_UINT, OPT_STR, OPT_ENUM };

struct opt_desc {
    const char *name;
    enum opt_type type;
    size_t offset;
    uint64_t lo, hi;                    /* OPT_UINT only */
    const char *choices;                /* OPT_ENUM only */
};

static const struct opt_desc opt_table[] = {
#define LM_OPT_BOOL(name, def, help) \
    { #name, OPT_BOOL, offsetof(struct lm_options, name), 0, 1, NULL },
#define LM_OPT_UINT(name, def, lo, hi, help) \
    { #name, OPT_UINT, offsetof(struct lm_options, name), (lo), (hi), NULL },
#define LM_OPT_STR(name, def, help) \
    { #name, OPT_STR, offsetof(struct lm_options, name), 0, 0, NULL },
#define LM_OPT_ENUM(name, def, choices, help) \
    { #name, OPT_ENUM, offsetof(struct lm_options, name), 0, 0, choices },
#include "options.def"
#undef LM_OPT_BOOL
#undef LM_OPT_UINT
#undef LM_OPT_STR
#undef LM_OPT_ENUM
};

/* A byte range of the input: options text is never copied or modified. */
struct span {
    const char *p;
    size_t n;
};

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

static bool span_eq(struct span s, const char *lit, bool nocase)
{
    size_t i = 0;
    for (; i < s.n; i++) {
        if (!lit[i])
            return false;
        if (nocase ? lower(s.p[i]) != lower(lit[i]) : s.p[i] != lit[i])
            return false;
    }
    return lit[i] == '\0';
}

static const struct opt_desc *find_opt(struct span key)
{
    for (size_t i = 0; i < LM_ARRAY_LEN(opt_table); i++)
        if (span_eq(key, opt_table[i].name, false))
            return &opt_table[i];
    return NULL;
}

/* ---- message helpers (all output lands in caller stack buffers) ---- */

#define SHOW_MAX 96                     /* input bytes quoted in a message */
#define SHOW_BUF (SHOW_MAX * 4 + 8)     /* every byte may become \xNN */

/* Copies s into dst for quoting: control and non-ASCII bytes become \xNN
 * (so a message stays one line), and more than SHOW_MAX bytes end in "...". */
static void show(char *dst, size_t cap, struct span s)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, n = s.n > SHOW_MAX ? SHOW_MAX : s.n;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c < 0x20 || c >= 0x7f || c == '\\') {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        } else {
            dst[o++] = (char)c;
        }
    }
    if (n < s.n && o + 4 < cap) {
        dst[o++] = '.';
        dst[o++] = '.';
        dst[o++] = '.';
    }
    dst[o] = '\0';
}

static struct span cstr_span(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return (struct span){ s, n };
}

/* "verbosity, log_path, ..." into dst (truncated at cap). */
static void key_list(char *dst, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < LM_ARRAY_LEN(opt_table); i++)
        o += lm_format(dst + o, cap - o, "%s%s", i ? ", " : "", opt_table[i].name);
}

/* The option's current value as text, for "keeping ...". */
static void current_value(char *dst, size_t cap, const struct opt_desc *d,
                          const struct lm_options *opts)
{
    const char *field = (const char *)opts + d->offset;
    switch (d->type) {
    case OPT_BOOL:
        lm_format(dst, cap, "%s", *(const bool *)field ? "true" : "false");
        break;
    case OPT_UINT:
        lm_format(dst, cap, "%llu", (unsigned long long)*(const uint64_t *)field);
        break;
    case OPT_ENUM: {
        unsigned idx = *(const unsigned *)field, i = 0;
        const char *c = d->choices;
        while (i < idx && *c) {
            if (*c++ == '|')
                i++;
        }
        size_t n = 0;
        while (c[n] && c[n] != '|')
            n++;
        lm_format(dst, cap, "%.*s", (int)n, c);
        break;
    }
    case OPT_STR: {
        char shown[SHOW_BUF];
        show(shown, sizeof shown, cstr_span(field));
        lm_format(dst, cap, "'%s'", shown);
        break;
    }
    }
}

static void report_bad_value(const struct opt_desc *d, const struct lm_options *opts,
                             struct span value, const char *why)
{
    char v[SHOW_BUF], cur[SHOW_BUF + 8], expect[128];
    show(v, sizeof v, value);
    current_value(cur, sizeof cur, d, opts);
    switch (d->type) {
    case OPT_BOOL:
        lm_format(expect, sizeof expect, "1/0/true/false/yes/no");
        break;
    case OPT_UINT:
        lm_format(expect, sizeof expect, "an integer in %llu..%llu",
                  (unsigned long long)d->lo, (unsigned long long)d->hi);
        break;
    case OPT_ENUM:
        lm_format(expect, sizeof expect, "one of %s", d->choices);
        break;
    case OPT_STR:
        lm_format(expect, sizeof expect, "at most %d bytes", LM_OPT_STR_MAX - 1);
        break;
    }
    lm_log("bad LEAKMARK_OPTIONS value '%s=%s'%s: expected %s; keeping %s",
           d->name, v, why, expect, cur);
}

/* ---- value parsers: return true and store on success ---- */

static bool parse_bool(struct span v, bool *out)
{
    static const char *const yes[] = { "1", "true", "yes" };
    static const char *const no[] = { "0", "false", "no" };
    for (size_t i = 0; i < LM_ARRAY_LEN(yes); i++) {
        if (span_eq(v, yes[i], true)) {
            *out = true;
            return true;
        }
        if (span_eq(v, no[i], true)) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* Decimal or 0x hex into *out; *overflow tells a too-large number from
 * garbage. */
static bool parse_u64(struct span v, uint64_t *out, bool *overflow)
{
    size_t i = 0;
    unsigned base = 10;
    *overflow = false;
    if (v.n > 2 && v.p[0] == '0' && (v.p[1] == 'x' || v.p[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i == v.n)
        return false;
    uint64_t acc = 0;
    for (; i < v.n; i++) {
        char c = v.p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && lower(c) >= 'a' && lower(c) <= 'f')
            d = (unsigned)(lower(c) - 'a' + 10);
        else
            return false;
        if (acc > (UINT64_MAX - d) / base)
            *overflow = true;           /* keep scanning: garbage wins */
        else
            acc = acc * base + d;
    }
    *out = acc;
    return !*overflow;
}

static bool parse_enum(struct span v, const char *choices, unsigned *out)
{
    unsigned idx = 0;
    const char *c = choices;
    for (;;) {
        size_t n = 0;
        while (c[n] && c[n] != '|')
            n++;
        if (n == v.n && n > 0) {
            size_t i = 0;
            while (i < n && lower(c[i]) == lower(v.p[i]))
                i++;
            if (i == n) {
                *out = idx;
                return true;
            }
        }
        if (!c[n])
            return false;
        c += n + 1;
        idx++;
    }
}

/* Applies one "key=value" pair; returns false (after one log line) if it
 * was rejected. */
static bool apply_pair(struct lm_options *opts, struct span pair)
{
    size_t eq = 0;
    while (eq < pair.n && pair.p[eq] != '=')
        eq++;
    char keys[512];
    if (eq == pair.n) {
        char shown[SHOW_BUF];
        show(shown, sizeof shown, pair);
        key_list(keys, sizeof keys);
        lm_log("bad LEAKMARK_OPTIONS pair '%s': expected key=value (valid keys: %s)", shown, keys);
        return false;
    }
    struct span key = { pair.p, eq }, value = { pair.p + eq + 1, pair.n - eq - 1 };
    const struct opt_desc *d = find_opt(key);
    if (!d) {
        char shown[SHOW_BUF];
        show(shown, sizeof shown, key);
        key_list(keys, sizeof keys);
        lm_log("unknown LEAKMARK_OPTIONS key '%s' (valid keys: %s)", shown, keys);
        return false;
    }
    char *field = (char *)opts + d->offset;
    switch (d->type) {
    case OPT_BOOL:
        if (parse_bool(value, (bool *)field))
            return true;
        report_bad_value(d, opts, value, "");
        return false;
    case OPT_UINT: {
        uint64_t u = 0;
        bool overflow;
        if (!parse_u64(value, &u, &overflow)) {
            report_bad_value(d, opts, value, overflow ? " (too large)" : "");
            return false;
        }
        if (u < d->lo || u > d->hi) {
            report_bad_value(d, opts, value, " (out of range)");
            return false;
        }
        *(uint64_t *)field = u;
        return true;
    }
    case OPT_ENUM:
        if (parse_enum(value, d->choices, (unsigned *)field))
            return true;
        report_bad_value(d, opts, value, "");
        return false;
    case OPT_STR:
        if (value.n > LM_OPT_STR_MAX - 1) {
            report_bad_value(d, opts, value, " (too long)");
            return false;
        }
        for (size_t i = 0; i < value.n; i++)
            field[i] = value.p[i];
        field[value.n] = '\0';
        return true;
    }
    return false;
}

int lm_options_parse(struct lm_options *opts, const char *text)
{
    if (!opts)
        return 0;
    *opts = lm_options_defaults;
    if (!text)
        return 0;
    int rejected = 0;
    const char *p = text;
    while (*p) {
        size_t n = 0;
        while (p[n] && p[n] != ':')
            n++;
        if (n > 0 && !apply_pair(opts, (struct span){ p, n }))
            rejected++;
        p += n;
        if (*p == ':')
            p++;
    }
    return rejected;
}

void lm_options_init(void)
{
    lm_options_parse(&lm_options, lm_os_getenv("LEAKMARK_OPTIONS"));
}
