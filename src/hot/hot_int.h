/*
 * hot_int.h: the hot tier's private structures.
 *
 * THE DESIGN
 *
 * A data directory holds:
 *
 *   DIR/lakehouse.json          {"format": "lakehouse", "format_version": 1}
 *   DIR/LOCK                    fcntl() write lock of the writing process,
 *                               which also writes its pid there
 *   DIR/tables/NAME/table.json  the normalized table definition
 *   DIR/tables/NAME/shard-NNN.db  one SQLite database per shard (WAL)
 *
 * A table has N shards. An event goes to the shard of its stream: by default
 * the jump consistent hash (Lamping & Veach) of XXH64(stream); with a payload
 * shard key ("shard_by": "tenant_id") the hash of that column's text form,
 * and every event of a stream must carry the same value (an in-memory map of
 * stream -> shard key, filled from the shards on a miss, enforces it across
 * calls; one process writes a directory, so memory is authoritative).
 *
 * Each shard file has these tables:
 *
 *   events(position INTEGER PRIMARY KEY, event_id BLOB(16), stream, version,
 *          type, ts, committed_at, partition_key, schema_version, tier_hint,
 *          ttl_seconds, content_hash, embedding BLOB, c<field id>...)
 *       UNIQUE (stream, version), UNIQUE (event_id)
 *   streams(stream PRIMARY KEY, version, shard_key, max_age_s, max_count,
 *           truncate_before)   -- written only by metadata calls and when
 *                                 events leave the hot tier: a stream's
 *                                 current version is the larger of this row
 *                                 and max(events.version), so an append
 *                                 writes one row and two index entries
 *   dedup(event_id PRIMARY KEY, stream, version, position, content_hash,
 *         committed_at)        -- ids of events that left the hot tier,
 *                                 kept for the dedup window
 *   meta(key PRIMARY KEY, value) -- format version, table, shard number,
 *                                 last_position once rows are deleted
 *   retention_done(stream PRIMARY KEY, below, before) -- made by the
 *                                 pipeline's retention: what of a stream's
 *                                 hidden versions the lake no longer holds
 *
 * Positions are assigned at commit by the shard (the highest ever assigned
 * plus one; never reused, also after deletes, because meta keeps the high
 * mark once rows are removed).
 *
 * Appends: the caller validates the whole call (lh_append, append.c), then
 * posts one request per shard to that shard's mailbox and waits. A shard's
 * mailbox handler receives every request queued meanwhile and applies them
 * in ONE transaction, each inside a SAVEPOINT (a conflicting request rolls
 * back alone), then COMMITs: one fsync (synchronous=FULL) for the group,
 * after which every waiter is acknowledged. That is group commit.
 *
 * Concurrency: a shard's write connection is used only under shard->mu
 * (held by the mailbox handler for a group, or by a conditional append that
 * locks every shard of the table in order). Readers open their own
 * read-only connections; WAL lets them run beside the writer, also from
 * another process.
 */
#ifndef LH_HOT_INT_H
#define LH_HOT_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "column/column.h"
#include "hot/hot.h"
#include "runtime/runtime.h"
#include "util/util.h"
#include "vector/vector.h"

#define LH_MAX_SHARDS 1024
#define LH_SHARD_READERS 4 /* idle read connections kept per shard */
#define LH_READER_STMTS 16 /* idle statements a reader keeps prepared */
#define LH_MAX_COLUMNS 1000
#define LH_MAX_NAME 63                /* table and column names */
#define LH_MAX_STREAM 1024            /* bytes of a stream id */
#define LH_MAX_TYPE 256               /* bytes of an event type */
#define LH_MAX_EMBEDDING 65536        /* dimensions */
#define LH_FIRST_PAYLOAD_FIELD_ID 100 /* envelope columns use 1..99 */
#define LH_DEDUP_WINDOW_DEFAULT (7 * LH_US_PER_DAY)

typedef struct lh_coldef {
    char *name;
    lh_type type;
    bool nullable;
    int32_t field_id;
} lh_coldef;

typedef struct lh_tabledef {
    char *name;
    lh_coldef *cols;
    size_t ncols;
    char *partition_by;
    char **cluster_by;
    size_t ncluster;
    lh_us hot_window;
    lh_us warm_window;
    int shard_col; /* payload column index of the shard key; -1 = stream */
    int nshards;
    uint32_t embedding_dim;
    /* the hot tier's vector index over the embedding (schema.c's
     * "vector_index", vindex.c): lh_vec_metric, HNSW M, ef_construction
     * and the default ef of searches */
    struct {
        uint8_t metric;
        uint32_t m, ef_construction, ef_search;
        /* the lake's (docs/internals/vector.md, "The lake tiers"): the
         * warm IVF-PQ's lists, code bytes (dividing the indexed prefix,
         * lh__warm_prefix), lists searched and re-ranked candidates per
         * row wanted; the cold clusters searched */
        uint32_t nlist, pq_m, nprobe, refine, cold_nprobe;
    } vindex;
    int32_t schema_version;
    lh_hot_policy policy; /* tiering (schema.c, docs/internals/pipeline.md) */
    char *json;           /* the normalized definition */
} lh_tabledef;

/* schema.c */
lh_rc lh__tabledef_parse(const char *json, size_t len, lh_tabledef **out,
                         lh_err *err);
void lh__tabledef_free(lh_tabledef *d);
/* Column index by name, or -1. */
int lh__tabledef_col(const lh_tabledef *d, const char *name);
bool lh__name_valid(const char *s);
/* Whether a payload column may not be called name: an envelope column's
 * (case-insensitive). */
bool lh__envelope_name(const char *name);

/* A validated event, ready for the shard (lives in the call's arena). */
typedef struct lh_hot_event {
    lh_uuid id;
    const char *stream;
    const char *type;
    lh_us ts;
    bool ts_given;
    bool id_claimed; /* in t->ids_in_flight for this call (idcheck.c) */
    lh_value *vals;  /* ncols values */
    const float *embedding;
    uint32_t embedding_len;
    const char *partition_key;
    const char *tier_hint;
    int64_t ttl_seconds;
    lh_expect expect;
    int64_t expected_version;
    int64_t content_hash;
    int shard;
    size_t index; /* in the call */
    lh_event_ack *ack;
} lh_hot_event;

typedef struct lh_table lh_table;

/* A Bloom filter of the table's event ids (idcheck.c). */
typedef struct lh_idfilter {
    uint64_t *bits;
    uint64_t nbits; /* a power of two */
    uint64_t count;
} lh_idfilter;

/* One shard's part of one call. */
/* A committed group's embeddings, copied before its acks (vindex.c). */
typedef struct lh__vindex_batch {
    int64_t *pos;
    float *vecs;
    size_t n;
} lh__vindex_batch;

typedef struct lh_shard_req {
    lh_msg msg;
    lh_hot_event **evs;
    size_t nevs;
    lh_rc rc;
    lh_err err;
    lh_done *done;
} lh_shard_req;

typedef struct lh_shard {
    lh_table *table;
    int index;
    char *path;
    pthread_mutex_t mu;
    sqlite3 *db; /* the write connection, NULL when read-only */
    sqlite3_stmt *st_ins, *st_byid, *st_dedup, *st_maxver, *st_streamrow;
    sqlite3_stmt *st_begin, *st_commit, *st_rollback;
    sqlite3_stmt *st_savepoint, *st_rollback_to, *st_release;
    int64_t last_position;
    lh_us last_committed;
    /* Whether the dedup table has rows, and whether any stream has a
     * version floor in `streams` (both only once events leave the hot
     * tier): without them an append skips those lookups. Whoever writes
     * such rows sets the flag in the same transaction. */
    bool has_dedup;
    bool has_floors;
    int wal_frames;          /* after the last commit (sqlite3_wal_hook) */
    atomic_bool ckpt_wanted; /* for the checkpointer thread */
    atomic_uint_fast64_t checkpoints; /* the checkpointer's, that ran */
    sqlite3 *ckpt_db;                 /* the checkpointer's connection */
    lh_mailbox mb;
    bool mb_ready;
    /* stats for the benchmark and metrics */
    atomic_uint_fast64_t groups, group_reqs;
    atomic_uint_fast64_t group_size[LH_GROUP_BUCKETS]; /* stats.c */
    /* the vector index (vindex.c); NULL without an embedding column */
    lh_hnsw *vindex;
    int64_t vindex_covers; /* last position it holds (the file's mark) */
    bool vindex_lagging;   /* an insert failed: covers stays behind */
    /* The group acked but not yet in the graph (take to the end of feed):
     * searches scan it exactly, so an acked event is found at once. The
     * handler's batch owns the arrays; vpending_mu guards this view. */
    pthread_mutex_t vpending_mu;
    lh__vindex_batch vpending;
    /* Idle read-only connections (lh__shard_reader_get / _put): opening
     * one costs a path resolution, the WAL's open and a parse of the
     * schema, more than a point lookup itself. */
    pthread_mutex_t readers_mu;
    sqlite3 *readers[LH_SHARD_READERS];
    int nreaders;
} lh_shard;

/* vindex.c: the shard's HNSW over its events' embeddings, beside its file
 * (shard-NNN.hnsw), ids = positions. Open loads it (rebuilding a missing,
 * corrupt or stale one from the events, and inserting the events after its
 * mark); close saves it. The handler copies a committed group's embeddings
 * before the acks (take) and inserts them after (feed). */
lh_rc lh__shard_vindex_open(lh_shard *s, lh_err *err);
void lh__shard_vindex_close(lh_shard *s);
void lh__shard_vindex_take(lh_shard *s, lh_msg **msgs, size_t n,
                           lh__vindex_batch *b);
void lh__shard_vindex_feed(lh_shard *s, lh__vindex_batch *b);
/* The k nearest events (ids = positions, the table's metric on the full
 * embedding) passing filter; any thread, beside appends. LH_ENOENT without
 * an index. */
lh_rc lh__shard_vsearch(lh_shard *s, const float *q, size_t k, unsigned ef,
                        const lh_vec_filter *filter, lh_vec_hit *out, size_t *n,
                        lh_err *err);
/* The same, with how the graph search went (stats may be NULL). */
lh_rc lh__shard_vsearch_stats(lh_shard *s, const float *q, size_t k,
                              unsigned ef, const lh_vec_filter *filter,
                              lh_vec_hit *out, size_t *n, lh_hnsw_stats *stats,
                              lh_err *err);

struct lh_table {
    lh_db *db;
    lh_tabledef *def;
    char *dir;
    lh_shard *shards;
    int nshards;
    /* stream -> shard-key text, for tables sharded by a payload column */
    pthread_mutex_t stream_mu;
    lh_map stream_keys;
    sqlite3 **probe_conns; /* per shard, read-only, under stream_mu */
    lh_idfilter idf;       /* under stream_mu */
    lh_map ids_in_flight;  /* id -> shard + 1, under stream_mu */
    /* commit notifications for in-process followers */
    pthread_mutex_t notify_mu;
    pthread_cond_t notify_cv;
    atomic_uint_fast64_t commits;
    /* the lake's warm IVF-PQ indexes by codebook version, for searches
     * (router_knn.c): codebooks never change once written */
    lh_ivfpq_pool *warm_pool;
    /* DROP TABLE (dir.c, pipeline/drop.c). maint_mu is held by a pipeline
     * job while it runs and by a drop: the drop waits for a flush or
     * compaction in progress, and a job that starts after it sees
     * `dropped`. Once dropped, the table is out of db->tables and on the
     * db->dropped list (freed at close: users of a pointer taken before
     * the drop keep a valid one, and fail as they reach the shards). */
    pthread_mutex_t maint_mu;
    atomic_bool dropped;
    struct lh_table *dropped_next;
};

struct lh_db {
    char *dir;
    bool readonly;
    int lock_fd;
    lh_pool *pool;
    lh_us dedup_window;
    int ncpu; /* online CPUs: how many chunks a large call is validated in */
    /* The checkpointer thread (shard.c), for writers. */
    pthread_t ckpt_thread;
    pthread_mutex_t ckpt_mu;
    pthread_cond_t ckpt_cv;
    bool ckpt_running, ckpt_stop, ckpt_pending;
    pthread_mutex_t mu; /* tables */
    lh_map tables;      /* name -> lh_table* */
    lh_map broken;      /* name -> why it could not be opened (dir.c) */
    /* name -> lh_tabledef* of a table being dropped: its directory (with
     * its DROPPED marker) is still there, so the name cannot be made
     * again until lh__table_drop_end (dir.c) */
    lh_map dropping;
    lh_table *dropped; /* list through dropped_next, freed at close */
};

/* dir.c */
lh_rc lh__db_table(lh_db *db, const char *name, lh_table **out, lh_err *err);
/* The commit point of DROP TABLE: writes the DROPPED marker into the
 * table's directory (durably), marks t dropped, takes it out of
 * db->tables and keeps the name reserved (db->dropping). *t is the loaded
 * table (NULL for one whose drop a crash interrupted, or one that could
 * not be opened); *def its definition, borrowed until
 * lh__table_drop_end. Call with t->maint_mu held when *t will be found
 * (pipeline/drop.c looks the table up first). LH_ENOENT when no such
 * table exists or is being dropped. */
lh_rc lh__table_drop_begin(lh_db *db, const char *name, lh_table **t,
                           const lh_tabledef **def, lh_err *err);
/* Finishes a drop begun by lh__table_drop_begin once the lake is gone:
 * the directory is renamed aside (then the name is free) and removed. */
lh_rc lh__table_drop_end(lh_db *db, const char *name, lh_err *err);
/* Crash points of a drop (tests): called with 1 after the marker, 2 after
 * the lake is gone (pipeline/drop.c), 3 after the directory moved aside. */
extern void (*lh__drop_step_hook)(int step);
/* Removes a directory tree (no links followed); best effort. */
void lh__remove_tree(const char *dir);

/* shard.c */
lh_rc lh__shard_open(lh_shard *s, bool create, lh_err *err);
void lh__shard_close(lh_shard *s);
/* Opens a read-only connection to a shard file (caller closes). */
lh_rc lh__shard_open_reader(const char *path, sqlite3 **out, lh_err *err);
/* A read-only connection to s: an idle one of its pool, or a new one. Any
 * thread. Give it back with lh__shard_reader_put (not sqlite3_close). */
lh_rc lh__shard_reader_get(lh_shard *s, sqlite3 **out, lh_err *err);
/* Returns c (from lh__shard_reader_get; NULL is a no-op) to s's pool, or
 * closes it when the pool is full or c still has a statement or a
 * transaction open (a reader must not pin an old WAL snapshot while it
 * idles). Takes ownership of c. */
void lh__shard_reader_put(lh_shard *s, sqlite3 *c);
/* Closes s's idle readers (its table was dropped: lh__shard_reader_get
 * refuses from now on). */
void lh__shard_readers_drop(lh_shard *s);
/* The statement of sql on reader c (from lh__shard_reader_get), prepared
 * once and kept on c for its next users: parsing and planning a point
 * lookup's SQL cost SQLite more than running it. Owned by c; give it back
 * with lh__reader_stmt_done, never finalize it. A connection is used by
 * one scan at a time, so a statement it keeps idle (not stepped, or
 * reset) is free to hand out. LH_ECORRUPT, LH_EIO... from SQLite. */
lh_rc lh__reader_stmt(sqlite3 *c, const char *sql, sqlite3_stmt **out,
                      lh_err *err);
/* Resets st and clears its bindings (NULL is a no-op): idle again. */
void lh__reader_stmt_done(sqlite3_stmt *st);
/* Asks the checkpointer for a checkpoint of s when its WAL has grown past
 * a threshold since the last one: after the handler's groups, and after
 * any other write on s->db (the pipeline's deletes). Any thread; s->mu
 * must not be held. */
void lh__shard_checkpoint_maybe(lh_shard *s);
/* The same, whatever the WAL's size: after a write that shrank the database
 * (lh__shard_reclaim_step), whose file is cut only by a checkpoint. */
void lh__shard_checkpoint_request(lh_shard *s);
/* A shard whose holdings are at most this many bytes may be VACUUMed once to
 * turn on the pointer map incremental vacuum needs (shards made before it):
 * the rewrite holds the shard's write lock for about 10 ms per MB. */
#define LH__RECLAIM_VACUUM_BYTES (INT64_C(8) << 20)
/* One step of giving the space of deleted rows back to the file system, in
 * one transaction under s->mu: when the free pages exceed what the shard
 * keeps for its next appends (a quarter of its live pages, at least
 * keep_min_bytes), up to max_pages of them are released (PRAGMA
 * incremental_vacuum); a shard without a pointer map is VACUUMed instead
 * when it holds at most LH__RECLAIM_VACUUM_BYTES, and left as it is
 * otherwise. *released: the pages given back (0: nothing more to do). The
 * file shrinks at the next checkpoint (lh__shard_checkpoint_request).
 * Nothing is lost on a crash: each step is a SQLite transaction. */
lh_rc lh__shard_reclaim_step(lh_shard *s, int64_t keep_min_bytes,
                             int64_t max_pages, int64_t *released, lh_err *err);
/* The mailbox handler: applies a group of requests in one transaction. */
void lh__shard_handle(void *owner, lh_msg **msgs, size_t n);
/* Applies one request inside an open transaction (used by the handler and
 * by conditional appends). On failure the caller rolls back. */
lh_rc lh__shard_apply(lh_shard *s, lh_shard_req *req, lh_us committed_at,
                      lh_err *err);
/* Whether every event id of req is already in the shard (a retried call).
 * Caller holds s->mu. */
lh_rc lh__shard_all_known(lh_shard *s, const lh_shard_req *req, bool *all,
                          lh_err *err);
lh_rc lh__shard_exec(lh_shard *s, const char *sql, lh_err *err);
lh_rc lh__sqlite_err(sqlite3 *db, int src, const char *what, lh_err *err);
/* The current version of a stream through connection c (0 = none). */
lh_rc lh__stream_version(sqlite3 *c, const char *stream, int64_t *out,
                         lh_err *err);
void lh__table_notify(lh_table *t);
/* stats.c: counts one committed group of n requests. */
void lh__shard_count_group(lh_shard *s, size_t n);
int lh__shard_of(const lh_table *t, const char *key, size_t len);

/* Value <-> SQLite, in payload column order. */
lh_rc lh__bind_value(sqlite3_stmt *st, int idx, const lh_value *v);
lh_rc lh__column_value(sqlite3_stmt *st, int idx, lh_type t, lh_value *out);
/* The SQL column type of an lh_type in the shard ("INTEGER", ...). */
const char *lh__sql_type(lh_type t);

/* idcheck.c: event ids unique across the table's shards. Claims the ids of
 * validated events for the call (LH_EINVAL naming the event when one is
 * held by an event of another shard); release after the call. */
lh_rc lh__ids_claim(lh_table *t, const lh_event_in *in, lh_hot_event *evs,
                    size_t n, size_t *claimed, lh_err *err);
void lh__ids_release(lh_table *t, lh_hot_event *evs, size_t n);
void lh__idfilter_release(lh_idfilter *f);
/* The table's read-only connection to a shard, opened on first use; for
 * lookups that must not wait on the writer. Caller holds t->stream_mu. */
lh_rc lh__probe_conn(lh_table *t, int shard, sqlite3 **out, lh_err *err);

/* The thread that runs WAL checkpoints off the append path. */
lh_rc lh__checkpointer_start(lh_db *db, lh_err *err);
void lh__checkpointer_kick(lh_db *db);
void lh__checkpointer_stop(lh_db *db);

/* The tiers above the shards (implemented by src/pipeline/streams.c: the
 * hot tier declares what it needs, the pipeline, which may call the hot
 * tier, provides it). Writes the events of `stream` with versions lo..hi
 * that left table t's shards (they are in its lake) into the TEMP table
 * "lake_events" of connection c, with the events table's columns
 * (position, event_id, stream, version, type, ts, committed_at,
 * partition_key, schema_version, embedding, c<field id>...), replacing
 * what it held. *staged is false when the table has no lake (nothing
 * written). */
lh_rc lh__lake_stream_rows(lh_table *t, const char *stream, int64_t lo,
                           int64_t hi, sqlite3 *c, bool *staged, lh_err *err);

/* checkpoint.c: "ck1.P0.P1...": one position per shard. */
lh_rc lh__checkpoint_parse(const char *s, int nshards, int64_t *pos,
                           lh_err *err);
lh_rc lh__checkpoint_format(const int64_t *pos, int nshards, lh_buf *out);

#endif
