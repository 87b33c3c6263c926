/*
 * os.h - the only door to the kernel for memory and process facts.
 *
 * Contract (as mimalloc's prim.h): functions return 0 on success or an errno
 * value; sizes and addresses given to the memory calls are page aligned.
 * Everything here is async-signal-safe and never allocates: raw syscalls,
 * no stdio, environ read directly.
 */
#ifndef LM_OS_H
#define LM_OS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <stdbool.h>

#define LM_PAGE_SIZE 4096u

/* Reserves `size` bytes of address space aligned to `align` (a power of two
 * >= page), inaccessible (PROT_NONE, not counted as committed memory). */
int lm_os_reserve(size_t size, size_t align, void **out);
/* Makes [p, p+n) of a reservation readable and writable. */
int lm_os_commit(void *p, size_t n);
/* Gives the pages of [p, p+n) back to the kernel; they stay mapped and read
 * as zero afterwards. */
int lm_os_purge(void *p, size_t n);
/* Plain anonymous read-write mapping for leakmark's own metadata; resized
 * (may move); given back.  All three keep the registry of our own mappings
 * that the root scan leaves out. */
int lm_os_map(size_t n, void **out);
int lm_os_remap(void *old, size_t old_n, size_t new_n, void **out);
/* Like lm_os_map, but shared with the children this process forks (pages
 * are given memory when first touched): how snapshot children hand results
 * back. */
int lm_os_map_shared(size_t n, void **out);
int lm_os_unmap(void *p, size_t n);
/* Calls fn for every mapping leakmark owns (and, while the graveyard is
 * kept, every one it unmapped or moved since): ranges never to scan. */
void lm_os_foreach_own(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg);
void lm_os_own_graveyard(bool keep);
/* The registry's lock, for fork and for stopping the world (leakcheck.c):
 * taken last, after the allocator's locks. */
void lm_os_atfork_prepare(void);
void lm_os_atfork_parent(void);
void lm_os_atfork_child(void);

/* environ lookup without libc's getenv (safe before libc is set up). */
const char *lm_os_getenv(const char *name);
/* 64 random bits (getrandom, falling back to time and addresses). */
uint64_t lm_os_random(void);
pid_t lm_os_gettid(void);
pid_t lm_os_getpid(void);
/* Monotonic clock in nanoseconds. */
uint64_t lm_os_now_ns(void);

#endif
