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
#include <jansson.h>

#include "fuzz_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
setup(void)
{
    static const char *const opts[][2] = {
        {"http", "127.0.0.1:0"},  {"pg", "off"},
        {"io_threads", "1"},      {"workers", "2"},
        {"max_body", "64KiB"},    {"max_header", "8KiB"},
        {"header_timeout", "1s"}, {"idle_timeout", "1s"},
        {"long_poll_max", "0"},   {"write_timeout", "2s"},
    };
    fz_start("fuzz_http",
             "{\"name\":\"ev\",\"shards\":2,\"columns\":[{\"name\":\"n\","
             "\"type\":\"BIGINT\"},{\"name\":\"s\",\"type\":"
             "\"VARCHAR(8)\"}]}",
             opts, sizeof(opts) / sizeof(opts[0]), "http");
}

/* Every line our event parser took is JSON to jansson too: the one-pass
 * parser is never laxer than the reference about the grammar (duplicate
 * keys inside a payload are lh_append's to refuse, so jansson allows them
 * here). */
static void
jansson_agrees(const char *body, size_t len)
{
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(body + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - body) : len;
        size_t k = i;
        while (k < e &&
               (body[k] == ' ' || body[k] == '\t' || body[k] == '\r')) {
            k++;
        }
        if (k < e) {
            json_error_t je;
            json_t *j = json_loadb(body + i, e - i, 0, &je);
            if (j == NULL) {
                fz_die("events", "we took a line jansson refuses");
            }
            json_decref(j);
        }
        i = nl ? e + 1 : len;
    }
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
            fz_die("parser", "consumed more than it was given");
        }
        off += used;
        if (st == LH_HTTP_ERROR) {
            if (p.status < 400 || p.error[0] == 0) {
                fz_die("parser", "an error without status or message");
            }
            break;
        }
        if (st == LH_HTTP_DONE) {
            if (p.req.body_len > 8192 || p.req.body[p.req.body_len] != 0 ||
                strlen(p.req.target) == 0 || p.req.method[0] == 0) {
                fz_die("parser", "a malformed complete request");
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
                    fz_die("events", err.msg);
                }
                if (rc == LH_OK && nd == 1) {
                    jansson_agrees(p.req.body, p.req.body_len);
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fz.srv == NULL) {
        setup();
    }
    parse_layer(data, size);

    static char out[1 << 20];
    size_t n = fz_exchange(NULL, 0, data + (size > 0), size - (size > 0), out,
                           sizeof(out) - 1);
    out[n] = 0;
    if (n > 0 && strncmp(out, "HTTP/1.", 7) != 0) {
        fz_die("server", "a reply that is not HTTP/1.x");
    }
    static const char health[] = "GET /healthz HTTP/1.1\r\nHost: f\r\n\r\n";
    n = fz_exchange((const uint8_t *)health, sizeof(health) - 1, NULL, 0, out,
                    sizeof(out) - 1);
    out[n] = 0;
    if (strstr(out, "HTTP/1.1 200 OK") == NULL) {
        fz_die("server", "no longer answers /healthz");
    }
    return 0;
}
