/*
 * Date and time functions: now() and the current_* values (fixed for a
 * statement, from lh_now(): LH_NOW freezes them), date_part / EXTRACT,
 * date_trunc, the DuckDB-style field shortcuts (year(ts), ...), epoch
 * conversions, make_date, date_diff, date_add, time_bucket and strftime.
 *
 * All timestamps are µs since the epoch in UTC (TIMESTAMPTZ prints in
 * UTC): fields of a TIMESTAMPTZ are its UTC fields.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "exec/kernel.h"

typedef enum unit {
    U_BAD = 0,
    U_MICROSECOND,
    U_MILLISECOND,
    U_SECOND,
    U_MINUTE,
    U_HOUR,
    U_DAY,
    U_WEEK,
    U_MONTH,
    U_QUARTER,
    U_YEAR,
    U_DECADE,
    U_CENTURY,
    U_MILLENNIUM,
    U_DOW,
    U_ISODOW,
    U_DOY,
    U_EPOCH,
    U_ISOYEAR,
} unit;

static unit
parse_unit(const char *s, size_t n)
{
    static const struct {
        const char *name;
        unit u;
    } units[] = {
        {"microsecond", U_MICROSECOND},
        {"microseconds", U_MICROSECOND},
        {"us", U_MICROSECOND},
        {"millisecond", U_MILLISECOND},
        {"milliseconds", U_MILLISECOND},
        {"ms", U_MILLISECOND},
        {"second", U_SECOND},
        {"seconds", U_SECOND},
        {"sec", U_SECOND},
        {"s", U_SECOND},
        {"minute", U_MINUTE},
        {"minutes", U_MINUTE},
        {"min", U_MINUTE},
        {"m", U_MINUTE},
        {"hour", U_HOUR},
        {"hours", U_HOUR},
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
        {"quarter", U_QUARTER},
        {"quarters", U_QUARTER},
        {"year", U_YEAR},
        {"years", U_YEAR},
        {"y", U_YEAR},
        {"decade", U_DECADE},
        {"decades", U_DECADE},
        {"century", U_CENTURY},
        {"centuries", U_CENTURY},
        {"millennium", U_MILLENNIUM},
        {"millennia", U_MILLENNIUM},
        {"dow", U_DOW},
        {"dayofweek", U_DOW},
        {"isodow", U_ISODOW},
        {"doy", U_DOY},
        {"dayofyear", U_DOY},
        {"epoch", U_EPOCH},
        {"isoyear", U_ISOYEAR},
    };
    char buf[24];
    if (n >= sizeof buf) {
        return U_BAD;
    }
    memcpy(buf, s, n);
    buf[n] = 0;
    for (size_t i = 0; i < LH_ARRAY_LEN(units); i++) {
        if (strcasecmp(buf, units[i].name) == 0) {
            return units[i].u;
        }
    }
    return U_BAD;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

typedef struct civil {
    int64_t y;
    unsigned m, d;
    int64_t days; /* since the epoch */
    int64_t tod;  /* µs into the day */
} civil;

static civil
to_civil(int64_t us)
{
    civil c;
    c.days = floor_div(us, LH_US_PER_DAY);
    c.tod = us - c.days * LH_US_PER_DAY;
    lh_civil_from_days(c.days, &c.y, &c.m, &c.d);
    return c;
}

static int
dow_of(int64_t days)
{
    int64_t w = (days + 4) % 7; /* 1970-01-01 was a Thursday */
    return (int)(w < 0 ? w + 7 : w);
}

/* ISO 8601 week number and year. */
static void
iso_week(const civil *c, int64_t *week, int64_t *year)
{
    int wd = dow_of(c->days);
    int iso = wd == 0 ? 7 : wd;
    int64_t thursday = c->days - iso + 4;
    int64_t ty;
    unsigned tm, td;
    lh_civil_from_days(thursday, &ty, &tm, &td);
    int64_t jan1 = lh_days_from_civil(ty, 1, 1);
    *week = (thursday - jan1) / 7 + 1;
    *year = ty;
}

static lh_rc
field(lh_kctx *k, unit u, int64_t us, bool is_date, double *out)
{
    civil c = to_civil(us);
    (void)is_date;
    switch (u) {
    case U_MICROSECOND:
        *out = (double)(c.tod % (60 * LH_US_PER_SEC));
        return LH_OK;
    case U_MILLISECOND:
        *out = (double)((c.tod % (60 * LH_US_PER_SEC)) / 1000);
        return LH_OK;
    case U_SECOND:
        *out = (double)((c.tod / LH_US_PER_SEC) % 60);
        return LH_OK;
    case U_MINUTE:
        *out = (double)((c.tod / (60 * LH_US_PER_SEC)) % 60);
        return LH_OK;
    case U_HOUR:
        *out = (double)(c.tod / (3600 * LH_US_PER_SEC));
        return LH_OK;
    case U_DAY:
        *out = c.d;
        return LH_OK;
    case U_WEEK: {
        int64_t w, y;
        iso_week(&c, &w, &y);
        *out = (double)w;
        return LH_OK;
    }
    case U_ISOYEAR: {
        int64_t w, y;
        iso_week(&c, &w, &y);
        *out = (double)y;
        return LH_OK;
    }
    case U_MONTH:
        *out = c.m;
        return LH_OK;
    case U_QUARTER:
        *out = (c.m - 1) / 3 + 1;
        return LH_OK;
    case U_YEAR:
        *out = (double)c.y;
        return LH_OK;
    case U_DECADE:
        *out = (double)floor_div(c.y, 10);
        return LH_OK;
    case U_CENTURY:
        *out = (double)(c.y > 0 ? (c.y + 99) / 100 : -((-c.y + 99) / 100));
        return LH_OK;
    case U_MILLENNIUM:
        *out = (double)(c.y > 0 ? (c.y + 999) / 1000 : -((-c.y + 999) / 1000));
        return LH_OK;
    case U_DOW:
        *out = dow_of(c.days);
        return LH_OK;
    case U_ISODOW: {
        int w = dow_of(c.days);
        *out = w == 0 ? 7 : w;
        return LH_OK;
    }
    case U_DOY:
        *out = (double)(c.days - lh_days_from_civil(c.y, 1, 1) + 1);
        return LH_OK;
    case U_EPOCH:
        *out = (double)us / (double)LH_US_PER_SEC;
        return LH_OK;
    case U_BAD:
        break;
    }
    return lh__kerr(k, LH_EINVAL, "unit not recognized");
}

static int64_t
as_us(const lh_vector *v, uint32_t r)
{
    uint32_t i = lh_vidx(v, r);
    if (v->type.id == LH_T_DATE) {
        return (int64_t)((const int32_t *)v->data)[i] * LH_US_PER_DAY;
    }
    return ((const int64_t *)v->data)[i];
}

static unit
unit_arg(lh_kctx *k, const lh_vector *v, uint32_t r)
{
    if (k->e && k->e->aux) {
        return (unit)(intptr_t)k->e->aux;
    }
    const lh_str *s = &((const lh_str *)v->data)[lh_vidx(v, r)];
    return parse_unit(lh_str_data(s), s->len);
}

static lh_rc
unit_prepare(lh_exec *ex, const lh_cexpr *e, lh_arena *a, void **aux,
             lh_err *err)
{
    (void)ex;
    (void)a;
    *aux = NULL;
    if (e->args[0]->kind == LH_CX_CONST && !e->args[0]->konst.is_null) {
        const lh_value *v = &e->args[0]->konst;
        unit u = parse_unit(v->u.s.p, v->u.s.len);
        if (u == U_BAD) {
            lh_err_set(err, LH_EINVAL, "unit \"%.*s\" not recognized",
                       (int)(v->u.s.len > 40 ? 40 : v->u.s.len), v->u.s.p);
            if (err) {
                err->offset = e->pos;
            }
            return LH_EINVAL;
        }
        *aux = (void *)(intptr_t)u;
    }
    return LH_OK;
}

/* date_part(unit, date|timestamp|timestamptz|time) -> BIGINT (DOUBLE for
 * epoch: date_part_epoch) */
static lh_rc
date_part_k(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
            const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    bool dbl = out->type.id == LH_T_DOUBLE;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        unit u = unit_arg(k, args[0], r);
        if (u == U_BAD) {
            return lh__kerr(k, LH_EINVAL, "unit not recognized");
        }
        double v;
        lh_rc rc;
        if (args[1]->type.id == LH_T_TIME) {
            int64_t t = ((const int64_t *)args[1]->data)[lh_vidx(args[1], r)];
            if (u != U_HOUR && u != U_MINUTE && u != U_SECOND &&
                u != U_MILLISECOND && u != U_MICROSECOND && u != U_EPOCH) {
                return lh__kerr(k, LH_EINVAL,
                                "unit is not valid for type time");
            }
            rc = field(k, u, t, false, &v);
        } else {
            rc = field(k, u, as_us(args[1], r), args[1]->type.id == LH_T_DATE,
                       &v);
        }
        if (rc != LH_OK) {
            return rc;
        }
        if (dbl) {
            ((double *)out->data)[r] = v;
        } else {
            ((int64_t *)out->data)[r] = (int64_t)v;
        }
    }
    return LH_OK;
}

/* date_part(unit, interval) */
static lh_rc
date_part_iv(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
             const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        unit u = unit_arg(k, args[0], r);
        lh_interval iv =
            ((const lh_interval *)args[1]->data)[lh_vidx(args[1], r)];
        int64_t v;
        switch (u) {
        case U_YEAR:
            v = iv.months / 12;
            break;
        case U_MONTH:
            v = iv.months % 12;
            break;
        case U_DAY:
            v = iv.days;
            break;
        case U_HOUR:
            v = iv.micros / (3600 * LH_US_PER_SEC);
            break;
        case U_MINUTE:
            v = (iv.micros / (60 * LH_US_PER_SEC)) % 60;
            break;
        case U_SECOND:
            v = (iv.micros / LH_US_PER_SEC) % 60;
            break;
        case U_MILLISECOND:
            v = (iv.micros % (60 * LH_US_PER_SEC)) / 1000;
            break;
        case U_MICROSECOND:
            v = iv.micros % (60 * LH_US_PER_SEC);
            break;
        case U_EPOCH:
            v = (int64_t)iv.months * 30 * 86400 + (int64_t)iv.days * 86400 +
                iv.micros / LH_US_PER_SEC;
            break;
        default:
            return lh__kerr(k, LH_EINVAL,
                            "unit is not valid for type "
                            "interval");
        }
        ((int64_t *)out->data)[r] = v;
    }
    return LH_OK;
}

static lh_rc
trunc_us(lh_kctx *k, unit u, int64_t us, int64_t *out)
{
    civil c = to_civil(us);
    int64_t day0 = c.days * LH_US_PER_DAY;
    switch (u) {
    case U_MICROSECOND:
        *out = us;
        return LH_OK;
    case U_MILLISECOND:
        *out = floor_div(us, 1000) * 1000;
        return LH_OK;
    case U_SECOND:
        *out = floor_div(us, LH_US_PER_SEC) * LH_US_PER_SEC;
        return LH_OK;
    case U_MINUTE:
        *out = floor_div(us, 60 * LH_US_PER_SEC) * 60 * LH_US_PER_SEC;
        return LH_OK;
    case U_HOUR:
        *out = floor_div(us, 3600 * LH_US_PER_SEC) * 3600 * LH_US_PER_SEC;
        return LH_OK;
    case U_DAY:
        *out = day0;
        return LH_OK;
    case U_WEEK: {
        int w = dow_of(c.days);
        int back = w == 0 ? 6 : w - 1; /* to Monday */
        *out = (c.days - back) * LH_US_PER_DAY;
        return LH_OK;
    }
    case U_MONTH:
        *out = lh_days_from_civil(c.y, c.m, 1) * LH_US_PER_DAY;
        return LH_OK;
    case U_QUARTER:
        *out =
            lh_days_from_civil(c.y, ((c.m - 1) / 3) * 3 + 1, 1) * LH_US_PER_DAY;
        return LH_OK;
    case U_YEAR:
        *out = lh_days_from_civil(c.y, 1, 1) * LH_US_PER_DAY;
        return LH_OK;
    case U_DECADE:
        *out =
            lh_days_from_civil(floor_div(c.y, 10) * 10, 1, 1) * LH_US_PER_DAY;
        return LH_OK;
    case U_CENTURY: {
        int64_t cy = c.y > 0 ? ((c.y - 1) / 100) * 100 + 1 : c.y;
        *out = lh_days_from_civil(cy, 1, 1) * LH_US_PER_DAY;
        return LH_OK;
    }
    case U_MILLENNIUM: {
        int64_t my = c.y > 0 ? ((c.y - 1) / 1000) * 1000 + 1 : c.y;
        *out = lh_days_from_civil(my, 1, 1) * LH_US_PER_DAY;
        return LH_OK;
    }
    default:
        return lh__kerr(k, LH_EINVAL, "unit not supported for date_trunc");
    }
}

static lh_rc
date_trunc_k(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
             const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        unit u = unit_arg(k, args[0], r);
        int64_t t = 0;
        lh_rc rc = trunc_us(k, u, as_us(args[1], r), &t);
        if (rc != LH_OK) {
            return rc;
        }
        if (out->type.id == LH_T_DATE) {
            ((int32_t *)out->data)[r] = (int32_t)floor_div(t, LH_US_PER_DAY);
        } else {
            ((int64_t *)out->data)[r] = t;
        }
    }
    return LH_OK;
}

/* year(x), month(x), ...: date_part with a fixed unit */
#define SHORTCUT(name, U)                                                      \
    static lh_rc name(lh_kctx *k, const lh_vector *const *args,                \
                      uint32_t nargs, const uint32_t *sel, uint32_t n,         \
                      lh_vector *out)                                          \
    {                                                                          \
        (void)nargs;                                                           \
        for (uint32_t i = 0; i < n; i++) {                                     \
            uint32_t r = sel ? sel[i] : i;                                     \
            if (!LH_ROW_LIVE(out->validity, r)) {                              \
                continue;                                                      \
            }                                                                  \
            double v;                                                          \
            lh_rc rc = field(k, U, as_us(args[0], r), false, &v);              \
            if (rc != LH_OK) {                                                 \
                return rc;                                                     \
            }                                                                  \
            ((int64_t *)out->data)[r] = (int64_t)v;                            \
        }                                                                      \
        return LH_OK;                                                          \
    }
SHORTCUT(year_k, U_YEAR)
SHORTCUT(month_k, U_MONTH)
SHORTCUT(day_k, U_DAY)
SHORTCUT(hour_k, U_HOUR)
SHORTCUT(minute_k, U_MINUTE)
SHORTCUT(second_k, U_SECOND)
SHORTCUT(quarter_k, U_QUARTER)
SHORTCUT(dow_k, U_DOW)
SHORTCUT(doy_k, U_DOY)
SHORTCUT(week_k, U_WEEK)

/* ---- now and friends
 * --------------------------------------------------------------- */

static lh_us
stmt_now(lh_kctx *k)
{
    return k->ec && k->ec->ex ? k->ec->ex->now : lh_now();
}

static lh_rc
now_k(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
      const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)args;
    (void)nargs;
    lh_us t = stmt_now(k);
    for (uint32_t i = 0; i < n; i++) {
        ((int64_t *)out->data)[sel ? sel[i] : i] = t;
    }
    return LH_OK;
}

static lh_rc
today_k(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
        const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)args;
    (void)nargs;
    int32_t d = (int32_t)floor_div(stmt_now(k), LH_US_PER_DAY);
    for (uint32_t i = 0; i < n; i++) {
        ((int32_t *)out->data)[sel ? sel[i] : i] = d;
    }
    return LH_OK;
}

static lh_rc
time_now_k(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
           const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)args;
    (void)nargs;
    lh_us t = stmt_now(k);
    int64_t tod = t - floor_div(t, LH_US_PER_DAY) * LH_US_PER_DAY;
    for (uint32_t i = 0; i < n; i++) {
        ((int64_t *)out->data)[sel ? sel[i] : i] = tod;
    }
    return LH_OK;
}

/* ---- epochs
 * -------------------------------------------------------------------------- */

LH_UNARY_KERNEL(epoch_ts, int64_t, double, o[r] = (double)x / 1e6;)
LH_UNARY_KERNEL(epoch_ms_ts, int64_t, int64_t, o[r] = floor_div(x, 1000);)
LH_UNARY_KERNEL(epoch_us_ts, int64_t, int64_t, o[r] = x;)
LH_UNARY_KERNEL(to_timestamp_k, double, int64_t, {
    if (!isfinite(x) || fabs(x) > 9.2e12) {
        return lh__kerr(k, LH_EINVAL, "timestamp out of range");
    }
    o[r] = (int64_t)llround(x * 1e6);
})
LH_UNARY_KERNEL(ms_to_ts, int64_t, int64_t, {
    int64_t z;
    if (__builtin_mul_overflow(x, 1000, &z)) {
        return lh__kerr(k, LH_EINVAL, "timestamp out of range");
    }
    o[r] = z;
})

static lh_rc
make_date_k(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
            const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        int64_t y = ((const int64_t *)args[0]->data)[lh_vidx(args[0], r)];
        int64_t m = ((const int64_t *)args[1]->data)[lh_vidx(args[1], r)];
        int64_t d = ((const int64_t *)args[2]->data)[lh_vidx(args[2], r)];
        static const int md[] = {31, 29, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (m < 1 || m > 12 || d < 1 || d > md[m - 1] ||
            (m == 2 && d == 29 && !leap) || y < -4713 || y > 5874897) {
            return lh__kerr(k, LH_EINVAL,
                            "date field value out of range: %lld-%02lld-%02lld",
                            (long long)y, (long long)m, (long long)d);
        }
        ((int32_t *)out->data)[r] =
            (int32_t)lh_days_from_civil(y, (unsigned)m, (unsigned)d);
    }
    return LH_OK;
}

/* date_diff(unit, a, b): the number of unit boundaries from a to b */
static lh_rc
date_diff_k(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
            const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        unit u = unit_arg(k, args[0], r);
        int64_t a = as_us(args[1], r), b = as_us(args[2], r);
        civil ca = to_civil(a), cb = to_civil(b);
        int64_t v;
        switch (u) {
        case U_YEAR:
            v = cb.y - ca.y;
            break;
        case U_QUARTER:
            v = (cb.y * 4 + (cb.m - 1) / 3) - (ca.y * 4 + (ca.m - 1) / 3);
            break;
        case U_MONTH:
            v = (cb.y * 12 + cb.m) - (ca.y * 12 + ca.m);
            break;
        case U_WEEK:
            v = (cb.days - ca.days) / 7;
            break;
        case U_DAY:
            v = cb.days - ca.days;
            break;
        case U_HOUR:
            v = floor_div(b, 3600 * LH_US_PER_SEC) -
                floor_div(a, 3600 * LH_US_PER_SEC);
            break;
        case U_MINUTE:
            v = floor_div(b, 60 * LH_US_PER_SEC) -
                floor_div(a, 60 * LH_US_PER_SEC);
            break;
        case U_SECOND:
            v = floor_div(b, LH_US_PER_SEC) - floor_div(a, LH_US_PER_SEC);
            break;
        case U_MILLISECOND:
            v = floor_div(b, 1000) - floor_div(a, 1000);
            break;
        case U_MICROSECOND:
            v = b - a;
            break;
        default:
            return lh__kerr(k, LH_EINVAL, "unit not supported for date_diff");
        }
        ((int64_t *)out->data)[r] = v;
    }
    return LH_OK;
}

/* time_bucket(interval, ts): the start of the bucket (fixed-width
 * intervals from the epoch; month intervals from 2000-01-01 by months) */
static lh_rc
time_bucket_k(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
              const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        lh_interval iv =
            ((const lh_interval *)args[0]->data)[lh_vidx(args[0], r)];
        int64_t t = as_us(args[1], r);
        int64_t res;
        if (iv.months) {
            if (iv.days || iv.micros) {
                return lh__kerr(k, LH_EINVAL,
                                "time_bucket: an interval of "
                                "months cannot have days or "
                                "time");
            }
            civil c = to_civil(t);
            int64_t m = (c.y - 2000) * 12 + (c.m - 1);
            int64_t bm = floor_div(m, iv.months) * iv.months;
            int64_t y = 2000 + floor_div(bm, 12);
            unsigned mo = (unsigned)(bm - floor_div(bm, 12) * 12) + 1;
            res = lh_days_from_civil(y, mo, 1) * LH_US_PER_DAY;
        } else {
            int64_t w = (int64_t)iv.days * LH_US_PER_DAY + iv.micros;
            if (w <= 0) {
                return lh__kerr(k, LH_EINVAL,
                                "time_bucket: the width must "
                                "be positive");
            }
            /* DuckDB's origin: 2000-01-03 (a Monday) for day-or-longer
             * widths, the epoch otherwise */
            int64_t origin =
                w % LH_US_PER_DAY == 0
                    ? lh_days_from_civil(2000, 1, 3) * LH_US_PER_DAY
                    : 0;
            res = floor_div(t - origin, w) * w + origin;
        }
        if (out->type.id == LH_T_DATE) {
            ((int32_t *)out->data)[r] = (int32_t)floor_div(res, LH_US_PER_DAY);
        } else {
            ((int64_t *)out->data)[r] = res;
        }
    }
    return LH_OK;
}

/* strftime(ts, format): the C conversions %Y %m %d %H %M %S %f %j %a %b
 * ... over UTC */
static lh_rc
strftime_k(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
           const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        int64_t t = as_us(args[0], r);
        const lh_str *f = &((const lh_str *)args[1]->data)[lh_vidx(args[1], r)];
        civil c = to_civil(t);
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        tm.tm_year = (int)(c.y - 1900);
        tm.tm_mon = (int)c.m - 1;
        tm.tm_mday = (int)c.d;
        tm.tm_hour = (int)(c.tod / (3600 * LH_US_PER_SEC));
        tm.tm_min = (int)((c.tod / (60 * LH_US_PER_SEC)) % 60);
        tm.tm_sec = (int)((c.tod / LH_US_PER_SEC) % 60);
        tm.tm_wday = dow_of(c.days);
        tm.tm_yday = (int)(c.days - lh_days_from_civil(c.y, 1, 1));
        /* %f (microseconds) is ours; the rest is strftime's */
        char fmt[512], res[1024];
        size_t fl = 0;
        const char *fp = lh_str_data(f);
        for (uint32_t j = 0; j < f->len && fl + 8 < sizeof fmt; j++) {
            if (fp[j] == '%' && j + 1 < f->len && fp[j + 1] == 'f') {
                fl += (size_t)snprintf(fmt + fl, sizeof fmt - fl, "%06lld",
                                       (long long)(c.tod % LH_US_PER_SEC));
                j++;
            } else {
                fmt[fl++] = fp[j];
            }
        }
        fmt[fl] = 0;
        size_t rl = strftime(res, sizeof res, fmt, &tm);
        bool oom = false;
        ((lh_str *)out->data)[r] =
            lh__str_copy(k->arena, res, (uint32_t)rl, &oom);
        if (oom) {
            return lh_err_set(k->err, LH_ENOMEM, "out of memory");
        }
    }
    return LH_OK;
}

/* ---- the table
 * ----------------------------------------------------------------------- */

#define S LH_FN_STRICT
#define D LH_FN_DICT_SAFE
#define DF (LH_FN_DICT_SAFE | LH_FN_CAN_FAIL)
#define V LH_T_VARCHAR
#define TS LH_T_TIMESTAMP
#define TZ LH_T_TIMESTAMPTZ
#define DT LH_T_DATE
#define BI LH_T_BIGINT

static const lh_fn_impl part_impl = {.kernel = date_part_k,
                                     .prepare = unit_prepare};
static const lh_fn_impl part_iv_impl = {.kernel = date_part_iv,
                                        .prepare = unit_prepare};
static const lh_fn_impl trunc_impl = {.kernel = date_trunc_k,
                                      .prepare = unit_prepare};
static const lh_fn_impl diff_impl = {.kernel = date_diff_k,
                                     .prepare = unit_prepare};

#define PART(name, T)                                                          \
    {                                                                          \
        name, LH_FN_SCALAR, 2, {V, T}, BI, S, DF, NULL, &part_impl             \
    }
#define ONE(name, kern, A, R)                                                  \
    {                                                                          \
        name, LH_FN_SCALAR, 1, {A}, R, S, DF, NULL, LH_IMPL(kern)              \
    }
#define SHORT(name, kern)                                                      \
    ONE(name, kern, TS, BI), ONE(name, kern, DT, BI), ONE(name, kern, TZ, BI)
#define NOW(name, kern, R)                                                     \
    {                                                                          \
        name, LH_FN_SCALAR, 0, {0}, R, S, 0, NULL, LH_IMPL(kern)               \
    }

static const lh_fn_def defs[] = {
    PART("date_part", DT),
    PART("date_part", TS),
    PART("date_part", TZ),
    PART("date_part", LH_T_TIME),
    {"date_part",
     LH_FN_SCALAR,
     2,
     {V, LH_T_INTERVAL},
     BI,
     S,
     DF,
     NULL,
     &part_iv_impl},
    PART("datepart", TS),
    PART("datepart", DT),
    {"date_trunc", LH_FN_SCALAR, 2, {V, TS}, TS, S, DF, NULL, &trunc_impl},
    {"date_trunc", LH_FN_SCALAR, 2, {V, TZ}, TZ, S, DF, NULL, &trunc_impl},
    {"date_trunc", LH_FN_SCALAR, 2, {V, DT}, TS, S, DF, NULL, &trunc_impl},
    {"datetrunc", LH_FN_SCALAR, 2, {V, TS}, TS, S, DF, NULL, &trunc_impl},
    {"date_diff", LH_FN_SCALAR, 3, {V, TS, TS}, BI, S, DF, NULL, &diff_impl},
    {"date_diff", LH_FN_SCALAR, 3, {V, DT, DT}, BI, S, DF, NULL, &diff_impl},
    {"date_diff", LH_FN_SCALAR, 3, {V, TZ, TZ}, BI, S, DF, NULL, &diff_impl},
    {"datediff", LH_FN_SCALAR, 3, {V, TS, TS}, BI, S, DF, NULL, &diff_impl},
    {"datediff", LH_FN_SCALAR, 3, {V, DT, DT}, BI, S, DF, NULL, &diff_impl},
    SHORT("year", year_k),
    SHORT("month", month_k),
    SHORT("day", day_k),
    SHORT("dayofmonth", day_k),
    SHORT("hour", hour_k),
    SHORT("minute", minute_k),
    SHORT("second", second_k),
    SHORT("quarter", quarter_k),
    SHORT("dayofweek", dow_k),
    SHORT("dayofyear", doy_k),
    SHORT("week", week_k),
    SHORT("weekofyear", week_k),
    NOW("now", now_k, TZ),
    NOW("current_timestamp", now_k, TZ),
    NOW("transaction_timestamp", now_k, TZ),
    NOW("localtimestamp", now_k, TS),
    NOW("current_date", today_k, DT),
    NOW("today", today_k, DT),
    NOW("current_time", time_now_k, LH_T_TIME),
    NOW("localtime", time_now_k, LH_T_TIME),
    ONE("epoch", epoch_ts, TS, LH_T_DOUBLE),
    ONE("epoch", epoch_ts, TZ, LH_T_DOUBLE),
    ONE("epoch_ms", epoch_ms_ts, TS, BI),
    ONE("epoch_ms", epoch_ms_ts, TZ, BI),
    ONE("epoch_us", epoch_us_ts, TS, BI),
    ONE("epoch_us", epoch_us_ts, TZ, BI),
    ONE("to_timestamp", to_timestamp_k, LH_T_DOUBLE, TZ),
    ONE("epoch_ms", ms_to_ts, BI, TS),
    {"make_date",
     LH_FN_SCALAR,
     3,
     {BI, BI, BI},
     DT,
     S,
     DF,
     NULL,
     LH_IMPL(make_date_k)},
    {"time_bucket",
     LH_FN_SCALAR,
     2,
     {LH_T_INTERVAL, TS},
     TS,
     S,
     DF,
     NULL,
     LH_IMPL(time_bucket_k)},
    {"time_bucket",
     LH_FN_SCALAR,
     2,
     {LH_T_INTERVAL, TZ},
     TZ,
     S,
     DF,
     NULL,
     LH_IMPL(time_bucket_k)},
    {"time_bucket",
     LH_FN_SCALAR,
     2,
     {LH_T_INTERVAL, DT},
     DT,
     S,
     DF,
     NULL,
     LH_IMPL(time_bucket_k)},
    {"strftime", LH_FN_SCALAR, 2, {TS, V}, V, S, DF, NULL, LH_IMPL(strftime_k)},
    {"strftime", LH_FN_SCALAR, 2, {TZ, V}, V, S, DF, NULL, LH_IMPL(strftime_k)},
    {"strftime", LH_FN_SCALAR, 2, {DT, V}, V, S, DF, NULL, LH_IMPL(strftime_k)},
};

const lh_fn_family lh__fn_time = {"time", defs, LH_ARRAY_LEN(defs)};
