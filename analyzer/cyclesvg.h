/*
 * cyclesvg.h - one leaked cycle drawn as an inline SVG graph for the HTML
 * page: members on a circle (letters A, B, ... in member order, as the
 * text report names them), each a node with a tooltip (size, address,
 * class, allocation stack) and a label (size and allocation site); every
 * pointer between members an arrow labelled with its byte offset(s) in the
 * source block.  Pointers A->B and B->A are drawn side by side, a block
 * pointing to itself as a loop.  At most AN_CYCLE_MAX_NODES members are
 * drawn (the first ones, with the edges among them).
 *
 * Structure for tests: <svg class="lm-cycle" data-members= data-shown=
 * data-arrows=>, nodes <g class="lm-node">, arrows <g class="lm-edge">.
 */
#ifndef AN_CYCLESVG_H
#define AN_CYCLESVG_H

#include "leaks.h"
#include "symbols.h"

#include <stdio.h>

#define AN_CYCLE_MAX_NODES 24

/* Cycle number `id` of the page (its SCC scc).  Returns 0, or -1 when out
 * of memory (nothing written then). */
int an_cycle_svg(FILE *f, const struct an_leaks *L, struct an_symtab *t, uint32_t scc,
                 uint32_t id);

#endif
