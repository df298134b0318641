/*
 * Arithmetic: + - * / % // and unary minus over SMALLINT, INTEGER,
 * BIGINT, REAL, DOUBLE and DECIMAL, and the date/time arithmetic of
 * PostgreSQL (date + integer, timestamp + interval, timestamp - timestamp,
 * ...).
 *
 * As in PostgreSQL: integer overflow is an error ("integer out of
 * range"), integer division truncates toward zero, division by zero is an
 * error (or NULL with the session setting division_by_zero = 'null'),
 * float overflow is an error. DECIMAL is exact: + and - keep the larger
 * scale, * adds the scales, both checked against 38 digits; DECIMAL / is
 * DOUBLE (DuckDB's rule: PostgreSQL's variable-scale numeric has no
 * fixed type to land in).
 */
#include <math.h>
#include <string.h>

#include "exec/kernel.h"

lh_i128
lh__pow10(int n)
{
    lh_i128 p = 1;
    for (int i = 0; i < n; i++) {
        p *= 10;
    }
    return p;
}

static bool
div_null(lh_kctx *k)
{
    return k->ec && k->ec->ex && k->ec->ex->set &&
           k->ec->ex->set->div_zero_null;
}

/* Inside a row loop: NULL and on to the next row, or the error. (A bare
 * block, not do-while: `continue` must reach the loop.) */
#define DIV_ZERO(r)                                                            \
    {                                                                          \
        if (div_null(k)) {                                                     \
            LH_SET_NULL(r);                                                    \
            continue;                                                          \
        }                                                                      \
        return lh__kerr(k, LH_EINVAL, "division by zero");                     \
    }

/* ---- integers
 * ------------------------------------------------------------------ */

#define INT_OPS(sfx, T, NAME)                                                  \
    LH_BINARY_KERNEL(add_##sfx, T, T, T, {                                     \
        T z;                                                                   \
        if (__builtin_add_overflow(x, y, &z)) {                                \
            return lh__kerr(k, LH_EINVAL, NAME " out of range");               \
        }                                                                      \
        o[r] = z;                                                              \
    })                                                                         \
    LH_BINARY_KERNEL(sub_##sfx, T, T, T, {                                     \
        T z;                                                                   \
        if (__builtin_sub_overflow(x, y, &z)) {                                \
            return lh__kerr(k, LH_EINVAL, NAME " out of range");               \
        }                                                                      \
        o[r] = z;                                                              \
    })                                                                         \
    LH_BINARY_KERNEL(mul_##sfx, T, T, T, {                                     \
        T z;                                                                   \
        if (__builtin_mul_overflow(x, y, &z)) {                                \
            return lh__kerr(k, LH_EINVAL, NAME " out of range");               \
        }                                                                      \
        o[r] = z;                                                              \
    })                                                                         \
    LH_BINARY_KERNEL(div_##sfx, T, T, T, {                                     \
        if (y == 0) {                                                          \
            DIV_ZERO(r);                                                       \
        }                                                                      \
        if (y == -1) {                                                         \
            T z;                                                               \
            if (__builtin_sub_overflow((T)0, x, &z)) {                         \
                return lh__kerr(k, LH_EINVAL, NAME " out of range");           \
            }                                                                  \
            o[r] = z;                                                          \
        } else {                                                               \
            o[r] = (T)(x / y);                                                 \
        }                                                                      \
    })                                                                         \
    LH_BINARY_KERNEL(mod_##sfx, T, T, T, {                                     \
        if (y == 0) {                                                          \
            DIV_ZERO(r);                                                       \
        }                                                                      \
        o[r] = y == -1 ? 0 : (T)(x % y);                                       \
    })                                                                         \
    LH_UNARY_KERNEL(neg_##sfx, T, T, {                                         \
        T z;                                                                   \
        if (__builtin_sub_overflow((T)0, x, &z)) {                             \
            return lh__kerr(k, LH_EINVAL, NAME " out of range");               \
        }                                                                      \
        o[r] = z;                                                              \
    })

INT_OPS(i16, int16_t, "smallint")
INT_OPS(i32, int32_t, "integer")
INT_OPS(i64, int64_t, "bigint")

/* ---- floats
 * -------------------------------------------------------------------- */

#define FLT_CHECK(z, x, y)                                                     \
    if (isinf(z) && !isinf(x) && !isinf(y)) {                                  \
        return lh__kerr(k, LH_EINVAL, "value out of range: overflow");         \
    }

#define FLT_OPS(sfx, T)                                                        \
    LH_BINARY_KERNEL(add_##sfx, T, T, T, {                                     \
        T z = x + y;                                                           \
        FLT_CHECK(z, x, y)                                                     \
        o[r] = z;                                                              \
    })                                                                         \
    LH_BINARY_KERNEL(sub_##sfx, T, T, T, {                                     \
        T z = x - y;                                                           \
        FLT_CHECK(z, x, y)                                                     \
        o[r] = z;                                                              \
    })                                                                         \
    LH_BINARY_KERNEL(mul_##sfx, T, T, T, {                                     \
        T z = x * y;                                                           \
        FLT_CHECK(z, x, y)                                                     \
        o[r] = z;                                                              \
    })                                                                         \
    LH_BINARY_KERNEL(div_##sfx, T, T, T, {                                     \
        if (y == 0) {                                                          \
            DIV_ZERO(r);                                                       \
        }                                                                      \
        T z = x / y;                                                           \
        FLT_CHECK(z, x, y)                                                     \
        o[r] = z;                                                              \
    })                                                                         \
    LH_BINARY_KERNEL(mod_##sfx, T, T, T, {                                     \
        if (y == 0) {                                                          \
            DIV_ZERO(r);                                                       \
        }                                                                      \
        o[r] = (T)fmod(x, y);                                                  \
    })                                                                         \
    LH_UNARY_KERNEL(neg_##sfx, T, T, o[r] = -x;)

FLT_OPS(f32, float)
FLT_OPS(f64, double)

/* ---- DECIMAL
 * -------------------------------------------------------------------- */

static lh_i128
dec_limit(void)
{
    return lh__pow10(38);
}

static lh_rc
dec_overflow(lh_kctx *k)
{
    return lh__kerr(k, LH_EINVAL,
                    "numeric field overflow (more than 38 "
                    "digits)");
}

/* x and y at the output's scale */
static lh_rc
dec_addsub(lh_kctx *k, const lh_vector *const *args, const uint32_t *sel,
           uint32_t n, lh_vector *out, bool sub)
{
    int s = out->type.scale;
    lh_i128 fx = lh__pow10(s - args[0]->type.scale);
    lh_i128 fy = lh__pow10(s - args[1]->type.scale);
    lh_i128 lim = dec_limit();
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        lh_i128 x, y, z;
        if (__builtin_mul_overflow(lh_dec_at(args[0], r), fx, &x) ||
            __builtin_mul_overflow(lh_dec_at(args[1], r), fy, &y) ||
            (sub ? __builtin_sub_overflow(x, y, &z)
                 : __builtin_add_overflow(x, y, &z)) ||
            z >= lim || z <= -lim) {
            return dec_overflow(k);
        }
        lh_dec_put(out, r, z);
    }
    return LH_OK;
}

static lh_rc
add_dec(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
        const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    return dec_addsub(k, args, sel, n, out, false);
}

static lh_rc
sub_dec(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
        const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    return dec_addsub(k, args, sel, n, out, true);
}

static lh_rc
mul_dec(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
        const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    lh_i128 lim = dec_limit();
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        lh_i128 z;
        if (__builtin_mul_overflow(lh_dec_at(args[0], r), lh_dec_at(args[1], r),
                                   &z) ||
            z >= lim || z <= -lim) {
            return dec_overflow(k);
        }
        lh_dec_put(out, r, z);
    }
    return LH_OK;
}

static lh_rc
mod_dec(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
        const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    int s = out->type.scale;
    lh_i128 fx = lh__pow10(s - args[0]->type.scale);
    lh_i128 fy = lh__pow10(s - args[1]->type.scale);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        lh_i128 x, y;
        if (__builtin_mul_overflow(lh_dec_at(args[0], r), fx, &x) ||
            __builtin_mul_overflow(lh_dec_at(args[1], r), fy, &y)) {
            return dec_overflow(k);
        }
        if (y == 0) {
            DIV_ZERO(r);
        }
        lh_dec_put(out, r, x % y);
    }
    return LH_OK;
}

static lh_rc
div_dec(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
        const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    double sx = (double)lh__pow10(args[0]->type.scale);
    double sy = (double)lh__pow10(args[1]->type.scale);
    double *o = out->data;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        lh_i128 y = lh_dec_at(args[1], r);
        if (y == 0) {
            DIV_ZERO(r);
        }
        o[r] = ((double)lh_dec_at(args[0], r) / sx) / ((double)y / sy);
    }
    return LH_OK;
}

static lh_rc
neg_dec(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
        const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)k;
    (void)nargs;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (LH_ROW_LIVE(out->validity, r)) {
            lh_dec_put(out, r, -lh_dec_at(args[0], r));
        }
    }
    return LH_OK;
}

static lh_rc
rule_dec_add(const lh_fn_def *fn, const lh_type *args, uint32_t nargs,
             lh_type *want, lh_type *ret, lh_err *err)
{
    (void)fn;
    (void)nargs;
    (void)want;
    (void)err;
    int s = args[0].scale > args[1].scale ? args[0].scale : args[1].scale;
    int i0 = args[0].precision - args[0].scale;
    int i1 = args[1].precision - args[1].scale;
    int p = (i0 > i1 ? i0 : i1) + s + 1;
    if (p > 38) {
        p = 38;
    }
    *ret = (lh_type){
        .id = LH_T_DECIMAL, .precision = (uint8_t)p, .scale = (uint8_t)s};
    return LH_OK;
}

static lh_rc
rule_dec_mul(const lh_fn_def *fn, const lh_type *args, uint32_t nargs,
             lh_type *want, lh_type *ret, lh_err *err)
{
    (void)fn;
    (void)nargs;
    (void)want;
    int s = args[0].scale + args[1].scale;
    int p = args[0].precision + args[1].precision;
    if (s > 38) {
        return lh_err_set(err, LH_EINVAL,
                          "the product of DECIMAL(%d,%d) and DECIMAL(%d,%d) "
                          "needs a scale above 38",
                          args[0].precision, args[0].scale, args[1].precision,
                          args[1].scale);
    }
    if (p > 38) {
        p = 38;
    }
    *ret = (lh_type){
        .id = LH_T_DECIMAL, .precision = (uint8_t)p, .scale = (uint8_t)s};
    return LH_OK;
}

static lh_rc
rule_dec_neg(const lh_fn_def *fn, const lh_type *args, uint32_t nargs,
             lh_type *want, lh_type *ret, lh_err *err)
{
    (void)fn;
    (void)nargs;
    (void)want;
    (void)err;
    *ret = args[0];
    return LH_OK;
}

/* ---- dates and times
 * ---------------------------------------------------------------- */

static lh_rc
ts_add_months(lh_kctx *k, int64_t ts, int32_t months, int64_t *out)
{
    if (months == 0) {
        *out = ts;
        return LH_OK;
    }
    int64_t days = ts >= 0 ? ts / LH_US_PER_DAY
                           : -((-ts + LH_US_PER_DAY - 1) / LH_US_PER_DAY);
    int64_t tod = ts - days * LH_US_PER_DAY;
    int64_t y;
    unsigned m, d;
    lh_civil_from_days(days, &y, &m, &d);
    int64_t total = y * 12 + (m - 1) + months;
    int64_t ny = total >= 0 ? total / 12 : -((-total + 11) / 12);
    unsigned nm = (unsigned)(total - ny * 12) + 1;
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31};
    unsigned md = mdays[nm - 1];
    if (nm == 2 && ((ny % 4 == 0 && ny % 100 != 0) || ny % 400 == 0)) {
        md = 29;
    }
    if (d > md) {
        d = md; /* Jan 31 + 1 month = Feb 28/29 */
    }
    if (ny < -4713 || ny > 294276) {
        return lh__kerr(k, LH_EINVAL, "timestamp out of range");
    }
    *out = lh_days_from_civil(ny, nm, d) * LH_US_PER_DAY + tod;
    return LH_OK;
}

static lh_rc
ts_plus(lh_kctx *k, int64_t ts, lh_interval iv, int sign, int64_t *out)
{
    int64_t t = 0;
    lh_rc rc = ts_add_months(k, ts, sign * iv.months, &t);
    if (rc != LH_OK) {
        return rc;
    }
    int64_t d;
    if (__builtin_mul_overflow((int64_t)iv.days, LH_US_PER_DAY, &d) ||
        __builtin_add_overflow(t, sign * d, &t) ||
        __builtin_add_overflow(t, sign * iv.micros, &t)) {
        return lh__kerr(k, LH_EINVAL, "timestamp out of range");
    }
    *out = t;
    return LH_OK;
}

LH_BINARY_KERNEL(ts_add_iv, int64_t, lh_interval, int64_t, {
    lh_rc rc = ts_plus(k, x, y, 1, &o[r]);
    if (rc != LH_OK) {
        return rc;
    }
})
LH_BINARY_KERNEL(iv_add_ts, lh_interval, int64_t, int64_t, {
    lh_rc rc = ts_plus(k, y, x, 1, &o[r]);
    if (rc != LH_OK) {
        return rc;
    }
})
LH_BINARY_KERNEL(ts_sub_iv, int64_t, lh_interval, int64_t, {
    lh_rc rc = ts_plus(k, x, y, -1, &o[r]);
    if (rc != LH_OK) {
        return rc;
    }
})
LH_BINARY_KERNEL(date_add_iv, int32_t, lh_interval, int64_t, {
    lh_rc rc = ts_plus(k, (int64_t)x * LH_US_PER_DAY, y, 1, &o[r]);
    if (rc != LH_OK) {
        return rc;
    }
})
LH_BINARY_KERNEL(date_sub_iv, int32_t, lh_interval, int64_t, {
    lh_rc rc = ts_plus(k, (int64_t)x * LH_US_PER_DAY, y, -1, &o[r]);
    if (rc != LH_OK) {
        return rc;
    }
})
LH_BINARY_KERNEL(date_add_int, int32_t, int32_t, int32_t, {
    int32_t z;
    if (__builtin_add_overflow(x, y, &z)) {
        return lh__kerr(k, LH_EINVAL, "date out of range");
    }
    o[r] = z;
})
LH_BINARY_KERNEL(int_add_date, int32_t, int32_t, int32_t, {
    int32_t z;
    if (__builtin_add_overflow(x, y, &z)) {
        return lh__kerr(k, LH_EINVAL, "date out of range");
    }
    o[r] = z;
})
LH_BINARY_KERNEL(date_sub_int, int32_t, int32_t, int32_t, {
    int32_t z;
    if (__builtin_sub_overflow(x, y, &z)) {
        return lh__kerr(k, LH_EINVAL, "date out of range");
    }
    o[r] = z;
})
LH_BINARY_KERNEL(date_sub_date, int32_t, int32_t, int32_t, o[r] = x - y;)
LH_BINARY_KERNEL(ts_sub_ts, int64_t, int64_t, lh_interval, {
    /* PostgreSQL: days and a time part, no months */
    int64_t d = x - y;
    lh_interval iv = {0, (int32_t)(d / LH_US_PER_DAY), d % LH_US_PER_DAY};
    o[r] = iv;
})
LH_BINARY_KERNEL(iv_add_iv, lh_interval, lh_interval, lh_interval, {
    lh_interval z;
    if (__builtin_add_overflow(x.months, y.months, &z.months) ||
        __builtin_add_overflow(x.days, y.days, &z.days) ||
        __builtin_add_overflow(x.micros, y.micros, &z.micros)) {
        return lh__kerr(k, LH_EINVAL, "interval out of range");
    }
    o[r] = z;
})
LH_BINARY_KERNEL(iv_sub_iv, lh_interval, lh_interval, lh_interval, {
    lh_interval z;
    if (__builtin_sub_overflow(x.months, y.months, &z.months) ||
        __builtin_sub_overflow(x.days, y.days, &z.days) ||
        __builtin_sub_overflow(x.micros, y.micros, &z.micros)) {
        return lh__kerr(k, LH_EINVAL, "interval out of range");
    }
    o[r] = z;
})
LH_UNARY_KERNEL(neg_iv, lh_interval, lh_interval, {
    lh_interval z = {-x.months, -x.days, -x.micros};
    o[r] = z;
})
LH_BINARY_KERNEL(iv_mul_f64, lh_interval, double, lh_interval, {
    /* PostgreSQL: fractional months and days cascade down */
    double m = x.months * y;
    double d = x.days * y + (m - (double)(int64_t)m) * 30;
    double us =
        (double)x.micros * y + (d - (double)(int64_t)d) * (double)LH_US_PER_DAY;
    if (fabs(m) > 2e9 || fabs(d) > 2e9 || fabs(us) > 9e18) {
        return lh__kerr(k, LH_EINVAL, "interval out of range");
    }
    lh_interval z = {(int32_t)m, (int32_t)d, (int64_t)llround(us)};
    o[r] = z;
})
LH_BINARY_KERNEL(f64_mul_iv, double, lh_interval, lh_interval, {
    double m = y.months * x;
    double d = y.days * x + (m - (double)(int64_t)m) * 30;
    double us =
        (double)y.micros * x + (d - (double)(int64_t)d) * (double)LH_US_PER_DAY;
    if (fabs(m) > 2e9 || fabs(d) > 2e9 || fabs(us) > 9e18) {
        return lh__kerr(k, LH_EINVAL, "interval out of range");
    }
    lh_interval z = {(int32_t)m, (int32_t)d, (int64_t)llround(us)};
    o[r] = z;
})
LH_BINARY_KERNEL(iv_div_f64, lh_interval, double, lh_interval, {
    if (y == 0) {
        DIV_ZERO(r);
    }
    double f = 1.0 / y;
    double m = x.months * f;
    double d = x.days * f + (m - (double)(int64_t)m) * 30;
    double us =
        (double)x.micros * f + (d - (double)(int64_t)d) * (double)LH_US_PER_DAY;
    lh_interval z = {(int32_t)m, (int32_t)d, (int64_t)llround(us)};
    o[r] = z;
})
LH_BINARY_KERNEL(time_add_iv, int64_t, lh_interval, int64_t, {
    int64_t t = (x + y.micros) % LH_US_PER_DAY;
    o[r] = t < 0 ? t + LH_US_PER_DAY : t;
})
LH_BINARY_KERNEL(time_sub_iv, int64_t, lh_interval, int64_t, {
    int64_t t = (x - y.micros) % LH_US_PER_DAY;
    o[r] = t < 0 ? t + LH_US_PER_DAY : t;
})
LH_BINARY_KERNEL(time_sub_time, int64_t, int64_t, lh_interval, {
    lh_interval z = {0, 0, x - y};
    o[r] = z;
})

/* ---- the table
 * ------------------------------------------------------------------- */

#define S LH_FN_STRICT
#define DF (LH_FN_DICT_SAFE | LH_FN_CAN_FAIL)
#define B2(name, kern, A, B_, R)                                               \
    {                                                                          \
        name, LH_FN_SCALAR, 2, {A, B_}, R, S, DF, NULL, LH_IMPL(kern)          \
    }
#define B2R(name, kern, A, B_, R, rule)                                        \
    {                                                                          \
        name, LH_FN_SCALAR, 2, {A, B_}, R, S, DF, rule, LH_IMPL(kern)          \
    }
#define B2N(name, kern, A, B_, R)                                              \
    {                                                                          \
        name, LH_FN_SCALAR, 2, {A, B_}, R, S, DF | LH_FN_MAKES_NULL, NULL,     \
            LH_IMPL(kern)                                                      \
    }
#define U1(name, kern, A, R)                                                   \
    {                                                                          \
        name, LH_FN_SCALAR, 1, {A}, R, S, DF, NULL, LH_IMPL(kern)              \
    }

#define NUM_OPX(B, name, op)                                                   \
    B(name, op##_i32, LH_T_INTEGER, LH_T_INTEGER, LH_T_INTEGER),               \
        B(name, op##_i64, LH_T_BIGINT, LH_T_BIGINT, LH_T_BIGINT),              \
        B(name, op##_i16, LH_T_SMALLINT, LH_T_SMALLINT, LH_T_SMALLINT),        \
        B(name, op##_f64, LH_T_DOUBLE, LH_T_DOUBLE, LH_T_DOUBLE),              \
        B(name, op##_f32, LH_T_REAL, LH_T_REAL, LH_T_REAL)
#define NUM_OP(name, op) NUM_OPX(B2, name, op)

static const lh_fn_def defs[] = {
    NUM_OP("+", add),
    B2R("+", add_dec, LH_T_DECIMAL, LH_T_DECIMAL, LH_T_DECIMAL, rule_dec_add),
    B2("+", date_add_int, LH_T_DATE, LH_T_INTEGER, LH_T_DATE),
    B2("+", int_add_date, LH_T_INTEGER, LH_T_DATE, LH_T_DATE),
    B2("+", date_add_iv, LH_T_DATE, LH_T_INTERVAL, LH_T_TIMESTAMP),
    B2("+", ts_add_iv, LH_T_TIMESTAMP, LH_T_INTERVAL, LH_T_TIMESTAMP),
    B2("+", ts_add_iv, LH_T_TIMESTAMPTZ, LH_T_INTERVAL, LH_T_TIMESTAMPTZ),
    B2("+", iv_add_ts, LH_T_INTERVAL, LH_T_TIMESTAMP, LH_T_TIMESTAMP),
    B2("+", iv_add_iv, LH_T_INTERVAL, LH_T_INTERVAL, LH_T_INTERVAL),
    B2("+", time_add_iv, LH_T_TIME, LH_T_INTERVAL, LH_T_TIME),

    NUM_OP("-", sub),
    B2R("-", sub_dec, LH_T_DECIMAL, LH_T_DECIMAL, LH_T_DECIMAL, rule_dec_add),
    B2("-", date_sub_date, LH_T_DATE, LH_T_DATE, LH_T_INTEGER),
    B2("-", date_sub_int, LH_T_DATE, LH_T_INTEGER, LH_T_DATE),
    B2("-", date_sub_iv, LH_T_DATE, LH_T_INTERVAL, LH_T_TIMESTAMP),
    B2("-", ts_sub_iv, LH_T_TIMESTAMP, LH_T_INTERVAL, LH_T_TIMESTAMP),
    B2("-", ts_sub_iv, LH_T_TIMESTAMPTZ, LH_T_INTERVAL, LH_T_TIMESTAMPTZ),
    B2("-", ts_sub_ts, LH_T_TIMESTAMP, LH_T_TIMESTAMP, LH_T_INTERVAL),
    B2("-", ts_sub_ts, LH_T_TIMESTAMPTZ, LH_T_TIMESTAMPTZ, LH_T_INTERVAL),
    B2("-", iv_sub_iv, LH_T_INTERVAL, LH_T_INTERVAL, LH_T_INTERVAL),
    B2("-", time_sub_iv, LH_T_TIME, LH_T_INTERVAL, LH_T_TIME),
    B2("-", time_sub_time, LH_T_TIME, LH_T_TIME, LH_T_INTERVAL),

    NUM_OP("*", mul),
    B2R("*", mul_dec, LH_T_DECIMAL, LH_T_DECIMAL, LH_T_DECIMAL, rule_dec_mul),
    B2("*", iv_mul_f64, LH_T_INTERVAL, LH_T_DOUBLE, LH_T_INTERVAL),
    B2("*", f64_mul_iv, LH_T_DOUBLE, LH_T_INTERVAL, LH_T_INTERVAL),

    NUM_OPX(B2N, "/", div),
    B2N("/", div_dec, LH_T_DECIMAL, LH_T_DECIMAL, LH_T_DOUBLE),
    B2N("/", iv_div_f64, LH_T_INTERVAL, LH_T_DOUBLE, LH_T_INTERVAL),

    B2N("//", div_i32, LH_T_INTEGER, LH_T_INTEGER, LH_T_INTEGER),
    B2N("//", div_i64, LH_T_BIGINT, LH_T_BIGINT, LH_T_BIGINT),
    B2N("//", div_i16, LH_T_SMALLINT, LH_T_SMALLINT, LH_T_SMALLINT),

    NUM_OPX(B2N, "%", mod),
    {"%",
     LH_FN_SCALAR,
     2,
     {LH_T_DECIMAL, LH_T_DECIMAL},
     LH_T_DECIMAL,
     S,
     DF | LH_FN_MAKES_NULL,
     rule_dec_add,
     LH_IMPL(mod_dec)},
    NUM_OPX(B2N, "mod", mod),
    {"mod",
     LH_FN_SCALAR,
     2,
     {LH_T_DECIMAL, LH_T_DECIMAL},
     LH_T_DECIMAL,
     S,
     DF | LH_FN_MAKES_NULL,
     rule_dec_add,
     LH_IMPL(mod_dec)},

    U1("-", neg_i32, LH_T_INTEGER, LH_T_INTEGER),
    U1("-", neg_i64, LH_T_BIGINT, LH_T_BIGINT),
    U1("-", neg_i16, LH_T_SMALLINT, LH_T_SMALLINT),
    {"-",
     LH_FN_SCALAR,
     1,
     {LH_T_DECIMAL},
     LH_T_DECIMAL,
     S,
     DF,
     rule_dec_neg,
     LH_IMPL(neg_dec)},
    U1("-", neg_f64, LH_T_DOUBLE, LH_T_DOUBLE),
    U1("-", neg_f32, LH_T_REAL, LH_T_REAL),
    U1("-", neg_iv, LH_T_INTERVAL, LH_T_INTERVAL),
};

const lh_fn_family lh__fn_arith = {"arith", defs, LH_ARRAY_LEN(defs)};
