/*
 * Queries: WITH, SELECT, VALUES, set operations (INTERSECT binds tighter
 * than UNION and EXCEPT), ORDER BY, LIMIT / OFFSET / FETCH, and the FROM
 * clause (tables with time travel, table functions, derived tables,
 * joins).
 */
#include <string.h>

#include "sql/parser.h"

static lh_rc parse_set_expr(lh_parser *p, lh_ast **out);

static lh_rc
enter(lh_parser *p)
{
    if (++p->depth > LH_SQL_MAX_DEPTH) {
        return lh_sql_error_at(p, LH_ELIMIT, lh_sql_peek(p, 0)->pos,
                               "query nested too deeply (more than %d "
                               "levels)",
                               LH_SQL_MAX_DEPTH);
    }
    return LH_OK;
}

/* An alias after AS, or a bare one (any identifier that is not a reserved
 * word). NULL when there is none. */
static lh_rc
parse_alias(lh_parser *p, bool bare_ok, const char **out)
{
    *out = NULL;
    if (lh_sql_accept_kw(p, LH_KW_AS)) {
        /* after AS any word is a name, reserved ones too (PostgreSQL's
         * ColLabel): SELECT 1 AS offset */
        const lh_tok *t = lh_sql_peek(p, 0);
        if (t->kind == LH_TOK_STRING || t->kind == LH_TOK_IDENT) {
            lh_sql_next(p);
            *out = t->text;
            return LH_OK;
        }
        return lh_sql_parse_ident(p, out);
    }
    const lh_tok *t = lh_sql_peek(p, 0);
    if (bare_ok && (t->kind == LH_TOK_QIDENT ||
                    (t->kind == LH_TOK_IDENT && !t->reserved))) {
        lh_sql_next(p);
        *out = t->text;
    }
    return LH_OK;
}

/* ( name, ... ) */
lh_rc
lh__sql_parse_ident_list(lh_parser *p, const char ***out, uint32_t *n)
{
    lh_rc rc = lh_sql_expect_punct(p, '(');
    lh_sql_vec v = {0};
    while (rc == LH_OK) {
        const char *c = NULL;
        rc = lh_sql_parse_ident(p, &c);
        if (rc == LH_OK) {
            rc = lh_sql_vec_push(p, &v, (void *)c);
        }
        if (rc != LH_OK || !lh_sql_accept_punct(p, ',')) {
            break;
        }
    }
    if (rc == LH_OK) {
        rc = lh_sql_expect_punct(p, ')');
    }
    *out = (const char **)v.items;
    *n = v.n;
    return rc;
}

/* [AS] alias [(c1, c2)] */
static lh_rc
parse_table_alias(lh_parser *p, const char **alias, const char ***cols,
                  uint32_t *ncols)
{
    lh_rc rc = parse_alias(p, true, alias);
    if (rc == LH_OK && *alias && lh_sql_is_punct(lh_sql_peek(p, 0), '(')) {
        rc = lh__sql_parse_ident_list(p, cols, ncols);
    }
    return rc;
}

/* ---- FROM -----------------------------------------------------------------
 */

static lh_rc parse_from_item(lh_parser *p, lh_ast **out);

static lh_rc
parse_time_travel(lh_parser *p, lh_ast *tab)
{
    /* FOR SYSTEM_TIME AS OF x | FOR VERSION AS OF x | FOR TIMESTAMP AS OF x
     * | TIMESTAMP AS OF x | VERSION AS OF x */
    uint32_t k = lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_FOR) ? 1 : 0;
    const lh_tok *w = lh_sql_peek(p, k);
    if (!(lh_sql_is_kw(lh_sql_peek(p, k + 1), LH_KW_AS) &&
          lh_sql_is_kw(lh_sql_peek(p, k + 2), LH_KW_OF))) {
        return LH_OK;
    }
    uint8_t travel;
    if (lh_sql_is_kw(w, LH_KW_SYSTEM_TIME) && k == 1) {
        travel = LH_TT_SYSTEM_TIME;
    } else if (lh_sql_is_kw(w, LH_KW_TIMESTAMP)) {
        travel = LH_TT_SYSTEM_TIME;
    } else if (lh_sql_is_kw(w, LH_KW_VERSION)) {
        travel = LH_TT_VERSION;
    } else {
        return LH_OK;
    }
    p->i += k + 3;
    tab->u.table.travel = travel;
    return lh_sql_parse_expr(p, &tab->u.table.travel_expr);
}

static lh_rc
parse_table_fn_args(lh_parser *p, lh_ast *n)
{
    lh_sql_next(p); /* ( */
    lh_sql_vec args = {0};
    uint32_t cap = 0;
    lh_rc rc = LH_OK;
    if (!lh_sql_is_punct(lh_sql_peek(p, 0), ')')) {
        do {
            const lh_tok *t = lh_sql_peek(p, 0);
            /* name = value / name := value / name => value */
            const lh_tok *eq = lh_sql_peek(p, 1);
            if ((t->kind == LH_TOK_IDENT || t->kind == LH_TOK_QIDENT) &&
                (lh_sql_is_op(eq, "=") ||
                 (eq->kind == LH_TOK_PUNCT && eq->text[0] == ':' &&
                  lh_sql_is_op(lh_sql_peek(p, 2), "=")))) {
                lh_sql_next(p);
                lh_sql_next(p);
                if (!lh_sql_is_op(eq, "=")) {
                    lh_sql_next(p);
                }
                if (n->u.table_fn.nnamed == cap) {
                    cap = cap ? cap * 2 : 4;
                    lh_ast_option *no =
                        lh_arena_alloc(p->a, cap * sizeof(lh_ast_option));
                    if (no == NULL) {
                        return lh_err_set(p->err, LH_ENOMEM, "out of memory");
                    }
                    if (n->u.table_fn.nnamed) {
                        memcpy(no, n->u.table_fn.named,
                               n->u.table_fn.nnamed * sizeof(lh_ast_option));
                    }
                    n->u.table_fn.named = no;
                }
                lh_ast_option *o = &n->u.table_fn.named[n->u.table_fn.nnamed++];
                o->key = t->text;
                o->pos = t->pos;
                rc = lh_sql_parse_expr(p, &o->value);
            } else {
                lh_ast *e;
                rc = lh_sql_parse_expr(p, &e);
                if (rc == LH_OK) {
                    rc = lh_sql_vec_push(p, &args, e);
                }
            }
        } while (rc == LH_OK && lh_sql_accept_punct(p, ','));
    }
    if (rc == LH_OK) {
        rc = lh_sql_expect_punct(p, ')');
    }
    n->u.table_fn.args.items = (lh_ast **)args.items;
    n->u.table_fn.args.n = args.n;
    return rc;
}

static lh_rc
parse_from_primary(lh_parser *p, lh_ast **out)
{
    const lh_tok *t = lh_sql_peek(p, 0);
    int32_t pos = t->pos;
    lh_rc rc;
    bool lateral = lh_sql_accept_kw(p, LH_KW_LATERAL);
    if (lh_sql_is_punct(lh_sql_peek(p, 0), '(')) {
        /* (query) alias, or (join) */
        const lh_tok *in = lh_sql_peek(p, 1);
        uint32_t k = 1;
        while (lh_sql_is_punct(lh_sql_peek(p, k), '(')) {
            k++;
        }
        in = lh_sql_peek(p, k);
        bool query = lh_sql_is_kw(in, LH_KW_SELECT) ||
                     lh_sql_is_kw(in, LH_KW_WITH) ||
                     lh_sql_is_kw(in, LH_KW_VALUES);
        uint32_t save = p->i;
        if (query && !lh__sql_noquery_get(p, save)) {
            lh_sql_next(p);
            lh_ast *n = lh_sql_node(p, LH_AST_DERIVED, pos);
            if (n == NULL) {
                return LH_ENOMEM;
            }
            rc = lh_sql_parse_query(p, &n->u.derived.query);
            if (rc == LH_OK) {
                rc = lh_sql_expect_punct(p, ')');
            }
            if (rc != LH_OK && rc != LH_ENOMEM && rc != LH_ELIMIT && k > 1) {
                /* ((VALUES (1)) t(i) JOIN u ON ...): a parenthesized join
                 * that starts with a derived table */
                lh_err_clear(p->err);
                lh__sql_noquery_set(p, save);
                p->i = save;
            } else {
                if (rc == LH_OK) {
                    rc = parse_table_alias(p, &n->u.derived.alias,
                                           &n->u.derived.col_aliases,
                                           &n->u.derived.ncol_aliases);
                }
                n->u.derived.lateral = lateral;
                *out = n;
                return rc;
            }
        }
        lh_sql_next(p);
        rc = parse_from_item(p, out);
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, ')');
        }
        if (rc == LH_OK && (*out)->kind == LH_AST_JOIN) {
            const char *alias;
            rc = parse_alias(p, true, &alias);
            if (rc == LH_OK && alias) {
                return lh_sql_error_at(p, LH_EUNSUPPORTED, pos,
                                       "unsupported: an alias for a "
                                       "parenthesized join");
            }
        }
        return rc;
    }
    if (lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_VALUES)) {
        lh_ast *n = lh_sql_node(p, LH_AST_DERIVED, pos);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        rc = lh_sql_parse_query(p, &n->u.derived.query);
        if (rc == LH_OK) {
            rc = parse_table_alias(p, &n->u.derived.alias,
                                   &n->u.derived.col_aliases,
                                   &n->u.derived.ncol_aliases);
        }
        *out = n;
        return rc;
    }
    lh_ast_name name;
    if (lh_sql_peek(p, 0)->kind == LH_TOK_STRING) {
        /* FROM 'file.parquet' (DuckDB): read_parquet('file.parquet') */
        const lh_tok *s = lh_sql_next(p);
        lh_ast *n = lh_sql_node(p, LH_AST_TABLE_FN, pos);
        lh_ast *arg = lh_sql_node(p, LH_AST_LITERAL, pos);
        lh_ast **args = lh_arena_alloc(p->a, sizeof(lh_ast *));
        const char **parts = lh_arena_alloc(p->a, sizeof(char *));
        if (n == NULL || arg == NULL || args == NULL || parts == NULL) {
            return lh_err_set(p->err, LH_ENOMEM, "out of memory");
        }
        arg->u.lit.kind = LH_LIT_STRING;
        arg->u.lit.text = s->text;
        args[0] = arg;
        parts[0] = "read_parquet";
        n->u.table_fn.name.parts = parts;
        n->u.table_fn.name.n = 1;
        n->u.table_fn.args.items = args;
        n->u.table_fn.args.n = 1;
        *out = n;
        return parse_table_alias(p, &n->u.table_fn.alias,
                                 &n->u.table_fn.col_aliases,
                                 &n->u.table_fn.ncol_aliases);
    }
    rc = lh_sql_parse_name(p, &name);
    if (rc != LH_OK) {
        return rc;
    }
    if (lh_sql_is_punct(lh_sql_peek(p, 0), '(')) {
        lh_ast *n = lh_sql_node(p, LH_AST_TABLE_FN, pos);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        n->u.table_fn.name = name;
        rc = parse_table_fn_args(p, n);
        if (rc == LH_OK) {
            rc = parse_table_alias(p, &n->u.table_fn.alias,
                                   &n->u.table_fn.col_aliases,
                                   &n->u.table_fn.ncol_aliases);
        }
        *out = n;
        return rc;
    }
    lh_ast *n = lh_sql_node(p, LH_AST_TABLE, pos);
    if (n == NULL) {
        return LH_ENOMEM;
    }
    n->u.table.name = name;
    rc = parse_time_travel(p, n);
    if (rc == LH_OK) {
        rc = parse_table_alias(p, &n->u.table.alias, &n->u.table.col_aliases,
                               &n->u.table.ncol_aliases);
    }
    /* the alias may also come before the time travel clause */
    if (rc == LH_OK && n->u.table.travel == LH_TT_NONE) {
        rc = parse_time_travel(p, n);
    }
    *out = n;
    return rc;
}

/* A join keyword sequence at the current token: *kind and whether one was
 * there. */
static bool
join_start(lh_parser *p, uint8_t *kind, bool *natural)
{
    uint32_t k = 0;
    *natural = false;
    if (lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_NATURAL)) {
        *natural = true;
        k = 1;
    }
    const lh_tok *t = lh_sql_peek(p, k);
    uint32_t take;
    if (lh_sql_is_kw(t, LH_KW_JOIN)) {
        *kind = LH_JOIN_INNER;
        take = 1;
    } else if (lh_sql_is_kw(t, LH_KW_INNER) &&
               lh_sql_is_kw(lh_sql_peek(p, k + 1), LH_KW_JOIN)) {
        *kind = LH_JOIN_INNER;
        take = 2;
    } else if (lh_sql_is_kw(t, LH_KW_CROSS) &&
               lh_sql_is_kw(lh_sql_peek(p, k + 1), LH_KW_JOIN)) {
        *kind = LH_JOIN_CROSS;
        take = 2;
    } else if (lh_sql_is_kw(t, LH_KW_LEFT) || lh_sql_is_kw(t, LH_KW_RIGHT) ||
               lh_sql_is_kw(t, LH_KW_FULL)) {
        *kind = t->kw == LH_KW_LEFT    ? LH_JOIN_LEFT
                : t->kw == LH_KW_RIGHT ? LH_JOIN_RIGHT
                                       : LH_JOIN_FULL;
        uint32_t j = k + 1;
        if (lh_sql_is_kw(lh_sql_peek(p, j), LH_KW_OUTER)) {
            j++;
        }
        if (!lh_sql_is_kw(lh_sql_peek(p, j), LH_KW_JOIN)) {
            return false;
        }
        take = j - k + 1;
    } else {
        return false;
    }
    p->i += k + take;
    return true;
}

static lh_rc
parse_from_item(lh_parser *p, lh_ast **out)
{
    lh_rc rc = enter(p);
    if (rc != LH_OK) {
        return rc;
    }
    lh_ast *left;
    rc = parse_from_primary(p, &left);
    while (rc == LH_OK) {
        uint8_t kind;
        bool natural;
        int32_t pos = lh_sql_peek(p, 0)->pos;
        if (!join_start(p, &kind, &natural)) {
            break;
        }
        lh_ast *n = lh_sql_node(p, LH_AST_JOIN, pos);
        if (n == NULL) {
            rc = LH_ENOMEM;
            break;
        }
        n->u.join.kind = kind;
        n->u.join.natural = natural;
        n->u.join.left = left;
        rc = parse_from_primary(p, &n->u.join.right);
        if (rc != LH_OK) {
            break;
        }
        if (kind != LH_JOIN_CROSS && !natural) {
            if (lh_sql_accept_kw(p, LH_KW_ON)) {
                rc = lh_sql_parse_expr(p, &n->u.join.on);
            } else if (lh_sql_accept_kw(p, LH_KW_USING)) {
                rc = lh__sql_parse_ident_list(p, &n->u.join.using_cols,
                                              &n->u.join.nusing);
            } else {
                rc = lh_sql_syntax_error(p, lh_sql_peek(p, 0), "ON or USING");
            }
        }
        left = n;
    }
    p->depth--;
    *out = left;
    return rc;
}

/* FROM a, b JOIN c: commas are cross joins. */
static lh_rc
parse_from_list(lh_parser *p, lh_ast **out)
{
    lh_rc rc = parse_from_item(p, out);
    while (rc == LH_OK && lh_sql_is_punct(lh_sql_peek(p, 0), ',')) {
        int32_t pos = lh_sql_next(p)->pos;
        lh_ast *n = lh_sql_node(p, LH_AST_JOIN, pos);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        n->u.join.kind = LH_JOIN_CROSS;
        n->u.join.left = *out;
        rc = parse_from_item(p, &n->u.join.right);
        *out = n;
    }
    return rc;
}

/* ---- GROUP BY -------------------------------------------------------------
 */

static lh_rc parse_group_item(lh_parser *p, lh_ast_group **out);

static lh_ast_group *
group_node(lh_parser *p, uint8_t kind, int32_t pos)
{
    lh_ast_group *g = lh_arena_calloc(p->a, sizeof(lh_ast_group));
    if (g == NULL) {
        lh_err_set(p->err, LH_ENOMEM, "out of memory");
        return NULL;
    }
    g->kind = kind;
    g->pos = pos;
    return g;
}

/* ( item, ... ) of ROLLUP, CUBE, GROUPING SETS, or a set inside them. */
static lh_rc
parse_group_items(lh_parser *p, lh_ast_group *g, bool sets)
{
    lh_rc rc = lh_sql_expect_punct(p, '(');
    lh_sql_vec v = {0};
    if (rc == LH_OK && !lh_sql_is_punct(lh_sql_peek(p, 0), ')')) {
        do {
            lh_ast_group *item;
            if (sets) {
                rc = parse_group_item(p, &item);
            } else if (lh_sql_is_punct(lh_sql_peek(p, 0), '(')) {
                /* ROLLUP ((a, b), c): a composite element */
                item = group_node(p, LH_GROUP_SET, lh_sql_peek(p, 0)->pos);
                rc = item ? parse_group_items(p, item, false) : LH_ENOMEM;
            } else {
                item = group_node(p, LH_GROUP_EXPR, lh_sql_peek(p, 0)->pos);
                rc = item ? lh_sql_parse_expr(p, &item->expr) : LH_ENOMEM;
            }
            if (rc == LH_OK) {
                rc = lh_sql_vec_push(p, &v, item);
            }
        } while (rc == LH_OK && lh_sql_accept_punct(p, ','));
    }
    if (rc == LH_OK) {
        rc = lh_sql_expect_punct(p, ')');
    }
    g->items = (lh_ast_group **)v.items;
    g->nitems = v.n;
    return rc;
}

static lh_rc
parse_group_item(lh_parser *p, lh_ast_group **out)
{
    const lh_tok *t = lh_sql_peek(p, 0);
    int32_t pos = t->pos;
    if ((lh_sql_is_kw(t, LH_KW_ROLLUP) || lh_sql_is_kw(t, LH_KW_CUBE)) &&
        lh_sql_is_punct(lh_sql_peek(p, 1), '(')) {
        lh_sql_next(p);
        *out = group_node(
            p, t->kw == LH_KW_ROLLUP ? LH_GROUP_ROLLUP : LH_GROUP_CUBE, pos);
        return *out ? parse_group_items(p, *out, false) : LH_ENOMEM;
    }
    if (lh_sql_is_kw(t, LH_KW_GROUPING) &&
        lh_sql_is_kw(lh_sql_peek(p, 1), LH_KW_SETS)) {
        lh_sql_next(p);
        lh_sql_next(p);
        *out = group_node(p, LH_GROUP_SETS, pos);
        return *out ? parse_group_items(p, *out, true) : LH_ENOMEM;
    }
    if (lh_sql_is_punct(t, '(') && (lh_sql_is_punct(lh_sql_peek(p, 1), ')'))) {
        lh_sql_next(p);
        lh_sql_next(p);
        *out = group_node(p, LH_GROUP_SET, pos); /* () */
        return *out ? LH_OK : LH_ENOMEM;
    }
    *out = group_node(p, LH_GROUP_EXPR, pos);
    if (*out == NULL) {
        return LH_ENOMEM;
    }
    lh_rc rc = lh_sql_parse_expr(p, &(*out)->expr);
    if (rc == LH_OK && (*out)->expr->kind == LH_AST_ROW) {
        /* (a, b) as a grouping set element */
        lh_ast *row = (*out)->expr;
        lh_ast_group *g = *out;
        g->kind = LH_GROUP_SET;
        g->expr = NULL;
        g->nitems = row->u.row.items.n;
        g->items = lh_arena_alloc(p->a, (g->nitems + 1) * sizeof(void *));
        if (g->items == NULL) {
            return lh_err_set(p->err, LH_ENOMEM, "out of memory");
        }
        for (uint32_t i = 0; i < g->nitems; i++) {
            g->items[i] = group_node(p, LH_GROUP_EXPR, row->pos);
            if (g->items[i] == NULL) {
                return LH_ENOMEM;
            }
            g->items[i]->expr = row->u.row.items.items[i];
        }
    }
    return rc;
}

/* ---- SELECT ----------------------------------------------------------------
 */

static lh_rc
parse_targets(lh_parser *p, lh_ast *s)
{
    lh_sql_vec exprs = {0}, aliases = {0};
    lh_rc rc = LH_OK;
    do {
        const lh_tok *t = lh_sql_peek(p, 0);
        lh_ast *e;
        const char *alias = NULL;
        if (lh_sql_is_op(t, "*")) {
            lh_sql_next(p);
            lh_ast *n = lh_sql_node(p, LH_AST_STAR, t->pos);
            if (n == NULL) {
                return LH_ENOMEM;
            }
            e = n;
            if (lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_EXCLUDE)) {
                /* reuse the expression parser's EXCLUDE handling */
                lh_sql_vec v = {0};
                lh_sql_next(p);
                bool paren = lh_sql_accept_punct(p, '(');
                do {
                    const char *c = NULL;
                    rc = lh_sql_parse_ident(p, &c);
                    if (rc == LH_OK) {
                        rc = lh_sql_vec_push(p, &v, (void *)c);
                    }
                } while (rc == LH_OK && paren && lh_sql_accept_punct(p, ','));
                if (rc == LH_OK && paren) {
                    rc = lh_sql_expect_punct(p, ')');
                }
                n->u.star.exclude = (const char **)v.items;
                n->u.star.nexclude = v.n;
            }
        } else {
            rc = lh_sql_parse_expr(p, &e);
            if (rc == LH_OK && e->kind != LH_AST_STAR) {
                rc = parse_alias(p, true, &alias);
            }
        }
        if (rc == LH_OK) {
            rc = lh_sql_vec_push(p, &exprs, e);
        }
        if (rc == LH_OK) {
            rc = lh_sql_vec_push(p, &aliases, (void *)alias);
        }
    } while (rc == LH_OK && lh_sql_accept_punct(p, ','));
    s->u.select.targets.items = (lh_ast **)exprs.items;
    s->u.select.targets.n = exprs.n;
    s->u.select.target_alias = (const char **)aliases.items;
    return rc;
}

static lh_rc
parse_window_defs(lh_parser *p, lh_ast *s)
{
    lh_sql_vec v = {0};
    lh_rc rc;
    do {
        lh_ast_window *w = lh_arena_calloc(p->a, sizeof(lh_ast_window));
        if (w == NULL) {
            return lh_err_set(p->err, LH_ENOMEM, "out of memory");
        }
        w->pos = lh_sql_peek(p, 0)->pos;
        const char *name;
        rc = lh_sql_parse_ident(p, &name);
        if (rc == LH_OK) {
            rc = lh_sql_expect_kw(p, LH_KW_AS);
        }
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, '(');
        }
        if (rc == LH_OK) {
            rc = lh__sql_parse_window_spec(p, w);
        }
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, ')');
        }
        w->name = name;
        if (rc == LH_OK) {
            rc = lh_sql_vec_push(p, &v, w);
        }
    } while (rc == LH_OK && lh_sql_accept_punct(p, ','));
    s->u.select.windows = (lh_ast_window **)v.items;
    s->u.select.nwindows = v.n;
    return rc;
}

static lh_rc
parse_select(lh_parser *p, lh_ast **out)
{
    const lh_tok *t = lh_sql_next(p); /* SELECT */
    lh_ast *s = lh_sql_node(p, LH_AST_SELECT, t->pos);
    if (s == NULL) {
        return LH_ENOMEM;
    }
    *out = s;
    lh_rc rc = LH_OK;
    if (lh_sql_accept_kw(p, LH_KW_DISTINCT)) {
        s->u.select.distinct = true;
        if (lh_sql_accept_kw(p, LH_KW_ON)) {
            rc = lh_sql_expect_punct(p, '(');
            if (rc == LH_OK) {
                rc = lh_sql_parse_expr_list(p, &s->u.select.distinct_on);
            }
            if (rc == LH_OK) {
                rc = lh_sql_expect_punct(p, ')');
            }
        }
    } else {
        lh_sql_accept_kw(p, LH_KW_ALL);
    }
    if (rc != LH_OK) {
        return rc;
    }
    /* SELECT with no targets is allowed only before FROM in PostgreSQL;
     * we require at least one */
    rc = parse_targets(p, s);
    if (rc == LH_OK && lh_sql_accept_kw(p, LH_KW_FROM)) {
        rc = parse_from_list(p, &s->u.select.from);
    }
    if (rc == LH_OK && lh_sql_accept_kw(p, LH_KW_WHERE)) {
        rc = lh_sql_parse_expr(p, &s->u.select.where);
    }
    if (rc == LH_OK && lh_sql_accept_kw(p, LH_KW_GROUP)) {
        rc = lh_sql_expect_kw(p, LH_KW_BY);
        if (rc == LH_OK && lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_ALL)) {
            lh_sql_next(p);
            s->u.select.group_all = true;
        } else if (rc == LH_OK) {
            lh_sql_vec v = {0};
            do {
                lh_ast_group *g;
                rc = parse_group_item(p, &g);
                if (rc == LH_OK) {
                    rc = lh_sql_vec_push(p, &v, g);
                }
            } while (rc == LH_OK && lh_sql_accept_punct(p, ','));
            s->u.select.group = (lh_ast_group **)v.items;
            s->u.select.ngroup = v.n;
        }
    }
    if (rc == LH_OK && lh_sql_accept_kw(p, LH_KW_HAVING)) {
        rc = lh_sql_parse_expr(p, &s->u.select.having);
    }
    if (rc == LH_OK && lh_sql_accept_kw(p, LH_KW_WINDOW)) {
        rc = parse_window_defs(p, s);
    }
    if (rc == LH_OK && lh_sql_accept_kw(p, LH_KW_QUALIFY)) {
        rc = lh_sql_parse_expr(p, &s->u.select.qualify);
    }
    return rc;
}

static lh_rc
parse_values(lh_parser *p, lh_ast **out)
{
    const lh_tok *t = lh_sql_next(p); /* VALUES */
    lh_ast *v = lh_sql_node(p, LH_AST_VALUES, t->pos);
    if (v == NULL) {
        return LH_ENOMEM;
    }
    *out = v;
    lh_sql_vec rows = {0};
    lh_rc rc;
    do {
        int32_t pos = lh_sql_peek(p, 0)->pos;
        rc = lh_sql_expect_punct(p, '(');
        lh_ast *row = lh_sql_node(p, LH_AST_ROW, pos);
        if (row == NULL) {
            return LH_ENOMEM;
        }
        if (rc == LH_OK) {
            rc = lh_sql_parse_expr_list(p, &row->u.row.items);
        }
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, ')');
        }
        if (rc == LH_OK) {
            rc = lh_sql_vec_push(p, &rows, row);
        }
    } while (rc == LH_OK && lh_sql_accept_punct(p, ','));
    v->u.values.rows.items = (lh_ast **)rows.items;
    v->u.values.rows.n = rows.n;
    return rc;
}

static lh_rc
parse_set_primary(lh_parser *p, lh_ast **out)
{
    const lh_tok *t = lh_sql_peek(p, 0);
    if (lh_sql_is_kw(t, LH_KW_SELECT)) {
        return parse_select(p, out);
    }
    if (lh_sql_is_kw(t, LH_KW_VALUES)) {
        return parse_values(p, out);
    }
    if (lh_sql_is_kw(t, LH_KW_TABLE)) {
        /* TABLE t = SELECT * FROM t */
        lh_sql_next(p);
        lh_ast *s = lh_sql_node(p, LH_AST_SELECT, t->pos);
        lh_ast *star = lh_sql_node(p, LH_AST_STAR, t->pos);
        lh_ast *tab = lh_sql_node(p, LH_AST_TABLE, lh_sql_peek(p, 0)->pos);
        lh_ast **items = lh_arena_alloc(p->a, sizeof(lh_ast *));
        const char **aliases = lh_arena_calloc(p->a, sizeof(char *));
        if (!s || !star || !tab || !items || !aliases) {
            return lh_err_set(p->err, LH_ENOMEM, "out of memory");
        }
        items[0] = star;
        s->u.select.targets.items = items;
        s->u.select.targets.n = 1;
        s->u.select.target_alias = aliases;
        s->u.select.from = tab;
        *out = s;
        return lh_sql_parse_name(p, &tab->u.table.name);
    }
    if (lh_sql_is_punct(t, '(')) {
        lh_sql_next(p);
        lh_rc rc = lh_sql_parse_query(p, out);
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, ')');
        }
        return rc;
    }
    return lh_sql_syntax_error(p, t, "SELECT or VALUES");
}

static lh_rc
setop(lh_parser *p, uint8_t op, int32_t pos, lh_ast *left, lh_ast **out)
{
    lh_ast *n = lh_sql_node(p, LH_AST_SETOP, pos);
    if (n == NULL) {
        return LH_ENOMEM;
    }
    n->u.setop.op = op;
    n->u.setop.left = left;
    if (lh_sql_accept_kw(p, LH_KW_ALL)) {
        n->u.setop.all = true;
    } else {
        lh_sql_accept_kw(p, LH_KW_DISTINCT);
    }
    if (op == LH_SETOP_UNION && lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_BY) &&
        lh_sql_peek(p, 1)->kind == LH_TOK_IDENT &&
        strcmp(lh_sql_peek(p, 1)->text, "name") == 0) {
        lh_sql_next(p);
        lh_sql_next(p);
        n->u.setop.by_name = true;
    }
    *out = n;
    return LH_OK;
}

static lh_rc
parse_set_term(lh_parser *p, lh_ast **out)
{
    lh_rc rc = parse_set_primary(p, out);
    while (rc == LH_OK && lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_INTERSECT)) {
        int32_t pos = lh_sql_next(p)->pos;
        lh_ast *n;
        rc = setop(p, LH_SETOP_INTERSECT, pos, *out, &n);
        if (rc == LH_OK) {
            rc = parse_set_primary(p, &n->u.setop.right);
        }
        *out = n;
    }
    return rc;
}

static lh_rc
parse_set_expr(lh_parser *p, lh_ast **out)
{
    lh_rc rc = parse_set_term(p, out);
    for (;;) {
        const lh_tok *t = lh_sql_peek(p, 0);
        uint8_t op;
        if (lh_sql_is_kw(t, LH_KW_UNION)) {
            op = LH_SETOP_UNION;
        } else if (lh_sql_is_kw(t, LH_KW_EXCEPT)) {
            op = LH_SETOP_EXCEPT;
        } else if (t->kind == LH_TOK_IDENT && strcmp(t->text, "minus") == 0 &&
                   (lh_sql_is_kw(lh_sql_peek(p, 1), LH_KW_SELECT) ||
                    lh_sql_is_punct(lh_sql_peek(p, 1), '('))) {
            op = LH_SETOP_EXCEPT; /* Oracle, Snowflake */
        } else {
            break;
        }
        if (rc != LH_OK) {
            break;
        }
        lh_sql_next(p);
        lh_ast *n;
        rc = setop(p, op, t->pos, *out, &n);
        if (rc == LH_OK) {
            rc = parse_set_term(p, &n->u.setop.right);
        }
        *out = n;
        if (rc != LH_OK) {
            break;
        }
    }
    return rc;
}

/* The ORDER BY / LIMIT / WITH slots of a query node, NULL for kinds that
 * have none. */
static lh_ast_order_list *
order_slot(lh_ast *q)
{
    switch (q->kind) {
    case LH_AST_SELECT:
        return &q->u.select.order;
    case LH_AST_SETOP:
        return &q->u.setop.order;
    case LH_AST_VALUES:
        return &q->u.values.order;
    default:
        return NULL;
    }
}

static lh_ast **
limit_slot(lh_ast *q, bool offset)
{
    switch (q->kind) {
    case LH_AST_SELECT:
        return offset ? &q->u.select.offset : &q->u.select.limit;
    case LH_AST_SETOP:
        return offset ? &q->u.setop.offset : &q->u.setop.limit;
    case LH_AST_VALUES:
        return offset ? &q->u.values.offset : &q->u.values.limit;
    default:
        return NULL;
    }
}

static void
cte_slot(lh_ast *q, lh_ast_cte ***ctes, uint32_t **n, bool **rec)
{
    switch (q->kind) {
    case LH_AST_SELECT:
        *ctes = &q->u.select.ctes;
        *n = &q->u.select.nctes;
        *rec = &q->u.select.recursive;
        return;
    case LH_AST_SETOP:
        *ctes = &q->u.setop.ctes;
        *n = &q->u.setop.nctes;
        *rec = &q->u.setop.recursive;
        return;
    default:
        *ctes = &q->u.values.ctes;
        *n = &q->u.values.nctes;
        *rec = &q->u.values.recursive;
        return;
    }
}

/* SELECT * FROM (q): gives q's outer clauses a node of their own. */
static lh_rc
wrap(lh_parser *p, lh_ast **q)
{
    int32_t pos = (*q)->pos;
    lh_ast *s = lh_sql_node(p, LH_AST_SELECT, pos);
    lh_ast *star = lh_sql_node(p, LH_AST_STAR, pos);
    lh_ast *d = lh_sql_node(p, LH_AST_DERIVED, pos);
    lh_ast **items = lh_arena_alloc(p->a, sizeof(lh_ast *));
    const char **aliases = lh_arena_calloc(p->a, sizeof(char *));
    if (!s || !star || !d || !items || !aliases) {
        return lh_err_set(p->err, LH_ENOMEM, "out of memory");
    }
    d->u.derived.query = *q;
    items[0] = star;
    s->u.select.targets.items = items;
    s->u.select.targets.n = 1;
    s->u.select.target_alias = aliases;
    s->u.select.from = d;
    *q = s;
    return LH_OK;
}

static bool
has_outer_clauses(lh_ast *q)
{
    lh_ast_order_list *o = order_slot(q);
    return o && (o->n || *limit_slot(q, false) || *limit_slot(q, true));
}

static lh_rc
parse_ctes(lh_parser *p, lh_ast_cte **out, uint32_t *n, bool *recursive)
{
    *recursive = lh_sql_accept_kw(p, LH_KW_RECURSIVE);
    uint32_t cap = 4, cnt = 0;
    lh_ast_cte *ctes = lh_arena_alloc(p->a, cap * sizeof(lh_ast_cte));
    if (ctes == NULL) {
        return lh_err_set(p->err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc;
    do {
        if (cnt == cap) {
            lh_ast_cte *nc = lh_arena_alloc(p->a, 2 * cap * sizeof(lh_ast_cte));
            if (nc == NULL) {
                return lh_err_set(p->err, LH_ENOMEM, "out of memory");
            }
            memcpy(nc, ctes, cnt * sizeof(lh_ast_cte));
            ctes = nc;
            cap *= 2;
        }
        lh_ast_cte *c = &ctes[cnt++];
        memset(c, 0, sizeof *c);
        c->materialized = -1;
        c->pos = lh_sql_peek(p, 0)->pos;
        rc = lh_sql_parse_ident(p, &c->name);
        if (rc == LH_OK && lh_sql_is_punct(lh_sql_peek(p, 0), '(')) {
            rc = lh__sql_parse_ident_list(p, &c->cols, &c->ncols);
        }
        if (rc == LH_OK) {
            rc = lh_sql_expect_kw(p, LH_KW_AS);
        }
        if (rc == LH_OK && lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_NOT) &&
            lh_sql_is_kw(lh_sql_peek(p, 1), LH_KW_MATERIALIZED)) {
            p->i += 2;
            c->materialized = 0;
        } else if (rc == LH_OK && lh_sql_accept_kw(p, LH_KW_MATERIALIZED)) {
            c->materialized = 1;
        }
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, '(');
        }
        if (rc == LH_OK) {
            rc = lh_sql_parse_query(p, &c->query);
        }
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, ')');
        }
    } while (rc == LH_OK && lh_sql_accept_punct(p, ','));
    *out = ctes;
    *n = cnt;
    return rc;
}

lh_rc
lh_sql_parse_query(lh_parser *p, lh_ast **out)
{
    lh_rc rc = enter(p);
    if (rc != LH_OK) {
        return rc;
    }
    lh_ast_cte *ctes = NULL;
    uint32_t nctes = 0;
    bool recursive = false;
    if (lh_sql_accept_kw(p, LH_KW_WITH)) {
        rc = parse_ctes(p, &ctes, &nctes, &recursive);
    }
    lh_ast *q = NULL;
    if (rc == LH_OK) {
        rc = parse_set_expr(p, &q);
    }
    /* ORDER BY, LIMIT, OFFSET, FETCH of the whole query */
    if (rc == LH_OK && lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_ORDER)) {
        if (has_outer_clauses(q) || order_slot(q) == NULL) {
            rc = wrap(p, &q);
        }
        lh_sql_next(p);
        if (rc == LH_OK) {
            rc = lh_sql_expect_kw(p, LH_KW_BY);
        }
        if (rc == LH_OK) {
            rc = lh_sql_parse_order_list(p, order_slot(q));
        }
    }
    for (int k = 0; rc == LH_OK && k < 3; k++) {
        const lh_tok *t = lh_sql_peek(p, 0);
        bool offset = lh_sql_is_kw(t, LH_KW_OFFSET);
        bool limit = lh_sql_is_kw(t, LH_KW_LIMIT);
        bool fetch = lh_sql_is_kw(t, LH_KW_FETCH);
        if (!offset && !limit && !fetch) {
            break;
        }
        lh_ast **slot = limit_slot(q, offset);
        if (*slot) {
            rc = lh_sql_syntax_error(p, t, NULL);
            break;
        }
        lh_sql_next(p);
        if (limit && lh_sql_accept_kw(p, LH_KW_ALL)) {
            continue;
        }
        if (fetch) {
            /* FETCH FIRST|NEXT [n] ROW|ROWS ONLY */
            if (!lh_sql_accept_kw(p, LH_KW_FIRST) &&
                !lh_sql_accept_kw(p, LH_KW_NEXT)) {
                rc = lh_sql_syntax_error(p, lh_sql_peek(p, 0), "FIRST");
                break;
            }
            if (lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_ROW) ||
                lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_ROWS)) {
                *slot = lh_sql_node(p, LH_AST_LITERAL, t->pos);
                if (*slot == NULL) {
                    return LH_ENOMEM;
                }
                (*slot)->u.lit.kind = LH_LIT_INT;
                (*slot)->u.lit.text = "1";
            } else {
                rc = lh_sql_parse_expr(p, slot);
            }
            if (rc == LH_OK && !lh_sql_accept_kw(p, LH_KW_ROW) &&
                !lh_sql_accept_kw(p, LH_KW_ROWS)) {
                rc = lh_sql_syntax_error(p, lh_sql_peek(p, 0), "ROWS");
            }
            if (rc == LH_OK) {
                rc = lh_sql_expect_kw(p, LH_KW_ONLY);
            }
            continue;
        }
        /* LIMIT 10% (DuckDB): the number, then % with nothing after */
        const lh_tok *pct = lh_sql_peek(p, 1);
        const lh_tok *after = lh_sql_peek(p, 2);
        bool percent =
            limit &&
            (lh_sql_peek(p, 0)->kind == LH_TOK_INT ||
             lh_sql_peek(p, 0)->kind == LH_TOK_NUMBER) &&
            lh_sql_is_op(pct, "%") &&
            (after->kind == LH_TOK_EOF || lh_sql_is_punct(after, ';') ||
             lh_sql_is_punct(after, ')') || lh_sql_is_kw(after, LH_KW_OFFSET));
        if (percent) {
            rc = lh__sql_parse_primary(p, slot);
        } else {
            rc = lh_sql_parse_expr(p, slot);
        }
        if (rc == LH_OK && percent && lh_sql_accept_op(p, "%")) {
            if (q->kind == LH_AST_SELECT) {
                q->u.select.limit_percent = true;
            } else {
                rc = lh_sql_error_at(p, LH_EUNSUPPORTED, t->pos,
                                     "unsupported: LIMIT ... %% on a set "
                                     "operation");
            }
        }
        if (rc == LH_OK && offset) {
            /* OFFSET n ROWS */
            if (!lh_sql_accept_kw(p, LH_KW_ROWS)) {
                lh_sql_accept_kw(p, LH_KW_ROW);
            }
        }
    }
    if (rc == LH_OK && nctes) {
        lh_ast_cte **cs;
        uint32_t *cn;
        bool *cr;
        cte_slot(q, &cs, &cn, &cr);
        if (*cn) {
            rc = wrap(p, &q);
            cte_slot(q, &cs, &cn, &cr);
        }
        *cs = ctes;
        *cn = nctes;
        *cr = recursive;
    }
    p->depth--;
    *out = q;
    return rc;
}
