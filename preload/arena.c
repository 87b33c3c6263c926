/*
 * arena.c - layout, creation, release and lazy carving of small-block
 * arenas (see arena.h for the layout and ownership rules).
 *
 * The division by the block size uses magic = ceil(2^48 / s): for an offset
 * o < 2^18, o*magic/2^48 = o/s + o*e/(s*2^48) with 0 <= e < s, and the error
 * term is below 2^18/2^48, far less than the 1/s gap to the next integer, so
 * the result is floor(o/s) exactly for every offset inside the arena.
 *
 * Carving is lazy (a few KiB of blocks at a time): a fresh arena touches
 * only the pages it hands out, which keeps peak RSS close to the live data.
 * The bitmaps are cleared when the arena is made; records need no clearing
 * (they are read only for live blocks).
 */
#include "arena.h"
#include "os.h"

#include <string.h>

uint64_t lm_arena_secret;

struct class_layout {
    uint32_t data_offset;
    uint32_t meta_offset;
    uint16_t capacity;
    uint16_t carve_batch;
};
static struct class_layout layouts[LM_NUM_CLASSES];

const uint32_t lm_class_size[LM_NUM_CLASSES] = {
    16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512,
    640, 768, 896, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096,
    5120, 6144, 7168, 8192, 10240, 12288, 14336, 16384, 20480, 24576, 28672, 32768,
    40960, 49152, 57344, 65536,
};

void lm_arena_init_classes(void)
{
    for (unsigned c = 0; c < LM_NUM_CLASSES; c++) {
        uint32_t s = lm_class_size[c], align = lm_class_align(s);
        uint32_t n = (uint32_t)((LM_UNIT_SIZE - LM_ARENA_HEADER) / (s + sizeof(struct lm_meta)));
        for (;; n--) {
            size_t meta = LM_ARENA_HEADER + 2 * 8 * ((n + 63) / 64);
            size_t data = lm_align_up(meta + n * sizeof(struct lm_meta), align);
            if (data + (size_t)n * s <= LM_UNIT_SIZE) {
                layouts[c].meta_offset = (uint32_t)meta;
                layouts[c].data_offset = (uint32_t)data;
                break;
            }
        }
        layouts[c].capacity = (uint16_t)n;
        uint32_t batch = 16384u / s;
        layouts[c].carve_batch = (uint16_t)(batch ? batch : 1);
    }
}

struct lm_arena *lm_arena_create(struct lm_heap *heap, unsigned cls)
{
    uint32_t dirty;
    uint32_t unit = lm_span_alloc(1, 1, LM_UNIT_ARENA, &dirty);
    if (unit == UINT32_MAX)
        return NULL;
    struct lm_arena *a = lm_unit_addr(unit);
    const struct class_layout *l = &layouts[cls];
    memset(a, 0, l->meta_offset);        /* header and both bitmaps */
    a->data_offset = l->data_offset;
    a->meta = (struct lm_meta *)((char *)a + l->meta_offset);
    a->block_size = lm_class_size[cls];
    a->magic = lm_div_magic(a->block_size);
    a->capacity = l->capacity;
    a->cls = (uint8_t)cls;
    a->owner = heap;
    a->span_dirty = dirty;
    a->secret = lm_arena_secret ^ (uint64_t)(uintptr_t)a;
    return a;
}

void lm_arena_release(struct lm_arena *a)
{
    uint32_t unit = lm_unit_index(a);
    /* Pages touched: header, records and data up to the carved blocks. */
    uintptr_t touched = (uintptr_t)lm_arena_block(a, a->extended) - (uintptr_t)a;
    uint32_t pages = (uint32_t)(lm_align_up(touched, LM_PAGE_SIZE) / LM_PAGE_SIZE);
    /* Pages dirtied by the unit's earlier lives count too, or a later
     * calloc would trust them to be zero. */
    if (pages < a->span_dirty)
        pages = a->span_dirty;
    a->secret = 0;
    lm_span_free(unit, pages);
}

bool lm_arena_extend(struct lm_arena *a)
{
    uint32_t start = a->extended, n = layouts[a->cls].carve_batch;
    if (start >= a->capacity)
        return false;
    if (n > a->capacity - start)
        n = a->capacity - start;
    char *b = lm_arena_block(a, start);
    lm_block_t *head = (lm_block_t *)b;
    for (uint32_t i = 1; i < n; i++) {
        char *next = b + a->block_size;
        ((lm_block_t *)b)->next = (lm_block_t *)next;
        b = next;
    }
    ((lm_block_t *)b)->next = a->free;
    a->free = head;
    a->extended = (uint16_t)(start + n);
    return true;
}

bool lm_arena_find_live(const struct lm_arena *a, const void *p, uint32_t *idx)
{
    if ((const char *)p < lm_arena_data(a))
        return false;
    uint32_t i = lm_arena_index(a, p);
    if (i >= a->extended || !lm_arena_is_live(a, i))
        return false;
    *idx = i;
    return true;
}
