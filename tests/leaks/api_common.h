/*
 * api_common.h - helpers shared by the public-API scenarios (api_*.c, run
 * by run_api_case.py: once plainly, once under the preload).
 *
 * A scenario checks what each call returns, which depends on whether
 * leakmark is there (lm_is_active): the real answer under the preload, the
 * neutral value of include/leakmark.h without it.  It prints one line per
 * check, the same either way ("name: ok"), so the two runs print exactly
 * the same thing; a failed check prints what it got and makes the program
 * exit 1.  Leak discipline as in leaks_common.h.
 */
#ifndef API_COMMON_H
#define API_COMMON_H

#include "leaks_common.h"

#include <leakmark.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int lk_api_failures;

/* got: the value the call returned; want_active / want_plain: expected
 * with and without leakmark. */
static inline void lk_api_expect(const char *what, long got, long want_active, long want_plain)
{
    long want = lm_is_active() ? want_active : want_plain;
    if (got == want) {
        printf("%s: ok\n", what);
    } else {
        printf("%s: FAILED: got %ld, wanted %ld\n", what, got, want);
        lk_api_failures++;
    }
    fflush(stdout);
}

/* lm_check_now wrote its JSON report where the exit report will go
 * (report_path=$LK_REPORT_DIR/r.%p.json): move it to $LK_REPORT_DIR/api/
 * so that the runner can check both.  Nothing to do without leakmark. */
static inline void lk_api_keep_report(void)
{
    const char *dir = getenv("LK_REPORT_DIR");
    if (!dir || !lm_is_active())
        return;
    char from[4096], to[4096];
    snprintf(from, sizeof from, "%s/r.%d.json", dir, (int)getpid());
    snprintf(to, sizeof to, "%s/api/r.%d.json", dir, (int)getpid());
    if (rename(from, to) != 0) {
        printf("keep api report: FAILED: cannot move %s\n", from);
        lk_api_failures++;
    }
}

static inline int lk_api_status(void) { return lk_api_failures ? 1 : 0; }

#endif
