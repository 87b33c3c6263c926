/*
 * symbolize.c - pc -> module/offset (_dl_find_object), function and file:line
 * (elfutils libdwfl), with a per-session cache (see symbolize.h).
 *
 * Owns: the session state below (cache table, libdwfl handle, stats, the
 * copies of versioned symbol names "f@@GLIBC_2.34" cut at '@') and the
 * cached executable path.  Not thread-safe: the reporter runs one
 * session at a time.  libdwfl may malloc - reporter context only, never
 * inside malloc or a signal handler; no loader lock is taken (the report
 * runs with the world stopped, where a stopped dlopen may hold it).
 * Lookups block stack capture on this thread (backtrace.h) so that the
 * allocations libdwfl makes inside leakmark's allocator do not pay for an
 * unwind nor fill the stack depot.
 *
 * Cache invariants: cap is 0 or a power of two; count * 2 <= cap; key 0
 * marks an empty slot (address 0 is never looked up, it resolves to "?"
 * without caching).
 */
#include "symbolize.h"
#include "backtrace.h"
#include "os.h"

#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <link.h>
#include <sys/syscall.h>
#include <unistd.h>

#pragma weak _dl_find_object     /* glibc >= 2.35; without it libdwfl names modules */

struct cache_entry {
    uintptr_t key;              /* lookup address (pc or pc - 1) */
    struct lm_sym sym;
};

static struct {
    struct cache_entry *tab;
    size_t cap, count, map_bytes;
    Dwfl *dwfl;
    bool dwfl_tried;
    struct lm_symbolize_stats stats;
} S;

/* Copies of symbol names without their "@VERSION" suffix, in mmap'd
 * chunks chained through their first word; freed by lm_symbolize_end. */
#define NAME_CHUNK ((size_t)64 << 10)
static struct {
    char *chunk;                /* current chunk (first word: previous) */
    size_t used;
} names;

static const char *strip_version(const char *name)
{
    size_t n = 0;
    while (name[n] && name[n] != '@')
        n++;
    if (!name[n] || n == 0)
        return name;
    size_t need = n + 1, hdr = sizeof(char *);
    if (need > NAME_CHUNK - hdr)
        return name;
    if (!names.chunk || names.used + need > NAME_CHUNK) {
        void *p;
        if (lm_os_map(NAME_CHUNK, &p) != 0)
            return name;
        *(char **)p = names.chunk;
        names.chunk = p;
        names.used = hdr;
    }
    char *out = names.chunk + names.used;
    for (size_t i = 0; i < n; i++)
        out[i] = name[i];
    out[n] = 0;
    names.used += need;
    return out;
}

static void names_free(void)
{
    while (names.chunk) {
        char *prev = *(char **)names.chunk;
        lm_os_unmap(names.chunk, NAME_CHUNK);
        names.chunk = prev;
    }
    names.used = 0;
}

static char exe_buf[4096];
static bool exe_done;

const char *lm_exe_path(void)
{
    if (!exe_done) {
        long n = syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", exe_buf,
                         sizeof exe_buf - 1);
        if (n <= 0) {
            exe_buf[0] = '?';
            n = 1;
        }
        exe_buf[n] = 0;
        exe_done = true;
    }
    return exe_buf;
}

/* ---- cache ---- */

static size_t hash_addr(uintptr_t a, size_t cap)
{
    uint64_t h = (uint64_t)a * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 17) & (cap - 1);
}

static void cache_free(void)
{
    if (S.tab)
        lm_os_unmap(S.tab, S.map_bytes);
    S.tab = NULL;
    S.cap = S.count = S.map_bytes = 0;
}

/* Doubles the table (or creates it).  On failure the old table stays. */
static bool cache_grow(void)
{
    size_t ncap = S.cap ? S.cap * 2 : 1024;
    size_t bytes = lm_align_up(ncap * sizeof(struct cache_entry), LM_PAGE_SIZE);
    void *p;
    if (lm_os_map(bytes, &p) != 0)
        return false;
    struct cache_entry *nt = p;
    for (size_t i = 0; i < S.cap; i++) {
        if (!S.tab[i].key)
            continue;
        size_t j = hash_addr(S.tab[i].key, ncap);
        while (nt[j].key)
            j = (j + 1) & (ncap - 1);
        nt[j] = S.tab[i];
    }
    if (S.tab)
        lm_os_unmap(S.tab, S.map_bytes);
    S.tab = nt;
    S.cap = ncap;
    S.map_bytes = bytes;
    return true;
}

static struct cache_entry *cache_find(uintptr_t key)
{
    if (!S.cap)
        return NULL;
    for (size_t j = hash_addr(key, S.cap);; j = (j + 1) & (S.cap - 1)) {
        if (S.tab[j].key == key)
            return &S.tab[j];
        if (!S.tab[j].key)
            return NULL;
    }
}

static void cache_put(uintptr_t key, const struct lm_sym *sym)
{
    if ((S.count + 1) * 2 > S.cap && !cache_grow())
        return;                         /* no memory: just don't cache */
    size_t j = hash_addr(key, S.cap);
    while (S.tab[j].key)
        j = (j + 1) & (S.cap - 1);
    S.tab[j].key = key;
    S.tab[j].sym = *sym;
    S.count++;
}

/* ---- resolution ---- */

/* One loaded object as a libdwfl module: [lowest, highest) address of its
 * PT_LOAD segments, named by its path (the program: /proc/self/exe).
 * libdwfl opens the file when a lookup first needs it (find_elf). */
static int report_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    Dwfl *d = arg;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t a = (uintptr_t)info->dlpi_addr + ph->p_vaddr;
        if (a < lo)
            lo = a;
        if (a + ph->p_memsz > hi)
            hi = a + ph->p_memsz;
    }
    const char *name = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : NULL;
    if (lo < hi)
        dwfl_report_module(d, name ? name : lm_exe_path(), lo, hi);
    return 0;
}

static Dwfl *dwfl_session(void)
{
    if (S.dwfl_tried)
        return S.dwfl;
    S.dwfl_tried = true;
    static char *debuginfo_path;        /* NULL: libdwfl's default */
    static const Dwfl_Callbacks cb = {
        .find_elf = dwfl_linux_proc_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .debuginfo_path = &debuginfo_path,
    };
    Dwfl *d = dwfl_begin(&cb);
    if (!d)
        return NULL;
    /* The loaded objects from the loader's list, not libdwfl's own
     * dwfl_linux_proc_report: that one reads /proc/self/maps with fopen,
     * which waits for stdio's list of streams - held for ever by a thread
     * stopped (or blocked in a write) inside fflush(NULL) or fclose.  The
     * check calls this inside its dl_iterate_phdr (a recursive lock). */
    dwfl_report_begin(d);
    dl_iterate_phdr(report_object, d);
    if (dwfl_report_end(d, NULL, NULL) != 0) {
        dwfl_end(d);
        return NULL;
    }
    S.dwfl = d;
    S.stats.dwfl_ok = true;
    return d;
}

static void resolve(uintptr_t a, struct lm_sym *out)
{
    out->module = "?";
    out->bias = 0;
    out->function = NULL;
    out->fn_start = 0;
    out->file = NULL;
    out->line = 0;

    /* The loaded object, through _dl_find_object: lock-free.  dladdr
     * would take the loader's dl_load_lock, which a thread stopped inside
     * dlopen may hold while the report is written - a deadlock at exit.
     * Function names then come from libdwfl alone (.symtab, else
     * .dynsym), which is where dladdr found them too. */
    struct dl_find_object found;
    if (_dl_find_object && _dl_find_object((void *)a, &found) == 0 && found.dlfo_link_map) {
        const struct link_map *lmap = found.dlfo_link_map;
        /* the main program is the first link map, named "" (or by argv[0]
         * at times): use /proc/self/exe */
        bool main_map = !lmap->l_prev || !lmap->l_name || !lmap->l_name[0];
        out->module = main_map ? lm_exe_path() : lmap->l_name;
        out->bias = (uintptr_t)lmap->l_addr;
    }

    Dwfl *d = dwfl_session();
    Dwfl_Module *m = d ? dwfl_addrmodule(d, a) : NULL;
    Dwarf_Addr mstart = 0, mend = 0;
    /* libdwfl answers with the last module for any address above it */
    if (m && (!dwfl_module_info(m, NULL, &mstart, &mend, NULL, NULL, NULL, NULL) ||
              a < mstart || a >= mend))
        m = NULL;
    if (!m) {
        /* the loader's [l_map_start, l_map_end) (what _dl_find_object reads) is
         * [x, ~0) for ld.so here: without a mapping behind the address
         * (libdwfl reads /proc/self/maps) it is unknown */
        if (d || a >= ((uintptr_t)1 << 47))
            *out = (struct lm_sym){ .module = "?" };
        return;
    }
    if (out->module[0] == '?') {        /* no loader object: vdso, mapped ELF */
        const char *name = dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        if (name) {
            out->module = name;
            out->bias = (uintptr_t)mstart;
        }
    }
    GElf_Off off = 0;
    GElf_Sym sym;
    const char *fn = dwfl_module_addrinfo(m, a, &off, &sym, NULL, NULL, NULL);
    if (fn && fn[0]) {
        out->function = strip_version(fn);
        out->fn_start = a - (uintptr_t)off;
    }
    Dwfl_Line *ln = dwfl_module_getsrc(m, a);
    if (ln) {
        int line = 0;
        const char *file = dwfl_lineinfo(ln, NULL, &line, NULL, NULL, NULL);
        if (file && file[0]) {
            out->file = file;
            out->line = line;
        }
    }
}

bool lm_symbolize(uintptr_t pc, bool is_return, struct lm_sym *out)
{
    uintptr_t a = is_return && pc ? pc - 1 : pc;
    S.stats.lookups++;
    if (a == 0) {
        *out = (struct lm_sym){ .module = "?" };
        return false;
    }
    struct cache_entry *e = cache_find(a);
    if (e) {
        *out = e->sym;
    } else {
        S.stats.resolved++;
        lm_backtrace_thread_block();
        resolve(a, out);
        lm_backtrace_thread_unblock();
        cache_put(a, out);
    }
    return out->module[0] != '?' || out->module[1] != 0;
}

void lm_symbolize_begin(void)
{
    if (S.tab) {
        for (size_t i = 0; i < S.cap; i++)
            S.tab[i].key = 0;
        S.count = 0;
    }
    bool ok = S.stats.dwfl_ok;
    S.stats = (struct lm_symbolize_stats){ .dwfl_ok = ok };
}

void lm_symbolize_end(void)
{
    cache_free();
    names_free();
    if (S.dwfl) {
        lm_backtrace_thread_block();
        dwfl_end(S.dwfl);
        lm_backtrace_thread_unblock();
    }
    S.dwfl = NULL;
    S.dwfl_tried = false;
    S.stats.dwfl_ok = false;
}

void lm_symbolize_get_stats(struct lm_symbolize_stats *out)
{
    *out = S.stats;
}
