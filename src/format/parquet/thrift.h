/*
 * thrift: the Thrift compact protocol, as far as Parquet needs it. A reader
 * over a borrowed byte range and a writer appending to an lh_buf; the
 * Parquet structs on top of them are in meta.h.
 *
 * The encoding (Apache Thrift, doc/specs/thrift-compact-protocol.md):
 *
 *   varint      7 bits a byte, least significant group first, high bit set
 *               on every byte but the last (at most 10 bytes for 64 bits)
 *   zigzag      i16/i32/i64 are zigzag-folded ((n << 1) ^ (n >> 63)) and
 *               then sent as a varint, so small negatives stay short
 *   i8          one raw byte
 *   double      8 bytes, little-endian IEEE 754
 *   binary      varint length, then the bytes (strings are binary in UTF-8)
 *   struct      fields, then a 0 byte (STOP). A field header is one byte
 *               dddd tttt: t the type, d the field id minus the previous
 *               field's id in this struct (1..15); d = 0 means a zigzag
 *               varint i16 with the absolute id follows. A bool field has
 *               no value: its type nibble is 1 (true) or 2 (false)
 *   list, set   one byte ssss tttt: t the element type, s the size (0..14);
 *               s = 15 means a varint size follows. Then the elements, a
 *               bool element being one byte (1 true; 2, or 0 from some old
 *               writers, false)
 *   map         varint size; when not 0, a byte kkkk vvvv with the key and
 *               value types; then key, value, key, value...
 *
 * Types: 0 STOP, 1 and 2 bool (true/false), 3 i8, 4 i16, 5 i32, 6 i64,
 * 7 double, 8 binary, 9 list, 10 set, 11 map, 12 struct, 13 uuid (16
 * bytes; newer Thrift, never in Parquet, but skippable).
 *
 * The reader trusts nothing: every length and count is checked against the
 * bytes left (each list element takes at least one byte, so a count larger
 * than the bytes left is corrupt before anything is allocated), structs,
 * lists and maps nest at most LH_TC_MAX_DEPTH deep, and varints are at most
 * their width. Errors are LH_ECORRUPT, with err->offset the byte offset into
 * the range where the problem was found.
 *
 * Thread rules: a reader or writer is used by one thread at a time.
 */
#ifndef LH_FORMAT_PARQUET_THRIFT_H
#define LH_FORMAT_PARQUET_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* Nesting of structs, lists and maps. Parquet's deepest path (FileMetaData,
 * row_groups, RowGroup, columns, ColumnChunk, ColumnMetaData, Statistics)
 * is 7; the limit only keeps hostile input from exhausting the stack. */
#define LH_TC_MAX_DEPTH 64

/* Compact-protocol type codes. On the wire a bool field says its value with
 * 1 (true) or 2 (false); the reader reports both as LH_TC_BOOL. */
typedef enum lh_tc_type {
    LH_TC_STOP = 0,
    LH_TC_BOOL = 1,
    LH_TC_BOOL_FALSE = 2, /* wire only */
    LH_TC_I8 = 3,
    LH_TC_I16 = 4,
    LH_TC_I32 = 5,
    LH_TC_I64 = 6,
    LH_TC_DOUBLE = 7,
    LH_TC_BINARY = 8,
    LH_TC_LIST = 9,
    LH_TC_SET = 10,
    LH_TC_MAP = 11,
    LH_TC_STRUCT = 12,
    LH_TC_UUID = 13,
} lh_tc_type;

/* The name of a type code ("i32", "struct"), for messages. */
const char *lh_tc_type_name(int type);

/* ---- reader -------------------------------------------------------------- */

typedef struct lh_tc_reader {
    const uint8_t *start; /* of the range, for offsets in errors */
    const uint8_t *p;     /* next byte */
    const uint8_t *end;
    int depth;       /* structs, lists and maps open */
    int16_t last_id; /* id of the previous field of the open struct */
    lh_err *err;     /* may be NULL */
} lh_tc_reader;

/* A field header: id and type; for LH_TC_BOOL, its value too. */
typedef struct lh_tc_field {
    int16_t id;
    uint8_t type; /* lh_tc_type; LH_TC_STOP at the end of a struct */
    bool bool_value;
} lh_tc_field;

/* The range is borrowed: it must outlive the reader and what was read from
 * it with lh_tc_read_binary. Errors go to err (may be NULL). */
void lh_tc_reader_init(lh_tc_reader *r, const uint8_t *p, size_t len,
                       lh_err *err);
/* Bytes read so far, and left. */
size_t lh_tc_offset(const lh_tc_reader *r);
size_t lh_tc_left(const lh_tc_reader *r);

/* Sets r->err to LH_ECORRUPT with the message and the current offset;
 * returns LH_ECORRUPT. For callers that find the bytes well formed but the
 * content wrong. */
lh_rc lh_tc_corrupt(lh_tc_reader *r, const char *fmt, ...) LH_PRINTF(2, 3);

/* Opens a struct: *saved keeps the enclosing struct's last field id for
 * lh_tc_struct_end. LH_ECORRUPT past LH_TC_MAX_DEPTH. */
lh_rc lh_tc_struct_begin(lh_tc_reader *r, int16_t *saved);
void lh_tc_struct_end(lh_tc_reader *r, int16_t saved);
/* The next field header of the open struct; f->type == LH_TC_STOP at its
 * end (the STOP byte is consumed). LH_ECORRUPT for an unknown type code or
 * a field id out of the i16 range. */
lh_rc lh_tc_field_next(lh_tc_reader *r, lh_tc_field *f);

/* Opens a list or set: its element type (bool elements as LH_TC_BOOL) and
 * size, checked against the bytes left (8 a double, 16 a uuid, 1 anything
 * else). Close with lh_tc_list_end after reading or skipping n elements. */
lh_rc lh_tc_list_begin(lh_tc_reader *r, uint8_t *elem_type, uint32_t *n);
void lh_tc_list_end(lh_tc_reader *r);

/* Values. The integer readers check that the value fits the width. */
lh_rc lh_tc_read_bool(lh_tc_reader *r, bool *v); /* a list element */
lh_rc lh_tc_read_i8(lh_tc_reader *r, int8_t *v);
lh_rc lh_tc_read_i16(lh_tc_reader *r, int16_t *v);
lh_rc lh_tc_read_i32(lh_tc_reader *r, int32_t *v);
lh_rc lh_tc_read_i64(lh_tc_reader *r, int64_t *v);
lh_rc lh_tc_read_double(lh_tc_reader *r, double *v);
/* Binary (and string): *p points into the reader's range. */
lh_rc lh_tc_read_binary(lh_tc_reader *r, const uint8_t **p, uint32_t *len);
lh_rc lh_tc_read_varint(lh_tc_reader *r, uint64_t *v);

/* Skips one value of the given type, as found in a list, set or map (a
 * bool is one byte there), including nested structs, lists and maps. */
lh_rc lh_tc_skip(lh_tc_reader *r, uint8_t type);
/* Skips the value of a field whose header lh_tc_field_next returned (a
 * bool field has no value bytes). */
lh_rc lh_tc_skip_field(lh_tc_reader *r, const lh_tc_field *f);

/* ---- writer -------------------------------------------------------------- */

/* Appends to out. Running out of memory is sticky in the lh_buf (see
 * util.h), so a whole struct is written and then checked once with
 * lh_buf_ok(out). */
typedef struct lh_tc_writer {
    lh_buf *out;
    int16_t last_id;
} lh_tc_writer;

void lh_tc_writer_init(lh_tc_writer *w, lh_buf *out);
void lh_tc_write_struct_begin(lh_tc_writer *w, int16_t *saved);
/* Writes STOP and goes back to the enclosing struct's field ids. */
void lh_tc_write_struct_end(lh_tc_writer *w, int16_t saved);
/* A field header; type is not LH_TC_BOOL (use lh_tc_write_bool_field). The
 * short form when id is 1..15 above the previous id, else the long form. */
void lh_tc_write_field(lh_tc_writer *w, int16_t id, uint8_t type);
void lh_tc_write_bool_field(lh_tc_writer *w, int16_t id, bool v);
void lh_tc_write_list_begin(lh_tc_writer *w, uint8_t elem_type, uint32_t n);
void lh_tc_write_bool(lh_tc_writer *w, bool v); /* a list element: 1 or 2 */
void lh_tc_write_i8(lh_tc_writer *w, int8_t v);
void lh_tc_write_i16(lh_tc_writer *w, int16_t v);
void lh_tc_write_i32(lh_tc_writer *w, int32_t v);
void lh_tc_write_i64(lh_tc_writer *w, int64_t v);
void lh_tc_write_double(lh_tc_writer *w, double v);
void lh_tc_write_binary(lh_tc_writer *w, const void *p, size_t len);
void lh_tc_write_varint(lh_tc_writer *w, uint64_t v);

#endif
