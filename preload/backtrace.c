/*
 * backtrace.c - owns stack capture (libunwind's unw_backtrace) and the
 * printing of captured stacks.  State: one initial-exec TLS nesting count
 * per thread (`depth`: inside a capture or blocked) and one process-wide
 * disable count.  No locks of its own, no malloc.
 *
 * Why unw_backtrace and not an unw_init_local/unw_step loop
 * ---------------------------------------------------------
 * Debian 12's libunwind 1.6.2 is built without the per-thread register-
 * state cache, so unw_set_caching_policy(UNW_CACHE_PER_THREAD) silently
 * becomes UNW_CACHE_GLOBAL: every unw_step then takes the global cache
 * mutex with all signals blocked, i.e. two rt_sigprocmask syscalls per
 * frame (strace: 30 per 15-frame capture; bench_backtrace: several us per
 * capture).  unw_backtrace goes through tdep_trace (x86_64/Gtrace.c),
 * which keeps its own per-thread frame cache (a TLS pointer to mmap'd
 * memory) and, once warm, walks the stack with no syscall, no lock and no
 * malloc.  It falls back to the unw_step path only on a cache miss (first
 * time a pc is seen), on frames it cannot describe, and after the thread's
 * pthread-key destructor dropped its cache (frees during thread exit).
 *
 * What libunwind can do underneath us (1.6.2, x86_64, local unwinding)
 * ---------------------------------------------------------------------
 *  - malloc: none on this path (checked by interposing malloc around a
 *    100k-capture loop).  Its imports of malloc/free serve .debug_frame
 *    and MiniDebugInfo (lzma), which local x86_64 unwinding of .eh_frame
 *    code does not use; pthread_setspecific may calloc once per thread in
 *    programs with more than 32 keys.  Any such malloc re-enters us with
 *    `depth` set and its own capture returns 0 (no recursion).
 *  - Locks: on a frame-cache miss, dwarf_find_save_locs takes the global
 *    register-state cache mutex (signals blocked) and, while holding it,
 *    calls dl_iterate_phdr, which takes the loader's recursive
 *    dl_load_write_lock (gperftools #1188 shows that stack); the per-thread
 *    frame cache is created from a mempool under a similar mutex.  glibc's
 *    __tls_get_addr (libunwind's TLS is global-dynamic) can resize the DTV
 *    with malloc after a dlopen.  First use creates a pipe (memory
 *    validation): one file descriptor the program will see.
 *
 * Deadlock argument (gperftools #225 #436 #1210, jemalloc #585,
 * libunwind #16, libbacktrace #20 are this class of bug)
 *  1. Same thread, nested: malloc from inside libunwind, or a signal
 *     handler interrupting a capture, finds depth > 0 and returns 0
 *     frames without touching libunwind, whose per-thread frame cache is
 *     not reentrant.  libunwind's mutexes are taken with signals blocked,
 *     so no handler can run on a thread while it holds one.
 *  2. Same thread, loader: dlopen/dlclose/dl_iterate_phdr hold recursive
 *     loader locks; a capture on that thread re-takes them recursively.
 *  3. Cross-thread: a cycle needs a thread that holds a lock a capturing
 *     thread waits for while itself waiting for a lock the capturer holds.
 *     The capturer holds only libunwind's cache mutex (then waits for
 *     dl_load_write_lock).  (a) Callers of lm_backtrace hold no lock of
 *     leakmark's (allocator rule: capture first, lock after), so no thread
 *     can wait on the capturer for anything else.  (b) The remaining cycle
 *     is a program thread inside its own dl_iterate_phdr callback (holding
 *     dl_load_write_lock) calling malloc, whose capture would wait for the
 *     cache mutex: the interposer brackets the program's dl_iterate_phdr
 *     with lm_backtrace_thread_block/unblock so such mallocs get no stack.
 *     dlopen itself only holds dl_load_write_lock for list updates that do
 *     not allocate, so captures during dlopen need no global switch.
 *  4. fork: a child inherits libunwind's mutexes in whatever state other
 *     threads left them.  The allocator calls lm_backtrace_disable() in the
 *     child of a multi-threaded parent (until exec); a single-threaded
 *     parent's child can keep capturing (the forking thread holds no
 *     libunwind mutex: signals are blocked while one is held, and fork is
 *     not called from inside libunwind).
 *
 * Printing uses dladdr, which takes GL(dl_load_lock): error paths only,
 * no allocator lock held.
 *
 * Build note: libleakmark.so should be linked with -Wl,-z,now so that the
 * first unw_backtrace call inside malloc does not run the lazy PLT
 * resolver.
 */
#define UNW_LOCAL_ONLY
#include "backtrace.h"
#include "internal.h"
#include "log.h"

#include <atomic_ops.h>
#include <dlfcn.h>
#include <libunwind.h>

/* Inside a capture, or blocked by lm_backtrace_thread_block. */
static LM_THREAD unsigned depth;
/* lm_backtrace_disable() nesting count. */
static volatile AO_t disabled;

/* Frames unw_backtrace reports above our caller: the pc inside
 * lm_backtrace itself (unw_backtrace starts at its own caller). */
#define OWN_FRAMES 1

LM_NOINLINE int lm_backtrace(uintptr_t *pcs, int max, int skip)
{
    if (max <= 0 || depth != 0 || AO_load(&disabled) != 0)
        return 0;
    if (max > LM_BT_MAX_FRAMES)
        max = LM_BT_MAX_FRAMES;
    if (skip < 0)
        skip = 0;
    if (skip > LM_BT_MAX_SKIP)
        skip = LM_BT_MAX_SKIP;

    void *buf[LM_BT_MAX_FRAMES + LM_BT_MAX_SKIP + OWN_FRAMES];
    int drop = skip + OWN_FRAMES;

    depth++;
    /* A signal handler running between here and depth-- sees depth != 0:
     * the compiler must not sink the store below the call. */
    __asm__ __volatile__("" ::: "memory");
    int got = unw_backtrace(buf, max + drop);
    __asm__ __volatile__("" ::: "memory");
    depth--;

    int n = 0;
    for (int i = drop; i < got && n < max; i++) {
        uintptr_t pc = (uintptr_t)buf[i];
        if (pc == 0)
            break;
        pcs[n++] = pc;
    }
    return n;
}

void lm_backtrace_disable(void) { AO_fetch_and_add1_full(&disabled); }
void lm_backtrace_enable(void) { AO_fetch_and_sub1_full(&disabled); }
bool lm_backtrace_enabled(void) { return AO_load(&disabled) == 0; }

void lm_backtrace_thread_block(void)
{
    depth++;
    __asm__ __volatile__("" ::: "memory");
}

void lm_backtrace_thread_unblock(void)
{
    __asm__ __volatile__("" ::: "memory");
    if (depth > 0)
        depth--;
}

bool lm_backtrace_in_capture(void) { return depth != 0; }

void lm_backtrace_print(const uintptr_t *pcs, int n)
{
    for (int i = 0; i < n; i++) {
        uintptr_t pc = pcs[i];
        Dl_info info;
        /* pc - 1: a return address can be the first byte of the next
         * function when the call was the last instruction (noreturn). */
        if (pc == 0 || !dladdr((void *)(pc - 1), &info) || !info.dli_fname) {
            lm_log("    #%d %p <unknown module>", i, (void *)pc);
            continue;
        }
        const char *mod = info.dli_fname[0] ? info.dli_fname : "<main>";
        uintptr_t mod_off = pc - (uintptr_t)info.dli_fbase;
        if (info.dli_sname && info.dli_saddr)
            lm_log("    #%d %p %s+0x%lx (%s+0x%lx)", i, (void *)pc, mod,
                   (unsigned long)mod_off, info.dli_sname,
                   (unsigned long)(pc - (uintptr_t)info.dli_saddr));
        else
            lm_log("    #%d %p %s+0x%lx", i, (void *)pc, mod, (unsigned long)mod_off);
    }
}
