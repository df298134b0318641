/*
 * exec: the executor, as other modules see it (the query API in
 * exec/query.c, the tier router of issue 6): table sources, and running a
 * plan. docs/internals/sql.md is the design.
 *
 * A table source is what a catalog table's `source` points to: a table of
 * function pointers (memory tables, Parquet files, the hot tier's shards,
 * later Iceberg and the router's union of tiers) and its data. A scan asks
 * for columns (by index in the table's column list) and passes the
 * pushed-down predicates; sources use them to prune and may return rows
 * that do not match (the scan operator filters), never fewer.
 *
 * Parallel sources: scans of one query that share the object `share`
 * made split the work between them (morsels: row groups, files, shards);
 * each scan instance runs on one thread.
 */
#ifndef LH_EXEC_H
#define LH_EXEC_H

#include <pthread.h>

#include "column/batch.h"
#include "sql/plan.h"

typedef struct lh_exec lh_exec;

/* A bound that tightens while a statement runs: a top-N's worst kept key
 * so far, published by the sort operator for the scan below it, which may
 * skip what cannot beat it (a row group whose minimum is above it, for an
 * ascending key; `col <= value` for op LH_OP_LE, `col >= value` for
 * LH_OP_GE). The rows skipped could only have sorted after the top N, so
 * a source may ignore it. `set` and `value` under mu. */
typedef struct lh_dyn_bound {
    uint32_t col; /* the table's column */
    uint8_t op;   /* LH_OP_LE or LH_OP_GE */
    pthread_mutex_t mu;
    bool set;
    lh_value value; /* fixed-width types only: no memory behind it */
} lh_dyn_bound;

/* The bound's value now; false when it has none yet. */
bool lh_dyn_bound_get(lh_dyn_bound *b, lh_value *out);

typedef struct lh_scan_request {
    const uint32_t *cols; /* table column indexes, in output order */
    uint32_t ncols;
    const lh_scan_pred *preds;
    uint32_t npreds;
    bool has_time;
    int64_t ts_lo, ts_hi;
    uint8_t travel; /* lh_time_travel; value in travel_value */
    lh_value travel_value;
    lh_dyn_bound *bound; /* NULL, or a top-N's running bound (see above) */
} lh_scan_request;

/* How a nearest-neighbour search went (EXPLAIN ANALYZE). */
typedef struct lh_knn_stats {
    uint32_t parts;        /* index searches (a shard's, a file's) */
    uint32_t exact_parts;  /* ... answered by an exact scan of the filter */
    uint32_t rounds;       /* graph searches (filtered widening) */
    uint32_t ef;           /* the widest ef used */
    uint64_t filter_rows;  /* rows the filter was evaluated on */
    uint64_t filter_pass;  /* ... and passed */
    uint64_t distances;    /* distances computed */
    uint32_t over_fetched; /* filtered: the nearest rows of all were read
                              and filtered, and enough passed */
    uint32_t over_missed;  /* ... too few passed: then the bitmap pass */
    /* the lake's part (router_knn.c): the warm index's lists searched,
     * codes scanned and rows re-ranked, and the rows read */
    uint32_t lake_lists;
    uint64_t lake_codes, lake_reranked, lake_rows;
} lh_knn_stats;

/* Pruning counters of a scan, for EXPLAIN ANALYZE. */
typedef struct lh_scan_stats {
    uint64_t files, files_pruned;
    uint64_t row_groups, row_groups_pruned;
    uint64_t pages, pages_pruned;
    uint64_t shards, shards_pruned;
    uint64_t bytes_read, rows;
    lh_knn_stats knn; /* a nearest-neighbour scan's */
} lh_scan_stats;

typedef struct lh_source lh_source;
typedef struct lh_source_scan lh_source_scan;

/* A nearest-neighbour search (the plan's lh_plan_knn, for lh_source_vt.knn):
 * the k rows nearest to q by metric over column col that pass the scan's
 * filter. */
typedef struct lh_knn_request {
    uint32_t col;   /* the table column searched */
    uint8_t metric; /* lh_vec_metric */
    const float *q; /* dim values, borrowed for the call */
    uint32_t dim;
    uint32_t k;  /* rows wanted, at most LH_BATCH_ROWS */
    uint32_t ef; /* candidates (>= k) */
    /* the lake's warm index: lists searched and candidates re-ranked per
     * row wanted; 0: the table's vector_index settings */
    uint32_t nprobe, refine;
    /* The scan's filter, or NULL: sets pass[i] for each row i of b (no
     * selection), whose columns are the scan request's; it reads only
     * those marked in filter_cols (the others may hold anything, e.g.
     * NULLs of another type). The source calls it on one thread. */
    lh_rc (*filter)(void *ud, const lh_batch *b, uint8_t *pass, lh_err *err);
    void *filter_ud;
    const bool *filter_cols; /* per request column */
} lh_knn_request;

typedef struct lh_source_vt {
    const char *name;
    /* Optional: state shared by the parallel scans of one query (made
     * once, freed with free_shared). NULL share: no parallelism. */
    lh_rc (*share)(const lh_source *src, const lh_scan_request *req,
                   void **shared, lh_err *err);
    void (*free_shared)(void *shared);
    /* Optional: how many scans of req can usefully run at once (the
     * shards or files pruning leaves); fewer workers start, and none for
     * 1: a thread costs more than a point lookup. NULL: no limit. */
    uint32_t (*parallelism)(const lh_source *src, const lh_scan_request *req);
    /* Opens one scan; `shared` is what share made (or NULL). */
    lh_rc (*open)(const lh_source *src, const lh_scan_request *req,
                  void *shared, lh_source_scan **out, lh_err *err);
    /* The next batch (out->count == 0 at the end); borrowed until the next
     * call or close. */
    lh_rc (*next)(lh_source_scan *s, lh_batch *out, lh_err *err);
    void (*stats)(const lh_source_scan *s, lh_scan_stats *out);
    void (*close)(lh_source_scan *s);
    /* One line for EXPLAIN: what it reads ("2 files", "16 shards"). */
    void (*describe)(const lh_source *src, lh_buf *out);
    /* Optional, in place of describe: the line for a scan of this
     * request, saying what it would read and prune (the tier router's
     * tiers, lake snapshot and pruned shards and files). */
    void (*explain)(const lh_source *src, const lh_scan_request *req,
                    lh_buf *out);
    /* Optional: exact facts of the whole source, without reading rows
     * (min / max / count without a filter are answered from them): the
     * row count, and, when col is a column index (not UINT32_MAX), that
     * column's NULL count and minimum and maximum (*has_values false for
     * a column of only NULLs). False when not known exactly. */
    bool (*bounds)(const lh_source *src, uint32_t col, uint64_t *rows,
                   int64_t *nulls, lh_value *min, lh_value *max,
                   bool *has_values);
    /* Optional: nearest-neighbour search (the catalog table says so with
     * lh_sql_table.knn): the rows of req (its columns, passing its
     * predicates and kr's filter) nearest to kr->q, at most kr->k, into
     * *out (one batch, any order, its memory in a). Rows whose column is
     * NULL never come back. LH_EINVAL for a query vector of the wrong
     * length or not finite (the message names it); LH_EUNSUPPORTED (no
     * message) when the index is not there after all: the caller scans. */
    lh_rc (*knn)(const lh_source *src, const lh_scan_request *req,
                 const lh_knn_request *kr, lh_arena *a, lh_batch *out,
                 lh_knn_stats *stats, lh_err *err);
} lh_source_vt;

struct lh_source {
    const lh_source_vt *vt;
    void *ud;
};

#endif
