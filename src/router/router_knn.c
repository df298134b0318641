/*
 * router_knn.c: ORDER BY embedding <-> q LIMIT k over every tier of an
 * event table (the union's lh_source_vt.knn; docs/internals/router.md,
 * "Nearest neighbours").
 *
 *   1. Hot: the shards' HNSW (exec/hot_knn.c, lh__hot_knn_part), the k
 *      nearest hot rows passing the filter, read back with the request's
 *      columns plus embedding, shard and position.
 *   2. Lake: the table's current snapshot, read AFTER step 1. Its rows
 *      are scanned (files pruned by the request's predicates), the filter
 *      evaluated on each batch, and the k nearest kept in a heap of rows.
 *   3. Merge: every candidate's distance is computed here from its full
 *      vector with one kernel, so an event found in both tiers (flushed,
 *      not yet deleted from its shard) has the same distance and key
 *      (shard, position) twice and counts once; the k nearest remain.
 *
 * Why the order gives every event once: the pipeline deletes a shard's
 * rows only after a snapshot holding them committed. A row the hot
 * search did not see because a flush had deleted it was committed to the
 * lake before, so the snapshot read after holds it (compaction keeps the
 * rows). A row the hot search saw is either returned by it or, deleted
 * before it was read back, in that snapshot too.
 */
#include <stdlib.h>
#include <string.h>

#include "hot/hot_int.h"
#include "pipeline/pipeline_int.h"
#include "router/router_int.h"
#include "vector/vector.h"

/* Hits carry shard << 48 | position, as exec/hot_knn.c's (positions stay
 * far below 2^48). */
#define SHARD_SHIFT 48

/* Columns a part's scan reads after the request's. */
enum { X_EMB, X_SHARD, X_POS, X_TS, X_TTL, NX };

typedef struct cand {
    float dist;
    int64_t key;  /* shard << 48 | position */
    uint8_t tier; /* 0 hot, 1 lake */
    uint32_t row; /* in its tier's batch */
} cand;

static int
cand_cmp(const void *x, const void *y)
{
    const cand *a = x, *b = y;
    if (a->dist != b->dist) {
        return a->dist < b->dist ? -1 : 1;
    }
    return a->key < b->key ? -1 : a->key > b->key;
}

static int
key_cmp(const void *x, const void *y)
{
    const cand *a = x, *b = y;
    if (a->key != b->key) {
        return a->key < b->key ? -1 : 1;
    }
    return cand_cmp(x, y);
}

/* The k nearest lake rows: a max-heap by (dist, key) over the slots of
 * rows, whose columns are the request's. */
typedef struct lake_heap {
    lh_batch rows;
    cand *c; /* c[i].row: the slot in rows */
    uint32_t n, k;
} lake_heap;

static void
heap_down(lake_heap *h, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && cand_cmp(&h->c[l], &h->c[m]) > 0) {
            m = l;
        }
        if (r < h->n && cand_cmp(&h->c[r], &h->c[m]) > 0) {
            m = r;
        }
        if (m == i) {
            return;
        }
        cand t = h->c[i];
        h->c[i] = h->c[m];
        h->c[m] = t;
        i = m;
    }
}

static void
heap_up(lake_heap *h, uint32_t i)
{
    while (i > 0 && cand_cmp(&h->c[(i - 1) / 2], &h->c[i]) < 0) {
        cand t = h->c[i];
        h->c[i] = h->c[(i - 1) / 2];
        h->c[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

/* One batch of n request columns of these types, room for rows rows. */
static lh_rc
batch_alloc(lh_batch *b, const lh__rt_parts *p, const lh_scan_request *req,
            uint32_t rows, lh_arena *a, lh_err *err)
{
    *b = (lh_batch){.ncols = req->ncols};
    b->cols = lh_arena_calloc(a, (req->ncols + 1) * sizeof(lh_vector));
    if (b->cols == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = LH_OK;
    for (uint32_t c = 0; c < req->ncols && rc == LH_OK; c++) {
        rc = lh_vector_alloc(&b->cols[c], p->cols[req->cols[c]].type,
                             rows ? rows : 1, true, a, err);
    }
    return rc;
}

static lh_rc
copy_row(lh_arena *a, lh_batch *to, uint32_t dr, const lh_batch *from,
         uint32_t sr, lh_err *err)
{
    lh_rc rc = LH_OK;
    for (uint32_t c = 0; c < to->ncols && rc == LH_OK; c++) {
        rc = lh__vec_copy_row(a, &to->cols[c], dr, &from->cols[c], sr, true,
                              err);
    }
    return rc;
}

/* Row r's candidate: false when its embedding is NULL (never returned). */
static bool
row_cand(const lh_batch *b, uint32_t ncols, uint32_t r,
         const lh_knn_request *kr, const lh_vec_kernels *kn, cand *out)
{
    lh_value v, sh, pos;
    lh__vec_get(&b->cols[ncols + X_EMB], r, &v);
    if (v.is_null || v.u.vec.n != kr->dim) {
        return false;
    }
    lh__vec_get(&b->cols[ncols + X_SHARD], r, &sh);
    lh__vec_get(&b->cols[ncols + X_POS], r, &pos);
    out->dist =
        lh_vec_dist(kn, (lh_vec_metric)kr->metric, kr->q, v.u.vec.v, kr->dim);
    out->key = (int64_t)((uint64_t)sh.u.i << SHARD_SHIFT) | pos.u.i;
    out->row = r;
    return true;
}

/* One lake batch into the heap: rows in b's selection, not expired,
 * passing the filter. *nulls counts those passing without an embedding. */
static lh_rc
lake_batch(lake_heap *h, const lh_batch *b, uint32_t ncols,
           const lh_knn_request *kr, const lh_vec_kernels *kn, lh_us now,
           uint8_t *pass, uint64_t *nulls, lh_arena *a, lh_knn_stats *stats,
           lh_err *err)
{
    lh_rc rc = LH_OK;
    if (kr->filter != NULL) {
        lh_batch all = *b;
        all.sel = NULL;
        all.nsel = 0;
        rc = kr->filter(kr->filter_ud, &all, pass, err);
        stats->filter_rows += b->count;
    }
    uint32_t n = b->sel ? b->nsel : b->count;
    for (uint32_t i = 0; i < n && rc == LH_OK; i++) {
        uint32_t r = b->sel ? b->sel[i] : i;
        if (kr->filter != NULL && !pass[r]) {
            continue;
        }
        lh_value ts, ttl;
        lh__vec_get(&b->cols[ncols + X_TS], r, &ts);
        lh__vec_get(&b->cols[ncols + X_TTL], r, &ttl);
        if (!ttl.is_null && !ts.is_null &&
            lh__ttl_expired(ts.u.i, ttl.u.i, now)) {
            continue; /* invisible until retention removes it */
        }
        stats->filter_pass += kr->filter != NULL;
        cand c;
        if (!row_cand(b, ncols, r, kr, kn, &c)) {
            (*nulls)++;
            continue;
        }
        stats->distances++;
        c.tier = 1;
        uint32_t slot;
        if (h->n < h->k) {
            slot = h->n;
        } else if (cand_cmp(&c, &h->c[0]) < 0) {
            slot = h->c[0].row;
        } else {
            continue;
        }
        rc = copy_row(a, &h->rows, slot, b, r, err);
        c.row = slot;
        if (h->n < h->k) {
            h->c[h->n++] = c;
            heap_up(h, h->n - 1);
        } else {
            h->c[0] = c;
            heap_down(h, 0);
        }
    }
    return rc;
}

/* Step 2: the k nearest rows of the lake's current snapshot into h
 * (none without a snapshot). */
static lh_rc
lake_part(const lh__rt_parts *p, const lh_scan_request *lr,
          const lh_knn_request *kr, lake_heap *h, uint64_t *nulls, lh_arena *a,
          lh_knn_stats *stats, lh_err *err)
{
    lh__lake *l = NULL;
    lh_rc rc = lh__lake_open(p->t, &l, err);
    if (rc == LH_EUNSUPPORTED) {
        return LH_OK; /* a column the lake cannot hold: never flushed */
    }
    if (rc != LH_OK || l->ice == NULL ||
        lh_ice_meta_current_snapshot(lh_ice_table_meta(l->ice)) == NULL) {
        lh__lake_close(l);
        return rc;
    }
    lh_source *ice = NULL;
    void *shared = NULL;
    lh_source_scan *s = NULL;
    uint8_t *pass = lh_arena_alloc(a, LH_BATCH_ROWS);
    rc = pass ? lh__iceberg_source_new(l->ice, false, 0, p->cols, p->fids,
                                       p->ncols, &ice, err)
              : lh_err_set(err, LH_ENOMEM, "out of memory");
    if (rc == LH_OK) {
        rc = ice->vt->share(ice, lr, &shared, err);
    }
    if (rc == LH_OK) {
        rc = ice->vt->open(ice, lr, shared, &s, err);
    }
    const lh_vec_kernels *kn = lh_vec_kernels_best();
    lh_us now = lh_now();
    stats->parts++;
    stats->exact_parts++;
    while (rc == LH_OK) {
        lh_batch b;
        rc = ice->vt->next(s, &b, err);
        if (rc != LH_OK || b.count == 0) {
            break;
        }
        rc = lake_batch(h, &b, lr->ncols - NX, kr, kn, now, pass, nulls, a,
                        stats, err);
    }
    if (s != NULL) {
        ice->vt->close(s);
    }
    if (shared != NULL) {
        ice->vt->free_shared(shared);
    }
    lh__iceberg_source_free(ice);
    lh__lake_close(l);
    return rc;
}

/* Step 3: the k nearest of the hot batch and the lake's heap, each event
 * once, into out. */
static lh_rc
merge(const lh__rt_parts *p, const lh_scan_request *req,
      const lh_knn_request *kr, const lh_batch *hot, const lake_heap *h,
      lh_arena *a, lh_batch *out, lh_err *err)
{
    uint32_t nh = hot->sel ? hot->nsel : hot->count, n = 0;
    cand *c = lh_arena_alloc(a, (nh + h->n + 1) * sizeof(cand));
    if (c == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    const lh_vec_kernels *kn = lh_vec_kernels_best();
    for (uint32_t i = 0; i < nh; i++) {
        uint32_t r = hot->sel ? hot->sel[i] : i;
        if (row_cand(hot, req->ncols, r, kr, kn, &c[n])) {
            c[n++].tier = 0;
        }
    }
    memcpy(c + n, h->c, h->n * sizeof(cand));
    n += h->n;
    /* one per key: the same event from both tiers */
    qsort(c, n, sizeof(cand), key_cmp);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (m == 0 || c[m - 1].key != c[i].key) {
            c[m++] = c[i];
        }
    }
    qsort(c, m, sizeof(cand), cand_cmp);
    m = LH_MIN(m, kr->k);
    lh_rc rc = batch_alloc(out, p, req, m, a, err);
    for (uint32_t i = 0; i < m && rc == LH_OK; i++) {
        rc = copy_row(a, out, i, c[i].tier ? &h->rows : hot, c[i].row, err);
        out->count++;
    }
    return rc;
}

lh_rc
lh__router_knn(const lh__rt_parts *p, const lh_scan_request *req,
               const lh_knn_request *kr, lh_arena *a, lh_batch *out,
               lh_knn_stats *stats, lh_err *err)
{
    lh_table *t;
    lh__event_cols ec;
    lh__event_source_info(p->hot, &t, &ec);
    if (kr->col != ec.embedding || kr->k == 0 || kr->k > LH_BATCH_ROWS) {
        return LH_EUNSUPPORTED;
    }
    /* the request's columns, then those the parts need (X_...) */
    uint32_t n = req->ncols;
    uint32_t *cols = lh_arena_alloc(a, (n + NX) * sizeof(uint32_t));
    bool *fcols = lh_arena_calloc(a, n + NX);
    lake_heap h = {.k = kr->k};
    h.c = lh_arena_alloc(a, kr->k * sizeof(cand));
    if (cols == NULL || fcols == NULL || h.c == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    memcpy(cols, req->cols, n * sizeof(uint32_t));
    if (kr->filter_cols != NULL) {
        memcpy(fcols, kr->filter_cols, n * sizeof(bool));
    }
    cols[n + X_EMB] = ec.embedding;
    cols[n + X_SHARD] = ec.shard;
    cols[n + X_POS] = ec.position;
    cols[n + X_TS] = p->ts_col;
    cols[n + X_TTL] = p->ttl_col;
    lh_knn_request xr = *kr;
    xr.filter_cols = fcols;
    /* the hot SQL leaves expired events out itself: no ts nor ttl */
    lh_scan_request hr = *req;
    hr.cols = cols;
    hr.ncols = n + X_TS;
    hr.bound = NULL;
    lh_batch hot = {0};
    bool miss = false;
    lh_rc rc = lh__hot_knn_part(p->hot, &hr, &xr, a, &hot, stats, &miss, err);
    if (rc != LH_OK) {
        return rc; /* LH_EUNSUPPORTED: the exact plan */
    }
    lh_scan_request lr = hr;
    lr.ncols = n + NX;
    uint64_t nulls = 0;
    rc = batch_alloc(&h.rows, p, req, kr->k, a, err);
    if (rc == LH_OK) {
        rc = lake_part(p, &lr, &xr, &h, &nulls, a, stats, err);
    }
    if (rc != LH_OK) {
        lh_err_prefix(err, "table \"%s\"", t->def->name);
        return rc;
    }
    rc = merge(p, req, kr, &hot, &h, a, out, err);
    /* short of k, and rows without an embedding may pass: those come
     * after the nearest in SQL's order, which the exact plan gives */
    if (rc == LH_OK && out->count < kr->k && (miss || nulls > 0)) {
        return LH_EUNSUPPORTED;
    }
    return rc;
}
