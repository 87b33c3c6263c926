/*
 * dump.h - serialises a heap dump (include/leakmark/dump_format.h,
 * version 1) from a finished mark: header, PROCESS, one MODULE per loaded
 * object, one STACK per allocation stack that a live block uses, BLOCKS
 * (every live block in address order, split every LM_DUMP_BLOCKS_PER_REC
 * blocks), EDGES (pointers among leaked blocks), GENTOTALS, SUMMARY, END.
 *
 * Where it runs: on a heap that stays still - the fork()ed snapshot of
 * dumper.c, or a unit test's own heap.  It reads allocator state without
 * locks (lookup.h rules), calls dl_iterate_phdr (the loader lock: in the
 * snapshot the forking thread holds it, see dumper.c) and never calls
 * malloc or stdio: its buffers are lm_os_map'd / mmvecs, its output goes
 * through lm_bufw (raw write(2)).
 *
 * Files: lm_dump_write_file writes "<path>.tmp.<pid>" (pid of the calling
 * process), then renames it to `path`, so `path` is complete or absent; on
 * any error the temporary is unlinked.
 *
 * What the format asks and the allocator does not know yet (written as
 * 0, see dump.c): a block's age (no allocation time is recorded) and
 * suppressions (matching needs symbolisation, which mallocs; the analyzer
 * can apply suppression files to the dump's stacks).
 */
#ifndef LM_DUMP_H
#define LM_DUMP_H

#include "internal.h"
#include "mark.h"

#include <leakmark/dump_format.h>
#include <sys/types.h>

#define LM_DUMP_BLOCKS_PER_REC 16384u
#define LM_DUMP_PATH_MAX 4096u

struct lm_dump_info {
    enum lm_dump_trigger trigger;
    uint32_t seq;                  /* sequence number in the process */
    pid_t pid;                     /* the dumped process (0: getpid) */
    uint64_t wall_ns;              /* CLOCK_REALTIME ns (0: now) */
    uint64_t pause_ns, scan_ns;
    uint32_t threads_not_stopped;
    uint64_t snap_ns;              /* monotonic time of the snapshot, for
                                    * block ages (0: ages 0) */
};

struct lm_dump_stats {
    size_t bytes;                  /* whole file */
    size_t block_bytes;            /* BLOCKS records, headers included */
    size_t blocks, stacks, modules, edges, records;
};

/* Writes the whole dump to fd (from its current offset).  Returns 0 or an
 * errno value (the first write error, or ENOMEM).  st may be NULL. */
int lm_dump_write_fd(int fd, const struct lm_mark_result *res,
                     const struct lm_dump_info *info, struct lm_dump_stats *st);

/* Temporary name, write, fsync-free close, rename.  Returns 0 or errno;
 * on error neither the temporary nor `path` is left behind (an existing
 * `path` is left untouched). */
int lm_dump_write_file(const char *path, const struct lm_mark_result *res,
                       const struct lm_dump_info *info, struct lm_dump_stats *st);

/* Expands dump_path: %p -> pid, %n -> seq, %% -> %; other % kept.
 * Returns the length, or 0 when it does not fit in cap. */
size_t lm_dump_expand_path(char *out, size_t cap, const char *pattern, pid_t pid, uint32_t seq);

/* Tests only: after this many bytes have been handed to the writer, the
 * next write fails with ENOSPC (0: never). */
extern size_t lm_dump_fail_after;

#endif
