/*
 * The public Iceberg calls of lakehouse.h (lh_iceberg_inspect,
 * lh_iceberg_scan): tables opened through the module, rows and structure
 * printed through the column module's writers (output-formats.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "format/iceberg/iceberg_int.h"

#define MAX_COLUMNS 4096

/* ---- opening
 * --------------------------------------------------------------------- */

/* The catalog of the lakehouse database DIR (when TABLE is DIR:NAME), the
 * one the tables of DIR:NAME live in: DIR/iceberg/catalog.db. Opened
 * catalogs are kept for the process (one a directory); they outlive the
 * tables loaded from them. */
#define CATALOG_FILE "iceberg/catalog.db"

static lh_rc open_catalog_table(const char *dir, size_t dirlen,
                                const char *name, const lh_ice_open_opts *io,
                                lh_ice_table **t, lh_ice_catalog **cat,
                                lh_err *err);

static lh_rc
open_table_cat(const char *table, const lh_iceberg_opts *o, lh_ice_table **t,
               lh_ice_catalog **cat, lh_err *err)
{
    *t = NULL;
    *cat = NULL;
    const char *colon = strrchr(table, ':');
    bool dir_name = false;
    if (colon != NULL && strstr(table, "://") == NULL &&
        strncmp(table, "file:", 5) != 0) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%.*s/lakehouse.json", (int)(colon - table),
                 table);
        struct stat st;
        dir_name = stat(dir, &st) == 0;
    }
    lh_ice_path_map maps[64];
    char *copies[64];
    size_t n = o && o->path_map ? o->npath_map : 0;
    if (n > 64) {
        return lh_err_set(err, LH_ELIMIT, "more than 64 --path-map");
    }
    lh_rc rc = LH_OK;
    size_t made = 0;
    for (size_t i = 0; i < n && rc == LH_OK; i++) {
        const char *eq = strchr(o->path_map[i], '=');
        if (eq == NULL || eq == o->path_map[i]) {
            rc = lh_err_set(err, LH_EINVAL,
                            "--path-map wants FROM=TO, found \"%.200s\"",
                            o->path_map[i]);
            break;
        }
        copies[i] = lh_strdup(o->path_map[i]);
        if (copies[i] == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
            break;
        }
        made++;
        copies[i][eq - o->path_map[i]] = 0;
        maps[i].from = copies[i];
        maps[i].to = copies[i] + (eq - o->path_map[i]) + 1;
    }
    if (rc == LH_OK) {
        lh_ice_open_opts io = {o ? o->store : NULL, maps, (uint32_t)n};
        rc = dir_name ? open_catalog_table(table, (size_t)(colon - table),
                                           colon + 1, &io, t, cat, err)
                      : lh_ice_table_open(table, &io, t, err);
    }
    for (size_t i = 0; i < made; i++) {
        lh_free(copies[i]);
    }
    return rc;
}

static lh_rc
open_catalog_table(const char *dir, size_t dirlen, const char *name,
                   const lh_ice_open_opts *io, lh_ice_table **t,
                   lh_ice_catalog **cat, lh_err *err)
{
    char path[4096];
    snprintf(path, sizeof(path), "%.*s/" CATALOG_FILE, (int)dirlen, dir);
    struct stat st;
    if (stat(path, &st) != 0) {
        return lh_err_set(err, LH_ENOENT, "no Iceberg catalog in \"%.*s\" (%s)",
                          (int)dirlen, dir, CATALOG_FILE);
    }
    /* NAME is "namespace.table", or "table" in namespace "default". */
    char ns[256], tn[256];
    const char *dot = strrchr(name, '.');
    if (dot != NULL) {
        snprintf(ns, sizeof(ns), "%.*s", (int)(dot - name), name);
        snprintf(tn, sizeof(tn), "%s", dot + 1);
    } else {
        snprintf(ns, sizeof(ns), "default");
        snprintf(tn, sizeof(tn), "%s", name);
    }
    lh_rc rc = lh_ice_catalog_open(path, NULL, cat, err);
    if (rc == LH_OK) {
        rc = lh_ice_catalog_load_table(*cat, ns, tn, io, t, err);
    }
    if (rc != LH_OK) {
        lh_ice_catalog_close(*cat);
        *cat = NULL;
    }
    return rc;
}

/* Tables opened by the calls below, with the catalog they came from. */
typedef struct opened {
    lh_ice_table *t;
    lh_ice_catalog *cat;
} opened;

static lh_rc
open_table(const char *table, const lh_iceberg_opts *o, opened *op, lh_err *err)
{
    return open_table_cat(table, o, &op->t, &op->cat, err);
}

static void
close_table(opened *op)
{
    lh_ice_table_close(op->t);
    lh_ice_catalog_close(op->cat);
    op->t = NULL;
    op->cat = NULL;
}

/* ---- values for output
 * -------------------------------------------------------------- */

static lh_value
v_str(const char *s)
{
    lh_value v;
    memset(&v, 0, sizeof(v));
    v.type.id = LH_T_VARCHAR;
    if (s == NULL) {
        v.is_null = true;
    } else {
        v.u.s.p = s;
        v.u.s.len = strlen(s);
    }
    return v;
}

static lh_value
v_json(const char *s)
{
    lh_value v = v_str(s);
    v.type.id = LH_T_JSON;
    return v;
}

static lh_value
v_int(int64_t i)
{
    lh_value v;
    memset(&v, 0, sizeof(v));
    v.type.id = LH_T_BIGINT;
    v.u.i = i;
    return v;
}

static lh_value
v_null(void)
{
    lh_value v = v_str(NULL);
    v.type.id = LH_T_BIGINT;
    return v;
}

static lh_value
v_ts(int64_t ms)
{
    lh_value v = v_int(ms * 1000);
    v.type.id = LH_T_TIMESTAMPTZ;
    return v;
}

static lh_value
v_bool(bool b)
{
    lh_value v;
    memset(&v, 0, sizeof(v));
    v.type.id = LH_T_BOOLEAN;
    v.u.b = b;
    return v;
}

typedef struct table_out {
    lh_output *o;
    lh_err *err;
} table_out;

static lh_rc
out_open(table_out *t, const char *format, FILE *f, const char *const *names,
         const lh_type *types, size_t n, lh_err *err)
{
    lh_format fmt = LH_FMT_TABLE;
    t->err = err;
    if (format != NULL && strcmp(format, "json") == 0) {
        fmt = LH_FMT_JSON;
    } else if (format != NULL && strcmp(format, "table") != 0) {
        return lh_err_set(err, LH_EINVAL,
                          "inspect --format is json or table, found "
                          "\"%.40s\"",
                          format);
    }
    lh_rc rc = lh_output_new(fmt, f, names, types, n, &t->o, err);
    if (rc == LH_OK && fmt == LH_FMT_TABLE) {
        lh_output_set_max_width(t->o, 120);
    }
    return rc;
}

static lh_rc
out_finish(table_out *t, lh_rc rc)
{
    if (rc == LH_OK) {
        rc = lh_output_finish(t->o, t->err);
    }
    lh_output_free(t->o);
    return rc;
}

/* The partition tuple of a file as a JSON object {name: value}. */
static void
partition_json(const lh_ice_partition_spec *spec, const lh_ice_data_file *f,
               lh_buf *b)
{
    lh_buf_putc(b, '{');
    for (uint32_t i = 0; spec && i < spec->nfields && i < f->npartition; i++) {
        if (i > 0) {
            lh_buf_putc(b, ',');
        }
        lh_buf_json_string(b, spec->fields[i].name,
                           strlen(spec->fields[i].name));
        lh_buf_putc(b, ':');
        if (f->partition[i].is_null) {
            lh_buf_puts(b, "null");
        } else {
            lh_value_to_json(&f->partition[i], b);
        }
    }
    lh_buf_putc(b, '}');
}

/* ---- inspect
 * ------------------------------------------------------------------------- */

static lh_rc
inspect_summary(const lh_ice_table *t, const char *format, FILE *f, lh_err *err)
{
    const lh_ice_meta *m = lh_ice_table_meta(t);
    lh_buf schema = LH_BUF_INIT, spec = LH_BUF_INIT, props = LH_BUF_INIT,
           sort = LH_BUF_INIT;
    lh_ice_schema_to_json(lh_ice_meta_current_schema(m), &schema);
    lh__ice_spec_to_json(lh_ice_meta_spec(m, m->default_spec_id), false, &spec);
    lh_buf_putc(&props, '{');
    for (uint32_t i = 0; i < m->nproperties; i++) {
        if (i > 0) {
            lh_buf_putc(&props, ',');
        }
        lh_buf_json_string(&props, m->properties[i].key,
                           strlen(m->properties[i].key));
        lh_buf_putc(&props, ':');
        lh_buf_json_string(&props, m->properties[i].value,
                           strlen(m->properties[i].value));
    }
    lh_buf_putc(&props, '}');
    lh_buf_printf(&sort, "%d", m->default_sort_order_id);
    const lh_ice_snapshot *cur = lh_ice_meta_current_snapshot(m);
    const char *names[] = {"format_version",
                           "table_uuid",
                           "location",
                           "metadata_file",
                           "last_updated",
                           "current_snapshot_id",
                           "snapshots",
                           "last_sequence_number",
                           "current_schema_id",
                           "schema",
                           "default_spec_id",
                           "partition_spec",
                           "default_sort_order_id",
                           "properties"};
    lh_value vals[] = {v_int(m->format_version),
                       v_str(m->table_uuid),
                       v_str(m->location),
                       v_str(lh_ice_table_metadata_key(t)),
                       v_ts(m->last_updated_ms),
                       cur ? v_int(cur->snapshot_id) : v_null(),
                       v_int(m->nsnapshots),
                       v_int(m->last_sequence_number),
                       v_int(m->current_schema_id),
                       v_json(schema.data),
                       v_int(m->default_spec_id),
                       v_json(spec.data),
                       v_int(m->default_sort_order_id),
                       v_json(props.data)};
    size_t n = LH_ARRAY_LEN(names);
    lh_rc rc;
    table_out o;
    if (format != NULL && strcmp(format, "json") == 0) {
        lh_type types[LH_ARRAY_LEN(names)];
        for (size_t i = 0; i < n; i++) {
            types[i] = vals[i].type;
        }
        lh_output *w;
        rc = lh_output_new(LH_FMT_NDJSON, f, names, types, n, &w, err);
        if (rc == LH_OK) {
            rc = lh_output_row(w, vals, err);
            if (rc == LH_OK) {
                rc = lh_output_finish(w, err);
            }
            lh_output_free(w);
        }
    } else {
        const char *cn[] = {"field", "value"};
        lh_type ct[2] = {{.id = LH_T_VARCHAR}, {.id = LH_T_VARCHAR}};
        rc = out_open(&o, "table", f, cn, ct, 2, err);
        for (size_t i = 0; rc == LH_OK && i < n; i++) {
            lh_buf text = LH_BUF_INIT;
            if (!vals[i].is_null) {
                lh_value_to_text(&vals[i], &text);
            }
            lh_value row[2] = {v_str(names[i]),
                               vals[i].is_null
                                   ? v_str(NULL)
                                   : v_str(text.data ? text.data : "")};
            rc = lh_output_row(o.o, row, err);
            lh_buf_release(&text);
        }
        if (rc == LH_OK || o.o != NULL) {
            rc = out_finish(&o, rc);
        }
    }
    lh_buf_release(&schema);
    lh_buf_release(&spec);
    lh_buf_release(&props);
    lh_buf_release(&sort);
    return rc;
}

static lh_rc
inspect_snapshots(const lh_ice_meta *m, const char *format, FILE *f,
                  lh_err *err)
{
    const char *names[] = {"snapshot_id",  "parent_id", "sequence_number",
                           "committed_at", "operation", "manifest_list",
                           "schema_id",    "summary"};
    lh_type types[] = {{.id = LH_T_BIGINT},  {.id = LH_T_BIGINT},
                       {.id = LH_T_BIGINT},  {.id = LH_T_TIMESTAMPTZ},
                       {.id = LH_T_VARCHAR}, {.id = LH_T_VARCHAR},
                       {.id = LH_T_BIGINT},  {.id = LH_T_JSON}};
    table_out o;
    lh_rc rc = out_open(&o, format, f, names, types, LH_ARRAY_LEN(names), err);
    for (uint32_t i = 0; rc == LH_OK && i < m->nsnapshots; i++) {
        const lh_ice_snapshot *s = &m->snapshots[i];
        lh_buf sum = LH_BUF_INIT;
        lh_buf_putc(&sum, '{');
        for (uint32_t k = 0; k < s->nsummary; k++) {
            if (k > 0) {
                lh_buf_putc(&sum, ',');
            }
            lh_buf_json_string(&sum, s->summary[k].key,
                               strlen(s->summary[k].key));
            lh_buf_putc(&sum, ':');
            lh_buf_json_string(&sum, s->summary[k].value,
                               strlen(s->summary[k].value));
        }
        lh_buf_putc(&sum, '}');
        lh_value row[] = {v_int(s->snapshot_id),
                          s->has_parent ? v_int(s->parent_id) : v_null(),
                          v_int(s->sequence_number),
                          v_ts(s->timestamp_ms),
                          v_str(s->operation),
                          v_str(s->manifest_list),
                          s->has_schema_id ? v_int(s->schema_id) : v_null(),
                          v_json(sum.data)};
        rc = lh_output_row(o.o, row, err);
        lh_buf_release(&sum);
    }
    return o.o ? out_finish(&o, rc) : rc;
}

static lh_rc
inspect_history(const lh_ice_meta *m, const char *format, FILE *f, lh_err *err)
{
    const char *names[] = {"made_current_at", "snapshot_id", "parent_id",
                           "is_current_ancestor"};
    lh_type types[] = {{.id = LH_T_TIMESTAMPTZ},
                       {.id = LH_T_BIGINT},
                       {.id = LH_T_BIGINT},
                       {.id = LH_T_BOOLEAN}};
    table_out o;
    lh_rc rc = out_open(&o, format, f, names, types, 4, err);
    for (uint32_t i = 0; rc == LH_OK && i < m->nsnapshot_log; i++) {
        const lh_ice_log_entry *e = &m->snapshot_log[i];
        const lh_ice_snapshot *s = lh_ice_meta_snapshot(m, e->snapshot_id);
        bool anc = false;
        const lh_ice_snapshot *c = lh_ice_meta_current_snapshot(m);
        for (uint32_t hop = 0; c != NULL && hop <= m->nsnapshots; hop++) {
            if (c->snapshot_id == e->snapshot_id) {
                anc = true;
                break;
            }
            c = c->has_parent ? lh_ice_meta_snapshot(m, c->parent_id) : NULL;
        }
        lh_value row[] = {v_ts(e->timestamp_ms), v_int(e->snapshot_id),
                          s && s->has_parent ? v_int(s->parent_id) : v_null(),
                          v_bool(anc)};
        rc = lh_output_row(o.o, row, err);
    }
    return o.o ? out_finish(&o, rc) : rc;
}

/* The current snapshot's manifest list (ml empty for an empty table). */
static lh_rc
current_list(const lh_ice_table *t, lh_arena *a, lh_ice_manifest_list *ml,
             lh_err *err)
{
    memset(ml, 0, sizeof(*ml));
    const lh_ice_snapshot *s =
        lh_ice_meta_current_snapshot(lh_ice_table_meta(t));
    if (s == NULL || s->manifest_list == NULL) {
        return LH_OK;
    }
    lh_buf body = LH_BUF_INIT;
    lh_rc rc = lh_ice_table_get(t, s->manifest_list, &body, err);
    if (rc == LH_OK) {
        rc = lh_ice_manifest_list_read((const uint8_t *)body.data, body.len,
                                       s->manifest_list, a, ml, err);
    }
    lh_buf_release(&body);
    return rc;
}

static lh_rc
inspect_manifests(const lh_ice_table *t, const char *format, FILE *f,
                  lh_err *err)
{
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_manifest_list ml;
    lh_rc rc = current_list(t, &a, &ml, err);
    const char *names[] = {
        "path",        "length",          "partition_spec_id",
        "content",     "sequence_number", "added_snapshot_id",
        "added_files", "existing_files",  "deleted_files",
        "added_rows",  "existing_rows",   "deleted_rows"};
    lh_type types[12];
    for (size_t i = 0; i < 12; i++) {
        types[i].id = LH_T_BIGINT;
    }
    types[0].id = LH_T_VARCHAR;
    types[3].id = LH_T_VARCHAR;
    table_out o = {NULL, err};
    if (rc == LH_OK) {
        rc = out_open(&o, format, f, names, types, 12, err);
    }
    for (uint32_t i = 0; rc == LH_OK && i < ml.nfiles; i++) {
        const lh_ice_manifest_file *mf = &ml.files[i];
        int64_t c[] = {mf->added_files, mf->existing_files, mf->deleted_files,
                       mf->added_rows,  mf->existing_rows,  mf->deleted_rows};
        lh_value row[12] = {v_str(mf->path),
                            v_int(mf->length),
                            v_int(mf->spec_id),
                            v_str(mf->content ? "deletes" : "data"),
                            v_int(mf->sequence_number),
                            v_int(mf->added_snapshot_id)};
        for (int k = 0; k < 6; k++) {
            row[6 + k] = c[k] >= 0 ? v_int(c[k]) : v_null();
        }
        rc = lh_output_row(o.o, row, err);
    }
    rc = o.o ? out_finish(&o, rc) : rc;
    lh_arena_release(&a);
    return rc;
}

/* Every live entry of the current snapshot, manifest by manifest. */
typedef lh_rc (*entry_fn)(void *ctx, const lh_ice_partition_spec *spec,
                          const lh_ice_entry *e, lh_err *err);

static lh_rc
each_entry(const lh_ice_table *t, entry_fn fn, void *ctx, lh_err *err)
{
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_manifest_list ml;
    const lh_ice_meta *m = lh_ice_table_meta(t);
    lh_rc rc = current_list(t, &a, &ml, err);
    for (uint32_t i = 0; rc == LH_OK && i < ml.nfiles; i++) {
        lh_buf body = LH_BUF_INIT;
        lh_ice_manifest man;
        rc = lh_ice_table_get(t, ml.files[i].path, &body, err);
        if (rc == LH_OK) {
            rc = lh_ice_manifest_read((const uint8_t *)body.data, body.len,
                                      ml.files[i].path, &ml.files[i], m, &a,
                                      &man, err);
        }
        lh_buf_release(&body);
        const lh_ice_partition_spec *spec =
            lh_ice_meta_spec(m, ml.files[i].spec_id);
        for (uint32_t k = 0; rc == LH_OK && k < man.nentries; k++) {
            if (man.entries[k].status != LH_ICE_DELETED) {
                rc = fn(ctx, spec, &man.entries[k], err);
            }
        }
    }
    lh_arena_release(&a);
    return rc;
}

static lh_rc
file_row(void *ctx, const lh_ice_partition_spec *spec, const lh_ice_entry *e,
         lh_err *err)
{
    table_out *o = ctx;
    static const char *const contents[] = {"data", "position_deletes",
                                           "equality_deletes"};
    lh_buf part = LH_BUF_INIT;
    partition_json(spec, &e->file, &part);
    lh_value row[] = {v_str(contents[e->file.content % 3]),
                      v_str(e->file.path),
                      v_str(e->file.format),
                      v_int(e->file.spec_id),
                      v_json(part.data),
                      v_int(e->file.record_count),
                      v_int(e->file.file_size),
                      v_int(e->sequence_number),
                      v_str(e->file.referenced_data_file)};
    lh_rc rc = lh_output_row(o->o, row, err);
    lh_buf_release(&part);
    return rc;
}

static lh_rc
inspect_files(const lh_ice_table *t, const char *format, FILE *f, lh_err *err)
{
    const char *names[] = {"content",
                           "file_path",
                           "file_format",
                           "spec_id",
                           "partition",
                           "record_count",
                           "file_size_in_bytes",
                           "sequence_number",
                           "referenced_data_file"};
    lh_type types[] = {
        {.id = LH_T_VARCHAR}, {.id = LH_T_VARCHAR}, {.id = LH_T_VARCHAR},
        {.id = LH_T_BIGINT},  {.id = LH_T_JSON},    {.id = LH_T_BIGINT},
        {.id = LH_T_BIGINT},  {.id = LH_T_BIGINT},  {.id = LH_T_VARCHAR}};
    table_out o;
    lh_rc rc = out_open(&o, format, f, names, types, LH_ARRAY_LEN(names), err);
    if (rc == LH_OK) {
        rc = each_entry(t, file_row, &o, err);
    }
    return o.o ? out_finish(&o, rc) : rc;
}

typedef struct part_acc {
    lh_map parts; /* partition JSON -> index */
    char **keys;
    int64_t *rows, *files;
    int32_t *specs;
    size_t n, cap;
} part_acc;

static lh_rc
part_add(void *ctx, const lh_ice_partition_spec *spec, const lh_ice_entry *e,
         lh_err *err)
{
    part_acc *p = ctx;
    if (e->file.content != LH_ICE_CONTENT_DATA) {
        return LH_OK;
    }
    lh_buf key = LH_BUF_INIT;
    partition_json(spec, &e->file, &key);
    lh_buf_printf(&key, "\x01%d", e->file.spec_id);
    if (!lh_buf_ok(&key)) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    void *v = lh_map_get(&p->parts, key.data, key.len);
    size_t idx;
    if (v == NULL) {
        if (p->n == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 16;
            char **k = lh_realloc(p->keys, cap * sizeof(*k));
            int64_t *r = k ? lh_realloc(p->rows, cap * sizeof(*r)) : NULL;
            if (k) {
                p->keys = k;
            }
            if (r) {
                p->rows = r;
            }
            int64_t *fl = r ? lh_realloc(p->files, cap * sizeof(*fl)) : NULL;
            if (fl) {
                p->files = fl;
            }
            int32_t *sp = fl ? lh_realloc(p->specs, cap * sizeof(*sp)) : NULL;
            if (sp == NULL) {
                lh_buf_release(&key);
                return lh_err_set(err, LH_ENOMEM, "out of memory");
            }
            p->specs = sp;
            p->cap = cap;
        }
        idx = p->n++;
        p->keys[idx] = lh_strndup(key.data, strcspn(key.data, "\x01"));
        p->rows[idx] = p->files[idx] = 0;
        p->specs[idx] = e->file.spec_id;
        if (p->keys[idx] == NULL ||
            lh_map_put(&p->parts, key.data, key.len, (void *)(idx + 1), NULL) !=
                LH_OK) {
            lh_buf_release(&key);
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    } else {
        idx = (size_t)v - 1;
    }
    p->rows[idx] += e->file.record_count;
    p->files[idx]++;
    lh_buf_release(&key);
    return LH_OK;
}

static lh_rc
inspect_partitions(const lh_ice_table *t, const char *format, FILE *f,
                   lh_err *err)
{
    part_acc p;
    memset(&p, 0, sizeof(p));
    lh_map_init(&p.parts);
    lh_rc rc = each_entry(t, part_add, &p, err);
    const char *names[] = {"partition", "spec_id", "record_count",
                           "file_count"};
    lh_type types[] = {{.id = LH_T_JSON},
                       {.id = LH_T_BIGINT},
                       {.id = LH_T_BIGINT},
                       {.id = LH_T_BIGINT}};
    table_out o = {NULL, err};
    if (rc == LH_OK) {
        rc = out_open(&o, format, f, names, types, 4, err);
    }
    for (size_t i = 0; rc == LH_OK && i < p.n; i++) {
        lh_value row[] = {v_json(p.keys[i]), v_int(p.specs[i]),
                          v_int(p.rows[i]), v_int(p.files[i])};
        rc = lh_output_row(o.o, row, err);
    }
    rc = o.o ? out_finish(&o, rc) : rc;
    for (size_t i = 0; i < p.n; i++) {
        lh_free(p.keys[i]);
    }
    lh_free(p.keys);
    lh_free(p.rows);
    lh_free(p.files);
    lh_free(p.specs);
    lh_map_release(&p.parts);
    return rc;
}

lh_rc
lh_iceberg_inspect(const char *table, const lh_iceberg_opts *o,
                   const char *what, FILE *out, lh_err *err)
{
    const char *format = o ? o->format : NULL;
    if (format != NULL && strcmp(format, "json") != 0 &&
        strcmp(format, "table") != 0) {
        return lh_err_set(err, LH_EINVAL,
                          "inspect --format is json or table, found "
                          "\"%.40s\"",
                          format);
    }
    opened op;
    lh_rc rc = open_table(table, o, &op, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_ice_table *t = op.t;
    const lh_ice_meta *m = lh_ice_table_meta(t);
    if (what == NULL) {
        rc = inspect_summary(t, format, out, err);
    } else if (strcmp(what, "snapshots") == 0) {
        rc = inspect_snapshots(m, format, out, err);
    } else if (strcmp(what, "history") == 0) {
        rc = inspect_history(m, format, out, err);
    } else if (strcmp(what, "manifests") == 0) {
        rc = inspect_manifests(t, format, out, err);
    } else if (strcmp(what, "files") == 0) {
        rc = inspect_files(t, format, out, err);
    } else if (strcmp(what, "partitions") == 0) {
        rc = inspect_partitions(t, format, out, err);
    } else {
        rc = lh_err_set(err, LH_EINVAL, "unknown inspect view \"%.40s\"", what);
    }
    close_table(&op);
    return rc;
}

/* A timestamp option: ISO-8601 text or ms since the epoch. */
static lh_rc
parse_ts_ms(const char *opt, const char *text, int64_t *ms, lh_err *err)
{
    char *end;
    long long v = strtoll(text, &end, 10);
    lh_us us;
    if (*text && *end == 0) {
        *ms = v;
        return LH_OK;
    }
    if (lh_time_parse(text, strlen(text), &us, err) != LH_OK) {
        lh_err_prefix(err, "%s", opt);
        return LH_EINVAL;
    }
    *ms = us / 1000;
    return LH_OK;
}

/* ---- maintain ---------------------------------------------------------- */

lh_rc
lh_iceberg_maintain(const char *table, const lh_iceberg_maintain_opts *o,
                    FILE *out, lh_err *err)
{
    if (o == NULL || o->expire_older_than == NULL) {
        return lh_err_set(err, LH_EINVAL,
                          "maintain needs --expire-older-than TS");
    }
    int64_t expire_ms, orphan_ms;
    lh_rc rc = parse_ts_ms("--expire-older-than", o->expire_older_than,
                           &expire_ms, err);
    if (rc != LH_OK) {
        return rc;
    }
    orphan_ms = expire_ms;
    if (o->orphans_older_than != NULL) {
        rc =
            parse_ts_ms("--older-than", o->orphans_older_than, &orphan_ms, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    opened op;
    rc = open_table(table, &o->base, &op, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_ice_table *t = op.t;
    lh_ice_maintain_stats st = {0, 0, 0};
    rc = lh_ice_expire_snapshots(
        t, expire_ms, o->retain_last > 0 ? (int)o->retain_last : 1, &st, err);
    if (rc == LH_OK && o->remove_orphans) {
        rc = lh_ice_remove_orphans(t, orphan_ms, &st, err);
    }
    if (rc == LH_OK) {
        fprintf(out,
                "{\"expired_snapshots\":%llu,\"deleted_files\":%llu,"
                "\"orphans_removed\":%llu,\"snapshots\":%u}\n",
                (unsigned long long)st.expired_snapshots,
                (unsigned long long)st.deleted_files,
                (unsigned long long)st.orphans_removed,
                lh_ice_table_meta(t)->nsnapshots);
        fflush(out);
    }
    close_table(&op);
    return rc;
}

/* ---- scan
 * ------------------------------------------------------------------------------
 */

/* "col op literal" against the schema: one bound leaf in a. */
static lh_rc
parse_where(const char *w, const lh_ice_schema *s, lh_arena *a,
            lh_ice_expr **out, lh_err *err)
{
    const char *p = w;
    while (*p == ' ') {
        p++;
    }
    char col[256];
    size_t cn = 0;
    if (*p == '"') {
        p++;
        while (*p && *p != '"' && cn + 1 < sizeof(col)) {
            col[cn++] = *p++;
        }
        if (*p != '"') {
            return lh_err_set(err, LH_EINVAL,
                              "--where \"%.200s\": unterminated column name",
                              w);
        }
        p++;
    } else {
        while (*p && *p != ' ' && !strchr("=!<>", *p) && cn + 1 < sizeof(col)) {
            col[cn++] = *p++;
        }
    }
    col[cn] = 0;
    while (*p == ' ') {
        p++;
    }
    static const struct {
        const char *text;
        uint8_t op;
    } ops[] = {{"<=", LH_ICE_OP_LE}, {">=", LH_ICE_OP_GE}, {"!=", LH_ICE_OP_NE},
               {"<>", LH_ICE_OP_NE}, {"=", LH_ICE_OP_EQ},  {"<", LH_ICE_OP_LT},
               {">", LH_ICE_OP_GT}};
    int op = -1;
    for (size_t i = 0; i < LH_ARRAY_LEN(ops); i++) {
        size_t n = strlen(ops[i].text);
        if (strncmp(p, ops[i].text, n) == 0) {
            op = ops[i].op;
            p += n;
            break;
        }
    }
    if (cn == 0 || op < 0) {
        return lh_err_set(err, LH_EINVAL,
                          "--where \"%.200s\": expected \"column op "
                          "literal\" with op one of = != < <= > >=",
                          w);
    }
    while (*p == ' ') {
        p++;
    }
    const lh_ice_field *f = lh_ice_schema_find_name(s, col);
    if (f == NULL) {
        return lh_err_set(err, LH_EINVAL, "--where: no column \"%.100s\"", col);
    }
    if (!lh_ice_type_is_primitive(&f->type)) {
        return lh_err_set(err, LH_EINVAL,
                          "--where: column \"%.100s\" is not a primitive", col);
    }
    /* The literal: 'quoted' ('' inside), else the rest, trimmed. */
    char *lit = lh_arena_alloc(a, strlen(p) + 1);
    if (lit == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    size_t ln = 0;
    if (*p == '\'') {
        p++;
        for (;;) {
            if (*p == 0) {
                return lh_err_set(err, LH_EINVAL,
                                  "--where \"%.200s\": unterminated string", w);
            }
            if (*p == '\'' && p[1] == '\'') {
                lit[ln++] = '\'';
                p += 2;
            } else if (*p == '\'') {
                p++;
                break;
            } else {
                lit[ln++] = *p++;
            }
        }
        while (*p == ' ') {
            p++;
        }
        if (*p != 0) {
            return lh_err_set(err, LH_EINVAL,
                              "--where \"%.200s\": text after the literal", w);
        }
    } else {
        ln = strlen(p);
        memcpy(lit, p, ln);
        while (ln > 0 && lit[ln - 1] == ' ') {
            ln--;
        }
        if (ln == 0) {
            return lh_err_set(err, LH_EINVAL, "--where \"%.200s\": no literal",
                              w);
        }
    }
    lit[ln] = 0;
    lh_value *v = lh_arena_calloc(a, sizeof(*v));
    lh_ice_expr *e = lh_arena_calloc(a, sizeof(*e));
    if (v == NULL || e == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc =
        lh_value_from_text(lh_ice_type_to_lh(&f->type), lit, ln, a, v, err);
    if (rc != LH_OK) {
        lh_err_prefix(err, "--where: column \"%.100s\"", col);
        return LH_EINVAL;
    }
    e->op = (uint8_t)op;
    e->field_id = f->id;
    e->lits = v;
    e->nlits = 1;
    *out = e;
    return LH_OK;
}

typedef struct row_ctx {
    const int32_t *ids;
    const lh_value *vals;
    uint32_t n;
} row_ctx;

static bool
row_value(void *ctx, int32_t field_id, lh_value *out)
{
    const row_ctx *r = ctx;
    for (uint32_t i = 0; i < r->n; i++) {
        if (r->ids[i] == field_id) {
            *out = r->vals[i];
            return true;
        }
    }
    return false;
}

lh_rc
lh_iceberg_scan(const char *table, const lh_iceberg_scan_opts *o, FILE *out,
                lh_err *err)
{
    lh_format fmt = LH_FMT_CSV;
    if (o && o->base.format) {
        lh_rc frc = lh_format_parse(o->base.format, &fmt, err);
        if (frc != LH_OK) {
            return frc;
        }
    }
    opened op;
    lh_rc rc = open_table(table, o ? &o->base : NULL, &op, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_ice_table *t = op.t;
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_scan_opts so;
    memset(&so, 0, sizeof(so));
    if (o && o->has_snapshot_id) {
        so.has_snapshot_id = true;
        so.snapshot_id = o->snapshot_id;
    }
    if (o && o->as_of) {
        rc = parse_ts_ms("--as-of", o->as_of, &so.as_of_ms, err);
        if (rc != LH_OK) {
            goto done;
        }
        so.has_as_of = true;
    }
    /* The schema: the chosen snapshot's (plan with no filter first is
     * wasteful; the snapshot decides the schema, so find it alone). */
    lh_ice_plan probe;
    lh_ice_scan_opts po = so;
    const lh_ice_meta *m = lh_ice_table_meta(t);
    const lh_ice_snapshot *snap = NULL;
    if (po.has_snapshot_id) {
        snap = lh_ice_meta_snapshot(m, po.snapshot_id);
    } else if (po.has_as_of) {
        rc = lh_ice_meta_snapshot_at(m, po.as_of_ms, &snap, err);
        if (rc != LH_OK) {
            goto done;
        }
    } else {
        snap = lh_ice_meta_current_snapshot(m);
    }
    (void)probe;
    bool travel = po.has_snapshot_id || po.has_as_of;
    const lh_ice_schema *schema = travel && snap && snap->has_schema_id
                                      ? lh_ice_meta_schema(m, snap->schema_id)
                                      : NULL;
    if (schema == NULL) {
        schema = lh_ice_meta_current_schema(m);
    }
    lh_ice_expr *where = NULL;
    if (o && o->where) {
        rc = parse_where(o->where, schema, &a, &where, err);
        if (rc != LH_OK) {
            goto done;
        }
        so.filter = where;
    }
    /* The projected columns, then the predicate's if not among them. */
    int32_t ids[MAX_COLUMNS + 1];
    const char *names[MAX_COLUMNS];
    lh_type types[MAX_COLUMNS];
    uint32_t nout = 0;
    if (o && o->columns) {
        const char *p = o->columns;
        while (*p && rc == LH_OK) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            char name[256];
            snprintf(name, sizeof(name), "%.*s", (int)LH_MIN(n, 255), p);
            const lh_ice_field *f = lh_ice_schema_find_name(schema, name);
            if (f == NULL) {
                rc = lh_err_set(err, LH_EINVAL, "no column \"%.100s\"", name);
            } else if (nout >= MAX_COLUMNS) {
                rc = lh_err_set(err, LH_ELIMIT, "too many columns");
            } else {
                ids[nout] = f->id;
                names[nout] = f->name;
                types[nout] = lh_ice_type_to_lh(&f->type);
                nout++;
            }
            p = e ? e + 1 : p + n;
        }
        if (rc != LH_OK) {
            goto done;
        }
    } else {
        for (uint32_t i = 0; i < schema->type.nfields && i < MAX_COLUMNS; i++) {
            const lh_ice_field *f = &schema->type.fields[i];
            ids[nout] = f->id;
            names[nout] = f->name;
            types[nout] = lh_ice_type_to_lh(&f->type);
            nout++;
        }
    }
    uint32_t nread = nout;
    if (where != NULL) {
        bool have = false;
        for (uint32_t i = 0; i < nout; i++) {
            have = have || ids[i] == where->field_id;
        }
        if (!have) {
            ids[nread++] = where->field_id;
        }
    }
    lh_ice_plan plan;
    rc = lh_ice_plan_scan(t, &so, &a, &plan, err);
    lh_output *w = NULL;
    if (rc == LH_OK) {
        rc = lh_output_new(fmt, out, names, types, nout, &w, err);
    }
    lh_value *vals = lh_calloc(nread ? nread : 1, sizeof(lh_value));
    if (rc == LH_OK && vals == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_arena rowa;
    lh_arena_init(&rowa, 0);
    int64_t printed = 0;
    int64_t limit = o && o->limit > 0 ? o->limit : -1;
    for (uint32_t ti = 0; rc == LH_OK && ti < plan.ntasks; ti++) {
        if (limit >= 0 && printed >= limit) {
            break;
        }
        lh_ice_reader *r;
        rc = lh_ice_read_open(t, &plan, &plan.tasks[ti], ids, nread, &r, err);
        while (rc == LH_OK) {
            lh_batch b;
            rc = lh_ice_read_next(r, &b, err);
            if (rc != LH_OK || b.count == 0) {
                break;
            }
            uint32_t n = b.sel ? b.nsel : b.count;
            for (uint32_t k = 0; k < n && rc == LH_OK; k++) {
                uint32_t row = b.sel ? b.sel[k] : k;
                lh_arena_reset(&rowa);
                for (uint32_t c = 0; c < nread && rc == LH_OK; c++) {
                    rc = lh_vector_value(&b.cols[c], row, &rowa, &vals[c], err);
                }
                row_ctx rc_ctx = {ids, vals, nread};
                if (rc != LH_OK ||
                    !lh_ice_expr_eval(where, row_value, &rc_ctx)) {
                    continue;
                }
                if (limit >= 0 && printed >= limit) {
                    break;
                }
                rc = lh_output_row(w, vals, err);
                printed++;
            }
        }
        lh_ice_read_close(r);
    }
    if (w != NULL) {
        lh_rc frc = lh_output_finish(w, err);
        if (rc == LH_OK) {
            rc = frc;
        }
        lh_output_free(w);
    }
    lh_arena_release(&rowa);
    lh_free(vals);
done:
    lh_arena_release(&a);
    close_table(&op);
    return rc;
}
