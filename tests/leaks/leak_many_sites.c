/*
 * leak_many_sites - three allocation sites leaking different amounts:
 *   site_a: 10 blocks x 100 bytes = 1000 bytes
 *   site_b: 20 blocks x  30 bytes =  600 bytes
 *   site_c: 30 blocks x  50 bytes = 1500 bytes
 * Expected: definite 60 blocks / 3100 bytes in three leak entries sorted by
 * bytes: site_c (1500), site_a (1000), site_b (600).
 * Each site keeps its pointer in one local that the next iteration
 * overwrites; the last value dies with the frame, which lk_clobber_stack
 * zeroes.
 */
#include "leaks_common.h"

static LK_NOINLINE void leak_n(int n, size_t size, void (*alloc_one)(size_t))
{
    for (int i = 0; i < n; i++)
        alloc_one(size);
}

/* One allocation call site per function, so each has its own stack. */
LK_NOINLINE void site_a(size_t size) { lk_fill(lk_xmalloc(size), size); }
LK_NOINLINE void site_b(size_t size) { lk_fill(lk_xmalloc(size), size); }
LK_NOINLINE void site_c(size_t size) { lk_fill(lk_xmalloc(size), size); }

int main(void)
{
    leak_n(10, 100, site_a);
    leak_n(20, 30, site_b);
    leak_n(30, 50, site_c);
    lk_clobber_stack();
    return 0;
}
