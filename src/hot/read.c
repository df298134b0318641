/*
 * Reading: one stream by version, or the whole table from a checkpoint
 * (one position per shard), optionally following new commits; stream
 * metadata. Readers use their own read-only connections, so they run beside
 * the writer, in this process or another.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hot/hot_int.h"

#define EVENT_COLS                                                             \
    "position, event_id, stream, version, type, ts, committed_at, "            \
    "partition_key, schema_version, embedding"
#define NUM_ENVELOPE_COLS 10
#define WAIT_SLICE_MS 20

/* ---- checkpoints ------------------------------------------------------------
 */

lh_rc
lh__checkpoint_parse(const char *s, int nshards, int64_t *pos, lh_err *err)
{
    memset(pos, 0, sizeof(int64_t) * (size_t)nshards);
    if (s == NULL || strcmp(s, "0") == 0 || s[0] == 0) {
        return LH_OK;
    }
    if (strncmp(s, "ck1.", 4) != 0) {
        return lh_err_set(err, LH_EINVAL,
                          "malformed checkpoint \"%.80s\" (expected \"0\" or a "
                          "token printed by a read)",
                          s);
    }
    const char *p = s + 4;
    for (int i = 0; i < nshards; i++) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno != 0 || v < 0 ||
            (i + 1 < nshards ? *end != '.' : *end != 0)) {
            return lh_err_set(err, LH_EINVAL,
                              "malformed checkpoint \"%.80s\" (expected %d "
                              "positions, one per shard)",
                              s, nshards);
        }
        pos[i] = v;
        p = end + 1;
    }
    return LH_OK;
}

lh_rc
lh__checkpoint_format(const int64_t *pos, int nshards, lh_buf *out)
{
    lh_buf_reset(out);
    lh_buf_puts(out, "ck1");
    for (int i = 0; i < nshards; i++) {
        lh_buf_printf(out, ".%lld", (long long)pos[i]);
    }
    return lh_buf_ok(out) ? LH_OK : LH_ENOMEM;
}

/* ---- the reader
 * ----------------------------------------------------------------- */

typedef struct cursor {
    sqlite3_stmt *st;
    bool row;       /* st is on a row */
    bool exhausted; /* stepped to the end; re-query after a wait */
    bool advance;   /* its row was returned: step before looking again */
} cursor;

struct lh_reader {
    lh_db *db;
    lh_table *t;
    bool all;
    bool follow;
    atomic_bool cancel;
    sqlite3 **conns; /* per shard, opened on demand */
    cursor *cur;     /* per shard (all) or cur[0] (stream) */
    int stream_shard;
    int64_t *pos;      /* all: positions consumed, per shard */
    int64_t remaining; /* stream: events left to return (-1 = no limit) */
    lh_arena ev_arena; /* what the current event points to */
    lh_buf data, ckpt;
    lh_event ev;
    char event_id[LH_UUID_STRLEN + 1];
};

static lh_rc
conn(lh_reader *r, int shard, sqlite3 **out, lh_err *err)
{
    if (r->conns[shard] == NULL) {
        lh_rc rc = lh__shard_open_reader(r->t->shards[shard].path,
                                         &r->conns[shard], err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    *out = r->conns[shard];
    return LH_OK;
}

static lh_rc
reader_new(lh_db *db, const char *table, bool all, lh_reader **out, lh_err *err)
{
    lh_table *t;
    lh_rc rc = lh__db_table(db, table, &t, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_reader *r = lh_calloc(1, sizeof(*r));
    if (r == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    r->db = db;
    r->t = t;
    r->all = all;
    r->remaining = -1;
    lh_arena_init(&r->ev_arena, 0);
    r->conns = lh_calloc((size_t)t->nshards, sizeof(sqlite3 *));
    r->cur = lh_calloc((size_t)t->nshards, sizeof(cursor));
    r->pos = lh_calloc((size_t)t->nshards, sizeof(int64_t));
    if (r->conns == NULL || r->cur == NULL || r->pos == NULL) {
        lh_reader_close(r);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    *out = r;
    return LH_OK;
}

void
lh_reader_close(lh_reader *r)
{
    if (r == NULL) {
        return;
    }
    for (int i = 0; r->cur != NULL && i < r->t->nshards; i++) {
        sqlite3_finalize(r->cur[i].st);
    }
    for (int i = 0; r->conns != NULL && i < r->t->nshards; i++) {
        sqlite3_close(r->conns[i]);
    }
    lh_free(r->conns);
    lh_free(r->cur);
    lh_free(r->pos);
    lh_arena_release(&r->ev_arena);
    lh_buf_release(&r->data);
    lh_buf_release(&r->ckpt);
    lh_free(r);
}

static void
select_cols(const lh_tabledef *d, lh_buf *q)
{
    lh_buf_puts(q, "SELECT " EVENT_COLS);
    for (size_t i = 0; i < d->ncols; i++) {
        lh_buf_printf(q, ", c%d", (int)d->cols[i].field_id);
    }
}

/* The shard's events whose TTL has not run out (ts + ttl_seconds > now,
 * the product clock: LH_NOW freezes it), as a FROM item; expired ones stay
 * until the pipeline's retention deletes them. */
static void
live_events(lh_buf *q)
{
    lh_buf_printf(q,
                  "(SELECT * FROM main.events WHERE ttl_seconds IS NULL OR "
                  "ts + ttl_seconds * 1000000 > %lld)",
                  (long long)lh_now());
}

/* SELECT the event columns FROM the live events `where`; with lake, from
 * the shard's events and the stream's events staged from the lake
 * (lh__lake_stream_rows, which leaves out expired ones) together. */
static lh_rc
prepare_select_from(lh_reader *r, sqlite3 *c, bool lake, const char *where,
                    sqlite3_stmt **st, lh_err *err)
{
    const lh_tabledef *d = r->t->def;
    lh_buf q = LH_BUF_INIT;
    select_cols(d, &q);
    if (lake) {
        lh_buf_puts(&q, " FROM (");
        select_cols(d, &q);
        lh_buf_puts(&q, " FROM temp.lake_events UNION ALL ");
        select_cols(d, &q);
        lh_buf_puts(&q, " FROM ");
        live_events(&q);
        lh_buf_printf(&q, ") %s", where);
    } else {
        lh_buf_puts(&q, " FROM ");
        live_events(&q);
        lh_buf_printf(&q, " %s", where);
    }
    if (!lh_buf_ok(&q)) {
        lh_buf_release(&q);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    int rc = sqlite3_prepare_v2(c, q.data, -1, st, NULL);
    lh_buf_release(&q);
    if (rc != SQLITE_OK) {
        return lh__sqlite_err(c, rc, "read events", err);
    }
    return LH_OK;
}

static lh_rc
prepare_select(lh_reader *r, sqlite3 *c, const char *where, sqlite3_stmt **st,
               lh_err *err)
{
    return prepare_select_from(r, c, false, where, st, err);
}

/* Steps a cursor; LH_OK with c->row telling whether it is on a row. */
static lh_rc
cursor_step(lh_reader *r, int shard, cursor *c, lh_err *err)
{
    int rc = sqlite3_step(c->st);
    if (rc == SQLITE_ROW) {
        c->row = true;
        return LH_OK;
    }
    c->row = false;
    c->exhausted = true;
    /* Reset: ends the statement's read transaction, so a follower sees
     * later commits and does not hold back WAL checkpoints. */
    sqlite3_reset(c->st);
    if (rc != SQLITE_DONE) {
        return lh__sqlite_err(r->conns[shard], rc, "read events", err);
    }
    return LH_OK;
}

/* Renders v as text (JSON when json) into the event's arena. */
static const char *
value_text(lh_reader *r, const lh_value *v, bool json)
{
    lh_buf b = LH_BUF_INIT;
    if (json) {
        lh_value_to_json(v, &b);
    } else {
        lh_value_to_text(v, &b);
    }
    const char *out =
        lh_buf_ok(&b)
            ? lh_arena_strndup(&r->ev_arena, b.data ? b.data : "", b.len)
            : NULL;
    lh_buf_release(&b);
    return out;
}

/* The envelope's text forms, from the column module like every value. */
static lh_rc
envelope_text(lh_reader *r, lh_event *ev, lh_err *err)
{
    lh_value v = {.type = {.id = LH_T_TIMESTAMP}};
    v.u.i = ev->ts;
    ev->ts_text = value_text(r, &v, false);
    v.u.i = ev->committed_at;
    ev->committed_at_text = value_text(r, &v, false);
    ev->embedding_json = NULL;
    if (ev->embedding != NULL) {
        lh_value e = {
            .type = {.id = LH_T_VECTOR, .dim = (uint32_t)ev->embedding_len}};
        e.u.vec.v = ev->embedding;
        e.u.vec.n = (uint32_t)ev->embedding_len;
        ev->embedding_json = value_text(r, &e, true);
        if (ev->embedding_json == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    if (ev->ts_text == NULL || ev->committed_at_text == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    return LH_OK;
}

/* Copies the cursor's row into r->ev (the row itself goes away with the
 * next step). */
static lh_rc
load_event(lh_reader *r, int shard, sqlite3_stmt *st, lh_err *err)
{
    const lh_tabledef *d = r->t->def;
    lh_arena_reset(&r->ev_arena);
    lh_event *ev = &r->ev;
    memset(ev, 0, sizeof(*ev));
    ev->position = sqlite3_column_int64(st, 0);
    if (sqlite3_column_bytes(st, 1) != 16) {
        return lh_err_set(err, LH_ECORRUPT,
                          "event at position %lld of shard %d has a damaged "
                          "event id",
                          (long long)ev->position, shard);
    }
    lh_uuid id;
    memcpy(id.b, sqlite3_column_blob(st, 1), 16);
    lh_uuid_format(&id, r->event_id);
    ev->event_id = r->event_id;
    ev->stream =
        lh_arena_strdup(&r->ev_arena, (const char *)sqlite3_column_text(st, 2));
    ev->version = sqlite3_column_int64(st, 3);
    ev->type =
        lh_arena_strdup(&r->ev_arena, (const char *)sqlite3_column_text(st, 4));
    ev->ts = sqlite3_column_int64(st, 5);
    ev->committed_at = sqlite3_column_int64(st, 6);
    ev->partition_key =
        lh_arena_strdup(&r->ev_arena, (const char *)sqlite3_column_text(st, 7));
    ev->schema_version = sqlite3_column_int(st, 8);
    ev->shard = shard;
    int eb = sqlite3_column_bytes(st, 9);
    if (sqlite3_column_type(st, 9) == SQLITE_BLOB && eb > 0) {
        ev->embedding = lh_arena_memdup(&r->ev_arena,
                                        sqlite3_column_blob(st, 9), (size_t)eb);
        ev->embedding_len = (size_t)eb / sizeof(float);
    }
    if (ev->stream == NULL || ev->type == NULL || ev->partition_key == NULL ||
        (eb > 0 && ev->embedding == NULL)) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_buf_reset(&r->data);
    lh_buf_putc(&r->data, '{');
    for (size_t i = 0; i < d->ncols; i++) {
        lh_value v;
        if (lh__column_value(st, NUM_ENVELOPE_COLS + (int)i, d->cols[i].type,
                             &v) != LH_OK) {
            return lh_err_set(err, LH_ECORRUPT,
                              "event at position %lld of shard %d: column "
                              "\"%s\" holds a damaged value",
                              (long long)ev->position, shard, d->cols[i].name);
        }
        if (i > 0) {
            lh_buf_putc(&r->data, ',');
        }
        lh_buf_json_string(&r->data, d->cols[i].name, strlen(d->cols[i].name));
        lh_buf_putc(&r->data, ':');
        lh_value_to_json(&v, &r->data);
    }
    lh_buf_putc(&r->data, '}');
    if (!lh_buf_ok(&r->data)) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    ev->data_json = r->data.data;
    return envelope_text(r, ev, err);
}

/* ---- one stream
 * --------------------------------------------------------------- */

/* The shard a stream lives in; -1 when it does not exist anywhere (tables
 * sharded by a payload column have to look). */
static lh_rc
find_stream_shard(lh_reader *r, const char *stream, int *out, lh_err *err)
{
    lh_table *t = r->t;
    if (t->def->shard_col < 0) {
        *out = lh__shard_of(t, stream, strlen(stream));
        return LH_OK;
    }
    *out = -1;
    for (int i = 0; i < t->nshards; i++) {
        sqlite3 *c;
        lh_rc rc = conn(r, i, &c, err);
        if (rc != LH_OK) {
            return rc;
        }
        int64_t v = 0;
        rc = lh__stream_version(c, stream, &v, err);
        if (rc != LH_OK) {
            return rc;
        }
        if (v > 0) {
            *out = i;
            return LH_OK;
        }
    }
    return LH_OK;
}

typedef struct stream_row {
    bool found;
    int64_t version, max_age_s, max_count, truncate_before;
    int64_t floor; /* versions up to this left the hot tier (0 = none) */
} stream_row;

static lh_rc
read_stream_row(sqlite3 *c, const char *stream, stream_row *out, lh_err *err)
{
    memset(out, 0, sizeof(*out));
    lh_rc rc = lh__stream_version(c, stream, &out->version, err);
    if (rc != LH_OK) {
        return rc;
    }
    sqlite3_stmt *st = NULL;
    int r = sqlite3_prepare_v2(c,
                               "SELECT coalesce(max_age_s, 0), "
                               "coalesce(max_count, 0), "
                               "coalesce(truncate_before, 0), version FROM "
                               "streams WHERE stream = ?",
                               -1, &st, NULL);
    if (r == SQLITE_OK) {
        sqlite3_bind_text(st, 1, stream, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
            out->found = true;
            out->max_age_s = sqlite3_column_int64(st, 0);
            out->max_count = sqlite3_column_int64(st, 1);
            out->truncate_before = sqlite3_column_int64(st, 2);
            out->floor = sqlite3_column_int64(st, 3);
        }
    }
    sqlite3_finalize(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        return lh__sqlite_err(c, r, "read stream metadata", err);
    }
    return LH_OK;
}

lh_rc
lh_read_stream(lh_db *db, const char *table, const char *stream, int64_t from,
               lh_direction dir, int64_t limit, lh_reader **out, lh_err *err)
{
    *out = NULL;
    if (stream == NULL || stream[0] == 0) {
        return lh_err_set(err, LH_EINVAL, "a stream id is required");
    }
    if (limit < 0) {
        return lh_err_set(err, LH_EINVAL, "limit must be >= 0");
    }
    lh_reader *r;
    lh_rc rc = reader_new(db, table, false, &r, err);
    if (rc != LH_OK) {
        return rc;
    }
    int shard;
    rc = find_stream_shard(r, stream, &shard, err);
    if (rc != LH_OK || shard < 0) {
        if (rc == LH_OK) {
            *out = r; /* an empty reader */
        } else {
            lh_reader_close(r);
        }
        return rc;
    }
    r->stream_shard = shard;
    sqlite3 *c;
    rc = conn(r, shard, &c, err);
    stream_row sr;
    if (rc == LH_OK) {
        rc = read_stream_row(c, stream, &sr, err);
    }
    if (rc != LH_OK) {
        lh_reader_close(r);
        return rc;
    }
    /* The metadata narrows the visible versions. */
    int64_t lo = 1;
    lo = LH_MAX(lo, sr.truncate_before);
    if (sr.max_count > 0) {
        lo = LH_MAX(lo, sr.version - sr.max_count + 1);
    }
    int64_t hi = INT64_MAX;
    if (dir == LH_FORWARD) {
        lo = LH_MAX(lo, from);
    } else if (from >= 0) {
        hi = from;
    }
    lh_us min_commit =
        sr.max_age_s > 0 ? lh_now() - sr.max_age_s * LH_US_PER_SEC : INT64_MIN;
    const char *where =
        dir == LH_FORWARD
            ? "WHERE stream = ?1 AND version >= ?2 AND version <= ?3 AND "
              "committed_at >= ?4 ORDER BY version"
            : "WHERE stream = ?1 AND version >= ?2 AND version <= ?3 AND "
              "committed_at >= ?4 ORDER BY version DESC";
    /* Versions up to the floor left the shard for the lake: staged from
     * there, they are read with the shard's in one ordered query. */
    bool lake = false;
    if (sr.floor >= lo && lo <= hi) {
        rc = lh__lake_stream_rows(r->t, stream, lo, LH_MIN(hi, sr.floor), c,
                                  &lake, err);
    }
    if (rc == LH_OK) {
        rc = prepare_select_from(r, c, lake, where, &r->cur[0].st, err);
    }
    if (rc != LH_OK) {
        lh_reader_close(r);
        return rc;
    }
    sqlite3_bind_text(r->cur[0].st, 1, stream, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(r->cur[0].st, 2, lo);
    sqlite3_bind_int64(r->cur[0].st, 3, hi);
    sqlite3_bind_int64(r->cur[0].st, 4, min_commit);
    r->remaining = limit > 0 ? limit : -1;
    *out = r;
    return LH_OK;
}

/* ---- the whole table
 * ------------------------------------------------------------ */

lh_rc
lh_read_all(lh_db *db, const char *table, const char *checkpoint, bool follow,
            lh_reader **out, lh_err *err)
{
    *out = NULL;
    lh_reader *r;
    lh_rc rc = reader_new(db, table, true, &r, err);
    if (rc != LH_OK) {
        return rc;
    }
    r->follow = follow;
    rc = lh__checkpoint_parse(checkpoint, r->t->nshards, r->pos, err);
    for (int i = 0; i < r->t->nshards && rc == LH_OK; i++) {
        sqlite3 *c;
        rc = conn(r, i, &c, err);
        if (rc == LH_OK) {
            rc = prepare_select(r, c, "WHERE position > ? ORDER BY position",
                                &r->cur[i].st, err);
        }
        r->cur[i].exhausted = true; /* bound and stepped on first next() */
    }
    if (rc != LH_OK) {
        lh_reader_close(r);
        return rc;
    }
    *out = r;
    return LH_OK;
}

/* Re-queries every exhausted shard after its consumed position. */
static lh_rc
refill(lh_reader *r, lh_err *err)
{
    for (int i = 0; i < r->t->nshards; i++) {
        cursor *c = &r->cur[i];
        if (!c->exhausted) {
            continue;
        }
        c->exhausted = false;
        sqlite3_bind_int64(c->st, 1, r->pos[i]);
        lh_rc rc = cursor_step(r, i, c, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

static lh_rc
next_all(lh_reader *r, const lh_event **ev, lh_err *err)
{
    /* Step past the row returned last time here, not right after loading
     * it: a failing step then fails this call, and the event already
     * handed out (and its checkpoint) stays valid. */
    for (int i = 0; i < r->t->nshards; i++) {
        if (r->cur[i].advance) {
            r->cur[i].advance = false;
            lh_rc rc = cursor_step(r, i, &r->cur[i], err);
            if (rc != LH_OK) {
                return rc;
            }
        }
    }
    bool any_row = false;
    for (int i = 0; i < r->t->nshards; i++) {
        any_row = any_row || r->cur[i].row;
    }
    if (!any_row) {
        lh_rc rc = refill(r, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    /* The earliest commit across shards; shard order breaks ties. Within a
     * shard, positions ascend. */
    int best = -1;
    int64_t best_at = 0;
    for (int i = 0; i < r->t->nshards; i++) {
        if (!r->cur[i].row) {
            continue;
        }
        int64_t at = sqlite3_column_int64(r->cur[i].st, 6);
        if (best < 0 || at < best_at) {
            best = i;
            best_at = at;
        }
    }
    if (best < 0) {
        *ev = NULL;
        return LH_OK;
    }
    lh_rc rc = load_event(r, best, r->cur[best].st, err);
    if (rc != LH_OK) {
        return rc;
    }
    r->pos[best] = r->ev.position;
    rc = lh__checkpoint_format(r->pos, r->t->nshards, &r->ckpt);
    if (rc != LH_OK) {
        return lh_err_set(err, rc, "out of memory");
    }
    r->ev.checkpoint = r->ckpt.data;
    r->cur[best].advance = true;
    *ev = &r->ev;
    return LH_OK;
}

lh_rc
lh_reader_next(lh_reader *r, const lh_event **ev, lh_err *err)
{
    *ev = NULL;
    if (r->all) {
        return next_all(r, ev, err);
    }
    cursor *c = &r->cur[0];
    if (c->st == NULL || c->exhausted || r->remaining == 0) {
        return LH_OK;
    }
    lh_rc rc = cursor_step(r, r->stream_shard, c, err);
    if (rc != LH_OK || !c->row) {
        return rc;
    }
    rc = load_event(r, r->stream_shard, c->st, err);
    if (rc != LH_OK) {
        return rc;
    }
    /* A stream read's checkpoint is the stream version to continue from. */
    lh_buf_reset(&r->ckpt);
    lh_buf_printf(&r->ckpt, "%lld", (long long)r->ev.version);
    r->ev.checkpoint = r->ckpt.data;
    if (r->remaining > 0) {
        r->remaining--;
    }
    *ev = &r->ev;
    return LH_OK;
}

/* True when some shard has a position past what the reader consumed. */
static lh_rc
has_new(lh_reader *r, bool *out, lh_err *err)
{
    *out = false;
    for (int i = 0; i < r->t->nshards && !*out; i++) {
        sqlite3 *c;
        lh_rc rc = conn(r, i, &c, err);
        if (rc != LH_OK) {
            return rc;
        }
        /* Expired events do not count: the reader never reaches them. */
        sqlite3_stmt *st = NULL;
        int x = sqlite3_prepare_v2(c,
                                   "SELECT 1 FROM events WHERE position > ?1 "
                                   "AND (ttl_seconds IS NULL OR ts + "
                                   "ttl_seconds * 1000000 > ?2) LIMIT 1",
                                   -1, &st, NULL);
        if (x == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, r->pos[i]);
            sqlite3_bind_int64(st, 2, lh_now());
            x = sqlite3_step(st);
        }
        *out = x == SQLITE_ROW;
        sqlite3_finalize(st);
        if (x != SQLITE_ROW && x != SQLITE_DONE) {
            return lh__sqlite_err(c, x, "poll for new events", err);
        }
    }
    return LH_OK;
}

lh_rc
lh_reader_wait(lh_reader *r, int timeout_ms, lh_err *err)
{
    if (!r->all || !r->follow) {
        return lh_err_set(err, LH_EINVAL,
                          "only a following table reader can wait");
    }
    lh_us deadline = lh_mono_now() + (lh_us)timeout_ms * 1000;
    lh_table *t = r->t;
    for (;;) {
        if (atomic_load(&r->cancel)) {
            return lh_err_set(err, LH_ECANCELED, "the read was cancelled");
        }
        bool fresh = false;
        lh_rc rc = has_new(r, &fresh, err);
        if (rc != LH_OK) {
            return rc;
        }
        if (fresh) {
            return LH_OK;
        }
        lh_us now = lh_mono_now();
        if (timeout_ms >= 0 && now >= deadline) {
            return lh_err_set(err, LH_ETIMEDOUT, "no new events");
        }
        lh_us slice = WAIT_SLICE_MS * 1000;
        if (timeout_ms >= 0 && deadline - now < slice) {
            slice = deadline - now;
        }
        if (!r->db->readonly) {
            /* In-process writer: its commits wake us at once. */
            uint64_t seen = atomic_load(&t->commits);
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)(slice % 1000000) * 1000;
            ts.tv_sec += (time_t)(slice / 1000000) + ts.tv_nsec / 1000000000;
            ts.tv_nsec %= 1000000000;
            pthread_mutex_lock(&t->notify_mu);
            if (atomic_load(&t->commits) == seen) {
                pthread_cond_timedwait(&t->notify_cv, &t->notify_mu, &ts);
            }
            pthread_mutex_unlock(&t->notify_mu);
        } else {
            usleep((useconds_t)slice);
        }
    }
}

void
lh_reader_cancel(lh_reader *r)
{
    atomic_store(&r->cancel, true);
}

const char *
lh_reader_checkpoint(lh_reader *r)
{
    if (!r->all) {
        return r->ckpt.data ? r->ckpt.data : "0";
    }
    if (lh__checkpoint_format(r->pos, r->t->nshards, &r->ckpt) != LH_OK) {
        return NULL;
    }
    return r->ckpt.data;
}

/* ---- subscriptions
 * ------------------------------------------------------------------ */

struct lh_subscription {
    pthread_t thread;
    lh_reader *r;
    lh_event_cb cb;
    void *ud;
};

static void *
subscription_main(void *arg)
{
    lh_subscription *s = arg;
    for (;;) {
        const lh_event *ev;
        lh_err err;
        if (lh_reader_next(s->r, &ev, &err) != LH_OK) {
            lh_log(LH_LOG_ERROR, "subscription stopped: %s", err.msg);
            break;
        }
        if (ev != NULL) {
            if (s->cb(s->ud, ev) != 0) {
                break;
            }
            continue;
        }
        lh_rc rc = lh_reader_wait(s->r, 1000, &err);
        if (rc != LH_OK && rc != LH_ETIMEDOUT) {
            if (rc != LH_ECANCELED) {
                lh_log(LH_LOG_ERROR, "subscription stopped: %s", err.msg);
            }
            break;
        }
    }
    return NULL;
}

lh_rc
lh_subscribe(lh_db *db, const char *table, const char *checkpoint,
             lh_event_cb cb, void *ud, lh_subscription **out, lh_err *err)
{
    lh_subscription *s = lh_calloc(1, sizeof(*s));
    if (s == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = lh_read_all(db, table, checkpoint, true, &s->r, err);
    if (rc != LH_OK) {
        lh_free(s);
        return rc;
    }
    s->cb = cb;
    s->ud = ud;
    int e = pthread_create(&s->thread, NULL, subscription_main, s);
    if (e != 0) {
        lh_reader_close(s->r);
        lh_free(s);
        return lh_err_sys(err, LH_EIO, e, "could not start a subscription");
    }
    *out = s;
    return LH_OK;
}

void
lh_subscription_close(lh_subscription *s)
{
    if (s == NULL) {
        return;
    }
    lh_reader_cancel(s->r);
    pthread_join(s->thread, NULL);
    lh_reader_close(s->r);
    lh_free(s);
}

/* ---- stream metadata
 * ---------------------------------------------------------------- */

lh_rc
lh_stream_set_meta(lh_db *db, const char *table, const char *stream,
                   const lh_stream_meta *meta, lh_err *err)
{
    if (db->readonly) {
        return lh_err_set(err, LH_EREADONLY,
                          "cannot change a stream through a read-only handle");
    }
    if (meta->max_age_s < 0 || meta->max_count < 0 ||
        meta->truncate_before < 0) {
        return lh_err_set(err, LH_EINVAL,
                          "stream metadata values must be >= 0");
    }
    lh_reader *r;
    lh_rc rc = reader_new(db, table, false, &r, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_table *t = r->t;
    int shard;
    rc = find_stream_shard(r, stream, &shard, err);
    lh_reader_close(r);
    if (rc != LH_OK) {
        return rc;
    }
    if (shard < 0) {
        return lh_err_set(err, LH_ENOENT,
                          "stream \"%s\" does not exist in table \"%s\" (its "
                          "shard is known once it has an event)",
                          stream, table);
    }
    lh_shard *s = &t->shards[shard];
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    int x = sqlite3_prepare_v2(
        s->db,
        "INSERT INTO streams(stream, version, max_age_s, max_count, "
        "truncate_before) VALUES (?1, 0, ?2, ?3, ?4) ON CONFLICT(stream) DO "
        "UPDATE SET max_age_s = ?2, max_count = ?3, truncate_before = ?4",
        -1, &st, NULL);
    if (x == SQLITE_OK) {
        sqlite3_bind_text(st, 1, stream, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, meta->max_age_s);
        sqlite3_bind_int64(st, 3, meta->max_count);
        sqlite3_bind_int64(st, 4, meta->truncate_before);
        x = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    lh_rc rc2 = LH_OK;
    if (x != SQLITE_DONE) { /* read the message while we own the handle */
        rc2 = lh__sqlite_err(s->db, x, "write stream metadata", err);
    }
    pthread_mutex_unlock(&s->mu);
    if (rc2 != LH_OK) {
        return rc2;
    }
    return LH_OK;
}

lh_rc
lh_stream_info(lh_db *db, const char *table, const char *stream,
               int64_t *version, lh_stream_meta *meta, lh_err *err)
{
    lh_reader *r = NULL;
    lh_rc rc = reader_new(db, table, false, &r, err);
    if (rc != LH_OK) {
        return rc;
    }
    int shard;
    rc = find_stream_shard(r, stream, &shard, err);
    stream_row sr = {.found = false};
    if (rc == LH_OK && shard >= 0) {
        sqlite3 *c;
        rc = conn(r, shard, &c, err);
        if (rc == LH_OK) {
            rc = read_stream_row(c, stream, &sr, err);
        }
    }
    lh_reader_close(r);
    if (rc != LH_OK) {
        return rc;
    }
    if (version != NULL) {
        *version = sr.version;
    }
    if (meta != NULL) {
        meta->max_age_s = sr.max_age_s;
        meta->max_count = sr.max_count;
        meta->truncate_before = sr.truncate_before;
    }
    return LH_OK;
}
