/*
 * The basic aggregates: count(*), count, sum, avg, min, max, bool_and,
 * bool_or, string_agg, any_value, and the variance family (Welford's
 * running mean and sum of squares, merged with Chan's formula).
 *
 * Result types: sum of SMALLINT/INTEGER is BIGINT, of BIGINT DECIMAL(38,0)
 * (PostgreSQL gives numeric: no overflow at 2^63), of DECIMAL(p,s)
 * DECIMAL(38,s), of REAL/DOUBLE DOUBLE; avg is DOUBLE (DuckDB's choice;
 * PostgreSQL's numeric avg has no fixed scale); min and max keep the
 * argument's type. Empty input: count 0, the others NULL.
 *
 * Every state merges (combine), so partial aggregates of workers and of
 * tiers combine into one.
 */
#include <math.h>
#include <string.h>

#include "exec/kernel.h"

#define UPDATE(name)                                                           \
    static lh_rc name(lh_kctx *k, void *const *states,                         \
                      const lh_vector *const *args, uint32_t nargs,            \
                      const uint32_t *sel, uint32_t n)
#define FINAL(name)                                                            \
    static lh_rc name(lh_kctx *k, void *const *states, uint32_t n,             \
                      lh_vector *out)
#define COMBINE(name) static lh_rc name(lh_kctx *k, void *dst, const void *src)

/* ---- count
 * ---------------------------------------------------------------------- */

UPDATE(count_star_up)
{
    (void)k;
    (void)args;
    (void)nargs;
    (void)sel;
    for (uint32_t i = 0; i < n; i++) {
        (*(int64_t *)states[i])++;
    }
    return LH_OK;
}

UPDATE(count_up)
{
    (void)k;
    (void)nargs;
    const lh_vector *a = args[0];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        *(int64_t *)states[i] += lh_vec_valid(a, r);
    }
    return LH_OK;
}

COMBINE(count_comb)
{
    (void)k;
    *(int64_t *)dst += *(const int64_t *)src;
    return LH_OK;
}

FINAL(count_fin)
{
    (void)k;
    for (uint32_t i = 0; i < n; i++) {
        ((int64_t *)out->data)[i] = *(const int64_t *)states[i];
    }
    return LH_OK;
}

static const lh_agg_impl count_star_agg = {8, NULL, count_star_up, count_comb,
                                           count_fin};
static const lh_agg_impl count_agg = {8, NULL, count_up, count_comb, count_fin};

/* ---- sum and avg
 * ------------------------------------------------------------------- */

typedef struct sum_i {
    lh_i128 sum;
    int64_t count;
} sum_i;

typedef struct sum_d {
    double sum;
    int64_t count;
} sum_d;

static inline lh_i128
int_at(const lh_vector *a, uint32_t r)
{
    uint32_t i = lh_vidx(a, r);
    switch (a->type.id) {
    case LH_T_SMALLINT:
        return ((const int16_t *)a->data)[i];
    case LH_T_INTEGER:
        return ((const int32_t *)a->data)[i];
    case LH_T_BIGINT:
        return ((const int64_t *)a->data)[i];
    default:
        return lh_dec_at(a, r);
    }
}

UPDATE(sum_i_up)
{
    (void)nargs;
    const lh_vector *a = args[0];
    /* a fast loop for the common flat 64-bit and 32-bit columns */
    if (a->kind == LH_VEC_FLAT && a->validity == NULL &&
        (a->type.id == LH_T_BIGINT ||
         (a->type.id == LH_T_DECIMAL && a->type.precision <= 18))) {
        const int64_t *d = a->data;
        for (uint32_t i = 0; i < n; i++) {
            sum_i *s = states[i];
            s->sum += d[sel ? sel[i] : i];
            s->count++;
        }
        return LH_OK;
    }
    if (a->kind == LH_VEC_FLAT && a->validity == NULL &&
        a->type.id == LH_T_INTEGER) {
        const int32_t *d = a->data;
        for (uint32_t i = 0; i < n; i++) {
            sum_i *s = states[i];
            s->sum += d[sel ? sel[i] : i];
            s->count++;
        }
        return LH_OK;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!lh_vec_valid(a, r)) {
            continue;
        }
        sum_i *s = states[i];
        if (__builtin_add_overflow(s->sum, int_at(a, r), &s->sum)) {
            return lh__kerr(k, LH_EINVAL, "numeric field overflow in sum");
        }
        s->count++;
    }
    return LH_OK;
}

COMBINE(sum_i_comb)
{
    sum_i *d = dst;
    const sum_i *s = src;
    if (__builtin_add_overflow(d->sum, s->sum, &d->sum)) {
        return lh__kerr(k, LH_EINVAL, "numeric field overflow in sum");
    }
    d->count += s->count;
    return LH_OK;
}

FINAL(sum_i_fin)
{
    for (uint32_t i = 0; i < n; i++) {
        const sum_i *s = states[i];
        if (s->count == 0) {
            lh_bit_set(out->validity, i, false);
            continue;
        }
        if (out->type.id == LH_T_BIGINT) {
            if (s->sum > INT64_MAX || s->sum < INT64_MIN) {
                return lh__kerr(k, LH_EINVAL, "bigint out of range in sum");
            }
            ((int64_t *)out->data)[i] = (int64_t)s->sum;
        } else {
            lh_i128 lim = lh__pow10(38);
            if (s->sum >= lim || s->sum <= -lim) {
                return lh__kerr(k, LH_EINVAL, "numeric field overflow in sum");
            }
            lh_dec_put(out, i, s->sum);
        }
    }
    return LH_OK;
}

static double
dbl_at(const lh_vector *a, uint32_t r)
{
    uint32_t i = lh_vidx(a, r);
    switch (a->type.id) {
    case LH_T_REAL:
        return ((const float *)a->data)[i];
    case LH_T_DOUBLE:
        return ((const double *)a->data)[i];
    default:
        return (double)int_at(a, r);
    }
}

UPDATE(sum_d_up)
{
    (void)k;
    (void)nargs;
    const lh_vector *a = args[0];
    if (a->kind == LH_VEC_FLAT && a->validity == NULL &&
        a->type.id == LH_T_DOUBLE) {
        const double *d = a->data;
        for (uint32_t i = 0; i < n; i++) {
            sum_d *s = states[i];
            s->sum += d[sel ? sel[i] : i];
            s->count++;
        }
        return LH_OK;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!lh_vec_valid(a, r)) {
            continue;
        }
        sum_d *s = states[i];
        s->sum += dbl_at(a, r);
        s->count++;
    }
    return LH_OK;
}

COMBINE(sum_d_comb)
{
    (void)k;
    sum_d *d = dst;
    const sum_d *s = src;
    d->sum += s->sum;
    d->count += s->count;
    return LH_OK;
}

FINAL(sum_d_fin)
{
    (void)k;
    for (uint32_t i = 0; i < n; i++) {
        const sum_d *s = states[i];
        if (s->count == 0) {
            lh_bit_set(out->validity, i, false);
        } else {
            ((double *)out->data)[i] = s->sum;
        }
    }
    return LH_OK;
}

FINAL(avg_i_fin)
{
    (void)k;
    for (uint32_t i = 0; i < n; i++) {
        const sum_i *s = states[i];
        if (s->count == 0) {
            lh_bit_set(out->validity, i, false);
        } else {
            ((double *)out->data)[i] = (double)s->sum / (double)s->count;
        }
    }
    return LH_OK;
}

/* avg of DECIMAL: the sum is at the argument's scale, kept in the state */
typedef struct avg_dec {
    sum_i s;
    int32_t scale;
} avg_dec;

UPDATE(avg_dec_up)
{
    for (uint32_t i = 0; i < n; i++) {
        ((avg_dec *)states[i])->scale = args[0]->type.scale;
    }
    /* sum_i is the state's head */
    return sum_i_up(k, states, args, nargs, sel, n);
}

COMBINE(avg_dec_comb)
{
    avg_dec *d = dst;
    const avg_dec *s = src;
    if (s->s.count) {
        d->scale = s->scale;
    }
    return sum_i_comb(k, &d->s, &s->s);
}

FINAL(avg_dec_fin)
{
    (void)k;
    for (uint32_t i = 0; i < n; i++) {
        const avg_dec *s = states[i];
        if (s->s.count == 0) {
            lh_bit_set(out->validity, i, false);
        } else {
            ((double *)out->data)[i] = (double)s->s.sum /
                                       (double)lh__pow10(s->scale) /
                                       (double)s->s.count;
        }
    }
    return LH_OK;
}

FINAL(avg_d_fin)
{
    (void)k;
    for (uint32_t i = 0; i < n; i++) {
        const sum_d *s = states[i];
        if (s->count == 0) {
            lh_bit_set(out->validity, i, false);
        } else {
            ((double *)out->data)[i] = s->sum / (double)s->count;
        }
    }
    return LH_OK;
}

/* sum of intervals */
typedef struct sum_iv {
    lh_interval v;
    int64_t count;
} sum_iv;

UPDATE(sum_iv_up)
{
    (void)nargs;
    const lh_vector *a = args[0];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!lh_vec_valid(a, r)) {
            continue;
        }
        sum_iv *s = states[i];
        const lh_interval *x = &((const lh_interval *)a->data)[lh_vidx(a, r)];
        if (__builtin_add_overflow(s->v.months, x->months, &s->v.months) ||
            __builtin_add_overflow(s->v.days, x->days, &s->v.days) ||
            __builtin_add_overflow(s->v.micros, x->micros, &s->v.micros)) {
            return lh__kerr(k, LH_EINVAL, "interval out of range");
        }
        s->count++;
    }
    return LH_OK;
}

COMBINE(sum_iv_comb)
{
    sum_iv *d = dst;
    const sum_iv *s = src;
    if (__builtin_add_overflow(d->v.months, s->v.months, &d->v.months) ||
        __builtin_add_overflow(d->v.days, s->v.days, &d->v.days) ||
        __builtin_add_overflow(d->v.micros, s->v.micros, &d->v.micros)) {
        return lh__kerr(k, LH_EINVAL, "interval out of range");
    }
    d->count += s->count;
    return LH_OK;
}

FINAL(sum_iv_fin)
{
    (void)k;
    for (uint32_t i = 0; i < n; i++) {
        const sum_iv *s = states[i];
        if (s->count == 0) {
            lh_bit_set(out->validity, i, false);
        } else {
            ((lh_interval *)out->data)[i] = s->v;
        }
    }
    return LH_OK;
}

static const lh_agg_impl sum_i_agg = {sizeof(sum_i), NULL, sum_i_up, sum_i_comb,
                                      sum_i_fin};
static const lh_agg_impl sum_d_agg = {sizeof(sum_d), NULL, sum_d_up, sum_d_comb,
                                      sum_d_fin};
static const lh_agg_impl sum_iv_agg = {sizeof(sum_iv), NULL, sum_iv_up,
                                       sum_iv_comb, sum_iv_fin};
static const lh_agg_impl avg_i_agg = {sizeof(sum_i), NULL, sum_i_up, sum_i_comb,
                                      avg_i_fin};
static const lh_agg_impl avg_dec_agg = {sizeof(avg_dec), NULL, avg_dec_up,
                                        avg_dec_comb, avg_dec_fin};
static const lh_agg_impl avg_d_agg = {sizeof(sum_d), NULL, sum_d_up, sum_d_comb,
                                      avg_d_fin};

/* ---- min and max
 * ---------------------------------------------------------------- */

typedef struct minmax {
    bool has;
    lh_vector v; /* one FLAT row: the best value so far */
    union {
        lh_i128 i;
        double d;
        lh_str s;
        lh_interval iv;
        lh_uuid u;
    } u;
} minmax;

static lh_rc
minmax_set(lh_kctx *k, minmax *m, const lh_vector *a, uint32_t r)
{
    m->v.type = a->type;
    m->v.kind = LH_VEC_FLAT;
    m->v.validity = NULL;
    m->v.data = &m->u;
    lh_rc rc = lh__vec_copy_row(k->arena, &m->v, 0, a, r, true, k->err);
    m->has = rc == LH_OK;
    return rc;
}

static lh_rc
minmax_up(lh_kctx *k, void *const *states, const lh_vector *const *args,
          const uint32_t *sel, uint32_t n, int want)
{
    const lh_vector *a = args[0];
    if (a->kind == LH_VEC_FLAT && a->validity == NULL &&
        (a->type.id == LH_T_BIGINT || a->type.id == LH_T_TIMESTAMP ||
         a->type.id == LH_T_TIMESTAMPTZ ||
         (a->type.id == LH_T_DECIMAL && a->type.precision <= 18))) {
        const int64_t *d = a->data;
        for (uint32_t i = 0; i < n; i++) {
            minmax *m = states[i];
            int64_t x = d[sel ? sel[i] : i];
            if (!m->has) {
                m->has = true;
                m->v.type = a->type;
                m->v.kind = LH_VEC_FLAT;
                m->v.data = &m->u;
                *(int64_t *)&m->u = x;
            } else if (want < 0 ? x < *(int64_t *)&m->u
                                : x > *(int64_t *)&m->u) {
                *(int64_t *)&m->u = x;
            }
        }
        return LH_OK;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!lh_vec_valid(a, r)) {
            continue;
        }
        minmax *m = states[i];
        if (m->has) {
            m->v.data = &m->u; /* the state may have moved (table growth) */
            int c = lh__vec_cmp(a, r, &m->v, 0);
            if ((want < 0 && c >= 0) || (want > 0 && c <= 0)) {
                continue;
            }
        }
        lh_rc rc = minmax_set(k, m, a, r);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

UPDATE(min_up)
{
    (void)nargs;
    return minmax_up(k, states, args, sel, n, -1);
}

UPDATE(max_up)
{
    (void)nargs;
    return minmax_up(k, states, args, sel, n, 1);
}

static lh_rc
minmax_comb(lh_kctx *k, void *dst, const void *src, int want)
{
    minmax *d = dst;
    minmax s = *(const minmax *)src;
    if (!s.has) {
        return LH_OK;
    }
    s.v.data = &s.u;
    if (d->has) {
        d->v.data = &d->u;
        int c = lh__vec_cmp(&s.v, 0, &d->v, 0);
        if ((want < 0 && c >= 0) || (want > 0 && c <= 0)) {
            return LH_OK;
        }
    }
    return minmax_set(k, d, &s.v, 0);
}

COMBINE(min_comb)
{
    return minmax_comb(k, dst, src, -1);
}

COMBINE(max_comb)
{
    return minmax_comb(k, dst, src, 1);
}

FINAL(minmax_fin)
{
    for (uint32_t i = 0; i < n; i++) {
        minmax *m = states[i];
        if (!m->has) {
            lh_bit_set(out->validity, i, false);
            continue;
        }
        m->v.data = &m->u;
        lh_rc rc = lh__vec_copy_row(k->arena, out, i, &m->v, 0, false, k->err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

static const lh_agg_impl min_agg = {sizeof(minmax), NULL, min_up, min_comb,
                                    minmax_fin};
static const lh_agg_impl max_agg = {sizeof(minmax), NULL, max_up, max_comb,
                                    minmax_fin};

/* any_value / first: the first non-NULL value seen */
UPDATE(any_up)
{
    (void)nargs;
    const lh_vector *a = args[0];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        minmax *m = states[i];
        if (m->has || !lh_vec_valid(a, r)) {
            continue;
        }
        lh_rc rc = minmax_set(k, m, a, r);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

COMBINE(any_comb)
{
    minmax *d = dst;
    minmax s = *(const minmax *)src;
    if (d->has || !s.has) {
        return LH_OK;
    }
    s.v.data = &s.u;
    return minmax_set(k, d, &s.v, 0);
}

static const lh_agg_impl any_agg = {sizeof(minmax), NULL, any_up, any_comb,
                                    minmax_fin};

/* ---- bool_and / bool_or
 * ----------------------------------------------------------- */

typedef struct boolagg {
    bool has, v;
} boolagg;

static void
band_init(void *s)
{
    ((boolagg *)s)->v = true;
}

UPDATE(band_up)
{
    (void)k;
    (void)nargs;
    const lh_vector *a = args[0];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (lh_vec_valid(a, r)) {
            boolagg *b = states[i];
            b->has = true;
            b->v = b->v && ((const uint8_t *)a->data)[lh_vidx(a, r)];
        }
    }
    return LH_OK;
}

UPDATE(bor_up)
{
    (void)k;
    (void)nargs;
    const lh_vector *a = args[0];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (lh_vec_valid(a, r)) {
            boolagg *b = states[i];
            b->has = true;
            b->v = b->v || ((const uint8_t *)a->data)[lh_vidx(a, r)];
        }
    }
    return LH_OK;
}

COMBINE(band_comb)
{
    (void)k;
    boolagg *d = dst;
    const boolagg *s = src;
    if (s->has) {
        d->v = d->has ? d->v && s->v : s->v;
        d->has = true;
    }
    return LH_OK;
}

COMBINE(bor_comb)
{
    (void)k;
    boolagg *d = dst;
    const boolagg *s = src;
    if (s->has) {
        d->v = d->has ? d->v || s->v : s->v;
        d->has = true;
    }
    return LH_OK;
}

FINAL(bool_fin)
{
    (void)k;
    for (uint32_t i = 0; i < n; i++) {
        const boolagg *b = states[i];
        if (!b->has) {
            lh_bit_set(out->validity, i, false);
        } else {
            ((uint8_t *)out->data)[i] = b->v;
        }
    }
    return LH_OK;
}

static const lh_agg_impl band_agg = {sizeof(boolagg), band_init, band_up,
                                     band_comb, bool_fin};
static const lh_agg_impl bor_agg = {sizeof(boolagg), NULL, bor_up, bor_comb,
                                    bool_fin};

/* ---- string_agg
 * --------------------------------------------------------------------- */

typedef struct stragg {
    char *data;
    size_t len, cap;
    bool has;
} stragg;

static lh_rc
str_append(lh_kctx *k, stragg *s, const char *p, size_t n)
{
    if (s->len + n > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        while (ncap < s->len + n) {
            ncap *= 2;
        }
        char *nd = lh_arena_alloc(k->arena, ncap);
        if (nd == NULL) {
            return lh_err_set(k->err, LH_ENOMEM, "out of memory in string_agg");
        }
        if (s->len) {
            memcpy(nd, s->data, s->len);
        }
        s->data = nd;
        s->cap = ncap;
    }
    if (n) {
        memcpy(s->data + s->len, p, n);
    }
    s->len += n;
    return LH_OK;
}

UPDATE(stragg_up)
{
    const lh_vector *a = args[0];
    const lh_vector *sep = nargs > 1 ? args[1] : NULL;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!lh_vec_valid(a, r)) {
            continue;
        }
        stragg *s = states[i];
        const lh_str *x = &((const lh_str *)a->data)[lh_vidx(a, r)];
        lh_rc rc = LH_OK;
        if (s->has && sep && lh_vec_valid(sep, r)) {
            const lh_str *d = &((const lh_str *)sep->data)[lh_vidx(sep, r)];
            rc = str_append(k, s, lh_str_data(d), d->len);
        } else if (s->has && !sep) {
            rc = str_append(k, s, ",", 1);
        }
        if (rc == LH_OK) {
            rc = str_append(k, s, lh_str_data(x), x->len);
        }
        if (rc != LH_OK) {
            return rc;
        }
        s->has = true;
    }
    return LH_OK;
}

lh_rc lh__stragg_combine(lh_kctx *k, void *dst, const void *src);

lh_rc
lh__stragg_combine(lh_kctx *k, void *dst, const void *src)
{
    stragg *d = dst;
    const stragg *s = src;
    if (!s->has) {
        return LH_OK;
    }
    if (d->has) {
        /* the separator between partials is not known here: a comma */
        lh_rc rc = str_append(k, d, ",", 1);
        if (rc != LH_OK) {
            return rc;
        }
    }
    d->has = true;
    return str_append(k, d, s->data, s->len);
}

FINAL(stragg_fin)
{
    for (uint32_t i = 0; i < n; i++) {
        const stragg *s = states[i];
        if (!s->has) {
            lh_bit_set(out->validity, i, false);
            continue;
        }
        bool oom = false;
        ((lh_str *)out->data)[i] = lh__str_copy(
            k->arena, s->data ? s->data : "", (uint32_t)s->len, &oom);
        if (oom) {
            return lh_err_set(k->err, LH_ENOMEM, "out of memory");
        }
    }
    return LH_OK;
}

/* string_agg's partials cannot carry their separator: no combine, one
 * worker (stragg_comb merges with a comma, for callers that accept it) */
static const lh_agg_impl stragg_agg = {sizeof(stragg), NULL, stragg_up, NULL,
                                       stragg_fin};

/* ---- variance family
 * ------------------------------------------------------------------ */

typedef struct welford {
    int64_t n;
    double mean, m2;
} welford;

UPDATE(var_up)
{
    (void)k;
    (void)nargs;
    const lh_vector *a = args[0];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!lh_vec_valid(a, r)) {
            continue;
        }
        welford *w = states[i];
        double x = dbl_at(a, r);
        w->n++;
        double d = x - w->mean;
        w->mean += d / (double)w->n;
        w->m2 += d * (x - w->mean);
    }
    return LH_OK;
}

COMBINE(var_comb)
{
    (void)k;
    welford *d = dst;
    const welford *s = src;
    if (s->n == 0) {
        return LH_OK;
    }
    if (d->n == 0) {
        *d = *s;
        return LH_OK;
    }
    double na = (double)d->n, nb = (double)s->n, delta = s->mean - d->mean;
    double nt = na + nb;
    d->m2 += s->m2 + delta * delta * na * nb / nt;
    d->mean += delta * nb / nt;
    d->n += s->n;
    return LH_OK;
}

static lh_rc
var_final(void *const *states, uint32_t n, lh_vector *out, bool samp,
          bool sqrt_)
{
    for (uint32_t i = 0; i < n; i++) {
        const welford *w = states[i];
        int64_t div = samp ? w->n - 1 : w->n;
        if (w->n == 0 || div <= 0) {
            lh_bit_set(out->validity, i, false);
            continue;
        }
        double v = w->m2 / (double)div;
        if (v < 0) {
            v = 0;
        }
        ((double *)out->data)[i] = sqrt_ ? sqrt(v) : v;
    }
    return LH_OK;
}

FINAL(var_samp_fin)
{
    (void)k;
    return var_final(states, n, out, true, false);
}
FINAL(var_pop_fin)
{
    (void)k;
    return var_final(states, n, out, false, false);
}
FINAL(std_samp_fin)
{
    (void)k;
    return var_final(states, n, out, true, true);
}
FINAL(std_pop_fin)
{
    (void)k;
    return var_final(states, n, out, false, true);
}

static const lh_agg_impl var_samp_agg = {sizeof(welford), NULL, var_up,
                                         var_comb, var_samp_fin};
static const lh_agg_impl var_pop_agg = {sizeof(welford), NULL, var_up, var_comb,
                                        var_pop_fin};
static const lh_agg_impl std_samp_agg = {sizeof(welford), NULL, var_up,
                                         var_comb, std_samp_fin};
static const lh_agg_impl std_pop_agg = {sizeof(welford), NULL, var_up, var_comb,
                                        std_pop_fin};

/* ---- types
 * -----------------------------------------------------------------------------
 */

static lh_rc
rule_same(const lh_fn_def *fn, const lh_type *args, uint32_t nargs,
          lh_type *want, lh_type *ret, lh_err *err)
{
    (void)fn;
    (void)nargs;
    (void)want;
    (void)err;
    *ret = args[0].id == LH_T_NULL ? lh_sql_type(LH_T_VARCHAR) : args[0];
    if (args[0].id == LH_T_NULL) {
        want[0] = *ret;
    }
    return LH_OK;
}

static lh_rc
rule_sum_dec(const lh_fn_def *fn, const lh_type *args, uint32_t nargs,
             lh_type *want, lh_type *ret, lh_err *err)
{
    (void)fn;
    (void)nargs;
    (void)want;
    (void)err;
    *ret = (lh_type){.id = LH_T_DECIMAL,
                     .precision = 38,
                     .scale = args[0].id == LH_T_DECIMAL ? args[0].scale : 0};
    return LH_OK;
}

#define A LH_FN_AGGREGATE
#define S LH_FN_STRICT
#define NOD LH_FN_NO_ORDER_DEPENDENCE
#define IMPLA(x) (&(const lh_fn_impl){.agg = &(x)})

static const lh_fn_def defs[] = {
    {"count_star", A, 0, {0}, LH_T_BIGINT, S, 0, NULL, IMPLA(count_star_agg)},
    {"count", A, 1, {LH_FN_ANY}, LH_T_BIGINT, S, 0, NULL, IMPLA(count_agg)},
    {"sum", A, 1, {LH_T_INTEGER}, LH_T_BIGINT, S, 0, NULL, IMPLA(sum_i_agg)},
    {"sum",
     A,
     1,
     {LH_T_BIGINT},
     LH_T_DECIMAL,
     S,
     0,
     rule_sum_dec,
     IMPLA(sum_i_agg)},
    {"sum", A, 1, {LH_T_SMALLINT}, LH_T_BIGINT, S, 0, NULL, IMPLA(sum_i_agg)},
    {"sum",
     A,
     1,
     {LH_T_DECIMAL},
     LH_T_DECIMAL,
     S,
     0,
     rule_sum_dec,
     IMPLA(sum_i_agg)},
    {"sum", A, 1, {LH_T_DOUBLE}, LH_T_DOUBLE, S, 0, NULL, IMPLA(sum_d_agg)},
    {"sum", A, 1, {LH_T_REAL}, LH_T_DOUBLE, S, 0, NULL, IMPLA(sum_d_agg)},
    {"sum",
     A,
     1,
     {LH_T_INTERVAL},
     LH_T_INTERVAL,
     S,
     0,
     NULL,
     IMPLA(sum_iv_agg)},
    {"avg", A, 1, {LH_T_INTEGER}, LH_T_DOUBLE, S, 0, NULL, IMPLA(avg_i_agg)},
    {"avg", A, 1, {LH_T_BIGINT}, LH_T_DOUBLE, S, 0, NULL, IMPLA(avg_i_agg)},
    {"avg", A, 1, {LH_T_SMALLINT}, LH_T_DOUBLE, S, 0, NULL, IMPLA(avg_i_agg)},
    {"avg", A, 1, {LH_T_DECIMAL}, LH_T_DOUBLE, S, 0, NULL, IMPLA(avg_dec_agg)},
    {"avg", A, 1, {LH_T_DOUBLE}, LH_T_DOUBLE, S, 0, NULL, IMPLA(avg_d_agg)},
    {"avg", A, 1, {LH_T_REAL}, LH_T_DOUBLE, S, 0, NULL, IMPLA(avg_d_agg)},
    {"min", A, 1, {LH_FN_ANY}, LH_T_NULL, S, NOD, rule_same, IMPLA(min_agg)},
    {"max", A, 1, {LH_FN_ANY}, LH_T_NULL, S, NOD, rule_same, IMPLA(max_agg)},
    {"any_value",
     A,
     1,
     {LH_FN_ANY},
     LH_T_NULL,
     S,
     NOD,
     rule_same,
     IMPLA(any_agg)},
    {"first", A, 1, {LH_FN_ANY}, LH_T_NULL, S, 0, rule_same, IMPLA(any_agg)},
    {"arbitrary",
     A,
     1,
     {LH_FN_ANY},
     LH_T_NULL,
     S,
     NOD,
     rule_same,
     IMPLA(any_agg)},
    {"bool_and",
     A,
     1,
     {LH_T_BOOLEAN},
     LH_T_BOOLEAN,
     S,
     NOD,
     NULL,
     IMPLA(band_agg)},
    {"every",
     A,
     1,
     {LH_T_BOOLEAN},
     LH_T_BOOLEAN,
     S,
     NOD,
     NULL,
     IMPLA(band_agg)},
    {"bool_or",
     A,
     1,
     {LH_T_BOOLEAN},
     LH_T_BOOLEAN,
     S,
     NOD,
     NULL,
     IMPLA(bor_agg)},
    {"string_agg",
     A,
     2,
     {LH_T_VARCHAR, LH_T_VARCHAR},
     LH_T_VARCHAR,
     S,
     0,
     NULL,
     IMPLA(stragg_agg)},
    {"string_agg",
     A,
     1,
     {LH_T_VARCHAR},
     LH_T_VARCHAR,
     S,
     0,
     NULL,
     IMPLA(stragg_agg)},
    {"group_concat",
     A,
     1,
     {LH_T_VARCHAR},
     LH_T_VARCHAR,
     S,
     0,
     NULL,
     IMPLA(stragg_agg)},
    {"group_concat",
     A,
     2,
     {LH_T_VARCHAR, LH_T_VARCHAR},
     LH_T_VARCHAR,
     S,
     0,
     NULL,
     IMPLA(stragg_agg)},
    {"var_samp",
     A,
     1,
     {LH_T_DOUBLE},
     LH_T_DOUBLE,
     S,
     0,
     NULL,
     IMPLA(var_samp_agg)},
    {"variance",
     A,
     1,
     {LH_T_DOUBLE},
     LH_T_DOUBLE,
     S,
     0,
     NULL,
     IMPLA(var_samp_agg)},
    {"var_pop",
     A,
     1,
     {LH_T_DOUBLE},
     LH_T_DOUBLE,
     S,
     0,
     NULL,
     IMPLA(var_pop_agg)},
    {"stddev_samp",
     A,
     1,
     {LH_T_DOUBLE},
     LH_T_DOUBLE,
     S,
     0,
     NULL,
     IMPLA(std_samp_agg)},
    {"stddev",
     A,
     1,
     {LH_T_DOUBLE},
     LH_T_DOUBLE,
     S,
     0,
     NULL,
     IMPLA(std_samp_agg)},
    {"stddev_pop",
     A,
     1,
     {LH_T_DOUBLE},
     LH_T_DOUBLE,
     S,
     0,
     NULL,
     IMPLA(std_pop_agg)},
};

const lh_fn_family lh__agg_basic = {"aggregates", defs, LH_ARRAY_LEN(defs)};
