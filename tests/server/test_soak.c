/*
 * Many connections at once, for a while: each of --connections keep-alive
 * HTTP connections loops over appends to a stream of its own (one event,
 * the exact expected version) and reads (its stream, a table-wide poll,
 * /healthz), all driven from one poll() loop over non-blocking sockets.
 * Afterwards every stream is read back: each acknowledged event must be
 * there exactly once, at the version its ack gave, and nothing else. Any
 * error reply, refused or dropped connection fails the test.
 *
 * Default (CTest server/test_soak): 200 connections for 5 s. The issue's
 * run (CTest integration/server_soak, label slow, with LH_SLOW_TESTS=1):
 * --connections 1000 --seconds 60. A fifth of the requests are SQL queries
 * (POST /v1/query with a parameter), each checked against its own answer.
 */
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <sys/resource.h>

#include "lakehouse.h"
#include "server_test.h"
#include "util/util.h"

typedef struct client {
    int fd;
    int id;
    int64_t version; /* of its stream, as acked */
    int kind;        /* the request in flight: 0 append, 1..3 reads */
    lh_buf out;      /* unsent request bytes */
    size_t sent;
    lh_buf in;
    char (*ids)[37]; /* acked event ids by version - 1 */
    size_t cap;
} client;

static int nconn = 200;
static double seconds = 5;

static void
start_request(client *c, int port_unused)
{
    (void)port_unused;
    lh_buf_reset(&c->out);
    c->sent = 0;
    c->kind = (int)(lh_mono_now() / 1000 + c->id) % 5;
    if (c->kind == 0 || c->kind == 2) {
        c->kind = 0; /* two fifths of the requests append */
    }
    if (c->kind == 0) {
        char body[256];
        int n =
            snprintf(body, sizeof(body),
                     "{\"stream\":\"c%d\",\"type\":\"T\",\"expected_version"
                     "\":%lld,\"data\":{\"n\":%lld}}",
                     c->id, (long long)c->version, (long long)c->version + 1);
        lh_buf_printf(&c->out,
                      "POST /v1/tables/ev/events HTTP/1.1\r\nHost: s\r\n"
                      "Content-Length: %d\r\n\r\n%s",
                      n, body);
    } else if (c->kind == 1) {
        lh_buf_printf(&c->out,
                      "GET /v1/tables/ev/streams/c%d?direction=backward&limit="
                      "1 HTTP/1.1\r\nHost: s\r\n\r\n",
                      c->id);
    } else if (c->kind == 3) {
        lh_buf_puts(&c->out, "GET /v1/tables/ev/events?after=now&wait=0 "
                             "HTTP/1.1\r\nHost: s\r\n\r\n");
    } else {
        /* a SQL query with a parameter of its own */
        char body[256];
        int n = snprintf(body, sizeof(body),
                         "{\"sql\":\"SELECT $1::BIGINT * 2 AS d, count(*) AS "
                         "c FROM generate_series(1, 100) AS g(n)\","
                         "\"params\":[%d]}",
                         c->id);
        lh_buf_printf(&c->out,
                      "POST /v1/query HTTP/1.1\r\nHost: s\r\n"
                      "Content-Length: %d\r\n\r\n%s",
                      n, body);
    }
}

/* A whole reply in c->in: its status and body, or 0 when incomplete. */
static int
whole_reply(client *c, const char **body, size_t *len, size_t *total)
{
    if (c->in.data == NULL) {
        return 0;
    }
    char *end = strstr(c->in.data, "\r\n\r\n");
    if (end == NULL) {
        return 0;
    }
    const char *cl = strcasestr(c->in.data, "Content-Length: ");
    if (cl == NULL || cl > end) {
        fail_msg("client %d: a reply without a length: %s", c->id, c->in.data);
    }
    size_t n = strtoul(cl + 16, NULL, 10);
    size_t head = (size_t)(end - c->in.data) + 4;
    if (c->in.len < head + n) {
        return 0;
    }
    *body = c->in.data + head;
    *len = n;
    *total = head + n;
    return atoi(c->in.data + 9);
}

static void
on_reply(client *c, int status, const char *body, size_t len)
{
    if (status != 200) {
        fail_msg("client %d: request kind %d got %d: %.*s", c->id, c->kind,
                 status, (int)len, body);
    }
    if (c->kind == 4) {
        char want[64];
        snprintf(want, sizeof(want), "{\"d\":%d,\"c\":100}", 2 * c->id);
        if (memmem(body, len, want, strlen(want)) == NULL) {
            fail_msg("client %d: query answered %.*s", c->id, (int)len, body);
        }
        return;
    }
    if (c->kind != 0) {
        return;
    }
    json_error_t je;
    json_t *j = json_loadb(body, len, 0, &je);
    json_t *ack = json_array_get(json_object_get(j, "acks"), 0);
    int64_t v = json_integer_value(json_object_get(ack, "version"));
    const char *id = json_string_value(json_object_get(ack, "event_id"));
    if (v != c->version + 1 || id == NULL) {
        fail_msg("client %d: ack %.*s after version %lld", c->id, (int)len,
                 body, (long long)c->version);
    }
    if ((size_t)v > c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->ids = realloc(c->ids, c->cap * sizeof(*c->ids));
    }
    snprintf(c->ids[v - 1], 37, "%s", id);
    c->version = v;
    json_decref(j);
}

static void
verify(int port, client *cs, int n)
{
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        client *c = &cs[i];
        total += c->version;
        int64_t from = 1;
        int64_t seen = 0;
        while (from <= c->version) {
            int fd = st_dial(port);
            char req[200];
            int k = snprintf(req, sizeof(req),
                             "GET /v1/tables/ev/streams/c%d?from=%lld&limit="
                             "1000 HTTP/1.1\r\nHost: s\r\nConnection: close\r\n"
                             "\r\n",
                             c->id, (long long)from);
            st_send(fd, req, (size_t)k);
            lh_buf r = LH_BUF_INIT;
            char tmp[65536];
            ssize_t got;
            while ((got = recv(fd, tmp, sizeof(tmp), 0)) > 0) {
                lh_buf_append(&r, tmp, (size_t)got);
            }
            close(fd);
            const char *b = r.data ? strstr(r.data, "\r\n\r\n") : NULL;
            json_t *j = b ? json_loads(b + 4, 0, NULL) : NULL;
            json_t *evs = json_object_get(j, "events");
            if (json_integer_value(json_object_get(j, "version")) !=
                c->version) {
                fail_msg("stream c%d: version %lld, %lld acked", c->id,
                         (long long)json_integer_value(
                             json_object_get(j, "version")),
                         (long long)c->version);
            }
            size_t m = json_array_size(evs);
            if (m == 0) {
                fail_msg("stream c%d: nothing from version %lld", c->id,
                         (long long)from);
            }
            for (size_t e = 0; e < m; e++) {
                json_t *ev = json_array_get(evs, e);
                int64_t v = json_integer_value(json_object_get(ev, "version"));
                const char *id =
                    json_string_value(json_object_get(ev, "event_id"));
                if (v != from + (int64_t)e || strcmp(id, c->ids[v - 1]) != 0) {
                    fail_msg("stream c%d: version %lld is %s, acked %s", c->id,
                             (long long)v, id, c->ids[v - 1]);
                }
                seen++;
            }
            from += (int64_t)m;
            json_decref(j);
            lh_buf_release(&r);
        }
        assert_int_equal(seen, c->version);
    }
    printf("# %d connections, %.0f s: %lld acknowledged events, every one "
           "read back once at its version\n",
           n, seconds, (long long)total);
}

static void
test_soak(void **state)
{
    (void)state;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < (rlim_t)nconn * 2 + 500) {
        rl.rlim_cur = LH_MIN(rl.rlim_max, (rlim_t)nconn * 2 + 500);
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    char *dir = st_tmpdir();
    lh_db *db;
    lh_err err;
    lh_db_options o = {.flags = LH_OPEN_CREATE};
    assert_int_equal(lh_db_open(dir, &o, &db, &err), LH_OK);
    const char *t = "{\"name\":\"ev\",\"columns\":[{\"name\":\"n\",\"type\":"
                    "\"BIGINT\"}],\"shards\":8}";
    assert_int_equal(lh_table_create(db, t, strlen(t), &err), LH_OK);
    lh_server_config *cfg;
    lh_server_config_new(&cfg, &err);
    lh_server_config_set(cfg, "http", "127.0.0.1:0", &err);
    lh_server_config_set(cfg, "pg", "off", &err);
    lh_server *srv;
    if (lh_server_start(db, cfg, &srv, &err) != LH_OK) {
        fail_msg("%s", err.msg);
    }
    int port = atoi(strrchr(lh_server_address(srv, "http"), ':') + 1);
    client *cs = calloc((size_t)nconn, sizeof(*cs));
    struct pollfd *pf = calloc((size_t)nconn, sizeof(*pf));
    for (int i = 0; i < nconn; i++) {
        cs[i].id = i;
        cs[i].fd = st_dial(port);
        if (cs[i].fd < 0) {
            fail_msg("connection %d refused", i);
        }
        fcntl(cs[i].fd, F_SETFL, O_NONBLOCK);
        lh_buf_init(&cs[i].out);
        lh_buf_init(&cs[i].in);
        start_request(&cs[i], port);
    }
    lh_us end = lh_mono_now() + (lh_us)(seconds * 1e6);
    uint64_t replies = 0;
    int busy = nconn;
    while (busy > 0) {
        bool stopping = lh_mono_now() >= end;
        for (int i = 0; i < nconn; i++) {
            client *c = &cs[i];
            pf[i].fd = c->fd;
            pf[i].events = c->sent < c->out.len ? POLLOUT : POLLIN;
            if (c->fd < 0) {
                pf[i].fd = -1;
            }
        }
        if (poll(pf, (nfds_t)nconn, 1000) < 0) {
            fail_msg("poll: %s", strerror(errno));
        }
        for (int i = 0; i < nconn; i++) {
            client *c = &cs[i];
            if (c->fd < 0 || pf[i].revents == 0) {
                continue;
            }
            if (pf[i].revents & POLLOUT) {
                ssize_t w = send(c->fd, c->out.data + c->sent,
                                 c->out.len - c->sent, MSG_NOSIGNAL);
                if (w < 0 && errno != EAGAIN) {
                    fail_msg("client %d: send: %s", i, strerror(errno));
                }
                c->sent += w > 0 ? (size_t)w : 0;
                continue;
            }
            char tmp[65536];
            ssize_t r = recv(c->fd, tmp, sizeof(tmp), 0);
            if (r == 0 || (r < 0 && errno != EAGAIN)) {
                fail_msg("client %d: the server closed the connection", i);
            }
            if (r < 0) {
                continue;
            }
            lh_buf_append(&c->in, tmp, (size_t)r);
            const char *body;
            size_t len, total;
            int st = whole_reply(c, &body, &len, &total);
            if (st == 0) {
                continue;
            }
            on_reply(c, st, body, len);
            replies++;
            memmove(c->in.data, c->in.data + total, c->in.len - total);
            c->in.len -= total;
            c->in.data[c->in.len] = 0;
            if (stopping) {
                close(c->fd);
                c->fd = -1;
                busy--;
            } else {
                start_request(c, port);
            }
        }
    }
    printf("# %llu replies\n", (unsigned long long)replies);
    char u[64];
    snprintf(u, sizeof(u), "%d", port);
    /* The connections are closed: nothing was dropped or refused. */
    int fd = st_dial(port);
    const char *m = "GET /metrics HTTP/1.1\r\nHost: s\r\nConnection: close\r\n"
                    "\r\n";
    st_send(fd, m, strlen(m));
    lh_buf r = LH_BUF_INIT;
    char tmp[65536];
    ssize_t got;
    while ((got = recv(fd, tmp, sizeof(tmp), 0)) > 0) {
        lh_buf_append(&r, tmp, (size_t)got);
    }
    close(fd);
    assert_non_null(strstr(r.data, "lakehouse_connections_refused_total 0\n"));
    assert_non_null(strstr(r.data, "lakehouse_connections_dropped_total 0\n"));
    assert_non_null(
        strstr(r.data, "lakehouse_http_requests_total{code=\"5xx\"} 0\n"));
    assert_non_null(
        strstr(r.data, "lakehouse_http_requests_total{code=\"4xx\"} 0\n"));
    lh_buf_release(&r);
    verify(port, cs, nconn);
    for (int i = 0; i < nconn; i++) {
        lh_buf_release(&cs[i].out);
        lh_buf_release(&cs[i].in);
        free(cs[i].ids);
    }
    free(cs);
    free(pf);
    lh_server_close(srv);
    lh_server_config_free(cfg);
    lh_db_close(db);
    st_rmdir(dir);
}

int
main(int argc, char **argv)
{
    /* --slow: the long run, only when asked for. */
    if (argc > 1 && strcmp(argv[1], "--slow") == 0) {
        const char *on = getenv("LH_SLOW_TESTS");
        if (on == NULL || strcmp(on, "1") != 0) {
            printf("skipped: the 60 s soak runs with LH_SLOW_TESTS=1\n");
            return 77;
        }
        argc--;
        argv++;
    }
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--connections") == 0) {
            nconn = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--seconds") == 0) {
            seconds = atof(argv[i + 1]);
        }
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_soak)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
