/* HTTP bodies of events: a JSON array, one object, NDJSON; the payload
 * handed on as the client's own bytes; errors that name line, event and
 * field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "server/server.h"

static void
expect_ok(const char *body, bool ndjson, size_t n, lh_event_batch *b)
{
    lh_err err;
    lh_rc rc = lh__event_batch_parse(body, strlen(body), ndjson, 1000, b, &err);
    if (rc != LH_OK) {
        fail_msg("%s\n-> %s", body, err.msg);
    }
    assert_int_equal(b->n, n);
}

static void
expect_bad(const char *body, bool ndjson, lh_rc code, int64_t line,
           int64_t index, const char *field, const char *msg)
{
    lh_event_batch b;
    lh_err err;
    lh_rc rc = lh__event_batch_parse(body, strlen(body), ndjson, 3, &b, &err);
    lh__event_batch_release(&b);
    if (rc != code) {
        fail_msg("%s\nwant %s, got %s (%s)", body, lh_rc_name(code),
                 lh_rc_name(rc), rc ? err.msg : "");
    }
    if (code != LH_EINVAL) {
        return;
    }
    assert_int_equal(err.offset, line);
    assert_int_equal(err.index, index);
    assert_string_equal(err.field, field);
    if (strstr(err.msg, msg) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, msg);
    }
}

static void
test_forms(void **state)
{
    (void)state;
    lh_event_batch b;
    expect_ok("[{\"stream\":\"a\",\"type\":\"T\"},\n {\"stream\":\"b\","
              "\"type\":\"U\",\"expected_version\":3}]",
              false, 2, &b);
    assert_string_equal(b.evs[0].stream, "a");
    assert_string_equal(b.evs[1].type, "U");
    assert_int_equal(b.evs[1].expect, LH_EXPECT_EXACT);
    assert_int_equal(b.evs[1].expected_version, 3);
    assert_int_equal(b.lines[0], 1);
    assert_int_equal(b.lines[1], 2);
    lh__event_batch_release(&b);

    expect_ok("{\"stream\":\"a\",\"type\":\"T\",\"expected_version\":"
              "\"no_stream\"}",
              false, 1, &b);
    assert_int_equal(b.evs[0].expect, LH_EXPECT_NO_STREAM);
    lh__event_batch_release(&b);

    /* Several objects on their own lines are NDJSON whatever the type. */
    expect_ok("{\"stream\":\"a\",\"type\":\"T\"}\n\n  \n{\"stream\":\"b\","
              "\"type\":\"T\",\"expected_version\":\"stream_exists\"}\n",
              false, 2, &b);
    assert_int_equal(b.lines[1], 4);
    assert_int_equal(b.evs[1].expect, LH_EXPECT_STREAM_EXISTS);
    lh__event_batch_release(&b);

    expect_ok("\r\n{\"stream\":\"a\",\"type\":\"T\",\"ttl_seconds\":60,"
              "\"embedding\":[0.5,1],\"partition_key\":\"p\",\"tier_hint\":"
              "\"hot\",\"ts\":\"2026-01-01T00:00:00Z\",\"event_id\":"
              "\"11111111-2222-4333-8444-555555555555\"}\r\n",
              true, 1, &b);
    assert_int_equal(b.lines[0], 2);
    assert_int_equal(b.evs[0].ttl_seconds, 60);
    assert_int_equal(b.evs[0].embedding_len, 2);
    assert_true(b.evs[0].embedding[0] == 0.5f);
    assert_string_equal(b.evs[0].partition_key, "p");
    assert_string_equal(b.evs[0].tier_hint, "hot");
    assert_string_equal(b.evs[0].event_id,
                        "11111111-2222-4333-8444-555555555555");
    lh__event_batch_release(&b);
}

static void
test_payload_bytes(void **state)
{
    (void)state;
    lh_event_batch b;
    /* The payload reaches lh_append as the client wrote it: every digit,
     * its key order, inside the body's buffer. */
    const char *body = "[{\"type\":\"T\",\"data\" : {\"d\": 12345678901234567"
                       "890.125, \"s\": \"}\\\"]\", \"a\": [1, {\"x\": 2}]},"
                       "\"stream\":\"a\"}]";
    expect_ok(body, false, 1, &b);
    const char *want = "{\"d\": 12345678901234567890.125, \"s\": \"}\\\"]\", "
                       "\"a\": [1, {\"x\": 2}]}";
    assert_int_equal(b.evs[0].data_len, strlen(want));
    assert_memory_equal(b.evs[0].data_json, want, strlen(want));
    assert_true(b.evs[0].data_json > body &&
                b.evs[0].data_json < body + strlen(body));
    lh__event_batch_release(&b);

    /* A key written with escapes is decoded; the payload is still the
     * client's bytes. */
    expect_ok("{\"stream\":\"a\",\"type\":\"T\",\"\\u0064ata\":{\"n\":1}}",
              true, 1, &b);
    assert_int_equal(b.evs[0].data_len, 7);
    assert_memory_equal(b.evs[0].data_json, "{\"n\":1}", 7);
    lh__event_batch_release(&b);

    /* null data is no payload. */
    expect_ok("{\"stream\":\"a\",\"type\":\"T\",\"data\":null}", true, 1, &b);
    assert_null(b.evs[0].data_json);
    lh__event_batch_release(&b);
}

static void
test_errors(void **state)
{
    (void)state;
    expect_bad("", false, LH_EINVAL, -1, -1, "", "holds no event");
    expect_bad("{\"stream\":\"a\",\"type\":\"T\"}\n{\"stream\":1}", true,
               LH_EINVAL, 2, 1, "stream",
               "line 2: stream: \"stream\" must be "
               "a string");
    expect_bad("{\"stream\":\"a\"}\n{\"stream\":\"a\",\"stream\":\"b\"}", true,
               LH_EINVAL, 2, 1, "", "malformed JSON");
    expect_bad("[{\"stream\":\"a\"},\n\n{\"stream\":\"a\",\"colour\":1}]",
               false, LH_EINVAL, 3, 1, "colour", "unknown field \"colour\"");
    expect_bad("[{\"stream\":\"a\",\"data\":[1]}]", false, LH_EINVAL, 1, 0,
               "data", "\"data\" must be a JSON object");
    expect_bad("[{\"stream\":\"a\",\"embedding\":[1,\"x\"]}]", false, LH_EINVAL,
               1, 0, "embedding", "\"embedding\"[1] is not a number");
    expect_bad("[{\"stream\":\"a\",\"ttl_seconds\":-1}]", false, LH_EINVAL, 1,
               0, "ttl_seconds", "non-negative");
    expect_bad("[{\"stream\":\"a\",\"expected_version\":-2}]", false, LH_EINVAL,
               1, 0, "expected_version", "must be a version");
    expect_bad("[1]", false, LH_EINVAL, 1, 0, "", "must be a JSON object");
    expect_bad("42", false, LH_EINVAL, 1, 0, "", "must be a JSON array");
    expect_bad("[{\"stream\":\"a\"", false, LH_EINVAL, 1, 0, "",
               "malformed JSON");
    expect_bad("{\"stream\":\"x\"}\n{\"stream\":", true, LH_EINVAL, 2, 1, "",
               "malformed JSON");
    /* Past max_events (3 here). */
    expect_bad("[{},{},{},{}]", false, LH_ELIMIT, 0, 0, "", "");
    expect_bad("{}\n{}\n{}\n{}", true, LH_ELIMIT, 0, 0, "", "");
}

/* Our one-pass parser against jansson on payloads and envelopes that probe
 * the JSON grammar: whatever jansson (RFC 8259, duplicates refused)
 * refuses, we refuse, and the reverse. */
static void
test_strict_like_jansson(void **state)
{
    (void)state;
    static const char *const data[] = {
        "{}",
        "{\"a\":1}",
        "{\"a\":[1,2,{\"b\":null}]}",
        "{\"a\":1,}",
        "{\"a\":[1,]}",
        "{\"a\":01}",
        "{\"a\":-}",
        "{\"a\":1.}",
        "{\"a\":.5}",
        "{\"a\":1e}",
        "{\"a\":1e+5}",
        "{\"a\":-0.0E-2}",
        "{\"a\":tru}",
        "{\"a\":nulll}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\ud800\"}",
        "{\"a\":\"\\ud83d\\ude00\"}",
        "{\"a\":\"\\udc00\"}",
        "{\"a\":\"\t\"}",
        "{\"a\":\"\xff\"}",
        "{\"a\":\"\xc3\xa9\"}",
        "{\"a\" 1}",
        "{a:1}",
        "{\"a\":1 \"b\":2}",
        "{\"a\":[}",
        "{\"a\":]}",
        "{\"a\":{}}}",
        "{\"a\":\"x}",
        "{\"a\":1}x",
        "{\"a\":/*c*/1}",
        "{\"a\":\"\\/\\b\\f\\n\\r\\t\\\\\"}",
        "{\"a\":[[[[[[[[[[1]]]]]]]]]]}",
        "{\"a\":\"\\u0041\"}",
        "{\"a\":1,\"a\":2}",
        "{\"a\":NaN}",
        "{\"a\":Infinity}",
        "{\"a\":-1.5e300}",
        "{\"\":1}",
    };
    static const char *const around[] = {
        "{\"stream\":\"s\",\"type\":\"T\",\"data\":%s}",
        "{\"data\":%s,\"stream\":\"s\",\"type\":\"T\"}",
        "  {\"stream\" : \"s\" , \"data\" : %s , \"type\":\"T\"}  ",
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(data); i++) {
        for (size_t k = 0; k < LH_ARRAY_LEN(around); k++) {
            char line[512];
            snprintf(line, sizeof(line), around[k], data[i]);
            json_error_t je;
            json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, &je);
            bool want = j != NULL;
            json_decref(j);
            lh_event_batch b;
            lh_err err;
            lh_rc rc =
                lh__event_batch_parse(line, strlen(line), true, 10, &b, &err);
            /* "a" twice inside the payload is the payload's business
             * (lh_append parses it with duplicates refused). */
            bool dup_inside = strstr(data[i], "\"a\":1,\"a\"") != NULL;
            if (dup_inside && rc == LH_OK) {
                want = true;
            }
            if ((rc == LH_OK) != want) {
                fail_msg("%s: jansson %s, we %s (%s)", line,
                         want ? "accepts" : "refuses",
                         rc == LH_OK ? "accept" : "refuse",
                         rc == LH_OK ? "" : err.msg);
            }
            lh__event_batch_release(&b);
        }
    }
    /* Envelope values probe the same grammar. */
    static const char *const env[] = {
        "{\"stream\":\"a\\u00e9\",\"type\":\"T\"}",
        "{\"stream\":\"a\",\"type\":\"T\",}",
        "{\"stream\":\"a\",\"type\":\"T\",\"stream\":\"b\"}",
        "{\"stream\":\"a\\u0000\",\"type\":\"T\"}",
        "{\"stream\":\"a\",\"type\":\"T\",\"expected_version\":1.0}",
        ("{\"stream\":\"a\",\"type\":\"T\",\"expected_version\":"
         "99999999999999999999}"),
        "{\"stream\":\"a\",\"type\":\"T\",\"embedding\":[1,2.5,-3e-1]}",
        "{\"stream\":\"a\",\"type\":\"T\",\"embedding\":[1,]}",
        "{\"stream\":\"a\",\"type\":\"T\",\"ttl_seconds\":1e3}",
        "{\"stream\":\"a\",\"type\":\"T\"} {}",
        "[]",
    };
    static const bool env_ok[] = {true, false, false, false, false, false,
                                  true, false, false, false, true};
    for (size_t i = 0; i < LH_ARRAY_LEN(env); i++) {
        lh_event_batch b;
        lh_err err;
        lh_rc rc =
            lh__event_batch_parse(env[i], strlen(env[i]), false, 10, &b, &err);
        if ((rc == LH_OK) != env_ok[i]) {
            fail_msg("%s: %s, want %s", env[i],
                     rc == LH_OK ? "accepted" : err.msg,
                     env_ok[i] ? "accepted" : "refused");
        }
        lh__event_batch_release(&b);
    }
}

static void
test_event_to_json(void **state)
{
    (void)state;
    lh_event ev = {.event_id = "11111111-2222-4333-8444-555555555555",
                   .stream = "s\"1",
                   .version = 3,
                   .type = "T",
                   .ts_text = "2026-01-01 00:00:00",
                   .committed_at_text = "2026-01-01 00:00:01",
                   .shard = 2,
                   .position = 9,
                   .checkpoint = "ck1.0.0.9",
                   .data_json = "{\"n\":1.50}",
                   .embedding_json = "[0.1]"};
    lh_buf b = LH_BUF_INIT;
    lh__event_to_json(&ev, &b);
    assert_string_equal(
        b.data, "{\"event_id\":\"11111111-2222-4333-8444-555555555555\","
                "\"stream\":\"s\\\"1\",\"version\":3,\"type\":\"T\",\"ts\":"
                "\"2026-01-01 00:00:00\",\"committed_at\":\"2026-01-01 "
                "00:00:01\",\"shard\":2,\"position\":9,\"checkpoint\":"
                "\"ck1.0.0.9\",\"data\":{\"n\":1.50},\"embedding\":[0.1]}");
    lh_buf_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_payload_bytes),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_strict_like_jansson),
        cmocka_unit_test(test_event_to_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
