/*
 * wl_mixed.c - benchmark workload (e): mixed sizes up to 1 MiB.
 *
 *   wl_mixed [SCALE]      (default 1.0: 3 million operations)
 *
 * A live window of 4096 slots; each operation frees or allocates in a random
 * slot.  Sizes: 70% 16..512 B, 24% 512 B..64 KiB, 6% 64 KiB..1 MiB, so the
 * allocator's large path (and its reuse of large blocks) is exercised as
 * much as the size classes.  Each new block gets one byte written per 4 KiB,
 * as a program touching its memory would.  Deterministic; the checksum does
 * not depend on addresses.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "wl_rng.h"

#define WINDOW 4096


static unsigned char *slot[WINDOW];
static size_t len[WINDOW];

int main(int argc, char **argv)
{
    rng = 0x77;
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    long n = (long)(3e6 * scale);
    unsigned long long sum = 0;

    for (long i = 0; i < n; i++) {
        uint64_t r = rnd();
        size_t k = r % WINDOW;
        if (slot[k]) {
            sum += slot[k][0] + slot[k][len[k] - 1];
            free(slot[k]);
            slot[k] = NULL;
            continue;
        }
        unsigned c = (unsigned)((r >> 16) % 100);
        size_t sz = c < 70 ? 16 + (r >> 32) % 497
                  : c < 94 ? 512 + (r >> 32) % (65536 - 512)
                  : 65536 + (r >> 32) % ((1u << 20) - 65536 + 1);
        unsigned char *p = malloc(sz);
        if (!p) {
            perror("malloc");
            return 1;
        }
        for (size_t o = 0; o < sz; o += 4096)
            p[o] = (unsigned char)(o >> 12);
        p[sz - 1] = (unsigned char)sz;
        slot[k] = p;
        len[k] = sz;
    }
    for (size_t k = 0; k < WINDOW; k++)
        free(slot[k]);
    printf("wl_mixed: ops=%ld checksum=%llu\n", n, sum);
    return 0;
}
