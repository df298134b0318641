/*
 * Events in the JSON event form, as HTTP bodies (a JSON array or NDJSON),
 * and events as JSON for replies. See server.h.
 *
 * jansson validates each event and gives the envelope fields; the payload
 * ("data") is handed to lh_append as the raw bytes of the body, found by a
 * small scanner over the already validated text, so its numbers keep
 * every digit the client sent (no round trip through doubles) and nothing
 * is serialized again.
 */
#include <jansson.h>
#include <string.h>

#include "server/server.h"

static const char *const event_keys[] = {
    "event_id", "stream",    "expected_version", "type",      "ts",
    "data",     "embedding", "partition_key",    "tier_hint", "ttl_seconds",
};

/* ---- a scanner over valid JSON text ------------------------------------- */

static size_t
skip_ws(const char *s, size_t i, size_t n)
{
    while (i < n &&
           (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) {
        i++;
    }
    return i;
}

/* The end of the string starting at s[i] == '"'. */
static size_t
skip_string(const char *s, size_t i, size_t n)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\') {
            i++;
        } else if (s[i] == '"') {
            return i + 1;
        }
    }
    return n;
}

/* The end of the value starting at s[i] (valid JSON assumed). */
static size_t
skip_value(const char *s, size_t i, size_t n)
{
    if (i >= n) {
        return n;
    }
    if (s[i] == '"') {
        return skip_string(s, i, n);
    }
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        while (i < n) {
            char c = s[i];
            if (c == '"') {
                i = skip_string(s, i, n);
                continue;
            }
            if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    return i + 1;
                }
            }
            i++;
        }
        return n;
    }
    while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' &&
           s[i] != '\t' && s[i] != '\n' && s[i] != '\r') {
        i++;
    }
    return i;
}

/* The raw value of top-level member `key` of the object text s[0..n), or
 * false when it is absent or its key is written with escapes (the caller
 * then serializes the parsed value). */
static bool
member_span(const char *s, size_t n, const char *key, size_t *vs, size_t *ve)
{
    size_t kl = strlen(key);
    size_t i = skip_ws(s, 0, n);
    if (i >= n || s[i] != '{') {
        return false;
    }
    i = skip_ws(s, i + 1, n);
    while (i < n && s[i] == '"') {
        size_t ke = skip_string(s, i, n);
        bool match = ke - i - 2 == kl && memcmp(s + i + 1, key, kl) == 0;
        i = skip_ws(s, ke, n);
        if (i >= n || s[i] != ':') {
            return false;
        }
        i = skip_ws(s, i + 1, n);
        size_t e = skip_value(s, i, n);
        if (match) {
            *vs = i;
            *ve = e;
            return true;
        }
        i = skip_ws(s, e, n);
        if (i < n && s[i] == ',') {
            i = skip_ws(s, i + 1, n);
        }
    }
    return false;
}

/* ---- one event ---------------------------------------------------------- */

static lh_rc
bad(lh_err *err, int64_t line, size_t index, const char *field, const char *fmt,
    const char *a)
{
    char msg[256];
    snprintf(msg, sizeof(msg), fmt, a);
    if (field != NULL && field[0] != 0) {
        lh_err_set(err, LH_EINVAL, "line %lld: %s: %s", (long long)line, field,
                   msg);
    } else {
        lh_err_set(err, LH_EINVAL, "line %lld: %s", (long long)line, msg);
    }
    if (err != NULL) {
        err->index = (int64_t)index;
        err->offset = line;
        /* The field name is cut to err->field, as lh_err documents. */
        snprintf(err->field, sizeof(err->field), "%.*s",
                 (int)sizeof(err->field) - 1, field ? field : "");
    }
    return LH_EINVAL;
}

static lh_rc
opt_string(json_t *doc, const char *key, const char **out, int64_t line,
           size_t index, lh_err *err)
{
    json_t *v = json_object_get(doc, key);
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        return LH_OK;
    }
    if (!json_is_string(v)) {
        return bad(err, line, index, key, "\"%s\" must be a string", key);
    }
    *out = json_string_value(v);
    return LH_OK;
}

static lh_rc
expected_version(json_t *doc, lh_event_in *ev, int64_t line, size_t index,
                 lh_err *err)
{
    json_t *v = json_object_get(doc, "expected_version");
    ev->expect = LH_EXPECT_ANY;
    if (v == NULL || json_is_null(v)) {
        return LH_OK;
    }
    const char *s = json_string_value(v);
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        ev->expect = LH_EXPECT_EXACT;
        ev->expected_version = json_integer_value(v);
    } else if (s != NULL && strcmp(s, "any") == 0) {
        ev->expect = LH_EXPECT_ANY;
    } else if (s != NULL && strcmp(s, "no_stream") == 0) {
        ev->expect = LH_EXPECT_NO_STREAM;
    } else if (s != NULL && strcmp(s, "stream_exists") == 0) {
        ev->expect = LH_EXPECT_STREAM_EXISTS;
    } else {
        return bad(err, line, index, "expected_version", "%s",
                   "\"expected_version\" must be a version >= 0, \"any\", "
                   "\"no_stream\" or \"stream_exists\"");
    }
    return LH_OK;
}

static lh_rc
embedding(json_t *doc, lh_event_in *ev, lh_arena *a, int64_t line, size_t index,
          lh_err *err)
{
    json_t *emb = json_object_get(doc, "embedding");
    if (emb == NULL || json_is_null(emb)) {
        return LH_OK;
    }
    if (!json_is_array(emb)) {
        return bad(err, line, index, "embedding", "%s",
                   "\"embedding\" must be an array of numbers");
    }
    size_t n = json_array_size(emb);
    float *f = lh_arena_alloc(a, (n ? n : 1) * sizeof(float));
    if (f == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(emb, i);
        if (!json_is_number(x)) {
            char at[32];
            snprintf(at, sizeof(at), "%zu", i);
            return bad(err, line, index, "embedding",
                       "\"embedding\"[%s] is not a number", at);
        }
        f[i] = (float)json_number_value(x);
    }
    ev->embedding = f;
    ev->embedding_len = n;
    return LH_OK;
}

/* Fills ev from the event object doc, whose text is raw[0..rawlen). */
static lh_rc
parse_event(json_t *doc, const char *raw, size_t rawlen, lh_arena *a,
            int64_t line, size_t index, lh_event_in *ev, lh_err *err)
{
    memset(ev, 0, sizeof(*ev));
    if (!json_is_object(doc)) {
        return bad(err, line, index, NULL, "%s",
                   "an event must be a JSON object");
    }
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        bool known = false;
        for (size_t k = 0; k < LH_ARRAY_LEN(event_keys); k++) {
            known = known || strcmp(key, event_keys[k]) == 0;
        }
        if (!known) {
            char k[104];
            snprintf(k, sizeof(k), "%.100s", key);
            return bad(err, line, index, k, "unknown field \"%s\"", k);
        }
    }
    static const char *const strs[] = {
        "event_id", "stream", "type", "ts", "partition_key", "tier_hint"};
    const char **dst[] = {&ev->event_id, &ev->stream,        &ev->type,
                          &ev->ts,       &ev->partition_key, &ev->tier_hint};
    for (size_t i = 0; i < LH_ARRAY_LEN(strs); i++) {
        lh_rc rc = opt_string(doc, strs[i], dst[i], line, index, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    json_t *ttl = json_object_get(doc, "ttl_seconds");
    if (ttl != NULL && !json_is_null(ttl)) {
        if (!json_is_integer(ttl) || json_integer_value(ttl) < 0) {
            return bad(err, line, index, "ttl_seconds", "%s",
                       "\"ttl_seconds\" must be a non-negative integer");
        }
        ev->ttl_seconds = json_integer_value(ttl);
    }
    lh_rc rc = expected_version(doc, ev, line, index, err);
    if (rc == LH_OK) {
        rc = embedding(doc, ev, a, line, index, err);
    }
    if (rc != LH_OK) {
        return rc;
    }
    json_t *data = json_object_get(doc, "data");
    if (data == NULL || json_is_null(data)) {
        return LH_OK;
    }
    if (!json_is_object(data)) {
        return bad(err, line, index, "data", "%s",
                   "\"data\" must be a JSON object");
    }
    size_t vs, ve;
    if (member_span(raw, rawlen, "data", &vs, &ve)) {
        ev->data_json = raw + vs;
        ev->data_len = ve - vs;
        return LH_OK;
    }
    char *text = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER);
    ev->data_json = text ? lh_arena_strdup(a, text) : NULL;
    free(text);
    if (ev->data_json == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    return LH_OK;
}

/* ---- bodies --------------------------------------------------------------
 */

typedef struct docs {
    json_t **v;
    size_t n, cap;
} docs;

static lh_rc
grow(lh_event_batch *b, docs *d, size_t *cap, lh_err *err)
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
    if (d != NULL) {
        json_t **nd = lh_realloc(d->v, nc * sizeof(*nd));
        if (nd == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        d->v = nd;
    }
    *cap = nc;
    return LH_OK;
}

static lh_rc
malformed(lh_err *err, int64_t line, size_t index, const json_error_t *je)
{
    char msg[256];
    snprintf(msg, sizeof(msg), "malformed JSON: %s (column %d)", je->text,
             je->column);
    return bad(err, line, index, NULL, "%s", msg);
}

static lh_rc
parse_ndjson(const char *body, size_t len, size_t max_events, lh_event_batch *b,
             lh_err *err)
{
    docs *d = lh_calloc(1, sizeof(*d));
    if (d == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    b->docs = d;
    size_t cap = 0;
    int64_t line = 0;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(body + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - body) : len;
        line++;
        size_t s = skip_ws(body, i, e);
        size_t next = nl ? e + 1 : len;
        if (s == e) {
            i = next;
            continue;
        }
        if (b->n == max_events) {
            return lh_err_set(err, LH_ELIMIT,
                              "more than %zu events in one request",
                              max_events);
        }
        lh_rc rc = grow(b, d, &cap, err);
        if (rc != LH_OK) {
            return rc;
        }
        json_error_t je;
        json_t *doc = json_loadb(body + s, e - s, JSON_REJECT_DUPLICATES, &je);
        if (doc == NULL) {
            return malformed(err, line, b->n, &je);
        }
        d->v[d->n++] = doc;
        rc = parse_event(doc, body + s, e - s, &b->arena, line, b->n,
                         &b->evs[b->n], err);
        b->lines[b->n] = line;
        b->n++;
        if (rc != LH_OK) {
            return rc;
        }
        i = next;
    }
    return LH_OK;
}

static int64_t
line_at(const char *s, size_t off, size_t *from, int64_t *line)
{
    for (; *from < off; (*from)++) {
        if (s[*from] == '\n') {
            (*line)++;
        }
    }
    return *line;
}

static lh_rc
parse_array(const char *body, size_t len, size_t max_events, lh_event_batch *b,
            lh_err *err)
{
    json_error_t je;
    json_t *root =
        json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (root == NULL) {
        return malformed(err, je.line > 0 ? je.line : 1, 0, &je);
    }
    docs *d = lh_calloc(1, sizeof(*d));
    if (d == NULL) {
        json_decref(root);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    b->docs = d;
    d->v = lh_malloc(sizeof(json_t *));
    if (d->v == NULL) {
        json_decref(root);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    d->v[d->n++] = root;
    size_t start = skip_ws(body, 0, len);
    size_t counted = 0;
    int64_t line = 1;
    if (json_is_object(root)) {
        /* One event. */
        size_t cap = 0;
        lh_rc rc = grow(b, NULL, &cap, err);
        if (rc != LH_OK) {
            return rc;
        }
        b->lines[0] = line_at(body, start, &counted, &line);
        b->n = 1;
        return parse_event(root, body, len, &b->arena, b->lines[0], 0,
                           &b->evs[0], err);
    }
    if (!json_is_array(root)) {
        return bad(err, 1, 0, NULL, "%s",
                   "the body must be a JSON array of events, one event "
                   "object, or NDJSON");
    }
    size_t n = json_array_size(root);
    if (n > max_events) {
        return lh_err_set(err, LH_ELIMIT, "more than %zu events in one request",
                          max_events);
    }
    size_t cap = 0;
    size_t i = skip_ws(body, start + 1, len); /* past '[' */
    for (size_t k = 0; k < n; k++) {
        lh_rc rc = grow(b, NULL, &cap, err);
        if (rc != LH_OK) {
            return rc;
        }
        size_t e = skip_value(body, i, len);
        int64_t ln = line_at(body, i, &counted, &line);
        b->lines[k] = ln;
        b->n = k + 1;
        rc = parse_event(json_array_get(root, k), body + i, e - i, &b->arena,
                         ln, k, &b->evs[k], err);
        if (rc != LH_OK) {
            return rc;
        }
        i = skip_ws(body, e, len);
        if (i < len && body[i] == ',') {
            i = skip_ws(body, i + 1, len);
        }
    }
    return LH_OK;
}

lh_rc
lh__event_batch_parse(const char *body, size_t len, bool ndjson,
                      size_t max_events, lh_event_batch *b, lh_err *err)
{
    memset(b, 0, sizeof(*b));
    lh_arena_init(&b->arena, 0);
    size_t s = skip_ws(body, 0, len);
    if (s == len) {
        return lh_err_set(err, LH_EINVAL, "the body holds no event");
    }
    /* Without the NDJSON type, one JSON value (an array or one event) is
     * expected; a body of several values on their own lines is NDJSON
     * whatever its type says. */
    if (!ndjson && body[s] == '{') {
        size_t e = skip_ws(body, skip_value(body, s, len), len);
        ndjson = e < len;
    }
    if (ndjson) {
        return parse_ndjson(body, len, max_events, b, err);
    }
    return parse_array(body, len, max_events, b, err);
}

void
lh__event_batch_release(lh_event_batch *b)
{
    docs *d = b->docs;
    if (d != NULL) {
        for (size_t i = 0; i < d->n; i++) {
            json_decref(d->v[i]);
        }
        lh_free(d->v);
        lh_free(d);
    }
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
