/*
 * root_tls_thread - a block (4006 bytes) whose only pointer is a __thread
 * variable of a second thread that is still alive (blocked in pause())
 * when main returns.  Expected: no definite/indirect leak, no leak entry
 * of 4006 bytes, the block counted in reachable.
 * The thread sets its variable in keep(), clobbers its own stack, then
 * tells main it is ready; main never sees the pointer.
 */
#include "leaks_common.h"

#include <pthread.h>
#include <unistd.h>

static __thread void *tls_root;
static volatile int ready;

LK_NOINLINE void keep(void)
{
    void *p = lk_xmalloc(4006);
    lk_fill(p, 4006);
    tls_root = p;
}

static void *thread_main(void *arg)
{
    (void)arg;
    keep();
    lk_clobber_stack();
    __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
    for (;;)
        pause();
    return NULL;
}

int main(void)
{
    pthread_t t;
    LK_REQUIRE(pthread_create(&t, NULL, thread_main, NULL) == 0);
    while (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
        usleep(1000);
    return 0;   /* the thread is still blocked in pause() */
}
