/*
 * Event tables of the data directory as a table source: the hot tier's
 * SQLite shards (hot_int.h has their schema), scanned into column batches.
 *
 * Columns: the payload columns of the table's definition (what SELECT *
 * and positional INSERT see), then the envelope as hidden columns
 * (ARCHITECTURE.md, "The event"): event_id, stream, version, type, ts,
 * committed_at, shard, position, partition_key, schema_version, tier_hint,
 * ttl_seconds, and embedding (FLOAT[embedding_dim]) where the table declares
 * one.
 *
 * This is the hot tier's part of an event table; src/router/ unions it
 * with the lake's (docs/internals/router.md). A scan reads a cut
 * (lh__hot_cut, sources.h): the read transactions of the shards it needs,
 * opened at once when the scan starts, so it sees each shard as of that
 * moment whatever commits and deletes follow, and only the positions above
 * the lake's mark of each shard. A shard is left out (never scanned) when
 * the stream or shard predicates rule it out (its shard is the hash of the
 * stream, unless the table is sharded by a payload column), or when its
 * min and max ts, read in its transaction through the index events_ts,
 * miss the request's ts range.
 *
 * Parallel scans share the cut: a shard is a morsel, read by one scan
 * through the cut's connection (WAL: beside the writer, also in another
 * process), in commit order. Pushed down into SQLite's WHERE: the mark,
 * the ts range of the request, and the pruning predicates on stream, type
 * (= and IN), version, position, ts and committed_at (comparisons). The
 * scan operator above still checks every row.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "exec/exec_int.h"
#include "exec/sources.h"
#include "hot/hot_int.h"

enum {
    ENV_EVENT_ID,
    ENV_STREAM,
    ENV_VERSION,
    ENV_TYPE,
    ENV_TS,
    ENV_COMMITTED_AT,
    ENV_SHARD,
    ENV_POSITION,
    ENV_PARTITION_KEY,
    ENV_SCHEMA_VERSION,
    ENV_TIER_HINT,
    ENV_TTL_SECONDS,
    ENV_EMBEDDING, /* only in tables with an embedding_dim: always last */
    NENV
};

static const struct {
    const char *name;
    lh_type_id type;
    bool nullable;
} envelope[NENV] = {
    {"event_id", LH_T_UUID, false},
    {"stream", LH_T_VARCHAR, false},
    {"version", LH_T_BIGINT, false},
    {"type", LH_T_VARCHAR, false},
    {"ts", LH_T_TIMESTAMP, false},
    {"committed_at", LH_T_TIMESTAMP, false},
    {"shard", LH_T_INTEGER, false},
    {"position", LH_T_BIGINT, false},
    {"partition_key", LH_T_VARCHAR, false},
    {"schema_version", LH_T_INTEGER, false},
    {"tier_hint", LH_T_VARCHAR, true},
    {"ttl_seconds", LH_T_BIGINT, true},
    {"embedding", LH_T_VECTOR, true}, /* FLOAT[embedding_dim] */
};

typedef struct ev_source {
    lh_source src;
    lh_table *t; /* owned by the db */
    uint32_t npayload;
    lh_sql_column *cols; /* npayload + NENV */
    uint32_t ncols;
} ev_source;

/* The cut (sources.h): per shard, its pinned read connection until the
 * scan that takes the shard is done with it. */
struct lh__hot_cut {
    const ev_source *es;
    int nshards;
    sqlite3 **conns; /* NULL: pruned, or read and closed */
    int64_t *marks;  /* positions at or below are the lake's */
    int64_t *min_ts; /* per shard, its rows' bounds (when pinned) */
    int64_t *max_ts;
    bool *by_bounds; /* pruned by its ts bounds (else by predicates) */
    _Atomic int next_shard;
    uint64_t pinned, pruned, pruned_by_bounds;
    bool needs_lake; /* false: the request's streams never left a shard */
};

struct lh_source_scan {
    ev_source *es;
    lh_scan_request req;
    lh__hot_cut *cut, *own; /* own: made by open, without a router */
    int cur;                /* the shard being read, -1 none */
    sqlite3_stmt *st;
    lh_buf sql;     /* the statement (the same for every shard) */
    lh_us now;      /* the product clock the TTLs are read against */
    uint32_t cap;   /* rows of the next batch (new_batch) */
    lh_arena arena; /* the current batch */
    lh_vector *vecs;
    lh_scan_stats stats;
};

/* Rows of a scan's first batch, doubled with each full batch up to
 * LH_BATCH_ROWS: a point lookup returns a few rows, and zeroing (and
 * allocating) vectors of 2,048 rows cost it more than reading them. */
#define HOT_FIRST_BATCH 64u

/* ---- the table ----------------------------------------------------------- */

static void
ev_source_free(void *p)
{
    ev_source *es = p;
    if (es == NULL) {
        return;
    }
    lh_free(es->cols);
    lh_free(es);
}

static bool
is_env(const ev_source *es, uint32_t col, int which)
{
    return col == es->npayload + (uint32_t)which;
}

/* ---- the cut ---------------------------------------------------------------
 */

/* Marks the shards the stream and shard predicates leave. */
static void
prune_shards(const ev_source *es, const lh_scan_request *req, bool *want)
{
    const lh_table *t = es->t;
    for (int i = 0; i < t->nshards; i++) {
        want[i] = true;
    }
    for (uint32_t i = 0; i < req->npreds; i++) {
        const lh_scan_pred *p = &req->preds[i];
        if (p->is_null || p->not_null ||
            !(p->op == LH_OP_EQ || p->op == LH_OP_NONE) || p->nvalues == 0) {
            continue;
        }
        bool by_stream = is_env(es, p->col, ENV_STREAM) &&
                         t->def->shard_col < 0 &&
                         p->values[0].type.id == LH_T_VARCHAR;
        bool by_shard = is_env(es, p->col, ENV_SHARD);
        if (!by_stream && !by_shard) {
            continue;
        }
        bool keep[LH_MAX_SHARDS] = {0};
        for (uint32_t k = 0; k < p->nvalues; k++) {
            const lh_value *v = &p->values[k];
            if (v->is_null) {
                continue;
            }
            int sh =
                by_stream ? lh__shard_of(t, v->u.s.p, v->u.s.len) : (int)v->u.i;
            if (sh >= 0 && sh < t->nshards) {
                keep[sh] = true;
            }
        }
        for (int k = 0; k < t->nshards; k++) {
            want[k] = want[k] && keep[k];
        }
    }
}

/* Ends shard i's read transaction and gives its connection back to the
 * shard's pool (which closes it if the COMMIT failed). */
static void
unpin_shard(lh__hot_cut *c, int i)
{
    sqlite3 *conn = c->conns[i];
    if (conn == NULL) {
        return;
    }
    c->conns[i] = NULL;
    sqlite3_stmt *st = NULL;
    if (lh__reader_stmt(conn, "COMMIT", &st, NULL) == LH_OK) {
        sqlite3_step(st); /* a failure leaves the transaction: put closes */
        lh__reader_stmt_done(st);
    }
    lh__shard_reader_put(&c->es->t->shards[i], conn);
}

/* The shards the stream and shard predicates leave: more scans than
 * that would idle (the ts bounds are known only in the cut). */
static uint32_t
ev_parallelism(const lh_source *src, const lh_scan_request *req)
{
    const ev_source *es = src->ud;
    bool want[LH_MAX_SHARDS];
    prune_shards(es, req, want);
    uint32_t n = 0;
    for (int i = 0; i < es->t->nshards; i++) {
        n += want[i];
    }
    return n;
}

static lh_rc
cut_sql(sqlite3 *c, const char *sql, lh_err *err)
{
    sqlite3_stmt *st;
    lh_rc rc = lh__reader_stmt(c, sql, &st, err);
    if (rc != LH_OK) {
        return rc;
    }
    int r = sqlite3_step(st);
    lh__reader_stmt_done(st);
    return r == SQLITE_DONE ? LH_OK : lh__sqlite_err(c, r, "pin a shard", err);
}

/* Opens shard i's read transaction and reads its ts bounds in it (the
 * read is what pins the WAL snapshot; the index events_ts makes it two
 * b-tree descents). *empty when the shard has no rows. With stream (not
 * NULL), the same read says in *left whether that stream has a version
 * floor (stream_left, one statement fewer for a point lookup). */
static lh_rc
pin_shard(lh__hot_cut *c, int i, const lh_value *stream, bool *empty,
          bool *left, lh_err *err)
{
    lh_shard *sh = &c->es->t->shards[i];
    sqlite3 *conn = NULL;
    lh_rc rc = lh__shard_reader_get(sh, &conn, err);
    if (rc != LH_OK) {
        return rc;
    }
    rc = cut_sql(conn, "BEGIN", err);
    sqlite3_stmt *st = NULL;
    if (rc == LH_OK) {
        /* Two subqueries: SQLite answers a lone min() or max() from the
         * ts index in one descent, but both in one SELECT by reading the
         * whole index (a point lookup paid a pass over every shard). */
        rc = lh__reader_stmt(
            conn,
            stream ? "SELECT (SELECT min(ts) FROM events), (SELECT max(ts) "
                     "FROM events), EXISTS(SELECT 1 FROM streams WHERE "
                     "stream = ? AND version > 0)"
                   : "SELECT (SELECT min(ts) FROM events), "
                     "(SELECT max(ts) FROM events)",
            &st, err);
        if (rc == LH_OK && stream != NULL) {
            sqlite3_bind_text(st, 1, stream->u.s.p, (int)stream->u.s.len,
                              SQLITE_STATIC);
        }
        int r = rc == LH_OK ? sqlite3_step(st) : SQLITE_OK;
        if (r == SQLITE_ROW) {
            *empty = sqlite3_column_type(st, 0) == SQLITE_NULL;
            c->min_ts[i] = sqlite3_column_int64(st, 0);
            c->max_ts[i] = sqlite3_column_int64(st, 1);
            if (stream != NULL) {
                *left = *left || sqlite3_column_int(st, 2) != 0;
            }
        } else if (rc == LH_OK) {
            rc = lh__sqlite_err(conn, r, "read a shard's ts bounds", err);
        }
        lh__reader_stmt_done(st);
    }
    if (rc != LH_OK) {
        lh_err_prefix(err, "table \"%s\", shard %d", c->es->t->def->name, i);
        lh__shard_reader_put(sh, conn); /* in a transaction: closed */
        return rc;
    }
    c->conns[i] = conn;
    return LH_OK;
}

/* The request's predicate stream = x / IN (...), or NULL. */
static const lh_scan_pred *
stream_pred(const ev_source *es, const lh_scan_request *req)
{
    for (uint32_t i = 0; i < req->npreds; i++) {
        const lh_scan_pred *p = &req->preds[i];
        if (is_env(es, p->col, ENV_STREAM) && !p->is_null && !p->not_null &&
            (p->op == LH_OP_EQ || p->op == LH_OP_NONE) && p->nvalues > 0 &&
            p->values[0].type.id == LH_T_VARCHAR) {
            return p;
        }
    }
    return NULL;
}

/* Whether one of the streams of p has a version floor in shard i's pinned
 * view: some of its events left the shard. The flush writes the floor in
 * the transaction that deletes them, so without one every event of the
 * stream committed before the pin is in the view. */
static lh_rc
stream_left(lh__hot_cut *c, int i, const lh_scan_pred *p, bool *left,
            lh_err *err)
{
    sqlite3_stmt *st = NULL;
    lh_rc rc = lh__reader_stmt(c->conns[i],
                               "SELECT 1 FROM streams WHERE stream = ? AND "
                               "version > 0",
                               &st, err);
    if (rc != LH_OK) {
        return rc;
    }
    int r = SQLITE_OK;
    for (uint32_t k = 0; r == SQLITE_OK && !*left && k < p->nvalues; k++) {
        const lh_value *v = &p->values[k];
        if (v->is_null || v->type.id != LH_T_VARCHAR) {
            continue;
        }
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, v->u.s.p, (int)v->u.s.len, SQLITE_STATIC);
        r = sqlite3_step(st);
        *left = r == SQLITE_ROW;
        r = r == SQLITE_ROW || r == SQLITE_DONE ? SQLITE_OK : r;
    }
    rc = r == SQLITE_OK
             ? LH_OK
             : lh__sqlite_err(c->conns[i], r, "read a stream's floor", err);
    lh__reader_stmt_done(st);
    return rc;
}

lh_rc
lh__hot_cut_open(const lh_source *hot, const lh_scan_request *req,
                 lh__hot_cut **out, lh_err *err)
{
    const ev_source *es = hot->ud;
    int n = es->t->nshards;
    lh__hot_cut *c = lh_calloc(1, sizeof(lh__hot_cut));
    bool *want = lh_calloc((size_t)n, sizeof(bool));
    if (c == NULL || want == NULL ||
        (c->conns = lh_calloc((size_t)n, sizeof(sqlite3 *))) == NULL ||
        (c->marks = lh_calloc((size_t)n, sizeof(int64_t))) == NULL ||
        (c->min_ts = lh_calloc((size_t)n, sizeof(int64_t))) == NULL ||
        (c->max_ts = lh_calloc((size_t)n, sizeof(int64_t))) == NULL ||
        (c->by_bounds = lh_calloc((size_t)n, sizeof(bool))) == NULL) {
        lh_free(want);
        lh__hot_cut_close(c);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    c->es = es;
    c->nshards = n;
    atomic_store(&c->next_shard, 0);
    prune_shards(es, req, want);
    const lh_scan_pred *sp = stream_pred(es, req);
    c->needs_lake = sp == NULL;
    lh_rc rc = LH_OK;
    for (int i = 0; i < n && rc == LH_OK; i++) {
        if (!want[i]) {
            c->pruned++;
            continue;
        }
        bool empty = false;
        /* every shard the stream predicate leaves, before the bounds prune
         * it: its lake rows may be in range when its hot rows are not (one
         * stream: in the read that pins the shard) */
        const lh_value *one =
            !c->needs_lake && sp->nvalues == 1 && !sp->values[0].is_null
                ? &sp->values[0]
                : NULL;
        rc = pin_shard(c, i, one, &empty, &c->needs_lake, err);
        if (rc == LH_OK && !c->needs_lake && one == NULL) {
            rc = stream_left(c, i, sp, &c->needs_lake, err);
        }
        if (rc != LH_OK) {
            break;
        }
        /* Rows appended after the pin are not in the cut, so bounds read
         * in it hold for every row the scan could return. */
        bool miss = empty || (req->has_time && (c->max_ts[i] < req->ts_lo ||
                                                c->min_ts[i] > req->ts_hi));
        if (miss) {
            unpin_shard(c, i);
            c->by_bounds[i] = true;
            c->pruned++;
            c->pruned_by_bounds++;
        } else {
            c->pinned++;
        }
    }
    lh_free(want);
    if (rc != LH_OK) {
        lh__hot_cut_close(c);
        return rc;
    }
    *out = c;
    return LH_OK;
}

bool
lh__hot_cut_needs_lake(const lh__hot_cut *c)
{
    return c->needs_lake;
}

void
lh__hot_cut_limit(lh__hot_cut *c, const int64_t *marks)
{
    memcpy(c->marks, marks, (size_t)c->nshards * sizeof(int64_t));
}

void
lh__hot_cut_counts(const lh__hot_cut *c, uint64_t *pinned, uint64_t *pruned,
                   uint64_t *by_bounds)
{
    *pinned = c->pinned;
    *pruned = c->pruned;
    *by_bounds = c->pruned_by_bounds;
}

void
lh__hot_cut_close(lh__hot_cut *c)
{
    if (c == NULL) {
        return;
    }
    for (int i = 0; c->conns && i < c->nshards; i++) {
        unpin_shard(c, i);
    }
    lh_free(c->conns);
    lh_free(c->marks);
    lh_free(c->min_ts);
    lh_free(c->max_ts);
    lh_free(c->by_bounds);
    lh_free(c);
}

/* ---- scans ----------------------------------------------------------------
 */

static lh_rc
ev_share(const lh_source *src, const lh_scan_request *req, void **shared,
         lh_err *err)
{
    lh__hot_cut *c;
    lh_rc rc = lh__hot_cut_open(src, req, &c, err);
    *shared = rc == LH_OK ? c : NULL;
    return rc;
}

static void
ev_free_shared(void *shared)
{
    lh__hot_cut_close(shared);
}

/* The SQLite column a table column reads, into the select list. */
static void
select_item(const ev_source *es, uint32_t col, lh_buf *q)
{
    if (col < es->npayload) {
        lh_buf_printf(q, "c%d", (int)es->t->def->cols[col].field_id);
    } else if (is_env(es, col, ENV_SHARD)) {
        lh_buf_puts(q, "NULL"); /* filled in per shard */
    } else {
        lh_buf_puts(q, envelope[col - es->npayload].name);
    }
}

static const char *
op_text(uint8_t op)
{
    switch (op) {
    case LH_OP_EQ:
        return "=";
    case LH_OP_LT:
        return "<";
    case LH_OP_LE:
        return "<=";
    case LH_OP_GT:
        return ">";
    case LH_OP_GE:
        return ">=";
    default:
        return NULL;
    }
}

/* Whether the predicate goes into SQLite's WHERE (then its values are
 * bound in order). */
static bool
pred_pushed(const ev_source *es, const lh_scan_pred *p)
{
    if (p->is_null || p->not_null || p->col < es->npayload) {
        return false;
    }
    int env = (int)(p->col - es->npayload);
    for (uint32_t i = 0; i < p->nvalues; i++) {
        if (p->values[i].is_null) {
            return false;
        }
    }
    switch (env) {
    case ENV_STREAM:
    case ENV_TYPE:
        return p->nvalues >= 1 && (p->op == LH_OP_EQ || p->op == LH_OP_NONE) &&
               p->values[0].type.id == LH_T_VARCHAR;
    case ENV_POSITION: /* also IN: the rows a vector search picked */
        if (p->op == LH_OP_NONE) {
            return p->nvalues >= 1;
        }
        return p->nvalues == 1 && op_text(p->op) != NULL;
    case ENV_VERSION:
    case ENV_TS:
    case ENV_COMMITTED_AT:
        return p->nvalues == 1 && op_text(p->op) != NULL;
    default:
        return false;
    }
}

static lh_rc
build_sql(lh_source_scan *s, lh_err *err)
{
    const ev_source *es = s->es;
    lh_buf *q = &s->sql;
    lh_buf_puts(q, "SELECT ");
    for (uint32_t i = 0; i < s->req.ncols; i++) {
        if (i) {
            lh_buf_putc(q, ',');
        }
        select_item(es, s->req.cols[i], q);
    }
    if (s->req.ncols == 0) {
        lh_buf_puts(q, "1");
    }
    /* Events whose TTL ran out are invisible (the product clock, the first
     * value bound). Every value is bound, never printed, so that the text
     * stays the same from one query to the next and the connection keeps
     * it prepared (lh__reader_stmt). */
    lh_buf_puts(q, " FROM events WHERE (ttl_seconds IS NULL OR ts + "
                   "ttl_seconds * 1000000 > ?)");
    if (s->req.has_time) {
        lh_buf_puts(q, " AND ts >= ? AND ts <= ?");
    }
    /* the cut: positions above the lake's mark */
    lh_buf_puts(q, " AND position > ?");
    for (uint32_t i = 0; i < s->req.npreds; i++) {
        const lh_scan_pred *p = &s->req.preds[i];
        if (!pred_pushed(es, p)) {
            continue;
        }
        const char *name = envelope[p->col - es->npayload].name;
        if (p->op == LH_OP_NONE) {
            lh_buf_printf(q, " AND %s IN (", name);
            for (uint32_t k = 0; k < p->nvalues; k++) {
                lh_buf_puts(q, k ? ",?" : "?");
            }
            lh_buf_putc(q, ')');
        } else {
            lh_buf_printf(q, " AND %s %s ?", name, op_text(p->op));
        }
    }
    /* Commit order. One stream's events in a shard have versions in the
     * order of their positions (the shard's one writer gives each the
     * stream's version + 1 with the next position), so a lookup of one
     * stream reads them in the order of the index events_stream instead
     * of sorting (a temporary b-tree cost a point lookup a microsecond). */
    bool one_stream = false;
    for (uint32_t i = 0; i < s->req.npreds; i++) {
        const lh_scan_pred *p = &s->req.preds[i];
        one_stream = one_stream ||
                     (pred_pushed(es, p) && is_env(es, p->col, ENV_STREAM) &&
                      p->op == LH_OP_EQ && p->nvalues == 1);
    }
    lh_buf_puts(q, one_stream ? " ORDER BY version" : " ORDER BY position");
    if (!lh_buf_ok(q)) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    return LH_OK;
}

static void ev_close(lh_source_scan *s);

static lh_rc
ev_open(const lh_source *src, const lh_scan_request *req, void *shared,
        lh_source_scan **out, lh_err *err)
{
    ev_source *es = src->ud;
    lh_source_scan *s = lh_calloc(1, sizeof(lh_source_scan));
    if (s == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    s->es = es;
    s->req = *req;
    s->cut = shared;
    s->cur = -1;
    s->now = lh_now(); /* one clock for every shard of the scan */
    /* A top-N's scan (a bound to publish) wants whole batches: the router
     * weighs the lake's files against what the first hot batch brought. */
    s->cap = req->bound != NULL ? LH_BATCH_ROWS : HOT_FIRST_BATCH;
    s->sql = (lh_buf)LH_BUF_INIT;
    lh_arena_init(&s->arena, 0);
    s->vecs = lh_calloc(req->ncols ? req->ncols : 1, sizeof(lh_vector));
    lh_rc rc = s->vecs ? LH_OK : lh_err_set(err, LH_ENOMEM, "out of memory");
    if (rc == LH_OK && s->cut == NULL) {
        rc = lh__hot_cut_open(src, req, &s->own, err);
        s->cut = s->own;
    }
    if (rc == LH_OK) {
        rc = build_sql(s, err);
    }
    if (rc != LH_OK) {
        ev_close(s);
        return rc;
    }
    *out = s;
    return LH_OK;
}

/* Done with the shard: its statement, and its read transaction. */
static void
close_shard(lh_source_scan *s)
{
    lh__reader_stmt_done(s->st);
    s->st = NULL;
    if (s->cur >= 0) {
        unpin_shard(s->cut, s->cur);
    }
    s->cur = -1;
}

/* Takes the next pinned shard to read; false at the end. */
static bool
take_shard(lh_source_scan *s, int *out)
{
    lh__hot_cut *c = s->cut;
    for (;;) {
        int i = atomic_fetch_add(&c->next_shard, 1);
        if (i >= c->nshards) {
            return false;
        }
        /* each index is taken once: a closed one was never pinned */
        s->stats.shards++;
        if (c->conns[i] == NULL) {
            s->stats.shards_pruned++;
        } else {
            *out = i;
            return true;
        }
    }
}

static lh_rc
bind_pred_value(sqlite3_stmt *st, int idx, const lh_value *v)
{
    int rc;
    if (v->type.id == LH_T_VARCHAR) {
        rc = sqlite3_bind_text(st, idx, v->u.s.p, (int)v->u.s.len,
                               SQLITE_TRANSIENT);
    } else {
        rc = sqlite3_bind_int64(st, idx, v->u.i);
    }
    return rc == SQLITE_OK ? LH_OK : LH_EINTERNAL;
}

static lh_rc
open_shard(lh_source_scan *s, int shard, lh_err *err)
{
    sqlite3 *conn = s->cut->conns[shard];
    s->cur = shard;
    lh_rc rc = lh__reader_stmt(conn, s->sql.data, &s->st, err);
    if (rc != LH_OK) {
        lh_err_prefix(err, "the scan");
        close_shard(s);
        return rc;
    }
    /* in build_sql's order */
    int idx = 1;
    bool ok = sqlite3_bind_int64(s->st, idx++, s->now) == SQLITE_OK;
    if (s->req.has_time) {
        ok = ok && sqlite3_bind_int64(s->st, idx++, s->req.ts_lo) == SQLITE_OK;
        ok = ok && sqlite3_bind_int64(s->st, idx++, s->req.ts_hi) == SQLITE_OK;
    }
    ok = ok &&
         sqlite3_bind_int64(s->st, idx++, s->cut->marks[shard]) == SQLITE_OK;
    for (uint32_t i = 0; ok && i < s->req.npreds; i++) {
        const lh_scan_pred *p = &s->req.preds[i];
        if (!pred_pushed(s->es, p)) {
            continue;
        }
        for (uint32_t k = 0; k < (p->op == LH_OP_NONE ? p->nvalues : 1); k++) {
            ok = ok && bind_pred_value(s->st, idx++, &p->values[k]) == LH_OK;
        }
    }
    if (!ok) {
        close_shard(s);
        return lh_err_set(err, LH_EINTERNAL, "could not bind a scan predicate");
    }
    return LH_OK;
}

/* A batch of s->cap rows. */
static lh_rc
new_batch(lh_source_scan *s, lh_batch *out, lh_err *err)
{
    lh_arena_reset(&s->arena);
    for (uint32_t c = 0; c < s->req.ncols; c++) {
        const lh_sql_column *col = &s->es->cols[s->req.cols[c]];
        lh_rc rc = lh_vector_alloc(&s->vecs[c], col->type, s->cap, true,
                                   &s->arena, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    *out = (lh_batch){.count = 0, .ncols = s->req.ncols, .cols = s->vecs};
    return LH_OK;
}

static lh_rc
read_row(lh_source_scan *s, uint32_t row, lh_err *err)
{
    const ev_source *es = s->es;
    for (uint32_t c = 0; c < s->req.ncols; c++) {
        uint32_t col = s->req.cols[c];
        lh_value v;
        if (is_env(es, col, ENV_SHARD)) {
            v = (lh_value){.type = lh_sql_type(LH_T_INTEGER)};
            v.u.i = s->cur;
        } else if (lh__column_value(s->st, (int)c, es->cols[col].type, &v) !=
                   LH_OK) {
            return lh_err_set(err, LH_ECORRUPT,
                              "shard %d of table \"%s\": column \"%s\" holds "
                              "a damaged value",
                              s->cur, es->t->def->name, es->cols[col].name);
        }
        lh_rc rc = lh__vec_set(&s->arena, &s->vecs[c], row, &v, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

static lh_rc
ev_next(lh_source_scan *s, lh_batch *out, lh_err *err)
{
    lh_rc rc = new_batch(s, out, err);
    if (rc != LH_OK) {
        return rc;
    }
    uint32_t n = 0;
    while (n < s->cap) {
        if (s->cur < 0) {
            int shard;
            if (!take_shard(s, &shard)) {
                break;
            }
            rc = open_shard(s, shard, err);
            if (rc != LH_OK) {
                return rc;
            }
        }
        int src = sqlite3_step(s->st);
        if (src == SQLITE_ROW) {
            rc = read_row(s, n, err);
            if (rc != LH_OK) {
                return rc;
            }
            n++;
            continue;
        }
        if (src != SQLITE_DONE) {
            rc =
                lh__sqlite_err(s->cut->conns[s->cur], src, "scan a shard", err);
            lh_err_prefix(err, "table \"%s\", shard %d", s->es->t->def->name,
                          s->cur);
            return rc;
        }
        close_shard(s);
    }
    out->count = n;
    s->stats.rows += n;
    if (n == s->cap) {
        s->cap = LH_MIN(s->cap * 2, LH_BATCH_ROWS);
    }
    return LH_OK;
}

static void
ev_stats(const lh_source_scan *s, lh_scan_stats *out)
{
    *out = s->stats;
}

static void
ev_close(lh_source_scan *s)
{
    if (s == NULL) {
        return;
    }
    if (s->cut) {
        close_shard(s);
    }
    lh__hot_cut_close(s->own);
    lh_buf_release(&s->sql);
    lh_arena_release(&s->arena);
    lh_free(s->vecs);
    lh_free(s);
}

static void
ev_describe(const lh_source *src, lh_buf *out)
{
    const ev_source *es = src->ud;
    lh_buf_printf(out, "hot tier, %d shard%s", es->t->nshards,
                  es->t->nshards == 1 ? "" : "s");
}

static const lh_source_vt ev_vt = {
    .name = "events",
    .share = ev_share,
    .free_shared = ev_free_shared,
    .parallelism = ev_parallelism,
    .open = ev_open,
    .next = ev_next,
    .stats = ev_stats,
    .close = ev_close,
    .describe = ev_describe,
    .knn = lh__hot_knn, /* hot_knn.c */
};

void
lh__event_source_info(const lh_source *src, lh_table **t, lh__event_cols *cols)
{
    const ev_source *es = src->ud;
    *t = es->t;
    cols->cols = es->cols;
    cols->shard = es->npayload + ENV_SHARD;
    cols->position = es->npayload + ENV_POSITION;
    cols->embedding = es->npayload + ENV_EMBEDDING;
}

/* ---- the catalog's entry ---------------------------------------------------
 */

lh_rc
lh__hot_source_new(lh_table *t, lh_source **out, lh_err *err)
{
    const lh_tabledef *d = t->def;
    ev_source *es = lh_calloc(1, sizeof(ev_source));
    /* the embedding column only where the table declares one */
    uint32_t nenv = d->embedding_dim > 0 ? NENV : NENV - 1;
    uint32_t n = (uint32_t)d->ncols + nenv;
    lh_sql_column *cols = lh_calloc(n, sizeof(lh_sql_column));
    if (es == NULL || cols == NULL) {
        lh_free(es);
        lh_free(cols);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    es->t = t;
    es->npayload = (uint32_t)d->ncols;
    es->cols = cols;
    es->ncols = n;
    for (size_t i = 0; i < d->ncols; i++) {
        cols[i].name = d->cols[i].name;
        cols[i].type = d->cols[i].type;
        cols[i].nullable = d->cols[i].nullable;
    }
    for (uint32_t k = 0; k < nenv; k++) {
        lh_sql_column *c = &cols[d->ncols + (size_t)k];
        c->name = envelope[k].name;
        c->type = lh_sql_type(envelope[k].type);
        if (k == ENV_EMBEDDING) {
            c->type.dim = (uint32_t)d->embedding_dim;
        }
        c->nullable = envelope[k].nullable;
        c->hidden = true;
    }
    es->src.vt = &ev_vt;
    es->src.ud = es;
    *out = &es->src;
    return LH_OK;
}

void
lh__hot_source_free(lh_source *src)
{
    ev_source_free(src ? src->ud : NULL);
}

const lh_sql_column *
lh__hot_source_columns(const lh_source *src, uint32_t *ncols,
                       uint32_t *npayload)
{
    const ev_source *es = src->ud;
    *ncols = es->ncols;
    *npayload = es->npayload;
    return es->cols;
}

lh_rc
lh__event_table_names(lh_db *db, lh_arena *a, const char ***out, uint32_t *n)
{
    *out = NULL;
    *n = 0;
    if (db == NULL) {
        return LH_OK;
    }
    pthread_mutex_lock(&db->mu);
    const char **names =
        lh_arena_alloc(a, (db->tables.count + 1) * sizeof(char *));
    if (names == NULL) {
        pthread_mutex_unlock(&db->mu);
        return LH_ENOMEM;
    }
    size_t it = 0;
    const void *key;
    size_t kl;
    void *v;
    uint32_t k = 0;
    while (lh_map_next(&db->tables, &it, &key, &kl, &v)) {
        names[k++] = lh_arena_strdup(a, ((lh_table *)v)->def->name);
        if (names[k - 1] == NULL) {
            pthread_mutex_unlock(&db->mu);
            return LH_ENOMEM;
        }
    }
    pthread_mutex_unlock(&db->mu);
    *out = names;
    *n = k;
    return LH_OK;
}

/* ---- INSERT: appends ----------------------------------------------------- */

#define INSERT_CHUNK 1024

typedef struct ins_chunk {
    lh_event_in evs[INSERT_CHUNK];
    lh_event_ack acks[INSERT_CHUNK];
    lh_cell *cells; /* INSERT_CHUNK * npayload */
    size_t n;
    lh_arena arena; /* texts made for this chunk */
} ins_chunk;

static const char *
text_of(lh_arena *a, const lh_value *v, bool iso)
{
    lh_buf b = LH_BUF_INIT;
    lh_value_to_text(v, &b);
    if (iso && b.data) {
        for (size_t i = 0; i < b.len; i++) {
            if (b.data[i] == ' ') {
                b.data[i] = 'T';
                break;
            }
        }
        lh_buf_putc(&b, 'Z');
    }
    const char *s =
        lh_buf_ok(&b) ? lh_arena_strndup(a, b.data ? b.data : "", b.len) : NULL;
    lh_buf_release(&b);
    return s;
}

static lh_rc
to_cell(lh_arena *a, const lh_value *v, lh_cell *c, lh_err *err)
{
    memset(c, 0, sizeof *c);
    if (v->is_null) {
        c->kind = LH_CELL_NULL;
        return LH_OK;
    }
    switch ((lh_type_id)v->type.id) {
    case LH_T_BOOLEAN:
        c->kind = LH_CELL_BOOL;
        c->u.b = v->u.b;
        return LH_OK;
    case LH_T_SMALLINT:
    case LH_T_INTEGER:
    case LH_T_BIGINT:
    case LH_T_DATE:
    case LH_T_TIME:
    case LH_T_TIMESTAMP:
    case LH_T_TIMESTAMPTZ:
        c->kind = LH_CELL_INT;
        c->u.i = v->u.i;
        return LH_OK;
    case LH_T_REAL:
    case LH_T_DOUBLE:
        c->kind = LH_CELL_DOUBLE;
        c->u.d = v->u.d;
        return LH_OK;
    case LH_T_VARCHAR:
    case LH_T_JSON:
        c->kind = LH_CELL_TEXT;
        c->u.s.p = v->u.s.p;
        c->u.s.len = v->u.s.len;
        return LH_OK;
    case LH_T_BLOB:
        c->kind = LH_CELL_BYTES;
        c->u.s.p = v->u.s.p;
        c->u.s.len = v->u.s.len;
        return LH_OK;
    case LH_T_UUID: {
        uint8_t *p = lh_arena_alloc(a, 16);
        if (p == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        memcpy(p, v->u.uuid.b, 16);
        c->kind = LH_CELL_BYTES;
        c->u.s.p = p;
        c->u.s.len = 16;
        return LH_OK;
    }
    default: {
        const char *s = text_of(a, v, false);
        if (s == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        c->kind = LH_CELL_TEXT;
        c->u.s.p = s;
        c->u.s.len = strlen(s);
        return LH_OK;
    }
    }
}

static lh_rc
flush_chunk(lh_db *db, const char *table, ins_chunk *ch, int64_t *count,
            lh_err *err)
{
    if (ch->n == 0) {
        return LH_OK;
    }
    lh_rc rc = lh_append(db, table, ch->evs, ch->n, NULL, ch->acks, err);
    if (rc == LH_OK) {
        *count += (int64_t)ch->n;
    }
    ch->n = 0;
    lh_arena_reset(&ch->arena);
    return rc;
}

/* One row of the batch into the chunk's next event. */
static lh_rc
add_row(const lh_sql_table *t, uint32_t npayload, uint32_t nsrc,
        const lh_batch *b, uint32_t r, ins_chunk *ch, lh_err *err)
{
    lh_event_in *ev = &ch->evs[ch->n];
    lh_cell *cells = ch->cells + ch->n * (npayload ? npayload : 1);
    memset(ev, 0, sizeof *ev);
    for (uint32_t c = 0; c < npayload; c++) {
        lh_value v;
        lh__vec_get(&b->cols[c], r, &v);
        lh_rc rc = to_cell(&ch->arena, &v, &cells[c], err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    ev->cells = cells;
    ev->ncells = npayload;
    for (int k = 0; k < (int)(nsrc - npayload); k++) {
        lh_value v;
        lh__vec_get(&b->cols[npayload + (uint32_t)k], r, &v);
        if (v.is_null) {
            continue;
        }
        switch (k) {
        case ENV_EVENT_ID:
        case ENV_TS:
            ev->event_id = k == ENV_EVENT_ID ? text_of(&ch->arena, &v, false)
                                             : ev->event_id;
            if (k == ENV_TS) {
                ev->ts = text_of(&ch->arena, &v, true);
            }
            break;
        case ENV_STREAM:
        case ENV_TYPE:
        case ENV_PARTITION_KEY:
        case ENV_TIER_HINT: {
            const char *s = lh_arena_strndup(&ch->arena, v.u.s.p, v.u.s.len);
            if (k == ENV_STREAM) {
                ev->stream = s;
            } else if (k == ENV_TYPE) {
                ev->type = s;
            } else if (k == ENV_PARTITION_KEY) {
                ev->partition_key = s;
            } else {
                ev->tier_hint = s;
            }
            break;
        }
        case ENV_TTL_SECONDS:
            ev->ttl_seconds = v.u.i;
            break;
        case ENV_EMBEDDING: {
            float *e = lh_arena_alloc(&ch->arena, v.u.vec.n * sizeof(float));
            if (e == NULL) {
                return lh_err_set(err, LH_ENOMEM, "out of memory");
            }
            memcpy(e, v.u.vec.v, v.u.vec.n * sizeof(float));
            ev->embedding = e;
            ev->embedding_len = v.u.vec.n;
            break;
        }
        default:
            return lh_err_set(err, LH_EINVAL,
                              "cannot insert into column \"%s\" of event "
                              "table \"%s\": the hot tier assigns it",
                              envelope[k].name, t->name);
        }
    }
    if (ev->event_id == NULL) {
        /* a new UUIDv7, which is also the stream when none is given */
        lh_uuid u;
        lh_rc rc = lh_uuid_v7(&u, lh_now() / 1000, err);
        char *id = lh_arena_alloc(&ch->arena, LH_UUID_STRLEN + 1);
        if (rc != LH_OK) {
            return rc;
        }
        if (id == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        lh_uuid_format(&u, id);
        ev->event_id = id;
    }
    if (ev->stream == NULL) {
        ev->stream = ev->event_id;
    }
    if (ev->type == NULL) {
        ev->type = t->name;
    }
    ev->expect = LH_EXPECT_ANY;
    ch->n++;
    return LH_OK;
}

lh_rc
lh__event_insert(lh_db *db, const lh_sql_table *t, const lh_source *rows,
                 uint32_t nsrc, int64_t *count, lh_err *err)
{
    *count = 0;
    lh_table *tab = NULL;
    if (db == NULL || t->kind != LH_SQL_TABLE_EVENT ||
        lh__db_table(db, t->name, &tab, NULL) != LH_OK) {
        return lh_err_set(err, LH_EINTERNAL, "not an event table");
    }
    uint32_t npayload = (uint32_t)tab->def->ncols;
    if (nsrc < npayload || nsrc > t->ncols) {
        return lh_err_set(err, LH_EINTERNAL, "insert: %u columns for %u", nsrc,
                          t->ncols);
    }
    uint32_t *cols = lh_calloc(nsrc, sizeof(uint32_t));
    ins_chunk *ch = lh_calloc(1, sizeof(ins_chunk));
    if (cols == NULL || ch == NULL ||
        (ch->cells = lh_calloc((size_t)INSERT_CHUNK * (npayload ? npayload : 1),
                               sizeof(lh_cell))) == NULL) {
        lh_free(cols);
        lh_free(ch);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_arena_init(&ch->arena, 0);
    for (uint32_t i = 0; i < nsrc; i++) {
        cols[i] = i;
    }
    lh_scan_request req = {.cols = cols, .ncols = nsrc};
    lh_source_scan *s = NULL;
    lh_rc rc = rows->vt->open(rows, &req, NULL, &s, err);
    while (rc == LH_OK) {
        lh_batch b;
        rc = rows->vt->next(s, &b, err);
        if (rc != LH_OK || b.count == 0) {
            break;
        }
        for (uint32_t i = 0; i < (b.sel ? b.nsel : b.count) && rc == LH_OK;
             i++) {
            rc = add_row(t, npayload, nsrc, &b, b.sel ? b.sel[i] : i, ch, err);
            if (rc == LH_OK && ch->n == INSERT_CHUNK) {
                rc = flush_chunk(db, t->name, ch, count, err);
            }
        }
    }
    if (rc == LH_OK) {
        rc = flush_chunk(db, t->name, ch, count, err);
    }
    if (s) {
        rows->vt->close(s);
    }
    lh_arena_release(&ch->arena);
    lh_free(ch->cells);
    lh_free(ch);
    lh_free(cols);
    return rc;
}
