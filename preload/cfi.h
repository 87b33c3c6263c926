/*
 * cfi.h - how to step out of the frame that is executing a given code
 * address, read from the DWARF call-frame information every x86_64 object
 * already carries (.eh_frame, found through .eh_frame_hdr), reduced to
 * what a return-address walk needs: where the CFA is (rsp or rbp plus an
 * offset), where the return address is, and where the caller's rbp was
 * saved.  Anything else (CFA expressions, signal frames, registers saved in
 * other registers, unusual encodings) is answered LM_CFI_UNSUPPORTED and
 * the caller falls back to libunwind.
 *
 * Stateless: pure functions over read-only mapped memory.  No malloc, no
 * locks, no stdio; _dl_find_object (glibc >= 2.35) is lock-free, so this is
 * usable inside malloc and from signal handlers.  Reads stay inside the
 * .eh_frame_hdr table and the lengths the CIE/FDE records declare.
 */
#ifndef LM_CFI_H
#define LM_CFI_H

#include "internal.h"

enum lm_cfi_kind {
    LM_CFI_UNSUPPORTED = 0, /* no usable rule: unwind some other way */
    LM_CFI_NORMAL = 1,      /* the rule below applies */
    LM_CFI_OUTERMOST = 2,   /* the return address is undefined: last frame */
    LM_CFI_NO_FDE = 3,      /* the object has .eh_frame, but no FDE covers pc
                             * (hand-written entry code such as ld.so's
                             * _dl_start_user) */
};

enum lm_cfi_base { LM_CFI_RSP = 0, LM_CFI_RBP = 1 };

struct lm_cfi_rule {
    uint8_t kind;       /* enum lm_cfi_kind */
    uint8_t cfa_base;   /* enum lm_cfi_base: CFA = base register + cfa_off */
    uint8_t rbp_saved;  /* 1: the caller's rbp is at CFA + rbp_off */
    uint8_t unused;
    int32_t cfa_off;
    int32_t rbp_off;
    int32_t ra_off;     /* the return address is at CFA + ra_off */
};

/* The rule for code address pc (for a return address, pass it minus one).
 * Returns rule->kind. */
int lm_cfi_rule_for(uintptr_t pc, struct lm_cfi_rule *rule);

/* Same, with the .eh_frame_hdr section given (exposed for the unit test). */
int lm_cfi_rule_from_hdr(const uint8_t *eh_frame_hdr, uintptr_t pc, struct lm_cfi_rule *rule);

/* Same, from one FDE (its length field) of a .eh_frame; `data_base` is the
 * base of datarel encodings (the .eh_frame_hdr), 0 if unknown. */
int lm_cfi_rule_from_fde(const uint8_t *fde, uintptr_t data_base, uintptr_t pc,
                         struct lm_cfi_rule *rule);

#endif
