/*
 * One shard: its SQLite file, its prepared statements, and the group-commit
 * handler that applies appends (the design is at the top of hot_int.h).
 */
#include <errno.h>
#include <string.h>
#include <xxhash.h>

#include "hot/hot_int.h"

#define SHARD_FORMAT 1

/* Large enough that a busy checkpoint by a reader never fails an append. */
#define BUSY_TIMEOUT_MS 10000

lh_rc
lh__sqlite_err(sqlite3 *db, int src, const char *what, lh_err *err)
{
    lh_rc code;
    switch (src & 0xff) {
    case SQLITE_FULL:
        code = LH_ENOSPC;
        break;
    case SQLITE_NOMEM:
        code = LH_ENOMEM;
        break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        code = LH_ECORRUPT;
        break;
    case SQLITE_READONLY:
        code = LH_EREADONLY;
        break;
    case SQLITE_CANTOPEN:
        code = LH_ENOENT;
        break;
    default:
        code = LH_EIO;
        break;
    }
    /* Growing the -shm or -wal file on a full disk is an I/O error to
     * SQLite, but a full disk to the user. */
    if (code == LH_EIO && db != NULL && sqlite3_system_errno(db) == ENOSPC) {
        code = LH_ENOSPC;
    }
    const char *m = db ? sqlite3_errmsg(db) : sqlite3_errstr(src);
    /* Name the file: with many shards, "malformed" alone says not which. */
    const char *file = db ? sqlite3_db_filename(db, "main") : NULL;
    lh_buf where = LH_BUF_INIT;
    if (file != NULL && file[0] != 0) {
        lh_buf_printf(&where, " in \"%s\"", file);
    }
    const char *in = where.data ? where.data : "";
    lh_rc rc = code == LH_ENOSPC
                   ? lh_err_set(err, code, "could not %s%s: disk full (%s)",
                                what, in, m)
                   : lh_err_set(err, code, "could not %s%s: %s", what, in, m);
    lh_buf_release(&where);
    return rc;
}

const char *
lh__sql_type(lh_type t)
{
    switch ((lh_type_id)t.id) {
    case LH_T_REAL:
    case LH_T_DOUBLE:
        return "REAL";
    case LH_T_VARCHAR:
    case LH_T_JSON:
        return "TEXT";
    case LH_T_BLOB:
    case LH_T_UUID:
    case LH_T_VECTOR:
        return "BLOB";
    case LH_T_DECIMAL:
        return t.precision <= 18 ? "INTEGER" : "BLOB";
    default:
        return "INTEGER";
    }
}

lh_rc
lh__bind_value(sqlite3_stmt *st, int idx, const lh_value *v)
{
    int r;
    if (v->is_null) {
        r = sqlite3_bind_null(st, idx);
        return r == SQLITE_OK ? LH_OK : LH_EINTERNAL;
    }
    switch ((lh_type_id)v->type.id) {
    case LH_T_BOOLEAN:
        r = sqlite3_bind_int(st, idx, v->u.b ? 1 : 0);
        break;
    case LH_T_REAL:
    case LH_T_DOUBLE:
        r = sqlite3_bind_double(st, idx, v->u.d);
        break;
    case LH_T_VARCHAR:
    case LH_T_JSON:
        r = sqlite3_bind_text(st, idx, v->u.s.p, (int)v->u.s.len,
                              SQLITE_STATIC);
        break;
    case LH_T_BLOB:
        /* An empty blob must stay a blob, not NULL. */
        r = sqlite3_bind_blob(st, idx, v->u.s.len ? v->u.s.p : "",
                              (int)v->u.s.len, SQLITE_STATIC);
        break;
    case LH_T_UUID:
        r = sqlite3_bind_blob(st, idx, v->u.uuid.b, 16, SQLITE_STATIC);
        break;
    case LH_T_VECTOR:
        r = sqlite3_bind_blob(st, idx, v->u.vec.v,
                              (int)(v->u.vec.n * sizeof(float)), SQLITE_STATIC);
        break;
    case LH_T_DECIMAL:
        if (v->type.precision <= 18) {
            r = sqlite3_bind_int64(st, idx, (int64_t)v->u.dec);
        } else {
            /* 16 bytes, little-endian two's complement (x86 and arm64 are
             * little-endian; the format says so explicitly). */
            r = sqlite3_bind_blob(st, idx, &v->u.dec, 16, SQLITE_TRANSIENT);
        }
        break;
    default:
        r = sqlite3_bind_int64(st, idx, v->u.i);
        break;
    }
    return r == SQLITE_OK ? LH_OK : LH_EINTERNAL;
}

lh_rc
lh__column_value(sqlite3_stmt *st, int idx, lh_type t, lh_value *out)
{
    memset(out, 0, sizeof(*out));
    out->type = t;
    if (sqlite3_column_type(st, idx) == SQLITE_NULL) {
        out->is_null = true;
        return LH_OK;
    }
    switch ((lh_type_id)t.id) {
    case LH_T_BOOLEAN:
        out->u.b = sqlite3_column_int(st, idx) != 0;
        break;
    case LH_T_REAL:
    case LH_T_DOUBLE:
        out->u.d = sqlite3_column_double(st, idx);
        break;
    case LH_T_VARCHAR:
    case LH_T_JSON:
        out->u.s.p = (const char *)sqlite3_column_text(st, idx);
        out->u.s.len = (size_t)sqlite3_column_bytes(st, idx);
        break;
    case LH_T_BLOB:
        out->u.s.p = sqlite3_column_blob(st, idx);
        out->u.s.len = (size_t)sqlite3_column_bytes(st, idx);
        break;
    case LH_T_UUID:
        if (sqlite3_column_bytes(st, idx) != 16) {
            return LH_ECORRUPT;
        }
        memcpy(out->u.uuid.b, sqlite3_column_blob(st, idx), 16);
        break;
    case LH_T_VECTOR: {
        int nb = sqlite3_column_bytes(st, idx);
        if (nb < 0 || (size_t)nb != t.dim * sizeof(float)) {
            return LH_ECORRUPT;
        }
        out->u.vec.v = sqlite3_column_blob(st, idx);
        out->u.vec.n = t.dim;
        break;
    }
    case LH_T_DECIMAL:
        if (t.precision <= 18) {
            out->u.dec = sqlite3_column_int64(st, idx);
        } else {
            if (sqlite3_column_bytes(st, idx) != 16) {
                return LH_ECORRUPT;
            }
            memcpy(&out->u.dec, sqlite3_column_blob(st, idx), 16);
        }
        break;
    default:
        out->u.i = sqlite3_column_int64(st, idx);
        break;
    }
    return LH_OK;
}

int
lh__shard_of(const lh_table *t, const char *key, size_t len)
{
    /* Jump consistent hash (Lamping & Veach 2014): adding shards moves only
     * 1/N of the keys. */
    uint64_t k = XXH64(key, len, 0);
    int64_t b = -1, j = 0;
    while (j < t->nshards) {
        b = j;
        k = k * 2862933555777941757ULL + 1;
        j = (int64_t)((double)(b + 1) *
                      ((double)(INT64_C(1) << 31) / (double)((k >> 33) + 1)));
    }
    return (int)b;
}

lh_rc
lh__shard_exec(lh_shard *s, const char *sql, lh_err *err)
{
    int r = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    if (r != SQLITE_OK) {
        return lh__sqlite_err(s->db, r, "run a statement on a shard", err);
    }
    return LH_OK;
}

static lh_rc
create_schema(lh_shard *s, lh_err *err)
{
    const lh_tabledef *d = s->table->def;
    lh_buf q = LH_BUF_INIT;
    lh_buf_puts(&q, "BEGIN;"
                    "CREATE TABLE meta(key TEXT PRIMARY KEY, value ANY) STRICT,"
                    " WITHOUT ROWID;"
                    "CREATE TABLE events("
                    "position INTEGER PRIMARY KEY,"
                    "event_id BLOB NOT NULL,"
                    "stream TEXT NOT NULL,"
                    "version INTEGER NOT NULL,"
                    "type TEXT NOT NULL,"
                    "ts INTEGER NOT NULL,"
                    "committed_at INTEGER NOT NULL,"
                    "partition_key TEXT NOT NULL,"
                    "schema_version INTEGER NOT NULL,"
                    "tier_hint TEXT,"
                    "ttl_seconds INTEGER,"
                    "content_hash INTEGER NOT NULL,"
                    "embedding BLOB");
    for (size_t i = 0; i < d->ncols; i++) {
        lh_buf_printf(&q, ",c%d %s", (int)d->cols[i].field_id,
                      lh__sql_type(d->cols[i].type));
    }
    lh_buf_printf(&q,
                  ") STRICT;"
                  "CREATE UNIQUE INDEX events_stream ON events(stream, "
                  "version);"
                  "CREATE UNIQUE INDEX events_id ON events(event_id);"
                  "CREATE INDEX events_ts ON events(ts);"
                  "CREATE TABLE streams(stream TEXT PRIMARY KEY,"
                  " version INTEGER NOT NULL DEFAULT 0, shard_key TEXT,"
                  " max_age_s INTEGER, max_count INTEGER,"
                  " truncate_before INTEGER) STRICT, WITHOUT ROWID;"
                  "CREATE TABLE dedup(event_id BLOB PRIMARY KEY,"
                  " stream TEXT NOT NULL, version INTEGER NOT NULL,"
                  " position INTEGER NOT NULL, content_hash INTEGER NOT NULL,"
                  " committed_at INTEGER NOT NULL) STRICT, WITHOUT ROWID;"
                  "INSERT INTO meta VALUES('format_version', %d);"
                  "INSERT INTO meta VALUES('shard', %d);"
                  "INSERT INTO meta VALUES('shards', %d);"
                  "COMMIT;",
                  SHARD_FORMAT, s->index, s->table->nshards);
    if (!lh_buf_ok(&q)) {
        lh_buf_release(&q);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = lh__shard_exec(s, q.data, err);
    lh_buf_release(&q);
    if (rc != LH_OK) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

static lh_rc
prepare(lh_shard *s, const char *sql, sqlite3_stmt **st, lh_err *err)
{
    int r =
        sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    if (r != SQLITE_OK) {
        return lh__sqlite_err(s->db, r, "prepare a shard statement", err);
    }
    return LH_OK;
}

static lh_rc
query_int(sqlite3 *c, const char *sql, int64_t *out, lh_err *err)
{
    sqlite3_stmt *st;
    int r = sqlite3_prepare_v2(c, sql, -1, &st, NULL);
    if (r != SQLITE_OK) {
        return lh__sqlite_err(c, r, "read a shard", err);
    }
    r = sqlite3_step(st);
    *out = 0;
    if (r == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        return lh__sqlite_err(c, r, "read a shard", err);
    }
    return LH_OK;
}

static lh_rc
check_meta(lh_shard *s, lh_err *err)
{
    int64_t fmt = 0, idx = -1, n = 0;
    lh_rc rc = query_int(
        s->db, "SELECT value FROM meta WHERE key='format_version'", &fmt, err);
    if (rc == LH_OK) {
        rc = query_int(s->db, "SELECT value FROM meta WHERE key='shard'", &idx,
                       err);
    }
    if (rc == LH_OK) {
        rc = query_int(s->db, "SELECT value FROM meta WHERE key='shards'", &n,
                       err);
    }
    if (rc == LH_EIO) {
        /* e.g. "no such table: meta": a database, but not a shard (the
         * message names the file) */
        rc = LH_ECORRUPT;
        if (err != NULL) {
            err->code = rc;
        }
    }
    if (rc != LH_OK) {
        return rc;
    }
    if (fmt != SHARD_FORMAT) {
        return lh_err_set(err, LH_EFORMAT,
                          "shard \"%s\" has format %lld, expected %d", s->path,
                          (long long)fmt, SHARD_FORMAT);
    }
    if (idx != s->index || n != s->table->nshards) {
        return lh_err_set(err, LH_ECORRUPT,
                          "shard \"%s\" says it is shard %lld of %lld, "
                          "expected %d of %d",
                          s->path, (long long)idx, (long long)n, s->index,
                          s->table->nshards);
    }
    return LH_OK;
}

static lh_rc
prepare_all(lh_shard *s, lh_err *err)
{
    const lh_tabledef *d = s->table->def;
    lh_buf q = LH_BUF_INIT;
    lh_buf_puts(&q, "INSERT INTO events(position, event_id, stream, version, "
                    "type, ts, committed_at, partition_key, schema_version, "
                    "tier_hint, ttl_seconds, content_hash, embedding");
    for (size_t i = 0; i < d->ncols; i++) {
        lh_buf_printf(&q, ", c%d", (int)d->cols[i].field_id);
    }
    lh_buf_puts(&q, ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?");
    for (size_t i = 0; i < d->ncols; i++) {
        lh_buf_puts(&q, ",?");
    }
    lh_buf_puts(&q, ")");
    if (!lh_buf_ok(&q)) {
        lh_buf_release(&q);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = prepare(s, q.data, &s->st_ins, err);
    lh_buf_release(&q);
    if (rc == LH_OK) {
        rc = prepare(s,
                     "SELECT stream, version, position, content_hash FROM "
                     "events WHERE event_id = ?",
                     &s->st_byid, err);
    }
    if (rc == LH_OK) {
        rc = prepare(s,
                     "SELECT stream, version, position, content_hash FROM "
                     "dedup WHERE event_id = ? AND committed_at >= ?",
                     &s->st_dedup, err);
    }
    if (rc == LH_OK) {
        rc = prepare(s, "SELECT max(version) FROM events WHERE stream = ?",
                     &s->st_maxver, err);
    }
    if (rc == LH_OK) {
        rc = prepare(s, "SELECT version FROM streams WHERE stream = ?",
                     &s->st_streamrow, err);
    }
    if (rc == LH_OK) {
        rc = prepare(s, "BEGIN IMMEDIATE", &s->st_begin, err);
    }
    if (rc == LH_OK) {
        rc = prepare(s, "COMMIT", &s->st_commit, err);
    }
    if (rc == LH_OK) {
        rc = prepare(s, "ROLLBACK", &s->st_rollback, err);
    }
    if (rc == LH_OK) {
        rc = prepare(s, "SAVEPOINT req", &s->st_savepoint, err);
    }
    if (rc == LH_OK) {
        rc = prepare(s, "ROLLBACK TO req", &s->st_rollback_to, err);
    }
    if (rc == LH_OK) {
        rc = prepare(s, "RELEASE req", &s->st_release, err);
    }
    return rc;
}

/* WAL frames after which the handler checkpoints: SQLite's default. */
#define CHECKPOINT_FRAMES 1000

static int
wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db;
    (void)name;
    lh_shard *s = arg;
    s->wal_frames = frames;
    return SQLITE_OK;
}

lh_rc
lh__shard_open(lh_shard *s, bool create, lh_err *err)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                (create ? SQLITE_OPEN_CREATE : 0);
    int r = sqlite3_open_v2(s->path, &s->db, flags, NULL);
    if (r != SQLITE_OK) {
        lh__sqlite_err(s->db, r, "open shard", err);
        if (err != NULL && strstr(err->msg, s->path) == NULL) {
            lh_err_prefix(err, "\"%s\"", s->path);
        }
        sqlite3_close(s->db);
        s->db = NULL;
        return err ? err->code : LH_EIO;
    }
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(s->db, 1);
    /* A new shard keeps a pointer map so that the space of the rows a flush
     * deletes can go back to the file system (lh__shard_reclaim); SQLite
     * takes this only before the first table, and before the WAL. */
    lh_rc rc = create ? lh__shard_exec(s, "PRAGMA auto_vacuum=INCREMENTAL", err)
                      : LH_OK;
    rc = rc != LH_OK ? rc
                     : lh__shard_exec(s,
                                      "PRAGMA journal_mode=WAL;"
                                      "PRAGMA synchronous=FULL;"
                                      "PRAGMA foreign_keys=OFF;"
                                      "PRAGMA cache_size=-16384;"
                                      /* The WAL is reused from its start once a
                                       * checkpoint caught up, but keeps its
                                       * largest size (a flush's deletes) unless
                                       * this cuts it back. */
                                      "PRAGMA journal_size_limit=16777216;",
                                      err);
    /* Checkpoints run after a group's waiters are acked (see the handler),
     * not inside the COMMIT that crosses the threshold, where they would
     * add a database write and fsync to that group's latency. */
    sqlite3_wal_autocheckpoint(s->db, 0);
    sqlite3_wal_hook(s->db, wal_hook, s);
    if (rc == LH_OK && create) {
        rc = create_schema(s, err);
    }
    if (rc == LH_OK) {
        rc = check_meta(s, err);
    }
    if (rc == LH_OK && !create) {
        /* The router reads a shard's min and max ts through this index
         * (exec/hot_src.c); shards made before it get it once here. */
        rc = lh__shard_exec(s,
                            "CREATE INDEX IF NOT EXISTS events_ts ON "
                            "events(ts)",
                            err);
    }
    if (rc == LH_OK) {
        rc = prepare_all(s, err);
    }
    int64_t maxpos = 0, markpos = 0, lastc = 0;
    if (rc == LH_OK) {
        rc = query_int(s->db, "SELECT max(position) FROM events", &maxpos, err);
    }
    if (rc == LH_OK) {
        rc =
            query_int(s->db, "SELECT value FROM meta WHERE key='last_position'",
                      &markpos, err);
    }
    if (rc == LH_OK) {
        /* committed_at never decreases with position (see the handler), so
         * the last row has the largest: one b-tree descent, where max()
         * would read every event of the shard on each open. */
        rc = query_int(s->db,
                       "SELECT committed_at FROM events ORDER BY position "
                       "DESC LIMIT 1",
                       &lastc, err);
    }
    int64_t dedup = 0, floors = 0;
    if (rc == LH_OK) {
        rc =
            query_int(s->db, "SELECT EXISTS(SELECT 1 FROM dedup)", &dedup, err);
    }
    if (rc == LH_OK) {
        rc = query_int(s->db,
                       "SELECT EXISTS(SELECT 1 FROM streams WHERE version > 0)",
                       &floors, err);
    }
    if (rc != LH_OK) {
        lh__shard_close(s);
        return rc;
    }
    s->has_dedup = dedup != 0;
    s->has_floors = floors != 0;
    s->last_position = LH_MAX(maxpos, markpos);
    s->last_committed = lastc;
    rc = lh__shard_vindex_open(s, err);
    if (rc != LH_OK) {
        lh__shard_close(s);
    }
    return rc;
}

/* Closes a pooled reader with the statements it keeps. */
/* A dropped table's connection must not touch its files as it closes:
 * the path may by now name a new table's shard, and SQLite's last
 * connection checkpoints and deletes "<path>-wal" by name. */
static void
close_quietly(sqlite3 *c, bool dropped)
{
    if (c != NULL && dropped) {
        sqlite3_db_config(c, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    }
    sqlite3_close(c);
}

static void
reader_close(sqlite3 *c, bool dropped)
{
    if (c == NULL) {
        return;
    }
    sqlite3_stmt *st;
    while ((st = sqlite3_next_stmt(c, NULL)) != NULL) {
        sqlite3_finalize(st);
    }
    close_quietly(c, dropped);
}

void
lh__shard_close(lh_shard *s)
{
    lh__shard_vindex_close(s);
    sqlite3_stmt **sts[] = {
        &s->st_ins,       &s->st_byid,        &s->st_dedup,  &s->st_maxver,
        &s->st_streamrow, &s->st_begin,       &s->st_commit, &s->st_rollback,
        &s->st_savepoint, &s->st_rollback_to, &s->st_release};
    for (size_t i = 0; i < LH_ARRAY_LEN(sts); i++) {
        sqlite3_finalize(*sts[i]);
        *sts[i] = NULL;
    }
    bool dropped = s->table != NULL && atomic_load(&s->table->dropped);
    if (s->ckpt_db != NULL) {
        close_quietly(s->ckpt_db, dropped);
        s->ckpt_db = NULL;
    }
    if (s->db != NULL) {
        close_quietly(s->db, dropped);
        s->db = NULL;
    }
    if (s->path != NULL) {
        for (int i = 0; i < s->nreaders; i++) {
            reader_close(s->readers[i], dropped);
        }
        s->nreaders = 0;
        pthread_mutex_destroy(&s->mu);
        pthread_mutex_destroy(&s->vpending_mu);
        pthread_mutex_destroy(&s->readers_mu);
    }
    lh_free(s->path);
    s->path = NULL;
}

lh_rc
lh__shard_open_reader(const char *path, sqlite3 **out, lh_err *err)
{
    sqlite3 *c = NULL;
    int r = sqlite3_open_v2(path, &c,
                            SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (r != SQLITE_OK) {
        lh__sqlite_err(c, r, "open shard for reading", err);
        if (err != NULL && strstr(err->msg, path) == NULL) {
            lh_err_prefix(err, "\"%s\"", path);
        }
        sqlite3_close(c);
        return err ? err->code : LH_EIO;
    }
    sqlite3_busy_timeout(c, BUSY_TIMEOUT_MS);
    *out = c;
    return LH_OK;
}

lh_rc
lh__shard_reader_get(lh_shard *s, sqlite3 **out, lh_err *err)
{
    pthread_mutex_lock(&s->readers_mu);
    bool dropped = atomic_load(&s->table->dropped);
    sqlite3 *c = !dropped && s->nreaders > 0 ? s->readers[--s->nreaders] : NULL;
    pthread_mutex_unlock(&s->readers_mu);
    if (dropped) {
        /* its path may name a new table of the same name by now */
        return lh_err_set(err, LH_ENOENT, "table \"%s\" was dropped",
                          s->table->def->name);
    }
    if (c != NULL) {
        *out = c;
        return LH_OK;
    }
    return lh__shard_open_reader(s->path, out, err);
}

void
lh__shard_readers_drop(lh_shard *s)
{
    pthread_mutex_lock(&s->readers_mu);
    for (int i = 0; i < s->nreaders; i++) {
        reader_close(s->readers[i], true);
    }
    s->nreaders = 0;
    pthread_mutex_unlock(&s->readers_mu);
}

void
lh__shard_reader_put(lh_shard *s, sqlite3 *c)
{
    if (c == NULL) {
        return;
    }
    /* The statements it keeps (lh__reader_stmt) stay, reset. */
    bool idle = sqlite3_get_autocommit(c);
    for (sqlite3_stmt *st = sqlite3_next_stmt(c, NULL); idle && st != NULL;
         st = sqlite3_next_stmt(c, st)) {
        idle = !sqlite3_stmt_busy(st);
    }
    pthread_mutex_lock(&s->readers_mu);
    bool dropped = atomic_load(&s->table->dropped);
    if (idle && !dropped && s->nreaders < LH_SHARD_READERS) {
        s->readers[s->nreaders++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&s->readers_mu);
    reader_close(c, dropped);
}

lh_rc
lh__reader_stmt(sqlite3 *c, const char *sql, sqlite3_stmt **out, lh_err *err)
{
    /* The connection's own list of statements is the cache (newest
     * first): a reader runs a handful of texts, so a walk with strcmp is
     * cheaper than a map, and nothing outside SQLite has to follow a
     * connection through the pool. */
    int n = 0;
    sqlite3_stmt *oldest = NULL;
    for (sqlite3_stmt *st = sqlite3_next_stmt(c, NULL); st != NULL;
         st = sqlite3_next_stmt(c, st)) {
        if (sqlite3_stmt_busy(st)) {
            continue;
        }
        if (strcmp(sqlite3_sql(st), sql) == 0) {
            *out = st;
            return LH_OK;
        }
        n++;
        oldest = st;
    }
    if (n >= LH_READER_STMTS) {
        sqlite3_finalize(oldest); /* texts with other columns or predicates */
    }
    int r =
        sqlite3_prepare_v3(c, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    if (r != SQLITE_OK) {
        sqlite3_finalize(*out);
        *out = NULL;
        return lh__sqlite_err(c, r, "prepare a read", err);
    }
    return LH_OK;
}

void
lh__reader_stmt_done(sqlite3_stmt *st)
{
    if (st != NULL) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

/* Runs a prepared statement that returns no rows. */
static int
step_reset(sqlite3_stmt *st)
{
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    return r == SQLITE_DONE || r == SQLITE_ROW ? SQLITE_OK : r;
}

lh_rc
lh__stream_version(sqlite3 *c, const char *stream, int64_t *out, lh_err *err)
{
    /* Works on any connection (the reader's too): not the cached
     * statements. */
    sqlite3_stmt *st = NULL;
    int r = sqlite3_prepare_v2(
        c,
        "SELECT max(coalesce((SELECT max(version) FROM events WHERE stream = "
        "?1), 0), coalesce((SELECT version FROM streams WHERE stream = ?1), "
        "0))",
        -1, &st, NULL);
    if (r == SQLITE_OK) {
        sqlite3_bind_text(st, 1, stream, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
    }
    *out = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (r != SQLITE_ROW) {
        return lh__sqlite_err(c, r, "read a stream's version", err);
    }
    return LH_OK;
}

/* The current version through the shard's cached statements. */
static lh_rc
current_version(lh_shard *s, const char *stream, int64_t *out, lh_err *err)
{
    int64_t v = 0;
    sqlite3_bind_text(s->st_maxver, 1, stream, -1, SQLITE_STATIC);
    int r = sqlite3_step(s->st_maxver);
    if (r == SQLITE_ROW) {
        v = sqlite3_column_int64(s->st_maxver, 0);
    }
    sqlite3_reset(s->st_maxver);
    if (r != SQLITE_ROW) {
        return lh__sqlite_err(s->db, r, "read a stream's version", err);
    }
    if (!s->has_floors) {
        *out = v; /* no stream has left the hot tier: events say it all */
        return LH_OK;
    }
    sqlite3_bind_text(s->st_streamrow, 1, stream, -1, SQLITE_STATIC);
    r = sqlite3_step(s->st_streamrow);
    if (r == SQLITE_ROW) {
        v = LH_MAX(v, sqlite3_column_int64(s->st_streamrow, 0));
    }
    sqlite3_reset(s->st_streamrow);
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        return lh__sqlite_err(s->db, r, "read a stream's version", err);
    }
    *out = v;
    return LH_OK;
}

typedef struct prior {
    bool found;
    char stream[LH_MAX_STREAM + 1];
    int64_t version, position, hash;
} prior;

static lh_rc
lookup_id(lh_shard *s, sqlite3_stmt *st, const lh_uuid *id, prior *p,
          lh_err *err)
{
    sqlite3_bind_blob(st, 1, id->b, 16, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        p->found = true;
        snprintf(p->stream, sizeof(p->stream), "%s",
                 (const char *)sqlite3_column_text(st, 0));
        p->version = sqlite3_column_int64(st, 1);
        p->position = sqlite3_column_int64(st, 2);
        p->hash = sqlite3_column_int64(st, 3);
    }
    sqlite3_reset(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        return lh__sqlite_err(s->db, r, "look up an event id", err);
    }
    return LH_OK;
}

/* Per-stream state while applying one request. */
typedef struct stream_state {
    int64_t version; /* the stream's version after the events so far */
    bool from_dup;   /* version came from an idempotent retry */
    bool db_checked; /* the database agreed with it */
    bool has_base;
    int64_t base; /* the committed version, before this request */
} stream_state;

/* cur: the version the expectation was checked against; base: the
 * stream's committed version. They differ when earlier events of the same
 * request moved the stream: the error then says so, and current_version
 * is still the stream's real version (nothing of the request lands). */
static lh_rc
conflict(lh_err *err, const lh_hot_event *e, int64_t cur, int64_t base)
{
    char expected[64];
    switch (e->expect) {
    case LH_EXPECT_NO_STREAM:
        snprintf(expected, sizeof(expected), "no stream");
        break;
    case LH_EXPECT_STREAM_EXISTS:
        snprintf(expected, sizeof(expected), "an existing stream");
        break;
    default:
        snprintf(expected, sizeof(expected), "version %lld",
                 (long long)e->expected_version);
        break;
    }
    lh_rc rc;
    if (cur != base) {
        rc = lh_err_set(err, LH_ECONFLICT,
                        "version conflict on stream \"%s\": expected %s, but "
                        "the earlier events of this append lead to version "
                        "%lld (current version %lld)",
                        e->stream, expected, (long long)cur, (long long)base);
    } else {
        rc = lh_err_set(err, LH_ECONFLICT,
                        "version conflict on stream \"%s\": expected %s, "
                        "current version %lld",
                        e->stream, expected, (long long)cur);
    }
    if (err != NULL) {
        err->current_version = base;
        snprintf(err->field, sizeof(err->field), "expected_version");
    }
    return rc;
}

static bool
expectation_holds(const lh_hot_event *e, int64_t cur)
{
    switch (e->expect) {
    case LH_EXPECT_NO_STREAM:
        return cur == 0;
    case LH_EXPECT_STREAM_EXISTS:
        return cur > 0;
    case LH_EXPECT_EXACT:
        return cur == e->expected_version;
    default:
        return true;
    }
}

static lh_rc
insert_event(lh_shard *s, const lh_hot_event *e, int64_t version,
             int64_t position, lh_us committed_at, lh_err *err)
{
    const lh_tabledef *d = s->table->def;
    sqlite3_stmt *st = s->st_ins;
    sqlite3_bind_int64(st, 1, position);
    sqlite3_bind_blob(st, 2, e->id.b, 16, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, e->stream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, version);
    sqlite3_bind_text(st, 5, e->type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, e->ts);
    sqlite3_bind_int64(st, 7, committed_at);
    sqlite3_bind_text(st, 8, e->partition_key, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, d->schema_version);
    if (e->tier_hint != NULL) {
        sqlite3_bind_text(st, 10, e->tier_hint, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 10);
    }
    if (e->ttl_seconds > 0) {
        sqlite3_bind_int64(st, 11, e->ttl_seconds);
    } else {
        sqlite3_bind_null(st, 11);
    }
    sqlite3_bind_int64(st, 12, e->content_hash);
    if (e->embedding != NULL) {
        sqlite3_bind_blob(st, 13, e->embedding,
                          (int)(e->embedding_len * sizeof(float)),
                          SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 13);
    }
    for (size_t i = 0; i < d->ncols; i++) {
        if (lh__bind_value(st, 14 + (int)i, &e->vals[i]) != LH_OK) {
            sqlite3_reset(st);
            return lh_err_set(err, LH_EINTERNAL, "could not bind column %s",
                              d->cols[i].name);
        }
    }
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (r == SQLITE_CONSTRAINT_UNIQUE || r == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return LH_EEXIST; /* the event id is known: the caller looks */
    }
    if (r != SQLITE_DONE) {
        return lh__sqlite_err(s->db, r, "insert an event", err);
    }
    return LH_OK;
}

/* An event whose id is known (p): the same event again is an idempotent
 * retry (acked as it was), another event under that id is an error. */
static lh_rc
take_duplicate(lh_shard *s, lh_hot_event *e, const prior *p, stream_state *ss,
               lh_err *err)
{
    if (strcmp(p->stream, e->stream) != 0 || p->hash != e->content_hash) {
        char idtxt[LH_UUID_STRLEN + 1];
        lh_uuid_format(&e->id, idtxt);
        lh_err_set(err, LH_EINVAL,
                   "event id %s was already used for a different event "
                   "(stream \"%s\", version %lld)",
                   idtxt, p->stream, (long long)p->version);
        if (err != NULL) {
            snprintf(err->field, sizeof(err->field), "event_id");
        }
        return LH_EINVAL;
    }
    ss->version = p->version;
    ss->from_dup = true;
    ss->db_checked = false;
    lh_uuid_format(&e->id, e->ack->event_id);
    e->ack->version = p->version;
    e->ack->position = p->position;
    e->ack->shard = s->index;
    e->ack->duplicate = true;
    return LH_OK;
}

lh_rc
lh__shard_all_known(lh_shard *s, const lh_shard_req *req, bool *all,
                    lh_err *err)
{
    lh_us dedup_since = lh_now() - s->table->db->dedup_window;
    *all = true;
    for (size_t i = 0; i < req->nevs && *all; i++) {
        prior p = {.found = false};
        lh_rc rc = lookup_id(s, s->st_byid, &req->evs[i]->id, &p, err);
        if (rc == LH_OK && !p.found && s->has_dedup) {
            sqlite3_bind_int64(s->st_dedup, 2, dedup_since);
            rc = lookup_id(s, s->st_dedup, &req->evs[i]->id, &p, err);
        }
        if (rc != LH_OK) {
            return rc;
        }
        *all = p.found;
    }
    return LH_OK;
}

/* Applies one request's events in order. Idempotency comes first: an
 * event id seen before makes the event a retry, whatever the expectation
 * says. The events table's unique index on event_id does the looking for
 * the common case (a new event costs no extra lookup): an insert that hits
 * it, or an expectation that fails, is when we look the id up. Ids of
 * events that left the hot tier are in the dedup table, probed first when
 * it has rows. */
lh_rc
lh__shard_apply(lh_shard *s, lh_shard_req *req, lh_us committed_at, lh_err *err)
{
    lh_map streams;
    lh_map_init(&streams);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_rc rc = LH_OK;
    lh_us dedup_since = lh_now() - s->table->db->dedup_window;
    size_t fail = req->nevs;
    for (size_t i = 0; i < req->nevs && rc == LH_OK; i++) {
        lh_hot_event *e = req->evs[i];
        fail = i;
        size_t slen = strlen(e->stream);
        stream_state *ss = lh_map_get(&streams, e->stream, slen);
        int64_t cur;
        if (ss == NULL) {
            rc = current_version(s, e->stream, &cur, err);
            if (rc != LH_OK) {
                break;
            }
            ss = lh_arena_calloc(&a, sizeof(*ss));
            if (ss == NULL ||
                lh_map_put(&streams, e->stream, slen, ss, NULL) != LH_OK) {
                rc = lh_err_set(err, LH_ENOMEM, "out of memory");
                break;
            }
            ss->version = cur;
            ss->db_checked = true;
            ss->has_base = true;
            ss->base = cur;
        }
        prior p = {.found = false};
        if (s->has_dedup) {
            sqlite3_bind_int64(s->st_dedup, 2, dedup_since);
            rc = lookup_id(s, s->st_dedup, &e->id, &p, err);
            if (rc == LH_OK && p.found) {
                rc = take_duplicate(s, e, &p, ss, err);
                continue;
            }
            if (rc != LH_OK) {
                break;
            }
        }
        if (ss->from_dup && !ss->db_checked) {
            /* New events after retried ones continue the stream only if
             * nothing was appended since the retried events. */
            rc = lookup_id(s, s->st_byid, &e->id, &p, err);
            if (rc == LH_OK && p.found) {
                rc = take_duplicate(s, e, &p, ss, err);
                continue;
            }
            if (rc == LH_OK) {
                rc = current_version(s, e->stream, &cur, err);
            }
            if (rc != LH_OK) {
                break;
            }
            if (cur != ss->version) {
                rc = lh_err_set(err, LH_ECONFLICT,
                                "version conflict on stream \"%s\": the "
                                "retried events end at version %lld, current "
                                "version %lld",
                                e->stream, (long long)ss->version,
                                (long long)cur);
                if (err != NULL) {
                    err->current_version = cur;
                }
                break;
            }
            ss->db_checked = true;
        }
        cur = ss->version;
        if (!expectation_holds(e, cur)) {
            rc = lookup_id(s, s->st_byid, &e->id, &p, err);
            if (rc == LH_OK && p.found) {
                rc = take_duplicate(s, e, &p, ss, err);
                continue;
            }
            if (rc == LH_OK) {
                rc = conflict(err, e, cur, ss->base);
            }
            break;
        }
        int64_t version = cur + 1;
        int64_t position = s->last_position + 1;
        rc = insert_event(s, e, version, position, committed_at, err);
        if (rc == LH_EEXIST) {
            rc = lookup_id(s, s->st_byid, &e->id, &p, err);
            if (rc == LH_OK && p.found) {
                rc = take_duplicate(s, e, &p, ss, err);
            } else if (rc == LH_OK) {
                char idtxt[LH_UUID_STRLEN + 1];
                lh_uuid_format(&e->id, idtxt);
                rc = lh_err_set(err, LH_EINTERNAL,
                                "event %s: a unique index refused version "
                                "%lld of stream \"%s\"",
                                idtxt, (long long)version, e->stream);
            }
            continue;
        }
        if (rc != LH_OK) {
            break;
        }
        s->last_position = position;
        ss->version = version;
        lh_uuid_format(&e->id, e->ack->event_id);
        e->ack->version = version;
        e->ack->position = position;
        e->ack->shard = s->index;
        e->ack->duplicate = false;
    }
    if (rc != LH_OK && err != NULL && err->index < 0 && fail < req->nevs) {
        err->index = (int64_t)req->evs[fail]->index;
    }
    lh_map_release(&streams);
    lh_arena_release(&a);
    return rc;
}

static void
fail_req(lh_shard_req *r, lh_rc rc, const lh_err *err)
{
    r->rc = rc;
    r->err = *err;
}

void
lh__table_notify(lh_table *t)
{
    pthread_mutex_lock(&t->notify_mu);
    atomic_fetch_add(&t->commits, 1);
    pthread_cond_broadcast(&t->notify_cv);
    pthread_mutex_unlock(&t->notify_mu);
}

static bool
step_ok(sqlite3_stmt *st)
{
    return step_reset(st) == SQLITE_OK;
}

void
lh__shard_handle(void *owner, lh_msg **msgs, size_t n)
{
    lh_shard *s = owner;
    lh_err err;
    lh_err_clear(&err);
    pthread_mutex_lock(&s->mu);
    /* committed_at never goes backwards within a shard, even if the clock
     * does. */
    lh_us committed_at = LH_MAX(lh_now(), s->last_committed);
    int64_t group_start = s->last_position;
    bool any_ok = false;
    lh__vindex_batch vb = {0};
    int r = step_reset(s->st_begin);
    if (r != SQLITE_OK) {
        lh__sqlite_err(s->db, r, "begin a transaction", &err);
        for (size_t i = 0; i < n; i++) {
            fail_req((lh_shard_req *)msgs[i], err.code, &err);
        }
        goto signal;
    }
    /* A savepoint lets one request fail without the others. A group of one
     * needs none: if it fails, nothing commits and the ROLLBACK below
     * undoes it (two statements fewer to parse per single-event append). */
    bool savepoints = n > 1;
    for (size_t i = 0; i < n; i++) {
        lh_shard_req *req = (lh_shard_req *)msgs[i];
        int64_t req_start = s->last_position;
        req->rc = LH_OK;
        if (savepoints && !step_ok(s->st_savepoint)) {
            lh__sqlite_err(s->db, sqlite3_errcode(s->db), "start a savepoint",
                           &req->err);
            req->rc = req->err.code;
            continue;
        }
        lh_err_clear(&req->err);
        lh_rc rc = lh__shard_apply(s, req, committed_at, &req->err);
        if (rc == LH_OK) {
            any_ok = true;
        } else {
            req->rc = rc;
            s->last_position = req_start;
            /* SQLite may have rolled the whole transaction back (a full
             * disk can do that), or the savepoint cannot be undone: then
             * every request of the group failed, and nothing of it may
             * commit. */
            bool whole = sqlite3_get_autocommit(s->db) ||
                         (savepoints && !step_ok(s->st_rollback_to)) ||
                         !savepoints;
            if (whole) {
                if (!sqlite3_get_autocommit(s->db)) {
                    step_reset(s->st_rollback);
                }
                for (size_t k = 0; k < n; k++) {
                    if (k != i) {
                        fail_req((lh_shard_req *)msgs[k], rc, &req->err);
                    }
                }
                s->last_position = group_start;
                any_ok = false;
                goto signal;
            }
        }
        if (savepoints && !step_ok(s->st_release)) {
            lh__sqlite_err(s->db, sqlite3_errcode(s->db), "release a savepoint",
                           &err);
            if (!sqlite3_get_autocommit(s->db)) {
                step_reset(s->st_rollback);
            }
            for (size_t k = 0; k < n; k++) {
                fail_req((lh_shard_req *)msgs[k], err.code, &err);
            }
            s->last_position = group_start;
            any_ok = false;
            goto signal;
        }
    }
    r = step_reset(any_ok ? s->st_commit : s->st_rollback);
    if (r != SQLITE_OK) {
        lh__sqlite_err(s->db, r, "commit appends", &err);
        if (!sqlite3_get_autocommit(s->db)) {
            step_reset(s->st_rollback);
        }
        s->last_position = group_start;
        for (size_t i = 0; i < n; i++) {
            lh_shard_req *req = (lh_shard_req *)msgs[i];
            if (req->rc == LH_OK) {
                fail_req(req, err.code, &err);
            }
        }
        goto signal;
    }
    if (any_ok) {
        s->last_committed = committed_at;
        lh__shard_count_group(s, n);
        lh__shard_vindex_take(s, msgs, n, &vb);
    }
signal:
    pthread_mutex_unlock(&s->mu);
    if (any_ok) {
        lh__table_notify(s->table);
    }
    for (size_t i = 0; i < n; i++) {
        lh_shard_req *req = (lh_shard_req *)msgs[i];
        if (req->rc != LH_OK) {
            /* Nothing of a failed request landed: its acks say so. */
            for (size_t k = 0; k < req->nevs; k++) {
                memset(req->evs[k]->ack, 0, sizeof(lh_event_ack));
            }
            /* Conflicts and bad input speak of streams and events; other
             * failures say where they happened. */
            if (req->rc != LH_ECONFLICT && req->rc != LH_EINVAL) {
                lh_err_prefix(&req->err, "shard %d of table \"%s\"", s->index,
                              s->table->def->name);
            }
            req->err.code = req->rc;
        }
        lh_done_signal(req->done);
    }
    /* after the acks: appends never wait for the graph */
    lh__shard_vindex_feed(s, &vb);
    lh__shard_checkpoint_maybe(s);
}

void
lh__shard_checkpoint_maybe(lh_shard *s)
{
    /* The checkpoint goes to the database's checkpointer thread, on its
     * own connection: the next group never waits for it. */
    pthread_mutex_lock(&s->mu);
    bool want = s->wal_frames >= CHECKPOINT_FRAMES;
    if (want) {
        s->wal_frames = 0;
    }
    pthread_mutex_unlock(&s->mu);
    if (want) {
        atomic_store(&s->ckpt_wanted, true);
        lh__checkpointer_kick(s->table->db);
    }
}

void
lh__shard_checkpoint_request(lh_shard *s)
{
    pthread_mutex_lock(&s->mu);
    s->wal_frames = 0;
    pthread_mutex_unlock(&s->mu);
    atomic_store(&s->ckpt_wanted, true);
    lh__checkpointer_kick(s->table->db);
}

/* ---- giving deleted rows' space back ---------------------------------------
 */

/* Free pages a shard keeps for its next appends: a quarter of what it holds,
 * and at least keep_min_bytes. */
static int64_t
reclaim_keep(int64_t live_pages, int64_t page_size, int64_t keep_min_bytes)
{
    return LH_MAX(live_pages / 4, keep_min_bytes / LH_MAX(page_size, 1));
}

lh_rc
lh__shard_reclaim_step(lh_shard *s, int64_t keep_min_bytes, int64_t max_pages,
                       int64_t *released, lh_err *err)
{
    *released = 0;
    if (s->db == NULL) {
        return LH_OK; /* read-only: nothing of ours to give back */
    }
    pthread_mutex_lock(&s->mu);
    int64_t pages = 0, free_pages = 0, page_size = 0, mode = 0;
    lh_rc rc = query_int(s->db, "PRAGMA page_count", &pages, err);
    if (rc == LH_OK) {
        rc = query_int(s->db, "PRAGMA freelist_count", &free_pages, err);
    }
    if (rc == LH_OK) {
        rc = query_int(s->db, "PRAGMA page_size", &page_size, err);
    }
    if (rc == LH_OK) {
        rc = query_int(s->db, "PRAGMA auto_vacuum", &mode, err);
    }
    int64_t live = pages - free_pages;
    int64_t excess = free_pages - reclaim_keep(live, page_size, keep_min_bytes);
    char sql[64];
    if (rc != LH_OK || excess <= 0) {
        /* nothing (more) to give back */
    } else if (mode == 2) {
        /* incremental: the last pages move into free ones, the file is cut
         * at the next checkpoint; one bounded transaction at a time, so an
         * append waits for at most one */
        int64_t n = LH_MIN(excess, LH_MAX(max_pages, 1));
        snprintf(sql, sizeof sql, "PRAGMA incremental_vacuum(%lld)",
                 (long long)n);
        rc = lh__shard_exec(s, sql, err);
        *released = rc == LH_OK ? n : 0;
    } else if (live * page_size <= LH__RECLAIM_VACUUM_BYTES) {
        /* A shard made before the pointer map: VACUUM rewrites what it
         * holds (little, right after a flush) and turns the map on, once. */
        rc = lh__shard_exec(s, "PRAGMA auto_vacuum=INCREMENTAL; VACUUM", err);
        *released = rc == LH_OK ? free_pages : 0;
    }
    pthread_mutex_unlock(&s->mu);
    if (rc != LH_OK) {
        lh_err_prefix(err, "giving the space of deleted rows back in \"%s\"",
                      s->path);
    }
    return rc;
}

/* ---- the checkpointer ------------------------------------------------------
 */

/* Runs PASSIVE checkpoints (never waiting for readers or the writer; what
 * they still need is copied by a later one) for shards that asked, on a
 * connection of its own per shard. A failure loses nothing (the WAL keeps
 * the frames), so it is only logged. */
static void
checkpoint_shard(lh_shard *s)
{
    if (atomic_load(&s->table->dropped)) {
        return; /* its path may name a new table's shard by now */
    }
    if (s->ckpt_db == NULL) {
        int r =
            sqlite3_open_v2(s->path, &s->ckpt_db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
        if (r != SQLITE_OK) {
            lh_log(LH_LOG_WARN, "checkpointer cannot open \"%s\": %s", s->path,
                   sqlite3_errstr(r));
            sqlite3_close(s->ckpt_db);
            s->ckpt_db = NULL;
            return;
        }
        sqlite3_busy_timeout(s->ckpt_db, BUSY_TIMEOUT_MS);
    }
    int r = sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL,
                                      SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (r != SQLITE_OK && r != SQLITE_BUSY) {
        lh_log(LH_LOG_WARN, "checkpoint of \"%s\" failed: %s", s->path,
               sqlite3_errstr(r));
    }
    atomic_fetch_add(&s->checkpoints, r == SQLITE_OK);
}

static void *
checkpointer_main(void *arg)
{
    lh_db *db = arg;
    for (;;) {
        pthread_mutex_lock(&db->ckpt_mu);
        while (!db->ckpt_pending && !db->ckpt_stop) {
            pthread_cond_wait(&db->ckpt_cv, &db->ckpt_mu);
        }
        bool stop = db->ckpt_stop;
        db->ckpt_pending = false;
        pthread_mutex_unlock(&db->ckpt_mu);
        if (stop) {
            return NULL;
        }
        /* Tables are only added while the database is open, never freed:
         * the shards stay valid once seen. */
        pthread_mutex_lock(&db->mu);
        size_t nt = db->tables.count, k = 0;
        lh_table **tables = lh_calloc(nt ? nt : 1, sizeof(lh_table *));
        size_t it = 0;
        const void *key;
        size_t kl;
        void *v;
        while (tables != NULL && lh_map_next(&db->tables, &it, &key, &kl, &v)) {
            tables[k++] = v;
        }
        pthread_mutex_unlock(&db->mu);
        for (size_t ti = 0; ti < k; ti++) {
            for (int i = 0; i < tables[ti]->nshards; i++) {
                lh_shard *s = &tables[ti]->shards[i];
                if (atomic_exchange(&s->ckpt_wanted, false)) {
                    checkpoint_shard(s);
                }
            }
        }
        lh_free(tables);
    }
}

lh_rc
lh__checkpointer_start(lh_db *db, lh_err *err)
{
    pthread_mutex_init(&db->ckpt_mu, NULL);
    pthread_cond_init(&db->ckpt_cv, NULL);
    int e = pthread_create(&db->ckpt_thread, NULL, checkpointer_main, db);
    if (e != 0) {
        pthread_mutex_destroy(&db->ckpt_mu);
        pthread_cond_destroy(&db->ckpt_cv);
        return lh_err_sys(err, LH_EIO, e, "could not start the checkpointer");
    }
    db->ckpt_running = true;
    return LH_OK;
}

void
lh__checkpointer_kick(lh_db *db)
{
    if (!db->ckpt_running) {
        return;
    }
    pthread_mutex_lock(&db->ckpt_mu);
    db->ckpt_pending = true;
    pthread_cond_signal(&db->ckpt_cv);
    pthread_mutex_unlock(&db->ckpt_mu);
}

void
lh__checkpointer_stop(lh_db *db)
{
    if (!db->ckpt_running) {
        return;
    }
    pthread_mutex_lock(&db->ckpt_mu);
    db->ckpt_stop = true;
    pthread_cond_signal(&db->ckpt_cv);
    pthread_mutex_unlock(&db->ckpt_mu);
    pthread_join(db->ckpt_thread, NULL);
    pthread_mutex_destroy(&db->ckpt_mu);
    pthread_cond_destroy(&db->ckpt_cv);
    db->ckpt_running = false;
}
