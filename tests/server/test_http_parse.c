/* The HTTP/1.1 request parser: framing (lengths, chunks, pipelining, any
 * split of the bytes), the limits, and the malformed requests it must
 * refuse with the right status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/server.h"

#define MAX_HEAD 1024
#define MAX_BODY 4096

/* Feeds all of s in pieces of `step` bytes (0 = at once); returns the
 * final status and how many bytes made up the request. */
static lh_http_status
parse_steps(lh_http_parser *p, const char *s, size_t len, size_t step,
            size_t *consumed)
{
    size_t off = 0;
    lh_http_status st = LH_HTTP_MORE;
    while (off <= len) {
        size_t n = step == 0 ? len - off : LH_MIN(step, len - off);
        size_t used = 0;
        st = lh__http_parse(p, s + off, n, &used);
        off += used;
        if (st == LH_HTTP_HEAD) {
            continue;
        }
        if (st != LH_HTTP_MORE || off == len) {
            if (st == LH_HTTP_MORE && off == len) {
                /* let a head without body complete */
                st = lh__http_parse(p, s + off, 0, &used);
                if (st == LH_HTTP_HEAD) {
                    st = lh__http_parse(p, s + off, 0, &used);
                }
            }
            break;
        }
    }
    *consumed = off;
    return st;
}

static lh_http_status
parse(lh_http_parser *p, const char *s, size_t step)
{
    size_t used;
    lh__http_parser_init(p, MAX_HEAD, MAX_BODY);
    return parse_steps(p, s, strlen(s), step, &used);
}

static void
expect_error(const char *req, int status)
{
    lh_http_parser p;
    lh_http_status st = parse(&p, req, 0);
    if (st != LH_HTTP_ERROR || p.status != status) {
        fail_msg("%s\nwant error %d, got state %d status %d (%s)", req, status,
                 (int)st, p.status, p.error);
    }
    lh__http_parser_release(&p);
}

static void
test_simple(void **state)
{
    (void)state;
    static const char *const reqs[] = {
        "GET /v1/tables?x=1 HTTP/1.1\r\nHost: a\r\nAccept:  */*  \r\n\r\n",
        "GET /v1/tables?x=1 HTTP/1.1\nHost: a\nAccept: */*\n\n",
        "\r\n\r\nGET /v1/tables?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n",
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(reqs); i++) {
        for (size_t step = 0; step <= 3; step++) {
            lh_http_parser p;
            assert_int_equal(parse(&p, reqs[i], step), LH_HTTP_DONE);
            assert_string_equal(p.req.method, "GET");
            assert_string_equal(p.req.target, "/v1/tables?x=1");
            assert_int_equal(p.req.minor, 1);
            assert_int_equal(p.req.nheaders, 2);
            assert_string_equal(lh__http_header(&p.req, "accept"), "*/*");
            assert_string_equal(lh__http_header(&p.req, "HOST"), "a");
            assert_null(lh__http_header(&p.req, "Content-Length"));
            assert_true(p.req.keep_alive);
            assert_int_equal(p.req.body_len, 0);
            assert_string_equal(p.req.body, "");
            lh__http_parser_release(&p);
        }
    }
}

static void
test_keep_alive(void **state)
{
    (void)state;
    lh_http_parser p;
    assert_int_equal(parse(&p, "GET / HTTP/1.0\r\n\r\n", 0), LH_HTTP_DONE);
    assert_false(p.req.keep_alive);
    assert_int_equal(p.req.minor, 0);
    lh__http_parser_release(&p);
    assert_int_equal(
        parse(&p, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0),
        LH_HTTP_DONE);
    assert_true(p.req.keep_alive);
    lh__http_parser_release(&p);
    assert_int_equal(parse(&p,
                           "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, "
                           "close\r\n\r\n",
                           0),
                     LH_HTTP_DONE);
    assert_false(p.req.keep_alive);
    assert_true(lh__http_header_has(&p.req, "connection", "FOO"));
    assert_false(lh__http_header_has(&p.req, "connection", "fo"));
    lh__http_parser_release(&p);
}

static void
test_length_body(void **state)
{
    (void)state;
    const char *req = "POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n"
                      "Content-Length: 11\r\n\r\nhello world";
    for (size_t step = 0; step <= 7; step++) {
        lh_http_parser p;
        assert_int_equal(parse(&p, req, step), LH_HTTP_DONE);
        assert_int_equal(p.req.content_length, 11);
        assert_int_equal(p.req.body_len, 11);
        assert_string_equal(p.req.body, "hello world");
        lh__http_parser_release(&p);
    }
}

static void
test_chunked(void **state)
{
    (void)state;
    const char *req = "POST /e HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
                      "Chunked\r\n\r\n"
                      "5;ext=1\r\nhello\r\n"
                      "1\r\n \r\n"
                      "5\nworld\n"
                      "0\r\nX-Trailer: yes\r\n\r\n";
    for (size_t step = 0; step <= 9; step++) {
        lh_http_parser p;
        size_t used;
        lh__http_parser_init(&p, MAX_HEAD, MAX_BODY);
        lh_http_status st = parse_steps(&p, req, strlen(req), step, &used);
        assert_int_equal(st, LH_HTTP_DONE);
        assert_true(p.req.chunked);
        assert_int_equal(used, strlen(req));
        assert_string_equal(p.req.body, "hello world");
        lh__http_parser_release(&p);
    }
}

static void
test_pipelined(void **state)
{
    (void)state;
    const char *two = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"
                      "abcGET /b HTTP/1.1\r\nHost: a\r\n\r\n";
    lh_http_parser p;
    lh__http_parser_init(&p, MAX_HEAD, MAX_BODY);
    size_t used;
    assert_int_equal(parse_steps(&p, two, strlen(two), 0, &used), LH_HTTP_DONE);
    assert_string_equal(p.req.target, "/a");
    assert_string_equal(p.req.body, "abc");
    const char *rest = two + used;
    assert_true(strncmp(rest, "GET /b", 6) == 0);
    lh__http_parser_reset(&p);
    assert_int_equal(parse_steps(&p, rest, strlen(rest), 0, &used),
                     LH_HTTP_DONE);
    assert_string_equal(p.req.target, "/b");
    assert_int_equal(used, strlen(rest));
    lh__http_parser_release(&p);
}

static void
test_expect(void **state)
{
    (void)state;
    lh_http_parser p;
    lh__http_parser_init(&p, MAX_HEAD, MAX_BODY);
    const char *h = "PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                    "Content-Length: 2\r\n\r\n";
    size_t used;
    /* The head alone: HEAD, then MORE until the body comes. */
    assert_int_equal(lh__http_parse(&p, h, strlen(h), &used), LH_HTTP_HEAD);
    assert_int_equal(used, strlen(h));
    assert_true(p.req.expect_continue);
    assert_int_equal(lh__http_parse(&p, "", 0, &used), LH_HTTP_MORE);
    assert_int_equal(lh__http_parse(&p, "ok", 2, &used), LH_HTTP_DONE);
    assert_string_equal(p.req.body, "ok");
    lh__http_parser_release(&p);
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n", 417);
}

static void
test_malformed(void **state)
{
    (void)state;
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n",
                 400);
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                 "Content-Length: 4\r\n\r\n",
                 400);
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
                 400);
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n",
                 400);
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
                 501);
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, "
                 "chunked\r\n\r\n",
                 501);
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n  folded\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\n\r\n", 400); /* no Host */
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
    expect_error("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
    expect_error("GET / FTP/1.0\r\n\r\n", 400);
    expect_error("GET /\r\n\r\n", 400);
    expect_error("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_error("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nX: a\001b\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
                 "chunked\r\n\r\nzz\r\n",
                 400);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
                 "chunked\r\n\r\n2\r\nabX",
                 400);
}

static void
test_limits(void **state)
{
    (void)state;
    char big[4 * MAX_HEAD];
    /* A head past the limit: 431; a request line past it: 414. */
    snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\nX: %0*d\r\n\r\n",
             MAX_HEAD, 0);
    expect_error(big, 431);
    snprintf(big, sizeof(big), "GET /%0*d HTTP/1.1\r\nHost: a\r\n\r\n",
             MAX_HEAD + 10, 0);
    expect_error(big, 414);
    /* Too many fields. */
    size_t n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
    for (int i = 0; i <= LH_HTTP_MAX_HEADERS; i++) {
        n += (size_t)snprintf(big + n, sizeof(big) - n, "a:\r\n");
    }
    snprintf(big + n, sizeof(big) - n, "\r\n");
    lh_http_parser p;
    lh__http_parser_init(&p, sizeof(big), MAX_BODY);
    size_t used;
    assert_int_equal(parse_steps(&p, big, strlen(big), 0, &used),
                     LH_HTTP_ERROR);
    assert_int_equal(p.status, 431);
    lh__http_parser_release(&p);
    /* A body past the limit: refused at the head when its length says so,
     * and while the chunks arrive otherwise. */
    snprintf(big, sizeof(big),
             "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n",
             MAX_BODY + 1);
    expect_error(big, 413);
    snprintf(big, sizeof(big),
             "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
             "\r\n%x\r\n",
             MAX_BODY + 1);
    expect_error(big, 413);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                 "\r\nffffffffffffffffffff\r\n",
                 413);
    /* Exactly at the limit is fine. */
    char *body = malloc(MAX_BODY + 200);
    n = (size_t)snprintf(body, 200,
                         "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: "
                         "%d\r\n\r\n",
                         MAX_BODY);
    memset(body + n, 'x', MAX_BODY);
    body[n + MAX_BODY] = 0;
    lh__http_parser_init(&p, MAX_HEAD, MAX_BODY);
    assert_int_equal(parse_steps(&p, body, strlen(body), 100, &used),
                     LH_HTTP_DONE);
    assert_int_equal(p.req.body_len, MAX_BODY);
    lh__http_parser_release(&p);
    free(body);
}

static void
test_url_decode(void **state)
{
    (void)state;
    char out[32];
    assert_true(lh__url_decode("a%2Fb+c", 7, true, out, sizeof(out)));
    assert_string_equal(out, "a/b c");
    assert_true(lh__url_decode("a%2fb+c", 7, false, out, sizeof(out)));
    assert_string_equal(out, "a/b+c");
    assert_true(lh__url_decode("%C3%A9", 6, false, out, sizeof(out)));
    assert_string_equal(out, "\xc3\xa9");
    assert_false(lh__url_decode("%4", 2, false, out, sizeof(out)));
    assert_false(lh__url_decode("%zz", 3, false, out, sizeof(out)));
    assert_false(lh__url_decode("a%00b", 5, false, out, sizeof(out)));
    assert_false(lh__url_decode("abcdef", 6, false, out, 4));
    assert_true(lh__url_decode("", 0, false, out, 1));
    assert_string_equal(out, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple),      cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_length_body), cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_pipelined),   cmocka_unit_test(test_expect),
        cmocka_unit_test(test_malformed),   cmocka_unit_test(test_limits),
        cmocka_unit_test(test_url_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
