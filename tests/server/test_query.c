/*
 * SQL through the server, against a real server in this process over TCP:
 *
 * - POST /v1/query's body, in each format, is byte for byte what
 *   lh_sql_run writes for the same SQL (the writer of `lakehouse sql`),
 *   for values that exercise the formats' rules (quotes, commas, line
 *   breaks, NULL against "", unicode, decimals, temporal values, bytes);
 * - a large result streams (chunked) and arrives whole;
 * - a client that does not read holds its query back (the server buffers
 *   a bounded amount), GET /v1/queries/{id} shows it running with its
 *   progress, DELETE cancels it, and the body is cut short (no last chunk)
 *   while other requests are served all along;
 * - query_timeout stops a query (504, 57014);
 * - with tokens, a reader may query but not create (403, 42501), and only
 *   the owner sees a query;
 * - PostgreSQL: CancelRequest stops a running query (57014) and the
 *   session goes on; query_timeout there too.
 */
#include <poll.h>
#include <pthread.h>

#include <jansson.h>

#include "lakehouse.h"
#include "server_test.h"

typedef struct fixture {
    char *dir;
    lh_db *db;
    lh_server *srv;
    int port, pg_port;
} fixture;

static void
start(fixture *f, const char *const *opts)
{
    lh_err err;
    lh_server_config *c;
    assert_int_equal(lh_server_config_new(&c, &err), LH_OK);
    lh_server_config_set(c, "http", "127.0.0.1:0", &err);
    lh_server_config_set(c, "pg", "127.0.0.1:0", &err);
    lh_server_config_set(c, "io_threads", "2", &err);
    for (int i = 0; opts != NULL && opts[i] != NULL; i += 2) {
        if (lh_server_config_set(c, opts[i], opts[i + 1], &err) != LH_OK) {
            fail_msg("%s", err.msg);
        }
    }
    if (lh_server_start(f->db, c, &f->srv, &err) != LH_OK) {
        fail_msg("start: %s", err.msg);
    }
    lh_server_config_free(c);
    f->port = atoi(strrchr(lh_server_address(f->srv, "http"), ':') + 1);
    f->pg_port = atoi(strrchr(lh_server_address(f->srv, "pg"), ':') + 1);
}

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->dir = st_tmpdir();
    lh_err err;
    lh_db_options o = {.flags = LH_OPEN_CREATE};
    assert_int_equal(lh_db_open(f->dir, &o, &f->db, &err), LH_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    lh_server_close(f->srv);
    lh_db_close(f->db);
    st_rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- a small HTTP client ------------------------------------------------- */

typedef struct reply {
    int status;
    char head[4096];
    lh_buf body;   /* de-chunked */
    bool complete; /* Content-Length reached, or the last chunk seen */
} reply;

/* Reads one reply from fd (until complete, the peer's close or ms). */
static void
read_reply(int fd, reply *r, int ms)
{
    memset(r, 0, sizeof(*r));
    lh_buf raw = LH_BUF_INIT;
    lh_us until = lh_mono_now() + (lh_us)ms * 1000;
    size_t head_end = 0;
    for (;;) {
        if (head_end == 0 && raw.data != NULL) {
            lh_buf_putc(&raw, 0);
            raw.len--;
            char *e = strstr(raw.data, "\r\n\r\n");
            if (e != NULL) {
                head_end = (size_t)(e - raw.data) + 4;
                snprintf(r->head, sizeof(r->head), "%.*s", (int)head_end,
                         raw.data);
                r->status = atoi(raw.data + 9);
            }
        }
        if (head_end > 0) {
            const char *b = raw.data + head_end;
            size_t n = raw.len - head_end;
            const char *cl = strcasestr(r->head, "content-length:");
            if (cl != NULL) {
                size_t want = (size_t)atol(cl + 15);
                if (n >= want) {
                    lh_buf_reset(&r->body);
                    lh_buf_append(&r->body, b, want);
                    r->complete = true;
                    break;
                }
            } else if (strcasestr(r->head, "transfer-encoding: chunked")) {
                /* de-chunk what is there */
                lh_buf_reset(&r->body);
                size_t at = 0;
                for (;;) {
                    const char *nl = memmem(b + at, n - at, "\r\n", 2);
                    if (nl == NULL) {
                        break;
                    }
                    size_t len = strtoul(b + at, NULL, 16);
                    size_t data = (size_t)(nl - b) + 2;
                    if (len == 0) {
                        r->complete = n >= data + 2;
                        break;
                    }
                    if (n < data + len + 2) {
                        break;
                    }
                    lh_buf_append(&r->body, b + data, len);
                    at = data + len + 2;
                }
                if (r->complete) {
                    break;
                }
            }
        }
        lh_us left = until - lh_mono_now();
        if (left <= 0) {
            break;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(left / 1000) + 1) <= 0) {
            continue;
        }
        char tmp[65536];
        ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
        if (n <= 0) {
            break;
        }
        lh_buf_append(&raw, tmp, (size_t)n);
    }
    if (head_end > 0 && !strcasestr(r->head, "content-length:") &&
        !strcasestr(r->head, "transfer-encoding: chunked")) {
        lh_buf_append(&r->body, raw.data + head_end, raw.len - head_end);
    }
    lh_buf_putc(&r->body, 0);
    r->body.len--;
    lh_buf_release(&raw);
}

static void
send_request(int fd, const char *method, const char *path, const char *token,
             const char *body)
{
    char head[1024];
    char auth[256] = "";
    if (token != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", token);
    }
    int n =
        snprintf(head, sizeof(head),
                 "%s %s HTTP/1.1\r\nHost: t\r\n%sContent-Length: %zu\r\n\r\n",
                 method, path, auth, body ? strlen(body) : 0);
    st_send(fd, head, (size_t)n);
    if (body != NULL) {
        st_send(fd, body, strlen(body));
    }
}

static void
request(fixture *f, const char *method, const char *path, const char *token,
        const char *body, reply *r)
{
    int fd = st_dial(f->port);
    assert_true(fd >= 0);
    send_request(fd, method, path, token, body);
    read_reply(fd, r, 20000);
    close(fd);
}

static char *
query_body(const char *sql, const char *format)
{
    json_t *j = json_pack("{s:s, s:s}", "sql", sql, "format", format);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

static void
header_value(const reply *r, const char *name, char *out, size_t cap)
{
    out[0] = 0;
    const char *h = strcasestr(r->head, name);
    if (h != NULL) {
        h += strlen(name);
        while (*h == ':' || *h == ' ') {
            h++;
        }
        size_t n = strcspn(h, "\r\n");
        snprintf(out, cap, "%.*s", (int)n, h);
    }
}

/* ---- the tests ------------------------------------------------------------
 */

static const char *const format_cases[] = {
    "SELECT 1 AS a, 'x' AS b",
    "SELECT 'a,b' AS comma, 'say \"hi\"' AS quote, 'two\nlines' AS nl, "
    "'' AS empty, NULL AS nothing, ' pad ' AS spaces, 'héllo ✓' AS uni",
    "SELECT 123.4500::DECIMAL(10,4) AS d, -0.5::DOUBLE AS f, 1e300::DOUBLE "
    "AS big, 9223372036854775807 AS i8, true AS t, false AS f2",
    "SELECT DATE '2026-11-25' AS d, TIMESTAMP '2026-11-25 12:00:00.123' AS "
    "ts, TIMESTAMPTZ '2026-11-25 12:00:00+00' AS tz, TIME '12:00:00.5' AS "
    "tm, INTERVAL '1 day 2 hours' AS iv",
    "SELECT '\\x00ff'::BLOB AS raw",
    "SELECT n, n * n AS sq, 'r' || n AS s FROM generate_series(1, 2500) AS "
    "g(n) WHERE n % 7 <> 3 ORDER BY n DESC",
    "SELECT n FROM generate_series(1, 0) AS g(n)",
};

static void
test_formats_match_cli(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    static const char *const formats[] = {"json", "csv", "ndjson"};
    static const char *const ctypes[] = {
        "application/json", "text/csv; charset=utf-8", "application/x-ndjson"};
    lh_session *s;
    lh_err err;
    assert_int_equal(lh_session_open(NULL, NULL, &s, &err), LH_OK);
    for (size_t i = 0; i < LH_ARRAY_LEN(format_cases); i++) {
        for (size_t k = 0; k < LH_ARRAY_LEN(formats); k++) {
            char *want = NULL;
            size_t wlen = 0;
            FILE *mem = open_memstream(&want, &wlen);
            lh_rc rc = lh_sql_run(s, format_cases[i], formats[k], mem, &err);
            fclose(mem);
            if (rc != LH_OK) {
                fail_msg("lh_sql_run %s: %s", format_cases[i], err.msg);
            }
            char *body = query_body(format_cases[i], formats[k]);
            reply r;
            request(f, "POST", "/v1/query", NULL, body, &r);
            char ct[128], qid[64];
            header_value(&r, "Content-Type", ct, sizeof(ct));
            header_value(&r, "Lakehouse-Query-Id", qid, sizeof(qid));
            if (r.status != 200 || !r.complete ||
                strcmp(r.body.data ? r.body.data : "", want) != 0) {
                fail_msg("%s as %s: status %d complete %d\nwant:\n%s\ngot:\n%s",
                         format_cases[i], formats[k], r.status, r.complete,
                         want, r.body.data ? r.body.data : "");
            }
            assert_string_equal(ct, ctypes[k]);
            assert_int_equal(strlen(qid), 36);
            lh_buf_release(&r.body);
            free(body);
            free(want);
        }
    }
    lh_session_close(s);
}

static void
test_large_result_streams(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    char *body = query_body(
        "SELECT n, n * 3 AS t FROM generate_series(1, 1000000) AS g(n)", "csv");
    reply r;
    request(f, "POST", "/v1/query", NULL, body, &r);
    free(body);
    assert_int_equal(r.status, 200);
    assert_true(r.complete);
    assert_non_null(strcasestr(r.head, "transfer-encoding: chunked"));
    /* every row, in order */
    size_t lines = 0;
    for (char *p = r.body.data; (p = strchr(p, '\n')) != NULL; p++) {
        lines++;
    }
    assert_int_equal(lines, 1000001);
    assert_non_null(strstr(r.body.data, "\n999999,2999997\n1000000,3000000\n"));
    lh_buf_release(&r.body);
}

static json_t *
query_state(fixture *f, const char *method, const char *qid, const char *tok,
            int *status)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/queries/%s", qid);
    reply r;
    request(f, method, path, tok, NULL, &r);
    *status = r.status;
    json_t *j = json_loads(r.body.data ? r.body.data : "", 0, NULL);
    lh_buf_release(&r.body);
    return j;
}

static void
test_slow_client_progress_cancel(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    /* Far more than the server may buffer: a client that reads nothing
     * holds the query back. */
    int fd = st_dial(f->port);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    char *body = query_body(
        "SELECT n, repeat('x', 100) AS pad FROM generate_series(1, 100000000) "
        "AS g(n)",
        "ndjson");
    send_request(fd, "POST", "/v1/query", NULL, body);
    free(body);
    /* the head and a first chunk arrive */
    char head[8192];
    size_t got = 0;
    while (got < sizeof(head) - 1 && strstr(head, "\r\n\r\n") == NULL) {
        ssize_t n = recv(fd, head + got, sizeof(head) - 1 - got, 0);
        assert_true(n > 0);
        got += (size_t)n;
        head[got] = 0;
    }
    char *id = strcasestr(head, "Lakehouse-Query-Id: ");
    assert_non_null(id);
    char qid[64];
    snprintf(qid, sizeof(qid), "%.36s", id + 20);
    /* It runs, and stops producing: the bytes stay bounded. */
    usleep(1500000);
    int status;
    json_t *a = query_state(f, "GET", qid, NULL, &status);
    assert_int_equal(status, 200);
    assert_string_equal(json_string_value(json_object_get(a, "state")),
                        "running");
    uint64_t b1 = (uint64_t)json_integer_value(json_object_get(a, "bytes"));
    uint64_t rows1 = (uint64_t)json_integer_value(json_object_get(a, "rows"));
    assert_true(b1 > 0);
    assert_true(rows1 > 0);
    json_decref(a);
    usleep(500000);
    a = query_state(f, "GET", qid, NULL, &status);
    uint64_t b2 = (uint64_t)json_integer_value(json_object_get(a, "bytes"));
    json_decref(a);
    /* At most what the socket buffers, the server's output limit and one
     * chunk moved meanwhile, not the 10 GB of the whole result. */
    print_message("bytes %llu then %llu, rows %llu\n", (unsigned long long)b1,
                  (unsigned long long)b2, (unsigned long long)rows1);
    assert_true(b2 < (uint64_t)64 << 20);
    assert_true(b2 - b1 < (uint64_t)16 << 20);
    /* Others are served all along. */
    reply h;
    request(f, "GET", "/healthz", NULL, NULL, &h);
    assert_int_equal(h.status, 200);
    lh_buf_release(&h.body);
    /* DELETE cancels: 202, then the state says so. */
    a = query_state(f, "DELETE", qid, NULL, &status);
    assert_int_equal(status, 202);
    json_decref(a);
    /* The reader now drains: the body ends without the last chunk. */
    lh_buf rest = LH_BUF_INIT;
    lh_us until = lh_mono_now() + 20 * LH_US_PER_SEC;
    for (;;) {
        char tmp[65536];
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (lh_mono_now() > until || poll(&p, 1, 1000) <= 0) {
            break;
        }
        ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
        if (n <= 0) {
            break;
        }
        /* keep only the tail */
        lh_buf_append(&rest, tmp, (size_t)n);
        if (rest.len > 1 << 20) {
            memmove(rest.data, rest.data + rest.len - 64, 64);
            rest.len = 64;
        }
    }
    assert_true(lh_mono_now() < until);
    lh_buf_putc(&rest, 0);
    assert_null(strstr(rest.data, "\r\n0\r\n\r\n"));
    lh_buf_release(&rest);
    close(fd);
    for (int i = 0; i < 100; i++) {
        a = query_state(f, "GET", qid, NULL, &status);
        const char *st = json_string_value(json_object_get(a, "state"));
        bool done = st != NULL && strcmp(st, "running") != 0;
        if (done) {
            assert_string_equal(st, "canceled");
            json_decref(a);
            break;
        }
        json_decref(a);
        assert_true(i < 99);
        usleep(100000);
    }
}

static void
test_query_timeout(void **state)
{
    fixture *f = *state;
    const char *opts[] = {"query_timeout", "1s", NULL};
    start(f, opts);
    char *body = query_body(
        "SELECT count(*) AS c FROM generate_series(1, 100000000000) AS g(n)",
        "json");
    lh_us t0 = lh_mono_now();
    reply r;
    request(f, "POST", "/v1/query", NULL, body, &r);
    free(body);
    assert_int_equal(r.status, 504);
    assert_non_null(strstr(r.body.data, "\"sqlstate\":\"57014\""));
    assert_non_null(strstr(r.body.data, "statement timeout"));
    assert_true(lh_mono_now() - t0 < 15 * LH_US_PER_SEC);
    lh_buf_release(&r.body);
}

static char *
make_token(fixture *f, const char *name, const char *role)
{
    char *tok = NULL;
    lh_err err;
    assert_int_equal(lh_token_create(f->db, name, role, &tok, &err), LH_OK);
    return tok;
}

static void
test_roles(void **state)
{
    fixture *f = *state;
    char *reader = make_token(f, "bi", "reader");
    char *other = make_token(f, "other", "reader");
    char *admin = make_token(f, "ops", "admin");
    start(f, NULL);
    reply r;
    char *q = query_body("SELECT 1 AS one", "csv");
    request(f, "POST", "/v1/query", NULL, q, &r);
    assert_int_equal(r.status, 401);
    lh_buf_release(&r.body);
    request(f, "POST", "/v1/query", reader, q, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.data, "one\n1\n");
    char qid[64];
    header_value(&r, "Lakehouse-Query-Id", qid, sizeof(qid));
    lh_buf_release(&r.body);
    free(q);
    /* the owner and an admin see it; another reader does not */
    int status;
    json_decref(query_state(f, "GET", qid, reader, &status));
    assert_int_equal(status, 200);
    json_decref(query_state(f, "GET", qid, admin, &status));
    assert_int_equal(status, 200);
    json_decref(query_state(f, "GET", qid, other, &status));
    assert_int_equal(status, 404);
    /* a reader may not create */
    q = query_body("CREATE TEMP TABLE t (a INTEGER)", "json");
    request(f, "POST", "/v1/query", reader, q, &r);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body.data, "\"sqlstate\":\"42501\""));
    lh_buf_release(&r.body);
    request(f, "POST", "/v1/query", admin, q, &r);
    assert_int_equal(r.status, 200);
    lh_buf_release(&r.body);
    free(q);
    lh_free_mem(reader);
    lh_free_mem(other);
    lh_free_mem(admin);
}

/* ---- PostgreSQL: cancel and timeout -------------------------------------- */

static void
put32(lh_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                    (uint8_t)v};
    lh_buf_append(b, x, 4);
}

static uint32_t
rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/* Reads backend messages until ReadyForQuery; returns the types seen and
 * the first error's SQLSTATE and message; the pid and key when given. */
static void
pg_until_ready(int fd, char *types, size_t cap, char *code, char *msg,
               int32_t *pid, int32_t *key)
{
    lh_buf in = LH_BUF_INIT;
    size_t nt = 0;
    code[0] = msg[0] = 0;
    lh_us until = lh_mono_now() + 30 * LH_US_PER_SEC;
    for (;;) {
        while (in.len >= 5) {
            uint8_t *p = (uint8_t *)in.data;
            uint32_t len = rd32(p + 1);
            if (in.len < len + 1) {
                break;
            }
            if (nt + 1 < cap) {
                types[nt++] = (char)p[0];
            }
            if (p[0] == 'E' && code[0] == 0) {
                for (uint8_t *f = p + 5; *f != 0; f += strlen((char *)f) + 1) {
                    if (*f == 'C') {
                        snprintf(code, 6, "%s", (char *)f + 1);
                    } else if (*f == 'M') {
                        snprintf(msg, 200, "%s", (char *)f + 1);
                    }
                }
            }
            if (p[0] == 'K' && pid != NULL) {
                *pid = (int32_t)rd32(p + 5);
                *key = (int32_t)rd32(p + 9);
            }
            bool ready = p[0] == 'Z';
            memmove(in.data, in.data + len + 1, in.len - len - 1);
            in.len -= len + 1;
            if (ready) {
                types[nt] = 0;
                lh_buf_release(&in);
                return;
            }
        }
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        assert_true(lh_mono_now() < until);
        if (poll(&pf, 1, 1000) <= 0) {
            continue;
        }
        char tmp[65536];
        ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
        assert_true(n > 0);
        lh_buf_append(&in, tmp, (size_t)n);
    }
}

static int
pg_connect(fixture *f, int32_t *pid, int32_t *key)
{
    int fd = st_dial(f->pg_port);
    assert_true(fd >= 0);
    lh_buf b = LH_BUF_INIT;
    put32(&b, 0);
    put32(&b, 196608);
    lh_buf_append(&b, "user\0u\0\0", 8);
    uint32_t n = (uint32_t)b.len;
    uint8_t *p = (uint8_t *)b.data;
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
    st_send(fd, b.data, b.len);
    lh_buf_release(&b);
    char types[64], code[8], msg[200];
    pg_until_ready(fd, types, sizeof(types), code, msg, pid, key);
    assert_string_equal(code, "");
    return fd;
}

static void
pg_query(int fd, const char *sql)
{
    lh_buf b = LH_BUF_INIT;
    lh_buf_putc(&b, 'Q');
    put32(&b, (uint32_t)(4 + strlen(sql) + 1));
    lh_buf_append(&b, sql, strlen(sql) + 1);
    st_send(fd, b.data, b.len);
    lh_buf_release(&b);
}

static void
test_pg_cancel_and_timeout(void **state)
{
    fixture *f = *state;
    const char *opts[] = {"query_timeout", "3s", NULL};
    start(f, opts);
    int32_t pid = 0, key = 0;
    int fd = pg_connect(f, &pid, &key);
    pg_query(fd, "SELECT count(*) FROM generate_series(1, 100000000000) AS "
                 "g(n)");
    usleep(300000);
    /* CancelRequest on a connection of its own */
    int cfd = st_dial(f->pg_port);
    lh_buf b = LH_BUF_INIT;
    put32(&b, 16);
    put32(&b, 80877102);
    put32(&b, (uint32_t)pid);
    put32(&b, (uint32_t)key);
    lh_us t0 = lh_mono_now();
    st_send(cfd, b.data, b.len);
    lh_buf_release(&b);
    close(cfd);
    char types[64], code[8], msg[200];
    pg_until_ready(fd, types, sizeof(types), code, msg, NULL, NULL);
    assert_string_equal(code, "57014");
    assert_non_null(strstr(msg, "user request"));
    assert_true(lh_mono_now() - t0 < 2 * LH_US_PER_SEC);
    /* the session goes on */
    pg_query(fd, "SELECT 41 + 1");
    pg_until_ready(fd, types, sizeof(types), code, msg, NULL, NULL);
    assert_string_equal(code, "");
    assert_string_equal(types, "TDCZ");
    /* query_timeout */
    pg_query(fd, "SELECT count(*) FROM generate_series(1, 100000000000) AS "
                 "g(n)");
    pg_until_ready(fd, types, sizeof(types), code, msg, NULL, NULL);
    assert_string_equal(code, "57014");
    assert_non_null(strstr(msg, "statement timeout"));
    close(fd);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_formats_match_cli, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_large_result_streams, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_slow_client_progress_cancel, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_query_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_cancel_and_timeout, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
