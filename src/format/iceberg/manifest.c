/*
 * Manifest lists and manifests (spec "Manifests", "Manifest Lists"): Avro
 * container files (avro.c frames them) whose records libavro decodes with
 * the writer's schema. Iceberg resolves fields by field id, not by the
 * Avro name resolution libavro implements, so each field is found through
 * the writer's schema JSON: the record field whose "field-id" is the one
 * the spec gives (data_file is 2, file_path 100, ...). A field the writer
 * did not write reads as absent; int is read where long is expected
 * (promotion), and the v1/v2 defaults of Appendix E fill what v1 files
 * lack. Sequence numbers, snapshot ids and first row ids are inherited from
 * the manifest list entry (spec "Sequence Number Inheritance", "First Row
 * ID Inheritance").
 */
#include <avro.h>
#include <string.h>

#include "format/iceberg/iceberg_int.h"

#define NAME_MAX_DEPTH 64

/* A decoded value with the writer's schema JSON of its (non-union) type. */
typedef struct node {
    avro_value_t v;
    const json_t *t;
} node;

typedef struct reader {
    lh__ice_avro_file f;
    json_t *schema; /* the writer's schema (jansson) */
    lh_map names;   /* named types: name -> json_t * */
    lh_map *recs;   /* record schema (json_t *) -> its rec_info */
    avro_schema_t as;
    avro_value_iface_t *iface;
    avro_value_t value;
    bool have_value;
    avro_reader_t ar;
    lh_buf scratch;
    const uint8_t *block;
    size_t block_len;
    int64_t left; /* records left in the block */
    lh_err *err;
} reader;

static const char *const primitives[] = {"null",  "boolean", "int",   "long",
                                         "float", "double",  "bytes", "string"};

static lh_rc
collect_names(reader *r, const json_t *t, int depth)
{
    if (depth > NAME_MAX_DEPTH) {
        return lh_err_set(r->err, LH_ELIMIT,
                          "avro file \"%s\": schema nested too deep",
                          r->f.name);
    }
    if (json_is_array(t)) {
        for (size_t i = 0; i < json_array_size(t); i++) {
            lh_rc rc = collect_names(r, json_array_get(t, i), depth + 1);
            if (rc != LH_OK) {
                return rc;
            }
        }
        return LH_OK;
    }
    if (!json_is_object(t)) {
        return LH_OK;
    }
    const char *name = json_string_value(json_object_get(t, "name"));
    if (name != NULL) {
        const char *dot = strrchr(name, '.');
        const char *shortn = dot ? dot + 1 : name;
        if (lh_map_put(&r->names, shortn, strlen(shortn), (void *)t, NULL) !=
            LH_OK) {
            return lh_err_set(r->err, LH_ENOMEM, "out of memory");
        }
    }
    const json_t *fields = json_object_get(t, "fields");
    for (size_t i = 0; json_is_array(fields) && i < json_array_size(fields);
         i++) {
        lh_rc rc = collect_names(
            r, json_object_get(json_array_get(fields, i), "type"), depth + 1);
        if (rc != LH_OK) {
            return rc;
        }
    }
    static const char *const kids[] = {"items", "values", "type"};
    for (size_t i = 0; i < LH_ARRAY_LEN(kids); i++) {
        const json_t *k = json_object_get(t, kids[i]);
        if (k != NULL && !json_is_string(k)) {
            lh_rc rc = collect_names(r, k, depth + 1);
            if (rc != LH_OK) {
                return rc;
            }
        }
    }
    return LH_OK;
}

/* A type reference by name resolves to its definition. */
static const json_t *
resolve(const reader *r, const json_t *t)
{
    for (int i = 0; i < 8 && json_is_string(t); i++) {
        const char *s = json_string_value(t);
        for (size_t k = 0; k < LH_ARRAY_LEN(primitives); k++) {
            if (strcmp(s, primitives[k]) == 0) {
                return t;
            }
        }
        const char *dot = strrchr(s, '.');
        const char *shortn = dot ? dot + 1 : s;
        const json_t *d = lh_map_get(&r->names, shortn, strlen(shortn));
        if (d == NULL) {
            return t;
        }
        t = d;
    }
    /* {"type": "long", "logicalType": ...} stays an object: callers read
     * the logical type from it. */
    return t;
}

/* The JSON name of a (resolved) type: "record", "long", ... */
static const char *
type_name(const json_t *t)
{
    if (json_is_string(t)) {
        return json_string_value(t);
    }
    const json_t *x = json_object_get(t, "type");
    if (json_is_string(x)) {
        return json_string_value(x);
    }
    return "";
}

/* Unwraps a union: false when the value is null. */
static bool
unwrap(const reader *r, const avro_value_t *v, const json_t *t, node *out)
{
    t = resolve(r, t);
    if (json_is_array(t)) {
        int disc;
        avro_value_t branch;
        if (avro_value_get_discriminant(v, &disc) != 0 ||
            avro_value_get_current_branch(v, &branch) != 0 || disc < 0 ||
            (size_t)disc >= json_array_size(t)) {
            return false;
        }
        out->v = branch;
        out->t = resolve(r, json_array_get(t, (size_t)disc));
    } else {
        out->v = *v;
        out->t = t;
    }
    return strcmp(type_name(out->t), "null") != 0;
}

/* A record schema's fields, looked up once per schema (the JSON walk per
 * record and field was most of a manifest's reading time). */
typedef struct rec_info {
    uint32_t n;
    bool any_ids;
    int32_t *ids; /* -1 when the field has no field-id */
    const json_t **types;
    const char **names;
} rec_info;

static void
rec_info_free(rec_info *ri)
{
    if (ri != NULL) {
        lh_free(ri->ids);
        lh_free(ri->types);
        lh_free(ri->names);
        lh_free(ri);
    }
}

static const rec_info *
record_info(const reader *r, const json_t *t)
{
    rec_info *ri = lh_map_get(r->recs, &t, sizeof(t));
    if (ri != NULL) {
        return ri;
    }
    const json_t *fields = json_object_get(t, "fields");
    size_t n = json_is_array(fields) ? json_array_size(fields) : 0;
    ri = lh_calloc(1, sizeof(*ri));
    if (ri == NULL) {
        return NULL;
    }
    ri->ids = lh_calloc(n ? n : 1, sizeof(int32_t));
    ri->types = lh_calloc(n ? n : 1, sizeof(json_t *));
    ri->names = lh_calloc(n ? n : 1, sizeof(char *));
    if (ri->ids == NULL || ri->types == NULL || ri->names == NULL ||
        lh_map_put(r->recs, &t, sizeof(t), ri, NULL) != LH_OK) {
        rec_info_free(ri);
        return NULL;
    }
    ri->n = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        const json_t *fj = json_array_get(fields, i);
        const json_t *fid = json_object_get(fj, "field-id");
        ri->ids[i] = json_is_integer(fid) && json_integer_value(fid) >= 0 &&
                             json_integer_value(fid) <= INT32_MAX
                         ? (int32_t)json_integer_value(fid)
                         : -1;
        ri->any_ids = ri->any_ids || ri->ids[i] >= 0;
        ri->types[i] = json_object_get(fj, "type");
        ri->names[i] = json_string_value(json_object_get(fj, "name"));
    }
    return ri;
}

static bool
field_at(const reader *r, const node *rec, const rec_info *ri, size_t i,
         node *out)
{
    avro_value_t child;
    if (avro_value_get_by_index(&rec->v, i, &child, NULL) != 0) {
        return false;
    }
    return unwrap(r, &child, ri->types[i], out);
}

/* The record field with this field id: false when absent or null. */
static bool
field(const reader *r, const node *rec, int32_t id, node *out)
{
    const rec_info *ri = record_info(r, rec->t);
    for (uint32_t i = 0; ri != NULL && i < ri->n; i++) {
        if (ri->ids[i] == id) {
            return field_at(r, rec, ri, i, out);
        }
    }
    return false;
}

/* The same by name, for records written without field ids (some old
 * manifest lists). */
static bool
field_named(const reader *r, const node *rec, const char *name, node *out)
{
    const rec_info *ri = record_info(r, rec->t);
    if (ri == NULL || ri->any_ids) {
        return false; /* with ids, absent means absent */
    }
    for (uint32_t i = 0; i < ri->n; i++) {
        if (ri->names[i] != NULL && strcmp(ri->names[i], name) == 0) {
            return field_at(r, rec, ri, i, out);
        }
    }
    return false;
}

/* A field by id, else by its spec name. */
static bool
get(const reader *r, const node *rec, int32_t id, const char *name, node *out)
{
    return field(r, rec, id, out) || field_named(r, rec, name, out);
}

static bool
as_i64(const node *n, int64_t *out)
{
    int32_t i;
    switch (avro_value_get_type(&n->v)) {
    case AVRO_INT32:
        if (avro_value_get_int(&n->v, &i) != 0) {
            return false;
        }
        *out = i;
        return true;
    case AVRO_INT64:
        return avro_value_get_long(&n->v, out) == 0;
    default:
        return false;
    }
}

static bool
as_bool(const node *n, bool *out)
{
    int b;
    if (avro_value_get_type(&n->v) != AVRO_BOOLEAN ||
        avro_value_get_boolean(&n->v, &b) != 0) {
        return false;
    }
    *out = b != 0;
    return true;
}

/* Bytes of a bytes, fixed or string value (borrowed from the value). */
static bool
as_bytes(const node *n, const uint8_t **p, size_t *len)
{
    const void *buf;
    size_t size;
    switch (avro_value_get_type(&n->v)) {
    case AVRO_BYTES:
        if (avro_value_get_bytes(&n->v, &buf, &size) != 0) {
            return false;
        }
        break;
    case AVRO_FIXED:
        if (avro_value_get_fixed(&n->v, &buf, &size) != 0) {
            return false;
        }
        break;
    case AVRO_STRING: {
        const char *s;
        if (avro_value_get_string(&n->v, &s, &size) != 0) {
            return false;
        }
        buf = s;
        size = size > 0 ? size - 1 : 0; /* libavro counts the NUL */
        break;
    }
    default:
        return false;
    }
    *p = buf;
    *len = size;
    return true;
}

static const char *
as_str(const node *n, lh_arena *a)
{
    const uint8_t *p;
    size_t len;
    if (!as_bytes(n, &p, &len)) {
        return NULL;
    }
    return lh_arena_strndup(a, (const char *)p, len);
}

static lh_rc
bad_field(reader *r, const char *what, const char *field_name)
{
    return lh_err_set(r->err, LH_EFORMAT, "%s \"%s\": record %lld: %s \"%s\"",
                      what, r->f.name, (long long)r->f.records,
                      "missing or mistyped", field_name);
}

static lh_rc
nomem(reader *r)
{
    return lh_err_set(r->err, LH_ENOMEM, "out of memory reading \"%s\"",
                      r->f.name);
}

static void
reader_release(reader *r)
{
    if (r->ar != NULL) {
        avro_reader_free(r->ar);
    }
    if (r->have_value) {
        avro_value_decref(&r->value);
    }
    if (r->iface != NULL) {
        avro_value_iface_decref(r->iface);
    }
    if (r->as != NULL) {
        avro_schema_decref(r->as);
    }
    json_decref(r->schema);
    lh_map_release(&r->names);
    if (r->recs != NULL) {
        size_t it = 0;
        const void *k;
        size_t kl;
        void *v;
        while (lh_map_next(r->recs, &it, &k, &kl, &v)) {
            rec_info_free(v);
        }
        lh_map_release(r->recs);
        lh_free(r->recs);
    }
    lh_buf_release(&r->scratch);
}

static lh_rc
reader_open(reader *r, const uint8_t *p, size_t n, const char *name,
            lh_arena *a, lh_err *err)
{
    memset(r, 0, sizeof(*r));
    lh_map_init(&r->names);
    r->err = err;
    r->recs = lh_malloc(sizeof(lh_map));
    if (r->recs == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_map_init(r->recs);
    lh_rc rc = lh__ice_avro_open(p, n, name, a, &r->f, err);
    if (rc != LH_OK) {
        return rc;
    }
    const lh__ice_avro_kv *s = lh__ice_avro_meta(&r->f, "avro.schema");
    json_error_t je;
    r->schema = json_loadb(s->value, s->len, JSON_DECODE_ANY, &je);
    if (r->schema == NULL) {
        return lh_err_set(err, LH_EFORMAT,
                          "avro file \"%s\": malformed avro.schema: %s", name,
                          je.text);
    }
    rc = collect_names(r, r->schema, 0);
    if (rc != LH_OK) {
        return rc;
    }
    if (strcmp(type_name(resolve(r, r->schema)), "record") != 0) {
        return lh_err_set(err, LH_EFORMAT,
                          "avro file \"%s\": the schema is not a record", name);
    }
    if (avro_schema_from_json_length(s->value, s->len, &r->as) != 0) {
        return lh_err_set(err, LH_EFORMAT,
                          "avro file \"%s\": avro.schema refused by libavro: "
                          "%s",
                          name, avro_strerror());
    }
    r->iface = avro_generic_class_from_schema(r->as);
    if (r->iface == NULL || avro_generic_value_new(r->iface, &r->value) != 0) {
        return lh_err_set(err, LH_ENOMEM, "avro file \"%s\": libavro: %s", name,
                          avro_strerror());
    }
    r->have_value = true;
    r->ar = avro_reader_memory("", 0);
    if (r->ar == NULL) {
        return nomem(r);
    }
    return LH_OK;
}

/* The next record into *rec; *done at the end of the file. */
static lh_rc
reader_next(reader *r, node *rec, bool *done)
{
    *done = false;
    while (r->left == 0) {
        int64_t count;
        lh_rc rc = lh__ice_avro_next_block(&r->f, &r->scratch, &r->block,
                                           &r->block_len, &count, r->err);
        if (rc != LH_OK) {
            return rc;
        }
        if (r->block == NULL && count == 0 && r->f.pos >= r->f.end) {
            *done = true;
            return LH_OK;
        }
        r->left = count;
        avro_reader_memory_set_source(r->ar, (const char *)r->block,
                                      (int64_t)r->block_len);
    }
    avro_value_reset(&r->value);
    if (avro_value_read(r->ar, &r->value) != 0) {
        return lh_err_set(r->err, LH_ECORRUPT,
                          "avro file \"%s\": block %lld: record does not "
                          "decode: %s",
                          r->f.name, (long long)r->f.block, avro_strerror());
    }
    r->left--;
    r->f.records++;
    rec->v = r->value;
    rec->t = resolve(r, r->schema);
    return LH_OK;
}

/* The header key as an integer (Iceberg writes numbers as strings). */
static bool
meta_int(const lh__ice_avro_file *f, const char *key, int64_t *out)
{
    const lh__ice_avro_kv *kv = lh__ice_avro_meta(f, key);
    if (kv == NULL || kv->len == 0 || kv->len > 24) {
        return false;
    }
    char *end;
    long long v = strtoll(kv->value, &end, 10);
    if (*end != 0) {
        return false;
    }
    *out = v;
    return true;
}

/* Makes room for one more element in an arena array of n elements. */
static lh_rc
grow(lh_arena *a, void **arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap) {
        return LH_OK;
    }
    size_t ncap = *cap ? *cap * 2 : 16;
    void *na = lh__ice_alloc_array(a, ncap, size);
    if (na == NULL) {
        return LH_ENOMEM;
    }
    if (n) {
        memcpy(na, *arr, n * size);
    }
    *arr = na;
    *cap = ncap;
    return LH_OK;
}

/* ---- manifest lists
 * ---------------------------------------------------------- */

static lh_rc
read_summaries(reader *r, const node *arr, lh_arena *a,
               lh_ice_manifest_file *mf)
{
    size_t n = 0;
    if (avro_value_get_type(&arr->v) != AVRO_ARRAY ||
        avro_value_get_size(&arr->v, &n) != 0) {
        return bad_field(r, "manifest list", "partitions");
    }
    mf->partitions = lh__ice_alloc_array(a, n, sizeof(lh_ice_field_summary));
    if (mf->partitions == NULL) {
        return nomem(r);
    }
    mf->npartitions = (uint32_t)n;
    const json_t *items = json_object_get(arr->t, "items");
    for (size_t i = 0; i < n; i++) {
        avro_value_t ev;
        node e, x;
        if (avro_value_get_by_index(&arr->v, i, &ev, NULL) != 0 ||
            !unwrap(r, &ev, items, &e)) {
            return bad_field(r, "manifest list", "partitions");
        }
        lh_ice_field_summary *s = &mf->partitions[i];
        if (!get(r, &e, 509, "contains_null", &x) ||
            !as_bool(&x, &s->contains_null)) {
            return bad_field(r, "manifest list", "contains_null");
        }
        if (get(r, &e, 518, "contains_nan", &x) &&
            as_bool(&x, &s->contains_nan)) {
            s->has_contains_nan = true;
        }
        const uint8_t *p;
        size_t len;
        if (get(r, &e, 510, "lower_bound", &x) && as_bytes(&x, &p, &len)) {
            s->lower = lh_arena_memdup(a, p, len ? len : 1);
            s->nlower = (uint32_t)len;
            s->has_lower = true;
        }
        if (get(r, &e, 511, "upper_bound", &x) && as_bytes(&x, &p, &len)) {
            s->upper = lh_arena_memdup(a, p, len ? len : 1);
            s->nupper = (uint32_t)len;
            s->has_upper = true;
        }
        if ((s->has_lower && s->lower == NULL) ||
            (s->has_upper && s->upper == NULL)) {
            return nomem(r);
        }
    }
    return LH_OK;
}

static lh_rc
read_manifest_file(reader *r, const node *rec, lh_arena *a, int version,
                   lh_ice_manifest_file *mf)
{
    node x;
    memset(mf, 0, sizeof(*mf));
    if (!get(r, rec, 500, "manifest_path", &x) ||
        (mf->path = as_str(&x, a)) == NULL) {
        return bad_field(r, "manifest list", "manifest_path");
    }
    int64_t v;
    if (!get(r, rec, 501, "manifest_length", &x) || !as_i64(&x, &mf->length)) {
        return bad_field(r, "manifest list", "manifest_length");
    }
    if (!get(r, rec, 502, "partition_spec_id", &x) || !as_i64(&x, &v)) {
        return bad_field(r, "manifest list", "partition_spec_id");
    }
    mf->spec_id = (int32_t)v;
    if (get(r, rec, 517, "content", &x) && as_i64(&x, &v)) {
        if (v != 0 && v != 1) {
            return lh_err_set(r->err, LH_EFORMAT,
                              "manifest list \"%s\": record %lld: content %lld "
                              "is neither 0 (data) nor 1 (deletes)",
                              r->f.name, (long long)r->f.records, (long long)v);
        }
        mf->content = (uint8_t)v;
    }
    bool has_seq = get(r, rec, 515, "sequence_number", &x) &&
                   as_i64(&x, &mf->sequence_number);
    if (!has_seq && version >= 2) {
        return bad_field(r, "manifest list", "sequence_number");
    }
    if (get(r, rec, 516, "min_sequence_number", &x)) {
        as_i64(&x, &mf->min_sequence_number);
    }
    if (!get(r, rec, 503, "added_snapshot_id", &x) ||
        !as_i64(&x, &mf->added_snapshot_id)) {
        return bad_field(r, "manifest list", "added_snapshot_id");
    }
    static const struct {
        int32_t id;
        const char *name, *alt;
    } counts[] = {
        {504, "added_files_count", "added_data_files_count"},
        {505, "existing_files_count", "existing_data_files_count"},
        {506, "deleted_files_count", "deleted_data_files_count"},
        {512, "added_rows_count", NULL},
        {513, "existing_rows_count", NULL},
        {514, "deleted_rows_count", NULL},
    };
    int64_t *dst[] = {&mf->added_files, &mf->existing_files, &mf->deleted_files,
                      &mf->added_rows,  &mf->existing_rows,  &mf->deleted_rows};
    for (size_t i = 0; i < LH_ARRAY_LEN(counts); i++) {
        *dst[i] = -1; /* unknown: assumed non-zero */
        if ((get(r, rec, counts[i].id, counts[i].name, &x) ||
             (counts[i].alt && field_named(r, rec, counts[i].alt, &x))) &&
            as_i64(&x, dst[i])) {
            if (*dst[i] < 0) {
                return bad_field(r, "manifest list", counts[i].name);
            }
        }
    }
    if (get(r, rec, 507, "partitions", &x)) {
        lh_rc rc = read_summaries(r, &x, a, mf);
        if (rc != LH_OK) {
            return rc;
        }
    }
    const uint8_t *p;
    size_t len;
    if (get(r, rec, 519, "key_metadata", &x) && as_bytes(&x, &p, &len)) {
        mf->key_metadata = lh_arena_memdup(a, p, len ? len : 1);
        mf->nkey_metadata = len;
    }
    if (get(r, rec, 520, "first_row_id", &x) && as_i64(&x, &mf->first_row_id)) {
        mf->has_first_row_id = true;
    }
    return LH_OK;
}

lh_rc
lh_ice_manifest_list_read(const uint8_t *p, size_t n, const char *name,
                          lh_arena *a, lh_ice_manifest_list *out, lh_err *err)
{
    memset(out, 0, sizeof(*out));
    reader r;
    lh_rc rc = reader_open(&r, p, n, name, a, err);
    int64_t v;
    out->format_version = meta_int(&r.f, "format-version", &v) ? (int)v : 1;
    out->has_snapshot_id = meta_int(&r.f, "snapshot-id", &out->snapshot_id);
    out->has_sequence_number =
        meta_int(&r.f, "sequence-number", &out->sequence_number);
    size_t cap = 0;
    while (rc == LH_OK) {
        node rec;
        bool done;
        rc = reader_next(&r, &rec, &done);
        if (rc != LH_OK || done) {
            break;
        }
        if (grow(a, (void **)&out->files, out->nfiles, &cap,
                 sizeof(lh_ice_manifest_file)) != LH_OK) {
            rc = nomem(&r);
            break;
        }
        rc = read_manifest_file(&r, &rec, a, out->format_version,
                                &out->files[out->nfiles]);
        if (rc == LH_OK) {
            out->nfiles++;
        }
    }
    reader_release(&r);
    return rc;
}

/* ---- manifests
 * ------------------------------------------------------------------ */

/* A map<int, long> or map<int, binary> stored as an array of key/value
 * records (or an Avro map with string keys, which some writers use). */
static lh_rc
read_int_map(reader *r, const node *m, int32_t key_id, int32_t value_id,
             bool bytes, lh_arena *a, void **out, uint32_t *nout,
             const char *what)
{
    size_t n = 0;
    avro_type_t at = avro_value_get_type(&m->v);
    if ((at != AVRO_ARRAY && at != AVRO_MAP) ||
        avro_value_get_size(&m->v, &n) != 0) {
        return bad_field(r, "manifest", what);
    }
    size_t size = bytes ? sizeof(lh_ice_bound) : sizeof(lh_ice_metric);
    uint8_t *arr = lh__ice_alloc_array(a, n, size);
    if (arr == NULL) {
        return nomem(r);
    }
    const json_t *items =
        json_object_get(m->t, at == AVRO_ARRAY ? "items" : "values");
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        avro_value_t ev;
        const char *mkey = NULL;
        if (avro_value_get_by_index(&m->v, i, &ev, &mkey) != 0) {
            return bad_field(r, "manifest", what);
        }
        int64_t key;
        node val;
        bool has_val;
        if (at == AVRO_ARRAY) {
            node e, kn;
            if (!unwrap(r, &ev, items, &e) || !get(r, &e, key_id, "key", &kn) ||
                !as_i64(&kn, &key)) {
                return bad_field(r, "manifest", what);
            }
            has_val = get(r, &e, value_id, "value", &val);
        } else {
            char *end;
            key = strtoll(mkey ? mkey : "", &end, 10);
            if (mkey == NULL || *end != 0) {
                return bad_field(r, "manifest", what);
            }
            has_val = unwrap(r, &ev, items, &val);
        }
        if (!has_val) {
            continue; /* a null value says nothing */
        }
        if (bytes) {
            lh_ice_bound *b = (lh_ice_bound *)arr + k;
            const uint8_t *p;
            size_t len;
            if (!as_bytes(&val, &p, &len)) {
                return bad_field(r, "manifest", what);
            }
            b->id = (int32_t)key;
            b->p = lh_arena_memdup(a, p, len ? len : 1);
            b->n = (uint32_t)len;
            if (b->p == NULL) {
                return nomem(r);
            }
        } else {
            lh_ice_metric *mt = (lh_ice_metric *)arr + k;
            mt->id = (int32_t)key;
            if (!as_i64(&val, &mt->v)) {
                return bad_field(r, "manifest", what);
            }
        }
        k++;
    }
    *out = arr;
    *nout = k;
    return LH_OK;
}

static lh_rc
read_list_i64(reader *r, const node *l, lh_arena *a, int64_t **out,
              uint32_t *nout, const char *what)
{
    size_t n = 0;
    if (avro_value_get_type(&l->v) != AVRO_ARRAY ||
        avro_value_get_size(&l->v, &n) != 0) {
        return bad_field(r, "manifest", what);
    }
    *out = lh__ice_alloc_array(a, n, sizeof(int64_t));
    if (*out == NULL) {
        return nomem(r);
    }
    const json_t *items = json_object_get(l->t, "items");
    for (size_t i = 0; i < n; i++) {
        avro_value_t ev;
        node e;
        if (avro_value_get_by_index(&l->v, i, &ev, NULL) != 0 ||
            !unwrap(r, &ev, items, &e) || !as_i64(&e, &(*out)[i])) {
            return bad_field(r, "manifest", what);
        }
    }
    *nout = (uint32_t)n;
    return LH_OK;
}

/* The Iceberg type of a partition field from its Avro type, for
 * manifests read without table metadata. */
static void
avro_to_ice(const json_t *t, lh_ice_type *out)
{
    memset(out, 0, sizeof(*out));
    const char *tn = type_name(t);
    const char *lt = json_is_object(t)
                         ? json_string_value(json_object_get(t, "logicalType"))
                         : NULL;
    if (lt == NULL) {
        lt = "";
    }
    if (strcmp(tn, "boolean") == 0) {
        out->id = LH_ICE_BOOLEAN;
    } else if (strcmp(tn, "int") == 0) {
        out->id = strcmp(lt, "date") == 0 ? LH_ICE_DATE : LH_ICE_INT;
    } else if (strcmp(tn, "long") == 0) {
        bool utc = json_is_true(json_object_get(t, "adjust-to-utc"));
        if (strcmp(lt, "timestamp-micros") == 0) {
            out->id = utc ? LH_ICE_TIMESTAMPTZ : LH_ICE_TIMESTAMP;
        } else if (strcmp(lt, "timestamp-nanos") == 0) {
            out->id = utc ? LH_ICE_TIMESTAMPTZ_NS : LH_ICE_TIMESTAMP_NS;
        } else if (strcmp(lt, "time-micros") == 0) {
            out->id = LH_ICE_TIME;
        } else {
            out->id = LH_ICE_LONG;
        }
    } else if (strcmp(tn, "float") == 0) {
        out->id = LH_ICE_FLOAT;
    } else if (strcmp(tn, "double") == 0) {
        out->id = LH_ICE_DOUBLE;
    } else if (strcmp(tn, "string") == 0) {
        out->id = strcmp(lt, "uuid") == 0 ? LH_ICE_UUID : LH_ICE_STRING;
    } else if (strcmp(lt, "decimal") == 0) {
        out->id = LH_ICE_DECIMAL;
        json_int_t p = json_integer_value(json_object_get(t, "precision"));
        json_int_t s = json_integer_value(json_object_get(t, "scale"));
        out->precision = (uint8_t)(p >= 1 && p <= 38 ? p : 38);
        out->scale = (uint8_t)(s >= 0 && s <= out->precision ? s : 0);
    } else if (strcmp(tn, "fixed") == 0) {
        json_int_t size = json_integer_value(json_object_get(t, "size"));
        out->id =
            strcmp(lt, "uuid") == 0 && size == 16 ? LH_ICE_UUID : LH_ICE_FIXED;
        out->length = (uint32_t)(size > 0 ? size : 0);
    } else {
        out->id = LH_ICE_BINARY;
    }
}

/* One partition value of Iceberg type t from its Avro value. */
static lh_rc
partition_value(reader *r, const node *x, const lh_ice_type *t, lh_arena *a,
                lh_value *out)
{
    memset(out, 0, sizeof(*out));
    out->type = lh_ice_type_to_lh(t);
    int64_t i;
    const uint8_t *p;
    size_t len;
    switch (t->id) {
    case LH_ICE_BOOLEAN:
        if (!as_bool(x, &out->u.b)) {
            break;
        }
        return LH_OK;
    case LH_ICE_INT:
    case LH_ICE_DATE:
    case LH_ICE_LONG:
    case LH_ICE_TIME:
    case LH_ICE_TIMESTAMP:
    case LH_ICE_TIMESTAMPTZ:
        if (!as_i64(x, &i)) {
            break;
        }
        out->u.i = i;
        return LH_OK;
    case LH_ICE_TIMESTAMP_NS:
    case LH_ICE_TIMESTAMPTZ_NS:
        if (!as_i64(x, &i)) {
            break;
        }
        out->u.i = i / 1000 - (i % 1000 < 0);
        return LH_OK;
    case LH_ICE_FLOAT:
    case LH_ICE_DOUBLE: {
        float f;
        if (avro_value_get_type(&x->v) == AVRO_FLOAT &&
            avro_value_get_float(&x->v, &f) == 0) {
            out->u.d = f;
            return LH_OK;
        }
        if (avro_value_get_type(&x->v) == AVRO_DOUBLE &&
            avro_value_get_double(&x->v, &out->u.d) == 0) {
            return LH_OK;
        }
        break;
    }
    case LH_ICE_UUID:
        if (!as_bytes(x, &p, &len)) {
            break;
        }
        if (len == 16) {
            memcpy(out->u.uuid.b, p, 16);
            return LH_OK;
        }
        if (lh_uuid_parse((const char *)p, len, &out->u.uuid, NULL) == LH_OK) {
            return LH_OK;
        }
        break;
    case LH_ICE_DECIMAL:
        if (!as_bytes(x, &p, &len) ||
            lh_ice_value_from_bytes(t, p, len, out, NULL) != LH_OK) {
            break;
        }
        return LH_OK;
    default:
        if (!as_bytes(x, &p, &len)) {
            break;
        }
        out->u.s.p = lh_arena_memdup(a, p, len + 1);
        if (out->u.s.p == NULL) {
            return nomem(r);
        }
        out->u.s.len = len;
        return LH_OK;
    }
    return lh_err_set(r->err, LH_EFORMAT,
                      "manifest \"%s\": record %lld: a partition value does "
                      "not match its type",
                      r->f.name, (long long)r->f.records);
}

static lh_rc
read_partition(reader *r, const node *part, const lh_ice_type *ptype,
               lh_arena *a, lh_ice_data_file *df)
{
    df->partition = lh__ice_alloc_array(a, ptype->nfields, sizeof(lh_value));
    if (df->partition == NULL) {
        return nomem(r);
    }
    df->npartition = ptype->nfields;
    for (uint32_t i = 0; i < ptype->nfields; i++) {
        const lh_ice_field *pf = &ptype->fields[i];
        node x;
        if (part == NULL || !field(r, part, pf->id, &x)) {
            df->partition[i].type = lh_ice_type_to_lh(&pf->type);
            df->partition[i].is_null = true;
            continue;
        }
        lh_rc rc = partition_value(r, &x, &pf->type, a, &df->partition[i]);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

static lh_rc
read_data_file(reader *r, const node *d, const lh_ice_type *ptype, lh_arena *a,
               lh_ice_data_file *df)
{
    node x;
    int64_t v;
    if (get(r, d, 134, "content", &x) && as_i64(&x, &v)) {
        if (v < 0 || v > 2) {
            return lh_err_set(r->err, LH_EFORMAT,
                              "manifest \"%s\": record %lld: content %lld is "
                              "not 0, 1 or 2",
                              r->f.name, (long long)r->f.records, (long long)v);
        }
        df->content = (uint8_t)v;
    }
    if (!get(r, d, 100, "file_path", &x) ||
        (df->path = as_str(&x, a)) == NULL) {
        return bad_field(r, "manifest", "file_path");
    }
    if (!get(r, d, 101, "file_format", &x) ||
        (df->format = as_str(&x, a)) == NULL) {
        return bad_field(r, "manifest", "file_format");
    }
    node part;
    bool has_part = get(r, d, 102, "partition", &part) &&
                    strcmp(type_name(part.t), "record") == 0;
    lh_rc rc = read_partition(r, has_part ? &part : NULL, ptype, a, df);
    if (rc != LH_OK) {
        return rc;
    }
    if (!get(r, d, 103, "record_count", &x) || !as_i64(&x, &df->record_count)) {
        return bad_field(r, "manifest", "record_count");
    }
    if (!get(r, d, 104, "file_size_in_bytes", &x) ||
        !as_i64(&x, &df->file_size)) {
        return bad_field(r, "manifest", "file_size_in_bytes");
    }
    static const struct {
        int32_t id, key, val;
        const char *name;
        bool bytes;
    } maps[] = {
        {108, 117, 118, "column_sizes", false},
        {109, 119, 120, "value_counts", false},
        {110, 121, 122, "null_value_counts", false},
        {137, 138, 139, "nan_value_counts", false},
        {125, 126, 127, "lower_bounds", true},
        {128, 129, 130, "upper_bounds", true},
    };
    void **dst[] = {(void **)&df->column_sizes, (void **)&df->value_counts,
                    (void **)&df->null_counts,  (void **)&df->nan_counts,
                    (void **)&df->lower,        (void **)&df->upper};
    uint32_t *ndst[] = {&df->ncolumn_sizes, &df->nvalue_counts,
                        &df->nnull_counts,  &df->nnan_counts,
                        &df->nlower,        &df->nupper};
    for (size_t i = 0; i < LH_ARRAY_LEN(maps); i++) {
        if (get(r, d, maps[i].id, maps[i].name, &x)) {
            rc = read_int_map(r, &x, maps[i].key, maps[i].val, maps[i].bytes, a,
                              dst[i], ndst[i], maps[i].name);
            if (rc != LH_OK) {
                return rc;
            }
        }
    }
    const uint8_t *p;
    size_t len;
    if (get(r, d, 131, "key_metadata", &x) && as_bytes(&x, &p, &len)) {
        df->key_metadata = lh_arena_memdup(a, p, len ? len : 1);
        df->nkey_metadata = len;
    }
    if (get(r, d, 132, "split_offsets", &x)) {
        rc = read_list_i64(r, &x, a, &df->split_offsets, &df->nsplit_offsets,
                           "split_offsets");
        if (rc != LH_OK) {
            return rc;
        }
    }
    if (get(r, d, 135, "equality_ids", &x)) {
        int64_t *ids;
        uint32_t n;
        rc = read_list_i64(r, &x, a, &ids, &n, "equality_ids");
        if (rc != LH_OK) {
            return rc;
        }
        df->equality_ids = lh__ice_alloc_array(a, n, sizeof(int32_t));
        if (df->equality_ids == NULL) {
            return nomem(r);
        }
        for (uint32_t i = 0; i < n; i++) {
            df->equality_ids[i] = (int32_t)ids[i];
        }
        df->nequality_ids = n;
    }
    if (get(r, d, 140, "sort_order_id", &x) && as_i64(&x, &v)) {
        df->has_sort_order_id = true;
        df->sort_order_id = (int32_t)v;
    }
    if (get(r, d, 142, "first_row_id", &x) && as_i64(&x, &df->first_row_id)) {
        df->has_first_row_id = true;
    }
    if (get(r, d, 143, "referenced_data_file", &x)) {
        df->referenced_data_file = as_str(&x, a);
    }
    if (get(r, d, 144, "content_offset", &x) &&
        as_i64(&x, &df->content_offset)) {
        df->has_content_offset = true;
        if (!get(r, d, 145, "content_size_in_bytes", &x) ||
            !as_i64(&x, &df->content_size)) {
            return bad_field(r, "manifest", "content_size_in_bytes");
        }
    }
    if (df->content == LH_ICE_CONTENT_EQUALITY_DELETES &&
        df->nequality_ids == 0) {
        return lh_err_set(r->err, LH_EFORMAT,
                          "manifest \"%s\": record %lld: an equality delete "
                          "file without equality_ids",
                          r->f.name, (long long)r->f.records);
    }
    return LH_OK;
}

/* The partition type of the manifest: the table's spec under the table's
 * schema when metadata is given, else what the Avro schema says. */
static lh_rc
partition_type(reader *r, const lh_ice_meta *meta, int32_t spec_id,
               int64_t schema_id, lh_arena *a, lh_ice_type *out)
{
    memset(out, 0, sizeof(*out));
    out->id = LH_ICE_STRUCT;
    if (meta != NULL) {
        const lh_ice_partition_spec *spec = lh_ice_meta_spec(meta, spec_id);
        if (spec == NULL) {
            return lh_err_set(r->err, LH_EFORMAT,
                              "manifest \"%s\": partition spec %d is not in "
                              "the table metadata",
                              r->f.name, spec_id);
        }
        const lh_ice_schema *s =
            schema_id >= 0 ? lh_ice_meta_schema(meta, (int32_t)schema_id)
                           : NULL;
        if (s == NULL) {
            s = lh_ice_meta_current_schema(meta);
        }
        lh_rc rc = lh_ice_spec_partition_type(spec, s, a, out, r->err);
        /* A source dropped from that schema: look in the others. */
        for (uint32_t i = 0; rc == LH_OK && i < out->nfields; i++) {
            const lh_ice_partition_field *pf = &spec->fields[i];
            if (out->fields[i].type.id != LH_ICE_BINARY ||
                pf->nsource_ids != 1) {
                continue;
            }
            for (uint32_t k = meta->nschemas; k-- > 0;) {
                const lh_ice_field *src =
                    lh_ice_schema_find(&meta->schemas[k], pf->source_id);
                if (src != NULL &&
                    lh_ice_transform_result(&pf->transform, &src->type,
                                            &out->fields[i].type)) {
                    break;
                }
            }
        }
        return rc;
    }
    /* data_file.partition's record in the writer's schema. */
    node root = {r->value, resolve(r, r->schema)};
    const json_t *fields = json_object_get(root.t, "fields");
    const json_t *df = NULL, *part = NULL;
    for (size_t i = 0; json_is_array(fields) && i < json_array_size(fields);
         i++) {
        const json_t *fj = json_array_get(fields, i);
        if (json_integer_value(json_object_get(fj, "field-id")) == 2) {
            df = resolve(r, json_object_get(fj, "type"));
        }
    }
    fields = df ? json_object_get(df, "fields") : NULL;
    for (size_t i = 0; json_is_array(fields) && i < json_array_size(fields);
         i++) {
        const json_t *fj = json_array_get(fields, i);
        if (json_integer_value(json_object_get(fj, "field-id")) == 102) {
            part = resolve(r, json_object_get(fj, "type"));
        }
    }
    fields = part ? json_object_get(part, "fields") : NULL;
    size_t n = json_is_array(fields) ? json_array_size(fields) : 0;
    out->fields = lh__ice_alloc_array(a, n, sizeof(lh_ice_field));
    if (out->fields == NULL) {
        return nomem(r);
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *fj = json_array_get(fields, i);
        lh_ice_field *f = &out->fields[out->nfields];
        const json_t *id = json_object_get(fj, "field-id");
        if (!json_is_integer(id)) {
            continue;
        }
        f->id = (int32_t)json_integer_value(id);
        f->name = lh_arena_strdup(
            a, json_string_value(json_object_get(fj, "name"))
                   ? json_string_value(json_object_get(fj, "name"))
                   : "");
        const json_t *t = resolve(r, json_object_get(fj, "type"));
        if (json_is_array(t)) { /* ["null", T] */
            for (size_t k = 0; k < json_array_size(t); k++) {
                const json_t *b = resolve(r, json_array_get(t, k));
                if (strcmp(type_name(b), "null") != 0) {
                    t = b;
                    break;
                }
            }
        }
        avro_to_ice(t, &f->type);
        out->nfields++;
    }
    return LH_OK;
}

lh_rc
lh_ice_manifest_read(const uint8_t *p, size_t n, const char *name,
                     const lh_ice_manifest_file *mf, const lh_ice_meta *meta,
                     lh_arena *a, lh_ice_manifest *out, lh_err *err)
{
    memset(out, 0, sizeof(*out));
    reader r;
    lh_rc rc = reader_open(&r, p, n, name, a, err);
    int64_t v = -1;
    if (rc == LH_OK) {
        out->format_version = meta_int(&r.f, "format-version", &v) ? (int)v : 1;
        out->schema_id = meta_int(&r.f, "schema-id", &v) ? (int32_t)v : -1;
        out->spec_id = mf                                        ? mf->spec_id
                       : meta_int(&r.f, "partition-spec-id", &v) ? (int32_t)v
                                                                 : 0;
        const lh__ice_avro_kv *c = lh__ice_avro_meta(&r.f, "content");
        out->content =
            mf ? mf->content : (c != NULL && strcmp(c->value, "deletes") == 0);
        const lh__ice_avro_kv *s = lh__ice_avro_meta(&r.f, "schema");
        const lh__ice_avro_kv *ps = lh__ice_avro_meta(&r.f, "partition-spec");
        out->schema_json = s ? s->value : NULL;
        out->spec_json = ps ? ps->value : NULL;
        rc = partition_type(&r, meta, out->spec_id, out->schema_id, a,
                            &out->partition_type);
    }
    size_t cap = 0;
    int64_t next_row_id = mf && mf->has_first_row_id ? mf->first_row_id : -1;
    while (rc == LH_OK) {
        node rec, x;
        bool done;
        rc = reader_next(&r, &rec, &done);
        if (rc != LH_OK || done) {
            break;
        }
        if (grow(a, (void **)&out->entries, out->nentries, &cap,
                 sizeof(lh_ice_entry)) != LH_OK) {
            rc = nomem(&r);
            break;
        }
        lh_ice_entry *e = &out->entries[out->nentries];
        memset(e, 0, sizeof(*e));
        if (!get(&r, &rec, 0, "status", &x) || !as_i64(&x, &v) || v < 0 ||
            v > 2) {
            rc = bad_field(&r, "manifest", "status");
            break;
        }
        e->status = (uint8_t)v;
        bool has_snap =
            get(&r, &rec, 1, "snapshot_id", &x) && as_i64(&x, &e->snapshot_id);
        bool has_seq = get(&r, &rec, 3, "sequence_number", &x) &&
                       as_i64(&x, &e->sequence_number);
        bool has_fseq = get(&r, &rec, 4, "file_sequence_number", &x) &&
                        as_i64(&x, &e->file_sequence_number);
        if (!has_snap) {
            if (mf == NULL) {
                rc = bad_field(&r, "manifest", "snapshot_id");
                break;
            }
            e->snapshot_id = mf->added_snapshot_id;
        }
        /* Inherited only for ADDED entries; v1 manifests have none: 0. */
        if (!has_seq) {
            e->sequence_number =
                e->status == LH_ICE_ADDED && mf ? mf->sequence_number : 0;
        }
        if (!has_fseq) {
            e->file_sequence_number =
                e->status == LH_ICE_ADDED && mf ? mf->sequence_number : 0;
        }
        node d;
        if (!get(&r, &rec, 2, "data_file", &d) ||
            strcmp(type_name(d.t), "record") != 0) {
            rc = bad_field(&r, "manifest", "data_file");
            break;
        }
        rc = read_data_file(&r, &d, &out->partition_type, a, &e->file);
        if (rc != LH_OK) {
            break;
        }
        e->file.spec_id = out->spec_id;
        if (out->content == 0 && e->file.content != 0) {
            rc = lh_err_set(err, LH_EFORMAT,
                            "manifest \"%s\": a data manifest lists a delete "
                            "file \"%s\"",
                            name, e->file.path);
            break;
        }
        if (e->file.content == LH_ICE_CONTENT_DATA &&
            !e->file.has_first_row_id && next_row_id >= 0) {
            e->file.has_first_row_id = true;
            e->file.first_row_id = next_row_id;
            next_row_id += e->file.record_count;
        }
        out->nentries++;
    }
    reader_release(&r);
    return rc;
}

/* ---- copies ----------------------------------------------------------------
 */

static bool
dup_str(lh_arena *a, const char *in, const char **out)
{
    *out = in != NULL ? lh_arena_strdup(a, in) : NULL;
    return in == NULL || *out != NULL;
}

static bool
dup_mem(lh_arena *a, const void *in, size_t n, size_t size, void **out)
{
    if (in == NULL) {
        *out = NULL;
        return true;
    }
    *out = n ? lh_arena_memdup(a, in, n * size) : lh_arena_alloc(a, 0);
    return *out != NULL;
}

static bool
dup_metrics(lh_arena *a, const lh_ice_metric *in, uint32_t n,
            lh_ice_metric **out)
{
    void *p;
    bool ok = dup_mem(a, in, n, sizeof(*in), &p);
    *out = p;
    return ok;
}

static bool
dup_bounds(lh_arena *a, const lh_ice_bound *in, uint32_t n, lh_ice_bound **out)
{
    void *p;
    if (!dup_mem(a, in, n, sizeof(*in), &p)) {
        return false;
    }
    lh_ice_bound *b = p;
    for (uint32_t i = 0; b != NULL && i < n; i++) {
        void *bytes;
        if (!dup_mem(a, in[i].p, in[i].n, 1, &bytes)) {
            return false;
        }
        b[i].p = bytes;
    }
    *out = b;
    return true;
}

lh_rc
lh__ice_data_file_copy(lh_arena *a, const lh_ice_data_file *in,
                       lh_ice_data_file *out, lh_err *err)
{
    *out = *in;
    void *p;
    bool ok = dup_str(a, in->path, &out->path) &&
              dup_str(a, in->format, &out->format) &&
              dup_str(a, in->referenced_data_file, &out->referenced_data_file);
    ok = ok && dup_mem(a, in->partition, in->npartition, sizeof(lh_value), &p);
    if (ok) {
        out->partition = p;
        for (uint32_t i = 0; p != NULL && i < in->npartition; i++) {
            lh_value *v = &out->partition[i];
            uint8_t id = v->type.id;
            if (!v->is_null &&
                (id == LH_T_VARCHAR || id == LH_T_BLOB || id == LH_T_JSON) &&
                v->u.s.p != NULL) {
                char *c = lh_arena_alloc(a, v->u.s.len + 1);
                if (c == NULL) {
                    ok = false;
                    break;
                }
                memcpy(c, v->u.s.p, v->u.s.len);
                c[v->u.s.len] = 0;
                v->u.s.p = c;
            }
        }
    }
    ok = ok &&
         dup_metrics(a, in->column_sizes, in->ncolumn_sizes,
                     &out->column_sizes) &&
         dup_metrics(a, in->value_counts, in->nvalue_counts,
                     &out->value_counts) &&
         dup_metrics(a, in->null_counts, in->nnull_counts, &out->null_counts) &&
         dup_metrics(a, in->nan_counts, in->nnan_counts, &out->nan_counts) &&
         dup_bounds(a, in->lower, in->nlower, &out->lower) &&
         dup_bounds(a, in->upper, in->nupper, &out->upper);
    if (ok && dup_mem(a, in->key_metadata, in->nkey_metadata, 1, &p)) {
        out->key_metadata = p;
    } else {
        ok = false;
    }
    if (ok && dup_mem(a, in->split_offsets, in->nsplit_offsets, sizeof(int64_t),
                      &p)) {
        out->split_offsets = p;
    } else {
        ok = false;
    }
    if (ok &&
        dup_mem(a, in->equality_ids, in->nequality_ids, sizeof(int32_t), &p)) {
        out->equality_ids = p;
    } else {
        ok = false;
    }
    return ok ? LH_OK : lh_err_set(err, LH_ENOMEM, "out of memory");
}
