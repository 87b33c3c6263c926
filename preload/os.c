/*
 * os.c - raw system calls behind os.h's contract (0 or errno, page-aligned
 * arguments).  No libc wrappers that could be interposed or allocate; every
 * function is async-signal-safe.
 */
#include "os.h"
#include "internal.h"

#include <atomic_ops.h>

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

/* ---- leakmark's own mappings ------------------------------------------
 * Every mapping leakmark makes for itself goes through lm_os_map /
 * lm_os_remap / lm_os_unmap and is recorded here, so the root scan can
 * leave it out (our memory is never a root).  While a leak check gathers
 * its roots, ranges we unmap or move are kept as "graveyard" entries: a
 * snapshot of /proc/self/maps taken earlier in the check may still list
 * them, and they must not be scanned once gone. */
#define OWN_MAX 2048u
struct own_range { uintptr_t lo, hi; bool dead; };
static struct own_range own[OWN_MAX];
static unsigned own_count;
static volatile AO_TS_t own_lock = AO_TS_INITIALIZER;
static bool keep_graveyard;

static void own_lock_take(void)
{
    while (AO_test_and_set_acquire(&own_lock) != AO_TS_CLEAR)
        ;
}
static void own_lock_drop(void) { AO_CLEAR(&own_lock); }

static void own_add(uintptr_t lo, size_t n)
{
    own_lock_take();
    unsigned i;
    for (i = 0; i < own_count && !own[i].dead; i++)
        ;
    if (i == own_count && own_count < OWN_MAX)
        own_count++;
    if (i < own_count)
        own[i] = (struct own_range){ lo, lo + n, false };
    own_lock_drop();
}

static void own_remove(uintptr_t lo, size_t n)
{
    own_lock_take();
    for (unsigned i = 0; i < own_count; i++) {
        if (own[i].dead || own[i].lo != lo)
            continue;
        if (keep_graveyard) {
            own[i].dead = true;
        } else {
            own[i] = own[--own_count];
        }
        (void)n;
        break;
    }
    own_lock_drop();
}

/* The registry's lock is taken before the world is stopped (and across
 * fork) with the allocator's locks: a thread stopped while holding it would
 * make the checking thread, which maps memory, spin forever. */
void lm_os_atfork_prepare(void) { own_lock_take(); }
void lm_os_atfork_parent(void) { own_lock_drop(); }
void lm_os_atfork_child(void) { own_lock_drop(); }

void lm_os_own_graveyard(bool keep)
{
    own_lock_take();
    keep_graveyard = keep;
    if (!keep) {
        for (unsigned i = 0; i < own_count;) {
            if (own[i].dead)
                own[i] = own[--own_count];
            else
                i++;
        }
    }
    own_lock_drop();
}

/* fn may map or unmap (it runs on a snapshot, without the lock); callers
 * are serialised by the leak check. */
void lm_os_foreach_own(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg)
{
    static struct own_range snap[OWN_MAX];
    own_lock_take();
    unsigned n = own_count;
    for (unsigned i = 0; i < n; i++)
        snap[i] = own[i];
    own_lock_drop();
    for (unsigned i = 0; i < n; i++)
        fn(snap[i].lo, snap[i].hi, arg);
}

int lm_os_map(size_t n, void **out)
{
    int err = (int)raw_mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, out);
    if (!err)
        own_add((uintptr_t)*out, n);
    return err;
}

int lm_os_map_shared(size_t n, void **out)
{
    int err = (int)raw_mmap(NULL, n, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, out);
    if (!err)
        own_add((uintptr_t)*out, n);
    return err;
}

int lm_os_remap(void *old, size_t old_n, size_t new_n, void **out)
{
    long r = syscall(SYS_mremap, old, old_n, new_n, MREMAP_MAYMOVE);
    if (r == -1)
        return errno;
    own_remove((uintptr_t)old, old_n);
    own_add((uintptr_t)r, new_n);
    *out = (void *)r;
    return 0;
}

int lm_os_unmap(void *p, size_t n)
{
    own_remove((uintptr_t)p, n);
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
