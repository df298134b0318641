/*
 * The cold tier's clustered layout and the tiered search: the order is a
 * permutation grouping clusters into row ranges, a search reads only the
 * nearest ranges and re-ranks with full vectors, the layout round-trips and
 * refuses damage; one query over hot (HNSW), warm (IVF-PQ on a prefix) and
 * cold (clustered scan on a prefix) finds the exact full-dimension answer.
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

enum { N = 9000, NQ = 50, DIM = 128, K = 10 };

static lh_mrl_data data;
static int64_t ids[N];
static int64_t gt[NQ * K];

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
    for (int i = 0; i < N; i++) {
        ids[i] = 10 * i;
    }
    return lh_mrl_ground_truth(&data, LH_VEC_L2, K, 0, 2, "vector-cache", gt,
                               NULL) == LH_OK
               ? 0
               : -1;
}

static int
teardown(void **state)
{
    (void)state;
    lh_mrl_data_release(&data);
    return 0;
}

/* A cold file in memory: rows in layout order. */
typedef struct cold_file {
    float *rows;
    size_t first, n; /* rows [first, first + n) of the data */
    uint64_t reads;
} cold_file;

static const float *
cold_rows(void *ctx, uint64_t from, uint64_t n, size_t *stride)
{
    cold_file *f = ctx;
    if (from + n > f->n) {
        return NULL;
    }
    f->reads++;
    *stride = DIM;
    return f->rows + from * DIM;
}

static lh_cold *
make_cold(size_t first, size_t n, cold_file *f, lh_vec_metric m)
{
    lh_cold_config c;
    lh_cold_config_default(&c, DIM, m, n);
    c.threads = 2;
    uint32_t *order = malloc(n * sizeof(uint32_t));
    lh_cold *x;
    lh_err err;
    assert_int_equal(lh_cold_build(&c, ids + first, data.base + first * DIM, n,
                                   order, &x, &err),
                     LH_OK);
    f->rows = malloc(n * DIM * sizeof(float));
    f->first = first;
    f->n = n;
    f->reads = 0;
    for (size_t p = 0; p < n; p++) {
        memcpy(f->rows + p * DIM, data.base + (first + order[p]) * DIM,
               DIM * sizeof(float));
    }
    free(order);
    return x;
}

static void
test_cold_layout(void **state)
{
    (void)state;
    cold_file f;
    lh_cold *x = make_cold(0, N, &f, LH_VEC_L2);
    const lh_cold_config *c = lh_cold_config_of(x);
    assert_int_equal(c->prefix, 64);
    const uint64_t *off = lh_cold_offsets(x);
    assert_int_equal(off[0], 0);
    assert_int_equal(off[c->nclusters], N);
    /* every row sits in the range of its nearest centre */
    lh_buf lb = LH_BUF_INIT;
    assert_int_equal(lh_cold_layout_write(x, &lb), LH_OK);
    const float *cent = (const float *)(lb.data + 40);
    for (size_t cl = 0; cl < c->nclusters; cl++) {
        assert_true(off[cl] <= off[cl + 1]);
        for (uint64_t p = off[cl]; p < off[cl + 1]; p += 7) {
            uint32_t near = 0;
            float best = 1e30f;
            for (size_t o = 0; o < c->nclusters; o++) {
                float d = lh_vec_l2sq(f.rows + p * DIM, cent + o * 64, 64);
                if (d < best) {
                    best = d;
                    near = (uint32_t)o;
                }
            }
            assert_true(lh_vec_l2sq(f.rows + p * DIM, cent + cl * 64, 64) <=
                        best * (1 + 1e-5f));
            (void)near;
        }
    }
    /* search: a few ranges read, the exact answer found */
    static int64_t found[NQ * K];
    uint64_t scanned = 0;
    for (int q = 0; q < NQ; q++) {
        lh_vec_hit hits[K];
        size_t n;
        lh_cold_stats st;
        assert_int_equal(lh_cold_search(x, data.queries + q * DIM, K, 8, 10,
                                        NULL, cold_rows, &f, hits, &n, &st,
                                        NULL),
                         LH_OK);
        assert_int_equal(n, K);
        assert_int_equal(st.clusters, 8);
        scanned += st.rows;
        for (int i = 0; i < K; i++) {
            found[q * K + i] = hits[i].id / 10;
        }
        /* distances are full-dimension ones */
        float want = lh_vec_l2sq(data.queries + q * DIM,
                                 data.base + (hits[0].id / 10) * DIM, DIM);
        assert_true(want == hits[0].dist);
    }
    double r = lh_vec_recall(found, K, gt, K, NQ, K);
    print_message("cold: recall@10 %.3f reading %.1f%% of the rows\n", r,
                  100.0 * (double)scanned / ((double)NQ * N));
    assert_true(r >= 0.9);
    assert_true(scanned < (uint64_t)NQ * N / 2);
    /* the layout round-trips; damage is refused */
    lh_cold *y;
    lh_err err;
    assert_int_equal(lh_cold_layout_read(lb.data, lb.len, &y, &err), LH_OK);
    lh_vec_hit a[K], b[K];
    size_t na, nb;
    assert_int_equal(lh_cold_search(x, data.queries, K, 4, 10, NULL, cold_rows,
                                    &f, a, &na, NULL, NULL),
                     LH_OK);
    assert_int_equal(lh_cold_search(y, data.queries, K, 4, 10, NULL, cold_rows,
                                    &f, b, &nb, NULL, NULL),
                     LH_OK);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(a[i].id, b[i].id);
        assert_true(a[i].dist == b[i].dist);
    }
    lh_cold_free(y);
    for (size_t at = 0; at < lb.len; at += lb.len / 5 + 1) {
        lb.data[at] ^= 2;
        assert_int_equal(lh_cold_layout_read(lb.data, lb.len, &y, &err),
                         LH_ECORRUPT);
        lb.data[at] ^= 2;
    }
    /* a read that fails is an error, not a wrong answer */
    f.n = 0;
    assert_int_equal(lh_cold_search(x, data.queries, K, 4, 10, NULL, cold_rows,
                                    &f, a, &na, NULL, &err),
                     LH_EIO);
    lh_buf_release(&lb);
    free(f.rows);
    lh_cold_free(x);
}

typedef struct warm_ctx {
    size_t first;
} warm_ctx;

static const float *
warm_fetch(void *ctx, int64_t id, float *buf)
{
    (void)ctx;
    (void)buf;
    return data.base + (id / 10) * DIM;
}

static void
test_tiered(void **state)
{
    (void)state;
    /* rows 0..1999 hot, 2000..5499 warm, 5500.. cold */
    enum { HOT = 2000, WARM = 3500 };
    lh_hnsw_config hc;
    lh_hnsw_config_default(&hc, DIM, LH_VEC_L2);
    hc.ef_construction = 100;
    lh_hnsw *hot;
    assert_int_equal(lh_hnsw_build(&hc, ids, data.base, HOT, 2, &hot, NULL),
                     LH_OK);
    lh_ivfpq_config wc;
    lh_ivfpq_config_default(&wc, 64, LH_VEC_L2, 32, 16);
    wc.threads = 2;
    lh_ivfpq *warm;
    const float *wbase = data.base + HOT * DIM;
    assert_int_equal(lh_ivfpq_train(&wc, wbase, WARM, DIM, &warm, NULL), LH_OK);
    assert_int_equal(lh_ivfpq_add(warm, ids + HOT, wbase, WARM, DIM, 2, NULL),
                     LH_OK);
    cold_file f;
    lh_cold *cold = make_cold(HOT + WARM, N - HOT - WARM, &f, LH_VEC_L2);
    lh_vec_tiers t = {.dim = DIM,
                      .metric = LH_VEC_L2,
                      .hot = hot,
                      .warm = warm,
                      .warm_fetch = warm_fetch,
                      .cold = cold,
                      .cold_rows = cold_rows,
                      .cold_ctx = &f};
    lh_vec_tier_params p = {.hot_ef = 64,
                            .warm_nprobe = 8,
                            .warm_refine = 10,
                            .cold_nprobe = 8,
                            .cold_refine = 10};
    static int64_t found[NQ * K];
    size_t tiers_hit[3] = {0};
    for (int q = 0; q < NQ; q++) {
        lh_vec_hit hits[K];
        size_t n;
        lh_vec_tier_stats st;
        assert_int_equal(lh_vec_tiered_search(&t, data.queries + q * DIM, K, &p,
                                              NULL, hits, &n, &st, NULL),
                         LH_OK);
        assert_int_equal(n, K);
        for (int i = 0; i < K; i++) {
            int64_t row = hits[i].id / 10;
            found[q * K + i] = row;
            tiers_hit[row < HOT ? 0 : row < HOT + WARM ? 1 : 2]++;
            float want =
                lh_vec_l2sq(data.queries + q * DIM, data.base + row * DIM, DIM);
            assert_true(fabsf(want - hits[i].dist) <= 1e-4f * (1 + want));
            if (i > 0) {
                assert_true(hits[i - 1].dist <= hits[i].dist);
            }
        }
    }
    double r = lh_vec_recall(found, K, gt, K, NQ, K);
    print_message("tiered: recall@10 %.3f (hits hot %zu, warm %zu, cold %zu)\n",
                  r, tiers_hit[0], tiers_hit[1], tiers_hit[2]);
    assert_true(r >= 0.9);
    assert_true(tiers_hit[0] > 0 && tiers_hit[1] > 0 && tiers_hit[2] > 0);
    /* a filter applies in every tier */
    uint64_t bits[(10 * N) / 64 + 1] = {0};
    for (int i = 0; i < N; i += 100) {
        bits[(10 * i) / 64] |= UINT64_C(1) << ((10 * i) % 64);
    }
    lh_vec_filter fl = {.bits = bits, .nbits = 10 * N, .count = N / 100};
    lh_vec_hit hits[K];
    size_t n;
    assert_int_equal(lh_vec_tiered_search(&t, data.queries, K, &p, &fl, hits,
                                          &n, NULL, NULL),
                     LH_OK);
    assert_true(n == K);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal((hits[i].id / 10) % 100, 0);
    }
    lh_err err;
    float bad[DIM] = {0};
    bad[0] = NAN;
    assert_int_equal(
        lh_vec_tiered_search(&t, bad, K, &p, NULL, hits, &n, NULL, &err),
        LH_EINVAL);
    lh_hnsw_free(hot);
    lh_ivfpq_free(warm);
    lh_cold_free(cold);
    free(f.rows);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cold_layout),
        cmocka_unit_test(test_tiered),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
