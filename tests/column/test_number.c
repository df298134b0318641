/*
 * Doubles, floats and DECIMAL as text. The expected strings are what
 * PostgreSQL 12+ prints for float8, float4 and numeric (SELECT 0.1::float8,
 * 1e300::float8, 1e-7::float8, 123456789012345678::float8, '-0'::float8,
 * 1e6::float4, ...).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "column_test.h"

static const char *
dbl(double d)
{
    char *r = ring_next();
    size_t n = lh_double_format(d, r);
    assert_int_equal(n, strlen(r));
    assert_true(n < 32);
    return r;
}

static const char *
flt(float f)
{
    char *r = ring_next();
    size_t n = lh_float_format(f, r);
    assert_int_equal(n, strlen(r));
    assert_true(n < 32);
    return r;
}

static void
test_double_postgres(void **state)
{
    (void)state;
    assert_string_equal(dbl(0.1), "0.1");
    assert_string_equal(dbl(1e300), "1e+300");
    assert_string_equal(dbl(1e-7), "1e-07");
    assert_string_equal(dbl(123456789012345678.0), "1.2345678901234568e+17");
    assert_string_equal(dbl(-0.0), "-0");
    assert_string_equal(dbl(0.0), "0");
    assert_string_equal(dbl(NAN), "NaN");
    assert_string_equal(dbl(INFINITY), "Infinity");
    assert_string_equal(dbl(-INFINITY), "-Infinity");
    assert_string_equal(dbl(1.0), "1");
    assert_string_equal(dbl(-1.5), "-1.5");
    assert_string_equal(dbl(100), "100");
    assert_string_equal(dbl(1e14), "100000000000000");
    assert_string_equal(dbl(1e15), "1e+15");
    assert_string_equal(dbl(123456789012345.0), "123456789012345");
    assert_string_equal(dbl(1234567890123456.0), "1.234567890123456e+15");
    assert_string_equal(dbl(9007199254740993.0), "9.007199254740992e+15");
    assert_string_equal(dbl(0.0001), "0.0001");
    assert_string_equal(dbl(0.00001), "1e-05");
    assert_string_equal(dbl(0.000123), "0.000123");
    assert_string_equal(dbl(1.5e-7), "1.5e-07");
    assert_string_equal(dbl(0.1 + 0.2), "0.30000000000000004");
    assert_string_equal(dbl(1.0 / 3), "0.3333333333333333");
    assert_string_equal(dbl(2.0 / 3), "0.6666666666666666");
    assert_string_equal(dbl(3.14159), "3.14159");
    assert_string_equal(dbl(-1e-300), "-1e-300");
    assert_string_equal(dbl(DBL_MAX), "1.7976931348623157e+308");
    assert_string_equal(dbl(DBL_MIN), "2.2250738585072014e-308");
    assert_string_equal(dbl(5e-324), "5e-324"); /* smallest subnormal */
    assert_string_equal(dbl(1e23), "1e+23");
    assert_string_equal(dbl(12345.678), "12345.678");
}

static void
test_float_postgres(void **state)
{
    (void)state;
    assert_string_equal(flt(0.1f), "0.1");
    assert_string_equal(flt(1.0f), "1");
    assert_string_equal(flt(123456.0f), "123456");
    assert_string_equal(flt(1e6f), "1e+06");
    assert_string_equal(flt(1234567.0f), "1.234567e+06");
    assert_string_equal(flt(16777216.0f), "1.6777216e+07");
    assert_string_equal(flt(0.0001f), "0.0001");
    assert_string_equal(flt(1.5e-7f), "1.5e-07");
    assert_string_equal(flt(0.3f), "0.3");
    assert_string_equal(flt(1.0f / 3), "0.33333334");
    assert_string_equal(flt(FLT_MAX), "3.4028235e+38");
    assert_string_equal(flt(1e-45f), "1e-45");
    assert_string_equal(flt(-0.0f), "-0");
    assert_string_equal(flt(NAN), "NaN");
    assert_string_equal(flt(-INFINITY), "-Infinity");
}

/* xorshift: the same numbers on every run */
static uint64_t
next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Every double reads back, and one digit fewer would not. */
static void
test_double_shortest_roundtrip(void **state)
{
    (void)state;
    uint64_t seed = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 200000; i++) {
        uint64_t bits = next_rand(&seed);
        double d;
        memcpy(&d, &bits, sizeof(d));
        if (!isfinite(d)) {
            continue;
        }
        const char *s = dbl(d);
        if (strtod(s, NULL) != d) {
            fail_msg("%.17g printed as %s", d, s);
        }
        /* the significant digits printed: no leading or trailing zeros */
        char sig[40];
        int digits = 0;
        for (const char *p = s; *p != '\0' && *p != 'e'; p++) {
            if ((*p >= '1' && *p <= '9') || (*p == '0' && digits > 0)) {
                sig[digits++] = *p;
            }
        }
        while (digits > 1 && sig[digits - 1] == '0') {
            digits--;
        }
        if (digits > 1) {
            char shorter[40];
            snprintf(shorter, sizeof(shorter), "%.*e", digits - 2, d);
            if (strtod(shorter, NULL) == d) {
                fail_msg("%s is not the shortest form of %.17g (%s)", s, d,
                         shorter);
            }
        }
    }
}

static void
test_float_shortest_roundtrip(void **state)
{
    (void)state;
    uint64_t seed = 12345;
    for (int i = 0; i < 200000; i++) {
        uint32_t bits = (uint32_t)next_rand(&seed);
        float f;
        memcpy(&f, &bits, sizeof(f));
        if (!isfinite(f)) {
            continue;
        }
        const char *s = flt(f);
        if (strtof(s, NULL) != f) {
            fail_msg("%.9g printed as %s", (double)f, s);
        }
    }
}

/* ---- DECIMAL ------------------------------------------------------------- */

static const char *
dec(lh_i128 v, int scale)
{
    char *r = ring_next();
    size_t n = lh_decimal_format(v, scale, r);
    assert_int_equal(n, strlen(r));
    assert_true(n < 48);
    return r;
}

static lh_i128
pow10_i128(int n)
{
    lh_i128 v = 1;
    for (int i = 0; i < n; i++) {
        v *= 10;
    }
    return v;
}

static void
test_decimal_format(void **state)
{
    (void)state;
    assert_string_equal(dec(12345, 2), "123.45");
    assert_string_equal(dec(1234500, 4), "123.4500");
    assert_string_equal(dec(-5, 2), "-0.05");
    assert_string_equal(dec(-50, 2), "-0.50");
    assert_string_equal(dec(0, 3), "0.000");
    assert_string_equal(dec(0, 0), "0");
    assert_string_equal(dec(7, 0), "7");
    assert_string_equal(dec(-7, 0), "-7");
    assert_string_equal(dec(1, 38), "0.00000000000000000000000000000000000001");
    lh_i128 nines = pow10_i128(38) - 1;
    assert_string_equal(dec(nines, 0),
                        "99999999999999999999999999999999999999");
    assert_string_equal(dec(-nines, 0),
                        "-99999999999999999999999999999999999999");
    assert_string_equal(dec(nines, 38),
                        "0.99999999999999999999999999999999999999");
    assert_string_equal(dec(-nines, 2),
                        "-999999999999999999999999999999999999.99");
    /* the most negative i128 still prints (no overflow negating it) */
    lh_i128 min = (lh_i128)((unsigned __int128)1 << 127);
    assert_string_equal(dec(min, 0),
                        "-170141183460469231731687303715884105728");
}

static lh_i128
parse_ok(const char *s, int p, int sc)
{
    lh_i128 v = -1;
    lh_err err;
    lh_rc rc = lh_decimal_parse(s, strlen(s), p, sc, &v, &err);
    if (rc != LH_OK) {
        fail_msg("\"%s\" as DECIMAL(%d,%d): %s", s, p, sc, err.msg);
    }
    return v;
}

static void
parse_fails(const char *s, int p, int sc, lh_rc code, const char *msg)
{
    lh_i128 v = -1;
    lh_err err;
    lh_rc rc = lh_decimal_parse(s, strlen(s), p, sc, &v, &err);
    if (rc == LH_OK) {
        fail_msg("\"%s\" as DECIMAL(%d,%d) gave %s", s, p, sc, dec(v, sc));
    }
    assert_int_equal(rc, code);
    assert_int_equal(err.code, code);
    assert_string_equal(err.msg, msg);
    assert_true(v == 0);
}

static void
test_decimal_parse(void **state)
{
    (void)state;
    assert_true(parse_ok("123.45", 5, 2) == 12345);
    assert_true(parse_ok("-0.05", 5, 2) == -5);
    assert_true(parse_ok("+1", 5, 2) == 100);
    assert_true(parse_ok("1e3", 6, 2) == 100000);
    assert_true(parse_ok("1E+3", 6, 2) == 100000);
    assert_true(parse_ok("1.5E-1", 5, 2) == 15);
    assert_true(parse_ok("150e-3", 5, 2) == 15);
    assert_true(parse_ok(".5", 5, 2) == 50);
    assert_true(parse_ok("5.", 5, 2) == 500);
    assert_true(parse_ok("  12.30 ", 5, 2) == 1230);
    assert_true(parse_ok("1.500", 5, 1) == 15);   /* zeros are not digits */
    assert_true(parse_ok("0.000000", 5, 2) == 0); /* nor here */
    assert_true(parse_ok("-0", 5, 2) == 0);
    assert_true(parse_ok("0e999999999999", 5, 2) == 0);
    assert_true(parse_ok("999.99", 5, 2) == 99999);
    assert_true(parse_ok("00000000000000000000000000000000000000000000012", 5,
                         0) == 12);
    /* 50 zeros after the 1, then scaled back down */
    assert_true(parse_ok("100000000000000000000000000000000000000000000000000"
                         "e-50",
                         5, 0) == 1);
    assert_true(parse_ok("1e37", 38, 0) == pow10_i128(37));
    /* the edge of p = 38: 38 nines */
    lh_i128 nines = pow10_i128(38) - 1;
    assert_true(parse_ok("99999999999999999999999999999999999999", 38, 0) ==
                nines);
    assert_true(parse_ok("-99999999999999999999999999999999999999", 38, 0) ==
                -nines);
    assert_true(parse_ok("0.99999999999999999999999999999999999999", 38, 38) ==
                nines);
    assert_true(parse_ok("999999999999999999999999999999999999.99", 38, 2) ==
                nines);
}

static void
test_decimal_parse_errors(void **state)
{
    (void)state;
    parse_fails("1.234", 5, 2, LH_ELIMIT,
                "value \"1.234\" has more fraction digits than DECIMAL(5,2) "
                "holds (2)");
    parse_fails("0.001", 5, 0, LH_ELIMIT,
                "value \"0.001\" has more fraction digits than DECIMAL(5,0) "
                "holds (0)");
    parse_fails("1234", 5, 2, LH_ELIMIT,
                "value \"1234\" is out of range for DECIMAL(5,2)");
    parse_fails("1000.00", 5, 2, LH_ELIMIT,
                "value \"1000.00\" is out of range for DECIMAL(5,2)");
    parse_fails("1e3", 5, 2, LH_ELIMIT,
                "value \"1e3\" is out of range for DECIMAL(5,2)");
    parse_fails("999999999999999999999999999999999999999", 38, 0, LH_ELIMIT,
                "value \"999999999999999999999999999999999999999\" is out of "
                "range for DECIMAL(38,0)");
    parse_fails("1e38", 38, 0, LH_ELIMIT,
                "value \"1e38\" is out of range for DECIMAL(38,0)");
    parse_fails("1e999999999999999999", 38, 0, LH_ELIMIT,
                "value \"1e999999999999999999\" is out of range for "
                "DECIMAL(38,0)");
    parse_fails("1e-999999999999999999", 38, 2, LH_ELIMIT,
                "value \"1e-999999999999999999\" has more fraction digits "
                "than DECIMAL(38,2) holds (2)");
    parse_fails("abc", 5, 2, LH_EINVAL, "invalid DECIMAL(5,2) \"abc\"");
    parse_fails("", 5, 2, LH_EINVAL, "invalid DECIMAL(5,2) \"\"");
    parse_fails(".", 5, 2, LH_EINVAL, "invalid DECIMAL(5,2) \".\"");
    parse_fails("1e", 5, 2, LH_EINVAL, "invalid DECIMAL(5,2) \"1e\"");
    parse_fails("1.2.3", 5, 2, LH_EINVAL, "invalid DECIMAL(5,2) \"1.2.3\"");
    parse_fails("--1", 5, 2, LH_EINVAL, "invalid DECIMAL(5,2) \"--1\"");
    parse_fails("1 2", 5, 2, LH_EINVAL, "invalid DECIMAL(5,2) \"1 2\"");
    parse_fails("NaN", 5, 2, LH_EINVAL, "invalid DECIMAL(5,2) \"NaN\"");
    parse_fails("0x10", 5, 2, LH_EINVAL, "invalid DECIMAL(5,2) \"0x10\"");
}

static void
test_decimal_roundtrip(void **state)
{
    (void)state;
    uint64_t seed = 777;
    for (int i = 0; i < 20000; i++) {
        int p = 1 + (int)(next_rand(&seed) % 38);
        int sc = (int)(next_rand(&seed) % (uint64_t)(p + 1));
        int digits = 1 + (int)(next_rand(&seed) % (uint64_t)p);
        lh_i128 v = 0;
        for (int k = 0; k < digits; k++) {
            v = v * 10 + (lh_i128)(next_rand(&seed) % 10);
        }
        if (next_rand(&seed) & 1) {
            v = -v;
        }
        const char *s = dec(v, sc);
        assert_true(parse_ok(s, p, sc) == v);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_double_postgres),
        cmocka_unit_test(test_float_postgres),
        cmocka_unit_test(test_double_shortest_roundtrip),
        cmocka_unit_test(test_float_shortest_roundtrip),
        cmocka_unit_test(test_decimal_format),
        cmocka_unit_test(test_decimal_parse),
        cmocka_unit_test(test_decimal_parse_errors),
        cmocka_unit_test(test_decimal_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
