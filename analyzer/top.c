/*
 * top.c - `top DUMP [-n N]`: live memory by allocation site (stack id),
 * largest first (bytes, then blocks, then stack id), each with its block
 * count, its breakdown by class (reachable, possible, definite, indirect,
 * suppressed) and its stack.  N sites (default 10), then one line for the
 * rest.
 */
#include "commands.h"
#include "stackfmt.h"

#include <stdlib.h>
#include <string.h>

struct site {
    uint32_t stack_id, stack;
    uint64_t blocks, bytes;
    uint64_t cls_blocks[5], cls_bytes[5];
};

static int cmp_block_stack(const void *a, const void *b)
{
    uint32_t x = (*(const struct an_block *const *)a)->stack_id;
    uint32_t y = (*(const struct an_block *const *)b)->stack_id;
    return x < y ? -1 : x > y;
}

static int cmp_site(const void *a, const void *b)
{
    const struct site *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
    if (x->blocks != y->blocks) return x->blocks > y->blocks ? -1 : 1;
    return x->stack_id < y->stack_id ? -1 : x->stack_id > y->stack_id;
}

static void print_top(FILE *f, const struct an_dump *d, struct an_symtab *t, uint32_t limit,
                      struct site *s, size_t n)
{
    uint64_t blocks = 0, bytes = 0;
    for (size_t i = 0; i < n; i++) {
        blocks += s[i].blocks;
        bytes += s[i].bytes;
    }
    fprintf(f, "Live memory of pid %u (%s dump #%u): %llu bytes in %llu block%s from %zu"
            " allocation site%s\n\n", d->pid, an_trigger_name(d->trigger), d->seq,
            (unsigned long long)bytes, (unsigned long long)blocks, an_plural(blocks), n,
            an_plural(n));
    size_t shown = n < limit ? n : limit;
    for (size_t i = 0; i < shown; i++) {
        fprintf(f, "#%zu: %llu byte%s in %llu block%s (", i, (unsigned long long)s[i].bytes,
                an_plural(s[i].bytes), (unsigned long long)s[i].blocks, an_plural(s[i].blocks));
        const char *sep = "";
        for (unsigned c = 0; c < 5; c++) {
            if (!s[i].cls_blocks[c])
                continue;
            fprintf(f, "%s%s %llu in %llu", sep, an_class_name(c),
                    (unsigned long long)s[i].cls_bytes[c], (unsigned long long)s[i].cls_blocks[c]);
            sep = ", ";
        }
        fputs("), allocated at\n", f);
        an_print_stack(f, t, d, s[i].stack);
        fputs("\n", f);
    }
    if (shown < n) {
        uint64_t rb = 0, rk = 0;
        for (size_t i = shown; i < n; i++) {
            rb += s[i].bytes;
            rk += s[i].blocks;
        }
        fprintf(f, "... %zu more site%s: %llu bytes in %llu block%s (-n to see more)\n",
                n - shown, an_plural(n - shown), (unsigned long long)rb, (unsigned long long)rk,
                an_plural(rk));
    }
}

int an_cmd_top(int argc, char **argv)
{
    const char *path;
    uint32_t limit = 10;
    const struct an_opt opts[] = {
        { .name = "-n", .count = &limit, .bad_value = "-n needs a positive number" }, { 0 } };
    int err = an_parse_one_dump("top", argc, argv, opts, &path);
    if (err)
        return err;
    struct an_dump d;
    an_dump_init(&d, path);
    int rc = an_load_or_complain(&d);
    if (rc)
        return rc;
    const struct an_block **by = malloc((d.nblocks ? d.nblocks : 1) * sizeof *by);
    struct site *s = calloc(d.nblocks ? d.nblocks : 1, sizeof *s);
    struct an_symtab *t = an_sym_open(&d, stderr);
    if (!by || !s || !t) {
        fprintf(stderr, "leakmark-analyze: %s: out of memory\n", path);
        rc = 2;
        goto out;
    }
    for (size_t i = 0; i < d.nblocks; i++)
        by[i] = &d.blocks[i];
    qsort(by, d.nblocks, sizeof *by, cmp_block_stack);
    size_t n = 0;
    for (size_t i = 0; i < d.nblocks; i++) {
        const struct an_block *b = by[i];
        if (!n || s[n - 1].stack_id != b->stack_id)
            s[n++] = (struct site){ .stack_id = b->stack_id, .stack = b->stack };
        struct site *x = &s[n - 1];
        x->blocks++;
        x->bytes += b->size;
        x->cls_blocks[b->cls]++;
        x->cls_bytes[b->cls] += b->size;
    }
    qsort(s, n, sizeof *s, cmp_site);
    print_top(stdout, &d, t, limit, s, n);
out:
    an_sym_close(t);
    free(by);
    free(s);
    an_dump_free(&d);
    return rc;
}
