/*
 * report.h - the leak report: text on the log fd and, with report=json, the
 * JSON document of shared/REPORT-FORMAT.md (schema 1) at report_path.
 *
 * Input: a finished mark (mark.h).  Leaked blocks (lm_mark_foreach_leaked)
 * and possible ones (live blocks whose state is LM_MARK_POSSIBLE) are
 * grouped by (kind, allocation stack) - kinds definite, indirect, possible -
 * with block and byte counts; a group is in_cycle when any of its blocks
 * belongs to a leaked cycle.  Groups are sorted by bytes, largest first
 * (ties: more blocks, then definite < indirect < possible, then stack id):
 * that order is the JSON "leaks" array and the index cycle members refer
 * to.  Cycles are the cyclic SCCs of the leak graph in its (topological)
 * SCC order.
 *
 * Output:
 *  - text, to lm_log_fd(), unless report=json and quiet=1: cycles first
 *    (members lettered A, B, ... with size, address and allocation site,
 *    then the pointers "A+0 -> B"), then definite, indirect and possible
 *    groups, largest first, each with its stack, then one SUMMARY line with
 *    the numbers of the JSON summary.  At most 50 cycles, 20 members and
 *    48 edges per cycle are printed ("... N more"); the JSON has them all.
 *    Without any leaked or possible block only the SUMMARY line appears:
 *    "SUMMARY: leakmark: no leaks (N blocks, M bytes still reachable)".
 *  - JSON (report=json), to report_path with %p replaced by the pid,
 *    written to "<path>.tmp.<pid>" and renamed into place, so the file is
 *    complete or absent.  A path that cannot be written gives one lm_log
 *    line naming it and the errno, never a crash.
 *  Fields added to schema 1 (allowed: never renamed or removed):
 *    summary.threads_not_stopped;
 *    leaks[].held_by (indirect: index of a definite group that holds it);
 *    cycles[].held_by (a non-root cycle: index of a definite group);
 *    suppressions[] (every rule that hid blocks: type "leak" or
 *    "valgrind", rule = pattern or block name, line, blocks, bytes).
 *
 * Suppressions (suppress.h): with lm_options.suppressions set, the file is
 * read and parsed at the start of each report (never at start-up).  A
 * (kind, stack) group it matches, and every leaked block reachable from a
 * suppressed block (LeakSanitizer's rule), is left out of "leaks",
 * "cycles" and the kind counts and counted in summary.suppressed_*
 * (plus info->suppressed_*, what the caller already left out); the text
 * lists "Suppressions used:" (blocks, bytes, rule) before the SUMMARY
 * line, which ends with ", suppressed BYTES in BLOCKS".
 *
 * Context and memory: runs after the mark, with the world running again
 * (symbolization - symbolize.h - mallocs through libdwfl and takes the
 * loader lock).  The reporter's own memory is mmap'd (lm_mmvec, one 64 KiB
 * write buffer).  Calls are serialised by an internal mutex; not for
 * signal handlers.
 */
#ifndef LM_REPORT_H
#define LM_REPORT_H

#include "mark.h"

#include <sys/types.h>

struct lm_report_info {
    const char *trigger;            /* "exit" | "signal" | "api" | "periodic" */
    double scan_ms, pause_ms;       /* whole check; world stopped */
    uint32_t threads_not_stopped;   /* did not answer the stop (the caller
                                     * logs what that means for the scan) */
    size_t suppressed_blocks, suppressed_bytes;   /* left out by the caller */
    size_t *reported_out;           /* when non-NULL, receives the definite +
                                     * indirect blocks the report shows (after
                                     * suppressions): the exitcode decision */
    pid_t pid;                      /* the reported process (0: getpid) */
    const char *json_path;          /* JSON path pattern (NULL: report_path) */
    /* A periodic scan (periodic; scan_level: the oldest generation it
     * examines) shows a part of the
     * leaks: node_shown[node] == 0 leaves leaked node out of the report and
     * of every count (NULL: all shown); hide_possible leaves out possible
     * blocks.  JSON gains "scan": {seq, generation, min_unref_scans,
     * min_age_ms, confirmed_blocks, confirmed_bytes}; the text a first line
     * that says which scan it is. */
    bool periodic;
    unsigned scan_level;
    uint64_t scan_seq;
    const uint8_t *node_shown;
    bool hide_possible;
    size_t confirmed_blocks, confirmed_bytes;   /* all leaks the scan confirms */
};

/* Writes the report(s) for `res` as lm_options asks (report, report_path,
 * quiet).  info may be NULL (trigger "exit", zero times).  Returns 0, the
 * errno of the JSON report that could not be written, or ENOMEM when the
 * grouping tables could not be mapped (the text is then the SUMMARY line
 * alone and the JSON has empty "leaks" and "cycles"). */
int lm_report_write(const struct lm_mark_result *res, const struct lm_report_info *info);

/* Expands %p in `pattern` into pid ("%%" into "%"; any other % is kept).
 * Returns the length, or 0 when the result does not fit in cap. */
size_t lm_report_expand_path(char *out, size_t cap, const char *pattern, pid_t pid);

#endif
