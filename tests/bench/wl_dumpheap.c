/*
 * wl_dumpheap.c - benchmark workload for heap dumps: a live heap that
 * stays up until stdin reaches EOF, so that scripts/bench.sh --dumps (via
 * lm-dumptime) can dump it several times.
 *
 *   wl_dumpheap MIB BLOCKS [POINTER_DENSITY [CHURN]]
 *
 * Builds BLOCKS blocks of equal size (MIB MiB / BLOCKS, rounded down to a
 * multiple of 8, at least 16 bytes), all reachable from a global: block i
 * holds start pointers to blocks 2i+1 and 2i+2 in its first two words, and
 * every further word is, with probability POINTER_DENSITY (default 0.1), a
 * start pointer to a random block, else a small integer no pointer test
 * accepts (the same heap as wl_exitcheck, without the leaks).  Every page
 * of the heap is written, so it is all resident.
 *
 * Then it times fork() of itself three times (the child _exits at once;
 * the minimum is printed as fork_ms: the floor under any fork-based
 * snapshot of this process), prints one line and flushes it:
 *   wl_dumpheap: ready blocks=N block_size=S live_bytes=B pointers=P fork_ms=F
 * and waits for EOF on stdin.  Meanwhile, with CHURN (default 1), a second
 * thread allocates and frees 16-512 byte blocks in a ring of 256, pausing
 * 50 us every 256 operations: a dump has a busy thread to stop, as in a
 * real program, without taking a whole core from the dump's own work.
 * Exits 0 after EOF (run it with leak_check=0: the heap stays allocated).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wl_tree.h"

void **dumpheap_root;       /* the root of the whole heap */

static volatile int stop_churn;

static void *xmalloc(size_t n) { return wl_xmalloc("wl_dumpheap", n); }

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double fork_ms(void)
{
    double best = -1;
    for (int i = 0; i < 3; i++) {
        double t0 = now_ms();
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        double t = now_ms() - t0;
        if (pid < 0)
            return -1;
        waitpid(pid, NULL, 0);
        if (best < 0 || t < best)
            best = t;
    }
    return best;
}

static void *churn(void *arg)
{
    (void)arg;
    void *ring[256] = { 0 };
    uint64_t s = 0x1234567;
    for (unsigned i = 0; !stop_churn; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        unsigned k = i & 255;
        free(ring[k]);
        ring[k] = xmalloc(16 + s % 497);
        memset(ring[k], (int)i, 16);
        if (k == 255) {
            struct timespec ts = { 0, 50000 };
            nanosleep(&ts, NULL);
        }
    }
    for (unsigned k = 0; k < 256; k++)
        free(ring[k]);
    return NULL;
}

int main(int argc, char **argv)
{
    struct wl_tree t;
    int err = wl_tree_args("wl_dumpheap", "MIB BLOCKS [POINTER_DENSITY [CHURN]]", argc, argv, &t);
    if (!err)
        err = wl_tree_build("wl_dumpheap", 0xd0d0cafe, &t);
    if (err)
        return err;
    int with_churn = argc > 4 ? atoi(argv[4]) : 1;
    dumpheap_root = t.root;

    double fms = fork_ms();
    pthread_t th;
    if (with_churn && pthread_create(&th, NULL, churn, NULL) != 0) {
        fprintf(stderr, "wl_dumpheap: pthread_create failed\n");
        return 1;
    }
    printf("wl_dumpheap: ready blocks=%zu block_size=%zu live_bytes=%llu pointers=%llu "
           "fork_ms=%.2f\n", t.blocks, t.size, (unsigned long long)t.blocks * t.size,
           (unsigned long long)t.pointers, fms);
    fflush(stdout);
    char buf[256];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        ;
    stop_churn = 1;
    if (with_churn)
        pthread_join(th, NULL);
    return 0;
}
