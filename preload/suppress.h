/*
 * suppress.h - leak suppressions (LEAKMARK_OPTIONS=suppressions=FILE), in
 * LeakSanitizer's and valgrind's formats, and which leaked blocks of a
 * finished mark they hide.
 *
 * File format (both kinds may be mixed in one file):
 *   LeakSanitizer   one rule per line, "leak:PATTERN"; blank lines and
 *                   lines starting with '#' are ignored; leading and
 *                   trailing blanks (and a CR before the LF) are cut.
 *                   PATTERN is matched, frame by frame from the top of the
 *                   allocation stack, against the frame's module path, then
 *                   its function name and source file: LSan's rules - '*'
 *                   matches any run of characters, '^' at the start and
 *                   '$' at the end anchor; without them the pattern may
 *                   match anywhere in the string (substring semantics:
 *                   "leak:foo" hides every stack with a frame in a
 *                   function, file or module whose name contains "foo").
 *                   Difference: LSan's matcher is greedy and never
 *                   backtracks; ours does, so it matches whenever a
 *                   matching placement exists (never less than LSan).
 *   valgrind        { NAME  Memcheck:Leak  [match-leak-kinds: K,K..]
 *                     FRAME... }, one item per line, where FRAME is
 *                   fun:PAT (function name), obj:PAT (module path),
 *                   src:PAT[:LINE] (source file, full path or base name) or
 *                   "..." (any number of frames, none included).  PAT uses
 *                   '*' and '?' and must match the whole string.  Frames
 *                   are matched from the top of the stack; a suppression
 *                   shorter than the stack matches its top.  Kinds:
 *                   definite, indirect, possible, reachable (leakmark never
 *                   reports reachable blocks), all, none; no
 *                   match-leak-kinds line means all.  Blocks of other tools
 *                   or kinds (Memcheck:Cond, Helgrind:Race ...) are valid
 *                   and ignored.  valgrind's stacks start inside the
 *                   allocation function (fun:malloc, operator new ...);
 *                   leakmark's start at its caller, so a first "fun:" line
 *                   whose pattern matches an allocation function's name
 *                   (malloc calloc realloc reallocarray memalign
 *                   posix_memalign aligned_alloc valloc pvalloc, operator
 *                   new/new[] mangled or not) stands for that implicit top
 *                   frame.  We do not record which entry point was called,
 *                   so fun:calloc also covers a malloc'ed block.
 * A malformed entry gives one lm_log line "suppressions FILE:LINE: problem"
 * and is skipped (a bad valgrind block is skipped up to its '}'); the other
 * entries stay in force.  An unreadable file gives one line and no
 * suppressions.
 *
 * Which suppression hides a (kind, stack): LeakSanitizer rules first, as
 * LSan orders them (frame by frame; within a frame every rule against the
 * module, then every rule against function and file), then valgrind blocks
 * in file order, kind filter applied.  The decision is cached per stack id
 * for the set's lifetime: 100k blocks from one stack cost one match.
 *
 * Held blocks: like LeakSanitizer (which re-runs its check with suppressed
 * blocks as extra roots), every leaked block reachable through leaked
 * blocks from a suppressed block is suppressed too, whatever its stack.
 * Only blocks a rule matched count towards that rule's hits.
 *
 * Memory and context: the file is read with raw syscalls into mmap'd
 * memory and parsed in place (no malloc, no stdio in this file); the rules
 * and the cache are mmap'd.  Matching symbolizes (symbolize.h), which may
 * allocate: reporter context only, inside a symbolizer session.  A set
 * belongs to one thread (the reporter serialises).
 */
#ifndef LM_SUPPRESS_H
#define LM_SUPPRESS_H

#include "internal.h"
#include "mark.h"
#include "mmvec.h"
#include "jsonw.h"

/* Kinds, as bits (match-leak-kinds). */
#define LM_SUPP_DEFINITE  0x1u
#define LM_SUPP_INDIRECT  0x2u
#define LM_SUPP_POSSIBLE  0x4u
#define LM_SUPP_REACHABLE 0x8u
#define LM_SUPP_ALL       0xfu

#define LM_SUPP_NONE UINT32_MAX   /* "no suppression" */

struct lm_supp_set {
    char *text;             /* the file, parsed in place (mmap'd) */
    size_t text_map;        /* bytes mapped for text */
    lm_mmvec_t rules;       /* struct lm_supp_rule (suppress.c) */
    lm_mmvec_t frames;      /* struct lm_supp_frame: valgrind frame lines */
    lm_mmvec_t cache;       /* struct lm_supp_cache_slot, pow2 size */
    size_t cached;          /* stacks in the cache */
    size_t lsan_rules, vg_rules;
    size_t errors;          /* malformed entries logged */
    uint64_t matches;       /* stacks matched afresh (cache misses) */
};

/* Empty set (suppresses nothing). */
void lm_supp_init(struct lm_supp_set *s);
/* Reads and parses `path` (see above).  Returns 0, or the errno that
 * made the file unreadable (logged; the set stays empty). */
int lm_supp_load(struct lm_supp_set *s, const char *path);
/* Parses text[0..len) copied into the set; `name` names it in messages.
 * Returns the number of malformed entries (each logged), or -1 when
 * memory ran out. */
int lm_supp_parse(struct lm_supp_set *s, const char *name, const char *text, size_t len);
void lm_supp_free(struct lm_supp_set *s);
LM_INLINE bool lm_supp_empty(const struct lm_supp_set *s)
{
    return s->lsan_rules + s->vg_rules == 0;
}

/* Index of the rule hiding blocks of `kind` (one LM_SUPP_* bit) allocated
 * from stack_id, or LM_SUPP_NONE.  Cached per stack id. */
uint32_t lm_supp_match(struct lm_supp_set *s, uint32_t stack_id, unsigned kind);
/* Counts `blocks` blocks / `bytes` bytes as hidden by rule r. */
void lm_supp_hit(struct lm_supp_set *s, uint32_t r, size_t blocks, size_t bytes);

/* Per leaked node of res (lm_mark_leaked_count entries, kinds from its
 * graph; all definite when !graph_ok): 0 = shown, LM_SUPP_NODE_MATCHED (a
 * rule matched its kind and stack; the rule's hits count it) or
 * LM_SUPP_NODE_HELD (reachable from a suppressed block).  Walks the SCCs
 * in topological order: O(nodes + edges), no stack.  Returns 0 or ENOMEM
 * (out could not be sized; nothing suppressed). */
#define LM_SUPP_NODE_MATCHED 1
#define LM_SUPP_NODE_HELD    2
int lm_supp_leaked_nodes(struct lm_supp_set *s, const struct lm_mark_result *res,
                         lm_mmvec_t *out /* uint8_t, resized to the node count */);

/* "Suppressions used:" lines (hits, bytes, rule) for the text report;
 * nothing when no rule matched. */
void lm_supp_write_used(const struct lm_supp_set *s, struct lm_bufw *w);
/* "suppressions": [ {type, rule, line, blocks, bytes} ] for the JSON
 * report: every rule that hid at least one block. */
void lm_supp_write_json(const struct lm_supp_set *s, struct lm_jw *j);
/* Rules that matched, and their counts, for tests: rule i's hits. */
void lm_supp_rule_hits(const struct lm_supp_set *s, uint32_t r, size_t *blocks, size_t *bytes);
/* Number of rules (LSan and valgrind); rule text (pattern or name). */
size_t lm_supp_rule_count(const struct lm_supp_set *s);
const char *lm_supp_rule_text(const struct lm_supp_set *s, uint32_t r);

/* The matchers, exposed for tests: LSan's (substring, '*', '^', '$') and
 * valgrind's ('*', '?', whole string).  NULL or "" never matches for
 * LSan. */
bool lm_supp_lsan_match(const char *pat, const char *str);
bool lm_supp_glob_match(const char *pat, const char *str);

#endif
