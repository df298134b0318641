/*
 * Partition transforms (spec "Partition Transforms"), the 32-bit hash of
 * Appendix B (Murmur3 x86_32, seed 0), partition specs and sort orders.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/iceberg/iceberg_int.h"

/* ---- Murmur3 x86_32
 * ---------------------------------------------------------- */

static uint32_t
rotl32(uint32_t x, int r)
{
    return (x << r) | (x >> (32 - r));
}

static uint32_t
mix_k(uint32_t k)
{
    k *= 0xcc9e2d51u;
    k = rotl32(k, 15);
    return k * 0x1b873593u;
}

int32_t
lh_ice_murmur3(const void *data, size_t n)
{
    const uint8_t *p = data;
    uint32_t h = 0;
    size_t blocks = n / 4;
    for (size_t i = 0; i < blocks; i++) {
        h ^= mix_k(lh_get_le32(p + 4 * i));
        h = rotl32(h, 13);
        h = h * 5 + 0xe6546b64u;
    }
    const uint8_t *tail = p + 4 * blocks;
    uint32_t k = 0;
    size_t rem = n & 3;
    if (rem == 3) {
        k ^= (uint32_t)tail[2] << 16;
    }
    if (rem >= 2) {
        k ^= (uint32_t)tail[1] << 8;
    }
    if (rem >= 1) {
        k ^= tail[0];
        h ^= mix_k(k);
    }
    h ^= (uint32_t)n;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return (int32_t)h;
}

static int32_t
hash_long(int64_t v)
{
    uint8_t b[8];
    lh_put_le32(b, (uint32_t)v);
    lh_put_le32(b + 4, (uint32_t)((uint64_t)v >> 32));
    return lh_ice_murmur3(b, 8);
}

static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

lh_rc
lh_ice_hash(const lh_ice_type *t, const lh_value *v, int32_t *out, lh_err *err)
{
    switch (t->id) {
    case LH_ICE_BOOLEAN:
        *out = hash_long(v->u.b ? 1 : 0);
        return LH_OK;
    case LH_ICE_INT:
    case LH_ICE_LONG:
    case LH_ICE_DATE:
    case LH_ICE_TIME:
    case LH_ICE_TIMESTAMP:
    case LH_ICE_TIMESTAMPTZ:
    case LH_ICE_TIMESTAMP_NS: /* held in µs already */
    case LH_ICE_TIMESTAMPTZ_NS:
        *out = hash_long(v->u.i);
        return LH_OK;
    case LH_ICE_FLOAT:
    case LH_ICE_DOUBLE: {
        double d = v->u.d;
        int64_t bits;
        if (isnan(d)) {
            bits = INT64_C(0x7ff8000000000000);
        } else {
            if (d == 0) {
                d = 0.0; /* -0 hashes as +0 */
            }
            memcpy(&bits, &d, 8);
        }
        *out = hash_long(bits);
        return LH_OK;
    }
    case LH_ICE_DECIMAL: {
        uint8_t b[16];
        size_t n = lh__ice_decimal_min_bytes(v->u.dec, b);
        *out = lh_ice_murmur3(b, n);
        return LH_OK;
    }
    case LH_ICE_STRING:
    case LH_ICE_FIXED:
    case LH_ICE_BINARY:
        *out = lh_ice_murmur3(v->u.s.p, v->u.s.len);
        return LH_OK;
    case LH_ICE_UUID:
        *out = lh_ice_murmur3(v->u.uuid.b, 16);
        return LH_OK;
    default: {
        char name[64];
        return lh_err_set(err, LH_EINVAL, "no hash for type %s",
                          lh_ice_type_name(t, name, sizeof(name)));
    }
    }
}

/* ---- transforms
 * ------------------------------------------------------------------ */

static bool
parse_param(const char *text, const char *name, int32_t *out)
{
    size_t n = strlen(name);
    if (strncmp(text, name, n) != 0 || text[n] != '[') {
        return false;
    }
    const char *p = text + n + 1;
    int64_t v = 0;
    if (*p < '0' || *p > '9') {
        return false;
    }
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p - '0');
        if (v > INT32_MAX) {
            return false;
        }
        p++;
    }
    if (*p != ']' || p[1] != 0 || v < 1) {
        return false;
    }
    *out = (int32_t)v;
    return true;
}

void
lh_ice_transform_parse(const char *text, lh_ice_transform *out)
{
    static const struct {
        const char *name;
        uint8_t kind;
    } plain[] = {
        {"identity", LH_ICE_TR_IDENTITY}, {"year", LH_ICE_TR_YEAR},
        {"month", LH_ICE_TR_MONTH},       {"day", LH_ICE_TR_DAY},
        {"hour", LH_ICE_TR_HOUR},         {"void", LH_ICE_TR_VOID},
    };
    memset(out, 0, sizeof(*out));
    out->text = text;
    out->kind = LH_ICE_TR_UNKNOWN;
    for (size_t i = 0; i < LH_ARRAY_LEN(plain); i++) {
        if (strcmp(text, plain[i].name) == 0) {
            out->kind = plain[i].kind;
            return;
        }
    }
    if (parse_param(text, "bucket", &out->param)) {
        out->kind = LH_ICE_TR_BUCKET;
    } else if (parse_param(text, "truncate", &out->param)) {
        out->kind = LH_ICE_TR_TRUNCATE;
    }
}

static bool
is_time_source(uint8_t id, bool hour)
{
    return (!hour && id == LH_ICE_DATE) || id == LH_ICE_TIMESTAMP ||
           id == LH_ICE_TIMESTAMPTZ || id == LH_ICE_TIMESTAMP_NS ||
           id == LH_ICE_TIMESTAMPTZ_NS;
}

bool
lh_ice_transform_result(const lh_ice_transform *tr, const lh_ice_type *src,
                        lh_ice_type *out)
{
    memset(out, 0, sizeof(*out));
    uint8_t id = src->id;
    switch (tr->kind) {
    case LH_ICE_TR_IDENTITY:
        if (!lh_ice_type_is_primitive(src) || id == LH_ICE_GEOMETRY ||
            id == LH_ICE_GEOGRAPHY) {
            return false;
        }
        *out = *src;
        return true;
    case LH_ICE_TR_VOID:
        *out = *src;
        return true;
    case LH_ICE_TR_BUCKET:
        if (id == LH_ICE_BOOLEAN || id == LH_ICE_FLOAT || id == LH_ICE_DOUBLE ||
            !lh_ice_type_is_primitive(src) || id == LH_ICE_UNKNOWN ||
            id == LH_ICE_GEOMETRY || id == LH_ICE_GEOGRAPHY) {
            return false;
        }
        out->id = LH_ICE_INT;
        return true;
    case LH_ICE_TR_TRUNCATE:
        if (id != LH_ICE_INT && id != LH_ICE_LONG && id != LH_ICE_DECIMAL &&
            id != LH_ICE_STRING && id != LH_ICE_BINARY) {
            return false;
        }
        *out = *src;
        return true;
    case LH_ICE_TR_YEAR:
    case LH_ICE_TR_MONTH:
    case LH_ICE_TR_HOUR:
        if (!is_time_source(id, tr->kind == LH_ICE_TR_HOUR)) {
            return false;
        }
        out->id = LH_ICE_INT;
        return true;
    case LH_ICE_TR_DAY:
        if (!is_time_source(id, false)) {
            return false;
        }
        out->id = LH_ICE_DATE;
        return true;
    default:
        return false;
    }
}

/* Days since the epoch of a date or µs timestamp value. */
static int64_t
days_of(const lh_ice_type *src, const lh_value *v)
{
    if (src->id == LH_ICE_DATE) {
        return v->u.i;
    }
    return floor_div(v->u.i, LH_US_PER_DAY);
}

/* The byte length of at most `chars` UTF-8 code points of s[0..n). */
static size_t
utf8_prefix(const char *s, size_t n, int32_t chars)
{
    size_t i = 0;
    int32_t c = 0;
    while (i < n && c < chars) {
        i++;
        while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80) {
            i++;
        }
        c++;
    }
    return i;
}

lh_rc
lh_ice_transform_apply(const lh_ice_transform *tr, const lh_ice_type *src,
                       const lh_value *v, lh_value *out, lh_err *err)
{
    lh_ice_type rt;
    if (!lh_ice_transform_result(tr, src, &rt)) {
        char name[64];
        if (tr->kind == LH_ICE_TR_UNKNOWN) {
            return lh_err_set(err, LH_EUNSUPPORTED,
                              "unsupported: partition transform \"%.60s\"",
                              tr->text ? tr->text : "?");
        }
        return lh_err_set(err, LH_EINVAL,
                          "transform \"%.60s\" does not apply to type %s",
                          tr->text ? tr->text : "?",
                          lh_ice_type_name(src, name, sizeof(name)));
    }
    memset(out, 0, sizeof(*out));
    out->type = lh_ice_type_to_lh(&rt);
    if (v->is_null || tr->kind == LH_ICE_TR_VOID) {
        out->is_null = true;
        return LH_OK;
    }
    switch (tr->kind) {
    case LH_ICE_TR_IDENTITY:
        *out = *v;
        return LH_OK;
    case LH_ICE_TR_BUCKET: {
        int32_t h;
        lh_rc rc = lh_ice_hash(src, v, &h, err);
        if (rc != LH_OK) {
            return rc;
        }
        out->u.i = (int32_t)(((uint32_t)h & 0x7fffffffu) % (uint32_t)tr->param);
        return LH_OK;
    }
    case LH_ICE_TR_TRUNCATE: {
        int64_t w = tr->param;
        *out = *v;
        if (src->id == LH_ICE_INT || src->id == LH_ICE_LONG) {
            /* v - (((v % W) + W) % W), in a wider type so that the
             * smallest values do not overflow. */
            __int128 x = v->u.i;
            __int128 r = ((x % w) + w) % w;
            __int128 t = x - r;
            if (src->id == LH_ICE_INT && t < INT32_MIN) {
                return lh_err_set(err, LH_EINVAL,
                                  "truncate[%d] of %lld is out of range for "
                                  "int",
                                  tr->param, (long long)v->u.i);
            }
            if (t < INT64_MIN) {
                return lh_err_set(err, LH_EINVAL,
                                  "truncate[%d] of %lld is out of range for "
                                  "long",
                                  tr->param, (long long)v->u.i);
            }
            out->u.i = (int64_t)t;
        } else if (src->id == LH_ICE_DECIMAL) {
            lh_i128 x = v->u.dec;
            lh_i128 r = ((x % w) + w) % w;
            out->u.dec = x - r;
        } else if (src->id == LH_ICE_STRING) {
            out->u.s.len = utf8_prefix(v->u.s.p, v->u.s.len, tr->param);
        } else {
            out->u.s.len = LH_MIN(v->u.s.len, (size_t)tr->param);
        }
        return LH_OK;
    }
    case LH_ICE_TR_YEAR:
    case LH_ICE_TR_MONTH: {
        int64_t y;
        unsigned m, d;
        lh_civil_from_days(days_of(src, v), &y, &m, &d);
        out->u.i = tr->kind == LH_ICE_TR_YEAR
                       ? y - 1970
                       : (y - 1970) * 12 + (int64_t)(m - 1);
        return LH_OK;
    }
    case LH_ICE_TR_DAY:
        out->u.i = days_of(src, v);
        return LH_OK;
    case LH_ICE_TR_HOUR:
        out->u.i = floor_div(v->u.i, INT64_C(3600) * LH_US_PER_SEC);
        return LH_OK;
    default:
        return lh_err_set(err, LH_EINTERNAL, "transform kind %d", tr->kind);
    }
}

/* ---- partition specs and sort orders ---------------------------------------
 */

static lh_rc
source_ids(const json_t *fj, lh_arena *a, int32_t *first, int32_t **ids,
           uint32_t *n, const char *where, lh_err *err)
{
    bool has_one = false;
    const json_t *many;
    lh_rc rc =
        lh__ice_j_i32(fj, "source-id", false, first, &has_one, where, err);
    if (rc == LH_OK) {
        rc = lh__ice_j_array(fj, "source-ids", false, &many, where, err);
    }
    if (rc != LH_OK) {
        return rc;
    }
    if (many != NULL) {
        rc = lh__ice_j_int_list(many, a, ids, n, where, err);
        if (rc != LH_OK) {
            return rc;
        }
        if (*n == 0) {
            return lh_err_set(err, LH_EFORMAT, "%s: empty \"source-ids\"",
                              where);
        }
        if (!has_one) {
            *first = (*ids)[0];
        }
        return LH_OK;
    }
    if (!has_one) {
        return lh_err_set(err, LH_EFORMAT, "%s: missing \"source-id\"", where);
    }
    *ids = lh_arena_alloc(a, sizeof(int32_t));
    if (*ids == NULL) {
        return lh_err_set(err, LH_ENOMEM, "%s: out of memory", where);
    }
    (*ids)[0] = *first;
    *n = 1;
    return LH_OK;
}

lh_rc
lh__ice_spec_from_json(const json_t *j, lh_arena *a, bool fields_only,
                       int32_t spec_id, int32_t *next_field_id,
                       const char *where, lh_ice_partition_spec *out,
                       lh_err *err)
{
    memset(out, 0, sizeof(*out));
    const json_t *fields = j;
    out->spec_id = spec_id;
    if (!fields_only) {
        if (!json_is_object(j)) {
            return lh_err_set(err, LH_EFORMAT,
                              "%s: a partition spec must be an object", where);
        }
        lh_rc rc =
            lh__ice_j_i32(j, "spec-id", true, &out->spec_id, NULL, where, err);
        if (rc == LH_OK) {
            rc = lh__ice_j_array(j, "fields", true, &fields, where, err);
        }
        if (rc != LH_OK) {
            return rc;
        }
    } else if (!json_is_array(j)) {
        return lh_err_set(err, LH_EFORMAT,
                          "%s: partition fields must be an array", where);
    }
    size_t n = json_array_size(fields);
    out->fields = lh__ice_alloc_array(a, n, sizeof(lh_ice_partition_field));
    if (out->fields == NULL) {
        return lh_err_set(err, LH_ENOMEM, "%s: out of memory", where);
    }
    out->nfields = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        char sub[256];
        snprintf(sub, sizeof(sub), "%.200s.fields[%zu]", where, i);
        const json_t *fj = json_array_get(fields, i);
        lh_ice_partition_field *f = &out->fields[i];
        if (!json_is_object(fj)) {
            return lh_err_set(err, LH_EFORMAT,
                              "%s: a partition field must be an object", sub);
        }
        const char *tr;
        bool has_fid = false;
        lh_rc rc = source_ids(fj, a, &f->source_id, &f->source_ids,
                              &f->nsource_ids, sub, err);
        if (rc == LH_OK) {
            rc = lh__ice_j_i32(fj, "field-id", next_field_id == NULL,
                               &f->field_id, &has_fid, sub, err);
        }
        if (rc == LH_OK) {
            rc = lh__ice_j_str(fj, "name", true, a, &f->name, sub, err);
        }
        if (rc == LH_OK) {
            rc = lh__ice_j_str(fj, "transform", true, a, &tr, sub, err);
        }
        if (rc != LH_OK) {
            return rc;
        }
        if (!has_fid) {
            f->field_id = (*next_field_id)++; /* v1: 1000, 1001, ... */
        } else if (next_field_id != NULL && f->field_id >= *next_field_id) {
            *next_field_id = f->field_id + 1;
        }
        lh_ice_transform_parse(tr, &f->transform);
        for (size_t k = 0; k < i; k++) {
            if (out->fields[k].field_id == f->field_id) {
                return lh_err_set(err, LH_EFORMAT,
                                  "%s: partition field id %d is used twice",
                                  sub, f->field_id);
            }
            if (strcmp(out->fields[k].name, f->name) == 0) {
                return lh_err_set(err, LH_EFORMAT,
                                  "%s: two partition fields named \"%.60s\"",
                                  sub, f->name);
            }
        }
    }
    return LH_OK;
}

lh_rc
lh__ice_spec_to_json(const lh_ice_partition_spec *s, bool fields_only,
                     lh_buf *out)
{
    if (!fields_only) {
        lh_buf_printf(out, "{\"spec-id\":%d,\"fields\":", s->spec_id);
    }
    lh_buf_putc(out, '[');
    for (uint32_t i = 0; i < s->nfields; i++) {
        const lh_ice_partition_field *f = &s->fields[i];
        lh_buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
        lh_buf_json_string(out, f->name, strlen(f->name));
        lh_buf_puts(out, ",\"transform\":");
        lh_buf_json_string(out, f->transform.text, strlen(f->transform.text));
        if (f->nsource_ids > 1) {
            lh_buf_puts(out, ",\"source-ids\":[");
            for (uint32_t k = 0; k < f->nsource_ids; k++) {
                lh_buf_printf(out, "%s%d", k ? "," : "", f->source_ids[k]);
            }
            lh_buf_putc(out, ']');
        } else {
            lh_buf_printf(out, ",\"source-id\":%d", f->source_id);
        }
        lh_buf_printf(out, ",\"field-id\":%d}", f->field_id);
    }
    lh_buf_putc(out, ']');
    if (!fields_only) {
        lh_buf_putc(out, '}');
    }
    return lh_buf_ok(out) ? LH_OK : LH_ENOMEM;
}

lh_rc
lh_ice_spec_partition_type(const lh_ice_partition_spec *spec,
                           const lh_ice_schema *schema, lh_arena *a,
                           lh_ice_type *out, lh_err *err)
{
    memset(out, 0, sizeof(*out));
    out->id = LH_ICE_STRUCT;
    out->fields = lh__ice_alloc_array(a, spec->nfields, sizeof(lh_ice_field));
    if (out->fields == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    out->nfields = spec->nfields;
    for (uint32_t i = 0; i < spec->nfields; i++) {
        const lh_ice_partition_field *pf = &spec->fields[i];
        lh_ice_field *f = &out->fields[i];
        f->id = pf->field_id;
        f->name = pf->name;
        f->required = false;
        const lh_ice_field *src = lh_ice_schema_find(schema, pf->source_id);
        if (src == NULL || pf->nsource_ids != 1 ||
            !lh_ice_transform_result(&pf->transform, &src->type, &f->type)) {
            f->type.id = LH_ICE_BINARY; /* ignored by filtering */
        }
    }
    return LH_OK;
}

lh_rc
lh__ice_sort_order_from_json(const json_t *j, lh_arena *a, const char *where,
                             lh_ice_sort_order *out, lh_err *err)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(j)) {
        return lh_err_set(err, LH_EFORMAT, "%s: a sort order must be an object",
                          where);
    }
    const json_t *fields;
    lh_rc rc =
        lh__ice_j_i32(j, "order-id", true, &out->order_id, NULL, where, err);
    if (rc == LH_OK) {
        rc = lh__ice_j_array(j, "fields", true, &fields, where, err);
    }
    if (rc != LH_OK) {
        return rc;
    }
    size_t n = json_array_size(fields);
    out->fields = lh__ice_alloc_array(a, n, sizeof(lh_ice_sort_field));
    if (out->fields == NULL) {
        return lh_err_set(err, LH_ENOMEM, "%s: out of memory", where);
    }
    out->nfields = (uint32_t)n;
    if (out->order_id == 0 && n != 0) {
        return lh_err_set(err, LH_EFORMAT,
                          "%s: sort order 0 is reserved for unsorted and "
                          "must have no fields",
                          where);
    }
    for (size_t i = 0; i < n; i++) {
        char sub[256];
        snprintf(sub, sizeof(sub), "%.200s.fields[%zu]", where, i);
        const json_t *fj = json_array_get(fields, i);
        lh_ice_sort_field *f = &out->fields[i];
        if (!json_is_object(fj)) {
            return lh_err_set(err, LH_EFORMAT,
                              "%s: a sort field must be an object", sub);
        }
        const char *tr, *dir, *nulls;
        rc = source_ids(fj, a, &f->source_id, &f->source_ids, &f->nsource_ids,
                        sub, err);
        if (rc == LH_OK) {
            rc = lh__ice_j_str(fj, "transform", true, a, &tr, sub, err);
        }
        if (rc == LH_OK) {
            rc = lh__ice_j_str(fj, "direction", true, a, &dir, sub, err);
        }
        if (rc == LH_OK) {
            rc = lh__ice_j_str(fj, "null-order", true, a, &nulls, sub, err);
        }
        if (rc != LH_OK) {
            return rc;
        }
        lh_ice_transform_parse(tr, &f->transform);
        if (strcmp(dir, "asc") != 0 && strcmp(dir, "desc") != 0) {
            return lh_err_set(err, LH_EFORMAT,
                              "%s: \"direction\" must be \"asc\" or \"desc\", "
                              "found \"%.40s\"",
                              sub, dir);
        }
        if (strcmp(nulls, "nulls-first") != 0 &&
            strcmp(nulls, "nulls-last") != 0) {
            return lh_err_set(err, LH_EFORMAT,
                              "%s: \"null-order\" must be \"nulls-first\" or "
                              "\"nulls-last\", found \"%.40s\"",
                              sub, nulls);
        }
        f->descending = strcmp(dir, "desc") == 0;
        f->nulls_first = strcmp(nulls, "nulls-first") == 0;
    }
    return LH_OK;
}
