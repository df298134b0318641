/*
 * Stream reads across tiers: the events of one stream that left the hot
 * tier, read back from the table's lake into a TEMP table of the reader's
 * connection, which the hot tier's stream reader then reads together with
 * the shard's rows (hot_int.h, lh__lake_stream_rows). Files are pruned by
 * the stream's and the versions' bounds; rows are checked one by one.
 */
#include <string.h>

#include "pipeline/pipeline_int.h"

static lh_rc
exec(sqlite3 *c, const char *sql, lh_err *err)
{
    int r = sqlite3_exec(c, sql, NULL, NULL, NULL);
    return r == SQLITE_OK ? LH_OK
                          : lh__sqlite_err(c, r, "stage lake events", err);
}

/* CREATE TEMP TABLE lake_events with the events table's columns. */
static lh_rc
stage_table(const lh_tabledef *d, sqlite3 *c, lh_err *err)
{
    lh_buf q = LH_BUF_INIT;
    lh_buf_puts(&q, "CREATE TEMP TABLE IF NOT EXISTS lake_events(position, "
                    "event_id, stream, version, type, ts, committed_at, "
                    "partition_key, schema_version, embedding");
    for (size_t i = 0; i < d->ncols; i++) {
        lh_buf_printf(&q, ", c%d", (int)d->cols[i].field_id);
    }
    lh_buf_puts(&q, "); DELETE FROM temp.lake_events;");
    lh_rc rc = lh_buf_ok(&q) ? exec(c, q.data, err)
                             : lh_err_set(err, LH_ENOMEM, "out of memory");
    lh_buf_release(&q);
    return rc;
}

static lh_rc
stage_rows(lh__lake *l, const char *stream, int64_t lo, int64_t hi, sqlite3 *c,
           sqlite3_stmt *ins, lh_err *err)
{
    const lh_tabledef *d = l->t->def;
    lh_arena a;
    lh_arena_init(&a, 0);
    /* stream = X AND version >= lo AND version <= hi */
    lh_value sv = {.type = {.id = LH_T_VARCHAR}};
    sv.u.s.p = stream;
    sv.u.s.len = strlen(stream);
    lh_value vlo = {.type = {.id = LH_T_BIGINT}, .u.i = lo};
    lh_value vhi = {.type = {.id = LH_T_BIGINT}, .u.i = hi};
    lh_ice_expr eq = {
        .op = LH_ICE_OP_EQ, .field_id = LH__F_STREAM, .lits = &sv, .nlits = 1};
    lh_ice_expr ge = {.op = LH_ICE_OP_GE,
                      .field_id = LH__F_VERSION,
                      .lits = &vlo,
                      .nlits = 1};
    lh_ice_expr le = {.op = LH_ICE_OP_LE,
                      .field_id = LH__F_VERSION,
                      .lits = &vhi,
                      .nlits = 1};
    lh_ice_expr range = {.op = LH_ICE_OP_AND, .a = &ge, .b = &le};
    lh_ice_expr all = {.op = LH_ICE_OP_AND, .a = &eq, .b = &range};
    lh_ice_scan_opts so = {.filter = &all};
    lh_ice_plan plan;
    lh_rc rc = lh_ice_plan_scan(l->ice, &so, &a, &plan, err);
    /* The columns in the staging table's order. */
    int32_t ids[LH_MAX_COLUMNS + 16];
    uint32_t nids = 0;
    static const int32_t env[] = {
        LH__F_POSITION,     LH__F_EVENT_ID,      LH__F_STREAM,
        LH__F_VERSION,      LH__F_TYPE,          LH__F_TS,
        LH__F_COMMITTED_AT, LH__F_PARTITION_KEY, LH__F_SCHEMA_VERSION};
    for (size_t i = 0; i < LH_ARRAY_LEN(env); i++) {
        ids[nids++] = env[i];
    }
    bool has_emb = lh__lake_col_index(l, LH__F_EMBEDDING) >= 0;
    if (has_emb) {
        ids[nids++] = LH__F_EMBEDDING;
    }
    for (size_t i = 0; i < d->ncols; i++) {
        ids[nids++] = d->cols[i].field_id;
    }
    /* Read, not staged: expired events are left out, as the shard's are. */
    uint32_t nstaged = nids;
    ids[nids++] = LH__F_TTL_SECONDS;
    lh_us now = lh_now();
    lh_arena tmp;
    lh_arena_init(&tmp, 0);
    for (uint32_t t = 0; rc == LH_OK && t < plan.ntasks; t++) {
        lh_ice_reader *rd = NULL;
        rc = lh_ice_read_open(l->ice, &plan, &plan.tasks[t], ids, nids, &rd,
                              err);
        while (rc == LH_OK) {
            lh_batch b;
            rc = lh_ice_read_next(rd, &b, err);
            if (rc != LH_OK || b.count == 0) {
                break;
            }
            uint32_t n = b.sel ? b.nsel : b.count;
            for (uint32_t k = 0; rc == LH_OK && k < n; k++) {
                uint32_t row = b.sel ? b.sel[k] : k;
                lh_value v;
                rc = lh_vector_value(&b.cols[2], row, &tmp, &v, err);
                if (rc != LH_OK || v.is_null || v.u.s.len != sv.u.s.len ||
                    memcmp(v.u.s.p, stream, sv.u.s.len) != 0) {
                    continue;
                }
                rc = lh_vector_value(&b.cols[3], row, &tmp, &v, err);
                if (rc != LH_OK || v.u.i < lo || v.u.i > hi) {
                    continue;
                }
                if (lh_vec_valid(&b.cols[nstaged], row) &&
                    lh__ttl_expired(
                        ((const int64_t *)b.cols[5].data)[row],
                        ((const int64_t *)b.cols[nstaged].data)[row], now)) {
                    continue;
                }
                sqlite3_reset(ins);
                int idx = 1;
                for (uint32_t col = 0; rc == LH_OK && col < nstaged; col++) {
                    rc = lh_vector_value(&b.cols[col], row, &tmp, &v, err);
                    if (rc == LH_OK && lh__bind_value(ins, idx, &v) != LH_OK) {
                        rc = lh_err_set(err, LH_EINTERNAL,
                                        "could not stage a lake event");
                    }
                    idx++;
                    /* No embedding column in the lake: stage NULL. */
                    if (col == LH_ARRAY_LEN(env) - 1 && !has_emb) {
                        sqlite3_bind_null(ins, idx++);
                    }
                }
                int sr = rc == LH_OK ? sqlite3_step(ins) : SQLITE_DONE;
                if (sr != SQLITE_DONE) {
                    rc = lh__sqlite_err(c, sr, "stage lake events", err);
                }
            }
            lh_arena_reset(&tmp);
        }
        if (rd != NULL) {
            lh_ice_read_close(rd);
        }
    }
    lh_arena_release(&tmp);
    lh_arena_release(&a);
    return rc;
}

lh_rc
lh__lake_stream_rows(lh_table *t, const char *stream, int64_t lo, int64_t hi,
                     sqlite3 *c, bool *staged, lh_err *err)
{
    *staged = false;
    lh__lake *l;
    lh_rc rc = lh__lake_open(t, &l, err);
    if (rc != LH_OK) {
        return rc;
    }
    if (l->ice == NULL) {
        lh__lake_close(l);
        return LH_OK;
    }
    rc = stage_table(t->def, c, err);
    sqlite3_stmt *ins = NULL;
    if (rc == LH_OK) {
        lh_buf q = LH_BUF_INIT;
        lh_buf_puts(&q, "INSERT INTO temp.lake_events VALUES (?");
        for (size_t i = 1; i < 10 + t->def->ncols; i++) {
            lh_buf_puts(&q, ",?");
        }
        lh_buf_puts(&q, ")");
        int r = lh_buf_ok(&q) ? sqlite3_prepare_v2(c, q.data, -1, &ins, NULL)
                              : SQLITE_NOMEM;
        lh_buf_release(&q);
        if (r != SQLITE_OK) {
            rc = lh__sqlite_err(c, r, "stage lake events", err);
        }
    }
    if (rc == LH_OK) {
        rc = stage_rows(l, stream, lo, hi, c, ins, err);
    }
    sqlite3_finalize(ins);
    lh__lake_close(l);
    if (rc == LH_OK) {
        *staged = true;
    } else {
        lh_err_prefix(err, "reading stream \"%.200s\" from the lake", stream);
    }
    return rc;
}
