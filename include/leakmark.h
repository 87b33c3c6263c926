/*
 * leakmark.h - the public API of leakmark for programs that want to
 * cooperate with it.  Nothing requires it: leakmark checks unmodified
 * programs.  Include it, call the lm_* functions below, link nothing.
 *
 * Without leakmark.  The functions are static inline wrappers around weak
 * references to entry points that only libleakmark.so defines.  When the
 * program runs without LD_PRELOAD=libleakmark.so those references are
 * null and every call returns the neutral value given below without doing
 * anything, so a program built with this header runs unchanged with or
 * without leakmark (as LeakSanitizer's interface does).  Needs GCC or Clang
 * and dynamic linking; the calling code must be compiled as
 * position-independent code (-fPIE, Debian's default, or -fPIC): code
 * built with -fno-pie takes the weak addresses at link time, as null, and
 * its calls stay neutral even under leakmark.  With other compilers every
 * call is neutral.
 *
 * Contract.
 *  - Thread safety: every call may be made from any thread, concurrently.
 *  - Signal safety: lm_not_leak, lm_ignore, lm_register_root,
 *    lm_unregister_root and lm_is_active are async-signal-safe (lock-free,
 *    no allocation).  lm_check_now and lm_dump_heap are not: they stop
 *    the other threads and may allocate; call them from normal code.
 *  - Bad arguments never crash: a pointer leakmark never handed out (or a
 *    freed block), an empty region, unregistering a region never
 *    registered - each gets one warning line on leakmark's log (stderr or
 *    log_path; none with verbosity=0) naming the call, the address and the
 *    caller, and the call returns an errno value and changes nothing.
 *    NULL is a no-op.
 *  - Pointers: lm_not_leak and lm_ignore accept a pointer to the start of
 *    a block or anywhere inside it (a C++ base-class pointer, a field
 *    address); they act on the whole block.  A block that realloc() moves
 *    is a new block, without the flag: flag the new pointer again.  The
 *    last of lm_not_leak / lm_ignore called on a block wins.  The flag
 *    goes away with the block: once freed, a block reusing its address is
 *    checked normally.
 *  - Root regions: [addr, addr + len) is scanned for pointers as a root by
 *    every leak check and every dump until it is unregistered, for the part
 *    of it that is mapped readable at the time (an unmapped region costs
 *    nothing and is never read).  Register memory that can be read without
 *    side effects (not device memory).  A region inside malloc'ed memory is
 *    refused (EINVAL): use lm_not_leak on that block instead.  The same
 *    region may be registered more than once; each lm_unregister_root
 *    removes one registration of exactly that (addr, len).
 *  - Stack: lm_check_now and lm_dump_heap zero the dead stack below the
 *    caller's frame that they used (at most 256 KiB), where the mark left
 *    copies of block addresses that the next check would otherwise find
 *    in the program's later frames.
 *  - Limits: 4096 registered regions (ENOSPC beyond); flagged blocks are
 *    unlimited.
 */
#ifndef LEAKMARK_H
#define LEAKMARK_H

#include <errno.h>
#include <stddef.h>

#define LEAKMARK_API_VERSION 1

#ifdef __cplusplus
extern "C" {
#endif

/* The entry points of libleakmark.so.  Call them through the wrappers
 * below, which check that they exist. */
#if defined(LEAKMARK_IMPLEMENTATION)
#define LEAKMARK_WEAK_               /* libleakmark.so defines them */
#elif defined(__GNUC__)
#define LEAKMARK_WEAK_ __attribute__((weak))
#endif

#ifdef LEAKMARK_WEAK_
extern long lm_v1_check_now(void) LEAKMARK_WEAK_;
extern int lm_v1_dump_heap(void) LEAKMARK_WEAK_;
extern int lm_v1_not_leak(const void *p) LEAKMARK_WEAK_;
extern int lm_v1_ignore(const void *p) LEAKMARK_WEAK_;
extern int lm_v1_register_root(const void *addr, size_t len) LEAKMARK_WEAK_;
extern int lm_v1_unregister_root(const void *addr, size_t len) LEAKMARK_WEAK_;
extern int lm_v1_is_active(void) LEAKMARK_WEAK_;
#endif

#if !defined(LEAKMARK_IMPLEMENTATION)

#ifdef LEAKMARK_WEAK_
#define LEAKMARK_CALL_(fn, args, neutral) ((fn) ? (fn) args : (neutral))
#else
#define LEAKMARK_CALL_(fn, args, neutral) (neutral)
#endif

/* 1 when the program runs under leakmark, 0 otherwise. */
static inline int lm_is_active(void)
{
    return LEAKMARK_CALL_(lm_v1_is_active, (), 0);
}

/* Runs a leak check now, while the program keeps running (its threads
 * pause for the mark): the same text and JSON report as at exit, with
 * trigger "api".  Returns the number of leaked blocks reported (definite
 * + indirect, after suppressions), or -1 when no check ran (leak_check=0,
 * an error, which is logged, or no leakmark). */
static inline long lm_check_now(void)
{
    return LEAKMARK_CALL_(lm_v1_check_now, (), -1L);
}

/* Writes a heap dump to dump_path now (trigger "api"), as the dump signal
 * does; returns when the file is complete.  Returns 0, or an errno value
 * (logged); ENOSYS without leakmark. */
static inline int lm_dump_heap(void)
{
    return LEAKMARK_CALL_(lm_v1_dump_heap, (), ENOSYS);
}

/* The block containing p is not a leak (kmemleak_not_leak): it is never
 * reported, and its contents are scanned as a root, so everything reachable
 * from it is not reported either.  Returns 0, or EINVAL for a pointer to no
 * live block (one warning line).  0 without leakmark. */
static inline int lm_not_leak(const void *p)
{
    return LEAKMARK_CALL_(lm_v1_not_leak, (p), 0);
}

/* The block containing p is never reported, and its contents are not
 * scanned (kmemleak_ignore): what only it points to is reported as usual.
 * Counted as reachable.  Returns 0 or EINVAL, as lm_not_leak. */
static inline int lm_ignore(const void *p)
{
    return LEAKMARK_CALL_(lm_v1_ignore, (p), 0);
}

/* Scans [addr, addr + len) as a root from now on (memory leakmark does not
 * otherwise scan: shared mappings, a custom allocator's file-backed pool,
 * memory hidden from /proc/self/maps' anonymous mappings by scan_mmap=0).
 * Returns 0; EINVAL for len 0, a wrapping range or one inside malloc'ed
 * memory; ENOSPC when 4096 regions are registered.  0 without leakmark. */
static inline int lm_register_root(const void *addr, size_t len)
{
    return LEAKMARK_CALL_(lm_v1_register_root, (addr, len), 0);
}

/* Removes one registration of exactly (addr, len).  Returns 0, or ENOENT
 * (one warning line) when there is none.  0 without leakmark. */
static inline int lm_unregister_root(const void *addr, size_t len)
{
    return LEAKMARK_CALL_(lm_v1_unregister_root, (addr, len), 0);
}

#endif /* !LEAKMARK_IMPLEMENTATION */

#ifdef __cplusplus
}
#endif

#endif
