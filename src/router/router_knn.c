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

/* A batch of columns cols[idx[0..n)] with room for rows rows (in a). */
static lh_rc
batch_alloc(lh_batch *b, const lh_sql_column *cols, const uint32_t *idx,
            uint32_t n, uint32_t rows, lh_arena *a, lh_err *err)
{
    *b = (lh_batch){.ncols = n};
    b->cols = lh_arena_calloc(a, (n + 1) * sizeof(lh_vector));
    if (b->cols == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = LH_OK;
    for (uint32_t c = 0; c < n && rc == LH_OK; c++) {
        rc = lh_vector_alloc(&b->cols[c], cols[idx[c]].type, rows ? rows : 1,
                             true, a, err);
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

/* Row r of b, candidate c, into h when it is among the k nearest. */
static lh_rc
heap_offer(lh_arena *a, lake_heap *h, cand c, const lh_batch *b, uint32_t r,
           lh_err *err)
{
    uint32_t slot;
    if (h->n < h->k) {
        slot = h->n;
    } else if (cand_cmp(&c, &h->c[0]) < 0) {
        slot = h->c[0].row;
    } else {
        return LH_OK;
    }
    lh_rc rc = copy_row(a, &h->rows, slot, b, r, err);
    c.row = slot;
    if (h->n < h->k) {
        h->c[h->n++] = c;
        heap_up(h, h->n - 1);
    } else {
        h->c[0] = c;
        heap_down(h, 0);
    }
    return rc;
}

/* One lake batch into the heap: rows in b's selection, not expired,
 * passing the filter. *nulls counts those passing without an embedding,
 * *passed those with one. */
static lh_rc
lake_batch(lake_heap *h, const lh_batch *b, uint32_t ncols,
           const lh_knn_request *kr, const lh_vec_kernels *kn, lh_us now,
           uint8_t *pass, uint64_t *nulls, uint64_t *passed, lh_arena *a,
           lh_knn_stats *stats, lh_err *err)
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
        (*passed)++;
        stats->distances++;
        c.tier = 1;
        rc = heap_offer(a, h, c, b, r, err);
    }
    return rc;
}

/* ---- the lake part ----------------------------------------------------- */

/* The lake's search: the snapshot's table, the router's columns plus the
 * warm index's two (LIST, CODE: not SQL columns), the request. */
typedef struct lake_ctx {
    const lh__rt_parts *p;
    lh__lake *l;
    lh_sql_column *cols; /* p->cols, then list_id and pq_code */
    int32_t *fids;
    uint32_t list_col, code_col;
    const lh_scan_request *lr; /* the request's columns, then X_... */
    const lh_knn_request *kr;
    lake_heap *h;
    uint64_t nulls; /* rows passing without an embedding (counted by
                       the exact scans; the warm index does not see
                       those of coded files: then nulls_unknown) */
    bool nulls_unknown;
    const lh_vec_kernels *kn;
    lh_us now;
    uint8_t *pass;
    lh_arena *a;
    lh_knn_stats *stats;
} lake_ctx;

typedef lh_rc (*lake_fn)(lake_ctx *c, const lh_batch *b, void *ud, lh_err *err);

/* Every batch of a scan of the snapshot with request r through fn. */
static lh_rc
lake_scan(lake_ctx *c, const lh_scan_request *r, lake_fn fn, void *ud,
          lh_err *err)
{
    lh_source *ice = NULL;
    void *shared = NULL;
    lh_source_scan *s = NULL;
    lh_rc rc = lh__iceberg_source_new(c->l->ice, false, 0, c->cols, c->fids,
                                      c->code_col + 1, &ice, err);
    if (rc == LH_OK) {
        rc = ice->vt->share(ice, r, &shared, err);
    }
    if (rc == LH_OK) {
        rc = ice->vt->open(ice, r, shared, &s, err);
    }
    while (rc == LH_OK) {
        lh_batch b;
        rc = ice->vt->next(s, &b, err);
        if (rc != LH_OK || b.count == 0) {
            break;
        }
        rc = fn(c, &b, ud, err);
    }
    if (s != NULL) {
        lh_scan_stats st = {0};
        ice->vt->stats(s, &st);
        c->stats->lake_rows += st.rows;
        ice->vt->close(s);
    }
    if (shared != NULL) {
        ice->vt->free_shared(shared);
    }
    lh__iceberg_source_free(ice);
    return rc;
}

/* The exact part: every row of the batch (ud NULL), or those whose
 * list_id is NULL (ud non-NULL: its column after the request's). */
static lh_rc
exact_batch(lake_ctx *c, const lh_batch *b, void *ud, lh_err *err)
{
    uint64_t passed = 0;
    if (ud == NULL) {
        return lake_batch(c->h, b, c->lr->ncols - NX, c->kr, c->kn, c->now,
                          c->pass, &c->nulls, &passed, c->a, c->stats, err);
    }
    uint32_t *sel = ud, k = 0, n = b->sel ? b->nsel : b->count;
    const lh_vector *lv = &b->cols[c->lr->ncols];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = b->sel ? b->sel[i] : i;
        if (!lh_vec_valid(lv, r)) {
            sel[k++] = r;
        }
    }
    lh_batch nb = *b;
    nb.sel = sel;
    nb.nsel = k;
    return k == 0
               ? LH_OK
               : lake_batch(c->h, &nb, c->lr->ncols - NX, c->kr, c->kn, c->now,
                            c->pass, &c->nulls, &passed, c->a, c->stats, err);
}

/* A request like lr whose columns are cols[0..n) and with one more
 * predicate (in a). */
static lh_rc
with_pred(lake_ctx *c, const uint32_t *cols, uint32_t n,
          const lh_scan_pred *pred, lh_scan_request *out, lh_err *err)
{
    const lh_scan_request *lr = c->lr;
    lh_scan_pred *preds =
        lh_arena_alloc(c->a, (lr->npreds + 1) * sizeof(lh_scan_pred));
    if (preds == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    if (lr->npreds > 0) {
        memcpy(preds, lr->preds, lr->npreds * sizeof(lh_scan_pred));
    }
    preds[lr->npreds] = *pred;
    *out = *lr;
    out->cols = cols;
    out->ncols = n;
    out->preds = preds;
    out->npreds = lr->npreds + 1;
    return LH_OK;
}

/* The rows no codebook encoded (flushed before the first one existed):
 * exactly, through a list_id IS NULL scan. */
static lh_rc
uncoded_part(lake_ctx *c, lh_err *err)
{
    uint32_t n = c->lr->ncols;
    uint32_t *cols = lh_arena_alloc(c->a, (n + 1) * sizeof(uint32_t));
    uint32_t *sel = lh_arena_alloc(c->a, LH_BATCH_ROWS * sizeof(uint32_t));
    if (cols == NULL || sel == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    memcpy(cols, c->lr->cols, n * sizeof(uint32_t));
    cols[n] = c->list_col;
    lh_scan_pred isnull = {.col = c->list_col, .is_null = true};
    lh_scan_request r;
    lh_rc rc = with_pred(c, cols, n + 1, &isnull, &r, err);
    return rc == LH_OK ? lake_scan(c, &r, exact_batch, sel, err) : rc;
}

/* One version's search state. */
typedef struct warm_round {
    lh_ivfpq *x;
    uint32_t version;
    const uint8_t *probed; /* per list: searched this round */
    int64_t *ids;          /* a batch's codes, gathered */
    uint32_t *lists;
    uint8_t *codes;
    size_t nkeys;    /* candidates found by ADC */
    lh_batch cand;   /* the candidates' rows: lr's columns */
    lh_batch *store; /* the probed rows (lr's columns), by slot, in chunks
                        of LH_BATCH_ROWS */
    uint32_t nstore, nchunks;
    bool overflow; /* more probed rows than STORE_MAX: scan exactly */
    lake_heap hv;  /* the k nearest of this round, exact */
    uint64_t passed;
} warm_round;

static bool
probed_list(const warm_round *w, const lh_vector *lv, uint32_t r,
            uint32_t *list)
{
    if (!lh_vec_valid(lv, r)) {
        return false;
    }
    uint32_t v = (uint32_t)((const int32_t *)lv->data)[r];
    *list = v & ((1u << LH__LIST_BITS) - 1);
    return v >> LH__LIST_BITS == w->version &&
           *list < lh_ivfpq_config_of(w->x)->nlist && w->probed[*list];
}

/* Probed rows a round keeps at most (their columns copied); beyond, the
 * exact scan is about as cheap. */
#define STORE_MAX 65536

/* A round's one pass: each row of a probed list, its code into the index
 * under its slot and its columns (lr's) into the store. The batch's
 * columns are lr's, then LIST and CODE. */
static lh_rc
store_batch(lake_ctx *c, const lh_batch *b, void *ud, lh_err *err)
{
    warm_round *w = ud;
    size_t m = lh_ivfpq_config_of(w->x)->m, k = 0;
    uint32_t n = b->sel ? b->nsel : b->count, nl = c->lr->ncols;
    lh_rc rc = LH_OK;
    for (uint32_t i = 0; i < n && rc == LH_OK && !w->overflow; i++) {
        uint32_t r = b->sel ? b->sel[i] : i, list;
        lh_value code;
        if (!probed_list(w, &b->cols[nl], r, &list)) {
            continue;
        }
        lh__vec_get(&b->cols[nl + 1], r, &code);
        if (code.is_null || code.u.s.len != m) {
            continue; /* not written by this codebook: never a candidate */
        }
        if (w->nstore == STORE_MAX) {
            w->overflow = true;
            break;
        }
        uint32_t chunk = w->nstore / LH_BATCH_ROWS;
        if (chunk == w->nchunks) {
            lh_batch *st = lh_arena_alloc(c->a, (chunk + 1) * sizeof(lh_batch));
            if (st == NULL) {
                return lh_err_set(err, LH_ENOMEM, "out of memory");
            }
            if (chunk > 0) {
                memcpy(st, w->store, chunk * sizeof(lh_batch));
            }
            w->store = st;
            w->nchunks++;
            rc = batch_alloc(&st[chunk], c->p->cols, c->lr->cols, nl,
                             LH_BATCH_ROWS, c->a, err);
            if (rc != LH_OK) {
                break;
            }
        }
        rc = copy_row(c->a, &w->store[chunk], w->nstore % LH_BATCH_ROWS, b, r,
                      err);
        w->ids[k] = w->nstore++;
        w->lists[k] = list;
        memcpy(w->codes + k * m, code.u.s.p, m);
        k++;
    }
    c->stats->lake_codes += k;
    return rc == LH_OK
               ? lh_ivfpq_add_codes(w->x, w->ids, w->lists, w->codes, k, err)
               : rc;
}

/* One round of version w->version: nprobe lists, the want nearest codes
 * re-ranked with their full vectors into w->hv. */
static lh_rc
warm_round_run(lake_ctx *c, warm_round *w, size_t nprobe, size_t want,
               lh_err *err)
{
    const lh_ivfpq_config *cfg = lh_ivfpq_config_of(w->x);
    uint32_t *lists = lh_arena_alloc(c->a, nprobe * sizeof(uint32_t));
    uint8_t *probed = lh_arena_calloc(c->a, cfg->nlist);
    lh_value *vals = lh_arena_alloc(c->a, nprobe * sizeof(lh_value));
    lh_vec_hit *hits = lh_arena_alloc(c->a, want * sizeof(lh_vec_hit));
    if (lists == NULL || probed == NULL || vals == NULL || hits == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    size_t np = 0;
    lh_rc rc = lh_ivfpq_probe(w->x, c->kr->q, nprobe, lists, &np, err);
    for (size_t i = 0; i < np; i++) {
        probed[lists[i]] = 1;
        vals[i] = (lh_value){.type = lh_sql_type(LH_T_INTEGER)};
        vals[i].u.i = (int64_t)(w->version << LH__LIST_BITS | lists[i]);
    }
    w->probed = probed;
    c->stats->lake_lists += (uint32_t)np;
    lh_scan_pred in = {.col = c->list_col,
                       .op = LH_OP_NONE,
                       .values = vals,
                       .nvalues = (uint32_t)np};
    /* one pass: the probed lists' rows (page-pruned), their codes into the
     * index and their columns kept by slot */
    uint32_t nl = c->lr->ncols;
    uint32_t *cols = lh_arena_alloc(c->a, (nl + 2) * sizeof(uint32_t));
    if (cols == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    memcpy(cols, c->lr->cols, nl * sizeof(uint32_t));
    cols[nl] = c->list_col;
    cols[nl + 1] = c->code_col;
    lh_scan_request ra;
    lh_ivfpq_clear(w->x);
    w->nstore = 0;
    w->overflow = false;
    if (rc == LH_OK) {
        rc = with_pred(c, cols, nl + 2, &in, &ra, err);
    }
    if (rc == LH_OK) {
        rc = lake_scan(c, &ra, store_batch, w, err);
    }
    /* the refine x k nearest by ADC, then their rows re-ranked exactly
     * (and filtered) */
    size_t nh = 0;
    if (rc == LH_OK && !w->overflow) {
        rc = lh_ivfpq_search(w->x, c->kr->q, want, np, NULL, hits, &nh, err);
    }
    w->nkeys = nh;
    w->cand.count = 0;
    for (size_t i = 0; rc == LH_OK && i < nh; i++) {
        uint32_t slot = (uint32_t)hits[i].id;
        rc = copy_row(c->a, &w->cand, w->cand.count++,
                      &w->store[slot / LH_BATCH_ROWS], slot % LH_BATCH_ROWS,
                      err);
    }
    w->hv.n = 0;
    w->passed = 0;
    c->stats->lake_reranked += w->cand.count;
    if (rc == LH_OK && w->cand.count > 0) {
        rc = lake_batch(&w->hv, &w->cand, c->lr->ncols - NX, c->kr, c->kn,
                        c->now, c->pass, &c->nulls, &w->passed, c->a, c->stats,
                        err);
    }
    w->probed = NULL;
    return rc;
}

/* A heap of k rows of the request's columns (in a). */
static lh_rc
heap_init(lake_heap *h, const lh__rt_parts *p, const lh_scan_request *req,
          uint32_t k, lh_arena *a, lh_err *err)
{
    *h = (lake_heap){.k = k};
    h->c = lh_arena_alloc(a, k * sizeof(cand));
    if (h->c == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    return batch_alloc(&h->rows, p->cols, req->cols, req->ncols, k, a, err);
}

/* The warm index's search over every codebook version's rows, and the
 * rows no codebook encoded exactly. *answered false: the caller's exact
 * scan must answer (the index is not there, or too few rows passed the
 * filter even with every list searched). */
static lh_rc
warm_part(lake_ctx *c, bool *answered, lh_err *err)
{
    *answered = false;
    const lh_tabledef *d = c->p->t->def;
    const lh_ice_schema *sch =
        lh_ice_meta_current_schema(lh_ice_table_meta(c->l->ice));
    if (d->vindex.metric != c->kr->metric || sch == NULL ||
        lh_ice_schema_find(sch, LH__F_LIST_ID) == NULL ||
        lh_ice_schema_find(sch, LH__F_PQ_CODE) == NULL) {
        return LH_OK;
    }
    uint32_t latest = 0, k = c->kr->k;
    lh_rc rc = lh__warm_codebook_latest(c->l, &latest, err);
    if (rc != LH_OK || latest == 0) {
        return rc;
    }
    rc = uncoded_part(c, err);
    bool fallback = false;
    for (uint32_t v = 1; rc == LH_OK && !fallback && v <= latest; v++) {
        warm_round w = {.version = v};
        w.x = lh_ivfpq_pool_take(c->p->t->warm_pool, v);
        rc = w.x ? LH_OK : lh__warm_codebook_load(c->l, v, &w.x, err);
        if (rc == LH_ENOENT) {
            rc = LH_OK;
            continue;
        }
        const lh_ivfpq_config *cfg =
            rc == LH_OK ? lh_ivfpq_config_of(w.x) : NULL;
        if (rc == LH_OK && cfg->dim > c->kr->dim) {
            rc = lh_err_set(err, LH_ECORRUPT,
                            "warm index codebook %u covers %zu dims of a "
                            "FLOAT[%u] embedding",
                            v, cfg->dim, c->kr->dim);
        }
        if (rc == LH_OK) {
            w.ids = lh_arena_alloc(c->a, LH_BATCH_ROWS * sizeof(int64_t));
            w.lists = lh_arena_alloc(c->a, LH_BATCH_ROWS * sizeof(uint32_t));
            w.codes = lh_arena_alloc(c->a, LH_BATCH_ROWS * cfg->m);
            rc = w.ids && w.lists && w.codes
                     ? heap_init(&w.hv, c->p, c->lr, k, c->a, err)
                     : lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        if (rc == LH_OK) {
            /* the first n columns are the heap's: it copies those */
            w.hv.rows.ncols = c->lr->ncols - NX;
            rc = batch_alloc(&w.cand, c->p->cols, c->lr->cols, c->lr->ncols,
                             LH_BATCH_ROWS, c->a, err);
        }
        size_t nprobe = c->kr->nprobe ? c->kr->nprobe : d->vindex.nprobe;
        size_t refine = c->kr->refine ? c->kr->refine : d->vindex.refine;
        size_t nlist = cfg ? cfg->nlist : 1;
        size_t want = LH_MIN(refine * k, (size_t)LH_BATCH_ROWS);
        want = LH_MAX(want, (size_t)k);
        while (rc == LH_OK) {
            rc = warm_round_run(c, &w, nprobe, want, err);
            c->stats->rounds++;
            /* done: k passed, or every coded row of every list was a
             * candidate (no more to find) */
            bool all = nprobe >= nlist && w.nkeys < want;
            if (rc != LH_OK || (!w.overflow && (w.passed >= k || all))) {
                break;
            }
            if (w.overflow || (nprobe >= nlist && want >= LH_BATCH_ROWS)) {
                /* very selective, or lists too large to keep: exactly */
                fallback = true;
                break;
            }
            nprobe = LH_MIN(nprobe * 4, nlist);
            want = LH_MIN(want * 4, LH_BATCH_ROWS);
        }
        for (uint32_t i = 0; rc == LH_OK && !fallback && i < w.hv.n; i++) {
            rc = heap_offer(c->a, c->h, w.hv.c[i], &w.hv.rows, w.hv.c[i].row,
                            err);
        }
        lh_ivfpq_pool_give(c->p->t->warm_pool, v, w.x);
    }
    *answered = rc == LH_OK && !fallback;
    c->nulls_unknown = *answered;
    return rc;
}

/* Step 2: the k nearest rows of the lake's current snapshot into h
 * (none without a snapshot): the warm index, else exactly. */
static lh_rc
lake_part(const lh__rt_parts *p, const lh_scan_request *lr,
          const lh_knn_request *kr, lake_heap *h, uint64_t *nulls, lh_arena *a,
          lh_knn_stats *stats, lh_err *err)
{
    lake_ctx c = {.p = p,
                  .lr = lr,
                  .kr = kr,
                  .h = h,
                  .kn = lh_vec_kernels_best(),
                  .now = lh_now(),
                  .a = a,
                  .stats = stats};
    lh_rc rc = lh__lake_open(p->t, &c.l, err);
    if (rc == LH_EUNSUPPORTED) {
        return LH_OK; /* a column the lake cannot hold: never flushed */
    }
    if (rc != LH_OK || c.l->ice == NULL ||
        lh_ice_meta_current_snapshot(lh_ice_table_meta(c.l->ice)) == NULL) {
        lh__lake_close(c.l);
        return rc;
    }
    c.list_col = p->ncols;
    c.code_col = p->ncols + 1;
    c.cols = lh_arena_calloc(a, (p->ncols + 2) * sizeof(lh_sql_column));
    c.fids = lh_arena_calloc(a, (p->ncols + 2) * sizeof(int32_t));
    c.pass = lh_arena_alloc(a, LH_BATCH_ROWS);
    if (c.cols == NULL || c.fids == NULL || c.pass == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
    } else {
        memcpy(c.cols, p->cols, p->ncols * sizeof(lh_sql_column));
        memcpy(c.fids, p->fids, p->ncols * sizeof(int32_t));
        c.cols[c.list_col] = (lh_sql_column){.name = "list_id",
                                             .type = lh_sql_type(LH_T_INTEGER),
                                             .nullable = true,
                                             .hidden = true};
        c.cols[c.code_col] = (lh_sql_column){.name = "pq_code",
                                             .type = lh_sql_type(LH_T_BLOB),
                                             .nullable = true,
                                             .hidden = true};
        c.fids[c.list_col] = LH__F_LIST_ID;
        c.fids[c.code_col] = LH__F_PQ_CODE;
    }
    stats->parts++;
    bool answered = false;
    if (rc == LH_OK) {
        rc = warm_part(&c, &answered, err);
    }
    if (rc == LH_OK && !answered) {
        h->n = 0;
        c.nulls = 0;
        stats->exact_parts++;
        rc = lake_scan(&c, lr, exact_batch, NULL, err);
    }
    /* unknown: as if some passed (a short answer goes to the exact plan) */
    *nulls = c.nulls + (c.nulls_unknown ? 1 : 0);
    lh__lake_close(c.l);
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
    lh_rc rc = batch_alloc(out, p->cols, req->cols, req->ncols, m, a, err);
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
    lake_heap h;
    if (cols == NULL || fcols == NULL) {
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
    rc = heap_init(&h, p, req, kr->k, a, err);
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
