/*
 * A pipeline run killed (SIGKILL, a real child process) after every one
 * of its steps in turn: for the flush, after each data file is stored,
 * after the Iceberg commit, after each delete transaction and each step
 * giving the deleted rows' space back (incremental vacuum); for the
 * compaction that follows in the same run (the events are past the warm
 * window), after each cold file and after each replace commit. Each time, the
 * directory reopens with every event in exactly one tier (rows the shard still
 * holds at or below the lake's mark count as the lake's), and the next run
 * finishes the interrupted flush: the shard keeps nothing at or below the mark,
 * the lake holds every event once, and the snapshot count says no round
 * was committed twice.
 */
#include "pl_test.h"

#define EVENTS 1200

typedef struct killer {
    int target; /* kill at this step (1-based) */
    int count;
} killer;

static void
on_step(void *ctx, const char *step, int shard)
{
    (void)step;
    (void)shard;
    killer *k = ctx;
    if (++k->count == k->target) {
        raise(SIGKILL);
    }
}

static const lh_us NOW = PL_T0 + 100 * PL_HOUR;

static lh__pipeline_opts
opts(killer *k)
{
    lh__pipeline_opts o = {.until_idle = true,
                           .flush = {.round_rows = 250,
                                     .delete_rows = 100,
                                     /* small steps giving the deleted
                                      * rows' space back: killed too */
                                     .reclaim_keep_bytes = 4096,
                                     .reclaim_pages = 4,
                                     .on_step = on_step,
                                     .ctx = k}};
    return o;
}

static char *
fresh(void)
{
    char *dir = ht_tmpdir();
    lh_db *db = ht_open(dir);
    ht_create(db, "{\"name\": \"ev\", \"columns\": [{\"name\": \"n\", "
                  "\"type\": \"BIGINT\"}], \"hot_window\": \"1h\", "
                  "\"warm_window\": \"1d\", \"shards\": 2}");
    /* One event every 2 minutes: 40 hours, two day partitions. */
    pl_append(db, "ev", 0, EVENTS, 37, PL_T0, 2 * PL_MIN, NULL);
    lh_db_close(db);
    return dir;
}

/* Runs the pipeline in a child killed at step `target`; true when it was
 * killed, false when it finished first. */
static bool
run_child(const char *dir, int target)
{
    killer k = {target, 0};
    lh__pipeline_opts o = opts(&k);
    return pl_run_child(dir, NOW, &o);
}

static void
test_kill_after_every_step(void **state)
{
    (void)state;
    lh_time_set_frozen(NOW, true);
    /* The uninterrupted run: its commits and steps. */
    char *dir = fresh();
    assert_false(run_child(dir, -1));
    lh_db *db = ht_open(dir);
    pl_account a;
    pl_account_get(db, "ev", &a);
    pl_assert_exactly_once(&a, EVENTS, (int64_t)EVENTS * (EVENTS - 1) / 2);
    int64_t clean_snapshots = a.snapshots;
    assert_int_equal(a.hot_rows, 0);
    assert_int_equal(a.lake_files, 2); /* compacted: one per day */
    pl_account_free(&a);
    lh_db_close(db);
    ht_rmdir(dir);
    int kills = 0;
    for (int target = 1;; target++) {
        dir = fresh();
        bool killed = run_child(dir, target);
        db = ht_open(dir);
        /* Right after the kill: every event in exactly one tier. */
        pl_account_get(db, "ev", &a);
        pl_assert_exactly_once(&a, EVENTS, (int64_t)EVENTS * (EVENTS - 1) / 2);
        pl_account_free(&a);
        /* The next run finishes the job. */
        killer none = {-1, 0};
        lh__pipeline_opts o = opts(&none);
        lh_pipeline_stats st;
        lh_err err;
        lh_rc rc = lh__pipeline_run(db, &o, &st, &err);
        if (rc != LH_OK) {
            fail_msg("run after the kill at step %d: %s", target, err.msg);
        }
        assert_true(st.idle);
        pl_account_get(db, "ev", &a);
        pl_assert_exactly_once(&a, EVENTS, (int64_t)EVENTS * (EVENTS - 1) / 2);
        assert_int_equal(a.hot_rows, 0);
        assert_int_equal(a.hot_below_mark, 0);
        /* Rounds are cut the same way after a restart: no extra commit. */
        assert_int_equal(a.snapshots, clean_snapshots);
        assert_int_equal(a.lake_files, 2);
        pl_account_free(&a);
        lh_db_close(db);
        ht_rmdir(dir);
        if (!killed) {
            break;
        }
        kills++;
    }
    printf("killed the pipeline after each of its %d steps\n", kills);
    assert_true(kills >= 20);
    lh_time_set_frozen(0, false);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_after_every_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
