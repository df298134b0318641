/*
 * Flush: a shard's events past the policy into warm Parquet files of the
 * table's Iceberg table, one append commit a round, then out of the shard
 * (the steps and why they are crash-safe: pipeline_int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "pipeline/pipeline_int.h"

#define ROUND_ROWS_DEFAULT 131072
#define DELETE_ROWS_DEFAULT 8192

/* The columns of the flush's SELECT, before the payload columns. */
#define SELECT_COLS                                                            \
    "position, event_id, stream, version, type, ts, committed_at, "            \
    "partition_key, schema_version, tier_hint, ttl_seconds, content_hash, "    \
    "embedding"
#define SELECT_PAYLOAD 13

static void
step(const lh__flush_opts *o, const char *what, int shard)
{
    if (o != NULL && o->on_step != NULL) {
        o->on_step(o->ctx, what, shard);
    }
}

lh_us
lh__retention_cutoff(const lh_hot_policy *p, lh_us now)
{
    return p->retention > 0 ? now - p->retention : INT64_MIN;
}

/* One integer from a query with up to four integer parameters; *found
 * false (and *out 0) when it returns no row or NULL. */
static lh_rc
query_int(sqlite3 *c, const char *sql, const int64_t *args, int nargs,
          int64_t *out, bool *found, lh_err *err)
{
    sqlite3_stmt *st;
    *out = 0;
    if (found != NULL) {
        *found = false;
    }
    int r = sqlite3_prepare_v2(c, sql, -1, &st, NULL);
    if (r != SQLITE_OK) {
        return lh__sqlite_err(c, r, "read a shard", err);
    }
    for (int i = 0; i < nargs; i++) {
        sqlite3_bind_int64(st, i + 1, args[i]);
    }
    r = sqlite3_step(st);
    if (r == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *out = sqlite3_column_int64(st, 0);
        if (found != NULL) {
            *found = true;
        }
    }
    sqlite3_finalize(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        return lh__sqlite_err(c, r, "read a shard", err);
    }
    return LH_OK;
}

/* ---- the cut ------------------------------------------------------------- */

/* The last position of the next round: the longest prefix of positions
 * above `mark` past the policy, at most round_rows of them. *cut = mark
 * when nothing is due. */
static lh_rc
find_cut(lh_shard *s, sqlite3 *rc_, int64_t mark, lh_us now, int64_t round_rows,
         int64_t *cut, lh_err *err)
{
    const lh_hot_policy *p = &s->table->def->policy;
    *cut = mark;
    int64_t last = 0, n = 0;
    bool any;
    lh_rc rc = query_int(rc_, "SELECT max(position) FROM events", NULL, 0,
                         &last, &any, err);
    if (rc != LH_OK || !any || last <= mark) {
        return rc;
    }
    /* Age and hints: the first event above mark that is not due ends the
     * prefix. tier_hint "hot" keeps an event for twice the hot window. */
    int64_t args[3] = {mark, now - p->hot_window, now - 2 * p->hot_window};
    int64_t first_kept = 0;
    bool kept;
    rc = query_int(rc_,
                   "SELECT min(position) FROM events WHERE position > ?1 AND "
                   "NOT (coalesce(tier_hint IN ('warm', 'cold'), 0) OR ts < "
                   "CASE WHEN tier_hint IS 'hot' THEN ?3 ELSE ?2 END)",
                   args, 3, &first_kept, &kept, err);
    if (rc != LH_OK) {
        return rc;
    }
    int64_t by_age = kept ? first_kept - 1 : last;
    /* Size: a shard over flush_rows or flush_bytes sheds its oldest events
     * down to half of the budget. */
    rc = query_int(rc_, "SELECT count(*) FROM events WHERE position > ?1",
                   &mark, 1, &n, NULL, err);
    int64_t pages = 0, free_pages = 0, page_size = 0;
    if (rc == LH_OK) {
        rc = query_int(rc_, "PRAGMA page_count", NULL, 0, &pages, NULL, err);
    }
    if (rc == LH_OK) {
        rc = query_int(rc_, "PRAGMA freelist_count", NULL, 0, &free_pages, NULL,
                       err);
    }
    if (rc == LH_OK) {
        rc = query_int(rc_, "PRAGMA page_size", NULL, 0, &page_size, NULL, err);
    }
    if (rc != LH_OK) {
        return rc;
    }
    int64_t bytes = (pages - free_pages) * page_size;
    int64_t shed = 0;
    if (n > p->flush_rows) {
        shed = n - p->flush_rows / 2;
    }
    if (bytes > p->flush_bytes && n > 0) {
        double keep =
            (double)n * ((double)p->flush_bytes / 2.0) / (double)bytes;
        shed = LH_MAX(shed, n - (int64_t)keep);
    }
    int64_t by_size = mark;
    if (shed > 0) {
        int64_t a2[2] = {mark, LH_MIN(shed, n) - 1};
        rc = query_int(rc_,
                       "SELECT position FROM events WHERE position > ?1 "
                       "ORDER BY position LIMIT 1 OFFSET ?2",
                       a2, 2, &by_size, NULL, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    int64_t want = LH_MAX(by_age, by_size);
    if (want <= mark) {
        return LH_OK;
    }
    /* At most round_rows events a round. */
    int64_t a3[2] = {mark, round_rows - 1};
    int64_t capped;
    bool more;
    rc = query_int(rc_,
                   "SELECT position FROM events WHERE position > ?1 "
                   "ORDER BY position LIMIT 1 OFFSET ?2",
                   a3, 2, &capped, &more, err);
    if (rc != LH_OK) {
        return rc;
    }
    *cut = more ? LH_MIN(want, capped) : want;
    return LH_OK;
}

/* ---- reading a round into columns ---------------------------------------- */

static lh_rc
fill(const lh__lake_col *c, lh_vector *v, uint32_t row, sqlite3_stmt *st,
     int idx, int shard, lh_arena *a, lh_err *err)
{
    if (c->field_id == LH__F_SHARD) {
        ((int32_t *)v->data)[row] = shard;
        return LH_OK;
    }
    if (sqlite3_column_type(st, idx) == SQLITE_NULL) {
        if (v->validity == NULL) {
            return lh_err_set(err, LH_ECORRUPT,
                              "a NULL in required column \"%s\"", c->name);
        }
        lh_bit_set(v->validity, row, false);
        return LH_OK;
    }
    switch ((lh_type_id)c->type.id) {
    case LH_T_BOOLEAN:
        ((uint8_t *)v->data)[row] = sqlite3_column_int(st, idx) != 0;
        break;
    case LH_T_INTEGER:
    case LH_T_DATE:
        ((int32_t *)v->data)[row] = (int32_t)sqlite3_column_int64(st, idx);
        break;
    case LH_T_REAL:
        ((float *)v->data)[row] = (float)sqlite3_column_double(st, idx);
        break;
    case LH_T_DOUBLE:
        ((double *)v->data)[row] = sqlite3_column_double(st, idx);
        break;
    case LH_T_DECIMAL:
        if (c->type.precision <= 18) {
            ((int64_t *)v->data)[row] = sqlite3_column_int64(st, idx);
        } else {
            if (sqlite3_column_bytes(st, idx) != 16) {
                return lh_err_set(err, LH_ECORRUPT,
                                  "a malformed DECIMAL in column \"%s\"",
                                  c->name);
            }
            memcpy(&((lh_i128 *)v->data)[row], sqlite3_column_blob(st, idx),
                   16);
        }
        break;
    case LH_T_VARCHAR:
    case LH_T_BLOB:
    case LH_T_JSON: {
        const void *p = c->type.id == LH_T_BLOB ? sqlite3_column_blob(st, idx)
                                                : sqlite3_column_text(st, idx);
        int nb = sqlite3_column_bytes(st, idx);
        const char *copy = nb > LH_STR_INLINE
                               ? lh_arena_memdup(a, p, (size_t)nb)
                               : (const char *)p;
        if (copy == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        ((lh_str *)v->data)[row] = lh_str_make(copy, (uint32_t)nb);
        break;
    }
    case LH_T_UUID:
        if (sqlite3_column_bytes(st, idx) != 16) {
            return lh_err_set(err, LH_ECORRUPT, "a malformed UUID in \"%s\"",
                              c->name);
        }
        memcpy(((lh_uuid *)v->data)[row].b, sqlite3_column_blob(st, idx), 16);
        break;
    default: /* BIGINT, TIME, TIMESTAMP, TIMESTAMPTZ */
        ((int64_t *)v->data)[row] = sqlite3_column_int64(st, idx);
        break;
    }
    return LH_OK;
}

/* The SELECT index of a lake column. */
static int
select_index(const lh__lake_col *c)
{
    switch (c->field_id) {
    case LH__F_POSITION:
        return 0;
    case LH__F_EVENT_ID:
        return 1;
    case LH__F_STREAM:
        return 2;
    case LH__F_VERSION:
        return 3;
    case LH__F_TYPE:
        return 4;
    case LH__F_TS:
        return 5;
    case LH__F_COMMITTED_AT:
        return 6;
    case LH__F_PARTITION_KEY:
        return 7;
    case LH__F_SCHEMA_VERSION:
        return 8;
    case LH__F_TIER_HINT:
        return 9;
    case LH__F_TTL_SECONDS:
        return 10;
    case LH__F_CONTENT_HASH:
        return 11;
    case LH__F_EMBEDDING:
        return 12;
    default:
        return c->payload >= 0 ? SELECT_PAYLOAD + c->payload : -1;
    }
}

/* Room for n rows of every lake column in r. */
static lh_rc
rows_alloc(const lh__lake *l, lh__rows *r, uint32_t n, lh_err *err)
{
    r->n = 0;
    r->cols = lh_arena_calloc(&r->a, l->ncols * sizeof(lh_vector));
    if (r->cols == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < l->ncols; i++) {
        lh_rc rc =
            lh_vector_alloc(&r->cols[i], l->cols[i].type, n,
                            !l->schema.type.fields[i].required, &r->a, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

/* Appends the shard's live rows from < position <= to (n of them,
 * counted before; live: the now and cutoff of LH__LIVE_SQL) to r. */
static lh_rc
read_shard_rows(lh__lake *l, int shard, sqlite3 *c, int64_t from, int64_t to,
                const int64_t *live, int64_t n, lh__rows *r, lh_err *err)
{
    lh_rc rc = LH_OK;
    const lh_tabledef *d = l->t->def;
    lh_buf q = LH_BUF_INIT;
    lh_buf_puts(&q, "SELECT " SELECT_COLS);
    for (size_t i = 0; i < d->ncols; i++) {
        lh_buf_printf(&q, ", c%d", (int)d->cols[i].field_id);
    }
    lh_buf_puts(&q, " FROM events WHERE position > ?1 AND position <= ?2 "
                    "AND " LH__LIVE_SQL " ORDER BY position");
    if (!lh_buf_ok(&q)) {
        lh_buf_release(&q);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    sqlite3_stmt *st;
    int sr = sqlite3_prepare_v2(c, q.data, -1, &st, NULL);
    lh_buf_release(&q);
    if (sr != SQLITE_OK) {
        return lh__sqlite_err(c, sr, "read a shard", err);
    }
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    sqlite3_bind_int64(st, 3, live[0]);
    sqlite3_bind_int64(st, 4, live[1]);
    uint32_t row = r->n, end = r->n + (uint32_t)n;
    while (rc == LH_OK && (sr = sqlite3_step(st)) == SQLITE_ROW) {
        if (row >= end) {
            rc = lh_err_set(err, LH_EINTERNAL, "a shard grew under a read");
            break;
        }
        for (uint32_t i = 0; rc == LH_OK && i < l->ncols; i++) {
            rc = fill(&l->cols[i], &r->cols[i], row, st,
                      select_index(&l->cols[i]), shard, &r->a, err);
        }
        row++;
    }
    if (rc == LH_OK && sr != SQLITE_DONE) {
        rc = lh__sqlite_err(c, sr, "read a shard", err);
    }
    sqlite3_finalize(st);
    if (rc == LH_OK && row != end) {
        rc = lh_err_set(err, LH_EINTERNAL, "a shard changed under a read");
    }
    r->n = row;
    return rc;
}

/* ---- sorting and writing ------------------------------------------------- */

typedef struct sorter {
    const lh__lake *l;
    const lh__rows *r;
    const lh_value *part; /* per row */
    int pos_col;
} sorter;

static int
value_cmp(const lh_value *a, const lh_value *b)
{
    if (a->is_null || b->is_null) {
        return (int)b->is_null - (int)a->is_null; /* NULL first */
    }
    return lh_ice_value_cmp(a, b);
}

static int
row_cmp(const void *pa, const void *pb, void *ctx)
{
    const sorter *s = ctx;
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    int c = s->part ? value_cmp(&s->part[a], &s->part[b]) : 0;
    for (uint32_t k = 0; c == 0 && k < s->l->ncluster; k++) {
        const lh_vector *v = &s->r->cols[s->l->cluster[k]];
        lh_value va, vb;
        /* Primitive columns: no arena is needed. */
        if (lh_vector_value(v, a, NULL, &va, NULL) == LH_OK &&
            lh_vector_value(v, b, NULL, &vb, NULL) == LH_OK) {
            c = value_cmp(&va, &vb);
        }
    }
    if (c == 0) {
        int64_t x = ((const int64_t *)s->r->cols[s->pos_col].data)[a];
        int64_t y = ((const int64_t *)s->r->cols[s->pos_col].data)[b];
        c = (x > y) - (x < y);
    }
    return c;
}

/* rows[from..to) of the round, gathered into one batch (in a). */
static lh_rc
gather(const lh__lake *l, const lh__rows *r, const uint32_t *rows, uint32_t k,
       lh_arena *a, lh_batch *b, lh_err *err)
{
    memset(b, 0, sizeof(*b));
    b->cols = lh_arena_calloc(a, l->ncols * sizeof(lh_vector));
    if (b->cols == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    b->ncols = l->ncols;
    b->count = k;
    for (uint32_t c = 0; c < l->ncols; c++) {
        const lh_vector *src = &r->cols[c];
        lh_vector *dst = &b->cols[c];
        lh_rc rc =
            lh_vector_alloc(dst, src->type, k, src->validity != NULL, a, err);
        if (rc != LH_OK) {
            return rc;
        }
        size_t w = lh_type_width(src->type);
        for (uint32_t i = 0; i < k; i++) {
            memcpy((char *)dst->data + (size_t)i * w,
                   (const char *)src->data + (size_t)rows[i] * w, w);
            if (src->validity != NULL && !lh_vec_valid(src, rows[i])) {
                lh_bit_set(dst->validity, i, false);
            }
        }
    }
    return LH_OK;
}

/* "ts_day=2026-01-05": the partition's folder, bytes other than
 * [A-Za-z0-9._-] %-escaped. */
static void
partition_dir(const lh__lake *l, const lh_value *pv, lh_buf *out)
{
    lh_buf t = LH_BUF_INIT;
    if (!pv->is_null) {
        lh_value_to_text(pv, &t);
    }
    lh_buf_printf(out, "%s=", l->spec.fields[0].name);
    if (pv->is_null || !lh_buf_ok(&t)) {
        lh_buf_puts(out, "null");
    }
    for (size_t i = 0; !pv->is_null && i < t.len; i++) {
        unsigned char ch = (unsigned char)t.data[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-') {
            lh_buf_printf(out, "%c", ch);
        } else {
            lh_buf_printf(out, "%%%02X", ch);
        }
    }
    lh_buf_release(&t);
}

void
lh__rows_sort(const lh__lake *l, const lh__rows *r, const lh_value *part,
              uint32_t *order)
{
    int pos_col = -1;
    for (uint32_t i = 0; i < l->ncols; i++) {
        if (l->cols[i].field_id == LH__F_POSITION) {
            pos_col = (int)i;
        }
    }
    for (uint32_t i = 0; i < r->n; i++) {
        order[i] = i;
    }
    if (r->n > 1) {
        sorter so = {l, r, part, pos_col};
        qsort_r(order, r->n, sizeof(*order), row_cmp, &so);
    }
}

lh_rc
lh__write_data_file(lh__lake *l, const char *tier, int64_t row_group_rows,
                    const char *tag, const lh__rows *r, const uint32_t *rows,
                    uint32_t n, const lh_value *pv, lh_arena *fa,
                    lh_ice_data_file *out, lh_err *err)
{
    int32_t bloom[] = {LH__F_STREAM};
    lh_ice_data_writer_opts wo = {.row_group_rows = (uint64_t)row_group_rows,
                                  .bloom_ids = bloom,
                                  .nbloom = 1};
    lh_ice_data_writer *w;
    lh_rc rc = lh_ice_data_writer_open_opts(&l->schema, &l->spec, &wo, &w, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_arena tmp;
    lh_arena_init(&tmp, 0);
    for (uint32_t done = 0; rc == LH_OK && done < n;) {
        uint32_t k = LH_MIN(n - done, (uint32_t)LH_BATCH_ROWS);
        lh_batch b;
        rc = gather(l, r, rows + done, k, &tmp, &b, err);
        if (rc == LH_OK) {
            rc = lh_ice_data_writer_write(w, &b, err);
        }
        lh_arena_reset(&tmp);
        done += k;
    }
    lh_arena_release(&tmp);
    if (rc != LH_OK) {
        lh_ice_data_writer_abort(w);
        return rc;
    }
    lh_uuid u;
    char us[40];
    rc = lh_uuid_v7(&u, lh_real_now() / 1000, err);
    if (rc != LH_OK) {
        lh_ice_data_writer_abort(w);
        return rc;
    }
    lh_uuid_format(&u, us);
    lh_buf loc = LH_BUF_INIT;
    lh_buf_printf(&loc, "%s/data/%s/", lh_ice_table_meta(l->ice)->location,
                  tier);
    partition_dir(l, pv, &loc);
    lh_buf_printf(&loc, "/%s%s.parquet", us, tag);
    if (!lh_buf_ok(&loc)) {
        lh_buf_release(&loc);
        lh_ice_data_writer_abort(w);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    rc = lh_ice_data_writer_close(w, l->ice, loc.data, fa, out, err);
    lh_buf_release(&loc);
    return rc;
}

/* ---- deleting from the shard --------------------------------------------- */

/* The statements of one purge transaction. In each, ?1..?3 are the
 * condition's arguments, ?4 the chunk's last position, ?5 the start of the
 * dedup window, ?6 the shard's last position. */
enum { P_CHUNK_END = 3, P_DEDUP_SINCE = 4, P_LAST = 5, P_NPARAMS = 6 };
#define P_TEXT 7

/* Prepares `head` (cond) `tail` on s's write connection and binds vals. */
static lh_rc
purge_prepare(lh_shard *s, const lh__purge *p, const char *head,
              const char *tail, const int64_t *vals, sqlite3_stmt **st,
              lh_err *err)
{
    const char *cond = p->cond;
    lh_buf q = LH_BUF_INIT;
    lh_buf_printf(&q, "%s(%s)%s", head, cond, tail);
    if (!lh_buf_ok(&q)) {
        lh_buf_release(&q);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    int r = sqlite3_prepare_v2(s->db, q.data, -1, st, NULL);
    lh_buf_release(&q);
    if (r != SQLITE_OK) {
        return lh__sqlite_err(s->db, r, "purge a shard", err);
    }
    int np = sqlite3_bind_parameter_count(*st);
    for (int k = 1; k <= np && k <= P_NPARAMS; k++) {
        sqlite3_bind_int64(*st, k, vals[k - 1]);
    }
    if (np >= P_TEXT && p->text != NULL) {
        sqlite3_bind_text(*st, P_TEXT, p->text, -1, SQLITE_STATIC);
    }
    return LH_OK;
}

/* The positions of the chunk's rows with an embedding (at most max). */
static lh_rc
embedded_positions(lh_shard *s, const lh__purge *p, const int64_t *vals,
                   int64_t max, int64_t **out, int64_t *n, lh_err *err)
{
    *out = lh_malloc((size_t)max * sizeof(int64_t));
    if (*out == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    sqlite3_stmt *st;
    lh_rc rc = purge_prepare(s, p, "SELECT position FROM events WHERE ",
                             " AND position <= ?4 AND embedding IS NOT NULL",
                             vals, &st, err);
    if (rc != LH_OK) {
        return rc;
    }
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
        (*out)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        rc = lh__sqlite_err(s->db, r, "read a shard", err);
    }
    sqlite3_finalize(st);
    return rc;
}

/* The chunk's statements, in one transaction (s->mu held). */
static lh_rc
purge_statements(lh_shard *s, const lh__purge *p, const int64_t *vals,
                 int64_t *deleted, lh_err *err)
{
    static const char *const heads[][2] = {
        {"INSERT OR REPLACE INTO dedup(event_id, stream, version, position, "
         "content_hash, committed_at) SELECT event_id, stream, version, "
         "position, content_hash, committed_at FROM events WHERE ",
         " AND position <= ?4 AND committed_at >= ?5"},
        {"INSERT INTO streams(stream, version) SELECT stream, max(version) "
         "FROM events WHERE ",
         " AND position <= ?4 GROUP BY stream ON CONFLICT(stream) DO UPDATE "
         "SET version = max(version, excluded.version)"},
        {"DELETE FROM events WHERE ", " AND position <= ?4"},
    };
    lh_rc rc = LH_OK;
    for (size_t i = p->dedup ? 0 : 1; rc == LH_OK && i < LH_ARRAY_LEN(heads);
         i++) {
        sqlite3_stmt *st;
        rc = purge_prepare(s, p, heads[i][0], heads[i][1], vals, &st, err);
        if (rc != LH_OK) {
            break;
        }
        int r = sqlite3_step(st);
        if (r != SQLITE_DONE) {
            rc = lh__sqlite_err(s->db, r, "delete events", err);
        } else if (i == 2) {
            *deleted = sqlite3_changes(s->db);
        }
        sqlite3_finalize(st);
    }
    /* The high mark of positions, kept once its row may be gone. */
    if (rc == LH_OK) {
        int64_t none;
        rc = query_int(s->db,
                       "INSERT OR REPLACE INTO meta(key, value) VALUES "
                       "('last_position', ?1)",
                       &vals[P_LAST], 1, &none, NULL, err);
    }
    return rc;
}

lh_rc
lh__shard_purge_chunk(lh_shard *s, const lh__purge *p, int64_t max_rows,
                      int64_t *deleted, lh_err *err)
{
    *deleted = 0;
    int64_t vals[P_NPARAMS] = {p->args[0], p->args[1], p->args[2]};
    vals[P_DEDUP_SINCE] = lh_now() - s->table->db->dedup_window;
    pthread_mutex_lock(&s->mu);
    vals[P_LAST] = s->last_position;
    /* None left: no transaction (a pass with nothing to do writes
     * nothing). */
    sqlite3_stmt *st;
    lh_rc rc = purge_prepare(s, p, "SELECT 1 FROM events WHERE ", " LIMIT 1",
                             vals, &st, err);
    bool any = false;
    if (rc == LH_OK) {
        int r = sqlite3_step(st);
        any = r == SQLITE_ROW;
        if (r != SQLITE_ROW && r != SQLITE_DONE) {
            rc = lh__sqlite_err(s->db, r, "read a shard", err);
        }
        sqlite3_finalize(st);
    }
    if (rc != LH_OK || !any) {
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    /* The chunk: the matching rows up to the max_rows-th. */
    vals[P_CHUNK_END] = max_rows - 1;
    rc = purge_prepare(s, p, "SELECT position FROM events WHERE ",
                       " ORDER BY position LIMIT 1 OFFSET ?4", vals, &st, err);
    if (rc == LH_OK) {
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
            vals[P_CHUNK_END] = sqlite3_column_int64(st, 0);
        } else if (r == SQLITE_DONE) {
            vals[P_CHUNK_END] = INT64_MAX;
        } else {
            rc = lh__sqlite_err(s->db, r, "read a shard", err);
        }
        sqlite3_finalize(st);
    }
    int64_t *vec_pos = NULL, nvec = 0;
    if (rc == LH_OK && s->vindex != NULL) {
        rc = embedded_positions(s, p, vals, max_rows, &vec_pos, &nvec, err);
    }
    if (rc == LH_OK && p->secure) {
        rc = lh__shard_exec(s, "PRAGMA secure_delete = ON", err);
    }
    if (rc == LH_OK) {
        rc = lh__shard_exec(s, "BEGIN IMMEDIATE", err);
        if (rc == LH_OK) {
            rc = purge_statements(s, p, vals, deleted, err);
        }
        if (rc == LH_OK) {
            rc = lh__shard_exec(s, "COMMIT", err);
        }
        if (rc != LH_OK) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            *deleted = 0;
        } else if (*deleted > 0) {
            s->has_dedup = s->has_dedup || p->dedup;
            s->has_floors = true;
        }
    }
    if (p->secure) {
        sqlite3_exec(s->db, "PRAGMA secure_delete = OFF", NULL, NULL, NULL);
    }
    pthread_mutex_unlock(&s->mu);
    /* Deletes grow the WAL as appends do; without appends after them no
     * handler would ask for its checkpoint. */
    lh__shard_checkpoint_maybe(s);
    /* The shard's vector index holds only its rows (ids = positions): the
     * deleted ones become tombstones. */
    for (int64_t i = 0; rc == LH_OK && s->vindex != NULL && i < nvec; i++) {
        (void)lh_hnsw_delete(s->vindex, vec_pos[i], NULL);
    }
    lh_free(vec_pos);
    return rc;
}

#define RECLAIM_KEEP_DEFAULT (INT64_C(1) << 20)
#define RECLAIM_PAGES_DEFAULT 2048

/* Gives the space of the rows just deleted back to the file system, a
 * bounded transaction at a time: without it a shard's file keeps the size
 * of the most it ever held (a million flushed events left 1.4 GB behind
 * 10,000 rows). Appends run between the steps. */
static void
reclaim(lh_shard *s, const lh__flush_opts *o)
{
    int64_t keep = o && o->reclaim_keep_bytes > 0 ? o->reclaim_keep_bytes
                                                  : RECLAIM_KEEP_DEFAULT;
    int64_t pages =
        o && o->reclaim_pages > 0 ? o->reclaim_pages : RECLAIM_PAGES_DEFAULT;
    int64_t total = 0;
    for (;;) {
        int64_t k;
        lh_err e;
        if (lh__shard_reclaim_step(s, keep, pages, &k, &e) != LH_OK) {
            /* The deletes are committed: a shard that could not shrink now
             * (a full disk: the moves need WAL space) tries again after
             * the next one. */
            lh_log(LH_LOG_WARN, "%s", e.msg);
            break;
        }
        if (k == 0) {
            break;
        }
        total += k;
        step(o, "reclaim", s->index);
    }
    if (total > 0) {
        lh__shard_checkpoint_request(s);
    }
}

lh_rc
lh__shard_purge(lh_shard *s, const lh__purge *p, const lh__flush_opts *o,
                const char *step_name, int64_t *n, lh_err *err)
{
    int64_t chunk =
        o && o->delete_rows > 0 ? o->delete_rows : DELETE_ROWS_DEFAULT;
    *n = 0;
    for (;;) {
        int64_t k;
        lh_rc rc = lh__shard_purge_chunk(s, p, chunk, &k, err);
        if (rc != LH_OK) {
            return rc;
        }
        if (k == 0) {
            break;
        }
        *n += k;
        step(o, step_name, s->index);
    }
    if (*n > 0) {
        reclaim(s, o);
    }
    return LH_OK;
}

/* Deletes every row <= upto (flushed: the ids stay in dedup), a
 * transaction at a time; *n counts them. */
static lh_rc
delete_upto(lh_shard *s, int64_t upto, const lh__flush_opts *o, int64_t *n,
            lh_err *err)
{
    lh__purge p = {.cond = "position <= ?1", .args = {upto}, .dedup = true};
    return lh__shard_purge(s, &p, o, "delete", n, err);
}

/* ---- a round and the whole flush ----------------------------------------- */

/* One shard's part of a round. */
typedef struct part_of {
    sqlite3 *c;    /* read-only connection */
    int64_t mark;  /* the lake's mark before the round */
    int64_t cut;   /* ... after it (== mark: nothing of this shard) */
    int64_t count; /* live rows in (mark, cut]: the others expired */
} part_of;

static lh_rc
flush_round(lh__lake *l, part_of *ps, const int64_t *live,
            const lh__flush_opts *o, lh__flush_result *res, lh_err *err)
{
    int nshards = l->t->nshards;
    lh__rows r = {0};
    lh_arena_init(&r.a, 0);
    lh_arena fa; /* the data files' descriptions */
    lh_arena_init(&fa, 0);
    int64_t total = 0;
    for (int k = 0; k < nshards; k++) {
        total += ps[k].count;
    }
    lh_rc rc = rows_alloc(l, &r, (uint32_t)total, err);
    for (int k = 0; rc == LH_OK && k < nshards; k++) {
        if (ps[k].cut > ps[k].mark) {
            rc = read_shard_rows(l, k, ps[k].c, ps[k].mark, ps[k].cut, live,
                                 ps[k].count, &r, err);
        }
    }
    /* the warm index's columns (warm.c) */
    uint32_t version = 0;
    if (rc == LH_OK) {
        rc = lh__warm_encode(l, &r, &version, err);
    }
    uint32_t *order = NULL;
    lh_value *part = NULL;
    lh_ice_data_file *files = NULL;
    uint32_t nfiles = 0;
    if (rc == LH_OK && r.n > 0) {
        order = lh_malloc(r.n * sizeof(*order));
        part = lh_malloc(r.n * sizeof(*part));
        files = lh_malloc(r.n * sizeof(*files));
        if (order == NULL || part == NULL || files == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    /* Each row's partition value, then the order. */
    int src = -1;
    for (uint32_t i = 0; i < l->ncols; i++) {
        if (l->cols[i].field_id == l->spec.fields[0].source_id) {
            src = (int)i;
        }
    }
    for (uint32_t i = 0; rc == LH_OK && i < r.n; i++) {
        lh_value v;
        rc = lh_vector_value(&r.cols[src], i, &r.a, &v, err);
        if (rc == LH_OK) {
            rc = lh_ice_transform_apply(&l->spec.fields[0].transform,
                                        &l->schema.type.fields[src].type, &v,
                                        &part[i], err);
        }
    }
    if (rc == LH_OK) {
        lh__rows_sort(l, &r, part, order);
    }
    /* One file per partition. */
    for (uint32_t i = 0; rc == LH_OK && i < r.n;) {
        uint32_t j = i + 1;
        while (j < r.n && value_cmp(&part[order[i]], &part[order[j]]) == 0) {
            j++;
        }
        if (version > 0) {
            rc = lh__warm_order(l, &r, order + i, j - i, err);
        }
        if (rc == LH_OK) {
            rc = lh__write_data_file(
                l, "warm", l->t->def->policy.warm_row_group_rows, "", &r,
                order + i, j - i, &part[order[i]], &fa, &files[nfiles], err);
        }
        if (rc == LH_OK) {
            res->bytes += files[nfiles].file_size;
            nfiles++;
            step(o, "file", -1);
        }
        i = j;
    }
    /* The commit: files and the new marks, or nothing. */
    if (rc == LH_OK) {
        pthread_mutex_lock(&l->mu);
        rc = lh__lake_refresh(l, err);
        for (int k = 0; rc == LH_OK && k < nshards; k++) {
            if (l->marks[k] != ps[k].mark) {
                rc = lh_err_set(err, LH_ECONFLICT,
                                "shard %d of \"%s\" was flushed meanwhile "
                                "(mark %lld, expected %lld)",
                                k, l->t->def->name, (long long)l->marks[k],
                                (long long)ps[k].mark);
            }
        }
        lh_buf marks = LH_BUF_INIT;
        if (rc == LH_OK) {
            for (int k = 0; k < nshards; k++) {
                l->marks[k] = ps[k].cut;
            }
            if (lh__marks_format(l->marks, nshards, &marks) != LH_OK) {
                rc = lh_err_set(err, LH_ENOMEM, "out of memory");
            }
        }
        if (rc == LH_OK) {
            lh_ice_kv sum[] = {{LH__MARKS_KEY, marks.data}};
            lh_ice_change ch = {.add = files,
                                .nadd = nfiles,
                                .summary = sum,
                                .nsummary = 1,
                                .timestamp_ms = lh_now() / 1000};
            rc = lh_ice_commit(l->ice, &ch, NULL, err);
            if (rc != LH_OK) {
                for (int k = 0; k < nshards; k++) {
                    l->marks[k] = ps[k].mark;
                }
            }
        }
        lh_buf_release(&marks);
        pthread_mutex_unlock(&l->mu);
    }
    if (rc == LH_OK) {
        res->commits++;
        res->events += r.n;
        res->files += nfiles;
        step(o, "commit", -1);
    }
    lh_free(order);
    lh_free(part);
    lh_free(files);
    lh_arena_release(&fa);
    lh_arena_release(&r.a);
    return rc;
}

lh_rc
lh__flush_table(lh__lake *l, const lh__flush_opts *o, lh__flush_result *res,
                lh_err *err)
{
    lh_table *t = l->t;
    int nshards = t->nshards;
    if (t->shards[0].db == NULL) {
        return lh_err_set(err, LH_EREADONLY,
                          "flushing \"%s\" needs the database opened for "
                          "writing",
                          t->def->name);
    }
    int64_t round_rows =
        o && o->round_rows > 0 ? o->round_rows : ROUND_ROWS_DEFAULT;
    /* A shard's share of a round: the round's rows between the shards. */
    int64_t share = LH_MAX(1, round_rows / nshards);
    part_of *ps = lh_calloc((size_t)nshards, sizeof(*ps));
    if (ps == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    pthread_mutex_lock(&l->mu);
    lh_rc rc = lh__lake_refresh(l, err);
    for (int k = 0; k < nshards; k++) {
        ps[k].mark = l->marks[k];
    }
    pthread_mutex_unlock(&l->mu);
    /* 1. The rest of an interrupted flush. */
    for (int k = 0; rc == LH_OK && k < nshards; k++) {
        int64_t done = 0;
        rc = delete_upto(&t->shards[k], ps[k].mark, o, &done, err);
        res->finished += done;
        if (rc == LH_OK) {
            rc = lh__shard_open_reader(t->shards[k].path, &ps[k].c, err);
        }
    }
    lh_us now = lh_now();
    /* Expired events (TTL, retention) are cut like the others but not
     * written: they leave the shard with the round. */
    int64_t live[2] = {now, lh__retention_cutoff(&t->def->policy, now)};
    while (rc == LH_OK) {
        bool any = false;
        for (int k = 0; rc == LH_OK && k < nshards; k++) {
            rc = find_cut(&t->shards[k], ps[k].c, ps[k].mark, now, share,
                          &ps[k].cut, err);
            ps[k].count = 0;
            if (rc == LH_OK && ps[k].cut > ps[k].mark) {
                int64_t args[4] = {ps[k].mark, ps[k].cut, live[0], live[1]};
                rc = query_int(ps[k].c,
                               "SELECT count(*) FROM events WHERE position > "
                               "?1 AND position <= ?2 AND " LH__LIVE_SQL,
                               args, 4, &ps[k].count, NULL, err);
                any = true;
            }
        }
        if (rc != LH_OK || !any) {
            break;
        }
        if (l->ice == NULL) {
            pthread_mutex_lock(&l->mu);
            rc = lh__lake_create(l, err);
            pthread_mutex_unlock(&l->mu);
        }
        if (rc == LH_OK) {
            rc = flush_round(l, ps, live, o, res, err);
        }
        for (int k = 0; rc == LH_OK && k < nshards; k++) {
            int64_t n = 0;
            if (ps[k].cut > ps[k].mark) {
                rc = delete_upto(&t->shards[k], ps[k].cut, o, &n, err);
                res->expired += LH_MAX(0, n - ps[k].count);
            }
            ps[k].mark = ps[k].cut;
        }
    }
    for (int k = 0; k < nshards; k++) {
        sqlite3_close(ps[k].c);
    }
    lh_free(ps);
    if (rc != LH_OK) {
        lh_err_prefix(err, "flush of \"%s\"", t->def->name);
    }
    return rc;
}
