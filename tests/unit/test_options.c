/*
 * test_options.c - unit tests for preload/options.c.
 *
 * Every expectation is derived from options.def, expanded here with the
 * same X-macros, so the tests follow the option list as it grows.  Log
 * output is captured through lm_log_set_fd into a memfd and checked: each
 * rejected pair must give exactly one line naming it.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "log.h"
#include "options.h"

/* ---- the option list, as the test sees it ---- */

struct bool_opt { const char *name; size_t off; bool def; };
struct uint_opt { const char *name; size_t off; uint64_t def, lo, hi; };
struct str_opt { const char *name; size_t off; const char *def; };
struct enum_opt { const char *name; size_t off; unsigned def; const char *choices; };

#define LM_OPT_BOOL(n, d, h)
#define LM_OPT_UINT(n, d, lo, hi, h)
#define LM_OPT_STR(n, d, h)
#define LM_OPT_ENUM(n, d, c, h)

static const struct bool_opt bool_opts[] = {
#undef LM_OPT_BOOL
#define LM_OPT_BOOL(n, d, h) { #n, offsetof(struct lm_options, n), (d) },
#include "options.def"
#undef LM_OPT_BOOL
#define LM_OPT_BOOL(n, d, h)
};
static const struct uint_opt uint_opts[] = {
#undef LM_OPT_UINT
#define LM_OPT_UINT(n, d, lo, hi, h) { #n, offsetof(struct lm_options, n), (d), (lo), (hi) },
#include "options.def"
#undef LM_OPT_UINT
#define LM_OPT_UINT(n, d, lo, hi, h)
};
static const struct str_opt str_opts[] = {
#undef LM_OPT_STR
#define LM_OPT_STR(n, d, h) { #n, offsetof(struct lm_options, n), d },
#include "options.def"
#undef LM_OPT_STR
#define LM_OPT_STR(n, d, h)
};
static const struct enum_opt enum_opts[] = {
#undef LM_OPT_ENUM
#define LM_OPT_ENUM(n, d, c, h) { #n, offsetof(struct lm_options, n), (d), c },
#include "options.def"
#undef LM_OPT_ENUM
#define LM_OPT_ENUM(n, d, c, h)
};
static const char *const all_keys[] = {
#undef LM_OPT_BOOL
#undef LM_OPT_UINT
#undef LM_OPT_STR
#undef LM_OPT_ENUM
#define LM_OPT_BOOL(n, d, h) #n,
#define LM_OPT_UINT(n, d, lo, hi, h) #n,
#define LM_OPT_STR(n, d, h) #n,
#define LM_OPT_ENUM(n, d, c, h) #n,
#include "options.def"
};
#undef LM_OPT_BOOL
#undef LM_OPT_UINT
#undef LM_OPT_STR
#undef LM_OPT_ENUM

#define FIELD(o, off, type) (*(type *)((char *)(o) + (off)))

static size_t enum_count(const char *choices)
{
    size_t n = 1;
    for (const char *c = choices; *c; c++)
        n += *c == '|';
    return n;
}

/* The idx-th name of an enum's choices into buf. */
static void enum_name(const char *choices, size_t idx, char *buf, size_t cap)
{
    const char *c = choices;
    for (size_t i = 0; i < idx; i++)
        c = strchr(c, '|') + 1;
    size_t n = strcspn(c, "|");
    snprintf(buf, cap, "%.*s", (int)n, c);
}

/* Asserts every option of o holds its default. */
static void assert_defaults(const struct lm_options *o)
{
    for (size_t i = 0; i < LM_ARRAY_LEN(bool_opts); i++)
        assert_int_equal(FIELD(o, bool_opts[i].off, bool), bool_opts[i].def);
    for (size_t i = 0; i < LM_ARRAY_LEN(uint_opts); i++)
        assert_int_equal(FIELD(o, uint_opts[i].off, uint64_t), uint_opts[i].def);
    for (size_t i = 0; i < LM_ARRAY_LEN(str_opts); i++)
        assert_string_equal((const char *)o + str_opts[i].off, str_opts[i].def);
    for (size_t i = 0; i < LM_ARRAY_LEN(enum_opts); i++)
        assert_int_equal(FIELD(o, enum_opts[i].off, unsigned), enum_opts[i].def);
}

/* ---- log capture ---- */

static int cap_fd = -1, saved_log_fd = 2;
static char cap_buf[4 << 20];
static size_t cap_len;
static char prefix[64];

static int setup(void **state)
{
    (void)state;
    cap_fd = memfd_create("lm-options-log", 0);
    if (cap_fd < 0)
        return -1;
    saved_log_fd = lm_log_fd();
    lm_log_set_fd(cap_fd);
    snprintf(prefix, sizeof prefix, "==%d== leakmark: ", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    lm_log_set_fd(saved_log_fd);
    close(cap_fd);
    return 0;
}

/* lm_options_parse with its log output captured in cap_buf. */
static int parse(struct lm_options *o, const char *text)
{
    if (ftruncate(cap_fd, 0) != 0 || lseek(cap_fd, 0, SEEK_SET) != 0)
        fail_msg("cannot reset capture: %s", strerror(errno));
    int r = lm_options_parse(o, text);
    ssize_t n = pread(cap_fd, cap_buf, sizeof cap_buf - 1, 0);
    cap_len = n > 0 ? (size_t)n : 0;
    cap_buf[cap_len] = '\0';
    return r;
}

static size_t cap_lines(void)
{
    size_t n = 0;
    for (size_t i = 0; i < cap_len; i++)
        n += cap_buf[i] == '\n';
    return n;
}

/* Every captured line starts with the log prefix and ends with '\n'. */
static void assert_lines_well_formed(void)
{
    const char *s = cap_buf, *end = cap_buf + cap_len;
    while (s < end) {
        assert_memory_equal(s, prefix, strlen(prefix));
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        assert_non_null(nl);
        s = nl + 1;
    }
}

/* text must be rejected with exactly one line containing each non-NULL
 * needle; the options must stay as before the pair (here: defaults). */
static void expect_one_rejection(const char *text, const char *n1, const char *n2, const char *n3)
{
    struct lm_options o;
    int r = parse(&o, text);
    if (r != 1 || cap_lines() != 1)
        fail_msg("\"%.80s\": %d rejected, %zu lines:\n%s", text, r, cap_lines(), cap_buf);
    assert_lines_well_formed();
    const char *needles[] = { n1, n2, n3 };
    for (size_t i = 0; i < 3; i++)
        if (needles[i] && !strstr(cap_buf, needles[i]))
            fail_msg("\"%.80s\": message lacks \"%s\":\n%s", text, needles[i], cap_buf);
    assert_defaults(&o);
}

static void expect_accepted(struct lm_options *o, const char *text)
{
    int r = parse(o, text);
    if (r != 0 || cap_len != 0)
        fail_msg("\"%.80s\" rejected (%d):\n%s", text ? text : "(null)", r, cap_buf);
}

/* ---- tests ---- */

static void test_defaults(void **state)
{
    (void)state;
    /* The global holds the defaults before lm_options_init ever runs. */
    assert_defaults(&lm_options);
    struct lm_options o;
    const char *none[] = { NULL, "", ":", ":::::" };
    for (size_t i = 0; i < LM_ARRAY_LEN(none); i++) {
        memset(&o, 0xa5, sizeof o);
        expect_accepted(&o, none[i]);
        assert_defaults(&o);
    }
    /* Parsing starts from the defaults every time. */
    char text[64];
    snprintf(text, sizeof text, "%s=%" PRIu64, uint_opts[0].name,
             uint_opts[0].def == uint_opts[0].lo ? uint_opts[0].hi : uint_opts[0].lo);
    expect_accepted(&o, text);
    assert_int_not_equal(FIELD(&o, uint_opts[0].off, uint64_t), uint_opts[0].def);
    expect_accepted(&o, NULL);
    assert_defaults(&o);
    /* A NULL struct is ignored. */
    assert_int_equal(lm_options_parse(NULL, "verbosity=1"), 0);
}

static void test_bool(void **state)
{
    (void)state;
    static const struct { const char *text; bool v; } good[] = {
        { "1", true }, { "0", false }, { "true", true }, { "false", false },
        { "yes", true }, { "no", false }, { "TRUE", true }, { "No", false },
    };
    static const char *const bad[] = { "", "2", "maybe", "tru", "truex", "y", "on", " 1", "01" };
    for (size_t i = 0; i < LM_ARRAY_LEN(bool_opts); i++) {
        const struct bool_opt *b = &bool_opts[i];
        struct lm_options o;
        char text[128], pair[136], keeping[64];
        for (size_t g = 0; g < LM_ARRAY_LEN(good); g++) {
            snprintf(text, sizeof text, "%s=%s", b->name, good[g].text);
            expect_accepted(&o, text);
            assert_int_equal(FIELD(&o, b->off, bool), good[g].v);
        }
        snprintf(keeping, sizeof keeping, "keeping %s", b->def ? "true" : "false");
        for (size_t k = 0; k < LM_ARRAY_LEN(bad); k++) {
            snprintf(text, sizeof text, "%s=%s", b->name, bad[k]);
            snprintf(pair, sizeof pair, "'%s'", text);
            expect_one_rejection(text, pair, "1/0/true/false/yes/no", keeping);
        }
    }
}

static void test_uint_limits(void **state)
{
    (void)state;
    for (size_t i = 0; i < LM_ARRAY_LEN(uint_opts); i++) {
        const struct uint_opt *u = &uint_opts[i];
        struct lm_options o;
        char text[128], range[96], keeping[64];
        snprintf(range, sizeof range, "an integer in %" PRIu64 "..%" PRIu64, u->lo, u->hi);
        snprintf(keeping, sizeof keeping, "keeping %" PRIu64, u->def);

        uint64_t good[] = { u->lo, u->hi, u->lo + (u->hi - u->lo) / 2 };
        for (size_t g = 0; g < LM_ARRAY_LEN(good); g++) {
            snprintf(text, sizeof text, "%s=%" PRIu64, u->name, good[g]);
            expect_accepted(&o, text);
            assert_int_equal(FIELD(&o, u->off, uint64_t), good[g]);
            snprintf(text, sizeof text, "%s=0x%" PRIx64, u->name, good[g]);
            expect_accepted(&o, text);
            assert_int_equal(FIELD(&o, u->off, uint64_t), good[g]);
            snprintf(text, sizeof text, "%s=0X%" PRIX64, u->name, good[g]);
            expect_accepted(&o, text);
            assert_int_equal(FIELD(&o, u->off, uint64_t), good[g]);
        }
        /* Leading zeros are decimal, not octal. */
        snprintf(text, sizeof text, "%s=0%" PRIu64, u->name, u->hi);
        expect_accepted(&o, text);
        assert_int_equal(FIELD(&o, u->off, uint64_t), u->hi);

        if (u->lo > 0) {
            snprintf(text, sizeof text, "%s=%" PRIu64, u->name, u->lo - 1);
            expect_one_rejection(text, text, range, keeping);
        }
        if (u->hi < UINT64_MAX) {
            snprintf(text, sizeof text, "%s=%" PRIu64, u->name, u->hi + 1);
            expect_one_rejection(text, text, range, keeping);
        }
        /* Exactly 2^64, in decimal and hex, and far beyond. */
        static const char *const overflow[] = {
            "18446744073709551616", "0x10000000000000000",
            "99999999999999999999999999999999999999", "0xffffffffffffffffff",
        };
        for (size_t k = 0; k < LM_ARRAY_LEN(overflow); k++) {
            snprintf(text, sizeof text, "%s=%s", u->name, overflow[k]);
            expect_one_rejection(text, text, range, "too large");
        }
        static const char *const garbage[] = {
            "", "abc", "-1", "+1", "0x", "0xg", "1a", " 1", "1 ", "1.5", "1e3", "0x-1", "=1",
        };
        for (size_t k = 0; k < LM_ARRAY_LEN(garbage); k++) {
            snprintf(text, sizeof text, "%s=%s", u->name, garbage[k]);
            expect_one_rejection(text, text, range, keeping);
        }
    }
}

static void test_uint_max_value(void **state)
{
    (void)state;
    /* UINT64_MAX itself parses (decimal and hex) when a range allows it; with
     * the current list it is simply out of range for every key. */
    struct lm_options o;
    char text[128];
    const struct uint_opt *u = &uint_opts[0];
    snprintf(text, sizeof text, "%s=18446744073709551615", u->name);
    int r = parse(&o, text);
    assert_int_equal(r, u->hi == UINT64_MAX ? 0 : 1);
    if (r)
        assert_non_null(strstr(cap_buf, "out of range"));
    snprintf(text, sizeof text, "%s=0xffffffffffffffff", u->name);
    assert_int_equal(parse(&o, text), r);
}

static void test_enum(void **state)
{
    (void)state;
    for (size_t i = 0; i < LM_ARRAY_LEN(enum_opts); i++) {
        const struct enum_opt *e = &enum_opts[i];
        struct lm_options o;
        char text[256], name[64], keeping[96], expect[160];
        size_t n = enum_count(e->choices);
        for (size_t k = 0; k < n; k++) {
            enum_name(e->choices, k, name, sizeof name);
            snprintf(text, sizeof text, "%s=%s", e->name, name);
            expect_accepted(&o, text);
            assert_int_equal(FIELD(&o, e->off, unsigned), k);
            for (char *c = name; *c; c++)
                *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
            snprintf(text, sizeof text, "%s=%s", e->name, name);
            expect_accepted(&o, text);
            assert_int_equal(FIELD(&o, e->off, unsigned), k);
        }
        enum_name(e->choices, e->def, name, sizeof name);
        snprintf(keeping, sizeof keeping, "keeping %s", name);
        snprintf(expect, sizeof expect, "one of %s", e->choices);
        enum_name(e->choices, 0, name, sizeof name);
        char prefix_only[64], extended[64];
        snprintf(prefix_only, sizeof prefix_only, "%.*s", (int)strlen(name) - 1, name);
        snprintf(extended, sizeof extended, "%sx", name);
        const char *bad[] = { "", "nonsense", prefix_only, extended, "0", "|" };
        for (size_t k = 0; k < LM_ARRAY_LEN(bad); k++) {
            snprintf(text, sizeof text, "%s=%s", e->name, bad[k]);
            expect_one_rejection(text, text, expect, keeping);
        }
    }
}

static void test_str(void **state)
{
    (void)state;
    static char text[LM_OPT_STR_MAX + 128], value[LM_OPT_STR_MAX + 2];
    for (size_t i = 0; i < LM_ARRAY_LEN(str_opts); i++) {
        const struct str_opt *s = &str_opts[i];
        struct lm_options o;
        /* Empty, short, with '=' and '%', and exactly the maximum. */
        const char *vals[] = { "", "x", "/tmp/a=b.%p", "SIGUSR2" };
        for (size_t k = 0; k < LM_ARRAY_LEN(vals); k++) {
            snprintf(text, sizeof text, "%s=%s", s->name, vals[k]);
            expect_accepted(&o, text);
            assert_string_equal((char *)&o + s->off, vals[k]);
        }
        for (size_t k = 0; k < LM_OPT_STR_MAX - 1; k++)
            value[k] = (char)('a' + k % 26);
        value[LM_OPT_STR_MAX - 1] = '\0';
        snprintf(text, sizeof text, "%s=%s", s->name, value);
        expect_accepted(&o, text);
        assert_string_equal((char *)&o + s->off, value);
        /* One byte more is rejected, and the default is kept. */
        value[LM_OPT_STR_MAX - 1] = 'z';
        value[LM_OPT_STR_MAX] = '\0';
        snprintf(text, sizeof text, "%s=%s", s->name, value);
        char key[96], expect[64];
        snprintf(key, sizeof key, "'%s=%.20s", s->name, value);
        snprintf(expect, sizeof expect, "at most %d bytes", LM_OPT_STR_MAX - 1);
        expect_one_rejection(text, key, expect, "too long");
    }
}

static void test_unknown_and_malformed(void **state)
{
    (void)state;
    char want[128];
    /* Every valid key is listed in the one line. */
    expect_one_rejection("foo=1", "unknown LEAKMARK_OPTIONS key 'foo'", "valid keys: ", NULL);
    for (size_t i = 0; i < LM_ARRAY_LEN(all_keys); i++)
        assert_non_null(strstr(cap_buf, all_keys[i]));
    /* Keys are case-sensitive and not trimmed. */
    snprintf(want, sizeof want, "%c%s=1", all_keys[0][0] - 32, all_keys[0] + 1);
    expect_one_rejection(want, "unknown LEAKMARK_OPTIONS key", NULL, NULL);
    snprintf(want, sizeof want, " %s=1", all_keys[0]);
    expect_one_rejection(want, "unknown LEAKMARK_OPTIONS key", NULL, NULL);
    /* A known key's prefix or extension is not the key. */
    snprintf(want, sizeof want, "%.3s=1", all_keys[0]);
    expect_one_rejection(want, "unknown LEAKMARK_OPTIONS key", NULL, NULL);
    snprintf(want, sizeof want, "%sx=1", all_keys[0]);
    expect_one_rejection(want, "unknown LEAKMARK_OPTIONS key", NULL, NULL);
    /* Empty key. */
    expect_one_rejection("=1", "unknown LEAKMARK_OPTIONS key ''", NULL, NULL);
    expect_one_rejection("=", "unknown LEAKMARK_OPTIONS key ''", NULL, NULL);
    /* Missing '='. */
    expect_one_rejection("verbosity", "bad LEAKMARK_OPTIONS pair 'verbosity'", "key=value", NULL);
    expect_one_rejection("junk", "'junk'", "key=value", NULL);
    /* Control bytes are escaped so the message stays one line. */
    expect_one_rejection("fo\no=1", "'fo\\x0ao'", NULL, NULL);
    expect_one_rejection("\x01\x7f\xff=", "'\\x01\\x7f\\xff'", NULL, NULL);
}

static void test_several_pairs(void **state)
{
    (void)state;
    struct lm_options o;
    /* Good pairs apply, bad pairs give one line each and change nothing. */
    int r = parse(&o, "verbosity=3:bogus=1:stack_depth=abc:leak_check=0:quiet:report=json");
    assert_int_equal(r, 3);
    assert_int_equal(cap_lines(), 3);
    assert_lines_well_formed();
    assert_int_equal(o.verbosity, 3);
    assert_false(o.leak_check);
    assert_int_equal(o.report, 1);
    assert_non_null(strstr(cap_buf, "'bogus'"));
    assert_non_null(strstr(cap_buf, "'stack_depth=abc'"));
    assert_non_null(strstr(cap_buf, "'quiet'"));
    struct lm_options d;
    expect_accepted(&d, NULL);
    assert_int_equal(o.stack_depth, d.stack_depth);
    assert_int_equal(o.quiet, d.quiet);
    /* Empty pairs anywhere are ignored; the last of repeated keys wins. */
    expect_accepted(&o, "::verbosity=2::stack_depth=8:::verbosity=0:");
    assert_int_equal(o.verbosity, 0);
    assert_int_equal(o.stack_depth, 8);
    /* A bad repeat keeps the earlier good value, and says so. */
    r = parse(&o, "stack_depth=8:stack_depth=999");
    assert_int_equal(r, 1);
    assert_int_equal(o.stack_depth, 8);
    assert_non_null(strstr(cap_buf, "keeping 8"));
}

static void test_long_inputs(void **state)
{
    (void)state;
    size_t big = 1u << 20;
    char *text = malloc(big + 64);
    assert_non_null(text);
    struct lm_options o;

    /* One huge pair without '=': one bounded line, cut with "...". */
    memset(text, 'k', big);
    text[big] = '\0';
    assert_int_equal(parse(&o, text), 1);
    assert_int_equal(cap_lines(), 1);
    assert_true(cap_len < 1200);
    assert_non_null(strstr(cap_buf, "..."));
    assert_defaults(&o);

    /* A huge string value: rejected, the line still names the key. */
    memcpy(text, "log_path=", 9);
    assert_int_equal(parse(&o, text), 1);
    assert_int_equal(cap_lines(), 1);
    assert_non_null(strstr(cap_buf, "'log_path=kkk"));
    assert_non_null(strstr(cap_buf, "keeping ''"));
    assert_true(cap_len < 1200);

    /* A huge number: too large. */
    memcpy(text, "verbosity=", 10);
    memset(text + 10, '9', big - 10);
    assert_int_equal(parse(&o, text), 1);
    assert_non_null(strstr(cap_buf, "too large"));

    /* Many valid pairs. */
    size_t n = 0;
    while (n + 32 < big)
        n += (size_t)snprintf(text + n, 32, "verbosity=%zu:", (n / 13) % 4);
    text[n] = '\0';
    expect_accepted(&o, text);
    assert_true(o.verbosity <= 3);

    /* Many bad pairs: one line each. */
    n = 0;
    size_t pairs = 0;
    while (n + 32 < 40000) {
        n += (size_t)snprintf(text + n, 32, "nokey%zu=1:", pairs);
        pairs++;
    }
    text[n] = '\0';
    assert_int_equal(parse(&o, text), (int)pairs);
    assert_int_equal(cap_lines(), pairs);
    free(text);
}

/* Random byte strings built from fragments that matter (':', '=', keys,
 * numbers) and raw bytes: never a crash, one line per rejected pair, and
 * every field stays in its domain. */
static void test_fuzz(void **state)
{
    (void)state;
    static const char *const frags[] = {
        ":", "=", "::", "==", "0", "1", "0x", "ff", "18446744073709551616", "true", "no",
        "text", "json", "|", "%p", "\n", "-", " ",
    };
    srandom(4242);
    char text[1200];
    struct lm_options o;
    for (int iter = 0; iter < 30000; iter++) {
        size_t len = 0, target = (size_t)(random() % 1000);
        while (len < target) {
            const char *frag;
            char raw[2];
            switch (random() % 4) {
            case 0: frag = all_keys[random() % LM_ARRAY_LEN(all_keys)]; break;
            case 1: frag = frags[random() % LM_ARRAY_LEN(frags)]; break;
            default:
                raw[0] = (char)(1 + random() % 255);
                raw[1] = '\0';
                frag = raw;
                break;
            }
            size_t fl = strlen(frag);
            if (len + fl >= sizeof text)
                break;
            memcpy(text + len, frag, fl);
            len += fl;
        }
        text[len] = '\0';
        int r = parse(&o, text);
        assert_true(r >= 0);
        if ((size_t)r != cap_lines())
            fail_msg("iteration %d: %d rejected, %zu lines for \"%s\"", iter, r, cap_lines(), text);
        assert_lines_well_formed();
        for (size_t i = 0; i < LM_ARRAY_LEN(uint_opts); i++) {
            uint64_t v = FIELD(&o, uint_opts[i].off, uint64_t);
            assert_true(v >= uint_opts[i].lo && v <= uint_opts[i].hi);
        }
        for (size_t i = 0; i < LM_ARRAY_LEN(enum_opts); i++)
            assert_true(FIELD(&o, enum_opts[i].off, unsigned) < enum_count(enum_opts[i].choices));
        for (size_t i = 0; i < LM_ARRAY_LEN(str_opts); i++) {
            const char *s = (const char *)&o + str_opts[i].off;
            assert_non_null(memchr(s, '\0', LM_OPT_STR_MAX));
            assert_null(strchr(s, ':'));
        }
        for (size_t i = 0; i < LM_ARRAY_LEN(bool_opts); i++) {
            unsigned char b;
            memcpy(&b, (const char *)&o + bool_opts[i].off, 1);
            assert_true(b <= 1);
        }
    }
}

static void test_init_reads_environment(void **state)
{
    (void)state;
    const struct uint_opt *u = &uint_opts[0];
    uint64_t want = u->def == u->hi ? u->lo : u->hi;
    char text[128];
    snprintf(text, sizeof text, "%s=%" PRIu64 ":%s=0x1", u->name, want, "no_such_key");
    assert_int_equal(setenv("LEAKMARK_OPTIONS", text, 1), 0);
    if (ftruncate(cap_fd, 0) != 0 || lseek(cap_fd, 0, SEEK_SET) != 0)
        fail();
    lm_options_init();
    assert_int_equal(FIELD(&lm_options, u->off, uint64_t), want);
    ssize_t n = pread(cap_fd, cap_buf, sizeof cap_buf - 1, 0);
    assert_true(n > 0);
    cap_buf[n] = '\0';
    assert_non_null(strstr(cap_buf, "'no_such_key'"));
    unsetenv("LEAKMARK_OPTIONS");
    lm_options_init();
    assert_defaults(&lm_options);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_uint_limits),
        cmocka_unit_test(test_uint_max_value),
        cmocka_unit_test(test_enum),
        cmocka_unit_test(test_str),
        cmocka_unit_test(test_unknown_and_malformed),
        cmocka_unit_test(test_several_pairs),
        cmocka_unit_test(test_long_inputs),
        cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_init_reads_environment),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
