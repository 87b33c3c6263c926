/*
 * scan.h - what a periodic scan reports (scan_interval, issue #4).
 *
 * A periodic scan is a heap snapshot like a dump (dumper.c: stop, fork,
 * restart); its child marks, then calls lm_scan_report.  A leaked block is
 * confirmed when it has been unreachable in min_unref_scans consecutive
 * scans (unref.h: dumps count as scans too), is older than min_age_ms (the
 * lower bound of gen.h) and belongs to a generation this scan examines
 * (generation <= level, the schedule of gen.h).  The report lists the
 * confirmed leaks no earlier scan reported - the leaks new since the last
 * scan - and nothing when there are none.  Members of one strongly
 * connected component are shown together or not at all (a cycle is never
 * printed half), and only definite and indirect leaks are reported
 * (possible blocks are the exit report's business).
 *
 * Output: the text report (report.h) on the log fd, first line naming the
 * scan; with report=json also JSON (trigger "periodic", a "scan" object)
 * at scan_report_path, %p = pid, %n = scan number.  Runs in the snapshot
 * child only (it writes the unref table and symbolizes).
 */
#ifndef LM_SCAN_H
#define LM_SCAN_H

#include "mark.h"

#include <sys/types.h>

struct lm_scan_job {
    uint64_t seq;                  /* periodic scans before this one */
    unsigned level;                /* oldest generation examined */
    uint64_t snap_ns;              /* monotonic time of the snapshot */
    pid_t pid;                     /* the scanned process */
    double scan_ms, pause_ms;
    uint32_t threads_not_stopped;
};

struct lm_scan_stats {
    size_t confirmed_blocks, confirmed_bytes;   /* confirmed leaks, all */
    size_t new_blocks, new_bytes;               /* the ones reported now */
    size_t pending_blocks;      /* leaked, neither confirmed nor reported:
                                 * the next scan must not be skipped */
};

/* Decides, reports, and publishes the unref table.  Returns 0 or errno
 * (ENOMEM: nothing reported; the report's own errors). */
int lm_scan_report(const struct lm_mark_result *res, const struct lm_scan_job *job,
                   struct lm_scan_stats *st);

#endif
