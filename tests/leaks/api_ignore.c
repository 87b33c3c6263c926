/*
 * api_ignore - a 200-byte block marked with lm_ignore holds the only
 * pointer to a 300-byte block; both are then lost.  The ignored block is
 * never reported and its contents are not scanned, so the 300-byte block
 * is reported as a definite leak of its own (allocated in make_target).
 */
#include "api_common.h"

LK_NOINLINE void *make_target(void)
{
    void *t = lk_xmalloc(300);
    lk_fill(t, 300);
    return t;
}

LK_NOINLINE void make_ignored(void)
{
    void **holder = lk_xmalloc(200);
    lk_fill(holder, 200);
    holder[3] = make_target();
    lk_api_expect("ignore", lm_ignore(holder), 0, 0);
}

int main(void)
{
    make_ignored();
    lk_clobber_stack();
    return lk_api_status();
}
