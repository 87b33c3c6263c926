/*
 * roots.h - the root set of a leak check: address ranges whose words the
 * marker treats as pointers, each tagged with where it came from.
 *
 * Concept.  A struct lm_roots is a list of [lo, hi) ranges (mmap-backed,
 * lm_mmvec) plus a list of exclusions.  The caller (the exit check, with
 * the world stopped) adds what only it knows with lm_roots_add: every
 * thread's live stack [sp, base) (STACK), its saved registers (REGISTERS),
 * its static TLS block (TLS).  Then lm_roots_collect appends, in this
 * fixed order:
 *   USER    regions the program registered through the public API
 *           (include/leakmark.h, api.h), clipped to what /proc/self/maps
 *           says is readable at the time (read only when one was ever
 *           registered);
 *   GLOBAL  writable, readable PT_LOAD segments of the executable and of
 *           every loaded object (dlopen'ed ones too), from dl_iterate_phdr,
 *           clipped to what /proc/self/maps says is readable, minus
 *           leakmark's own object when it is a shared object of its own
 *           (libleakmark.so; when lm_core is linked into the executable, as
 *           in unit tests, the executable is kept);
 *   MMAP    (lm_options.scan_mmap) private, anonymous, readable and
 *           writable mappings from /proc/self/maps ("[heap]" and named
 *           "[anon:...]" ones included; [stack], [vvar], [vdso], [vsyscall],
 *           file, shared, device and non-readable mappings excluded), minus
 *           every range already in the list, minus the part of a mapping
 *           below each STACK range (a thread's dead stack below its SP holds
 *           stale pointers; not the whole mapping, which the kernel may have
 *           merged with a neighbour), minus exclusions (the caller should
 *           exclude whole thread stack mappings it knows, alternate signal
 *           stacks, ...), leakmark's region and its
 *           unit tables, and only the pages that are resident (mincore), so
 *           huge untouched reservations cost nothing.
 * So: add STACK/REGISTERS/TLS ranges BEFORE lm_roots_collect.
 *
 * Invariant: every range in the list is readable and outside leakmark's
 * region [lm_region_base, +lm_region_size) (lm_roots_add clips it out), so
 * the marker can read it without faulting provided the world stays
 * stopped (a running thread could munmap).  Ranges given by the caller are
 * trusted to be readable.
 *
 * The loader lock.  dl_iterate_phdr takes glibc's dl_load_write_lock (a
 * recursive lock).  If another thread was stopped while holding it (inside
 * its own dl_iterate_phdr callback, e.g. libgcc's unwinder during a C++
 * throw, or inside dlopen/dlclose updating the object list), calling
 * dl_iterate_phdr with the world stopped deadlocks.  Our choice, as
 * LeakSanitizer's LockStuffAndStopTheWorld: the caller runs the whole
 * stopped phase inside lm_roots_with_loader_lock(fn, arg), which enters
 * dl_iterate_phdr and calls fn from its callback.  The lock is then held by
 * the checking thread for the whole check, so no stopped thread can hold
 * it, no object can be added or unmapped half-way (dlclose removes an
 * object from the list under that lock before it unmaps it), and the nested
 * dl_iterate_phdr of lm_roots_collect re-takes the recursive lock from the
 * same thread.  Threads that try to dlopen meanwhile just wait.  Callers
 * that cannot do that may call lm_roots_collect_globals before stopping
 * the world (racy against a concurrent dlclose, which could then unmap a
 * listed segment: not recommended).
 *
 * Own memory.  Besides the region and the unit tables, leakmark's other
 * metadata mappings (lm_meta_alloc chunks, stack depot, mmvecs) cannot be
 * enumerated yet and are scanned as MMAP when scan_mmap=1; they hold no
 * raw pointers to live blocks (the marker stores block references
 * encoded, see mark.c), so this costs time, not correctness.
 *
 * Locking: none; a root list belongs to one thread.  Not for signal
 * handlers (dl_iterate_phdr).  Never calls malloc or stdio: /proc/self/maps
 * is read with raw syscalls into an on-stack buffer.
 */
#ifndef LM_ROOTS_H
#define LM_ROOTS_H

#include "internal.h"
#include "mmvec.h"

enum lm_root_kind {
    LM_ROOT_GLOBAL = 0,
    LM_ROOT_MMAP,
    LM_ROOT_STACK,
    LM_ROOT_REGISTERS,
    LM_ROOT_TLS,
    LM_ROOT_USER,
    LM_ROOT_KINDS
};

struct lm_root {
    uintptr_t lo, hi;          /* [lo, hi), lo < hi */
    uint32_t kind;             /* enum lm_root_kind */
    uint32_t pad;
};

struct lm_roots {
    lm_mmvec_t ranges;         /* struct lm_root, in the order added */
    lm_mmvec_t exclude;        /* struct lm_root (kind unused): never MMAP */
    size_t bytes[LM_ROOT_KINDS];
    size_t count[LM_ROOT_KINDS];
    int error;                 /* first ENOMEM met, 0 if none */
};

void lm_roots_init(struct lm_roots *r);
/* Empties both lists, keeping their mappings for reuse. */
void lm_roots_reset(struct lm_roots *r);
void lm_roots_free(struct lm_roots *r);

/* Appends [lo, hi) minus leakmark's region (empty ranges are ignored).
 * Returns 0 or ENOMEM (also remembered in r->error). */
int lm_roots_add(struct lm_roots *r, uintptr_t lo, uintptr_t hi, enum lm_root_kind kind);
/* [lo, hi) will never be listed as MMAP (e.g. a whole thread stack mapping,
 * a sigaltstack).  Returns 0 or ENOMEM. */
int lm_roots_exclude(struct lm_roots *r, uintptr_t lo, uintptr_t hi);

/* USER, GLOBAL, then MMAP (when lm_options.scan_mmap), as described above.
 * Returns 0, or the first errno met (what could be collected is kept). */
int lm_roots_collect(struct lm_roots *r);
int lm_roots_collect_user(struct lm_roots *r);
int lm_roots_collect_globals(struct lm_roots *r);
int lm_roots_collect_mmap(struct lm_roots *r);

/* Calls fn(arg) with the loader's dl_load_write_lock held by the calling
 * thread (see "The loader lock" above).  fn may call lm_roots_collect. */
void lm_roots_with_loader_lock(void (*fn)(void *arg), void *arg);

LM_INLINE size_t lm_roots_len(const struct lm_roots *r) { return r->ranges.len; }
LM_INLINE const struct lm_root *lm_roots_at(const struct lm_roots *r, size_t i)
{
    return (const struct lm_root *)r->ranges.data + i;
}

const char *lm_root_kind_name(enum lm_root_kind kind);
/* One lm_log line per kind with a count and bytes (verbosity >= 3). */
void lm_roots_log(const struct lm_roots *r);

#endif
