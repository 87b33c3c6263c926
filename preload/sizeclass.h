/*
 * sizeclass.h - small-block size classes: a const table and an O(1)
 * size -> class mapping (no table walk, one clz).
 *
 * Classes are multiples of 16 up to 128 (8 classes), then 4 per doubling
 * (160, 192, 224, 256, 320, ...) up to LM_SMALL_MAX: worst-case internal
 * rounding 25%, typically ~11%.  Requests above LM_SMALL_MAX are "large"
 * and get whole 256 KiB units (large.c).  LM_SMALL_MAX = 64 KiB (3 blocks
 * per arena at the top class): with 32 KiB, blocks of 32-64 KiB took a
 * whole unit each and a churn of mixed sizes up to 1 MiB re-faulted the
 * unused tails of recycled units (wl_mixed: 10x slower than glibc); see
 * README "Design choices".
 *
 * Every class size is a multiple of 16 (malloc's alignment guarantee), and
 * an arena's data area starts at the class's natural alignment (lowest set
 * bit of the size, capped at 4 KiB), so blocks of class size 64*k are 64-byte
 * aligned: memalign picks the first class whose size is a multiple of the
 * alignment.
 */
#ifndef LM_SIZECLASS_H
#define LM_SIZECLASS_H

#include "internal.h"

#define LM_SMALL_MAX     65536u
#define LM_NUM_CLASSES   44u

extern const uint32_t lm_class_size[LM_NUM_CLASSES];

/* size 0..LM_SMALL_MAX -> class index. */
LM_INLINE unsigned lm_size_class(size_t size)
{
    if (size <= 128)
        return size ? (unsigned)((size - 1) >> 4) : 0;
    size_t s = size - 1;
    unsigned b = 63u - (unsigned)__builtin_clzl(s);   /* floor(log2(size-1)), >= 7 */
    return 8u + (b - 7u) * 4u + (unsigned)((s >> (b - 2u)) & 3u);
}

/* ceil(2^48 / size): (offset * magic) >> 48 == offset / size exactly for
 * every offset < 2^18 that is a multiple of size, and floor(offset/size) for
 * any offset < 2^18 (see arena.c for the bound). */
LM_INLINE uint64_t lm_div_magic(uint32_t size)
{
    return ((1ull << 48) + size - 1) / size;
}

/* Natural alignment of a class: lowest set bit of the size, at most 4 KiB. */
LM_INLINE uint32_t lm_class_align(uint32_t size)
{
    uint32_t low = size & (0u - size);
    return low > 4096u ? 4096u : low;
}

#endif
