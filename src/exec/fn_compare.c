/*
 * Comparison operators (= <> < <= > >=) for every scalar type, one typed
 * kernel each. Arguments come cast to one type by the binder (DECIMALs to
 * one precision and scale by the rule below). Floats order NaN above
 * everything and NaN = NaN, as PostgreSQL does. All are strict and
 * dict-safe: over a dictionary column they run once per distinct value.
 */
#include <math.h>
#include <string.h>

#include "exec/kernel.h"

/* ---- the kernels -----------------------------------------------------------
 */

#define CMP3_NUM(x, y) (((x) > (y)) - ((x) < (y)))

static inline int
cmp3_dbl(double x, double y)
{
    if (isnan(x) || isnan(y)) {
        return isnan(x) ? (isnan(y) ? 0 : 1) : -1;
    }
    return CMP3_NUM(x, y);
}

static inline int
cmp3_iv(lh_interval x, lh_interval y)
{
    __int128 a = ((__int128)x.months * 30 + x.days) * LH_US_PER_DAY + x.micros;
    __int128 b = ((__int128)y.months * 30 + y.days) * LH_US_PER_DAY + y.micros;
    return CMP3_NUM(a, b);
}

static inline int
cmp3_uuid(lh_uuid x, lh_uuid y)
{
    return memcmp(x.b, y.b, 16);
}

#define DEF6(suffix, T, CMP3)                                                  \
    LH_BINARY_KERNEL(eq_##suffix, T, T, uint8_t, o[r] = CMP3(x, y) == 0;)      \
    LH_BINARY_KERNEL(ne_##suffix, T, T, uint8_t, o[r] = CMP3(x, y) != 0;)      \
    LH_BINARY_KERNEL(lt_##suffix, T, T, uint8_t, o[r] = CMP3(x, y) < 0;)       \
    LH_BINARY_KERNEL(le_##suffix, T, T, uint8_t, o[r] = CMP3(x, y) <= 0;)      \
    LH_BINARY_KERNEL(gt_##suffix, T, T, uint8_t, o[r] = CMP3(x, y) > 0;)       \
    LH_BINARY_KERNEL(ge_##suffix, T, T, uint8_t, o[r] = CMP3(x, y) >= 0;)

DEF6(u8, uint8_t, CMP3_NUM)
DEF6(i16, int16_t, CMP3_NUM)
DEF6(i32, int32_t, CMP3_NUM)
DEF6(i64, int64_t, CMP3_NUM)
DEF6(i128, lh_i128, CMP3_NUM)
DEF6(f32, float, cmp3_dbl)
DEF6(f64, double, cmp3_dbl)
DEF6(iv, lh_interval, cmp3_iv)
DEF6(uuid, lh_uuid, cmp3_uuid)

/* strings: equality through lh_str_eq (length and prefix first) */
LH_BINARY_KERNEL(eq_str, lh_str, lh_str, uint8_t, o[r] = lh_str_eq(&x, &y);)
LH_BINARY_KERNEL(ne_str, lh_str, lh_str, uint8_t, o[r] = !lh_str_eq(&x, &y);)
LH_BINARY_KERNEL(lt_str, lh_str, lh_str, uint8_t,
                 o[r] = lh_str_cmp(&x, &y) < 0;)
LH_BINARY_KERNEL(le_str, lh_str, lh_str, uint8_t,
                 o[r] = lh_str_cmp(&x, &y) <= 0;)
LH_BINARY_KERNEL(gt_str, lh_str, lh_str, uint8_t,
                 o[r] = lh_str_cmp(&x, &y) > 0;)
LH_BINARY_KERNEL(ge_str, lh_str, lh_str, uint8_t,
                 o[r] = lh_str_cmp(&x, &y) >= 0;)

/* DECIMAL: the storage follows the precision both sides share */
#define DEC6(op, OPX)                                                          \
    static lh_rc op##_dec(lh_kctx *k, const lh_vector *const *args,            \
                          uint32_t nargs, const uint32_t *sel, uint32_t n,     \
                          lh_vector *out)                                      \
    {                                                                          \
        if (args[0]->type.precision <= 18) {                                   \
            return op##_i64(k, args, nargs, sel, n, out);                      \
        }                                                                      \
        return op##_i128(k, args, nargs, sel, n, out);                         \
    }
DEC6(eq, ==)
DEC6(ne, !=)
DEC6(lt, <)
DEC6(le, <=)
DEC6(gt, >)
DEC6(ge, >=)

/* DECIMAL = DECIMAL: both sides to the type that holds either. */
static lh_rc
rule_dec(const lh_fn_def *fn, const lh_type *args, uint32_t nargs,
         lh_type *want, lh_type *ret, lh_err *err)
{
    (void)fn;
    (void)nargs;
    (void)err;
    lh_type t;
    if (!lh_sql_common_type(args[0], false, args[1], false, &t)) {
        t = args[0];
    }
    want[0] = want[1] = t;
    *ret = lh_sql_type(LH_T_BOOLEAN);
    return LH_OK;
}

/* ---- the table
 * --------------------------------------------------------------- */

#define FL (LH_FN_DICT_SAFE)
#define E(opname, kern, T)                                                     \
    {                                                                          \
        opname, LH_FN_SCALAR, 2, {T, T}, LH_T_BOOLEAN, LH_FN_STRICT, FL, NULL, \
            LH_IMPL(kern)                                                      \
    }
#define ED(opname, kern)                                                       \
    {                                                                          \
        opname, LH_FN_SCALAR, 2, {LH_T_DECIMAL, LH_T_DECIMAL}, LH_T_BOOLEAN,   \
            LH_FN_STRICT, FL, rule_dec, LH_IMPL(kern)                          \
    }
#define ALL_TYPES(opname, op)                                                  \
    E(opname, op##_i32, LH_T_INTEGER), E(opname, op##_i64, LH_T_BIGINT),       \
        E(opname, op##_i16, LH_T_SMALLINT), ED(opname, op##_dec),              \
        E(opname, op##_f32, LH_T_REAL), E(opname, op##_f64, LH_T_DOUBLE),      \
        E(opname, op##_str, LH_T_VARCHAR), E(opname, op##_u8, LH_T_BOOLEAN),   \
        E(opname, op##_i32, LH_T_DATE), E(opname, op##_i64, LH_T_TIMESTAMP),   \
        E(opname, op##_i64, LH_T_TIMESTAMPTZ), E(opname, op##_i64, LH_T_TIME), \
        E(opname, op##_iv, LH_T_INTERVAL), E(opname, op##_uuid, LH_T_UUID),    \
        E(opname, op##_str, LH_T_BLOB), E(opname, op##_str, LH_T_JSON)

static const lh_fn_def defs[] = {
    ALL_TYPES("=", eq),  ALL_TYPES("<>", ne), ALL_TYPES("<", lt),
    ALL_TYPES("<=", le), ALL_TYPES(">", gt),  ALL_TYPES(">=", ge),
};

const lh_fn_family lh__fn_compare = {"compare", defs, LH_ARRAY_LEN(defs)};
