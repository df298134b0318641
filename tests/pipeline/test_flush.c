/*
 * The flush (hot to warm) on real shards and a real Iceberg table on the
 * local store: which events leave (age, tier hints, size budgets, always a
 * prefix of positions), that each is in exactly one tier afterwards, the
 * warm layout of the files (sorted, small row groups, a Bloom filter on
 * stream, page index), the marks in the snapshot summary, snapshot times
 * from the product's clock that never go back, idempotency and expected
 * versions after events left the shard, and appends running beside a
 * flush.
 */
#include <pthread.h>
#include <sys/stat.h>

#include "format/parquet/parquet.h"
#include "pl_test.h"

static const char *const TABLE =
    "{\"name\": \"ev\", \"columns\": [{\"name\": \"n\", \"type\": "
    "\"BIGINT\"}], \"hot_window\": \"1h\", \"shards\": 2, "
    "\"warm_row_group_rows\": 100}";

static int64_t
sum_to(int64_t n)
{
    return n * (n - 1) / 2;
}

static void
test_age(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_time_set_frozen(PL_T0 + 100 * PL_HOUR, true);
    lh_db *db = ht_open(dir);
    ht_create(db, TABLE);
    /* 600 events, one a minute from T0: 10 hours. */
    pl_append(db, "ev", 0, 600, 40, PL_T0, PL_MIN, NULL);
    lh_pipeline_stats st;
    /* At T0 + 5h, the events before T0 + 4h are due: 240. */
    pl_run(db, PL_T0 + 5 * PL_HOUR, &st);
    assert_int_equal(st.events_flushed, 240);
    assert_int_equal(st.flushes, 1); /* one commit for both shards */
    pl_account a;
    pl_account_get(db, "ev", &a);
    pl_assert_exactly_once(&a, 600, sum_to(600));
    assert_int_equal(a.lake_rows, 240);
    assert_int_equal(a.hot_below_mark, 0);
    assert_int_equal(a.snapshots, 1);
    /* The snapshots carry the product's clock. */
    assert_int_equal(a.last_snapshot_ms, (PL_T0 + 5 * PL_HOUR) / 1000);
    pl_account_free(&a);
    /* Nothing more due at the same time: no commit. */
    pl_run(db, PL_T0 + 5 * PL_HOUR, &st);
    assert_int_equal(st.flushes, 0);
    /* An earlier clock flushes nothing, and a later one the rest; the
     * snapshot times still go forward. */
    pl_run(db, PL_T0 + 2 * PL_HOUR, &st);
    assert_int_equal(st.flushes, 0);
    pl_run(db, PL_T0 + 20 * PL_HOUR, &st);
    assert_int_equal(st.events_flushed, 360);
    pl_account_get(db, "ev", &a);
    pl_assert_exactly_once(&a, 600, sum_to(600));
    assert_int_equal(a.hot_rows, 0);
    assert_int_equal(a.snapshots, 2);
    pl_account_free(&a);
    /* The tiers agree. */
    lh_tier_stats *ts;
    size_t n;
    lh_err err;
    assert_int_equal(lh_tiers_get(db, "ev", &ts, &n, &err), LH_OK);
    assert_int_equal(n, 3);
    assert_string_equal(ts[0].tier, "hot");
    assert_true(ts[0].empty);
    assert_int_equal(ts[0].rows, 0);
    assert_string_equal(ts[1].tier, "warm");
    assert_int_equal(ts[1].rows, 600);
    assert_int_equal(ts[1].min_ts, PL_T0);
    assert_int_equal(ts[1].max_ts, PL_T0 + 599 * PL_MIN);
    assert_string_equal(ts[1].min_ts_text, "2026-01-01 00:00:00");
    assert_string_equal(ts[1].max_ts_text, "2026-01-01 09:59:00");
    assert_string_equal(ts[2].tier, "cold");
    assert_true(ts[2].empty);
    lh_free_mem(ts);
    lh_db_close(db);
    ht_rmdir(dir);
    lh_time_set_frozen(0, false);
}

/* The files: one per partition a round (all shards), rows sorted by ts
 * within, row groups of warm_row_group_rows, Bloom filters on stream,
 * column and offset indexes. */
static void
test_layout(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_time_set_frozen(PL_T0 + 1000 * PL_HOUR, true);
    lh_db *db = ht_open(dir);
    ht_create(db, TABLE);
    /* Three days, one event every 10 minutes: 432 events. */
    pl_append(db, "ev", 0, 432, 30, PL_T0, 10 * PL_MIN, NULL);
    lh_pipeline_stats st;
    pl_run(db, PL_T0 + 1000 * PL_HOUR, &st);
    assert_int_equal(st.events_flushed, 432);
    assert_int_equal(st.files_written, 3); /* a day a file, both shards */
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "find '%s/lake/ev/data/warm' -name '*.parquet'",
             dir);
    FILE *f = popen(cmd, "r");
    char path[1024];
    int files = 0;
    while (fgets(path, sizeof(path), f) != NULL) {
        path[strcspn(path, "\n")] = 0;
        assert_non_null(strstr(path, "/ts_day=2026-01-0"));
        lh_pq_file *pq;
        lh_err err;
        assert_int_equal(lh_pq_open(path, &pq, &err), LH_OK);
        const lh_pq_file_metadata *m = lh_pq_meta(pq);
        int si = lh_pq_find_column(pq, "stream"),
            ti = lh_pq_find_column(pq, "ts");
        assert_true(si >= 0 && ti >= 0);
        assert_true(m->num_rows > 0);
        for (uint32_t g = 0; g < m->n_row_groups; g++) {
            assert_true(m->row_groups[g].num_rows <= 100);
            const lh_pq_column_chunk *cc = &m->row_groups[g].columns[si];
            assert_true(cc->meta_data.has_bloom_filter_offset);
            assert_true(cc->has_column_index_offset);
            assert_true(cc->has_offset_index_offset);
        }
        if (m->num_rows > 100) {
            assert_true(m->n_row_groups > 1);
        }
        /* ts ascends through the file. */
        uint32_t cols[] = {(uint32_t)ti};
        lh_pq_scan_opts so = {.columns = cols, .ncolumns = 1};
        lh_pq_scan *sc;
        assert_int_equal(lh_pq_scan_open(pq, &so, &sc, &err), LH_OK);
        int64_t prev = INT64_MIN;
        for (;;) {
            lh_batch b;
            assert_int_equal(lh_pq_scan_next(sc, &b, &err), LH_OK);
            if (b.count == 0) {
                break;
            }
            for (uint32_t k = 0; k < b.count; k++) {
                int64_t v = ((const int64_t *)b.cols[0].data)[k];
                assert_true(v >= prev);
                prev = v;
            }
        }
        lh_pq_scan_close(sc);
        lh_pq_close(pq);
        files++;
    }
    pclose(f);
    assert_int_equal(files, 3);
    lh_db_close(db);
    ht_rmdir(dir);
    lh_time_set_frozen(0, false);
}

/* tier_hint warm leaves at once; hot stays for twice the window; the
 * flush takes a prefix of positions, so a hot event holds back the later
 * ones of its shard. */
static void
test_hints(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_time_set_frozen(PL_T0, true);
    lh_db *db = ht_open(dir);
    ht_create(db, "{\"name\": \"ev\", \"columns\": [{\"name\": \"n\", "
                  "\"type\": \"BIGINT\"}], \"hot_window\": \"1h\", "
                  "\"shards\": 1}");
    pl_append(db, "ev", 0, 10, 3, PL_T0, 0, "warm");
    pl_append(db, "ev", 10, 1, 3, PL_T0 - 10 * PL_HOUR, 0, "hot");
    pl_append(db, "ev", 11, 5, 3, PL_T0 - 10 * PL_HOUR, 0, NULL);
    lh_pipeline_stats st;
    /* The warm ones (ts now), the hot one (10 h old: past twice the
     * window) and the old ones. */
    pl_run(db, PL_T0, &st);
    assert_int_equal(st.events_flushed, 16);
    /* A hot one 90 min old (inside twice the window) holds back the old
     * ones after it. */
    pl_append(db, "ev", 16, 1, 3, PL_T0 - 90 * PL_MIN, 0, "hot");
    pl_append(db, "ev", 17, 4, 3, PL_T0 - 90 * PL_MIN, 0, NULL);
    pl_run(db, PL_T0, &st);
    assert_int_equal(st.events_flushed, 0);
    pl_account a;
    pl_account_get(db, "ev", &a);
    assert_int_equal(a.hot_rows, 5);
    assert_int_equal(a.marks[0], 16);
    pl_assert_exactly_once(&a, 21, sum_to(21));
    pl_account_free(&a);
    pl_run(db, PL_T0 + 40 * PL_MIN, &st); /* 16 is 130 min old now */
    assert_int_equal(st.events_flushed, 5);
    lh_db_close(db);
    ht_rmdir(dir);
    lh_time_set_frozen(0, false);
}

/* A shard over flush_rows sheds its oldest events down to half of it,
 * however young they are. */
static void
test_size(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_time_set_frozen(PL_T0, true);
    lh_db *db = ht_open(dir);
    ht_create(db, "{\"name\": \"ev\", \"columns\": [{\"name\": \"n\", "
                  "\"type\": \"BIGINT\"}], \"shards\": 1, \"flush_rows\": "
                  "1000}");
    pl_append(db, "ev", 0, 999, 10, PL_T0, 0, NULL);
    lh_pipeline_stats st;
    pl_run(db, PL_T0, &st);
    assert_int_equal(st.events_flushed, 0);
    pl_append(db, "ev", 999, 1001, 10, PL_T0, 0, NULL);
    pl_run(db, PL_T0, &st);
    assert_int_equal(st.events_flushed, 2000 - 500);
    pl_account a;
    pl_account_get(db, "ev", &a);
    assert_int_equal(a.hot_rows, 500);
    assert_int_equal(a.marks[0], 1500);
    pl_assert_exactly_once(&a, 2000, sum_to(2000));
    pl_account_free(&a);
    lh_db_close(db);
    ht_rmdir(dir);
    lh_time_set_frozen(0, false);
}

/* After events left the shard: a retried append is still a duplicate,
 * expected versions still count them, and new events get new positions. */
static void
test_appends_after_flush(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_time_set_frozen(PL_T0, true);
    lh_db *db = ht_open(dir);
    ht_create(db, TABLE);
    lh_event_ack ack, again;
    lh_err err;
    const char *id = "0190b6f0-0000-7000-8000-000000000001";
    assert_int_equal(ht_append1(db, "ev", "acct", "Opened", "{\"n\": 1}",
                                LH_EXPECT_NO_STREAM, 0, id, &ack, &err),
                     LH_OK);
    assert_int_equal(ht_append1(db, "ev", "acct", "Moved", "{\"n\": 2}",
                                LH_EXPECT_EXACT, 1, NULL, NULL, &err),
                     LH_OK);
    lh_pipeline_stats st;
    pl_run(db, PL_T0 + 2 * PL_HOUR, &st);
    assert_int_equal(st.events_flushed, 2);
    assert_int_equal(ht_append1(db, "ev", "acct", "Opened", "{\"n\": 1}",
                                LH_EXPECT_NO_STREAM, 0, id, &again, &err),
                     LH_OK);
    assert_true(again.duplicate);
    assert_int_equal(again.position, ack.position);
    assert_int_equal(ht_append1(db, "ev", "acct", "Moved", "{\"n\": 3}",
                                LH_EXPECT_EXACT, 1, NULL, NULL, &err),
                     LH_ECONFLICT);
    assert_int_equal(err.current_version, 2);
    lh_event_ack a3;
    assert_int_equal(ht_append1(db, "ev", "acct", "Moved", "{\"n\": 3}",
                                LH_EXPECT_EXACT, 2, NULL, &a3, &err),
                     LH_OK);
    assert_int_equal(a3.version, 3);
    assert_int_equal(a3.position, 3);
    /* The same after a restart (the floors and ids are in the shard). */
    lh_db_close(db);
    db = ht_open(dir);
    assert_int_equal(ht_append1(db, "ev", "acct", "Moved", "{\"n\": 4}",
                                LH_EXPECT_EXACT, 2, NULL, NULL, &err),
                     LH_ECONFLICT);
    assert_int_equal(ht_append1(db, "ev", "acct", "Opened", "{\"n\": 1}",
                                LH_EXPECT_NO_STREAM, 0, id, &again, &err),
                     LH_OK);
    assert_true(again.duplicate);
    lh_event_ack a4;
    assert_int_equal(ht_append1(db, "ev", "acct", "Moved", "{\"n\": 4}",
                                LH_EXPECT_ANY, 0, NULL, &a4, &err),
                     LH_OK);
    assert_int_equal(a4.position, 4);
    lh_db_close(db);
    ht_rmdir(dir);
    lh_time_set_frozen(0, false);
}

typedef struct appender {
    lh_db *db;
    int64_t first, n;
    lh_rc rc;
} appender;

static void *
append_main(void *arg)
{
    appender *ap = arg;
    for (int64_t i = 0; i < ap->n; i += 50) {
        pl_append(ap->db, "ev", ap->first + i, 50, 40, PL_T0, PL_MIN, NULL);
    }
    return NULL;
}

/* Appends beside flushes: none lost, none twice. */
static void
test_concurrent_appends(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_time_set_frozen(PL_T0 + 1000 * PL_HOUR, true);
    lh_db *db = ht_open(dir);
    ht_create(db, TABLE);
    pl_append(db, "ev", 0, 5000, 40, PL_T0, PL_MIN, NULL);
    appender ap = {db, 5000, 5000, LH_OK};
    pthread_t th;
    pthread_create(&th, NULL, append_main, &ap);
    lh__pipeline_opts o = {.until_idle = true,
                           .flush = {.round_rows = 700, .delete_rows = 150}};
    lh_pipeline_stats st;
    int64_t flushed = 0;
    lh_err err;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(lh__pipeline_run(db, &o, &st, &err), LH_OK);
        flushed += st.events_flushed;
    }
    pthread_join(th, NULL);
    assert_int_equal(lh__pipeline_run(db, &o, &st, &err), LH_OK);
    flushed += st.events_flushed;
    assert_int_equal(flushed, 10000);
    pl_account a;
    pl_account_get(db, "ev", &a);
    pl_assert_exactly_once(&a, 10000, sum_to(10000));
    assert_int_equal(a.hot_rows, 0);
    pl_account_free(&a);
    lh_db_close(db);
    ht_rmdir(dir);
    lh_time_set_frozen(0, false);
}

/* Embeddings go to the lake as their bytes, and the shard's vector index
 * forgets the flushed events. */
static void
test_embeddings(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_time_set_frozen(PL_T0, true);
    lh_db *db = ht_open(dir);
    ht_create(db, "{\"name\": \"ev\", \"columns\": [{\"name\": \"n\", "
                  "\"type\": \"BIGINT\"}], \"hot_window\": \"1h\", "
                  "\"shards\": 1, \"embedding_dim\": 4}");
    enum { N = 40 };
    float vecs[N][4];
    lh_event_in evs[N];
    char ts[N][32], data[N][32];
    for (int i = 0; i < N; i++) {
        for (int d = 0; d < 4; d++) {
            vecs[i][d] = (float)(i * 4 + d) / 7.0f;
        }
        pl_ts_text(PL_T0 - (i < 30 ? 5 : 0) * PL_HOUR, ts[i], 32);
        snprintf(data[i], 32, "{\"n\": %d}", i);
        evs[i] = (lh_event_in){.stream = "v",
                               .type = "Embedded",
                               .ts = ts[i],
                               .data_json = data[i],
                               .embedding = vecs[i],
                               .embedding_len = 4};
    }
    lh_err err;
    assert_int_equal(lh_append(db, "ev", evs, N, NULL, NULL, &err), LH_OK);
    lh_pipeline_stats st;
    pl_run(db, PL_T0, &st);
    assert_int_equal(st.events_flushed, 30);
    lh_table *t;
    assert_int_equal(lh__db_table(db, "ev", &t, &err), LH_OK);
    /* The index returns only the 10 events still in the shard. */
    lh_vec_hit hits[N];
    size_t nh = 0;
    assert_int_equal(
        lh__shard_vsearch(&t->shards[0], vecs[0], N, 64, NULL, hits, &nh, &err),
        LH_OK);
    assert_int_equal(nh, 10);
    for (size_t i = 0; i < nh; i++) {
        assert_true(hits[i].id > 30);
    }
    /* The lake's embedding column: the floats' bytes. */
    lh__lake *l;
    assert_int_equal(lh__lake_open(t, &l, &err), LH_OK);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_plan plan;
    assert_int_equal(lh_ice_plan_scan(l->ice, NULL, &a, &plan, &err), LH_OK);
    assert_int_equal(plan.ntasks, 1);
    int32_t ids[] = {LH__F_POSITION, LH__F_EMBEDDING};
    lh_ice_reader *r;
    assert_int_equal(
        lh_ice_read_open(l->ice, &plan, &plan.tasks[0], ids, 2, &r, &err),
        LH_OK);
    int rows = 0;
    for (;;) {
        lh_batch b;
        assert_int_equal(lh_ice_read_next(r, &b, &err), LH_OK);
        if (b.count == 0) {
            break;
        }
        for (uint32_t k = 0; k < b.count; k++) {
            int64_t pos = ((const int64_t *)b.cols[0].data)[k];
            const lh_str *e = &((const lh_str *)b.cols[1].data)[k];
            assert_int_equal(e->len, 16);
            assert_memory_equal(lh_str_data(e), vecs[pos - 1], 16);
            rows++;
        }
    }
    assert_int_equal(rows, 30);
    lh_ice_read_close(r);
    lh_arena_release(&a);
    lh__lake_close(l);
    lh_db_close(db);
    ht_rmdir(dir);
    lh_time_set_frozen(0, false);
}

static int64_t
count_files(const char *dir, const char *sub)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd),
             "find '%s/lake/ev/data/%s' -name '*.parquet' 2>/dev/null | wc -l",
             dir, sub);
    FILE *f = popen(cmd, "r");
    long n = -1;
    assert_int_equal(fscanf(f, "%ld", &n), 1);
    pclose(f);
    return n;
}

/* Partitions past the warm window move to the cold layout in one replace
 * each; the rest stay warm; snapshot expiry then deletes the replaced
 * files. */
static void
test_compaction(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_time_set_frozen(PL_T0, true);
    lh_db *db = ht_open(dir);
    ht_create(db, "{\"name\": \"ev\", \"columns\": [{\"name\": \"n\", "
                  "\"type\": \"BIGINT\"}], \"hot_window\": \"1h\", "
                  "\"warm_window\": \"3d\", \"shards\": 2, "
                  "\"cold_row_group_rows\": 500, \"snapshot_max_age\": "
                  "\"1h\", \"snapshot_min_count\": 1}");
    /* Five days, one event every 2 minutes: 3600 events. */
    pl_append(db, "ev", 0, 3600, 50, PL_T0, 2 * PL_MIN, NULL);
    lh_pipeline_stats st;
    pl_run(db, PL_T0 + 6 * 24 * PL_HOUR, &st);
    assert_int_equal(st.events_flushed, 3600);
    /* Cutoff T0 + 3d: days 1-3 (ts < T0 + 3d) go cold. */
    assert_int_equal(st.compactions, 3);
    assert_int_equal(st.files_compacted, 3); /* a file a day */
    pl_account a;
    pl_account_get(db, "ev", &a);
    pl_assert_exactly_once(&a, 3600, sum_to(3600));
    assert_int_equal(a.lake_files, 3 + 2);
    pl_account_free(&a);
    lh_tier_stats *ts;
    size_t n;
    lh_err err;
    assert_int_equal(lh_tiers_get(db, "ev", &ts, &n, &err), LH_OK);
    assert_int_equal(ts[1].rows, 1440);
    assert_int_equal(ts[1].files, 2);
    assert_int_equal(ts[2].rows, 2160);
    assert_int_equal(ts[2].files, 3);
    assert_int_equal(ts[2].min_ts, PL_T0);
    assert_int_equal(ts[2].max_ts, PL_T0 + 2159 * 2 * PL_MIN);
    lh_free_mem(ts);
    /* The cold files: large row groups (here 500), sorted by ts. */
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "find '%s/lake/ev/data/cold' -name '*.parquet'",
             dir);
    FILE *f = popen(cmd, "r");
    char path[1024];
    while (fgets(path, sizeof(path), f) != NULL) {
        path[strcspn(path, "\n")] = 0;
        lh_pq_file *pq;
        assert_int_equal(lh_pq_open(path, &pq, &err), LH_OK);
        const lh_pq_file_metadata *m = lh_pq_meta(pq);
        assert_int_equal(m->num_rows, 720);
        assert_int_equal(m->n_row_groups, 2);
        lh_pq_close(pq);
    }
    pclose(f);
    /* The replaced warm files stay until their snapshots expire. */
    assert_int_equal(count_files(dir, "warm"), 2 + 3);
    pl_run(db, PL_T0 + 6 * 24 * PL_HOUR + 2 * PL_HOUR, &st);
    assert_true(st.expired_snapshots > 0);
    assert_int_equal(st.compactions, 0);
    assert_int_equal(count_files(dir, "warm"), 2);
    assert_int_equal(count_files(dir, "cold"), 3);
    pl_account_get(db, "ev", &a);
    pl_assert_exactly_once(&a, 3600, sum_to(3600));
    pl_account_free(&a);
    /* Later still: the rest goes cold too. */
    pl_run(db, PL_T0 + 30 * 24 * PL_HOUR, &st);
    assert_int_equal(st.compactions, 2);
    pl_account_get(db, "ev", &a);
    pl_assert_exactly_once(&a, 3600, sum_to(3600));
    assert_int_equal(a.lake_files, 5);
    pl_account_free(&a);
    lh_db_close(db);
    ht_rmdir(dir);
    lh_time_set_frozen(0, false);
}

/* Reads a stream: its versions in order, and each event's payload n. */
static int
read_versions(lh_db *db, const char *stream, int64_t from, lh_direction dir,
              int64_t limit, int64_t *versions, int64_t *ns, int max)
{
    lh_reader *r;
    lh_err err;
    lh_rc rc = lh_read_stream(db, "ev", stream, from, dir, limit, &r, &err);
    if (rc != LH_OK) {
        fail_msg("read_stream: %s", err.msg);
    }
    int n = 0;
    for (;;) {
        const lh_event *ev;
        assert_int_equal(lh_reader_next(r, &ev, &err), LH_OK);
        if (ev == NULL) {
            break;
        }
        assert_true(n < max);
        assert_string_equal(ev->stream, stream);
        versions[n] = ev->version;
        const char *p = strstr(ev->data_json, "\"n\":");
        assert_non_null(p);
        ns[n] = atoll(p + 4);
        n++;
    }
    lh_reader_close(r);
    return n;
}

/* A stream's events come back from every tier, in version order, with
 * from, backward, limit and truncate-before, before and after flushes and
 * compaction. */
static void
test_stream_reads(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_time_set_frozen(PL_T0, true);
    lh_db *db = ht_open(dir);
    ht_create(db, "{\"name\": \"ev\", \"columns\": [{\"name\": \"n\", "
                  "\"type\": \"BIGINT\"}], \"hot_window\": \"1h\", "
                  "\"warm_window\": \"2d\", \"shards\": 3}");
    /* 300 events, 10 streams, one event every 10 minutes: s3 has 30
     * versions, event i = 3 + 10 * (v - 1). */
    pl_append(db, "ev", 0, 300, 10, PL_T0, 10 * PL_MIN, NULL);
    int64_t v[64], n[64];
    static const lh_us clocks[] = {0, 20 * PL_HOUR, 40 * PL_HOUR,
                                   30 * 24 * PL_HOUR};
    for (size_t c = 0; c < LH_ARRAY_LEN(clocks); c++) {
        if (clocks[c] > 0) {
            lh_pipeline_stats st;
            pl_run(db, PL_T0 + clocks[c], &st);
        }
        int got = read_versions(db, "s3", 0, LH_FORWARD, 0, v, n, 64);
        assert_int_equal(got, 30);
        for (int i = 0; i < got; i++) {
            assert_int_equal(v[i], i + 1);
            assert_int_equal(n[i], 3 + 10 * i);
        }
        got = read_versions(db, "s3", -1, LH_BACKWARD, 5, v, n, 64);
        assert_int_equal(got, 5);
        assert_int_equal(v[0], 30);
        assert_int_equal(v[4], 26);
        got = read_versions(db, "s3", 12, LH_FORWARD, 3, v, n, 64);
        assert_int_equal(got, 3);
        assert_int_equal(v[0], 12);
        assert_int_equal(n[2], 3 + 10 * 13);
    }
    /* Everything is in the lake now, compacted. */
    pl_account a;
    pl_account_get(db, "ev", &a);
    assert_int_equal(a.hot_rows, 0);
    pl_account_free(&a);
    lh_tier_stats *ts;
    size_t nt;
    lh_err err;
    assert_int_equal(lh_tiers_get(db, "ev", &ts, &nt, &err), LH_OK);
    assert_int_equal(ts[2].rows, 300);
    lh_free_mem(ts);
    /* Stream metadata still narrows the versions. */
    lh_stream_meta m = {.truncate_before = 25};
    assert_int_equal(lh_stream_set_meta(db, "ev", "s3", &m, &err), LH_OK);
    int got = read_versions(db, "s3", 0, LH_FORWARD, 0, v, n, 64);
    assert_int_equal(got, 6);
    assert_int_equal(v[0], 25);
    /* A new event continues the stream, read after the lake's. */
    lh_event_ack ack;
    assert_int_equal(ht_append1(db, "ev", "s3", "More", "{\"n\": 9999}",
                                LH_EXPECT_EXACT, 30, NULL, &ack, &err),
                     LH_OK);
    got = read_versions(db, "s3", 0, LH_FORWARD, 0, v, n, 64);
    assert_int_equal(got, 7);
    assert_int_equal(v[6], 31);
    assert_int_equal(n[6], 9999);
    /* A stream that never existed is empty. */
    assert_int_equal(read_versions(db, "nope", 0, LH_FORWARD, 0, v, n, 64), 0);
    lh_db_close(db);
    ht_rmdir(dir);
    lh_time_set_frozen(0, false);
}

/* A flush's deletes grow the shard's WAL like appends do: with no append
 * after them, the flush itself asks for the checkpoint (else the WAL kept
 * every deleted page until the next append). */
static void
test_checkpoint_after_deletes(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_time_set_frozen(PL_T0, true);
    lh_db *db = ht_open(dir);
    ht_create(db, "{\"name\": \"ev\", \"columns\": [{\"name\": \"n\", "
                  "\"type\": \"BIGINT\"}], \"hot_window\": \"1h\", "
                  "\"shards\": 1}");
    pl_append(db, "ev", 0, 20000, 50, PL_T0, PL_MIN / 60, NULL);
    lh_table *t;
    lh_err err;
    assert_int_equal(lh__db_table(db, "ev", &t, &err), LH_OK);
    lh_shard *s = &t->shards[0];
    /* what the appends asked for is done (or never was) */
    uint64_t before = 0;
    for (int i = 0; i < 50; i++) {
        usleep(20000);
        uint64_t c = atomic_load(&s->checkpoints);
        if (c == before && i > 5) {
            break;
        }
        before = c;
    }
    lh_pipeline_stats st;
    pl_run(db, PL_T0 + 100 * PL_HOUR, &st);
    assert_int_equal(st.events_flushed, 20000);
    bool ran = false;
    for (int i = 0; i < 250 && !ran; i++) {
        ran = atomic_load(&s->checkpoints) > before;
        if (!ran) {
            usleep(20000);
        }
    }
    assert_true(ran);
    lh_db_close(db);
    ht_rmdir(dir);
}

typedef struct reclaim_count {
    int reclaims;
} reclaim_count;

static void
count_reclaims(void *ctx, const char *step, int shard)
{
    (void)shard;
    reclaim_count *k = ctx;
    k->reclaims += strcmp(step, "reclaim") == 0;
}
/* PRAGMA name of the shard file at path, on a connection of the test's. */
static int64_t
shard_pragma(const char *path, const char *name)
{
    sqlite3 *c;
    assert_int_equal(sqlite3_open_v2(path, &c, SQLITE_OPEN_READWRITE, NULL),
                     SQLITE_OK);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA %s", name);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(c, sql, -1, &st, NULL), SQLITE_OK);
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_type(st, 0) == SQLITE_TEXT
                ? strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0
                : sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(c);
    return v;
}

/* Flushes every event of dir's table "ev" (one shard) with small reclaim
 * steps, counting them; the shard's pages before and after. */
static void
flush_all_reclaiming(lh_db *db, const char *path, int64_t *before,
                     int64_t *after, int *steps)
{
    *before = shard_pragma(path, "page_count");
    reclaim_count k = {0};
    lh__pipeline_opts o = {.until_idle = true,
                           .flush = {.reclaim_keep_bytes = 64 << 10,
                                     .reclaim_pages = 50,
                                     .on_step = count_reclaims,
                                     .ctx = &k}};
    lh_time_set_frozen(PL_T0 + 100 * PL_HOUR, true);
    lh_pipeline_stats st;
    lh_err err;
    if (lh__pipeline_run(db, &o, &st, &err) != LH_OK) {
        fail_msg("pipeline run: %s", err.msg);
    }
    *after = shard_pragma(path, "page_count");
    *steps = k.reclaims;
}

/* After a flush, a shard gives the space of the deleted rows back to the
 * file system (else its file keeps the size of the most it ever held),
 * keeping a little for the next appends, in small transactions; the
 * events stay exactly where they are, the file stays sound, and a shard
 * made before the pointer map is converted once. */
static void
test_reclaim(void **state)
{
    (void)state;
    for (int legacy = 0; legacy < 2; legacy++) {
        char *dir = ht_tmpdir();
        lh_time_set_frozen(PL_T0, true);
        lh_db *db = ht_open(dir);
        ht_create(db, "{\"name\": \"ev\", \"columns\": [{\"name\": \"n\", "
                      "\"type\": \"BIGINT\"}], \"hot_window\": \"1h\", "
                      "\"shards\": 1}");
        /* The last 500 are not due at the flush: they stay, at the end of
         * the file, and must move. */
        pl_append(db, "ev", 0, 20000, 50, PL_T0, PL_MIN / 60, NULL);
        pl_append(db, "ev", 20000, 500, 50, PL_T0 + 99 * PL_HOUR + 30 * PL_MIN,
                  PL_MIN / 60, NULL);
        char path[4200];
        snprintf(path, sizeof path, "%s/tables/ev/shard-000.db", dir);
        if (legacy) {
            /* as a shard made before: no pointer map */
            lh_db_close(db);
            sqlite3 *c;
            assert_int_equal(sqlite3_open(path, &c), SQLITE_OK);
            assert_int_equal(sqlite3_exec(c, "PRAGMA auto_vacuum=NONE; VACUUM",
                                          NULL, NULL, NULL),
                             SQLITE_OK);
            sqlite3_close(c);
            assert_int_equal(shard_pragma(path, "auto_vacuum"), 0);
            db = ht_open(dir);
        } else {
            assert_int_equal(shard_pragma(path, "auto_vacuum"), 2);
        }
        int64_t before, after;
        int steps;
        flush_all_reclaiming(db, path, &before, &after, &steps);
        int64_t page = shard_pragma(path, "page_size");
        int64_t free_pages = shard_pragma(path, "freelist_count");
        /* given back: all but the 64 KiB kept (or a quarter of what is
         * left; the flushed ids stay, in dedup) */
        assert_true(before > 500);
        assert_true(after < before * 3 / 4);
        assert_true(free_pages <=
                    LH_MAX((after - free_pages) / 4, (64 << 10) / page));
        /* a VACUUM for the old shard, bounded steps for a new one */
        assert_true(legacy ? steps >= 1 : steps >= (before - after) / 50);
        assert_int_equal(shard_pragma(path, "auto_vacuum"), 2);
        assert_int_equal(shard_pragma(path, "integrity_check"), 1);
        /* every event still once, and the shard takes new ones */
        pl_append(db, "ev", 20500, 300, 50, PL_T0 + 99 * PL_HOUR + 50 * PL_MIN,
                  PL_MIN / 60, NULL);
        pl_account a;
        pl_account_get(db, "ev", &a);
        pl_assert_exactly_once(&a, 20800, sum_to(20800));
        assert_int_equal(a.hot_rows, 800);
        pl_account_free(&a);
        lh_db_close(db);
        /* the last checkpoint cut the file */
        struct stat sb;
        assert_int_equal(stat(path, &sb), 0);
        assert_true(sb.st_size < before * page * 3 / 4);
        ht_rmdir(dir);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_age),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_hints),
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_appends_after_flush),
        cmocka_unit_test(test_concurrent_appends),
        cmocka_unit_test(test_embeddings),
        cmocka_unit_test(test_compaction),
        cmocka_unit_test(test_stream_reads),
        cmocka_unit_test(test_checkpoint_after_deletes),
        cmocka_unit_test(test_reclaim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
