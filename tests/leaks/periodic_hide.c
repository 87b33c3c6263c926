/*
 * periodic_hide.c - periodic scans (scan_interval): a real leak is reported
 * by exactly one scan; pointers hidden for less than a scan interval are
 * never reported.
 *
 * One 777-byte block is lost at start, one 888-byte block at argv[2] ms
 * (default 2200): a later scan must report it, and only it.  Until the run
 * time (argv[1] ms, default 6500) is over, the program hides a fresh 555-byte block: its
 * only pointer is kept XOR-ed with a key that makes it a non-canonical
 * address (no scan can see it), for 400 ms; then it restores the pointer
 * and frees the block, and waits 100 ms.  A scan that lands in a hidden
 * window finds the block unreachable once; the next scan, 1 s later, finds
 * either nothing (freed) or a newer block at best - so with
 * min_unref_scans=2 none may ever be reported.  Prints "episodes ok".
 */
#define _GNU_SOURCE
#include "leaks_common.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define HIDE_KEY ((uintptr_t)0xa5a5000000000000ull)

static volatile uintptr_t hidden;

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static LK_NOINLINE void leak_once(size_t size)
{
    void *p = lk_xmalloc(size);
    lk_fill(p, size);
}

static LK_NOINLINE void hide_fresh(void)
{
    void *p = lk_xmalloc(555);
    lk_fill(p, 555);
    hidden = (uintptr_t)p ^ HIDE_KEY;
}

static LK_NOINLINE void unhide_and_free(void)
{
    void *p = (void *)(hidden ^ HIDE_KEY);
    hidden = 0;
    free(p);
}

int main(int argc, char **argv)
{
    long run_ms = argc > 1 ? atol(argv[1]) : 6500;
    long second_ms = argc > 2 ? atol(argv[2]) : 2200;
    long start = now_ms(), end = start + run_ms;
    bool second = false;
    leak_once(777);
    lk_clobber_stack();
    unsigned episodes = 0;
    while (now_ms() < end) {
        if (!second && now_ms() >= start + second_ms) {
            leak_once(888);
            lk_clobber_stack();
            second = true;
        }
        hide_fresh();
        lk_clobber_stack();
        sleep_ms(400);
        unhide_and_free();
        lk_clobber_stack();
        sleep_ms(100);
        episodes++;
    }
    printf("%s\n", episodes > 0 ? "episodes ok" : "no episode");
    return 0;
}
