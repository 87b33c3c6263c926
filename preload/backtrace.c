/*
 * backtrace.c - owns stack capture and the printing of captured stacks.
 * A capture walks the stack with stackwalk.c (the program's .eh_frame rules,
 * cached per thread: a lookup and two loads per frame) and falls back to
 * libunwind's unw_backtrace for a whole capture when the walker declines
 * (signal frames, CFA expressions, code without unwind information, a
 * thread without a heap or off its registered stack).  unwinder=libunwind
 * uses unw_backtrace alone.  State: one initial-exec TLS nesting count per
 * thread (`depth`: inside a capture or blocked), one process-wide disable
 * count and two flags set before threads exist (options) or in a fork
 * child.  No locks of its own, no malloc; the walker takes no lock at all,
 * so everything below about libunwind concerns the fallback.
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
 *     threads left them.  In the child of a multi-threaded parent only the
 *     walker captures (a stack it declines gets no frames; with
 *     unwinder=libunwind capture stops until exec); a single-threaded
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
#include "stackdepot.h"
#include "stackwalk.h"

#include <atomic_ops.h>
#include <dlfcn.h>
#include <libunwind.h>

/* Inside a capture, or blocked by lm_backtrace_thread_block. */
static LM_THREAD unsigned depth;
/* lm_backtrace_disable() nesting count. */
static volatile AO_t disabled;
/* Walk with stackwalk.c first (libunwind only when it declines). */
static bool use_fast_walk = true;
/* Set in the child of a multi-threaded parent: libunwind's mutexes may be
 * held by threads that no longer exist, so only the walker answers. */
static bool libunwind_unsafe;
/* unwinder=verify: compare every walk with libunwind. */
static bool verify;

/* libunwind's walk, started one frame deeper than lm_backtrace's caller. */
static LM_NOINLINE int libunwind_backtrace(uintptr_t *pcs, int max, int skip)
{
    void *buf[LM_BT_MAX_FRAMES + 1 + LM_BT_MAX_SKIP + 2];   /* verify_walk asks one more */
    int drop = skip + 2;        /* this function's pc and lm_backtrace's */
    int got = unw_backtrace(buf, max + drop);
    int n = 0;
    for (int i = drop; i < got && n < max; i++) {
        uintptr_t pc = (uintptr_t)buf[i];
        if (pc == 0)
            break;
        pcs[n++] = pc;
    }
    __asm__ __volatile__("" ::: "memory");        /* no tail call */
    return n;
}

/* unwinder=verify: the walker's answer (n frames in mine, -1: declined)
 * against libunwind's from the same frame (m frames in theirs); mismatches
 * are counted and the first few logged. */
static struct {
    volatile AO_t compared, walked, mismatched;
} verify_counts;

static void verify_compare(const uintptr_t *mine, int n, const uintptr_t *theirs, int m)
{
    AO_fetch_and_add1(&verify_counts.compared);
    if (n < 0)
        return;
    AO_fetch_and_add1(&verify_counts.walked);
    bool same = n == m;
    for (int i = 0; same && i < n; i++)
        same = mine[i] == theirs[i];
    if (!same && AO_fetch_and_add1(&verify_counts.mismatched) < 3) {
        lm_log("unwinder=verify: the walker found %d frames, libunwind %d:", n, m);
        lm_backtrace_print(mine, n);
        lm_log("  libunwind:");
        lm_backtrace_print(theirs, m > 0 ? m : 0);
    }
}

void lm_backtrace_verify_summary(void)
{
    if (!verify)
        return;
    lm_log("unwinder=verify: %lu captures compared, %lu walked, %lu mismatched",
           (unsigned long)AO_load(&verify_counts.compared), (unsigned long)AO_load(&verify_counts.walked),
           (unsigned long)AO_load(&verify_counts.mismatched));
    struct lm_unwind_stats st;
    lm_unwind_thread_stats(&st);
    lm_log("unwinder=verify: this thread's walker: %lu walks (%lu declined), rules %lu hits %lu misses "
           "%lu evictions %lu flushes, memo %lu hits %lu misses",
           (unsigned long)st.walks, (unsigned long)st.declined, (unsigned long)st.hits,
           (unsigned long)st.misses, (unsigned long)st.evictions, (unsigned long)st.flushes,
           (unsigned long)st.memo_hits, (unsigned long)st.memo_misses);
}

static inline bool capture_allowed(int *max, int *skip)
{
    if (*max <= 0 || depth != 0 || AO_load(&disabled) != 0)
        return false;
    if (*max > LM_BT_MAX_FRAMES)
        *max = LM_BT_MAX_FRAMES;
    if (*skip < 0)
        *skip = 0;
    if (*skip > LM_BT_MAX_SKIP)
        *skip = LM_BT_MAX_SKIP;
    return true;
}

/* __builtin_frame_address(0) makes GCC keep a frame pointer here, so the
 * caller's sp, rbp and return address are at fixed places next to it.
 * libunwind_backtrace is called from here directly, so that it starts at
 * the same frame as the walk. */
LM_NOINLINE int lm_backtrace(uintptr_t *pcs, int max, int skip)
{
    if (!capture_allowed(&max, &skip))
        return 0;
    depth++;
    /* A signal handler running between here and depth-- sees depth != 0:
     * the compiler must not sink the store below the call. */
    __asm__ __volatile__("" ::: "memory");
    int n = -1;
    if (lm_likely(use_fast_walk)) {
        const uintptr_t *fp = __builtin_frame_address(0);
        n = lm_unwind_walk(pcs, max, skip, fp[1], (uintptr_t)(fp + 2), fp[0], NULL);
        if (lm_unlikely(verify) && !libunwind_unsafe) {
            uintptr_t theirs[LM_BT_MAX_FRAMES];
            int m = libunwind_backtrace(theirs, max, skip);
            verify_compare(pcs, n, theirs, m);
            for (int i = 0; i < m; i++)
                pcs[i] = theirs[i];
            n = m;
        }
    }
    if (n < 0)
        n = libunwind_unsafe ? 0 : libunwind_backtrace(pcs, max, skip);
    __asm__ __volatile__("" ::: "memory");
    depth--;
    return n;
}

LM_NOINLINE uint32_t lm_backtrace_id(int max, int skip, lm_intern_fn intern)
{
    if (!capture_allowed(&max, &skip))
        return 0;
    depth++;
    __asm__ __volatile__("" ::: "memory");
    uintptr_t pcs[LM_BT_MAX_FRAMES];
    uint32_t id = 0;
    int n = -1;
    if (lm_likely(use_fast_walk)) {
        const uintptr_t *fp = __builtin_frame_address(0);
        uintptr_t ip0 = fp[1], sp0 = (uintptr_t)(fp + 2), rbp0 = fp[0];
        id = lm_unwind_memo_find(ip0, sp0, rbp0, max, skip);
        if (!id) {
            struct lm_walk_proof proof;
            n = lm_unwind_walk(pcs, max, skip, ip0, sp0, rbp0, &proof);
            if (n > 0 && (id = intern(pcs, n)) != 0)
                lm_unwind_memo_keep(&proof, id);
        }
        if (lm_unlikely(verify) && !libunwind_unsafe) {
            uintptr_t theirs[LM_BT_MAX_FRAMES];
            int m = libunwind_backtrace(theirs, max, skip);
            const uintptr_t *mine = pcs;
            if (id)
                n = lm_stackdepot_get(id, &mine);
            verify_compare(mine, n, theirs, m);
            id = m > 0 ? intern(theirs, m) : 0;
            n = m;
        }
    }
    if (!id && n < 0 && !libunwind_unsafe) {
        n = libunwind_backtrace(pcs, max, skip);
        id = n > 0 ? intern(pcs, n) : 0;
    }
    __asm__ __volatile__("" ::: "memory");
    depth--;
    return id;
}

void lm_backtrace_set_unwinder(int mode)
{
    use_fast_walk = mode != LM_UNWINDER_LIBUNWIND;
    verify = mode == LM_UNWINDER_VERIFY;
}


void lm_backtrace_atfork_child_of_threads(void)
{
    if (use_fast_walk)
        libunwind_unsafe = true;
    else
        lm_backtrace_disable();
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
