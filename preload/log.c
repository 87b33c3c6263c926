/*
 * log.c - leakmark's own formatter (lm_vformat/lm_format), raw output
 * (lm_write_all), the one-line logger (lm_log) and lm_assert_fail.
 *
 * Owns: the log file descriptor (an int read and written with relaxed
 * atomics; -1 or any negative value drops every message).
 *
 * Invariants:
 *  - No libc printf family, no stdio, no malloc, no locks: formatting runs
 *    into a caller-supplied or on-stack buffer, output is syscall(SYS_write).
 *    Everything here is async-signal-safe and may run inside malloc, in a
 *    signal handler or in a child after fork.
 *  - No mutable static buffer: threads never share formatting state.
 *  - lm_vformat never writes past buf[cap-1] and always NUL-terminates when
 *    cap > 0; it returns the bytes written (excluding the NUL), which is the
 *    untruncated length only when the output fit.
 *  - lm_log emits each line with a single write(2) of at most ~1050 bytes
 *    (< PIPE_BUF), so lines from different threads never interleave on a
 *    pipe, and errno is preserved across the call.
 */
#include "log.h"
#include "internal.h"
#include "os.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- output sink: a bounded buffer; len < cap whenever cap > 0 ---- */

struct sink {
    char *buf;
    size_t cap;
    size_t len;
};

static size_t sink_room(const struct sink *s)
{
    return s->cap ? s->cap - 1 - s->len : 0;
}

static void put_n(struct sink *s, const char *p, size_t n)
{
    size_t room = sink_room(s);
    if (n > room)
        n = room;
    for (size_t i = 0; i < n; i++)
        s->buf[s->len + i] = p[i];
    s->len += n;
}

static void put_rep(struct sink *s, char c, size_t n)
{
    size_t room = sink_room(s);
    if (n > room)
        n = room;
    for (size_t i = 0; i < n; i++)
        s->buf[s->len + i] = c;
    s->len += n;
}

/* ---- one conversion specification ---- */

enum lm_len { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_J, LEN_T };

struct spec {
    bool left, zero, plus, space, alt;
    size_t width;
    int prec;                           /* -1: none */
    enum lm_len len;
};

/* A width larger than this only produces padding that truncation cuts. */
#define LM_FMT_WIDTH_MAX (1u << 20)

/* Writes prefix, precision zeros and body, padded to the field width.
 * zero_fill: pad with '0' between prefix and body instead of spaces. */
static void emit_field(struct sink *s, const struct spec *sp, bool zero_fill,
                       const char *prefix, size_t np, size_t zeros,
                       const char *body, size_t nb)
{
    size_t total = np + zeros + nb;
    size_t pad = sp->width > total ? sp->width - total : 0;
    if (sp->left) {
        put_n(s, prefix, np);
        put_rep(s, '0', zeros);
        put_n(s, body, nb);
        put_rep(s, ' ', pad);
    } else if (zero_fill) {
        put_n(s, prefix, np);
        put_rep(s, '0', zeros + pad);
        put_n(s, body, nb);
    } else {
        put_rep(s, ' ', pad);
        put_n(s, prefix, np);
        put_rep(s, '0', zeros);
        put_n(s, body, nb);
    }
}

/* Integer conversions.  mag is the magnitude (so INT64_MIN needs no
 * negation of a signed value); neg only matters when is_signed. */
static void fmt_int(struct sink *s, const struct spec *sp, uint64_t mag, bool neg,
                    bool is_signed, unsigned base, bool upper, bool is_ptr)
{
    const char *xd = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char digits[24];
    size_t nd = 0;
    uint64_t v = mag;
    if (!(v == 0 && sp->prec == 0)) {
        do {
            digits[sizeof digits - 1 - nd++] = xd[v % base];
            v /= base;
        } while (v);
    }
    char prefix[2];
    size_t np = 0;
    if (is_signed) {
        if (neg)
            prefix[np++] = '-';
        else if (sp->plus)
            prefix[np++] = '+';
        else if (sp->space)
            prefix[np++] = ' ';
    } else if (is_ptr || (sp->alt && base == 16 && mag != 0)) {
        prefix[np++] = '0';
        prefix[np++] = upper ? 'X' : 'x';
    }
    size_t zeros = (sp->prec > 0 && (size_t)sp->prec > nd) ? (size_t)sp->prec - nd : 0;
    bool zero_fill = sp->zero && sp->prec < 0;
    emit_field(s, sp, zero_fill, prefix, np, zeros, digits + sizeof digits - nd, nd);
}

static uint64_t get_unsigned(va_list *ap, enum lm_len len)
{
    switch (len) {
    case LEN_HH: return (unsigned char)va_arg(*ap, unsigned);
    case LEN_H:  return (unsigned short)va_arg(*ap, unsigned);
    case LEN_L:  return va_arg(*ap, unsigned long);
    case LEN_LL: return va_arg(*ap, unsigned long long);
    case LEN_Z:  return va_arg(*ap, size_t);
    case LEN_J:  return va_arg(*ap, uintmax_t);
    case LEN_T:  return (uint64_t)va_arg(*ap, ptrdiff_t);
    default:     return va_arg(*ap, unsigned);
    }
}

static int64_t get_signed(va_list *ap, enum lm_len len)
{
    switch (len) {
    case LEN_HH: return (signed char)va_arg(*ap, int);
    case LEN_H:  return (short)va_arg(*ap, int);
    case LEN_L:  return va_arg(*ap, long);
    case LEN_LL: return va_arg(*ap, long long);
    case LEN_Z:  return va_arg(*ap, ssize_t);
    case LEN_J:  return va_arg(*ap, intmax_t);
    case LEN_T:  return va_arg(*ap, ptrdiff_t);
    default:     return va_arg(*ap, int);
    }
}

/* Parses flags, width, precision and length of the spec after '%'. */
static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
    *sp = (struct spec){ .prec = -1 };
    for (;; f++) {
        if (*f == '-') sp->left = true;
        else if (*f == '0') sp->zero = true;
        else if (*f == '+') sp->plus = true;
        else if (*f == ' ') sp->space = true;
        else if (*f == '#') sp->alt = true;
        else break;
    }
    if (*f == '*') {
        int w = va_arg(*ap, int);
        if (w < 0) {
            sp->left = true;
            sp->width = (size_t)(-(long)w);
        } else {
            sp->width = (size_t)w;
        }
        f++;
    } else {
        while (*f >= '0' && *f <= '9') {
            if (sp->width < LM_FMT_WIDTH_MAX)
                sp->width = sp->width * 10 + (size_t)(*f - '0');
            f++;
        }
    }
    if (sp->width > LM_FMT_WIDTH_MAX)
        sp->width = LM_FMT_WIDTH_MAX;
    if (*f == '.') {
        f++;
        if (*f == '*') {
            int p = va_arg(*ap, int);
            sp->prec = p < 0 ? -1 : p;
            f++;
        } else {
            long p = 0;
            while (*f >= '0' && *f <= '9') {
                if (p < (long)LM_FMT_WIDTH_MAX)
                    p = p * 10 + (*f - '0');
                f++;
            }
            sp->prec = (int)(p > (long)LM_FMT_WIDTH_MAX ? (long)LM_FMT_WIDTH_MAX : p);
        }
    }
    if (sp->left)
        sp->zero = false;
    switch (*f) {
    case 'h':
        sp->len = (f[1] == 'h') ? LEN_HH : LEN_H;
        f += (f[1] == 'h') ? 2 : 1;
        break;
    case 'l':
        sp->len = (f[1] == 'l') ? LEN_LL : LEN_L;
        f += (f[1] == 'l') ? 2 : 1;
        break;
    case 'z': sp->len = LEN_Z; f++; break;
    case 'j': sp->len = LEN_J; f++; break;
    case 't': sp->len = LEN_T; f++; break;
    default: break;
    }
    return f;
}

size_t lm_vformat(char *buf, size_t cap, const char *fmt, va_list ap_in)
{
    struct sink s = { buf, cap, 0 };
    va_list ap;
    va_copy(ap, ap_in);
    const char *f = fmt ? fmt : "";
    while (*f && sink_room(&s)) {
        if (*f != '%') {
            const char *lit = f;
            while (*f && *f != '%')
                f++;
            put_n(&s, lit, (size_t)(f - lit));
            continue;
        }
        const char *start = f++;
        struct spec sp;
        f = parse_spec(f, &sp, &ap);
        char c = *f;
        switch (c) {
        case '%':
            put_n(&s, "%", 1);
            break;
        case 'c': {
            char ch = (char)(unsigned char)va_arg(ap, int);
            emit_field(&s, &sp, false, NULL, 0, 0, &ch, 1);
            break;
        }
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = "(null)";
            size_t n = 0;
            while ((sp.prec < 0 || n < (size_t)sp.prec) && str[n])
                n++;
            emit_field(&s, &sp, false, NULL, 0, 0, str, n);
            break;
        }
        case 'd':
        case 'i': {
            int64_t v = get_signed(&ap, sp.len);
            uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
            fmt_int(&s, &sp, mag, v < 0, true, 10, false, false);
            break;
        }
        case 'u':
            fmt_int(&s, &sp, get_unsigned(&ap, sp.len), false, false, 10, false, false);
            break;
        case 'x':
        case 'X':
            fmt_int(&s, &sp, get_unsigned(&ap, sp.len), false, false, 16, c == 'X', false);
            break;
        case 'p': {
            uintptr_t p = (uintptr_t)va_arg(ap, void *);
            sp.prec = -1;
            fmt_int(&s, &sp, p, false, false, 16, false, true);
            break;
        }
        default:
            /* Unknown conversion (or the format ended): copy it as is. */
            if (c)
                f++;
            put_n(&s, start, (size_t)(f - start));
            continue;
        }
        f++;
    }
    va_end(ap);
    if (cap)
        buf[s.len] = '\0';
    return s.len;
}

size_t lm_format(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = lm_vformat(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

size_t lm_expand_path(char *out, size_t cap, const char *pattern, int pid, const unsigned *seq)
{
    size_t n = 0;
    char num[24];
    for (const char *p = pattern; *p; p++) {
        const char *piece = p;
        size_t len = 1;
        if (p[0] == '%' && (p[1] == 'p' || (p[1] == 'n' && seq))) {
            len = p[1] == 'p' ? lm_format(num, sizeof num, "%d", pid) : lm_format(num, sizeof num, "%u", *seq);
            piece = num;
            p++;
        } else if (p[0] == '%' && p[1] == '%') {
            p++;
        }
        if (n + len >= cap)
            return 0;
        for (size_t i = 0; i < len; i++)
            out[n++] = piece[i];
    }
    if (n >= cap)
        return 0;
    out[n] = 0;
    return n;
}

const char *lm_path_base(const char *path)
{
    const char *b = path;
    for (const char *p = path; *p; p++)
        if (*p == '/')
            b = p + 1;
    return b;
}

/* ---- output ---- */

int lm_write_all(int fd, const void *buf, size_t len)
{
    int saved = errno, err = 0;
    const char *p = buf;
    while (len) {
        long r = syscall(SYS_write, fd, p, len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
            break;
        }
        if (r == 0) {                   /* cannot happen for len > 0 */
            err = EIO;
            break;
        }
        p += r;
        len -= (size_t)r;
    }
    errno = saved;
    return err;
}

static int log_fd = 2;

int lm_log_fd(void) { return __atomic_load_n(&log_fd, __ATOMIC_RELAXED); }

/* What the log fd was when leakmark started: programs close stderr at exit
 * (coreutils' close_stdout) and may open a file that gets number 2; a
 * report written there would corrupt the program's file. */
static struct {
    bool known;
    uint64_t dev, ino;
} log_identity;

static bool fd_identity(int fd, uint64_t *dev, uint64_t *ino)
{
    struct stat st;
    if (fd < 0 || syscall(SYS_fstat, fd, &st) != 0)
        return false;
    *dev = (uint64_t)st.st_dev;
    *ino = (uint64_t)st.st_ino;
    return true;
}

void lm_log_remember_fd(void)
{
    log_identity.known = fd_identity(lm_log_fd(), &log_identity.dev, &log_identity.ino);
}

/* A new log fd is trusted as it is now. */
void lm_log_set_fd(int fd)
{
    __atomic_store_n(&log_fd, fd, __ATOMIC_RELAXED);
    lm_log_remember_fd();
}

int lm_log_fd_checked(void)
{
    int fd = lm_log_fd();
    if (!log_identity.known)
        return fd;
    uint64_t dev, ino;
    if (!fd_identity(fd, &dev, &ino) || dev != log_identity.dev || ino != log_identity.ino)
        return -1;
    return fd;
}

#define LM_LOG_MSG_MAX 1024            /* message bytes, including its NUL */
#define LM_LOG_PREFIX_MAX 48           /* "==2147483647== leakmark: " is 25 */

void lm_log(const char *fmt, ...)
{
    int saved = errno;
    int fd = lm_log_fd_checked();
    if (fd >= 0) {
        char line[LM_LOG_PREFIX_MAX + LM_LOG_MSG_MAX];
        size_t n = lm_format(line, LM_LOG_PREFIX_MAX, "==%d== leakmark: ", (int)lm_os_getpid());
        va_list ap;
        va_start(ap, fmt);
        n += lm_vformat(line + n, LM_LOG_MSG_MAX, fmt, ap);
        va_end(ap);
        line[n++] = '\n';               /* replaces the NUL; room is reserved */
        lm_write_all(fd, line, n);
    }
    errno = saved;
}

/* ---- assertions ---- */

/* The kernel's struct sigaction for rt_sigaction on Linux (no restorer is
 * needed to install SIG_DFL). */
struct lm_kernel_sigaction {
    unsigned long handler;
    unsigned long flags;
    unsigned long restorer;
    uint64_t mask;
};

/* abort() without libc: raise SIGABRT on this thread; if a handler returned
 * or the signal is blocked or ignored, restore the default action, unblock
 * it and raise again; exit_group as the last resort. */
static void __attribute__((noreturn)) die_abort(void)
{
    pid_t pid = lm_os_getpid(), tid = lm_os_gettid();
    syscall(SYS_tgkill, pid, tid, SIGABRT);
    struct lm_kernel_sigaction act = { .handler = (unsigned long)SIG_DFL };
    syscall(SYS_rt_sigaction, SIGABRT, &act, NULL, sizeof act.mask);
    uint64_t set = 1ull << (SIGABRT - 1);
    syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, NULL, sizeof set);
    syscall(SYS_tgkill, pid, tid, SIGABRT);
    for (;;)
        syscall(SYS_exit_group, 127);
}

void lm_assert_fail(const char *expr, const char *file, int line)
{
    lm_log("assertion failed: %s at %s:%d", expr ? expr : "?", file ? file : "?", line);
    die_abort();
}
