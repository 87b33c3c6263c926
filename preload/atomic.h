/*
 * atomic.h - thin wrappers over libatomic_ops (as Boehm GC uses it) plus the
 * one operation it lacks (exchange), and a test-and-set spinlock.
 *
 * All wrappers take AO_t (a word).  _acq/_rel/_full name the ordering.
 */
#ifndef LM_ATOMIC_H
#define LM_ATOMIC_H

#include <atomic_ops.h>
#include <sched.h>
#include "internal.h"

LM_INLINE AO_t lm_load_acq(volatile AO_t *p) { return AO_load_acquire(p); }
LM_INLINE AO_t lm_load_relaxed(volatile AO_t *p) { return AO_load(p); }
LM_INLINE void lm_store_rel(volatile AO_t *p, AO_t v) { AO_store_release(p, v); }
LM_INLINE void lm_store_relaxed(volatile AO_t *p, AO_t v) { AO_store(p, v); }
LM_INLINE int lm_cas_full(volatile AO_t *p, AO_t old, AO_t val)
{
    return AO_compare_and_swap_full(p, old, val);
}
LM_INLINE AO_t lm_fetch_add(volatile AO_t *p, AO_t v) { return AO_fetch_and_add_full(p, v); }
/* libatomic_ops has no exchange; the GCC builtin compiles to one xchg. */
LM_INLINE AO_t lm_exchange_full(volatile AO_t *p, AO_t v)
{
    return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}
LM_INLINE void lm_fence_full(void) { AO_nop_full(); }

/* A spinlock for short critical sections that never call out of leakmark.
 * Yields the CPU when contended (two cores: the holder may be descheduled). */
LM_INLINE void lm_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

typedef struct { volatile AO_TS_t flag; } lm_spinlock_t;
#define LM_SPINLOCK_INIT { AO_TS_INITIALIZER }

LM_INLINE bool lm_spin_trylock(lm_spinlock_t *l)
{
    return AO_test_and_set_acquire(&l->flag) == AO_TS_CLEAR;
}
LM_INLINE void lm_spin_lock(lm_spinlock_t *l)
{
    unsigned spins = 0;
    while (AO_test_and_set_acquire(&l->flag) != AO_TS_CLEAR) {
        while (l->flag != AO_TS_CLEAR) {     /* plain volatile read while spinning */
            if (++spins > 64)
                sched_yield();
            else
                lm_cpu_relax();
        }
    }
}
LM_INLINE void lm_spin_unlock(lm_spinlock_t *l) { AO_CLEAR(&l->flag); }
/* In a fork child: whoever held it no longer exists. */
LM_INLINE void lm_spin_reset(lm_spinlock_t *l) { AO_CLEAR(&l->flag); }

#endif
