/*
 * test_dump.c - the heap dump writer (preload/dump.h) and the snapshot
 * dump (preload/dumper.h, lm_dump_now), checked by parsing the files back
 * with a minimal reader written here from include/leakmark/dump_format.h
 * alone (never from dump.c's code).
 *
 * The heap is built with lm_calloc (the test's own malloc stays glibc's),
 * so its blocks are exactly the ones each test makes; roots are explicit
 * arrays given with lm_roots_add, as in test_mark.c.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "alloc.h"
#include "block.h"
#include "dump.h"
#include "dumper.h"
#include "mark.h"
#include "options.h"
#include "os.h"
#include "stackdepot.h"

/* ---- a minimal reader ------------------------------------------------ */

#define MAXREC 4096
struct rblock { uint64_t addr, size, stack, age, unref; unsigned cls, gen; };
struct redge { uint64_t from, to, off; };
struct rmodule { uint64_t start, end, bias; char build_id[64]; size_t idlen; char path[512]; };
struct parsed {
    uint32_t version, hsize, pid, trigger, seq, psize;
    uint64_t wall, pause, scan;
    char exe[512];
    size_t cmdlen;
    struct rmodule mod[64];
    size_t nmod;
    uint64_t stack_ids[MAXREC];
    uint64_t stack_frames[MAXREC];
    uint64_t stack_pc0[MAXREC];
    size_t nstack;
    struct rblock *blocks;
    size_t nblocks, block_recs;
    struct redge edges[MAXREC];
    size_t nedges;
    uint64_t gen[6], sum[14];
    size_t records, end_count;
    bool ended;
};

struct cur { const uint8_t *p, *end; bool bad; };

static uint64_t rd_varint(struct cur *c)
{
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (c->p >= c->end) { c->bad = true; return 0; }
        uint8_t b = *c->p++;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            return v;
    }
    c->bad = true;
    return 0;
}

static uint64_t rd_le(struct cur *c, int n)
{
    if (c->end - c->p < n) { c->bad = true; return 0; }
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)c->p[i] << (8 * i);
    c->p += n;
    return v;
}

static void rd_bytes(struct cur *c, void *out, size_t cap, size_t n)
{
    if ((size_t)(c->end - c->p) < n || n >= cap) { c->bad = true; return; }
    memcpy(out, c->p, n);
    ((char *)out)[n] = 0;
    c->p += n;
}

/* Returns 0 or the offset + 1 of the first problem. */
static size_t parse(const uint8_t *d, size_t len, struct parsed *o)
{
    memset(o, 0, sizeof *o);
    if (len < LM_DUMP_HEADER_SIZE || memcmp(d, LM_DUMP_MAGIC, LM_DUMP_MAGIC_SIZE) != 0)
        return 1;
    struct cur h = { d + 8, d + 64, false };
    o->version = (uint32_t)rd_le(&h, 4);
    o->hsize = (uint32_t)rd_le(&h, 4);
    o->pid = (uint32_t)rd_le(&h, 4);
    o->trigger = (uint32_t)rd_le(&h, 4);
    o->wall = rd_le(&h, 8);
    o->pause = rd_le(&h, 8);
    o->scan = rd_le(&h, 8);
    o->seq = (uint32_t)rd_le(&h, 4);
    o->psize = (uint32_t)rd_le(&h, 4);
    if (o->version != LM_DUMP_VERSION || o->hsize < 64 || o->hsize > len)
        return 9;
    o->blocks = calloc(1, sizeof *o->blocks);
    size_t cap = 1;
    uint64_t addr = 0;
    size_t off = o->hsize;
    while (off < len) {
        if (o->ended || len - off < 8)
            return off + 1;
        struct cur r = { d + off, d + off + 8, false };
        uint32_t type = (uint32_t)rd_le(&r, 4), rlen = (uint32_t)rd_le(&r, 4);
        if (rlen > len - off - 8)
            return off + 1;
        r.end = d + off + 8 + rlen;
        switch (type) {
        case LM_REC_PROCESS: {
            rd_bytes(&r, o->exe, sizeof o->exe, rd_varint(&r));
            o->cmdlen = rd_varint(&r);
            r.p += o->cmdlen;
            break;
        }
        case LM_REC_MODULE: {
            struct rmodule *m = &o->mod[o->nmod];
            if (o->nmod == 64 || rd_varint(&r) != o->nmod)
                return off + 1;
            m->start = rd_le(&r, 8);
            m->end = rd_le(&r, 8);
            m->bias = rd_le(&r, 8);
            m->idlen = rd_varint(&r);
            rd_bytes(&r, m->build_id, sizeof m->build_id, m->idlen);
            rd_bytes(&r, m->path, sizeof m->path, rd_varint(&r));
            o->nmod++;
            break;
        }
        case LM_REC_STACK: {
            if (o->nstack == MAXREC)
                return off + 1;
            o->stack_ids[o->nstack] = rd_varint(&r);
            uint64_t n = rd_varint(&r);
            o->stack_frames[o->nstack] = n;
            for (uint64_t i = 0; i < n && !r.bad; i++) {
                uint64_t pc = rd_le(&r, 8);
                if (i == 0)
                    o->stack_pc0[o->nstack] = pc;
            }
            o->nstack++;
            break;
        }
        case LM_REC_BLOCKS: {
            uint64_t n = rd_varint(&r);
            o->block_recs++;
            for (uint64_t i = 0; i < n && !r.bad; i++) {
                if (o->nblocks == cap) {
                    cap *= 2;
                    o->blocks = realloc(o->blocks, cap * sizeof *o->blocks);
                }
                struct rblock *b = &o->blocks[o->nblocks++];
                uint64_t delta = rd_varint(&r);
                if (o->nblocks > 1 && delta == 0)
                    return (size_t)(r.p - d) + 1;
                addr += delta;
                b->addr = addr;
                b->size = rd_varint(&r);
                b->stack = rd_varint(&r);
                uint8_t c = (uint8_t)rd_le(&r, 1);
                b->cls = LM_DUMP_CLASS(c);
                b->gen = LM_DUMP_GENERATION(c);
                b->age = rd_varint(&r);
                b->unref = rd_varint(&r);
            }
            break;
        }
        case LM_REC_EDGES: {
            uint64_t n = rd_varint(&r);
            for (uint64_t i = 0; i < n && !r.bad; i++) {
                if (o->nedges == MAXREC)
                    return off + 1;
                struct redge *e = &o->edges[o->nedges++];
                e->from = rd_varint(&r);
                e->to = rd_varint(&r);
                e->off = rd_varint(&r);
            }
            break;
        }
        case LM_REC_GENTOTALS:
            for (int i = 0; i < 6; i++)
                o->gen[i] = rd_varint(&r);
            break;
        case LM_REC_SUMMARY:
            for (int i = 0; i < 14; i++)
                o->sum[i] = rd_varint(&r);
            break;
        case LM_REC_END:
            o->end_count = rd_varint(&r);
            o->ended = true;
            break;
        default:
            r.p = r.end;
        }
        if (r.bad || r.p != r.end)
            return off + 1;
        if (type != LM_REC_END)
            o->records++;
        off += 8 + rlen;
    }
    return o->ended ? 0 : len + 1;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc((size_t)n + 1);
    *len = fread(d, 1, (size_t)n, f);
    fclose(f);
    return d;
}

static void parse_file(const char *path, struct parsed *o)
{
    size_t len = 0;
    uint8_t *d = slurp(path, &len);
    assert_non_null(d);
    size_t bad = parse(d, len, o);
    if (bad)
        fail_msg("%s: parse error at offset %zu of %zu", path, bad - 1, len);
    assert_int_equal(o->end_count, o->records);
    free(d);
}

static const struct rblock *find_block(const struct parsed *o, const void *p, size_t *index)
{
    for (size_t i = 0; i < o->nblocks; i++) {
        if (o->blocks[i].addr == (uintptr_t)p) {
            if (index)
                *index = i;
            return &o->blocks[i];
        }
    }
    fail_msg("block %p is not in the dump", p);
    return NULL;
}

/* ---- fixtures ---------------------------------------------------------- */

static char dir[128];
static void *roots[8];
static void *blocks[16];
static size_t nblocks;

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/lm_test_dump.XXXXXX");
    return lm_init() && mkdtemp(dir) ? 0 : -1;
}

static void clean_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
}

static int teardown(void **state)
{
    (void)state;
    clean_dir();
    rmdir(dir);
    return 0;
}

static int teardown_each(void **state)
{
    (void)state;
    for (size_t i = 0; i < nblocks; i++)
        lm_free(blocks[i]);
    nblocks = 0;
    memset(roots, 0, sizeof roots);
    lm_dump_fail_after = 0;
    clean_dir();
    return 0;
}

static void *blk(size_t size)
{
    void *p = lm_calloc(1, size);
    assert_non_null(p);
    blocks[nblocks++] = p;
    return p;
}

static void set_ptr(void *b, size_t off, const void *target)
{
    memcpy((char *)b + off, &target, sizeof target);
}

static int count_files(void)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* The synthetic heap: a reachable chain (one small, one large block), a
 * possible block (interior pointer only), a leaked 3-cycle x -> y -> z -> x
 * and a leaked block held by the cycle (indirect).  Allocation stacks come
 * from the depot through lm_tls_stack_id, as the entry points set it. */
static uintptr_t fake_pcs[3] = { 0x401000, 0x402000, 0x403000 };
static char *a, *big, *poss, *x, *y, *z, *held;
static uint32_t sid;

static void build_heap(void)
{
    sid = lm_stackdepot_put(fake_pcs, 3);
    assert_int_not_equal(sid, 0);
    lm_tls_stack_id = sid;
    a = blk(40);
    lm_tls_stack_id = 0;
    big = blk(300000);           /* a large block */
    poss = blk(24);
    x = blk(64), y = blk(80), z = blk(96), held = blk(200);
    roots[0] = a;
    roots[1] = poss + 8;
    set_ptr(a, 0, big);
    set_ptr(x, 8, y);
    set_ptr(y, 16, z);
    set_ptr(z, 24, x);
    set_ptr(z, 32, held);
}

static void mark(struct lm_mark_result *res)
{
    struct lm_roots r;
    lm_roots_init(&r);
    assert_int_equal(lm_roots_add(&r, (uintptr_t)roots, (uintptr_t)(roots + 8), LM_ROOT_USER), 0);
    lm_mark_result_init(res);
    assert_int_equal(lm_mark_run(&r, res), 0);
    assert_true(res->graph_ok);
    lm_roots_free(&r);
}

static const struct lm_dump_info test_info = {
    .trigger = LM_DUMP_TRIGGER_API, .seq = 7, .pid = 0, .wall_ns = 1234567890123ull,
    .pause_ns = 4242, .scan_ns = 99999, .threads_not_stopped = 1,
};

/* ---- tests ------------------------------------------------------------- */

static void test_roundtrip(void **state)
{
    (void)state;
    build_heap();
    struct lm_mark_result res;
    mark(&res);
    char path[300];
    snprintf(path, sizeof path, "%s/one.dump", dir);
    struct lm_dump_stats st;
    assert_int_equal(lm_dump_write_file(path, &res, &test_info, &st), 0);
    assert_int_equal(count_files(), 1);                 /* no temporary left */

    struct parsed o;
    parse_file(path, &o);
    /* header */
    assert_int_equal(o.version, LM_DUMP_VERSION);
    assert_int_equal(o.hsize, LM_DUMP_HEADER_SIZE);
    assert_int_equal(o.pid, getpid());
    assert_int_equal(o.trigger, LM_DUMP_TRIGGER_API);
    assert_int_equal(o.seq, 7);
    assert_int_equal(o.psize, sizeof(void *));
    assert_int_equal(o.wall, 1234567890123ull);
    assert_int_equal(o.pause, 4242);
    assert_int_equal(o.scan, 99999);
    /* process */
    char exe[512] = { 0 };
    assert_true(readlink("/proc/self/exe", exe, sizeof exe - 1) > 0);
    assert_string_equal(o.exe, exe);
    assert_true(o.cmdlen > 0);
    /* modules: the test binary first, libc with a build-id */
    assert_true(o.nmod >= 3);
    assert_int_equal(st.modules, o.nmod);
    assert_string_equal(o.mod[0].path, exe);
    bool libc = false;
    for (size_t i = 0; i < o.nmod; i++) {
        assert_true(o.mod[i].start < o.mod[i].end);
        if (strstr(o.mod[i].path, "/libc.so.6")) {
            libc = true;
            assert_true(o.mod[i].idlen >= 16);           /* Debian: SHA-1, 20 bytes */
            assert_true(o.mod[i].bias >= o.mod[i].start - 4096 && o.mod[i].bias <= o.mod[i].start);
        }
    }
    assert_true(libc);
    uintptr_t main_pc = (uintptr_t)test_roundtrip;
    assert_true(main_pc >= o.mod[0].start && main_pc < o.mod[0].end);
    /* stacks: exactly the one the blocks use */
    assert_int_equal(o.nstack, 1);
    assert_int_equal(o.stack_ids[0], sid);
    assert_int_equal(o.stack_frames[0], 3);
    assert_int_equal(o.stack_pc0[0], 0x401000);
    /* blocks */
    assert_int_equal(o.nblocks, 7);
    assert_int_equal(st.blocks, 7);
    for (size_t i = 1; i < o.nblocks; i++)
        assert_true(o.blocks[i].addr > o.blocks[i - 1].addr);
    const struct rblock *b = find_block(&o, a, NULL);
    assert_int_equal(b->size, 40);
    assert_int_equal(b->stack, sid);
    assert_int_equal(b->cls, LM_DUMP_REACHABLE);
    assert_int_equal(b->unref, 0);
    b = find_block(&o, big, NULL);
    assert_int_equal(b->size, 300000);
    assert_int_equal(b->cls, LM_DUMP_REACHABLE);
    assert_int_equal(b->stack, 0);
    assert_int_equal(find_block(&o, poss, NULL)->cls, LM_DUMP_POSSIBLE);
    size_t ix, iy, iz, ih;
    assert_int_equal(find_block(&o, x, &ix)->cls, LM_DUMP_DEFINITE);
    assert_int_equal(find_block(&o, y, &iy)->cls, LM_DUMP_DEFINITE);
    assert_int_equal(find_block(&o, z, &iz)->cls, LM_DUMP_DEFINITE);
    assert_int_equal(find_block(&o, held, &ih)->cls, LM_DUMP_INDIRECT);
    assert_true(find_block(&o, x, NULL)->unref >= 1);
    for (size_t i = 0; i < o.nblocks; i++)
        assert_true(o.blocks[i].gen <= 2);
    /* edges: the cycle and the held block, with their offsets */
    assert_int_equal(o.nedges, 4);
    const struct redge want[4] = { { ix, iy, 8 }, { iy, iz, 16 }, { iz, ix, 24 }, { iz, ih, 32 } };
    for (int w = 0; w < 4; w++) {
        bool found = false;
        for (size_t i = 0; i < o.nedges; i++)
            found |= o.edges[i].from == want[w].from && o.edges[i].to == want[w].to &&
                     o.edges[i].off == want[w].off;
        assert_true(found);
    }
    /* totals and summary */
    assert_int_equal(o.gen[0] + o.gen[2] + o.gen[4], 7);
    assert_int_equal(o.gen[1] + o.gen[3] + o.gen[5], 40 + 300000 + 24 + 64 + 80 + 96 + 200);
    const uint64_t sum[14] = { 7, 300504, 3, 240, 1, 200, 1, 24, 2, 300040, 0, 0, 1, 1 };
    for (int i = 0; i < 14; i++)
        assert_int_equal(o.sum[i], sum[i]);
    free(o.blocks);
    lm_mark_result_free(&res);
}

/* Many blocks: several BLOCKS records, addresses still increasing. */
static void test_many_blocks(void **state)
{
    (void)state;
    size_t n = LM_DUMP_BLOCKS_PER_REC * 2 + 100;
    void **v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = lm_malloc(16 + i % 7);
    struct lm_mark_result res;
    mark(&res);
    char path[300];
    snprintf(path, sizeof path, "%s/many.dump", dir);
    struct lm_dump_stats st;
    assert_int_equal(lm_dump_write_file(path, &res, &test_info, &st), 0);
    struct parsed o;
    parse_file(path, &o);
    assert_int_equal(o.nblocks, n);
    assert_int_equal(o.block_recs, 3);
    assert_int_equal(o.sum[0], n);
    assert_int_equal(o.sum[2], n);                      /* nothing roots them */
    assert_int_equal(o.nedges, 0);
    double per_block = (double)st.block_bytes / (double)n;
    print_message("bytes per block: %.2f (%zu blocks, %zu bytes in BLOCKS, %zu file)\n",
                  per_block, n, st.block_bytes, st.bytes);
    assert_true(per_block < 8.0);
    free(o.blocks);
    lm_mark_result_free(&res);
    for (size_t i = 0; i < n; i++)
        lm_free(v[i]);
    free(v);
}

/* A write that fails half-way leaves neither the final name nor the
 * temporary; an older complete file under the final name is kept. */
static void test_truncated_write(void **state)
{
    (void)state;
    build_heap();
    struct lm_mark_result res;
    mark(&res);
    char path[300];
    snprintf(path, sizeof path, "%s/trunc.dump", dir);
    lm_dump_fail_after = 100;
    assert_int_equal(lm_dump_write_file(path, &res, &test_info, NULL), ENOSPC);
    assert_int_equal(count_files(), 0);
    assert_int_not_equal(access(path, F_OK), 0);

    lm_dump_fail_after = 0;
    assert_int_equal(lm_dump_write_file(path, &res, &test_info, NULL), 0);
    struct stat good;
    assert_int_equal(stat(path, &good), 0);
    lm_dump_fail_after = 300;
    assert_int_equal(lm_dump_write_file(path, &res, &test_info, NULL), ENOSPC);
    struct stat after;
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(after.st_size, good.st_size);
    assert_int_equal(after.st_ino, good.st_ino);
    assert_int_equal(count_files(), 1);
    unlink(path);
    lm_mark_result_free(&res);
}

static void *keep_global;
#define HIDE 0x5a5a5a5a5a5a5a5aull

/* The lost block's address is kept only XOR-ed, and the stack the
 * allocation used is scrubbed, so no stale copy keeps it reachable. */
static __attribute__((noinline)) uintptr_t alloc_hidden(size_t size)
{
    return (uintptr_t)lm_calloc(1, size) ^ HIDE;
}
static __attribute__((noinline)) void scrub_stack(void)
{
    volatile char buf[8192];
    memset((char *)buf, 0, sizeof buf);
}

/* The snapshot path: stop, clone, restart, mark in the child, write. */
static void test_dump_now(void **state)
{
    (void)state;
    char *kept = blk(4444);
    keep_global = kept;                      /* a GLOBAL root */
    uintptr_t lost_hidden = alloc_hidden(5555);
    scrub_stack();
    snprintf(lm_options.dump_path, sizeof lm_options.dump_path, "%s/now.%%p.%%n", dir);
    assert_int_equal(lm_dump_now(LM_DUMP_TRIGGER_API), 0);
    assert_int_equal(lm_dump_now(LM_DUMP_TRIGGER_API), 0);
    struct lm_dump_last last;
    lm_dump_last_get(&last);
    assert_int_equal(last.err, 0);
    assert_true(last.bytes > LM_DUMP_HEADER_SIZE);
    char path[300];
    snprintf(path, sizeof path, "%s/now.%d.%u", dir, (int)getpid(), last.seq);
    assert_string_equal(last.path, path);
    assert_int_equal(count_files(), 2);
    struct parsed o;
    parse_file(path, &o);
    assert_int_equal(o.pid, getpid());
    assert_int_equal(o.trigger, LM_DUMP_TRIGGER_API);
    assert_int_equal(o.seq, last.seq);
    assert_true(o.pause > 0 && o.pause <= o.scan);
    assert_int_equal(find_block(&o, kept, NULL)->cls, LM_DUMP_REACHABLE);
    void *lost = (void *)(lost_hidden ^ HIDE);
    assert_int_equal(find_block(&o, lost, NULL)->size, 5555);
    assert_int_equal(find_block(&o, lost, NULL)->cls, LM_DUMP_DEFINITE);
    free(o.blocks);
    keep_global = NULL;
    lm_free(lost);
}

static void test_parse_signal(void **state)
{
    (void)state;
    int s;
    assert_int_equal(lm_dumper_parse_signal("SIGUSR1", &s), 0); assert_int_equal(s, SIGUSR1);
    assert_int_equal(lm_dumper_parse_signal("USR1", &s), 0); assert_int_equal(s, SIGUSR1);
    assert_int_equal(lm_dumper_parse_signal("sigusr2", &s), 0); assert_int_equal(s, SIGUSR2);
    assert_int_equal(lm_dumper_parse_signal("12", &s), 0); assert_int_equal(s, 12);
    assert_int_equal(lm_dumper_parse_signal("0", &s), 0); assert_int_equal(s, 0);
    assert_int_equal(lm_dumper_parse_signal("", &s), 0); assert_int_equal(s, 0);
    assert_int_equal(lm_dumper_parse_signal("RTMIN+3", &s), 0); assert_int_equal(s, SIGRTMIN + 3);
    assert_int_equal(lm_dumper_parse_signal("SIGRTMAX-2", &s), 0); assert_int_equal(s, SIGRTMAX - 2);
    assert_int_equal(lm_dumper_parse_signal("SIGRTMAX", &s), 0); assert_int_equal(s, SIGRTMAX);
    assert_int_equal(lm_dumper_parse_signal("SIGFOO", &s), EINVAL);
    assert_int_equal(lm_dumper_parse_signal("SIGKILL", &s), EINVAL);
    assert_int_equal(lm_dumper_parse_signal("STOP", &s), EINVAL);
    assert_int_equal(lm_dumper_parse_signal("99", &s), EINVAL);
    assert_int_equal(lm_dumper_parse_signal("33", &s), EINVAL);
    assert_int_equal(lm_dumper_parse_signal("RTMIN-1", &s), EINVAL);
    assert_int_equal(lm_dumper_parse_signal("USR1x", &s), EINVAL);
    char name[32];
    lm_dumper_signal_name(SIGUSR1, name, sizeof name);
    assert_string_equal(name, "SIGUSR1");
    lm_dumper_signal_name(SIGRTMIN + 2, name, sizeof name);
    assert_string_equal(name, "SIGRTMIN+2");
}

static void test_expand_path(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(lm_dump_expand_path(out, sizeof out, "d.%p.%n.dump", 123, 45), 13);
    assert_string_equal(out, "d.123.45.dump");
    lm_dump_expand_path(out, sizeof out, "100%%-%x", 1, 2);
    assert_string_equal(out, "100%-%x");
    assert_int_equal(lm_dump_expand_path(out, 8, "long.%p.%n", 123456, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_roundtrip, teardown_each),
        cmocka_unit_test_teardown(test_many_blocks, teardown_each),
        cmocka_unit_test_teardown(test_truncated_write, teardown_each),
        cmocka_unit_test_teardown(test_dump_now, teardown_each),
        cmocka_unit_test(test_parse_signal),
        cmocka_unit_test(test_expand_path),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
