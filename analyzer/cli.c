/*
 * cli.c - what the subcommands share on the command line: the usage text,
 * usage errors, -n counts, loading a dump with the one-line error report
 * ("leakmark-analyze: FILE: offset N: what was wrong"), and the -o FILE
 * output (a failed command leaves no file behind).
 */
#include "commands.h"
#include "reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char an_usage_text[] =
    "usage: leakmark-analyze report DUMP [--json]   the leak report (text, or schema-1 JSON)\n"
    "       leakmark-analyze top DUMP [-n N]        live memory by allocation site\n"
    "       leakmark-analyze diff OLD NEW [-n N]    growth by allocation site and generation\n"
    "       leakmark-analyze cycles DUMP [--dot]    leaked cycles (text, or Graphviz dot)\n"
    "       leakmark-analyze flamegraph DUMP [--leaked] [--folded] [-o FILE]\n"
    "                                               SVG flame graph of live (or leaked) bytes\n"
    "                                               by stack, or folded stacks for other tools\n"
    "       leakmark-analyze html DUMP... [-o FILE] one self-contained HTML page: summary,\n"
    "                                               growth over the dumps, flame graphs, top\n"
    "                                               sites, leaked cycles\n";

int an_usage_error(const char *msg)
{
    fprintf(stderr, "leakmark-analyze: %s\n%s", msg, an_usage_text);
    return 2;
}

bool an_parse_count(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v == 0 || v > UINT32_MAX || s[0] == '-')
        return false;
    *out = (uint32_t)v;
    return true;
}

/* "CMD: MESSAGE" as a usage error. */
static int usage_for(const char *cmd, const char *msg)
{
    char line[160];
    snprintf(line, sizeof line, "%s: %s", cmd, msg);
    return an_usage_error(line);
}

int an_parse_one_dump(const char *cmd, int argc, char **argv, const struct an_opt *opts,
                      const char **path)
{
    *path = NULL;
    for (int i = 0; i < argc; i++) {
        const struct an_opt *o = opts;
        while (o && o->name && strcmp(argv[i], o->name))
            o++;
        if (o && o->name) {
            if (o->flag) {
                *o->flag = true;
                continue;
            }
            const char *v = i + 1 < argc ? argv[++i] : NULL;
            if (o->text && v && v[0])
                *o->text = v;
            else if (!(o->count && v && an_parse_count(v, o->count)))
                return usage_for(cmd, o->bad_value);
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage_for(cmd, "unknown option");
        } else if (!*path) {
            *path = argv[i];
        } else {
            return usage_for(cmd, "one dump only");
        }
    }
    return *path ? 0 : usage_for(cmd, "no dump given");
}

int an_load_or_complain(struct an_dump *d)
{
    struct an_err e;
    if (an_dump_load(d, &e) == 0)
        return 0;
    if (e.offset == AN_ERR_NO_OFFSET)
        fprintf(stderr, "leakmark-analyze: %s: %s\n", d->name, e.msg);
    else
        fprintf(stderr, "leakmark-analyze: %s: offset %llu: %s\n", d->name,
                (unsigned long long)e.offset, e.msg);
    an_dump_free(d);
    return 2;
}

FILE *an_output_open(const char *path)
{
    if (!path)
        return stdout;
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "leakmark-analyze: %s: cannot create it: %s\n", path, strerror(errno));
    return f;
}

int an_output_close(FILE *f, const char *path, bool keep)
{
    if (f == stdout)
        return 0;
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0)
        bad = true;
    if (bad && keep)
        fprintf(stderr, "leakmark-analyze: %s: cannot write it: %s\n", path, strerror(errno));
    if (bad || !keep)
        unlink(path);
    return bad ? 1 : 0;
}
