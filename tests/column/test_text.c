/*
 * lh_value_to_text and lh_value_to_json for every type
 * (output-formats.md: "Scalars" and "JSON").
 */
#include <math.h>

#include "column_test.h"

static void
test_text_scalars(void **state)
{
    (void)state;
    lh_value v = val_i("BOOLEAN", 0);
    v.u.b = true;
    assert_string_equal(text_of(&v), "true");
    v.u.b = false;
    assert_string_equal(text_of(&v), "false");

    v = val_i("SMALLINT", -32768);
    assert_string_equal(text_of(&v), "-32768");
    v = val_i("INTEGER", 2147483647);
    assert_string_equal(text_of(&v), "2147483647");
    v = val_i("BIGINT", INT64_MIN);
    assert_string_equal(text_of(&v), "-9223372036854775808");

    /* REAL is held widened; it prints with float precision */
    v = val_d("REAL", (double)0.1f);
    assert_string_equal(text_of(&v), "0.1");
    v = val_d("REAL", (double)1e6f);
    assert_string_equal(text_of(&v), "1e+06");
    v = val_d("DOUBLE", 0.1);
    assert_string_equal(text_of(&v), "0.1");
    v = val_d("DOUBLE", 1e300);
    assert_string_equal(text_of(&v), "1e+300");
    v = val_d("DOUBLE", NAN);
    assert_string_equal(text_of(&v), "NaN");

    v = val_i("DECIMAL(10,2)", 0);
    v.u.dec = 12345;
    assert_string_equal(text_of(&v), "123.45");
    v = val_i("DECIMAL(8,4)", 0);
    v.u.dec = 1234500;
    assert_string_equal(text_of(&v), "123.4500");
    v = val_i("DECIMAL(5,0)", 0);
    v.u.dec = -42;
    assert_string_equal(text_of(&v), "-42");

    v = val_s("VARCHAR", "héllo, \"world\"\n", 17);
    assert_string_equal(text_of(&v), "héllo, \"world\"\n");
    v = val_s("VARCHAR", "", 0);
    assert_string_equal(text_of(&v), "");

    v = val_s("BLOB", "\x00\xff\x10", 3);
    assert_string_equal(text_of(&v), "\\x00ff10");
    v = val_s("BLOB", "", 0);
    assert_string_equal(text_of(&v), "\\x");

    v = val_s("JSON", "{\"a\":[1,2]}", 11);
    assert_string_equal(text_of(&v), "{\"a\":[1,2]}");

    v = val_i("UUID", 0);
    for (int i = 0; i < 16; i++) {
        v.u.uuid.b[i] = (uint8_t)(0xA0 + i);
    }
    assert_string_equal(text_of(&v), "a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf");

    static const float vec[] = {0.1f, 0.2f, -3.0f, 1e6f};
    v = val_i("FLOAT[4]", 0);
    v.u.vec.v = vec;
    v.u.vec.n = 4;
    assert_string_equal(text_of(&v), "[0.1,0.2,-3,1e+06]");

    v = val_i("TIMESTAMPTZ", 1795608000123000);
    assert_string_equal(text_of(&v), "2026-11-25 12:00:00.123+00");
    v = val_i("INTERVAL", 0);
    v.u.iv.days = 1;
    v.u.iv.micros = INT64_C(7200000000);
    assert_string_equal(text_of(&v), "1 day 02:00:00");
}

static void
test_text_null(void **state)
{
    (void)state;
    const char *types[] = {"BOOLEAN", "BIGINT", "DOUBLE",  "DECIMAL(5,2)",
                           "VARCHAR", "BLOB",   "DATE",    "TIMESTAMPTZ",
                           "UUID",    "JSON",   "FLOAT[2]"};
    for (size_t i = 0; i < LH_ARRAY_LEN(types); i++) {
        lh_value v = val_null(types[i]);
        assert_string_equal(text_of(&v), "");
        assert_string_equal(json_of(&v), "null");
    }
    lh_value v;
    memset(&v, 0, sizeof(v)); /* the untyped NULL */
    assert_string_equal(json_of(&v), "null");
}

static void
test_json_scalars(void **state)
{
    (void)state;
    lh_value v = val_i("BOOLEAN", 0);
    v.u.b = true;
    assert_string_equal(json_of(&v), "true");
    /* integers keep every digit, past 2^53 too */
    v = val_i("BIGINT", 9007199254740993);
    assert_string_equal(json_of(&v), "9007199254740993");
    v = val_i("BIGINT", INT64_MIN);
    assert_string_equal(json_of(&v), "-9223372036854775808");

    v = val_d("DOUBLE", 0.1);
    assert_string_equal(json_of(&v), "0.1");
    v = val_d("DOUBLE", 1e300);
    assert_string_equal(json_of(&v), "1e+300");
    v = val_d("DOUBLE", 1e-7);
    assert_string_equal(json_of(&v), "1e-07");
    v = val_d("DOUBLE", -0.0);
    assert_string_equal(json_of(&v), "-0");
    v = val_d("DOUBLE", NAN);
    assert_string_equal(json_of(&v), "\"NaN\"");
    v = val_d("DOUBLE", INFINITY);
    assert_string_equal(json_of(&v), "\"Infinity\"");
    v = val_d("REAL", -INFINITY);
    assert_string_equal(json_of(&v), "\"-Infinity\"");
    v = val_d("REAL", (double)0.1f);
    assert_string_equal(json_of(&v), "0.1");

    /* DECIMAL: a number with its exact digits */
    v = val_i("DECIMAL(38,2)", 0);
    v.u.dec = (lh_i128)1234567890123456789 * 1000000000 + 123456789;
    assert_string_equal(json_of(&v), "12345678901234567891234567.89");
    v = val_i("DECIMAL(4,2)", 0);
    v.u.dec = 1250;
    assert_string_equal(json_of(&v), "12.50");
    v.u.dec = -5;
    assert_string_equal(json_of(&v), "-0.05");

    v = val_s("VARCHAR", "a\"b\\c\n\x01", 7);
    assert_string_equal(json_of(&v), "\"a\\\"b\\\\c\\n\\u0001\"");
    v = val_s("VARCHAR", "héllo", 6);
    assert_string_equal(json_of(&v), "\"héllo\"");
    v = val_s("VARCHAR", NULL, 0); /* an empty string may have no bytes */
    assert_string_equal(json_of(&v), "\"\"");
    assert_string_equal(text_of(&v), "");

    v = val_s("BLOB", "\x00\xff", 2);
    assert_string_equal(json_of(&v), "\"\\\\x00ff\"");

    v = val_i("DATE", 20782);
    assert_string_equal(json_of(&v), "\"2026-11-25\"");
    v = val_i("TIME", 43200500000);
    assert_string_equal(json_of(&v), "\"12:00:00.5\"");
    v = val_i("TIMESTAMP", 1795608000123000);
    assert_string_equal(json_of(&v), "\"2026-11-25 12:00:00.123\"");
    v = val_i("TIMESTAMPTZ", 1795608000000000);
    assert_string_equal(json_of(&v), "\"2026-11-25 12:00:00+00\"");
    v = val_i("INTERVAL", 0);
    v.u.iv.days = -1;
    assert_string_equal(json_of(&v), "\"-1 days\"");

    v = val_i("UUID", 0);
    v.u.uuid.b[15] = 1;
    assert_string_equal(json_of(&v),
                        "\"00000000-0000-0000-0000-000000000001\"");

    v = val_s("JSON", "{\"a\": [1, null]}", 16);
    assert_string_equal(json_of(&v), "{\"a\": [1, null]}");
    v = val_s("JSON", "", 0);
    assert_string_equal(json_of(&v), "null");

    static const float vec[] = {0.5f, -1.0f, 1e-7f};
    v = val_i("FLOAT[3]", 0);
    v.u.vec.v = vec;
    v.u.vec.n = 3;
    assert_string_equal(json_of(&v), "[0.5,-1,1e-07]");
}

/* Every type in one object: the text parses as JSON and means what we
 * meant. */
static void
test_json_is_json(void **state)
{
    (void)state;
    static const float vec[] = {0.25f, 2.0f};
    lh_value vals[12];
    vals[0] = val_i("BIGINT", INT64_MAX);
    vals[1] = val_d("DOUBLE", 1e-7);
    vals[2] = val_d("DOUBLE", NAN);
    vals[3] = val_i("DECIMAL(10,3)", 0);
    vals[3].u.dec = -1500;
    vals[4] = val_s("VARCHAR", "tab\there \xe2\x82\xac", 12);
    vals[5] = val_s("BLOB", "\x01", 1);
    vals[6] = val_i("TIMESTAMPTZ", -1);
    vals[7] = val_s("JSON", "[true,{\"x\":\"y\"}]", 16);
    vals[8] = val_i("FLOAT[2]", 0);
    vals[8].u.vec.v = vec;
    vals[8].u.vec.n = 2;
    vals[9] = val_null("DATE");
    vals[10] = val_i("BOOLEAN", 0);
    vals[11] = val_d("REAL", (double)3.4028235e38f);

    lh_buf b = LH_BUF_INIT;
    lh_buf_putc(&b, '[');
    for (size_t i = 0; i < LH_ARRAY_LEN(vals); i++) {
        if (i > 0) {
            lh_buf_putc(&b, ',');
        }
        assert_int_equal(lh_value_to_json(&vals[i], &b), LH_OK);
    }
    lh_buf_putc(&b, ']');
    json_error_t jerr;
    json_t *got = json_loadb(b.data, b.len, 0, &jerr);
    if (got == NULL) {
        fail_msg("not JSON: %s: %s", b.data, jerr.text);
    }
    json_t *want = json_loads(
        "[9223372036854775807, 1e-07, \"NaN\", -1.500, \"tab\\there "
        "\\u20ac\", \"\\\\x01\", \"1969-12-31 23:59:59.999999+00\", "
        "[true, {\"x\": \"y\"}], [0.25, 2], null, false, 3.4028235e+38]",
        0, &jerr);
    assert_non_null(want);
    assert_true(json_equal(got, want));
    json_decref(got);
    json_decref(want);
    lh_buf_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_scalars),
        cmocka_unit_test(test_text_null),
        cmocka_unit_test(test_json_scalars),
        cmocka_unit_test(test_json_is_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
