/*
 * Vector helpers of the executor: allocation, constants, flattening DICT
 * and CONSTANT vectors, single-row access (for the few places that go row
 * by row: VALUES, results, correlated parameters), copies for operators
 * that keep rows, comparison and hashing.
 */
#include <math.h>
#include <string.h>

#include <xxhash.h>

#include "exec/exec_int.h"

lh_rc
lh__vec_new(lh_arena *a, lh_type t, uint32_t rows, bool nullable,
            lh_vector **out, lh_err *err)
{
    lh_vector *v = lh_arena_alloc(a, sizeof(lh_vector));
    if (v == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory for a vector");
    }
    lh_rc rc = lh_vector_alloc(v, t, rows ? rows : 1, nullable, a, err);
    if (rc != LH_OK) {
        return rc;
    }
    *out = v;
    return LH_OK;
}

lh_str
lh__str_copy(lh_arena *a, const char *p, uint32_t len, bool *oom)
{
    if (len <= LH_STR_INLINE) {
        return lh_str_make(p, len);
    }
    char *d = lh_arena_alloc(a, len);
    if (d == NULL) {
        *oom = true;
        return lh_str_make("", 0);
    }
    memcpy(d, p, len);
    return lh_str_make(d, len);
}

static bool
is_str(uint8_t id)
{
    return id == LH_T_VARCHAR || id == LH_T_BLOB || id == LH_T_JSON;
}

/* Stores value v at row r of FLAT data (no validity). */
static lh_rc
store(lh_arena *a, lh_vector *out, uint32_t r, const lh_value *v)
{
    void *d = out->data;
    lh_type t = out->type;
    switch ((lh_type_id)t.id) {
    case LH_T_BOOLEAN:
        ((uint8_t *)d)[r] = v->u.b;
        break;
    case LH_T_SMALLINT:
        ((int16_t *)d)[r] = (int16_t)v->u.i;
        break;
    case LH_T_INTEGER:
    case LH_T_DATE:
        ((int32_t *)d)[r] = (int32_t)v->u.i;
        break;
    case LH_T_BIGINT:
    case LH_T_TIME:
    case LH_T_TIMESTAMP:
    case LH_T_TIMESTAMPTZ:
        ((int64_t *)d)[r] = v->u.i;
        break;
    case LH_T_REAL:
        ((float *)d)[r] = (float)v->u.d;
        break;
    case LH_T_DOUBLE:
        ((double *)d)[r] = v->u.d;
        break;
    case LH_T_DECIMAL:
        if (t.precision <= 18) {
            ((int64_t *)d)[r] = (int64_t)v->u.dec;
        } else {
            memcpy((char *)d + (size_t)r * sizeof(lh_i128), &v->u.dec,
                   sizeof(lh_i128));
        }
        break;
    case LH_T_VARCHAR:
    case LH_T_BLOB:
    case LH_T_JSON: {
        bool oom = false;
        ((lh_str *)d)[r] =
            lh__str_copy(a, v->u.s.p, (uint32_t)v->u.s.len, &oom);
        if (oom) {
            return LH_ENOMEM;
        }
        break;
    }
    case LH_T_INTERVAL:
        ((lh_interval *)d)[r] = v->u.iv;
        break;
    case LH_T_UUID:
        ((lh_uuid *)d)[r] = v->u.uuid;
        break;
    case LH_T_VECTOR:
        if (v->u.vec.n == t.dim) {
            memcpy((float *)d + (size_t)r * t.dim, v->u.vec.v,
                   t.dim * sizeof(float));
        }
        break;
    default:
        break;
    }
    return LH_OK;
}

lh_rc
lh__vec_const(lh_arena *a, const lh_value *v, lh_vector *out, lh_err *err)
{
    lh_type t = v->type;
    if (t.id == LH_T_NULL) {
        t = lh_sql_type(LH_T_BOOLEAN);
    }
    lh_rc rc = lh_vector_alloc(out, t, 1, v->is_null, a, err);
    if (rc != LH_OK) {
        return rc;
    }
    out->type = v->type;
    out->kind = LH_VEC_CONSTANT;
    if (v->is_null) {
        lh_bit_set(out->validity, 0, false);
        return LH_OK;
    }
    out->type = t;
    if (store(a, out, 0, v) != LH_OK) {
        return lh_err_set(err, LH_ENOMEM, "out of memory for a constant");
    }
    out->type = v->type;
    return LH_OK;
}

void
lh__vec_get(const lh_vector *v, uint32_t r, lh_value *out)
{
    lh_err e;
    /* no arena needed for scalar types; nested values are not here */
    lh_vector_value(v, r, NULL, out, &e);
}

lh_rc
lh__vec_set(lh_arena *a, lh_vector *v, uint32_t r, const lh_value *val,
            lh_err *err)
{
    if (val->is_null) {
        if (v->validity == NULL) {
            return lh_err_set(err, LH_EINTERNAL,
                              "NULL into a vector without validity");
        }
        lh_bit_set(v->validity, r, false);
        return LH_OK;
    }
    if (v->validity) {
        lh_bit_set(v->validity, r, true);
    }
    if (store(a, v, r, val) != LH_OK) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    return LH_OK;
}

lh_rc
lh__vec_copy_row(lh_arena *a, lh_vector *dst, uint32_t dr, const lh_vector *src,
                 uint32_t sr, bool copy_strings, lh_err *err)
{
    bool valid = lh_vec_valid(src, sr);
    if (dst->validity) {
        lh_bit_set(dst->validity, dr, valid);
    }
    if (!valid) {
        return LH_OK;
    }
    const lh_vector *f = src;
    uint32_t r = sr;
    if (src->kind == LH_VEC_CONSTANT) {
        r = 0;
    } else if (src->kind == LH_VEC_DICT) {
        r = ((const uint32_t *)src->data)[sr];
        f = src->dict;
    }
    size_t w = lh_type_width(dst->type);
    if (is_str(dst->type.id)) {
        const lh_str *s = &((const lh_str *)f->data)[r];
        if (copy_strings && s->len > LH_STR_INLINE) {
            bool oom = false;
            ((lh_str *)dst->data)[dr] = lh__str_copy(a, s->u.ptr, s->len, &oom);
            if (oom) {
                return lh_err_set(err, LH_ENOMEM, "out of memory");
            }
        } else {
            ((lh_str *)dst->data)[dr] = *s;
        }
        return LH_OK;
    }
    memcpy((char *)dst->data + (size_t)dr * w,
           (const char *)f->data + (size_t)r * w, w);
    return LH_OK;
}

lh_rc
lh__vec_flatten(lh_arena *a, const lh_vector *v, uint32_t count,
                const uint32_t *sel, uint32_t n, const lh_vector **out,
                lh_err *err)
{
    if (v->kind == LH_VEC_FLAT) {
        *out = v;
        return LH_OK;
    }
    lh_vector *f = NULL;
    lh_rc rc = lh__vec_new(a, v->type, count, v->validity != NULL, &f, err);
    if (rc != LH_OK) {
        return rc;
    }
    size_t w = lh_type_width(v->type);
    if (v->kind == LH_VEC_CONSTANT) {
        bool valid = lh_vec_valid(v, 0);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t r = lh_row(sel, i);
            memcpy((char *)f->data + (size_t)r * w, v->data, w);
            if (!valid) {
                lh_bit_set(f->validity, r, false);
            }
        }
    } else {
        const uint32_t *codes = v->data;
        const char *dd = v->dict->data;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t r = lh_row(sel, i);
            memcpy((char *)f->data + (size_t)r * w, dd + (size_t)codes[r] * w,
                   w);
            if (v->validity && !lh_vec_valid(v, r)) {
                lh_bit_set(f->validity, r, false);
            }
        }
    }
    *out = f;
    return LH_OK;
}

lh_rc
lh__batch_copy(lh_arena *a, const lh_batch *in, lh_batch *out, lh_err *err)
{
    uint32_t n = in->sel ? in->nsel : in->count;
    out->count = n;
    out->sel = NULL;
    out->nsel = 0;
    out->ncols = in->ncols;
    out->cols =
        lh_arena_calloc(a, (in->ncols ? in->ncols : 1) * sizeof(lh_vector));
    if (out->cols == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory copying rows");
    }
    for (uint32_t c = 0; c < in->ncols; c++) {
        const lh_vector *src = &in->cols[c];
        lh_vector *dst = &out->cols[c];
        lh_rc rc = lh_vector_alloc(
            dst, src->type, n ? n : 1,
            src->validity != NULL || src->kind == LH_VEC_DICT, a, err);
        if (rc != LH_OK) {
            return rc;
        }
        for (uint32_t i = 0; i < n; i++) {
            rc =
                lh__vec_copy_row(a, dst, i, src, lh_row(in->sel, i), true, err);
            if (rc != LH_OK) {
                return rc;
            }
        }
    }
    return LH_OK;
}

/* ---- comparison -------------------------------------------------------------
 */

static const void *
cell(const lh_vector *v, uint32_t r, size_t w)
{
    if (v->kind == LH_VEC_CONSTANT) {
        return v->data;
    }
    if (v->kind == LH_VEC_DICT) {
        return (const char *)v->dict->data +
               (size_t)((const uint32_t *)v->data)[r] * w;
    }
    return (const char *)v->data + (size_t)r * w;
}

static int
cmp_double(double x, double y)
{
    /* NaN sorts above everything and equals itself (PostgreSQL) */
    bool nx = isnan(x), ny = isnan(y);
    if (nx || ny) {
        return nx && ny ? 0 : nx ? 1 : -1;
    }
    return x < y ? -1 : x > y;
}

int
lh__vec_cmp(const lh_vector *a, uint32_t ra, const lh_vector *b, uint32_t rb)
{
    size_t w = lh_type_width(a->type);
    const void *x = cell(a, ra, w), *y = cell(b, rb, w);
    switch ((lh_type_id)a->type.id) {
    case LH_T_BOOLEAN:
        return (int)*(const uint8_t *)x - (int)*(const uint8_t *)y;
    case LH_T_SMALLINT: {
        int16_t p = *(const int16_t *)x, q = *(const int16_t *)y;
        return p < q ? -1 : p > q;
    }
    case LH_T_INTEGER:
    case LH_T_DATE: {
        int32_t p = *(const int32_t *)x, q = *(const int32_t *)y;
        return p < q ? -1 : p > q;
    }
    case LH_T_BIGINT:
    case LH_T_TIME:
    case LH_T_TIMESTAMP:
    case LH_T_TIMESTAMPTZ: {
        int64_t p = *(const int64_t *)x, q = *(const int64_t *)y;
        return p < q ? -1 : p > q;
    }
    case LH_T_REAL:
        return cmp_double(*(const float *)x, *(const float *)y);
    case LH_T_DOUBLE:
        return cmp_double(*(const double *)x, *(const double *)y);
    case LH_T_DECIMAL:
        if (a->type.precision <= 18) {
            int64_t p = *(const int64_t *)x, q = *(const int64_t *)y;
            return p < q ? -1 : p > q;
        } else {
            lh_i128 p, q;
            memcpy(&p, x, sizeof p);
            memcpy(&q, y, sizeof q);
            return p < q ? -1 : p > q;
        }
    case LH_T_VARCHAR:
    case LH_T_BLOB:
    case LH_T_JSON:
        return lh_str_cmp(x, y);
    case LH_T_INTERVAL: {
        /* by total length, as PostgreSQL (30-day months) */
        const lh_interval *p = x, *q = y;
        __int128 tp =
            ((__int128)p->months * 30 + p->days) * LH_US_PER_DAY + p->micros;
        __int128 tq =
            ((__int128)q->months * 30 + q->days) * LH_US_PER_DAY + q->micros;
        return tp < tq ? -1 : tp > tq;
    }
    case LH_T_UUID:
        return memcmp(x, y, sizeof(lh_uuid));
    case LH_T_VECTOR:
        for (uint32_t i = 0; i < a->type.dim; i++) {
            int c = cmp_double(((const float *)x)[i], ((const float *)y)[i]);
            if (c) {
                return c;
            }
        }
        return 0;
    default:
        return 0;
    }
}

bool
lh__vec_eq(const lh_vector *a, uint32_t ra, const lh_vector *b, uint32_t rb)
{
    if (is_str(a->type.id)) {
        size_t w = sizeof(lh_str);
        return lh_str_eq(cell(a, ra, w), cell(b, rb, w));
    }
    return lh__vec_cmp(a, ra, b, rb) == 0;
}

int
lh__value_cmp(const lh_value *a, const lh_value *b)
{
    lh_vector va, vb;
    lh_arena ar;
    lh_arena_init(&ar, 0);
    lh_err e;
    int c = 0;
    if (lh__vec_const(&ar, a, &va, &e) == LH_OK &&
        lh__vec_const(&ar, b, &vb, &e) == LH_OK) {
        c = lh__vec_cmp(&va, 0, &vb, 0);
    }
    lh_arena_release(&ar);
    return c;
}

/* ---- hashing ----------------------------------------------------------------
 */

static inline uint64_t
mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static inline void
put(uint64_t *h, uint32_t i, uint64_t v, bool combine)
{
    h[i] = combine ? mix64(h[i] * 31 + v) : mix64(v);
}

void
lh__vec_hash(const lh_vector *v, const uint32_t *sel, uint32_t n, uint64_t *h,
             bool combine)
{
    size_t w = lh_type_width(v->type);
    const uint64_t null_hash = 0x9e3779b97f4a7c15ull;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = lh_row(sel, i);
        if (!lh_vec_valid(v, r)) {
            put(h, i, null_hash, combine);
            continue;
        }
        const void *x = cell(v, r, w);
        uint64_t k;
        switch ((lh_type_id)v->type.id) {
        case LH_T_BOOLEAN:
            k = *(const uint8_t *)x;
            break;
        case LH_T_SMALLINT:
            k = (uint64_t)(int64_t) * (const int16_t *)x;
            break;
        case LH_T_INTEGER:
        case LH_T_DATE:
            k = (uint64_t)(int64_t) * (const int32_t *)x;
            break;
        case LH_T_REAL: {
            double d = *(const float *)x;
            if (d == 0) {
                d = 0; /* -0 = 0 */
            }
            memcpy(&k, &d, 8);
            break;
        }
        case LH_T_DOUBLE: {
            double d = *(const double *)x;
            if (d == 0) {
                d = 0;
            }
            if (isnan(d)) {
                d = NAN;
            }
            memcpy(&k, &d, 8);
            break;
        }
        case LH_T_VARCHAR:
        case LH_T_BLOB:
        case LH_T_JSON: {
            const lh_str *s = x;
            k = XXH3_64bits(lh_str_data(s), s->len);
            break;
        }
        case LH_T_INTERVAL: {
            const lh_interval *iv = x;
            k = (uint64_t)(((__int128)iv->months * 30 + iv->days) *
                               LH_US_PER_DAY +
                           iv->micros);
            break;
        }
        default:
            if (w == 8) {
                memcpy(&k, x, 8);
            } else {
                k = XXH3_64bits(x, w);
            }
            break;
        }
        put(h, i, k, combine);
    }
}

void
lh__vec_gather(lh_vector *dst, uint32_t at, const lh_vector *src,
               const uint32_t *rows, uint32_t n)
{
    size_t w = lh_type_width(dst->type);
    char *d = (char *)dst->data + (size_t)at * w;
    if (src->kind == LH_VEC_FLAT) {
        const char *s = src->data;
        switch (w) {
        case 1:
            for (uint32_t i = 0; i < n; i++) {
                d[i] = s[rows[i]];
            }
            break;
        case 4:
            for (uint32_t i = 0; i < n; i++) {
                ((uint32_t *)d)[i] = ((const uint32_t *)s)[rows[i]];
            }
            break;
        case 8:
            for (uint32_t i = 0; i < n; i++) {
                ((uint64_t *)d)[i] = ((const uint64_t *)s)[rows[i]];
            }
            break;
        default:
            for (uint32_t i = 0; i < n; i++) {
                memcpy(d + (size_t)i * w, s + (size_t)rows[i] * w, w);
            }
            break;
        }
    } else if (src->kind == LH_VEC_CONSTANT) {
        for (uint32_t i = 0; i < n; i++) {
            memcpy(d + (size_t)i * w, src->data, w);
        }
    } else {
        const uint32_t *codes = src->data;
        const char *s = src->dict->data;
        for (uint32_t i = 0; i < n; i++) {
            memcpy(d + (size_t)i * w, s + (size_t)codes[rows[i]] * w, w);
        }
    }
    if (dst->validity) {
        for (uint32_t i = 0; i < n; i++) {
            lh_bit_set(dst->validity, at + i, lh_vec_valid(src, rows[i]));
        }
    }
}
