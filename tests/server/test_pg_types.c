/* Values on the PostgreSQL wire: type OIDs, binary formats (numeric's
 * base-10000 digits, the 2000-01-01 epoch), and binary parameters read
 * back as the text the column module parses. The numeric encodings are
 * PostgreSQL's numeric_send output for the same values. */
#include "server/pg_int.h"
#include "server_test.h"

static lh_value
val(const char *type, const char *text, lh_arena *a)
{
    lh_type t;
    lh_err err;
    if (lh_type_parse(type, &t, &err) != LH_OK) {
        fail_msg("%s", err.msg);
    }
    lh_value v;
    if (lh_value_from_text(t, text, strlen(text), a, &v, &err) != LH_OK) {
        fail_msg("%s %s: %s", type, text, err.msg);
    }
    return v;
}

static void
expect_hex(const lh_buf *b, const char *hex)
{
    char got[1024] = "";
    for (size_t i = 0; i < b->len && 2 * i + 2 < sizeof(got); i++) {
        snprintf(got + 2 * i, 3, "%02x", (uint8_t)b->data[i]);
    }
    if (strcmp(got, hex) != 0) {
        fail_msg("binary %s, want %s", got, hex);
    }
}

static void
binary_is(const char *type, const char *text, const char *hex)
{
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_value v = val(type, text, &a);
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh__pg_binary(&v, &b), LH_OK);
    expect_hex(&b, hex);
    /* And back: the binary parameter reads as the same value. */
    lh_buf t = LH_BUF_INIT;
    lh_err err;
    pg_type pt = lh__pg_type_of(v.type);
    if (lh__pg_binary_to_text(pt.oid, (const uint8_t *)b.data, b.len, &t,
                              &err) != LH_OK) {
        fail_msg("%s %s: %s", type, text, err.msg);
    }
    lh_value back;
    if (lh_value_from_text(v.type, t.data ? t.data : "", t.len, &a, &back,
                           &err) != LH_OK) {
        fail_msg("%s back from \"%s\": %s", type, t.data, err.msg);
    }
    lh_buf x = LH_BUF_INIT, y = LH_BUF_INIT;
    lh_value_to_text(&v, &x);
    lh_value_to_text(&back, &y);
    assert_string_equal(x.data ? x.data : "", y.data ? y.data : "");
    lh_buf_release(&x);
    lh_buf_release(&y);
    lh_buf_release(&t);
    lh_buf_release(&b);
    lh_arena_release(&a);
}

static void
test_oids(void **state)
{
    (void)state;
    static const struct {
        const char *type;
        uint32_t oid;
        int16_t len;
        int32_t mod;
    } cases[] = {
        {"BOOLEAN", 16, 1, -1},
        {"SMALLINT", 21, 2, -1},
        {"INTEGER", 23, 4, -1},
        {"BIGINT", 20, 8, -1},
        {"REAL", 700, 4, -1},
        {"DOUBLE", 701, 8, -1},
        {"DECIMAL(10,2)", 1700, -1, (10 << 16 | 2) + 4},
        {"VARCHAR(30)", 1043, -1, 34},
        {"VARCHAR", 25, -1, -1},
        {"BLOB", 17, -1, -1},
        {"DATE", 1082, 4, -1},
        {"TIME", 1083, 8, -1},
        {"TIMESTAMP", 1114, 8, -1},
        {"TIMESTAMPTZ", 1184, 8, -1},
        {"INTERVAL", 1186, 16, -1},
        {"UUID", 2950, 16, -1},
        {"JSON", 114, -1, -1},
        {"FLOAT[3]", 25, -1, -1},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(cases); i++) {
        lh_type t;
        assert_int_equal(lh_type_parse(cases[i].type, &t, NULL), LH_OK);
        pg_type p = lh__pg_type_of(t);
        if (p.oid != cases[i].oid || p.typlen != cases[i].len ||
            p.typmod != cases[i].mod) {
            fail_msg("%s: oid %u len %d mod %d", cases[i].type, p.oid, p.typlen,
                     p.typmod);
        }
        if (cases[i].oid != 25 && cases[i].oid != 114) {
            assert_int_equal(lh__pg_type_from_oid(p.oid).id, t.id);
        }
    }
    assert_int_equal(lh__pg_type_from_oid(0).id, LH_T_VARCHAR);
    assert_int_equal(lh__pg_type_from_oid(25).id, LH_T_VARCHAR);
}

static void
test_binary(void **state)
{
    (void)state;
    binary_is("BOOLEAN", "true", "01");
    binary_is("SMALLINT", "-2", "fffe");
    binary_is("INTEGER", "305419896", "12345678");
    binary_is("BIGINT", "-9223372036854775808", "8000000000000000");
    binary_is("REAL", "1.5", "3fc00000");
    binary_is("DOUBLE", "-0.1", "bfb999999999999a");
    /* numeric_send: ndigits, weight, sign, dscale, base-10000 digits */
    binary_is("DECIMAL(10,2)", "123.45", "0002000000000002007b1194");
    binary_is("DECIMAL(10,4)", "0.0001", "0001ffff000000040001");
    binary_is("DECIMAL(10,0)", "10000",
              "0001000100000000"
              "0001");
    binary_is("DECIMAL(10,1)", "-1.5",
              "00020000400000010001"
              "1388");
    binary_is("DECIMAL(10,2)", "0", "0000000000000002");
    binary_is("DECIMAL(38,2)", "123456789012345678901234567890123456.78",
              "000a00080000000204d2162e23340d801ed204d2162e23340d801e78");
    binary_is("DECIMAL(12,6)", "12.000500", "0002000000000006000c0005");
    binary_is("DATE", "2000-01-01", "00000000");
    binary_is("DATE", "1970-01-01", "ffffd533");
    binary_is("TIME", "00:00:01.5", "000000000016e360");
    binary_is("TIMESTAMP", "2000-01-01 00:00:01", "00000000000f4240");
    binary_is("TIMESTAMPTZ", "1999-12-31 23:59:59+00", "fffffffffff0bdc0");
    binary_is("INTERVAL", "1 day 00:00:02",
              "00000000001e848000000001"
              "00000000");
    binary_is("UUID", "00112233-4455-6677-8899-aabbccddeeff",
              "00112233445566778899aabbccddeeff");
    binary_is("VARCHAR", "h\xc3\xa9", "68c3a9");
    binary_is("BLOB", "\\x00ff", "00ff");
}

static void
test_text(void **state)
{
    (void)state;
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_buf b = LH_BUF_INIT;
    lh_value v = val("BOOLEAN", "false", &a);
    lh__pg_text(&v, &b);
    v = val("BOOLEAN", "yes", &a);
    lh__pg_text(&v, &b);
    v = val("TIMESTAMPTZ", "2026-01-01T10:00:00+02:00", &a);
    lh__pg_text(&v, &b);
    v = val("DECIMAL(6,3)", "1.5", &a);
    lh_buf_putc(&b, '|');
    lh__pg_text(&v, &b);
    assert_string_equal(b.data, "ft2026-01-01 08:00:00+00|1.500");
    lh_buf_release(&b);
    lh_arena_release(&a);
}

static void
test_bad_binary(void **state)
{
    (void)state;
    lh_buf b = LH_BUF_INIT;
    lh_err err;
    static const uint8_t three[3] = {1, 2, 3};
    assert_int_equal(lh__pg_binary_to_text(23, three, 3, &b, &err), LH_EINVAL);
    assert_non_null(strstr(err.msg, "int4"));
    assert_int_equal(lh__pg_binary_to_text(1082, three, 3, &b, &err),
                     LH_EINVAL);
    assert_int_equal(lh__pg_binary_to_text(600, three, 3, &b, &err), LH_EINVAL);
    assert_non_null(strstr(err.msg, "send it as text"));
    static const uint8_t nan[8] = {0, 0, 0, 0, 0xc0, 0, 0, 0};
    assert_int_equal(lh__pg_binary_to_text(1700, nan, 8, &b, &err), LH_EINVAL);
    static const uint8_t short_num[8] = {0, 2, 0, 0, 0, 0, 0, 0};
    assert_int_equal(lh__pg_binary_to_text(1700, short_num, 8, &b, &err),
                     LH_EINVAL);
    static const uint8_t jsonb[3] = {1, '{', '}'};
    lh_buf_reset(&b);
    assert_int_equal(lh__pg_binary_to_text(3802, jsonb, 3, &b, &err), LH_OK);
    assert_string_equal(b.data, "{}");
    lh_buf_reset(&b);
    static const uint8_t t[2] = {1, 0};
    assert_int_equal(lh__pg_binary_to_text(16, t, 1, &b, &err), LH_OK);
    assert_string_equal(b.data, "true");
    lh_buf_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oids),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_bad_binary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
