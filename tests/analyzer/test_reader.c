/*
 * test_reader.c - unit tests of the dump reader (analyzer/reader.c): the
 * cursor primitives (varints, fixed-width integers, length-prefixed
 * bytes) and whole files built here byte by byte: minimal valid dump,
 * unknown records skipped, and the error offset of each kind of damage.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "graph.h"
#include "reader.h"

#include <string.h>

static struct an_rd cursor(const void *p, size_t n)
{
    return (struct an_rd){ .buf = p, .pos = 0, .end = n };
}

static void test_varint_values(void **state)
{
    (void)state;
    static const struct { const char *bytes; size_t n; uint64_t v; } cases[] = {
        { "\x00", 1, 0 }, { "\x7f", 1, 127 }, { "\x80\x01", 2, 128 },
        { "\xe5\x8e\x26", 3, 624485 },
        { "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10, UINT64_MAX },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct an_rd r = cursor(cases[i].bytes, cases[i].n);
        struct an_err e;
        uint64_t v = 1234;
        assert_int_equal(an_rd_varint(&r, "x", UINT64_MAX, &v, &e), 0);
        assert_true(v == cases[i].v);
        assert_int_equal(r.pos, cases[i].n);
    }
}

static void test_varint_errors(void **state)
{
    (void)state;
    struct an_err e;
    uint64_t v;
    /* 11 bytes */
    struct an_rd r = cursor("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x81\x01", 11);
    assert_int_equal(an_rd_varint(&r, "x", UINT64_MAX, &v, &e), -1);
    assert_int_equal(e.offset, 0);
    /* 10th byte > 1: more than 64 bits */
    r = cursor("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
    assert_int_equal(an_rd_varint(&r, "x", UINT64_MAX, &v, &e), -1);
    assert_non_null(strstr(e.msg, "64 bits"));
    /* runs past the end: the continuation bit on the last byte */
    r = cursor("\x05\x80\x80", 3);
    r.pos = 1;
    assert_int_equal(an_rd_varint(&r, "x", UINT64_MAX, &v, &e), -1);
    assert_int_equal(e.offset, 1);
    assert_true(r.pos <= r.end);
    /* above the field's maximum */
    r = cursor("\x80\x02", 2);
    assert_int_equal(an_rd_varint(&r, "idx", 255, &v, &e), -1);
    assert_non_null(strstr(e.msg, "idx 256 is larger than 255"));
}

static void test_fixed_and_bytes(void **state)
{
    (void)state;
    struct an_err e;
    const uint8_t data[] = { 0x78, 0x56, 0x34, 0x12, 0x03, 'a', 'b', 'c', 0x05, 'x' };
    struct an_rd r = cursor(data, sizeof data);
    uint32_t u;
    assert_int_equal(an_rd_u32(&r, "u", &u, &e), 0);
    assert_int_equal(u, 0x12345678);
    const uint8_t *p;
    size_t n;
    assert_int_equal(an_rd_bytes(&r, "s", &p, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(p, "abc", 3);
    /* length 5 with 1 byte left: refused, offset of the length */
    assert_int_equal(an_rd_bytes(&r, "s", &p, &n, &e), -1);
    assert_int_equal(e.offset, 8);
    uint64_t q;
    r = cursor(data, 7);
    assert_int_equal(an_rd_u64(&r, "q", &q, &e), -1);
    assert_int_equal(r.pos, 0);
}

/* ---- whole files ---- */

struct fb { uint8_t p[1024]; size_t n; size_t rec; unsigned nrec; };

static void b8(struct fb *b, unsigned v) { b->p[b->n++] = (uint8_t)v; }
static void b32(struct fb *b, uint32_t v) { for (int i = 0; i < 4; i++) b8(b, (v >> 8 * i) & 0xff); }
static void b64(struct fb *b, uint64_t v) { for (int i = 0; i < 8; i++) b8(b, (unsigned)(v >> 8 * i) & 0xff); }
static void bv(struct fb *b, uint64_t v)
{
    do { b8(b, (unsigned)(v & 0x7f) | (v > 0x7f ? 0x80 : 0)); v >>= 7; } while (v);
}
static void rec(struct fb *b, uint32_t type) { b->rec = b->n; b32(b, type); b32(b, 0); }
static void end_rec(struct fb *b)
{
    uint32_t len = (uint32_t)(b->n - b->rec - 8);
    memcpy(b->p + b->rec + 4, &len, 4);            /* little-endian host */
    b->nrec++;
}

static void header(struct fb *b)
{
    memset(b, 0, sizeof *b);
    memcpy(b->p, LM_DUMP_MAGIC, 8);
    b->n = 8;
    b32(b, 1); b32(b, 64); b32(b, 77); b32(b, LM_DUMP_TRIGGER_API);
    b64(b, 1); b64(b, 2000000); b64(b, 3000000); b32(b, 0); b32(b, 8); b64(b, 0);
}

static void finish(struct fb *b)
{
    rec(b, LM_REC_END);
    bv(b, b->nrec);
    end_rec(b);
}

/* two leaked blocks pointing at each other, one stack */
static void small_dump(struct fb *b, bool unknown)
{
    header(b);
    rec(b, LM_REC_STACK); bv(b, 9); bv(b, 1); b64(b, 0x1000); end_rec(b);
    if (unknown) { rec(b, 0x4242); b8(b, 0xff); b8(b, 0xff); end_rec(b); }
    rec(b, LM_REC_BLOCKS); bv(b, 2);
    bv(b, 0x10000); bv(b, 16); bv(b, 9); b8(b, LM_DUMP_DEFINITE); bv(b, 1); bv(b, 1);
    bv(b, 0x20); bv(b, 16); bv(b, 0); b8(b, LM_DUMP_DEFINITE | 2 << 3); bv(b, 1); bv(b, 1);
    end_rec(b);
    rec(b, LM_REC_EDGES); bv(b, 2); bv(b, 0); bv(b, 1); bv(b, 0); bv(b, 1); bv(b, 0); bv(b, 8);
    end_rec(b);
    finish(b);
}

static int parse(const struct fb *b, struct an_dump *d, struct an_err *e)
{
    an_dump_init(d, "t");
    return an_dump_parse(b->p, b->n, d, e);
}

static void test_small_dump(void **state)
{
    (void)state;
    struct fb b;
    struct an_dump d;
    struct an_err e;
    for (int unknown = 0; unknown < 2; unknown++) {
        small_dump(&b, unknown);
        assert_int_equal(parse(&b, &d, &e), 0);
        assert_int_equal(d.pid, 77);
        assert_int_equal(d.trigger, LM_DUMP_TRIGGER_API);
        assert_int_equal(d.nblocks, 2);
        assert_true(d.blocks[1].addr == 0x10020);
        assert_int_equal(d.blocks[1].gen, 2);
        assert_int_equal(d.blocks[0].stack, 0);
        assert_int_equal(d.blocks[1].stack, AN_NONE);
        assert_int_equal(d.nedges, 2);
        assert_int_equal(d.records, unknown ? 4 : 3);
        struct an_graph g;
        assert_int_equal(an_graph_build(&d, &g), 0);
        assert_int_equal(g.nscc, 1);
        assert_int_equal(g.cycles, 1);
        assert_true(g.scc_flags[0] & AN_SCC_ROOT);
        an_graph_free(&g);
        an_dump_free(&d);
    }
}

static void test_every_prefix_fails(void **state)
{
    (void)state;
    struct fb b;
    struct an_dump d;
    struct an_err e;
    small_dump(&b, true);
    for (size_t n = 0; n < b.n; n++) {
        an_dump_init(&d, "t");
        assert_int_equal(an_dump_parse(b.p, n, &d, &e), -1);
        assert_true(e.offset <= n);
        an_dump_free(&d);
    }
}

static void expect_error(struct fb *b, uint64_t offset, const char *words)
{
    struct an_dump d;
    struct an_err e;
    assert_int_equal(parse(b, &d, &e), -1);
    if (!strstr(e.msg, words) || e.offset != offset)
        fail_msg("got offset %llu '%s', expected %llu '%s'", (unsigned long long)e.offset,
                 e.msg, (unsigned long long)offset, words);
    an_dump_free(&d);
}

static void test_damage(void **state)
{
    (void)state;
    struct fb b;
    small_dump(&b, false);
    b.p[12] = 32;                                  /* header size < 64 */
    expect_error(&b, 12, "smaller than 64");

    small_dump(&b, false);
    b.p[52] = 4;                                   /* pointer size */
    expect_error(&b, 52, "pointer size 4");

    small_dump(&b, false);                         /* stack frame count 127 */
    b.p[64 + 8 + 1] = 0x7f;
    expect_error(&b, 64 + 8 + 1, "frame count 127 needs 1016 bytes");

    small_dump(&b, false);                         /* stack id 0 */
    b.p[64 + 8] = 0;
    expect_error(&b, 64 + 8, "stack id 0");

    small_dump(&b, false);                         /* END count off by one */
    b.p[b.n - 1]++;
    expect_error(&b, b.n - 1, "END record counts");

    header(&b);                                    /* no END at all */
    expect_error(&b, 64, "without an END record");

    header(&b);                                    /* blocks out of order */
    rec(&b, LM_REC_BLOCKS); bv(&b, 2);
    bv(&b, 0x100); bv(&b, 64); bv(&b, 0); b8(&b, 0); bv(&b, 0); bv(&b, 0);
    size_t second = b.n;
    bv(&b, 0x10); bv(&b, 8); bv(&b, 0); b8(&b, 0); bv(&b, 0); bv(&b, 0);
    end_rec(&b);
    finish(&b);
    expect_error(&b, second, "overlaps the previous block");

    header(&b);                                    /* module index out of order */
    rec(&b, LM_REC_MODULE); size_t idx = b.n; bv(&b, 1); end_rec(&b);
    finish(&b);
    expect_error(&b, idx, "module index 1, expected 0");

    header(&b);                                    /* trailing bytes in a known record */
    rec(&b, LM_REC_GENTOTALS);
    for (int i = 0; i < 6; i++) bv(&b, 0);
    size_t extra = b.n;
    b8(&b, 0);
    end_rec(&b);
    finish(&b);
    expect_error(&b, extra, "1 unparsed bytes at the end of the GENTOTALS record");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint_values),
        cmocka_unit_test(test_varint_errors),
        cmocka_unit_test(test_fixed_and_bytes),
        cmocka_unit_test(test_small_dump),
        cmocka_unit_test(test_every_prefix_fails),
        cmocka_unit_test(test_damage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
