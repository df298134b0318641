/*
 * The Parquet writer: column batches (column/batch.h) in, a Parquet file
 * out, through a sink (a write callback) so that the object store can take
 * the bytes as well as a local file. The design and the file layout are at
 * the top of writer_int.h.
 *
 * Usage:
 *
 *     lh_pq_writer_opts o;
 *     lh_pq_writer_opts_init(&o);          (ZSTD 3, 122880-row groups...)
 *     lh_pq_writer *w;
 *     rc = lh_pq_writer_open_path("out.parquet", cols, ncols, &o, &w, err);
 *     while (...) rc = lh_pq_writer_write(w, &batch, err);
 *     rc = lh_pq_writer_close(w, err);     (or lh_pq_writer_abort(w))
 *
 * Types (the lakehouse type of a column -> its Parquet schema; the legacy
 * converted type is written too where one means the same, for old readers):
 *   BOOLEAN        BOOLEAN
 *   SMALLINT       INT32, INTEGER(16,true) / INT_16
 *   INTEGER        INT32
 *   BIGINT         INT64
 *   REAL, DOUBLE   FLOAT, DOUBLE
 *   DECIMAL(p,s)   INT32 (p <= 9), INT64 (p <= 18), else FIXED_LEN_BYTE_ARRAY
 *                  of the fewest bytes that hold p digits; DECIMAL(p,s)
 *   VARCHAR        BYTE_ARRAY, STRING / UTF8
 *   BLOB           BYTE_ARRAY
 *   JSON           BYTE_ARRAY, JSON / JSON
 *   DATE           INT32, DATE / DATE
 *   TIME           INT64, TIME(MICROS,false) (no converted type: TIME_MICROS
 *                  means UTC-adjusted)
 *   TIMESTAMP      INT64, TIMESTAMP(MICROS,false)
 *   TIMESTAMPTZ    INT64, TIMESTAMP(MICROS,true) / TIMESTAMP_MICROS
 *   UUID           FIXED_LEN_BYTE_ARRAY(16), UUID
 *   INTERVAL       FIXED_LEN_BYTE_ARRAY(12), converted type INTERVAL only
 *                  (months, days, milliseconds as little-endian uint32):
 *                  microseconds below a millisecond are lost, and negative
 *                  parts wrap (the format's fields are unsigned)
 *   FLOAT[n]       a LIST of required FLOAT (three levels), n a row
 *   LIST           three-level LIST (element nullable as its column says)
 *   STRUCT         a group of its fields
 *   MAP            MAP, repeated group key_value {required key; value}
 *
 * Thread rules: a writer is used by one thread at a time; writers share
 * nothing. With opts.threads > 1 the writer keeps threads - 1 helper
 * threads of its own from open to close/abort: they encode a batch's
 * columns beside the caller's thread (lh_pq_writer_write returns once the
 * batch is done with) and compress a full row group while the next one
 * fills. The sink is called only from the caller's thread.
 */
#ifndef LH_FORMAT_PARQUET_WRITER_H
#define LH_FORMAT_PARQUET_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "column/batch.h"
#include "format/parquet/meta.h"

/* One column of the schema (borrowed for lh_pq_writer_open, which copies
 * it). Nested types describe their parts in children: LIST one child (the
 * element; its name is ignored, "element" is written), MAP two (key, which
 * must not be nullable, and value), STRUCT one per field. FLOAT[n]
 * (LH_T_VECTOR) has no children. */
typedef struct lh_pq_wcolumn {
    const char *name;
    lh_type type;
    bool nullable;
    bool has_field_id;
    int32_t field_id;
    const struct lh_pq_wcolumn *children;
    uint32_t nchildren;
    bool bloom;   /* a split-block Bloom filter for each chunk (primitive
                     columns but BOOLEAN) */
    bool no_dict; /* never dictionary-encode this column */
} lh_pq_wcolumn;

typedef struct lh_pq_writer_opts {
    int codec;               /* LH_PQ_CODEC_*: default ZSTD */
    int level;               /* 0 = the codec's default (ZSTD 3) */
    uint64_t row_group_rows; /* rows a row group: default 122880 */
    size_t page_bytes;       /* a data page closes once its encoded values
                                pass this: default 1 MiB (checked every
                                1024 rows of the chunk, and for byte arrays
                                also at the row that passes it, so where
                                pages end depends on the rows alone) */
    uint32_t page_rows;      /* ... or rows (0 = no limit, the default) */
    bool dictionary;         /* dictionary-encode chunks: default true */
    size_t dict_bytes;       /* fall back to PLAIN when a chunk's dictionary
                                passes this: default 1 MiB */
    uint32_t dict_values;    /* ... or holds more values than this: 0 (the
                                default) = row_group_rows / 20, as DuckDB */
    bool page_v2;            /* DataPageV2 instead of v1 pages */
    bool statistics;         /* min, max, null count: default true */
    bool page_index;         /* ColumnIndex + OffsetIndex: default true */
    size_t stats_bytes;      /* byte-array bounds are cut to this: 64 */
    double bloom_fpp;        /* Bloom filter false positives: 0.01 */
    bool page_crc;           /* CRC-32 in every page header: default off */
    uint32_t threads;        /* threads encoding and compressing the
                                columns: 0 = one per CPU, at most 8 (the
                                default); 1 = the caller's thread only.
                                The bytes are the same either way. */
    /* Borrowed until lh_pq_writer_open returns (copied). */
    const lh_pq_sorting_column *sorting; /* written in every row group */
    uint32_t nsorting;
    const lh_pq_key_value *kv; /* the footer's key-value metadata */
    uint32_t nkv;
} lh_pq_writer_opts;

/* The defaults above. */
void lh_pq_writer_opts_init(lh_pq_writer_opts *o);

/* Where the bytes go. write is called with the file's bytes in order
 * (each call's p is borrowed for the call); finish, if not NULL, exactly
 * once at the end: ok true after the last byte (commit: it may fail), ok
 * false when the file is abandoned (it should discard what it got; its
 * error is ignored). */
typedef struct lh_pq_sink {
    lh_rc (*write)(void *ctx, const void *p, size_t n, lh_err *err);
    lh_rc (*finish)(void *ctx, bool ok, lh_err *err);
    void *ctx;
} lh_pq_sink;

typedef struct lh_pq_writer lh_pq_writer;

/* Starts a file of ncols columns on the sink (copied; its ctx must live
 * until close or abort). opts NULL = the defaults. Writes "PAR1" at once.
 * LH_EINVAL for a bad schema (an empty or duplicate name, a type the
 * writer has no mapping for, a MAP with a nullable key, a LIST without its
 * element, Bloom filters on BOOLEAN or group columns, nesting past 32
 * levels) or options (unknown codec, bad level, fpp outside (0,1));
 * LH_EUNSUPPORTED for the LZO codec; the sink's codes; LH_ENOMEM. */
lh_rc lh_pq_writer_open(const lh_pq_wcolumn *cols, uint32_t ncols,
                        const lh_pq_writer_opts *opts, const lh_pq_sink *sink,
                        lh_pq_writer **out, lh_err *err);

/* The same into a file, atomically: the bytes go to a new file beside
 * `path` (".NAME.tmp-..."), which close fsyncs and renames over `path`
 * (then fsyncs the directory); abort and a failed close remove it, so
 * `path` either gets the whole file or is left as it was. LH_EIO naming the
 * path (LH_ENOSPC for a full disk), and lh_pq_writer_open's codes. */
lh_rc lh_pq_writer_open_path(const char *path, const lh_pq_wcolumn *cols,
                             uint32_t ncols, const lh_pq_writer_opts *opts,
                             lh_pq_writer **out, lh_err *err);

/* Appends the batch's rows (b->sel's rows when sel is not NULL), whose
 * columns match the schema in order and type (DECIMAL precision and scale,
 * FLOAT[n] dimension; a VARCHAR's length is not checked). Vectors may be
 * FLAT, CONSTANT or DICT at any level (a DICT row is NULL when the DICT
 * vector's own bitmap says so, as lh_vec_valid). The batch is only read
 * during the call. A row group is kept in memory until it fills; then,
 * with threads, its columns are compressed while the next one fills and
 * it reaches the sink at the next row group's end (or at close): the
 * writer holds up to two row groups.
 * LH_EINVAL, with nothing of the batch written, for a batch that does not
 * match (column count, a type), or a NULL in a column or element that is
 * not nullable (err->index is the column). The sink's codes, LH_ENOMEM,
 * LH_ELIMIT (a page past 2 GiB): after those the writer is failed and
 * only closes. */
lh_rc lh_pq_writer_write(lh_pq_writer *w, const lh_batch *b, lh_err *err);

/* Ends the current row group now (nothing when it is empty), so that the
 * next rows start a new one, and writes every full row group to the sink
 * before returning. Codes as lh_pq_writer_write. */
lh_rc lh_pq_writer_flush(lh_pq_writer *w, lh_err *err);

/* Rows written so far, and bytes handed to the sink. */
uint64_t lh_pq_writer_rows(const lh_pq_writer *w);
uint64_t lh_pq_writer_bytes(const lh_pq_writer *w);

/* Writes the last row group, the page indexes and the footer, finishes the
 * sink, and frees the writer (always, even on error; then the sink is
 * finished with ok false). A writer that failed earlier returns that
 * failure's code again. */
lh_rc lh_pq_writer_close(lh_pq_writer *w, lh_err *err);

/* Abandons the file (the sink's finish gets ok false) and frees the
 * writer. NULL is a no-op. */
void lh_pq_writer_abort(lh_pq_writer *w);

#endif
