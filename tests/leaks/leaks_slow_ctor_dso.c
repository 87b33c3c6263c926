/*
 * leaks_slow_ctor_dso - the library dlopen_in_progress loads from a thread:
 * its constructor tells the program it runs (lk_ctor_entered, defined in the
 * program, exported) and then sleeps for 30 s, so that the loader's
 * dl_load_lock, which dlopen holds while constructors run, is held by that
 * thread when the program ends.
 */
#include <time.h>

extern volatile int lk_ctor_entered;

__attribute__((constructor)) static void slow_ctor(void)
{
    __atomic_store_n(&lk_ctor_entered, 1, __ATOMIC_RELEASE);
    struct timespec ts = { 30, 0 };
    while (nanosleep(&ts, &ts) != 0)
        ;
}
