/*
 * What each tier of a table holds: the hot tier from its shards (read-only
 * connections, so this runs beside a writer), warm and cold from the
 * current snapshot of the table's lake (a file's tier is its folder).
 */
#include <string.h>
#include <sys/stat.h>

#include "pipeline/pipeline_int.h"

enum { TIER_HOT, TIER_WARM, TIER_COLD, NTIERS };
static const char *const tier_names[NTIERS] = {"hot", "warm", "cold"};

static void
widen(lh_tier_stats *t, int64_t lo, int64_t hi)
{
    if (t->empty) {
        t->min_ts = lo;
        t->max_ts = hi;
        t->empty = false;
    } else {
        t->min_ts = LH_MIN(t->min_ts, lo);
        t->max_ts = LH_MAX(t->max_ts, hi);
    }
}

static void
ts_text(int64_t us, char *buf, size_t n)
{
    lh_value v = {.type = {.id = LH_T_TIMESTAMP}, .u.i = us};
    lh_buf b = LH_BUF_INIT;
    lh_value_to_text(&v, &b);
    snprintf(buf, n, "%s", lh_buf_ok(&b) && b.data ? b.data : "");
    lh_buf_release(&b);
}

static int64_t
file_bytes(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

/* The shards' rows past the lake's marks (rows at or below a mark are in
 * the lake already: the rest of an interrupted flush). */
static lh_rc
hot_tier(lh_table *t, const int64_t *marks, lh_tier_stats *out, lh_err *err)
{
    for (int i = 0; i < t->nshards; i++) {
        sqlite3 *c;
        lh_rc rc = lh__shard_open_reader(t->shards[i].path, &c, err);
        if (rc != LH_OK) {
            return rc;
        }
        sqlite3_stmt *st;
        int r = sqlite3_prepare_v2(
            c,
            "SELECT count(*), min(ts), max(ts) FROM events WHERE position > ?",
            -1, &st, NULL);
        if (r == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, marks[i]);
        }
        if (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t n = sqlite3_column_int64(st, 0);
            if (n > 0) {
                out->rows += n;
                out->files++;
                char wal[4200];
                snprintf(wal, sizeof(wal), "%s-wal", t->shards[i].path);
                out->bytes += file_bytes(t->shards[i].path) + file_bytes(wal);
                widen(out, sqlite3_column_int64(st, 1),
                      sqlite3_column_int64(st, 2));
            }
            r = SQLITE_OK;
        }
        sqlite3_finalize(st);
        if (r != SQLITE_OK) {
            rc = lh__sqlite_err(c, r, "read a shard", err);
        }
        sqlite3_close(c);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

static bool
bound(const lh_ice_bound *b, uint32_t n, const lh_ice_type *type, int64_t *out)
{
    for (uint32_t i = 0; i < n; i++) {
        lh_value v;
        if (b[i].id == LH__F_TS &&
            lh_ice_value_from_bytes(type, b[i].p, b[i].n, &v, NULL) == LH_OK &&
            !v.is_null) {
            *out = v.u.i;
            return true;
        }
    }
    return false;
}

static lh_rc
lake_tiers(lh__lake *l, lh_tier_stats *warm, lh_tier_stats *cold, lh_err *err)
{
    if (l->ice == NULL) {
        return LH_OK;
    }
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_plan plan;
    lh_rc rc = lh_ice_plan_scan(l->ice, NULL, &a, &plan, err);
    const lh_ice_field *tsf = lh_ice_schema_find(&l->schema, LH__F_TS);
    for (uint32_t i = 0; rc == LH_OK && i < plan.ntasks; i++) {
        const lh_ice_data_file *f = plan.tasks[i].file;
        lh_tier_stats *ts = strstr(f->path, "/data/cold/") ? cold : warm;
        ts->rows += f->record_count;
        ts->files++;
        ts->bytes += f->file_size;
        int64_t lo, hi;
        if (f->record_count > 0 &&
            bound(f->lower, f->nlower, &tsf->type, &lo) &&
            bound(f->upper, f->nupper, &tsf->type, &hi)) {
            widen(ts, lo, hi);
        }
    }
    lh_arena_release(&a);
    return rc;
}

lh_rc
lh_tiers_get(lh_db *db, const char *table, lh_tier_stats **out, size_t *n,
             lh_err *err)
{
    *out = NULL;
    *n = 0;
    char **names = NULL;
    size_t ntables = 0;
    lh_rc rc;
    if (table != NULL) {
        lh_table *t;
        rc = lh__db_table(db, table, &t, err);
        if (rc != LH_OK) {
            return rc;
        }
        names = lh_calloc(1, sizeof(char *));
        if (names == NULL || (names[0] = lh_strdup(table)) == NULL) {
            lh_free(names);
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        ntables = 1;
    } else {
        rc = lh_table_list(db, &names, &ntables, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    lh_tier_stats *ts = lh_calloc(ntables * NTIERS + 1, sizeof(*ts));
    if (ts == NULL) {
        lh_free_strings(names, ntables);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (size_t i = 0; rc == LH_OK && i < ntables; i++) {
        lh_tier_stats *row = &ts[i * NTIERS];
        for (int k = 0; k < NTIERS; k++) {
            snprintf(row[k].table, sizeof(row[k].table), "%s", names[i]);
            row[k].tier = tier_names[k];
            row[k].empty = true;
        }
        lh_table *t;
        lh__lake *l = NULL;
        rc = lh__db_table(db, names[i], &t, err);
        if (rc == LH_OK) {
            rc = lh__lake_open(t, &l, err);
        }
        if (rc == LH_OK) {
            rc = lake_tiers(l, &row[TIER_WARM], &row[TIER_COLD], err);
        }
        if (rc == LH_OK) {
            rc = hot_tier(t, l->marks, &row[TIER_HOT], err);
        }
        lh__lake_close(l);
    }
    lh_free_strings(names, ntables);
    for (size_t i = 0; rc == LH_OK && i < ntables * NTIERS; i++) {
        if (!ts[i].empty) {
            ts_text(ts[i].min_ts, ts[i].min_ts_text, sizeof(ts[i].min_ts_text));
            ts_text(ts[i].max_ts, ts[i].max_ts_text, sizeof(ts[i].max_ts_text));
        }
    }
    if (rc != LH_OK) {
        lh_free(ts);
        return rc;
    }
    *out = ts;
    *n = ntables * NTIERS;
    return LH_OK;
}
