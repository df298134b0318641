/*
 * Statements: the queries of parse_query.c, and CREATE TABLE / VIEW /
 * INDEX, DROP, ALTER TABLE, INSERT, UPDATE / DELETE (parsed, refused by the
 * binder: tables are append-only event logs), COPY, EXPLAIN, SET / RESET /
 * SHOW, BEGIN / COMMIT / ROLLBACK, PRAGMA. And lh_sql_parse, which splits a
 * text into statements at semicolons.
 */
#include <string.h>

#include "sql/dialect/dialect.h"
#include "sql/sql.h"

/* key [=] value, ... inside parentheses (the "(" is current). Values are
 * literals, identifiers (as strings) or parenthesized lists (as their
 * first element). */
lh_rc
lh__sql_parse_options(lh_parser *p, lh_ast_option **out, uint32_t *n)
{
    lh_rc rc = lh_sql_expect_punct(p, '(');
    uint32_t cap = 4, cnt = 0;
    lh_ast_option *opts = lh_arena_alloc(p->a, cap * sizeof(lh_ast_option));
    if (opts == NULL) {
        return lh_err_set(p->err, LH_ENOMEM, "out of memory");
    }
    while (rc == LH_OK && !lh_sql_is_punct(lh_sql_peek(p, 0), ')')) {
        if (cnt == cap) {
            lh_ast_option *no =
                lh_arena_alloc(p->a, 2 * cap * sizeof(lh_ast_option));
            if (no == NULL) {
                return lh_err_set(p->err, LH_ENOMEM, "out of memory");
            }
            memcpy(no, opts, cnt * sizeof(lh_ast_option));
            opts = no;
            cap *= 2;
        }
        lh_ast_option *o = &opts[cnt++];
        memset(o, 0, sizeof *o);
        const lh_tok *k = lh_sql_peek(p, 0);
        o->pos = k->pos;
        if (k->kind == LH_TOK_IDENT || k->kind == LH_TOK_QIDENT ||
            k->kind == LH_TOK_STRING) {
            lh_sql_next(p);
            o->key = k->text;
        } else {
            return lh_sql_syntax_error(p, k, "an option name");
        }
        lh_sql_accept_op(p, "=");
        const lh_tok *v = lh_sql_peek(p, 0);
        if (lh_sql_is_punct(v, ',') || lh_sql_is_punct(v, ')')) {
            /* a flag */
        } else if (v->kind == LH_TOK_IDENT || v->kind == LH_TOK_QIDENT) {
            lh_sql_next(p);
            lh_ast *lit = lh_sql_node(p, LH_AST_LITERAL, v->pos);
            if (lit == NULL) {
                return LH_ENOMEM;
            }
            if (lh_sql_is_kw(v, LH_KW_TRUE) || lh_sql_is_kw(v, LH_KW_FALSE)) {
                lit->u.lit.kind = LH_LIT_BOOL;
                lit->u.lit.b = v->kw == LH_KW_TRUE;
            } else {
                lit->u.lit.kind = LH_LIT_STRING;
                lit->u.lit.text = v->text;
            }
            o->value = lit;
        } else if (lh_sql_is_punct(v, '(')) {
            /* (a, b): keep the list as a row */
            rc = lh_sql_parse_expr(p, &o->value);
        } else {
            rc = lh_sql_parse_expr(p, &o->value);
        }
        if (rc == LH_OK && !lh_sql_accept_punct(p, ',')) {
            break;
        }
    }
    if (rc == LH_OK) {
        rc = lh_sql_expect_punct(p, ')');
    }
    *out = opts;
    *n = cnt;
    return rc;
}

/* ---- CREATE ----------------------------------------------------------------
 */

static lh_rc
parse_coldef(lh_parser *p, lh_ast_coldef *c)
{
    memset(c, 0, sizeof *c);
    c->pos = lh_sql_peek(p, 0)->pos;
    lh_rc rc = lh_sql_parse_ident(p, &c->name);
    if (rc == LH_OK) {
        rc = lh_sql_parse_type(p, &c->type_text, &c->type_pos);
    }
    /* constraints, in any order */
    while (rc == LH_OK) {
        const lh_tok *t = lh_sql_peek(p, 0);
        if (lh_sql_is_kw(t, LH_KW_NOT) &&
            lh_sql_is_kw(lh_sql_peek(p, 1), LH_KW_NULL)) {
            p->i += 2;
            c->not_null = true;
        } else if (lh_sql_is_kw(t, LH_KW_NULL)) {
            lh_sql_next(p);
        } else if (lh_sql_is_kw(t, LH_KW_PRIMARY)) {
            lh_sql_next(p);
            rc = lh_sql_expect_kw(p, LH_KW_KEY);
            c->primary_key = true;
        } else if (lh_sql_is_kw(t, LH_KW_UNIQUE)) {
            lh_sql_next(p);
            c->unique = true;
        } else if (lh_sql_is_kw(t, LH_KW_DEFAULT)) {
            lh_sql_next(p);
            int32_t from = p->toks[p->i].pos;
            rc = lh_sql_parse_expr(p, &c->default_expr);
            if (rc == LH_OK) {
                const lh_tok *last = &p->toks[p->i - 1];
                int32_t to = last->pos + (int32_t)last->len;
                c->default_text =
                    lh__sql_strdup(p, p->sql + from, (size_t)(to - from));
                if (c->default_text == NULL) {
                    return LH_ENOMEM;
                }
            }
        } else if (lh_sql_is_kw(t, LH_KW_CHECK) ||
                   lh_sql_is_kw(t, LH_KW_REFERENCES) ||
                   lh_sql_is_kw(t, LH_KW_COLLATE) ||
                   lh_sql_is_kw(t, LH_KW_CONSTRAINT)) {
            return lh_sql_error_at(p, LH_EUNSUPPORTED, t->pos,
                                   "unsupported: column constraint %s",
                                   lh_sql_keyword_text((lh_kw)t->kw));
        } else {
            break;
        }
    }
    return rc;
}

static lh_rc
parse_create_table(lh_parser *p, int32_t pos, bool temp, bool or_replace,
                   lh_ast **out)
{
    lh_ast *n = lh_sql_node(p, LH_AST_CREATE_TABLE, pos);
    if (n == NULL) {
        return LH_ENOMEM;
    }
    *out = n;
    n->u.create_table.temporary = temp;
    n->u.create_table.or_replace = or_replace;
    lh_rc rc = LH_OK;
    if (lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_IF)) {
        lh_sql_next(p);
        rc = lh_sql_expect_kw(p, LH_KW_NOT);
        if (rc == LH_OK) {
            rc = lh_sql_expect_kw(p, LH_KW_EXISTS);
        }
        n->u.create_table.if_not_exists = true;
    }
    if (rc == LH_OK) {
        rc = lh_sql_parse_name(p, &n->u.create_table.name);
    }
    if (rc != LH_OK) {
        return rc;
    }
    if (lh_sql_accept_punct(p, '(')) {
        uint32_t cap = 8, cnt = 0;
        lh_ast_coldef *cols = lh_arena_alloc(p->a, cap * sizeof(lh_ast_coldef));
        if (cols == NULL) {
            return lh_err_set(p->err, LH_ENOMEM, "out of memory");
        }
        do {
            const lh_tok *t = lh_sql_peek(p, 0);
            if (lh_sql_is_kw(t, LH_KW_PRIMARY) &&
                lh_sql_is_kw(lh_sql_peek(p, 1), LH_KW_KEY)) {
                p->i += 2;
                rc = lh__sql_parse_ident_list(p, &n->u.create_table.primary_key,
                                              &n->u.create_table.npk);
                continue;
            }
            if (lh_sql_is_kw(t, LH_KW_UNIQUE) &&
                lh_sql_is_punct(lh_sql_peek(p, 1), '(')) {
                lh_sql_next(p);
                const char **u;
                uint32_t nu;
                rc = lh__sql_parse_ident_list(p, &u, &nu);
                continue;
            }
            if (lh_sql_is_kw(t, LH_KW_CONSTRAINT) ||
                lh_sql_is_kw(t, LH_KW_FOREIGN) ||
                lh_sql_is_kw(t, LH_KW_CHECK)) {
                return lh_sql_error_at(p, LH_EUNSUPPORTED, t->pos,
                                       "unsupported: table constraint %s",
                                       lh_sql_keyword_text((lh_kw)t->kw));
            }
            if (cnt == cap) {
                lh_ast_coldef *nc =
                    lh_arena_alloc(p->a, 2 * cap * sizeof(lh_ast_coldef));
                if (nc == NULL) {
                    return lh_err_set(p->err, LH_ENOMEM, "out of memory");
                }
                memcpy(nc, cols, cnt * sizeof(lh_ast_coldef));
                cols = nc;
                cap *= 2;
            }
            rc = parse_coldef(p, &cols[cnt++]);
        } while (rc == LH_OK && lh_sql_accept_punct(p, ','));
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, ')');
        }
        n->u.create_table.cols = cols;
        n->u.create_table.ncols = cnt;
    }
    /* PARTITION BY expr, CLUSTER BY (cols) | cols, WITH (options), in any
     * order */
    while (rc == LH_OK) {
        const lh_tok *t = lh_sql_peek(p, 0);
        if (lh_sql_is_kw(t, LH_KW_PARTITION)) {
            lh_sql_next(p);
            rc = lh_sql_expect_kw(p, LH_KW_BY);
            if (rc == LH_OK) {
                rc = lh_sql_parse_expr(p, &n->u.create_table.partition_by);
            }
        } else if (lh_sql_is_kw(t, LH_KW_CLUSTER)) {
            lh_sql_next(p);
            rc = lh_sql_expect_kw(p, LH_KW_BY);
            if (rc == LH_OK && lh_sql_is_punct(lh_sql_peek(p, 0), '(')) {
                rc = lh__sql_parse_ident_list(p, &n->u.create_table.cluster_by,
                                              &n->u.create_table.ncluster);
            } else if (rc == LH_OK) {
                lh_sql_vec v = {0};
                do {
                    const char *c = NULL;
                    rc = lh_sql_parse_ident(p, &c);
                    if (rc == LH_OK) {
                        rc = lh_sql_vec_push(p, &v, (void *)c);
                    }
                } while (rc == LH_OK && lh_sql_accept_punct(p, ','));
                n->u.create_table.cluster_by = (const char **)v.items;
                n->u.create_table.ncluster = v.n;
            }
        } else if (lh_sql_is_kw(t, LH_KW_WITH) &&
                   lh_sql_is_punct(lh_sql_peek(p, 1), '(')) {
            lh_sql_next(p);
            rc = lh__sql_parse_options(p, &n->u.create_table.options,
                                       &n->u.create_table.noptions);
        } else if (lh_sql_is_kw(t, LH_KW_AS)) {
            lh_sql_next(p);
            rc = lh_sql_parse_query(p, &n->u.create_table.as_query);
        } else {
            break;
        }
    }
    if (rc == LH_OK && n->u.create_table.ncols == 0 &&
        n->u.create_table.as_query == NULL) {
        return lh_sql_syntax_error(p, lh_sql_peek(p, 0),
                                   "a column list or AS query");
    }
    return rc;
}

static lh_rc
parse_if_not_exists(lh_parser *p, bool *flag)
{
    if (!lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_IF)) {
        return LH_OK;
    }
    lh_sql_next(p);
    lh_rc rc = lh_sql_expect_kw(p, LH_KW_NOT);
    if (rc == LH_OK) {
        rc = lh_sql_expect_kw(p, LH_KW_EXISTS);
    }
    *flag = true;
    return rc;
}

static lh_rc
parse_create(lh_parser *p, int32_t pos, lh_ast **out)
{
    bool or_replace = false, temp = false, unique = false;
    if (lh_sql_accept_kw(p, LH_KW_OR)) {
        lh_rc rc = lh_sql_expect_kw(p, LH_KW_REPLACE);
        if (rc != LH_OK) {
            return rc;
        }
        or_replace = true;
    }
    if (lh_sql_accept_kw(p, LH_KW_TEMP) ||
        lh_sql_accept_kw(p, LH_KW_TEMPORARY)) {
        temp = true;
    }
    if (lh_sql_accept_kw(p, LH_KW_UNIQUE)) {
        unique = true;
    }
    const lh_tok *t = lh_sql_peek(p, 0);
    if (lh_sql_is_kw(t, LH_KW_TABLE) && !unique) {
        lh_sql_next(p);
        return parse_create_table(p, pos, temp, or_replace, out);
    }
    if (lh_sql_is_kw(t, LH_KW_VIEW) && !unique) {
        lh_sql_next(p);
        lh_ast *n = lh_sql_node(p, LH_AST_CREATE_VIEW, pos);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        *out = n;
        n->u.create_view.or_replace = or_replace;
        n->u.create_view.temporary = temp;
        lh_rc rc = parse_if_not_exists(p, &n->u.create_view.if_not_exists);
        if (rc == LH_OK) {
            rc = lh_sql_parse_name(p, &n->u.create_view.name);
        }
        if (rc == LH_OK && lh_sql_is_punct(lh_sql_peek(p, 0), '(')) {
            rc = lh__sql_parse_ident_list(p, &n->u.create_view.cols,
                                          &n->u.create_view.ncols);
        }
        if (rc == LH_OK) {
            rc = lh_sql_expect_kw(p, LH_KW_AS);
        }
        if (rc == LH_OK) {
            n->u.create_view.query_pos = lh_sql_peek(p, 0)->pos;
            rc = lh_sql_parse_query(p, &n->u.create_view.query);
        }
        return rc;
    }
    if (lh_sql_is_kw(t, LH_KW_INDEX)) {
        lh_sql_next(p);
        lh_ast *n = lh_sql_node(p, LH_AST_CREATE_INDEX, pos);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        *out = n;
        n->u.create_index.unique = unique;
        lh_rc rc = parse_if_not_exists(p, &n->u.create_index.if_not_exists);
        if (rc == LH_OK && !lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_ON)) {
            rc = lh_sql_parse_ident(p, &n->u.create_index.name);
        }
        if (rc == LH_OK) {
            rc = lh_sql_expect_kw(p, LH_KW_ON);
        }
        if (rc == LH_OK) {
            rc = lh_sql_parse_name(p, &n->u.create_index.table);
        }
        if (rc == LH_OK && lh_sql_accept_kw(p, LH_KW_USING)) {
            rc = lh_sql_parse_ident(p, &n->u.create_index.method);
        }
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, '(');
        }
        if (rc == LH_OK) {
            lh_sql_vec v = {0};
            do {
                lh_ast *e;
                rc = lh_sql_parse_expr(p, &e);
                /* (col ASC|DESC) */
                if (rc == LH_OK && !lh_sql_accept_kw(p, LH_KW_ASC)) {
                    lh_sql_accept_kw(p, LH_KW_DESC);
                }
                if (rc == LH_OK) {
                    rc = lh_sql_vec_push(p, &v, e);
                }
            } while (rc == LH_OK && lh_sql_accept_punct(p, ','));
            n->u.create_index.exprs.items = (lh_ast **)v.items;
            n->u.create_index.exprs.n = v.n;
        }
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, ')');
        }
        if (rc == LH_OK && lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_WITH) &&
            lh_sql_is_punct(lh_sql_peek(p, 1), '(')) {
            lh_sql_next(p);
            rc = lh__sql_parse_options(p, &n->u.create_index.options,
                                       &n->u.create_index.noptions);
        }
        return rc;
    }
    if (t->kind == LH_TOK_IDENT &&
        (strcmp(t->text, "trigger") == 0 || strcmp(t->text, "sequence") == 0 ||
         strcmp(t->text, "schema") == 0 || strcmp(t->text, "function") == 0 ||
         strcmp(t->text, "type") == 0 || strcmp(t->text, "macro") == 0)) {
        return lh_sql_error_at(p, LH_EUNSUPPORTED, t->pos,
                               "unsupported: CREATE %s", t->text);
    }
    return lh_sql_syntax_error(p, t, "TABLE, VIEW or INDEX");
}

/* ---- DROP, ALTER ----------------------------------------------------------
 */

static lh_rc
parse_drop(lh_parser *p, int32_t pos, lh_ast **out)
{
    lh_ast *n = lh_sql_node(p, LH_AST_DROP, pos);
    if (n == NULL) {
        return LH_ENOMEM;
    }
    *out = n;
    const lh_tok *t = lh_sql_next(p);
    if (lh_sql_is_kw(t, LH_KW_TABLE)) {
        n->u.drop.what = LH_DROP_TABLE;
    } else if (lh_sql_is_kw(t, LH_KW_VIEW)) {
        n->u.drop.what = LH_DROP_VIEW;
    } else if (lh_sql_is_kw(t, LH_KW_INDEX)) {
        n->u.drop.what = LH_DROP_INDEX;
    } else if (t->kind == LH_TOK_IDENT && (strcmp(t->text, "trigger") == 0 ||
                                           strcmp(t->text, "sequence") == 0 ||
                                           strcmp(t->text, "schema") == 0)) {
        return lh_sql_error_at(p, LH_EUNSUPPORTED, t->pos,
                               "unsupported: DROP %s", t->text);
    } else {
        return lh_sql_syntax_error(p, t, "TABLE, VIEW or INDEX");
    }
    lh_rc rc = LH_OK;
    if (lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_IF)) {
        lh_sql_next(p);
        rc = lh_sql_expect_kw(p, LH_KW_EXISTS);
        n->u.drop.if_exists = true;
    }
    uint32_t cap = 2, cnt = 0;
    lh_ast_name *names = lh_arena_alloc(p->a, cap * sizeof(lh_ast_name));
    if (names == NULL) {
        return lh_err_set(p->err, LH_ENOMEM, "out of memory");
    }
    while (rc == LH_OK) {
        if (cnt == cap) {
            lh_ast_name *nn =
                lh_arena_alloc(p->a, 2 * cap * sizeof(lh_ast_name));
            if (nn == NULL) {
                return lh_err_set(p->err, LH_ENOMEM, "out of memory");
            }
            memcpy(nn, names, cnt * sizeof(lh_ast_name));
            names = nn;
            cap *= 2;
        }
        rc = lh_sql_parse_name(p, &names[cnt++]);
        if (rc != LH_OK || !lh_sql_accept_punct(p, ',')) {
            break;
        }
    }
    if (rc == LH_OK && lh_sql_accept_kw(p, LH_KW_CASCADE)) {
        n->u.drop.cascade = true;
    }
    n->u.drop.names = names;
    n->u.drop.nnames = cnt;
    return rc;
}

static lh_rc
parse_alter(lh_parser *p, int32_t pos, lh_ast **out)
{
    lh_rc rc = lh_sql_expect_kw(p, LH_KW_TABLE);
    lh_ast *n = lh_sql_node(p, LH_AST_ALTER_TABLE, pos);
    if (n == NULL) {
        return LH_ENOMEM;
    }
    *out = n;
    if (rc == LH_OK && lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_IF)) {
        lh_sql_next(p);
        rc = lh_sql_expect_kw(p, LH_KW_EXISTS);
        n->u.alter.if_exists = true;
    }
    if (rc == LH_OK) {
        rc = lh_sql_parse_name(p, &n->u.alter.name);
    }
    if (rc != LH_OK) {
        return rc;
    }
    if (lh_sql_accept_kw(p, LH_KW_ADD)) {
        lh_sql_accept_kw(p, LH_KW_COLUMN);
        n->u.alter.what = LH_ALTER_ADD_COLUMN;
        bool ine = false;
        rc = parse_if_not_exists(p, &ine);
        if (rc == LH_OK) {
            rc = parse_coldef(p, &n->u.alter.col);
        }
        return rc;
    }
    if (lh_sql_accept_kw(p, LH_KW_DROP)) {
        lh_sql_accept_kw(p, LH_KW_COLUMN);
        n->u.alter.what = LH_ALTER_DROP_COLUMN;
        if (lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_IF)) {
            lh_sql_next(p);
            rc = lh_sql_expect_kw(p, LH_KW_EXISTS);
        }
        if (rc == LH_OK) {
            rc = lh_sql_parse_ident(p, &n->u.alter.column);
        }
        return rc;
    }
    if (lh_sql_accept_kw(p, LH_KW_RENAME)) {
        if (lh_sql_accept_kw(p, LH_KW_TO)) {
            n->u.alter.what = LH_ALTER_RENAME_TABLE;
            return lh_sql_parse_ident(p, &n->u.alter.new_name);
        }
        lh_sql_accept_kw(p, LH_KW_COLUMN);
        n->u.alter.what = LH_ALTER_RENAME_COLUMN;
        rc = lh_sql_parse_ident(p, &n->u.alter.column);
        if (rc == LH_OK) {
            rc = lh_sql_expect_kw(p, LH_KW_TO);
        }
        if (rc == LH_OK) {
            rc = lh_sql_parse_ident(p, &n->u.alter.new_name);
        }
        return rc;
    }
    return lh_sql_syntax_error(p, lh_sql_peek(p, 0), "ADD, DROP or RENAME");
}

/* ---- INSERT, UPDATE, DELETE, COPY -----------------------------------------
 */

static lh_rc
parse_insert(lh_parser *p, int32_t pos, lh_ast **out)
{
    lh_ast *n = lh_sql_node(p, LH_AST_INSERT, pos);
    if (n == NULL) {
        return LH_ENOMEM;
    }
    *out = n;
    lh_rc rc = LH_OK;
    if (lh_sql_accept_kw(p, LH_KW_OR)) {
        if (!lh_sql_accept_kw(p, LH_KW_REPLACE) &&
            !(lh_sql_peek(p, 0)->kind == LH_TOK_IDENT &&
              strcmp(lh_sql_peek(p, 0)->text, "ignore") == 0)) {
            return lh_sql_syntax_error(p, lh_sql_peek(p, 0), "REPLACE");
        }
        n->u.insert.or_replace = true;
        return lh_sql_error_at(p, LH_EUNSUPPORTED, pos,
                               "unsupported: INSERT OR REPLACE (tables are "
                               "append-only event logs)");
    }
    rc = lh_sql_expect_kw(p, LH_KW_INTO);
    if (rc == LH_OK) {
        rc = lh_sql_parse_name(p, &n->u.insert.table);
    }
    if (rc == LH_OK && lh_sql_accept_kw(p, LH_KW_AS)) {
        rc = lh_sql_parse_ident(p, &n->u.insert.alias);
    }
    if (rc == LH_OK && lh_sql_is_punct(lh_sql_peek(p, 0), '(') &&
        !(lh_sql_is_kw(lh_sql_peek(p, 1), LH_KW_SELECT) ||
          lh_sql_is_kw(lh_sql_peek(p, 1), LH_KW_WITH) ||
          lh_sql_is_kw(lh_sql_peek(p, 1), LH_KW_VALUES))) {
        lh_sql_next(p);
        lh_sql_vec v = {0};
        uint32_t cap = 8;
        int32_t *cpos = lh_arena_alloc(p->a, cap * sizeof(int32_t));
        if (cpos == NULL) {
            return lh_err_set(p->err, LH_ENOMEM, "out of memory");
        }
        do {
            if (v.n == cap) {
                int32_t *np = lh_arena_alloc(p->a, 2 * cap * sizeof(int32_t));
                if (np == NULL) {
                    return lh_err_set(p->err, LH_ENOMEM, "out of memory");
                }
                memcpy(np, cpos, v.n * sizeof(int32_t));
                cpos = np;
                cap *= 2;
            }
            cpos[v.n] = lh_sql_peek(p, 0)->pos;
            const char *c = NULL;
            rc = lh_sql_parse_ident(p, &c);
            if (rc == LH_OK) {
                rc = lh_sql_vec_push(p, &v, (void *)c);
            }
        } while (rc == LH_OK && lh_sql_accept_punct(p, ','));
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, ')');
        }
        n->u.insert.cols = (const char **)v.items;
        n->u.insert.ncols = v.n;
        n->u.insert.col_pos = cpos;
    }
    if (rc != LH_OK) {
        return rc;
    }
    if (lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_DEFAULT)) {
        lh_sql_next(p);
        rc = lh_sql_expect_kw(p, LH_KW_VALUES);
    } else {
        rc = lh_sql_parse_query(p, &n->u.insert.query);
    }
    if (rc == LH_OK && lh_sql_accept_kw(p, LH_KW_RETURNING)) {
        rc = lh_sql_parse_expr_list(p, &n->u.insert.returning);
    }
    return rc;
}

static lh_rc
parse_update(lh_parser *p, int32_t pos, lh_ast **out)
{
    lh_ast *n = lh_sql_node(p, LH_AST_UPDATE, pos);
    if (n == NULL) {
        return LH_ENOMEM;
    }
    *out = n;
    lh_rc rc = lh_sql_parse_name(p, &n->u.update.table);
    if (rc == LH_OK) {
        rc = lh_sql_expect_kw(p, LH_KW_SET);
    }
    lh_sql_vec cols = {0}, exprs = {0};
    while (rc == LH_OK) {
        const char *c = NULL;
        lh_ast *e;
        rc = lh_sql_parse_ident(p, &c);
        if (rc == LH_OK && !lh_sql_accept_op(p, "=")) {
            rc = lh_sql_syntax_error(p, lh_sql_peek(p, 0), "\"=\"");
        }
        if (rc == LH_OK) {
            rc = lh_sql_parse_expr(p, &e);
        }
        if (rc == LH_OK) {
            rc = lh_sql_vec_push(p, &cols, (void *)c);
        }
        if (rc == LH_OK) {
            rc = lh_sql_vec_push(p, &exprs, e);
        }
        if (rc != LH_OK || !lh_sql_accept_punct(p, ',')) {
            break;
        }
    }
    n->u.update.set_cols = (const char **)cols.items;
    n->u.update.set_exprs.items = (lh_ast **)exprs.items;
    n->u.update.set_exprs.n = exprs.n;
    if (rc == LH_OK && lh_sql_accept_kw(p, LH_KW_WHERE)) {
        rc = lh_sql_parse_expr(p, &n->u.update.where);
    }
    return rc;
}

static lh_rc
parse_delete(lh_parser *p, int32_t pos, lh_ast **out)
{
    lh_ast *n = lh_sql_node(p, LH_AST_DELETE, pos);
    if (n == NULL) {
        return LH_ENOMEM;
    }
    *out = n;
    lh_rc rc = lh_sql_expect_kw(p, LH_KW_FROM);
    if (rc == LH_OK) {
        rc = lh_sql_parse_name(p, &n->u.del.table);
    }
    if (rc == LH_OK && lh_sql_accept_kw(p, LH_KW_WHERE)) {
        rc = lh_sql_parse_expr(p, &n->u.del.where);
    }
    return rc;
}

static lh_rc
parse_copy(lh_parser *p, int32_t pos, lh_ast **out)
{
    lh_ast *n = lh_sql_node(p, LH_AST_COPY, pos);
    if (n == NULL) {
        return LH_ENOMEM;
    }
    *out = n;
    lh_rc rc;
    if (lh_sql_accept_punct(p, '(')) {
        rc = lh_sql_parse_query(p, &n->u.copy.query);
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, ')');
        }
    } else {
        rc = lh_sql_parse_name(p, &n->u.copy.table);
        if (rc == LH_OK && lh_sql_is_punct(lh_sql_peek(p, 0), '(')) {
            return lh_sql_error_at(p, LH_EUNSUPPORTED, lh_sql_peek(p, 0)->pos,
                                   "unsupported: a column list in COPY (use "
                                   "COPY (SELECT ...) TO)");
        }
    }
    if (rc != LH_OK) {
        return rc;
    }
    if (lh_sql_accept_kw(p, LH_KW_FROM)) {
        n->u.copy.from = true;
    } else {
        rc = lh_sql_expect_kw(p, LH_KW_TO);
        if (rc != LH_OK) {
            return rc;
        }
    }
    const lh_tok *t = lh_sql_peek(p, 0);
    if (t->kind != LH_TOK_STRING) {
        if (t->kind == LH_TOK_IDENT &&
            (strcmp(t->text, "stdout") == 0 || strcmp(t->text, "stdin") == 0)) {
            return lh_sql_error_at(p, LH_EUNSUPPORTED, t->pos,
                                   "unsupported: COPY ... %s (name a file)",
                                   t->text);
        }
        return lh_sql_syntax_error(p, t, "a file name in quotes");
    }
    lh_sql_next(p);
    n->u.copy.path = t->text;
    n->u.copy.path_pos = t->pos;
    if (lh_sql_accept_kw(p, LH_KW_WITH) ||
        lh_sql_is_punct(lh_sql_peek(p, 0), '(')) {
        if (lh_sql_is_punct(lh_sql_peek(p, 0), '(')) {
            rc = lh__sql_parse_options(p, &n->u.copy.options,
                                       &n->u.copy.noptions);
        }
    }
    return rc;
}

/* ---- SET, SHOW, PRAGMA ------------------------------------------------------
 */

static lh_rc
parse_set_name(lh_parser *p, const char **out)
{
    /* a.b.c names (lakehouse.integer_division) */
    lh_ast_name name;
    lh_rc rc = lh_sql_parse_name(p, &name);
    if (rc != LH_OK) {
        return rc;
    }
    lh_buf b = LH_BUF_INIT;
    for (uint32_t i = 0; i < name.n; i++) {
        if (i) {
            lh_buf_putc(&b, '.');
        }
        lh_buf_puts(&b, name.parts[i]);
    }
    *out = b.data ? lh__sql_strdup(p, b.data, b.len) : NULL;
    lh_buf_release(&b);
    return *out ? LH_OK : lh_err_set(p->err, LH_ENOMEM, "out of memory");
}

static lh_rc
parse_set(lh_parser *p, int32_t pos, bool reset, lh_ast **out)
{
    lh_ast *n = lh_sql_node(p, LH_AST_SET, pos);
    if (n == NULL) {
        return LH_ENOMEM;
    }
    *out = n;
    n->u.set.reset = reset;
    if (!reset) {
        if (lh_sql_accept_kw(p, LH_KW_LOCAL)) {
            n->u.set.local = true;
        } else {
            lh_sql_accept_kw(p, LH_KW_SESSION);
        }
    }
    const lh_tok *t = lh_sql_peek(p, 0);
    lh_rc rc;
    if (lh_sql_is_kw(t, LH_KW_TIME) &&
        lh_sql_is_kw(lh_sql_peek(p, 1), LH_KW_ZONE)) {
        p->i += 2;
        n->u.set.name = "timezone";
        rc = LH_OK;
    } else {
        rc = parse_set_name(p, &n->u.set.name);
    }
    if (rc != LH_OK || reset) {
        return rc;
    }
    if (!lh_sql_accept_op(p, "=") && !lh_sql_accept_kw(p, LH_KW_TO) &&
        !n->u.set.name[0]) {
        return lh_sql_syntax_error(p, lh_sql_peek(p, 0), "\"=\" or TO");
    }
    t = lh_sql_peek(p, 0);
    if (t->kind == LH_TOK_IDENT || t->kind == LH_TOK_QIDENT) {
        /* SET x = value_word: a word, not a column */
        lh_sql_next(p);
        lh_ast *lit = lh_sql_node(p, LH_AST_LITERAL, t->pos);
        if (lit == NULL) {
            return LH_ENOMEM;
        }
        if (lh_sql_is_kw(t, LH_KW_TRUE) || lh_sql_is_kw(t, LH_KW_FALSE)) {
            lit->u.lit.kind = LH_LIT_BOOL;
            lit->u.lit.b = t->kw == LH_KW_TRUE;
        } else {
            lit->u.lit.kind = LH_LIT_STRING;
            lit->u.lit.text = t->text;
        }
        n->u.set.value = lit;
        return LH_OK;
    }
    return lh_sql_parse_expr(p, &n->u.set.value);
}

/* ---- statements -------------------------------------------------------------
 */

lh_rc
lh__sql_parse_statement(lh_parser *p, lh_ast **out)
{
    *out = NULL;
    if (p->dialect && p->dialect->statement) {
        uint32_t save = p->i;
        lh_rc rc = p->dialect->statement(p, out);
        if (rc != LH_OK || *out) {
            return rc;
        }
        p->i = save;
    }
    const lh_tok *t = lh_sql_peek(p, 0);
    int32_t pos = t->pos;
    if (t->kind == LH_TOK_PUNCT && t->text[0] == '(') {
        return lh_sql_parse_query(p, out);
    }
    if (t->kind != LH_TOK_IDENT) {
        return lh_sql_syntax_error(p, t, NULL);
    }
    switch ((lh_kw)t->kw) {
    case LH_KW_SELECT:
    case LH_KW_WITH:
    case LH_KW_VALUES:
    case LH_KW_TABLE:
        return lh_sql_parse_query(p, out);
    case LH_KW_CREATE:
        lh_sql_next(p);
        return parse_create(p, pos, out);
    case LH_KW_DROP:
        lh_sql_next(p);
        return parse_drop(p, pos, out);
    case LH_KW_ALTER:
        lh_sql_next(p);
        return parse_alter(p, pos, out);
    case LH_KW_INSERT:
        lh_sql_next(p);
        return parse_insert(p, pos, out);
    case LH_KW_UPDATE:
        lh_sql_next(p);
        return parse_update(p, pos, out);
    case LH_KW_DELETE:
        lh_sql_next(p);
        return parse_delete(p, pos, out);
    case LH_KW_COPY:
        lh_sql_next(p);
        return parse_copy(p, pos, out);
    case LH_KW_EXPLAIN: {
        lh_sql_next(p);
        lh_ast *n = lh_sql_node(p, LH_AST_EXPLAIN, pos);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        *out = n;
        if (lh_sql_accept_kw(p, LH_KW_ANALYZE) ||
            lh_sql_accept_kw(p, LH_KW_ANALYSE)) {
            n->u.explain.analyze = true;
        }
        if (lh_sql_accept_kw(p, LH_KW_VERBOSE)) {
            n->u.explain.verbose = true;
        }
        const lh_tok *s = lh_sql_peek(p, 0);
        if (lh_sql_is_kw(s, LH_KW_EXPLAIN)) {
            return lh_sql_syntax_error(p, s, NULL);
        }
        return lh__sql_parse_statement(p, &n->u.explain.stmt);
    }
    case LH_KW_DESCRIBE: {
        /* DESCRIBE query: EXPLAIN-like; DESCRIBE t: SHOW columns */
        lh_sql_next(p);
        lh_ast *n = lh_sql_node(p, LH_AST_SHOW, pos);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        *out = n;
        const char *name;
        lh_rc rc = parse_set_name(p, &name);
        if (rc == LH_OK) {
            size_t l = strlen(name);
            char *s = lh_arena_alloc(p->a, l + 10);
            if (s == NULL) {
                return lh_err_set(p->err, LH_ENOMEM, "out of memory");
            }
            memcpy(s, "describe ", 9);
            memcpy(s + 9, name, l + 1);
            n->u.show.name = s;
        }
        return rc;
    }
    case LH_KW_SET:
        lh_sql_next(p);
        return parse_set(p, pos, false, out);
    case LH_KW_RESET:
        lh_sql_next(p);
        return parse_set(p, pos, true, out);
    case LH_KW_SHOW: {
        lh_sql_next(p);
        lh_ast *n = lh_sql_node(p, LH_AST_SHOW, pos);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        *out = n;
        const lh_tok *w = lh_sql_peek(p, 0);
        if (lh_sql_is_kw(w, LH_KW_ALL)) {
            lh_sql_next(p);
            n->u.show.name = "all";
            return LH_OK;
        }
        return parse_set_name(p, &n->u.show.name);
    }
    case LH_KW_BEGIN:
    case LH_KW_COMMIT:
    case LH_KW_ROLLBACK:
    case LH_KW_START:
    case LH_KW_ABORT: {
        lh_sql_next(p);
        lh_ast *n = lh_sql_node(p, LH_AST_TRANSACTION, pos);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        *out = n;
        n->u.txn.verb = t->kw == LH_KW_START   ? "begin"
                        : t->kw == LH_KW_ABORT ? "rollback"
                                               : t->text;
        if (!lh_sql_accept_kw(p, LH_KW_TRANSACTION)) {
            lh_sql_accept_kw(p, LH_KW_WORK);
        }
        return LH_OK;
    }
    case LH_KW_PRAGMA: {
        lh_sql_next(p);
        lh_ast *n = lh_sql_node(p, LH_AST_PRAGMA, pos);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        *out = n;
        lh_rc rc = lh_sql_parse_ident(p, &n->u.pragma.name);
        if (rc == LH_OK && (lh_sql_accept_op(p, "=") ||
                            lh_sql_is_punct(lh_sql_peek(p, 0), '('))) {
            bool paren = lh_sql_accept_punct(p, '(');
            rc = lh_sql_parse_expr(p, &n->u.pragma.value);
            if (rc == LH_OK && paren) {
                rc = lh_sql_expect_punct(p, ')');
            }
        }
        return rc;
    }
    default:
        break;
    }
    if (strcmp(t->text, "summarize") == 0 || strcmp(t->text, "attach") == 0 ||
        strcmp(t->text, "detach") == 0 || strcmp(t->text, "vacuum") == 0 ||
        strcmp(t->text, "analyze") == 0 || strcmp(t->text, "grant") == 0 ||
        strcmp(t->text, "install") == 0 || strcmp(t->text, "load") == 0 ||
        strcmp(t->text, "checkpoint") == 0 || strcmp(t->text, "reindex") == 0 ||
        strcmp(t->text, "replace") == 0) {
        return lh_sql_error_at(p, LH_EUNSUPPORTED, pos, "unsupported: %s",
                               t->text);
    }
    return lh_sql_syntax_error(p, t, NULL);
}

lh_rc
lh_sql_parse(const char *sql, size_t len, const lh_sql_dialect *d, lh_arena *a,
             lh_sql_stmt **out, uint32_t *n, lh_err *err)
{
    *out = NULL;
    *n = 0;
    if (d == NULL) {
        d = &lh_sql_dialect_postgres;
    }
    lh_parser p = {.sql = sql, .len = len, .a = a, .dialect = d, .err = err};
    lh_rc rc = lh_sql_lex(sql, len, d, a, &p.toks, &p.ntoks, err);
    if (rc != LH_OK) {
        return rc;
    }
    uint32_t cap = 4, cnt = 0;
    lh_sql_stmt *stmts = lh_arena_alloc(a, cap * sizeof(lh_sql_stmt));
    if (stmts == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (;;) {
        while (lh_sql_accept_punct(&p, ';')) {
        }
        const lh_tok *t = lh_sql_peek(&p, 0);
        if (t->kind == LH_TOK_EOF) {
            break;
        }
        p.nparams = 0;
        p.saw_numbered = false;
        memset(&p.names, 0, sizeof p.names);
        p.depth = 0;
        lh_ast *s;
        rc = lh__sql_parse_statement(&p, &s);
        if (rc != LH_OK) {
            return rc;
        }
        const lh_tok *end = lh_sql_peek(&p, 0);
        if (end->kind != LH_TOK_EOF && !lh_sql_is_punct(end, ';')) {
            return lh_sql_syntax_error(&p, end, NULL);
        }
        if (cnt == cap) {
            lh_sql_stmt *ns = lh_arena_alloc(a, 2 * cap * sizeof(lh_sql_stmt));
            if (ns == NULL) {
                return lh_err_set(err, LH_ENOMEM, "out of memory");
            }
            memcpy(ns, stmts, cnt * sizeof(lh_sql_stmt));
            stmts = ns;
            cap *= 2;
        }
        stmts[cnt].ast = s;
        stmts[cnt].start = t->pos;
        stmts[cnt].end = end->pos;
        stmts[cnt].nparams = p.names.n ? (int32_t)p.names.n : p.nparams;
        stmts[cnt].param_names = (const char *const *)p.names.items;
        stmts[cnt].nnamed = p.names.n;
        cnt++;
    }
    *out = stmts;
    *n = cnt;
    return LH_OK;
}
