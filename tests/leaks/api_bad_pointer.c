/*
 * api_bad_pointer - calls with pointers leakmark never handed out: a stack
 * address to lm_not_leak, a freed block to lm_ignore, a region never
 * registered to lm_unregister_root, an empty region to lm_register_root.
 * Each returns its errno value and logs exactly one warning line (the
 * runner counts them); lm_not_leak(NULL) is a silent no-op.  The program
 * goes on and exits normally, with nothing leaked.
 */
#include "api_common.h"

#include <errno.h>

int main(void)
{
    int local = 0;
    void *freed = lk_xmalloc(64);
    free(freed);
    lk_api_expect("not_leak(stack address)", lm_not_leak(&local), EINVAL, 0);
    lk_api_expect("ignore(freed block)", lm_ignore(freed), EINVAL, 0);
    lk_api_expect("unregister_root(never registered)", lm_unregister_root(&local, sizeof local), ENOENT, 0);
    lk_api_expect("register_root(empty)", lm_register_root(&local, 0), EINVAL, 0);
    lk_api_expect("not_leak(NULL)", lm_not_leak(NULL), 0, 0);
    lk_clobber_stack();
    return lk_api_status();
}
