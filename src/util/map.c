/* The hash map: open addressing, linear probing, tombstones. */
#include <string.h>

#include <xxhash.h>

#include "util/util.h"

struct lh_map_slot {
    uint64_t hash;
    void *key; /* NULL: empty; &tombstone: deleted; else a copy we own */
    size_t klen;
    void *val;
};

static char tombstone;

#define MIN_CAP ((size_t)16)

uint64_t
lh_hash64(const void *p, size_t n)
{
    return XXH3_64bits(p, n);
}

static bool
is_live(const lh_map_slot *s)
{
    return s->key != NULL && s->key != &tombstone;
}

void
lh_map_init(lh_map *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->count = 0;
    m->tombs = 0;
}

/* The slot holding key, or NULL. */
static lh_map_slot *
find(const lh_map *m, const void *key, size_t klen, uint64_t h)
{
    if (m->cap == 0) {
        return NULL;
    }
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        lh_map_slot *s = &m->slots[i];
        if (s->key == NULL) {
            return NULL;
        }
        if (s->key != &tombstone && s->hash == h && s->klen == klen &&
            (klen == 0 || memcmp(s->key, key, klen) == 0)) {
            return s;
        }
    }
}

void *
lh_map_get(const lh_map *m, const void *key, size_t klen)
{
    lh_map_slot *s = find(m, key, klen, lh_hash64(key, klen));
    return s != NULL ? s->val : NULL;
}

bool
lh_map_has(const lh_map *m, const void *key, size_t klen)
{
    return find(m, key, klen, lh_hash64(key, klen)) != NULL;
}

/* Rebuilds the table for count + 1 entries at most 35% full, dropping the
 * tombstones. On failure the map is unchanged. */
static lh_rc
rebuild(lh_map *m)
{
    size_t cap = MIN_CAP;
    while ((m->count + 1) * 20 > cap * 7) {
        if (cap > SIZE_MAX / sizeof(lh_map_slot) / 4) {
            return LH_ENOMEM;
        }
        cap *= 2;
    }
    lh_map_slot *slots = lh_calloc(cap, sizeof(lh_map_slot));
    if (slots == NULL) {
        return LH_ENOMEM;
    }
    for (size_t j = 0; j < m->cap; j++) {
        lh_map_slot *s = &m->slots[j];
        if (!is_live(s)) {
            continue;
        }
        size_t i = (size_t)s->hash & (cap - 1);
        while (slots[i].key != NULL) {
            i = (i + 1) & (cap - 1);
        }
        slots[i] = *s;
    }
    lh_free(m->slots);
    m->slots = slots;
    m->cap = cap;
    m->tombs = 0;
    return LH_OK;
}

lh_rc
lh_map_put(lh_map *m, const void *key, size_t klen, void *val, void **old)
{
    uint64_t h = lh_hash64(key, klen);
    lh_map_slot *s = find(m, key, klen, h);
    if (s != NULL) {
        if (old != NULL) {
            *old = s->val;
        }
        s->val = val;
        return LH_OK;
    }
    /* 70%: linear probing's probe lengths climb steeply past it. */
    if ((m->count + m->tombs + 1) * 10 > m->cap * 7) {
        lh_rc rc = rebuild(m);
        if (rc != LH_OK) {
            return rc;
        }
    }
    void *kcopy = lh_malloc(klen);
    if (kcopy == NULL) {
        return LH_ENOMEM;
    }
    if (klen > 0) {
        memcpy(kcopy, key, klen);
    }
    size_t mask = m->cap - 1;
    size_t i = (size_t)h & mask;
    /* Reuse the first tombstone on the probe path. */
    while (is_live(&m->slots[i])) {
        i = (i + 1) & mask;
    }
    s = &m->slots[i];
    if (s->key == &tombstone) {
        m->tombs--;
    }
    s->hash = h;
    s->key = kcopy;
    s->klen = klen;
    s->val = val;
    m->count++;
    if (old != NULL) {
        *old = NULL;
    }
    return LH_OK;
}

void *
lh_map_del(lh_map *m, const void *key, size_t klen)
{
    lh_map_slot *s = find(m, key, klen, lh_hash64(key, klen));
    if (s == NULL) {
        return NULL;
    }
    void *val = s->val;
    lh_free(s->key);
    s->key = &tombstone;
    s->klen = 0;
    s->val = NULL;
    m->count--;
    m->tombs++;
    return val;
}

bool
lh_map_next(const lh_map *m, size_t *it, const void **key, size_t *klen,
            void **val)
{
    for (size_t i = *it; i < m->cap; i++) {
        const lh_map_slot *s = &m->slots[i];
        if (!is_live(s)) {
            continue;
        }
        *it = i + 1;
        if (key != NULL) {
            *key = s->key;
        }
        if (klen != NULL) {
            *klen = s->klen;
        }
        if (val != NULL) {
            *val = s->val;
        }
        return true;
    }
    *it = m->cap;
    return false;
}

void
lh_map_release(lh_map *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        if (is_live(&m->slots[i])) {
            lh_free(m->slots[i].key);
        }
    }
    lh_free(m->slots);
    lh_map_init(m);
}
