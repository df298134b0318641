/*
 * hnsw_int.h: the HNSW graph's structures, shared by hnsw.c (the graph) and
 * hnsw_file.c (persistence). Layout and locking: docs/internals/vector.md.
 */
#ifndef LH_HNSW_INT_H
#define LH_HNSW_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "vector/vector_int.h"

#define HNSW_CHUNK_BITS 12 /* 4096 nodes per allocation */
#define HNSW_CHUNK ((uint64_t)1 << HNSW_CHUNK_BITS)
#define HNSW_MAX_CHUNKS                                                        \
    (1u << 18) /* 2^30 slots: slot ids stay below the                          \
                  map's two reserved values */
#define HNSW_MAX_M0 512
#define HNSW_MAX_LEVEL 16
#define HNSW_NO_ENTRY UINT64_MAX

/* node flags */
#define HNSW_READY 1u    /* fully inserted: exact scans may return it */
#define HNSW_DELETED 2u  /* tombstone: traversed, never returned */
#define HNSW_UNLINKED 4u /* a tombstone no live node links to (repaired) */

/* One slot: this header, the level-0 list, then (at vec_off, 64-byte
 * aligned) the vector. Lists are [count, link...] of slot ids; upper levels
 * l = 1..level live in `upper`, (m + 1) words each. */
typedef struct hnsw_node {
    _Atomic uint8_t lock; /* spinlock over this node's lists (writers) */
    uint8_t level;
    uint8_t pad[2];
    uint32_t pad2;
    int64_t id;
    _Atomic uint32_t *upper;
    _Atomic uint32_t links0[];
} hnsw_node;

typedef struct hnsw_map {
    int64_t *key;
    uint32_t *slot; /* UINT32_MAX empty, UINT32_MAX - 1 tombstone */
    size_t cap, used, filled;
} hnsw_map;

/* Per-search memory, pooled on the handle. */
typedef struct hnsw_scratch {
    char pad_head[64]; /* two searches' scratch never share a cache line */
    struct hnsw_scratch *next;
    uint16_t *tags; /* visited: tags[slot] == epoch */
    size_t tags_cap;
    uint16_t epoch;
    lh__vec_pair *cand, *top;
    size_t cand_cap, top_cap, ntop;
    float *q; /* the query (normalized for cosine) */
    char pad_tail[64];
} hnsw_scratch;

struct lh_hnsw {
    lh_hnsw_config cfg;
    const lh_vec_kernels *k;
    unsigned m, m0;
    double ml;
    size_t vec_off, node_bytes;
    uint8_t **chunks; /* fixed array of nchunks; a chunk once set stays */
    size_t nchunks;
    size_t bytes; /* chunk bytes, under grow_mu */
    _Atomic uint32_t n_slots;
    _Atomic size_t n_live, n_deleted;
    _Atomic uint64_t entry;   /* level << 32 | slot, or HNSW_NO_ENTRY */
    pthread_mutex_t grow_mu;  /* slot allocation */
    pthread_mutex_t entry_mu; /* an insert raising the top level */
    pthread_mutex_t map_mu;   /* the id map */
    pthread_mutex_t pool_mu;  /* scratch pool */
    pthread_rwlock_t maint;   /* read: insert/delete; write: repair/save */
    hnsw_map map;
    hnsw_scratch *pool;
};

/* A chunk is its nodes' flags (one byte each, dense, so a search's checks
 * stay in cache) and then the nodes. */
static inline hnsw_node *
hnsw_at(const lh_hnsw *h, uint32_t s)
{
    return (hnsw_node *)(h->chunks[s >> HNSW_CHUNK_BITS] + HNSW_CHUNK +
                         (size_t)(s & (HNSW_CHUNK - 1)) * h->node_bytes);
}

static inline _Atomic uint8_t *
hnsw_flags(const lh_hnsw *h, uint32_t s)
{
    return (_Atomic uint8_t *)(h->chunks[s >> HNSW_CHUNK_BITS] +
                               (s & (HNSW_CHUNK - 1)));
}

static inline float *
hnsw_vec(const lh_hnsw *h, hnsw_node *n)
{
    return (float *)((uint8_t *)n + h->vec_off);
}

/* The metric over stored vectors (unit vectors for cosine: 1 - dot). */
static inline float
lh__hnsw_dist(const lh_hnsw *h, const float *a, const float *b)
{
    switch (h->cfg.metric) {
    case LH_VEC_L2:
        return h->k->l2sq(a, b, h->cfg.dim);
    case LH_VEC_IP:
        return -h->k->dot(a, b, h->cfg.dim);
    default:
        return 1.0f - h->k->dot(a, b, h->cfg.dim);
    }
}

/* A new slot (zeroed node) for an insert or a load. LH_ELIMIT, LH_ENOMEM. */
lh_rc lh__hnsw_alloc_slot(lh_hnsw *h, uint32_t *out, lh_err *err);
/* id -> s in the map; *old gets the slot replaced, or UINT32_MAX. */
lh_rc lh__hnsw_map_put(hnsw_map *m, int64_t id, uint32_t s, uint32_t *old);

/* Repair with maint already held for writing. LH_ENOMEM. */
lh_rc lh__hnsw_repair_locked(lh_hnsw *h);

#endif
