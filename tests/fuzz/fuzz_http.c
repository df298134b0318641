/*
 * fuzz_http: the server's handling of HTTP requests, the bytes every
 * client sends.
 *
 * Each input is used twice:
 *
 * 1. Fed to the request parser (lh__http_parse) in pieces whose size the
 *    first byte picks, request after request as a keep-alive connection
 *    would, and each body the parser completes is also parsed as events
 *    (JSON and NDJSON). Properties: the parser never consumes more than it
 *    was given, a complete request's strings are terminated and its body
 *    within the limit, an error carries a status and a message.
 * 2. Sent over TCP, whole, to a real server in this process (started at
 *    the first call on a data directory under /dev/shm, where fsync is
 *    cheap, with a table "ev", a token-free configuration and short
 *    timeouts); the connection is half-closed and the replies read until
 *    the server closes. Properties: every byte the server sends belongs to
 *    replies that start with an HTTP/1.x status line, and the server
 *    still answers /healthz afterwards.
 */
#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmpdir[64];
static lh_db *db;
static lh_server *srv;
static int port;

static void
die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_http: %s: %s\n", what, detail);
    abort();
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void
cleanup(void)
{
    lh_server_close(srv);
    lh_db_close(db);
    if (tmpdir[0] != '\0') {
        nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    }
}

static void
setup(void)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(tmpdir, sizeof(tmpdir), "%s/lh-fuzz-http-XXXXXX", base);
    if (mkdtemp(tmpdir) == NULL) {
        die("mkdtemp", tmpdir);
    }
    atexit(cleanup);
    char dir[96];
    snprintf(dir, sizeof(dir), "%s/data", tmpdir);
    lh_err err;
    lh_db_options o = {.flags = LH_OPEN_CREATE, .threads = 1};
    if (lh_db_open(dir, &o, &db, &err) != LH_OK) {
        die("open", err.msg);
    }
    static const char t[] =
        "{\"name\":\"ev\",\"shards\":2,\"columns\":[{\"name\":\"n\",\"type\":"
        "\"BIGINT\"},{\"name\":\"s\",\"type\":\"VARCHAR(8)\"}]}";
    if (lh_table_create(db, t, strlen(t), &err) != LH_OK) {
        die("table", err.msg);
    }
    lh_server_config *c;
    lh_server_config_new(&c, &err);
    static const char *const opts[][2] = {
        {"http", "127.0.0.1:0"},  {"pg", "off"},
        {"io_threads", "1"},      {"workers", "2"},
        {"max_body", "64KiB"},    {"max_header", "8KiB"},
        {"header_timeout", "1s"}, {"idle_timeout", "1s"},
        {"long_poll_max", "0"},   {"write_timeout", "2s"},
    };
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        if (lh_server_config_set(c, opts[i][0], opts[i][1], &err) != LH_OK) {
            die("option", err.msg);
        }
    }
    if (lh_server_start(db, c, &srv, &err) != LH_OK) {
        die("start", err.msg);
    }
    lh_server_config_free(c);
    port = atoi(strrchr(lh_server_address(srv, "http"), ':') + 1);
}

static void
parse_layer(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return;
    }
    size_t step = (size_t)(data[0] % 17) + 1;
    data++;
    size--;
    lh_http_parser p;
    lh__http_parser_init(&p, 2048, 8192);
    size_t off = 0;
    while (off <= size) {
        size_t n = LH_MIN(step, size - off);
        size_t used = 0;
        lh_http_status st =
            lh__http_parse(&p, (const char *)data + off, n, &used);
        if (used > n) {
            die("parser", "consumed more than it was given");
        }
        off += used;
        if (st == LH_HTTP_ERROR) {
            if (p.status < 400 || p.error[0] == 0) {
                die("parser", "an error without status or message");
            }
            break;
        }
        if (st == LH_HTTP_DONE) {
            if (p.req.body_len > 8192 || p.req.body[p.req.body_len] != 0 ||
                strlen(p.req.target) == 0 || p.req.method[0] == 0) {
                die("parser", "a malformed complete request");
            }
            for (size_t i = 0; i < p.req.nheaders; i++) {
                (void)strlen(p.req.headers[i].name);
                (void)strlen(p.req.headers[i].value);
            }
            for (int nd = 0; nd < 2; nd++) {
                lh_event_batch b;
                lh_err err;
                lh_rc rc = lh__event_batch_parse(p.req.body, p.req.body_len,
                                                 nd == 1, 100, &b, &err);
                if (rc != LH_OK && rc != LH_EINVAL && rc != LH_ELIMIT) {
                    die("events", err.msg);
                }
                lh__event_batch_release(&b);
            }
            lh__http_parser_reset(&p);
            continue;
        }
        if (st == LH_HTTP_MORE && used == n && off == size) {
            break;
        }
    }
    lh__http_parser_release(&p);
}

static int
dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        die("connect", "the server does not accept");
    }
    return fd;
}

/* Sends data, half-closes, reads everything until the server closes. */
static size_t
exchange(const uint8_t *data, size_t size, char *out, size_t cap)
{
    int fd = dial();
    size_t off = 0, got = 0;
    bool shut = false;
    lh_us deadline = lh_mono_now() + 10 * LH_US_PER_SEC;
    for (;;) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (off < size) {
            pf.events |= POLLOUT;
        } else if (!shut) {
            shutdown(fd, SHUT_WR);
            shut = true;
        }
        if (poll(&pf, 1, 100) > 0) {
            if ((pf.revents & POLLOUT) && off < size) {
                ssize_t w = send(fd, data + off, size - off,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w > 0) {
                    off += (size_t)w;
                } else if (w < 0) {
                    off = size; /* the server closed on us: fine */
                }
            }
            if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
                char tmp[16384];
                ssize_t r = recv(fd, tmp, sizeof(tmp), 0);
                if (r <= 0) {
                    break;
                }
                size_t k = LH_MIN((size_t)r, cap - got);
                memcpy(out + got, tmp, k);
                got += k;
            }
        }
        if (lh_mono_now() > deadline) {
            die("server", "did not close a finished connection in 10 s");
        }
    }
    close(fd);
    return got;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (srv == NULL) {
        setup();
    }
    parse_layer(data, size);

    static char out[1 << 20];
    size_t n =
        exchange(data + (size > 0), size - (size > 0), out, sizeof(out) - 1);
    out[n] = 0;
    if (n > 0 && strncmp(out, "HTTP/1.", 7) != 0) {
        die("server", "a reply that is not HTTP/1.x");
    }
    static const char health[] = "GET /healthz HTTP/1.1\r\nHost: f\r\n\r\n";
    n = exchange((const uint8_t *)health, sizeof(health) - 1, out,
                 sizeof(out) - 1);
    out[n] = 0;
    if (strstr(out, "HTTP/1.1 200 OK") == NULL) {
        die("server", "no longer answers /healthz");
    }
    return 0;
}
