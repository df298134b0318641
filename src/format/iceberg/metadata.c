/*
 * Table metadata JSON (spec "Table Metadata", Appendix C, Appendix E):
 * reading v1, v2 and v3 with every field checked, writing v2 and v3, and
 * the codec sniffing of metadata files (gzip, zstd).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "format/iceberg/iceberg_int.h"

#define WHERE "table metadata"
#define METADATA_LIMIT ((size_t)512 << 20)

/* ---- decompression ---------------------------------------------------------
 */

static lh_rc
gunzip(const uint8_t *p, size_t n, size_t limit, lh_buf *out, lh_err *err)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        return lh_err_set(err, LH_ENOMEM, "out of memory starting gzip");
    }
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)LH_MIN(n, (size_t)UINT32_MAX);
    lh_rc rc = LH_OK;
    for (;;) {
        if (lh_buf_reserve(out, 65536) != LH_OK) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory reading gzip");
            break;
        }
        z.next_out = (Bytef *)out->data + out->len;
        z.avail_out = (uInt)(out->cap - out->len - 1);
        int zr = inflate(&z, Z_NO_FLUSH);
        out->len = (size_t)((char *)z.next_out - out->data);
        out->data[out->len] = 0;
        if (out->len > limit) {
            rc = lh_err_set(err, LH_ELIMIT, "gzip data inflates past %zu bytes",
                            limit);
            break;
        }
        if (zr == Z_STREAM_END) {
            /* Concatenated members continue. */
            if (z.avail_in > 0 && inflateReset(&z) == Z_OK) {
                continue;
            }
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = lh_err_set(err, LH_ECORRUPT, "corrupt gzip data: %s",
                            z.msg ? z.msg : "inflate failed");
            break;
        }
        if (zr == Z_BUF_ERROR && z.avail_in == 0) {
            rc = lh_err_set(err, LH_ECORRUPT, "truncated gzip data");
            break;
        }
    }
    inflateEnd(&z);
    return rc;
}

static lh_rc
unzstd(const uint8_t *p, size_t n, size_t limit, lh_buf *out, lh_err *err)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (ds == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory starting zstd");
    }
    ZSTD_inBuffer in = {p, n, 0};
    lh_rc rc = LH_OK;
    size_t last = 1;
    while (in.pos < in.size || last != 0) {
        if (lh_buf_reserve(out, 65536) != LH_OK) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory reading zstd");
            break;
        }
        ZSTD_outBuffer ob = {out->data + out->len, out->cap - out->len - 1, 0};
        size_t before = in.pos;
        last = ZSTD_decompressStream(ds, &ob, &in);
        out->len += ob.pos;
        out->data[out->len] = 0;
        if (ZSTD_isError(last)) {
            rc = lh_err_set(err, LH_ECORRUPT, "corrupt zstd data: %s",
                            ZSTD_getErrorName(last));
            break;
        }
        if (out->len > limit) {
            rc = lh_err_set(err, LH_ELIMIT,
                            "zstd data decompresses past %zu bytes", limit);
            break;
        }
        if (in.pos == in.size && last != 0 && ob.pos == 0 && in.pos == before) {
            rc = lh_err_set(err, LH_ECORRUPT, "truncated zstd data");
            break;
        }
    }
    ZSTD_freeDStream(ds);
    return rc;
}

lh_rc
lh_ice_decompress_sniff(const uint8_t *p, size_t n, size_t limit, lh_buf *out,
                        lh_err *err)
{
    lh_buf_reset(out);
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
        return gunzip(p, n, limit, out, err);
    }
    if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f &&
        p[3] == 0xfd) {
        return unzstd(p, n, limit, out, err);
    }
    if (n > limit) {
        return lh_err_set(err, LH_ELIMIT, "document larger than %zu bytes",
                          limit);
    }
    if (lh_buf_append(out, p, n) != LH_OK) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    return LH_OK;
}

/* ---- reading ---------------------------------------------------------------
 */

typedef struct ctx {
    lh_arena *a;
    lh_err *err;
    lh_ice_meta *m;
} ctx;

#define CHECK(x)                                                               \
    do {                                                                       \
        lh_rc rc_ = (x);                                                       \
        if (rc_ != LH_OK) {                                                    \
            return rc_;                                                        \
        }                                                                      \
    } while (0)

static lh_rc
nomem(lh_err *err)
{
    return lh_err_set(err, LH_ENOMEM, WHERE ": out of memory");
}

static lh_rc bad(lh_err *err, const char *fmt, ...) LH_PRINTF(2, 3);

static lh_rc
bad(lh_err *err, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return lh_err_set(err, LH_EFORMAT, WHERE ": %s", msg);
}

static lh_rc
read_schemas(ctx *c, const json_t *j)
{
    lh_ice_meta *m = c->m;
    int v = m->format_version;
    const json_t *list, *one;
    bool has_current = false;
    CHECK(lh__ice_j_array(j, "schemas", v >= 2, &list, WHERE, c->err));
    CHECK(lh__ice_j_i32(j, "current-schema-id", v >= 2, &m->current_schema_id,
                        &has_current, WHERE, c->err));
    CHECK(lh__ice_j_object(j, "schema", false, &one, WHERE, c->err));
    size_t n = list ? json_array_size(list) : 0;
    bool use_list = list != NULL && (has_current || v >= 2);
    if (!use_list && one == NULL) {
        if (list != NULL) {
            return bad(c->err, "no valid schema: \"schemas\" without "
                               "\"current-schema-id\", and no \"schema\"");
        }
        return bad(c->err, "missing \"schema\" (or \"schemas\")");
    }
    m->schemas = lh__ice_alloc_array(c->a, n + 1, sizeof(lh_ice_schema));
    if (m->schemas == NULL) {
        return nomem(c->err);
    }
    if (use_list) {
        if (n == 0) {
            return bad(c->err, "\"schemas\" is empty");
        }
        for (size_t i = 0; i < n; i++) {
            char where[64];
            snprintf(where, sizeof(where), WHERE ": schemas[%zu]", i);
            CHECK(lh__ice_schema_from_json(json_array_get(list, i), c->a, 0,
                                           true, where, &m->schemas[i],
                                           c->err));
            for (size_t k = 0; k < i; k++) {
                if (m->schemas[k].schema_id == m->schemas[i].schema_id) {
                    return bad(c->err, "schema id %d is used twice",
                               m->schemas[i].schema_id);
                }
            }
        }
        m->nschemas = (uint32_t)n;
    } else {
        /* v1: the single current schema. */
        CHECK(lh__ice_schema_from_json(one, c->a, 0, false, WHERE ": schema",
                                       &m->schemas[0], c->err));
        m->nschemas = 1;
        m->current_schema_id = m->schemas[0].schema_id;
    }
    if (lh_ice_meta_schema(m, m->current_schema_id) == NULL) {
        return bad(c->err, "current-schema-id %d is not one of the schemas",
                   m->current_schema_id);
    }
    return LH_OK;
}

static lh_rc
read_specs(ctx *c, const json_t *j)
{
    lh_ice_meta *m = c->m;
    int v = m->format_version;
    const json_t *list, *one;
    bool has_default = false, has_last = false;
    CHECK(lh__ice_j_array(j, "partition-specs", v >= 2, &list, WHERE, c->err));
    CHECK(lh__ice_j_i32(j, "default-spec-id", v >= 2, &m->default_spec_id,
                        &has_default, WHERE, c->err));
    CHECK(lh__ice_j_i32(j, "last-partition-id", v >= 2, &m->last_partition_id,
                        &has_last, WHERE, c->err));
    CHECK(lh__ice_j_array(j, "partition-spec", false, &one, WHERE, c->err));
    int32_t next_id = 1000; /* v1 fields without ids: 1000, 1001, ... */
    int32_t *next = v >= 2 ? NULL : &next_id;
    if (list != NULL) {
        size_t n = json_array_size(list);
        if (n == 0) {
            return bad(c->err, "\"partition-specs\" is empty");
        }
        m->specs = lh__ice_alloc_array(c->a, n, sizeof(lh_ice_partition_spec));
        if (m->specs == NULL) {
            return nomem(c->err);
        }
        for (size_t i = 0; i < n; i++) {
            char where[64];
            snprintf(where, sizeof(where), WHERE ": partition-specs[%zu]", i);
            if (next != NULL) {
                next_id = 1000;
            }
            CHECK(lh__ice_spec_from_json(json_array_get(list, i), c->a, false,
                                         0, next, where, &m->specs[i], c->err));
            for (size_t k = 0; k < i; k++) {
                if (m->specs[k].spec_id == m->specs[i].spec_id) {
                    return bad(c->err, "partition spec id %d is used twice",
                               m->specs[i].spec_id);
                }
            }
        }
        m->nspecs = (uint32_t)n;
        if (!has_default) {
            /* v1 without default-spec-id: the newest spec. */
            m->default_spec_id = m->specs[0].spec_id;
            for (uint32_t i = 1; i < m->nspecs; i++) {
                m->default_spec_id =
                    LH_MAX(m->default_spec_id, m->specs[i].spec_id);
            }
        }
    } else if (one != NULL) {
        m->specs = lh_arena_calloc(c->a, sizeof(lh_ice_partition_spec));
        if (m->specs == NULL) {
            return nomem(c->err);
        }
        CHECK(lh__ice_spec_from_json(one, c->a, true, 0, next,
                                     WHERE ": partition-spec", &m->specs[0],
                                     c->err));
        m->nspecs = 1;
        m->default_spec_id = 0;
    } else {
        return bad(c->err, "missing \"partition-spec\" (or "
                           "\"partition-specs\")");
    }
    if (lh_ice_meta_spec(m, m->default_spec_id) == NULL) {
        return bad(c->err,
                   "default-spec-id %d is not one of the partition "
                   "specs",
                   m->default_spec_id);
    }
    int32_t highest = 999;
    for (uint32_t i = 0; i < m->nspecs; i++) {
        for (uint32_t k = 0; k < m->specs[i].nfields; k++) {
            const lh_ice_partition_field *f = &m->specs[i].fields[k];
            highest = LH_MAX(highest, f->field_id);
            for (uint32_t s = 0; s < f->nsource_ids; s++) {
                bool found = false;
                for (uint32_t x = 0; x < m->nschemas && !found; x++) {
                    found = lh_ice_schema_find(&m->schemas[x],
                                               f->source_ids[s]) != NULL;
                }
                if (!found && f->transform.kind != LH_ICE_TR_VOID) {
                    return bad(c->err,
                               "partition spec %d field \"%.60s\": source id "
                               "%d is not a field of any schema",
                               m->specs[i].spec_id, f->name, f->source_ids[s]);
                }
            }
        }
    }
    if (!has_last) {
        m->last_partition_id = highest;
    } else if (m->last_partition_id < highest && v >= 2) {
        return bad(c->err,
                   "last-partition-id %d is below partition field id "
                   "%d",
                   m->last_partition_id, highest);
    }
    return LH_OK;
}

static lh_rc
read_sort_orders(ctx *c, const json_t *j)
{
    lh_ice_meta *m = c->m;
    int v = m->format_version;
    const json_t *list;
    bool has_default = false;
    CHECK(lh__ice_j_array(j, "sort-orders", v >= 2, &list, WHERE, c->err));
    CHECK(lh__ice_j_i32(j, "default-sort-order-id", v >= 2,
                        &m->default_sort_order_id, &has_default, WHERE,
                        c->err));
    if (list == NULL || json_array_size(list) == 0) {
        if (list != NULL && v >= 2) {
            return bad(c->err, "\"sort-orders\" is empty");
        }
        /* v1: the unsorted order. */
        m->sort_orders = lh_arena_calloc(c->a, sizeof(lh_ice_sort_order));
        if (m->sort_orders == NULL) {
            return nomem(c->err);
        }
        m->nsort_orders = 1;
        m->default_sort_order_id = 0;
        return LH_OK;
    }
    size_t n = json_array_size(list);
    m->sort_orders = lh__ice_alloc_array(c->a, n, sizeof(lh_ice_sort_order));
    if (m->sort_orders == NULL) {
        return nomem(c->err);
    }
    for (size_t i = 0; i < n; i++) {
        char where[64];
        snprintf(where, sizeof(where), WHERE ": sort-orders[%zu]", i);
        CHECK(lh__ice_sort_order_from_json(json_array_get(list, i), c->a, where,
                                           &m->sort_orders[i], c->err));
        for (size_t k = 0; k < i; k++) {
            if (m->sort_orders[k].order_id == m->sort_orders[i].order_id) {
                return bad(c->err, "sort order id %d is used twice",
                           m->sort_orders[i].order_id);
            }
        }
    }
    m->nsort_orders = (uint32_t)n;
    if (!has_default) {
        m->default_sort_order_id = m->sort_orders[0].order_id;
    }
    bool found = false;
    for (uint32_t i = 0; i < m->nsort_orders; i++) {
        found = found || m->sort_orders[i].order_id == m->default_sort_order_id;
    }
    if (!found) {
        return bad(c->err,
                   "default-sort-order-id %d is not one of the sort "
                   "orders",
                   m->default_sort_order_id);
    }
    return LH_OK;
}

static lh_rc
read_snapshot(ctx *c, const json_t *s, const char *where, lh_ice_snapshot *out)
{
    int v = c->m->format_version;
    if (!json_is_object(s)) {
        return lh_err_set(c->err, LH_EFORMAT, "%s: must be an object", where);
    }
    CHECK(lh__ice_j_i64(s, "snapshot-id", true, &out->snapshot_id, NULL, where,
                        c->err));
    CHECK(lh__ice_j_i64(s, "parent-snapshot-id", false, &out->parent_id,
                        &out->has_parent, where, c->err));
    CHECK(lh__ice_j_i64(s, "sequence-number", v >= 2, &out->sequence_number,
                        NULL, where, c->err));
    CHECK(lh__ice_j_i64(s, "timestamp-ms", true, &out->timestamp_ms, NULL,
                        where, c->err));
    const json_t *manifests, *summary;
    CHECK(lh__ice_j_array(s, "manifests", false, &manifests, where, c->err));
    CHECK(lh__ice_j_str(s, "manifest-list", v >= 2 || manifests == NULL, c->a,
                        &out->manifest_list, where, c->err));
    if (manifests != NULL && out->manifest_list == NULL) {
        size_t n = json_array_size(manifests);
        out->manifests = lh__ice_alloc_array(c->a, n, sizeof(char *));
        if (out->manifests == NULL) {
            return nomem(c->err);
        }
        for (size_t i = 0; i < n; i++) {
            const json_t *x = json_array_get(manifests, i);
            if (!json_is_string(x)) {
                return lh_err_set(c->err, LH_EFORMAT,
                                  "%s: \"manifests\" must hold strings", where);
            }
            out->manifests[i] = lh_arena_strdup(c->a, json_string_value(x));
            if (out->manifests[i] == NULL) {
                return nomem(c->err);
            }
        }
        out->nmanifests = (uint32_t)n;
    }
    CHECK(lh__ice_j_object(s, "summary", v >= 2, &summary, where, c->err));
    if (summary != NULL) {
        CHECK(lh__ice_j_string_map(s, "summary", c->a, &out->summary,
                                   &out->nsummary, where, c->err));
        for (uint32_t i = 0; i < out->nsummary; i++) {
            if (strcmp(out->summary[i].key, "operation") == 0) {
                out->operation = out->summary[i].value;
            }
        }
        if (out->operation == NULL) {
            return lh_err_set(c->err, LH_EFORMAT,
                              "%s: summary has no \"operation\"", where);
        }
        static const char *const ops[] = {"append", "replace", "overwrite",
                                          "delete"};
        bool known = false;
        for (size_t i = 0; i < LH_ARRAY_LEN(ops); i++) {
            known = known || strcmp(out->operation, ops[i]) == 0;
        }
        if (!known) {
            return lh_err_set(c->err, LH_EFORMAT,
                              "%s: unknown operation \"%.40s\"", where,
                              out->operation);
        }
    }
    CHECK(lh__ice_j_i32(s, "schema-id", false, &out->schema_id,
                        &out->has_schema_id, where, c->err));
    CHECK(lh__ice_j_i64(s, "first-row-id", false, &out->first_row_id,
                        &out->has_first_row_id, where, c->err));
    CHECK(lh__ice_j_i64(s, "added-rows", false, &out->added_rows,
                        &out->has_added_rows, where, c->err));
    CHECK(lh__ice_j_str(s, "key-id", false, c->a, &out->key_id, where, c->err));
    if (out->has_schema_id &&
        lh_ice_meta_schema(c->m, out->schema_id) == NULL) {
        return lh_err_set(c->err, LH_EFORMAT,
                          "%s: schema-id %d is not one of the schemas", where,
                          out->schema_id);
    }
    return LH_OK;
}

static lh_rc
read_snapshots(ctx *c, const json_t *j)
{
    lh_ice_meta *m = c->m;
    const json_t *list;
    CHECK(lh__ice_j_array(j, "snapshots", false, &list, WHERE, c->err));
    size_t n = list ? json_array_size(list) : 0;
    m->snapshots = lh__ice_alloc_array(c->a, n, sizeof(lh_ice_snapshot));
    if (m->snapshots == NULL) {
        return nomem(c->err);
    }
    for (size_t i = 0; i < n; i++) {
        char where[64];
        snprintf(where, sizeof(where), WHERE ": snapshots[%zu]", i);
        CHECK(
            read_snapshot(c, json_array_get(list, i), where, &m->snapshots[i]));
        for (size_t k = 0; k < i; k++) {
            if (m->snapshots[k].snapshot_id == m->snapshots[i].snapshot_id) {
                return bad(c->err, "snapshot id %lld is used twice",
                           (long long)m->snapshots[i].snapshot_id);
            }
        }
        if (m->snapshots[i].sequence_number > m->last_sequence_number &&
            m->format_version >= 2) {
            return bad(c->err,
                       "snapshot %lld has sequence number %lld, above "
                       "last-sequence-number %lld",
                       (long long)m->snapshots[i].snapshot_id,
                       (long long)m->snapshots[i].sequence_number,
                       (long long)m->last_sequence_number);
        }
    }
    m->nsnapshots = (uint32_t)n;
    int64_t cur = -1;
    bool has_cur = false;
    CHECK(lh__ice_j_i64(j, "current-snapshot-id", false, &cur, &has_cur, WHERE,
                        c->err));
    m->has_current_snapshot = has_cur && cur != -1;
    m->current_snapshot_id = m->has_current_snapshot ? cur : -1;
    if (m->has_current_snapshot &&
        lh_ice_meta_snapshot(m, m->current_snapshot_id) == NULL) {
        return bad(c->err,
                   "current-snapshot-id %lld is not one of the "
                   "snapshots",
                   (long long)m->current_snapshot_id);
    }
    return LH_OK;
}

static lh_rc
read_log(ctx *c, const json_t *j, const char *key, bool metadata,
         lh_ice_log_entry **out, uint32_t *nout)
{
    const json_t *list;
    CHECK(lh__ice_j_array(j, key, false, &list, WHERE, c->err));
    size_t n = list ? json_array_size(list) : 0;
    *out = lh__ice_alloc_array(c->a, n, sizeof(lh_ice_log_entry));
    if (*out == NULL) {
        return nomem(c->err);
    }
    for (size_t i = 0; i < n; i++) {
        char where[64];
        snprintf(where, sizeof(where), WHERE ": %s[%zu]", key, i);
        const json_t *e = json_array_get(list, i);
        if (!json_is_object(e)) {
            return lh_err_set(c->err, LH_EFORMAT, "%s: must be an object",
                              where);
        }
        CHECK(lh__ice_j_i64(e, "timestamp-ms", true, &(*out)[i].timestamp_ms,
                            NULL, where, c->err));
        if (metadata) {
            CHECK(lh__ice_j_str(e, "metadata-file", true, c->a,
                                &(*out)[i].metadata_file, where, c->err));
        } else {
            CHECK(lh__ice_j_i64(e, "snapshot-id", true, &(*out)[i].snapshot_id,
                                NULL, where, c->err));
        }
    }
    *nout = (uint32_t)n;
    return LH_OK;
}

static lh_rc
read_refs(ctx *c, const json_t *j)
{
    lh_ice_meta *m = c->m;
    const json_t *refs;
    CHECK(lh__ice_j_object(j, "refs", false, &refs, WHERE, c->err));
    size_t n = refs ? json_object_size(refs) : 0;
    m->refs = lh__ice_alloc_array(c->a, n + 1, sizeof(lh_ice_ref));
    if (m->refs == NULL) {
        return nomem(c->err);
    }
    const char *name;
    json_t *r;
    size_t i = 0;
    if (refs != NULL) {
        json_object_foreach((json_t *)refs, name, r)
        {
            char where[128];
            snprintf(where, sizeof(where), WHERE ": refs \"%.60s\"", name);
            lh_ice_ref *ref = &m->refs[i++];
            const char *type;
            if (!json_is_object(r)) {
                return lh_err_set(c->err, LH_EFORMAT, "%s: must be an object",
                                  where);
            }
            ref->name = lh_arena_strdup(c->a, name);
            if (ref->name == NULL) {
                return nomem(c->err);
            }
            CHECK(lh__ice_j_i64(r, "snapshot-id", true, &ref->snapshot_id, NULL,
                                where, c->err));
            CHECK(lh__ice_j_str(r, "type", true, c->a, &type, where, c->err));
            if (strcmp(type, "tag") != 0 && strcmp(type, "branch") != 0) {
                return lh_err_set(c->err, LH_EFORMAT,
                                  "%s: \"type\" must be \"branch\" or "
                                  "\"tag\", found \"%.40s\"",
                                  where, type);
            }
            ref->is_tag = strcmp(type, "tag") == 0;
            CHECK(lh__ice_j_i32(r, "min-snapshots-to-keep", false,
                                &ref->min_snapshots_to_keep, NULL, where,
                                c->err));
            CHECK(lh__ice_j_i64(r, "max-snapshot-age-ms", false,
                                &ref->max_snapshot_age_ms, NULL, where,
                                c->err));
            CHECK(lh__ice_j_i64(r, "max-ref-age-ms", false,
                                &ref->max_ref_age_ms, NULL, where, c->err));
            if (lh_ice_meta_snapshot(m, ref->snapshot_id) == NULL) {
                return lh_err_set(c->err, LH_EFORMAT,
                                  "%s: snapshot %lld is not one of the "
                                  "snapshots",
                                  where, (long long)ref->snapshot_id);
            }
            if (strcmp(name, "main") == 0 && ref->is_tag) {
                return lh_err_set(c->err, LH_EFORMAT,
                                  "%s: main must be a branch", where);
            }
        }
    }
    m->nrefs = (uint32_t)i;
    const lh_ice_ref *main = lh_ice_meta_ref(m, "main");
    if (main != NULL) {
        if (!m->has_current_snapshot) {
            m->has_current_snapshot = true;
            m->current_snapshot_id = main->snapshot_id;
        } else if (main->snapshot_id != m->current_snapshot_id) {
            return bad(c->err,
                       "current-snapshot-id %lld differs from the main "
                       "branch's snapshot %lld",
                       (long long)m->current_snapshot_id,
                       (long long)main->snapshot_id);
        }
    } else if (m->has_current_snapshot) {
        lh_ice_ref *ref = &m->refs[m->nrefs++];
        ref->name = "main";
        ref->snapshot_id = m->current_snapshot_id;
    }
    return LH_OK;
}

static lh_rc
read_statistics(ctx *c, const json_t *j, const char *key, bool partition,
                lh_ice_statistics **out, uint32_t *nout)
{
    const json_t *list;
    CHECK(lh__ice_j_array(j, key, false, &list, WHERE, c->err));
    size_t n = list ? json_array_size(list) : 0;
    *out = lh__ice_alloc_array(c->a, n, sizeof(lh_ice_statistics));
    if (*out == NULL) {
        return nomem(c->err);
    }
    for (size_t i = 0; i < n; i++) {
        char where[80];
        snprintf(where, sizeof(where), WHERE ": %s[%zu]", key, i);
        const json_t *e = json_array_get(list, i);
        lh_ice_statistics *s = &(*out)[i];
        if (!json_is_object(e)) {
            return lh_err_set(c->err, LH_EFORMAT, "%s: must be an object",
                              where);
        }
        CHECK(lh__ice_j_i64(e, "snapshot-id", true, &s->snapshot_id, NULL,
                            where, c->err));
        CHECK(lh__ice_j_str(e, "statistics-path", true, c->a, &s->path, where,
                            c->err));
        CHECK(lh__ice_j_i64(e, "file-size-in-bytes", true, &s->file_size, NULL,
                            where, c->err));
        if (partition) {
            continue;
        }
        CHECK(lh__ice_j_i64(e, "file-footer-size-in-bytes", true,
                            &s->footer_size, NULL, where, c->err));
        CHECK(lh__ice_j_str(e, "key-metadata", false, c->a, &s->key_metadata,
                            where, c->err));
        const json_t *blobs;
        CHECK(lh__ice_j_array(e, "blob-metadata", true, &blobs, where, c->err));
        size_t nb = json_array_size(blobs);
        s->blobs = lh__ice_alloc_array(c->a, nb, sizeof(lh_ice_blob_meta));
        if (s->blobs == NULL) {
            return nomem(c->err);
        }
        s->nblobs = (uint32_t)nb;
        for (size_t k = 0; k < nb; k++) {
            char bw[128];
            snprintf(bw, sizeof(bw), "%s.blob-metadata[%zu]", where, k);
            const json_t *b = json_array_get(blobs, k);
            lh_ice_blob_meta *bm = &s->blobs[k];
            const json_t *fields;
            if (!json_is_object(b)) {
                return lh_err_set(c->err, LH_EFORMAT, "%s: must be an object",
                                  bw);
            }
            CHECK(lh__ice_j_str(b, "type", true, c->a, &bm->type, bw, c->err));
            CHECK(lh__ice_j_i64(b, "snapshot-id", true, &bm->snapshot_id, NULL,
                                bw, c->err));
            CHECK(lh__ice_j_i64(b, "sequence-number", true,
                                &bm->sequence_number, NULL, bw, c->err));
            CHECK(lh__ice_j_array(b, "fields", true, &fields, bw, c->err));
            CHECK(lh__ice_j_int_list(fields, c->a, &bm->fields, &bm->nfields,
                                     bw, c->err));
            CHECK(lh__ice_j_string_map(b, "properties", c->a, &bm->properties,
                                       &bm->nproperties, bw, c->err));
        }
    }
    *nout = (uint32_t)n;
    return LH_OK;
}

static lh_rc
read_encryption_keys(ctx *c, const json_t *j)
{
    lh_ice_meta *m = c->m;
    const json_t *list;
    CHECK(lh__ice_j_array(j, "encryption-keys", false, &list, WHERE, c->err));
    size_t n = list ? json_array_size(list) : 0;
    m->encryption_keys =
        lh__ice_alloc_array(c->a, n, sizeof(lh_ice_encryption_key));
    if (m->encryption_keys == NULL) {
        return nomem(c->err);
    }
    for (size_t i = 0; i < n; i++) {
        char where[80];
        snprintf(where, sizeof(where), WHERE ": encryption-keys[%zu]", i);
        const json_t *e = json_array_get(list, i);
        lh_ice_encryption_key *k = &m->encryption_keys[i];
        if (!json_is_object(e)) {
            return lh_err_set(c->err, LH_EFORMAT, "%s: must be an object",
                              where);
        }
        CHECK(
            lh__ice_j_str(e, "key-id", true, c->a, &k->key_id, where, c->err));
        CHECK(lh__ice_j_str(e, "encrypted-key-metadata", true, c->a,
                            &k->encrypted_key_metadata, where, c->err));
        CHECK(lh__ice_j_str(e, "encrypted-by-id", false, c->a,
                            &k->encrypted_by_id, where, c->err));
        CHECK(lh__ice_j_string_map(e, "properties", c->a, &k->properties,
                                   &k->nproperties, where, c->err));
    }
    m->nencryption_keys = (uint32_t)n;
    return LH_OK;
}

static lh_rc
read_meta(ctx *c, const json_t *j)
{
    lh_ice_meta *m = c->m;
    if (!json_is_object(j)) {
        return bad(c->err, "the document must be a JSON object");
    }
    int32_t fv;
    CHECK(lh__ice_j_i32(j, "format-version", true, &fv, NULL, WHERE, c->err));
    if (fv < 1) {
        return bad(c->err, "format-version %d is not a version", fv);
    }
    if (fv > LH_ICE_FORMAT_MAX) {
        return lh_err_set(c->err, LH_EUNSUPPORTED,
                          "unsupported: table format-version %d (this "
                          "reader supports 1 to %d)",
                          fv, LH_ICE_FORMAT_MAX);
    }
    m->format_version = fv;
    CHECK(lh__ice_j_str(j, "table-uuid", fv >= 2, c->a, &m->table_uuid, WHERE,
                        c->err));
    if (m->table_uuid != NULL) {
        lh_uuid u;
        if (lh_uuid_parse(m->table_uuid, strlen(m->table_uuid), &u, NULL) !=
            LH_OK) {
            return bad(c->err, "table-uuid \"%.60s\" is not a UUID",
                       m->table_uuid);
        }
    }
    CHECK(
        lh__ice_j_str(j, "location", true, c->a, &m->location, WHERE, c->err));
    CHECK(lh__ice_j_i64(j, "last-sequence-number", fv >= 2,
                        &m->last_sequence_number, NULL, WHERE, c->err));
    CHECK(lh__ice_j_i64(j, "last-updated-ms", true, &m->last_updated_ms, NULL,
                        WHERE, c->err));
    CHECK(lh__ice_j_i32(j, "last-column-id", true, &m->last_column_id, NULL,
                        WHERE, c->err));
    CHECK(read_schemas(c, j));
    /* A schema with ids above last-column-id is tolerated (iceberg-rust's
     * own test tables have one): writers assign new ids above both. */
    CHECK(read_specs(c, j));
    CHECK(lh__ice_j_string_map(j, "properties", c->a, &m->properties,
                               &m->nproperties, WHERE, c->err));
    CHECK(read_snapshots(c, j));
    CHECK(read_log(c, j, "snapshot-log", false, &m->snapshot_log,
                   &m->nsnapshot_log));
    CHECK(read_log(c, j, "metadata-log", true, &m->metadata_log,
                   &m->nmetadata_log));
    CHECK(read_sort_orders(c, j));
    CHECK(read_refs(c, j));
    CHECK(read_statistics(c, j, "statistics", false, &m->statistics,
                          &m->nstatistics));
    CHECK(read_statistics(c, j, "partition-statistics", true,
                          &m->partition_statistics, &m->npartition_statistics));
    CHECK(lh__ice_j_i64(j, "next-row-id", fv >= 3, &m->next_row_id,
                        &m->has_next_row_id, WHERE, c->err));
    if (fv >= 3) {
        CHECK(read_encryption_keys(c, j));
    }
    return LH_OK;
}

lh_rc
lh_ice_meta_parse(const uint8_t *p, size_t n, lh_arena *a, lh_ice_meta **out,
                  lh_err *err)
{
    *out = NULL;
    lh_buf text = LH_BUF_INIT;
    lh_rc rc = lh_ice_decompress_sniff(p, n, METADATA_LIMIT, &text, err);
    if (rc != LH_OK) {
        lh_err_prefix(err, WHERE);
        lh_buf_release(&text);
        return rc;
    }
    json_t *j = NULL;
    rc = lh__ice_j_load(text.data ? text.data : "", text.len, &j, WHERE, err);
    lh_buf_release(&text);
    if (rc != LH_OK) {
        return rc;
    }
    lh_ice_meta *m = lh_arena_calloc(a, sizeof(*m));
    if (m == NULL) {
        json_decref(j);
        return nomem(err);
    }
    ctx c = {a, err, m};
    rc = read_meta(&c, j);
    json_decref(j);
    if (rc == LH_OK) {
        *out = m;
    }
    return rc;
}

/* ---- look-ups
 * ---------------------------------------------------------------- */

const lh_ice_schema *
lh_ice_meta_schema(const lh_ice_meta *m, int32_t id)
{
    for (uint32_t i = 0; i < m->nschemas; i++) {
        if (m->schemas[i].schema_id == id) {
            return &m->schemas[i];
        }
    }
    return NULL;
}

const lh_ice_schema *
lh_ice_meta_current_schema(const lh_ice_meta *m)
{
    return lh_ice_meta_schema(m, m->current_schema_id);
}

const lh_ice_partition_spec *
lh_ice_meta_spec(const lh_ice_meta *m, int32_t id)
{
    for (uint32_t i = 0; i < m->nspecs; i++) {
        if (m->specs[i].spec_id == id) {
            return &m->specs[i];
        }
    }
    return NULL;
}

const lh_ice_snapshot *
lh_ice_meta_snapshot(const lh_ice_meta *m, int64_t id)
{
    for (uint32_t i = 0; i < m->nsnapshots; i++) {
        if (m->snapshots[i].snapshot_id == id) {
            return &m->snapshots[i];
        }
    }
    return NULL;
}

const lh_ice_snapshot *
lh_ice_meta_current_snapshot(const lh_ice_meta *m)
{
    return m->has_current_snapshot
               ? lh_ice_meta_snapshot(m, m->current_snapshot_id)
               : NULL;
}

const lh_ice_ref *
lh_ice_meta_ref(const lh_ice_meta *m, const char *name)
{
    for (uint32_t i = 0; i < m->nrefs; i++) {
        if (strcmp(m->refs[i].name, name) == 0) {
            return &m->refs[i];
        }
    }
    return NULL;
}

const char *
lh_ice_meta_property(const lh_ice_meta *m, const char *key)
{
    for (uint32_t i = 0; i < m->nproperties; i++) {
        if (strcmp(m->properties[i].key, key) == 0) {
            return m->properties[i].value;
        }
    }
    return NULL;
}

lh_rc
lh_ice_meta_snapshot_at(const lh_ice_meta *m, int64_t timestamp_ms,
                        const lh_ice_snapshot **out, lh_err *err)
{
    *out = NULL;
    if (m->nsnapshot_log > 0) {
        for (uint32_t i = 0; i < m->nsnapshot_log; i++) {
            if (m->snapshot_log[i].timestamp_ms <= timestamp_ms) {
                const lh_ice_snapshot *s =
                    lh_ice_meta_snapshot(m, m->snapshot_log[i].snapshot_id);
                if (s != NULL) {
                    *out = s;
                }
            }
        }
    } else {
        for (uint32_t i = 0; i < m->nsnapshots; i++) {
            const lh_ice_snapshot *s = &m->snapshots[i];
            if (s->timestamp_ms <= timestamp_ms &&
                (*out == NULL || s->timestamp_ms >= (*out)->timestamp_ms)) {
                *out = s;
            }
        }
    }
    if (*out == NULL) {
        char iso[40];
        lh_time_format_iso(timestamp_ms * 1000, iso);
        return lh_err_set(err, LH_ENOENT,
                          "no snapshot of the table was current at %s", iso);
    }
    return LH_OK;
}

/* ---- writing
 * ------------------------------------------------------------------ */

static void
put_str(lh_buf *b, const char *key, const char *v)
{
    lh_buf_printf(b, ",\"%s\":", key);
    lh_buf_json_string(b, v, strlen(v));
}

static void
put_map(lh_buf *b, const lh_ice_kv *kv, uint32_t n)
{
    lh_buf_putc(b, '{');
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0) {
            lh_buf_putc(b, ',');
        }
        lh_buf_json_string(b, kv[i].key, strlen(kv[i].key));
        lh_buf_putc(b, ':');
        lh_buf_json_string(b, kv[i].value, strlen(kv[i].value));
    }
    lh_buf_putc(b, '}');
}

static void
put_ints(lh_buf *b, const int32_t *v, uint32_t n)
{
    lh_buf_putc(b, '[');
    for (uint32_t i = 0; i < n; i++) {
        lh_buf_printf(b, "%s%d", i ? "," : "", v[i]);
    }
    lh_buf_putc(b, ']');
}

static void
put_snapshot(lh_buf *b, const lh_ice_snapshot *s, int v)
{
    lh_buf_printf(b, "{\"snapshot-id\":%lld", (long long)s->snapshot_id);
    if (s->has_parent) {
        lh_buf_printf(b, ",\"parent-snapshot-id\":%lld",
                      (long long)s->parent_id);
    }
    if (v >= 2) {
        lh_buf_printf(b, ",\"sequence-number\":%lld",
                      (long long)s->sequence_number);
    }
    lh_buf_printf(b, ",\"timestamp-ms\":%lld", (long long)s->timestamp_ms);
    if (s->manifest_list != NULL) {
        put_str(b, "manifest-list", s->manifest_list);
    } else {
        lh_buf_puts(b, ",\"manifests\":[");
        for (uint32_t i = 0; i < s->nmanifests; i++) {
            if (i > 0) {
                lh_buf_putc(b, ',');
            }
            lh_buf_json_string(b, s->manifests[i], strlen(s->manifests[i]));
        }
        lh_buf_putc(b, ']');
    }
    if (s->nsummary > 0 || v >= 2) {
        lh_buf_puts(b, ",\"summary\":");
        put_map(b, s->summary, s->nsummary);
    }
    if (s->has_schema_id) {
        lh_buf_printf(b, ",\"schema-id\":%d", s->schema_id);
    }
    if (s->has_first_row_id) {
        lh_buf_printf(b, ",\"first-row-id\":%lld", (long long)s->first_row_id);
    }
    if (s->has_added_rows) {
        lh_buf_printf(b, ",\"added-rows\":%lld", (long long)s->added_rows);
    }
    if (s->key_id != NULL) {
        put_str(b, "key-id", s->key_id);
    }
    lh_buf_putc(b, '}');
}

static void
put_statistics(lh_buf *b, const char *key, const lh_ice_statistics *st,
               uint32_t n, bool partition)
{
    lh_buf_printf(b, ",\"%s\":[", key);
    for (uint32_t i = 0; i < n; i++) {
        const lh_ice_statistics *s = &st[i];
        lh_buf_printf(b, "%s{\"snapshot-id\":%lld", i ? "," : "",
                      (long long)s->snapshot_id);
        put_str(b, "statistics-path", s->path);
        lh_buf_printf(b, ",\"file-size-in-bytes\":%lld",
                      (long long)s->file_size);
        if (!partition) {
            lh_buf_printf(b, ",\"file-footer-size-in-bytes\":%lld",
                          (long long)s->footer_size);
            if (s->key_metadata != NULL) {
                put_str(b, "key-metadata", s->key_metadata);
            }
            lh_buf_puts(b, ",\"blob-metadata\":[");
            for (uint32_t k = 0; k < s->nblobs; k++) {
                const lh_ice_blob_meta *bm = &s->blobs[k];
                lh_buf_puts(b, k ? ",{\"type\":" : "{\"type\":");
                lh_buf_json_string(b, bm->type, strlen(bm->type));
                lh_buf_printf(b,
                              ",\"snapshot-id\":%lld,\"sequence-number\":"
                              "%lld,\"fields\":",
                              (long long)bm->snapshot_id,
                              (long long)bm->sequence_number);
                put_ints(b, bm->fields, bm->nfields);
                if (bm->nproperties > 0) {
                    lh_buf_puts(b, ",\"properties\":");
                    put_map(b, bm->properties, bm->nproperties);
                }
                lh_buf_putc(b, '}');
            }
            lh_buf_putc(b, ']');
        }
        lh_buf_putc(b, '}');
    }
    lh_buf_putc(b, ']');
}

static void
put_sort_order(lh_buf *b, const lh_ice_sort_order *o)
{
    lh_buf_printf(b, "{\"order-id\":%d,\"fields\":[", o->order_id);
    for (uint32_t i = 0; i < o->nfields; i++) {
        const lh_ice_sort_field *f = &o->fields[i];
        lh_buf_puts(b, i ? ",{\"transform\":" : "{\"transform\":");
        lh_buf_json_string(b, f->transform.text, strlen(f->transform.text));
        if (f->nsource_ids > 1) {
            lh_buf_puts(b, ",\"source-ids\":");
            put_ints(b, f->source_ids, f->nsource_ids);
        } else {
            lh_buf_printf(b, ",\"source-id\":%d", f->source_id);
        }
        lh_buf_printf(b, ",\"direction\":\"%s\",\"null-order\":\"%s\"}",
                      f->descending ? "desc" : "asc",
                      f->nulls_first ? "nulls-first" : "nulls-last");
    }
    lh_buf_puts(b, "]}");
}

lh_rc
lh_ice_meta_to_json(const lh_ice_meta *m, lh_buf *b, lh_err *err)
{
    int v = m->format_version;
    if (v < 2 || v > LH_ICE_FORMAT_MAX) {
        return lh_err_set(err, LH_EUNSUPPORTED,
                          "unsupported: writing table format-version %d", v);
    }
    lh_buf_printf(b, "{\"format-version\":%d", v);
    put_str(b, "table-uuid", m->table_uuid ? m->table_uuid : "");
    put_str(b, "location", m->location);
    lh_buf_printf(b,
                  ",\"last-sequence-number\":%lld,\"last-updated-ms\":%lld,"
                  "\"last-column-id\":%d,\"current-schema-id\":%d,"
                  "\"schemas\":[",
                  (long long)m->last_sequence_number,
                  (long long)m->last_updated_ms, m->last_column_id,
                  m->current_schema_id);
    lh_rc rc = LH_OK;
    for (uint32_t i = 0; i < m->nschemas && rc == LH_OK; i++) {
        if (i > 0) {
            lh_buf_putc(b, ',');
        }
        rc = lh_ice_schema_to_json(&m->schemas[i], b);
    }
    lh_buf_printf(b, "],\"default-spec-id\":%d,\"partition-specs\":[",
                  m->default_spec_id);
    for (uint32_t i = 0; i < m->nspecs && rc == LH_OK; i++) {
        if (i > 0) {
            lh_buf_putc(b, ',');
        }
        rc = lh__ice_spec_to_json(&m->specs[i], false, b);
    }
    lh_buf_printf(b,
                  "],\"last-partition-id\":%d,\"default-sort-order-id\":%d,"
                  "\"sort-orders\":[",
                  m->last_partition_id, m->default_sort_order_id);
    for (uint32_t i = 0; i < m->nsort_orders; i++) {
        if (i > 0) {
            lh_buf_putc(b, ',');
        }
        put_sort_order(b, &m->sort_orders[i]);
    }
    lh_buf_puts(b, "],\"properties\":");
    put_map(b, m->properties, m->nproperties);
    if (m->has_current_snapshot) {
        lh_buf_printf(b, ",\"current-snapshot-id\":%lld",
                      (long long)m->current_snapshot_id);
    } else if (v < 3) {
        lh_buf_puts(b, ",\"current-snapshot-id\":-1");
    }
    lh_buf_puts(b, ",\"snapshots\":[");
    for (uint32_t i = 0; i < m->nsnapshots; i++) {
        if (i > 0) {
            lh_buf_putc(b, ',');
        }
        put_snapshot(b, &m->snapshots[i], v);
    }
    lh_buf_puts(b, "],\"snapshot-log\":[");
    for (uint32_t i = 0; i < m->nsnapshot_log; i++) {
        lh_buf_printf(b, "%s{\"timestamp-ms\":%lld,\"snapshot-id\":%lld}",
                      i ? "," : "", (long long)m->snapshot_log[i].timestamp_ms,
                      (long long)m->snapshot_log[i].snapshot_id);
    }
    lh_buf_puts(b, "],\"metadata-log\":[");
    for (uint32_t i = 0; i < m->nmetadata_log; i++) {
        lh_buf_printf(b, "%s{\"timestamp-ms\":%lld", i ? "," : "",
                      (long long)m->metadata_log[i].timestamp_ms);
        put_str(b, "metadata-file", m->metadata_log[i].metadata_file);
        lh_buf_putc(b, '}');
    }
    lh_buf_puts(b, "],\"refs\":{");
    for (uint32_t i = 0; i < m->nrefs; i++) {
        const lh_ice_ref *r = &m->refs[i];
        if (i > 0) {
            lh_buf_putc(b, ',');
        }
        lh_buf_json_string(b, r->name, strlen(r->name));
        lh_buf_printf(b, ":{\"snapshot-id\":%lld,\"type\":\"%s\"",
                      (long long)r->snapshot_id, r->is_tag ? "tag" : "branch");
        if (r->min_snapshots_to_keep > 0) {
            lh_buf_printf(b, ",\"min-snapshots-to-keep\":%d",
                          r->min_snapshots_to_keep);
        }
        if (r->max_snapshot_age_ms > 0) {
            lh_buf_printf(b, ",\"max-snapshot-age-ms\":%lld",
                          (long long)r->max_snapshot_age_ms);
        }
        if (r->max_ref_age_ms > 0) {
            lh_buf_printf(b, ",\"max-ref-age-ms\":%lld",
                          (long long)r->max_ref_age_ms);
        }
        lh_buf_putc(b, '}');
    }
    lh_buf_putc(b, '}');
    put_statistics(b, "statistics", m->statistics, m->nstatistics, false);
    put_statistics(b, "partition-statistics", m->partition_statistics,
                   m->npartition_statistics, true);
    if (v >= 3) {
        lh_buf_printf(b, ",\"next-row-id\":%lld", (long long)m->next_row_id);
        if (m->nencryption_keys > 0) {
            lh_buf_puts(b, ",\"encryption-keys\":[");
            for (uint32_t i = 0; i < m->nencryption_keys; i++) {
                const lh_ice_encryption_key *k = &m->encryption_keys[i];
                lh_buf_puts(b, i ? ",{\"key-id\":" : "{\"key-id\":");
                lh_buf_json_string(b, k->key_id, strlen(k->key_id));
                put_str(b, "encrypted-key-metadata", k->encrypted_key_metadata);
                if (k->encrypted_by_id != NULL) {
                    put_str(b, "encrypted-by-id", k->encrypted_by_id);
                }
                if (k->nproperties > 0) {
                    lh_buf_puts(b, ",\"properties\":");
                    put_map(b, k->properties, k->nproperties);
                }
                lh_buf_putc(b, '}');
            }
            lh_buf_putc(b, ']');
        }
    }
    lh_buf_putc(b, '}');
    if (rc != LH_OK || !lh_buf_ok(b)) {
        return lh_err_set(err, LH_ENOMEM, "out of memory writing metadata");
    }
    return LH_OK;
}
