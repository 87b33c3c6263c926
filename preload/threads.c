/*
 * threads.c - the thread registry (threads.h): a fixed mmap'd table, the
 * registry lock, /proc/self/maps and /proc/self/task readers.
 *
 * Stack bounds.  pthread_getattr_np is not used: on the main thread it reads
 * /proc/self/maps through stdio (allocates), and in glibc 2.36 it also
 * realloc()s a cpuset for every thread (__pthread_getaffinity_np loop), so
 * it would re-enter malloc from malloc.  Instead:
 *   - main thread: the mapping of /proc/self/maps that contains
 *     __libc_stack_end; its low end moves as the stack grows, so a stop
 *     re-reads it (lm_threads_refresh_bounds_locked);
 *   - other threads: the mapping that contains the thread's own SP.  The
 *     kernel may merge the stack's read-write part with an adjacent
 *     anonymous mapping above it, so when glibc's thread descriptor
 *     (pthread_self(), which sits at the top of a glibc-made stack block,
 *     static TLS just below it) lies in that mapping, the top is cut to the
 *     page end after the descriptor.  Over-wide bounds are safe (the whole
 *     range is one readable mapping) and only make the scan conservative.
 *   - discovered threads: the mapping that contains the SP saved by the stop
 *     handler.
 * Static TLS (glibc, TLS_TCB_AT_TP): the block is [tp + TCB - S, tp + TCB)
 * with tp = pthread_self(), S = the static TLS size (_dl_get_tls_static_info,
 * what LeakSanitizer uses) and TCB = sizeof(struct pthread)
 * (_thread_db_sizeof_pthread, exported for libthread_db).  Both are
 * GLIBC_PRIVATE and referenced weakly: when absent, no TLS range is given.
 * The range is clamped to the mapping that contains tp.  For non-main
 * threads it lies inside the stack block anyway.
 *
 * Notes on locking.
 *   registry lock (g_lock, a tid lock): guards every slot's registry fields,
 *     g_hiwater, g_pass, g_table creation.  Taken by register/unregister,
 *     discover, and by lm_stop_world for the whole stop (so never call
 *     register/unregister from the stopping thread: EDEADLK).  Nests inside
 *     the stop lock (stopworld.c), never the other way.
 *   The stop handler takes no lock: it finds its slot with acquire loads of
 *   g_table / g_hiwater / live, and checks tid.
 */
#include "threads.h"
#include "atomic.h"
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_stack_end;
extern void _dl_get_tls_static_info(size_t *size, size_t *align) __attribute__((weak));
extern const uint32_t _thread_db_sizeof_pthread __attribute__((weak));

#define TABLE_BYTES (lm_align_up(sizeof(struct lm_thread) * LM_THREADS_MAX, LM_PAGE_SIZE))
#define TIDLOCK_WAITERS 0x80000000u

static struct lm_thread *volatile g_table;
static volatile AO_t g_hiwater;
static volatile uint32_t g_lock;
static uint32_t g_pass;
static pid_t g_fork_tid;

/* ------------------------------------------------------------------ */
/* Raw syscalls                                                        */

static long sys_futex(volatile uint32_t *w, int op, uint32_t val)
{
    return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

static int raw_open(const char *path, int flags)
{
    for (;;) {
        long fd = syscall(SYS_openat, AT_FDCWD, path, flags | O_RDONLY | O_CLOEXEC);
        if (fd >= 0 || errno != EINTR)
            return (int)(fd < 0 ? -errno : fd);
    }
}

static long raw_read(int fd, void *buf, size_t n)
{
    for (;;) {
        long r = syscall(SYS_read, fd, buf, n);
        if (r >= 0 || errno != EINTR)
            return r < 0 ? -errno : r;
    }
}

static void raw_close(int fd) { syscall(SYS_close, fd); }

long lm_proc_read(const char *path, char *buf, size_t cap)
{
    if (cap == 0)
        return -EINVAL;
    int fd = raw_open(path, 0);
    if (fd < 0)
        return fd;
    size_t len = 0;
    while (len + 1 < cap) {
        long r = raw_read(fd, buf + len, cap - 1 - len);
        if (r <= 0) {
            if (r < 0) {
                raw_close(fd);
                return r;
            }
            break;
        }
        len += (size_t)r;
    }
    raw_close(fd);
    buf[len] = 0;
    return (long)len;
}

/* ------------------------------------------------------------------ */
/* Tid locks                                                           */

static pid_t self_tid(void) { return (pid_t)syscall(SYS_gettid); }

bool lm_tidlock_try(volatile uint32_t *word)
{
    uint32_t expect = 0;
    return __atomic_compare_exchange_n(word, &expect, (uint32_t)self_tid(), false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

int lm_tidlock_acquire(volatile uint32_t *word)
{
    uint32_t me = (uint32_t)self_tid(), expect = 0;
    if (__atomic_compare_exchange_n(word, &expect, me, false, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED))
        return 0;
    int saved = errno;
    for (;;) {
        uint32_t w = __atomic_load_n(word, __ATOMIC_RELAXED);
        if ((w & ~TIDLOCK_WAITERS) == me)
            return EDEADLK;
        if (w == 0) {
            /* Take it "contended": there may be other sleepers, and the
             * release must wake them (Drepper's futex mutex, owner = tid). */
            if (__atomic_compare_exchange_n(word, &w, me | TIDLOCK_WAITERS, false,
                                            __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
                break;
            continue;
        }
        if (!(w & TIDLOCK_WAITERS) &&
            !__atomic_compare_exchange_n(word, &w, w | TIDLOCK_WAITERS, false,
                                         __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            continue;
        /* EINTR (a stop parked us meanwhile) or EAGAIN: look again. */
        sys_futex(word, FUTEX_WAIT_PRIVATE, w | TIDLOCK_WAITERS);
    }
    errno = saved;
    return 0;
}

void lm_tidlock_release(volatile uint32_t *word)
{
    uint32_t old = __atomic_exchange_n(word, 0, __ATOMIC_RELEASE);
    if (old & TIDLOCK_WAITERS) {
        int saved = errno;
        sys_futex(word, FUTEX_WAKE_PRIVATE, 1);
        errno = saved;
    }
}

pid_t lm_tidlock_owner(const volatile uint32_t *word)
{
    return (pid_t)(__atomic_load_n(word, __ATOMIC_ACQUIRE) & ~TIDLOCK_WAITERS);
}

int lm_threads_lock(void) { return lm_tidlock_acquire(&g_lock); }
void lm_threads_unlock(void) { lm_tidlock_release(&g_lock); }

/* ------------------------------------------------------------------ */
/* /proc/self/maps                                                     */

struct maps_query {
    uintptr_t addr, lo, hi;
    bool found;
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Calls cb for every readable mapping; a nonzero return stops the walk.
 * Streams the file through a small stack buffer: lines of any length. */
static int maps_foreach(int (*cb)(void *arg, uintptr_t lo, uintptr_t hi), void *arg)
{
    int fd = raw_open("/proc/self/maps", 0);
    if (fd < 0)
        return -fd;
    char buf[2048];
    int field = 0;      /* 0 start, 1 end, 2 perms, 3 rest of line */
    uintptr_t lo = 0, hi = 0;
    bool readable = false;
    unsigned pi = 0;
    int err = 0;
    for (;;) {
        long n = raw_read(fd, buf, sizeof buf);
        if (n <= 0) {
            err = (int)-n;
            break;
        }
        for (long i = 0; i < n; i++) {
            char c = buf[i];
            if (c == '\n') {
                if (field >= 2 && readable && hi > lo && cb(arg, lo, hi))
                    goto out;
                field = 0, lo = hi = 0, readable = false, pi = 0;
                continue;
            }
            switch (field) {
            case 0:
                if (c == '-')
                    field = 1;
                else if (hexval(c) >= 0)
                    lo = lo * 16 + (uintptr_t)hexval(c);
                break;
            case 1:
                if (c == ' ')
                    field = 2;
                else if (hexval(c) >= 0)
                    hi = hi * 16 + (uintptr_t)hexval(c);
                break;
            case 2:
                if (c == ' ')
                    field = 3;
                else if (pi++ == 0)
                    readable = (c == 'r');
                break;
            default:
                break;
            }
        }
    }
out:
    raw_close(fd);
    return err;
}

struct maps_queries {
    struct maps_query *q;
    unsigned n;
};

static int query_cb(void *arg, uintptr_t lo, uintptr_t hi)
{
    struct maps_queries *qs = arg;
    bool pending = false;
    for (unsigned i = 0; i < qs->n; i++) {
        struct maps_query *q = &qs->q[i];
        if (!q->found && q->addr >= lo && q->addr < hi)
            q->lo = lo, q->hi = hi, q->found = true;
        pending |= !q->found;
    }
    return !pending;
}

int lm_threads_find_mapping(uintptr_t addr, uintptr_t *lo, uintptr_t *hi)
{
    int saved = errno;
    struct maps_query q[1] = { { addr, 0, 0, false } };
    struct maps_queries qs = { q, 1 };
    int err = addr ? maps_foreach(query_cb, &qs) : ENOENT;
    errno = saved;
    if (err)
        return err;
    if (!q[0].found)
        return ENOENT;
    *lo = q[0].lo, *hi = q[0].hi;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Table                                                               */

static struct lm_thread *table_get(void)
{
    return __atomic_load_n(&g_table, __ATOMIC_ACQUIRE);
}

/* Registry lock held. */
static struct lm_thread *table_make(void)
{
    struct lm_thread *t = table_get();
    if (t)
        return t;
    void *p = NULL;
    if (lm_os_map(TABLE_BYTES, &p) != 0)
        return NULL;
    __atomic_store_n(&g_table, (struct lm_thread *)p, __ATOMIC_RELEASE);
    return p;
}

int lm_threads_prepare(void)
{
    if (table_get())
        return 0;
    int err = lm_threads_lock();
    if (err)
        return err;
    struct lm_thread *t = table_make();
    lm_threads_unlock();
    return t ? 0 : ENOMEM;
}

unsigned lm_threads_hiwater(void) { return (unsigned)lm_load_acq(&g_hiwater); }

struct lm_thread *lm_threads_slot(unsigned i)
{
    struct lm_thread *tab = table_get();
    if (!tab || i >= lm_threads_hiwater())
        return NULL;
    return lm_load_acq(&tab[i].live) ? &tab[i] : NULL;
}

unsigned lm_threads_count(void)
{
    unsigned n = 0, hw = lm_threads_hiwater();
    for (unsigned i = 0; i < hw; i++)
        n += lm_threads_slot(i) != NULL;
    return n;
}

unsigned lm_threads_index(const struct lm_thread *t) { return (unsigned)(t - table_get()); }

struct lm_thread *lm_threads_find_tid(pid_t tid, unsigned hint)
{
    struct lm_thread *tab = table_get();
    if (!tab)
        return NULL;
    unsigned hw = lm_threads_hiwater();
    if (hint < hw && lm_load_acq(&tab[hint].live) && tab[hint].tid == tid)
        return &tab[hint];
    for (unsigned i = 0; i < hw; i++)
        if (lm_load_acq(&tab[i].live) && tab[i].tid == tid)
            return &tab[i];
    return NULL;
}

void lm_threads_table_range(uintptr_t *lo, uintptr_t *hi)
{
    uintptr_t t = (uintptr_t)table_get();
    *lo = t;
    *hi = t ? t + TABLE_BYTES : 0;
}

/* Registry lock held.  A fresh slot for tid (or NULL when full). */
static struct lm_thread *slot_new(pid_t tid)
{
    struct lm_thread *tab = table_make();
    if (!tab)
        return NULL;
    unsigned hw = lm_threads_hiwater(), i = 0;
    while (i < hw && lm_load_relaxed(&tab[i].live))
        i++;
    if (i == LM_THREADS_MAX)
        return NULL;
    struct lm_thread *t = &tab[i];
    t->tid = tid;
    t->flags = 0;
    t->seen = g_pass;
    t->pthread = 0;
    t->stack_lo = t->stack_hi = t->tls_lo = t->tls_hi = 0;
    t->stop_state = LM_STOP_RUNNING;
    t->stop_flags = 0;
    t->nregs = 0;
    t->sp = 0;
    __atomic_store_n(&t->ack_seq, 0, __ATOMIC_RELAXED);
    lm_store_rel(&t->live, 1);
    if (i == hw)
        lm_store_rel(&g_hiwater, hw + 1);
    return t;
}

static void slot_drop(struct lm_thread *t)
{
    lm_store_rel(&t->live, 0);
}

/* ------------------------------------------------------------------ */
/* Registration                                                        */

LM_THREAD uintptr_t lm_tls_stack_lo, lm_tls_stack_hi;

int lm_threads_register_self(void)
{
    int saved = errno;
    pid_t tid = self_tid();
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    uintptr_t tp = (uintptr_t)pthread_self();
    uintptr_t stack_end = (uintptr_t)__libc_stack_end;

    /* One pass over the maps, outside the lock: SP, initial stack, tp. */
    struct maps_query q[3] = { { sp, 0, 0, false }, { stack_end ? stack_end : sp, 0, 0, false },
                               { tp, 0, 0, false } };
    struct maps_queries qs = { q, 3 };
    maps_foreach(query_cb, &qs);

    uint32_t flags = LM_THREAD_REGISTERED;
    uintptr_t lo = 0, hi = 0, tls_lo = 0, tls_hi = 0;
    size_t tcb = &_thread_db_sizeof_pthread ? _thread_db_sizeof_pthread : 0;
    if (q[0].found) {
        lo = q[0].lo, hi = q[0].hi;
        flags |= LM_THREAD_BOUNDS;
        if (stack_end && q[1].found && q[1].lo == lo)
            flags |= LM_THREAD_MAIN;
        else if (tcb && tp >= sp && tp < hi)
            hi = lm_align_up(tp + tcb, LM_PAGE_SIZE) < hi ? lm_align_up(tp + tcb, LM_PAGE_SIZE) : hi;
    }
    if (_dl_get_tls_static_info && tcb && q[2].found) {
        size_t size = 0, align = 0;
        _dl_get_tls_static_info(&size, &align);
        if (size >= tcb) {
            tls_hi = tp + tcb, tls_lo = tls_hi - size;
            if (tls_lo < q[2].lo)
                tls_lo = q[2].lo;
            if (tls_hi > q[2].hi)
                tls_hi = q[2].hi;
            if (tls_lo < tls_hi)
                flags |= LM_THREAD_TLS;
        }
    }

    int err = lm_threads_lock();
    if (err) {
        errno = saved;
        return err;
    }
    struct lm_thread *t = lm_threads_find_tid(tid, LM_THREADS_MAX);
    if (!t)
        t = slot_new(tid);
    if (t) {
        /* A reused tid belongs to a thread that is gone: overwrite. */
        t->flags = flags;
        t->pthread = (pthread_t)tp;
        t->stack_lo = lo, t->stack_hi = hi;
        t->tls_lo = tls_lo, t->tls_hi = tls_hi;
        t->seen = g_pass;
    }
    lm_threads_unlock();
    if (t && (flags & LM_THREAD_BOUNDS)) {
        /* The initial thread's stack grows: accept SPs down to 128 MiB
         * below its top (the stack-to-mmap gap is at least that). */
        lm_tls_stack_lo = (flags & LM_THREAD_MAIN) && hi > (128u << 20) ? hi - (128u << 20) : lo;
        lm_tls_stack_hi = hi;
    }
    errno = saved;
    return t ? 0 : ENOMEM;
}

void lm_threads_unregister_self(void)
{
    lm_tls_stack_lo = lm_tls_stack_hi = 0;
    if (!table_get())
        return;
    pid_t tid = self_tid();
    if (lm_threads_lock() != 0)
        return;
    struct lm_thread *t = lm_threads_find_tid(tid, LM_THREADS_MAX);
    if (t)
        slot_drop(t);
    lm_threads_unlock();
}

/* ------------------------------------------------------------------ */
/* Discovery                                                           */

struct dirent64_raw {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

int lm_threads_discover_locked(unsigned *overflow)
{
    int saved = errno;
    unsigned added = 0, lost = 0;
    if (!table_make())
        return -ENOMEM;
    int fd = raw_open("/proc/self/task", O_DIRECTORY);
    if (fd < 0) {
        errno = saved;
        return fd;
    }
    uint32_t pass = ++g_pass;
    if (pass == 0)
        pass = ++g_pass;         /* 0 is never a pass: fresh slots hold it */
    char buf[2048] __attribute__((aligned(8)));
    long err = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err = n < 0 ? -errno : 0;
            break;
        }
        for (long off = 0; off < n;) {
            struct dirent64_raw *d = (struct dirent64_raw *)(buf + off);
            off += d->d_reclen;
            pid_t tid = 0;
            const char *s = d->d_name;
            if (*s < '0' || *s > '9')
                continue;
            while (*s >= '0' && *s <= '9')
                tid = tid * 10 + (*s++ - '0');
            struct lm_thread *t = lm_threads_find_tid(tid, LM_THREADS_MAX);
            if (!t && (t = slot_new(tid)) != NULL)
                added++;
            if (t)
                t->seen = pass;
            else
                lost++;
        }
    }
    raw_close(fd);
    /* Drop threads that no longer exist, but only after a complete listing. */
    if (err == 0) {
        struct lm_thread *tab = table_get();
        unsigned hw = lm_threads_hiwater();
        for (unsigned i = 0; i < hw; i++)
            if (lm_load_relaxed(&tab[i].live) && tab[i].seen != pass)
                slot_drop(&tab[i]);
    }
    if (overflow)
        *overflow = lost;
    errno = saved;
    return err ? (int)err : (int)added;
}

int lm_threads_discover(unsigned *overflow)
{
    int err = lm_threads_lock();
    if (err)
        return -err;
    int r = lm_threads_discover_locked(overflow);
    lm_threads_unlock();
    return r;
}

/* ------------------------------------------------------------------ */
/* Bounds completion (world stopped)                                   */

static int refresh_cb(void *arg, uintptr_t lo, uintptr_t hi)
{
    (void)arg;
    struct lm_thread *tab = table_get();
    unsigned hw = lm_threads_hiwater();
    for (unsigned i = 0; i < hw; i++) {
        struct lm_thread *t = &tab[i];
        if (!lm_load_relaxed(&t->live))
            continue;
        if (t->flags & LM_THREAD_MAIN) {
            /* Same mapping as at registration (its top does not move). */
            if (t->stack_hi > lo && t->stack_hi <= hi)
                t->stack_lo = lo;
        } else if (!(t->flags & LM_THREAD_BOUNDS) && t->sp >= lo && t->sp < hi) {
            t->stack_lo = lo, t->stack_hi = hi;
            t->flags |= LM_THREAD_BOUNDS;
        }
    }
    return 0;
}

void lm_threads_refresh_bounds_locked(void)
{
    if (!table_get())
        return;
    int saved = errno;
    maps_foreach(refresh_cb, NULL);
    errno = saved;
}

/* ------------------------------------------------------------------ */
/* fork                                                                */

void lm_threads_atfork_prepare(void)
{
    if (lm_threads_lock() == 0)
        g_fork_tid = self_tid();
    else
        g_fork_tid = 0;   /* already held by us (inside a stop): leave it */
}

void lm_threads_atfork_parent(void)
{
    if (g_fork_tid)
        lm_threads_unlock();
}

void lm_threads_atfork_child(void)
{
    /* Only the forking thread exists now; it has a new tid. */
    struct lm_thread *tab = table_get();
    pid_t parent_tid = g_fork_tid ? g_fork_tid : (pid_t)lm_tidlock_owner(&g_lock);
    __atomic_store_n(&g_lock, 0, __ATOMIC_RELAXED);
    if (!tab)
        return;
    unsigned hw = lm_threads_hiwater();
    pid_t me = self_tid();
    for (unsigned i = 0; i < hw; i++) {
        struct lm_thread *t = &tab[i];
        if (!lm_load_relaxed(&t->live))
            continue;
        if (t->tid == parent_tid)
            t->tid = me;
        else
            slot_drop(t);
        t->stop_state = LM_STOP_RUNNING;
        t->stop_flags = 0;
    }
}
