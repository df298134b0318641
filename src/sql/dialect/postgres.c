/*
 * The default dialect: PostgreSQL-flavoured SQL, the grammar of parser.c
 * itself, so it sets no hooks. "duckdb" is the same grammar (the parser
 * already takes //, $name, ? and the DuckDB clauses we support); its
 * different semantics (5 / 2 = 2.5, NULLs last both ways) are session
 * settings, not grammar.
 *
 * To add a dialect: a file here defining a const lh_sql_dialect with the
 * hooks it needs, and one line in the table below.
 */
#include <strings.h>

#include "sql/dialect/dialect.h"

const lh_sql_dialect lh_sql_dialect_postgres = {
    .name = "postgres",
};

static const lh_sql_dialect duckdb = {
    .name = "duckdb",
};

static const lh_sql_dialect *const dialects[] = {
    &lh_sql_dialect_postgres,
    &duckdb,
};

const lh_sql_dialect *
lh_sql_dialect_find(const char *name)
{
    if (name == NULL) {
        return &lh_sql_dialect_postgres;
    }
    if (strcasecmp(name, "postgresql") == 0 || strcasecmp(name, "pg") == 0) {
        return &lh_sql_dialect_postgres;
    }
    for (size_t i = 0; i < LH_ARRAY_LEN(dialects); i++) {
        if (strcasecmp(dialects[i]->name, name) == 0) {
            return dialects[i];
        }
    }
    return NULL;
}
