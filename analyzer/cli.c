/*
 * cli.c - what the subcommands share on the command line: the usage text,
 * usage errors, -n counts, and loading a dump with the one-line error
 * report ("leakmark-analyze: FILE: offset N: what was wrong").
 */
#include "commands.h"
#include "reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

const char an_usage_text[] =
    "usage: leakmark-analyze report DUMP [--json]   the leak report (text, or schema-1 JSON)\n"
    "       leakmark-analyze top DUMP [-n N]        live memory by allocation site\n"
    "       leakmark-analyze diff OLD NEW [-n N]    growth by allocation site and generation\n"
    "       leakmark-analyze cycles DUMP [--dot]    leaked cycles (text, or Graphviz dot)\n";

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
