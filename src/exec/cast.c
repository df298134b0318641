/*
 * CAST kernels. Typed loops for the casts that run on hot paths (integer
 * widening, integers and decimals to DOUBLE, decimal rescaling, dates to
 * timestamps); every other pair goes through one value at a time: to
 * VARCHAR by the output rules' text form (column/), from VARCHAR by the
 * input rules (lh_value_from_text), numbers between each other with range
 * checks. A failed cast is an error naming the value and the type
 * (TRY_CAST: NULL instead).
 *
 * Rounding: DOUBLE and REAL to integers round to nearest-even (rint, as
 * PostgreSQL's float8 -> int4); DECIMAL to integers and to a smaller
 * scale rounds half away from zero (PostgreSQL's numeric).
 */
#include <math.h>
#include <string.h>

#include "exec/kernel.h"

static lh_rc bad_value(lh_kctx *k, uint32_t r, lh_vector *out, const char *fmt,
                       ...) LH_PRINTF(4, 5);

static lh_rc
bad_value(lh_kctx *k, uint32_t r, lh_vector *out, const char *fmt, ...)
{
    if (k->e && k->e->try_cast && out->validity) {
        LH_SET_NULL(r);
        return LH_OK;
    }
    va_list ap;
    va_start(ap, fmt);
    lh_err_setv(k->err, LH_EINVAL, fmt, ap);
    va_end(ap);
    if (k->err && k->e) {
        k->err->offset = k->e->pos;
    }
    return LH_EINVAL;
}

static const char *
tname(lh_type t, char *buf)
{
    return lh_sql_type_text(t, buf);
}

/* ---- numbers
 * --------------------------------------------------------------------- */

static bool
int_range(lh_type t, lh_i128 v)
{
    switch (t.id) {
    case LH_T_SMALLINT:
        return v >= INT16_MIN && v <= INT16_MAX;
    case LH_T_INTEGER:
        return v >= INT32_MIN && v <= INT32_MAX;
    case LH_T_BIGINT:
        return v >= INT64_MIN && v <= INT64_MAX;
    default:
        return true;
    }
}

static const char *
int_name(uint8_t id)
{
    return id == LH_T_SMALLINT  ? "smallint"
           : id == LH_T_INTEGER ? "integer"
                                : "bigint";
}

/* A numeric value as i128 (integers, decimals at their scale) or double. */
typedef struct num {
    bool is_float;
    lh_i128 i;
    int scale;
    double d;
} num;

static num
num_at(const lh_vector *v, uint32_t r)
{
    num x = {0};
    uint32_t i = lh_vidx(v, r);
    switch (v->type.id) {
    case LH_T_SMALLINT:
        x.i = ((const int16_t *)v->data)[i];
        break;
    case LH_T_INTEGER:
        x.i = ((const int32_t *)v->data)[i];
        break;
    case LH_T_BIGINT:
        x.i = ((const int64_t *)v->data)[i];
        break;
    case LH_T_DECIMAL:
        x.i = lh_dec_at(v, r);
        x.scale = v->type.scale;
        break;
    case LH_T_REAL:
        x.is_float = true;
        x.d = ((const float *)v->data)[i];
        break;
    case LH_T_DOUBLE:
        x.is_float = true;
        x.d = ((const double *)v->data)[i];
        break;
    case LH_T_BOOLEAN:
        x.i = ((const uint8_t *)v->data)[i];
        break;
    default:
        break;
    }
    return x;
}

/* x rescaled to `scale` digits, rounding half away from zero. */
static bool
rescale(lh_i128 v, int from, int to, lh_i128 *out)
{
    if (to >= from) {
        return !__builtin_mul_overflow(v, lh__pow10(to - from), out);
    }
    lh_i128 f = lh__pow10(from - to);
    lh_i128 q = v / f, rem = v % f;
    if (rem < 0) {
        rem = -rem;
    }
    if (rem * 2 >= f) {
        q += v < 0 ? -1 : 1;
    }
    *out = q;
    return true;
}

static lh_rc
num_cast(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
         const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    const lh_vector *a = args[0];
    lh_type t = out->type;
    char tn[48];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        num x = num_at(a, r);
        switch (t.id) {
        case LH_T_SMALLINT:
        case LH_T_INTEGER:
        case LH_T_BIGINT: {
            lh_i128 v;
            if (x.is_float) {
                double d = rint(x.d);
                if (isnan(d) || d < -9.3e18 || d > 9.3e18) {
                    return bad_value(k, r, out, "%s out of range",
                                     int_name(t.id));
                }
                v = (lh_i128)d;
            } else {
                rescale(x.i, x.scale, 0, &v);
            }
            if (!int_range(t, v)) {
                return bad_value(k, r, out, "%s out of range", int_name(t.id));
            }
            uint32_t ri = r;
            if (t.id == LH_T_SMALLINT) {
                ((int16_t *)out->data)[ri] = (int16_t)v;
            } else if (t.id == LH_T_INTEGER) {
                ((int32_t *)out->data)[ri] = (int32_t)v;
            } else {
                ((int64_t *)out->data)[ri] = (int64_t)v;
            }
            break;
        }
        case LH_T_REAL:
        case LH_T_DOUBLE: {
            double d =
                x.is_float ? x.d : (double)x.i / (double)lh__pow10(x.scale);
            if (t.id == LH_T_REAL) {
                float f = (float)d;
                if (isinf(f) && !isinf(d)) {
                    return bad_value(k, r, out,
                                     "value out of range: "
                                     "overflow");
                }
                ((float *)out->data)[r] = f;
            } else {
                ((double *)out->data)[r] = d;
            }
            break;
        }
        case LH_T_DECIMAL: {
            lh_i128 v;
            bool ok;
            if (x.is_float) {
                if (isnan(x.d) || isinf(x.d)) {
                    return bad_value(k, r, out, "cannot convert %s to numeric",
                                     isnan(x.d) ? "NaN" : "infinity");
                }
                double sc = x.d * pow(10.0, t.scale);
                ok = fabs(sc) < 1.7e38;
                v = ok ? (lh_i128)llround(0) : 0;
                if (ok) {
                    /* round half away from zero, exactly for |sc| < 2^63 */
                    if (fabs(sc) < 9.2e18) {
                        v = (lh_i128)llround(sc);
                    } else {
                        v = (lh_i128)round(sc);
                    }
                }
            } else {
                ok = rescale(x.i, x.scale, t.scale, &v);
            }
            lh_i128 lim = lh__pow10(t.precision);
            if (!ok || v >= lim || v <= -lim) {
                return bad_value(k, r, out,
                                 "numeric field overflow (a field with "
                                 "precision %d, scale %d must round to an "
                                 "absolute value less than 10^%d)",
                                 t.precision, t.scale, t.precision - t.scale);
            }
            lh_dec_put(out, r, v);
            break;
        }
        case LH_T_BOOLEAN:
            ((uint8_t *)out->data)[r] = x.is_float ? x.d != 0 : x.i != 0;
            break;
        default:
            return bad_value(k, r, out, "cannot cast to %s", tname(t, tn));
        }
    }
    return LH_OK;
}

/* ---- through values
 * ------------------------------------------------------------------ */

static lh_rc
to_text(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
        const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    const lh_vector *a = args[0];
    lh_buf b = LH_BUF_INIT;
    lh_rc rc = LH_OK;
    for (uint32_t i = 0; i < n && rc == LH_OK; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        lh_value v;
        rc = lh_vector_value(a, r, k->arena, &v, k->err);
        if (rc != LH_OK) {
            break;
        }
        lh_buf_reset(&b);
        if (v.type.id == LH_T_BOOLEAN) {
            lh_buf_puts(&b, v.u.b ? "true" : "false");
        } else {
            lh_value_to_text(&v, &b);
        }
        if (!lh_buf_ok(&b)) {
            rc = lh_err_set(k->err, LH_ENOMEM, "out of memory");
            break;
        }
        uint32_t len = (uint32_t)b.len;
        if (out->type.length && out->type.id == LH_T_VARCHAR) {
            /* VARCHAR(n): cut to n characters, as an explicit cast does */
            uint32_t chars = 0, cut = 0;
            while (cut < len) {
                if (((unsigned char)b.data[cut] & 0xc0) != 0x80) {
                    if (chars == out->type.length) {
                        break;
                    }
                    chars++;
                }
                cut++;
            }
            len = cut;
        }
        bool oom = false;
        ((lh_str *)out->data)[r] =
            lh__str_copy(k->arena, b.data ? b.data : "", len, &oom);
        if (oom) {
            rc = lh_err_set(k->err, LH_ENOMEM, "out of memory");
        }
    }
    lh_buf_release(&b);
    return rc;
}

static lh_rc
from_text(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
          const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    const lh_vector *a = args[0];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        const lh_str *s = &((const lh_str *)a->data)[lh_vidx(a, r)];
        lh_value v;
        lh_err e;
        lh_rc rc = lh_value_from_text(out->type, lh_str_data(s), s->len,
                                      k->arena, &v, &e);
        if (rc == LH_ENOMEM) {
            return lh_err_set(k->err, LH_ENOMEM, "out of memory");
        }
        if (rc != LH_OK) {
            char msg[256];
            lh_sql_input_error(out->type, lh_str_data(s), s->len, e.msg, msg,
                               sizeof msg);
            rc = bad_value(k, r, out, "%s", msg);
            if (rc != LH_OK) {
                return rc;
            }
            continue;
        }
        v.type = out->type;
        rc = lh__vec_set(k->arena, out, r, &v, k->err);
        if (rc != LH_OK) {
            return rc;
        }
        if (!out->validity) {
            continue;
        }
        lh_bit_set(out->validity, r, true);
    }
    return LH_OK;
}

/* TIMESTAMP <-> DATE <-> TIME and the like */
static lh_rc
temporal(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
         const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    const lh_vector *a = args[0];
    uint8_t from = a->type.id, to = out->type.id;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        uint32_t ai = lh_vidx(a, r);
        int64_t us =
            from == LH_T_DATE
                ? (int64_t)((const int32_t *)a->data)[ai] * LH_US_PER_DAY
                : ((const int64_t *)a->data)[ai];
        if (to == LH_T_DATE) {
            int64_t d = us >= 0 ? us / LH_US_PER_DAY
                                : -((-us + LH_US_PER_DAY - 1) / LH_US_PER_DAY);
            if (d < INT32_MIN || d > INT32_MAX) {
                return bad_value(k, r, out, "date out of range");
            }
            ((int32_t *)out->data)[r] = (int32_t)d;
        } else if (to == LH_T_TIME) {
            int64_t t = us % LH_US_PER_DAY;
            ((int64_t *)out->data)[r] = t < 0 ? t + LH_US_PER_DAY : t;
        } else {
            ((int64_t *)out->data)[r] = us;
        }
    }
    return LH_OK;
}

static lh_rc
same_bytes(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
           const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)k;
    (void)nargs;
    size_t w = lh_type_width(out->type);
    const lh_vector *a = args[0];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        memcpy((char *)out->data + (size_t)r * w,
               (const char *)a->data + (size_t)lh_vidx(a, r) * w, w);
    }
    return LH_OK;
}

/* VARCHAR -> VARCHAR(n) and JSON: checked through the text path, which
 * validates JSON and cuts lengths */
static lh_rc
text_to_text(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
             const uint32_t *sel, uint32_t n, lh_vector *out)
{
    if (out->type.id == LH_T_JSON) {
        return from_text(k, args, nargs, sel, n, out);
    }
    if (out->type.length == 0) {
        return same_bytes(k, args, nargs, sel, n, out);
    }
    return to_text(k, args, nargs, sel, n, out);
}

static lh_rc
null_cast(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
          const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)k;
    (void)args;
    (void)nargs;
    for (uint32_t i = 0; i < n; i++) {
        if (out->validity) {
            LH_SET_NULL(sel ? sel[i] : i);
        }
    }
    return LH_OK;
}

/* fast paths */
LH_UNARY_KERNEL(i32_to_i64, int32_t, int64_t, o[r] = x;)
LH_UNARY_KERNEL(i16_to_i32, int16_t, int32_t, o[r] = x;)
LH_UNARY_KERNEL(i16_to_i64, int16_t, int64_t, o[r] = x;)
LH_UNARY_KERNEL(i32_to_f64, int32_t, double, o[r] = x;)
LH_UNARY_KERNEL(i64_to_f64, int64_t, double, o[r] = (double)x;)
LH_UNARY_KERNEL(f32_to_f64, float, double, o[r] = x;)
LH_UNARY_KERNEL(date_to_ts, int32_t, int64_t,
                o[r] = (int64_t)x * LH_US_PER_DAY;)

static bool
is_num(uint8_t id)
{
    return id == LH_T_SMALLINT || id == LH_T_INTEGER || id == LH_T_BIGINT ||
           id == LH_T_REAL || id == LH_T_DOUBLE || id == LH_T_DECIMAL;
}

static bool
is_text(uint8_t id)
{
    return id == LH_T_VARCHAR || id == LH_T_JSON;
}

lh_kernel_fn
lh__cast_kernel(lh_type from, lh_type to)
{
    uint8_t f = from.id, t = to.id;
    if (f == LH_T_NULL) {
        return null_cast;
    }
    if (f == LH_T_INTEGER && t == LH_T_BIGINT) {
        return i32_to_i64;
    }
    if (f == LH_T_SMALLINT && t == LH_T_INTEGER) {
        return i16_to_i32;
    }
    if (f == LH_T_SMALLINT && t == LH_T_BIGINT) {
        return i16_to_i64;
    }
    if (f == LH_T_INTEGER && t == LH_T_DOUBLE) {
        return i32_to_f64;
    }
    if (f == LH_T_BIGINT && t == LH_T_DOUBLE) {
        return i64_to_f64;
    }
    if (f == LH_T_REAL && t == LH_T_DOUBLE) {
        return f32_to_f64;
    }
    if (f == LH_T_DATE && (t == LH_T_TIMESTAMP || t == LH_T_TIMESTAMPTZ)) {
        return date_to_ts;
    }
    if (is_num(f) && is_num(t)) {
        return num_cast;
    }
    if ((f == LH_T_BOOLEAN && lh_sql_is_integer(t)) ||
        (lh_sql_is_integer(f) && t == LH_T_BOOLEAN)) {
        return num_cast;
    }
    if (is_text(f) && is_text(t)) {
        return text_to_text;
    }
    if (t == LH_T_VARCHAR) {
        return to_text;
    }
    if (f == LH_T_VARCHAR) {
        return from_text;
    }
    bool tf = f == LH_T_DATE || f == LH_T_TIMESTAMP || f == LH_T_TIMESTAMPTZ;
    bool tt = t == LH_T_DATE || t == LH_T_TIMESTAMP || t == LH_T_TIMESTAMPTZ ||
              (t == LH_T_TIME && f != LH_T_DATE);
    if (tf && tt) {
        return temporal;
    }
    if (f == t && (f == LH_T_BLOB || f == LH_T_UUID || f == LH_T_INTERVAL ||
                   f == LH_T_TIME || f == LH_T_BOOLEAN ||
                   (f == LH_T_VECTOR && from.dim == to.dim))) {
        return same_bytes;
    }
    return NULL;
}
