/*
 * threads_two_leaking - two threads leak at the same moment (they meet at a
 * barrier first): thread A one block of 1111 bytes, thread B one of 2222
 * bytes.  Both are joined before main returns.  Expected: definite 2
 * blocks / 3333 bytes, one entry of each size (allocated in leak_in_a /
 * leak_in_b).
 * Each thread clobbers its own stack before it returns: glibc caches the
 * stacks of exited threads, and a cached stack is anonymous memory the
 * check scans.
 */
#include "leaks_common.h"

#include <pthread.h>

static pthread_barrier_t barrier;

LK_NOINLINE void leak_in_a(void)
{
    char *p = lk_xmalloc(1111);
    lk_fill(p, 1111);
}

LK_NOINLINE void leak_in_b(void)
{
    char *p = lk_xmalloc(2222);
    lk_fill(p, 2222);
}

static void *thread_main(void *arg)
{
    pthread_barrier_wait(&barrier);
    if (arg)
        leak_in_b();
    else
        leak_in_a();
    lk_clobber_stack();
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    LK_REQUIRE(pthread_barrier_init(&barrier, NULL, 2) == 0);
    LK_REQUIRE(pthread_create(&a, NULL, thread_main, NULL) == 0);
    LK_REQUIRE(pthread_create(&b, NULL, thread_main, (void *)1) == 0);
    LK_REQUIRE(pthread_join(a, NULL) == 0);
    LK_REQUIRE(pthread_join(b, NULL) == 0);
    pthread_barrier_destroy(&barrier);
    return 0;
}
