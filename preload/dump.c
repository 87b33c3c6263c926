/*
 * dump.c - owns the heap dump serialiser (dump.h): one finished mark and
 * the still heap behind it, out as a dump_format.h version 1 file.
 *
 * Order of the file: header, PROCESS, MODULE..., STACK... (only stacks a
 * live block uses, ascending id), BLOCKS... (address order), EDGES,
 * GENTOTALS, SUMMARY, END.  Records are built in an mmvec (payload) and
 * then go out as type + length + payload through one lm_bufw with a
 * 256 KiB mapped buffer.
 *
 * Address order: lm_foreach_live_block walks the units in order, arena
 * blocks and large heads interleaved: that is address order.  The marker numbers leaked blocks in
 * the same (unit, index) order, so the k-th leaked block met by the walk is
 * leak-graph node k (checked per block; lm_mark_find_leaked otherwise).
 *
 * Per block: class from the mark (reachable / possible / definite /
 * indirect; suppressed is never written, see dump.h), generation (as it is
 * once this dump, a scan of every generation, is done: what a report made
 * right after says) and age (a lower bound, to the last scan) from the
 * block's birth stamp (gen.h),
 * unreachable scans: for leaked blocks the consecutive count carried by
 * unref.h including this scan (1 when this dump is the first to see the
 * block unreachable), 0 otherwise.  The walk also writes the next unref
 * table, published once every block was seen.
 *
 * Invariants: no malloc, no stdio, no locks; reads the heap without
 * faulting (same checks as lookup.c).  One dump at a time per caller
 * (all state is on the stack or in mappings it owns).
 */
#include "dump.h"
#include "arena.h"
#include "block.h"
#include "gen.h"
#include "jsonw.h"
#include "log.h"
#include "mmvec.h"
#include "os.h"
#include "span.h"
#include "stackdepot.h"
#include "threads.h"
#include "unref.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

size_t lm_dump_fail_after;

#define WBUF_SIZE ((size_t)256 << 10)

struct dump {
    struct lm_bufw w;
    lm_mmvec_t rec;            /* uint8_t: payload being built */
    lm_mmvec_t stack_bits;     /* uint64_t: stack ids in use */
    lm_mmvec_t node_index;     /* uint32_t: leak node -> file block index */
    const struct lm_mark_result *res;
    struct lm_dump_stats st;
    uint32_t nrecords;
    int err;
    /* block walk */
    uintptr_t prev_addr;
    uint32_t in_rec, next_leaked;
    uint64_t file_index;
    uint64_t gen_blocks[3], gen_bytes[3];
    struct lm_unref_walk unref;
    uint64_t snap_ns;
};

/* ---- bytes ---- */

static void put(struct dump *d, const void *p, size_t n)
{
    if (d->err || n == 0)
        return;
    size_t at = d->rec.len;
    if (lm_mmvec_resize(&d->rec, at + n) != 0) {
        d->err = ENOMEM;
        return;
    }
    memcpy((uint8_t *)d->rec.data + at, p, n);
}

static size_t varint_enc(uint8_t *b, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    return n;
}

static void put_varint(struct dump *d, uint64_t v)
{
    uint8_t b[10];
    put(d, b, varint_enc(b, v));
}

static void le_bytes(uint8_t *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(struct dump *d, uint64_t v)
{
    uint8_t b[8];
    le_bytes(b, v, 8);
    put(d, b, 8);
}

static void out(struct dump *d, const void *p, size_t n)
{
    if (lm_dump_fail_after && d->w.total + n > lm_dump_fail_after && !d->w.err) {
        size_t part = lm_dump_fail_after > d->w.total ? lm_dump_fail_after - d->w.total : 0;
        lm_bufw_write(&d->w, p, part);
        lm_bufw_flush(&d->w);
        d->w.err = ENOSPC;
        return;
    }
    lm_bufw_write(&d->w, p, n);
}

/* Emits the record built in d->rec (prefixed by `count` as a varint when
 * with_count) and empties the payload. */
static void emit(struct dump *d, uint32_t type, bool with_count, uint64_t count)
{
    if (d->err)
        return;
    uint8_t hdr[8 + 10];
    uint8_t cnt[10];
    size_t nc = with_count ? varint_enc(cnt, count) : 0;
    size_t len = d->rec.len + nc;
    if (len > UINT32_MAX) {
        d->err = EFBIG;
        return;
    }
    le_bytes(hdr, type, 4);
    le_bytes(hdr + 4, len, 4);
    out(d, hdr, 8);
    out(d, cnt, nc);
    out(d, d->rec.data, d->rec.len);
    d->st.records++;
    d->nrecords++;
    if (type == LM_REC_BLOCKS)
        d->st.block_bytes += 8 + len;
    lm_mmvec_reset(&d->rec);
}

/* ---- header and PROCESS ---- */

static void write_header(struct dump *d, const struct lm_dump_info *info)
{
    uint8_t h[LM_DUMP_HEADER_SIZE];
    memset(h, 0, sizeof h);
    memcpy(h, LM_DUMP_MAGIC, LM_DUMP_MAGIC_SIZE);
    le_bytes(h + 8, LM_DUMP_VERSION, 4);
    le_bytes(h + 12, LM_DUMP_HEADER_SIZE, 4);
    le_bytes(h + 16, (uint64_t)(info->pid ? info->pid : lm_os_getpid()), 4);
    le_bytes(h + 20, info->trigger, 4);
    uint64_t wall = info->wall_ns;
    if (!wall) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        wall = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    }
    le_bytes(h + 24, wall, 8);
    le_bytes(h + 32, info->pause_ns, 8);
    le_bytes(h + 40, info->scan_ns, 8);
    le_bytes(h + 48, info->seq, 4);
    le_bytes(h + 52, sizeof(void *), 4);
    out(d, h, sizeof h);
}

static void write_process(struct dump *d)
{
    void *buf;
    const size_t cap = 64 << 10;
    if (lm_os_map(cap, &buf) != 0) {
        d->err = ENOMEM;
        return;
    }
    char *s = buf;
    long n = syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", s, (long)(cap - 1));
    if (n < 0)
        n = 0;
    put_varint(d, (uint64_t)n);
    put(d, s, (size_t)n);
    long c = lm_proc_read("/proc/self/cmdline", s, cap);
    if (c < 0)
        c = 0;
    if (c > 0 && s[c - 1] == 0)
        c--;                                  /* no NUL after the last one */
    put_varint(d, (uint64_t)c);
    put(d, s, (size_t)c);
    emit(d, LM_REC_PROCESS, false, 0);
    lm_os_unmap(buf, cap);
}

/* ---- MODULE ---- */

static size_t build_id(const struct dl_phdr_info *info, const uint8_t **out)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        const uint8_t *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
            size_t name = (nh->n_namesz + 3u) & ~3u, desc = (nh->n_descsz + 3u) & ~3u;
            const uint8_t *data = p + sizeof *nh + name;
            if (data + nh->n_descsz > end)
                break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
                memcmp(p + sizeof *nh, "GNU", 4) == 0) {
                *out = data;
                return nh->n_descsz;
            }
            p = data + desc;
        }
    }
    return 0;
}

static int module_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct dump *d = arg;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t s = info->dlpi_addr + lm_align_down(ph->p_vaddr, LM_PAGE_SIZE);
        uintptr_t e = info->dlpi_addr + lm_align_up(ph->p_vaddr + ph->p_memsz, LM_PAGE_SIZE);
        if (s < lo)
            lo = s;
        if (e > hi)
            hi = e;
    }
    if (hi == 0)
        return 0;
    char exe[4096];
    const char *path = info->dlpi_name ? info->dlpi_name : "";
    size_t plen = strlen(path);
    if (plen == 0 && d->st.modules == 0) {   /* the executable */
        long n = syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", exe, (long)sizeof exe);
        if (n > 0) {
            path = exe;
            plen = (size_t)n;
        }
    }
    const uint8_t *id = NULL;
    size_t idlen = build_id(info, &id);
    put_varint(d, d->st.modules);
    put_u64(d, lo);
    put_u64(d, hi);
    put_u64(d, info->dlpi_addr);
    put_varint(d, idlen);
    put(d, id, idlen);
    put_varint(d, plen);
    put(d, path, plen);
    emit(d, LM_REC_MODULE, false, 0);
    d->st.modules++;
    return 0;
}

/* ---- the block walk, in address order ---- */

static void note_stack(const struct lm_block_ref *b, void *arg)
{
    struct dump *d = arg;
    if (!b->stack_id || d->err)
        return;
    size_t word = b->stack_id >> 6;
    if (word >= d->stack_bits.len && lm_mmvec_resize(&d->stack_bits, word + 1) != 0) {
        d->err = ENOMEM;
        return;
    }
    ((uint64_t *)d->stack_bits.data)[word] |= 1ull << (b->stack_id & 63);
}

static void write_stacks(struct dump *d)
{
    const uint64_t *bits = d->stack_bits.data;
    for (size_t w = 0; w < d->stack_bits.len && !d->err; w++) {
        for (uint64_t m = bits[w]; m; m &= m - 1) {
            uint32_t id = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(m));
            const uintptr_t *pcs;
            int n = lm_stackdepot_get(id, &pcs);
            put_varint(d, id);
            put_varint(d, (uint64_t)(n > 0 ? n : 0));
            for (int i = 0; i < n; i++)
                put_u64(d, pcs[i]);
            emit(d, LM_REC_STACK, false, 0);
            d->st.stacks++;
        }
    }
}

static uint8_t block_class(struct dump *d, const struct lm_block_ref *b, unsigned *unref)
{
    const struct lm_mark_result *res = d->res;
    *unref = 0;
    switch (lm_mark_block_state(res, b)) {
    case LM_MARK_POSSIBLE:
        return LM_DUMP_POSSIBLE;
    case LM_MARK_LEAKED: {
        bool reported;
        *unref = lm_unref_visit(&d->unref, b, &reported);
        uint32_t node = d->next_leaked;
        struct lm_block_ref lb;
        if (node < lm_mark_leaked_count(res))
            lm_mark_leaked_block(res, node, &lb);
        if (node >= lm_mark_leaked_count(res) || lb.start != b->start)
            node = lm_mark_find_leaked(res, b->start);
        if (node == LM_LG_NONE)
            return LM_DUMP_DEFINITE;
        d->next_leaked = node + 1;
        if (node < d->node_index.len)
            ((uint32_t *)d->node_index.data)[node] = (uint32_t)d->file_index;
        if (res->graph_ok && lm_leakgraph_kind(&res->graph, node) == LM_LEAK_INDIRECT)
            return LM_DUMP_INDIRECT;
        return LM_DUMP_DEFINITE;
    }
    default:
        return LM_DUMP_REACHABLE;
    }
}

static void flush_blocks(struct dump *d)
{
    if (d->in_rec)
        emit(d, LM_REC_BLOCKS, true, d->in_rec);
    d->in_rec = 0;
}

static void put_block(const struct lm_block_ref *b, void *arg)
{
    struct dump *d = arg;
    if (d->err)
        return;
    unsigned unref;
    uint8_t cls = block_class(d, b, &unref);
    struct lm_gen_info gi;
    lm_gen_classify_after(b->gen, d->snap_ns, LM_GEN_OLD, &gi);
    unsigned gen = gi.gen;
    d->gen_blocks[gen]++;
    d->gen_bytes[gen] += b->size;
    uint8_t e[48];
    size_t n = varint_enc(e, b->start - d->prev_addr);
    n += varint_enc(e + n, b->size);
    n += varint_enc(e + n, b->stack_id);
    e[n++] = (uint8_t)(cls | gen << 3);
    n += varint_enc(e + n, gi.age_ms);
    n += varint_enc(e + n, unref);
    put(d, e, n);
    d->prev_addr = b->start;
    d->file_index++;
    d->st.blocks++;
    if (++d->in_rec == LM_DUMP_BLOCKS_PER_REC)
        flush_blocks(d);
}

static void write_edges(struct dump *d)
{
    const struct lm_mark_result *res = d->res;
    uint64_t count = 0;
    if (res->graph_ok) {
        const uint32_t *map = d->node_index.data;
        uint32_t n = lm_mark_leaked_count(res);
        for (uint32_t v = 0; v < n && v < d->node_index.len; v++) {
            size_t ne;
            const lm_lg_edge_t *e = lm_leakgraph_out_edges(&res->graph, v, &ne);
            for (size_t i = 0; i < ne; i++) {
                if (e[i].to >= d->node_index.len)
                    continue;
                put_varint(d, map[v]);
                put_varint(d, map[e[i].to]);
                put_varint(d, e[i].offset);
                count++;
            }
        }
    }
    d->st.edges = count;
    emit(d, LM_REC_EDGES, true, count);
}

static void write_totals(struct dump *d, const struct lm_dump_info *info)
{
    for (int g = 0; g < 3; g++) {
        put_varint(d, d->gen_blocks[g]);
        put_varint(d, d->gen_bytes[g]);
    }
    emit(d, LM_REC_GENTOTALS, false, 0);
    const struct lm_mark_result *r = d->res;
    const uint64_t v[14] = {
        r->live.blocks, r->live.bytes, r->definite.blocks, r->definite.bytes,
        r->indirect.blocks, r->indirect.bytes, r->possible.blocks, r->possible.bytes,
        r->reachable.blocks, r->reachable.bytes, 0, 0, r->cycles, info->threads_not_stopped,
    };
    for (int i = 0; i < 14; i++)
        put_varint(d, v[i]);
    emit(d, LM_REC_SUMMARY, false, 0);
}

int lm_dump_write_fd(int fd, const struct lm_mark_result *res,
                     const struct lm_dump_info *info, struct lm_dump_stats *st)
{
    struct dump d;
    memset(&d, 0, sizeof d);
    void *buf;
    if (lm_os_map(WBUF_SIZE, &buf) != 0)
        return ENOMEM;
    lm_bufw_init(&d.w, fd, buf, WBUF_SIZE);
    lm_mmvec_init(&d.rec, 1);
    lm_mmvec_init(&d.stack_bits, sizeof(uint64_t));
    lm_mmvec_init(&d.node_index, sizeof(uint32_t));
    d.res = res;
    d.snap_ns = info->snap_ns;
    lm_unref_begin(&d.unref);
    if (lm_mmvec_resize(&d.node_index, lm_mark_leaked_count(res)) != 0)
        d.err = ENOMEM;

    write_header(&d, info);
    write_process(&d);
    dl_iterate_phdr(module_cb, &d);
    lm_foreach_live_block(note_stack, &d);
    write_stacks(&d);
    lm_foreach_live_block(put_block, &d);
    if (!d.err)
        lm_unref_commit(&d.unref);
    flush_blocks(&d);
    write_edges(&d);
    write_totals(&d, info);
    put_varint(&d, d.nrecords);
    emit(&d, LM_REC_END, false, 0);

    int err = d.err;
    int werr = lm_bufw_flush(&d.w);
    if (!err)
        err = werr;
    d.st.bytes = d.w.total;
    if (st)
        *st = d.st;
    lm_mmvec_free(&d.rec);
    lm_mmvec_free(&d.stack_bits);
    lm_mmvec_free(&d.node_index);
    lm_os_unmap(buf, WBUF_SIZE);
    return err;
}

int lm_dump_write_file(const char *path, const struct lm_mark_result *res,
                       const struct lm_dump_info *info, struct lm_dump_stats *st)
{
    char tmp[LM_DUMP_PATH_MAX + 32];
    if (lm_format(tmp, sizeof tmp, "%s.tmp.%d", path, (int)lm_os_getpid()) >= sizeof tmp - 1)
        return ENAMETOOLONG;
    long fd = syscall(SYS_openat, AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno;
    int err = lm_dump_write_fd((int)fd, res, info, st);
    if (syscall(SYS_close, fd) != 0 && !err)
        err = errno;
    if (!err && syscall(SYS_renameat, AT_FDCWD, tmp, AT_FDCWD, path) != 0)
        err = errno;
    if (err)
        syscall(SYS_unlinkat, AT_FDCWD, tmp, 0);
    return err;
}

size_t lm_dump_expand_path(char *outp, size_t cap, const char *pattern, pid_t pid, uint32_t seq)
{
    unsigned n = seq;
    return lm_expand_path(outp, cap, pattern, (int)pid, &n);
}
