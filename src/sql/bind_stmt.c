/*
 * Binding the statements that are not queries: INSERT (a projection onto
 * the table's columns, with the casts), CREATE TABLE [AS], CREATE VIEW
 * (its query is bound once to check it), DROP, ALTER, CREATE INDEX, COPY,
 * EXPLAIN, SET / RESET / SHOW, and the ones we accept and ignore (BEGIN,
 * COMMIT, PRAGMA). The DDL nodes carry their AST: the executor's catalog
 * applies them.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sql/bind_int.h"
#include "sql/sql.h"

static lh_plan *
leaf(binder *b, lh_plan_kind kind, const lh_ast *ast)
{
    lh_plan *p = lh__plan_new(b, kind, 0, 0);
    if (p) {
        p->pos = ast->pos;
        p->u.ddl.ast = ast;
    }
    return p;
}

/* A column's DEFAULT (its text, kept by the catalog) as an expression of
 * the column's type: parsed as "SELECT <text>", bound without columns. */
static lh_rc
bind_default(binder *b, const char *text, lh_type t, lh_bexpr **out)
{
    size_t n = strlen(text);
    char *sql = lh__bind_alloc(b, n + 8);
    if (sql == NULL) {
        return LH_ENOMEM;
    }
    memcpy(sql, "SELECT ", 7);
    memcpy(sql + 7, text, n + 1);
    lh_sql_stmt *stmts;
    uint32_t ns;
    lh_rc rc = lh_sql_parse(sql, n + 7, NULL, b->a, &stmts, &ns, b->err);
    if (rc != LH_OK) {
        return rc;
    }
    if (ns != 1 || stmts[0].ast->kind != LH_AST_SELECT ||
        stmts[0].ast->u.select.targets.n != 1) {
        return lh__bind_error(b, LH_EINVAL, -1, "bad DEFAULT expression %s",
                              text);
    }
    bind_scope none = {0};
    lh_bexpr *e;
    rc =
        lh__bind_expr(b, &none, stmts[0].ast->u.select.targets.items[0], 0, &e);
    if (rc != LH_OK) {
        return rc;
    }
    return lh__bind_cast(b, e, t, true, out);
}

static lh_rc
bind_insert(binder *b, const lh_ast *ast, lh_plan **out)
{
    const lh_ast_name *nm = &ast->u.insert.table;
    const lh_sql_table *t = NULL;
    lh_rc rc = b->cat->table ? b->cat->table(b->cat->ud, nm, b->a, &t, b->err)
                             : LH_ENOENT;
    const char *name = nm->parts[nm->n - 1];
    if (rc == LH_ENOENT) {
        lh__bind_error(b, LH_ENOENT, ast->pos, "relation \"%s\" does not exist",
                       name);
        const char **names;
        uint32_t n;
        if (b->cat->table_names &&
            b->cat->table_names(b->cat->ud, b->a, &names, &n) == LH_OK) {
            lh__suggest_append(b, name, names, n);
        }
        return LH_ENOENT;
    }
    if (rc != LH_OK) {
        return rc;
    }
    if (t->kind != LH_SQL_TABLE_MEMORY && t->kind != LH_SQL_TABLE_EVENT) {
        return lh__bind_error(b, LH_EINVAL, ast->pos,
                              "cannot insert into \"%s\": it is not a table",
                              name);
    }
    if (ast->u.insert.returning.n) {
        return lh__bind_error(b, LH_EUNSUPPORTED, ast->pos,
                              "unsupported: INSERT ... RETURNING");
    }
    /* the target columns: the list given, or the visible ones in order */
    uint32_t ntarget = 0;
    uint32_t *target = lh__bind_alloc(b, (t->ncols + 1) * sizeof(uint32_t));
    if (target == NULL) {
        return LH_ENOMEM;
    }
    if (ast->u.insert.ncols) {
        for (uint32_t i = 0; i < ast->u.insert.ncols; i++) {
            const char *c = ast->u.insert.cols[i];
            int32_t cpos = ast->u.insert.col_pos[i];
            int found = -1;
            for (uint32_t k = 0; k < t->ncols; k++) {
                if (strcasecmp(t->cols[k].name, c) == 0) {
                    found = (int)k;
                }
            }
            if (found < 0) {
                lh__bind_error(b, LH_EINVAL, cpos,
                               "column \"%s\" of relation \"%s\" does not "
                               "exist",
                               c, name);
                const char **names =
                    lh__bind_alloc(b, (t->ncols + 1) * sizeof(char *));
                if (names) {
                    for (uint32_t k = 0; k < t->ncols; k++) {
                        names[k] = t->cols[k].name;
                    }
                    lh__suggest_append(b, c, names, t->ncols);
                }
                return LH_EINVAL;
            }
            for (uint32_t k = 0; k < ntarget; k++) {
                if (target[k] == (uint32_t)found) {
                    return lh__bind_error(b, LH_EINVAL, cpos,
                                          "column \"%s\" specified more than "
                                          "once",
                                          c);
                }
            }
            target[ntarget++] = (uint32_t)found;
        }
    } else {
        for (uint32_t k = 0; k < t->ncols; k++) {
            if (!t->cols[k].hidden) {
                target[ntarget++] = k;
            }
        }
    }
    lh_plan *q = NULL;
    if (ast->u.insert.query) {
        rc = lh__bind_query(b, NULL, ast->u.insert.query, &q);
        if (rc != LH_OK) {
            return rc;
        }
        if (q->ncols > ntarget) {
            return lh__bind_error(b, LH_EINVAL, ast->u.insert.query->pos,
                                  "INSERT has more expressions than target "
                                  "columns");
        }
        if (q->ncols < ntarget && ast->u.insert.ncols) {
            return lh__bind_error(b, LH_EINVAL, ast->u.insert.query->pos,
                                  "INSERT has more target columns than "
                                  "expressions");
        }
        /* positional INSERT with fewer values fills the first columns */
        ntarget = q->ncols;
    } else {
        /* DEFAULT VALUES: one row of nothing */
        q = lh__plan_new(b, LH_PLAN_VALUES, 0, 0);
        if (q == NULL) {
            return LH_ENOMEM;
        }
        q->u.values.nrows = 1;
        q->u.values.rows = lh__bind_alloc(b, sizeof(lh_bexpr **));
        if (q->u.values.rows == NULL) {
            return LH_ENOMEM;
        }
        ntarget = 0;
    }
    /* a projection onto every table column, in table order */
    lh_plan *pr = lh__plan_new(b, LH_PLAN_PROJECT, 1, t->ncols);
    lh_plan *ins = lh__plan_new(b, LH_PLAN_INSERT, 1, 1);
    if (pr == NULL || ins == NULL) {
        return LH_ENOMEM;
    }
    pr->children[0] = q;
    pr->est_rows = q->est_rows;
    pr->u.project.exprs =
        lh__bind_alloc(b, (t->ncols + 1) * sizeof(lh_bexpr *));
    ins->u.insert.map = lh__bind_alloc(b, (t->ncols + 1) * sizeof(uint32_t));
    if (pr->u.project.exprs == NULL || ins->u.insert.map == NULL) {
        return LH_ENOMEM;
    }
    for (uint32_t k = 0; k < t->ncols; k++) {
        int src = -1;
        for (uint32_t i = 0; i < ntarget; i++) {
            if (target[i] == k) {
                src = (int)i;
            }
        }
        lh_type ct = t->cols[k].type;
        lh_bexpr *e;
        if (src >= 0) {
            e = lh__bx_col(b, q->cols[src], q->types[src]);
            /* assignment: any cast that exists, as CAST would */
            rc = lh__bind_cast(b, e, ct, true, &e);
            if (rc != LH_OK) {
                return rc;
            }
            ins->u.insert.map[k] = (uint32_t)src;
        } else if (t->cols[k].default_sql) {
            rc = bind_default(b, t->cols[k].default_sql, ct, &e);
            if (rc != LH_OK) {
                return rc;
            }
            ins->u.insert.map[k] = UINT32_MAX;
        } else {
            e = lh__bx_null(b, ct);
            if (e == NULL) {
                return LH_ENOMEM;
            }
            ins->u.insert.map[k] = UINT32_MAX;
        }
        pr->u.project.exprs[k] = e;
        pr->types[k] = ct;
        pr->names[k] = t->cols[k].name;
        pr->cols[k] = lh__bind_new_id(b, ct, t->cols[k].name);
    }
    ins->children[0] = pr;
    ins->pos = ast->pos;
    ins->u.insert.table = t;
    ins->types[0] = lh_sql_type(LH_T_BIGINT);
    ins->names[0] = "count";
    ins->cols[0] = lh__bind_new_id(b, ins->types[0], "count");
    *out = ins;
    return LH_OK;
}

static lh_rc
bind_copy(binder *b, const lh_ast *ast, lh_plan **out)
{
    if (ast->u.copy.from) {
        return lh__bind_error(b, LH_EUNSUPPORTED, ast->pos,
                              "unsupported: COPY ... FROM (use INSERT or "
                              "read_parquet)");
    }
    lh_plan *q;
    lh_rc rc;
    if (ast->u.copy.query) {
        rc = lh__bind_query(b, NULL, ast->u.copy.query, &q);
    } else {
        /* COPY t TO: SELECT * FROM t */
        lh_ast star = {.kind = LH_AST_STAR, .pos = ast->pos};
        lh_ast tab = {.kind = LH_AST_TABLE, .pos = ast->pos};
        tab.u.table.name = ast->u.copy.table;
        lh_ast *items[1] = {&star};
        const char *aliases[1] = {NULL};
        lh_ast sel = {.kind = LH_AST_SELECT, .pos = ast->pos};
        sel.u.select.targets.items = items;
        sel.u.select.targets.n = 1;
        sel.u.select.target_alias = aliases;
        sel.u.select.from = &tab;
        rc = lh__bind_query(b, NULL, &sel, &q);
    }
    if (rc != LH_OK) {
        return rc;
    }
    const char *format = NULL;
    for (uint32_t i = 0; i < ast->u.copy.noptions; i++) {
        const lh_ast_option *o = &ast->u.copy.options[i];
        if (strcasecmp(o->key, "format") == 0 && o->value &&
            o->value->kind == LH_AST_LITERAL &&
            o->value->u.lit.kind == LH_LIT_STRING) {
            format = o->value->u.lit.text;
        }
    }
    if (format == NULL) {
        const char *dot = strrchr(ast->u.copy.path, '.');
        format = dot ? dot + 1 : "csv";
    }
    if (strcasecmp(format, "parquet") == 0) {
        format = "parquet";
    } else if (strcasecmp(format, "csv") == 0) {
        format = "csv";
    } else if (strcasecmp(format, "json") == 0 ||
               strcasecmp(format, "ndjson") == 0) {
        format = strcasecmp(format, "json") == 0 ? "json" : "ndjson";
    } else {
        return lh__bind_error(b, LH_EINVAL, ast->u.copy.path_pos,
                              "COPY format \"%s\" is not known (parquet, "
                              "csv, json, ndjson)",
                              format);
    }
    lh_plan *p = lh__plan_new(b, LH_PLAN_COPY, 1, 1);
    if (p == NULL) {
        return LH_ENOMEM;
    }
    p->pos = ast->pos;
    p->children[0] = q;
    p->u.copy.path = ast->u.copy.path;
    p->u.copy.path_pos = ast->u.copy.path_pos;
    p->u.copy.format = format;
    p->u.copy.options = ast->u.copy.options;
    p->u.copy.noptions = ast->u.copy.noptions;
    p->types[0] = lh_sql_type(LH_T_BIGINT);
    p->names[0] = "count";
    p->cols[0] = lh__bind_new_id(b, p->types[0], "count");
    *out = p;
    return LH_OK;
}

static lh_rc
bind_set(binder *b, const lh_ast *ast, lh_plan **out)
{
    lh_plan *p = leaf(b, LH_PLAN_SET, ast);
    if (p == NULL) {
        return LH_ENOMEM;
    }
    p->u.set.name = ast->u.set.name;
    p->u.set.reset = ast->u.set.reset;
    if (ast->u.set.value) {
        bind_scope empty = {0};
        lh_bexpr *v;
        lh_rc rc = lh__bind_expr(b, &empty, ast->u.set.value, 0, &v);
        if (rc != LH_OK) {
            return rc;
        }
        if (v->kind != LH_BX_CONST) {
            return lh__bind_error(b, LH_EINVAL, ast->u.set.value->pos,
                                  "SET takes a constant");
        }
        p->u.set.value = v->u.c;
    }
    *out = p;
    return LH_OK;
}

lh_rc
lh__bind_statement(binder *b, const lh_ast *ast, lh_plan **out)
{
    lh_rc rc;
    switch ((lh_ast_kind)ast->kind) {
    case LH_AST_SELECT:
    case LH_AST_SETOP:
    case LH_AST_VALUES:
        return lh__bind_query(b, NULL, ast, out);
    case LH_AST_INSERT:
        return bind_insert(b, ast, out);
    case LH_AST_COPY:
        return bind_copy(b, ast, out);
    case LH_AST_CREATE_TABLE: {
        lh_plan *p = leaf(b, LH_PLAN_CREATE_TABLE, ast);
        if (p == NULL) {
            return LH_ENOMEM;
        }
        if (ast->u.create_table.as_query) {
            lh_plan *q;
            rc = lh__bind_query(b, NULL, ast->u.create_table.as_query, &q);
            if (rc != LH_OK) {
                return rc;
            }
            p->children = lh__bind_alloc(b, sizeof(lh_plan *));
            if (p->children == NULL) {
                return LH_ENOMEM;
            }
            p->children[0] = q;
            p->nchildren = 1;
        }
        *out = p;
        return LH_OK;
    }
    case LH_AST_CREATE_VIEW: {
        /* bound once here so that a broken view is refused at CREATE */
        lh_plan *q;
        rc = lh__bind_query(b, NULL, ast->u.create_view.query, &q);
        if (rc != LH_OK) {
            return rc;
        }
        if (ast->u.create_view.ncols > q->ncols) {
            return lh__bind_error(b, LH_EINVAL, ast->pos,
                                  "CREATE VIEW specifies more column names "
                                  "than columns");
        }
        *out = leaf(b, LH_PLAN_CREATE_VIEW, ast);
        return *out ? LH_OK : LH_ENOMEM;
    }
    case LH_AST_DROP:
        *out = leaf(b, LH_PLAN_DROP, ast);
        return *out ? LH_OK : LH_ENOMEM;
    case LH_AST_ALTER_TABLE:
        *out = leaf(b, LH_PLAN_ALTER, ast);
        return *out ? LH_OK : LH_ENOMEM;
    case LH_AST_CREATE_INDEX:
        *out = leaf(b, LH_PLAN_INDEX, ast);
        return *out ? LH_OK : LH_ENOMEM;
    case LH_AST_EXPLAIN: {
        lh_plan *inner;
        rc = lh__bind_statement(b, ast->u.explain.stmt, &inner);
        if (rc != LH_OK) {
            return rc;
        }
        lh_plan *p = lh__plan_new(b, LH_PLAN_EXPLAIN, 1, 1);
        if (p == NULL) {
            return LH_ENOMEM;
        }
        p->pos = ast->pos;
        p->children[0] = inner;
        p->u.explain.analyze = ast->u.explain.analyze;
        p->u.explain.verbose = ast->u.explain.verbose;
        p->types[0] = lh_sql_type(LH_T_VARCHAR);
        p->names[0] = "QUERY PLAN";
        p->cols[0] = lh__bind_new_id(b, p->types[0], "QUERY PLAN");
        *out = p;
        return LH_OK;
    }
    case LH_AST_SET:
        return bind_set(b, ast, out);
    case LH_AST_PRAGMA: {
        if (ast->u.pragma.value) {
            /* PRAGMA x = v is SET x = v (DuckDB) */
            lh_ast set = {.kind = LH_AST_SET, .pos = ast->pos};
            set.u.set.name = ast->u.pragma.name;
            set.u.set.value = ast->u.pragma.value;
            lh_ast *copy = lh__bind_alloc(b, sizeof(lh_ast));
            if (copy == NULL) {
                return LH_ENOMEM;
            }
            *copy = set;
            return bind_set(b, copy, out);
        }
        *out = leaf(b, LH_PLAN_NOOP, ast);
        return *out ? LH_OK : LH_ENOMEM;
    }
    case LH_AST_SHOW:
        *out = leaf(b, LH_PLAN_SHOW, ast);
        return *out ? LH_OK : LH_ENOMEM;
    case LH_AST_TRANSACTION:
        *out = leaf(b, LH_PLAN_NOOP, ast);
        return *out ? LH_OK : LH_ENOMEM;
    case LH_AST_UPDATE:
    case LH_AST_DELETE:
        return lh__bind_error(b, LH_EUNSUPPORTED, ast->pos,
                              "unsupported: %s (tables are append-only event "
                              "logs)",
                              ast->kind == LH_AST_UPDATE ? "UPDATE" : "DELETE");
    default:
        return lh__bind_error(b, LH_EINVAL, ast->pos, "%s is not a statement",
                              lh_sql_ast_kind_name((lh_ast_kind)ast->kind));
    }
}
