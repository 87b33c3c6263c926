/*
 * flamegraph.c - `flamegraph DUMP [--leaked] [--folded] [-o FILE]`: the
 * live bytes of a dump by allocation stack (only the leaked ones, definite
 * and indirect, with --leaked), as a self-contained SVG flame graph
 * (flamesvg.h), or with --folded as Brendan Gregg's folded stacks, the
 * input of flamegraph.pl, inferno and speedscope: one line per distinct
 * symbolised stack, "outermost;...;innermost BYTES", in the tree's order
 * (names sorted at every level).  In folded lines a ';' inside a name
 * becomes ':' and control characters become '?', so that every line
 * parses back into the same frames.
 */
#include "commands.h"
#include "flamesvg.h"
#include "markup.h"
#include "stackfmt.h"

#include <stdlib.h>
#include <string.h>

static void folded_name(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        fputc(c == ';' ? ':' : c < 0x20 || c == 0x7f ? '?' : c, f);
    }
}

static int print_folded(FILE *f, const struct an_ftree *t)
{
    uint32_t *path = malloc((t->max_depth + 1) * sizeof *path);
    uint32_t *next = malloc((t->max_depth + 1) * sizeof *next);
    if (!path || !next) {
        free(path);
        free(next);
        return -1;
    }
    size_t sp = 0;
    path[sp] = 0;
    next[sp++] = 0;
    while (sp) {
        uint32_t v = path[sp - 1];
        if (next[sp - 1] == an_ftree_nkids(t, v)) {
            sp--;
            continue;
        }
        uint32_t k = an_ftree_kids(t, v)[next[sp - 1]++];
        path[sp] = k;
        next[sp++] = 0;
        if (!t->nodes[k].self_bytes)
            continue;
        for (size_t i = 1; i < sp; i++) {
            if (i > 1)
                fputc(';', f);
            folded_name(f, t->nodes[path[i]].name);
        }
        fprintf(f, " %llu\n", (unsigned long long)t->nodes[k].self_bytes);
    }
    free(path);
    free(next);
    return 0;
}

static void print_svg(FILE *f, const struct an_dump *d, const struct an_ftree *t, bool leaked)
{
    char when[64], bytes[32], blocks[32];
    an_fmt_time(when, sizeof when, d->time_ns);
    an_fmt_count(bytes, sizeof bytes, t->nodes[0].bytes);
    an_fmt_count(blocks, sizeof blocks, t->nodes[0].blocks);
    char *sub = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&sub, &len);
    if (m) {
        fprintf(m, "pid %u", d->pid);
        if (d->exe)
            fprintf(m, " (%s)", d->exe);
        fprintf(m, ", %s dump #%u at %s: %s bytes in %s block%s", an_trigger_name(d->trigger),
                d->seq, when, bytes, blocks, an_plural(t->nodes[0].blocks));
        fclose(m);
    }
    struct an_flame_opts o = {
        .title = leaked ? "Leaked bytes by allocation stack" : "Live bytes by allocation stack",
        .subtitle = sub,
        .id = leaked ? "lm-flame-leaked" : "lm-flame-live",
        .empty = leaked ? "No leaked blocks in this dump." : "No live blocks in this dump.",
        .palette = leaked ? AN_PALETTE_LEAK : AN_PALETTE_HOT,
        .standalone = true,
    };
    an_flame_svg(f, t, &o);
    free(sub);
}

int an_cmd_flamegraph(int argc, char **argv)
{
    const char *path, *out_path = NULL;
    bool leaked = false, folded = false;
    const struct an_opt opts[] = {
        { .name = "--leaked", .flag = &leaked },
        { .name = "--folded", .flag = &folded },
        { .name = "-o", .text = &out_path, .bad_value = "-o needs a file name" },
        { 0 },
    };
    int err = an_parse_one_dump("flamegraph", argc, argv, opts, &path);
    if (err)
        return err;
    struct an_dump d;
    an_dump_init(&d, path);
    int rc = an_load_or_complain(&d);
    if (rc)
        return rc;
    struct an_ftree t;
    struct an_symtab *sym = an_sym_open(&d, stderr);
    if (!sym || an_ftree_build(&t, &d, sym, leaked ? AN_FTREE_LEAKED : AN_FTREE_LIVE)) {
        fprintf(stderr, "leakmark-analyze: %s: out of memory\n", path);
        rc = 2;
    } else {
        FILE *out = an_output_open(out_path);
        if (!out)
            rc = 1;
        else if (folded && print_folded(out, &t)) {
            fprintf(stderr, "leakmark-analyze: %s: out of memory\n", path);
            an_output_close(out, out_path, false);
            rc = 2;
        } else {
            if (!folded)
                print_svg(out, &d, &t, leaked);
            rc = an_output_close(out, out_path, true);
        }
    }
    if (sym)
        an_ftree_free(&t);
    an_sym_close(sym);
    an_dump_free(&d);
    return rc;
}
