/*
 * log.h - leakmark's own text formatting and output: no stdio, no malloc.
 *
 * Safe anywhere, including signal handlers and inside malloc: formatting goes
 * into a caller-supplied or on-stack buffer and out through write(2) with
 * EINTR/short-write retry.  Messages are single lines prefixed with
 * "==PID== leakmark: " (LeakSanitizer/valgrind style).
 */
#ifndef LM_LOG_H
#define LM_LOG_H

#include <stdarg.h>
#include <stddef.h>

/* Formats like snprintf into buf (always NUL-terminated when cap > 0) and
 * returns the length that was written (truncated output is cut, never
 * overflowed).  Supported: %% %c %s %.*s %d %i %u %x %X %p %ld %lu %lx %lld
 * %llu %llx %zu %zd %zx, flags '0' and '-', a field width (number or *).
 * %p prints 0x followed by lowercase hex.  Unknown conversions are copied
 * as is. */
size_t lm_vformat(char *buf, size_t cap, const char *fmt, va_list ap);
size_t lm_format(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A file name from a pattern: %p is the pid, %n the sequence number
 * (left as is when seq is NULL), %% a percent sign.  Returns the length
 * written into out (NUL-terminated), or 0 when it does not fit in cap. */
size_t lm_expand_path(char *out, size_t cap, const char *pattern, int pid, const unsigned *seq);

/* The last component of a path (after the last '/'). */
const char *lm_path_base(const char *path);

/* write(2) everything, retrying on EINTR and short writes.  Returns 0 or an
 * errno value. */
int lm_write_all(int fd, const void *buf, size_t len);

/* One line to the log fd (stderr, fd 2, unless lm_log_set_fd changed it):
 * "==PID== leakmark: <message>\n".  A message longer than the internal
 * buffer (1024 bytes) is truncated. */
void lm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lm_log_set_fd(int fd);
int lm_log_fd(void);
/* Records what the log fd refers to (device and inode); afterwards
 * lm_log_fd_checked returns -1 once that fd is closed or names another
 * file, and lm_log drops its lines rather than write into the program's
 * files.  Before lm_log_remember_fd, it is lm_log_fd. */
void lm_log_remember_fd(void);
int lm_log_fd_checked(void);

#endif
