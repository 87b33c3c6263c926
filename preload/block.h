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
    uint8_t gen;         /* birth stamp (gen.h) */
    uint8_t flags;       /* enum lm_block_flag (public API, api.c); zeroed
                            by malloc's whole-record write */
};

/* What the program said of a block through include/leakmark.h (the last
 * call wins).  Small blocks keep it in struct lm_meta.flags, large ones in
 * struct lm_unit.block_flags (span.h); both are zeroed when the block is
 * handed out, so a freed and reused block never inherits it. */
enum lm_block_flag {
    LM_BLOCK_F_NONE = 0,
    LM_BLOCK_F_NOT_LEAK = 1,    /* reachable; its contents are a root */
    LM_BLOCK_F_IGNORE = 2,      /* reachable; its contents are not scanned */
};

/* The allocation stack of the request being served on this thread, set by
 * the exported entry points (interpose*.c) before they allocate and written
 * into the block's record when it is handed out (0: no stack). */
extern __thread __attribute__((tls_model("initial-exec"))) uint32_t lm_tls_stack_id;

/* The birth stamp a block allocated now records (gen.h; written only by
 * scans, with the world stopped). */
extern __attribute__((visibility("hidden"))) uint8_t lm_gen_stamp;

/* A free small block links to the next one through its first word. */
typedef struct lm_block {
    struct lm_block *next;
} lm_block_t;

#endif
