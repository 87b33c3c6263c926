/*
 * signal_malloc - malloc and free from signal handlers while the
 * interrupted code is itself allocating (programs do this although POSIX
 * forbids it).  Under leakmark it must never deadlock: a handler that
 * interrupts its own thread inside an allocator lock gets NULL instead.
 * Two threads allocate (small and large blocks) while an interval timer
 * fires every 200 us into handlers that allocate, capture stacks and free.
 * Prints "signal_malloc: ok N" and exits 0; ctest's timeout catches a hang.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t handled;
static volatile int stop;

static void on_alarm(int sig)
{
    (void)sig;
    void *p = malloc(48 + (handled & 255));
    if (p) {
        memset(p, 0x5a, 48);
        free(p);
    }
    if ((handled & 63) == 0) {
        void *big = malloc(300000);      /* a large block: span lock path */
        free(big);
    }
    handled++;
}

static void *churn(void *arg)
{
    size_t big = (size_t)(uintptr_t)arg;
    void *slot[256] = { 0 };
    unsigned long r = 12345 + big;
    while (!stop) {
        r = r * 6364136223846793005ul + 1442695040888963407ul;
        unsigned k = (unsigned)(r >> 56);
        free(slot[k]);
        size_t n = big && (r & 15) == 0 ? 70000 + (r >> 40) % 500000 : 16 + (r >> 40) % 400;
        slot[k] = malloc(n);
        if (slot[k])
            ((char *)slot[k])[0] = 1;
    }
    for (unsigned k = 0; k < 256; k++)
        free(slot[k]);
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    pthread_t t;
    pthread_create(&t, NULL, churn, (void *)1);
    struct itimerval it = { { 0, 200 }, { 0, 200 } };
    setitimer(ITIMER_REAL, &it, NULL);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    void *slot[64] = { 0 };
    unsigned i = 0;
    do {
        free(slot[i & 63]);
        slot[i & 63] = malloc(8 + (i % 5000));
        i++;
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec - start.tv_sec < 2);
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    stop = 1;
    pthread_join(t, NULL);
    for (unsigned k = 0; k < 64; k++)
        free(slot[k]);
    printf("signal_malloc: ok %d\n", handled > 0);
    return 0;
}
