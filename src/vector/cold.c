/*
 * The cold tier's clustered scan: k-means centres on a prefix of the
 * vectors, rows ordered by cluster so that one cluster is one row range of
 * the file, a search that reads only the nearest clusters' ranges (prefix
 * distances), and a re-rank of the best refine x k with full vectors.
 * Layout format: docs/internals/vector.md ("Clustered scan").
 */
#include <math.h>
#include <string.h>

#include "vector/vector_int.h"

struct lh_cold {
    lh_cold_config cfg;
    const lh_vec_kernels *k;
    float *centroids;   /* nclusters x prefix */
    float *centroids_t; /* transposed blocks of 16 */
    uint64_t *offsets; /* nclusters + 1: cluster c is rows [off[c], off[c+1]) */
    int64_t *ids;      /* n, in layout order */
    size_t n;
};

void
lh_cold_config_default(lh_cold_config *c, size_t dim, lh_vec_metric m, size_t n)
{
    memset(c, 0, sizeof(*c));
    c->dim = dim;
    c->prefix = LH_MIN(dim, (size_t)64);
    c->metric = m;
    size_t k = 16;
    while (k * k < n) {
        k *= 2; /* about sqrt(n) clusters */
    }
    c->nclusters = k;
    c->train_iters = 15;
    c->seed = 99;
    c->threads = 1;
}

static lh_rc
cold_alloc(const lh_cold_config *c, size_t n, lh_cold **out, lh_err *err)
{
    if (c->prefix == 0 || c->prefix > c->dim || c->dim > LH_VEC_MAX_DIM ||
        c->nclusters == 0 || c->metric > LH_VEC_COS) {
        return lh_err_set(err, LH_EINVAL,
                          "bad cold layout settings (dim %zu, prefix %zu, "
                          "clusters %zu)",
                          c->dim, c->prefix, c->nclusters);
    }
    lh_cold *x = lh_calloc(1, sizeof(*x));
    if (x == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory for a cold layout");
    }
    x->cfg = *c;
    x->k = lh_vec_kernels_best();
    x->n = n;
    x->centroids = lh_malloc(c->nclusters * c->prefix * sizeof(float));
    x->centroids_t = lh_malloc(lh__vec_blocks16(c->nclusters) * 16 * c->prefix *
                               sizeof(float));
    x->offsets = lh_calloc(c->nclusters + 1, sizeof(uint64_t));
    x->ids = lh_malloc(LH_MAX(n, (size_t)1) * sizeof(int64_t));
    if (x->centroids == NULL || x->centroids_t == NULL || x->offsets == NULL ||
        x->ids == NULL) {
        lh_cold_free(x);
        return lh_err_set(err, LH_ENOMEM, "out of memory for a cold layout");
    }
    *out = x;
    return LH_OK;
}

void
lh_cold_free(lh_cold *x)
{
    if (x == NULL) {
        return;
    }
    lh_free(x->centroids);
    lh_free(x->centroids_t);
    lh_free(x->offsets);
    lh_free(x->ids);
    lh_free(x);
}

const lh_cold_config *
lh_cold_config_of(const lh_cold *x)
{
    return &x->cfg;
}

lh_rc
lh_cold_build(const lh_cold_config *c, const int64_t *ids, const float *v,
              size_t n, uint32_t *order, lh_cold **out, lh_err *err)
{
    *out = NULL;
    lh_cold_config cc = *c;
    cc.nclusters = LH_MAX((size_t)1, LH_MIN(cc.nclusters, n));
    lh_cold *x;
    lh_rc rc = cold_alloc(&cc, n, &x, err);
    if (rc != LH_OK) {
        return rc;
    }
    size_t p = cc.prefix;
    uint32_t *asg = lh_malloc(LH_MAX(n, (size_t)1) * sizeof(uint32_t));
    float *pre = NULL;
    if (asg == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory for a cold layout");
        goto done;
    }
    const float *src = v;
    size_t stride = cc.dim;
    if (cc.metric == LH_VEC_COS) {
        /* cluster directions: normalized prefixes */
        pre = lh_malloc(LH_MAX(n, (size_t)1) * p * sizeof(float));
        if (pre == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory for a cold layout");
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            memcpy(pre + i * p, v + i * cc.dim, p * sizeof(float));
            lh_vec_normalize(x->k, pre + i * p, p);
        }
        src = pre;
        stride = p;
    }
    if (n > 0) {
        lh_kmeans_config kc;
        lh_kmeans_config_default(&kc, cc.nclusters);
        kc.iters = cc.train_iters;
        kc.seed = cc.seed;
        kc.threads = cc.threads;
        rc = lh_kmeans_train(&kc, src, n, p, stride, x->centroids, err);
        if (rc == LH_OK) {
            rc = lh_kmeans_assign(src, n, p, stride, x->centroids, cc.nclusters,
                                  cc.threads, asg, NULL, err);
        }
        if (rc != LH_OK) {
            goto done;
        }
    }
    lh__vec_transpose16(x->centroids, cc.nclusters, p, p, x->centroids_t);
    /* a counting sort by cluster, stable: rows keep their order inside one */
    for (size_t i = 0; i < n; i++) {
        x->offsets[asg[i] + 1]++;
    }
    for (size_t c2 = 0; c2 < cc.nclusters; c2++) {
        x->offsets[c2 + 1] += x->offsets[c2];
    }
    uint64_t *fill = lh_malloc((cc.nclusters + 1) * sizeof(uint64_t));
    if (fill == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory for a cold layout");
        goto done;
    }
    memcpy(fill, x->offsets, (cc.nclusters + 1) * sizeof(uint64_t));
    for (size_t i = 0; i < n; i++) {
        uint64_t pos = fill[asg[i]]++;
        order[pos] = (uint32_t)i;
        x->ids[pos] = ids[i];
    }
    lh_free(fill);
done:
    lh_free(asg);
    lh_free(pre);
    if (rc != LH_OK) {
        lh_cold_free(x);
        return rc;
    }
    *out = x;
    return LH_OK;
}

size_t
lh_cold_count(const lh_cold *x)
{
    return x->n;
}

const uint64_t *
lh_cold_offsets(const lh_cold *x)
{
    return x->offsets;
}

lh_rc
lh_cold_search(const lh_cold *x, const float *q, size_t k, size_t nprobe,
               size_t refine, const lh_vec_filter *filter, lh_cold_rows_fn rows,
               void *ctx, lh_vec_hit *out, size_t *n, lh_cold_stats *stats,
               lh_err *err)
{
    *n = 0;
    const lh_cold_config *c = &x->cfg;
    lh_cold_stats st = {0};
    lh_rc rc = lh_vec_check(q, c->dim, "query vector", err);
    if (rc != LH_OK || k == 0 || x->n == 0) {
        return rc;
    }
    size_t p = c->prefix;
    nprobe = LH_MAX((size_t)1, LH_MIN(nprobe, c->nclusters));
    size_t cand = LH_MAX(k, k * LH_MAX(refine, (size_t)1));
    float *qp = lh_malloc(p * sizeof(float));
    float *cd = lh_malloc(lh__vec_blocks16(c->nclusters) * 16 * sizeof(float));
    lh__vec_pair *probe = lh_malloc(nprobe * sizeof(lh__vec_pair));
    lh__vec_pair *heap = lh_malloc(cand * sizeof(lh__vec_pair));
    if (qp == NULL || cd == NULL || probe == NULL || heap == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory in a cold search");
        goto done;
    }
    memcpy(qp, q, p * sizeof(float));
    if (c->metric == LH_VEC_COS) {
        lh_vec_normalize(x->k, qp, p);
    }
    /* the nearest clusters: L2, or the largest inner product */
    size_t np = lh__vec_probe(x->k, c->metric, qp, x->centroids_t, c->nclusters,
                              p, nprobe, cd, probe);
    lh__vec_topk ht = {heap, 0, cand};
    for (size_t i = 0; i < np; i++) {
        uint64_t from = x->offsets[probe[i].i], to = x->offsets[probe[i].i + 1];
        if (from == to) {
            continue;
        }
        size_t stride = 0;
        const float *base = rows(ctx, from, to - from, &stride);
        if (base == NULL) {
            rc = lh_err_set(err, LH_EIO, "could not read cold rows %llu..%llu",
                            (unsigned long long)from, (unsigned long long)to);
            goto done;
        }
        st.clusters++;
        for (uint64_t r = from; r < to; r++) {
            if (filter != NULL && !lh_vec_filter_pass(filter, x->ids[r])) {
                continue;
            }
            const float *v = base + (r - from) * stride;
            float d = c->metric == LH_VEC_COS
                          ? x->k->cos_dist(qp, v, p)
                          : lh_vec_dist(x->k, c->metric, qp, v, p);
            st.rows++;
            lh__vec_topk_offer(&ht, (lh__vec_pair){d, (uint32_t)r});
        }
    }
    /* re-rank with the full vectors */
    for (size_t i = 0; i < ht.n; i++) {
        size_t stride = 0;
        const float *v = rows(ctx, heap[i].i, 1, &stride);
        if (v == NULL) {
            rc = lh_err_set(err, LH_EIO, "could not read cold row %u",
                            heap[i].i);
            goto done;
        }
        heap[i].d = lh_vec_dist(x->k, c->metric, q, v, c->dim);
        st.reranked++;
    }
    lh__vec_pairs_sort(heap, ht.n);
    for (size_t i = 0; i < ht.n && i < k; i++) {
        out[i] = (lh_vec_hit){x->ids[heap[i].i], heap[i].d};
        (*n)++;
    }
done:
    lh_free(qp);
    lh_free(cd);
    lh_free(probe);
    lh_free(heap);
    if (stats != NULL) {
        *stats = st;
    }
    return rc;
}

/* ---- the layout (file metadata) ---- */

#define COLD_MAGIC "LHCOLD01"
#define COLD_HDR 40

lh_rc
lh_cold_layout_write(const lh_cold *x, lh_buf *out)
{
    const lh_cold_config *c = &x->cfg;
    uint8_t hdr[COLD_HDR] = {0};
    memcpy(hdr, COLD_MAGIC, 8);
    lh_put_le32(hdr + 8, 1);
    lh_put_le32(hdr + 12, (uint32_t)c->dim);
    lh_put_le32(hdr + 16, (uint32_t)c->prefix);
    lh_put_le32(hdr + 20, (uint32_t)c->metric);
    lh_put_le32(hdr + 24, (uint32_t)c->nclusters);
    uint64_t n = x->n;
    memcpy(hdr + 32, &n, 8);
    size_t start = out->len;
    lh_buf_append(out, hdr, COLD_HDR);
    lh_buf_append(out, x->centroids, c->nclusters * c->prefix * sizeof(float));
    lh_buf_append(out, x->offsets, (c->nclusters + 1) * sizeof(uint64_t));
    lh_buf_append(out, x->ids, x->n * sizeof(int64_t));
    if (!lh_buf_ok(out)) {
        return LH_ENOMEM;
    }
    uint8_t crc[4];
    lh_put_le32(crc, lh_crc32c(0, out->data + start, out->len - start));
    return lh_buf_append(out, crc, 4);
}

lh_rc
lh_cold_layout_read(const void *p, size_t len, lh_cold **out, lh_err *err)
{
    *out = NULL;
    const uint8_t *b = p;
    if (len < COLD_HDR + 4 || memcmp(b, COLD_MAGIC, 8) != 0 ||
        lh_crc32c(0, b, len - 4) != lh_get_le32(b + len - 4)) {
        return lh_err_set(err, LH_ECORRUPT,
                          "cold layout is corrupt: bad magic or checksum");
    }
    if (lh_get_le32(b + 8) != 1) {
        return lh_err_set(err, LH_EFORMAT, "cold layout of version %u",
                          lh_get_le32(b + 8));
    }
    lh_cold_config c;
    memset(&c, 0, sizeof(c));
    c.dim = lh_get_le32(b + 12);
    c.prefix = lh_get_le32(b + 16);
    c.metric = (lh_vec_metric)lh_get_le32(b + 20);
    c.nclusters = lh_get_le32(b + 24);
    uint64_t n;
    memcpy(&n, b + 32, 8);
    if (c.nclusters == 0 || c.nclusters > (1u << 24) ||
        n > (UINT64_C(1) << 32) || c.prefix == 0 || c.prefix > c.dim ||
        c.dim > LH_VEC_MAX_DIM || c.metric > LH_VEC_COS) {
        return lh_err_set(err, LH_ECORRUPT, "cold layout is corrupt: header");
    }
    uint64_t need = COLD_HDR + (uint64_t)c.nclusters * c.prefix * 4 +
                    ((uint64_t)c.nclusters + 1) * 8 + n * 8 + 4;
    if (need != len) {
        return lh_err_set(err, LH_ECORRUPT, "cold layout is corrupt: sizes");
    }
    lh_cold *x;
    lh_rc rc = cold_alloc(&c, (size_t)n, &x, err);
    if (rc != LH_OK) {
        return rc;
    }
    const uint8_t *q = b + COLD_HDR;
    memcpy(x->centroids, q, c.nclusters * c.prefix * 4);
    q += c.nclusters * c.prefix * 4;
    memcpy(x->offsets, q, (c.nclusters + 1) * 8);
    q += (c.nclusters + 1) * 8;
    memcpy(x->ids, q, n * 8);
    bool ok = x->offsets[0] == 0 && x->offsets[c.nclusters] == n;
    for (size_t i = 0; ok && i < c.nclusters; i++) {
        ok = x->offsets[i] <= x->offsets[i + 1];
    }
    for (size_t i = 0; ok && i < c.nclusters * c.prefix; i++) {
        ok = isfinite(x->centroids[i]);
    }
    if (!ok) {
        lh_cold_free(x);
        return lh_err_set(err, LH_ECORRUPT, "cold layout is corrupt: ranges");
    }
    lh__vec_transpose16(x->centroids, c.nclusters, c.prefix, c.prefix,
                        x->centroids_t);
    *out = x;
    return LH_OK;
}
