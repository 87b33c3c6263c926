/*
 * wl_realloc.c - benchmark workload (d): realloc growth.
 *
 *   wl_realloc [SCALE]    (default 1.0: 128 MiB of total growth)
 *
 * 64 buffers, each grown round-robin by small steps (16..2048 bytes) from
 * empty up to a target of 4 KiB..4 MiB (mostly small targets, some MiBs),
 * writing the newly added bytes' first and last byte, as string builders
 * and vectors without capacity doubling do; a buffer that reaches its target
 * is checked, freed and restarted with a new target.  Deterministic; the
 * checksum does not depend on addresses.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "wl_rng.h"

#define BUFS 64


static size_t target(void)
{
    uint64_t r = rnd();
    if (r % 10 < 7)
        return 4096 + (r >> 8) % 61440;           /* 4..64 KiB */
    if (r % 10 < 9)
        return 65536 + (r >> 8) % (960u << 10);   /* 64 KiB..1 MiB */
    return (1u << 20) + (r >> 8) % (3u << 20);    /* 1..4 MiB */
}

int main(int argc, char **argv)
{
    rng = 0x5eed;
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    unsigned long long budget = (unsigned long long)(128.0 * scale * (1 << 20));
    unsigned long long grown = 0, reallocs = 0, sum = 0;
    unsigned char *buf[BUFS] = {0};
    size_t len[BUFS] = {0}, goal[BUFS];

    for (int b = 0; b < BUFS; b++)
        goal[b] = target();
    while (grown < budget) {
        for (int b = 0; b < BUFS; b++) {
            size_t step = 16 + rnd() % 2033;
            unsigned char *p = realloc(buf[b], len[b] + step);
            if (!p) {
                perror("realloc");
                return 1;
            }
            p[len[b]] = (unsigned char)len[b];
            p[len[b] + step - 1] = (unsigned char)step;
            buf[b] = p;
            len[b] += step;
            grown += step;
            reallocs++;
            if (len[b] >= goal[b]) {
                sum += p[0] + p[len[b] - 1] + len[b];
                free(p);
                buf[b] = NULL;
                len[b] = 0;
                goal[b] = target();
            }
        }
    }
    for (int b = 0; b < BUFS; b++)
        free(buf[b]);
    printf("wl_realloc: reallocs=%llu grown=%llu checksum=%llu\n", reallocs, grown, sum);
    return 0;
}
