/*
 * roots.c - building the root set (see roots.h for the sources, their
 * order, what is excluded and the loader-lock argument).
 *
 * Owns: nothing global; every list belongs to the caller's struct
 * lm_roots.  Scratch lists (parsed /proc/self/maps, cut ranges) are
 * mmvecs local to one call and unmapped before it returns.
 *
 * Invariants: every range appended is non-empty and lies outside
 * leakmark's region; GLOBAL ranges are clipped to readable mappings and
 * MMAP ranges are made of resident pages of readable mappings, so reading
 * them (world stopped) cannot fault.
 *
 * Locking: none (one thread owns a root list).  dl_iterate_phdr takes the
 * loader's recursive lock: see lm_roots_with_loader_lock.  No malloc, no
 * stdio: /proc/self/maps is read with raw openat/read into a stack buffer,
 * residency comes from raw mincore.  Not async-signal-safe (dl_iterate_phdr).
 */
#include "roots.h"
#include "api.h"
#include "log.h"
#include "options.h"
#include "os.h"
#include "span.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- list primitives ---- */

void lm_roots_init(struct lm_roots *r)
{
    lm_mmvec_init(&r->ranges, sizeof(struct lm_root));
    lm_mmvec_init(&r->exclude, sizeof(struct lm_root));
    for (int k = 0; k < LM_ROOT_KINDS; k++)
        r->bytes[k] = r->count[k] = 0;
    r->error = 0;
}

void lm_roots_reset(struct lm_roots *r)
{
    lm_mmvec_reset(&r->ranges);
    lm_mmvec_reset(&r->exclude);
    for (int k = 0; k < LM_ROOT_KINDS; k++)
        r->bytes[k] = r->count[k] = 0;
    r->error = 0;
}

void lm_roots_free(struct lm_roots *r)
{
    lm_mmvec_free(&r->ranges);
    lm_mmvec_free(&r->exclude);
    lm_roots_reset(r);
}

static int push_range(lm_mmvec_t *v, uintptr_t lo, uintptr_t hi, uint32_t kind)
{
    struct lm_root e = { lo, hi, kind, 0 };
    return lm_mmvec_push(v, &e);
}

static int append(struct lm_roots *r, uintptr_t lo, uintptr_t hi, enum lm_root_kind kind)
{
    if (lo >= hi)
        return 0;
    int err = push_range(&r->ranges, lo, hi, kind);
    if (err) {
        if (!r->error)
            r->error = err;
        return err;
    }
    r->bytes[kind] += hi - lo;
    r->count[kind]++;
    return 0;
}

int lm_roots_add(struct lm_roots *r, uintptr_t lo, uintptr_t hi, enum lm_root_kind kind)
{
    if ((unsigned)kind >= LM_ROOT_KINDS || lo >= hi)
        return 0;
    uintptr_t rlo = lm_region_base, rhi = lm_region_base + lm_region_size;
    if (lm_region_size == 0 || hi <= rlo || lo >= rhi)
        return append(r, lo, hi, kind);
    int err = 0;
    if (lo < rlo)
        err = append(r, lo, rlo, kind);
    if (!err && hi > rhi)
        err = append(r, rhi, hi, kind);
    return err;
}

int lm_roots_exclude(struct lm_roots *r, uintptr_t lo, uintptr_t hi)
{
    if (lo >= hi)
        return 0;
    int err = push_range(&r->exclude, lo, hi, 0);
    if (err && !r->error)
        r->error = err;
    return err;
}

const char *lm_root_kind_name(enum lm_root_kind kind)
{
    static const char *const names[LM_ROOT_KINDS] = {
        "globals", "mmap", "stacks", "registers", "tls", "user"
    };
    return (unsigned)kind < LM_ROOT_KINDS ? names[kind] : "?";
}

void lm_roots_log(const struct lm_roots *r)
{
    if (lm_options.verbosity < 3)
        return;
    for (int k = 0; k < LM_ROOT_KINDS; k++)
        lm_log("roots: %-9s %zu ranges, %zu bytes", lm_root_kind_name((enum lm_root_kind)k),
               r->count[k], r->bytes[k]);
}

/* ---- /proc/self/maps ---- */

enum {
    MAP_R = 1, MAP_W = 2, MAP_PRIV = 4,
    MAP_ANON_OK = 8,        /* anonymous and not a special [name] */
};

struct map_ent {
    uintptr_t lo, hi;
    uint32_t flags;
    uint32_t pad;
};

static const char *parse_hex(const char *s, const char *end, uintptr_t *out)
{
    uintptr_t v = 0;
    for (; s < end; s++) {
        char c = *s;
        unsigned d;
        if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
        else break;
        v = v << 4 | d;
    }
    *out = v;
    return s;
}

static const char *skip_field(const char *s, const char *end)
{
    while (s < end && *s != ' ')
        s++;
    while (s < end && *s == ' ')
        s++;
    return s;
}

static bool has_prefix(const char *s, const char *end, const char *pre)
{
    for (; *pre; s++, pre++)
        if (s >= end || *s != *pre)
            return false;
    return true;
}

/* "lo-hi perms offset dev inode   path" */
static int parse_line(const char *s, size_t n, lm_mmvec_t *maps)
{
    const char *end = s + n;
    struct map_ent e = { 0, 0, 0, 0 };
    s = parse_hex(s, end, &e.lo);
    if (s >= end || *s != '-')
        return 0;
    s = parse_hex(s + 1, end, &e.hi);
    if (s + 5 > end || *s != ' ' || e.lo >= e.hi)
        return 0;
    s++;
    if (s[0] == 'r') e.flags |= MAP_R;
    if (s[1] == 'w') e.flags |= MAP_W;
    if (s[3] == 'p') e.flags |= MAP_PRIV;
    s = skip_field(s, end);          /* perms */
    s = skip_field(s, end);          /* offset */
    s = skip_field(s, end);          /* dev */
    uintptr_t inode = 0;
    while (s < end && *s >= '0' && *s <= '9')
        inode = inode * 10 + (uintptr_t)(*s++ - '0');
    while (s < end && *s == ' ')
        s++;
    /* s: the path, empty for plain anonymous memory */
    if (inode == 0 && (s == end || has_prefix(s, end, "[heap]") || has_prefix(s, end, "[anon:")))
        e.flags |= MAP_ANON_OK;
    return lm_mmvec_push(maps, &e);
}

static int read_maps(lm_mmvec_t *maps)
{
    long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    char buf[8192];
    size_t len = 0;
    bool skipping = false;   /* inside a line longer than buf: drop the rest */
    int err = 0;
    for (;;) {
        long got = syscall(SYS_read, (int)fd, buf + len, sizeof buf - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            err = errno;
            break;
        }
        if (got == 0)
            break;
        len += (size_t)got;
        size_t pos = 0;
        for (;;) {
            const char *nl = __builtin_memchr(buf + pos, '\n', len - pos);
            if (!nl)
                break;
            size_t ln = (size_t)(nl - (buf + pos));
            if (!skipping && !err)
                err = parse_line(buf + pos, ln, maps);
            skipping = false;
            pos += ln + 1;
        }
        __builtin_memmove(buf, buf + pos, len - pos);
        len -= pos;
        if (len == sizeof buf) {     /* a path longer than 8 KiB */
            if (!skipping && !err)
                err = parse_line(buf, len, maps);
            skipping = true;
            len = 0;
        }
    }
    if (len && !skipping && !err)
        err = parse_line(buf, len, maps);
    syscall(SYS_close, (int)fd);
    return err;
}

/* First mapping with hi > addr (maps are sorted and disjoint). */
static size_t maps_find(const lm_mmvec_t *maps, uintptr_t addr)
{
    const struct map_ent *m = maps->data;
    size_t lo = 0, hi = maps->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m[mid].hi <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- GLOBAL ---- */

struct phdr_ctx {
    lm_mmvec_t *segs;          /* struct lm_root, raw segments */
    struct lm_roots *roots;    /* for excluding our own segments */
    unsigned index;
    int err;
};

static bool object_is_ours(const struct dl_phdr_info *info)
{
    uintptr_t me = (uintptr_t)&lm_roots_collect;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && me >= lo && me - lo < ph->p_memsz)
            return true;
    }
    return false;
}

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct phdr_ctx *c = arg;
    unsigned index = c->index++;
    /* Our own data, unless lm_core lives in the executable (unit tests):
     * then the executable's globals are the program's. */
    if (index != 0 && object_is_ours(info)) {
        /* Not a root, and not an MMAP root either: the part of our .bss
         * past the file shows up in /proc/self/maps as anonymous memory
         * (and holds values such as lm_region_base). */
        for (unsigned i = 0; i < info->dlpi_phnum; i++) {
            const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
            if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W) || ph->p_memsz == 0)
                continue;
            uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
            if (c->roots)
                lm_roots_exclude(c->roots, lm_align_down(lo, LM_PAGE_SIZE),
                                 lm_align_up(lo + ph->p_memsz, LM_PAGE_SIZE));
        }
        return 0;
    }
    for (unsigned i = 0; i < info->dlpi_phnum && !c->err; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W) || !(ph->p_flags & PF_R) ||
            ph->p_memsz == 0)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        c->err = push_range(c->segs, lo, lo + ph->p_memsz, LM_ROOT_GLOBAL);
    }
    return 0;
}

int lm_roots_collect_globals(struct lm_roots *r)
{
    lm_mmvec_t segs = LM_MMVEC_INIT(sizeof(struct lm_root));
    lm_mmvec_t maps = LM_MMVEC_INIT(sizeof(struct map_ent));
    struct phdr_ctx c = { .segs = &segs, .roots = r };
    dl_iterate_phdr(phdr_cb, &c);
    int err = c.err ? c.err : read_maps(&maps);
    if (!err) {
        const struct map_ent *m = maps.data;
        for (size_t i = 0; i < segs.len && !err; i++) {
            const struct lm_root *s = (const struct lm_root *)segs.data + i;
            for (size_t j = maps_find(&maps, s->lo); j < maps.len && m[j].lo < s->hi; j++) {
                if (!(m[j].flags & MAP_R))
                    continue;
                uintptr_t lo = s->lo > m[j].lo ? s->lo : m[j].lo;
                uintptr_t hi = s->hi < m[j].hi ? s->hi : m[j].hi;
                if ((err = lm_roots_add(r, lo, hi, LM_ROOT_GLOBAL)) != 0)
                    break;
            }
        }
    }
    lm_mmvec_free(&segs);
    lm_mmvec_free(&maps);
    if (err && !r->error)
        r->error = err;
    return err;
}

/* ---- MMAP ---- */

static void sift_down(struct lm_root *a, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && a[c + 1].lo > a[c].lo)
            c++;
        if (a[i].lo >= a[c].lo)
            return;
        struct lm_root t = a[i];
        a[i] = a[c];
        a[c] = t;
        i = c;
    }
}

/* Sorts by lo (heap sort: no recursion, no allocation) and merges
 * overlapping or touching ranges in place. */
static void sort_merge(lm_mmvec_t *v)
{
    struct lm_root *a = v->data;
    size_t n = v->len;
    for (size_t i = n / 2; i-- > 0;)
        sift_down(a, i, n);
    for (size_t end = n; end > 1; end--) {
        struct lm_root t = a[0];
        a[0] = a[end - 1];
        a[end - 1] = t;
        sift_down(a, 0, end - 1);
    }
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (out && a[i].lo <= a[out - 1].hi) {
            if (a[i].hi > a[out - 1].hi)
                a[out - 1].hi = a[i].hi;
        } else {
            a[out++] = a[i];
        }
    }
    v->len = out;
}

/* Appends the resident pages of [lo, hi) as MMAP ranges. */
static int add_resident(struct lm_roots *r, uintptr_t lo, uintptr_t hi)
{
    unsigned char vec[4096];
    uintptr_t run = 0;   /* start of the current resident run, 0 = none */
    uintptr_t page = lm_align_down(lo, LM_PAGE_SIZE);
    int err = 0;
    while (page < hi && !err) {
        size_t pages = (lm_align_up(hi, LM_PAGE_SIZE) - page) / LM_PAGE_SIZE;
        if (pages > sizeof vec)
            pages = sizeof vec;
        if (syscall(SYS_mincore, (void *)page, pages * LM_PAGE_SIZE, vec) != 0)
            __builtin_memset(vec, 0, pages);   /* cannot tell: do not read */
        for (size_t i = 0; i < pages; i++, page += LM_PAGE_SIZE) {
            bool in = vec[i] & 1;
            if (in && !run)
                run = page < lo ? lo : page;
            else if (!in && run) {
                err = append(r, run, page, LM_ROOT_MMAP);
                run = 0;
            }
        }
    }
    if (run && !err)
        err = append(r, run, hi, LM_ROOT_MMAP);
    return err;
}

struct own_cuts {
    lm_mmvec_t *cuts;
    int err;
};

/* leakmark's own mappings, live or moved/unmapped during this check. */
static void cut_own(uintptr_t lo, uintptr_t hi, void *arg)
{
    struct own_cuts *oc = arg;
    if (!oc->err)
        oc->err = push_range(oc->cuts, lo, hi, 0);
}

int lm_roots_collect_mmap(struct lm_roots *r)
{
    lm_mmvec_t maps = LM_MMVEC_INIT(sizeof(struct map_ent));
    lm_mmvec_t cuts = LM_MMVEC_INIT(sizeof(struct lm_root));
    int err = read_maps(&maps);
    const struct map_ent *m = maps.data;
    /* What must not be listed: our region and unit tables, every range
     * already listed, exclusions, the dead part of thread stacks. */
    if (!err && lm_region_size) {
        size_t units = lm_region_size >> LM_UNIT_SHIFT;
        uintptr_t k = (uintptr_t)lm_unit_kind, u = (uintptr_t)lm_units;
        err = push_range(&cuts, lm_region_base, lm_region_base + lm_region_size, 0);
        if (!err)
            err = push_range(&cuts, k, k + lm_align_up(units, LM_PAGE_SIZE), 0);
        if (!err)
            err = push_range(&cuts, u, u + lm_align_up(units * sizeof(struct lm_unit), LM_PAGE_SIZE), 0);
    }
    if (!err) {
        struct own_cuts oc = { &cuts, 0 };
        lm_os_foreach_own(cut_own, &oc);
        err = oc.err;
    }
    for (size_t i = 0; i < r->ranges.len && !err; i++) {
        const struct lm_root *x = lm_roots_at(r, i);
        err = push_range(&cuts, x->lo, x->hi, 0);
        if (!err && x->kind == LM_ROOT_STACK) {
            /* the dead part below the SP, down to the mapping's start */
            size_t j = maps_find(&maps, x->lo);
            if (j < maps.len && m[j].lo < x->lo)
                err = push_range(&cuts, m[j].lo, x->lo, 0);
        }
    }
    for (size_t i = 0; i < r->exclude.len && !err; i++) {
        const struct lm_root *x = (const struct lm_root *)r->exclude.data + i;
        err = push_range(&cuts, x->lo, x->hi, 0);
    }
    if (!err)
        sort_merge(&cuts);
    const struct lm_root *cut = cuts.data;
    const uint32_t want = MAP_R | MAP_W | MAP_PRIV | MAP_ANON_OK;
    for (size_t i = 0; i < maps.len && !err; i++) {
        if ((m[i].flags & want) != want)
            continue;
        uintptr_t lo = m[i].lo, hi = m[i].hi;
        /* first cut ending after lo (cuts are sorted and disjoint) */
        size_t a = 0, b = cuts.len;
        while (a < b) {
            size_t mid = a + (b - a) / 2;
            if (cut[mid].hi <= lo) a = mid + 1; else b = mid;
        }
        for (; a < cuts.len && cut[a].lo < hi && !err; a++) {
            if (cut[a].lo > lo)
                err = add_resident(r, lo, cut[a].lo);
            if (cut[a].hi > lo)
                lo = cut[a].hi;
        }
        if (lo < hi && !err)
            err = add_resident(r, lo, hi);
    }
    lm_mmvec_free(&maps);
    lm_mmvec_free(&cuts);
    if (err && !r->error)
        r->error = err;
    return err;
}

/* ---- USER ---- */

struct user_ctx {
    struct lm_roots *r;
    const lm_mmvec_t *maps;
    int err;
};

/* A registered region, clipped to the readable mappings of the moment (a
 * region the program unmapped or protected is never read). */
static void user_cb(uintptr_t lo, uintptr_t hi, void *arg)
{
    struct user_ctx *c = arg;
    const struct map_ent *m = c->maps->data;
    for (size_t j = maps_find(c->maps, lo); j < c->maps->len && m[j].lo < hi && !c->err; j++) {
        if (!(m[j].flags & MAP_R))
            continue;
        c->err = lm_roots_add(c->r, lo > m[j].lo ? lo : m[j].lo, hi < m[j].hi ? hi : m[j].hi,
                              LM_ROOT_USER);
    }
}

int lm_roots_collect_user(struct lm_roots *r)
{
    if (!lm_api_regions_used())
        return 0;
    lm_mmvec_t maps = LM_MMVEC_INIT(sizeof(struct map_ent));
    struct user_ctx c = { r, &maps, read_maps(&maps) };
    if (!c.err)
        lm_api_foreach_region(user_cb, &c);
    lm_mmvec_free(&maps);
    if (c.err && !r->error)
        r->error = c.err;
    return c.err;
}

int lm_roots_collect(struct lm_roots *r)
{
    int err = lm_roots_collect_user(r);
    int e1 = lm_roots_collect_globals(r);
    if (!err)
        err = e1;
    if (lm_options.scan_mmap) {
        int e2 = lm_roots_collect_mmap(r);
        if (!err)
            err = e2;
    }
    return err;
}

/* ---- the loader lock ---- */

struct locked_call {
    void (*fn)(void *);
    void *arg;
    bool done;
};

static int locked_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)info;
    (void)size;
    struct locked_call *c = arg;
    c->fn(c->arg);
    c->done = true;
    return 1;                   /* stop the iteration */
}

void lm_roots_with_loader_lock(void (*fn)(void *arg), void *arg)
{
    struct locked_call c = { fn, arg, false };
    dl_iterate_phdr(locked_cb, &c);
    if (!c.done)                /* no object at all: cannot happen with ld.so */
        fn(arg);
}
