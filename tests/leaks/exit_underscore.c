/*
 * exit_underscore - the program leaks a 555-byte block and ends with
 * _exit(0), which skips atexit handlers and destructors.  Expected: the
 * report is still written and holds the leak (definite 1 block / 555
 * bytes, allocated in leak_before_exit).
 * The leak is made in its own function, then the stack is clobbered.
 */
#include "leaks_common.h"

#include <unistd.h>

LK_NOINLINE void leak_before_exit(void)
{
    char *p = lk_xmalloc(555);
    lk_fill(p, 555);
}

int main(void)
{
    leak_before_exit();
    lk_clobber_stack();
    _exit(0);
}
