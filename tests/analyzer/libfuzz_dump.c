/*
 * libfuzz_dump.c - libFuzzer target for the analyzer: the input bytes are
 * a heap dump (include/leakmark/dump_format.h), run through everything
 * leakmark-analyze does with one.
 *
 * Owns: LLVMFuzzerInitialize / LLVMFuzzerTestOneInput.  Built two ways:
 *   - by scripts/fuzz.sh with clang -fsanitize=fuzzer,address,undefined
 *     (the fuzzer itself, never in CI);
 *   - by tests/analyzer/CMakeLists.txt with gcc + ASan/UBSan and the
 *     plain main() of fuzz_replay.c, which feeds it every file of
 *     tests/analyzer/corpus/ (ctest analyzer.fuzz_corpus).
 *
 * Per input:
 *   1. an_dump_parse on the bytes.  Rejected: the error must name an
 *      offset within the input and be one non-empty line, and
 *      `report` of the same bytes must exit 2.  Accepted: the model
 *      invariants of model.h are checked one by one.
 *   2. in process: leak groups and graph (checked against the blocks),
 *      the text report (must end with its SUMMARY line), the JSON report
 *      (must be one balanced JSON value with well-formed strings), every
 *      cycle without limits; into memory buffers.  The symboliser's
 *      warnings must be whole lines, one per warning.
 *   3. the subcommands on the same bytes through a memfd
 *      (/proc/self/fd/N: no file on disk): report, report --json, top,
 *      top -n 1, cycles, cycles --dot, diff against itself and against an
 *      empty dump both ways, flamegraph (SVG and folded, live and leaked)
 *      and html (the dump alone, and after the empty one), these two when
 *      linked in.  Each must return 0.
 * Any broken contract calls abort(), which the fuzzer reports as a crash.
 *
 * Global state: stdout goes to /dev/null (the subcommands print there),
 * one memfd for the input and one for the empty dump, made once in
 * LLVMFuzzerInitialize.  Not thread-safe (libFuzzer runs one input at a
 * time per process).  stderr is left alone: the subcommands' warnings go
 * there (scripts/fuzz.sh runs with -close_fd_mask=3).
 */
#include "commands.h"
#include "leaks.h"
#include "reader.h"
#include "report.h"
#include "symbols.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int input_fd = -1, empty_fd = -1;
static char input_path[64], empty_path[64];

/* The sanitizers' runtime prints "SUMMARY: ..." on its report fd, which
 * libFuzzer keeps open when -close_fd_mask closes stderr. */
void __sanitizer_report_error_summary(const char *summary) __attribute__((weak));

static void broken(const char *what, const struct an_dump *d)
{
    char msg[256];
    snprintf(msg, sizeof msg, "libfuzz_dump: contract broken: %s (%zu blocks, %zu edges,"
             " %zu stacks)", what, d ? d->nblocks : 0, d ? d->nedges : 0, d ? d->nstacks : 0);
    if (__sanitizer_report_error_summary)
        __sanitizer_report_error_summary(msg);
    else
        fprintf(stderr, "%s\n", msg);
    abort();
}

/* A valid dump with nothing in it: header, END counting 0 records. */
static size_t empty_dump(uint8_t *out)
{
    memset(out, 0, LM_DUMP_HEADER_SIZE + 9);
    memcpy(out, LM_DUMP_MAGIC, LM_DUMP_MAGIC_SIZE);
    out[8] = LM_DUMP_VERSION;
    out[12] = LM_DUMP_HEADER_SIZE;
    out[52] = 8;                                    /* pointer size */
    uint8_t *end = out + LM_DUMP_HEADER_SIZE;
    end[0] = 0xff; end[1] = 0xff;                   /* LM_REC_END */
    end[4] = 1;                                     /* payload: 1 byte */
    end[8] = 0;                                     /* 0 records before */
    return LM_DUMP_HEADER_SIZE + 9;
}

static int make_memfd(const char *name, char *path, size_t cap)
{
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) {
        perror("libfuzz_dump: memfd_create");
        exit(1);
    }
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

static void fill_memfd(int fd, const uint8_t *data, size_t size)
{
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
        perror("libfuzz_dump: memfd write");
        exit(1);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    if (!freopen("/dev/null", "w", stdout)) {
        perror("libfuzz_dump: /dev/null");
        exit(1);
    }
    input_fd = make_memfd("lm-fuzz-input", input_path, sizeof input_path);
    empty_fd = make_memfd("lm-fuzz-empty", empty_path, sizeof empty_path);
    uint8_t e[LM_DUMP_HEADER_SIZE + 9];
    fill_memfd(empty_fd, e, empty_dump(e));
    return 0;
}

/* ---- step 1: the reader's contract ---- */

static void check_error(const struct an_err *e, size_t size)
{
    if (e->offset > size)
        broken("error offset beyond the input", NULL);
    if (!e->msg[0] || strchr(e->msg, '\n'))
        broken("error message is not one non-empty line", NULL);
}

static void check_model(const struct an_dump *d)
{
    for (size_t i = 0; i < d->nmodules; i++)
        if (d->modules[i].start > d->modules[i].end || !d->modules[i].path)
            broken("module extent or path", d);
    for (size_t i = 0; i < d->nstacks; i++)
        if (!d->stacks[i].id || (i && d->stacks[i].id <= d->stacks[i - 1].id) ||
            (d->stacks[i].nframes && !d->stacks[i].pcs))
            broken("stacks not sorted by unique non-zero id", d);
    for (size_t i = 0; i < d->nblocks; i++) {
        const struct an_block *b = &d->blocks[i], *p = i ? &d->blocks[i - 1] : NULL;
        if (p && (b->addr <= p->addr || b->addr - p->addr < p->size))
            broken("blocks not increasing or overlapping", d);
        if (b->size > UINT64_MAX - b->addr)
            broken("block end overflows", d);
        if (b->cls > LM_DUMP_SUPPRESSED || b->gen > 2)
            broken("block class or generation", d);
        if (b->stack_id ? b->stack >= d->nstacks || d->stacks[b->stack].id != b->stack_id
                        : b->stack != AN_NONE)
            broken("block stack index", d);
    }
    for (size_t i = 0; i < d->nedges; i++) {
        const struct an_edge *x = &d->edges[i];
        if (x->from >= d->nblocks || x->to >= d->nblocks ||
            !an_class_leaked(d->blocks[x->from].cls) || !an_class_leaked(d->blocks[x->to].cls) ||
            x->offset >= d->blocks[x->from].size)
            broken("edge endpoints or offset", d);
    }
    if (d->exe && !d->have_process)
        broken("exe without PROCESS", d);
}

/* ---- step 2: groups, graph and writers in process ---- */

static void check_leaks(const struct an_dump *d, const struct an_leaks *L)
{
    const struct an_graph *g = &L->g;
    uint64_t grouped = 0, leaked = 0, in_groups = 0;
    for (size_t i = 0; i < d->nblocks; i++) {
        unsigned c = d->blocks[i].cls;
        leaked += an_class_leaked(c);
        grouped += an_class_leaked(c) || c == LM_DUMP_POSSIBLE;
    }
    if (g->n != leaked)
        broken("graph nodes != leaked blocks", d);
    for (size_t i = 0; i < L->ngroups; i++)
        in_groups += L->groups[i].blocks;
    if (in_groups != grouped)
        broken("groups do not hold every leaked and possible block once", d);
    uint32_t cycles = 0;
    if (g->scc_start[g->nscc] != g->n)
        broken("SCC members != nodes", d);
    for (uint32_t c = 0; c < g->nscc; c++) {
        if (!an_scc_size(g, c))
            broken("empty SCC", d);
        for (uint32_t k = 0; k < an_scc_size(g, c); k++) {
            uint32_t v = an_scc_members(g, c)[k];
            if (v >= g->n || g->scc[v] != c || an_graph_member_index(g, v) != k)
                broken("SCC membership", d);
        }
        cycles += (g->scc_flags[c] & AN_SCC_CYCLE) != 0;
        if (g->owner[c] != AN_NONE && !(g->scc_flags[g->owner[c]] & AN_SCC_ROOT))
            broken("SCC owner is not a root", d);
    }
    if (cycles != g->cycles)
        broken("cycle count", d);
    for (size_t i = 0; i < L->ngroups; i++)
        if (L->order[L->rank[i]] != i)
            broken("order and rank are not inverse", d);
}

/* The last line of the text report is its summary. */
static void check_text(const char *s, size_t n, const struct an_dump *d)
{
    if (!n || s[n - 1] != '\n')
        broken("text report does not end with a newline", d);
    const char *last = s + n - 1;
    while (last > s && last[-1] != '\n')
        last--;
    if (strncmp(last, "SUMMARY: leakmark: ", 19) != 0)
        broken("text report does not end with its SUMMARY line", d);
}

/* One JSON object: brackets balanced outside strings, strings closed,
 * no raw control characters in strings, ends with "}\n". */
static void check_json(const char *s, size_t n, const struct an_dump *d)
{
    char stack[64];
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (in_str) {
            if (c < 0x20)
                broken("raw control character in a JSON string", d);
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (depth == (int)sizeof stack)
                broken("JSON nested too deep", d);
            stack[depth++] = c == '{' ? '}' : ']';
        } else if (c == '}' || c == ']') {
            if (!depth || stack[--depth] != (char)c)
                broken("unbalanced JSON", d);
            if (!depth && (i + 2 != n || s[i + 1] != '\n'))
                broken("text after the JSON document", d);
        }
    }
    if (in_str || depth || n < 3 || s[0] != '{')
        broken("JSON document not closed", d);
}

/* Warnings of the symboliser: whole lines, each its own warning (a path
 * from the dump must not break a line). */
static void check_warnings(const char *s, size_t n, const struct an_dump *d)
{
    static const char prefix[] = "leakmark-analyze: warning: ";
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(s + i, '\n', n - i);
        if (!nl)
            broken("warning without a newline", d);
        if (strncmp(s + i, prefix, sizeof prefix - 1) != 0)
            broken("warning spans more than one line", d);
        i = (size_t)(nl - s) + 1;
    }
}

static void in_process(const struct an_dump *d)
{
    struct an_leaks L;
    if (an_leaks_build(d, &L))
        broken("an_leaks_build failed (out of memory?)", d);
    check_leaks(d, &L);
    char *wbuf = NULL;
    size_t wlen = 0;
    FILE *w = open_memstream(&wbuf, &wlen);
    struct an_symtab *t = w ? an_sym_open(d, w) : NULL;
    if (!t)
        broken("an_sym_open failed", d);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        broken("open_memstream", d);
    an_report_text(f, &L, t);
    fflush(f);
    check_text(buf, len, d);
    rewind(f);
    an_report_json(f, &L, t);
    fflush(f);
    check_json(buf, (size_t)ftell(f), d);
    rewind(f);
    for (uint32_t c = 0, id = 0; c < L.g.nscc; c++)
        if (L.g.scc_flags[c] & AN_SCC_CYCLE)
            an_report_cycle(f, &L, t, c, id++, AN_NO_LIMIT, AN_NO_LIMIT);
    fclose(f);
    free(buf);
    an_sym_close(t);
    fclose(w);
    check_warnings(wbuf, wlen, d);
    free(wbuf);
    an_leaks_free(&L);
}

/* ---- step 3: the subcommands on a memfd ---- */

static int run(int (*cmd)(int, char **), char *a0, char *a1, char *a2)
{
    char *argv[] = { a0, a1, a2, NULL };
    int argc = a2 ? 3 : a1 ? 2 : 1;
    int rc = cmd(argc, argv);
    fflush(stdout);
    return rc;
}

/* Subcommands still being written elsewhere: fuzzed when linked in. */
#pragma weak an_cmd_flamegraph
#pragma weak an_cmd_html

static void subcommands(const struct an_dump *d)
{
    static char n_opt[] = "-n", one[] = "1", json[] = "--json", dot[] = "--dot",
                leaked[] = "--leaked", folded[] = "--folded";
    char *in = input_path, *empty = empty_path;
    if (run(an_cmd_report, in, NULL, NULL) || run(an_cmd_report, in, json, NULL))
        broken("report rejected an accepted dump", d);
    if (run(an_cmd_top, in, NULL, NULL) || run(an_cmd_top, in, n_opt, one))
        broken("top rejected an accepted dump", d);
    if (run(an_cmd_cycles, in, NULL, NULL) || run(an_cmd_cycles, in, dot, NULL))
        broken("cycles rejected an accepted dump", d);
    if (run(an_cmd_diff, in, in, NULL) || run(an_cmd_diff, empty, in, NULL) ||
        run(an_cmd_diff, in, empty, NULL))
        broken("diff rejected an accepted dump", d);
    if (an_cmd_flamegraph &&
        (run(an_cmd_flamegraph, in, NULL, NULL) || run(an_cmd_flamegraph, in, leaked, NULL) ||
         run(an_cmd_flamegraph, in, folded, NULL) || run(an_cmd_flamegraph, in, leaked, folded)))
        broken("flamegraph rejected an accepted dump", d);
    if (an_cmd_html && (run(an_cmd_html, in, NULL, NULL) || run(an_cmd_html, empty, in, NULL)))
        broken("html rejected an accepted dump", d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (input_fd < 0)
        LLVMFuzzerInitialize(NULL, NULL);
    struct an_dump d;
    struct an_err e;
    an_dump_init(&d, "fuzz-input");
    int rc = an_dump_parse(data, size, &d, &e);
    fill_memfd(input_fd, data, size);
    if (rc) {
        an_dump_free(&d);
        check_error(&e, size);
        if (run(an_cmd_report, input_path, NULL, NULL) != 2)
            broken("report accepted a dump the parser rejects", NULL);
        return 0;
    }
    check_model(&d);
    in_process(&d);
    subcommands(&d);
    an_dump_free(&d);
    return 0;
}
