/*
 * The CLI through a server (--server URL): what `append`, `table create`
 * and `token` do to a directory, done over the server's HTTP API, for a
 * directory a `lakehouse serve` holds. Output and exit codes are the same
 * as the local commands' (0, 1, 2 bad input naming the line and field, 3
 * version conflict). The token comes from --token or LAKEHOUSE_TOKEN.
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct text {
    char *p;
    size_t len, cap;
} text;

static bool
text_add(text *t, const void *p, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap < t->len + n + 1) {
            cap *= 2;
        }
        char *np = realloc(t->p, cap);
        if (np == NULL) {
            return false;
        }
        t->p = np;
        t->cap = cap;
    }
    memcpy(t->p + t->len, p, n);
    t->len += n;
    t->p[t->len] = 0;
    return true;
}

static size_t
on_body(char *p, size_t size, size_t n, void *ud)
{
    return text_add(ud, p, size * n) ? size * n : 0;
}

/* One request; *status is the HTTP status (0 when the server could not be
 * reached, with the reason in reply). reply is the body. */
static void
request(const char *method, const char *url, const char *token,
        const char *ctype, const char *body, size_t len, long *status,
        text *reply)
{
    *status = 0;
    CURL *h = curl_easy_init();
    if (h == NULL) {
        text_add(reply, "could not start an HTTP client", 30);
        return;
    }
    struct curl_slist *hs = NULL;
    char auth[600];
    if (token != NULL && token[0] != 0) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        hs = curl_slist_append(hs, auth);
    }
    if (ctype != NULL) {
        char ct[200];
        snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
        hs = curl_slist_append(hs, ct);
    }
    hs = curl_slist_append(hs, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, reply);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        reply->len = 0;
        const char *m = curl_easy_strerror(rc);
        text_add(reply, m, strlen(m));
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    }
    curl_slist_free_all(hs);
    curl_easy_cleanup(h);
}

static const char *
token_of(const char *given)
{
    if (given != NULL) {
        return given;
    }
    return getenv("LAKEHOUSE_TOKEN");
}

/* The exit code for an HTTP error reply, after printing its message. */
static int
fail_reply(long status, const text *reply, const char *what)
{
    if (status == 0) {
        fprintf(stderr, "lakehouse: %s: %s\n", what, reply->p ? reply->p : "");
        return EXIT_FAIL;
    }
    json_t *j = json_loads(reply->p ? reply->p : "", 0, NULL);
    const char *msg = json_string_value(json_object_get(j, "message"));
    fprintf(stderr, "lakehouse: %s\n",
            msg ? msg : (reply->p ? reply->p : "error"));
    json_decref(j);
    return status == 400   ? EXIT_BADINPUT
           : status == 409 ? EXIT_CONFLICT
                           : EXIT_FAIL;
}

static void
url_of(char *out, size_t cap, const char *server, const char *path)
{
    size_t n = strlen(server);
    while (n > 0 && server[n - 1] == '/') {
        n--;
    }
    snprintf(out, cap, "%.*s%s", (int)n, server, path);
}

/* Prints a batch's acks as the local append does. */
static int
print_acks(const text *reply)
{
    json_t *j = json_loads(reply->p ? reply->p : "", 0, NULL);
    json_t *acks = json_object_get(j, "acks");
    size_t i;
    json_t *a;
    json_array_foreach(acks, i, a)
    {
        json_object_del(a, "duplicate");
        char *s = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s != NULL) {
            puts(s);
        }
        free(s);
    }
    fflush(stdout);
    json_decref(j);
    return acks != NULL ? 0 : EXIT_FAIL;
}

/* Sends the lines gathered so far as one append. lines[k] is the input
 * line number of the body's k-th line. */
static int
flush_batch(const char *url, const char *token, text *body, long *lines,
            size_t n)
{
    if (n == 0) {
        return 0;
    }
    long status;
    text reply = {0};
    request("POST", url, token, "application/x-ndjson", body->p, body->len,
            &status, &reply);
    int r;
    if (status == 200) {
        r = print_acks(&reply);
    } else if (status == 400 || status == 409) {
        /* The server counts lines of the batch: say the input's. */
        json_t *j = json_loads(reply.p ? reply.p : "", 0, NULL);
        json_int_t bl = json_integer_value(json_object_get(j, "line"));
        const char *msg = json_string_value(json_object_get(j, "message"));
        const char *rest = msg ? strchr(msg, ':') : NULL;
        if (msg != NULL && strncmp(msg, "line ", 5) == 0 && rest != NULL) {
            msg = rest + 2;
        }
        /* Events of other shards may have landed before the failure. */
        if (json_object_get(j, "acks") != NULL) {
            print_acks(&reply);
        }
        long line = bl >= 1 && (size_t)bl <= n ? lines[bl - 1] : lines[0];
        fprintf(stderr, "lakehouse: line %ld: %s\n", line, msg ? msg : "");
        json_decref(j);
        r = status == 400 ? EXIT_BADINPUT : EXIT_CONFLICT;
    } else {
        r = fail_reply(status, &reply, url);
    }
    free(reply.p);
    body->len = 0;
    return r;
}

int
cli_remote_append(const char *server, const char *token, const char *table,
                  const char *path, int64_t batch)
{
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (in == NULL) {
        fprintf(stderr, "lakehouse: could not open \"%s\": %s\n", path,
                strerror(errno));
        return EXIT_BADINPUT;
    }
    char *esc = curl_easy_escape(NULL, table, 0);
    char p[1024], url[2048];
    snprintf(p, sizeof(p), "/v1/tables/%s/events", esc ? esc : table);
    curl_free(esc);
    url_of(url, sizeof(url), server, p);
    token = token_of(token);
    text body = {0};
    long *lines = calloc((size_t)batch, sizeof(long));
    char *buf = NULL;
    size_t cap = 0, n = 0;
    ssize_t len;
    long lineno = 0;
    int r = lines ? 0 : EXIT_FAIL;
    while (r == 0 && (len = getline(&buf, &cap, in)) >= 0) {
        lineno++;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) {
            buf[--len] = 0;
        }
        size_t k = 0;
        while ((ssize_t)k < len && (buf[k] == ' ' || buf[k] == '\t')) {
            k++;
        }
        if ((ssize_t)k == len) {
            continue;
        }
        if (!text_add(&body, buf, (size_t)len) || !text_add(&body, "\n", 1)) {
            r = EXIT_FAIL;
            break;
        }
        lines[n++] = lineno;
        if (n == (size_t)batch) {
            r = flush_batch(url, token, &body, lines, n);
            n = 0;
        }
    }
    if (r == 0) {
        r = flush_batch(url, token, &body, lines, n);
    }
    free(buf);
    free(body.p);
    free(lines);
    if (in != stdin) {
        fclose(in);
    }
    return r;
}

int
cli_remote_table_create(const char *server, const char *token, const char *json,
                        size_t len)
{
    char url[2048];
    url_of(url, sizeof(url), server, "/v1/tables");
    long status;
    text reply = {0};
    request("POST", url, token_of(token), "application/json", json, len,
            &status, &reply);
    int r = 0;
    if (status == 201) {
        json_t *j = json_loads(reply.p, 0, NULL);
        char *s =
            j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        printf("%s\n", s ? s : reply.p);
        free(s);
        json_decref(j);
    } else {
        r = fail_reply(status, &reply, url);
    }
    free(reply.p);
    return r;
}

int
cli_remote_token(const char *server, const char *token, const char *sub,
                 const char *name, const char *role)
{
    char url[2048], p[512];
    long status;
    text reply = {0};
    int r = 0;
    token = token_of(token);
    if (strcmp(sub, "create") == 0) {
        url_of(url, sizeof(url), server, "/v1/tokens");
        json_t *b = json_pack("{s:s, s:s}", "name", name, "role", role);
        char *s = json_dumps(b, JSON_COMPACT);
        request("POST", url, token, "application/json", s, strlen(s), &status,
                &reply);
        free(s);
        json_decref(b);
        if (status == 201) {
            json_t *j = json_loads(reply.p, 0, NULL);
            printf("created token \"%s\" (role %s); it is shown only this "
                   "once:\n%s\n",
                   name, role, json_string_value(json_object_get(j, "token")));
            json_decref(j);
        } else {
            r = fail_reply(status, &reply, url);
        }
    } else if (strcmp(sub, "revoke") == 0) {
        char *esc = curl_easy_escape(NULL, name, 0);
        snprintf(p, sizeof(p), "/v1/tokens/%s", esc ? esc : name);
        curl_free(esc);
        url_of(url, sizeof(url), server, p);
        request("DELETE", url, token, NULL, NULL, 0, &status, &reply);
        if (status == 200) {
            printf("revoked token \"%s\"\n", name);
        } else {
            r = fail_reply(status, &reply, url);
        }
    } else {
        url_of(url, sizeof(url), server, "/v1/tokens");
        request("GET", url, token, NULL, NULL, 0, &status, &reply);
        if (status == 200) {
            json_t *j = json_loads(reply.p, 0, NULL);
            char *s = json_dumps(json_object_get(j, "tokens"), JSON_COMPACT);
            printf("%s\n", s ? s : "[]");
            free(s);
            json_decref(j);
        } else {
            r = fail_reply(status, &reply, url);
        }
    }
    free(reply.p);
    return r;
}

/* ---- lakehouse sql --server URL ---------------------------------------------
 *
 * The statements go to POST /v1/query in one request (the server runs them
 * in order in one session, as lh_sql_run does), the rows come back in the
 * format asked for and are written to stdout as they arrive; a SQL error
 * prints as the local command prints it (message, line, column, caret)
 * and exits 2.
 */

typedef struct sql_stream {
    CURL *h;
    text err; /* the body of an error reply */
    bool failed;
} sql_stream;

static size_t
on_rows(char *p, size_t size, size_t n, void *ud)
{
    sql_stream *s = ud;
    long code = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) {
        s->failed = true;
        return text_add(&s->err, p, size * n) ? size * n : 0;
    }
    return fwrite(p, size, n, stdout) == n ? size * n : 0;
}

/* The local command's report of a SQL error at a character position. */
static void
report_at(const char *sql, const char *msg, long long pos)
{
    fprintf(stderr, "lakehouse: ERROR: %s\n", msg);
    if (pos < 1) {
        return;
    }
    const char *p = sql;
    for (long long c = 1; c < pos && *p != 0; c++) {
        p++;
        while (((unsigned char)*p & 0xc0) == 0x80) {
            p++;
        }
    }
    int line = 1, col = 1;
    const char *ls = sql;
    for (const char *q = sql; q < p; q++) {
        if (*q == '\n') {
            line++;
            ls = q + 1;
        }
    }
    for (const char *q = ls; q < p; q++) {
        col += ((unsigned char)*q & 0xc0) != 0x80;
    }
    const char *le = strchr(ls, '\n');
    size_t llen = le ? (size_t)(le - ls) : strlen(ls);
    fprintf(stderr, "LINE %d, column %d (position %lld):\n", line, col,
            (long long)(p - sql) + 1);
    fprintf(stderr, "  %.*s\n  %*s^\n", (int)llen, ls, col - 1, "");
}

int
cli_remote_sql(const char *server, const char *token, const char *sql,
               const char *format)
{
    text in = {0};
    if (sql == NULL) {
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
            if (!text_add(&in, buf, n)) {
                fprintf(stderr, "lakehouse: out of memory\n");
                free(in.p);
                return EXIT_FAIL;
            }
        }
        sql = in.p ? in.p : "";
    }
    json_t *j = json_pack("{s:s, s:s}", "sql", sql, "format", format);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    char url[2048];
    url_of(url, sizeof(url), server, "/v1/query");
    sql_stream s = {.h = curl_easy_init()};
    int rc = 0;
    if (body == NULL || s.h == NULL) {
        fprintf(stderr, "lakehouse: could not start an HTTP client\n");
        rc = EXIT_FAIL;
    } else {
        struct curl_slist *hs = NULL;
        char auth[600];
        const char *tok = token_of(token);
        if (tok != NULL && tok[0] != 0) {
            snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
            hs = curl_slist_append(hs, auth);
        }
        hs = curl_slist_append(hs, "Content-Type: application/json");
        hs = curl_slist_append(hs, "Expect:");
        curl_easy_setopt(s.h, CURLOPT_URL, url);
        curl_easy_setopt(s.h, CURLOPT_HTTPHEADER, hs);
        curl_easy_setopt(s.h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(s.h, CURLOPT_WRITEFUNCTION, on_rows);
        curl_easy_setopt(s.h, CURLOPT_WRITEDATA, &s);
        curl_easy_setopt(s.h, CURLOPT_NOSIGNAL, 1L);
        CURLcode cr = curl_easy_perform(s.h);
        long code = 0;
        curl_easy_getinfo(s.h, CURLINFO_RESPONSE_CODE, &code);
        if (cr != CURLE_OK && !s.failed) {
            fprintf(stderr, "lakehouse: %s: %s\n", url, curl_easy_strerror(cr));
            rc = EXIT_FAIL;
        } else if (s.failed || code != 200) {
            json_t *e = json_loads(s.err.p ? s.err.p : "", 0, NULL);
            const char *msg = json_string_value(json_object_get(e, "message"));
            json_t *pos = json_object_get(e, "position");
            if (json_object_get(e, "sqlstate") != NULL) {
                report_at(sql, msg ? msg : "", json_integer_value(pos));
                rc = code == 400 || code == 403 || code == 501 ? EXIT_BADINPUT
                                                               : EXIT_FAIL;
            } else {
                text t = {s.err.p, s.err.len, s.err.cap};
                rc = fail_reply(code, &t, url);
            }
            json_decref(e);
        }
        fflush(stdout);
        curl_slist_free_all(hs);
    }
    if (s.h != NULL) {
        curl_easy_cleanup(s.h);
    }
    free(s.err.p);
    free(body);
    free(in.p);
    return rc;
}
