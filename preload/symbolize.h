/*
 * symbolize.h - program counter -> module, offset, function, file:line, for
 * the leak report.
 *
 *   module, load bias    dladdr1(RTLD_DL_LINKMAP): the object's path (the
 *                        main program's through /proc/self/exe) and its
 *                        l_addr; offset = pc - bias is the ELF virtual
 *                        address, what `addr2line -e module` takes (equal to
 *                        pc - load base for PIE and shared objects).
 *   function             elfutils libdwfl (.symtab, so static functions too,
 *                        then .dynsym), else dladdr's dynamic symbol.
 *   file, line           libdwfl: the DWARF line table (.debug_line) of the
 *                        module or of its separate debug file.  This is why
 *                        leakmark depends on libdw: dladdr only knows
 *                        exported symbols and nothing about lines.
 *
 * MALLOC WARNING: libdwfl allocates with malloc (and reads /proc/self/maps
 * with stdio).  That is acceptable ONLY because symbolization runs in the
 * reporter, after the mark has finished and the world runs again: never
 * call anything here inside malloc, in a signal handler, with the world
 * stopped or with an allocator lock held.  In the preload these malloc
 * calls land in leakmark's own allocator like any other.
 *
 * Session: lm_symbolize_begin() empties the cache; the libdwfl session is
 * opened lazily on the first lookup and closed by lm_symbolize_end(), which
 * also unmaps the cache.  Strings in struct lm_sym point into loader or
 * libdwfl data and stay valid until lm_symbolize_end().
 *
 * Cache: results are kept per lookup address in an open-addressing table
 * in mmap'd memory (doubling at half full), so a report whose groups share
 * frames resolves each frame once.
 *
 * Locking: none; one session at a time (the reporter serialises).
 */
#ifndef LM_SYMBOLIZE_H
#define LM_SYMBOLIZE_H

#include "internal.h"

struct lm_sym {
    const char *module;      /* object path; "?" when no object holds pc */
    uintptr_t bias;          /* offset = pc - bias (bias 0 when unknown) */
    const char *function;    /* NULL when unknown */
    uintptr_t fn_start;      /* function's address: pc - fn_start = +off */
    const char *file;        /* NULL when unknown */
    int line;                /* 0 when unknown */
};

void lm_symbolize_begin(void);
/* Resolves pc.  is_return: pc is a return address (every frame of a
 * captured stack is one, see backtrace.h), so pc - 1, the call
 * instruction, is what gets looked up (a call that ends a function would
 * otherwise be attributed to the next one).  Always fills *out; returns
 * false when no module holds pc. */
bool lm_symbolize(uintptr_t pc, bool is_return, struct lm_sym *out);
void lm_symbolize_end(void);

/* The running program's path (readlink of /proc/self/exe with a raw
 * syscall), cached after the first call; "?" when unreadable. */
const char *lm_exe_path(void);

struct lm_symbolize_stats {
    size_t lookups;          /* lm_symbolize calls this session */
    size_t resolved;         /* of them, cache misses resolved afresh */
    bool dwfl_ok;            /* the libdwfl session could be opened */
};
void lm_symbolize_get_stats(struct lm_symbolize_stats *out);

#endif
