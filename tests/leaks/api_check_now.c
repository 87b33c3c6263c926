/*
 * api_check_now - lm_check_now in the middle of the run: a 123-byte block
 * lost before it is reported by that check (trigger "api", one leaked
 * block: the call returns 1); a 456-byte block lost afterwards, and the
 * exit check still runs and reports both.  A second thread keeps
 * allocating and freeing during the check.  Right after lm_check_now, the
 * dead stack below main's frame (where the check ran) holds no copy of the
 * leaked block's address: leakmark scrubs it, or the program's next frames
 * would hand those copies to the next check as live pointers.
 */
#include "api_common.h"

#include <pthread.h>
#include <stdint.h>

static volatile int stop;
static uintptr_t first_leak_hidden;    /* ~address: not a pointer itself */

static void *churn(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        void *p = malloc(64);
        lk_fill(p, 64);
        free(p);
    }
    return NULL;
}

LK_NOINLINE void make_first_leak(void)
{
    void *p = lk_xmalloc(123);
    lk_fill(p, 123);
    first_leak_hidden = ~(uintptr_t)p;
}

/* Words in the 96 KiB below this frame (mapped: lk_clobber_stack wrote
 * 128 KiB there) that point into the first leaked block. */
LK_NOINLINE long stale_copies_below(void)
{
    volatile uintptr_t here[1] = { 0 };
    uintptr_t start = ~first_leak_hidden;
    long hits = 0;
    for (long i = 16; i < 96 * 1024 / (long)sizeof(uintptr_t); i++)
        hits += here[-i] - start < 123;
    return hits;
}

LK_NOINLINE void make_second_leak(void)
{
    lk_fill(lk_xmalloc(456), 456);
}

int main(void)
{
    pthread_t t;
    LK_REQUIRE(pthread_create(&t, NULL, churn, NULL) == 0);
    make_first_leak();
    lk_clobber_stack();
    long leaked = lm_check_now();
    long stale = stale_copies_below();        /* before printf reuses the stack */
    lk_api_expect("check_now", leaked, 1, -1);
    lk_api_expect("no stale copies below", stale, 0, 0);
    lk_api_keep_report();
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    LK_REQUIRE(pthread_join(t, NULL) == 0);
    make_second_leak();
    lk_clobber_stack();
    return lk_api_status();
}
