/*
 * badfree.c - one report per bad free (see badfree.h).
 *
 * Lock-free: formatting on the stack, write(2) through lm_log, an atomic
 * counter for the rate limit.  The call stack is captured with libunwind
 * and printed with dladdr (backtrace.c): callers hold no allocator lock,
 * as backtrace.h requires.  Reports obey report_bad_free=0.
 */
#include "badfree.h"
#include "atomic.h"
#include "backtrace.h"
#include "log.h"
#include "options.h"

#define MAX_REPORTS 100

static volatile AO_t reports;

static const char *reason(enum lm_bad_free why)
{
    switch (why) {
    case LM_BAD_FOREIGN:  return "not allocated by leakmark (foreign pointer)";
    case LM_BAD_DOUBLE:   return "block already freed (double free)";
    case LM_BAD_INTERIOR: return "points inside a live block, not at its start";
    default:              return "no block starts there (wild pointer)";
    }
}

void lm_report_bad_free(const char *fn, const void *p, enum lm_bad_free why)
{
    if (!lm_options.report_bad_free)
        return;
    AO_t n = lm_fetch_add(&reports, 1);
    if (n >= MAX_REPORTS) {
        if (n == MAX_REPORTS)
            lm_log("%d bad frees reported; further ones are not", MAX_REPORTS);
        return;
    }
    lm_log("%s(%p): invalid pointer: %s; ignored", fn, p, reason(why));
    uintptr_t pcs[32];
    int frames = lm_backtrace(pcs, (int)LM_ARRAY_LEN(pcs), 1);
    if (frames > 0)
        lm_backtrace_print(pcs, frames);
}
