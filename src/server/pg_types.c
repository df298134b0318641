/*
 * Values as PostgreSQL sees them: the type OIDs of RowDescription, the
 * binary formats of DataRow (PostgreSQL's send functions: big-endian
 * integers and IEEE floats, numeric in base-10000 digits, dates and
 * timestamps counted from 2000-01-01), and binary parameters read back to
 * the text forms the column module parses.
 *
 * Text output follows the output rules (column module), with one
 * difference the wire needs: booleans are "t"/"f", as every PostgreSQL
 * driver parses them.
 */
#include <math.h>
#include <string.h>

#include "server/pg_int.h"

/* PostgreSQL's epoch, 2000-01-01, from the Unix one. */
#define PG_EPOCH_DAYS 10957
#define PG_EPOCH_US (INT64_C(946684800) * LH_US_PER_SEC)

enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_NAME = 19,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_OID = 26,
    OID_JSON = 114,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_UNKNOWN = 705,
    OID_BPCHAR = 1042,
    OID_VARCHAR = 1043,
    OID_DATE = 1082,
    OID_TIME = 1083,
    OID_TIMESTAMP = 1114,
    OID_TIMESTAMPTZ = 1184,
    OID_INTERVAL = 1186,
    OID_NUMERIC = 1700,
    OID_UUID = 2950,
    OID_JSONB = 3802,
};

pg_type
lh__pg_type_of(lh_type t)
{
    switch (t.id) {
    case LH_T_BOOLEAN:
        return (pg_type){OID_BOOL, 1, -1};
    case LH_T_SMALLINT:
        return (pg_type){OID_INT2, 2, -1};
    case LH_T_INTEGER:
        return (pg_type){OID_INT4, 4, -1};
    case LH_T_BIGINT:
        return (pg_type){OID_INT8, 8, -1};
    case LH_T_REAL:
        return (pg_type){OID_FLOAT4, 4, -1};
    case LH_T_DOUBLE:
        return (pg_type){OID_FLOAT8, 8, -1};
    case LH_T_DECIMAL:
        return (pg_type){OID_NUMERIC, -1,
                         ((int32_t)t.precision << 16 | t.scale) + 4};
    case LH_T_VARCHAR:
        /* VARCHAR without a length is PostgreSQL's text (what its string
         * literals and functions give). */
        return t.length ? (pg_type){OID_VARCHAR, -1, (int32_t)t.length + 4}
                        : (pg_type){OID_TEXT, -1, -1};
    case LH_T_BLOB:
        return (pg_type){OID_BYTEA, -1, -1};
    case LH_T_DATE:
        return (pg_type){OID_DATE, 4, -1};
    case LH_T_TIME:
        return (pg_type){OID_TIME, 8, -1};
    case LH_T_TIMESTAMP:
        return (pg_type){OID_TIMESTAMP, 8, -1};
    case LH_T_TIMESTAMPTZ:
        return (pg_type){OID_TIMESTAMPTZ, 8, -1};
    case LH_T_INTERVAL:
        return (pg_type){OID_INTERVAL, 16, -1};
    case LH_T_UUID:
        return (pg_type){OID_UUID, 16, -1};
    case LH_T_JSON:
    case LH_T_LIST:
    case LH_T_STRUCT:
    case LH_T_MAP:
        return (pg_type){OID_JSON, -1, -1};
    default: /* NULL, FLOAT[n] (pgvector's text form) */
        return (pg_type){OID_TEXT, -1, -1};
    }
}

lh_type
lh__pg_type_from_oid(uint32_t oid)
{
    lh_type t = {.id = LH_T_VARCHAR};
    switch (oid) {
    case OID_BOOL:
        t.id = LH_T_BOOLEAN;
        break;
    case OID_INT2:
        t.id = LH_T_SMALLINT;
        break;
    case OID_INT4:
    case OID_OID:
        t.id = LH_T_INTEGER;
        break;
    case OID_INT8:
        t.id = LH_T_BIGINT;
        break;
    case OID_FLOAT4:
        t.id = LH_T_REAL;
        break;
    case OID_FLOAT8:
        t.id = LH_T_DOUBLE;
        break;
    case OID_NUMERIC:
        t.id = LH_T_DECIMAL;
        t.precision = 38;
        t.scale = 10;
        break;
    case OID_BYTEA:
        t.id = LH_T_BLOB;
        break;
    case OID_DATE:
        t.id = LH_T_DATE;
        break;
    case OID_TIME:
        t.id = LH_T_TIME;
        break;
    case OID_TIMESTAMP:
        t.id = LH_T_TIMESTAMP;
        break;
    case OID_TIMESTAMPTZ:
        t.id = LH_T_TIMESTAMPTZ;
        break;
    case OID_INTERVAL:
        t.id = LH_T_INTERVAL;
        break;
    case OID_UUID:
        t.id = LH_T_UUID;
        break;
    case OID_JSON:
    case OID_JSONB:
        t.id = LH_T_JSON;
        break;
    default:
        break;
    }
    return t;
}

/* ---- binary output ----------------------------------------------------------
 */

static void
be(lh_buf *b, uint64_t v, int bytes)
{
    uint8_t x[8];
    for (int i = 0; i < bytes; i++) {
        x[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    }
    lh_buf_append(b, x, (size_t)bytes);
}

/* numeric_send: ndigits, weight, sign, dscale, then base-10000 digits. */
static void
numeric_binary(lh_i128 v, int scale, lh_buf *b)
{
    bool neg = v < 0;
    unsigned __int128 u = neg ? (unsigned __int128)0 - (unsigned __int128)v
                              : (unsigned __int128)v;
    /* Decimal digits, most significant first, at least scale + 1. */
    char dig[48];
    int n = 0;
    char rev[48];
    while (u > 0) {
        rev[n++] = (char)(u % 10);
        u /= 10;
    }
    while (n < scale + 1) {
        rev[n++] = 0;
    }
    for (int i = 0; i < n; i++) {
        dig[i] = rev[n - 1 - i];
    }
    int ilen = n - scale; /* integer digits */
    /* Pad on the left so the integer part fills whole groups, and on the
     * right so the fraction does. */
    int lpad = (4 - ilen % 4) % 4;
    int rpad = (4 - scale % 4) % 4;
    int total = lpad + n + rpad;
    int ngroups = total / 4;
    int16_t groups[16];
    for (int g = 0; g < ngroups; g++) {
        int x = 0;
        for (int k = 0; k < 4; k++) {
            int pos = g * 4 + k - lpad;
            x = x * 10 + (pos >= 0 && pos < n ? dig[pos] : 0);
        }
        groups[g] = (int16_t)x;
    }
    int weight = (lpad + ilen) / 4 - 1;
    int first = 0, last = ngroups;
    while (first < last && groups[first] == 0) {
        first++;
        weight--;
    }
    while (last > first && groups[last - 1] == 0) {
        last--;
    }
    int nd = last - first;
    if (nd == 0) {
        weight = 0;
    }
    be(b, (uint16_t)nd, 2);
    be(b, (uint16_t)(int16_t)weight, 2);
    be(b, nd > 0 && neg ? 0x4000 : 0, 2);
    be(b, (uint16_t)scale, 2);
    for (int g = first; g < last; g++) {
        be(b, (uint16_t)groups[g], 2);
    }
}

lh_rc
lh__pg_binary(const lh_value *v, lh_buf *b)
{
    switch (v->type.id) {
    case LH_T_BOOLEAN:
        lh_buf_putc(b, v->u.b ? 1 : 0);
        break;
    case LH_T_SMALLINT:
        be(b, (uint64_t)v->u.i, 2);
        break;
    case LH_T_INTEGER:
    case LH_T_DATE:
        be(b,
           (uint64_t)(v->type.id == LH_T_DATE ? v->u.i - PG_EPOCH_DAYS
                                              : v->u.i),
           4);
        break;
    case LH_T_BIGINT:
    case LH_T_TIME:
        be(b, (uint64_t)v->u.i, 8);
        break;
    case LH_T_TIMESTAMP:
    case LH_T_TIMESTAMPTZ:
        be(b, (uint64_t)(v->u.i - PG_EPOCH_US), 8);
        break;
    case LH_T_REAL: {
        float f = (float)v->u.d;
        uint32_t bits;
        memcpy(&bits, &f, 4);
        be(b, bits, 4);
        break;
    }
    case LH_T_DOUBLE: {
        uint64_t bits;
        memcpy(&bits, &v->u.d, 8);
        be(b, bits, 8);
        break;
    }
    case LH_T_DECIMAL:
        numeric_binary(v->u.dec, v->type.scale, b);
        break;
    case LH_T_VARCHAR:
    case LH_T_BLOB:
    case LH_T_JSON:
        lh_buf_append(b, v->u.s.p ? v->u.s.p : "", v->u.s.len);
        break;
    case LH_T_INTERVAL:
        be(b, (uint64_t)v->u.iv.micros, 8);
        be(b, (uint64_t)(uint32_t)v->u.iv.days, 4);
        be(b, (uint64_t)(uint32_t)v->u.iv.months, 4);
        break;
    case LH_T_UUID:
        lh_buf_append(b, v->u.uuid.b, 16);
        break;
    case LH_T_VECTOR:
    case LH_T_LIST:
    case LH_T_STRUCT:
    case LH_T_MAP:
    case LH_T_NULL:
        /* Sent as text and JSON: their binary form is their text. */
        return lh__pg_text(v, b);
    default:
        return LH_EINTERNAL;
    }
    return lh_buf_ok(b) ? LH_OK : LH_ENOMEM;
}

lh_rc
lh__pg_text(const lh_value *v, lh_buf *out)
{
    if (v->type.id == LH_T_BOOLEAN) {
        return lh_buf_putc(out, v->u.b ? 't' : 'f');
    }
    return lh_value_to_text(v, out);
}

/* ---- binary parameters ------------------------------------------------------
 */

static uint64_t
rd(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static lh_rc
bad_len(uint32_t oid, const char *name, lh_err *err)
{
    return lh_err_set(err, LH_EINVAL,
                      "invalid binary data for %s (type %u): wrong length",
                      name, oid);
}

/* numeric_recv to text: digits, weight, sign, dscale. */
static lh_rc
numeric_text(const uint8_t *p, size_t n, lh_buf *out, lh_err *err)
{
    if (n < 8) {
        return bad_len(OID_NUMERIC, "numeric", err);
    }
    int nd = (int)rd(p, 2);
    int weight = (int16_t)rd(p + 2, 2);
    int sign = (int)rd(p + 4, 2);
    int dscale = (int)rd(p + 6, 2);
    if (n != 8 + 2 * (size_t)nd || dscale > 1000) {
        return bad_len(OID_NUMERIC, "numeric", err);
    }
    if (sign == 0xC000) {
        return lh_err_set(err, LH_EINVAL, "NaN is not a DECIMAL value");
    }
    if (sign != 0 && sign != 0x4000) {
        return lh_err_set(err, LH_EINVAL, "invalid sign in numeric value");
    }
    if (sign == 0x4000 && nd > 0) {
        lh_buf_putc(out, '-');
    }
    /* Integer groups: weight + 1 of them (missing ones are zero). */
    if (weight < 0) {
        lh_buf_putc(out, '0');
    }
    for (int g = 0; g <= weight; g++) {
        int d = g < nd ? (int)rd(p + 8 + 2 * g, 2) : 0;
        if (d > 9999) {
            return lh_err_set(err, LH_EINVAL, "invalid digit in numeric");
        }
        lh_buf_printf(out, g == 0 ? "%d" : "%04d", d);
    }
    if (dscale > 0) {
        lh_buf_putc(out, '.');
        int written = 0;
        for (int g = weight + 1; written < dscale; g++) {
            int d = g >= 0 && g < nd ? (int)rd(p + 8 + 2 * g, 2) : 0;
            char four[8];
            snprintf(four, sizeof(four), "%04d", d % 10000);
            for (int k = 0; k < 4 && written < dscale; k++, written++) {
                lh_buf_putc(out, four[k]);
            }
        }
    }
    return LH_OK;
}

lh_rc
lh__pg_binary_to_text(uint32_t oid, const uint8_t *p, size_t n, lh_buf *out,
                      lh_err *err)
{
    lh_value v = {.type = lh__pg_type_from_oid(oid)};
    switch (oid) {
    case OID_BOOL:
        if (n != 1) {
            return bad_len(oid, "bool", err);
        }
        return lh_buf_puts(out, p[0] ? "true" : "false");
    case OID_INT2:
        if (n != 2) {
            return bad_len(oid, "int2", err);
        }
        return lh_buf_printf(out, "%d", (int)(int16_t)rd(p, 2));
    case OID_INT4:
    case OID_OID:
        if (n != 4) {
            return bad_len(oid, "int4", err);
        }
        return lh_buf_printf(out, "%d", (int)(int32_t)rd(p, 4));
    case OID_INT8:
        if (n != 8) {
            return bad_len(oid, "int8", err);
        }
        return lh_buf_printf(out, "%lld", (long long)(int64_t)rd(p, 8));
    case OID_FLOAT4: {
        if (n != 4) {
            return bad_len(oid, "float4", err);
        }
        uint32_t bits = (uint32_t)rd(p, 4);
        float f;
        memcpy(&f, &bits, 4);
        char buf[32];
        lh_float_format(f, buf);
        return lh_buf_puts(out, buf);
    }
    case OID_FLOAT8: {
        if (n != 8) {
            return bad_len(oid, "float8", err);
        }
        uint64_t bits = rd(p, 8);
        double d;
        memcpy(&d, &bits, 8);
        char buf[32];
        lh_double_format(d, buf);
        return lh_buf_puts(out, buf);
    }
    case OID_NUMERIC:
        return numeric_text(p, n, out, err);
    case OID_BYTEA:
        lh_buf_puts(out, "\\x");
        for (size_t i = 0; i < n; i++) {
            lh_buf_printf(out, "%02x", p[i]);
        }
        return lh_buf_ok(out) ? LH_OK : LH_ENOMEM;
    case OID_DATE:
        if (n != 4) {
            return bad_len(oid, "date", err);
        }
        v.u.i = (int32_t)rd(p, 4) + (int64_t)PG_EPOCH_DAYS;
        break;
    case OID_TIME:
        if (n != 8) {
            return bad_len(oid, "time", err);
        }
        v.u.i = (int64_t)rd(p, 8);
        break;
    case OID_TIMESTAMP:
    case OID_TIMESTAMPTZ: {
        if (n != 8) {
            return bad_len(oid, "timestamp", err);
        }
        int64_t t = (int64_t)rd(p, 8);
        if (t > INT64_MAX - PG_EPOCH_US) {
            return lh_err_set(err, LH_EINVAL, "timestamp out of range");
        }
        /* ISO form with Z: the text input reads it as UTC either way. */
        char buf[40];
        lh_time_format_iso(t + PG_EPOCH_US, buf);
        return lh_buf_puts(out, buf);
    }
    case OID_INTERVAL:
        if (n != 16) {
            return bad_len(oid, "interval", err);
        }
        v.u.iv.micros = (int64_t)rd(p, 8);
        v.u.iv.days = (int32_t)rd(p + 8, 4);
        v.u.iv.months = (int32_t)rd(p + 12, 4);
        break;
    case OID_UUID: {
        if (n != 16) {
            return bad_len(oid, "uuid", err);
        }
        lh_uuid u;
        memcpy(u.b, p, 16);
        char buf[LH_UUID_STRLEN + 1];
        lh_uuid_format(&u, buf);
        return lh_buf_puts(out, buf);
    }
    case OID_JSONB:
        if (n < 1 || p[0] != 1) {
            return lh_err_set(err, LH_EINVAL,
                              "unsupported jsonb version "
                              "number");
        }
        return lh_buf_append(out, p + 1, n - 1);
    case OID_TEXT:
    case OID_VARCHAR:
    case OID_BPCHAR:
    case OID_NAME:
    case OID_JSON:
    case OID_UNKNOWN:
    case 0:
        return lh_buf_append(out, p, n);
    default:
        return lh_err_set(err, LH_EINVAL,
                          "binary format for type %u is not supported; send "
                          "it as text",
                          oid);
    }
    lh_rc rc = lh_value_to_text(&v, out);
    if (rc != LH_OK) {
        return lh_err_set(err, rc, "could not convert a binary parameter");
    }
    return LH_OK;
}
