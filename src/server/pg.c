/*
 * The PostgreSQL wire protocol, version 3.0 (the frontend/backend protocol
 * of ../shared/specs/postgres-protocol): startup with SSLRequest (TLS when
 * tls_cert is set, else 'N'), GSSENCRequest ('N'), CancelRequest;
 * authentication by token (SCRAM-SHA-256 by default, cleartext with
 * pg_auth=password; none while no token exists and the server listens on
 * loopback only); then the simple and extended query protocols.
 *
 * A session's messages are handled one at a time on its loop; a query runs
 * on the pool (pg_exec.c) while the session is BUSY, and what the client
 * pipelined meanwhile waits in the input buffer. After an error in an
 * extended-query message, messages are skipped up to the next Sync, as
 * the protocol says.
 */
/* OpenSSL's 1.1-era lhash macros (lh_free, lh_new...) would shadow ours. */
#define OPENSSL_NO_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>
#include <strings.h>

#include "server/pg_int.h"

#define PROTO_3_0 196608
#define SSL_REQUEST 80877103
#define GSSENC_REQUEST 80877104
#define CANCEL_REQUEST 80877102

/* Sent to a connection refused at max_connections, before its startup
 * message is read (as PostgreSQL does): ErrorResponse FATAL 53300. */
static const char refusal[] = "E\0\0\0\x3b"
                              "SFATAL\0"
                              "VFATAL\0"
                              "C53300\0"
                              "Msorry, too many clients already\0"
                              "\0";

/* ---- output ------------------------------------------------------------- */

size_t
lh__pg_begin(lh_buf *b, char type)
{
    lh_buf_putc(b, type);
    size_t at = b->len;
    lh_buf_append(b, "\0\0\0\0", 4);
    return at;
}

void
lh__pg_end(lh_buf *b, size_t at)
{
    if (!lh_buf_ok(b)) {
        return;
    }
    uint32_t n = (uint32_t)(b->len - at);
    uint8_t *p = (uint8_t *)b->data + at;
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
}

void
lh__pg_put_i16(lh_buf *b, int v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    lh_buf_append(b, x, 2);
}

void
lh__pg_put_i32(lh_buf *b, int32_t v)
{
    uint32_t u = (uint32_t)v;
    uint8_t x[4] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8),
                    (uint8_t)u};
    lh_buf_append(b, x, 4);
}

void
lh__pg_put_str(lh_buf *b, const char *s)
{
    lh_buf_append(b, s, strlen(s) + 1);
}

static void
error_fields(lh_buf *b, const char *severity, const char *code, const char *msg)
{
    lh_buf_putc(b, 'S');
    lh__pg_put_str(b, severity);
    lh_buf_putc(b, 'V');
    lh__pg_put_str(b, severity);
    lh_buf_putc(b, 'C');
    lh__pg_put_str(b, code);
    lh_buf_putc(b, 'M');
    lh__pg_put_str(b, msg);
}

void
lh__pg_error_at(lh_buf *b, const char *severity, const char *code,
                const char *msg, int64_t position)
{
    size_t at = lh__pg_begin(b, 'E');
    error_fields(b, severity, code, msg);
    if (position > 0) {
        char pos[24];
        snprintf(pos, sizeof(pos), "%lld", (long long)position);
        lh_buf_putc(b, 'P');
        lh__pg_put_str(b, pos);
    }
    lh_buf_putc(b, 0);
    lh__pg_end(b, at);
}

void
lh__pg_error(lh_buf *b, const char *severity, const char *code, const char *msg,
             const char *detail, const char *hint)
{
    size_t at = lh__pg_begin(b, 'E');
    error_fields(b, severity, code, msg);
    if (detail != NULL) {
        lh_buf_putc(b, 'D');
        lh__pg_put_str(b, detail);
    }
    if (hint != NULL) {
        lh_buf_putc(b, 'H');
        lh__pg_put_str(b, hint);
    }
    lh_buf_putc(b, 0);
    lh__pg_end(b, at);
}

static void
flush(srv_conn *c)
{
    pg_conn *p = c->state;
    if (p->out.len > 0) {
        if (!lh_buf_ok(&p->out)) {
            /* Out of memory building replies: the session cannot go on in
             * a state the client would understand. */
            lh__srv_conn_close(c);
            return;
        }
        lh__srv_conn_send(c, p->out.data, p->out.len);
        lh_buf_reset(&p->out);
    }
}

/* A FATAL error ends the session after it is sent. */
static void
fatal(srv_conn *c, const char *code, const char *msg)
{
    pg_conn *p = c->state;
    lh__pg_error(&p->out, "FATAL", code, msg, NULL, NULL);
    flush(c);
    p->phase = PG_CLOSING;
    atomic_fetch_add(&c->loop->srv->m.conns_dropped, 1);
    lh__srv_conn_close_flushed(c);
}

void
lh__pg_ready(pg_conn *p)
{
    size_t at = lh__pg_begin(&p->out, 'Z');
    lh_buf_putc(&p->out, p->txn);
    lh__pg_end(&p->out, at);
}

static void
auth_request(pg_conn *p, int32_t kind, const void *data, size_t len)
{
    size_t at = lh__pg_begin(&p->out, 'R');
    lh__pg_put_i32(&p->out, kind);
    lh_buf_append(&p->out, data, len);
    lh__pg_end(&p->out, at);
}

static void
param_status(pg_conn *p, const char *name, const char *value)
{
    size_t at = lh__pg_begin(&p->out, 'S');
    lh__pg_put_str(&p->out, name);
    lh__pg_put_str(&p->out, value);
    lh__pg_end(&p->out, at);
}

/* ---- the backend registry (CancelRequest) -------------------------------- */

static void
register_backend(srv_conn *c)
{
    pg_conn *p = c->state;
    lh_server *s = c->loop->srv;
    uint32_t key;
    if (RAND_bytes((unsigned char *)&key, sizeof(key)) != 1) {
        key = (uint32_t)lh_real_now();
    }
    p->key = (int32_t)key;
    pthread_mutex_lock(&s->pg_mu);
    p->pid = ++s->pg_next_pid;
    if (lh_map_put(&s->pg_backends, &p->pid, sizeof(p->pid), p, NULL) ==
        LH_OK) {
        p->registered = true;
    }
    pthread_mutex_unlock(&s->pg_mu);
}

static void
unregister_backend(srv_conn *c)
{
    pg_conn *p = c->state;
    if (!p->registered) {
        return;
    }
    lh_server *s = c->loop->srv;
    pthread_mutex_lock(&s->pg_mu);
    lh_map_del(&s->pg_backends, &p->pid, sizeof(p->pid));
    p->registered = false;
    pthread_mutex_unlock(&s->pg_mu);
}

static void
cancel_backend(lh_server *s, int32_t pid, int32_t key)
{
    pthread_mutex_lock(&s->pg_mu);
    pg_conn *p = lh_map_get(&s->pg_backends, &pid, sizeof(pid));
    if (p != NULL && CRYPTO_memcmp(&p->key, &key, sizeof(key)) == 0) {
        atomic_store(&p->cancel, true);
        lh__pg_exec_cancel(p);
    }
    pthread_mutex_unlock(&s->pg_mu);
}

/* ---- authentication -------------------------------------------------------
 */

static bool
auth_required(lh_server *s)
{
    return lh__tokens_count(s->tokens) > 0 ||
           (!s->loopback_only && !s->cfg.insecure_no_auth);
}

static void
auth_ok(srv_conn *c)
{
    pg_conn *p = c->state;
    lh_server *s = c->loop->srv;
    auth_request(p, 0, NULL, 0);
    register_backend(c);
    param_status(p, "application_name", p->app);
    param_status(p, "client_encoding", "UTF8");
    param_status(p, "DateStyle", "ISO, MDY");
    param_status(p, "default_transaction_read_only", "off");
    param_status(p, "in_hot_standby", "off");
    param_status(p, "integer_datetimes", "on");
    param_status(p, "IntervalStyle", "postgres");
    param_status(p, "is_superuser",
                 p->auth.role == SRV_ROLE_ADMIN ? "on" : "off");
    param_status(p, "server_encoding", "UTF8");
    param_status(p, "server_version", LH_PG_SERVER_VERSION);
    param_status(p, "session_authorization", p->user);
    param_status(p, "standard_conforming_strings", "on");
    param_status(p, "TimeZone", "UTC");
    size_t at = lh__pg_begin(&p->out, 'K');
    lh__pg_put_i32(&p->out, p->pid);
    lh__pg_put_i32(&p->out, p->key);
    lh__pg_end(&p->out, at);
    p->txn = 'I';
    lh__pg_ready(p);
    p->phase = PG_READY;
    lh__srv_conn_timer(c, s->cfg.pg_idle_timeout / 1000);
}

static void
auth_failed(srv_conn *c)
{
    pg_conn *p = c->state;
    atomic_fetch_add(&c->loop->srv->m.auth_failures, 1);
    char msg[160];
    snprintf(msg, sizeof(msg), "password authentication failed for user \"%s\"",
             p->user);
    fatal(c, "28P01", msg);
}

static void
start_auth(srv_conn *c)
{
    pg_conn *p = c->state;
    lh_server *s = c->loop->srv;
    if (!auth_required(s)) {
        p->auth.role = SRV_ROLE_ADMIN;
        auth_ok(c);
        return;
    }
    if (s->cfg.pg_auth_password) {
        auth_request(p, 3, NULL, 0); /* AuthenticationCleartextPassword */
        p->phase = PG_PASSWORD;
        return;
    }
    static const char mechs[] = "SCRAM-SHA-256\0";
    auth_request(p, 10, mechs, sizeof(mechs)); /* AuthenticationSASL */
    p->phase = PG_SASL_INIT;
}

static void
on_password(srv_conn *c, lh_pg_reader *r)
{
    pg_conn *p = c->state;
    const char *pw;
    if (!lh__pg_get_str(r, &pw) || !lh__pg_at_end(r)) {
        fatal(c, "08P01", "invalid password message");
        return;
    }
    p->auth.role = lh__tokens_check(c->loop->srv->tokens, pw, p->auth.name,
                                    sizeof(p->auth.name));
    if (p->auth.role == SRV_ROLE_NONE) {
        auth_failed(c);
        return;
    }
    auth_ok(c);
}

/* The value of SCRAM attribute `k` ("r", "c", "p") in a comma-separated
 * message, copied into out; false when absent or too long. */
static bool
scram_attr(const char *msg, char k, char *out, size_t cap)
{
    const char *s = msg;
    while (s != NULL && *s != 0) {
        if (s[0] == k && s[1] == '=') {
            const char *e = strchr(s, ',');
            size_t n = e ? (size_t)(e - s - 2) : strlen(s + 2);
            if (n >= cap) {
                return false;
            }
            memcpy(out, s + 2, n);
            out[n] = 0;
            return true;
        }
        s = strchr(s, ',');
        s = s ? s + 1 : NULL;
    }
    return false;
}

static void
on_sasl_init(srv_conn *c, lh_pg_reader *r)
{
    pg_conn *p = c->state;
    const char *mech;
    int32_t len;
    const uint8_t *data;
    if (!lh__pg_get_str(r, &mech) || !lh__pg_get_i32(r, &len) || len < 0 ||
        !lh__pg_get_bytes(r, (size_t)len, &data) || !lh__pg_at_end(r)) {
        fatal(c, "08P01", "invalid SASLInitialResponse message");
        return;
    }
    if (strcmp(mech, "SCRAM-SHA-256") != 0) {
        fatal(c, "28000",
              "client selected an invalid SASL authentication "
              "mechanism");
        return;
    }
    /* gs2-header: "n,," or "y,," (no channel binding: we offer none). */
    char first[1024];
    if ((size_t)len >= sizeof(first) || len < 3) {
        fatal(c, "08P01", "malformed SCRAM message");
        return;
    }
    memcpy(first, data, (size_t)len);
    first[len] = 0;
    if ((first[0] != 'n' && first[0] != 'y') || first[1] != ',') {
        fatal(c, "08P01",
              first[0] == 'p' ? "channel binding is not "
                                "offered by this server"
                              : "malformed SCRAM message");
        return;
    }
    const char *comma = strchr(first + 2, ',');
    if (comma == NULL) {
        fatal(c, "08P01", "malformed SCRAM message");
        return;
    }
    size_t gl = (size_t)(comma - first) + 1;
    if (gl >= sizeof(p->gs2)) {
        fatal(c, "08P01", "malformed SCRAM message");
        return;
    }
    memcpy(p->gs2, first, gl);
    p->gs2[gl] = 0;
    const char *bare = first + gl;
    char cnonce[256];
    if (!scram_attr(bare, 'r', cnonce, sizeof(cnonce)) || cnonce[0] == 0) {
        fatal(c, "08P01", "malformed SCRAM message: no nonce");
        return;
    }
    uint8_t rnd[18];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        fatal(c, "XX000", "no randomness for a SCRAM nonce");
        return;
    }
    char snonce[32];
    EVP_EncodeBlock((unsigned char *)snonce, rnd, sizeof(rnd));
    char salt[64];
    int iters;
    lh__tokens_scram_params(c->loop->srv->tokens, salt, sizeof(salt), &iters);
    snprintf(p->nonce, sizeof(p->nonce), "%s%s", cnonce, snonce);
    lh_buf_reset(&p->scram);
    lh_buf_puts(&p->scram, bare);
    lh_buf_putc(&p->scram, ',');
    size_t sf = p->scram.len;
    lh_buf_printf(&p->scram, "r=%s,s=%s,i=%d", p->nonce, salt, iters);
    auth_request(p, 11, p->scram.data + sf, p->scram.len - sf);
    p->phase = PG_SASL_FINAL;
}

static void
on_sasl_final(srv_conn *c, lh_pg_reader *r)
{
    pg_conn *p = c->state;
    size_t len = r->len - r->off;
    const uint8_t *data;
    char final[1024];
    if (!lh__pg_get_bytes(r, len, &data) || len >= sizeof(final)) {
        fatal(c, "08P01", "malformed SCRAM message");
        return;
    }
    memcpy(final, data, len);
    final[len] = 0;
    char cb[128], nonce[300], proof64[128];
    char want_cb[128];
    EVP_EncodeBlock((unsigned char *)want_cb, (const unsigned char *)p->gs2,
                    (int)strlen(p->gs2));
    const char *pat = strstr(final, ",p=");
    if (!scram_attr(final, 'c', cb, sizeof(cb)) ||
        !scram_attr(final, 'r', nonce, sizeof(nonce)) ||
        !scram_attr(final, 'p', proof64, sizeof(proof64)) || pat == NULL) {
        fatal(c, "08P01", "malformed SCRAM message");
        return;
    }
    if (strcmp(cb, want_cb) != 0 || strcmp(nonce, p->nonce) != 0) {
        fatal(c, "08P01", "SCRAM channel binding or nonce mismatch");
        return;
    }
    uint8_t proof[48];
    if (strlen(proof64) != 44 ||
        EVP_DecodeBlock(proof, (const unsigned char *)proof64, 44) < 32) {
        fatal(c, "08P01", "malformed SCRAM proof");
        return;
    }
    /* AuthMessage = client-first-bare "," server-first ","
     * client-final-without-proof. */
    lh_buf_putc(&p->scram, ',');
    lh_buf_append(&p->scram, final, (size_t)(pat - final));
    if (!lh_buf_ok(&p->scram)) {
        fatal(c, "53200", "out of memory");
        return;
    }
    uint8_t server_key[32];
    p->auth.role = lh__tokens_scram_verify(
        c->loop->srv->tokens, proof, p->scram.data, p->scram.len, server_key,
        p->auth.name, sizeof(p->auth.name));
    if (p->auth.role == SRV_ROLE_NONE) {
        auth_failed(c);
        return;
    }
    uint8_t sig[32];
    unsigned int sl = 32;
    HMAC(EVP_sha256(), server_key, 32, (const unsigned char *)p->scram.data,
         p->scram.len, sig, &sl);
    char out[64] = "v=";
    EVP_EncodeBlock((unsigned char *)out + 2, sig, 32);
    auth_request(p, 12, out, strlen(out)); /* AuthenticationSASLFinal */
    OPENSSL_cleanse(server_key, sizeof(server_key));
    lh_buf_release(&p->scram);
    auth_ok(c);
}

/* ---- startup ----------------------------------------------------------------
 */

static void
on_startup(srv_conn *c, lh_pg_reader *r, size_t pending)
{
    pg_conn *p = c->state;
    lh_server *s = c->loop->srv;
    int32_t code;
    if (!lh__pg_get_i32(r, &code)) {
        fatal(c, "08P01", "invalid startup packet layout");
        return;
    }
    if (code == SSL_REQUEST || code == GSSENC_REQUEST) {
        bool *asked = code == SSL_REQUEST ? &p->ssl_asked : &p->gss_asked;
        if (*asked || !lh__pg_at_end(r)) {
            fatal(c, "08P01", "invalid encryption request");
            return;
        }
        *asked = true;
        if (code == GSSENC_REQUEST || s->tls == NULL || c->tls) {
            lh__srv_conn_write(c, "N", 1);
            return;
        }
        /* Bytes after the request would be read as if encrypted
         * (CVE-2021-23214): refuse them. */
        if (pending > 0) {
            fatal(c, "08P01", "received unencrypted data after SSL request");
            return;
        }
        lh__srv_conn_write(c, "S", 1);
        lh_err err;
        if (lh__srv_conn_start_tls(c, &err) != LH_OK) {
            lh__srv_conn_close(c);
        }
        return;
    }
    if (code == CANCEL_REQUEST) {
        int32_t pid, key;
        if (lh__pg_get_i32(r, &pid) && lh__pg_get_i32(r, &key) &&
            lh__pg_at_end(r)) {
            cancel_backend(s, pid, key);
        }
        /* No reply to a cancel request: the connection just closes. */
        p->phase = PG_CLOSING;
        lh__srv_conn_close(c);
        return;
    }
    int major = code >> 16, minor = code & 0xffff;
    if (major != 3) {
        char msg[120];
        snprintf(msg, sizeof(msg),
                 "unsupported frontend protocol %d.%d: server supports 3.0 "
                 "to 3.0",
                 major, minor);
        fatal(c, "0A000", msg);
        return;
    }
    lh_buf unknown = LH_BUF_INIT;
    int nunknown = 0;
    for (;;) {
        const char *k, *v;
        if (!lh__pg_get_str(r, &k)) {
            lh_buf_release(&unknown);
            fatal(c, "08P01",
                  "invalid startup packet layout: expected "
                  "terminator as last byte");
            return;
        }
        if (k[0] == 0) {
            break;
        }
        if (!lh__pg_get_str(r, &v)) {
            lh_buf_release(&unknown);
            fatal(c, "08P01", "invalid startup packet layout");
            return;
        }
        if (strcmp(k, "user") == 0) {
            snprintf(p->user, sizeof(p->user), "%s", v);
        } else if (strcmp(k, "database") == 0) {
            snprintf(p->db, sizeof(p->db), "%s", v);
        } else if (strcmp(k, "application_name") == 0) {
            snprintf(p->app, sizeof(p->app), "%s", v);
        } else if (strncmp(k, "_pq_.", 5) == 0) {
            lh__pg_put_str(&unknown, k);
            nunknown++;
        }
        /* Other settings (client_encoding, DateStyle, options...) are
         * accepted; the session always speaks UTF8, ISO dates, UTC. */
    }
    if (!lh__pg_at_end(r)) {
        lh_buf_release(&unknown);
        fatal(c, "08P01",
              "invalid startup packet layout: expected "
              "terminator as last byte");
        return;
    }
    if (p->user[0] == 0) {
        lh_buf_release(&unknown);
        fatal(c, "28000",
              "no PostgreSQL user name specified in startup "
              "packet");
        return;
    }
    if (p->db[0] == 0) {
        snprintf(p->db, sizeof(p->db), "%s", p->user);
    }
    if (minor > 0 || nunknown > 0) {
        size_t at = lh__pg_begin(&p->out, 'v');
        lh__pg_put_i32(&p->out, 0);
        lh__pg_put_i32(&p->out, nunknown);
        lh_buf_append(&p->out, unknown.data, unknown.len);
        lh__pg_end(&p->out, at);
    }
    lh_buf_release(&unknown);
    start_auth(c);
}

/* ---- messages
 * ----------------------------------------------------------------- */

static void
handle(srv_conn *c, const lh_pg_msg *m, size_t pending)
{
    pg_conn *p = c->state;
    lh_pg_reader r;
    lh__pg_reader_init(&r, m);
    switch (p->phase) {
    case PG_STARTUP:
        on_startup(c, &r, pending);
        return;
    case PG_PASSWORD:
    case PG_SASL_INIT:
    case PG_SASL_FINAL:
        if (m->type != 'p') {
            fatal(c, "08P01", "expected password response");
        } else if (p->phase == PG_PASSWORD) {
            on_password(c, &r);
        } else if (p->phase == PG_SASL_INIT) {
            on_sasl_init(c, &r);
        } else {
            on_sasl_final(c, &r);
        }
        return;
    case PG_READY:
        lh__pg_message(c, m);
        return;
    default:
        return;
    }
}

static void
pg_on_read(srv_conn *c)
{
    pg_conn *p = c->state;
    while (!c->closed && c->bev != NULL && !c->close_when_flushed &&
           p->phase != PG_BUSY && p->phase != PG_CLOSING) {
        struct evbuffer *in = bufferevent_get_input(c->bev);
        size_t avail = evbuffer_get_length(in);
        bool startup = p->phase == PG_STARTUP;
        size_t head = startup ? 4 : 5;
        if (avail < head) {
            break;
        }
        lh_pg_msg m;
        size_t used;
        lh_err err;
        const uint8_t *h = evbuffer_pullup(in, (ssize_t)head);
        if (lh__pg_split(h, head, startup, &m, &used, &err) != LH_OK) {
            fatal(c, "08P01", err.msg);
            return;
        }
        size_t n = (size_t)h[head - 4] << 24 | (size_t)h[head - 3] << 16 |
                   (size_t)h[head - 2] << 8 | h[head - 1];
        size_t total = head - 4 + n;
        if (avail < total) {
            break;
        }
        /* The message is copied out so that the input may be drained
         * before it is handled (a handler may close the connection or put
         * TLS under it). */
        lh_buf_reset(&p->msg);
        if (lh_buf_append(&p->msg, evbuffer_pullup(in, (ssize_t)total),
                          total) != LH_OK) {
            fatal(c, "53200", "out of memory");
            return;
        }
        evbuffer_drain(in, total);
        lh__pg_split((const uint8_t *)p->msg.data, total, startup, &m, &used,
                     &err);
        handle(c, &m, avail - total);
        if (!c->closed && p->phase < PG_READY) {
            flush(c); /* before TLS goes under the connection */
        }
    }
    /* Replies go out once per batch of messages read, and not before a
     * query on the pool is done: the client gets its answer up to Sync in
     * one write. */
    if (!c->closed && p->phase != PG_BUSY) {
        flush(c);
    }
    if (!c->closed && c->peer_eof && p->phase != PG_BUSY) {
        lh__srv_conn_close(c);
    }
}

void
lh__pg_flush(srv_conn *c)
{
    flush(c);
}

void
lh__pg_resume(srv_conn *c)
{
    pg_conn *p = c->state;
    if (c->closed) {
        return;
    }
    if (lh__srv_draining(c) && p->phase == PG_READY) {
        flush(c);
        fatal(c, "57P01",
              "terminating connection due to administrator "
              "command");
        return;
    }
    pg_on_read(c); /* what was pipelined meanwhile */
}

static lh_rc
pg_open(srv_conn *c)
{
    pg_conn *p = lh_calloc(1, sizeof(*p));
    if (p == NULL) {
        return LH_ENOMEM;
    }
    lh_buf_init(&p->out);
    lh_buf_init(&p->msg);
    lh_buf_init(&p->scram);
    p->txn = 'I';
    p->phase = PG_STARTUP;
    atomic_init(&p->cancel, false);
    atomic_init(&p->timed_out, false);
    p->conn = c;
    c->state = p;
    /* Startup and authentication must be done within header_timeout. */
    lh__srv_conn_timer(c, c->loop->srv->cfg.header_timeout / 1000);
    return LH_OK;
}

static void
pg_on_write(srv_conn *c)
{
    lh__pg_exec_write(c);
}

static void
pg_on_timer(srv_conn *c)
{
    pg_conn *p = c->state;
    if (p->phase < PG_READY) {
        fatal(c, "08006",
              "startup and authentication did not finish in "
              "time");
    } else if (p->phase == PG_READY) {
        fatal(c, "57P05",
              "terminating connection due to idle-session "
              "timeout");
    } else if (p->phase == PG_BUSY) {
        /* query_timeout: the query stops with 57014. */
        lh_server *s = c->loop->srv;
        atomic_store(&p->timed_out, true);
        atomic_store(&p->cancel, true);
        pthread_mutex_lock(&s->pg_mu);
        lh__pg_exec_cancel(p);
        pthread_mutex_unlock(&s->pg_mu);
    }
}

static void
pg_on_drain(srv_conn *c)
{
    pg_conn *p = c->state;
    if (p->phase == PG_BUSY) {
        return; /* lh__pg_resume ends it after the query */
    }
    if (p->phase == PG_READY) {
        fatal(c, "57P01",
              "terminating connection due to administrator "
              "command");
        return;
    }
    lh__srv_conn_close(c);
}

static void
pg_on_wake(srv_conn *c)
{
    (void)c;
}

static void
pg_on_close(srv_conn *c)
{
    pg_conn *p = c->state;
    if (p->phase == PG_BUSY) {
        /* Nobody reads the answer: stop the query. */
        lh_server *s = c->loop->srv;
        atomic_store(&p->cancel, true);
        pthread_mutex_lock(&s->pg_mu);
        lh__pg_exec_cancel(p);
        pthread_mutex_unlock(&s->pg_mu);
    }
    unregister_backend(c);
}

static void
pg_free(srv_conn *c)
{
    pg_conn *p = c->state;
    if (p == NULL) {
        return;
    }
    lh__pg_session_release(p);
    lh_buf_release(&p->out);
    lh_buf_release(&p->msg);
    lh_buf_release(&p->scram);
    lh_free(p);
}

const srv_proto lh__pg_proto = {
    .name = "pg",
    .open = pg_open,
    .on_read = pg_on_read,
    .on_write = pg_on_write,
    .on_timer = pg_on_timer,
    .on_drain = pg_on_drain,
    .on_wake = pg_on_wake,
    .on_close = pg_on_close,
    .free = pg_free,
    .refusal = refusal,
    .refusal_len = sizeof(refusal) - 1,
};
