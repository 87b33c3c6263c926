/*
 * dlopen_in_progress - a thread is inside dlopen() (the library's
 * constructor sleeps, the loader's dl_load_lock held) when the program
 * leaks a 777-byte block and ends with _exit(0).  The exit check stops
 * that thread where it is; the report must then be written without the
 * loader's lock (symbolizing through dladdr took it: the check waited for
 * ever on a lock held by a thread it had stopped).  Expected: the report,
 * with the leak (definite 1 block / 777 bytes, allocated in
 * leak_while_loading), well before the constructor's 30 s are up.
 */
#include "leaks_common.h"

#include <dlfcn.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

volatile int lk_ctor_entered;           /* set by the library's constructor */

static void *loader(void *arg)
{
    (void)arg;
    dlopen(LK_SLOW_DSO_PATH, RTLD_NOW);        /* returns after 30 s */
    return NULL;
}

LK_NOINLINE void leak_while_loading(void)
{
    char *p = lk_xmalloc(777);
    lk_fill(p, 777);
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, loader, NULL) != 0)
        return 1;
    /* no loader call here: they would wait for the lock the thread holds */
    for (int i = 0; i < 20000 && !__atomic_load_n(&lk_ctor_entered, __ATOMIC_ACQUIRE); i++) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    if (!lk_ctor_entered)
        return 2;
    leak_while_loading();
    lk_clobber_stack();
    _exit(0);
}
