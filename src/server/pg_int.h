/*
 * The PostgreSQL protocol's private header: a session's state (pg.c:
 * startup, authentication, the message loop; pg_query.c: the simple and
 * extended query protocols, prepared statements and portals; pg_types.c:
 * values as PostgreSQL text and binary).
 *
 * Every function here runs on the session's loop thread, except the
 * query's run step (pool) and lh__pg_exec_cancel (any thread, under the
 * server's pg_mu).
 */
#ifndef LH_PG_INT_H
#define LH_PG_INT_H

#include "column/column.h"
#include "server/server_int.h"

/* What ParameterStatus says server_version is: clients parse the number
 * (psql picks its catalog queries by it), so it is PostgreSQL's. */
#define LH_PG_SERVER_VERSION "15.0 (lakehouse)"

typedef enum pg_phase {
    PG_STARTUP = 0,
    PG_PASSWORD,
    PG_SASL_INIT,
    PG_SASL_FINAL,
    PG_READY,
    PG_BUSY, /* a query runs on the pool */
    PG_CLOSING,
} pg_phase;

/* The engine's statement, shared by a prepared statement and the portals
 * bound from it (Close of the statement leaves them alone). Loop thread. */
typedef struct pg_prep {
    lh_stmt *st; /* NULL for an empty statement */
    int refs;
    uint8_t fast; /* its last runs in a row that were fast (pg_exec.c) */
} pg_prep;

/* The history of simple queries of one shape (pg_exec.c). */
typedef struct pg_shape {
    uint64_t hash; /* of the text without its literals */
    uint8_t fast;  /* its last runs in a row that were fast */
} pg_shape;
#define PG_SHAPES 16

/* A prepared statement (Parse). */
typedef struct pg_stmt {
    struct pg_stmt *next;
    char *name; /* "" = the unnamed statement */
    char *sql;
    int nparams;
    uint32_t *types; /* nparams OIDs; 0 = unspecified */
    pg_prep *prep;
    int canned; /* lh__pg_canned's answer, or -1 */
} pg_stmt;

/* A result's rows, rendered ahead as DataRow messages (pg_exec.c). */
typedef struct pg_rows {
    lh_result *r; /* NULL: no rows (yet) */
    size_t ncols;
    int16_t *fmt; /* per column: 0 text, 1 binary */
    size_t n, at; /* the engine's current batch: rows, next to render */
    bool eof;     /* the engine has no more */
    lh_buf ready; /* rendered DataRows */
    size_t *ends; /* where each rendered row ends in ready */
    size_t nready, taken, cap;
    int64_t total; /* rows sent */
    lh_arena arena;
} pg_rows;

/* A portal (Bind): a statement with its parameters. */
typedef struct pg_portal {
    struct pg_portal *next;
    char *name;
    pg_stmt *stmt; /* a copy: Close of the statement leaves it alone */
    int nparams;
    char **params; /* NULL for SQL NULL */
    int32_t *plen;
    int16_t *pfmt; /* 0 text, 1 binary */
    int nresfmt;
    int16_t *resfmt; /* 0 = all text, 1 = all that one, else per column */
    bool executed;
    bool counted; /* in lakehouse_pg_queries_total */
    pg_rows rows;
    char tag[64]; /* a statement without rows: what it did */
} pg_portal;

typedef struct pg_conn {
    srv_conn *conn;
    pg_phase phase;
    bool ssl_asked; /* one SSLRequest and one GSSENCRequest at most */
    bool gss_asked;
    bool registered;
    char user[64];
    char db[64];
    char app[64];
    int32_t pid;
    int32_t key;
    atomic_bool cancel;
    srv_auth auth;
    /* SCRAM */
    char gs2[32];
    char nonce[320];
    lh_buf scram; /* client-first-bare "," server-first ... */
    /* query state */
    char txn; /* 'I', 'T', 'E' */
    bool skip_to_sync;
    pg_stmt *stmts;
    pg_portal *portals;
    void *exec;       /* the query in flight (pg_exec.c) */
    bool exec_paused; /* it waits for the client to read */
    bool inline_run;  /* a statement runs on the loop's thread now */
    pg_shape shapes[PG_SHAPES];
    atomic_bool timed_out;
    lh_session *session; /* opened at the first statement; written under
                            the server's pg_mu (CancelRequest reads it) */
    lh_buf out;          /* replies not yet written */
    lh_buf msg;          /* the message being handled */
} pg_conn;

/* pg.c: output helpers (into a buffer) */
/* An ErrorResponse with a position (1-based characters; 0 = none). */
void lh__pg_error_at(lh_buf *b, const char *severity, const char *code,
                     const char *msg, int64_t position);
size_t lh__pg_begin(lh_buf *b, char type);
void lh__pg_end(lh_buf *b, size_t at);
void lh__pg_put_i16(lh_buf *b, int v);
void lh__pg_put_i32(lh_buf *b, int32_t v);
void lh__pg_put_str(lh_buf *b, const char *s);
/* An ErrorResponse (detail and hint may be NULL). */
void lh__pg_error(lh_buf *b, const char *severity, const char *code,
                  const char *msg, const char *detail, const char *hint);
void lh__pg_ready(pg_conn *p);
/* Writes what p->out holds. */
void lh__pg_flush(srv_conn *c);
/* A query finished (on the loop): flush and read what waits. */
void lh__pg_resume(srv_conn *c);

/* pg_query.c */
/* A message of the query phase (not startup or authentication). */
void lh__pg_message(srv_conn *c, const lh_pg_msg *m);
/* Stops the session's running query, if any (CancelRequest). */
void lh__pg_exec_cancel(pg_conn *p);
void lh__pg_session_release(pg_conn *p);

/* pg_exec.c: statements through the SQL engine. Each returns true when
 * the session went BUSY (the answer comes from the pool), false having
 * written an ErrorResponse. */
bool lh__pg_exec_simple(srv_conn *c, const char *sql);
/* Describe of a statement (x NULL) or a portal that returns rows. */
bool lh__pg_exec_describe(srv_conn *c, pg_stmt *s, pg_portal *x);
bool lh__pg_exec_execute(srv_conn *c, pg_portal *x, int32_t max_rows);
/* The output drained: a paused query goes on. */
void lh__pg_exec_write(srv_conn *c);
/* The session's lh_session, opened if needed. */
lh_rc lh__pg_session(srv_conn *c, lh_err *err);
void lh__pg_rows_release(pg_rows *w);

/* pg_catalog.c: psql's catalog queries (\dt, \d, \d NAME, \l, \dn)
 * answered from the database's tables: true when sql was one of them and
 * its RowDescription, DataRows and CommandComplete are in p->out. */
bool lh__pg_catalog(srv_conn *c, const char *sql);
/* information_schema.tables, .columns, .schemata and pg_catalog's
 * pg_namespace, pg_class, pg_attribute, pg_type, pg_database and pg_tables
 * as session tables of s, from db's tables. */
lh_rc lh__pg_catalog_tables(lh_session *s, lh_db *db, const char *user,
                            const char *dbname, lh_err *err);
/* Statements that name server functions (version(), current_schema(),
 * SHOW server_version ...): their number, or -1; their RowDescription;
 * their DataRow and CommandComplete. */
int lh__pg_canned(const char *sql);
void lh__pg_canned_describe(int which, lh_buf *out);
void lh__pg_canned_rows(const pg_conn *p, int which, lh_buf *out);

/* pg_types.c: lakehouse types as PostgreSQL's */
typedef struct pg_type {
    uint32_t oid;
    int16_t typlen; /* -1 = variable */
    int32_t typmod; /* -1 = none */
} pg_type;

pg_type lh__pg_type_of(lh_type t);
/* The lakehouse type a parameter of PostgreSQL type `oid` is read as
 * (unknown and text types: VARCHAR). */
lh_type lh__pg_type_from_oid(uint32_t oid);
/* Appends v in PostgreSQL's binary format for lh__pg_type_of(v->type)
 * (not for NULL). LH_ENOMEM, LH_EINTERNAL. */
lh_rc lh__pg_binary(const lh_value *v, lh_buf *out);
/* Appends v as PostgreSQL's text: the output rules, except FLOAT[n] and
 * nested values as they are (text, JSON). */
lh_rc lh__pg_text(const lh_value *v, lh_buf *out);
/* Reads a binary parameter of PostgreSQL type oid as text (the form
 * lh_value_from_text reads), so both formats reach the engine alike.
 * LH_EINVAL ("invalid binary data for int4") for a wrong length or an
 * OID whose binary form is not read. */
lh_rc lh__pg_binary_to_text(uint32_t oid, const uint8_t *p, size_t n,
                            lh_buf *out, lh_err *err);

#endif
