/*
 * lh_append: validate a whole call, route each event to its shard, and wait
 * for the shards' group commits. Conditional appends (the DCB pattern) lock
 * every shard of the table instead, check the condition, and commit.
 */
#include <string.h>
#define XXH_STATIC_LINKING_ONLY /* XXH64_state_t on the stack */
#include <xxhash.h>

#include "hot/hot_int.h"

/* What validating one call reuses from event to event. */
typedef struct call_ctx {
    int64_t pk_days; /* the day of `pk` */
    const char *pk;  /* the last default partition key, or NULL */
} call_ctx;

static lh_rc ev_err(lh_err *err, size_t index, const char *field, lh_rc code,
                    const char *fmt, ...) LH_PRINTF(5, 6);

static lh_rc
ev_err(lh_err *err, size_t index, const char *field, lh_rc code,
       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lh_err_setv(err, code, fmt, ap);
    va_end(ap);
    if (err != NULL) {
        err->index = (int64_t)index;
        snprintf(err->field, sizeof(err->field), "%s", field);
    }
    return code;
}

static lh_rc
check_text(const char *s, size_t max, size_t index, const char *field,
           lh_err *err)
{
    if (s == NULL || s[0] == 0) {
        return ev_err(err, index, field, LH_EINVAL, "\"%s\" is required",
                      field);
    }
    size_t n = strlen(s);
    if (n > max) {
        return ev_err(err, index, field, LH_EINVAL,
                      "\"%s\" is %zu bytes long, the limit is %zu", field, n,
                      max);
    }
    if (!lh_utf8_valid(s, n)) {
        return ev_err(err, index, field, LH_EINVAL, "\"%s\" is not valid UTF-8",
                      field);
    }
    return LH_OK;
}

/* Feeds one value to the content hash: the type's binary form, so the
 * same payload hashes the same whether it came as JSON or as cells. */
static void
hash_value(XXH64_state_t *hs, const lh_value *v)
{
    uint8_t tag = v->is_null ? 0 : 1;
    XXH64_update(hs, &tag, 1);
    if (v->is_null) {
        return;
    }
    switch ((lh_type_id)v->type.id) {
    case LH_T_BOOLEAN:
        tag = v->u.b ? 1 : 0;
        XXH64_update(hs, &tag, 1);
        break;
    case LH_T_REAL:
    case LH_T_DOUBLE:
        XXH64_update(hs, &v->u.d, sizeof(v->u.d));
        break;
    case LH_T_DECIMAL:
        XXH64_update(hs, &v->u.dec, sizeof(v->u.dec));
        break;
    case LH_T_VARCHAR:
    case LH_T_JSON:
    case LH_T_BLOB: {
        uint64_t n = v->u.s.len;
        XXH64_update(hs, &n, sizeof(n));
        if (n > 0) {
            XXH64_update(hs, v->u.s.p, v->u.s.len);
        }
        break;
    }
    case LH_T_UUID:
        XXH64_update(hs, v->u.uuid.b, 16);
        break;
    case LH_T_VECTOR:
        XXH64_update(hs, v->u.vec.v, v->u.vec.n * sizeof(float));
        break;
    default:
        XXH64_update(hs, &v->u.i, sizeof(v->u.i));
        break;
    }
}

static lh_rc
col_err(lh_err *err, size_t index, const lh_coldef *cd, lh_rc code,
        const char *msg)
{
    char field[64];
    snprintf(field, sizeof(field), "data.%s", cd->name);
    return ev_err(err, index, field, code, "column \"%s\": %s", cd->name, msg);
}

/* A typed cell into a value of the column's type, with the same checks as
 * JSON input: integers for integer and temporal types (their stored form:
 * days, µs), doubles for floating types, text parsed by the type's text
 * input (DECIMAL, UUID, timestamps...), bytes for BLOB, UUID (16 bytes)
 * and FLOAT[n] (n floats). */
static lh_rc
cell_value(const lh_coldef *cd, const lh_cell *c, lh_arena *a, lh_value *out,
           lh_err *verr)
{
    lh_type t = cd->type;
    memset(out, 0, sizeof(*out));
    out->type = t;
    switch (c->kind) {
    case LH_CELL_NULL:
        out->is_null = true;
        return LH_OK;
    case LH_CELL_TEXT:
        /* Every type's text input, VARCHAR's length and UTF-8 checks too. */
        return lh_value_from_text(t, c->u.s.p ? c->u.s.p : "", c->u.s.len, a,
                                  out, verr);
    case LH_CELL_BOOL:
        if (t.id != LH_T_BOOLEAN) {
            goto mismatch;
        }
        out->u.b = c->u.b;
        return LH_OK;
    case LH_CELL_INT: {
        int64_t lo = INT64_MIN, hi = INT64_MAX;
        switch ((lh_type_id)t.id) {
        case LH_T_SMALLINT:
            lo = INT16_MIN;
            hi = INT16_MAX;
            break;
        case LH_T_INTEGER:
        case LH_T_DATE:
            lo = INT32_MIN;
            hi = INT32_MAX;
            break;
        case LH_T_TIME:
            lo = 0;
            hi = LH_US_PER_DAY - 1;
            break;
        case LH_T_BIGINT:
        case LH_T_TIMESTAMP:
        case LH_T_TIMESTAMPTZ:
            break;
        case LH_T_REAL:
        case LH_T_DOUBLE:
            out->u.d = (double)c->u.i;
            return LH_OK;
        default:
            goto mismatch;
        }
        if (c->u.i < lo || c->u.i > hi) {
            return lh_err_set(verr, LH_EINVAL,
                              "value %lld is out of range for this column",
                              (long long)c->u.i);
        }
        out->u.i = c->u.i;
        return LH_OK;
    }
    case LH_CELL_DOUBLE:
        if (t.id != LH_T_REAL && t.id != LH_T_DOUBLE) {
            goto mismatch;
        }
        out->u.d = t.id == LH_T_REAL ? (double)(float)c->u.d : c->u.d;
        return LH_OK;
    case LH_CELL_BYTES:
        if (t.id == LH_T_BLOB) {
            out->u.s.p =
                c->u.s.len ? lh_arena_memdup(a, c->u.s.p, c->u.s.len) : "";
            out->u.s.len = c->u.s.len;
            return out->u.s.p ? LH_OK
                              : lh_err_set(verr, LH_ENOMEM, "out of memory");
        }
        if (t.id == LH_T_UUID && c->u.s.len == 16) {
            memcpy(out->u.uuid.b, c->u.s.p, 16);
            return LH_OK;
        }
        if (t.id == LH_T_VECTOR && c->u.s.len == t.dim * sizeof(float)) {
            float *v = lh_arena_memdup(a, c->u.s.p, c->u.s.len);
            if (v == NULL) {
                return lh_err_set(verr, LH_ENOMEM, "out of memory");
            }
            for (uint32_t k = 0; k < t.dim; k++) {
                if (!(v[k] - v[k] == 0)) {
                    return lh_err_set(verr, LH_EINVAL,
                                      "element %u is not a finite number", k);
                }
            }
            out->u.vec.v = v;
            out->u.vec.n = t.dim;
            return LH_OK;
        }
        goto mismatch;
    default:
        return lh_err_set(verr, LH_EINVAL, "unknown cell kind %d", c->kind);
    }
mismatch:;
    char tn[48];
    static const char *const kinds[] = {"null",   "bool", "int",
                                        "double", "text", "bytes"};
    return lh_err_set(verr, LH_EINVAL, "a %s cell (%zu bytes) cannot be %s",
                      kinds[c->kind], c->kind >= LH_CELL_TEXT ? c->u.s.len : 0,
                      lh_type_name(t, tn));
}

/* Finds a payload column's JSON value: exact name, else any case (names
 * fold to lowercase). */
static json_t *
json_col(json_t *obj, const char *name)
{
    json_t *jv = json_object_get(obj, name);
    if (jv == NULL) {
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v)
        {
            if (strcasecmp(key, name) == 0) {
                jv = v;
            }
        }
    }
    return jv;
}

/* Parses and checks the payload (JSON object or typed cells) into
 * e->vals, and feeds it to the content hash. */
static lh_rc
validate_data(const lh_tabledef *d, const lh_event_in *in, size_t index,
              lh_hot_event *e, lh_arena *a, XXH64_state_t *hs, lh_err *err)
{
    e->vals = lh_arena_calloc(a, sizeof(lh_value) * (d->ncols ? d->ncols : 1));
    if (e->vals == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    if (in->cells != NULL && in->data_json != NULL) {
        return ev_err(err, index, "data", LH_EINVAL,
                      "give the payload as data_json or as cells, not both");
    }
    if (in->cells != NULL && in->ncells != d->ncols) {
        return ev_err(err, index, "data", LH_EINVAL,
                      "%zu cells for the %zu columns of table \"%s\"",
                      in->ncells, d->ncols, d->name);
    }
    json_t *obj = NULL;
    if (in->data_json != NULL) {
        size_t len = in->data_len ? in->data_len : strlen(in->data_json);
        json_error_t jerr;
        obj = json_loadb(in->data_json, len, JSON_REJECT_DUPLICATES, &jerr);
        if (obj == NULL) {
            return ev_err(err, index, "data", LH_EINVAL,
                          "\"data\" is not valid JSON: %s", jerr.text);
        }
        if (!json_is_object(obj)) {
            json_decref(obj);
            return ev_err(err, index, "data", LH_EINVAL,
                          "\"data\" must be a JSON object");
        }
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v)
        {
            if (lh__tabledef_col(d, key) < 0) {
                char field[64];
                snprintf(field, sizeof(field), "data.%s", key);
                json_decref(obj);
                return ev_err(err, index, field, LH_EINVAL,
                              "unknown column \"%s\" in table \"%s\"",
                              field + 5, d->name);
            }
        }
    }
    lh_rc rc = LH_OK;
    for (size_t c = 0; c < d->ncols && rc == LH_OK; c++) {
        const lh_coldef *cd = &d->cols[c];
        lh_value *val = &e->vals[c];
        lh_err verr;
        lh_err_clear(&verr);
        if (in->cells != NULL) {
            rc = cell_value(cd, &in->cells[c], a, val, &verr);
        } else {
            json_t *jv = obj ? json_col(obj, cd->name) : NULL;
            if (jv == NULL || json_is_null(jv)) {
                val->type = cd->type;
                val->is_null = true;
            } else {
                rc = lh_value_from_json(cd->type, jv, a, val, &verr);
            }
        }
        if (rc != LH_OK) {
            rc = col_err(err, index, cd, rc, verr.msg);
            break;
        }
        if (val->is_null && (!cd->nullable || (int)c == d->shard_col)) {
            rc = col_err(err, index, cd, LH_EINVAL,
                         (int)c == d->shard_col
                             ? "a value is required (it is the shard key)"
                             : "a value is required (NOT NULL)");
            break;
        }
        hash_value(hs, val);
    }
    json_decref(obj);
    return rc;
}

static lh_rc
validate_event(const lh_table *t, const lh_event_in *in, size_t index,
               lh_hot_event *e, lh_arena *a, call_ctx *cx, lh_err *err)
{
    const lh_tabledef *d = t->def;
    lh_rc rc = check_text(in->stream, LH_MAX_STREAM, index, "stream", err);
    if (rc == LH_OK) {
        rc = check_text(in->type, LH_MAX_TYPE, index, "type", err);
    }
    if (rc != LH_OK) {
        return rc;
    }
    e->stream = in->stream;
    e->type = in->type;
    lh_err sub;
    lh_err_clear(&sub);
    if (in->event_id != NULL) {
        if (lh_uuid_parse(in->event_id, strlen(in->event_id), &e->id, &sub) !=
            LH_OK) {
            return ev_err(err, index, "event_id", LH_EINVAL,
                          "\"event_id\" is not a UUID: \"%s\"", in->event_id);
        }
        if (lh_uuid_is_nil(&e->id)) {
            return ev_err(err, index, "event_id", LH_EINVAL,
                          "\"event_id\" may not be the nil UUID");
        }
    } else if (lh_uuid_v7(&e->id, lh_real_now() / 1000, &sub) != LH_OK) {
        return ev_err(err, index, "event_id", sub.code, "%s", sub.msg);
    }
    if (in->ts != NULL) {
        if (lh_time_parse(in->ts, strlen(in->ts), &e->ts, &sub) != LH_OK) {
            return ev_err(err, index, "ts", LH_EINVAL, "\"ts\": %s", sub.msg);
        }
        e->ts_given = true;
    } else {
        e->ts = lh_now();
    }
    switch (in->expect) {
    case LH_EXPECT_ANY:
    case LH_EXPECT_NO_STREAM:
    case LH_EXPECT_STREAM_EXISTS:
        break;
    case LH_EXPECT_EXACT:
        if (in->expected_version < 0) {
            return ev_err(err, index, "expected_version", LH_EINVAL,
                          "\"expected_version\" must be >= 0, found %lld",
                          (long long)in->expected_version);
        }
        break;
    default:
        return ev_err(err, index, "expected_version", LH_EINVAL,
                      "unknown expectation %d", (int)in->expect);
    }
    e->expect = in->expect;
    e->expected_version = in->expected_version;
    if (in->embedding != NULL) {
        if (d->embedding_dim == 0) {
            return ev_err(err, index, "embedding", LH_EINVAL,
                          "table \"%s\" has no embedding column "
                          "(embedding_dim is 0)",
                          d->name);
        }
        if (in->embedding_len != d->embedding_dim) {
            return ev_err(err, index, "embedding", LH_EINVAL,
                          "\"embedding\" has %zu dimensions, table \"%s\" "
                          "expects %u",
                          in->embedding_len, d->name, d->embedding_dim);
        }
        for (size_t k = 0; k < in->embedding_len; k++) {
            if (!(in->embedding[k] - in->embedding[k] == 0)) {
                return ev_err(err, index, "embedding", LH_EINVAL,
                              "\"embedding\"[%zu] is not a finite number", k);
            }
        }
        e->embedding = in->embedding;
        e->embedding_len = (uint32_t)in->embedding_len;
    }
    if (in->partition_key != NULL) {
        rc = check_text(in->partition_key, 256, index, "partition_key", err);
        if (rc != LH_OK) {
            return rc;
        }
        e->partition_key = in->partition_key;
    } else {
        int64_t y;
        unsigned m, dd;
        int64_t days = e->ts >= 0
                           ? e->ts / LH_US_PER_DAY
                           : -((-e->ts + LH_US_PER_DAY - 1) / LH_US_PER_DAY);
        /* The events of a call mostly share their day: format it once. */
        if (cx->pk == NULL || cx->pk_days != days) {
            lh_civil_from_days(days, &y, &m, &dd);
            char *pk = lh_arena_alloc(a, 16);
            if (pk == NULL) {
                return lh_err_set(err, LH_ENOMEM, "out of memory");
            }
            snprintf(pk, 16, "%04lld-%02u-%02u", (long long)y, m, dd);
            cx->pk = pk;
            cx->pk_days = days;
        }
        e->partition_key = cx->pk;
    }
    if (in->tier_hint != NULL) {
        if (strcmp(in->tier_hint, "hot") != 0 &&
            strcmp(in->tier_hint, "warm") != 0 &&
            strcmp(in->tier_hint, "cold") != 0) {
            return ev_err(err, index, "tier_hint", LH_EINVAL,
                          "\"tier_hint\" must be \"hot\", \"warm\" or "
                          "\"cold\", found \"%s\"",
                          in->tier_hint);
        }
        e->tier_hint = in->tier_hint;
    }
    if (in->ttl_seconds < 0) {
        return ev_err(err, index, "ttl_seconds", LH_EINVAL,
                      "\"ttl_seconds\" must be >= 0");
    }
    e->ttl_seconds = in->ttl_seconds;

    /* The content an idempotent retry must repeat: stream, type, the
     * payload's values, the embedding, and ts when given. */
    XXH64_state_t hs;
    XXH64_reset(&hs, 0);
    XXH64_update(&hs, e->stream, strlen(e->stream) + 1);
    XXH64_update(&hs, e->type, strlen(e->type) + 1);
    rc = validate_data(d, in, index, e, a, &hs, err);
    if (rc == LH_OK) {
        uint8_t flags = (e->embedding != NULL) | (e->ts_given ? 2 : 0);
        XXH64_update(&hs, &flags, 1);
        if (e->embedding != NULL) {
            XXH64_update(&hs, e->embedding, e->embedding_len * sizeof(float));
        }
        if (e->ts_given) {
            XXH64_update(&hs, &e->ts, sizeof(e->ts));
        }
        e->content_hash = (int64_t)XXH64_digest(&hs);
    }
    return rc;
}

/* The text the shard is chosen by. */
static lh_rc
shard_key(const lh_table *t, const lh_hot_event *e, lh_buf *out)
{
    lh_buf_reset(out);
    if (t->def->shard_col < 0) {
        return lh_buf_puts(out, e->stream);
    }
    return lh_value_to_text(&e->vals[t->def->shard_col], out);
}

/* Finds the shard-key text a stream was first written with, probing the
 * shards (NULL when the stream is new). Caller holds t->stream_mu.
 *
 * It reads through connections of its own, not the shards' writers, so it
 * never waits for a group commit: every stream this process appended to is
 * in t->stream_keys (claims stay while anything of theirs committed), so
 * what the probe must find was committed before, and any snapshot has it. */
static lh_rc
probe_stream_key(lh_table *t, const char *stream, char **out, lh_err *err)
{
    *out = NULL;
    const lh_coldef *cd = &t->def->cols[t->def->shard_col];
    char sql[160];
    snprintf(sql, sizeof(sql),
             "SELECT c%d FROM events WHERE stream = ? ORDER BY version "
             "LIMIT 1",
             (int)cd->field_id);
    for (int i = 0; i < t->nshards && *out == NULL; i++) {
        sqlite3 *db;
        lh_rc orc = lh__probe_conn(t, i, &db, err);
        if (orc != LH_OK) {
            return orc;
        }
        sqlite3_stmt *st = NULL;
        int r = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        if (r == SQLITE_OK) {
            sqlite3_bind_text(st, 1, stream, -1, SQLITE_STATIC);
            r = sqlite3_step(st);
        }
        lh_rc rc = LH_OK;
        if (r == SQLITE_ROW) {
            lh_value v;
            lh_buf b = LH_BUF_INIT;
            rc = lh__column_value(st, 0, cd->type, &v);
            if (rc == LH_OK) {
                lh_value_to_text(&v, &b);
                *out = lh_buf_take(&b, NULL);
                rc = *out ? LH_OK : LH_ENOMEM;
            }
            if (rc != LH_OK) {
                lh_err_set(err, rc,
                           "could not read the shard key of stream "
                           "\"%s\"",
                           stream);
            }
        } else if (r != SQLITE_DONE) {
            rc = lh__sqlite_err(db, r, "look up a stream", err);
        }
        if (rc == LH_OK && *out == NULL) {
            /* Streams whose events left the hot tier keep their key. */
            sqlite3_finalize(st);
            st = NULL;
            r = sqlite3_prepare_v2(
                db,
                "SELECT shard_key FROM streams WHERE stream = ? AND shard_key "
                "IS NOT NULL",
                -1, &st, NULL);
            if (r == SQLITE_OK) {
                sqlite3_bind_text(st, 1, stream, -1, SQLITE_STATIC);
                if (sqlite3_step(st) == SQLITE_ROW) {
                    *out = lh_strdup((const char *)sqlite3_column_text(st, 0));
                }
            }
        }
        sqlite3_finalize(st);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

/* t->stream_keys values: a stream's shard-key text. An entry a call
 * created for a new stream is only a claim until an event of the stream
 * commits; calls relying on it hold it (pending), and the last one out
 * drops it if nothing committed, so a failed call leaves no claim behind
 * while another call still counts on it. */
typedef struct stream_key {
    int pending;
    bool committed;
    char key[];
} stream_key;

static stream_key *
stream_key_new(const char *key, bool committed)
{
    size_t n = strlen(key);
    stream_key *k = lh_malloc(sizeof(*k) + n + 1);
    if (k != NULL) {
        k->pending = 0;
        k->committed = committed;
        memcpy(k->key, key, n + 1);
    }
    return k;
}

/* For tables sharded by a payload column: every event of a stream carries
 * the same key, within the call and across calls. `held` receives the
 * entries this call relies on (see release_streams). */
static lh_rc
check_stream_keys(lh_table *t, lh_hot_event *evs, size_t n, lh_map *held,
                  lh_err *err)
{
    lh_buf key = LH_BUF_INIT;
    lh_rc rc = LH_OK;
    pthread_mutex_lock(&t->stream_mu);
    for (size_t i = 0; i < n && rc == LH_OK; i++) {
        lh_hot_event *e = &evs[i];
        size_t slen = strlen(e->stream);
        shard_key(t, e, &key);
        if (!lh_buf_ok(&key)) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
            break;
        }
        stream_key *known = lh_map_get(&t->stream_keys, e->stream, slen);
        if (known == NULL) {
            char *found = NULL;
            rc = probe_stream_key(t, e->stream, &found, err);
            if (rc != LH_OK) {
                break;
            }
            known = stream_key_new(found ? found : key.data, found != NULL);
            lh_free(found);
            if (known == NULL || lh_map_put(&t->stream_keys, e->stream, slen,
                                            known, NULL) != LH_OK) {
                lh_free(known);
                rc = lh_err_set(err, LH_ENOMEM, "out of memory");
                break;
            }
        }
        if (!lh_map_has(held, e->stream, slen)) {
            if (lh_map_put(held, e->stream, slen, known, NULL) != LH_OK) {
                rc = lh_err_set(err, LH_ENOMEM, "out of memory");
                break;
            }
            known->pending++;
        }
        if (strcmp(known->key, key.data) != 0) {
            const char *col = t->def->cols[t->def->shard_col].name;
            char field[64];
            snprintf(field, sizeof(field), "data.%s", col);
            rc = ev_err(err, i, field, LH_EINVAL,
                        "stream \"%s\" lives in the shard of %s \"%s\"; an "
                        "event with %s \"%s\" cannot join it",
                        e->stream, col, known->key, col, key.data);
        }
    }
    pthread_mutex_unlock(&t->stream_mu);
    lh_buf_release(&key);
    return rc;
}

/* Marks the streams whose events landed as committed, lets go of the
 * call's entries, and drops claims that nothing committed. */
static void
release_streams(lh_table *t, lh_map *held, const lh_hot_event *evs, size_t n)
{
    pthread_mutex_lock(&t->stream_mu);
    for (size_t i = 0; i < n; i++) {
        if (evs[i].ack != NULL && evs[i].ack->position > 0) {
            stream_key *k =
                lh_map_get(held, evs[i].stream, strlen(evs[i].stream));
            if (k != NULL) {
                k->committed = true;
            }
        }
    }
    size_t it = 0;
    const void *name;
    size_t nl;
    void *v;
    while (lh_map_next(held, &it, &name, &nl, &v)) {
        stream_key *k = v;
        if (--k->pending == 0 && !k->committed &&
            lh_map_get(&t->stream_keys, name, nl) == k) {
            lh_free(lh_map_del(&t->stream_keys, name, nl));
        }
    }
    pthread_mutex_unlock(&t->stream_mu);
}

/* Checks a DCB condition on one shard; caller holds every shard's mu. */
static lh_rc
condition_matches(lh_table *t, lh_shard *s, const lh_append_condition *c,
                  int64_t after, const lh_value *val, bool *hit, lh_err *err)
{
    lh_buf q = LH_BUF_INIT;
    lh_buf_puts(&q, "SELECT 1 FROM events WHERE position > ?");
    if (c->ntypes > 0) {
        lh_buf_puts(&q, " AND type IN (");
        for (size_t i = 0; i < c->ntypes; i++) {
            lh_buf_puts(&q, i ? ",?" : "?");
        }
        lh_buf_puts(&q, ")");
    }
    if (c->column != NULL) {
        int ci = lh__tabledef_col(t->def, c->column);
        lh_buf_printf(&q, " AND c%d = ?", (int)t->def->cols[ci].field_id);
    }
    lh_buf_puts(&q, " LIMIT 1");
    if (!lh_buf_ok(&q)) {
        lh_buf_release(&q);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    sqlite3_stmt *st = NULL;
    int r = sqlite3_prepare_v2(s->db, q.data, -1, &st, NULL);
    lh_buf_release(&q);
    if (r == SQLITE_OK) {
        int b = 1;
        sqlite3_bind_int64(st, b++, after);
        for (size_t i = 0; i < c->ntypes; i++) {
            sqlite3_bind_text(st, b++, c->types[i], -1, SQLITE_STATIC);
        }
        if (c->column != NULL) {
            lh__bind_value(st, b++, val);
        }
        r = sqlite3_step(st);
    }
    *hit = r == SQLITE_ROW;
    sqlite3_finalize(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        return lh__sqlite_err(s->db, r, "check an append condition", err);
    }
    return LH_OK;
}

static lh_rc
conditional_append(lh_table *t, const lh_append_condition *c,
                   lh_shard_req *reqs, int nshards_used, const int *used,
                   lh_arena *a, lh_err *err)
{
    const lh_tabledef *d = t->def;
    int64_t *after = lh_arena_calloc(a, sizeof(int64_t) * (size_t)t->nshards);
    if (after == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = LH_OK;
    if (c->after != NULL) {
        rc = lh__checkpoint_parse(c->after, t->nshards, after, err);
        if (rc != LH_OK) {
            lh_err_prefix(err, "append condition");
            return rc;
        }
    }
    lh_value val = {.is_null = true};
    if (c->column != NULL) {
        int ci = lh__tabledef_col(d, c->column);
        if (ci < 0) {
            return lh_err_set(err, LH_EINVAL,
                              "append condition names unknown column \"%s\"",
                              c->column);
        }
        if (c->value_json == NULL) {
            return lh_err_set(err, LH_EINVAL,
                              "append condition on column \"%s\" has no value",
                              c->column);
        }
        json_error_t jerr;
        json_t *jv = json_loads(c->value_json, JSON_DECODE_ANY, &jerr);
        if (jv == NULL) {
            return lh_err_set(err, LH_EINVAL,
                              "append condition value is not JSON: %s",
                              jerr.text);
        }
        lh_err verr;
        rc = lh_value_from_json(d->cols[ci].type, jv, a, &val, &verr);
        json_decref(jv);
        if (rc != LH_OK) {
            return lh_err_set(err, LH_EINVAL,
                              "append condition on column \"%s\": %s",
                              c->column, verr.msg);
        }
    }
    /* Every shard, in index order (the only multi-lock path, so no lock
     * order inversions), so no matching event can commit in between. */
    for (int i = 0; i < t->nshards; i++) {
        pthread_mutex_lock(&t->shards[i].mu);
    }
    /* A retried call (every id already stored) is acked as it was: its own
     * events would otherwise match its condition and fail it. */
    bool retry = true;
    for (int k = 0; k < nshards_used && rc == LH_OK && retry; k++) {
        rc = lh__shard_all_known(&t->shards[used[k]], &reqs[k], &retry, err);
    }
    for (int i = 0; i < t->nshards && rc == LH_OK && !retry; i++) {
        bool hit = false;
        rc = condition_matches(t, &t->shards[i], c, after[i], &val, &hit, err);
        if (rc == LH_OK && hit) {
            rc = lh_err_set(err, LH_ECONFLICT,
                            "append condition failed: a matching event "
                            "committed after the given checkpoint");
        }
    }
    lh_us committed_at = lh_now();
    bool any = false;
    for (int k = 0; k < nshards_used && rc == LH_OK; k++) {
        lh_shard *s = &t->shards[used[k]];
        lh_shard_req *req = &reqs[k];
        int64_t start = s->last_position;
        lh_us at = LH_MAX(committed_at, s->last_committed);
        int r = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (r != SQLITE_OK) {
            rc = lh__sqlite_err(s->db, r, "begin a transaction", err);
            break;
        }
        rc = lh__shard_apply(s, req, at, err);
        if (rc == LH_OK) {
            r = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
            if (r != SQLITE_OK) {
                rc = lh__sqlite_err(s->db, r, "commit appends", err);
            }
        }
        if (rc != LH_OK) {
            if (!sqlite3_get_autocommit(s->db)) {
                sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            }
            s->last_position = start;
            for (size_t i = 0; i < req->nevs; i++) {
                memset(req->evs[i]->ack, 0, sizeof(lh_event_ack));
            }
        } else {
            s->last_committed = at;
            any = true;
        }
    }
    for (int i = t->nshards - 1; i >= 0; i--) {
        pthread_mutex_unlock(&t->shards[i].mu);
    }
    if (any) {
        lh__table_notify(t);
    }
    return rc;
}

/* Calls at least this large are validated in parallel: below it, handing
 * chunks to the pool costs more than it saves. */
#define PARALLEL_MIN_EVENTS 256
#define MAX_CHUNKS 8

/* One slice of a call being validated, with its own arena (arenas are
 * single-threaded): what the events point to lives there until the call
 * ends. */
typedef struct vchunk {
    const lh_table *t;
    const lh_event_in *evs;
    lh_hot_event *hev;
    size_t from, to;
    lh_arena arena;
    lh_rc rc;
    lh_err err;
    lh_done *done;
} vchunk;

static void
validate_chunk(vchunk *c)
{
    call_ctx cx = {0, NULL};
    lh_buf key = LH_BUF_INIT;
    lh_rc rc = LH_OK;
    lh_err_clear(&c->err);
    for (size_t i = c->from; i < c->to && rc == LH_OK; i++) {
        rc = validate_event(c->t, &c->evs[i], i, &c->hev[i], &c->arena, &cx,
                            &c->err);
        if (rc == LH_OK && shard_key(c->t, &c->hev[i], &key) != LH_OK) {
            rc = lh_err_set(&c->err, LH_ENOMEM, "out of memory");
        }
        if (rc == LH_OK) {
            c->hev[i].shard = lh__shard_of(c->t, key.data, key.len);
        }
    }
    lh_buf_release(&key);
    c->rc = rc;
}

static void
validate_task(void *arg)
{
    vchunk *c = arg;
    validate_chunk(c);
    lh_done_signal(c->done);
}

static lh_rc
validate_all(lh_db *db, const lh_table *t, const lh_event_in *evs,
             lh_hot_event *hev, size_t n, vchunk *chunks, size_t nchunks,
             lh_err *err)
{
    lh_done done;
    lh_done_init(&done, (int)nchunks - 1);
    for (size_t c = 0; c < nchunks; c++) {
        vchunk *ch = &chunks[c];
        ch->t = t;
        ch->evs = evs;
        ch->hev = hev;
        ch->from = n * c / nchunks;
        ch->to = n * (c + 1) / nchunks;
        ch->done = &done;
        lh_arena_init(&ch->arena, 0);
    }
    for (size_t c = 1; c < nchunks; c++) {
        if (lh_pool_submit(db->pool, validate_task, &chunks[c]) != LH_OK) {
            validate_task(&chunks[c]); /* no memory for a task: do it here */
        }
    }
    validate_chunk(&chunks[0]);
    lh_done_wait(&done);
    lh_done_release(&done);
    /* Chunks are in call order: the first failing one has the first bad
     * event. */
    for (size_t c = 0; c < nchunks; c++) {
        if (chunks[c].rc != LH_OK) {
            if (err != NULL) {
                *err = chunks[c].err;
            }
            return chunks[c].rc;
        }
    }
    return LH_OK;
}

typedef struct id_ref {
    lh_uuid id;
    size_t index;
} id_ref;

static int
cmp_id_ref(const void *a, const void *b)
{
    const id_ref *x = a, *y = b;
    int c = memcmp(x->id.b, y->id.b, 16);
    return c != 0 ? c : (x->index < y->index ? -1 : x->index > y->index);
}

/* An event id may appear once per call (sorting: no allocation per id). */
static lh_rc
check_unique_ids(const lh_event_in *evs, const lh_hot_event *hev, size_t n,
                 lh_arena *a, lh_err *err)
{
    if (n < 2) {
        return LH_OK;
    }
    id_ref *refs = lh_arena_alloc(a, sizeof(id_ref) * n);
    if (refs == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        refs[i].id = hev[i].id;
        refs[i].index = i;
    }
    qsort(refs, n, sizeof(id_ref), cmp_id_ref);
    size_t bad = n;
    for (size_t i = 1; i < n; i++) {
        if (memcmp(refs[i].id.b, refs[i - 1].id.b, 16) == 0) {
            bad = LH_MIN(bad, refs[i].index);
        }
    }
    if (bad < n) {
        return ev_err(err, bad, "event_id", LH_EINVAL,
                      "event id %s appears twice in one append",
                      evs[bad].event_id ? evs[bad].event_id : "");
    }
    return LH_OK;
}

lh_rc
lh_append(lh_db *db, const char *table, const lh_event_in *evs, size_t n,
          const lh_append_condition *cond, lh_event_ack *acks, lh_err *err)
{
    lh_err_clear(err);
    if (db->readonly) {
        return lh_err_set(err, LH_EREADONLY,
                          "cannot append through a read-only handle");
    }
    lh_table *t;
    lh_rc rc = lh__db_table(db, table, &t, err);
    if (rc != LH_OK || n == 0) {
        return rc;
    }
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_map held;
    lh_map_init(&held);
    lh_hot_event *hev = lh_arena_calloc(&a, sizeof(lh_hot_event) * n);
    lh_event_ack *own_acks = acks;
    if (own_acks == NULL) {
        own_acks = lh_arena_calloc(&a, sizeof(lh_event_ack) * n);
    }
    /* Requests exist only for the shards the call touches (reqs[slot[s]]
     * for shard s, used[k] the shard of reqs[k]): a request holds an lh_err
     * of most of a KB, too much to zero for every shard on every call. */
    lh_shard_req *reqs = NULL;
    int *slot = lh_arena_alloc(&a, sizeof(int) * (size_t)t->nshards);
    int *used = lh_arena_alloc(&a, sizeof(int) * (size_t)t->nshards);
    vchunk *chunks = NULL;
    size_t nchunks_live = 0;
    if (rc != LH_OK) {
        goto done;
    }
    if (hev == NULL || own_acks == NULL || slot == NULL || used == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        goto done;
    }
    memset(own_acks, 0, sizeof(lh_event_ack) * n);

    /* 1. Validate everything before anything is written: in chunks on
     * the pool when the call is large (events are independent), then the
     * checks across events. */
    size_t nchunks = 1;
    if (n >= PARALLEL_MIN_EVENTS && db->ncpu > 1) {
        nchunks = LH_MIN((size_t)db->ncpu, n / (PARALLEL_MIN_EVENTS / 2));
        nchunks = LH_MIN(nchunks, (size_t)MAX_CHUNKS);
    }
    chunks = lh_arena_calloc(&a, sizeof(vchunk) * nchunks);
    if (chunks == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        goto done;
    }
    nchunks_live = nchunks;
    rc = validate_all(db, t, evs, hev, n, chunks, nchunks, err);
    if (rc == LH_OK) {
        rc = check_unique_ids(evs, hev, n, &a, err);
    }
    for (size_t i = 0; i < n && rc == LH_OK; i++) {
        hev[i].ack = &own_acks[i];
        hev[i].index = i;
    }
    if (rc == LH_OK && t->def->shard_col >= 0) {
        rc = check_stream_keys(t, hev, n, &held, err);
    }
    size_t claimed = 0;
    if (rc == LH_OK) {
        rc = lh__ids_claim(t, evs, hev, n, &claimed, err);
    }
    if (rc != LH_OK) {
        goto done;
    }

    /* 2. One request per shard, events in call order; the requests in the
     * order their shards first appear in the call. */
    for (int s = 0; s < t->nshards; s++) {
        slot[s] = -1;
    }
    int nused = 0;
    for (size_t i = 0; i < n; i++) {
        if (slot[hev[i].shard] < 0) {
            slot[hev[i].shard] = nused;
            used[nused++] = hev[i].shard;
        }
    }
    reqs = lh_arena_calloc(&a, sizeof(lh_shard_req) * (size_t)nused);
    if (reqs == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        reqs[slot[hev[i].shard]].nevs++;
    }
    for (int k = 0; k < nused; k++) {
        lh_shard_req *r = &reqs[k];
        r->evs = lh_arena_alloc(&a, sizeof(lh_hot_event *) * r->nevs);
        if (r->evs == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
            goto done;
        }
        r->nevs = 0;
    }
    for (size_t i = 0; i < n; i++) {
        lh_shard_req *r = &reqs[slot[hev[i].shard]];
        r->evs[r->nevs++] = &hev[i];
    }

    /* 3. Commit: through the mailboxes (group commit), or under every
     * shard's lock for a conditional append. */
    if (cond != NULL) {
        rc = conditional_append(t, cond, reqs, nused, used, &a, err);
    } else {
        lh_done done;
        lh_done_init(&done, nused);
        for (int k = 0; k < nused; k++) {
            lh_shard_req *r = &reqs[k];
            r->done = &done;
            r->rc = LH_OK;
            if (lh_mailbox_post(&t->shards[used[k]].mb, &r->msg) != LH_OK) {
                r->rc = lh_err_set(&r->err, LH_ECANCELED,
                                   "the database is closing");
                lh_done_signal(&done);
            }
        }
        lh_done_wait(&done);
        lh_done_release(&done);
        int committed = 0;
        for (int k = 0; k < nused; k++) {
            committed += reqs[k].rc == LH_OK;
        }
        for (int k = 0; k < nused; k++) {
            lh_shard_req *r = &reqs[k];
            if (r->rc != LH_OK && rc == LH_OK) {
                rc = r->rc;
                if (err != NULL) {
                    *err = r->err;
                    err->code = rc;
                }
                if (committed > 0) {
                    lh_err_prefix(err,
                                  "%d of %d shards committed their events "
                                  "(acks with position 0 did not land)",
                                  committed, nused);
                }
            }
        }
    }
done:
    if (t->def->shard_col >= 0 && hev != NULL) {
        release_streams(t, &held, hev, n);
    }
    if (hev != NULL) {
        lh__ids_release(t, hev, n);
    }
    for (size_t c = 0; c < nchunks_live; c++) {
        lh_arena_release(&chunks[c].arena);
    }
    lh_map_release(&held); /* values belong to t->stream_keys */
    lh_arena_release(&a);
    return rc;
}
