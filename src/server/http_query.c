/*
 * POST /v1/query and GET / DELETE /v1/queries/{id}.
 *
 * A query runs on the pool in a session of its own: its statements one
 * after the other, the last one's rows written by lh_result_write in the
 * requested format (output-formats.md, the same writer as `lakehouse
 * sql`) into a FILE whose writes land in the query's buffer. When a chunk
 * (HQ_CHUNK bytes) is ready the pool thread posts it to the connection's
 * loop and waits until the loop has taken it, which the loop does while
 * less than SRV_OUT_HIGH bytes wait for the client: a slow client slows its
 * query down, never the loop, and memory stays bounded. A client that goes
 * away aborts the wait and cancels the query.
 *
 * The reply's head waits for the first chunk: a result that fits in one
 * chunk goes with a Content-Length, and an error found before any row (a
 * name, a type, a bad value) is a JSON error with its status. An error
 * after rows were sent can only cut the body short: the connection closes
 * without the chunked body's last chunk, so that the client sees an
 * incomplete reply, not a complete wrong one.
 *
 * Every query is in the server's registry under its id (the
 * Lakehouse-Query-Id header) while it runs and for a while after: GET
 * reports its state and progress (rows and bytes sent), DELETE cancels it.
 * Only its owner (the token that started it) or an admin sees it.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "server/server_int.h"

#define HQ_CHUNK (64u << 10)
/* Finished queries kept for GET /v1/queries/{id}. */
#define HQ_KEEP 256

typedef enum { Q_RUNNING = 0, Q_DONE, Q_FAILED, Q_CANCELED } q_state;

/* The formats of a reply (output-formats.md), by the name
 * lh_result_write takes. */
typedef enum { F_JSON = 0, F_CSV, F_NDJSON, F_TABLE } q_format;
static const char *const format_names[] = {"json", "csv", "ndjson", "table"};

static const char *const state_names[] = {"running", "done", "failed",
                                          "canceled"};

struct srv_query {
    char id[LH_UUID_STRLEN + 1];
    char owner[64];
    lh_us started_real;
    lh_us started, ended; /* monotonic */
    atomic_int state;
    atomic_uint_fast64_t rows, bytes;
    atomic_bool cancel;
    atomic_bool timed_out;
    char *sql;
    char error[512];
    int refs;             /* q_mu */
    lh_session *session;  /* q_mu: set while statements run */
    srv_query *done_next; /* the finished list (q_mu) */
};

/* The request's state while its query runs. */
typedef struct hq {
    srv_work work; /* the query on the pool */
    srv_work post; /* a chunk is ready (lh__srv_post) */
    http_ctx *x;
    srv_query *q;
    q_format fmt;
    char *sql;
    json_t *params;     /* NULL, an array or an object */
    pthread_mutex_t mu; /* guards what follows */
    pthread_cond_t cv;
    lh_buf pend; /* written by the pool, taken by the loop */
    bool posted;
    bool abort;      /* the client is gone: writes fail */
    bool want_write; /* the loop waits for the output to drain */
    /* counting rows as they pass (CSV: line ends outside quotes) */
    bool in_quote;
    uint64_t lines;
    /* the result */
    lh_rc rc;
    lh_err err;
    size_t err_base;
    char tag[64];
    bool ran_rows; /* the last statement had rows */
} hq;

/* ---- the registry ---------------------------------------------------------
 */

static void
query_unref_locked(lh_server *s, srv_query *q)
{
    (void)s;
    if (--q->refs == 0) {
        lh_free(q->sql);
        lh_free(q);
    }
}

static srv_query *
query_new(lh_server *s, const char *owner, const char *sql, lh_err *err)
{
    srv_query *q = lh_calloc(1, sizeof(*q));
    if (q == NULL) {
        lh_err_set(err, LH_ENOMEM, "out of memory");
        return NULL;
    }
    lh_uuid u;
    if (lh_uuid_v7(&u, lh_real_now() / 1000, err) != LH_OK) {
        lh_free(q);
        return NULL;
    }
    lh_uuid_format(&u, q->id);
    snprintf(q->owner, sizeof(q->owner), "%s", owner);
    size_t n = strlen(sql);
    q->sql = lh_strndup(sql, n > 4096 ? 4096 : n);
    q->started_real = lh_real_now();
    q->started = lh_mono_now();
    atomic_init(&q->state, Q_RUNNING);
    q->refs = 2; /* the registry and the request */
    pthread_mutex_lock(&s->q_mu);
    lh_rc rc = q->sql ? lh_map_put(&s->queries, q->id, strlen(q->id), q, NULL)
                      : LH_ENOMEM;
    pthread_mutex_unlock(&s->q_mu);
    if (rc != LH_OK) {
        lh_free(q->sql);
        lh_free(q);
        lh_err_set(err, LH_ENOMEM, "out of memory");
        return NULL;
    }
    return q;
}

/* The query ended: it stays findable among the last HQ_KEEP. */
static void
query_end(lh_server *s, srv_query *q, q_state st)
{
    pthread_mutex_lock(&s->q_mu);
    q->ended = lh_mono_now();
    atomic_store(&q->state, st);
    q->done_next = NULL;
    if (s->q_done_tail) {
        s->q_done_tail->done_next = q;
    } else {
        s->q_done_head = q;
    }
    s->q_done_tail = q;
    if (++s->q_ndone > HQ_KEEP) {
        srv_query *old = s->q_done_head;
        s->q_done_head = old->done_next;
        if (s->q_done_head == NULL) {
            s->q_done_tail = NULL;
        }
        s->q_ndone--;
        lh_map_del(&s->queries, old->id, strlen(old->id));
        query_unref_locked(s, old);
    }
    query_unref_locked(s, q); /* the request's reference */
    pthread_mutex_unlock(&s->q_mu);
}

static void
query_cancel_locked(srv_query *q)
{
    atomic_store(&q->cancel, true);
    if (q->session != NULL) {
        lh_session_cancel(q->session);
    }
}

void
lh__srv_queries_release(lh_server *s)
{
    pthread_mutex_lock(&s->q_mu);
    while (s->q_done_head != NULL) {
        srv_query *q = s->q_done_head;
        s->q_done_head = q->done_next;
        lh_map_del(&s->queries, q->id, strlen(q->id));
        query_unref_locked(s, q);
    }
    s->q_done_tail = NULL;
    s->q_ndone = 0;
    pthread_mutex_unlock(&s->q_mu);
    lh_map_release(&s->queries);
}

/* ---- the FILE the result writer writes to (pool thread) ------------------ */

static void
count_rows(hq *h, const char *p, size_t n)
{
    if (h->fmt == F_CSV) {
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '"') {
                h->in_quote = !h->in_quote;
            } else if (p[i] == '\n' && !h->in_quote) {
                h->lines++;
            }
        }
    } else {
        for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p)));
             p++) {
            h->lines++;
        }
    }
    /* CSV's header line and JSON's "[" line are not rows. */
    uint64_t heads = h->fmt == F_NDJSON ? 0 : 1;
    atomic_store(&h->q->rows, h->lines > heads ? h->lines - heads : 0);
}

static ssize_t
sink_write(void *cookie, const char *p, size_t n)
{
    hq *h = cookie;
    pthread_mutex_lock(&h->mu);
    while (!h->abort && h->pend.len >= HQ_CHUNK) {
        pthread_cond_wait(&h->cv, &h->mu);
    }
    if (h->abort || atomic_load(&h->q->cancel)) {
        pthread_mutex_unlock(&h->mu);
        return -1;
    }
    lh_buf_append(&h->pend, p, n);
    if (!lh_buf_ok(&h->pend)) {
        pthread_mutex_unlock(&h->mu);
        return -1;
    }
    count_rows(h, p, n);
    atomic_fetch_add(&h->q->bytes, n);
    if (h->pend.len >= HQ_CHUNK && !h->posted) {
        h->posted = true;
        lh__srv_post(&h->post);
    }
    pthread_mutex_unlock(&h->mu);
    return (ssize_t)n;
}

/* ---- running the statements (pool thread) -------------------------------- */

static lh_rc
bind_json(lh_stmt *st, int i, json_t *v, lh_err *err)
{
    lh_cell c = {.kind = LH_CELL_NULL};
    char *dump = NULL;
    char num[32];
    switch (json_typeof(v)) {
    case JSON_NULL:
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        c.kind = LH_CELL_BOOL;
        c.u.b = json_is_true(v);
        break;
    case JSON_INTEGER:
        c.kind = LH_CELL_INT;
        c.u.i = json_integer_value(v);
        break;
    case JSON_REAL:
        /* As text, so that the statement's context types it (a DECIMAL
         * column keeps its digits). */
        snprintf(num, sizeof(num), "%.17g", json_real_value(v));
        c.kind = LH_CELL_TEXT;
        c.u.s.p = num;
        c.u.s.len = strlen(num);
        break;
    case JSON_STRING:
        c.kind = LH_CELL_TEXT;
        c.u.s.p = json_string_value(v);
        c.u.s.len = json_string_length(v);
        break;
    default: /* arrays and objects: their JSON text */
        dump = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (dump == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        c.kind = LH_CELL_TEXT;
        c.u.s.p = dump;
        c.u.s.len = strlen(dump);
        break;
    }
    lh_rc rc = lh_stmt_bind(st, i, &c, err);
    free(dump);
    return rc;
}

/* Binds the request's params: an array by position, an object by name. */
static lh_rc
bind_params(hq *h, lh_stmt *st, lh_err *err)
{
    int n = lh_stmt_param_count(st);
    if (n == 0) {
        return LH_OK;
    }
    for (int i = 1; i <= n; i++) {
        json_t *v = NULL;
        if (json_is_array(h->params)) {
            v = json_array_get(h->params, (size_t)i - 1);
        } else if (json_is_object(h->params)) {
            const char *name = lh_stmt_param_name(st, i);
            char pos[16];
            if (name == NULL) {
                snprintf(pos, sizeof(pos), "%d", i);
                name = pos;
            }
            if (name[0] == ':' || name[0] == '$') {
                name++;
            }
            v = json_object_get(h->params, name);
        }
        if (v == NULL) {
            const char *name = lh_stmt_param_name(st, i);
            if (name != NULL) {
                return lh_err_set(err, LH_EINVAL,
                                  "no value given for parameter %s", name);
            }
            return lh_err_set(err, LH_EINVAL,
                              "no value given for parameter $%d", i);
        }
        lh_rc rc = bind_json(st, i, v, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

static lh_rc
run_statements(hq *h, lh_session *s, FILE *sink)
{
    size_t len = strlen(h->sql), pos = 0;
    lh_stmt *st = NULL;
    lh_result *r = NULL;
    lh_rc rc = LH_OK;
    for (;;) {
        size_t used = 0;
        h->err_base = pos;
        lh_stmt *next = NULL;
        rc = pos < len ? lh_stmt_prepare(s, h->sql + pos, len - pos, &used,
                                         &next, &h->err)
                       : LH_OK;
        if (rc != LH_OK) {
            break;
        }
        if (next == NULL) {
            /* r is the last statement's result: its rows are the reply. */
            if (r != NULL && lh_result_column_count(r) > 0) {
                h->ran_rows = true;
                rc = lh_result_write(r, format_names[h->fmt], sink, &h->err);
            }
            break;
        }
        if (r != NULL) { /* an earlier statement's rows are dropped */
            size_t rows;
            do {
                rc = lh_result_next(r, &rows, &h->err);
            } while (rc == LH_OK && rows > 0);
            lh_result_free(r);
            r = NULL;
            lh_stmt_free(st);
            st = NULL;
            if (rc != LH_OK) {
                lh_stmt_free(next);
                break;
            }
        }
        st = next;
        const char *text = h->sql + pos;
        pos += used ? used : len - pos;
        if (lh__sql_role(text, used) > h->x->auth.role) {
            rc = lh_err_set(&h->err, LH_EREADONLY,
                            "permission denied: token \"%s\" (role %s) may "
                            "not run this statement",
                            h->x->auth.name, lh__role_name(h->x->auth.role));
            break;
        }
        rc = bind_params(h, st, &h->err);
        if (rc == LH_OK) {
            rc = lh_stmt_execute(st, &r, &h->err);
        }
        if (rc != LH_OK) {
            break;
        }
        const char *tag = lh_result_tag(r);
        snprintf(h->tag, sizeof(h->tag), "%s", tag ? tag : "");
    }
    if (r != NULL) {
        const char *tag = lh_result_tag(r);
        snprintf(h->tag, sizeof(h->tag), "%s", tag ? tag : "");
    }
    lh_result_free(r);
    lh_stmt_free(st);
    return rc;
}

static void
run_query(srv_work *w)
{
    hq *h = (hq *)((char *)w - offsetof(hq, work));
    lh_server *s = h->x->srv;
    lh_session *sess = NULL;
    h->rc = lh__srv_session_open(s, h->x->auth.role, &sess, &h->err);
    if (h->rc != LH_OK) {
        return;
    }
    pthread_mutex_lock(&s->q_mu);
    h->q->session = sess;
    if (atomic_load(&h->q->cancel)) {
        lh_session_cancel(sess);
    }
    pthread_mutex_unlock(&s->q_mu);
    cookie_io_functions_t io = {.write = sink_write};
    FILE *sink = fopencookie(h, "w", io);
    if (sink == NULL) {
        h->rc = lh_err_set(&h->err, LH_ENOMEM, "out of memory");
    } else {
        setvbuf(sink, NULL, _IOFBF, HQ_CHUNK);
        h->rc = run_statements(h, sess, sink);
        if (fclose(sink) != 0 && h->rc == LH_OK) {
            h->rc = lh_err_set(&h->err, LH_EIO, "the client went away");
        }
    }
    pthread_mutex_lock(&s->q_mu);
    h->q->session = NULL;
    pthread_mutex_unlock(&s->q_mu);
    lh_session_close(sess);
    if (h->rc != LH_OK && atomic_load(&h->q->cancel)) {
        h->rc = atomic_load(&h->q->timed_out) ? LH_ETIMEDOUT : LH_ECANCELED;
        lh_err_set(&h->err, h->rc,
                   h->rc == LH_ETIMEDOUT
                       ? "canceling statement due to statement timeout"
                       : "canceling statement due to user request");
        h->err.offset = -1;
    }
}

/* ---- the loop's side ------------------------------------------------------
 */

static const char *
content_type(q_format f)
{
    switch (f) {
    case F_CSV:
        return "text/csv; charset=utf-8";
    case F_NDJSON:
        return "application/x-ndjson";
    case F_TABLE:
        return "text/plain; charset=utf-8";
    default:
        return "application/json";
    }
}

/* Sends what the pool left in h->pend, if the client keeps up. */
static void
take(hq *h)
{
    http_ctx *x = h->x;
    if (lh__srv_conn_pending(x->c) > SRV_OUT_HIGH) {
        h->want_write = true;
        return;
    }
    lh_buf got;
    pthread_mutex_lock(&h->mu);
    got = h->pend;
    lh_buf_init(&h->pend);
    h->want_write = false;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    if (!x->streaming) {
        x->status = 200;
        x->ctype = content_type(h->fmt);
        lh__http_stream_begin(x);
    }
    lh__http_stream_chunk(x, got.data, got.len);
    lh_buf_release(&got);
}

static void
post_done(srv_work *w)
{
    hq *h = (hq *)((char *)w - offsetof(hq, post));
    pthread_mutex_lock(&h->mu);
    h->posted = false;
    pthread_mutex_unlock(&h->mu);
    if (w->conn->closed) {
        return; /* lh__http_query_close aborted the writer */
    }
    take(h);
}

static void
error_reply(http_ctx *x, hq *h)
{
    lh_buf_reset(&x->body);
    const char *msg = h->err.msg[0] ? h->err.msg : lh_rc_name(h->rc);
    if (h->err.offset >= 0) {
        lh_buf_printf(&x->body, ",\"position\":%lld",
                      (long long)lh__sql_char_position(h->sql, strlen(h->sql),
                                                       (int64_t)h->err_base +
                                                           h->err.offset));
    }
    lh_buf_printf(&x->body, ",\"sqlstate\":\"%s\",\"query_id\":\"%s\"",
                  lh__sqlstate(h->rc, msg), h->q->id);
    int status = lh__http_status_for(h->rc);
    if (h->rc == LH_ENOENT || h->rc == LH_EEXIST) {
        status = 400; /* a name in the SQL, not the resource requested */
    } else if (h->rc == LH_ECANCELED) {
        status = 409;
    }
    lh__http_error(x, status, msg);
}

static void
query_done(srv_work *w)
{
    hq *h = (hq *)((char *)w - offsetof(hq, work));
    http_ctx *x = h->x;
    srv_conn *c = w->conn;
    lh_server *s = x->srv;
    if (w->failed) {
        h->rc = lh_err_set(&h->err, LH_ECANCELED, "the server is stopping");
        h->err.offset = -1;
    }
    if (h->tag[0] && !h->ran_rows) {
        /* "SELECT 3" is in the rows; a statement without rows says what
         * it did here. */
        int64_t n = 0;
        const char *sp = strrchr(h->tag, ' ');
        if (sp != NULL) {
            n = strtoll(sp + 1, NULL, 10);
        }
        atomic_store(&h->q->rows, (uint64_t)n);
    } else if (strncmp(h->tag, "SELECT ", 7) == 0) {
        atomic_store(&h->q->rows, strtoull(h->tag + 7, NULL, 10));
    }
    q_state st = h->rc == LH_OK                                   ? Q_DONE
                 : h->rc == LH_ECANCELED || h->rc == LH_ETIMEDOUT ? Q_CANCELED
                                                                  : Q_FAILED;
    if (h->rc != LH_OK) {
        snprintf(h->q->error, sizeof(h->q->error), "%s", h->err.msg);
    }
    lh__hist_add(&s->m.query_latency, lh_mono_now() - h->q->started);
    srv_query *q = h->q;
    h->q = NULL;
    bool failed = h->rc != LH_OK;
    if (c->closed) {
        query_end(s, q, st);
        lh__http_stream_end(x);
        return;
    }
    lh__srv_conn_timer(c, 0);
    if (!x->streaming) {
        if (failed) {
            h->q = q;
            error_reply(x, h);
            h->q = NULL;
        } else {
            x->status = 200;
            x->ctype = content_type(h->fmt);
            lh_buf_reset(&x->body);
            if (h->ran_rows) {
                lh_buf_append(&x->body, h->pend.data ? h->pend.data : "",
                              h->pend.len);
            } else if (h->fmt == F_JSON) {
                lh_buf_puts(&x->body, "[]\n");
            }
            if (h->tag[0]) {
                lh_buf_printf(&x->hdrs, "Lakehouse-Command: %s\r\n", h->tag);
            }
        }
        query_end(s, q, st);
        lh__http_reply(x);
        return;
    }
    query_end(s, q, st);
    if (failed) {
        /* Rows went out already: cut the body short. */
        lh__srv_conn_close(c);
        lh__http_stream_end(x);
        return;
    }
    lh__http_stream_chunk(x, h->pend.data, h->pend.len);
    lh__http_stream_end(x);
}

void
lh__http_query_write(http_ctx *x)
{
    hq *h = x->query;
    if (h != NULL && h->want_write) {
        take(h);
    }
}

void
lh__http_query_close(http_ctx *x)
{
    hq *h = x->query;
    if (h == NULL) {
        return;
    }
    pthread_mutex_lock(&h->mu);
    h->abort = true;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    if (h->q != NULL) {
        lh_server *s = x->srv;
        pthread_mutex_lock(&s->q_mu);
        query_cancel_locked(h->q);
        pthread_mutex_unlock(&s->q_mu);
    }
}

void
lh__http_query_timer(http_ctx *x)
{
    hq *h = x->query;
    if (h == NULL || h->q == NULL) {
        return;
    }
    lh_server *s = x->srv;
    pthread_mutex_lock(&s->q_mu);
    atomic_store(&h->q->timed_out, true);
    query_cancel_locked(h->q);
    pthread_mutex_unlock(&s->q_mu);
}

void
lh__http_query_free(http_ctx *x)
{
    hq *h = x->query;
    if (h == NULL) {
        return;
    }
    if (h->q != NULL) { /* never submitted */
        query_end(x->srv, h->q, Q_FAILED);
    }
    json_decref(h->params);
    lh_free(h->sql);
    lh_buf_release(&h->pend);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    lh_free(h);
    x->query = NULL;
}

static void
bad_request(http_ctx *x, const char *field, const char *msg)
{
    lh_buf_reset(&x->body);
    lh_buf_printf(&x->body, ",\"field\":\"%s\"", field);
    lh__http_error(x, 400, msg);
    lh__http_reply(x);
}

void
lh__http_query(http_ctx *x, json_t *body)
{
    json_t *sql = json_object_get(body, "sql");
    json_t *params = json_object_get(body, "params");
    json_t *format = json_object_get(body, "format");
    q_format fmt = F_JSON;
    if (!json_is_string(sql)) {
        bad_request(x, "sql", "\"sql\" must be a string");
        return;
    }
    if (strlen(json_string_value(sql)) != json_string_length(sql)) {
        bad_request(x, "sql", "\"sql\" must not hold a zero byte");
        return;
    }
    if (params != NULL && !json_is_null(params) && !json_is_array(params) &&
        !json_is_object(params)) {
        bad_request(x, "params",
                    "\"params\" must be an array (for $1, $2 ...) or an "
                    "object (for :name)");
        return;
    }
    if (format != NULL && !json_is_null(format)) {
        const char *f = json_string_value(format);
        size_t k = 0;
        while (f != NULL && k < LH_ARRAY_LEN(format_names) &&
               strcmp(f, format_names[k]) != 0) {
            k++;
        }
        fmt = (q_format)k;
        if (f == NULL || k == LH_ARRAY_LEN(format_names)) {
            bad_request(x, "format",
                        "\"format\" must be \"json\", \"csv\", \"ndjson\" or "
                        "\"table\"");
            return;
        }
    }
    hq *h = lh_calloc(1, sizeof(*h));
    if (h == NULL) {
        lh__http_error(x, 503, "out of memory");
        lh__http_reply(x);
        return;
    }
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    lh_buf_init(&h->pend);
    x->query = h;
    h->x = x;
    h->fmt = fmt;
    h->sql = lh_strdup(json_string_value(sql));
    if (params != NULL && !json_is_null(params)) {
        h->params = json_incref(params);
    }
    lh_err err;
    h->q = h->sql ? query_new(x->srv, x->auth.name, h->sql, &err) : NULL;
    if (h->q == NULL) {
        lh__http_error(x, 503, "out of memory");
        lh__http_reply(x);
        return;
    }
    lh_buf_printf(&x->hdrs, "Lakehouse-Query-Id: %s\r\n", h->q->id);
    h->work.run = run_query;
    h->work.done = query_done;
    h->post.done = post_done;
    h->post.conn = x->c;
    lh__srv_conn_timer(x->c, x->srv->cfg.query_timeout / 1000);
    lh__srv_submit(x->c, &h->work);
}

/* ---- GET and DELETE /v1/queries/{id} ------------------------------------- */

void
lh__http_query_state(http_ctx *x, bool cancel)
{
    lh_server *s = x->srv;
    const char *id = x->seg[2];
    pthread_mutex_lock(&s->q_mu);
    srv_query *q = lh_map_get(&s->queries, id, strlen(id));
    if (q != NULL && x->auth.role != SRV_ROLE_ADMIN &&
        strcmp(q->owner, x->auth.name) != 0) {
        q = NULL; /* another token's query is not there for this one */
    }
    if (q == NULL) {
        pthread_mutex_unlock(&s->q_mu);
        char msg[200];
        snprintf(msg, sizeof(msg), "no query \"%.100s\"", id);
        lh__http_error(x, 404, msg);
        lh__http_reply(x);
        return;
    }
    int st = atomic_load(&q->state);
    bool canceled = false;
    if (cancel && st == Q_RUNNING) {
        query_cancel_locked(q);
        canceled = true;
    }
    lh_buf *b = &x->body;
    lh_us end = st == Q_RUNNING ? lh_mono_now() : q->ended;
    char ts[40];
    lh_time_format_iso(q->started_real, ts);
    lh_buf_puts(b, "{\"id\":");
    lh_buf_json_string(b, q->id, strlen(q->id));
    lh_buf_printf(b, ",\"state\":\"%s\"",
                  cancel && canceled ? "canceling" : state_names[st]);
    lh_buf_puts(b, ",\"sql\":");
    lh_buf_json_string(b, q->sql, strlen(q->sql));
    lh_buf_printf(b,
                  ",\"started_at\":\"%s\",\"elapsed_ms\":%lld,\"rows\":%llu,"
                  "\"bytes\":%llu,\"files_done\":null,\"files_total\":null",
                  ts, (long long)((end - q->started) / 1000),
                  (unsigned long long)atomic_load(&q->rows),
                  (unsigned long long)atomic_load(&q->bytes));
    if (q->error[0]) {
        lh_buf_puts(b, ",\"error\":");
        lh_buf_json_string(b, q->error, strlen(q->error));
    }
    lh_buf_puts(b, "}\n");
    pthread_mutex_unlock(&s->q_mu);
    x->status = canceled ? 202 : 200;
    x->ctype = "application/json";
    lh__http_reply(x);
}
