/*
 * exit_from_thread - a second thread leaks a 4321-byte block and calls
 * exit(0) while main is blocked in pthread_join.  Expected: the report is
 * written and holds the leak (definite 1 block / 4321 bytes, allocated in
 * leak_in_thread).
 * The thread clobbers its stack before calling exit; main never sees the
 * pointer.
 */
#include "leaks_common.h"

#include <pthread.h>

LK_NOINLINE void leak_in_thread(void)
{
    char *p = lk_xmalloc(4321);
    lk_fill(p, 4321);
}

static void *thread_main(void *arg)
{
    (void)arg;
    leak_in_thread();
    lk_clobber_stack();
    exit(0);
}

int main(void)
{
    pthread_t t;
    LK_REQUIRE(pthread_create(&t, NULL, thread_main, NULL) == 0);
    pthread_join(t, NULL);   /* never returns: the thread exits the process */
    return 1;
}
