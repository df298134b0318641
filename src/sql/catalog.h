/*
 * The catalog as the binder sees it: tables (with their columns and which
 * are hidden), views, table functions and the function registry, behind a
 * table of function pointers that the executor's session implements
 * (exec/catalog.c). The binder never opens a file or a shard itself.
 *
 * Lifetimes: what a callback returns lives in the arena it is given (the
 * statement's), except `source`, which the implementation keeps alive for
 * as long as the session that made the catalog.
 */
#ifndef LH_SQL_CATALOG_H
#define LH_SQL_CATALOG_H

#include "sql/ast.h"
#include "sql/func.h"

typedef struct lh_sql_column {
    const char *name;
    lh_type type;
    bool nullable;
    bool hidden; /* envelope columns: not in SELECT * nor positional INSERT */
    const char *default_sql; /* DEFAULT expression's text, or NULL */
} lh_sql_column;

typedef enum lh_sql_table_kind {
    LH_SQL_TABLE_MEMORY = 0, /* session-local rows (exec/memtable.c) */
    LH_SQL_TABLE_EVENT,      /* an event table of the data directory */
    LH_SQL_TABLE_FILES,      /* read_parquet(...) */
    LH_SQL_TABLE_VIEW,       /* a view: `view` holds its query */
    LH_SQL_TABLE_FUNCTION,   /* generate_series(...) and the like */
} lh_sql_table_kind;

typedef struct lh_sql_table {
    const char *name;
    uint8_t kind; /* lh_sql_table_kind */
    const lh_sql_column *cols;
    uint32_t ncols;
    int32_t ts_col; /* the column whose range prunes tiers (event ts), or -1 */
    const lh_ast *view; /* VIEW: the parsed query (lives in the catalog) */
    const char *const *view_cols; /* VIEW: column names given, or NULL */
    uint32_t nview_cols;
    void *source;    /* the executor's handle for a scan (opaque here) */
    double est_rows; /* for join order; 0 = unknown */
    /* Nearest-neighbour search the source offers (its lh_source_vt.knn):
     * over column knn_col, by metric knn_metric (lh_vec_metric: 0 l2, 1
     * ip, 2 cosine), knn_ef_search candidates by default. knn false: none
     * (then knn_why, when set, says why: EXPLAIN prints it). */
    bool knn;
    uint8_t knn_metric;
    uint32_t knn_col;
    uint32_t knn_ef_search;
    const char *knn_why;
} lh_sql_table;

typedef struct lh_sql_catalog {
    void *ud;
    /* The table, view or memory table called `name` (qualified names:
     * the last part is the table). LH_ENOENT when there is none (the
     * binder writes the message and the suggestion). */
    lh_rc (*table)(void *ud, const lh_ast_name *name, lh_arena *a,
                   const lh_sql_table **out, lh_err *err);
    /* A table function: name(args) with constant arguments (positional,
     * then named). LH_ENOENT for an unknown name; other codes with a
     * message (a glob that matches nothing, a bad file). */
    lh_rc (*table_fn)(void *ud, const char *name, const lh_value *args,
                      uint32_t nargs, const char *const *names,
                      const lh_value *named, uint32_t nnamed, lh_arena *a,
                      const lh_sql_table **out, lh_err *err);
    /* Every table and view name, for suggestions. */
    lh_rc (*table_names)(void *ud, lh_arena *a, const char ***out, uint32_t *n);
    const lh_fn_registry *functions;
} lh_sql_catalog;

#endif
