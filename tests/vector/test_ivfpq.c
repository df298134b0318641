/*
 * k-means and IVF-PQ on MRL-like data: clusters found, asymmetric
 * distances equal to the distance to the decoded row, recall with and
 * without re-ranking for every metric, the column form (encode, then add
 * from list ids and codes) equal to adding vectors, the codebook round
 * trip and its damage, filters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vector/vector_int.h"

enum { N = 6000, NQ = 60, DIM = 64, K = 10 };

static lh_mrl_data data, unit_data;
static int64_t ids[N];
static int64_t gt_l2[NQ * K], gt_ip[NQ * K], gt_cos[NQ * K];

static int
setup(void **state)
{
    (void)state;
    lh_mrl_spec s;
    lh_mrl_spec_default(&s, N, NQ, DIM);
    s.threads = 2;
    if (lh_mrl_generate(&s, &data, NULL) != LH_OK) {
        return -1;
    }
    s.normalize = true;
    s.seed = 5;
    if (lh_mrl_generate(&s, &unit_data, NULL) != LH_OK) {
        return -1;
    }
    for (int i = 0; i < N; i++) {
        ids[i] = i;
    }
    if (lh_mrl_ground_truth(&data, LH_VEC_L2, K, 0, 2, "vector-cache", gt_l2,
                            NULL) != LH_OK ||
        lh_mrl_ground_truth(&unit_data, LH_VEC_IP, K, 0, 2, "vector-cache",
                            gt_ip, NULL) != LH_OK ||
        lh_mrl_ground_truth(&data, LH_VEC_COS, K, 0, 2, "vector-cache", gt_cos,
                            NULL) != LH_OK) {
        return -1;
    }
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    lh_mrl_data_release(&data);
    lh_mrl_data_release(&unit_data);
    return 0;
}

static void
test_kmeans(void **state)
{
    (void)state;
    /* 8 tight, far-apart blobs: every centre lands in its own blob */
    enum { B = 8, PER = 300, D = 5 };
    static float x[B * PER * D];
    lh__vec_rng r;
    lh__vec_rng_seed(&r, 1);
    for (int b = 0; b < B; b++) {
        for (int i = 0; i < PER; i++) {
            for (int d = 0; d < D; d++) {
                x[(b * PER + i) * D + d] =
                    (float)(b * 100 * (d == b % D) + b * 10 +
                            0.1 * lh__vec_rng_normal(&r));
            }
        }
    }
    lh_kmeans_config c;
    lh_kmeans_config_default(&c, B);
    c.threads = 2;
    float cent[B * D], cent2[B * D];
    assert_int_equal(lh_kmeans_train(&c, x, B * PER, D, D, cent, NULL), LH_OK);
    uint32_t asg[B * PER];
    float dist[B * PER];
    assert_int_equal(
        lh_kmeans_assign(x, B * PER, D, D, cent, B, 2, asg, dist, NULL), LH_OK);
    for (int b = 0; b < B; b++) {
        for (int i = 1; i < PER; i++) {
            assert_int_equal(asg[b * PER + i], asg[b * PER]);
            assert_true(dist[b * PER + i] < 1.0f);
        }
        for (int o = 0; o < b; o++) {
            assert_int_not_equal(asg[b * PER], asg[o * PER]);
        }
    }
    /* deterministic for a seed; a sample when n is large */
    assert_int_equal(lh_kmeans_train(&c, x, B * PER, D, D, cent2, NULL), LH_OK);
    assert_memory_equal(cent, cent2, sizeof(cent));
    c.max_points_per_centroid = 40;
    assert_int_equal(lh_kmeans_train(&c, x, B * PER, D, D, cent2, NULL), LH_OK);
    lh_err err;
    c.k = B * PER + 1;
    assert_int_equal(lh_kmeans_train(&c, x, B * PER, D, D, cent2, &err),
                     LH_EINVAL);
}

static lh_ivfpq *
train(const lh_mrl_data *d, lh_vec_metric m, size_t dim)
{
    lh_ivfpq_config c;
    lh_ivfpq_config_default(&c, dim, m, 32, dim / 4);
    c.threads = 2;
    c.train_iters = 6;
    lh_ivfpq *x;
    lh_err err;
    assert_int_equal(lh_ivfpq_train(&c, d->base, N, DIM, &x, &err), LH_OK);
    assert_int_equal(lh_ivfpq_add(x, ids, d->base, N, DIM, 2, &err), LH_OK);
    assert_int_equal(lh_ivfpq_count(x), N);
    return x;
}

typedef struct fetch_ctx {
    const lh_mrl_data *d;
} fetch_ctx;

static const float *
fetch_row(void *ctx, int64_t id, float *buf)
{
    (void)buf;
    const lh_mrl_data *d = ((fetch_ctx *)ctx)->d;
    return id >= 0 && id < N ? d->base + id * DIM : NULL;
}

static double
recall(const lh_ivfpq *x, const lh_mrl_data *d, lh_vec_metric m,
       const int64_t *gt, size_t nprobe, size_t refine)
{
    static int64_t found[NQ * K];
    fetch_ctx fc = {d};
    for (int q = 0; q < NQ; q++) {
        lh_vec_hit hits[K * 8];
        size_t n;
        const float *qv = d->queries + q * DIM;
        assert_int_equal(
            lh_ivfpq_search(x, qv, K * refine, nprobe, NULL, hits, &n, NULL),
            LH_OK);
        if (refine > 1) {
            assert_int_equal(lh_vec_rerank(lh_vec_kernels_best(), m, qv, DIM,
                                           hits, n, fetch_row, &fc, K, &n,
                                           NULL),
                             LH_OK);
        }
        for (int i = 0; i < K; i++) {
            found[q * K + i] = i < (int)n ? hits[i].id : -1;
        }
    }
    return lh_vec_recall(found, K, gt, K, NQ, K);
}

static void
test_recall(void **state)
{
    (void)state;
    struct {
        lh_vec_metric m;
        const lh_mrl_data *d;
        const int64_t *gt;
    } cases[] = {{LH_VEC_L2, &data, gt_l2},
                 {LH_VEC_IP, &unit_data, gt_ip},
                 {LH_VEC_COS, &data, gt_cos}};
    for (size_t c = 0; c < LH_ARRAY_LEN(cases); c++) {
        lh_ivfpq *x = train(cases[c].d, cases[c].m, DIM);
        double r1 = recall(x, cases[c].d, cases[c].m, cases[c].gt, 8, 1);
        double r8 = recall(x, cases[c].d, cases[c].m, cases[c].gt, 8, 8);
        double rall = recall(x, cases[c].d, cases[c].m, cases[c].gt, 32, 8);
        print_message("%s: recall@10 %.3f (PQ order), %.3f re-ranked x8, "
                      "%.3f all lists\n",
                      lh_vec_metric_name(cases[c].m), r1, r8, rall);
        assert_true(r1 >= 0.4);
        assert_true(r8 >= 0.9);
        assert_true(rall >= r8 - 0.02);
        lh_ivfpq_free(x);
    }
}

/* The asymmetric distance is the exact distance to the decoded row. */
static void
test_distance_is_to_the_reconstruction(void **state)
{
    (void)state;
    lh_vec_metric ms[] = {LH_VEC_L2, LH_VEC_IP};
    for (size_t mi = 0; mi < 2; mi++) {
        lh_ivfpq *x = train(&data, ms[mi], DIM);
        const lh_ivfpq_config *c = lh_ivfpq_config_of(x);
        lh_buf cb = LH_BUF_INIT;
        assert_int_equal(lh_ivfpq_codebook_write(x, &cb), LH_OK);
        const float *coarse = (const float *)(cb.data + 40);
        const float *pq = coarse + c->nlist * DIM;
        size_t dsub = DIM / c->m;
        uint32_t list[1];
        uint8_t code[16];
        for (int q = 0; q < 5; q++) {
            lh_vec_hit hits[5];
            size_t n;
            const float *qv = data.queries + q * DIM;
            assert_int_equal(
                lh_ivfpq_search(x, qv, 5, 64, NULL, hits, &n, NULL), LH_OK);
            for (size_t h = 0; h < n; h++) {
                assert_int_equal(lh_ivfpq_encode(x,
                                                 data.base + hits[h].id * DIM,
                                                 1, DIM, 1, list, code, NULL),
                                 LH_OK);
                float rec[DIM];
                for (size_t j = 0; j < c->m; j++) {
                    for (size_t t = 0; t < dsub; t++) {
                        rec[j * dsub + t] =
                            coarse[list[0] * DIM + j * dsub + t] +
                            pq[(j * 256 + code[j]) * dsub + t];
                    }
                }
                float want =
                    lh_vec_dist(lh_vec_kernels_best(), ms[mi], qv, rec, DIM);
                assert_true(fabsf(want - hits[h].dist) <=
                            1e-3f * (1 + fabsf(want)));
            }
        }
        lh_buf_release(&cb);
        lh_ivfpq_free(x);
    }
}

static bool
keep_mult7(void *ctx, int64_t id)
{
    (void)ctx;
    return id % 7 == 0;
}

static void
test_columns_codebook_filter(void **state)
{
    (void)state;
    lh_ivfpq *x = train(&data, LH_VEC_L2, DIM);
    const lh_ivfpq_config *c = lh_ivfpq_config_of(x);
    /* the columns: encode, then an index from the codebook and columns */
    uint32_t *lists = malloc(N * sizeof(uint32_t));
    uint8_t *codes = malloc((size_t)N * c->m);
    assert_int_equal(
        lh_ivfpq_encode(x, data.base, N, DIM, 2, lists, codes, NULL), LH_OK);
    lh_buf cb = LH_BUF_INIT;
    assert_int_equal(lh_ivfpq_codebook_write(x, &cb), LH_OK);
    lh_ivfpq *y;
    lh_err err;
    assert_int_equal(lh_ivfpq_codebook_read(cb.data, cb.len, 1, &y, &err),
                     LH_OK);
    assert_int_equal(lh_ivfpq_count(y), 0);
    assert_int_equal(lh_ivfpq_add_codes(y, ids, lists, codes, N, &err), LH_OK);
    for (int q = 0; q < NQ; q++) {
        lh_vec_hit a[K], b[K];
        size_t na, nb;
        assert_int_equal(lh_ivfpq_search(x, data.queries + q * DIM, K, 8, NULL,
                                         a, &na, NULL),
                         LH_OK);
        assert_int_equal(lh_ivfpq_search(y, data.queries + q * DIM, K, 8, NULL,
                                         b, &nb, NULL),
                         LH_OK);
        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++) {
            assert_int_equal(a[i].id, b[i].id);
            assert_true(a[i].dist == b[i].dist);
        }
    }
    lists[3] = 32;
    assert_int_equal(lh_ivfpq_add_codes(y, ids, lists, codes, 5, &err),
                     LH_EINVAL);
    /* damage: every byte flipped somewhere is refused */
    lh_ivfpq *z;
    size_t spots[] = {0, 12, 20, 100, cb.len / 2, cb.len - 1};
    for (size_t i = 0; i < LH_ARRAY_LEN(spots); i++) {
        cb.data[spots[i]] ^= 1;
        lh_rc rc = lh_ivfpq_codebook_read(cb.data, cb.len, 1, &z, &err);
        assert_true(rc == LH_ECORRUPT || rc == LH_EFORMAT);
        cb.data[spots[i]] ^= 1;
    }
    assert_int_equal(lh_ivfpq_codebook_read(cb.data, cb.len - 3, 1, &z, &err),
                     LH_ECORRUPT);
    /* filters: only passing rows, still K of them */
    lh_vec_filter f = {.allow = keep_mult7};
    for (int q = 0; q < 10; q++) {
        lh_vec_hit a[K];
        size_t na;
        assert_int_equal(
            lh_ivfpq_search(x, data.queries + q * DIM, K, 16, &f, a, &na, NULL),
            LH_OK);
        assert_int_equal(na, K);
        for (size_t i = 0; i < na; i++) {
            assert_int_equal(a[i].id % 7, 0);
        }
    }
    /* bad input */
    float bad[DIM];
    memcpy(bad, data.queries, sizeof(bad));
    bad[9] = INFINITY;
    lh_vec_hit a[K];
    size_t na;
    assert_int_equal(lh_ivfpq_search(x, bad, K, 8, NULL, a, &na, &err),
                     LH_EINVAL);
    assert_string_equal(err.msg, "query vector has infinity at element 9");
    lh_ivfpq_config bc;
    lh_ivfpq_config_default(&bc, DIM, LH_VEC_L2, 64, 7);
    assert_int_equal(lh_ivfpq_train(&bc, data.base, N, DIM, &z, &err),
                     LH_EINVAL);
    lh_ivfpq_config_default(&bc, DIM, LH_VEC_L2, 64, 8);
    assert_int_equal(lh_ivfpq_train(&bc, data.base, 100, DIM, &z, &err),
                     LH_EINVAL);
    free(lists);
    free(codes);
    lh_buf_release(&cb);
    lh_ivfpq_free(x);
    lh_ivfpq_free(y);
}

/* The warm tier's use: a 32-d prefix index re-ranked with 64-d vectors. */
static void
test_prefix_index(void **state)
{
    (void)state;
    lh_ivfpq *x = train(&data, LH_VEC_L2, 32);
    double r = recall(x, &data, LH_VEC_L2, gt_l2, 8, 8);
    print_message("32-d prefix IVF-PQ, re-ranked on 64-d: recall@10 %.3f\n", r);
    assert_true(r >= 0.85);
    lh_ivfpq_free(x);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kmeans),
        cmocka_unit_test(test_recall),
        cmocka_unit_test(test_distance_is_to_the_reconstruction),
        cmocka_unit_test(test_columns_codebook_filter),
        cmocka_unit_test(test_prefix_index),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
