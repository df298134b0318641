/*
 * SQL over an event table across tiers, with real processes: `lakehouse
 * sql DIR -c ...` gives the same checksum (count, sum of a payload column,
 * sum of positions, distinct ids) before and after `lakehouse pipeline
 * run` moved the events to the lake, while a child process runs the
 * pipeline day after day (flushes and compactions committing in another
 * process than the queries), and after `pipeline run` processes killed
 * with SIGKILL at random moments. The expected answer is computed from
 * what was appended (the sums) and from the hot tier alone before any
 * flush (the positions).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "it.h"

#define EVENTS 20000
#define DAYS 10

static const char *const schema =
    "{\"name\": \"orders\", \"columns\": [{\"name\": \"n\", \"type\": "
    "\"BIGINT\"}, {\"name\": \"tenant\", \"type\": \"VARCHAR\"}], "
    "\"hot_window\": \"24h\", \"warm_window\": \"3d\", \"shards\": 3, "
    "\"snapshot_min_count\": 1000}";

static const char *const CHECKSUM =
    "SELECT count(*) AS n, sum(n) AS s, sum(position) AS p, count(DISTINCT "
    "event_id) AS ids, count(DISTINCT tenant) AS t FROM orders";

static char *top, *dir, *events_file, *want;

/* EVENTS events over DAYS days from 2026-03-01, as NDJSON. */
static void
write_events(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < EVENTS; i++) {
        int64_t s = (int64_t)i * DAYS * 86400 / EVENTS;
        fprintf(f,
                "{\"stream\": \"o%d\", \"type\": \"OrderPlaced\", \"ts\": "
                "\"2026-03-%02dT%02d:%02d:%02dZ\", \"data\": {\"n\": %d, "
                "\"tenant\": \"t%d\"}}\n",
                i % 997, (int)(1 + s / 86400), (int)(s % 86400 / 3600),
                (int)(s % 3600 / 60), (int)(s % 60), i, i % 13);
    }
    fclose(f);
}

static char *
checksum(const char *what)
{
    it_result r;
    it_run(&r, NULL, NULL, "sql", dir, "-c", CHECKSUM, "--format", "csv", NULL);
    it_expect_code(&r, 0, what);
    char *out = strdup(r.out);
    it_result_release(&r);
    return out;
}

static void
expect_checksum(const char *what)
{
    char *got = checksum(what);
    if (strcmp(got, want) != 0) {
        fail_msg("%s:\n%s\nwant:\n%s", what, got, want);
    }
    free(got);
}

static void
fresh_db(void)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s.schema.json'", dir, dir);
    assert_int_equal(system(cmd), 0);
    const char *schemas[] = {schema, NULL};
    it_make_db(dir, schemas);
    const char *env[] = {"LH_NOW=2026-03-01T00:00:00Z", NULL};
    it_result r;
    it_run(&r, NULL, env, "append", dir, "orders", events_file, "--batch",
           "2000", NULL);
    it_expect_code(&r, 0, "append");
    it_result_release(&r);
}

static int
group_setup(void **state)
{
    (void)state;
    top = it_tmpdir();
    dir = it_path(top, "data");
    events_file = it_path(top, "events.ndjson");
    write_events(events_file);
    fresh_db();
    /* the answer with nothing moved: the sums are what was appended */
    want = checksum("the checksum before any flush");
    char sums[128];
    snprintf(sums, sizeof sums, "n,s,p,ids,t\n%d,%lld,", EVENTS,
             (long long)EVENTS * (EVENTS - 1) / 2);
    if (strncmp(want, sums, strlen(sums)) != 0 ||
        strcmp(want + strlen(want) - 10, ",20000,13\n") != 0) {
        fail_msg("before any flush:\n%s", want);
    }
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    free(want);
    free(dir);
    free(events_file);
    it_rmrf(top);
    return 0;
}

/* The child: `pipeline run` once a simulated day, from 03-02 to 03-20
 * (flushes of a day's events each, then compactions past 3 days). */
static int
pipeline_days(void *arg, int out_fd)
{
    (void)arg;
    for (int day = 2; day <= 20; day++) {
        char now[64];
        snprintf(now, sizeof now, "LH_NOW=2026-03-%02dT00:00:00Z", day);
        const char *env[] = {now, NULL};
        /* A query that found the directory free holds its writer lock
         * (lakehouse sql opens read-only only when another process has
         * it): then try again. */
        int code = 1;
        for (int tries = 0; code != 0 && tries < 200; tries++) {
            it_result r;
            it_run(&r, NULL, env, "pipeline", "run", dir, "--until-idle", NULL);
            code = r.code;
            bool busy = strstr(r.err, "is in use by process") != NULL;
            if (code != 0 && !busy) {
                dprintf(out_fd, "pipeline run: %s\n", r.err);
                tries = 200;
            }
            it_result_release(&r);
            if (code != 0 && busy) {
                struct timespec ts = {0, 10 * 1000000L};
                nanosleep(&ts, NULL);
            }
        }
        if (code != 0) {
            return 1;
        }
    }
    return 0;
}

static void
test_during_pipeline(void **state)
{
    (void)state;
    fresh_db();
    expect_checksum("after a fresh append");
    it_proc p;
    it_fork(&p, pipeline_days, NULL);
    int queries = 0;
    /* queries until the child is done (its pipe at end of file) */
    while (it_proc_pump(&p, 0)) {
        char what[64];
        snprintf(what, sizeof what, "query %d during the pipeline", queries);
        expect_checksum(what);
        queries++;
    }
    int code = it_proc_wait(&p, 120000);
    if (code != 0) {
        fail_msg("the pipeline child failed (%d): %s", code,
                 p.out.data ? p.out.data : "");
    }
    it_proc_release(&p);
    printf("# %d queries during the pipeline runs\n", queries);
    assert_true(queries >= 1);
    expect_checksum("after the pipeline");
    /* everything is in the lake now, and read from there */
    it_result r;
    it_run(&r, NULL, NULL, "tiers", dir, "orders", "--format", "json", NULL);
    it_expect_code(&r, 0, "tiers");
    json_error_t je;
    json_t *j = json_loads(r.out, 0, &je);
    it_result_release(&r);
    assert_non_null(j);
    json_int_t rows[3];
    for (size_t i = 0; i < 3; i++) { /* hot, warm, cold */
        rows[i] =
            json_integer_value(json_object_get(json_array_get(j, i), "rows"));
    }
    json_decref(j);
    assert_int_equal(rows[0], 0);
    assert_int_equal(rows[1] + rows[2], EVENTS);
}

/* `pipeline run` killed at random moments: after each kill, the same
 * answer; then after the run that finishes. */
static void
test_kill(void **state)
{
    (void)state;
    fresh_db();
    srand((unsigned)time(NULL));
    const char *env[] = {"LH_NOW=2026-04-01T00:00:00Z", NULL};
    int kills = 0;
    for (int i = 0; i < 8; i++) {
        it_proc p;
        it_spawn(&p, env, "pipeline", "run", dir, "--until-idle", NULL);
        struct timespec ts = {0, (long)(rand() % 500) * 1000000L};
        nanosleep(&ts, NULL);
        it_proc_kill(&p, SIGKILL);
        int code = it_proc_wait(&p, 30000);
        kills += code == 128 + SIGKILL;
        it_proc_release(&p);
        expect_checksum("after a killed pipeline run");
    }
    it_result r;
    it_run(&r, NULL, env, "pipeline", "run", dir, "--until-idle", NULL);
    it_expect_code(&r, 0, "pipeline run after the kills");
    it_result_release(&r);
    expect_checksum("after the last pipeline run");
    printf("# %d of 8 pipeline runs killed\n", kills);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_during_pipeline),
        cmocka_unit_test(test_kill),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
