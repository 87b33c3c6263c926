/*
 * lm-dumptime.c - dump a running program several times and time each dump,
 * for scripts/bench.sh --dumps.
 *
 *   lm-dumptime -n DUMPS -d DIR [-g GAP_MS] [-t TIMEOUT_S] [-k]
 *               [-e VAR=VALUE]... -- COMMAND [ARG]...
 *
 * Runs COMMAND with the -e variables added to its environment (give it
 * LD_PRELOAD and LEAKMARK_OPTIONS with dump_path=DIR/d.%p.%n.dump), its
 * stdin and stdout pipes.  Waits for COMMAND's first stdout line (its
 * "ready" line: the heap is built) and copies it to stderr.  Then DUMPS
 * times: sends SIGUSR1 to COMMAND and polls (every 100 us) until
 * DIR/d.PID.SEQ.dump exists - leakmark writes a temporary file and renames
 * it, so existence means complete - then waits GAP_MS (default 500: the
 * snapshot process exits and the next dump starts from a quiet program).
 * One signal per finished dump: leakmark folds requests that arrive during
 * a dump into one, so this is how DUMPS signals give DUMPS dumps.
 * Closes COMMAND's stdin (the workload exits at EOF) and waits for it.
 *
 * Prints one tab-separated line per dump on stdout:
 *   seq total_ms pause_ms scan_ms file_bytes live_blocks live_bytes threads_not_stopped
 * total_ms: from kill() to the file's appearance, measured here; pause_ms
 * and scan_ms: the dump's header (the time the program was stopped; the
 * time from the start of the dump to the end of the mark); live_*: the
 * SUMMARY record.  Each dump is deleted once read, unless -k.
 * Exit status 0; 1 with one line on stderr if a dump does not appear
 * within TIMEOUT_S (default 120) or cannot be read, or COMMAND fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "leakmark/dump_format.h"

struct dump_facts {
    uint64_t pause_ns, scan_ns, file_bytes;
    uint64_t live_blocks, live_bytes, not_stopped;
};

static pid_t child = -1;

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "lm-dumptime: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    if (child > 0)
        kill(child, SIGKILL);
    exit(1);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static int read_varint(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70 && *p < end; shift += 7) {
        unsigned char b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* Header fields and the SUMMARY record; record headers are read one by one
 * with pread, so a large dump is not read whole. */
static const char *read_facts(const char *path, struct dump_facts *f)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return "cannot open";
    struct stat st;
    unsigned char hdr[LM_DUMP_HEADER_SIZE];
    const char *err = NULL;
    if (fstat(fd, &st) != 0 || pread(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr)
        err = "cannot read the header";
    else if (memcmp(hdr, LM_DUMP_MAGIC, LM_DUMP_MAGIC_SIZE) != 0 || le(hdr + 8, 4) != LM_DUMP_VERSION)
        err = "bad magic or version";
    if (err) {
        close(fd);
        return err;
    }
    f->file_bytes = (uint64_t)st.st_size;
    f->pause_ns = le(hdr + 32, 8);
    f->scan_ns = le(hdr + 40, 8);
    uint64_t off = le(hdr + 12, 4);
    err = "no SUMMARY record";
    while (off + 8 <= f->file_bytes) {
        unsigned char rh[8];
        if (pread(fd, rh, 8, (off_t)off) != 8)
            break;
        uint32_t type = (uint32_t)le(rh, 4), len = (uint32_t)le(rh + 4, 4);
        if (type == LM_REC_SUMMARY) {
            unsigned char buf[14 * 10];
            size_t want = len < sizeof buf ? len : sizeof buf;
            uint64_t v[14];
            const unsigned char *p = buf, *end = buf + want;
            if (pread(fd, buf, want, (off_t)(off + 8)) != (ssize_t)want) {
                err = "short SUMMARY record";
                break;
            }
            int i = 0;
            while (i < 14 && read_varint(&p, end, &v[i]) == 0)
                i++;
            if (i < 14) {
                err = "bad SUMMARY record";
                break;
            }
            f->live_blocks = v[0];
            f->live_bytes = v[1];
            f->not_stopped = v[13];
            err = NULL;
            break;
        }
        if (type == LM_REC_END)
            break;
        off += 8 + (uint64_t)len;
    }
    close(fd);
    return err;
}

static void usage(void)
{
    fprintf(stderr, "usage: lm-dumptime -n DUMPS -d DIR [-g GAP_MS] [-t TIMEOUT_S] [-k] "
                    "[-e VAR=VALUE]... -- COMMAND [ARG]...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    long ndumps = 0, gap_ms = 500, timeout_s = 120;
    int keep = 0, nenv = 0, i = 1;
    char **envs = calloc((size_t)argc, sizeof *envs);
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        } else if (!strcmp(a, "-k")) {
            keep = 1;
        } else if (i + 1 < argc && !strcmp(a, "-n")) {
            ndumps = atol(argv[++i]);
        } else if (i + 1 < argc && !strcmp(a, "-d")) {
            dir = argv[++i];
        } else if (i + 1 < argc && !strcmp(a, "-g")) {
            gap_ms = atol(argv[++i]);
        } else if (i + 1 < argc && !strcmp(a, "-t")) {
            timeout_s = atol(argv[++i]);
        } else if (i + 1 < argc && !strcmp(a, "-e") && strchr(argv[i + 1], '=')) {
            envs[nenv++] = argv[++i];
        } else {
            usage();
        }
    }
    if (i >= argc || !dir || ndumps < 1 || gap_ms < 0 || timeout_s < 1)
        usage();

    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
        die("pipe: %s", strerror(errno));
    signal(SIGPIPE, SIG_IGN);
    child = fork();
    if (child < 0)
        die("fork: %s", strerror(errno));
    if (child == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        for (int k = 0; k < nenv; k++)
            putenv(envs[k]);
        execvp(argv[i], argv + i);
        fprintf(stderr, "lm-dumptime: cannot run %s: %s\n", argv[i], strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);

    /* the ready line, with a timeout (building a big heap takes a while) */
    char line[1024];
    size_t len = 0;
    double deadline = now_ms() + 600e3;
    while (len + 1 < sizeof line && (len == 0 || line[len - 1] != '\n')) {
        struct pollfd pfd = { out[0], POLLIN, 0 };
        if (now_ms() > deadline)
            die("%s printed no ready line within 600 s", argv[i]);
        if (poll(&pfd, 1, 1000) <= 0)
            continue;
        ssize_t n = read(out[0], line + len, 1);
        if (n <= 0)
            die("%s exited before its ready line", argv[i]);
        len++;
    }
    line[len] = 0;
    fprintf(stderr, "%s", line);

    for (long seq = 0; seq < ndumps; seq++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/d.%d.%ld.dump", dir, (int)child, seq);
        double t0 = now_ms();
        if (kill(child, SIGUSR1) != 0)
            die("kill: %s", strerror(errno));
        struct stat st;
        while (stat(path, &st) != 0) {
            if (now_ms() - t0 > (double)timeout_s * 1e3)
                die("%s did not appear in time", path);
            if (waitpid(child, NULL, WNOHANG) == child) {
                child = -1;
                die("the program exited before %s appeared", path);
            }
            struct timespec ts = { 0, 100000 };
            nanosleep(&ts, NULL);
        }
        double total = now_ms() - t0;
        struct dump_facts f;
        const char *err = read_facts(path, &f);
        if (err) {
            char msg[4200];
            snprintf(msg, sizeof msg, "%s: %s", path, err);
            die("%s", msg);
        }
        printf("%ld\t%.3f\t%.3f\t%.3f\t%llu\t%llu\t%llu\t%llu\n", seq, total, f.pause_ns / 1e6,
               f.scan_ns / 1e6, (unsigned long long)f.file_bytes,
               (unsigned long long)f.live_blocks, (unsigned long long)f.live_bytes,
               (unsigned long long)f.not_stopped);
        fflush(stdout);
        if (!keep)
            unlink(path);
        struct timespec gap = { gap_ms / 1000, (gap_ms % 1000) * 1000000L };
        nanosleep(&gap, NULL);
    }
    close(in[1]);
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    child = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("%s failed", argv[i]);
    return 0;
}
