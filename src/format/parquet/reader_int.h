/*
 * Internals shared by the reader's files: file.c (open, footer, schema
 * mapping), page.c (one page to levels and converted values), scan.c
 * (row groups to batches, nested assembly, pruning).
 */
#ifndef LH_FORMAT_PARQUET_READER_INT_H
#define LH_FORMAT_PARQUET_READER_INT_H

#include "format/parquet/parquet.h"

/* Pages bigger than this are refused: a 4 KB file may claim gigabytes. */
#define LH_PQ_MAX_PAGE ((size_t)512 << 20)

/* How physical values become the node's lakehouse type. */
enum {
    LH_PQ_CV_NONE = 0, /* same bytes: BOOLEAN, INT32, INT64, FLOAT, DOUBLE */
    LH_PQ_CV_I32_I16,  /* INT(8|16, signed), UINT_8 */
    LH_PQ_CV_U32_I32,  /* UINT_16 (unsigned int32 into INTEGER) */
    LH_PQ_CV_U32_I64,  /* UINT_32 */
    LH_PQ_CV_U64_DEC,  /* UINT_64 into DECIMAL(20,0) */
    LH_PQ_CV_I32_I64,  /* DECIMAL in INT32 (held as int64) */
    LH_PQ_CV_BE_DEC,   /* DECIMAL in (FIXED_LEN_)BYTE_ARRAY, big endian */
    LH_PQ_CV_DEC_DBL,  /* DECIMAL wider than 38 digits, into DOUBLE */
    LH_PQ_CV_MS32_US,  /* TIME(MILLIS) in INT32 */
    LH_PQ_CV_MS_US,    /* TIMESTAMP(MILLIS) */
    LH_PQ_CV_NS_US,    /* TIMESTAMP/TIME(NANOS), floor to µs */
    LH_PQ_CV_INT96,    /* legacy INT96 timestamps */
    LH_PQ_CV_F16,      /* FLOAT16 into REAL */
    LH_PQ_CV_STR,      /* BYTE_ARRAY / FLBA as views */
    LH_PQ_CV_UUID,     /* FLBA(16) */
    LH_PQ_CV_INTERVAL, /* FLBA(12) months, days, millis */
};

struct lh_pq_file {
    char *name;
    const uint8_t *base;
    size_t size;
    void *map; /* mmap'ed region, or NULL for lh_pq_open_mem */
    size_t map_len;
    lh_arena arena; /* footer, schema tree */
    lh_pq_file_metadata meta;
    lh_pq_node root;
    lh_pq_node **leaves;
    uint32_t nleaves;
    uint32_t nnodes;
};

/* "PLAIN", "RLE_DICTIONARY"...: an Encoding's name ("unknown" past the
 * list). */
const char *lh__pq_enc_name(int e);

/* Width of a physical value as page.c holds it before conversion:
 * BOOLEAN 1, INT32/FLOAT 4, INT64/DOUBLE 8, INT96 12, byte arrays lh_str. */
size_t lh__pq_phys_width(int physical);
/* Converts n physical values into the node's type (out may alias phys when
 * the widths agree and the conversion goes front to back). LH_ECORRUPT for
 * a value that cannot be what its annotation says (a 20-byte DECIMAL). */
lh_rc lh__pq_convert(const lh_pq_node *leaf, const void *phys, uint32_t n,
                     void *out, lh_err *err);

/* One decoded data page: levels and the non-null values, converted.
 * Pages are recycled by the scan that reads them (lh__pq_page_recycle):
 * their memory block grows to what the largest page needed and is then
 * reused, so a scan does not fault in fresh memory for every page. */
typedef struct lh_pq_page {
    struct lh_pq_page *next; /* retire list / free list */
    uint8_t *mem;            /* the reusable block */
    size_t cap, off, want;   /* its size, bump offset, bytes asked */
    lh_arena arena;          /* what did not fit (and decoder scratch) */
    uint32_t *def, *rep;     /* nent entries, NULL when the max level is 0 */
    void *vals;              /* nvals values of the leaf's type, or NULL
                                when keep_codes left them as codes */
    uint32_t *codes;         /* dictionary-encoded pages: nvals codes
                                (checked against the dictionary) */
    bool keep_codes;         /* do not gather dictionary values */
    uint32_t nent, nvals;
    uint32_t ent_pos, val_pos; /* consumed so far */
} lh_pq_page;

/* The dictionary of a column chunk, converted. */
typedef struct lh_pq_dict {
    lh_pq_page *page; /* owns the memory */
    void *vals;
    uint32_t n;
} lh_pq_dict;

/* Reads the page whose header starts at *pos (within [*pos, end) of the
 * file), decodes it and advances *pos past it. With keep_codes, a
 * dictionary-encoded data page keeps its codes instead of gathering the
 * values (late materialization). A dictionary page fills
 * *dict (and *page stays NULL); a data page fills *page (taken from *pool
 * when it has one, else allocated; the caller recycles or frees it);
 * index and unknown pages are
 * skipped (both NULL). `where` names the column and row group in
 * messages. */
lh_rc lh__pq_read_page(const lh_pq_file *f, const lh_pq_node *leaf,
                       const lh_pq_column_metadata *cm, uint64_t *pos,
                       uint64_t end, bool check_crc, bool keep_codes,
                       lh_pq_dict *dict, lh_pq_page **page, lh_pq_page **pool,
                       const char *where, lh_err *err);
void lh__pq_page_free(lh_pq_page *p);
/* Empties p for reuse and pushes it on *pool (NULL p: nothing). */
void lh__pq_page_recycle(lh_pq_page *p, lh_pq_page **pool);
/* Gathers n dictionary values by code into out (w bytes each); the codes
 * were checked when the page was read. */
void lh__pq_gather(const lh_pq_dict *d, const uint32_t *codes, uint32_t n,
                   size_t w, void *out);
/* Hands a scan's recycled pages to the process-wide pool (freeing what
 * does not fit its cap); *pool is empty afterwards. */
void lh__pq_pool_give(lh_pq_page **pool);

/* Decodes a statistics value (PLAIN bytes of one physical value) into a
 * value of the leaf's type. false when it cannot (odd length, a type we
 * do not prune on). Strings and blobs borrow the bytes of b. */
bool lh__pq_stat_value(const lh_pq_node *leaf, lh_pq_bytes b, lh_value *out);

#endif
