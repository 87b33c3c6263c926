/*
 * capture.h - recording the allocation stack of each request.
 *
 * Every exported allocation entry point (interpose*.c) calls
 * lm_capture_stack() first: the caller's stack (stack_depth frames, the
 * entry point's own frame skipped) goes into the stack depot and its id
 * into lm_tls_stack_id, which the allocator writes into the block's record.
 * Capture happens before any allocator lock is taken (backtrace.h's rule);
 * a capture nested inside another (libunwind, a signal handler) yields 0.
 * stack_depth=0 turns it off.
 */
#ifndef LM_CAPTURE_H
#define LM_CAPTURE_H

#include "block.h"
#include "options.h"
#include "stackdepot.h"

LM_INLINE void lm_capture_stack(void)
{
    unsigned depth = (unsigned)lm_options.stack_depth;
    lm_tls_stack_id = depth ? lm_stack_capture(1, (int)depth) : 0;
}

#endif
