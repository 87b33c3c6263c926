/*
 * fuzz_dump.c - deterministic mutation test of the analyzer, in process,
 * built with ASan + UBSan over the analyzer sources (tests/analyzer/
 * CMakeLists.txt), so an out-of-bounds read or an overflow fails the test
 * even when it would not crash.
 *
 *   analyzer_fuzz GOLDEN.lmd ITERATIONS SEED
 *
 * Each iteration mutates a copy of the golden dump (1-4 byte flips, a
 * random byte set to 0x00/0xff/0x80, a u32 overwritten with a huge value,
 * or a truncation), parses it, and checks the contract: either an error
 * whose offset is within the file and whose message is one non-empty line,
 * or a dump on which the report (text and JSON), the cycles (text and
 * dot), top and diff all run.  The unmutated dump must parse, and the
 * mutations must produce both outcomes.
 */
#include "commands.h"
#include "leaks.h"
#include "reader.h"
#include "report.h"
#include "symbols.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;            /* xorshift64* */
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dull;
}

static void mutate(uint8_t *p, size_t *len)
{
    switch (rnd() % 6) {
    case 0: case 1: {
        int n = 1 + (int)(rnd() % 4);
        for (int i = 0; i < n; i++)
            p[rnd() % *len] ^= (uint8_t)(1u << (rnd() % 8));
        break;
    }
    case 2: {
        static const uint8_t vals[] = { 0x00, 0xff, 0x80, 0x7f };
        p[rnd() % *len] = vals[rnd() % 4];
        break;
    }
    case 3: {
        size_t at = rnd() % (*len - 4);
        uint32_t v = (uint32_t)(0xffffffffu - rnd() % 64);
        memcpy(p + at, &v, 4);
        break;
    }
    case 4:
        *len = rnd() % *len;
        break;
    default: {                          /* a flip in the records, past the header */
        size_t at = 64 + rnd() % (*len - 64);
        p[at] = (uint8_t)rnd();
        break;
    }
    }
}

static int render(const uint8_t *p, size_t len, FILE *sink, const char *tmp, const char *golden)
{
    struct an_dump d;
    struct an_err e;
    an_dump_init(&d, "mutant");
    if (an_dump_parse(p, len, &d, &e)) {
        an_dump_free(&d);
        if (e.offset > len || !e.msg[0] || strchr(e.msg, '\n')) {
            fprintf(stderr, "FAIL: bad error: offset %llu of %zu: '%s'\n",
                    (unsigned long long)e.offset, len, e.msg);
            exit(1);
        }
        return 0;
    }
    struct an_leaks L;
    struct an_symtab *t = an_sym_open(&d, NULL);
    if (an_leaks_build(&d, &L) || !t) {
        fprintf(stderr, "FAIL: out of memory on an accepted dump\n");
        exit(1);
    }
    an_report_text(sink, &L, t);
    an_report_json(sink, &L, t);
    for (uint32_t c = 0, id = 0; c < L.g.nscc; c++)
        if (L.g.scc_flags[c] & AN_SCC_CYCLE)
            an_report_cycle(sink, &L, t, c, id++, AN_NO_LIMIT, AN_NO_LIMIT);
    an_sym_close(t);
    an_leaks_free(&L);
    an_dump_free(&d);
    /* the file-level subcommands, on stdout (sent to /dev/null) */
    FILE *f = fopen(tmp, "wb");
    if (!f || fwrite(p, 1, len, f) != len || fclose(f)) {
        perror(tmp);
        exit(1);
    }
    char *top[] = { (char *)tmp, "-n", "3", NULL };
    char *dot[] = { (char *)tmp, "--dot", NULL };
    char *diff[] = { (char *)golden, (char *)tmp, NULL };
    if (an_cmd_top(3, top) || an_cmd_cycles(2, dot) || an_cmd_diff(2, diff)) {
        fprintf(stderr, "FAIL: a subcommand rejected a dump the parser accepted\n");
        exit(1);
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: analyzer_fuzz GOLDEN ITERATIONS SEED\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    static uint8_t orig[1 << 20], buf[1 << 20];
    size_t n = f ? fread(orig, 1, sizeof orig, f) : 0;
    if (f)
        fclose(f);
    if (n < 128) {
        fprintf(stderr, "FAIL: cannot read %s\n", argv[1]);
        return 1;
    }
    long iters = atol(argv[2]);
    rng_state = strtoull(argv[3], NULL, 10) | 1;
    char tmp[256];
    snprintf(tmp, sizeof tmp, "/tmp/analyzer_fuzz.%d.lmd", (int)getpid());
    FILE *sink = fopen("/dev/null", "w");
    if (!sink || !freopen("/dev/null", "w", stdout))
        return 1;
    if (!render(orig, n, sink, tmp, argv[1])) {
        fprintf(stderr, "FAIL: the golden dump is rejected\n");
        return 1;
    }
    long accepted = 0, rejected = 0;
    for (long i = 0; i < iters; i++) {
        size_t len = n;
        memcpy(buf, orig, n);
        mutate(buf, &len);
        if (render(buf, len, sink, tmp, argv[1]))
            accepted++;
        else
            rejected++;
    }
    remove(tmp);
    fclose(sink);
    fprintf(stderr, "%ld mutants: %ld accepted and rendered, %ld rejected\n", iters, accepted,
            rejected);
    if (!accepted || !rejected) {
        fprintf(stderr, "FAIL: the mutations should give both outcomes\n");
        return 1;
    }
    return 0;
}
