/*
 * The HTTP JSON API: routes, authorization, and the handlers. Every route
 * is in `routes` below and in docs/openapi.json (a test checks that the
 * two agree). Handlers that block run their work on the pool.
 */
/* OpenSSL's 1.1-era lhash macros (lh_free, lh_new...) would shadow ours. */
#define OPENSSL_NO_DEPRECATED
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/server_int.h"

/* ---- small helpers ------------------------------------------------------- */

static void
json_str(lh_buf *b, const char *s)
{
    lh_buf_json_string(b, s, strlen(s));
}

/* Appends a JSON document compactly (table definitions are stored
 * indented). */
static void
json_compact(lh_buf *b, const char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    char *c = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    lh_buf_puts(b, c ? c : json);
    free(c);
    json_decref(j);
}

/* A whole number parameter within [min, max], or def when absent. */
static bool
int_param(http_ctx *x, const char *name, int64_t def, int64_t min, int64_t max,
          int64_t *out)
{
    const char *v = lh__http_param(x, name);
    if (v == NULL || v[0] == 0) {
        *out = def;
        return true;
    }
    char *end;
    long long n = strtoll(v, &end, 10);
    if (*end != 0 || n < min || n > max) {
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "parameter \"%s\" must be a whole number from %lld to %lld, "
                 "found \"%.60s\"",
                 name, (long long)min, (long long)max, v);
        lh_buf_reset(&x->body);
        lh__http_error(x, 400, msg);
        lh__http_reply(x);
        return false;
    }
    *out = n;
    return true;
}

static bool
wants_ndjson(const http_ctx *x)
{
    const char *ct = lh__http_header(x->req, "Content-Type");
    if (ct == NULL) {
        return false;
    }
    static const char *const types[] = {
        "application/x-ndjson", "application/ndjson", "application/jsonl",
        "application/x-jsonlines"};
    for (size_t i = 0; i < LH_ARRAY_LEN(types); i++) {
        size_t n = strlen(types[i]);
        if (strncasecmp(ct, types[i], n) == 0 &&
            (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ')) {
            return true;
        }
    }
    return false;
}

static bool
accepts_sse(const http_ctx *x)
{
    const char *a = lh__http_header(x->req, "Accept");
    return a != NULL && strstr(a, "text/event-stream") != NULL;
}

/* The request body as a JSON object (any Content-Type), or a 400 reply. */
static json_t *
body_object(http_ctx *x)
{
    json_error_t je;
    json_t *j =
        json_loadb(x->req->body, x->req->body_len, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL || !json_is_object(j)) {
        char msg[300];
        if (j == NULL) {
            snprintf(msg, sizeof(msg),
                     "the body must be a JSON object: %s (line %d, column "
                     "%d)",
                     je.text, je.line, je.column);
        } else {
            snprintf(msg, sizeof(msg), "the body must be a JSON object");
        }
        json_decref(j);
        lh__http_error(x, 400, msg);
        lh__http_reply(x);
        return NULL;
    }
    return j;
}

/* ---- health, metrics, the API document ----------------------------------- */

static void
h_health(http_ctx *x)
{
    bool draining = lh__srv_draining(x->c);
    x->status = draining ? 503 : 200;
    lh_buf_printf(
        &x->body, "{\"status\":\"%s\",\"uptime_s\":%lld}\n",
        draining ? "stopping" : "ok",
        (long long)((lh_mono_now() - x->srv->started) / LH_US_PER_SEC));
    lh__http_reply(x);
}

static void
h_metrics(http_ctx *x)
{
    x->ctype = "text/plain; version=0.0.4; charset=utf-8";
    lh__metrics_render(x->srv, &x->body);
    lh__http_reply(x);
}

static void
h_openapi(http_ctx *x)
{
    lh_buf_append(&x->body, lh__openapi_json, lh__openapi_json_len);
    lh__http_reply(x);
}

/* ---- tables ----------------------------------------------------------------
 */

static void
h_tables(http_ctx *x)
{
    char **names = NULL;
    size_t n = 0;
    lh_err err;
    lh_rc rc = lh_table_list(x->srv->db, &names, &n, &err);
    if (rc != LH_OK) {
        lh__http_fail(x, rc, &err);
        lh__http_reply(x);
        return;
    }
    lh_buf_puts(&x->body, "{\"tables\":[");
    for (size_t i = 0; i < n; i++) {
        lh_buf_puts(&x->body, i ? ",{\"name\":" : "{\"name\":");
        json_str(&x->body, names[i]);
        lh_buf_putc(&x->body, '}');
    }
    lh_buf_puts(&x->body, "]}\n");
    lh_free_strings(names, n);
    lh__http_reply(x);
}

static void
run_table_create(srv_work *w)
{
    http_ctx *x = (http_ctx *)w;
    lh_err err;
    lh_rc rc =
        lh_table_create(x->srv->db, x->req->body, x->req->body_len, &err);
    if (rc != LH_OK) {
        lh__http_fail(x, rc, &err);
        return;
    }
    json_t *j = json_loadb(x->req->body, x->req->body_len, 0, NULL);
    const char *name = json_string_value(json_object_get(j, "name"));
    char *desc = NULL;
    rc = name ? lh_table_describe(x->srv->db, name, &desc, &err) : LH_EINVAL;
    if (rc == LH_OK) {
        x->status = 201;
        json_compact(&x->body, desc);
        lh_buf_putc(&x->body, '\n');
        lh_free_mem(desc);
    } else {
        lh__http_fail(x, rc, &err);
    }
    json_decref(j);
}

static void
h_table_create(http_ctx *x)
{
    lh__http_offload(x, run_table_create, lh__http_done_reply);
}

static void
run_table_get(srv_work *w)
{
    http_ctx *x = (http_ctx *)w;
    const char *t = x->seg[2];
    lh_err err;
    char *desc = NULL, *head = NULL;
    lh_table_stats st;
    lh_rc rc = lh_table_describe(x->srv->db, t, &desc, &err);
    if (rc == LH_OK) {
        rc = lh_table_stats_get(x->srv->db, t, LH_STATS_COUNT, &st, &err);
    }
    if (rc == LH_OK) {
        rc = lh_table_head(x->srv->db, t, &head, &err);
    }
    if (rc != LH_OK) {
        lh__http_fail(x, rc, &err);
    } else {
        lh_buf *b = &x->body;
        lh_buf_puts(b, "{\"name\":");
        json_str(b, t);
        lh_buf_puts(b, ",\"definition\":");
        json_compact(b, desc);
        lh_buf_printf(b, ",\"shards\":%d,\"checkpoint\":", (int)st.shards);
        json_str(b, head);
        lh_buf_printf(b,
                      ",\"tiers\":{\"hot\":{\"events\":%lld,\"bytes\":%lld}},"
                      "\"commits\":%llu}\n",
                      (long long)st.hot_events, (long long)st.hot_bytes,
                      (unsigned long long)st.commits);
    }
    lh_free_mem(desc);
    lh_free_mem(head);
}

static void
h_table_get(http_ctx *x)
{
    lh__http_offload(x, run_table_get, lh__http_done_reply);
}

/* DELETE /v1/tables/{table}: DROP TABLE (lh_table_drop: every tier). */
static void
run_table_drop(srv_work *w)
{
    http_ctx *x = (http_ctx *)w;
    lh_err err;
    lh_rc rc = lh_table_drop(x->srv->db, x->seg[2], &err);
    if (rc != LH_OK) {
        lh__http_fail(x, rc, &err);
        return;
    }
    lh_buf_puts(&x->body, "{\"dropped\":");
    json_str(&x->body, x->seg[2]);
    lh_buf_puts(&x->body, "}\n");
}

static void
h_table_drop(http_ctx *x)
{
    lh__http_offload(x, run_table_drop, lh__http_done_reply);
}

/* ---- append ---------------------------------------------------------------
 */

static void
ack_json(lh_buf *b, const lh_event_in *ev, const lh_event_ack *a)
{
    lh_buf_puts(b, "{\"event_id\":");
    json_str(b, a->event_id);
    lh_buf_puts(b, ",\"stream\":");
    json_str(b, ev->stream ? ev->stream : "");
    lh_buf_printf(b,
                  ",\"version\":%lld,\"position\":%lld,\"shard\":%d,"
                  "\"duplicate\":%s}",
                  (long long)a->version, (long long)a->position, (int)a->shard,
                  a->duplicate ? "true" : "false");
}

static void
run_append(srv_work *w)
{
    http_ctx *x = (http_ctx *)w;
    lh_server *s = x->srv;
    const char *table = x->seg[2];
    lh_us t0 = lh_mono_now();
    lh_event_batch b;
    lh_err err;
    lh_err_clear(&err);
    lh_rc rc =
        lh__event_batch_parse(x->req->body, x->req->body_len, wants_ndjson(x),
                              (size_t)s->cfg.max_events, &b, &err);
    lh_event_ack *acks = NULL;
    if (rc == LH_OK) {
        acks = lh_calloc(b.n, sizeof(*acks));
        if (acks == NULL) {
            rc = lh_err_set(&err, LH_ENOMEM, "out of memory");
        }
    }
    if (rc == LH_OK) {
        rc = lh_append(s->db, table, b.evs, b.n, NULL, acks, &err);
        atomic_fetch_add(&s->m.append_requests, 1);
        lh__hist_add(&s->m.append_latency, lh_mono_now() - t0);
        if (rc == LH_ECONFLICT) {
            atomic_fetch_add(&s->m.append_conflicts, 1);
        }
        /* The events acked: a failure in one shard leaves others' parts
         * committed. */
        uint64_t landed = 0;
        for (size_t i = 0; i < b.n; i++) {
            landed += acks[i].position > 0 && !acks[i].duplicate;
        }
        atomic_fetch_add(&s->m.events_appended, landed);
        /* Errors of lh_append name the event by index: say its line. */
        if (rc != LH_OK && err.index >= 0 && (size_t)err.index < b.n &&
            err.offset < 0) {
            int64_t line = b.lines[err.index];
            if (err.field[0] != 0 && (rc == LH_EINVAL || rc == LH_ECONFLICT)) {
                lh_err_prefix(&err, "line %lld: %s", (long long)line,
                              err.field);
            } else {
                lh_err_prefix(&err, "line %lld", (long long)line);
            }
            err.offset = line;
        }
    }
    if (rc == LH_OK) {
        lh_buf_puts(&x->body, "{\"acks\":[");
        for (size_t i = 0; i < b.n; i++) {
            if (i > 0) {
                lh_buf_putc(&x->body, ',');
            }
            ack_json(&x->body, &b.evs[i], &acks[i]);
        }
        lh_buf_puts(&x->body, "]}\n");
    } else {
        lh_buf *e = &x->body;
        lh_buf_reset(e);
        if (err.offset >= 0) {
            lh_buf_printf(e, ",\"line\":%lld", (long long)err.offset);
        }
        if (err.index >= 0) {
            lh_buf_printf(e, ",\"index\":%lld", (long long)err.index);
            if ((size_t)err.index < b.n && b.evs[err.index].stream != NULL) {
                lh_buf_puts(e, ",\"stream\":");
                json_str(e, b.evs[err.index].stream);
            }
        }
        if (err.field[0] != 0) {
            lh_buf_puts(e, ",\"field\":");
            json_str(e, err.field);
        }
        if (rc == LH_ECONFLICT && err.current_version >= 0) {
            lh_buf_printf(e, ",\"current_version\":%lld",
                          (long long)err.current_version);
        }
        bool any = false;
        for (size_t i = 0; acks != NULL && i < b.n; i++) {
            if (acks[i].position > 0) {
                lh_buf_puts(e, any ? "," : ",\"acks\":[");
                ack_json(e, &b.evs[i], &acks[i]);
                any = true;
            }
        }
        if (any) {
            lh_buf_putc(e, ']');
        }
        int status = lh__http_status_for(rc);
        if (rc == LH_ENOENT && err.index < 0) {
            status = 404;
        }
        lh__http_error(x, status, err.msg);
    }
    lh_free(acks);
    lh__event_batch_release(&b);
}

static void
h_append(http_ctx *x)
{
    lh__http_offload(x, run_append, lh__http_done_reply);
}

/* ---- one stream --------------------------------------------------------- */

typedef struct stream_args {
    int64_t from, limit;
    lh_direction dir;
} stream_args;

static void
run_stream(srv_work *w)
{
    http_ctx *x = (http_ctx *)w;
    stream_args *a = x->args;
    const char *table = x->seg[2], *stream = x->seg[4];
    lh_err err;
    int64_t version = 0;
    lh_rc rc = lh_stream_info(x->srv->db, table, stream, &version, NULL, &err);
    lh_reader *r = NULL;
    if (rc == LH_OK) {
        rc = lh_read_stream(x->srv->db, table, stream, a->from, a->dir,
                            a->limit, &r, &err);
    }
    lh_buf *b = &x->body;
    lh_buf_puts(b, "{\"stream\":");
    json_str(b, stream);
    lh_buf_printf(b, ",\"version\":%lld,\"events\":[", (long long)version);
    int64_t n = 0, last = 0;
    while (rc == LH_OK) {
        const lh_event *ev;
        rc = lh_reader_next(r, &ev, &err);
        if (rc != LH_OK || ev == NULL) {
            break;
        }
        if (n++ > 0) {
            lh_buf_putc(b, ',');
        }
        lh__event_to_json(ev, b);
        last = ev->version;
    }
    lh_reader_close(r);
    if (rc != LH_OK) {
        lh__http_fail(x, rc, &err);
        return;
    }
    int64_t next = a->dir == LH_FORWARD ? last + 1 : last - 1;
    if (n == a->limit && next >= 1) {
        lh_buf_printf(b, "],\"next\":%lld}\n", (long long)next);
    } else {
        lh_buf_puts(b, "],\"next\":null}\n");
    }
}

static void
h_stream(http_ctx *x)
{
    stream_args *a = lh_arena_calloc(&x->arena, sizeof(*a));
    const char *d = lh__http_param(x, "direction");
    if (a == NULL) {
        lh__http_error(x, 503, "out of memory");
        lh__http_reply(x);
        return;
    }
    if (d != NULL && strcmp(d, "forward") != 0 && strcmp(d, "backward") != 0) {
        lh__http_error(x, 400,
                       "parameter \"direction\" must be forward or "
                       "backward");
        lh__http_reply(x);
        return;
    }
    a->dir = d != NULL && strcmp(d, "backward") == 0 ? LH_BACKWARD : LH_FORWARD;
    if (!int_param(x, "from", a->dir == LH_BACKWARD ? -1 : 1, -1, INT64_MAX,
                   &a->from) ||
        !int_param(x, "limit", SRV_READ_BATCH, 1, SRV_READ_MAX, &a->limit)) {
        return;
    }
    x->args = a;
    lh__http_offload(x, run_stream, lh__http_done_reply);
}

/* ---- table-wide reads: long poll and Server-Sent Events ----------------- */

typedef struct live {
    char *table;
    lh_buf ck;
    int64_t limit;
    bool sse;
    bool waits;     /* may wait for commits (wait > 0, or SSE) */
    lh_us deadline; /* long poll: when to answer with nothing */
    uint64_t epoch; /* the watch's epoch before the read */
    bool reading;   /* a read is on the pool */
    bool paused;    /* SSE: waiting for the output to drain */
    bool stop;      /* end at the next chance (drain) */
    bool head_now;  /* after=now: start at the table's head */
    /* the read's results */
    lh_buf out;
    size_t count;
    lh_rc rc;
    lh_err err;
    lh_buf newck;
    srv_work work;
    http_ctx *x;
} live;

static bool is_live(const http_ctx *x);
static void
format_sse(lh_buf *b, const lh_event *ev)
{
    lh_buf_puts(b, "id: ");
    lh_buf_puts(b, ev->checkpoint);
    lh_buf_puts(b, "\ndata: ");
    lh__event_to_json(ev, b);
    lh_buf_puts(b, "\n\n");
}

static void
run_live_read(srv_work *w)
{
    live *v = (live *)((char *)w - offsetof(live, work));
    lh_server *s = w->conn->loop->srv;
    lh_buf_reset(&v->out);
    lh_buf_reset(&v->newck);
    v->count = 0;
    lh_err_clear(&v->err);
    v->rc = LH_OK;
    if (v->head_now) {
        char *head = NULL;
        v->rc = lh_table_head(s->db, v->table, &head, &v->err);
        if (v->rc != LH_OK) {
            return;
        }
        lh_buf_reset(&v->ck);
        lh_buf_puts(&v->ck, head);
        lh_free_mem(head);
        v->head_now = false;
        if (!v->waits) {
            /* Nothing can be after the head yet: no read needed. */
            lh_buf_puts(&v->newck, v->ck.data);
            return;
        }
    }
    lh_reader *r = NULL;
    v->rc = lh_read_all(s->db, v->table, v->ck.data, false, &r, &v->err);
    while (v->rc == LH_OK && v->count < (size_t)v->limit) {
        const lh_event *ev;
        v->rc = lh_reader_next(r, &ev, &v->err);
        if (v->rc != LH_OK || ev == NULL) {
            break;
        }
        if (v->sse) {
            format_sse(&v->out, ev);
        } else {
            if (v->count > 0) {
                lh_buf_putc(&v->out, ',');
            }
            lh__event_to_json(ev, &v->out);
        }
        v->count++;
    }
    if (v->rc == LH_OK) {
        const char *ck = lh_reader_checkpoint(r);
        lh_buf_puts(&v->newck, ck ? ck : v->ck.data);
    }
    lh_reader_close(r);
    if (v->rc == LH_OK && !lh_buf_ok(&v->out)) {
        v->rc = lh_err_set(&v->err, LH_ENOMEM, "out of memory");
    }
}

static void live_done(srv_work *w);

static void
live_read(http_ctx *x)
{
    live *v = x->live;
    if (v->waits) {
        lh_err err;
        lh_rc rc = lh__srv_watch_epoch(x->srv, v->table, &v->epoch, &err);
        if (rc != LH_OK) {
            v->waits = false;
        }
    }
    v->reading = true;
    v->work.run = run_live_read;
    v->work.done = live_done;
    lh__srv_submit(x->c, &v->work);
}

/* The long poll's answer: what was read (maybe nothing), and where to go
 * on from. */
static void
poll_reply(http_ctx *x)
{
    live *v = x->live;
    lh__srv_unwait(x->c);
    lh__srv_conn_timer(x->c, 0);
    lh_buf_reset(&x->body);
    lh_buf_puts(&x->body, "{\"events\":[");
    lh_buf_append(&x->body, v->out.data ? v->out.data : "", v->out.len);
    lh_buf_puts(&x->body, "],\"checkpoint\":");
    json_str(&x->body, v->newck.len ? v->newck.data : v->ck.data);
    lh_buf_puts(&x->body, "}\n");
    x->status = 200;
    lh__http_reply(x);
}

static void
live_wait(http_ctx *x)
{
    live *v = x->live;
    lh_err err;
    if (lh__srv_wait_table(x->c, v->table, v->epoch, &err) != LH_OK) {
        if (!v->sse) {
            poll_reply(x);
        } else {
            lh__http_stream_end(x);
        }
        return;
    }
    if (!v->sse) {
        lh_us left = v->deadline - lh_mono_now();
        lh__srv_conn_timer(x->c, LH_MAX(left / 1000, 1));
    }
}

static void
live_done(srv_work *w)
{
    live *v = (live *)((char *)w - offsetof(live, work));
    srv_conn *c = w->conn;
    /* The request is not ended while its read is on the pool. */
    http_ctx *x = v->x;
    v->reading = false;
    if (c->closed) {
        lh__http_stream_end(x); /* ends the request; nothing is written */
        return;
    }
    if (w->failed) {
        v->rc = lh_err_set(&v->err, LH_ECANCELED, "the server is stopping");
    }
    if (v->rc != LH_OK) {
        if (x->streaming) {
            lh__http_stream_end(x);
        } else {
            lh__http_fail(x, v->rc, &v->err);
            lh__http_reply(x);
        }
        return;
    }
    if (!v->sse) {
        if (v->count > 0 || !v->waits || v->stop || lh__srv_draining(c) ||
            lh_mono_now() >= v->deadline) {
            poll_reply(x);
            return;
        }
        live_wait(x);
        return;
    }
    if (!x->streaming) {
        x->ctype = "text/event-stream";
        lh_buf_puts(&x->hdrs, "Cache-Control: no-cache\r\n");
        lh__http_stream_begin(x);
        static const char retry[] = "retry: 1000\n\n";
        lh__http_stream_chunk(x, retry, sizeof(retry) - 1);
        c->busy = false; /* a stream ends when its client goes */
    }
    if (c->peer_eof) {
        lh__http_stream_end(x); /* it went while the first read ran */
        return;
    }
    lh__http_stream_chunk(x, v->out.data, v->out.len);
    lh_buf_reset(&v->ck);
    lh_buf_puts(&v->ck, v->newck.data);
    if (v->stop || lh__srv_draining(c)) {
        lh__http_stream_end(x);
        return;
    }
    lh__srv_conn_timer(c, SRV_SSE_PING_MS);
    if (v->count == (size_t)v->limit) {
        /* More may be there: go on once the client keeps up. */
        if (lh__srv_conn_pending(c) > SRV_OUT_HIGH) {
            v->paused = true;
        } else {
            live_read(x);
        }
        return;
    }
    live_wait(x);
}

static void
h_events(http_ctx *x)
{
    int64_t limit, wait_s;
    if (!int_param(x, "limit", SRV_READ_BATCH, 1, SRV_READ_MAX, &limit) ||
        !int_param(x, "wait", 30, 0, 3600, &wait_s)) {
        return;
    }
    live *v = lh_calloc(1, sizeof(*v));
    if (v == NULL) {
        lh__http_error(x, 503, "out of memory");
        lh__http_reply(x);
        return;
    }
    lh_buf_init(&v->ck);
    lh_buf_init(&v->out);
    lh_buf_init(&v->newck);
    x->live = v;
    v->x = x;
    v->table = lh_strdup(x->seg[2]);
    v->sse = accepts_sse(x);
    const char *after = lh__http_param(x, "after");
    const char *last_id = lh__http_header(x->req, "Last-Event-ID");
    if (v->sse && last_id != NULL && last_id[0] != 0) {
        after = last_id; /* an EventSource reconnecting */
    }
    if (after == NULL || after[0] == 0) {
        after = "0";
    }
    v->head_now = strcmp(after, "now") == 0;
    lh_buf_puts(&v->ck, v->head_now ? "0" : after);
    v->limit = limit;
    lh_us max = x->srv->cfg.long_poll_max;
    lh_us wait = LH_MIN(wait_s * LH_US_PER_SEC, max);
    v->waits = v->sse || wait > 0;
    v->deadline = lh_mono_now() + wait;
    if (v->table == NULL || !lh_buf_ok(&v->ck)) {
        lh__http_error(x, 503, "out of memory");
        lh__http_reply(x);
        return;
    }
    live_read(x);
}

static bool
is_live(const http_ctx *x)
{
    return x->live != NULL;
}

void
lh__http_live_timer(http_ctx *x)
{
    if (!is_live(x)) {
        return;
    }
    live *v = x->live;
    if (v->reading) {
        return;
    }
    if (!v->sse) {
        poll_reply(x);
        return;
    }
    static const char ping[] = ":\n\n";
    lh__http_stream_chunk(x, ping, sizeof(ping) - 1);
    lh__srv_conn_timer(x->c, SRV_SSE_PING_MS);
}

void
lh__http_live_wake(http_ctx *x)
{
    if (!is_live(x)) {
        return;
    }
    live *v = x->live;
    if (!v->reading && !v->paused) {
        live_read(x);
    }
}

void
lh__http_live_write(http_ctx *x)
{
    if (!is_live(x)) {
        return;
    }
    live *v = x->live;
    if (v->paused && !v->reading) {
        v->paused = false;
        live_read(x);
    }
}

void
lh__http_live_drain(http_ctx *x)
{
    if (!is_live(x)) {
        return;
    }
    live *v = x->live;
    v->stop = true;
    if (v->reading) {
        return; /* its done ends the request */
    }
    if (v->sse && x->streaming) {
        lh__srv_unwait(x->c);
        lh__http_stream_end(x);
    } else if (!v->sse) {
        poll_reply(x);
    }
}

void
lh__http_live_free(http_ctx *x)
{
    if (!is_live(x)) {
        return;
    }
    live *v = x->live;
    lh__srv_unwait(x->c);
    lh_free(v->table);
    lh_buf_release(&v->ck);
    lh_buf_release(&v->out);
    lh_buf_release(&v->newck);
    lh_free(v);
    x->live = NULL;
}

/* ---- queries (http_query.c) ---------------------------------------------
 */

static void
h_query(http_ctx *x)
{
    json_t *j = body_object(x);
    if (j == NULL) {
        return;
    }
    lh__http_query(x, j);
    json_decref(j);
}

static void
h_query_get(http_ctx *x)
{
    lh__http_query_state(x, false);
}

static void
h_query_cancel(http_ctx *x)
{
    lh__http_query_state(x, true);
}

/* ---- tokens ----------------------------------------------------------------
 */

static void
h_tokens(http_ctx *x)
{
    lh_buf_puts(&x->body, "{\"tokens\":");
    lh__tokens_list_json(x->srv->tokens, &x->body);
    lh_buf_puts(&x->body, "}\n");
    lh__http_reply(x);
}

static void
run_token_create(srv_work *w)
{
    http_ctx *x = (http_ctx *)w;
    json_t *j = json_loadb(x->req->body, x->req->body_len, 0, NULL);
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *role = json_string_value(json_object_get(j, "role"));
    lh_err err;
    char *token = NULL;
    lh_rc rc;
    if (name == NULL || role == NULL) {
        lh_buf_puts(&x->body, name == NULL ? ",\"field\":\"name\""
                                           : ",\"field\":\"role\"");
        rc = lh_err_set(&err, LH_EINVAL,
                        "the body must be {\"name\": ..., \"role\": "
                        "\"admin\"|\"writer\"|\"reader\"}");
        lh__http_error(x, 400, err.msg);
    } else {
        rc = lh__tokens_create(x->srv->tokens, name, role, &token, &err);
        if (rc != LH_OK) {
            lh__http_fail(x, rc, &err);
        } else {
            x->status = 201;
            lh_buf_puts(&x->body, "{\"name\":");
            json_str(&x->body, name);
            lh_buf_puts(&x->body, ",\"role\":");
            json_str(&x->body, role);
            lh_buf_puts(&x->body, ",\"token\":");
            json_str(&x->body, token);
            lh_buf_puts(&x->body, "}\n");
        }
    }
    if (token != NULL) {
        memset(token, 0, strlen(token));
        lh_free(token);
    }
    json_decref(j);
}

static void
h_token_create(http_ctx *x)
{
    json_t *j = body_object(x);
    if (j == NULL) {
        return;
    }
    json_decref(j);
    lh__http_offload(x, run_token_create, lh__http_done_reply);
}

static void
run_token_revoke(srv_work *w)
{
    http_ctx *x = (http_ctx *)w;
    lh_err err;
    lh_rc rc = lh__tokens_revoke(x->srv->tokens, x->seg[2], &err);
    if (rc != LH_OK) {
        lh__http_fail(x, rc, &err);
        return;
    }
    lh_buf_puts(&x->body, "{\"revoked\":");
    json_str(&x->body, x->seg[2]);
    lh_buf_puts(&x->body, "}\n");
}

static void
h_token_revoke(http_ctx *x)
{
    lh__http_offload(x, run_token_revoke, lh__http_done_reply);
}

/* ---- routing --------------------------------------------------------------
 */

typedef struct route {
    lh_http_route r;
    srv_role role; /* SRV_ROLE_NONE: open to anyone */
    http_handler fn;
} route;

static const route routes[] = {
    {{"GET", "/healthz"}, SRV_ROLE_NONE, h_health},
    {{"GET", "/metrics"}, SRV_ROLE_READER, h_metrics},
    {{"GET", "/v1/openapi.json"}, SRV_ROLE_NONE, h_openapi},
    {{"GET", "/v1/tables"}, SRV_ROLE_READER, h_tables},
    {{"POST", "/v1/tables"}, SRV_ROLE_ADMIN, h_table_create},
    {{"GET", "/v1/tables/{table}"}, SRV_ROLE_READER, h_table_get},
    {{"DELETE", "/v1/tables/{table}"}, SRV_ROLE_ADMIN, h_table_drop},
    {{"POST", "/v1/tables/{table}/events"}, SRV_ROLE_WRITER, h_append},
    {{"GET", "/v1/tables/{table}/events"}, SRV_ROLE_READER, h_events},
    {{"GET", "/v1/tables/{table}/streams/{stream}"}, SRV_ROLE_READER, h_stream},
    {{"POST", "/v1/query"}, SRV_ROLE_READER, h_query},
    {{"GET", "/v1/queries/{id}"}, SRV_ROLE_READER, h_query_get},
    {{"DELETE", "/v1/queries/{id}"}, SRV_ROLE_READER, h_query_cancel},
    {{"GET", "/v1/tokens"}, SRV_ROLE_ADMIN, h_tokens},
    {{"POST", "/v1/tokens"}, SRV_ROLE_ADMIN, h_token_create},
    {{"DELETE", "/v1/tokens/{name}"}, SRV_ROLE_ADMIN, h_token_revoke},
};

static lh_http_route route_list[LH_ARRAY_LEN(routes)];

const lh_http_route *
lh__http_routes(size_t *n)
{
    for (size_t i = 0; i < LH_ARRAY_LEN(routes); i++) {
        route_list[i] = routes[i].r;
    }
    *n = LH_ARRAY_LEN(routes);
    return route_list;
}

static bool
path_matches(const char *tmpl, char *const *seg, int nseg)
{
    int i = 0;
    const char *p = tmpl + 1;
    while (*p != 0) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (i >= nseg) {
            return false;
        }
        if (p[0] != '{' && (strlen(seg[i]) != n || memcmp(seg[i], p, n) != 0)) {
            return false;
        }
        i++;
        p += n + (e != NULL);
    }
    return i == nseg;
}

/* The route for x, or NULL with the status (404, 405) and Allow list. */
static const route *
find_route(http_ctx *x, int *status, char *allow, size_t cap)
{
    const char *m = x->req->method;
    if (strcmp(m, "HEAD") == 0) {
        m = "GET";
    }
    allow[0] = 0;
    bool path_found = false;
    for (size_t i = 0; i < LH_ARRAY_LEN(routes); i++) {
        if (!path_matches(routes[i].r.path, x->seg, x->nseg)) {
            continue;
        }
        if (strcmp(routes[i].r.method, m) == 0) {
            return &routes[i];
        }
        path_found = true;
        size_t used = strlen(allow);
        snprintf(allow + used, cap - used, "%s%s", used ? ", " : "",
                 routes[i].r.method);
    }
    *status = path_found ? 405 : 404;
    return NULL;
}

/* Authorization: 0, or 401/403 with a message. */
static int
authorize(http_ctx *x, const route *r, char *msg, size_t cap)
{
    lh_server *s = x->srv;
    bool required = lh__tokens_count(s->tokens) > 0 ||
                    (!s->loopback_only && !s->cfg.insecure_no_auth);
    if (!required) {
        x->auth.role = SRV_ROLE_ADMIN;
        return 0;
    }
    const char *h = lh__http_header(x->req, "Authorization");
    srv_role role = SRV_ROLE_NONE;
    if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0) {
        const char *t = h + 7;
        while (*t == ' ') {
            t++;
        }
        role =
            lh__tokens_check(s->tokens, t, x->auth.name, sizeof(x->auth.name));
    }
    x->auth.role = role;
    if (r->role == SRV_ROLE_NONE) {
        return 0;
    }
    if (role == SRV_ROLE_NONE) {
        atomic_fetch_add(&s->m.auth_failures, 1);
        snprintf(msg, cap, "%s",
                 h == NULL ? "this server requires a token: send "
                             "Authorization: Bearer TOKEN"
                           : "the token is not valid");
        return 401;
    }
    if (role < r->role) {
        snprintf(msg, cap,
                 "token \"%s\" (role %s) may not %s %s; it needs "
                 "role %s",
                 x->auth.name, lh__role_name(role), r->r.method, r->r.path,
                 lh__role_name(r->role));
        return 403;
    }
    return 0;
}

int
lh__http_precheck(http_ctx *x, char *msg, size_t cap)
{
    int status = 0;
    char allow[64];
    const route *r = find_route(x, &status, allow, sizeof(allow));
    if (r == NULL) {
        snprintf(msg, cap,
                 status == 404 ? "no such resource" : "method not allowed");
        return status;
    }
    return authorize(x, r, msg, cap);
}

void
lh__http_dispatch(http_ctx *x)
{
    int status = 0;
    char allow[64], msg[300];
    const route *r = find_route(x, &status, allow, sizeof(allow));
    if (r == NULL) {
        if (status == 405) {
            lh_buf_printf(&x->hdrs, "Allow: %s\r\n", allow);
            snprintf(msg, sizeof(msg), "%s is not allowed here; allowed: %s",
                     x->req->method, allow);
        } else {
            snprintf(msg, sizeof(msg), "no such resource: %.200s",
                     x->req->target);
        }
        lh__http_error(x, status, msg);
        lh__http_reply(x);
        return;
    }
    status = authorize(x, r, msg, sizeof(msg));
    if (status != 0) {
        if (status == 401) {
            lh_buf_puts(&x->hdrs,
                        "WWW-Authenticate: Bearer realm=\"lakehouse\"\r\n");
        }
        lh__http_error(x, status, msg);
        lh__http_reply(x);
        return;
    }
    r->fn(x);
}
