/*
 * Writing: data files (Parquet with field ids and the Iceberg schema in
 * the footer, metrics counted from the rows), manifests and manifest lists
 * (Avro containers with the header keys the spec requires, records encoded
 * by the v2 schemas of "Manifests" and "Manifest Lists").
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "format/iceberg/iceberg_int.h"
#include "format/parquet/parquet.h"
#include "format/parquet/writer.h"

/* Bounds of strings and binaries longer than this are left out (a cut
 * lower bound is still a lower bound, but the upper one would need an
 * increment; keeping them whole is simpler and rare past this). */
#define BOUND_MAX 64

/* ---- Avro types of Iceberg types
 * --------------------------------------------------- */

static void
avro_type(const lh_ice_type *t, lh_buf *b, int id)
{
    switch (t->id) {
    case LH_ICE_BOOLEAN:
        lh_buf_puts(b, "\"boolean\"");
        break;
    case LH_ICE_INT:
        lh_buf_puts(b, "\"int\"");
        break;
    case LH_ICE_LONG:
        lh_buf_puts(b, "\"long\"");
        break;
    case LH_ICE_FLOAT:
        lh_buf_puts(b, "\"float\"");
        break;
    case LH_ICE_DOUBLE:
        lh_buf_puts(b, "\"double\"");
        break;
    case LH_ICE_DATE:
        lh_buf_puts(b, "{\"type\":\"int\",\"logicalType\":\"date\"}");
        break;
    case LH_ICE_TIME:
        lh_buf_puts(b, "{\"type\":\"long\",\"logicalType\":\"time-micros\"}");
        break;
    case LH_ICE_TIMESTAMP:
    case LH_ICE_TIMESTAMPTZ:
        lh_buf_printf(b,
                      "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\","
                      "\"adjust-to-utc\":%s}",
                      t->id == LH_ICE_TIMESTAMPTZ ? "true" : "false");
        break;
    case LH_ICE_STRING:
        lh_buf_puts(b, "\"string\"");
        break;
    case LH_ICE_UUID:
        lh_buf_printf(b,
                      "{\"type\":\"fixed\",\"name\":\"uuid_fixed_%d\",\"size\":"
                      "16,\"logicalType\":\"uuid\"}",
                      id);
        break;
    case LH_ICE_FIXED:
        lh_buf_printf(b,
                      "{\"type\":\"fixed\",\"name\":\"fixed_%d\",\"size\":%u}",
                      id, t->length);
        break;
    case LH_ICE_DECIMAL: {
        /* minBytesRequired(P) */
        int size = 1;
        while (size < 16) {
            long double max = powl(2.0L, 8 * size - 1);
            if (powl(10.0L, t->precision) <= max) {
                break;
            }
            size++;
        }
        lh_buf_printf(b,
                      "{\"type\":\"fixed\",\"name\":\"decimal_%d_%d_%d\","
                      "\"size\":%d,\"logicalType\":\"decimal\",\"precision\":"
                      "%u,\"scale\":%u}",
                      t->precision, t->scale, id, size, t->precision, t->scale);
        break;
    }
    default:
        lh_buf_puts(b, "\"bytes\"");
    }
}

static int
decimal_size(uint8_t precision)
{
    int size = 1;
    while (size < 16 && powl(10.0L, precision) > powl(2.0L, 8 * size - 1)) {
        size++;
    }
    return size;
}

/* A partition value in the Avro encoding of its type. */
static void
avro_value(const lh_ice_type *t, const lh_value *v, lh_buf *b)
{
    uint8_t tmp[16];
    switch (t->id) {
    case LH_ICE_BOOLEAN:
        tmp[0] = v->u.b ? 1 : 0;
        lh_buf_append(b, tmp, 1);
        break;
    case LH_ICE_FLOAT: {
        float f = (float)v->u.d;
        uint32_t x;
        memcpy(&x, &f, 4);
        lh_put_le32(tmp, x);
        lh_buf_append(b, tmp, 4);
        break;
    }
    case LH_ICE_DOUBLE: {
        uint64_t x;
        memcpy(&x, &v->u.d, 8);
        lh_put_le32(tmp, (uint32_t)x);
        lh_put_le32(tmp + 4, (uint32_t)(x >> 32));
        lh_buf_append(b, tmp, 8);
        break;
    }
    case LH_ICE_STRING:
    case LH_ICE_BINARY:
        lh__ice_avro_put_bytes(b, v->u.s.p, v->u.s.len);
        break;
    case LH_ICE_FIXED:
        lh_buf_append(b, v->u.s.p, v->u.s.len);
        break;
    case LH_ICE_UUID:
        lh_buf_append(b, v->u.uuid.b, 16);
        break;
    case LH_ICE_DECIMAL: {
        int size = decimal_size(t->precision);
        unsigned __int128 u = (unsigned __int128)v->u.dec;
        for (int i = size - 1; i >= 0; i--) {
            tmp[i] = (uint8_t)u;
            u >>= 8;
        }
        lh_buf_append(b, tmp, (size_t)size);
        break;
    }
    default:
        lh__ice_avro_put_long(b, v->u.i);
    }
}

static void
null_union(lh_buf *b, bool present)
{
    lh__ice_avro_put_long(b, present ? 1 : 0);
}

/* ---- manifests
 * ---------------------------------------------------------------------- */

static void
map_schema(lh_buf *b, const char *name, int id, int k, int v, const char *vt)
{
    lh_buf_printf(b,
                  ",{\"name\":\"%s\",\"type\":[\"null\",{\"type\":\"array\","
                  "\"items\":{\"type\":\"record\",\"name\":\"k%d_v%d\","
                  "\"fields\":[{\"name\":\"key\",\"type\":\"int\",\"field-id\":"
                  "%d},{\"name\":\"value\",\"type\":\"%s\",\"field-id\":%d}]},"
                  "\"logicalType\":\"map\"}],\"default\":null,\"field-id\":%d}",
                  name, k, v, k, vt, v, id);
}

static void
opt_field(lh_buf *b, const char *name, const char *type, int id)
{
    lh_buf_printf(b,
                  ",{\"name\":\"%s\",\"type\":[\"null\",%s],\"default\":null,"
                  "\"field-id\":%d}",
                  name, type, id);
}

static void
entry_schema(lh_buf *b, const lh_ice_type *ptype, int version)
{
    lh_buf_puts(b,
                "{\"type\":\"record\",\"name\":\"manifest_entry\",\"fields\":["
                "{\"name\":\"status\",\"type\":\"int\",\"field-id\":0}");
    opt_field(b, "snapshot_id", "\"long\"", 1);
    opt_field(b, "sequence_number", "\"long\"", 3);
    opt_field(b, "file_sequence_number", "\"long\"", 4);
    lh_buf_puts(b,
                ",{\"name\":\"data_file\",\"type\":{\"type\":\"record\","
                "\"name\":\"r2\",\"fields\":["
                "{\"name\":\"content\",\"type\":\"int\",\"field-id\":134},"
                "{\"name\":\"file_path\",\"type\":\"string\",\"field-id\":100},"
                "{\"name\":\"file_format\",\"type\":\"string\",\"field-id\":"
                "101},{\"name\":\"partition\",\"type\":{\"type\":\"record\","
                "\"name\":\"r102\",\"fields\":[");
    for (uint32_t i = 0; i < ptype->nfields; i++) {
        const lh_ice_field *f = &ptype->fields[i];
        lh_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        lh_buf_json_string(b, f->name, strlen(f->name));
        lh_buf_puts(b, ",\"type\":[\"null\",");
        avro_type(&f->type, b, f->id);
        lh_buf_printf(b, "],\"default\":null,\"field-id\":%d}", f->id);
    }
    lh_buf_puts(b, "]},\"field-id\":102},"
                   "{\"name\":\"record_count\",\"type\":\"long\",\"field-id\":"
                   "103},{\"name\":\"file_size_in_bytes\",\"type\":\"long\","
                   "\"field-id\":104}");
    map_schema(b, "column_sizes", 108, 117, 118, "long");
    map_schema(b, "value_counts", 109, 119, 120, "long");
    map_schema(b, "null_value_counts", 110, 121, 122, "long");
    map_schema(b, "nan_value_counts", 137, 138, 139, "long");
    map_schema(b, "lower_bounds", 125, 126, 127, "bytes");
    map_schema(b, "upper_bounds", 128, 129, 130, "bytes");
    opt_field(b, "key_metadata", "\"bytes\"", 131);
    opt_field(b, "split_offsets",
              "{\"type\":\"array\",\"items\":\"long\",\"element-id\":133}",
              132);
    opt_field(b, "equality_ids",
              "{\"type\":\"array\",\"items\":\"int\",\"element-id\":136}", 135);
    opt_field(b, "sort_order_id", "\"int\"", 140);
    if (version >= 3) {
        opt_field(b, "first_row_id", "\"long\"", 142);
    }
    opt_field(b, "referenced_data_file", "\"string\"", 143);
    if (version >= 3) {
        opt_field(b, "content_offset", "\"long\"", 144);
        opt_field(b, "content_size_in_bytes", "\"long\"", 145);
    }
    lh_buf_puts(b, "]},\"field-id\":2}]}");
}

static void
put_metrics(lh_buf *b, const lh_ice_metric *m, uint32_t n)
{
    null_union(b, n > 0);
    if (n == 0) {
        return;
    }
    lh__ice_avro_put_long(b, n);
    for (uint32_t i = 0; i < n; i++) {
        lh__ice_avro_put_long(b, m[i].id);
        lh__ice_avro_put_long(b, m[i].v);
    }
    lh__ice_avro_put_long(b, 0);
}

static void
put_bounds(lh_buf *b, const lh_ice_bound *m, uint32_t n)
{
    null_union(b, n > 0);
    if (n == 0) {
        return;
    }
    lh__ice_avro_put_long(b, n);
    for (uint32_t i = 0; i < n; i++) {
        lh__ice_avro_put_long(b, m[i].id);
        lh__ice_avro_put_bytes(b, m[i].p, m[i].n);
    }
    lh__ice_avro_put_long(b, 0);
}

static void
put_opt_long(lh_buf *b, bool has, int64_t v)
{
    null_union(b, has);
    if (has) {
        lh__ice_avro_put_long(b, v);
    }
}

static void
put_entry(lh_buf *b, const lh_ice_entry *e, const lh_ice_type *ptype,
          int version, bool inherit)
{
    const lh_ice_data_file *f = &e->file;
    lh__ice_avro_put_long(b, e->status);
    /* New (ADDED) entries inherit snapshot id and sequence numbers from
     * the manifest list: written as null, so a retried commit reuses the
     * manifest (spec "Sequence Number Inheritance"). */
    bool explicit_seq = !(inherit && e->status == LH_ICE_ADDED);
    put_opt_long(b, !inherit, e->snapshot_id);
    put_opt_long(b, explicit_seq, e->sequence_number);
    put_opt_long(b, explicit_seq, e->file_sequence_number);
    lh__ice_avro_put_long(b, f->content);
    lh__ice_avro_put_bytes(b, f->path, strlen(f->path));
    lh__ice_avro_put_bytes(b, f->format, strlen(f->format));
    for (uint32_t i = 0; i < ptype->nfields; i++) {
        const lh_value *v = i < f->npartition ? &f->partition[i] : NULL;
        null_union(b, v != NULL && !v->is_null);
        if (v != NULL && !v->is_null) {
            avro_value(&ptype->fields[i].type, v, b);
        }
    }
    lh__ice_avro_put_long(b, f->record_count);
    lh__ice_avro_put_long(b, f->file_size);
    put_metrics(b, f->column_sizes, f->ncolumn_sizes);
    put_metrics(b, f->value_counts, f->nvalue_counts);
    put_metrics(b, f->null_counts, f->nnull_counts);
    put_metrics(b, f->nan_counts, f->nnan_counts);
    put_bounds(b, f->lower, f->nlower);
    put_bounds(b, f->upper, f->nupper);
    null_union(b, f->key_metadata != NULL);
    if (f->key_metadata != NULL) {
        lh__ice_avro_put_bytes(b, f->key_metadata, f->nkey_metadata);
    }
    null_union(b, f->nsplit_offsets > 0);
    if (f->nsplit_offsets > 0) {
        lh__ice_avro_put_long(b, f->nsplit_offsets);
        for (uint32_t i = 0; i < f->nsplit_offsets; i++) {
            lh__ice_avro_put_long(b, f->split_offsets[i]);
        }
        lh__ice_avro_put_long(b, 0);
    }
    null_union(b, f->nequality_ids > 0);
    if (f->nequality_ids > 0) {
        lh__ice_avro_put_long(b, f->nequality_ids);
        for (uint32_t i = 0; i < f->nequality_ids; i++) {
            lh__ice_avro_put_long(b, f->equality_ids[i]);
        }
        lh__ice_avro_put_long(b, 0);
    }
    put_opt_long(b, f->has_sort_order_id && f->content != 1, f->sort_order_id);
    if (version >= 3) {
        put_opt_long(b, f->has_first_row_id && !inherit, f->first_row_id);
    }
    null_union(b, f->referenced_data_file != NULL);
    if (f->referenced_data_file != NULL) {
        lh__ice_avro_put_bytes(b, f->referenced_data_file,
                               strlen(f->referenced_data_file));
    }
    if (version >= 3) {
        put_opt_long(b, f->has_content_offset, f->content_offset);
        put_opt_long(b, f->has_content_offset, f->content_size);
    }
}

lh_rc
lh__ice_random_sync(uint8_t sync[16], lh_err *err)
{
    lh_uuid u;
    lh_rc rc = lh_uuid_v4(&u, err);
    if (rc == LH_OK) {
        memcpy(sync, u.b, 16);
    }
    return rc;
}

lh_rc
lh_ice_manifest_write(const lh_ice_manifest_write_opts *o,
                      const lh_ice_entry *entries, uint32_t n, lh_buf *out,
                      lh_err *err)
{
    lh_buf schema = LH_BUF_INIT, avsc = LH_BUF_INIT, spec = LH_BUF_INIT,
           block = LH_BUF_INIT;
    lh_rc rc = lh_ice_schema_to_json(o->schema, &schema);
    if (rc == LH_OK) {
        rc = lh__ice_spec_to_json(o->spec, true, &spec);
    }
    entry_schema(&avsc, o->partition_type, o->format_version);
    char sid[24], pid[24], fv[8];
    snprintf(sid, sizeof(sid), "%d", o->schema->schema_id);
    snprintf(pid, sizeof(pid), "%d", o->spec->spec_id);
    snprintf(fv, sizeof(fv), "%d", o->format_version);
    const char *content = o->content ? "deletes" : "data";
    lh__ice_avro_kv meta[] = {
        {"avro.schema", avsc.data, avsc.len},
        {"schema", schema.data, schema.len},
        {"schema-id", sid, strlen(sid)},
        {"partition-spec", spec.data, spec.len},
        {"partition-spec-id", pid, strlen(pid)},
        {"format-version", fv, strlen(fv)},
        {"content", content, strlen(content)},
    };
    uint8_t sync[16];
    if (rc == LH_OK) {
        rc = lh__ice_random_sync(sync, err);
    }
    if (rc == LH_OK && lh_buf_ok(&avsc)) {
        lh_buf_reset(out);
        rc = lh__ice_avro_write_header(out, meta, LH_ARRAY_LEN(meta),
                                       LH__ICE_AVRO_DEFLATE, sync);
    }
    for (uint32_t i = 0; rc == LH_OK && i < n; i++) {
        put_entry(&block, &entries[i], o->partition_type, o->format_version,
                  o->inherit);
    }
    if (rc == LH_OK && n > 0) {
        rc = lh__ice_avro_write_block(out, LH__ICE_AVRO_DEFLATE, sync, n,
                                      block.data, block.len, err);
    }
    if (rc == LH_OK && !lh_buf_ok(&block)) {
        rc = LH_ENOMEM;
    }
    lh_buf_release(&schema);
    lh_buf_release(&avsc);
    lh_buf_release(&spec);
    lh_buf_release(&block);
    if (rc == LH_ENOMEM) {
        return lh_err_set(err, LH_ENOMEM, "out of memory writing a manifest");
    }
    return rc;
}

/* ---- manifest lists
 * ------------------------------------------------------------------ */

static void
list_schema(lh_buf *b, int version)
{
    lh_buf_puts(b,
                "{\"type\":\"record\",\"name\":\"manifest_file\",\"fields\":["
                "{\"name\":\"manifest_path\",\"type\":\"string\",\"field-id\":"
                "500},{\"name\":\"manifest_length\",\"type\":\"long\","
                "\"field-id\":501},{\"name\":\"partition_spec_id\",\"type\":"
                "\"int\",\"field-id\":502},{\"name\":\"content\",\"type\":"
                "\"int\",\"field-id\":517},{\"name\":\"sequence_number\","
                "\"type\":\"long\",\"field-id\":515},{\"name\":"
                "\"min_sequence_number\",\"type\":\"long\",\"field-id\":516},"
                "{\"name\":\"added_snapshot_id\",\"type\":\"long\","
                "\"field-id\":503},{\"name\":\"added_files_count\",\"type\":"
                "\"int\",\"field-id\":504},{\"name\":\"existing_files_count\","
                "\"type\":\"int\",\"field-id\":505},{\"name\":"
                "\"deleted_files_count\",\"type\":\"int\",\"field-id\":506},"
                "{\"name\":\"added_rows_count\",\"type\":\"long\",\"field-id\":"
                "512},{\"name\":\"existing_rows_count\",\"type\":\"long\","
                "\"field-id\":513},{\"name\":\"deleted_rows_count\",\"type\":"
                "\"long\",\"field-id\":514}");
    opt_field(b, "partitions",
              "{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":"
              "\"r508\",\"fields\":[{\"name\":\"contains_null\",\"type\":"
              "\"boolean\",\"field-id\":509},{\"name\":\"contains_nan\","
              "\"type\":[\"null\",\"boolean\"],\"default\":null,\"field-id\":"
              "518},{\"name\":\"lower_bound\",\"type\":[\"null\",\"bytes\"],"
              "\"default\":null,\"field-id\":510},{\"name\":\"upper_bound\","
              "\"type\":[\"null\",\"bytes\"],\"default\":null,\"field-id\":"
              "511}]},\"element-id\":508}",
              507);
    opt_field(b, "key_metadata", "\"bytes\"", 519);
    if (version >= 3) {
        opt_field(b, "first_row_id", "\"long\"", 520);
    }
    lh_buf_puts(b, "]}");
}

static int64_t
nonneg(int64_t v)
{
    return v < 0 ? 0 : v;
}

lh_rc
lh_ice_manifest_list_write(const lh_ice_manifest_list *ml, int format_version,
                           bool has_parent, int64_t parent_id, lh_buf *out,
                           lh_err *err)
{
    lh_buf avsc = LH_BUF_INIT, block = LH_BUF_INIT;
    list_schema(&avsc, format_version);
    char sid[24], pid[24], seq[24], fv[8];
    snprintf(sid, sizeof(sid), "%lld", (long long)ml->snapshot_id);
    snprintf(pid, sizeof(pid), has_parent ? "%lld" : "null",
             (long long)parent_id);
    snprintf(seq, sizeof(seq), "%lld", (long long)ml->sequence_number);
    snprintf(fv, sizeof(fv), "%d", format_version);
    lh__ice_avro_kv meta[] = {
        {"avro.schema", avsc.data, avsc.len},
        {"snapshot-id", sid, strlen(sid)},
        {"parent-snapshot-id", pid, strlen(pid)},
        {"sequence-number", seq, strlen(seq)},
        {"format-version", fv, strlen(fv)},
    };
    uint8_t sync[16];
    lh_rc rc = lh__ice_random_sync(sync, err);
    if (rc == LH_OK) {
        lh_buf_reset(out);
        rc = lh__ice_avro_write_header(out, meta, LH_ARRAY_LEN(meta),
                                       LH__ICE_AVRO_DEFLATE, sync);
    }
    for (uint32_t i = 0; rc == LH_OK && i < ml->nfiles; i++) {
        const lh_ice_manifest_file *m = &ml->files[i];
        lh__ice_avro_put_bytes(&block, m->path, strlen(m->path));
        lh__ice_avro_put_long(&block, m->length);
        lh__ice_avro_put_long(&block, m->spec_id);
        lh__ice_avro_put_long(&block, m->content);
        lh__ice_avro_put_long(&block, m->sequence_number);
        lh__ice_avro_put_long(&block, m->min_sequence_number);
        lh__ice_avro_put_long(&block, m->added_snapshot_id);
        lh__ice_avro_put_long(&block, nonneg(m->added_files));
        lh__ice_avro_put_long(&block, nonneg(m->existing_files));
        lh__ice_avro_put_long(&block, nonneg(m->deleted_files));
        lh__ice_avro_put_long(&block, nonneg(m->added_rows));
        lh__ice_avro_put_long(&block, nonneg(m->existing_rows));
        lh__ice_avro_put_long(&block, nonneg(m->deleted_rows));
        null_union(&block, true);
        if (m->npartitions > 0) {
            lh__ice_avro_put_long(&block, m->npartitions);
            for (uint32_t k = 0; k < m->npartitions; k++) {
                const lh_ice_field_summary *s = &m->partitions[k];
                uint8_t bv = s->contains_null ? 1 : 0;
                lh_buf_append(&block, &bv, 1);
                null_union(&block, s->has_contains_nan);
                if (s->has_contains_nan) {
                    bv = s->contains_nan ? 1 : 0;
                    lh_buf_append(&block, &bv, 1);
                }
                null_union(&block, s->has_lower);
                if (s->has_lower) {
                    lh__ice_avro_put_bytes(&block, s->lower, s->nlower);
                }
                null_union(&block, s->has_upper);
                if (s->has_upper) {
                    lh__ice_avro_put_bytes(&block, s->upper, s->nupper);
                }
            }
        }
        lh__ice_avro_put_long(&block, 0);
        null_union(&block, m->key_metadata != NULL);
        if (m->key_metadata != NULL) {
            lh__ice_avro_put_bytes(&block, m->key_metadata, m->nkey_metadata);
        }
        if (format_version >= 3) {
            put_opt_long(&block, m->has_first_row_id, m->first_row_id);
        }
    }
    if (rc == LH_OK && ml->nfiles > 0) {
        rc = lh__ice_avro_write_block(out, LH__ICE_AVRO_DEFLATE, sync,
                                      ml->nfiles, block.data, block.len, err);
    }
    if (rc == LH_OK && (!lh_buf_ok(&avsc) || !lh_buf_ok(&block))) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory writing a list");
    }
    lh_buf_release(&avsc);
    lh_buf_release(&block);
    return rc;
}

/* ---- partition summaries
 * ---------------------------------------------------------------- */

lh_rc
lh_ice_summarize(const lh_ice_type *ptype, const lh_ice_entry *entries,
                 uint32_t n, lh_arena *a, lh_ice_field_summary **out,
                 lh_err *err)
{
    lh_ice_field_summary *s =
        lh__ice_alloc_array(a, ptype->nfields, sizeof(*s));
    if (s == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < ptype->nfields; i++) {
        const lh_ice_type *t = &ptype->fields[i].type;
        const lh_value *lo = NULL, *hi = NULL;
        bool is_float = t->id == LH_ICE_FLOAT || t->id == LH_ICE_DOUBLE;
        s[i].has_contains_nan = is_float;
        for (uint32_t k = 0; k < n; k++) {
            const lh_ice_data_file *f = &entries[k].file;
            if (i >= f->npartition) {
                continue;
            }
            const lh_value *v = &f->partition[i];
            if (v->is_null) {
                s[i].contains_null = true;
                continue;
            }
            if (is_float && isnan(v->u.d)) {
                s[i].contains_nan = true;
                continue;
            }
            if (lo == NULL || lh_ice_value_cmp(v, lo) < 0) {
                lo = v;
            }
            if (hi == NULL || lh_ice_value_cmp(v, hi) > 0) {
                hi = v;
            }
        }
        lh_buf b = LH_BUF_INIT;
        if (lo != NULL && lh_ice_value_to_bytes(t, lo, &b, NULL) == LH_OK) {
            s[i].lower = lh_arena_memdup(a, b.data ? b.data : "", b.len + 1);
            s[i].nlower = (uint32_t)b.len;
            s[i].has_lower = s[i].lower != NULL;
        }
        lh_buf_reset(&b);
        if (hi != NULL && lh_ice_value_to_bytes(t, hi, &b, NULL) == LH_OK) {
            s[i].upper = lh_arena_memdup(a, b.data ? b.data : "", b.len + 1);
            s[i].nupper = (uint32_t)b.len;
            s[i].has_upper = s[i].upper != NULL;
        }
        lh_buf_release(&b);
    }
    *out = s;
    return LH_OK;
}

/* ---- data files
 * -------------------------------------------------------------------------- */

/* Running metrics of one top-level primitive column. */
typedef struct col_metrics {
    int32_t id;
    const lh_ice_type *type;
    int64_t values, nulls, nans;
    bool has_lo, has_hi;
    lh_value lo, hi;
    lh_buf lo_bytes, hi_bytes; /* the values' bytes (strings) */
} col_metrics;

struct lh_ice_data_writer {
    const lh_ice_schema *schema;
    const lh_ice_partition_spec *spec;
    lh_ice_type ptype;
    lh_pq_writer *w;
    lh_buf bytes;
    col_metrics *m;
    uint32_t nm;
    lh_pq_wcolumn *cols;
    uint32_t ncols;
    bool have_partition;
    lh_value *partition;
    lh_arena arena;
    uint64_t rows;
};

static lh_rc
sink_write(void *ctx, const void *p, size_t n, lh_err *err)
{
    lh_buf *b = ctx;
    return lh_buf_append(b, p, n) == LH_OK
               ? LH_OK
               : lh_err_set(err, LH_ENOMEM, "out of memory");
}

static lh_rc
wcolumn(const lh_ice_field *f, lh_arena *a, lh_pq_wcolumn *out, lh_err *err)
{
    memset(out, 0, sizeof(*out));
    out->name = f->name;
    out->type = lh_ice_type_to_lh(&f->type);
    out->nullable = !f->required;
    out->has_field_id = true;
    out->field_id = f->id;
    if (f->type.id == LH_ICE_UNKNOWN || f->type.id == LH_ICE_VARIANT ||
        f->type.id == LH_ICE_GEOMETRY || f->type.id == LH_ICE_GEOGRAPHY ||
        f->type.id == LH_ICE_FIXED || f->type.id == LH_ICE_TIMESTAMP_NS ||
        f->type.id == LH_ICE_TIMESTAMPTZ_NS) {
        char name[64];
        return lh_err_set(
            err, LH_EUNSUPPORTED, "unsupported: writing %s columns (\"%.60s\")",
            lh_ice_type_name(&f->type, name, sizeof(name)), f->name);
    }
    if (f->type.nfields > 0) {
        lh_pq_wcolumn *kids =
            lh__ice_alloc_array(a, f->type.nfields, sizeof(*kids));
        if (kids == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        for (uint32_t i = 0; i < f->type.nfields; i++) {
            lh_rc rc = wcolumn(&f->type.fields[i], a, &kids[i], err);
            if (rc != LH_OK) {
                return rc;
            }
        }
        out->children = kids;
        out->nchildren = f->type.nfields;
    }
    return LH_OK;
}

lh_rc
lh_ice_data_writer_open(const lh_ice_schema *schema,
                        const lh_ice_partition_spec *spec,
                        lh_ice_data_writer **out, lh_err *err)
{
    return lh_ice_data_writer_open_opts(schema, spec, NULL, out, err);
}

lh_rc
lh_ice_data_writer_open_opts(const lh_ice_schema *schema,
                             const lh_ice_partition_spec *spec,
                             const lh_ice_data_writer_opts *wo,
                             lh_ice_data_writer **out, lh_err *err)
{
    *out = NULL;
    lh_ice_data_writer *w = lh_calloc(1, sizeof(*w));
    if (w == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_arena_init(&w->arena, 0);
    w->schema = schema;
    w->spec = spec;
    lh_rc rc =
        lh_ice_spec_partition_type(spec, schema, &w->arena, &w->ptype, err);
    w->ncols = schema->type.nfields;
    w->cols = lh__ice_alloc_array(&w->arena, w->ncols, sizeof(lh_pq_wcolumn));
    w->m = lh__ice_alloc_array(&w->arena, w->ncols, sizeof(col_metrics));
    w->partition =
        lh__ice_alloc_array(&w->arena, spec->nfields, sizeof(lh_value));
    if (rc == LH_OK &&
        (w->cols == NULL || w->m == NULL || w->partition == NULL)) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; rc == LH_OK && i < w->ncols; i++) {
        const lh_ice_field *f = &schema->type.fields[i];
        rc = wcolumn(f, &w->arena, &w->cols[i], err);
        for (uint32_t k = 0; wo != NULL && k < wo->nbloom; k++) {
            w->cols[i].bloom = w->cols[i].bloom || wo->bloom_ids[k] == f->id;
        }
        w->m[i].id = f->id;
        w->m[i].type = &f->type;
        lh_buf_init(&w->m[i].lo_bytes);
        lh_buf_init(&w->m[i].hi_bytes);
    }
    w->nm = w->ncols;
    lh_buf json = LH_BUF_INIT;
    if (rc == LH_OK) {
        rc = lh_ice_schema_to_json(schema, &json);
    }
    if (rc == LH_OK) {
        /* Spark's footer key: readers like icebird follow renames by it. */
        lh_pq_key_value kv = {"iceberg.schema", json.data, (uint32_t)json.len};
        lh_pq_writer_opts o;
        lh_pq_writer_opts_init(&o);
        o.kv = &kv;
        o.nkv = 1;
        o.threads = 1;
        if (wo != NULL && wo->row_group_rows > 0) {
            o.row_group_rows = wo->row_group_rows;
        }
        lh_pq_sink sink = {sink_write, NULL, &w->bytes};
        rc = lh_pq_writer_open(w->cols, w->ncols, &o, &sink, &w->w, err);
    }
    lh_buf_release(&json);
    if (rc != LH_OK) {
        lh_ice_data_writer_abort(w);
        return rc;
    }
    *out = w;
    return LH_OK;
}

static lh_rc
keep_bound(col_metrics *m, const lh_value *v, bool lo)
{
    lh_value *dst = lo ? &m->lo : &m->hi;
    lh_buf *bytes = lo ? &m->lo_bytes : &m->hi_bytes;
    *dst = *v;
    if (v->type.id == LH_T_VARCHAR || v->type.id == LH_T_BLOB) {
        lh_buf_reset(bytes);
        if (lh_buf_append(bytes, v->u.s.p, v->u.s.len) != LH_OK) {
            return LH_ENOMEM;
        }
        dst->u.s.p = bytes->data ? bytes->data : "";
    }
    if (lo) {
        m->has_lo = true;
    } else {
        m->has_hi = true;
    }
    return LH_OK;
}

lh_rc
lh_ice_data_writer_write(lh_ice_data_writer *w, const lh_batch *b, lh_err *err)
{
    if (b->ncols != w->ncols) {
        return lh_err_set(err, LH_EINVAL,
                          "a batch of %u columns for a schema of %u", b->ncols,
                          w->ncols);
    }
    lh_arena tmp;
    lh_arena_init(&tmp, 0);
    lh_rc rc = LH_OK;
    uint32_t n = b->sel ? b->nsel : b->count;
    /* Partition values: each row's must equal the file's. */
    for (uint32_t k = 0; rc == LH_OK && k < n; k++) {
        uint32_t row = b->sel ? b->sel[k] : k;
        for (uint32_t i = 0; rc == LH_OK && i < w->spec->nfields; i++) {
            const lh_ice_partition_field *pf = &w->spec->fields[i];
            uint32_t col = UINT32_MAX;
            for (uint32_t c = 0; c < w->ncols; c++) {
                if (w->schema->type.fields[c].id == pf->source_id) {
                    col = c;
                }
            }
            if (col == UINT32_MAX) {
                rc = lh_err_set(err, LH_EUNSUPPORTED,
                                "unsupported: partitioning by a nested field");
                break;
            }
            lh_value v, pv;
            rc = lh_vector_value(&b->cols[col], row, &tmp, &v, err);
            if (rc == LH_OK) {
                rc = lh_ice_transform_apply(&pf->transform,
                                            &w->schema->type.fields[col].type,
                                            &v, &pv, err);
            }
            if (rc != LH_OK) {
                break;
            }
            if (!w->have_partition) {
                w->partition[i] = pv;
                if (!pv.is_null &&
                    (pv.type.id == LH_T_VARCHAR || pv.type.id == LH_T_BLOB)) {
                    w->partition[i].u.s.p =
                        lh_arena_memdup(&w->arena, pv.u.s.p, pv.u.s.len + 1);
                }
            } else if (pv.is_null != w->partition[i].is_null ||
                       (!pv.is_null &&
                        lh_ice_value_cmp(&pv, &w->partition[i]) != 0)) {
                rc = lh_err_set(err, LH_EINVAL,
                                "row %u belongs to another partition of "
                                "\"%.60s\" than the file's first row",
                                row, pf->name);
            }
        }
        if (w->spec->nfields > 0 && rc == LH_OK) {
            w->have_partition = true;
        }
        lh_arena_reset(&tmp);
    }
    /* Metrics of top-level primitive columns. */
    for (uint32_t c = 0; rc == LH_OK && c < w->ncols; c++) {
        col_metrics *m = &w->m[c];
        if (!lh_ice_type_is_primitive(m->type)) {
            continue;
        }
        for (uint32_t k = 0; rc == LH_OK && k < n; k++) {
            uint32_t row = b->sel ? b->sel[k] : k;
            lh_value v;
            rc = lh_vector_value(&b->cols[c], row, &tmp, &v, err);
            if (rc != LH_OK) {
                break;
            }
            m->values++;
            if (v.is_null) {
                m->nulls++;
                continue;
            }
            if ((v.type.id == LH_T_REAL || v.type.id == LH_T_DOUBLE) &&
                isnan(v.u.d)) {
                m->nans++;
                continue;
            }
            if (!m->has_lo || lh_ice_value_cmp(&v, &m->lo) < 0) {
                rc = keep_bound(m, &v, true);
            }
            if (rc == LH_OK &&
                (!m->has_hi || lh_ice_value_cmp(&v, &m->hi) > 0)) {
                rc = keep_bound(m, &v, false);
            }
            if (rc != LH_OK) {
                rc = lh_err_set(err, LH_ENOMEM, "out of memory");
            }
            if ((k & 255) == 255) {
                lh_arena_reset(&tmp);
            }
        }
        lh_arena_reset(&tmp);
    }
    lh_arena_release(&tmp);
    if (rc == LH_OK) {
        rc = lh_pq_writer_write(w->w, b, err);
        w->rows += n;
    }
    return rc;
}

void
lh_ice_data_writer_abort(lh_ice_data_writer *w)
{
    if (w == NULL) {
        return;
    }
    lh_pq_writer_abort(w->w);
    for (uint32_t i = 0; w->m != NULL && i < w->nm; i++) {
        lh_buf_release(&w->m[i].lo_bytes);
        lh_buf_release(&w->m[i].hi_bytes);
    }
    lh_buf_release(&w->bytes);
    lh_arena_release(&w->arena);
    lh_free(w);
}

lh_rc
lh_ice_data_writer_close(lh_ice_data_writer *w, const lh_ice_table *t,
                         const char *location, lh_arena *a,
                         lh_ice_data_file *out, lh_err *err)
{
    memset(out, 0, sizeof(*out));
    lh_rc rc = lh_pq_writer_close(w->w, err);
    w->w = NULL;
    lh_pq_file *pq = NULL;
    if (rc == LH_OK) {
        rc = lh_pq_open_mem((const uint8_t *)w->bytes.data, w->bytes.len,
                            location, &pq, err);
    }
    uint32_t nm = w->nm;
    out->content = LH_ICE_CONTENT_DATA;
    out->format = "PARQUET";
    out->path = lh_arena_strdup(a, location);
    out->spec_id = w->spec->spec_id;
    out->record_count = (int64_t)w->rows;
    out->file_size = (int64_t)w->bytes.len;
    out->npartition = w->spec->nfields;
    out->partition = lh__ice_alloc_array(a, w->spec->nfields, sizeof(lh_value));
    out->column_sizes = lh__ice_alloc_array(a, nm, sizeof(lh_ice_metric));
    out->value_counts = lh__ice_alloc_array(a, nm, sizeof(lh_ice_metric));
    out->null_counts = lh__ice_alloc_array(a, nm, sizeof(lh_ice_metric));
    out->nan_counts = lh__ice_alloc_array(a, nm, sizeof(lh_ice_metric));
    out->lower = lh__ice_alloc_array(a, nm, sizeof(lh_ice_bound));
    out->upper = lh__ice_alloc_array(a, nm, sizeof(lh_ice_bound));
    if (rc == LH_OK &&
        (out->path == NULL || out->partition == NULL ||
         out->column_sizes == NULL || out->value_counts == NULL ||
         out->null_counts == NULL || out->nan_counts == NULL ||
         out->lower == NULL || out->upper == NULL)) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; rc == LH_OK && i < w->spec->nfields; i++) {
        out->partition[i] = w->partition[i];
        if (!w->have_partition) {
            out->partition[i].type =
                lh_ice_type_to_lh(&w->ptype.fields[i].type);
            out->partition[i].is_null = true;
        } else if (!w->partition[i].is_null &&
                   (w->partition[i].type.id == LH_T_VARCHAR ||
                    w->partition[i].type.id == LH_T_BLOB)) {
            out->partition[i].u.s.p = lh_arena_memdup(
                a, w->partition[i].u.s.p, w->partition[i].u.s.len + 1);
        }
    }
    const lh_pq_file_metadata *fm = pq ? lh_pq_meta(pq) : NULL;
    for (uint32_t c = 0; rc == LH_OK && c < nm; c++) {
        col_metrics *m = &w->m[c];
        /* Column sizes: the chunks of the column's leaves. */
        const lh_pq_node *node = lh_pq_column(pq, c);
        int64_t size = 0;
        for (uint32_t g = 0; g < fm->n_row_groups; g++) {
            for (uint32_t l = 0; l < lh_pq_nleaves(pq); l++) {
                const lh_pq_node *leaf = lh_pq_leaf(pq, l);
                const lh_pq_node *top = leaf;
                while (top->parent != NULL) {
                    top = top->parent;
                }
                if (top == node && l < fm->row_groups[g].n_columns) {
                    size += fm->row_groups[g]
                                .columns[l]
                                .meta_data.total_compressed_size;
                }
            }
        }
        out->column_sizes[out->ncolumn_sizes++] = (lh_ice_metric){m->id, size};
        if (!lh_ice_type_is_primitive(m->type)) {
            continue;
        }
        out->value_counts[out->nvalue_counts++] =
            (lh_ice_metric){m->id, m->values};
        out->null_counts[out->nnull_counts++] =
            (lh_ice_metric){m->id, m->nulls};
        if (m->type->id == LH_ICE_FLOAT || m->type->id == LH_ICE_DOUBLE) {
            out->nan_counts[out->nnan_counts++] =
                (lh_ice_metric){m->id, m->nans};
        }
        lh_buf bb = LH_BUF_INIT;
        for (int side = 0; side < 2; side++) {
            const lh_value *v = side == 0 ? &m->lo : &m->hi;
            if (!(side == 0 ? m->has_lo : m->has_hi)) {
                continue;
            }
            lh_buf_reset(&bb);
            if (lh_ice_value_to_bytes(m->type, v, &bb, NULL) != LH_OK ||
                bb.len > BOUND_MAX) {
                continue;
            }
            lh_ice_bound bd = {m->id, lh_arena_memdup(a, bb.data, bb.len + 1),
                               (uint32_t)bb.len};
            if (bd.p == NULL) {
                rc = lh_err_set(err, LH_ENOMEM, "out of memory");
                break;
            }
            if (side == 0) {
                out->lower[out->nlower++] = bd;
            } else {
                out->upper[out->nupper++] = bd;
            }
        }
        lh_buf_release(&bb);
    }
    if (rc == LH_OK && fm != NULL && fm->n_row_groups > 0) {
        out->split_offsets =
            lh__ice_alloc_array(a, fm->n_row_groups, sizeof(int64_t));
        if (out->split_offsets == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        for (uint32_t g = 0; rc == LH_OK && g < fm->n_row_groups; g++) {
            const lh_pq_column_metadata *cm =
                &fm->row_groups[g].columns[0].meta_data;
            out->split_offsets[g] =
                cm->has_dictionary_page_offset && cm->dictionary_page_offset > 0
                    ? cm->dictionary_page_offset
                    : cm->data_page_offset;
        }
        out->nsplit_offsets = fm->n_row_groups;
    }
    lh_pq_close(pq);
    if (rc == LH_OK) {
        char key[LH_IO_KEY_MAX + 1];
        rc = lh_ice_table_key(t, location, key, sizeof(key), err);
        if (rc == LH_OK) {
            rc = lh_io_put(lh_ice_table_store(t), key, w->bytes.data,
                           w->bytes.len, NULL, err);
        }
    }
    w->w = NULL;
    lh_ice_data_writer_abort(w);
    return rc;
}
