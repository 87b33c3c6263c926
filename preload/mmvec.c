/*
 * mmvec.c - slow paths of the mmap-backed vector (see mmvec.h for the
 * concept, invariants and signal-safety contract).
 *
 * Growth policy: the mapping at least doubles (starting at one page) and is
 * rounded up to whole pages, so n pushes cost O(n) amortised and O(log n)
 * remaps.  mremap with MREMAP_MAYMOVE lets the kernel move page tables
 * instead of copying; if it fails we map a new region, copy and unmap.
 * Memory is only ever returned by lm_mmvec_free.
 */
#include "mmvec.h"
#include "os.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

void lm_mmvec_init(lm_mmvec_t *v, size_t elem_size)
{
    lm_assert(elem_size > 0);
    v->data = NULL;
    v->len = v->cap = v->map_bytes = v->hiwater = 0;
    v->elem_size = elem_size ? elem_size : 1;
}

/* Remaps to exactly `bytes` (page multiple, > map_bytes). */
static int remap_to(lm_mmvec_t *v, size_t bytes)
{
    void *p;
    if (v->data == NULL) {
        int err = lm_os_map(bytes, &p);
        if (err)
            return err;
    } else {
        if (lm_os_remap(v->data, v->map_bytes, bytes, &p) != 0) {
            /* Fallback: fresh mapping + copy of the used part. */
            if (lm_os_map(bytes, &p) != 0)
                return ENOMEM;
            __builtin_memcpy(p, v->data, v->hiwater * v->elem_size);
            lm_os_unmap(v->data, v->map_bytes);
        }
    }
    v->data = p;
    v->map_bytes = bytes;
    v->cap = bytes / v->elem_size;
    return 0;
}

int lm_mmvec_reserve(lm_mmvec_t *v, size_t n)
{
    if (n <= v->cap)
        return 0;
    if (n > SIZE_MAX / v->elem_size)
        return ENOMEM;
    size_t need = n * v->elem_size;
    size_t want = v->map_bytes > SIZE_MAX / 2 ? SIZE_MAX : v->map_bytes * 2;
    if (want < need)
        want = need;
    if (want < LM_PAGE_SIZE)
        want = LM_PAGE_SIZE;
    if (want > SIZE_MAX - (LM_PAGE_SIZE - 1))
        return ENOMEM;
    want = lm_align_up(want, LM_PAGE_SIZE);
    /* Doubling may overshoot what the address space allows although the
     * request itself fits: retry with the exact need. */
    if (remap_to(v, want) == 0)
        return 0;
    size_t exact = lm_align_up(need, LM_PAGE_SIZE);
    if (exact < want && remap_to(v, exact) == 0)
        return 0;
    return ENOMEM;
}

int lm_mmvec_grow(lm_mmvec_t *v)
{
    if (v->len == SIZE_MAX)
        return ENOMEM;
    return lm_mmvec_reserve(v, v->len + 1);
}

int lm_mmvec_resize(lm_mmvec_t *v, size_t n)
{
    if (n > v->len) {
        int err = lm_mmvec_reserve(v, n);
        if (err)
            return err;
        /* Elements past hiwater were never written: still zero pages. */
        size_t dirty_end = n < v->hiwater ? n : v->hiwater;
        if (dirty_end > v->len)
            __builtin_memset((unsigned char *)v->data + v->len * v->elem_size, 0,
                             (dirty_end - v->len) * v->elem_size);
        if (n > v->hiwater)
            v->hiwater = n;
    }
    v->len = n;
    return 0;
}

void lm_mmvec_reset(lm_mmvec_t *v)
{
    v->len = 0;
}

void lm_mmvec_free(lm_mmvec_t *v)
{
    if (v->data)
        lm_os_unmap(v->data, v->map_bytes);
    v->data = NULL;
    v->len = v->cap = v->map_bytes = v->hiwater = 0;
}

void lm_mmvec_swap(lm_mmvec_t *a, lm_mmvec_t *b)
{
    lm_mmvec_t t = *a;
    *a = *b;
    *b = t;
}
