/*
 * DROP TABLE (lh_table_drop): a table with events in the shards and the
 * lake is gone from every tier and from disk, its name takes a table of
 * another shape that sees none of the old events (also in the lake,
 * where a new Iceberg table must not adopt the old one); a drop killed
 * (SIGKILL, a real child) after each of its steps leaves the table whole
 * or gone, and DROP TABLE again finishes it; the background pipeline
 * stops the dropped table's jobs and starts the new one's.
 */
#include "pl_test.h"

#include <dirent.h>
#include <sys/stat.h>

#define WAIT_MS 20000

static const lh_us NOW = PL_T0 + 100 * PL_HOUR;

static const char *const DEF_N =
    "{\"name\": \"ev\", \"columns\": [{\"name\": \"n\", \"type\": "
    "\"BIGINT\"}], \"hot_window\": \"1h\", \"shards\": 2}";
/* the name again, another shape */
static const char *const DEF_M =
    "{\"name\": \"ev\", \"columns\": [{\"name\": \"m\", \"type\": "
    "\"VARCHAR\"}], \"hot_window\": \"1h\", \"shards\": 3}";

static bool
exists(const char *dir, const char *rel)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    struct stat st;
    return stat(path, &st) == 0;
}

/* Entries of dir/rel whose name starts with prefix. */
static int
count_prefixed(const char *dir, const char *rel, const char *prefix)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    }
    if (d != NULL) {
        closedir(d);
    }
    return n;
}

/* Rows of table "ev" in the hot tier and in the lake (warm + cold). */
static lh_rc
count_tiers(lh_db *db, int64_t *hot, int64_t *lake, lh_err *err)
{
    lh_tier_stats *ts;
    size_t n;
    lh_rc rc = lh_tiers_get(db, "ev", &ts, &n, err);
    if (rc == LH_OK) {
        *hot = ts[0].rows;
        *lake = ts[1].rows + ts[2].rows;
        lh_free_mem(ts);
    }
    return rc;
}

static void
tier_rows(lh_db *db, int64_t *hot, int64_t *lake)
{
    lh_err err;
    if (count_tiers(db, hot, lake, &err) != LH_OK) {
        fail_msg("tiers: %s", err.msg);
    }
}

/* Appends n events of the re-created table (DEF_M) on stream "t", a
 * minute apart from t0, each with payload json. */
static void
append_new(lh_db *db, int n, lh_us t0, const char *json)
{
    lh_event_in evs[32];
    char ts[32][32];
    assert_true(n <= 32);
    for (int i = 0; i < n; i++) {
        pl_ts_text(t0 + i * PL_MIN, ts[i], sizeof ts[i]);
        evs[i] = (lh_event_in){
            .stream = "t", .type = "New", .ts = ts[i], .data_json = json};
    }
    lh_err err;
    assert_int_equal(lh_append(db, "ev", evs, (size_t)n, NULL, NULL, &err),
                     LH_OK);
}

/* A table "ev" with 400 events: 300 flushed to the lake, 100 hot. */
static lh_db *
fill(const char *dir)
{
    lh_db *db = ht_open(dir);
    ht_create(db, DEF_N);
    pl_append(db, "ev", 0, 300, 11, NOW - 10 * PL_HOUR, PL_MIN, NULL);
    lh_pipeline_stats st;
    pl_run(db, NOW, &st);
    pl_append(db, "ev", 300, 100, 11, NOW - 100 * PL_MIN, 0, NULL);
    int64_t hot, lake;
    tier_rows(db, &hot, &lake);
    assert_int_equal(hot, 100);
    assert_int_equal(lake, 300);
    assert_true(exists(dir, "lake/ev/metadata"));
    return db;
}

/* After a finished drop: nothing of "ev" on disk, and a new "ev" of
 * another shape holds exactly its own events, in the lake too. */
static void
assert_gone_then_new(lh_db *db, const char *dir)
{
    lh_err err;
    char *desc = NULL;
    assert_int_equal(lh_table_describe(db, "ev", &desc, &err), LH_ENOENT);
    assert_int_equal(
        lh_append(db, "ev",
                  &(lh_event_in){.stream = "s", .type = "T", .data_json = "{}"},
                  1, NULL, NULL, &err),
        LH_ENOENT);
    assert_false(exists(dir, "tables/ev"));
    assert_false(exists(dir, "lake/ev"));
    assert_int_equal(count_prefixed(dir, "tables", ".ev."), 0);
    assert_int_equal(count_prefixed(dir, "lake", ".ev."), 0);
    ht_create(db, DEF_M);
    append_new(db, 20, NOW - 5 * PL_HOUR, "{\"m\": \"x\"}");
    lh_pipeline_stats st;
    pl_run(db, NOW, &st);
    int64_t hot, lake;
    tier_rows(db, &hot, &lake);
    assert_int_equal(hot, 0);
    assert_int_equal(lake, 20);
}

static void
test_drop_every_tier(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_time_set_frozen(NOW, true);
    lh_db *db = fill(dir);
    lh_err err;
    assert_int_equal(lh_table_drop(db, "EV", &err), LH_OK); /* folded */
    char **names;
    size_t n;
    assert_int_equal(lh_table_list(db, &names, &n, &err), LH_OK);
    assert_int_equal(n, 0);
    lh_free_strings(names, n);
    assert_int_equal(lh_table_drop(db, "ev", &err), LH_ENOENT);
    assert_non_null(strstr(err.msg, "does not exist"));
    assert_gone_then_new(db, dir);
    /* reopened: the new table, alone */
    lh_db_close(db);
    db = ht_open(dir);
    int64_t hot, lake;
    tier_rows(db, &hot, &lake);
    assert_int_equal(hot + lake, 20);
    /* a read-only handle cannot drop */
    lh_db_close(db);
    lh_db_options ro = {.flags = LH_OPEN_READONLY};
    assert_int_equal(lh_db_open(dir, &ro, &db, &err), LH_OK);
    assert_int_equal(lh_table_drop(db, "ev", &err), LH_EREADONLY);
    lh_db_close(db);
    ht_rmdir(dir);
    lh_time_set_frozen(0, false);
}

static int kill_at;

static void
on_drop_step(int step)
{
    if (step == kill_at) {
        raise(SIGKILL);
    }
}

static void
test_drop_killed_after_each_step(void **state)
{
    (void)state;
    for (int step = 1; step <= 3; step++) {
        char *dir = ht_tmpdir();
        lh_time_set_frozen(NOW, true);
        lh_db *db = fill(dir);
        lh_db_close(db);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            lh_err err;
            if (lh_db_open(dir, NULL, &db, &err) != LH_OK) {
                _exit(2);
            }
            kill_at = step;
            lh__drop_step_hook = on_drop_step;
            lh_table_drop(db, "ev", &err);
            _exit(3); /* not reached: killed at `step` */
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
        db = ht_open(dir);
        lh_err err;
        char *desc = NULL;
        /* committed at step 1: gone from the catalog at once */
        assert_int_equal(lh_table_describe(db, "ev", &desc, &err), LH_ENOENT);
        if (step < 3) {
            /* the lake may still be there: the name stays reserved,
             * saying how to finish */
            lh_rc rc = lh_table_create(db, DEF_M, strlen(DEF_M), &err);
            assert_int_equal(rc, LH_EEXIST);
            assert_non_null(strstr(err.msg, "is being dropped"));
            assert_int_equal(lh_table_drop(db, "ev", &err), LH_OK);
        }
        /* step 3: the directory was moved aside, and the open swept it */
        assert_gone_then_new(db, dir);
        lh_db_close(db);
        ht_rmdir(dir);
    }
    lh_time_set_frozen(0, false);
}

static bool
wait_lake(lh_db *db, int64_t rows)
{
    for (int i = 0; i < WAIT_MS / 20; i++) {
        lh_err err;
        int64_t hot, lake;
        if (count_tiers(db, &hot, &lake, &err) == LH_OK && lake == rows) {
            return true;
        }
        struct timespec pause = {0, 20 * 1000000L};
        nanosleep(&pause, NULL);
    }
    return false;
}

static void
test_drop_under_background_pipeline(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_time_set_frozen(NOW, true);
    lh_db *db = ht_open(dir);
    ht_create(db, DEF_N);
    lh_pipeline *p;
    lh_err err;
    assert_int_equal(lh_pipeline_start(db, &p, &err), LH_OK);
    pl_append(db, "ev", 0, 200, 7, NOW - 10 * PL_HOUR, PL_MIN, NULL);
    assert_true(wait_lake(db, 200));
    /* more due events, so a flush may be running as the drop comes */
    pl_append(db, "ev", 200, 200, 7, NOW - 5 * PL_HOUR, PL_MIN, NULL);
    assert_int_equal(lh_table_drop(db, "ev", &err), LH_OK);
    assert_false(exists(dir, "lake/ev"));
    ht_create(db, DEF_M);
    append_new(db, 30, NOW - 3 * PL_HOUR, "{\"m\": \"y\"}");
    /* the watch (every 5 s of the product's clock, frozen here) gives the
     * new table jobs of its own: its events, and only they, reach the
     * lake */
    lh_time_set_frozen(NOW + 6 * LH_US_PER_SEC, true);
    assert_true(wait_lake(db, 30));
    lh_pipeline_stop(p);
    int64_t hot, lake;
    tier_rows(db, &hot, &lake);
    assert_int_equal(hot, 0);
    assert_int_equal(lake, 30);
    lh_db_close(db);
    ht_rmdir(dir);
    lh_time_set_frozen(0, false);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop_every_tier),
        cmocka_unit_test(test_drop_killed_after_each_step),
        cmocka_unit_test(test_drop_under_background_pipeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
