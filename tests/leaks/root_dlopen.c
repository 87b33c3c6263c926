/*
 * root_dlopen - a block (4004 bytes) whose only pointer is a global of a
 * shared library loaded with dlopen() (LK_DSO_PATH, the leaks_dso target,
 * passed by CMake).  The library stays loaded.  Expected: no
 * definite/indirect leak, no leak entry of 4004 bytes, the block counted in
 * reachable (the library's writable segment is a root).
 * The pointer is created inside the library's lk_dso_keep; main clobbers
 * the stack afterwards.
 */
#include "leaks_common.h"

#include <dlfcn.h>

#ifndef LK_DSO_PATH
#error "LK_DSO_PATH must name the leaks_dso shared library"
#endif

LK_NOINLINE void keep_in_dso(void)
{
    void *h = dlopen(LK_DSO_PATH, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        exit(2);
    }
    int (*keep)(size_t) = (int (*)(size_t))dlsym(h, "lk_dso_keep");
    void **global = (void **)dlsym(h, "lk_dso_global");
    LK_REQUIRE(keep != NULL && global != NULL);
    LK_REQUIRE(keep(4004) == 0);
    LK_REQUIRE(*global != NULL);
}

int main(void)
{
    keep_in_dso();
    lk_clobber_stack();
    return 0;
}
