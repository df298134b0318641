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

enum { DIM = 32, N = 3000, MORE = 1500, NQ = 10, K = 10 };

static const lh_us NOW = PL_T0 + 30 * 24 * PL_HOUR;

static const char *const TABLE =
    "{\"name\": \"docs\", \"columns\": [{\"name\": \"i\", \"type\": "
    "\"BIGINT\"}, {\"name\": \"g\", \"type\": \"INTEGER\"}], "
    "\"embedding_dim\": 32, \"hot_window\": \"1h\", \"warm_window\": "
    "\"2d\", \"shards\": 3, \"snapshot_min_count\": 100000, "
    "\"warm_row_group_rows\": 128}";

/* The same with 64 lists (trained on 256 rows or more). */
static const char *const TABLE64 =
    "{\"name\": \"docs\", \"columns\": [{\"name\": \"i\", \"type\": "
    "\"BIGINT\"}, {\"name\": \"g\", \"type\": \"INTEGER\"}], "
    "\"embedding_dim\": 32, \"hot_window\": \"1h\", \"warm_window\": "
    "\"2d\", \"shards\": 3, \"snapshot_min_count\": 100000, "
    "\"vector_index\": {\"nlist\": 64}}";
static const char *table_def = TABLE;

typedef struct fixture {
    char *dir;
    lh_db *db;
    lh_session *s;
    lh_mrl_data data; /* N + MORE rows: the first n appended */
    int n;
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

/* Events [from, to) at ts(i), oldest first within the range's thirds:
 * the flush moves each shard's prefix of positions that are due, so the
 * cold events, then the warm ones, then the hot. */
static void
append_range(fixture *f, int from, int to, lh_us (*ts_of)(int))
{
    enum { CALL = 100 };
    lh_event_in evs[CALL];
    char data[CALL][64], stream[CALL][32], ts[CALL][32];
    int n = 0;
    for (int third = 0; third < 3; third++) {
        for (int i = from + third; i < to; i += 3) {
            snprintf(stream[n], sizeof stream[n], "s%d", i % 40);
            snprintf(data[n], sizeof data[n], "{\"i\": %d, \"g\": %d}", i,
                     i % 100);
            pl_ts_text(ts_of(i), ts[n], sizeof ts[n]);
            evs[n] = (lh_event_in){.stream = stream[n],
                                   .type = "Added",
                                   .ts = ts[n],
                                   .data_json = data[n]};
            if (embedded(i)) {
                evs[n].embedding = f->data.base + (size_t)i * DIM;
                evs[n].embedding_len = DIM;
            }
            if (++n == CALL || i + 3 >= to) {
                lh_err err;
                assert_int_equal(
                    lh_append(f->db, "docs", evs, (size_t)n, NULL, NULL, &err),
                    LH_OK);
                n = 0;
            }
        }
    }
    f->n = to;
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
    lh_mrl_spec_default(&sp, N + MORE, NQ, DIM);
    sp.clusters = 20;
    lh_err err;
    assert_int_equal(lh_mrl_generate(&sp, &f->data, &err), LH_OK);
    f->dir = ht_tmpdir();
    open_session(f);
    ht_create(f->db, table_def);
    append_range(f, 0, N, event_ts);
    *state = f;
    return 0;
}

static int
setup64(void **state)
{
    table_def = TABLE64;
    int r = setup(state);
    table_def = TABLE;
    return r;
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
    {"", 0, 100, N + MORE},
    {"WHERE g < 50", 0, 50, N + MORE},
    {"WHERE g < 5", 0, 5, N + MORE},
    {"WHERE g = 7", 7, 8, N + MORE},
    {"WHERE i < 40", 0, 100, 40},
    {"WHERE i < 300 AND g >= 97", 97, 100, 300},
    /* only rows without an embedding pass (i % 100 == 0) */
    {"WHERE g = 0", 0, 1, N + MORE},
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
    static cand c[N + MORE];
    int m = 0;
    for (int i = 0; i < f->n; i++) {
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
        assert_true(got[x] >= 0 && got[x] < N + MORE && passes(fi, got[x]));
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
        const char *at = strstr(got, "knn:");
        fail_msg("EXPLAIN ANALYZE wants \"%s\", has \"%.300s\"", want,
                 at ? at : got);
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
    /* 3 shards' indexes, then the lake's warm index (16 lists) */
    expect_analyze(f, "knn: searches=4 exact=0");
    expect_analyze(f, "ivfpq_lists=16");
    /* SET: this session's warm searches */
    lh_err err;
    free(sqlt_run(f->s, "SET ivfpq.nprobe = 2", NULL, &err));
    free(sqlt_run(f->s, "SET ivfpq.refine = 3", NULL, &err));
    sqlt_expect_csv(f->s, "SHOW ivfpq.nprobe", "ivfpq.nprobe\n2\n");
    expect_analyze(f, "lake ivfpq nprobe=2 refine=3");
    /* 2 lists, 3 x 5 candidates re-ranked */
    expect_analyze(f, "ivfpq_lists=2 ");
    expect_analyze(f, "reranked=15]");
    check_recall(f, "nprobe 2", 0.5);
    free(sqlt_run(f->s, "RESET ivfpq.nprobe", NULL, &err));
    free(sqlt_run(f->s, "RESET ivfpq.refine", NULL, &err));
    expect_analyze(f, "ivfpq_lists=16");
    lh_rc rc;
    free(sqlt_run(f->s, "SET ivfpq.refine = 101", &rc, &err));
    assert_int_equal(rc, LH_EINVAL);
    assert_non_null(strstr(err.msg, "ivfpq.refine is 1..100"));
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
    expect_analyze(f, "knn: searches=4 exact=0");
}

/* The events of the first flush (not hot at NOW) with an embedding. */
static int64_t
flushed_embedded(void)
{
    int64_t n = 0;
    for (int i = 0; i < N; i++) {
        n += event_ts(i) < NOW && embedded(i);
    }
    return n;
}

/* The lake's rows: those with an embedding but no code, and how many
 * carry each codebook version (list_id >> 20). */
static void
lake_codes(fixture *f, int64_t *uncoded, int64_t *by_version, int nv)
{
    memset(by_version, 0, (size_t)nv * sizeof(int64_t));
    *uncoded = 0;
    lh_table *t;
    lh_err err;
    assert_int_equal(lh__db_table(f->db, "docs", &t, &err), LH_OK);
    lh__lake *l;
    assert_int_equal(lh__lake_open(t, &l, &err), LH_OK);
    lh_arena ar;
    lh_arena_init(&ar, 0);
    lh_ice_plan plan;
    assert_int_equal(lh_ice_plan_scan(l->ice, NULL, &ar, &plan, &err), LH_OK);
    int32_t ids[] = {LH__F_EMBEDDING, LH__F_LIST_ID, LH__F_PQ_CODE};
    for (uint32_t i = 0; i < plan.ntasks; i++) {
        lh_ice_reader *r;
        assert_int_equal(
            lh_ice_read_open(l->ice, &plan, &plan.tasks[i], ids, 3, &r, &err),
            LH_OK);
        for (;;) {
            lh_batch b;
            assert_int_equal(lh_ice_read_next(r, &b, &err), LH_OK);
            if (b.count == 0) {
                break;
            }
            for (uint32_t k = 0; k < b.count; k++) {
                bool emb = lh_vec_valid(&b.cols[0], k);
                /* -1: no embedding (with a codebook) */
                bool coded = lh_vec_valid(&b.cols[1], k) &&
                             ((const int32_t *)b.cols[1].data)[k] >= 0;
                assert_true(emb || !lh_vec_valid(&b.cols[1], k) ||
                            ((const int32_t *)b.cols[1].data)[k] == -1);
                /* a code only with an embedding, of the codebook's m */
                assert_true(!coded || emb);
                assert_int_equal(lh_vec_valid(&b.cols[2], k), coded);
                if (emb && !coded) {
                    (*uncoded)++;
                } else if (coded) {
                    int v = ((const int32_t *)b.cols[1].data)[k] >> 20;
                    assert_true(v >= 1 && v < nv);
                    assert_int_equal(((const lh_str *)b.cols[2].data)[k].len,
                                     4);
                    by_version[v]++;
                }
            }
        }
        lh_ice_read_close(r);
    }
    lh_arena_release(&ar);
    lh__lake_close(l);
}

static lh_us
later_ts(int i)
{
    (void)i;
    return NOW + 4 * PL_HOUR - 5 * PL_HOUR;
}

/* A definition whose nlist changed: the next flush trains codebook 2;
 * files of version 1 stay searchable beside those of version 2. */
static void
test_codebook_version(void **state)
{
    fixture *f = *state;
    lh_pipeline_stats st;
    pl_run(f->db, NOW, &st);
    int64_t uncoded, byv[4];
    lake_codes(f, &uncoded, byv, 4);
    assert_int_equal(uncoded, 0);
    assert_int_equal(byv[1], flushed_embedded());
    close_session(f);
    char path[256];
    snprintf(path, sizeof path, "%s/tables/docs/table.json", f->dir);
    knnt_edit_file(path, "\"nlist\": 256", "\"nlist\": 64");
    open_session(f);
    lh_time_set_frozen(NOW + 4 * PL_HOUR, true);
    append_range(f, N, N + MORE, later_ts);
    pl_run(f->db, NOW + 4 * PL_HOUR, &st);
    lake_codes(f, &uncoded, byv, 4);
    assert_int_equal(uncoded, 0);
    assert_true(byv[1] > 0 && byv[2] > 0 && byv[3] == 0);
    char cb[256];
    snprintf(cb, sizeof cb, "%s/lake/docs/index/ivfpq-2.bin", f->dir);
    assert_int_equal(access(cb, F_OK), 0);
    check_recall(f, "two codebooks", 0.9);
    /* both versions searched, 16 lists each */
    expect_analyze(f, "ivfpq_lists=32");
}

/* A flush killed after it wrote its first file (and the codebook), before
 * its commit; then the run again: every event once, every embedded lake
 * row coded by the one codebook, the search as good as before. */
static void
test_crash_while_coding(void **state)
{
    fixture *f = *state;
    close_session(f);
    killer k = {"file"};
    lh__pipeline_opts o = {.until_idle = true,
                           .flush = {.on_step = kill_at, .ctx = &k}};
    assert_true(pl_run_child(f->dir, NOW, &o));
    open_session(f);
    lh_pipeline_stats st;
    pl_run(f->db, NOW, &st);
    pl_account a;
    pl_account_get(f->db, "docs", &a);
    pl_assert_exactly_once(&a, N, (int64_t)N * (N - 1) / 2);
    pl_account_free(&a);
    int64_t uncoded, byv[4];
    lake_codes(f, &uncoded, byv, 4);
    assert_int_equal(uncoded, 0);
    assert_int_equal(byv[1], flushed_embedded());
    assert_int_equal(byv[2], 0);
    check_recall(f, "after a crash", 0.95);
}

/* Flush rounds too small to train on: the warm files stay without
 * codes; the compaction of the cold partition trains codebook 1 and codes
 * its rows. The search uses the codes where they are and scans the rest
 * exactly: the same answers. */
static void
test_uncoded_rows(void **state)
{
    fixture *f = *state;
    lh__pipeline_opts o = {.until_idle = true, .flush = {.round_rows = 150}};
    lh_pipeline_stats st;
    lh_err err;
    assert_int_equal(lh__pipeline_run(f->db, &o, &st, &err), LH_OK);
    assert_true(st.compactions > 0);
    int64_t uncoded, byv[4], warm = 0, cold = 0;
    for (int i = 0; i < N; i++) {
        warm += event_ts(i) == NOW - 5 * PL_HOUR && embedded(i);
        cold += event_ts(i) < NOW - 5 * PL_HOUR && embedded(i);
    }
    lake_codes(f, &uncoded, byv, 4);
    assert_int_equal(uncoded, warm);
    assert_int_equal(byv[1], cold);
    check_recall(f, "warm uncoded, cold coded", 0.95);
    expect_analyze(f, "ivfpq_lists=16");
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
        cmocka_unit_test_setup_teardown(test_codebook_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_while_coding, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_uncoded_rows, setup64, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
