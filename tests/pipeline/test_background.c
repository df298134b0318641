/*
 * The pipeline in the background (lh_pipeline_start): each shard's alarm
 * runs the flush when due by the product's clock, stores its next look in
 * the shard, and after a restart waits for that stored time, not for
 * "now": the timers survive restarts.
 */
#include "pl_test.h"

#define WAIT_MS 15000

static int64_t
warm_rows(lh_db *db)
{
    lh_tier_stats *ts;
    size_t n;
    lh_err err;
    assert_int_equal(lh_tiers_get(db, "ev", &ts, &n, &err), LH_OK);
    int64_t rows = ts[1].rows;
    lh_free_mem(ts);
    return rows;
}

static bool
wait_warm(lh_db *db, int64_t rows)
{
    for (int i = 0; i < WAIT_MS / 20; i++) {
        if (warm_rows(db) == rows) {
            return true;
        }
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return false;
}

static lh_us
stored_due(const char *dir, int shard)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/tables/ev/shard-%03d.db", dir, shard);
    sqlite3 *c;
    assert_int_equal(sqlite3_open_v2(path, &c, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(c, "SELECT value FROM meta WHERE key='flush_due'",
                           -1, &st, NULL),
        SQLITE_OK);
    lh_us due =
        sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    sqlite3_close(c);
    return due;
}

static void
test_alarms_survive_restarts(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_time_set_frozen(PL_T0, true);
    lh_db *db = ht_open(dir);
    ht_create(db, "{\"name\": \"ev\", \"columns\": [{\"name\": \"n\", "
                  "\"type\": \"BIGINT\"}], \"hot_window\": \"1h\", "
                  "\"flush_interval\": \"10m\", \"shards\": 2}");
    pl_append(db, "ev", 0, 100, 7, PL_T0 - 2 * PL_HOUR, 0, NULL);
    lh_pipeline *p;
    lh_err err;
    assert_int_equal(lh_pipeline_start(db, &p, &err), LH_OK);
    /* Due at once (never ran): flushed by the scheduler's thread. */
    assert_true(wait_warm(db, 100));
    /* Both shards' alarms ran (the second finds its shard flushed). */
    for (int i = 0; i < WAIT_MS / 20 && stored_due(dir, 1) == 0; i++) {
        struct timespec pause = {0, 20 * 1000000L};
        nanosleep(&pause, NULL);
    }
    lh_pipeline_stop(p);
    assert_int_equal(stored_due(dir, 0), PL_T0 + 10 * PL_MIN);
    assert_int_equal(stored_due(dir, 1), PL_T0 + 10 * PL_MIN);
    /* More due events, then a restart. */
    pl_append(db, "ev", 100, 50, 7, PL_T0 - 2 * PL_HOUR, 0, NULL);
    lh_db_close(db);
    db = ht_open(dir);
    assert_int_equal(lh_pipeline_start(db, &p, &err), LH_OK);
    /* The alarms wait for their stored time: past the scheduler's one
     * second look at the clock, nothing moved. */
    struct timespec ts = {1, 500 * 1000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(warm_rows(db), 100);
    lh_time_set_frozen(PL_T0 + 11 * PL_MIN, true);
    assert_true(wait_warm(db, 150));
    for (int i = 0;
         i < WAIT_MS / 20 && stored_due(dir, 0) < PL_T0 + 21 * PL_MIN; i++) {
        struct timespec pause = {0, 20 * 1000000L};
        nanosleep(&pause, NULL);
    }
    lh_pipeline_stop(p);
    assert_int_equal(stored_due(dir, 0), PL_T0 + 21 * PL_MIN);
    pl_account a;
    pl_account_get(db, "ev", &a);
    pl_assert_exactly_once(&a, 150, 150 * 149 / 2);
    pl_account_free(&a);
    /* A read-only handle cannot run it. */
    lh_db_close(db);
    lh_db_options ro = {.flags = LH_OPEN_READONLY};
    assert_int_equal(lh_db_open(dir, &ro, &db, &err), LH_OK);
    assert_int_equal(lh_pipeline_start(db, &p, &err), LH_EREADONLY);
    lh_db_close(db);
    ht_rmdir(dir);
    lh_time_set_frozen(0, false);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alarms_survive_restarts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
