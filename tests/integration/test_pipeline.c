/*
 * The tiering commands as independent checks run them:
 *   lakehouse pipeline run DIR [--until-idle]
 *   lakehouse tiers DIR [TABLE] [--format json|table]
 * with LH_NOW driving the windows: the JSON contract (one array, an object
 * per table and tier, every tier present even when empty, the seven keys,
 * timestamps in TIMESTAMP text form or null), the rows of hot and warm
 * adding up to what was appended, DuckDB reading the warm Parquet files
 * and finding every event once, and `pipeline run` processes killed with
 * SIGKILL at random moments, each followed by the contract's counts.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "it.h"

#define EVENTS 20000
#define DAYS 10

static const char *const schema =
    "{\"name\": \"orders\", \"columns\": [{\"name\": \"n\", \"type\": "
    "\"BIGINT\"}, {\"name\": \"tenant\", \"type\": \"VARCHAR\"}], "
    "\"hot_window\": \"48h\", \"shards\": 3, \"cluster_by\": [\"tenant\"]}";
static const char *const schema_empty =
    "{\"name\": \"empty\", \"columns\": [{\"name\": \"x\", \"type\": "
    "\"INT\"}]}";

static char *top, *dir, *events_file;

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

static int
group_setup(void **state)
{
    (void)state;
    top = it_tmpdir();
    dir = it_path(top, "data");
    events_file = it_path(top, "events.ndjson");
    write_events(events_file);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    free(dir);
    free(events_file);
    it_rmrf(top);
    return 0;
}

static void
fresh_db(void)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s.schema.json'", dir, dir);
    assert_int_equal(system(cmd), 0);
    const char *schemas[] = {schema, schema_empty, NULL};
    it_make_db(dir, schemas);
    const char *env[] = {"LH_NOW=2026-03-12T00:00:00Z", NULL};
    it_result r;
    it_run(&r, NULL, env, "append", dir, "orders", events_file, "--batch",
           "2000", NULL);
    it_expect_code(&r, 0, "append");
    it_result_release(&r);
}

/* `tiers --format json`, checked against the contract; returns it. */
static json_t *
tiers_json(const char *table, size_t expect_objects)
{
    it_result r;
    if (table != NULL) {
        it_run(&r, NULL, NULL, "tiers", dir, table, "--format", "json", NULL);
    } else {
        it_run(&r, NULL, NULL, "tiers", dir, "--format", "json", NULL);
    }
    it_expect_code(&r, 0, "tiers");
    json_error_t je;
    json_t *j = json_loads(r.out, 0, &je);
    if (j == NULL || !json_is_array(j)) {
        fail_msg("tiers printed no JSON array: %s", r.out);
    }
    it_result_release(&r);
    assert_int_equal(json_array_size(j), expect_objects);
    static const char *const tiers[] = {"hot", "warm", "cold"};
    for (size_t i = 0; i < json_array_size(j); i++) {
        json_t *o = json_array_get(j, i);
        assert_int_equal(json_object_size(o), 7);
        assert_string_equal(json_string_value(json_object_get(o, "tier")),
                            tiers[i % 3]);
        assert_true(json_is_string(json_object_get(o, "table")));
        json_int_t rows = json_integer_value(json_object_get(o, "rows"));
        assert_true(json_is_integer(json_object_get(o, "files")));
        assert_true(json_is_integer(json_object_get(o, "bytes")));
        json_t *lo = json_object_get(o, "min_ts"),
               *hi = json_object_get(o, "max_ts");
        if (rows == 0) {
            assert_true(json_is_null(lo) && json_is_null(hi));
        } else {
            /* "YYYY-MM-DD HH:MM:SS[.ffffff]" */
            const char *s = json_string_value(lo);
            assert_non_null(s);
            assert_true(strlen(s) >= 19 && s[10] == ' ' && s[4] == '-');
            assert_non_null(json_string_value(hi));
            assert_true(strcmp(s, json_string_value(hi)) <= 0);
        }
    }
    return j;
}

static json_int_t
rows_of(json_t *j, const char *table, const char *tier)
{
    for (size_t i = 0; i < json_array_size(j); i++) {
        json_t *o = json_array_get(j, i);
        if (strcmp(json_string_value(json_object_get(o, "table")), table) ==
                0 &&
            strcmp(json_string_value(json_object_get(o, "tier")), tier) == 0) {
            return json_integer_value(json_object_get(o, "rows"));
        }
    }
    fail_msg("no %s/%s in tiers", table, tier);
    return -1;
}

static void
test_contract(void **state)
{
    (void)state;
    fresh_db();
    json_t *j = tiers_json(NULL, 6);
    assert_int_equal(rows_of(j, "orders", "hot"), EVENTS);
    assert_int_equal(rows_of(j, "orders", "warm"), 0);
    assert_int_equal(rows_of(j, "empty", "hot"), 0);
    json_decref(j);
    /* At 2026-03-07 the events before 03-05 are past the 48 h window. */
    const char *env[] = {"LH_NOW=2026-03-07T00:00:00Z", NULL};
    it_result r;
    it_run(&r, NULL, env, "pipeline", "run", dir, NULL);
    it_expect_code(&r, 0, "pipeline run");
    it_expect_contains(r.out, "idle", "pipeline run");
    it_result_release(&r);
    j = tiers_json("orders", 3);
    json_int_t hot = rows_of(j, "orders", "hot"),
               warm = rows_of(j, "orders", "warm");
    assert_int_equal(hot + warm, EVENTS);
    assert_int_equal(warm, EVENTS * 4 / DAYS);
    json_t *w = json_array_get(j, 1);
    assert_string_equal(json_string_value(json_object_get(w, "min_ts")),
                        "2026-03-01 00:00:00");
    assert_true(strcmp(json_string_value(json_object_get(w, "max_ts")),
                       "2026-03-05 00:00:00") < 0);
    assert_int_equal(json_integer_value(json_object_get(w, "files")), 4);
    assert_true(json_is_null(json_object_get(json_array_get(j, 2), "min_ts")));
    json_decref(j);
    /* Later, until idle: everything leaves. */
    const char *later[] = {"LH_NOW=2026-04-01T00:00:00Z", NULL};
    it_run(&r, NULL, later, "pipeline", "run", dir, "--until-idle", NULL);
    it_expect_code(&r, 0, "pipeline run --until-idle");
    it_result_release(&r);
    j = tiers_json(NULL, 6);
    assert_int_equal(rows_of(j, "orders", "hot"), 0);
    assert_int_equal(rows_of(j, "orders", "warm"), EVENTS);
    json_decref(j);
    /* A stream read returns its events from the lake, in version order:
     * o5 holds events 5, 1002, 1999, ... */
    it_run(&r, NULL, NULL, "read", dir, "orders", "--stream", "o5", NULL);
    it_expect_code(&r, 0, "read --stream after the flush");
    json_t *evs = it_ndjson(r.out, "read --stream");
    assert_int_equal(json_array_size(evs), (EVENTS - 5 + 996) / 997);
    for (size_t i = 0; i < json_array_size(evs); i++) {
        json_t *e = json_array_get(evs, i);
        assert_int_equal(json_integer_value(json_object_get(e, "version")),
                         (json_int_t)i + 1);
        assert_int_equal(json_integer_value(
                             json_object_get(json_object_get(e, "data"), "n")),
                         5 + 997 * (json_int_t)i);
    }
    json_decref(evs);
    it_result_release(&r);
    /* The table form: aligned, with the row count. */
    it_run(&r, NULL, NULL, "tiers", dir, "--format", "table", NULL);
    it_expect_code(&r, 0, "tiers --format table");
    it_expect_contains(r.out, "(6 rows)", "tiers --format table");
    it_expect_contains(r.out, "min_ts", "tiers --format table");
    it_result_release(&r);
    /* Bad input: exit 2; a missing table: 1 with its name. */
    it_run(&r, NULL, NULL, "tiers", dir, "--format", "xml", NULL);
    it_expect_code(&r, 2, "tiers --format xml");
    it_result_release(&r);
    it_run(&r, NULL, NULL, "tiers", dir, "nope", NULL);
    assert_true(r.code != 0);
    it_expect_contains(r.err, "nope", "tiers of a missing table");
    it_result_release(&r);
}

/* The repo root, from this file's path. */
static void
repo_root(char *buf, size_t n)
{
    snprintf(buf, n, "%s", __FILE__);
    char *p = strstr(buf, "/tests/integration/");
    if (p != NULL) {
        *p = 0;
    }
}

/* DuckDB reads every warm file: each event once, the payload sums. */
static void
test_duckdb_reads_the_files(void **state)
{
    (void)state;
    char root[4096], peers[4200], probe[4300];
    repo_root(root, sizeof(root));
    const char *pd = getenv("LH_PEERS_DIR");
    snprintf(peers, sizeof(peers), "%s", pd ? pd : "");
    if (pd == NULL) {
        snprintf(peers, sizeof(peers), "%s/.npm-peers", root);
    }
    snprintf(probe, sizeof(probe), "%s/node_modules/@duckdb/node-api", peers);
    struct stat st;
    if (stat(probe, &st) != 0 || system("node --version >/dev/null 2>&1")) {
        printf("skipped: node or the test peers are missing (run "
               "scripts/peers.sh)\n");
        skip();
    }
    /* test_contract left everything in the warm tier. */
    char cmd[16384];
    snprintf(cmd, sizeof(cmd),
             "LH_PEERS_DIR='%s' node '%s/tests/peers/duck.mjs' sql \"SELECT "
             "count(*) AS c, count(DISTINCT event_id) AS d, sum(n) AS s, "
             "count(DISTINCT shard::VARCHAR || ':' || position::VARCHAR) AS p "
             "FROM read_parquet('%s/lake/orders/data/warm/*/*.parquet')\"",
             peers, root, dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[4096] = "";
    char *got = fgets(line, sizeof(line), p);
    int rc = pclose(p);
    if (got == NULL || rc != 0) {
        fail_msg("duckdb failed: %s", line);
    }
    char want[256];
    snprintf(want, sizeof(want), "{\"c\":%d,\"d\":%d,\"s\":%lld,\"p\":%d}",
             EVENTS, EVENTS, (long long)EVENTS * (EVENTS - 1) / 2, EVENTS);
    line[strcspn(line, "\n")] = 0;
    /* duck.mjs prints integers as JSON numbers; spaces may differ */
    char compact[4096];
    size_t k = 0;
    for (const char *c = line; *c && k + 1 < sizeof(compact); c++) {
        if (*c != ' ') {
            compact[k++] = *c;
        }
    }
    compact[k] = 0;
    assert_string_equal(compact, want);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* `pipeline run` killed at random moments: the counts always add up, and
 * the run after the last kill finishes. */
static void
test_kill(void **state)
{
    (void)state;
    fresh_db();
    srand((unsigned)time(NULL));
    const char *env[] = {"LH_NOW=2026-04-01T00:00:00Z", NULL};
    int kills = 0;
    for (int i = 0; i < 12; i++) {
        it_proc p;
        it_spawn(&p, env, "pipeline", "run", dir, "--until-idle", NULL);
        struct timespec ts = {0, (long)(rand() % 400) * 1000000L};
        nanosleep(&ts, NULL);
        it_proc_kill(&p, SIGKILL);
        int code = it_proc_wait(&p, 30000);
        kills += code == 128 + SIGKILL;
        it_proc_release(&p);
        json_t *j = tiers_json("orders", 3);
        assert_int_equal(
            rows_of(j, "orders", "hot") + rows_of(j, "orders", "warm"), EVENTS);
        json_decref(j);
    }
    it_result r;
    it_run(&r, NULL, env, "pipeline", "run", dir, "--until-idle", NULL);
    it_expect_code(&r, 0, "pipeline run after the kills");
    it_result_release(&r);
    json_t *j = tiers_json("orders", 3);
    assert_int_equal(rows_of(j, "orders", "hot"), 0);
    assert_int_equal(rows_of(j, "orders", "warm"), EVENTS);
    json_decref(j);
    /* Each event once in the lake, read by the Iceberg reader. */
    char *lake = it_path(dir, "lake/orders");
    it_run(&r, NULL, NULL, "iceberg", "scan", lake, "--columns", "event_id",
           "--format", "csv", NULL);
    it_expect_code(&r, 0, "iceberg scan of the lake");
    free(lake);
    size_t n = 0;
    char **ids = calloc(EVENTS + 2, sizeof(char *));
    for (char *line = strtok(r.out, "\n"); line != NULL;
         line = strtok(NULL, "\n")) {
        if (strcmp(line, "event_id") != 0) {
            assert_true(n < EVENTS + 1);
            ids[n++] = line;
        }
    }
    assert_int_equal(n, EVENTS);
    qsort(ids, n, sizeof(char *), cmp_str);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(ids[i - 1], ids[i]) == 0) {
            fail_msg("event %s is in the lake twice", ids[i]);
        }
    }
    free(ids);
    it_result_release(&r);
    printf("%d of 12 runs killed before they finished\n", kills);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contract),
        cmocka_unit_test(test_duckdb_reads_the_files),
        cmocka_unit_test(test_kill),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
