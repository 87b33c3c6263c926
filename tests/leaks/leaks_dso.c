/*
 * leaks_dso - the shared library root_dlopen loads with dlopen() by path:
 * it keeps a block in its own global (its .bss), a root only because the
 * library is loaded.
 */
#include <stdlib.h>
#include <string.h>

void *lk_dso_global;

__attribute__((noinline)) int lk_dso_keep(size_t n)
{
    void *p = malloc(n);
    if (!p)
        return -1;
    memset(p, 0x5a, n);
    lk_dso_global = p;
    return 0;
}
