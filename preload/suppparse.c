/*
 * suppparse.c - reads and parses suppression files (formats in suppress.h):
 * LeakSanitizer's "leak:PATTERN" lines and valgrind's { name / Memcheck:Leak
 * / match-leak-kinds / fun: obj: src: ... } blocks, in place in one mmap'd
 * copy of the file (every line cut with a NUL, rules point into it).  A
 * line it cannot use gets one clear log line with the file and line number
 * and is skipped; the rest of the file still counts.
 *
 * No malloc, no stdio: the file is read with raw openat/read syscalls.
 * Reporter context only.
 */
#include "supprules.h"
#include "log.h"
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_FILE_BYTES ((size_t)64 << 20)   /* a bigger file is refused */

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
        if (supp_streq(w, "definite")) bits |= LM_SUPP_DEFINITE;
        else if (supp_streq(w, "indirect")) bits |= LM_SUPP_INDIRECT;
        else if (supp_streq(w, "possible")) bits |= LM_SUPP_POSSIBLE;
        else if (supp_streq(w, "reachable")) bits |= LM_SUPP_REACHABLE;
        else if (supp_streq(w, "all")) bits |= LM_SUPP_ALL;
        else if (supp_streq(w, "none")) bits |= 0;
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
            memcheck |= supp_streq(t, "Memcheck");
            *e = save;
            t = *e ? e + 1 : e;
        }
        *state = memcheck && supp_streq(colon + 1, "Leak") ? 2 : 9;   /* 9: not ours */
        return true;
    }
    if (*state == 9)                      /* another tool's or kind's block */
        return true;
    if (supp_has_prefix(ln, "match-leak-kinds:")) {
        if (*state != 2) {
            bad(P, P->lineno, "match-leak-kinds must come right after the kind line");
            return false;
        }
        *state = 3;
        return parse_kinds(P, ln + 17, &r->kinds);
    }
    struct lm_supp_frame f = { 0 };
    if (supp_streq(ln, "...")) {
        f.type = F_DOTS;
    } else if (supp_has_prefix(ln, "fun:") || supp_has_prefix(ln, "obj:") || supp_has_prefix(ln, "src:")) {
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
    if (!supp_streq(ln, "leak")) {
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
            if (supp_streq(cur, "}"))
                state = -1;
            continue;
        }
        if (state == -1) {
            if (supp_streq(cur, "{")) {
                vr = (struct lm_supp_rule){ .type = R_VG, .kinds = LM_SUPP_ALL };
                start = vr.line = P->lineno;
                state = 0;
            } else if (supp_streq(cur, "}")) {
                bad(P, P->lineno, "'}' without '{'");
            } else {
                parse_lsan_line(P, cur);
            }
            continue;
        }
        if (supp_streq(cur, "}")) {
            commit_vg(P, &vr, state, start);
            state = -1;
        } else if (supp_streq(cur, "{")) {
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
