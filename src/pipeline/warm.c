/*
 * warm.c: the warm tier's IVF-PQ index, written by the flush
 * (pipeline_int.h, "warm.c"; docs/internals/vector.md, "The lake tiers").
 *
 * Every warm row with an embedding carries list_id (codebook version << 20
 * | its coarse list) and pq_code (the m code bytes) beside its columns, and
 * a file's rows are ordered by list_id, so the rows of one list are one
 * range that the Parquet page index finds from a list_id IN (...)
 * predicate. The codebooks live in the lake next to the table's metadata;
 * the version in list_id says which one a row was encoded with (and the
 * file's list_id bounds which ones a file holds), so a retrained codebook
 * never makes older files unreadable.
 */
#include <stdlib.h>
#include <string.h>

#include "pipeline/pipeline_int.h"
#include "vector/vector.h"

/* Rows a first codebook is trained on at least: k-means wants a few
 * rows per list (and lh_ivfpq_train max(nlist, 256)). */
static size_t
train_min(const lh_tabledef *d)
{
    return LH_MAX((size_t)4 * d->vindex.nlist, (size_t)256);
}

uint32_t
lh__warm_prefix(const lh_tabledef *d)
{
    return LH_MIN(d->embedding_dim, 256u);
}

static void
warm_config(const lh_tabledef *d, lh_ivfpq_config *c)
{
    lh_ivfpq_config_default(c, lh__warm_prefix(d),
                            (lh_vec_metric)d->vindex.metric, d->vindex.nlist,
                            d->vindex.pq_m);
    c->threads = 2;
}

/* The store key of codebook version v. */
static lh_rc
codebook_key(const lh__lake *l, uint32_t v, char *key, size_t n, lh_err *err)
{
    char loc[4096];
    snprintf(loc, sizeof loc, "%s/index/ivfpq-%u.bin",
             lh_ice_table_meta(l->ice)->location, v);
    return lh_ice_table_key(l->ice, loc, key, n, err);
}

lh_rc
lh__warm_codebook_load(const lh__lake *l, uint32_t v, lh_ivfpq **out,
                       lh_err *err)
{
    *out = NULL;
    char key[LH_IO_KEY_MAX + 1];
    lh_rc rc = l->ice ? codebook_key(l, v, key, sizeof key, err) : LH_ENOENT;
    lh_buf b = LH_BUF_INIT;
    if (rc == LH_OK) {
        lh_err e2;
        rc = lh_io_get(lh_ice_table_store(l->ice), key, &b, NULL, &e2);
        if (rc != LH_OK && rc != LH_ENOENT && err != NULL) {
            *err = e2;
        }
    }
    if (rc == LH_OK) {
        rc = lh_ivfpq_codebook_read(b.data, b.len, 1, out, err);
        if (rc != LH_OK) {
            lh_err_prefix(err, "warm index codebook \"%s\"", key);
        }
    }
    lh_buf_release(&b);
    return rc;
}

lh_rc
lh__warm_codebook_latest(const lh__lake *l, uint32_t *v, lh_err *err)
{
    *v = 0;
    if (l->ice == NULL) {
        return LH_OK;
    }
    for (uint32_t k = 1;; k++) {
        char key[LH_IO_KEY_MAX + 1];
        lh_rc rc = codebook_key(l, k, key, sizeof key, err);
        lh_io_info info;
        lh_err e2;
        if (rc == LH_OK) {
            rc = lh_io_head(lh_ice_table_store(l->ice), key, &info, &e2);
        }
        if (rc == LH_ENOENT) {
            return LH_OK;
        }
        if (rc != LH_OK) {
            if (err != NULL) {
                *err = e2;
            }
            return rc;
        }
        *v = k;
    }
}

/* Whether codebook x is what the definition asks for now. */
static bool
matches(const lh_ivfpq *x, const lh_tabledef *d)
{
    const lh_ivfpq_config *c = lh_ivfpq_config_of(x);
    return c->dim == lh__warm_prefix(d) && c->nlist == d->vindex.nlist &&
           c->m == d->vindex.pq_m && (uint8_t)c->metric == d->vindex.metric;
}

/* The prefixes of r's embedded rows, contiguous (*vec, lh_malloc'd), and
 * which rows they are (*rows). */
static lh_rc
prefixes(const lh__lake *l, const lh__rows *r, int emb, float **vec,
         uint32_t **rows, size_t *n, lh_err *err)
{
    size_t dim = l->t->def->embedding_dim, p = lh__warm_prefix(l->t->def);
    *n = 0;
    *vec = lh_malloc((r->n ? r->n : 1) * p * sizeof(float));
    *rows = lh_malloc((r->n ? r->n : 1) * sizeof(uint32_t));
    if (*vec == NULL || *rows == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    const lh_vector *v = &r->cols[emb];
    for (uint32_t i = 0; i < r->n; i++) {
        if (!lh_vec_valid(v, i)) {
            continue;
        }
        const lh_str *s = &((const lh_str *)v->data)[i];
        if (s->len != dim * sizeof(float)) {
            return lh_err_set(err, LH_ECORRUPT,
                              "an embedding of %u bytes in a FLOAT[%zu] "
                              "column",
                              s->len, dim);
        }
        memcpy(*vec + *n * p, lh_str_data(s), p * sizeof(float));
        (*rows)[(*n)++] = i;
    }
    return LH_OK;
}

/* A codebook for these rows: the latest (when it matches the
 * definition), else one trained on them and stored as the next version
 * (or the one a racing flush stored first). *x NULL: too few rows. */
static lh_rc
codebook_for(lh__lake *l, const float *vec, size_t n, uint32_t *version,
             lh_ivfpq **x, lh_err *err)
{
    const lh_tabledef *d = l->t->def;
    uint32_t latest;
    lh_rc rc = lh__warm_codebook_latest(l, &latest, err);
    if (rc == LH_OK && latest > 0) {
        rc = lh__warm_codebook_load(l, latest, x, err);
        if (rc == LH_OK && (matches(*x, d) || n < train_min(d))) {
            *version = latest; /* keep it: too few rows to retrain */
            return LH_OK;
        }
        lh_ivfpq_free(*x);
        *x = NULL;
    }
    if (rc != LH_OK || n < train_min(d)) {
        return rc;
    }
    lh_ivfpq_config c;
    warm_config(d, &c);
    rc = lh_ivfpq_train(&c, vec, n, c.dim, x, err);
    lh_buf b = LH_BUF_INIT;
    char key[LH_IO_KEY_MAX + 1];
    if (rc == LH_OK) {
        rc = lh_ivfpq_codebook_write(*x, &b) == LH_OK
                 ? codebook_key(l, latest + 1, key, sizeof key, err)
                 : lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    if (rc == LH_OK) {
        rc = lh_io_put_if_absent(lh_ice_table_store(l->ice), key, b.data, b.len,
                                 NULL, err);
        if (rc == LH_EEXIST) {
            /* another flush (or one that died after writing it) won:
             * use its codebook, so every file of the version agrees */
            lh_ivfpq_free(*x);
            *x = NULL;
            rc = lh__warm_codebook_load(l, latest + 1, x, err);
        }
    }
    lh_buf_release(&b);
    if (rc != LH_OK) {
        lh_ivfpq_free(*x);
        *x = NULL;
        lh_err_prefix(err, "warm index of \"%s\"", d->name);
        return rc;
    }
    *version = latest + 1;
    return LH_OK;
}

lh_rc
lh__warm_encode(lh__lake *l, lh__rows *r, uint32_t *version, lh_err *err)
{
    *version = 0;
    int emb = lh__lake_col_index(l, LH__F_EMBEDDING);
    int lc = lh__lake_col_index(l, LH__F_LIST_ID);
    int cc = lh__lake_col_index(l, LH__F_PQ_CODE);
    if (emb < 0 || lc < 0 || cc < 0 || r->n == 0) {
        return LH_OK;
    }
    float *vec = NULL;
    uint32_t *rows = NULL, *lists = NULL;
    uint8_t *codes = NULL;
    lh_ivfpq *x = NULL;
    size_t n = 0;
    lh_rc rc = prefixes(l, r, emb, &vec, &rows, &n, err);
    if (rc == LH_OK && n > 0) {
        rc = codebook_for(l, vec, n, version, &x, err);
    }
    size_t m = x ? lh_ivfpq_config_of(x)->m : 0;
    if (rc == LH_OK && x != NULL) {
        lists = lh_malloc(n * sizeof(uint32_t));
        codes = lh_arena_alloc(&r->a, n * m);
        rc = lists && codes
                 ? lh_ivfpq_encode(x, vec, n, lh_ivfpq_config_of(x)->dim, 2,
                                   lists, codes, err)
                 : lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    /* rows without a codebook: NULL (a search scans them exactly); with
     * one, a row without an embedding has list -1 (never a list a search
     * probes), so that list_id IS NULL finds only rows to scan */
    for (uint32_t i = 0; i < r->n; i++) {
        ((int32_t *)r->cols[lc].data)[i] = -1;
        lh_bit_set(r->cols[lc].validity, i, rc == LH_OK && x != NULL);
        lh_bit_set(r->cols[cc].validity, i, false);
    }
    for (size_t i = 0; rc == LH_OK && x != NULL && i < n; i++) {
        uint32_t row = rows[i];
        ((int32_t *)r->cols[lc].data)[row] =
            (int32_t)(*version << LH__LIST_BITS | lists[i]);
        ((lh_str *)r->cols[cc].data)[row] =
            lh_str_make((const char *)codes + i * m, (uint32_t)m);
        lh_bit_set(r->cols[lc].validity, row, true);
        lh_bit_set(r->cols[cc].validity, row, true);
    }
    if (rc != LH_OK) {
        *version = 0;
    }
    lh_ivfpq_free(x);
    lh_free(vec);
    lh_free(rows);
    lh_free(lists);
    return rc;
}

typedef struct list_key {
    int64_t list; /* INT64_MAX for NULL: last */
    uint32_t row;
} list_key;

static int
list_key_cmp(const void *pa, const void *pb)
{
    const list_key *a = pa, *b = pb;
    if (a->list != b->list) {
        return a->list < b->list ? -1 : 1;
    }
    return (a->row > b->row) - (a->row < b->row);
}

lh_rc
lh__warm_order(const lh__lake *l, const lh__rows *r, uint32_t *rows, uint32_t n,
               lh_err *err)
{
    int lc = lh__lake_col_index(l, LH__F_LIST_ID);
    if (lc < 0 || n < 2) {
        return LH_OK;
    }
    list_key *k = lh_malloc(n * sizeof(list_key));
    if (k == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    const lh_vector *v = &r->cols[lc];
    /* (list, place in the given order): stable */
    for (uint32_t i = 0; i < n; i++) {
        k[i].list = lh_vec_valid(v, rows[i])
                        ? ((const int32_t *)v->data)[rows[i]]
                        : INT64_MAX;
        k[i].row = i;
    }
    qsort(k, n, sizeof(list_key), list_key_cmp);
    uint32_t *was = lh_malloc(n * sizeof(uint32_t));
    if (was == NULL) {
        lh_free(k);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    memcpy(was, rows, n * sizeof(uint32_t));
    for (uint32_t i = 0; i < n; i++) {
        rows[i] = was[k[i].row];
    }
    lh_free(was);
    lh_free(k);
    return LH_OK;
}
