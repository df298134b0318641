/*
 * Iceberg types and schemas: the JSON of Appendix C both ways, field ids,
 * defaults, and the lakehouse type each Iceberg type reads as.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "format/iceberg/iceberg_int.h"

#define MAX_DEPTH 64

static const char *const prim_names[LH_ICE_TYPE_COUNT_] = {
    [LH_ICE_UNKNOWN] = "unknown",
    [LH_ICE_BOOLEAN] = "boolean",
    [LH_ICE_INT] = "int",
    [LH_ICE_LONG] = "long",
    [LH_ICE_FLOAT] = "float",
    [LH_ICE_DOUBLE] = "double",
    [LH_ICE_DECIMAL] = "decimal",
    [LH_ICE_DATE] = "date",
    [LH_ICE_TIME] = "time",
    [LH_ICE_TIMESTAMP] = "timestamp",
    [LH_ICE_TIMESTAMPTZ] = "timestamptz",
    [LH_ICE_TIMESTAMP_NS] = "timestamp_ns",
    [LH_ICE_TIMESTAMPTZ_NS] = "timestamptz_ns",
    [LH_ICE_STRING] = "string",
    [LH_ICE_UUID] = "uuid",
    [LH_ICE_FIXED] = "fixed",
    [LH_ICE_BINARY] = "binary",
    [LH_ICE_VARIANT] = "variant",
    [LH_ICE_GEOMETRY] = "geometry",
    [LH_ICE_GEOGRAPHY] = "geography",
    [LH_ICE_STRUCT] = "struct",
    [LH_ICE_LIST] = "list",
    [LH_ICE_MAP] = "map",
};

const char *
lh_ice_type_name(const lh_ice_type *t, char *buf, size_t n)
{
    switch (t->id) {
    case LH_ICE_DECIMAL:
        snprintf(buf, n, "decimal(%u,%u)", t->precision, t->scale);
        break;
    case LH_ICE_FIXED:
        snprintf(buf, n, "fixed[%u]", t->length);
        break;
    case LH_ICE_GEOMETRY:
        if (t->crs != NULL) {
            snprintf(buf, n, "geometry(%s)", t->crs);
        } else {
            snprintf(buf, n, "geometry");
        }
        break;
    case LH_ICE_GEOGRAPHY:
        if (t->algorithm != NULL) {
            snprintf(buf, n, "geography(%s, %s)", t->crs ? t->crs : "OGC:CRS84",
                     t->algorithm);
        } else if (t->crs != NULL) {
            snprintf(buf, n, "geography(%s)", t->crs);
        } else {
            snprintf(buf, n, "geography");
        }
        break;
    default:
        snprintf(buf, n, "%s",
                 t->id < LH_ICE_TYPE_COUNT_ ? prim_names[t->id] : "?");
    }
    return buf;
}

bool
lh_ice_type_is_primitive(const lh_ice_type *t)
{
    return t->id != LH_ICE_STRUCT && t->id != LH_ICE_LIST &&
           t->id != LH_ICE_MAP && t->id != LH_ICE_VARIANT;
}

lh_type
lh_ice_type_to_lh(const lh_ice_type *t)
{
    lh_type r;
    memset(&r, 0, sizeof(r));
    switch (t->id) {
    case LH_ICE_BOOLEAN:
        r.id = LH_T_BOOLEAN;
        break;
    case LH_ICE_INT:
        r.id = LH_T_INTEGER;
        break;
    case LH_ICE_LONG:
        r.id = LH_T_BIGINT;
        break;
    case LH_ICE_FLOAT:
        r.id = LH_T_REAL;
        break;
    case LH_ICE_DOUBLE:
        r.id = LH_T_DOUBLE;
        break;
    case LH_ICE_DECIMAL:
        r.id = LH_T_DECIMAL;
        r.precision = t->precision;
        r.scale = t->scale;
        break;
    case LH_ICE_DATE:
        r.id = LH_T_DATE;
        break;
    case LH_ICE_TIME:
        r.id = LH_T_TIME;
        break;
    case LH_ICE_TIMESTAMP:
    case LH_ICE_TIMESTAMP_NS:
        r.id = LH_T_TIMESTAMP;
        break;
    case LH_ICE_TIMESTAMPTZ:
    case LH_ICE_TIMESTAMPTZ_NS:
        r.id = LH_T_TIMESTAMPTZ;
        break;
    case LH_ICE_STRING:
        r.id = LH_T_VARCHAR;
        break;
    case LH_ICE_UUID:
        r.id = LH_T_UUID;
        break;
    case LH_ICE_FIXED:
    case LH_ICE_BINARY:
    case LH_ICE_VARIANT:
    case LH_ICE_GEOMETRY:
    case LH_ICE_GEOGRAPHY:
        r.id = LH_T_BLOB;
        break;
    case LH_ICE_STRUCT:
        r.id = LH_T_STRUCT;
        break;
    case LH_ICE_LIST:
        r.id = LH_T_LIST;
        break;
    case LH_ICE_MAP:
        r.id = LH_T_MAP;
        break;
    default:
        r.id = LH_T_NULL;
    }
    return r;
}

static const lh_ice_field *
find_in(const lh_ice_type *t, int32_t id, int depth)
{
    if (depth > MAX_DEPTH) {
        return NULL;
    }
    for (uint32_t i = 0; i < t->nfields; i++) {
        if (t->fields[i].id == id) {
            return &t->fields[i];
        }
        const lh_ice_field *f = find_in(&t->fields[i].type, id, depth + 1);
        if (f != NULL) {
            return f;
        }
    }
    return NULL;
}

const lh_ice_field *
lh_ice_schema_find(const lh_ice_schema *s, int32_t id)
{
    return find_in(&s->type, id, 0);
}

const lh_ice_field *
lh_ice_schema_find_name(const lh_ice_schema *s, const char *name)
{
    for (uint32_t i = 0; i < s->type.nfields; i++) {
        if (strcmp(s->type.fields[i].name, name) == 0) {
            return &s->type.fields[i];
        }
    }
    for (uint32_t i = 0; i < s->type.nfields; i++) {
        if (strcasecmp(s->type.fields[i].name, name) == 0) {
            return &s->type.fields[i];
        }
    }
    return NULL;
}

/* ---- parsing ---------------------------------------------------------------
 */

static lh_rc
ids_add(lh__ice_ids *ids, int32_t id, const char *where, lh_err *err)
{
    if (id < 0 || id > LH_ICE_FIELD_ID_MAX) {
        return lh_err_set(err, LH_EFORMAT,
                          "%s: field id %d is out of range 0..%d", where, id,
                          LH_ICE_FIELD_ID_MAX);
    }
    if (ids->n == ids->cap) {
        size_t cap = ids->cap ? ids->cap * 2 : 32;
        int32_t *n = lh_realloc(ids->ids, cap * sizeof(*n));
        if (n == NULL) {
            return lh_err_set(err, LH_ENOMEM, "%s: out of memory", where);
        }
        ids->ids = n;
        ids->cap = cap;
    }
    ids->ids[ids->n++] = id;
    if (id > ids->highest) {
        ids->highest = id;
    }
    return LH_OK;
}

/* Skips spaces; returns the position after them. */
static const char *
ws(const char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    return s;
}

static bool
parse_uint(const char **s, uint32_t max, uint32_t *out)
{
    const char *p = ws(*s);
    uint64_t v = 0;
    if (!isdigit((unsigned char)*p)) {
        return false;
    }
    while (isdigit((unsigned char)*p)) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > max) {
            return false;
        }
        p++;
    }
    *s = ws(p);
    *out = (uint32_t)v;
    return true;
}

/* The parameters of "geometry(C)" / "geography(C, A)": C may hold any
 * character but ',' and ')'. */
static lh_rc
parse_geo(const char *s, lh_arena *a, lh_ice_type *t, const char *where,
          lh_err *err)
{
    const char *p = ws(s);
    if (*p == 0) {
        return LH_OK;
    }
    if (*p != '(') {
        goto bad;
    }
    p = ws(p + 1);
    const char *c = p;
    while (*p && *p != ',' && *p != ')') {
        p++;
    }
    const char *ce = p;
    while (ce > c && (ce[-1] == ' ' || ce[-1] == '\t')) {
        ce--;
    }
    if (ce == c) {
        goto bad;
    }
    t->crs = lh_arena_strndup(a, c, (size_t)(ce - c));
    if (*p == ',') {
        if (t->id != LH_ICE_GEOGRAPHY) {
            goto bad;
        }
        p = ws(p + 1);
        const char *al = p;
        while (*p && *p != ')') {
            p++;
        }
        const char *ae = p;
        while (ae > al && (ae[-1] == ' ' || ae[-1] == '\t')) {
            ae--;
        }
        if (ae == al) {
            goto bad;
        }
        t->algorithm = lh_arena_strndup(a, al, (size_t)(ae - al));
        if (t->algorithm == NULL) {
            return lh_err_set(err, LH_ENOMEM, "%s: out of memory", where);
        }
        static const char *const algos[] = {"spherical", "vincenty", "thomas",
                                            "andoyer", "karney"};
        bool known = false;
        for (size_t i = 0; i < LH_ARRAY_LEN(algos); i++) {
            known = known || strcmp(t->algorithm, algos[i]) == 0;
        }
        if (!known) {
            return lh_err_set(err, LH_EFORMAT,
                              "%s: unknown edge-interpolation algorithm "
                              "\"%.60s\"",
                              where, t->algorithm);
        }
    }
    if (*p != ')' || *ws(p + 1) != 0) {
        goto bad;
    }
    if (t->crs == NULL) {
        return lh_err_set(err, LH_ENOMEM, "%s: out of memory", where);
    }
    return LH_OK;
bad:
    return lh_err_set(err, LH_EFORMAT, "%s: malformed type \"%.80s%s\"", where,
                      prim_names[t->id], s);
}

static lh_rc
parse_prim(const char *s, lh_arena *a, const char *where, lh_ice_type *t,
           lh_err *err)
{
    memset(t, 0, sizeof(*t));
    for (int id = 0; id < LH_ICE_TYPE_COUNT_; id++) {
        if (id == LH_ICE_DECIMAL || id == LH_ICE_FIXED || id == LH_ICE_STRUCT ||
            id == LH_ICE_LIST || id == LH_ICE_MAP) {
            continue;
        }
        if (strcmp(s, prim_names[id]) == 0) {
            t->id = (uint8_t)id;
            return LH_OK;
        }
    }
    if (strncmp(s, "fixed", 5) == 0) {
        const char *p = ws(s + 5);
        uint32_t len;
        if (*p == '[') {
            p++;
            if (parse_uint(&p, INT32_MAX, &len) && *p == ']' &&
                *ws(p + 1) == 0 && len >= 1) {
                t->id = LH_ICE_FIXED;
                t->length = len;
                return LH_OK;
            }
        }
    }
    if (strncmp(s, "decimal", 7) == 0) {
        const char *p = ws(s + 7);
        uint32_t prec, scale;
        if (*p == '(') {
            p++;
            if (parse_uint(&p, 1000, &prec) && *p == ',') {
                p++;
                if (parse_uint(&p, 1000, &scale) && *p == ')' &&
                    *ws(p + 1) == 0) {
                    if (prec < 1 || prec > 38 || scale > prec) {
                        return lh_err_set(
                            err, LH_EFORMAT,
                            "%s: decimal(%u,%u): precision must be 1..38 "
                            "and scale 0..precision",
                            where, prec, scale);
                    }
                    t->id = LH_ICE_DECIMAL;
                    t->precision = (uint8_t)prec;
                    t->scale = (uint8_t)scale;
                    return LH_OK;
                }
            }
        }
    }
    if (strncmp(s, "geometry", 8) == 0) {
        t->id = LH_ICE_GEOMETRY;
        return parse_geo(s + 8, a, t, where, err);
    }
    if (strncmp(s, "geography", 9) == 0) {
        t->id = LH_ICE_GEOGRAPHY;
        return parse_geo(s + 9, a, t, where, err);
    }
    return lh_err_set(err, LH_EFORMAT, "%s: unknown type \"%.80s\"", where, s);
}

static lh_rc parse_type(const json_t *j, lh_arena *a, lh__ice_ids *ids,
                        const char *where, int depth, lh_ice_type *out,
                        lh_err *err);

/* Reads a default (initial-default or write-default) of field f. */
static lh_rc
parse_default(const json_t *fj, const char *key, lh_arena *a, lh_ice_field *f,
              lh_ice_default *d, const char *where, lh_err *err)
{
    const json_t *v = json_object_get(fj, key);
    memset(d, 0, sizeof(*d));
    if (v == NULL) {
        return LH_OK;
    }
    d->set = true;
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL) {
        return lh_err_set(err, LH_ENOMEM, "%s: out of memory", where);
    }
    d->json = lh_arena_strdup(a, text);
    free(text);
    if (d->json == NULL) {
        return lh_err_set(err, LH_ENOMEM, "%s: out of memory", where);
    }
    d->v.type = lh_ice_type_to_lh(&f->type);
    if (json_is_null(v)) {
        d->v.is_null = true;
        return LH_OK;
    }
    uint8_t id = f->type.id;
    if (id == LH_ICE_UNKNOWN || id == LH_ICE_VARIANT || id == LH_ICE_GEOMETRY ||
        id == LH_ICE_GEOGRAPHY) {
        return lh_err_set(err, LH_EFORMAT,
                          "%s: \"%s\" of a %s field must be null", where, key,
                          prim_names[id]);
    }
    if (id == LH_ICE_STRUCT) {
        /* A nested struct's default is null or {} (its fields carry their
         * own defaults). */
        if (!json_is_object(v) || json_object_size(v) != 0) {
            return lh_err_set(err, LH_EFORMAT,
                              "%s: \"%s\" of a struct must be null or {}",
                              where, key);
        }
        d->v.is_null = false;
        return LH_OK;
    }
    if (id == LH_ICE_LIST || id == LH_ICE_MAP) {
        if ((id == LH_ICE_LIST && !json_is_array(v)) ||
            (id == LH_ICE_MAP && !json_is_object(v))) {
            return lh_err_set(err, LH_EFORMAT, "%s: malformed \"%s\"", where,
                              key);
        }
        return LH_OK;
    }
    lh_err e2;
    lh_rc rc = lh_ice_value_from_json(&f->type, v, a, &d->v, &e2);
    if (rc != LH_OK) {
        return lh_err_set(err, rc == LH_ENOMEM ? LH_ENOMEM : LH_EFORMAT,
                          "%s: \"%s\": %s", where, key, e2.msg);
    }
    return LH_OK;
}

static lh_rc
parse_field(const json_t *fj, lh_arena *a, lh__ice_ids *ids, const char *where,
            int depth, lh_ice_field *f, lh_err *err)
{
    if (!json_is_object(fj)) {
        return lh_err_set(err, LH_EFORMAT, "%s: a field must be an object",
                          where);
    }
    lh_rc rc = lh__ice_j_i32(fj, "id", true, &f->id, NULL, where, err);
    if (rc == LH_OK) {
        rc = lh__ice_j_str(fj, "name", true, a, &f->name, where, err);
    }
    if (rc == LH_OK) {
        rc = lh__ice_j_bool(fj, "required", true, &f->required, NULL, where,
                            err);
    }
    if (rc == LH_OK) {
        rc = lh__ice_j_str(fj, "doc", false, a, &f->doc, where, err);
    }
    if (rc != LH_OK) {
        return rc;
    }
    char sub[256];
    snprintf(sub, sizeof(sub), "%.160s.\"%.60s\"", where, f->name);
    rc = ids_add(ids, f->id, sub, err);
    if (rc != LH_OK) {
        return rc;
    }
    const json_t *tj = json_object_get(fj, "type");
    if (tj == NULL) {
        return lh_err_set(err, LH_EFORMAT, "%s: missing \"type\"", sub);
    }
    rc = parse_type(tj, a, ids, sub, depth + 1, &f->type, err);
    if (rc == LH_OK) {
        rc = parse_default(fj, "initial-default", a, f, &f->initial_default,
                           sub, err);
    }
    if (rc == LH_OK) {
        rc = parse_default(fj, "write-default", a, f, &f->write_default, sub,
                           err);
    }
    return rc;
}

/* An element, key or value of a list or map: one synthetic field. */
static lh_rc
parse_part(const json_t *o, const char *id_key, const char *type_key,
           const char *req_key, bool always_required, const char *name,
           lh_arena *a, lh__ice_ids *ids, const char *where, int depth,
           lh_ice_field *f, lh_err *err)
{
    memset(f, 0, sizeof(*f));
    f->name = name;
    lh_rc rc = lh__ice_j_i32(o, id_key, true, &f->id, NULL, where, err);
    if (rc != LH_OK) {
        return rc;
    }
    if (always_required) {
        f->required = true;
    } else {
        rc = lh__ice_j_bool(o, req_key, true, &f->required, NULL, where, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    char sub[256];
    snprintf(sub, sizeof(sub), "%.180s.%s", where, name);
    rc = ids_add(ids, f->id, sub, err);
    if (rc != LH_OK) {
        return rc;
    }
    const json_t *tj = json_object_get(o, type_key);
    if (tj == NULL) {
        return lh_err_set(err, LH_EFORMAT, "%s: missing \"%s\"", where,
                          type_key);
    }
    return parse_type(tj, a, ids, sub, depth + 1, &f->type, err);
}

static lh_rc
parse_type(const json_t *j, lh_arena *a, lh__ice_ids *ids, const char *where,
           int depth, lh_ice_type *out, lh_err *err)
{
    memset(out, 0, sizeof(*out));
    if (depth > MAX_DEPTH) {
        return lh_err_set(err, LH_ELIMIT, "%s: types nested past %d levels",
                          where, MAX_DEPTH);
    }
    if (json_is_string(j)) {
        return parse_prim(json_string_value(j), a, where, out, err);
    }
    if (!json_is_object(j)) {
        return lh_err_set(err, LH_EFORMAT,
                          "%s: a type must be a string or an object", where);
    }
    const char *kind = json_string_value(json_object_get(j, "type"));
    if (kind == NULL) {
        return lh_err_set(err, LH_EFORMAT,
                          "%s: a nested type needs \"type\": \"struct\", "
                          "\"list\" or \"map\"",
                          where);
    }
    if (strcmp(kind, "struct") == 0) {
        out->id = LH_ICE_STRUCT;
        const json_t *fields;
        lh_rc rc = lh__ice_j_array(j, "fields", true, &fields, where, err);
        if (rc != LH_OK) {
            return rc;
        }
        size_t n = json_array_size(fields);
        out->fields = lh__ice_alloc_array(a, n, sizeof(lh_ice_field));
        if (out->fields == NULL) {
            return lh_err_set(err, LH_ENOMEM, "%s: out of memory", where);
        }
        out->nfields = (uint32_t)n;
        for (size_t i = 0; i < n; i++) {
            char sub[256];
            snprintf(sub, sizeof(sub), "%.200s.fields[%zu]", where, i);
            rc = parse_field(json_array_get(fields, i), a, ids, sub, depth,
                             &out->fields[i], err);
            if (rc != LH_OK) {
                return rc;
            }
        }
        for (size_t i = 0; i < n; i++) {
            for (size_t k = i + 1; k < n; k++) {
                if (strcmp(out->fields[i].name, out->fields[k].name) == 0) {
                    return lh_err_set(err, LH_EFORMAT,
                                      "%s: two fields named \"%.60s\"", where,
                                      out->fields[i].name);
                }
            }
        }
        return LH_OK;
    }
    if (strcmp(kind, "list") == 0) {
        out->id = LH_ICE_LIST;
        out->fields = lh_arena_calloc(a, sizeof(lh_ice_field));
        if (out->fields == NULL) {
            return lh_err_set(err, LH_ENOMEM, "%s: out of memory", where);
        }
        out->nfields = 1;
        return parse_part(j, "element-id", "element", "element-required", false,
                          "element", a, ids, where, depth, &out->fields[0],
                          err);
    }
    if (strcmp(kind, "map") == 0) {
        out->id = LH_ICE_MAP;
        out->fields = lh_arena_calloc(a, 2 * sizeof(lh_ice_field));
        if (out->fields == NULL) {
            return lh_err_set(err, LH_ENOMEM, "%s: out of memory", where);
        }
        out->nfields = 2;
        lh_rc rc = parse_part(j, "key-id", "key", NULL, true, "key", a, ids,
                              where, depth, &out->fields[0], err);
        if (rc == LH_OK) {
            rc =
                parse_part(j, "value-id", "value", "value-required", false,
                           "value", a, ids, where, depth, &out->fields[1], err);
        }
        return rc;
    }
    return lh_err_set(err, LH_EFORMAT, "%s: unknown nested type \"%.60s\"",
                      where, kind);
}

lh_rc
lh__ice_type_parse(const json_t *j, lh_arena *a, lh__ice_ids *ids,
                   const char *where, lh_ice_type *out, lh_err *err)
{
    return parse_type(j, a, ids, where, 0, out, err);
}

static int
cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

lh_rc
lh__ice_schema_from_json(const json_t *j, lh_arena *a, int32_t default_id,
                         bool need_id, const char *where, lh_ice_schema *out,
                         lh_err *err)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(j)) {
        return lh_err_set(err, LH_EFORMAT, "%s: a schema must be an object",
                          where);
    }
    const char *kind = json_string_value(json_object_get(j, "type"));
    if (kind == NULL || strcmp(kind, "struct") != 0) {
        return lh_err_set(err, LH_EFORMAT,
                          "%s: a schema needs \"type\": \"struct\"", where);
    }
    bool has_id = false;
    out->schema_id = default_id;
    lh_rc rc = lh__ice_j_i32(j, "schema-id", need_id, &out->schema_id, &has_id,
                             where, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh__ice_ids ids = {NULL, 0, 0, 0};
    rc = parse_type(j, a, &ids, where, 0, &out->type, err);
    if (rc == LH_OK && ids.n > 1) {
        qsort(ids.ids, ids.n, sizeof(int32_t), cmp_i32);
        for (size_t i = 1; i < ids.n; i++) {
            if (ids.ids[i] == ids.ids[i - 1]) {
                rc =
                    lh_err_set(err, LH_EFORMAT, "%s: field id %d is used twice",
                               where, ids.ids[i]);
                break;
            }
        }
    }
    out->highest_id = ids.highest;
    lh_free(ids.ids);
    if (rc != LH_OK) {
        return rc;
    }
    const json_t *idf;
    rc = lh__ice_j_array(j, "identifier-field-ids", false, &idf, where, err);
    if (rc == LH_OK && idf != NULL) {
        char sub[256];
        snprintf(sub, sizeof(sub), "%.200s.identifier-field-ids", where);
        rc = lh__ice_j_int_list(idf, a, &out->identifier_ids,
                                &out->nidentifiers, sub, err);
        for (uint32_t i = 0; rc == LH_OK && i < out->nidentifiers; i++) {
            const lh_ice_field *f =
                lh_ice_schema_find(out, out->identifier_ids[i]);
            if (f == NULL || !lh_ice_type_is_primitive(&f->type)) {
                rc = lh_err_set(err, LH_EFORMAT,
                                "%s: identifier field %d is not a primitive "
                                "field of the schema",
                                where, out->identifier_ids[i]);
            }
        }
    }
    return rc;
}

lh_rc
lh_ice_schema_parse_json(const char *json, size_t len, lh_arena *a,
                         lh_ice_schema *out, lh_err *err)
{
    json_t *j;
    lh_rc rc = lh__ice_j_load(json, len, &j, "schema", err);
    if (rc != LH_OK) {
        return rc;
    }
    rc = lh__ice_schema_from_json(j, a, 0, false, "schema", out, err);
    json_decref(j);
    return rc;
}

/* ---- writing
 * ----------------------------------------------------------------- */

static lh_rc type_json(const lh_ice_type *t, lh_buf *out, int depth);

static void
default_json(const char *key, const lh_ice_default *d, lh_buf *out)
{
    if (!d->set) {
        return;
    }
    lh_buf_printf(out, ",\"%s\":%s", key, d->json);
}

static lh_rc
field_json(const lh_ice_field *f, lh_buf *out, int depth)
{
    lh_buf_printf(out, "{\"id\":%d,\"name\":", f->id);
    lh_buf_json_string(out, f->name, strlen(f->name));
    lh_buf_printf(out,
                  ",\"required\":%s,\"type\":", f->required ? "true" : "false");
    lh_rc rc = type_json(&f->type, out, depth + 1);
    if (f->doc != NULL) {
        lh_buf_puts(out, ",\"doc\":");
        lh_buf_json_string(out, f->doc, strlen(f->doc));
    }
    default_json("initial-default", &f->initial_default, out);
    default_json("write-default", &f->write_default, out);
    lh_buf_putc(out, '}');
    return rc;
}

static lh_rc
type_json(const lh_ice_type *t, lh_buf *out, int depth)
{
    if (depth > MAX_DEPTH) {
        return LH_ELIMIT;
    }
    lh_rc rc = LH_OK;
    char name[128];
    switch (t->id) {
    case LH_ICE_STRUCT:
        lh_buf_puts(out, "{\"type\":\"struct\",\"fields\":[");
        for (uint32_t i = 0; i < t->nfields && rc == LH_OK; i++) {
            if (i > 0) {
                lh_buf_putc(out, ',');
            }
            rc = field_json(&t->fields[i], out, depth);
        }
        lh_buf_puts(out, "]}");
        break;
    case LH_ICE_LIST:
        lh_buf_printf(out,
                      "{\"type\":\"list\",\"element-id\":%d,"
                      "\"element-required\":%s,\"element\":",
                      t->fields[0].id,
                      t->fields[0].required ? "true" : "false");
        rc = type_json(&t->fields[0].type, out, depth + 1);
        lh_buf_putc(out, '}');
        break;
    case LH_ICE_MAP:
        lh_buf_printf(
            out, "{\"type\":\"map\",\"key-id\":%d,\"key\":", t->fields[0].id);
        rc = type_json(&t->fields[0].type, out, depth + 1);
        lh_buf_printf(out, ",\"value-id\":%d,\"value-required\":%s,\"value\":",
                      t->fields[1].id,
                      t->fields[1].required ? "true" : "false");
        if (rc == LH_OK) {
            rc = type_json(&t->fields[1].type, out, depth + 1);
        }
        lh_buf_putc(out, '}');
        break;
    default:
        lh_ice_type_name(t, name, sizeof(name));
        lh_buf_json_string(out, name, strlen(name));
    }
    return rc != LH_OK ? rc : lh_buf_ok(out) ? LH_OK : LH_ENOMEM;
}

lh_rc
lh__ice_type_to_json(const lh_ice_type *t, lh_buf *out)
{
    return type_json(t, out, 0);
}

lh_rc
lh_ice_schema_to_json(const lh_ice_schema *s, lh_buf *out)
{
    lh_buf_printf(out, "{\"type\":\"struct\",\"schema-id\":%d", s->schema_id);
    if (s->nidentifiers > 0) {
        lh_buf_puts(out, ",\"identifier-field-ids\":[");
        for (uint32_t i = 0; i < s->nidentifiers; i++) {
            lh_buf_printf(out, "%s%d", i ? "," : "", s->identifier_ids[i]);
        }
        lh_buf_putc(out, ']');
    }
    lh_buf_puts(out, ",\"fields\":[");
    lh_rc rc = LH_OK;
    for (uint32_t i = 0; i < s->type.nfields && rc == LH_OK; i++) {
        if (i > 0) {
            lh_buf_putc(out, ',');
        }
        rc = field_json(&s->type.fields[i], out, 0);
    }
    lh_buf_puts(out, "]}");
    return rc != LH_OK ? rc : lh_buf_ok(out) ? LH_OK : LH_ENOMEM;
}
