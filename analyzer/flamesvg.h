/*
 * flamesvg.h - a frame tree (stacktree.h) drawn as an SVG flame graph:
 * the root frame at the bottom, each frame as wide as its bytes, its
 * children above it from its left edge in name order (self bytes remain
 * at the right), a <title> tooltip per frame (function, file:line, bytes,
 * blocks, share of the root), a label where the frame is wide enough.
 *
 * Structure (what tests and the zoom script rely on): frames are nested
 * <g class="f"> elements, each holding its <title>, its <rect>, an
 * optional <text>, then its children's groups; attributes data-bytes,
 * data-blocks, data-self (self bytes) and, when children narrower than
 * AN_FLAME_MIN_WIDTH px were left out, data-omit (their bytes).  So a
 * frame's width is (sum of its drawn children's widths) + (data-self +
 * data-omit) * scale, within the rounding of the printed coordinates (2
 * decimals).  The <svg> carries class "lm-flame", data-total-bytes (the
 * root's bytes), data-pad and data-frame-width (the root's x and width).
 * Without script the picture is complete; the script only adds
 * click-to-zoom and a details line on hover.
 */
#ifndef AN_FLAMESVG_H
#define AN_FLAMESVG_H

#include "stacktree.h"

#include <stdio.h>

#define AN_FLAME_MIN_WIDTH 0.1

struct an_flame_opts {
    const char *title;          /* plain text (escaped here) */
    const char *subtitle;       /* plain text, NULL: none */
    const char *id;             /* the svg's id attribute */
    const char *empty;          /* shown when the root has no bytes */
    int palette;                /* AN_PALETTE_* (markup.h) */
    bool standalone;            /* a file of its own: XML declaration and
                                   its own script; else for inline HTML */
};

void an_flame_svg(FILE *f, const struct an_ftree *t, const struct an_flame_opts *o);

/* JavaScript defining lmFlameInit(svg), which makes one flame graph
 * interactive; the HTML page includes it once.  Contains no "]]>" and no
 * "</script". */
extern const char an_flame_script[];

#endif
