/*
 * Server options: one table of names, kinds and defaults that the config
 * file (a JSON object), the environment (LAKEHOUSE_<NAME>) and the
 * command line (--name-with-dashes) all set through lh_server_config_set.
 */
/* OpenSSL's 1.1-era lhash macros (lh_free, lh_new...) would shadow ours. */
#define OPENSSL_NO_DEPRECATED
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/server_int.h"

typedef enum opt_kind {
    K_ADDR,     /* host:port, or "off" */
    K_INT,      /* a whole number within [min, max] */
    K_SIZE,     /* bytes: 1048576, 64k, 64MiB, 1g */
    K_DURATION, /* lh_duration_parse: "60s", "500ms", "0" = none */
    K_PATH,     /* a file name */
    K_BOOL,     /* true/false, 1/0, yes/no, on/off */
    K_PGAUTH,   /* scram or password */
} opt_kind;

typedef struct opt_def {
    const char *name;
    opt_kind kind;
    size_t off;
    int64_t min, max;
    lh_server_option pub;
} opt_def;

#define OFF(f) offsetof(srv_config, f)

static const opt_def defs[] = {
    {"http",
     K_ADDR,
     OFF(http),
     0,
     0,
     {"http", "127.0.0.1:8080", false,
      "the HTTP API's address (host:port, port 0 = any; off = none)"}},
    {"pg",
     K_ADDR,
     OFF(pg),
     0,
     0,
     {"pg", "127.0.0.1:5433", false,
      "the PostgreSQL wire protocol's address (off = none)"}},
    {"io_threads",
     K_INT,
     OFF(io_threads),
     0,
     64,
     {"io_threads", "0", false,
      "event loop threads (0 = one per CPU, at most 4)"}},
    {"workers",
     K_INT,
     OFF(workers),
     0,
     1024,
     {"workers", "64", false,
      "threads for blocking work: appends, reads, queries"}},
    {"max_connections",
     K_INT,
     OFF(max_connections),
     1,
     1000000,
     {"max_connections", "4096", false,
      "open connections, HTTP and PostgreSQL together"}},
    {"max_body",
     K_SIZE,
     OFF(max_body),
     1,
     INT64_C(1) << 40,
     {"max_body", "64MiB", false, "the largest request body (413 past it)"}},
    {"max_header",
     K_SIZE,
     OFF(max_header),
     256,
     16 << 20,
     {"max_header", "64KiB", false,
      "the largest request head: request line and header fields (431)"}},
    {"max_events",
     K_INT,
     OFF(max_events),
     1,
     100000000,
     {"max_events", "1000000", false, "events in one append request"}},
    {"idle_timeout",
     K_DURATION,
     OFF(idle_timeout),
     1,
     0,
     {"idle_timeout", "60s", false,
      "a connection without a request, or a body that stalls, is closed"}},
    {"header_timeout",
     K_DURATION,
     OFF(header_timeout),
     1,
     0,
     {"header_timeout", "10s", false,
      "a request's head must arrive within this of its first byte"}},
    {"write_timeout",
     K_DURATION,
     OFF(write_timeout),
     1,
     0,
     {"write_timeout", "30s", false,
      "a client that reads nothing of a reply for this long is dropped"}},
    {"long_poll_max",
     K_DURATION,
     OFF(long_poll_max),
     0,
     0,
     {"long_poll_max", "60s", false,
      "the longest wait a long poll may ask for"}},
    {"drain_timeout",
     K_DURATION,
     OFF(drain_timeout),
     0,
     0,
     {"drain_timeout", "30s", false,
      "on SIGTERM, how long requests in flight may take to finish"}},
    {"query_timeout",
     K_DURATION,
     OFF(query_timeout),
     0,
     0,
     {"query_timeout", "300s", false,
      "the longest a query may run (0 = no "
      "limit)"}},
    {"query_memory",
     K_SIZE,
     OFF(query_memory),
     0,
     INT64_C(1) << 50,
     {"query_memory", "1GiB", false, "the memory a query may use"}},
    {"query_threads",
     K_INT,
     OFF(query_threads),
     0,
     64,
     {"query_threads", "0", false,
      "threads one query may use (0 = one per CPU)"}},
    {"tls_cert",
     K_PATH,
     OFF(tls_cert),
     0,
     0,
     {"tls_cert", "", false,
      "a PEM certificate (chain): TLS for PostgreSQL clients that ask"}},
    {"tls_key",
     K_PATH,
     OFF(tls_key),
     0,
     0,
     {"tls_key", "", false, "the PEM private key of tls_cert"}},
    {"http_tls",
     K_BOOL,
     OFF(http_tls),
     0,
     0,
     {"http_tls", "false", true,
      "serve HTTPS instead of HTTP (needs "
      "tls_cert)"}},
    {"pg_auth",
     K_PGAUTH,
     OFF(pg_auth_password),
     0,
     0,
     {"pg_auth", "scram", false,
      "how PostgreSQL clients present their token: scram (SCRAM-SHA-256) "
      "or password (cleartext; use with TLS)"}},
    {"pg_idle_timeout",
     K_DURATION,
     OFF(pg_idle_timeout),
     0,
     0,
     {"pg_idle_timeout", "0", false,
      "a PostgreSQL session idle this long is closed (0 = never)"}},
    {"insecure_no_auth",
     K_BOOL,
     OFF(insecure_no_auth),
     0,
     0,
     {"insecure_no_auth", "false", true,
      "allow listening beyond loopback without any token"}},
    {"pipeline",
     K_BOOL,
     OFF(pipeline),
     0,
     0,
     {"pipeline", "false", false,
      "run the pipeline (flushes, compactions, retention, snapshot expiry) "
      "in the background; lakehouse serve turns it on"}},
};

static lh_server_option pub_list[LH_ARRAY_LEN(defs) + 1];
static pthread_once_t pub_once = PTHREAD_ONCE_INIT;

static void
pub_init(void)
{
    for (size_t i = 0; i < LH_ARRAY_LEN(defs); i++) {
        pub_list[i] = defs[i].pub;
    }
}

const lh_server_option *
lh_server_options(size_t *n)
{
    pthread_once(&pub_once, pub_init);
    if (n != NULL) {
        *n = LH_ARRAY_LEN(defs);
    }
    return pub_list;
}

static const opt_def *
find(const char *name)
{
    char norm[64];
    size_t n = strlen(name);
    if (n >= sizeof(norm)) {
        return NULL;
    }
    for (size_t i = 0; i <= n; i++) {
        norm[i] = name[i] == '-' ? '_' : (char)tolower((unsigned char)name[i]);
    }
    for (size_t i = 0; i < LH_ARRAY_LEN(defs); i++) {
        if (strcmp(defs[i].name, norm) == 0) {
            return &defs[i];
        }
    }
    return NULL;
}

static bool
parse_int(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != 0 || errno != 0) {
        return false;
    }
    *out = v;
    return true;
}

/* "1048576", "64k", "64KiB", "64kb", "1g": binary units. */
static bool
parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "1", "yes", "on"};
    static const char *const no[] = {"false", "0", "no", "off"};
    for (size_t i = 0; i < LH_ARRAY_LEN(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* host:port with port 0..65535; [v6]:port. */
static bool
addr_valid(const char *s)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s || colon[1] == 0) {
        return false;
    }
    int64_t port;
    if (!parse_int(colon + 1, &port) || port < 0 || port > 65535) {
        return false;
    }
    if (s[0] == '[') {
        return colon[-1] == ']';
    }
    return memchr(s, ':', (size_t)(colon - s)) == NULL;
}

static lh_rc
set_string(char **dst, const char *v, lh_err *err)
{
    char *copy = NULL;
    if (v != NULL) {
        copy = lh_strdup(v);
        if (copy == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    lh_free(*dst);
    *dst = copy;
    return LH_OK;
}

static lh_rc
set_opt(srv_config *c, const opt_def *d, const char *v, lh_err *err)
{
    char *base = (char *)c + d->off;
    int64_t n;
    lh_us us;
    bool b;
    switch (d->kind) {
    case K_ADDR:
        if (strcmp(v, "off") == 0 || v[0] == 0) {
            return set_string((char **)base, NULL, err);
        }
        if (!addr_valid(v)) {
            break;
        }
        return set_string((char **)base, v, err);
    case K_INT:
        if (!parse_int(v, &n) || n < d->min || n > d->max) {
            break;
        }
        if (d->off == OFF(max_events)) {
            *(int64_t *)base = n;
        } else {
            *(int *)base = (int)n;
        }
        return LH_OK;
    case K_SIZE:
        if (!lh_size_parse(v, &n) || n < d->min || n > d->max) {
            break;
        }
        *(int64_t *)base = n;
        return LH_OK;
    case K_DURATION:
        if (strcmp(v, "0") == 0 && d->min == 0) {
            *(lh_us *)base = 0;
            return LH_OK;
        }
        if (lh_duration_parse(v, &us, NULL) != LH_OK || us < d->min) {
            break;
        }
        *(lh_us *)base = us;
        return LH_OK;
    case K_PATH:
        return set_string((char **)base, v[0] ? v : NULL, err);
    case K_BOOL:
        if (!parse_bool(v, &b)) {
            break;
        }
        *(bool *)base = b;
        return LH_OK;
    case K_PGAUTH:
        if (strcmp(v, "scram") != 0 && strcmp(v, "password") != 0) {
            break;
        }
        *(bool *)base = strcmp(v, "password") == 0;
        return LH_OK;
    }
    static const char *const want[] = {
        [K_ADDR] = "host:port or off",
        [K_INT] = "a whole number",
        [K_SIZE] = "a size such as 65536, 64KiB or 1GiB",
        [K_DURATION] = "a duration such as 30s or 500ms",
        [K_PATH] = "a file name",
        [K_BOOL] = "true or false",
        [K_PGAUTH] = "scram or password",
    };
    if (d->kind == K_INT || d->kind == K_SIZE) {
        return lh_err_set(err, LH_EINVAL,
                          "option \"%s\": invalid value \"%s\" (want %s from "
                          "%lld to %lld)",
                          d->name, v, want[d->kind], (long long)d->min,
                          (long long)d->max);
    }
    return lh_err_set(err, LH_EINVAL,
                      "option \"%s\": invalid value \"%s\" (want %s)", d->name,
                      v, want[d->kind]);
}

lh_rc
lh_server_config_set(lh_server_config *c, const char *name, const char *value,
                     lh_err *err)
{
    const opt_def *d = find(name);
    if (d == NULL) {
        return lh_err_set(err, LH_ENOENT, "unknown server option \"%s\"", name);
    }
    return set_opt(&c->c, d, value ? value : "", err);
}

lh_rc
lh_server_config_new(lh_server_config **out, lh_err *err)
{
    lh_server_config *c = lh_calloc(1, sizeof(*c));
    if (c == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < LH_ARRAY_LEN(defs); i++) {
        lh_rc rc = set_opt(&c->c, &defs[i], defs[i].pub.def, err);
        if (rc != LH_OK) {
            lh_server_config_free(c);
            return rc;
        }
    }
    *out = c;
    return LH_OK;
}

void
lh__srv_config_release(srv_config *c)
{
    lh_free(c->http);
    lh_free(c->pg);
    lh_free(c->tls_cert);
    lh_free(c->tls_key);
    memset(c, 0, sizeof(*c));
}

lh_rc
lh__srv_config_copy(srv_config *dst, const srv_config *src, lh_err *err)
{
    *dst = *src;
    dst->http = dst->pg = dst->tls_cert = dst->tls_key = NULL;
    if (set_string(&dst->http, src->http, err) != LH_OK ||
        set_string(&dst->pg, src->pg, err) != LH_OK ||
        set_string(&dst->tls_cert, src->tls_cert, err) != LH_OK ||
        set_string(&dst->tls_key, src->tls_key, err) != LH_OK) {
        lh__srv_config_release(dst);
        return LH_ENOMEM;
    }
    return LH_OK;
}

void
lh_server_config_free(lh_server_config *c)
{
    if (c == NULL) {
        return;
    }
    lh__srv_config_release(&c->c);
    lh_free(c);
}

lh_rc
lh_server_config_load(lh_server_config *c, const char *path, lh_err *err)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        if (je.line < 0 || (je.line == -1 && je.column == -1)) {
            return lh_err_set(err, LH_ENOENT, "could not read \"%s\": %s", path,
                              je.text);
        }
        return lh_err_set(err, LH_EINVAL, "\"%s\" line %d: %s", path, je.line,
                          je.text);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return lh_err_set(err, LH_EINVAL,
                          "\"%s\" must hold a JSON object of options", path);
    }
    lh_rc rc = LH_OK;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        char text[64];
        const char *s = text;
        if (json_is_string(v)) {
            s = json_string_value(v);
        } else if (json_is_integer(v)) {
            snprintf(text, sizeof(text), "%lld",
                     (long long)json_integer_value(v));
        } else if (json_is_boolean(v)) {
            s = json_is_true(v) ? "true" : "false";
        } else if (json_is_null(v)) {
            s = "";
        } else {
            rc = lh_err_set(err, LH_EINVAL,
                            "\"%s\": option \"%s\" must be a string, a whole "
                            "number or a boolean",
                            path, key);
            break;
        }
        rc = lh_server_config_set(c, key, s, err);
        if (rc != LH_OK) {
            if (rc == LH_ENOENT) {
                rc = LH_EINVAL;
                if (err != NULL) {
                    err->code = rc;
                }
            }
            lh_err_prefix(err, "\"%s\"", path);
            break;
        }
    }
    json_decref(root);
    return rc;
}

lh_rc
lh_server_config_env(lh_server_config *c, lh_err *err)
{
    for (size_t i = 0; i < LH_ARRAY_LEN(defs); i++) {
        char var[80] = "LAKEHOUSE_";
        size_t n = strlen(var);
        for (const char *p = defs[i].name; *p != 0 && n + 1 < sizeof(var);
             p++) {
            var[n++] = (char)toupper((unsigned char)*p);
        }
        var[n] = 0;
        const char *v = getenv(var);
        if (v == NULL) {
            continue;
        }
        lh_rc rc = set_opt(&c->c, &defs[i], v, err);
        if (rc != LH_OK) {
            lh_err_prefix(err, "%s", var);
            return rc;
        }
    }
    return LH_OK;
}
