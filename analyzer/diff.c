/*
 * diff.c - `diff OLD NEW [-n N]`: how the live heap changed between two
 * dumps: totals, per generation (GENTOTALS, or counted from the blocks),
 * and per allocation site, largest growth first.
 *
 * Sites are matched by their symbolised frames (an_sym_frame_key: function
 * file:line, or module+offset), never by stack id or pc: the two dumps may
 * come from different processes, where ids and addresses differ.  Stacks
 * of one dump with the same key are merged.  Sites whose bytes and blocks
 * did not change are not listed; N (default 10) sites are, then one line
 * for the rest.
 */
#include "commands.h"
#include "stackfmt.h"
#include "symbols.h"

#include <stdlib.h>
#include <string.h>

struct site {
    char *key;
    uint64_t blocks, bytes;
    const struct an_dump *d;    /* where the stack to print comes from */
    uint32_t stack;
};

struct change {
    const struct site *old, *new_;
    int64_t dbytes, dblocks;
};

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const struct site *)a)->key, ((const struct site *)b)->key);
}

static int cmp_change(const void *a, const void *b)
{
    const struct change *x = a, *y = b;
    if (x->dbytes != y->dbytes) return x->dbytes > y->dbytes ? -1 : 1;
    if (x->dblocks != y->dblocks) return x->dblocks > y->dblocks ? -1 : 1;
    const struct site *sx = x->new_ ? x->new_ : x->old, *sy = y->new_ ? y->new_ : y->old;
    return strcmp(sx->key, sy->key);
}

static char *stack_key(struct an_symtab *t, const struct an_dump *d, uint32_t stack)
{
    const struct an_stack *s = stack == AN_NONE ? NULL : &d->stacks[stack];
    if (!s || !s->nframes)
        return strdup("<no stack>");
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        return NULL;
    for (uint32_t i = 0; i < s->nframes; i++) {
        char *k = an_sym_frame_key(t, s->pcs[i]);
        fprintf(f, "%s%s", i ? "\n" : "", k ? k : "?");
        free(k);
    }
    fclose(f);
    return out;
}

/* Sites of d, merged by key and sorted by key; NULL when out of memory. */
static struct site *sites_of(const struct an_dump *d, struct an_symtab *t, size_t *count)
{
    /* per stack index first (+1 slot for "no stack"), then keyed */
    size_t ns = d->nstacks + 1;
    struct site *s = calloc(ns, sizeof *s);
    if (!s)
        return NULL;
    for (size_t i = 0; i < d->nblocks; i++) {
        const struct an_block *b = &d->blocks[i];
        struct site *x = &s[b->stack == AN_NONE ? d->nstacks : b->stack];
        x->blocks++;
        x->bytes += b->size;
    }
    size_t n = 0;
    for (size_t i = 0; i < ns; i++) {
        if (!s[i].blocks)
            continue;
        uint32_t stack = i == d->nstacks ? AN_NONE : (uint32_t)i;
        s[n] = (struct site){ .blocks = s[i].blocks, .bytes = s[i].bytes, .d = d,
                              .stack = stack, .key = stack_key(t, d, stack) };
        if (!s[n].key) {
            for (size_t k = 0; k < n; k++)
                free(s[k].key);
            free(s);
            return NULL;
        }
        n++;
    }
    qsort(s, n, sizeof *s, cmp_key);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w && !strcmp(s[w - 1].key, s[i].key)) {
            s[w - 1].blocks += s[i].blocks;
            s[w - 1].bytes += s[i].bytes;
            free(s[i].key);
            continue;
        }
        s[w++] = s[i];
    }
    *count = w;
    return s;
}

static void gen_totals(const struct an_dump *d, uint64_t out[3][2])
{
    if (d->have_gentotals) {
        memcpy(out, d->gentotals, sizeof d->gentotals);
        return;
    }
    memset(out, 0, 6 * sizeof out[0][0]);
    for (size_t i = 0; i < d->nblocks; i++) {
        out[d->blocks[i].gen][0]++;
        out[d->blocks[i].gen][1] += d->blocks[i].size;
    }
}

static void print_diff(FILE *f, const struct an_dump *o, const struct an_dump *n,
                       struct an_symtab *to, struct an_symtab *tn, struct change *c,
                       size_t nc, uint32_t limit)
{
    uint64_t so[AN_S_COUNT], sn[AN_S_COUNT];
    an_dump_summary(o, 0, so);
    an_dump_summary(n, 0, sn);
    fprintf(f, "Live memory: %llu bytes in %llu blocks (pid %u) -> %llu bytes in %llu blocks"
            " (pid %u): %+lld bytes, %+lld blocks\n\n",
            (unsigned long long)so[AN_S_LIVE_BYTES], (unsigned long long)so[AN_S_LIVE_BLOCKS],
            o->pid, (unsigned long long)sn[AN_S_LIVE_BYTES],
            (unsigned long long)sn[AN_S_LIVE_BLOCKS], n->pid,
            (long long)(sn[AN_S_LIVE_BYTES] - so[AN_S_LIVE_BYTES]),
            (long long)(sn[AN_S_LIVE_BLOCKS] - so[AN_S_LIVE_BLOCKS]));
    static const char *const gname[] = { "young", "middle", "old" };
    uint64_t go[3][2], gn[3][2];
    gen_totals(o, go);
    gen_totals(n, gn);
    fputs("By generation:\n", f);
    for (int g = 0; g < 3; g++)
        fprintf(f, "  %-6s %+lld bytes, %+lld blocks (%llu in %llu -> %llu in %llu)\n", gname[g],
                (long long)(gn[g][1] - go[g][1]), (long long)(gn[g][0] - go[g][0]),
                (unsigned long long)go[g][1], (unsigned long long)go[g][0],
                (unsigned long long)gn[g][1], (unsigned long long)gn[g][0]);
    fprintf(f, "\nBy allocation site, largest growth first (%zu site%s changed):\n\n", nc,
            an_plural(nc));
    size_t shown = nc < limit ? nc : limit;
    for (size_t i = 0; i < shown; i++) {
        const struct site *s = c[i].new_ ? c[i].new_ : c[i].old;
        fprintf(f, "%+lld bytes, %+lld blocks (%llu in %llu -> %llu in %llu)%s, allocated at\n",
                (long long)c[i].dbytes, (long long)c[i].dblocks,
                (unsigned long long)(c[i].old ? c[i].old->bytes : 0),
                (unsigned long long)(c[i].old ? c[i].old->blocks : 0),
                (unsigned long long)(c[i].new_ ? c[i].new_->bytes : 0),
                (unsigned long long)(c[i].new_ ? c[i].new_->blocks : 0),
                !c[i].old ? ", new site" : !c[i].new_ ? ", gone" : "");
        an_print_stack(f, s->d == n ? tn : to, s->d, s->stack);
        fputs("\n", f);
    }
    if (shown < nc)
        fprintf(f, "... %zu more changed site%s (-n to see more)\n", nc - shown,
                an_plural(nc - shown));
}

int an_cmd_diff(int argc, char **argv)
{
    const char *path[2] = { NULL, NULL };
    int npath = 0;
    uint32_t limit = 10;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-n")) {
            if (i + 1 >= argc || !an_parse_count(argv[++i], &limit))
                return an_usage_error("diff: -n needs a positive number");
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return an_usage_error("diff: unknown option");
        } else if (npath < 2) {
            path[npath++] = argv[i];
        } else {
            return an_usage_error("diff: two dumps only");
        }
    }
    if (npath != 2)
        return an_usage_error("diff: needs OLD and NEW dumps");
    struct an_dump d[2];
    an_dump_init(&d[0], path[0]);
    an_dump_init(&d[1], path[1]);
    int rc = an_load_or_complain(&d[0]);
    if (!rc)
        rc = an_load_or_complain(&d[1]);
    struct an_symtab *t[2] = { NULL, NULL };
    struct site *s[2] = { NULL, NULL };
    size_t ns[2] = { 0, 0 };
    struct change *c = NULL;
    if (rc)
        goto out;
    for (int k = 0; k < 2; k++)
        if (!(t[k] = an_sym_open(&d[k], stderr)) || !(s[k] = sites_of(&d[k], t[k], &ns[k])))
            goto oom;
    if (!(c = calloc(ns[0] + ns[1] + 1, sizeof *c)))
        goto oom;
    size_t nc = 0, i = 0, j = 0;
    while (i < ns[0] || j < ns[1]) {
        int cmp = i >= ns[0] ? 1 : j >= ns[1] ? -1 : strcmp(s[0][i].key, s[1][j].key);
        struct change x = { cmp <= 0 ? &s[0][i] : NULL, cmp >= 0 ? &s[1][j] : NULL, 0, 0 };
        i += cmp <= 0;
        j += cmp >= 0;
        x.dbytes = (int64_t)((x.new_ ? x.new_->bytes : 0) - (x.old ? x.old->bytes : 0));
        x.dblocks = (int64_t)((x.new_ ? x.new_->blocks : 0) - (x.old ? x.old->blocks : 0));
        if (x.dbytes || x.dblocks)
            c[nc++] = x;
    }
    qsort(c, nc, sizeof *c, cmp_change);
    print_diff(stdout, &d[0], &d[1], t[0], t[1], c, nc, limit);
    goto out;
oom:
    fprintf(stderr, "leakmark-analyze: out of memory\n");
    rc = 2;
out:
    for (int k = 0; k < 2; k++) {
        for (size_t x = 0; s[k] && x < ns[k]; x++)
            free(s[k][x].key);
        free(s[k]);
        an_sym_close(t[k]);
        an_dump_free(&d[k]);
    }
    free(c);
    return rc;
}
