/*
 * gen_dump.c - writes heap dumps with known content for the analyzer tests
 * (format: include/leakmark/dump_format.h).  Built -O0 -g so that the pcs
 * it records, real return addresses inside the make_* functions below and
 * main, symbolise to known functions and lines of this file.
 *
 *   gen_dump OUTDIR    writes OUTDIR/<name>.lmd for every name below
 *
 * The dumps pretend the program was loaded at FAKE_BIAS (pcs are this
 * binary's offsets + FAKE_BIAS, so they do not depend on ASLR), with a
 * MODULE record for this binary carrying its real build-id read from the
 * file, and a second module that does not exist on disk.
 *
 *   golden       12 blocks in two BLOCKS records: a 3-cycle (definite), a
 *                plain definite leak, a definite root holding 2 indirect
 *                blocks, a possible block, reachable ones (one allocated
 *                in the missing module, one without stack), a duplicate
 *                edge, and an unknown record type (to be skipped)
 *   golden2      the "later" dump for diff: other pid, load bias and stack
 *                ids; make_plain grew, the cycle is gone, a new site
 *   badbuildid   golden with the module's build-id changed
 *   bad_*        hostile inputs (each must be rejected with exit status 2)
 *
 * KEEP the make_* functions and main's calls where they are: the golden
 * files name their line numbers.
 */
#include <leakmark/dump_format.h>

#include <elfutils/libdwelf.h>
#include <execinfo.h>
#include <fcntl.h>
#include <gelf.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FRAMES 8
struct stk { uint64_t pcs[MAX_FRAMES]; int n; };

static void capture(struct stk *s);

__attribute__((noinline)) static void make_cycle(struct stk *s) { capture(s); }
__attribute__((noinline)) static void make_plain(struct stk *s) { capture(s); }
__attribute__((noinline)) static void make_tree(struct stk *s) { capture(s); }
__attribute__((noinline)) static void make_reachable(struct stk *s) { capture(s); }
__attribute__((noinline)) static void make_possible(struct stk *s) { capture(s); }
__attribute__((noinline)) static void make_newsite(struct stk *s) { capture(s); }

static struct stk st_cycle, st_plain, st_tree, st_reach, st_possible, st_new;

__attribute__((noinline)) static void take_stacks(void)
{
    make_cycle(&st_cycle);
    make_plain(&st_plain);
    make_tree(&st_tree);
    make_reachable(&st_reach);
    make_possible(&st_possible);
    make_newsite(&st_new);
}

static void setup(void);
static int write_all(int argc, char **argv);

int main(int argc, char **argv)
{
    setup();
    take_stacks();
    return write_all(argc, argv);
}

/* ---- this binary: extent, bias, build-id ---- */

#define FAKE_BIAS  0x555555554000ull
#define FAKE_BIAS2 0x560000000000ull
#define GONE_START 0x7f0000000000ull

static uint64_t real_bias, vlo = UINT64_MAX, vhi;
static unsigned char build_id[64];
static size_t build_id_len;
static char exe[4096];

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size; (void)arg;
    real_bias = info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        if (p->p_type != PT_LOAD)
            continue;
        if (p->p_vaddr < vlo) vlo = p->p_vaddr;
        if (p->p_vaddr + p->p_memsz > vhi) vhi = p->p_vaddr + p->p_memsz;
    }
    return 1;                         /* the first object is the program */
}

static void read_build_id(void)
{
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) { perror("readlink"); exit(1); }
    exe[n] = 0;
    elf_version(EV_CURRENT);
    int fd = open(exe, O_RDONLY);
    Elf *elf = fd >= 0 ? elf_begin(fd, ELF_C_READ, NULL) : NULL;
    const void *id = NULL;
    ssize_t len = elf ? dwelf_elf_gnu_build_id(elf, &id) : -1;
    if (len <= 0 || (size_t)len > sizeof build_id) {
        fprintf(stderr, "gen_dump: no build-id in %s\n", exe);
        exit(1);
    }
    memcpy(build_id, id, (size_t)len);
    build_id_len = (size_t)len;
    elf_end(elf);
    close(fd);
}

static void capture(struct stk *s)
{
    void *f[32];
    int n = backtrace(f, 32);
    s->n = 0;
    /* f[0] is in capture itself; keep the frames inside this binary */
    for (int i = 1; i < n && s->n < MAX_FRAMES; i++) {
        uint64_t pc = (uint64_t)(uintptr_t)f[i] - real_bias;
        if (pc < vlo || pc >= vhi)
            break;
        s->pcs[s->n++] = pc;          /* an offset; rebased when written */
    }
}

/* ---- byte buffer ---- */

struct buf { unsigned char *p; size_t len, cap; };

static void put(struct buf *b, const void *src, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 256;
        b->p = realloc(b->p, b->cap);
        if (!b->p) { perror("realloc"); exit(1); }
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}
static void u8(struct buf *b, unsigned v) { unsigned char c = (unsigned char)v; put(b, &c, 1); }
static void u32(struct buf *b, uint32_t v) { for (int i = 0; i < 4; i++) u8(b, (v >> (8 * i)) & 0xff); }
static void u64(struct buf *b, uint64_t v) { for (int i = 0; i < 8; i++) u8(b, (v >> (8 * i)) & 0xff); }
static void varint(struct buf *b, uint64_t v)
{
    do {
        u8(b, (unsigned)(v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}
static void bytes(struct buf *b, const void *p, size_t n) { varint(b, n); put(b, p, n); }

static size_t rec_at;
static unsigned nrec;
static void rec_begin(struct buf *b, uint32_t type) { rec_at = b->len; u32(b, type); u32(b, 0); }
static void rec_end(struct buf *b)
{
    uint32_t len = (uint32_t)(b->len - rec_at - 8);
    for (int i = 0; i < 4; i++)
        b->p[rec_at + 4 + i] = (unsigned char)(len >> (8 * i));
    nrec++;
}

/* ---- dumps ---- */

struct blk { uint64_t addr, size; uint32_t stack; unsigned cls, gen; uint64_t age, unreach; };
struct edge { uint32_t from, to; uint64_t off; };

struct spec {
    uint32_t pid, trigger, seq;
    uint64_t bias;
    uint32_t id_base;                 /* stack ids: id_base + k */
    const struct blk *blocks; size_t nblocks, split;
    const struct edge *edges; size_t nedges;
    const unsigned char *bid; size_t bid_len;
    bool unknown_record;
    uint64_t cycles;
};

enum { S_CYCLE = 1, S_PLAIN, S_TREE, S_REACH, S_POSSIBLE, S_GONE, S_NEW };

static void header(struct buf *b, const struct spec *s)
{
    put(b, LM_DUMP_MAGIC, LM_DUMP_MAGIC_SIZE);
    u32(b, LM_DUMP_VERSION);
    u32(b, LM_DUMP_HEADER_SIZE);
    u32(b, s->pid);
    u32(b, s->trigger);
    u64(b, 1700000000123456789ull);   /* time */
    u64(b, 1234567);                  /* pause: 1.235 ms */
    u64(b, 45678912);                 /* scan: 45.679 ms */
    u32(b, s->seq);
    u32(b, 8);
    u64(b, 0);
}

static void stack_rec(struct buf *b, const struct spec *s, uint32_t k, const struct stk *st)
{
    rec_begin(b, LM_REC_STACK);
    varint(b, s->id_base + k);
    varint(b, (uint64_t)st->n);
    for (int i = 0; i < st->n; i++)
        u64(b, st->pcs[i] + s->bias);
    rec_end(b);
}

static void blocks_rec(struct buf *b, const struct spec *s, size_t from, size_t to)
{
    rec_begin(b, LM_REC_BLOCKS);
    varint(b, to - from);
    for (size_t i = from; i < to; i++) {
        const struct blk *x = &s->blocks[i];
        varint(b, x->addr - (i ? s->blocks[i - 1].addr : 0));
        varint(b, x->size);
        varint(b, x->stack ? s->id_base + x->stack : 0);
        u8(b, x->cls | x->gen << 3);
        varint(b, x->age);
        varint(b, x->unreach);
    }
    rec_end(b);
}

static void build(struct buf *b, const struct spec *s)
{
    static const char cmd[] = "leak-demo\0--fast";
    nrec = 0;
    header(b, s);
    rec_begin(b, LM_REC_PROCESS);
    bytes(b, "/opt/demo/leak-demo", strlen("/opt/demo/leak-demo"));
    bytes(b, cmd, sizeof cmd - 1);
    rec_end(b);
    rec_begin(b, LM_REC_MODULE);
    varint(b, 0);
    u64(b, s->bias + vlo);
    u64(b, s->bias + vhi);
    u64(b, s->bias);
    bytes(b, s->bid, s->bid_len);
    bytes(b, exe, strlen(exe));
    rec_end(b);
    rec_begin(b, LM_REC_MODULE);
    varint(b, 1);
    u64(b, GONE_START);
    u64(b, GONE_START + 0x10000);
    u64(b, GONE_START);
    bytes(b, "\x01\x02\x03\x04", 4);
    bytes(b, "/nonexistent/libgone.so", strlen("/nonexistent/libgone.so"));
    rec_end(b);
    stack_rec(b, s, S_CYCLE, &st_cycle);
    stack_rec(b, s, S_PLAIN, &st_plain);
    if (s->unknown_record) {
        rec_begin(b, 0x100);
        put(b, "\xff\xfe\x00\x01\x02", 5);
        rec_end(b);
    }
    stack_rec(b, s, S_TREE, &st_tree);
    stack_rec(b, s, S_REACH, &st_reach);
    stack_rec(b, s, S_POSSIBLE, &st_possible);
    struct stk gone = { { GONE_START + 0x1234 - s->bias, st_plain.pcs[1] }, 2 };
    stack_rec(b, s, S_GONE, &gone);
    stack_rec(b, s, S_NEW, &st_new);
    blocks_rec(b, s, 0, s->split);
    blocks_rec(b, s, s->split, s->nblocks);
    rec_begin(b, LM_REC_EDGES);
    varint(b, s->nedges);
    for (size_t i = 0; i < s->nedges; i++) {
        varint(b, s->edges[i].from);
        varint(b, s->edges[i].to);
        varint(b, s->edges[i].off);
    }
    rec_end(b);
    uint64_t gen[3][2] = { { 0 } }, sum[14] = { 0 };
    static const int slot[] = { 8, 6, 2, 4, 10 };   /* class -> summary index */
    for (size_t i = 0; i < s->nblocks; i++) {
        const struct blk *x = &s->blocks[i];
        gen[x->gen][0]++;
        gen[x->gen][1] += x->size;
        sum[0]++;
        sum[1] += x->size;
        sum[slot[x->cls]]++;
        sum[slot[x->cls] + 1] += x->size;
    }
    sum[12] = s->cycles;
    rec_begin(b, LM_REC_GENTOTALS);
    for (int g = 0; g < 3; g++) { varint(b, gen[g][0]); varint(b, gen[g][1]); }
    rec_end(b);
    rec_begin(b, LM_REC_SUMMARY);
    for (int i = 0; i < 14; i++)
        varint(b, sum[i]);
    rec_end(b);
    u32(b, LM_REC_END);
    u32(b, 1);
    varint(b, nrec);
}

#define D LM_DUMP_DEFINITE
#define I LM_DUMP_INDIRECT
#define R LM_DUMP_REACHABLE
#define P LM_DUMP_POSSIBLE
static const struct blk golden_blocks[] = {
    { 0x7f1000001000, 32, S_CYCLE, D, 0, 900, 3 },
    { 0x7f1000001040, 32, S_CYCLE, D, 0, 900, 3 },
    { 0x7f1000001080, 32, S_CYCLE, D, 0, 900, 3 },
    { 0x7f1000002000, 100, S_PLAIN, D, 0, 20, 1 },
    { 0x7f1000003000, 16, S_TREE, D, 1, 5000, 2 },
    { 0x7f1000003100, 40, S_TREE, I, 1, 5000, 2 },
    { 0x7f1000003200, 50, S_TREE, I, 1, 5000, 2 },
    { 0x7f1000004000, 64, S_REACH, R, 2, 70000, 0 },
    { 0x7f1000004100, 64, S_REACH, R, 1, 3000, 0 },
    { 0x7f1000005000, 24, S_POSSIBLE, P, 0, 10, 0 },
    { 0x7f1000006000, 200, S_GONE, R, 2, 80000, 0 },
    { 0x7f1000007000, 8, 0, R, 2, 80000, 0 },
};
static const struct edge golden_edges[] = {
    { 0, 1, 0 }, { 1, 2, 0 }, { 2, 0, 8 }, { 0, 1, 0 },     /* the cycle + a duplicate */
    { 4, 5, 0 }, { 4, 6, 8 },                               /* the tree */
};
static const struct blk golden2_blocks[] = {
    { 0x7f2000002000, 100, S_PLAIN, D, 1, 20, 1 },
    { 0x7f2000002080, 100, S_PLAIN, D, 0, 20, 1 },
    { 0x7f2000002100, 300, S_PLAIN, D, 0, 20, 1 },
    { 0x7f2000003000, 16, S_TREE, D, 2, 9000, 2 },
    { 0x7f2000003100, 40, S_TREE, I, 2, 9000, 2 },
    { 0x7f2000003200, 50, S_TREE, I, 2, 9000, 2 },
    { 0x7f2000004000, 64, S_REACH, R, 2, 90000, 0 },
    { 0x7f2000004100, 64, S_REACH, R, 2, 9000, 0 },
    { 0x7f2000005000, 24, S_POSSIBLE, P, 1, 10, 0 },
    { 0x7f2000006000, 200, S_GONE, R, 2, 99000, 0 },
    { 0x7f2000007000, 8, 0, R, 2, 99000, 0 },
    { 0x7f2000008000, 4096, S_NEW, R, 0, 5, 0 },
};
static const struct edge golden2_edges[] = { { 3, 4, 0 }, { 3, 5, 8 } };

static void write_file(const char *dir, const char *name, const struct buf *b)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s.lmd", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->p, 1, b->len, f) != b->len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static struct spec golden_spec(void)
{
    return (struct spec){ .pid = 4242, .trigger = LM_DUMP_TRIGGER_SIGNAL, .seq = 0,
        .bias = FAKE_BIAS, .id_base = 0, .blocks = golden_blocks, .nblocks = 12, .split = 5,
        .edges = golden_edges, .nedges = 6, .bid = build_id, .bid_len = build_id_len,
        .unknown_record = true, .cycles = 1 };
}

/* golden, with one edit at byte `at` (or appended bytes) */
static void variant(const char *dir, const char *name, void (*edit)(struct buf *b))
{
    struct buf b = { 0 };
    struct spec s = golden_spec();
    build(&b, &s);
    edit(&b);
    write_file(dir, name, &b);
    free(b.p);
}

static size_t find_record(const struct buf *b, uint32_t type)
{
    for (size_t at = LM_DUMP_HEADER_SIZE; at + 8 <= b->len;) {
        uint32_t t = b->p[at] | b->p[at + 1] << 8 | b->p[at + 2] << 16 | (uint32_t)b->p[at + 3] << 24;
        uint32_t len = b->p[at + 4] | b->p[at + 5] << 8 | b->p[at + 6] << 16 | (uint32_t)b->p[at + 7] << 24;
        if (t == type)
            return at;
        at += 8 + len;
    }
    fprintf(stderr, "gen_dump: no record %u\n", type);
    exit(1);
}

static void e_magic(struct buf *b) { b->p[3] ^= 0x20; }
static void e_version(struct buf *b) { b->p[8] = 2; }
static void e_len_past_end(struct buf *b)
{
    size_t at = find_record(b, LM_REC_BLOCKS);
    memcpy(b->p + at + 4, "\xf0\xff\xff\xff", 4);
}
/* BLOCKS count 2^32 - 2 (first byte of the payload is the count varint) */
static void e_huge_blocks(struct buf *b)
{
    size_t at = find_record(b, LM_REC_BLOCKS) + 8;
    struct buf rest = { 0 };
    put(&rest, b->p + at + 1, b->len - at - 1);      /* the count was 1 byte */
    b->len = at;
    varint(b, 0xfffffffeull);
    put(b, rest.p, rest.len);
    free(rest.p);
    uint32_t len = b->p[at - 4] | b->p[at - 3] << 8 | b->p[at - 2] << 16 | (uint32_t)b->p[at - 1] << 24;
    len += 4;
    for (int i = 0; i < 4; i++)
        b->p[at - 4 + i] = (unsigned char)(len >> (8 * i));
}
/* STACK frame count byte (after the 1-byte id) set to 0x7f: 127 frames */
static void e_huge_frames(struct buf *b) { b->p[find_record(b, LM_REC_STACK) + 9] = 0x7f; }
/* an overlong varint: the SUMMARY's first varint becomes 11 x 0x80 */
static void e_overlong(struct buf *b)
{
    size_t at = find_record(b, LM_REC_SUMMARY) + 8;
    for (int i = 0; i < 11 && at + i < b->len; i++)
        b->p[at + i] = 0x80;
}
/* the first edge's "to" -> block 99 (one-byte varints) */
static void e_edge_range(struct buf *b) { b->p[find_record(b, LM_REC_EDGES) + 8 + 2] = 99; }
/* the first edge's "to" -> block 7, which is reachable */
static void e_edge_class(struct buf *b) { b->p[find_record(b, LM_REC_EDGES) + 8 + 2] = 7; }
static size_t vlen(uint64_t v)
{
    size_t n = 1;
    while (v > 0x7f) { v >>= 7; n++; }
    return n;
}
/* where the first block's stack id is (count, address delta, size: the
 * golden values have one-byte counts and sizes) */
static size_t first_stack_field(const struct buf *b)
{
    return find_record(b, LM_REC_BLOCKS) + 8 + 1 + vlen(golden_blocks[0].addr) + 1;
}
/* the first block's stack id -> 77, which has no STACK record */
static void e_stack_missing(struct buf *b) { b->p[first_stack_field(b)] = 77; }
/* two STACK records with the same id */
static void e_dup_stack(struct buf *b)
{
    size_t a = find_record(b, LM_REC_STACK);
    b->p[a + 8] = 2;                  /* id 1 -> 2, the next one's */
}
static void e_trailing(struct buf *b) { u8(b, 0); }
static void e_bad_class(struct buf *b) { b->p[first_stack_field(b) + 1] = 0x07; }
static void e_bad_buildid(struct buf *b)
{
    size_t at = find_record(b, LM_REC_MODULE) + 8 + 1 + 24 + 1;
    b->p[at] ^= 0xff;
}

static void setup(void)
{
    dl_iterate_phdr(phdr_cb, NULL);
    read_build_id();
}

static int write_all(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_dump OUTDIR\n");
        return 2;
    }
    struct buf b = { 0 };
    struct spec s = golden_spec();
    build(&b, &s);
    write_file(argv[1], "golden", &b);
    b.len = 0;
    struct spec s2 = { .pid = 5151, .trigger = LM_DUMP_TRIGGER_API, .seq = 3, .bias = FAKE_BIAS2,
        .id_base = 100, .blocks = golden2_blocks, .nblocks = 12, .split = 12,
        .edges = golden2_edges, .nedges = 2, .bid = build_id, .bid_len = build_id_len };
    build(&b, &s2);
    write_file(argv[1], "golden2", &b);
    free(b.p);
    variant(argv[1], "badbuildid", e_bad_buildid);
    variant(argv[1], "bad_magic", e_magic);
    variant(argv[1], "bad_version", e_version);
    variant(argv[1], "bad_len_past_end", e_len_past_end);
    variant(argv[1], "bad_huge_blocks", e_huge_blocks);
    variant(argv[1], "bad_huge_frames", e_huge_frames);
    variant(argv[1], "bad_overlong_varint", e_overlong);
    variant(argv[1], "bad_edge_range", e_edge_range);
    variant(argv[1], "bad_edge_class", e_edge_class);
    variant(argv[1], "bad_stack_missing", e_stack_missing);
    variant(argv[1], "bad_dup_stack", e_dup_stack);
    variant(argv[1], "bad_trailing", e_trailing);
    variant(argv[1], "bad_class", e_bad_class);
    return 0;
}
