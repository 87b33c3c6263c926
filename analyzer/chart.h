/*
 * chart.h - the growth chart of the HTML page: live and leaked bytes of a
 * series of dumps over wall-clock time, as an inline SVG line chart.
 *
 * x is the dump's time (seconds since the first dump; all points in the
 * middle when every dump has the same time), y bytes from 0 with ticks in
 * binary units.  One pair of lines per process (pid), live solid, leaked
 * dashed; every dump is a marker with a <title> tooltip: <circle
 * class="lm-pt-live"> and <rect class="lm-pt-leaked"> with data-bytes,
 * so a test can count them.  A single dump is a single point per line.
 */
#ifndef AN_CHART_H
#define AN_CHART_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct an_growth_point {
    uint64_t time_ns;
    uint32_t pid, seq;
    const char *trigger;
    uint64_t live_bytes, live_blocks;
    uint64_t leaked_bytes, leaked_blocks;
};

/* p[0..n) sorted by time; n >= 1. */
void an_growth_svg(FILE *f, const struct an_growth_point *p, size_t n);

#endif
