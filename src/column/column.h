/*
 * column: logical types, single values, and the text forms every command
 * prints (../shared/design/output-formats.md): scalar text (PostgreSQL's
 * forms), JSON values, and result writers for CSV, JSON, NDJSON and the
 * aligned table. The column batch (design/column-batch.md) arrives with the
 * Parquet reader and lives here too.
 *
 * Thread rules: all functions are reentrant; an lh_output is used by one
 * thread at a time.
 */
#ifndef LH_COLUMN_H
#define LH_COLUMN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "util/util.h"

typedef enum lh_type_id {
    LH_T_NULL = 0, /* the type of an untyped NULL literal */
    LH_T_BOOLEAN,
    LH_T_SMALLINT,
    LH_T_INTEGER,
    LH_T_BIGINT,
    LH_T_REAL,
    LH_T_DOUBLE,
    LH_T_DECIMAL, /* precision 1..38, scale 0..precision */
    LH_T_VARCHAR, /* length = max chars (0 = unlimited) */
    LH_T_BLOB,
    LH_T_DATE,        /* int32 days since 1970-01-01 */
    LH_T_TIME,        /* int64 µs since midnight */
    LH_T_TIMESTAMP,   /* int64 µs since epoch, no zone (read as UTC) */
    LH_T_TIMESTAMPTZ, /* int64 µs since epoch, UTC */
    LH_T_INTERVAL,
    LH_T_UUID,
    LH_T_JSON,
    LH_T_VECTOR, /* FLOAT[n]: dim = n float32 values */
    /* Nested types exist only in column vectors (batch.h), whose children
     * carry the element and field types; as single values they travel as
     * their JSON text (LH_T_JSON). */
    LH_T_LIST,
    LH_T_STRUCT,
    LH_T_MAP,
    LH_T_COUNT_
} lh_type_id;

typedef struct lh_type {
    uint8_t id;        /* lh_type_id */
    uint8_t precision; /* DECIMAL */
    uint8_t scale;     /* DECIMAL */
    uint32_t length;   /* VARCHAR(n): n; 0 = unlimited */
    uint32_t dim;      /* VECTOR */
} lh_type;

#define LH_DECIMAL_MAX_PRECISION 38

/* Parses a SQL type name as the table JSON and CREATE TABLE write it:
 * "BOOLEAN"/"BOOL", "SMALLINT"/"INT2", "INT"/"INTEGER"/"INT4",
 * "BIGINT"/"INT8", "REAL"/"FLOAT4", "DOUBLE"/"DOUBLE PRECISION"/"FLOAT8"/
 * "FLOAT", "DECIMAL(p,s)"/"NUMERIC(p,s)"/"DECIMAL(p)" (scale 0; DECIMAL
 * alone is DECIMAL(18,3), as in DuckDB), "VARCHAR"/"TEXT"/"STRING"/
 * "VARCHAR(n)"/"CHARACTER VARYING(n)", "BLOB"/"BYTEA", "DATE", "TIME",
 * "TIMESTAMP", "TIMESTAMPTZ"/"TIMESTAMP WITH TIME ZONE", "INTERVAL",
 * "UUID", "JSON"/"JSONB", "FLOAT[n]"/"VECTOR(n)"; also PostgreSQL's
 * FLOAT(p) (REAL for p <= 24). Case-insensitive, spaces tolerated.
 * Ranges: DECIMAL 1 <= p <= 38, 0 <= s <= p; VARCHAR 1 <= n <= 10485760;
 * vectors 1 <= n <= 65536. LH_EINVAL quoting the text: `unknown type
 * "FOO"`, `DECIMAL precision 40 is out of range 1..38`. *out is zeroed
 * first, so unused fields compare equal. */
lh_rc lh_type_parse(const char *s, lh_type *out, lh_err *err);
/* The canonical name: "DECIMAL(10,2)", "VARCHAR(30)", "FLOAT[3]"...
 * buf needs 40 bytes. Returns buf. */
const char *lh_type_name(lh_type t, char *buf);
bool lh_type_equal(lh_type a, lh_type b);

/* 128-bit signed integer for DECIMAL up to 38 digits (unscaled value). */
typedef __int128 lh_i128;

typedef struct lh_interval {
    int32_t months;
    int32_t days;
    int64_t micros;
} lh_interval;

/* One value. Strings, blobs, JSON and vectors are borrowed views: the value
 * owns nothing, the bytes live wherever its producer says (an arena, a
 * SQLite row, a JSON document). */
typedef struct lh_value {
    lh_type type;
    bool is_null;
    union {
        bool b;
        int64_t i; /* SMALLINT, INTEGER, BIGINT, DATE, TIME, TIMESTAMP[TZ] */
        double d;  /* REAL (held widened), DOUBLE */
        lh_i128 dec;
        struct {
            const char *p;
            size_t len;
        } s; /* VARCHAR, BLOB, JSON (its text) */
        lh_uuid uuid;
        lh_interval iv;
        struct {
            const float *v;
            uint32_t n;
        } vec;
    } u;
} lh_value;

/* ---- text forms (output-formats.md, "Scalars") --------------------------- */

/* Appends the value's text form (NULL appends nothing: callers decide how
 * NULL looks). LH_ENOMEM (out stays sticky-failed), or LH_EINTERNAL for a
 * type id outside lh_type_id (a bug). */
lh_rc lh_value_to_text(const lh_value *v, lh_buf *out);
/* Appends the value as JSON (output-formats.md, "JSON"): null, true, 12,
 * 12.50 (DECIMAL exact), 1e+300, "NaN", "2026-01-01 00:00:00", "\\x00ff",
 * embedded JSON text (an empty JSON text prints as null), vectors as
 * arrays. Codes as lh_value_to_text. */
lh_rc lh_value_to_json(const lh_value *v, lh_buf *out);

/* Double / float in the shortest form that reads back to the same value,
 * laid out as PostgreSQL 12+ does: fixed notation for decimal exponents
 * -4..14 (REAL: -4..5), else "1e+300", "1.5e-07"; "0.1", "-0", "NaN",
 * "Infinity", "-Infinity". Integral values have no ".0". buf needs 32
 * bytes; returns the length (buf is NUL-terminated). */
size_t lh_double_format(double d, char *buf);
size_t lh_float_format(float f, char *buf);
/* DECIMAL text with exactly `scale` fraction digits: "-0.50", "123.4500".
 * buf needs 48 bytes; returns the length (buf is NUL-terminated). */
size_t lh_decimal_format(lh_i128 v, int scale, char *buf);
/* Parses "-12.345" / "1e3" / " .5 " into an unscaled value of the given
 * scale (1 <= precision <= 38, 0 <= scale <= precision); surrounding
 * whitespace is allowed, trailing fraction zeros are not digits
 * ("1.500" fits scale 1). LH_EINVAL for malformed text, LH_ELIMIT when it
 * does not fit in `precision` digits or needs more fraction digits than
 * `scale` (no silent rounding); the message quotes the text and names
 * DECIMAL(p,s). */
lh_rc lh_decimal_parse(const char *s, size_t len, int precision, int scale,
                       lh_i128 *out, lh_err *err);

/* ---- input --------------------------------------------------------------- */

/* Converts a JSON value (from jansson) to a value of type t, checking it:
 * integers in range, DECIMAL as a number or a string (big values must be
 * strings: the error says so), VARCHAR length, BLOB as "\x..." hex or
 * else standard base64, timestamps in any accepted text form, UUID text,
 * JSON any value (re-serialized compactly), FLOAT[n] an array of n finite
 * numbers. JSON null (or j == NULL, a missing key) gives a NULL value.
 * Variable-size results (strings, blobs, vectors, JSON text) are allocated
 * in `a` (strings and JSON text NUL-terminated) and live as long as it
 * does.
 * Details: integers also from integral reals (1e3); BIGINT also from a
 * string of digits (JavaScript loses integers past 2^53); REAL/DOUBLE from
 * numbers and the strings "NaN", "Infinity", "-Infinity"; DECIMAL from a
 * real through its shortest text (0.1 is exactly 0.1); VARCHAR must be a
 * string without NUL, its length counted in characters; DATE, TIME,
 * TIMESTAMP[TZ], INTERVAL and UUID from strings in their text forms (an
 * offset converts to UTC); JSON text is re-serialized compactly with reals
 * in their shortest form.
 * LH_EINVAL (for every bad value, DECIMAL overflow included) with a message
 * saying what was expected and what was found, e.g. `expected BIGINT,
 * found string "abc"`, `value 70000 is out of range for SMALLINT`; the
 * caller prefixes the field name. LH_ENOMEM when `a` is out of memory. */
lh_rc lh_value_from_json(lh_type t, const json_t *j, lh_arena *a, lh_value *out,
                         lh_err *err);
/* The same from text (PostgreSQL's input forms; also ISO-8601 with T/Z or
 * an offset for timestamps; BOOLEAN t/f/true/false/yes/no/on/off/1/0 and
 * their prefixes; BLOB "\x" hex or the escape format; INTERVAL also
 * "3 hours", "1.5 days", "P1DT2H"; FLOAT[n] "[1,2,3]"). Text is never NULL:
 * the caller decides which text means NULL. JSON text is validated and kept
 * as given. Codes as lh_value_from_json. */
lh_rc lh_value_from_text(lh_type t, const char *s, size_t len, lh_arena *a,
                         lh_value *out, lh_err *err);

/* ---- result writers ------------------------------------------------------ */

typedef enum lh_format {
    LH_FMT_CSV = 0,
    LH_FMT_JSON = 1,   /* one array of objects */
    LH_FMT_NDJSON = 2, /* one object a line */
    LH_FMT_TABLE = 3,  /* aligned, psql-like, with the row count */
} lh_format;

/* "csv", "json", "ndjson", "table" -> format; LH_EINVAL otherwise. */
lh_rc lh_format_parse(const char *s, lh_format *out, lh_err *err);

typedef struct lh_output lh_output;

/* Writes rows of ncols columns to `sink` (not owned; flushed by
 * lh_output_finish). names and types are copied; nothing is written until
 * the first row or lh_output_finish. The table format buffers rows to align
 * them (up to max_width characters a cell, see lh_output_set_max_width;
 * longer cut with "…"); the others stream. A value's own type decides its
 * text; the column types decide the table's alignment. LH_EINVAL for an
 * unknown format, LH_ENOMEM. */
lh_rc lh_output_new(lh_format fmt, FILE *sink, const char *const *names,
                    const lh_type *types, size_t ncols, lh_output **out,
                    lh_err *err);
/* Table format only: the most characters a cell shows (0 = the default,
 * 40; at least 2). Call before the first row. */
void lh_output_set_max_width(lh_output *o, size_t max_width);
/* One row of ncols values (borrowed for the call). LH_EIO when the sink
 * fails (err has errno), LH_ENOMEM; after a failure every later call
 * fails with the same code. */
lh_rc lh_output_row(lh_output *o, const lh_value *vals, lh_err *err);
/* Writes what remains (the CSV header of an empty result, closing "]" or
 * "[]", the table and "(N rows)") and flushes the sink. Codes as
 * lh_output_row. */
lh_rc lh_output_finish(lh_output *o, lh_err *err);
void lh_output_free(lh_output *o);

/* CSV field quoting as RFC 4180 and output-formats.md say (quoted when it
 * holds , " CR LF or leading/trailing spaces, or is empty). */
lh_rc lh_csv_field(lh_buf *out, const char *s, size_t n);

#endif
