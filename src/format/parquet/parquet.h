/*
 * Apache Parquet: the reader (column batches out of a file) and the writer
 * (a file out of column batches). The lower layers live beside this file:
 * thrift.h (compact protocol), meta.h (the footer and page structs),
 * codec.h (compression), encoding.h (values and levels), bloom.h.
 *
 * The reader maps the file's schema to lakehouse types (LIST, MAP and
 * STRUCT for nested groups; see docs/formats/parquet.md for every physical
 * and logical type) and decodes the projected columns into batches of up to
 * LH_BATCH_ROWS rows. Pushdown: only projected column chunks are read; row
 * groups are pruned by statistics and bloom filters against the scan's
 * predicates, and (when every projected column is primitive) pages by the
 * column index, the other columns skipping the same rows through their
 * offset index. Predicates only prune: the rows that come back are a superset
 * of the matching rows, and the caller filters.
 *
 * Thread rules: an lh_pq_file is immutable after open and may be shared by
 * any number of scans on any threads; one scan is used by one thread at a
 * time. The file must outlive its scans.
 */
#ifndef LH_FORMAT_PARQUET_H
#define LH_FORMAT_PARQUET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "column/batch.h"
#include "format/parquet/meta.h"

/* One column as lakehouse sees it: a node of the schema tree. A primitive
 * column is a leaf (leaf >= 0, the index of its column chunk in every row
 * group); LIST and MAP nodes have one child (MAP: a STRUCT of key and
 * value), STRUCT nodes one child per field. The levels say where the node
 * lives in the definition/repetition levels of its leaves. */
typedef struct lh_pq_node {
    const char *name;
    lh_type type;
    bool nullable;
    bool has_field_id;
    int32_t field_id;
    int32_t leaf;       /* primitive: leaf index; groups: -1 */
    int32_t first_leaf; /* the first leaf under the node (pre-order) */
    uint32_t id;        /* pre-order number, < lh_pq_nnodes() */
    const struct lh_pq_node *parent;
    struct lh_pq_node *children;
    uint32_t nchildren;
    int16_t d_reach; /* definition level at which the node's slot exists */
    int16_t d_valid; /* ... at which it is not NULL */
    int16_t d_elem;  /* LIST/MAP: ... at which it has an element */
    int16_t rep;     /* repetition level of the node's slots */
    /* Primitive leaves: how the file stores them. */
    const lh_pq_schema_element *el;
    int16_t max_def, max_rep;
    uint8_t conv; /* how physical values become `type` (reader.c) */
} lh_pq_node;

typedef struct lh_pq_file lh_pq_file;

/* Opens a file: reads and checks the footer and maps the schema. The file
 * is mapped read-only; nothing else is read until a scan asks. LH_EIO
 * (naming the path), LH_EFORMAT for a file that is not Parquet or uses a
 * feature we refuse (the message starts "unsupported: "), LH_ECORRUPT for
 * a damaged footer. *out is the caller's, freed with lh_pq_close. */
lh_rc lh_pq_open(const char *path, lh_pq_file **out, lh_err *err);
/* The same over bytes in memory: borrowed, they must outlive the file. */
lh_rc lh_pq_open_mem(const uint8_t *p, size_t len, const char *name,
                     lh_pq_file **out, lh_err *err);
void lh_pq_close(lh_pq_file *f);

/* The decoded footer (borrowed from f). */
const lh_pq_file_metadata *lh_pq_meta(const lh_pq_file *f);
/* Top-level columns (borrowed from f). */
uint32_t lh_pq_ncolumns(const lh_pq_file *f);
const lh_pq_node *lh_pq_column(const lh_pq_file *f, uint32_t i);
/* The exact minimum and maximum of top-level column i over the whole file,
 * from its row groups' statistics, and its null count (for min(), max()
 * and count() without reading data). False when a row group lacks them,
 * when they may not be trusted (unknown sort order), for floating point
 * (NaN) and byte-array columns (bounds may be cut), and for nested
 * columns. A column of only NULLs gives true with *has_values false. */
bool lh_pq_column_bounds(const lh_pq_file *f, uint32_t i, lh_value *min,
                         lh_value *max, bool *has_values, int64_t *nulls);
/* Leaf (primitive) columns, in column-chunk order. */
uint32_t lh_pq_nleaves(const lh_pq_file *f);
const lh_pq_node *lh_pq_leaf(const lh_pq_file *f, uint32_t i);
/* Nodes in the whole tree (ids are 0..n-1; the root is not counted). */
uint32_t lh_pq_nnodes(const lh_pq_file *f);
/* The top-level column named `name`, or -1. */
int lh_pq_find_column(const lh_pq_file *f, const char *name);
/* The whole file's bytes (borrowed), for inspect's page walks. */
const uint8_t *lh_pq_file_bytes(const lh_pq_file *f, size_t *len);

typedef enum lh_pq_op {
    LH_PQ_EQ,
    LH_PQ_LT,
    LH_PQ_LE,
    LH_PQ_GT,
    LH_PQ_GE,
    LH_PQ_IN, /* any of values[0..nvalues) */
    LH_PQ_IS_NULL,
    LH_PQ_NOT_NULL,
} lh_pq_op;

/* A predicate on a top-level primitive column; values are of the column's
 * type (borrowed for the scan's life). */
typedef struct lh_pq_pred {
    uint32_t column;
    lh_pq_op op;
    const lh_value *values;
    uint32_t nvalues;
} lh_pq_pred;

typedef struct lh_pq_scan_opts {
    const uint32_t *columns; /* top-level column indexes; NULL = all */
    uint32_t ncolumns;
    const lh_pq_pred *preds; /* ANDed; prune only */
    uint32_t npreds;
    uint32_t batch_rows; /* 0 = LH_BATCH_ROWS */
    bool skip_crc;       /* do not check page CRCs */
    /* Late materialization: a dictionary-encoded primitive column may come
     * back as an LH_VEC_DICT vector (codes into the chunk's dictionary,
     * itself a FLAT vector) when the consumer can use codes. */
    bool keep_dict;
    /* Morsel-driven parallelism: scans of one file that share this
     * counter (start it at 0) take row groups from it in turn, so each row
     * group is read by exactly one of them, on whatever thread runs it.
     * NULL: the scan reads every row group itself. */
    _Atomic uint32_t *next_row_group;
    /* Optional: a predicate that tightens while the scan runs (a top-N's
     * worst kept key): before each row group, dyn_value(dyn_ud, &v) may
     * give the value of `column dyn_op v` (true), which then prunes the
     * row group like preds do (not its pages). Called on the scan's
     * thread; it must be thread-safe when scans share row groups. */
    bool (*dyn_value)(void *dyn_ud, lh_value *v);
    void *dyn_ud;
    uint32_t dyn_column; /* top-level, not nested */
    lh_pq_op dyn_op;     /* LH_PQ_LT .. LH_PQ_GE */
} lh_pq_scan_opts;

typedef struct lh_pq_scan_stats {
    uint64_t row_groups, row_groups_pruned;
    uint64_t pages, bytes_read; /* compressed bytes of pages read */
    uint64_t pages_pruned;      /* by a predicate column's column index */
    uint64_t rows_skipped;      /* ... and the rows skipped for them */
    uint64_t rows;
} lh_pq_scan_stats;

typedef struct lh_pq_scan lh_pq_scan;

/* LH_EINVAL for a column index out of range or a predicate on a nested
 * column; LH_ENOMEM. */
lh_rc lh_pq_scan_open(lh_pq_file *f, const lh_pq_scan_opts *opts,
                      lh_pq_scan **out, lh_err *err);
/* Fills *out with the next batch: its columns are the projected ones in
 * order. out->count == 0 at the end. The batch and everything it points to
 * belong to the scan and stay valid until the next lh_pq_scan_next or
 * lh_pq_scan_close. LH_ECORRUPT / LH_EFORMAT for a damaged or refused page
 * (the message names the column, row group and page), LH_ENOMEM; after an
 * error the scan only closes. */
lh_rc lh_pq_scan_next(lh_pq_scan *s, lh_batch *out, lh_err *err);
void lh_pq_scan_get_stats(const lh_pq_scan *s, lh_pq_scan_stats *out);
void lh_pq_scan_close(lh_pq_scan *s);

#endif
