/*
 * cfi.c - owns the reading of .eh_frame_hdr / .eh_frame call-frame
 * information into the small per-address unwind rule of cfi.h.
 *
 * Path: _dl_find_object(pc) gives the object's PT_GNU_EH_FRAME segment
 * (.eh_frame_hdr); its sorted table (datarel sdata4 pairs, what binutils and
 * lld write) is binary-searched for the FDE covering pc; the FDE's CIE gives
 * the alignment factors, the pointer encoding and the initial instructions;
 * the CIE's then the FDE's instructions run up to pc, tracking only the CFA,
 * rbp (DWARF 6) and the return-address column.
 *
 * Invariants: no state, no malloc, no locks, no stdio (see cfi.h).  Every
 * read of a CIE or FDE stays below the end its length field declares; an
 * instruction or encoding this reader does not model gives
 * LM_CFI_UNSUPPORTED, never a guess.
 */
#include "cfi.h"

#include <dlfcn.h>
#include <string.h>

#pragma weak _dl_find_object

#define DW_REG_RBP 6
#define DW_REG_RSP 7

/* DW_EH_PE_* pointer encodings */
#define PE_OMIT     0xff
#define PE_FORMAT   0x0f
#define PE_APPL     0x70
#define PE_INDIRECT 0x80
#define PE_ABSPTR   0x00
#define PE_ULEB     0x01
#define PE_UDATA2   0x02
#define PE_UDATA4   0x03
#define PE_UDATA8   0x04
#define PE_SLEB     0x09
#define PE_SDATA2   0x0a
#define PE_SDATA4   0x0b
#define PE_SDATA8   0x0c
#define PE_PCREL    0x10
#define PE_DATAREL  0x30

/* A bounded little-endian reader. */
struct cursor {
    const uint8_t *p, *end;
    bool bad;
};

static uint64_t rd_fixed(struct cursor *c, unsigned n)
{
    if (c->bad || (size_t)(c->end - c->p) < n) {
        c->bad = true;
        return 0;
    }
    uint64_t v = 0;
    memcpy(&v, c->p, n);             /* x86_64: little endian */
    c->p += n;
    return v;
}

static uint64_t rd_uleb(struct cursor *c)
{
    uint64_t v = 0;
    for (unsigned shift = 0; !c->bad; shift += 7) {
        if (c->p >= c->end || shift > 63) {
            c->bad = true;
            break;
        }
        uint8_t b = *c->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    return 0;
}

static int64_t rd_sleb(struct cursor *c)
{
    int64_t v = 0;
    unsigned shift = 0;
    uint8_t b = 0x80;
    while (!c->bad && (b & 0x80)) {
        if (c->p >= c->end || shift > 63) {
            c->bad = true;
            return 0;
        }
        b = *c->p++;
        v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
        shift += 7;
    }
    if (shift < 64 && (b & 0x40))
        v |= -((int64_t)1 << shift);
    return v;
}

/* Reads a pointer in encoding enc; `data_base` resolves datarel. */
static uintptr_t rd_encoded(struct cursor *c, uint8_t enc, uintptr_t data_base)
{
    if (enc == PE_OMIT || (enc & PE_INDIRECT)) {
        c->bad = true;
        return 0;
    }
    uintptr_t here = (uintptr_t)c->p;
    uint64_t v;
    switch (enc & PE_FORMAT) {
    case PE_ABSPTR: v = rd_fixed(c, 8); break;
    case PE_ULEB:   v = rd_uleb(c); break;
    case PE_UDATA2: v = rd_fixed(c, 2); break;
    case PE_UDATA4: v = rd_fixed(c, 4); break;
    case PE_UDATA8: v = rd_fixed(c, 8); break;
    case PE_SLEB:   v = (uint64_t)rd_sleb(c); break;
    case PE_SDATA2: v = (uint64_t)(int64_t)(int16_t)rd_fixed(c, 2); break;
    case PE_SDATA4: v = (uint64_t)(int64_t)(int32_t)rd_fixed(c, 4); break;
    case PE_SDATA8: v = rd_fixed(c, 8); break;
    default: c->bad = true; return 0;
    }
    switch (enc & PE_APPL) {
    case 0: break;
    case PE_PCREL: v += here; break;
    case PE_DATAREL:
        if (!data_base)
            c->bad = true;
        v += data_base;
        break;
    default: c->bad = true; break;
    }
    return (uintptr_t)v;
}

/* ---------------------------------------------------------------- */
/* The CFA program                                                   */

enum reg_how { REG_SAME = 0, REG_AT_CFA, REG_UNDEFINED, REG_OTHER };

struct row {
    uint8_t cfa_reg_ok;     /* CFA = rsp/rbp + off (else unsupported) */
    uint8_t cfa_base;
    int64_t cfa_off;
    uint8_t rbp_how, ra_how;
    int64_t rbp_off, ra_off;
};

#define REMEMBER_MAX 8

struct cie_info {
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_reg;
    uint8_t fde_enc;
    bool has_z;
    const uint8_t *insns, *insns_end;
};

static void set_reg(struct row *r, uint64_t reg, uint8_t how, int64_t off, uint64_t ra_reg)
{
    if (reg == DW_REG_RBP) {
        r->rbp_how = how;
        r->rbp_off = off;
    } else if (reg == ra_reg) {
        r->ra_how = how;
        r->ra_off = off;
    }
}

static void restore_reg(struct row *r, const struct row *initial, uint64_t reg, uint64_t ra_reg)
{
    if (reg == DW_REG_RBP) {
        r->rbp_how = initial->rbp_how;
        r->rbp_off = initial->rbp_off;
    } else if (reg == ra_reg) {
        r->ra_how = initial->ra_how;
        r->ra_off = initial->ra_off;
    }
}

static void set_cfa_reg(struct row *r, uint64_t reg)
{
    r->cfa_reg_ok = reg == DW_REG_RSP || reg == DW_REG_RBP;
    r->cfa_base = reg == DW_REG_RBP ? LM_CFI_RBP : LM_CFI_RSP;
}

/*
 * Runs instructions [p, end) starting at code address *loc, stopping before
 * the first advance past `pc` (loc == UINTPTR_MAX: run all, the CIE's
 * initial instructions).  `initial` is the row after the CIE (for restore).
 * Returns false on anything unmodelled.
 */
static bool run_cfa(const struct cie_info *cie, const uint8_t *p, const uint8_t *end, uintptr_t *loc,
                    uintptr_t pc, uintptr_t data_base, struct row *r, const struct row *initial)
{
    struct row stack[REMEMBER_MAX];
    unsigned depth = 0;
    struct cursor c = { p, end, false };
    uint64_t ra = cie->ra_reg;

    while (c.p < c.end && !c.bad) {
        uint8_t op = *c.p++;
        uint8_t low = op & 0x3f;
        uint64_t delta = 0, reg;
        int64_t off;
        switch (op >> 6) {
        case 1:                                     /* advance_loc */
            delta = low;
            goto advance;
        case 2:                                     /* offset */
            off = (int64_t)rd_uleb(&c) * cie->data_align;
            set_reg(r, low, REG_AT_CFA, off, ra);
            continue;
        case 3:                                     /* restore */
            if (!initial)
                return false;
            restore_reg(r, initial, low, ra);
            continue;
        default:
            break;
        }
        switch (op) {
        case 0x00: break;                            /* nop */
        case 0x01:                                   /* set_loc */
            if (*loc == UINTPTR_MAX)
                return false;
            {
                uintptr_t to = rd_encoded(&c, cie->fde_enc, data_base);
                if (c.bad || to < *loc)
                    return false;
                if (to > pc)
                    return true;
                *loc = to;
            }
            break;
        case 0x02: delta = rd_fixed(&c, 1); goto advance;
        case 0x03: delta = rd_fixed(&c, 2); goto advance;
        case 0x04: delta = rd_fixed(&c, 4); goto advance;
        case 0x05:                                   /* offset_extended */
            reg = rd_uleb(&c);
            off = (int64_t)rd_uleb(&c) * cie->data_align;
            set_reg(r, reg, REG_AT_CFA, off, ra);
            break;
        case 0x06:                                   /* restore_extended */
            if (!initial)
                return false;
            restore_reg(r, initial, rd_uleb(&c), ra);
            break;
        case 0x07:                                   /* undefined */
            set_reg(r, rd_uleb(&c), REG_UNDEFINED, 0, ra);
            break;
        case 0x08:                                   /* same_value */
            set_reg(r, rd_uleb(&c), REG_SAME, 0, ra);
            break;
        case 0x09:                                   /* register */
        case 0x14:                                   /* val_offset */
            reg = rd_uleb(&c);
            (void)rd_uleb(&c);
            set_reg(r, reg, REG_OTHER, 0, ra);
            break;
        case 0x0a:                                   /* remember_state */
            if (depth == REMEMBER_MAX)
                return false;
            stack[depth++] = *r;
            break;
        case 0x0b:                                   /* restore_state */
            if (depth == 0)
                return false;
            *r = stack[--depth];                     /* the CFA rule too (DWARF 5) */
            break;
        case 0x0c:                                   /* def_cfa */
            set_cfa_reg(r, rd_uleb(&c));
            r->cfa_off = (int64_t)rd_uleb(&c);
            break;
        case 0x0d:                                   /* def_cfa_register */
            set_cfa_reg(r, rd_uleb(&c));
            break;
        case 0x0e:                                   /* def_cfa_offset */
            r->cfa_off = (int64_t)rd_uleb(&c);
            break;
        case 0x0f:                                   /* def_cfa_expression */
            return false;
        case 0x10:                                   /* expression */
        case 0x16:                                   /* val_expression */
            reg = rd_uleb(&c);
            {
                uint64_t len = rd_uleb(&c);
                if (c.bad || len > (uint64_t)(c.end - c.p))
                    return false;
                c.p += len;
            }
            set_reg(r, reg, REG_OTHER, 0, ra);
            break;
        case 0x11:                                   /* offset_extended_sf */
            reg = rd_uleb(&c);
            off = rd_sleb(&c) * cie->data_align;
            set_reg(r, reg, REG_AT_CFA, off, ra);
            break;
        case 0x12:                                   /* def_cfa_sf */
            set_cfa_reg(r, rd_uleb(&c));
            r->cfa_off = rd_sleb(&c) * cie->data_align;
            break;
        case 0x13:                                   /* def_cfa_offset_sf */
            r->cfa_off = rd_sleb(&c) * cie->data_align;
            break;
        case 0x15:                                   /* val_offset_sf */
            reg = rd_uleb(&c);
            (void)rd_sleb(&c);
            set_reg(r, reg, REG_OTHER, 0, ra);
            break;
        case 0x2e:                                   /* GNU_args_size */
            (void)rd_uleb(&c);
            break;
        case 0x2f:                                   /* GNU_negative_offset_extended */
            reg = rd_uleb(&c);
            off = -(int64_t)rd_uleb(&c) * cie->data_align;
            set_reg(r, reg, REG_AT_CFA, off, ra);
            break;
        default:
            return false;
        }
        continue;
    advance:
        if (*loc == UINTPTR_MAX)
            return false;                            /* no advancing in a CIE */
        delta *= cie->code_align;
        if (delta > pc - *loc)
            return true;                             /* the row for pc is done */
        *loc += delta;
    }
    return !c.bad;
}

/* Parses the CIE at `cie` (its length field). */
static bool parse_cie(const uint8_t *cie, struct cie_info *out)
{
    struct cursor c = { cie, cie + 4, false };
    uint64_t len = rd_fixed(&c, 4);
    if (c.bad || len == 0 || len >= 0xfffffff0u)
        return false;                                /* 64-bit DWARF: not here */
    c.end = cie + 4 + len;
    if (rd_fixed(&c, 4) != 0)                        /* CIE id */
        return false;
    uint8_t version = (uint8_t)rd_fixed(&c, 1);
    if (version != 1 && version != 3)
        return false;
    const char *aug = (const char *)c.p;
    size_t aug_len = strnlen(aug, (size_t)(c.end - c.p));
    if (c.bad || aug_len == (size_t)(c.end - c.p))
        return false;
    c.p += aug_len + 1;
    if (aug[0] == 'e' && aug[1] == 'h')
        return false;                                /* GCC 2.x "eh" data */
    out->code_align = rd_uleb(&c);
    out->data_align = rd_sleb(&c);
    out->ra_reg = version == 1 ? rd_fixed(&c, 1) : rd_uleb(&c);
    out->fde_enc = PE_ABSPTR;
    out->has_z = aug[0] == 'z';
    if (out->has_z) {
        uint64_t alen = rd_uleb(&c);
        if (c.bad || alen > (uint64_t)(c.end - c.p))
            return false;
        struct cursor a = { c.p, c.p + alen, false };
        for (size_t i = 1; i < aug_len; i++) {
            switch (aug[i]) {
            case 'R': out->fde_enc = (uint8_t)rd_fixed(&a, 1); break;
            case 'L': (void)rd_fixed(&a, 1); break;
            case 'P': {
                uint8_t enc = (uint8_t)rd_fixed(&a, 1);
                /* Only its size matters; pcrel/datarel make no difference. */
                (void)rd_encoded(&a, enc & (PE_FORMAT | PE_PCREL), 0);
                break;
            }
            case 'S': return false;                  /* signal frame */
            default: return false;
            }
        }
        if (a.bad)
            return false;
        c.p += alen;
    } else if (aug[0] != '\0') {
        return false;
    }
    if (c.bad || out->code_align == 0)
        return false;
    out->insns = c.p;
    out->insns_end = c.end;
    return true;
}

int lm_cfi_rule_from_fde(const uint8_t *fde, uintptr_t data_base, uintptr_t pc, struct lm_cfi_rule *rule)
{
    memset(rule, 0, sizeof *rule);
    struct cursor c = { fde, fde + 4, false };
    uint64_t len = rd_fixed(&c, 4);
    if (c.bad || len == 0 || len >= 0xfffffff0u)
        return LM_CFI_UNSUPPORTED;
    c.end = fde + 4 + len;
    const uint8_t *id_field = c.p;
    uint32_t cie_off = (uint32_t)rd_fixed(&c, 4);
    if (c.bad || cie_off == 0)
        return LM_CFI_UNSUPPORTED;                   /* a CIE, not an FDE */
    struct cie_info cie;
    if (!parse_cie(id_field - cie_off, &cie))
        return LM_CFI_UNSUPPORTED;
    uintptr_t begin = rd_encoded(&c, cie.fde_enc, data_base);
    uintptr_t range = rd_encoded(&c, cie.fde_enc & PE_FORMAT, 0);
    if (c.bad)
        return LM_CFI_UNSUPPORTED;
    if (pc < begin || pc - begin >= range)
        return rule->kind = LM_CFI_NO_FDE;
    if (cie.has_z) {
        uint64_t alen = rd_uleb(&c);
        if (c.bad || alen > (uint64_t)(c.end - c.p))
            return LM_CFI_UNSUPPORTED;
        c.p += alen;
    }

    struct row r = { 0 };
    r.ra_how = REG_SAME;
    uintptr_t loc = UINTPTR_MAX;
    if (!run_cfa(&cie, cie.insns, cie.insns_end, &loc, pc, data_base, &r, NULL))
        return LM_CFI_UNSUPPORTED;
    struct row initial = r;
    loc = begin;
    if (!run_cfa(&cie, c.p, c.end, &loc, pc, data_base, &r, &initial))
        return LM_CFI_UNSUPPORTED;

    if (r.ra_how == REG_UNDEFINED) {
        rule->kind = LM_CFI_OUTERMOST;
        return LM_CFI_OUTERMOST;
    }
    if (!r.cfa_reg_ok || r.ra_how != REG_AT_CFA || r.rbp_how == REG_OTHER || r.rbp_how == REG_UNDEFINED)
        return LM_CFI_UNSUPPORTED;
    if (r.cfa_off < 0 || r.cfa_off > INT32_MAX || r.ra_off < INT32_MIN || r.ra_off > 0 ||
        r.rbp_off < INT32_MIN || r.rbp_off > 0)
        return LM_CFI_UNSUPPORTED;
    rule->cfa_base = r.cfa_base;
    rule->cfa_off = (int32_t)r.cfa_off;
    rule->ra_off = (int32_t)r.ra_off;
    rule->rbp_saved = r.rbp_how == REG_AT_CFA;
    rule->rbp_off = rule->rbp_saved ? (int32_t)r.rbp_off : 0;
    rule->kind = LM_CFI_NORMAL;
    return LM_CFI_NORMAL;
}

int lm_cfi_rule_from_hdr(const uint8_t *hdr, uintptr_t pc, struct lm_cfi_rule *rule)
{
    memset(rule, 0, sizeof *rule);
    if (!hdr || hdr[0] != 1)
        return LM_CFI_UNSUPPORTED;
    uint8_t ptr_enc = hdr[1], count_enc = hdr[2], table_enc = hdr[3];
    /* Bounded by the table size read below; the header itself is small. */
    struct cursor c = { hdr + 4, hdr + 4 + 32, false };
    (void)rd_encoded(&c, ptr_enc, (uintptr_t)hdr);
    uint64_t count = rd_encoded(&c, count_enc, (uintptr_t)hdr);
    if (c.bad || table_enc != (PE_DATAREL | PE_SDATA4) || count == 0 || count > (1u << 28))
        return LM_CFI_UNSUPPORTED;
    const int32_t *table = (const int32_t *)(const void *)c.p;
    intptr_t rel = (intptr_t)(pc - (uintptr_t)hdr);
    if ((uintptr_t)rel != pc - (uintptr_t)hdr || rel < INT32_MIN || rel > INT32_MAX)
        return LM_CFI_UNSUPPORTED;
    /* Last entry whose initial location is <= pc. */
    uint64_t lo = 0, hi = count;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (table[2 * mid] <= rel)
            lo = mid;
        else
            hi = mid;
    }
    if (table[2 * lo] > rel)
        return rule->kind = LM_CFI_NO_FDE;
    const uint8_t *fde = hdr + table[2 * lo + 1];
    return lm_cfi_rule_from_fde(fde, (uintptr_t)hdr, pc, rule);
}

int lm_cfi_rule_for(uintptr_t pc, struct lm_cfi_rule *rule)
{
    memset(rule, 0, sizeof *rule);
    if (!_dl_find_object)
        return LM_CFI_UNSUPPORTED;
    struct dl_find_object found;
    if (_dl_find_object((void *)pc, &found) != 0 || !found.dlfo_eh_frame)
        return LM_CFI_UNSUPPORTED;
    return lm_cfi_rule_from_hdr((const uint8_t *)found.dlfo_eh_frame, pc, rule);
}
