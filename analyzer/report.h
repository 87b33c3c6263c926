/*
 * report.h - `report DUMP [--json]`: the leak report of a dump, in the
 * exit report's text layout or as the schema-1 JSON document
 * (shared/REPORT-FORMAT.md), with the trigger, pid, exe and times of the
 * dump.  The text is preload/report.c's, line for line (at most 50 cycles,
 * 20 members, 48 edges per cycle), so both can be compared; `cycles`
 * reuses the cycle printer without limits.  Not yet offline: suppression
 * files (the dump's suppressed counts are printed as recorded, and the
 * JSON "suppressions" array is empty).
 */
#ifndef AN_REPORT_H
#define AN_REPORT_H

#include "leaks.h"
#include "symbols.h"

#include <stdio.h>

#define AN_NO_LIMIT UINT32_MAX

/* Prints leaked cycle `id` (SCC scc) with at most max_members members and
 * max_edges edges, and records in the groups which stacks it showed. */
void an_report_cycle(FILE *f, struct an_leaks *L, struct an_symtab *t, uint32_t scc,
                     uint32_t id, uint32_t max_members, uint32_t max_edges);
void an_report_text(FILE *f, struct an_leaks *L, struct an_symtab *t);
void an_report_json(FILE *f, struct an_leaks *L, struct an_symtab *t);

#endif
