/*
 * The tier router: an event table as one source over every tier
 * (docs/internals/router.md is the design).
 *
 * A scan of an event table is the union of
 *   - the hot scan of the shards (exec/hot_src.c), restricted to each
 *     shard's positions above its mark in the lake snapshot read, and
 *   - the lake scan of that snapshot of the table's Iceberg table
 *     (exec/iceberg_src.c), columns found by field id,
 * taken as one consistent cut (rt_cut below): every shard's read
 * transaction is opened before the lake's current metadata is read. The
 * pipeline deletes a shard's rows only after a snapshot whose mark covers
 * them committed (pipeline_int.h, "THE MARKS"), so the pinned shards hold
 * every row above any mark read later, and the rows at or below it, which
 * a flush may not have deleted yet, are the snapshot's: each event counts
 * once, whatever flushes and compactions commit during the read.
 *
 * Pruning: the hot cut skips shards by the stream and shard predicates and
 * by each shard's min and max ts against the request's ts range; the lake
 * scan plans files with the request's predicates (manifests pruned by the
 * manifest list's partition summaries, files by partition values and
 * column bounds, then row groups by the Parquet reader).
 *
 * Parallel scans share one cut: shards, then lake files, are the morsels.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "exec/exec_int.h"
#include "exec/sources.h"
#include "pipeline/pipeline_int.h"
#include "router/router_int.h"

typedef struct rt_source {
    lh_source src;
    lh_table *t; /* owned by the db */
    lh_source *hot;
    const lh_sql_column *cols; /* the hot source's */
    uint32_t ncols;
    int32_t *fids; /* per column: its field id in the lake */
} rt_source;

/* One consistent cut of every tier. */
typedef struct rt_cut {
    /* What the tiers' scans get. hot_req: the scan's request, with FOR
     * SYSTEM_TIME AS OF one more predicate (committed_at <= as_of, exact
     * in the shards' SQL, which also hides expired events itself).
     * lake_req: the same, and after the scan's columns those the lake's
     * rows are checked on here and not returned: committed_at (travel),
     * ts and ttl_seconds (an event whose TTL ran out is invisible at once,
     * before retention takes it out of the files). */
    lh_scan_request hot_req, lake_req;
    uint32_t ncols_out;
    bool travel;
    lh_value as_of;
    lh_us now;
    uint32_t ca_slot, ts_slot, ttl_slot;
    uint32_t *cols;
    lh_scan_pred *preds;
    lh__hot_cut *hot;
    lh__lake *lake; /* its marks are those of the snapshot */
    bool has_snapshot;
    int64_t snapshot_id;
    lh_source *ice; /* over the snapshot; NULL without one */
    void *ice_shared;
} rt_cut;

struct lh_source_scan {
    const rt_source *rs;
    rt_cut *cut, *own; /* own: made by open, for a scan alone */
    lh_source_scan *hot, *lake;
    lh_scan_stats done;          /* of the tiers' scans already closed */
    uint32_t sel[LH_BATCH_ROWS]; /* the lake rows lake_filter keeps */
};

/* The lake's field id of each envelope column (pipeline_int.h). */
static const struct {
    const char *name;
    int32_t id;
} envelope_ids[] = {
    {"event_id", LH__F_EVENT_ID},
    {"stream", LH__F_STREAM},
    {"version", LH__F_VERSION},
    {"type", LH__F_TYPE},
    {"ts", LH__F_TS},
    {"committed_at", LH__F_COMMITTED_AT},
    {"shard", LH__F_SHARD},
    {"position", LH__F_POSITION},
    {"partition_key", LH__F_PARTITION_KEY},
    {"schema_version", LH__F_SCHEMA_VERSION},
    {"tier_hint", LH__F_TIER_HINT},
    {"ttl_seconds", LH__F_TTL_SECONDS},
    {"embedding", LH__F_EMBEDDING},
};

/* ---- the cut ---------------------------------------------------------------
 */

static void
cut_free(rt_cut *c)
{
    if (c == NULL) {
        return;
    }
    if (c->ice_shared) {
        c->ice->vt->free_shared(c->ice_shared);
    }
    lh__iceberg_source_free(c->ice); /* borrows the lake's table */
    lh__lake_close(c->lake);
    lh__hot_cut_close(c->hot);
    lh_free(c->cols);
    lh_free(c->preds);
    lh_free(c);
}

static int32_t
column_index(const rt_source *rs, const char *name)
{
    for (uint32_t i = 0; i < rs->ncols; i++) {
        if (rs->cols[i].hidden && strcmp(rs->cols[i].name, name) == 0) {
            return (int32_t)i;
        }
    }
    return -1;
}

/* FOR SYSTEM_TIME AS OF t: the events whose append committed at or before
 * t, which are the rows of today's cut with committed_at <= t (no tier
 * drops an event; compaction rewrites the same rows). Unlike the lake's
 * snapshot as of t, this still works once that snapshot expired. */
static lh_rc
travel_point(const rt_source *rs, const lh_scan_request *req, int64_t *us,
             lh_err *err)
{
    const char *name = rs->t->def->name;
    if (req->travel != LH_TT_SYSTEM_TIME) {
        return lh_err_set(err, LH_EUNSUPPORTED,
                          "unsupported: FOR VERSION AS OF on event table "
                          "\"%s\" (use FOR SYSTEM_TIME AS OF a timestamp)",
                          name);
    }
    const lh_value *v = &req->travel_value;
    if (!v->is_null &&
        (v->type.id == LH_T_TIMESTAMP || v->type.id == LH_T_TIMESTAMPTZ)) {
        *us = v->u.i;
    } else if (!v->is_null && v->type.id == LH_T_DATE) {
        *us = v->u.i * INT64_C(86400000000);
    } else {
        return lh_err_set(err, LH_EINVAL,
                          "FOR SYSTEM_TIME AS OF on event table \"%s\" takes "
                          "a timestamp",
                          name);
    }
    return LH_OK;
}

/* The requests of both tiers (rt_cut). */
static lh_rc
tier_requests(const rt_source *rs, const lh_scan_request *req, rt_cut *c,
              lh_err *err)
{
    c->ncols_out = req->ncols;
    c->now = lh_now();
    int64_t us = 0;
    c->travel = req->travel != 0;
    lh_rc rc = c->travel ? travel_point(rs, req, &us, err) : LH_OK;
    if (rc != LH_OK) {
        return rc;
    }
    int32_t ca = column_index(rs, "committed_at");
    int32_t ts = column_index(rs, "ts");
    int32_t ttl = column_index(rs, "ttl_seconds");
    c->cols = lh_calloc(req->ncols + 3, sizeof(uint32_t));
    c->preds = lh_calloc(req->npreds + 1, sizeof(lh_scan_pred));
    if (ca < 0 || ts < 0 || ttl < 0 || c->cols == NULL || c->preds == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    uint32_t k = 0, np = 0;
    for (; k < req->ncols; k++) {
        c->cols[k] = req->cols[k];
    }
    for (; np < req->npreds; np++) {
        c->preds[np] = req->preds[np];
    }
    if (c->travel) {
        c->as_of = (lh_value){.type = lh_sql_type(LH_T_TIMESTAMP)};
        c->as_of.u.i = us;
        c->preds[np++] = (lh_scan_pred){.col = (uint32_t)ca,
                                        .op = LH_OP_LE,
                                        .values = &c->as_of,
                                        .nvalues = 1};
        c->ca_slot = k;
        c->cols[k++] = (uint32_t)ca;
    }
    c->ts_slot = k;
    c->cols[k++] = (uint32_t)ts;
    c->ttl_slot = k;
    c->cols[k++] = (uint32_t)ttl;
    c->hot_req = *req;
    c->hot_req.travel = 0;
    c->hot_req.preds = c->preds;
    c->hot_req.npreds = np;
    c->lake_req = c->hot_req;
    c->lake_req.cols = c->cols;
    c->lake_req.ncols = k;
    return LH_OK;
}

static lh_rc
cut_open(const rt_source *rs, const lh_scan_request *req, rt_cut **out,
         lh_err *err)
{
    rt_cut *c = lh_calloc(1, sizeof(rt_cut));
    if (c == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = tier_requests(rs, req, c, err);
    /* The order is the argument: the shards first, then the lake. */
    if (rc == LH_OK) {
        rc = lh__hot_cut_open(rs->hot, &c->hot_req, &c->hot, err);
    }
    if (rc == LH_OK && lh__hot_cut_needs_lake(c->hot)) {
        rc = lh__lake_open(rs->t, &c->lake, err);
        if (rc == LH_EUNSUPPORTED) {
            /* a column the lake cannot hold: the table never flushes, its
             * events are all hot */
            rc = LH_OK;
        }
    }
    if (rc == LH_OK && c->lake != NULL) {
        lh__hot_cut_limit(c->hot, c->lake->marks);
        const lh_ice_snapshot *snap =
            c->lake->ice
                ? lh_ice_meta_current_snapshot(lh_ice_table_meta(c->lake->ice))
                : NULL;
        if (snap != NULL) {
            c->has_snapshot = true;
            c->snapshot_id = snap->snapshot_id;
            /* the handle's metadata stays the one read: its current
             * snapshot is this one, read with the current schema */
            rc = lh__iceberg_source_new(c->lake->ice, false, 0, rs->cols,
                                        rs->fids, rs->ncols, &c->ice, err);
            if (rc == LH_OK) {
                rc = c->ice->vt->share(c->ice, &c->lake_req, &c->ice_shared,
                                       err);
            }
        }
    }
    if (rc != LH_OK) {
        lh_err_prefix(err, "table \"%s\"", rs->t->def->name);
        cut_free(c);
        return rc;
    }
    *out = c;
    return LH_OK;
}

/* ---- scans ----------------------------------------------------------------
 */

static lh_rc
rt_share(const lh_source *src, const lh_scan_request *req, void **shared,
         lh_err *err)
{
    rt_cut *c = NULL;
    lh_rc rc = cut_open(src->ud, req, &c, err);
    *shared = c;
    return rc;
}

static void
rt_free_shared(void *shared)
{
    cut_free(shared);
}

/* Whether the table may have a lake: its Iceberg folder in the data
 * directory's lake exists, or the policy names another store (not looked
 * at: a guess is enough here). */
static bool
may_have_lake(const rt_source *rs)
{
    if (rs->t->def->policy.lake != NULL) {
        return true;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/lake/%s/metadata", rs->t->db->dir,
             rs->t->def->name);
    struct stat st;
    return stat(path, &st) == 0;
}

/* The hot shards the predicates leave, and the lake's files (their count
 * is known only once planned: counted as one scan's worth more), so a
 * lookup of one hot stream in a table that never flushed starts no
 * worker threads. */
static uint32_t
rt_parallelism(const lh_source *src, const lh_scan_request *req)
{
    const rt_source *rs = src->ud;
    return rs->hot->vt->parallelism(rs->hot, req) + (may_have_lake(rs) ? 1 : 0);
}

static void
add_stats(lh_scan_stats *to, const lh_scan_stats *a)
{
    to->files += a->files;
    to->files_pruned += a->files_pruned;
    to->row_groups += a->row_groups;
    to->row_groups_pruned += a->row_groups_pruned;
    to->pages += a->pages;
    to->pages_pruned += a->pages_pruned;
    to->shards += a->shards;
    to->shards_pruned += a->shards_pruned;
    to->bytes_read += a->bytes_read;
    to->rows += a->rows;
}

/* Closes one tier's scan, keeping its counters. */
static void
close_tier(lh_source_scan *s, const lh_source *src, lh_source_scan **tier)
{
    if (*tier == NULL) {
        return;
    }
    lh_scan_stats st = {0};
    if (src->vt->stats) {
        src->vt->stats(*tier, &st);
    }
    add_stats(&s->done, &st);
    src->vt->close(*tier);
    *tier = NULL;
}

static void
rt_close(lh_source_scan *s)
{
    if (s == NULL) {
        return;
    }
    close_tier(s, s->rs->hot, &s->hot);
    if (s->cut) {
        close_tier(s, s->cut->ice, &s->lake);
    }
    cut_free(s->own);
    lh_free(s);
}

static lh_rc
rt_open(const lh_source *src, const lh_scan_request *req, void *shared,
        lh_source_scan **out, lh_err *err)
{
    const rt_source *rs = src->ud;
    lh_source_scan *s = lh_calloc(1, sizeof(lh_source_scan));
    if (s == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    s->rs = rs;
    s->cut = shared;
    lh_rc rc = LH_OK;
    if (s->cut == NULL) {
        rc = cut_open(rs, req, &s->own, err);
        s->cut = s->own;
    }
    if (rc == LH_OK) {
        rc = rs->hot->vt->open(rs->hot, &s->cut->hot_req, s->cut->hot, &s->hot,
                               err);
    }
    if (rc == LH_OK && s->cut->ice != NULL) {
        rc = s->cut->ice->vt->open(s->cut->ice, &s->cut->lake_req,
                                   s->cut->ice_shared, &s->lake, err);
    }
    if (rc != LH_OK) {
        rt_close(s);
        return rc;
    }
    *out = s;
    return LH_OK;
}

/* Whether a row of b (its selection) has a value in v. */
static bool
any_valid(const lh_vector *v, const lh_batch *b)
{
    if (v->kind == LH_VEC_CONSTANT || v->validity == NULL) {
        return lh_vec_valid(v, 0);
    }
    uint32_t n = b->sel ? b->nsel : b->count;
    for (uint32_t i = 0; i < n; i++) {
        if (lh_vec_valid(v, b->sel ? b->sel[i] : i)) {
            return true;
        }
    }
    return false;
}

/* Leaves out of b's selection the lake rows committed after the travel
 * point and those whose TTL ran out; false when none is left. */
static bool
lake_filter(lh_source_scan *s, lh_batch *b)
{
    const rt_cut *c = s->cut;
    const lh_vector *ttl = &b->cols[c->ttl_slot];
    bool ttls = any_valid(ttl, b);
    if (!c->travel && !ttls) {
        return true; /* the common case: nothing to check */
    }
    uint32_t n = b->sel ? b->nsel : b->count, k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t row = b->sel ? b->sel[i] : i;
        lh_value v;
        if (c->travel) {
            lh__vec_get(&b->cols[c->ca_slot], row, &v);
            if (v.is_null || v.u.i > c->as_of.u.i) {
                continue;
            }
        }
        if (ttls) {
            lh__vec_get(ttl, row, &v);
            lh_value t;
            lh__vec_get(&b->cols[c->ts_slot], row, &t);
            if (!v.is_null && !t.is_null &&
                lh__ttl_expired(t.u.i, v.u.i, c->now)) {
                continue;
            }
        }
        s->sel[k++] = row;
    }
    b->sel = s->sel;
    b->nsel = k;
    return k > 0;
}

/* The hot tier's rows, then the lake's. */
static lh_rc
rt_next(lh_source_scan *s, lh_batch *out, lh_err *err)
{
    lh_rc rc = LH_OK;
    if (s->hot != NULL) {
        rc = s->rs->hot->vt->next(s->hot, out, err);
        if (rc != LH_OK || out->count > 0) {
            return rc; /* the shards' SQL did the filtering */
        }
        close_tier(s, s->rs->hot, &s->hot);
    }
    while (s->lake != NULL) {
        rc = s->cut->ice->vt->next(s->lake, out, err);
        if (rc != LH_OK) {
            return rc;
        }
        if (out->count == 0) {
            close_tier(s, s->cut->ice, &s->lake);
            break;
        }
        if (lake_filter(s, out)) {
            out->ncols = s->cut->ncols_out;
            return LH_OK;
        }
    }
    memset(out, 0, sizeof *out);
    return LH_OK;
}

static void
rt_stats(const lh_source_scan *s, lh_scan_stats *out)
{
    *out = s->done;
    lh_scan_stats st;
    if (s->hot && s->rs->hot->vt->stats) {
        s->rs->hot->vt->stats(s->hot, &st);
        add_stats(out, &st);
    }
    if (s->lake && s->cut->ice->vt->stats) {
        s->cut->ice->vt->stats(s->lake, &st);
        add_stats(out, &st);
    }
}

static void
rt_describe(const lh_source *src, lh_buf *out)
{
    const rt_source *rs = src->ud;
    lh_buf_printf(out, "hot tier, %d shard%s, and the lake", rs->t->nshards,
                  rs->t->nshards == 1 ? "" : "s");
}

/* EXPLAIN: the tiers a scan of this request reads and what it prunes,
 * from a cut taken for the purpose (nothing is read but the shards' ts
 * bounds, the lake's metadata and the manifests not pruned). */
static void
rt_explain(const lh_source *src, const lh_scan_request *req, lh_buf *out)
{
    const rt_source *rs = src->ud;
    rt_cut *c = NULL;
    lh_err err;
    if (cut_open(rs, req, &c, &err) != LH_OK) {
        lh_buf_printf(out, "cannot plan the tiers: %s", err.msg);
        return;
    }
    uint64_t pinned, pruned, by_bounds, fpruned = 0;
    uint32_t files = 0, manifests = 0, mpruned = 0;
    lh__hot_cut_counts(c->hot, &pinned, &pruned, &by_bounds);
    if (c->ice_shared != NULL) {
        lh__iceberg_shared_stats(c->ice_shared, &files, &fpruned, &manifests,
                                 &mpruned);
    }
    lh_buf_puts(out, "tiers: ");
    lh_buf_puts(out, pinned && files ? "hot + lake"
                     : pinned        ? "hot"
                     : files         ? "lake"
                                     : "none");
    lh_buf_printf(out, "; hot: %llu of %d shard%s", (unsigned long long)pinned,
                  rs->t->nshards, rs->t->nshards == 1 ? "" : "s");
    if (pruned) {
        lh_buf_printf(out, ", %llu pruned (%llu by ts bounds)",
                      (unsigned long long)pruned,
                      (unsigned long long)by_bounds);
    }
    if (c->lake == NULL) {
        lh_buf_puts(out, lh__hot_cut_needs_lake(c->hot)
                             ? "; lake: none"
                             : "; lake: not read (the streams never left "
                               "the hot tier)");
    } else if (c->ice == NULL) {
        lh_buf_puts(out, "; lake: no snapshot");
    } else {
        lh_buf_printf(out,
                      "; lake: snapshot %lld, %u file%s, %llu pruned, "
                      "%u manifest%s, %u pruned",
                      (long long)c->snapshot_id, files, files == 1 ? "" : "s",
                      (unsigned long long)fpruned, manifests,
                      manifests == 1 ? "" : "s", mpruned);
    }
    if (c->travel) {
        char ts[40];
        lh_time_format_iso(c->as_of.u.i, ts);
        lh_buf_printf(out, "; as of %s (committed_at)", ts);
    }
    cut_free(c);
}

/* ORDER BY embedding <-> q LIMIT k: the shards' vector indexes alone
 * while the table cannot have a lake; else every tier (router_knn.c). */
static lh_rc
rt_knn(const lh_source *src, const lh_scan_request *req,
       const lh_knn_request *kr, lh_arena *a, lh_batch *out,
       lh_knn_stats *stats, lh_err *err)
{
    const rt_source *rs = src->ud;
    if (req->travel != 0 || rs->hot->vt->knn == NULL) {
        return LH_EUNSUPPORTED;
    }
    if (!may_have_lake(rs)) {
        return rs->hot->vt->knn(rs->hot, req, kr, a, out, stats, err);
    }
    lh__rt_parts p = {.t = rs->t,
                      .hot = rs->hot,
                      .cols = rs->cols,
                      .fids = rs->fids,
                      .ncols = rs->ncols,
                      .ts_col = (uint32_t)column_index(rs, "ts"),
                      .ttl_col = (uint32_t)column_index(rs, "ttl_seconds")};
    return lh__router_knn(&p, req, kr, a, out, stats, err);
}

static const lh_source_vt rt_vt = {
    .name = "events",
    .share = rt_share,
    .free_shared = rt_free_shared,
    .parallelism = rt_parallelism,
    .open = rt_open,
    .next = rt_next,
    .stats = rt_stats,
    .close = rt_close,
    .describe = rt_describe,
    .explain = rt_explain,
    .knn = rt_knn,
};

/* ---- the catalog's entry ---------------------------------------------------
 */

static void
rt_source_free(rt_source *rs)
{
    if (rs == NULL) {
        return;
    }
    lh__hot_source_free(rs->hot);
    lh_free(rs->fids);
    lh_free(rs);
}

lh_rc
lh__event_table(lh_db *db, const char *name, lh_arena *a, lh_sql_table **out,
                void **resource, lh_err *err)
{
    *resource = NULL;
    if (db == NULL) {
        return LH_ENOENT;
    }
    lh_table *t;
    lh_err e2;
    lh_rc rc = lh__db_table(db, name, &t, &e2);
    if (rc == LH_ENOENT) {
        return LH_ENOENT;
    }
    if (rc != LH_OK) {
        if (err) {
            *err = e2;
        }
        return rc;
    }
    rt_source *rs = lh_calloc(1, sizeof(rt_source));
    lh_sql_table *st = lh_arena_calloc(a, sizeof(lh_sql_table));
    rc = rs && st ? lh__hot_source_new(t, &rs->hot, err)
                  : lh_err_set(err, LH_ENOMEM, "out of memory");
    if (rc != LH_OK) {
        rt_source_free(rs);
        return rc;
    }
    rs->t = t;
    uint32_t npayload;
    rs->cols = lh__hot_source_columns(rs->hot, &rs->ncols, &npayload);
    rs->fids = lh_calloc(rs->ncols, sizeof(int32_t));
    if (rs->fids == NULL) {
        rt_source_free(rs);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    int32_t ts_col = -1;
    for (uint32_t i = 0; i < rs->ncols; i++) {
        if (i < npayload) {
            rs->fids[i] = t->def->cols[i].field_id;
            continue;
        }
        for (size_t k = 0; k < LH_ARRAY_LEN(envelope_ids); k++) {
            if (strcmp(rs->cols[i].name, envelope_ids[k].name) == 0) {
                rs->fids[i] = envelope_ids[k].id;
            }
        }
        if (strcmp(rs->cols[i].name, "ts") == 0) {
            ts_col = (int32_t)i;
        }
    }
    rs->src.vt = &rt_vt;
    rs->src.ud = rs;
    st->name = t->def->name;
    st->kind = LH_SQL_TABLE_EVENT;
    st->cols = rs->cols;
    st->ncols = rs->ncols;
    st->ts_col = ts_col;
    st->source = &rs->src;
    st->est_rows = 0;
    int32_t emb = column_index(rs, "embedding");
    if (emb >= 0) {
        lh__hot_knn_offer(t, st, (uint32_t)emb);
    }
    *out = st;
    *resource = rs;
    return LH_OK;
}

void
lh__event_table_free(void *resource)
{
    rt_source_free(resource);
}
