/*
 * symbols.c - offline pc -> module+offset, function, file:line (see
 * symbols.h).
 *
 * Per dump module: a lazily opened offline Dwfl holding that one file.
 * libdwfl places an ET_DYN file at an address of its choosing, so a
 * lookup translates: file vaddr = pc - dump bias; dwfl address = file
 * vaddr + the module's dwfl bias.
 *
 * Cache: open addressing on pc, doubling at half full; entries own their
 * function and file strings.  Not thread-safe (one session per thread).
 */
#include "symbols.h"

#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct mod_state {
    bool tried;
    Dwfl *dwfl;
    Dwfl_Module *mod;
    Dwarf_Addr dwfl_bias;
};

struct entry {
    uint64_t pc;                /* 0: empty */
    struct an_sym sym;
};

struct an_symtab {
    const struct an_dump *d;
    FILE *warn;
    struct mod_state *mods;
    struct entry *tab;
    size_t cap, count;
};

static char *debuginfo_path;
static const Dwfl_Callbacks offline_cb = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

struct an_symtab *an_sym_open(const struct an_dump *d, FILE *warn)
{
    struct an_symtab *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->d = d;
    t->warn = warn;
    t->mods = calloc(d->nmodules ? d->nmodules : 1, sizeof *t->mods);
    if (!t->mods) {
        free(t);
        return NULL;
    }
    return t;
}

void an_sym_close(struct an_symtab *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->d->nmodules; i++)
        if (t->mods[i].dwfl)
            dwfl_end(t->mods[i].dwfl);
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->tab[i].pc)
            continue;
        free((char *)t->tab[i].sym.function);
        free((char *)t->tab[i].sym.file);
    }
    free(t->tab);
    free(t->mods);
    free(t);
}

static void hex(char *out, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = 0;
}

/* A path from the dump on one line: control bytes (a hostile dump's
 * newlines) as \xNN. */
static void put_path(FILE *f, const char *p)
{
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
}

static void open_module(struct an_symtab *t, size_t i)
{
    struct mod_state *s = &t->mods[i];
    const struct an_module *m = &t->d->modules[i];
    s->tried = true;
    if (!m->path[0] || m->path[0] == '[')      /* [vdso] and the like */
        return;
    struct stat st;                             /* a FIFO would block the open */
    if (stat(m->path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (t->warn) {
            fputs("leakmark-analyze: warning: ", t->warn);
            put_path(t->warn, m->path);
            fputs(": not a regular file; its frames show module+offset\n", t->warn);
        }
        return;
    }
    Dwfl *dw = dwfl_begin(&offline_cb);
    if (!dw)
        return;
    dwfl_report_begin(dw);
    Dwfl_Module *mod = dwfl_report_offline(dw, m->path, m->path, -1);
    dwfl_report_end(dw, NULL, NULL);
    if (!mod) {
        if (t->warn) {
            fputs("leakmark-analyze: warning: ", t->warn);
            put_path(t->warn, m->path);
            fprintf(t->warn, ": cannot read it (%s); its frames show module+offset\n",
                    dwfl_errmsg(-1));
        }
        dwfl_end(dw);
        return;
    }
    if (m->build_id_len) {
        const unsigned char *bits = NULL;
        GElf_Addr vaddr;
        int n = dwfl_module_build_id(mod, &bits, &vaddr);
        if (n != (int)m->build_id_len || memcmp(bits, m->build_id, m->build_id_len) != 0) {
            char want[129], have[129] = "none";
            hex(want, m->build_id, m->build_id_len);
            if (n > 0)
                hex(have, bits, (size_t)n);
            if (t->warn) {
                fputs("leakmark-analyze: warning: ", t->warn);
                put_path(t->warn, m->path);
                fprintf(t->warn, ": build-id on disk %s differs from the dump's %s (the file"
                        " changed since the dump); its frames show module+offset\n", have, want);
            }
            dwfl_end(dw);
            return;
        }
    }
    Dwarf_Addr bias = 0;
    if (!dwfl_module_getelf(mod, &bias)) {
        dwfl_end(dw);
        return;
    }
    s->dwfl = dw;
    s->mod = mod;
    s->dwfl_bias = bias;
}

static char *dup_name(const char *name)
{
    size_t n = strcspn(name, "@");       /* "f@@GLIBC_2.34" -> "f" */
    if (n == 0)
        n = strlen(name);
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, name, n);
        s[n] = 0;
    }
    return s;
}

static void resolve(struct an_symtab *t, uint64_t pc, struct an_sym *out)
{
    *out = (struct an_sym){ .module = "?" };
    uint64_t a = pc ? pc - 1 : 0;
    const struct an_module *m = a ? an_dump_module_at(t->d, a) : NULL;
    if (!m)
        return;
    out->module = m->path;
    out->bias = m->bias;
    size_t i = (size_t)(m - t->d->modules);
    if (!t->mods[i].tried)
        open_module(t, i);
    struct mod_state *s = &t->mods[i];
    if (!s->mod)
        return;
    Dwarf_Addr da = a - m->bias + s->dwfl_bias;
    GElf_Off off = 0;
    GElf_Sym sym;
    const char *fn = dwfl_module_addrinfo(s->mod, da, &off, &sym, NULL, NULL, NULL);
    if (fn && fn[0])
        out->function = dup_name(fn);
    Dwfl_Line *ln = dwfl_module_getsrc(s->mod, da);
    if (ln) {
        int line = 0;
        const char *file = dwfl_lineinfo(ln, NULL, &line, NULL, NULL, NULL);
        if (file && file[0] && (out->file = strdup(file)))
            out->line = line;
    }
}

static size_t slot(uint64_t pc, size_t cap)
{
    return (size_t)((pc * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

static bool grow(struct an_symtab *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 256;
    struct entry *nt = calloc(ncap, sizeof *nt);
    if (!nt)
        return false;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->tab[i].pc)
            continue;
        size_t j = slot(t->tab[i].pc, ncap);
        while (nt[j].pc)
            j = (j + 1) & (ncap - 1);
        nt[j] = t->tab[i];
    }
    free(t->tab);
    t->tab = nt;
    t->cap = ncap;
    return true;
}

void an_sym_lookup(struct an_symtab *t, uint64_t pc, struct an_sym *out)
{
    if (!pc) {
        *out = (struct an_sym){ .module = "?" };
        return;
    }
    if (t->cap) {
        for (size_t j = slot(pc, t->cap); t->tab[j].pc; j = (j + 1) & (t->cap - 1))
            if (t->tab[j].pc == pc) {
                *out = t->tab[j].sym;
                return;
            }
    }
    resolve(t, pc, out);
    if ((t->count + 1) * 2 > t->cap && !grow(t)) {
        /* not cached: the strings would leak; keep module+offset only */
        free((char *)out->function);
        free((char *)out->file);
        out->function = out->file = NULL;
        out->line = 0;
        return;
    }
    size_t j = slot(pc, t->cap);
    while (t->tab[j].pc)
        j = (j + 1) & (t->cap - 1);
    t->tab[j].pc = pc;
    t->tab[j].sym = *out;
    t->count++;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

char *an_sym_frame_key(struct an_symtab *t, uint64_t pc)
{
    struct an_sym s;
    an_sym_lookup(t, pc, &s);
    char buf[4096];
    if (s.function)
        snprintf(buf, sizeof buf, "%s %s:%d", s.function, s.file ? base_name(s.file) : "?",
                 s.line);
    else
        snprintf(buf, sizeof buf, "%s+0x%llx", base_name(s.module),
                 (unsigned long long)(pc - s.bias));
    return strdup(buf);
}
