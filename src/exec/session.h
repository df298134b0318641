/*
 * The SQL session behind the public API (query.c): settings, the function
 * registry, the session's memory tables and views, and its catalog
 * (catalog.c), which the binder reads through lh_sql_catalog.
 *
 * Tables by kind: memory tables (every table of a session without a data
 * directory, and TEMP tables), views (kept as their SQL text, parsed when
 * used), and the database's event tables (the hot tier: step 3), looked up
 * in that order.
 */
#ifndef LH_EXEC_SESSION_H
#define LH_EXEC_SESSION_H

#include "exec/exec_int.h"
#include "exec/memtable.h"
#include "exec/sources.h"
#include "sql/sql.h"

typedef struct lh_view {
    char *name;
    char *text; /* the query */
    char **cols;
    uint32_t ncols;
    lh_arena arena; /* the parsed query */
    lh_ast *query;
} lh_view;

/* Something a statement made that must go when it is done (read_parquet's
 * open files). */
typedef struct lh_resource {
    struct lh_resource *next;
    void (*free)(void *p);
    void *p;
} lh_resource;

struct lh_session {
    lh_db *db;
    const lh_sql_dialect *dialect;
    lh_sql_settings set;
    lh_fn_registry *reg;
    atomic_bool cancel;
    lh_map tables;  /* lowercase name -> lh_memtable* */
    lh_map views;   /* lowercase name -> lh_view* */
    lh_map indexes; /* lowercase index name -> table name (memory tables:
                       bookkeeping only) */
    lh_resource *res;
    lh_sql_catalog cat;
    lh_file_scope files; /* lh_session_confine */
};

/* catalog.c */
void lh__catalog_init(lh_session *s);
void lh__catalog_release(lh_session *s);
/* Frees the resources of the statement that just ran. */
void lh__catalog_end_statement(lh_session *s);
lh_memtable *lh__session_table(lh_session *s, const char *name);
lh_rc lh__session_add_table(lh_session *s, lh_memtable *t, lh_err *err);
lh_rc lh__session_drop_table(lh_session *s, const char *name, lh_err *err);
lh_view *lh__session_view(lh_session *s, const char *name);
lh_rc lh__session_add_view(lh_session *s, const char *name, const char *text,
                           size_t len, const char *const *cols, uint32_t ncols,
                           lh_err *err);
lh_rc lh__session_drop_view(lh_session *s, const char *name, lh_err *err);

#endif
