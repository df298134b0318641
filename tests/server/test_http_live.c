/* The server under conditions a case file cannot script: long polls woken
 * by commits from other connections, live SSE streams, a graceful stop
 * with work in flight, the connection limit, clients that misbehave while
 * others are served, and the OpenAPI document against the routes. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/server_int.h"
#include "server_test.h"

typedef struct fixture {
    char *dir;
    lh_db *db;
    lh_server *srv;
    int port;
} fixture;

static void
start(fixture *f, const char *const *opts)
{
    lh_err err;
    lh_server_config *c;
    assert_int_equal(lh_server_config_new(&c, &err), LH_OK);
    lh_server_config_set(c, "http", "127.0.0.1:0", &err);
    lh_server_config_set(c, "pg", "off", &err);
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
}

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->dir = st_tmpdir();
    lh_err err;
    lh_db_options o = {.flags = LH_OPEN_CREATE};
    assert_int_equal(lh_db_open(f->dir, &o, &f->db, &err), LH_OK);
    const char *t = "{\"name\":\"ev\",\"columns\":[{\"name\":\"n\",\"type\":"
                    "\"BIGINT\"}],\"shards\":3}";
    assert_int_equal(lh_table_create(f->db, t, strlen(t), &err), LH_OK);
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

/* Reads until the peer closes or ms pass; returns what came. */
static char *
read_until_close(int fd, int ms)
{
    lh_buf b = LH_BUF_INIT;
    lh_us until = lh_mono_now() + (lh_us)ms * 1000;
    while (lh_mono_now() < until) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0) {
            continue;
        }
        char tmp[65536];
        ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
        if (n <= 0) {
            break;
        }
        lh_buf_append(&b, tmp, (size_t)n);
    }
    lh_buf_putc(&b, 0);
    return lh_buf_take(&b, NULL);
}

/* Reads until `needle` appears (or ms pass). */
static bool
read_until(int fd, lh_buf *b, const char *needle, int ms)
{
    lh_us until = lh_mono_now() + (lh_us)ms * 1000;
    while (b->data == NULL || strstr(b->data, needle) == NULL) {
        if (lh_mono_now() >= until) {
            return false;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0) {
            continue;
        }
        char tmp[65536];
        ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
        if (n <= 0) {
            return false;
        }
        lh_buf_append(b, tmp, (size_t)n);
    }
    return true;
}

/* One request on its own connection (Connection: close); the whole
 * reply. */
static char *request_on(int fd, const char *method, const char *path,
                        const char *body);

static char *
request(int port, const char *method, const char *path, const char *body)
{
    int fd = st_dial(port);
    assert_true(fd >= 0);
    return request_on(fd, method, path, body);
}

/* The same on a connection already made (closed here); no cmocka
 * assertion, so threads other than the test's may call it. */
static char *
request_on(int fd, const char *method, const char *path, const char *body)
{
    char head[1024];
    int n = snprintf(head, sizeof(head),
                     "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     method, path, body ? strlen(body) : 0);
    st_send(fd, head, (size_t)n);
    if (body != NULL) {
        st_send(fd, body, strlen(body));
    }
    char *r = read_until_close(fd, 10000);
    close(fd);
    return r;
}

static void
append(fixture *f, const char *stream, int n)
{
    char body[128];
    snprintf(body, sizeof(body),
             "{\"stream\":\"%s\",\"type\":\"T\",\"data\":{\"n\":%d}}", stream,
             n);
    char *r = request(f->port, "POST", "/v1/tables/ev/events", body);
    if (strncmp(r, "HTTP/1.1 200", 12) != 0) {
        fail_msg("append: %s", r);
    }
    free(r);
}

static char *
checkpoint_of(const char *reply)
{
    const char *b = strstr(reply, "\r\n\r\n");
    json_t *j = json_loads(b + 4, 0, NULL);
    const char *ck = json_string_value(json_object_get(j, "checkpoint"));
    char *out = strdup(ck ? ck : "");
    json_decref(j);
    return out;
}

static void
test_long_poll_wakes(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    append(f, "a", 1);
    char *r = request(f->port, "GET", "/v1/tables/ev/events?wait=0", NULL);
    char *ck = checkpoint_of(r);
    free(r);

    /* A long poll after everything: it waits, and a commit made through
     * another connection answers it at once. */
    int fd = st_dial(f->port);
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "GET /v1/tables/ev/events?after=%s&wait=20 HTTP/1.1\r\n"
                     "Host: t\r\n\r\n",
                     ck);
    st_send(fd, req, (size_t)n);
    usleep(300000);
    lh_buf got = LH_BUF_INIT;
    assert_false(read_until(fd, &got, "\r\n\r\n", 10)); /* still waiting */
    lh_us t0 = lh_mono_now();
    append(f, "b", 2);
    assert_true(read_until(fd, &got, "\"checkpoint\":\"ck1.", 5000));
    assert_true(read_until(fd, &got, "}\n", 5000));
    lh_us took = lh_mono_now() - t0;
    assert_true(took < 3 * LH_US_PER_SEC);
    assert_non_null(strstr(got.data, "HTTP/1.1 200 OK"));
    assert_non_null(strstr(got.data, "\"stream\":\"b\""));
    assert_null(strstr(got.data, "\"stream\":\"a\""));
    lh_buf_release(&got);

    /* The same connection: a poll that times out answers with nothing
     * and the checkpoint it was given. */
    free(ck);
    r = request(f->port, "GET", "/v1/tables/ev/events?wait=0", NULL);
    ck = checkpoint_of(r);
    free(r);
    n = snprintf(req, sizeof(req),
                 "GET /v1/tables/ev/events?after=%s&wait=1 HTTP/1.1\r\n"
                 "Host: t\r\n\r\n",
                 ck);
    t0 = lh_mono_now();
    st_send(fd, req, (size_t)n);
    assert_true(read_until(fd, &got, "}\n", 5000));
    took = lh_mono_now() - t0;
    assert_true(took >= 900000 && took < 4 * LH_US_PER_SEC);
    char want[300];
    snprintf(want, sizeof(want), "{\"events\":[],\"checkpoint\":\"%s\"}", ck);
    assert_non_null(strstr(got.data, want));
    lh_buf_release(&got);
    close(fd);
    free(ck);
}

static void
test_sse_live(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    /* 2500 events before (more than one read batch), then live ones. */
    lh_buf body = LH_BUF_INIT;
    for (int i = 0; i < 2500; i++) {
        lh_buf_printf(&body,
                      "{\"stream\":\"s%d\",\"type\":\"T\",\"data\":"
                      "{\"n\":%d}}\n",
                      i % 10, i);
    }
    char *r = request(f->port, "POST", "/v1/tables/ev/events", body.data);
    assert_true(strncmp(r, "HTTP/1.1 200", 12) == 0);
    free(r);
    lh_buf_release(&body);
    int fd = st_dial(f->port);
    const char *req = "GET /v1/tables/ev/events HTTP/1.1\r\nHost: t\r\n"
                      "Accept: text/event-stream\r\n\r\n";
    st_send(fd, req, strlen(req));
    lh_buf got = LH_BUF_INIT;
    assert_true(read_until(fd, &got, "\"n\":2499}", 10000));
    for (int i = 0; i < 3; i++) {
        append(f, "live", 10000 + i);
    }
    assert_true(read_until(fd, &got, "\"n\":10002}", 5000));
    /* Every event once, in commit order per shard: count the messages. */
    int msgs = 0;
    for (const char *p = got.data; (p = strstr(p, "\ndata: {")) != NULL; p++) {
        msgs++;
    }
    assert_int_equal(msgs, 2503);
    assert_non_null(strstr(got.data, "text/event-stream"));
    lh_buf_release(&got);
    close(fd);
}

typedef struct stopper {
    lh_server *srv;
    int delay_ms;
} stopper;

static void *
stop_later(void *arg)
{
    stopper *s = arg;
    usleep((useconds_t)s->delay_ms * 1000);
    lh_server_stop(s->srv);
    return NULL;
}

static void
test_graceful_stop(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    /* A long poll waiting, an SSE stream, an idle keep-alive connection. */
    int poll_fd = st_dial(f->port);
    const char *lp = "GET /v1/tables/ev/events?after=now&wait=30 HTTP/1.1\r\n"
                     "Host: t\r\n\r\n";
    st_send(poll_fd, lp, strlen(lp));
    int sse_fd = st_dial(f->port);
    const char *sse = "GET /v1/tables/ev/events HTTP/1.1\r\nHost: t\r\n"
                      "Accept: text/event-stream\r\n\r\n";
    st_send(sse_fd, sse, strlen(sse));
    int idle_fd = st_dial(f->port);
    lh_buf got = LH_BUF_INIT;
    assert_true(read_until(sse_fd, &got, "retry: 1000", 5000));
    lh_buf_release(&got);
    usleep(200000);
    lh_us t0 = lh_mono_now();
    stopper st = {f->srv, 0};
    pthread_t th;
    pthread_create(&th, NULL, stop_later, &st);
    lh_server_wait(f->srv);
    pthread_join(th, NULL);
    assert_true(lh_mono_now() - t0 < 5 * LH_US_PER_SEC);
    /* The long poll was answered (empty, closing); the stream ended
     * properly; the idle connection was closed. */
    char *a = read_until_close(poll_fd, 2000);
    assert_non_null(strstr(a, "HTTP/1.1 200 OK"));
    assert_non_null(strstr(a, "Connection: close"));
    assert_non_null(strstr(a, "{\"events\":[]"));
    char *b = read_until_close(sse_fd, 2000);
    assert_non_null(strstr(b, "0\r\n\r\n"));
    char *c = read_until_close(idle_fd, 2000);
    assert_string_equal(c, "");
    free(a);
    free(b);
    free(c);
    close(poll_fd);
    close(sse_fd);
    close(idle_fd);
    /* Nothing listens any more. */
    assert_int_equal(st_dial(f->port), -1);
}

typedef struct slow_append {
    int port;
    char *reply;
} slow_append;

static void *
append_big(void *arg)
{
    slow_append *s = arg;
    lh_buf body = LH_BUF_INIT;
    for (int i = 0; i < 20000; i++) {
        lh_buf_printf(&body, "{\"stream\":\"big%d\",\"type\":\"T\"}\n", i);
    }
    /* The stop may come before this thread connects (a busy machine): then
     * nothing was sent and the reply stays empty. A cmocka assertion here,
     * off the test's thread, would end the whole process. */
    int fd = st_dial(s->port);
    s->reply = fd >= 0
                   ? request_on(fd, "POST", "/v1/tables/ev/events", body.data)
                   : calloc(1, 1);
    lh_buf_release(&body);
    return NULL;
}

static void
test_stop_finishes_appends(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    /* An append in flight when the stop comes is finished and answered;
     * every event it acked is there afterwards. */
    slow_append sa = {f->port, NULL};
    pthread_t th;
    pthread_create(&th, NULL, append_big, &sa);
    usleep(30000);
    lh_server_stop(f->srv);
    lh_server_wait(f->srv);
    pthread_join(th, NULL);
    if (sa.reply[0] != 0) {
        /* It reached the server before the stop: it completed. */
        assert_true(strncmp(sa.reply, "HTTP/1.1 200", 12) == 0);
        const char *b = strstr(sa.reply, "\r\n\r\n");
        json_t *j = json_loads(b + 4, 0, NULL);
        assert_int_equal(json_array_size(json_object_get(j, "acks")), 20000);
        json_decref(j);
        lh_table_stats st;
        lh_err err;
        assert_int_equal(
            lh_table_stats_get(f->db, "ev", LH_STATS_COUNT, &st, &err), LH_OK);
        assert_int_equal(st.hot_events, 20000);
    }
    free(sa.reply);
}

static void
test_connection_limit(void **state)
{
    fixture *f = *state;
    const char *opts[] = {"max_connections", "4", NULL};
    start(f, opts);
    int fds[4];
    for (int i = 0; i < 4; i++) {
        fds[i] = st_dial(f->port);
        assert_true(fds[i] >= 0);
    }
    usleep(200000);
    /* The fifth is refused with a 503 and closed. */
    int x = st_dial(f->port);
    char *r = read_until_close(x, 3000);
    assert_non_null(strstr(r, "HTTP/1.1 503 Service Unavailable"));
    assert_non_null(strstr(r, "too many connections"));
    free(r);
    close(x);
    /* The four still work. */
    const char *h = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
    st_send(fds[0], h, strlen(h));
    lh_buf got = LH_BUF_INIT;
    assert_true(read_until(fds[0], &got, "\"status\":\"ok\"", 3000));
    lh_buf_release(&got);
    /* One closes: a new one is accepted. */
    close(fds[1]);
    usleep(200000);
    r = request(f->port, "GET", "/healthz", NULL);
    assert_non_null(strstr(r, "HTTP/1.1 200 OK"));
    free(r);
    usleep(200000); /* the server sees the healthz connection close */
    r = request(f->port, "GET", "/metrics", NULL);
    assert_non_null(strstr(r, "lakehouse_connections_refused_total 1\n"));
    free(r);
    for (int i = 0; i < 4; i++) {
        if (i != 1) {
            close(fds[i]);
        }
    }
}

static void
test_bad_clients_isolated(void **state)
{
    fixture *f = *state;
    const char *opts[] = {"header_timeout", "2s", "write_timeout", "2s", NULL};
    start(f, opts);
    lh_buf body = LH_BUF_INIT;
    for (int i = 0; i < 3000; i++) {
        lh_buf_printf(&body,
                      "{\"stream\":\"x%d\",\"type\":\"T\",\"data\":"
                      "{\"n\":%d}}\n",
                      i, i);
    }
    char *r = request(f->port, "POST", "/v1/tables/ev/events", body.data);
    free(r);
    lh_buf_release(&body);
    /* A slow head (a byte every 100 ms), garbage, a half-sent body, and a
     * reader that never reads its event stream. */
    int slow = st_dial(f->port);
    int junk = st_dial(f->port);
    st_send(junk, "\x00\x01\x02garbage\r\n\r\n", 14);
    int half = st_dial(f->port);
    const char *hb = "POST /v1/tables HTTP/1.1\r\nHost: t\r\nContent-Length: "
                     "1000\r\n\r\n{";
    st_send(half, hb, strlen(hb));
    int lazy = st_dial(f->port);
    int small = 4096;
    setsockopt(lazy, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    for (int k = 0; k < 20; k++) {
        const char *sse = "GET /v1/tables/ev/events HTTP/1.1\r\nHost: t\r\n"
                          "Accept: text/event-stream\r\n\r\n";
        st_send(lazy, sse, strlen(sse));
    }
    const char *line = "GET /healthz HTTP/1.1\r\nHost: t\r\n";
    lh_us worst = 0;
    for (size_t i = 0; i < 30; i++) {
        if (i < strlen(line)) {
            st_send(slow, line + i, 1);
        }
        lh_us t0 = lh_mono_now();
        r = request(f->port, "GET", "/v1/tables/ev/streams/x7", NULL);
        lh_us dt = lh_mono_now() - t0;
        worst = LH_MAX(worst, dt);
        assert_non_null(strstr(r, "\"version\":1"));
        free(r);
        usleep(100000);
    }
    /* Others were served quickly all along (a generous bound: the machine
     * may be busy with other builds). */
    assert_true(worst < 3 * LH_US_PER_SEC);
    /* The slow head got 408, the garbage 400; all of them were closed. */
    char *a = read_until_close(slow, 3000);
    assert_non_null(strstr(a, "408"));
    char *b = read_until_close(junk, 3000);
    assert_non_null(strstr(b, "400 Bad Request"));
    free(a);
    free(b);
    r = request(f->port, "GET", "/metrics", NULL);
    assert_null(strstr(r, "lakehouse_connections_dropped_total 0\n"));
    free(r);
    close(slow);
    close(junk);
    close(half);
    close(lazy);
}

static void
test_openapi_matches_routes(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    char *r = request(f->port, "GET", "/v1/openapi.json", NULL);
    const char *b = strstr(r, "\r\n\r\n");
    json_error_t je;
    json_t *doc = json_loads(b + 4, 0, &je);
    if (doc == NULL) {
        fail_msg("openapi.json: %s", je.text);
    }
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")),
                        "3.1.0");
    json_t *paths = json_object_get(doc, "paths");
    size_t n;
    const lh_http_route *routes = lh__http_routes(&n);
    size_t documented = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_object_get(paths, routes[i].path);
        char m[16];
        size_t k = 0;
        for (; routes[i].method[k] && k < sizeof(m) - 1; k++) {
            m[k] = (char)(routes[i].method[k] + ('a' - 'A'));
        }
        m[k] = 0;
        if (p == NULL || json_object_get(p, m) == NULL) {
            fail_msg("route %s %s is not in docs/openapi.json",
                     routes[i].method, routes[i].path);
        }
    }
    const char *path;
    json_t *ops;
    json_object_foreach(paths, path, ops)
    {
        const char *m;
        json_t *op;
        json_object_foreach(ops, m, op)
        {
            bool found = false;
            for (size_t i = 0; i < n; i++) {
                found = found || (strcmp(routes[i].path, path) == 0 &&
                                  strcasecmp(routes[i].method, m) == 0);
            }
            if (!found) {
                fail_msg("docs/openapi.json documents %s %s, which the "
                         "server does not serve",
                         m, path);
            }
            documented++;
        }
    }
    assert_int_equal(documented, n);
    json_decref(doc);
    free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_long_poll_wakes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sse_live, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graceful_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_finishes_appends, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_connection_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_clients_isolated, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_openapi_matches_routes, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
