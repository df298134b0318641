/*
 * Re-ranking and the tiered search: one query over the hot tier (HNSW on
 * full vectors), the warm tier (IVF-PQ on a prefix, re-ranked with full
 * vectors) and the cold tier (clustered scan on a prefix, re-ranked), merged
 * by full-dimension distance.
 */
#include <string.h>

#include "vector/vector_int.h"

lh_rc
lh_vec_rerank(const lh_vec_kernels *k, lh_vec_metric m, const float *q,
              size_t dim, lh_vec_hit *hits, size_t n, lh_vec_fetch_fn fetch,
              void *ctx, size_t keep, size_t *nout, lh_err *err)
{
    float *buf = lh_malloc(dim * sizeof(float));
    if (buf == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory re-ranking");
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        const float *v = fetch(ctx, hits[i].id, buf);
        if (v == NULL) {
            continue; /* gone since the index was made */
        }
        hits[w].id = hits[i].id;
        hits[w].dist = lh_vec_dist(k, m, q, v, dim);
        w++;
    }
    lh_free(buf);
    lh_vec_hits_sort(hits, w);
    *nout = LH_MIN(w, keep);
    return LH_OK;
}

/* Adds a tier's hits to the merged top k (an id seen twice keeps its
 * nearer distance: a row migrating between tiers). */
static void
merge(lh_vec_hit *heap, size_t *nh, size_t k, const lh_vec_hit *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        for (size_t j = 0; j < *nh && !dup; j++) {
            if (heap[j].id == h[i].id) {
                dup = true;
                if (h[i].dist < heap[j].dist) {
                    heap[j].dist = h[i].dist; /* same vector: same distance */
                }
            }
        }
        if (!dup) {
            lh__vec_hit_topk_offer(heap, nh, k, h[i]);
        }
    }
}

lh_rc
lh_vec_tiered_search(const lh_vec_tiers *t, const float *q, size_t k,
                     const lh_vec_tier_params *p, const lh_vec_filter *filter,
                     lh_vec_hit *out, size_t *n, lh_vec_tier_stats *stats,
                     lh_err *err)
{
    *n = 0;
    lh_vec_tier_stats st = {0};
    lh_rc rc = lh_vec_check(q, t->dim, "query vector", err);
    if (rc != LH_OK || k == 0) {
        return rc;
    }
    const lh_vec_kernels *kern = lh_vec_kernels_best();
    size_t cap = k * LH_MAX((size_t)1, LH_MAX(p->warm_refine, p->cold_refine));
    lh_vec_hit *heap = lh_malloc(k * sizeof(lh_vec_hit));
    lh_vec_hit *tmp = lh_malloc(cap * sizeof(lh_vec_hit));
    if (heap == NULL || tmp == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory in a tiered search");
        goto done;
    }
    size_t nh = 0, got = 0;
    lh_us t0 = lh_mono_now();
    if (t->hot != NULL) {
        rc = lh_hnsw_search(t->hot, q, k, p->hot_ef, filter, tmp, &got, NULL,
                            err);
        if (rc != LH_OK) {
            lh_err_prefix(err, "hot tier");
            goto done;
        }
        merge(heap, &nh, k, tmp, got);
        st.hot = got;
    }
    lh_us t1 = lh_mono_now();
    if (t->warm != NULL) {
        size_t want = k * LH_MAX((size_t)1, p->warm_refine);
        /* the warm index holds the prefix: the query's first dims */
        rc = lh_ivfpq_search(t->warm, q, want, p->warm_nprobe, filter, tmp,
                             &got, err);
        if (rc == LH_OK && t->warm_fetch != NULL) {
            rc = lh_vec_rerank(kern, t->metric, q, t->dim, tmp, got,
                               t->warm_fetch, t->warm_ctx, k, &got, err);
        }
        if (rc != LH_OK) {
            lh_err_prefix(err, "warm tier");
            goto done;
        }
        merge(heap, &nh, k, tmp, LH_MIN(got, k));
        st.warm = LH_MIN(got, k);
    }
    lh_us t2 = lh_mono_now();
    if (t->cold != NULL) {
        lh_cold_stats cs;
        rc = lh_cold_search(t->cold, q, k, p->cold_nprobe, p->cold_refine,
                            filter, t->cold_rows, t->cold_ctx, tmp, &got, &cs,
                            err);
        if (rc != LH_OK) {
            lh_err_prefix(err, "cold tier");
            goto done;
        }
        merge(heap, &nh, k, tmp, got);
        st.cold = got;
        st.cold_rows_scanned = cs.rows;
    }
    lh_us t3 = lh_mono_now();
    st.hot_us = t1 - t0;
    st.warm_us = t2 - t1;
    st.cold_us = t3 - t2;
    lh_vec_hits_sort(heap, nh);
    memcpy(out, heap, nh * sizeof(lh_vec_hit));
    *n = nh;
done:
    lh_free(heap);
    lh_free(tmp);
    if (stats != NULL) {
        *stats = st;
    }
    return rc;
}
