/*
 * Events in the JSON event form, as HTTP bodies (a JSON array or NDJSON),
 * and events as JSON for replies. See server.h.
 *
 * One strict pass over the body (RFC 8259: no trailing commas, no
 * comments, no control characters in strings, duplicate keys refused)
 * reads the envelope fields of each event into the batch's arena, and
 * only checks the payload ("data"): it is handed to lh_append as the raw
 * bytes of the body, which parses it by the table's columns. So the
 * payload is parsed once, not twice, its numbers keep every digit the
 * client sent, and nothing is serialized again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

/* The deepest nesting of a payload (jansson's own limit is 2048; a
 * payload is a row's values). */
#define MAX_DEPTH 512

enum {
    K_EVENT_ID,
    K_STREAM,
    K_EXPECTED,
    K_TYPE,
    K_TS,
    K_DATA,
    K_EMBEDDING,
    K_PARTITION,
    K_TIER,
    K_TTL,
    K_COUNT
};

static const char *const event_keys[K_COUNT] = {
    "event_id", "stream",    "expected_version", "type",      "ts",
    "data",     "embedding", "partition_key",    "tier_hint", "ttl_seconds",
};

/* ---- the scanner ------------------------------------------------------------
 */

typedef struct scan {
    const char *s;
    size_t n;        /* the bytes of this document (a line, or the body) */
    size_t i;        /* the next byte */
    size_t col;      /* where column 1 is (the line's first byte) */
    const char *why; /* what is malformed, when a step fails */
    size_t at;       /* where */
} scan;

static bool
bad_at(scan *c, size_t at, const char *why)
{
    c->why = why;
    c->at = at;
    return false;
}

static void
ws(scan *c)
{
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t' ||
                           c->s[c->i] == '\n' || c->s[c->i] == '\r')) {
        c->i++;
    }
}

static bool
lit(scan *c, const char *word)
{
    size_t l = strlen(word);
    if (c->n - c->i < l || memcmp(c->s + c->i, word, l) != 0) {
        return bad_at(c, c->i, "invalid token");
    }
    c->i += l;
    return true;
}

static void
put_utf8(char *o, size_t *k, uint32_t cp)
{
    if (cp < 0x80) {
        o[(*k)++] = (char)cp;
    } else if (cp < 0x800) {
        o[(*k)++] = (char)(0xc0 | cp >> 6);
        o[(*k)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        o[(*k)++] = (char)(0xe0 | cp >> 12);
        o[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[(*k)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        o[(*k)++] = (char)(0xf0 | cp >> 18);
        o[(*k)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[(*k)++] = (char)(0x80 | (cp & 0x3f));
    }
}

static bool
hex4(scan *c, size_t at, uint32_t *out)
{
    if (c->n - at < 4) {
        return bad_at(c, at, "invalid \\u escape");
    }
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        int d = lh_hex_digit(c->s[at + (size_t)k]);
        if (d < 0) {
            return bad_at(c, at, "invalid \\u escape");
        }
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return true;
}

/* A string at c->s[c->i] == '"'. With `a`, its decoded text (UTF-8,
 * NUL-terminated; a NUL inside is refused) goes to *out; without, it is
 * only checked. */
static bool
string(scan *c, lh_arena *a, char **out)
{
    size_t start = ++c->i;
    bool plain = true;
    while (c->i < c->n && c->s[c->i] != '"') {
        unsigned char ch = (unsigned char)c->s[c->i];
        if (ch < 0x20) {
            return bad_at(c, c->i, "control character in a string");
        }
        if (ch == '\\') {
            plain = false;
            c->i++;
            if (c->i >= c->n) {
                break;
            }
        }
        c->i++;
    }
    if (c->i >= c->n) {
        return bad_at(c, start - 1, "unterminated string");
    }
    size_t end = c->i++; /* past the closing quote */
    if (!lh_utf8_valid(c->s + start, end - start)) {
        return bad_at(c, start, "invalid UTF-8 in a string");
    }
    char *o = a != NULL ? lh_arena_alloc(a, end - start + 1) : NULL;
    if (a != NULL && o == NULL) {
        return bad_at(c, start, "out of memory");
    }
    if (plain) {
        if (o != NULL) {
            memcpy(o, c->s + start, end - start);
            o[end - start] = 0;
            *out = o;
        }
        return true;
    }
    size_t k = 0;
    for (size_t i = start; i < end; i++) {
        char ch = c->s[i];
        if (ch != '\\') {
            if (o != NULL) {
                o[k++] = ch;
            }
            continue;
        }
        char e = c->s[++i];
        static const char from[] = "\"\\/bfnrt";
        static const char to[] = "\"\\/\b\f\n\r\t";
        const char *f = e ? strchr(from, e) : NULL;
        if (f != NULL) {
            if (o != NULL) {
                o[k++] = to[f - from];
            }
            continue;
        }
        if (e != 'u') {
            return bad_at(c, i - 1, "invalid escape");
        }
        uint32_t cp;
        if (!hex4(c, i + 1, &cp)) {
            return false;
        }
        i += 4;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t lo;
            if (i + 2 >= end || c->s[i + 1] != '\\' || c->s[i + 2] != 'u' ||
                !hex4(c, i + 3, &lo) || lo < 0xdc00 || lo > 0xdfff) {
                return bad_at(c, i, "invalid \\u surrogate pair");
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            i += 6;
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            return bad_at(c, i, "invalid \\u surrogate pair");
        }
        if (cp == 0 && o != NULL) {
            return bad_at(c, i, "\\u0000 is not allowed in a string");
        }
        if (o != NULL) {
            put_utf8(o, &k, cp);
        }
    }
    if (o != NULL) {
        o[k] = 0;
        *out = o;
    }
    return true;
}

/* A number (RFC 8259 grammar); *integral says it has no fraction or
 * exponent. */
static bool
number(scan *c, bool *integral)
{
    size_t i = c->i;
    *integral = true;
    if (i < c->n && c->s[i] == '-') {
        i++;
    }
    if (i < c->n && c->s[i] == '0') {
        i++;
    } else if (i < c->n && c->s[i] >= '1' && c->s[i] <= '9') {
        while (i < c->n && c->s[i] >= '0' && c->s[i] <= '9') {
            i++;
        }
    } else {
        return bad_at(c, c->i, "invalid token");
    }
    if (i < c->n && c->s[i] == '.') {
        *integral = false;
        size_t d = ++i;
        while (i < c->n && c->s[i] >= '0' && c->s[i] <= '9') {
            i++;
        }
        if (i == d) {
            return bad_at(c, i, "invalid number");
        }
    }
    if (i < c->n && (c->s[i] == 'e' || c->s[i] == 'E')) {
        *integral = false;
        i++;
        if (i < c->n && (c->s[i] == '+' || c->s[i] == '-')) {
            i++;
        }
        size_t d = i;
        while (i < c->n && c->s[i] >= '0' && c->s[i] <= '9') {
            i++;
        }
        if (i == d) {
            return bad_at(c, i, "invalid number");
        }
    }
    c->i = i;
    return true;
}

/* Checks one value of any kind (the payload), without recursion. */
static bool
any_value(scan *c)
{
    char stack[MAX_DEPTH]; /* '{' or '[' */
    int depth = 0;
    for (;;) {
        ws(c);
        if (c->i >= c->n) {
            return bad_at(c, c->i, "unexpected end of input");
        }
        char ch = c->s[c->i];
        bool integral;
        if (ch == '{' || ch == '[') {
            if (depth == MAX_DEPTH) {
                return bad_at(c, c->i, "nested too deeply");
            }
            stack[depth++] = ch;
            c->i++;
            ws(c);
            if (c->i < c->n && c->s[c->i] == (ch == '{' ? '}' : ']')) {
                c->i++;
                depth--;
                goto after_value;
            }
            if (ch == '[') {
                continue; /* the first element */
            }
            /* fall into reading a key */
        } else {
            bool ok = ch == '"'   ? string(c, NULL, NULL)
                      : ch == 't' ? lit(c, "true")
                      : ch == 'f' ? lit(c, "false")
                      : ch == 'n' ? lit(c, "null")
                                  : number(c, &integral);
            if (!ok) {
                return false;
            }
            goto after_value;
        }
    key:
        ws(c);
        if (c->i >= c->n || c->s[c->i] != '"') {
            return bad_at(c, c->i, "string or '}' expected");
        }
        if (!string(c, NULL, NULL)) {
            return false;
        }
        ws(c);
        if (c->i >= c->n || c->s[c->i] != ':') {
            return bad_at(c, c->i, "':' expected");
        }
        c->i++;
        continue; /* the member's value */
    after_value:
        if (depth == 0) {
            return true;
        }
        ws(c);
        if (c->i < c->n && c->s[c->i] == ',') {
            c->i++;
            if (stack[depth - 1] == '{') {
                goto key;
            }
            continue;
        }
        char close = stack[depth - 1] == '{' ? '}' : ']';
        if (c->i >= c->n || c->s[c->i] != close) {
            return bad_at(c, c->i,
                          close == '}' ? "',' or '}' expected"
                                       : "',' or ']' expected");
        }
        c->i++;
        depth--;
        goto after_value;
    }
}

/* ---- one event
 * ---------------------------------------------------------------- */

typedef struct ctx {
    lh_event_batch *b;
    int64_t line;
    size_t index;
    lh_err *err;
} ctx;

static lh_rc
bad(const ctx *x, const char *field, const char *fmt, const char *arg)
{
    char msg[256];
    snprintf(msg, sizeof(msg), fmt, arg);
    lh_err *err = x->err;
    if (field != NULL && field[0] != 0) {
        lh_err_set(err, LH_EINVAL, "line %lld: %s: %s", (long long)x->line,
                   field, msg);
    } else {
        lh_err_set(err, LH_EINVAL, "line %lld: %s", (long long)x->line, msg);
    }
    if (err != NULL) {
        err->index = (int64_t)x->index;
        err->offset = x->line;
        /* A long unknown key is cut to the field's size. */
        snprintf(err->field, sizeof(err->field), "%.*s",
                 (int)sizeof(err->field) - 1, field ? field : "");
    }
    return LH_EINVAL;
}

static lh_rc
malformed(const ctx *x, const scan *c)
{
    char msg[200];
    if (strcmp(c->why, "out of memory") == 0) {
        return lh_err_set(x->err, LH_ENOMEM, "out of memory");
    }
    /* The column within the line, counted in bytes from 1. */
    size_t col = c->at >= c->col ? c->at - c->col + 1 : 1;
    for (size_t i = c->col; i < c->at && i < c->n; i++) {
        if (c->s[i] == '\n') {
            col = c->at - i;
        }
    }
    snprintf(msg, sizeof(msg), "malformed JSON: %s (column %zu)", c->why, col);
    return bad(x, NULL, "%s", msg);
}

/* A value that may be null: true (and the scanner past it) when it is. */
static bool
is_null(scan *c)
{
    if (c->n - c->i >= 4 && memcmp(c->s + c->i, "null", 4) == 0) {
        c->i += 4;
        return true;
    }
    return false;
}

static lh_rc
want_string(const ctx *x, scan *c, int key, const char **out)
{
    if (is_null(c)) {
        *out = NULL;
        return LH_OK;
    }
    if (c->i >= c->n || c->s[c->i] != '"') {
        if (!any_value(c)) {
            return malformed(x, c);
        }
        return bad(x, event_keys[key], "\"%s\" must be a string",
                   event_keys[key]);
    }
    char *s = NULL;
    if (!string(c, &x->b->arena, &s)) {
        return malformed(x, c);
    }
    *out = s;
    return LH_OK;
}

/* An integer value that fits int64 (a JSON number without fraction or
 * exponent); *ok false when it is another kind of value. */
static lh_rc
want_int(const ctx *x, scan *c, bool *ok, int64_t *out)
{
    size_t at = c->i;
    bool integral = false;
    *ok = false;
    char ch = c->i < c->n ? c->s[c->i] : 0;
    if (ch == '-' || (ch >= '0' && ch <= '9')) {
        if (!number(c, &integral)) {
            return malformed(x, c);
        }
        if (integral) {
            char buf[32];
            size_t l = c->i - at;
            if (l < sizeof(buf)) {
                memcpy(buf, c->s + at, l);
                buf[l] = 0;
                char *e;
                errno = 0;
                long long v = strtoll(buf, &e, 10);
                *ok = errno == 0 && *e == 0;
                *out = v;
            }
        }
        return LH_OK;
    }
    if (!any_value(c)) {
        return malformed(x, c);
    }
    return LH_OK;
}

static lh_rc
expected_version(const ctx *x, scan *c, lh_event_in *ev)
{
    ev->expect = LH_EXPECT_ANY;
    if (is_null(c)) {
        return LH_OK;
    }
    static const char msg[] = "\"expected_version\" must be a version >= 0, "
                              "\"any\", \"no_stream\" or \"stream_exists\"";
    if (c->i < c->n && c->s[c->i] == '"') {
        char *s;
        if (!string(c, &x->b->arena, &s)) {
            return malformed(x, c);
        }
        if (strcmp(s, "any") == 0) {
            ev->expect = LH_EXPECT_ANY;
        } else if (strcmp(s, "no_stream") == 0) {
            ev->expect = LH_EXPECT_NO_STREAM;
        } else if (strcmp(s, "stream_exists") == 0) {
            ev->expect = LH_EXPECT_STREAM_EXISTS;
        } else {
            return bad(x, "expected_version", "%s", msg);
        }
        return LH_OK;
    }
    bool ok;
    int64_t v;
    lh_rc rc = want_int(x, c, &ok, &v);
    if (rc != LH_OK) {
        return rc;
    }
    if (!ok || v < 0) {
        return bad(x, "expected_version", "%s", msg);
    }
    ev->expect = LH_EXPECT_EXACT;
    ev->expected_version = v;
    return LH_OK;
}

static lh_rc
ttl(const ctx *x, scan *c, lh_event_in *ev)
{
    if (is_null(c)) {
        return LH_OK;
    }
    bool ok;
    int64_t v;
    lh_rc rc = want_int(x, c, &ok, &v);
    if (rc != LH_OK) {
        return rc;
    }
    if (!ok || v < 0) {
        return bad(x, "ttl_seconds", "%s",
                   "\"ttl_seconds\" must be a non-negative integer");
    }
    ev->ttl_seconds = v;
    return LH_OK;
}

static lh_rc
embedding(const ctx *x, scan *c, lh_event_in *ev)
{
    if (is_null(c)) {
        return LH_OK;
    }
    if (c->i >= c->n || c->s[c->i] != '[') {
        if (!any_value(c)) {
            return malformed(x, c);
        }
        return bad(x, "embedding", "%s",
                   "\"embedding\" must be an array of numbers");
    }
    /* Count first: the floats go in one block of the arena. */
    size_t start = c->i;
    if (!any_value(c)) {
        return malformed(x, c);
    }
    size_t cap = 1;
    for (size_t i = start; i < c->i; i++) {
        cap += c->s[i] == ',';
    }
    float *f = lh_arena_alloc(&x->b->arena, cap * sizeof(float));
    if (f == NULL) {
        return lh_err_set(x->err, LH_ENOMEM, "out of memory");
    }
    scan e = *c;
    e.i = start + 1;
    size_t n = 0;
    for (;;) {
        ws(&e);
        if (e.s[e.i] == ']') {
            break;
        }
        size_t at = e.i;
        bool integral;
        if (!number(&e, &integral)) {
            char k[32];
            snprintf(k, sizeof(k), "%zu", n);
            return bad(x, "embedding", "\"embedding\"[%s] is not a number", k);
        }
        f[n++] = strtof(e.s + at, NULL);
        ws(&e);
        if (e.s[e.i] == ',') {
            e.i++;
        }
    }
    ev->embedding = f;
    ev->embedding_len = n;
    return LH_OK;
}

/* One event object at c->s[c->i]; fills ev. */
static lh_rc
event(const ctx *x, scan *c, lh_event_in *ev)
{
    memset(ev, 0, sizeof(*ev));
    ws(c);
    if (c->i >= c->n || c->s[c->i] != '{') {
        size_t at = c->i;
        if (!any_value(c)) {
            c->i = at;
            return malformed(x, c);
        }
        return bad(x, NULL, "%s", "an event must be a JSON object");
    }
    c->i++;
    unsigned seen = 0;
    ws(c);
    if (c->i < c->n && c->s[c->i] == '}') {
        c->i++;
        return LH_OK;
    }
    for (;;) {
        ws(c);
        if (c->i >= c->n || c->s[c->i] != '"') {
            bad_at(c, c->i, "string or '}' expected");
            return malformed(x, c);
        }
        size_t kat = c->i;
        if (!string(c, NULL, NULL)) {
            return malformed(x, c);
        }
        /* The key's text: as it is when it has no escapes (always, in
         * practice), else decoded. */
        char kbuf[128];
        size_t kl = c->i - kat - 2;
        const char *raw = c->s + kat + 1;
        if (memchr(raw, '\\', kl) == NULL) {
            snprintf(kbuf, sizeof(kbuf), "%.*s", (int)LH_MIN(kl, 127), raw);
        } else {
            scan k2 = *c;
            k2.i = kat;
            char *key = NULL;
            if (!string(&k2, &x->b->arena, &key)) {
                *c = k2;
                return malformed(x, c);
            }
            snprintf(kbuf, sizeof(kbuf), "%s", key);
        }
        int k = 0;
        while (k < K_COUNT && strcmp(kbuf, event_keys[k]) != 0) {
            k++;
        }
        if (k == K_COUNT) {
            char name[104];
            snprintf(name, sizeof(name), "%.100s", kbuf);
            return bad(x, name, "unknown field \"%s\"", name);
        }
        if (seen & (1u << k)) {
            bad_at(c, kat, "duplicate object key");
            return malformed(x, c);
        }
        seen |= 1u << k;
        ws(c);
        if (c->i >= c->n || c->s[c->i] != ':') {
            bad_at(c, c->i, "':' expected");
            return malformed(x, c);
        }
        c->i++;
        ws(c);
        lh_rc rc = LH_OK;
        switch (k) {
        case K_EVENT_ID:
            rc = want_string(x, c, k, &ev->event_id);
            break;
        case K_STREAM:
            rc = want_string(x, c, k, &ev->stream);
            break;
        case K_TYPE:
            rc = want_string(x, c, k, &ev->type);
            break;
        case K_TS:
            rc = want_string(x, c, k, &ev->ts);
            break;
        case K_PARTITION:
            rc = want_string(x, c, k, &ev->partition_key);
            break;
        case K_TIER:
            rc = want_string(x, c, k, &ev->tier_hint);
            break;
        case K_EXPECTED:
            rc = expected_version(x, c, ev);
            break;
        case K_TTL:
            rc = ttl(x, c, ev);
            break;
        case K_EMBEDDING:
            rc = embedding(x, c, ev);
            break;
        case K_DATA: {
            if (is_null(c)) {
                break;
            }
            size_t at = c->i;
            char first = c->i < c->n ? c->s[c->i] : 0;
            if (!any_value(c)) {
                return malformed(x, c);
            }
            if (first != '{') {
                rc = bad(x, "data", "%s", "\"data\" must be a JSON object");
                break;
            }
            ev->data_json = c->s + at;
            ev->data_len = c->i - at;
            break;
        }
        default:
            break;
        }
        if (rc != LH_OK) {
            return rc;
        }
        ws(c);
        if (c->i < c->n && c->s[c->i] == ',') {
            c->i++;
            continue;
        }
        if (c->i < c->n && c->s[c->i] == '}') {
            c->i++;
            return LH_OK;
        }
        bad_at(c, c->i, "',' or '}' expected");
        return malformed(x, c);
    }
}

/* ---- bodies
 * ------------------------------------------------------------------- */

static lh_rc
grow(lh_event_batch *b, size_t *cap, lh_err *err)
{
    if (b->n < *cap) {
        return LH_OK;
    }
    size_t nc = *cap ? *cap * 2 : 64;
    lh_event_in *ne = lh_realloc(b->evs, nc * sizeof(*ne));
    if (ne == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    b->evs = ne;
    int64_t *nl = lh_realloc(b->lines, nc * sizeof(*nl));
    if (nl == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    b->lines = nl;
    *cap = nc;
    return LH_OK;
}

static lh_rc
too_many(size_t max, lh_err *err)
{
    return lh_err_set(err, LH_ELIMIT, "more than %zu events in one request",
                      max);
}

static lh_rc
parse_ndjson(const char *body, size_t len, size_t max_events, lh_event_batch *b,
             lh_err *err)
{
    size_t cap = 0;
    int64_t line = 0;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(body + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - body) : len;
        line++;
        scan c = {.s = body + i, .n = e - i, .i = 0, .col = 0};
        ws(&c);
        size_t next = nl ? e + 1 : len;
        if (c.i == c.n) {
            i = next;
            continue;
        }
        if (b->n == max_events) {
            return too_many(max_events, err);
        }
        lh_rc rc = grow(b, &cap, err);
        if (rc != LH_OK) {
            return rc;
        }
        ctx x = {b, line, b->n, err};
        b->lines[b->n] = line;
        rc = event(&x, &c, &b->evs[b->n]);
        b->n++;
        if (rc == LH_OK) {
            ws(&c);
            if (c.i < c.n) {
                bad_at(&c, c.i, "end of line expected");
                rc = malformed(&x, &c);
            }
        }
        if (rc != LH_OK) {
            return rc;
        }
        i = next;
    }
    return LH_OK;
}

/* The body's line at byte `at`, counting from *from (moved along). */
static int64_t
line_at(const char *s, size_t at, size_t *from, int64_t *line)
{
    for (; *from < at; (*from)++) {
        if (s[*from] == '\n') {
            (*line)++;
        }
    }
    return *line;
}

/* The start of the line holding byte at. */
static size_t
line_start(const char *s, size_t at)
{
    while (at > 0 && s[at - 1] != '\n') {
        at--;
    }
    return at;
}

static lh_rc
parse_array(const char *body, size_t len, size_t max_events, lh_event_batch *b,
            lh_err *err)
{
    scan c = {.s = body, .n = len, .i = 0, .col = 0};
    size_t counted = 0;
    int64_t line = 1;
    size_t cap = 0;
    ws(&c);
    ctx x = {b, line_at(body, c.i, &counted, &line), 0, err};
    if (c.s[c.i] == '{') {
        lh_rc rc = grow(b, &cap, err);
        if (rc != LH_OK) {
            return rc;
        }
        b->lines[0] = x.line;
        b->n = 1;
        rc = event(&x, &c, &b->evs[0]);
        if (rc == LH_OK) {
            ws(&c);
            if (c.i < c.n) {
                bad_at(&c, c.i, "end of input expected");
                c.col = line_start(body, c.i);
                x.line = line_at(body, c.i, &counted, &line);
                rc = malformed(&x, &c);
            }
        }
        return rc;
    }
    if (c.s[c.i] != '[') {
        size_t at = c.i;
        if (!any_value(&c)) {
            c.i = at;
            return malformed(&x, &c);
        }
        return bad(&x, NULL, "%s",
                   "the body must be a JSON array of events, one event "
                   "object, or NDJSON");
    }
    c.i++;
    ws(&c);
    bool first = true;
    while (c.i < c.n && c.s[c.i] != ']') {
        if (!first) {
            if (c.s[c.i] != ',') {
                x.line = line_at(body, c.i, &counted, &line);
                c.col = line_start(body, c.i);
                bad_at(&c, c.i, "',' or ']' expected");
                return malformed(&x, &c);
            }
            c.i++;
            ws(&c);
        }
        first = false;
        if (b->n == max_events) {
            return too_many(max_events, err);
        }
        lh_rc rc = grow(b, &cap, err);
        if (rc != LH_OK) {
            return rc;
        }
        x.line = line_at(body, c.i, &counted, &line);
        x.index = b->n;
        c.col = line_start(body, c.i);
        b->lines[b->n] = x.line;
        rc = event(&x, &c, &b->evs[b->n]);
        b->n++;
        if (rc != LH_OK) {
            if (err != NULL && err->code == LH_EINVAL && c.why != NULL) {
                /* A malformed spot may lie on a later line of the event. */
                x.line = line_at(body, c.at, &counted, &line);
                c.col = line_start(body, c.at);
                return malformed(&x, &c);
            }
            return rc;
        }
        ws(&c);
    }
    if (c.i >= c.n) {
        x.line = line_at(body, c.i, &counted, &line);
        c.col = line_start(body, c.i);
        bad_at(&c, c.i, "']' expected");
        return malformed(&x, &c);
    }
    c.i++;
    ws(&c);
    if (c.i < c.n) {
        x.line = line_at(body, c.i, &counted, &line);
        c.col = line_start(body, c.i);
        bad_at(&c, c.i, "end of input expected");
        return malformed(&x, &c);
    }
    return LH_OK;
}

lh_rc
lh__event_batch_parse(const char *body, size_t len, bool ndjson,
                      size_t max_events, lh_event_batch *b, lh_err *err)
{
    memset(b, 0, sizeof(*b));
    lh_arena_init(&b->arena, 0);
    scan c = {.s = body, .n = len, .i = 0};
    ws(&c);
    if (c.i == len) {
        return lh_err_set(err, LH_EINVAL, "the body holds no event");
    }
    /* Without the NDJSON type, one JSON value (an array or one event) is
     * expected; a body of several values on their own lines is NDJSON
     * whatever its type says. */
    if (!ndjson && body[c.i] == '{') {
        scan d = c;
        if (any_value(&d)) {
            ws(&d);
            ndjson = d.i < len;
        }
    }
    if (ndjson) {
        return parse_ndjson(body, len, max_events, b, err);
    }
    return parse_array(body, len, max_events, b, err);
}

void
lh__event_batch_release(lh_event_batch *b)
{
    lh_free(b->evs);
    lh_free(b->lines);
    lh_arena_release(&b->arena);
    memset(b, 0, sizeof(*b));
}

void
lh__event_to_json(const lh_event *ev, lh_buf *out)
{
    lh_buf_puts(out, "{\"event_id\":");
    lh_buf_json_string(out, ev->event_id, strlen(ev->event_id));
    lh_buf_puts(out, ",\"stream\":");
    lh_buf_json_string(out, ev->stream, strlen(ev->stream));
    lh_buf_printf(out, ",\"version\":%lld,\"type\":", (long long)ev->version);
    lh_buf_json_string(out, ev->type, strlen(ev->type));
    lh_buf_puts(out, ",\"ts\":");
    lh_buf_json_string(out, ev->ts_text, strlen(ev->ts_text));
    lh_buf_puts(out, ",\"committed_at\":");
    lh_buf_json_string(out, ev->committed_at_text,
                       strlen(ev->committed_at_text));
    lh_buf_printf(out, ",\"shard\":%d,\"position\":%lld,\"checkpoint\":",
                  (int)ev->shard, (long long)ev->position);
    lh_buf_json_string(out, ev->checkpoint, strlen(ev->checkpoint));
    lh_buf_puts(out, ",\"data\":");
    lh_buf_puts(out, ev->data_json);
    if (ev->embedding_json != NULL) {
        lh_buf_puts(out, ",\"embedding\":");
        lh_buf_puts(out, ev->embedding_json);
    }
    lh_buf_putc(out, '}');
}
