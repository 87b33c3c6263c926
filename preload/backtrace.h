/*
 * backtrace.h - capture of the calling thread's return addresses (libunwind)
 * and their printing for error reports.
 *
 * Capture never deadlocks on itself and never recurses: a capture that
 * starts while the same thread is already capturing (malloc called from
 * inside libunwind, a signal handler interrupting a capture) or while the
 * thread or the process has capture blocked returns 0 frames.  See the
 * safety argument at the top of backtrace.c for what callers must obey
 * (in short: never hold an allocator lock while calling lm_backtrace).
 */
#ifndef LM_BACKTRACE_H
#define LM_BACKTRACE_H

#include <stdbool.h>
#include <stdint.h>

/* Most frames one capture returns (the depot accepts more). */
#define LM_BT_MAX_FRAMES 64
/* Most frames lm_backtrace can skip on top of the ones it asks for. */
#define LM_BT_MAX_SKIP   16

/* Stores up to `max` return addresses of the calling thread into pcs and
 * returns how many.  pcs[0] is a pc inside the function that called
 * lm_backtrace (the return address of that call), pcs[1] one inside its
 * caller, and so on; `skip` drops that many innermost frames first
 * (clamped to LM_BT_MAX_SKIP).  Returns 0 when capture is disabled,
 * blocked on this thread, nested, or libunwind fails.  Async-signal-safe
 * in the sense above: from a handler it either works or returns 0. */
int lm_backtrace(uintptr_t *pcs, int max, int skip);

/* The unwinder option: fast (walker, libunwind where it declines),
 * libunwind (unw_backtrace alone), verify (both on every capture, compared;
 * libunwind's answer is kept).  Set before threads exist. */
#define LM_UNWINDER_FAST      0
#define LM_UNWINDER_LIBUNWIND 1
#define LM_UNWINDER_VERIFY    2
void lm_backtrace_set_unwinder(int mode);
/* With unwinder=verify, logs one line: captures compared, walked by the
 * walker, mismatched.  Nothing otherwise. */
void lm_backtrace_verify_summary(void);

/* In the child of a multi-threaded parent (fork handler): libunwind's
 * mutexes may be held by threads the child does not have.  Captures go on
 * with the walker alone (a stack it declines records no frames); with
 * unwinder=libunwind they stop (lm_backtrace_disable). */
void lm_backtrace_atfork_child_of_threads(void);

/* Interns a captured stack (n >= 1 frames) and returns its id, 0 if it
 * could not. */
typedef uint32_t (*lm_intern_fn)(const uintptr_t *pcs, int n);
/* Captures like lm_backtrace and returns intern()'s id for the frames (0:
 * no frames).  A capture proven to repeat a remembered walk (stackwalk.h's
 * memo) returns the remembered id without walking or interning. */
uint32_t lm_backtrace_id(int max, int skip, lm_intern_fn intern);

/* Process-wide switch, a nesting count: capture returns 0 while any
 * lm_backtrace_disable() is not yet matched by lm_backtrace_enable().
 * For the allocator: a fork child of a multi-threaded parent (another
 * thread may have held libunwind's cache lock at fork) until exec. */
void lm_backtrace_disable(void);
void lm_backtrace_enable(void);
bool lm_backtrace_enabled(void);

/* Per-thread block, a nesting count shared with the "inside capture" flag:
 * capture on this thread returns 0 between block and unblock.  For the
 * interposer: around the program's own dl_iterate_phdr (its callback may
 * malloc while the loader's lock is held; see backtrace.c). */
void lm_backtrace_thread_block(void);
void lm_backtrace_thread_unblock(void);
/* True while this thread is inside a capture or blocked. */
bool lm_backtrace_in_capture(void);

/* Logs one line per frame through lm_log:
 *     "    #i 0xPC module+0xOFF (function+0xOFF)"
 * The symbol part is left out when dladdr finds no symbol, the module part
 * is "<unknown module>" when it finds no object.  Takes the loader's lock
 * (dladdr: GL(dl_load_lock), recursive): error paths only, and never with
 * an allocator lock held. */
void lm_backtrace_print(const uintptr_t *pcs, int n);

#endif
