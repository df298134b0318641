/*
 * hot: the event store on SQLite shards (the hot tier). Its public face is
 * the database, table, append and read API of include/lakehouse.h; this
 * header is what other modules (pipeline, router, exec) will use beside it:
 * table definitions and, with the SQL engine, scans into column batches.
 */
#ifndef LH_HOT_H
#define LH_HOT_H

#include "lakehouse.h"

/* ---- tiering: the table policy ---------------------------------------------
 * What a table definition says about moving its events out of the hot tier
 * (docs/internals/pipeline.md has the whole story). Durations are µs, sizes
 * bytes; the JSON names are the field names. */
typedef struct lh_hot_policy {
    int64_t hot_window;          /* events whose ts is older leave the hot tier
                                    (the age trigger): 72h */
    int64_t warm_window;         /* lake partitions older are compacted into
                                    the cold layout: 90d */
    int64_t flush_rows;          /* a shard holding more rows flushes its
                                    oldest down to half: 1000000 */
    int64_t flush_bytes;         /* ... or using more bytes: 256 MiB */
    int64_t flush_interval;      /* how often a shard's alarm looks: 1m */
    int64_t warm_file_size;      /* target size of a warm file: 64 MiB */
    int64_t cold_file_size;      /* ... of a cold file: 256 MiB */
    int64_t warm_row_group_rows; /* small row groups: 16384 */
    int64_t cold_row_group_rows; /* large row groups: 131072 */
    int64_t retention;           /* events whose ts is older are removed from
                                    every tier; 0 = kept for ever (default) */
    int64_t snapshot_max_age;    /* lake snapshots older expire: 7d ... */
    int64_t snapshot_min_count;  /* ... but the newest this many stay: 10 */
    const char *lake; /* the object store URI the table's lake lives in;
                         NULL = DIR/lake on the local filesystem */
} lh_hot_policy;

#endif
