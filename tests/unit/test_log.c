/*
 * test_log.c - unit tests for preload/log.c: lm_format against the C
 * library's snprintf (the reference; the test itself may use stdio),
 * truncation, lm_write_all through pipes (short writes and EINTR), the
 * lm_log line format and atomicity, and lm_assert_fail's abort.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "log.h"

/* ---- formatter vs snprintf ---- */

/* Formats with both and compares text and length. */
#define SAME(fmt, ...)                                                        \
    do {                                                                      \
        char want_[512], got_[512];                                           \
        int wn_ = snprintf(want_, sizeof want_, fmt, __VA_ARGS__);            \
        size_t gn_ = lm_format(got_, sizeof got_, fmt, __VA_ARGS__);          \
        assert_true(wn_ >= 0 && (size_t)wn_ < sizeof want_);                  \
        assert_string_equal(got_, want_);                                     \
        assert_int_equal(gn_, (size_t)wn_);                                   \
    } while (0)

static void test_format_basic(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(lm_format(buf, sizeof buf, "plain text"), 10);
    assert_string_equal(buf, "plain text");
    assert_int_equal(lm_format(buf, sizeof buf, "%%"), 1);
    assert_string_equal(buf, "%");
    SAME("%c%c%c", 'a', 'Z', '0');
    SAME("[%5c|%-5c]", 'x', 'y');
    SAME("%s and %s", "one", "");
    SAME("[%10s|%-10s|%3s]", "right", "left", "overlong");
    SAME("[%.*s]", 3, "abcdef");
    SAME("[%.*s]", 10, "abc");
    SAME("[%.*s]", 0, "abc");
    SAME("[%-8.*s]", 2, "abcdef");
    SAME("[%*s|%*s]", 6, "w", -6, "l");
    SAME("[%.2s]", "xyz");
}

static void test_format_signed(void **state)
{
    (void)state;
    SAME("%d %d %d", 0, -1, 1);
    SAME("%d %d", INT_MIN, INT_MAX);
    SAME("%i", -12345);
    SAME("%ld %ld", LONG_MIN, LONG_MAX);
    SAME("%lld %lld", (long long)INT64_MIN, (long long)INT64_MAX);
    SAME("%zd %zd", (ssize_t)-7, (ssize_t)SSIZE_MAX);
    SAME("[%5d|%-5d|%05d]", 42, 42, 42);
    SAME("[%5d|%-5d|%05d]", -42, -42, -42);
    SAME("[%020lld]", (long long)INT64_MIN);
    SAME("[%*d|%-*d|%0*d]", 7, -3, 7, -3, 7, -3);
    SAME("[%+d|% d|%+d]", 5, 5, -5);
    SAME("[%.3d|%8.3d|%-8.3d]", 7, -7, 7);
    SAME("[%.0d|%3.0d]", 0, 0);
    SAME("[%hhd|%hd]", (signed char)-100, (short)-30000);
}

static void test_format_unsigned(void **state)
{
    (void)state;
    SAME("%u %u", 0u, UINT_MAX);
    SAME("%lu %llu %zu", ULONG_MAX, (unsigned long long)UINT64_MAX, (size_t)SIZE_MAX);
    SAME("%x %X %x", 0xdeadbeefu, 0xdeadbeefu, 0u);
    SAME("%lx %llx %zx", ULONG_MAX, 0x123456789abcdefull, (size_t)0xabc);
    SAME("[%08x|%-8x|%8X]", 0xbeefu, 0xbeefu, 0xbeefu);
    SAME("[%#x|%#X|%#x|%#010x]", 255u, 255u, 0u, 255u);
    SAME("[%.4x|%.0u]", 0xau, 0u);
}

static void test_format_pointer(void **state)
{
    (void)state;
    int local;
    void *ptrs[] = { &local, (void *)(uintptr_t)0x1, (void *)(uintptr_t)UINTPTR_MAX, (void *)&test_format_pointer };
    for (size_t i = 0; i < LM_ARRAY_LEN(ptrs); i++) {
        /* glibc prints %p as %#lx except for NULL. */
        SAME("%p", ptrs[i]);
        SAME("[%24p|%-24p]", ptrs[i], ptrs[i]);
        char want[64], got[64];
        snprintf(want, sizeof want, "%#lx", (unsigned long)(uintptr_t)ptrs[i]);
        lm_format(got, sizeof got, "%p", ptrs[i]);
        assert_string_equal(got, want);
    }
    char got[16];
    assert_int_equal(lm_format(got, sizeof got, "%p", (void *)0), 3);
    assert_string_equal(got, "0x0");           /* log.h: 0x + hex, even for NULL */
}

static void test_format_unknown_and_null(void **state)
{
    (void)state;
    char buf[64];
    /* An unknown conversion is copied and consumes no argument. */
    const char *fmt = "a%qb";
    assert_int_equal(lm_format(buf, sizeof buf, fmt, 0), strlen("a%qb"));
    assert_string_equal(buf, "a%qb");
    fmt = "%5q|%d";
    lm_format(buf, sizeof buf, fmt, 9);
    assert_string_equal(buf, "%5q|9");
    /* A lone '%' at the end of the format is kept. */
    fmt = "100%";
    assert_int_equal(lm_format(buf, sizeof buf, fmt, 0), 4);
    assert_string_equal(buf, "100%");
    const char *volatile nul = NULL;
    lm_format(buf, sizeof buf, "[%s]", nul);
    assert_string_equal(buf, "[(null)]");
    /* A NULL format gives the empty string. */
    fmt = NULL;
    buf[0] = 'x';
    assert_int_equal(lm_format(buf, sizeof buf, fmt, 0), 0);
    assert_string_equal(buf, "");
}

/* Random specs against snprintf: flags, width, precision, length, values. */
static void test_format_random(void **state)
{
    (void)state;
    static const char *const conv[] = { "d", "i", "u", "x", "X", "ld", "lu", "lx",
                                        "lld", "llu", "llx", "zu", "zd", "zx" };
    static const char *const flags[] = { "", "0", "-", "+", " ", "#", "-0" };
    srandom(12345);
    for (int iter = 0; iter < 20000; iter++) {
        const char *c = conv[random() % LM_ARRAY_LEN(conv)];
        const char *fl = flags[random() % LM_ARRAY_LEN(flags)];
        bool is_signed = strchr(c, 'd') || strchr(c, 'i');
        bool is_hex = strchr(c, 'x') || strchr(c, 'X');
        if ((strchr(fl, '+') || strchr(fl, ' ')) && !is_signed)
            fl = "";                               /* undefined for unsigned */
        if (strchr(fl, '#') && !is_hex)
            fl = "";
        char width[16] = "", prec[16] = "";
        if (random() % 2)
            snprintf(width, sizeof width, "%ld", random() % 30);
        if (random() % 4 == 0)
            snprintf(prec, sizeof prec, ".%ld", random() % 25);
        char fmt[64];
        snprintf(fmt, sizeof fmt, "<%%%s%s%s%s>", fl, width, prec, c);
        /* Values biased towards edges. */
        uint64_t v = ((uint64_t)random() << 33) ^ ((uint64_t)random() << 2) ^ (uint64_t)random();
        switch (random() % 6) {
        case 0: v = 0; break;
        case 1: v = (uint64_t)INT64_MIN; break;
        case 2: v = UINT64_MAX; break;
        case 3: v >>= random() % 64; break;
        default: break;
        }
        char want[128], got[128];
        int wn;
        size_t gn;
        if (strcmp(c, "d") == 0 || strcmp(c, "i") == 0) {
            wn = snprintf(want, sizeof want, fmt, (int)v);
            gn = lm_format(got, sizeof got, fmt, (int)v);
        } else if (c[0] == 'u' || c[0] == 'x' || c[0] == 'X') {
            wn = snprintf(want, sizeof want, fmt, (unsigned)v);
            gn = lm_format(got, sizeof got, fmt, (unsigned)v);
        } else if (strcmp(c, "ld") == 0) {
            wn = snprintf(want, sizeof want, fmt, (long)v);
            gn = lm_format(got, sizeof got, fmt, (long)v);
        } else if (c[0] == 'l' && c[1] != 'l') {
            wn = snprintf(want, sizeof want, fmt, (unsigned long)v);
            gn = lm_format(got, sizeof got, fmt, (unsigned long)v);
        } else if (strcmp(c, "lld") == 0) {
            wn = snprintf(want, sizeof want, fmt, (long long)v);
            gn = lm_format(got, sizeof got, fmt, (long long)v);
        } else if (c[0] == 'l') {
            wn = snprintf(want, sizeof want, fmt, (unsigned long long)v);
            gn = lm_format(got, sizeof got, fmt, (unsigned long long)v);
        } else if (strcmp(c, "zd") == 0) {
            wn = snprintf(want, sizeof want, fmt, (ssize_t)v);
            gn = lm_format(got, sizeof got, fmt, (ssize_t)v);
        } else {
            wn = snprintf(want, sizeof want, fmt, (size_t)v);
            gn = lm_format(got, sizeof got, fmt, (size_t)v);
        }
        if (strcmp(got, want) != 0 || gn != (size_t)wn)
            fail_msg("format \"%s\" value %#llx: got \"%s\" (%zu), want \"%s\" (%d)",
                     fmt, (unsigned long long)v, got, gn, want, wn);
    }
}

/* ---- truncation ---- */

static void test_format_truncation(void **state)
{
    (void)state;
    const char *fmt = "pid=%d name=%-12s hex=%#x end";
    char full[128];
    int n = snprintf(full, sizeof full, fmt, -4242, "leakmark", 0xfeedu);
    assert_true(n > 0 && n < (int)sizeof full);
    for (size_t cap = 0; cap <= (size_t)n + 3; cap++) {
        char buf[160];
        memset(buf, 'Z', sizeof buf);
        size_t got = lm_format(buf, cap, fmt, -4242, "leakmark", 0xfeedu);
        size_t expect = cap == 0 ? 0 : (cap - 1 < (size_t)n ? cap - 1 : (size_t)n);
        assert_int_equal(got, expect);
        if (cap > 0) {
            assert_memory_equal(buf, full, expect);
            assert_int_equal(buf[expect], '\0');
        }
        for (size_t i = cap; i < sizeof buf; i++)     /* nothing past cap */
            assert_int_equal(buf[i], 'Z');
    }
    /* cap 0 with a NULL buffer is allowed. */
    assert_int_equal(lm_format(NULL, 0, "%d", 5), 0);
    /* A huge width is cut at the buffer, not overflowed. */
    char small[16];
    memset(small, 'Z', sizeof small);
    assert_int_equal(lm_format(small, 8, "%*d", 1 << 30, 1), 7);
    assert_string_equal(small, "       ");
    assert_int_equal(small[8], 'Z');
}

/* ---- lm_write_all ---- */

struct drain {
    int fd;
    size_t got;
    unsigned char *buf;
    size_t cap;
    int slow;
    unsigned delay_us;                  /* before the first read */
};

static void *drain_thread(void *arg)
{
    struct drain *d = arg;
    sigset_t alrm;                      /* timer signals go to the writer */
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, NULL);
    if (d->delay_us)
        usleep(d->delay_us);
    for (;;) {
        size_t want = d->cap - d->got;
        if (want > 4096)
            want = 4096;
        ssize_t r = read(d->fd, d->buf + d->got, want ? want : 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        d->got += (size_t)r;
        if (d->slow && d->got % 65536 < 4096)
            usleep(200);
    }
    return NULL;
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig) { (void)sig; alarms++; }

/* Path patterns: %p, %n (only with a sequence number), %%; too long is 0. */
static void test_expand_path_and_base(void **state)
{
    (void)state;
    char out[32];
    unsigned seq = 7;
    assert_int_equal(lm_expand_path(out, sizeof out, "r.%p.%n.json", 42, &seq), 11);
    assert_string_equal(out, "r.42.7.json");
    assert_int_equal(lm_expand_path(out, sizeof out, "r.%p.%n.json", 42, NULL), 12);
    assert_string_equal(out, "r.42.%n.json");
    assert_int_equal(lm_expand_path(out, sizeof out, "100%%-%x", 1, NULL), 7);
    assert_string_equal(out, "100%-%x");
    assert_int_equal(lm_expand_path(out, 8, "long.%p", 123456, NULL), 0);
    assert_int_equal(lm_expand_path(out, 1, "", 1, NULL), 0);
    assert_string_equal(lm_path_base("/usr/lib/libc.so.6"), "libc.so.6");
    assert_string_equal(lm_path_base("plain"), "plain");
    assert_string_equal(lm_path_base("dir/"), "");
}

/* A large write to a pipe that starts full and is drained slowly, under a
 * stream of signals without SA_RESTART: the kernel returns EINTR (while the
 * pipe is full and nothing was written yet) and short counts (when a signal
 * comes after part of the data went in).  lm_write_all must still deliver
 * every byte in order. */
static void test_write_all_pipe_eintr(void **state)
{
    (void)state;
    const size_t len = 8u << 20;
    int p[2];
    assert_int_equal(pipe(p), 0);
    /* Fill the pipe so that the first write blocks before writing anything. */
    size_t prefill = 0;
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    for (;;) {
        unsigned char chunk[4096];
        memset(chunk, 0xee, sizeof chunk);
        ssize_t r = write(p[1], chunk, sizeof chunk);
        if (r <= 0)
            break;
        prefill += (size_t)r;
    }
    fcntl(p[1], F_SETFL, 0);
    assert_true(prefill > 0);

    unsigned char *src = malloc(len), *dst = malloc(prefill + len);
    assert_non_null(src);
    assert_non_null(dst);
    for (size_t i = 0; i < len; i++)
        src[i] = (unsigned char)(i * 2654435761u >> 13);
    struct drain d = { .fd = p[0], .buf = dst, .cap = prefill + len, .slow = 1,
                       .delay_us = 50000 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, drain_thread, &d), 0);

    struct sigaction sa = { .sa_handler = on_alarm }, old;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;                               /* no SA_RESTART */
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    struct itimerval it = { { 0, 500 }, { 0, 500 } };
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
    alarms = 0;
    errno = 1234;
    int err = lm_write_all(p[1], src, len);
    assert_int_equal(errno, 1234);                 /* errno preserved */
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    assert_int_equal(err, 0);
    close(p[1]);
    pthread_join(t, NULL);
    close(p[0]);
    assert_true(alarms > 0);
    assert_int_equal(d.got, prefill + len);
    for (size_t i = 0; i < prefill; i++)
        assert_int_equal(dst[i], 0xee);
    assert_memory_equal(dst + prefill, src, len);
    free(src);
    free(dst);
}

static void test_write_all_errors(void **state)
{
    (void)state;
    /* A closed fd gives EBADF. */
    int p[2];
    assert_int_equal(pipe(p), 0);
    close(p[0]);
    close(p[1]);
    assert_int_equal(lm_write_all(p[1], "x", 1), EBADF);
    /* A pipe without reader gives EPIPE (SIGPIPE ignored here). */
    struct sigaction ign = { .sa_handler = SIG_IGN }, old;
    sigaction(SIGPIPE, &ign, &old);
    assert_int_equal(pipe(p), 0);
    close(p[0]);
    assert_int_equal(lm_write_all(p[1], "x", 1), EPIPE);
    close(p[1]);
    sigaction(SIGPIPE, &old, NULL);
    /* A zero-length write succeeds and writes nothing. */
    assert_int_equal(pipe(p), 0);
    assert_int_equal(lm_write_all(p[1], "x", 0), 0);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    char c;
    assert_int_equal(read(p[0], &c, 1), -1);
    assert_int_equal(errno, EAGAIN);
    close(p[0]);
    close(p[1]);
}

/* ---- lm_log ---- */

/* Reads everything currently in a non-blocking pipe. */
static size_t slurp(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return n;
}

static int capture_pipe(int p[2])
{
    if (pipe(p) != 0)
        return -1;
    return fcntl(p[0], F_SETFL, O_NONBLOCK);
}

static void test_log_format(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(capture_pipe(p), 0);
    int old = lm_log_fd();
    assert_int_equal(old, 2);                      /* stderr by default */
    lm_log_set_fd(p[1]);
    assert_int_equal(lm_log_fd(), p[1]);
    errno = 4321;
    lm_log("hello %s %d", "world", -7);
    assert_int_equal(errno, 4321);
    lm_log("second");
    lm_log_set_fd(old);

    char got[4096], want[256];
    slurp(p[0], got, sizeof got);
    snprintf(want, sizeof want, "==%d== leakmark: hello world -7\n==%d== leakmark: second\n",
             (int)getpid(), (int)getpid());
    assert_string_equal(got, want);

    /* A negative fd drops messages. */
    lm_log_set_fd(-1);
    lm_log("dropped");
    lm_log_set_fd(old);
    assert_int_equal(slurp(p[0], got, sizeof got), 0);
    close(p[0]);
    close(p[1]);
}

static void test_log_truncates_long_message(void **state)
{
    (void)state;
    char big[3000];
    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    int p[2];
    assert_int_equal(capture_pipe(p), 0);
    int old = lm_log_fd();
    lm_log_set_fd(p[1]);
    lm_log("%s", big);
    lm_log_set_fd(old);
    char got[8192], prefix[64];
    size_t n = slurp(p[0], got, sizeof got);
    close(p[0]);
    close(p[1]);
    int np = snprintf(prefix, sizeof prefix, "==%d== leakmark: ", (int)getpid());
    /* One line: prefix + the message cut to 1023 bytes + '\n'. */
    assert_int_equal(n, (size_t)np + 1023 + 1);
    assert_memory_equal(got, prefix, (size_t)np);
    assert_memory_equal(got + np, big, 1023);
    assert_int_equal(got[n - 1], '\n');
    assert_null(memchr(got, '\n', n - 1));
}

#define LOG_THREADS 4
#define LOG_LINES 2000

static void *log_thread(void *arg)
{
    long id = (long)(intptr_t)arg;
    char pad[301];
    memset(pad, 'a' + (int)id, 300);
    pad[300] = '\0';
    for (int i = 0; i < LOG_LINES; i++)
        lm_log("t%ld line %d %s end", id, i, pad);
    return NULL;
}

/* Lines written concurrently by several threads arrive whole. */
static void test_log_threads_no_interleave(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    size_t cap = 16u << 20;
    unsigned char *buf = malloc(cap);
    assert_non_null(buf);
    struct drain d = { .fd = p[0], .buf = buf, .cap = cap };
    pthread_t reader, t[LOG_THREADS];
    assert_int_equal(pthread_create(&reader, NULL, drain_thread, &d), 0);
    int old = lm_log_fd();
    lm_log_set_fd(p[1]);
    for (long i = 0; i < LOG_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, log_thread, (void *)(intptr_t)i), 0);
    for (int i = 0; i < LOG_THREADS; i++)
        pthread_join(t[i], NULL);
    lm_log_set_fd(old);
    close(p[1]);
    pthread_join(reader, NULL);
    close(p[0]);

    char prefix[64];
    int np = snprintf(prefix, sizeof prefix, "==%d== leakmark: ", (int)getpid());
    int next[LOG_THREADS] = { 0 };
    size_t lines = 0;
    char *s = (char *)buf, *end = (char *)buf + d.got;
    while (s < end) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        assert_non_null(nl);
        *nl = '\0';
        assert_memory_equal(s, prefix, (size_t)np);
        long id;
        int line, used = 0;
        assert_int_equal(sscanf(s + np, "t%ld line %d %n", &id, &line, &used), 2);
        assert_true(id >= 0 && id < LOG_THREADS);
        assert_int_equal(line, next[id]);          /* per-thread order kept */
        next[id]++;
        const char *pad = s + np + used;
        for (int i = 0; i < 300; i++)
            assert_int_equal(pad[i], 'a' + (int)id);
        assert_string_equal(pad + 300, " end");
        lines++;
        s = nl + 1;
    }
    assert_int_equal(lines, (size_t)LOG_THREADS * LOG_LINES);
    free(buf);
}

/* ---- lm_assert_fail ---- */

static void run_assert_child(int how, int p[2])
{
    close(p[0]);
    lm_log_set_fd(p[1]);
    if (how == 1)
        signal(SIGABRT, SIG_IGN);
    if (how == 2) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGABRT);
        sigprocmask(SIG_BLOCK, &s, NULL);
    }
    lm_assert_fail("x == y", "heap.c", 77);
    _exit(0);                                      /* not reached */
}

static void test_assert_fail_aborts(void **state)
{
    (void)state;
    /* 0: default disposition, 1: SIGABRT ignored, 2: SIGABRT blocked. */
    for (int how = 0; how < 3; how++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            run_assert_child(how, p);
        close(p[1]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGABRT);
        char got[512] = "", want[256];
        ssize_t n = read(p[0], got, sizeof got - 1);
        close(p[0]);
        assert_true(n > 0);
        got[n] = '\0';
        snprintf(want, sizeof want, "==%d== leakmark: assertion failed: x == y at heap.c:77\n", (int)pid);
        assert_string_equal(got, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_basic),
        cmocka_unit_test(test_format_signed),
        cmocka_unit_test(test_format_unsigned),
        cmocka_unit_test(test_format_pointer),
        cmocka_unit_test(test_format_unknown_and_null),
        cmocka_unit_test(test_format_random),
        cmocka_unit_test(test_format_truncation),
        cmocka_unit_test(test_expand_path_and_base),
        cmocka_unit_test(test_write_all_pipe_eintr),
        cmocka_unit_test(test_write_all_errors),
        cmocka_unit_test(test_log_format),
        cmocka_unit_test(test_log_truncates_long_message),
        cmocka_unit_test(test_log_threads_no_interleave),
        cmocka_unit_test(test_assert_fail_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
