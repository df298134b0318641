/* The Thrift compact protocol: reader and writer (the format is described
 * in thrift.h). */
#include <stdio.h>
#include <string.h>

#include "format/parquet/thrift.h"

const char *
lh_tc_type_name(int type)
{
    switch (type) {
    case LH_TC_STOP:
        return "stop";
    case LH_TC_BOOL:
    case LH_TC_BOOL_FALSE:
        return "bool";
    case LH_TC_I8:
        return "i8";
    case LH_TC_I16:
        return "i16";
    case LH_TC_I32:
        return "i32";
    case LH_TC_I64:
        return "i64";
    case LH_TC_DOUBLE:
        return "double";
    case LH_TC_BINARY:
        return "binary";
    case LH_TC_LIST:
        return "list";
    case LH_TC_SET:
        return "set";
    case LH_TC_MAP:
        return "map";
    case LH_TC_STRUCT:
        return "struct";
    case LH_TC_UUID:
        return "uuid";
    }
    return "unknown type";
}

/* ---- reader -------------------------------------------------------------- */

void
lh_tc_reader_init(lh_tc_reader *r, const uint8_t *p, size_t len, lh_err *err)
{
    r->start = p;
    r->p = p;
    r->end = p + len;
    r->depth = 0;
    r->last_id = 0;
    r->err = err;
}

size_t
lh_tc_offset(const lh_tc_reader *r)
{
    return (size_t)(r->p - r->start);
}

size_t
lh_tc_left(const lh_tc_reader *r)
{
    return (size_t)(r->end - r->p);
}

lh_rc
lh_tc_corrupt(lh_tc_reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lh_err_setv(r->err, LH_ECORRUPT, fmt, ap);
    va_end(ap);
    if (r->err != NULL) {
        r->err->offset = (int64_t)lh_tc_offset(r);
    }
    return LH_ECORRUPT;
}

static lh_rc
truncated(lh_tc_reader *r, const char *what)
{
    return lh_tc_corrupt(r, "%s cut off at the end of the input", what);
}

lh_rc
lh_tc_read_varint(lh_tc_reader *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p == r->end) {
            return truncated(r, "varint");
        }
        uint8_t b = *r->p++;
        /* The tenth byte holds bit 63 only. */
        if (shift == 63 && b > 1) {
            return lh_tc_corrupt(r, "varint longer than 64 bits");
        }
        x |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *v = x;
            return LH_OK;
        }
    }
    return lh_tc_corrupt(r, "varint longer than 64 bits");
}

static int64_t
unzigzag(uint64_t z)
{
    return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

static lh_rc
read_zigzag(lh_tc_reader *r, int64_t lo, int64_t hi, const char *what,
            int64_t *v)
{
    uint64_t z = 0;
    lh_rc rc = lh_tc_read_varint(r, &z);
    if (rc != LH_OK) {
        return rc;
    }
    int64_t x = unzigzag(z);
    if (x < lo || x > hi) {
        return lh_tc_corrupt(r, "%s value %lld out of range", what,
                             (long long)x);
    }
    *v = x;
    return LH_OK;
}

lh_rc
lh_tc_read_i8(lh_tc_reader *r, int8_t *v)
{
    if (r->p == r->end) {
        return truncated(r, "i8");
    }
    *v = (int8_t)*r->p++;
    return LH_OK;
}

lh_rc
lh_tc_read_i16(lh_tc_reader *r, int16_t *v)
{
    int64_t x = 0;
    lh_rc rc = read_zigzag(r, INT16_MIN, INT16_MAX, "i16", &x);
    if (rc == LH_OK) {
        *v = (int16_t)x;
    }
    return rc;
}

lh_rc
lh_tc_read_i32(lh_tc_reader *r, int32_t *v)
{
    int64_t x = 0;
    lh_rc rc = read_zigzag(r, INT32_MIN, INT32_MAX, "i32", &x);
    if (rc == LH_OK) {
        *v = (int32_t)x;
    }
    return rc;
}

lh_rc
lh_tc_read_i64(lh_tc_reader *r, int64_t *v)
{
    return read_zigzag(r, INT64_MIN, INT64_MAX, "i64", v);
}

lh_rc
lh_tc_read_double(lh_tc_reader *r, double *v)
{
    if (lh_tc_left(r) < 8) {
        return truncated(r, "double");
    }
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++) {
        bits |= (uint64_t)r->p[i] << (8 * i);
    }
    r->p += 8;
    memcpy(v, &bits, sizeof(*v));
    return LH_OK;
}

lh_rc
lh_tc_read_bool(lh_tc_reader *r, bool *v)
{
    if (r->p == r->end) {
        return truncated(r, "bool");
    }
    uint8_t b = *r->p;
    if (b > 2) {
        return lh_tc_corrupt(r, "bool element %u is not 0, 1 or 2", b);
    }
    r->p++;
    *v = b == 1;
    return LH_OK;
}

lh_rc
lh_tc_read_binary(lh_tc_reader *r, const uint8_t **p, uint32_t *len)
{
    uint64_t n = 0;
    lh_rc rc = lh_tc_read_varint(r, &n);
    if (rc != LH_OK) {
        return rc;
    }
    if (n > lh_tc_left(r)) {
        return lh_tc_corrupt(r,
                             "binary of %llu bytes exceeds the %zu bytes left",
                             (unsigned long long)n, lh_tc_left(r));
    }
    *p = r->p;
    *len = (uint32_t)n;
    r->p += n;
    return LH_OK;
}

static lh_rc
push(lh_tc_reader *r)
{
    if (r->depth >= LH_TC_MAX_DEPTH) {
        return lh_tc_corrupt(r, "nesting deeper than %d", LH_TC_MAX_DEPTH);
    }
    r->depth++;
    return LH_OK;
}

lh_rc
lh_tc_struct_begin(lh_tc_reader *r, int16_t *saved)
{
    lh_rc rc = push(r);
    if (rc != LH_OK) {
        return rc;
    }
    *saved = r->last_id;
    r->last_id = 0;
    return LH_OK;
}

void
lh_tc_struct_end(lh_tc_reader *r, int16_t saved)
{
    if (ALWAYS(r->depth > 0)) {
        r->depth--;
    }
    r->last_id = saved;
}

lh_rc
lh_tc_field_next(lh_tc_reader *r, lh_tc_field *f)
{
    if (r->p == r->end) {
        return truncated(r, "struct");
    }
    uint8_t b = *r->p++;
    f->bool_value = false;
    if (b == LH_TC_STOP) {
        f->id = 0;
        f->type = LH_TC_STOP;
        return LH_OK;
    }
    uint8_t type = b & 0x0f;
    uint8_t delta = b >> 4;
    if (type > LH_TC_UUID) {
        r->p--;
        return lh_tc_corrupt(r, "unknown field type %u", type);
    }
    if (type == LH_TC_STOP) {
        r->p--;
        return lh_tc_corrupt(r, "field header 0x%02x has type stop", b);
    }
    int32_t id;
    if (delta != 0) {
        id = (int32_t)r->last_id + delta;
        if (id > INT16_MAX) {
            r->p--;
            return lh_tc_corrupt(r, "field id %d out of range", (int)id);
        }
    } else {
        int16_t abs_id;
        lh_rc rc = lh_tc_read_i16(r, &abs_id);
        if (rc != LH_OK) {
            return rc;
        }
        id = abs_id;
    }
    r->last_id = (int16_t)id;
    f->id = (int16_t)id;
    if (type == LH_TC_BOOL || type == LH_TC_BOOL_FALSE) {
        f->bool_value = type == LH_TC_BOOL;
        type = LH_TC_BOOL;
    }
    f->type = type;
    return LH_OK;
}

/* The least number of bytes one element of the type takes. */
static size_t
min_size(uint8_t type)
{
    switch (type) {
    case LH_TC_DOUBLE:
        return 8;
    case LH_TC_UUID:
        return 16;
    default:
        return 1;
    }
}

lh_rc
lh_tc_list_begin(lh_tc_reader *r, uint8_t *elem_type, uint32_t *n)
{
    if (r->p == r->end) {
        return truncated(r, "list header");
    }
    uint8_t b = *r->p++;
    uint8_t type = b & 0x0f;
    uint64_t size = b >> 4;
    if (size == 15) {
        lh_rc rc = lh_tc_read_varint(r, &size);
        if (rc != LH_OK) {
            return rc;
        }
    }
    if (type == LH_TC_BOOL_FALSE) {
        type = LH_TC_BOOL;
    }
    if (type == LH_TC_STOP || type > LH_TC_UUID) {
        /* Some writers leave the element type of an empty list 0. */
        if (size != 0) {
            return lh_tc_corrupt(r, "unknown list element type %u", type);
        }
    }
    size_t left = lh_tc_left(r);
    if (size > left / min_size(type)) {
        return lh_tc_corrupt(r,
                             "list of %llu elements exceeds the %zu bytes left",
                             (unsigned long long)size, left);
    }
    lh_rc rc = push(r);
    if (rc != LH_OK) {
        return rc;
    }
    *elem_type = type;
    *n = (uint32_t)size;
    return LH_OK;
}

void
lh_tc_list_end(lh_tc_reader *r)
{
    if (ALWAYS(r->depth > 0)) {
        r->depth--;
    }
}

static lh_rc
skip_bytes(lh_tc_reader *r, size_t n, const char *what)
{
    if (lh_tc_left(r) < n) {
        return truncated(r, what);
    }
    r->p += n;
    return LH_OK;
}

static lh_rc skip_struct(lh_tc_reader *r);

static lh_rc
skip_list(lh_tc_reader *r)
{
    uint8_t type;
    uint32_t n;
    lh_rc rc = lh_tc_list_begin(r, &type, &n);
    for (uint32_t i = 0; rc == LH_OK && i < n; i++) {
        rc = lh_tc_skip(r, type);
    }
    if (rc == LH_OK) {
        lh_tc_list_end(r);
    }
    return rc;
}

static lh_rc
skip_map(lh_tc_reader *r)
{
    uint64_t n = 0;
    lh_rc rc = lh_tc_read_varint(r, &n);
    if (rc != LH_OK || n == 0) {
        return rc;
    }
    if (r->p == r->end) {
        return truncated(r, "map header");
    }
    uint8_t kv = *r->p++;
    uint8_t kt = kv >> 4;
    uint8_t vt = kv & 0x0f;
    if (kt == LH_TC_STOP || kt > LH_TC_UUID || vt == LH_TC_STOP ||
        vt > LH_TC_UUID) {
        r->p--;
        return lh_tc_corrupt(r, "unknown map key/value types 0x%02x", kv);
    }
    size_t left = lh_tc_left(r);
    if (n > left / (min_size(kt) + min_size(vt))) {
        return lh_tc_corrupt(r,
                             "map of %llu entries exceeds the %zu bytes left",
                             (unsigned long long)n, left);
    }
    rc = push(r);
    for (uint64_t i = 0; rc == LH_OK && i < n; i++) {
        rc = lh_tc_skip(r, kt);
        if (rc == LH_OK) {
            rc = lh_tc_skip(r, vt);
        }
    }
    if (rc == LH_OK) {
        r->depth--;
    }
    return rc;
}

lh_rc
lh_tc_skip(lh_tc_reader *r, uint8_t type)
{
    uint64_t v;
    switch (type) {
    case LH_TC_BOOL:
    case LH_TC_BOOL_FALSE:
    case LH_TC_I8:
        return skip_bytes(r, 1, lh_tc_type_name(type));
    case LH_TC_I16:
    case LH_TC_I32:
    case LH_TC_I64:
        return lh_tc_read_varint(r, &v);
    case LH_TC_DOUBLE:
        return skip_bytes(r, 8, "double");
    case LH_TC_UUID:
        return skip_bytes(r, 16, "uuid");
    case LH_TC_BINARY: {
        const uint8_t *p;
        uint32_t len;
        return lh_tc_read_binary(r, &p, &len);
    }
    case LH_TC_LIST:
    case LH_TC_SET:
        return skip_list(r);
    case LH_TC_MAP:
        return skip_map(r);
    case LH_TC_STRUCT:
        return skip_struct(r);
    }
    return lh_tc_corrupt(r, "cannot skip a value of unknown type %u", type);
}

static lh_rc
skip_struct(lh_tc_reader *r)
{
    int16_t saved;
    lh_rc rc = lh_tc_struct_begin(r, &saved);
    while (rc == LH_OK) {
        lh_tc_field f;
        memset(&f, 0, sizeof f);
        rc = lh_tc_field_next(r, &f);
        if (rc != LH_OK || f.type == LH_TC_STOP) {
            break;
        }
        rc = lh_tc_skip_field(r, &f);
    }
    if (rc == LH_OK) {
        lh_tc_struct_end(r, saved);
    }
    return rc;
}

lh_rc
lh_tc_skip_field(lh_tc_reader *r, const lh_tc_field *f)
{
    if (f->type == LH_TC_BOOL) {
        return LH_OK;
    }
    return lh_tc_skip(r, f->type);
}

/* ---- writer -------------------------------------------------------------- */

void
lh_tc_writer_init(lh_tc_writer *w, lh_buf *out)
{
    w->out = out;
    w->last_id = 0;
}

static void
put_byte(lh_tc_writer *w, uint8_t b)
{
    lh_buf_putc(w->out, (char)b);
}

void
lh_tc_write_varint(lh_tc_writer *w, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    lh_buf_append(w->out, tmp, n);
}

static uint64_t
zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

void
lh_tc_write_struct_begin(lh_tc_writer *w, int16_t *saved)
{
    *saved = w->last_id;
    w->last_id = 0;
}

void
lh_tc_write_struct_end(lh_tc_writer *w, int16_t saved)
{
    put_byte(w, LH_TC_STOP);
    w->last_id = saved;
}

void
lh_tc_write_field(lh_tc_writer *w, int16_t id, uint8_t type)
{
    int32_t delta = (int32_t)id - w->last_id;
    if (delta > 0 && delta <= 15) {
        put_byte(w, (uint8_t)(delta << 4 | type));
    } else {
        put_byte(w, type);
        lh_tc_write_varint(w, zigzag(id));
    }
    w->last_id = id;
}

void
lh_tc_write_bool_field(lh_tc_writer *w, int16_t id, bool v)
{
    lh_tc_write_field(w, id, v ? LH_TC_BOOL : LH_TC_BOOL_FALSE);
}

void
lh_tc_write_list_begin(lh_tc_writer *w, uint8_t elem_type, uint32_t n)
{
    if (n < 15) {
        put_byte(w, (uint8_t)(n << 4 | elem_type));
    } else {
        put_byte(w, (uint8_t)(0xf0 | elem_type));
        lh_tc_write_varint(w, n);
    }
}

void
lh_tc_write_bool(lh_tc_writer *w, bool v)
{
    put_byte(w, v ? LH_TC_BOOL : LH_TC_BOOL_FALSE);
}

void
lh_tc_write_i8(lh_tc_writer *w, int8_t v)
{
    put_byte(w, (uint8_t)v);
}

void
lh_tc_write_i16(lh_tc_writer *w, int16_t v)
{
    lh_tc_write_varint(w, zigzag(v));
}

void
lh_tc_write_i32(lh_tc_writer *w, int32_t v)
{
    lh_tc_write_varint(w, zigzag(v));
}

void
lh_tc_write_i64(lh_tc_writer *w, int64_t v)
{
    lh_tc_write_varint(w, zigzag(v));
}

void
lh_tc_write_double(lh_tc_writer *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    uint8_t b[8];
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(bits >> (8 * i));
    }
    lh_buf_append(w->out, b, sizeof(b));
}

void
lh_tc_write_binary(lh_tc_writer *w, const void *p, size_t len)
{
    lh_tc_write_varint(w, len);
    if (len > 0) {
        lh_buf_append(w->out, p, len);
    }
}
