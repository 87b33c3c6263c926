/*
 * fork_child_leaks - the child of a fork leaks a 777-byte block and exits
 * with exit(0); after waiting for it, the parent leaks a 333-byte block
 * and returns.  Nothing is leaked before the fork.  Expected, with
 * report_path=.../r.%p.json: two reports; the child's (r.<childpid>.json)
 * has definite 1 block / 777 bytes and no 333; the parent's has definite
 * 1 block / 333 bytes and no 777.
 * Each leak is made in its own function, then the stack is clobbered.
 */
#include "leaks_common.h"

#include <sys/wait.h>
#include <unistd.h>

LK_NOINLINE void leak_in_child(void)
{
    char *p = lk_xmalloc(777);
    lk_fill(p, 777);
}

LK_NOINLINE void leak_in_parent(void)
{
    char *p = lk_xmalloc(333);
    lk_fill(p, 333);
}

int main(void)
{
    fflush(NULL);
    pid_t pid = fork();
    LK_REQUIRE(pid >= 0);
    if (pid == 0) {
        leak_in_child();
        lk_clobber_stack();
        exit(0);
    }
    int status = 0;
    LK_REQUIRE(waitpid(pid, &status, 0) == pid);
    LK_REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    leak_in_parent();
    lk_clobber_stack();
    return 0;
}
