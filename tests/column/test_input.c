/*
 * lh_value_from_json and lh_value_from_text: what each type accepts, and
 * the message for what it does not (what was expected, what was found).
 */
#include <math.h>

#include "column_test.h"

static lh_arena arena;

static int
setup(void **state)
{
    (void)state;
    lh_arena_init(&arena, 0);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    lh_arena_release(&arena);
    return 0;
}

/* Reads JSON text (any value) as type; asserts success. */
static lh_value
from_json_ok(const char *type, const char *json)
{
    json_error_t jerr;
    json_t *j = json_loads(json, JSON_DECODE_ANY, &jerr);
    if (j == NULL) {
        fail_msg("bad test JSON %s: %s", json, jerr.text);
    }
    lh_value v;
    lh_err err;
    lh_rc rc = lh_value_from_json(type_of(type), j, &arena, &v, &err);
    json_decref(j);
    if (rc != LH_OK) {
        fail_msg("%s from JSON %s: %s", type, json, err.msg);
    }
    assert_true(lh_type_equal(v.type, type_of(type)));
    return v;
}

/* The text form of the value read from JSON. */
static const char *
json_in(const char *type, const char *json)
{
    lh_value v = from_json_ok(type, json);
    return text_of(&v);
}

static void
json_fails(const char *type, const char *json, const char *msg)
{
    json_error_t jerr;
    json_t *j = json_loads(json, JSON_DECODE_ANY, &jerr);
    if (j == NULL) {
        fail_msg("bad test JSON %s: %s", json, jerr.text);
    }
    lh_value v;
    lh_err err;
    lh_rc rc = lh_value_from_json(type_of(type), j, &arena, &v, &err);
    json_decref(j);
    if (rc == LH_OK) {
        fail_msg("%s from JSON %s succeeded: %s", type, json, text_of(&v));
    }
    assert_int_equal(rc, LH_EINVAL);
    assert_int_equal(err.code, LH_EINVAL);
    assert_string_equal(err.msg, msg);
}

static void
test_json_null(void **state)
{
    (void)state;
    const char *types[] = {"BOOLEAN",    "SMALLINT", "DOUBLE",   "DECIMAL(5,2)",
                           "VARCHAR(3)", "BLOB",     "DATE",     "TIMESTAMPTZ",
                           "UUID",       "JSON",     "FLOAT[2]", "INTERVAL"};
    for (size_t i = 0; i < LH_ARRAY_LEN(types); i++) {
        lh_value v = from_json_ok(types[i], "null");
        assert_true(v.is_null);
    }
}

static void
test_json_boolean(void **state)
{
    (void)state;
    assert_string_equal(json_in("BOOLEAN", "true"), "true");
    assert_string_equal(json_in("BOOLEAN", "false"), "false");
    json_fails("BOOLEAN", "1", "expected BOOLEAN, found number 1");
    json_fails("BOOLEAN", "\"true\"",
               "expected BOOLEAN, found string \"true\"");
    json_fails("BOOLEAN", "{}", "expected BOOLEAN, found an object");
}

static void
test_json_integers(void **state)
{
    (void)state;
    assert_string_equal(json_in("SMALLINT", "-32768"), "-32768");
    assert_string_equal(json_in("SMALLINT", "32767"), "32767");
    assert_string_equal(json_in("SMALLINT", "1e3"), "1000");
    assert_string_equal(json_in("INTEGER", "-2147483648"), "-2147483648");
    assert_string_equal(json_in("BIGINT", "9223372036854775807"),
                        "9223372036854775807");
    assert_string_equal(json_in("BIGINT", "-9223372036854775808"),
                        "-9223372036854775808");
    /* big integers as strings of digits */
    assert_string_equal(json_in("BIGINT", "\"9007199254740993\""),
                        "9007199254740993");
    assert_string_equal(json_in("BIGINT", "\"-42\""), "-42");

    json_fails("SMALLINT", "70000", "value 70000 is out of range for SMALLINT");
    json_fails("SMALLINT", "-32769",
               "value -32769 is out of range for SMALLINT");
    json_fails("INTEGER", "2147483648",
               "value 2147483648 is out of range for INTEGER");
    json_fails("INTEGER", "1.5", "expected INTEGER, found number 1.5");
    json_fails("INTEGER", "\"12\"", "expected INTEGER, found string \"12\"");
    json_fails("BIGINT", "\"abc\"", "expected BIGINT, found string \"abc\"");
    json_fails("BIGINT", "\"12.0\"", "expected BIGINT, found string \"12.0\"");
    json_fails("BIGINT", "\" 12\"", "expected BIGINT, found string \" 12\"");
    json_fails("BIGINT", "\"\"", "expected BIGINT, found string \"\"");
    json_fails("BIGINT", "\"9223372036854775808\"",
               "value \"9223372036854775808\" is out of range for BIGINT");
    json_fails("BIGINT", "1e19", "value 1e+19 is out of range for BIGINT");
    json_fails("BIGINT", "true", "expected BIGINT, found true");
    json_fails("BIGINT", "[1]", "expected BIGINT, found an array of 1 element");
}

static void
test_json_floats(void **state)
{
    (void)state;
    assert_string_equal(json_in("DOUBLE", "0.1"), "0.1");
    assert_string_equal(json_in("DOUBLE", "3"), "3");
    assert_string_equal(json_in("DOUBLE", "1e300"), "1e+300");
    assert_string_equal(json_in("DOUBLE", "\"NaN\""), "NaN");
    assert_string_equal(json_in("DOUBLE", "\"Infinity\""), "Infinity");
    assert_string_equal(json_in("DOUBLE", "\"-Infinity\""), "-Infinity");
    assert_string_equal(json_in("REAL", "0.1"), "0.1");
    assert_string_equal(json_in("REAL", "16777217"), "1.6777216e+07");
    assert_string_equal(json_in("REAL", "\"NaN\""), "NaN");
    lh_value v = from_json_ok("REAL", "0.1");
    assert_true(v.u.d == (double)0.1f); /* held widened from the float */

    json_fails("REAL", "1e39", "value 1e+39 is out of range for REAL");
    json_fails("REAL", "1e-50", "value 1e-50 is out of range for REAL");
    json_fails("DOUBLE", "\"1.5\"", "expected DOUBLE, found string \"1.5\"");
    json_fails("DOUBLE", "\"nope\"", "expected DOUBLE, found string \"nope\"");
    json_fails("REAL", "false", "expected REAL, found false");
}

static void
test_json_decimal(void **state)
{
    (void)state;
    assert_string_equal(json_in("DECIMAL(10,2)", "12.5"), "12.50");
    assert_string_equal(json_in("DECIMAL(10,2)", "0.1"), "0.10");
    assert_string_equal(json_in("DECIMAL(10,2)", "12"), "12.00");
    assert_string_equal(json_in("DECIMAL(10,2)", "-0.07"), "-0.07");
    assert_string_equal(json_in("DECIMAL(10,2)", "\"123.45\""), "123.45");
    assert_string_equal(json_in("DECIMAL(10,2)", "1e3"), "1000.00");
    assert_string_equal(
        json_in("DECIMAL(38,0)", "\"99999999999999999999999999999999999999\""),
        "99999999999999999999999999999999999999");
    assert_string_equal(json_in("DECIMAL(38,4)", "\"0.0001\""), "0.0001");

    json_fails("DECIMAL(10,2)", "\"1.234\"",
               "value \"1.234\" has more fraction digits than DECIMAL(10,2) "
               "holds (2)");
    json_fails("DECIMAL(10,2)", "1.234",
               "value \"1.234\" has more fraction digits than DECIMAL(10,2) "
               "holds (2)");
    json_fails("DECIMAL(10,2)", "123456789012",
               "value \"123456789012\" is out of range for DECIMAL(10,2)");
    json_fails("DECIMAL(20,2)", "1e30",
               "value 1e+30 is out of range for DECIMAL(20,2) (a JSON number "
               "holds about 15 digits: send values with more as strings, "
               "such as \"123.45\")");
    json_fails("DECIMAL(10,2)", "\"abc\"",
               "expected DECIMAL(10,2), found string \"abc\"");
    json_fails("DECIMAL(10,2)", "true", "expected DECIMAL(10,2), found true");
}

static void
test_json_varchar(void **state)
{
    (void)state;
    assert_string_equal(json_in("VARCHAR", "\"hello\""), "hello");
    assert_string_equal(json_in("VARCHAR", "\"\""), "");
    assert_string_equal(json_in("VARCHAR(3)", "\"abc\""), "abc");
    /* characters, not bytes: 3 characters in 6 bytes */
    assert_string_equal(json_in("VARCHAR(3)", "\"\\u00e9\\u00e9\\u00e9\""),
                        "ééé");
    assert_string_equal(json_in("VARCHAR(1)", "\"\\ud83d\\ude00\""),
                        "\xf0\x9f\x98\x80");
    lh_value v = from_json_ok("VARCHAR", "\"a\\nb\"");
    assert_int_equal(v.u.s.len, 3);
    assert_int_equal(v.u.s.p[3], '\0'); /* NUL-terminated in the arena */

    json_fails("VARCHAR(30)", "\"abcdefghijklmnopqrstuvwxyz01234\"",
               "string of 31 characters is longer than VARCHAR(30)");
    json_fails("VARCHAR(2)", "\"\\u00e9\\u00e9\\u00e9\"",
               "string of 3 characters is longer than VARCHAR(2)");
    json_fails("VARCHAR(30)", "12", "expected VARCHAR(30), found number 12");
}

static void
test_json_varchar_nul(void **state)
{
    (void)state;
    json_t *j = json_stringn("a\0b", 3);
    lh_value v;
    lh_err err;
    assert_int_equal(
        lh_value_from_json(type_of("VARCHAR"), j, &arena, &v, &err), LH_EINVAL);
    assert_string_equal(
        err.msg, "string \"a\\x00b\" contains a NUL character (\\u0000)");
    json_decref(j);
}

static void
test_json_blob(void **state)
{
    (void)state;
    assert_string_equal(json_in("BLOB", "\"\\\\x00ff\""), "\\x00ff");
    assert_string_equal(json_in("BLOB", "\"\\\\x00FF 10\""), "\\x00ff10");
    assert_string_equal(json_in("BLOB", "\"\\\\x\""), "\\x");
    assert_string_equal(json_in("BLOB", "\"AP8=\""), "\\x00ff");
    assert_string_equal(json_in("BLOB", "\"AP8\""), "\\x00ff");
    assert_string_equal(json_in("BLOB", "\"aGVsbG8=\""), "\\x68656c6c6f");
    assert_string_equal(json_in("BLOB", "\"+/+/\""), "\\xfbffbf");
    assert_string_equal(json_in("BLOB", "\"\""), "\\x");
    lh_value v = from_json_ok("BLOB", "\"aGVsbG8=\"");
    assert_int_equal(v.u.s.len, 5);
    assert_memory_equal(v.u.s.p, "hello", 5);

    json_fails("BLOB", "\"!!\"",
               "expected BLOB as \"\\\\x\" and hex digits or as base64, found "
               "string \"!!\"");
    json_fails("BLOB", "\"\\\\x0\"",
               "expected BLOB as \"\\\\x\" and hex digits or as base64, found "
               "string \"\\\\x0\"");
    json_fails("BLOB", "\"\\\\xzz\"",
               "expected BLOB as \"\\\\x\" and hex digits or as base64, found "
               "string \"\\\\xzz\"");
    json_fails("BLOB", "\"A\"",
               "expected BLOB as \"\\\\x\" and hex digits or as base64, found "
               "string \"A\"");
    json_fails("BLOB", "\"AP8==\"",
               "expected BLOB as \"\\\\x\" and hex digits or as base64, found "
               "string \"AP8==\"");
    json_fails("BLOB", "12", "expected BLOB, found number 12");
}

static void
test_json_temporal(void **state)
{
    (void)state;
    assert_string_equal(json_in("DATE", "\"2026-11-25\""), "2026-11-25");
    assert_string_equal(json_in("TIME", "\"12:00:00.5\""), "12:00:00.5");
    assert_string_equal(json_in("TIMESTAMP", "\"2026-11-25T12:00:00Z\""),
                        "2026-11-25 12:00:00");
    assert_string_equal(json_in("TIMESTAMPTZ", "\"2026-01-01T02:00:00+02:00\""),
                        "2026-01-01 00:00:00+00");
    assert_string_equal(
        json_in("TIMESTAMPTZ", "\"2026-01-01 00:00:00.123456\""),
        "2026-01-01 00:00:00.123456+00");
    assert_string_equal(json_in("INTERVAL", "\"1 day 02:00:00\""),
                        "1 day 02:00:00");
    assert_string_equal(json_in("INTERVAL", "\"PT90M\""), "01:30:00");

    json_fails("DATE", "20260101", "expected DATE, found number 20260101");
    json_fails("DATE", "\"2026-02-30\"",
               "invalid DATE \"2026-02-30\": day 30 is out of range for month");
    json_fails("TIMESTAMPTZ", "1700000000",
               "expected TIMESTAMPTZ, found number 1700000000");
    json_fails("TIMESTAMP", "\"yesterday\"",
               "invalid TIMESTAMP \"yesterday\": expected "
               "YYYY-MM-DD[ HH:MM[:SS[.ffffff]]][Z|+HH[:MM]]");
    json_fails("TIME", "43200", "expected TIME, found number 43200");
    json_fails("INTERVAL", "3600", "expected INTERVAL, found number 3600");
}

static void
test_json_uuid(void **state)
{
    (void)state;
    assert_string_equal(
        json_in("UUID", "\"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11\""),
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    assert_string_equal(json_in("UUID", "\"a0eebc999c0b4ef8bb6d6bb9bd380a11\""),
                        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    json_fails("UUID", "\"not-a-uuid\"", "invalid UUID \"not-a-uuid\"");
    json_fails("UUID", "1", "expected UUID, found number 1");
}

static void
test_json_json(void **state)
{
    (void)state;
    /* compact, keys in their order, reals in the shortest form */
    assert_string_equal(
        json_in("JSON", "{ \"b\" : [1, 2.5, 0.1, 1.0, -0.0, 1e300],\n"
                        "  \"a\" : null, \"c\": {\"d\": \"\\u00e9\\n\"} }"),
        "{\"b\":[1,2.5,0.1,1.0,-0.0,1e+300],\"a\":null,\"c\":{\"d\":"
        "\"é\\n\"}}");
    assert_string_equal(json_in("JSON", "\"str\""), "\"str\"");
    assert_string_equal(json_in("JSON", "42"), "42");
    assert_string_equal(json_in("JSON", "[]"), "[]");
    assert_string_equal(json_in("JSON", "{}"), "{}");
    assert_string_equal(json_in("JSON", "true"), "true");
    /* what we store reads back as the same JSON */
    const char *doc = "{\"k\":[0.30000000000000004,123456789012345678,"
                      "\"x\\\"y\"]}";
    lh_value v = from_json_ok("JSON", doc);
    json_t *a = json_loads(doc, 0, NULL);
    json_t *b = json_loadb(v.u.s.p, v.u.s.len, 0, NULL);
    assert_non_null(b);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
}

static void
test_json_vector(void **state)
{
    (void)state;
    lh_value v = from_json_ok("FLOAT[3]", "[1, 0.5, -2e-3]");
    assert_int_equal(v.u.vec.n, 3);
    assert_true(v.u.vec.v[0] == 1.0f);
    assert_true(v.u.vec.v[1] == 0.5f);
    assert_true(v.u.vec.v[2] == -2e-3f);
    assert_string_equal(text_of(&v), "[1,0.5,-0.002]");

    json_fails("FLOAT[3]", "[1, 2]",
               "expected FLOAT[3], found an array of 2 elements");
    json_fails("FLOAT[3]", "[]",
               "expected FLOAT[3], found an array of 0 elements");
    json_fails("FLOAT[3]", "[1, \"x\", 3]",
               "element 1 of FLOAT[3] is not a finite number: found string "
               "\"x\"");
    json_fails("FLOAT[3]", "[1, 2, \"NaN\"]",
               "element 2 of FLOAT[3] is not a finite number: found string "
               "\"NaN\"");
    json_fails("FLOAT[3]", "[1, null, 3]",
               "element 1 of FLOAT[3] is not a finite number: found null");
    json_fails("FLOAT[3]", "[1, 1e39, 3]",
               "element 1 of FLOAT[3] is out of range for REAL: found number "
               "1e+39");
    json_fails("FLOAT[3]", "\"[1,2,3]\"",
               "expected FLOAT[3], found string \"[1,2,3]\"");
}

/* ---- from text ----------------------------------------------------------- */

static void
test_text_boolean(void **state)
{
    (void)state;
    const char *yes[] = {"t",  "true", "TRUE", " yes ", "y",
                         "on", "1",    "tr",   "Ye"};
    const char *no[] = {"f",   "false", "FALSE", "no", "n",
                        "off", "of",    "0",     "fal"};
    for (size_t i = 0; i < LH_ARRAY_LEN(yes); i++) {
        assert_string_equal(text_roundtrip("BOOLEAN", yes[i], &arena), "true");
    }
    for (size_t i = 0; i < LH_ARRAY_LEN(no); i++) {
        assert_string_equal(text_roundtrip("BOOLEAN", no[i], &arena), "false");
    }
    text_fails("BOOLEAN", "o", LH_EINVAL, "invalid BOOLEAN \"o\"", &arena);
    text_fails("BOOLEAN", "maybe", LH_EINVAL, "invalid BOOLEAN \"maybe\"",
               &arena);
    text_fails("BOOLEAN", "", LH_EINVAL, "invalid BOOLEAN \"\"", &arena);
    text_fails("BOOLEAN", "truee", LH_EINVAL, "invalid BOOLEAN \"truee\"",
               &arena);
}

static void
test_text_numbers(void **state)
{
    (void)state;
    assert_string_equal(text_roundtrip("INTEGER", " 42 ", &arena), "42");
    assert_string_equal(text_roundtrip("INTEGER", "+7", &arena), "7");
    assert_string_equal(
        text_roundtrip("BIGINT", "-9223372036854775808", &arena),
        "-9223372036854775808");
    text_fails("SMALLINT", "-32769", LH_EINVAL,
               "value \"-32769\" is out of range for SMALLINT", &arena);
    text_fails("BIGINT", "9223372036854775808", LH_EINVAL,
               "value \"9223372036854775808\" is out of range for BIGINT",
               &arena);
    text_fails("INTEGER", "1e3", LH_EINVAL, "invalid INTEGER \"1e3\"", &arena);
    text_fails("INTEGER", "", LH_EINVAL, "invalid INTEGER \"\"", &arena);
    text_fails("INTEGER", "-", LH_EINVAL, "invalid INTEGER \"-\"", &arena);
    text_fails("INTEGER", "1 2", LH_EINVAL, "invalid INTEGER \"1 2\"", &arena);

    assert_string_equal(text_roundtrip("DOUBLE", "0.1", &arena), "0.1");
    assert_string_equal(text_roundtrip("DOUBLE", " 1e300 ", &arena), "1e+300");
    assert_string_equal(text_roundtrip("DOUBLE", "NaN", &arena), "NaN");
    assert_string_equal(text_roundtrip("DOUBLE", "-Infinity", &arena),
                        "-Infinity");
    assert_string_equal(text_roundtrip("DOUBLE", "inf", &arena), "Infinity");
    assert_string_equal(text_roundtrip("DOUBLE", "4.9e-324", &arena), "5e-324");
    assert_string_equal(text_roundtrip("REAL", "0.1", &arena), "0.1");
    assert_string_equal(text_roundtrip("REAL", "1e6", &arena), "1e+06");
    text_fails("DOUBLE", "1e400", LH_EINVAL,
               "value \"1e400\" is out of range for DOUBLE", &arena);
    text_fails("DOUBLE", "1e-400", LH_EINVAL,
               "value \"1e-400\" is out of range for DOUBLE", &arena);
    text_fails("REAL", "3.5e38", LH_EINVAL,
               "value \"3.5e38\" is out of range for REAL", &arena);
    text_fails("DOUBLE", "abc", LH_EINVAL, "invalid DOUBLE \"abc\"", &arena);
    text_fails("DOUBLE", "1.5x", LH_EINVAL, "invalid DOUBLE \"1.5x\"", &arena);
    text_fails("DOUBLE", "", LH_EINVAL, "invalid DOUBLE \"\"", &arena);
    char longnum[200];
    memset(longnum, '1', sizeof(longnum) - 1);
    longnum[sizeof(longnum) - 1] = '\0';
    assert_string_equal(text_roundtrip("DOUBLE", longnum, &arena),
                        "1.1111111111111111e+198");

    assert_string_equal(text_roundtrip("DECIMAL(6,3)", "1.5", &arena), "1.500");
    text_fails("DECIMAL(6,3)", "1000", LH_EINVAL,
               "value \"1000\" is out of range for DECIMAL(6,3)", &arena);
    text_fails("DECIMAL(6,3)", "x", LH_EINVAL, "invalid DECIMAL(6,3) \"x\"",
               &arena);
}

static void
test_text_strings(void **state)
{
    (void)state;
    /* VARCHAR keeps its spaces */
    assert_string_equal(text_roundtrip("VARCHAR", "  padded  ", &arena),
                        "  padded  ");
    assert_string_equal(text_roundtrip("VARCHAR(5)", "héllo", &arena), "héllo");
    text_fails("VARCHAR(4)", "héllo", LH_EINVAL,
               "string of 5 characters is longer than VARCHAR(4)", &arena);
    text_fails("VARCHAR", "bad \xff byte", LH_EINVAL,
               "invalid UTF-8 in string \"bad \\xff byte\"", &arena);

    assert_string_equal(text_roundtrip("BLOB", "\\x00FF", &arena), "\\x00ff");
    assert_string_equal(text_roundtrip("BLOB", "abc", &arena), "\\x616263");
    assert_string_equal(text_roundtrip("BLOB", "a\\\\b\\001", &arena),
                        "\\x615c6201");
    text_fails("BLOB", "\\x0", LH_EINVAL,
               "invalid BLOB \"\\\\x0\": expected \"\\x\" and hex digits, or "
               "bytes with \"\\\\\" and \"\\ooo\" escapes",
               &arena);
    text_fails("BLOB", "a\\b", LH_EINVAL,
               "invalid BLOB \"a\\\\b\": expected \"\\x\" and hex digits, or "
               "bytes with \"\\\\\" and \"\\ooo\" escapes",
               &arena);

    assert_string_equal(
        text_roundtrip("UUID", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", &arena),
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    assert_string_equal(text_roundtrip("UUID",
                                       "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
                                       &arena),
                        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    text_fails("UUID", "a0eebc99", LH_EINVAL, "invalid UUID \"a0eebc99\"",
               &arena);

    /* JSON text is checked and kept as given */
    assert_string_equal(text_roundtrip("JSON", " {\"a\": 1} ", &arena),
                        " {\"a\": 1} ");
    assert_string_equal(text_roundtrip("JSON", "3", &arena), "3");
    lh_value v;
    lh_err err;
    assert_int_equal(
        lh_value_from_text(type_of("JSON"), "{bad", 4, &arena, &v, &err),
        LH_EINVAL);
    assert_true(strncmp(err.msg, "invalid JSON \"{bad\": ", 21) == 0);
    /* a NUL inside would end jansson's reading early */
    assert_int_equal(
        lh_value_from_text(type_of("JSON"), "[0\0]", 4, &arena, &v, &err),
        LH_EINVAL);
    assert_string_equal(err.msg, "invalid JSON \"[0\\x00]\": a NUL byte");
}

static void
test_text_vector(void **state)
{
    (void)state;
    assert_string_equal(text_roundtrip("FLOAT[3]", "[1, 2.5,-3e-2]", &arena),
                        "[1,2.5,-0.03]");
    assert_string_equal(text_roundtrip("FLOAT[1]", " [ 0.1 ] ", &arena),
                        "[0.1]");
    text_fails("FLOAT[3]", "[1,2]", LH_EINVAL,
               "expected FLOAT[3], found 2 elements", &arena);
    text_fails("FLOAT[3]", "[]", LH_EINVAL,
               "expected FLOAT[3], found 0 elements", &arena);
    text_fails("FLOAT[3]", "[1,nan,3]", LH_EINVAL,
               "invalid FLOAT[3] \"[1,nan,3]\": element 1 is not a finite "
               "number",
               &arena);
    text_fails("FLOAT[3]", "[1,1e39,3]", LH_EINVAL,
               "invalid FLOAT[3] \"[1,1e39,3]\": element 1 is not a finite "
               "number",
               &arena);
    text_fails("FLOAT[3]", "[1,2,]", LH_EINVAL,
               "invalid FLOAT[3] \"[1,2,]\": expected a number after ','",
               &arena);
    text_fails("FLOAT[3]", "[1 2 3]", LH_EINVAL,
               "invalid FLOAT[3] \"[1 2 3]\": expected ',' or ']'", &arena);
    text_fails("FLOAT[3]", "1,2,3", LH_EINVAL,
               "invalid FLOAT[3] \"1,2,3\": expected \"[x,y,...]\"", &arena);
}

/* The text form of every type reads back as the same value. */
static void
test_text_roundtrip_all(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"BOOLEAN", "true"},
        {"SMALLINT", "-32768"},
        {"BIGINT", "9223372036854775807"},
        {"REAL", "3.4028235e+38"},
        {"DOUBLE", "0.30000000000000004"},
        {"DECIMAL(38,10)", "-1234567890123456789012345678.0123456789"},
        {"VARCHAR", "any text, \"quoted\""},
        {"BLOB", "\\xdeadbeef"},
        {"DATE", "2026-11-25"},
        {"TIME", "23:59:59.000001"},
        {"TIMESTAMP", "1969-07-20 20:17:40.5"},
        {"TIMESTAMPTZ", "2026-11-25 12:00:00.123+00"},
        {"INTERVAL", "-1 years -2 mons +3 days -04:05:06.789"},
        {"UUID", "0190a8a8-0000-7000-8000-000000000000"},
        {"JSON", "{\"a\":[1,2]}"},
        {"FLOAT[2]", "[0.1,1e-07]"},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(cases); i++) {
        assert_string_equal(text_roundtrip(cases[i][0], cases[i][1], &arena),
                            cases[i][1]);
    }
}

/* Random short texts for every type: each is refused with LH_EINVAL or
 * read, and what is read prints a text that reads back to the same text
 * and a JSON form that parses. (A libFuzzer run does this at length; this
 * keeps a deterministic slice of it in every test run.) */
static void
test_text_random(void **state)
{
    (void)state;
    static const char *const types[] = {
        "BOOLEAN",  "SMALLINT",     "BIGINT",     "REAL",
        "DOUBLE",   "DECIMAL(9,3)", "VARCHAR(4)", "BLOB",
        "DATE",     "TIME",         "TIMESTAMP",  "TIMESTAMPTZ",
        "INTERVAL", "UUID",         "JSON",       "FLOAT[2]"};
    static const char alphabet[] = "0123456789-+:. TZe,[]\\xabcdfnyPDHMS";
    uint64_t seed = 42;
    char in[24];
    for (int iter = 0; iter < 200000; iter++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        uint64_t r = seed;
        size_t n = (size_t)(r % sizeof(in));
        for (size_t i = 0; i < n; i++) {
            r = r * 6364136223846793005u + 1442695040888963407u;
            in[i] = alphabet[(r >> 33) % (sizeof(alphabet) - 1)];
        }
        const char *type = types[(seed >> 40) % LH_ARRAY_LEN(types)];
        lh_type t = type_of(type);
        lh_value v;
        lh_err err;
        lh_rc rc = lh_value_from_text(t, in, n, &arena, &v, &err);
        if (rc != LH_OK) {
            assert_int_equal(rc, LH_EINVAL);
            continue;
        }
        const char *text = text_of(&v);
        lh_value again;
        rc = lh_value_from_text(t, text, strlen(text), &arena, &again, &err);
        if (rc != LH_OK) {
            fail_msg("%s \"%.*s\" printed as \"%s\", which fails: %s", type,
                     (int)n, in, text, err.msg);
        }
        assert_string_equal(text_of(&again), text);
        json_t *j = json_loads(json_of(&v), JSON_DECODE_ANY, NULL);
        assert_non_null(j);
        json_decref(j);
        lh_arena_reset(&arena);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_null),
        cmocka_unit_test(test_json_boolean),
        cmocka_unit_test(test_json_integers),
        cmocka_unit_test(test_json_floats),
        cmocka_unit_test(test_json_decimal),
        cmocka_unit_test(test_json_varchar),
        cmocka_unit_test(test_json_varchar_nul),
        cmocka_unit_test(test_json_blob),
        cmocka_unit_test(test_json_temporal),
        cmocka_unit_test(test_json_uuid),
        cmocka_unit_test(test_json_json),
        cmocka_unit_test(test_json_vector),
        cmocka_unit_test(test_text_boolean),
        cmocka_unit_test(test_text_numbers),
        cmocka_unit_test(test_text_strings),
        cmocka_unit_test(test_text_vector),
        cmocka_unit_test(test_text_roundtrip_all),
        cmocka_unit_test(test_text_random),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
