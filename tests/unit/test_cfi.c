/*
 * test_cfi.c - call-frame information reading (preload/cfi.h) on hand-made
 * .eh_frame records: the rows of a push-rbp / mov-rbp prologue and epilogue,
 * remember/restore state, advance_loc of every width, an undefined return
 * address (outermost frame), what must be declined (CFA expressions, signal
 * frames, records cut short), a pc no FDE covers (told apart: the walker
 * ends there when rbp is 0), the .eh_frame_hdr binary search, and rules for
 * real code of this test program.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cfi.h"

struct builder {
    uint8_t buf[1024];
    size_t len;
};

static void put(struct builder *b, const void *p, size_t n)
{
    assert_true(b->len + n <= sizeof b->buf);
    memcpy(b->buf + b->len, p, n);
    b->len += n;
}

static void put_u32(struct builder *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(struct builder *b, uint64_t v) { put(b, &v, 8); }
static void put_u8(struct builder *b, uint8_t v) { put(b, &v, 1); }

/* A CIE at b->len: code align 1, data align -8, RA = 16, pointer encoding
 * absptr, CFA = rsp + 8, RA at CFA - 8.  `aug` is "zR" or "zRS".
 * Returns its offset. */
static size_t add_cie(struct builder *b, const char *aug)
{
    size_t at = b->len;
    put_u32(b, 0);                          /* length, patched below */
    put_u32(b, 0);                          /* CIE id */
    put_u8(b, 1);                           /* version */
    put(b, aug, strlen(aug) + 1);
    put_u8(b, 1);                           /* code align */
    put_u8(b, 0x78);                        /* data align -8 */
    put_u8(b, 16);                          /* RA column */
    put_u8(b, 1);                           /* augmentation data length */
    put_u8(b, 0x00);                        /* R: absptr */
    static const uint8_t init[] = { 0x0c, 7, 8, 0x90, 1 };
    put(b, init, sizeof init);
    while ((b->len - at) % 8)
        put_u8(b, 0);                       /* DW_CFA_nop */
    uint32_t len = (uint32_t)(b->len - at - 4);
    memcpy(b->buf + at, &len, 4);
    return at;
}

/* An FDE for [begin, begin + range) with the given instructions. */
static size_t add_fde(struct builder *b, size_t cie_at, uintptr_t begin, uint64_t range,
                      const uint8_t *insns, size_t n)
{
    size_t at = b->len;
    put_u32(b, 0);
    put_u32(b, (uint32_t)(b->len - cie_at));  /* from this field back to the CIE */
    put_u64(b, begin);
    put_u64(b, range);
    put_u8(b, 0);                            /* augmentation data length */
    put(b, insns, n);
    while ((b->len - at) % 8)
        put_u8(b, 0);
    uint32_t len = (uint32_t)(b->len - at - 4);
    memcpy(b->buf + at, &len, 4);
    return at;
}

static int rule_at(struct builder *b, size_t fde, uintptr_t pc, struct lm_cfi_rule *r)
{
    return lm_cfi_rule_from_fde(b->buf + fde, 0, pc, r);
}

/* push %rbp; mov %rsp,%rbp; ... ; leave-like epilogue. */
static const uint8_t prologue[] = {
    0x41,             /* advance 1 */
    0x0e, 16,         /* def_cfa_offset 16 */
    0x86, 2,          /* rbp at cfa-16 */
    0x43,             /* advance 3 */
    0x0d, 6,          /* def_cfa_register rbp */
    0x02, 0x30,       /* advance_loc1 0x30 */
    0x0c, 7, 8,       /* def_cfa rsp+8 */
    0xc6,             /* restore rbp */
};

static void test_prologue_rows(void **state)
{
    (void)state;
    struct builder b = { .len = 0 };
    size_t cie = add_cie(&b, "zR");
    size_t fde = add_fde(&b, cie, 0x1000, 0x100, prologue, sizeof prologue);
    struct lm_cfi_rule r;

    assert_int_equal(rule_at(&b, fde, 0x1000, &r), LM_CFI_NORMAL);
    assert_int_equal(r.cfa_base, LM_CFI_RSP);
    assert_int_equal(r.cfa_off, 8);
    assert_int_equal(r.ra_off, -8);
    assert_int_equal(r.rbp_saved, 0);

    assert_int_equal(rule_at(&b, fde, 0x1001, &r), LM_CFI_NORMAL);
    assert_int_equal(r.cfa_base, LM_CFI_RSP);
    assert_int_equal(r.cfa_off, 16);
    assert_int_equal(r.rbp_saved, 1);
    assert_int_equal(r.rbp_off, -16);

    for (uintptr_t pc = 0x1004; pc < 0x1034; pc += 0x17) {
        assert_int_equal(rule_at(&b, fde, pc, &r), LM_CFI_NORMAL);
        assert_int_equal(r.cfa_base, LM_CFI_RBP);
        assert_int_equal(r.cfa_off, 16);
        assert_int_equal(r.rbp_saved, 1);
    }
    assert_int_equal(rule_at(&b, fde, 0x1034, &r), LM_CFI_NORMAL);
    assert_int_equal(r.cfa_base, LM_CFI_RSP);
    assert_int_equal(r.cfa_off, 8);
    assert_int_equal(r.rbp_saved, 0);        /* restored to the CIE's rule */

    /* Outside the FDE's range. */
    assert_int_equal(rule_at(&b, fde, 0x0fff, &r), LM_CFI_NO_FDE);   /* before, after the range */
    assert_int_equal(rule_at(&b, fde, 0x1100, &r), LM_CFI_NO_FDE);
}

static void test_remember_restore_and_wide_advances(void **state)
{
    (void)state;
    static const uint8_t insns[] = {
        0x41, 0x0e, 32,          /* @1: cfa rsp+32 */
        0x0a,                    /* remember */
        0x03, 0x00, 0x01,        /* advance_loc2 0x100 -> @0x101 */
        0x0e, 8,                 /* cfa rsp+8 (an early return path) */
        0x04, 0x00, 0x00, 0x01, 0x00, /* advance_loc4 0x10000 -> @0x10101 */
        0x0b,                    /* restore: rsp+32 again */
    };
    struct builder b = { .len = 0 };
    size_t cie = add_cie(&b, "zR");
    size_t fde = add_fde(&b, cie, 0x2000, 0x20000, insns, sizeof insns);
    struct lm_cfi_rule r;
    assert_int_equal(rule_at(&b, fde, 0x2000 + 0x50, &r), LM_CFI_NORMAL);
    assert_int_equal(r.cfa_off, 32);
    assert_int_equal(rule_at(&b, fde, 0x2000 + 0x101, &r), LM_CFI_NORMAL);
    assert_int_equal(r.cfa_off, 8);
    assert_int_equal(rule_at(&b, fde, 0x2000 + 0x10100, &r), LM_CFI_NORMAL);
    assert_int_equal(r.cfa_off, 8);
    assert_int_equal(rule_at(&b, fde, 0x2000 + 0x10101, &r), LM_CFI_NORMAL);
    assert_int_equal(r.cfa_off, 32);
}

static void test_declined_and_outermost(void **state)
{
    (void)state;
    struct builder b = { .len = 0 };
    size_t cie = add_cie(&b, "zR");
    static const uint8_t expr[] = { 0x41, 0x0f, 2, 0x77, 0x08 };   /* def_cfa_expression */
    static const uint8_t undef_ra[] = { 0x07, 16 };                  /* RA undefined */
    static const uint8_t cfa_r10[] = { 0x41, 0x0c, 10, 0 };          /* CFA = r10 */
    static const uint8_t rbp_in_reg[] = { 0x09, 6, 3 };              /* rbp in rbx */
    static const uint8_t bad_op[] = { 0x41, 0x3f };                  /* unknown opcode */
    static const uint8_t cut_uleb[] = { 0x0e, 0x80, 0x80, 0x80 };    /* runs off the end */
    size_t f_expr = add_fde(&b, cie, 0x3000, 0x10, expr, sizeof expr);
    size_t f_undef = add_fde(&b, cie, 0x3000, 0x10, undef_ra, sizeof undef_ra);
    size_t f_r10 = add_fde(&b, cie, 0x3000, 0x10, cfa_r10, sizeof cfa_r10);
    size_t f_reg = add_fde(&b, cie, 0x3000, 0x10, rbp_in_reg, sizeof rbp_in_reg);
    size_t f_bad = add_fde(&b, cie, 0x3000, 0x10, bad_op, sizeof bad_op);
    size_t cie_s = add_cie(&b, "zRS");
    size_t f_sig = add_fde(&b, cie_s, 0x3000, 0x10, NULL, 0);
    struct lm_cfi_rule r;

    assert_int_equal(rule_at(&b, f_expr, 0x3000, &r), LM_CFI_NORMAL);   /* before the advance */
    assert_int_equal(rule_at(&b, f_expr, 0x3001, &r), LM_CFI_UNSUPPORTED);
    assert_int_equal(rule_at(&b, f_undef, 0x3004, &r), LM_CFI_OUTERMOST);
    assert_int_equal(rule_at(&b, f_r10, 0x3000, &r), LM_CFI_NORMAL);
    assert_int_equal(rule_at(&b, f_r10, 0x3008, &r), LM_CFI_UNSUPPORTED);
    assert_int_equal(rule_at(&b, f_reg, 0x3000, &r), LM_CFI_UNSUPPORTED);
    assert_int_equal(rule_at(&b, f_bad, 0x3008, &r), LM_CFI_UNSUPPORTED);
    assert_int_equal(rule_at(&b, f_sig, 0x3000, &r), LM_CFI_UNSUPPORTED);

    /* The uleb is cut by the FDE's own length: the padding nops after it
     * are continuation bytes' end, so shrink the length to end inside it. */
    size_t f_cut = add_fde(&b, cie, 0x3000, 0x10, cut_uleb, sizeof cut_uleb);
    uint32_t len = 4 + 8 + 8 + 1 + 3;        /* ends after 0x0e 0x80 0x80 */
    memcpy(b.buf + f_cut, &len, 4);
    assert_int_equal(rule_at(&b, f_cut, 0x3000, &r), LM_CFI_UNSUPPORTED);
}

/* .eh_frame_hdr: version 1, eh_frame_ptr pcrel sdata4, count udata4,
 * table datarel sdata4 sorted by initial location. */
static void test_hdr_binary_search(void **state)
{
    (void)state;
    static struct builder b;                 /* hdr first, then .eh_frame */
    memset(&b, 0, sizeof b);
    uintptr_t base = (uintptr_t)b.buf;
    uintptr_t code1 = base + 0x200, code2 = base + 0x300;
    const size_t hdr_len = 4 + 4 + 4 + 2 * 8;
    b.len = hdr_len;
    size_t cie = add_cie(&b, "zR");
    size_t f1 = add_fde(&b, cie, code1, 0x40, prologue, sizeof prologue);
    static const uint8_t big[] = { 0x41, 0x0e, 0x80, 0x02 };   /* rsp+256 */
    size_t f2 = add_fde(&b, cie, code2, 0x40, big, sizeof big);
    uint8_t *h = b.buf;
    h[0] = 1, h[1] = 0x1b, h[2] = 0x03, h[3] = 0x3b;
    int32_t v = (int32_t)(hdr_len - 8);      /* pcrel from the field at 4 */
    memcpy(h + 4, &v, 4);
    uint32_t count = 2;
    memcpy(h + 8, &count, 4);
    int32_t table[4] = { 0x200, (int32_t)f1, 0x300, (int32_t)f2 };
    memcpy(h + 12, table, sizeof table);

    struct lm_cfi_rule r;
    assert_int_equal(lm_cfi_rule_from_hdr(h, code1 + 1, &r), LM_CFI_NORMAL);
    assert_int_equal(r.cfa_off, 16);
    assert_int_equal(lm_cfi_rule_from_hdr(h, code2 + 1, &r), LM_CFI_NORMAL);
    assert_int_equal(r.cfa_off, 256);
    assert_int_equal(lm_cfi_rule_from_hdr(h, code1 + 0x80, &r), LM_CFI_NO_FDE); /* gap */
    assert_int_equal(lm_cfi_rule_from_hdr(h, base + 0x10, &r), LM_CFI_NO_FDE);  /* below */
    h[3] = 0x03;                             /* a table encoding we do not read */
    assert_int_equal(lm_cfi_rule_from_hdr(h, code1 + 1, &r), LM_CFI_UNSUPPORTED);
    h[3] = 0x3b, h[0] = 2;                   /* unknown version */
    assert_int_equal(lm_cfi_rule_from_hdr(h, code1 + 1, &r), LM_CFI_UNSUPPORTED);
}

static __attribute__((noinline)) int leaf(int x) { return x * 3 + 1; }

static void test_real_code(void **state)
{
    (void)state;
    struct lm_cfi_rule r;
    /* The first instruction of any function: CFA = rsp + 8, RA at -8. */
    assert_int_equal(lm_cfi_rule_for((uintptr_t)leaf, &r), LM_CFI_NORMAL);
    assert_int_equal(r.cfa_base, LM_CFI_RSP);
    assert_int_equal(r.cfa_off, 8);
    assert_int_equal(r.ra_off, -8);
    assert_int_equal(lm_cfi_rule_for((uintptr_t)memcpy, &r), LM_CFI_NORMAL);
    assert_int_equal(r.cfa_off, 8);
    /* Not code of any object. */
    assert_int_equal(lm_cfi_rule_for(0x1000, &r), LM_CFI_UNSUPPORTED);
    int on_stack = leaf(2);
    assert_int_equal(lm_cfi_rule_for((uintptr_t)&on_stack, &r), LM_CFI_UNSUPPORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prologue_rows),
        cmocka_unit_test(test_remember_restore_and_wide_advances),
        cmocka_unit_test(test_declined_and_outermost),
        cmocka_unit_test(test_hdr_binary_search),
        cmocka_unit_test(test_real_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
