/*
 * k-means (L2): k-means++ seeding, Lloyd iterations, sampled training,
 * empty clusters split from the largest. Distances go through the x16
 * kernels (one point against 16 centroids stored transposed).
 */
#include <math.h>
#include <string.h>

#include "vector/vector_int.h"

void
lh_kmeans_config_default(lh_kmeans_config *c, size_t k)
{
    memset(c, 0, sizeof(*c));
    c->k = k;
    c->iters = 20;
    c->max_points_per_centroid = 256;
    c->seed = 1234;
    c->threads = 1;
}

size_t
lh__vec_blocks16(size_t k)
{
    return (k + 15) / 16;
}

void
lh__vec_transpose16(const float *rows, size_t k, size_t dim, size_t stride,
                    float *out)
{
    size_t nb = lh__vec_blocks16(k);
    for (size_t b = 0; b < nb; b++) {
        float *blk = out + b * dim * 16;
        for (size_t d = 0; d < dim; d++) {
            for (size_t c = 0; c < 16; c++) {
                size_t r = b * 16 + c;
                blk[d * 16 + c] = r < k ? rows[r * stride + d] : 0.0f;
            }
        }
    }
}

uint32_t
lh__vec_nearest16(const lh_vec_kernels *kern, const float *x, size_t dim,
                  const float *ct, size_t k, float *best_d)
{
    float out[16];
    float bd = INFINITY;
    uint32_t bi = 0;
    size_t nb = lh__vec_blocks16(k);
    for (size_t b = 0; b < nb; b++) {
        kern->l2sq_x16(x, ct + b * dim * 16, dim, out);
        size_t lim = LH_MIN((size_t)16, k - b * 16);
        for (size_t c = 0; c < lim; c++) {
            if (out[c] < bd) {
                bd = out[c];
                bi = (uint32_t)(b * 16 + c);
            }
        }
    }
    if (best_d != NULL) {
        *best_d = bd;
    }
    return bi;
}

size_t
lh__vec_probe(const lh_vec_kernels *kern, lh_vec_metric m, const float *q,
              const float *ct, size_t k, size_t dim, size_t nprobe,
              float *scratch, lh__vec_pair *probe)
{
    for (size_t b = 0; b < lh__vec_blocks16(k); b++) {
        float *o = scratch + b * 16;
        if (m == LH_VEC_L2) {
            kern->l2sq_x16(q, ct + b * dim * 16, dim, o);
        } else {
            kern->dot_x16(q, ct + b * dim * 16, dim, o);
            for (size_t i = 0; i < 16; i++) {
                o[i] = -o[i];
            }
        }
    }
    lh__vec_topk t = {probe, 0, nprobe};
    for (size_t i = 0; i < k; i++) {
        lh__vec_topk_offer(&t, (lh__vec_pair){scratch[i], (uint32_t)i});
    }
    lh__vec_pairs_sort(probe, t.n);
    return t.n;
}

typedef struct assign_ctx {
    const lh_vec_kernels *kern;
    const float *x;
    size_t dim, stride, k;
    const float *ct;
    uint32_t *out;
    float *dist;
} assign_ctx;

static void
assign_part(void *ctx, size_t from, size_t to, unsigned t)
{
    (void)t;
    assign_ctx *a = ctx;
    for (size_t i = from; i < to; i++) {
        float d;
        a->out[i] = lh__vec_nearest16(a->kern, a->x + i * a->stride, a->dim,
                                      a->ct, a->k, &d);
        if (a->dist != NULL) {
            a->dist[i] = d;
        }
    }
}

lh_rc
lh_kmeans_assign(const float *x, size_t n, size_t dim, size_t stride,
                 const float *centroids, size_t k, unsigned threads,
                 uint32_t *out, float *dist, lh_err *err)
{
    float *ct = lh_malloc(lh__vec_blocks16(k) * 16 * dim * sizeof(float));
    if (ct == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory for k-means");
    }
    lh__vec_transpose16(centroids, k, dim, dim, ct);
    assign_ctx a = {lh_vec_kernels_best(), x, dim, stride, k, ct, out, dist};
    lh__vec_parallel(threads, n, assign_part, &a);
    lh_free(ct);
    return LH_OK;
}

/* k-means++ over x[0..n) (contiguous): the first centre uniformly, each
 * next one with probability proportional to the squared distance to the
 * nearest centre so far. */
static void
seed_pp(const lh_vec_kernels *kern, const float *x, size_t n, size_t dim,
        size_t k, lh__vec_rng *r, float *c, float *d2)
{
    size_t first = (size_t)(lh__vec_rng_next(r) % n);
    memcpy(c, x + first * dim, dim * sizeof(float));
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        d2[i] = kern->l2sq(x + i * dim, c, dim);
        total += d2[i];
    }
    for (size_t j = 1; j < k; j++) {
        size_t pick = (size_t)(lh__vec_rng_next(r) % n);
        if (total > 0) {
            double u = lh__vec_rng_unif(r) * total, acc = 0;
            for (size_t i = 0; i < n; i++) {
                acc += d2[i];
                if (acc >= u && d2[i] > 0) {
                    pick = i;
                    break;
                }
            }
        }
        float *cj = c + j * dim;
        memcpy(cj, x + pick * dim, dim * sizeof(float));
        total = 0;
        for (size_t i = 0; i < n; i++) {
            float d = kern->l2sq(x + i * dim, cj, dim);
            if (d < d2[i]) {
                d2[i] = d;
            }
            total += d2[i];
        }
    }
}

lh_rc
lh_kmeans_train(const lh_kmeans_config *cfg, const float *x, size_t n,
                size_t dim, size_t stride, float *centroids, lh_err *err)
{
    size_t k = cfg->k;
    if (k == 0 || dim == 0 || n < k) {
        return lh_err_set(err, LH_EINVAL,
                          "k-means needs at least k points (k %zu, %zu points)",
                          k, n);
    }
    const lh_vec_kernels *kern = lh_vec_kernels_best();
    lh__vec_rng r;
    lh__vec_rng_seed(&r, cfg->seed);
    size_t s = n;
    if (cfg->max_points_per_centroid > 0 &&
        n > k * cfg->max_points_per_centroid) {
        s = k * cfg->max_points_per_centroid;
    }
    size_t nseed = LH_MIN(s, LH_MAX(k * 32, (size_t)4096));
    float *xs = lh_malloc(s * dim * sizeof(float));
    uint32_t *perm = s < n ? lh_malloc(n * sizeof(uint32_t)) : NULL;
    uint32_t *asg = lh_malloc(s * sizeof(uint32_t));
    float *d2 = lh_malloc(s * sizeof(float));
    double *sum = lh_malloc(k * dim * sizeof(double));
    size_t *cnt = lh_malloc(k * sizeof(size_t));
    float *ct = lh_malloc(lh__vec_blocks16(k) * 16 * dim * sizeof(float));
    lh_rc rc = LH_OK;
    if (xs == NULL || (s < n && perm == NULL) || asg == NULL || d2 == NULL ||
        sum == NULL || cnt == NULL || ct == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory for k-means");
        goto done;
    }
    /* the sample: a partial Fisher-Yates shuffle, then rows in shuffled
     * order (so the seeding's first nseed rows are a random subset too) */
    if (s < n) {
        for (size_t i = 0; i < n; i++) {
            perm[i] = (uint32_t)i;
        }
        for (size_t i = 0; i < s; i++) {
            size_t j = i + (size_t)(lh__vec_rng_next(&r) % (n - i));
            uint32_t t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
            memcpy(xs + i * dim, x + (size_t)perm[i] * stride,
                   dim * sizeof(float));
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            memcpy(xs + i * dim, x + i * stride, dim * sizeof(float));
        }
    }
    seed_pp(kern, xs, nseed, dim, k, &r, centroids, d2);
    for (unsigned it = 0; it < cfg->iters; it++) {
        lh__vec_transpose16(centroids, k, dim, dim, ct);
        assign_ctx a = {kern, xs, dim, dim, k, ct, asg, NULL};
        lh__vec_parallel(cfg->threads, s, assign_part, &a);
        memset(sum, 0, k * dim * sizeof(double));
        memset(cnt, 0, k * sizeof(size_t));
        for (size_t i = 0; i < s; i++) {
            double *sj = sum + (size_t)asg[i] * dim;
            const float *xi = xs + i * dim;
            for (size_t d = 0; d < dim; d++) {
                sj[d] += xi[d];
            }
            cnt[asg[i]]++;
        }
        for (size_t j = 0; j < k; j++) {
            if (cnt[j] == 0) {
                continue;
            }
            for (size_t d = 0; d < dim; d++) {
                centroids[j * dim + d] = (float)(sum[j * dim + d] / cnt[j]);
            }
        }
        /* an empty cluster takes half of the largest: a copy of its centre
         * nudged apart (as faiss does) */
        for (size_t j = 0; j < k; j++) {
            if (cnt[j] > 0) {
                continue;
            }
            size_t big = 0;
            for (size_t t = 1; t < k; t++) {
                if (cnt[t] > cnt[big]) {
                    big = t;
                }
            }
            for (size_t d = 0; d < dim; d++) {
                float v = centroids[big * dim + d];
                float eps = 1.0f / 1024;
                centroids[j * dim + d] = d % 2 ? v * (1 + eps) : v * (1 - eps);
                centroids[big * dim + d] =
                    d % 2 ? v * (1 - eps) : v * (1 + eps);
            }
            cnt[j] = cnt[big] / 2;
            cnt[big] -= cnt[j];
        }
    }
done:
    lh_free(xs);
    lh_free(perm);
    lh_free(asg);
    lh_free(d2);
    lh_free(sum);
    lh_free(cnt);
    lh_free(ct);
    return rc;
}
