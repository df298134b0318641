/* A value's text form and its JSON form (output-formats.md). */
#include <math.h>
#include <stdio.h>

#include "column/column_int.h"

static void
blob_text(lh_buf *b, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)p;
    if (lh_buf_reserve(b, 2 + 2 * n) != LH_OK) {
        return;
    }
    lh_buf_append(b, "\\x", 2);
    for (size_t i = 0; i < n; i++) {
        char pair[2] = {hex[u[i] >> 4], hex[u[i] & 15]};
        lh_buf_append(b, pair, 2);
    }
}

/* pgvector's form: "[0.1,0.2,0.3]" */
static void
vector_text(lh_buf *b, const float *v, uint32_t n, bool json)
{
    char num[32];
    lh_buf_putc(b, '[');
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0) {
            lh_buf_putc(b, ',');
        }
        size_t len = lh_float_format(v[i], num);
        bool quote = json && !isfinite(v[i]);
        if (quote) {
            lh_buf_putc(b, '"');
        }
        lh_buf_append(b, num, len);
        if (quote) {
            lh_buf_putc(b, '"');
        }
    }
    lh_buf_putc(b, ']');
}

/* Appends the text form; false for a type id outside lh_type_id. */
static bool
text_form(const lh_value *v, lh_buf *out)
{
    char num[64];
    size_t len = 0;

    switch ((lh_type_id)v->type.id) {
    case LH_T_NULL:
        return true;
    case LH_T_BOOLEAN:
        lh_buf_puts(out, v->u.b ? "true" : "false");
        return true;
    case LH_T_SMALLINT:
    case LH_T_INTEGER:
    case LH_T_BIGINT:
        lh_buf_printf(out, "%lld", (long long)v->u.i);
        return true;
    case LH_T_REAL:
        len = lh_float_format((float)v->u.d, num);
        lh_buf_append(out, num, len);
        return true;
    case LH_T_DOUBLE:
        len = lh_double_format(v->u.d, num);
        lh_buf_append(out, num, len);
        return true;
    case LH_T_DECIMAL:
        len = lh_decimal_format(v->u.dec, v->type.scale, num);
        lh_buf_append(out, num, len);
        return true;
    case LH_T_VARCHAR:
    case LH_T_JSON:
        lh_buf_append(out, v->u.s.p, v->u.s.len);
        return true;
    case LH_T_BLOB:
        blob_text(out, v->u.s.p, v->u.s.len);
        return true;
    case LH_T_DATE:
        lh__date_text(out, v->u.i);
        return true;
    case LH_T_TIME:
        lh__time_text(out, v->u.i);
        return true;
    case LH_T_TIMESTAMP:
        lh__timestamp_text(out, v->u.i, false);
        return true;
    case LH_T_TIMESTAMPTZ:
        lh__timestamp_text(out, v->u.i, true);
        return true;
    case LH_T_INTERVAL:
        lh__interval_text(out, &v->u.iv);
        return true;
    case LH_T_UUID:
        lh_uuid_format(&v->u.uuid, num);
        lh_buf_append(out, num, LH_UUID_STRLEN);
        return true;
    case LH_T_VECTOR:
        vector_text(out, v->u.vec.v, v->u.vec.n, false);
        return true;
    case LH_T_LIST:
    case LH_T_STRUCT:
    case LH_T_MAP:
    case LH_T_COUNT_:
        break;
    }
    return false;
}

lh_rc
lh_value_to_text(const lh_value *v, lh_buf *out)
{
    if (v->is_null) {
        return lh_buf_ok(out) ? LH_OK : LH_ENOMEM;
    }
    if (NEVER(!text_form(v, out))) {
        return LH_EINTERNAL;
    }
    return lh_buf_ok(out) ? LH_OK : LH_ENOMEM;
}

bool
lh__json_as_text(uint8_t id)
{
    switch (id) {
    case LH_T_DATE:
    case LH_T_TIME:
    case LH_T_TIMESTAMP:
    case LH_T_TIMESTAMPTZ:
    case LH_T_INTERVAL:
    case LH_T_UUID:
        return true;
    default:
        return false;
    }
}

lh_rc
lh_value_to_json(const lh_value *v, lh_buf *out)
{
    uint8_t id = v->type.id;
    char num[64];
    size_t len = 0;

    if (v->is_null || id == LH_T_NULL) {
        lh_buf_puts(out, "null");
    } else if (id == LH_T_VARCHAR) {
        /* an empty string may come as (NULL, 0) */
        lh_buf_json_string(out, v->u.s.p != NULL ? v->u.s.p : "", v->u.s.len);
    } else if (id == LH_T_BLOB) {
        /* "\\x00ff": the text form with its backslash escaped */
        lh_buf_putc(out, '"');
        lh_buf_putc(out, '\\');
        blob_text(out, v->u.s.p, v->u.s.len);
        lh_buf_putc(out, '"');
    } else if (lh__json_as_text(id)) {
        /* temporal and UUID text holds nothing JSON must escape */
        lh_buf_putc(out, '"');
        text_form(v, out);
        lh_buf_putc(out, '"');
    } else if (id == LH_T_REAL || id == LH_T_DOUBLE) {
        double d = id == LH_T_REAL ? (double)(float)v->u.d : v->u.d;
        len = id == LH_T_REAL ? lh_float_format((float)d, num)
                              : lh_double_format(d, num);
        if (isfinite(d)) {
            lh_buf_append(out, num, len);
        } else {
            lh_buf_json_string(out, num, len);
        }
    } else if (id == LH_T_JSON) {
        /* embedded as is; an empty text is not JSON, print null */
        if (v->u.s.len == 0) {
            lh_buf_puts(out, "null");
        } else {
            lh_buf_append(out, v->u.s.p, v->u.s.len);
        }
    } else if (id == LH_T_VECTOR) {
        vector_text(out, v->u.vec.v, v->u.vec.n, true);
    } else if (NEVER(!text_form(v, out))) {
        return LH_EINTERNAL;
    }
    return lh_buf_ok(out) ? LH_OK : LH_ENOMEM;
}
