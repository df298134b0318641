/*
 * IVF-PQ: a coarse k-means quantizer (nlist lists), product quantization of
 * the residuals with 8-bit codes (m sub-quantizers of 256 centroids), and
 * asymmetric distances through per-list lookup tables scanned in SIMD.
 * Design and the codebook format: docs/internals/vector.md ("IVF-PQ").
 */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "vector/vector_int.h"

typedef struct ivf_list {
    int64_t *ids;
    uint8_t *codes; /* blocked by 16 (lh_vec_kernels.pq_scan) */
    size_t n, cap;  /* cap: a multiple of 16 */
} ivf_list;

struct lh_ivfpq {
    lh_ivfpq_config cfg;
    const lh_vec_kernels *k;
    size_t dsub;
    float *coarse;   /* nlist x dim */
    float *coarse_t; /* transposed blocks of 16 */
    float *pq;       /* m x 256 x dsub */
    float *pq_t;     /* per sub-quantizer: 16 blocks of dsub x 16 */
    float *pre;      /* L2: nlist x m x 256, |p|^2 + 2 <c_l,j, p> */
    ivf_list *lists;
    size_t ntotal;
};

void
lh_ivfpq_config_default(lh_ivfpq_config *c, size_t dim, lh_vec_metric m,
                        size_t nlist, size_t pq_m)
{
    memset(c, 0, sizeof(*c));
    c->dim = dim;
    c->metric = m;
    c->nlist = nlist;
    c->m = pq_m;
    c->train_iters = 20;
    c->max_points_per_centroid = 256;
    c->seed = 1234;
    c->threads = 1;
}

static lh_rc
check_config(const lh_ivfpq_config *c, lh_err *err)
{
    if (c->dim == 0 || c->dim > LH_VEC_MAX_DIM) {
        return lh_err_set(err, LH_EINVAL, "ivfpq dim %zu out of range", c->dim);
    }
    if (c->m == 0 || c->m > 256 || c->dim % c->m != 0) {
        return lh_err_set(err, LH_EINVAL,
                          "ivfpq m %zu must divide dim %zu (at most 256)", c->m,
                          c->dim);
    }
    if (c->nlist == 0 || c->nlist > (1u << 20)) {
        return lh_err_set(err, LH_EINVAL, "ivfpq nlist %zu out of range",
                          c->nlist);
    }
    if (c->metric > LH_VEC_COS) {
        return lh_err_set(err, LH_EINVAL, "ivfpq metric %d unknown",
                          (int)c->metric);
    }
    return LH_OK;
}

/* Allocates everything but the trained values. */
static lh_rc
ivf_alloc(const lh_ivfpq_config *c, lh_ivfpq **out, lh_err *err)
{
    lh_rc rc = check_config(c, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_ivfpq *x = lh_calloc(1, sizeof(*x));
    if (x == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory for an ivfpq index");
    }
    x->cfg = *c;
    x->k = lh_vec_kernels_best();
    x->dsub = c->dim / c->m;
    x->coarse = lh_malloc(c->nlist * c->dim * sizeof(float));
    x->coarse_t =
        lh_malloc(lh__vec_blocks16(c->nlist) * 16 * c->dim * sizeof(float));
    x->pq = lh_malloc(c->m * 256 * x->dsub * sizeof(float));
    x->pq_t = lh_malloc(c->m * 256 * x->dsub * sizeof(float));
    x->lists = lh_calloc(c->nlist, sizeof(ivf_list));
    if (c->metric == LH_VEC_L2) {
        x->pre = lh_malloc(c->nlist * c->m * 256 * sizeof(float));
    }
    if (x->coarse == NULL || x->coarse_t == NULL || x->pq == NULL ||
        x->pq_t == NULL || x->lists == NULL ||
        (c->metric == LH_VEC_L2 && x->pre == NULL)) {
        lh_ivfpq_free(x);
        return lh_err_set(err, LH_ENOMEM, "out of memory for an ivfpq index");
    }
    *out = x;
    return LH_OK;
}

/* The derived tables: transposed centroids and, for L2, the per-list
 * precomputed terms. */
static void
ivf_derive(lh_ivfpq *x)
{
    const lh_ivfpq_config *c = &x->cfg;
    lh__vec_transpose16(x->coarse, c->nlist, c->dim, c->dim, x->coarse_t);
    for (size_t j = 0; j < c->m; j++) {
        lh__vec_transpose16(x->pq + j * 256 * x->dsub, 256, x->dsub, x->dsub,
                            x->pq_t + j * 256 * x->dsub);
    }
    if (x->pre == NULL) {
        return;
    }
    for (size_t l = 0; l < c->nlist; l++) {
        for (size_t j = 0; j < c->m; j++) {
            const float *cl = x->coarse + l * c->dim + j * x->dsub;
            float *t = x->pre + (l * c->m + j) * 256;
            float dots[16];
            for (size_t b = 0; b < 16; b++) {
                x->k->dot_x16(cl, x->pq_t + (j * 16 + b) * x->dsub * 16,
                              x->dsub, dots);
                for (size_t i = 0; i < 16; i++) {
                    const float *p = x->pq + (j * 256 + b * 16 + i) * x->dsub;
                    t[b * 16 + i] = x->k->dot(p, p, x->dsub) + 2.0f * dots[i];
                }
            }
        }
    }
}

/* x normalized into buf for cosine, else x itself. */
static const float *
prep(const lh_ivfpq *x, const float *v, float *buf)
{
    if (x->cfg.metric != LH_VEC_COS) {
        return v;
    }
    memcpy(buf, v, x->cfg.dim * sizeof(float));
    lh_vec_normalize(x->k, buf, x->cfg.dim);
    return buf;
}

/* The list of v: nearest centre (L2) or largest inner product. */
static uint32_t
coarse_of(const lh_ivfpq *x, const float *v)
{
    if (x->cfg.metric == LH_VEC_L2) {
        return lh__vec_nearest16(x->k, v, x->cfg.dim, x->coarse_t, x->cfg.nlist,
                                 NULL);
    }
    float out[16], best = -INFINITY;
    uint32_t bi = 0;
    for (size_t b = 0; b < lh__vec_blocks16(x->cfg.nlist); b++) {
        x->k->dot_x16(v, x->coarse_t + b * x->cfg.dim * 16, x->cfg.dim, out);
        for (size_t i = 0; i < 16 && b * 16 + i < x->cfg.nlist; i++) {
            if (out[i] > best) {
                best = out[i];
                bi = (uint32_t)(b * 16 + i);
            }
        }
    }
    return bi;
}

static void
encode_one(const lh_ivfpq *x, const float *v, uint32_t *list, uint8_t *code,
           float *res)
{
    const lh_ivfpq_config *c = &x->cfg;
    uint32_t l = coarse_of(x, v);
    *list = l;
    for (size_t d = 0; d < c->dim; d++) {
        res[d] = v[d] - x->coarse[l * c->dim + d];
    }
    for (size_t j = 0; j < c->m; j++) {
        code[j] =
            (uint8_t)lh__vec_nearest16(x->k, res + j * x->dsub, x->dsub,
                                       x->pq_t + j * 256 * x->dsub, 256, NULL);
    }
}

typedef struct enc_ctx {
    const lh_ivfpq *x;
    const float *v;
    size_t stride;
    uint32_t *lists;
    uint8_t *codes;
    _Atomic bool oom;
} enc_ctx;

static void
enc_part(void *ctx, size_t from, size_t to, unsigned t)
{
    (void)t;
    enc_ctx *e = ctx;
    size_t dim = e->x->cfg.dim;
    float *buf = lh_malloc(2 * dim * sizeof(float));
    if (buf == NULL) {
        e->oom = true;
        return;
    }
    for (size_t i = from; i < to; i++) {
        const float *v = prep(e->x, e->v + i * e->stride, buf + dim);
        encode_one(e->x, v, &e->lists[i], e->codes + i * e->x->cfg.m, buf);
    }
    lh_free(buf);
}

lh_rc
lh_ivfpq_encode(const lh_ivfpq *x, const float *v, size_t n, size_t stride,
                unsigned threads, uint32_t *lists, uint8_t *codes, lh_err *err)
{
    enc_ctx e = {x, v, stride, lists, codes, false};
    lh__vec_parallel(threads, n, enc_part, &e);
    if (e.oom) {
        return lh_err_set(err, LH_ENOMEM, "out of memory encoding for ivfpq");
    }
    return LH_OK;
}

lh_rc
lh_ivfpq_train(const lh_ivfpq_config *c, const float *v, size_t n,
               size_t stride, lh_ivfpq **out, lh_err *err)
{
    *out = NULL;
    lh_ivfpq *x;
    lh_rc rc = ivf_alloc(c, &x, err);
    if (rc != LH_OK) {
        return rc;
    }
    if (n < c->nlist || n < 256) {
        lh_ivfpq_free(x);
        return lh_err_set(err, LH_EINVAL,
                          "ivfpq training needs at least max(nlist, 256) "
                          "vectors (nlist %zu, %zu vectors)",
                          c->nlist, n);
    }
    /* the training set: at most max_points_per_centroid per list (and per
     * PQ centroid), taken evenly; normalized for cosine */
    size_t cap =
        c->max_points_per_centroid > 0
            ? LH_MAX(c->nlist, (size_t)256) * c->max_points_per_centroid
            : n;
    size_t s = LH_MIN(n, cap);
    float *xs = lh_malloc(s * c->dim * sizeof(float));
    float *res = lh_malloc(s * c->dim * sizeof(float));
    float *sub = lh_malloc(s * x->dsub * sizeof(float));
    uint32_t *asg = lh_malloc(s * sizeof(uint32_t));
    if (xs == NULL || res == NULL || sub == NULL || asg == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory training ivfpq");
        goto done;
    }
    lh__vec_rng r;
    lh__vec_rng_seed(&r, c->seed);
    for (size_t i = 0; i < s; i++) {
        /* stratified: one row from each of s equal spans */
        size_t span = n / s;
        size_t row = i * span + (span > 1 ? lh__vec_rng_next(&r) % span : 0);
        memcpy(xs + i * c->dim, v + row * stride, c->dim * sizeof(float));
        if (c->metric == LH_VEC_COS) {
            lh_vec_normalize(x->k, xs + i * c->dim, c->dim);
        }
    }
    lh_kmeans_config kc;
    lh_kmeans_config_default(&kc, c->nlist);
    kc.iters = c->train_iters;
    kc.max_points_per_centroid = c->max_points_per_centroid;
    kc.seed = c->seed;
    kc.threads = c->threads;
    rc = lh_kmeans_train(&kc, xs, s, c->dim, c->dim, x->coarse, err);
    if (rc != LH_OK) {
        goto done;
    }
    lh__vec_transpose16(x->coarse, c->nlist, c->dim, c->dim, x->coarse_t);
    for (size_t i = 0; i < s; i++) {
        uint32_t l = coarse_of(x, xs + i * c->dim);
        for (size_t d = 0; d < c->dim; d++) {
            res[i * c->dim + d] =
                xs[i * c->dim + d] - x->coarse[l * c->dim + d];
        }
    }
    lh_kmeans_config_default(&kc, 256);
    kc.iters = c->train_iters;
    kc.max_points_per_centroid = c->max_points_per_centroid;
    kc.threads = c->threads;
    for (size_t j = 0; j < c->m && rc == LH_OK; j++) {
        kc.seed = c->seed + 1 + j;
        for (size_t i = 0; i < s; i++) {
            memcpy(sub + i * x->dsub, res + i * c->dim + j * x->dsub,
                   x->dsub * sizeof(float));
        }
        rc = lh_kmeans_train(&kc, sub, s, x->dsub, x->dsub,
                             x->pq + j * 256 * x->dsub, err);
    }
    if (rc == LH_OK) {
        ivf_derive(x);
    }
done:
    lh_free(xs);
    lh_free(res);
    lh_free(sub);
    lh_free(asg);
    if (rc != LH_OK) {
        lh_ivfpq_free(x);
        return rc;
    }
    *out = x;
    return LH_OK;
}

void
lh_ivfpq_free(lh_ivfpq *x)
{
    if (x == NULL) {
        return;
    }
    if (x->lists != NULL) {
        for (size_t l = 0; l < x->cfg.nlist; l++) {
            lh_free(x->lists[l].ids);
            lh_free(x->lists[l].codes);
        }
    }
    lh_free(x->lists);
    lh_free(x->coarse);
    lh_free(x->coarse_t);
    lh_free(x->pq);
    lh_free(x->pq_t);
    lh_free(x->pre);
    lh_free(x);
}

const lh_ivfpq_config *
lh_ivfpq_config_of(const lh_ivfpq *x)
{
    return &x->cfg;
}

size_t
lh_ivfpq_count(const lh_ivfpq *x)
{
    return x->ntotal;
}

lh_rc
lh_ivfpq_add_codes(lh_ivfpq *x, const int64_t *ids, const uint32_t *lists,
                   const uint8_t *codes, size_t n, lh_err *err)
{
    size_t m = x->cfg.m;
    for (size_t i = 0; i < n; i++) {
        if (lists[i] >= x->cfg.nlist) {
            return lh_err_set(err, LH_EINVAL,
                              "row %lld: list id %u out of range (nlist %zu)",
                              (long long)ids[i], lists[i], x->cfg.nlist);
        }
    }
    for (size_t i = 0; i < n; i++) {
        ivf_list *L = &x->lists[lists[i]];
        if (L->n == L->cap) {
            size_t cap = L->cap == 0 ? 64 : L->cap * 2;
            int64_t *ni = lh_realloc(L->ids, cap * sizeof(int64_t));
            if (ni == NULL) {
                return lh_err_set(err, LH_ENOMEM, "out of memory for ivfpq");
            }
            L->ids = ni;
            uint8_t *nc = lh_realloc(L->codes, cap * m);
            if (nc == NULL) {
                return lh_err_set(err, LH_ENOMEM, "out of memory for ivfpq");
            }
            memset(nc + L->cap * m, 0, (cap - L->cap) * m);
            L->codes = nc;
            L->cap = cap;
        }
        uint8_t *blk = L->codes + (L->n / 16) * 16 * m + L->n % 16;
        for (size_t j = 0; j < m; j++) {
            blk[j * 16] = codes[i * m + j];
        }
        L->ids[L->n++] = ids[i];
        x->ntotal++;
    }
    return LH_OK;
}

lh_rc
lh_ivfpq_add(lh_ivfpq *x, const int64_t *ids, const float *v, size_t n,
             size_t stride, unsigned threads, lh_err *err)
{
    for (size_t i = 0; i < n; i++) {
        lh_rc rc = lh_vec_check(v + i * stride, x->cfg.dim, "vector", err);
        if (rc != LH_OK) {
            lh_err_prefix(err, "row %lld", (long long)ids[i]);
            return rc;
        }
    }
    uint32_t *lists = lh_malloc(LH_MAX(n, (size_t)1) * sizeof(uint32_t));
    uint8_t *codes = lh_malloc(LH_MAX(n, (size_t)1) * x->cfg.m);
    lh_rc rc = LH_OK;
    if (lists == NULL || codes == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory for ivfpq");
    } else {
        rc = lh_ivfpq_encode(x, v, n, stride, threads, lists, codes, err);
    }
    if (rc == LH_OK) {
        rc = lh_ivfpq_add_codes(x, ids, lists, codes, n, err);
    }
    lh_free(lists);
    lh_free(codes);
    return rc;
}

/* ---- search ---- */

lh_rc
lh_ivfpq_search(const lh_ivfpq *x, const float *q, size_t k, size_t nprobe,
                const lh_vec_filter *filter, lh_vec_hit *out, size_t *n,
                lh_err *err)
{
    *n = 0;
    const lh_ivfpq_config *c = &x->cfg;
    lh_rc rc = lh_vec_check(q, c->dim, "query vector", err);
    if (rc != LH_OK || k == 0) {
        return rc;
    }
    nprobe = LH_MAX((size_t)1, LH_MIN(nprobe, c->nlist));
    size_t m = c->m;
    size_t qbytes = c->dim * sizeof(float);
    float *qbuf = lh_malloc(qbytes);
    float *qlut = lh_malloc(m * 256 * sizeof(float));
    float *lut = lh_malloc(m * 256 * sizeof(float));
    float *cd = lh_malloc(lh__vec_blocks16(c->nlist) * 16 * sizeof(float));
    lh__vec_pair *probe = lh_malloc(nprobe * sizeof(lh__vec_pair));
    lh_vec_hit *heap = lh_malloc(k * sizeof(lh_vec_hit));
    if (qbuf == NULL || qlut == NULL || lut == NULL || cd == NULL ||
        probe == NULL || heap == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory in an ivfpq search");
        goto done;
    }
    q = prep(x, q, qbuf);
    /* the nprobe nearest lists (L2, or the largest inner product) */
    size_t np = lh__vec_probe(x->k, c->metric, q, x->coarse_t, c->nlist, c->dim,
                              nprobe, cd, probe);
    /* the query's half of the tables: -2 <q_j, p> (L2) or -<q_j, p> */
    float scale = c->metric == LH_VEC_L2 ? -2.0f : -1.0f;
    for (size_t j = 0; j < m; j++) {
        for (size_t b = 0; b < 16; b++) {
            float *t = qlut + j * 256 + b * 16;
            x->k->dot_x16(q + j * x->dsub,
                          x->pq_t + (j * 16 + b) * x->dsub * 16, x->dsub, t);
            for (size_t i = 0; i < 16; i++) {
                t[i] *= scale;
            }
        }
    }
    size_t nh = 0;
    float dist[256];
    for (size_t p = 0; p < np; p++) {
        uint32_t l = probe[p].i;
        const ivf_list *L = &x->lists[l];
        if (L->n == 0) {
            continue;
        }
        const float *use = qlut;
        float base = probe[p].d;
        if (c->metric == LH_VEC_L2) {
            const float *pre = x->pre + l * m * 256;
            for (size_t t = 0; t < m * 256; t++) {
                lut[t] = pre[t] + qlut[t];
            }
            use = lut;
        } else if (c->metric == LH_VEC_COS) {
            base += 1.0f; /* cosine distance 1 - dot of unit vectors */
        }
        for (size_t i = 0; i < L->n; i += 256) {
            size_t cnt = LH_MIN((size_t)256, L->n - i);
            x->k->pq_scan(use, m, L->codes + i * m, cnt, base, dist);
            for (size_t t = 0; t < cnt; t++) {
                if (nh == k && !(dist[t] < heap[0].dist)) {
                    continue;
                }
                int64_t id = L->ids[i + t];
                if (filter != NULL && !lh_vec_filter_pass(filter, id)) {
                    continue;
                }
                lh__vec_hit_topk_offer(heap, &nh, k, (lh_vec_hit){id, dist[t]});
            }
        }
    }
    lh_vec_hits_sort(heap, nh);
    memcpy(out, heap, nh * sizeof(lh_vec_hit));
    *n = nh;
done:
    lh_free(qbuf);
    lh_free(qlut);
    lh_free(lut);
    lh_free(cd);
    lh_free(probe);
    lh_free(heap);
    return rc;
}

lh_rc
lh_ivfpq_probe(const lh_ivfpq *x, const float *q, size_t nprobe,
               uint32_t *lists, size_t *n, lh_err *err)
{
    *n = 0;
    const lh_ivfpq_config *c = &x->cfg;
    lh_rc rc = lh_vec_check(q, c->dim, "query vector", err);
    if (rc != LH_OK) {
        return rc;
    }
    nprobe = LH_MAX((size_t)1, LH_MIN(nprobe, c->nlist));
    float *qbuf = lh_malloc(c->dim * sizeof(float));
    float *cd = lh_malloc(lh__vec_blocks16(c->nlist) * 16 * sizeof(float));
    lh__vec_pair *probe = lh_malloc(nprobe * sizeof(lh__vec_pair));
    if (qbuf == NULL || cd == NULL || probe == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory in an ivfpq search");
    } else {
        q = prep(x, q, qbuf);
        *n = lh__vec_probe(x->k, c->metric, q, x->coarse_t, c->nlist, c->dim,
                           nprobe, cd, probe);
        for (size_t i = 0; i < *n; i++) {
            lists[i] = probe[i].i;
        }
    }
    lh_free(qbuf);
    lh_free(cd);
    lh_free(probe);
    return rc;
}

void
lh_ivfpq_clear(lh_ivfpq *x)
{
    for (size_t l = 0; l < x->cfg.nlist; l++) {
        x->lists[l].n = 0;
    }
    x->ntotal = 0;
}

/* ---- a pool of search indexes ---- */

/* Indexes kept per key: more searches at once load their own. */
#define POOL_KEEP 4

typedef struct pool_entry {
    uint32_t key;
    lh_ivfpq *x;
} pool_entry;

struct lh_ivfpq_pool {
    pthread_mutex_t mu;
    pool_entry *e;
    size_t n, cap;
};

lh_ivfpq_pool *
lh_ivfpq_pool_new(void)
{
    lh_ivfpq_pool *p = lh_calloc(1, sizeof(*p));
    if (p != NULL) {
        pthread_mutex_init(&p->mu, NULL);
    }
    return p;
}

void
lh_ivfpq_pool_free(lh_ivfpq_pool *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < p->n; i++) {
        lh_ivfpq_free(p->e[i].x);
    }
    lh_free(p->e);
    pthread_mutex_destroy(&p->mu);
    lh_free(p);
}

lh_ivfpq *
lh_ivfpq_pool_take(lh_ivfpq_pool *p, uint32_t key)
{
    lh_ivfpq *x = NULL;
    if (p == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&p->mu);
    for (size_t i = p->n; i-- > 0;) {
        if (p->e[i].key == key) {
            x = p->e[i].x;
            p->e[i] = p->e[--p->n];
            break;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return x;
}

void
lh_ivfpq_pool_give(lh_ivfpq_pool *p, uint32_t key, lh_ivfpq *x)
{
    if (x == NULL) {
        return;
    }
    lh_ivfpq_clear(x);
    size_t same = 0;
    bool kept = false;
    if (p != NULL) {
        pthread_mutex_lock(&p->mu);
        for (size_t i = 0; i < p->n; i++) {
            same += p->e[i].key == key;
        }
        if (same < POOL_KEEP && p->n == p->cap) {
            size_t cap = p->cap ? 2 * p->cap : 8;
            pool_entry *e = lh_realloc(p->e, cap * sizeof(pool_entry));
            if (e != NULL) {
                p->e = e;
                p->cap = cap;
            }
        }
        if (same < POOL_KEEP && p->n < p->cap) {
            p->e[p->n++] = (pool_entry){key, x};
            kept = true;
        }
        pthread_mutex_unlock(&p->mu);
    }
    if (!kept) {
        lh_ivfpq_free(x);
    }
}

/* ---- the codebook (table metadata) ---- */

#define IVF_MAGIC "LHIVFPQ1"
#define IVF_HDR 40

lh_rc
lh_ivfpq_codebook_write(const lh_ivfpq *x, lh_buf *out)
{
    const lh_ivfpq_config *c = &x->cfg;
    uint8_t hdr[IVF_HDR] = {0};
    memcpy(hdr, IVF_MAGIC, 8);
    uint32_t f[7] = {1,
                     (uint32_t)c->dim,
                     (uint32_t)c->metric,
                     (uint32_t)c->nlist,
                     (uint32_t)c->m,
                     8,
                     1};
    for (int i = 0; i < 7; i++) {
        lh_put_le32(hdr + 8 + 4 * i, f[i]);
    }
    size_t start = out->len;
    lh_buf_append(out, hdr, IVF_HDR);
    lh_buf_append(out, x->coarse, c->nlist * c->dim * sizeof(float));
    lh_buf_append(out, x->pq, c->m * 256 * x->dsub * sizeof(float));
    if (!lh_buf_ok(out)) {
        return LH_ENOMEM;
    }
    uint8_t crc[4];
    lh_put_le32(crc, lh_crc32c(0, out->data + start, out->len - start));
    return lh_buf_append(out, crc, 4);
}

lh_rc
lh_ivfpq_codebook_read(const void *p, size_t len, unsigned threads,
                       lh_ivfpq **out, lh_err *err)
{
    *out = NULL;
    const uint8_t *b = p;
    if (len < IVF_HDR + 4 || memcmp(b, IVF_MAGIC, 8) != 0) {
        return lh_err_set(err, LH_ECORRUPT,
                          "ivfpq codebook is corrupt: not a codebook");
    }
    if (lh_crc32c(0, b, len - 4) != lh_get_le32(b + len - 4)) {
        return lh_err_set(err, LH_ECORRUPT,
                          "ivfpq codebook is corrupt: checksum mismatch");
    }
    if (lh_get_le32(b + 8) != 1 || lh_get_le32(b + 28) != 8 ||
        lh_get_le32(b + 32) != 1) {
        return lh_err_set(err, LH_EFORMAT,
                          "ivfpq codebook of an unknown version or layout");
    }
    lh_ivfpq_config c;
    lh_ivfpq_config_default(&c, lh_get_le32(b + 12),
                            (lh_vec_metric)lh_get_le32(b + 16),
                            lh_get_le32(b + 20), lh_get_le32(b + 24));
    c.threads = threads;
    if (check_config(&c, NULL) != LH_OK) {
        return lh_err_set(err, LH_ECORRUPT,
                          "ivfpq codebook is corrupt: bad header");
    }
    size_t need = IVF_HDR + (c.nlist * c.dim + 256 * c.dim) * sizeof(float) + 4;
    if (len != need) {
        return lh_err_set(err, LH_ECORRUPT,
                          "ivfpq codebook is corrupt: %zu bytes, not %zu", len,
                          need);
    }
    lh_ivfpq *x;
    lh_rc rc = ivf_alloc(&c, &x, err);
    if (rc != LH_OK) {
        return rc;
    }
    memcpy(x->coarse, b + IVF_HDR, c.nlist * c.dim * sizeof(float));
    memcpy(x->pq, b + IVF_HDR + c.nlist * c.dim * sizeof(float),
           256 * c.dim * sizeof(float));
    for (size_t i = 0; i < c.nlist * c.dim; i++) {
        if (!isfinite(x->coarse[i])) {
            lh_ivfpq_free(x);
            return lh_err_set(err, LH_ECORRUPT,
                              "ivfpq codebook is corrupt: not finite");
        }
    }
    for (size_t i = 0; i < 256 * c.dim; i++) {
        if (!isfinite(x->pq[i])) {
            lh_ivfpq_free(x);
            return lh_err_set(err, LH_ECORRUPT,
                              "ivfpq codebook is corrupt: not finite");
        }
    }
    ivf_derive(x);
    *out = x;
    return LH_OK;
}
