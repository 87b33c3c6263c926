/*
 * lm-runstat.c - run a command and report its wall time and peak RSS.
 *
 *   lm-runstat [-o FILE] [-e VAR=VALUE]... [--] COMMAND [ARG]...
 *
 * forks, sets the -e variables in the child only (so an LD_PRELOAD given
 * with -e never loads into lm-runstat itself), execvp()s COMMAND and waits
 * with wait4(), so that time and memory come from the same run.  Prints one
 * line "WALL_SECONDS MAXRSS_KIB STATUS USER_SECONDS SYS_SECONDS" (STATUS is
 * the exit code, or 128+N when killed by signal N; CPU times of the child
 * and the descendants it waited for) to FILE (appended) or, without -o, to stderr
 * prefixed with "lm-runstat: ".  ru_maxrss of wait4 is the largest resident
 * set of the child and of any descendant it waited for (valgrind, heaptrack
 * wrapper scripts).  Exits with the child's STATUS; 127 if exec failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void usage(void)
{
    fprintf(stderr, "usage: lm-runstat [-o FILE] [-e VAR=VALUE]... [--] COMMAND [ARG]...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *out = NULL;
    char **envs = calloc((size_t)argc, sizeof *envs);
    int nenv = 0, i = 1;

    for (; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(argv[i], "-e") && i + 1 < argc) {
            if (!strchr(argv[i + 1], '='))
                usage();
            envs[nenv++] = argv[++i];
        } else if (!strcmp(argv[i], "--")) {
            i++;
            break;
        } else if (argv[i][0] == '-') {
            usage();
        } else {
            break;
        }
    }
    if (i >= argc)
        usage();

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        perror("lm-runstat: fork");
        return 127;
    }
    if (pid == 0) {
        for (int k = 0; k < nenv; k++)
            putenv(envs[k]);
        execvp(argv[i], argv + i);
        fprintf(stderr, "lm-runstat: cannot run %s: %s\n", argv[i], strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("lm-runstat: wait4");
            return 127;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

    FILE *f = stderr;
    if (out && !(f = fopen(out, "a"))) {
        perror(out);
        return 127;
    }
    double user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    double sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    fprintf(f, "%s%.6f %ld %d %.6f %.6f\n", out ? "" : "lm-runstat: ", wall, ru.ru_maxrss, rc, user, sys);
    if (out)
        fclose(f);
    return rc;
}
