/*
 * lakehouse.h: the public C API of lakehouse, an event-sourced lakehouse.
 *
 * A database is a directory. A table is an event log: every row is an event
 * with envelope columns (event_id, stream, version, type, ts, committed_at,
 * shard, position, ...) and the typed payload columns its schema declares.
 * Events are appended to per-stream logs with optimistic concurrency
 * (expected versions) and idempotency (event ids), and read back by stream or
 * table-wide from a checkpoint.
 *
 * Conventions (the same for every function here):
 * - Every function that can fail returns an lh_rc and, when `err` is not
 *   NULL, fills it with a message a user can act on. LH_OK is 0.
 * - Handles (lh_db, lh_reader) are opaque and owned by the caller, who
 *   closes them. Strings and arrays passed in are borrowed for the call
 *   only unless a function says otherwise. Memory returned as `const` is
 *   borrowed from the handle, valid until the call the doc names.
 * - Thread rules: an lh_db may be shared by any number of threads; appends
 *   from many threads are group-committed. An lh_reader is used by one
 *   thread at a time.
 */
#ifndef LAKEHOUSE_H
#define LAKEHOUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(LH_BUILDING)
#define LH_API __attribute__((visibility("default")))
#else
#define LH_API
#endif

/* ---- errors ----------------------------------------------------------------
 */

typedef enum lh_rc {
    LH_OK = 0,
    LH_EINVAL = 1,        /* bad input: JSON, a type, a name, an option */
    LH_ENOMEM = 2,        /* out of memory or past a memory budget */
    LH_EIO = 3,           /* the OS or SQLite failed to read or write */
    LH_ENOENT = 4,        /* no such table, directory or object */
    LH_EEXIST = 5,        /* already exists */
    LH_ECONFLICT = 6,     /* expected version or append condition failed */
    LH_ELOCKED = 7,       /* the data directory is held by another process */
    LH_EFORMAT = 8,       /* data directory of another format version */
    LH_ENOSPC = 9,        /* disk full; nothing was written */
    LH_ECORRUPT = 10,     /* stored data fails a check */
    LH_ELIMIT = 11,       /* a size or count limit was exceeded */
    LH_ETIMEDOUT = 12,    /* a wait ran out */
    LH_ECANCELED = 13,    /* stopped on request */
    LH_EREADONLY = 14,    /* a write through a read-only handle */
    LH_EUNSUPPORTED = 15, /* not implemented (yet) */
    LH_EINTERNAL = 16,    /* a bug: an invariant did not hold */
} lh_rc;

/* Filled by a failing call. Fields that do not apply are 0 / empty, and
 * -1 for offset, index and current_version. */
typedef struct lh_err {
    lh_rc code;
    int sys_errno;           /* errno, when the OS reported the failure */
    int http_status;         /* for object-store failures */
    int64_t offset;          /* byte or SQL offset into the input, or -1 */
    int64_t index;           /* which item of a batch (0-based), or -1 */
    int64_t current_version; /* LH_ECONFLICT: the stream's version, or -1 */
    char field[64];          /* the input field at fault, e.g. "data.qty" */
    char msg[512];           /* lowercase, no final period */
} lh_err;

/* The name of a code, e.g. "LH_ECONFLICT" (static storage). */
LH_API const char *lh_rc_name(lh_rc rc);

/* ---- library
 * ------------------------------------------------------------------ */

/* Optional; called by lh_db_open. Reads LH_LOG and LH_NOW. LH_EINVAL when
 * LH_NOW is set but not an ISO-8601 timestamp. */
LH_API lh_rc lh_global_init(lh_err *err);

/* "Now" in µs since the Unix epoch, UTC: frozen at $LH_NOW when set. */
LH_API int64_t lh_clock_now(void);
/* A simulated clock: from now on lh_clock_now(), and everything the
 * product means by now (default ts, committed_at, windows, TTLs, SQL
 * now()), is `at` (µs since the epoch), as LH_NOW makes it for a whole
 * process; 0 goes back to LH_NOW or the real clock. For simulations
 * (lakehouse demo) and tests: set it while no other thread uses the
 * library. Snapshot times of the lake still never go back. */
LH_API void lh_clock_set(int64_t at);

/* ---- database
 * ------------------------------------------------------------------ */

typedef struct lh_db lh_db;

/* The data directory's format version; another version is refused. */
#define LH_FORMAT_VERSION 1

enum {
    LH_OPEN_READONLY = 1 << 0, /* no lock, no writes; readers may run while
                                  another process writes */
    LH_OPEN_CREATE = 1 << 1,   /* create and initialize DIR if missing */
};

typedef struct lh_db_options {
    unsigned flags;         /* LH_OPEN_* */
    int threads;            /* shard worker threads; 0 = 4 per CPU, <= 32 */
    int64_t dedup_window_s; /* event-id dedup window; 0 = 7 days */
} lh_db_options;

/* Creates DIR (and parents' last component) as an empty lakehouse data
 * directory. LH_EEXIST if DIR already holds one; LH_EINVAL if DIR exists and
 * is not empty and not a lakehouse directory. */
LH_API lh_rc lh_db_init(const char *dir, lh_err *err);

/* Opens the data directory DIR. A writer takes an advisory lock that dies
 * with the process; a second writer gets LH_ELOCKED naming the holder's pid.
 * LH_ENOENT if DIR is not a data directory (without LH_OPEN_CREATE),
 * LH_EFORMAT if it was written by another format version. `opts` may be
 * NULL. On success *out is a handle to close with lh_db_close. */
LH_API lh_rc lh_db_open(const char *dir, const lh_db_options *opts, lh_db **out,
                        lh_err *err);

/* Closes every shard and releases the lock. Like sqlite3_close, it
 * requires that no other call on db is running and that every reader and
 * subscription of db is closed first. NULL is a no-op. */
LH_API void lh_db_close(lh_db *db);

/* ---- tables
 * ----------------------------------------------------------------------- */

/* Creates a table from its JSON definition:
 *   {"name": "orders",
 *    "columns": [{"name": "product_id", "type": "BIGINT", "nullable": false},
 *                {"name": "note", "type": "VARCHAR(200)"}, ...],
 *    "partition_by": "day(ts)", "cluster_by": ["tenant_id"],
 *    "hot_window": "72h", "shard_by": "tenant_id", "shards": 16,
 *    "embedding_dim": 1024}
 * Types: BOOLEAN, SMALLINT, INT/INTEGER, BIGINT, REAL, DOUBLE,
 * DECIMAL(p,s) (p <= 38), VARCHAR[(n)], BLOB, DATE, TIME, TIMESTAMP,
 * TIMESTAMPTZ, UUID, JSON, FLOAT[n]. LH_EINVAL naming the field at fault;
 * LH_EEXIST if the table exists. */
LH_API lh_rc lh_table_create(lh_db *db, const char *json, size_t len,
                             lh_err *err);

/* The table names, sorted; *names is an array of *count strings, freed as a
 * whole with lh_free_strings. */
LH_API lh_rc lh_table_list(lh_db *db, char ***names, size_t *count,
                           lh_err *err);
LH_API void lh_free_strings(char **names, size_t count);

/* The table's normalized definition as JSON (caller frees with lh_free_mem). */
LH_API lh_rc lh_table_describe(lh_db *db, const char *table, char **json,
                               lh_err *err);
LH_API void lh_free_mem(void *p);

/* Drops the table: its events in every tier (the hot shards and the
 * lake's Iceberg table with its files) are gone, and the name is free for
 * lh_table_create. Waits for a flush or compaction of the table in
 * progress. Queries already running on the table may fail ("was
 * dropped"); appends already past their lookup may still be acknowledged
 * and are dropped with it. Crash-safe: after a crash the table is either
 * whole or gone; if its lake was not yet removed, the name stays reserved
 * (lh_table_create says so) until lh_table_drop runs again. The space of
 * the hot files is returned when the database closes. LH_ENOENT when no
 * such table exists, LH_EREADONLY for a read-only handle, the store's
 * codes when the lake cannot be removed (call again). */
LH_API lh_rc lh_table_drop(lh_db *db, const char *table, lh_err *err);

/* ---- append
 * ------------------------------------------------------------------------ */

typedef enum lh_expect {
    LH_EXPECT_ANY = 0,           /* no check */
    LH_EXPECT_NO_STREAM = 1,     /* the stream must not exist */
    LH_EXPECT_STREAM_EXISTS = 2, /* the stream must exist */
    LH_EXPECT_EXACT = 3,         /* the stream's version must equal .version */
} lh_expect;

/* A payload value given typed, without JSON (the fast path for programs
 * that hold typed data). Which kinds a column takes:
 *   LH_CELL_INT     integer types; DATE (days since 1970-01-01), TIME (µs
 *                   since midnight), TIMESTAMP[TZ] (µs since the epoch);
 *                   REAL/DOUBLE
 *   LH_CELL_DOUBLE  REAL, DOUBLE
 *   LH_CELL_BOOL    BOOLEAN
 *   LH_CELL_TEXT    VARCHAR, JSON, and any type's text form ("19.99" for a
 *                   DECIMAL, a UUID's text, "2026-01-01T00:00:00Z")
 *   LH_CELL_BYTES   BLOB; UUID (16 bytes); FLOAT[n] (n floats, 4n bytes)
 *   LH_CELL_NULL    NULL
 * Text and bytes are borrowed for the call. */
typedef enum lh_cell_kind {
    LH_CELL_NULL = 0,
    LH_CELL_BOOL = 1,
    LH_CELL_INT = 2,
    LH_CELL_DOUBLE = 3,
    LH_CELL_TEXT = 4,
    LH_CELL_BYTES = 5,
} lh_cell_kind;

typedef struct lh_cell {
    int kind; /* lh_cell_kind */
    union {
        bool b;
        int64_t i;
        double d;
        struct {
            const void *p;
            size_t len;
        } s;
    } u;
} lh_cell;

/* One event to append. Only `stream` and `type` are required. The first
 * event of a stream in a call carries the stream's expectation; later events
 * of the same stream in the same call must say LH_EXPECT_ANY (or the exact
 * version the earlier ones lead to). */
typedef struct lh_event_in {
    const char *event_id; /* UUID text; NULL = a new UUIDv7 */
    const char *stream;
    const char *type;
    const char *ts;        /* ISO-8601; NULL = now */
    const char *data_json; /* JSON object of payload columns; NULL = {} */
    size_t data_len;       /* 0 = strlen(data_json) */
    const lh_cell *cells;  /* or: one cell per payload column, in the
                              table's column order (not with data_json) */
    size_t ncells;
    const float *embedding; /* NULL, or embedding_dim floats */
    size_t embedding_len;
    lh_expect expect;
    int64_t expected_version;  /* for LH_EXPECT_EXACT (0 = empty stream) */
    const char *partition_key; /* NULL = the UTC day of ts */
    const char *tier_hint;     /* NULL, "hot", "warm" or "cold" */
    int64_t ttl_seconds;       /* 0 = none */
} lh_event_in;

/* Where an appended (or already present, on an idempotent retry) event
 * landed. */
typedef struct lh_event_ack {
    char event_id[37];
    int64_t version;
    int64_t position;
    int32_t shard;
    bool duplicate; /* true: an idempotent retry; nothing was written */
} lh_event_ack;

/* A condition across streams (the dynamic consistency boundary pattern):
 * the append happens only if no event whose type is one of `types` (all
 * types when ntypes is 0) and whose payload column `column` equals `value`
 * (no column filter when column is NULL) committed after `after` (a
 * checkpoint token, NULL = the beginning). Otherwise LH_ECONFLICT. */
typedef struct lh_append_condition {
    const char *const *types;
    size_t ntypes;
    const char *column;
    const char *value_json; /* the column's value as JSON, e.g. "42" */
    const char *after;
} lh_append_condition;

/* Appends n events to table. The whole call is validated first (types,
 * required columns, lengths, shard keys): on bad input nothing is written
 * and err names the event (err->index) and field (err->field). Then each
 * shard's part commits atomically and durably (fsynced) before this returns;
 * with events in several shards a failure in one shard leaves the others'
 * parts committed. acks (n entries, caller-provided, may be NULL) receive
 * where each event landed; after a failure, the events whose ack has
 * position 0 did not land, the others did.
 *
 * Idempotency: an event whose event_id was appended before (within the
 * dedup window) with the same stream, type and data is not written again;
 * its original ack is returned with .duplicate set. This is checked before
 * expected versions and append conditions, so a retried call succeeds
 * although its stream moved on. New events that follow retried ones of the
 * same stream in one call must continue where the retried ones end: if the
 * stream moved on since, that is LH_ECONFLICT. An id names one event in
 * the whole table: the same id with different content, or on a stream of
 * another shard, is LH_EINVAL (field "event_id").
 *
 * Errors: LH_EINVAL, LH_ENOENT (no table), LH_ECONFLICT (expected version:
 * err->current_version holds the stream's version; or the condition),
 * LH_ENOSPC (disk full: nothing of that shard's part was written),
 * LH_EIO, LH_EREADONLY. cond may be NULL. */
LH_API lh_rc lh_append(lh_db *db, const char *table, const lh_event_in *evs,
                       size_t n, const lh_append_condition *cond,
                       lh_event_ack *acks, lh_err *err);

/* ---- reading
 * ------------------------------------------------------------------------ */

/* An event as read. Borrowed from its reader: valid until the next
 * lh_reader_next or lh_reader_close on that reader. */
typedef struct lh_event {
    const char *event_id; /* UUID text */
    const char *stream;
    int64_t version;
    const char *type;
    int64_t ts;           /* µs since epoch, UTC */
    int64_t committed_at; /* µs since epoch, UTC */
    int32_t shard;
    int64_t position;
    const char *checkpoint; /* the token that resumes after this event */
    const char *data_json;  /* payload as a JSON object (output rules) */
    const float *embedding; /* NULL or embedding_len floats */
    size_t embedding_len;
    const char *partition_key;
    int32_t schema_version;
    /* The same values as text, by the output rules every command follows
     * (shared/design/output-formats.md): ts and committed_at in TIMESTAMP
     * form ("2026-11-25 12:00:00.5"), the embedding as a JSON array of
     * shortest round-trip floats (NULL when the event has none). */
    const char *ts_text;
    const char *committed_at_text;
    const char *embedding_json;
} lh_event;

typedef struct lh_reader lh_reader;

typedef enum lh_direction {
    LH_FORWARD = 0,
    LH_BACKWARD = 1,
} lh_direction;

/* Reads one stream from version `from` (inclusive; forward: 0 or 1 = the
 * first, backward: -1 = the last), at most `limit` events (0 = all).
 * Honours the stream's metadata (max-age, max-count, truncate-before).
 * A stream that does not exist reads as empty. */
LH_API lh_rc lh_read_stream(lh_db *db, const char *table, const char *stream,
                            int64_t from, lh_direction dir, int64_t limit,
                            lh_reader **out, lh_err *err);

/* Reads the whole table after `checkpoint` ("0" or NULL = from the
 * beginning), in commit order within each shard and by commit time across
 * shards. With `follow`, the reader continues with events committed later
 * (see lh_reader_wait). LH_EINVAL for a malformed checkpoint. */
LH_API lh_rc lh_read_all(lh_db *db, const char *table, const char *checkpoint,
                         bool follow, lh_reader **out, lh_err *err);

/* The next event: LH_OK with *ev set, or LH_OK with *ev = NULL when the
 * reader has nothing more right now (a following reader can then wait). */
LH_API lh_rc lh_reader_next(lh_reader *r, const lh_event **ev, lh_err *err);

/* For a following reader: blocks until new events may be there or
 * timeout_ms passes (LH_ETIMEDOUT), or lh_reader_cancel is called
 * (LH_ECANCELED). Then call lh_reader_next again. */
LH_API lh_rc lh_reader_wait(lh_reader *r, int timeout_ms, lh_err *err);

/* Makes a blocked or later lh_reader_wait return LH_ECANCELED. Safe from any
 * thread (and from a signal handler). */
LH_API void lh_reader_cancel(lh_reader *r);

/* The checkpoint after everything read so far (borrowed, valid until the
 * next call on r). */
LH_API const char *lh_reader_checkpoint(lh_reader *r);

LH_API void lh_reader_close(lh_reader *r);

/* A catch-up subscription: calls cb for each event after `checkpoint`, then
 * for each new one as it commits, on a thread of its own, until cb returns
 * non-zero or lh_subscription_close. */
typedef struct lh_subscription lh_subscription;
typedef int (*lh_event_cb)(void *ud, const lh_event *ev);
LH_API lh_rc lh_subscribe(lh_db *db, const char *table, const char *checkpoint,
                          lh_event_cb cb, void *ud, lh_subscription **out,
                          lh_err *err);
/* Stops the subscription and joins its thread. */
LH_API void lh_subscription_close(lh_subscription *s);

/* ---- stream metadata
 * ------------------------------------------------------------------ */

typedef struct lh_stream_meta {
    int64_t max_age_s;       /* 0 = none: older events are not read */
    int64_t max_count;       /* 0 = none: only the last N are read */
    int64_t truncate_before; /* 0 = none: versions below are not read */
} lh_stream_meta;

LH_API lh_rc lh_stream_set_meta(lh_db *db, const char *table,
                                const char *stream, const lh_stream_meta *meta,
                                lh_err *err);
/* Erases a stream (a user's right to erasure): every event of it so far
 * leaves the hot tier at once (the bytes zeroed in the shard file, its WAL
 * checkpointed and truncated, its ids dropped from the dedup table), reads
 * stop returning them at once (truncate_before becomes its version + 1;
 * later appends continue the version sequence and stay visible), and the
 * next pipeline run rewrites the lake's files that hold some; once
 * snapshot expiry has removed the older snapshots, no file under the data
 * directory holds them. LH_ENOENT when the stream has no event;
 * LH_EREADONLY; LH_EIO and LH_ENOMEM (then call it again: it is
 * idempotent). */
LH_API lh_rc lh_stream_erase(lh_db *db, const char *table, const char *stream,
                             lh_err *err);
/* A stream that was never written has version 0. */
LH_API lh_rc lh_stream_info(lh_db *db, const char *table, const char *stream,
                            int64_t *version, lh_stream_meta *meta,
                            lh_err *err);

/* ---- table state: watching commits, statistics --------------------------
 * For servers and metrics: what a table holds and how its group commits
 * go, without reading its events. */

/* The data directory the handle was opened on (borrowed from db, valid
 * until lh_db_close). */
LH_API const char *lh_db_dir(lh_db *db);
/* Whether db was opened with LH_OPEN_READONLY. */
LH_API bool lh_db_readonly(lh_db *db);

/* The checkpoint just after the table's last committed event: a read_all
 * from it returns only what commits later. Caller frees *checkpoint with
 * lh_free_mem. LH_ENOENT (no table), LH_EIO. */
LH_API lh_rc lh_table_head(lh_db *db, const char *table, char **checkpoint,
                           lh_err *err);

/* Blocks until this process commits to `table` after *seen, a value an
 * earlier call left there (start with 0: the first call returns at once
 * with the current value), or timeout_ms passes (LH_ETIMEDOUT; -1 waits
 * for ever). On LH_OK *seen holds the table's new commit count. Only
 * commits made through this process's handles are seen: LH_EREADONLY for a
 * read-only db. Safe from any thread. */
LH_API lh_rc lh_table_wait(lh_db *db, const char *table, uint64_t *seen,
                           int timeout_ms, lh_err *err);

/* Group-commit size buckets: bucket i counts the groups of at most 2^i
 * append requests (and more than 2^(i-1)); the last one counts the rest. */
#define LH_GROUP_BUCKETS 12

enum {
    LH_STATS_COUNT = 1 << 0, /* also count events and bytes (reads every
                                shard: costs time on large tables) */
};

typedef struct lh_table_stats {
    int32_t shards;
    int64_t hot_events; /* with LH_STATS_COUNT, else -1 */
    int64_t hot_bytes;  /* with LH_STATS_COUNT: shard files, WAL included;
                           else -1 */
    /* Since this process opened the table (0 for a read-only db): */
    uint64_t commits;         /* group commits (one fsync each) */
    uint64_t commit_requests; /* shard parts of append calls in them */
    uint64_t group_size[LH_GROUP_BUCKETS];
} lh_table_stats;

/* Fills *out for `table`. flags: LH_STATS_*. LH_ENOENT, LH_EIO. */
LH_API lh_rc lh_table_stats_get(lh_db *db, const char *table, unsigned flags,
                                lh_table_stats *out, lh_err *err);

/* ---- tiering: the pipeline and the tiers -----------------------------------
 * Events move from the hot tier (the shards' SQLite files) into the
 * table's Iceberg table (warm Parquet files, later compacted into cold
 * ones) as the table's policy says (lh_table_create: hot_window,
 * flush_rows, flush_bytes, ...; docs/internals/pipeline.md). The lake is
 * file://DIR/lake unless the policy's "lake" names an object store. Every
 * window follows lh_clock_now() (LH_NOW). */

typedef struct lh_pipeline_stats {
    int64_t flushes;        /* Iceberg commits that moved events out */
    int64_t events_flushed; /* events those commits hold */
    int64_t files_written;  /* Parquet data files */
    int64_t bytes_written;
    int64_t finished;    /* rows of interrupted flushes deleted from shards */
    int64_t compactions; /* partitions rewritten into the cold tier */
    int64_t files_compacted;   /* warm and cold files they replaced */
    int64_t expired_snapshots; /* lake snapshots past the policy's age */
    int64_t events_removed;    /* by TTL, retention, stream metadata and
                                  erasures, from every tier */
    int64_t files_rewritten;   /* lake files rewritten or dropped for them */
    int64_t failures;          /* jobs that failed (each logged) */
    bool idle;                 /* nothing more was due when the run ended */
} lh_pipeline_stats;

/* Runs the jobs due now on every table: each shard's flush (hot to warm)
 * of the events past its policy, then the table's retention (expired
 * events, those older than `retention` and the versions stream metadata
 * and erasures hide, out of the shards and the lake), its compaction
 * (partitions past warm_window into the cold layout) and its snapshot expiry
 * (snapshot_max_age, keeping snapshot_min_count). With until_idle, runs again
 * until nothing is due. A failed job is logged and the others still run; the
 * first failure's code and message are returned. db must be writable
 * (LH_EREADONLY). st (may be NULL) receives the counts. */
LH_API lh_rc lh_pipeline_run(lh_db *db, bool until_idle, lh_pipeline_stats *st,
                             lh_err *err);

/* The same jobs in the background: each shard's alarm runs its table's
 * flush when due (at the time its last run stored, so the timers survive
 * restarts; now for a shard that never ran), each table's its compaction
 * and snapshot expiry; failures are logged and retried with a backoff
 * from 1 s to 5 min. Tables created later are not seen. Stop it before
 * lh_db_close. LH_EREADONLY, LH_ENOMEM, LH_EIO. */
typedef struct lh_pipeline lh_pipeline;
LH_API lh_rc lh_pipeline_start(lh_db *db, lh_pipeline **out, lh_err *err);
/* Waits for a job in progress, then stops. NULL is a no-op. */
LH_API void lh_pipeline_stop(lh_pipeline *p);

/* What one tier of a table holds. */
typedef struct lh_tier_stats {
    char table[64];
    const char *tier; /* "hot", "warm" or "cold" (static storage) */
    int64_t rows;
    int64_t files; /* hot: shard files holding rows; else data files */
    int64_t bytes; /* hot: those files (WAL included); else data files */
    bool empty;    /* no rows: min_ts and max_ts are 0, their texts "" */
    int64_t min_ts, max_ts; /* of the events' ts, µs since the epoch */
    /* The same in TIMESTAMP text form ("2026-11-25 12:00:00.5"). */
    char min_ts_text[40], max_ts_text[40];
} lh_tier_stats;

/* Three entries per table (hot, warm, cold, in that order), tables by
 * name; only `table` unless NULL (LH_ENOENT when it does not exist).
 * Works on a read-only db. Free *out with lh_free_mem. */
LH_API lh_rc lh_tiers_get(lh_db *db, const char *table, lh_tier_stats **out,
                          size_t *n, lh_err *err);

/* ---- server ----------------------------------------------------------------
 * `lakehouse serve`: the HTTP JSON API (docs/openapi.json) and the
 * PostgreSQL wire protocol over one database opened for writing. The
 * server holds the database for its whole life: close it after
 * lh_server_close. */

/* Options, set by name: the names of the config file's JSON object
 * ("max_connections"), read with dashes too ("max-connections", the
 * command line's form), and as environment variables LAKEHOUSE_<NAME>
 * ("LAKEHOUSE_MAX_CONNECTIONS"). lh_server_options lists them. */
typedef struct lh_server_config lh_server_config;

typedef struct lh_server_option {
    const char *name;
    const char *def;  /* the default, as text ("" = none) */
    bool flag;        /* a boolean: --name alone means true */
    const char *help; /* one line */
} lh_server_option;

/* The options (static storage); *n receives how many. */
LH_API const lh_server_option *lh_server_options(size_t *n);
/* A config holding every default. LH_ENOMEM. */
LH_API lh_rc lh_server_config_new(lh_server_config **out, lh_err *err);
LH_API void lh_server_config_free(lh_server_config *c);
/* Sets one option from its text. LH_ENOENT for an unknown name, LH_EINVAL
 * naming the option and the value and what it wants. */
LH_API lh_rc lh_server_config_set(lh_server_config *c, const char *name,
                                  const char *value, lh_err *err);
/* Sets the options of a JSON object file ({"http": "0.0.0.0:8080",
 * "max_connections": 2000, "insecure_no_auth": true}); values are strings,
 * whole numbers or booleans. LH_ENOENT (no file), LH_EINVAL naming the
 * file, line or option. */
LH_API lh_rc lh_server_config_load(lh_server_config *c, const char *path,
                                   lh_err *err);
/* Sets every option whose LAKEHOUSE_<NAME> variable is set. LH_EINVAL
 * naming the variable. */
LH_API lh_rc lh_server_config_env(lh_server_config *c, lh_err *err);

typedef struct lh_server lh_server;

/* Binds the listening sockets and starts serving on threads of its own;
 * returns once the sockets listen. Writes DIR/server.json (the pid and
 * URLs, removed at close) for CLI commands that find DIR locked.
 * Listening beyond loopback without any token is refused unless the
 * insecure_no_auth option is set. LH_EREADONLY (db is read-only),
 * LH_EEXIST (an address is in use), LH_EINVAL (an option, a TLS file, the
 * token rule), LH_EIO, LH_ENOMEM. c is copied. */
LH_API lh_rc lh_server_start(lh_db *db, const lh_server_config *c,
                             lh_server **out, lh_err *err);
/* The bound address of "http" or "pg" ("127.0.0.1:8080"; the real port
 * when 0 was asked), or NULL when that protocol is off. Borrowed. */
LH_API const char *lh_server_address(lh_server *s, const char *protocol);
/* Begins a graceful stop: no new connections, requests in flight finish,
 * event streams end, then the threads exit. Async-signal-safe. */
LH_API void lh_server_stop(lh_server *s);
/* Blocks until the server has stopped (after lh_server_stop). */
LH_API void lh_server_wait(lh_server *s);
/* Stops (if running), waits, and frees the server. NULL is a no-op. */
LH_API void lh_server_close(lh_server *s);

/* ---- API tokens ------------------------------------------------------------
 * Stored hashed in DIR/tokens.json. Once any exists, every interface of a
 * server requires one: HTTP Authorization: Bearer, PostgreSQL password.
 * Roles: "reader" may read and query, "writer" may also append, "admin"
 * may also create tables and manage tokens. */

/* Creates a token named `name` (1-63 of [A-Za-z0-9_.-]) with `role`;
 * *token receives the secret ("lh_" + 64 hex digits; free with
 * lh_free_mem): it is not stored and cannot be shown again. db must be
 * opened for writing (LH_EREADONLY). LH_EINVAL (name, role; err->field),
 * LH_EEXIST, LH_EIO, LH_ENOSPC. */
LH_API lh_rc lh_token_create(lh_db *db, const char *name, const char *role,
                             char **token, lh_err *err);
/* LH_ENOENT when there is no such token; LH_EREADONLY. */
LH_API lh_rc lh_token_revoke(lh_db *db, const char *name, lh_err *err);
/* The tokens as a JSON array of {"name", "role", "created_at"} (caller
 * frees with lh_free_mem). */
LH_API lh_rc lh_token_list(lh_db *db, char **json, lh_err *err);

/* ---- Parquet files
 * ------------------------------------------------------------------ */

/* Prints a Parquet file's rows to `out` in the forms of output-formats.md
 * ("csv", "json", "ndjson" or "table"; nested values as JSON). columns is
 * a comma-separated list of top-level column names (NULL = all), limit the
 * most rows (-1 = all). LH_ENOENT / LH_EIO for the file, LH_EFORMAT for a
 * file that is not Parquet, LH_EUNSUPPORTED ("unsupported: <feature>"),
 * LH_ECORRUPT naming the column, row group and page at fault, LH_EINVAL
 * for an unknown column or format. Rows printed before a failure stay
 * printed. */
typedef struct lh_parquet_cat_opts {
    const char *columns;
    int64_t limit;
    const char *format; /* NULL = "csv" */
} lh_parquet_cat_opts;
LH_API lh_rc lh_parquet_cat(const char *path, const lh_parquet_cat_opts *opts,
                            FILE *out, lh_err *err);

/* Prints a file's structure: schema (physical, logical and lakehouse
 * types, field ids), row groups and their column chunks (encodings,
 * codec, sizes, statistics, page index and bloom filter presence), as
 * text or, with json, as one JSON object. Codes as lh_parquet_cat. */
LH_API lh_rc lh_parquet_inspect(const char *path, bool json, FILE *out,
                                lh_err *err);

/* Writes a Parquet file at out_path from a CSV or NDJSON file, told apart
 * by in_path's extension (.csv; .ndjson, .jsonl, .json). CSV is RFC 4180
 * with a header row as output-formats.md writes it (an empty unquoted
 * field is NULL, "" the empty string), so `parquet cat --format csv`
 * output reads back as the same values; NDJSON is one object a line, keys
 * are columns, a missing key is NULL.
 * The columns come from schema_path, a JSON file {"columns": [{"name":
 * "qty", "type": "DECIMAL(10,2)", "nullable": false, "field_id": 1},
 * ...]} (the column objects of a table's JSON; other keys are ignored;
 * nullable defaults to true), or, when it is NULL, from the input: a first
 * pass infers BIGINT, DOUBLE, BOOLEAN, DATE, TIMESTAMP, TIMESTAMPTZ (a
 * zone or Z given), else VARCHAR, and for NDJSON JSON for arrays, objects
 * and columns of mixed kinds; columns in first-seen order, all nullable.
 * codec is a name lh_pq_codec_parse takes (NULL = "zstd"), row_group_rows
 * 0 = 122880, bloom a comma-separated list of columns that get Bloom
 * filters (NULL = none), page_v2 writes DataPageV2 pages.
 * The file appears at out_path only when complete (written beside it,
 * fsynced, renamed); on any failure nothing is left there and a file that
 * was there stays as it was.
 * LH_EINVAL for bad input, with the line and column named
 * (`"in.csv" line 3, column "qty": invalid INTEGER "abc"`), a bad schema
 * or option, an unknown --bloom column; LH_EUNSUPPORTED for the LZO codec;
 * LH_ENOENT / LH_EIO / LH_ENOSPC for the files; LH_ENOMEM. */
typedef struct lh_parquet_write_opts {
    const char *schema_path;
    const char *codec;
    int64_t row_group_rows;
    const char *bloom;
    bool page_v2;
} lh_parquet_write_opts;
LH_API lh_rc lh_parquet_write(const char *out_path, const char *in_path,
                              const lh_parquet_write_opts *opts, lh_err *err);

/* ---- Iceberg tables
 * ------------------------------------------------------------------ */

/* Where a table is and how to read its locations. TABLE (the first
 * argument of the calls below) is a metadata.json file, a table folder
 * (metadata/version-hint.text, else the highest-numbered
 * metadata/ *.metadata.json), or, with a store, a key or URI in it. */
typedef struct lh_iceberg_opts {
    const char *store; /* "file:///path" or "s3://bucket/prefix?endpoint=
                          ...&region=..."; NULL = local paths */
    const char *const *path_map; /* "FROM=TO": location prefixes to
                                    rewrite (tables written elsewhere) */
    size_t npath_map;
    const char *format; /* inspect: "table" (NULL) or "json"; scan: "csv"
                           (NULL), "json", "ndjson" or "table" */
} lh_iceberg_opts;

/* Prints a table's structure to out: with what NULL a summary (format
 * version, uuid, location, current snapshot, schema, partition spec, sort
 * order, properties); "snapshots", "files" (live data and delete files of
 * the current snapshot), "manifests", "history" (the snapshot log) or
 * "partitions" (files and rows by partition) as rows. LH_ENOENT / LH_EIO
 * for the store, LH_EFORMAT / LH_ECORRUPT naming the file at fault,
 * LH_EUNSUPPORTED ("unsupported: ..."), LH_EINVAL for a bad option. */
LH_API lh_rc lh_iceberg_inspect(const char *table, const lh_iceberg_opts *o,
                                const char *what, FILE *out, lh_err *err);

typedef struct lh_iceberg_scan_opts {
    lh_iceberg_opts base;
    bool has_snapshot_id;
    int64_t snapshot_id;
    const char *as_of;   /* a timestamp (ISO-8601) or ms since the epoch */
    const char *columns; /* "a,b": top-level columns; NULL = all */
    const char *where;   /* "col op literal": op one of = != < <= > >=,
                            literal a number, a 'quoted string' or a
                            timestamp */
    int64_t limit;       /* the most rows to print; 0 = all */
} lh_iceberg_scan_opts;

/* Prints the rows of a snapshot (current by default) in the forms of
 * output-formats.md: scan planning prunes manifests and files by the
 * predicate, the rows are read by field id with deletes applied, and the
 * predicate filters them exactly. Codes as lh_iceberg_inspect. Rows
 * printed before a failure stay printed. */
LH_API lh_rc lh_iceberg_scan(const char *table, const lh_iceberg_scan_opts *o,
                             FILE *out, lh_err *err);

typedef struct lh_iceberg_maintain_opts {
    lh_iceberg_opts base;
    const char *expire_older_than; /* a timestamp or ms: required */
    int64_t retain_last;           /* snapshots a branch keeps: 0 = 1 */
    bool remove_orphans;
    const char *orphans_older_than; /* NULL = expire_older_than */
} lh_iceberg_maintain_opts;

/* Expires snapshots older than the cutoff (keeping each branch's newest
 * retain_last and every ref's snapshot), deleting the files only they
 * used, then optionally removes orphan files older than the orphan cutoff.
 * Prints {"expired_snapshots","deleted_files","orphans_removed",
 * "snapshots"} as one JSON line. LH_ECONFLICT when concurrent commits
 * keep winning; other codes as lh_iceberg_inspect. */
LH_API lh_rc lh_iceberg_maintain(const char *table,
                                 const lh_iceberg_maintain_opts *o, FILE *out,
                                 lh_err *err);

/* ---- SQL
 * ---------------------------------------------------------------------
 *
 * A session runs SQL over a database (or, with db NULL, over tables of its
 * own in memory). Statements are prepared once and executed any number of
 * times with parameters ($1, ?, :name); a result is read a batch of rows at
 * a time, typed or as text by the output rules (output-formats.md).
 *
 * Errors carry err->offset, the byte offset in the statement text of the
 * token at fault (PostgreSQL's "position"), or -1. SQL errors are
 * LH_EINVAL (syntax, names, types, a value a function refuses),
 * LH_EUNSUPPORTED ("unsupported: ..."), LH_ENOENT (a table that does not
 * exist); LH_ENOMEM also for the per-query memory limit; LH_ECANCELED after
 * lh_session_cancel.
 *
 * Thread rules: a session and its statements and results are used by one
 * thread at a time (lh_session_cancel excepted); several sessions may share
 * one lh_db. */

typedef struct lh_session lh_session;
typedef struct lh_stmt lh_stmt;
typedef struct lh_result lh_result;

typedef struct lh_session_options {
    const char *dialect;  /* NULL = "postgres" */
    int threads;          /* 0 = the online CPUs */
    int64_t memory_limit; /* bytes a query may hold; 0 = half the RAM */
} lh_session_options;

/* db may be NULL (a session with memory tables only). opts may be NULL.
 * LH_EINVAL for an unknown dialect, LH_ENOMEM. */
LH_API lh_rc lh_session_open(lh_db *db, const lh_session_options *opts,
                             lh_session **out, lh_err *err);
LH_API void lh_session_close(lh_session *s);
/* SET name = value from C ("integer_division", "division_by_zero",
 * "default_null_order", "threads", "memory_limit"). LH_EINVAL naming an
 * unknown setting or value. */
LH_API lh_rc lh_session_set(lh_session *s, const char *name, const char *value,
                            lh_err *err);
/* Makes the statement running in s stop with LH_ECANCELED. Safe from any
 * thread and from a signal handler. */
LH_API void lh_session_cancel(lh_session *s);
/* Confines the files the session's SQL may read (read_parquet,
 * iceberg_scan) to those under the directory root, symbolic links
 * resolved, or forbids them all with root NULL: for servers, whose
 * clients must not read the server's other files. Cannot be undone for
 * the session. A statement refused reads nothing and fails with
 * LH_EREADONLY ("permission denied: ..."), the same whether the file
 * exists or not. LH_EINVAL when root is not a directory. */
LH_API lh_rc lh_session_confine(lh_session *s, const char *root, lh_err *err);

/* Prepares the first statement of sql[0..len) (len 0: strlen); *used
 * receives how many bytes it took (with its ';'), so a text of several
 * statements is prepared one after the other (*out is NULL when only
 * white space and comments remain). The statement borrows nothing from
 * sql. */
LH_API lh_rc lh_stmt_prepare(lh_session *s, const char *sql, size_t len,
                             size_t *used, lh_stmt **out, lh_err *err);
/* Parameters: the highest $n, the number of ?, or the number of distinct
 * :name ($name) parameters, which are numbered 1.. by first appearance (a
 * statement uses names or positions, not both). */
LH_API int lh_stmt_param_count(const lh_stmt *st);
/* The number of parameter `name` (with or without its ':'), 0 if none. */
LH_API int lh_stmt_param_index(const lh_stmt *st, const char *name);
/* The name of parameter i (1-based), NULL for positional ones. Borrowed. */
LH_API const char *lh_stmt_param_name(const lh_stmt *st, int i);
/* Binds parameter i (1-based) to a value (copied). Text binds as an
 * untyped literal: its context gives it a type, as in PostgreSQL. */
LH_API lh_rc lh_stmt_bind(lh_stmt *st, int i, const lh_cell *v, lh_err *err);
/* lh_stmt_bind by name; LH_EINVAL when the statement has no such name. */
LH_API lh_rc lh_stmt_bind_named(lh_stmt *st, const char *name, const lh_cell *v,
                                lh_err *err);
/* Runs the statement. A query's rows come from the result; other
 * statements complete here and the result says what they did. */
LH_API lh_rc lh_stmt_execute(lh_stmt *st, lh_result **out, lh_err *err);
LH_API void lh_stmt_free(lh_stmt *st);

/* Type ids of result columns (the SQL types of lakehouse). */
typedef enum lh_sql_type_id {
    LH_SQL_NULL = 0,
    LH_SQL_BOOLEAN,
    LH_SQL_SMALLINT,
    LH_SQL_INTEGER,
    LH_SQL_BIGINT,
    LH_SQL_REAL,
    LH_SQL_DOUBLE,
    LH_SQL_DECIMAL,
    LH_SQL_VARCHAR,
    LH_SQL_BLOB,
    LH_SQL_DATE,
    LH_SQL_TIME,
    LH_SQL_TIMESTAMP,
    LH_SQL_TIMESTAMPTZ,
    LH_SQL_INTERVAL,
    LH_SQL_UUID,
    LH_SQL_JSON,
    LH_SQL_VECTOR,
    LH_SQL_LIST,
    LH_SQL_STRUCT,
    LH_SQL_MAP,
} lh_sql_type_id;

typedef struct lh_column_info {
    const char *name;
    int type;              /* lh_sql_type_id */
    int precision;         /* DECIMAL */
    int scale;             /* DECIMAL */
    uint32_t length;       /* VARCHAR(n) */
    uint32_t dim;          /* FLOAT[n] */
    const char *type_name; /* "DECIMAL(12,2)" */
} lh_column_info;

/* Columns (0 for statements without rows); borrowed from r. */
LH_API size_t lh_result_column_count(const lh_result *r);
LH_API const lh_column_info *lh_result_column(const lh_result *r, size_t i);
/* Advances to the next batch of rows: *rows is their count, 0 at the end.
 * Values of the previous batch are gone. */
LH_API lh_rc lh_result_next(lh_result *r, size_t *rows, lh_err *err);
LH_API bool lh_result_is_null(const lh_result *r, size_t row, size_t col);
/* A value of the current batch, typed: BOOL, INT (integers; DATE in days,
 * TIME and TIMESTAMP[TZ] in µs), DOUBLE (REAL, DOUBLE), TEXT (VARCHAR,
 * JSON, DECIMAL, INTERVAL and UUID as their text), BYTES (BLOB, FLOAT[n]
 * as floats), NULL. Text and bytes are borrowed until lh_result_next. */
LH_API lh_rc lh_result_get(lh_result *r, size_t row, size_t col, lh_cell *out,
                           lh_err *err);
/* The value's text by the output rules, NUL-terminated (NULL for NULL);
 * borrowed until the next call on r. */
LH_API const char *lh_result_text(lh_result *r, size_t row, size_t col,
                                  size_t *len);
/* What a statement without rows did: "CREATE TABLE", "INSERT 0 5", and
 * for queries "SELECT n" once read. Borrowed from r. */
LH_API const char *lh_result_tag(const lh_result *r);
/* Rows inserted or written (INSERT, COPY), else -1. */
LH_API int64_t lh_result_rows_changed(const lh_result *r);
/* Writes the remaining rows to out in a format of output-formats.md
 * ("table", "csv", "json", "ndjson"). */
LH_API lh_rc lh_result_write(lh_result *r, const char *format, FILE *out,
                             lh_err *err);
LH_API void lh_result_free(lh_result *r);

/* Runs every statement of sql (separated by ';') in order and writes the
 * last one's rows to out in `format` (NULL = "table"); statements without
 * rows print nothing. Stops at the first error, which has err->offset in
 * sql. */
LH_API lh_rc lh_sql_run(lh_session *s, const char *sql, const char *format,
                        FILE *out, lh_err *err);
/* Table names of the session (the database's and its memory tables),
 * sorted; free with lh_free_strings. */
LH_API lh_rc lh_session_tables(lh_session *s, char ***names, size_t *count,
                               lh_err *err);
/* CREATE TABLE text of a table (caller frees with lh_free_mem). */
LH_API lh_rc lh_session_describe(lh_session *s, const char *table, char **sql,
                                 lh_err *err);

#ifdef __cplusplus
}
#endif

#endif
