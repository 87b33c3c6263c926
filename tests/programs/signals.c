/*
 * signals.c - a program that lives on signals, for the integration tests.
 *
 * Installs handlers with both signal() and sigaction() (SA_RESTART and
 * SA_SIGINFO), delivers signals with raise(), kill(getpid()) and
 * pthread_kill-free means only (single-threaded), waits for SIGALRM from
 * alarm() and from setitimer(), blocks and unblocks with sigprocmask, forks a
 * child that allocates, and allocates with malloc/strdup/realloc in the
 * normal code between signals.  It handles SIGUSR1 itself, which leakmark
 * also uses by default to request a dump: the program's own handler must win.
 *
 * Handlers only touch volatile sig_atomic_t counters.  All output comes from
 * the main flow and is deterministic.  The program ends by raising SIGTERM
 * with the default action, so its exit status is "killed by SIGTERM": the
 * harness checks that a preloaded run ends the same way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t n_usr1, n_usr2, n_alrm, n_hup, n_chld, last_code;

static void on_usr1(int sig) { (void)sig; n_usr1++; }
static void on_alrm(int sig) { (void)sig; n_alrm++; }
static void on_hup(int sig) { (void)sig; n_hup++; }
static void on_chld(int sig) { (void)sig; n_chld++; }

static void on_usr2(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    n_usr2++;
    last_code = si->si_code;
}

static char *work(int round)
{
    /* Ordinary allocation traffic between signals. */
    char buf[64];
    snprintf(buf, sizeof buf, "round-%d", round);
    char *s = strdup(buf);
    size_t cap = 16, len = 0;
    char *acc = malloc(cap);
    if (!s || !acc)
        abort();
    for (int i = 0; i < 200 + round * 10; i++) {
        size_t need = len + strlen(s) + 2;
        if (need > cap) {
            cap *= 2;
            char *n = realloc(acc, cap);
            if (!n)
                abort();
            acc = n;
        }
        memcpy(acc + len, s, strlen(s));
        len += strlen(s);
        acc[len++] = i % 10 == 9 ? '\n' : ' ';
        acc[len] = '\0';
    }
    free(s);
    return acc;
}

static unsigned long checksum(const char *s)
{
    unsigned long h = 5381;
    for (; *s; s++)
        h = h * 33 + (unsigned char)*s;
    return h;
}

static void wait_for(volatile sig_atomic_t *counter, sig_atomic_t target, const char *what)
{
    sigset_t none;
    sigemptyset(&none);
    while (*counter < target) {
        /* SIGALRM is blocked outside sigsuspend, so there is no lost wake-up. */
        sigsuspend(&none);
    }
    printf("got %s (%d so far)\n", what, (int)*counter);
}

int main(void)
{
    struct sigaction sa;
    sigset_t alrm, old;

    setvbuf(stdout, NULL, _IOLBF, 0);

    if (signal(SIGUSR1, on_usr1) == SIG_ERR || signal(SIGHUP, on_hup) == SIG_ERR) {
        perror("signal");
        return 1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr2;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR2, &sa, NULL) != 0) {
        perror("sigaction");
        return 1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alrm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = on_chld;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);

    unsigned long total = 0;
    for (int round = 0; round < 5; round++) {
        char *acc = work(round);
        total += checksum(acc);
        free(acc);
        raise(SIGUSR1);
        kill(getpid(), SIGUSR2);
        if (round % 2 == 0)
            raise(SIGHUP);
    }
    printf("rounds done: checksum %lu\n", total);
    printf("SIGUSR1 handled %d times, SIGUSR2 %d times (last si_code %s), SIGHUP %d times\n",
           (int)n_usr1, (int)n_usr2, last_code == SI_USER ? "SI_USER" :
           last_code == SI_TKILL ? "SI_TKILL" : "other", (int)n_hup);

    /* The handler installed with signal() must still be ours. */
    struct sigaction cur;
    sigaction(SIGUSR1, NULL, &cur);
    printf("SIGUSR1 handler is %s\n", cur.sa_handler == on_usr1 ? "the program's" : "NOT the program's");

    /* SIGALRM twice: alarm(), then a one-shot setitimer. */
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigprocmask(SIG_BLOCK, &alrm, &old);
    alarm(1);
    char *during = strdup("allocated while an alarm is pending");
    wait_for(&n_alrm, 1, "SIGALRM from alarm()");
    struct itimerval it = { .it_interval = { 0, 0 }, .it_value = { 0, 200000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    for (int i = 0; i < 1000; i++)
        free(malloc((size_t)i * 8 + 1));
    wait_for(&n_alrm, 2, "SIGALRM from setitimer()");
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("%s\n", during);
    free(during);

    /* A blocked signal is delivered once when unblocked. */
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    int before = n_usr1;
    raise(SIGUSR1);
    raise(SIGUSR1);
    int while_blocked = n_usr1 - before;
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    printf("blocked SIGUSR1: %d delivered while blocked, %d after unblocking\n",
           while_blocked, (int)(n_usr1 - before));

    /* A child that allocates, then exits with a status derived from its work. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        char *acc = work(7);
        int code = (int)(checksum(acc) % 50) + 1;
        free(acc);
        printf("child: exiting with %d\n", code);
        fflush(stdout);
        _exit(code);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    printf("parent: child exited with %d, SIGCHLD seen: %s\n",
           WIFEXITED(status) ? WEXITSTATUS(status) : -1, n_chld > 0 ? "yes" : "no");

    /* End by a signal with the default action. */
    fprintf(stderr, "signals: ending with SIGTERM\n");
    signal(SIGTERM, SIG_DFL);
    raise(SIGTERM);
    return 99;  /* not reached */
}
