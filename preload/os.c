/*
 * os.c - raw system calls behind os.h's contract (0 or errno, page-aligned
 * arguments).  No libc wrappers that could be interposed or allocate; every
 * function is async-signal-safe.
 */
#include "os.h"
#include "internal.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long raw_mmap(void *addr, size_t len, int prot, int flags, void **out)
{
    long r = syscall(SYS_mmap, addr, len, prot, flags, -1, 0);
    if (r < 0)
        return errno;
    *out = (void *)r;
    return 0;
}

int lm_os_reserve(size_t size, size_t align, void **out)
{
    void *p = NULL;
    /* Over-reserve, then cut the unaligned head and tail off. */
    size_t total = size + align;
    if (total < size)
        return ENOMEM;
    int err = (int)raw_mmap(NULL, total, PROT_NONE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, &p);
    if (err)
        return err;
    uintptr_t start = (uintptr_t)p, aligned = lm_align_up(start, align);
    if (aligned > start)
        syscall(SYS_munmap, (void *)start, aligned - start);
    uintptr_t end = start + total, want_end = aligned + size;
    if (end > want_end)
        syscall(SYS_munmap, (void *)want_end, end - want_end);
    *out = (void *)aligned;
    return 0;
}

int lm_os_commit(void *p, size_t n)
{
    return syscall(SYS_mprotect, p, n, PROT_READ | PROT_WRITE) == 0 ? 0 : errno;
}

int lm_os_purge(void *p, size_t n)
{
    return syscall(SYS_madvise, p, n, MADV_DONTNEED) == 0 ? 0 : errno;
}

int lm_os_map(size_t n, void **out)
{
    return (int)raw_mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, out);
}

int lm_os_unmap(void *p, size_t n)
{
    return syscall(SYS_munmap, p, n) == 0 ? 0 : errno;
}

const char *lm_os_getenv(const char *name)
{
    if (!environ || !name)
        return NULL;
    size_t len = 0;
    while (name[len])
        len++;
    for (char **e = environ; *e; e++) {
        const char *s = *e;
        size_t i = 0;
        while (i < len && s[i] == name[i])
            i++;
        if (i == len && s[i] == '=')
            return s + len + 1;
    }
    return NULL;
}

uint64_t lm_os_random(void)
{
    uint64_t v = 0;
    long r = syscall(SYS_getrandom, &v, sizeof v, 0x0001 /* GRND_NONBLOCK */);
    if (r != (long)sizeof v) {
        /* No entropy source: mix what differs between runs (ASLR, time). */
        v = lm_os_now_ns() ^ ((uint64_t)(uintptr_t)&v << 17) ^ (uint64_t)lm_os_getpid() << 40;
    }
    /* splitmix64 finaliser, so weak fallbacks still spread over all bits. */
    v += 0x9e3779b97f4a7c15ull;
    v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ull;
    v = (v ^ (v >> 27)) * 0x94d049bb133111ebull;
    return v ^ (v >> 31);
}

pid_t lm_os_gettid(void) { return (pid_t)syscall(SYS_gettid); }
pid_t lm_os_getpid(void) { return (pid_t)syscall(SYS_getpid); }

uint64_t lm_os_now_ns(void)
{
    struct timespec ts;
    /* clock_gettime goes through the vDSO: no allocation, signal-safe. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
