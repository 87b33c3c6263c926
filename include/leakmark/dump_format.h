/*
 * leakmark/dump_format.h - the heap dump file format, version 1.
 *
 * The one header shared by preload/ (the writer) and analyzer/ (the
 * reader).  Little-endian throughout; no padding between fields (the
 * writer emits bytes, the reader parses bytes: never cast a struct over
 * file data).
 *
 * File layout
 *   file header        LM_DUMP_HEADER_SIZE bytes (below)
 *   records...         each: u32 type, u32 payload length, payload
 *   END record         type LM_REC_END, last in every complete file
 *
 * A reader must check every length against what remains of the file and
 * of the enclosing record, reject unknown versions, skip unknown record
 * types (forward compatibility: new record types may be added within a
 * version), and report errors as "offset N: what was wrong".
 *
 * Varints: unsigned LEB128 (7 bits per byte, low bits first, high bit =
 * more), at most 10 bytes for a u64.  "svarint" is zigzag + varint.
 *
 * File header (LM_DUMP_HEADER_SIZE = 64 bytes)
 *   off  size
 *     0     8  magic "LMDUMP\0\1"
 *     8     4  u32 version (LM_DUMP_VERSION)
 *    12     4  u32 header size (64; readers skip bytes they do not know)
 *    16     4  u32 pid
 *    20     4  u32 trigger (enum lm_dump_trigger)
 *    24     8  u64 wall-clock time of the dump, ns since the epoch
 *    32     8  u64 pause: ns the program was stopped
 *    40     8  u64 scan: ns from the start of the dump to the end of the mark
 *    48     4  u32 sequence number of this dump in the process (0, 1, ...)
 *    52     4  u32 pointer size in bytes (8)
 *    56     8  reserved, 0
 *
 * Records (payload layouts)
 *   LM_REC_PROCESS   varint exe path length, exe path bytes (no NUL),
 *                    varint command-line length, bytes (arguments joined
 *                    with NUL)
 *   LM_REC_MODULE    varint index (0, 1, ... in file order), u64 start,
 *                    u64 end (the module's mapped extent), u64 load bias,
 *                    varint build-id length, build-id bytes (raw, may be
 *                    empty), varint path length, path bytes
 *   LM_REC_STACK     varint stack id (the depot's, non-zero), varint frame
 *                    count n, then n pcs as u64 (absolute addresses in the
 *                    dumped process; symbolise with the MODULE records)
 *   LM_REC_BLOCKS    varint count, then per block, sorted by address:
 *                      varint  address delta from the previous block's
 *                              address (the first: from 0)
 *                      varint  size the program asked for
 *                      varint  stack id (0: none)
 *                      u8      class: low 3 bits enum lm_dump_class,
 *                              bits 3-4 generation (0 young, 1 middle,
 *                              2 old) once this dump is done (a dump is
 *                              a scan: its survivors are promoted)
 *                      varint  age in ms at the dump: a lower bound, the
 *                              time since the first scan (periodic scan
 *                              or dump) after the block's birth - 0 for
 *                              blocks born since the last scan
 *                      varint  consecutive scans (periodic scans and
 *                              dumps, this one included) the block has
 *                              been unreachable (0 for reachable blocks)
 *                    A dump may split the blocks over several BLOCKS
 *                    records; addresses keep increasing across them.
 *   LM_REC_EDGES     varint count, then per edge, pointers among leaked
 *                    blocks only: varint from (index of the block in the
 *                    file's block order, all BLOCKS records together),
 *                    varint to (same), varint byte offset in `from`
 *   LM_REC_GENTOTALS 3 x (varint live blocks, varint live bytes): young,
 *                    middle, old
 *   LM_REC_SUMMARY   varint x 14: live blocks, live bytes, definite blocks,
 *                    definite bytes, indirect blocks, indirect bytes,
 *                    possible blocks, possible bytes, reachable blocks,
 *                    reachable bytes, suppressed blocks, suppressed bytes,
 *                    cycles, threads not stopped
 *   LM_REC_END       varint number of records before this one
 */
#ifndef LEAKMARK_DUMP_FORMAT_H
#define LEAKMARK_DUMP_FORMAT_H

#include <stdint.h>

#define LM_DUMP_MAGIC       "LMDUMP\0\1"
#define LM_DUMP_MAGIC_SIZE  8
#define LM_DUMP_VERSION     1u
#define LM_DUMP_HEADER_SIZE 64u

enum lm_dump_trigger {
    LM_DUMP_TRIGGER_EXIT = 0,
    LM_DUMP_TRIGGER_SIGNAL = 1,
    LM_DUMP_TRIGGER_API = 2,
    LM_DUMP_TRIGGER_PERIODIC = 3,
};

enum lm_dump_record {
    LM_REC_PROCESS = 1,
    LM_REC_MODULE = 2,
    LM_REC_STACK = 3,
    LM_REC_BLOCKS = 4,
    LM_REC_EDGES = 5,
    LM_REC_GENTOTALS = 6,
    LM_REC_SUMMARY = 7,
    LM_REC_END = 0xffff,
};

enum lm_dump_class {
    LM_DUMP_REACHABLE = 0,
    LM_DUMP_POSSIBLE = 1,
    LM_DUMP_DEFINITE = 2,
    LM_DUMP_INDIRECT = 3,
    LM_DUMP_SUPPRESSED = 4,
};

#define LM_DUMP_CLASS(byte)      ((unsigned)(byte) & 7u)
#define LM_DUMP_GENERATION(byte) (((unsigned)(byte) >> 3) & 3u)

#endif
