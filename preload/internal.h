/*
 * internal.h - attribute macros and small helpers shared by every preload/
 * module.  No state lives here.
 *
 * Naming: functions shared between preload files are prefixed lm_ and are
 * hidden (the whole library builds with -fvisibility=hidden); only the libc
 * entry points in interpose.c and the public API in include/leakmark.h are
 * exported with LM_EXPORT.
 */
#ifndef LM_INTERNAL_H
#define LM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define LM_EXPORT      __attribute__((visibility("default")))
#define LM_HIDDEN      __attribute__((visibility("hidden")))
#define lm_likely(x)   __builtin_expect(!!(x), 1)
#define lm_unlikely(x) __builtin_expect(!!(x), 0)
#define LM_NOINLINE    __attribute__((noinline))
#define LM_COLD        __attribute__((cold, noinline))
#define LM_INLINE      static inline __attribute__((always_inline))
#define LM_THREAD      __thread __attribute__((tls_model("initial-exec")))
#define LM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Assertion levels, as mimalloc's MI_DEBUG: LM_DEBUG=0 none (release),
 * 1 cheap checks, 2 also whole-structure validators. */
#ifndef LM_DEBUG
#define LM_DEBUG 0
#endif
void lm_assert_fail(const char *expr, const char *file, int line) LM_COLD;
#if LM_DEBUG >= 1
#define lm_assert(x) ((x) ? (void)0 : lm_assert_fail(#x, __FILE__, __LINE__))
#else
#define lm_assert(x) ((void)0)
#endif
#if LM_DEBUG >= 2
#define lm_assert_expensive(x) lm_assert(x)
#else
#define lm_assert_expensive(x) ((void)0)
#endif

LM_INLINE uintptr_t lm_align_up(uintptr_t x, uintptr_t a) { return (x + a - 1) & ~(a - 1); }
LM_INLINE uintptr_t lm_align_down(uintptr_t x, uintptr_t a) { return x & ~(a - 1); }
LM_INLINE bool lm_is_pow2(uintptr_t x) { return x && !(x & (x - 1)); }

#endif
