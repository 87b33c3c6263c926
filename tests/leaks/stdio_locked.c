/*
 * stdio_locked - a thread holds stdio's list of streams when the program
 * ends: it calls fflush(NULL), which locks the list and then blocks writing
 * a stream into a pipe that is full and that nobody reads.  Meanwhile the
 * program leaks a 666-byte block and ends with _exit(0).  The exit check
 * stops that thread where it is; the report must not need stdio's list
 * then (libdwfl opens /proc/self/maps with fopen: the check waited for
 * ever).  Expected: the report with the leak (definite 1 block / 666
 * bytes, allocated in leak_while_flushing).
 */
#include "leaks_common.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static FILE *stuck;
static volatile int flushing;

static void *flusher(void *arg)
{
    (void)arg;
    __atomic_store_n(&flushing, 1, __ATOMIC_RELEASE);
    fflush(NULL);                  /* blocks in write(), the list locked */
    return NULL;
}

LK_NOINLINE void leak_while_flushing(void)
{
    char *p = lk_xmalloc(666);
    lk_fill(p, 666);
}

int main(void)
{
    int fds[2];
    if (pipe(fds) != 0)
        return 1;
    /* fill the pipe so that the next write blocks */
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    static char chunk[4096];
    while (write(fds[1], chunk, sizeof chunk) > 0)
        ;
    fcntl(fds[1], F_SETFL, 0);
    stuck = fdopen(fds[1], "w");
    if (!stuck || fputs("pending\n", stuck) < 0)
        return 1;
    pthread_t t;
    if (pthread_create(&t, NULL, flusher, NULL) != 0)
        return 1;
    while (!__atomic_load_n(&flushing, __ATOMIC_ACQUIRE))
        ;
    struct timespec ts = { 0, 200000000 };     /* let it reach the write */
    nanosleep(&ts, NULL);
    leak_while_flushing();
    lk_clobber_stack();
    _exit(0);
}
