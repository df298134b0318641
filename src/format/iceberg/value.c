/*
 * Single values (spec Appendix D): the binary form that bounds and
 * partition summaries use, the JSON form of defaults, and the order that
 * pruning compares with.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "format/iceberg/iceberg_int.h"

static uint64_t
get_le64(const uint8_t *p)
{
    return (uint64_t)lh_get_le32(p) | (uint64_t)lh_get_le32(p + 4) << 32;
}

static void
put_le64(uint8_t *p, uint64_t v)
{
    lh_put_le32(p, (uint32_t)v);
    lh_put_le32(p + 4, (uint32_t)(v >> 32));
}

static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static lh_rc
bad_len(const lh_ice_type *t, size_t n, lh_err *err)
{
    char name[64];
    return lh_err_set(err, LH_EFORMAT, "a %s value cannot be %zu bytes long",
                      lh_ice_type_name(t, name, sizeof(name)), n);
}

lh_rc
lh_ice_value_from_bytes(const lh_ice_type *t, const uint8_t *p, size_t n,
                        lh_value *out, lh_err *err)
{
    memset(out, 0, sizeof(*out));
    out->type = lh_ice_type_to_lh(t);
    switch (t->id) {
    case LH_ICE_BOOLEAN:
        if (n != 1) {
            return bad_len(t, n, err);
        }
        out->u.b = p[0] != 0;
        return LH_OK;
    case LH_ICE_INT:
    case LH_ICE_DATE:
        if (n != 4) {
            return bad_len(t, n, err);
        }
        out->u.i = (int32_t)lh_get_le32(p);
        return LH_OK;
    case LH_ICE_LONG:
    case LH_ICE_TIME:
        if (n == 4 && t->id == LH_ICE_LONG) {
            out->u.i = (int32_t)lh_get_le32(p); /* written as an int */
            return LH_OK;
        }
        if (n != 8) {
            return bad_len(t, n, err);
        }
        out->u.i = (int64_t)get_le64(p);
        return LH_OK;
    case LH_ICE_TIMESTAMP:
    case LH_ICE_TIMESTAMPTZ:
    case LH_ICE_TIMESTAMP_NS:
    case LH_ICE_TIMESTAMPTZ_NS:
        if (n == 4) { /* promoted from a date */
            int64_t days = (int32_t)lh_get_le32(p);
            out->u.i = days * LH_US_PER_DAY;
            return LH_OK;
        }
        if (n != 8) {
            return bad_len(t, n, err);
        }
        out->u.i = (int64_t)get_le64(p);
        if (t->id == LH_ICE_TIMESTAMP_NS || t->id == LH_ICE_TIMESTAMPTZ_NS) {
            out->u.i = floor_div(out->u.i, 1000);
        }
        return LH_OK;
    case LH_ICE_FLOAT:
    case LH_ICE_DOUBLE:
        if (n == 4) {
            float f;
            uint32_t b = lh_get_le32(p);
            memcpy(&f, &b, 4);
            out->u.d = f;
            return LH_OK;
        }
        if (n != 8 || t->id == LH_ICE_FLOAT) {
            return bad_len(t, n, err);
        }
        uint64_t b = get_le64(p);
        memcpy(&out->u.d, &b, 8);
        return LH_OK;
    case LH_ICE_DECIMAL: {
        if (n < 1 || n > 16) {
            return bad_len(t, n, err);
        }
        /* Two's complement big-endian: sign-extend from the first byte. */
        unsigned __int128 v = (p[0] & 0x80) ? ~(unsigned __int128)0 : 0;
        for (size_t i = 0; i < n; i++) {
            v = (v << 8) | p[i];
        }
        out->u.dec = (lh_i128)v;
        return LH_OK;
    }
    case LH_ICE_STRING:
    case LH_ICE_BINARY:
    case LH_ICE_FIXED:
        if (t->id == LH_ICE_FIXED && n != t->length) {
            return bad_len(t, n, err);
        }
        out->u.s.p = (const char *)p;
        out->u.s.len = n;
        return LH_OK;
    case LH_ICE_UUID:
        if (n != 16) {
            return bad_len(t, n, err);
        }
        memcpy(out->u.uuid.b, p, 16);
        return LH_OK;
    default: {
        char name[64];
        return lh_err_set(err, LH_EUNSUPPORTED,
                          "unsupported: binary values of type %s",
                          lh_ice_type_name(t, name, sizeof(name)));
    }
    }
}

size_t
lh__ice_decimal_min_bytes(lh_i128 v, uint8_t *buf)
{
    uint8_t full[16];
    unsigned __int128 u = (unsigned __int128)v;
    for (int i = 15; i >= 0; i--) {
        full[i] = (uint8_t)u;
        u >>= 8;
    }
    /* Drop leading bytes that only repeat the sign. */
    size_t start = 0;
    while (start < 15) {
        bool neg = (full[start + 1] & 0x80) != 0;
        if ((full[start] == 0x00 && !neg) || (full[start] == 0xff && neg)) {
            start++;
        } else {
            break;
        }
    }
    memcpy(buf, full + start, 16 - start);
    return 16 - start;
}

lh_rc
lh_ice_value_to_bytes(const lh_ice_type *t, const lh_value *v, lh_buf *out,
                      lh_err *err)
{
    uint8_t b[16];
    switch (t->id) {
    case LH_ICE_BOOLEAN:
        b[0] = v->u.b ? 1 : 0;
        return lh_buf_append(out, b, 1);
    case LH_ICE_INT:
    case LH_ICE_DATE:
        lh_put_le32(b, (uint32_t)(int32_t)v->u.i);
        return lh_buf_append(out, b, 4);
    case LH_ICE_LONG:
    case LH_ICE_TIME:
    case LH_ICE_TIMESTAMP:
    case LH_ICE_TIMESTAMPTZ:
        put_le64(b, (uint64_t)v->u.i);
        return lh_buf_append(out, b, 8);
    case LH_ICE_TIMESTAMP_NS:
    case LH_ICE_TIMESTAMPTZ_NS:
        put_le64(b, (uint64_t)v->u.i * 1000u);
        return lh_buf_append(out, b, 8);
    case LH_ICE_FLOAT: {
        float f = (float)v->u.d;
        uint32_t x;
        memcpy(&x, &f, 4);
        lh_put_le32(b, x);
        return lh_buf_append(out, b, 4);
    }
    case LH_ICE_DOUBLE: {
        uint64_t x;
        memcpy(&x, &v->u.d, 8);
        put_le64(b, x);
        return lh_buf_append(out, b, 8);
    }
    case LH_ICE_DECIMAL: {
        size_t n = lh__ice_decimal_min_bytes(v->u.dec, b);
        return lh_buf_append(out, b, n);
    }
    case LH_ICE_STRING:
    case LH_ICE_BINARY:
    case LH_ICE_FIXED:
        return lh_buf_append(out, v->u.s.p, v->u.s.len);
    case LH_ICE_UUID:
        return lh_buf_append(out, v->u.uuid.b, 16);
    default: {
        char name[64];
        return lh_err_set(err, LH_EUNSUPPORTED,
                          "unsupported: binary values of type %s",
                          lh_ice_type_name(t, name, sizeof(name)));
    }
    }
}

/* ---- JSON -------------------------------------------------------------------
 */

static lh_rc
hex_blob(const char *s, size_t n, lh_arena *a, lh_value *out, lh_err *err)
{
    if (n % 2 != 0) {
        return lh_err_set(err, LH_EINVAL,
                          "expected a hexadecimal string, found odd length "
                          "%zu",
                          n);
    }
    char *p = lh_arena_alloc(a, n / 2 + 1);
    if (p == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i += 2) {
        int hi = lh_hex_digit(s[i]), lo = lh_hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0) {
            return lh_err_set(err, LH_EINVAL,
                              "expected a hexadecimal string, found \"%.40s\"",
                              s);
        }
        p[i / 2] = (char)(hi << 4 | lo);
    }
    p[n / 2] = 0;
    out->u.s.p = p;
    out->u.s.len = n / 2;
    return LH_OK;
}

lh_rc
lh_ice_value_from_json(const lh_ice_type *t, const json_t *j, lh_arena *a,
                       lh_value *out, lh_err *err)
{
    lh_type lt = lh_ice_type_to_lh(t);
    memset(out, 0, sizeof(*out));
    out->type = lt;
    if (j == NULL || json_is_null(j)) {
        out->is_null = true;
        return LH_OK;
    }
    switch (t->id) {
    case LH_ICE_FIXED:
    case LH_ICE_BINARY:
        if (!json_is_string(j)) {
            return lh_err_set(err, LH_EINVAL, "expected a hexadecimal string");
        }
        {
            lh_rc rc = hex_blob(json_string_value(j), json_string_length(j), a,
                                out, err);
            if (rc == LH_OK && t->id == LH_ICE_FIXED &&
                out->u.s.len != t->length) {
                return lh_err_set(err, LH_EINVAL,
                                  "expected %u bytes for fixed[%u], found %zu",
                                  t->length, t->length, out->u.s.len);
            }
            return rc;
        }
    case LH_ICE_DECIMAL:
    case LH_ICE_DATE:
    case LH_ICE_TIME:
    case LH_ICE_TIMESTAMP:
    case LH_ICE_TIMESTAMPTZ:
    case LH_ICE_TIMESTAMP_NS:
    case LH_ICE_TIMESTAMPTZ_NS:
    case LH_ICE_UUID:
        if (!json_is_string(j) &&
            !(t->id == LH_ICE_DECIMAL && json_is_number(j))) {
            char name[64];
            return lh_err_set(err, LH_EINVAL, "expected a %s as a string",
                              lh_ice_type_name(t, name, sizeof(name)));
        }
        break;
    case LH_ICE_BOOLEAN:
    case LH_ICE_INT:
    case LH_ICE_LONG:
    case LH_ICE_FLOAT:
    case LH_ICE_DOUBLE:
    case LH_ICE_STRING:
        break;
    default: {
        char name[64];
        return lh_err_set(err, LH_EUNSUPPORTED,
                          "unsupported: JSON values of type %s",
                          lh_ice_type_name(t, name, sizeof(name)));
    }
    }
    if ((t->id == LH_ICE_TIMESTAMP_NS || t->id == LH_ICE_TIMESTAMPTZ_NS) &&
        json_is_string(j)) {
        /* Cut the fraction to µs (the text reader would round it). */
        const char *s = json_string_value(j);
        size_t n = json_string_length(j);
        const char *dot = memchr(s, '.', n);
        if (dot != NULL) {
            char buf[96];
            size_t head = (size_t)(dot - s) + 1, digits = 0;
            while (head + digits < n && s[head + digits] >= '0' &&
                   s[head + digits] <= '9') {
                digits++;
            }
            size_t keep = LH_MIN(digits, (size_t)6);
            size_t rest = n - head - digits;
            if (head + keep + rest < sizeof(buf)) {
                memcpy(buf, s, head + keep);
                memcpy(buf + head + keep, s + head + digits, rest);
                json_t *cut = json_stringn(buf, head + keep + rest);
                if (cut == NULL) {
                    return lh_err_set(err, LH_ENOMEM, "out of memory");
                }
                lh_rc rc = lh_value_from_json(lt, cut, a, out, err);
                json_decref(cut);
                return rc;
            }
        }
    }
    return lh_value_from_json(lt, j, a, out, err);
}

static void
fmt_date(int64_t days, lh_buf *out)
{
    int64_t y;
    unsigned m, d;
    lh_civil_from_days(days, &y, &m, &d);
    lh_buf_printf(out, "%04lld-%02u-%02u", (long long)y, m, d);
}

static void
fmt_time(int64_t us, lh_buf *out)
{
    int64_t s = us / LH_US_PER_SEC, frac = us % LH_US_PER_SEC;
    lh_buf_printf(out, "%02lld:%02lld:%02lld.%06lld", (long long)(s / 3600),
                  (long long)(s / 60 % 60), (long long)(s % 60),
                  (long long)frac);
}

lh_rc
lh_ice_value_to_json(const lh_ice_type *t, const lh_value *v, lh_buf *out)
{
    if (v->is_null) {
        return lh_buf_puts(out, "null");
    }
    char buf[64];
    switch (t->id) {
    case LH_ICE_BOOLEAN:
        return lh_buf_puts(out, v->u.b ? "true" : "false");
    case LH_ICE_INT:
    case LH_ICE_LONG:
        return lh_buf_printf(out, "%lld", (long long)v->u.i);
    case LH_ICE_FLOAT:
        if (!isfinite(v->u.d)) {
            return lh_buf_puts(out, "null");
        }
        lh_float_format((float)v->u.d, buf);
        return lh_buf_puts(out, buf);
    case LH_ICE_DOUBLE:
        if (!isfinite(v->u.d)) {
            return lh_buf_puts(out, "null");
        }
        lh_double_format(v->u.d, buf);
        return lh_buf_puts(out, buf);
    case LH_ICE_DECIMAL:
        lh_decimal_format(v->u.dec, t->scale, buf);
        return lh_buf_printf(out, "\"%s\"", buf);
    case LH_ICE_DATE:
        lh_buf_putc(out, '"');
        fmt_date(v->u.i, out);
        return lh_buf_putc(out, '"');
    case LH_ICE_TIME:
        lh_buf_putc(out, '"');
        fmt_time(v->u.i, out);
        return lh_buf_putc(out, '"');
    case LH_ICE_TIMESTAMP:
    case LH_ICE_TIMESTAMPTZ:
    case LH_ICE_TIMESTAMP_NS:
    case LH_ICE_TIMESTAMPTZ_NS: {
        int64_t days = floor_div(v->u.i, LH_US_PER_DAY);
        lh_buf_putc(out, '"');
        fmt_date(days, out);
        lh_buf_putc(out, 'T');
        fmt_time(v->u.i - days * LH_US_PER_DAY, out);
        if (t->id == LH_ICE_TIMESTAMP_NS || t->id == LH_ICE_TIMESTAMPTZ_NS) {
            lh_buf_puts(out, "000");
        }
        if (t->id == LH_ICE_TIMESTAMPTZ || t->id == LH_ICE_TIMESTAMPTZ_NS) {
            lh_buf_puts(out, "+00:00");
        }
        return lh_buf_putc(out, '"');
    }
    case LH_ICE_STRING:
        return lh_buf_json_string(out, v->u.s.p, v->u.s.len);
    case LH_ICE_UUID: {
        char u[LH_UUID_STRLEN + 1];
        lh_uuid_format(&v->u.uuid, u);
        return lh_buf_printf(out, "\"%s\"", u);
    }
    case LH_ICE_FIXED:
    case LH_ICE_BINARY: {
        static const char hex[] = "0123456789abcdef";
        lh_buf_putc(out, '"');
        for (size_t i = 0; i < v->u.s.len; i++) {
            unsigned char c = (unsigned char)v->u.s.p[i];
            lh_buf_putc(out, hex[c >> 4]);
            lh_buf_putc(out, hex[c & 15]);
        }
        return lh_buf_putc(out, '"');
    }
    default:
        return lh_buf_puts(out, "null");
    }
}

/* ---- order ------------------------------------------------------------------
 */

/* IEEE 754 totalOrder as an integer key: -NaN < -inf < ... < -0 < +0 < ...
 * < inf < NaN. */
static int64_t
total_key(double d)
{
    int64_t b;
    memcpy(&b, &d, 8);
    return b < 0 ? (int64_t)(b ^ INT64_MAX) : b;
}

int
lh_ice_value_cmp(const lh_value *a, const lh_value *b)
{
    switch (a->type.id) {
    case LH_T_BOOLEAN:
        return (int)a->u.b - (int)b->u.b;
    case LH_T_REAL:
    case LH_T_DOUBLE: {
        int64_t x = total_key(a->u.d), y = total_key(b->u.d);
        return x < y ? -1 : x > y;
    }
    case LH_T_DECIMAL:
        return a->u.dec < b->u.dec ? -1 : a->u.dec > b->u.dec;
    case LH_T_VARCHAR:
    case LH_T_BLOB:
    case LH_T_JSON: {
        size_t n = LH_MIN(a->u.s.len, b->u.s.len);
        int c = n ? memcmp(a->u.s.p, b->u.s.p, n) : 0;
        if (c != 0) {
            return c < 0 ? -1 : 1;
        }
        return a->u.s.len < b->u.s.len ? -1 : a->u.s.len > b->u.s.len;
    }
    case LH_T_UUID: {
        int c = memcmp(a->u.uuid.b, b->u.uuid.b, 16);
        return c < 0 ? -1 : c > 0;
    }
    default:
        return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
    }
}
