/*
 * The router's lake reads through the Iceberg module's cache of parsed
 * metadata and manifests (iceberg_int.h, "cache.c"), with SQL:
 *   - DROP TABLE, then a table of another shape under the same name (its
 *     lake writes v1.metadata.json... at the same location again): the
 *     queries see only the new table's events, in every tier;
 *   - commits by another process (a child appends and flushes while the
 *     test's read-only handle keeps its session): each next query sees
 *     them, and the lake's rows through iceberg_scan too. A stale parse
 *     would pair old marks with shards whose rows the flush deleted, and
 *     lose events.
 * Concurrent queries during flushes, with a budget that evicts all the
 * time, are test_router.c's consistent-cut loop.
 */
#include "../pipeline/pl_test.h"
#include "../sql/sql_test.h"

static const lh_us NOW = PL_T0 + 100 * PL_HOUR;

static const char *const DEF_N =
    "{\"name\": \"ev\", \"columns\": [{\"name\": \"n\", \"type\": "
    "\"BIGINT\"}], \"hot_window\": \"1h\", \"shards\": 2}";
static const char *const DEF_M =
    "{\"name\": \"ev\", \"columns\": [{\"name\": \"m\", \"type\": "
    "\"VARCHAR\"}, {\"name\": \"k\", \"type\": \"INT\"}], \"hot_window\": "
    "\"1h\", \"shards\": 3}";

static lh_session *
session(lh_db *db)
{
    lh_session_options o = {.threads = 2};
    lh_session *s;
    lh_err err;
    assert_int_equal(lh_session_open(db, &o, &s, &err), LH_OK);
    return s;
}

static void
expect(lh_session *s, const char *sql, const char *want)
{
    sqlt_expect_csv(s, sql, want);
    sqlt_expect_csv(s, sql, want); /* the second time from the cache */
}

/* A database in a new directory (*dir) with DEF_N's table: events
 * 0..n-1 in `streams` streams, a minute apart from NOW - hours, all
 * flushed (they are past the hot window). */
static lh_db *
flushed_table(char **dir, int64_t n, int streams, int hours)
{
    lh_ice_cache_set_budget((size_t)64 << 20);
    *dir = ht_tmpdir();
    lh_time_set_frozen(NOW, true);
    lh_db *db = ht_open(*dir);
    ht_create(db, DEF_N);
    pl_append(db, "ev", 0, n, streams, NOW - hours * PL_HOUR, PL_MIN, NULL);
    lh_pipeline_stats st;
    pl_run(db, NOW, &st);
    assert_int_equal(st.events_flushed, n);
    return db;
}

static void
test_drop_and_make_again(void **state)
{
    (void)state;
    char *dir;
    lh_db *db = flushed_table(&dir, 300, 11, 10);
    lh_pipeline_stats st;
    lh_session *s = session(db);
    expect(s, "SELECT count(*), sum(n) FROM ev", "count,sum\n300,44850\n");
    lh_ice_cache_stats before;
    lh_ice_cache_stats_get(&before);
    assert_true(before.hits > 0);
    lh_session_close(s);

    lh_err err;
    assert_int_equal(lh_table_drop(db, "ev", &err), LH_OK);
    ht_create(db, DEF_M);
    lh_event_in evs[20];
    char ts[20][32], js[20][48];
    for (int i = 0; i < 20; i++) {
        pl_ts_text(NOW - 5 * PL_HOUR + i * PL_MIN, ts[i], sizeof ts[i]);
        snprintf(js[i], sizeof js[i], "{\"m\": \"x%d\", \"k\": %d}", i, i);
        evs[i] = (lh_event_in){
            .stream = "t", .type = "New", .ts = ts[i], .data_json = js[i]};
    }
    assert_int_equal(lh_append(db, "ev", evs, 12, NULL, NULL, &err), LH_OK);
    pl_run(db, NOW, &st);
    assert_int_equal(st.events_flushed, 12);
    assert_int_equal(lh_append(db, "ev", evs + 12, 8, NULL, NULL, &err), LH_OK);
    s = session(db);
    /* 12 in the new lake, 8 hot; none of the old 300 */
    expect(s, "SELECT count(*), sum(k), min(m), max(version) FROM ev",
           "count,sum,min,max\n20,190,x0,20\n");
    expect(s,
           "SELECT count(*) FROM ev WHERE ts < TIMESTAMP '2026-01-04 "
           "23:12:00'",
           "count\n12\n");
    lh_tier_stats *tiers;
    size_t nt;
    assert_int_equal(lh_tiers_get(db, "ev", &tiers, &nt, &err), LH_OK);
    assert_int_equal(tiers[0].rows, 8);
    assert_int_equal(tiers[1].rows + tiers[2].rows, 12);
    lh_free_mem(tiers);
    /* the old column is gone with the old table */
    lh_rc rc;
    free(sqlt_run(s, "SELECT n FROM ev", &rc, &err));
    assert_int_not_equal(rc, LH_OK);
    lh_session_close(s);
    lh_db_close(db);
    ht_rmdir(dir);
    lh_time_set_frozen(0, false);
}

/* A child process: opens dir (the writer), appends events
 * first..first+n-1 of DEF_N's table back in time and flushes them all. */
static void
child_append_and_flush(const char *dir, int64_t first, int64_t n)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        lh_time_set_frozen(NOW, true);
        lh_db *db;
        lh_err err;
        if (lh_db_open(dir, NULL, &db, &err) != LH_OK) {
            fprintf(stderr, "child open: %s\n", err.msg);
            _exit(2);
        }
        pl_append(db, "ev", first, n, 7, NOW - 20 * PL_HOUR + first * PL_MIN,
                  PL_MIN, NULL);
        lh_pipeline_stats st;
        if (lh_pipeline_run(db, true, &st, &err) != LH_OK) {
            fprintf(stderr, "child run: %s\n", err.msg);
            _exit(3);
        }
        lh_db_close(db);
        _exit(st.events_flushed > 0 ? 0 : 4);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_commits_of_another_process(void **state)
{
    (void)state;
    char *dir;
    lh_db *db = flushed_table(&dir, 200, 7, 20);
    pl_append(db, "ev", 200, 100, 7, NOW - 20 * PL_HOUR + 200 * PL_MIN, PL_MIN,
              NULL);
    lh_db_close(db);

    lh_db_options ro = {.flags = LH_OPEN_READONLY};
    lh_err err;
    assert_int_equal(lh_db_open(dir, &ro, &db, &err), LH_OK);
    lh_session *s = session(db);
    char lake_sql[4400], want[128];
    snprintf(lake_sql, sizeof lake_sql,
             "SELECT count(*), sum(n) FROM iceberg_scan('%s/lake/ev')", dir);
    expect(s, "SELECT count(*), sum(n) FROM ev", "count,sum\n300,44850\n");
    expect(s, lake_sql, "count,sum\n200,19900\n");
    for (int64_t round = 1, total = 300; round <= 3; round++) {
        /* the hot events flushed and 100 more, by the child */
        child_append_and_flush(dir, total, 100);
        total += 100;
        snprintf(want, sizeof want, "count,sum\n%lld,%lld\n", (long long)total,
                 (long long)(total * (total - 1) / 2));
        expect(s, "SELECT count(*), sum(n) FROM ev", want);
        expect(s, lake_sql, want);
        expect(s, "SELECT count(*) FROM ev WHERE stream = 's3'",
               round == 1   ? "count\n57\n"
               : round == 2 ? "count\n71\n"
                            : "count\n86\n");
    }
    lh_session_close(s);
    lh_db_close(db);
    ht_rmdir(dir);
    lh_time_set_frozen(0, false);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop_and_make_again),
        cmocka_unit_test(test_commits_of_another_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
