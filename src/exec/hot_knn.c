/*
 * hot_knn.c: ORDER BY embedding <-> q LIMIT k over an event table's hot
 * tier through each shard's HNSW (src/hot/vindex.c), the source's
 * lh_source_vt.knn (the optimizer's rule is sql/opt_vector.c).
 *
 *   0. Filter, permissive case: the 16 k nearest rows of all are read
 *      back and the filter evaluated on them; when k pass, they are the
 *      answer (any nearer passing row would be among them) and the table
 *      is never scanned (over_fetch). Else:
 *   1. Filter (when the scan has one): the shard's rows are scanned
 *      through the event source itself (its pushed predicates prune
 *      shards and go into SQLite's WHERE), reading only the columns the
 *      filter reads plus shard and position; the filter is evaluated in
 *      batches and the positions it passes become a bitmap per shard,
 *      with their count. The HNSW's filtered search then decides: an exact
 *      scan of the allowed rows when they are few, else a graph search
 *      that widens ef until k rows pass (vector.md, "Filtered search").
 *      So k rows come back whenever k rows pass, however selective.
 *   2. Search: every shard's index for its k nearest (ef = max(k,
 *      ef_search)); a group acked but not yet in the graph is scanned
 *      exactly by the shard (read-your-writes).
 *   3. Merge: by the index's distance (the full vector's, exact), the k
 *      nearest of all shards.
 *   4. Rows: read back from each shard by position (position IN (...), a
 *      pushed predicate), the request's columns, into one batch. The sort
 *      above orders them by the distance the query computes.
 *
 * The bitmap costs one pass over the filter's columns (never the
 * embeddings): cheap beside the exact plan, which reads every embedding.
 * A row the filter passes but that leaves the hot tier between the steps
 * is simply not returned.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/exec_int.h"
#include "exec/sources.h"
#include "hot/hot_int.h"

/* Hits of all shards carry shard << 48 | position, so one sort by (dist,
 * id) merges them (positions stay far below 2^48). */
#define SHARD_SHIFT 48

/* A filtered search first reads this many times k of the nearest rows of
 * all and filters them (over_fetch): enough for a filter passing about
 * 1/16 of the rows or more to need no pass over the table. */
#define OVER_FETCH 16

void
lh__hot_knn_offer(lh_table *t, lh_sql_table *st, uint32_t col)
{
    if (t->def->embedding_dim == 0) {
        return; /* no embedding column: nothing to search */
    }
    st->knn_col = col;
    for (int i = 0; i < t->nshards; i++) {
        lh_hnsw *h = t->shards[i].vindex;
        if (h == NULL) {
            st->knn_why = t->db->readonly
                              ? "the database is open read-only, without "
                                "its vector indexes"
                              : "a shard has no vector index";
            return;
        }
        const lh_hnsw_config *c = lh_hnsw_config_of(h);
        if (i == 0) {
            st->knn_metric = (uint8_t)c->metric;
            st->knn_ef_search = c->ef_search;
        } else if ((uint8_t)c->metric != st->knn_metric) {
            st->knn_why = "the shards' vector indexes differ in metric";
            return;
        }
    }
    st->knn = true;
}

typedef struct shard_bits {
    uint64_t *bits;
    uint64_t nbits, count;
} shard_bits;

/* Sets bit pos of sb, growing the bitmap. */
static lh_rc
set_bit(shard_bits *sb, int64_t pos, lh_err *err)
{
    if (pos < 0) {
        return LH_OK;
    }
    uint64_t p = (uint64_t)pos;
    if (p >= sb->nbits) {
        uint64_t n = LH_MAX(sb->nbits * 2, (p + 64) & ~(uint64_t)63);
        uint64_t *b = lh_realloc(sb->bits, n / 8);
        if (b == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        memset(b + sb->nbits / 64, 0, (n - sb->nbits) / 8);
        sb->bits = b;
        sb->nbits = n;
    }
    uint64_t m = (uint64_t)1 << (p % 64);
    if (!(sb->bits[p / 64] & m)) {
        sb->bits[p / 64] |= m;
        sb->count++;
    }
    return LH_OK;
}

/* Step 1: the positions each shard's rows pass the filter at. */
static lh_rc
filter_bits(const lh_source *src, const lh_scan_request *req,
            const lh_knn_request *kr, const lh__event_cols *ec, int nshards,
            shard_bits *sb, lh_knn_stats *stats, lh_err *err)
{
    uint32_t n = req->ncols;
    uint32_t *cols = lh_malloc((n + 2) * sizeof(uint32_t));
    uint8_t *pass = lh_malloc(LH_BATCH_ROWS);
    if (cols == NULL || pass == NULL) {
        lh_free(cols);
        lh_free(pass);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    /* the columns the filter does not read: the shard number, which costs
     * nothing to read (filled in per shard) */
    for (uint32_t i = 0; i < n; i++) {
        cols[i] = kr->filter_cols[i] ? req->cols[i] : ec->shard;
    }
    cols[n] = ec->shard;
    cols[n + 1] = ec->position;
    lh_scan_request fr = *req;
    fr.cols = cols;
    fr.ncols = n + 2;
    lh_source_scan *s = NULL;
    lh_rc rc = src->vt->open(src, &fr, NULL, &s, err);
    while (rc == LH_OK) {
        lh_batch b;
        rc = src->vt->next(s, &b, err);
        if (rc != LH_OK || b.count == 0) {
            break;
        }
        rc = kr->filter(kr->filter_ud, &b, pass, err);
        stats->filter_rows += b.count;
        for (uint32_t r = 0; r < b.count && rc == LH_OK; r++) {
            if (!pass[r]) {
                continue;
            }
            lh_value sh, pos;
            lh__vec_get(&b.cols[n], r, &sh);
            lh__vec_get(&b.cols[n + 1], r, &pos);
            if (sh.u.i >= 0 && sh.u.i < nshards) {
                rc = set_bit(&sb[sh.u.i], pos.u.i, err);
                stats->filter_pass++;
            }
        }
    }
    if (s != NULL) {
        src->vt->close(s);
    }
    lh_free(cols);
    lh_free(pass);
    return rc;
}

/* Steps 2 and 3: the `want` nearest hits of all shards into *hits (*n,
 * lh_malloc'd). */
static lh_rc
search_shards(lh_table *t, const lh_knn_request *kr, uint32_t want,
              const shard_bits *sb, size_t *nhits, lh_vec_hit **hits_out,
              lh_knn_stats *stats, lh_err *err)
{
    size_t k = want, have = 0;
    lh_vec_hit *hits = lh_malloc(2 * k * sizeof(lh_vec_hit));
    if (hits == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    *hits_out = hits;
    lh_rc rc = LH_OK;
    for (int i = 0; i < t->nshards && rc == LH_OK; i++) {
        lh_vec_filter f = {0};
        if (sb != NULL) {
            if (sb[i].count == 0) {
                continue;
            }
            f = (lh_vec_filter){
                .bits = sb[i].bits, .nbits = sb[i].nbits, .count = sb[i].count};
        }
        lh_hnsw_stats hs = {0};
        size_t n = 0;
        /* into the second half; then the nearest k of both halves stay */
        rc = lh__shard_vsearch_stats(&t->shards[i], kr->q, k,
                                     LH_MAX(kr->ef, want), sb ? &f : NULL,
                                     hits + have, &n, &hs, err);
        stats->parts++;
        stats->exact_parts += hs.exact;
        stats->rounds += hs.rounds;
        stats->ef = LH_MAX(stats->ef, hs.ef);
        stats->distances += hs.distances;
        for (size_t j = 0; j < n && rc == LH_OK; j++) {
            hits[have + j].id |= (int64_t)((uint64_t)i << SHARD_SHIFT);
        }
        have += rc == LH_OK ? n : 0;
        lh_vec_hits_sort(hits, have);
        have = LH_MIN(have, k);
    }
    *nhits = have;
    if (rc == LH_ENOENT) {
        rc = LH_EUNSUPPORTED; /* an index went away: scan instead */
    }
    return rc;
}

/* Step 4: the rows of hits[0..n) (one shard's, positions in vals) with
 * the request's columns, appended to out. */
static lh_rc
read_rows(const lh_source *src, const lh_scan_request *req,
          const lh__event_cols *ec, int shard, const lh_value *vals, size_t n,
          lh_arena *a, lh_batch *out, lh_err *err)
{
    lh_scan_pred *preds =
        lh_arena_alloc(a, (req->npreds + 2) * sizeof(lh_scan_pred));
    lh_value *sv = lh_arena_calloc(a, sizeof(lh_value));
    if (preds == NULL || sv == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    if (req->npreds > 0) {
        memcpy(preds, req->preds, req->npreds * sizeof(lh_scan_pred));
    }
    sv->type = lh_sql_type(LH_T_INTEGER);
    sv->u.i = shard;
    preds[req->npreds] = (lh_scan_pred){
        .col = ec->shard, .op = LH_OP_EQ, .values = sv, .nvalues = 1};
    preds[req->npreds + 1] = (lh_scan_pred){.col = ec->position,
                                            .op = LH_OP_NONE,
                                            .values = vals,
                                            .nvalues = (uint32_t)n};
    lh_scan_request rr = *req;
    rr.preds = preds;
    rr.npreds = req->npreds + 2;
    lh_source_scan *s = NULL;
    lh_rc rc = src->vt->open(src, &rr, NULL, &s, err);
    while (rc == LH_OK) {
        lh_batch b;
        rc = src->vt->next(s, &b, err);
        if (rc != LH_OK || b.count == 0) {
            break;
        }
        for (uint32_t r = 0; r < b.count && rc == LH_OK; r++) {
            if (out->count == LH_BATCH_ROWS) {
                rc = lh_err_set(err, LH_EINTERNAL,
                                "vector search: too many "
                                "rows read back");
                break;
            }
            for (uint32_t c = 0; c < req->ncols && rc == LH_OK; c++) {
                rc = lh__vec_copy_row(a, &out->cols[c], out->count, &b.cols[c],
                                      r, true, err);
            }
            out->count++;
        }
    }
    if (s != NULL) {
        src->vt->close(s);
    }
    return rc;
}

static int
hit_shard(const lh_vec_hit *h)
{
    return (int)((uint64_t)h->id >> SHARD_SHIFT);
}

static int64_t
hit_position(const lh_vec_hit *h)
{
    return (int64_t)((uint64_t)h->id & (((uint64_t)1 << SHARD_SHIFT) - 1));
}

static int
by_id(const void *x, const void *y)
{
    const lh_vec_hit *a = x, *b = y;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Step 4 for all hits: the batch of their rows. */
static lh_rc
read_hits(const lh_source *src, const lh_scan_request *req,
          const lh__event_cols *ec, lh_vec_hit *hits, size_t n, lh_arena *a,
          lh_batch *out, lh_err *err)
{
    *out = (lh_batch){.ncols = req->ncols};
    out->cols = lh_arena_calloc(a, (req->ncols + 1) * sizeof(lh_vector));
    lh_value *vals = lh_arena_alloc(a, (n + 1) * sizeof(lh_value));
    if (out->cols == NULL || vals == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = LH_OK;
    for (uint32_t c = 0; c < req->ncols && rc == LH_OK; c++) {
        rc = lh_vector_alloc(&out->cols[c], ec->cols[req->cols[c]].type,
                             (uint32_t)(n ? n : 1), true, a, err);
    }
    /* one shard at a time: ordered by id, a shard's hits are together
     * (the sort above puts the rows in distance order) */
    if (n > 1) {
        qsort(hits, n, sizeof(lh_vec_hit), by_id);
    }
    for (size_t i = 0, m; i < n && rc == LH_OK; i += m) {
        int shard = hit_shard(&hits[i]);
        for (m = 0; i + m < n && hit_shard(&hits[i + m]) == shard; m++) {
            vals[m] = (lh_value){.type = lh_sql_type(LH_T_BIGINT)};
            vals[m].u.i = hit_position(&hits[i + m]);
        }
        rc = read_rows(src, req, ec, shard, vals, m, a, out, err);
    }
    return rc;
}

/* A filter that passes many rows: the OVER_FETCH x k nearest rows of all
 * are read back and filtered; when k of them pass they are the answer (a
 * nearer passing row would be among them), without the pass over the
 * table. *answered false when fewer pass: the bitmap path answers. */
static lh_rc
over_fetch(lh_table *t, const lh_source *src, const lh_scan_request *req,
           const lh_knn_request *kr, const lh__event_cols *ec, lh_arena *a,
           lh_batch *out, lh_knn_stats *stats, bool *answered, lh_err *err)
{
    *answered = false;
    uint32_t want =
        (uint32_t)LH_MIN((uint64_t)OVER_FETCH * kr->k, (uint64_t)LH_BATCH_ROWS);
    if (want <= kr->k) {
        return LH_OK;
    }
    lh_vec_hit *hits = NULL;
    size_t n = 0;
    lh_rc rc = search_shards(t, kr, want, NULL, &n, &hits, stats, err);
    if (rc == LH_OK) {
        rc = read_hits(src, req, ec, hits, n, a, out, err);
    }
    lh_free(hits);
    uint8_t *pass = rc == LH_OK ? lh_arena_alloc(a, out->count + 1) : NULL;
    uint32_t *sel =
        rc == LH_OK ? lh_arena_alloc(a, (out->count + 1) * 4) : NULL;
    if (rc == LH_OK && (pass == NULL || sel == NULL)) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    if (rc != LH_OK) {
        return rc;
    }
    rc = out->count ? kr->filter(kr->filter_ud, out, pass, err) : LH_OK;
    uint32_t k = 0;
    for (uint32_t i = 0; i < out->count && rc == LH_OK; i++) {
        if (pass[i]) {
            sel[k++] = i;
        }
    }
    if (rc != LH_OK) {
        return rc;
    }
    if (k < kr->k) {
        stats->over_missed = 1;
        return LH_OK;
    }
    out->sel = sel;
    out->nsel = k;
    stats->over_fetched = 1;
    *answered = true;
    return LH_OK;
}

/* part: the hot part of a union of tiers (lh__hot_knn_part); else the
 * whole table (lh__hot_knn). */
static lh_rc
hot_knn(const lh_source *src, const lh_scan_request *req,
        const lh_knn_request *kr, lh_arena *a, lh_batch *out,
        lh_knn_stats *stats, bool part, bool *may_miss, lh_err *err)
{
    lh_table *t;
    lh__event_cols ec;
    lh__event_source_info(src, &t, &ec);
    size_t dim = t->def->embedding_dim;
    if (dim == 0 || kr->col != ec.embedding || kr->k == 0 ||
        kr->k > LH_BATCH_ROWS) {
        return LH_EUNSUPPORTED;
    }
    if (kr->dim != dim) {
        return lh_err_set(err, LH_EINVAL,
                          "query vector has %u elements, the embedding of "
                          "\"%s\" is FLOAT[%zu]",
                          kr->dim, t->def->name, dim);
    }
    lh_vec_hit *hits_of = NULL;
    lh_rc rc = lh_vec_check(kr->q, dim, "query vector", err);
    if (rc != LH_OK) {
        return rc;
    }
    for (int i = 0; i < t->nshards; i++) {
        const lh_hnsw *h = t->shards[i].vindex;
        if (h == NULL || (uint8_t)lh_hnsw_config_of(h)->metric != kr->metric) {
            return LH_EUNSUPPORTED;
        }
    }
    if (kr->filter != NULL) {
        bool answered;
        rc = over_fetch(t, src, req, kr, &ec, a, out, stats, &answered, err);
        if (rc != LH_OK || answered) {
            return rc;
        }
    }
    shard_bits *sb = NULL;
    if (kr->filter != NULL) {
        sb = lh_calloc((size_t)t->nshards, sizeof(shard_bits));
        rc = sb == NULL
                 ? lh_err_set(err, LH_ENOMEM, "out of memory")
                 : filter_bits(src, req, kr, &ec, t->nshards, sb, stats, err);
    }
    /* A hit whose row left the hot tier since the search (a flush) is not
     * read back: then ask for more, so k rows still come back. */
    for (uint32_t want = kr->k; rc == LH_OK;
         want = LH_MIN(2 * want, LH_BATCH_ROWS)) {
        size_t n = 0;
        rc = search_shards(t, kr, want, sb, &n, &hits_of, stats, err);
        if (rc == LH_OK) {
            rc = read_hits(src, req, &ec, hits_of, n, a, out, err);
        }
        lh_free(hits_of);
        hits_of = NULL;
        if (rc != LH_OK || out->count >= LH_MIN(n, kr->k) || n < want ||
            want == LH_BATCH_ROWS) {
            break;
        }
    }
    /* Fewer than k rows, and rows passing that the index does not hold
     * (events without an embedding): SQL puts those last, so the exact
     * plan answers (cheap here: few rows pass). A part says so instead:
     * the union's other parts may still fill k. */
    bool miss = rc == LH_OK && out->count < kr->k &&
                (kr->filter == NULL || stats->filter_pass > out->count);
    if (part) {
        *may_miss = miss;
    } else if (miss) {
        rc = LH_EUNSUPPORTED;
    }
    if (sb != NULL) {
        for (int i = 0; i < t->nshards; i++) {
            lh_free(sb[i].bits);
        }
        lh_free(sb);
    }
    return rc;
}

lh_rc
lh__hot_knn(const lh_source *src, const lh_scan_request *req,
            const lh_knn_request *kr, lh_arena *a, lh_batch *out,
            lh_knn_stats *stats, lh_err *err)
{
    return hot_knn(src, req, kr, a, out, stats, false, NULL, err);
}

lh_rc
lh__hot_knn_part(const lh_source *src, const lh_scan_request *req,
                 const lh_knn_request *kr, lh_arena *a, lh_batch *out,
                 lh_knn_stats *stats, bool *may_miss, lh_err *err)
{
    *may_miss = false;
    return hot_knn(src, req, kr, a, out, stats, true, may_miss, err);
}
