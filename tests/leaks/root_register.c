/*
 * root_register - a block (4009 bytes) whose only pointer is in a
 * callee-saved register (r12) of a live thread.  Expected: no
 * definite/indirect leak, no leak entry of 4009 bytes, the block counted
 * in reachable (a stopped thread's registers are a root).
 *
 * How the pointer ends up only in r12 (x86-64 only; elsewhere the program
 * exits 77 and the test is skipped): the thread stores the pointer in a
 * volatile stack slot, clobbers the stack below its frame, then enters one
 * asm block that (1) loads the slot into r12, (2) zeroes the slot, (3)
 * zeroes every other general-purpose register that might hold a copy
 * (rax, rbx, rcx, rdx, rsi, rdi, r8-r11, r13-r15), (4) publishes "ready",
 * (5) spins forever on `pause` without touching memory.  The compiler
 * cannot reorder around it (all those registers and memory are clobbers).
 * main waits for "ready" and returns, so the exit-time check runs while the
 * thread spins with the pointer in r12 and nowhere else.  A plain
 * `register ... asm("r12")` variable is not enough: GCC only guarantees
 * the binding inside asm operands, and at -O0 it would also keep a stack
 * copy.
 */
#include "leaks_common.h"

#include <pthread.h>
#include <unistd.h>

static volatile int ready;

LK_NOINLINE void *make_block(void)
{
    void *p = lk_xmalloc(4009);
    lk_fill(p, 4009);
    return p;
}

#if defined(__x86_64__)
static LK_NOINLINE void hold_in_r12(void)
{
    void *volatile slot = make_block();
    lk_clobber_stack();
    __asm__ volatile("movq %0, %%r12\n\t"
                     "movq $0, %0\n\t"
                     "xorl %%eax, %%eax\n\t"
                     "xorl %%ebx, %%ebx\n\t"
                     "xorl %%ecx, %%ecx\n\t"
                     "xorl %%edx, %%edx\n\t"
                     "xorl %%esi, %%esi\n\t"
                     "xorl %%edi, %%edi\n\t"
                     "xorl %%r8d, %%r8d\n\t"
                     "xorl %%r9d, %%r9d\n\t"
                     "xorl %%r10d, %%r10d\n\t"
                     "xorl %%r11d, %%r11d\n\t"
                     "xorl %%r13d, %%r13d\n\t"
                     "xorl %%r14d, %%r14d\n\t"
                     "xorl %%r15d, %%r15d\n\t"
                     "movl $1, %1\n\t"
                     "1:\n\t"
                     "pause\n\t"
                     "jmp 1b"
                     : "+m"(slot), "=m"(ready)
                     :
                     : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9",
                       "r10", "r11", "r12", "r13", "r14", "r15", "memory");
}

static void *thread_main(void *arg)
{
    (void)arg;
    hold_in_r12();   /* never returns */
    return NULL;
}
#endif

int main(void)
{
#if defined(__x86_64__)
    pthread_t t;
    LK_REQUIRE(pthread_create(&t, NULL, thread_main, NULL) == 0);
    while (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
        usleep(1000);
    return 0;
#else
    puts("root_register: x86-64 only, skipped");
    return 77;
#endif
}
