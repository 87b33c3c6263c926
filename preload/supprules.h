/*
 * supprules.h - the parsed form of a suppression file (private to
 * suppress.c, which matches it, and suppparse.c, which builds it): rules
 * and valgrind frame lines, pointing into the file's text.
 *
 * Invariant: a rule's frames are set->frames[frame0 .. frame0 + nframes).
 */
#ifndef LM_SUPPRULES_H
#define LM_SUPPRULES_H

#include "suppress.h"

enum { R_LSAN, R_VG };
enum { F_FUN, F_OBJ, F_SRC, F_DOTS };

struct lm_supp_rule {
    uint8_t type;               /* R_LSAN | R_VG */
    uint8_t kinds;              /* LM_SUPP_* bits (LSan: all) */
    bool implicit_top;          /* vg: frame line 0 names the allocator */
    const char *text;           /* LSan: pattern; vg: the block's name */
    const char *line_text;      /* LSan: the whole "leak:..." line */
    uint32_t line;              /* where it starts in the file */
    uint32_t frame0, nframes;   /* vg frame lines */
    size_t hit_blocks, hit_bytes;
};

struct lm_supp_frame {
    uint8_t type;               /* F_* */
    int line;                   /* src: line, 0 = any */
    const char *pat;
};

LM_INLINE struct lm_supp_rule *lm_supp_rule_at(const struct lm_supp_set *s, uint32_t r)
{
    return (struct lm_supp_rule *)s->rules.data + r;
}

LM_INLINE bool supp_streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

LM_INLINE bool supp_has_prefix(const char *s, const char *pre)
{
    while (*pre && *s == *pre)
        s++, pre++;
    return !*pre;
}

#endif
