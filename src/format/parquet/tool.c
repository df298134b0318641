/*
 * The public Parquet tools behind `lakehouse parquet cat|inspect`:
 * printing a file's rows and its structure.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format/parquet/codec.h"
#include "format/parquet/reader_int.h"

static const char *
phys_name(int t)
{
    static const char *const n[] = {
        "BOOLEAN", "INT32",  "INT64",      "INT96",
        "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return t >= 0 && t < 8 ? n[t] : "UNKNOWN";
}

static const char *
rep_name(int r)
{
    return r == LH_PQ_REP_REQUIRED   ? "REQUIRED"
           : r == LH_PQ_REP_OPTIONAL ? "OPTIONAL"
           : r == LH_PQ_REP_REPEATED ? "REPEATED"
                                     : "UNKNOWN";
}

static const char *
unit_name(int u)
{
    return u == LH_PQ_UNIT_MILLIS   ? "MILLIS"
           : u == LH_PQ_UNIT_MICROS ? "MICROS"
           : u == LH_PQ_UNIT_NANOS  ? "NANOS"
                                    : "UNKNOWN";
}

/* "STRING", "DECIMAL(10,2)", "TIMESTAMP(MICROS,true)", "" when none. */
static void
logical_text(const lh_pq_schema_element *el, char *buf, size_t n)
{
    buf[0] = 0;
    if (!el->has_logical_type) {
        static const char *const conv[] = {"UTF8",
                                           "MAP",
                                           "MAP_KEY_VALUE",
                                           "LIST",
                                           "ENUM",
                                           "DECIMAL",
                                           "DATE",
                                           "TIME_MILLIS",
                                           "TIME_MICROS",
                                           "TIMESTAMP_MILLIS",
                                           "TIMESTAMP_MICROS",
                                           "UINT_8",
                                           "UINT_16",
                                           "UINT_32",
                                           "UINT_64",
                                           "INT_8",
                                           "INT_16",
                                           "INT_32",
                                           "INT_64",
                                           "JSON",
                                           "BSON",
                                           "INTERVAL"};
        if (el->has_converted_type && el->converted_type >= 0 &&
            el->converted_type < 22) {
            if (el->converted_type == LH_PQ_CONV_DECIMAL) {
                snprintf(buf, n, "DECIMAL(%d,%d)", el->precision, el->scale);
            } else {
                snprintf(buf, n, "%s", conv[el->converted_type]);
            }
        }
        return;
    }
    const lh_pq_logical_type *lt = &el->logical_type;
    switch (lt->kind) {
    case LH_PQ_LT_DECIMAL:
        snprintf(buf, n, "DECIMAL(%d,%d)", lt->precision, lt->scale);
        break;
    case LH_PQ_LT_TIME:
    case LH_PQ_LT_TIMESTAMP:
        snprintf(buf, n, "%s(%s,%s)",
                 lt->kind == LH_PQ_LT_TIME ? "TIME" : "TIMESTAMP",
                 unit_name(lt->unit),
                 lt->is_adjusted_to_utc ? "true" : "false");
        break;
    case LH_PQ_LT_INTEGER:
        snprintf(buf, n, "INTEGER(%d,%s)", lt->bit_width,
                 lt->is_signed ? "true" : "false");
        break;
    default: {
        static const char *const k[] = {
            "",        "STRING",  "MAP",      "LIST",     "ENUM",
            "",        "DATE",    "",         "",         "",
            "",        "UNKNOWN", "JSON",     "BSON",     "UUID",
            "FLOAT16", "VARIANT", "GEOMETRY", "GEOGRAPHY"};
        if (lt->kind > 0 && lt->kind < 19) {
            snprintf(buf, n, "%s", k[lt->kind]);
        } else {
            snprintf(buf, n, "UNKNOWN(%d)", lt->kind);
        }
        break;
    }
    }
}

/* A lakehouse type name with nested element types spelled out:
 * "LIST<INTEGER>", "MAP<VARCHAR,BIGINT>", "STRUCT<a INTEGER,b VARCHAR>". */
static void
node_type(const lh_pq_node *n, lh_buf *b)
{
    char tn[40];
    if (n->type.id == LH_T_LIST) {
        lh_buf_puts(b, "LIST<");
        node_type(&n->children[0], b);
        lh_buf_puts(b, ">");
    } else if (n->type.id == LH_T_MAP) {
        const lh_pq_node *kv = &n->children[0];
        lh_buf_puts(b, "MAP<");
        for (uint32_t i = 0; i < kv->nchildren; i++) {
            if (i) {
                lh_buf_puts(b, ",");
            }
            node_type(&kv->children[i], b);
        }
        lh_buf_puts(b, ">");
    } else if (n->type.id == LH_T_STRUCT) {
        lh_buf_puts(b, "STRUCT<");
        for (uint32_t i = 0; i < n->nchildren; i++) {
            if (i) {
                lh_buf_puts(b, ",");
            }
            lh_buf_printf(b, "%s ", n->children[i].name);
            node_type(&n->children[i], b);
        }
        lh_buf_puts(b, ">");
    } else {
        lh_buf_puts(b, lh_type_name(n->type, tn));
    }
}

/* ---- cat ---------------------------------------------------------------- */

static lh_rc
pick_columns(lh_pq_file *f, const char *list, uint32_t **cols, uint32_t *n,
             lh_err *err)
{
    *cols = NULL;
    *n = 0;
    if (!list) {
        return LH_OK;
    }
    uint32_t cap = 1;
    for (const char *p = list; *p; p++) {
        cap += *p == ',';
    }
    uint32_t *c = calloc(cap, sizeof *c);
    if (!c) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char name[256];
        if (len == 0 || len >= sizeof name) {
            free(c);
            return lh_err_set(err, LH_EINVAL,
                              "--columns: an empty or too long column name in "
                              "\"%s\"",
                              list);
        }
        memcpy(name, p, len);
        name[len] = 0;
        int i = lh_pq_find_column(f, name);
        if (i < 0) {
            lh_buf known;
            lh_buf_init(&known);
            for (uint32_t k = 0; k < lh_pq_ncolumns(f); k++) {
                lh_buf_printf(&known, "%s%s", k ? ", " : "",
                              lh_pq_column(f, k)->name);
            }
            lh_err_set(err, LH_EINVAL,
                       "no column \"%s\" in %s (columns: %.300s)", name,
                       f->name, known.data ? known.data : "");
            lh_buf_release(&known);
            free(c);
            return LH_EINVAL;
        }
        c[(*n)++] = (uint32_t)i;
        p += len;
        if (*p == ',') {
            p++;
        }
    }
    *cols = c;
    return LH_OK;
}

lh_rc
lh_parquet_cat(const char *path, const lh_parquet_cat_opts *opts, FILE *out,
               lh_err *err)
{
    lh_parquet_cat_opts none = {.limit = -1};
    if (!opts) {
        opts = &none;
    }
    lh_format fmt = LH_FMT_CSV;
    lh_rc rc = LH_OK;
    if (opts->format && (rc = lh_format_parse(opts->format, &fmt, err))) {
        return rc;
    }
    lh_pq_file *f = NULL;
    rc = lh_pq_open(path, &f, err);
    if (rc != LH_OK) {
        return rc;
    }
    uint32_t *cols = NULL, ncols = 0;
    lh_pq_scan *s = NULL;
    lh_output *o = NULL;
    const char **names = NULL;
    lh_type *types = NULL;
    lh_value *vals = NULL;
    lh_arena a;
    lh_arena_init(&a, 0);
    rc = pick_columns(f, opts->columns, &cols, &ncols, err);
    if (rc != LH_OK) {
        goto out;
    }
    if (!cols) {
        ncols = lh_pq_ncolumns(f);
    }
    names = calloc(ncols + 1, sizeof *names);
    types = calloc(ncols + 1, sizeof *types);
    vals = calloc(ncols + 1, sizeof *vals);
    if (!names || !types || !vals) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < ncols; i++) {
        const lh_pq_node *n = lh_pq_column(f, cols ? cols[i] : i);
        names[i] = n->name;
        types[i] =
            lh_type_is_nested(n->type) ? (lh_type){.id = LH_T_JSON} : n->type;
    }
    lh_pq_scan_opts so = {.columns = cols, .ncolumns = ncols};
    if (!cols) {
        so.columns = NULL;
    }
    rc = lh_pq_scan_open(f, &so, &s, err);
    if (rc == LH_OK) {
        rc = lh_output_new(fmt, out, names, types, ncols, &o, err);
    }
    int64_t left = opts->limit < 0 ? INT64_MAX : opts->limit;
    while (rc == LH_OK && left > 0) {
        lh_batch b;
        rc = lh_pq_scan_next(s, &b, err);
        if (rc != LH_OK || b.count == 0) {
            break;
        }
        for (uint32_t r = 0; r < b.count && left > 0 && rc == LH_OK;
             r++, left--) {
            lh_arena_reset(&a);
            for (uint32_t c = 0; c < ncols && rc == LH_OK; c++) {
                rc = lh_vector_value(&b.cols[c], r, &a, &vals[c], err);
            }
            if (rc == LH_OK) {
                rc = lh_output_row(o, vals, err);
            }
        }
    }
    if (o) {
        lh_err e2;
        lh_rc r2 = lh_output_finish(o, rc == LH_OK ? err : &e2);
        if (rc == LH_OK) {
            rc = r2;
        }
    }
out:
    lh_output_free(o);
    lh_pq_scan_close(s);
    lh_arena_release(&a);
    free(names);
    free(types);
    free(vals);
    free(cols);
    lh_pq_close(f);
    return rc;
}

/* ---- inspect ------------------------------------------------------------ */

static void
json_str(lh_buf *b, const char *s)
{
    lh_buf_json_string(b, s ? s : "", s ? strlen(s) : 0);
}

/* A statistic as the column's value (JSON), else as hex bytes. */
static void
stat_json(lh_buf *b, const lh_pq_node *leaf, lh_pq_bytes v)
{
    lh_value val;
    if (leaf && lh__pq_stat_value(leaf, v, &val)) {
        if (val.type.id == LH_T_VARCHAR &&
            !lh_utf8_valid(val.u.s.p, val.u.s.len)) {
            val.type.id = LH_T_BLOB; /* a truncated bound may cut a char */
        }
        lh_value_to_json(&val, b);
    } else {
        lh_buf_puts(b, "\"\\\\x");
        for (uint32_t i = 0; i < v.len; i++) {
            lh_buf_printf(b, "%02x", v.p[i]);
        }
        lh_buf_puts(b, "\"");
    }
}

static void
inspect_json(const lh_pq_file *f, lh_buf *b)
{
    const lh_pq_file_metadata *m = &f->meta;
    char lt[64];
    lh_buf_puts(b, "{\"file\":");
    json_str(b, f->name);
    lh_buf_printf(b, ",\"size\":%zu,\"version\":%d,\"created_by\":", f->size,
                  m->version);
    if (m->created_by) {
        json_str(b, m->created_by);
    } else {
        lh_buf_puts(b, "null");
    }
    lh_buf_printf(b, ",\"num_rows\":%lld,\"key_value_metadata\":{",
                  (long long)m->num_rows);
    for (uint32_t i = 0; i < m->n_key_value_metadata; i++) {
        const lh_pq_key_value *kv = &m->key_value_metadata[i];
        if (i) {
            lh_buf_puts(b, ",");
        }
        json_str(b, kv->key);
        lh_buf_puts(b, ":");
        if (kv->value && lh_utf8_valid(kv->value, kv->value_len)) {
            lh_buf_json_string(b, kv->value, kv->value_len);
        } else {
            lh_buf_puts(b, "null");
        }
    }
    lh_buf_puts(b, "},\"columns\":[");
    for (uint32_t i = 0; i < lh_pq_ncolumns(f); i++) {
        const lh_pq_node *n = lh_pq_column(f, i);
        lh_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        json_str(b, n->name);
        lh_buf_puts(b, ",\"type\":\"");
        node_type(n, b);
        lh_buf_printf(b, "\",\"nullable\":%s", n->nullable ? "true" : "false");
        if (n->has_field_id) {
            lh_buf_printf(b, ",\"field_id\":%d", n->field_id);
        }
        lh_buf_puts(b, "}");
    }
    lh_buf_puts(b, "],\"schema\":[");
    for (uint32_t i = 0; i < m->n_schema; i++) {
        const lh_pq_schema_element *el = &m->schema[i];
        lh_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        json_str(b, el->name);
        if (el->has_type) {
            lh_buf_printf(b, ",\"physical_type\":\"%s\"", phys_name(el->type));
        }
        if (el->has_type_length) {
            lh_buf_printf(b, ",\"type_length\":%d", el->type_length);
        }
        if (el->has_repetition_type) {
            lh_buf_printf(b, ",\"repetition\":\"%s\"",
                          rep_name(el->repetition_type));
        }
        logical_text(el, lt, sizeof lt);
        if (lt[0]) {
            lh_buf_puts(b, ",\"logical_type\":");
            json_str(b, lt);
        }
        if (el->has_num_children) {
            lh_buf_printf(b, ",\"num_children\":%d", el->num_children);
        }
        if (el->has_field_id) {
            lh_buf_printf(b, ",\"field_id\":%d", el->field_id);
        }
        lh_buf_puts(b, "}");
    }
    lh_buf_puts(b, "],\"row_groups\":[");
    for (uint32_t g = 0; g < m->n_row_groups; g++) {
        const lh_pq_row_group *rg = &m->row_groups[g];
        lh_buf_printf(b,
                      "%s{\"num_rows\":%lld,\"total_byte_size\":%lld,"
                      "\"columns\":[",
                      g ? "," : "", (long long)rg->num_rows,
                      (long long)rg->total_byte_size);
        for (uint32_t c = 0; c < rg->n_columns; c++) {
            const lh_pq_column_chunk *cc = &rg->columns[c];
            const lh_pq_column_metadata *cm = &cc->meta_data;
            const lh_pq_node *leaf = c < f->nleaves ? f->leaves[c] : NULL;
            lh_buf path;
            lh_buf_init(&path);
            for (uint32_t k = 0; k < cm->n_path_in_schema; k++) {
                lh_buf_printf(&path, "%s%s", k ? "." : "",
                              cm->path_in_schema[k]);
            }
            lh_buf_puts(b, c ? ",{\"path\":" : "{\"path\":");
            lh_buf_json_string(b, path.data ? path.data : "", path.len);
            lh_buf_release(&path);
            lh_buf_printf(b,
                          ",\"physical_type\":\"%s\",\"codec\":\"%s\","
                          "\"encodings\":[",
                          phys_name(cm->type), lh_pq_codec_name(cm->codec));
            for (uint32_t k = 0; k < cm->n_encodings; k++) {
                lh_buf_printf(b, "%s\"%s\"", k ? "," : "",
                              lh__pq_enc_name(cm->encodings[k]));
            }
            lh_buf_printf(b,
                          "],\"num_values\":%lld,\"compressed_size\":%lld,"
                          "\"uncompressed_size\":%lld,\"data_page_offset\":"
                          "%lld",
                          (long long)cm->num_values,
                          (long long)cm->total_compressed_size,
                          (long long)cm->total_uncompressed_size,
                          (long long)cm->data_page_offset);
            if (cm->has_dictionary_page_offset) {
                lh_buf_printf(b, ",\"dictionary_page_offset\":%lld",
                              (long long)cm->dictionary_page_offset);
            }
            if (cm->has_statistics) {
                const lh_pq_statistics *st = &cm->statistics;
                lh_buf_puts(b, ",\"statistics\":{");
                bool first = true;
                if (st->has_null_count) {
                    lh_buf_printf(b, "\"null_count\":%lld",
                                  (long long)st->null_count);
                    first = false;
                }
                if (st->has_distinct_count) {
                    lh_buf_printf(b, "%s\"distinct_count\":%lld",
                                  first ? "" : ",",
                                  (long long)st->distinct_count);
                    first = false;
                }
                if (st->has_min_value || st->has_min) {
                    lh_buf_printf(b, "%s\"min\":", first ? "" : ",");
                    stat_json(b, leaf,
                              st->has_min_value ? st->min_value : st->min);
                    first = false;
                }
                if (st->has_max_value || st->has_max) {
                    lh_buf_printf(b, "%s\"max\":", first ? "" : ",");
                    stat_json(b, leaf,
                              st->has_max_value ? st->max_value : st->max);
                }
                lh_buf_puts(b, "}");
            }
            lh_buf_printf(b,
                          ",\"column_index\":%s,\"offset_index\":%s,"
                          "\"bloom_filter\":%s}",
                          cc->has_column_index_offset ? "true" : "false",
                          cc->has_offset_index_offset ? "true" : "false",
                          cm->has_bloom_filter_offset ? "true" : "false");
        }
        lh_buf_puts(b, "]}");
    }
    lh_buf_puts(b, "]}\n");
}

static void
inspect_text(const lh_pq_file *f, lh_buf *b)
{
    const lh_pq_file_metadata *m = &f->meta;
    lh_buf_printf(b, "file: %s (%zu bytes)\ncreated by: %s\nrows: %lld\n",
                  f->name, f->size, m->created_by ? m->created_by : "-",
                  (long long)m->num_rows);
    lh_buf_puts(b, "columns:\n");
    for (uint32_t i = 0; i < lh_pq_ncolumns(f); i++) {
        const lh_pq_node *n = lh_pq_column(f, i);
        lh_buf_printf(b, "  %s ", n->name);
        node_type(n, b);
        lh_buf_puts(b, n->nullable ? "" : " NOT NULL");
        if (n->has_field_id) {
            lh_buf_printf(b, " (field id %d)", n->field_id);
        }
        lh_buf_puts(b, "\n");
    }
    lh_buf_puts(b, "schema:\n");
    char lt[64];
    for (uint32_t i = 0; i < m->n_schema; i++) {
        const lh_pq_schema_element *el = &m->schema[i];
        logical_text(el, lt, sizeof lt);
        lh_buf_printf(
            b, "  %s %s%s%s%s%s", el->name ? el->name : "",
            el->has_repetition_type ? rep_name(el->repetition_type) : "",
            el->has_type ? " " : " group",
            el->has_type ? phys_name(el->type) : "", lt[0] ? " " : "", lt);
        if (el->has_type_length && el->type == 7) {
            lh_buf_printf(b, "(%d)", el->type_length);
        }
        if (el->has_field_id) {
            lh_buf_printf(b, " id=%d", el->field_id);
        }
        lh_buf_puts(b, "\n");
    }
    for (uint32_t g = 0; g < m->n_row_groups; g++) {
        const lh_pq_row_group *rg = &m->row_groups[g];
        lh_buf_printf(b, "row group %u: %lld rows, %lld bytes\n", g,
                      (long long)rg->num_rows, (long long)rg->total_byte_size);
        for (uint32_t c = 0; c < rg->n_columns; c++) {
            const lh_pq_column_chunk *cc = &rg->columns[c];
            const lh_pq_column_metadata *cm = &cc->meta_data;
            const lh_pq_node *leaf = c < f->nleaves ? f->leaves[c] : NULL;
            lh_buf_puts(b, "  ");
            for (uint32_t k = 0; k < cm->n_path_in_schema; k++) {
                lh_buf_printf(b, "%s%s", k ? "." : "", cm->path_in_schema[k]);
            }
            lh_buf_printf(b, ": %s %s", phys_name(cm->type),
                          lh_pq_codec_name(cm->codec));
            for (uint32_t k = 0; k < cm->n_encodings; k++) {
                lh_buf_printf(b, "%s%s", k ? "," : " ",
                              lh__pq_enc_name(cm->encodings[k]));
            }
            lh_buf_printf(b, " values=%lld compressed=%lld uncompressed=%lld",
                          (long long)cm->num_values,
                          (long long)cm->total_compressed_size,
                          (long long)cm->total_uncompressed_size);
            if (cm->has_statistics) {
                const lh_pq_statistics *st = &cm->statistics;
                if (st->has_null_count) {
                    lh_buf_printf(b, " nulls=%lld", (long long)st->null_count);
                }
                if (st->has_min_value || st->has_min) {
                    lh_buf_puts(b, " min=");
                    stat_json(b, leaf,
                              st->has_min_value ? st->min_value : st->min);
                }
                if (st->has_max_value || st->has_max) {
                    lh_buf_puts(b, " max=");
                    stat_json(b, leaf,
                              st->has_max_value ? st->max_value : st->max);
                }
            }
            if (cc->has_column_index_offset) {
                lh_buf_puts(b, " column-index");
            }
            if (cc->has_offset_index_offset) {
                lh_buf_puts(b, " offset-index");
            }
            if (cm->has_bloom_filter_offset) {
                lh_buf_puts(b, " bloom");
            }
            lh_buf_puts(b, "\n");
        }
    }
}

lh_rc
lh_parquet_inspect(const char *path, bool json, FILE *out, lh_err *err)
{
    lh_pq_file *f = NULL;
    lh_rc rc = lh_pq_open(path, &f, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_buf b;
    lh_buf_init(&b);
    if (json) {
        inspect_json(f, &b);
    } else {
        inspect_text(f, &b);
    }
    if (b.oom) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
    } else if (fwrite(b.data, 1, b.len, out) != b.len || fflush(out) != 0) {
        rc = lh_err_sys(err, LH_EIO, errno, "cannot write the output");
    }
    lh_buf_release(&b);
    lh_pq_close(f);
    return rc;
}
