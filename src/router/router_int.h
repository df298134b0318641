/*
 * The tier router's files among themselves (router.c: the union of
 * tiers; router_knn.c: its nearest-neighbour search). See
 * docs/internals/router.md.
 */
#ifndef LH_ROUTER_INT_H
#define LH_ROUTER_INT_H

#include "exec/exec_int.h"
#include "exec/sources.h"

/* What router_knn.c needs of an event table's union (borrowed from the
 * router's source, which outlives every call). */
typedef struct lh__rt_parts {
    struct lh_table *t;
    const lh_source *hot;      /* the hot source (exec/hot_src.c) */
    const lh_sql_column *cols; /* the table's columns (the hot source's) */
    const int32_t *fids;       /* per column: its field id in the lake */
    uint32_t ncols;
    uint32_t ts_col, ttl_col; /* the envelope's ts and ttl_seconds */
} lh__rt_parts;

/* lh_source_vt.knn of the union of tiers (docs/internals/router.md,
 * "Nearest neighbours"): the hot part through the shards' HNSW
 * (lh__hot_knn_part), then the lake's snapshot read after it, every part
 * asked for the k nearest rows that pass; merged by the full vector's
 * distance, an event in two tiers (mid-flush) once. LH_EUNSUPPORTED (no
 * message) when the exact plan must answer: fewer than k rows and rows
 * without an embedding may pass (SQL puts them last), or an index is
 * gone. LH_EINVAL for a bad query vector; lake read errors as they
 * come. The rows are in a. */
lh_rc lh__router_knn(const lh__rt_parts *p, const lh_scan_request *req,
                     const lh_knn_request *kr, lh_arena *a, lh_batch *out,
                     lh_knn_stats *stats, lh_err *err);

#endif
