/*
 * dump_blocked_thread.c - a program with one thread that blocks every
 * signal for its whole life, as jemalloc's background thread does (Debian's
 * redis-server runs one), dumped by run_dump_pause.py.
 *
 *   dump_blocked_thread        runs until EOF on stdin
 *
 * The blocked thread sleeps in pthread_cond_timedwait (1 ms timeouts, so it
 * wakes often, like a purging thread); a second, ordinary thread allocates
 * and frees small blocks with short sleeps.  Prints one line when both
 * threads have allocated, one at the end.  leakmark cannot stop the
 * blocked thread (its stop signal stays pending): the dump must give up on
 * it and scan its stack without registers - and how long the program
 * stays stopped while leakmark decides that is what run_dump_pause.py
 * measures.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile int g_stop;
static volatile int g_blocked_ready, g_busy_ready;   /* first allocations done */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static void *g_kept;        /* the blocked thread's block: reachable */

static void *blocked_main(void *arg)
{
    (void)arg;
    g_kept = malloc(4096);
    memset(g_kept, 1, 4096);
    __atomic_store_n(&g_blocked_ready, 1, __ATOMIC_RELEASE);
    pthread_mutex_lock(&g_lock);
    while (!g_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&g_cond, &g_lock, &ts);
    }
    pthread_mutex_unlock(&g_lock);
    return NULL;
}

static void *busy_main(void *arg)
{
    (void)arg;
    void *ring[64] = { 0 };
    for (unsigned i = 0; !g_stop; i++) {
        unsigned k = i % 64;
        free(ring[k]);
        ring[k] = malloc(16 + i % 300);
        if (!ring[k])
            abort();
        memset(ring[k], 2, 16);
        if (k == 63) {
            __atomic_store_n(&g_busy_ready, 1, __ATOMIC_RELEASE);
            struct timespec ts = { 0, 100000 };
            nanosleep(&ts, NULL);
        }
    }
    for (unsigned k = 0; k < 64; k++)
        free(ring[k]);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);      /* inherited by the thread */
    pthread_t blocked, busy;
    if (pthread_create(&blocked, NULL, blocked_main, NULL) != 0)
        return 1;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pthread_create(&busy, NULL, busy_main, NULL) != 0)
        return 1;
    /* Ready once both threads are past their first allocations: a thread's
     * first stack capture may go through libunwind, which blocks signals
     * for a moment (and may wait for the loader lock a dump holds); a dump
     * then would rightly count it as not stopped too. */
    while (!__atomic_load_n(&g_blocked_ready, __ATOMIC_ACQUIRE) ||
           !__atomic_load_n(&g_busy_ready, __ATOMIC_ACQUIRE)) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    printf("dump_blocked_thread: running\n");
    char buf[64];
    while (read(0, buf, sizeof buf) > 0)
        ;
    g_stop = 1;
    pthread_join(blocked, NULL);
    pthread_join(busy, NULL);
    free(g_kept);
    printf("dump_blocked_thread: done\n");
    return 0;
}
