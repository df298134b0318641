/*
 * Partition transforms and the values under them: Murmur3 x86_32 and the
 * hash of every type against the spec's Appendix B test values, bucket,
 * truncate (the spec's examples), year/month/day/hour around the epoch,
 * the binary single-value form of bounds (Appendix D) with the promotions
 * by length, and the JSON single-value form.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "format/iceberg/iceberg.h"

static lh_ice_type
ty(uint8_t id)
{
    lh_ice_type t;
    memset(&t, 0, sizeof(t));
    t.id = id;
    return t;
}

static lh_value
val_i(const lh_ice_type *t, int64_t i)
{
    lh_value v;
    memset(&v, 0, sizeof(v));
    v.type = lh_ice_type_to_lh(t);
    v.u.i = i;
    return v;
}

static lh_value
val_s(const lh_ice_type *t, const char *s, size_t n)
{
    lh_value v;
    memset(&v, 0, sizeof(v));
    v.type = lh_ice_type_to_lh(t);
    v.u.s.p = s;
    v.u.s.len = n;
    return v;
}

static int32_t
hash_of(const lh_ice_type *t, const lh_value *v)
{
    int32_t h = 0;
    lh_err err;
    assert_int_equal(lh_ice_hash(t, v, &h, &err), LH_OK);
    return h;
}

static void
test_murmur3_appendix_b(void **state)
{
    (void)state;
    lh_ice_type t_int = ty(LH_ICE_INT), t_long = ty(LH_ICE_LONG);
    lh_value v = val_i(&t_int, 34);
    assert_int_equal(hash_of(&t_int, &v), 2017239379);
    v = val_i(&t_long, 34);
    assert_int_equal(hash_of(&t_long, &v), 2017239379);

    lh_ice_type t_dec = ty(LH_ICE_DECIMAL);
    t_dec.precision = 4;
    t_dec.scale = 2;
    lh_value d;
    memset(&d, 0, sizeof(d));
    d.type = lh_ice_type_to_lh(&t_dec);
    d.u.dec = 1420;
    assert_int_equal(hash_of(&t_dec, &d), -500754589);

    lh_ice_type t_date = ty(LH_ICE_DATE);
    v = val_i(&t_date, lh_days_from_civil(2017, 11, 16));
    assert_int_equal(hash_of(&t_date, &v), -653330422);

    lh_ice_type t_time = ty(LH_ICE_TIME);
    v = val_i(&t_time, (22 * 3600 + 31 * 60 + 8) * LH_US_PER_SEC);
    assert_int_equal(hash_of(&t_time, &v), -662762989);

    static const uint8_t ts_ids[] = {LH_ICE_TIMESTAMP, LH_ICE_TIMESTAMPTZ,
                                     LH_ICE_TIMESTAMP_NS,
                                     LH_ICE_TIMESTAMPTZ_NS};
    for (size_t i = 0; i < sizeof(ts_ids); i++) {
        lh_ice_type t = ty(ts_ids[i]);
        lh_us us;
        lh_err err;
        assert_int_equal(lh_time_parse("2017-11-16T22:31:08", 19, &us, &err),
                         LH_OK);
        v = val_i(&t, us);
        assert_int_equal(hash_of(&t, &v), -2047944441);
        v = val_i(&t, us + 1);
        assert_int_equal(hash_of(&t, &v), -1207196810);
    }
    /* Nanoseconds: the binary form converts to µs before hashing. */
    lh_ice_type t_ns = ty(LH_ICE_TIMESTAMP_NS);
    lh_us us;
    lh_time_parse("2017-11-16T22:31:08", 19, &us, NULL);
    uint8_t nsb[8];
    int64_t ns = us * 1000 + 1001;
    memcpy(nsb, &ns, 8);
    lh_value nv;
    lh_err err;
    assert_int_equal(lh_ice_value_from_bytes(&t_ns, nsb, 8, &nv, &err), LH_OK);
    assert_int_equal(hash_of(&t_ns, &nv), -1207196810);

    lh_ice_type t_str = ty(LH_ICE_STRING);
    v = val_s(&t_str, "iceberg", 7);
    assert_int_equal(hash_of(&t_str, &v), 1210000089);

    lh_ice_type t_uuid = ty(LH_ICE_UUID);
    lh_value u;
    memset(&u, 0, sizeof(u));
    u.type = lh_ice_type_to_lh(&t_uuid);
    assert_int_equal(lh_uuid_parse("f79c3e09-677c-4bbd-a479-3f349cb785e7", 36,
                                   &u.u.uuid, &err),
                     LH_OK);
    assert_int_equal(hash_of(&t_uuid, &u), 1488055340);

    static const char bytes[] = {0, 1, 2, 3};
    lh_ice_type t_fixed = ty(LH_ICE_FIXED), t_bin = ty(LH_ICE_BINARY);
    t_fixed.length = 4;
    v = val_s(&t_fixed, bytes, 4);
    assert_int_equal(hash_of(&t_fixed, &v), -188683207);
    v = val_s(&t_bin, bytes, 4);
    assert_int_equal(hash_of(&t_bin, &v), -188683207);

    lh_ice_type t_bool = ty(LH_ICE_BOOLEAN);
    lh_value b;
    memset(&b, 0, sizeof(b));
    b.type = lh_ice_type_to_lh(&t_bool);
    b.u.b = true;
    assert_int_equal(hash_of(&t_bool, &b), 1392991556);

    lh_ice_type t_float = ty(LH_ICE_FLOAT), t_double = ty(LH_ICE_DOUBLE);
    lh_value f;
    memset(&f, 0, sizeof(f));
    f.type = lh_ice_type_to_lh(&t_float);
    f.u.d = 1.0;
    assert_int_equal(hash_of(&t_float, &f), -142385009);
    f.u.d = 0.0;
    assert_int_equal(hash_of(&t_float, &f), 1669671676);
    f.u.d = -0.0;
    assert_int_equal(hash_of(&t_double, &f), 1669671676);
    f.u.d = 1.0;
    assert_int_equal(hash_of(&t_double, &f), -142385009);

    /* The raw function on its own: the empty input and the tail lengths. */
    assert_int_equal(lh_ice_murmur3("", 0), 0);
    assert_int_equal(lh_ice_murmur3("i", 1), lh_ice_murmur3("i", 1));
}

static lh_value
apply(const char *text, const lh_ice_type *src, const lh_value *v)
{
    lh_ice_transform tr;
    lh_ice_transform_parse(text, &tr);
    lh_value out;
    lh_err err;
    lh_rc rc = lh_ice_transform_apply(&tr, src, v, &out, &err);
    if (rc != LH_OK) {
        fail_msg("%s: %s", text, err.msg);
    }
    return out;
}

static void
test_transforms(void **state)
{
    (void)state;
    lh_ice_type t_int = ty(LH_ICE_INT), t_long = ty(LH_ICE_LONG);
    lh_value v = val_i(&t_int, 34);
    lh_value r = apply("bucket[16]", &t_int, &v);
    assert_int_equal(r.type.id, LH_T_INTEGER);
    assert_int_equal(r.u.i, (2017239379 & 0x7fffffff) % 16);
    lh_ice_type t_str = ty(LH_ICE_STRING);
    v = val_s(&t_str, "iceberg", 7);
    r = apply("bucket[100]", &t_str, &v);
    assert_int_equal(r.u.i, (1210000089 & 0x7fffffff) % 100);

    /* truncate: the spec's examples. */
    v = val_i(&t_int, 1);
    assert_int_equal(apply("truncate[10]", &t_int, &v).u.i, 0);
    v = val_i(&t_int, -1);
    assert_int_equal(apply("truncate[10]", &t_int, &v).u.i, -10);
    v = val_i(&t_long, -1);
    assert_int_equal(apply("truncate[10]", &t_long, &v).u.i, -10);
    v = val_i(&t_long, INT64_MIN);
    lh_ice_transform tr;
    lh_ice_transform_parse("truncate[10]", &tr);
    lh_err err;
    assert_int_equal(lh_ice_transform_apply(&tr, &t_long, &v, &r, &err),
                     LH_EINVAL);
    lh_ice_type t_dec = ty(LH_ICE_DECIMAL);
    t_dec.precision = 9;
    t_dec.scale = 2;
    lh_value d;
    memset(&d, 0, sizeof(d));
    d.type = lh_ice_type_to_lh(&t_dec);
    d.u.dec = 1065;
    assert_true(apply("truncate[50]", &t_dec, &d).u.dec == 1050);
    d.u.dec = -1065;
    assert_true(apply("truncate[50]", &t_dec, &d).u.dec == -1100);
    v = val_s(&t_str, "iceberg", 7);
    r = apply("truncate[3]", &t_str, &v);
    assert_int_equal(r.u.s.len, 3);
    /* Code points, not bytes: "ñañ" is 6 bytes. */
    v = val_s(&t_str,
              "\xc3\xb1"
              "a\xc3\xb1",
              5);
    assert_int_equal(apply("truncate[2]", &t_str, &v).u.s.len, 3);
    lh_ice_type t_bin = ty(LH_ICE_BINARY);
    v = val_s(&t_bin, "\x01\x02\x03\x04\x05", 5);
    assert_int_equal(apply("truncate[3]", &t_bin, &v).u.s.len, 3);

    /* Time transforms, both sides of the epoch. */
    lh_ice_type t_date = ty(LH_ICE_DATE), t_ts = ty(LH_ICE_TIMESTAMPTZ);
    v = val_i(&t_date, lh_days_from_civil(2017, 11, 16));
    assert_int_equal(apply("year", &t_date, &v).u.i, 47);
    assert_int_equal(apply("month", &t_date, &v).u.i, 47 * 12 + 10);
    r = apply("day", &t_date, &v);
    assert_int_equal(r.type.id, LH_T_DATE);
    assert_int_equal(r.u.i, 17486);
    v = val_i(&t_ts, -1); /* 1969-12-31T23:59:59.999999 */
    assert_int_equal(apply("year", &t_ts, &v).u.i, -1);
    assert_int_equal(apply("month", &t_ts, &v).u.i, -1);
    assert_int_equal(apply("day", &t_ts, &v).u.i, -1);
    assert_int_equal(apply("hour", &t_ts, &v).u.i, -1);
    v = val_i(&t_ts, 3600 * LH_US_PER_SEC * 25 + 5);
    assert_int_equal(apply("hour", &t_ts, &v).u.i, 25);
    assert_int_equal(apply("day", &t_ts, &v).u.i, 1);

    /* identity, void and null. */
    v = val_i(&t_long, 7);
    assert_int_equal(apply("identity", &t_long, &v).u.i, 7);
    assert_true(apply("void", &t_long, &v).is_null);
    v.is_null = true;
    assert_true(apply("bucket[4]", &t_long, &v).is_null);

    /* What does not apply, and what is unknown. */
    lh_ice_type t_double = ty(LH_ICE_DOUBLE);
    lh_ice_transform_parse("bucket[4]", &tr);
    lh_value dv = val_i(&t_double, 0);
    assert_int_equal(lh_ice_transform_apply(&tr, &t_double, &dv, &r, &err),
                     LH_EINVAL);
    lh_ice_transform_parse("hour", &tr);
    v = val_i(&t_date, 1);
    assert_int_equal(lh_ice_transform_apply(&tr, &t_date, &v, &r, &err),
                     LH_EINVAL);
    static const char *const unknown[] = {"bucket[0]",   "bucket[x]",
                                          "zorder",      "truncate[]",
                                          "bucket[16]x", "bucket[99999999999]"};
    for (size_t i = 0; i < LH_ARRAY_LEN(unknown); i++) {
        lh_ice_transform_parse(unknown[i], &tr);
        assert_int_equal(tr.kind, LH_ICE_TR_UNKNOWN);
        v = val_i(&t_long, 1);
        assert_int_equal(lh_ice_transform_apply(&tr, &t_long, &v, &r, &err),
                         LH_EUNSUPPORTED);
    }
}

static void
roundtrip_bytes(const lh_ice_type *t, const lh_value *v, const char *hex)
{
    lh_buf b = LH_BUF_INIT;
    lh_err err;
    assert_int_equal(lh_ice_value_to_bytes(t, v, &b, &err), LH_OK);
    char got[128] = "";
    for (size_t i = 0; i < b.len; i++) {
        snprintf(got + 2 * i, 3, "%02x", (unsigned char)b.data[i]);
    }
    assert_string_equal(got, hex);
    lh_value back;
    assert_int_equal(
        lh_ice_value_from_bytes(t, (const uint8_t *)b.data, b.len, &back, &err),
        LH_OK);
    assert_int_equal(lh_ice_value_cmp(v, &back), 0);
    lh_buf_release(&b);
}

static void
test_bounds_binary(void **state)
{
    (void)state;
    lh_ice_type t_int = ty(LH_ICE_INT), t_long = ty(LH_ICE_LONG);
    lh_value v = val_i(&t_int, 34);
    roundtrip_bytes(&t_int, &v, "22000000");
    v = val_i(&t_long, -2);
    roundtrip_bytes(&t_long, &v, "feffffffffffffff");
    lh_ice_type t_dec = ty(LH_ICE_DECIMAL);
    t_dec.precision = 38;
    t_dec.scale = 2;
    lh_value d;
    memset(&d, 0, sizeof(d));
    d.type = lh_ice_type_to_lh(&t_dec);
    d.u.dec = 1420;
    roundtrip_bytes(&t_dec, &d, "058c");
    d.u.dec = -1;
    roundtrip_bytes(&t_dec, &d, "ff");
    d.u.dec = 128;
    roundtrip_bytes(&t_dec, &d, "0080");
    d.u.dec = -129;
    roundtrip_bytes(&t_dec, &d, "ff7f");
    d.u.dec = 0;
    roundtrip_bytes(&t_dec, &d, "00");
    lh_ice_type t_str = ty(LH_ICE_STRING);
    v = val_s(&t_str, "ab", 2);
    roundtrip_bytes(&t_str, &v, "6162");
    lh_ice_type t_double = ty(LH_ICE_DOUBLE);
    lh_value f;
    memset(&f, 0, sizeof(f));
    f.type = lh_ice_type_to_lh(&t_double);
    f.u.d = 1.0;
    roundtrip_bytes(&t_double, &f, "000000000000f03f");
    lh_ice_type t_bool = ty(LH_ICE_BOOLEAN);
    lh_value b;
    memset(&b, 0, sizeof(b));
    b.type = lh_ice_type_to_lh(&t_bool);
    b.u.b = true;
    roundtrip_bytes(&t_bool, &b, "01");

    /* Promotions by length: a 4-byte long is an int, a 4-byte double a
     * float, a 4-byte timestamp a date. */
    lh_err err;
    lh_value out;
    const uint8_t four[] = {0xff, 0xff, 0xff, 0xff};
    assert_int_equal(lh_ice_value_from_bytes(&t_long, four, 4, &out, &err),
                     LH_OK);
    assert_int_equal(out.u.i, -1);
    float one = 1.5f;
    uint8_t fb[4];
    memcpy(fb, &one, 4);
    assert_int_equal(lh_ice_value_from_bytes(&t_double, fb, 4, &out, &err),
                     LH_OK);
    assert_true(out.u.d == 1.5);
    lh_ice_type t_ts = ty(LH_ICE_TIMESTAMP);
    const uint8_t day2[] = {2, 0, 0, 0};
    assert_int_equal(lh_ice_value_from_bytes(&t_ts, day2, 4, &out, &err),
                     LH_OK);
    assert_int_equal(out.u.i, 2 * LH_US_PER_DAY);
    /* Wrong lengths are refused. */
    assert_int_equal(lh_ice_value_from_bytes(&t_int, four, 3, &out, &err),
                     LH_EFORMAT);
    lh_ice_type t_uuid = ty(LH_ICE_UUID);
    assert_int_equal(lh_ice_value_from_bytes(&t_uuid, four, 4, &out, &err),
                     LH_EFORMAT);
    assert_int_equal(lh_ice_value_from_bytes(&t_dec, four, 0, &out, &err),
                     LH_EFORMAT);
    lh_ice_type t_struct = ty(LH_ICE_STRUCT);
    assert_int_equal(lh_ice_value_from_bytes(&t_struct, four, 4, &out, &err),
                     LH_EUNSUPPORTED);

    /* Order: IEEE totalOrder for floats, unsigned bytes for strings. */
    lh_value x = f, y = f;
    x.u.d = -0.0;
    y.u.d = 0.0;
    assert_true(lh_ice_value_cmp(&x, &y) < 0);
    y.u.d = NAN;
    assert_true(lh_ice_value_cmp(&x, &y) < 0);
    x.u.d = -INFINITY;
    y.u.d = -1e300;
    assert_true(lh_ice_value_cmp(&x, &y) < 0);
    lh_value s1 = val_s(&t_str, "a\xff", 2), s2 = val_s(&t_str, "ab", 2);
    assert_true(lh_ice_value_cmp(&s2, &s1) < 0);
}

static void
test_json_values(void **state)
{
    (void)state;
    static const struct {
        const char *type;
        const char *json;
        const char *canonical; /* NULL: the same */
    } cases[] = {
        {"boolean", "true", NULL},
        {"int", "34", NULL},
        {"long", "-34", NULL},
        {"float", "1.5", NULL},
        {"double", "0.1", NULL},
        {"decimal(9,2)", "\"14.20\"", NULL},
        {"decimal(9,2)", "\"-0.50\"", NULL},
        {"date", "\"2017-11-16\"", NULL},
        {"time", "\"22:31:08.123456\"", NULL},
        {"timestamp", "\"2017-11-16T22:31:08.123456\"", NULL},
        {"timestamptz", "\"2017-11-16T22:31:08.123456+00:00\"", NULL},
        {"timestamp_ns", "\"2017-11-16T22:31:08.123456789\"",
         "\"2017-11-16T22:31:08.123456000\""},
        {"string", "\"iceberg\"", NULL},
        {"uuid", "\"f79c3e09-677c-4bbd-a479-3f349cb785e7\"", NULL},
        {"fixed[4]", "\"000102ff\"", NULL},
        {"binary", "\"000102ff\"", NULL},
    };
    lh_arena a;
    lh_arena_init(&a, 0);
    for (size_t i = 0; i < LH_ARRAY_LEN(cases); i++) {
        char schema[256];
        snprintf(schema, sizeof(schema),
                 "{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"a\","
                 "\"required\":false,\"type\":\"%s\"}]}",
                 cases[i].type);
        lh_ice_schema s;
        lh_err err;
        assert_int_equal(
            lh_ice_schema_parse_json(schema, strlen(schema), &a, &s, &err),
            LH_OK);
        const lh_ice_type *t = &s.type.fields[0].type;
        json_error_t je;
        json_t *j = json_loads(cases[i].json, JSON_DECODE_ANY, &je);
        assert_non_null(j);
        lh_value v;
        lh_rc rc = lh_ice_value_from_json(t, j, &a, &v, &err);
        json_decref(j);
        if (rc != LH_OK) {
            fail_msg("%s %s: %s", cases[i].type, cases[i].json, err.msg);
        }
        lh_buf b = LH_BUF_INIT;
        assert_int_equal(lh_ice_value_to_json(t, &v, &b), LH_OK);
        assert_string_equal(b.data, cases[i].canonical ? cases[i].canonical
                                                       : cases[i].json);
        lh_buf_release(&b);
    }
    lh_arena_release(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_murmur3_appendix_b),
        cmocka_unit_test(test_transforms),
        cmocka_unit_test(test_bounds_binary),
        cmocka_unit_test(test_json_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
