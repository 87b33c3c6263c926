/*
 * block.h - the out-of-band record every small block has (8 bytes in its
 * arena's metadata array, never next to user data) and the block states
 * shared by small and large blocks.
 *
 * A record is written whole by its owner thread on malloc and is only
 * meaningful while the block is live: a small block's liveness is kept in
 * its arena's bitmaps (arena.h), so free() never touches the record.  The
 * leak check reads records while the world is stopped.
 */
#ifndef LM_BLOCK_H
#define LM_BLOCK_H

#include <stdint.h>

enum lm_block_state {
    LM_BLOCK_FREE = 0,
    LM_BLOCK_LIVE = 1,
};

struct lm_meta {
    uint32_t stack_id;   /* allocation stack in the stack depot, 0 = none */
    uint16_t size;       /* the size the program asked for, modulo 65536 (a
                            65536-byte request in the top class reads 0:
                            use lm_meta_size) */
    uint8_t gen;         /* generation and scan bits (leak check) */
    uint8_t flags;
};

/* The allocation stack of the request being served on this thread, set by
 * the exported entry points (interpose*.c) before they allocate and written
 * into the block's record when it is handed out (0: no stack). */
extern __thread __attribute__((tls_model("initial-exec"))) uint32_t lm_tls_stack_id;

/* A free small block links to the next one through its first word. */
typedef struct lm_block {
    struct lm_block *next;
} lm_block_t;

#endif
