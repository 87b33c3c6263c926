/*
 * reader.c - validating parser of heap dumps (contract in reader.h).
 *
 * Structure: parse_header, then one record at a time (u32 type, u32
 * length, payload) through a cursor whose end is the record's end, so no
 * payload parser can read into the next record; each known record must be
 * consumed exactly.  Allocation sizes come from counts that were first
 * bounded by the bytes available (a block takes at least 6 bytes, an edge
 * 3, a frame 8), so a hostile count cannot make the reader allocate more
 * than a small multiple of the file size.  finish() checks what needs the
 * whole file: END present and last, stack ids, edge endpoints.
 */
#include "reader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_MIN_BYTES 6   /* 4 one-byte varints + class byte + one more */
#define EDGE_MIN_BYTES  3
#define MAX_FILE_BYTES  ((size_t)1 << 40)

static int fail(struct an_err *e, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct an_err *e, uint64_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    e->offset = off;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static size_t left(const struct an_rd *r) { return r->end - r->pos; }

static int need(struct an_rd *r, const char *what, size_t n, struct an_err *e)
{
    if (left(r) < n)
        return fail(e, r->pos, "%s needs %zu bytes, only %zu left", what, n, left(r));
    return 0;
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int an_rd_u8(struct an_rd *r, const char *what, uint8_t *out, struct an_err *e)
{
    if (need(r, what, 1, e))
        return -1;
    *out = r->buf[r->pos++];
    return 0;
}

int an_rd_u32(struct an_rd *r, const char *what, uint32_t *out, struct an_err *e)
{
    if (need(r, what, 4, e))
        return -1;
    *out = (uint32_t)le(r->buf + r->pos, 4);
    r->pos += 4;
    return 0;
}

int an_rd_u64(struct an_rd *r, const char *what, uint64_t *out, struct an_err *e)
{
    if (need(r, what, 8, e))
        return -1;
    *out = le(r->buf + r->pos, 8);
    r->pos += 8;
    return 0;
}

int an_rd_varint(struct an_rd *r, const char *what, uint64_t max, uint64_t *out,
                 struct an_err *e)
{
    size_t start = r->pos;
    uint64_t v = 0;
    for (int i = 0;; i++) {
        if (r->pos >= r->end)
            return fail(e, start, "varint %s runs past the end of the record", what);
        uint8_t b = r->buf[r->pos++];
        if (i == 9 && b > 1)
            return fail(e, start, "varint %s overflows 64 bits", what);
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            break;
        if (i == 9)
            return fail(e, start, "varint %s is longer than 10 bytes", what);
    }
    if (v > max)
        return fail(e, start, "%s %llu is larger than %llu", what, (unsigned long long)v,
                    (unsigned long long)max);
    *out = v;
    return 0;
}

int an_rd_bytes(struct an_rd *r, const char *what, const uint8_t **out, size_t *len,
                struct an_err *e)
{
    uint64_t n;
    size_t at = r->pos;
    if (an_rd_varint(r, what, UINT64_MAX, &n, e))
        return -1;
    if (n > left(r))
        return fail(e, at, "%s length %llu runs past the end of the record (%zu bytes left)",
                    what, (unsigned long long)n, left(r));
    *out = r->buf + r->pos;
    *len = (size_t)n;
    r->pos += (size_t)n;
    return 0;
}

/* A NUL-terminated copy of a length-prefixed path; NUL bytes inside are
 * rejected unless allow_nul. */
static int rd_string(struct an_rd *r, const char *what, bool allow_nul, char **out,
                     size_t *outlen, struct an_err *e)
{
    const uint8_t *p;
    size_t n, at = r->pos;
    if (an_rd_bytes(r, what, &p, &n, e))
        return -1;
    if (!allow_nul && memchr(p, 0, n))
        return fail(e, at, "%s contains a NUL byte", what);
    char *s = malloc(n + 1);
    if (!s)
        return fail(e, at, "out of memory for %s", what);
    memcpy(s, p, n);
    s[n] = 0;
    *out = s;
    if (outlen)
        *outlen = n;
    return 0;
}

/* ---- header ---- */

static int parse_header(struct an_rd *r, struct an_dump *d, struct an_err *e)
{
    if (r->end < LM_DUMP_HEADER_SIZE)
        return fail(e, r->end, "file ends inside the %u-byte header", LM_DUMP_HEADER_SIZE);
    const uint8_t *h = r->buf;
    if (memcmp(h, LM_DUMP_MAGIC, LM_DUMP_MAGIC_SIZE) != 0)
        return fail(e, 0, "bad magic: not a leakmark heap dump");
    d->version = (uint32_t)le(h + 8, 4);
    if (d->version != LM_DUMP_VERSION)
        return fail(e, 8, "unsupported dump version %u (this analyzer reads version %u)",
                    d->version, LM_DUMP_VERSION);
    uint32_t hsize = (uint32_t)le(h + 12, 4);
    if (hsize < LM_DUMP_HEADER_SIZE)
        return fail(e, 12, "header size %u is smaller than %u", hsize, LM_DUMP_HEADER_SIZE);
    if (hsize > r->end)
        return fail(e, 12, "header size %u runs past the end of the file (%zu bytes)", hsize,
                    r->end);
    d->pid = (uint32_t)le(h + 16, 4);
    d->trigger = (uint32_t)le(h + 20, 4);
    if (d->trigger > LM_DUMP_TRIGGER_PERIODIC)
        return fail(e, 20, "unknown trigger %u", d->trigger);
    d->time_ns = le(h + 24, 8);
    d->pause_ns = le(h + 32, 8);
    d->scan_ns = le(h + 40, 8);
    d->seq = (uint32_t)le(h + 48, 4);
    d->ptr_size = (uint32_t)le(h + 52, 4);
    if (d->ptr_size != 8)
        return fail(e, 52, "pointer size %u is not 8", d->ptr_size);
    r->pos = hsize;
    return 0;
}

/* ---- records ---- */

static int rec_process(struct an_rd *r, struct an_dump *d, uint64_t at, struct an_err *e)
{
    if (d->have_process)
        return fail(e, at, "second PROCESS record");
    d->have_process = true;
    if (rd_string(r, "exe path", false, &d->exe, NULL, e))
        return -1;
    return rd_string(r, "command line", true, &d->cmdline, &d->cmdline_len, e);
}

static int rec_module(struct an_rd *r, struct an_dump *d, struct an_err *e)
{
    uint64_t index;
    size_t at = r->pos;
    if (an_rd_varint(r, "module index", UINT32_MAX, &index, e))
        return -1;
    if (index != d->nmodules)
        return fail(e, at, "module index %llu, expected %zu (file order)",
                    (unsigned long long)index, d->nmodules);
    if (!an_vec_reserve((void **)&d->modules, d->nmodules, &d->cap_modules, 1,
                        sizeof *d->modules))
        return fail(e, at, "out of memory");
    struct an_module *m = &d->modules[d->nmodules];
    memset(m, 0, sizeof *m);
    d->nmodules++;                    /* freed by an_dump_free from here on */
    at = r->pos;
    if (an_rd_u64(r, "module start", &m->start, e) || an_rd_u64(r, "module end", &m->end, e) ||
        an_rd_u64(r, "load bias", &m->bias, e))
        return -1;
    if (m->start > m->end)
        return fail(e, at, "module start 0x%llx is above its end 0x%llx",
                    (unsigned long long)m->start, (unsigned long long)m->end);
    const uint8_t *id;
    if (an_rd_bytes(r, "build-id", &id, &m->build_id_len, e))
        return -1;
    if (m->build_id_len) {
        m->build_id = malloc(m->build_id_len);
        if (!m->build_id)
            return fail(e, r->pos, "out of memory");
        memcpy(m->build_id, id, m->build_id_len);
    }
    return rd_string(r, "module path", false, &m->path, NULL, e);
}

static int rec_stack(struct an_rd *r, struct an_dump *d, uint64_t rec_at, struct an_err *e)
{
    uint64_t id, n;
    size_t at = r->pos;
    if (an_rd_varint(r, "stack id", UINT32_MAX, &id, e))
        return -1;
    if (id == 0)
        return fail(e, at, "stack id 0 (ids are non-zero)");
    at = r->pos;
    if (an_rd_varint(r, "frame count", UINT32_MAX, &n, e))
        return -1;
    if (n > left(r) / 8)
        return fail(e, at, "frame count %llu needs %llu bytes, only %zu left in the record",
                    (unsigned long long)n, (unsigned long long)n * 8, left(r));
    if (!an_vec_reserve((void **)&d->stacks, d->nstacks, &d->cap_stacks, 1, sizeof *d->stacks))
        return fail(e, at, "out of memory");
    struct an_stack *s = &d->stacks[d->nstacks];
    *s = (struct an_stack){ .id = (uint32_t)id, .nframes = (uint32_t)n, .file_off = rec_at };
    if (n && !(s->pcs = malloc((size_t)n * sizeof *s->pcs)))
        return fail(e, at, "out of memory");
    d->nstacks++;
    for (uint64_t i = 0; i < n; i++)
        an_rd_u64(r, "pc", &s->pcs[i], e);     /* bounded above: cannot fail */
    return 0;
}

static int rec_blocks(struct an_rd *r, struct an_dump *d, struct an_err *e)
{
    uint64_t n;
    size_t at = r->pos;
    if (an_rd_varint(r, "block count", UINT32_MAX, &n, e))
        return -1;
    if (n > left(r) / BLOCK_MIN_BYTES)
        return fail(e, at, "block count %llu cannot fit in the %zu bytes left in the record",
                    (unsigned long long)n, left(r));
    if (n > (uint64_t)UINT32_MAX - 1 - d->nblocks)
        return fail(e, at, "more than %u blocks in the dump", UINT32_MAX - 1);
    if (!an_vec_reserve((void **)&d->blocks, d->nblocks, &d->cap_blocks, (size_t)n,
                        sizeof *d->blocks))
        return fail(e, at, "out of memory for %llu blocks", (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        struct an_block b = { .file_off = r->pos, .stack = AN_NONE };
        uint64_t delta, stack;
        uint8_t cls;
        at = r->pos;
        if (an_rd_varint(r, "address delta", UINT64_MAX, &delta, e))
            return -1;
        const struct an_block *prev = d->nblocks ? &d->blocks[d->nblocks - 1] : NULL;
        uint64_t base = prev ? prev->addr : 0;
        if (prev && delta == 0)
            return fail(e, at, "block %zu has the address of the previous one", d->nblocks);
        if (delta > UINT64_MAX - base)
            return fail(e, at, "block %zu: address overflows 64 bits", d->nblocks);
        b.addr = base + delta;
        if (prev && b.addr - prev->addr < prev->size)
            return fail(e, at, "block %zu at 0x%llx overlaps the previous block", d->nblocks,
                        (unsigned long long)b.addr);
        at = r->pos;
        if (an_rd_varint(r, "block size", UINT64_MAX, &b.size, e))
            return -1;
        if (b.size > UINT64_MAX - b.addr)
            return fail(e, at, "block %zu: address + size overflows 64 bits", d->nblocks);
        if (an_rd_varint(r, "stack id", UINT32_MAX, &stack, e))
            return -1;
        b.stack_id = (uint32_t)stack;
        at = r->pos;
        if (an_rd_u8(r, "class byte", &cls, e))
            return -1;
        if (LM_DUMP_CLASS(cls) > LM_DUMP_SUPPRESSED || LM_DUMP_GENERATION(cls) > 2 || cls >> 5)
            return fail(e, at, "bad class byte 0x%02x", cls);
        b.cls = (uint8_t)LM_DUMP_CLASS(cls);
        b.gen = (uint8_t)LM_DUMP_GENERATION(cls);
        if (an_rd_varint(r, "age", UINT64_MAX, &b.age_ms, e) ||
            an_rd_varint(r, "unreachable scans", UINT64_MAX, &b.unreachable_scans, e))
            return -1;
        d->blocks[d->nblocks++] = b;
    }
    return 0;
}

static int rec_edges(struct an_rd *r, struct an_dump *d, struct an_err *e)
{
    uint64_t n;
    size_t at = r->pos;
    if (an_rd_varint(r, "edge count", UINT64_MAX, &n, e))
        return -1;
    if (n > left(r) / EDGE_MIN_BYTES)
        return fail(e, at, "edge count %llu cannot fit in the %zu bytes left in the record",
                    (unsigned long long)n, left(r));
    if (!an_vec_reserve((void **)&d->edges, d->nedges, &d->cap_edges, (size_t)n,
                        sizeof *d->edges))
        return fail(e, at, "out of memory for %llu edges", (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        struct an_edge x = { .file_off = r->pos };
        uint64_t from, to;
        if (an_rd_varint(r, "edge from", UINT32_MAX - 1, &from, e) ||
            an_rd_varint(r, "edge to", UINT32_MAX - 1, &to, e) ||
            an_rd_varint(r, "edge offset", UINT64_MAX, &x.offset, e))
            return -1;
        x.from = (uint32_t)from;
        x.to = (uint32_t)to;
        d->edges[d->nedges++] = x;
    }
    return 0;
}

static int rec_varints(struct an_rd *r, bool *have, uint64_t at, const char *name,
                       uint64_t *out, int n, struct an_err *e)
{
    if (*have)
        return fail(e, at, "second %s record", name);
    *have = true;
    for (int i = 0; i < n; i++)
        if (an_rd_varint(r, name, UINT64_MAX, &out[i], e))
            return -1;
    return 0;
}

static const char *rec_name(uint32_t type)
{
    switch (type) {
    case LM_REC_PROCESS: return "PROCESS";
    case LM_REC_MODULE: return "MODULE";
    case LM_REC_STACK: return "STACK";
    case LM_REC_BLOCKS: return "BLOCKS";
    case LM_REC_EDGES: return "EDGES";
    case LM_REC_GENTOTALS: return "GENTOTALS";
    case LM_REC_SUMMARY: return "SUMMARY";
    case LM_REC_END: return "END";
    default: return "unknown";
    }
}

/* ---- whole-file checks ---- */

static int cmp_stack(const void *a, const void *b)
{
    const struct an_stack *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->file_off < y->file_off ? -1 : x->file_off > y->file_off;
}

static int finish(struct an_dump *d, struct an_err *e)
{
    if (d->nstacks > 1)
        qsort(d->stacks, d->nstacks, sizeof *d->stacks, cmp_stack);
    for (size_t i = 1; i < d->nstacks; i++)
        if (d->stacks[i].id == d->stacks[i - 1].id)
            return fail(e, d->stacks[i].file_off, "second STACK record with id %u",
                        d->stacks[i].id);
    for (size_t i = 0; i < d->nblocks; i++) {
        struct an_block *b = &d->blocks[i];
        if (!b->stack_id)
            continue;
        const struct an_stack *s = an_dump_stack(d, b->stack_id);
        if (!s)
            return fail(e, b->file_off, "block %zu: stack id %u has no STACK record", i,
                        b->stack_id);
        b->stack = (uint32_t)(s - d->stacks);
    }
    for (size_t i = 0; i < d->nedges; i++) {
        const struct an_edge *x = &d->edges[i];
        if (x->from >= d->nblocks || x->to >= d->nblocks)
            return fail(e, x->file_off, "edge %zu names block %u, the dump has %zu blocks", i,
                        x->from >= d->nblocks ? x->from : x->to, d->nblocks);
        uint32_t bad = !an_class_leaked(d->blocks[x->from].cls) ? x->from
                     : !an_class_leaked(d->blocks[x->to].cls) ? x->to : AN_NONE;
        if (bad != AN_NONE)
            return fail(e, x->file_off, "edge %zu: block %u is %s, not leaked", i, bad,
                        an_class_name(d->blocks[bad].cls));
        if (x->offset >= d->blocks[x->from].size)
            return fail(e, x->file_off, "edge %zu: offset %llu is outside block %u (%llu bytes)",
                        i, (unsigned long long)x->offset, x->from,
                        (unsigned long long)d->blocks[x->from].size);
    }
    return 0;
}

int an_dump_parse(const uint8_t *buf, size_t len, struct an_dump *d, struct an_err *e)
{
    struct an_rd file = { .buf = buf, .pos = 0, .end = len };
    if (parse_header(&file, d, e))
        return -1;
    for (;;) {
        size_t at = file.pos;
        uint32_t type, plen;
        if (file.pos == file.end)
            return fail(e, at, "file ends without an END record (truncated dump?)");
        if (left(&file) < 8)
            return fail(e, at, "record header truncated: %zu of 8 bytes", left(&file));
        an_rd_u32(&file, "record type", &type, e);
        an_rd_u32(&file, "record length", &plen, e);
        if (plen > left(&file))
            return fail(e, at + 4, "%s record length %u runs past the end of the file"
                        " (%zu bytes left)", rec_name(type), plen, left(&file));
        struct an_rd r = { .buf = buf, .pos = file.pos, .end = file.pos + plen };
        file.pos += plen;
        int rc = 0;
        switch (type) {
        case LM_REC_PROCESS: rc = rec_process(&r, d, at, e); break;
        case LM_REC_MODULE: rc = rec_module(&r, d, e); break;
        case LM_REC_STACK: rc = rec_stack(&r, d, at, e); break;
        case LM_REC_BLOCKS: rc = rec_blocks(&r, d, e); break;
        case LM_REC_EDGES: rc = rec_edges(&r, d, e); break;
        case LM_REC_GENTOTALS:
            rc = rec_varints(&r, &d->have_gentotals, at, "GENTOTALS", &d->gentotals[0][0], 6, e);
            break;
        case LM_REC_SUMMARY:
            rc = rec_varints(&r, &d->have_summary, at, "SUMMARY", d->summary, AN_S_COUNT, e);
            break;
        case LM_REC_END: {
            uint64_t count;
            size_t cat = r.pos;
            if (an_rd_varint(&r, "END record count", UINT64_MAX, &count, e))
                return -1;
            if (count != d->records)
                return fail(e, cat, "END record counts %llu records, the file has %u",
                            (unsigned long long)count, d->records);
            if (r.pos != r.end)
                return fail(e, r.pos, "%zu unparsed bytes at the end of the END record",
                            left(&r));
            if (file.pos != file.end)
                return fail(e, file.pos, "%zu bytes after the END record", left(&file));
            return finish(d, e);
        }
        default:
            break;                      /* unknown: skipped */
        }
        if (rc)
            return -1;
        if (type <= LM_REC_SUMMARY && r.pos != r.end)
            return fail(e, r.pos, "%zu unparsed bytes at the end of the %s record", left(&r),
                        rec_name(type));
        if (d->records == UINT32_MAX)
            return fail(e, at, "too many records");
        d->records++;
    }
}

int an_dump_load(struct an_dump *d, struct an_err *e)
{
    FILE *f = fopen(d->name, "rb");
    if (!f)
        return fail(e, AN_ERR_NO_OFFSET, "cannot open: %s", strerror(errno));
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : (size_t)1 << 16;
            uint8_t *p = ncap <= MAX_FILE_BYTES ? realloc(buf, ncap) : NULL;
            if (!p) {
                rc = fail(e, AN_ERR_NO_OFFSET, "file too large to load");
                break;
            }
            buf = p;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                rc = fail(e, AN_ERR_NO_OFFSET, "read error: %s", strerror(errno));
            break;
        }
    }
    fclose(f);
    if (rc == 0)
        rc = an_dump_parse(buf, len, d, e);
    free(buf);
    return rc;
}
