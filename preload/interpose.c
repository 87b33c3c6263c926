/*
 * interpose.c - the exported C allocation entry points: the whole malloc
 * family, glibc's __libc_* aliases (some programs call them directly), and
 * the glibc extensions (mallopt, malloc_trim, mallinfo, mallinfo2,
 * malloc_stats, malloc_info) with sensible answers.  Each one forwards to
 * alloc.h; nothing else happens here.  Thread-safe as alloc.h is.
 */
#include "alloc.h"
#include "capture.h"
#include "dumper.h"
#include "leakcheck.h"
#include "atomic.h"
#include "backtrace.h"
#include "stackwalk.h"
#include "log.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

LM_EXPORT void *malloc(size_t size)
{
    lm_capture_stack();
    return lm_malloc(size);
}
LM_EXPORT void free(void *p) { lm_free(p); }
LM_EXPORT void *calloc(size_t n, size_t size)
{
    lm_capture_stack();
    return lm_calloc(n, size);
}
LM_EXPORT void *realloc(void *p, size_t size)
{
    lm_capture_stack();
    return lm_realloc(p, size);
}
LM_EXPORT void *memalign(size_t align, size_t size)
{
    lm_capture_stack();
    return lm_memalign(align, size);
}
LM_EXPORT void *aligned_alloc(size_t align, size_t size)
{
    lm_capture_stack();
    return lm_memalign(align, size);
}
LM_EXPORT size_t malloc_usable_size(void *p) { return lm_usable_size(p); }

LM_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    lm_capture_stack();
    return lm_realloc(p, total);
}

LM_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    if (!lm_is_pow2(align) || align % sizeof(void *) != 0)
        return EINVAL;
    int saved = errno;
    lm_capture_stack();
    void *p = lm_memalign(align, size);
    if (!p)
        return ENOMEM;
    errno = saved;
    *out = p;
    return 0;
}

LM_EXPORT void *valloc(size_t size)
{
    lm_capture_stack();
    return lm_memalign(4096, size);
}

LM_EXPORT void *pvalloc(size_t size)
{
    size_t rounded = (size + 4095) & ~(size_t)4095;
    if (rounded < size) {
        errno = ENOMEM;
        return NULL;
    }
    lm_capture_stack();
    return lm_memalign(4096, rounded ? rounded : 4096);
}

/* glibc's own names for the same entry points (some programs call them
 * directly): aliases, so each is the very same function (the capture's
 * frame count stays right). */
#define LM_ALIAS(target) __attribute__((alias(#target), copy(target), visibility("default")))
void *__libc_malloc(size_t size) LM_ALIAS(malloc);
void __libc_free(void *p) LM_ALIAS(free);
void *__libc_calloc(size_t n, size_t size) LM_ALIAS(calloc);
void *__libc_realloc(void *p, size_t size) LM_ALIAS(realloc);
void *__libc_memalign(size_t align, size_t size) LM_ALIAS(memalign);
void *__libc_valloc(size_t size) LM_ALIAS(valloc);
void *__libc_pvalloc(size_t size) LM_ALIAS(pvalloc);
void cfree(void *p) LM_ALIAS(free);

/* ---- dl_iterate_phdr ---------------------------------------------------
 * A callback that allocates would capture a stack while this thread holds
 * the loader lock; libunwind may then wait for its own lock, held by a
 * thread that waits for the loader lock (backtrace.c's safety argument).
 * So no capture on this thread while the program iterates. */
typedef int (*lm_phdr_cb)(struct dl_phdr_info *, size_t, void *);
static int (*real_dl_iterate_phdr)(lm_phdr_cb, void *);
static volatile AO_t resolving_phdr;

LM_EXPORT int dl_iterate_phdr(lm_phdr_cb cb, void *data)
{
    lm_backtrace_thread_block();
    if (lm_unlikely(!real_dl_iterate_phdr)) {
        /* dlsym may allocate; a nested call during resolution sees none. */
        if (lm_cas_full(&resolving_phdr, 0, 1)) {
            real_dl_iterate_phdr = (int (*)(lm_phdr_cb, void *))dlsym(RTLD_NEXT, "dl_iterate_phdr");
            lm_store_rel(&resolving_phdr, 0);
        }
    }
    int r = real_dl_iterate_phdr ? real_dl_iterate_phdr(cb, data) : 0;
    lm_backtrace_thread_unblock();
    return r;
}

/* ---- dlclose -----------------------------------------------------------
 * Unmapped code may come back at the same address with other unwind rules:
 * the stack walker's caches (stackwalk.c) are emptied after every dlclose. */
static int (*real_dlclose)(void *);

LM_EXPORT int dlclose(void *handle)
{
    if (lm_unlikely(!real_dlclose))
        real_dlclose = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
    int r = real_dlclose ? real_dlclose(handle) : -1;
    lm_unwind_forget();
    return r;
}

/* Only the preloaded library checks at exit (lm_core is also linked into
 * unit tests). */
__attribute__((constructor(102))) static void arm_exit_check(void)
{
    int (*real)(lm_phdr_cb, void *) = (int (*)(lm_phdr_cb, void *))dlsym(RTLD_NEXT, "dl_iterate_phdr");
    if (real)
        real_dl_iterate_phdr = real;
    real_dlclose = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
    lm_leakcheck_arm_exit();
    lm_dumper_start();
}

/* ---- signal handling functions (dumper.c) ------------------------------
 * The program's handler for the dump signal wins over ours; queries see
 * the program's view.  Other signals go straight to libc. */
LM_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    return lm_dumper_sigaction(sig, act, old);
}
LM_EXPORT __sighandler_t signal(int sig, __sighandler_t h)
{
    return lm_dumper_signal_call(sig, h, LM_SIGNAL_BSD);
}
LM_EXPORT __sighandler_t sysv_signal(int sig, __sighandler_t h)
{
    return lm_dumper_signal_call(sig, h, LM_SIGNAL_SYSV);
}
__sighandler_t bsd_signal(int sig, __sighandler_t h) LM_ALIAS(signal);
__sighandler_t ssignal(int sig, __sighandler_t h) LM_ALIAS(signal);
__sighandler_t __sysv_signal(int sig, __sighandler_t h) LM_ALIAS(sysv_signal);

/* ---- process exit ---------------------------------------------------
 * A program that calls _exit/_Exit itself skips atexit handlers and
 * destructors, so the check runs here.  (exit() reaches libc's _exit
 * internally, not through these symbols.)  vfork children call _exit
 * too: lm_leakcheck_at_exit leaves them alone. */

LM_EXPORT __attribute__((noreturn)) void _exit(int status)
{
    lm_backtrace_verify_summary();
    lm_leakcheck_at_exit();
    for (;;)
        syscall(SYS_exit_group, status);
}

LM_EXPORT __attribute__((noreturn)) void _Exit(int status)
{
    lm_backtrace_verify_summary();
    lm_leakcheck_at_exit();
    for (;;)
        syscall(SYS_exit_group, status);
}

/* ---- glibc extensions ------------------------------------------------ */

LM_EXPORT int mallopt(int param, int value)
{
    (void)param;
    (void)value;
    return 1;   /* accepted; leakmark's pools have no such knobs */
}

LM_EXPORT int malloc_trim(size_t pad)
{
    (void)pad;
    return lm_init() && lm_span_purge_all() > 0;
}

LM_EXPORT struct mallinfo2 mallinfo2(void)
{
    struct mallinfo2 mi;
    memset(&mi, 0, sizeof mi);
    if (!lm_init())
        return mi;
    struct lm_span_stats s;
    lm_span_stats(&s);
    mi.arena = s.committed;
    mi.uordblks = s.in_use;
    mi.fordblks = s.committed - s.in_use;
    mi.keepcost = s.free_dirty;
    return mi;
}

LM_EXPORT struct mallinfo mallinfo(void)
{
    struct mallinfo2 m2 = mallinfo2();
    struct mallinfo mi;
    memset(&mi, 0, sizeof mi);
    mi.arena = (int)m2.arena;
    mi.uordblks = (int)m2.uordblks;
    mi.fordblks = (int)m2.fordblks;
    mi.keepcost = (int)m2.keepcost;
    return mi;
}

LM_EXPORT void malloc_stats(void)
{
    struct mallinfo2 m = mallinfo2();
    char buf[256];
    size_t n = lm_format(buf, sizeof buf,
                         "Arena 0:\nsystem bytes     = %10zu\nin use bytes     = %10zu\n"
                         "Total (incl. mmap):\nsystem bytes     = %10zu\nin use bytes     = %10zu\n",
                         m.arena, m.uordblks, m.arena, m.uordblks);
    lm_write_all(2, buf, n);
}

/* malloc_info writes into the program's FILE: this is the program's stream,
 * called from the program's context, never from inside the allocator, so
 * handing it a formatted buffer with fwrite is safe here. */
LM_EXPORT int malloc_info(int options, FILE *fp)
{
    if (options != 0 || !fp) {
        errno = EINVAL;
        return -1;
    }
    struct mallinfo2 m = mallinfo2();
    char buf[512];
    size_t n = lm_format(buf, sizeof buf,
                         "<malloc version=\"1\">\n<heap nr=\"0\">\n"
                         "<total type=\"rest\" count=\"0\" size=\"%zu\"/>\n"
                         "<system type=\"current\" size=\"%zu\"/>\n</heap>\n"
                         "<system type=\"current\" size=\"%zu\"/>\n</malloc>\n",
                         m.fordblks, m.arena, m.arena);
    return fwrite(buf, 1, n, fp) == n ? 0 : -1;
}
