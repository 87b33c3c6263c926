/*
 * symbols.h - offline symbolisation of the pcs of a dump: module path and
 * offset from the dump's MODULE records (offset = pc - load bias, what
 * `addr2line -e module` takes), function and file:line from the module
 * file on disk through elfutils libdwfl (one offline Dwfl per module,
 * opened on first use: dwfl_report_offline).
 *
 * When the dump recorded a build-id and the file on disk has a different
 * one (or none), the file is not the one that ran: a warning names the
 * module once on stderr and its frames stay module+offset.  A module file
 * that cannot be read is warned about once the same way.
 *
 * Results are cached per pc; strings stay valid until an_sym_close.
 */
#ifndef AN_SYMBOLS_H
#define AN_SYMBOLS_H

#include "model.h"

#include <stdio.h>

struct an_sym {
    const char *module;      /* dump's module path; "?" when no module */
    uint64_t bias;           /* offset = pc - bias */
    const char *function;    /* NULL when unknown */
    const char *file;        /* NULL when unknown */
    int line;                /* 0 when unknown */
};

struct an_symtab;

/* A session for dump d (which must outlive it).  warn: where warnings go
 * (NULL: nowhere).  NULL only when out of memory. */
struct an_symtab *an_sym_open(const struct an_dump *d, FILE *warn);
/* Resolves pc, a return address (pc - 1 is looked up, as the preload
 * does).  Always fills *out. */
void an_sym_lookup(struct an_symtab *t, uint64_t pc, struct an_sym *out);
void an_sym_close(struct an_symtab *t);

/* "function file:line" or "module+0xoff": a key that identifies a frame
 * across processes (ASLR moves pcs, not these).  Returns a malloc'd
 * string. */
char *an_sym_frame_key(struct an_symtab *t, uint64_t pc);

#endif
