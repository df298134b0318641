/*
 * The tier router (src/router/): SQL over an event table reads the hot
 * shards and the table's lake as one table. Checked against an
 * independent account (the positions each shard handed out, the sums of
 * the payload appended) and against the answers before any event left
 * the shards:
 *   - the same rows, every column, before and after flushes and a
 *     compaction moved them (SMALLINT, JSON and FLOAT[n] columns, which
 *     the lake holds as int, string and binary, included);
 *   - one consistent cut: a checksum query in a loop while another thread
 *     flushes (small rounds, small delete transactions, so many queries
 *     fall between a commit and its deletes) and compacts, every answer
 *     the one with nothing running; again with a cache of parsed lake
 *     objects (format/iceberg/cache.c) that evicts all the time;
 *   - pruning: a shard whose min and max ts miss the query's range is not
 *     read (a back-dated event widens its range); lake files by the range;
 *   - columns found in the lake by field id (a lake whose schema renamed
 *     a column still feeds it; one that dropped a field gives NULL).
 */
#include <pthread.h>
#include <sched.h>

#include "../pipeline/pl_test.h"
#include "../sql/sql_test.h"

#define DAY (24 * PL_HOUR)

static const char *const TABLE =
    "{\"name\": \"ev\", \"columns\": [{\"name\": \"n\", \"type\": "
    "\"BIGINT\"}, {\"name\": \"q\", \"type\": \"SMALLINT\"}, {\"name\": "
    "\"j\", \"type\": \"JSON\"}], \"embedding_dim\": 3, \"hot_window\": "
    "\"1h\", \"warm_window\": \"2d\", \"shards\": 4, "
    "\"warm_row_group_rows\": 100, \"snapshot_min_count\": 100000}";

/* Events first..first+n-1: stream "s<i % 50>", ts = t0 + i * step,
 * payload n = i, q = i % 7, j = {"a": i}, embedding [i, 1, -i]. */
static void
append_events(lh_db *db, int64_t first, int64_t n, lh_us t0, lh_us step)
{
    enum { CALL = 500 };
    lh_event_in *evs = calloc(CALL, sizeof(*evs));
    char(*bufs)[3][96] = calloc(CALL, sizeof(*bufs));
    float(*emb)[3] = calloc(CALL, sizeof(*emb));
    for (int64_t done = 0; done < n;) {
        int64_t k = n - done < CALL ? n - done : CALL;
        for (int64_t j = 0; j < k; j++) {
            int64_t i = first + done + j;
            snprintf(bufs[j][0], 96, "s%lld", (long long)(i % 50));
            pl_ts_text(t0 + i * step, bufs[j][1], 96);
            snprintf(bufs[j][2], 96,
                     "{\"n\": %lld, \"q\": %d, \"j\": {\"a\": %lld}}",
                     (long long)i, (int)(i % 7), (long long)i);
            emb[j][0] = (float)i;
            emb[j][1] = 1;
            emb[j][2] = -(float)i;
            evs[j] = (lh_event_in){.stream = bufs[j][0],
                                   .type = "Numbered",
                                   .ts = bufs[j][1],
                                   .data_json = bufs[j][2],
                                   .embedding = emb[j],
                                   .embedding_len = 3};
        }
        lh_err err;
        lh_rc rc = lh_append(db, "ev", evs, (size_t)k, NULL, NULL, &err);
        if (rc != LH_OK) {
            fail_msg("append: %s", err.msg);
        }
        done += k;
    }
    free(emb);
    free(bufs);
    free(evs);
}

static lh_session *
session(lh_db *db, int threads)
{
    lh_session_options o = {.threads = threads};
    lh_session *s;
    lh_err err;
    assert_int_equal(lh_session_open(db, &o, &s, &err), LH_OK);
    return s;
}

static const char *const CHECKSUM =
    "SELECT count(*) AS n, sum(n) AS sn, sum(position) AS sp, sum(q) AS sq, "
    "count(j) AS nj, sum(shard) AS ss, count(embedding) AS ne FROM ev";

/* What CHECKSUM must say about events 0..n-1, from the shards' own
 * positions (each shard hands out 1..last) and the payload appended. */
static char *
expected_checksum(lh_db *db, int64_t n)
{
    lh_table *t;
    lh_err err;
    assert_int_equal(lh__db_table(db, "ev", &t, &err), LH_OK);
    int64_t sp = 0, ss = 0, sq = 0, total = 0;
    for (int i = 0; i < t->nshards; i++) {
        int64_t last = t->shards[i].last_position;
        sp += last * (last + 1) / 2;
        ss += (int64_t)i * last;
        total += last;
    }
    assert_int_equal(total, n);
    for (int64_t i = 0; i < n; i++) {
        sq += i % 7;
    }
    char *out = malloc(256);
    snprintf(out, 256,
             "n,sn,sp,sq,nj,ss,ne\n%lld,%lld,%lld,%lld,%lld,%lld,%lld\n",
             (long long)n, (long long)(n * (n - 1) / 2), (long long)sp,
             (long long)sq, (long long)n, (long long)ss, (long long)n);
    return out;
}

static void
run_pipeline(lh_db *db, lh_us now, lh_pipeline_stats *st)
{
    lh_time_set_frozen(now, true);
    lh_err err;
    lh_rc rc = lh_pipeline_run(db, true, st, &err);
    if (rc != LH_OK) {
        fail_msg("pipeline run: %s", err.msg);
    }
}

static const char *const ROWS =
    "SELECT shard, position, stream, version, type, ts, committed_at, "
    "event_id, partition_key, n, q, j, embedding FROM ev ORDER BY shard, "
    "position";

/* The same rows, every column, wherever the events are. */
static void
test_across_tiers(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_time_set_frozen(PL_T0 + 100 * PL_HOUR, true);
    lh_db *db = ht_open(dir);
    ht_create(db, TABLE);
    /* 3000 events, one a minute from T0: 50 hours */
    append_events(db, 0, 3000, PL_T0, PL_MIN);
    lh_session *s = session(db, 2);
    char *want = expected_checksum(db, 3000);
    sqlt_expect_csv(s, CHECKSUM, want);
    lh_err err;
    char *rows = sqlt_run(s, ROWS, NULL, &err);
    const char *range = "SELECT count(*) AS n, sum(n) AS s FROM ev WHERE ts "
                        ">= TIMESTAMP '2026-01-01 05:00:00' AND ts < "
                        "TIMESTAMP '2026-01-01 06:00:00'";
    /* events 300..359 */
    const char *range_want = "n,s\n60,19770\n";
    sqlt_expect_csv(s, range, range_want);
    /* flushes at 10 h, 30 h and 60 h, then the compaction of the days
     * past the warm window */
    lh_us at[] = {PL_T0 + 10 * PL_HOUR, PL_T0 + 30 * PL_HOUR,
                  PL_T0 + 60 * PL_HOUR, PL_T0 + 10 * DAY};
    for (size_t k = 0; k < LH_ARRAY_LEN(at); k++) {
        lh_pipeline_stats st;
        run_pipeline(db, at[k], &st);
        pl_account a;
        pl_account_get(db, "ev", &a);
        pl_assert_exactly_once(&a, 3000, 3000 * 2999 / 2);
        if (k < 2) { /* both tiers hold events */
            assert_true(a.lake_rows > 0 && a.hot_rows > 0);
        } else {
            assert_int_equal(a.hot_rows, 0);
        }
        pl_account_free(&a);
        if (k == 3) {
            assert_true(st.compactions > 0);
        }
        sqlt_expect_csv(s, CHECKSUM, want);
        sqlt_expect_csv(s, range, range_want);
        char *now = sqlt_run(s, ROWS, NULL, &err);
        if (strcmp(now, rows) != 0) {
            fail_msg("the rows changed after the pipeline run at step %zu", k);
        }
        free(now);
    }
    /* New events go to the hot tier beside the lake's. */
    append_events(db, 3000, 100, PL_T0 + 100 * PL_HOUR, PL_MIN);
    free(want);
    want = expected_checksum(db, 3100);
    sqlt_expect_csv(s, CHECKSUM, want);
    free(want);
    free(rows);
    lh_session_close(s);
    lh_db_close(db);
    lh_time_set_frozen(0, false);
    ht_rmdir(dir);
}

typedef struct mover {
    lh_db *db;
    _Atomic bool done;
    _Atomic int queries; /* done by the test's loop */
    int64_t commits, compacted;
    lh_rc rc;
    lh_err err;
} mover;

/* Ages the events an hour at a time and flushes them in small rounds
 * with small delete transactions, compacting the days past the window. */
static void *
mover_main(void *arg)
{
    mover *m = arg;
    lh__pipeline_opts o = {.until_idle = true,
                           .flush = {.round_rows = 256, .delete_rows = 16}};
    for (int h = 1; h <= 120 && m->rc == LH_OK; h++) {
        /* a query between any two runs, whatever the machine's speed */
        while (atomic_load(&m->queries) < h) {
            sched_yield();
        }
        lh_time_set_frozen(PL_T0 + h * PL_HOUR, true);
        lh_pipeline_stats st;
        m->rc = lh__pipeline_run(m->db, &o, &st, &m->err);
        m->commits += st.flushes;
        m->compacted += st.compactions;
    }
    atomic_store(&m->done, true);
    return NULL;
}

static void
consistent_cut(void)
{
    char *dir = ht_tmpdir();
    lh_time_set_frozen(PL_T0, true);
    lh_db *db = ht_open(dir);
    ht_create(db, TABLE);
    /* 12000 events over 100 hours */
    append_events(db, 0, 12000, PL_T0, PL_MIN / 2);
    char *want = expected_checksum(db, 12000);
    lh_session *s1 = session(db, 1), *s2 = session(db, 2);
    sqlt_expect_csv(s1, CHECKSUM, want);
    mover m = {.db = db};
    atomic_store(&m.done, false);
    atomic_store(&m.queries, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, mover_main, &m), 0);
    int queries = 0;
    /* one stream: events 7, 57, 107, ... (its lookups skip the lake until
     * its first events leave the shard) */
    const char *one = "SELECT count(*) AS n, sum(n) AS s FROM ev WHERE "
                      "stream = 's7'";
    char one_want[64];
    snprintf(one_want, sizeof one_want, "n,s\n240,%d\n",
             240 * 7 + 50 * 240 * 239 / 2);
    while (!atomic_load(&m.done)) {
        /* a serial and a parallel scan, in turn */
        lh_session *s = queries % 2 ? s2 : s1;
        lh_err err;
        char *got = sqlt_run(s, CHECKSUM, NULL, &err);
        if (strcmp(got, want) != 0) {
            fail_msg("query %d during the flushes:\n%s\nwant:\n%s", queries,
                     got, want);
        }
        free(got);
        sqlt_expect_csv(s, one, one_want);
        queries++;
        atomic_store(&m.queries, queries);
    }
    pthread_join(th, NULL);
    if (m.rc != LH_OK) {
        fail_msg("pipeline: %s", m.err.msg);
    }
    /* the loop overlapped many commits, and a compaction */
    assert_true(m.commits >= 40);
    assert_true(m.compacted > 0);
    assert_true(queries >= 120);
    sqlt_expect_csv(s1, CHECKSUM, want);
    pl_account a;
    pl_account_get(db, "ev", &a);
    assert_int_equal(a.hot_rows, 12000 - a.lake_rows);
    assert_true(a.lake_rows > 6000);
    pl_account_free(&a);
    free(want);
    lh_session_close(s1);
    lh_session_close(s2);
    lh_db_close(db);
    lh_time_set_frozen(0, false);
    ht_rmdir(dir);
}

static void
test_consistent_cut(void **state)
{
    (void)state;
    consistent_cut();
}

/* The same with a cache of parsed lake objects that holds almost nothing:
 * entries evicted while parallel scans of the same cut use them. */
static void
test_consistent_cut_tiny_cache(void **state)
{
    (void)state;
    size_t budget = lh_ice_cache_budget();
    lh_ice_cache_set_budget(16384);
    consistent_cut();
    lh_ice_cache_stats st;
    lh_ice_cache_stats_get(&st);
    assert_true(st.evictions > 0);
    lh_ice_cache_set_budget(budget);
}

/* The scan's line of EXPLAIN ANALYZE contains `what`. */
static void
expect_explain(lh_session *s, const char *sql, const char *what)
{
    char q[1024];
    snprintf(q, sizeof q, "EXPLAIN ANALYZE %s", sql);
    lh_err err;
    char *o = sqlt_run(s, q, NULL, &err);
    if (strstr(o, what) == NULL) {
        fail_msg("%s: no \"%s\" in\n%s", sql, what, o);
    }
    free(o);
}

static void
test_prune(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_time_set_frozen(PL_T0 + 100 * PL_HOUR, true);
    lh_db *db = ht_open(dir);
    ht_create(db, TABLE);
    /* 200 events on 2026-01-02 (50 streams: every shard) */
    append_events(db, 0, 200, PL_T0 + DAY, PL_MIN);
    lh_session *s = session(db, 1);
    const char *day0 = "SELECT count(*) AS n FROM ev WHERE ts < TIMESTAMP "
                       "'2026-01-02 00:00:00'";
    sqlt_expect_csv(s, day0, "n\n0\n");
    expect_explain(s, day0, "shards=4 shards_pruned=4");
    /* a back-dated event widens its shard's range */
    lh_err err;
    free(sqlt_run(s,
                  "INSERT INTO ev (n, stream, ts) VALUES (1001, 'late', "
                  "TIMESTAMP '2026-01-01 12:00:00')",
                  NULL, &err));
    sqlt_expect_csv(s, day0, "n\n1\n");
    expect_explain(s, day0, "shards=4 shards_pruned=3");
    /* a range after every event */
    const char *later = "SELECT count(*) AS n FROM ev WHERE ts > TIMESTAMP "
                        "'2026-02-01 00:00:00'";
    expect_explain(s, later, "shards=4 shards_pruned=4");
    /* the lake: one file per day partition, pruned by the range */
    lh_pipeline_stats st;
    run_pipeline(db, PL_T0 + 10 * DAY, &st);
    assert_int_equal(st.events_flushed, 201);
    sqlt_expect_csv(s, day0, "n\n1\n");
    expect_explain(s, day0, "files=1 ");
    expect_explain(s, "SELECT count(*) FROM ev", "files=2 ");
    sqlt_expect_csv(s, "SELECT count(*) AS n, sum(n) AS s FROM ev",
                    "n,s\n201,20901\n");
    lh_session_close(s);
    lh_db_close(db);
    lh_time_set_frozen(0, false);
    ht_rmdir(dir);
}

/* Lake columns are found by field id: a renamed field keeps feeding its
 * column, a dropped one reads as NULL. */
static void
test_field_ids(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_time_set_frozen(PL_T0 + 100 * PL_HOUR, true);
    lh_db *db = ht_open(dir);
    ht_create(db, TABLE);
    append_events(db, 0, 100, PL_T0, PL_MIN);
    lh_pipeline_stats st;
    run_pipeline(db, PL_T0 + 10 * DAY, &st);
    assert_int_equal(st.events_flushed, 100);
    lh_table *t;
    lh_err err;
    assert_int_equal(lh__db_table(db, "ev", &t, &err), LH_OK);
    lh__lake *l;
    assert_int_equal(lh__lake_open(t, &l, &err), LH_OK);
    assert_non_null(l->ice);
    lh_ice_schema sc;
    lh_arena a;
    lh_arena_init(&a, 0);
    const lh_ice_schema *cur =
        lh_ice_meta_current_schema(lh_ice_table_meta(l->ice));
    sc = *cur;
    sc.type.fields =
        lh_arena_calloc(&a, cur->type.nfields * sizeof(lh_ice_field));
    sc.type.nfields = 0;
    for (uint32_t i = 0; i < cur->type.nfields; i++) {
        lh_ice_field f = cur->type.fields[i];
        if (f.id == 101) { /* q: dropped */
            continue;
        }
        if (f.id == 100) { /* n: renamed */
            f.name = "n_renamed";
        }
        sc.type.fields[sc.type.nfields++] = f;
    }
    lh_rc rc = lh_ice_update_schema(l->ice, &sc, &err);
    if (rc != LH_OK) {
        fail_msg("update schema: %s", err.msg);
    }
    lh__lake_close(l);
    lh_arena_release(&a);
    lh_session *s = session(db, 1);
    sqlt_expect_csv(s,
                    "SELECT count(*) AS c, sum(n) AS s, count(q) AS q FROM ev",
                    "c,s,q\n100,4950,0\n");
    /* hot rows keep theirs */
    append_events(db, 100, 10, PL_T0 + 100 * PL_HOUR, PL_MIN);
    sqlt_expect_csv(s,
                    "SELECT count(*) AS c, sum(n) AS s, count(q) AS q FROM ev",
                    "c,s,q\n110,5995,10\n");
    lh_session_close(s);
    lh_db_close(db);
    lh_time_set_frozen(0, false);
    ht_rmdir(dir);
}

/* The EXPLAIN line of a query (without ANALYZE), malloc'd. */
static char *
explain(lh_session *s, const char *sql)
{
    char q[1024];
    snprintf(q, sizeof q, "EXPLAIN %s", sql);
    lh_err err;
    return sqlt_run(s, q, NULL, &err);
}

static void
expect_in(const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL) {
        fail_msg("no \"%s\" in\n%s", needle, hay);
    }
}

/* EXPLAIN names the tiers, the lake snapshot and what was pruned. */
static void
test_explain(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_time_set_frozen(PL_T0 + 100 * PL_HOUR, true);
    lh_db *db = ht_open(dir);
    ht_create(db, TABLE);
    /* 400 events over 400 minutes of 2026-01-01 */
    append_events(db, 0, 400, PL_T0, PL_MIN);
    lh_session *s = session(db, 1);
    char *o = explain(s, "SELECT count(*) FROM ev");
    expect_in(o, "tiers: hot; hot: 4 of 4 shards; lake: no snapshot");
    free(o);
    o = explain(s, "SELECT count(*) FROM ev WHERE stream = 's7'");
    expect_in(o, "hot: 1 of 4 shards, 3 pruned (0 by ts bounds); lake: not "
                 "read (the streams never left the hot tier)");
    free(o);
    /* two flushes (two commits, two manifests), then a day's events to
     * the hot tier */
    lh_pipeline_stats st;
    run_pipeline(db, PL_T0 + 4 * PL_HOUR, &st);
    run_pipeline(db, PL_T0 + 30 * PL_HOUR, &st);
    append_events(db, 400, 100, PL_T0 + 2 * DAY - 400 * PL_MIN, PL_MIN);
    lh_table *t;
    lh_err err;
    assert_int_equal(lh__db_table(db, "ev", &t, &err), LH_OK);
    lh__lake *l;
    assert_int_equal(lh__lake_open(t, &l, &err), LH_OK);
    const lh_ice_snapshot *snap =
        lh_ice_meta_current_snapshot(lh_ice_table_meta(l->ice));
    char want[160];
    snprintf(want, sizeof want, "; lake: snapshot %lld, 2 files, 0 pruned, ",
             (long long)snap->snapshot_id);
    lh__lake_close(l);
    o = explain(s, "SELECT count(*) FROM ev");
    expect_in(o, "tiers: hot + lake; hot: 4 of 4 shards");
    expect_in(o, want);
    free(o);
    /* s7's first events left: its lookups read the lake too */
    o = explain(s, "SELECT count(*) FROM ev WHERE stream = 's7'");
    expect_in(o, "tiers: hot + lake; hot: 1 of 4 shards, 3 pruned");
    expect_in(o, "2 manifests, 0 pruned");
    free(o);
    /* 2026-01-01 only: the shards (all events of 01-03) are pruned by
     * their bounds */
    const char *day1 = "SELECT count(*) FROM ev WHERE ts < TIMESTAMP "
                       "'2026-01-02 00:00:00'";
    o = explain(s, day1);
    expect_in(o, "tiers: lake; hot: 0 of 4 shards, 4 pruned (4 by ts "
                 "bounds)");
    free(o);
    sqlt_expect_csv(s, day1, "count\n400\n");
    /* a range before every partition opens no manifest */
    o = explain(s, "SELECT count(*) FROM ev WHERE ts < TIMESTAMP "
                   "'2025-06-01 00:00:00'");
    expect_in(o, "tiers: none; hot: 0 of 4 shards, 4 pruned (4 by ts "
                 "bounds)");
    expect_in(o, "0 files, 0 pruned, 2 manifests, 2 pruned");
    free(o);
    lh_session_close(s);
    lh_db_close(db);
    lh_time_set_frozen(0, false);
    ht_rmdir(dir);
}

/* FOR SYSTEM_TIME AS OF: the events committed by then, wherever they are
 * now. */
static void
test_time_travel(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_db *db = ht_open(dir);
    ht_create(db, TABLE);
    /* 300 events committed at T0 + 50 h, 200 more at T0 + 60 h */
    lh_time_set_frozen(PL_T0 + 50 * PL_HOUR, true);
    append_events(db, 0, 300, PL_T0, PL_MIN);
    lh_time_set_frozen(PL_T0 + 60 * PL_HOUR, true);
    append_events(db, 300, 200, PL_T0, PL_MIN);
    lh_session *s = session(db, 2);
    const char *q[] = {
        "SELECT count(*) AS n, sum(n) AS s FROM ev FOR SYSTEM_TIME AS OF "
        "TIMESTAMP '2026-01-03 00:00:00'",
        "SELECT count(*) AS n, sum(n) AS s FROM ev FOR SYSTEM_TIME AS OF "
        "TIMESTAMP '2026-01-03 05:00:00'",
        "SELECT count(*) AS n, sum(n) AS s FROM ev FOR SYSTEM_TIME AS OF "
        "TIMESTAMP '2026-01-03 12:00:00'",
    };
    const char *want[] = {"n,s\n0,\n", "n,s\n300,44850\n", "n,s\n500,124750\n"};
    /* the hot tier alone, half the events in the lake, all of them */
    lh_us at[] = {0, PL_T0 + 5 * PL_HOUR, PL_T0 + 10 * DAY};
    for (size_t k = 0; k < LH_ARRAY_LEN(at); k++) {
        if (at[k] != 0) {
            lh_pipeline_stats st;
            run_pipeline(db, at[k], &st);
            assert_true(st.events_flushed > 0);
        }
        for (size_t i = 0; i < LH_ARRAY_LEN(q); i++) {
            sqlt_expect_csv(s, q[i], want[i]);
        }
    }
    char *o = explain(s, q[1]);
    expect_in(o, "; as of 2026-01-03T05:00:00Z (committed_at)");
    free(o);
    lh_rc rc;
    lh_err err;
    free(sqlt_run(s, "SELECT count(*) FROM ev FOR VERSION AS OF 1", &rc, &err));
    assert_int_equal(rc, LH_EUNSUPPORTED);
    expect_in(err.msg, "FOR SYSTEM_TIME AS OF");
    lh_session_close(s);
    lh_db_close(db);
    lh_time_set_frozen(0, false);
    ht_rmdir(dir);
}

/* What the TTL hides at clock now of events 0..n-1 (even ones with a
 * 3 h TTL, ts = T0 + i min): "c,s\n<count>,<sum>\n". */
static void
ttl_expect(int n, lh_us now, char *buf, size_t len)
{
    int64_t c = 0, sum = 0;
    for (int i = 0; i < n; i++) {
        if (i % 2 == 0 && PL_T0 + i * PL_MIN + 3 * PL_HOUR <= now) {
            continue;
        }
        c++;
        sum += i;
    }
    snprintf(buf, len, "c,s\n%lld,%lld\n", (long long)c, (long long)sum);
}

/* An event whose TTL ran out is invisible in every tier at once: in the
 * shards (their SQL) and in the lake's files, before retention removes
 * it. */
static void
test_ttl(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_time_set_frozen(PL_T0 + 2 * PL_HOUR, true);
    lh_db *db = ht_open(dir);
    ht_create(db, TABLE);
    enum { N = 100 };
    lh_event_in evs[N];
    char bufs[N][3][64];
    for (int i = 0; i < N; i++) {
        snprintf(bufs[i][0], 64, "s%d", i % 9);
        pl_ts_text(PL_T0 + i * PL_MIN, bufs[i][1], 64);
        snprintf(bufs[i][2], 64, "{\"n\": %d}", i);
        evs[i] = (lh_event_in){.stream = bufs[i][0],
                               .type = "T",
                               .ts = bufs[i][1],
                               .data_json = bufs[i][2],
                               .ttl_seconds = i % 2 ? 0 : 3 * 3600};
    }
    lh_err err;
    assert_int_equal(lh_append(db, "ev", evs, N, NULL, NULL, &err), LH_OK);
    /* the first hour's events go to the lake, none expired yet */
    lh_pipeline_stats st;
    run_pipeline(db, PL_T0 + 2 * PL_HOUR, &st);
    assert_int_equal(st.events_flushed, 60);
    lh_session *s = session(db, 2);
    const char *q = "SELECT count(*) AS c, sum(n) AS s FROM ev";
    char want[64];
    lh_us at[] = {PL_T0 + 2 * PL_HOUR, PL_T0 + 3 * PL_HOUR + 30 * PL_MIN,
                  PL_T0 + 4 * PL_HOUR + 30 * PL_MIN};
    for (size_t k = 0; k < LH_ARRAY_LEN(at); k++) {
        lh_time_set_frozen(at[k], true);
        ttl_expect(N, at[k], want, sizeof want);
        sqlt_expect_csv(s, q, want);
    }
    /* 16 expired in the lake, then 46 in both tiers */
    assert_string_equal(want, "c,s\n54,2880\n");
    /* after retention took them out of the files and shards: the same */
    run_pipeline(db, at[2], &st);
    sqlt_expect_csv(s, q, want);
    lh_session_close(s);
    lh_db_close(db);
    lh_time_set_frozen(0, false);
    ht_rmdir(dir);
}

/* What the prepared statement st prints as CSV with stream bound to $1. */
static char *
run_prepared(lh_stmt *st, const char *stream)
{
    lh_err err;
    lh_cell v = {.kind = LH_CELL_TEXT};
    v.u.s.p = stream;
    v.u.s.len = strlen(stream);
    assert_int_equal(lh_stmt_bind(st, 1, &v, &err), LH_OK);
    lh_result *r;
    if (lh_stmt_execute(st, &r, &err) != LH_OK) {
        fail_msg("execute: %s", err.msg);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(lh_result_write(r, "csv", f, &err), LH_OK);
    fclose(f);
    lh_result_free(r);
    return buf;
}

/* One prepared point lookup, executed again as its stream's events move
 * to the lake and more arrive: each answer is that of the events
 * appended so far (the shards' readers keep their statements prepared
 * across these executions, exec/hot_src.c). */
static void
test_prepared_across_flush(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_time_set_frozen(PL_T0 + 100 * PL_HOUR, true);
    lh_db *db = ht_open(dir);
    ht_create(db, TABLE);
    lh_session *s = session(db, 2);
    lh_stmt *st;
    lh_err err;
    const char *sql = "SELECT count(*) AS c, sum(n) AS s, max(version) AS v "
                      "FROM ev WHERE stream = $1";
    assert_int_equal(lh_stmt_prepare(s, sql, 0, NULL, &st, &err), LH_OK);
    int64_t appended = 0;
    for (int round = 0; round < 2; round++) {
        /* 500 events a round, one a minute; then the older ones leave */
        append_events(db, appended, 500, PL_T0, PL_MIN);
        appended += 500;
        for (int pass = 0; pass < 2; pass++) {
            for (int k = 0; k < 50; k += 12) {
                char stream[16], want[96];
                snprintf(stream, sizeof stream, "s%d", k);
                int64_t c = 0, sum = 0;
                for (int64_t i = k; i < appended; i += 50) {
                    c++;
                    sum += i;
                }
                snprintf(want, sizeof want, "c,s,v\n%lld,%lld,%lld\n",
                         (long long)c, (long long)sum, (long long)c);
                char *got = run_prepared(st, stream);
                if (strcmp(got, want) != 0) {
                    fail_msg("round %d, pass %d, %s: got\n%s want\n%s", round,
                             pass, stream, got, want);
                }
                free(got);
            }
            if (pass == 0) {
                lh_pipeline_stats ps;
                run_pipeline(db, PL_T0 + 100 * PL_HOUR, &ps);
                assert_true(ps.events_flushed > 0);
            }
        }
    }
    lh_stmt_free(st);
    lh_session_close(s);
    lh_db_close(db);
    lh_time_set_frozen(0, false);
    ht_rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_across_tiers),
        cmocka_unit_test(test_consistent_cut),
        cmocka_unit_test(test_consistent_cut_tiny_cache),
        cmocka_unit_test(test_prune),
        cmocka_unit_test(test_field_ids),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_time_travel),
        cmocka_unit_test(test_ttl),
        cmocka_unit_test(test_prepared_across_flush),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
