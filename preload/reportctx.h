/*
 * reportctx.h - what the report's parts share (private to report*.c):
 * one report's groups of leaked and possible blocks, the numbers it shows,
 * and the entry points of the grouping (reportgroups.c), the text writer
 * (reporttext.c) and the JSON writer (reportjson.c).  report.c owns the
 * lock that serialises reports and runs the three in turn.
 *
 * Invariants (set by lm_report_build_groups): every leaked node and every
 * possible block belongs to exactly one group, or is suppressed
 * (node_group NO_GROUP); rank[] is a permutation of the groups; the JSON
 * "leaks" index of a group is its rank; the view's counts are the mark's
 * minus what was suppressed.  Memory: lm_mmvec (mmap'd), freed by report.c.
 */
#ifndef LM_REPORTCTX_H
#define LM_REPORTCTX_H

#include "report.h"
#include "jsonw.h"
#include "log.h"
#include "suppress.h"

enum { K_DEFINITE, K_INDIRECT, K_POSSIBLE };
extern const char *const lm_report_kind_name[3];   /* "definite", ... */
extern const char *const lm_report_kind_title[3];  /* "Definite", ... */

#define TEXT_MAX_CYCLES  50
#define TEXT_MAX_MEMBERS 20
#define TEXT_MAX_EDGES   48
#define OUT_BUF_SIZE     ((size_t)64 << 10)
#define NO_GROUP         UINT32_MAX

struct group {
    uint32_t stack_id;
    uint8_t kind;
    bool in_cycle;
    size_t blocks, bytes;
    uint32_t gen_blocks[3];     /* blocks per generation: young, middle, old */
    uint32_t owner;             /* indirect: slot of a holding definite group */
    size_t held_blocks, held_bytes;  /* definite: indirect blocks it holds */
    uint32_t shown_in;          /* text: 1 + cycle whose member printed the stack */
};

/* The numbers the report shows: the mark's, minus suppressed blocks. */
struct view {
    struct lm_mark_count live, reachable, possible, leaked, definite, indirect;
    uint32_t cycles;
    size_t sup_blocks, sup_bytes;   /* the caller's (info) + ours */
    struct lm_mark_count unreported;  /* left out by a periodic scan */
};

struct lm_report_ctx {
    const struct lm_mark_result *res;
    struct view v;
    struct lm_supp_set supp;
    lm_mmvec_t node_supp;       /* uint8_t per leaked node (LM_SUPP_NODE_*),
                                 * empty when nothing is suppressed */
    const lm_leakgraph_t *g;    /* NULL when !graph_ok */
    const struct lm_report_info *info;
    lm_mmvec_t groups;          /* struct group */
    lm_mmvec_t index;           /* uint32_t slot + 1, 0 = empty; pow2 size */
    lm_mmvec_t node_group;      /* uint32_t per leaked node */
    lm_mmvec_t order;           /* uint32_t slots, sorted */
    lm_mmvec_t rank;            /* uint32_t per slot */
    int err;
};

LM_INLINE struct group *grp(const struct lm_report_ctx *c, uint32_t slot)
{
    return (struct group *)c->groups.data + slot;
}

LM_INLINE uint32_t *u32(const lm_mmvec_t *v) { return (uint32_t *)v->data; }

/* ---- reportgroups.c ---- */
/* Groups the leaked nodes and possible blocks of c->res by (kind, stack),
 * applies the suppressions, links indirect groups to a definite owner and
 * sorts.  0 or ENOMEM. */
int lm_report_build_groups(struct lm_report_ctx *c);
/* SCC s is a cycle the report shows (not suppressed). */
bool lm_report_cycle_shown(const struct lm_report_ctx *c, uint32_t s);
/* The group holding leaked node v (that of the first member of the root
 * SCC owning v's SCC), or NO_GROUP. */
uint32_t lm_report_owner_group(const struct lm_report_ctx *c, uint32_t v);
/* The JSON "leaks" index of node's group. */
uint32_t lm_report_rank_of_node(const struct lm_report_ctx *c, uint32_t node);

/* ---- reporttext.c ---- */
const char *lm_report_group_generation(const struct group *g);
void lm_report_text_summary(struct lm_bufw *w, const struct view *r);
void lm_report_write_text(struct lm_report_ctx *c, struct lm_bufw *w, const struct lm_report_info *info);

/* ---- reportjson.c ---- */
/* The JSON report into the path of info (or report_path), %p expanded,
 * via "<path>.tmp.<pid>" and rename, written through buf.  0 or errno
 * (logged in one line). */
int lm_report_json_to_file(struct lm_report_ctx *c, char *buf, size_t cap, const struct lm_report_info *info);

#endif
