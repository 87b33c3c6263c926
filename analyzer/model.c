/*
 * model.c - storage and lookups of the in-memory heap (see model.h).
 * Owns nothing global; every dump owns its arrays.
 */
#include "model.h"

#include <stdlib.h>
#include <string.h>

void an_dump_init(struct an_dump *d, const char *name)
{
    memset(d, 0, sizeof *d);
    d->name = name;
}

void an_dump_free(struct an_dump *d)
{
    for (size_t i = 0; i < d->nmodules; i++) {
        free(d->modules[i].build_id);
        free(d->modules[i].path);
    }
    for (size_t i = 0; i < d->nstacks; i++)
        free(d->stacks[i].pcs);
    free(d->modules);
    free(d->stacks);
    free(d->blocks);
    free(d->edges);
    free(d->exe);
    free(d->cmdline);
    an_dump_init(d, d->name);
}

bool an_vec_reserve(void **data, size_t len, size_t *cap, size_t more, size_t elsize)
{
    if (more > SIZE_MAX / elsize - len)
        return false;
    size_t need = len + more;
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 4 / elsize ? need : ncap * 2;
    void *p = realloc(*data, ncap * elsize);
    if (!p)
        return false;
    *data = p;
    *cap = ncap;
    return true;
}

const struct an_stack *an_dump_stack(const struct an_dump *d, uint32_t id)
{
    size_t lo = 0, hi = d->nstacks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->stacks[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->nstacks && d->stacks[lo].id == id ? &d->stacks[lo] : NULL;
}

const struct an_module *an_dump_module_at(const struct an_dump *d, uint64_t pc)
{
    /* few modules: a linear scan; the last match wins like the loader's
     * most recent mapping would */
    const struct an_module *found = NULL;
    for (size_t i = 0; i < d->nmodules; i++)
        if (pc >= d->modules[i].start && pc < d->modules[i].end)
            found = &d->modules[i];
    return found;
}

void an_dump_summary(const struct an_dump *d, uint32_t cycles, uint64_t out[AN_S_COUNT])
{
    if (d->have_summary) {
        memcpy(out, d->summary, sizeof d->summary);
        return;
    }
    memset(out, 0, AN_S_COUNT * sizeof out[0]);
    static const int slot[] = {
        [LM_DUMP_REACHABLE] = AN_S_REACH_BLOCKS, [LM_DUMP_POSSIBLE] = AN_S_POS_BLOCKS,
        [LM_DUMP_DEFINITE] = AN_S_DEF_BLOCKS, [LM_DUMP_INDIRECT] = AN_S_IND_BLOCKS,
        [LM_DUMP_SUPPRESSED] = AN_S_SUP_BLOCKS,
    };
    for (size_t i = 0; i < d->nblocks; i++) {
        const struct an_block *b = &d->blocks[i];
        out[AN_S_LIVE_BLOCKS]++;
        out[AN_S_LIVE_BYTES] += b->size;
        out[slot[b->cls]]++;
        out[slot[b->cls] + 1] += b->size;
    }
    out[AN_S_CYCLES] = cycles;
}

const char *an_trigger_name(uint32_t trigger)
{
    static const char *const names[] = { "exit", "signal", "api", "periodic" };
    return trigger < 4 ? names[trigger] : "unknown";
}

const char *an_class_name(unsigned cls)
{
    static const char *const names[] = { "reachable", "possible", "definite", "indirect",
                                         "suppressed" };
    return cls < 5 ? names[cls] : "unknown";
}
