/*
 * pipeline_int.h: the tiering pipeline's private structures
 * (docs/internals/pipeline.md has the design and the policy keys).
 *
 * THE LAKE OF A TABLE
 *
 * Every event table has one Iceberg table (format v2), created at its
 * first flush: in the object store the policy's "lake" names, else
 * file://DIR/lake, under the key NAME. Its schema is the envelope (field
 * ids 1..14, below) followed by the payload columns with the field ids
 * the hot tier gave them (>= 100); its partition spec is the table's
 * partition_by (default day(ts)). Warm files live under
 * <location>/data/warm/<partition>/, cold ones under .../data/cold/: the
 * tier of a file is its folder.
 *
 * THE MARKS
 *
 * Every snapshot the pipeline commits records in its summary, under
 * "lakehouse.hot-positions", the last hot-tier position of each shard it
 * contains ("0:1200,1:877"; every shard, cumulative). The lake holds, of
 * shard s, exactly the positions <= mark(s) that were ever flushed, and
 * the shard holds the positions above it (and, between a commit and its
 * deletes, some at or below it, which readers ignore and the next flush
 * deletes). A flush of a table (run by any of its shards' alarms: one
 * flush covers every shard, so a partition gets one file a round, not one
 * per shard):
 *
 *   1. reads every mark(s) from the current snapshot and deletes each
 *      shard's rows at or below it (the rest of an interrupted flush);
 *   2. picks each shard's cut P(s): the longest prefix of positions whose
 *      events are past the policy (older than hot_window, tier_hint
 *      warm/cold, or the oldest ones of a shard over flush_rows /
 *      flush_bytes), at most round_rows / shards of them;
 *   3. reads mark(s) < position <= P(s) through read-only connections (the
 *      shards keep taking appends), sorts them by partition, cluster_by,
 *      ts and position, and writes one Parquet file per partition;
 *   4. commits one Iceberg append of those files whose summary says
 *      mark(s) = P(s) for every shard (a commit is atomic: the files are
 *      either in the lake or orphans that maintenance removes);
 *   5. deletes the rows <= P(s) from each shard, in transactions of
 *      delete_rows rows (each also writes the events' ids to the dedup
 *      table and their streams' version floors, so idempotency and
 *      expected versions keep working), so an append waits for at most
 *      one of them.
 * A crash anywhere leaves either no commit (step 1-3: the next flush does
 * it again) or a commit whose rows the next flush's step 1 deletes:
 * nothing lost, nothing counted twice.
 */
#ifndef LH_PIPELINE_INT_H
#define LH_PIPELINE_INT_H

#include "format/iceberg/iceberg.h"
#include "hot/hot_int.h"

#define LH__MARKS_KEY "lakehouse.hot-positions"

/* Envelope field ids in the lake. */
enum {
    LH__F_EVENT_ID = 1,
    LH__F_STREAM = 2,
    LH__F_VERSION = 3,
    LH__F_TYPE = 4,
    LH__F_TS = 5,
    LH__F_COMMITTED_AT = 6,
    LH__F_SHARD = 7,
    LH__F_POSITION = 8,
    LH__F_PARTITION_KEY = 9,
    LH__F_SCHEMA_VERSION = 10,
    LH__F_TIER_HINT = 11,
    LH__F_TTL_SECONDS = 12,
    LH__F_CONTENT_HASH = 13,
    LH__F_EMBEDDING = 14, /* FLOAT[n] as 4n little-endian bytes */
    LH__F_ENVELOPE_COUNT = 14,
    /* The warm tier's IVF-PQ columns (warm.c), in tables with an
     * embedding: not SQL columns. list_id = codebook version << 20 |
     * the row's list, -1 for a row without an embedding, NULL for rows
     * written before any codebook; pq_code = its m code bytes (NULL
     * without a list). */
    LH__F_LIST_ID = 15,
    LH__F_PQ_CODE = 16,
};

#define LH__LIST_BITS 20 /* list_id: version << 20 | list */

/* One lake column: the Iceberg field and where its value comes from. */
typedef struct lh__lake_col {
    int32_t field_id;
    const char *name;
    lh_type type; /* the batch's type (lh_ice_type_to_lh of the field) */
    int payload;  /* payload column index, or -1 for the envelope */
    lh_type src;  /* the hot tier's type (payload columns) */
} lh__lake_col;

typedef struct lh__lake {
    lh_table *t;
    char *uri;         /* the object store */
    char *location;    /* the table's location URI */
    lh_ice_table *ice; /* NULL until the Iceberg table exists */
    lh_arena a;        /* schema, spec, columns */
    lh_ice_schema schema;
    lh_ice_partition_spec spec;
    lh__lake_col *cols; /* one per schema field, in order */
    uint32_t ncols;
    int32_t *cluster; /* column indexes of cluster_by, then ts */
    uint32_t ncluster;
    int64_t *marks;     /* per shard, from the current snapshot */
    pthread_mutex_t mu; /* commits and marks (flushes of several shards) */
} lh__lake;

/* lake.c. Opens the lake of table t; the Iceberg table is opened when it
 * exists (l->ice NULL otherwise: lh__lake_create makes it). LH_EINVAL for
 * a policy URI the store refuses, LH_EUNSUPPORTED for a payload type the
 * lake cannot hold, the store's and Iceberg's codes. */
lh_rc lh__lake_open(lh_table *t, lh__lake **out, lh_err *err);
/* The object store a table's lake lives in (its "lake" policy, else
 * file://<absolute DIR>/lake, made when `make`); the table is
 * <uri>/<name>. *uri is the caller's (lh_free). */
lh_rc lh__lake_store_uri(lh_db *db, const lh_tabledef *def, bool make,
                         char **uri, lh_err *err);
void lh__lake_close(lh__lake *l);
lh_rc lh__lake_create(lh__lake *l, lh_err *err);
/* Re-reads the table and l->marks (caller holds l->mu). */
lh_rc lh__lake_refresh(lh__lake *l, lh_err *err);
/* The index in l->cols of the column with that field id, or -1. */
int lh__lake_col_index(const lh__lake *l, int32_t field_id);
/* marks <-> "0:1200,1:877". */
lh_rc lh__marks_format(const int64_t *marks, int n, lh_buf *out);
lh_rc lh__marks_parse(const char *s, int64_t *marks, int n, lh_err *err);

/* ---- warm.c: the warm tier's IVF-PQ index (vector.md, "The lake tiers")
 *
 * The codebook of version v (1, 2, ...) is the object
 * <location>/index/ivfpq-<v>.bin (lh_ivfpq_codebook_write's bytes; outside
 * data/ and metadata/, which orphan removal sweeps), written once with
 * put-if-absent and never changed: files encoded with it stay readable.
 * A flush trains version 1 on its first round holding enough embedded
 * rows; a definition whose nlist, pq_m or metric no longer match the
 * latest version makes the next flush train v + 1. */

/* The dims the warm index covers: the embedding's first min(256, dim). */
uint32_t lh__warm_prefix(const lh_tabledef *d);
/* Codebook version v of l's lake: LH_ENOENT when it does not exist,
 * LH_ECORRUPT / LH_EFORMAT for damaged bytes. *out is the caller's. */
lh_rc lh__warm_codebook_load(const lh__lake *l, uint32_t v, lh_ivfpq **out,
                             lh_err *err);
/* The newest version (0 when none): a probe of v = 1, 2, ... */
lh_rc lh__warm_codebook_latest(const lh__lake *l, uint32_t *v, lh_err *err);

typedef struct lh__rows lh__rows;
/* Fills the rows' list_id and pq_code columns from their embeddings (the
 * latest codebook, trained first when there is none, or a new version
 * when the definition changed and the rows suffice to train); *version
 * is the codebook used, 0 when the rows stay without codes (too few to
 * train on). */
lh_rc lh__warm_encode(lh__lake *l, lh__rows *r, uint32_t *version, lh_err *err);
/* Orders rows[0..n) of r by list_id (stable, NULLs last), so a file's
 * list is one row range its page index finds. */
lh_rc lh__warm_order(const lh__lake *l, const lh__rows *r, uint32_t *rows,
                     uint32_t n, lh_err *err);

/* flush.c: rows of lake columns in memory, sorted and written as data
 * files (the flush and the compaction share these). */
struct lh__rows {
    uint32_t n;
    lh_vector *cols; /* one FLAT vector per lake column, n rows, in a */
    lh_arena a;
};
/* order[0..n) = the rows by partition value (part: one a row, or NULL),
 * cluster_by, ts and position. */
void lh__rows_sort(const lh__lake *l, const lh__rows *r, const lh_value *part,
                   uint32_t *order);
/* rows[0..n) of r (one partition, pv its value) as one data file under
 * <location>/data/<tier>/<partition>/<uuid><tag>.parquet, described in
 * *out (in fa). */
lh_rc lh__write_data_file(lh__lake *l, const char *tier, int64_t row_group_rows,
                          const char *tag, const lh__rows *r,
                          const uint32_t *rows, uint32_t n, const lh_value *pv,
                          lh_arena *fa, lh_ice_data_file *out, lh_err *err);

typedef struct lh__flush_opts {
    int64_t round_rows;  /* events a commit at most: 0 = 131072 */
    int64_t delete_rows; /* rows a delete transaction: 0 = 8192 */
    /* After a shard's deletes, its free space beyond what it keeps for the
     * next appends goes back to the file system (lh__shard_reclaim_step):
     * at least reclaim_keep_bytes are kept (0 = 1 MiB), and a transaction
     * releases up to reclaim_pages (0 = 2048). */
    int64_t reclaim_keep_bytes, reclaim_pages;
    /* Test hook: called after each step ("file", "commit", "delete",
     * "reclaim")
     * with the shard; the crash test kills the process there. */
    void (*on_step)(void *ctx, const char *step, int shard);
    void *ctx;
} lh__flush_opts;

typedef struct lh__flush_result {
    int64_t commits, events, files, bytes;
    int64_t finished; /* rows of an interrupted flush deleted in step 1 */
    int64_t expired;  /* cut but expired (TTL, retention): not written */
} lh__flush_result;

/* An event of a shard that is still visible: its TTL has not run out
 * (?3 = now) and it is not older than the table's retention (?4 =
 * lh__retention_cutoff). */
#define LH__LIVE_SQL                                                           \
    "(ttl_seconds IS NULL OR ts + ttl_seconds * 1000000 > ?3) AND ts >= ?4"
/* Whether an event of that ts and ttl_seconds has expired at now. */
bool lh__ttl_expired(lh_us ts, int64_t ttl, lh_us now);
/* now - retention, or INT64_MIN when the table keeps events for ever. */
lh_us lh__retention_cutoff(const lh_hot_policy *p, lh_us now);

/* Rows leaving a shard (flush.c): those matching cond, an SQL condition
 * on the events table with parameters ?1..?3 (args) and ?7 (text). */
typedef struct lh__purge {
    const char *cond;
    int64_t args[3];
    const char *text;
    bool dedup;  /* the ids stay in dedup for the dedup window */
    bool secure; /* an erasure: the deleted bytes are zeroed in the file */
} lh__purge;
/* One transaction of at most max_rows of them: out of the events table and
 * the shard's HNSW, their streams' version floors raised (a stream's
 * version never goes back), the shard's last position kept; *deleted
 * counts them (0: none were left). */
lh_rc lh__shard_purge_chunk(lh_shard *s, const lh__purge *p, int64_t max_rows,
                            int64_t *deleted, lh_err *err);
/* All of them, in chunks of o->delete_rows, calling o->on_step(step_name)
 * after each; *n counts them. */
lh_rc lh__shard_purge(lh_shard *s, const lh__purge *p, const lh__flush_opts *o,
                      const char *step_name, int64_t *n, lh_err *err);

/* Flushes what is due in the table's shards: each round takes every
 * shard's due prefix (at most round_rows / shards events of each), writes
 * one file per partition, commits one append whose summary holds every
 * shard's new mark, then deletes those events from their shards; rounds
 * go on until nothing is due. Results are added to *r. */
lh_rc lh__flush_table(lh__lake *l, const lh__flush_opts *o, lh__flush_result *r,
                      lh_err *err);

/* compact.c: rewrites the partitions past the warm window that still have
 * warm files into the cold layout, one replace commit each. */
typedef struct lh__compact_result {
    int64_t partitions, files_in, files_out, rows, bytes;
} lh__compact_result;
lh_rc lh__compact(lh__lake *l, lh_us now, const lh__flush_opts *o,
                  lh__compact_result *r, lh_err *err);

/* compact.c: every live row of the tasks (files of l's lake) into r. */
lh_rc lh__read_tasks(lh__lake *l, const lh_ice_plan *plan,
                     lh_ice_task *const *tasks, uint32_t ntasks, lh__rows *r,
                     lh_err *err);

/* retention.c: expired events (TTL, the table's retention) and the
 * versions stream metadata hides (max_age, max_count, truncate_before,
 * erasures) out of the shards, then out of the lake: the data files that
 * hold some are rewritten without them (or dropped when nothing is left),
 * all in one Iceberg overwrite that carries the marks. Steps for the
 * crash test: "purge" (a shard transaction), "rewrite" (a file written),
 * "retain" (the commit). */
typedef struct lh__retention_result {
    int64_t hot_removed, lake_removed;
    int64_t files_rewritten, files_dropped, commits;
} lh__retention_result;
lh_rc lh__retention(lh__lake *l, lh_us now, const lh__flush_opts *o,
                    lh__retention_result *r, lh_err *err);

/* run.c: the pipeline over every table of db, with hooks for tests. */
typedef struct lh__pipeline_opts {
    bool until_idle;
    lh__flush_opts flush;
} lh__pipeline_opts;
lh_rc lh__pipeline_run(lh_db *db, const lh__pipeline_opts *o,
                       lh_pipeline_stats *st, lh_err *err);

#endif
