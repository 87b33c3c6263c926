/*
 * badfree.h - reporting pointers the program gives back that leakmark never
 * handed out (or already took back).  One line with the address and the
 * reason, then the call stack; rate-limited; never touches the heap.
 */
#ifndef LM_BADFREE_H
#define LM_BADFREE_H

enum lm_bad_free {
    LM_BAD_FOREIGN,     /* not in leakmark's region at all */
    LM_BAD_DOUBLE,      /* the start of a block that is not live */
    LM_BAD_INTERIOR,    /* inside a live block, not at its start */
    LM_BAD_UNKNOWN,     /* in the region, but no block starts there */
};

/* fn: the entry point that received p ("free", "realloc", ...). */
void lm_report_bad_free(const char *fn, const void *p, enum lm_bad_free why);

#endif
