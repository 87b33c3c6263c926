/*
 * unref.c - the table of consecutive unreachable scans (unref.h).
 *
 * Layout of the shared mapping: a header page, then two halves of
 * LM_UNREF_CAP entries.  header.current names the half holding the last
 * completed scan and header.len[current] its length; a walk reads that
 * half and writes the other, then flips current with a release store.
 * The kernel gives pages only to the entries actually written.
 */
#include "unref.h"
#include "gen.h"
#include "log.h"
#include "os.h"


struct header {
    uint32_t current;
    uint32_t pad;
    uint64_t len[2];
};

#define HALF_BYTES (LM_UNREF_CAP * sizeof(struct lm_unref_entry))
#define TABLE_BYTES (LM_PAGE_SIZE + 2 * HALF_BYTES)

static struct header *g_table;     /* NULL: not mapped (yet) */

static struct lm_unref_entry *half(unsigned i)
{
    return (struct lm_unref_entry *)((char *)g_table + LM_PAGE_SIZE) + (size_t)i * LM_UNREF_CAP;
}

int lm_unref_setup(void)
{
    if (g_table)
        return 0;
    void *p;
    int err = lm_os_map_shared(TABLE_BYTES, &p);
    if (err)
        return err;
    g_table = p;
    return 0;
}

void lm_unref_atfork_child(void)
{
    /* Shared with the parent: unmapping it here leaves the parent's alone. */
    if (g_table)
        lm_os_unmap(g_table, TABLE_BYTES);
    g_table = NULL;
}

void lm_unref_begin(struct lm_unref_walk *w)
{
    *w = (struct lm_unref_walk){ .last = LM_UNREF_NONE };
    if (!g_table)
        return;
    uint32_t cur = __atomic_load_n(&g_table->current, __ATOMIC_ACQUIRE) & 1u;
    w->old = half(cur);
    w->old_len = g_table->len[cur];
    if (w->old_len > LM_UNREF_CAP)
        w->old_len = 0;
    w->next = half(cur ^ 1u);
}

static bool same_block(const struct lm_unref_entry *e, const struct lm_block_ref *b)
{
    return e->addr == b->start && e->stack_id == b->stack_id && e->size_lo == (uint32_t)b->size &&
           (e->stamp == b->gen || b->gen == LM_GEN_ANCIENT);
}

unsigned lm_unref_visit(struct lm_unref_walk *w, const struct lm_block_ref *b, bool *reported)
{
    *reported = false;
    w->last = LM_UNREF_NONE;
    unsigned count = 1;
    while (w->old_pos < w->old_len && w->old[w->old_pos].addr < b->start)
        w->old_pos++;
    if (w->old_pos < w->old_len && same_block(&w->old[w->old_pos], b)) {
        const struct lm_unref_entry *e = &w->old[w->old_pos++];
        count = e->unref < UINT16_MAX ? e->unref + 1u : UINT16_MAX;
        *reported = e->reported;
    }
    if (!w->next)
        return count;
    if (w->next_len == LM_UNREF_CAP) {
        w->overflow = true;
        return count;
    }
    struct lm_unref_entry *n = &w->next[w->next_len++];
    *n = (struct lm_unref_entry){ .addr = b->start, .stack_id = b->stack_id,
                                  .size_lo = (uint32_t)b->size, .unref = (uint16_t)count,
                                  .stamp = b->gen, .reported = *reported };
    w->last = w->next_len - 1;
    return count;
}

void lm_unref_mark_reported(struct lm_unref_walk *w, size_t entry)
{
    if (w->next && entry < w->next_len)
        w->next[entry].reported = 1;
}

void lm_unref_commit(struct lm_unref_walk *w)
{
    if (!g_table || !w->next)
        return;
    if (w->overflow)
        lm_log("scan: more than %zu unreachable blocks; the ones past that are counted "
               "afresh at every scan", (size_t)LM_UNREF_CAP);
    uint32_t other = (__atomic_load_n(&g_table->current, __ATOMIC_ACQUIRE) & 1u) ^ 1u;
    g_table->len[other] = w->next_len;
    __atomic_store_n(&g_table->current, other, __ATOMIC_RELEASE);
}
