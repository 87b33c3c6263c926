/*
 * commands.h - the subcommands of leakmark-analyze.  Each takes its
 * arguments after the subcommand name, prints its result on stdout and
 * diagnostics on stderr, and returns the exit status: 0 done, 2 bad usage
 * or an unreadable / invalid dump (one line "leakmark-analyze: FILE:
 * offset N: what was wrong").
 */
#ifndef AN_COMMANDS_H
#define AN_COMMANDS_H

#include "model.h"

#include <stdio.h>

int an_cmd_report(int argc, char **argv);
int an_cmd_top(int argc, char **argv);
int an_cmd_diff(int argc, char **argv);
int an_cmd_cycles(int argc, char **argv);
int an_cmd_flamegraph(int argc, char **argv);
int an_cmd_html(int argc, char **argv);

extern const char an_usage_text[];

/* Shared by the subcommands (cli.c): loads d->name, printing the error
 * line on failure.  Returns 0 or 2. */
int an_load_or_complain(struct an_dump *d);
/* Prints "leakmark-analyze: MESSAGE" and the usage; returns 2. */
int an_usage_error(const char *msg);
/* Parses a -n argument; false when not a positive number. */
bool an_parse_count(const char *s, uint32_t *out);

/* An option of a subcommand that reads one dump: a flag (sets *flag), or
 * one followed by a value - a non-empty text (*text) or a positive number
 * (*count); bad_value is the usage message when that value is missing or
 * wrong.  Lists end with a zeroed entry. */
struct an_opt {
    const char *name;
    bool *flag;
    const char **text;
    uint32_t *count;
    const char *bad_value;
};
/* Parses "[OPTIONS] DUMP" for subcommand cmd: 0 with *path set, or the
 * status of a usage error ("CMD: unknown option", "CMD: one dump only",
 * "CMD: no dump given", "CMD: BAD_VALUE") already printed. */
int an_parse_one_dump(const char *cmd, int argc, char **argv, const struct an_opt *opts,
                      const char **path);
/* -o FILE: the file opened for writing, stdout when path is NULL; NULL
 * after printing the error line. */
FILE *an_output_open(const char *path);
/* Closes what an_output_open gave (stdout is left to main).  keep false:
 * the file is removed (the command failed).  Returns 0, or 1 after
 * printing the error line when the file could not be written. */
int an_output_close(FILE *f, const char *path, bool keep);

#endif
