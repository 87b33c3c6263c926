/*
 * bench_backtrace.c - micro-benchmark of stack capture and the stack depot.
 *
 * Capture: ns per capture and per frame with a stack of `depth` frames
 * below the capturing function, capturing `depth` frames, for
 *   lm_backtrace        leakmark's capture (the walker, stackwalk.c)
 *   lm_backtrace/libunwind  the same with unwinder=libunwind
 *   unw_backtrace       libunwind's fast path (per-thread frame cache)
 *   unw_step/global     unw_init_local + unw_step loop, default caching
 *   unw_step/per-thread same after unw_set_caching_policy(PER_THREAD)
 *   unw_step/none       same with UNW_CACHE_NONE
 *   _Unwind_Backtrace   libunwind's _Unwind_* compatibility layer
 *   libgcc_s unwinder   libgcc_s.so.1's _Unwind_Backtrace (dlsym), which
 *                       finds FDEs with glibc 2.35's _dl_find_object
 *   backtrace(3)        glibc (libgcc underneath)
 * Depot: ns per lm_stackdepot_put that finds its stack (hit) and that
 * inserts a new one (miss), and lm_stack_capture (capture + put).
 *
 * Build (from the source tree, after building lm_core in BUILD):
 *   gcc -O2 -g -D_GNU_SOURCE -Ipreload tests/bench/bench_backtrace.c \
 *       BUILD/liblm_core.a -lunwind -latomic_ops -lpthread -ldl -o BUILD/bench_backtrace
 * Run: BUILD/bench_backtrace [ms_per_case]   (default 300)
 */
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <execinfo.h>
#include <libunwind.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unwind.h>

#include "alloc.h"
#include "backtrace.h"
#include "stackdepot.h"

#define BARRIER() __asm__ __volatile__("" ::: "memory")

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef int (*capture_fn)(uintptr_t *pcs, int max);

static int cap_lm(uintptr_t *pcs, int max) { return lm_backtrace(pcs, max, 0); }

static int cap_unw_backtrace(uintptr_t *pcs, int max)
{
    return unw_backtrace((void **)pcs, max);
}

static int cap_unw_step(uintptr_t *pcs, int max)
{
    unw_context_t uc;
    unw_cursor_t c;
    if (unw_getcontext(&uc) || unw_init_local(&c, &uc))
        return 0;
    int n = 0;
    while (n < max && unw_step(&c) > 0) {
        unw_word_t ip;
        unw_get_reg(&c, UNW_REG_IP, &ip);
        pcs[n++] = ip;
    }
    return n;
}

struct ugcc { uintptr_t *pcs; int n, max; };
static _Unwind_Reason_Code ugcc_cb(struct _Unwind_Context *ctx, void *arg)
{
    struct ugcc *u = arg;
    if (u->n >= u->max)
        return _URC_END_OF_STACK;
    u->pcs[u->n++] = _Unwind_GetIP(ctx);
    return _URC_NO_REASON;
}
static int cap_libgcc(uintptr_t *pcs, int max)
{
    struct ugcc u = { pcs, 0, max };
    _Unwind_Backtrace(ugcc_cb, &u);
    return u.n;
}

/* libgcc_s's own _Unwind_Backtrace (libunwind.so exports one too, which
 * wins the link above: that is the "_Unwind_Backtrace" row). */
typedef _Unwind_Reason_Code (*ubt_fn)(_Unwind_Trace_Fn, void *);
static ubt_fn gcc_ubt;
static int cap_libgcc_s(uintptr_t *pcs, int max)
{
    struct ugcc u = { pcs, 0, max };
    gcc_ubt(ugcc_cb, &u);
    return u.n;
}

static int cap_glibc(uintptr_t *pcs, int max) { return backtrace((void **)pcs, max); }

static __attribute__((noinline)) int recurse(int d, capture_fn f, uintptr_t *pcs, int max)
{
    int n = d <= 0 ? f(pcs, max) : recurse(d - 1, f, pcs, max);
    BARRIER();
    return n;
}

static double budget_ns = 300e6;

static void bench_capture(const char *name, capture_fn f)
{
    static const int depths[] = { 8, 16, 32 };
    printf("%-20s", name);
    for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
        int d = depths[i];
        uintptr_t pcs[64];
        int n = recurse(d, f, pcs, d);            /* warm the caches */
        long iters = 0;
        double t0 = now_ns(), t;
        do {
            for (int k = 0; k < 64; k++)
                n = recurse(d, f, pcs, d);
            iters += 64;
        } while ((t = now_ns()) - t0 < budget_ns);
        double per = (t - t0) / (double)iters;
        printf("  d%-2d %8.1f ns (%2d fr, %5.1f ns/fr)", d, per, n, per / (n ? n : 1));
    }
    printf("\n");
}

static int make_stack(uint64_t salt, uint64_t k, uintptr_t *pcs, int n)
{
    for (int i = 0; i < n; i++)
        pcs[i] = (uintptr_t)(salt << 40 | k << 8 | (uint64_t)i) * 16 + 0x400000;
    return n;
}

static void bench_depot(int frames)
{
    uintptr_t pcs[64];
    enum { HOT = 4096 };
    uint32_t sum = 0;
    for (uint64_t k = 0; k < HOT; k++)
        sum += lm_stackdepot_put(pcs, make_stack(1000 + (uint64_t)frames, k, pcs, frames));
    long iters = 0;
    double t0 = now_ns(), t;
    do {
        for (uint64_t k = 0; k < HOT; k++)
            sum += lm_stackdepot_put(pcs, make_stack(1000 + (uint64_t)frames, k, pcs, frames));
        iters += HOT;
    } while ((t = now_ns()) - t0 < budget_ns);
    double hit = (t - t0) / (double)iters;

    iters = 0;
    uint64_t k = 0;
    t0 = now_ns();
    do {
        for (int j = 0; j < 1024; j++, k++)
            sum += lm_stackdepot_put(pcs, make_stack(2000 + (uint64_t)frames, k, pcs, frames));
        iters += 1024;
    } while ((t = now_ns()) - t0 < budget_ns && k < 2000000);
    double miss = (t - t0) / (double)iters;
    printf("depot put %2d frames: hit %6.1f ns (4096 hot stacks), miss %6.1f ns (%ld new)%s\n",
           frames, hit, miss, iters, sum ? "" : " ");
}

static __attribute__((noinline)) uint32_t cap_site(int d, int depth)
{
    uint32_t id = d <= 0 ? lm_stack_capture(0, depth) : cap_site(d - 1, depth);
    BARRIER();
    return id;
}

static void bench_stack_capture(int depth)
{
    long iters = 0;
    uint32_t id = cap_site(depth, depth);
    double t0 = now_ns(), t;
    do {
        for (int k = 0; k < 64; k++)
            id = cap_site(depth, depth);
        iters += 64;
    } while ((t = now_ns()) - t0 < budget_ns);
    printf("lm_stack_capture depth %2d: %7.1f ns (id %u)\n", depth,
           (t - t0) / (double)iters, id);
}

struct mt { int depth; double ns; };
static void *mt_worker(void *arg)
{
    struct mt *m = arg;
    long iters = 0;
    cap_site(m->depth, m->depth);
    double t0 = now_ns(), t;
    do {
        for (int k = 0; k < 64; k++)
            cap_site(m->depth, m->depth);
        iters += 64;
    } while ((t = now_ns()) - t0 < budget_ns);
    m->ns = (t - t0) / (double)iters;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        budget_ns = atof(argv[1]) * 1e6;
    printf("capture (ns per capture, frames captured, ns per frame)\n");
    /* A heap and registered stack bounds: what the walker needs. */
    lm_free(lm_malloc(16));
    bench_capture("lm_backtrace", cap_lm);
    lm_backtrace_set_unwinder(LM_UNWINDER_LIBUNWIND);
    bench_capture("lm_backtrace/libunwind", cap_lm);
    lm_backtrace_set_unwinder(LM_UNWINDER_FAST);
    bench_capture("unw_backtrace", cap_unw_backtrace);
    bench_capture("_Unwind_Backtrace", cap_libgcc);
    void *h = dlopen("libgcc_s.so.1", RTLD_NOW);
    if (h && (gcc_ubt = (ubt_fn)dlsym(h, "_Unwind_Backtrace")))
        bench_capture("libgcc_s unwinder", cap_libgcc_s);
    bench_capture("backtrace(3)", cap_glibc);
    bench_capture("unw_step/global", cap_unw_step);
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    bench_capture("unw_step/per-thread", cap_unw_step);
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_NONE);
    double saved = budget_ns;
    budget_ns = saved / 3;
    bench_capture("unw_step/none", cap_unw_step);
    budget_ns = saved;
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_GLOBAL);
    bench_capture("lm_backtrace again", cap_lm);

    for (int f = 8; f <= 32; f *= 2)
        bench_depot(f);
    for (int d = 8; d <= 32; d *= 2)
        bench_stack_capture(d);

    struct mt m[2] = { { 16, 0 }, { 16, 0 } };
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, mt_worker, &m[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    printf("lm_stack_capture depth 16, 2 threads: %.1f / %.1f ns\n", m[0].ns, m[1].ns);

    struct lm_stackdepot_stats s;
    lm_stackdepot_get_stats(&s);
    printf("depot: %zu stacks, %zu frames, %zu bytes used, %zu mapped, %zu races lost\n",
           s.stacks, s.frames, s.bytes_used, s.bytes_mapped, s.races_lost);
    return 0;
}
