/*
 * Vectors (FLOAT[n]), pgvector's operators and functions:
 *   a <-> b   l2_distance(a, b)      Euclidean distance
 *   a <#> b                          negative inner product
 *   inner_product(a, b)              inner product
 *   a <=> b   cosine_distance(a, b)  1 - cosine similarity
 *   vector_prefix(v, n)              the first n dimensions, FLOAT[n] (an MRL
 *                                    embedding's prefix is an embedding)
 *   vector_dims(v), l2_norm(v)
 * Results are DOUBLE (pgvector's double precision) computed by the vector
 * module's float kernels, so that an exact ORDER BY and the HNSW indexes
 * rank rows by the same numbers. Operands must have the same length; an
 * untyped literal ('[1,2,3]') takes the length of the other operand, and
 * its text is checked by the cast (length, finite values). A zero vector's
 * cosine distance is 1, as the indexes count it (pgvector gives NaN).
 */
#include <math.h>
#include <string.h>

#include "exec/kernel.h"
#include "vector/vector.h"

#define S LH_FN_STRICT
#define D LH_FN_DICT_SAFE

/* Both operands FLOAT[n] of one n; an operand of unknown length (an untyped
 * literal) takes the other's. */
static lh_rc
rule_pair(const lh_fn_def *fn, const lh_type *args, uint32_t nargs,
          lh_type *want, lh_type *ret, lh_err *err)
{
    (void)nargs;
    (void)ret;
    uint32_t a = args[0].dim, b = args[1].dim;
    if (a == 0 && b == 0) {
        return lh_err_set(err, LH_EINVAL,
                          "%s: the vectors' length is unknown: cast one "
                          "operand, e.g. '[1,2,3]'::FLOAT[3]",
                          fn->name);
    }
    if (a == 0) {
        want[0] = args[1];
    } else if (b == 0) {
        want[1] = args[0];
    } else if (a != b) {
        return lh_err_set(err, LH_EINVAL,
                          "%s: different vector dimensions %u and %u", fn->name,
                          a, b);
    }
    return LH_OK;
}

static lh_rc
rule_one(const lh_fn_def *fn, const lh_type *args, uint32_t nargs,
         lh_type *want, lh_type *ret, lh_err *err)
{
    (void)nargs;
    (void)want;
    (void)ret;
    if (args[0].dim == 0) {
        return lh_err_set(err, LH_EINVAL,
                          "%s: the vector's length is unknown: cast it, "
                          "e.g. '[1,2,3]'::FLOAT[3]",
                          fn->name);
    }
    return LH_OK;
}

typedef enum pair_op { L2, NEG_IP, IP, COS } pair_op;

static lh_rc
pair_kernel(pair_op op, const lh_vector *const *args, const uint32_t *sel,
            uint32_t n, lh_vector *out)
{
    const lh_vec_kernels *vk = lh_vec_kernels_best();
    uint32_t dim = args[0]->type.dim;
    const float *a = args[0]->data, *b = args[1]->data;
    double *o = out->data;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = lh_row(sel, i);
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        const float *x = a + (size_t)lh_vidx(args[0], r) * dim;
        const float *y = b + (size_t)lh_vidx(args[1], r) * dim;
        switch (op) {
        case L2:
            o[r] = sqrt((double)vk->l2sq(x, y, dim));
            break;
        case NEG_IP:
            o[r] = -(double)vk->dot(x, y, dim);
            break;
        case IP:
            o[r] = (double)vk->dot(x, y, dim);
            break;
        case COS:
            o[r] = (double)vk->cos_dist(x, y, dim);
            break;
        }
    }
    return LH_OK;
}

#define PAIR(name, op)                                                         \
    static lh_rc name(lh_kctx *k, const lh_vector *const *args,                \
                      uint32_t nargs, const uint32_t *sel, uint32_t n,         \
                      lh_vector *out)                                          \
    {                                                                          \
        (void)k;                                                               \
        (void)nargs;                                                           \
        return pair_kernel(op, args, sel, n, out);                             \
    }
PAIR(vec_l2, L2)
PAIR(vec_neg_ip, NEG_IP)
PAIR(vec_ip, IP)
PAIR(vec_cos, COS)

static lh_rc
vec_dims(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
         const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)k;
    (void)nargs;
    int32_t *o = out->data;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = lh_row(sel, i);
        o[r] = (int32_t)args[0]->type.dim;
    }
    return LH_OK;
}

static lh_rc
vec_norm(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
         const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)k;
    (void)nargs;
    const lh_vec_kernels *vk = lh_vec_kernels_best();
    uint32_t dim = args[0]->type.dim;
    const float *a = args[0]->data;
    double *o = out->data;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = lh_row(sel, i);
        if (LH_ROW_LIVE(out->validity, r)) {
            const float *x = a + (size_t)lh_vidx(args[0], r) * dim;
            o[r] = sqrt((double)vk->dot(x, x, dim));
        }
    }
    return LH_OK;
}

/* vector_prefix(v, n): the binder makes the result FLOAT[n] from the
 * constant n (LH_FN_CONST_DIM), so every row's n is the type's. */
static lh_rc
vec_prefix(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
           const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)k;
    (void)nargs;
    uint32_t dim = args[0]->type.dim, m = out->type.dim;
    const float *a = args[0]->data;
    float *o = out->data;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = lh_row(sel, i);
        if (LH_ROW_LIVE(out->validity, r)) {
            memcpy(o + (size_t)r * m, a + (size_t)lh_vidx(args[0], r) * dim,
                   m * sizeof(float));
        }
    }
    return LH_OK;
}

#define V LH_T_VECTOR
#define DB LH_T_DOUBLE
#define F2R(name, kern)                                                        \
    {                                                                          \
        name, LH_FN_SCALAR, 2, {V, V}, DB, S, D, rule_pair, LH_IMPL(kern)      \
    }
#define F1R(name, kern, R)                                                     \
    {                                                                          \
        name, LH_FN_SCALAR, 1, {V}, R, S, D, rule_one, LH_IMPL(kern)           \
    }

static const lh_fn_def defs[] = {
    F2R("<->", vec_l2),
    F2R("l2_distance", vec_l2),
    F2R("<#>", vec_neg_ip),
    F2R("inner_product", vec_ip),
    F2R("<=>", vec_cos),
    F2R("cosine_distance", vec_cos),
    F1R("vector_dims", vec_dims, LH_T_INTEGER),
    F1R("l2_norm", vec_norm, DB),
    F1R("vector_norm", vec_norm, DB),
    {"vector_prefix",
     LH_FN_SCALAR,
     2,
     {V, LH_T_INTEGER},
     V,
     S,
     D | LH_FN_CONST_DIM,
     rule_one,
     LH_IMPL(vec_prefix)},
};

const lh_fn_family lh__fn_vector = {"vector", defs, LH_ARRAY_LEN(defs)};
