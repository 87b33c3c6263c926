/*
 * stackfmt.h - allocation stacks as text, in the exit report's layout
 * (preload/report.c): one "        #i 0xPC in FUNCTION FILE:LINE
 * (MODULE+0xOFFSET)" line per frame, or a one-line site "FUNCTION
 * FILE:LINE" (basenames) for the innermost frame.
 */
#ifndef AN_STACKFMT_H
#define AN_STACKFMT_H

#include "model.h"
#include "symbols.h"

#include <stdio.h>

/* The frames of stack index `stack` (AN_NONE: none). */
void an_print_stack(FILE *f, struct an_symtab *t, const struct an_dump *d, uint32_t stack);
/* The innermost frame on one line, no newline. */
void an_print_site(FILE *f, struct an_symtab *t, const struct an_dump *d, uint32_t stack);
const char *an_basename(const char *path);
const char *an_plural(uint64_t n);

#endif
