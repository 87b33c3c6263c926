/*
 * test_report.c - preload/report.h on synthetic heaps built with lm_malloc
 * and marked from explicit roots, as test_mark.c does.  The JSON report is
 * parsed back with the small JSON reader below (so its syntax is checked
 * too) and every number of the contract is compared with what the test
 * built: summary counts, leak groups in bytes order with their kinds and
 * stacks (function and line of the capture site), cycles with their
 * members (addresses, sizes, "leak" indexes) and internal edges with
 * offsets.  The text report is captured through lm_log_set_fd.  Also:
 * unwritable report_path, %p expansion, no ".tmp" left behind, report
 * options (text only, quiet), a clean heap, and text caps on many cycles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "backtrace.h"
#include "block.h"
#include "log.h"
#include "mark.h"
#include "options.h"
#include "report.h"
#include "stackdepot.h"

#define NOIPA __attribute__((noinline, noipa))

/* ---- a small JSON reader (libc malloc: this is the test, not preload) ---- */

enum jt { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };
struct jv {
    enum jt t;
    double num;
    bool b;
    char *str;
    size_t n;               /* items of ARR / OBJ */
    char **keys;            /* OBJ */
    struct jv **items;
};

static const char *jp;

static void ws(void) { while (*jp == ' ' || *jp == '\n' || *jp == '\t' || *jp == '\r') jp++; }

static char *jstring(void)
{
    assert_int_equal(*jp, '"');
    jp++;
    char *out = malloc(strlen(jp) + 1), *o = out;
    while (*jp != '"') {
        assert_true(*jp && (unsigned char)*jp >= 0x20);
        if (*jp == '\\') {
            jp++;
            switch (*jp) {
            case 'n': *o++ = '\n'; break;
            case 't': *o++ = '\t'; break;
            case 'r': *o++ = '\r'; break;
            case 'u': {
                unsigned v;
                assert_int_equal(sscanf(jp + 1, "%4x", &v), 1);
                *o++ = (char)v;
                jp += 4;
                break;
            }
            default: *o++ = *jp;
            }
            jp++;
        } else {
            *o++ = *jp++;
        }
    }
    jp++;
    *o = 0;
    return out;
}

static struct jv *jvalue(void)
{
    struct jv *v = calloc(1, sizeof *v);
    ws();
    if (*jp == '{' || *jp == '[') {
        bool obj = *jp == '{';
        char close = obj ? '}' : ']';
        v->t = obj ? J_OBJ : J_ARR;
        jp++;
        ws();
        if (*jp == close) { jp++; return v; }
        for (;;) {
            v->items = realloc(v->items, (v->n + 1) * sizeof *v->items);
            v->keys = realloc(v->keys, (v->n + 1) * sizeof *v->keys);
            v->keys[v->n] = NULL;
            if (obj) {
                ws();
                v->keys[v->n] = jstring();
                ws();
                assert_int_equal(*jp, ':');
                jp++;
            }
            v->items[v->n++] = jvalue();
            ws();
            if (*jp == ',') { jp++; continue; }
            assert_int_equal(*jp, close);
            jp++;
            return v;
        }
    }
    if (*jp == '"') { v->t = J_STR; v->str = jstring(); return v; }
    if (!strncmp(jp, "true", 4)) { v->t = J_BOOL; v->b = true; jp += 4; return v; }
    if (!strncmp(jp, "false", 5)) { v->t = J_BOOL; jp += 5; return v; }
    if (!strncmp(jp, "null", 4)) { jp += 4; return v; }
    char *end;
    v->t = J_NUM;
    v->num = strtod(jp, &end);
    assert_true(end > jp);
    jp = end;
    return v;
}

static struct jv *jparse(const char *text)
{
    jp = text;
    struct jv *v = jvalue();
    ws();
    assert_int_equal(*jp, 0);           /* nothing after the document */
    return v;
}

static void jfree(struct jv *v)
{
    for (size_t i = 0; i < v->n; i++) {
        jfree(v->items[i]);
        free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

static struct jv *jget(const struct jv *o, const char *key)
{
    assert_int_equal(o->t, J_OBJ);
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->keys[i], key))
            return o->items[i];
    return NULL;
}
static struct jv *jmust(const struct jv *o, const char *key)
{
    struct jv *v = jget(o, key);
    if (!v)
        fail_msg("missing key \"%s\"", key);
    return v;
}
static uint64_t jnum(const struct jv *o, const char *key)
{
    struct jv *v = jmust(o, key);
    assert_int_equal(v->t, J_NUM);
    return (uint64_t)v->num;
}
static const char *jstr(const struct jv *o, const char *key)
{
    struct jv *v = jmust(o, key);
    assert_int_equal(v->t, J_STR);
    return v->str;
}
static bool jbool(const struct jv *o, const char *key)
{
    struct jv *v = jmust(o, key);
    assert_int_equal(v->t, J_BOOL);
    return v->b;
}
static struct jv *jarr(const struct jv *o, const char *key)
{
    struct jv *v = jmust(o, key);
    assert_int_equal(v->t, J_ARR);
    return v;
}
static uint64_t jhex(const struct jv *o, const char *key)
{
    const char *s = jstr(o, key);
    assert_true(s[0] == '0' && s[1] == 'x');
    return strtoull(s + 2, NULL, 16);
}

/* ---- fixtures ---- */

#define MAXB 1024
static void *roots[16];
static void *blocks[MAXB];
static size_t nblocks;
static char tmpdir[64];
static char json_path[128];

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Files in tmpdir; also fails on any leftover temporary file. */
static int dir_entries(void)
{
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        assert_null(strstr(e->d_name, ".tmp"));
        n++;
    }
    closedir(d);
    return n;
}

static void clear_dir(void)
{
    DIR *d = opendir(tmpdir);
    char p[512];
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        unlink(p);
    }
    closedir(d);
}

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/lm-test-report-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    return lm_init() ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    clear_dir();
    rmdir(tmpdir);
    lm_options_parse(&lm_options, NULL);    /* the exit check: no JSON */
    return 0;
}

static int teardown_each(void **state)
{
    (void)state;
    for (size_t i = 0; i < nblocks; i++)
        lm_free(blocks[i]);
    nblocks = 0;
    memset(roots, 0, sizeof roots);
    lm_tls_stack_id = 0;
    lm_log_set_fd(2);
    clear_dir();
    return 0;
}

static int setup_each(void **state)
{
    (void)state;
    lm_options_parse(&lm_options, NULL);
    lm_options.report = 1;                  /* json */
    lm_options.quiet = false;
    lm_options.verbosity = 1;
    snprintf(json_path, sizeof json_path, "%s/report.json", tmpdir);
    strcpy(lm_options.report_path, json_path);
    return 0;
}

static void *blk(size_t size, uint32_t stack)
{
    lm_tls_stack_id = stack;
    void *p = lm_calloc(1, size);
    lm_tls_stack_id = 0;
    assert_non_null(p);
    assert_true(nblocks < MAXB);
    blocks[nblocks++] = p;
    return p;
}

static void set_ptr(void *blockp, size_t offset, const void *target)
{
    memcpy((char *)blockp + offset, &target, sizeof target);
}

static void run(struct lm_mark_result *res)
{
    struct lm_roots r;
    lm_roots_init(&r);
    assert_int_equal(lm_roots_add(&r, (uintptr_t)roots, (uintptr_t)roots + sizeof roots,
                                  LM_ROOT_USER), 0);
    lm_mark_result_init(res);
    assert_int_equal(lm_mark_run(&r, res), 0);
    assert_true(res->graph_ok);
    lm_roots_free(&r);
}

/* Captures the log fd into a memfd; log_end returns what was written. */
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

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void sort3(char **p)
{
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if ((uintptr_t)p[j] < (uintptr_t)p[i]) {
                char *t = p[i]; p[i] = p[j]; p[j] = t;
            }
}

/* ---- the main scenario ---- */

struct site { uint32_t id; uintptr_t pc; int line; };
static struct site S1, S2, S3, S4, S5;

/* Each capture is a different line of this function: distinct stacks
 * whose frame 0 is here at that line. */
static NOIPA void capture_sites(void)
{
    uintptr_t pcs[8];
    int n;
#define SITE(s) do { n = lm_backtrace(pcs, 8, 0); (s).line = __LINE__; \
                     assert_true(n > 0); (s).pc = pcs[0]; \
                     (s).id = lm_stackdepot_put(pcs, n); assert_true((s).id != 0); } while (0)
    SITE(S1);
    SITE(S2);
    SITE(S3);
    SITE(S4);
    SITE(S5);
#undef SITE
}

static char *cyc[3], *self_loop, *tree, *kid1, *kid2, *poss, *reach;

/* cycle A->B->C->A at offset 0 (48 bytes each, S1), self loop D+8 -> D
 * (64, S2), tree T (16, S3) +0 -> kid1, +8 -> kid2 (200 each, S4),
 * possible P (100, S5) through an interior root, reachable R (32, S1). */
static void build_heap(void)
{
    capture_sites();
    for (int i = 0; i < 3; i++)
        cyc[i] = blk(48, S1.id);
    sort3(cyc);                      /* members come in address order */
    set_ptr(cyc[0], 0, cyc[1]);
    set_ptr(cyc[1], 0, cyc[2]);
    set_ptr(cyc[2], 0, cyc[0]);
    self_loop = blk(64, S2.id);
    set_ptr(self_loop, 8, self_loop);
    tree = blk(16, S3.id);
    kid1 = blk(200, S4.id);
    kid2 = blk(200, S4.id);
    set_ptr(tree, 0, kid1);
    set_ptr(tree, 8, kid2);
    poss = blk(100, S5.id);
    roots[0] = poss + 8;
    reach = blk(32, S1.id);
    roots[1] = reach;
}

static const char *expected_summary =
    "SUMMARY: leakmark: 624 bytes lost in 7 blocks (definite 224 in 5, indirect 400 in 2),"
    " 2 cycles, possible 100 in 1, reachable 32 in 1, suppressed 77 in 3\n";

static void check_stack(const struct jv *leak, const struct site *s)
{
    struct jv *st = jarr(leak, "stack");
    assert_true(st->n >= 2);
    const struct jv *f0 = st->items[0];
    assert_int_equal(jhex(f0, "pc"), s->pc);
    assert_string_equal(jstr(f0, "function"), "capture_sites");
    assert_int_equal(jnum(f0, "line"), s->line);
    assert_non_null(strstr(jstr(f0, "file"), "test_report.c"));
    assert_non_null(strstr(jstr(f0, "module"), "test_report"));
    assert_true(jhex(f0, "offset") < s->pc);
    for (size_t i = 0; i < st->n; i++) {     /* pc/module/offset always */
        jhex(st->items[i], "pc");
        jstr(st->items[i], "module");
        jhex(st->items[i], "offset");
    }
}

static void test_json_report(void **state)
{
    (void)state;
    build_heap();
    struct lm_mark_result res;
    run(&res);
    struct lm_report_info info = { .trigger = "api", .scan_ms = 1.25, .pause_ms = 0.5,
                                   .suppressed_blocks = 3, .suppressed_bytes = 77 };
    log_begin();
    assert_int_equal(lm_report_write(&res, &info), 0);
    char *text = log_end();
    lm_mark_result_free(&res);

    char *doc = read_file(json_path);
    assert_non_null(doc);
    if (getenv("LM_TEST_REPORT_SHOW"))          /* to look at both reports */
        fprintf(stderr, "%s\n%s", text, doc);
    assert_int_equal(dir_entries(), 1);
    struct jv *root = jparse(doc);
    assert_string_equal(jstr(root, "tool"), "leakmark");
    assert_int_equal(jnum(root, "schema"), 1);
    assert_string_equal(jstr(root, "version"), LM_VERSION);
    assert_int_equal(jnum(root, "pid"), getpid());
    assert_non_null(strstr(jstr(root, "exe"), "/test_report"));
    assert_string_equal(jstr(root, "trigger"), "api");

    struct jv *sum = jmust(root, "summary");
    assert_int_equal(jnum(sum, "live_blocks"), 9);
    assert_int_equal(jnum(sum, "live_bytes"), 3 * 48 + 64 + 16 + 400 + 100 + 32);
    assert_int_equal(jnum(sum, "definite_blocks"), 5);
    assert_int_equal(jnum(sum, "definite_bytes"), 224);
    assert_int_equal(jnum(sum, "indirect_blocks"), 2);
    assert_int_equal(jnum(sum, "indirect_bytes"), 400);
    assert_int_equal(jnum(sum, "possible_blocks"), 1);
    assert_int_equal(jnum(sum, "possible_bytes"), 100);
    assert_int_equal(jnum(sum, "reachable_blocks"), 1);
    assert_int_equal(jnum(sum, "reachable_bytes"), 32);
    assert_int_equal(jnum(sum, "suppressed_blocks"), 3);
    assert_int_equal(jnum(sum, "suppressed_bytes"), 77);
    assert_int_equal(jnum(sum, "cycles"), 2);
    assert_true(jmust(sum, "scan_ms")->num == 1.25);
    assert_true(jmust(sum, "pause_ms")->num == 0.5);

    /* groups, largest first */
    struct jv *leaks = jarr(root, "leaks");
    static const struct { const char *kind; size_t blocks, bytes; bool cyc; struct site *s; } want[] = {
        { "indirect", 2, 400, false, &S4 }, { "definite", 3, 144, true, &S1 },
        { "possible", 1, 100, false, &S5 }, { "definite", 1, 64, true, &S2 },
        { "definite", 1, 16, false, &S3 },
    };
    assert_int_equal(leaks->n, 5);
    for (size_t i = 0; i < leaks->n; i++) {
        const struct jv *l = leaks->items[i];
        assert_string_equal(jstr(l, "kind"), want[i].kind);
        assert_int_equal(jnum(l, "blocks"), want[i].blocks);
        assert_int_equal(jnum(l, "bytes"), want[i].bytes);
        assert_int_equal(jbool(l, "in_cycle"), want[i].cyc);
        check_stack(l, want[i].s);
        if (i)
            assert_true(jnum(l, "bytes") <= jnum(leaks->items[i - 1], "bytes"));
    }
    assert_int_equal(jnum(leaks->items[0], "held_by"), 4);   /* the tree's root */

    /* cycles: find the 3-cycle and the self loop */
    struct jv *cycles = jarr(root, "cycles");
    assert_int_equal(cycles->n, 2);
    const struct jv *c3 = NULL, *c1 = NULL;
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(jnum(cycles->items[i], "id"), i);
        if (jnum(cycles->items[i], "blocks") == 3) c3 = cycles->items[i];
        if (jnum(cycles->items[i], "blocks") == 1) c1 = cycles->items[i];
    }
    assert_non_null(c3);
    assert_non_null(c1);
    assert_int_equal(jnum(c3, "bytes"), 144);
    assert_true(jbool(c3, "root"));
    struct jv *m = jarr(c3, "members");
    assert_int_equal(m->n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(jhex(m->items[i], "address"), (uintptr_t)cyc[i]);
        assert_int_equal(jnum(m->items[i], "size"), 48);
        uint64_t li = jnum(m->items[i], "leak");
        assert_true(li < leaks->n);
        assert_string_equal(jstr(leaks->items[li], "kind"), "definite");
        assert_int_equal(jnum(leaks->items[li], "bytes"), 144);
    }
    struct jv *e = jarr(c3, "edges");
    assert_int_equal(e->n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(jnum(e->items[i], "from"), i);
        assert_int_equal(jnum(e->items[i], "offset"), 0);
        assert_int_equal(jnum(e->items[i], "to"), (i + 1) % 3);
    }
    assert_int_equal(jnum(c1, "bytes"), 64);
    assert_true(jbool(c1, "root"));
    m = jarr(c1, "members");
    assert_int_equal(m->n, 1);
    assert_int_equal(jhex(m->items[0], "address"), (uintptr_t)self_loop);
    assert_int_equal(jnum(m->items[0], "leak"), 3);
    e = jarr(c1, "edges");
    assert_int_equal(e->n, 1);
    assert_int_equal(jnum(e->items[0], "from"), 0);
    assert_int_equal(jnum(e->items[0], "offset"), 8);
    assert_int_equal(jnum(e->items[0], "to"), 0);

    /* the text report: cycles, groups in order, SUMMARY */
    assert_non_null(strstr(text, "A+0 -> B"));
    assert_non_null(strstr(text, "B+0 -> C"));
    assert_non_null(strstr(text, "C+0 -> A"));
    assert_non_null(strstr(text, "A+8 -> A"));
    assert_non_null(strstr(text, "(same stack as A)"));
    char line[256];
    snprintf(line, sizeof line, "[A] 48 bytes at %p", (void *)cyc[0]);
    assert_non_null(strstr(text, line));
    assert_non_null(strstr(text, " in capture_sites "));
    snprintf(line, sizeof line, "test_report.c:%d (", S4.line);
    assert_non_null(strstr(text, line));
    const char *def = strstr(text, "Definite leak #1: 144 bytes in 3 blocks (young generation)");
    const char *ind = strstr(text, "Indirect leak #0: 400 bytes in 2 blocks (young generation), held by leak #4");
    const char *pos = strstr(text, "Possible leak #2: 100 bytes in 1 block (young generation)");
    const char *cy = strstr(text, "Leaked cycle #0");
    const char *sm = strstr(text, expected_summary);
    assert_non_null(def);
    assert_non_null(ind);
    assert_non_null(pos);
    assert_non_null(cy);
    if (!sm)
        fail_msg("no \"%s\" in:\n%s", expected_summary, text);
    assert_true(cy < def && def < ind && ind < pos && pos < sm);
    assert_non_null(strstr(text, "it holds 400 indirectly leaked bytes in 2 blocks"));
    /* a cycle's group points at the stack the cycle printed */
    snprintf(line, sizeof line, "Definite leak #1: 144 bytes in 3 blocks (young generation), in a cycle above, allocated"
             " at capture_sites test_report.c:%d (stack shown in cycle #", S1.line);
    assert_non_null(strstr(text, line));
    jfree(root);
    free(doc);
    free(text);
}

/* Unwritable path: one log line naming it, an error, no crash, no file. */
static void test_unwritable_path(void **state)
{
    (void)state;
    build_heap();
    struct lm_mark_result res;
    run(&res);
    strcpy(lm_options.report_path, "/nonexistent/dir/x.json");
    lm_options.quiet = true;
    log_begin();
    int rc = lm_report_write(&res, NULL);
    char *text = log_end();
    lm_mark_result_free(&res);
    assert_int_not_equal(rc, 0);
    assert_int_equal(count_lines(text), 1);
    assert_non_null(strstr(text, "/nonexistent/dir/x.json"));
    assert_non_null(strstr(text, "errno 2"));
    free(text);
}

/* %p becomes the pid; the rename leaves no temporary file. */
static void test_pid_path(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(lm_report_expand_path(out, sizeof out, "a%pb%%c%x%p", 4242), 14);
    assert_string_equal(out, "a4242b%c%x4242");
    assert_int_equal(lm_report_expand_path(out, 8, "abc%pdef", 123456), 0);

    build_heap();
    struct lm_mark_result res;
    run(&res);
    snprintf(lm_options.report_path, sizeof lm_options.report_path, "%s/r.%%p.json", tmpdir);
    lm_options.quiet = true;
    log_begin();
    assert_int_equal(lm_report_write(&res, NULL), 0);
    char *text = log_end();
    lm_mark_result_free(&res);
    assert_string_equal(text, "");          /* quiet: no text report */
    char path[256];
    snprintf(path, sizeof path, "%s/r.%d.json", tmpdir, (int)getpid());
    char *doc = read_file(path);
    assert_non_null(doc);
    assert_int_equal(dir_entries(), 1);
    struct jv *root = jparse(doc);
    assert_string_equal(jstr(root, "trigger"), "exit");
    jfree(root);
    free(doc);
    free(text);
}

/* No leak: the text is the SUMMARY line alone; report=text writes no JSON. */
static void test_clean_heap(void **state)
{
    (void)state;
    char *a = blk(32, 0), *b = blk(40, 0);
    roots[0] = a;
    set_ptr(a, 0, b);
    struct lm_mark_result res;
    run(&res);
    lm_options.report = 0;
    log_begin();
    assert_int_equal(lm_report_write(&res, NULL), 0);
    char *text = log_end();
    assert_string_equal(text, "SUMMARY: leakmark: no leaks (2 blocks, 72 bytes still reachable)\n");
    assert_int_equal(dir_entries(), 0);
    free(text);

    lm_options.report = 1;
    lm_options.quiet = true;
    assert_int_equal(lm_report_write(&res, NULL), 0);
    lm_mark_result_free(&res);
    char *doc = read_file(json_path);
    struct jv *root = jparse(doc);
    assert_int_equal(jarr(root, "leaks")->n, 0);
    assert_int_equal(jarr(root, "cycles")->n, 0);
    assert_int_equal(jnum(jmust(root, "summary"), "reachable_bytes"), 72);
    jfree(root);
    free(doc);
}

/* 120 two-block cycles, each from its own stack: the text stops at 50
 * cycles, the JSON has all 120, every member's leak index is right. */
static void test_many_cycles(void **state)
{
    (void)state;
    enum { N = 120 };
    uintptr_t pcs[2] = { (uintptr_t)&capture_sites + 1, 0 };
    char *a[N], *b[N];
    for (int i = 0; i < N; i++) {
        pcs[1] = 0x1000 + (uintptr_t)i;          /* distinct synthetic stacks */
        uint32_t id = lm_stackdepot_put(pcs, 2);
        a[i] = blk(16 + 8 * (size_t)i, id);
        b[i] = blk(16 + 8 * (size_t)i, id);
        set_ptr(a[i], 8, b[i]);
        set_ptr(b[i], 0, a[i]);
    }
    struct lm_mark_result res;
    run(&res);
    log_begin();
    assert_int_equal(lm_report_write(&res, NULL), 0);
    char *text = log_end();
    lm_mark_result_free(&res);
    assert_non_null(strstr(text, "Leaked cycle #49:"));
    assert_null(strstr(text, "Leaked cycle #50:"));
    assert_non_null(strstr(text, "... 70 more leaked cycles"));
    assert_non_null(strstr(text, "in 240 blocks"));
    char *doc = read_file(json_path);
    struct jv *root = jparse(doc);
    struct jv *leaks = jarr(root, "leaks"), *cycles = jarr(root, "cycles");
    assert_int_equal(leaks->n, N);
    assert_int_equal(cycles->n, N);
    assert_int_equal(jnum(jmust(root, "summary"), "cycles"), N);
    for (size_t i = 0; i < N; i++) {
        const struct jv *c = cycles->items[i];
        struct jv *m = jarr(c, "members");
        assert_int_equal(m->n, 2);
        size_t sz = jnum(m->items[0], "size");
        assert_int_equal(jnum(c, "bytes"), 2 * sz);
        for (size_t k = 0; k < 2; k++) {
            const struct jv *l = leaks->items[jnum(m->items[k], "leak")];
            assert_int_equal(jnum(l, "bytes"), 2 * sz);
            assert_true(jbool(l, "in_cycle"));
        }
        /* largest first: group i holds the (N-1-i)-th size */
        assert_int_equal(jnum(leaks->items[i], "bytes"), 2 * (16 + 8 * (N - 1 - i)));
        /* the synthetic frame is an unknown pc: module "?", offset = pc */
        struct jv *st = jarr(leaks->items[i], "stack");
        assert_int_equal(st->n, 2);
        assert_string_equal(jstr(st->items[1], "module"), "?");
        assert_int_equal(jhex(st->items[1], "offset"), jhex(st->items[1], "pc"));
        assert_null(jget(st->items[1], "function"));
    }
    jfree(root);
    free(doc);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json_report, setup_each, teardown_each),
        cmocka_unit_test_setup_teardown(test_unwritable_path, setup_each, teardown_each),
        cmocka_unit_test_setup_teardown(test_pid_path, setup_each, teardown_each),
        cmocka_unit_test_setup_teardown(test_clean_heap, setup_each, teardown_each),
        cmocka_unit_test_setup_teardown(test_many_cycles, setup_each, teardown_each),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
