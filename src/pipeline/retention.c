/*
 * Retention: the events nobody may read any more leave every tier.
 *
 * What goes: an event whose TTL ran out (ts + ttl_seconds <= now), one
 * older than the table's `retention` (ts < now - retention), and the
 * versions a stream's metadata hides: below truncate_before (which an
 * erasure raises past the stream's last version), below the last
 * max_count, committed before now - max_age.
 *
 * The hot tier: each shard deletes them in transactions of delete_rows
 * (lh__shard_purge: dedup, version floors and the HNSW kept right; the
 * stream rules' deletes zero the bytes, as an erasure's must). Flushes
 * skip expired events too (flush.c), so the lake only receives live ones.
 *
 * The lake: one pass over the current snapshot's data files. A file is
 * read only when its metrics say it may hold such an event: its lower ts
 * bound is past the retention; it has TTL values (null count below its
 * record count) and lower(ts) + lower(ttl) <= now; its stream bounds take
 * in a stream whose rules changed since the last pass. A file entirely
 * older than the retention is dropped without reading. A file that holds
 * some is rewritten without them into the same tier (warm or cold layout),
 * in its order; all the changes of a pass are one Iceberg overwrite (or
 * delete) that carries the marks. Crash safety is the compaction's: before
 * the commit the new files are orphans and the old ones live; after it,
 * the new layout; a pass is idempotent, so the next one finishes an
 * interrupted one. The old files remain readable by older snapshots until
 * snapshot expiry deletes them: only then are an erased stream's bytes out
 * of every file.
 *
 * Which streams' rules need the lake: every shard keeps, per stream with
 * metadata, what the lake pass already removed (retention_done: versions
 * below `below`, commits before `before`). A stream needs a look when the
 * lake may hold versions between below and its current floor that are now
 * hidden, or when its max_age cutoff moved by a tenth of max_age (at least
 * a flush interval) since: the lake lags a little behind reads there,
 * which apply the metadata themselves.
 */
#include <string.h>

#include "pipeline/pipeline_int.h"

#define DONE_TABLE                                                             \
    "CREATE TABLE IF NOT EXISTS retention_done(stream TEXT PRIMARY KEY, "      \
    "below INTEGER NOT NULL, before INTEGER NOT NULL) STRICT, WITHOUT ROWID"

/* A stream with metadata that hides some of its versions. */
typedef struct rule {
    int shard;
    char *stream;
    int64_t lo;        /* versions below are hidden */
    lh_us min_commit;  /* ... and commits before (INT64_MIN: none) */
    bool lake;         /* the lake may hold hidden ones: look */
    struct rule *next; /* all rules, in a list */
} rule;

typedef struct rules {
    lh_arena a;
    lh_map by_stream; /* stream -> rule (the lake ones) */
    rule *all;
    uint32_t nlake;
    lh_value *streams; /* the lake ones' streams, for the probe */
} rules;

/* The rules of shard s into rs (its write connection, under s->mu). */
static lh_rc
shard_rules(lh_shard *s, lh_us now, rules *rs, lh_err *err)
{
    const lh_hot_policy *p = &s->table->def->policy;
    pthread_mutex_lock(&s->mu);
    lh_rc rc = lh__shard_exec(s, DONE_TABLE, err);
    sqlite3_stmt *st = NULL;
    int r = SQLITE_OK;
    if (rc == LH_OK) {
        r = sqlite3_prepare_v2(
            s->db,
            "SELECT s.stream, s.version, coalesce(s.max_age_s, 0), "
            "coalesce(s.max_count, 0), coalesce(s.truncate_before, 0), "
            "(SELECT max(e.version) FROM events e WHERE e.stream = s.stream), "
            "coalesce(d.below, 1), d.before FROM streams s LEFT JOIN "
            "retention_done d ON d.stream = s.stream WHERE s.max_age_s > 0 OR "
            "s.max_count > 0 OR s.truncate_before > 1",
            -1, &st, NULL);
    }
    while (rc == LH_OK && r == SQLITE_OK &&
           (r = sqlite3_step(st)) == SQLITE_ROW) {
        r = SQLITE_OK;
        int64_t floor = sqlite3_column_int64(st, 1);
        int64_t max_age = sqlite3_column_int64(st, 2);
        int64_t max_count = sqlite3_column_int64(st, 3);
        int64_t cur = LH_MAX(floor, sqlite3_column_int64(st, 5));
        int64_t below = sqlite3_column_int64(st, 6);
        rule *ru = lh_arena_calloc(&rs->a, sizeof(*ru));
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (ru == NULL || name == NULL ||
            (ru->stream = lh_arena_strdup(&rs->a, name)) == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
            break;
        }
        ru->shard = s->index;
        ru->lo = LH_MAX(1, sqlite3_column_int64(st, 4));
        if (max_count > 0) {
            ru->lo = LH_MAX(ru->lo, cur - max_count + 1);
        }
        ru->min_commit = INT64_MIN;
        /* The lake holds versions up to the floor at most. */
        ru->lake = LH_MIN(ru->lo - 1, floor) >= below;
        if (max_age > 0 && max_age < INT64_MAX / LH_US_PER_SEC) {
            ru->min_commit = now - max_age * LH_US_PER_SEC;
            lh_us slack =
                LH_MAX(p->flush_interval, max_age * LH_US_PER_SEC / 10);
            /* INT64_MIN: a pass looked before max_age was set. */
            lh_us before = sqlite3_column_type(st, 7) != SQLITE_NULL
                               ? sqlite3_column_int64(st, 7)
                               : INT64_MIN;
            bool looked = before != INT64_MIN;
            ru->lake =
                ru->lake ||
                (floor > 0 && (!looked || ru->min_commit - before >= slack));
        }
        ru->next = rs->all;
        rs->all = ru;
        if (ru->lake) {
            rc = lh_map_put(&rs->by_stream, ru->stream, strlen(ru->stream), ru,
                            NULL);
            if (rc != LH_OK) {
                lh_err_set(err, rc, "out of memory");
            }
            rs->nlake++;
        }
    }
    if (rc == LH_OK && r != SQLITE_DONE && r != SQLITE_OK) {
        rc = lh__sqlite_err(s->db, r, "read stream metadata", err);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Records that the lake no longer holds what rule ru hides. */
static lh_rc
rule_done(lh_shard *s, const rule *ru, lh_err *err)
{
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st;
    int r = sqlite3_prepare_v2(
        s->db,
        "INSERT INTO retention_done(stream, below, before) VALUES (?1, ?2, "
        "?3) ON CONFLICT(stream) DO UPDATE SET below = max(below, ?2), "
        "before = max(before, ?3)",
        -1, &st, NULL);
    if (r == SQLITE_OK) {
        sqlite3_bind_text(st, 1, ru->stream, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, ru->lo);
        sqlite3_bind_int64(st, 3, ru->min_commit);
        r = sqlite3_step(st);
        r = r == SQLITE_DONE ? SQLITE_OK : r;
    }
    sqlite3_finalize(st);
    lh_rc rc = r == SQLITE_OK
                   ? LH_OK
                   : lh__sqlite_err(s->db, r, "record a retention pass", err);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ---- the hot tier -------------------------------------------------------- */

static lh_rc
purge_hot(lh__lake *l, lh_us now, const rules *rs, const lh__flush_opts *o,
          lh__retention_result *res, lh_err *err)
{
    lh_table *t = l->t;
    lh_rc rc = LH_OK;
    for (int k = 0; rc == LH_OK && k < t->nshards; k++) {
        lh__purge p = {
            .cond = "(ttl_seconds IS NOT NULL AND ts + ttl_seconds * 1000000 "
                    "<= ?1) OR ts < ?2",
            .args = {now, lh__retention_cutoff(&t->def->policy, now)},
            .dedup = true};
        int64_t n = 0;
        rc = lh__shard_purge(&t->shards[k], &p, o, "purge", &n, err);
        res->hot_removed += n;
    }
    for (const rule *ru = rs->all; rc == LH_OK && ru != NULL; ru = ru->next) {
        lh__purge p = {
            .cond = "stream = ?7 AND (version < ?1 OR committed_at < ?2)",
            .args = {ru->lo, ru->min_commit},
            .text = ru->stream,
            .dedup = true,
            .secure = true};
        int64_t n = 0;
        rc = lh__shard_purge(&t->shards[ru->shard], &p, o, "purge", &n, err);
        res->hot_removed += n;
    }
    return rc;
}

/* ---- the lake ------------------------------------------------------------ */

/* The lake columns a row's fate depends on. */
typedef struct judge {
    int ts, ttl, stream, version, committed;
    lh_us now, cutoff;
    const rules *rs;
} judge;

bool
lh__ttl_expired(lh_us ts, int64_t ttl, lh_us now)
{
    /* ts + ttl s <= now, without overflow for large TTLs */
    return ts <= now && ttl <= (now - ts) / LH_US_PER_SEC;
}

/* Whether row i of r goes. */
static bool
row_goes(const judge *j, const lh__rows *r, uint32_t i)
{
    lh_us ts = ((const int64_t *)r->cols[j->ts].data)[i];
    if (ts < j->cutoff) {
        return true;
    }
    const lh_vector *tv = &r->cols[j->ttl];
    if (lh_vec_valid(tv, i) &&
        lh__ttl_expired(ts, ((const int64_t *)tv->data)[i], j->now)) {
        return true;
    }
    if (j->rs->nlake == 0) {
        return false;
    }
    const lh_str *sv = &((const lh_str *)r->cols[j->stream].data)[i];
    const rule *ru = lh_map_get(&j->rs->by_stream, lh_str_data(sv), sv->len);
    if (ru == NULL) {
        return false;
    }
    int64_t version = ((const int64_t *)r->cols[j->version].data)[i];
    lh_us at = ((const int64_t *)r->cols[j->committed].data)[i];
    return version < ru->lo || at < ru->min_commit;
}

/* A file's bound of field id (lower or upper) as a value; false when
 * the file has none. */
static bool
bound(const lh__lake *l, const lh_ice_bound *b, uint32_t n, int32_t id,
      lh_value *out)
{
    const lh_ice_field *f = lh_ice_schema_find(&l->schema, id);
    for (uint32_t k = 0; f != NULL && k < n; k++) {
        if (b[k].id == id) {
            return lh_ice_value_from_bytes(&f->type, b[k].p, b[k].n, out,
                                           NULL) == LH_OK &&
                   !out->is_null;
        }
    }
    return false;
}

static int64_t
metric(const lh_ice_metric *m, uint32_t n, int32_t id, int64_t none)
{
    for (uint32_t k = 0; k < n; k++) {
        if (m[k].id == id) {
            return m[k].v;
        }
    }
    return none;
}

/* LOOK_RULES: only a rule's stream may be there (the probe tells). */
enum verdict { KEEP, LOOK, LOOK_RULES, DROP };

/* What a data file's metrics allow us to conclude. */
static enum verdict
judge_file(const lh__lake *l, const judge *j, const lh_ice_data_file *f)
{
    lh_value lo, hi;
    bool has_lo = bound(l, f->lower, f->nlower, LH__F_TS, &lo);
    bool has_hi = bound(l, f->upper, f->nupper, LH__F_TS, &hi);
    if (has_hi && hi.u.i < j->cutoff) {
        return DROP;
    }
    if (!has_lo || lo.u.i < j->cutoff) {
        return LOOK;
    }
    int64_t nulls =
        metric(f->null_counts, f->nnull_counts, LH__F_TTL_SECONDS, -1);
    if (nulls < 0 || nulls < f->record_count) {
        lh_value ttl;
        if (!bound(l, f->lower, f->nlower, LH__F_TTL_SECONDS, &ttl) ||
            lh__ttl_expired(lo.u.i, ttl.u.i, j->now)) {
            return LOOK;
        }
    }
    if (j->rs->nlake == 0) {
        return KEEP;
    }
    lh_value slo, shi;
    bool bounded = bound(l, f->lower, f->nlower, LH__F_STREAM, &slo) &&
                   bound(l, f->upper, f->nupper, LH__F_STREAM, &shi);
    for (const rule *ru = j->rs->all; ru != NULL; ru = ru->next) {
        if (!ru->lake) {
            continue;
        }
        if (!bounded) {
            return LOOK_RULES;
        }
        lh_value sv = {.type = {.id = LH_T_VARCHAR}};
        sv.u.s.p = ru->stream;
        sv.u.s.len = strlen(ru->stream);
        if (lh_ice_value_cmp(&slo, &sv) <= 0 &&
            lh_ice_value_cmp(&sv, &shi) <= 0) {
            return LOOK_RULES;
        }
    }
    return KEEP;
}

/* Whether the file of task t holds a row of a rule's stream: its stream
 * column read with `stream IN (the rules' streams)` pushed down, so that
 * the row groups whose Bloom filter has none of them are not read (a
 * stream's events are in most files' stream bounds: erasing one customer
 * must not read the whole lake). */
static lh_rc
probe_rules(lh__lake *l, const judge *j, const lh_ice_plan *plan,
            const lh_ice_task *t, bool *hit, lh_err *err)
{
    *hit = false;
    lh_ice_task probe = *t;
    lh_ice_expr in = {.op = LH_ICE_OP_IN,
                      .field_id = LH__F_STREAM,
                      .lits = j->rs->streams,
                      .nlits = j->rs->nlake};
    probe.residual = &in;
    int32_t ids[] = {LH__F_STREAM};
    lh_ice_reader *rd = NULL;
    lh_rc rc = lh_ice_read_open(l->ice, plan, &probe, ids, 1, &rd, err);
    while (rc == LH_OK && !*hit) {
        lh_batch b;
        rc = lh_ice_read_next(rd, &b, err);
        if (rc != LH_OK || b.count == 0) {
            break;
        }
        uint32_t n = b.sel ? b.nsel : b.count;
        for (uint32_t k = 0; k < n && !*hit; k++) {
            const lh_str *sv =
                &((const lh_str *)b.cols[0].data)[b.sel ? b.sel[k] : k];
            *hit = lh_map_has(&j->rs->by_stream, lh_str_data(sv), sv->len);
        }
    }
    if (rd != NULL) {
        lh_ice_read_close(rd);
    }
    return rc;
}

/* The changes of one lake pass (one commit). */
typedef struct change {
    lh_arena fa;
    lh_ice_data_file *add;
    const char **remove;
    uint32_t nadd, nremove;
} change;

/* Reads task t and, when some of its rows go, rewrites it without them
 * into ch (or drops it when none stays). */
static lh_rc
rewrite_file(lh__lake *l, const judge *j, const lh_ice_plan *plan,
             lh_ice_task *t, const lh__flush_opts *o, change *ch,
             lh__retention_result *res, lh_err *err)
{
    lh__rows r = {0};
    lh_arena_init(&r.a, 0);
    lh_rc rc = lh__read_tasks(l, plan, &t, 1, &r, err);
    uint32_t *keep = NULL, nkeep = 0;
    if (rc == LH_OK && r.n > 0) {
        keep = lh_malloc(r.n * sizeof(*keep));
        if (keep == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    for (uint32_t i = 0; rc == LH_OK && i < r.n; i++) {
        if (!row_goes(j, &r, i)) {
            keep[nkeep++] = i;
        }
    }
    if (rc == LH_OK && nkeep < r.n) {
        const lh_ice_data_file *f = t->file;
        bool cold = strstr(f->path, "/data/cold/") != NULL;
        const lh_hot_policy *p = &l->t->def->policy;
        static const lh_value null_value = {.is_null = true};
        if (nkeep > 0) {
            rc = lh__write_data_file(
                l, cold ? "cold" : "warm",
                cold ? p->cold_row_group_rows : p->warm_row_group_rows, "", &r,
                keep, nkeep, f->npartition > 0 ? &f->partition[0] : &null_value,
                &ch->fa, &ch->add[ch->nadd], err);
            if (rc == LH_OK) {
                ch->nadd++;
                res->files_rewritten++;
                if (o != NULL && o->on_step != NULL) {
                    o->on_step(o->ctx, "rewrite", -1);
                }
            }
        } else {
            res->files_dropped++;
        }
        if (rc == LH_OK) {
            ch->remove[ch->nremove++] = f->path;
            res->lake_removed += r.n - nkeep;
        }
    }
    lh_free(keep);
    lh_arena_release(&r.a);
    return rc;
}

/* The one commit of a pass: the files out and in, the marks carried. */
static lh_rc
commit_change(lh__lake *l, const change *ch, int64_t removed, lh_err *err)
{
    pthread_mutex_lock(&l->mu);
    lh_rc rc = lh__lake_refresh(l, err);
    lh_buf marks = LH_BUF_INIT;
    char count[32];
    snprintf(count, sizeof(count), "%lld", (long long)removed);
    if (rc == LH_OK &&
        lh__marks_format(l->marks, l->t->nshards, &marks) != LH_OK) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    if (rc == LH_OK) {
        lh_ice_kv sum[] = {{LH__MARKS_KEY, marks.data},
                           {"lakehouse.removed-events", count}};
        lh_ice_change c = {.add = ch->add,
                           .nadd = ch->nadd,
                           .remove = ch->remove,
                           .nremove = ch->nremove,
                           .summary = sum,
                           .nsummary = LH_ARRAY_LEN(sum),
                           .timestamp_ms = lh_now() / 1000};
        rc = lh_ice_commit(l->ice, &c, NULL, err);
    }
    lh_buf_release(&marks);
    pthread_mutex_unlock(&l->mu);
    return rc;
}

static lh_rc
purge_lake(lh__lake *l, lh_us now, const rules *rs, const lh__flush_opts *o,
           lh__retention_result *res, lh_err *err)
{
    pthread_mutex_lock(&l->mu);
    lh_rc rc = lh__lake_refresh(l, err);
    pthread_mutex_unlock(&l->mu);
    if (rc != LH_OK || l->ice == NULL) {
        return rc;
    }
    judge j = {.ts = lh__lake_col_index(l, LH__F_TS),
               .ttl = lh__lake_col_index(l, LH__F_TTL_SECONDS),
               .stream = lh__lake_col_index(l, LH__F_STREAM),
               .version = lh__lake_col_index(l, LH__F_VERSION),
               .committed = lh__lake_col_index(l, LH__F_COMMITTED_AT),
               .now = now,
               .cutoff = lh__retention_cutoff(&l->t->def->policy, now),
               .rs = rs};
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_plan plan;
    rc = lh_ice_plan_scan(l->ice, NULL, &a, &plan, err);
    change ch = {0};
    lh_arena_init(&ch.fa, 0);
    if (rc == LH_OK && plan.ntasks > 0) {
        ch.add = lh_arena_calloc(&ch.fa, plan.ntasks * sizeof(*ch.add));
        ch.remove = lh_arena_calloc(&ch.fa, plan.ntasks * sizeof(*ch.remove));
        if (ch.add == NULL || ch.remove == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    int64_t before = res->lake_removed;
    for (uint32_t i = 0; rc == LH_OK && i < plan.ntasks; i++) {
        lh_ice_task *t = &plan.tasks[i];
        switch (judge_file(l, &j, t->file)) {
        case DROP:
            ch.remove[ch.nremove++] = t->file->path;
            res->files_dropped++;
            res->lake_removed += t->file->record_count;
            break;
        case LOOK_RULES: {
            bool hit;
            rc = probe_rules(l, &j, &plan, t, &hit, err);
            if (rc == LH_OK && hit) {
                rc = rewrite_file(l, &j, &plan, t, o, &ch, res, err);
            }
            break;
        }
        case LOOK:
            rc = rewrite_file(l, &j, &plan, t, o, &ch, res, err);
            break;
        case KEEP:
            break;
        }
    }
    if (rc == LH_OK && ch.nremove > 0) {
        rc = commit_change(l, &ch, res->lake_removed - before, err);
        if (rc == LH_OK) {
            res->commits++;
            if (o != NULL && o->on_step != NULL) {
                o->on_step(o->ctx, "retain", -1);
            }
        }
    }
    lh_arena_release(&ch.fa);
    lh_arena_release(&a);
    return rc;
}

lh_rc
lh__retention(lh__lake *l, lh_us now, const lh__flush_opts *o,
              lh__retention_result *res, lh_err *err)
{
    lh_table *t = l->t;
    if (t->shards[0].db == NULL) {
        return lh_err_set(err, LH_EREADONLY,
                          "retention of \"%s\" needs the database opened for "
                          "writing",
                          t->def->name);
    }
    rules rs = {0};
    lh_arena_init(&rs.a, 0);
    lh_map_init(&rs.by_stream);
    lh_rc rc = LH_OK;
    for (int k = 0; rc == LH_OK && k < t->nshards; k++) {
        rc = shard_rules(&t->shards[k], now, &rs, err);
    }
    if (rc == LH_OK && rs.nlake > 0) {
        rs.streams = lh_arena_calloc(&rs.a, rs.nlake * sizeof(lh_value));
        uint32_t n = 0;
        for (const rule *ru = rs.all; rs.streams != NULL && ru != NULL;
             ru = ru->next) {
            if (ru->lake) {
                lh_value *v = &rs.streams[n++];
                v->type.id = LH_T_VARCHAR;
                v->u.s.p = ru->stream;
                v->u.s.len = strlen(ru->stream);
            }
        }
        if (rs.streams == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    if (rc == LH_OK) {
        rc = purge_hot(l, now, &rs, o, res, err);
    }
    if (rc == LH_OK) {
        rc = purge_lake(l, now, &rs, o, res, err);
    }
    for (const rule *ru = rs.all; rc == LH_OK && ru != NULL; ru = ru->next) {
        if (ru->lake) {
            rc = rule_done(&t->shards[ru->shard], ru, err);
        }
    }
    lh_map_release(&rs.by_stream);
    lh_arena_release(&rs.a);
    if (rc != LH_OK) {
        lh_err_prefix(err, "retention of \"%s\"", t->def->name);
    }
    return rc;
}

/* ---- erasure ------------------------------------------------------------- */

/* Runs sql with the stream bound as ?1 on s's write connection (s->mu
 * held). */
static lh_rc
exec_stream(lh_shard *s, const char *sql, const char *stream, int64_t v,
            lh_err *err)
{
    sqlite3_stmt *st;
    int r = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (r == SQLITE_OK) {
        sqlite3_bind_text(st, 1, stream, -1, SQLITE_STATIC);
        if (sqlite3_bind_parameter_count(st) >= 2) {
            sqlite3_bind_int64(st, 2, v);
        }
        r = sqlite3_step(st);
        r = r == SQLITE_DONE ? SQLITE_OK : r;
    }
    sqlite3_finalize(st);
    return r == SQLITE_OK ? LH_OK
                          : lh__sqlite_err(s->db, r, "erase a stream", err);
}

/* Hides the stream's versions so far (truncate_before past them, the
 * floor at them: reads stop returning them at once) and returns that
 * version (0: the shard does not have the stream). */
static lh_rc
erase_hide(lh_shard *s, const char *stream, int64_t *version, lh_err *err)
{
    pthread_mutex_lock(&s->mu);
    lh_rc rc = lh__stream_version(s->db, stream, version, err);
    if (rc == LH_OK && *version > 0) {
        rc = exec_stream(s,
                         "INSERT INTO streams(stream, version, "
                         "truncate_before) VALUES (?1, ?2, ?2 + 1) ON "
                         "CONFLICT(stream) DO UPDATE SET version = "
                         "max(version, ?2), truncate_before = "
                         "max(coalesce(truncate_before, 0), ?2 + 1)",
                         stream, *version, err);
        s->has_floors = true;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* What is left of the stream's bytes in the shard: its dedup rows, then
 * free pages and WAL frames (VACUUM rebuilds the file, the TRUNCATE
 * checkpoint empties the WAL). Appends to the shard wait meanwhile. */
static lh_rc
erase_traces(lh_shard *s, const char *stream, lh_err *err)
{
    pthread_mutex_lock(&s->mu);
    lh_rc rc =
        exec_stream(s, "DELETE FROM dedup WHERE stream = ?1", stream, 0, err);
    if (rc == LH_OK) {
        rc = lh__shard_exec(s, "VACUUM", err);
    }
    if (rc == LH_OK) {
        int r = sqlite3_wal_checkpoint_v2(
            s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        if (r != SQLITE_OK) {
            rc = lh__sqlite_err(s->db, r, "truncate the WAL", err);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

lh_rc
lh_stream_erase(lh_db *db, const char *table, const char *stream, lh_err *err)
{
    if (db->readonly) {
        return lh_err_set(err, LH_EREADONLY,
                          "cannot erase a stream through a read-only handle");
    }
    if (stream == NULL || stream[0] == 0) {
        return lh_err_set(err, LH_EINVAL, "a stream id is required");
    }
    lh_table *t;
    lh_rc rc = lh__db_table(db, table, &t, err);
    if (rc != LH_OK) {
        return rc;
    }
    /* A table sharded by a payload column may have the stream anywhere. */
    int first = 0, end = t->nshards;
    if (t->def->shard_col < 0) {
        first = lh__shard_of(t, stream, strlen(stream));
        end = first + 1;
    }
    bool found = false;
    for (int k = first; rc == LH_OK && k < end; k++) {
        lh_shard *s = &t->shards[k];
        int64_t v = 0, n = 0;
        rc = erase_hide(s, stream, &v, err);
        if (rc != LH_OK || v == 0) {
            continue;
        }
        found = true;
        lh__purge p = {.cond = "stream = ?7 AND version <= ?1",
                       .args = {v},
                       .text = stream,
                       .secure = true};
        rc = lh__shard_purge(s, &p, NULL, "erase", &n, err);
        if (rc == LH_OK) {
            rc = erase_traces(s, stream, err);
        }
    }
    if (rc == LH_OK && !found) {
        rc = lh_err_set(err, LH_ENOENT,
                        "stream \"%.200s\" has no events in table \"%s\"",
                        stream, table);
    } else if (rc != LH_OK) {
        lh_err_prefix(err, "erasing stream \"%.200s\"", stream);
    }
    return rc;
}
