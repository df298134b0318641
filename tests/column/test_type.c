/* Type names: every spelling column.h lists, ranges, messages. */
#include "column_test.h"

static void
test_parse_names(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *name;
    } cases[] = {
        {"BOOLEAN", "BOOLEAN"},
        {"bool", "BOOLEAN"},
        {"SMALLINT", "SMALLINT"},
        {" Int2 ", "SMALLINT"},
        {"int", "INTEGER"},
        {"INTEGER", "INTEGER"},
        {"int4", "INTEGER"},
        {"BIGINT", "BIGINT"},
        {"int8", "BIGINT"},
        {"real", "REAL"},
        {"FLOAT4", "REAL"},
        {"double", "DOUBLE"},
        {"double   precision", "DOUBLE"},
        {"Double\tPrecision", "DOUBLE"},
        {"float8", "DOUBLE"},
        {"FLOAT", "DOUBLE"},
        {"float(24)", "REAL"},
        {"float(53)", "DOUBLE"},
        {"decimal", "DECIMAL(18,3)"},
        {"DECIMAL(10)", "DECIMAL(10,0)"},
        {"DECIMAL ( 10 , 2 )", "DECIMAL(10,2)"},
        {"numeric(38,38)", "DECIMAL(38,38)"},
        {"NUMERIC(1,0)", "DECIMAL(1,0)"},
        {"varchar", "VARCHAR"},
        {"VARCHAR(30)", "VARCHAR(30)"},
        {"character varying (5)", "VARCHAR(5)"},
        {"text", "VARCHAR"},
        {"STRING", "VARCHAR"},
        {"blob", "BLOB"},
        {"BYTEA", "BLOB"},
        {"date", "DATE"},
        {"time", "TIME"},
        {"timestamp", "TIMESTAMP"},
        {"timestamp without time zone", "TIMESTAMP"},
        {"TIMESTAMPTZ", "TIMESTAMPTZ"},
        {"timestamp  with time   zone", "TIMESTAMPTZ"},
        {"interval", "INTERVAL"},
        {"uuid", "UUID"},
        {"json", "JSON"},
        {"jsonb", "JSON"},
        {"FLOAT[3]", "FLOAT[3]"},
        {"float [ 1024 ]", "FLOAT[1024]"},
        {"vector(1536)", "FLOAT[1536]"},
        {"FLOAT[1]", "FLOAT[1]"},
        {"FLOAT[65536]", "FLOAT[65536]"},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(cases); i++) {
        lh_type t;
        lh_type back;
        lh_err err;
        char name[40];
        if (lh_type_parse(cases[i].in, &t, &err) != LH_OK) {
            fail_msg("\"%s\": %s", cases[i].in, err.msg);
        }
        assert_string_equal(lh_type_name(t, name), cases[i].name);
        /* the canonical name reads back as the same type */
        assert_int_equal(lh_type_parse(name, &back, &err), LH_OK);
        assert_true(lh_type_equal(t, back));
        assert_memory_equal(&t, &back, sizeof(t));
    }
}

static void
expect_error(const char *in, const char *msg)
{
    lh_type t;
    lh_err err;
    if (lh_type_parse(in, &t, &err) == LH_OK) {
        char name[40];
        fail_msg("\"%s\" parsed as %s", in, lh_type_name(t, name));
    }
    assert_int_equal(err.code, LH_EINVAL);
    assert_string_equal(err.msg, msg);
    assert_int_equal(t.id, LH_T_NULL);
}

static void
test_parse_errors(void **state)
{
    (void)state;
    expect_error("FOO", "unknown type \"FOO\"");
    expect_error("  foo bar ", "unknown type \"foo bar\"");
    expect_error("", "unknown type \"\"");
    expect_error("int int", "unknown type \"int int\"");
    expect_error("TEXT(5)", "unknown type \"TEXT(5)\"");
    expect_error("INT[3]", "unknown type \"INT[3]\"");
    expect_error("DECIMAL(40,2)", "DECIMAL precision 40 is out of range 1..38");
    expect_error("decimal(0)", "DECIMAL precision 0 is out of range 1..38");
    expect_error("DECIMAL(39)", "DECIMAL precision 39 is out of range 1..38");
    expect_error("DECIMAL(5,6)", "DECIMAL scale 6 is out of range 0..5");
    expect_error("DECIMAL(5,-1)", "DECIMAL scale -1 is out of range 0..5");
    expect_error("DECIMAL(10",
                 "malformed type \"DECIMAL(10\": expected DECIMAL(p) or "
                 "DECIMAL(p,s)");
    expect_error("numeric(1 0)",
                 "malformed type \"numeric(1 0)\": expected NUMERIC(p) or "
                 "NUMERIC(p,s)");
    expect_error("DECIMAL(1,2,3)",
                 "malformed type \"DECIMAL(1,2,3)\": expected DECIMAL(p) or "
                 "DECIMAL(p,s)");
    expect_error("DECIMAL(10,2) x",
                 "malformed type \"DECIMAL(10,2) x\": expected DECIMAL(p) or "
                 "DECIMAL(p,s)");
    expect_error("FLOAT[0]", "vector dimension 0 is out of range 1..65536");
    expect_error("VECTOR(65537)",
                 "vector dimension 65537 is out of range 1..65536");
    expect_error("FLOAT[]", "malformed type \"FLOAT[]\": expected FLOAT[n]");
    expect_error("VECTOR", "malformed type \"VECTOR\": expected VECTOR(n)");
    expect_error("vector(3,4)",
                 "malformed type \"vector(3,4)\": expected VECTOR(n)");
    expect_error("VARCHAR(0)", "VARCHAR length 0 is out of range 1..10485760");
    expect_error("float(54)", "FLOAT precision 54 is out of range 1..53");
    expect_error("VARCHAR(99999999999999999999)",
                 "malformed type \"VARCHAR(99999999999999999999)\": expected "
                 "VARCHAR(n)");
    /* a long name is cut in the message */
    char longname[200];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    lh_type t;
    lh_err err;
    assert_int_equal(lh_type_parse(longname, &t, &err), LH_EINVAL);
    assert_true(strlen(err.msg) < 100);
    assert_non_null(strstr(err.msg, "...\""));
    assert_int_equal(lh_type_parse(NULL, &t, &err), LH_EINVAL);
}

static void
test_equal(void **state)
{
    (void)state;
    assert_true(
        lh_type_equal(type_of("DECIMAL(10,2)"), type_of("numeric(10, 2)")));
    assert_false(
        lh_type_equal(type_of("DECIMAL(10,2)"), type_of("DECIMAL(10,3)")));
    assert_false(
        lh_type_equal(type_of("DECIMAL(10,2)"), type_of("DECIMAL(11,2)")));
    assert_false(lh_type_equal(type_of("VARCHAR"), type_of("VARCHAR(3)")));
    assert_true(lh_type_equal(type_of("TEXT"), type_of("VARCHAR")));
    assert_false(lh_type_equal(type_of("FLOAT[3]"), type_of("FLOAT[4]")));
    assert_false(lh_type_equal(type_of("INTEGER"), type_of("BIGINT")));
    assert_false(lh_type_equal(type_of("TIMESTAMP"), type_of("TIMESTAMPTZ")));
    /* fields a type does not use do not matter */
    lh_type a = type_of("INTEGER");
    lh_type b = a;
    b.precision = 7;
    b.dim = 9;
    assert_true(lh_type_equal(a, b));
}

static void
test_name_buffer(void **state)
{
    (void)state;
    char name[40];
    lh_type t = {0};
    t.id = LH_T_VECTOR;
    t.dim = UINT32_MAX;
    assert_string_equal(lh_type_name(t, name), "FLOAT[4294967295]");
    t.id = LH_T_VARCHAR;
    t.length = UINT32_MAX;
    assert_string_equal(lh_type_name(t, name), "VARCHAR(4294967295)");
    t.id = LH_T_NULL;
    assert_string_equal(lh_type_name(t, name), "NULL");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_names),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_name_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
