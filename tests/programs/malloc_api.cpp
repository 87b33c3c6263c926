// malloc_api - the exported entry points of libleakmark.so, checked from a
// program running under the preload (the unit tests cannot reach
// interpose*.c: they link lm_core only).  Exits non-zero naming the first
// check that failed.  Also verifies that malloc really is leakmark's.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <malloc.h>
#include <new>

extern "C" {
void *__libc_malloc(size_t);
void __libc_free(void *);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void *__libc_memalign(size_t, size_t);
}

static int failures;
#define CHECK(cond)                                                      \
    do {                                                                 \
        if (!(cond)) {                                                   \
            std::fprintf(stderr, "malloc_api: FAIL line %d: %s\n", __LINE__, #cond); \
            failures++;                                                  \
        }                                                                \
    } while (0)

static bool aligned(const void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

// Opaque to the optimiser, so malloc/free pairs are not elided.
static void *volatile sink;
// Sizes the compiler cannot see through (it rejects constant overflows).
static volatile size_t big_n = SIZE_MAX / 2, three = 3;

int main()
{
    Dl_info info;
    CHECK(dladdr((void *)&malloc, &info) && std::strstr(info.dli_fname, "libleakmark"));

    void *q = nullptr;
    CHECK(posix_memalign(&q, 24, 10) == EINVAL);
    CHECK(posix_memalign(&q, 0, 10) == EINVAL);
    CHECK(posix_memalign(&q, 1 << 20, 10) == 0 && aligned(q, 1 << 20));
    std::free(q);
    q = aligned_alloc(1 << 21, 100);
    CHECK(q && aligned(q, 1 << 21));
    std::free(q);
    q = memalign(48, 100);                      // rounded up to 64
    CHECK(q && aligned(q, 64));
    std::free(q);
    q = valloc(10);
    CHECK(q && aligned(q, 4096) && malloc_usable_size(q) >= 10);
    std::free(q);
    q = pvalloc(0);
    CHECK(q && aligned(q, 4096) && malloc_usable_size(q) >= 4096);
    std::free(q);
    q = pvalloc(5000);
    CHECK(q && malloc_usable_size(q) >= 8192);
    std::free(q);

    errno = 0;
    sink = reallocarray(nullptr, big_n, three);
    CHECK(sink == nullptr && errno == ENOMEM);
    sink = reallocarray(nullptr, 10, 10);
    CHECK(sink && malloc_usable_size(sink) >= 100);
    std::free(sink);

    q = __libc_malloc(40);
    CHECK(q && dladdr((void *)&__libc_malloc, &info) && std::strstr(info.dli_fname, "libleakmark"));
    q = __libc_realloc(q, 4000);
    CHECK(q);
    __libc_free(q);
    q = __libc_calloc(10, 10);
    CHECK(q && ((char *)q)[99] == 0);
    __libc_free(q);
    q = __libc_memalign(256, 10);
    CHECK(q && aligned(q, 256));
    __libc_free(q);

    bool thrown = false;
    try {
        sink = new char[(size_t)1 << 50];
    } catch (const std::bad_alloc &) {
        thrown = true;
    }
    CHECK(thrown);
    CHECK(new (std::nothrow) char[(size_t)1 << 50] == nullptr);
    struct alignas(256) Wide { char c[300]; };
    Wide *w = new Wide;
    CHECK(aligned(w, 256));
    delete w;
    Wide *wa = new Wide[3];
    CHECK(aligned(wa, 256));
    delete[] wa;

    struct mallinfo2 mi = mallinfo2();
    CHECK(mi.arena > 0 && mi.uordblks > 0);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    struct mallinfo m1 = mallinfo();             // deprecated, still exported
#pragma GCC diagnostic pop
    CHECK(m1.arena > 0);
    CHECK(mallopt(M_ARENA_MAX, 1) == 1);
    sink = std::malloc(8 << 20);
    std::free(sink);
    CHECK(malloc_trim(0) == 1);                 // the freed 8 MiB were cached
    char buf[4096];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    CHECK(f && malloc_info(0, f) == 0);
    std::fclose(f);
    CHECK(std::strstr(buf, "<malloc version=") != nullptr);
    CHECK(malloc_info(1, stdout) == -1 && errno == EINVAL);

    if (failures)
        return 1;
    std::puts("malloc_api: all checks passed");
    return 0;
}
