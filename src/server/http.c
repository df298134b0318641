/*
 * HTTP/1.1 connections: reading requests through the parser (with the
 * head and body deadlines of server_int.h), one request at a time
 * (pipelined ones wait in the input buffer), replies with a length or
 * chunked, keep-alive, and the errors the parser finds.
 */
/* OpenSSL's 1.1-era lhash macros (lh_free, lh_new...) would shadow ours. */
#define OPENSSL_NO_DEPRECATED
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "server/server_int.h"

enum {
    H_IDLE, /* between requests */
    H_HEAD, /* part of a head arrived */
    H_BODY, /* reading a body */
    H_BUSY, /* a handler runs or streams */
};

typedef struct http_conn {
    lh_http_parser p;
    int phase;
    http_ctx *cur;
} http_conn;

static const char refusal[] =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 74\r\n"
    "Connection: close\r\n"
    "Retry-After: 1\r\n"
    "\r\n"
    "{\"error\":\"unavailable\",\"message\":\"too many connections; try again "
    "later\"}\n";

static const char *
reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    case 507:
        return "Insufficient Storage";
    default:
        return "Unknown";
    }
}

static const char *
error_kind(int status)
{
    switch (status) {
    case 400:
        return "bad_request";
    case 401:
        return "unauthorized";
    case 403:
        return "forbidden";
    case 404:
        return "not_found";
    case 405:
        return "method_not_allowed";
    case 408:
        return "timeout";
    case 409:
        return "conflict";
    case 413:
        return "too_large";
    case 414:
    case 431:
        return "header_too_large";
    case 501:
        return "not_implemented";
    case 503:
        return "unavailable";
    case 504:
        return "timeout";
    case 505:
        return "version_not_supported";
    case 507:
        return "insufficient_storage";
    default:
        return status >= 500 ? "internal" : "bad_request";
    }
}

int
lh__http_status_for(lh_rc rc)
{
    switch (rc) {
    case LH_OK:
        return 200;
    case LH_EINVAL:
        return 400;
    case LH_ENOENT:
        return 404;
    case LH_EEXIST:
    case LH_ECONFLICT:
        return 409;
    case LH_ELIMIT:
        return 413;
    case LH_EREADONLY:
        return 403;
    case LH_ENOSPC:
        return 507;
    case LH_ENOMEM:
    case LH_ELOCKED:
    case LH_ECANCELED:
        return 503;
    case LH_ETIMEDOUT:
        return 504;
    case LH_EUNSUPPORTED:
        return 501;
    default:
        return 500;
    }
}

/* ---- requests ------------------------------------------------------------ */

static void
ctx_free(http_ctx *x)
{
    if (x == NULL) {
        return;
    }
    lh__http_live_free(x);
    lh__http_query_free(x);
    lh_buf_release(&x->body);
    lh_buf_release(&x->hdrs);
    lh_arena_release(&x->arena);
    lh_free(x);
}

static void http_on_read(srv_conn *c);

/* The request is answered: account for it, then read the next one or
 * close. */
static void
end_request(srv_conn *c)
{
    http_conn *h = c->state;
    http_ctx *x = h->cur;
    lh_server *s = c->loop->srv;
    bool keep = x != NULL && x->req->keep_alive && !x->streaming;
    if (x != NULL) {
        int cls = x->status / 100;
        atomic_fetch_add(&s->m.http_requests[cls >= 1 && cls <= 5 ? cls : 0],
                         1);
        lh__hist_add(&s->m.http_latency, lh_mono_now() - x->start);
        if (x->streaming && x->chunked && x->req->keep_alive) {
            keep = true; /* a chunked stream ended properly */
        }
    }
    h->cur = NULL;
    ctx_free(x);
    c->busy = false;
    if (c->closed) {
        return;
    }
    if (!keep || c->peer_eof || lh__srv_draining(c)) {
        lh__srv_conn_close_flushed(c);
        return;
    }
    lh__http_parser_reset(&h->p);
    h->phase = H_IDLE;
    lh__srv_conn_timer(c, s->cfg.idle_timeout / 1000);
    http_on_read(c); /* a pipelined request may be waiting */
}

static void
write_head(http_ctx *x, size_t len, bool chunked, bool close)
{
    lh_buf h = LH_BUF_INIT;
    lh_buf_printf(&h, "HTTP/1.%d %d %s\r\nServer: lakehouse\r\n",
                  x->req->minor >= 1 ? 1 : 0, x->status, reason(x->status));
    if (x->ctype != NULL) {
        lh_buf_printf(&h, "Content-Type: %s\r\n", x->ctype);
    }
    if (chunked) {
        lh_buf_puts(&h, "Transfer-Encoding: chunked\r\n");
    } else if (len != (size_t)-1) {
        lh_buf_printf(&h, "Content-Length: %zu\r\n", len);
    }
    if (close) {
        lh_buf_puts(&h, "Connection: close\r\n");
    } else if (x->req->minor == 0) {
        lh_buf_puts(&h, "Connection: keep-alive\r\n");
    }
    if (x->hdrs.len > 0) {
        lh_buf_append(&h, x->hdrs.data, x->hdrs.len);
    }
    lh_buf_puts(&h, "\r\n");
    if (lh_buf_ok(&h)) {
        lh__srv_conn_write(x->c, h.data, h.len);
    }
    lh_buf_release(&h);
}

static bool
must_close(const http_ctx *x)
{
    return !x->req->keep_alive || x->c->peer_eof || lh__srv_draining(x->c);
}

void
lh__http_reply(http_ctx *x)
{
    srv_conn *c = x->c;
    if (!c->closed) {
        if (!lh_buf_ok(&x->body)) {
            lh_buf_reset(&x->body);
            x->body.oom = false;
            x->status = 503;
            x->ctype = "application/json";
            lh_buf_puts(&x->body,
                        "{\"error\":\"unavailable\",\"message\":\"out of "
                        "memory\"}\n");
        }
        write_head(x, x->body.len, false, must_close(x));
        if (!x->head) {
            lh__srv_conn_write(c, x->body.data, x->body.len);
        }
    }
    end_request(c);
}

static void
error_body(lh_buf *b, int status, const char *msg, const char *extra,
           size_t extra_len)
{
    lh_buf_printf(b, "{\"error\":\"%s\",\"message\":", error_kind(status));
    lh_buf_json_string(b, msg, strlen(msg));
    if (extra_len > 0) {
        lh_buf_append(b, extra, extra_len);
    }
    lh_buf_puts(b, "}\n");
}

void
lh__http_error(http_ctx *x, int status, const char *msg)
{
    lh_buf extra = x->body;
    lh_buf_init(&x->body);
    x->status = status;
    x->ctype = "application/json";
    error_body(&x->body, status, msg, extra.data, extra.len);
    lh_buf_release(&extra);
}

void
lh__http_fail(http_ctx *x, lh_rc rc, const lh_err *err)
{
    lh_buf_reset(&x->body);
    if (err->field[0] != 0) {
        lh_buf_puts(&x->body, ",\"field\":");
        lh_buf_json_string(&x->body, err->field, strlen(err->field));
    }
    if (rc == LH_ECONFLICT && err->current_version >= 0) {
        lh_buf_printf(&x->body, ",\"current_version\":%lld",
                      (long long)err->current_version);
    }
    lh__http_error(x, lh__http_status_for(rc), err->msg);
}

void
lh__http_stream_begin(http_ctx *x)
{
    x->streaming = true;
    x->chunked = x->req->minor >= 1;
    write_head(x, (size_t)-1, x->chunked, !x->chunked);
}

void
lh__http_stream_chunk(http_ctx *x, const void *p, size_t n)
{
    if (n == 0 || x->c->closed) {
        return;
    }
    if (x->chunked) {
        char len[24];
        int k = snprintf(len, sizeof(len), "%zx\r\n", n);
        lh__srv_conn_write(x->c, len, (size_t)k);
        lh__srv_conn_write(x->c, p, n);
        lh__srv_conn_write(x->c, "\r\n", 2);
    } else {
        lh__srv_conn_write(x->c, p, n);
    }
}

void
lh__http_stream_end(http_ctx *x)
{
    srv_conn *c = x->c;
    if (!c->closed && x->chunked) {
        lh__srv_conn_write(c, "0\r\n\r\n", 5);
    }
    end_request(c);
}

void
lh__http_done_reply(srv_work *w)
{
    http_ctx *x = (http_ctx *)w;
    if (w->failed) {
        lh_buf_reset(&x->body);
        lh__http_error(x, 503, "the server is stopping");
    }
    lh__http_reply(x);
}

void
lh__http_offload(http_ctx *x, void (*fn)(srv_work *w),
                 void (*done)(srv_work *w))
{
    x->work.run = fn;
    x->work.done = done;
    lh__srv_submit(x->c, &x->work);
}

const char *
lh__http_param(const http_ctx *x, const char *name)
{
    for (int i = 0; i < x->nq; i++) {
        if (strcmp(x->qk[i], name) == 0) {
            return x->qv[i];
        }
    }
    return NULL;
}

/* Splits the target into decoded path segments and query parameters. */
static bool
split_target(http_ctx *x, char *msg, size_t cap)
{
    const char *t = x->req->target;
    if (t[0] != '/') {
        snprintf(msg, cap, "the request target must be a path");
        return false;
    }
    const char *q = strchr(t, '?');
    size_t plen = q ? (size_t)(q - t) : strlen(t);
    size_t i = 1;
    while (i <= plen) {
        size_t e = i;
        while (e < plen && t[e] != '/') {
            e++;
        }
        if (e > i || e < plen) {
            if (x->nseg == (int)LH_ARRAY_LEN(x->seg)) {
                snprintf(msg, cap, "the path has too many segments");
                return false;
            }
            char *d = lh_arena_alloc(&x->arena, e - i + 1);
            if (d == NULL ||
                !lh__url_decode(t + i, e - i, false, d, e - i + 1)) {
                snprintf(msg, cap, "malformed percent-encoding in the path");
                return false;
            }
            x->seg[x->nseg++] = d;
        }
        i = e + 1;
    }
    if (q == NULL) {
        return true;
    }
    q++;
    size_t n = 1;
    for (const char *p = q; *p; p++) {
        n += *p == '&';
    }
    x->qk = lh_arena_alloc(&x->arena, n * sizeof(char *));
    x->qv = lh_arena_alloc(&x->arena, n * sizeof(char *));
    if (x->qk == NULL || x->qv == NULL) {
        snprintf(msg, cap, "out of memory");
        return false;
    }
    while (*q != 0) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        size_t kl = eq ? (size_t)(eq - q) : len;
        size_t vl = eq ? len - kl - 1 : 0;
        if (len > 0) {
            char *k = lh_arena_alloc(&x->arena, kl + 1);
            char *v = lh_arena_alloc(&x->arena, vl + 1);
            if (k == NULL || v == NULL ||
                !lh__url_decode(q, kl, true, k, kl + 1) ||
                !lh__url_decode(eq ? eq + 1 : q, vl, true, v, vl + 1)) {
                snprintf(msg, cap, "malformed query string");
                return false;
            }
            x->qk[x->nq] = k;
            x->qv[x->nq] = v;
            x->nq++;
        }
        q += len + (amp != NULL);
    }
    return true;
}

static http_ctx *
ctx_new(srv_conn *c)
{
    http_conn *h = c->state;
    http_ctx *x = lh_calloc(1, sizeof(*x));
    if (x == NULL) {
        return NULL;
    }
    x->c = c;
    x->srv = c->loop->srv;
    x->req = &h->p.req;
    x->start = lh_mono_now();
    lh_arena_init(&x->arena, 0);
    lh_buf_init(&x->body);
    lh_buf_init(&x->hdrs);
    x->ctype = "application/json";
    x->status = 200;
    return x;
}

/* A reply written straight to the connection (no request context), then
 * the connection closes: parser errors, timeouts, out of memory. */
static void
reply_and_close(srv_conn *c, int status, const char *msg)
{
    lh_buf b = LH_BUF_INIT, h = LH_BUF_INIT;
    error_body(&b, status, msg, NULL, 0);
    lh_buf_printf(&h,
                  "HTTP/1.1 %d %s\r\nServer: lakehouse\r\nContent-Type: "
                  "application/json\r\nContent-Length: %zu\r\nConnection: "
                  "close\r\n\r\n",
                  status, reason(status), b.len);
    if (lh_buf_ok(&b) && lh_buf_ok(&h)) {
        lh__srv_conn_write(c, h.data, h.len);
        lh__srv_conn_write(c, b.data, b.len);
    }
    lh_buf_release(&b);
    lh_buf_release(&h);
    atomic_fetch_add(&c->loop->srv->m.conns_dropped, 1);
    lh__srv_conn_close_flushed(c);
}

static void
got_head(srv_conn *c)
{
    http_conn *h = c->state;
    lh_server *s = c->loop->srv;
    h->phase = H_BODY;
    lh__srv_conn_timer(c, s->cfg.idle_timeout / 1000);
    const lh_http_req *r = &h->p.req;
    if (!r->expect_continue) {
        return;
    }
    /* Refuse before the client sends a body we would not take. */
    http_ctx *x = ctx_new(c);
    char msg[200];
    int st = 503;
    snprintf(msg, sizeof(msg), "out of memory");
    if (x != NULL) {
        st = split_target(x, msg, sizeof(msg))
                 ? lh__http_precheck(x, msg, sizeof(msg))
                 : 400;
    }
    if (st == 0) {
        ctx_free(x);
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        lh__srv_conn_write(c, cont, sizeof(cont) - 1);
        return;
    }
    if (x == NULL) {
        reply_and_close(c, st, msg);
        return;
    }
    /* The reply closes the connection: the body is never read. */
    h->phase = H_BUSY;
    c->busy = true;
    h->cur = x;
    h->p.req.keep_alive = false;
    lh__http_error(x, st, msg);
    if (st == 401) {
        lh_buf_puts(&x->hdrs,
                    "WWW-Authenticate: Bearer realm=\"lakehouse\"\r\n");
    }
    lh__http_reply(x);
}

static void
got_request(srv_conn *c)
{
    http_conn *h = c->state;
    h->phase = H_BUSY;
    c->busy = true;
    lh__srv_conn_timer(c, 0);
    http_ctx *x = ctx_new(c);
    if (x == NULL) {
        reply_and_close(c, 503, "out of memory");
        return;
    }
    h->cur = x;
    x->head = strcmp(x->req->method, "HEAD") == 0;
    char msg[200];
    if (!split_target(x, msg, sizeof(msg))) {
        lh__http_error(x, 400, msg);
        lh__http_reply(x);
        return;
    }
    lh__http_dispatch(x);
}

static void
http_on_read(srv_conn *c)
{
    http_conn *h = c->state;
    lh_server *s = c->loop->srv;
    while (!c->closed && c->bev != NULL && h->phase != H_BUSY &&
           !c->close_when_flushed) {
        struct evbuffer *in = bufferevent_get_input(c->bev);
        struct evbuffer_iovec v;
        size_t avail = evbuffer_get_length(in);
        const char *data = NULL;
        size_t len = 0;
        if (avail > 0 && evbuffer_peek(in, -1, NULL, &v, 1) >= 1) {
            data = v.iov_base;
            len = v.iov_len;
        }
        if (len == 0 && h->phase != H_BODY) {
            break;
        }
        if (h->phase == H_IDLE) {
            h->phase = H_HEAD;
            lh__srv_conn_timer(c, s->cfg.header_timeout / 1000);
        }
        size_t used = 0;
        lh_http_status st = lh__http_parse(&h->p, data, len, &used);
        evbuffer_drain(in, used);
        if (st == LH_HTTP_ERROR) {
            reply_and_close(c, h->p.status, h->p.error);
            return;
        }
        if (st == LH_HTTP_HEAD) {
            got_head(c);
            continue; /* the body (or its absence) comes next */
        }
        if (st == LH_HTTP_DONE) {
            got_request(c);
            continue;
        }
        if (len == 0) {
            break;
        }
    }
    if (!c->closed && h->phase == H_BODY) {
        lh__srv_conn_timer(c, s->cfg.idle_timeout / 1000);
    }
    if (!c->closed && c->peer_eof && h->phase != H_BUSY) {
        lh__srv_conn_close_flushed(c);
    }
}

static lh_rc
http_open(srv_conn *c)
{
    http_conn *h = lh_calloc(1, sizeof(*h));
    if (h == NULL) {
        return LH_ENOMEM;
    }
    lh_server *s = c->loop->srv;
    lh__http_parser_init(&h->p, (size_t)s->cfg.max_header,
                         (size_t)s->cfg.max_body);
    h->phase = H_IDLE;
    c->state = h;
    lh__srv_conn_timer(c, s->cfg.idle_timeout / 1000);
    return LH_OK;
}

static void
http_on_write(srv_conn *c)
{
    http_conn *h = c->state;
    if (h->cur != NULL && h->cur->live != NULL) {
        lh__http_live_write(h->cur);
    }
    if (h->cur != NULL && h->cur->query != NULL) {
        lh__http_query_write(h->cur);
    }
}

static void
http_on_timer(srv_conn *c)
{
    http_conn *h = c->state;
    switch (h->phase) {
    case H_IDLE:
        lh__srv_conn_close(c); /* an idle keep-alive connection */
        break;
    case H_HEAD:
        reply_and_close(c, 408, "the request head did not arrive in time");
        break;
    case H_BODY:
        reply_and_close(c, 408, "the request body stalled");
        break;
    default:
        if (h->cur != NULL && h->cur->live != NULL) {
            lh__http_live_timer(h->cur);
        }
        if (h->cur != NULL && h->cur->query != NULL) {
            lh__http_query_timer(h->cur); /* query_timeout */
        }
        break;
    }
}

static void
http_on_drain(srv_conn *c)
{
    http_conn *h = c->state;
    if (h->phase == H_IDLE || h->phase == H_HEAD) {
        lh__srv_conn_close(c);
        return;
    }
    if (h->cur != NULL && h->cur->live != NULL) {
        lh__http_live_drain(h->cur);
    }
    /* A request in flight replies with Connection: close. */
}

static void
http_on_wake(srv_conn *c)
{
    http_conn *h = c->state;
    if (h->cur != NULL && h->cur->live != NULL) {
        lh__http_live_wake(h->cur);
    }
}

static void
http_on_close(srv_conn *c)
{
    http_conn *h = c->state;
    if (h != NULL && h->cur != NULL && h->cur->query != NULL) {
        lh__http_query_close(h->cur);
    }
}

static void
http_free(srv_conn *c)
{
    http_conn *h = c->state;
    if (h == NULL) {
        return;
    }
    ctx_free(h->cur);
    lh__http_parser_release(&h->p);
    lh_free(h);
}

const srv_proto lh__http_proto = {
    .name = "http",
    .open = http_open,
    .on_read = http_on_read,
    .on_write = http_on_write,
    .on_timer = http_on_timer,
    .on_drain = http_on_drain,
    .on_wake = http_on_wake,
    .on_close = http_on_close,
    .free = http_free,
    .refusal = refusal,
    .refusal_len = sizeof(refusal) - 1,
};
