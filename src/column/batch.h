/*
 * The column batch (../shared/design/column-batch.md): the one in-memory
 * format that Parquet pages decode into, the hot tier scans into, every
 * operator of exec/ works on and every result writer prints from.
 *
 * Physical layout of a FLAT vector's data, by logical type:
 *   BOOLEAN          uint8_t   (0 or 1; one byte a row: kernels index it)
 *   SMALLINT         int16_t
 *   INTEGER, DATE    int32_t   (DATE: days since 1970-01-01)
 *   BIGINT, TIME, TIMESTAMP, TIMESTAMPTZ   int64_t (µs)
 *   REAL             float
 *   DOUBLE           double
 *   DECIMAL          int64_t when precision <= 18, else lh_i128
 *   VARCHAR, BLOB, JSON    lh_str (16-byte views)
 *   INTERVAL         lh_interval
 *   UUID             lh_uuid
 *   VECTOR (FLOAT[n]) float, n a row, row-major
 *   LIST, MAP        uint32_t offsets, count + 1 of them; the elements are
 *                    children[0] (for MAP a STRUCT of key and value)
 *   STRUCT           no data; children[i] is field i (child_names[i])
 * Nulls may hold any value; only the validity bitmap says NULL (bit set =
 * valid; validity == NULL means every row is valid). A NULL list row has
 * offsets[i] == offsets[i + 1].
 *
 * Memory: vectors never own their buffers. A producer allocates them (and
 * whatever views point to) in its own arena and says in its header how long
 * they live; usually until its next next() call.
 */
#ifndef LH_COLUMN_BATCH_H
#define LH_COLUMN_BATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "column/column.h"

#define LH_BATCH_ROWS 2048

/* A string or blob view. len <= 12: the bytes are inline (prefix, then
 * u.inlined), zero-padded; longer: prefix holds the first four bytes and
 * u.ptr all of them. */
typedef struct lh_str {
    uint32_t len;
    char prefix[4];
    union {
        char inlined[8];
        const char *ptr;
    } u;
} lh_str;

#define LH_STR_INLINE 12

/* A view of p[0..len) (borrowed: p must outlive the view when len > 12). */
static inline lh_str
lh_str_make(const char *p, uint32_t len)
{
    lh_str s;
    memset(&s, 0, sizeof s);
    s.len = len;
    if (len <= LH_STR_INLINE) {
        if (len)
            memcpy(s.prefix, p, len); /* spills into u.inlined */
    } else {
        memcpy(s.prefix, p, 4);
        s.u.ptr = p;
    }
    return s;
}
static inline const char *
lh_str_data(const lh_str *s)
{
    return s->len <= LH_STR_INLINE ? s->prefix : s->u.ptr;
}
static inline bool
lh_str_eq(const lh_str *a, const lh_str *b)
{
    if (memcmp(a, b, 8) != 0) /* len and prefix at once */
        return false;
    if (a->len <= LH_STR_INLINE)
        return memcmp(a->u.inlined, b->u.inlined, 8) == 0;
    return memcmp(a->u.ptr + 4, b->u.ptr + 4, a->len - 4) == 0;
}
/* Byte-wise order (memcmp, shorter first on a tie): <0, 0, >0. */
int lh_str_cmp(const lh_str *a, const lh_str *b);

typedef enum lh_vec_kind {
    LH_VEC_FLAT = 0,
    LH_VEC_CONSTANT = 1, /* data holds one value for every row */
    LH_VEC_DICT = 2,     /* data holds uint32 codes into dict (a FLAT vector) */
} lh_vec_kind;

typedef struct lh_vector {
    lh_type type;
    uint8_t kind;       /* lh_vec_kind */
    uint64_t *validity; /* 1 bit a row, 1 = valid; NULL = all valid */
    void *data;
    struct lh_vector *dict;         /* DICT */
    struct lh_vector **children;    /* LIST/MAP: 1; STRUCT: one per field */
    const char *const *child_names; /* STRUCT field names */
    uint32_t nchildren;
    uint32_t dict_size; /* DICT: rows of dict (0 = unknown) */
} lh_vector;

typedef struct lh_batch {
    uint32_t count; /* rows, at most LH_BATCH_ROWS */
    uint32_t *sel;  /* NULL, or the live row indices, ascending */
    uint32_t nsel;
    uint32_t ncols;
    lh_vector *cols;
} lh_batch;

static inline bool
lh_vec_valid(const lh_vector *v, uint32_t row)
{
    if (v->kind == LH_VEC_CONSTANT)
        row = 0;
    return !v->validity || (v->validity[row >> 6] >> (row & 63)) & 1;
}
static inline void
lh_bit_set(uint64_t *bits, uint32_t i, bool on)
{
    if (on)
        bits[i >> 6] |= (uint64_t)1 << (i & 63);
    else
        bits[i >> 6] &= ~((uint64_t)1 << (i & 63));
}

/* Bytes a FLAT vector of this type holds a row (0 for STRUCT; 4 for
 * LIST/MAP offsets, which need count + 1 entries). */
size_t lh_type_width(lh_type t);
bool lh_type_is_nested(lh_type t);

/* Allocates a FLAT vector's data for `rows` rows (LIST/MAP: rows + 1
 * offsets) and, when `nullable`, a validity bitmap with every row valid;
 * in `a`. Children are the caller's. LH_ENOMEM. */
lh_rc lh_vector_alloc(lh_vector *v, lh_type t, uint32_t rows, bool nullable,
                      lh_arena *a, lh_err *err);

/* Row `row` of v as a value (through a CONSTANT or DICT vector). Nested
 * values (LIST, MAP, STRUCT) become their JSON text (output-formats.md:
 * lists as arrays, structs as objects, maps as objects when every key is a
 * string, else arrays of {"key","value"}), typed JSON, built in `a`.
 * Views are borrowed from the vector. LH_ENOMEM. */
lh_rc lh_vector_value(const lh_vector *v, uint32_t row, lh_arena *a,
                      lh_value *out, lh_err *err);

/* Appends row `row` of v as JSON (output-formats.md) to out. */
lh_rc lh_vector_to_json(const lh_vector *v, uint32_t row, lh_buf *out);

#endif
