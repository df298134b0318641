/*
 * Macros for writing kernels (exec_int.h, lh_kernel_fn) as typed loops:
 * a fast loop for "every row, no NULL, no constant", and a general one
 * that honours the selection, constant arguments and the output validity
 * (rows already NULL are skipped, so a kernel never fails on them).
 *
 *   LH_UNARY_KERNEL(name, TA, TO, BODY)      BODY uses x, writes o[r]
 *   LH_BINARY_KERNEL(name, TA, TB, TO, BODY) BODY uses x, y, writes o[r]
 * BODY may `return lh__kerr(k, ...)` for an error, or call
 * LH_SET_NULL(r) (the output has a validity bitmap when the function is
 * flagged LH_FN_CAN_FAIL or LH_FN_NULLS).
 */
#ifndef LH_EXEC_KERNEL_H
#define LH_EXEC_KERNEL_H

#include "exec/exec_int.h"

#define LH_SET_NULL(r) lh_bit_set(out->validity, (r), false)

#define LH_ROW_LIVE(valid, r)                                                  \
    (!(valid) || (((valid)[(r) >> 6] >> ((r)&63)) & 1))

#define LH_UNARY_KERNEL(name, TA, TO, ...)                                     \
    static lh_rc name(lh_kctx *k, const lh_vector *const *args,                \
                      uint32_t nargs, const uint32_t *sel, uint32_t n,         \
                      lh_vector *out)                                          \
    {                                                                          \
        (void)k;                                                               \
        (void)nargs;                                                           \
        const TA *a = args[0]->data;                                           \
        TO *o = out->data;                                                     \
        const uint64_t *valid = out->validity;                                 \
        bool ca = args[0]->kind == LH_VEC_CONSTANT;                            \
        if (!sel && !valid && !ca) {                                           \
            for (uint32_t r = 0; r < n; r++) {                                 \
                TA x = a[r];                                                   \
                __VA_ARGS__                                                    \
            }                                                                  \
            return LH_OK;                                                      \
        }                                                                      \
        for (uint32_t i = 0; i < n; i++) {                                     \
            uint32_t r = sel ? sel[i] : i;                                     \
            if (!LH_ROW_LIVE(valid, r)) {                                      \
                continue;                                                      \
            }                                                                  \
            TA x = a[ca ? 0 : r];                                              \
            __VA_ARGS__                                                        \
        }                                                                      \
        return LH_OK;                                                          \
    }

#define LH_BINARY_KERNEL(name, TA, TB, TO, ...)                                \
    static lh_rc name(lh_kctx *k, const lh_vector *const *args,                \
                      uint32_t nargs, const uint32_t *sel, uint32_t n,         \
                      lh_vector *out)                                          \
    {                                                                          \
        (void)k;                                                               \
        (void)nargs;                                                           \
        const TA *a = args[0]->data;                                           \
        const TB *b = args[1]->data;                                           \
        TO *o = out->data;                                                     \
        const uint64_t *valid = out->validity;                                 \
        bool ca = args[0]->kind == LH_VEC_CONSTANT;                            \
        bool cb = args[1]->kind == LH_VEC_CONSTANT;                            \
        if (!sel && !valid && !ca && !cb) {                                    \
            for (uint32_t r = 0; r < n; r++) {                                 \
                TA x = a[r];                                                   \
                TB y = b[r];                                                   \
                __VA_ARGS__                                                    \
            }                                                                  \
            return LH_OK;                                                      \
        }                                                                      \
        if (!sel && !valid && !ca && cb) {                                     \
            TB y = b[0];                                                       \
            for (uint32_t r = 0; r < n; r++) {                                 \
                TA x = a[r];                                                   \
                __VA_ARGS__                                                    \
            }                                                                  \
            return LH_OK;                                                      \
        }                                                                      \
        for (uint32_t i = 0; i < n; i++) {                                     \
            uint32_t r = sel ? sel[i] : i;                                     \
            if (!LH_ROW_LIVE(valid, r)) {                                      \
                continue;                                                      \
            }                                                                  \
            TA x = a[ca ? 0 : r];                                              \
            TB y = b[cb ? 0 : r];                                              \
            __VA_ARGS__                                                        \
        }                                                                      \
        return LH_OK;                                                          \
    }

/* A DECIMAL argument's value as lh_i128, whatever its storage. */
static inline lh_i128
lh_dec_at(const lh_vector *v, uint32_t r)
{
    uint32_t i = v->kind == LH_VEC_CONSTANT ? 0 : r;
    if (v->type.precision <= 18) {
        return ((const int64_t *)v->data)[i];
    }
    lh_i128 x;
    memcpy(&x, (const char *)v->data + (size_t)i * sizeof(lh_i128), sizeof x);
    return x;
}

static inline void
lh_dec_put(lh_vector *v, uint32_t r, lh_i128 x)
{
    if (v->type.precision <= 18) {
        ((int64_t *)v->data)[r] = (int64_t)x;
    } else {
        memcpy((char *)v->data + (size_t)r * sizeof(lh_i128), &x, sizeof x);
    }
}

/* 10^n for n <= 38. */
lh_i128 lh__pow10(int n);

/* Row r of a VARCHAR / BLOB vector (FLAT or CONSTANT). */
static inline lh_str
lh_str_at(const lh_vector *v, uint32_t r)
{
    return ((const lh_str *)v->data)[lh_vidx(v, r)];
}

/* Writes p[0..len) as row r of a VARCHAR / BLOB output (copied into the
 * kernel's arena). LH_ELIMIT past 4 GiB, LH_ENOMEM. */
lh_rc lh__put_str(lh_kctx *k, lh_vector *out, uint32_t r, const char *p,
                  size_t len);

/* A return-type rule: every argument cast to VARCHAR, the result VARCHAR
 * (concat, ||, concat_ws). */
lh_rc lh__rule_text_args(const lh_fn_def *fn, const lh_type *args,
                         uint32_t nargs, lh_type *want, lh_type *ret,
                         lh_err *err);

/* A kernel's implementation record and its registry entry in one go. */
#define LH_IMPL(kern) (&(const lh_fn_impl){.kernel = (kern)})

#endif
