/*
 * SQL dialects: how the Snowflake, Databricks, Teradata, Hive, Firebolt and
 * HANA flavours of SQL become lakehouse's AST. A dialect is a table of
 * hooks (this struct) plus one file per dialect in this folder; the
 * default, PostgreSQL-flavoured dialect (postgres.c) sets no hooks, so
 * every hook is optional.
 *
 * How the parser uses a dialect:
 *   - lexing: backtick_identifiers (`col`), colon_paths (v:a.b is a path,
 *     not a :name parameter);
 *   - statement: tried first for every statement; it may consume tokens
 *     and return a node, or return LH_OK with *out NULL (having consumed
 *     nothing) to let the default grammar parse it;
 *   - primary: tried for each primary expression the same way (e.g.
 *     Teradata's ZEROIFNULL(x), Snowflake's IFF);
 *   - postfix: after each primary, may wrap it (e.g. Snowflake's v:path);
 *   - function_name: renames a function at parse time (NVL -> coalesce,
 *     LEN -> length), returning NULL to keep the name;
 *   - type_name: maps a type name as written (NUMBER(10,2) ->
 *     DECIMAL(10,2), STRING -> VARCHAR), NULL to keep it.
 * Dialect hooks run on the parser's thread with the parser's arena
 * (everything they allocate lives as long as the AST).
 *
 * Semantics that differ between dialects but not their grammar (integer
 * division, division by zero, the default NULL order) are session settings
 * (sql.h, lh_sql_settings), which a dialect may preset.
 */
#ifndef LH_SQL_DIALECT_H
#define LH_SQL_DIALECT_H

#include "sql/parser.h"

struct lh_sql_dialect {
    const char *name;
    bool backtick_identifiers;
    bool colon_paths;
    lh_rc (*statement)(lh_parser *p, lh_ast **out);
    lh_rc (*primary)(lh_parser *p, lh_ast **out);
    lh_rc (*postfix)(lh_parser *p, lh_ast *left, lh_ast **out);
    const char *(*function_name)(const char *name);
    const char *(*type_name)(const char *type_text);
};

/* The default dialect (postgres.c). */
extern const lh_sql_dialect lh_sql_dialect_postgres;

/* A dialect by name ("postgres", "duckdb"), case-insensitive; NULL when
 * unknown. */
const lh_sql_dialect *lh_sql_dialect_find(const char *name);

#endif
