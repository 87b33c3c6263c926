/*
 * main.c - leakmark-analyze: the offline analyzer of leakmark heap dumps
 * (include/leakmark/dump_format.h).  Subcommand dispatch only: the
 * subcommands live in report.c, top.c, diff.c, cycles.c, flamegraph.c and
 * html.c, what they share on the command line in cli.c.
 *
 * Exit status: 0 done; 2 bad usage, or a dump that cannot be read or is
 * invalid (then exactly one line on stderr, "leakmark-analyze: FILE:
 * offset N: what was wrong"); 1 when stdout could not be written.
 */
#include "commands.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        { "report", an_cmd_report },
        { "top", an_cmd_top },
        { "diff", an_cmd_diff },
        { "cycles", an_cmd_cycles },
        { "flamegraph", an_cmd_flamegraph },
        { "html", an_cmd_html },
    };
    if (argc < 2)
        return an_usage_error("no subcommand given");
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        fputs(an_usage_text, stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(argv[1], cmds[i].name))
            continue;
        int rc = cmds[i].fn(argc - 2, argv + 2);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "leakmark-analyze: cannot write the output: %s\n", strerror(errno));
            return rc ? rc : 1;
        }
        return rc;
    }
    fprintf(stderr, "leakmark-analyze: unknown subcommand '%s'\n", argv[1]);
    fputs(an_usage_text, stderr);
    return 2;
}
