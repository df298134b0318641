/* Arenas: bump allocation in blocks, with a byte budget. */
#include <stdint.h>
#include <string.h>

#include "util/util.h"

/* 8 KiB: small enough for a per-row scratch arena, big enough that small
 * requests amortize the malloc. */
#define MIN_BLOCK ((size_t)8192)
/* Doubling stops at 1 MiB so an arena never holds much unused tail. */
#define MAX_BLOCK ((size_t)1 << 20)
#define ALIGN ((size_t)16)

struct lh_arena_block {
    lh_arena_block *next;
    size_t size; /* bytes of the malloc, header included */
    size_t off;  /* next free byte, from the block's start */
    bool large;  /* holds one large request */
};

/* Where payload starts in a block: the header rounded up to ALIGN. malloc
 * returns memory aligned for max_align_t (16 on our targets); the address
 * is aligned again in block_at() so a smaller malloc alignment is safe. */
#define HDR ((sizeof(lh_arena_block) + ALIGN - 1) & ~(ALIGN - 1))

static size_t
round_up(size_t n)
{
    return (n + ALIGN - 1) & ~(ALIGN - 1);
}

static char *
block_at(lh_arena_block *b, size_t off)
{
    uintptr_t p = (uintptr_t)b + off;
    return (char *)((p + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1));
}

void
lh_arena_init(lh_arena *a, size_t budget)
{
    a->head = NULL;
    a->used = 0;
    a->held = 0;
    a->budget = budget;
}

/* A new block of `size` bytes if the budget allows, else NULL. */
static lh_arena_block *
block_new(lh_arena *a, size_t size, bool large)
{
    if (a->budget != 0 && (size > a->budget || a->held > a->budget - size)) {
        return NULL;
    }
    lh_arena_block *b = lh_malloc(size);
    if (b == NULL) {
        return NULL;
    }
    b->next = NULL;
    b->size = size;
    b->off = HDR;
    b->large = large;
    a->held += size;
    return b;
}

/* A block of its own for a request of n bytes (n already rounded). */
static void *
alloc_large(lh_arena *a, size_t n)
{
    /* ALIGN spare bytes cover a malloc aligned to less than 16. */
    lh_arena_block *b = block_new(a, HDR + n + ALIGN, true);
    if (b == NULL) {
        return NULL;
    }
    b->off = b->size;
    if (a->head != NULL) {
        b->next = a->head->next;
        a->head->next = b;
    } else {
        a->head = b;
    }
    a->used += n;
    return block_at(b, HDR);
}

/* A new head block with room for n bytes (n already rounded). */
static bool
grow(lh_arena *a, size_t n)
{
    size_t need = HDR + n + ALIGN;
    size_t size = MIN_BLOCK;
    if (a->head != NULL && !a->head->large) {
        size = LH_MIN(a->head->size * 2, MAX_BLOCK);
    }
    size = LH_MAX(size, need);
    lh_arena_block *b = block_new(a, size, false);
    if (b == NULL && size > need) {
        /* Near the budget: the smallest block that does the job. */
        b = block_new(a, LH_MAX(need, LH_MIN(MIN_BLOCK, size)), false);
        if (b == NULL) {
            b = block_new(a, need, false);
        }
    }
    if (b == NULL) {
        return false;
    }
    b->next = a->head;
    a->head = b;
    return true;
}

/* True when the head block can serve n more bytes (n already rounded). */
static bool
head_fits(const lh_arena *a, size_t n)
{
    lh_arena_block *b = a->head;
    if (b == NULL || b->large) {
        return false;
    }
    size_t start = (size_t)(block_at(b, b->off) - (char *)b);
    return start <= b->size && n <= b->size - start;
}

/* Requests above a quarter of the current block size get a block of their
 * own: at most a quarter of a block is ever left unused at its end. */
static bool
is_large(const lh_arena *a, size_t n)
{
    size_t block = MIN_BLOCK;
    if (a->head != NULL && !a->head->large) {
        block = a->head->size;
    }
    return n > block / 4;
}

void *
lh_arena_alloc(lh_arena *a, size_t n)
{
    if (n > SIZE_MAX / 2) {
        return NULL;
    }
    n = round_up(n ? n : 1);
    if (!head_fits(a, n)) {
        if (is_large(a, n)) {
            return alloc_large(a, n);
        }
        if (!grow(a, n)) {
            return NULL;
        }
    }
    lh_arena_block *b = a->head;
    char *p = block_at(b, b->off);
    b->off = (size_t)(p - (char *)b) + n;
    a->used += n;
    return p;
}

void *
lh_arena_calloc(lh_arena *a, size_t n)
{
    void *p = lh_arena_alloc(a, n);
    if (p != NULL) {
        memset(p, 0, n);
    }
    return p;
}

void *
lh_arena_memdup(lh_arena *a, const void *p, size_t n)
{
    void *d = lh_arena_alloc(a, n);
    if (d != NULL && n > 0) {
        memcpy(d, p, n);
    }
    return d;
}

static char *
copy_str(lh_arena *a, const char *s, size_t len)
{
    char *d = lh_arena_alloc(a, len + 1);
    if (d == NULL) {
        return NULL;
    }
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *
lh_arena_strndup(lh_arena *a, const char *s, size_t n)
{
    return copy_str(a, s, strnlen(s, n));
}

char *
lh_arena_strdup(lh_arena *a, const char *s)
{
    return copy_str(a, s, strlen(s));
}

void
lh_arena_reset(lh_arena *a)
{
    /* The oldest normal block is the last normal one in the list. */
    lh_arena_block *keep = NULL;
    for (lh_arena_block *b = a->head; b != NULL; b = b->next) {
        if (!b->large) {
            keep = b;
        }
    }
    lh_arena_block *b = a->head;
    while (b != NULL) {
        lh_arena_block *next = b->next;
        if (b != keep) {
            lh_free(b);
        }
        b = next;
    }
    a->head = keep;
    a->used = 0;
    a->held = 0;
    if (keep != NULL) {
        keep->next = NULL;
        keep->off = HDR;
        a->held = keep->size;
    }
}

void
lh_arena_release(lh_arena *a)
{
    lh_arena_block *b = a->head;
    while (b != NULL) {
        lh_arena_block *next = b->next;
        lh_free(b);
        b = next;
    }
    lh_arena_init(a, a->budget);
}
