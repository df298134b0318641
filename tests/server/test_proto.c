/*
 * The protocol case files (tests/proto/http, NAME.case), each run against a
 * fresh data directory and a real server in this process, over real TCP.
 * The format (tests/proto/README.md has it in full):
 *
 *   # what the case shows
 *   table orders examples/orders.json     setup: a table from a file
 *   token ci writer                       setup: a token, as $TOKEN_ci
 *   option max_body 1KiB                  setup: a server option
 *   >>> [raw] [same]                      a request (raw: escapes \r \n
 *   ...                                   \xNN, no CRLF or length added;
 *   <<< [partial]                         same: on the last connection)
 *   HTTP/1.1 200 OK                       the expected status line,
 *   Content-Type: application/json        headers that must be there (*),
 *                                         a blank line, then the body:
 *   {"acks": [{"version": 1, ...}]}       JSON ("*" any value, "$x"
 *                                         captures), or text, or ~ lines
 *                                         that must occur in it
 *
 * A side effect is checked by the exchanges after it (a read that shows
 * what an append wrote).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "lakehouse.h"
#include "server_test.h"
#include "util/util.h"

static char root[4096];

static void
find_root(void)
{
    /* __FILE__ is <root>/tests/server/test_proto.c */
    snprintf(root, sizeof(root), "%s", __FILE__);
    for (int i = 0; i < 3; i++) {
        char *s = strrchr(root, '/');
        if (s != NULL) {
            *s = 0;
        }
    }
}

/* ---- variables ($TOKEN_x, captures) ------------------------------------- */

typedef struct vars {
    char *k[64];
    char *v[64];
    int n;
} vars;

static const char *
var_get(vars *vs, const char *k)
{
    for (int i = 0; i < vs->n; i++) {
        if (strcmp(vs->k[i], k) == 0) {
            return vs->v[i];
        }
    }
    return NULL;
}

static void
var_set(vars *vs, const char *k, const char *v)
{
    for (int i = 0; i < vs->n; i++) {
        if (strcmp(vs->k[i], k) == 0) {
            free(vs->v[i]);
            vs->v[i] = strdup(v);
            return;
        }
    }
    assert_true(vs->n < 64);
    vs->k[vs->n] = strdup(k);
    vs->v[vs->n] = strdup(v);
    vs->n++;
}

static void
vars_free(vars *vs)
{
    for (int i = 0; i < vs->n; i++) {
        free(vs->k[i]);
        free(vs->v[i]);
    }
    vs->n = 0;
}

/* Replaces $name (letters, digits, _) by its value. */
static void
substitute(vars *vs, const char *in, lh_buf *out)
{
    for (const char *p = in; *p != 0;) {
        if (*p == '$' && (p[1] == '_' || (p[1] >= 'A' && p[1] <= 'Z') ||
                          (p[1] >= 'a' && p[1] <= 'z'))) {
            const char *e = p + 1;
            while (*e == '_' || (*e >= 'A' && *e <= 'Z') ||
                   (*e >= 'a' && *e <= 'z') || (*e >= '0' && *e <= '9')) {
                e++;
            }
            char name[128];
            snprintf(name, sizeof(name), "%.*s", (int)(e - p - 1), p + 1);
            const char *v = var_get(vs, name);
            if (v != NULL) {
                lh_buf_puts(out, v);
                p = e;
                continue;
            }
        }
        lh_buf_putc(out, *p++);
    }
}

/* ---- the case file ----------------------------------------------------- */

typedef struct exchange {
    int line; /* of its >>> */
    bool raw, same, partial;
    lh_buf req;
    lh_buf want; /* the <<< section as written */
} exchange;

typedef struct case_file {
    const char *path;
    char *setup; /* the lines before the first >>> */
    exchange ex[64];
    int nex;
} case_file;

static void
parse_case(case_file *c, char *text)
{
    lh_buf setup = LH_BUF_INIT;
    exchange *cur = NULL;
    int in = 0; /* 0 setup, 1 request, 2 reply */
    int line = 0;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        line++;
        if (strncmp(l, ">>>", 3) == 0) {
            assert_true(c->nex < 64);
            cur = &c->ex[c->nex++];
            memset(cur, 0, sizeof(*cur));
            cur->line = line;
            cur->raw = strstr(l, "raw") != NULL;
            cur->same = strstr(l, "same") != NULL;
            in = 1;
            continue;
        }
        if (strncmp(l, "<<<", 3) == 0) {
            assert_non_null(cur);
            cur->partial = strstr(l, "partial") != NULL;
            in = 2;
            continue;
        }
        if (in == 0) {
            if (l[0] != '#') {
                lh_buf_puts(&setup, l);
                lh_buf_putc(&setup, '\n');
            }
        } else {
            lh_buf_puts(in == 1 ? &cur->req : &cur->want, l);
            lh_buf_putc(in == 1 ? &cur->req : &cur->want, '\n');
        }
    }
    c->setup = lh_buf_take(&setup, NULL);
}

/* strtok_r drops empty lines; the format needs them between head and
 * body, so each empty line becomes a line holding \001 (unmark drops
 * it again). Returns a new string. */
static char *
mark_blank_lines(const char *t)
{
    lh_buf b = LH_BUF_INIT;
    for (const char *p = t; *p; p++) {
        lh_buf_putc(&b, *p);
        if (*p == '\n' && p[1] == '\n') {
            lh_buf_putc(&b, '\001');
        }
    }
    lh_buf_putc(&b, 0);
    return lh_buf_take(&b, NULL);
}

/* Un-marks a section's lines (the \001 placeholder is an empty line). */
static void
unmark(lh_buf *b)
{
    size_t o = 0;
    for (size_t i = 0; i < b->len; i++) {
        if (b->data[i] != '\001') {
            b->data[o++] = b->data[i];
        }
    }
    b->len = o;
    if (b->data != NULL) {
        b->data[o] = 0;
    }
}

/* The request's bytes: CRLF in the head, the body verbatim (without the
 * section's last newline), Content-Length added when a body is there. */
static void
build_request(const exchange *e, vars *vs, lh_buf *out)
{
    lh_buf sub = LH_BUF_INIT;
    substitute(vs, e->req.data ? e->req.data : "", &sub);
    if (sub.len == 0) {
        return; /* nothing to send: read the next pipelined reply */
    }
    if (e->raw) {
        for (size_t i = 0; i < sub.len; i++) {
            char ch = sub.data[i];
            if (ch == '\n') {
                continue; /* line breaks of the file are not bytes */
            }
            if (ch == '\\' && i + 1 < sub.len) {
                char n = sub.data[i + 1];
                if (n == 'r' || n == 'n' || n == '\\') {
                    lh_buf_putc(out, n == 'r' ? '\r' : n == 'n' ? '\n' : '\\');
                    i++;
                    continue;
                }
                if (n == 'x' && i + 3 < sub.len) {
                    int hi = lh_hex_digit(sub.data[i + 2]);
                    int lo = lh_hex_digit(sub.data[i + 3]);
                    lh_buf_putc(out, (char)(hi << 4 | lo));
                    i += 3;
                    continue;
                }
            }
            lh_buf_putc(out, ch);
        }
        lh_buf_release(&sub);
        return;
    }
    char *blank = strstr(sub.data, "\n\n");
    size_t head_len = blank ? (size_t)(blank - sub.data) + 1 : sub.len;
    const char *body = blank ? blank + 2 : "";
    size_t body_len = strlen(body);
    if (body_len > 0 && body[body_len - 1] == '\n') {
        body_len--;
    }
    bool has_len = false;
    for (size_t i = 0; i < head_len; i++) {
        if (sub.data[i] == '\n') {
            lh_buf_puts(out, "\r\n");
        } else {
            lh_buf_putc(out, sub.data[i]);
        }
    }
    has_len = strcasestr(sub.data, "\ncontent-length:") != NULL ||
              strcasestr(sub.data, "\ntransfer-encoding:") != NULL;
    if (body_len > 0 && !has_len) {
        lh_buf_printf(out, "Content-Length: %zu\r\n", body_len);
    }
    lh_buf_puts(out, "\r\n");
    lh_buf_append(out, body, body_len);
    lh_buf_release(&sub);
}

/* ---- talking to the server ----------------------------------------------- */

typedef struct reply {
    int status;
    char status_line[256];
    lh_buf head; /* header lines, LF-separated */
    lh_buf body;
    bool closed; /* the server closed after it */
} reply;

/* Reads until done(buf) says a reply is whole, the peer closes, or
 * timeout_ms passes. */
static void
read_some(int fd, lh_buf *in, int timeout_ms, bool *eof)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) <= 0) {
        return;
    }
    char tmp[65536];
    ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) {
        *eof = true;
        return;
    }
    lh_buf_append(in, tmp, (size_t)n);
}

/* Decodes a chunked body from s; returns false if incomplete. */
static bool
dechunk(const char *s, size_t n, lh_buf *out, size_t *used)
{
    size_t i = 0;
    for (;;) {
        const char *nl = memchr(s + i, '\n', n - i);
        if (nl == NULL) {
            return false;
        }
        unsigned long len = strtoul(s + i, NULL, 16);
        i = (size_t)(nl - s) + 1;
        if (len == 0) {
            const char *end = strstr(s + i, "\r\n");
            if (end == NULL) {
                return false;
            }
            *used = (size_t)(end - s) + 2;
            return true;
        }
        if (n - i < len + 2) {
            return false;
        }
        lh_buf_append(out, s + i, len);
        i += len + 2;
    }
}

static void
read_reply(int fd, lh_buf *in, reply *r, bool partial, const char *want_body)
{
    memset(r, 0, sizeof(*r));
    bool eof = false;
    lh_us deadline = lh_mono_now() + 15 * LH_US_PER_SEC;
    char *end;
    while ((end = in->data ? strstr(in->data, "\r\n\r\n") : NULL) == NULL &&
           !eof && lh_mono_now() < deadline) {
        read_some(fd, in, 100, &eof);
    }
    if (end == NULL) {
        r->closed = eof;
        return;
    }
    size_t head_len = (size_t)(end - in->data) + 4;
    char *nl = strstr(in->data, "\r\n");
    snprintf(r->status_line, sizeof(r->status_line), "%.*s",
             (int)(nl - in->data), in->data);
    sscanf(r->status_line, "HTTP/1.%*d %d", &r->status);
    for (char *p = nl + 2; p < end;) {
        char *e = strstr(p, "\r\n");
        lh_buf_append(&r->head, p, (size_t)(e - p));
        lh_buf_putc(&r->head, '\n');
        p = e + 2;
    }
    const char *cl =
        strcasestr(r->head.data ? r->head.data : "", "content-length:");
    bool chunked =
        r->head.data && strcasestr(r->head.data, "transfer-encoding: chunked");
    size_t need = cl ? strtoul(cl + 15, NULL, 10) : 0;
    size_t used = head_len;
    for (;;) {
        size_t have = in->len - head_len;
        if (r->status == 100 || r->status == 204) {
            break;
        }
        if (cl != NULL && have >= need) {
            lh_buf_append(&r->body, in->data + head_len, need);
            used = head_len + need;
            break;
        }
        if (chunked && !partial) {
            lh_buf tmp = LH_BUF_INIT;
            size_t u;
            if (dechunk(in->data + head_len, have, &tmp, &u)) {
                lh_buf_append(&r->body, tmp.data ? tmp.data : "", tmp.len);
                lh_buf_release(&tmp);
                used = head_len + u;
                break;
            }
            lh_buf_release(&tmp);
        }
        if (partial) {
            /* A stream: read until the wanted lines are all there. */
            lh_buf_reset(&r->body);
            if (chunked) {
                size_t u;
                dechunk(in->data + head_len, have, &r->body, &u);
            } else {
                lh_buf_append(&r->body, in->data + head_len, have);
            }
            bool all = true;
            char *w = strdup(want_body);
            char *save = NULL;
            for (char *l = strtok_r(w, "\n", &save); l && all;
                 l = strtok_r(NULL, "\n", &save)) {
                if (l[0] == '~') {
                    all = r->body.data && strstr(r->body.data, l + 2);
                }
            }
            free(w);
            if (all || eof || lh_mono_now() >= deadline) {
                used = in->len;
                break;
            }
        }
        if (eof || lh_mono_now() >= deadline) {
            lh_buf_append(&r->body, in->data + head_len, have);
            used = in->len;
            break;
        }
        read_some(fd, in, 100, &eof);
    }
    /* Keep what follows (pipelined replies). */
    memmove(in->data, in->data + used, in->len - used);
    in->len -= used;
    in->data[in->len] = 0;
    if (!eof) {
        /* Did the server close after this reply? Look briefly. */
        bool want_close =
            r->head.data && strcasestr(r->head.data, "connection: close");
        if (want_close) {
            lh_us until = lh_mono_now() + 3 * LH_US_PER_SEC;
            while (!eof && lh_mono_now() < until) {
                read_some(fd, in, 50, &eof);
            }
        }
    }
    r->closed = eof;
}

/* ---- matching ------------------------------------------------------------ */

static bool
json_match(json_t *want, json_t *got, vars *vs, char *why, size_t cap,
           const char *at)
{
    const char *ws = json_string_value(want);
    if (ws != NULL && strcmp(ws, "*") == 0) {
        return true;
    }
    if (ws != NULL && ws[0] == '$' && ws[1] != 0) {
        char *text = json_is_string(got) ? strdup(json_string_value(got))
                                         : json_dumps(got, JSON_ENCODE_ANY);
        const char *old = var_get(vs, ws + 1);
        bool ok = old == NULL || strcmp(old, text) == 0;
        if (old == NULL) {
            var_set(vs, ws + 1, text);
        } else if (!ok) {
            snprintf(why, cap, "%s: %s is \"%s\", got \"%s\"", at, ws, old,
                     text);
        }
        free(text);
        return ok;
    }
    if (json_typeof(want) != json_typeof(got) &&
        !(json_is_number(want) && json_is_number(got))) {
        snprintf(why, cap, "%s: type differs", at);
        return false;
    }
    if (json_is_object(want)) {
        const char *k;
        json_t *v;
        json_object_foreach(want, k, v)
        {
            char sub[256];
            snprintf(sub, sizeof(sub), "%s.%s", at, k);
            json_t *g = json_object_get(got, k);
            if (g == NULL) {
                snprintf(why, cap, "%s: missing", sub);
                return false;
            }
            if (!json_match(v, g, vs, why, cap, sub)) {
                return false;
            }
        }
        json_object_foreach(got, k, v)
        {
            if (json_object_get(want, k) == NULL) {
                snprintf(why, cap, "%s.%s: not expected", at, k);
                return false;
            }
        }
        return true;
    }
    if (json_is_array(want)) {
        if (json_array_size(want) != json_array_size(got)) {
            snprintf(why, cap, "%s: %zu items, want %zu", at,
                     json_array_size(got), json_array_size(want));
            return false;
        }
        for (size_t i = 0; i < json_array_size(want); i++) {
            char sub[256];
            snprintf(sub, sizeof(sub), "%s[%zu]", at, i);
            if (!json_match(json_array_get(want, i), json_array_get(got, i), vs,
                            why, cap, sub)) {
                return false;
            }
        }
        return true;
    }
    if (!json_equal(want, got)) {
        snprintf(why, cap, "%s: differs", at);
        return false;
    }
    return true;
}

/* Whether the reply has the header line ("Name: value", "Name: *", or
 * "Name: $var", which captures the value when var is not set). */
static bool
header_has(const reply *r, const char *line, vars *vs)
{
    const char *colon = strchr(line, ':');
    if (colon == NULL || r->head.data == NULL) {
        return false;
    }
    size_t nl = (size_t)(colon - line);
    const char *v = colon + 1;
    while (*v == ' ') {
        v++;
    }
    for (const char *p = r->head.data; *p;) {
        const char *e = strchr(p, '\n');
        if (strncasecmp(p, line, nl) == 0 && p[nl] == ':') {
            const char *gv = p + nl + 1;
            while (*gv == ' ') {
                gv++;
            }
            if (v[0] == '$' && v[1] != 0 && var_get(vs, v + 1) == NULL) {
                char got[256];
                snprintf(got, sizeof(got), "%.*s", (int)(e - gv), gv);
                var_set(vs, v + 1, got);
                return true;
            }
            if (strcmp(v, "*") == 0 || ((size_t)(e - gv) == strlen(v) &&
                                        memcmp(gv, v, strlen(v)) == 0)) {
                return true;
            }
        }
        p = e + 1;
    }
    return false;
}

static void
check_reply(const case_file *c, const exchange *e, const reply *r, vars *vs)
{
    /* Variables are replaced in the head and in ~ lines; a JSON body
     * compares them as values (json_match). */
    lh_buf want = LH_BUF_INIT;
    const char *src = e->want.data ? e->want.data : "";
    const char *sb = strstr(src, "\n\n");
    bool json_body = sb != NULL && (sb[2] == '{' || sb[2] == '[');
    if (json_body) {
        lh_buf head = LH_BUF_INIT;
        lh_buf_append(&head, src, (size_t)(sb - src));
        substitute(vs, head.data ? head.data : "", &want);
        lh_buf_puts(&want, sb);
        lh_buf_release(&head);
    } else {
        substitute(vs, src, &want);
    }
    char *w = want.data ? want.data : (char *)"";
    char *blank = strstr(w, "\n\n");
    char *body = blank ? blank + 2 : (char *)"";
    if (blank != NULL) {
        *blank = 0;
    }
    char *save = NULL;
    char *status = strtok_r(w, "\n", &save);
    const char *got_body = r->body.data ? r->body.data : "";
    if (status == NULL || strcmp(status, r->status_line) != 0) {
        fail_msg("%s:%d: status \"%s\", want \"%s\"\n%s\n%s", c->path, e->line,
                 r->status_line, status ? status : "", r->head.data, got_body);
    }
    for (char *l = strtok_r(NULL, "\n", &save); l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        if (!header_has(r, l, vs)) {
            fail_msg("%s:%d: no header \"%s\" in\n%s", c->path, e->line, l,
                     r->head.data);
        }
    }
    size_t bl = strlen(body);
    while (bl > 0 && body[bl - 1] == '\n') {
        body[--bl] = 0;
    }
    if (bl == 0) {
        lh_buf_release(&want);
        return;
    }
    if (body[0] == '~') {
        char *s2 = NULL;
        for (char *l = strtok_r(body, "\n", &s2); l != NULL;
             l = strtok_r(NULL, "\n", &s2)) {
            if (l[0] != '~' || strstr(got_body, l + 2) == NULL) {
                fail_msg("%s:%d: body lacks \"%s\":\n%s", c->path, e->line,
                         l + 2, got_body);
            }
        }
        lh_buf_release(&want);
        return;
    }
    json_error_t je;
    json_t *wj = json_loads(body, JSON_DECODE_ANY, &je);
    if (wj != NULL) {
        json_t *gj = json_loads(got_body, JSON_DECODE_ANY, &je);
        char why[512] = "";
        if (gj == NULL || !json_match(wj, gj, vs, why, sizeof(why), "$")) {
            fail_msg("%s:%d: body %s\nwant %s\ngot  %s", c->path, e->line,
                     gj ? why : "is not JSON", body, got_body);
        }
        json_decref(gj);
        json_decref(wj);
    } else {
        size_t gl = strlen(got_body);
        while (gl > 0 && got_body[gl - 1] == '\n') {
            gl--;
        }
        if (gl != bl || memcmp(body, got_body, bl) != 0) {
            fail_msg("%s:%d: body\nwant %s\ngot  %s", c->path, e->line, body,
                     got_body);
        }
    }
    lh_buf_release(&want);
}

/* ---- one case ------------------------------------------------------------ */

static void
setup_db(const char *setup, lh_db *db, lh_server_config *cfg, vars *vs)
{
    char *s = strdup(setup);
    char *save = NULL;
    for (char *l = strtok_r(s, "\n", &save); l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        char a[256], b[1024];
        lh_err err;
        if (sscanf(l, "table %255s %1023s", a, b) == 2) {
            char path[6000];
            snprintf(path, sizeof(path), "%s/%s", root, b);
            char *json = st_slurp(path);
            if (lh_table_create(db, json, strlen(json), &err) != LH_OK) {
                fail_msg("table %s: %s", a, err.msg);
            }
            free(json);
        } else if (sscanf(l, "token %255s %1023s", a, b) == 2) {
            char *t = NULL;
            if (lh_token_create(db, a, b, &t, &err) != LH_OK) {
                fail_msg("token %s: %s", a, err.msg);
            }
            char k[300];
            snprintf(k, sizeof(k), "TOKEN_%s", a);
            var_set(vs, k, t);
            lh_free_mem(t);
        } else if (sscanf(l, "option %255s %1023s", a, b) == 2) {
            if (lh_server_config_set(cfg, a, b, &err) != LH_OK) {
                fail_msg("option %s: %s", a, err.msg);
            }
        } else if (l[0] != 0 && l[0] != '\001') {
            fail_msg("unknown setup line \"%s\"", l);
        }
    }
    free(s);
}

static void
run_case(void **state)
{
    const char *path = *state;
    char *raw = st_slurp(path);
    char *text = mark_blank_lines(raw);
    free(raw);
    case_file *c = calloc(1, sizeof(*c));
    c->path = path;
    parse_case(c, text);
    for (int i = 0; i < c->nex; i++) {
        unmark(&c->ex[i].req);
        unmark(&c->ex[i].want);
    }
    vars vs = {.n = 0};
    char *dir = st_tmpdir();
    lh_db *db;
    lh_err err;
    lh_db_options o = {.flags = LH_OPEN_CREATE};
    assert_int_equal(lh_db_open(dir, &o, &db, &err), LH_OK);
    lh_server_config *cfg;
    assert_int_equal(lh_server_config_new(&cfg, &err), LH_OK);
    lh_server_config_set(cfg, "http", "127.0.0.1:0", &err);
    lh_server_config_set(cfg, "pg", "off", &err);
    lh_server_config_set(cfg, "io_threads", "2", &err);
    lh_server_config_set(cfg, "workers", "4", &err);
    setup_db(c->setup, db, cfg, &vs);
    lh_server *srv;
    if (lh_server_start(db, cfg, &srv, &err) != LH_OK) {
        fail_msg("start: %s", err.msg);
    }
    int port = atoi(strrchr(lh_server_address(srv, "http"), ':') + 1);
    int fd = -1;
    lh_buf in = LH_BUF_INIT;
    for (int i = 0; i < c->nex; i++) {
        exchange *e = &c->ex[i];
        if (!e->same || fd < 0) {
            if (fd >= 0) {
                close(fd);
            }
            fd = st_dial(port);
            assert_true(fd >= 0);
            lh_buf_reset(&in);
        }
        lh_buf req = LH_BUF_INIT;
        build_request(e, &vs, &req);
        if (req.len > 0 &&
            send(fd, req.data, req.len, MSG_NOSIGNAL) != (ssize_t)req.len) {
            fail_msg("%s:%d: send: %s", path, e->line, strerror(errno));
        }
        lh_buf_release(&req);
        if (e->want.len == 0) {
            continue; /* only sent: the next exchange reads */
        }
        reply r;
        lh_buf want = LH_BUF_INIT;
        substitute(&vs, e->want.data, &want);
        char *wb = want.data ? strstr(want.data, "\n\n") : NULL;
        read_reply(fd, &in, &r, e->partial, wb ? wb + 2 : "");
        lh_buf_release(&want);
        check_reply(c, e, &r, &vs);
        lh_buf_release(&r.head);
        lh_buf_release(&r.body);
        if (r.closed) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    lh_buf_release(&in);
    lh_server_close(srv);
    lh_server_config_free(cfg);
    lh_db_close(db);
    st_rmdir(dir);
    vars_free(&vs);
    for (int i = 0; i < c->nex; i++) {
        lh_buf_release(&c->ex[i].req);
        lh_buf_release(&c->ex[i].want);
    }
    free(c->setup);
    free(c);
    free(text);
}

int
main(int argc, char **argv)
{
    find_root();
    return st_run_cases(__FILE__, "http", argc > 1 ? argv[1] : NULL, run_case);
}
