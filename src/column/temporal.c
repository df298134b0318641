/*
 * DATE, TIME, TIMESTAMP[TZ] and INTERVAL as PostgreSQL writes and reads
 * them (DateStyle ISO, IntervalStyle postgres, TimeZone UTC).
 *
 * Years before 1 are written as PostgreSQL does, "0001-12-31 BC" for the
 * astronomical year 0; the ranges are PostgreSQL's: DATE from 4713 BC to
 * 5874897, TIMESTAMP to 294276 (the µs count stays inside int64).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "column/column_int.h"

#define US_PER_MIN (INT64_C(60) * LH_US_PER_SEC)
#define US_PER_HOUR (INT64_C(60) * US_PER_MIN)
#define MIN_YEAR (-4712) /* 4713 BC */
#define MAX_DATE_YEAR INT64_C(5874897)
#define MAX_TS_YEAR INT64_C(294276)
/* PostgreSQL accepts zone offsets up to 15:59:59 */
#define MAX_ZONE_HOURS 15

/* q = floor(a / b), *r = a - q * b in [0, b), without overflow */
static int64_t
floor_divmod(int64_t a, int64_t b, int64_t *r)
{
    int64_t q = a / b;
    int64_t m = a % b;
    if (m < 0) {
        m += b;
        q--;
    }
    *r = m;
    return q;
}

/* ".5", ".123456": the µs fraction with trailing zeros dropped, or
 * nothing when zero. */
static void
frac_text(lh_buf *b, int64_t us)
{
    char d[8];
    if (us == 0) {
        return;
    }
    snprintf(d, sizeof(d), "%06lld", (long long)us);
    int n = 6;
    while (d[n - 1] == '0') {
        n--;
    }
    lh_buf_putc(b, '.');
    lh_buf_append(b, d, (size_t)n);
}

/* "YYYY-MM-DD" and whether the year is BC */
static bool
ymd_text(lh_buf *b, int64_t days)
{
    int64_t y = 0;
    unsigned m = 0;
    unsigned d = 0;
    lh_civil_from_days(days, &y, &m, &d);
    bool bc = y <= 0;
    lh_buf_printf(b, "%04lld-%02u-%02u", (long long)(bc ? 1 - y : y), m, d);
    return bc;
}

/* "HH:MM:SS[.ffffff]" of a non-negative µs count (hours may pass 24) */
static void
hms_text(lh_buf *b, uint64_t us)
{
    uint64_t secs = us / (uint64_t)LH_US_PER_SEC;
    lh_buf_printf(b, "%02llu:%02llu:%02llu", (unsigned long long)(secs / 3600),
                  (unsigned long long)(secs / 60 % 60),
                  (unsigned long long)(secs % 60));
    frac_text(b, (int64_t)(us % (uint64_t)LH_US_PER_SEC));
}

void
lh__date_text(lh_buf *b, int64_t days)
{
    if (ymd_text(b, days)) {
        lh_buf_puts(b, " BC");
    }
}

void
lh__time_text(lh_buf *b, int64_t us)
{
    if (us < 0) {
        lh_buf_putc(b, '-');
        hms_text(b, (uint64_t)0 - (uint64_t)us);
    } else {
        hms_text(b, (uint64_t)us);
    }
}

void
lh__timestamp_text(lh_buf *b, int64_t us, bool tz)
{
    int64_t tod = 0;
    int64_t days = floor_divmod(us, LH_US_PER_DAY, &tod);
    bool bc = ymd_text(b, days);
    lh_buf_putc(b, ' ');
    hms_text(b, (uint64_t)tod);
    if (tz) {
        lh_buf_puts(b, "+00");
    }
    if (bc) {
        lh_buf_puts(b, " BC");
    }
}

/* PostgreSQL's AddPostgresIntPart: " 3 days", "+1 mon" after a negative
 * field, "s" unless the value is exactly 1. */
static void
interval_part(lh_buf *b, int64_t v, const char *unit, bool *is_zero,
              bool *is_before)
{
    if (v == 0) {
        return;
    }
    lh_buf_printf(b, "%s%s%lld %s%s", *is_zero ? "" : " ",
                  *is_before && v > 0 ? "+" : "", (long long)v, unit,
                  v != 1 ? "s" : "");
    *is_before = v < 0;
    *is_zero = false;
}

void
lh__interval_text(lh_buf *b, const lh_interval *iv)
{
    bool is_zero = true;
    bool is_before = false;
    interval_part(b, iv->months / 12, "year", &is_zero, &is_before);
    interval_part(b, iv->months % 12, "mon", &is_zero, &is_before);
    interval_part(b, iv->days, "day", &is_zero, &is_before);
    if (is_zero || iv->micros != 0) {
        bool minus = iv->micros < 0;
        lh_buf_printf(b, "%s%s", is_zero ? "" : " ",
                      minus ? "-" : (is_before ? "+" : ""));
        hms_text(b, minus ? (uint64_t)0 - (uint64_t)iv->micros
                          : (uint64_t)iv->micros);
    }
}

/* ---- parsing ------------------------------------------------------------- */

typedef struct cur {
    const char *p;
    const char *end;
} cur;

static bool
at_end(const cur *c)
{
    return c->p >= c->end;
}

static bool
peek(const cur *c, char ch)
{
    return c->p < c->end && *c->p == ch;
}

static bool
accept(cur *c, char ch)
{
    if (peek(c, ch)) {
        c->p++;
        return true;
    }
    return false;
}

static bool
is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool
is_alpha(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static void
skip_spaces(cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t')) {
        c->p++;
    }
}

/* min..max decimal digits into *v (what follows is the caller's to
 * check); false, cursor unmoved, when fewer than min */
static bool
number(cur *c, int min, int max, int64_t *v)
{
    const char *p = c->p;
    int64_t x = 0;
    int n = 0;
    while (p < c->end && is_digit(*p) && n < max) {
        x = x * 10 + (*p - '0');
        p++;
        n++;
    }
    if (n < min) {
        return false;
    }
    c->p = p;
    *v = x;
    return true;
}

/* ".ffffff...": µs, rounded half up at the seventh digit */
static int64_t
fraction(cur *c)
{
    int64_t us = 0;
    int n = 0;
    if (!(c->p + 1 < c->end && *c->p == '.' && is_digit(c->p[1]))) {
        return 0;
    }
    c->p++;
    for (; c->p < c->end && is_digit(*c->p); c->p++, n++) {
        if (n < 6) {
            us = us * 10 + (*c->p - '0');
        } else if (n == 6 && *c->p >= '5') {
            us++;
        }
    }
    for (; n < 6; n++) {
        us *= 10;
    }
    return us;
}

static bool
leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int64_t y, int64_t m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Why a text did not parse, for the message. */
typedef struct why {
    char msg[96];
} why;

/* "YYYY-MM-DD" as written; checked by check_date once the era is known */
static bool
ymd(cur *c, int64_t *y, int64_t *m, int64_t *d)
{
    return number(c, 1, 7, y) && accept(c, '-') && number(c, 1, 2, m) &&
           accept(c, '-') && number(c, 1, 2, d);
}

/* "HH:MM[:SS[.ffffff]]" -> µs; 24:00:00 allowed, seconds up to 60 (a
 * leap second rolls over, as in PostgreSQL) */
static bool
hms(cur *c, int64_t *us, why *w)
{
    int64_t h = 0;
    int64_t mi = 0;
    int64_t s = 0;
    int64_t f = 0;
    if (!number(c, 1, 2, &h) || !accept(c, ':') || !number(c, 1, 2, &mi)) {
        return false;
    }
    if (accept(c, ':')) {
        if (!number(c, 1, 2, &s)) {
            return false;
        }
        f = fraction(c);
    }
    if (h > 24 || mi > 59 || s > 60 || (h == 24 && (mi | s | f) != 0)) {
        snprintf(w->msg, sizeof(w->msg), "time field is out of range");
        return false;
    }
    *us = h * US_PER_HOUR + mi * US_PER_MIN + s * LH_US_PER_SEC + f;
    return true;
}

/* "Z", "UTC", "GMT", "+HH", "+HHMM", "+HH:MM", "+HH:MM:SS" -> seconds east
 * of UTC; true with 0 when there is no zone */
static bool
zone(cur *c, int64_t *east, why *w)
{
    *east = 0;
    skip_spaces(c);
    if (accept(c, 'Z') || accept(c, 'z')) {
        return true;
    }
    if (c->end - c->p >= 3 &&
        (lh__eq_nocase(c->p, 3, "UTC") || lh__eq_nocase(c->p, 3, "GMT"))) {
        c->p += 3;
        return true;
    }
    if (!peek(c, '+') && !peek(c, '-')) {
        return true;
    }
    bool neg = *c->p++ == '-';
    int64_t h = 0;
    int64_t m = 0;
    int64_t s = 0;
    if (!number(c, 1, 2, &h)) {
        return false;
    }
    bool colon = accept(c, ':');
    if (colon || (c->p < c->end && is_digit(*c->p))) {
        if (!number(c, 2, 2, &m)) {
            return false;
        }
        if ((colon ? accept(c, ':') : false) ||
            (!colon && c->p < c->end && is_digit(*c->p))) {
            if (!number(c, 2, 2, &s)) {
                return false;
            }
        }
    }
    if (h > MAX_ZONE_HOURS || m > 59 || s > 59) {
        snprintf(w->msg, sizeof(w->msg), "time zone offset is out of range");
        return false;
    }
    *east = (h * 3600 + m * 60 + s) * (neg ? -1 : 1);
    return true;
}

/* optional " BC" / " AD" after everything else */
static bool
era_bc(cur *c)
{
    skip_spaces(c);
    if (c->end - c->p >= 2 && lh__eq_nocase(c->p, 2, "BC")) {
        c->p += 2;
        return true;
    }
    if (c->end - c->p >= 2 && lh__eq_nocase(c->p, 2, "AD")) {
        c->p += 2;
    }
    return false;
}

static lh_rc
bad(lh_err *err, const char *type, const char *s, size_t n, const why *w,
    const char *expect)
{
    char q[LH__QUOTE_SIZE];
    if (w->msg[0] != '\0') {
        return lh_err_set(err, LH_EINVAL, "invalid %s %s: %s", type,
                          lh__quote(q, s, n), w->msg);
    }
    return lh_err_set(err, LH_EINVAL, "invalid %s %s: expected %s", type,
                      lh__quote(q, s, n), expect);
}

/* Checks a written date (year, era, month, day) against the calendar and
 * the type's range; *days is the result. */
static bool
check_date(int64_t y, bool bc, int64_t m, int64_t d, int64_t max_year,
           int64_t *days, why *w)
{
    if (y == 0) {
        snprintf(w->msg, sizeof(w->msg), "there is no year 0");
        return false;
    }
    int64_t a = bc ? 1 - y : y; /* astronomical: 1 BC is year 0 */
    if (a < MIN_YEAR || a > max_year) {
        snprintf(w->msg, sizeof(w->msg), "year is out of range");
        return false;
    }
    if (m < 1 || m > 12) {
        snprintf(w->msg, sizeof(w->msg), "month %lld is out of range",
                 (long long)m);
        return false;
    }
    if (d < 1 || d > month_days(a, m)) {
        snprintf(w->msg, sizeof(w->msg), "day %lld is out of range for month",
                 (long long)d);
        return false;
    }
    *days = lh_days_from_civil(a, (unsigned)m, (unsigned)d);
    return true;
}

/* After a date: " HH:MM...", "THH:MM...", or nothing. */
static bool
time_after_date(cur *c, int64_t *tod, why *w)
{
    *tod = 0;
    if (accept(c, 'T') || accept(c, 't')) {
        return hms(c, tod, w);
    }
    cur save = *c;
    skip_spaces(c);
    if (c->p > save.p && c->p < c->end && is_digit(*c->p)) {
        return hms(c, tod, w);
    }
    *c = save;
    return true;
}

lh_rc
lh__date_parse(const char *s, size_t n, int64_t *days, lh_err *err)
{
    static const char expect[] = "YYYY-MM-DD";
    why w = {""};
    int64_t y = 0;
    int64_t m = 0;
    int64_t d = 0;
    int64_t tod = 0;
    int64_t east = 0;
    const char *t = lh__trim(s, &n);
    cur c = {t, t + n};

    *days = 0;
    /* a time and zone after the date are read and dropped, as
     * PostgreSQL's date input does */
    if (!ymd(&c, &y, &m, &d) || !time_after_date(&c, &tod, &w) ||
        !zone(&c, &east, &w)) {
        return bad(err, "DATE", t, n, &w, expect);
    }
    bool bc = era_bc(&c);
    if (!at_end(&c) || !check_date(y, bc, m, d, MAX_DATE_YEAR, days, &w)) {
        *days = 0;
        return bad(err, "DATE", t, n, &w, expect);
    }
    return LH_OK;
}

lh_rc
lh__time_parse(const char *s, size_t n, int64_t *us, lh_err *err)
{
    static const char expect[] = "HH:MM[:SS[.ffffff]]";
    why w = {""};
    const char *t = lh__trim(s, &n);
    cur c = {t, t + n};

    *us = 0;
    if (!hms(&c, us, &w) || !at_end(&c)) {
        *us = 0;
        return bad(err, "TIME", t, n, &w, expect);
    }
    if (*us > LH_US_PER_DAY) {
        *us = 0;
        w = (why){"time field is out of range"};
        return bad(err, "TIME", t, n, &w, expect);
    }
    return LH_OK;
}

lh_rc
lh__timestamp_parse(const char *s, size_t n, bool tz, int64_t *us, lh_err *err)
{
    static const char expect[] = "YYYY-MM-DD[ HH:MM[:SS[.ffffff]]][Z|+HH[:MM]]";
    const char *type = tz ? "TIMESTAMPTZ" : "TIMESTAMP";
    why w = {""};
    int64_t y = 0;
    int64_t m = 0;
    int64_t d = 0;
    int64_t tod = 0;
    int64_t east = 0;
    const char *t = lh__trim(s, &n);
    cur c = {t, t + n};

    int64_t days = 0;
    *us = 0;
    if (!ymd(&c, &y, &m, &d) || !time_after_date(&c, &tod, &w) ||
        !zone(&c, &east, &w)) {
        return bad(err, type, t, n, &w, expect);
    }
    bool bc = era_bc(&c);
    if (!at_end(&c) || !check_date(y, bc, m, d, MAX_TS_YEAR, &days, &w)) {
        return bad(err, type, t, n, &w, expect);
    }
    /* The year cap (PostgreSQL's, counted from 2000) reaches past what
     * int64 µs since 1970 hold: check, do not trust the range. */
    int64_t v;
    if (__builtin_mul_overflow(days, LH_US_PER_DAY, &v) ||
        __builtin_add_overflow(v, tod - east * LH_US_PER_SEC, &v)) {
        w = (why){"timestamp out of range"};
        return bad(err, type, t, n, &w, expect);
    }
    *us = v;
    return LH_OK;
}

/* ---- INTERVAL input ------------------------------------------------------ */

/* An interval being summed: whole fields plus the fractions that spill
 * down (PostgreSQL: a fraction of a month is 30 days, of a day 24 hours). */
typedef struct acc {
    int64_t months;
    int64_t days;
    int64_t micros;
    bool overflow;
} acc;

static void
add(int64_t *field, int64_t v, bool *overflow)
{
    if (__builtin_add_overflow(*field, v, field)) {
        *overflow = true;
    }
}

static void
add_scaled(int64_t *field, int64_t whole, int64_t mul, bool *overflow)
{
    int64_t v = 0;
    if (__builtin_mul_overflow(whole, mul, &v)) {
        *overflow = true;
        return;
    }
    add(field, v, overflow);
}

/* A fraction of a unit (|frac| < 1) spilled into µs. */
static void
add_frac_us(acc *a, double frac, int64_t us_per_unit)
{
    add(&a->micros, (int64_t)llround(frac * (double)us_per_unit), &a->overflow);
}

typedef enum unit {
    U_NONE,
    U_US,
    U_MS,
    U_SEC,
    U_MIN,
    U_HOUR,
    U_DAY,
    U_WEEK,
    U_MONTH,
    U_YEAR,
    U_DECADE,
    U_CENTURY,
    U_MILLENNIUM,
} unit;

static unit
unit_of(const char *w, size_t n)
{
    static const struct {
        const char *name;
        unit u;
    } units[] = {
        {"microsecond", U_US},
        {"microseconds", U_US},
        {"usec", U_US},
        {"usecs", U_US},
        {"us", U_US},
        {"millisecond", U_MS},
        {"milliseconds", U_MS},
        {"msec", U_MS},
        {"msecs", U_MS},
        {"ms", U_MS},
        {"second", U_SEC},
        {"seconds", U_SEC},
        {"sec", U_SEC},
        {"secs", U_SEC},
        {"s", U_SEC},
        {"minute", U_MIN},
        {"minutes", U_MIN},
        {"min", U_MIN},
        {"mins", U_MIN},
        {"m", U_MIN},
        {"hour", U_HOUR},
        {"hours", U_HOUR},
        {"hr", U_HOUR},
        {"hrs", U_HOUR},
        {"h", U_HOUR},
        {"day", U_DAY},
        {"days", U_DAY},
        {"d", U_DAY},
        {"week", U_WEEK},
        {"weeks", U_WEEK},
        {"w", U_WEEK},
        {"month", U_MONTH},
        {"months", U_MONTH},
        {"mon", U_MONTH},
        {"mons", U_MONTH},
        {"year", U_YEAR},
        {"years", U_YEAR},
        {"yr", U_YEAR},
        {"yrs", U_YEAR},
        {"y", U_YEAR},
        {"decade", U_DECADE},
        {"decades", U_DECADE},
        {"century", U_CENTURY},
        {"centuries", U_CENTURY},
        {"millennium", U_MILLENNIUM},
        {"millennia", U_MILLENNIUM},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(units); i++) {
        if (lh__eq_nocase(w, n, units[i].name)) {
            return units[i].u;
        }
    }
    return U_NONE;
}

/* Adds whole + frac units (frac has whole's sign, |frac| < 1). */
static void
add_units(acc *a, unit u, int64_t whole, double frac)
{
    bool *of = &a->overflow;
    switch (u) {
    case U_US:
        add(&a->micros, whole, of);
        add(&a->micros, (int64_t)llround(frac), of);
        break;
    case U_MS:
        add_scaled(&a->micros, whole, 1000, of);
        add_frac_us(a, frac, 1000);
        break;
    case U_SEC:
        add_scaled(&a->micros, whole, LH_US_PER_SEC, of);
        add_frac_us(a, frac, LH_US_PER_SEC);
        break;
    case U_MIN:
        add_scaled(&a->micros, whole, US_PER_MIN, of);
        add_frac_us(a, frac, US_PER_MIN);
        break;
    case U_HOUR:
        add_scaled(&a->micros, whole, US_PER_HOUR, of);
        add_frac_us(a, frac, US_PER_HOUR);
        break;
    case U_DAY:
        add(&a->days, whole, of);
        add_frac_us(a, frac, LH_US_PER_DAY);
        break;
    case U_WEEK: {
        add_scaled(&a->days, whole, 7, of);
        double fd = frac * 7;
        add(&a->days, (int64_t)fd, of);
        add_frac_us(a, fd - (double)(int64_t)fd, LH_US_PER_DAY);
        break;
    }
    case U_MONTH: {
        add(&a->months, whole, of);
        double fd = frac * 30;
        add(&a->days, (int64_t)fd, of);
        add_frac_us(a, fd - (double)(int64_t)fd, LH_US_PER_DAY);
        break;
    }
    case U_YEAR:
    case U_DECADE:
    case U_CENTURY:
    case U_MILLENNIUM: {
        int64_t years = u == U_YEAR      ? 1
                        : u == U_DECADE  ? 10
                        : u == U_CENTURY ? 100
                                         : 1000;
        add_scaled(&a->months, whole, 12 * years, of);
        /* PostgreSQL: fractional years become whole months */
        add(&a->months, (int64_t)llround(frac * 12.0 * (double)years), of);
        break;
    }
    case U_NONE:
        break;
    }
}

/* [+-]digits[.digits] -> whole and signed fraction */
static bool
signed_number(cur *c, int64_t *whole, double *frac)
{
    const char *start = c->p;
    bool neg = false;
    if (peek(c, '+') || peek(c, '-')) {
        neg = *c->p == '-';
        c->p++;
    }
    int64_t w = 0;
    int nd = 0;
    for (; c->p < c->end && is_digit(*c->p); c->p++, nd++) {
        if (__builtin_mul_overflow(w, 10, &w) ||
            __builtin_add_overflow(w, *c->p - '0', &w)) {
            c->p = start;
            return false;
        }
    }
    double f = 0;
    if (peek(c, '.')) {
        double scale = 0.1;
        c->p++;
        for (; c->p < c->end && is_digit(*c->p); c->p++, nd++) {
            f += (*c->p - '0') * scale;
            scale /= 10;
        }
    }
    if (nd == 0) {
        c->p = start;
        return false;
    }
    *whole = neg ? -w : w;
    *frac = neg ? -f : f;
    return true;
}

/* "[+-]H+:MM[:SS[.f]]" as µs (the sign covers all of it). Each part is
 * added with its sign so that the most negative interval reads back. */
static bool
time_token(cur *c, acc *a)
{
    cur t = *c;
    int64_t sign = 1;
    int64_t h = 0;
    int64_t mi = 0;
    int64_t s = 0;
    if (peek(&t, '+') || peek(&t, '-')) {
        sign = *t.p++ == '-' ? -1 : 1;
    }
    if (!number(&t, 1, 12, &h) || !accept(&t, ':') || !number(&t, 1, 2, &mi)) {
        return false;
    }
    int64_t f = 0;
    if (accept(&t, ':')) {
        if (!number(&t, 1, 2, &s)) {
            return false;
        }
        f = fraction(&t);
    }
    if (mi > 59 || s > 59) {
        return false;
    }
    int64_t us = 0;
    add_scaled(&us, sign * h, US_PER_HOUR, &a->overflow);
    add(&us, sign * (mi * US_PER_MIN + s * LH_US_PER_SEC + f), &a->overflow);
    add(&a->micros, us, &a->overflow);
    *c = t;
    return true;
}

/* PostgreSQL's verbose form: "1 year 2 mons -3 days +04:05:06.5 ago",
 * "@ 1 hour", "90 minutes", "1.5 days", a bare number of seconds. */
static bool
parse_verbose(cur *c, acc *a)
{
    bool ago = false;
    bool any = false;
    skip_spaces(c);
    accept(c, '@');
    for (;;) {
        skip_spaces(c);
        if (at_end(c)) {
            break;
        }
        if (ago) {
            return false; /* "ago" must come last */
        }
        const char *w = c->p;
        while (c->p < c->end && is_alpha(*c->p)) {
            c->p++;
        }
        if (c->p > w) {
            if (!lh__eq_nocase(w, (size_t)(c->p - w), "ago") || !any) {
                return false;
            }
            ago = true;
            continue;
        }
        if (time_token(c, a)) {
            any = true;
            continue;
        }
        int64_t whole = 0;
        double frac = 0;
        if (!signed_number(c, &whole, &frac)) {
            return false;
        }
        skip_spaces(c);
        w = c->p;
        while (c->p < c->end && is_alpha(*c->p)) {
            c->p++;
        }
        unit u = U_SEC; /* a bare number is seconds */
        if (c->p > w) {
            u = unit_of(w, (size_t)(c->p - w));
            if (u == U_NONE) {
                if (lh__eq_nocase(w, (size_t)(c->p - w), "ago")) {
                    c->p = w; /* "5 ago": seconds, then ago */
                    u = U_SEC;
                } else {
                    return false;
                }
            }
        }
        add_units(a, u, whole, frac);
        any = true;
    }
    if (ago) {
        a->months = -a->months;
        a->days = -a->days;
        a->micros = -a->micros;
    }
    return any;
}

/* ISO 8601 durations: "P1Y2M3DT4H5M6.5S", "PT0S", "P2W", "-P1D" */
static bool
parse_iso(cur *c, acc *a)
{
    bool neg = accept(c, '-');
    if (!accept(c, 'P') && !accept(c, 'p')) {
        return false;
    }
    bool in_time = false;
    bool any = false;
    while (!at_end(c)) {
        if (!in_time && (accept(c, 'T') || accept(c, 't'))) {
            in_time = true;
            continue;
        }
        int64_t whole = 0;
        double frac = 0;
        if (!signed_number(c, &whole, &frac) || at_end(c)) {
            return false;
        }
        char d = *c->p++;
        if (d >= 'a' && d <= 'z') {
            d = (char)(d - 'a' + 'A');
        }
        unit u = U_NONE;
        if (!in_time) {
            u = d == 'Y'   ? U_YEAR
                : d == 'M' ? U_MONTH
                : d == 'W' ? U_WEEK
                : d == 'D' ? U_DAY
                           : U_NONE;
        } else {
            u = d == 'H'   ? U_HOUR
                : d == 'M' ? U_MIN
                : d == 'S' ? U_SEC
                           : U_NONE;
        }
        if (u == U_NONE) {
            return false;
        }
        add_units(a, u, whole, frac);
        any = true;
    }
    if (neg) {
        a->months = -a->months;
        a->days = -a->days;
        a->micros = -a->micros;
    }
    return any;
}

lh_rc
lh__interval_parse(const char *s, size_t n, lh_interval *iv, lh_err *err)
{
    char q[LH__QUOTE_SIZE];
    acc a = {0, 0, 0, false};
    const char *t = lh__trim(s, &n);
    cur c = {t, t + n};
    bool iso =
        n > 0 && (t[0] == 'P' || t[0] == 'p' ||
                  (n > 1 && t[0] == '-' && (t[1] == 'P' || t[1] == 'p')));
    bool ok = iso ? parse_iso(&c, &a) : parse_verbose(&c, &a);

    memset(iv, 0, sizeof(*iv));
    if (!ok) {
        return lh_err_set(err, LH_EINVAL,
                          "invalid INTERVAL %s: expected a form such as "
                          "\"1 day 02:00:00\", \"3 hours\" or \"P1DT2H\"",
                          lh__quote(q, t, n));
    }
    if (a.overflow || a.months < INT32_MIN || a.months > INT32_MAX ||
        a.days < INT32_MIN || a.days > INT32_MAX) {
        return lh_err_set(err, LH_EINVAL, "INTERVAL %s is out of range",
                          lh__quote(q, t, n));
    }
    iv->months = (int32_t)a.months;
    iv->days = (int32_t)a.days;
    iv->micros = a.micros;
    return LH_OK;
}
