/*
 * leaks_common.h - helpers shared by the exit-time leak-check scenarios
 * (every tests/leaks program).  Header-only so each scenario stays one program.
 *
 * The whole point of a scenario is that the pointers it means to lose are
 * really lost: a conservative scan treats every aligned word of every live
 * stack frame and saved register as a possible pointer, so a stale copy of
 * a "lost" pointer left in a dead stack slot that a later live frame
 * re-uses (uninitialised locals of exit(), of the atexit handlers, of the
 * leak check itself) would keep the block alive, and the test would be
 * measuring our programs rather than leakmark.  Every scenario therefore
 * follows the same discipline:
 *
 *   1. the block is allocated in a separate noinline function (a leaf that
 *      main calls), never in main's own frame, so the pointer exists only
 *      in that function's frame, in the allocator's dead frames below it,
 *      and in caller-saved registers;
 *   2. after that function returns, the caller calls lk_clobber_stack(),
 *      which zeroes LK_CLOBBER_BYTES of stack below the caller's frame
 *      through a volatile array (the compiler may not drop the stores) -
 *      this overwrites the dead frame of step 1 and every dead frame of
 *      malloc, stack capture and libunwind under it - and then zeroes the
 *      caller-saved registers, so what the caller sees after the call is
 *      clean (callee-saved registers are restored by every callee, and the
 *      -O0 scenario code does not keep pointers in them);
 *   3. only then does the program go on (return from main, call exit, wait
 *      for a thread ...).
 * Programs are built with -O0 -g -fno-builtin -fno-inline, so the compiler
 * keeps every allocation, every store and every call where the source says.
 * Block contents are always written (lk_fill) so that nothing in a leaked
 * block is an accidental pointer left by the allocator's previous use.
 *
 * Threads that leak do the same on their own stacks; glibc keeps the stacks
 * of exited threads cached (an anonymous mapping, scanned as a root), so a
 * thread must clobber its stack before it returns.
 */
#ifndef LEAKS_COMMON_H
#define LEAKS_COMMON_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 128 KiB: far more than malloc + stack capture (libunwind) + the scenario
 * leaf use; every thread here has an 8 MiB stack. */
#define LK_CLOBBER_BYTES (128 * 1024)

#define LK_NOINLINE __attribute__((noinline, noclone))

/* Zero the stack below the caller's frame, then the caller-saved
 * registers (see the discipline above). */
static LK_NOINLINE void lk_clobber_stack(void)
{
    volatile unsigned char buf[LK_CLOBBER_BYTES];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = 0;
#if defined(__x86_64__)
    __asm__ volatile("xorl %%eax, %%eax\n\t"
                     "xorl %%ecx, %%ecx\n\t"
                     "xorl %%edx, %%edx\n\t"
                     "xorl %%esi, %%esi\n\t"
                     "xorl %%edi, %%edi\n\t"
                     "xorl %%r8d, %%r8d\n\t"
                     "xorl %%r9d, %%r9d\n\t"
                     "xorl %%r10d, %%r10d\n\t"
                     "xorl %%r11d, %%r11d\n\t"
                     "pxor %%xmm0, %%xmm0\n\t"
                     "pxor %%xmm1, %%xmm1\n\t"
                     "pxor %%xmm2, %%xmm2\n\t"
                     "pxor %%xmm3, %%xmm3\n\t"
                     :
                     :
                     : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
                       "r11", "xmm0", "xmm1", "xmm2", "xmm3", "memory");
#endif
}

/* Fill a block with a byte pattern that is never a user-space address
 * (0x5a5a5a5a5a5a5a5a is non-canonical on x86-64). */
static inline void lk_fill(void *p, size_t n)
{
    volatile unsigned char *c = (volatile unsigned char *)p;
    for (size_t i = 0; i < n; i++)
        c[i] = 0x5a;
}

/* malloc that never returns NULL; the scenarios' only failure path. */
static inline void *lk_xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p && n) {
        fprintf(stderr, "malloc(%zu) failed\n", n);
        exit(3);
    }
    return p;
}

/* A scenario whose precondition does not hold exits 2 with a message, so
 * the test fails for a reason it states. */
#define LK_REQUIRE(cond)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: precondition failed: %s\n", __FILE__,   \
                    __LINE__, #cond);                                       \
            exit(2);                                                        \
        }                                                                   \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif
