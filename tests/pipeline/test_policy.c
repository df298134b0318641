/* The tiering policy of a table definition (src/hot/schema.c): every key,
 * its defaults, sizes and durations in their text forms, the refusals
 * naming the field, and the normalized form reading back to itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hot/hot_int.h"

static lh_tabledef *
parse_ok(const char *json)
{
    lh_tabledef *d = NULL;
    lh_err err;
    lh_rc rc = lh__tabledef_parse(json, strlen(json), &d, &err);
    if (rc != LH_OK) {
        fail_msg("parse %s: %s", json, err.msg);
    }
    return d;
}

static void
test_defaults(void **state)
{
    (void)state;
    lh_tabledef *d = parse_ok("{\"name\": \"t\"}");
    const lh_hot_policy *p = &d->policy;
    assert_int_equal(p->hot_window, 72 * 3600 * LH_US_PER_SEC);
    assert_int_equal(p->warm_window, 90 * LH_US_PER_DAY);
    assert_int_equal(p->flush_rows, 1000000);
    assert_int_equal(p->flush_bytes, 256 << 20);
    assert_int_equal(p->flush_interval, 60 * LH_US_PER_SEC);
    assert_int_equal(p->warm_file_size, 64 << 20);
    assert_int_equal(p->cold_file_size, 256 << 20);
    assert_int_equal(p->warm_row_group_rows, 16384);
    assert_int_equal(p->cold_row_group_rows, 131072);
    assert_int_equal(p->retention, 0);
    assert_int_equal(p->snapshot_max_age, 7 * LH_US_PER_DAY);
    assert_int_equal(p->snapshot_min_count, 10);
    assert_null(p->lake);
    assert_string_equal(d->partition_by, "day(ts)");
    /* The normalized form carries every key, retention and lake as null. */
    json_error_t je;
    json_t *j = json_loads(d->json, 0, &je);
    assert_non_null(j);
    assert_true(json_is_null(json_object_get(j, "retention")));
    assert_true(json_is_null(json_object_get(j, "lake")));
    assert_int_equal(json_integer_value(json_object_get(j, "flush_interval")),
                     60);
    assert_int_equal(
        json_integer_value(json_object_get(j, "snapshot_min_count")), 10);
    json_decref(j);
    lh__tabledef_free(d);
}

static void
test_every_key(void **state)
{
    (void)state;
    const char *json =
        "{\"name\": \"orders\", \"columns\": [{\"name\": \"tenant\", "
        "\"type\": \"VARCHAR\"}], \"partition_by\": \"month(ts)\", "
        "\"cluster_by\": [\"tenant\"], \"hot_window\": \"1h\", "
        "\"warm_window\": \"30d\", \"flush_rows\": 5000, \"flush_bytes\": "
        "\"8MiB\", \"flush_interval\": \"30s\", \"warm_file_size\": \"1m\", "
        "\"cold_file_size\": 4194304, \"warm_row_group_rows\": 1000, "
        "\"cold_row_group_rows\": 50000, \"retention\": \"365d\", "
        "\"snapshot_max_age\": \"2d\", \"snapshot_min_count\": 3, \"lake\": "
        "\"s3://bucket/prefix?endpoint=http://127.0.0.1:9000\"}";
    lh_tabledef *d = parse_ok(json);
    const lh_hot_policy *p = &d->policy;
    assert_int_equal(p->hot_window, 3600 * LH_US_PER_SEC);
    assert_int_equal(p->warm_window, 30 * LH_US_PER_DAY);
    assert_int_equal(p->flush_rows, 5000);
    assert_int_equal(p->flush_bytes, 8 << 20);
    assert_int_equal(p->flush_interval, 30 * LH_US_PER_SEC);
    assert_int_equal(p->warm_file_size, 1 << 20);
    assert_int_equal(p->cold_file_size, 4194304);
    assert_int_equal(p->warm_row_group_rows, 1000);
    assert_int_equal(p->cold_row_group_rows, 50000);
    assert_int_equal(p->retention, 365 * LH_US_PER_DAY);
    assert_int_equal(p->snapshot_max_age, 2 * LH_US_PER_DAY);
    assert_int_equal(p->snapshot_min_count, 3);
    assert_string_equal(p->lake,
                        "s3://bucket/prefix?endpoint=http://127.0.0.1:9000");
    /* The normalized text parses to the same policy and the same text. */
    lh_tabledef *again = parse_ok(d->json);
    assert_string_equal(again->json, d->json);
    assert_memory_equal(&again->policy, &d->policy,
                        offsetof(lh_hot_policy, lake));
    assert_string_equal(again->policy.lake, d->policy.lake);
    lh__tabledef_free(again);
    lh__tabledef_free(d);
}

static void
test_partition_key_source(void **state)
{
    (void)state;
    lh_tabledef *d =
        parse_ok("{\"name\": \"t\", \"partition_by\": \"partition_key\"}");
    assert_string_equal(d->partition_by, "partition_key");
    lh__tabledef_free(d);
}

static void
refused(const char *json, const char *field, const char *words)
{
    lh_tabledef *d = NULL;
    lh_err err;
    lh_rc rc = lh__tabledef_parse(json, strlen(json), &d, &err);
    if (rc == LH_OK) {
        lh__tabledef_free(d);
        fail_msg("accepted %s", json);
    }
    assert_int_equal(rc, LH_EINVAL);
    assert_null(d);
    assert_string_equal(err.field, field);
    if (strstr(err.msg, words) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, words);
    }
}

static void
test_refusals(void **state)
{
    (void)state;
    refused("{\"name\": \"t\", \"flush_rows\": 0}", "flush_rows", "from 1 to");
    refused("{\"name\": \"t\", \"flush_rows\": \"10\"}", "flush_rows",
            "integer");
    refused("{\"name\": \"t\", \"flush_bytes\": \"12 MiB\"}", "flush_bytes",
            "size");
    refused("{\"name\": \"t\", \"flush_bytes\": 100}", "flush_bytes",
            "at least 1024");
    refused("{\"name\": \"t\", \"warm_file_size\": \"-5\"}", "warm_file_size",
            "size");
    refused("{\"name\": \"t\", \"cold_file_size\": \"99999999999999999999\"}",
            "cold_file_size", "size");
    refused("{\"name\": \"t\", \"flush_interval\": \"500ms\"}",
            "flush_interval", "whole seconds");
    refused("{\"name\": \"t\", \"retention\": 0}", "retention", "positive");
    refused("{\"name\": \"t\", \"snapshot_max_age\": \"soon\"}",
            "snapshot_max_age", "duration");
    refused("{\"name\": \"t\", \"snapshot_min_count\": 0}",
            "snapshot_min_count", "from 1");
    refused("{\"name\": \"t\", \"warm_row_group_rows\": 99999999999}",
            "warm_row_group_rows", "from 1 to");
    refused("{\"name\": \"t\", \"lake\": 7}", "lake", "URI");
    refused("{\"name\": \"t\", \"lake\": \"\"}", "lake", "URI");
    refused("{\"name\": \"t\", \"flush\": {}}", "flush", "unknown key");
}

static void
test_size_parse(void **state)
{
    (void)state;
    int64_t v;
    assert_true(lh_size_parse("1048576", &v));
    assert_int_equal(v, 1048576);
    assert_true(lh_size_parse("64k", &v));
    assert_int_equal(v, 64 << 10);
    assert_true(lh_size_parse("64MiB", &v));
    assert_int_equal(v, 64 << 20);
    assert_true(lh_size_parse("2gb", &v));
    assert_int_equal(v, INT64_C(2) << 30);
    assert_true(lh_size_parse("1T", &v));
    assert_int_equal(v, INT64_C(1) << 40);
    assert_true(lh_size_parse("7b", &v));
    assert_int_equal(v, 7);
    const char *bad[] = {"",
                         "-1",
                         "+1",
                         " 1",
                         "1x",
                         "1kb2",
                         "1 k",
                         "9223372036854775807k",
                         "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (lh_size_parse(bad[i], &v)) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_partition_key_source),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_size_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
