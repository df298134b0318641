/*
 * sql: the front half of the engine, from text to an optimized logical
 * plan. docs/internals/sql.md is the design essay; the layers are
 *   lexer.c, parse_*.c  text -> AST (ast.h), dialect hooks (dialect/)
 *   bind_*.c            AST -> logical plan (plan.h) with bound, typed
 *                       expressions; names through the catalog
 *                       (catalog.h), functions through the registry
 *                       (func.h)
 *   optimize.c          constant folding, predicate and projection
 *                       pushdown, time-range extraction, join order
 *   explain.c           plans as text
 * The executor (src/exec/) turns the optimized plan into operators; it
 * never changes a plan.
 *
 * Thread rules: nothing here keeps state between calls; a parse, bind or
 * optimize runs on one thread with its arena.
 */
#ifndef LH_SQL_H
#define LH_SQL_H

#include "sql/ast.h"
#include "sql/dialect/dialect.h"

/* One statement of a text, with its span [start, end) in bytes. */
typedef struct lh_sql_stmt {
    lh_ast *ast;
    int32_t start, end;
    int32_t nparams; /* its parameters: the highest $n or ? number, or the
                        count of names */
    /* :name / $name parameters: numbered 1.. by first appearance (a
     * statement uses either names or positions) */
    const char *const *param_names;
    uint32_t nnamed;
} lh_sql_stmt;

/* Parses every statement of sql[0..len) (separated by ';'; empty ones are
 * skipped) with dialect d (NULL = the default). The AST lives in `a`.
 * LH_EINVAL (syntax), LH_EUNSUPPORTED, LH_ELIMIT (nesting), LH_ENOMEM;
 * err->offset is the byte offset of the token at fault. Nothing is
 * returned for a text with an error anywhere (statements run only after
 * the whole text parsed). */
lh_rc lh_sql_parse(const char *sql, size_t len, const lh_sql_dialect *d,
                   lh_arena *a, lh_sql_stmt **out, uint32_t *n, lh_err *err);

#endif
