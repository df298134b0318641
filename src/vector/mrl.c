/*
 * The MRL-like data generator and exact ground truth (cached on disk).
 *
 * A mixture of `clusters` Gaussians: centre c has coordinates
 * N(0, sigma_j^2) and a row of cluster c is centre + noise * N(0, sigma_j^2)
 * per coordinate, with sigma_j = exp(-decay * j / dim). Early dimensions
 * have the largest spread, so a prefix carries most of the distance, like
 * the embeddings of Matryoshka-trained models. Every row (base or query)
 * draws from its own generator seeded by (seed, kind, row), so rows can be
 * made in parallel and the data set does not depend on the thread count.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vector/vector_int.h"

void
lh_mrl_spec_default(lh_mrl_spec *s, size_t n, size_t nq, size_t dim)
{
    memset(s, 0, sizeof(*s));
    s->n = n;
    s->nq = nq;
    s->dim = dim;
    s->clusters = LH_MAX((size_t)16, n / 1000);
    s->decay = 4.0f;
    s->noise = 0.6f;
    s->seed = 42;
    s->threads = 1;
}

typedef struct gen_ctx {
    const lh_mrl_spec *s;
    const float *centres;
    const float *sigma;
    float *out;
    uint64_t kind; /* 1 base, 2 queries */
} gen_ctx;

static void
gen_row(const gen_ctx *g, size_t row, float *v)
{
    const lh_mrl_spec *s = g->s;
    lh__vec_rng r;
    lh__vec_rng_seed(&r, s->seed * 0x100000001b3ULL ^ (g->kind << 56) ^ row);
    size_t c = (size_t)(lh__vec_rng_next(&r) % s->clusters);
    const float *ctr = g->centres + c * s->dim;
    for (size_t d = 0; d < s->dim; d++) {
        v[d] =
            ctr[d] + (float)(s->noise * g->sigma[d] * lh__vec_rng_normal(&r));
    }
    if (s->normalize) {
        lh_vec_normalize(&lh__vec_scalar, v, s->dim);
    }
}

static void
gen_part(void *ctx, size_t from, size_t to, unsigned t)
{
    (void)t;
    gen_ctx *g = ctx;
    for (size_t i = from; i < to; i++) {
        gen_row(g, i, g->out + i * g->s->dim);
    }
}

lh_rc
lh_mrl_generate(const lh_mrl_spec *s, lh_mrl_data *out, lh_err *err)
{
    memset(out, 0, sizeof(*out));
    if (s->dim == 0 || s->dim > LH_VEC_MAX_DIM || s->clusters == 0 ||
        !(s->noise >= 0.0f) || !(s->decay >= 0.0f)) {
        return lh_err_set(err, LH_EINVAL,
                          "bad MRL data spec (dim %zu, clusters %zu)", s->dim,
                          s->clusters);
    }
    out->spec = *s;
    float *centres = lh_malloc(s->clusters * s->dim * sizeof(float));
    float *sigma = lh_malloc(s->dim * sizeof(float));
    out->base = lh_malloc(LH_MAX(s->n, (size_t)1) * s->dim * sizeof(float));
    out->queries = lh_malloc(LH_MAX(s->nq, (size_t)1) * s->dim * sizeof(float));
    if (centres == NULL || sigma == NULL || out->base == NULL ||
        out->queries == NULL) {
        lh_free(centres);
        lh_free(sigma);
        lh_mrl_data_release(out);
        return lh_err_set(err, LH_ENOMEM, "out of memory for MRL data");
    }
    for (size_t d = 0; d < s->dim; d++) {
        sigma[d] = expf(-s->decay * (float)d / (float)s->dim);
    }
    lh__vec_rng r;
    lh__vec_rng_seed(&r, s->seed);
    for (size_t c = 0; c < s->clusters; c++) {
        for (size_t d = 0; d < s->dim; d++) {
            centres[c * s->dim + d] =
                (float)(sigma[d] * lh__vec_rng_normal(&r));
        }
    }
    gen_ctx g = {s, centres, sigma, out->base, 1};
    lh__vec_parallel(s->threads, s->n, gen_part, &g);
    g.out = out->queries;
    g.kind = 2;
    lh__vec_parallel(s->threads, s->nq, gen_part, &g);
    lh_free(centres);
    lh_free(sigma);
    return LH_OK;
}

void
lh_mrl_data_release(lh_mrl_data *d)
{
    lh_free(d->base);
    lh_free(d->queries);
    d->base = d->queries = NULL;
}

/* ---- ground truth ----------------------------------------------------------
 */

typedef struct gt_ctx {
    const lh_mrl_data *d;
    lh_vec_metric m;
    size_t k, prefix;
    int64_t *gt;
    _Atomic bool oom;
} gt_ctx;

static void
gt_part(void *ctx, size_t from, size_t to, unsigned t)
{
    (void)t;
    gt_ctx *j = ctx;
    const lh_vec_kernels *kern = lh_vec_kernels_best();
    const lh_mrl_data *d = j->d;
    size_t dim = d->spec.dim;
    lh__vec_pair *heap = lh_malloc(j->k * sizeof(*heap));
    if (heap == NULL) {
        j->oom = true;
        return;
    }
    for (size_t q = from; q < to; q++) {
        lh__vec_topk top = {heap, 0, j->k};
        const float *qv = d->queries + q * dim;
        for (size_t i = 0; i < d->spec.n; i++) {
            float dist =
                lh_vec_dist(kern, j->m, qv, d->base + i * dim, j->prefix);
            lh__vec_topk_offer(&top, (lh__vec_pair){dist, (uint32_t)i});
        }
        lh__vec_pairs_sort(heap, top.n);
        for (size_t i = 0; i < j->k; i++) {
            j->gt[q * j->k + i] = i < top.n ? (int64_t)heap[i].i : -1;
        }
    }
    lh_free(heap);
}

/* The cache key: every field that changes the answer. */
static uint64_t
gt_key(const lh_mrl_data *d, lh_vec_metric m, size_t k, size_t prefix)
{
    const lh_mrl_spec *s = &d->spec;
    uint64_t f[11] = {s->n,         s->nq,   s->dim,      s->clusters, 0,     0,
                      s->normalize, s->seed, (uint64_t)m, k,           prefix};
    memcpy(&f[4], &s->decay, sizeof(float));
    memcpy(&f[5], &s->noise, sizeof(float));
    return lh_hash64(f, sizeof(f));
}

#define GT_MAGIC "LHVECGT1"

static bool
gt_load(const char *path, uint64_t key, size_t nq, size_t k, int64_t *gt)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return false;
    }
    bool ok = false;
    uint8_t hdr[32];
    size_t body = nq * k * sizeof(int64_t);
    if (fread(hdr, 1, 32, f) == 32 && memcmp(hdr, GT_MAGIC, 8) == 0) {
        uint64_t fk, fnq, fkk;
        memcpy(&fk, hdr + 8, 8);
        memcpy(&fnq, hdr + 16, 8);
        memcpy(&fkk, hdr + 24, 8);
        uint8_t crcb[4];
        if (fk == key && fnq == nq && fkk == k &&
            fread(gt, 1, body, f) == body && fread(crcb, 1, 4, f) == 4 &&
            fgetc(f) == EOF) {
            uint32_t crc = lh_crc32c(lh_crc32c(0, hdr, 32), gt, body);
            ok = crc == lh_get_le32(crcb);
        }
    }
    fclose(f);
    return ok;
}

static void
gt_store(const char *dir, const char *path, uint64_t key, size_t nq, size_t k,
         const int64_t *gt)
{
    mkdir(dir, 0777); /* best effort: a cache that cannot be written is
                         simply not reused */
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (f == NULL) {
        return;
    }
    uint8_t hdr[32];
    memcpy(hdr, GT_MAGIC, 8);
    uint64_t v[3] = {key, nq, k};
    memcpy(hdr + 8, v, 24);
    size_t body = nq * k * sizeof(int64_t);
    uint8_t crcb[4];
    lh_put_le32(crcb, lh_crc32c(lh_crc32c(0, hdr, 32), gt, body));
    bool ok = fwrite(hdr, 1, 32, f) == 32 && fwrite(gt, 1, body, f) == body &&
              fwrite(crcb, 1, 4, f) == 4 && fflush(f) == 0 &&
              fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
    }
}

lh_rc
lh_mrl_ground_truth(const lh_mrl_data *d, lh_vec_metric m, size_t k,
                    size_t prefix, unsigned threads, const char *cache_dir,
                    int64_t *gt, lh_err *err)
{
    if (prefix == 0) {
        prefix = d->spec.dim;
    }
    if (prefix > d->spec.dim || k == 0) {
        return lh_err_set(err, LH_EINVAL,
                          "bad ground truth request (k %zu, prefix %zu of %zu)",
                          k, prefix, d->spec.dim);
    }
    uint64_t key = gt_key(d, m, k, prefix);
    char path[4096];
    if (cache_dir != NULL) {
        snprintf(path, sizeof(path), "%s/gt-%016llx.bin", cache_dir,
                 (unsigned long long)key);
        if (gt_load(path, key, d->spec.nq, k, gt)) {
            return LH_OK;
        }
    }
    gt_ctx g = {.d = d, .m = m, .k = k, .prefix = prefix, .gt = gt};
    lh__vec_parallel(threads, d->spec.nq, gt_part, &g);
    bool oom = g.oom;
    if (oom) {
        return lh_err_set(err, LH_ENOMEM, "out of memory for ground truth");
    }
    if (cache_dir != NULL) {
        gt_store(cache_dir, path, key, d->spec.nq, k, gt);
    }
    return LH_OK;
}
