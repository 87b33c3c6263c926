/*
 * model.h - the in-memory heap of one dump: header fields, process,
 * modules, stacks, blocks (in file order = address order) and the edges
 * between leaked blocks, exactly as include/leakmark/dump_format.h defines
 * them.  reader.c fills it and validates it; the subcommands only read it.
 *
 * Invariants after a successful an_dump_load/an_dump_parse (reader.h):
 *   - blocks[] are sorted by strictly increasing address and do not
 *     overlap; blocks[i].stack is an index into stacks[] or AN_NONE;
 *   - stacks[] are sorted by id, ids are unique and non-zero;
 *   - modules[i].index == i; start <= end;
 *   - edges[] name blocks by index (< nblocks) whose class is definite or
 *     indirect, and offset < the size of `from`;
 *   - every string is NUL-terminated (paths contain no NUL byte).
 * Memory: plain malloc; an_dump_free releases everything.  Not shared
 * between threads.
 */
#ifndef AN_MODEL_H
#define AN_MODEL_H

#include <leakmark/dump_format.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AN_NONE UINT32_MAX

struct an_module {
    uint64_t start, end, bias;
    uint8_t *build_id;
    size_t build_id_len;
    char *path;
};

struct an_stack {
    uint32_t id;
    uint32_t nframes;
    uint64_t *pcs;
    uint64_t file_off;          /* the STACK record, for error messages */
};

struct an_block {
    uint64_t addr, size;
    uint64_t age_ms, unreachable_scans;
    uint64_t file_off;          /* the block's first byte, for error messages */
    uint32_t stack_id;          /* 0: none */
    uint32_t stack;             /* index into stacks[], AN_NONE: none */
    uint8_t cls;                /* enum lm_dump_class */
    uint8_t gen;                /* 0 young, 1 middle, 2 old */
};

struct an_edge {
    uint32_t from, to;          /* block indexes */
    uint64_t offset;            /* byte offset of the pointer in `from` */
    uint64_t file_off;
};

enum an_summary_field {
    AN_S_LIVE_BLOCKS, AN_S_LIVE_BYTES, AN_S_DEF_BLOCKS, AN_S_DEF_BYTES,
    AN_S_IND_BLOCKS, AN_S_IND_BYTES, AN_S_POS_BLOCKS, AN_S_POS_BYTES,
    AN_S_REACH_BLOCKS, AN_S_REACH_BYTES, AN_S_SUP_BLOCKS, AN_S_SUP_BYTES,
    AN_S_CYCLES, AN_S_THREADS_NOT_STOPPED, AN_S_COUNT
};

struct an_dump {
    const char *name;           /* file name, for messages */
    /* header */
    uint32_t version, pid, trigger, seq, ptr_size;
    uint64_t time_ns, pause_ns, scan_ns;
    /* PROCESS */
    bool have_process;
    char *exe;
    char *cmdline;              /* arguments joined with NUL */
    size_t cmdline_len;
    /* the rest */
    struct an_module *modules;
    size_t nmodules, cap_modules;
    struct an_stack *stacks;
    size_t nstacks, cap_stacks;
    struct an_block *blocks;
    size_t nblocks, cap_blocks;
    struct an_edge *edges;
    size_t nedges, cap_edges;
    bool have_gentotals;
    uint64_t gentotals[3][2];   /* [generation][0 blocks, 1 bytes] */
    bool have_summary;
    uint64_t summary[AN_S_COUNT];
    uint32_t records;           /* records before END */
};

void an_dump_init(struct an_dump *d, const char *name);
void an_dump_free(struct an_dump *d);

/* Makes room for `more` elements in a vector of the dump (*data, *len,
 * *cap, elsize).  Returns false when out of memory. */
bool an_vec_reserve(void **data, size_t len, size_t *cap, size_t more, size_t elsize);

/* Stack of that id, NULL when none. */
const struct an_stack *an_dump_stack(const struct an_dump *d, uint32_t id);
/* Module whose [start, end) holds pc, NULL when none. */
const struct an_module *an_dump_module_at(const struct an_dump *d, uint64_t pc);

/* Summary numbers: the SUMMARY record's, or counted from the blocks (and
 * `cycles`) when the dump has none. */
void an_dump_summary(const struct an_dump *d, uint32_t cycles, uint64_t out[AN_S_COUNT]);

const char *an_trigger_name(uint32_t trigger);
const char *an_class_name(unsigned cls);
static inline bool an_class_leaked(unsigned cls)
{
    return cls == LM_DUMP_DEFINITE || cls == LM_DUMP_INDIRECT;
}

#endif
