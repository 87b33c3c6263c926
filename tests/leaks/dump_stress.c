/*
 * dump_stress.c - a program that is dumped while it works (driven by
 * run_dump_signals.py, which sends the dump signal and compares stdout
 * with a run without leakmark).
 *
 *   dump_stress MODE     MODE: small | large | fork | own
 *
 * Every mode prints what SIGUSR1's disposition looks like to the program
 * (leakmark must show SIG_DFL, its own handler hidden), starts two threads
 * that allocate and free until stdin reaches EOF, then joins them and
 * prints a checksum that does not depend on timing.
 *   small  threads allocate 8..2000-byte blocks, keep a rotating window;
 *   large  they also take 300 KiB - 2 MiB blocks and realloc them (the
 *          allocator's slow paths and locks are busy when a stop comes);
 *   fork   the main thread forks children in a loop (each allocates and
 *          _exits) and reaps them with wait(): the pid must be its own
 *          child's, and afterwards waitpid(-1) must find no other child;
 *   own    the program installs its own SIGUSR1 handler with signal(),
 *          which writes "usr1" to stdout: leakmark must step aside.
 * Output is identical with and without leakmark.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int stop;
static int large;

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *worker(void *arg)
{
    uint64_t seed = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
    enum { WINDOW = 512 };
    char *slot[WINDOW] = { 0 };
    size_t i = 0;
    while (!stop) {
        size_t k = i++ % WINDOW;
        free(slot[k]);
        size_t size = 8 + rng(&seed) % 2000;
        if (large && rng(&seed) % 64 == 0)
            size = 300000 + rng(&seed) % 1800000;
        slot[k] = malloc(size);
        if (!slot[k])
            abort();
        memset(slot[k], (int)k, size < 64 ? size : 64);
        if (large && rng(&seed) % 32 == 0)
            slot[k] = realloc(slot[k], size * 2);
    }
    for (size_t k = 0; k < WINDOW; k++)
        free(slot[k]);
    return NULL;
}

static void usr1(int sig)
{
    (void)sig;
    int e = errno;
    if (write(1, "usr1\n", 5) < 0)
        _exit(3);
    errno = e;
}

static int fork_loop(void)
{
    int forks = 0;
    char buf[1];
    for (;;) {
        pid_t pid = fork();
        if (pid < 0)
            return -1;
        if (pid == 0) {
            char *p = malloc(1000);
            p[0] = 1;
            free(p);
            _exit(7);
        }
        int st;
        pid_t got = wait(&st);
        if (got != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 7) {
            printf("wait returned %d, status %d, expected child %d\n", (int)got, st, (int)pid);
            return -1;
        }
        forks++;
        /* stdin is a pipe: poll it without blocking */
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(0, &rd);
        struct timeval tv = { 0, 1000 };
        if (select(1, &rd, NULL, NULL, &tv) > 0 && read(0, buf, 1) <= 0)
            break;
    }
    if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
        printf("an unexpected child is visible to waitpid(-1)\n");
    return forks > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "small";
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction old;
    sigaction(SIGUSR1, NULL, &old);
    large = strcmp(mode, "large") == 0;
    /* the handler before the first line: the driver signals after it */
    if (strcmp(mode, "own") == 0 && signal(SIGUSR1, usr1) != SIG_DFL)
        printf("signal() did not return SIG_DFL\n");
    printf("SIGUSR1 disposition: %s\n", old.sa_handler == SIG_DFL ? "default" : "other");
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1));
    int r = 0;
    if (strcmp(mode, "fork") == 0) {
        r = fork_loop();
    } else {
        char buf[256];
        while (read(0, buf, sizeof buf) > 0 || errno == EINTR)
            ;
    }
    stop = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    uint64_t s = 7, sum = 0;
    for (int i = 0; i < 1000; i++)
        sum += rng(&s) % 1000;
    printf("mode %s: %s, checksum %llu\n", mode, r ? "failed" : "ok", (unsigned long long)sum);
    return r ? 1 : 0;
}
