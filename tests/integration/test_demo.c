/*
 * lakehouse demo and lakehouse erase as a user runs them:
 *   lakehouse demo DIR --events N
 *   lakehouse erase DIR TABLE STREAM
 * The demo's year of orders ends up in all three tiers (`tiers --format
 * json`), its rows adding up to what it says it appended less what it
 * removed (expired and erased), a customer's stream reads back whole from
 * every tier in version order, and a second demo into the same directory
 * is refused. An erased
 * stream is unreadable at once, and after the next `pipeline run` the
 * Iceberg reader finds none of its events in the lake.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it.h"

#define EVENTS 20000

static char *top, *dir;

static int
group_setup(void **state)
{
    (void)state;
    top = it_tmpdir();
    dir = it_path(top, "demo");
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    free(dir);
    it_rmrf(top);
    return 0;
}

/* The number after `key` in text, which must be there. */
static long long
number_after(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    if (p == NULL) {
        fail_msg("no \"%s\" in:\n%s", key, text);
    }
    return strtoll(p + strlen(key), NULL, 10);
}

static json_int_t
tier_rows(json_t *j, const char *tier)
{
    for (size_t i = 0; i < json_array_size(j); i++) {
        json_t *o = json_array_get(j, i);
        if (strcmp(json_string_value(json_object_get(o, "tier")), tier) == 0) {
            return json_integer_value(json_object_get(o, "rows"));
        }
    }
    fail_msg("no tier %s", tier);
    return -1;
}

/* Lines of a `read --stream` (one event each) at the demo's end: later,
 * the CartAbandoned events of its last week have expired too. */
static int
stream_events(const char *stream)
{
    it_result r;
    const char *env[] = {"LH_NOW=2026-01-01T00:00:00Z", NULL};
    it_run(&r, NULL, env, "read", dir, "orders", "--stream", stream, NULL);
    it_expect_code(&r, 0, "read --stream");
    int n = 0;
    int64_t last = 0;
    for (char *line = strtok(r.out, "\n"); line != NULL;
         line = strtok(NULL, "\n")) {
        json_t *e = json_loads(line, 0, NULL);
        assert_non_null(e);
        int64_t v = json_integer_value(json_object_get(e, "version"));
        assert_true(v > last); /* version order across the tiers */
        last = v;
        json_decref(e);
        n++;
    }
    it_result_release(&r);
    return n;
}

static void
test_demo(void **state)
{
    (void)state;
    /* Under the sanitizers on a busy machine it takes more than it_run's
     * 30 s. */
    it_proc p;
    it_spawn(&p, NULL, "demo", dir, "--events", "20000", NULL);
    int code = it_proc_wait(&p, 240000);
    if (code != 0) {
        fail_msg("demo exited with %d: %s", code, p.err.data ? p.err.data : "");
    }
    it_result r = {.out = strdup(p.out.data ? p.out.data : "")};
    it_proc_release(&p);
    long long appended = number_after(r.out, "ingest: ");
    long long removed = number_after(r.out, "removed ");
    long long erased = number_after(r.out, "erased: ");
    long long stream_n =
        number_after(r.out, "the stream customer-00000 read back from every "
                            "tier: ");
    assert_int_equal(appended, EVENTS);
    assert_true(removed > 0); /* the expired CartAbandoned events */
    assert_non_null(strstr(r.out, "Time: "));
    assert_non_null(strstr(r.out, "EXPLAIN\n"));
    it_result_release(&r);
    it_run(&r, NULL, NULL, "tiers", dir, "orders", "--format", "json", NULL);
    it_expect_code(&r, 0, "tiers");
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    it_result_release(&r);
    json_int_t hot = tier_rows(j, "hot"), warm = tier_rows(j, "warm"),
               cold = tier_rows(j, "cold");
    printf("demo tiers: hot %lld, warm %lld, cold %lld\n", (long long)hot,
           (long long)warm, (long long)cold);
    assert_true(hot > 0 && warm > 0 && cold > 0);
    assert_true(cold > warm && warm > hot);
    assert_int_equal(hot + warm + cold, appended - removed - erased);
    json_decref(j);
    /* The stream the demo read, read again by the CLI. */
    assert_int_equal(stream_events("customer-00000"), stream_n);
    /* A second demo into the same directory is refused. */
    it_run(&r, NULL, NULL, "demo", dir, NULL);
    it_expect_code(&r, 2, "demo into an existing directory");
    it_result_release(&r);
}

static void
test_erase(void **state)
{
    (void)state;
    assert_true(stream_events("customer-00003") > 0);
    it_result r;
    it_run(&r, NULL, NULL, "erase", dir, "orders", "customer-00003", NULL);
    it_expect_code(&r, 0, "erase");
    it_result_release(&r);
    assert_int_equal(stream_events("customer-00003"), 0);
    it_run(&r, NULL, NULL, "erase", dir, "orders", "nobody", NULL);
    it_expect_code(&r, 1, "erase of a stream without events");
    it_result_release(&r);
    /* The next run takes it out of the lake. */
    const char *env[] = {"LH_NOW=2026-01-02T00:00:00Z", NULL};
    it_run(&r, NULL, env, "pipeline", "run", dir, "--until-idle", NULL);
    it_expect_code(&r, 0, "pipeline run after the erasure");
    assert_non_null(strstr(r.out, "removed "));
    it_result_release(&r);
    char *lake = it_path(dir, "lake/orders");
    it_run(&r, NULL, NULL, "iceberg", "scan", lake, "--columns", "stream",
           "--format", "csv", NULL);
    it_expect_code(&r, 0, "iceberg scan of the lake");
    free(lake);
    assert_null(strstr(r.out, "customer-00003\n"));
    assert_non_null(strstr(r.out, "customer-00004\n"));
    it_result_release(&r);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo),
        cmocka_unit_test(test_erase),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
