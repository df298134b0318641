/* Unit tests: what only the S3 store does. The contract every store keeps
 * runs on s3rver in test_io.c; here:
 *  - configuration: the URI, the environment, the shared AWS files;
 *  - signatures: AWS's worked example (GET object, examplebucket), and
 *    every kind of request the store sends, signed again by botocore's
 *    S3SigV4Auth from what libcurl put on the wire;
 *  - the request shape of conditional writes (s3rver ignores them), the
 *    mapping of statuses and S3 error bodies to codes, retries (503, 429,
 *    500, timeouts, lost answers; never 4xx), a retried conditional write
 *    that finds its own earlier try;
 *  - against s3rver: virtual-hosted addressing, listings past 1000 keys,
 *    a store prefix, multipart above the threshold, threads.
 * A loopback server in this file (`proxy`) sits between the store and
 * s3rver: it records each request and, by a script, forwards it, answers
 * it itself, stalls, or forwards it and drops the answer. */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io.h"
#include "io/s3_int.h"
#include "s3_peer.h"

static s3peer peer;
static bool have_peer;
static char home[64]; /* an empty HOME, so no ~/.aws of the machine counts */

#define AK S3PEER_KEY
#define SK S3PEER_SECRET

/* call must return LH_OK; else its err.msg is the failure. */
#define OK(call)                                                               \
    do {                                                                       \
        lh_rc rc_ = (call);                                                    \
        if (rc_ != LH_OK) {                                                    \
            fail_msg("%s: %s: %s", #call, lh_rc_name(rc_), err.msg);           \
        }                                                                      \
    } while (0)

static void
expect_body(lh_io_store *s, const char *key, const char *text)
{
    lh_buf b = LH_BUF_INIT;
    lh_err err;
    lh_rc rc = lh_io_get(s, key, &b, NULL, &err);
    if (rc != LH_OK) {
        fail_msg("get \"%s\": %s", key, err.msg);
    }
    assert_string_equal(b.data != NULL ? b.data : "", text);
    lh_buf_release(&b);
}

/* ---- the loopback proxy -------------------------------------------------- */

typedef enum act_kind { FORWARD, REPLY, STALL, DROP } act_kind;

typedef struct action {
    act_kind kind;
    int status;          /* REPLY */
    const char *headers; /* REPLY: extra header lines, each ending "\r\n" */
    const char *body;    /* REPLY */
    int stall_ms;        /* STALL */
} action;

typedef struct captured {
    char method[16];
    char target[4096];
    char head[16384]; /* the header lines after the request line */
    char *body;
    size_t body_len;
} captured;

enum { SCRIPT_MAX = 32, CAPTURE_MAX = 64 };

typedef struct proxy {
    int fd;
    int port;
    int upstream; /* s3rver's port; 0: answer 200 to what is not scripted */
    pthread_t thread;
    pthread_mutex_t mu;
    action script[SCRIPT_MAX];
    size_t nscript;
    size_t next;
    captured reqs[CAPTURE_MAX];
    size_t nreqs;
    volatile bool stop;
} proxy;

static bool
send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Finds "name:" in a block of header lines (any case); its trimmed value
 * into buf. */
static bool
header_value(const char *head, const char *name, char *buf, size_t size)
{
    size_t k = strlen(name);
    for (const char *p = head; p != NULL && *p != '\0';) {
        const char *eol = strstr(p, "\r\n");
        if (strncasecmp(p, name, k) == 0 && p[k] == ':') {
            const char *v = p + k + 1;
            while (*v == ' ') {
                v++;
            }
            size_t n = eol != NULL ? (size_t)(eol - v) : strlen(v);
            snprintf(buf, size, "%.*s", (int)n, v);
            return true;
        }
        p = eol != NULL ? eol + 2 : NULL;
    }
    return false;
}

/* Sends the request to s3rver and returns its whole answer (malloc'ed). */
static char *
forward(const proxy *px, const captured *c, size_t *len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)px->upstream)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return NULL;
    }
    /* The head again, without Expect (answered here already) and with
     * Connection: close, so the answer ends at EOF. */
    char *head = malloc(sizeof(c->head) + sizeof(c->target) + 64);
    int n = snprintf(head, sizeof(c->head) + sizeof(c->target) + 64,
                     "%s %s HTTP/1.1\r\n", c->method, c->target);
    for (const char *p = c->head; *p != '\0';) {
        const char *eol = strstr(p, "\r\n");
        size_t l = eol != NULL ? (size_t)(eol - p) + 2 : strlen(p);
        if (strncasecmp(p, "expect:", 7) != 0 &&
            strncasecmp(p, "connection:", 11) != 0) {
            memcpy(head + n, p, l);
            n += (int)l;
        }
        p += l;
    }
    n += sprintf(head + n, "Connection: close\r\n\r\n");
    send_all(fd, head, (size_t)n);
    free(head);
    send_all(fd, c->body, c->body_len);
    size_t cap = 1 << 16;
    char *out = malloc(cap);
    *len = 0;
    for (;;) {
        if (*len == cap) {
            cap *= 2;
            out = realloc(out, cap);
        }
        ssize_t r = recv(fd, out + *len, cap - *len, 0);
        if (r <= 0) {
            break;
        }
        *len += (size_t)r;
    }
    close(fd);
    return out;
}

static void
reply(int fd, const captured *c, const action *a)
{
    char head[2048];
    const char *body = a->body != NULL ? a->body : "";
    int n =
        snprintf(head, sizeof(head),
                 "HTTP/1.1 %d Scripted\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n%s\r\n",
                 a->status, strlen(body), a->headers != NULL ? a->headers : "");
    send_all(fd, head, (size_t)n);
    if (strcmp(c->method, "HEAD") != 0) {
        send_all(fd, body, strlen(body));
    }
}

/* Reads one request from fd into c; false when the client went away. */
static bool
read_request(int fd, captured *c)
{
    static char buf[1 << 16];
    size_t n = 0;
    char *end = NULL;
    while (end == NULL) {
        if (n == sizeof(buf) - 1) {
            return false;
        }
        ssize_t r = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);
        if (r <= 0) {
            return false;
        }
        n += (size_t)r;
        buf[n] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    char *line_end = strstr(buf, "\r\n");
    *line_end = '\0';
    char version[16];
    if (sscanf(buf, "%15s %4095s %15s", c->method, c->target, version) != 3) {
        return false;
    }
    snprintf(c->head, sizeof(c->head), "%.*s", (int)(end + 2 - line_end - 2),
             line_end + 2);
    char v[64];
    size_t clen = 0;
    if (header_value(c->head, "content-length", v, sizeof(v))) {
        clen = (size_t)strtoull(v, NULL, 10);
    }
    if (header_value(c->head, "expect", v, sizeof(v))) {
        send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    }
    c->body = malloc(clen + 1);
    size_t have = n - (size_t)(end + 4 - buf);
    memcpy(c->body, end + 4, have);
    while (have < clen) {
        ssize_t r = recv(fd, c->body + have, clen - have, 0);
        if (r <= 0) {
            free(c->body);
            c->body = NULL;
            return false;
        }
        have += (size_t)r;
    }
    c->body_len = clen;
    c->body[clen] = '\0';
    return true;
}

static void
serve_one(proxy *px, int fd)
{
    captured c = {0};
    if (!read_request(fd, &c)) {
        return;
    }
    pthread_mutex_lock(&px->mu);
    action a = {.kind = px->upstream > 0 ? FORWARD : REPLY, .status = 200};
    if (px->next < px->nscript) {
        a = px->script[px->next++];
    }
    if (px->nreqs < CAPTURE_MAX) {
        px->reqs[px->nreqs++] = c;
    } else {
        free(c.body);
    }
    pthread_mutex_unlock(&px->mu);
    if (a.kind == REPLY) {
        reply(fd, &c, &a);
    } else if (a.kind == STALL) {
        /* Until the time is up or the client gives up. */
        for (int t = 0; t < a.stall_ms && !px->stop; t += 10) {
            struct pollfd pf = {fd, POLLIN, 0};
            char ch;
            if (poll(&pf, 1, 10) > 0 && recv(fd, &ch, 1, MSG_PEEK) <= 0) {
                break;
            }
        }
    } else {
        size_t len = 0;
        char *answer = forward(px, &c, &len);
        if (a.kind == FORWARD && answer != NULL) {
            send_all(fd, answer, len);
        }
        free(answer);
    }
}

static void *
proxy_main(void *arg)
{
    proxy *px = arg;
    while (!px->stop) {
        struct pollfd pf = {px->fd, POLLIN, 0};
        if (poll(&pf, 1, 50) <= 0) {
            continue;
        }
        int c = accept(px->fd, NULL, NULL);
        if (c < 0) {
            continue;
        }
        serve_one(px, c);
        close(c);
    }
    return NULL;
}

static void
proxy_start(proxy *px, int upstream)
{
    memset(px, 0, sizeof(*px));
    px->upstream = upstream;
    pthread_mutex_init(&px->mu, NULL);
    px->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(px->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(px->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(px->fd, 16), 0);
    socklen_t al = sizeof(a);
    getsockname(px->fd, (struct sockaddr *)&a, &al);
    px->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&px->thread, NULL, proxy_main, px), 0);
}

static void
proxy_reset(proxy *px)
{
    pthread_mutex_lock(&px->mu);
    for (size_t i = 0; i < px->nreqs; i++) {
        free(px->reqs[i].body);
    }
    px->nreqs = 0;
    px->nscript = 0;
    px->next = 0;
    pthread_mutex_unlock(&px->mu);
}

static void
proxy_script(proxy *px, action a)
{
    pthread_mutex_lock(&px->mu);
    assert_true(px->nscript < SCRIPT_MAX);
    px->script[px->nscript++] = a;
    pthread_mutex_unlock(&px->mu);
}

static size_t
proxy_count(proxy *px)
{
    pthread_mutex_lock(&px->mu);
    size_t n = px->nreqs;
    pthread_mutex_unlock(&px->mu);
    return n;
}

static void
proxy_stop(proxy *px)
{
    px->stop = true;
    pthread_join(px->thread, NULL);
    close(px->fd);
    proxy_reset(px);
    pthread_mutex_destroy(&px->mu);
}

/* A store whose requests go through the proxy to bucket (path style). */
static lh_io_store *
open_via(const proxy *px, const char *bucket, const char *extra)
{
    char uri[512];
    snprintf(uri, sizeof(uri),
             "s3://%s?endpoint=http://127.0.0.1:%d&region=auto&retry_base_ms="
             "1%s%s",
             bucket, px->port, extra != NULL ? "&" : "",
             extra != NULL ? extra : "");
    lh_io_store *s;
    lh_err err;
    lh_rc rc = lh_io_open(uri, &s, &err);
    if (rc != LH_OK) {
        fail_msg("open %s: %s", uri, err.msg);
    }
    return s;
}

static void
need_peer(void)
{
    if (!have_peer) {
        print_message("skipped: no s3rver: %s\n", peer.why);
        skip();
    }
}

static void
new_bucket(char *name, size_t size)
{
    static int n;
    snprintf(name, size, "lh-s3-%03d", ++n);
    assert_true(s3peer_make_bucket(&peer, name));
}

/* ---- configuration ------------------------------------------------------- */

static void
clear_env(void)
{
    static const char *vars[] = {
        "AWS_ACCESS_KEY_ID",   "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",   "AWS_REGION",
        "AWS_DEFAULT_REGION",  "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3", "AWS_PROFILE",
        "AWS_CONFIG_FILE",     "AWS_SHARED_CREDENTIALS_FILE"};
    for (size_t i = 0; i < LH_ARRAY_LEN(vars); i++) {
        unsetenv(vars[i]);
    }
    setenv("HOME", home, 1);
}

static void
default_env(void)
{
    clear_env();
    setenv("AWS_ACCESS_KEY_ID", AK, 1);
    setenv("AWS_SECRET_ACCESS_KEY", SK, 1);
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void
conf_ok(const char *uri, lh__s3_conf *c)
{
    lh_err err;
    lh_rc rc = lh__s3_conf_load(uri, c, &err);
    if (rc != LH_OK) {
        fail_msg("%s: %s", uri, err.msg);
    }
}

static void
conf_bad(const char *uri, lh_rc code, const char *words)
{
    lh__s3_conf c;
    lh_err err;
    lh_rc rc = lh__s3_conf_load(uri, &c, &err);
    if (rc != code || strstr(err.msg, words) == NULL) {
        fail_msg("%s: %s (%s), expected %s with \"%s\"", uri, lh_rc_name(rc),
                 rc == LH_OK ? "" : err.msg, lh_rc_name(code), words);
    }
}

static void
test_conf(void **state)
{
    (void)state;
    lh__s3_conf c;
    clear_env();

    /* AWS by default: virtual-hosted, us-east-1, anonymous. */
    conf_ok("s3://my-bucket/a/b/", &c);
    assert_string_equal(c.bucket, "my-bucket");
    assert_string_equal(c.prefix, "a/b/");
    assert_string_equal(c.scheme, "https");
    assert_string_equal(c.host, "s3.amazonaws.com");
    assert_string_equal(c.region, "us-east-1");
    assert_true(c.virtual_style);
    assert_null(c.access_key);
    assert_int_equal(c.multipart_threshold, 64u << 20);
    assert_int_equal(c.retries, 4);
    lh__s3_conf_release(&c);

    conf_ok("s3://bkt?region=eu-west-3&style=path&multipart_threshold=8M&"
            "part_size=5MiB&retries=0&timeout_ms=250",
            &c);
    assert_string_equal(c.host, "s3.eu-west-3.amazonaws.com");
    assert_string_equal(c.prefix, "");
    assert_false(c.virtual_style);
    assert_int_equal(c.multipart_threshold, 8u << 20);
    assert_int_equal(c.part_size, 5u << 20);
    assert_int_equal(c.retries, 0);
    assert_int_equal(c.timeout_ms, 250);
    lh__s3_conf_release(&c);

    /* An endpoint: path style by default; "auto" is fine there. */
    conf_ok("s3://bkt/pre%20fix?endpoint=http://127.0.0.1:9000/&region=auto",
            &c);
    assert_string_equal(c.scheme, "http");
    assert_string_equal(c.host, "127.0.0.1:9000");
    assert_string_equal(c.prefix, "pre fix/");
    assert_false(c.virtual_style);
    lh__s3_conf_release(&c);

    conf_bad("s3://", LH_EINVAL, "no bucket");
    conf_bad("s3://bkt?region=auto", LH_EINVAL, "needs an endpoint");
    conf_bad("s3://bkt?endpoint=ftp://x", LH_EINVAL, "http:// or https://");
    conf_bad("s3://bkt?endpoint=http://h/path", LH_EINVAL, "without a path");
    conf_bad("s3://bkt?style=sideways", LH_EINVAL, "path or virtual");
    conf_bad("s3://bkt?retries=x", LH_EINVAL, "retries must be");
    conf_bad("s3://bkt?part_size=1M", LH_EINVAL, "5MiB");
    conf_bad("s3://bkt?region=a:b", LH_EINVAL, "region");
    conf_bad("s3://bkt?region=x&region=y", LH_EINVAL, "given twice");
    conf_bad("s3://bkt?regoin=x", LH_EINVAL, "unknown parameter \"regoin\"");
    conf_bad("s3://bkt?region", LH_EINVAL, "no value");
    conf_bad("s3://bkt/a%zz", LH_EINVAL, "percent escape");
    conf_bad("s3://bkt/a//b", LH_EINVAL, "prefix");
    conf_bad("s3://Upper_Case", LH_EINVAL, "virtual-hosted");
    conf_bad("s3://ab?endpoint=http://h", LH_EINVAL, "bucket names");

    /* The environment. */
    setenv("AWS_REGION", "ap-south-1", 1);
    setenv("AWS_ENDPOINT_URL", "https://r2.example:8443", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "SKENV", 1);
    setenv("AWS_SESSION_TOKEN", "TOKENV", 1);
    conf_ok("s3://bkt", &c);
    assert_string_equal(c.region, "ap-south-1");
    assert_string_equal(c.host, "r2.example:8443");
    assert_string_equal(c.access_key, "AKENV");
    assert_string_equal(c.token, "TOKENV");
    lh__s3_conf_release(&c);
    setenv("AWS_ENDPOINT_URL_S3", "http://s3only:1", 1);
    conf_ok("s3://bkt?region=us-west-2", &c);
    assert_string_equal(c.host, "s3only:1");
    assert_string_equal(c.region, "us-west-2"); /* the URI wins */
    lh__s3_conf_release(&c);
    unsetenv("AWS_SECRET_ACCESS_KEY");
    conf_bad("s3://bkt", LH_EINVAL, "AWS_SECRET_ACCESS_KEY is not");

    /* The shared files: credentials first, then config; profiles. */
    clear_env();
    char cfg[128], cred[128];
    snprintf(cfg, sizeof(cfg), "%s/config", home);
    snprintf(cred, sizeof(cred), "%s/credentials", home);
    write_file(cfg, "# a comment\n"
                    "[default]\n"
                    "region = eu-central-1\n"
                    "s3 =\n"
                    "  addressing_style = path\n"
                    "[profile  other]\n"
                    "region=us-east-2\n"
                    "endpoint_url = http://minio.local:9000\n"
                    "aws_access_key_id = AKCFG\n"
                    "aws_secret_access_key = SKCFG\n");
    write_file(cred, "[default]\n"
                     "aws_access_key_id = AKDEF\n"
                     "aws_secret_access_key = SKDEF\n"
                     "; comment\n"
                     "[ci]\n"
                     "aws_access_key_id=AKCI\n"
                     "aws_secret_access_key=SKCI\n"
                     "aws_session_token = TOKCI\n");
    setenv("AWS_CONFIG_FILE", cfg, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
    conf_ok("s3://bkt", &c);
    assert_string_equal(c.region, "eu-central-1");
    assert_string_equal(c.access_key, "AKDEF");
    assert_null(c.token);
    lh__s3_conf_release(&c);
    setenv("AWS_PROFILE", "other", 1);
    conf_ok("s3://bkt", &c);
    assert_string_equal(c.region, "us-east-2");
    assert_string_equal(c.host, "minio.local:9000");
    assert_false(c.virtual_style);
    assert_string_equal(c.access_key, "AKCFG");
    lh__s3_conf_release(&c);
    conf_ok("s3://bkt?profile=ci", &c);
    assert_string_equal(c.access_key, "AKCI");
    assert_string_equal(c.token, "TOKCI");
    lh__s3_conf_release(&c);
    /* Keys in the environment win over AWS_PROFILE's, not the URI's. */
    setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "SKENV", 1);
    conf_ok("s3://bkt", &c);
    assert_string_equal(c.access_key, "AKENV");
    lh__s3_conf_release(&c);
    conf_ok("s3://bkt?profile=ci", &c);
    assert_string_equal(c.access_key, "AKCI");
    lh__s3_conf_release(&c);
    conf_bad("s3://bkt?profile=nobody", LH_EINVAL, "no profile \"nobody\"");

    /* ~/.aws under HOME when the variables are not set. */
    clear_env();
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/.aws", home);
    mkdir(dir, 0700);
    snprintf(cred, sizeof(cred), "%s/.aws/credentials", home);
    write_file(cred, "[default]\naws_access_key_id = AKHOME\n"
                     "aws_secret_access_key = SKHOME\n");
    conf_ok("s3://bkt", &c);
    assert_string_equal(c.access_key, "AKHOME");
    lh__s3_conf_release(&c);
    unlink(cred);
    rmdir(dir);
    unlink(cfg);
    snprintf(cred, sizeof(cred), "%s/credentials", home);
    unlink(cred);

    /* The INI reader alone. */
    char *v;
    const char *ini = "[a]\nk = 1\n[b]\nk = 2\n  k = nested\nk = 3\n";
    assert_int_equal(lh__s3_ini_get(ini, strlen(ini), "b", "k", &v), LH_OK);
    assert_string_equal(v, "3");
    lh_free(v);
    assert_int_equal(lh__s3_ini_get(ini, strlen(ini), "c", "k", &v), LH_OK);
    assert_null(v);
    default_env();
}

/* A fresh bucket of the s3rver, a proxy in front of it, and a store
 * through the proxy (extra: more URI parameters). Skips without s3rver. */
static lh_io_store *
proxied(proxy *px, char bucket[32], const char *extra)
{
    need_peer();
    new_bucket(bucket, 32);
    proxy_start(px, peer.port);
    default_env();
    return open_via(px, bucket, extra);
}

/* ---- signatures ---------------------------------------------------------- */

/* AWS's worked example (S3 SigV4 documentation, "GET Object"): the same
 * key, secret, date, region, bucket, Range and object give exactly the
 * Authorization header it prints. */
static void
test_aws_example(void **state)
{
    (void)state;
    proxy px;
    proxy_start(&px, 0);
    clear_env();
    setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
           1);
    lh_io_store *s;
    lh_err err;
    assert_int_equal(lh_io_open("s3://examplebucket?endpoint=http://"
                                "s3.amazonaws.com&style=virtual&region=us-"
                                "east-1",
                                &s, &err),
                     LH_OK);
    char to[128];
    snprintf(to, sizeof(to), "examplebucket.s3.amazonaws.com:80:127.0.0.1:%d",
             px.port);
    assert_int_equal(lh__io_s3_test_set(s, to, "20130524T000000Z"), LH_OK);
    proxy_script(&px, (action){REPLY, 206,
                               "ETag: \"abc\"\r\nContent-Range: bytes "
                               "0-9/20\r\n",
                               "0123456789", 0});
    lh_buf b = LH_BUF_INIT;
    lh_io_info info;
    assert_int_equal(lh_io_get_range(s, "test.txt", 0, 10, &b, &info, &err),
                     LH_OK);
    assert_string_equal(b.data, "0123456789");
    assert_int_equal(info.size, 20);
    assert_int_equal(proxy_count(&px), 1);
    captured *c = &px.reqs[0];
    char v[512];
    assert_string_equal(c->target, "/test.txt");
    assert_true(header_value(c->head, "host", v, sizeof(v)));
    assert_string_equal(v, "examplebucket.s3.amazonaws.com");
    assert_true(header_value(c->head, "range", v, sizeof(v)));
    assert_string_equal(v, "bytes=0-9");
    assert_true(header_value(c->head, "authorization", v, sizeof(v)));
    assert_string_equal(
        v, "AWS4-HMAC-SHA256 "
           "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
           "aws4_request, "
           "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
           "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c"
           "6036bdb41");
    /* What libcurl 7.88 does with a date of ours: it signs with it, and
     * sends the header twice (s3_int.h). */
    int dates = 0;
    for (const char *p = c->head; (p = strcasestr(p, "x-amz-date:")) != NULL;
         p++) {
        dates++;
    }
    print_message("libcurl 7.88 sent x-amz-date %d times with a fixed date\n",
                  dates);
    assert_true(dates >= 1);
    lh_buf_release(&b);
    lh_io_close(s);
    proxy_stop(&px);
    default_env();
}

/* Runs sigv4_botocore.py on items (a JSON array); its output lines into
 * lines (malloc'ed, caller frees). Skips the test when botocore is
 * missing. */
static char **
botocore_run(json_t *items, size_t *nlines)
{
    char script[4096], in[128];
    snprintf(script, sizeof(script), "%s", __FILE__);
    *strrchr(script, '/') = '\0';
    strncat(script, "/sigv4_botocore.py", sizeof(script) - strlen(script) - 1);
    snprintf(in, sizeof(in), "%s/botocore-in.json", home);
    assert_int_equal(json_dump_file(items, in, 0), 0);
    char cmd[8400];
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' < '%s'", script, in);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char **lines = calloc(json_array_size(items) + 1, sizeof(*lines));
    char line[4096];
    *nlines = 0;
    while (fgets(line, sizeof(line), p) != NULL &&
           *nlines <= json_array_size(items)) {
        line[strcspn(line, "\n")] = '\0';
        lines[(*nlines)++] = strdup(line);
    }
    int status = pclose(p);
    unlink(in);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        print_message("skipped: /usr/bin/python3 has no botocore "
                      "(python3-botocore; scripts/deps.sh)\n");
        free(lines);
        skip();
    }
    assert_int_equal(status, 0);
    return lines;
}

static void
free_lines(char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(lines[i]);
    }
    free(lines);
}

/* The botocore item that signs what c shows was sent. */
static json_t *
sign_item(const captured *c, const char *region, const char *token)
{
    char host[256], date[64];
    assert_true(header_value(c->head, "host", host, sizeof(host)));
    assert_true(header_value(c->head, "x-amz-date", date, sizeof(date)));
    char url[4400];
    snprintf(url, sizeof(url), "http://%s%s", host, c->target);
    json_t *headers = json_array();
    /* Everything we set is handed over; what libcurl adds by itself
     * (unsigned) and what botocore sets itself is not. */
    static const char *theirs[] = {"host",
                                   "authorization",
                                   "x-amz-date",
                                   "accept",
                                   "expect",
                                   "content-length",
                                   "user-agent",
                                   "x-amz-content-sha256",
                                   "x-amz-security-token",
                                   "connection"};
    for (const char *p = c->head; *p != '\0';) {
        const char *eol = strstr(p, "\r\n");
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        bool skip_it = false;
        for (size_t i = 0; i < LH_ARRAY_LEN(theirs); i++) {
            size_t k = strlen(theirs[i]);
            skip_it |=
                (size_t)(colon - p) == k && strncasecmp(p, theirs[i], k) == 0;
        }
        if (!skip_it) {
            const char *v = colon + 1;
            while (*v == ' ') {
                v++;
            }
            json_array_append_new(
                headers,
                json_pack("[s#s#]", p, (int)(colon - p), v, (int)(eol - v)));
        }
        p = eol + 2;
    }
    char *hex = malloc(2 * c->body_len + 1);
    for (size_t i = 0; i < c->body_len; i++) {
        sprintf(hex + 2 * i, "%02x", (unsigned char)c->body[i]);
    }
    hex[2 * c->body_len] = '\0';
    json_t *sign =
        json_pack("{s:s,s:s,s:o,s:s,s:s,s:s,s:s,s:s}", "method", c->method,
                  "url", url, "headers", headers, "body", hex, "date", date,
                  "region", region, "access_key", AK, "secret_key", SK);
    if (token != NULL) {
        json_object_set_new(sign, "token", json_string(token));
    }
    free(hex);
    return json_pack("{s:o}", "sign", sign);
}

/* Every kind of request the store sends, through the proxy to s3rver,
 * signed again by botocore from what went on the wire: the Authorization
 * headers are equal, and the paths and queries are the ones botocore's
 * own S3 client would write for the same key and parameters. */
static void
test_botocore(void **state)
{
    (void)state;
    need_peer();
    char bucket[32];
    new_bucket(bucket, sizeof(bucket));
    proxy px;
    proxy_start(&px, peer.port);
    default_env();
    setenv("AWS_SESSION_TOKEN", "session/token==", 1);
    lh_io_store *s = open_via(&px, bucket, NULL);
    unsetenv("AWS_SESSION_TOKEN");
    lh_err err;
    lh_buf b = LH_BUF_INIT;
    lh_io_info info;
    const char *key = "dir/a b+c=d&e~f/\xc3\xa9t\xc3\xa9.bin";
    assert_int_equal(lh_io_put(s, key, "hello", 5, &info, &err), LH_OK);
    assert_int_equal(lh_io_get(s, key, &b, NULL, &err), LH_OK);
    assert_int_equal(lh_io_get_range(s, key, 1, 3, &b, NULL, &err), LH_OK);
    assert_string_equal(b.data, "ell");
    assert_int_equal(lh_io_head(s, key, &info, &err), LH_OK);
    lh_io_put_if_absent(s, "cond/new", "x", 1, NULL, &err);
    lh_io_put_if_match(s, key, "v2", 2, info.etag, NULL, &err);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_io_page page;
    lh_io_list_opts o = {.prefix = "dir/a b", .max_keys = 1};
    assert_int_equal(lh_io_list(s, &o, &a, &page, &err), LH_OK);
    o = (lh_io_list_opts){
        .prefix = "", .start_after = "cond/new", .max_keys = 1};
    assert_int_equal(lh_io_list(s, &o, &a, &page, &err), LH_OK);
    assert_int_equal(page.count, 1);
    o = (lh_io_list_opts){.max_keys = 1};
    assert_int_equal(lh_io_list(s, &o, &a, &page, &err), LH_OK);
    assert_non_null(page.next_token);
    o.token = page.next_token;
    assert_int_equal(lh_io_list(s, &o, &a, &page, &err), LH_OK);
    lh_io_upload *u;
    assert_int_equal(lh_io_upload_begin(s, "mp/x y", &u, &err), LH_OK);
    assert_int_equal(lh_io_upload_part(u, 2, "tail", 4, &err), LH_OK);
    assert_int_equal(lh_io_upload_complete(u, NULL, &err), LH_OK);
    assert_int_equal(lh_io_upload_begin(s, "mp/gone", &u, &err), LH_OK);
    lh_io_upload_abort(u, &err); /* s3rver: 405, the request still counts */
    assert_int_equal(lh_io_delete(s, key, &err), LH_OK);
    lh_arena_release(&a);

    json_t *items = json_array();
    size_t n = proxy_count(&px);
    assert_true(n >= 15);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(
            items, sign_item(&px.reqs[i], "auto", "session/token=="));
    }
    /* The path botocore writes for the key, and a listing's query. */
    json_array_append_new(items, json_pack("{s:s}", "path", key));
    json_array_append_new(items,
                          json_pack("{s:[[ss][ss][ss]]}", "query", "list-type",
                                    "2", "max-keys", "1", "prefix", "dir/a b"));
    size_t nl;
    char **lines = botocore_run(items, &nl);
    assert_int_equal(nl, n + 2);
    for (size_t i = 0; i < n; i++) {
        char v[1024];
        assert_true(
            header_value(px.reqs[i].head, "authorization", v, sizeof(v)));
        if (strcmp(v, lines[i]) != 0) {
            fail_msg("%s %s\n ours:     %s\n botocore: %s", px.reqs[i].method,
                     px.reqs[i].target, v, lines[i]);
        }
        assert_true(header_value(px.reqs[i].head, "x-amz-security-token", v,
                                 sizeof(v)));
        assert_string_equal(v, "session/token==");
    }
    char want[2048];
    snprintf(want, sizeof(want), "/%s/%s", bucket, lines[n]);
    assert_string_equal(px.reqs[0].target, want);
    bool seen_list = false;
    for (size_t i = 0; i < n; i++) {
        const char *q = strchr(px.reqs[i].target, '?');
        if (q != NULL && strstr(q, "prefix=dir") != NULL) {
            assert_string_equal(q + 1, lines[n + 1]);
            seen_list = true;
        }
    }
    assert_true(seen_list);
    print_message("botocore signed %zu requests the same way\n", n);
    free_lines(lines, nl);
    json_decref(items);
    lh_buf_release(&b);
    lh_io_close(s);
    proxy_stop(&px);
}

/* ---- conditional writes, statuses, error bodies ---------------------------
 */

static const char *
find_request(proxy *px, const char *method, const char *path_part, size_t from)
{
    for (size_t i = from; i < px->nreqs; i++) {
        if (strcmp(px->reqs[i].method, method) == 0 &&
            strstr(px->reqs[i].target, path_part) != NULL) {
            return px->reqs[i].head;
        }
    }
    return NULL;
}

#define PRECONDITION_FAILED                                                    \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>"                  \
    "PreconditionFailed</Code><Message>At least one of the pre-conditions "    \
    "you specified did not hold</Message></Error>"

/* s3rver ignores conditions, so here: the headers a conditional PUT sends
 * (and signs), and what the store makes of S3's answers to them. */
static void
test_conditional(void **state)
{
    (void)state;
    char bucket[32];
    proxy px;
    lh_io_store *s = proxied(&px, bucket, NULL);
    lh_err err;
    lh_io_info v1, info;
    char v[512];

    assert_int_equal(lh_io_put_if_absent(s, "k", "one", 3, &v1, &err), LH_OK);
    const char *h = find_request(&px, "PUT", "/k", 0);
    assert_non_null(h);
    assert_true(header_value(h, "if-none-match", v, sizeof(v)));
    assert_string_equal(v, "*");
    assert_true(header_value(h, "x-amz-meta-lh-write-id", v, sizeof(v)));
    assert_int_equal(strlen(v), 36);
    assert_true(header_value(h, "authorization", v, sizeof(v)));
    assert_non_null(strstr(v, "if-none-match;"));
    assert_non_null(strstr(v, "x-amz-meta-lh-write-id"));

    size_t mark = proxy_count(&px);
    assert_int_equal(lh_io_put_if_match(s, "k", "two", 3, v1.etag, &info, &err),
                     LH_OK);
    h = find_request(&px, "PUT", "/k", mark);
    assert_true(header_value(h, "if-match", v, sizeof(v)));
    assert_string_equal(v, v1.etag);
    assert_true(header_value(h, "authorization", v, sizeof(v)));
    assert_non_null(strstr(v, "if-match;"));
    /* A plain put sends no condition. */
    mark = proxy_count(&px);
    assert_int_equal(lh_io_put(s, "k", "three", 5, &info, &err), LH_OK);
    h = find_request(&px, "PUT", "/k", mark);
    assert_false(header_value(h, "if-match", v, sizeof(v)));
    assert_false(header_value(h, "if-none-match", v, sizeof(v)));

    /* 412 to put_if_absent: LH_EEXIST, one request, the status kept. */
    mark = proxy_count(&px);
    proxy_script(&px, (action){REPLY, 412, NULL, PRECONDITION_FAILED, 0});
    assert_int_equal(lh_io_put_if_absent(s, "k", "x", 1, NULL, &err),
                     LH_EEXIST);
    assert_int_equal(err.http_status, 412);
    assert_non_null(strstr(err.msg, "already exists"));
    assert_int_equal(proxy_count(&px) - mark, 1);

    /* 412 to put_if_match: LH_ECONFLICT naming both ETags (a HEAD tells
     * the current one). */
    proxy_reset(&px);
    proxy_script(&px, (action){REPLY, 412, NULL, PRECONDITION_FAILED, 0});
    assert_int_equal(lh_io_put_if_match(s, "k", "x", 1, v1.etag, NULL, &err),
                     LH_ECONFLICT);
    assert_non_null(strstr(err.msg, v1.etag));
    assert_non_null(strstr(err.msg, info.etag));
    assert_non_null(find_request(&px, "HEAD", "/k", 0));
    assert_null(strstr(err.msg, "unknown"));

    /* 404 to put_if_match (no such key): LH_ECONFLICT; 409: LH_ECONFLICT;
     * 501: LH_EUNSUPPORTED. */
    proxy_reset(&px);
    proxy_script(&px, (action){REPLY, 404, NULL,
                               "<Error><Code>NoSuchKey</Code></Error>", 0});
    assert_int_equal(lh_io_put_if_match(s, "gone", "x", 1, v1.etag, NULL, &err),
                     LH_ECONFLICT);
    assert_non_null(strstr(err.msg, "does not exist"));
    proxy_script(&px, (action){REPLY, 409, NULL,
                               "<Error><Code>ConditionalRequestConflict"
                               "</Code></Error>",
                               0});
    assert_int_equal(lh_io_put_if_absent(s, "k2", "x", 1, NULL, &err),
                     LH_ECONFLICT);
    assert_int_equal(err.http_status, 409);
    proxy_script(&px,
                 (action){REPLY, 501, NULL,
                          "<Error><Code>NotImplemented</Code></Error>", 0});
    assert_int_equal(lh_io_put_if_absent(s, "k3", "x", 1, NULL, &err),
                     LH_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "conditional writes"));
    lh_io_close(s);
    proxy_stop(&px);
}

static void
test_status_mapping(void **state)
{
    (void)state;
    char bucket[32];
    proxy px;
    lh_io_store *s = proxied(&px, bucket, NULL);
    lh_err err;
    lh_buf b = LH_BUF_INIT;
    lh_io_info info;

    /* s3rver's own error bodies: NoSuchKey. */
    assert_int_equal(lh_io_get(s, "missing/key", &b, NULL, &err), LH_ENOENT);
    assert_int_equal(err.http_status, 404);
    assert_non_null(strstr(err.msg, "missing/key"));
    assert_int_equal(lh_io_delete(s, "missing/key", &err), LH_OK);

    static const struct {
        int status;
        const char *code;
        lh_rc rc;
    } cases[] = {
        {403, "AccessDenied", LH_EIO},
        {400, "InvalidArgument", LH_EINVAL},
        {400, "EntityTooLarge", LH_ELIMIT},
        {404, "NoSuchBucket", LH_ENOENT},
        {405, "MethodNotAllowed", LH_EUNSUPPORTED},
        {411, "MissingContentLength", LH_EINVAL},
        {301, "PermanentRedirect", LH_EIO},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(cases); i++) {
        char body[256];
        snprintf(body, sizeof(body),
                 "<?xml version=\"1.0\"?><Error><Code>%s</Code><Message>"
                 "the reason &amp; more</Message><RequestId>r1</RequestId>"
                 "</Error>",
                 cases[i].code);
        proxy_reset(&px);
        proxy_script(&px,
                     (action){REPLY, cases[i].status,
                              "x-amz-bucket-region: eu-west-1\r\n", body, 0});
        lh_rc rc = lh_io_put(s, "obj", "x", 1, NULL, &err);
        assert_int_equal(rc, cases[i].rc);
        assert_int_equal(err.http_status, cases[i].status);
        assert_non_null(strstr(err.msg, cases[i].code));
        assert_non_null(strstr(err.msg, "the reason & more"));
        assert_non_null(strstr(err.msg, "obj"));
        /* No 4xx (or 3xx) is tried twice. */
        assert_int_equal(proxy_count(&px), 1);
    }
    assert_non_null(strstr(err.msg, "bucket region eu-west-1"));

    /* A HEAD's error has no body: the status alone. */
    proxy_reset(&px);
    proxy_script(&px, (action){REPLY, 403, NULL, NULL, 0});
    assert_int_equal(lh_io_head(s, "obj", &info, &err), LH_EIO);
    assert_non_null(strstr(err.msg, "access denied"));
    assert_int_equal(proxy_count(&px), 1);

    /* Ranges: past the end is LH_EINVAL; offset 0 of an empty object is
     * an empty read, though S3 answers 416 InvalidRange to any range of
     * it (scripted here: s3rver answers "206, bytes 0-0/0" with a
     * Content-Length of 1 and no body, which no client can read). */
    proxy_reset(&px);
    OK(lh_io_put(s, "empty", "", 0, NULL, &err));
    proxy_script(&px, (action){REPLY, 416, NULL,
                               "<Error><Code>InvalidRange</Code></Error>", 0});
    assert_int_equal(lh_io_get_range(s, "empty", 0, 10, &b, &info, &err),
                     LH_OK);
    assert_int_equal(b.len, 0);
    assert_int_equal(info.size, 0);
    assert_int_equal(lh_io_put(s, "ten", "0123456789", 10, NULL, &err), LH_OK);
    assert_int_equal(lh_io_get_range(s, "ten", 10, 5, &b, NULL, &err),
                     LH_EINVAL);
    assert_non_null(strstr(err.msg, "range not satisfiable"));
    /* A server that ignores Range (200 with all of it): cut here. */
    proxy_script(&px, (action){REPLY, 200, "ETag: \"e\"\r\n", "0123456789", 0});
    assert_int_equal(lh_io_get_range(s, "ten", 3, 4, &b, &info, &err), LH_OK);
    assert_string_equal(b.data, "3456");
    assert_int_equal(info.size, 10);
    /* A 206 for another range than asked: refused. */
    proxy_script(&px, (action){REPLY, 206,
                               "ETag: \"e\"\r\nContent-Range: bytes 0-3/10\r\n",
                               "0123", 0});
    assert_int_equal(lh_io_get_range(s, "ten", 3, 4, &b, &info, &err), LH_EIO);
    assert_int_equal(b.len, 0);
    /* Malformed XML where a listing should be. */
    proxy_script(&px,
                 (action){REPLY, 200, NULL, "<ListBucketResult><Contents>", 0});
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_io_page page;
    assert_int_equal(lh_io_list(s, NULL, &a, &page, &err), LH_EIO);
    assert_non_null(strstr(err.msg, "malformed list"));
    assert_int_equal(page.count, 0);
    lh_arena_release(&a);
    lh_buf_release(&b);
    lh_io_close(s);
    proxy_stop(&px);
}

/* ---- retries ------------------------------------------------------------- */

#define SLOW_DOWN "<Error><Code>SlowDown</Code><Message>slow</Message></Error>"

static void
test_retries(void **state)
{
    (void)state;
    char bucket[32];
    proxy px;
    lh_io_store *s = proxied(&px, bucket, "retries=3");
    lh_err err;
    lh_buf b = LH_BUF_INIT;
    lh_io_info info;

    /* 503, 429, 500, then s3rver: the put lands on the fourth try. */
    proxy_script(&px, (action){REPLY, 503, NULL, SLOW_DOWN, 0});
    proxy_script(&px, (action){REPLY, 429, NULL, SLOW_DOWN, 0});
    proxy_script(&px, (action){REPLY, 500, NULL, NULL, 0});
    assert_int_equal(lh_io_put(s, "r/k", "value", 5, &info, &err), LH_OK);
    assert_int_equal(proxy_count(&px), 4);
    assert_int_equal(lh__io_s3_requests(s), 4);
    proxy_reset(&px);

    /* Every try fails: LH_EIO after 1 + retries tries, the last status. */
    for (int i = 0; i < 4; i++) {
        proxy_script(&px, (action){REPLY, 503, NULL, SLOW_DOWN, 0});
    }
    assert_int_equal(lh_io_get(s, "r/k", &b, NULL, &err), LH_EIO);
    assert_int_equal(err.http_status, 503);
    assert_non_null(strstr(err.msg, "SlowDown"));
    assert_non_null(strstr(err.msg, "after 4 tries"));
    assert_int_equal(proxy_count(&px), 4);
    proxy_reset(&px);

    /* 404 and 403 are answers, not failures: one request each. */
    assert_int_equal(lh_io_get(s, "r/none", &b, NULL, &err), LH_ENOENT);
    assert_int_equal(proxy_count(&px), 1);
    proxy_script(&px, (action){REPLY, 403, NULL,
                               "<Error><Code>AccessDenied</Code></Error>", 0});
    assert_int_equal(lh_io_get(s, "r/k", &b, NULL, &err), LH_EIO);
    assert_int_equal(proxy_count(&px), 2);
    proxy_reset(&px);

    /* A stalled answer times out (timeout_ms, on a second store so that
     * the other requests of this test have no time limit under load) and
     * is tried again; the stall ends when the client gives up. */
    lh_io_store *slow = open_via(&px, bucket, "retries=3&timeout_ms=500");
    lh_us t0 = lh_mono_now();
    proxy_script(&px, (action){STALL, 0, NULL, NULL, 5000});
    assert_int_equal(lh_io_get(slow, "r/k", &b, NULL, &err), LH_OK);
    assert_string_equal(b.data, "value");
    assert_true(proxy_count(&px) >= 2);
    assert_true(lh_mono_now() - t0 >= 500000);
    proxy_reset(&px);
    /* Only stalls: LH_ETIMEDOUT after 1 + retries tries. */
    for (int i = 0; i < 4; i++) {
        proxy_script(&px, (action){STALL, 0, NULL, NULL, 5000});
    }
    assert_int_equal(lh_io_head(slow, "r/k", &info, &err), LH_ETIMEDOUT);
    assert_non_null(strstr(err.msg, "4 tries"));
    assert_int_equal(proxy_count(&px), 4);
    lh_io_close(slow);
    proxy_reset(&px);

    /* A lost answer: the first try of a put_if_absent reached s3rver, its
     * answer was dropped; S3 would answer the second 412, since the
     * object now exists: the store sees its own write id and succeeds. */
    proxy_script(&px, (action){DROP, 0, NULL, NULL, 0});
    proxy_script(&px, (action){REPLY, 412, NULL, PRECONDITION_FAILED, 0});
    assert_int_equal(lh_io_put_if_absent(s, "r/once", "mine", 4, &info, &err),
                     LH_OK);
    assert_int_equal(info.size, 4);
    assert_non_null(find_request(&px, "HEAD", "/r/once", 0));
    lh_io_info got;
    assert_int_equal(lh_io_get(s, "r/once", &b, &got, &err), LH_OK);
    assert_string_equal(b.data, "mine");
    assert_string_equal(got.etag, info.etag);
    proxy_reset(&px);

    /* The same with put_if_match from a timed-out try. */
    lh_io_info base;
    assert_int_equal(lh_io_head(s, "r/once", &base, &err), LH_OK);
    proxy_script(&px, (action){DROP, 0, NULL, NULL, 0});
    proxy_script(&px, (action){REPLY, 412, NULL, PRECONDITION_FAILED, 0});
    assert_int_equal(
        lh_io_put_if_match(s, "r/once", "next", 4, base.etag, &info, &err),
        LH_OK);
    proxy_reset(&px);

    /* A try that may have been applied (a 500), then 412, and the object
     * holds another write than ours (here: the put_if_match above): a
     * conflict, saying that our first try's outcome is unknown. */
    assert_int_equal(lh_io_head(s, "r/once", &base, &err), LH_OK);
    proxy_script(&px, (action){REPLY, 500, NULL, NULL, 0});
    proxy_script(&px, (action){REPLY, 412, NULL, PRECONDITION_FAILED, 0});
    assert_int_equal(
        lh_io_put_if_match(s, "r/once", "late", 4, base.etag, NULL, &err),
        LH_ECONFLICT);
    assert_non_null(strstr(err.msg, "outcome is unknown"));
    assert_non_null(strstr(err.msg, base.etag));
    expect_body(s, "r/once", "next");
    proxy_reset(&px);

    /* CompleteMultipartUpload answered 200 with an <Error> (S3 does):
     * tried again. */
    lh_io_upload *u;
    assert_int_equal(lh_io_upload_begin(s, "r/mp", &u, &err), LH_OK);
    assert_int_equal(lh_io_upload_part(u, 1, "part", 4, &err), LH_OK);
    proxy_reset(&px);
    proxy_script(&px, (action){REPLY, 200, NULL,
                               "<Error><Code>InternalError</Code><Message>"
                               "retry</Message></Error>",
                               0});
    assert_int_equal(lh_io_upload_complete(u, &info, &err), LH_OK);
    assert_int_equal(proxy_count(&px), 2);
    assert_int_equal(lh_io_get(s, "r/mp", &b, NULL, &err), LH_OK);
    assert_string_equal(b.data, "part");

    /* retries=0: one try only. */
    lh_io_close(s);
    s = open_via(&px, bucket, "retries=0");
    proxy_reset(&px);
    proxy_script(&px, (action){REPLY, 503, NULL, SLOW_DOWN, 0});
    assert_int_equal(lh_io_get(s, "r/k", &b, NULL, &err), LH_EIO);
    assert_int_equal(proxy_count(&px), 1);
    lh_buf_release(&b);
    lh_io_close(s);
    proxy_stop(&px);

    /* Nothing listening: connection refused, tried 1 + retries times. */
    proxy dead;
    proxy_start(&dead, 0);
    int port = dead.port;
    proxy_stop(&dead);
    char uri[256];
    snprintf(uri, sizeof(uri),
             "s3://%s?endpoint=http://127.0.0.1:%d&region=auto&retries=2&"
             "retry_base_ms=1",
             bucket, port);
    assert_int_equal(lh_io_open(uri, &s, &err), LH_OK);
    assert_int_equal(lh_io_head(s, "x", &info, &err), LH_EIO);
    assert_non_null(strstr(err.msg, "3 tries"));
    assert_int_equal(lh__io_s3_requests(s), 3);
    lh_io_close(s);
}

/* ---- against s3rver ------------------------------------------------------ */

static size_t
list_all(lh_io_store *s, const char *prefix, size_t page, size_t *pages)
{
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_io_list_opts o = {.prefix = prefix, .max_keys = page};
    size_t total = 0;
    *pages = 0;
    char last[LH_IO_KEY_MAX + 1] = "";
    for (;;) {
        lh_io_page p;
        lh_err err;
        lh_rc rc = lh_io_list(s, &o, &a, &p, &err);
        if (rc != LH_OK) {
            fail_msg("list: %s", err.msg);
        }
        for (size_t i = 0; i < p.count; i++) {
            assert_true(strcmp(last, p.entries[i].key) < 0);
            snprintf(last, sizeof(last), "%s", p.entries[i].key);
        }
        total += p.count;
        (*pages)++;
        if (p.next_token == NULL) {
            break;
        }
        o.token = lh_arena_strdup(&a, p.next_token);
    }
    lh_arena_release(&a);
    return total;
}

/* More keys than one page holds (S3's 1000), a store prefix, keys of
 * other tools outside the rules (a directory marker), virtual-hosted
 * addressing. */
static void
test_listing_and_prefix(void **state)
{
    (void)state;
    need_peer();
    default_env();
    char bucket[32], uri[256];
    new_bucket(bucket, sizeof(bucket));
    snprintf(uri, sizeof(uri),
             "s3://%s/pre/fix?endpoint=http://s3.localhost:%d&style=virtual&"
             "region=auto",
             bucket, peer.port);
    lh_io_store *s;
    lh_err err;
    assert_int_equal(lh_io_open(uri, &s, &err), LH_OK);
    char key[32];
    for (int i = 0; i < 1010; i++) {
        snprintf(key, sizeof(key), "k/%04d", i);
        assert_int_equal(lh_io_put(s, key, "v", 1, NULL, &err), LH_OK);
    }
    size_t pages;
    assert_int_equal(list_all(s, "", 0, &pages), 1010);
    assert_int_equal(pages, 2);
    assert_int_equal(list_all(s, "k/09", 30, &pages), 100);
    assert_int_equal(pages, 4);

    /* The same bucket without the prefix, path style: keys under
     * "pre/fix/", and another tool's objects beside them. */
    lh_io_store *root;
    s3peer_uri(&peer, bucket, NULL, uri, sizeof(uri));
    assert_int_equal(lh_io_open(uri, &root, &err), LH_OK);
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_io_get(root, "pre/fix/k/0007", &b, NULL, &err), LH_OK);
    assert_string_equal(b.data, "v");
    assert_int_equal(lh_io_put(root, "pre/other", "x", 1, NULL, &err), LH_OK);
    assert_int_equal(lh_io_put(root, "pre/fixed", "x", 1, NULL, &err), LH_OK);
    /* A directory marker ("pre/fix/dir/") as consoles make them: raw. */
    char url[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/%s/pre/fix/dir/", peer.port,
             bucket);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)0);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, s3peer_discard);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_cleanup(h);
    assert_int_equal(list_all(s, "", 0, &pages), 1010);
    assert_int_equal(list_all(root, "pre/", 0, &pages), 1012);
    /* The prefix plus a key may not pass S3's 1024 bytes. */
    char longkey[LH_IO_KEY_MAX + 1];
    memset(longkey, 'x', 1020);
    longkey[1020] = '\0';
    for (int i = 99; i < 1020; i += 100) {
        longkey[i] = '/';
    }
    assert_int_equal(lh_io_put(s, longkey, "x", 1, NULL, &err), LH_EINVAL);
    assert_non_null(strstr(err.msg, "1024"));
    lh_buf_release(&b);
    lh_io_close(root);
    lh_io_close(s);
}

/* lh_io_put above multipart_threshold goes in parts (seen through the
 * proxy: create, three parts, complete); below it, one PUT. */
static void
test_multipart_threshold(void **state)
{
    (void)state;
    char bucket[32];
    proxy px;
    lh_io_store *s =
        proxied(&px, bucket, "multipart_threshold=6M&part_size=5M");
    size_t n = (11u << 20) + 123;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++) {
        big[i] = (char)(i * 31 + i / 4096);
    }
    lh_err err;
    lh_io_info info;
    assert_int_equal(lh_io_put(s, "big", big, n, &info, &err), LH_OK);
    assert_int_equal(info.size, n);
    assert_int_equal(proxy_count(&px), 5);
    assert_non_null(strstr(px.reqs[0].target, "?uploads="));
    assert_non_null(strstr(px.reqs[1].target, "partNumber=1&uploadId="));
    assert_non_null(strstr(px.reqs[3].target, "partNumber=3&uploadId="));
    assert_int_equal(px.reqs[1].body_len, 5u << 20);
    assert_int_equal(px.reqs[3].body_len, (1u << 20) + 123);
    assert_non_null(strstr(px.reqs[4].body, "<PartNumber>3</PartNumber>"));
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_io_get(s, "big", &b, NULL, &err), LH_OK);
    assert_int_equal(b.len, n);
    assert_memory_equal(b.data, big, n);
    proxy_reset(&px);
    assert_int_equal(lh_io_put(s, "small", big, 6u << 20, &info, &err), LH_OK);
    assert_int_equal(proxy_count(&px), 1);
    /* A conditional put never goes in parts. */
    proxy_reset(&px);
    assert_int_equal(lh_io_put_if_absent(s, "cond", big, n, &info, &err),
                     LH_OK);
    assert_int_equal(proxy_count(&px), 1);
    /* A failed part aborts the upload (s3rver answers the abort 405). */
    proxy_reset(&px);
    proxy_script(&px, (action){FORWARD, 0, NULL, NULL, 0});
    proxy_script(&px,
                 (action){REPLY, 400, NULL,
                          "<Error><Code>EntityTooSmall</Code></Error>", 0});
    assert_int_equal(lh_io_put(s, "fails", big, n, &info, &err), LH_EINVAL);
    assert_non_null(find_request(&px, "DELETE", "uploadId=", 0));
    lh_io_info h;
    assert_int_equal(lh_io_head(s, "fails", &h, &err), LH_ENOENT);
    lh_buf_release(&b);
    free(big);
    lh_io_close(s);
    proxy_stop(&px);
}

typedef struct worker {
    lh_io_store *s;
    int id;
    int failures;
} worker;

static void *
work(void *arg)
{
    worker *w = arg;
    lh_buf b = LH_BUF_INIT;
    for (int i = 0; i < 25; i++) {
        char key[64], body[64];
        snprintf(key, sizeof(key), "t/%d/%d", w->id, i);
        snprintf(body, sizeof(body), "thread %d item %d", w->id, i);
        lh_err err;
        if (lh_io_put(w->s, key, body, strlen(body), NULL, &err) != LH_OK ||
            lh_io_get(w->s, key, &b, NULL, &err) != LH_OK ||
            strcmp(b.data, body) != 0) {
            w->failures++;
        }
    }
    lh_buf_release(&b);
    return NULL;
}

/* One store, eight threads: every put and get right, connections reused
 * (fewer requests than... exactly the requests made). */
static void
test_threads(void **state)
{
    (void)state;
    need_peer();
    default_env();
    char bucket[32], uri[256];
    new_bucket(bucket, sizeof(bucket));
    s3peer_uri(&peer, bucket, NULL, uri, sizeof(uri));
    lh_io_store *s;
    lh_err err;
    assert_int_equal(lh_io_open(uri, &s, &err), LH_OK);
    pthread_t t[8];
    worker w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (worker){s, i, 0};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(lh__io_s3_requests(s), 8 * 25 * 2);
    size_t pages;
    assert_int_equal(list_all(s, "t/", 0, &pages), 200);
    lh_io_close(s);
}

static int
group_setup(void **state)
{
    (void)state;
    snprintf(home, sizeof(home), "/tmp/lh-s3-home.XXXXXX");
    assert_non_null(mkdtemp(home));
    default_env();
    have_peer = s3peer_start(&peer);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    s3peer_stop(&peer);
    rmdir(home);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf),
        cmocka_unit_test(test_aws_example),
        cmocka_unit_test(test_botocore),
        cmocka_unit_test(test_conditional),
        cmocka_unit_test(test_status_mapping),
        cmocka_unit_test(test_retries),
        cmocka_unit_test(test_listing_and_prefix),
        cmocka_unit_test(test_multipart_threshold),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests_name("io/s3", tests, group_setup,
                                       group_teardown);
}
