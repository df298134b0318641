/*
 * Column vectors: widths, allocation, and reading one row back as a value
 * or as JSON (for result writers and tests; operators work on the arrays).
 */
#include "column/batch.h"

#include <stdlib.h>

int
lh_str_cmp(const lh_str *a, const lh_str *b)
{
    uint32_t n = a->len < b->len ? a->len : b->len;
    /* The prefixes decide most comparisons without touching the bytes. */
    int c = memcmp(a->prefix, b->prefix, n < 4 ? n : 4);
    if (c == 0 && n > 4) {
        c = memcmp(lh_str_data(a) + 4, lh_str_data(b) + 4, n - 4);
    }
    if (c != 0) {
        return c;
    }
    return a->len < b->len ? -1 : a->len > b->len;
}

size_t
lh_type_width(lh_type t)
{
    switch ((lh_type_id)t.id) {
    case LH_T_NULL:
    case LH_T_BOOLEAN:
        return 1;
    case LH_T_SMALLINT:
        return 2;
    case LH_T_INTEGER:
    case LH_T_DATE:
    case LH_T_REAL:
    case LH_T_LIST:
    case LH_T_MAP:
        return 4;
    case LH_T_BIGINT:
    case LH_T_TIME:
    case LH_T_TIMESTAMP:
    case LH_T_TIMESTAMPTZ:
    case LH_T_DOUBLE:
        return 8;
    case LH_T_DECIMAL:
        return t.precision <= 18 ? 8 : sizeof(lh_i128);
    case LH_T_VARCHAR:
    case LH_T_BLOB:
    case LH_T_JSON:
        return sizeof(lh_str);
    case LH_T_INTERVAL:
        return sizeof(lh_interval);
    case LH_T_UUID:
        return sizeof(lh_uuid);
    case LH_T_VECTOR:
        return (size_t)t.dim * sizeof(float);
    case LH_T_STRUCT:
    case LH_T_COUNT_:
        break;
    }
    return 0;
}

bool
lh_type_is_nested(lh_type t)
{
    return t.id == LH_T_LIST || t.id == LH_T_STRUCT || t.id == LH_T_MAP;
}

lh_rc
lh_vector_alloc(lh_vector *v, lh_type t, uint32_t rows, bool nullable,
                lh_arena *a, lh_err *err)
{
    memset(v, 0, sizeof *v);
    v->type = t;
    v->kind = LH_VEC_FLAT;
    size_t w = lh_type_width(t);
    size_t n = rows + (t.id == LH_T_LIST || t.id == LH_T_MAP ? 1u : 0u);
    if (w > 0) {
        /* Zeroed so that NULL rows and the padding of views hold defined
         * bytes (files we write must not depend on garbage). */
        v->data = lh_arena_calloc(a, w * (n ? n : 1));
        if (!v->data) {
            return lh_err_set(err, LH_ENOMEM,
                              "out of memory for a %zu-row "
                              "column vector",
                              (size_t)rows);
        }
    }
    if (nullable) {
        size_t words = (rows + 63) / 64;
        v->validity = lh_arena_alloc(a, (words ? words : 1) * 8);
        if (!v->validity) {
            return lh_err_set(err, LH_ENOMEM,
                              "out of memory for a validity "
                              "bitmap");
        }
        memset(v->validity, 0xff, (words ? words : 1) * 8);
    }
    return LH_OK;
}

/* The FLAT vector and row that hold row `row` of v. */
static const lh_vector *
resolve(const lh_vector *v, uint32_t *row)
{
    if (v->kind == LH_VEC_CONSTANT) {
        *row = 0;
    } else if (v->kind == LH_VEC_DICT) {
        *row = ((const uint32_t *)v->data)[*row];
        return v->dict;
    }
    return v;
}

static void
scalar_value(const lh_vector *f, uint32_t r, lh_value *out)
{
    const void *d = f->data;
    out->type = f->type;
    switch ((lh_type_id)f->type.id) {
    case LH_T_BOOLEAN:
        out->u.b = ((const uint8_t *)d)[r] != 0;
        break;
    case LH_T_SMALLINT:
        out->u.i = ((const int16_t *)d)[r];
        break;
    case LH_T_INTEGER:
    case LH_T_DATE:
        out->u.i = ((const int32_t *)d)[r];
        break;
    case LH_T_BIGINT:
    case LH_T_TIME:
    case LH_T_TIMESTAMP:
    case LH_T_TIMESTAMPTZ:
        out->u.i = ((const int64_t *)d)[r];
        break;
    case LH_T_REAL:
        out->u.d = ((const float *)d)[r];
        break;
    case LH_T_DOUBLE:
        out->u.d = ((const double *)d)[r];
        break;
    case LH_T_DECIMAL:
        if (f->type.precision <= 18) {
            out->u.dec = ((const int64_t *)d)[r];
        } else {
            memcpy(&out->u.dec, (const char *)d + (size_t)r * sizeof(lh_i128),
                   sizeof(lh_i128));
        }
        break;
    case LH_T_VARCHAR:
    case LH_T_BLOB:
    case LH_T_JSON: {
        const lh_str *s = &((const lh_str *)d)[r];
        out->u.s.p = lh_str_data(s);
        out->u.s.len = s->len;
        break;
    }
    case LH_T_INTERVAL:
        out->u.iv = ((const lh_interval *)d)[r];
        break;
    case LH_T_UUID:
        out->u.uuid = ((const lh_uuid *)d)[r];
        break;
    case LH_T_VECTOR:
        out->u.vec.v = (const float *)d + (size_t)r * f->type.dim;
        out->u.vec.n = f->type.dim;
        break;
    case LH_T_NULL:
    case LH_T_LIST:
    case LH_T_STRUCT:
    case LH_T_MAP:
    case LH_T_COUNT_:
        out->is_null = true;
        break;
    }
}

static lh_rc
json_at(const lh_vector *v, uint32_t row, lh_buf *out, int depth)
{
    if (depth > 64) {
        return LH_EINTERNAL; /* vectors nest as deep as schemas allow */
    }
    if (!lh_vec_valid(v, row)) {
        lh_buf_append(out, "null", 4);
        return out->oom ? LH_ENOMEM : LH_OK;
    }
    uint32_t r = row;
    const lh_vector *f = resolve(v, &r);
    lh_rc rc = LH_OK;
    if (f->type.id == LH_T_STRUCT) {
        lh_buf_append(out, "{", 1);
        for (uint32_t i = 0; i < f->nchildren && rc == LH_OK; i++) {
            if (i) {
                lh_buf_append(out, ",", 1);
            }
            const char *name = f->child_names ? f->child_names[i] : "";
            lh_buf_json_string(out, name, strlen(name));
            lh_buf_append(out, ":", 1);
            rc = json_at(f->children[i], r, out, depth + 1);
        }
        lh_buf_append(out, "}", 1);
    } else if (f->type.id == LH_T_LIST || f->type.id == LH_T_MAP) {
        const uint32_t *off = f->data;
        const lh_vector *el = f->children[0];
        bool as_object = false;
        if (f->type.id == LH_T_MAP && el->nchildren == 2) {
            as_object = el->children[0]->type.id == LH_T_VARCHAR;
        }
        lh_buf_append(out, as_object ? "{" : "[", 1);
        for (uint32_t i = off[r]; i < off[r + 1] && rc == LH_OK; i++) {
            if (i > off[r]) {
                lh_buf_append(out, ",", 1);
            }
            if (as_object) {
                const lh_vector *k = el->children[0];
                uint32_t kr = i;
                const lh_vector *kf = resolve(k, &kr);
                if (!lh_vec_valid(k, i)) {
                    lh_buf_append(out, "null", 4); /* not valid JSON keys */
                } else {
                    const lh_str *s = &((const lh_str *)kf->data)[kr];
                    lh_buf_json_string(out, lh_str_data(s), s->len);
                }
                lh_buf_append(out, ":", 1);
                rc = json_at(el->children[1], i, out, depth + 1);
            } else if (f->type.id == LH_T_MAP && el->nchildren == 2) {
                lh_buf_append(out, "{\"key\":", 7);
                rc = json_at(el->children[0], i, out, depth + 1);
                lh_buf_append(out, ",\"value\":", 9);
                if (rc == LH_OK) {
                    rc = json_at(el->children[1], i, out, depth + 1);
                }
                lh_buf_append(out, "}", 1);
            } else {
                rc = json_at(el, i, out, depth + 1);
            }
        }
        lh_buf_append(out, as_object ? "}" : "]", 1);
    } else {
        lh_value val;
        memset(&val, 0, sizeof val);
        scalar_value(f, r, &val);
        rc = lh_value_to_json(&val, out);
    }
    if (rc == LH_OK && out->oom) {
        rc = LH_ENOMEM;
    }
    return rc;
}

lh_rc
lh_vector_to_json(const lh_vector *v, uint32_t row, lh_buf *out)
{
    return json_at(v, row, out, 0);
}

lh_rc
lh_vector_value(const lh_vector *v, uint32_t row, lh_arena *a, lh_value *out,
                lh_err *err)
{
    memset(out, 0, sizeof *out);
    out->type = v->type;
    if (!lh_vec_valid(v, row)) {
        out->is_null = true;
        return LH_OK;
    }
    if (!lh_type_is_nested(v->type)) {
        /* resolve() moves r first: the argument order of a call is
         * unspecified, so not in one expression. */
        uint32_t r = row;
        const lh_vector *f = resolve(v, &r);
        scalar_value(f, r, out);
        return LH_OK;
    }
    lh_buf b;
    lh_buf_init(&b);
    lh_rc rc = json_at(v, row, &b, 0);
    if (rc != LH_OK) {
        lh_buf_release(&b);
        return lh_err_set(err, rc, "out of memory rendering a nested value");
    }
    char *p = lh_arena_memdup(a, b.data ? b.data : "", b.len);
    size_t len = b.len;
    lh_buf_release(&b);
    if (!p) {
        return lh_err_set(err, LH_ENOMEM,
                          "out of memory rendering a nested value");
    }
    out->type = (lh_type){.id = LH_T_JSON};
    out->u.s.p = p;
    out->u.s.len = len;
    return LH_OK;
}
