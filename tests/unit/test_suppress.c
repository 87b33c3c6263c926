/*
 * test_suppress.c - preload/suppress.h: the two matchers (LeakSanitizer's
 * substring/'*'/'^'/'$' and valgrind's whole-string '*'/'?'), parsing of
 * both formats (comments, blank lines, CRLF, malformed entries with the
 * exact log line, unreadable file), matching synthetic stacks whose
 * frames are functions of this file (frame by frame, "...", fun: vs obj:,
 * the implicit allocator frame, match-leak-kinds, LSan's frame-major rule
 * order), the per-stack cache, and an end-to-end report: leaks built with
 * lm_calloc and marked from explicit roots as test_report.c does, a
 * suppression file in a temporary directory, and the JSON summary, the
 * "suppressions" array and the text report checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/mman.h>
#include <unistd.h>

#include "alloc.h"
#include "block.h"
#include "log.h"
#include "mark.h"
#include "options.h"
#include "report.h"
#include "stackdepot.h"
#include "suppress.h"
#include "symbolize.h"

#define NOIPA __attribute__((noinline, noipa))

/* Distinct functions whose addresses serve as frames: pc = f + 1 is a
 * "return address" inside f, so the symbolizer names f. */
static volatile int sink;
NOIPA void fr_alpha(void) { sink += 1; }
NOIPA void fr_beta(void) { sink += 2; }
NOIPA void fr_gamma(void) { sink += 3; }
NOIPA void fr_delta(void) { sink += 4; }
NOIPA void tree_site(void) { sink += 5; }
NOIPA void cycle_site(void) { sink += 6; }
NOIPA void poss_site(void) { sink += 7; }
NOIPA void plain_site(void) { sink += 8; }
NOIPA void shared_site(void) { sink += 9; }

static uint32_t stack_of(int n, ...)
{
    uintptr_t pcs[8];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        pcs[i] = (uintptr_t)va_arg(ap, void (*)(void)) + 1;
    va_end(ap);
    uint32_t id = lm_stackdepot_put(pcs, n);
    assert_true(id != 0);
    return id;
}

/* ---- log capture ---- */

static int log_fd = -1;
static void log_begin(void)
{
    log_fd = memfd_create("lmlog", 0);
    assert_true(log_fd >= 0);
    lm_log_set_fd(log_fd);
}
static char *log_end(void)
{
    lm_log_set_fd(2);
    off_t n = lseek(log_fd, 0, SEEK_END);
    char *buf = calloc(1, (size_t)n + 1);
    assert_int_equal(pread(log_fd, buf, (size_t)n, 0), n);
    close(log_fd);
    return buf;
}
static const char *prefix(void)
{
    static char p[64];
    snprintf(p, sizeof p, "==%d== leakmark: ", (int)getpid());
    return p;
}

/* ---- matchers ---- */

static void test_lsan_matcher(void **state)
{
    (void)state;
    assert_true(lm_supp_lsan_match("foo", "xfooy"));          /* substring */
    assert_true(lm_supp_lsan_match("foo", "foo"));
    assert_false(lm_supp_lsan_match("foo", "fo"));
    assert_false(lm_supp_lsan_match("^foo", "xfoo"));         /* anchored start */
    assert_true(lm_supp_lsan_match("^foo", "foobar"));
    assert_true(lm_supp_lsan_match("bar$", "foobar"));        /* anchored end */
    assert_false(lm_supp_lsan_match("bar$", "barfoo"));
    assert_true(lm_supp_lsan_match("^foo$", "foo"));
    assert_false(lm_supp_lsan_match("^foo$", "foo2"));
    assert_true(lm_supp_lsan_match("f*o", "afxxxob"));
    assert_true(lm_supp_lsan_match("*LSanTest*", "aLSanTestb"));
    assert_true(lm_supp_lsan_match("a*b$", "abab"));          /* needs backtracking */
    assert_false(lm_supp_lsan_match("f?o", "foo"));           /* '?' is literal */
    assert_true(lm_supp_lsan_match("f?o", "xf?o"));
    assert_false(lm_supp_lsan_match("foo", NULL));
    assert_false(lm_supp_lsan_match("foo", ""));
    assert_false(lm_supp_lsan_match("*", ""));                /* LSan: empty never matches */
    assert_true(lm_supp_lsan_match("lib/libc.so", "/usr/lib/libc.so.6"));
}

static void test_glob_matcher(void **state)
{
    (void)state;
    assert_true(lm_supp_glob_match("f?o", "foo"));
    assert_false(lm_supp_glob_match("f?o", "fo"));
    assert_true(lm_supp_glob_match("f*", "foo"));
    assert_false(lm_supp_glob_match("foo", "foobar"));        /* whole string */
    assert_false(lm_supp_glob_match("bar", "foobar"));
    assert_true(lm_supp_glob_match("*bar", "foobar"));
    assert_true(lm_supp_glob_match("*", ""));
    assert_false(lm_supp_glob_match("?", ""));
    assert_true(lm_supp_glob_match("a*b*c", "aXbYc"));
    assert_false(lm_supp_glob_match("a*b*c", "aXbY"));
    assert_true(lm_supp_glob_match("*a?c*", "zzabcabdzz"));
    assert_true(lm_supp_glob_match("*libc.so*", "/lib/x86_64-linux-gnu/libc.so.6"));
}

/* ---- parsing ---- */

static int parse(struct lm_supp_set *s, const char *name, const char *text)
{
    lm_supp_init(s);
    return lm_supp_parse(s, name, text, strlen(text));
}

static void test_parse_lsan(void **state)
{
    (void)state;
    struct lm_supp_set s;
    log_begin();
    int bad = parse(&s, "ok.supp",
                    "# a comment\r\n"
                    "\r\n"
                    "leak:foo\r\n"
                    "   leak:^bar$   \n"
                    "\t# indented comment\n"
                    "leak:a:b\n"
                    "leak:last");               /* no final newline */
    char *log = log_end();
    assert_int_equal(bad, 0);
    assert_string_equal(log, "");
    assert_int_equal(lm_supp_rule_count(&s), 4);
    assert_string_equal(lm_supp_rule_text(&s, 0), "foo");      /* CR cut */
    assert_string_equal(lm_supp_rule_text(&s, 1), "^bar$");
    assert_string_equal(lm_supp_rule_text(&s, 2), "a:b");
    assert_string_equal(lm_supp_rule_text(&s, 3), "last");
    lm_supp_free(&s);
    free(log);
}

static void test_parse_malformed(void **state)
{
    (void)state;
    struct lm_supp_set s;
    log_begin();
    int bad = parse(&s, "bad.supp",
                    "leak:good1\n"
                    "garbage\r\n"
                    "race:foo\n"
                    "leak:\n"
                    "}\n"
                    "{\n"
                    "   v1\n"
                    "   Memcheck:Leak\n"
                    "   match-leak-kinds: definite,lost\n"
                    "   fun:x\n"
                    "}\n"
                    "{\n"
                    "   v2\n"
                    "   Memcheck:Leak\n"
                    "   fun:ok\n"
                    "   bogus:frame\n"
                    "}\n"
                    "{\n"
                    "   v3\n"
                    "   Memcheck:Leak\n"
                    "}\n"
                    "leak:good2\n"
                    "{\n"
                    "   v4\n"
                    "   Memcheck:Leak\n"
                    "   fun:*\n");
    char *log = log_end();
    assert_int_equal(bad, 8);
    char want[2048];
    const char *p = prefix();
    snprintf(want, sizeof want,
             "%ssuppressions bad.supp:2: expected 'leak:PATTERN' or '{', got 'garbage'\n"
             "%ssuppressions bad.supp:3: unknown suppression type 'race' (leakmark knows leak:)\n"
             "%ssuppressions bad.supp:4: empty pattern after 'leak:'\n"
             "%ssuppressions bad.supp:5: '}' without '{'\n"
             "%ssuppressions bad.supp:9: unknown leak kind 'lost' in match-leak-kinds"
             " (definite, indirect, possible, reachable, all, none)\n"
             "%ssuppressions bad.supp:16: expected fun:, obj:, src:, '...' or '}', got 'bogus:frame'\n"
             "%ssuppressions bad.supp:18: suppression 'v3' has no fun:/obj:/src:/... line\n"
             "%ssuppressions bad.supp:23: suppression block not closed by '}'\n",
             p, p, p, p, p, p, p, p);
    assert_string_equal(log, want);
    /* the valid entries stay */
    assert_int_equal(lm_supp_rule_count(&s), 2);
    assert_string_equal(lm_supp_rule_text(&s, 0), "good1");
    assert_string_equal(lm_supp_rule_text(&s, 1), "good2");
    lm_supp_free(&s);
    free(log);
}

static void test_parse_valgrind(void **state)
{
    (void)state;
    struct lm_supp_set s;
    log_begin();
    int bad = parse(&s, "vg.supp",
                    "# generated by valgrind --gen-suppressions=all\r\n"
                    "{\r\n"
                    "   <insert_a_suppression_name_here>\r\n"
                    "   Memcheck:Leak\r\n"
                    "   match-leak-kinds: definite\r\n"
                    "   fun:malloc\r\n"
                    "   fun:fr_alpha\r\n"
                    "   # a comment inside\r\n"
                    "   obj:/usr/bin/*\r\n"
                    "   ...\r\n"
                    "}\r\n"
                    "{\n"
                    "   not-a-leak\n"
                    "   Memcheck:Cond\n"
                    "   fun:whatever\n"
                    "}\n"
                    "{\n"
                    "   race\n"
                    "   Helgrind:Race\n"
                    "   fun:x\n"
                    "}\n"
                    "{\n"
                    "   both-tools\n"
                    "   Memcheck,Addrcheck:Leak\n"
                    "   src:test_suppress.c:12\n"
                    "}\n");
    char *log = log_end();
    assert_int_equal(bad, 0);
    assert_string_equal(log, "");
    assert_int_equal(lm_supp_rule_count(&s), 2);               /* Cond, Race ignored */
    assert_string_equal(lm_supp_rule_text(&s, 0), "<insert_a_suppression_name_here>");
    assert_string_equal(lm_supp_rule_text(&s, 1), "both-tools");
    lm_supp_free(&s);
    free(log);
}

/* An unreadable file: one line, no suppressions. */
static void test_unreadable(void **state)
{
    (void)state;
    struct lm_supp_set s;
    lm_supp_init(&s);
    log_begin();
    int err = lm_supp_load(&s, "/nonexistent/x.supp");
    char *log = log_end();
    assert_int_equal(err, 2);
    char want[256];
    snprintf(want, sizeof want, "%ssuppressions: cannot read '/nonexistent/x.supp': errno 2"
             " (no such file); no suppressions\n", prefix());
    assert_string_equal(log, want);
    assert_true(lm_supp_empty(&s));
    lm_supp_free(&s);
    free(log);
}

/* ---- matching stacks ---- */

/* Rule index hiding (kind, stack) under the suppressions in text. */
static uint32_t match(const char *text, uint32_t stack, unsigned kind)
{
    struct lm_supp_set s;
    assert_int_equal(parse(&s, "t.supp", text), 0);
    uint32_t r = lm_supp_match(&s, stack, kind);
    lm_supp_free(&s);
    return r;
}
static bool hides(const char *text, uint32_t stack)
{
    return match(text, stack, LM_SUPP_DEFINITE) != LM_SUPP_NONE;
}
#define VG(frames) "{\n n\n Memcheck:Leak\n" frames "}\n"

static void test_lsan_stacks(void **state)
{
    (void)state;
    lm_symbolize_begin();
    uint32_t abc = stack_of(3, fr_alpha, fr_beta, fr_gamma);
    assert_true(hides("leak:fr_beta\n", abc));                 /* any frame */
    assert_true(hides("leak:beta\n", abc));                    /* substring */
    assert_true(hides("leak:^fr_gamma$\n", abc));
    assert_false(hides("leak:^beta\n", abc));
    assert_false(hides("leak:fr_delta\n", abc));
    assert_true(hides("leak:test_suppress.c\n", abc));         /* source file */
    assert_true(hides("leak:tests/test_suppress$\n", abc));    /* module path */
    assert_true(hides("leak:fr_*a$\n", abc));
    /* frame-major order: frame 0 (fr_alpha) is tried against every rule
     * before frame 1, so the second rule wins */
    assert_int_equal(match("leak:fr_gamma\nleak:fr_alpha\n", abc, LM_SUPP_DEFINITE), 1);
    /* within a frame, the module comes before the function */
    assert_int_equal(match("leak:fr_alpha\nleak:test_suppress$\n", abc, LM_SUPP_DEFINITE), 1);
    /* every kind */
    assert_int_equal(match("leak:fr_beta\n", abc, LM_SUPP_POSSIBLE), 0);
    assert_int_equal(match("leak:fr_beta\n", abc, LM_SUPP_INDIRECT), 0);
    lm_symbolize_end();
}

static void test_valgrind_stacks(void **state)
{
    (void)state;
    lm_symbolize_begin();
    uint32_t abc = stack_of(3, fr_alpha, fr_beta, fr_gamma);
    assert_true(hides(VG(" fun:fr_alpha\n fun:fr_beta\n"), abc));  /* top of the stack */
    assert_false(hides(VG(" fun:fr_beta\n"), abc));               /* not the top */
    assert_true(hides(VG(" ...\n fun:fr_beta\n"), abc));
    assert_true(hides(VG(" fun:fr_alpha\n ...\n fun:fr_gamma\n"), abc));
    assert_true(hides(VG(" fun:fr_alpha\n ...\n fun:fr_beta\n fun:fr_gamma\n"), abc)); /* ... = 0 */
    assert_false(hides(VG(" fun:fr_alpha\n fun:fr_gamma\n"), abc));
    assert_false(hides(VG(" fun:fr_alpha\n fun:fr_beta\n fun:fr_gamma\n fun:fr_delta\n"), abc));
    assert_false(hides(VG(" ...\n fun:fr_delta\n"), abc));
    assert_true(hides(VG(" fun:fr_?lpha\n fun:*\n fun:fr_g*\n"), abc));
    assert_false(hides(VG(" fun:fr_alph\n"), abc));                /* whole name */
    /* valgrind's own top frame: the allocation function */
    assert_true(hides(VG(" fun:malloc\n fun:fr_alpha\n fun:fr_beta\n"), abc));
    assert_true(hides(VG(" fun:_Znwm\n fun:fr_alpha\n"), abc));
    assert_false(hides(VG(" fun:malloc\n fun:fr_beta\n"), abc));
    /* obj: is the module path, fun: the function */
    assert_true(hides(VG(" obj:*/test_suppress\n fun:fr_beta\n"), abc));
    assert_false(hides(VG(" obj:fr_alpha\n"), abc));
    assert_false(hides(VG(" fun:*/test_suppress\n"), abc));
    uint32_t libc = stack_of(2, (void (*)(void))getpid, fr_alpha);
    assert_true(hides(VG(" obj:*libc.so*\n fun:fr_alpha\n"), libc));
    assert_false(hides(VG(" obj:*test_suppress\n"), libc));
    /* src:FILE[:LINE] */
    assert_true(hides(VG(" src:test_suppress.c\n"), abc));
    assert_false(hides(VG(" src:other.c\n"), abc));
    lm_symbolize_end();
}

static void test_match_leak_kinds(void **state)
{
    (void)state;
    lm_symbolize_begin();
    uint32_t abc = stack_of(3, fr_alpha, fr_beta, fr_gamma);
    const char *poss = "{\n n\n Memcheck:Leak\n match-leak-kinds: possible\n fun:fr_alpha\n}\n";
    assert_int_equal(match(poss, abc, LM_SUPP_POSSIBLE), 0);
    assert_int_equal(match(poss, abc, LM_SUPP_DEFINITE), LM_SUPP_NONE);
    assert_int_equal(match(poss, abc, LM_SUPP_INDIRECT), LM_SUPP_NONE);
    const char *two = "{\n d\n Memcheck:Leak\n match-leak-kinds: definite,indirect\n fun:fr_alpha\n}\n"
                      "{\n a\n Memcheck:Leak\n match-leak-kinds: all\n fun:fr_alpha\n}\n"
                      "{\n r\n Memcheck:Leak\n match-leak-kinds: reachable\n fun:*\n}\n";
    assert_int_equal(match(two, abc, LM_SUPP_DEFINITE), 0);
    assert_int_equal(match(two, abc, LM_SUPP_INDIRECT), 0);
    assert_int_equal(match(two, abc, LM_SUPP_POSSIBLE), 1);
    const char *reach = "{\n r\n Memcheck:Leak\n match-leak-kinds: reachable\n fun:*\n}\n";
    assert_int_equal(match(reach, abc, LM_SUPP_DEFINITE), LM_SUPP_NONE);
    const char *none = "{\n r\n Memcheck:Leak\n match-leak-kinds: none\n fun:*\n}\n";
    assert_int_equal(match(none, abc, LM_SUPP_DEFINITE), LM_SUPP_NONE);
    /* LSan rules come before valgrind blocks, whatever the file order */
    assert_int_equal(match(VG(" fun:fr_alpha\n") "leak:fr_gamma\n", abc, LM_SUPP_DEFINITE), 1);
    lm_symbolize_end();
}

/* One match per stack id, whatever the kind and however many blocks. */
static void test_cache(void **state)
{
    (void)state;
    lm_symbolize_begin();
    uint32_t abc = stack_of(3, fr_alpha, fr_beta, fr_gamma);
    uint32_t dab = stack_of(2, fr_delta, fr_beta);
    uint32_t gd = stack_of(2, fr_gamma, fr_delta);
    struct lm_supp_set s;
    assert_int_equal(parse(&s, "c.supp", "leak:fr_beta\n"), 0);
    struct lm_symbolize_stats st0, st1;
    assert_int_equal(lm_supp_match(&s, abc, LM_SUPP_DEFINITE), 0);
    lm_symbolize_get_stats(&st0);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(lm_supp_match(&s, abc, i % 2 ? LM_SUPP_INDIRECT : LM_SUPP_POSSIBLE), 0);
    lm_symbolize_get_stats(&st1);
    assert_int_equal(s.matches, 1);
    assert_int_equal(st1.lookups, st0.lookups);            /* no symbolization */
    assert_int_equal(lm_supp_match(&s, dab, LM_SUPP_DEFINITE), 0);
    assert_int_equal(lm_supp_match(&s, gd, LM_SUPP_DEFINITE), LM_SUPP_NONE);
    assert_int_equal(lm_supp_match(&s, gd, LM_SUPP_DEFINITE), LM_SUPP_NONE);
    assert_int_equal(s.matches, 3);
    /* many stacks: the cache grows and keeps every decision */
    uintptr_t pcs[2] = { (uintptr_t)fr_beta + 1, 0 };
    for (uintptr_t i = 0; i < 2000; i++) {
        pcs[1] = 0x1000 + i;
        assert_int_equal(lm_supp_match(&s, lm_stackdepot_put(pcs, 2), LM_SUPP_DEFINITE), 0);
    }
    assert_int_equal(s.matches, 2003);
    for (uintptr_t i = 0; i < 2000; i++) {
        pcs[1] = 0x1000 + i;
        assert_int_equal(lm_supp_match(&s, lm_stackdepot_put(pcs, 2), LM_SUPP_DEFINITE), 0);
    }
    assert_int_equal(s.matches, 2003);
    lm_supp_free(&s);
    lm_symbolize_end();
}

/* ---- end to end through lm_report_write ---- */

static void *roots[8];
static void *blocks[64];
static size_t nblocks;
static char tmpdir[64];

static void *blk(size_t size, uint32_t stack)
{
    lm_tls_stack_id = stack;
    void *p = lm_calloc(1, size);
    lm_tls_stack_id = 0;
    assert_non_null(p);
    blocks[nblocks++] = p;
    return p;
}
static void set_ptr(void *b, size_t off, const void *target)
{
    memcpy((char *)b + off, &target, sizeof target);
}

static long jnum(const char *doc, const char *key)
{
    char k[96];
    snprintf(k, sizeof k, "\"%s\": ", key);
    const char *p = strstr(doc, k);
    if (!p)
        fail_msg("no %s in %s", k, doc);
    return strtol(p + strlen(k), NULL, 10);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_end_to_end(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/lm-test-supp-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    char supp[128], json[128];
    snprintf(supp, sizeof supp, "%s/s.supp", tmpdir);
    snprintf(json, sizeof json, "%s/r.json", tmpdir);
    FILE *f = fopen(supp, "w");
    assert_non_null(f);
    fputs("# tree and cycle hidden, possible only as possible\n"
          "leak:tree_site\r\n"
          "oops\n"
          "{\n   cyc\n   Memcheck:Leak\n   match-leak-kinds: definite\n"
          "   fun:malloc\n   fun:cycle_site\n}\n"
          "{\n   poss\n   Memcheck:Leak\n   match-leak-kinds: possible\n   fun:poss_site\n}\n",
          f);
    fclose(f);

    uint32_t s_tree = stack_of(2, tree_site, fr_alpha), s_kid = stack_of(2, fr_beta, fr_alpha);
    uint32_t s_cyc = stack_of(2, cycle_site, fr_alpha), s_poss = stack_of(2, poss_site, fr_alpha);
    uint32_t s_plain = stack_of(2, plain_site, fr_alpha), s_shared = stack_of(1, shared_site);
    /* plain definite A (100) holds X (40); the tree T (16) holds K1, K2
     * (200 each) and X as well: X is reachable from a suppressed block, so
     * suppressed too (LeakSanitizer's rule) */
    char *a = blk(100, s_plain), *x = blk(40, s_shared);
    char *t = blk(16, s_tree), *k1 = blk(200, s_kid), *k2 = blk(200, s_kid);
    set_ptr(a, 0, x);
    set_ptr(t, 0, k1);
    set_ptr(t, 8, k2);
    set_ptr(k2, 0, x);
    /* a two-block cycle (48 each) */
    char *c1 = blk(48, s_cyc), *c2 = blk(48, s_cyc);
    set_ptr(c1, 0, c2);
    set_ptr(c2, 0, c1);
    /* possible P (64) from s_poss: hidden; definite D (32) from s_poss: the
     * kind filter keeps it */
    char *p = blk(64, s_poss);
    roots[0] = p + 8;
    blk(32, s_poss);
    roots[1] = blk(24, 0);                     /* reachable */
    a = x = t = k1 = k2 = c1 = c2 = p = NULL;

    struct lm_roots r;
    lm_roots_init(&r);
    assert_int_equal(lm_roots_add(&r, (uintptr_t)roots, (uintptr_t)roots + sizeof roots,
                                  LM_ROOT_USER), 0);
    struct lm_mark_result res;
    lm_mark_result_init(&res);
    assert_int_equal(lm_mark_run(&r, &res), 0);
    lm_roots_free(&r);
    assert_int_equal(res.definite.blocks, 5);      /* A, T, D, the cycle */
    assert_int_equal(res.indirect.blocks, 3);
    assert_int_equal(res.cycles, 1);

    lm_options_parse(&lm_options, NULL);
    lm_options.report = 1;
    strcpy(lm_options.report_path, json);
    strcpy(lm_options.suppressions, supp);
    size_t shown = 0;
    struct lm_report_info info = { .trigger = "api", .reported_out = &shown };
    log_begin();
    assert_int_equal(lm_report_write(&res, &info), 0);
    char *text = log_end();
    lm_mark_result_free(&res);
    if (getenv("LM_TEST_SUPP_SHOW"))
        fprintf(stderr, "%s\n%s", text, slurp(json));

    const char *doc = slurp(json);
    assert_int_equal(jnum(doc, "definite_blocks"), 2);             /* A, D */
    assert_int_equal(jnum(doc, "definite_bytes"), 132);
    assert_int_equal(jnum(doc, "indirect_blocks"), 0);
    assert_int_equal(jnum(doc, "indirect_bytes"), 0);
    assert_int_equal(jnum(doc, "possible_blocks"), 0);
    assert_int_equal(jnum(doc, "reachable_blocks"), 1);
    assert_int_equal(jnum(doc, "suppressed_blocks"), 7);
    assert_int_equal(jnum(doc, "suppressed_bytes"), 16 + 400 + 40 + 96 + 64);
    assert_int_equal(jnum(doc, "live_blocks"), 10);
    assert_int_equal(jnum(doc, "cycles"), 0);
    assert_int_equal(shown, 2);
    assert_null(strstr(doc, "\"in_cycle\": true"));
    const char *cyc = strstr(doc, "\"cycles\": [");
    assert_non_null(cyc);
    assert_int_equal(cyc[strlen("\"cycles\": [")], ']');          /* empty */
    /* hits: only the blocks a rule matched itself */
    assert_non_null(strstr(doc, "{\"type\": \"leak\", \"rule\": \"tree_site\", \"line\": 2,"
                                " \"blocks\": 1, \"bytes\": 16}"));
    assert_non_null(strstr(doc, "{\"type\": \"valgrind\", \"rule\": \"cyc\", \"line\": 4,"
                                " \"blocks\": 2, \"bytes\": 96}"));
    assert_non_null(strstr(doc, "{\"type\": \"valgrind\", \"rule\": \"poss\", \"line\": 11,"
                                " \"blocks\": 1, \"bytes\": 64}"));

    char want[512];
    snprintf(want, sizeof want, "%ssuppressions %s:3: expected 'leak:PATTERN' or '{', got 'oops'\n",
             prefix(), supp);
    assert_true(strncmp(text, want, strlen(want)) == 0);
    assert_null(strstr(text, "Leaked cycle"));
    assert_null(strstr(text, "Indirect leak"));
    assert_non_null(strstr(text, "Definite leak #0: 100 bytes in 1 block (young generation), allocated at"));
    assert_non_null(strstr(text, "Definite leak #1: 32 bytes in 1 block (young generation), allocated at"));
    const char *used = strstr(text, "Suppressions used:\n");
    assert_non_null(used);
    assert_non_null(strstr(used, "        1         16 leak:tree_site\n"));
    assert_non_null(strstr(used, "        2         96 {cyc} (line 4)\n"));
    assert_non_null(strstr(used, "        1         64 {poss} (line 11)\n"));
    const char *sum = strstr(text, "SUMMARY: leakmark: 132 bytes lost in 2 blocks (definite 132 in 2,"
                                   " indirect 0 in 0), 0 cycles, possible 0 in 0, reachable 24 in 1,"
                                   " suppressed 616 in 7\n");
    if (!sum)
        fail_msg("SUMMARY line not as expected in:\n%s", text);
    assert_true(used < sum);
    free(text);

    /* without the option nothing is suppressed */
    lm_options.suppressions[0] = 0;
    lm_roots_init(&r);
    assert_int_equal(lm_roots_add(&r, (uintptr_t)roots, (uintptr_t)roots + sizeof roots,
                                  LM_ROOT_USER), 0);
    lm_mark_result_init(&res);
    assert_int_equal(lm_mark_run(&r, &res), 0);
    lm_roots_free(&r);
    lm_options.quiet = true;
    assert_int_equal(lm_report_write(&res, NULL), 0);
    lm_mark_result_free(&res);
    doc = slurp(json);
    assert_int_equal(jnum(doc, "suppressed_blocks"), 0);
    assert_int_equal(jnum(doc, "definite_blocks"), 5);
    assert_int_equal(jnum(doc, "cycles"), 1);

    for (size_t i = 0; i < nblocks; i++)
        lm_free(blocks[i]);
    unlink(supp);
    unlink(json);
    rmdir(tmpdir);
    lm_options_parse(&lm_options, NULL);
}

static int setup(void **state)
{
    (void)state;
    return lm_init() ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lsan_matcher),
        cmocka_unit_test(test_glob_matcher),
        cmocka_unit_test(test_parse_lsan),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_parse_valgrind),
        cmocka_unit_test(test_unreadable),
        cmocka_unit_test(test_lsan_stacks),
        cmocka_unit_test(test_valgrind_stacks),
        cmocka_unit_test(test_match_leak_kinds),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_end_to_end),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
