/*
 * The optimizer: rewrites a bound plan before it runs.
 *
 *   1. fold: constant subexpressions become constants (through the
 *      executor's evaluator), AND/OR/CASE simplify around constants;
 *   2. decorrelate: EXISTS / NOT EXISTS / IN (subquery) conjuncts whose
 *      correlation is a set of conjuncts of the subquery's WHERE become
 *      semi and anti joins;
 *   3. push filters: conjuncts move down through projections, sorts,
 *      distinct, set operations and aggregates (on grouping columns) into
 *      join sides and scans; a cross join with a condition becomes an
 *      inner join, and equalities across its sides become hash keys;
 *   4. order joins: a chain of inner joins is rebuilt greedily, smallest
 *      input first, always joining a relation connected by a key;
 *   5. prune columns: every node produces only what is used above, so a
 *      scan reads only those columns;
 *   6. scan predicates: conjuncts "column op constant" pushed into a scan
 *      become lh_scan_pred (row-group, page and bloom pruning; shards and
 *      tiers), and the ts range of an event table is extracted;
 *   7. nearest neighbours: ORDER BY distance(column, constant) LIMIT k
 *      over a scan of a table with a vector index marks the scan to ask
 *      the index for k rows (opt_vector.c).
 * It runs before anyone executes the plan and rewrites it in place.
 */
#include <string.h>

#include "sql/optimize_int.h"
#include "sql/plan.h"
#include "sql/types.h"

typedef struct opt {
    const lh_sql_settings *set;
    lh_sql_fold_fn fold;
    void *fold_ud;
    lh_arena *a;
    lh_err *err;
    bool oom;
} opt;

static void *
oalloc(opt *o, size_t n)
{
    void *p = lh_arena_calloc(o->a, n);
    if (p == NULL) {
        o->oom = true;
    }
    return p;
}

/* ---- id sets ----------------------------------------------------------------
 */

typedef struct idset {
    uint32_t *ids;
    uint32_t n, cap;
} idset;

static bool
ids_has(const idset *s, uint32_t id)
{
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->ids[i] == id) {
            return true;
        }
    }
    return false;
}

static void
ids_add(opt *o, idset *s, uint32_t id)
{
    if (ids_has(s, id)) {
        return;
    }
    uint32_t *n =
        lh_sql_grow(o->a, s->ids, s->n, &s->cap, sizeof(uint32_t), 16);
    if (n == NULL) {
        o->oom = true;
        return;
    }
    s->ids = n;
    s->ids[s->n++] = id;
}

static void
ids_of_plan(opt *o, const lh_plan *p, idset *s)
{
    for (uint32_t i = 0; i < p->ncols; i++) {
        ids_add(o, s, p->cols[i]);
    }
}

typedef struct refs_ud {
    opt *o;
    idset *s;
    bool volatile_;
    bool subquery;
} refs_ud;

static bool
refs_fn(lh_bexpr *e, void *ud)
{
    refs_ud *r = ud;
    if (e->kind == LH_BX_COL) {
        ids_add(r->o, r->s, e->u.col);
    } else if (e->kind == LH_BX_SUBQUERY) {
        r->subquery = true;
        for (uint32_t i = 0; i < e->u.sub.nouter; i++) {
            ids_add(r->o, r->s, e->u.sub.outer[i]);
        }
    } else if (e->kind == LH_BX_CALL &&
               (e->u.call.fn->flags & LH_FN_VOLATILE)) {
        r->volatile_ = true;
    }
    return true;
}

/* The column ids an expression reads (subqueries: their outer columns). */
static void
expr_refs(opt *o, const lh_bexpr *e, idset *s, bool *volatile_)
{
    refs_ud r = {o, s, false, false};
    if (e) {
        extern void lh__bx_walk(lh_bexpr * e, bool (*fn)(lh_bexpr * e, void *),
                                void *ud);
        lh__bx_walk((lh_bexpr *)e, refs_fn, &r);
    }
    if (volatile_) {
        *volatile_ = r.volatile_;
    }
}

static bool
refs_within(opt *o, const lh_bexpr *e, const idset *avail)
{
    idset s = {0};
    expr_refs(o, e, &s, NULL);
    for (uint32_t i = 0; i < s.n; i++) {
        if (!ids_has(avail, s.ids[i])) {
            return false;
        }
    }
    return true;
}

/* ---- conjunct lists
 * ----------------------------------------------------------- */

typedef struct conj {
    lh_bexpr **e;
    uint32_t n, cap;
} conj;

static void
conj_add(opt *o, conj *c, lh_bexpr *e)
{
    if (e == NULL) {
        return;
    }
    if (e->kind == LH_BX_AND) {
        for (uint32_t i = 0; i < e->u.list.n; i++) {
            conj_add(o, c, e->u.list.args[i]);
        }
        return;
    }
    if (e->kind == LH_BX_CONST && !e->u.c.is_null &&
        e->type.id == LH_T_BOOLEAN && e->u.c.u.b) {
        return; /* TRUE */
    }
    lh_bexpr **n =
        lh_sql_grow(o->a, c->e, c->n, &c->cap, sizeof(lh_bexpr *), 8);
    if (n == NULL) {
        o->oom = true;
        return;
    }
    c->e = n;
    c->e[c->n++] = e;
}

static lh_bexpr *
conj_make(opt *o, const conj *c)
{
    if (c->n == 0) {
        return NULL;
    }
    if (c->n == 1) {
        return c->e[0];
    }
    lh_bexpr *e = oalloc(o, sizeof(lh_bexpr));
    lh_bexpr **args = oalloc(o, c->n * sizeof(lh_bexpr *));
    if (e == NULL || args == NULL) {
        return NULL;
    }
    memcpy(args, c->e, c->n * sizeof(lh_bexpr *));
    e->kind = LH_BX_AND;
    e->type = (lh_type){.id = LH_T_BOOLEAN};
    e->pos = c->e[0]->pos;
    e->u.list.args = args;
    e->u.list.n = c->n;
    return e;
}

static lh_plan *
filter_over(opt *o, lh_plan *child, const conj *c)
{
    if (c->n == 0) {
        return child;
    }
    lh_plan *f = oalloc(o, sizeof(lh_plan));
    if (f == NULL) {
        return child;
    }
    f->kind = LH_PLAN_FILTER;
    f->pos = -1;
    f->children = oalloc(o, sizeof(lh_plan *));
    if (f->children == NULL) {
        return child;
    }
    f->children[0] = child;
    f->nchildren = 1;
    f->cols = child->cols;
    f->types = child->types;
    f->names = child->names;
    f->ncols = child->ncols;
    f->est_rows = child->est_rows / (1 + c->n) + 1;
    f->u.filter.pred = conj_make(o, c);
    return f;
}

/* ---- 1. constant folding
 * ----------------------------------------------------- */

static bool
is_const(const lh_bexpr *e)
{
    return e && e->kind == LH_BX_CONST;
}

static bool
const_true(const lh_bexpr *e)
{
    return is_const(e) && !e->u.c.is_null && e->type.id == LH_T_BOOLEAN &&
           e->u.c.u.b;
}

static bool
const_false_or_null(const lh_bexpr *e)
{
    return is_const(e) &&
           (e->u.c.is_null || (e->type.id == LH_T_BOOLEAN && !e->u.c.u.b));
}

static lh_bexpr *
make_const(opt *o, const lh_bexpr *like, const lh_value *v)
{
    lh_bexpr *c = oalloc(o, sizeof(lh_bexpr));
    if (c == NULL) {
        return NULL;
    }
    c->kind = LH_BX_CONST;
    c->type = like->type;
    c->pos = like->pos;
    c->u.c = *v;
    c->u.c.type = like->type;
    return c;
}

static void fold_expr(opt *o, lh_bexpr **pe);

static void
try_fold(opt *o, lh_bexpr **pe)
{
    if (o->fold == NULL) {
        return;
    }
    lh_value v;
    lh_err e;
    if (o->fold(o->fold_ud, *pe, o->a, &v, &e) == LH_OK) {
        lh_bexpr *c = make_const(o, *pe, &v);
        if (c) {
            *pe = c;
        }
    }
}

static void
fold_list(opt *o, lh_bexpr **args, uint32_t n, bool *all_const)
{
    *all_const = true;
    for (uint32_t i = 0; i < n; i++) {
        fold_expr(o, &args[i]);
        *all_const = *all_const && is_const(args[i]);
    }
}

static void
fold_logic(opt *o, lh_bexpr **pe)
{
    lh_bexpr *e = *pe;
    bool and_ = e->kind == LH_BX_AND;
    uint32_t k = 0;
    bool saw_null = false;
    for (uint32_t i = 0; i < e->u.list.n; i++) {
        lh_bexpr *x = e->u.list.args[i];
        fold_expr(o, &x);
        if (is_const(x)) {
            bool isnull = x->u.c.is_null;
            bool v = !isnull && x->u.c.u.b;
            if (!isnull && v != and_) {
                /* FALSE in AND, TRUE in OR decides */
                *pe = x;
                return;
            }
            if (isnull) {
                saw_null = true;
            }
            continue; /* TRUE in AND, FALSE in OR: drop */
        }
        e->u.list.args[k++] = x;
    }
    if (saw_null) {
        /* keep one NULL: x AND NULL is NULL or FALSE */
        lh_value v = {.type = e->type, .is_null = true};
        lh_bexpr *n = make_const(o, e, &v);
        if (n) {
            e->u.list.args[k++] = n;
        }
    }
    e->u.list.n = k;
    if (k == 0) {
        lh_value v = {.type = e->type};
        v.u.b = and_;
        lh_bexpr *c = make_const(o, e, &v);
        if (c) {
            *pe = c;
        }
    } else if (k == 1 && !saw_null) {
        *pe = e->u.list.args[0];
    } else if (k == 1) {
        *pe = e->u.list.args[0]; /* only the NULL */
    }
}

static void
fold_expr(opt *o, lh_bexpr **pe)
{
    lh_bexpr *e = *pe;
    if (e == NULL || o->oom) {
        return;
    }
    bool all;
    switch ((lh_bx_kind)e->kind) {
    case LH_BX_CONST:
    case LH_BX_COL:
    case LH_BX_PARAM:
        return;
    case LH_BX_CALL:
        fold_list(o, e->u.call.args, e->u.call.nargs, &all);
        if (all && !(e->u.call.fn->flags & LH_FN_VOLATILE)) {
            try_fold(o, pe);
        }
        return;
    case LH_BX_CAST:
        fold_expr(o, &e->u.cast.arg);
        if (is_const(e->u.cast.arg)) {
            try_fold(o, pe);
        }
        return;
    case LH_BX_AND:
    case LH_BX_OR:
        fold_logic(o, pe);
        return;
    case LH_BX_NOT:
    case LH_BX_IS_NULL:
    case LH_BX_IS_BOOL:
        fold_list(o, e->u.list.args, e->u.list.n, &all);
        if (all) {
            try_fold(o, pe);
        }
        return;
    case LH_BX_COALESCE: {
        /* drop NULL constants; a non-NULL constant ends the list */
        uint32_t k = 0;
        for (uint32_t i = 0; i < e->u.list.n; i++) {
            fold_expr(o, &e->u.list.args[i]);
            lh_bexpr *x = e->u.list.args[i];
            if (is_const(x) && x->u.c.is_null) {
                continue;
            }
            e->u.list.args[k++] = x;
            if (is_const(x)) {
                break;
            }
        }
        if (k == 0) {
            lh_value v = {.type = e->type, .is_null = true};
            lh_bexpr *c = make_const(o, e, &v);
            if (c) {
                *pe = c;
            }
            return;
        }
        e->u.list.n = k;
        if (k == 1) {
            *pe = e->u.list.args[0];
        }
        return;
    }
    case LH_BX_CASE: {
        uint32_t k = 0;
        for (uint32_t i = 0; i < e->u.kase.n; i++) {
            fold_expr(o, &e->u.kase.whens[i]);
            lh_bexpr *w = e->u.kase.whens[i];
            if (const_false_or_null(w)) {
                continue; /* never taken: its THEN is never evaluated */
            }
            fold_expr(o, &e->u.kase.thens[i]);
            if (const_true(w)) {
                if (k == 0) {
                    *pe = e->u.kase.thens[i];
                    return;
                }
                /* the rest is unreachable: this THEN is the ELSE */
                e->u.kase.else_expr = e->u.kase.thens[i];
                e->u.kase.n = k;
                return;
            }
            e->u.kase.whens[k] = w;
            e->u.kase.thens[k] = e->u.kase.thens[i];
            k++;
        }
        e->u.kase.n = k;
        fold_expr(o, &e->u.kase.else_expr);
        if (k == 0) {
            if (e->u.kase.else_expr) {
                *pe = e->u.kase.else_expr;
            } else {
                lh_value v = {.type = e->type, .is_null = true};
                lh_bexpr *c = make_const(o, e, &v);
                if (c) {
                    *pe = c;
                }
            }
        }
        return;
    }
    case LH_BX_IN:
        fold_expr(o, &e->u.in.arg);
        fold_list(o, e->u.in.list, e->u.in.n, &all);
        if (all && is_const(e->u.in.arg)) {
            try_fold(o, pe);
        }
        return;
    case LH_BX_SUBQUERY:
        fold_expr(o, &e->u.sub.arg);
        return;
    case LH_BX_AGG:
    case LH_BX_WINDOW:
        fold_list(o, e->u.agg.args, e->u.agg.nargs, &all);
        fold_expr(o, &e->u.agg.filter);
        for (uint32_t i = 0; i < e->u.agg.norder; i++) {
            fold_expr(o, &e->u.agg.order[i].expr);
        }
        if (e->u.agg.over) {
            lh_window_spec *w = e->u.agg.over;
            fold_list(o, w->partition, w->npartition, &all);
            for (uint32_t i = 0; i < w->norder; i++) {
                fold_expr(o, &w->order[i].expr);
            }
            fold_expr(o, &w->start);
            fold_expr(o, &w->end);
        }
        return;
    case LH_BX_GROUPING:
        return;
    }
}

/* Folds every expression of every node, and optimizes subquery plans. */
static void fold_plan(opt *o, lh_plan *p);
static lh_bexpr *factor_or(opt *o, lh_bexpr *e);

/* Subquery plans are optimized in two phases: prepare (fold and
 * decorrelate, with the subquery's own subqueries, while the outer plan
 * does the same: a subquery's FILTER must still be a FILTER for the outer
 * decorrelation to pull its correlated conjuncts into a join), then finish
 * (pushdown, join order, keys, pruning) once the outer plan was prepared:
 * what is still a subquery then runs as one. */
static void prepare_plan(opt *o, lh_plan **pp);
static void finish_plan(opt *o, lh_plan **pp);

typedef struct subq_ud {
    opt *o;
    bool finish;
} subq_ud;

static bool
subq_fn(lh_bexpr *e, void *ud)
{
    subq_ud *s = ud;
    if (e->kind == LH_BX_SUBQUERY) {
        if (s->finish) {
            finish_plan(s->o, &e->u.sub.plan);
        } else {
            prepare_plan(s->o, &e->u.sub.plan);
        }
    }
    return true;
}

static void
fold_e(opt *o, lh_bexpr **pe)
{
    fold_expr(o, pe);
    subq_ud s = {o, false};
    if (*pe) {
        extern void lh__bx_walk(lh_bexpr * e, bool (*fn)(lh_bexpr * e, void *),
                                void *ud);
        lh__bx_walk(*pe, subq_fn, &s);
    }
}

static void
fold_plan(opt *o, lh_plan *p)
{
    for (uint32_t i = 0; i < p->nchildren; i++) {
        fold_plan(o, p->children[i]);
    }
    switch ((lh_plan_kind)p->kind) {
    case LH_PLAN_FILTER: {
        fold_e(o, &p->u.filter.pred);
        conj all = {0}, out = {0};
        conj_add(o, &all, p->u.filter.pred);
        for (uint32_t i = 0; i < all.n; i++) {
            conj_add(o, &out, factor_or(o, all.e[i]));
        }
        lh_bexpr *f = conj_make(o, &out);
        if (f) {
            p->u.filter.pred = f;
        }
        break;
    }
    case LH_PLAN_PROJECT:
        for (uint32_t i = 0; i < p->ncols; i++) {
            fold_e(o, &p->u.project.exprs[i]);
        }
        break;
    case LH_PLAN_VALUES:
        for (uint32_t r = 0; r < p->u.values.nrows; r++) {
            for (uint32_t c = 0; c < p->ncols; c++) {
                fold_e(o, &p->u.values.rows[r][c]);
            }
        }
        break;
    case LH_PLAN_AGGREGATE:
        for (uint32_t i = 0; i < p->u.agg.ngroups; i++) {
            fold_e(o, &p->u.agg.groups[i]);
        }
        for (uint32_t i = 0; i < p->u.agg.naggs; i++) {
            fold_e(o, &p->u.agg.aggs[i]);
        }
        break;
    case LH_PLAN_JOIN:
        fold_e(o, &p->u.join.cond);
        break;
    case LH_PLAN_SORT:
        for (uint32_t i = 0; i < p->u.sort.nkeys; i++) {
            fold_e(o, &p->u.sort.keys[i].expr);
        }
        break;
    case LH_PLAN_LIMIT:
        fold_e(o, &p->u.limit.limit);
        fold_e(o, &p->u.limit.offset);
        break;
    case LH_PLAN_WINDOW:
        for (uint32_t i = 0; i < p->u.window.ncalls; i++) {
            fold_e(o, &p->u.window.calls[i]);
        }
        break;
    case LH_PLAN_SCAN:
        fold_e(o, &p->u.scan.travel_expr);
        break;
    default:
        break;
    }
}

/* ---- 2. decorrelation
 * ----------------------------------------------------------- */

/* The ids a plan reads but does not produce (its correlation). */
static void plan_free(opt *o, const lh_plan *p, idset *produced, idset *used);

static void
collect_used(opt *o, const lh_bexpr *e, idset *used)
{
    expr_refs(o, e, used, NULL);
}

static void
plan_free(opt *o, const lh_plan *p, idset *produced, idset *used)
{
    for (uint32_t i = 0; i < p->nchildren; i++) {
        plan_free(o, p->children[i], produced, used);
    }
    ids_of_plan(o, p, produced);
    switch ((lh_plan_kind)p->kind) {
    case LH_PLAN_FILTER:
        collect_used(o, p->u.filter.pred, used);
        break;
    case LH_PLAN_PROJECT:
        for (uint32_t i = 0; i < p->ncols; i++) {
            collect_used(o, p->u.project.exprs[i], used);
        }
        break;
    case LH_PLAN_VALUES:
        for (uint32_t r = 0; r < p->u.values.nrows; r++) {
            for (uint32_t c = 0; c < p->ncols; c++) {
                collect_used(o, p->u.values.rows[r][c], used);
            }
        }
        break;
    case LH_PLAN_AGGREGATE:
        for (uint32_t i = 0; i < p->u.agg.ngroups; i++) {
            collect_used(o, p->u.agg.groups[i], used);
        }
        for (uint32_t i = 0; i < p->u.agg.naggs; i++) {
            collect_used(o, p->u.agg.aggs[i], used);
        }
        break;
    case LH_PLAN_JOIN:
        collect_used(o, p->u.join.cond, used);
        for (uint32_t i = 0; i < p->u.join.nkeys; i++) {
            collect_used(o, p->u.join.lkeys[i], used);
            collect_used(o, p->u.join.rkeys[i], used);
        }
        break;
    case LH_PLAN_SORT:
        for (uint32_t i = 0; i < p->u.sort.nkeys; i++) {
            collect_used(o, p->u.sort.keys[i].expr, used);
        }
        break;
    case LH_PLAN_LIMIT:
        collect_used(o, p->u.limit.limit, used);
        collect_used(o, p->u.limit.offset, used);
        break;
    case LH_PLAN_WINDOW:
        for (uint32_t i = 0; i < p->u.window.ncalls; i++) {
            collect_used(o, p->u.window.calls[i], used);
        }
        break;
    case LH_PLAN_SCAN:
        collect_used(o, p->u.scan.filter, used);
        break;
    case LH_PLAN_CTE_SCAN:
        /* reads its RECURSIVE node's working table: not correlation, but
         * it cannot move out of that node */
        for (uint32_t i = 0; i < p->ncols; i++) {
            ids_add(o, used, p->u.cte.cte_cols[i]);
        }
        break;
    default:
        break;
    }
}

static bool
uncorrelated(opt *o, const lh_plan *p)
{
    idset produced = {0}, used = {0};
    plan_free(o, p, &produced, &used);
    for (uint32_t i = 0; i < used.n; i++) {
        if (!ids_has(&produced, used.ids[i])) {
            return false;
        }
    }
    return true;
}

static lh_bexpr *substitute(opt *o, lh_bexpr *e, const lh_plan *proj);

/* Tries to turn a conjunct [NOT] EXISTS / IN (subquery) over `outer`
 * into a semi / anti join. Returns the join, or NULL to leave it. */
static lh_plan *
decorrelate_one(opt *o, lh_plan *outer, lh_bexpr *c)
{
    bool negated = false;
    lh_bexpr *s = c;
    if (s->kind == LH_BX_NOT && s->u.list.args[0]->kind == LH_BX_SUBQUERY) {
        negated = true;
        s = s->u.list.args[0];
    }
    if (s->kind != LH_BX_SUBQUERY ||
        (s->u.sub.kind != LH_SUBQ_EXISTS && s->u.sub.kind != LH_SUBQ_IN)) {
        return NULL;
    }
    if (negated && s->u.sub.kind == LH_SUBQ_IN) {
        return NULL; /* NOT IN: NULLs make it a null-aware anti join */
    }
    /* walk down PROJECT / DISTINCT / FILTER to the correlated filter */
    lh_plan *top = s->u.sub.plan;
    lh_plan *p = top;
    lh_plan *proj = NULL;
    conj corr = {0}, keep = {0};
    lh_plan *below = NULL;
    for (;;) {
        if (p->kind == LH_PLAN_PROJECT && proj == NULL) {
            proj = p;
            p = p->children[0];
        } else if (p->kind == LH_PLAN_DISTINCT) {
            p = p->children[0];
        } else if (p->kind == LH_PLAN_FILTER) {
            /* conjuncts that read outer columns move to the join */
            idset avail = {0};
            ids_of_plan(o, p->children[0], &avail);
            conj all = {0};
            conj_add(o, &all, p->u.filter.pred);
            for (uint32_t i = 0; i < all.n; i++) {
                if (refs_within(o, all.e[i], &avail)) {
                    conj_add(o, &keep, all.e[i]);
                } else {
                    conj_add(o, &corr, all.e[i]);
                }
            }
            below = p->children[0];
            break;
        } else {
            below = p;
            break;
        }
    }
    if (below == NULL || !uncorrelated(o, below)) {
        return NULL;
    }
    /* the outer side must supply everything else the pulled conjuncts read */
    idset avail = {0};
    ids_of_plan(o, outer, &avail);
    ids_of_plan(o, below, &avail);
    for (uint32_t i = 0; i < corr.n; i++) {
        if (!refs_within(o, corr.e[i], &avail)) {
            return NULL;
        }
        bool vol;
        idset tmp = {0};
        expr_refs(o, corr.e[i], &tmp, &vol);
        if (vol) {
            return NULL;
        }
    }
    conj cond = corr;
    if (s->u.sub.kind == LH_SUBQ_IN) {
        /* arg = col: col is the subquery's output, which the projection
         * computes; read it through the projection's expression */
        lh_bexpr *eq = s->u.sub.arg;
        if (proj == NULL) {
            return NULL;
        }
        lh_bexpr *sub = substitute(o, eq, proj);
        if (sub == NULL || !refs_within(o, sub, &avail)) {
            return NULL;
        }
        conj_add(o, &cond, sub);
    }
    lh_plan *right = filter_over(o, below, &keep);
    lh_plan *j = oalloc(o, sizeof(lh_plan));
    lh_plan **kids = oalloc(o, 2 * sizeof(lh_plan *));
    if (j == NULL || kids == NULL) {
        return NULL;
    }
    j->kind = LH_PLAN_JOIN;
    j->pos = c->pos;
    j->children = kids;
    kids[0] = outer;
    kids[1] = right;
    j->nchildren = 2;
    j->cols = outer->cols;
    j->types = outer->types;
    j->names = outer->names;
    j->ncols = outer->ncols;
    j->est_rows = outer->est_rows / 2 + 1;
    j->u.join.kind = negated ? LH_JOIN_ANTI : LH_JOIN_SEMI;
    j->u.join.cond = conj_make(o, &cond);
    return j;
}

/* ---- correlated scalar aggregates
 *
 * x op (SELECT f(agg) FROM T WHERE T.k = outer.e AND rest) becomes
 *   outer LEFT JOIN (SELECT T.k, agg FROM T WHERE rest GROUP BY T.k)
 *         ON T.k = outer.e
 * with the subquery replaced by f(agg): one aggregation instead of one
 * per outer row (TPC-H q02, q17, q20). Each group matches at most one
 * outer row's keys, so the join keeps the outer rows; an outer row with no
 * group gets NULL, which is what sum / min / max / avg give over no rows
 * (count gives 0: subqueries over count are left alone). */

typedef struct find_sub {
    lh_bexpr *found;
} find_sub;

static bool
find_scalar_fn(lh_bexpr *e, void *ud)
{
    find_sub *f = ud;
    if (f->found) {
        return false;
    }
    if (e->kind == LH_BX_SUBQUERY && e->u.sub.kind == LH_SUBQ_SCALAR &&
        e->u.sub.nouter > 0) {
        f->found = e;
        return false;
    }
    return true;
}

typedef struct repl_ud {
    lh_bexpr *from, *to;
} repl_ud;

static lh_rc
repl_fn(lh_bexpr **slot, void *ud)
{
    repl_ud *r = ud;
    if (*slot == r->from) {
        *slot = r->to;
        return LH_OK;
    }
    return lh_sql_expr_children(*slot, repl_fn, ud);
}

static bool equi_key(opt *o, lh_bexpr *e, const idset *l, const idset *r,
                     lh_bexpr **lk, lh_bexpr **rk);

static lh_plan *
decorrelate_scalar(opt *o, lh_plan *outer, lh_bexpr *s, lh_bexpr **value)
{
    lh_plan *proj = s->u.sub.plan;
    if (proj->kind != LH_PLAN_PROJECT || proj->ncols != 1 ||
        proj->children[0]->kind != LH_PLAN_AGGREGATE) {
        return NULL;
    }
    lh_plan *agg = proj->children[0];
    if (agg->u.agg.ngroups != 0 || agg->u.agg.sets != NULL ||
        agg->u.agg.naggs == 0 || agg->children[0]->kind != LH_PLAN_FILTER) {
        return NULL;
    }
    for (uint32_t i = 0; i < agg->u.agg.naggs; i++) {
        const lh_bexpr *a = agg->u.agg.aggs[i];
        if (a->kind != LH_BX_AGG || strstr(a->u.agg.fn->name, "count")) {
            return NULL;
        }
    }
    lh_plan *f = agg->children[0];
    lh_plan *below = f->children[0];
    idset inner = {0}, outer_ids = {0};
    ids_of_plan(o, below, &inner);
    ids_of_plan(o, outer, &outer_ids);
    conj all = {0}, keep = {0};
    conj_add(o, &all, f->u.filter.pred);
    uint32_t nk = 0;
    lh_bexpr **ik = oalloc(o, (all.n + 1) * sizeof(lh_bexpr *));
    lh_bexpr **ok = oalloc(o, (all.n + 1) * sizeof(lh_bexpr *));
    lh_bexpr **eqs = oalloc(o, (all.n + 1) * sizeof(lh_bexpr *));
    if (ik == NULL || ok == NULL || eqs == NULL) {
        return NULL;
    }
    for (uint32_t i = 0; i < all.n; i++) {
        lh_bexpr *c = all.e[i];
        if (refs_within(o, c, &inner)) {
            conj_add(o, &keep, c);
            continue;
        }
        lh_bexpr *a, *b;
        if (!equi_key(o, c, &inner, &outer_ids, &a, &b) ||
            a->kind != LH_BX_COL) {
            return NULL; /* correlated other than inner column = outer */
        }
        ik[nk] = a;
        ok[nk] = b;
        eqs[nk++] = c;
    }
    if (nk == 0) {
        return NULL;
    }
    /* the grouped aggregate: the inner key columns keep their ids */
    lh_plan *g = oalloc(o, sizeof(lh_plan));
    lh_plan **gkids = oalloc(o, sizeof(lh_plan *));
    uint32_t gn = nk + agg->u.agg.naggs;
    uint32_t *gcols = oalloc(o, gn * sizeof(uint32_t));
    lh_type *gtypes = oalloc(o, gn * sizeof(lh_type));
    const char **gnames = oalloc(o, gn * sizeof(char *));
    if (g == NULL || gkids == NULL || gcols == NULL || gtypes == NULL ||
        gnames == NULL) {
        return NULL;
    }
    for (uint32_t i = 0; i < nk; i++) {
        for (uint32_t j = 0; j < i; j++) {
            if (ik[j]->u.col == ik[i]->u.col) {
                return NULL; /* the same column twice: keep it simple */
            }
        }
        gcols[i] = ik[i]->u.col;
        gtypes[i] = ik[i]->type;
        gnames[i] = "?column?";
        for (uint32_t c = 0; c < below->ncols; c++) {
            if (below->cols[c] == gcols[i]) {
                gnames[i] = below->names[c];
            }
        }
    }
    for (uint32_t i = 0; i < agg->u.agg.naggs; i++) {
        gcols[nk + i] = agg->cols[i];
        gtypes[nk + i] = agg->types[i];
        gnames[nk + i] = agg->names[i];
    }
    *g = *agg;
    g->children = gkids;
    gkids[0] = filter_over(o, below, &keep);
    g->cols = gcols;
    g->types = gtypes;
    g->names = gnames;
    g->ncols = gn;
    g->u.agg.groups = ik;
    g->u.agg.ngroups = nk;
    g->est_rows = below->est_rows / 10 + 1;
    if (!uncorrelated(o, g)) {
        return NULL;
    }
    idset gids = {0};
    ids_of_plan(o, g, &gids);
    if (!refs_within(o, proj->u.project.exprs[0], &gids)) {
        return NULL;
    }
    /* outer LEFT JOIN g ON the keys */
    lh_plan *j = oalloc(o, sizeof(lh_plan));
    lh_plan **kids = oalloc(o, 2 * sizeof(lh_plan *));
    uint32_t n = outer->ncols + gn;
    uint32_t *cols = oalloc(o, n * sizeof(uint32_t));
    lh_type *types = oalloc(o, n * sizeof(lh_type));
    const char **names = oalloc(o, n * sizeof(char *));
    if (j == NULL || kids == NULL || cols == NULL || types == NULL ||
        names == NULL) {
        return NULL;
    }
    memcpy(cols, outer->cols, outer->ncols * sizeof(uint32_t));
    memcpy(types, outer->types, outer->ncols * sizeof(lh_type));
    memcpy(names, outer->names, outer->ncols * sizeof(char *));
    memcpy(cols + outer->ncols, gcols, gn * sizeof(uint32_t));
    memcpy(types + outer->ncols, gtypes, gn * sizeof(lh_type));
    memcpy(names + outer->ncols, gnames, gn * sizeof(char *));
    conj cond = {0};
    for (uint32_t i = 0; i < nk; i++) {
        conj_add(o, &cond, eqs[i]);
    }
    j->kind = LH_PLAN_JOIN;
    j->pos = s->pos;
    j->children = kids;
    kids[0] = outer;
    kids[1] = g;
    j->nchildren = 2;
    j->cols = cols;
    j->types = types;
    j->names = names;
    j->ncols = n;
    j->est_rows = outer->est_rows;
    j->u.join.kind = LH_JOIN_LEFT;
    j->u.join.cond = conj_make(o, &cond);
    *value = proj->u.project.exprs[0];
    return j;
}

/* Decorrelates the correlated scalar subqueries of conjunct *pc over
 * *child (each becomes a LEFT JOIN below and a column in *pc). */
static bool
decorrelate_scalars(opt *o, lh_plan **child, lh_bexpr **pc)
{
    bool changed = false;
    for (int guard = 0; guard < 16; guard++) {
        find_sub f = {NULL};
        extern void lh__bx_walk(lh_bexpr * e, bool (*fn)(lh_bexpr * e, void *),
                                void *ud);
        lh__bx_walk(*pc, find_scalar_fn, &f);
        if (f.found == NULL) {
            break;
        }
        lh_bexpr *value = NULL;
        lh_plan *j = decorrelate_scalar(o, *child, f.found, &value);
        if (j == NULL) {
            break;
        }
        if (*pc == f.found) {
            *pc = value;
        } else {
            repl_ud r = {f.found, value};
            lh_sql_expr_children(*pc, repl_fn, &r);
        }
        *child = j;
        changed = true;
    }
    return changed;
}

/* (A AND B) OR (A AND C) -> A AND (B OR C), for the conjuncts A common to
 * every branch of an OR (TPC-H q19's join key): they become join keys and
 * pushed-down filters. A branch left with nothing makes the OR true. */
static lh_bexpr *
factor_or(opt *o, lh_bexpr *e)
{
    if (e == NULL || e->kind != LH_BX_OR || e->u.list.n < 2) {
        return e;
    }
    uint32_t nb = e->u.list.n;
    conj *br = oalloc(o, nb * sizeof(conj));
    if (br == NULL) {
        return e;
    }
    for (uint32_t i = 0; i < nb; i++) {
        br[i] = (conj){0};
        conj_add(o, &br[i], e->u.list.args[i]);
    }
    conj common = {0};
    for (uint32_t k = 0; k < br[0].n; k++) {
        lh_bexpr *x = br[0].e[k];
        bool vol;
        idset tmp = {0};
        expr_refs(o, x, &tmp, &vol);
        bool all = !vol;
        for (uint32_t i = 1; i < nb && all; i++) {
            bool found = false;
            for (uint32_t j = 0; j < br[i].n && !found; j++) {
                found = lh_sql_expr_equal(x, br[i].e[j]);
            }
            all = found;
        }
        if (all) {
            conj_add(o, &common, x);
        }
    }
    if (common.n == 0) {
        return e;
    }
    lh_bexpr **rest = oalloc(o, nb * sizeof(lh_bexpr *));
    if (rest == NULL) {
        return e;
    }
    bool always = false;
    for (uint32_t i = 0; i < nb; i++) {
        conj left = {0};
        for (uint32_t j = 0; j < br[i].n; j++) {
            bool is_common = false;
            for (uint32_t k = 0; k < common.n && !is_common; k++) {
                is_common = lh_sql_expr_equal(br[i].e[j], common.e[k]);
            }
            if (!is_common) {
                conj_add(o, &left, br[i].e[j]);
            }
        }
        always |= left.n == 0;
        rest[i] = conj_make(o, &left);
    }
    if (!always) {
        lh_bexpr *disj = oalloc(o, sizeof(lh_bexpr));
        if (disj == NULL) {
            return e;
        }
        *disj = *e;
        disj->u.list.args = rest;
        conj_add(o, &common, disj);
    }
    lh_bexpr *r = conj_make(o, &common);
    return r ? r : e;
}

/* Rewrites FILTER nodes whose conjuncts decorrelate. */
static void
decorrelate(opt *o, lh_plan **pp)
{
    lh_plan *p = *pp;
    for (uint32_t i = 0; i < p->nchildren; i++) {
        decorrelate(o, &p->children[i]);
    }
    if (p->kind != LH_PLAN_FILTER) {
        return;
    }
    conj all = {0}, rest = {0};
    conj_add(o, &all, p->u.filter.pred);
    lh_plan *child = p->children[0];
    bool changed = false;
    for (uint32_t i = 0; i < all.n; i++) {
        lh_plan *j = decorrelate_one(o, child, all.e[i]);
        if (j) {
            child = j;
            changed = true;
        } else {
            lh_bexpr *c = all.e[i];
            changed |= decorrelate_scalars(o, &child, &c);
            conj_add(o, &rest, c);
        }
    }
    if (changed) {
        *pp = filter_over(o, child, &rest);
    }
}

/* ---- 3. filter pushdown
 * ------------------------------------------------------- */

/* e with every column the projection computes replaced by its expression
 * (a copy: the projection keeps its own). NULL when out of memory. */
static lh_bexpr *
substitute(opt *o, lh_bexpr *e, const lh_plan *proj)
{
    if (e == NULL) {
        return NULL;
    }
    if (e->kind == LH_BX_COL) {
        for (uint32_t i = 0; i < proj->ncols; i++) {
            if (proj->cols[i] == e->u.col) {
                return proj->u.project.exprs[i];
            }
        }
        return e;
    }
    lh_bexpr *c = oalloc(o, sizeof(lh_bexpr));
    if (c == NULL) {
        return NULL;
    }
    *c = *e;
    switch ((lh_bx_kind)e->kind) {
    case LH_BX_CALL:
        c->u.call.args = oalloc(o, (e->u.call.nargs + 1) * sizeof(lh_bexpr *));
        if (c->u.call.args == NULL) {
            return NULL;
        }
        for (uint32_t i = 0; i < e->u.call.nargs; i++) {
            c->u.call.args[i] = substitute(o, e->u.call.args[i], proj);
        }
        break;
    case LH_BX_CAST:
        c->u.cast.arg = substitute(o, e->u.cast.arg, proj);
        break;
    case LH_BX_AND:
    case LH_BX_OR:
    case LH_BX_NOT:
    case LH_BX_IS_NULL:
    case LH_BX_IS_BOOL:
    case LH_BX_COALESCE:
    case LH_BX_GROUPING:
        c->u.list.args = oalloc(o, (e->u.list.n + 1) * sizeof(lh_bexpr *));
        if (c->u.list.args == NULL) {
            return NULL;
        }
        for (uint32_t i = 0; i < e->u.list.n; i++) {
            c->u.list.args[i] = substitute(o, e->u.list.args[i], proj);
        }
        break;
    case LH_BX_CASE:
        c->u.kase.whens = oalloc(o, (e->u.kase.n + 1) * sizeof(lh_bexpr *));
        c->u.kase.thens = oalloc(o, (e->u.kase.n + 1) * sizeof(lh_bexpr *));
        if (c->u.kase.whens == NULL || c->u.kase.thens == NULL) {
            return NULL;
        }
        for (uint32_t i = 0; i < e->u.kase.n; i++) {
            c->u.kase.whens[i] = substitute(o, e->u.kase.whens[i], proj);
            c->u.kase.thens[i] = substitute(o, e->u.kase.thens[i], proj);
        }
        c->u.kase.else_expr = substitute(o, e->u.kase.else_expr, proj);
        break;
    case LH_BX_IN:
        c->u.in.arg = substitute(o, e->u.in.arg, proj);
        c->u.in.list = oalloc(o, (e->u.in.n + 1) * sizeof(lh_bexpr *));
        if (c->u.in.list == NULL) {
            return NULL;
        }
        for (uint32_t i = 0; i < e->u.in.n; i++) {
            c->u.in.list[i] = substitute(o, e->u.in.list[i], proj);
        }
        break;
    case LH_BX_SUBQUERY:
        /* the subquery reads outer columns by id: those must not be the
         * projection's (checked by the caller through refs) */
        c->u.sub.arg = substitute(o, e->u.sub.arg, proj);
        break;
    default:
        break;
    }
    return c;
}

static bool
has_kind(const lh_bexpr *e, lh_bx_kind kind)
{
    extern bool lh__bx_has(const lh_bexpr *e, lh_bx_kind kind);
    return lh__bx_has(e, kind);
}

/* Renames the set operation's output ids in e to child k's ids. */
static lh_bexpr *
rename_setop(opt *o, lh_bexpr *e, const lh_plan *setop, const lh_plan *child)
{
    /* a projection-shaped view of the child: setop col i -> child col i */
    lh_plan fake = {0};
    fake.ncols = setop->ncols;
    fake.cols = setop->cols;
    lh_bexpr **exprs = oalloc(o, (setop->ncols + 1) * sizeof(lh_bexpr *));
    if (exprs == NULL) {
        return NULL;
    }
    for (uint32_t i = 0; i < setop->ncols; i++) {
        lh_bexpr *c = oalloc(o, sizeof(lh_bexpr));
        if (c == NULL) {
            return NULL;
        }
        c->kind = LH_BX_COL;
        c->type = child->types[i];
        c->pos = -1;
        c->u.col = child->cols[i];
        exprs[i] = c;
    }
    fake.u.project.exprs = exprs;
    return substitute(o, e, &fake);
}

static lh_plan *push(opt *o, lh_plan *p, conj *c);

/* Splits c into the conjuncts that only read `avail` (to) and the rest. */
static void
split(opt *o, const conj *c, const idset *avail, conj *to, conj *rest)
{
    for (uint32_t i = 0; i < c->n; i++) {
        bool vol;
        idset r = {0};
        expr_refs(o, c->e[i], &r, &vol);
        bool ok = !vol;
        for (uint32_t k = 0; k < r.n && ok; k++) {
            ok = ids_has(avail, r.ids[k]);
        }
        conj_add(o, ok ? to : rest, c->e[i]);
    }
}

/* x = y with x over the left side and y over the right (or swapped):
 * a hash key. */
static bool
equi_key(opt *o, lh_bexpr *e, const idset *l, const idset *r, lh_bexpr **lk,
         lh_bexpr **rk)
{
    if (e->kind != LH_BX_CALL || e->u.call.nargs != 2 ||
        strcmp(e->u.call.fn->name, "=") != 0) {
        return false;
    }
    lh_bexpr *a = e->u.call.args[0], *b = e->u.call.args[1];
    if (has_kind(a, LH_BX_SUBQUERY) || has_kind(b, LH_BX_SUBQUERY)) {
        return false;
    }
    idset ra = {0}, rb = {0};
    bool va, vb;
    expr_refs(o, a, &ra, &va);
    expr_refs(o, b, &rb, &vb);
    if (va || vb || ra.n == 0 || rb.n == 0) {
        return false;
    }
    bool al = true, ar = true, bl = true, br = true;
    for (uint32_t i = 0; i < ra.n; i++) {
        al = al && ids_has(l, ra.ids[i]);
        ar = ar && ids_has(r, ra.ids[i]);
    }
    for (uint32_t i = 0; i < rb.n; i++) {
        bl = bl && ids_has(l, rb.ids[i]);
        br = br && ids_has(r, rb.ids[i]);
    }
    if (al && br) {
        *lk = a;
        *rk = b;
        return true;
    }
    if (ar && bl) {
        *lk = b;
        *rk = a;
        return true;
    }
    return false;
}

static void
set_join_keys(opt *o, lh_plan *j)
{
    if (j->u.join.kind == LH_JOIN_CROSS || j->u.join.nkeys) {
        return;
    }
    idset l = {0}, r = {0};
    ids_of_plan(o, j->children[0], &l);
    ids_of_plan(o, j->children[1], &r);
    conj all = {0}, rest = {0};
    conj_add(o, &all, j->u.join.cond);
    lh_bexpr **lk = oalloc(o, (all.n + 1) * sizeof(lh_bexpr *));
    lh_bexpr **rk = oalloc(o, (all.n + 1) * sizeof(lh_bexpr *));
    if (lk == NULL || rk == NULL) {
        return;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < all.n; i++) {
        if (equi_key(o, all.e[i], &l, &r, &lk[n], &rk[n])) {
            n++;
        } else {
            conj_add(o, &rest, all.e[i]);
        }
    }
    j->u.join.lkeys = lk;
    j->u.join.rkeys = rk;
    j->u.join.nkeys = n;
    j->u.join.cond = conj_make(o, &rest);
}

static lh_plan *
push_join(opt *o, lh_plan *p, conj *c)
{
    idset l = {0}, r = {0};
    ids_of_plan(o, p->children[0], &l);
    ids_of_plan(o, p->children[1], &r);
    uint8_t kind = p->u.join.kind;
    conj to_l = {0}, to_r = {0}, stay = {0}, rest = {0}, on = {0};
    /* WHERE conjuncts */
    if (kind == LH_JOIN_INNER || kind == LH_JOIN_CROSS ||
        kind == LH_JOIN_SEMI || kind == LH_JOIN_ANTI) {
        conj tmp = {0};
        split(o, c, &l, &to_l, &tmp);
        if (kind == LH_JOIN_INNER || kind == LH_JOIN_CROSS) {
            conj tmp2 = {0};
            split(o, &tmp, &r, &to_r, &tmp2);
            /* those over both sides join them */
            idset both = l;
            idset lr = {0};
            for (uint32_t i = 0; i < l.n; i++) {
                ids_add(o, &lr, l.ids[i]);
            }
            for (uint32_t i = 0; i < r.n; i++) {
                ids_add(o, &lr, r.ids[i]);
            }
            (void)both;
            split(o, &tmp2, &lr, &on, &stay);
        } else {
            stay = tmp;
        }
    } else if (kind == LH_JOIN_LEFT) {
        split(o, c, &l, &to_l, &stay);
    } else if (kind == LH_JOIN_RIGHT) {
        split(o, c, &r, &to_r, &stay);
    } else {
        stay = *c;
    }
    /* the ON condition */
    conj cond = {0};
    conj_add(o, &cond, p->u.join.cond);
    for (uint32_t i = 0; i < on.n; i++) {
        conj_add(o, &cond, on.e[i]);
    }
    conj keep = {0};
    if (kind == LH_JOIN_INNER || kind == LH_JOIN_CROSS) {
        conj tmp = {0};
        split(o, &cond, &l, &to_l, &tmp);
        split(o, &tmp, &r, &to_r, &keep);
    } else if (kind == LH_JOIN_LEFT || kind == LH_JOIN_SEMI ||
               kind == LH_JOIN_ANTI) {
        /* conditions on the right side alone filter the right side */
        split(o, &cond, &r, &to_r, &keep);
    } else if (kind == LH_JOIN_RIGHT) {
        split(o, &cond, &l, &to_l, &keep);
    } else {
        keep = cond;
    }
    (void)rest;
    p->children[0] = push(o, p->children[0], &to_l);
    p->children[1] = push(o, p->children[1], &to_r);
    p->u.join.cond = conj_make(o, &keep);
    if (kind == LH_JOIN_CROSS && keep.n) {
        p->u.join.kind = LH_JOIN_INNER;
    }
    return filter_over(o, p, &stay);
}

static lh_plan *
push(opt *o, lh_plan *p, conj *c)
{
    if (o->oom) {
        return p;
    }
    conj none = {0};
    switch ((lh_plan_kind)p->kind) {
    case LH_PLAN_FILTER: {
        conj all = *c;
        conj_add(o, &all, p->u.filter.pred);
        return push(o, p->children[0], &all);
    }
    case LH_PLAN_PROJECT: {
        conj down = {0}, stay = {0};
        for (uint32_t i = 0; i < c->n; i++) {
            lh_bexpr *s = substitute(o, c->e[i], p);
            bool ok = s != NULL && !has_kind(s, LH_BX_WINDOW) &&
                      !has_kind(s, LH_BX_AGG);
            if (ok) {
                bool vol;
                idset r = {0};
                expr_refs(o, s, &r, &vol);
                ok = !vol;
                /* a subquery reading the projection's own columns by id
                 * cannot move below it */
                if (ok && has_kind(c->e[i], LH_BX_SUBQUERY)) {
                    for (uint32_t k = 0; k < p->ncols && ok; k++) {
                        ok = !ids_has(&r, p->cols[k]);
                    }
                }
            }
            conj_add(o, ok ? &down : &stay, ok ? s : c->e[i]);
        }
        p->children[0] = push(o, p->children[0], &down);
        return filter_over(o, p, &stay);
    }
    case LH_PLAN_SORT:
    case LH_PLAN_DISTINCT:
        if (p->kind == LH_PLAN_DISTINCT && p->u.distinct.on) {
            /* DISTINCT ON: only predicates on the keys commute */
            p->children[0] = push(o, p->children[0], &none);
            return filter_over(o, p, c);
        }
        p->children[0] = push(o, p->children[0], c);
        return p;
    case LH_PLAN_JOIN:
        return push_join(o, p, c);
    case LH_PLAN_AGGREGATE: {
        /* predicates on grouping columns that are input columns (same id)
         * filter the input */
        idset keys = {0};
        if (p->u.agg.sets == NULL) {
            for (uint32_t i = 0; i < p->u.agg.ngroups; i++) {
                lh_bexpr *g = p->u.agg.groups[i];
                if (g->kind == LH_BX_COL && g->u.col == p->cols[i]) {
                    ids_add(o, &keys, g->u.col);
                }
            }
        }
        conj down = {0}, stay = {0};
        split(o, c, &keys, &down, &stay);
        for (uint32_t i = 0; i < down.n; i++) {
            if (has_kind(down.e[i], LH_BX_SUBQUERY)) {
                /* keep subqueries where they were written */
            }
        }
        p->children[0] = push(o, p->children[0], &down);
        return filter_over(o, p, &stay);
    }
    case LH_PLAN_SETOP: {
        if (p->u.setop.op == LH_SETOP_UNION ||
            !has_kind(conj_make(o, c), LH_BX_SUBQUERY)) {
            conj l = {0}, r = {0}, stay = {0};
            for (uint32_t i = 0; i < c->n; i++) {
                bool vol;
                idset refs = {0};
                expr_refs(o, c->e[i], &refs, &vol);
                if (vol || has_kind(c->e[i], LH_BX_SUBQUERY)) {
                    conj_add(o, &stay, c->e[i]);
                    continue;
                }
                conj_add(o, &l, rename_setop(o, c->e[i], p, p->children[0]));
                conj_add(o, &r, rename_setop(o, c->e[i], p, p->children[1]));
            }
            p->children[0] = push(o, p->children[0], &l);
            p->children[1] = push(o, p->children[1], &r);
            return filter_over(o, p, &stay);
        }
        p->children[0] = push(o, p->children[0], &none);
        p->children[1] = push(o, p->children[1], &none);
        return filter_over(o, p, c);
    }
    case LH_PLAN_SCAN: {
        /* the scan checks them itself, and derives its pruning
         * predicates from them */
        conj mine = {0}, stay = {0};
        for (uint32_t i = 0; i < c->n; i++) {
            bool sub = has_kind(c->e[i], LH_BX_SUBQUERY);
            conj_add(o, sub ? &stay : &mine, c->e[i]);
        }
        conj_add(o, &mine, p->u.scan.filter);
        p->u.scan.filter = conj_make(o, &mine);
        return filter_over(o, p, &stay);
    }
    default:
        for (uint32_t i = 0; i < p->nchildren; i++) {
            p->children[i] = push(o, p->children[i], &none);
        }
        return filter_over(o, p, c);
    }
}

/* ---- 4. join order
 * ------------------------------------------------------------ */

/* The relations and conditions of a tree of inner / cross joins. */
typedef struct joinset {
    lh_plan **rels;
    uint32_t nrels, cap;
    conj conds;
} joinset;

static void
collect_joins(opt *o, lh_plan *p, joinset *js)
{
    if (p->kind == LH_PLAN_JOIN &&
        (p->u.join.kind == LH_JOIN_INNER || p->u.join.kind == LH_JOIN_CROSS)) {
        collect_joins(o, p->children[0], js);
        collect_joins(o, p->children[1], js);
        conj_add(o, &js->conds, p->u.join.cond);
        return;
    }
    lh_plan **n =
        lh_sql_grow(o->a, js->rels, js->nrels, &js->cap, sizeof(lh_plan *), 8);
    if (n == NULL) {
        o->oom = true;
        return;
    }
    js->rels = n;
    js->rels[js->nrels++] = p;
}

static lh_plan *
make_join(opt *o, lh_plan *l, lh_plan *r)
{
    lh_plan *j = oalloc(o, sizeof(lh_plan));
    lh_plan **kids = oalloc(o, 2 * sizeof(lh_plan *));
    uint32_t n = l->ncols + r->ncols;
    uint32_t *cols = oalloc(o, (n + 1) * sizeof(uint32_t));
    lh_type *types = oalloc(o, (n + 1) * sizeof(lh_type));
    const char **names = oalloc(o, (n + 1) * sizeof(char *));
    if (!j || !kids || !cols || !types || !names) {
        return NULL;
    }
    memcpy(cols, l->cols, l->ncols * sizeof(uint32_t));
    memcpy(cols + l->ncols, r->cols, r->ncols * sizeof(uint32_t));
    memcpy(types, l->types, l->ncols * sizeof(lh_type));
    memcpy(types + l->ncols, r->types, r->ncols * sizeof(lh_type));
    memcpy(names, l->names, l->ncols * sizeof(char *));
    memcpy(names + l->ncols, r->names, r->ncols * sizeof(char *));
    kids[0] = l;
    kids[1] = r;
    j->kind = LH_PLAN_JOIN;
    j->pos = -1;
    j->children = kids;
    j->nchildren = 2;
    j->cols = cols;
    j->types = types;
    j->names = names;
    j->ncols = n;
    j->u.join.kind = LH_JOIN_CROSS;
    return j;
}

static void order_joins(opt *o, lh_plan **pp);

static lh_plan *
reorder(opt *o, lh_plan *p)
{
    joinset js = {0};
    collect_joins(o, p, &js);
    if (o->oom || js.nrels < 3) {
        return p;
    }
    for (uint32_t i = 0; i < js.nrels; i++) {
        order_joins(o, &js.rels[i]);
    }
    bool *used = oalloc(o, js.nrels);
    bool *cused = oalloc(o, js.conds.n + 1);
    if (used == NULL || cused == NULL) {
        return p;
    }
    /* start from the smallest relation */
    uint32_t first = 0;
    for (uint32_t i = 1; i < js.nrels; i++) {
        if (js.rels[i]->est_rows < js.rels[first]->est_rows) {
            first = i;
        }
    }
    lh_plan *cur = js.rels[first];
    used[first] = true;
    idset have = {0};
    ids_of_plan(o, cur, &have);
    for (uint32_t step = 1; step < js.nrels; step++) {
        /* the relation with the smallest estimate among those joined by
         * a key; a cross product only when none is */
        int best = -1;
        bool best_connected = false;
        for (uint32_t i = 0; i < js.nrels; i++) {
            if (used[i]) {
                continue;
            }
            idset r = {0};
            ids_of_plan(o, js.rels[i], &r);
            bool connected = false;
            for (uint32_t k = 0; k < js.conds.n && !connected; k++) {
                lh_bexpr *lk, *rk;
                connected = !cused[k] &&
                            equi_key(o, js.conds.e[k], &have, &r, &lk, &rk);
            }
            if (best < 0 || (connected && !best_connected) ||
                (connected == best_connected &&
                 js.rels[i]->est_rows < js.rels[best]->est_rows)) {
                best = (int)i;
                best_connected = connected;
            }
        }
        lh_plan *r = js.rels[best];
        used[best] = true;
        /* the smaller side builds: put it on the right */
        lh_plan *j = r->est_rows <= cur->est_rows ? make_join(o, cur, r)
                                                  : make_join(o, r, cur);
        if (j == NULL) {
            return p;
        }
        ids_of_plan(o, r, &have);
        conj cond = {0};
        for (uint32_t k = 0; k < js.conds.n; k++) {
            if (!cused[k] && refs_within(o, js.conds.e[k], &have)) {
                conj_add(o, &cond, js.conds.e[k]);
                cused[k] = true;
            }
        }
        j->u.join.cond = conj_make(o, &cond);
        if (cond.n) {
            j->u.join.kind = LH_JOIN_INNER;
        }
        double big = cur->est_rows > r->est_rows ? cur->est_rows : r->est_rows;
        j->est_rows = best_connected ? big : cur->est_rows * r->est_rows;
        cur = j;
    }
    /* conditions left over (they read nothing of these relations?) */
    conj rest = {0};
    for (uint32_t k = 0; k < js.conds.n; k++) {
        if (!cused[k]) {
            conj_add(o, &rest, js.conds.e[k]);
        }
    }
    cur = filter_over(o, cur, &rest);
    /* the nodes above name columns by id: the new column order is fine */
    return cur;
}

static void
order_joins(opt *o, lh_plan **pp)
{
    lh_plan *p = *pp;
    if (p->kind == LH_PLAN_JOIN &&
        (p->u.join.kind == LH_JOIN_INNER || p->u.join.kind == LH_JOIN_CROSS)) {
        *pp = reorder(o, p);
        if (*pp != p) {
            return;
        }
    }
    for (uint32_t i = 0; i < p->nchildren; i++) {
        order_joins(o, &p->children[i]);
    }
}

/* ---- 5. column pruning
 * --------------------------------------------------------- */

static void prune(opt *o, lh_plan *p, idset *need);

static void
need_expr(opt *o, idset *need, const lh_bexpr *e)
{
    expr_refs(o, e, need, NULL);
}

static void
pass_through(lh_plan *p)
{
    lh_plan *c = p->children[0];
    p->cols = c->cols;
    p->types = c->types;
    p->names = c->names;
    p->ncols = c->ncols;
}

static void
keep_needed(lh_plan *p, const idset *need, void **extra, size_t esz)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < p->ncols; i++) {
        if (!ids_has(need, p->cols[i])) {
            continue;
        }
        p->cols[k] = p->cols[i];
        p->types[k] = p->types[i];
        p->names[k] = p->names[i];
        if (extra) {
            memmove((char *)*extra + k * esz, (char *)*extra + i * esz, esz);
        }
        k++;
    }
    p->ncols = k;
}

static void
prune(opt *o, lh_plan *p, idset *need)
{
    if (o->oom) {
        return;
    }
    idset cn = {0};
    for (uint32_t i = 0; i < need->n; i++) {
        ids_add(o, &cn, need->ids[i]);
    }
    switch ((lh_plan_kind)p->kind) {
    case LH_PLAN_SCAN: {
        need_expr(o, &cn, p->u.scan.filter);
        uint32_t k = 0;
        for (uint32_t i = 0; i < p->ncols; i++) {
            if (!ids_has(&cn, p->cols[i])) {
                continue;
            }
            p->cols[k] = p->cols[i];
            p->types[k] = p->types[i];
            p->names[k] = p->names[i];
            p->u.scan.table_cols[k] = p->u.scan.table_cols[i];
            k++;
        }
        p->ncols = k;
        return;
    }
    case LH_PLAN_PROJECT: {
        idset child = {0};
        uint32_t k = 0;
        for (uint32_t i = 0; i < p->ncols; i++) {
            if (!ids_has(&cn, p->cols[i])) {
                continue;
            }
            p->cols[k] = p->cols[i];
            p->types[k] = p->types[i];
            p->names[k] = p->names[i];
            p->u.project.exprs[k] = p->u.project.exprs[i];
            need_expr(o, &child, p->u.project.exprs[k]);
            k++;
        }
        p->ncols = k;
        prune(o, p->children[0], &child);
        return;
    }
    case LH_PLAN_FILTER:
        need_expr(o, &cn, p->u.filter.pred);
        prune(o, p->children[0], &cn);
        pass_through(p);
        return;
    case LH_PLAN_SORT:
        for (uint32_t i = 0; i < p->u.sort.nkeys; i++) {
            need_expr(o, &cn, p->u.sort.keys[i].expr);
        }
        prune(o, p->children[0], &cn);
        pass_through(p);
        return;
    case LH_PLAN_LIMIT:
        prune(o, p->children[0], &cn);
        pass_through(p);
        return;
    case LH_PLAN_JOIN: {
        need_expr(o, &cn, p->u.join.cond);
        for (uint32_t i = 0; i < p->u.join.nkeys; i++) {
            need_expr(o, &cn, p->u.join.lkeys[i]);
            need_expr(o, &cn, p->u.join.rkeys[i]);
        }
        prune(o, p->children[0], &cn);
        prune(o, p->children[1], &cn);
        lh_plan *l = p->children[0], *r = p->children[1];
        uint8_t kind = p->u.join.kind;
        bool right_out = kind != LH_JOIN_SEMI && kind != LH_JOIN_ANTI &&
                         kind != LH_JOIN_MARK;
        uint32_t n = l->ncols + (right_out ? r->ncols : 0) +
                     (kind == LH_JOIN_MARK ? 1 : 0);
        uint32_t *cols = oalloc(o, (n + 1) * sizeof(uint32_t));
        lh_type *types = oalloc(o, (n + 1) * sizeof(lh_type));
        const char **names = oalloc(o, (n + 1) * sizeof(char *));
        if (!cols || !types || !names) {
            return;
        }
        memcpy(cols, l->cols, l->ncols * sizeof(uint32_t));
        memcpy(types, l->types, l->ncols * sizeof(lh_type));
        memcpy(names, l->names, l->ncols * sizeof(char *));
        if (right_out) {
            memcpy(cols + l->ncols, r->cols, r->ncols * sizeof(uint32_t));
            memcpy(types + l->ncols, r->types, r->ncols * sizeof(lh_type));
            memcpy(names + l->ncols, r->names, r->ncols * sizeof(char *));
        }
        if (kind == LH_JOIN_MARK) {
            cols[n - 1] = p->cols[p->ncols - 1];
            types[n - 1] = p->types[p->ncols - 1];
            names[n - 1] = p->names[p->ncols - 1];
        }
        p->cols = cols;
        p->types = types;
        p->names = names;
        p->ncols = n;
        return;
    }
    case LH_PLAN_AGGREGATE: {
        idset child = {0};
        for (uint32_t i = 0; i < p->u.agg.ngroups; i++) {
            need_expr(o, &child, p->u.agg.groups[i]);
        }
        /* aggregates nobody reads are dropped */
        uint32_t ng = p->u.agg.ngroups, k = 0;
        for (uint32_t i = 0; i < p->u.agg.naggs; i++) {
            if (!ids_has(&cn, p->cols[ng + i])) {
                continue;
            }
            p->u.agg.aggs[k] = p->u.agg.aggs[i];
            p->cols[ng + k] = p->cols[ng + i];
            p->types[ng + k] = p->types[ng + i];
            p->names[ng + k] = p->names[ng + i];
            need_expr(o, &child, p->u.agg.aggs[k]);
            k++;
        }
        uint32_t extra = p->ncols - ng - p->u.agg.naggs; /* grouping id */
        for (uint32_t i = 0; i < extra; i++) {
            uint32_t from = ng + p->u.agg.naggs + i, to = ng + k + i;
            p->cols[to] = p->cols[from];
            p->types[to] = p->types[from];
            p->names[to] = p->names[from];
        }
        p->u.agg.naggs = k;
        p->ncols = ng + k + extra;
        prune(o, p->children[0], &child);
        return;
    }
    case LH_PLAN_WINDOW: {
        idset child = {0};
        lh_plan *c = p->children[0];
        uint32_t nin = c->ncols;
        for (uint32_t i = 0; i < nin; i++) {
            if (ids_has(&cn, c->cols[i])) {
                ids_add(o, &child, c->cols[i]);
            }
        }
        uint32_t k = 0;
        for (uint32_t i = 0; i < p->u.window.ncalls; i++) {
            uint32_t id = p->cols[nin + i];
            if (!ids_has(&cn, id)) {
                continue;
            }
            p->u.window.calls[k] = p->u.window.calls[i];
            p->cols[nin + k] = id;
            p->types[nin + k] = p->types[nin + i];
            p->names[nin + k] = p->names[nin + i];
            need_expr(o, &child, p->u.window.calls[k]);
            k++;
        }
        uint32_t *wc = oalloc(o, (k + 1) * sizeof(uint32_t));
        lh_type *wt = oalloc(o, (k + 1) * sizeof(lh_type));
        const char **wn = oalloc(o, (k + 1) * sizeof(char *));
        if (!wc || !wt || !wn) {
            return;
        }
        memcpy(wc, p->cols + nin, k * sizeof(uint32_t));
        memcpy(wt, p->types + nin, k * sizeof(lh_type));
        memcpy(wn, p->names + nin, k * sizeof(char *));
        p->u.window.ncalls = k;
        prune(o, c, &child);
        uint32_t n = c->ncols + k;
        uint32_t *cols = oalloc(o, (n + 1) * sizeof(uint32_t));
        lh_type *types = oalloc(o, (n + 1) * sizeof(lh_type));
        const char **names = oalloc(o, (n + 1) * sizeof(char *));
        if (!cols || !types || !names) {
            return;
        }
        memcpy(cols, c->cols, c->ncols * sizeof(uint32_t));
        memcpy(types, c->types, c->ncols * sizeof(lh_type));
        memcpy(names, c->names, c->ncols * sizeof(char *));
        memcpy(cols + c->ncols, wc, k * sizeof(uint32_t));
        memcpy(types + c->ncols, wt, k * sizeof(lh_type));
        memcpy(names + c->ncols, wn, k * sizeof(char *));
        p->cols = cols;
        p->types = types;
        p->names = names;
        p->ncols = n;
        return;
    }
    default: {
        /* everything the node produces is needed by its semantics
         * (DISTINCT, set operations, VALUES, statements) */
        for (uint32_t i = 0; i < p->nchildren; i++) {
            idset all = {0};
            ids_of_plan(o, p->children[i], &all);
            if (p->kind == LH_PLAN_DISTINCT) {
                for (uint32_t k = 0; k < p->u.distinct.non; k++) {
                    need_expr(o, &all, p->u.distinct.on[k]);
                }
            }
            prune(o, p->children[i], &all);
        }
        if (p->kind == LH_PLAN_DISTINCT) {
            pass_through(p);
        }
        (void)keep_needed;
        return;
    }
    }
}

/* ---- 6. scan predicates
 * ----------------------------------------------------------- */

int
lh__opt_scan_col(const lh_plan *scan, const lh_bexpr *e)
{
    if (e->kind != LH_BX_COL) {
        return -1;
    }
    for (uint32_t i = 0; i < scan->ncols; i++) {
        if (scan->cols[i] == e->u.col) {
            return (int)scan->u.scan.table_cols[i];
        }
    }
    return -1;
}

static uint8_t
cmp_op(const char *name, bool swapped)
{
    static const struct {
        const char *name;
        uint8_t op, swap;
    } ops[] = {{"=", LH_OP_EQ, LH_OP_EQ},
               {"<", LH_OP_LT, LH_OP_GT},
               {"<=", LH_OP_LE, LH_OP_GE},
               {">", LH_OP_GT, LH_OP_LT},
               {">=", LH_OP_GE, LH_OP_LE}};
    for (size_t i = 0; i < LH_ARRAY_LEN(ops); i++) {
        if (strcmp(name, ops[i].name) == 0) {
            return swapped ? ops[i].swap : ops[i].op;
        }
    }
    return LH_OP_NONE;
}

static void
scan_preds(opt *o, lh_plan *p)
{
    for (uint32_t i = 0; i < p->nchildren; i++) {
        scan_preds(o, p->children[i]);
    }
    if (p->kind != LH_PLAN_SCAN || p->u.scan.filter == NULL) {
        return;
    }
    conj all = {0};
    conj_add(o, &all, p->u.scan.filter);
    lh_scan_pred *preds = oalloc(o, (all.n + 1) * sizeof(lh_scan_pred));
    if (preds == NULL) {
        return;
    }
    const lh_sql_table *t = p->u.scan.table;
    uint32_t n = 0;
    int64_t lo = INT64_MIN, hi = INT64_MAX;
    bool has_time = false;
    for (uint32_t i = 0; i < all.n; i++) {
        lh_bexpr *e = all.e[i];
        lh_scan_pred *sp = &preds[n];
        memset(sp, 0, sizeof *sp);
        if (e->kind == LH_BX_CALL && e->u.call.nargs == 2) {
            lh_bexpr *a = e->u.call.args[0], *b = e->u.call.args[1];
            bool swapped = false;
            int col = lh__opt_scan_col(p, a);
            if (col < 0) {
                col = lh__opt_scan_col(p, b);
                lh_bexpr *tmp = a;
                a = b;
                b = tmp;
                swapped = true;
            }
            uint8_t op = cmp_op(e->u.call.fn->name, swapped);
            if (col < 0 || op == LH_OP_NONE || b->kind != LH_BX_CONST ||
                b->u.c.is_null || !lh_type_equal(b->type, t->cols[col].type)) {
                continue;
            }
            sp->col = (uint32_t)col;
            sp->op = op;
            sp->values = &b->u.c;
            sp->nvalues = 1;
            n++;
            if (col == t->ts_col) {
                int64_t v = b->u.c.u.i;
                has_time = true;
                if ((op == LH_OP_EQ || op == LH_OP_GE) && v > lo) {
                    lo = v;
                } else if (op == LH_OP_GT && v != INT64_MAX && v + 1 > lo) {
                    lo = v + 1;
                }
                if ((op == LH_OP_EQ || op == LH_OP_LE) && v < hi) {
                    hi = v;
                } else if (op == LH_OP_LT && v != INT64_MIN && v - 1 < hi) {
                    hi = v - 1;
                }
            }
        } else if (e->kind == LH_BX_IN && !e->negated) {
            int col = lh__opt_scan_col(p, e->u.in.arg);
            if (col < 0) {
                continue;
            }
            lh_value *vals = oalloc(o, (e->u.in.n + 1) * sizeof(lh_value));
            if (vals == NULL) {
                return;
            }
            bool ok = true;
            for (uint32_t k = 0; k < e->u.in.n && ok; k++) {
                lh_bexpr *x = e->u.in.list[k];
                ok = x->kind == LH_BX_CONST && !x->u.c.is_null &&
                     lh_type_equal(x->type, t->cols[col].type);
                if (ok) {
                    vals[k] = x->u.c;
                }
            }
            if (!ok) {
                continue;
            }
            sp->col = (uint32_t)col;
            sp->op = LH_OP_NONE;
            sp->values = vals;
            sp->nvalues = e->u.in.n;
            n++;
        } else if (e->kind == LH_BX_IS_NULL) {
            int col = lh__opt_scan_col(p, e->u.list.args[0]);
            if (col < 0) {
                continue;
            }
            sp->col = (uint32_t)col;
            sp->is_null = !e->negated;
            sp->not_null = e->negated;
            n++;
        }
    }
    p->u.scan.preds = preds;
    p->u.scan.npreds = n;
    if (has_time) {
        p->u.scan.has_time = true;
        p->u.scan.ts_lo = lo;
        p->u.scan.ts_hi = hi;
    }
}

/* ---- the passes
 * ----------------------------------------------------------------- */

static void
keys_pass(opt *o, lh_plan *p)
{
    for (uint32_t i = 0; i < p->nchildren; i++) {
        keys_pass(o, p->children[i]);
    }
    if (p->kind == LH_PLAN_JOIN) {
        set_join_keys(o, p);
    }
}

/* Finishes the subquery plans of every expression of p's tree. */
static void
finish_subqueries(opt *o, lh_plan *p)
{
    for (uint32_t i = 0; i < p->nchildren; i++) {
        finish_subqueries(o, p->children[i]);
    }
    subq_ud s = {o, true};
    extern void lh__bx_walk(lh_bexpr * e, bool (*fn)(lh_bexpr * e, void *),
                            void *ud);
#define FINISH(e) lh__bx_walk((e), subq_fn, &s)
    switch ((lh_plan_kind)p->kind) {
    case LH_PLAN_FILTER:
        FINISH(p->u.filter.pred);
        break;
    case LH_PLAN_PROJECT:
        for (uint32_t i = 0; i < p->ncols; i++) {
            FINISH(p->u.project.exprs[i]);
        }
        break;
    case LH_PLAN_VALUES:
        for (uint32_t r = 0; r < p->u.values.nrows; r++) {
            for (uint32_t c = 0; c < p->ncols; c++) {
                FINISH(p->u.values.rows[r][c]);
            }
        }
        break;
    case LH_PLAN_AGGREGATE:
        for (uint32_t i = 0; i < p->u.agg.ngroups; i++) {
            FINISH(p->u.agg.groups[i]);
        }
        for (uint32_t i = 0; i < p->u.agg.naggs; i++) {
            FINISH(p->u.agg.aggs[i]);
        }
        break;
    case LH_PLAN_JOIN:
        FINISH(p->u.join.cond);
        for (uint32_t i = 0; i < p->u.join.nkeys; i++) {
            FINISH(p->u.join.lkeys[i]);
            FINISH(p->u.join.rkeys[i]);
        }
        break;
    case LH_PLAN_SORT:
        for (uint32_t i = 0; i < p->u.sort.nkeys; i++) {
            FINISH(p->u.sort.keys[i].expr);
        }
        break;
    case LH_PLAN_LIMIT:
        FINISH(p->u.limit.limit);
        FINISH(p->u.limit.offset);
        break;
    case LH_PLAN_WINDOW:
        for (uint32_t i = 0; i < p->u.window.ncalls; i++) {
            FINISH(p->u.window.calls[i]);
        }
        break;
    case LH_PLAN_SCAN:
        FINISH(p->u.scan.filter);
        FINISH(p->u.scan.travel_expr);
        break;
    default:
        break;
    }
#undef FINISH
}

/* count(DISTINCT x) GROUP BY g (x and g plain columns, the only
 * aggregate) -> count(x) over a grouping by g, x: the inner grouping runs
 * on every worker and merges, where a DISTINCT aggregate runs on one. The
 * columns keep their ids (a grouped plain column is its own output). */
static void
split_distinct(opt *o, lh_plan *p)
{
    for (uint32_t i = 0; i < p->nchildren; i++) {
        split_distinct(o, p->children[i]);
    }
    if (p->kind != LH_PLAN_AGGREGATE || p->u.agg.sets || p->u.agg.naggs != 1 ||
        p->ncols != p->u.agg.ngroups + 1) {
        return;
    }
    lh_bexpr *a = p->u.agg.aggs[0];
    if (a->kind != LH_BX_AGG || !a->u.agg.distinct || a->u.agg.filter ||
        a->u.agg.norder || a->u.agg.nargs != 1 ||
        a->u.agg.args[0]->kind != LH_BX_COL ||
        strcmp(a->u.agg.fn->name, "count") != 0) {
        return;
    }
    uint32_t ng = p->u.agg.ngroups;
    for (uint32_t i = 0; i < ng; i++) {
        const lh_bexpr *g = p->u.agg.groups[i];
        if (g->kind != LH_BX_COL || p->cols[i] != g->u.col ||
            g->u.col == a->u.agg.args[0]->u.col) {
            return;
        }
    }
    lh_plan *in = oalloc(o, sizeof(lh_plan));
    lh_bexpr **groups = oalloc(o, (ng + 1) * sizeof(lh_bexpr *));
    uint32_t *cols = oalloc(o, (ng + 1) * sizeof(uint32_t));
    lh_type *types = oalloc(o, (ng + 1) * sizeof(lh_type));
    const char **names = oalloc(o, (ng + 1) * sizeof(char *));
    lh_bexpr *cnt = oalloc(o, sizeof(lh_bexpr));
    lh_bexpr **aggs = oalloc(o, sizeof(lh_bexpr *));
    if (!in || !groups || !cols || !types || !names || !cnt || !aggs) {
        return;
    }
    const lh_bexpr *x = a->u.agg.args[0];
    for (uint32_t i = 0; i < ng; i++) {
        groups[i] = p->u.agg.groups[i];
        cols[i] = p->cols[i];
        types[i] = p->types[i];
        names[i] = p->names[i];
    }
    groups[ng] = (lh_bexpr *)x;
    cols[ng] = x->u.col;
    types[ng] = x->type;
    names[ng] = "?column?";
    *in = *p;
    in->u.agg.groups = groups;
    in->u.agg.ngroups = ng + 1;
    in->u.agg.aggs = NULL;
    in->u.agg.naggs = 0;
    in->cols = cols;
    in->types = types;
    in->names = names;
    in->ncols = ng + 1;
    in->est_rows = p->children[0]->est_rows / 2 + 1;
    *cnt = *a;
    cnt->u.agg.distinct = false;
    aggs[0] = cnt;
    lh_plan **kids = oalloc(o, sizeof(lh_plan *));
    if (kids == NULL) {
        return;
    }
    kids[0] = in;
    p->children = kids;
    p->nchildren = 1;
    p->u.agg.aggs = aggs;
}

static void
prepare_plan(opt *o, lh_plan **pp)
{
    fold_plan(o, *pp);
    decorrelate(o, pp);
}

static void
finish_plan(opt *o, lh_plan **pp)
{
    conj none = {0};
    *pp = push(o, *pp, &none);
    order_joins(o, pp);
    keys_pass(o, *pp);
    split_distinct(o, *pp);
    idset need = {0};
    ids_of_plan(o, *pp, &need);
    prune(o, *pp, &need);
    scan_preds(o, *pp);
    if (!lh__opt_knn(*pp, o->set, o->a)) {
        o->oom = true;
    }
    finish_subqueries(o, *pp);
}

static void
optimize_plan(opt *o, lh_plan **pp)
{
    lh_plan *p = *pp;
    switch ((lh_plan_kind)p->kind) {
    case LH_PLAN_INSERT:
    case LH_PLAN_COPY:
    case LH_PLAN_EXPLAIN:
    case LH_PLAN_CREATE_TABLE:
        for (uint32_t i = 0; i < p->nchildren; i++) {
            optimize_plan(o, &p->children[i]);
        }
        return;
    default:
        break;
    }
    if (p->kind >= LH_PLAN_INSERT) {
        return;
    }
    prepare_plan(o, pp);
    finish_plan(o, pp);
}

lh_rc
lh_sql_optimize(lh_sql_query *q, const lh_sql_settings *set,
                lh_sql_fold_fn fold, void *fold_ud, lh_arena *a, lh_err *err)
{
    opt o = {.set = set, .fold = fold, .fold_ud = fold_ud, .a = a, .err = err};
    optimize_plan(&o, &q->root);
    if (o.oom) {
        return lh_err_set(err, LH_ENOMEM, "out of memory optimizing the query");
    }
    return LH_OK;
}
