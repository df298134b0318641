/*
 * HNSW: the graph, insert, delete and repair, search (filtered too).
 * Layout and locking: docs/internals/vector.md, "HNSW".
 */
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "vector/hnsw_int.h"

void
lh_hnsw_config_default(lh_hnsw_config *c, size_t dim, lh_vec_metric m)
{
    memset(c, 0, sizeof(*c));
    c->dim = dim;
    c->metric = m;
    c->m = 16;
    c->ef_construction = 200;
    c->ef_search = 64;
    c->max_elements = UINT64_C(1) << 26;
    c->seed = 1;
}

/* ---- the id map (open addressing, int64 -> slot) ---- */

#define MAP_EMPTY UINT32_MAX
#define MAP_TOMB (UINT32_MAX - 1)

static size_t
map_home(const hnsw_map *m, int64_t id)
{
    uint64_t x = (uint64_t)id * UINT64_C(0x9e3779b97f4a7c15);
    return (size_t)(x >> 20) & (m->cap - 1);
}

static uint32_t
map_get(const hnsw_map *m, int64_t id)
{
    if (m->cap == 0) {
        return MAP_EMPTY;
    }
    for (size_t i = map_home(m, id);; i = (i + 1) & (m->cap - 1)) {
        if (m->slot[i] == MAP_EMPTY) {
            return MAP_EMPTY;
        }
        if (m->slot[i] != MAP_TOMB && m->key[i] == id) {
            return m->slot[i];
        }
    }
}

static lh_rc
map_grow(hnsw_map *m)
{
    size_t cap = m->cap == 0 ? 1024 : m->cap * 2;
    if (m->used * 2 < m->cap) {
        cap = m->cap; /* many tombstones: rehash at the same size */
    }
    int64_t *key = lh_malloc(cap * sizeof(int64_t));
    uint32_t *slot = lh_malloc(cap * sizeof(uint32_t));
    if (key == NULL || slot == NULL) {
        lh_free(key);
        lh_free(slot);
        return LH_ENOMEM;
    }
    memset(slot, 0xff, cap * sizeof(uint32_t));
    hnsw_map n = {key, slot, cap, 0, 0};
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slot[i] < MAP_TOMB) {
            size_t j = map_home(&n, m->key[i]);
            while (n.slot[j] != MAP_EMPTY) {
                j = (j + 1) & (cap - 1);
            }
            n.key[j] = m->key[i];
            n.slot[j] = m->slot[i];
            n.used++;
            n.filled++;
        }
    }
    lh_free(m->key);
    lh_free(m->slot);
    *m = n;
    return LH_OK;
}

/* Sets id -> s; *old receives the slot it replaced (MAP_EMPTY if none). */
lh_rc
lh__hnsw_map_put(hnsw_map *m, int64_t id, uint32_t s, uint32_t *old)
{
    if ((m->filled + 1) * 2 > m->cap && map_grow(m) != LH_OK) {
        return LH_ENOMEM;
    }
    size_t tomb = SIZE_MAX;
    for (size_t i = map_home(m, id);; i = (i + 1) & (m->cap - 1)) {
        if (m->slot[i] == MAP_EMPTY) {
            if (tomb != SIZE_MAX) {
                i = tomb;
            } else {
                m->filled++;
            }
            m->key[i] = id;
            m->slot[i] = s;
            m->used++;
            *old = MAP_EMPTY;
            return LH_OK;
        }
        if (m->slot[i] == MAP_TOMB) {
            if (tomb == SIZE_MAX) {
                tomb = i;
            }
        } else if (m->key[i] == id) {
            *old = m->slot[i];
            m->slot[i] = s;
            return LH_OK;
        }
    }
}

static uint32_t
map_del(hnsw_map *m, int64_t id)
{
    if (m->cap == 0) {
        return MAP_EMPTY;
    }
    for (size_t i = map_home(m, id);; i = (i + 1) & (m->cap - 1)) {
        if (m->slot[i] == MAP_EMPTY) {
            return MAP_EMPTY;
        }
        if (m->slot[i] != MAP_TOMB && m->key[i] == id) {
            uint32_t s = m->slot[i];
            m->slot[i] = MAP_TOMB;
            m->used--;
            return s;
        }
    }
}

/* ---- nodes ------------------------------------------------------------------
 */

/* A node's lists are held for a few hundred nanoseconds: spin, but yield
 * the core after a while, so that a holder descheduled on a busy machine
 * gets to finish (a pure spinlock collapses when threads outnumber cores). */
static inline void
node_lock(hnsw_node *n)
{
    unsigned spins = 0;
    while (atomic_exchange_explicit(&n->lock, 1, memory_order_acquire)) {
        while (atomic_load_explicit(&n->lock, memory_order_relaxed)) {
            if (++spins < 128) {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
            } else {
                sched_yield();
            }
        }
    }
}

static inline void
node_unlock(hnsw_node *n)
{
    atomic_store_explicit(&n->lock, 0, memory_order_release);
}

/* The link list of n at level l: [count, links...]. */
static inline _Atomic uint32_t *
node_links(const lh_hnsw *h, hnsw_node *n, unsigned l)
{
    if (l == 0) {
        return n->links0;
    }
    return n->upper + (size_t)(l - 1) * (h->m + 1);
}

static inline unsigned
max_links(const lh_hnsw *h, unsigned l)
{
    return l == 0 ? h->m0 : h->m;
}

static inline float
ndist(const lh_hnsw *h, const float *q, uint32_t s)
{
    return lh__hnsw_dist(h, q, hnsw_vec(h, hnsw_at(h, s)));
}

lh_rc
lh__hnsw_alloc_slot(lh_hnsw *h, uint32_t *out, lh_err *err)
{
    lh_rc rc = LH_OK;
    pthread_mutex_lock(&h->grow_mu);
    uint32_t s = atomic_load_explicit(&h->n_slots, memory_order_relaxed);
    if ((uint64_t)s >= h->cfg.max_elements) {
        rc = lh_err_set(err, LH_ELIMIT,
                        "hnsw index is full (%llu slots; deleted rows count "
                        "until a rebuild)",
                        (unsigned long long)h->cfg.max_elements);
        goto done;
    }
    size_t c = s >> HNSW_CHUNK_BITS;
    if (h->chunks[c] == NULL) {
        h->chunks[c] = lh_calloc(1, HNSW_CHUNK + HNSW_CHUNK * h->node_bytes);
        if (h->chunks[c] == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory for hnsw nodes");
            goto done;
        }
        h->bytes += HNSW_CHUNK + HNSW_CHUNK * h->node_bytes;
    }
    atomic_store_explicit(&h->n_slots, s + 1, memory_order_release);
    *out = s;
done:
    pthread_mutex_unlock(&h->grow_mu);
    return rc;
}

/* A level from the slot alone (geometric with ratio 1/m), so parallel
 * builds draw without a shared generator. */
static unsigned
draw_level(const lh_hnsw *h, uint32_t s)
{
    uint64_t x[2] = {h->cfg.seed, s};
    uint64_t r = lh_hash64(x, sizeof(x));
    double u = ((double)(r >> 11) + 0.5) * 0x1.0p-53;
    double l = -log(u) * h->ml;
    return l > HNSW_MAX_LEVEL ? HNSW_MAX_LEVEL : (unsigned)l;
}

/* ---- search scratch ---- */

static hnsw_scratch *
scratch_get(lh_hnsw *h)
{
    pthread_mutex_lock(&h->pool_mu);
    hnsw_scratch *s = h->pool;
    if (s != NULL) {
        h->pool = s->next;
    }
    pthread_mutex_unlock(&h->pool_mu);
    if (s == NULL) {
        s = lh_calloc(1, sizeof(*s));
        if (s == NULL) {
            return NULL;
        }
        s->q = lh_malloc(h->cfg.dim * sizeof(float));
        if (s->q == NULL) {
            lh_free(s);
            return NULL;
        }
    }
    return s;
}

static void
scratch_put(lh_hnsw *h, hnsw_scratch *s)
{
    pthread_mutex_lock(&h->pool_mu);
    s->next = h->pool;
    h->pool = s;
    pthread_mutex_unlock(&h->pool_mu);
}

static void
scratch_free(hnsw_scratch *s)
{
    lh_free(s->tags);
    lh_free(s->cand);
    lh_free(s->top);
    lh_free(s->q);
    lh_free(s);
}

/* A fresh visited set covering the slots in use now (grown on the way when
 * a newer slot turns up). */
static lh_rc
visited_begin(lh_hnsw *h, hnsw_scratch *s)
{
    size_t need = atomic_load_explicit(&h->n_slots, memory_order_acquire);
    if (need > s->tags_cap) {
        size_t cap = need + need / 4 + 1024;
        uint16_t *t = lh_realloc(s->tags, cap * sizeof(uint16_t));
        if (t == NULL) {
            return LH_ENOMEM;
        }
        memset(t + s->tags_cap, 0, (cap - s->tags_cap) * sizeof(uint16_t));
        s->tags = t;
        s->tags_cap = cap;
    }
    if (++s->epoch == 0) {
        memset(s->tags, 0, s->tags_cap * sizeof(uint16_t));
        s->epoch = 1;
    }
    return LH_OK;
}

/* True the first time slot v is seen in this search. */
static inline bool
visit(hnsw_scratch *s, uint32_t v)
{
    if (v >= s->tags_cap) {
        size_t cap = (size_t)v * 2 + 1024;
        uint16_t *t = lh_realloc(s->tags, cap * sizeof(uint16_t));
        if (t == NULL) {
            return false; /* out of memory: treat as seen (search narrows) */
        }
        memset(t + s->tags_cap, 0, (cap - s->tags_cap) * sizeof(uint16_t));
        s->tags = t;
        s->tags_cap = cap;
    }
    if (s->tags[v] == s->epoch) {
        return false;
    }
    s->tags[v] = s->epoch;
    return true;
}

static lh_rc
reserve_pairs(lh__vec_pair **p, size_t *cap, size_t need)
{
    if (need <= *cap) {
        return LH_OK;
    }
    size_t c = LH_MAX(need, *cap * 2);
    lh__vec_pair *n = lh_realloc(*p, c * sizeof(**p));
    if (n == NULL) {
        return LH_ENOMEM;
    }
    *p = n;
    *cap = c;
    return LH_OK;
}

/* ---- the graph searches ---- */

/* Greedy descent at level l from *cur (ef = 1). */
static void
greedy(const lh_hnsw *h, const float *q, unsigned l, uint32_t *cur, float *curd,
       uint64_t *ndist_count)
{
    bool changed = true;
    while (changed) {
        changed = false;
        hnsw_node *n = hnsw_at(h, *cur);
        _Atomic uint32_t *ln = node_links(h, n, l);
        uint32_t cnt = atomic_load_explicit(&ln[0], memory_order_acquire);
        for (uint32_t i = 1; i <= cnt; i++) {
            uint32_t v = atomic_load_explicit(&ln[i], memory_order_relaxed);
            float d = ndist(h, q, v);
            (*ndist_count)++;
            if (d < *curd) {
                *curd = d;
                *cur = v;
                changed = true;
            }
        }
    }
}

/* Which nodes may enter the results of a layer search. */
typedef struct accept {
    const lh_vec_filter *filter; /* NULL: all live nodes */
    bool need_ready; /* searches: not rows an insert is still linking (a
                        replaced id would show twice) */
} accept;

static inline bool
accepted(const lh_hnsw *h, const accept *a, uint32_t s)
{
    uint8_t f = atomic_load_explicit(hnsw_flags(h, s), memory_order_acquire);
    if ((f & HNSW_DELETED) || (a->need_ready && !(f & HNSW_READY))) {
        return false;
    }
    if (a->filter != NULL) {
        return lh_vec_filter_pass(a->filter, hnsw_at(h, s)->id);
    }
    return true;
}

/* The ef best accepted nodes at level l reachable from ep, into s->top
 * (a max-heap of s->ntop). Traverses rejected nodes too. With budget > 0,
 * stops after that many distances. */
static lh_rc
search_layer(const lh_hnsw *h, hnsw_scratch *s, const float *q, uint32_t ep,
             unsigned l, unsigned ef, const accept *a, uint64_t budget,
             uint64_t *dcount)
{
    if (reserve_pairs(&s->top, &s->top_cap, (size_t)ef + 1) != LH_OK ||
        reserve_pairs(&s->cand, &s->cand_cap, (size_t)ef + h->m0 + 1) !=
            LH_OK) {
        return LH_ENOMEM;
    }
    size_t ntop = 0;
    size_t ncand = 0;
    float bound = INFINITY;
    float d = ndist(h, q, ep);
    (*dcount)++;
    visit(s, ep);
    lh__vec_minheap_push(s->cand, &ncand, (lh__vec_pair){d, ep});
    if (accepted(h, a, ep)) {
        lh__vec_maxheap_push(s->top, &ntop, (lh__vec_pair){d, ep});
        if (ntop >= ef) {
            bound = s->top[0].d;
        }
    }
    uint64_t start = *dcount;
    while (ncand > 0) {
        lh__vec_pair c = s->cand[0];
        if (c.d > bound) {
            break;
        }
        if (budget > 0 && *dcount - start > budget) {
            break;
        }
        lh__vec_minheap_pop(s->cand, &ncand);
        hnsw_node *n = hnsw_at(h, c.i);
        _Atomic uint32_t *ln = node_links(h, n, l);
        uint32_t cnt = atomic_load_explicit(&ln[0], memory_order_acquire);
        if (cnt > max_links(h, l)) {
            cnt = max_links(h, l); /* never past the list, even mid-write */
        }
        for (uint32_t i = 1; i <= cnt; i++) {
            uint32_t v = atomic_load_explicit(&ln[i], memory_order_relaxed);
            __builtin_prefetch(hnsw_vec(h, hnsw_at(h, v)));
        }
        for (uint32_t i = 1; i <= cnt; i++) {
            uint32_t v = atomic_load_explicit(&ln[i], memory_order_relaxed);
            if (i < cnt) {
                uint32_t nx =
                    atomic_load_explicit(&ln[i + 1], memory_order_relaxed);
                __builtin_prefetch(hnsw_vec(h, hnsw_at(h, nx)) + 16);
            }
            if (!visit(s, v)) {
                continue;
            }
            float dv = ndist(h, q, v);
            (*dcount)++;
            if (dv >= bound) {
                continue;
            }
            if (reserve_pairs(&s->cand, &s->cand_cap, ncand + 1) != LH_OK) {
                s->ntop = ntop;
                return LH_ENOMEM;
            }
            lh__vec_minheap_push(s->cand, &ncand, (lh__vec_pair){dv, v});
            if (accepted(h, a, v)) {
                lh__vec_maxheap_push(s->top, &ntop, (lh__vec_pair){dv, v});
                if (ntop > ef) {
                    lh__vec_maxheap_pop(s->top, &ntop);
                }
                if (ntop >= ef) {
                    bound = s->top[0].d;
                }
            }
        }
    }
    s->ntop = ntop;
    return LH_OK;
}

/* ---- neighbour selection (the heuristic of the HNSW paper, alg. 4) ---- */

/* Keeps at most max of c[0..n) (sorted ascending by distance to the new
 * point): a candidate goes in unless a kept one is closer to it than the
 * point is. Returns the count kept, compacted at the front. */
static size_t
select_neighbors(const lh_hnsw *h, lh__vec_pair *c, size_t n, unsigned max)
{
    if (n <= max) {
        return n;
    }
    size_t kept = 0;
    for (size_t i = 0; i < n && kept < max; i++) {
        const float *vi = hnsw_vec(h, hnsw_at(h, c[i].i));
        bool good = true;
        for (size_t j = 0; j < kept; j++) {
            float dj = lh__hnsw_dist(h, vi, hnsw_vec(h, hnsw_at(h, c[j].i)));
            if (dj < c[i].d) {
                good = false;
                break;
            }
        }
        if (good) {
            c[kept++] = c[i];
        }
    }
    return kept;
}

/* Adds link n -> v at level l (n locked here); prunes n's list when full. */
static lh_rc
link_to(lh_hnsw *h, uint32_t ns, uint32_t v, unsigned l)
{
    hnsw_node *n = hnsw_at(h, ns);
    unsigned max = max_links(h, l);
    node_lock(n);
    _Atomic uint32_t *ln = node_links(h, n, l);
    uint32_t cnt = atomic_load_explicit(&ln[0], memory_order_relaxed);
    for (uint32_t i = 1; i <= cnt; i++) {
        if (atomic_load_explicit(&ln[i], memory_order_relaxed) == v) {
            node_unlock(n);
            return LH_OK;
        }
    }
    if (cnt < max) {
        atomic_store_explicit(&ln[cnt + 1], v, memory_order_relaxed);
        atomic_store_explicit(&ln[0], cnt + 1, memory_order_release);
        node_unlock(n);
        return LH_OK;
    }
    lh__vec_pair c[HNSW_MAX_M0 + 1];
    const float *nv = hnsw_vec(h, n);
    for (uint32_t i = 1; i <= cnt; i++) {
        uint32_t x = atomic_load_explicit(&ln[i], memory_order_relaxed);
        c[i - 1] = (lh__vec_pair){ndist(h, nv, x), x};
    }
    c[cnt] = (lh__vec_pair){ndist(h, nv, v), v};
    lh__vec_pairs_sort(c, cnt + 1);
    size_t kept = select_neighbors(h, c, cnt + 1, max);
    for (size_t i = 0; i < kept; i++) {
        atomic_store_explicit(&ln[i + 1], c[i].i, memory_order_relaxed);
    }
    atomic_store_explicit(&ln[0], (uint32_t)kept, memory_order_release);
    node_unlock(n);
    return LH_OK;
}

static inline uint64_t
entry_pack(unsigned level, uint32_t s)
{
    return (uint64_t)level << 32 | s;
}

/* Links slot s (vector and level set) into the graph. */
static lh_rc
connect(lh_hnsw *h, uint32_t s, hnsw_scratch *sc, uint64_t *dcount)
{
    hnsw_node *n = hnsw_at(h, s);
    const float *v = hnsw_vec(h, n);
    unsigned level = n->level;
    pthread_mutex_lock(&h->entry_mu);
    uint64_t e = atomic_load_explicit(&h->entry, memory_order_acquire);
    if (e == HNSW_NO_ENTRY) {
        atomic_store_explicit(&h->entry, entry_pack(level, s),
                              memory_order_release);
        pthread_mutex_unlock(&h->entry_mu);
        return LH_OK;
    }
    bool new_top = level > (unsigned)(e >> 32);
    if (!new_top) {
        pthread_mutex_unlock(&h->entry_mu); /* else held to the end */
    }
    uint32_t cur = (uint32_t)e;
    unsigned top = (unsigned)(e >> 32);
    float curd = ndist(h, v, cur);
    for (unsigned l = top; l > level; l--) {
        greedy(h, v, l, &cur, &curd, dcount);
    }
    accept a = {NULL, false};
    lh_rc rc = LH_OK;
    for (int l = (int)LH_MIN(level, top); l >= 0; l--) {
        if (visited_begin(h, sc) != LH_OK) {
            rc = LH_ENOMEM;
            break;
        }
        rc = search_layer(h, sc, v, cur, (unsigned)l, h->cfg.ef_construction,
                          &a, 0, dcount);
        if (rc != LH_OK) {
            break;
        }
        size_t cnt = sc->ntop;
        lh__vec_pairs_sort(sc->top, cnt);
        if (cnt == 0) {
            continue; /* only tombstones near: stay unlinked here */
        }
        cur = sc->top[0].i;
        size_t kept = select_neighbors(h, sc->top, cnt, h->m);
        node_lock(n);
        _Atomic uint32_t *ln = node_links(h, n, (unsigned)l);
        for (size_t i = 0; i < kept; i++) {
            atomic_store_explicit(&ln[i + 1], sc->top[i].i,
                                  memory_order_relaxed);
        }
        atomic_store_explicit(&ln[0], (uint32_t)kept, memory_order_release);
        node_unlock(n);
        for (size_t i = 0; i < kept && rc == LH_OK; i++) {
            rc = link_to(h, sc->top[i].i, s, (unsigned)l);
        }
    }
    if (new_top) {
        atomic_store_explicit(&h->entry, entry_pack(level, s),
                              memory_order_release);
        pthread_mutex_unlock(&h->entry_mu);
    }
    return rc;
}

/* ---- insert, delete ---- */

lh_rc
lh_hnsw_insert(lh_hnsw *h, int64_t id, const float *v, lh_err *err)
{
    lh_rc rc = lh_vec_check(v, h->cfg.dim, "vector", err);
    if (rc != LH_OK) {
        lh_err_prefix(err, "row %lld", (long long)id);
        return rc;
    }
    pthread_rwlock_rdlock(&h->maint);
    uint32_t s = 0;
    rc = lh__hnsw_alloc_slot(h, &s, err);
    if (rc != LH_OK) {
        goto done;
    }
    hnsw_node *n = hnsw_at(h, s);
    unsigned level = draw_level(h, s);
    if (level > 0) {
        n->upper = lh_calloc((size_t)level * (h->m + 1), sizeof(uint32_t));
        if (n->upper == NULL) {
            /* the slot stays, deleted and unlinked */
            atomic_store(hnsw_flags(h, s), HNSW_DELETED | HNSW_UNLINKED);
            rc = lh_err_set(err, LH_ENOMEM, "out of memory for hnsw links");
            goto done;
        }
    }
    n->level = (uint8_t)level;
    n->id = id;
    float *dst = hnsw_vec(h, n);
    memcpy(dst, v, h->cfg.dim * sizeof(float));
    if (h->cfg.metric == LH_VEC_COS) {
        lh_vec_normalize(h->k, dst, h->cfg.dim);
    }
    hnsw_scratch *sc = scratch_get(h);
    if (sc == NULL) {
        atomic_store(hnsw_flags(h, s), HNSW_DELETED | HNSW_UNLINKED);
        rc = lh_err_set(err, LH_ENOMEM, "out of memory for an hnsw insert");
        goto done;
    }
    uint64_t dc = 0;
    rc = connect(h, s, sc, &dc);
    scratch_put(h, sc);
    if (rc != LH_OK) {
        /* partly linked: a tombstone, so it is never returned */
        atomic_store(hnsw_flags(h, s), HNSW_DELETED);
        atomic_fetch_add(&h->n_deleted, 1);
        rc = lh_err_set(err, rc, "out of memory linking hnsw row %lld",
                        (long long)id);
        goto done;
    }
    pthread_mutex_lock(&h->map_mu);
    uint32_t old;
    rc = lh__hnsw_map_put(&h->map, id, s, &old);
    pthread_mutex_unlock(&h->map_mu);
    if (rc != LH_OK) {
        atomic_store(hnsw_flags(h, s), HNSW_DELETED);
        atomic_fetch_add(&h->n_deleted, 1);
        rc = lh_err_set(err, rc, "out of memory for the hnsw id map");
        goto done;
    }
    if (old != MAP_EMPTY) {
        atomic_fetch_or(hnsw_flags(h, old), HNSW_DELETED);
        atomic_fetch_add(&h->n_deleted, 1);
    } else {
        atomic_fetch_add(&h->n_live, 1);
    }
    atomic_fetch_or_explicit(hnsw_flags(h, s), HNSW_READY,
                             memory_order_release);
done:
    pthread_rwlock_unlock(&h->maint);
    return rc;
}

typedef struct many_ctx {
    lh_hnsw *h;
    const int64_t *ids;
    const float *vecs;
    _Atomic size_t next;
    size_t n;
    _Atomic int failed;
    lh_err err;
    pthread_mutex_t err_mu;
} many_ctx;

static void
many_part(void *ctx, size_t from, size_t to, unsigned t)
{
    (void)from;
    (void)to;
    (void)t;
    many_ctx *c = ctx;
    /* one shared counter, so threads take rows in order (the graph grows
     * as a single-threaded build's would, give or take neighbours) */
    for (;;) {
        size_t i = atomic_fetch_add(&c->next, 1);
        if (i >= c->n || atomic_load(&c->failed)) {
            return;
        }
        lh_err e;
        lh_rc rc =
            lh_hnsw_insert(c->h, c->ids[i], c->vecs + i * c->h->cfg.dim, &e);
        if (rc != LH_OK) {
            pthread_mutex_lock(&c->err_mu);
            if (!atomic_load(&c->failed)) {
                c->err = e;
                atomic_store(&c->failed, (int)rc);
            }
            pthread_mutex_unlock(&c->err_mu);
            return;
        }
    }
}

lh_rc
lh_hnsw_insert_many(lh_hnsw *h, const int64_t *ids, const float *vecs, size_t n,
                    unsigned threads, lh_err *err)
{
    many_ctx c = {.h = h, .ids = ids, .vecs = vecs, .n = n};
    pthread_mutex_init(&c.err_mu, NULL);
    lh__vec_parallel(threads, threads == 0 ? 1 : threads, many_part, &c);
    pthread_mutex_destroy(&c.err_mu);
    if (c.failed) {
        if (err != NULL) {
            *err = c.err;
        }
        return (lh_rc)c.failed;
    }
    return LH_OK;
}

lh_rc
lh_hnsw_delete(lh_hnsw *h, int64_t id, lh_err *err)
{
    pthread_rwlock_rdlock(&h->maint);
    pthread_mutex_lock(&h->map_mu);
    uint32_t s = map_del(&h->map, id);
    pthread_mutex_unlock(&h->map_mu);
    if (s != MAP_EMPTY) {
        atomic_fetch_or(hnsw_flags(h, s), HNSW_DELETED);
        atomic_fetch_add(&h->n_deleted, 1);
        atomic_fetch_sub(&h->n_live, 1);
    }
    pthread_rwlock_unlock(&h->maint);
    if (s == MAP_EMPTY) {
        return lh_err_set(err, LH_ENOENT, "no row %lld in the hnsw index",
                          (long long)id);
    }
    size_t dead = atomic_load(&h->n_deleted);
    if (dead > 64 && dead * 8 > atomic_load(&h->n_live)) {
        return lh_hnsw_repair(h, err);
    }
    return LH_OK;
}

/* ---- repair ---- */

static inline bool
is_deleted(const lh_hnsw *h, uint32_t s)
{
    return atomic_load_explicit(hnsw_flags(h, s), memory_order_acquire) &
           HNSW_DELETED;
}

/* Rewrites n's list at level l without tombstones: candidates are its live
 * neighbours and the live neighbours of its deleted ones. */
static lh_rc
repair_list(lh_hnsw *h, uint32_t ns, unsigned l, lh__vec_pair **buf,
            size_t *cap)
{
    hnsw_node *n = hnsw_at(h, ns);
    _Atomic uint32_t *ln = node_links(h, n, l);
    uint32_t cnt = atomic_load(&ln[0]);
    bool any = false;
    for (uint32_t i = 1; i <= cnt; i++) {
        any = any || is_deleted(h, atomic_load(&ln[i]));
    }
    if (!any) {
        return LH_OK;
    }
    const float *nv = hnsw_vec(h, n);
    size_t nc = 0;
    for (uint32_t i = 1; i <= cnt; i++) {
        uint32_t x = atomic_load(&ln[i]);
        uint32_t from[HNSW_MAX_M0 + 1];
        uint32_t nf = 0;
        if (!is_deleted(h, x)) {
            from[nf++] = x;
        } else if (hnsw_at(h, x)->level >= l) {
            _Atomic uint32_t *lx = node_links(h, hnsw_at(h, x), l);
            uint32_t cx = atomic_load(&lx[0]);
            for (uint32_t j = 1; j <= cx; j++) {
                uint32_t y = atomic_load(&lx[j]);
                if (y != ns && !is_deleted(h, y)) {
                    from[nf++] = y;
                }
            }
        }
        for (uint32_t j = 0; j < nf; j++) {
            bool dup = false;
            for (size_t t = 0; t < nc && !dup; t++) {
                dup = (*buf)[t].i == from[j];
            }
            if (dup) {
                continue;
            }
            if (reserve_pairs(buf, cap, nc + 1) != LH_OK) {
                return LH_ENOMEM;
            }
            (*buf)[nc++] = (lh__vec_pair){ndist(h, nv, from[j]), from[j]};
        }
    }
    lh__vec_pairs_sort(*buf, nc);
    size_t kept = select_neighbors(h, *buf, nc, max_links(h, l));
    node_lock(n);
    for (size_t i = 0; i < kept; i++) {
        atomic_store_explicit(&ln[i + 1], (*buf)[i].i, memory_order_relaxed);
    }
    atomic_store_explicit(&ln[0], (uint32_t)kept, memory_order_release);
    node_unlock(n);
    return LH_OK;
}

lh_rc
lh_hnsw_repair(lh_hnsw *h, lh_err *err)
{
    pthread_rwlock_wrlock(&h->maint);
    lh_rc rc = lh__hnsw_repair_locked(h);
    pthread_rwlock_unlock(&h->maint);
    if (rc != LH_OK) {
        return lh_err_set(err, rc, "out of memory repairing the hnsw index");
    }
    return LH_OK;
}

lh_rc
lh__hnsw_repair_locked(lh_hnsw *h)
{
    uint32_t ns = atomic_load(&h->n_slots);
    lh__vec_pair *buf = NULL;
    size_t cap = 0;
    lh_rc rc = LH_OK;
    /* tombstones are repaired in rounds: a list may gain a tombstone's
     * neighbour that is itself a tombstone only through a live node, so one
     * pass over live nodes leaves no link to a tombstone */
    for (uint32_t s = 0; s < ns && rc == LH_OK; s++) {
        if (is_deleted(h, s)) {
            continue;
        }
        for (unsigned l = 0; l <= hnsw_at(h, s)->level && rc == LH_OK; l++) {
            rc = repair_list(h, s, l, &buf, &cap);
        }
    }
    lh_free(buf);
    if (rc != LH_OK) {
        return rc;
    }
    /* the entry point: the live node of the highest level */
    uint64_t e = atomic_load(&h->entry);
    if (e != HNSW_NO_ENTRY && is_deleted(h, (uint32_t)e)) {
        uint64_t best = HNSW_NO_ENTRY;
        for (uint32_t s = 0; s < ns; s++) {
            if (!is_deleted(h, s) &&
                (best == HNSW_NO_ENTRY ||
                 hnsw_at(h, s)->level > (unsigned)(best >> 32))) {
                best = entry_pack(hnsw_at(h, s)->level, s);
            }
        }
        atomic_store(&h->entry, best);
    }
    for (uint32_t s = 0; s < ns; s++) {
        if (is_deleted(h, s)) {
            atomic_fetch_or(hnsw_flags(h, s), HNSW_UNLINKED);
        }
    }
    return LH_OK;
}

/* ---- search ---- */

/* The exact answer over the allowed live rows. */
static lh_rc
exact_scan(lh_hnsw *h, hnsw_scratch *sc, const float *q, size_t k,
           const lh_vec_filter *f, uint64_t *dcount)
{
    if (reserve_pairs(&sc->top, &sc->top_cap, k + 1) != LH_OK) {
        return LH_ENOMEM;
    }
    lh__vec_topk t = {sc->top, 0, k};
    if (f != NULL && f->bits != NULL && f->allow == NULL && f->count > 0 &&
        f->count * 8 < lh_hnsw_count(h)) {
        /* few bits: walk them and look the ids up */
        pthread_mutex_lock(&h->map_mu);
        for (uint64_t w = 0; w < (f->nbits + 63) / 64; w++) {
            uint64_t bits = f->bits[w];
            while (bits) {
                int b = __builtin_ctzll(bits);
                bits &= bits - 1;
                int64_t id = (int64_t)(w * 64 + (uint64_t)b);
                uint32_t s = map_get(&h->map, id);
                if (s == MAP_EMPTY || (uint64_t)id >= f->nbits) {
                    continue;
                }
                lh__vec_topk_offer(&t, (lh__vec_pair){ndist(h, q, s), s});
                (*dcount)++;
            }
        }
        pthread_mutex_unlock(&h->map_mu);
    } else {
        uint32_t ns = atomic_load_explicit(&h->n_slots, memory_order_acquire);
        for (uint32_t s = 0; s < ns; s++) {
            hnsw_node *n = hnsw_at(h, s);
            uint8_t fl =
                atomic_load_explicit(hnsw_flags(h, s), memory_order_acquire);
            if ((fl & (HNSW_READY | HNSW_DELETED)) != HNSW_READY ||
                !lh_vec_filter_pass(f, n->id)) {
                continue;
            }
            lh__vec_topk_offer(&t, (lh__vec_pair){ndist(h, q, s), s});
            (*dcount)++;
        }
    }
    sc->ntop = t.n;
    return LH_OK;
}

/* Share of live rows passing f, from a sample of up to 512 slots. */
static double
estimate_pass(lh_hnsw *h, const lh_vec_filter *f)
{
    uint32_t ns = atomic_load_explicit(&h->n_slots, memory_order_acquire);
    size_t seen = 0, pass = 0;
    uint32_t step = ns / 512 + 1;
    for (uint32_t s = 0; s < ns; s += step) {
        hnsw_node *n = hnsw_at(h, s);
        uint8_t fl =
            atomic_load_explicit(hnsw_flags(h, s), memory_order_acquire);
        if ((fl & (HNSW_READY | HNSW_DELETED)) != HNSW_READY) {
            continue;
        }
        seen++;
        pass += lh_vec_filter_pass(f, n->id);
    }
    return seen == 0 ? 0.0 : (double)pass / (double)seen;
}

lh_rc
lh_hnsw_search(lh_hnsw *h, const float *q, size_t k, unsigned ef,
               const lh_vec_filter *filter, lh_vec_hit *out, size_t *n,
               lh_hnsw_stats *stats, lh_err *err)
{
    *n = 0;
    lh_hnsw_stats st = {0};
    lh_rc rc = lh_vec_check(q, h->cfg.dim, "query vector", err);
    if (rc != LH_OK || k == 0) {
        return rc;
    }
    if (filter != NULL && filter->bits == NULL && filter->allow == NULL) {
        filter = NULL;
    }
    hnsw_scratch *sc = scratch_get(h);
    if (sc == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory for an hnsw search");
    }
    memcpy(sc->q, q, h->cfg.dim * sizeof(float));
    if (h->cfg.metric == LH_VEC_COS) {
        lh_vec_normalize(h->k, sc->q, h->cfg.dim);
    }
    if (ef == 0) {
        ef = h->cfg.ef_search;
    }
    if (ef < k) {
        ef = (unsigned)LH_MIN(k, (size_t)UINT32_MAX);
    }
    size_t live = lh_hnsw_count(h);
    uint64_t e = atomic_load_explicit(&h->entry, memory_order_acquire);
    /* the cost of an exact answer, in distances */
    double allowed = (double)live;
    if (filter != NULL) {
        allowed = filter->count > 0 ? (double)filter->count
                                    : estimate_pass(h, filter) * (double)live;
    }
    bool exact = e == HNSW_NO_ENTRY || allowed <= (double)ef * 2 ||
                 (filter != NULL && allowed <= (double)ef * h->m0);
    accept a = {filter, true};
    while (!exact) {
        st.rounds++;
        st.ef = ef;
        uint32_t cur = (uint32_t)e;
        float curd = ndist(h, sc->q, cur);
        st.distances++;
        for (unsigned l = (unsigned)(e >> 32); l > 0; l--) {
            greedy(h, sc->q, l, &cur, &curd, &st.distances);
        }
        /* budget: what ef costs on a graph where every row passes, widened
         * in proportion to the rows the filter drops */
        uint64_t budget = 0;
        if (filter != NULL) {
            budget =
                (uint64_t)((double)ef * h->m0 * 2 *
                           LH_MIN((double)live / LH_MAX(allowed, 1.0), 1e6));
        }
        rc = visited_begin(h, sc);
        if (rc == LH_OK) {
            rc = search_layer(h, sc, sc->q, cur, 0, ef, &a, budget,
                              &st.distances);
        }
        if (rc != LH_OK) {
            goto done;
        }
        if (sc->ntop >= k || (filter == NULL && sc->ntop >= live)) {
            break;
        }
        /* too few rows passed: widen, or scan when that is cheaper */
        ef = ef > UINT32_MAX / 4 ? UINT32_MAX : ef * 4;
        if ((double)ef * h->m0 >= allowed || st.distances >= allowed) {
            exact = true;
        }
    }
    if (exact) {
        st.exact = true;
        rc = exact_scan(h, sc, sc->q, k, filter, &st.distances);
        if (rc != LH_OK) {
            goto done;
        }
    }
    lh__vec_pairs_sort(sc->top, sc->ntop);
    for (size_t i = 0; i < sc->ntop && i < k; i++) {
        out[i].id = hnsw_at(h, sc->top[i].i)->id;
        out[i].dist = sc->top[i].d;
        if (h->cfg.metric == LH_VEC_COS) {
            /* stored as 1 - dot of unit vectors: the cosine distance,
             * clamped as the kernels do */
            out[i].dist = LH_MAX(0.0f, LH_MIN(2.0f, out[i].dist));
        }
        (*n)++;
    }
done:
    scratch_put(h, sc);
    if (stats != NULL) {
        *stats = st;
    }
    if (rc != LH_OK) {
        return lh_err_set(err, rc, "out of memory in an hnsw search");
    }
    return LH_OK;
}

/* ---- the handle ---- */

lh_rc
lh_hnsw_new(const lh_hnsw_config *c, lh_hnsw **out, lh_err *err)
{
    *out = NULL;
    if (c->dim == 0 || c->dim > LH_VEC_MAX_DIM) {
        return lh_err_set(err, LH_EINVAL, "hnsw dim %zu out of range 1..%d",
                          c->dim, LH_VEC_MAX_DIM);
    }
    if (c->m < 2 || c->m > HNSW_MAX_M0 / 2) {
        return lh_err_set(err, LH_EINVAL, "hnsw m %u out of range 2..%d", c->m,
                          HNSW_MAX_M0 / 2);
    }
    if (c->ef_construction == 0 || c->ef_search == 0) {
        return lh_err_set(err, LH_EINVAL, "hnsw ef must be at least 1");
    }
    if (c->max_elements == 0 ||
        c->max_elements > ((uint64_t)HNSW_MAX_CHUNKS << HNSW_CHUNK_BITS)) {
        return lh_err_set(
            err, LH_EINVAL, "hnsw max_elements %llu out of range 1..%llu",
            (unsigned long long)c->max_elements,
            (unsigned long long)HNSW_MAX_CHUNKS << HNSW_CHUNK_BITS);
    }
    lh_hnsw *h = lh_calloc(1, sizeof(*h));
    if (h == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory for an hnsw index");
    }
    h->cfg = *c;
    h->k = lh_vec_kernels_best();
    h->m = c->m;
    h->m0 = 2 * c->m;
    h->ml = 1.0 / log((double)c->m);
    size_t links = offsetof(hnsw_node, links0) + (h->m0 + 1) * sizeof(uint32_t);
    h->vec_off = (links + 63) & ~(size_t)63;
    h->node_bytes = (h->vec_off + c->dim * sizeof(float) + 63) & ~(size_t)63;
    h->nchunks =
        (size_t)((c->max_elements + HNSW_CHUNK - 1) >> HNSW_CHUNK_BITS);
    h->chunks = lh_calloc(h->nchunks, sizeof(uint8_t *));
    if (h->chunks == NULL) {
        lh_free(h);
        return lh_err_set(err, LH_ENOMEM, "out of memory for an hnsw index");
    }
    atomic_init(&h->entry, HNSW_NO_ENTRY);
    pthread_mutex_init(&h->grow_mu, NULL);
    pthread_mutex_init(&h->entry_mu, NULL);
    pthread_mutex_init(&h->map_mu, NULL);
    pthread_mutex_init(&h->pool_mu, NULL);
    pthread_rwlock_init(&h->maint, NULL);
    *out = h;
    return LH_OK;
}

void
lh_hnsw_free(lh_hnsw *h)
{
    if (h == NULL) {
        return;
    }
    uint32_t ns = atomic_load(&h->n_slots);
    for (uint32_t s = 0; s < ns; s++) {
        lh_free(hnsw_at(h, s)->upper);
    }
    for (size_t c = 0; c < h->nchunks; c++) {
        lh_free(h->chunks[c]);
    }
    lh_free(h->chunks);
    lh_free(h->map.key);
    lh_free(h->map.slot);
    while (h->pool != NULL) {
        hnsw_scratch *s = h->pool;
        h->pool = s->next;
        scratch_free(s);
    }
    pthread_mutex_destroy(&h->grow_mu);
    pthread_mutex_destroy(&h->entry_mu);
    pthread_mutex_destroy(&h->map_mu);
    pthread_mutex_destroy(&h->pool_mu);
    pthread_rwlock_destroy(&h->maint);
    lh_free(h);
}

const lh_hnsw_config *
lh_hnsw_config_of(const lh_hnsw *h)
{
    return &h->cfg;
}

size_t
lh_hnsw_count(const lh_hnsw *h)
{
    return atomic_load(&((lh_hnsw *)h)->n_live);
}

size_t
lh_hnsw_memory(const lh_hnsw *h)
{
    lh_hnsw *m = (lh_hnsw *)h;
    size_t b = sizeof(*h) + h->nchunks * sizeof(uint8_t *);
    pthread_mutex_lock(&m->grow_mu);
    b += h->bytes;
    pthread_mutex_unlock(&m->grow_mu);
    uint32_t ns = atomic_load(&m->n_slots);
    for (uint32_t s = 0; s < ns; s++) {
        b += (size_t)hnsw_at(h, s)->level * (h->m + 1) * sizeof(uint32_t);
    }
    pthread_mutex_lock(&m->map_mu);
    b += h->map.cap * (sizeof(int64_t) + sizeof(uint32_t));
    pthread_mutex_unlock(&m->map_mu);
    return b;
}

lh_rc
lh_hnsw_get(lh_hnsw *h, int64_t id, float *out, lh_err *err)
{
    pthread_mutex_lock(&h->map_mu);
    uint32_t s = map_get(&h->map, id);
    pthread_mutex_unlock(&h->map_mu);
    if (s == MAP_EMPTY) {
        return lh_err_set(err, LH_ENOENT, "no row %lld in the hnsw index",
                          (long long)id);
    }
    memcpy(out, hnsw_vec(h, hnsw_at(h, s)), h->cfg.dim * sizeof(float));
    return LH_OK;
}

lh_rc
lh_hnsw_build(const lh_hnsw_config *c, const int64_t *ids, const float *vecs,
              size_t n, unsigned threads, lh_hnsw **out, lh_err *err)
{
    lh_rc rc = lh_hnsw_new(c, out, err);
    if (rc != LH_OK) {
        return rc;
    }
    rc = lh_hnsw_insert_many(*out, ids, vecs, n, threads, err);
    if (rc != LH_OK) {
        lh_hnsw_free(*out);
        *out = NULL;
    }
    return rc;
}
