/*
 * root_cond_wait_stack - a block (4008 bytes) whose only pointer is a
 * local variable of a live thread that is blocked in pthread_cond_wait()
 * when main returns: its stack is a root.  Expected: no definite/indirect
 * leak, no leak entry of 4008 bytes, the block counted in reachable.
 * The thread keeps the pointer in a volatile local of its own frame (so
 * the slot is in memory, above its stack pointer), clobbers the stack below
 * that frame, then waits forever; main never sees the pointer.
 */
#include "leaks_common.h"

#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static volatile int ready;

LK_NOINLINE void *make_block(void)
{
    void *p = lk_xmalloc(4008);
    lk_fill(p, 4008);
    return p;
}

static void *thread_main(void *arg)
{
    (void)arg;
    void *volatile held = make_block();
    lk_clobber_stack();
    pthread_mutex_lock(&mu);
    __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
    for (;;)
        pthread_cond_wait(&cv, &mu);   /* nobody signals cv */
    return held;
}

int main(void)
{
    pthread_t t;
    LK_REQUIRE(pthread_create(&t, NULL, thread_main, NULL) == 0);
    while (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
        usleep(1000);
    return 0;
}
