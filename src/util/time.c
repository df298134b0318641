/* Time: the product's clock, ISO-8601 parsing and formatting, civil dates,
 * durations. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/util_int.h"

/* ---- clocks ------------------------------------------------------------- */

static lh_us
clock_us(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0) {
        return 0; /* only EINVAL for a bad id, which these are not */
    }
    return (lh_us)ts.tv_sec * LH_US_PER_SEC + ts.tv_nsec / 1000;
}

lh_us
lh_real_now(void)
{
    return clock_us(CLOCK_REALTIME);
}

lh_us
lh_mono_now(void)
{
    return clock_us(CLOCK_MONOTONIC);
}

/* LH_NOW, as read at the first lh_now(). */
static struct {
    bool set;   /* LH_NOW is set and non-empty */
    bool valid; /* ... and parsed */
    lh_us at;
    char text[128]; /* the value, cut, for the error message */
    const char *why;
} env_now;

static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static _Atomic bool frozen_on;
static _Atomic lh_us frozen_at;

static const char *parse_iso(const char *s, size_t len, lh_us *out);

static void
load_env(void)
{
    memset(&env_now, 0, sizeof(env_now));
    const char *v = getenv("LH_NOW");
    if (v == NULL || v[0] == '\0') {
        return;
    }
    env_now.set = true;
    snprintf(env_now.text, sizeof(env_now.text), "%s", v);
    env_now.why = parse_iso(v, strlen(v), &env_now.at);
    env_now.valid = env_now.why == NULL;
}

void
lh__time_reload_env(void)
{
    pthread_once(&env_once, load_env);
    load_env();
}

lh_us
lh_now(void)
{
    if (atomic_load_explicit(&frozen_on, memory_order_acquire)) {
        return atomic_load_explicit(&frozen_at, memory_order_relaxed);
    }
    pthread_once(&env_once, load_env);
    if (env_now.valid) {
        return env_now.at;
    }
    return lh_real_now();
}

int64_t
lh_clock_now(void)
{
    return lh_now();
}

void
lh_clock_set(int64_t at)
{
    lh_time_set_frozen(at, at != 0);
}

lh_rc
lh_time_check_env(lh_err *err)
{
    pthread_once(&env_once, load_env);
    if (env_now.set && !env_now.valid) {
        return lh_err_set(err, LH_EINVAL, "invalid LH_NOW \"%s\": %s",
                          env_now.text, env_now.why);
    }
    return LH_OK;
}

void
lh_time_set_frozen(lh_us at, bool frozen)
{
    if (frozen) {
        atomic_store_explicit(&frozen_at, at, memory_order_relaxed);
    }
    atomic_store_explicit(&frozen_on, frozen, memory_order_release);
}

/* ---- civil dates ----------------------------------------------------------
 */

/* Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms": eras of
 * 400 years (146097 days), years starting on March 1 so the leap day is
 * the last day of the year. */
int64_t
lh_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void
lh_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned dd = doy - (153 * mp + 2) / 5 + 1;
    unsigned mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (mm <= 2);
    *m = mm;
    *d = dd;
}

static bool
is_leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static unsigned
days_in_month(int64_t y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30,
                                          31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* ---- parsing ----------------------------------------------------------------
 */

typedef struct cursor {
    const char *p;
    const char *end;
} cursor;

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Exactly n digits; false if there are fewer. */
static bool
digits(cursor *c, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (c->p == c->end || !is_digit(*c->p)) {
            return false;
        }
        v = v * 10 + (unsigned)(*c->p++ - '0');
    }
    *out = v;
    return true;
}

static bool
eat(cursor *c, char ch)
{
    if (c->p != c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* "Z", "+HH:MM", "+HHMM" or "+HH" (or "-"), as seconds east of UTC. */
static const char *
parse_zone(cursor *c, int64_t *off_s)
{
    *off_s = 0;
    if (c->p == c->end) {
        return NULL;
    }
    if (eat(c, 'Z') || eat(c, 'z')) {
        return NULL;
    }
    int sign;
    if (eat(c, '+')) {
        sign = 1;
    } else if (eat(c, '-')) {
        sign = -1;
    } else {
        return "unexpected text after the time";
    }
    unsigned hh, mm = 0;
    if (!digits(c, 2, &hh)) {
        return "expected a zone offset as +HH, +HHMM or +HH:MM";
    }
    if (c->p != c->end) {
        eat(c, ':'); /* optional: "+0200" and "+02:00" */
        if (!digits(c, 2, &mm)) {
            return "expected a zone offset as +HH, +HHMM or +HH:MM";
        }
    }
    if (hh > 23 || mm > 59) {
        return "zone offset out of range";
    }
    *off_s = sign * (int64_t)(hh * 3600 + mm * 60);
    return NULL;
}

/* "HH:MM[:SS[.frac]]" into µs since midnight. */
static const char *
parse_clock(cursor *c, int64_t *us)
{
    unsigned hh, mi, ss = 0, frac = 0;
    if (!digits(c, 2, &hh) || !eat(c, ':') || !digits(c, 2, &mi)) {
        return "expected a time as HH:MM:SS";
    }
    if (eat(c, ':')) {
        if (!digits(c, 2, &ss)) {
            return "expected a time as HH:MM:SS";
        }
        if (eat(c, '.') || eat(c, ',')) {
            int nd = 0;
            while (c->p != c->end && is_digit(*c->p)) {
                if (nd < 6) {
                    frac = frac * 10 + (unsigned)(*c->p - '0');
                }
                nd++;
                c->p++;
            }
            if (nd == 0) {
                return "expected digits after the decimal point";
            }
            for (; nd < 6; nd++) {
                frac *= 10;
            }
        }
    }
    if (hh > 23) {
        return "hour out of range";
    }
    if (mi > 59) {
        return "minute out of range";
    }
    if (ss > 59) {
        return "second out of range";
    }
    *us = ((int64_t)hh * 3600 + mi * 60 + ss) * LH_US_PER_SEC + frac;
    return NULL;
}

/* NULL on success, else why the text is not a timestamp. */
static const char *
parse_iso(const char *s, size_t len, lh_us *out)
{
    cursor c = {s, s + len};
    unsigned y, m, d;
    if (!digits(&c, 4, &y) || !eat(&c, '-') || !digits(&c, 2, &m) ||
        !eat(&c, '-') || !digits(&c, 2, &d)) {
        return "expected a date as YYYY-MM-DD";
    }
    if (y < 1) {
        return "year out of range";
    }
    if (m < 1 || m > 12) {
        return "month out of range";
    }
    if (d < 1 || d > days_in_month(y, m)) {
        return "day out of range";
    }
    int64_t tod = 0, off_s = 0;
    if (c.p != c.end) {
        if (!(eat(&c, 'T') || eat(&c, 't') || eat(&c, ' '))) {
            return "unexpected text after the date";
        }
        const char *why = parse_clock(&c, &tod);
        if (why == NULL) {
            why = parse_zone(&c, &off_s);
        }
        if (why == NULL && c.p != c.end) {
            why = "unexpected text after the time";
        }
        if (why != NULL) {
            return why;
        }
    }
    int64_t days = lh_days_from_civil(y, m, d);
    int64_t t = days * LH_US_PER_DAY + tod - off_s * LH_US_PER_SEC;
    /* An offset can carry a date at either end of the range outside it;
     * keep what we accept within what we print and read back. */
    if (t < lh_days_from_civil(1, 1, 1) * LH_US_PER_DAY ||
        t >= lh_days_from_civil(10000, 1, 1) * LH_US_PER_DAY) {
        return "the instant in UTC is outside the years 0001-9999";
    }
    *out = t;
    return NULL;
}

lh_rc
lh_time_parse(const char *s, size_t len, lh_us *out, lh_err *err)
{
    const char *why = parse_iso(s, len, out);
    if (why != NULL) {
        /* Quote at most 64 bytes: the input may be anything. */
        int q = len > 64 ? 64 : (int)len;
        return lh_err_set(err, LH_EINVAL, "invalid timestamp \"%.*s%s\": %s", q,
                          s, len > 64 ? "..." : "", why);
    }
    return LH_OK;
}

/* ---- formatting
 * --------------------------------------------------------------- */

size_t
lh_time_format_iso(lh_us t, char *buf)
{
    int64_t days = t / LH_US_PER_DAY;
    int64_t rem = t % LH_US_PER_DAY;
    if (rem < 0) {
        days--;
        rem += LH_US_PER_DAY;
    }
    int64_t y;
    unsigned m, d;
    lh_civil_from_days(days, &y, &m, &d);
    int64_t secs = rem / LH_US_PER_SEC;
    int64_t frac = rem % LH_US_PER_SEC;

    /* Years outside 0000-9999 get a sign, as in ISO 8601's expanded form;
     * the longest, "+294247-01-10T04:00:54.775807Z", is 30 bytes. */
    const char *sign = y > 9999 ? "+" : (y < 0 ? "-" : "");
    int64_t ay = y < 0 ? -y : y;
    int n = snprintf(buf, 32, "%s%04lld-%02u-%02uT%02d:%02d:%02d", sign,
                     (long long)ay, m, d, (int)(secs / 3600),
                     (int)(secs / 60 % 60), (int)(secs % 60));
    if (frac != 0) {
        int digits_n = 6;
        while (frac % 10 == 0) {
            frac /= 10;
            digits_n--;
        }
        n += snprintf(buf + n, 32 - (size_t)n, ".%0*lld", digits_n,
                      (long long)frac);
    }
    buf[n++] = 'Z';
    buf[n] = '\0';
    return (size_t)n;
}

/* ---- durations
 * ------------------------------------------------------------------ */

static const struct {
    const char *name;
    lh_us us;
} units[] = {
    /* Largest first: the order they must appear in ("1d12h", not "12h1d"). */
    {"w", 7 * LH_US_PER_DAY},    {"d", LH_US_PER_DAY},
    {"h", 3600 * LH_US_PER_SEC}, {"m", 60 * LH_US_PER_SEC},
    {"s", LH_US_PER_SEC},        {"ms", 1000},
};

lh_rc
lh_duration_parse(const char *s, lh_us *out, lh_err *err)
{
    const char *p = s;
    const char *why = NULL;
    lh_us total = 0;
    size_t next_unit = 0; /* units before this one are used up */
    if (*p == '\0') {
        why = "empty";
        goto bad;
    }
    while (*p != '\0') {
        if (!is_digit(*p)) {
            why = *p == '-' ? "negative" : "expected a number";
            goto bad;
        }
        lh_us n = 0;
        while (is_digit(*p)) {
            if (__builtin_mul_overflow(n, 10, &n) ||
                __builtin_add_overflow(n, *p - '0', &n)) {
                why = "too large";
                goto bad;
            }
            p++;
        }
        const char *u = p;
        while (*p >= 'a' && *p <= 'z') {
            p++;
        }
        size_t ulen = (size_t)(p - u);
        if (ulen == 0) {
            if (p == s + strspn(s, "0123456789") && *p == '\0') {
                /* A plain integer is seconds. */
                if (__builtin_mul_overflow(n, LH_US_PER_SEC, &total)) {
                    why = "too large";
                    goto bad;
                }
                *out = total;
                return LH_OK;
            }
            why = "expected a unit (ms, s, m, h, d or w)";
            goto bad;
        }
        size_t k = 0;
        while (k < LH_ARRAY_LEN(units) &&
               !(strlen(units[k].name) == ulen &&
                 memcmp(units[k].name, u, ulen) == 0)) {
            k++;
        }
        if (k == LH_ARRAY_LEN(units)) {
            why = "unknown unit (expected ms, s, m, h, d or w)";
            goto bad;
        }
        if (k < next_unit) {
            why = "units must go from largest to smallest, each once";
            goto bad;
        }
        next_unit = k + 1;
        lh_us part;
        if (__builtin_mul_overflow(n, units[k].us, &part) ||
            __builtin_add_overflow(total, part, &total)) {
            why = "too large";
            goto bad;
        }
    }
    *out = total;
    return LH_OK;
bad:
    return lh_err_set(err, LH_EINVAL, "invalid duration \"%.64s\": %s", s, why);
}
