/*
 * Binding queries: SELECT (FROM, WHERE, GROUP BY with grouping sets,
 * HAVING, window calls, QUALIFY, DISTINCT [ON], ORDER BY, LIMIT/OFFSET),
 * set operations, VALUES, and WITH [RECURSIVE].
 *
 * The plan of a SELECT, bottom up:
 *   FROM -> FILTER(where) -> AGGREGATE -> FILTER(having) -> WINDOW ->
 *   FILTER(qualify) -> PROJECT(targets + hidden sort keys) -> DISTINCT ->
 *   SORT -> LIMIT -> PROJECT(targets only, when sort keys were hidden)
 * An aggregate's group key that is a plain column keeps that column's id,
 * so every expression above (correlated subqueries included) still names
 * it; other keys and the aggregates get new ids.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sql/bind_int.h"

static lh_rc bind_select(binder *b, bind_scope *parent, const lh_ast *q,
                         lh_plan **out);

/* ---- helpers ---------------------------------------------------------------
 */

static lh_plan *
wrap1(binder *b, lh_plan_kind kind, lh_plan *child)
{
    lh_plan *p = lh__plan_new(b, kind, 1, child->ncols);
    if (p == NULL) {
        return NULL;
    }
    p->children[0] = child;
    memcpy(p->cols, child->cols, child->ncols * sizeof(uint32_t));
    memcpy(p->types, child->types, child->ncols * sizeof(lh_type));
    memcpy(p->names, child->names, child->ncols * sizeof(char *));
    p->est_rows = child->est_rows;
    return p;
}

static lh_rc
add_filter(binder *b, lh_plan **p, lh_bexpr *pred)
{
    lh_plan *f = wrap1(b, LH_PLAN_FILTER, *p);
    if (f == NULL) {
        return LH_ENOMEM;
    }
    f->u.filter.pred = pred;
    f->est_rows = (*p)->est_rows / 3 + 1;
    *p = f;
    return LH_OK;
}

/* PostgreSQL's name for an unnamed target. */
static const char *
target_name(const lh_ast *e)
{
    switch (e->kind) {
    case LH_AST_COLREF:
        return e->u.colref.name.parts[e->u.colref.name.n - 1];
    case LH_AST_FUNC:
        return e->u.func.name.parts[e->u.func.name.n - 1];
    case LH_AST_CAST:
        if (e->u.cast.arg->kind == LH_AST_COLREF ||
            e->u.cast.arg->kind == LH_AST_FUNC ||
            e->u.cast.arg->kind == LH_AST_CAST) {
            return target_name(e->u.cast.arg);
        }
        return "?column?";
    case LH_AST_CASE:
        return "case";
    case LH_AST_EXISTS:
        return "exists";
    case LH_AST_SUBQUERY: {
        const lh_ast *q = e->u.subquery.query;
        if (q->kind == LH_AST_SELECT && q->u.select.targets.n == 1) {
            if (q->u.select.target_alias[0]) {
                return q->u.select.target_alias[0];
            }
            return target_name(q->u.select.targets.items[0]);
        }
        return "?column?";
    }
    default:
        return "?column?";
    }
}

static lh_rc
register_ctes(binder *b, bind_scope *s, const lh_ast_cte *ctes, uint32_t n,
              bool recursive)
{
    if (n == 0) {
        return LH_OK;
    }
    s->ctes = lh__bind_alloc(b, n * sizeof(bind_cte));
    if (s->ctes == NULL) {
        return LH_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t k = 0; k < i; k++) {
            if (strcasecmp(ctes[i].name, ctes[k].name) == 0) {
                return lh__bind_error(b, LH_EINVAL, ctes[i].pos,
                                      "WITH query name \"%s\" specified more "
                                      "than once",
                                      ctes[i].name);
            }
        }
        s->ctes[i].name = ctes[i].name;
        s->ctes[i].def = &ctes[i];
        s->ctes[i].home = s;
        s->ctes[i].recursive = recursive;
    }
    s->nctes = n;
    return LH_OK;
}

/* A constant LIMIT / OFFSET: bound with no columns, cast to BIGINT. */
static lh_rc
bind_count(binder *b, const lh_ast *e, const char *what, lh_bexpr **out)
{
    if (e == NULL) {
        *out = NULL;
        return LH_OK;
    }
    bind_scope empty = {0};
    lh_bexpr *x;
    lh_rc rc = lh__bind_expr(b, &empty, e, 0, &x);
    if (rc != LH_OK) {
        if (b->err && strstr(b->err->msg, "does not exist")) {
            return lh__bind_error(b, LH_EINVAL, e->pos,
                                  "argument of %s must not contain variables",
                                  what);
        }
        return rc;
    }
    if (!lh_sql_is_integer(x->type.id) && !x->untyped &&
        x->type.id != LH_T_NULL && x->type.id != LH_T_DECIMAL &&
        x->type.id != LH_T_DOUBLE) {
        char tn[48];
        return lh__bind_error(b, LH_EINVAL, e->pos,
                              "argument of %s must be type bigint, not type "
                              "%s",
                              what, lh_sql_type_text(x->type, tn));
    }
    return lh__bind_cast(b, x, lh_sql_type(LH_T_BIGINT), false, out);
}

static lh_rc
add_limit(binder *b, lh_plan **p, const lh_ast *limit, const lh_ast *offset,
          bool percent)
{
    if (limit == NULL && offset == NULL) {
        return LH_OK;
    }
    lh_plan *l = wrap1(b, LH_PLAN_LIMIT, *p);
    if (l == NULL) {
        return LH_ENOMEM;
    }
    lh_rc rc = bind_count(b, limit, "LIMIT", &l->u.limit.limit);
    if (rc == LH_OK) {
        rc = bind_count(b, offset, "OFFSET", &l->u.limit.offset);
    }
    l->u.limit.percent = percent;
    *p = l;
    return rc;
}

/* ORDER BY over the output of a set operation or VALUES: names and
 * ordinals of the output, or expressions of them. */
static lh_rc
order_on_output(binder *b, bind_scope *parent, lh_plan **p,
                const lh_ast_order_list *o)
{
    if (o->n == 0) {
        return LH_OK;
    }
    bind_scope s = {0};
    s.parent = parent;
    for (uint32_t i = 0; i < (*p)->ncols; i++) {
        lh_rc rc = lh__scope_add(b, &s, NULL, (*p)->names[i], (*p)->cols[i],
                                 (*p)->types[i], false);
        if (rc != LH_OK) {
            return rc;
        }
    }
    lh_plan *sort = wrap1(b, LH_PLAN_SORT, *p);
    if (sort == NULL) {
        return LH_ENOMEM;
    }
    lh_order_key *keys = lh__bind_alloc(b, o->n * sizeof(lh_order_key));
    if (keys == NULL) {
        return LH_ENOMEM;
    }
    for (uint32_t i = 0; i < o->n; i++) {
        const lh_ast *e = o->items[i].expr;
        lh_order_key *k = &keys[i];
        if (e->kind == LH_AST_LITERAL && e->u.lit.kind == LH_LIT_INT) {
            long v = strtol(e->u.lit.text, NULL, 10);
            if (v < 1 || v > (long)(*p)->ncols) {
                return lh__bind_error(b, LH_EINVAL, e->pos,
                                      "ORDER BY position %ld is not in select "
                                      "list",
                                      v);
            }
            k->expr = lh__bx_col(b, (*p)->cols[v - 1], (*p)->types[v - 1]);
        } else {
            lh_rc rc = lh__bind_expr(b, &s, e, 0, &k->expr);
            if (rc != LH_OK) {
                return rc;
            }
        }
        if (k->expr == NULL) {
            return LH_ENOMEM;
        }
        k->desc = o->items[i].desc;
        if (o->items[i].nulls_first >= 0) {
            k->nulls_first = o->items[i].nulls_first;
        } else if (b->set->nulls_last_desc) {
            k->nulls_first = false;
        } else if (b->set->nulls_first_asc) {
            k->nulls_first = true;
        } else {
            k->nulls_first = k->desc;
        }
    }
    sort->u.sort.keys = keys;
    sort->u.sort.nkeys = o->n;
    *p = sort;
    return LH_OK;
}

/* A PROJECT casting p's columns to types (new ids where a cast happens). */
static lh_rc
cast_output(binder *b, lh_plan **p, const lh_type *types)
{
    bool need = false;
    for (uint32_t i = 0; i < (*p)->ncols; i++) {
        need |= !lh_type_equal((*p)->types[i], types[i]);
    }
    if (!need) {
        return LH_OK;
    }
    lh_plan *c = *p;
    lh_plan *pr = lh__plan_new(b, LH_PLAN_PROJECT, 1, c->ncols);
    if (pr == NULL) {
        return LH_ENOMEM;
    }
    pr->children[0] = c;
    pr->est_rows = c->est_rows;
    pr->u.project.exprs = lh__bind_alloc(b, c->ncols * sizeof(lh_bexpr *));
    if (pr->u.project.exprs == NULL) {
        return LH_ENOMEM;
    }
    for (uint32_t i = 0; i < c->ncols; i++) {
        lh_bexpr *e = lh__bx_col(b, c->cols[i], c->types[i]);
        lh_rc rc = lh__bind_cast(b, e, types[i], false, &e);
        if (rc != LH_OK) {
            return rc;
        }
        pr->u.project.exprs[i] = e;
        pr->types[i] = types[i];
        pr->names[i] = c->names[i];
        pr->cols[i] = lh_type_equal(c->types[i], types[i])
                          ? c->cols[i]
                          : lh__bind_new_id(b, types[i], c->names[i]);
    }
    *p = pr;
    return LH_OK;
}

/* ---- set operations and VALUES
 * ------------------------------------------------ */

static lh_rc
bind_setop(binder *b, bind_scope *parent, const lh_ast *q, lh_plan **out)
{
    bind_scope ws = {0};
    ws.parent = parent;
    lh_rc rc = register_ctes(b, &ws, q->u.setop.ctes, q->u.setop.nctes,
                             q->u.setop.recursive);
    if (rc != LH_OK) {
        return rc;
    }
    if (q->u.setop.by_name) {
        return lh__bind_error(b, LH_EUNSUPPORTED, q->pos,
                              "unsupported: UNION BY NAME");
    }
    lh_plan *l, *r;
    rc = lh__bind_query(b, &ws, q->u.setop.left, &l);
    if (rc == LH_OK) {
        rc = lh__bind_query(b, &ws, q->u.setop.right, &r);
    }
    if (rc != LH_OK) {
        return rc;
    }
    static const char *const opname[] = {"UNION", "INTERSECT", "EXCEPT"};
    if (l->ncols != r->ncols) {
        return lh__bind_error(b, LH_EINVAL, q->pos,
                              "each %s query must have the same number of "
                              "columns",
                              opname[q->u.setop.op]);
    }
    lh_type *types = lh__bind_alloc(b, (l->ncols + 1) * sizeof(lh_type));
    if (types == NULL) {
        return LH_ENOMEM;
    }
    for (uint32_t i = 0; i < l->ncols; i++) {
        if (!lh_sql_common_type(l->types[i], false, r->types[i], false,
                                &types[i])) {
            char a[48], c[48];
            return lh__bind_error(
                b, LH_EINVAL, q->pos, "%s types %s and %s cannot be matched",
                opname[q->u.setop.op], lh_sql_type_text(l->types[i], a),
                lh_sql_type_text(r->types[i], c));
        }
        if (types[i].id == LH_T_NULL) {
            types[i] = lh_sql_type(LH_T_VARCHAR);
        }
    }
    rc = cast_output(b, &l, types);
    if (rc == LH_OK) {
        rc = cast_output(b, &r, types);
    }
    if (rc != LH_OK) {
        return rc;
    }
    lh_plan *p = lh__plan_new(b, LH_PLAN_SETOP, 2, l->ncols);
    if (p == NULL) {
        return LH_ENOMEM;
    }
    p->pos = q->pos;
    p->children[0] = l;
    p->children[1] = r;
    p->u.setop.op = q->u.setop.op;
    p->u.setop.all = q->u.setop.all;
    for (uint32_t i = 0; i < l->ncols; i++) {
        p->types[i] = types[i];
        p->names[i] = l->names[i];
        p->cols[i] = lh__bind_new_id(b, types[i], l->names[i]);
    }
    p->est_rows = l->est_rows + r->est_rows;
    rc = order_on_output(b, parent, &p, &q->u.setop.order);
    if (rc == LH_OK) {
        rc = add_limit(b, &p, q->u.setop.limit, q->u.setop.offset, false);
    }
    *out = p;
    return rc;
}

static lh_rc
bind_values(binder *b, bind_scope *parent, const lh_ast *q, lh_plan **out)
{
    bind_scope ws = {0};
    ws.parent = parent;
    lh_rc rc = register_ctes(b, &ws, q->u.values.ctes, q->u.values.nctes,
                             q->u.values.recursive);
    if (rc != LH_OK) {
        return rc;
    }
    uint32_t nrows = q->u.values.rows.n;
    uint32_t ncols = q->u.values.rows.items[0]->u.row.items.n;
    lh_bexpr ***rows = lh__bind_alloc(b, nrows * sizeof(lh_bexpr **));
    if (rows == NULL) {
        return LH_ENOMEM;
    }
    for (uint32_t r = 0; r < nrows; r++) {
        const lh_ast *row = q->u.values.rows.items[r];
        if (row->u.row.items.n != ncols) {
            return lh__bind_error(b, LH_EINVAL, row->pos,
                                  "VALUES lists must all be the same length");
        }
        rows[r] = lh__bind_alloc(b, ncols * sizeof(lh_bexpr *));
        if (rows[r] == NULL) {
            return LH_ENOMEM;
        }
        for (uint32_t c = 0; c < ncols; c++) {
            /* VALUES may be correlated inside a subquery (ws sees out) */
            rc = lh__bind_expr(b, &ws, row->u.row.items.items[c], 0,
                               &rows[r][c]);
            if (rc != LH_OK) {
                return rc;
            }
        }
    }
    lh_plan *p = lh__plan_new(b, LH_PLAN_VALUES, 0, ncols);
    if (p == NULL) {
        return LH_ENOMEM;
    }
    p->pos = q->pos;
    lh_bexpr **col = lh__bind_alloc(b, nrows * sizeof(lh_bexpr *));
    if (col == NULL) {
        return LH_ENOMEM;
    }
    for (uint32_t c = 0; c < ncols; c++) {
        lh_type t = lh_sql_type(LH_T_NULL);
        bool untyped = true;
        for (uint32_t r = 0; r < nrows; r++) {
            lh_bexpr *x = rows[r][c];
            lh_type nt;
            if (!lh_sql_common_type(t, untyped && t.id != LH_T_NULL, x->type,
                                    x->untyped, &nt)) {
                char a[48], d[48];
                return lh__bind_error(b, LH_EINVAL, x->pos,
                                      "VALUES types %s and %s cannot be "
                                      "matched",
                                      lh_sql_type_text(t, a),
                                      lh_sql_type_text(x->type, d));
            }
            untyped = t.id == LH_T_NULL ? x->untyped : untyped && x->untyped;
            t = nt;
        }
        if (t.id == LH_T_NULL) {
            t = lh_sql_type(LH_T_VARCHAR);
        }
        for (uint32_t r = 0; r < nrows; r++) {
            rc = lh__bind_cast(b, rows[r][c], t, false, &rows[r][c]);
            if (rc != LH_OK) {
                return rc;
            }
        }
        char name[24];
        snprintf(name, sizeof name, "column%u", c + 1);
        p->names[c] = lh_arena_strdup(b->a, name);
        p->types[c] = t;
        p->cols[c] = lh__bind_new_id(b, t, p->names[c]);
    }
    p->u.values.rows = rows;
    p->u.values.nrows = nrows;
    p->est_rows = nrows;
    rc = order_on_output(b, parent, &p, &q->u.values.order);
    if (rc == LH_OK) {
        rc = add_limit(b, &p, q->u.values.limit, q->u.values.offset, false);
    }
    *out = p;
    return rc;
}

lh_rc
lh__bind_query(binder *b, bind_scope *parent, const lh_ast *q, lh_plan **out)
{
    if (++b->depth > LH_SQL_MAX_DEPTH) {
        b->depth--;
        return lh__bind_error(b, LH_ELIMIT, q->pos, "query nested too deeply");
    }
    lh_rc rc;
    /* a query's WINDOW clause is its own */
    lh_ast_window *const *w = b->windows;
    uint32_t nw = b->nwindows;
    switch (q->kind) {
    case LH_AST_SELECT:
        rc = bind_select(b, parent, q, out);
        break;
    case LH_AST_SETOP:
        rc = bind_setop(b, parent, q, out);
        break;
    case LH_AST_VALUES:
        rc = bind_values(b, parent, q, out);
        break;
    default:
        rc = lh__bind_error(b, LH_EINVAL, q->pos, "%s is not a query",
                            lh_sql_ast_kind_name((lh_ast_kind)q->kind));
        break;
    }
    b->windows = w;
    b->nwindows = nw;
    b->depth--;
    return rc;
}

lh_rc
lh__bind_recursive(binder *b, bind_scope *cs, bind_cte *c, lh_plan **out)
{
    const lh_ast *q = c->def->query;
    lh_plan *anchor, *step;
    c->binding = true;
    lh_rc rc = lh__bind_query(b, cs, q->u.setop.left, &anchor);
    c->binding = false;
    if (rc != LH_OK) {
        return rc;
    }
    lh_plan *rec = lh__plan_new(b, LH_PLAN_RECURSIVE, 2, anchor->ncols);
    if (rec == NULL) {
        return LH_ENOMEM;
    }
    rec->pos = q->pos;
    for (uint32_t i = 0; i < anchor->ncols; i++) {
        const char *name =
            i < c->def->ncols ? c->def->cols[i] : anchor->names[i];
        rec->types[i] = anchor->types[i];
        rec->names[i] = name;
        rec->cols[i] = lh__bind_new_id(b, anchor->types[i], name);
    }
    lh_plan *saved = c->work;
    bool saved_used = c->used;
    c->work = rec;
    c->used = false;
    rc = lh__bind_query(b, cs, q->u.setop.right, &step);
    bool used = c->used;
    c->work = saved;
    c->used = saved_used;
    if (rc != LH_OK) {
        return rc;
    }
    if (step->ncols != anchor->ncols) {
        return lh__bind_error(b, LH_EINVAL, q->pos,
                              "each UNION query must have the same number of "
                              "columns");
    }
    rc = cast_output(b, &step, anchor->types);
    if (rc != LH_OK) {
        return rc;
    }
    rec->children[0] = anchor;
    rec->children[1] = step;
    rec->u.cte.union_all = q->u.setop.all;
    rec->est_rows = anchor->est_rows * 10;
    if (!used) {
        /* never reads itself: an ordinary union */
        rec->kind = LH_PLAN_SETOP;
        rec->u.setop.op = LH_SETOP_UNION;
        rec->u.setop.all = q->u.setop.all;
    }
    *out = rec;
    return LH_OK;
}

/* ---- SELECT: targets --------------------------------------------------------
 */

typedef struct target {
    lh_bexpr *expr;
    const char *name;
    const lh_ast *ast; /* NULL for a column of a star */
} target;

typedef struct targets {
    target *t;
    uint32_t n, cap;
} targets;

static lh_rc
push_target(binder *b, targets *ts, lh_bexpr *e, const char *name,
            const lh_ast *ast)
{
    target *nt = lh_sql_grow(b->a, ts->t, ts->n, &ts->cap, sizeof(target), 16);
    if (nt == NULL) {
        return lh__bind_nomem(b);
    }
    ts->t = nt;
    ts->t[ts->n++] = (target){e, name, ast};
    return LH_OK;
}

static bool
excluded(const lh_ast *star, const char *name)
{
    for (uint32_t i = 0; i < star->u.star.nexclude; i++) {
        if (strcasecmp(star->u.star.exclude[i], name) == 0) {
            return true;
        }
    }
    return false;
}

static lh_rc
expand_star(binder *b, bind_scope *s, const lh_ast *star, targets *ts)
{
    const char *qual = star->u.star.qualifier;
    uint32_t before = ts->n;
    if (qual == NULL) {
        /* USING columns first, then the rest in FROM order */
        for (int pass = 0; pass < 2; pass++) {
            for (uint32_t i = 0; i < s->n; i++) {
                bind_col *c = &s->cols[i];
                if (c->hidden || c->using_dup || (pass == 0) != c->using_head ||
                    excluded(star, c->name)) {
                    continue;
                }
                lh_bexpr *e = lh__bx_col(b, c->id, c->type);
                if (e == NULL) {
                    return LH_ENOMEM;
                }
                lh_rc rc = push_target(b, ts, e, c->name, NULL);
                if (rc != LH_OK) {
                    return rc;
                }
            }
        }
    } else {
        bool known = false;
        for (uint32_t i = 0; i < s->n; i++) {
            bind_col *c = &s->cols[i];
            if (c->qual == NULL || strcasecmp(c->qual, qual) != 0) {
                continue;
            }
            known = true;
            if (c->hidden || excluded(star, c->name)) {
                continue;
            }
            lh_bexpr *e = lh__bx_col(b, c->id, c->type);
            if (e == NULL) {
                return LH_ENOMEM;
            }
            lh_rc rc = push_target(b, ts, e, c->name, NULL);
            if (rc != LH_OK) {
                return rc;
            }
        }
        if (!known) {
            return lh__bind_error(b, LH_EINVAL, star->pos,
                                  "missing FROM-clause entry for table "
                                  "\"%s\"",
                                  qual);
        }
    }
    if (ts->n == before && s->n == 0) {
        return lh__bind_error(b, LH_EINVAL, star->pos,
                              "SELECT * with no tables specified is not "
                              "valid");
    }
    return LH_OK;
}

/* ---- SELECT: aggregation ----------------------------------------------------
 */

typedef struct aggctx {
    binder *b;
    lh_bexpr **groups; /* bound group expressions */
    uint32_t *group_ids;
    uint32_t ngroups;
    lh_bexpr **aggs;
    uint32_t *agg_ids;
    uint32_t naggs, aggcap;
    const uint32_t *from_ids; /* the FROM clause's columns */
    uint32_t nfrom;
    bool sets;       /* grouping sets: keys become NULL in some sets */
    uint32_t gid_id; /* the grouping id column (sets) */
    lh_rc rc;
    int32_t bad_pos;
    const char *bad_name;
} aggctx;

static bool
is_from_id(const aggctx *x, uint32_t id)
{
    for (uint32_t i = 0; i < x->nfrom; i++) {
        if (x->from_ids[i] == id) {
            return true;
        }
    }
    return false;
}

static int
find_group(const aggctx *x, const lh_bexpr *e)
{
    for (uint32_t i = 0; i < x->ngroups; i++) {
        if (lh_sql_expr_equal(x->groups[i], e)) {
            return (int)i;
        }
    }
    return -1;
}

static lh_rc
add_agg(aggctx *x, lh_bexpr *e, uint32_t *id)
{
    for (uint32_t i = 0; i < x->naggs; i++) {
        if (lh_sql_expr_equal(x->aggs[i], e)) {
            *id = x->agg_ids[i];
            return LH_OK;
        }
    }
    if (x->naggs == x->aggcap) {
        uint32_t ncap = x->aggcap ? x->aggcap * 2 : 8;
        lh_bexpr **na = lh_arena_alloc(x->b->a, ncap * sizeof(lh_bexpr *));
        uint32_t *ni = lh_arena_alloc(x->b->a, ncap * sizeof(uint32_t));
        if (na == NULL || ni == NULL) {
            return lh__bind_nomem(x->b);
        }
        if (x->naggs) {
            memcpy(na, x->aggs, x->naggs * sizeof(lh_bexpr *));
            memcpy(ni, x->agg_ids, x->naggs * sizeof(uint32_t));
        }
        x->aggs = na;
        x->agg_ids = ni;
        x->aggcap = ncap;
    }
    x->aggs[x->naggs] = e;
    x->agg_ids[x->naggs] = lh__bind_new_id(x->b, e->type, e->u.agg.fn->name);
    *id = x->agg_ids[x->naggs++];
    return LH_OK;
}

static lh_rc agg_rewrite(aggctx *x, lh_bexpr **pe);

static lh_rc
agg_slot(lh_bexpr **slot, void *ud)
{
    return agg_rewrite(ud, slot);
}

/* Rewrites an expression for above the AGGREGATE: group expressions and
 * aggregate calls become columns of its output; a FROM column left over
 * is an error. Rewrites in place (expressions are trees). */
static lh_rc
agg_rewrite(aggctx *x, lh_bexpr **pe)
{
    lh_bexpr *e = *pe;
    if (e == NULL) {
        return LH_OK;
    }
    if (e->kind != LH_BX_CONST) {
        int g = find_group(x, e);
        if (g >= 0) {
            lh_bexpr *c = lh__bx_col(x->b, x->group_ids[g], e->type);
            if (c == NULL) {
                return LH_ENOMEM;
            }
            c->pos = e->pos;
            *pe = c;
            return LH_OK;
        }
    }
    switch ((lh_bx_kind)e->kind) {
    case LH_BX_AGG: {
        uint32_t id = 0;
        lh_rc rc = add_agg(x, e, &id);
        if (rc != LH_OK) {
            return rc;
        }
        lh_bexpr *c = lh__bx_col(x->b, id, e->type);
        if (c == NULL) {
            return LH_ENOMEM;
        }
        c->pos = e->pos;
        *pe = c;
        return LH_OK;
    }
    case LH_BX_COL:
        if (is_from_id(x, e->u.col) && x->b->set && x->b->set->ungrouped_any) {
            /* SQLite's bare column: any row's value of the group */
            lh_bexpr *arg = e, *call;
            lh_rc rc =
                lh__bind_agg_call(x->b, "any_value", e->pos, &arg, 1, &call);
            uint32_t id = 0;
            if (rc == LH_OK) {
                rc = add_agg(x, call, &id);
            }
            if (rc != LH_OK) {
                return rc;
            }
            lh_bexpr *c = lh__bx_col(x->b, id, call->type);
            if (c == NULL) {
                return LH_ENOMEM;
            }
            c->pos = e->pos;
            *pe = c;
            return LH_OK;
        }
        if (is_from_id(x, e->u.col)) {
            x->bad_pos = e->pos;
            x->bad_name = x->b->id_names[e->u.col];
            return LH_EINVAL;
        }
        return LH_OK;
    case LH_BX_GROUPING: {
        /* bit (n - 1 - i) of the result: argument i is not grouped in the
         * row's set, i.e. bit (nkeys - 1 - k) of the grouping id for its
         * key k; always 0 without grouping sets */
        lh_bexpr *acc = NULL;
        for (uint32_t i = 0; i < e->u.list.n; i++) {
            int k = find_group(x, e->u.list.args[i]);
            if (k < 0) {
                return lh__bind_error(x->b, LH_EINVAL, e->pos,
                                      "arguments to GROUPING must be grouping "
                                      "expressions of the associated query "
                                      "level");
            }
            if (!x->sets) {
                continue;
            }
            lh_value sh = {.type = lh_sql_type(LH_T_INTEGER)};
            sh.u.i = (int64_t)(x->ngroups - 1 - (uint32_t)k);
            lh_value one = {.type = lh_sql_type(LH_T_BIGINT)};
            one.u.i = 1;
            lh_value to = {.type = lh_sql_type(LH_T_INTEGER)};
            to.u.i = (int64_t)(e->u.list.n - 1 - i);
            lh_bexpr *g = lh__bx_col(x->b, x->gid_id, lh_sql_type(LH_T_BIGINT));
            lh_bexpr *a2[2] = {g, lh__bx_const(x->b, &sh, -1)};
            lh_bexpr *bit;
            lh_rc rc = lh__bind_call(x->b, ">>", e->pos, a2, 2, &bit);
            lh_bexpr *a3[2] = {bit, lh__bx_const(x->b, &one, -1)};
            if (rc == LH_OK) {
                rc = lh__bind_call(x->b, "&", e->pos, a3, 2, &bit);
            }
            lh_bexpr *a4[2] = {bit, lh__bx_const(x->b, &to, -1)};
            if (rc == LH_OK) {
                rc = lh__bind_call(x->b, "<<", e->pos, a4, 2, &bit);
            }
            if (rc == LH_OK && acc) {
                lh_bexpr *a5[2] = {acc, bit};
                rc = lh__bind_call(x->b, "|", e->pos, a5, 2, &bit);
            }
            if (rc != LH_OK) {
                return rc;
            }
            acc = bit;
        }
        if (acc == NULL) {
            lh_value zero = {.type = lh_sql_type(LH_T_INTEGER)};
            *pe = lh__bx_const(x->b, &zero, e->pos);
            return *pe ? LH_OK : LH_ENOMEM;
        }
        return lh__bind_cast(x->b, acc, lh_sql_type(LH_T_INTEGER), true, pe);
    }
    case LH_BX_SUBQUERY:
        for (uint32_t i = 0; i < e->u.sub.nouter; i++) {
            uint32_t id = e->u.sub.outer[i];
            if (is_from_id(x, id)) {
                bool grouped = false;
                for (uint32_t k = 0; k < x->ngroups && !grouped; k++) {
                    grouped = x->group_ids[k] == id;
                }
                if (!grouped) {
                    x->bad_pos = e->pos;
                    x->bad_name = x->b->id_names[id];
                    return LH_EINVAL;
                }
            }
        }
        return agg_rewrite(x, &e->u.sub.arg);
    default:
        return lh_sql_expr_children(e, agg_slot, x);
    }
}

/* ---- SELECT: windows -------------------------------------------------------
 */

typedef struct winctx {
    binder *b;
    lh_bexpr **calls;
    uint32_t *ids;
    uint32_t n, cap;
} winctx;

static lh_rc win_rewrite(winctx *w, lh_bexpr **pe);

static lh_rc
win_slot(lh_bexpr **slot, void *ud)
{
    return win_rewrite(ud, slot);
}

static lh_rc
win_rewrite(winctx *w, lh_bexpr **pe)
{
    lh_bexpr *e = *pe;
    if (e == NULL) {
        return LH_OK;
    }
    if (e->kind != LH_BX_WINDOW) {
        return lh_sql_expr_children(e, win_slot, w);
    }
    uint32_t id = UINT32_MAX;
    for (uint32_t i = 0; i < w->n; i++) {
        if (lh_sql_expr_equal(w->calls[i], e)) {
            id = w->ids[i];
        }
    }
    if (id == UINT32_MAX) {
        if (w->n == w->cap) {
            uint32_t ncap = w->cap ? w->cap * 2 : 8;
            lh_bexpr **nc = lh_arena_alloc(w->b->a, ncap * sizeof(lh_bexpr *));
            uint32_t *ni = lh_arena_alloc(w->b->a, ncap * sizeof(uint32_t));
            if (nc == NULL || ni == NULL) {
                return lh__bind_nomem(w->b);
            }
            if (w->n) {
                memcpy(nc, w->calls, w->n * sizeof(lh_bexpr *));
                memcpy(ni, w->ids, w->n * sizeof(uint32_t));
            }
            w->calls = nc;
            w->ids = ni;
            w->cap = ncap;
        }
        w->calls[w->n] = e;
        id = w->ids[w->n++] = lh__bind_new_id(w->b, e->type, e->u.agg.fn->name);
    }
    lh_bexpr *c = lh__bx_col(w->b, id, e->type);
    if (c == NULL) {
        return LH_ENOMEM;
    }
    c->pos = e->pos;
    *pe = c;
    return LH_OK;
}

/* ---- SELECT: GROUP BY
 * ---------------------------------------------------------- */

typedef struct groupset {
    lh_bexpr **keys; /* distinct keys */
    uint32_t nkeys, keycap;
    uint64_t *sets;
    uint32_t nsets, setcap;
    bool explicit_sets; /* ROLLUP, CUBE or GROUPING SETS were used */
} groupset;

static int
key_index(binder *b, groupset *g, lh_bexpr *e, lh_rc *rc)
{
    for (uint32_t i = 0; i < g->nkeys; i++) {
        if (lh_sql_expr_equal(g->keys[i], e)) {
            return (int)i;
        }
    }
    if (g->nkeys == 64) {
        *rc = lh__bind_error(b, LH_ELIMIT, e->pos,
                             "at most 64 grouping keys are supported");
        return -1;
    }
    if (g->nkeys == g->keycap) {
        uint32_t ncap = g->keycap ? g->keycap * 2 : 8;
        lh_bexpr **nk = lh_arena_alloc(b->a, ncap * sizeof(lh_bexpr *));
        if (nk == NULL) {
            *rc = lh__bind_nomem(b);
            return -1;
        }
        if (g->nkeys) {
            memcpy(nk, g->keys, g->nkeys * sizeof(lh_bexpr *));
        }
        g->keys = nk;
        g->keycap = ncap;
    }
    g->keys[g->nkeys] = e;
    return (int)g->nkeys++;
}

/* Binds one GROUP BY expression: an ordinal or an output alias refers to
 * a target; otherwise an expression over the FROM columns. */
static lh_rc
bind_group_expr(binder *b, bind_scope *s, const lh_ast *e, const targets *ts,
                lh_bexpr **out)
{
    if (e->kind == LH_AST_LITERAL && e->u.lit.kind == LH_LIT_INT) {
        long v = strtol(e->u.lit.text, NULL, 10);
        if (v < 1 || v > (long)ts->n) {
            return lh__bind_error(b, LH_EINVAL, e->pos,
                                  "GROUP BY position %ld is not in select "
                                  "list",
                                  v);
        }
        lh_bexpr *t = ts->t[v - 1].expr;
        if (lh__bx_has(t, LH_BX_AGG)) {
            return lh__bind_error(b, LH_EINVAL, e->pos,
                                  "aggregate functions are not allowed in "
                                  "GROUP BY");
        }
        *out = t;
        return LH_OK;
    }
    lh_rc rc = lh__bind_expr(b, s, e, 0, out);
    if (rc == LH_EINVAL && e->kind == LH_AST_COLREF &&
        e->u.colref.name.n == 1) {
        /* an output column's alias (input columns win) */
        for (uint32_t i = 0; i < ts->n; i++) {
            if (ts->t[i].name &&
                strcasecmp(ts->t[i].name, e->u.colref.name.parts[0]) == 0 &&
                ts->t[i].ast) {
                if (lh__bx_has(ts->t[i].expr, LH_BX_AGG)) {
                    return lh__bind_error(b, LH_EINVAL, e->pos,
                                          "aggregate functions are not "
                                          "allowed in GROUP BY");
                }
                lh_err_clear(b->err);
                *out = ts->t[i].expr;
                return LH_OK;
            }
        }
    }
    if (rc == LH_EINVAL && b->err && strstr(b->err->msg, "aggregate")) {
        return lh__bind_error(b, LH_EINVAL, e->pos,
                              "aggregate functions are not allowed in GROUP "
                              "BY");
    }
    return rc;
}

static lh_rc
push_set(binder *b, groupset *g, uint64_t set)
{
    if (g->nsets == g->setcap) {
        uint32_t ncap = g->setcap ? g->setcap * 2 : 8;
        if (ncap > 4096) {
            return lh__bind_error(b, LH_ELIMIT, -1,
                                  "at most 4096 grouping sets are supported");
        }
        uint64_t *ns = lh_arena_alloc(b->a, ncap * sizeof(uint64_t));
        if (ns == NULL) {
            return lh__bind_nomem(b);
        }
        if (g->nsets) {
            memcpy(ns, g->sets, g->nsets * sizeof(uint64_t));
        }
        g->sets = ns;
        g->setcap = ncap;
    }
    g->sets[g->nsets++] = set;
    return LH_OK;
}

/* The sets one GROUP BY item stands for, as bitmasks over g's keys. */
static lh_rc
item_sets(binder *b, bind_scope *s, const lh_ast_group *item, const targets *ts,
          groupset *g, uint64_t **out, uint32_t *n)
{
    lh_rc rc = LH_OK;
    groupset local = {0};
    switch ((lh_group_kind)item->kind) {
    case LH_GROUP_EXPR:
    case LH_GROUP_SET: {
        uint64_t mask = 0;
        if (item->kind == LH_GROUP_EXPR) {
            lh_bexpr *e;
            rc = bind_group_expr(b, s, item->expr, ts, &e);
            if (rc != LH_OK) {
                return rc;
            }
            int k = key_index(b, g, e, &rc);
            if (k < 0) {
                return rc;
            }
            mask = (uint64_t)1 << k;
        } else {
            for (uint32_t i = 0; i < item->nitems; i++) {
                uint64_t *sub;
                uint32_t nsub;
                rc = item_sets(b, s, item->items[i], ts, g, &sub, &nsub);
                if (rc != LH_OK) {
                    return rc;
                }
                mask |= nsub ? sub[0] : 0;
            }
        }
        rc = push_set(b, &local, mask);
        break;
    }
    case LH_GROUP_ROLLUP:
    case LH_GROUP_CUBE: {
        g->explicit_sets = true;
        uint32_t m = item->nitems;
        uint64_t *elems = lh_arena_alloc(b->a, (m + 1) * sizeof(uint64_t));
        if (elems == NULL) {
            return lh__bind_nomem(b);
        }
        for (uint32_t i = 0; i < m; i++) {
            uint64_t *sub;
            uint32_t nsub;
            rc = item_sets(b, s, item->items[i], ts, g, &sub, &nsub);
            if (rc != LH_OK) {
                return rc;
            }
            elems[i] = nsub ? sub[0] : 0;
        }
        if (item->kind == LH_GROUP_ROLLUP) {
            for (uint32_t k = m + 1; k-- > 0;) {
                uint64_t mask = 0;
                for (uint32_t i = 0; i < k; i++) {
                    mask |= elems[i];
                }
                rc = push_set(b, &local, mask);
                if (rc != LH_OK) {
                    return rc;
                }
            }
        } else {
            if (m > 12) {
                return lh__bind_error(b, LH_ELIMIT, item->pos,
                                      "CUBE is limited to 12 elements");
            }
            for (uint64_t bits = (1u << m); bits-- > 0;) {
                uint64_t mask = 0;
                for (uint32_t i = 0; i < m; i++) {
                    if (bits >> (m - 1 - i) & 1) {
                        mask |= elems[i];
                    }
                }
                rc = push_set(b, &local, mask);
                if (rc != LH_OK) {
                    return rc;
                }
            }
        }
        break;
    }
    case LH_GROUP_SETS:
        g->explicit_sets = true;
        for (uint32_t i = 0; i < item->nitems && rc == LH_OK; i++) {
            uint64_t *sub;
            uint32_t nsub;
            rc = item_sets(b, s, item->items[i], ts, g, &sub, &nsub);
            for (uint32_t k = 0; k < nsub && rc == LH_OK; k++) {
                rc = push_set(b, &local, sub[k]);
            }
        }
        break;
    }
    *out = local.sets;
    *n = local.nsets;
    return rc;
}

static lh_rc
bind_group_by(binder *b, bind_scope *s, const lh_ast *q, const targets *ts,
              groupset *g)
{
    if (q->u.select.group_all) {
        for (uint32_t i = 0; i < ts->n; i++) {
            if (lh__bx_has(ts->t[i].expr, LH_BX_AGG) ||
                lh__bx_has(ts->t[i].expr, LH_BX_WINDOW) ||
                ts->t[i].expr->kind == LH_BX_CONST) {
                continue;
            }
            lh_rc rc;
            if (key_index(b, g, ts->t[i].expr, &rc) < 0) {
                return rc;
            }
        }
        uint64_t all =
            g->nkeys == 64 ? ~(uint64_t)0 : (((uint64_t)1 << g->nkeys) - 1);
        return push_set(b, g, all);
    }
    /* the cross product of the items' sets */
    lh_rc rc = push_set(b, g, 0);
    for (uint32_t i = 0; i < q->u.select.ngroup && rc == LH_OK; i++) {
        uint64_t *sets;
        uint32_t nsets;
        rc = item_sets(b, s, q->u.select.group[i], ts, g, &sets, &nsets);
        if (rc != LH_OK) {
            return rc;
        }
        groupset next = {0};
        for (uint32_t a = 0; a < g->nsets && rc == LH_OK; a++) {
            for (uint32_t k = 0; k < nsets && rc == LH_OK; k++) {
                rc = push_set(b, &next, g->sets[a] | sets[k]);
            }
        }
        g->sets = next.sets;
        g->nsets = next.nsets;
        g->setcap = next.setcap;
    }
    return rc;
}

/* ---- SELECT
 * ------------------------------------------------------------------- */

typedef struct sortkey {
    lh_bexpr *expr;
    bool desc, nulls_first;
    int target; /* the target it is, or -1 for a hidden column */
} sortkey;

static lh_rc
bind_order(binder *b, bind_scope *s, const lh_ast *q, targets *ts,
           bool distinct, unsigned flags, sortkey **out, uint32_t *n)
{
    const lh_ast_order_list *o = &q->u.select.order;
    *n = o->n;
    *out = lh__bind_alloc(b, (o->n ? o->n : 1) * sizeof(sortkey));
    if (*out == NULL) {
        return LH_ENOMEM;
    }
    for (uint32_t i = 0; i < o->n; i++) {
        const lh_ast *e = o->items[i].expr;
        sortkey *k = &(*out)[i];
        k->target = -1;
        k->desc = o->items[i].desc;
        if (o->items[i].nulls_first >= 0) {
            k->nulls_first = o->items[i].nulls_first;
        } else if (b->set->nulls_last_desc) {
            k->nulls_first = false;
        } else if (b->set->nulls_first_asc) {
            k->nulls_first = true;
        } else {
            k->nulls_first = k->desc;
        }
        if (e->kind == LH_AST_LITERAL && e->u.lit.kind == LH_LIT_INT) {
            long v = strtol(e->u.lit.text, NULL, 10);
            if (v < 1 || v > (long)ts->n) {
                return lh__bind_error(b, LH_EINVAL, e->pos,
                                      "ORDER BY position %ld is not in select "
                                      "list",
                                      v);
            }
            k->target = (int)(v - 1);
            k->expr = ts->t[v - 1].expr;
            continue;
        }
        if (e->kind == LH_AST_COLREF && e->u.colref.name.n == 1) {
            /* an output name wins over an input column (PostgreSQL) */
            int found = -1;
            bool ambiguous = false;
            for (uint32_t t = 0; t < ts->n; t++) {
                if (ts->t[t].name &&
                    strcasecmp(ts->t[t].name, e->u.colref.name.parts[0]) == 0) {
                    if (found >= 0 &&
                        !lh_sql_expr_equal(ts->t[found].expr, ts->t[t].expr)) {
                        ambiguous = true;
                    }
                    if (found < 0) {
                        found = (int)t;
                    }
                }
            }
            if (ambiguous) {
                return lh__bind_error(b, LH_EINVAL, e->pos,
                                      "ORDER BY \"%s\" is ambiguous",
                                      e->u.colref.name.parts[0]);
            }
            if (found >= 0) {
                k->target = found;
                k->expr = ts->t[found].expr;
                continue;
            }
        }
        lh_rc rc = lh__bind_expr(b, s, e, flags, &k->expr);
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
        for (uint32_t t = 0; t < ts->n; t++) {
            if (lh_sql_expr_equal(ts->t[t].expr, k->expr)) {
                k->target = (int)t;
                break;
            }
        }
        if (k->target < 0 && distinct) {
            return lh__bind_error(b, LH_EINVAL, e->pos,
                                  "for SELECT DISTINCT, ORDER BY expressions "
                                  "must appear in select list");
        }
    }
    return LH_OK;
}

/* A SORT above *p by keys (their targets are columns of pr). */
static lh_rc
add_sort(binder *b, lh_plan **p, const lh_plan *pr, const sortkey *keys,
         uint32_t nkeys)
{
    if (nkeys == 0) {
        return LH_OK;
    }
    lh_plan *so = wrap1(b, LH_PLAN_SORT, *p);
    lh_order_key *ok = lh__bind_alloc(b, nkeys * sizeof(lh_order_key));
    if (so == NULL || ok == NULL) {
        return LH_ENOMEM;
    }
    for (uint32_t i = 0; i < nkeys; i++) {
        int t = keys[i].target;
        ok[i].expr = lh__bx_col(b, pr->cols[t], pr->types[t]);
        ok[i].desc = keys[i].desc;
        ok[i].nulls_first = keys[i].nulls_first;
        if (ok[i].expr == NULL) {
            return LH_ENOMEM;
        }
    }
    so->u.sort.keys = ok;
    so->u.sort.nkeys = nkeys;
    *p = so;
    return LH_OK;
}

/* A DISTINCT above *p: on pr's columns [don_first, don_first + ndon) for
 * DISTINCT ON, else on its first nvisible columns. */
static lh_rc
add_distinct(binder *b, lh_plan **p, const lh_plan *pr, uint32_t nvisible,
             uint32_t don_first, uint32_t ndon)
{
    lh_plan *d = wrap1(b, LH_PLAN_DISTINCT, *p);
    uint32_t first = ndon ? don_first : 0, n = ndon ? ndon : nvisible;
    if (d == NULL) {
        return LH_ENOMEM;
    }
    d->u.distinct.on = lh__bind_alloc(b, (n + 1) * sizeof(lh_bexpr *));
    if (d->u.distinct.on == NULL) {
        return LH_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        d->u.distinct.on[i] =
            lh__bx_col(b, pr->cols[first + i], pr->types[first + i]);
        if (d->u.distinct.on[i] == NULL) {
            return LH_ENOMEM;
        }
    }
    d->u.distinct.non = n;
    d->est_rows = (*p)->est_rows / 2 + 1;
    *p = d;
    return LH_OK;
}

static lh_rc
bind_select(binder *b, bind_scope *parent, const lh_ast *q, lh_plan **out)
{
    bind_scope *s = lh__bind_alloc(b, sizeof(bind_scope));
    if (s == NULL) {
        return LH_ENOMEM;
    }
    s->parent = parent;
    lh_rc rc = register_ctes(b, s, q->u.select.ctes, q->u.select.nctes,
                             q->u.select.recursive);
    if (rc != LH_OK) {
        return rc;
    }
    b->windows = q->u.select.windows;
    b->nwindows = q->u.select.nwindows;
    for (uint32_t i = 0; i < b->nwindows; i++) {
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(b->windows[i]->name, b->windows[j]->name) == 0) {
                return lh__bind_error(b, LH_EINVAL, b->windows[i]->pos,
                                      "window \"%s\" is already defined",
                                      b->windows[i]->name);
            }
        }
    }
    /* FROM */
    lh_plan *p;
    if (q->u.select.from) {
        rc = lh__bind_from(b, s, q->u.select.from, &p);
        if (rc != LH_OK) {
            return rc;
        }
    } else {
        /* SELECT 1: one row of no columns */
        p = lh__plan_new(b, LH_PLAN_VALUES, 0, 0);
        if (p == NULL) {
            return LH_ENOMEM;
        }
        p->u.values.nrows = 1;
        p->u.values.rows = lh__bind_alloc(b, sizeof(lh_bexpr **));
        if (p->u.values.rows == NULL) {
            return LH_ENOMEM;
        }
        p->est_rows = 1;
    }
    uint32_t nfrom = s->n;
    uint32_t *from_ids = lh__bind_alloc(b, (nfrom + 1) * sizeof(uint32_t));
    if (from_ids == NULL) {
        return LH_ENOMEM;
    }
    for (uint32_t i = 0; i < nfrom; i++) {
        from_ids[i] = s->cols[i].id;
    }
    /* WHERE */
    if (q->u.select.where) {
        lh_bexpr *w;
        rc = lh__bind_bool(b, s, q->u.select.where, 0, "WHERE", &w);
        if (rc != LH_OK) {
            if (b->err && strstr(b->err->msg, "are not allowed here")) {
                return lh__bind_error(b, LH_EINVAL, b->err->offset,
                                      "aggregate and window functions are "
                                      "not allowed in WHERE");
            }
            return rc;
        }
        rc = add_filter(b, &p, w);
        if (rc != LH_OK) {
            return rc;
        }
    }
    /* targets */
    targets ts = {0};
    unsigned tflags = BX_ALLOW_AGG | BX_ALLOW_WINDOW;
    for (uint32_t i = 0; i < q->u.select.targets.n; i++) {
        const lh_ast *t = q->u.select.targets.items[i];
        if (t->kind == LH_AST_STAR) {
            rc = expand_star(b, s, t, &ts);
        } else {
            lh_bexpr *e;
            rc = lh__bind_expr(b, s, t, tflags, &e);
            if (rc == LH_OK && e->untyped) {
                rc = lh__bind_cast(b, e, lh_sql_type(LH_T_VARCHAR), false, &e);
            }
            if (rc == LH_OK && e->type.id == LH_T_NULL) {
                /* SELECT NULL: PostgreSQL calls it text */
                rc = lh__bind_cast(b, e, lh_sql_type(LH_T_VARCHAR), false, &e);
            }
            if (rc == LH_OK) {
                const char *name = q->u.select.target_alias[i]
                                       ? q->u.select.target_alias[i]
                                       : target_name(t);
                rc = push_target(b, &ts, e, name, t);
            }
        }
        if (rc != LH_OK) {
            return rc;
        }
    }
    bool distinct = q->u.select.distinct && q->u.select.distinct_on.n == 0;
    /* GROUP BY, HAVING, ORDER BY, QUALIFY */
    groupset g = {0};
    if (q->u.select.ngroup || q->u.select.group_all) {
        rc = bind_group_by(b, s, q, &ts, &g);
        if (rc != LH_OK) {
            return rc;
        }
    }
    lh_bexpr *having = NULL, *qualify = NULL;
    if (q->u.select.having) {
        rc = lh__bind_bool(b, s, q->u.select.having, BX_ALLOW_AGG, "HAVING",
                           &having);
        if (rc != LH_OK) {
            return rc;
        }
    }
    sortkey *keys;
    uint32_t nkeys;
    rc = bind_order(b, s, q, &ts, distinct, tflags, &keys, &nkeys);
    if (rc != LH_OK) {
        return rc;
    }
    if (q->u.select.qualify) {
        const char **an = lh__bind_alloc(b, (ts.n + 1) * sizeof(char *));
        const lh_ast **aa = lh__bind_alloc(b, (ts.n + 1) * sizeof(lh_ast *));
        if (an == NULL || aa == NULL) {
            return LH_ENOMEM;
        }
        for (uint32_t i = 0; i < ts.n; i++) {
            an[i] = ts.t[i].name;
            aa[i] = ts.t[i].ast;
        }
        b->alias_names = an;
        b->alias_asts = aa;
        b->nalias = ts.n;
        b->alias_scope = s;
        rc = lh__bind_bool(b, s, q->u.select.qualify, tflags, "QUALIFY",
                           &qualify);
        b->alias_names = NULL;
        if (rc != LH_OK) {
            return rc;
        }
    }
    lh_bexpr **don = NULL;
    uint32_t ndon = q->u.select.distinct_on.n;
    if (ndon) {
        don = lh__bind_alloc(b, ndon * sizeof(lh_bexpr *));
        if (don == NULL) {
            return LH_ENOMEM;
        }
        for (uint32_t i = 0; i < ndon; i++) {
            /* as ORDER BY: an ordinal or an output name, else an expression */
            const lh_ast *e = q->u.select.distinct_on.items[i];
            if (e->kind == LH_AST_LITERAL && e->u.lit.kind == LH_LIT_INT) {
                long v = strtol(e->u.lit.text, NULL, 10);
                if (v < 1 || v > (long)ts.n) {
                    return lh__bind_error(b, LH_EINVAL, e->pos,
                                          "DISTINCT ON position %ld is not "
                                          "in select list",
                                          v);
                }
                don[i] = ts.t[v - 1].expr;
                continue;
            }
            don[i] = NULL;
            if (e->kind == LH_AST_COLREF && e->u.colref.name.n == 1) {
                for (uint32_t t = 0; t < ts.n && !don[i]; t++) {
                    if (ts.t[t].name &&
                        strcasecmp(ts.t[t].name, e->u.colref.name.parts[0]) ==
                            0) {
                        don[i] = ts.t[t].expr;
                    }
                }
            }
            if (don[i] == NULL) {
                rc = lh__bind_expr(b, s, e, tflags, &don[i]);
                if (rc != LH_OK) {
                    return rc;
                }
            }
        }
    }
    /* aggregation */
    bool aggregated = g.nsets > 0 || having != NULL;
    for (uint32_t i = 0; i < ts.n && !aggregated; i++) {
        aggregated = lh__bx_has(ts.t[i].expr, LH_BX_AGG) ||
                     lh__bx_has(ts.t[i].expr, LH_BX_GROUPING);
    }
    for (uint32_t i = 0; i < nkeys && !aggregated; i++) {
        aggregated = lh__bx_has(keys[i].expr, LH_BX_AGG) ||
                     lh__bx_has(keys[i].expr, LH_BX_GROUPING);
    }
    if (qualify && !aggregated) {
        aggregated = lh__bx_has(qualify, LH_BX_AGG);
    }
    if (aggregated) {
        if (g.nsets == 0) {
            rc = push_set(b, &g, 0); /* one group of everything */
            if (rc != LH_OK) {
                return rc;
            }
        }
        bool sets = g.nsets > 1 || g.explicit_sets;
        aggctx x = {.b = b,
                    .groups = g.keys,
                    .ngroups = g.nkeys,
                    .from_ids = from_ids,
                    .nfrom = nfrom,
                    .sets = sets};
        x.group_ids = lh__bind_alloc(b, (g.nkeys + 1) * sizeof(uint32_t));
        if (x.group_ids == NULL) {
            return LH_ENOMEM;
        }
        if (sets) {
            x.gid_id =
                lh__bind_new_id(b, lh_sql_type(LH_T_BIGINT), "grouping_id");
        }
        for (uint32_t i = 0; i < g.nkeys; i++) {
            lh_bexpr *k = g.keys[i];
            if (k->kind == LH_BX_COL && !sets) {
                x.group_ids[i] = k->u.col; /* the same column, grouped */
            } else {
                x.group_ids[i] = lh__bind_new_id(
                    b, k->type,
                    k->kind == LH_BX_COL ? b->id_names[k->u.col] : "?column?");
            }
        }
        /* rewrite everything that runs above the aggregate */
        for (uint32_t i = 0; i < ts.n && rc == LH_OK; i++) {
            rc = agg_rewrite(&x, &ts.t[i].expr);
        }
        for (uint32_t i = 0; i < nkeys && rc == LH_OK; i++) {
            rc = agg_rewrite(&x, &keys[i].expr);
        }
        if (rc == LH_OK) {
            rc = agg_rewrite(&x, &having);
        }
        if (rc == LH_OK) {
            rc = agg_rewrite(&x, &qualify);
        }
        for (uint32_t i = 0; i < ndon && rc == LH_OK; i++) {
            rc = agg_rewrite(&x, &don[i]);
        }
        if (rc == LH_EINVAL && x.bad_name) {
            return lh__bind_error(b, LH_EINVAL, x.bad_pos,
                                  "column \"%s\" must appear in the GROUP BY "
                                  "clause or be used in an aggregate "
                                  "function",
                                  x.bad_name);
        }
        if (rc != LH_OK) {
            return rc;
        }
        /* GROUPING(a, b) becomes an expression of the grouping id */
        uint32_t nout = g.nkeys + x.naggs + (sets ? 1 : 0);
        lh_plan *a = lh__plan_new(b, LH_PLAN_AGGREGATE, 1, nout);
        if (a == NULL) {
            return LH_ENOMEM;
        }
        a->children[0] = p;
        a->u.agg.groups = g.keys;
        a->u.agg.ngroups = g.nkeys;
        a->u.agg.aggs = x.aggs;
        a->u.agg.naggs = x.naggs;
        if (sets) {
            a->u.agg.sets = g.sets;
            a->u.agg.nsets = g.nsets;
        }
        for (uint32_t i = 0; i < g.nkeys; i++) {
            a->cols[i] = x.group_ids[i];
            a->types[i] = g.keys[i]->type;
            a->names[i] = b->id_names[x.group_ids[i]];
        }
        for (uint32_t i = 0; i < x.naggs; i++) {
            a->cols[g.nkeys + i] = x.agg_ids[i];
            a->types[g.nkeys + i] = x.aggs[i]->type;
            a->names[g.nkeys + i] = x.aggs[i]->u.agg.fn->name;
        }
        if (sets) {
            a->cols[nout - 1] = x.gid_id;
            a->types[nout - 1] = lh_sql_type(LH_T_BIGINT);
            a->names[nout - 1] = "grouping_id";
        }
        a->est_rows = g.nkeys ? p->est_rows / 10 + 1 : 1;
        p = a;
        if (having) {
            rc = add_filter(b, &p, having);
            if (rc != LH_OK) {
                return rc;
            }
        }
    } else if (q->u.select.distinct_on.n == 0 && 0) {
        /* nothing */
    }
    /* windows */
    winctx w = {.b = b};
    for (uint32_t i = 0; i < ts.n && rc == LH_OK; i++) {
        rc = win_rewrite(&w, &ts.t[i].expr);
    }
    for (uint32_t i = 0; i < nkeys && rc == LH_OK; i++) {
        rc = win_rewrite(&w, &keys[i].expr);
    }
    if (rc == LH_OK) {
        rc = win_rewrite(&w, &qualify);
    }
    if (rc != LH_OK) {
        return rc;
    }
    if (w.n) {
        lh_plan *wp = lh__plan_new(b, LH_PLAN_WINDOW, 1, p->ncols + w.n);
        if (wp == NULL) {
            return LH_ENOMEM;
        }
        wp->children[0] = p;
        memcpy(wp->cols, p->cols, p->ncols * sizeof(uint32_t));
        memcpy(wp->types, p->types, p->ncols * sizeof(lh_type));
        memcpy(wp->names, p->names, p->ncols * sizeof(char *));
        for (uint32_t i = 0; i < w.n; i++) {
            wp->cols[p->ncols + i] = w.ids[i];
            wp->types[p->ncols + i] = w.calls[i]->type;
            wp->names[p->ncols + i] = w.calls[i]->u.agg.fn->name;
        }
        wp->u.window.calls = w.calls;
        wp->u.window.ncalls = w.n;
        wp->est_rows = p->est_rows;
        p = wp;
    }
    if (qualify) {
        rc = add_filter(b, &p, qualify);
        if (rc != LH_OK) {
            return rc;
        }
    }
    /* PROJECT: the targets, then the hidden sort keys */
    uint32_t nhidden = 0;
    for (uint32_t i = 0; i < nkeys; i++) {
        nhidden += keys[i].target < 0;
    }
    for (uint32_t i = 0; i < ndon; i++) {
        nhidden++;
    }
    lh_plan *pr = lh__plan_new(b, LH_PLAN_PROJECT, 1, ts.n + nhidden);
    if (pr == NULL) {
        return LH_ENOMEM;
    }
    pr->children[0] = p;
    pr->est_rows = p->est_rows;
    pr->pos = q->pos;
    pr->u.project.exprs =
        lh__bind_alloc(b, (ts.n + nhidden + 1) * sizeof(lh_bexpr *));
    if (pr->u.project.exprs == NULL) {
        return LH_ENOMEM;
    }
    for (uint32_t i = 0; i < ts.n; i++) {
        pr->u.project.exprs[i] = ts.t[i].expr;
        pr->types[i] = ts.t[i].expr->type;
        pr->names[i] = ts.t[i].name;
        pr->cols[i] = lh__bind_new_id(b, pr->types[i], ts.t[i].name);
    }
    uint32_t h = ts.n;
    for (uint32_t i = 0; i < nkeys; i++) {
        if (keys[i].target >= 0) {
            continue;
        }
        pr->u.project.exprs[h] = keys[i].expr;
        pr->types[h] = keys[i].expr->type;
        pr->names[h] = "?sort?";
        pr->cols[h] = lh__bind_new_id(b, pr->types[h], "?sort?");
        keys[i].target = (int)h++;
    }
    uint32_t don_first = h;
    for (uint32_t i = 0; i < ndon; i++) {
        pr->u.project.exprs[h] = don[i];
        pr->types[h] = don[i]->type;
        pr->names[h] = "?distinct_on?";
        pr->cols[h] = lh__bind_new_id(b, pr->types[h], "?distinct_on?");
        h++;
    }
    p = pr;
    /* DISTINCT ON keeps the first row of each group in ORDER BY order: the
     * sort goes first; plain DISTINCT goes first and the sort sorts less */
    if (ndon) {
        rc = add_sort(b, &p, pr, keys, nkeys);
        if (rc == LH_OK && q->u.select.distinct) {
            rc = add_distinct(b, &p, pr, ts.n, don_first, ndon);
        }
    } else {
        if (q->u.select.distinct) {
            rc = add_distinct(b, &p, pr, ts.n, don_first, ndon);
        }
        if (rc == LH_OK) {
            rc = add_sort(b, &p, pr, keys, nkeys);
        }
    }
    if (rc != LH_OK) {
        return rc;
    }
    rc = add_limit(b, &p, q->u.select.limit, q->u.select.offset,
                   q->u.select.limit_percent);
    if (rc != LH_OK) {
        return rc;
    }
    /* drop the hidden columns */
    if (nhidden) {
        lh_plan *fin = lh__plan_new(b, LH_PLAN_PROJECT, 1, ts.n);
        if (fin == NULL) {
            return LH_ENOMEM;
        }
        fin->children[0] = p;
        fin->est_rows = p->est_rows;
        fin->u.project.exprs =
            lh__bind_alloc(b, (ts.n + 1) * sizeof(lh_bexpr *));
        if (fin->u.project.exprs == NULL) {
            return LH_ENOMEM;
        }
        for (uint32_t i = 0; i < ts.n; i++) {
            fin->cols[i] = pr->cols[i];
            fin->types[i] = pr->types[i];
            fin->names[i] = pr->names[i];
            fin->u.project.exprs[i] = lh__bx_col(b, pr->cols[i], pr->types[i]);
        }
        p = fin;
    }
    *out = p;
    return LH_OK;
}
