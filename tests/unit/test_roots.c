/*
 * test_roots.c - the root set (preload/roots.h) of this very process:
 *   - GLOBAL lists this executable's writable data (a static variable
 *     holding the only pointer to a block keeps it reachable through
 *     lm_roots_collect + lm_mark_run) and the writable segment of a
 *     dlopen'ed library (libz);
 *   - MMAP lists an anonymous mapping holding the only pointer to a block
 *     when scan_mmap=1 (block reachable) and not when scan_mmap=0 (leaked);
 *     only resident pages of a big reservation; never PROT_NONE, shared or
 *     file mappings, [stack], excluded ranges or the dead part below a
 *     STACK range;
 *   - leakmark's region and unit tables are never listed, lm_roots_add
 *     clips the region out;
 *   - every listed range is readable (each word is read);
 *   - lm_roots_with_loader_lock holds the loader lock (another thread's
 *     dl_iterate_phdr waits) and a nested collect does not deadlock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "mark.h"
#include "options.h"
#include "roots.h"

static void *g_keep;            /* GLOBAL root of test_global_keeps_block */

static int setup(void **state)
{
    (void)state;
    return lm_init() ? 0 : -1;
}

static int teardown_each(void **state)
{
    (void)state;
    lm_options.scan_mmap = true;
    return 0;
}

/* Index of a range of `kind` containing [lo, hi), or -1. */
static long find_range(const struct lm_roots *r, uintptr_t lo, uintptr_t hi, int kind)
{
    for (size_t i = 0; i < lm_roots_len(r); i++) {
        const struct lm_root *x = lm_roots_at(r, i);
        if ((kind < 0 || (int)x->kind == kind) && x->lo <= lo && hi <= x->hi)
            return (long)i;
    }
    return -1;
}

/* Bytes of [lo, hi) covered by ranges of `kind`. */
static size_t covered(const struct lm_roots *r, uintptr_t lo, uintptr_t hi, int kind)
{
    size_t n = 0;
    for (size_t i = 0; i < lm_roots_len(r); i++) {
        const struct lm_root *x = lm_roots_at(r, i);
        if (kind >= 0 && (int)x->kind != kind)
            continue;
        uintptr_t a = x->lo > lo ? x->lo : lo, b = x->hi < hi ? x->hi : hi;
        if (a < b)
            n += b - a;
    }
    return n;
}

static void collect(struct lm_roots *r)
{
    lm_roots_init(r);
    assert_int_equal(lm_roots_collect(r), 0);
    assert_int_equal(r->error, 0);
    assert_true(lm_roots_len(r) > 0);
}

static void test_global_keeps_block(void **state)
{
    (void)state;
    lm_options.scan_mmap = false;       /* globals only: exact expectations */
    /* calloc: a fresh block's first word may still hold the free-list link
     * to the next block (here: `lost`) */
    void *kept = lm_calloc(1, 72), *lost = lm_calloc(1, 72);
    assert_non_null(kept);
    assert_non_null(lost);
    g_keep = kept;
    struct lm_roots r;
    collect(&r);
    assert_true(find_range(&r, (uintptr_t)&g_keep, (uintptr_t)(&g_keep + 1), LM_ROOT_GLOBAL) >= 0);
    assert_int_equal(r.count[LM_ROOT_MMAP], 0);
    struct lm_mark_result res;
    lm_mark_result_init(&res);
    assert_int_equal(lm_mark_run(&r, &res), 0);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)kept), LM_MARK_REACHABLE);
    assert_int_equal(lm_mark_state_at(&res, (uintptr_t)lost), LM_MARK_LEAKED);
    lm_mark_result_free(&res);
    g_keep = NULL;
    lm_free(kept);
    lm_free(lost);
    lm_roots_free(&r);
}

struct seg_find {
    const char *name;
    uintptr_t lo, hi;
};

static int find_writable(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct seg_find *f = arg;
    if (!info->dlpi_name || !strstr(info->dlpi_name, f->name))
        return 0;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) {
            f->lo = info->dlpi_addr + ph->p_vaddr;
            f->hi = f->lo + ph->p_memsz;
            return 1;
        }
    }
    return 0;
}

static void test_dlopen_library_globals(void **state)
{
    (void)state;
    struct seg_find f = { "libz.so", 0, 0 };
    void *h = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
    assert_non_null(h);
    dl_iterate_phdr(find_writable, &f);
    assert_true(f.lo != 0 && f.hi > f.lo);
    struct lm_roots r;
    collect(&r);
    assert_int_equal(covered(&r, f.lo, f.hi, LM_ROOT_GLOBAL), f.hi - f.lo);
    lm_roots_free(&r);
    dlclose(h);
}

static void test_mmap_area(void **state)
{
    (void)state;
    size_t len = 16 * 4096;
    char *area = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(area != MAP_FAILED);
    void *blk = lm_malloc(200);
    assert_non_null(blk);
    memcpy(area + 4096 + 40, &blk, sizeof blk);     /* page 1 resident */

    for (int on = 1; on >= 0; on--) {
        lm_options.scan_mmap = on;
        struct lm_roots r;
        collect(&r);
        long i = find_range(&r, (uintptr_t)area + 4096, (uintptr_t)area + 8192, LM_ROOT_MMAP);
        assert_true(on ? i >= 0 : i < 0);
        assert_int_equal(covered(&r, (uintptr_t)area, (uintptr_t)area + len, -1) != 0, on);
        struct lm_mark_result res;
        lm_mark_result_init(&res);
        assert_int_equal(lm_mark_run(&r, &res), 0);
        assert_int_equal(lm_mark_state_at(&res, (uintptr_t)blk),
                         on ? LM_MARK_REACHABLE : LM_MARK_LEAKED);
        lm_mark_result_free(&res);
        lm_roots_free(&r);
    }
    lm_free(blk);
    munmap(area, len);
}

/* A 1 GiB reservation with two touched pages costs two pages of roots;
 * PROT_NONE, shared anonymous and file mappings are never listed. */
static void test_mmap_resident_and_kinds(void **state)
{
    (void)state;
    size_t big = (size_t)1 << 30;
    char *res = mmap(NULL, big, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(res != MAP_FAILED);
    res[12345 * 4096 + 7] = 1;
    res[big - 1] = 1;
    char *none = mmap(NULL, 8 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *shared = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(none != MAP_FAILED && shared != MAP_FAILED);
    shared[0] = 1;
    char path[] = "/tmp/test_roots.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 4 * 4096), 0);
    char *file = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    assert_true(file != MAP_FAILED);
    file[0] = 1;
    unlink(path);

    struct lm_roots r;
    collect(&r);
    assert_int_equal(covered(&r, (uintptr_t)res, (uintptr_t)res + big, LM_ROOT_MMAP), 2 * 4096);
    assert_true(find_range(&r, (uintptr_t)res + 12345 * 4096, (uintptr_t)res + 12346 * 4096,
                           LM_ROOT_MMAP) >= 0);
    assert_int_equal(covered(&r, (uintptr_t)none, (uintptr_t)none + 8 * 4096, -1), 0);
    assert_int_equal(covered(&r, (uintptr_t)shared, (uintptr_t)shared + 8 * 4096, -1), 0);
    assert_int_equal(covered(&r, (uintptr_t)file, (uintptr_t)file + 4 * 4096, -1), 0);
    lm_roots_free(&r);
    munmap(res, big);
    munmap(none, 8 * 4096);
    munmap(shared, 8 * 4096);
    munmap(file, 4 * 4096);
    close(fd);
}

/* The dead part below a STACK range and excluded ranges are not MMAP; the
 * STACK range itself stays as given; the main stack is never MMAP. */
static void test_stack_and_exclusions(void **state)
{
    (void)state;
    size_t len = 32 * 4096;
    char *stk = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *ex = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(stk != MAP_FAILED && ex != MAP_FAILED);
    memset(stk, 1, len);
    memset(ex, 1, len);
    uintptr_t sp = (uintptr_t)stk + 20 * 4096 + 24, top = (uintptr_t)stk + 28 * 4096;
    struct lm_roots r;
    lm_roots_init(&r);
    assert_int_equal(lm_roots_add(&r, sp, top, LM_ROOT_STACK), 0);
    assert_int_equal(lm_roots_exclude(&r, (uintptr_t)ex, (uintptr_t)ex + len), 0);
    assert_int_equal(lm_roots_collect(&r), 0);
    assert_int_equal(covered(&r, (uintptr_t)stk, sp, -1), 0);
    assert_int_equal(covered(&r, sp, top, LM_ROOT_STACK), top - sp);
    assert_int_equal(covered(&r, sp, top, LM_ROOT_MMAP), 0);
    assert_int_equal(covered(&r, top, (uintptr_t)stk + len, LM_ROOT_MMAP), (uintptr_t)stk + len - top);
    assert_int_equal(covered(&r, (uintptr_t)ex, (uintptr_t)ex + len, -1), 0);
    int local = 0;
    assert_true(find_range(&r, (uintptr_t)&local, (uintptr_t)(&local + 1), -1) < 0);
    lm_roots_free(&r);
    munmap(stk, len);
    munmap(ex, len);
}

static void test_region_never_listed(void **state)
{
    (void)state;
    void *blk = lm_malloc(64);          /* the region is in use */
    assert_non_null(blk);
    struct lm_roots r;
    collect(&r);
    uintptr_t lo = lm_region_base, hi = lo + lm_region_size;
    assert_int_equal(covered(&r, lo, hi, -1), 0);
    size_t units = lm_region_size >> LM_UNIT_SHIFT;
    assert_int_equal(covered(&r, (uintptr_t)lm_unit_kind, (uintptr_t)lm_unit_kind + units, -1), 0);
    assert_int_equal(covered(&r, (uintptr_t)lm_units,
                             (uintptr_t)lm_units + units * sizeof(struct lm_unit), -1), 0);
    /* a range straddling the region's start is cut at it */
    size_t n = lm_roots_len(&r);
    assert_int_equal(lm_roots_add(&r, lo - 4096, lo + 8192, LM_ROOT_USER), 0);
    assert_int_equal(lm_roots_len(&r), n + 1);
    assert_int_equal(lm_roots_at(&r, n)->hi, lo);
    assert_int_equal(covered(&r, lo, hi, -1), 0);
    lm_roots_free(&r);
    lm_free(blk);
}

/* Every listed range can be read word by word without a fault. */
static void test_ranges_readable(void **state)
{
    (void)state;
    struct lm_roots r;
    collect(&r);
    volatile uintptr_t sum = 0;
    size_t bytes = 0;
    for (size_t i = 0; i < lm_roots_len(&r); i++) {
        const struct lm_root *x = lm_roots_at(&r, i);
        assert_true(x->lo < x->hi);
        assert_true(x->kind < LM_ROOT_KINDS);
        for (uintptr_t p = lm_align_up(x->lo, 8); p + 8 <= x->hi; p += 8)
            sum += *(const volatile uintptr_t *)p;
        bytes += x->hi - x->lo;
    }
    assert_true(bytes == r.bytes[LM_ROOT_GLOBAL] + r.bytes[LM_ROOT_MMAP]);
    assert_true(r.count[LM_ROOT_GLOBAL] > 0);
    (void)sum;
    lm_roots_free(&r);
}

/* ---- loader lock ---- */

static volatile int other_done;

static int nop_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)info, (void)size, (void)arg;
    return 1;
}

static void *other_thread(void *arg)
{
    (void)arg;
    dl_iterate_phdr(nop_cb, NULL);       /* waits for the loader lock */
    __atomic_store_n(&other_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

struct locked_arg {
    pthread_t t;
    int done_inside;
    size_t ranges;
    int err;
};

static void locked_fn(void *p)
{
    struct locked_arg *a = p;
    pthread_create(&a->t, NULL, other_thread, NULL);
    struct timespec ts = { 0, 100 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    a->done_inside = __atomic_load_n(&other_done, __ATOMIC_ACQUIRE);
    struct lm_roots r;
    lm_roots_init(&r);
    a->err = lm_roots_collect(&r);        /* nested dl_iterate_phdr */
    a->ranges = r.count[LM_ROOT_GLOBAL];
    lm_roots_free(&r);
}

static void test_loader_lock(void **state)
{
    (void)state;
    struct locked_arg a = { 0 };
    other_done = 0;
    lm_roots_with_loader_lock(locked_fn, &a);
    assert_int_equal(a.done_inside, 0);   /* it could not get the lock */
    assert_int_equal(a.err, 0);
    assert_true(a.ranges > 0);
    pthread_join(a.t, NULL);
    assert_int_equal(other_done, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_global_keeps_block, teardown_each),
        cmocka_unit_test_teardown(test_dlopen_library_globals, teardown_each),
        cmocka_unit_test_teardown(test_mmap_area, teardown_each),
        cmocka_unit_test_teardown(test_mmap_resident_and_kinds, teardown_each),
        cmocka_unit_test_teardown(test_stack_and_exclusions, teardown_each),
        cmocka_unit_test_teardown(test_region_never_listed, teardown_each),
        cmocka_unit_test_teardown(test_ranges_readable, teardown_each),
        cmocka_unit_test_teardown(test_loader_lock, teardown_each),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
