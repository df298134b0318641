/*
 * bind_int.h: what the binder's files share.
 *
 *   bind.c         the entry point, ids, scopes and name resolution
 *                  (with "did you mean"), FROM items, CTEs and views
 *   bind_expr.c    expressions: literals, operators and functions with
 *                  overload resolution and implicit casts, CASE, IN,
 *                  subqueries, aggregates and window calls
 *   bind_select.c  SELECT (grouping, HAVING, windows, QUALIFY, DISTINCT,
 *                  ORDER BY, LIMIT), set operations, VALUES
 *   bind_stmt.c    the other statements: INSERT, CREATE, DROP, COPY, ...
 *
 * A scope is one level of a query: the columns its FROM clause made
 * visible (with the alias that qualifies them) and, for a subquery, its
 * parent, where names not found here are looked up (correlation: the ids
 * found there are recorded in `outer`, on this scope and every scope in
 * between).
 */
#ifndef LH_SQL_BIND_INT_H
#define LH_SQL_BIND_INT_H

#include "sql/plan.h"
#include "sql/types.h"

typedef struct bind_col {
    const char *qual; /* the FROM item's alias or table name */
    const char *name;
    uint32_t id;
    lh_type type;
    bool hidden;     /* envelope column: not in *, but may be named */
    bool using_dup;  /* the other side of a USING/NATURAL column: only
                        reachable qualified */
    bool using_head; /* a merged USING column: first in SELECT * */
} bind_col;

typedef struct bind_cte {
    const char *name;
    const lh_ast_cte *def;
    struct bind_scope *home; /* the scope the WITH belongs to */
    bool recursive;
    /* while the recursive part binds: the RECURSIVE node whose working
     * table a reference reads; used says a reference was bound */
    lh_plan *work;
    bool used;
    bool binding; /* its non-recursive term is being bound */
} bind_cte;

typedef struct bind_scope {
    struct bind_scope *parent;
    bind_col *cols;
    uint32_t n, cap;
    uint32_t *outer; /* correlated ids used from parent scopes */
    uint32_t nouter, outer_cap;
    bind_cte *ctes;
    uint32_t nctes;
    bool lateral_ok;
} bind_scope;

/* What an expression may contain where it is bound. */
enum {
    BX_ALLOW_AGG = 1 << 0,
    BX_ALLOW_WINDOW = 1 << 1,
    BX_IN_AGG = 1 << 2, /* inside an aggregate's arguments */
};

typedef struct binder {
    const lh_sql_catalog *cat;
    const lh_sql_settings *set;
    lh_arena *a;
    lh_err *err;
    const char *sql;
    size_t sql_len;
    const lh_value *params;
    int32_t nparams; /* given values (0 when binding without them) */
    int32_t max_param;
    uint32_t next_id;
    int depth;
    /* the WINDOW clause of the SELECT being bound (OVER w) */
    lh_ast_window *const *windows;
    uint32_t nwindows;
    /* QUALIFY may name the select list's aliases (DuckDB, Snowflake): a
     * name the FROM scope `alias_scope` does not have binds as the
     * target's expression (NULL outside QUALIFY) */
    const char *const *alias_names;
    const lh_ast *const *alias_asts;
    uint32_t nalias;
    const bind_scope *alias_scope;
    /* per id: its type and name (for EXPLAIN and messages) */
    lh_type *id_types;
    const char **id_names;
    uint32_t id_cap;
} binder;

/* bind.c */
lh_rc lh__bind_error(binder *b, lh_rc code, int32_t pos, const char *fmt, ...)
    LH_PRINTF(4, 5);
lh_rc lh__bind_nomem(binder *b);
void *lh__bind_alloc(binder *b, size_t n);
uint32_t lh__bind_new_id(binder *b, lh_type t, const char *name);
lh_rc lh__scope_add(binder *b, bind_scope *s, const char *qual,
                    const char *name, uint32_t id, lh_type t, bool hidden);
/* A column reference: *out is a COL; correlation recorded. */
lh_rc lh__bind_colref(binder *b, bind_scope *s, const lh_ast *ref,
                      lh_bexpr **out);
lh_rc lh__bind_from(binder *b, bind_scope *s, const lh_ast *from,
                    lh_plan **out);
/* A plan with the given output (ids, types, names: copied). */
lh_plan *lh__plan_new(binder *b, lh_plan_kind kind, uint32_t nchildren,
                      uint32_t ncols);
/* The best match for `name` among `cands` by edit distance, or NULL. */
const char *lh__suggest(const char *name, const char *const *cands, uint32_t n);
/* Appends " (did you mean "x"?)" when there is a suggestion. */
void lh__suggest_append(binder *b, const char *name, const char *const *cands,
                        uint32_t n);

/* bind_expr.c */
lh_rc lh__bind_expr(binder *b, bind_scope *s, const lh_ast *e, unsigned flags,
                    lh_bexpr **out);
/* As lh__bind_expr, then coerced to BOOLEAN (WHERE, HAVING, ON): `what`
 * names the clause in the message. */
lh_rc lh__bind_bool(binder *b, bind_scope *s, const lh_ast *e, unsigned flags,
                    const char *what, lh_bexpr **out);
/* e cast to t (no-op when it has it); untyped literals take the type. */
lh_rc lh__bind_cast(binder *b, lh_bexpr *e, lh_type t, bool explicit_cast,
                    lh_bexpr **out);
/* A scalar call by name with overload resolution (operators included). */
lh_rc lh__bind_call(binder *b, const char *name, int32_t pos, lh_bexpr **args,
                    uint32_t nargs, lh_bexpr **out);
/* An aggregate call name(args) (no DISTINCT, FILTER or ORDER BY), for
 * aggregates the binder adds itself (SQLite's bare columns). */
lh_rc lh__bind_agg_call(binder *b, const char *name, int32_t pos,
                        lh_bexpr **args, uint32_t nargs, lh_bexpr **out);
lh_bexpr *lh__bx_col(binder *b, uint32_t id, lh_type t);
lh_bexpr *lh__bx_const(binder *b, const lh_value *v, int32_t pos);
lh_bexpr *lh__bx_bool(binder *b, bool v);
lh_bexpr *lh__bx_null(binder *b, lh_type t);
lh_bexpr *lh__bx_list(binder *b, lh_bx_kind kind, lh_bexpr **args, uint32_t n,
                      lh_type t);
/* A query in an expression (subquery, EXISTS, IN): bound as a child scope
 * of s. */
lh_rc lh__bind_subquery(binder *b, bind_scope *s, const lh_ast *q,
                        lh_plan **out, bind_scope *child);
/* Walks e (pre-order) calling fn on each node; fn returns false to stop
 * descending below that node. */
void lh__bx_walk(lh_bexpr *e, bool (*fn)(lh_bexpr *e, void *ud), void *ud);
/* Whether e contains an aggregate / window call (not inside subqueries). */
bool lh__bx_has(const lh_bexpr *e, lh_bx_kind kind);

/* bind_select.c */
lh_rc lh__bind_query(binder *b, bind_scope *parent, const lh_ast *q,
                     lh_plan **out);
/* WITH RECURSIVE c AS (anchor UNION [ALL] step): a RECURSIVE node, or a
 * plain union when the step never reads c. cs is the scope the CTE's
 * query binds in (it sees c). */
lh_rc lh__bind_recursive(binder *b, bind_scope *cs, bind_cte *c, lh_plan **out);

/* bind_stmt.c */
lh_rc lh__bind_statement(binder *b, const lh_ast *stmt, lh_plan **out);

#endif
