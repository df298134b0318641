/*
 * Table definitions: the JSON a user writes (lh_table_create), checked field
 * by field and normalized. CREATE TABLE (the SQL issue) maps onto the same
 * structure.
 */
#include <ctype.h>
#include <string.h>

#include "hot/hot_int.h"

/* Envelope column names: a payload column may not take one. */
static const char *const envelope_names[] = {
    "event_id",       "stream",     "version",
    "type",           "ts",         "committed_at",
    "shard",          "position",   "partition_key",
    "schema_version", "tier_hint",  "ttl_seconds",
    "embedding",      "checkpoint", "data",
};

static const char *const known_keys[] = {
    "name",
    "columns",
    "partition_by",
    "cluster_by",
    "hot_window",
    "warm_window",
    "shard_by",
    "shards",
    "embedding_dim",
    "vector_index",
    "schema_version",
    /* the tiering policy (lh_hot_policy) */
    "flush_rows",
    "flush_bytes",
    "flush_interval",
    "warm_file_size",
    "cold_file_size",
    "warm_row_group_rows",
    "cold_row_group_rows",
    "retention",
    "snapshot_max_age",
    "snapshot_min_count",
    "lake",
};

bool
lh__envelope_name(const char *name)
{
    for (size_t k = 0; k < LH_ARRAY_LEN(envelope_names); k++) {
        if (strcasecmp(name, envelope_names[k]) == 0) {
            return true;
        }
    }
    return false;
}

bool
lh__name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > LH_MAX_NAME) {
        return false;
    }
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_')) {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_')) {
            return false;
        }
    }
    return true;
}

/* Names fold to lowercase, as unquoted SQL identifiers do in PostgreSQL. */
static char *
fold_name(const char *s)
{
    char *d = lh_strdup(s);
    if (d != NULL) {
        for (char *p = d; *p; p++) {
            *p = (char)tolower((unsigned char)*p);
        }
    }
    return d;
}

int
lh__tabledef_col(const lh_tabledef *d, const char *name)
{
    for (size_t i = 0; i < d->ncols; i++) {
        if (strcasecmp(d->cols[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

void
lh__tabledef_free(lh_tabledef *d)
{
    if (d == NULL) {
        return;
    }
    lh_free(d->name);
    for (size_t i = 0; i < d->ncols; i++) {
        lh_free(d->cols[i].name);
    }
    lh_free(d->cols);
    lh_free(d->partition_by);
    for (size_t i = 0; i < d->ncluster; i++) {
        lh_free(d->cluster_by[i]);
    }
    lh_free(d->cluster_by);
    lh_free((char *)d->policy.lake);
    lh_free(d->json);
    lh_free(d);
}

static lh_rc field_err(lh_err *err, const char *field, lh_rc code,
                       const char *fmt, ...) LH_PRINTF(4, 5);

static lh_rc
field_err(lh_err *err, const char *field, lh_rc code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lh_err_setv(err, code, fmt, ap);
    va_end(ap);
    if (err != NULL) {
        snprintf(err->field, sizeof(err->field), "%s", field);
    }
    return code;
}

static lh_rc
parse_columns(lh_tabledef *d, const json_t *cols, lh_err *err)
{
    if (!json_is_array(cols)) {
        return field_err(err, "columns", LH_EINVAL,
                         "\"columns\" must be an array of column objects");
    }
    size_t n = json_array_size(cols);
    if (n > LH_MAX_COLUMNS) {
        return field_err(err, "columns", LH_ELIMIT,
                         "a table has at most %d columns, found %zu",
                         LH_MAX_COLUMNS, n);
    }
    d->cols = lh_calloc(n ? n : 1, sizeof(lh_coldef));
    if (d->cols == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    /* int64: an explicit id of INT32_MAX leaves no id for the next column,
     * which must be an error, not an overflow. */
    int64_t next_id = LH_FIRST_PAYLOAD_FIELD_ID;
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_array_get(cols, i);
        char field[64];
        snprintf(field, sizeof(field), "columns[%zu]", i);
        if (!json_is_object(c)) {
            return field_err(err, field, LH_EINVAL,
                             "%s must be an object with \"name\" and \"type\"",
                             field);
        }
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)c, key, v)
        {
            if (strcmp(key, "name") != 0 && strcmp(key, "type") != 0 &&
                strcmp(key, "nullable") != 0 && strcmp(key, "id") != 0) {
                return field_err(err, field, LH_EINVAL,
                                 "%s: unknown key \"%s\" (expected name, "
                                 "type, nullable)",
                                 field, key);
            }
        }
        const json_t *jn = json_object_get(c, "name");
        const json_t *jt = json_object_get(c, "type");
        const json_t *jnull = json_object_get(c, "nullable");
        const json_t *jid = json_object_get(c, "id");
        if (!json_is_string(jn)) {
            return field_err(err, field, LH_EINVAL,
                             "%s: \"name\" must be a string", field);
        }
        const char *name = json_string_value(jn);
        if (!lh__name_valid(name)) {
            return field_err(err, field, LH_EINVAL,
                             "%s: invalid column name \"%s\" (letters, digits "
                             "and _, not starting with a digit, at most %d)",
                             field, name, LH_MAX_NAME);
        }
        if (lh__envelope_name(name)) {
            return field_err(err, field, LH_EINVAL,
                             "%s: column name \"%s\" is reserved for the "
                             "event envelope",
                             field, name);
        }
        if (lh__tabledef_col(d, name) >= 0) {
            return field_err(err, field, LH_EINVAL,
                             "%s: duplicate column name \"%s\"", field, name);
        }
        if (!json_is_string(jt)) {
            return field_err(err, field, LH_EINVAL,
                             "%s (\"%s\"): \"type\" must be a string", field,
                             name);
        }
        lh_type t;
        lh_err terr;
        if (lh_type_parse(json_string_value(jt), &t, &terr) != LH_OK) {
            return field_err(err, field, LH_EINVAL, "column \"%s\": %s", name,
                             terr.msg);
        }
        if (t.id == LH_T_INTERVAL || t.id == LH_T_NULL) {
            return field_err(err, field, LH_EINVAL,
                             "column \"%s\": type %s is not a payload type",
                             name, json_string_value(jt));
        }
        if (jnull != NULL && !json_is_boolean(jnull)) {
            return field_err(err, field, LH_EINVAL,
                             "column \"%s\": \"nullable\" must be true or "
                             "false",
                             name);
        }
        if (jid == NULL && next_id > INT32_MAX) {
            return field_err(err, field, LH_EINVAL,
                             "column \"%s\": no field id is left after %d; "
                             "give it an \"id\"",
                             name, (int)INT32_MAX);
        }
        int32_t id = (int32_t)next_id;
        if (jid != NULL) {
            if (!json_is_integer(jid) ||
                json_integer_value(jid) < LH_FIRST_PAYLOAD_FIELD_ID ||
                json_integer_value(jid) > INT32_MAX) {
                return field_err(err, field, LH_EINVAL,
                                 "column \"%s\": \"id\" must be an integer "
                                 ">= %d",
                                 name, LH_FIRST_PAYLOAD_FIELD_ID);
            }
            id = (int32_t)json_integer_value(jid);
            for (size_t k = 0; k < d->ncols; k++) {
                if (d->cols[k].field_id == id) {
                    return field_err(err, field, LH_EINVAL,
                                     "column \"%s\": field id %d is used "
                                     "twice",
                                     name, (int)id);
                }
            }
        }
        next_id = LH_MAX(next_id, (int64_t)id + 1);
        lh_coldef *cd = &d->cols[d->ncols];
        cd->name = fold_name(name);
        if (cd->name == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        cd->type = t;
        cd->nullable = jnull == NULL || json_is_true(jnull);
        cd->field_id = id;
        d->ncols++;
    }
    return LH_OK;
}

/* Accepts "day(ts)", "hour(ts)", "month(ts)", "year(ts)", "identity(c)",
 * "c", "bucket(N, c)", "truncate(W, c)", "void(c)": the Iceberg transforms,
 * over ts or a payload column. */
static lh_rc
check_partition(const lh_tabledef *d, const char *spec, lh_err *err)
{
    char buf[160];
    size_t j = 0;
    for (const char *p = spec; *p && j + 1 < sizeof(buf); p++) {
        if (!isspace((unsigned char)*p)) {
            buf[j++] = (char)tolower((unsigned char)*p);
        }
    }
    buf[j] = 0;
    char fn[32] = "", arg1[80] = "", arg2[80] = "";
    const char *open = strchr(buf, '(');
    const char *col;
    if (open == NULL) {
        col = buf;
        snprintf(fn, sizeof(fn), "identity");
    } else {
        size_t fl = (size_t)(open - buf);
        size_t bl = strlen(buf);
        if (fl == 0 || fl >= sizeof(fn) || buf[bl - 1] != ')') {
            goto bad;
        }
        memcpy(fn, buf, fl);
        fn[fl] = 0;
        const char *inner = open + 1;
        size_t il = bl - fl - 2;
        const char *comma = memchr(inner, ',', il);
        if (comma != NULL) {
            size_t a1 = (size_t)(comma - inner);
            if (a1 == 0 || a1 >= sizeof(arg1) || il - a1 - 1 >= sizeof(arg2)) {
                goto bad;
            }
            memcpy(arg1, inner, a1);
            arg1[a1] = 0;
            memcpy(arg2, comma + 1, il - a1 - 1);
            arg2[il - a1 - 1] = 0;
            col = arg2;
        } else {
            if (il >= sizeof(arg1)) {
                goto bad;
            }
            memcpy(arg1, inner, il);
            arg1[il] = 0;
            col = arg1;
        }
    }
    bool time_fn = strcmp(fn, "day") == 0 || strcmp(fn, "hour") == 0 ||
                   strcmp(fn, "month") == 0 || strcmp(fn, "year") == 0;
    bool arg_fn = strcmp(fn, "bucket") == 0 || strcmp(fn, "truncate") == 0;
    bool plain_fn = strcmp(fn, "identity") == 0 || strcmp(fn, "void") == 0;
    if (!time_fn && !arg_fn && !plain_fn) {
        return field_err(err, "partition_by", LH_EINVAL,
                         "unknown partition transform \"%s\" in \"%s\" "
                         "(expected identity, bucket, truncate, year, month, "
                         "day, hour or void)",
                         fn, spec);
    }
    if (arg_fn != (arg2[0] != 0)) {
        goto bad;
    }
    if (arg_fn) {
        char *end;
        long w = strtol(arg1, &end, 10);
        if (*end != 0 || w <= 0 || w > INT32_MAX) {
            goto bad;
        }
    }
    int ci = lh__tabledef_col(d, col);
    bool is_ts = strcmp(col, "ts") == 0 || strcmp(col, "committed_at") == 0;
    if (ci < 0 && !is_ts && strcmp(col, "stream") != 0 &&
        strcmp(col, "type") != 0 && strcmp(col, "partition_key") != 0) {
        return field_err(err, "partition_by", LH_EINVAL,
                         "partition_by \"%s\" names unknown column \"%s\"",
                         spec, col);
    }
    if (time_fn && !is_ts) {
        lh_type_id t = ci >= 0 ? d->cols[ci].type.id : LH_T_VARCHAR;
        if (t != LH_T_DATE && t != LH_T_TIMESTAMP && t != LH_T_TIMESTAMPTZ) {
            return field_err(err, "partition_by", LH_EINVAL,
                             "partition_by \"%s\": %s() needs a date or "
                             "timestamp column",
                             spec, fn);
        }
    }
    return LH_OK;
bad:
    return field_err(err, "partition_by", LH_EINVAL,
                     "malformed partition_by \"%s\" (e.g. \"day(ts)\", "
                     "\"bucket(16, tenant_id)\")",
                     spec);
}

static lh_rc
parse_window(const json_t *j, const char *key, lh_us dflt, lh_us *out,
             lh_err *err)
{
    if (j == NULL) {
        *out = dflt;
        return LH_OK;
    }
    /* The normalized definition stores whole seconds, so a window must be
     * a whole number of seconds (else "500ms" would be stored as 0, which
     * does not read back) and its µs must fit in lh_us. */
    if (json_is_integer(j)) {
        json_int_t v = json_integer_value(j);
        if (v > 0 && v <= INT64_MAX / LH_US_PER_SEC) {
            *out = v * LH_US_PER_SEC;
            return LH_OK;
        }
    } else if (json_is_string(j)) {
        lh_err derr;
        if (lh_duration_parse(json_string_value(j), out, &derr) == LH_OK &&
            *out > 0 && *out % LH_US_PER_SEC == 0) {
            return LH_OK;
        }
    }
    return field_err(err, key, LH_EINVAL,
                     "\"%s\" must be a positive duration of whole seconds "
                     "such as \"72h\", \"90d\" or 3600",
                     key);
}

/* ---- the tiering policy (lh_hot_policy) --------------------------------- */

/* The defaults of lh_hot_policy (hot.h says why each). */
#define FLUSH_ROWS_DEFAULT 1000000
#define FLUSH_BYTES_DEFAULT (INT64_C(256) << 20)
#define FLUSH_INTERVAL_DEFAULT (60 * LH_US_PER_SEC)
#define WARM_FILE_DEFAULT (INT64_C(64) << 20)
#define COLD_FILE_DEFAULT (INT64_C(256) << 20)
#define WARM_GROUP_DEFAULT 16384
#define COLD_GROUP_DEFAULT 131072
#define SNAPSHOT_AGE_DEFAULT (7 * LH_US_PER_DAY)
#define SNAPSHOT_COUNT_DEFAULT 10
/* Bounds that keep a policy sane: a file or a flush budget below these
 * would make a file per handful of events. */
#define MIN_BYTES 1024
#define MAX_ROW_GROUP_ROWS (INT64_C(1) << 24)

/* A whole number from lo to hi, or a size ("64MiB") when `size`. */
static lh_rc
parse_count(const json_t *j, const char *key, bool size, int64_t lo, int64_t hi,
            int64_t dflt, int64_t *out, lh_err *err)
{
    if (j == NULL) {
        *out = dflt;
        return LH_OK;
    }
    int64_t v = -1;
    bool ok = false;
    if (json_is_integer(j)) {
        v = json_integer_value(j);
        ok = true;
    } else if (size && json_is_string(j)) {
        ok = lh_size_parse(json_string_value(j), &v);
    }
    if (ok && v >= lo && v <= hi) {
        *out = v;
        return LH_OK;
    }
    if (size) {
        return field_err(err, key, LH_EINVAL,
                         "\"%s\" must be a size of at least %lld bytes, "
                         "such as \"64MiB\" or 1048576",
                         key, (long long)lo);
    }
    return field_err(err, key, LH_EINVAL,
                     "\"%s\" must be an integer from %lld to %lld", key,
                     (long long)lo, (long long)hi);
}

static lh_rc
parse_policy(lh_tabledef *d, const json_t *root, lh_err *err)
{
    lh_hot_policy *p = &d->policy;
    p->hot_window = d->hot_window;
    p->warm_window = d->warm_window;
    lh_rc rc =
        parse_count(json_object_get(root, "flush_rows"), "flush_rows", false, 1,
                    INT64_MAX, FLUSH_ROWS_DEFAULT, &p->flush_rows, err);
    if (rc == LH_OK) {
        rc = parse_count(json_object_get(root, "flush_bytes"), "flush_bytes",
                         true, MIN_BYTES, INT64_MAX, FLUSH_BYTES_DEFAULT,
                         &p->flush_bytes, err);
    }
    if (rc == LH_OK) {
        rc = parse_window(json_object_get(root, "flush_interval"),
                          "flush_interval", FLUSH_INTERVAL_DEFAULT,
                          &p->flush_interval, err);
    }
    if (rc == LH_OK) {
        rc = parse_count(json_object_get(root, "warm_file_size"),
                         "warm_file_size", true, MIN_BYTES, INT64_MAX,
                         WARM_FILE_DEFAULT, &p->warm_file_size, err);
    }
    if (rc == LH_OK) {
        rc = parse_count(json_object_get(root, "cold_file_size"),
                         "cold_file_size", true, MIN_BYTES, INT64_MAX,
                         COLD_FILE_DEFAULT, &p->cold_file_size, err);
    }
    if (rc == LH_OK) {
        rc = parse_count(json_object_get(root, "warm_row_group_rows"),
                         "warm_row_group_rows", false, 1, MAX_ROW_GROUP_ROWS,
                         WARM_GROUP_DEFAULT, &p->warm_row_group_rows, err);
    }
    if (rc == LH_OK) {
        rc = parse_count(json_object_get(root, "cold_row_group_rows"),
                         "cold_row_group_rows", false, 1, MAX_ROW_GROUP_ROWS,
                         COLD_GROUP_DEFAULT, &p->cold_row_group_rows, err);
    }
    const json_t *jr = json_object_get(root, "retention");
    if (rc == LH_OK && jr != NULL && !json_is_null(jr)) {
        rc = parse_window(jr, "retention", 0, &p->retention, err);
    }
    if (rc == LH_OK) {
        rc = parse_window(json_object_get(root, "snapshot_max_age"),
                          "snapshot_max_age", SNAPSHOT_AGE_DEFAULT,
                          &p->snapshot_max_age, err);
    }
    if (rc == LH_OK) {
        rc = parse_count(json_object_get(root, "snapshot_min_count"),
                         "snapshot_min_count", false, 1, INT32_MAX,
                         SNAPSHOT_COUNT_DEFAULT, &p->snapshot_min_count, err);
    }
    const json_t *jl = json_object_get(root, "lake");
    if (rc == LH_OK && jl != NULL && !json_is_null(jl)) {
        const char *u = json_is_string(jl) ? json_string_value(jl) : NULL;
        if (u == NULL || u[0] == 0 || strlen(u) > 2048 ||
            !lh_utf8_valid(u, strlen(u))) {
            return field_err(err, "lake", LH_EINVAL,
                             "\"lake\" must be an object store URI such as "
                             "\"file:///data/lake\" or "
                             "\"s3://bucket/prefix?endpoint=...\"");
        }
        p->lake = lh_strdup(u);
        if (p->lake == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    return rc;
}

static void
normalize_policy(json_t *o, const lh_hot_policy *p)
{
    json_object_set_new(o, "flush_rows", json_integer(p->flush_rows));
    json_object_set_new(o, "flush_bytes", json_integer(p->flush_bytes));
    json_object_set_new(o, "flush_interval",
                        json_integer(p->flush_interval / LH_US_PER_SEC));
    json_object_set_new(o, "warm_file_size", json_integer(p->warm_file_size));
    json_object_set_new(o, "cold_file_size", json_integer(p->cold_file_size));
    json_object_set_new(o, "warm_row_group_rows",
                        json_integer(p->warm_row_group_rows));
    json_object_set_new(o, "cold_row_group_rows",
                        json_integer(p->cold_row_group_rows));
    json_object_set_new(o, "retention",
                        p->retention > 0
                            ? json_integer(p->retention / LH_US_PER_SEC)
                            : json_null());
    json_object_set_new(o, "snapshot_max_age",
                        json_integer(p->snapshot_max_age / LH_US_PER_SEC));
    json_object_set_new(o, "snapshot_min_count",
                        json_integer(p->snapshot_min_count));
    json_object_set_new(o, "lake",
                        p->lake ? json_string(p->lake) : json_null());
}

/* ---- the vector index (vindex.c) ------------------------------------------
 * "vector_index": {"metric": "l2" | "ip" | "cosine", "m": 16,
 * "ef_construction": 200, "ef_search": 64, "nlist": 256, "pq_m": dims/8,
 * "nprobe": 16, "refine": 10, "cold_nprobe": 8}, every key optional (the
 * HNSW defaults of lh_hnsw_config_default; the lake's of vector.md), only
 * with an embedding_dim. */

static lh_rc parse_vindex_keys(lh_tabledef *d, const json_t *j, lh_err *err);

static lh_rc
parse_vindex(lh_tabledef *d, const json_t *j, lh_err *err)
{
    lh_hnsw_config c;
    lh_hnsw_config_default(&c, 1, LH_VEC_L2);
    d->vindex.metric = LH_VEC_L2;
    d->vindex.m = c.m;
    d->vindex.ef_construction = c.ef_construction;
    d->vindex.ef_search = c.ef_search;
    d->vindex.nlist = 256;
    d->vindex.pq_m = 0; /* the prefix's dims / 8 (below) */
    d->vindex.nprobe = 16;
    d->vindex.refine = 10;
    d->vindex.cold_nprobe = 8;
    lh_rc rc =
        j == NULL || json_is_null(j) ? LH_OK : parse_vindex_keys(d, j, err);
    /* the warm IVF-PQ indexes the first min(256, dim) dims; its code
     * bytes must divide them */
    uint32_t prefix = d->embedding_dim < 256 ? d->embedding_dim : 256;
    if (rc == LH_OK && prefix > 0 && d->vindex.pq_m == 0) {
        d->vindex.pq_m = prefix % 8 == 0 ? prefix / 8 : prefix;
    }
    if (rc == LH_OK && prefix > 0 && prefix % d->vindex.pq_m != 0) {
        rc = field_err(err, "vector_index", LH_EINVAL,
                       "\"vector_index\".\"pq_m\" (%u) must divide the %u "
                       "dims the warm tier's index covers",
                       d->vindex.pq_m, prefix);
    }
    return rc;
}

static lh_rc
parse_vindex_keys(lh_tabledef *d, const json_t *j, lh_err *err)
{
    if (!json_is_object(j) || d->embedding_dim == 0) {
        return field_err(err, "vector_index", LH_EINVAL,
                         "\"vector_index\" must be an object (metric, m, "
                         "ef_construction, ef_search) of a table with an "
                         "embedding_dim");
    }
    static const struct {
        const char *key;
        int64_t lo, hi;
    } counts[] = {{"m", 2, 256},           {"ef_construction", 1, 10000},
                  {"ef_search", 1, 10000}, {"nlist", 1, 65536},
                  {"pq_m", 1, 256},        {"nprobe", 1, 65536},
                  {"refine", 1, 100},      {"cold_nprobe", 1, 65536}};
    uint32_t *dst[] = {&d->vindex.m,         &d->vindex.ef_construction,
                       &d->vindex.ef_search, &d->vindex.nlist,
                       &d->vindex.pq_m,      &d->vindex.nprobe,
                       &d->vindex.refine,    &d->vindex.cold_nprobe};
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)j, key, v)
    {
        if (strcmp(key, "metric") == 0) {
            lh_vec_metric m;
            if (!json_is_string(v) ||
                lh_vec_metric_parse(json_string_value(v), &m, NULL) != LH_OK) {
                return field_err(err, "vector_index", LH_EINVAL,
                                 "\"vector_index\".\"metric\" must be "
                                 "\"l2\", \"ip\" or \"cosine\"");
            }
            d->vindex.metric = (uint8_t)m;
            continue;
        }
        size_t k = 0;
        while (k < LH_ARRAY_LEN(counts) && strcmp(key, counts[k].key) != 0) {
            k++;
        }
        if (k == LH_ARRAY_LEN(counts)) {
            return field_err(err, "vector_index", LH_EINVAL,
                             "unknown key \"%s\" in \"vector_index\" "
                             "(metric, m, ef_construction, ef_search, nlist, "
                             "pq_m, nprobe, refine, cold_nprobe)",
                             key);
        }
        if (!json_is_integer(v) || json_integer_value(v) < counts[k].lo ||
            json_integer_value(v) > counts[k].hi) {
            return field_err(err, "vector_index", LH_EINVAL,
                             "\"vector_index\".\"%s\" must be an integer "
                             "from %lld to %lld",
                             key, (long long)counts[k].lo,
                             (long long)counts[k].hi);
        }
        *dst[k] = (uint32_t)json_integer_value(v);
    }
    return LH_OK;
}

static void
normalize_vindex(json_t *o, const lh_tabledef *d)
{
    if (d->embedding_dim == 0) {
        return;
    }
    json_t *v = json_object();
    json_object_set_new(
        v, "metric",
        json_string(lh_vec_metric_name((lh_vec_metric)d->vindex.metric)));
    json_object_set_new(v, "m", json_integer(d->vindex.m));
    json_object_set_new(v, "ef_construction",
                        json_integer(d->vindex.ef_construction));
    json_object_set_new(v, "ef_search", json_integer(d->vindex.ef_search));
    json_object_set_new(v, "nlist", json_integer(d->vindex.nlist));
    json_object_set_new(v, "pq_m", json_integer(d->vindex.pq_m));
    json_object_set_new(v, "nprobe", json_integer(d->vindex.nprobe));
    json_object_set_new(v, "refine", json_integer(d->vindex.refine));
    json_object_set_new(v, "cold_nprobe", json_integer(d->vindex.cold_nprobe));
    json_object_set_new(o, "vector_index", v);
}

static lh_rc
normalize(lh_tabledef *d, lh_err *err)
{
    json_t *o = json_object();
    json_t *cols = json_array();
    if (o == NULL || cols == NULL) {
        json_decref(o);
        json_decref(cols);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    json_object_set_new(o, "name", json_string(d->name));
    for (size_t i = 0; i < d->ncols; i++) {
        char tn[48];
        json_t *c = json_object();
        json_object_set_new(c, "id", json_integer(d->cols[i].field_id));
        json_object_set_new(c, "name", json_string(d->cols[i].name));
        json_object_set_new(c, "type",
                            json_string(lh_type_name(d->cols[i].type, tn)));
        json_object_set_new(c, "nullable", json_boolean(d->cols[i].nullable));
        json_array_append_new(cols, c);
    }
    json_object_set_new(o, "columns", cols);
    json_object_set_new(o, "partition_by", json_string(d->partition_by));
    json_t *cl = json_array();
    for (size_t i = 0; i < d->ncluster; i++) {
        json_array_append_new(cl, json_string(d->cluster_by[i]));
    }
    json_object_set_new(o, "cluster_by", cl);
    json_object_set_new(o, "hot_window",
                        json_integer(d->hot_window / LH_US_PER_SEC));
    json_object_set_new(o, "warm_window",
                        json_integer(d->warm_window / LH_US_PER_SEC));
    json_object_set_new(
        o, "shard_by",
        json_string(d->shard_col < 0 ? "stream" : d->cols[d->shard_col].name));
    json_object_set_new(o, "shards", json_integer(d->nshards));
    json_object_set_new(o, "embedding_dim", json_integer(d->embedding_dim));
    normalize_vindex(o, d);
    json_object_set_new(o, "schema_version", json_integer(d->schema_version));
    normalize_policy(o, &d->policy);
    d->json = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (d->json == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    /* json_dumps allocates with malloc; keep lh_free's contract. */
    char *copy = lh_strdup(d->json);
    free(d->json);
    d->json = copy;
    return copy ? LH_OK : lh_err_set(err, LH_ENOMEM, "out of memory");
}

static lh_rc
parse_def(lh_tabledef *d, const json_t *root, lh_err *err)
{
    if (!json_is_object(root)) {
        return lh_err_set(err, LH_EINVAL,
                          "a table definition must be a JSON object");
    }
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)root, key, v)
    {
        bool known = false;
        for (size_t k = 0; k < LH_ARRAY_LEN(known_keys); k++) {
            known = known || strcmp(key, known_keys[k]) == 0;
        }
        if (!known) {
            return field_err(err, key, LH_EINVAL,
                             "unknown key \"%s\" in the table definition", key);
        }
    }
    const json_t *jname = json_object_get(root, "name");
    if (!json_is_string(jname) || !lh__name_valid(json_string_value(jname))) {
        return field_err(err, "name", LH_EINVAL,
                         "\"name\" must be a table name (letters, digits and "
                         "_, not starting with a digit, at most %d)",
                         LH_MAX_NAME);
    }
    d->name = fold_name(json_string_value(jname));
    if (d->name == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    const json_t *jcols = json_object_get(root, "columns");
    if (jcols != NULL) { /* a table may have no payload columns */
        lh_rc rc = parse_columns(d, jcols, err);
        if (rc != LH_OK) {
            return rc;
        }
    }

    const json_t *jp = json_object_get(root, "partition_by");
    if (jp != NULL && !json_is_string(jp)) {
        return field_err(err, "partition_by", LH_EINVAL,
                         "\"partition_by\" must be a string such as "
                         "\"day(ts)\"");
    }
    d->partition_by = lh_strdup(jp ? json_string_value(jp) : "day(ts)");
    if (d->partition_by == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = check_partition(d, d->partition_by, err);
    if (rc != LH_OK) {
        return rc;
    }

    const json_t *jc = json_object_get(root, "cluster_by");
    if (jc != NULL) {
        if (!json_is_array(jc)) {
            return field_err(err, "cluster_by", LH_EINVAL,
                             "\"cluster_by\" must be an array of column "
                             "names");
        }
        d->cluster_by = lh_calloc(json_array_size(jc) + 1, sizeof(char *));
        if (d->cluster_by == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < json_array_size(jc); i++) {
            const json_t *e = json_array_get(jc, i);
            const char *cn = json_is_string(e) ? json_string_value(e) : NULL;
            if (cn == NULL ||
                (lh__tabledef_col(d, cn) < 0 && strcmp(cn, "ts") != 0 &&
                 strcmp(cn, "stream") != 0 && strcmp(cn, "type") != 0)) {
                return field_err(err, "cluster_by", LH_EINVAL,
                                 "cluster_by[%zu] is not a column of the "
                                 "table",
                                 i);
            }
            d->cluster_by[d->ncluster] = fold_name(cn);
            if (d->cluster_by[d->ncluster] == NULL) {
                return lh_err_set(err, LH_ENOMEM, "out of memory");
            }
            d->ncluster++;
        }
    }

    rc = parse_window(json_object_get(root, "hot_window"), "hot_window",
                      72 * 3600 * LH_US_PER_SEC, &d->hot_window, err);
    if (rc == LH_OK) {
        rc = parse_window(json_object_get(root, "warm_window"), "warm_window",
                          90 * LH_US_PER_DAY, &d->warm_window, err);
    }
    if (rc != LH_OK) {
        return rc;
    }

    const json_t *js = json_object_get(root, "shard_by");
    d->shard_col = -1;
    if (js != NULL) {
        if (!json_is_string(js)) {
            return field_err(err, "shard_by", LH_EINVAL,
                             "\"shard_by\" must be \"stream\" or a payload "
                             "column name");
        }
        const char *sb = json_string_value(js);
        if (strcasecmp(sb, "stream") != 0) {
            d->shard_col = lh__tabledef_col(d, sb);
            if (d->shard_col < 0) {
                return field_err(err, "shard_by", LH_EINVAL,
                                 "shard_by names unknown column \"%s\"", sb);
            }
            lh_type_id t = d->cols[d->shard_col].type.id;
            if (t == LH_T_VECTOR || t == LH_T_JSON || t == LH_T_BLOB ||
                t == LH_T_REAL || t == LH_T_DOUBLE) {
                return field_err(err, "shard_by", LH_EINVAL,
                                 "shard_by column \"%s\" must be of a key "
                                 "type (integer, text, uuid, date, decimal)",
                                 sb);
            }
        }
    }

    const json_t *jsh = json_object_get(root, "shards");
    d->nshards = 16;
    if (jsh != NULL) {
        if (!json_is_integer(jsh) || json_integer_value(jsh) < 1 ||
            json_integer_value(jsh) > LH_MAX_SHARDS) {
            return field_err(err, "shards", LH_EINVAL,
                             "\"shards\" must be an integer from 1 to %d",
                             LH_MAX_SHARDS);
        }
        d->nshards = (int)json_integer_value(jsh);
    }

    const json_t *je = json_object_get(root, "embedding_dim");
    if (je != NULL && !json_is_null(je)) {
        if (!json_is_integer(je) || json_integer_value(je) < 0 ||
            json_integer_value(je) > LH_MAX_EMBEDDING) {
            return field_err(err, "embedding_dim", LH_EINVAL,
                             "\"embedding_dim\" must be an integer from 0 to "
                             "%d",
                             LH_MAX_EMBEDDING);
        }
        d->embedding_dim = (uint32_t)json_integer_value(je);
    }
    rc = parse_vindex(d, json_object_get(root, "vector_index"), err);
    if (rc != LH_OK) {
        return rc;
    }
    const json_t *jsv = json_object_get(root, "schema_version");
    d->schema_version = 1;
    if (jsv != NULL) {
        if (!json_is_integer(jsv) || json_integer_value(jsv) < 1 ||
            json_integer_value(jsv) > INT32_MAX) {
            return field_err(err, "schema_version", LH_EINVAL,
                             "\"schema_version\" must be a positive integer");
        }
        d->schema_version = (int32_t)json_integer_value(jsv);
    }
    rc = parse_policy(d, root, err);
    if (rc != LH_OK) {
        return rc;
    }
    return normalize(d, err);
}

lh_rc
lh__tabledef_parse(const char *json, size_t len, lh_tabledef **out, lh_err *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        lh_err_set(err, LH_EINVAL,
                   "malformed table definition: %s at line %d column %d",
                   jerr.text, jerr.line, jerr.column);
        if (err != NULL) {
            err->offset = jerr.position;
        }
        return LH_EINVAL;
    }
    lh_tabledef *d = lh_calloc(1, sizeof(*d));
    if (d == NULL) {
        json_decref(root);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = parse_def(d, root, err);
    json_decref(root);
    if (rc != LH_OK) {
        lh__tabledef_free(d);
        return rc;
    }
    *out = d;
    return LH_OK;
}
