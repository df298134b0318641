/*
 * HNSW against brute force on MRL-like data: recall for every metric,
 * parallel builds, deletes and repair, replaced ids, filtered searches that
 * still return k rows, searches beside inserts on other threads, the file
 * (round trip, corrupt, truncated, stale, missing, wrong shape) and
 * allocation failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vector/vector_int.h"

enum { N = 4000, NQ = 100, DIM = 48, K = 10 };

static lh_mrl_data data;
static lh_mrl_data unit_data; /* normalized */
static int64_t ids[N];

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
    s.seed = 7;
    if (lh_mrl_generate(&s, &unit_data, NULL) != LH_OK) {
        return -1;
    }
    for (int i = 0; i < N; i++) {
        ids[i] = 1000 + 3 * i; /* ids are not slots */
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

/* Exact top k of q among rows i with keep(i) (NULL = all), as row ids. */
static void
brute(const lh_mrl_data *d, lh_vec_metric m, const float *q, size_t k,
      bool (*keep)(void *, int64_t), void *ctx, int64_t *out)
{
    lh__vec_pair heap[64];
    lh__vec_topk t = {heap, 0, k};
    for (size_t i = 0; i < d->spec.n; i++) {
        if (keep != NULL && !keep(ctx, ids[i])) {
            continue;
        }
        float dist =
            lh_vec_dist(lh_vec_kernels_best(), m, q, d->base + i * DIM, DIM);
        lh__vec_topk_offer(&t, (lh__vec_pair){dist, (uint32_t)i});
    }
    lh__vec_pairs_sort(heap, t.n);
    for (size_t i = 0; i < k; i++) {
        out[i] = i < t.n ? ids[heap[i].i] : -1;
    }
}

/* recall@K of h over the queries, rows passing keep. */
static double
recall_of(lh_hnsw *h, const lh_mrl_data *d, lh_vec_metric m, unsigned ef,
          bool (*keep)(void *, int64_t), void *ctx, const lh_vec_filter *filter)
{
    static int64_t found[NQ * K], want[NQ * K];
    for (int q = 0; q < NQ; q++) {
        const float *qv = d->queries + q * DIM;
        lh_vec_hit hits[K];
        size_t n = 0;
        lh_err err;
        assert_int_equal(
            lh_hnsw_search(h, qv, K, ef, filter, hits, &n, NULL, &err), LH_OK);
        for (int i = 0; i < K; i++) {
            found[q * K + i] = i < (int)n ? hits[i].id : -1;
            if (i > 0 && i < (int)n) {
                assert_true(hits[i - 1].dist <= hits[i].dist);
            }
            if (i < (int)n && keep != NULL) {
                assert_true(keep(ctx, hits[i].id));
            }
        }
        brute(d, m, qv, K, keep, ctx, want + q * K);
    }
    return lh_vec_recall(found, K, want, K, NQ, K);
}

static lh_hnsw *
build(const lh_mrl_data *d, lh_vec_metric m, unsigned threads)
{
    lh_hnsw_config c;
    lh_hnsw_config_default(&c, DIM, m);
    c.ef_construction = 100;
    lh_hnsw *h;
    lh_err err;
    assert_int_equal(lh_hnsw_build(&c, ids, d->base, N, threads, &h, &err),
                     LH_OK);
    assert_int_equal(lh_hnsw_count(h), N);
    return h;
}

static void
test_recall_every_metric(void **state)
{
    (void)state;
    struct {
        lh_vec_metric m;
        const lh_mrl_data *d;
    } cases[] = {{LH_VEC_L2, &data},
                 {LH_VEC_IP, &unit_data},
                 {LH_VEC_COS, &unit_data},
                 {LH_VEC_COS, &data}};
    for (size_t c = 0; c < LH_ARRAY_LEN(cases); c++) {
        lh_hnsw *h = build(cases[c].d, cases[c].m, 1);
        double r64 = recall_of(h, cases[c].d, cases[c].m, 64, NULL, NULL, NULL);
        double r10 = recall_of(h, cases[c].d, cases[c].m, 10, NULL, NULL, NULL);
        print_message("%s: recall@10 %.3f at ef 64, %.3f at ef 10\n",
                      lh_vec_metric_name(cases[c].m), r64, r10);
        assert_true(r64 >= 0.97);
        assert_true(r10 >= 0.80);
        /* the distance reported is the metric's */
        lh_vec_hit hit;
        size_t n;
        assert_int_equal(lh_hnsw_search(h, cases[c].d->queries, 1, 0, NULL,
                                        &hit, &n, NULL, NULL),
                         LH_OK);
        size_t row = (size_t)(hit.id - 1000) / 3;
        float want =
            lh_vec_dist(lh_vec_kernels_best(), cases[c].m, cases[c].d->queries,
                        cases[c].d->base + row * DIM, DIM);
        assert_true(fabsf(hit.dist - want) <= 1e-4f * (1 + fabsf(want)));
        lh_hnsw_free(h);
    }
}

static void
test_parallel_build(void **state)
{
    (void)state;
    lh_hnsw *h = build(&data, LH_VEC_L2, 2);
    double r = recall_of(h, &data, LH_VEC_L2, 64, NULL, NULL, NULL);
    print_message("2-thread build: recall@10 %.3f\n", r);
    assert_true(r >= 0.97);
    float v[DIM];
    assert_int_equal(lh_hnsw_get(h, ids[17], v, NULL), LH_OK);
    assert_memory_equal(v, data.base + 17 * DIM, sizeof(v));
    assert_true(lh_hnsw_memory(h) > (size_t)N * DIM * 4);
    lh_hnsw_free(h);
}

static bool
keep_odd_rows(void *ctx, int64_t id)
{
    (void)ctx;
    return ((id - 1000) / 3) % 2 == 1;
}

static void
test_delete_and_repair(void **state)
{
    (void)state;
    lh_hnsw *h = build(&data, LH_VEC_L2, 1);
    lh_err err;
    /* delete every even row: far past 1/8, so repair runs on the way */
    for (int i = 0; i < N; i += 2) {
        assert_int_equal(lh_hnsw_delete(h, ids[i], &err), LH_OK);
    }
    assert_int_equal(lh_hnsw_count(h), N / 2);
    assert_int_equal(lh_hnsw_delete(h, ids[0], &err), LH_ENOENT);
    assert_int_equal(lh_hnsw_get(h, ids[0], NULL, &err), LH_ENOENT);
    double r = recall_of(h, &data, LH_VEC_L2, 64, keep_odd_rows, NULL, NULL);
    print_message("after deleting half: recall@10 %.3f\n", r);
    assert_true(r >= 0.95);
    assert_int_equal(lh_hnsw_repair(h, &err), LH_OK);
    r = recall_of(h, &data, LH_VEC_L2, 64, keep_odd_rows, NULL, NULL);
    assert_true(r >= 0.95);
    /* the deleted come back: all rows searchable again */
    for (int i = 0; i < N; i += 2) {
        assert_int_equal(
            lh_hnsw_insert(h, ids[i], data.base + (size_t)i * DIM, &err),
            LH_OK);
    }
    assert_int_equal(lh_hnsw_count(h), N);
    r = recall_of(h, &data, LH_VEC_L2, 64, NULL, NULL, NULL);
    assert_true(r >= 0.95);
    /* delete everything: searches come back empty */
    for (int i = 0; i < N; i++) {
        assert_int_equal(lh_hnsw_delete(h, ids[i], &err), LH_OK);
    }
    lh_vec_hit hits[K];
    size_t n = 99;
    assert_int_equal(
        lh_hnsw_search(h, data.queries, K, 0, NULL, hits, &n, NULL, &err),
        LH_OK);
    assert_int_equal(n, 0);
    lh_hnsw_free(h);
}

static void
test_replace_id(void **state)
{
    (void)state;
    lh_hnsw_config c;
    lh_hnsw_config_default(&c, DIM, LH_VEC_L2);
    lh_hnsw *h;
    assert_int_equal(lh_hnsw_new(&c, &h, NULL), LH_OK);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(
            lh_hnsw_insert(h, i, data.base + (size_t)i * DIM, NULL), LH_OK);
    }
    /* id 5 takes row 300's vector: a search for that vector finds id 5 */
    assert_int_equal(lh_hnsw_insert(h, 5, data.base + 300 * DIM, NULL), LH_OK);
    assert_int_equal(lh_hnsw_count(h), 200);
    lh_vec_hit hit;
    size_t n;
    assert_int_equal(lh_hnsw_search(h, data.base + 300 * DIM, 1, 0, NULL, &hit,
                                    &n, NULL, NULL),
                     LH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(hit.id, 5);
    assert_true(hit.dist == 0.0f);
    /* and its old vector no longer finds it */
    assert_int_equal(lh_hnsw_search(h, data.base + 5 * DIM, 1, 0, NULL, &hit,
                                    &n, NULL, NULL),
                     LH_OK);
    assert_true(hit.id != 5);
    lh_hnsw_free(h);
}

typedef struct mod_ctx {
    int64_t mod;
} mod_ctx;

static bool
keep_mod(void *ctx, int64_t id)
{
    return ((id - 1000) / 3) % ((mod_ctx *)ctx)->mod == 0;
}

static void
test_filtered_search(void **state)
{
    (void)state;
    lh_hnsw *h = build(&data, LH_VEC_L2, 1);
    /* 1 row in 3 by callback, count unknown: graph search with a filter */
    mod_ctx c3 = {3};
    lh_vec_filter f = {.allow = keep_mod, .ctx = &c3};
    double r = recall_of(h, &data, LH_VEC_L2, 64, keep_mod, &c3, &f);
    print_message("filter 1/3: recall@10 %.3f\n", r);
    assert_true(r >= 0.9);
    /* 1 row in 200 (20 rows): still K rows, the exact answer */
    mod_ctx c200 = {200};
    f.ctx = &c200;
    r = recall_of(h, &data, LH_VEC_L2, 64, keep_mod, &c200, &f);
    assert_true(r == 1.0);
    lh_hnsw_stats st;
    lh_vec_hit hits[K];
    size_t n;
    assert_int_equal(
        lh_hnsw_search(h, data.queries, K, 0, &f, hits, &n, &st, NULL), LH_OK);
    assert_int_equal(n, K);
    assert_true(st.exact);
    /* 1 row in 40 (100 rows): widened graph search or exact, K rows */
    mod_ctx c40 = {40};
    f.ctx = &c40;
    r = recall_of(h, &data, LH_VEC_L2, 16, keep_mod, &c40, &f);
    print_message("filter 1/40: recall@10 %.3f\n", r);
    assert_true(r >= 0.9);
    /* a bitmap of 5 ids: 5 rows back, though K were asked */
    uint64_t bits[(1000 + 3 * N) / 64 + 1] = {0};
    int64_t five[5] = {ids[1], ids[77], ids[500], ids[2222], ids[3999]};
    for (int i = 0; i < 5; i++) {
        bits[five[i] / 64] |= UINT64_C(1) << (five[i] % 64);
    }
    lh_vec_filter fb = {.bits = bits, .nbits = 1000 + 3 * N, .count = 5};
    assert_int_equal(
        lh_hnsw_search(h, data.queries, K, 0, &fb, hits, &n, &st, NULL), LH_OK);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        bool in = false;
        for (int j = 0; j < 5; j++) {
            in = in || hits[i].id == five[j];
        }
        assert_true(in);
    }
    /* the same bitmap without a count: estimated, same answer */
    fb.count = 0;
    assert_int_equal(
        lh_hnsw_search(h, data.queries, K, 0, &fb, hits, &n, &st, NULL), LH_OK);
    assert_int_equal(n, 5);
    /* a filter nothing passes */
    mod_ctx none = {1000000};
    f.ctx = &none;
    assert_int_equal(
        lh_hnsw_search(h, data.queries, K, 0, &f, hits, &n, NULL, NULL), LH_OK);
    assert_int_equal(n, 1); /* row 0 passes mod 1000000 */
    lh_hnsw_free(h);
}

typedef struct conc {
    lh_hnsw *h;
    atomic_int inserted; /* rows 0..inserted-1 are in */
    atomic_int stop;
    atomic_int bad;
    atomic_long searches;
} conc;

static void *
searcher(void *arg)
{
    conc *c = arg;
    int q = 0;
    while (!atomic_load(&c->stop)) {
        lh_vec_hit hits[K];
        size_t n = 0;
        int before = atomic_load(&c->inserted);
        lh_rc rc = lh_hnsw_search(c->h, data.queries + (q++ % NQ) * DIM, K, 32,
                                  NULL, hits, &n, NULL, NULL);
        int after = atomic_load(&c->inserted);
        if (rc != LH_OK || (before >= K && n < K)) {
            atomic_fetch_add(&c->bad, 1);
        }
        for (size_t i = 0; i < n; i++) {
            int64_t row = (hits[i].id - 1000) / 3;
            /* row == after: the insert in flight, already linked but not
             * yet counted (one inserter) */
            if (hits[i].id < 1000 || row > after) {
                atomic_fetch_add(&c->bad, 1);
            }
        }
        atomic_fetch_add(&c->searches, 1);
    }
    return NULL;
}

static void
test_search_beside_inserts(void **state)
{
    (void)state;
    lh_hnsw_config cfg;
    lh_hnsw_config_default(&cfg, DIM, LH_VEC_L2);
    cfg.ef_construction = 64;
    conc c = {0};
    assert_int_equal(lh_hnsw_new(&cfg, &c.h, NULL), LH_OK);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, searcher, &c), 0);
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(
            lh_hnsw_insert(c.h, ids[i], data.base + (size_t)i * DIM, NULL),
            LH_OK);
        atomic_store(&c.inserted, i + 1);
        if (i % 500 == 0) {
            /* deletes and a repair beside the searches too */
            lh_hnsw_delete(c.h, ids[i / 2], NULL);
            lh_hnsw_insert(c.h, ids[i / 2], data.base + (size_t)(i / 2) * DIM,
                           NULL);
        }
    }
    assert_int_equal(lh_hnsw_repair(c.h, NULL), LH_OK);
    atomic_store(&c.stop, 1);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
    }
    print_message("%ld searches beside %d inserts\n", atomic_load(&c.searches),
                  N);
    assert_int_equal(atomic_load(&c.bad), 0);
    assert_true(atomic_load(&c.searches) > 0);
    double r = recall_of(c.h, &data, LH_VEC_L2, 64, NULL, NULL, NULL);
    assert_true(r >= 0.95);
    lh_hnsw_free(c.h);
}

static void
test_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/lh-hnsw-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/shard-000.hnsw", dir);
    lh_hnsw *h = build(&data, LH_VEC_L2, 2);
    lh_err err;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(lh_hnsw_delete(h, ids[i * 7], &err), LH_OK);
    }
    assert_int_equal(lh_hnsw_save(h, path, 12345, &err), LH_OK);
    lh_hnsw *g;
    uint64_t covers = 0;
    assert_int_equal(
        lh_hnsw_load(path, lh_hnsw_config_of(h), &covers, &g, &err), LH_OK);
    assert_int_equal(covers, 12345);
    assert_int_equal(lh_hnsw_count(g), N - 100);
    /* the same graph: the same answers */
    for (int q = 0; q < NQ; q++) {
        lh_vec_hit a[K], b[K];
        size_t na, nb;
        assert_int_equal(lh_hnsw_search(h, data.queries + q * DIM, K, 40, NULL,
                                        a, &na, NULL, NULL),
                         LH_OK);
        assert_int_equal(lh_hnsw_search(g, data.queries + q * DIM, K, 40, NULL,
                                        b, &nb, NULL, NULL),
                         LH_OK);
        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++) {
            assert_int_equal(a[i].id, b[i].id);
            assert_true(a[i].dist == b[i].dist);
        }
    }
    /* the loaded index takes inserts and deletes */
    assert_int_equal(lh_hnsw_insert(g, ids[0], data.base, &err), LH_OK);
    assert_int_equal(lh_hnsw_delete(g, ids[1], &err), LH_OK);
    lh_hnsw_free(g);
    /* no temporary file left behind */
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    struct stat st;
    assert_int_not_equal(stat(tmp, &st), 0);
    assert_int_equal(stat(path, &st), 0);
    size_t len = (size_t)st.st_size;

    /* wrong shape */
    lh_hnsw_config other;
    lh_hnsw_config_default(&other, DIM + 1, LH_VEC_L2);
    assert_int_equal(lh_hnsw_load(path, &other, NULL, &g, &err), LH_EFORMAT);
    lh_hnsw_config_default(&other, DIM, LH_VEC_COS);
    assert_int_equal(lh_hnsw_load(path, &other, NULL, &g, &err), LH_EFORMAT);

    /* every kind of damage is LH_ECORRUPT, never a crash */
    FILE *f = fopen(path, "rb");
    uint8_t *orig = malloc(len);
    assert_int_equal(fread(orig, 1, len, f), len);
    fclose(f);
    size_t spots[] = {0, 9, 33, 70, len / 2, len - 13, len - 1};
    for (size_t i = 0; i < LH_ARRAY_LEN(spots); i++) {
        uint8_t *bad = malloc(len);
        memcpy(bad, orig, len);
        bad[spots[i]] ^= 0x40;
        f = fopen(path, "wb");
        fwrite(bad, 1, len, f);
        fclose(f);
        lh_rc rc = lh_hnsw_load(path, NULL, NULL, &g, &err);
        assert_true(rc == LH_ECORRUPT || rc == LH_EFORMAT);
        assert_null(g);
        free(bad);
    }
    size_t cuts[] = {0, 10, 64, len / 3, len - 1};
    for (size_t i = 0; i < LH_ARRAY_LEN(cuts); i++) {
        f = fopen(path, "wb");
        fwrite(orig, 1, cuts[i], f);
        fclose(f);
        assert_int_equal(lh_hnsw_load(path, NULL, NULL, &g, &err), LH_ECORRUPT);
        assert_non_null(strstr(err.msg, "corrupt"));
    }
    free(orig);
    unlink(path);
    assert_int_equal(lh_hnsw_load(path, NULL, NULL, &g, &err), LH_ENOENT);
    /* an empty index saves and loads */
    lh_hnsw *e;
    assert_int_equal(lh_hnsw_new(lh_hnsw_config_of(h), &e, NULL), LH_OK);
    assert_int_equal(lh_hnsw_save(e, path, 0, &err), LH_OK);
    assert_int_equal(lh_hnsw_load(path, NULL, NULL, &g, &err), LH_OK);
    assert_int_equal(lh_hnsw_count(g), 0);
    lh_hnsw_free(g);
    lh_hnsw_free(e);
    /* a directory that is not there */
    char nowhere[160];
    snprintf(nowhere, sizeof(nowhere), "%s/no/such.hnsw", dir);
    assert_int_equal(lh_hnsw_save(h, nowhere, 0, &err), LH_EIO);
    lh_hnsw_free(h);
    unlink(path);
    rmdir(dir);
}

static void
test_bad_input(void **state)
{
    (void)state;
    lh_hnsw_config c;
    lh_hnsw *h;
    lh_err err;
    lh_hnsw_config_default(&c, 0, LH_VEC_L2);
    assert_int_equal(lh_hnsw_new(&c, &h, &err), LH_EINVAL);
    lh_hnsw_config_default(&c, 4, LH_VEC_L2);
    c.m = 1;
    assert_int_equal(lh_hnsw_new(&c, &h, &err), LH_EINVAL);
    c.m = 4;
    c.max_elements = 3;
    assert_int_equal(lh_hnsw_new(&c, &h, &err), LH_OK);
    float v[4] = {1, 2, 3, 4};
    lh_vec_hit hit;
    size_t n = 7;
    assert_int_equal(lh_hnsw_search(h, v, 1, 0, NULL, &hit, &n, NULL, &err),
                     LH_OK);
    assert_int_equal(n, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(lh_hnsw_insert(h, i, v, &err), LH_OK);
    }
    assert_int_equal(lh_hnsw_insert(h, 9, v, &err), LH_ELIMIT);
    v[2] = NAN;
    assert_int_equal(lh_hnsw_insert(h, 3, v, &err), LH_EINVAL);
    assert_string_equal(err.msg, "row 3: vector has NaN at element 2");
    assert_int_equal(lh_hnsw_search(h, v, 1, 0, NULL, &hit, &n, NULL, &err),
                     LH_EINVAL);
    assert_string_equal(err.msg, "query vector has NaN at element 2");
    lh_hnsw_free(h);
}

static void
test_out_of_memory(void **state)
{
    (void)state;
    lh_hnsw_config c;
    lh_hnsw_config_default(&c, DIM, LH_VEC_L2);
    c.ef_construction = 32;
    for (uint64_t fail = 1; fail < 40; fail += 3) {
        lh_hnsw *h;
        lh_alloc_fail_at(fail, false);
        lh_rc rc = lh_hnsw_new(&c, &h, NULL);
        if (rc != LH_OK) {
            assert_int_equal(rc, LH_ENOMEM);
            lh_alloc_fail_at(0, false);
            continue;
        }
        int ok = 0;
        for (int i = 0; i < 300; i++) {
            rc = lh_hnsw_insert(h, i, data.base + (size_t)i * DIM, NULL);
            assert_true(rc == LH_OK || rc == LH_ENOMEM);
            ok += rc == LH_OK;
        }
        lh_alloc_fail_at(0, false);
        lh_vec_hit hits[K];
        size_t n;
        assert_int_equal(
            lh_hnsw_search(h, data.queries, K, 0, NULL, hits, &n, NULL, NULL),
            LH_OK);
        assert_int_equal(lh_hnsw_count(h), (size_t)ok);
        assert_int_equal(n, LH_MIN((size_t)K, (size_t)ok));
        lh_hnsw_free(h);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recall_every_metric),
        cmocka_unit_test(test_parallel_build),
        cmocka_unit_test(test_delete_and_repair),
        cmocka_unit_test(test_replace_id),
        cmocka_unit_test(test_filtered_search),
        cmocka_unit_test(test_search_beside_inserts),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
