/*
 * DATE, TIME, TIMESTAMP[TZ] and INTERVAL text, both ways. Expected strings
 * are PostgreSQL's with DateStyle ISO, IntervalStyle postgres and TimeZone
 * UTC; the µs counts were computed with Python's datetime.
 */
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

static const char *
ts(const char *type, int64_t us)
{
    lh_value v = val_i(type, us);
    return text_of(&v);
}

static void
test_timestamp_text(void **state)
{
    (void)state;
    assert_string_equal(ts("TIMESTAMP", 0), "1970-01-01 00:00:00");
    assert_string_equal(ts("TIMESTAMP", 1795608000123000),
                        "2026-11-25 12:00:00.123");
    assert_string_equal(ts("TIMESTAMP", 1795608000000000),
                        "2026-11-25 12:00:00");
    assert_string_equal(ts("TIMESTAMP", 951868799999999),
                        "2000-02-29 23:59:59.999999");
    assert_string_equal(ts("TIMESTAMP", 1000), "1970-01-01 00:00:00.001");
    assert_string_equal(ts("TIMESTAMP", 120), "1970-01-01 00:00:00.00012");
    /* before the epoch: floor division, not truncation */
    assert_string_equal(ts("TIMESTAMP", -1), "1969-12-31 23:59:59.999999");
    assert_string_equal(ts("TIMESTAMP", -1500000), "1969-12-31 23:59:58.5");
    assert_string_equal(ts("TIMESTAMP", -14182939500000),
                        "1969-07-20 20:17:40.5");
    assert_string_equal(ts("TIMESTAMP", -2208988800000000),
                        "1900-01-01 00:00:00");
    assert_string_equal(ts("TIMESTAMP", -62135596800000000),
                        "0001-01-01 00:00:00");
    assert_string_equal(ts("TIMESTAMP", -62135596800000000 - LH_US_PER_DAY),
                        "0001-12-31 00:00:00 BC");
    assert_string_equal(ts("TIMESTAMP", 253402300799000000),
                        "9999-12-31 23:59:59");
    assert_string_equal(ts("TIMESTAMP", 253402300800000000),
                        "10000-01-01 00:00:00");
    /* the extremes do not overflow */
    assert_non_null(ts("TIMESTAMP", INT64_MIN));
    assert_non_null(ts("TIMESTAMP", INT64_MAX));

    assert_string_equal(ts("TIMESTAMPTZ", 1795608000123000),
                        "2026-11-25 12:00:00.123+00");
    assert_string_equal(ts("TIMESTAMPTZ", 0), "1970-01-01 00:00:00+00");
    assert_string_equal(ts("TIMESTAMPTZ", -62135596800000000 - LH_US_PER_DAY),
                        "0001-12-31 00:00:00+00 BC");
}

static void
test_date_time_text(void **state)
{
    (void)state;
    assert_string_equal(ts("DATE", 0), "1970-01-01");
    assert_string_equal(ts("DATE", -1), "1969-12-31");
    assert_string_equal(ts("DATE", 20782), "2026-11-25");
    assert_string_equal(ts("DATE", -719162), "0001-01-01");
    assert_string_equal(ts("DATE", -719163), "0001-12-31 BC");
    assert_string_equal(ts("DATE", -719162 - 366 - 1), "0002-12-31 BC");

    assert_string_equal(ts("TIME", 0), "00:00:00");
    assert_string_equal(ts("TIME", 43200500000), "12:00:00.5");
    assert_string_equal(ts("TIME", 45296789012), "12:34:56.789012");
    assert_string_equal(ts("TIME", LH_US_PER_DAY - 1), "23:59:59.999999");
    assert_string_equal(ts("TIME", LH_US_PER_DAY), "24:00:00");
}

static void
test_timestamp_input(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"2026-11-25 12:00:00.123", "2026-11-25 12:00:00.123"},
        {"2026-11-25T12:00:00Z", "2026-11-25 12:00:00"},
        {"2026-11-25t12:00:00z", "2026-11-25 12:00:00"},
        {"2026-11-25T14:00:00+02:00", "2026-11-25 12:00:00"},
        {"2026-11-25T14:00:00+0200", "2026-11-25 12:00:00"},
        {"2026-11-25 14:00:00+02", "2026-11-25 12:00:00"},
        {"2026-11-25 14:00:00 +02", "2026-11-25 12:00:00"},
        {"2026-11-25 07:30:00-04:30", "2026-11-25 12:00:00"},
        {"2026-11-25 12:00:00 UTC", "2026-11-25 12:00:00"},
        {"2026-11-25 12:00:00+00", "2026-11-25 12:00:00"},
        {"2026-11-26T01:00:00+13:00", "2026-11-25 12:00:00"},
        {"2026-11-25", "2026-11-25 00:00:00"},
        {"  2026-11-25 12:00  ", "2026-11-25 12:00:00"},
        {"2026-1-5 1:02:03", "2026-01-05 01:02:03"},
        {"2026-11-25 12:00:00.000000", "2026-11-25 12:00:00"},
        {"2026-11-25 12:00:00.1234564", "2026-11-25 12:00:00.123456"},
        {"2026-11-25 12:00:00.1234565", "2026-11-25 12:00:00.123457"},
        {"2026-11-25 23:59:59.9999999", "2026-11-26 00:00:00"},
        {"2026-11-25 24:00:00", "2026-11-26 00:00:00"},
        {"2024-02-29 00:00:00", "2024-02-29 00:00:00"},
        {"2000-02-29", "2000-02-29 00:00:00"},
        {"1969-12-31 23:59:59.999999", "1969-12-31 23:59:59.999999"},
        {"0001-12-31 00:00:00 BC", "0001-12-31 00:00:00 BC"},
        {"0044-03-15 12:00:00 bc", "0044-03-15 12:00:00 BC"},
        {"10000-01-01 00:00:00", "10000-01-01 00:00:00"},
        {"2026-11-25 12:00:00 AD", "2026-11-25 12:00:00"},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(cases); i++) {
        assert_string_equal(text_roundtrip("TIMESTAMP", cases[i][0], &arena),
                            cases[i][1]);
    }
    assert_string_equal(
        text_roundtrip("TIMESTAMPTZ", "2026-11-25T14:00:00.5+02:00", &arena),
        "2026-11-25 12:00:00.5+00");
    assert_string_equal(
        text_roundtrip("TIMESTAMPTZ", "2026-11-25 12:00:00.5+00", &arena),
        "2026-11-25 12:00:00.5+00");
}

static void
test_timestamp_input_errors(void **state)
{
    (void)state;
    const char *expect = "expected YYYY-MM-DD[ HH:MM[:SS[.ffffff]]]"
                         "[Z|+HH[:MM]]";
    char msg[256];
    snprintf(msg, sizeof(msg), "invalid TIMESTAMP \"abc\": %s", expect);
    text_fails("TIMESTAMP", "abc", LH_EINVAL, msg, &arena);
    snprintf(msg, sizeof(msg), "invalid TIMESTAMP \"\": %s", expect);
    text_fails("TIMESTAMP", "", LH_EINVAL, msg, &arena);
    snprintf(msg, sizeof(msg), "invalid TIMESTAMPTZ \"2026-11-25 12\": %s",
             expect);
    text_fails("TIMESTAMPTZ", "2026-11-25 12", LH_EINVAL, msg, &arena);
    snprintf(msg, sizeof(msg),
             "invalid TIMESTAMP \"2026-11-25 12:00:00 x\": %s", expect);
    text_fails("TIMESTAMP", "2026-11-25 12:00:00 x", LH_EINVAL, msg, &arena);
    snprintf(msg, sizeof(msg), "invalid TIMESTAMP \"2026-11-25T\": %s", expect);
    text_fails("TIMESTAMP", "2026-11-25T", LH_EINVAL, msg, &arena);
    text_fails("TIMESTAMP", "2026-13-01", LH_EINVAL,
               "invalid TIMESTAMP \"2026-13-01\": month 13 is out of range",
               &arena);
    text_fails("TIMESTAMP", "2026-02-29", LH_EINVAL,
               "invalid TIMESTAMP \"2026-02-29\": day 29 is out of range for "
               "month",
               &arena);
    text_fails("TIMESTAMP", "1900-02-29", LH_EINVAL,
               "invalid TIMESTAMP \"1900-02-29\": day 29 is out of range for "
               "month",
               &arena);
    text_fails("TIMESTAMP", "2026-04-00", LH_EINVAL,
               "invalid TIMESTAMP \"2026-04-00\": day 0 is out of range for "
               "month",
               &arena);
    text_fails("TIMESTAMP", "2026-11-25 25:00:00", LH_EINVAL,
               "invalid TIMESTAMP \"2026-11-25 25:00:00\": time field is out "
               "of range",
               &arena);
    text_fails("TIMESTAMP", "2026-11-25 24:00:01", LH_EINVAL,
               "invalid TIMESTAMP \"2026-11-25 24:00:01\": time field is out "
               "of range",
               &arena);
    text_fails("TIMESTAMP", "2026-11-25 12:60:00", LH_EINVAL,
               "invalid TIMESTAMP \"2026-11-25 12:60:00\": time field is out "
               "of range",
               &arena);
    text_fails("TIMESTAMP", "2026-11-25 12:00:00+16:00", LH_EINVAL,
               "invalid TIMESTAMP \"2026-11-25 12:00:00+16:00\": time zone "
               "offset is out of range",
               &arena);
    text_fails("TIMESTAMP", "0000-01-01", LH_EINVAL,
               "invalid TIMESTAMP \"0000-01-01\": there is no year 0", &arena);
    text_fails("TIMESTAMP", "294277-01-01", LH_EINVAL,
               "invalid TIMESTAMP \"294277-01-01\": year is out of range",
               &arena);
    text_fails("TIMESTAMP", "4714-01-01 BC", LH_EINVAL,
               "invalid TIMESTAMP \"4714-01-01 BC\": year is out of range",
               &arena);
}

static void
test_date_time_input(void **state)
{
    (void)state;
    assert_string_equal(text_roundtrip("DATE", "2026-11-25", &arena),
                        "2026-11-25");
    assert_string_equal(text_roundtrip("DATE", " 1969-12-31 ", &arena),
                        "1969-12-31");
    /* a time after the date is read and dropped, as PostgreSQL does */
    assert_string_equal(text_roundtrip("DATE", "2026-11-25T23:00:00Z", &arena),
                        "2026-11-25");
    assert_string_equal(
        text_roundtrip("DATE", "2026-11-25 23:00:00-05", &arena), "2026-11-25");
    assert_string_equal(text_roundtrip("DATE", "0001-12-31 BC", &arena),
                        "0001-12-31 BC");
    assert_string_equal(text_roundtrip("DATE", "5874897-12-31", &arena),
                        "5874897-12-31");
    /* 1 BC (astronomical year 0) is a leap year */
    assert_string_equal(text_roundtrip("DATE", "0001-02-29 BC", &arena),
                        "0001-02-29 BC");
    text_fails("DATE", "0002-02-29 BC", LH_EINVAL,
               "invalid DATE \"0002-02-29 BC\": day 29 is out of range for "
               "month",
               &arena);
    text_fails("DATE", "2026/11/25", LH_EINVAL,
               "invalid DATE \"2026/11/25\": expected YYYY-MM-DD", &arena);
    text_fails("DATE", "2026-11-31", LH_EINVAL,
               "invalid DATE \"2026-11-31\": day 31 is out of range for month",
               &arena);

    assert_string_equal(text_roundtrip("TIME", "12:00:00.5", &arena),
                        "12:00:00.5");
    assert_string_equal(text_roundtrip("TIME", "12:00", &arena), "12:00:00");
    assert_string_equal(text_roundtrip("TIME", "7:05:03", &arena), "07:05:03");
    assert_string_equal(text_roundtrip("TIME", "24:00:00", &arena), "24:00:00");
    assert_string_equal(text_roundtrip("TIME", "23:59:59.999999", &arena),
                        "23:59:59.999999");
    text_fails("TIME", "25:00", LH_EINVAL,
               "invalid TIME \"25:00\": time field is out of range", &arena);
    text_fails("TIME", "noon", LH_EINVAL,
               "invalid TIME \"noon\": expected HH:MM[:SS[.ffffff]]", &arena);
    text_fails("TIME", "12:00:00+02", LH_EINVAL,
               "invalid TIME \"12:00:00+02\": expected HH:MM[:SS[.ffffff]]",
               &arena);
}

static const char *
iv(int32_t months, int32_t days, int64_t micros)
{
    lh_value v = val_i("INTERVAL", 0);
    v.u.iv.months = months;
    v.u.iv.days = days;
    v.u.iv.micros = micros;
    return text_of(&v);
}

#define H (INT64_C(3600) * LH_US_PER_SEC)
#define M (INT64_C(60) * LH_US_PER_SEC)
#define S LH_US_PER_SEC

static void
test_interval_text(void **state)
{
    (void)state;
    assert_string_equal(iv(0, 0, 0), "00:00:00");
    assert_string_equal(iv(0, 1, 2 * H), "1 day 02:00:00");
    assert_string_equal(iv(14, 3, 4 * H + 5 * M + 6 * S + 500000),
                        "1 year 2 mons 3 days 04:05:06.5");
    assert_string_equal(iv(0, -1, 0), "-1 days");
    assert_string_equal(iv(0, 2, 0), "2 days");
    assert_string_equal(iv(1, 0, 0), "1 mon");
    assert_string_equal(iv(12, 0, 0), "1 year");
    assert_string_equal(iv(24, 0, 0), "2 years");
    assert_string_equal(iv(-14, 0, 0), "-1 years -2 mons");
    assert_string_equal(iv(0, -1, 2 * H), "-1 days +02:00:00");
    assert_string_equal(iv(-1, 1, 0), "-1 mons +1 day");
    assert_string_equal(iv(0, 1, -2 * H), "1 day -02:00:00");
    assert_string_equal(iv(0, 0, -H), "-01:00:00");
    assert_string_equal(iv(0, 0, -5 * S), "-00:00:05");
    assert_string_equal(iv(0, 0, 100 * H), "100:00:00");
    assert_string_equal(iv(0, 0, 1), "00:00:00.000001");
    assert_string_equal(iv(0, 0, 90 * M), "01:30:00");
    /* no overflow at the extremes */
    assert_string_equal(iv(0, 0, INT64_MIN), "-2562047788:00:54.775808");
    assert_string_equal(iv(0, 0, INT64_MAX), "2562047788:00:54.775807");
    assert_string_equal(iv(INT32_MIN, INT32_MIN, 0),
                        "-178956970 years -8 mons -2147483648 days");
}

static void
interval_is(const char *in, int32_t months, int32_t days, int64_t micros)
{
    lh_value v;
    lh_err err;
    lh_type t = type_of("INTERVAL");
    if (lh_value_from_text(t, in, strlen(in), &arena, &v, &err) != LH_OK) {
        fail_msg("INTERVAL \"%s\": %s", in, err.msg);
    }
    if (v.u.iv.months != months || v.u.iv.days != days ||
        v.u.iv.micros != micros) {
        fail_msg("INTERVAL \"%s\": got {%d, %d, %lld}, expected {%d, %d, "
                 "%lld}",
                 in, v.u.iv.months, v.u.iv.days, (long long)v.u.iv.micros,
                 months, days, (long long)micros);
    }
}

static void
test_interval_input(void **state)
{
    (void)state;
    /* the output forms read back */
    interval_is("00:00:00", 0, 0, 0);
    interval_is("1 day 02:00:00", 0, 1, 2 * H);
    interval_is("1 year 2 mons 3 days 04:05:06.5", 14, 3,
                4 * H + 5 * M + 6 * S + 500000);
    interval_is("-1 days", 0, -1, 0);
    interval_is("-1 years -2 mons", -14, 0, 0);
    interval_is("-1 days +02:00:00", 0, -1, 2 * H);
    interval_is("1 day -02:00:00", 0, 1, -2 * H);
    interval_is("100:00:00", 0, 0, 100 * H);
    interval_is("00:00:00.000001", 0, 0, 1);
    /* other PostgreSQL input forms */
    interval_is("3 hours", 0, 0, 3 * H);
    interval_is("90 minutes", 0, 0, 90 * M);
    interval_is("1.5 days", 0, 1, 12 * H);
    interval_is("1.5 months", 1, 15, 0);
    interval_is("1.5 years", 18, 0, 0);
    interval_is("2 weeks", 0, 14, 0);
    interval_is("1 day ago", 0, -1, 0);
    interval_is("@ 1 hour", 0, 0, H);
    interval_is("1h 30m", 0, 0, 90 * M);
    interval_is("500 ms", 0, 0, 500000);
    interval_is("10", 0, 0, 10 * S);
    interval_is("1 decade", 120, 0, 0);
    interval_is("  2 DAYS  ", 0, 2, 0);
    interval_is("1:30", 0, 0, 90 * M);
    /* ISO 8601 */
    interval_is("P1Y2M3DT4H5M6.5S", 14, 3, 4 * H + 5 * M + 6 * S + 500000);
    interval_is("PT0S", 0, 0, 0);
    interval_is("P2W", 0, 14, 0);
    interval_is("PT36H", 0, 0, 36 * H);
    interval_is("-P1D", 0, -1, 0);
    /* the extremes read back */
    interval_is("-2562047788:00:54.775808", 0, 0, INT64_MIN);
    interval_is("2562047788:00:54.775807", 0, 0, INT64_MAX);
    interval_is("-178956970 years -8 mons -2147483648 days", INT32_MIN,
                INT32_MIN, 0);

    const char *msg = "expected a form such as \"1 day 02:00:00\", \"3 "
                      "hours\" or \"P1DT2H\"";
    char full[256];
    const char *bad[] = {"abc", "",    "1 fortnight", "day",
                         "P",   "P1X", "1 day x",     "ago"};
    for (size_t i = 0; i < LH_ARRAY_LEN(bad); i++) {
        snprintf(full, sizeof(full), "invalid INTERVAL \"%s\": %s", bad[i],
                 msg);
        text_fails("INTERVAL", bad[i], LH_EINVAL, full, &arena);
    }
    text_fails("INTERVAL", "9999999999 years", LH_EINVAL,
               "INTERVAL \"9999999999 years\" is out of range", &arena);
    text_fails("INTERVAL", "2562047788:00:54.775808", LH_EINVAL,
               "INTERVAL \"2562047788:00:54.775808\" is out of range", &arena);
    text_fails("INTERVAL", "2147483648 days", LH_EINVAL,
               "INTERVAL \"2147483648 days\" is out of range", &arena);
}

static void
test_timestamp_int64_edge(void **state)
{
    (void)state;
    lh_value v;
    lh_err err;
    lh_type t = type_of("TIMESTAMP");
    const char *last = "294247-01-10 04:00:54.775807";
    assert_int_equal(
        lh_value_from_text(t, last, strlen(last), &arena, &v, &err), LH_OK);
    assert_int_equal(v.u.i, INT64_MAX);
    const char *past = "294247-01-10 04:00:54.775808";
    assert_int_equal(
        lh_value_from_text(t, past, strlen(past), &arena, &v, &err), LH_EINVAL);
    assert_non_null(strstr(err.msg, "out of range"));
    const char *far = "294276-12-31 00:00:00";
    assert_int_equal(lh_value_from_text(t, far, strlen(far), &arena, &v, &err),
                     LH_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timestamp_text),
        cmocka_unit_test(test_timestamp_int64_edge),
        cmocka_unit_test(test_date_time_text),
        cmocka_unit_test(test_timestamp_input),
        cmocka_unit_test(test_timestamp_input_errors),
        cmocka_unit_test(test_date_time_input),
        cmocka_unit_test(test_interval_text),
        cmocka_unit_test(test_interval_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
