/*
 * Math: abs, sign, round (half to even for floats as PostgreSQL's
 * float8; half away from zero for DECIMAL and with a digit count), floor,
 * ceil, trunc, sqrt, cbrt, exp, ln, log, log10, log2, power / ^, pi,
 * random, the bitwise operators (& | # << >> ~), greatest and least.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "exec/kernel.h"

#define S LH_FN_STRICT
#define D LH_FN_DICT_SAFE
#define DF (LH_FN_DICT_SAFE | LH_FN_CAN_FAIL)

/* ---- abs, sign
 * ------------------------------------------------------------------ */

#define ABS_INT(sfx, T, NAME)                                                  \
    LH_UNARY_KERNEL(abs_##sfx, T, T, {                                         \
        if (x < 0) {                                                           \
            T z;                                                               \
            if (__builtin_sub_overflow((T)0, x, &z)) {                         \
                return lh__kerr(k, LH_EINVAL, NAME " out of range");           \
            }                                                                  \
            o[r] = z;                                                          \
        } else {                                                               \
            o[r] = x;                                                          \
        }                                                                      \
    })
ABS_INT(i16, int16_t, "smallint")
ABS_INT(i32, int32_t, "integer")
ABS_INT(i64, int64_t, "bigint")
LH_UNARY_KERNEL(abs_f64, double, double, o[r] = fabs(x);)
LH_UNARY_KERNEL(abs_f32, float, float, o[r] = fabsf(x);)

static lh_rc
abs_dec(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
        const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)k;
    (void)nargs;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (LH_ROW_LIVE(out->validity, r)) {
            lh_i128 v = lh_dec_at(args[0], r);
            lh_dec_put(out, r, v < 0 ? -v : v);
        }
    }
    return LH_OK;
}

LH_UNARY_KERNEL(sign_f64, double, double, o[r] = (x > 0) - (x < 0);)

/* ---- rounding
 * ----------------------------------------------------------------------- */

LH_UNARY_KERNEL(round_f64, double, double, o[r] = rint(x);)
LH_UNARY_KERNEL(floor_f64, double, double, o[r] = floor(x);)
LH_UNARY_KERNEL(ceil_f64, double, double, o[r] = ceil(x);)
LH_UNARY_KERNEL(trunc_f64, double, double, o[r] = trunc(x);)
/* round(x, n): n >= 0 by the decimal text of x (glibc prints the exact
 * binary value rounded, so 42.12345 is 42.1234 at 4 digits, as its binary
 * value is below the half); n < 0 at tens, hundreds, ... */
LH_BINARY_KERNEL(round2_f64, double, int32_t, double, {
    if (isinf(x) || isnan(x) || y > 300) {
        o[r] = x;
    } else if (y < -308) {
        o[r] = 0;
    } else if (y >= 0) {
        char buf[720]; /* 309 integer digits, 300 decimals */
        snprintf(buf, sizeof buf, "%.*f", (int)y, x);
        o[r] = strtod(buf, NULL);
    } else {
        double f = pow(10.0, -y);
        double v = round(x / f) * f;
        o[r] = isfinite(v) ? v : x;
    }
})

/* DECIMAL(p,s) -> DECIMAL(p,0) by the mode */
static lh_rc
dec_round_mode(lh_kctx *k, const lh_vector *const *args, const uint32_t *sel,
               uint32_t n, lh_vector *out, int mode)
{
    (void)k;
    int s = args[0]->type.scale;
    lh_i128 f = lh__pow10(s);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        lh_i128 v = lh_dec_at(args[0], r);
        lh_i128 q = v / f, rem = v % f;
        if (mode == 0) { /* round half away from zero */
            lh_i128 ar = rem < 0 ? -rem : rem;
            if (ar * 2 >= f && s > 0) {
                q += v < 0 ? -1 : 1;
            }
        } else if (mode == 1) { /* floor */
            if (rem < 0) {
                q -= 1;
            }
        } else if (mode == 2) { /* ceil */
            if (rem > 0) {
                q += 1;
            }
        }
        lh_dec_put(out, r, q);
    }
    return LH_OK;
}

static lh_rc
round_dec(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
          const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    return dec_round_mode(k, args, sel, n, out, 0);
}

static lh_rc
floor_dec(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
          const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    return dec_round_mode(k, args, sel, n, out, 1);
}

static lh_rc
ceil_dec(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
         const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    return dec_round_mode(k, args, sel, n, out, 2);
}

static lh_rc
trunc_dec(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
          const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    return dec_round_mode(k, args, sel, n, out, 3);
}

/* round(DECIMAL, n): the value rounded at n digits, as DOUBLE (the scale
 * of the result would depend on n's value) */
static lh_rc
round2_dec(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
           const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)k;
    (void)nargs;
    int s = args[0]->type.scale;
    double *o = out->data;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        lh_i128 v = lh_dec_at(args[0], r);
        int32_t d = ((const int32_t *)args[1]->data)[lh_vidx(args[1], r)];
        if ((int64_t)s - d > 38) {
            o[r] = 0.0; /* every digit of a 38-digit value is rounded away */
        } else if (d < s) {
            int drop = s - d;
            lh_i128 f = lh__pow10(drop);
            lh_i128 q = v / f, rem = v % f;
            lh_i128 ar = rem < 0 ? -rem : rem;
            if (ar * 2 >= f) {
                q += v < 0 ? -1 : 1;
            }
            o[r] = (double)q / pow(10.0, d);
        } else {
            o[r] = (double)v / (double)lh__pow10(s);
        }
    }
    return LH_OK;
}

static lh_rc
rule_dec0(const lh_fn_def *fn, const lh_type *args, uint32_t nargs,
          lh_type *want, lh_type *ret, lh_err *err)
{
    (void)fn;
    (void)nargs;
    (void)want;
    (void)err;
    int p = args[0].precision - args[0].scale + 1;
    if (p > 38) {
        p = 38;
    }
    *ret = (lh_type){.id = LH_T_DECIMAL, .precision = (uint8_t)p};
    return LH_OK;
}

static lh_rc
rule_dec_same(const lh_fn_def *fn, const lh_type *args, uint32_t nargs,
              lh_type *want, lh_type *ret, lh_err *err)
{
    (void)fn;
    (void)nargs;
    (void)want;
    (void)err;
    *ret = args[0];
    return LH_OK;
}

/* ---- roots, logs, powers
 * ---------------------------------------------------------------- */

LH_UNARY_KERNEL(sqrt_f64, double, double, {
    if (x < 0) {
        return lh__kerr(k, LH_EINVAL,
                        "cannot take square root of a negative "
                        "number");
    }
    o[r] = sqrt(x);
})
LH_UNARY_KERNEL(cbrt_f64, double, double, o[r] = cbrt(x);)
LH_UNARY_KERNEL(exp_f64, double, double, {
    double z = exp(x);
    if (isinf(z) && !isinf(x)) {
        return lh__kerr(k, LH_EINVAL, "value out of range: overflow");
    }
    o[r] = z;
})
#define LOGK(name, fn)                                                         \
    LH_UNARY_KERNEL(name, double, double, {                                    \
        if (x == 0) {                                                          \
            return lh__kerr(k, LH_EINVAL, "cannot take logarithm of zero");    \
        }                                                                      \
        if (x < 0) {                                                           \
            return lh__kerr(k, LH_EINVAL,                                      \
                            "cannot take logarithm of a negative number");     \
        }                                                                      \
        o[r] = fn(x);                                                          \
    })
LOGK(ln_f64, log)
LOGK(log10_f64, log10)
LOGK(log2_f64, log2)
LH_BINARY_KERNEL(log_base_f64, double, double, double, {
    if (x <= 0 || y <= 0) {
        return lh__kerr(k, LH_EINVAL,
                        "cannot take logarithm of zero or a "
                        "negative number");
    }
    o[r] = log(y) / log(x);
})
LH_BINARY_KERNEL(pow_f64, double, double, double, {
    if (x == 0 && y < 0) {
        return lh__kerr(k, LH_EINVAL,
                        "zero raised to a negative power is "
                        "undefined");
    }
    if (x < 0 && y != floor(y)) {
        return lh__kerr(k, LH_EINVAL,
                        "a negative number raised to a "
                        "non-integer power yields a complex "
                        "result");
    }
    double z = pow(x, y);
    if (isinf(z) && !isinf(x) && !isinf(y)) {
        return lh__kerr(k, LH_EINVAL, "value out of range: overflow");
    }
    o[r] = z;
})

static lh_rc
pi_k(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
     const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)k;
    (void)args;
    (void)nargs;
    for (uint32_t i = 0; i < n; i++) {
        ((double *)out->data)[sel ? sel[i] : i] = M_PI;
    }
    return LH_OK;
}

static lh_rc
random_k(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
         const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)k;
    (void)args;
    (void)nargs;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t x;
        if (getrandom(&x, sizeof x, 0) != sizeof x) {
            x = (uint64_t)rand();
        }
        ((double *)out->data)[sel ? sel[i] : i] =
            (double)(x >> 11) / 9007199254740992.0;
    }
    return LH_OK;
}

/* ---- bits
 * ----------------------------------------------------------------------------------
 */

#define BITS(sfx, T)                                                           \
    LH_BINARY_KERNEL(band_##sfx, T, T, T, o[r] = x & y;)                       \
    LH_BINARY_KERNEL(bor_##sfx, T, T, T, o[r] = x | y;)                        \
    LH_BINARY_KERNEL(bxor_##sfx, T, T, T, o[r] = x ^ y;)                       \
    LH_UNARY_KERNEL(bnot_##sfx, T, T, o[r] = (T)~x;)                           \
    LH_BINARY_KERNEL(shl_##sfx, T, int32_t, T,                                 \
                     o[r] = (y < 0 || y >= (int32_t)(8 * sizeof(T)))           \
                                ? 0                                            \
                                : (T)((uint64_t)x << y);)                      \
    LH_BINARY_KERNEL(shr_##sfx, T, int32_t, T,                                 \
                     o[r] = (y < 0 || y >= (int32_t)(8 * sizeof(T)))           \
                                ? (x < 0 ? -1 : 0)                             \
                                : (T)(x >> y);)
BITS(i32, int32_t)
BITS(i64, int64_t)

/* ---- greatest / least
 * -------------------------------------------------------------------- */

static lh_rc
extreme(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
        const uint32_t *sel, uint32_t n, lh_vector *out, int want)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        int best = -1;
        for (uint32_t a = 0; a < nargs; a++) {
            if (!lh_vec_valid(args[a], r)) {
                continue; /* PostgreSQL ignores NULLs here */
            }
            if (best < 0 || lh__vec_cmp(args[a], r, args[best], r) * want > 0) {
                best = (int)a;
            }
        }
        if (best < 0) {
            lh_bit_set(out->validity, r, false);
            continue;
        }
        lh_rc rc =
            lh__vec_copy_row(k->arena, out, r, args[best], r, false, k->err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

static lh_rc
greatest_k(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
           const uint32_t *sel, uint32_t n, lh_vector *out)
{
    return extreme(k, args, nargs, sel, n, out, 1);
}

static lh_rc
least_k(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
        const uint32_t *sel, uint32_t n, lh_vector *out)
{
    return extreme(k, args, nargs, sel, n, out, -1);
}

/* All arguments to their common type. */
static lh_rc
rule_common(const lh_fn_def *fn, const lh_type *args, uint32_t nargs,
            lh_type *want, lh_type *ret, lh_err *err)
{
    lh_type t = args[0];
    for (uint32_t i = 1; i < nargs; i++) {
        lh_type nt;
        if (!lh_sql_common_type(t, false, args[i], false, &nt)) {
            char a[48], b[48];
            return lh_err_set(err, LH_EINVAL,
                              "%s types %s and %s cannot be "
                              "matched",
                              fn->name, lh_sql_type_text(t, a),
                              lh_sql_type_text(args[i], b));
        }
        t = nt;
    }
    if (t.id == LH_T_NULL) {
        t = lh_sql_type(LH_T_VARCHAR);
    }
    for (uint32_t i = 0; i < nargs; i++) {
        want[i] = t;
    }
    *ret = t;
    return LH_OK;
}

/* ---- the table
 * ------------------------------------------------------------------------------
 */

#define DB LH_T_DOUBLE
#define F1(name, kern, A, R, fl)                                               \
    {                                                                          \
        name, LH_FN_SCALAR, 1, {A}, R, S, fl, NULL, LH_IMPL(kern)              \
    }
#define F1R(name, kern, A, R, fl, rule)                                        \
    {                                                                          \
        name, LH_FN_SCALAR, 1, {A}, R, S, fl, rule, LH_IMPL(kern)              \
    }
#define F2(name, kern, A, B_, R, fl)                                           \
    {                                                                          \
        name, LH_FN_SCALAR, 2, {A, B_}, R, S, fl, NULL, LH_IMPL(kern)          \
    }

static const lh_fn_def defs[] = {
    F1("abs", abs_i32, LH_T_INTEGER, LH_T_INTEGER, DF),
    F1("abs", abs_i64, LH_T_BIGINT, LH_T_BIGINT, DF),
    F1("abs", abs_i16, LH_T_SMALLINT, LH_T_SMALLINT, DF),
    F1R("abs", abs_dec, LH_T_DECIMAL, LH_T_DECIMAL, D, rule_dec_same),
    F1("abs", abs_f64, DB, DB, D),
    F1("abs", abs_f32, LH_T_REAL, LH_T_REAL, D),
    F1("sign", sign_f64, DB, DB, D),
    F1("round", round_f64, DB, DB, D),
    F1R("round", round_dec, LH_T_DECIMAL, LH_T_DECIMAL, D, rule_dec0),
    F2("round", round2_f64, DB, LH_T_INTEGER, DB, D),
    F2("round", round2_dec, LH_T_DECIMAL, LH_T_INTEGER, DB, D),
    F1("floor", floor_f64, DB, DB, D),
    F1R("floor", floor_dec, LH_T_DECIMAL, LH_T_DECIMAL, D, rule_dec0),
    F1("ceil", ceil_f64, DB, DB, D),
    F1R("ceil", ceil_dec, LH_T_DECIMAL, LH_T_DECIMAL, D, rule_dec0),
    F1("ceiling", ceil_f64, DB, DB, D),
    F1R("ceiling", ceil_dec, LH_T_DECIMAL, LH_T_DECIMAL, D, rule_dec0),
    F1("trunc", trunc_f64, DB, DB, D),
    F1R("trunc", trunc_dec, LH_T_DECIMAL, LH_T_DECIMAL, D, rule_dec0),
    F1("sqrt", sqrt_f64, DB, DB, DF),
    F1("cbrt", cbrt_f64, DB, DB, D),
    F1("exp", exp_f64, DB, DB, DF),
    F1("ln", ln_f64, DB, DB, DF),
    F1("log", log10_f64, DB, DB, DF),
    F2("log", log_base_f64, DB, DB, DB, DF),
    F1("log10", log10_f64, DB, DB, DF),
    F1("log2", log2_f64, DB, DB, DF),
    F2("power", pow_f64, DB, DB, DB, DF),
    F2("pow", pow_f64, DB, DB, DB, DF),
    F2("^", pow_f64, DB, DB, DB, DF),
    F2("**", pow_f64, DB, DB, DB, DF),
    {"pi", LH_FN_SCALAR, 0, {0}, DB, S, 0, NULL, LH_IMPL(pi_k)},
    {"random",
     LH_FN_SCALAR,
     0,
     {0},
     DB,
     S,
     LH_FN_VOLATILE,
     NULL,
     LH_IMPL(random_k)},
    F2("&", band_i32, LH_T_INTEGER, LH_T_INTEGER, LH_T_INTEGER, D),
    F2("&", band_i64, LH_T_BIGINT, LH_T_BIGINT, LH_T_BIGINT, D),
    F2("|", bor_i32, LH_T_INTEGER, LH_T_INTEGER, LH_T_INTEGER, D),
    F2("|", bor_i64, LH_T_BIGINT, LH_T_BIGINT, LH_T_BIGINT, D),
    F2("#", bxor_i32, LH_T_INTEGER, LH_T_INTEGER, LH_T_INTEGER, D),
    F2("#", bxor_i64, LH_T_BIGINT, LH_T_BIGINT, LH_T_BIGINT, D),
    F2("xor", bxor_i64, LH_T_BIGINT, LH_T_BIGINT, LH_T_BIGINT, D),
    F2("<<", shl_i32, LH_T_INTEGER, LH_T_INTEGER, LH_T_INTEGER, D),
    F2("<<", shl_i64, LH_T_BIGINT, LH_T_INTEGER, LH_T_BIGINT, D),
    F2(">>", shr_i32, LH_T_INTEGER, LH_T_INTEGER, LH_T_INTEGER, D),
    F2(">>", shr_i64, LH_T_BIGINT, LH_T_INTEGER, LH_T_BIGINT, D),
    F1("~", bnot_i32, LH_T_INTEGER, LH_T_INTEGER, D),
    F1("~", bnot_i64, LH_T_BIGINT, LH_T_BIGINT, D),
    {"greatest",
     LH_FN_SCALAR,
     1 | LH_FN_VARIADIC,
     {LH_FN_ANY},
     LH_T_NULL,
     LH_FN_NULLS,
     D,
     rule_common,
     LH_IMPL(greatest_k)},
    {"least",
     LH_FN_SCALAR,
     1 | LH_FN_VARIADIC,
     {LH_FN_ANY},
     LH_T_NULL,
     LH_FN_NULLS,
     D,
     rule_common,
     LH_IMPL(least_k)},
};

const lh_fn_family lh__fn_math = {"math", defs, LH_ARRAY_LEN(defs)};
