/*
 * The function registry as the binder sees it: each entry is one
 * signature of a scalar, aggregate or window function (operators are
 * functions too: "+", "=", "||"), with a return-type rule and the null
 * behaviour; `impl` is the executor's (exec_int.h, lh_fn_impl) and opaque
 * here.
 *
 * Families of functions are const tables of lh_fn_def in src/exec/fn_*.c
 * and agg_*.c, listed once in exec/func.c; lh_fn_registry indexes them by
 * name. See docs/internals/sql.md, "Function registry".
 */
#ifndef LH_SQL_FUNC_H
#define LH_SQL_FUNC_H

#include "column/column.h"

typedef enum lh_fn_kind {
    LH_FN_SCALAR = 0,
    LH_FN_AGGREGATE,
    LH_FN_WINDOW, /* row_number, rank, lag ...: only with OVER */
} lh_fn_kind;

/* Argument type patterns of a signature. A type id matches that type;
 * LH_FN_ANY matches every type (the rule decides); DECIMAL matches every
 * precision and scale; VARCHAR matches any length. */
#define LH_FN_ANY 0xff
/* The last argument type repeats (concat(a, b, ...), coalesce). */
#define LH_FN_VARIADIC 0x80

typedef enum lh_fn_nulls {
    LH_FN_STRICT = 0, /* a NULL argument gives NULL (the evaluator does it) */
    LH_FN_NULLS = 1,  /* the kernel sees NULLs and sets validity itself */
} lh_fn_nulls;

enum {
    LH_FN_VOLATILE = 1 << 0,  /* now(), random(): never constant-folded */
    LH_FN_DICT_SAFE = 1 << 1, /* depends only on its arguments' values: may
                                 run once per dictionary entry */
    LH_FN_CAN_FAIL = 1 << 2,  /* may raise an error on some values (1/0) */
    LH_FN_NO_ORDER_DEPENDENCE = 1 << 3, /* aggregates: DISTINCT is a no-op
                                           (min, max, bool_and) */
    LH_FN_MAKES_NULL = 1 << 4, /* may give NULL for non-NULL arguments (x / 0
                                  with division_by_zero = 'null') */
    LH_FN_CONST_DIM = 1 << 5,  /* the result is FLOAT[n], n the constant
                                  integer second argument, 1..the first
                                  argument's length (vector_prefix) */
};

typedef struct lh_fn_def lh_fn_def;

/* The binder's question to a return-type rule: the argument types as
 * bound. The rule sets *ret, and may set want[i] to the type argument i
 * must be cast to first (it starts as the signature's type, or the
 * argument's own type for DECIMAL / ANY patterns). LH_EINVAL with a
 * message when the arguments do not fit (the binder adds the position). */
typedef lh_rc (*lh_fn_rule)(const lh_fn_def *fn, const lh_type *args,
                            uint32_t nargs, lh_type *want, lh_type *ret,
                            lh_err *err);

struct lh_fn_def {
    const char *name; /* lowercase; operators by their text ("+") */
    uint8_t kind;     /* lh_fn_kind */
    uint8_t nargs;    /* fixed count, or with LH_FN_VARIADIC the minimum */
    uint8_t args[6];  /* lh_type_id or LH_FN_ANY per argument */
    uint8_t ret;      /* lh_type_id of the result when there is no rule */
    uint8_t nulls;    /* lh_fn_nulls */
    uint8_t flags;
    lh_fn_rule rule; /* NULL: ret as given, args cast to the signature */
    const void *impl;
};

/* All functions by name (built once per engine from the family tables;
 * immutable afterwards, shared by every thread). */
typedef struct lh_fn_registry lh_fn_registry;

/* The signatures named `name` (lowercase), in table order; *n = 0 when the
 * name is unknown. Borrowed from the registry. */
const lh_fn_def *const *lh_fn_lookup(const lh_fn_registry *r, const char *name,
                                     uint32_t *n);
/* Every distinct name (for "did you mean"); borrowed. */
const char *const *lh_fn_names(const lh_fn_registry *r, uint32_t *n);

#endif
