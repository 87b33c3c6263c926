/*
 * leaks.h - the leak groups of a dump, as preload/report.c builds them:
 * leaked blocks (definite, indirect: their class in the dump) and possible
 * blocks grouped by (kind, stack id) with block and byte counts; in_cycle
 * when a block of the group belongs to a leaked cycle; for indirect groups
 * the first (in address order) definite group whose leak root holds them
 * (held_by), and for definite groups what they hold.  Groups sorted by
 * bytes, then blocks, then kind, then stack id: order[] is the JSON
 * "leaks" array, rank[] its inverse.
 */
#ifndef AN_LEAKS_H
#define AN_LEAKS_H

#include "graph.h"
#include "model.h"

enum { AN_K_DEFINITE, AN_K_INDIRECT, AN_K_POSSIBLE };

struct an_group {
    uint32_t stack_id;
    uint32_t stack;             /* index into d->stacks, AN_NONE */
    uint8_t kind;
    bool in_cycle;
    uint64_t blocks, bytes;
    uint64_t gen_blocks[3];     /* blocks per generation: young, middle, old */
    uint32_t owner;             /* indirect: group slot holding it, AN_NONE */
    uint64_t held_blocks, held_bytes;
    uint32_t shown_in;          /* text: 1 + cycle that printed the stack */
};

struct an_leaks {
    const struct an_dump *d;
    struct an_graph g;
    struct an_group *groups;
    size_t ngroups;
    uint32_t *order;            /* group slots, report order */
    uint32_t *rank;             /* slot -> position in order */
    uint32_t *node_group;       /* leaked node -> slot */
    uint64_t summary[AN_S_COUNT];
};

extern const char *const an_kind_name[3];

/* Returns 0 or -1 (out of memory). */
int an_leaks_build(const struct an_dump *d, struct an_leaks *L);
void an_leaks_free(struct an_leaks *L);
/* Group slot of the first member of the root SCC that owns node v's SCC,
 * AN_NONE when none. */
uint32_t an_leaks_owner_group(const struct an_leaks *L, uint32_t v);

#endif
