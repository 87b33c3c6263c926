/*
 * test_heap.c - per-thread heaps (preload/heap.h) under threads and fork:
 *  - blocks allocated by one thread and freed by another are reused by the
 *    owner (remote frees are collected, parked arenas come back);
 *  - a thread that exits holding blocks: another thread frees them, the
 *    next new thread adopts the heap (and its memory), new threads work;
 *  - a thread that frees and allocates after its heap was given away (a
 *    pthread key destructor that runs after leakmark's);
 *  - blocks passed between threads at random while all allocate and free;
 *  - fork while other threads allocate: the child allocates and exits 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "alloc.h"

static int setup(void **state)
{
    (void)state;
    return lm_init() ? 0 : -1;
}

static int cmp_ptr(const void *x, const void *y)
{
    uintptr_t a = *(const uintptr_t *)x, b = *(const uintptr_t *)y;
    return a < b ? -1 : a > b;
}

/* How many addresses of a also appear in b (both get sorted). */
static size_t overlap(uintptr_t *a, size_t na, uintptr_t *b, size_t nb)
{
    qsort(a, na, sizeof *a, cmp_ptr);
    qsort(b, nb, sizeof *b, cmp_ptr);
    size_t i = 0, j = 0, n = 0;
    while (i < na && j < nb) {
        if (a[i] < b[j])
            i++;
        else if (a[i] > b[j])
            j++;
        else
            n++, i++, j++;
    }
    return n;
}

static bool small_live(const void *p)
{
    if (!lm_in_region(p) || lm_unit_kind[lm_unit_index(p)] != LM_UNIT_ARENA)
        return false;
    const struct lm_arena *a = lm_arena_of(p);
    uint32_t idx;
    return lm_arena_valid(a) && lm_arena_find_live(a, p, &idx) && lm_arena_block(a, idx) == (const char *)p;
}

static size_t size_of(size_t i) { return 16 + (i * 37) % 200; }

/* ---- cross-thread free ------------------------------------------------ */

enum { XN = 100000 };
static uintptr_t *x_first, *x_second;
static pthread_barrier_t x_bar;

static void *x_owner(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < XN; i++) {
        x_first[i] = (uintptr_t)lm_malloc(size_of(i));
        if (!x_first[i])
            return (void *)1;
        memset((void *)x_first[i], (int)(i & 0xff), size_of(i));
    }
    pthread_barrier_wait(&x_bar);       /* the other thread frees them all */
    pthread_barrier_wait(&x_bar);
    for (size_t i = 0; i < XN; i++) {
        x_second[i] = (uintptr_t)lm_malloc(size_of(i));
        if (!x_second[i])
            return (void *)1;
        memset((void *)x_second[i], 0x5C, size_of(i));
    }
    for (size_t i = 0; i < XN; i++)
        lm_free((void *)x_second[i]);
    return NULL;
}

static void *x_freer(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&x_bar);
    void *bad = NULL;
    for (size_t i = 0; i < XN; i++) {
        const unsigned char *b = (const unsigned char *)x_first[i];
        if (b[0] != (unsigned char)(i & 0xff) || b[size_of(i) - 1] != (unsigned char)(i & 0xff))
            bad = (void *)1;
        lm_free((void *)x_first[i]);
    }
    pthread_barrier_wait(&x_bar);
    return bad;
}

static void test_cross_thread_free_reuse(void **state)
{
    (void)state;
    x_first = malloc(XN * sizeof *x_first);
    x_second = malloc(XN * sizeof *x_second);
    assert_non_null(x_first);
    assert_non_null(x_second);
    pthread_barrier_init(&x_bar, NULL, 2);
    pthread_t a, b;
    void *ra, *rb;
    assert_int_equal(pthread_create(&a, NULL, x_owner, NULL), 0);
    assert_int_equal(pthread_create(&b, NULL, x_freer, NULL), 0);
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    pthread_barrier_destroy(&x_bar);
    assert_null(ra);
    assert_null(rb);                    /* contents intact when freed remotely */
    size_t n = overlap(x_first, XN, x_second, XN);
    if (n < XN * 9 / 10)
        fail_msg("owner reused only %zu of %d addresses freed by another thread", n, XN);
    free(x_first);
    free(x_second);
}

/* ---- exit, adoption --------------------------------------------------- */

enum { AN = 20000 };
static uintptr_t a_blocks[AN], a_again[AN];
static void *a_large[3];
static struct lm_heap *a_heap1, *a_heap2;

static void *exiting_thread(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < AN; i++) {
        a_blocks[i] = (uintptr_t)lm_malloc(size_of(i));
        memset((void *)a_blocks[i], 0x11, size_of(i));
    }
    for (int i = 0; i < 3; i++)
        a_large[i] = lm_malloc((size_t)(i + 1) << 19);
    a_heap1 = lm_tls_heap;
    return NULL;                        /* exits holding all of them */
}

static void *adopting_thread(void *arg)
{
    (void)arg;
    a_heap2 = lm_tls_heap;              /* not set up yet */
    for (size_t i = 0; i < AN; i++) {
        a_again[i] = (uintptr_t)lm_malloc(size_of(i));
        if (!a_again[i])
            return (void *)1;
        memset((void *)a_again[i], (int)(i & 0xff), size_of(i));
    }
    if (a_heap2 != &lm_empty_heap)
        return (void *)2;
    a_heap2 = lm_tls_heap;
    for (size_t i = 0; i < AN; i++)
        if (*(unsigned char *)a_again[i] != (unsigned char)(i & 0xff))
            return (void *)3;
    return NULL;                        /* exits holding them too */
}

static void *worker_churn(void *arg)
{
    uintptr_t seed = (uintptr_t)arg;
    enum { K = 512 };
    unsigned char *live[K] = { 0 };
    for (int it = 0; it < 40000; it++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        unsigned k = (unsigned)(seed >> 33) % K;
        if (live[k]) {
            if (live[k][0] != (unsigned char)k)
                return (void *)1;
            lm_free(live[k]);
        }
        size_t sz = 1 + (seed >> 40) % ((seed & 0xf00) ? 512 : 40000);
        live[k] = lm_malloc(sz);
        if (!live[k])
            return (void *)2;
        memset(live[k], (int)k, sz < 64 ? sz : 64);
    }
    for (unsigned k = 0; k < K; k++)
        lm_free(live[k]);
    return NULL;
}

static void test_exit_then_adopt(void **state)
{
    (void)state;
    pthread_t t;
    void *r;
    assert_int_equal(pthread_create(&t, NULL, exiting_thread, NULL), 0);
    pthread_join(t, NULL);
    assert_non_null(a_heap1);
    for (size_t i = 0; i < AN; i++) {
        assert_true(small_live((void *)a_blocks[i]));
        assert_int_equal(*(unsigned char *)a_blocks[i], 0x11);
    }
    for (size_t i = 0; i < AN; i++)     /* the exited thread's blocks, freed here */
        lm_free((void *)a_blocks[i]);
    for (int i = 0; i < 3; i++) {
        assert_true(lm_large_is_live(a_large[i]));
        lm_free(a_large[i]);
    }
    for (size_t i = 0; i < AN; i++)
        assert_false(small_live((void *)a_blocks[i]));

    assert_int_equal(pthread_create(&t, NULL, adopting_thread, NULL), 0);
    pthread_join(t, &r);
    assert_null(r);
    /* heap.h: the next new thread adopts the heap of the exited one. */
    assert_ptr_equal(a_heap2, a_heap1);
    size_t n = overlap(a_blocks, AN, a_again, AN);
    if (n < AN * 9 / 10)
        fail_msg("new thread reused only %zu of %d addresses of the exited one", n, AN);
    for (size_t i = 0; i < AN; i++)
        lm_free((void *)a_again[i]);

    /* New threads, several at once, work. */
    pthread_t w[4];
    for (uintptr_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&w[i], NULL, worker_churn, (void *)(i + 1)), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(w[i], &r);
        assert_null(r);
    }
}

/* ---- after the heap was given away ------------------------------------ */

enum { LN = 2000 };
static pthread_key_t late_key;
struct late {
    void *blocks[LN];
    void *late[100];        /* allocated by the destructor, still live */
    bool dead_heap;         /* the destructor ran after leakmark's */
    bool ok;
};

static void late_destructor(void *arg)
{
    struct late *l = arg;
    l->dead_heap = lm_tls_heap == &lm_dead_heap;
    for (int i = 0; i < LN; i += 2)     /* free half of our own blocks */
        lm_free(l->blocks[i]);
    void *fresh[500];
    bool ok = true;
    for (int i = 0; i < 500; i++) {     /* and allocate again */
        fresh[i] = lm_malloc(size_of((size_t)i));
        if (!fresh[i])
            ok = false;
        else
            memset(fresh[i], i & 0xff, size_of((size_t)i));
    }
    for (int i = 0; i < 500; i++) {
        if (fresh[i] && *(unsigned char *)fresh[i] != (unsigned char)(i & 0xff))
            ok = false;
        if (i % 5)
            lm_free(fresh[i]);
    }
    for (int i = 0; i < 500; i += 5)    /* left live: freed by the main thread */
        l->late[i / 5] = fresh[i];
    l->ok = ok;
}

static void *late_thread(void *arg)
{
    struct late *l = arg;
    for (int i = 0; i < LN; i++) {
        l->blocks[i] = lm_malloc(size_of((size_t)i));
        memset(l->blocks[i], 0x22, size_of((size_t)i));
    }
    pthread_setspecific(late_key, l);
    return NULL;
}

static void test_free_after_heap_abandoned(void **state)
{
    (void)state;
    /* leakmark's thread-exit key was made in lm_init, before this one, and
     * glibc runs destructors in key order: ours sees the heap given away. */
    assert_int_equal(pthread_key_create(&late_key, late_destructor), 0);
    struct late *l = calloc(1, sizeof *l);
    assert_non_null(l);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, late_thread, l), 0);
    pthread_join(t, NULL);
    pthread_key_delete(late_key);
    if (!l->dead_heap) {
        free(l);
        skip();     /* destructor order differs here: cannot simulate */
    }
    assert_true(l->ok);
    for (int i = 0; i < LN; i++) {
        if (i % 2 == 0) {
            assert_false(small_live(l->blocks[i]));
        } else {
            assert_true(small_live(l->blocks[i]));
            assert_int_equal(*(unsigned char *)l->blocks[i], 0x22);
            lm_free(l->blocks[i]);
        }
    }
    for (int i = 0; i < 100; i++) {
        assert_true(small_live(l->late[i]));
        lm_free(l->late[i]);
        assert_false(small_live(l->late[i]));
    }
    /* The heap still works for new threads and for us. */
    pthread_t w;
    void *r;
    assert_int_equal(pthread_create(&w, NULL, worker_churn, (void *)77), 0);
    pthread_join(w, &r);
    assert_null(r);
    free(l);
}

/* ---- blocks passed around --------------------------------------------- */

enum { SLOTS = 2048, PASS_THREADS = 4, PASS_ITERS = 150000 };
static void *volatile slots[SLOTS];

struct hdr {
    uint64_t magic;
    size_t size;
};

static void *pass_thread(void *arg)
{
    uintptr_t seed = (uintptr_t)arg * 0x9E3779B97F4A7C15u;
    for (int it = 0; it < PASS_ITERS; it++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        size_t sz = sizeof(struct hdr) + (seed >> 35) % ((seed & 0x3f) ? 600 : 90000);
        struct hdr *h = lm_malloc(sz);
        if (!h)
            return (void *)1;
        h->magic = (uintptr_t)h ^ 0xA5A5A5A5u;
        h->size = sz;
        memset(h + 1, (int)((uintptr_t)h >> 4), sz - sizeof *h < 32 ? sz - sizeof *h : 32);
        unsigned k = (unsigned)(seed >> 20) % SLOTS;
        struct hdr *old = __atomic_exchange_n(&slots[k], h, __ATOMIC_ACQ_REL);
        if (old) {
            if (old->magic != ((uintptr_t)old ^ 0xA5A5A5A5u))
                return (void *)2;
            const unsigned char *c = (const unsigned char *)(old + 1);
            size_t n = old->size - sizeof *old < 32 ? old->size - sizeof *old : 32;
            for (size_t i = 0; i < n; i++)
                if (c[i] != (unsigned char)((uintptr_t)old >> 4))
                    return (void *)3;
            lm_free(old);
        }
    }
    return NULL;
}

static void test_pass_blocks_between_threads(void **state)
{
    (void)state;
    pthread_t t[PASS_THREADS];
    for (uintptr_t i = 0; i < PASS_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, pass_thread, (void *)(i + 1)), 0);
    for (int i = 0; i < PASS_THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        if (r)
            fail_msg("thread %d: block corrupted or shared (code %ld)", i, (long)(intptr_t)r);
    }
    for (int k = 0; k < SLOTS; k++)
        if (slots[k]) {
            lm_free(slots[k]);
            slots[k] = NULL;
        }
}

/* ---- fork --------------------------------------------------------------- */

static volatile int stop_workers;

static void *busy_worker(void *arg)
{
    uintptr_t seed = (uintptr_t)arg;
    void *live[256] = { 0 };
    while (!__atomic_load_n(&stop_workers, __ATOMIC_RELAXED)) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        unsigned k = (unsigned)(seed >> 33) & 255;
        lm_free(live[k]);
        size_t sz = (seed & 0x3ff) == 0 ? 300000 : 1 + (seed >> 45) % 3000;
        live[k] = lm_malloc(sz);
        if (live[k])
            *(char *)live[k] = 1;
    }
    for (int k = 0; k < 256; k++)
        lm_free(live[k]);
    return NULL;
}

static int child_work(void)
{
    enum { CN = 10000 };
    static void *ps[CN];
    alarm(20);          /* a deadlock kills the child instead of the run */
    for (int i = 0; i < CN; i++) {
        size_t sz = (i % 1000) == 999 ? 200000 : size_of((size_t)i);
        ps[i] = lm_malloc(sz);
        if (!ps[i])
            return 1;
        memset(ps[i], i & 0xff, sz < 64 ? sz : 64);
    }
    for (int i = 0; i < CN; i++) {
        if (*(unsigned char *)ps[i] != (unsigned char)(i & 0xff))
            return 2;
        lm_free(ps[i]);
    }
    return 0;
}

static void test_fork_while_threads_allocate(void **state)
{
    (void)state;
    pthread_t w[2];
    stop_workers = 0;
    for (uintptr_t i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&w[i], NULL, busy_worker, (void *)(i + 11)), 0);
    usleep(10000);
    for (int f = 0; f < 20; f++) {
        void *mine = lm_malloc(100);        /* the parent keeps allocating too */
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            _exit(child_work());
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("fork %d: child %s %d", f, WIFEXITED(status) ? "exited with" : "killed by signal",
                     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        lm_free(mine);
    }
    __atomic_store_n(&stop_workers, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < 2; i++)
        pthread_join(w[i], NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cross_thread_free_reuse),
        cmocka_unit_test(test_exit_then_adopt),
        cmocka_unit_test(test_free_after_heap_abandoned),
        cmocka_unit_test(test_pass_blocks_between_threads),
        cmocka_unit_test(test_fork_while_threads_allocate),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
