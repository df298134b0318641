/*
 * Compiled expressions: bound expressions (plan.h) resolved against an
 * input layout, with their kernels chosen, evaluated a batch at a time.
 *
 * Evaluation computes the rows of a selection and leaves each result at
 * the row's own index, so a result lines up with its batch. Function calls
 * go through call(): constant arguments are computed once (a CONSTANT
 * result), a dict-safe function over one DICT argument runs once per
 * dictionary entry (a DICT result over the same codes), and strict
 * functions get their output validity from the arguments. AND, OR, CASE
 * and COALESCE evaluate their later arguments only on the rows still
 * undecided, which is what makes CASE WHEN x <> 0 THEN 1 / x END safe.
 */
#include <string.h>

#include "exec/exec_int.h"

/* ---- errors ----------------------------------------------------------------
 */

lh_rc
lh__kerr(lh_kctx *k, lh_rc code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lh_err_setv(k->err, code, fmt, ap);
    va_end(ap);
    if (k->err && k->e) {
        k->err->offset = k->e->pos;
    }
    return code;
}

static lh_rc
nomem(lh_evalctx *ec)
{
    return lh_err_set(ec->err, LH_ENOMEM,
                      "out of memory evaluating an "
                      "expression");
}

/* ---- compiling --------------------------------------------------------------
 */

static lh_cexpr *
cx_new(lh_pctx *pc, lh_cx_kind kind, const lh_bexpr *e, uint32_t nargs)
{
    lh_cexpr *c = lh_arena_calloc(pc->a, sizeof(lh_cexpr));
    if (c == NULL) {
        lh_err_set(pc->err, LH_ENOMEM, "out of memory compiling a query");
        return NULL;
    }
    c->kind = (uint8_t)kind;
    c->type = e ? e->type : lh_sql_type(LH_T_BOOLEAN);
    c->pos = e ? e->pos : -1;
    c->nargs = nargs;
    if (nargs) {
        c->args = lh_arena_calloc(pc->a, nargs * sizeof(lh_cexpr *));
        if (c->args == NULL) {
            lh_err_set(pc->err, LH_ENOMEM, "out of memory compiling a query");
            return NULL;
        }
    }
    return c;
}

static lh_rc
compile_list(lh_pctx *pc, const lh_cscope *sc, lh_bexpr *const *args,
             uint32_t n, lh_cexpr *c)
{
    for (uint32_t i = 0; i < n; i++) {
        lh_rc rc = lh__compile(pc, sc, args[i], &c->args[i]);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

static lh_rc
const_of(lh_pctx *pc, lh_cexpr *c, const lh_value *v, lh_type t)
{
    c->konst = *v;
    c->konst.type = t;
    return lh__vec_const(pc->a, &c->konst, &c->kvec, pc->err);
}

lh_rc
lh__compile(lh_pctx *pc, const lh_cscope *sc, const lh_bexpr *e, lh_cexpr **out)
{
    lh_cexpr *c;
    lh_rc rc;
    switch ((lh_bx_kind)e->kind) {
    case LH_BX_CONST:
        c = cx_new(pc, LH_CX_CONST, e, 0);
        if (c == NULL) {
            return LH_ENOMEM;
        }
        rc = const_of(pc, c, &e->u.c, e->type);
        *out = c;
        return rc;
    case LH_BX_COL:
        for (uint32_t i = 0; i < sc->nids; i++) {
            if (sc->ids[i] == e->u.col) {
                c = cx_new(pc, LH_CX_INPUT, e, 0);
                if (c == NULL) {
                    return LH_ENOMEM;
                }
                c->col = i;
                *out = c;
                return LH_OK;
            }
        }
        for (uint32_t i = 0; i < sc->nouter; i++) {
            if (sc->outer[i] == e->u.col) {
                c = cx_new(pc, LH_CX_OUTER, e, 0);
                if (c == NULL) {
                    return LH_ENOMEM;
                }
                c->col = i;
                *out = c;
                return LH_OK;
            }
        }
        return lh_err_set(pc->err, LH_EINTERNAL,
                          "column #%u is not available here", e->u.col);
    case LH_BX_PARAM:
        lh_err_set(pc->err, LH_EINVAL, "no value given for parameter $%d",
                   (int)e->u.param);
        if (pc->err) {
            pc->err->offset = e->pos;
        }
        return LH_EINVAL;
    case LH_BX_CALL: {
        c = cx_new(pc, LH_CX_CALL, e, e->u.call.nargs);
        if (c == NULL) {
            return LH_ENOMEM;
        }
        rc = compile_list(pc, sc, e->u.call.args, e->u.call.nargs, c);
        if (rc != LH_OK) {
            return rc;
        }
        c->fn = e->u.call.fn;
        const lh_fn_impl *impl = c->fn->impl;
        if (impl == NULL || impl->kernel == NULL) {
            return lh_err_set(pc->err, LH_EINTERNAL,
                              "function %s has no kernel", c->fn->name);
        }
        c->kernel = impl->kernel;
        if (impl->prepare) {
            rc = impl->prepare(pc->ex, c, pc->a, &c->aux, pc->err);
            if (rc != LH_OK) {
                if (pc->err && pc->err->offset < 0) {
                    pc->err->offset = e->pos;
                }
                return rc;
            }
        }
        *out = c;
        return LH_OK;
    }
    case LH_BX_CAST: {
        c = cx_new(pc, LH_CX_CAST, e, 1);
        if (c == NULL) {
            return LH_ENOMEM;
        }
        rc = lh__compile(pc, sc, e->u.cast.arg, &c->args[0]);
        if (rc != LH_OK) {
            return rc;
        }
        c->try_cast = e->u.cast.try_cast;
        c->kernel = lh__cast_kernel(e->u.cast.arg->type, e->type);
        if (c->kernel == NULL) {
            char a[48], b[48];
            lh_err_set(pc->err, LH_EINVAL, "cannot cast type %s to %s",
                       lh_sql_type_text(e->u.cast.arg->type, a),
                       lh_sql_type_text(e->type, b));
            if (pc->err) {
                pc->err->offset = e->pos;
            }
            return LH_EINVAL;
        }
        *out = c;
        return LH_OK;
    }
    case LH_BX_AND:
    case LH_BX_OR:
    case LH_BX_NOT:
    case LH_BX_IS_NULL:
    case LH_BX_IS_BOOL:
    case LH_BX_COALESCE: {
        static const uint8_t kinds[] = {
            [LH_BX_AND] = LH_CX_AND,         [LH_BX_OR] = LH_CX_OR,
            [LH_BX_NOT] = LH_CX_NOT,         [LH_BX_IS_NULL] = LH_CX_IS_NULL,
            [LH_BX_IS_BOOL] = LH_CX_IS_BOOL, [LH_BX_COALESCE] = LH_CX_COALESCE,
        };
        c = cx_new(pc, (lh_cx_kind)kinds[e->kind], e, e->u.list.n);
        if (c == NULL) {
            return LH_ENOMEM;
        }
        c->negated = e->negated;
        c->what = e->what;
        rc = compile_list(pc, sc, e->u.list.args, e->u.list.n, c);
        *out = c;
        return rc;
    }
    case LH_BX_CASE: {
        uint32_t n = e->u.kase.n;
        c = cx_new(pc, LH_CX_CASE, e, 2 * n + 1);
        if (c == NULL) {
            return LH_ENOMEM;
        }
        c->ncase = n;
        rc = LH_OK;
        for (uint32_t i = 0; i < n && rc == LH_OK; i++) {
            rc = lh__compile(pc, sc, e->u.kase.whens[i], &c->args[i]);
            if (rc == LH_OK) {
                rc = lh__compile(pc, sc, e->u.kase.thens[i], &c->args[n + i]);
            }
        }
        if (rc == LH_OK && e->u.kase.else_expr) {
            rc = lh__compile(pc, sc, e->u.kase.else_expr, &c->args[2 * n]);
        }
        *out = c;
        return rc;
    }
    case LH_BX_IN: {
        c = cx_new(pc, LH_CX_IN, e, e->u.in.n + 1);
        if (c == NULL) {
            return LH_ENOMEM;
        }
        c->negated = e->negated;
        rc = lh__compile(pc, sc, e->u.in.arg, &c->args[0]);
        for (uint32_t i = 0; i < e->u.in.n && rc == LH_OK; i++) {
            rc = lh__compile(pc, sc, e->u.in.list[i], &c->args[i + 1]);
        }
        /* the comparison: '=' for the common type */
        if (rc == LH_OK) {
            lh_type t = e->u.in.arg->type;
            lh_type two[2] = {t, t};
            c->fn = lh_sql_find_exact(pc->ex->reg, "=", two, 2);
            if (c->fn == NULL && t.id == LH_T_DECIMAL) {
                /* decimals of other precisions: any DECIMAL '=' */
                uint32_t nc;
                const lh_fn_def *const *cands =
                    lh_fn_lookup(pc->ex->reg, "=", &nc);
                for (uint32_t k = 0; k < nc && !c->fn; k++) {
                    if (cands[k]->args[0] == LH_T_DECIMAL) {
                        c->fn = cands[k];
                    }
                }
            }
            if (c->fn == NULL) {
                char tn[48];
                return lh_err_set(
                    pc->err, LH_EINVAL, "operator does not exist: %s = %s",
                    lh_sql_type_text(t, tn), lh_sql_type_text(t, tn));
            }
            c->kernel = ((const lh_fn_impl *)c->fn->impl)->kernel;
        }
        *out = c;
        return rc;
    }
    case LH_BX_SUBQUERY: {
        c = cx_new(pc, LH_CX_SUBQUERY, e, e->u.sub.arg ? 1 : 0);
        if (c == NULL) {
            return LH_ENOMEM;
        }
        c->sub_kind = e->u.sub.kind;
        lh_pnode *sub;
        rc = lh__physical(pc, e->u.sub.plan, e->u.sub.outer, e->u.sub.nouter,
                          &sub);
        if (rc != LH_OK) {
            return rc;
        }
        c->sub = sub;
        c->nouter = e->u.sub.nouter;
        if (c->nouter) {
            c->outer_args =
                lh_arena_calloc(pc->a, c->nouter * sizeof(lh_cexpr *));
            if (c->outer_args == NULL) {
                return lh_err_set(pc->err, LH_ENOMEM, "out of memory");
            }
            for (uint32_t i = 0; i < c->nouter; i++) {
                lh_bexpr col = {.kind = LH_BX_COL, .pos = e->pos};
                col.u.col = e->u.sub.outer[i];
                col.type = e->u.sub.outer_types[i];
                rc = lh__compile(pc, sc, &col, &c->outer_args[i]);
                if (rc != LH_OK) {
                    return rc;
                }
            }
        }
        if (e->u.sub.arg) {
            /* arg op col: the left side here, the right side over the
             * subquery's output */
            const lh_bexpr *cmp = e->u.sub.arg;
            rc = lh__compile(pc, sc, cmp->u.call.args[0], &c->args[0]);
            if (rc != LH_OK) {
                return rc;
            }
            lh_cscope rs = {.ids = e->u.sub.plan->cols,
                            .nids = e->u.sub.plan->ncols};
            lh_cexpr *k = cx_new(pc, LH_CX_CALL, cmp, 2);
            if (k == NULL) {
                return LH_ENOMEM;
            }
            k->fn = cmp->u.call.fn;
            k->kernel = ((const lh_fn_impl *)k->fn->impl)->kernel;
            /* args[0] is filled per row with the left value */
            k->args[0] = NULL;
            rc = lh__compile(pc, &rs, cmp->u.call.args[1], &k->args[1]);
            if (rc != LH_OK) {
                return rc;
            }
            c->cmp = k;
        }
        *out = c;
        return LH_OK;
    }
    case LH_BX_AGG:
    case LH_BX_WINDOW:
    case LH_BX_GROUPING:
        return lh_err_set(pc->err, LH_EINTERNAL,
                          "aggregate or window call outside its operator");
    }
    return lh_err_set(pc->err, LH_EINTERNAL, "unknown expression kind %d",
                      e->kind);
}

/* ---- evaluation helpers
 * ------------------------------------------------------- */

static lh_rc
new_vec(lh_evalctx *ec, lh_type t, uint32_t count, bool nullable,
        lh_vector **out)
{
    return lh__vec_new(ec->arena, t, count, nullable, out, ec->err);
}

static uint64_t *
new_bits(lh_evalctx *ec, uint32_t count, bool set)
{
    size_t words = ((size_t)count + 63) / 64;
    uint64_t *b = lh_arena_alloc(ec->arena, (words ? words : 1) * 8);
    if (b) {
        memset(b, set ? 0xff : 0, (words ? words : 1) * 8);
    }
    return b;
}

static inline bool
bool_at(const lh_vector *v, uint32_t r, bool *valid)
{
    if (v->kind == LH_VEC_CONSTANT) {
        *valid = lh_vec_valid(v, 0);
        return ((const uint8_t *)v->data)[0] != 0;
    }
    if (v->kind == LH_VEC_DICT) {
        *valid = lh_vec_valid(v, r);
        uint32_t code = ((const uint32_t *)v->data)[r];
        if (*valid && v->dict->validity) {
            *valid = lh_vec_valid(v->dict, code);
        }
        return ((const uint8_t *)v->dict->data)[code] != 0;
    }
    *valid = !v->validity || (v->validity[r >> 6] >> (r & 63)) & 1;
    return ((const uint8_t *)v->data)[r] != 0;
}

/* ---- function calls
 * ------------------------------------------------------------ */

static lh_rc
run_kernel(lh_evalctx *ec, const lh_cexpr *e, const lh_vector *const *args,
           uint32_t nargs, uint32_t count, const uint32_t *sel, uint32_t n,
           lh_vector *out)
{
    (void)count;
    lh_kctx k = {.ec = ec, .e = e, .arena = ec->arena, .err = ec->err};
    return e->kernel(&k, args, nargs, sel, n, out);
}

/* The output validity of a strict call: the AND of the arguments'. */
static lh_rc
strict_validity(lh_evalctx *ec, const lh_vector *const *args, uint32_t nargs,
                uint32_t count, bool force, uint64_t **out)
{
    bool any = force;
    for (uint32_t i = 0; i < nargs && !any; i++) {
        any = args[i]->validity != NULL;
    }
    *out = NULL;
    if (!any) {
        return LH_OK;
    }
    uint64_t *v = new_bits(ec, count, true);
    if (v == NULL) {
        return nomem(ec);
    }
    size_t words = ((size_t)count + 63) / 64;
    for (uint32_t i = 0; i < nargs; i++) {
        const lh_vector *a = args[i];
        if (a->validity == NULL) {
            continue;
        }
        if (a->kind == LH_VEC_CONSTANT) {
            if (!lh_vec_valid(a, 0)) {
                memset(v, 0, (words ? words : 1) * 8);
            }
            continue;
        }
        for (size_t w = 0; w < words; w++) {
            v[w] &= a->validity[w];
        }
    }
    *out = v;
    return LH_OK;
}

static lh_rc
call(lh_evalctx *ec, const lh_cexpr *e, const lh_vector **args, uint32_t nargs,
     uint32_t count, const uint32_t *sel, uint32_t n, const lh_vector **out)
{
    const lh_fn_def *fn = e->fn;
    bool strict = fn == NULL || fn->nulls == LH_FN_STRICT;
    bool needs_valid =
        (fn && (fn->flags & LH_FN_MAKES_NULL)) || !strict || e->try_cast;
    /* all constant: once */
    bool all_const = nargs > 0;
    for (uint32_t i = 0; i < nargs; i++) {
        all_const = all_const && args[i]->kind == LH_VEC_CONSTANT;
    }
    bool volatile_ = fn && (fn->flags & LH_FN_VOLATILE);
    if (all_const && !volatile_) {
        lh_vector *o;
        lh_rc rc = new_vec(ec, e->type, 1, true, &o);
        if (rc != LH_OK) {
            return rc;
        }
        bool valid = true;
        for (uint32_t i = 0; i < nargs && strict; i++) {
            valid = valid && lh_vec_valid(args[i], 0);
        }
        if (!valid) {
            lh_bit_set(o->validity, 0, false);
        } else {
            static const uint32_t zero = 0;
            rc = run_kernel(ec, e, (const lh_vector *const *)args, nargs, 1,
                            &zero, 1, o);
            if (rc != LH_OK) {
                return rc;
            }
        }
        o->kind = LH_VEC_CONSTANT;
        *out = o;
        return LH_OK;
    }
    /* a strict function of a NULL constant is NULL on every row (the
     * paths below would run the kernel on the constant's arbitrary data) */
    for (uint32_t i = 0; i < nargs && strict && !e->try_cast; i++) {
        if (args[i]->kind == LH_VEC_CONSTANT && !lh_vec_valid(args[i], 0)) {
            lh_vector *o;
            lh_rc rc = new_vec(ec, e->type, 1, true, &o);
            if (rc != LH_OK) {
                return rc;
            }
            lh_bit_set(o->validity, 0, false);
            o->kind = LH_VEC_CONSTANT;
            *out = o;
            return LH_OK;
        }
    }
    /* one DICT argument, the rest constant: run on the dictionary */
    int dict_arg = -1;
    bool others_const = true;
    for (uint32_t i = 0; i < nargs; i++) {
        if (args[i]->kind == LH_VEC_DICT) {
            if (dict_arg >= 0) {
                others_const = false;
            }
            dict_arg = (int)i;
        } else if (args[i]->kind != LH_VEC_CONSTANT) {
            others_const = false;
        }
    }
    if (dict_arg >= 0 && others_const && fn && (fn->flags & LH_FN_DICT_SAFE) &&
        args[dict_arg]->dict_size > 0 && args[dict_arg]->dict_size <= count) {
        const lh_vector *d = args[dict_arg];
        const lh_vector *dargs[16];
        for (uint32_t i = 0; i < nargs && i < 16; i++) {
            dargs[i] = (int)i == dict_arg ? d->dict : args[i];
        }
        uint32_t dn = d->dict_size;
        lh_vector *dout;
        lh_rc rc = new_vec(ec, e->type, dn, needs_valid, &dout);
        if (rc != LH_OK) {
            return rc;
        }
        rc = run_kernel(ec, e, dargs, nargs, dn, NULL, dn, dout);
        if (rc != LH_OK) {
            return rc;
        }
        bool clean = true;
        if (dout->validity) {
            for (uint32_t i = 0; i < dn && clean; i++) {
                clean = lh_vec_valid(dout, i);
            }
        }
        if (clean) {
            dout->validity = NULL;
            lh_vector *o = lh_arena_alloc(ec->arena, sizeof(lh_vector));
            if (o == NULL) {
                return nomem(ec);
            }
            *o = *d;
            o->type = e->type;
            o->dict = dout;
            if (!strict) {
                /* a NULL input row gives what the function gives NULL:
                 * not a dictionary entry; take the general path */
                if (d->validity) {
                    goto flat;
                }
            }
            *out = o;
            return LH_OK;
        }
    }
flat:;
    /* flatten DICT arguments */
    const lh_vector *fargs[16];
    const lh_vector **fa = fargs;
    if (nargs > 16) {
        fa = lh_arena_alloc(ec->arena, nargs * sizeof(lh_vector *));
        if (fa == NULL) {
            return nomem(ec);
        }
    }
    for (uint32_t i = 0; i < nargs; i++) {
        fa[i] = args[i];
        if (args[i]->kind == LH_VEC_DICT) {
            lh_rc rc = lh__vec_flatten(ec->arena, args[i], count, sel, n,
                                       &fa[i], ec->err);
            if (rc != LH_OK) {
                return rc;
            }
        }
    }
    lh_vector *o = lh_arena_alloc(ec->arena, sizeof(lh_vector));
    if (o == NULL) {
        return nomem(ec);
    }
    lh_rc rc = lh_vector_alloc(o, e->type, count ? count : 1, false, ec->arena,
                               ec->err);
    if (rc != LH_OK) {
        return rc;
    }
    if (strict) {
        rc = strict_validity(ec, fa, nargs, count, needs_valid, &o->validity);
        if (rc != LH_OK) {
            return rc;
        }
    } else {
        o->validity = new_bits(ec, count, true);
        if (o->validity == NULL) {
            return nomem(ec);
        }
    }
    rc = run_kernel(ec, e, fa, nargs, count, sel, n, o);
    if (rc != LH_OK) {
        return rc;
    }
    *out = o;
    return LH_OK;
}

/* ---- the evaluator
 * ----------------------------------------------------------------- */

static lh_rc eval_bool_logic(lh_evalctx *ec, const lh_cexpr *e,
                             const lh_batch *in, const uint32_t *sel,
                             uint32_t n, const lh_vector **out);
static lh_rc eval_case(lh_evalctx *ec, const lh_cexpr *e, const lh_batch *in,
                       const uint32_t *sel, uint32_t n, const lh_vector **out);
static lh_rc eval_coalesce(lh_evalctx *ec, const lh_cexpr *e,
                           const lh_batch *in, const uint32_t *sel, uint32_t n,
                           const lh_vector **out);
static lh_rc eval_in(lh_evalctx *ec, const lh_cexpr *e, const lh_batch *in,
                     const uint32_t *sel, uint32_t n, const lh_vector **out);
lh_rc lh__eval_subquery(lh_evalctx *ec, const lh_cexpr *e, const lh_batch *in,
                        const uint32_t *sel, uint32_t n, const lh_vector **out);

lh_rc
lh__eval(lh_evalctx *ec, const lh_cexpr *e, const lh_batch *in,
         const uint32_t *sel, uint32_t n, const lh_vector **out)
{
    uint32_t count = in->count;
    switch ((lh_cx_kind)e->kind) {
    case LH_CX_INPUT:
        *out = &in->cols[e->col];
        return LH_OK;
    case LH_CX_CONST:
        *out = &e->kvec;
        return LH_OK;
    case LH_CX_OUTER: {
        lh_vector *v = lh_arena_alloc(ec->arena, sizeof(lh_vector));
        if (v == NULL) {
            return nomem(ec);
        }
        lh_value val = ec->outer[e->col];
        val.type = e->type;
        lh_rc rc = lh__vec_const(ec->arena, &val, v, ec->err);
        *out = v;
        return rc;
    }
    case LH_CX_CALL:
    case LH_CX_CAST: {
        const lh_vector *args[16];
        const lh_vector **a = args;
        if (e->nargs > 16) {
            a = lh_arena_alloc(ec->arena, e->nargs * sizeof(lh_vector *));
            if (a == NULL) {
                return nomem(ec);
            }
        }
        for (uint32_t i = 0; i < e->nargs; i++) {
            lh_rc rc = lh__eval(ec, e->args[i], in, sel, n, &a[i]);
            if (rc != LH_OK) {
                return rc;
            }
        }
        return call(ec, e, a, e->nargs, count, sel, n, out);
    }
    case LH_CX_AND:
    case LH_CX_OR:
        return eval_bool_logic(ec, e, in, sel, n, out);
    case LH_CX_NOT: {
        const lh_vector *a;
        lh_rc rc = lh__eval(ec, e->args[0], in, sel, n, &a);
        if (rc != LH_OK) {
            return rc;
        }
        lh_vector *o;
        rc = new_vec(ec, e->type, count, false, &o);
        if (rc != LH_OK) {
            return rc;
        }
        uint8_t *d = o->data;
        bool nulls = false;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t r = lh_row(sel, i);
            bool valid;
            d[r] = !bool_at(a, r, &valid);
            nulls |= !valid;
        }
        if (nulls) {
            o->validity = new_bits(ec, count, true);
            if (o->validity == NULL) {
                return nomem(ec);
            }
            for (uint32_t i = 0; i < n; i++) {
                uint32_t r = lh_row(sel, i);
                bool valid;
                bool_at(a, r, &valid);
                if (!valid) {
                    lh_bit_set(o->validity, r, false);
                }
            }
        }
        *out = o;
        return LH_OK;
    }
    case LH_CX_IS_NULL:
    case LH_CX_IS_BOOL: {
        const lh_vector *a;
        lh_rc rc = lh__eval(ec, e->args[0], in, sel, n, &a);
        if (rc != LH_OK) {
            return rc;
        }
        lh_vector *o;
        rc = new_vec(ec, e->type, count, false, &o);
        if (rc != LH_OK) {
            return rc;
        }
        uint8_t *d = o->data;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t r = lh_row(sel, i);
            bool v;
            if (e->kind == LH_CX_IS_NULL) {
                v = !lh_vec_valid(a, r);
                if (v == false && a->kind == LH_VEC_DICT && a->dict->validity) {
                    uint32_t code = ((const uint32_t *)a->data)[r];
                    v = !lh_vec_valid(a->dict, code);
                }
            } else {
                bool valid;
                bool b = bool_at(a, r, &valid);
                v = valid && b == (e->what != 0);
            }
            d[r] = e->negated ? !v : v;
        }
        *out = o;
        return LH_OK;
    }
    case LH_CX_CASE:
        return eval_case(ec, e, in, sel, n, out);
    case LH_CX_COALESCE:
        return eval_coalesce(ec, e, in, sel, n, out);
    case LH_CX_IN:
        return eval_in(ec, e, in, sel, n, out);
    case LH_CX_SUBQUERY:
        return lh__eval_subquery(ec, e, in, sel, n, out);
    }
    return lh_err_set(ec->err, LH_EINTERNAL, "unknown compiled expression");
}

/* AND / OR with three-valued logic; later arguments only on the rows the
 * earlier ones left undecided. */
static lh_rc
eval_bool_logic(lh_evalctx *ec, const lh_cexpr *e, const lh_batch *in,
                const uint32_t *sel, uint32_t n, const lh_vector **out)
{
    bool is_and = e->kind == LH_CX_AND;
    uint32_t count = in->count;
    lh_vector *o;
    lh_rc rc = new_vec(ec, e->type, count, true, &o);
    if (rc != LH_OK) {
        return rc;
    }
    uint8_t *d = o->data;
    /* start: AND -> TRUE, OR -> FALSE, valid */
    for (uint32_t i = 0; i < n; i++) {
        d[lh_row(sel, i)] = is_and;
    }
    uint32_t *rest = lh_arena_alloc(ec->arena, (n ? n : 1) * sizeof(uint32_t));
    if (rest == NULL) {
        return nomem(ec);
    }
    const uint32_t *cur = sel;
    uint32_t ncur = n;
    for (uint32_t k = 0; k < e->nargs && ncur > 0; k++) {
        const lh_vector *a;
        rc = lh__eval(ec, e->args[k], in, cur, ncur, &a);
        if (rc != LH_OK) {
            return rc;
        }
        uint32_t nrest = 0;
        for (uint32_t i = 0; i < ncur; i++) {
            uint32_t r = lh_row(cur, i);
            bool valid;
            bool v = bool_at(a, r, &valid);
            if (valid && v != is_and) {
                /* decided: FALSE for AND, TRUE for OR */
                d[r] = !is_and;
                lh_bit_set(o->validity, r, true);
                continue;
            }
            if (!valid) {
                lh_bit_set(o->validity, r, false);
            }
            rest[nrest++] = r;
        }
        /* the next argument needs its own array: rest is reused */
        uint32_t *next =
            lh_arena_alloc(ec->arena, (nrest ? nrest : 1) * sizeof(uint32_t));
        if (next == NULL) {
            return nomem(ec);
        }
        memcpy(next, rest, nrest * sizeof(uint32_t));
        cur = next;
        ncur = nrest;
    }
    *out = o;
    return LH_OK;
}

/* Copies rows of src into FLAT dst (same type), with validity. */
static void
copy_rows(lh_vector *dst, const lh_vector *src, const uint32_t *rows,
          uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = rows[i];
        lh__vec_copy_row(NULL, dst, r, src, r, false, NULL);
    }
}

static lh_rc
eval_case(lh_evalctx *ec, const lh_cexpr *e, const lh_batch *in,
          const uint32_t *sel, uint32_t n, const lh_vector **out)
{
    uint32_t count = in->count;
    lh_vector *o;
    lh_rc rc = new_vec(ec, e->type, count, true, &o);
    if (rc != LH_OK) {
        return rc;
    }
    uint32_t *cur = lh_arena_alloc(ec->arena, (n ? n : 1) * sizeof(uint32_t));
    uint32_t *hit = lh_arena_alloc(ec->arena, (n ? n : 1) * sizeof(uint32_t));
    if (cur == NULL || hit == NULL) {
        return nomem(ec);
    }
    for (uint32_t i = 0; i < n; i++) {
        cur[i] = lh_row(sel, i);
    }
    uint32_t ncur = n;
    for (uint32_t k = 0; k < e->ncase && ncur > 0; k++) {
        const lh_vector *w;
        rc = lh__eval(ec, e->args[k], in, cur, ncur, &w);
        if (rc != LH_OK) {
            return rc;
        }
        uint32_t nhit = 0, nmiss = 0;
        for (uint32_t i = 0; i < ncur; i++) {
            bool valid;
            bool v = bool_at(w, cur[i], &valid);
            if (valid && v) {
                hit[nhit++] = cur[i];
            } else {
                cur[nmiss++] = cur[i];
            }
        }
        if (nhit) {
            const lh_vector *t;
            rc = lh__eval(ec, e->args[e->ncase + k], in, hit, nhit, &t);
            if (rc != LH_OK) {
                return rc;
            }
            copy_rows(o, t, hit, nhit);
            /* hit is reused: the results are copied */
            hit = lh_arena_alloc(ec->arena, (n ? n : 1) * sizeof(uint32_t));
            if (hit == NULL) {
                return nomem(ec);
            }
        }
        ncur = nmiss;
    }
    if (ncur) {
        const lh_cexpr *el = e->args[2 * e->ncase];
        if (el) {
            const lh_vector *t;
            rc = lh__eval(ec, el, in, cur, ncur, &t);
            if (rc != LH_OK) {
                return rc;
            }
            copy_rows(o, t, cur, ncur);
        } else {
            for (uint32_t i = 0; i < ncur; i++) {
                lh_bit_set(o->validity, cur[i], false);
            }
        }
    }
    *out = o;
    return LH_OK;
}

static lh_rc
eval_coalesce(lh_evalctx *ec, const lh_cexpr *e, const lh_batch *in,
              const uint32_t *sel, uint32_t n, const lh_vector **out)
{
    uint32_t count = in->count;
    lh_vector *o;
    lh_rc rc = new_vec(ec, e->type, count, true, &o);
    if (rc != LH_OK) {
        return rc;
    }
    uint32_t *cur = lh_arena_alloc(ec->arena, (n ? n : 1) * sizeof(uint32_t));
    if (cur == NULL) {
        return nomem(ec);
    }
    for (uint32_t i = 0; i < n; i++) {
        cur[i] = lh_row(sel, i);
        lh_bit_set(o->validity, cur[i], false);
    }
    uint32_t ncur = n;
    for (uint32_t k = 0; k < e->nargs && ncur > 0; k++) {
        const lh_vector *a;
        rc = lh__eval(ec, e->args[k], in, cur, ncur, &a);
        if (rc != LH_OK) {
            return rc;
        }
        uint32_t *next =
            lh_arena_alloc(ec->arena, (ncur ? ncur : 1) * sizeof(uint32_t));
        if (next == NULL) {
            return nomem(ec);
        }
        uint32_t nn = 0;
        for (uint32_t i = 0; i < ncur; i++) {
            uint32_t r = cur[i];
            bool valid = lh_vec_valid(a, r);
            if (valid && a->kind == LH_VEC_DICT && a->dict->validity) {
                valid = lh_vec_valid(a->dict, ((const uint32_t *)a->data)[r]);
            }
            if (valid) {
                lh__vec_copy_row(NULL, o, r, a, r, false, NULL);
            } else {
                next[nn++] = r;
            }
        }
        cur = next;
        ncur = nn;
    }
    *out = o;
    return LH_OK;
}

/* x IN (a, b, ...): TRUE on a match; else NULL when x or an item is NULL;
 * else FALSE (negated: NOT of that). */
static lh_rc
eval_in(lh_evalctx *ec, const lh_cexpr *e, const lh_batch *in,
        const uint32_t *sel, uint32_t n, const lh_vector **out)
{
    uint32_t count = in->count;
    const lh_vector *x;
    lh_rc rc = lh__eval(ec, e->args[0], in, sel, n, &x);
    if (rc != LH_OK) {
        return rc;
    }
    lh_vector *o;
    rc = new_vec(ec, e->type, count, true, &o);
    if (rc != LH_OK) {
        return rc;
    }
    uint8_t *d = o->data;
    uint8_t *state = lh_arena_calloc(ec->arena, count ? count : 1);
    if (state == NULL) {
        return nomem(ec);
    }
    /* state: 0 no match yet, 1 matched, 2 saw a NULL */
    for (uint32_t k = 1; k < e->nargs; k++) {
        const lh_vector *item;
        rc = lh__eval(ec, e->args[k], in, sel, n, &item);
        if (rc != LH_OK) {
            return rc;
        }
        const lh_vector *args[2] = {x, item};
        const lh_vector *eq = NULL;
        lh_cexpr tmp = *e;
        tmp.kind = LH_CX_CALL;
        tmp.type = lh_sql_type(LH_T_BOOLEAN);
        rc = call(ec, &tmp, args, 2, count, sel, n, &eq);
        if (rc != LH_OK) {
            return rc;
        }
        for (uint32_t i = 0; i < n; i++) {
            uint32_t r = lh_row(sel, i);
            if (state[r] == 1) {
                continue;
            }
            bool valid;
            bool v = bool_at(eq, r, &valid);
            if (!valid) {
                state[r] = 2;
            } else if (v) {
                state[r] = 1;
            }
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = lh_row(sel, i);
        if (state[r] == 2 || (state[r] == 0 && !lh_vec_valid(x, r))) {
            lh_bit_set(o->validity, r, false);
        } else {
            d[r] = (state[r] == 1) != e->negated;
        }
    }
    *out = o;
    return LH_OK;
}

lh_rc
lh__eval_filter(lh_evalctx *ec, const lh_cexpr *e, const lh_batch *in,
                const uint32_t *sel, uint32_t n, uint32_t **out_sel,
                uint32_t *out_n)
{
    if (e->kind == LH_CX_AND) {
        /* conjuncts narrow the selection one after the other */
        const uint32_t *cur = sel;
        uint32_t ncur = n;
        uint32_t *res = NULL;
        for (uint32_t k = 0; k < e->nargs; k++) {
            lh_rc rc =
                lh__eval_filter(ec, e->args[k], in, cur, ncur, &res, &ncur);
            if (rc != LH_OK) {
                return rc;
            }
            cur = res;
            if (ncur == 0) {
                break;
            }
        }
        if (res == NULL) {
            res = lh_arena_alloc(ec->arena, (n ? n : 1) * sizeof(uint32_t));
            if (res == NULL) {
                return nomem(ec);
            }
            for (uint32_t i = 0; i < n; i++) {
                res[i] = lh_row(sel, i);
            }
            ncur = n;
        }
        *out_sel = res;
        *out_n = ncur;
        return LH_OK;
    }
    const lh_vector *v;
    lh_rc rc = lh__eval(ec, e, in, sel, n, &v);
    if (rc != LH_OK) {
        return rc;
    }
    uint32_t *res = lh_arena_alloc(ec->arena, (n ? n : 1) * sizeof(uint32_t));
    if (res == NULL) {
        return nomem(ec);
    }
    uint32_t k = 0;
    if (v->kind == LH_VEC_FLAT && v->validity == NULL) {
        const uint8_t *d = v->data;
        if (sel == NULL) {
            for (uint32_t i = 0; i < n; i++) {
                res[k] = i;
                k += d[i] != 0;
            }
        } else {
            for (uint32_t i = 0; i < n; i++) {
                res[k] = sel[i];
                k += d[sel[i]] != 0;
            }
        }
    } else if (v->kind == LH_VEC_CONSTANT) {
        bool valid;
        bool b = bool_at(v, 0, &valid);
        if (valid && b) {
            for (uint32_t i = 0; i < n; i++) {
                res[k++] = lh_row(sel, i);
            }
        }
    } else {
        for (uint32_t i = 0; i < n; i++) {
            uint32_t r = lh_row(sel, i);
            bool valid;
            bool b = bool_at(v, r, &valid);
            res[k] = r;
            k += valid && b;
        }
    }
    *out_sel = res;
    *out_n = k;
    return LH_OK;
}
