/*
 * The process-wide cache of parsed Iceberg objects: table metadata,
 * manifest lists and manifests (iceberg_int.h, "cache.c", says what each
 * is keyed on and why that proves the bytes unchanged).
 *
 * Why process-wide and not on a handle: every query of an event table
 * opens its lake anew (a fresh lh_ice_table: the consistent cut must read
 * the table's current pointer), and most of a lookup's time was parsing
 * the same immutable manifests again. Keys hold the object's location and
 * what proves its bytes (the content's ETag, or Iceberg's immutability
 * plus the table's uuid), so two databases or two tables in one process
 * can share it without seeing each other's objects.
 *
 * Entries are refcounted: the cache holds one reference while an entry is
 * in it, each user one more. Eviction (least recently used first, past the
 * byte budget) drops the cache's reference; a user still holding one
 * keeps the entry alive until it releases it, so eviction never frees
 * memory under a reader. One mutex guards the map, the LRU list, the
 * counts and every refcount: a lookup is a hash probe and a few pointer
 * moves, short next to what a hit saves.
 */
#include <pthread.h>
#include <string.h>

#include "format/iceberg/iceberg_int.h"

struct lh__ice_cached {
    lh__ice_cached *prev, *next; /* the LRU list: head = most recent */
    uint32_t refs;
    bool in_cache;
    size_t bytes; /* counted against the budget while in the cache */
    char *key;
    size_t klen;
    lh_arena arena;
    void *obj;
};

/* 64 MiB holds the parsed manifests of a few thousand files' tables (a
 * manifest entry with a dozen columns' metrics parses to ~2 KB). */
#define BUDGET_DEFAULT ((size_t)64 << 20)

static struct {
    pthread_mutex_t mu;
    lh_map map; /* key -> lh__ice_cached * */
    lh__ice_cached *head, *tail;
    size_t budget;
    lh_ice_cache_stats st;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .budget = BUDGET_DEFAULT};

static void
entry_free(lh__ice_cached *e)
{
    lh_arena_release(&e->arena);
    lh_free(e->key);
    lh_free(e);
}

/* Under g.mu. */
static void
lru_unlink(lh__ice_cached *e)
{
    if (e->prev != NULL) {
        e->prev->next = e->next;
    } else {
        g.head = e->next;
    }
    if (e->next != NULL) {
        e->next->prev = e->prev;
    } else {
        g.tail = e->prev;
    }
    e->prev = e->next = NULL;
}

/* Under g.mu. */
static void
lru_push_front(lh__ice_cached *e)
{
    e->prev = NULL;
    e->next = g.head;
    if (g.head != NULL) {
        g.head->prev = e;
    }
    g.head = e;
    if (g.tail == NULL) {
        g.tail = e;
    }
}

/* Takes e out of the cache (under g.mu); true when that dropped the last
 * reference, and the caller frees it outside the lock. */
static bool
remove_locked(lh__ice_cached *e)
{
    lh_map_del(&g.map, e->key, e->klen);
    lru_unlink(e);
    e->in_cache = false;
    g.st.bytes -= e->bytes;
    g.st.entries--;
    return --e->refs == 0;
}

/* Evicts from the tail until the cache fits the budget; the entries to
 * free are chained on *dead (through next) for the caller. */
static void
evict_locked(lh__ice_cached **dead)
{
    while (g.tail != NULL && g.st.bytes > g.budget) {
        lh__ice_cached *e = g.tail;
        g.st.evictions++;
        if (remove_locked(e)) {
            e->next = *dead;
            *dead = e;
        }
    }
}

static void
free_chain(lh__ice_cached *dead)
{
    while (dead != NULL) {
        lh__ice_cached *next = dead->next;
        entry_free(dead);
        dead = next;
    }
}

lh__ice_cached *
lh__ice_cache_get(const char *key, size_t klen)
{
    pthread_mutex_lock(&g.mu);
    lh__ice_cached *e = g.budget ? lh_map_get(&g.map, key, klen) : NULL;
    if (e != NULL) {
        e->refs++;
        lru_unlink(e);
        lru_push_front(e);
        g.st.hits++;
    } else {
        g.st.misses++;
    }
    pthread_mutex_unlock(&g.mu);
    return e;
}

lh_rc
lh__ice_cache_new(const char *key, size_t klen, lh__ice_cached **out,
                  lh_err *err)
{
    lh__ice_cached *e = lh_calloc(1, sizeof(*e));
    char *k = lh_malloc(klen ? klen : 1);
    if (e == NULL || k == NULL) {
        lh_free(e);
        lh_free(k);
        *out = NULL;
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    memcpy(k, key, klen);
    e->key = k;
    e->klen = klen;
    e->refs = 1;
    lh_arena_init(&e->arena, 0);
    *out = e;
    return LH_OK;
}

lh_arena *
lh__ice_cached_arena(lh__ice_cached *e)
{
    return &e->arena;
}

void *
lh__ice_cached_obj(const lh__ice_cached *e)
{
    return e->obj;
}

void
lh__ice_cached_set(lh__ice_cached *e, void *obj)
{
    e->obj = obj;
}

void
lh__ice_cache_put(lh__ice_cached *e, void *obj)
{
    e->obj = obj;
    e->bytes = e->arena.held + e->klen + sizeof(*e);
    lh__ice_cached *dead = NULL;
    pthread_mutex_lock(&g.mu);
    if (g.budget > 0 && e->bytes <= g.budget && !e->in_cache) {
        /* Another thread may have put the same key meanwhile: the two
         * hold the same parse of the same bytes, the newer replaces it. */
        void *old = NULL;
        if (lh_map_put(&g.map, e->key, e->klen, e, &old) == LH_OK) {
            lh__ice_cached *o = old;
            if (o != NULL) {
                lru_unlink(o);
                o->in_cache = false;
                g.st.bytes -= o->bytes;
                g.st.entries--;
                if (--o->refs == 0) {
                    o->next = dead;
                    dead = o;
                }
            }
            e->refs++;
            e->in_cache = true;
            lru_push_front(e);
            g.st.bytes += e->bytes;
            g.st.entries++;
            evict_locked(&dead);
        }
        /* out of memory for the map's slot: the entry stays the
         * caller's alone, which is still a correct (uncached) result */
    }
    pthread_mutex_unlock(&g.mu);
    free_chain(dead);
}

void
lh__ice_cache_release(lh__ice_cached *e)
{
    if (e == NULL) {
        return;
    }
    pthread_mutex_lock(&g.mu);
    bool last = --e->refs == 0;
    pthread_mutex_unlock(&g.mu);
    if (last) {
        entry_free(e);
    }
}

bool
lh__ice_cache_enabled(void)
{
    pthread_mutex_lock(&g.mu);
    bool on = g.budget > 0;
    pthread_mutex_unlock(&g.mu);
    return on;
}

void
lh_ice_cache_set_budget(size_t bytes)
{
    lh__ice_cached *dead = NULL;
    pthread_mutex_lock(&g.mu);
    g.budget = bytes;
    evict_locked(&dead);
    pthread_mutex_unlock(&g.mu);
    free_chain(dead);
}

size_t
lh_ice_cache_budget(void)
{
    pthread_mutex_lock(&g.mu);
    size_t b = g.budget;
    pthread_mutex_unlock(&g.mu);
    return b;
}

void
lh_ice_cache_clear(void)
{
    lh__ice_cached *dead = NULL;
    pthread_mutex_lock(&g.mu);
    while (g.tail != NULL) {
        lh__ice_cached *e = g.tail;
        if (remove_locked(e)) {
            e->next = dead;
            dead = e;
        }
    }
    pthread_mutex_unlock(&g.mu);
    free_chain(dead);
}

void
lh_ice_cache_stats_get(lh_ice_cache_stats *out)
{
    pthread_mutex_lock(&g.mu);
    *out = g.st;
    pthread_mutex_unlock(&g.mu);
}
