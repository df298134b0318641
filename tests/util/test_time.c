/* Unit tests: clocks, ISO-8601, civil dates, durations. */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/util_int.h"

/* 2026-01-01T00:00:00Z */
#define T2026 (INT64_C(1767225600) * LH_US_PER_SEC)

static int
unfreeze(void **state)
{
    (void)state;
    lh_time_set_frozen(0, false);
    unsetenv("LH_NOW");
    lh__time_reload_env();
    return 0;
}

/* Small deterministic PRNG (splitmix64) so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t
rng(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static lh_us
parse_ok(const char *s)
{
    lh_us t = 0;
    lh_err e;
    lh_rc rc = lh_time_parse(s, strlen(s), &t, &e);
    if (rc != LH_OK) {
        fail_msg("parse \"%s\": %s", s, e.msg);
    }
    return t;
}

static void
test_parse_forms(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2026-01-01"), T2026);
    assert_int_equal(parse_ok("2026-01-01T00:00:00Z"), T2026);
    assert_int_equal(parse_ok("2026-01-01t00:00:00z"), T2026);
    assert_int_equal(parse_ok("2026-01-01T00:00:00"), T2026);
    assert_int_equal(parse_ok("2026-01-01 00:00:00"), T2026);
    assert_int_equal(parse_ok("2026-01-01 00:00:00.123456"), T2026 + 123456);
    assert_int_equal(parse_ok("2026-01-01T00:00:00.5Z"), T2026 + 500000);
    assert_int_equal(parse_ok("2026-01-01T00:00:00,25Z"), T2026 + 250000);
    /* Beyond µs is truncated, not rounded. */
    assert_int_equal(parse_ok("2026-01-01T00:00:00.1234569Z"), T2026 + 123456);
    assert_int_equal(parse_ok("2026-01-01T00:00:00.000000001Z"), T2026);
    assert_int_equal(parse_ok("2026-01-01T02:00:00+02:00"), T2026);
    assert_int_equal(parse_ok("2026-01-01T02:00:00+0200"), T2026);
    assert_int_equal(parse_ok("2026-01-01 02:00:00+02"), T2026);
    assert_int_equal(parse_ok("2025-12-31T19:00:00-05:00"), T2026);
    assert_int_equal(parse_ok("2025-12-31T18:30:00-0530"), T2026);
    assert_int_equal(parse_ok("2026-01-01T00:00:00-00:00"), T2026);
    assert_int_equal(parse_ok("2026-01-01T10:30Z"),
                     T2026 + INT64_C(37800) * LH_US_PER_SEC);
    assert_int_equal(parse_ok("2026-01-01T23:59:59.999999Z"),
                     T2026 + LH_US_PER_DAY - 1);
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_ok("1969-12-31T23:59:59.999999Z"), -1);
    assert_int_equal(parse_ok("1969-12-31T23:59:59Z"), -LH_US_PER_SEC);
    assert_int_equal(parse_ok("0001-01-01T00:00:00Z"),
                     INT64_C(-62135596800) * LH_US_PER_SEC);
    assert_int_equal(parse_ok("9999-12-31T23:59:59.999999Z"),
                     INT64_C(253402300799999999));
    assert_int_equal(parse_ok("2000-02-29"),
                     INT64_C(951782400) * LH_US_PER_SEC);

    /* len is honoured: the text need not be NUL-terminated. */
    lh_us t;
    assert_int_equal(lh_time_parse("2026-01-01XYZ", 10, &t, NULL), LH_OK);
    assert_int_equal(t, T2026);
}

static void
expect_bad(const char *s, size_t len, const char *why)
{
    lh_us t = 12345;
    lh_err e;
    lh_rc rc = lh_time_parse(s, len, &t, &e);
    if (rc != LH_EINVAL) {
        fail_msg("\"%.*s\" parsed (rc %d, t %lld)", (int)len, s, rc,
                 (long long)t);
    }
    assert_int_equal(e.code, LH_EINVAL);
    assert_int_equal(t, 12345); /* *out untouched */
    char want[600];
    snprintf(want, sizeof(want), "invalid timestamp \"%.*s\": %s", (int)len, s,
             why);
    assert_string_equal(e.msg, want);
    assert_int_equal(lh_time_parse(s, len, &t, NULL), LH_EINVAL);
}

static void
test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        const char *why;
    } cases[] = {
        {"", "expected a date as YYYY-MM-DD"},
        {"2026", "expected a date as YYYY-MM-DD"},
        {"20260101", "expected a date as YYYY-MM-DD"},
        {"2026-1-01", "expected a date as YYYY-MM-DD"},
        {"+2026-01-01", "expected a date as YYYY-MM-DD"},
        {" 2026-01-01", "expected a date as YYYY-MM-DD"},
        {"yesterday", "expected a date as YYYY-MM-DD"},
        {"0000-01-01", "year out of range"},
        {"2026-13-01", "month out of range"},
        {"2026-00-10", "month out of range"},
        {"2026-01-32", "day out of range"},
        {"2026-01-00", "day out of range"},
        {"2026-02-30", "day out of range"},
        {"2026-04-31", "day out of range"},
        {"2023-02-29", "day out of range"},
        {"1900-02-29", "day out of range"},
        {"2100-02-29", "day out of range"},
        {"2026-01-01x", "unexpected text after the date"},
        {"2026-01-01 ", "expected a time as HH:MM:SS"},
        {"2026-01-01Z", "unexpected text after the date"},
        {"2026-01-01T", "expected a time as HH:MM:SS"},
        {"2026-01-01T1:00:00Z", "expected a time as HH:MM:SS"},
        {"2026-01-01T10", "expected a time as HH:MM:SS"},
        {"2026-01-01T10:00:", "expected a time as HH:MM:SS"},
        {"2026-01-01T25:00:00Z", "hour out of range"},
        {"2026-01-01T24:00:00Z", "hour out of range"},
        {"2026-01-01T12:60:00Z", "minute out of range"},
        {"2026-01-01T12:00:60Z", "second out of range"},
        {"2026-01-01T00:00:00.", "expected digits after the decimal point"},
        {"2026-01-01T00:00:00.Z", "expected digits after the decimal point"},
        {"2026-01-01T00:00:00Zjunk", "unexpected text after the time"},
        {"2026-01-01T00:00:00 Z", "unexpected text after the time"},
        {"2026-01-01T00:00:00 ", "unexpected text after the time"},
        {"2026-01-01T00:00:00x", "unexpected text after the time"},
        {"2026-01-01T00:00:00+2",
         "expected a zone offset as +HH, +HHMM or +HH:MM"},
        {"2026-01-01T00:00:00+02:", "expected a zone offset as +HH, +HHMM "
                                    "or +HH:MM"},
        {"2026-01-01T00:00:00+02:0", "expected a zone offset as +HH, +HHMM "
                                     "or +HH:MM"},
        {"2026-01-01T00:00:00+25:00", "zone offset out of range"},
        {"2026-01-01T00:00:00+02:60", "zone offset out of range"},
        {"2026-01-01T00:00:00+02:00:00", "unexpected text after the time"},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(cases); i++) {
        expect_bad(cases[i].s, strlen(cases[i].s), cases[i].why);
    }
    /* An embedded NUL is junk, not the end. */
    expect_bad("2026-01-01\0T00", 14, "unexpected text after the date");

    /* Long input is quoted cut. */
    char big[300];
    memcpy(big, "2026-01-01", 10);
    memset(big + 10, 'x', sizeof(big) - 10);
    lh_err e;
    lh_us t;
    assert_int_equal(lh_time_parse(big, sizeof(big), &t, &e), LH_EINVAL);
    assert_true(strstr(e.msg, "...\": unexpected text after the date") != NULL);
    assert_true(strlen(e.msg) < 120);
}

static void
check_format(lh_us t, const char *want)
{
    char buf[32];
    size_t n = lh_time_format_iso(t, buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void
test_format(void **state)
{
    (void)state;
    check_format(0, "1970-01-01T00:00:00Z");
    check_format(T2026, "2026-01-01T00:00:00Z");
    check_format(T2026 + 123456, "2026-01-01T00:00:00.123456Z");
    check_format(T2026 + 100000, "2026-01-01T00:00:00.1Z");
    check_format(T2026 + 1500, "2026-01-01T00:00:00.0015Z");
    check_format(T2026 + 1, "2026-01-01T00:00:00.000001Z");
    check_format(-1, "1969-12-31T23:59:59.999999Z");
    check_format(-LH_US_PER_SEC, "1969-12-31T23:59:59Z");
    check_format(-LH_US_PER_DAY, "1969-12-31T00:00:00Z");
    check_format(INT64_C(951782400) * LH_US_PER_SEC + 3723 * LH_US_PER_SEC,
                 "2000-02-29T01:02:03Z");
    check_format(INT64_C(-62135596800) * LH_US_PER_SEC, "0001-01-01T00:00:00Z");
    check_format(INT64_C(-62135596800) * LH_US_PER_SEC - 1,
                 "0000-12-31T23:59:59.999999Z");
    check_format(INT64_C(253402300800) * LH_US_PER_SEC,
                 "+10000-01-01T00:00:00Z");
    /* The extremes of the type fit in 32 bytes. */
    check_format(INT64_MAX, "+294247-01-10T04:00:54.775807Z");
    check_format(INT64_MIN, "-290308-12-21T19:59:05.224192Z");
}

static void
test_round_trip_random(void **state)
{
    (void)state;
    const lh_us lo = INT64_C(-62135596800) * LH_US_PER_SEC; /* 0001-01-01 */
    const lh_us hi = INT64_C(253402300800) * LH_US_PER_SEC; /* 10000-01-01 */
    const uint64_t span = (uint64_t)(hi - lo);
    int negatives = 0;
    for (int i = 0; i < 300000; i++) {
        lh_us t = lo + (lh_us)(rng() % span);
        switch (i % 4) {
        case 1: /* whole seconds */
            t -= ((t % LH_US_PER_SEC) + LH_US_PER_SEC) % LH_US_PER_SEC;
            break;
        case 2: /* near the epoch */
            t = (lh_us)(rng() % (2 * LH_US_PER_DAY * 400)) -
                LH_US_PER_DAY * 400;
            break;
        default:
            break;
        }
        if (t < lo) {
            t = lo;
        }
        negatives += t < 0;
        char buf[32];
        size_t n = lh_time_format_iso(t, buf);
        lh_us back = 0;
        lh_err e;
        if (lh_time_parse(buf, n, &back, &e) != LH_OK) {
            fail_msg("%lld formatted as %s: %s", (long long)t, buf, e.msg);
        }
        if (back != t) {
            fail_msg("%lld -> %s -> %lld", (long long)t, buf, (long long)back);
        }
    }
    assert_true(negatives > 1000);
}

static bool
naive_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static void
test_civil(void **state)
{
    (void)state;
    assert_int_equal(lh_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(lh_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(lh_days_from_civil(2000, 1, 1), 10957);
    assert_int_equal(lh_days_from_civil(2026, 1, 1), 20454);
    assert_int_equal(lh_days_from_civil(1, 1, 1), -719162);
    assert_int_equal(lh_days_from_civil(0, 3, 1), -719468);

    /* Leap years: Feb has 29 days exactly when the Gregorian rule says. */
    int leaps = 0;
    for (int64_t y = 1600; y <= 2400; y++) {
        int64_t feb = lh_days_from_civil(y, 3, 1) - lh_days_from_civil(y, 2, 1);
        assert_int_equal(feb, naive_leap(y) ? 29 : 28);
        leaps += naive_leap(y);
    }
    assert_int_equal(leaps, 195);
    assert_int_equal(
        lh_days_from_civil(2000, 3, 1) - lh_days_from_civil(2000, 2, 28), 2);
    assert_int_equal(
        lh_days_from_civil(1900, 3, 1) - lh_days_from_civil(1900, 2, 28), 1);

    /* Walk every day from about year -1000 to 10000 against a naive
     * calendar, both ways. */
    int64_t y = -1000;
    unsigned m = 1, d = 1;
    static const unsigned dim[12] = {31, 28, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31};
    int64_t start = lh_days_from_civil(y, m, d);
    for (int64_t day = start; y <= 10000; day++) {
        int64_t cy;
        unsigned cm, cd;
        lh_civil_from_days(day, &cy, &cm, &cd);
        if (cy != y || cm != m || cd != d) {
            fail_msg("day %lld: got %lld-%u-%u want %lld-%u-%u", (long long)day,
                     (long long)cy, cm, cd, (long long)y, m, d);
        }
        if (lh_days_from_civil(y, m, d) != day) {
            fail_msg("%lld-%u-%u: not day %lld", (long long)y, m, d,
                     (long long)day);
        }
        unsigned len = dim[m - 1] + (m == 2 && naive_leap(y));
        if (++d > len) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
}

static void
test_frozen_and_clocks(void **state)
{
    (void)state;
    lh_us real = lh_real_now();
    assert_true(real > INT64_C(1600000000) * LH_US_PER_SEC);
    lh_us now = lh_now();
    assert_true(now >= real && now - real < 60 * LH_US_PER_SEC);

    lh_time_set_frozen(T2026, true);
    assert_int_equal(lh_now(), T2026);
    assert_int_equal(lh_clock_now(), T2026);
    lh_time_set_frozen(0, true); /* frozen at the epoch itself */
    assert_int_equal(lh_now(), 0);
    lh_time_set_frozen(-5, true);
    assert_int_equal(lh_now(), -5);
    lh_time_set_frozen(0, false);
    now = lh_now();
    assert_true(now > INT64_C(1600000000) * LH_US_PER_SEC);

    lh_us m1 = lh_mono_now();
    lh_us m2 = lh_mono_now();
    assert_true(m2 >= m1);
    usleep(2000);
    assert_true(lh_mono_now() - m1 >= 2000);
}

static void
test_env(void **state)
{
    (void)state;
    lh_err e;
    setenv("LH_NOW", "2026-01-01T02:00:00+02:00", 1);
    lh__time_reload_env();
    assert_int_equal(lh_now(), T2026);
    assert_int_equal(lh_clock_now(), T2026);
    assert_int_equal(lh_time_check_env(&e), LH_OK);

    /* The test override wins over LH_NOW, and gives it back. */
    lh_time_set_frozen(42, true);
    assert_int_equal(lh_now(), 42);
    lh_time_set_frozen(0, false);
    assert_int_equal(lh_now(), T2026);

    setenv("LH_NOW", "2026-02-30", 1);
    lh__time_reload_env();
    lh_us real = lh_real_now();
    lh_us now = lh_now(); /* falls back to the real clock */
    assert_true(now >= real && now - real < 60 * LH_US_PER_SEC);
    assert_int_equal(lh_time_check_env(&e), LH_EINVAL);
    assert_int_equal(e.code, LH_EINVAL);
    assert_string_equal(e.msg,
                        "invalid LH_NOW \"2026-02-30\": day out of range");
    assert_int_equal(lh_time_check_env(NULL), LH_EINVAL);

    setenv("LH_NOW", "", 1); /* empty = unset */
    lh__time_reload_env();
    assert_int_equal(lh_time_check_env(&e), LH_OK);
    unsetenv("LH_NOW");
    lh__time_reload_env();
    assert_int_equal(lh_time_check_env(&e), LH_OK);
    assert_true(lh_now() > T2026 - 365 * LH_US_PER_DAY);
}

/* LH_NOW read at the first call, without the test hook. */
static void
test_env_first_call_in_child(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("LH_NOW", "1999-12-31T23:59:59.5Z", 1);
        lh_us want = parse_ok("1999-12-31T23:59:59.5Z");
        int ok = lh_now() == want && lh_clock_now() == want &&
                 lh_time_check_env(NULL) == LH_OK;
        setenv("LH_NOW", "2026-01-01", 1); /* read once: no effect now */
        ok = ok && lh_now() == want;
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static lh_us
dur_ok(const char *s)
{
    lh_us d = -1;
    lh_err e;
    if (lh_duration_parse(s, &d, &e) != LH_OK) {
        fail_msg("duration \"%s\": %s", s, e.msg);
    }
    return d;
}

static void
test_durations(void **state)
{
    (void)state;
    const lh_us S = LH_US_PER_SEC, M = 60 * S, H = 60 * M, D = 24 * H;
    assert_int_equal(dur_ok("72h"), 72 * H);
    assert_int_equal(dur_ok("90d"), 90 * D);
    assert_int_equal(dur_ok("30m"), 30 * M);
    assert_int_equal(dur_ok("15s"), 15 * S);
    assert_int_equal(dur_ok("500ms"), 500000);
    assert_int_equal(dur_ok("1d12h"), 36 * H);
    assert_int_equal(dur_ok("1w"), 7 * D);
    assert_int_equal(dur_ok("2w3d4h5m6s7ms"),
                     14 * D + 3 * D + 4 * H + 5 * M + 6 * S + 7000);
    assert_int_equal(dur_ok("1m30s"), 90 * S);
    assert_int_equal(dur_ok("90"), 90 * S);
    assert_int_equal(dur_ok("0"), 0);
    assert_int_equal(dur_ok("0s"), 0);
    assert_int_equal(dur_ok("007s"), 7 * S);
    /* INT64_MAX µs is 106751991 days and 4.01 hours. */
    assert_int_equal(dur_ok("106751991d4h"), 106751991 * D + 4 * H);
    assert_int_equal(dur_ok("9223372036854775ms"),
                     INT64_C(9223372036854775000));
}

static void
dur_bad(const char *s, const char *why)
{
    lh_us d = 77;
    lh_err e;
    lh_rc rc = lh_duration_parse(s, &d, &e);
    if (rc != LH_EINVAL) {
        fail_msg("duration \"%s\" parsed as %lld", s, (long long)d);
    }
    assert_int_equal(d, 77);
    char want[600];
    snprintf(want, sizeof(want), "invalid duration \"%s\": %s", s, why);
    assert_string_equal(e.msg, want);
}

static void
test_duration_errors(void **state)
{
    (void)state;
    const char *order = "units must go from largest to smallest, each once";
    const char *unknown = "unknown unit (expected ms, s, m, h, d or w)";
    const char *unit = "expected a unit (ms, s, m, h, d or w)";
    dur_bad("", "empty");
    dur_bad("-5s", "negative");
    dur_bad("-5", "negative");
    dur_bad("+5s", "expected a number");
    dur_bad(" 5s", "expected a number");
    dur_bad("h", "expected a number");
    dur_bad("1.5h", unit);
    dur_bad("5s ", "expected a number");
    dur_bad("5 s", unit);
    dur_bad("5S", unit);
    dur_bad("1h30", unit);
    dur_bad("5x", unknown);
    dur_bad("5sec", unknown);
    dur_bad("5y", unknown);
    dur_bad("1h1d", order);
    dur_bad("1h1h", order);
    dur_bad("1ms1s", order);
    dur_bad("9223372036854775808", "too large");
    dur_bad("9223372036854775807", "too large"); /* as seconds, in µs */
    dur_bad("99999999999999999999w", "too large");
    dur_bad("9223372036854775807ms", "too large");
    dur_bad("106751992d", "too large");
    dur_bad("106751991d5h", "too large");
    dur_bad("1d23h59m59s999ms1", unit);
}

static void
test_parse_offsets_stay_in_range(void **state)
{
    (void)state;
    lh_us t;
    lh_err err;
    assert_int_equal(lh_time_parse("0001-01-01T00:00:00+01:00", 25, &t, &err),
                     LH_EINVAL);
    assert_non_null(strstr(err.msg, "0001-9999"));
    assert_int_equal(lh_time_parse("9999-12-31T23:30:00-01:00", 25, &t, &err),
                     LH_EINVAL);
    assert_int_equal(lh_time_parse("0001-01-01T00:00:00-01:00", 25, &t, &err),
                     LH_OK);
    char buf[32];
    lh_time_format_iso(t, buf);
    assert_string_equal(buf, "0001-01-01T01:00:00Z");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env_first_call_in_child),
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_offsets_stay_in_range),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_round_trip_random),
        cmocka_unit_test(test_civil),
        cmocka_unit_test_teardown(test_frozen_and_clocks, unfreeze),
        cmocka_unit_test_teardown(test_env, unfreeze),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_duration_errors),
    };
    unsetenv("LH_NOW");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
