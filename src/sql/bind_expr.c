/*
 * Binding expressions: literals (typed by PostgreSQL's rules), column
 * references, operators and functions (overload resolution by implicit
 * cast cost, the return-type rules of the registry), CAST, CASE, IN,
 * BETWEEN, LIKE, IS, subqueries, aggregate and window calls.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/bind_int.h"

/* ---- node makers ------------------------------------------------------------
 */

static lh_bexpr *
bx(binder *b, lh_bx_kind kind, lh_type t, int32_t pos)
{
    lh_bexpr *e = lh__bind_alloc(b, sizeof(lh_bexpr));
    if (e) {
        e->kind = (uint8_t)kind;
        e->type = t;
        e->pos = pos;
    }
    return e;
}

lh_bexpr *
lh__bx_const(binder *b, const lh_value *v, int32_t pos)
{
    lh_bexpr *e = bx(b, LH_BX_CONST, v->type, pos);
    if (e) {
        e->u.c = *v;
    }
    return e;
}

lh_bexpr *
lh__bx_bool(binder *b, bool v)
{
    lh_value c = {.type = lh_sql_type(LH_T_BOOLEAN)};
    c.u.b = v;
    return lh__bx_const(b, &c, -1);
}

lh_bexpr *
lh__bx_null(binder *b, lh_type t)
{
    lh_value c = {.type = t, .is_null = true};
    return lh__bx_const(b, &c, -1);
}

lh_bexpr *
lh__bx_list(binder *b, lh_bx_kind kind, lh_bexpr **args, uint32_t n, lh_type t)
{
    lh_bexpr *e = bx(b, kind, t, n ? args[0]->pos : -1);
    lh_bexpr **a = lh__bind_alloc(b, (n ? n : 1) * sizeof(lh_bexpr *));
    if (e == NULL || a == NULL) {
        return NULL;
    }
    if (n) {
        memcpy(a, args, n * sizeof(lh_bexpr *));
    }
    e->u.list.args = a;
    e->u.list.n = n;
    return e;
}

static lh_bexpr *
bx_not(binder *b, lh_bexpr *arg)
{
    lh_bexpr *e = lh__bx_list(b, LH_BX_NOT, &arg, 1, lh_sql_type(LH_T_BOOLEAN));
    if (e) {
        e->pos = arg->pos;
    }
    return e;
}

/* ---- walking
 * ------------------------------------------------------------------
 */

typedef struct walk_ud {
    bool (*fn)(lh_bexpr *e, void *ud);
    void *ud;
} walk_ud;

static lh_rc
walk_slot(lh_bexpr **slot, void *ud)
{
    const walk_ud *w = ud;
    lh__bx_walk(*slot, w->fn, w->ud);
    return LH_OK;
}

void
lh__bx_walk(lh_bexpr *e, bool (*fn)(lh_bexpr *e, void *ud), void *ud)
{
    if (e == NULL || !fn(e, ud)) {
        return;
    }
    walk_ud w = {fn, ud};
    lh_sql_expr_children(e, walk_slot, &w);
}

typedef struct has_ud {
    lh_bx_kind kind;
    bool found;
} has_ud;

static bool
has_fn(lh_bexpr *e, void *ud)
{
    has_ud *h = ud;
    if (e->kind == h->kind) {
        h->found = true;
        return false;
    }
    return !h->found;
}

bool
lh__bx_has(const lh_bexpr *e, lh_bx_kind kind)
{
    has_ud h = {kind, false};
    lh__bx_walk((lh_bexpr *)e, has_fn, &h);
    return h.found;
}

/* ---- casts -----------------------------------------------------------------
 */

static lh_rc
type_from_text(binder *b, const char *text, int32_t pos, lh_type *out)
{
    lh_err e;
    if (lh_type_parse(text, out, &e) != LH_OK) {
        if (strstr(text, "[]") != NULL) {
            return lh__bind_error(b, LH_EUNSUPPORTED, pos,
                                  "unsupported: array type %s (FLOAT[n] "
                                  "vectors are supported)",
                                  text);
        }
        return lh__bind_error(b, LH_EINVAL, pos, "%s", e.msg);
    }
    return LH_OK;
}

/* Converts an untyped literal's text to type t now (as PostgreSQL does
 * for a literal): the error points at the literal. */
static lh_rc
convert_literal(binder *b, lh_bexpr *e, lh_type t, lh_bexpr **out)
{
    if (e->u.c.is_null) {
        *out = lh__bx_null(b, t);
        if (*out) {
            (*out)->pos = e->pos;
        }
        return *out ? LH_OK : LH_ENOMEM;
    }
    if (t.id == LH_T_VARCHAR && t.length == 0) {
        lh_bexpr *c = lh__bx_const(b, &e->u.c, e->pos);
        if (c == NULL) {
            return LH_ENOMEM;
        }
        c->type = t;
        c->u.c.type = t;
        *out = c;
        return LH_OK;
    }
    lh_value v;
    lh_err ce;
    lh_rc rc =
        lh_value_from_text(t, e->u.c.u.s.p, e->u.c.u.s.len, b->a, &v, &ce);
    if (rc == LH_ENOMEM) {
        return lh__bind_nomem(b);
    }
    if (rc != LH_OK) {
        char msg[256];
        lh_sql_input_error(t, e->u.c.u.s.p, e->u.c.u.s.len, ce.msg, msg,
                           sizeof msg);
        return lh__bind_error(b, LH_EINVAL, e->pos, "%s", msg);
    }
    v.type = t;
    *out = lh__bx_const(b, &v, e->pos);
    return *out ? LH_OK : LH_ENOMEM;
}

lh_rc
lh__bind_cast(binder *b, lh_bexpr *e, lh_type t, bool explicit_cast,
              lh_bexpr **out)
{
    (void)explicit_cast;
    if (e == NULL) {
        return LH_ENOMEM;
    }
    if (lh_type_equal(e->type, t) && !e->untyped) {
        *out = e;
        return LH_OK;
    }
    if (e->kind == LH_BX_CONST && (e->untyped || e->u.c.is_null) &&
        e->type.id != LH_T_BOOLEAN) {
        if (e->untyped || e->type.id == LH_T_NULL) {
            return convert_literal(b, e, t, out);
        }
    }
    if (e->type.id == LH_T_NULL) {
        *out = lh__bx_null(b, t);
        if (*out) {
            (*out)->pos = e->pos;
        }
        return *out ? LH_OK : LH_ENOMEM;
    }
    lh_bexpr *c = bx(b, LH_BX_CAST, t, e->pos);
    if (c == NULL) {
        return LH_ENOMEM;
    }
    c->u.cast.arg = e;
    *out = c;
    return LH_OK;
}

/* ---- literals
 * ----------------------------------------------------------------
 */

/* An exact numeric literal: INTEGER, BIGINT or DECIMAL(p,s); DOUBLE when it
 * needs more than 38 digits. */
static lh_rc
number_literal(binder *b, const char *text, int32_t pos, lh_bexpr **out)
{
    lh_value v = {0};
    bool is_int = strpbrk(text, ".eE") == NULL;
    if (is_int) {
        errno = 0;
        char *end;
        long long x = strtoll(text, &end, 10);
        if (errno == 0 && *end == 0) {
            if (x >= INT32_MIN && x <= INT32_MAX) {
                v.type = lh_sql_type(LH_T_INTEGER);
            } else {
                v.type = lh_sql_type(LH_T_BIGINT);
            }
            v.u.i = x;
            *out = lh__bx_const(b, &v, pos);
            return *out ? LH_OK : LH_ENOMEM;
        }
    }
    /* digits and scale after the exponent */
    const char *p = text;
    bool neg = *p == '-';
    if (neg) {
        p++;
    }
    int int_digits = 0, frac_digits = 0;
    long exp = 0;
    bool seen_point = false, nonzero = false;
    for (; *p && *p != 'e' && *p != 'E'; p++) {
        if (*p == '.') {
            seen_point = true;
        } else if (seen_point) {
            frac_digits++;
        } else if (*p != '0' || nonzero) {
            nonzero = true;
            int_digits++;
        }
    }
    if (*p == 'e' || *p == 'E') {
        exp = strtol(p + 1, NULL, 10);
    }
    long scale = frac_digits - exp;
    long whole = int_digits + exp;
    if (scale < 0) {
        scale = 0;
    }
    if (whole < 0) {
        whole = 0;
    }
    long prec = whole + scale;
    if (prec < 1) {
        prec = 1;
    }
    if (prec <= LH_DECIMAL_MAX_PRECISION && exp > -40 && exp < 40) {
        lh_err e;
        lh_i128 d;
        if (lh_decimal_parse(text, strlen(text), (int)prec, (int)scale, &d,
                             &e) == LH_OK) {
            v.type = (lh_type){.id = LH_T_DECIMAL,
                               .precision = (uint8_t)prec,
                               .scale = (uint8_t)scale};
            v.u.dec = d;
            *out = lh__bx_const(b, &v, pos);
            return *out ? LH_OK : LH_ENOMEM;
        }
    }
    v.type = lh_sql_type(LH_T_DOUBLE);
    v.u.d = strtod(text, NULL);
    if (isinf(v.u.d)) {
        return lh__bind_error(b, LH_EINVAL, pos,
                              "number \"%.40s\" is out of range", text);
    }
    *out = lh__bx_const(b, &v, pos);
    return *out ? LH_OK : LH_ENOMEM;
}

static lh_rc
bind_literal(binder *b, const lh_ast *n, lh_bexpr **out)
{
    lh_value v = {0};
    switch ((lh_lit_kind)n->u.lit.kind) {
    case LH_LIT_NULL:
        v.type = lh_sql_type(LH_T_NULL);
        v.is_null = true;
        break;
    case LH_LIT_BOOL:
        v.type = lh_sql_type(LH_T_BOOLEAN);
        v.u.b = n->u.lit.b;
        break;
    case LH_LIT_INT:
    case LH_LIT_NUMBER:
        return number_literal(b, n->u.lit.text, n->pos, out);
    case LH_LIT_STRING: {
        v.type = lh_sql_type(LH_T_VARCHAR);
        v.u.s.p = n->u.lit.text;
        v.u.s.len = strlen(n->u.lit.text);
        *out = lh__bx_const(b, &v, n->pos);
        if (*out) {
            (*out)->untyped = true;
        }
        return *out ? LH_OK : LH_ENOMEM;
    }
    case LH_LIT_TYPED: {
        lh_type t;
        lh_rc rc = type_from_text(b, n->u.lit.type_text, n->pos, &t);
        if (rc != LH_OK) {
            return rc;
        }
        lh_value s = {.type = lh_sql_type(LH_T_VARCHAR)};
        s.u.s.p = n->u.lit.text;
        s.u.s.len = strlen(n->u.lit.text);
        lh_bexpr *lit = lh__bx_const(b, &s, n->pos);
        if (lit == NULL) {
            return LH_ENOMEM;
        }
        lit->untyped = true;
        return convert_literal(b, lit, t, out);
    }
    case LH_LIT_INTERVAL: {
        char text[128];
        snprintf(text, sizeof text, "%s %s", n->u.lit.text,
                 n->u.lit.unit ? n->u.lit.unit : "");
        lh_value s = {.type = lh_sql_type(LH_T_VARCHAR)};
        char *t = lh_arena_strdup(b->a, text);
        if (t == NULL) {
            return lh__bind_nomem(b);
        }
        s.u.s.p = t;
        s.u.s.len = strlen(t);
        lh_bexpr *lit = lh__bx_const(b, &s, n->pos);
        if (lit == NULL) {
            return LH_ENOMEM;
        }
        lit->untyped = true;
        return convert_literal(b, lit, lh_sql_type(LH_T_INTERVAL), out);
    }
    }
    *out = lh__bx_const(b, &v, n->pos);
    return *out ? LH_OK : LH_ENOMEM;
}

static lh_rc
bind_param(binder *b, const lh_ast *n, lh_bexpr **out)
{
    int32_t idx = n->u.param.index; /* names are numbered by the parser */
    if (idx > b->max_param) {
        b->max_param = idx;
    }
    if (b->params == NULL) {
        /* binding without values (describe): an untyped placeholder */
        lh_bexpr *e = bx(b, LH_BX_PARAM, lh_sql_type(LH_T_VARCHAR), n->pos);
        if (e == NULL) {
            return LH_ENOMEM;
        }
        e->untyped = true;
        e->u.param = idx;
        *out = e;
        return LH_OK;
    }
    if (idx > b->nparams) {
        if (n->u.param.name) {
            return lh__bind_error(b, LH_EINVAL, n->pos,
                                  "no value given for parameter :%s",
                                  n->u.param.name);
        }
        return lh__bind_error(b, LH_EINVAL, n->pos,
                              "there is no parameter $%d (%d given)", (int)idx,
                              (int)b->nparams);
    }
    const lh_value *v = &b->params[idx - 1];
    *out = lh__bx_const(b, v, n->pos);
    if (*out == NULL) {
        return LH_ENOMEM;
    }
    /* text parameters are untyped, like literals: the context types them */
    if (v->type.id == LH_T_VARCHAR || v->type.id == LH_T_NULL) {
        (*out)->untyped = true;
    }
    return LH_OK;
}

/* ---- functions
 * ----------------------------------------------------------------
 */

static void
args_text(lh_bexpr *const *args, uint32_t nargs, char *buf, size_t n)
{
    size_t l = 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < nargs && l + 1 < n; i++) {
        char tn[48];
        const char *name =
            args[i]->untyped ? "unknown" : lh_sql_type_text(args[i]->type, tn);
        l += (size_t)snprintf(buf + l, n - l, "%s%s", i ? ", " : "", name);
    }
}

static bool
is_operator(const char *name)
{
    return !isalpha((unsigned char)name[0]) && name[0] != '_';
}

static uint8_t
pattern_of(const lh_fn_def *f, uint32_t i)
{
    uint32_t fixed = f->nargs & ~LH_FN_VARIADIC;
    if (i < fixed || !(f->nargs & LH_FN_VARIADIC)) {
        return f->args[i < 6 ? i : 5];
    }
    return f->args[fixed ? fixed - 1 : 0];
}

static bool
arity_ok(const lh_fn_def *f, uint32_t nargs)
{
    uint32_t fixed = f->nargs & ~LH_FN_VARIADIC;
    return (f->nargs & LH_FN_VARIADIC) ? nargs >= fixed : nargs == fixed;
}

/* Picks the signature of kind `kind` with the cheapest implicit casts;
 * NULL (and *cost -1) when none fits. */
static const lh_fn_def *
pick(const lh_fn_def *const *cands, uint32_t ncands, uint8_t kind,
     lh_bexpr *const *args, uint32_t nargs, bool *any_kind)
{
    const lh_fn_def *best = NULL;
    int best_cost = 1 << 30;
    *any_kind = false;
    for (uint32_t k = 0; k < ncands; k++) {
        const lh_fn_def *f = cands[k];
        if (f->kind != kind) {
            continue;
        }
        *any_kind = true;
        if (!arity_ok(f, nargs)) {
            continue;
        }
        int cost = 0;
        for (uint32_t i = 0; i < nargs && cost >= 0; i++) {
            uint8_t want = pattern_of(f, i);
            int c = lh_sql_cast_cost(args[i]->type, args[i]->untyped, want);
            if (want == LH_T_DECIMAL && lh_sql_is_integer(args[i]->type.id)) {
                c = lh_sql_cast_cost(args[i]->type, false, LH_T_DECIMAL);
            }
            cost = c < 0 ? -1 : cost + c;
        }
        if (cost >= 0 && cost < best_cost) {
            best = f;
            best_cost = cost;
        }
    }
    return best;
}

/* Resolves name(args) among functions of `kind`: *fn, the argument types
 * to cast to (want) and the result type. Writes PostgreSQL's messages. */
static lh_rc
resolve(binder *b, const char *name, int32_t pos, uint8_t kind,
        lh_bexpr *const *args, uint32_t nargs, const lh_fn_def **fn,
        lh_type *want, lh_type *ret)
{
    uint32_t ncands = 0;
    const lh_fn_def *const *cands =
        b->cat->functions ? lh_fn_lookup(b->cat->functions, name, &ncands)
                          : NULL;
    bool any_kind;
    const lh_fn_def *f = pick(cands, ncands, kind, args, nargs, &any_kind);
    if (f == NULL) {
        char at[256];
        args_text(args, nargs, at, sizeof at);
        if (is_operator(name)) {
            if (nargs == 2) {
                char l[48], r[48];
                return lh__bind_error(
                    b, LH_EINVAL, pos, "operator does not exist: %s %s %s",
                    args[0]->untyped ? "unknown"
                                     : lh_sql_type_text(args[0]->type, l),
                    name,
                    args[1]->untyped ? "unknown"
                                     : lh_sql_type_text(args[1]->type, r));
            }
            return lh__bind_error(b, LH_EINVAL, pos,
                                  "operator does not exist: %s %s", name, at);
        }
        lh__bind_error(b, LH_EINVAL, pos, "function %s(%s) does not exist",
                       name, at);
        if (ncands == 0 && b->cat->functions) {
            uint32_t nn;
            const char *const *names = lh_fn_names(b->cat->functions, &nn);
            lh__suggest_append(b, name, names, nn);
        } else if (any_kind && b->err) {
            size_t l = strlen(b->err->msg);
            snprintf(b->err->msg + l, sizeof b->err->msg - l,
                     " (no signature takes these argument types; you may "
                     "need an explicit cast)");
        }
        return LH_EINVAL;
    }
    for (uint32_t i = 0; i < nargs; i++) {
        uint8_t p = pattern_of(f, i);
        lh_type at = args[i]->type;
        if (p == LH_FN_ANY) {
            want[i] = args[i]->untyped ? lh_sql_type(LH_T_VARCHAR) : at;
            if (at.id == LH_T_NULL) {
                want[i] = at;
            }
        } else if (p == LH_T_DECIMAL) {
            want[i] = at.id == LH_T_DECIMAL ? at : lh_sql_decimal_of(at);
            if (want[i].id != LH_T_DECIMAL) {
                want[i] = lh_sql_type(LH_T_DECIMAL);
            }
        } else if (p == LH_T_VARCHAR && at.id == LH_T_VARCHAR) {
            want[i] = at;
        } else if (p == LH_T_VECTOR && at.id == LH_T_VECTOR) {
            want[i] = at;
        } else {
            want[i] = lh_sql_type(p);
        }
    }
    *ret = lh_sql_type(f->ret);
    if (f->rule) {
        lh_rc rc = f->rule(f, want, nargs, want, ret, b->err);
        if (rc != LH_OK) {
            if (b->err) {
                b->err->offset = pos;
            }
            return rc;
        }
    }
    if ((f->flags & LH_FN_CONST_DIM) && nargs == 2) {
        const lh_bexpr *c = args[1];
        if (c->kind != LH_BX_CONST || c->u.c.is_null ||
            !lh_sql_is_integer(c->type.id)) {
            return lh__bind_error(b, LH_EINVAL, pos,
                                  "%s: the length must be a constant integer",
                                  name);
        }
        int64_t m = c->u.c.u.i;
        if (m < 1 || m > (int64_t)want[0].dim) {
            return lh__bind_error(b, LH_EINVAL, pos,
                                  "%s: length %lld is out of range 1..%u for "
                                  "a FLOAT[%u]",
                                  name, (long long)m, want[0].dim, want[0].dim);
        }
        ret->dim = (uint32_t)m;
    }
    *fn = f;
    return LH_OK;
}

static lh_rc
cast_args(binder *b, lh_bexpr **args, uint32_t nargs, const lh_type *want)
{
    for (uint32_t i = 0; i < nargs; i++) {
        if (want[i].id == LH_T_NULL) {
            continue;
        }
        lh_rc rc = lh__bind_cast(b, args[i], want[i], false, &args[i]);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

lh_rc
lh__bind_call(binder *b, const char *name, int32_t pos, lh_bexpr **args,
              uint32_t nargs, lh_bexpr **out)
{
    lh_type want[16], *wp = want;
    if (nargs > 16) {
        wp = lh__bind_alloc(b, nargs * sizeof(lh_type));
        if (wp == NULL) {
            return LH_ENOMEM;
        }
    }
    const lh_fn_def *fn;
    lh_type ret;
    lh_rc rc = resolve(b, name, pos, LH_FN_SCALAR, args, nargs, &fn, wp, &ret);
    if (rc != LH_OK) {
        return rc;
    }
    lh_bexpr **a = lh__bind_alloc(b, (nargs ? nargs : 1) * sizeof(lh_bexpr *));
    lh_bexpr *e = bx(b, LH_BX_CALL, ret, pos);
    if (a == NULL || e == NULL) {
        return LH_ENOMEM;
    }
    if (nargs) {
        memcpy(a, args, nargs * sizeof(lh_bexpr *));
    }
    rc = cast_args(b, a, nargs, wp);
    if (rc != LH_OK) {
        return rc;
    }
    e->u.call.fn = fn;
    e->u.call.args = a;
    e->u.call.nargs = nargs;
    *out = e;
    return LH_OK;
}

/* ---- boolean
 * ------------------------------------------------------------------
 */

static lh_rc
to_bool(binder *b, lh_bexpr *e, const char *what, lh_bexpr **out)
{
    if (e->type.id == LH_T_BOOLEAN && !e->untyped) {
        *out = e;
        return LH_OK;
    }
    if (e->untyped || e->type.id == LH_T_NULL) {
        return lh__bind_cast(b, e, lh_sql_type(LH_T_BOOLEAN), false, out);
    }
    char tn[48];
    return lh__bind_error(b, LH_EINVAL, e->pos,
                          "argument of %s must be type boolean, not type %s",
                          what, lh_sql_type_text(e->type, tn));
}

lh_rc
lh__bind_bool(binder *b, bind_scope *s, const lh_ast *e, unsigned flags,
              const char *what, lh_bexpr **out)
{
    lh_bexpr *x;
    lh_rc rc = lh__bind_expr(b, s, e, flags, &x);
    if (rc != LH_OK) {
        return rc;
    }
    return to_bool(b, x, what, out);
}

/* AND / OR, flattened: a AND (b AND c) is one node of three. */
static lh_rc
bind_logic(binder *b, bind_scope *s, const lh_ast *n, unsigned flags,
           lh_bexpr **out)
{
    lh_bx_kind kind = n->u.binary.op == LH_OP_AND ? LH_BX_AND : LH_BX_OR;
    const char *what = kind == LH_BX_AND ? "AND" : "OR";
    /* an iterative walk down the left spine: long chains of AND are
     * common in generated queries */
    uint32_t cap = 8, cnt = 0;
    lh_bexpr **args = lh__bind_alloc(b, cap * sizeof(lh_bexpr *));
    const lh_ast **stack = lh__bind_alloc(b, cap * sizeof(lh_ast *));
    if (args == NULL || stack == NULL) {
        return LH_ENOMEM;
    }
    uint32_t sp = 0;
    const lh_ast *cur = n;
    /* collect the operands left to right */
    const lh_ast **ops = lh__bind_alloc(b, cap * sizeof(lh_ast *));
    uint32_t nops = 0, opcap = cap;
    if (ops == NULL) {
        return LH_ENOMEM;
    }
    for (;;) {
        if (cur->kind == LH_AST_BINARY && cur->u.binary.op == n->u.binary.op) {
            if (sp == cap) {
                const lh_ast **ns =
                    lh__bind_alloc(b, 2 * cap * sizeof(lh_ast *));
                if (ns == NULL) {
                    return LH_ENOMEM;
                }
                memcpy(ns, stack, sp * sizeof(lh_ast *));
                stack = ns;
                cap *= 2;
            }
            stack[sp++] = cur->u.binary.right;
            cur = cur->u.binary.left;
            continue;
        }
        if (nops == opcap) {
            const lh_ast **no = lh__bind_alloc(b, 2 * opcap * sizeof(lh_ast *));
            if (no == NULL) {
                return LH_ENOMEM;
            }
            memcpy(no, ops, nops * sizeof(lh_ast *));
            ops = no;
            opcap *= 2;
        }
        ops[nops++] = cur;
        if (sp == 0) {
            break;
        }
        cur = stack[--sp];
    }
    uint32_t acap = 8;
    for (uint32_t i = 0; i < nops; i++) {
        lh_bexpr *x;
        lh_rc rc = lh__bind_expr(b, s, ops[i], flags, &x);
        if (rc == LH_OK) {
            rc = to_bool(b, x, what, &x);
        }
        if (rc != LH_OK) {
            return rc;
        }
        if (cnt == acap) {
            lh_bexpr **na = lh__bind_alloc(b, 2 * acap * sizeof(lh_bexpr *));
            if (na == NULL) {
                return LH_ENOMEM;
            }
            memcpy(na, args, cnt * sizeof(lh_bexpr *));
            args = na;
            acap *= 2;
        }
        args[cnt++] = x;
    }
    *out = lh__bx_list(b, kind, args, cnt, lh_sql_type(LH_T_BOOLEAN));
    if (*out) {
        (*out)->pos = n->pos;
    }
    return *out ? LH_OK : LH_ENOMEM;
}

/* ---- operators
 * ----------------------------------------------------------------
 */

static lh_rc
bind_binary(binder *b, bind_scope *s, const lh_ast *n, unsigned flags,
            lh_bexpr **out)
{
    uint8_t op = n->u.binary.op;
    if (op == LH_OP_AND || op == LH_OP_OR) {
        return bind_logic(b, s, n, flags, out);
    }
    lh_bexpr *args[2];
    lh_rc rc = lh__bind_expr(b, s, n->u.binary.left, flags, &args[0]);
    if (rc == LH_OK) {
        rc = lh__bind_expr(b, s, n->u.binary.right, flags, &args[1]);
    }
    if (rc != LH_OK) {
        return rc;
    }
    const char *name = lh_sql_op_text((lh_op)op);
    int32_t pos = n->pos;
    /* the operator's own position is better than the left operand's for
     * "operator does not exist" */
    if (op == LH_OP_DIV && b->set->int_div_float &&
        (lh_sql_is_integer(args[0]->type.id) || args[0]->untyped) &&
        (lh_sql_is_integer(args[1]->type.id) || args[1]->untyped) &&
        !(args[0]->untyped && args[1]->untyped)) {
        /* DuckDB's semantics: 5 / 2 = 2.5 */
        rc = lh__bind_cast(b, args[0], lh_sql_type(LH_T_DOUBLE), false,
                           &args[0]);
        if (rc == LH_OK) {
            rc = lh__bind_cast(b, args[1], lh_sql_type(LH_T_DOUBLE), false,
                               &args[1]);
        }
        if (rc != LH_OK) {
            return rc;
        }
    }
    if (op == LH_OP_INTDIV) {
        name = "//";
    }
    if (op == LH_OP_NE) {
        name = "<>";
    }
    return lh__bind_call(b, name, pos, args, 2, out);
}

static lh_rc
bind_unary(binder *b, bind_scope *s, const lh_ast *n, unsigned flags,
           lh_bexpr **out)
{
    lh_bexpr *arg;
    lh_rc rc = lh__bind_expr(b, s, n->u.unary.arg, flags, &arg);
    if (rc != LH_OK) {
        return rc;
    }
    switch (n->u.unary.op) {
    case LH_OP_NOT:
        rc = to_bool(b, arg, "NOT", &arg);
        if (rc != LH_OK) {
            return rc;
        }
        *out = bx_not(b, arg);
        if (*out) {
            (*out)->pos = n->pos;
        }
        return *out ? LH_OK : LH_ENOMEM;
    case LH_OP_PLUS:
        if (!lh_sql_is_numeric(arg->type.id) && arg->type.id != LH_T_NULL &&
            arg->type.id != LH_T_INTERVAL && !arg->untyped) {
            char tn[48];
            return lh__bind_error(b, LH_EINVAL, n->pos,
                                  "operator does not exist: + %s",
                                  lh_sql_type_text(arg->type, tn));
        }
        if (arg->untyped) {
            return lh__bind_cast(b, arg, lh_sql_type(LH_T_DOUBLE), false, out);
        }
        *out = arg;
        return LH_OK;
    case LH_OP_NEG:
        return lh__bind_call(b, "-", n->pos, &arg, 1, out);
    case LH_OP_BITNOT:
        return lh__bind_call(b, "~", n->pos, &arg, 1, out);
    default:
        return lh__bind_error(b, LH_EINVAL, n->pos, "unknown unary operator");
    }
}

/* ---- CASE, COALESCE and friends --------------------------------------------
 */

/* The common type of n expressions, casting each to it. `what` names the
 * construct for the message. */
static lh_rc
unify(binder *b, lh_bexpr **xs, uint32_t n, const char *what, lh_type *out)
{
    lh_type t = lh_sql_type(LH_T_NULL);
    bool untyped = true;
    for (uint32_t i = 0; i < n; i++) {
        if (xs[i] == NULL) {
            continue;
        }
        lh_type nt;
        if (!lh_sql_common_type(t, untyped && t.id != LH_T_NULL, xs[i]->type,
                                xs[i]->untyped, &nt)) {
            char a[48], c[48];
            return lh__bind_error(b, LH_EINVAL, xs[i]->pos,
                                  "%s types %s and %s cannot be matched", what,
                                  lh_sql_type_text(t, a),
                                  lh_sql_type_text(xs[i]->type, c));
        }
        if (t.id == LH_T_NULL) {
            untyped = xs[i]->untyped;
        } else {
            untyped = untyped && xs[i]->untyped;
        }
        t = nt;
    }
    if (t.id == LH_T_NULL && untyped) {
        /* only NULLs: PostgreSQL calls it text */
    }
    for (uint32_t i = 0; i < n; i++) {
        if (xs[i] == NULL) {
            continue;
        }
        lh_rc rc = lh__bind_cast(b, xs[i], t, false, &xs[i]);
        if (rc != LH_OK) {
            return rc;
        }
    }
    *out = t;
    return LH_OK;
}

static lh_rc
make_case(binder *b, int32_t pos, lh_bexpr **whens, lh_bexpr **thens,
          uint32_t n, lh_bexpr *else_expr, lh_bexpr **out)
{
    lh_bexpr **all = lh__bind_alloc(b, (n + 1) * sizeof(lh_bexpr *));
    if (all == NULL) {
        return LH_ENOMEM;
    }
    memcpy(all, thens, n * sizeof(lh_bexpr *));
    all[n] = else_expr;
    lh_type t;
    lh_rc rc = unify(b, all, n + 1, "CASE", &t);
    if (rc != LH_OK) {
        return rc;
    }
    lh_bexpr *e = bx(b, LH_BX_CASE, t, pos);
    if (e == NULL) {
        return LH_ENOMEM;
    }
    e->u.kase.whens = whens;
    e->u.kase.thens = all;
    e->u.kase.n = n;
    e->u.kase.else_expr = all[n];
    *out = e;
    return LH_OK;
}

static lh_rc
bind_case(binder *b, bind_scope *s, const lh_ast *n, unsigned flags,
          lh_bexpr **out)
{
    uint32_t cnt = n->u.kase.whens.n;
    lh_bexpr **whens = lh__bind_alloc(b, cnt * sizeof(lh_bexpr *));
    lh_bexpr **thens = lh__bind_alloc(b, cnt * sizeof(lh_bexpr *));
    if (whens == NULL || thens == NULL) {
        return LH_ENOMEM;
    }
    lh_bexpr *operand = NULL;
    lh_rc rc = LH_OK;
    if (n->u.kase.operand) {
        rc = lh__bind_expr(b, s, n->u.kase.operand, flags, &operand);
    }
    for (uint32_t i = 0; i < cnt && rc == LH_OK; i++) {
        lh_bexpr *w;
        rc = lh__bind_expr(b, s, n->u.kase.whens.items[i], flags, &w);
        if (rc == LH_OK && operand) {
            lh_bexpr *args[2] = {operand, w};
            rc = lh__bind_call(b, "=", w->pos, args, 2, &w);
        }
        if (rc == LH_OK) {
            rc = to_bool(b, w, "CASE/WHEN", &w);
        }
        whens[i] = w;
        if (rc == LH_OK) {
            rc =
                lh__bind_expr(b, s, n->u.kase.thens.items[i], flags, &thens[i]);
        }
    }
    lh_bexpr *else_expr = NULL;
    if (rc == LH_OK && n->u.kase.else_expr) {
        rc = lh__bind_expr(b, s, n->u.kase.else_expr, flags, &else_expr);
    }
    if (rc != LH_OK) {
        return rc;
    }
    return make_case(b, n->pos, whens, thens, cnt, else_expr, out);
}

static lh_rc
bind_args(binder *b, bind_scope *s, const lh_ast_list *l, unsigned flags,
          lh_bexpr ***out)
{
    *out = lh__bind_alloc(b, (l->n ? l->n : 1) * sizeof(lh_bexpr *));
    if (*out == NULL) {
        return LH_ENOMEM;
    }
    for (uint32_t i = 0; i < l->n; i++) {
        lh_rc rc = lh__bind_expr(b, s, l->items[i], flags, &(*out)[i]);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

/* coalesce, nullif, if / iif, greatest/least handled here or by the
 * registry. *done false when name is none of them. */
static lh_rc
bind_special(binder *b, bind_scope *s, const lh_ast *n, const char *name,
             unsigned flags, lh_bexpr **out, bool *done)
{
    *done = false;
    uint32_t nargs = n->u.func.args.n;
    if (n->u.func.over || n->u.func.distinct || n->u.func.star) {
        return LH_OK;
    }
    bool coalesce = strcmp(name, "coalesce") == 0 ||
                    strcmp(name, "ifnull") == 0 || strcmp(name, "nvl") == 0;
    bool nullif = strcmp(name, "nullif") == 0;
    bool iff = strcmp(name, "if") == 0 || strcmp(name, "iif") == 0 ||
               strcmp(name, "iff") == 0;
    if (!coalesce && !nullif && !iff) {
        return LH_OK;
    }
    *done = true;
    if ((nullif && nargs != 2) || (iff && nargs != 3) ||
        (coalesce && nargs == 0) ||
        (coalesce && strcmp(name, "coalesce") != 0 && nargs != 2)) {
        return lh__bind_error(b, LH_EINVAL, n->pos,
                              "function %s takes %s arguments", name,
                              nullif ? "2"
                              : iff  ? "3"
                                     : "2");
    }
    lh_bexpr **args;
    lh_rc rc = bind_args(b, s, &n->u.func.args, flags, &args);
    if (rc != LH_OK) {
        return rc;
    }
    if (coalesce) {
        lh_type t;
        rc = unify(b, args, nargs, "COALESCE", &t);
        if (rc != LH_OK) {
            return rc;
        }
        *out = lh__bx_list(b, LH_BX_COALESCE, args, nargs, t);
        if (*out) {
            (*out)->pos = n->pos;
        }
        return *out ? LH_OK : LH_ENOMEM;
    }
    if (nullif) {
        /* CASE WHEN a = b THEN NULL ELSE a END, typed as a */
        lh_bexpr *eq;
        lh_bexpr *cmp[2] = {args[0], args[1]};
        rc = lh__bind_call(b, "=", n->pos, cmp, 2, &eq);
        if (rc != LH_OK) {
            return rc;
        }
        lh_type t =
            args[0]->untyped ? lh_sql_type(LH_T_VARCHAR) : args[0]->type;
        lh_bexpr *a0;
        rc = lh__bind_cast(b, args[0], t, false, &a0);
        if (rc != LH_OK) {
            return rc;
        }
        lh_bexpr **w = lh__bind_alloc(b, sizeof(lh_bexpr *));
        lh_bexpr **th = lh__bind_alloc(b, 2 * sizeof(lh_bexpr *));
        lh_bexpr *e = bx(b, LH_BX_CASE, t, n->pos);
        if (!w || !th || !e) {
            return LH_ENOMEM;
        }
        w[0] = eq;
        th[0] = lh__bx_null(b, t);
        th[1] = a0;
        e->u.kase.whens = w;
        e->u.kase.thens = th;
        e->u.kase.n = 1;
        e->u.kase.else_expr = a0;
        *out = e;
        return th[0] ? LH_OK : LH_ENOMEM;
    }
    lh_bexpr *cond;
    rc = to_bool(b, args[0], name, &cond);
    if (rc != LH_OK) {
        return rc;
    }
    lh_bexpr **w = lh__bind_alloc(b, sizeof(lh_bexpr *));
    lh_bexpr **th = lh__bind_alloc(b, sizeof(lh_bexpr *));
    if (!w || !th) {
        return LH_ENOMEM;
    }
    w[0] = cond;
    th[0] = args[1];
    return make_case(b, n->pos, w, th, 1, args[2], out);
}

/* ---- aggregates and windows ------------------------------------------------
 */

static lh_rc
bind_order_keys(binder *b, bind_scope *s, const lh_ast_order_list *o,
                unsigned flags, lh_order_key **out)
{
    *out = lh__bind_alloc(b, (o->n ? o->n : 1) * sizeof(lh_order_key));
    if (*out == NULL) {
        return LH_ENOMEM;
    }
    for (uint32_t i = 0; i < o->n; i++) {
        lh_order_key *k = &(*out)[i];
        lh_rc rc = lh__bind_expr(b, s, o->items[i].expr, flags, &k->expr);
        if (rc != LH_OK) {
            return rc;
        }
        if (k->expr->untyped) {
            rc = lh__bind_cast(b, k->expr, lh_sql_type(LH_T_VARCHAR), false,
                               &k->expr);
            if (rc != LH_OK) {
                return rc;
            }
        }
        k->desc = o->items[i].desc;
        if (o->items[i].nulls_first >= 0) {
            k->nulls_first = o->items[i].nulls_first;
        } else if (b->set->nulls_last_desc) {
            k->nulls_first = false;
        } else if (b->set->nulls_first_asc) {
            k->nulls_first = true;
        } else {
            k->nulls_first = k->desc; /* PostgreSQL */
        }
    }
    return LH_OK;
}

/* One offset bound of a frame: ROWS and GROUPS offsets become BIGINT;
 * a RANGE offset becomes the bound's value, order key -/+ offset (minus
 * for PRECEDING on an ascending key and FOLLOWING on a descending one),
 * so that the executor compares keys with it (plan.h, range_start). */
static lh_rc
bind_frame_offset(binder *b, lh_window_spec *ws, bool start, int32_t pos)
{
    uint8_t kind = start ? ws->start_kind : ws->end_kind;
    lh_bexpr **off = start ? &ws->start : &ws->end;
    if (kind != LH_BOUND_PRECEDING && kind != LH_BOUND_FOLLOWING) {
        return LH_OK;
    }
    if (*off == NULL) {
        return lh__bind_error(b, LH_EINTERNAL, pos, "frame offset missing");
    }
    if (ws->unit != LH_FRAME_RANGE) {
        return lh__bind_cast(b, *off, lh_sql_type(LH_T_BIGINT), false, off);
    }
    if (ws->norder != 1) {
        return lh__bind_error(b, LH_EINVAL, pos,
                              "RANGE with offset PRECEDING/FOLLOWING requires "
                              "exactly one ORDER BY column");
    }
    const lh_order_key *k = &ws->order[0];
    bool minus = (kind == LH_BOUND_PRECEDING) != k->desc;
    lh_bexpr **args = lh__bind_alloc(b, 2 * sizeof(lh_bexpr *));
    if (args == NULL) {
        return LH_ENOMEM;
    }
    args[0] = k->expr;
    args[1] = *off;
    return lh__bind_call(b, minus ? "-" : "+", (*off)->pos, args, 2,
                         start ? &ws->range_start : &ws->range_end);
}

/* Checks a frame clause (PostgreSQL's rules and messages) and binds its
 * offsets. */
static lh_rc
bind_frame(binder *b, lh_window_spec *ws, int32_t pos)
{
    if (ws->unit == LH_FRAME_DEFAULT) {
        return LH_OK;
    }
    uint8_t sk = ws->start_kind, ek = ws->end_kind;
    const char *msg = NULL;
    if (sk == LH_BOUND_UNBOUNDED_FOLLOWING) {
        msg = "frame start cannot be UNBOUNDED FOLLOWING";
    } else if (ek == LH_BOUND_UNBOUNDED_PRECEDING) {
        msg = "frame end cannot be UNBOUNDED PRECEDING";
    } else if (sk == LH_BOUND_CURRENT_ROW && ek == LH_BOUND_PRECEDING) {
        msg = "frame starting from current row cannot have preceding rows";
    } else if (sk == LH_BOUND_FOLLOWING &&
               (ek == LH_BOUND_PRECEDING || ek == LH_BOUND_CURRENT_ROW)) {
        msg = "frame starting from following row cannot have preceding "
              "rows";
    } else if (ws->unit == LH_FRAME_GROUPS && ws->norder == 0) {
        msg = "GROUPS mode requires an ORDER BY clause";
    }
    if (msg) {
        return lh__bind_error(b, LH_EINVAL, pos, "%s", msg);
    }
    lh_rc rc = bind_frame_offset(b, ws, true, pos);
    if (rc == LH_OK) {
        rc = bind_frame_offset(b, ws, false, pos);
    }
    if (rc != LH_OK || (ws->range_start == NULL && ws->range_end == NULL)) {
        return rc;
    }
    /* one type for the key and both bounds (date - interval is a
     * timestamp: the date key is compared as one) */
    lh_type t = ws->range_start ? ws->range_start->type : ws->range_end->type;
    if (ws->range_start && ws->range_end) {
        rc = lh__bind_cast(b, ws->range_end, t, false, &ws->range_end);
    }
    if (rc == LH_OK) {
        rc = lh__bind_cast(b, ws->order[0].expr, t, false, &ws->range_key);
    }
    return rc;
}

/* The window w names or refines, merged by PostgreSQL's rules: a
 * refinement takes the base's PARTITION BY, adds an ORDER BY only when
 * the base has none, and may not copy a base with a frame (OVER w, the
 * bare name, is the base itself). A definition sees only the definitions
 * before it (limit). */
static lh_rc
merge_window(binder *b, const lh_ast_window *w, bool over, uint32_t limit,
             int depth, lh_ast_window *out)
{
    *out = *w;
    const char *bname = w->base ? w->base
                        : (over && w->partition.n == 0 && w->order.n == 0 &&
                           w->unit == LH_FRAME_DEFAULT)
                            ? w->name
                            : NULL;
    if (bname == NULL) {
        return LH_OK;
    }
    uint32_t bi = 0;
    while (bi < limit && !(b->windows[bi]->name &&
                           strcmp(b->windows[bi]->name, bname) == 0)) {
        bi++;
    }
    if (bi == limit || depth > 32) {
        return lh__bind_error(b, LH_EINVAL, w->pos,
                              "window \"%s\" does not exist", bname);
    }
    lh_ast_window base;
    lh_rc rc = merge_window(b, b->windows[bi], false, bi, depth + 1, &base);
    if (rc != LH_OK) {
        return rc;
    }
    if (w->base == NULL) { /* OVER w */
        *out = base;
        return LH_OK;
    }
    const char *msg = NULL;
    if (w->partition.n) {
        msg = "cannot override PARTITION BY clause of window \"%s\"";
    } else if (w->order.n && base.order.n) {
        msg = "cannot override ORDER BY clause of window \"%s\"";
    } else if (base.unit != LH_FRAME_DEFAULT) {
        msg = "cannot copy window \"%s\" because it has a frame clause";
    }
    if (msg) {
        return lh__bind_error(b, LH_EINVAL, w->pos, msg, bname);
    }
    out->partition = base.partition;
    if (w->order.n == 0) {
        out->order = base.order;
    }
    out->base = NULL;
    return LH_OK;
}

static lh_rc
bind_window_spec(binder *b, bind_scope *s, const lh_ast_window *aw,
                 unsigned flags, lh_window_spec **out)
{
    lh_ast_window mw;
    lh_rc rc = merge_window(b, aw, true, b->nwindows, 0, &mw);
    if (rc != LH_OK) {
        return rc;
    }
    const lh_ast_window *w = &mw;
    lh_window_spec *ws = lh__bind_alloc(b, sizeof(lh_window_spec));
    if (ws == NULL) {
        return LH_ENOMEM;
    }
    const lh_ast_list *part = &w->partition;
    const lh_ast_order_list *ord = &w->order;
    const lh_ast_window *frame = w;
    unsigned f = flags & ~(unsigned)BX_ALLOW_WINDOW;
    rc = bind_args(b, s, part, f, &ws->partition);
    if (rc != LH_OK) {
        return rc;
    }
    ws->npartition = part->n;
    rc = bind_order_keys(b, s, ord, f, &ws->order);
    if (rc != LH_OK) {
        return rc;
    }
    ws->norder = ord->n;
    ws->unit = frame->unit;
    ws->start_kind = frame->start_kind;
    ws->end_kind = frame->end_kind;
    ws->exclude = frame->exclude;
    if (frame->start) {
        rc = lh__bind_expr(b, s, frame->start, f, &ws->start);
    }
    if (rc == LH_OK && frame->end) {
        rc = lh__bind_expr(b, s, frame->end, f, &ws->end);
    }
    if (rc == LH_OK) {
        rc = bind_frame(b, ws, frame->pos);
    }
    *out = ws;
    return rc;
}

static lh_rc
bind_aggregate(binder *b, bind_scope *s, const lh_ast *n, const char *name,
               unsigned flags, lh_bexpr **out, bool *done)
{
    *done = false;
    uint32_t ncands = 0;
    const lh_fn_def *const *cands =
        b->cat->functions ? lh_fn_lookup(b->cat->functions, name, &ncands)
                          : NULL;
    bool agg = false, win = false;
    for (uint32_t i = 0; i < ncands; i++) {
        agg |= cands[i]->kind == LH_FN_AGGREGATE;
        win |= cands[i]->kind == LH_FN_WINDOW;
    }
    if (n->u.func.star && strcmp(name, "count") == 0) {
        name = "count_star";
        cands = lh_fn_lookup(b->cat->functions, name, &ncands);
        agg = true;
    }
    if (!agg && !win) {
        if (n->u.func.over) {
            *done = true;
            return lh__bind_error(b, LH_EINVAL, n->pos,
                                  "function %s is not a window function nor "
                                  "an aggregate",
                                  name);
        }
        return LH_OK;
    }
    *done = true;
    bool over = n->u.func.over != NULL;
    if (win && !agg && !over) {
        return lh__bind_error(b, LH_EINVAL, n->pos,
                              "window function %s requires an OVER clause",
                              name);
    }
    if (over && !(flags & BX_ALLOW_WINDOW)) {
        return lh__bind_error(b, LH_EINVAL, n->pos,
                              "window functions are not allowed here");
    }
    if (!over && !(flags & BX_ALLOW_AGG)) {
        return lh__bind_error(b, LH_EINVAL, n->pos,
                              (flags & BX_IN_AGG)
                                  ? "aggregate function calls cannot be "
                                    "nested"
                                  : "aggregate functions are not allowed "
                                    "here");
    }
    if (n->u.func.star && strcmp(name, "count_star") != 0) {
        return lh__bind_error(b, LH_EINVAL, n->pos, "%s(*) is not allowed",
                              name);
    }
    /* an aggregate's arguments hold no aggregate; a window aggregate's
     * may hold the query's (sum(sum(x)) OVER (...) after GROUP BY) */
    unsigned af = over ? flags & ~(unsigned)BX_ALLOW_WINDOW
                       : (flags & ~(unsigned)(BX_ALLOW_AGG | BX_ALLOW_WINDOW)) |
                             BX_IN_AGG;
    /* ordered-set aggregates: percentile_cont(0.5) WITHIN GROUP (ORDER BY
     * x) is percentile_cont(x, 0.5) */
    const lh_ast_list *al = &n->u.func.args;
    uint32_t nargs = al->n;
    lh_bexpr **args;
    lh_rc rc;
    if (n->u.func.within_group.n) {
        if (n->u.func.within_group.n != 1) {
            return lh__bind_error(b, LH_EUNSUPPORTED, n->pos,
                                  "unsupported: WITHIN GROUP with more than "
                                  "one sort key");
        }
        args = lh__bind_alloc(b, (nargs + 1) * sizeof(lh_bexpr *));
        if (args == NULL) {
            return LH_ENOMEM;
        }
        rc = lh__bind_expr(b, s, n->u.func.within_group.items[0].expr, af,
                           &args[0]);
        for (uint32_t i = 0; i < nargs && rc == LH_OK; i++) {
            rc = lh__bind_expr(b, s, al->items[i], af, &args[i + 1]);
        }
        nargs++;
        if (rc == LH_OK && n->u.func.within_group.items[0].desc) {
            return lh__bind_error(b, LH_EUNSUPPORTED, n->pos,
                                  "unsupported: WITHIN GROUP (ORDER BY ... "
                                  "DESC)");
        }
    } else {
        rc = bind_args(b, s, al, af, &args);
    }
    if (rc != LH_OK) {
        return rc;
    }
    lh_type want[16];
    if (nargs > 16) {
        return lh__bind_error(b, LH_EINVAL, n->pos, "too many arguments for %s",
                              name);
    }
    const lh_fn_def *fn;
    lh_type ret;
    rc = resolve(b, name, n->pos, over && win ? LH_FN_WINDOW : LH_FN_AGGREGATE,
                 args, nargs, &fn, want, &ret);
    if (rc == LH_EINVAL && over && agg && win) {
        rc = resolve(b, name, n->pos, LH_FN_WINDOW, args, nargs, &fn, want,
                     &ret);
    }
    if (rc != LH_OK) {
        return rc;
    }
    rc = cast_args(b, args, nargs, want);
    if (rc != LH_OK) {
        return rc;
    }
    lh_bexpr *e = bx(b, over ? LH_BX_WINDOW : LH_BX_AGG, ret, n->pos);
    if (e == NULL) {
        return LH_ENOMEM;
    }
    e->u.agg.fn = fn;
    e->u.agg.args = args;
    e->u.agg.nargs = nargs;
    e->u.agg.distinct =
        n->u.func.distinct && !(fn->flags & LH_FN_NO_ORDER_DEPENDENCE);
    e->u.agg.ignore_nulls = n->u.func.ignore_nulls;
    if (n->u.func.filter) {
        rc = lh__bind_bool(b, s, n->u.func.filter, af, "FILTER",
                           &e->u.agg.filter);
        if (rc != LH_OK) {
            return rc;
        }
    }
    if (n->u.func.order.n) {
        rc = bind_order_keys(b, s, &n->u.func.order, af, &e->u.agg.order);
        if (rc != LH_OK) {
            return rc;
        }
        e->u.agg.norder = n->u.func.order.n;
    }
    if (over) {
        /* a window's arguments may hold aggregates of the query level
         * (rank() OVER (ORDER BY sum(x))) */
        unsigned wf = flags & ~(unsigned)BX_ALLOW_WINDOW;
        rc = bind_window_spec(b, s, n->u.func.over, wf, &e->u.agg.over);
        if (rc != LH_OK) {
            return rc;
        }
    }
    *out = e;
    return LH_OK;
}

lh_rc
lh__bind_agg_call(binder *b, const char *name, int32_t pos, lh_bexpr **args,
                  uint32_t nargs, lh_bexpr **out)
{
    lh_type want[16];
    const lh_fn_def *fn;
    lh_type ret;
    if (nargs > 16) {
        return lh__bind_error(b, LH_EINVAL, pos, "too many arguments for %s",
                              name);
    }
    lh_rc rc =
        resolve(b, name, pos, LH_FN_AGGREGATE, args, nargs, &fn, want, &ret);
    if (rc == LH_OK) {
        rc = cast_args(b, args, nargs, want);
    }
    if (rc != LH_OK) {
        return rc;
    }
    lh_bexpr *e = bx(b, LH_BX_AGG, ret, pos);
    lh_bexpr **a = lh__bind_alloc(b, (nargs ? nargs : 1) * sizeof(lh_bexpr *));
    if (e == NULL || a == NULL) {
        return LH_ENOMEM;
    }
    memcpy(a, args, nargs * sizeof(lh_bexpr *));
    e->u.agg.fn = fn;
    e->u.agg.args = a;
    e->u.agg.nargs = nargs;
    *out = e;
    return LH_OK;
}

static lh_rc
bind_func(binder *b, bind_scope *s, const lh_ast *n, unsigned flags,
          lh_bexpr **out)
{
    const lh_ast_name *nm = &n->u.func.name;
    const char *name = nm->parts[nm->n - 1];
    if (nm->n > 1 && strcmp(nm->parts[0], "pg_catalog") != 0 &&
        strcmp(nm->parts[0], "main") != 0) {
        return lh__bind_error(b, LH_EINVAL, n->pos,
                              "schema \"%s\" does not exist", nm->parts[0]);
    }
    bool done;
    lh_rc rc = bind_special(b, s, n, name, flags, out, &done);
    if (rc != LH_OK || done) {
        return rc;
    }
    rc = bind_aggregate(b, s, n, name, flags, out, &done);
    if (rc != LH_OK || done) {
        return rc;
    }
    if (strcmp(name, "grouping") == 0) {
        /* GROUPING(a, b): checked against the GROUP BY keys and rewritten
         * over the grouping id when the query's aggregate is made */
        if (!(flags & BX_ALLOW_AGG) || (flags & BX_IN_AGG)) {
            return lh__bind_error(b, LH_EINVAL, n->pos,
                                  "GROUPING is not allowed here");
        }
        uint32_t na = n->u.func.args.n;
        if (na == 0 || na > 31) {
            return lh__bind_error(b, LH_EINVAL, n->pos,
                                  "GROUPING takes 1 to 31 arguments");
        }
        lh_bexpr **args = lh__bind_alloc(b, na * sizeof(lh_bexpr *));
        if (args == NULL) {
            return LH_ENOMEM;
        }
        for (uint32_t i = 0; i < na; i++) {
            rc = lh__bind_expr(b, s, n->u.func.args.items[i], 0, &args[i]);
            if (rc != LH_OK) {
                return rc;
            }
        }
        *out =
            lh__bx_list(b, LH_BX_GROUPING, args, na, lh_sql_type(LH_T_INTEGER));
        if (*out == NULL) {
            return LH_ENOMEM;
        }
        (*out)->pos = n->pos;
        return LH_OK;
    }
    if (n->u.func.distinct || n->u.func.star || n->u.func.filter ||
        n->u.func.order.n) {
        return lh__bind_error(b, LH_EINVAL, n->pos,
                              "%s is not an aggregate function; DISTINCT, *, "
                              "ORDER BY and FILTER are for aggregates",
                              name);
    }
    lh_bexpr **args;
    rc = bind_args(b, s, &n->u.func.args, flags, &args);
    if (rc != LH_OK) {
        return rc;
    }
    return lh__bind_call(b, name, n->pos, args, n->u.func.args.n, out);
}

/* ---- IN, BETWEEN, LIKE, IS -------------------------------------------------
 */

static lh_rc
bind_in_list(binder *b, bind_scope *s, const lh_ast *n, unsigned flags,
             lh_bexpr **out)
{
    uint32_t cnt = n->u.in_list.list.n;
    lh_bexpr **xs = lh__bind_alloc(b, (cnt + 1) * sizeof(lh_bexpr *));
    if (xs == NULL) {
        return LH_ENOMEM;
    }
    lh_rc rc = lh__bind_expr(b, s, n->u.in_list.arg, flags, &xs[0]);
    for (uint32_t i = 0; i < cnt && rc == LH_OK; i++) {
        const lh_ast *item = n->u.in_list.list.items[i];
        if (item->kind == LH_AST_ROW) {
            return lh__bind_error(b, LH_EUNSUPPORTED, item->pos,
                                  "unsupported: row values in IN");
        }
        rc = lh__bind_expr(b, s, item, flags, &xs[i + 1]);
    }
    if (rc != LH_OK) {
        return rc;
    }
    if (cnt == 0) {
        /* x IN () (SQLite): false; NOT IN (): true */
        *out = lh__bx_bool(b, n->u.in_list.negated);
        return *out ? LH_OK : LH_ENOMEM;
    }
    lh_type t;
    rc = unify(b, xs, cnt + 1, "IN", &t);
    if (rc != LH_OK) {
        return rc;
    }
    /* the comparison must exist for that type */
    lh_bexpr *probe;
    lh_bexpr *pargs[2] = {xs[0], xs[1]};
    rc = lh__bind_call(b, "=", n->pos, pargs, 2, &probe);
    if (rc != LH_OK) {
        return rc;
    }
    lh_bexpr *e = bx(b, LH_BX_IN, lh_sql_type(LH_T_BOOLEAN), n->pos);
    if (e == NULL) {
        return LH_ENOMEM;
    }
    e->negated = n->u.in_list.negated;
    e->u.in.arg = xs[0];
    e->u.in.list = xs + 1;
    e->u.in.n = cnt;
    *out = e;
    return LH_OK;
}

static lh_rc
bind_between(binder *b, bind_scope *s, const lh_ast *n, unsigned flags,
             lh_bexpr **out)
{
    lh_bexpr *x, *lo, *hi;
    lh_rc rc = lh__bind_expr(b, s, n->u.between.arg, flags, &x);
    if (rc == LH_OK) {
        rc = lh__bind_expr(b, s, n->u.between.lo, flags, &lo);
    }
    if (rc == LH_OK) {
        rc = lh__bind_expr(b, s, n->u.between.hi, flags, &hi);
    }
    if (rc != LH_OK) {
        return rc;
    }
    /* one type for all three, as PostgreSQL resolves the two comparisons
     * together */
    lh_bexpr *xs[3] = {x, lo, hi};
    lh_type t;
    rc = unify(b, xs, 3, "BETWEEN", &t);
    if (rc != LH_OK) {
        return rc;
    }
    x = xs[0];
    lo = xs[1];
    hi = xs[2];
    lh_bexpr *c[2];
    lh_bexpr *a1[2] = {x, lo}, *a2[2] = {x, hi};
    rc = lh__bind_call(b, ">=", n->pos, a1, 2, &c[0]);
    if (rc == LH_OK) {
        rc = lh__bind_call(b, "<=", n->pos, a2, 2, &c[1]);
    }
    if (rc != LH_OK) {
        return rc;
    }
    lh_bexpr *e = lh__bx_list(b, LH_BX_AND, c, 2, lh_sql_type(LH_T_BOOLEAN));
    if (e == NULL) {
        return LH_ENOMEM;
    }
    if (n->u.between.symmetric) {
        lh_bexpr *d[2];
        lh_bexpr *a3[2] = {x, hi}, *a4[2] = {x, lo};
        rc = lh__bind_call(b, ">=", n->pos, a3, 2, &d[0]);
        if (rc == LH_OK) {
            rc = lh__bind_call(b, "<=", n->pos, a4, 2, &d[1]);
        }
        if (rc != LH_OK) {
            return rc;
        }
        lh_bexpr *e2 =
            lh__bx_list(b, LH_BX_AND, d, 2, lh_sql_type(LH_T_BOOLEAN));
        lh_bexpr *both[2] = {e, e2};
        e = e2 ? lh__bx_list(b, LH_BX_OR, both, 2, lh_sql_type(LH_T_BOOLEAN))
               : NULL;
        if (e == NULL) {
            return LH_ENOMEM;
        }
    }
    e->pos = n->pos;
    *out = n->u.between.negated ? bx_not(b, e) : e;
    return *out ? LH_OK : LH_ENOMEM;
}

static lh_rc
bind_like(binder *b, bind_scope *s, const lh_ast *n, unsigned flags,
          lh_bexpr **out)
{
    if (n->u.like.similar) {
        return lh__bind_error(b, LH_EUNSUPPORTED, n->pos,
                              "unsupported: SIMILAR TO (use ~ with a regular "
                              "expression)");
    }
    lh_bexpr *args[3];
    uint32_t nargs = 2;
    lh_rc rc = lh__bind_expr(b, s, n->u.like.arg, flags, &args[0]);
    if (rc == LH_OK) {
        rc = lh__bind_expr(b, s, n->u.like.pattern, flags, &args[1]);
    }
    if (rc == LH_OK && n->u.like.escape) {
        rc = lh__bind_expr(b, s, n->u.like.escape, flags, &args[2]);
        nargs = 3;
    }
    if (rc != LH_OK) {
        return rc;
    }
    rc = lh__bind_call(b, n->u.like.ilike ? "ilike" : "like", n->pos, args,
                       nargs, out);
    if (rc != LH_OK) {
        return rc;
    }
    if (n->u.like.negated) {
        *out = bx_not(b, *out);
    }
    return *out ? LH_OK : LH_ENOMEM;
}

static lh_rc
bind_is(binder *b, bind_scope *s, const lh_ast *n, unsigned flags,
        lh_bexpr **out)
{
    lh_bexpr *x;
    lh_rc rc = lh__bind_expr(b, s, n->u.is.arg, flags, &x);
    if (rc != LH_OK) {
        return rc;
    }
    lh_type bt = lh_sql_type(LH_T_BOOLEAN);
    switch ((lh_is_kind)n->u.is.what) {
    case LH_IS_NULL:
    case LH_IS_UNKNOWN:
        if (n->u.is.what == LH_IS_UNKNOWN) {
            rc = to_bool(b, x, "IS UNKNOWN", &x);
            if (rc != LH_OK) {
                return rc;
            }
        }
        *out = lh__bx_list(b, LH_BX_IS_NULL, &x, 1, bt);
        if (*out) {
            (*out)->negated = n->u.is.negated;
            (*out)->pos = n->pos;
        }
        return *out ? LH_OK : LH_ENOMEM;
    case LH_IS_TRUE:
    case LH_IS_FALSE:
        rc = to_bool(b, x, "IS", &x);
        if (rc != LH_OK) {
            return rc;
        }
        *out = lh__bx_list(b, LH_BX_IS_BOOL, &x, 1, bt);
        if (*out) {
            (*out)->what = n->u.is.what == LH_IS_TRUE;
            (*out)->negated = n->u.is.negated;
            (*out)->pos = n->pos;
        }
        return *out ? LH_OK : LH_ENOMEM;
    case LH_IS_DISTINCT_FROM: {
        lh_bexpr *y;
        rc = lh__bind_expr(b, s, n->u.is.right, flags, &y);
        if (rc != LH_OK) {
            return rc;
        }
        lh_bexpr *xs[2] = {x, y};
        lh_type t;
        rc = unify(b, xs, 2, "IS DISTINCT FROM", &t);
        if (rc != LH_OK) {
            return rc;
        }
        x = xs[0];
        y = xs[1];
        /* not distinct: CASE WHEN x IS NULL THEN y IS NULL WHEN y IS NULL
         * THEN false ELSE x = y END; distinct is its negation (never
         * NULL) */
        lh_bexpr *xn = lh__bx_list(b, LH_BX_IS_NULL, &x, 1, bt);
        lh_bexpr *yn = lh__bx_list(b, LH_BX_IS_NULL, &y, 1, bt);
        lh_bexpr *eq;
        lh_bexpr *args[2] = {x, y};
        rc = lh__bind_call(b, "=", n->pos, args, 2, &eq);
        if (rc != LH_OK) {
            return rc;
        }
        lh_bexpr **w = lh__bind_alloc(b, 2 * sizeof(lh_bexpr *));
        lh_bexpr **th = lh__bind_alloc(b, 2 * sizeof(lh_bexpr *));
        lh_bexpr *f = lh__bx_bool(b, false);
        if (!xn || !yn || !w || !th || !f) {
            return LH_ENOMEM;
        }
        w[0] = xn;
        th[0] = yn;
        w[1] = yn;
        th[1] = f;
        lh_bexpr *e = bx(b, LH_BX_CASE, bt, n->pos);
        if (e == NULL) {
            return LH_ENOMEM;
        }
        e->u.kase.whens = w;
        e->u.kase.thens = th;
        e->u.kase.n = 2;
        e->u.kase.else_expr = eq;
        *out = n->u.is.negated ? e : bx_not(b, e);
        return *out ? LH_OK : LH_ENOMEM;
    }
    }
    return lh__bind_error(b, LH_EINVAL, n->pos, "unknown IS test");
}

/* ---- subqueries -------------------------------------------------------------
 */

lh_rc
lh__bind_subquery(binder *b, bind_scope *s, const lh_ast *q, lh_plan **out,
                  bind_scope *child)
{
    /* the child scope collects correlation; lh__bind_query makes the
     * SELECT's own scope below it */
    memset(child, 0, sizeof *child);
    child->parent = s;
    return lh__bind_query(b, child, q, out);
}

static lh_rc
bind_sub(binder *b, bind_scope *s, const lh_ast *n, unsigned flags,
         lh_bexpr **out)
{
    const lh_ast *q = n->kind == LH_AST_SUBQUERY   ? n->u.subquery.query
                      : n->kind == LH_AST_EXISTS   ? n->u.exists.query
                      : n->kind == LH_AST_IN_QUERY ? n->u.in_query.query
                                                   : n->u.quantified.query;
    bind_scope child;
    lh_plan *p;
    lh_rc rc = lh__bind_subquery(b, s, q, &p, &child);
    if (rc != LH_OK) {
        return rc;
    }
    lh_bexpr *e = bx(b, LH_BX_SUBQUERY, lh_sql_type(LH_T_BOOLEAN), n->pos);
    if (e == NULL) {
        return LH_ENOMEM;
    }
    e->u.sub.plan = p;
    e->u.sub.outer = child.outer;
    e->u.sub.nouter = child.nouter;
    if (child.nouter) {
        e->u.sub.outer_types =
            lh__bind_alloc(b, child.nouter * sizeof(lh_type));
        if (e->u.sub.outer_types == NULL) {
            return LH_ENOMEM;
        }
        for (uint32_t i = 0; i < child.nouter; i++) {
            e->u.sub.outer_types[i] = b->id_types[child.outer[i]];
        }
    }
    switch (n->kind) {
    case LH_AST_SUBQUERY:
        if (p->ncols != 1) {
            return lh__bind_error(b, LH_EINVAL, n->pos,
                                  "subquery must return only one column");
        }
        e->u.sub.kind = LH_SUBQ_SCALAR;
        e->type = p->types[0];
        *out = e;
        return LH_OK;
    case LH_AST_EXISTS:
        e->u.sub.kind = LH_SUBQ_EXISTS;
        *out = n->u.exists.negated ? bx_not(b, e) : e;
        return *out ? LH_OK : LH_ENOMEM;
    default:
        break;
    }
    if (p->ncols != 1) {
        return lh__bind_error(b, LH_EINVAL, n->pos,
                              "subquery has too %s columns",
                              p->ncols > 1 ? "many" : "few");
    }
    const lh_ast *arg_ast =
        n->kind == LH_AST_IN_QUERY ? n->u.in_query.arg : n->u.quantified.arg;
    lh_bexpr *arg;
    rc = lh__bind_expr(b, s, arg_ast, flags, &arg);
    if (rc != LH_OK) {
        return rc;
    }
    /* the comparison decides the types: arg op (the subquery's column) */
    lh_bexpr *col = lh__bx_col(b, p->cols[0], p->types[0]);
    if (col == NULL) {
        return LH_ENOMEM;
    }
    uint8_t op = n->kind == LH_AST_IN_QUERY ? LH_OP_EQ : n->u.quantified.op;
    lh_bexpr *cmp;
    lh_bexpr *args[2] = {arg, col};
    rc = lh__bind_call(b, lh_sql_op_text((lh_op)op), n->pos, args, 2, &cmp);
    if (rc != LH_OK) {
        return rc;
    }
    e->u.sub.kind = n->kind == LH_AST_IN_QUERY ? LH_SUBQ_IN
                    : n->u.quantified.all      ? LH_SUBQ_ALL
                                               : LH_SUBQ_ANY;
    e->u.sub.op = op;
    e->u.sub.arg = cmp; /* arg op col, with col the subquery's column */
    e->u.sub.cmp = cmp->u.call.fn;
    *out = (n->kind == LH_AST_IN_QUERY && n->u.in_query.negated) ? bx_not(b, e)
                                                                 : e;
    return *out ? LH_OK : LH_ENOMEM;
}

/* ---- the dispatcher
 * ----------------------------------------------------------- */

lh_rc
lh__bind_expr(binder *b, bind_scope *s, const lh_ast *e, unsigned flags,
              lh_bexpr **out)
{
    if (++b->depth > LH_SQL_MAX_DEPTH * 2) {
        b->depth--;
        return lh__bind_error(b, LH_ELIMIT, e->pos,
                              "expression nested too deeply");
    }
    lh_rc rc;
    switch ((lh_ast_kind)e->kind) {
    case LH_AST_LITERAL:
        rc = bind_literal(b, e, out);
        break;
    case LH_AST_COLREF:
        rc = lh__bind_colref(b, s, e, out);
        if (rc == LH_EINVAL && b->alias_names && s == b->alias_scope &&
            e->u.colref.name.n == 1) {
            for (uint32_t i = 0; i < b->nalias; i++) {
                if (b->alias_names[i] && b->alias_asts[i] &&
                    strcasecmp(b->alias_names[i], e->u.colref.name.parts[0]) ==
                        0) {
                    /* once: an alias inside its own target is a column */
                    const char *const *names = b->alias_names;
                    lh_err_clear(b->err);
                    b->alias_names = NULL;
                    rc = lh__bind_expr(b, s, b->alias_asts[i], flags, out);
                    b->alias_names = names;
                    break;
                }
            }
        }
        break;
    case LH_AST_PARAM:
        rc = bind_param(b, e, out);
        break;
    case LH_AST_UNARY:
        rc = bind_unary(b, s, e, flags, out);
        break;
    case LH_AST_BINARY:
        rc = bind_binary(b, s, e, flags, out);
        break;
    case LH_AST_FUNC:
        rc = bind_func(b, s, e, flags, out);
        break;
    case LH_AST_CAST: {
        lh_bexpr *x;
        lh_type t;
        rc = lh__bind_expr(b, s, e->u.cast.arg, flags, &x);
        if (rc == LH_OK) {
            rc = type_from_text(b, e->u.cast.type_text, e->u.cast.type_pos, &t);
        }
        if (rc == LH_OK && e->u.cast.try_cast && x->kind == LH_BX_CONST &&
            x->untyped) {
            /* TRY_CAST('x' AS INT): NULL instead of the literal's error */
            rc = lh__bind_cast(b, x, t, true, out);
            if (rc == LH_EINVAL) {
                lh_err_clear(b->err);
                *out = lh__bx_null(b, t);
                rc = *out ? LH_OK : LH_ENOMEM;
            }
            break;
        }
        if (rc == LH_OK) {
            rc = lh__bind_cast(b, x, t, true, out);
        }
        if (rc == LH_OK && (*out)->kind == LH_BX_CAST) {
            (*out)->u.cast.try_cast = e->u.cast.try_cast;
            (*out)->pos = e->pos;
        }
        break;
    }
    case LH_AST_CASE:
        rc = bind_case(b, s, e, flags, out);
        break;
    case LH_AST_BETWEEN:
        rc = bind_between(b, s, e, flags, out);
        break;
    case LH_AST_IN_LIST:
        rc = bind_in_list(b, s, e, flags, out);
        break;
    case LH_AST_IN_QUERY:
    case LH_AST_EXISTS:
    case LH_AST_SUBQUERY:
    case LH_AST_QUANTIFIED:
        rc = bind_sub(b, s, e, flags, out);
        break;
    case LH_AST_LIKE:
        rc = bind_like(b, s, e, flags, out);
        break;
    case LH_AST_IS:
        rc = bind_is(b, s, e, flags, out);
        break;
    case LH_AST_ARRAY: {
        /* [1, 2, 3]: the text of a vector, typed by its context */
        lh_buf t = LH_BUF_INIT;
        lh_buf_putc(&t, '[');
        rc = LH_OK;
        for (uint32_t i = 0; i < e->u.array.items.n && rc == LH_OK; i++) {
            const lh_ast *it = e->u.array.items.items[i];
            if (it->kind != LH_AST_LITERAL ||
                (it->u.lit.kind != LH_LIT_INT &&
                 it->u.lit.kind != LH_LIT_NUMBER)) {
                rc = lh__bind_error(b, LH_EUNSUPPORTED, it->pos,
                                    "unsupported: lists other than constant "
                                    "vectors of numbers");
                break;
            }
            lh_buf_printf(&t, "%s%s", i ? "," : "", it->u.lit.text);
        }
        lh_buf_putc(&t, ']');
        if (rc == LH_OK) {
            lh_value v = {.type = lh_sql_type(LH_T_VARCHAR)};
            char *p = lh_arena_strndup(b->a, t.data ? t.data : "", t.len);
            v.u.s.p = p;
            v.u.s.len = t.len;
            *out = p ? lh__bx_const(b, &v, e->pos) : NULL;
            if (*out) {
                (*out)->untyped = true;
            }
            rc = *out ? LH_OK : lh__bind_nomem(b);
        }
        lh_buf_release(&t);
        break;
    }
    case LH_AST_STAR:
        rc = lh__bind_error(b, LH_EINVAL, e->pos,
                            "\"*\" is only allowed in a SELECT list or "
                            "count(*)");
        break;
    case LH_AST_ROW:
        rc = lh__bind_error(b, LH_EUNSUPPORTED, e->pos,
                            "unsupported: row values");
        break;
    case LH_AST_INDEX:
        rc = lh__bind_error(b, LH_EUNSUPPORTED, e->pos,
                            "unsupported: subscripts");
        break;
    default:
        rc = lh__bind_error(b, LH_EINVAL, e->pos, "%s is not an expression",
                            lh_sql_ast_kind_name((lh_ast_kind)e->kind));
        break;
    }
    b->depth--;
    return rc;
}
