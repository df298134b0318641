/*
 * Checked access to jansson values for the Iceberg JSON documents: each
 * missing or mistyped field is an LH_EFORMAT naming where it is.
 */
#include <string.h>

#include "format/iceberg/iceberg_int.h"

static lh_rc
missing(const char *where, const char *key, lh_err *err)
{
    return lh_err_set(err, LH_EFORMAT, "%s: missing \"%s\"", where, key);
}

static lh_rc
wrong(const char *where, const char *key, const char *what, lh_err *err)
{
    return lh_err_set(err, LH_EFORMAT, "%s: \"%s\" must be %s", where, key,
                      what);
}

static const json_t *
get(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return v == NULL || json_is_null(v) ? NULL : v;
}

lh_rc
lh__ice_j_i64(const json_t *o, const char *key, bool required, int64_t *out,
              bool *present, const char *where, lh_err *err)
{
    const json_t *v = get(o, key);
    if (present != NULL) {
        *present = v != NULL;
    }
    if (v == NULL) {
        return required ? missing(where, key, err) : LH_OK;
    }
    if (!json_is_integer(v)) {
        return wrong(where, key, "an integer", err);
    }
    *out = (int64_t)json_integer_value(v);
    return LH_OK;
}

lh_rc
lh__ice_j_i32(const json_t *o, const char *key, bool required, int32_t *out,
              bool *present, const char *where, lh_err *err)
{
    int64_t v = 0;
    bool here = false;
    lh_rc rc = lh__ice_j_i64(o, key, required, &v, &here, where, err);
    if (present != NULL) {
        *present = here;
    }
    if (rc != LH_OK || !here) {
        return rc;
    }
    if (v < INT32_MIN || v > INT32_MAX) {
        return wrong(where, key, "a 32-bit integer", err);
    }
    *out = (int32_t)v;
    return LH_OK;
}

lh_rc
lh__ice_j_bool(const json_t *o, const char *key, bool required, bool *out,
               bool *present, const char *where, lh_err *err)
{
    const json_t *v = get(o, key);
    if (present != NULL) {
        *present = v != NULL;
    }
    if (v == NULL) {
        return required ? missing(where, key, err) : LH_OK;
    }
    if (!json_is_boolean(v)) {
        return wrong(where, key, "true or false", err);
    }
    *out = json_is_true(v);
    return LH_OK;
}

lh_rc
lh__ice_j_str(const json_t *o, const char *key, bool required, lh_arena *a,
              const char **out, const char *where, lh_err *err)
{
    const json_t *v = get(o, key);
    *out = NULL;
    if (v == NULL) {
        return required ? missing(where, key, err) : LH_OK;
    }
    if (!json_is_string(v)) {
        return wrong(where, key, "a string", err);
    }
    size_t n = json_string_length(v);
    if (memchr(json_string_value(v), 0, n) != NULL) {
        return wrong(where, key, "a string without NUL", err);
    }
    char *s = lh_arena_strndup(a, json_string_value(v), n);
    if (s == NULL) {
        return lh_err_set(err, LH_ENOMEM, "%s: out of memory", where);
    }
    *out = s;
    return LH_OK;
}

lh_rc
lh__ice_j_array(const json_t *o, const char *key, bool required,
                const json_t **out, const char *where, lh_err *err)
{
    const json_t *v = get(o, key);
    *out = NULL;
    if (v == NULL) {
        return required ? missing(where, key, err) : LH_OK;
    }
    if (!json_is_array(v)) {
        return wrong(where, key, "an array", err);
    }
    *out = v;
    return LH_OK;
}

lh_rc
lh__ice_j_object(const json_t *o, const char *key, bool required,
                 const json_t **out, const char *where, lh_err *err)
{
    const json_t *v = get(o, key);
    *out = NULL;
    if (v == NULL) {
        return required ? missing(where, key, err) : LH_OK;
    }
    if (!json_is_object(v)) {
        return wrong(where, key, "an object", err);
    }
    *out = v;
    return LH_OK;
}

void *
lh__ice_alloc_array(lh_arena *a, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size) {
        return NULL;
    }
    return lh_arena_calloc(a, n * size);
}

lh_rc
lh__ice_j_string_map(const json_t *o, const char *key, lh_arena *a,
                     lh_ice_kv **out, uint32_t *n, const char *where,
                     lh_err *err)
{
    const json_t *m;
    *out = NULL;
    *n = 0;
    lh_rc rc = lh__ice_j_object(o, key, false, &m, where, err);
    if (rc != LH_OK || m == NULL) {
        return rc;
    }
    size_t count = json_object_size(m);
    lh_ice_kv *kv = lh__ice_alloc_array(a, count, sizeof(*kv));
    if (kv == NULL) {
        return lh_err_set(err, LH_ENOMEM, "%s: out of memory", where);
    }
    const char *k;
    json_t *v;
    size_t i = 0;
    json_object_foreach((json_t *)m, k, v)
    {
        if (!json_is_string(v)) {
            return lh_err_set(err, LH_EFORMAT,
                              "%s: \"%s\" value of \"%.100s\" must be a string",
                              where, key, k);
        }
        kv[i].key = lh_arena_strdup(a, k);
        kv[i].value =
            lh_arena_strndup(a, json_string_value(v), json_string_length(v));
        if (kv[i].key == NULL || kv[i].value == NULL) {
            return lh_err_set(err, LH_ENOMEM, "%s: out of memory", where);
        }
        i++;
    }
    *out = kv;
    *n = (uint32_t)i;
    return LH_OK;
}

lh_rc
lh__ice_j_int_list(const json_t *arr, lh_arena *a, int32_t **out, uint32_t *n,
                   const char *where, lh_err *err)
{
    size_t count = json_array_size(arr);
    int32_t *v = lh__ice_alloc_array(a, count, sizeof(*v));
    if (v == NULL) {
        return lh_err_set(err, LH_ENOMEM, "%s: out of memory", where);
    }
    for (size_t i = 0; i < count; i++) {
        const json_t *x = json_array_get(arr, i);
        if (!json_is_integer(x) || json_integer_value(x) < INT32_MIN ||
            json_integer_value(x) > INT32_MAX) {
            return lh_err_set(err, LH_EFORMAT,
                              "%s: item %zu must be a 32-bit integer", where,
                              i);
        }
        v[i] = (int32_t)json_integer_value(x);
    }
    *out = v;
    *n = (uint32_t)count;
    return LH_OK;
}

lh_rc
lh__ice_j_load(const char *p, size_t n, json_t **out, const char *what,
               lh_err *err)
{
    json_error_t je;
    *out = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
    if (*out == NULL) {
        return lh_err_set(err, LH_EFORMAT,
                          "%s: malformed JSON: %s (line %d, column %d)", what,
                          je.text, je.line, je.column);
    }
    return LH_OK;
}
