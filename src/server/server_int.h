/*
 * The server's private header.
 *
 * ## Threads
 *
 * A server has `io_threads` event loops (libevent, one event_base each) and
 * a pool of `workers` threads (runtime/lh_pool) for everything that blocks:
 * appends (they wait for their group commit's fsync), reads, token file
 * writes, and later queries. A connection belongs to one loop for its whole
 * life and is only touched by that loop's thread. Each loop has its own
 * listener on the shared listening sockets; the kernel hands a new
 * connection to whichever loop accepts it first.
 *
 * Blocking work is an srv_work: `run` executes on a pool thread with no
 * access to the connection's socket, then the work is queued back to the
 * connection's loop (a mutex-protected list and an eventfd), where `done`
 * runs and writes the reply. While work is in flight it holds a reference
 * on the connection, so a client that hangs up meanwhile only marks the
 * connection closed; it is freed when the last reference goes.
 *
 * ## Limits and slow clients
 *
 * Every connection has one timer whose meaning follows its state: idle
 * between requests (idle_timeout), the head of a request must arrive within
 * header_timeout of its first byte (slowloris), a body may pause at most
 * idle_timeout between bytes. Writes that make no progress for
 * write_timeout drop the connection (bufferevent's write timeout), and a
 * streamed reply (SSE) stops producing while more than SRV_OUT_HIGH bytes
 * wait to be sent. Past max_connections a new connection gets a short
 * refusal (HTTP 503, PostgreSQL 53300) and is closed. None of this blocks
 * a loop: a misbehaving client costs its own connection only.
 *
 * ## Stopping
 *
 * lh_server_stop writes to an eventfd (async-signal-safe) that every loop
 * watches. A loop then closes its listeners, closes idle connections, lets
 * requests in flight finish (their replies say Connection: close), ends
 * event streams and long polls, and exits when it holds no connection and
 * no work; after drain_timeout it drops what is left. lh_server_wait joins
 * the loops.
 *
 * ## Queries
 *
 * SQL runs on the pool in an lh_session: one per HTTP query
 * (http_query.c), one per PostgreSQL connection (pg_exec.c, opened at its
 * first statement). Results stream: a query on the pool stops producing
 * while more than SRV_OUT_HIGH bytes wait for its client (HTTP: the pool
 * thread waits for the loop to take each 64 KiB chunk, posted with
 * lh__srv_post; PostgreSQL: rows are rendered 256 KiB at a time and the
 * next part is submitted once the output drains). A client that goes
 * away, DELETE /v1/queries/{id}, CancelRequest and query_timeout all end
 * in lh_session_cancel.
 *
 * ## Live reads
 *
 * A table someone waits on (long poll, Server-Sent Events) gets a watcher
 * thread that blocks in lh_table_wait and, on each commit, bumps the
 * watch's epoch and wakes every loop. A loop keeps its waiting connections
 * in a list; on a wake it re-reads, on the pool, for those whose table's
 * epoch moved. A waiter records the epoch before its read, so a commit
 * during the read is never missed.
 */
#ifndef LH_SERVER_INT_H
#define LH_SERVER_INT_H

/* OpenSSL's 1.1-era lhash macros (lh_free, lh_new...) would shadow ours. */
#ifndef OPENSSL_NO_DEPRECATED
#define OPENSSL_NO_DEPRECATED
#endif

#include <jansson.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "runtime/runtime.h"
#include "server/server.h"

/* A streamed reply pauses while this much waits to be sent. */
#define SRV_OUT_HIGH (1u << 20)
/* Events per read task of a stream, long poll or SSE batch. */
#define SRV_READ_BATCH 1000
/* The most events a stream read or long poll returns in one reply. */
#define SRV_READ_MAX 100000
/* A comment line keeps idle event streams (and their proxies) open. */
#define SRV_SSE_PING_MS 15000

/* ---- configuration (config.c) -------------------------------------------- */

typedef struct srv_config {
    char *http; /* "host:port", or NULL when off */
    char *pg;
    int io_threads;
    int workers;
    int max_connections;
    int64_t max_body;
    int64_t max_header;
    int64_t max_events; /* per append request */
    lh_us idle_timeout;
    lh_us header_timeout;
    lh_us write_timeout;
    lh_us long_poll_max;
    lh_us drain_timeout;
    lh_us query_timeout;
    int64_t query_memory;
    int query_threads;
    char *tls_cert;
    char *tls_key;
    bool http_tls;
    bool insecure_no_auth;
    bool pipeline;         /* run lh_pipeline_start beside the server */
    bool pg_auth_password; /* pg_auth = password: cleartext, else SCRAM */
    lh_us pg_idle_timeout;
} srv_config;

struct lh_server_config {
    srv_config c;
};

/* Copies src into dst (strings duplicated). */
lh_rc lh__srv_config_copy(srv_config *dst, const srv_config *src, lh_err *err);
void lh__srv_config_release(srv_config *c);

/* ---- tokens (token.c) -----------------------------------------------------
 */

typedef enum srv_role {
    SRV_ROLE_NONE = 0,
    SRV_ROLE_READER = 1,
    SRV_ROLE_WRITER = 2,
    SRV_ROLE_ADMIN = 3,
} srv_role;

/* What a request or session is allowed: the role of its token, or
 * SRV_ROLE_ADMIN when the server requires no token. */
typedef struct srv_auth {
    srv_role role;
    char name[64]; /* the token's name, "" without tokens */
} srv_auth;

/* The tokens of a data directory, as the server holds them: loaded at
 * start, changed through the HTTP API (which rewrites the file). */
typedef struct srv_tokens srv_tokens;

lh_rc lh__tokens_open(const char *dir, srv_tokens **out, lh_err *err);
void lh__tokens_free(srv_tokens *t);
size_t lh__tokens_count(srv_tokens *t);
/* The role of a presented token, or SRV_ROLE_NONE. Thread-safe. */
srv_role lh__tokens_check(srv_tokens *t, const char *token, char *name,
                          size_t name_cap);
/* SCRAM-SHA-256 (RFC 5802/7677): the salt and iteration count every token
 * of the directory shares, so that a client's proof, whatever its user
 * name, can be checked against each token's StoredKey. */
void lh__tokens_scram_params(srv_tokens *t, char *salt_b64, size_t cap,
                             int *iterations);
/* Finds the token whose StoredKey verifies client_proof for auth_message;
 * fills the role, the token's name and its ServerKey (32 bytes). */
srv_role lh__tokens_scram_verify(srv_tokens *t, const uint8_t *client_proof,
                                 const char *auth_message, size_t auth_len,
                                 uint8_t *server_key, char *name,
                                 size_t name_cap);
/* Creates (printing nothing; *token receives the secret, freed with
 * lh_free) or revokes a token and rewrites the file. */
lh_rc lh__tokens_create(srv_tokens *t, const char *name, const char *role,
                        char **token, lh_err *err);
lh_rc lh__tokens_revoke(srv_tokens *t, const char *name, lh_err *err);
/* The tokens as a JSON array of {"name","role","created_at"}. */
void lh__tokens_list_json(srv_tokens *t, lh_buf *out);
srv_role lh__role_parse(const char *s);
const char *lh__role_name(srv_role r);

/* ---- metrics (metrics.c) ---------------------------------------------------
 */

#define SRV_LAT_BUCKETS 14

typedef struct srv_hist {
    atomic_uint_fast64_t le[SRV_LAT_BUCKETS]; /* not cumulative */
    atomic_uint_fast64_t count;
    atomic_uint_fast64_t sum_us;
} srv_hist;

typedef struct srv_metrics {
    atomic_uint_fast64_t http_requests[6]; /* by status class 1xx..5xx; [0]
                                              other */
    srv_hist http_latency;
    srv_hist append_latency;
    srv_hist query_latency;
    atomic_uint_fast64_t events_appended;
    atomic_uint_fast64_t append_requests;
    atomic_uint_fast64_t append_conflicts;
    atomic_uint_fast64_t conns_total[2];
    atomic_int conns_open[2];
    atomic_uint_fast64_t conns_refused;
    atomic_uint_fast64_t conns_dropped; /* timeouts, limits, bad bytes */
    atomic_uint_fast64_t pg_queries;
    atomic_uint_fast64_t pg_inline; /* runs on the loop thread (pg_exec.c) */
    atomic_uint_fast64_t auth_failures;
} srv_metrics;

void lh__hist_add(srv_hist *h, lh_us us);
/* The Prometheus text exposition of the server's metrics. */
void lh__metrics_render(lh_server *s, lh_buf *out);

/* ---- loops, connections, work (server.c) --------------------------------- */

typedef struct srv_loop srv_loop;
typedef struct srv_conn srv_conn;
typedef struct srv_work srv_work;
typedef struct srv_watch srv_watch;
typedef struct srv_query srv_query;

enum { SRV_HTTP = 0, SRV_PG = 1 };

/* What a protocol does with its connections (http.c, pg.c). Every callback
 * runs on the connection's loop thread. */
typedef struct srv_proto {
    const char *name;
    /* A new connection: allocate c->state. LH_OK or the connection is
     * closed. */
    lh_rc (*open)(srv_conn *c);
    void (*on_read)(srv_conn *c);
    /* The output buffer drained (below the low watermark: empty). */
    void (*on_write)(srv_conn *c);
    void (*on_timer)(srv_conn *c);
    /* The server is stopping. */
    void (*on_drain)(srv_conn *c);
    /* A table this connection waits on moved (see srv_wait_table). */
    void (*on_wake)(srv_conn *c);
    /* The socket is gone (peer closed, error, or srv_conn_close); state
     * may still be referenced by work in flight. */
    void (*on_close)(srv_conn *c);
    /* Last reference gone: free c->state. */
    void (*free)(srv_conn *c);
    /* The reply sent to a connection refused at the limit. */
    const char *refusal;
    size_t refusal_len;
} srv_proto;

struct srv_conn {
    srv_loop *loop;
    const srv_proto *proto;
    int kind;                /* SRV_HTTP, SRV_PG */
    struct bufferevent *bev; /* NULL once closed */
    struct event *timer;
    int refs;
    bool closed;
    bool close_when_flushed;
    bool lingering;   /* replied and half-closed: dropping late bytes */
    int linger_polls; /* TLS: how often the socket's output was looked at */
    bool tls;         /* bev is a TLS bufferevent */
    bool busy;        /* the protocol owes a reply: EOF waits for it */
    bool peer_eof;    /* the client half-closed while busy */
    char peer[64];
    srv_conn *prev, *next; /* the loop's connections */
    /* Waiting on a table (srv_wait_table). */
    srv_watch *watch;
    uint64_t watch_epoch;
    srv_conn *wprev, *wnext;
    bool waiting;
    void *state;
};

struct srv_work {
    srv_work *next;
    srv_conn *conn;
    void (*run)(srv_work *w);  /* pool thread */
    void (*done)(srv_work *w); /* the conn's loop thread; frees w */
    bool failed;               /* could not be queued: run did not run */
    bool post;                 /* queued by lh__srv_post */
};

struct srv_loop {
    lh_server *srv;
    int index;
    struct event_base *base;
    pthread_t thread;
    bool started;
    int wake_fd;
    struct event *wake_ev;
    struct event *stop_ev;
    struct event *drain_ev; /* the drain deadline */
    struct evconnlistener *listen[2];
    pthread_mutex_t mu;
    srv_work *done_head, *done_tail; /* under mu */
    atomic_bool watch_wake;          /* a watched table moved */
    srv_conn *conns;
    int nconns;
    int nwork; /* in flight from this loop */
    srv_conn *waiters;
    bool draining;
};

struct srv_watch {
    srv_watch *next;
    lh_server *srv;
    char *table;
    pthread_t thread;
    atomic_uint_fast64_t epoch;
    atomic_bool stop;
};

struct lh_server {
    lh_db *db;
    srv_config cfg;
    lh_pipeline *pipeline; /* cfg.pipeline: flushes and the rest */
    lh_pool *pool;
    srv_loop *loops;
    int nloops;
    int listen_fd[2];
    char bound[2][80]; /* "127.0.0.1:8080" */
    bool loopback_only;
    int stop_fd;
    atomic_bool stopping;
    atomic_int loops_unlistened;
    atomic_int nconns;
    srv_tokens *tokens;
    SSL_CTX *tls;
    srv_metrics m;
    lh_us started;
    pthread_mutex_t watch_mu;
    srv_watch *watches;
    char *server_file; /* DIR/server.json, removed at close */
    /* PostgreSQL sessions by backend pid, for CancelRequest (pg.c) */
    pthread_mutex_t pg_mu;
    lh_map pg_backends;
    int32_t pg_next_pid;
    /* HTTP queries by id, running and recently finished (http_query.c) */
    pthread_mutex_t q_mu;
    lh_map queries;
    srv_query *q_done_head, *q_done_tail;
    int q_ndone;
    bool waited;
};

/* Takes a reference on c for work; submits w to the pool. done always
 * runs on c's loop (with w->failed set when it could not be queued). */
void lh__srv_submit(srv_conn *c, srv_work *w);
/* Runs w->run and then w->done here, on c's loop thread, holding a
 * reference on c: for work known to be shorter than a trip to the pool. */
void lh__srv_run_here(srv_conn *c, srv_work *w);
/* From any thread: runs w->done on w->conn's loop, in order with the
 * dones of work submitted before. Outside the work accounting: the
 * caller is work in flight on that connection (which keeps it alive
 * until its own done), and w is queued at most once at a time. */
void lh__srv_post(srv_work *w);
/* Closes the socket now (what was not flushed is dropped). */
void lh__srv_conn_close(srv_conn *c);
/* Closes once everything buffered is sent. */
void lh__srv_conn_close_flushed(srv_conn *c);
/* Puts TLS (server side) over the connection's bufferevent (PostgreSQL's
 * SSLRequest). LH_ENOMEM. */
lh_rc lh__srv_conn_start_tls(srv_conn *c, lh_err *err);
/* (Re)arms the connection's timer; ms <= 0 stops it. */
void lh__srv_conn_timer(srv_conn *c, int64_t ms);
void lh__srv_conn_write(srv_conn *c, const void *p, size_t n);
/* The same, trying the socket first (one send, no write event) while
 * nothing is buffered: for a whole reply at once (a PostgreSQL flush),
 * not for pieces of one (each would be its own send). */
void lh__srv_conn_send(srv_conn *c, const void *p, size_t n);
size_t lh__srv_conn_pending(const srv_conn *c);
/* Waits for commits to table: c->proto->on_wake runs once the table's
 * epoch passes `epoch` (a value read with lh__srv_watch_epoch before the
 * read that found nothing). LH_ENOMEM. */
lh_rc lh__srv_wait_table(srv_conn *c, const char *table, uint64_t epoch,
                         lh_err *err);
void lh__srv_unwait(srv_conn *c);
/* The current epoch of table's watch, starting the watch if needed. */
lh_rc lh__srv_watch_epoch(lh_server *s, const char *table, uint64_t *epoch,
                          lh_err *err);
/* True once the server stops (no new streams, replies close). */
bool lh__srv_draining(const srv_conn *c);

/* ---- HTTP (http.c: connections and replies; http_api.c: the routes) ----- */

typedef struct http_ctx http_ctx;
typedef void (*http_handler)(http_ctx *x);

/* One request, from its parse to its reply. Handlers run on the loop; the
 * blocking ones hand x->work to the pool, and its done replies. */
struct http_ctx {
    srv_work work; /* the pool hand-off (work.conn = c) */
    srv_conn *c;
    lh_server *srv;
    const lh_http_req *req;
    bool head; /* HEAD: the reply goes without its body */
    lh_arena arena;
    char *seg[8]; /* the path's decoded segments */
    int nseg;
    char **qk, **qv; /* the query's decoded parameters */
    int nq;
    srv_auth auth;
    lh_us start;
    /* the reply */
    int status;
    const char *ctype;
    lh_buf body;
    lh_buf hdrs; /* extra header lines, "Name: value\r\n" each */
    bool streaming;
    bool chunked;
    void *args; /* a handler's arguments for its pool work (arena) */
    /* live reads (long poll and SSE: http_api.c) */
    void *live;
    /* a query (http_query.c) */
    void *query;
};

/* A query parameter's decoded value, or NULL. */
const char *lh__http_param(const http_ctx *x, const char *name);
/* Replies with x->status, x->ctype and x->body, then ends the request. */
void lh__http_reply(http_ctx *x);
/* A JSON error reply: {"error": kind, "message": msg} plus what x->body
 * already holds as extra members (",\"line\":3" ...). */
void lh__http_error(http_ctx *x, int status, const char *msg);
/* Sets x's reply to the JSON error for a library failure. */
void lh__http_fail(http_ctx *x, lh_rc rc, const lh_err *err);
/* Streams: the head (Transfer-Encoding: chunked on HTTP/1.1, else the
 * connection's end ends the body), chunks, the end (which ends the
 * request). */
void lh__http_stream_begin(http_ctx *x);
void lh__http_stream_chunk(http_ctx *x, const void *p, size_t n);
void lh__http_stream_end(http_ctx *x);
/* Runs fn on the pool, then done on the loop (which must reply). */
void lh__http_offload(http_ctx *x, void (*fn)(srv_work *w),
                      void (*done)(srv_work *w));
/* The done that replies with what fn left in x. */
void lh__http_done_reply(srv_work *w);

/* http_api.c */
void lh__http_dispatch(http_ctx *x);
/* Before the body of a request that expects 100-continue: 0 when it may
 * proceed, else the status it is refused with (the message in msg). */
int lh__http_precheck(http_ctx *x, char *msg, size_t cap);
/* Live reads: the connection's timer, a wake, a drained output buffer,
 * the server stopping, the connection closing. */
void lh__http_live_timer(http_ctx *x);
void lh__http_live_wake(http_ctx *x);
void lh__http_live_write(http_ctx *x);
void lh__http_live_drain(http_ctx *x);
void lh__http_live_free(http_ctx *x);

/* The routes, for the OpenAPI test: method and path template. */
typedef struct lh_http_route {
    const char *method;
    const char *path; /* "/v1/tables/{table}/events" */
} lh_http_route;
const lh_http_route *lh__http_routes(size_t *n);

/* http_query.c: POST /v1/query (body: the request's JSON object,
 * borrowed), GET (cancel false) and DELETE /v1/queries/{id}; the
 * connection's events while a query streams. */
void lh__http_query(http_ctx *x, json_t *body);
void lh__http_query_state(http_ctx *x, bool cancel);
void lh__http_query_write(http_ctx *x);
void lh__http_query_close(http_ctx *x);
void lh__http_query_timer(http_ctx *x);
void lh__http_query_free(http_ctx *x);
void lh__srv_queries_release(lh_server *s);

/* ---- SQL around the engine (sql_common.c) ---------------------------------
 */

/* A session with the server's query settings (memory, threads), for a
 * client of that role: below admin its table functions read only the data
 * directory's files (lh_session_confine). */
lh_rc lh__srv_session_open(lh_server *s, srv_role role, lh_session **out,
                           lh_err *err);
/* The first keyword of a statement, upper case, after white space,
 * comments and '('; its length (0: none). */
size_t lh__sql_first_word(const char *sql, size_t len, char *word, size_t cap);
/* The role a statement needs, by its first keyword: reader for queries,
 * SET, SHOW, EXPLAIN and transaction control; writer for INSERT (UPDATE,
 * DELETE); admin for the rest (DDL, COPY, which writes server files). */
srv_role lh__sql_role(const char *sql, size_t len);
/* Whether a statement returns rows (SELECT, WITH, VALUES, SHOW ...). */
bool lh__sql_returns_rows(const char *sql, size_t len);
/* PostgreSQL's error position: the 1-based character at byte offset in
 * sql, 0 for an offset < 0. */
int64_t lh__sql_char_position(const char *sql, size_t len, int64_t offset);
/* The SQLSTATE of a failure, from its code and the engine's message. */
const char *lh__sqlstate(lh_rc rc, const char *msg);

/* The HTTP status for a library code. */
int lh__http_status_for(lh_rc rc);

extern const srv_proto lh__http_proto;
extern const srv_proto lh__pg_proto;

/* The OpenAPI document (docs/openapi.json, compiled in). */
extern const char lh__openapi_json[];
extern const size_t lh__openapi_json_len;

#endif
