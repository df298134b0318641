/*
 * Internals of the Parquet writer (writer.h): writer.c (schema, batches to
 * leaf values and levels, row groups, page indexes, footer, the file sink)
 * and wcol.c (one leaf column's chunk: pages, dictionary, statistics,
 * Bloom filter).
 *
 * File layout, in the order the bytes go to the sink:
 *
 *   "PAR1"
 *   row group 0: column chunk 0, column chunk 1, ... (leaves in schema
 *                order); each chunk is [dictionary page] data pages...
 *                then the row group's Bloom filters (BloomFilterHeader +
 *                bitset, for the columns that asked), so that a writer
 *                holds at most one row group's filters
 *   row group 1 ...
 *   every ColumnIndex (row group by row group, column by column)
 *   every OffsetIndex (the same order)
 *   FileMetaData, its 4-byte little-endian length, "PAR1"
 *
 * A row group is built in memory: batches arrive with all columns at once
 * while the file wants each column's chunk in one piece, so every leaf
 * keeps its chunk's pages until the row group fills (122880 rows by
 * default, DuckDB's size) and then the chunks go out one after another.
 *
 * Rows to leaves (writer.c): a flat column's values are gathered straight
 * from its vector into a staging array of physical values (INT32, INT64,
 * FLOAT, DOUBLE, lh_str views for BYTE_ARRAY, raw bytes for
 * FIXED_LEN_BYTE_ARRAY) or, when the vector already holds them that way
 * (no NULLs, no selection, same width), used in place. Nested columns
 * (LIST, MAP, STRUCT, FLOAT[n]) are shredded row by row into definition
 * and repetition levels (Dremel) for each leaf below them. Either way a
 * leaf gets (values, def levels, rep levels) for whole rows at a time:
 * lh__pqw_col_add.
 *
 * A leaf's chunk (wcol.c): values go into the current page, either as
 * dictionary codes (an open-addressing table keyed by XXH3 of the value's
 * bytes; the dictionary page is the PLAIN bytes of the distinct values in
 * order of first appearance) or as PLAIN bytes. Pages may close only every
 * LH_PQW_PIECE rows of the chunk (and for byte arrays at the row whose
 * bytes pass page_bytes), once the encoded values pass page_bytes (or
 * page_rows rows): so where pages end depends on the rows, never on how
 * batches cut them. A closed page is kept uncompressed in the chunk's
 * `pend` buffer, laid out as its body will be (levels RLE-encoded; codes
 * RLE/bit-packed, with RLE runs as short as pay at the codes' width: they
 * stay byte-aligned, which ZSTD compresses much better).
 *
 * When the row group is full each chunk is sealed (lh__pqw_col_seal): it
 * decides whether the dictionary paid, then compresses every page. The
 * dictionary is kept when it and the codes are smaller than the PLAIN
 * bytes of the same values; else its pages are decoded back into PLAIN
 * ones. A dictionary that passes dict_bytes or dict_values (by default a
 * twentieth of the row group's rows, as DuckDB: past that PLAIN with ZSTD
 * tends to be smaller), or whose first LH_PQW_DICT_PROBE values are nearly
 * all distinct, stops at once: the chunk's later pages are PLAIN and, when
 * sealed, so are the earlier ones.
 *
 * Threads (wcrew.c): filling a leaf (lh__pqw_fill_leaf) and sealing one
 * (lh__pqw_col_seal) touch nothing but that leaf's chunk, the thread's
 * staging and its ZSTD context, so with opts.threads > 1 the writer keeps
 * helper threads that take leaves from two queues: the batch being
 * written (every leaf, the caller's thread taking them too) and, behind
 * it, the row group sealing in the background. A full row group's columns
 * swap with a second set (cols_bg), sealed while the caller's thread and
 * any idle helper fill the next; it goes to the sink (headers, bodies,
 * Bloom filters, in leaf order, from the caller's thread) when that one
 * is full or the file closes. Either way the bytes are the same.
 *
 * Statistics are kept per page (min, max, nulls, NaNs) and merged into the
 * chunk's; the page bounds make the ColumnIndex. Floats: NaN never is a
 * bound (nan_count is written), a zero min is written as -0.0 and a zero
 * max as +0.0 (parquet.thrift, ColumnOrder), and a chunk that has a page
 * whose values are all NaN gets no ColumnIndex. INTERVAL has no defined
 * order: no bounds and no ColumnIndex. Byte-array bounds longer than
 * stats_bytes are cut: the min to a prefix, the max to a prefix whose
 * last byte (UTF-8 character, for strings) is incremented; is_*_exact
 * says which. DECIMAL in FIXED_LEN_BYTE_ARRAY orders as signed numbers.
 * Page headers carry no statistics: the ColumnIndex has them, and
 * PageIndex.md advises against both.
 *
 * Determinism: nothing depends on time, addresses or hash seeds, so the
 * same batches and options give the same bytes.
 */
#ifndef LH_FORMAT_PARQUET_WRITER_INT_H
#define LH_FORMAT_PARQUET_WRITER_INT_H

#include <pthread.h>

#include "format/parquet/writer.h"

#define LH_PQW_MAX_DEPTH 32
/* Rows of a chunk between the points where a page may close; also the
 * rows of a flat column staged at a time. */
#define LH_PQW_PIECE 1024
#define LH_PQW_MAX_THREADS 16
/* Values a chunk's dictionary sees before it may give up on a column
 * whose values are (nearly) all distinct. */
#define LH_PQW_DICT_PROBE 8192
/* A page holds at most this many level entries, whatever their size. */
#define LH_PQW_PAGE_MAX_ENTRIES ((uint32_t)1 << 22)

/* Schema node shapes (what the node writes into the Parquet schema). */
enum {
    LH_PQW_PRIM = 0,
    LH_PQW_LIST,   /* group (LIST) { repeated group list { element } } */
    LH_PQW_VECTOR, /* the same, element a required FLOAT */
    LH_PQW_MAP,    /* group (MAP) { key_value } */
    LH_PQW_KV,     /* repeated group key_value { key; value } */
    LH_PQW_STRUCT, /* group { fields } */
};

/* How a leaf's batch values become physical values. */
enum {
    LH_PQW_CV_COPY = 0, /* same bytes (width = the staging width) */
    LH_PQW_CV_BOOL,     /* uint8, normalized to 0/1 */
    LH_PQW_CV_I16,      /* int16 -> INT32 */
    LH_PQW_CV_I64_I32,  /* DECIMAL(p <= 9) held as int64 -> INT32 */
    LH_PQW_CV_DEC_BE,   /* DECIMAL(p > 18) lh_i128 -> big-endian FLBA */
    LH_PQW_CV_INTERVAL, /* lh_interval -> FLBA(12) */
};

/* How statistics order a leaf's values. */
enum {
    LH_PQW_ORD_NONE = 0, /* INTERVAL: no bounds */
    LH_PQW_ORD_BOOL,
    LH_PQW_ORD_I32,
    LH_PQW_ORD_I64,
    LH_PQW_ORD_FLOAT,
    LH_PQW_ORD_DOUBLE,
    LH_PQW_ORD_BYTES,  /* unsigned byte-wise */
    LH_PQW_ORD_DEC_BE, /* big-endian two's complement, same width */
};

typedef struct lh__pqw_node {
    char *name;
    lh_type type;
    uint8_t shape;
    bool nullable;
    bool has_field_id;
    int32_t field_id;
    bool bloom, no_dict;
    struct lh__pqw_node *children;
    uint32_t nchildren;
    int16_t def;  /* definition level of a present, non-null node */
    int16_t rep;  /* repetition level of the node's own slots */
    int32_t leaf; /* primitive: its leaf index; groups: -1 */
    uint32_t first_leaf, nleaves;
} lh__pqw_node;

/* Running statistics of a page or a chunk. */
typedef struct lh__pqw_stats {
    bool has; /* min and max hold a value */
    int64_t nulls, nans;
    union {
        int32_t i32;
        int64_t i64;
        float f;
        double d;
    } min, max;
    lh_buf minb, maxb; /* byte arrays: the whole value */
} lh__pqw_stats;

/* The buffers of a column (lh__pqw_col) a page body may sit in. */
enum {
    LH_PQW_BUF_HEAD = 0, /* compressed bodies */
    LH_PQW_BUF_PEND,     /* uncompressed pages, as closed */
    LH_PQW_BUF_CONV,     /* a page decoded from dictionary codes */
    LH_PQW_BUF_DICT,     /* the dictionary's PLAIN values */
};

/* A closed data page of the current chunk. */
typedef struct lh__pqw_page {
    uint32_t nent, nvals, nrows;
    int64_t first_row; /* in the row group */
    int64_t nans;
    bool dict;       /* its values are dictionary codes */
    bool has_bounds; /* min/max below are valid (not a null page) */
    bool nan_only;   /* values, but all NaN */
    size_t pend_off; /* its body in col->pend, uncompressed: v1 [4-byte
                        length][rep][4-byte length][def][values] (each
                        level part only when the column has the level),
                        v2 [rep][def][values] */
    uint32_t rep_len, def_len; /* RLE bytes of each level */
    uint32_t lvl_len;          /* bytes before the values */
    uint32_t vals_len;
    /* Sealed: header bytes in col->hdrs, the stored body in body_buf. */
    size_t hdr_off, body_off, body_len;
    uint32_t hdr_len;
    uint8_t body_buf;        /* LH_PQW_BUF_* */
    uint32_t csize;          /* header + stored body */
    uint32_t usize;          /* header + uncompressed body */
    int64_t file_off;        /* where its header went in the file */
    size_t min_off, max_off; /* column-index bounds in col->ci_mm */
    uint32_t min_len, max_len;
} lh__pqw_page;

typedef struct lh__pqw_dict {
    uint64_t *slots; /* (tag << 32) | (code + 1); 0 = empty */
    uint32_t mask;   /* slots - 1 (slots a power of two) */
    uint32_t n;
    lh_buf plain;  /* the dictionary page: PLAIN values, code order */
    uint32_t *off; /* BYTE_ARRAY: where value k's bytes start in plain */
    uint32_t off_cap;
} lh__pqw_dict;

/* A set of 64-bit hashes (the Bloom filter's input for one chunk). */
typedef struct lh__pqw_hset {
    uint64_t *s;
    uint32_t mask, n;
    bool zero;
} lh__pqw_hset;

typedef struct lh_pq_writer lh_pq_writer;

/* One leaf column's chunk writer. */
typedef struct lh__pqw_col {
    const lh__pqw_node *node;
    const lh_pq_writer *w;
    char **path;
    uint32_t npath;
    int phys;
    int32_t type_length; /* FIXED_LEN_BYTE_ARRAY */
    uint8_t conv;        /* LH_PQW_CV_* */
    uint8_t ord;         /* LH_PQW_ORD_* */
    size_t vw;           /* bytes of one staged value */
    bool utf8;           /* STRING/JSON: cut bounds at characters */
    int16_t max_def, max_rep;
    bool want_dict;

    /* The page being filled. */
    uint8_t *def, *rep;
    uint32_t nent, ent_cap, rep_cap;
    uint32_t nvals, nrows;
    uint32_t *codes;
    uint32_t code_cap;
    lh_buf vals; /* PLAIN values (BOOLEAN: one byte each until close) */
    lh__pqw_stats pst;
    int64_t page_first_row;
    uint64_t raw_bytes; /* byte-array bytes since the last boundary */

    /* The chunk. */
    bool dict_mode;
    bool dict_all; /* every value of the chunk went through the dict */
    lh__pqw_dict dict;
    uint64_t dict_vals;        /* values that went through the dict */
    uint64_t dict_plain_bytes; /* PLAIN size of the dict pages' values */
    uint64_t dict_code_bytes;  /* their codes as encoded */
    lh__pqw_page *pages;
    uint32_t npages, pages_cap;
    lh_buf pend, ci_mm;
    lh__pqw_stats cst;
    int64_t rows, values;
    lh__pqw_hset bloom;

    /* Sealed (lh__pqw_col_seal): headers in hdrs, bodies in head (or,
     * uncompressed, where they were). */
    bool keep;              /* with its dictionary page */
    uint32_t ndict;         /* pages of dictionary codes (the first) */
    lh__pqw_page dict_page; /* when kept */
    uint64_t usize;         /* total_uncompressed_size */
    void *zctx;             /* the ZSTD_CCtx of the sealing thread */

    /* Scratch, kept between chunks for its capacity. */
    lh_buf lv, head, hdrs, conv_buf;
    uint32_t *tmp32;
    uint32_t tmp32_cap;
} lh__pqw_col;

/* One filling thread's staging of a leaf's values and levels (wshred.c). */
typedef struct lh__pqw_stage {
    uint8_t *vals;
    size_t vals_cap;
    uint8_t *def, *rep;
    size_t nent, nvals, ent_cap;
} lh__pqw_stage;

typedef struct lh__pqw_crew lh__pqw_crew;

struct lh_pq_writer {
    lh_pq_writer_opts o;
    lh_pq_sink sink;
    lh_arena arena; /* schema, options, footer metadata */
    lh_arena tmp;   /* reset after each chunk */
    lh__pqw_node root;
    lh__pqw_col *cols; /* one per leaf */
    uint32_t nleaves;
    lh__pqw_node **leaf_nodes;
    const lh__pqw_node ***chains; /* each leaf's nodes, top-level first */
    uint32_t *nchain;
    lh_pq_schema_element *schema;
    uint32_t nschema;
    uint32_t dict_values; /* o.dict_values, or its default */
    uint64_t pos;         /* bytes handed to the sink */
    uint64_t rows;        /* rows written (all row groups) */
    uint64_t rg_rows;     /* rows in the current row group */
    lh_pq_row_group *rgs;
    uint32_t nrgs, rgs_cap;
    lh_buf ci, oi; /* encoded page indexes of all row groups */
    lh_buf blooms; /* the current row group's Bloom filters */
    lh_rc failed;  /* sticky: after a failure only close/abort */
    lh_err fail_err;
    bool sink_done;
    uint32_t nthreads; /* filling and sealing leaves */
    /* With threads: the helpers, and the columns of the row group sealing
     * in the background (w->cols are the ones being filled). */
    lh__pqw_crew *crew;
    lh__pqw_col *cols_bg;
    uint64_t bg_rows;
    void **zctx;    /* a ZSTD_CCtx per thread, made when needed */
    lh_rc *seal_rc; /* each leaf's sealing outcome */
    lh_err *seal_err;
    lh__pqw_stage *stages; /* one per thread (0: the caller's) */
};

/* ---- wcol.c ------------------------------------------------------------ */

/* Sets up c for leaf node n (the writer's options apply). LH_ENOMEM. */
lh_rc lh__pqw_col_init(lh__pqw_col *c, lh_pq_writer *w, const lh__pqw_node *n,
                       char **path, uint32_t npath, lh_err *err);
void lh__pqw_col_release(lh__pqw_col *c);
/* Sets up dst as a second, empty column like src (which lh__pqw_col_init
 * set up). LH_ENOMEM. */
lh_rc lh__pqw_col_clone(lh__pqw_col *dst, const lh__pqw_col *src, lh_err *err);

/* Adds whole rows of one leaf: nent level entries, nvals values (those
 * whose def is max_def, in order). def NULL = every entry is a value;
 * rep NULL = every entry starts a row. vals are staged physical values
 * (c->vw bytes each; lh_str for BYTE_ARRAY), borrowed for the call.
 * LH_ENOMEM, LH_ELIMIT, codec errors. */
lh_rc lh__pqw_col_add(lh__pqw_col *c, const void *vals, uint32_t nvals,
                      const uint8_t *def, const uint8_t *rep, uint32_t nent,
                      lh_err *err);

/* Ends the chunk's pages: closes the last, decides on the dictionary and
 * compresses every page (header + body) into c->head. Touches nothing
 * but c (and zctx, a ZSTD_CCtx the caller gives each thread, used when
 * the codec is ZSTD), so the leaves of a row group are sealed on several
 * threads at once. */
lh_rc lh__pqw_col_seal(lh__pqw_col *c, void *zctx, lh_err *err);

/* After lh__pqw_col_seal: writes the chunk to the sink (through
 * lh__pqw_sink_write), fills *cc (strings and bytes in w->arena), appends
 * its page index to w->ci / w->oi (offsets in *cc relative to those
 * buffers) and its Bloom filter to w->blooms (offset relative to it).
 * Leaves c empty for the next chunk. One thread, leaves in order. */
lh_rc lh__pqw_col_finish(lh__pqw_col *c, lh_pq_writer *w,
                         lh_pq_column_chunk *cc, lh_err *err);

/* ---- wshred.c --------------------------------------------------------- */

static inline bool
lh__pqw_bit(const uint64_t *bits, uint32_t i)
{
    return (bits[i >> 6] >> (i & 63)) & 1;
}

/* The FLAT vector and row holding row `row` of v, and whether it is
 * valid. As lh_vec_valid says, a DICT row's validity is the DICT vector's
 * own (its dictionary's bitmap is not consulted). */
static inline bool
lh__pqw_row_at(const lh_vector *v, uint32_t row, const lh_vector **f,
               uint32_t *rr)
{
    if (v->kind == LH_VEC_CONSTANT) {
        *f = v;
        *rr = 0;
        return !v->validity || lh__pqw_bit(v->validity, 0);
    }
    bool ok = !v->validity || lh__pqw_bit(v->validity, row);
    if (v->kind == LH_VEC_DICT) {
        *f = v->dict;
        *rr = ((const uint32_t *)v->data)[row];
        return ok;
    }
    *f = v;
    *rr = row;
    return ok;
}

/* Adds rows [start, start + n) of batch b (through its selection) to leaf
 * `leaf` of w->cols, staging in st. Touches nothing but that leaf and st,
 * so different leaves fill on different threads at once. LH_ENOMEM and
 * lh__pqw_col_add's codes. */
lh_rc lh__pqw_fill_leaf(const lh_pq_writer *w, lh__pqw_stage *st, uint32_t leaf,
                        const lh_batch *b, uint32_t start, uint32_t n,
                        lh_err *err);
void lh__pqw_stage_release(lh__pqw_stage *st);

/* ---- wcrew.c ----------------------------------------------------------- */

/* The writer's helper threads (w->nthreads - 1 of them), kept for the
 * writer's life. Two kinds of work, both a leaf at a time: filling the
 * leaves of w->cols from the batch the caller is writing (the caller
 * fills too, and waits for the batch, which it borrows, to be done), and
 * sealing a full row group's leaves in the background. A helper takes
 * fill work first, since the caller waits for it; sealing fills the time
 * between batches. */

/* Starts the helpers. LH_ENOMEM; when no thread can be made the writer
 * just runs on the caller's thread (w->crew stays NULL). */
lh_rc lh__pqw_crew_start(lh_pq_writer *w, lh_err *err);
/* Abandons background sealing not yet begun, waits for what runs, and
 * stops the helpers. NULL is a no-op. */
void lh__pqw_crew_stop(lh__pqw_crew *crew);
/* Fills every leaf with rows [start, start + n) of b, on the caller's
 * thread and the helpers; returns when all are done (the first failure's
 * code). Without a crew, on the caller's thread alone. */
lh_rc lh__pqw_fill(lh_pq_writer *w, const lh_batch *b, uint32_t start,
                   uint32_t n, lh_err *err);
/* Starts sealing cols (every leaf) in the background; with no crew,
 * seals them here. The outcome is in w->seal_rc / seal_err after
 * lh__pqw_seal_wait. */
void lh__pqw_seal_begin(lh_pq_writer *w, lh__pqw_col *cols);
/* Seals what lh__pqw_seal_begin left, helping on the caller's thread,
 * and returns once every leaf is sealed: the first leaf's failure, in
 * leaf order. */
lh_rc lh__pqw_seal_wait(lh_pq_writer *w, lh_err *err);

/* ---- writer.c ---------------------------------------------------------- */

/* LH_ENOMEM with the writer's message. */
lh_rc lh__pqw_nomem(lh_err *err);
/* Grows the array *pp (of *cap elements of `elem` bytes) to hold `need`;
 * pp is the address of any object pointer. false when out of memory (the
 * array stays as it was). */
bool lh__pqw_grow_to(void *pp, uint32_t *cap, size_t need, size_t elem);
lh_rc lh__pqw_sink_write(lh_pq_writer *w, const void *p, size_t n, lh_err *err);

#endif
