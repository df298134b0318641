/*
 * ORDER BY embedding <-> q LIMIT k over every tier of an event table
 * (src/router/router_knn.c): the hot shards' HNSW and the lake's files
 * searched, merged by the full vector's distance. MRL-like vectors
 * (src/vector/mrl.c) spread over the hot tier, the warm files and the
 * cold files by their ts; each query is compared against a brute force
 * done here in double precision (rows without an embedding last, as SQL
 * orders NULLs) and against the exact plan (the same ORDER BY in an
 * expression the index rule does not take):
 *   - recall@10 with filters passing 50%, 5%, 1% and a few dozen rows, k
 *     rows whenever k pass, and only rows without an embedding passing
 *     (then SQL's NULLs, through the exact plan);
 *   - an event in two tiers (a flush killed with SIGKILL after its commit,
 *     before it deleted the rows from the shards) comes back once;
 *   - EXPLAIN ANALYZE counts the lake's search.
 */
#include "../pipeline/pl_test.h"
#include "../sql/sql_test.h"

#include <math.h>

#include "../vector/knn_test.h"
#include "vector/vector.h"

enum { DIM = 32, N = 3000, NQ = 10, K = 10 };

static const lh_us NOW = PL_T0 + 30 * 24 * PL_HOUR;

static const char *const TABLE =
    "{\"name\": \"docs\", \"columns\": [{\"name\": \"i\", \"type\": "
    "\"BIGINT\"}, {\"name\": \"g\", \"type\": \"INTEGER\"}], "
    "\"embedding_dim\": 32, \"hot_window\": \"1h\", \"warm_window\": "
    "\"2d\", \"shards\": 3, \"snapshot_min_count\": 100000}";

typedef struct fixture {
    char *dir;
    lh_db *db;
    lh_session *s;
    lh_mrl_data data;
} fixture;

/* every 50th event has no embedding */
static bool
embedded(int i)
{
    return i % 50 != 0;
}

/* Event i's tier by its age: a third 5 days old (cold once compacted), a
 * third 5 hours (warm), a third now (hot). */
static lh_us
event_ts(int i)
{
    return i % 3 == 0   ? NOW - 5 * 24 * PL_HOUR
           : i % 3 == 1 ? NOW - 5 * PL_HOUR
                        : NOW;
}

/* Oldest first: the flush moves each shard's prefix of positions that
 * are due, so the cold events, then the warm ones, then the hot. */
static void
append_all(fixture *f)
{
    enum { CALL = 100 };
    lh_event_in evs[CALL];
    char data[CALL][64], stream[CALL][32], ts[CALL][32];
    int n = 0;
    for (int third = 0; third < 3; third++) {
        for (int i = third; i < N; i += 3) {
            snprintf(stream[n], sizeof stream[n], "s%d", i % 40);
            snprintf(data[n], sizeof data[n], "{\"i\": %d, \"g\": %d}", i,
                     i % 100);
            pl_ts_text(event_ts(i), ts[n], sizeof ts[n]);
            evs[n] = (lh_event_in){.stream = stream[n],
                                   .type = "Added",
                                   .ts = ts[n],
                                   .data_json = data[n]};
            if (embedded(i)) {
                evs[n].embedding = f->data.base + (size_t)i * DIM;
                evs[n].embedding_len = DIM;
            }
            if (++n == CALL || i + 3 >= N) {
                lh_err err;
                assert_int_equal(
                    lh_append(f->db, "docs", evs, (size_t)n, NULL, NULL, &err),
                    LH_OK);
                n = 0;
            }
        }
    }
}

static void
open_session(fixture *f)
{
    f->db = ht_open(f->dir);
    lh_session_options o = {.threads = 2};
    lh_err err;
    assert_int_equal(lh_session_open(f->db, &o, &f->s, &err), LH_OK);
}

static void
close_session(fixture *f)
{
    lh_session_close(f->s);
    lh_db_close(f->db);
}

static int
setup(void **state)
{
    lh_time_set_frozen(NOW, true);
    fixture *f = calloc(1, sizeof(fixture));
    lh_mrl_spec sp;
    lh_mrl_spec_default(&sp, N, NQ, DIM);
    sp.clusters = 20;
    lh_err err;
    assert_int_equal(lh_mrl_generate(&sp, &f->data, &err), LH_OK);
    f->dir = ht_tmpdir();
    open_session(f);
    ht_create(f->db, TABLE);
    append_all(f);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    close_session(f);
    lh_mrl_data_release(&f->data);
    ht_rmdir(f->dir);
    free(f);
    lh_time_set_frozen(0, false);
    return 0;
}

static void
literal(const float *v, char *out, size_t cap)
{
    knnt_literal(v, DIM, out, cap);
}

/* The filters: SQL text and the same predicate over row i. */
static const knnt_filter filters[] = {
    {"", 0, 100, N},
    {"WHERE g < 50", 0, 50, N},
    {"WHERE g < 5", 0, 5, N},
    {"WHERE g = 7", 7, 8, N},
    {"WHERE i < 40", 0, 100, 40},
    {"WHERE i < 300 AND g >= 97", 97, 100, 300},
    /* only rows without an embedding pass (i % 100 == 0) */
    {"WHERE g = 0", 0, 1, N},
};

static bool
passes(int fi, int i)
{
    return knnt_passes(&filters[fi], i);
}

typedef knnt_cand cand;

/* The i's of the exact answer's first k rows (L2; without an embedding:
 * last, in any order, so those come back as -1). */
static int
brute(const fixture *f, const float *q, int fi, int *out)
{
    static cand c[N];
    int m = 0;
    for (int i = 0; i < N; i++) {
        if (!passes(fi, i)) {
            continue;
        }
        double s = INFINITY;
        if (embedded(i)) {
            s = knnt_dist(0, f->data.base + (size_t)i * DIM, q, DIM);
        }
        c[m++] = (cand){s, i};
    }
    qsort(c, (size_t)m, sizeof(cand), knnt_cand_cmp);
    for (int j = 0; j < K && j < m; j++) {
        out[j] = isinf(c[j].dist) ? -1 : c[j].i;
    }
    return m < K ? m : K;
}

/* The i's of a one-column CSV result. */
static int
parse_ids(const char *csv, int *out)
{
    return knnt_parse_ids(csv, out, K + 1);
}

/* Rows of got (m of them) that the exact answer holds; fails on a row
 * twice or one the filter does not pass. */
static int
hits_of(const int *got, int m, const int *want, int w, int fi)
{
    int hit = 0;
    for (int x = 0; x < m; x++) {
        assert_true(got[x] >= 0 && got[x] < N && passes(fi, got[x]));
        for (int y = 0; y < x; y++) {
            if (got[y] == got[x]) {
                fail_msg("row %d came back twice", got[x]);
            }
        }
        for (int y = 0; y < w; y++) {
            /* a row without an embedding: any such row is as good */
            hit += want[y] == got[x] || (want[y] < 0 && !embedded(got[x]));
            if (want[y] < 0 && !embedded(got[x])) {
                break;
            }
        }
    }
    return hit;
}

/* One query through the index and the exact plan: the number of the
 * index path's rows in the exact answer (*total += k). */
static int
check_query(fixture *f, const float *q, int fi, int *total)
{
    char lit[1024], sql[4096];
    literal(q, lit, sizeof lit);
    int want[K], got[K + 1], exact[K + 1];
    int w = brute(f, q, fi, want);
    lh_err err;
    snprintf(sql, sizeof sql,
             "SELECT i FROM docs %s ORDER BY embedding <-> %s LIMIT %d",
             filters[fi].sql, lit, K);
    char *csv = sqlt_run(f->s, sql, NULL, &err);
    int m = parse_ids(csv, got);
    if (m != w) {
        fail_msg("%s: %d rows, want %d\n%s", sql, m, w, csv);
    }
    free(csv);
    snprintf(sql, sizeof sql,
             "SELECT i FROM docs %s ORDER BY (embedding <-> %s) + 0 LIMIT %d",
             filters[fi].sql, lit, K);
    csv = sqlt_run(f->s, sql, NULL, &err);
    int me = parse_ids(csv, exact);
    free(csv);
    assert_int_equal(me, w);
    assert_int_equal(hits_of(exact, me, want, w, fi), w);
    *total += w;
    return hits_of(got, m, want, w, fi);
}

static void
check_recall(fixture *f, const char *when, double floor)
{
    for (size_t fi = 0; fi < LH_ARRAY_LEN(filters); fi++) {
        int hits = 0, total = 0;
        for (int t = 0; t < NQ; t++) {
            hits += check_query(f, f->data.queries + (size_t)t * DIM, (int)fi,
                                &total);
        }
        double recall = (double)hits / total;
        printf("%s, filter \"%s\": recall@%d %.4f over %d queries\n", when,
               filters[fi].sql, K, recall, NQ);
        if (recall < floor) {
            fail_msg("%s, filter \"%s\": recall %.4f < %.2f", when,
                     filters[fi].sql, recall, floor);
        }
    }
}

/* The events in the lake and in the shards (above the marks). */
static void
tiers(fixture *f, int64_t *lake, int64_t *hot)
{
    pl_account a;
    pl_account_get(f->db, "docs", &a);
    *lake = a.lake_rows;
    *hot = a.hot_rows - a.hot_below_mark;
    pl_account_free(&a);
}

static void
expect_analyze(fixture *f, const char *want)
{
    char lit[1024], sql[4096];
    literal(f->data.queries, lit, sizeof lit);
    snprintf(sql, sizeof sql,
             "EXPLAIN ANALYZE SELECT i FROM docs ORDER BY embedding <-> %s "
             "LIMIT 5",
             lit);
    lh_err err;
    char *got = sqlt_run(f->s, sql, NULL, &err);
    if (strstr(got, want) == NULL) {
        fail_msg("%s\nwants \"%s\" in:\n%s", sql, want, got);
    }
    free(got);
}

static void
test_every_tier(void **state)
{
    fixture *f = *state;
    check_recall(f, "hot only", 0.95);
    lh_pipeline_stats st;
    pl_run(f->db, NOW, &st);
    assert_int_equal(st.events_flushed, 2 * N / 3);
    assert_true(st.compactions > 0);
    int64_t lake, hot;
    tiers(f, &lake, &hot);
    assert_int_equal(lake, 2 * N / 3);
    assert_int_equal(hot, N / 3);
    check_recall(f, "hot + warm + cold", 0.95);
    /* 3 shards' indexes, then the lake */
    expect_analyze(f, "knn: searches=4 exact=1");
    /* every event in the lake: the hot part finds nothing */
    lh_time_set_frozen(NOW + 4 * PL_HOUR, true);
    pl_run(f->db, NOW + 4 * PL_HOUR, &st);
    tiers(f, &lake, &hot);
    assert_int_equal(lake, N);
    assert_int_equal(hot, 0);
    check_recall(f, "all in the lake", 0.95);
}

typedef struct killer {
    const char *at;
} killer;

static void
kill_at(void *ctx, const char *step, int shard)
{
    (void)shard;
    const killer *k = ctx;
    if (strcmp(step, k->at) == 0) {
        raise(SIGKILL);
    }
}

/* A flush killed after its commit, before its deletes: the events are in
 * the lake and still in their shards; each comes back once. */
static void
test_event_in_two_tiers(void **state)
{
    fixture *f = *state;
    close_session(f);
    killer k = {"commit"};
    lh__pipeline_opts o = {.until_idle = true,
                           .flush = {.on_step = kill_at, .ctx = &k}};
    assert_true(pl_run_child(f->dir, NOW, &o));
    open_session(f);
    pl_account a;
    pl_account_get(f->db, "docs", &a);
    int64_t below = a.hot_below_mark, lake = a.lake_rows;
    pl_account_free(&a);
    assert_int_equal(lake, 2 * N / 3);
    assert_int_equal(below, 2 * N / 3); /* not deleted yet */
    check_recall(f, "mid-flush", 0.95);
    expect_analyze(f, "knn: searches=4 exact=1");
}

int
main(void)
{
    lh_err err;
    lh_global_init(&err);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_tier, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_in_two_tiers, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
