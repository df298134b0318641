/*
 * The S3-compatible store over libcurl. The design (signing, retries,
 * retried conditional writes, connection reuse) is at the top of
 * s3_int.h; the URI grammar and the HTTP status mapping are in io.h.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "io/s3_int.h"

/* Easy handles kept for reuse (each keeps its connections alive). More
 * threads than this still work: the extra handles are closed after use. */
#define POOL_MAX 32
/* A transfer that moves no byte for this long fails (and is retried). */
#define STALL_SECONDS 30L
/* Error bodies are a few hundred bytes; more is cut (the message fits in
 * lh_err anyway). */
#define ERROR_BODY_MAX (64u << 10)
/* Up to this much of an answer's Content-Length is reserved at once. */
#define RESERVE_MAX ((uint64_t)256 << 20)
#define WRITE_ID_HEADER "x-amz-meta-lh-write-id"
#define HEADERS_MAX 8

typedef struct s3 {
    lh__s3_conf c;
    char *sigv4;     /* "aws:amz:REGION:s3", NULL when anonymous */
    char *base_url;  /* scheme://[bucket.]host */
    char *path_base; /* "/bucket" (path style) or "" */
    CURLSH *share;
    pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];
    pthread_mutex_t mu; /* the pool and the random generator */
    CURL *idle[POOL_MAX];
    size_t nidle;
    uint64_t rng;
    uint64_t requests;             /* atomic */
    lh_io_store *self;             /* the store whose impl this is */
    struct curl_slist *connect_to; /* test hook */
    char *amz_date;                /* test hook */
} s3;

typedef struct s3_part {
    int no;
    uint64_t size;
    char etag[LH_IO_ETAG_MAX];
} s3_part;

typedef struct s3_upload {
    char *upload_id;
    char write_id[LH_UUID_STRLEN + 1];
    s3_part *parts; /* sorted by number */
    size_t count;
    size_t cap;
} s3_upload;

/* One request as the operations describe it. */
typedef struct req {
    const char *method; /* GET HEAD PUT POST DELETE */
    const char *what;   /* for messages: "read", "write", ... */
    const char *key;    /* the caller's key; NULL for the bucket */
    const char *query;  /* canonical (sorted, encoded), or NULL */
    const char *headers[HEADERS_MAX]; /* "Name: value", signed */
    size_t nheaders;
    const void *body; /* PUT and POST */
    size_t body_len;
    lh_buf *out;   /* where a 2xx body goes (NULL: resp.body) */
    bool complete; /* a 200 may carry an <Error> */
} req;

/* What came back. */
typedef struct resp {
    long status;
    char etag[LH_IO_ETAG_MAX];
    bool has_length;
    uint64_t length;
    bool has_range;
    uint64_t range_first;
    uint64_t range_total;
    lh_us last_modified; /* 0 when absent */
    lh_us date;
    char write_id[LH_UUID_STRLEN + 1];
    char region[64]; /* x-amz-bucket-region */
    lh_buf body;     /* error bodies, and 2xx ones without req.out */
    lh__s3_error e;  /* parsed from body when it is an <Error> */
    bool has_error;
    unsigned tries;
    bool ambiguous; /* an earlier try may have been applied */
    bool oom;
    lh_buf *out;
} resp;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc; /* written once, under curl_once */

static void
curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static lh_rc
oom(lh_err *err, const char *what)
{
    return lh_err_set(err, LH_ENOMEM, "out of memory: %s", what);
}

/* ---- names, paths and queries ------------------------------------------- */

static bool
unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
           ch == '~';
}

/* Appends s percent-encoded as SigV4 wants it (keep_slash for paths). */
static void
put_encoded(lh_buf *b, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (unreserved(*p) || (keep_slash && *p == '/')) {
            lh_buf_putc(b, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            lh_buf_append(b, e, 3);
        }
    }
}

/* Appends "name=value" (value encoded) with '&' when b is not empty. */
static void
query_add(lh_buf *b, const char *name, const char *value)
{
    if (b->len > 0) {
        lh_buf_putc(b, '&');
    }
    lh_buf_puts(b, name);
    lh_buf_putc(b, '=');
    put_encoded(b, value, false);
}

/* "s3://bucket/prefix+key" for messages. */
static void
object_name(const s3 *s, const char *key, char *buf, size_t size)
{
    snprintf(buf, size, "s3://%s/%s%s", s->c.bucket, s->c.prefix,
             key != NULL ? key : "");
}

/* ---- the handle pool ---------------------------------------------------- */

static CURL *
pool_get(s3 *s)
{
    CURL *h = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->nidle > 0) {
        h = s->idle[--s->nidle];
    }
    pthread_mutex_unlock(&s->mu);
    return h != NULL ? h : curl_easy_init();
}

static void
pool_put(s3 *s, CURL *h)
{
    /* reset keeps the live connections, which is the point. */
    curl_easy_reset(h);
    pthread_mutex_lock(&s->mu);
    if (s->nidle < POOL_MAX) {
        s->idle[s->nidle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    if (h != NULL) {
        curl_easy_cleanup(h);
    }
}

static void
share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *user)
{
    (void)h;
    (void)access;
    s3 *s = user;
    pthread_mutex_lock(&s->share_mu[data]);
}

static void
share_unlock(CURL *h, curl_lock_data data, void *user)
{
    (void)h;
    s3 *s = user;
    pthread_mutex_unlock(&s->share_mu[data]);
}

static uint64_t
next_random(s3 *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    pthread_mutex_unlock(&s->mu);
    return x * UINT64_C(2685821657736338717);
}

/* Full jitter: a random time in [0, min(cap, base * 2^try)). */
static void
backoff(s3 *s, unsigned try)
{
    uint64_t ceiling = (uint64_t)s->c.retry_base_ms << (try < 20 ? try : 20);
    if (ceiling > (uint64_t)s->c.retry_cap_ms) {
        ceiling = (uint64_t)s->c.retry_cap_ms;
    }
    if (ceiling == 0) {
        return;
    }
    uint64_t us = next_random(s) % (ceiling * 1000);
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* ---- callbacks ---------------------------------------------------------- */

typedef struct body_reader {
    const char *data;
    size_t len;
    size_t off;
} body_reader;

static size_t
read_cb(char *buf, size_t size, size_t n, void *user)
{
    body_reader *r = user;
    size_t want = size * n;
    size_t left = r->len - r->off;
    size_t k = want < left ? want : left;
    memcpy(buf, r->data + r->off, k);
    r->off += k;
    return k;
}

static int
seek_cb(void *user, curl_off_t offset, int origin)
{
    body_reader *r = user;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > r->len) {
        return CURL_SEEKFUNC_CANTSEEK;
    }
    r->off = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

static bool
two_xx(long status)
{
    return status >= 200 && status < 300;
}

static size_t
write_cb(char *data, size_t size, size_t n, void *user)
{
    resp *rs = user;
    size_t len = size * n;
    if (two_xx(rs->status) && rs->out != NULL) {
        if (rs->out->len == 0 && rs->has_length && rs->length > 0) {
            uint64_t want = rs->length < RESERVE_MAX ? rs->length : RESERVE_MAX;
            lh_buf_reserve(rs->out, (size_t)want);
        }
        if (lh_buf_append(rs->out, data, len) != LH_OK) {
            rs->oom = true;
            return 0;
        }
        return len;
    }
    size_t room =
        rs->body.len < ERROR_BODY_MAX ? ERROR_BODY_MAX - rs->body.len : 0;
    if (!two_xx(rs->status) && room < len) {
        len = room; /* the rest of an error body is dropped */
    }
    if (len > 0 && lh_buf_append(&rs->body, data, len) != LH_OK) {
        rs->oom = true;
        return 0;
    }
    return size * n;
}

/* Whether the header line [p, p+n) is "name:" (any case); *value gets the
 * trimmed value and *vlen its length. */
static bool
header_is(const char *p, size_t n, const char *name, const char **value,
          size_t *vlen)
{
    size_t k = strlen(name);
    if (n <= k || p[k] != ':' || strncasecmp(p, name, k) != 0) {
        return false;
    }
    const char *v = p + k + 1;
    const char *e = p + n;
    while (v < e && (*v == ' ' || *v == '\t')) {
        v++;
    }
    while (e > v &&
           (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t')) {
        e--;
    }
    *value = v;
    *vlen = (size_t)(e - v);
    return true;
}

static bool
parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 20) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static lh_us
parse_http_date(const char *v, size_t n)
{
    char buf[64];
    if (n == 0 || n >= sizeof(buf)) {
        return 0;
    }
    memcpy(buf, v, n);
    buf[n] = '\0';
    time_t t = curl_getdate(buf, NULL);
    return t > 0 ? (lh_us)t * LH_US_PER_SEC : 0;
}

/* "bytes FIRST-LAST/TOTAL" */
static void
parse_content_range(resp *rs, const char *v, size_t n)
{
    if (n < 6 || strncmp(v, "bytes ", 6) != 0) {
        return;
    }
    const char *p = v + 6;
    const char *e = v + n;
    const char *dash = memchr(p, '-', (size_t)(e - p));
    const char *slash =
        dash != NULL ? memchr(dash, '/', (size_t)(e - dash)) : NULL;
    uint64_t first, last, total;
    if (slash != NULL && parse_u64(p, (size_t)(dash - p), &first) &&
        parse_u64(dash + 1, (size_t)(slash - dash - 1), &last) &&
        parse_u64(slash + 1, (size_t)(e - slash - 1), &total) &&
        first <= last && last < total) {
        rs->has_range = true;
        rs->range_first = first;
        rs->range_total = total;
    }
}

static void
copy_value(char *dst, size_t size, const char *v, size_t n)
{
    if (n >= size) {
        n = size - 1;
    }
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static size_t
header_cb(char *data, size_t size, size_t n, void *user)
{
    resp *rs = user;
    size_t len = size * n;
    const char *v;
    size_t vl;
    if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* A new status line (after a 100 Continue, or a new try): what
         * the previous one said no longer holds. */
        const char *sp = memchr(data, ' ', len);
        uint64_t code = 0;
        if (sp != NULL && (size_t)(data + len - sp) > 3) {
            parse_u64(sp + 1, 3, &code);
        }
        rs->status = (long)code;
        rs->etag[0] = '\0';
        rs->has_length = false;
        rs->has_range = false;
        rs->last_modified = 0;
        rs->write_id[0] = '\0';
        rs->region[0] = '\0';
    } else if (header_is(data, len, "etag", &v, &vl)) {
        lh__s3_etag_norm(v, vl, rs->etag);
    } else if (header_is(data, len, "content-length", &v, &vl)) {
        rs->has_length = parse_u64(v, vl, &rs->length);
    } else if (header_is(data, len, "content-range", &v, &vl)) {
        parse_content_range(rs, v, vl);
    } else if (header_is(data, len, "last-modified", &v, &vl)) {
        rs->last_modified = parse_http_date(v, vl);
    } else if (header_is(data, len, "date", &v, &vl)) {
        rs->date = parse_http_date(v, vl);
    } else if (header_is(data, len, WRITE_ID_HEADER, &v, &vl)) {
        copy_value(rs->write_id, sizeof(rs->write_id), v, vl);
    } else if (header_is(data, len, "x-amz-bucket-region", &v, &vl)) {
        copy_value(rs->region, sizeof(rs->region), v, vl);
    }
    return len;
}

/* ---- one request, with retries ------------------------------------------ */

static void
sha256_hex(const void *data, size_t len, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}

/* The headers every try sends: the request's, the payload hash, the
 * session token, the test's fixed date. NULL when out of memory. */
static struct curl_slist *
build_headers(const s3 *s, const req *r)
{
    char line[128];
    char hex[65];
    sha256_hex(r->body != NULL ? r->body : "", r->body_len, hex);
    snprintf(line, sizeof(line), "x-amz-content-sha256: %s", hex);
    struct curl_slist *h = curl_slist_append(NULL, line);
    for (size_t i = 0; h != NULL && i < r->nheaders; i++) {
        struct curl_slist *n = curl_slist_append(h, r->headers[i]);
        if (n == NULL) {
            curl_slist_free_all(h);
            return NULL;
        }
        h = n;
    }
    if (h != NULL && s->c.token != NULL) {
        lh_buf t = LH_BUF_INIT;
        lh_buf_printf(&t, "x-amz-security-token: %s", s->c.token);
        struct curl_slist *n =
            lh_buf_ok(&t) ? curl_slist_append(h, t.data) : NULL;
        lh_buf_release(&t);
        if (n == NULL) {
            curl_slist_free_all(h);
            return NULL;
        }
    }
    if (h != NULL && s->amz_date != NULL) {
        snprintf(line, sizeof(line), "X-Amz-Date: %s", s->amz_date);
        if (curl_slist_append(h, line) == NULL) {
            curl_slist_free_all(h);
            return NULL;
        }
    }
    return h;
}

static bool
retryable_curl(CURLcode c)
{
    switch (c) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

/* Whether a failed try may still have reached the store and been applied
 * (false only when no connection was made). */
static bool
maybe_applied(CURLcode c)
{
    return c != CURLE_COULDNT_CONNECT && c != CURLE_COULDNT_RESOLVE_HOST &&
           c != CURLE_SSL_CONNECT_ERROR;
}

static void
set_options(s3 *s, CURL *h, const req *r, resp *rs, body_reader *br,
            struct curl_slist *headers, const char *url, char *errbuf)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_SHARE, s->share);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "lakehouse-io/1");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, rs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, rs);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, STALL_SECONDS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, s->c.timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s->c.connect_timeout_ms);
    if (s->sigv4 != NULL) {
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
        curl_easy_setopt(h, CURLOPT_USERNAME, s->c.access_key);
        curl_easy_setopt(h, CURLOPT_PASSWORD, s->c.secret_key);
    }
    if (s->connect_to != NULL) {
        curl_easy_setopt(h, CURLOPT_CONNECT_TO, s->connect_to);
    }
    if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(r->method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(h, CURLOPT_READDATA, br);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_cb);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, br);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)br->len);
    } else if (strcmp(r->method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, br->data);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)br->len);
    } else if (strcmp(r->method, "DELETE") == 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
    }
}

/* The URL of r: base, bucket path, encoded prefix and key, query. */
static lh_rc
build_url(const s3 *s, const req *r, lh_buf *url)
{
    lh_buf_puts(url, s->base_url);
    lh_buf_puts(url, s->path_base);
    lh_buf_putc(url, '/');
    if (r->key != NULL) {
        put_encoded(url, s->c.prefix, true);
        put_encoded(url, r->key, true);
    }
    if (r->query != NULL) {
        lh_buf_putc(url, '?');
        lh_buf_puts(url, r->query);
    }
    return lh_buf_ok(url) ? LH_OK : LH_ENOMEM;
}

/* Runs one try; returns the libcurl code (CURLE_OK: rs->status holds the
 * answer). */
static CURLcode
try_once(s3 *s, const req *r, resp *rs, struct curl_slist *headers,
         const char *url, char *errbuf)
{
    CURL *h = pool_get(s);
    if (h == NULL) {
        return CURLE_OUT_OF_MEMORY;
    }
    body_reader br = {r->body != NULL ? r->body : "", r->body_len, 0};
    rs->status = 0;
    lh_buf_reset(&rs->body);
    rs->body.oom = false;
    if (rs->out != NULL) {
        lh_buf_reset(rs->out);
    }
    errbuf[0] = '\0';
    set_options(s, h, r, rs, &br, headers, url, errbuf);
    __atomic_fetch_add(&s->requests, 1, __ATOMIC_RELAXED);
    CURLcode c = curl_easy_perform(h);
    if (c == CURLE_OK) {
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        rs->status = code;
    }
    pool_put(s, h);
    return c;
}

/* A 200 answer that is an <Error> (CompleteMultipartUpload), or an error
 * answer's body, into rs->e. */
static void
read_error_body(resp *rs)
{
    rs->has_error =
        rs->body.len > 0 &&
        lh__s3_xml_error(rs->body.data, rs->body.len, &rs->e) == LH_OK;
}

/* Sends r until it gets a final answer (LH_OK: rs->status and the rest
 * say what it was) or runs out of tries on transport failures (LH_EIO,
 * LH_ETIMEDOUT; LH_ENOMEM). */
static lh_rc
perform(s3 *s, const req *r, resp *rs, lh_err *err)
{
    lh_buf url = LH_BUF_INIT;
    char name[LH_IO_KEY_MAX + 300];
    object_name(s, r->key, name, sizeof(name));
    memset(rs, 0, sizeof(*rs));
    rs->out = r->out;
    if (r->key != NULL &&
        strlen(s->c.prefix) + strlen(r->key) > LH_IO_KEY_MAX) {
        return lh_err_set(err, LH_EINVAL,
                          "invalid object key \"%.64s...\": longer than %d "
                          "bytes with the store's prefix \"%s\"",
                          r->key, LH_IO_KEY_MAX, s->c.prefix);
    }
    if (build_url(s, r, &url) != LH_OK) {
        lh_buf_release(&url);
        return oom(err, name);
    }
    struct curl_slist *headers = build_headers(s, r);
    if (headers == NULL) {
        lh_buf_release(&url);
        return oom(err, name);
    }
    char errbuf[CURL_ERROR_SIZE];
    lh_rc rc = LH_OK;
    unsigned tries = 1 + (unsigned)s->c.retries;
    for (unsigned t = 0; t < tries; t++) {
        if (t > 0) {
            backoff(s, t - 1);
        }
        rs->tries = t + 1;
        CURLcode c = try_once(s, r, rs, headers, url.data, errbuf);
        if (rs->oom || c == CURLE_OUT_OF_MEMORY) {
            rc = oom(err, name);
            break;
        }
        if (c != CURLE_OK) {
            if (retryable_curl(c) && t + 1 < tries) {
                rs->ambiguous |= maybe_applied(c);
                continue;
            }
            rc = lh_err_set(
                err, c == CURLE_OPERATION_TIMEDOUT ? LH_ETIMEDOUT : LH_EIO,
                "could not %s object \"%s\": %s (%u %s)", r->what, name,
                errbuf[0] != '\0' ? errbuf : curl_easy_strerror(c), rs->tries,
                rs->tries == 1 ? "try" : "tries");
            break;
        }
        /* 501 and 505 say what the server cannot do: no use asking
         * again. */
        bool failed =
            (rs->status >= 500 && rs->status != 501 && rs->status != 505) ||
            rs->status == 429;
        if (!failed && r->complete && rs->status == 200) {
            lh_buf *b = r->out != NULL ? r->out : &rs->body;
            lh__s3_error e;
            if (lh__s3_xml_error(b->data, b->len, &e) == LH_OK) {
                failed = true; /* S3's "200 with an error" */
                rs->status = 500;
                lh_buf_reset(&rs->body);
                lh_buf_append(&rs->body, b->data, b->len);
            }
        }
        if (failed && t + 1 < tries) {
            rs->ambiguous |= rs->status != 429;
            continue;
        }
        break;
    }
    if (rc == LH_OK && !two_xx(rs->status)) {
        read_error_body(rs);
    }
    curl_slist_free_all(headers);
    lh_buf_release(&url);
    return rc;
}

static void
resp_release(resp *rs)
{
    lh_buf_release(&rs->body);
}

/* The code of a final non-2xx answer (io.h's table) with a message naming
 * the object, the status and S3's Code and Message. */
static lh_rc
status_error(const s3 *s, const req *r, const resp *rs, lh_err *err)
{
    char name[LH_IO_KEY_MAX + 300];
    object_name(s, r->key, name, sizeof(name));
    long st = rs->status;
    lh_rc code = LH_EIO;
    const char *hint = "";
    if (st == 404) {
        code = LH_ENOENT;
    } else if (st == 400 && strcmp(rs->e.code, "EntityTooLarge") == 0) {
        code = LH_ELIMIT;
    } else if (st == 413) {
        code = LH_ELIMIT;
    } else if (st == 400 || st == 411 || st == 416) {
        code = LH_EINVAL;
    } else if (st == 409 || st == 412) {
        code = LH_ECONFLICT;
    } else if (st == 405 || st == 501) {
        code = LH_EUNSUPPORTED;
    } else if (st == 401 || st == 403) {
        hint = " (access denied: check the credentials)";
    } else if (st == 301 || st == 307) {
        hint = " (the bucket is in another region: set region=)";
    }
    char tries[32] = "";
    if (rs->tries > 1) {
        snprintf(tries, sizeof(tries), " after %u tries", rs->tries);
    }
    char region[96] = "";
    if (rs->region[0] != '\0') {
        snprintf(region, sizeof(region), " (bucket region %s)", rs->region);
    }
    lh_rc rc = lh_err_set(
        err, code, "could not %s object \"%s\": http %ld%s%s%s%s%s%s", r->what,
        name, st, rs->has_error ? " " : "", rs->e.code,
        rs->has_error && rs->e.message[0] ? ": " : "", rs->e.message, tries,
        region[0] ? region : hint);
    if (err != NULL) {
        err->http_status = (int)st;
    }
    return rc;
}

/* The object's info from a HEAD; LH_ENOENT when it is not there. */
static lh_rc
head_info(s3 *s, const char *key, lh_io_info *info, char *write_id, lh_err *err)
{
    req r = {.method = "HEAD", .what = "stat", .key = key};
    resp rs;
    lh_rc rc = perform(s, &r, &rs, err);
    if (rc == LH_OK && rs.status == 200) {
        char name[LH_IO_KEY_MAX + 300];
        object_name(s, key, name, sizeof(name));
        if (!rs.has_length || rs.etag[0] == '\0') {
            rc = lh_err_set(err, LH_EIO,
                            "could not stat object \"%s\": no size or etag "
                            "in the answer",
                            name);
        } else {
            info->size = rs.length;
            memcpy(info->etag, rs.etag, sizeof(info->etag));
            info->mtime = rs.last_modified;
            if (write_id != NULL) {
                memcpy(write_id, rs.write_id, sizeof(rs.write_id));
            }
        }
    } else if (rc == LH_OK && rs.status == 404) {
        char name[LH_IO_KEY_MAX + 300];
        object_name(s, key, name, sizeof(name));
        rc = lh_err_set(err, LH_ENOENT, "no object \"%s\"", name);
        if (err != NULL) {
            err->http_status = 404;
        }
    } else if (rc == LH_OK) {
        rc = status_error(s, &r, &rs, err);
    }
    resp_release(&rs);
    return rc;
}

static lh_rc
s3_head(lh_io_store *st, const char *key, lh_io_info *info, lh_err *err)
{
    return head_info(st->impl, key, info, NULL, err);
}

/* ---- get ---------------------------------------------------------------- */

/* A GET answered 200 to a range request: the server sent all of it. */
static lh_rc
slice(const char *key, lh_buf *out, uint64_t off, uint64_t len, lh_err *err)
{
    uint64_t size = out->len;
    lh_rc rc = lh__io_range_fit(key, size, off, &len, err);
    if (rc != LH_OK) {
        return rc;
    }
    memmove(out->data, out->data + off, (size_t)len);
    out->len = (size_t)len;
    out->data[len] = '\0';
    return LH_OK;
}

static lh_rc
s3_get(lh_io_store *st, const char *key, uint64_t off, uint64_t len,
       lh_buf *out, lh_io_info *info, lh_err *err)
{
    s3 *s = st->impl;
    char name[LH_IO_KEY_MAX + 300];
    object_name(s, key, name, sizeof(name));
    bool whole = off == 0 && len == LH_IO_TO_END;
    if (len == 0) {
        /* "bytes=9-8" is no range: servers answer with the whole object. */
        lh_rc rc = head_info(s, key, info, NULL, err);
        return rc == LH_OK ? lh__io_range_fit(name, info->size, off, &len, err)
                           : rc;
    }
    char range[80];
    req r = {.method = "GET", .what = "read", .key = key, .out = out};
    if (!whole) {
        if (len == LH_IO_TO_END || off + len < off) {
            snprintf(range, sizeof(range), "Range: bytes=%llu-",
                     (unsigned long long)off);
        } else {
            snprintf(range, sizeof(range), "Range: bytes=%llu-%llu",
                     (unsigned long long)off,
                     (unsigned long long)(off + len - 1));
        }
        r.headers[r.nheaders++] = range;
    }
    resp rs;
    lh_rc rc = perform(s, &r, &rs, err);
    if (rc != LH_OK) {
        resp_release(&rs);
        return rc;
    }
    if (rs.status == 200) {
        info->size = out->len;
        if (!whole) {
            rc = slice(name, out, off, len, err);
        }
    } else if (rs.status == 206 && rs.has_range && rs.range_first == off) {
        info->size = rs.range_total;
        uint64_t want = LH_MIN(len, rs.range_total - off);
        if (out->len != want) {
            rc = lh_err_set(err, LH_EIO,
                            "could not read object \"%s\": %zu bytes of "
                            "range %llu+%llu",
                            name, out->len, (unsigned long long)off,
                            (unsigned long long)want);
        }
    } else if (rs.status == 206) {
        rc = lh_err_set(err, LH_EIO,
                        "could not read object \"%s\": the answer's "
                        "content-range does not match the range asked for",
                        name);
    } else if (rs.status == 416) {
        /* S3 refuses any range of an empty object; the contract allows
         * offset 0 there. HEAD tells which case this is. */
        lh_io_info h;
        rc = head_info(s, key, &h, NULL, err);
        if (rc == LH_OK) {
            *info = h;
            rc = lh__io_range_fit(name, h.size, off, &len, err);
            if (rc == LH_OK && h.size > 0) {
                rc = status_error(s, &r, &rs, err); /* changed meanwhile */
            }
        }
    } else if (rs.status == 404) {
        rc = lh_err_set(err, LH_ENOENT, "no object \"%s\"", name);
        if (err != NULL) {
            err->http_status = 404;
        }
    } else {
        rc = status_error(s, &r, &rs, err);
    }
    if (rc == LH_OK && rs.status != 416) {
        memcpy(info->etag, rs.etag, sizeof(info->etag));
        info->mtime = rs.last_modified;
    }
    if (rc != LH_OK) {
        lh_buf_reset(out);
    }
    resp_release(&rs);
    return rc;
}

/* ---- put ---------------------------------------------------------------- */

static lh_rc
new_write_id(char id[LH_UUID_STRLEN + 1], lh_err *err)
{
    lh_uuid u;
    lh_rc rc = lh_uuid_v4(&u, err);
    if (rc == LH_OK) {
        lh_uuid_format(&u, id);
        id[LH_UUID_STRLEN] = '\0';
    }
    return rc;
}

/* After a retried conditional write failed its condition: whether the
 * object holds our write (then info is filled). */
static bool
own_write(s3 *s, const char *key, const char *write_id, lh_io_info *info)
{
    lh_io_info h;
    char id[LH_UUID_STRLEN + 1] = "";
    if (head_info(s, key, &h, id, NULL) != LH_OK || strcmp(id, write_id) != 0) {
        return false;
    }
    *info = h;
    return true;
}

static lh_rc multipart_put(s3 *s, const char *key, const void *data, size_t len,
                           lh_io_info *info, lh_err *err);

/* The message for a failed condition; HEADs the object to name its ETag. */
static lh_rc
condition_failed(s3 *s, const char *key, bool if_absent, const char *if_match,
                 const resp *rs, lh_err *err)
{
    char name[LH_IO_KEY_MAX + 300];
    object_name(s, key, name, sizeof(name));
    const char *unsure = rs->ambiguous
                             ? " (an earlier try's outcome is unknown: it "
                               "may have been applied and replaced since)"
                             : "";
    lh_rc rc;
    if (rs->status == 409) {
        rc = lh_err_set(err, LH_ECONFLICT,
                        "object \"%s\": a concurrent conditional write won%s",
                        name, unsure);
    } else if (if_absent) {
        rc = lh_err_set(err, LH_EEXIST, "object \"%s\" already exists%s", name,
                        unsure);
    } else {
        lh_io_info cur;
        if (head_info(s, key, &cur, NULL, NULL) == LH_OK) {
            rc = lh_err_set(err, LH_ECONFLICT,
                            "object \"%s\" has etag %s, expected %s%s", name,
                            cur.etag, if_match, unsure);
        } else {
            rc = lh_err_set(err, LH_ECONFLICT,
                            "object \"%s\" does not exist, expected etag "
                            "%s%s",
                            name, if_match, unsure);
        }
    }
    if (err != NULL) {
        err->http_status = (int)rs->status;
    }
    return rc;
}

static lh_rc
s3_put(lh_io_store *st, const char *key, const void *data, size_t len,
       bool if_absent, const char *if_match, lh_io_info *info, lh_err *err)
{
    s3 *s = st->impl;
    char name[LH_IO_KEY_MAX + 300];
    object_name(s, key, name, sizeof(name));
    bool conditional = if_absent || if_match != NULL;
    if (!conditional && len > s->c.multipart_threshold) {
        return multipart_put(s, key, data, len, info, err);
    }
    if (len > LH__S3_PUT_MAX) {
        return lh_err_set(err, LH_ELIMIT,
                          "object \"%s\": %zu bytes is more than S3's 5 GiB "
                          "for a single put",
                          name, len);
    }
    char cond[LH_IO_ETAG_MAX + 16];
    char wid_header[LH_UUID_STRLEN + 40];
    char wid[LH_UUID_STRLEN + 1] = "";
    req r = {.method = "PUT",
             .what = "write",
             .key = key,
             .body = data,
             .body_len = len};
    r.headers[r.nheaders++] = "Content-Type: application/octet-stream";
    if (conditional) {
        lh_rc rc = new_write_id(wid, err);
        if (rc != LH_OK) {
            return rc;
        }
        snprintf(wid_header, sizeof(wid_header), WRITE_ID_HEADER ": %s", wid);
        r.headers[r.nheaders++] = wid_header;
        if (if_absent) {
            r.headers[r.nheaders++] = "If-None-Match: *";
        } else {
            if (strlen(if_match) >= LH_IO_ETAG_MAX ||
                strpbrk(if_match, "\r\n") != NULL) {
                return lh_err_set(err, LH_EINVAL,
                                  "object \"%s\": bad etag to match", name);
            }
            snprintf(cond, sizeof(cond), "If-Match: %s", if_match);
            r.headers[r.nheaders++] = cond;
        }
    }
    resp rs;
    lh_rc rc = perform(s, &r, &rs, err);
    if (rc != LH_OK) {
        resp_release(&rs);
        return rc;
    }
    if (two_xx(rs.status)) {
        if (rs.etag[0] == '\0') {
            rc = lh_err_set(err, LH_EIO,
                            "could not write object \"%s\": no etag in the "
                            "answer",
                            name);
        } else {
            info->size = len;
            memcpy(info->etag, rs.etag, sizeof(info->etag));
            info->mtime = rs.date != 0 ? rs.date : lh_real_now();
        }
    } else if (conditional && (rs.status == 412 || rs.status == 409 ||
                               (rs.status == 404 && if_match != NULL &&
                                strcmp(rs.e.code, "NoSuchBucket") != 0))) {
        if (rs.ambiguous && own_write(s, key, wid, info)) {
            rc = LH_OK; /* an earlier try landed; its answer was lost */
        } else {
            rc = condition_failed(s, key, if_absent, if_match, &rs, err);
        }
    } else if (conditional && (rs.status == 501 || rs.status == 405)) {
        rc = lh_err_set(err, LH_EUNSUPPORTED,
                        "could not write object \"%s\": the store does not "
                        "support conditional writes (http %ld)",
                        name, rs.status);
        if (err != NULL) {
            err->http_status = (int)rs.status;
        }
    } else {
        rc = status_error(s, &r, &rs, err);
    }
    resp_release(&rs);
    return rc;
}

static lh_rc
s3_del(lh_io_store *st, const char *key, lh_err *err)
{
    s3 *s = st->impl;
    req r = {.method = "DELETE", .what = "delete", .key = key};
    resp rs;
    lh_rc rc = perform(s, &r, &rs, err);
    if (rc == LH_OK && !two_xx(rs.status) &&
        !(rs.status == 404 && strcmp(rs.e.code, "NoSuchBucket") != 0)) {
        rc = status_error(s, &r, &rs, err);
    }
    resp_release(&rs);
    return rc;
}

/* ---- list --------------------------------------------------------------- */

static lh_rc
s3_list(lh_io_store *st, const lh_io_list_opts *opts, lh_arena *a,
        lh_io_page *page, lh_err *err)
{
    s3 *s = st->impl;
    size_t max =
        opts->max_keys == 0 || opts->max_keys > 1000 ? 1000 : opts->max_keys;
    lh_buf q = LH_BUF_INIT;
    lh_buf full = LH_BUF_INIT;
    lh_buf body = LH_BUF_INIT;
    char num[32];
    snprintf(num, sizeof(num), "%zu", max);
    /* In name order, as SigV4's canonical query wants. */
    if (opts->token != NULL) {
        query_add(&q, "continuation-token", opts->token);
    }
    query_add(&q, "list-type", "2");
    query_add(&q, "max-keys", num);
    lh_buf_printf(&full, "%s%s", s->c.prefix, opts->prefix);
    query_add(&q, "prefix", full.data != NULL ? full.data : "");
    if (opts->start_after != NULL && opts->token == NULL) {
        lh_buf_reset(&full);
        lh_buf_printf(&full, "%s%s", s->c.prefix, opts->start_after);
        query_add(&q, "start-after", full.data);
    }
    lh_rc rc = LH_OK;
    if (!lh_buf_ok(&q) || !lh_buf_ok(&full)) {
        rc = oom(err, "listing objects");
        goto done;
    }
    req r = {.method = "GET", .what = "list", .query = q.data, .out = &body};
    resp rs;
    rc = perform(s, &r, &rs, err);
    if (rc == LH_OK && !two_xx(rs.status)) {
        rc = status_error(s, &r, &rs, err);
    }
    resp_release(&rs);
    if (rc != LH_OK) {
        goto done;
    }
    lh__s3_listing l;
    rc = lh__s3_xml_list(body.data, body.len, a, &l, err);
    if (rc != LH_OK) {
        lh_err_prefix(err, "listing \"s3://%s/%s\"", s->c.bucket, s->c.prefix);
        goto done;
    }
    size_t plen = strlen(s->c.prefix);
    page->entries = l.entries; /* filtered in place */
    for (size_t i = 0; i < l.count; i++) {
        const char *k = l.entries[i].key;
        lh_err e2;
        if (strncmp(k, s->c.prefix, plen) != 0 ||
            lh_io_key_check(k + plen, &e2) != LH_OK) {
            continue; /* outside the prefix, or a directory marker */
        }
        page->entries[page->count] = l.entries[i];
        page->entries[page->count].key = k + plen;
        page->count++;
    }
    page->next_token = l.truncated ? l.next_token : NULL;
done:
    lh_buf_release(&q);
    lh_buf_release(&full);
    lh_buf_release(&body);
    return rc;
}

/* ---- multipart ---------------------------------------------------------- */

static void
upload_free(lh_io_upload *u)
{
    s3_upload *up = u->impl;
    lh_free(up->upload_id);
    lh_free(up->parts);
    lh_free(up);
    lh__io_upload_free(u);
}

static lh_rc
s3_upload_begin(lh_io_store *st, const char *key, lh_io_upload **out,
                lh_err *err)
{
    s3 *s = st->impl;
    s3_upload *up = lh_calloc(1, sizeof(*up));
    if (up == NULL) {
        return oom(err, "starting an upload");
    }
    lh_rc rc = new_write_id(up->write_id, err);
    if (rc != LH_OK) {
        lh_free(up);
        return rc;
    }
    char wid_header[LH_UUID_STRLEN + 40];
    snprintf(wid_header, sizeof(wid_header), WRITE_ID_HEADER ": %s",
             up->write_id);
    lh_buf body = LH_BUF_INIT;
    req r = {.method = "POST",
             .what = "start upload of",
             .key = key,
             .query = "uploads=",
             .body = "",
             .out = &body};
    r.headers[r.nheaders++] = "Content-Type: application/octet-stream";
    r.headers[r.nheaders++] = wid_header;
    resp rs;
    rc = perform(s, &r, &rs, err);
    if (rc == LH_OK && !two_xx(rs.status)) {
        rc = status_error(s, &r, &rs, err);
    }
    if (rc == LH_OK) {
        rc = lh__s3_xml_initiate(body.data, body.len, &up->upload_id, err);
    }
    if (rc == LH_OK) {
        rc = lh__io_upload_new(st, key, up, out, err);
    }
    if (rc != LH_OK) {
        lh_free(up->upload_id);
        lh_free(up);
    }
    resp_release(&rs);
    lh_buf_release(&body);
    return rc;
}

/* Records part no with its etag, replacing an earlier one. */
static lh_rc
record_part(s3_upload *up, int no, uint64_t size, const char *etag)
{
    size_t i = 0;
    while (i < up->count && up->parts[i].no < no) {
        i++;
    }
    if (i == up->count || up->parts[i].no != no) {
        if (up->count == up->cap) {
            size_t cap = up->cap == 0 ? 16 : up->cap * 2;
            s3_part *p = lh_realloc(up->parts, cap * sizeof(*p));
            if (p == NULL) {
                return LH_ENOMEM;
            }
            up->parts = p;
            up->cap = cap;
        }
        memmove(&up->parts[i + 1], &up->parts[i],
                (up->count - i) * sizeof(*up->parts));
        up->count++;
    }
    up->parts[i].no = no;
    up->parts[i].size = size;
    snprintf(up->parts[i].etag, sizeof(up->parts[i].etag), "%s", etag);
    return LH_OK;
}

static lh_rc
s3_upload_part(lh_io_upload *u, int no, const void *data, size_t len,
               lh_err *err)
{
    s3 *s = u->s->impl;
    s3_upload *up = u->impl;
    if (len > LH__S3_PUT_MAX) {
        return lh_err_set(err, LH_ELIMIT,
                          "upload of \"%s\": part %d is larger than S3's "
                          "5 GiB",
                          u->key, no);
    }
    lh_buf q = LH_BUF_INIT;
    char num[16];
    snprintf(num, sizeof(num), "%d", no);
    query_add(&q, "partNumber", num);
    query_add(&q, "uploadId", up->upload_id);
    if (!lh_buf_ok(&q)) {
        lh_buf_release(&q);
        return oom(err, "uploading a part");
    }
    req r = {.method = "PUT",
             .what = "upload part of",
             .key = u->key,
             .query = q.data,
             .body = data,
             .body_len = len};
    r.headers[r.nheaders++] = "Content-Type: application/octet-stream";
    resp rs;
    lh_rc rc = perform(s, &r, &rs, err);
    if (rc == LH_OK && !two_xx(rs.status)) {
        rc = status_error(s, &r, &rs, err);
    } else if (rc == LH_OK && rs.etag[0] == '\0') {
        rc = lh_err_set(err, LH_EIO,
                        "upload of \"%s\": no etag in the answer for part %d",
                        u->key, no);
    }
    if (rc == LH_OK && record_part(up, no, len, rs.etag) != LH_OK) {
        rc = oom(err, "uploading a part");
    }
    resp_release(&rs);
    lh_buf_release(&q);
    return rc;
}

/* Sends AbortMultipartUpload; a missing upload is fine. */
static lh_rc
abort_request(s3 *s, const char *key, const char *upload_id, lh_err *err)
{
    lh_buf q = LH_BUF_INIT;
    query_add(&q, "uploadId", upload_id);
    if (!lh_buf_ok(&q)) {
        lh_buf_release(&q);
        return oom(err, "aborting an upload");
    }
    req r = {.method = "DELETE",
             .what = "abort upload of",
             .key = key,
             .query = q.data};
    resp rs;
    lh_rc rc = perform(s, &r, &rs, err);
    if (rc == LH_OK && !two_xx(rs.status) && rs.status != 404) {
        rc = status_error(s, &r, &rs, err);
    }
    resp_release(&rs);
    lh_buf_release(&q);
    return rc;
}

static lh_rc
s3_upload_abort(lh_io_upload *u, lh_err *err)
{
    s3_upload *up = u->impl;
    lh_rc rc = abort_request(u->s->impl, u->key, up->upload_id, err);
    upload_free(u);
    return rc;
}

static lh_rc
complete_request(s3 *s, lh_io_upload *u, lh_io_info *info, lh_err *err)
{
    s3_upload *up = u->impl;
    lh_buf xml = LH_BUF_INIT;
    lh_buf q = LH_BUF_INIT;
    lh_buf body = LH_BUF_INIT;
    uint64_t size = 0;
    lh_buf_puts(&xml, "<CompleteMultipartUpload xmlns=\"http://"
                      "s3.amazonaws.com/doc/2006-03-01/\">");
    for (size_t i = 0; i < up->count; i++) {
        /* ETags are hex in quotes: nothing to escape but the quotes. */
        lh_buf_printf(&xml, "<Part><PartNumber>%d</PartNumber><ETag>&quot;",
                      up->parts[i].no);
        const char *e = up->parts[i].etag;
        lh_buf_append(&xml, e + 1, strlen(e) - 2);
        lh_buf_puts(&xml, "&quot;</ETag></Part>");
        size += up->parts[i].size;
    }
    lh_buf_puts(&xml, "</CompleteMultipartUpload>");
    query_add(&q, "uploadId", up->upload_id);
    if (!lh_buf_ok(&xml) || !lh_buf_ok(&q)) {
        lh_buf_release(&xml);
        lh_buf_release(&q);
        return oom(err, "completing an upload");
    }
    req r = {.method = "POST",
             .what = "complete upload of",
             .key = u->key,
             .query = q.data,
             .body = xml.data,
             .body_len = xml.len,
             .out = &body,
             .complete = true};
    r.headers[r.nheaders++] = "Content-Type: application/xml";
    resp rs;
    lh_rc rc = perform(s, &r, &rs, err);
    if (rc == LH_OK && two_xx(rs.status)) {
        bool is_error;
        lh__s3_error e;
        rc = lh__s3_xml_complete(body.data, body.len, info->etag, &is_error, &e,
                                 err);
        if (rc == LH_OK && is_error) {
            rc = lh_err_set(err, LH_EIO,
                            "could not complete upload of \"%s\": %s: %s",
                            u->key, e.code, e.message);
        }
        info->size = size;
        info->mtime = rs.date != 0 ? rs.date : lh_real_now();
    } else if (rc == LH_OK && rs.status == 404 && rs.ambiguous &&
               own_write(s, u->key, up->write_id, info)) {
        rc = LH_OK; /* an earlier try completed it; its answer was lost */
    } else if (rc == LH_OK) {
        rc = status_error(s, &r, &rs, err);
    }
    resp_release(&rs);
    lh_buf_release(&xml);
    lh_buf_release(&q);
    lh_buf_release(&body);
    return rc;
}

static lh_rc
s3_upload_complete(lh_io_upload *u, lh_io_info *info, lh_err *err)
{
    s3 *s = u->s->impl;
    s3_upload *up = u->impl;
    lh_rc rc;
    if (up->count == 0) {
        rc = lh_err_set(err, LH_EINVAL, "upload of \"%s\": no parts", u->key);
    } else {
        rc = complete_request(s, u, info, err);
    }
    if (rc != LH_OK) {
        abort_request(s, u->key, up->upload_id, NULL);
    }
    upload_free(u);
    return rc;
}

/* lh_io_put of a large object: parts of part_size (more when 10,000
 * parts would not hold it), completed, or aborted on any failure. */
static lh_rc
multipart_put(s3 *s, const char *key, const void *data, size_t len,
              lh_io_info *info, lh_err *err)
{
    uint64_t part = s->c.part_size;
    uint64_t min = (len + LH_IO_PART_MAX - 1) / LH_IO_PART_MAX;
    if (part < min) {
        part = min;
    }
    lh_io_upload *u;
    lh_rc rc = s3_upload_begin(s->self, key, &u, err);
    if (rc != LH_OK) {
        return rc;
    }
    const char *p = data;
    int no = 1;
    for (size_t off = 0; off < len; off += (size_t)part, no++) {
        size_t n = (size_t)LH_MIN(part, (uint64_t)(len - off));
        rc = s3_upload_part(u, no, p + off, n, err);
        if (rc != LH_OK) {
            s3_upload_abort(u, NULL);
            return rc;
        }
    }
    return s3_upload_complete(u, info, err);
}

/* ---- the store ---------------------------------------------------------- */

static void
s3_close(lh_io_store *st)
{
    s3 *s = st->impl;
    for (size_t i = 0; i < s->nidle; i++) {
        curl_easy_cleanup(s->idle[i]);
    }
    if (s->share != NULL) {
        curl_share_cleanup(s->share);
    }
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) {
        pthread_mutex_destroy(&s->share_mu[i]);
    }
    pthread_mutex_destroy(&s->mu);
    curl_slist_free_all(s->connect_to);
    lh_free(s->amz_date);
    lh_free(s->sigv4);
    lh_free(s->base_url);
    lh_free(s->path_base);
    lh__s3_conf_release(&s->c);
    lh_free(s);
    lh_free(st);
}

static const lh_io_methods s3_methods = {
    .name = "s3",
    .get = s3_get,
    .head = s3_head,
    .put = s3_put,
    .del = s3_del,
    .list = s3_list,
    .upload_begin = s3_upload_begin,
    .upload_part = s3_upload_part,
    .upload_complete = s3_upload_complete,
    .upload_abort = s3_upload_abort,
    .close = s3_close,
};

/* URLs and the signing string from the configuration. */
static lh_rc
derive(s3 *s, lh_err *err)
{
    lh_buf b = LH_BUF_INIT;
    if (s->c.virtual_style) {
        lh_buf_printf(&b, "%s://%s.%s", s->c.scheme, s->c.bucket, s->c.host);
    } else {
        lh_buf_printf(&b, "%s://%s", s->c.scheme, s->c.host);
    }
    s->base_url = lh_buf_take(&b, NULL);
    if (s->c.virtual_style) {
        s->path_base = lh_strdup("");
    } else {
        lh_buf_putc(&b, '/');
        put_encoded(&b, s->c.bucket, false);
        s->path_base = lh_buf_take(&b, NULL);
    }
    if (s->c.access_key != NULL) {
        lh_buf_printf(&b, "aws:amz:%s:s3", s->c.region);
        s->sigv4 = lh_buf_take(&b, NULL);
        if (s->sigv4 == NULL) {
            return oom(err, "opening an s3 store");
        }
    }
    if (s->base_url == NULL || s->path_base == NULL) {
        return oom(err, "opening an s3 store");
    }
    return LH_OK;
}

lh_rc
lh_io_s3_open(const char *uri, lh_io_store **out, lh_err *err)
{
    *out = NULL;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        return lh_err_set(err, LH_EIO, "could not initialise libcurl: %s",
                          curl_easy_strerror(curl_init_rc));
    }
    lh_io_store *st = lh_calloc(1, sizeof(*st));
    s3 *s = lh_calloc(1, sizeof(*s));
    if (st == NULL || s == NULL) {
        lh_free(st);
        lh_free(s);
        return oom(err, "opening an s3 store");
    }
    pthread_mutex_init(&s->mu, NULL);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) {
        pthread_mutex_init(&s->share_mu[i], NULL);
    }
    st->m = &s3_methods;
    st->impl = s;
    s->self = st;
    lh_rc rc = lh__s3_conf_load(uri, &s->c, err);
    if (rc == LH_OK) {
        rc = derive(s, err);
    }
    if (rc == LH_OK) {
        s->share = curl_share_init();
        if (s->share == NULL) {
            rc = oom(err, "opening an s3 store");
        } else {
            curl_share_setopt(s->share, CURLSHOPT_LOCKFUNC, share_lock);
            curl_share_setopt(s->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
            curl_share_setopt(s->share, CURLSHOPT_USERDATA, s);
            curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
            curl_share_setopt(s->share, CURLSHOPT_SHARE,
                              CURL_LOCK_DATA_SSL_SESSION);
        }
    }
    if (rc == LH_OK) {
        lh_uuid u;
        rc = lh_uuid_v4(&u, err);
        memcpy(&s->rng, u.b, sizeof(s->rng));
        s->rng |= 1; /* xorshift must not start at 0 */
    }
    if (rc != LH_OK) {
        s3_close(st);
        return rc;
    }
    *out = st;
    return LH_OK;
}

lh_rc
lh__io_s3_test_set(lh_io_store *st, const char *connect_to,
                   const char *amz_date)
{
    if (st == NULL || st->m != &s3_methods) {
        return LH_EINVAL;
    }
    s3 *s = st->impl;
    curl_slist_free_all(s->connect_to);
    s->connect_to = NULL;
    lh_free(s->amz_date);
    s->amz_date = NULL;
    if (connect_to != NULL) {
        s->connect_to = curl_slist_append(NULL, connect_to);
    }
    if (amz_date != NULL) {
        s->amz_date = lh_strdup(amz_date);
    }
    if ((connect_to != NULL && s->connect_to == NULL) ||
        (amz_date != NULL && s->amz_date == NULL)) {
        return LH_ENOMEM;
    }
    return LH_OK;
}

uint64_t
lh__io_s3_requests(lh_io_store *st)
{
    if (st == NULL || st->m != &s3_methods) {
        return 0;
    }
    s3 *s = st->impl;
    return __atomic_load_n(&s->requests, __ATOMIC_RELAXED);
}
