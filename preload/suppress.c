/*
 * suppress.c - suppression files: reading, parsing, matching a stack
 * (cached per stack id), and which leaked nodes of a mark they hide.
 * The formats and rules are described in suppress.h.
 *
 * Owns: nothing global.  A struct lm_supp_set holds the file text (one
 * mapping, parsed in place: every line is cut with a NUL and rules point
 * into it), the rules, the valgrind frame lines and the per-stack cache,
 * all mmap'd (lm_os_map, lm_mmvec).  No malloc, no stdio: the file is read
 * with raw openat/read syscalls.
 *
 * Invariants: a rule's frames are frames[frame0 .. frame0 + nframes);
 * cache capacity is 0 or a power of two, at most half full; a cache slot
 * is in use iff used != 0.  Matching calls lm_symbolize (may allocate):
 * reporter context only, never inside malloc or a signal handler.
 */
#include "suppress.h"
#include "log.h"
#include "os.h"
#include "stackdepot.h"
#include "symbolize.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

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

struct lm_supp_cache_slot {
    uint32_t stack;
    uint32_t used;
    uint32_t rule[3];           /* per kind: definite, indirect, possible */
};

#define MAX_FILE_BYTES ((size_t)64 << 20)
#define MAX_MATCH_FRAMES 256

/* ---- matchers ---- */

/* p[0..pn) against s: '*' any run, '?' one char when qmark.  prefix_ok:
 * s may go on after the pattern ends (an implicit trailing '*');
 * lead_star: an implicit leading '*'.  Backtracks to the last '*' only,
 * which is exact for glob patterns. */
static bool wild(const char *p, size_t pn, const char *s, bool qmark, bool lead_star,
                 bool prefix_ok)
{
    size_t pi = 0, star_p = lead_star ? 0 : SIZE_MAX;
    const char *si = s, *star_s = s;
    for (;;) {
        if (pi < pn && p[pi] == '*') {
            star_p = ++pi;
            star_s = si;
            continue;
        }
        if (pi == pn && (prefix_ok || !*si))
            return true;
        if (*si && pi < pn && (p[pi] == *si || (qmark && p[pi] == '?'))) {
            pi++;
            si++;
            continue;
        }
        if (star_p != SIZE_MAX && *star_s) {
            pi = star_p;
            si = ++star_s;
            continue;
        }
        return false;
    }
}

static size_t slen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

bool lm_supp_lsan_match(const char *pat, const char *str)
{
    if (!str || !*str)
        return false;
    size_t n = slen(pat);
    bool start = n && pat[0] == '^';
    if (start) {
        pat++;
        n--;
    }
    bool end = n && pat[n - 1] == '$';
    if (end)
        n--;
    return wild(pat, n, str, false, !start, !end);
}

bool lm_supp_glob_match(const char *pat, const char *str)
{
    return wild(pat, slen(pat), str ? str : "", true, false, false);
}

static bool streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static bool has_prefix(const char *s, const char *pre)
{
    while (*pre && *s == *pre)
        s++, pre++;
    return !*pre;
}

static const char *base_name(const char *p)
{
    const char *b = p;
    for (; *p; p++)
        if (*p == '/')
            b = p + 1;
    return b;
}

/* ---- the set ---- */

static struct lm_supp_rule *rule_at(const struct lm_supp_set *s, uint32_t r)
{
    return (struct lm_supp_rule *)s->rules.data + r;
}

void lm_supp_init(struct lm_supp_set *s)
{
    *s = (struct lm_supp_set){ 0 };
    lm_mmvec_init(&s->rules, sizeof(struct lm_supp_rule));
    lm_mmvec_init(&s->frames, sizeof(struct lm_supp_frame));
    lm_mmvec_init(&s->cache, sizeof(struct lm_supp_cache_slot));
}

void lm_supp_free(struct lm_supp_set *s)
{
    if (s->text)
        lm_os_unmap(s->text, s->text_map);
    lm_mmvec_free(&s->rules);
    lm_mmvec_free(&s->frames);
    lm_mmvec_free(&s->cache);
    lm_supp_init(s);
}

size_t lm_supp_rule_count(const struct lm_supp_set *s) { return s->rules.len; }

const char *lm_supp_rule_text(const struct lm_supp_set *s, uint32_t r)
{
    return rule_at(s, r)->text;
}

void lm_supp_rule_hits(const struct lm_supp_set *s, uint32_t r, size_t *blocks, size_t *bytes)
{
    *blocks = rule_at(s, r)->hit_blocks;
    *bytes = rule_at(s, r)->hit_bytes;
}

void lm_supp_hit(struct lm_supp_set *s, uint32_t r, size_t blocks, size_t bytes)
{
    rule_at(s, r)->hit_blocks += blocks;
    rule_at(s, r)->hit_bytes += bytes;
}

/* ---- parsing ---- */

struct parser {
    struct lm_supp_set *s;
    const char *name;
    uint32_t lineno;
    int errors;
    bool oom;
};

static void bad(struct parser *P, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void bad(struct parser *P, uint32_t line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    lm_vformat(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lm_log("suppressions %s:%u: %s", P->name, line, msg);
    P->errors++;
}

static bool push_rule(struct parser *P, const struct lm_supp_rule *r)
{
    if (lm_mmvec_push(&P->s->rules, r)) {
        P->oom = true;
        return false;
    }
    if (r->type == R_LSAN)
        P->s->lsan_rules++;
    else
        P->s->vg_rules++;
    return true;
}

static const char *const alloc_names[] = {
    "malloc", "calloc", "realloc", "reallocarray", "memalign", "posix_memalign",
    "aligned_alloc", "valloc", "pvalloc", "_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t",
    "_ZnamRKSt9nothrow_t", "_ZnwmSt11align_val_t", "_ZnamSt11align_val_t",
    "operator new(unsigned long)", "operator new[](unsigned long)",
    "operator new(unsigned long, std::nothrow_t const&)",
    "operator new[](unsigned long, std::nothrow_t const&)",
    "operator new(unsigned long, std::align_val_t)",
    "operator new[](unsigned long, std::align_val_t)",
};

static bool names_allocator(const char *pat)
{
    for (size_t i = 0; i < LM_ARRAY_LEN(alloc_names); i++)
        if (lm_supp_glob_match(pat, alloc_names[i]))
            return true;
    return false;
}

/* "definite,possible" (blanks allowed) into bits; false on a bad word. */
static bool parse_kinds(struct parser *P, char *list, uint8_t *out)
{
    unsigned bits = 0;
    while (*list) {
        while (*list == ' ' || *list == '\t' || *list == ',')
            list++;
        if (!*list)
            break;
        char *w = list;
        while (*list && *list != ',' && *list != ' ' && *list != '\t')
            list++;
        char save = *list;
        *list = 0;
        if (streq(w, "definite")) bits |= LM_SUPP_DEFINITE;
        else if (streq(w, "indirect")) bits |= LM_SUPP_INDIRECT;
        else if (streq(w, "possible")) bits |= LM_SUPP_POSSIBLE;
        else if (streq(w, "reachable")) bits |= LM_SUPP_REACHABLE;
        else if (streq(w, "all")) bits |= LM_SUPP_ALL;
        else if (streq(w, "none")) bits |= 0;
        else {
            bad(P, P->lineno, "unknown leak kind '%s' in match-leak-kinds"
                " (definite, indirect, possible, reachable, all, none)", w);
            return false;
        }
        *list = save;
    }
    *out = (uint8_t)bits;
    return true;
}

/* One line inside a valgrind block.  Returns false when the block is
 * malformed (already logged). */
static bool vg_line(struct parser *P, struct lm_supp_rule *r, int *state, char *ln)
{
    if (*state == 0) {                    /* the name */
        r->text = ln;
        *state = 1;
        return true;
    }
    if (*state == 1) {                    /* TOOL[,TOOL]:KIND */
        char *colon = NULL;
        for (char *p = ln; *p; p++)
            if (*p == ':')
                colon = p;
        if (!colon || colon == ln || !colon[1]) {
            bad(P, P->lineno, "expected TOOL:KIND (e.g. Memcheck:Leak), got '%s'", ln);
            return false;
        }
        *colon = 0;
        bool memcheck = false;
        for (char *t = ln; *t;) {
            char *e = t;
            while (*e && *e != ',')
                e++;
            char save = *e;
            *e = 0;
            memcheck |= streq(t, "Memcheck");
            *e = save;
            t = *e ? e + 1 : e;
        }
        *state = memcheck && streq(colon + 1, "Leak") ? 2 : 9;   /* 9: not ours */
        return true;
    }
    if (*state == 9)                      /* another tool's or kind's block */
        return true;
    if (has_prefix(ln, "match-leak-kinds:")) {
        if (*state != 2) {
            bad(P, P->lineno, "match-leak-kinds must come right after the kind line");
            return false;
        }
        *state = 3;
        return parse_kinds(P, ln + 17, &r->kinds);
    }
    struct lm_supp_frame f = { 0 };
    if (streq(ln, "...")) {
        f.type = F_DOTS;
    } else if (has_prefix(ln, "fun:") || has_prefix(ln, "obj:") || has_prefix(ln, "src:")) {
        f.type = ln[0] == 'f' ? F_FUN : ln[0] == 'o' ? F_OBJ : F_SRC;
        f.pat = ln + 4;
        if (f.type == F_SRC) {            /* src:FILE:LINE */
            char *c = NULL;
            for (char *p = ln + 4; *p; p++)
                if (*p == ':')
                    c = p;
            if (c && c[1]) {
                int v = 0;
                char *d = c + 1;
                while (*d >= '0' && *d <= '9' && v < 100000000)
                    v = v * 10 + (*d++ - '0');
                if (!*d) {
                    *c = 0;
                    f.line = v;
                }
            }
        }
        if (!*f.pat) {
            bad(P, P->lineno, "empty pattern in '%.4s'", ln);
            return false;
        }
    } else {
        bad(P, P->lineno, "expected fun:, obj:, src:, '...' or '}', got '%s'", ln);
        return false;
    }
    if (r->nframes == 0)
        r->frame0 = (uint32_t)P->s->frames.len;
    if (lm_mmvec_push(&P->s->frames, &f)) {
        P->oom = true;
        return false;
    }
    r->nframes++;
    *state = 4;
    return true;
}

static void commit_vg(struct parser *P, struct lm_supp_rule *r, int state, uint32_t start)
{
    if (state == 9)
        return;                           /* valid, not about leaks */
    if (state < 2) {
        bad(P, start, "suppression block ends before its TOOL:KIND line");
        return;
    }
    if (!r->nframes) {
        bad(P, start, "suppression '%s' has no fun:/obj:/src:/... line", r->text);
        return;
    }
    const struct lm_supp_frame *f0 = (const struct lm_supp_frame *)P->s->frames.data + r->frame0;
    r->implicit_top = f0->type == F_FUN && names_allocator(f0->pat);
    push_rule(P, r);
}

static void parse_lsan_line(struct parser *P, char *ln)
{
    char *colon = ln;
    while (*colon && *colon != ':')
        colon++;
    if (!*colon) {
        bad(P, P->lineno, "expected 'leak:PATTERN' or '{', got '%s'", ln);
        return;
    }
    *colon = 0;
    if (!streq(ln, "leak")) {
        bad(P, P->lineno, "unknown suppression type '%s' (leakmark knows leak:)", ln);
        return;
    }
    *colon = ':';
    if (!colon[1]) {
        bad(P, P->lineno, "empty pattern after 'leak:'");
        return;
    }
    struct lm_supp_rule r = { .type = R_LSAN, .kinds = LM_SUPP_ALL, .text = colon + 1,
                              .line_text = ln, .line = P->lineno };
    push_rule(P, &r);
}

static void parse_text(struct parser *P, char *t, size_t len)
{
    struct lm_supp_rule vr;
    int state = -1;                       /* -1: outside a block; -2: skipping one */
    uint32_t start = 0;
    char *end = t + len;
    for (char *ln = t; ln < end && !P->oom;) {
        char *nl = ln;
        while (nl < end && *nl != '\n')
            nl++;
        char *next = nl < end ? nl + 1 : end;
        P->lineno++;
        while (nl > ln && (nl[-1] == '\r' || nl[-1] == ' ' || nl[-1] == '\t'))
            nl--;
        *nl = 0;
        while (*ln == ' ' || *ln == '\t')
            ln++;
        char *cur = ln;
        ln = next;
        if (!*cur || *cur == '#')
            continue;
        if (state == -2) {                /* a malformed block, up to its '}' */
            if (streq(cur, "}"))
                state = -1;
            continue;
        }
        if (state == -1) {
            if (streq(cur, "{")) {
                vr = (struct lm_supp_rule){ .type = R_VG, .kinds = LM_SUPP_ALL };
                start = vr.line = P->lineno;
                state = 0;
            } else if (streq(cur, "}")) {
                bad(P, P->lineno, "'}' without '{'");
            } else {
                parse_lsan_line(P, cur);
            }
            continue;
        }
        if (streq(cur, "}")) {
            commit_vg(P, &vr, state, start);
            state = -1;
        } else if (streq(cur, "{")) {
            bad(P, P->lineno, "'{' inside the block opened at line %u (missing '}'?)", start);
            state = -2;
        } else if (!vg_line(P, &vr, &state, cur)) {
            state = -2;
        }
    }
    if (state >= 0)
        bad(P, start, "suppression block not closed by '}'");
    else if (state == -2)
        bad(P, P->lineno, "end of file inside a malformed block");
}

/* The file text into s->text (NUL-terminated), parsed. */
static int parse_owned(struct lm_supp_set *s, const char *name, size_t len)
{
    struct parser P = { .s = s, .name = name };
    s->text[len] = 0;
    parse_text(&P, s->text, len);
    s->errors += (size_t)P.errors;
    if (P.oom) {
        lm_log("suppressions %s: out of memory while parsing", name);
        return -1;
    }
    return P.errors;
}

int lm_supp_parse(struct lm_supp_set *s, const char *name, const char *text, size_t len)
{
    if (s->text)                          /* one text per set */
        return -1;
    size_t map = lm_align_up(len + 1, LM_PAGE_SIZE);
    void *p;
    if (lm_os_map(map, &p))
        return -1;
    s->text = p;
    s->text_map = map;
    __builtin_memcpy(s->text, text, len);
    return parse_owned(s, name, len);
}

static const char *errno_text(int e)
{
    switch (e) {
    case ENOENT: return "no such file";
    case EACCES: return "permission denied";
    case EISDIR: return "is a directory";
    case EFBIG: return "larger than 64 MiB";
    case ENOMEM: return "out of memory";
    default: return "see errno(3)";
    }
}

int lm_supp_load(struct lm_supp_set *s, const char *path)
{
    long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    int err = 0;
    size_t len = 0, map = 0;
    char *buf = NULL;
    if (fd < 0) {
        err = errno;
        goto fail;
    }
    for (;;) {
        if (len + 1 >= map) {             /* room for the data and a NUL */
            size_t nmap = map ? map * 2 : (size_t)64 << 10;
            void *p;
            if (nmap > MAX_FILE_BYTES + LM_PAGE_SIZE) {
                err = EFBIG;
                break;
            }
            if ((map ? lm_os_remap(buf, map, nmap, &p) : lm_os_map(nmap, &p)) != 0) {
                err = ENOMEM;
                break;
            }
            buf = p;
            map = nmap;
        }
        long n = syscall(SYS_read, (int)fd, buf + len, map - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = errno;
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    syscall(SYS_close, (int)fd);
    if (err) {
        if (buf)
            lm_os_unmap(buf, map);
        goto fail;
    }
    s->text = buf;
    s->text_map = map;
    parse_owned(s, path, len);
    return 0;
fail:
    lm_log("suppressions: cannot read '%s': errno %d (%s); no suppressions", path, err,
           errno_text(err));
    return err;
}

/* ---- matching one stack ---- */

static bool frame_match(const struct lm_supp_frame *f, const struct lm_sym *sym)
{
    switch (f->type) {
    case F_FUN:
        return lm_supp_glob_match(f->pat, sym->function ? sym->function : "???");
    case F_OBJ:
        return lm_supp_glob_match(f->pat, sym->module);
    default: {
        const char *file = sym->file ? sym->file : "???";
        if (!lm_supp_glob_match(f->pat, file) && !lm_supp_glob_match(f->pat, base_name(file)))
            return false;
        return !f->line || f->line == sym->line;
    }
    }
}

/* valgrind: frame lines against the stack from its top; "..." is a '*'
 * over frames, and a trailing implicit "..." lets the stack go on. */
static bool vg_match(const struct lm_supp_set *s, const struct lm_supp_rule *r,
                     const struct lm_sym *syms, int n)
{
    const struct lm_supp_frame *f = (const struct lm_supp_frame *)s->frames.data + r->frame0;
    size_t pn = r->nframes, pi = r->implicit_top ? 1 : 0, star_p = SIZE_MAX;
    int si = 0, star_s = 0;
    for (;;) {
        if (pi < pn && f[pi].type == F_DOTS) {
            star_p = ++pi;
            star_s = si;
            continue;
        }
        if (pi == pn)
            return true;
        if (si < n && frame_match(&f[pi], &syms[si])) {
            pi++;
            si++;
            continue;
        }
        if (star_p != SIZE_MAX && star_s < n) {
            pi = star_p;
            si = ++star_s;
            continue;
        }
        return false;
    }
}

static uint32_t lsan_match_stack(const struct lm_supp_set *s, const struct lm_sym *syms, int n)
{
    size_t nr = s->rules.len;
    for (int i = 0; i < n; i++) {
        for (size_t r = 0; r < nr; r++)
            if (rule_at(s, (uint32_t)r)->type == R_LSAN &&
                lm_supp_lsan_match(rule_at(s, (uint32_t)r)->text, syms[i].module))
                return (uint32_t)r;
        for (size_t r = 0; r < nr; r++) {
            const struct lm_supp_rule *x = rule_at(s, (uint32_t)r);
            if (x->type == R_LSAN && (lm_supp_lsan_match(x->text, syms[i].function) ||
                                      lm_supp_lsan_match(x->text, syms[i].file)))
                return (uint32_t)r;
        }
    }
    return LM_SUPP_NONE;
}

static void match_stack(struct lm_supp_set *s, uint32_t stack_id, uint32_t out[3])
{
    static const unsigned kind_bit[3] = { LM_SUPP_DEFINITE, LM_SUPP_INDIRECT, LM_SUPP_POSSIBLE };
    struct lm_sym syms[MAX_MATCH_FRAMES];
    const uintptr_t *pcs;
    int n = lm_stackdepot_get(stack_id, &pcs);
    if (n > MAX_MATCH_FRAMES)
        n = MAX_MATCH_FRAMES;
    for (int i = 0; i < n; i++)
        lm_symbolize(pcs[i], true, &syms[i]);
    s->matches++;
    uint32_t r = s->lsan_rules ? lsan_match_stack(s, syms, n) : LM_SUPP_NONE;
    out[0] = out[1] = out[2] = r;
    if (r != LM_SUPP_NONE)
        return;
    for (size_t k = 0; k < s->rules.len; k++) {
        const struct lm_supp_rule *x = rule_at(s, (uint32_t)k);
        if (x->type != R_VG)
            continue;
        unsigned want = 0;
        for (int j = 0; j < 3; j++)
            if (out[j] == LM_SUPP_NONE && (x->kinds & kind_bit[j]))
                want |= 1u << j;
        if (!want || !vg_match(s, x, syms, n))
            continue;
        for (int j = 0; j < 3; j++)
            if (want & (1u << j))
                out[j] = (uint32_t)k;
    }
}

static size_t cache_hash(uint32_t stack, size_t mask)
{
    return (size_t)(((uint64_t)stack * 0x9e3779b97f4a7c15ull) >> 24) & mask;
}

static struct lm_supp_cache_slot *cache_find(struct lm_supp_set *s, uint32_t stack, bool *found)
{
    size_t cap = s->cache.len;
    if ((s->cached + 1) * 2 > cap) {      /* grow: rehash into a new table */
        size_t ncap = cap ? cap * 2 : 256;
        lm_mmvec_t nv;
        lm_mmvec_init(&nv, sizeof(struct lm_supp_cache_slot));
        if (lm_mmvec_resize(&nv, ncap))
            return NULL;
        struct lm_supp_cache_slot *old = s->cache.data, *tab = nv.data;
        for (size_t i = 0; i < cap; i++) {
            if (!old[i].used)
                continue;
            size_t j = cache_hash(old[i].stack, ncap - 1);
            while (tab[j].used)
                j = (j + 1) & (ncap - 1);
            tab[j] = old[i];
        }
        lm_mmvec_free(&s->cache);
        s->cache = nv;
        cap = ncap;
    }
    struct lm_supp_cache_slot *tab = s->cache.data;
    size_t j = cache_hash(stack, cap - 1);
    while (tab[j].used && tab[j].stack != stack)
        j = (j + 1) & (cap - 1);
    *found = tab[j].used;
    return &tab[j];
}

uint32_t lm_supp_match(struct lm_supp_set *s, uint32_t stack_id, unsigned kind)
{
    if (lm_supp_empty(s))
        return LM_SUPP_NONE;
    int k = kind == LM_SUPP_DEFINITE ? 0 : kind == LM_SUPP_INDIRECT ? 1 : 2;
    bool found;
    struct lm_supp_cache_slot *slot = cache_find(s, stack_id, &found);
    if (slot && found)
        return slot->rule[k];
    uint32_t out[3];
    match_stack(s, stack_id, out);
    if (slot) {
        slot->stack = stack_id;
        slot->used = 1;
        for (int j = 0; j < 3; j++)
            slot->rule[j] = out[j];
        s->cached++;
    }
    return out[k];
}

/* ---- leaked nodes ---- */

int lm_supp_leaked_nodes(struct lm_supp_set *s, const struct lm_mark_result *res,
                         lm_mmvec_t *out)
{
    uint32_t n = lm_mark_leaked_count(res);
    lm_mmvec_reset(out);
    if (lm_mmvec_resize(out, n))
        return ENOMEM;
    uint8_t *st = out->data;
    const lm_leakgraph_t *g = res->graph_ok ? lm_mark_graph(res) : NULL;
    for (uint32_t v = 0; v < n; v++) {
        struct lm_block_ref b;
        lm_mark_leaked_block(res, v, &b);
        unsigned kind = g && lm_leakgraph_kind(g, v) == LM_LEAK_INDIRECT ? LM_SUPP_INDIRECT
                                                                          : LM_SUPP_DEFINITE;
        uint32_t r = lm_supp_match(s, b.stack_id, kind);
        st[v] = 0;
        if (r != LM_SUPP_NONE) {
            st[v] = LM_SUPP_NODE_MATCHED;
            lm_supp_hit(s, r, 1, b.size);
        }
    }
    if (!g)
        return 0;
    /* Topological SCC order: whatever suppresses an SCC is decided before
     * it is visited (edges go to the same or a later SCC). */
    uint32_t nscc = lm_leakgraph_scc_count(g);
    for (uint32_t c = 0; c < nscc; c++) {
        uint32_t cnt;
        const uint32_t *m = lm_leakgraph_scc_members(g, c, &cnt);
        bool any = false;
        for (uint32_t i = 0; i < cnt && !any; i++)
            any = st[m[i]] != 0;
        if (!any)
            continue;
        for (uint32_t i = 0; i < cnt; i++) {
            if (!st[m[i]])
                st[m[i]] = LM_SUPP_NODE_HELD;
            size_t ne;
            const lm_lg_edge_t *e = lm_leakgraph_out_edges(g, m[i], &ne);
            for (size_t k = 0; k < ne; k++)
                if (!st[e[k].to])
                    st[e[k].to] = LM_SUPP_NODE_HELD;
        }
    }
    return 0;
}

void lm_supp_write_used(const struct lm_supp_set *s, struct lm_bufw *w)
{
    bool any = false;
    for (size_t r = 0; r < s->rules.len; r++) {
        const struct lm_supp_rule *x = rule_at(s, (uint32_t)r);
        if (!x->hit_blocks)
            continue;
        if (!any)
            lm_bufw_puts(w, "Suppressions used:\n   blocks      bytes suppression\n");
        any = true;
        if (x->type == R_LSAN)
            lm_bufw_printf(w, "  %7zu %10zu %s\n", x->hit_blocks, x->hit_bytes, x->line_text);
        else
            lm_bufw_printf(w, "  %7zu %10zu {%s} (line %u)\n", x->hit_blocks, x->hit_bytes,
                           x->text, x->line);
    }
    if (any)
        lm_bufw_puts(w, "\n");
}

void lm_supp_write_json(const struct lm_supp_set *s, struct lm_jw *j)
{
    lm_jw_key(j, "suppressions");
    lm_jw_arr_begin(j);
    for (size_t r = 0; r < s->rules.len; r++) {
        const struct lm_supp_rule *x = rule_at(s, (uint32_t)r);
        if (!x->hit_blocks)
            continue;
        lm_jw_obj_begin(j);
        lm_jw_key(j, "type"); lm_jw_str(j, x->type == R_LSAN ? "leak" : "valgrind");
        lm_jw_key(j, "rule"); lm_jw_str(j, x->text);
        lm_jw_key(j, "line"); lm_jw_u64(j, x->line);
        lm_jw_key(j, "blocks"); lm_jw_u64(j, x->hit_blocks);
        lm_jw_key(j, "bytes"); lm_jw_u64(j, x->hit_bytes);
        lm_jw_obj_end(j);
    }
    lm_jw_arr_end(j);
}
