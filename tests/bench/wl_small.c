/*
 * wl_small.c - benchmark workload (a): single-thread small-block churn.
 *
 *   wl_small [SCALE]      (default 1.0: 24 million operations)
 *
 * A live window of 16384 slots; each operation picks a slot at random,
 * frees its block if there is one, else mallocs 8..256 bytes and writes the
 * first and last byte.  Deterministic (fixed seed); prints a checksum that
 * does not depend on addresses, so runs under different allocators must
 * print the same line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "wl_rng.h"

#define WINDOW 16384


static unsigned char *slot[WINDOW];
static unsigned short len[WINDOW];

int main(int argc, char **argv)
{
    rng = 0x1234567;
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    long n = (long)(24e6 * scale);
    uint64_t sum = 0;

    for (long i = 0; i < n; i++) {
        uint64_t r = rnd();
        size_t k = r % WINDOW;
        if (slot[k]) {
            sum += slot[k][0] + slot[k][len[k] - 1];
            free(slot[k]);
            slot[k] = NULL;
        } else {
            size_t sz = 8 + (r >> 32) % 249;
            unsigned char *p = malloc(sz);
            if (!p) {
                perror("malloc");
                return 1;
            }
            p[0] = (unsigned char)i;
            p[sz - 1] = (unsigned char)(i >> 8);
            slot[k] = p;
            len[k] = (unsigned short)sz;
        }
    }
    for (size_t k = 0; k < WINDOW; k++)
        free(slot[k]);
    printf("wl_small: ops=%ld checksum=%llu\n", n, (unsigned long long)sum);
    return 0;
}
