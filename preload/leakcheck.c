/*
 * leakcheck.c - one leak check, end to end (see leakcheck.h).
 *
 * Order, and why:
 *   1. dl_iterate_phdr (lm_roots_with_loader_lock): from here on this
 *      thread holds the loader lock, so no thread we stop can hold it, and
 *      the module list cannot change under the scan.
 *   2. every allocator lock is taken (the fork "prepare" set), then the
 *      world is stopped, then the allocator locks are released: no thread
 *      is parked while holding one, so the report may allocate (libdw does)
 *      and no stopped thread waits for us.
 *   3. roots: every thread's stack from its saved SP (minus the red zone)
 *      to its base and its saved registers; the whole stack, copied with
 *      process_vm_readv, of a thread that did not answer the stop (it may
 *      still run, exit and unmap it); static TLS; the writable segments of
 *      every object and the program's anonymous mappings (roots.c).
 *   4. mark (mark.c), then the report (report.c), then the world restarts.
 * Our own allocations during the check take no stack (capture blocked)
 * and are never part of the result: it was computed before them.
 *
 * Locking: the check runs on one thread at a time (stopworld serialises
 * concurrent stops); once per process at exit (an atomic flag).
 */
#include "leakcheck.h"
#include "dumper.h"
#include "alloc.h"
#include "atomic.h"
#include "backtrace.h"
#include "log.h"
#include "mark.h"
#include "options.h"
#include "os.h"
#include "report.h"
#include "stackdepot.h"
#include "roots.h"
#include "stopworld.h"
#include "threads.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static volatile AO_t exit_check_done;
static pid_t process_pid;
static bool exit_check_armed;       /* only in libleakmark.so, not lm_core */
static uintptr_t loader_lo, loader_hi;   /* ld.so's text */

/* ld.so's code range, for recognising blocks the loader allocated. */
static void find_loader(void)
{
    Dl_info info;
    void *sym = dlsym(RTLD_DEFAULT, "__tls_get_addr");
    if (!sym || !dladdr(sym, &info) || !info.dli_fbase)
        return;
    const ElfW(Ehdr) *eh = info.dli_fbase;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff);
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X)) {
            loader_lo = (uintptr_t)info.dli_fbase + ph[i].p_vaddr;
            loader_hi = loader_lo + ph[i].p_memsz;
        }
    }
}

void lm_leakcheck_arm_exit(void)
{
    exit_check_armed = true;
    if (!loader_hi)
        find_loader();
}

/* glibc keeps each thread's DTV (allocated by ld.so) through a pointer one
 * entry past its start, so by the words of the report contract it is only
 * "possible".  It is the runtime's own, still in use: count it reachable,
 * as valgrind's default suppressions and LeakSanitizer do. */
static void forgive_loader_block(const struct lm_block_ref *b, void *arg)
{
    struct lm_mark_result *res = arg;
    if (lm_mark_block_state(res, b) != LM_MARK_POSSIBLE || !b->stack_id)
        return;
    const uintptr_t *pcs;
    int n = lm_stackdepot_get(b->stack_id, &pcs);
    for (int i = 0; i < n; i++) {
        if (pcs[i] >= loader_lo && pcs[i] < loader_hi) {
            lm_mark_possible_to_reachable(res, b);
            return;
        }
    }
}

void lm_leakcheck_set_pid(void) { process_pid = lm_os_getpid(); }

void lm_leakcheck_atfork_child(void)
{
    process_pid = lm_os_getpid();
    lm_store_relaxed(&exit_check_done, 0);
}

void lm_leakcheck_forgive_loader(struct lm_mark_result *res)
{
    if (!loader_hi)
        find_loader();
    if (loader_hi && res->possible.blocks)
        lm_mark_foreach_possible(res, forgive_loader_block, res);
}

struct check {
    const char *trigger;
    struct lm_roots roots;
    struct lm_mark_result res;
    struct lm_stop_result stop;
    long leaked;
    int err;
    uint64_t t0, t_resumed;
};

/* A thread that did not stop may still run: scan a private copy of its
 * stack, read with process_vm_readv (an unmapped page is an error, never a
 * fault). */
static void add_copied_stack(struct lm_roots *r, uintptr_t lo, uintptr_t hi)
{
    size_t len = hi - lo;
    void *copy;
    if (len == 0 || lm_os_map(lm_align_up(len, LM_PAGE_SIZE), &copy) != 0)
        return;
    struct iovec local = { copy, len }, remote = { (void *)lo, len };
    long got = syscall(SYS_process_vm_readv, (long)lm_os_getpid(), &local, 1UL, &remote, 1UL, 0UL);
    if (got > 0)
        lm_roots_add(r, (uintptr_t)copy, (uintptr_t)copy + (size_t)got, LM_ROOT_STACK);
    lm_roots_exclude(r, (uintptr_t)copy, (uintptr_t)copy + len);
}

void lm_leakcheck_thread_roots(struct lm_roots *r)
{
    uintptr_t tlo, thi;
    lm_threads_table_range(&tlo, &thi);     /* saved registers: added below */
    lm_roots_exclude(r, tlo, thi);
    unsigned n = lm_threads_hiwater();
    for (unsigned i = 0; i < n; i++) {
        struct lm_thread *t = lm_threads_slot(i);
        if (!t || !AO_load(&t->live))
            continue;
        bool bounds = t->flags & LM_THREAD_BOUNDS;
        if (bounds)
            lm_roots_exclude(r, t->stack_lo, t->stack_hi);
        switch (t->stop_state) {
        case LM_STOP_SELF:
        case LM_STOP_STOPPED:
            if (t->nregs)
                lm_roots_add(r, (uintptr_t)t->regs,
                             (uintptr_t)(t->regs + t->nregs), LM_ROOT_REGISTERS);
            if (bounds) {
                uintptr_t lo = t->sp > LM_STACK_REDZONE ? t->sp - LM_STACK_REDZONE : t->sp;
                if ((t->stop_flags & LM_STOPF_SP_OUTSIDE) || lo < t->stack_lo || lo >= t->stack_hi)
                    lo = t->stack_lo;
                lm_roots_add(r, lo, t->stack_hi, LM_ROOT_STACK);
            }
            break;
        case LM_STOP_NOT_STOPPED:
            if (bounds)
                add_copied_stack(r, t->stack_lo, t->stack_hi);
            break;
        default:
            break;
        }
        if (t->flags & LM_THREAD_TLS)
            lm_roots_add(r, t->tls_lo, t->tls_hi, LM_ROOT_TLS);
    }
}

static void check_with_loader_lock(void *arg)
{
    struct check *c = arg;
    /* Stop lock, then the allocator's: the order of fork's prepare. */
    int err = lm_stopworld_reserve();
    if (err) {
        c->err = err;
        return;
    }
    lm_heap_atfork_prepare();
    lm_span_atfork_prepare();
    lm_os_atfork_prepare();
    err = lm_stop_world(&c->stop);
    lm_os_atfork_parent();
    lm_span_atfork_parent();
    lm_heap_atfork_parent();
    if (err) {
        lm_stopworld_unreserve();
        c->err = err;
        return;
    }
    uint64_t stopped = lm_os_now_ns();
    lm_leakcheck_thread_roots(&c->roots);
    lm_roots_collect(&c->roots);
    uint64_t rooted = lm_os_now_ns();
    if (lm_options.verbosity >= 3) {
        lm_roots_log(&c->roots);
        for (size_t i = 0; i < lm_roots_len(&c->roots); i++) {
            const struct lm_root *x = lm_roots_at(&c->roots, i);
            lm_log("root %-9s %p-%p", lm_root_kind_name(x->kind), (void *)x->lo, (void *)x->hi);
        }
    }
    c->err = lm_mark_run(&c->roots, &c->res);
    if (!c->err)
        lm_leakcheck_forgive_loader(&c->res);
    uint64_t marked = lm_os_now_ns();

    size_t shown = 0;       /* definite + indirect left after suppressions */
    struct lm_report_info info = {
        .reported_out = &shown,
        .trigger = c->trigger,
        .scan_ms = (double)(marked - c->t0) / 1e6,
        .pause_ms = (double)(marked - c->t0) / 1e6,
        .threads_not_stopped = c->stop.nnot_stopped,
    };
    if (c->stop.nnot_stopped)
        lm_log("%u thread(s) did not stop in time (signal blocked?): their whole stacks "
               "were scanned without registers", c->stop.nnot_stopped);
    lm_report_write(&c->res, &info);
    c->leaked = (long)shown;
    if (lm_options.verbosity >= 3)
        lm_log("leak check phases: stop %llu us, roots %llu us, mark %llu us, leak graph %llu us, "
               "report %llu us",
               (unsigned long long)(stopped - c->t0) / 1000, (unsigned long long)(rooted - stopped) / 1000,
               (unsigned long long)c->res.mark_ns / 1000, (unsigned long long)c->res.leak_ns / 1000,
               (unsigned long long)(lm_os_now_ns() - marked) / 1000);
    lm_start_world();
}

long lm_leakcheck_run(const char *trigger)
{
    if (!lm_options.leak_check || !lm_init())
        return -1;
    struct check c = { .trigger = trigger, .leaked = -1 };
    c.t0 = lm_os_now_ns();
    lm_roots_init(&c.roots);
    lm_mark_result_init(&c.res);
    lm_backtrace_thread_block();
    lm_threads_prepare();                   /* maps memory: before any lock */
    lm_dumper_lock();
    lm_os_own_graveyard(true);
    lm_roots_with_loader_lock(check_with_loader_lock, &c);
    lm_os_own_graveyard(false);
    lm_dumper_unlock();
    lm_backtrace_thread_unblock();
    if (c.err)
        lm_log("leak check failed: %s (errno %d)", c.err == ENOMEM ? "out of memory" : "could not stop the world", c.err);
    lm_mark_result_free(&c.res);
    lm_roots_free(&c.roots);
    return c.err ? -1 : c.leaked;
}

void lm_leakcheck_at_exit(void)
{
    if (!exit_check_armed)
        return;
    /* A vfork or CLONE_VM child shares our memory: a check there would mark
     * and report the parent's heap and corrupt its state.  Hands off. */
    if (process_pid && lm_os_getpid() != process_pid)
        return;
    if (!lm_cas_full(&exit_check_done, 0, 1))
        return;
    long leaked = lm_leakcheck_run("exit");
    if (leaked > 0 && lm_options.exitcode) {
        /* The program's own stdio buffers are flushed before the status
         * changes (we are past its atexit handlers, before libc's final
         * flush). */
        fflush(NULL);
        syscall(SYS_exit_group, (int)lm_options.exitcode);
    }
}
