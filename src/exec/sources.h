/*
 * The table sources the session's catalog makes: for table functions,
 * read_parquet (parquet_src.c), iceberg_scan (iceberg_src.c) and
 * generate_series / range (series.c);
 * for the data directory's event tables, the hot tier (hot_src.c).
 * Each returns a table (in `a`) and a resource the caller frees with the
 * matching _free once the statement is done.
 */
#ifndef LH_EXEC_SOURCES_H
#define LH_EXEC_SOURCES_H

#include "exec/exec.h"

/* (C11 allows these typedefs again where their headers are included.) */
typedef struct lh_table lh_table;
typedef struct lh_ice_table lh_ice_table;

/* The files a session's table functions may read (lh_session_confine):
 * all when !on; none when on and root is NULL; else those under root (a
 * real path without a final '/'). */
typedef struct lh_file_scope {
    bool on;
    char *root;
} lh_file_scope;

/* LH_OK when path (a file, or a glob: its literal directory) is in sc;
 * else LH_EREADONLY naming fn and path, worded the same whether path
 * exists or not (no oracle for files outside). sc NULL: all. */
lh_rc lh__file_in_scope(const lh_file_scope *sc, const char *fn,
                        const char *path, lh_err *err);

/* read_parquet('file or glob', ...): the files in scope (NULL: all). */
lh_rc lh__read_parquet(const lh_value *args, uint32_t nargs,
                       const char *const *names, const lh_value *named,
                       uint32_t nnamed, const lh_file_scope *scope, lh_arena *a,
                       lh_sql_table **out, void **resource, lh_err *err);
void lh__read_parquet_free(void *resource);

/* generate_series(start, stop [, step]) (inclusive) and range(...)
 * (exclusive of stop; range(n) is 0..n-1), of BIGINT. */
lh_rc lh__series(const char *name, const lh_value *args, uint32_t nargs,
                 lh_arena *a, lh_sql_table **out, void **resource, lh_err *err);
void lh__series_free(void *resource);

/* iceberg_scan('table folder or metadata.json' [, snapshot_id => N]
 * [, as_of => TIMESTAMP]) (iceberg_src.c): the snapshot's top-level
 * fields as columns, its data files (with their deletes) as the rows. */
lh_rc lh__iceberg_scan(const lh_value *args, uint32_t nargs,
                       const char *const *names, const lh_value *named,
                       uint32_t nnamed, lh_arena *a, lh_sql_table **out,
                       void **resource, lh_err *err);
void lh__iceberg_scan_free(void *resource);

/* The event table `name` of the data directory db (router/router.c):
 * its payload columns, then the envelope as hidden columns, over every
 * tier (the hot shards and the table's lake; docs/internals/router.md).
 * LH_ENOENT (no message) when db is NULL or has no such table; the
 * resource is freed with lh__event_table_free once the statement is
 * done. */
lh_rc lh__event_table(lh_db *db, const char *name, lh_arena *a,
                      lh_sql_table **out, void **resource, lh_err *err);
void lh__event_table_free(void *resource);

/* The hot tier's part of an event table (hot_src.c): a source over the
 * shards of t (owned by the db), whose columns are the event table's
 * (borrowed from the source, valid until lh__hot_source_free). */
lh_rc lh__hot_source_new(lh_table *t, lh_source **out, lh_err *err);
void lh__hot_source_free(lh_source *src);
const lh_sql_column *lh__hot_source_columns(const lh_source *src,
                                            uint32_t *ncols,
                                            uint32_t *npayload);
/* A cut of the hot tier: the read transaction of every shard that the
 * request's stream and shard predicates and its ts range (against each
 * shard's min and max ts, read in that transaction) do not prune, opened
 * now, so later commits and deletes are not seen. It is the `shared`
 * object of the hot source's scans (vt->share makes one; vt->open with
 * NULL makes its own); each pinned shard is read by one scan, which ends
 * its transaction when done. lh__hot_cut_limit restricts every shard to
 * the positions above marks[shard] (copied; default 0). The codes of
 * opening a shard. */
typedef struct lh__hot_cut lh__hot_cut;
lh_rc lh__hot_cut_open(const lh_source *hot, const lh_scan_request *req,
                       lh__hot_cut **out, lh_err *err);
void lh__hot_cut_limit(lh__hot_cut *c, const int64_t *marks);
/* False when the request names its streams (stream = x, IN) and none of
 * them has a version floor in the pinned shards: no event of theirs ever
 * left the hot tier, so the lake holds none and the shards' rows at or
 * below the marks (flushed, not yet deleted) are to be read: leave the
 * marks at 0. */
bool lh__hot_cut_needs_lake(const lh__hot_cut *c);
/* Shards pinned, pruned (by predicates or bounds), pruned by bounds. */
void lh__hot_cut_counts(const lh__hot_cut *c, uint64_t *pinned,
                        uint64_t *pruned, uint64_t *by_bounds);
void lh__hot_cut_close(lh__hot_cut *c);

/* The lake's part of an event table (iceberg_src.c): a source over
 * snapshot snapshot_id of t (borrowed: it outlives the source) read with
 * that snapshot's schema, or without has_snapshot over the current
 * snapshot of the metadata t was opened or last refreshed with (none: no
 * rows), read with the current schema. Its column i is cols[i] (copied),
 * read from the field field_ids[i] of that schema (0, or a field the
 * schema lacks: NULL) and converted to cols[i].type where the lake holds
 * another (SMALLINT as int, JSON as string, FLOAT[n] as binary). Scans
 * plan files with the request's predicates (pruned by partition and
 * column bounds) and read them as iceberg_scan does. */
lh_rc lh__iceberg_source_new(lh_ice_table *t, bool has_snapshot,
                             int64_t snapshot_id, const lh_sql_column *cols,
                             const int32_t *field_ids, uint32_t ncols,
                             lh_source **out, lh_err *err);
void lh__iceberg_source_free(lh_source *src);
/* The plan's counters of a shared object the source's share made. */
void lh__iceberg_shared_stats(const void *shared, uint32_t *files,
                              uint64_t *files_pruned, uint32_t *manifests,
                              uint32_t *manifests_pruned);

/* INSERT into an event table (t from lh__event_table): every row of
 * `rows` (a source of t's first nsrc columns in t's order: the payload,
 * then the envelope, NULL for what the statement did not give; CREATE
 * TABLE AS gives the payload alone) becomes one event,
 * appended in calls of up to 1,024 events. An event without event_id gets
 * a new UUIDv7, without stream its event id, without type the table's
 * name, without ts now (ARCHITECTURE.md, "The event"). version,
 * committed_at, shard, position and schema_version are assigned by the hot
 * tier: a value for them is LH_EINVAL. lh_append's codes (the events of
 * earlier calls stay appended). *count = events appended. */
lh_rc lh__event_insert(lh_db *db, const lh_sql_table *t, const lh_source *rows,
                       uint32_t nsrc, int64_t *count, lh_err *err);
/* The names of db's event tables (none when db is NULL), in a. */
lh_rc lh__event_table_names(lh_db *db, lh_arena *a, const char ***out,
                            uint32_t *n);

/* ---- nearest neighbours in the hot tier (hot_knn.c) ---- */

struct lh_table;
/* The event table's columns the search reads besides the request's. */
typedef struct lh__event_cols {
    const lh_sql_column *cols; /* all of them (borrowed from the source) */
    uint32_t shard, position, embedding;
} lh__event_cols;
/* The table behind an event source (hot_src.c) and where its envelope
 * columns are. */
void lh__event_source_info(const lh_source *src, struct lh_table **t,
                           lh__event_cols *cols);
/* Says on the catalog's table st whether t's shards offer a vector index
 * over column col (the embedding): knn, its metric and ef_search, or why
 * not (knn_why). */
void lh__hot_knn_offer(struct lh_table *t, lh_sql_table *st, uint32_t col);
/* lh_source_vt.knn of an event table: every shard's HNSW searched (the
 * filter first evaluated over the shard's rows into a bitmap of the
 * positions it passes), the hits merged by distance, the k nearest rows
 * read back by position. */
lh_rc lh__hot_knn(const lh_source *src, const lh_scan_request *req,
                  const lh_knn_request *kr, lh_arena *a, lh_batch *out,
                  lh_knn_stats *stats, lh_err *err);
/* The same as the hot part of a union of tiers (the router's): fewer
 * than k rows is an answer, and *may_miss says whether rows passing the
 * filter without an embedding may exist (SQL sorts them after the k
 * nearest, so the union then needs the exact plan if it is short too). */
lh_rc lh__hot_knn_part(const lh_source *src, const lh_scan_request *req,
                       const lh_knn_request *kr, lh_arena *a, lh_batch *out,
                       lh_knn_stats *stats, bool *may_miss, lh_err *err);

#endif
