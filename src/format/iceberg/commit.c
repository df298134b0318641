/*
 * Creating tables and committing snapshots with optimistic concurrency.
 *
 * A table's versions are metadata/v<N>.metadata.json, as Hadoop tables
 * keep them (spec "File System Tables"), with metadata/version-hint.text
 * naming the latest. A commit writes its new files (data files, the new
 * manifest, the manifest list) under fresh names, then publishes
 * v<N+1>.metadata.json with put-if-absent: of racing writers exactly one
 * wins, atomically on every store that has conditional writes. The loser
 * re-reads the new base, re-validates (an append always applies; files it
 * removes must still be live) and tries again, or fails with LH_ECONFLICT.
 * version-hint.text is written after the publish and may lag behind:
 * readers start from it and step forward while v<N+1> exists, so a writer
 * killed between the two steps leaves the new version committed and
 * visible. Nothing a reader can see is ever half written.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/iceberg/iceberg_int.h"

#define RETRIES_DEFAULT 100

static int64_t
new_snapshot_id(void)
{
    /* Java's way: a v4 UUID's halves XORed, made positive. */
    lh_uuid u;
    if (lh_uuid_v4(&u, NULL) != LH_OK) {
        return (int64_t)(lh_mono_now() & INT64_MAX);
    }
    uint64_t a = 0, b = 0;
    memcpy(&a, u.b, 8);
    memcpy(&b, u.b + 8, 8);
    int64_t id = (int64_t)((a ^ b) & (uint64_t)INT64_MAX);
    return id == 0 ? 1 : id;
}

static lh_rc
uuid_text(char buf[LH_UUID_STRLEN + 1], lh_err *err)
{
    lh_uuid u;
    lh_rc rc = lh_uuid_v4(&u, err);
    if (rc == LH_OK) {
        lh_uuid_format(&u, buf);
    }
    return rc;
}

/* ---- table creation
 * ------------------------------------------------------------------ */

static lh_rc
create_impl(const char *table, const lh_ice_schema *schema,
            const lh_ice_partition_spec *spec, const lh_ice_create_opts *o,
            lh_ice_catalog *cat, const char *ns, const char *name,
            lh_ice_table **out, lh_err *err)
{
    *out = NULL;
    int fv = o && o->format_version ? o->format_version : 2;
    if (fv < 2 || fv > 3) {
        return lh_err_set(err, LH_EUNSUPPORTED,
                          "unsupported: creating format-version %d tables", fv);
    }
    if (o == NULL || o->location == NULL) {
        return lh_err_set(err, LH_EINVAL,
                          "creating a table needs its location (a URI)");
    }
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_meta m;
    memset(&m, 0, sizeof(m));
    char uuid[LH_UUID_STRLEN + 1];
    lh_rc rc = uuid_text(uuid, err);
    m.format_version = fv;
    m.table_uuid = uuid;
    m.location = o->location;
    m.last_updated_ms = lh_real_now() / 1000;
    m.last_column_id = schema->highest_id;
    m.schemas = (lh_ice_schema *)schema;
    m.nschemas = 1;
    m.current_schema_id = schema->schema_id;
    lh_ice_partition_spec unpart = {0, NULL, 0};
    m.specs = (lh_ice_partition_spec *)(spec ? spec : &unpart);
    m.nspecs = 1;
    m.default_spec_id = m.specs[0].spec_id;
    m.last_partition_id = 999;
    for (uint32_t i = 0; i < m.specs[0].nfields; i++) {
        m.last_partition_id =
            LH_MAX(m.last_partition_id, m.specs[0].fields[i].field_id);
    }
    lh_ice_sort_order unsorted = {0, NULL, 0};
    m.sort_orders = &unsorted;
    m.nsort_orders = 1;
    m.properties = (lh_ice_kv *)(o ? o->properties : NULL);
    m.nproperties = o ? o->nproperties : 0;
    m.has_next_row_id = fv >= 3;
    lh_buf json = LH_BUF_INIT;
    if (rc == LH_OK) {
        rc = lh_ice_meta_to_json(&m, &json, err);
    }
    /* Open a handle on the store to place the file. */
    lh_ice_table *t = NULL;
    if (rc == LH_OK) {
        rc = lh__ice_table_open_empty(table, o ? o->store : NULL, o->maps,
                                      o->nmaps, &t, err);
    }
    if (rc == LH_OK && cat != NULL) {
        /* The first version under a fresh name, then the catalog row. */
        char key[LH_IO_KEY_MAX + 1], loc[LH_IO_KEY_MAX * 2];
        char fresh[LH_UUID_STRLEN + 1];
        rc = lh__ice_table_set_catalog(t, cat, ns, name, err);
        if (rc == LH_OK) {
            rc = uuid_text(fresh, err);
        }
        snprintf(loc, sizeof(loc), "%s/metadata/00000-%s.metadata.json",
                 o->location, fresh);
        if (rc == LH_OK) {
            rc = lh_ice_table_key(t, loc, key, sizeof(key), err);
        }
        if (rc == LH_OK) {
            rc = lh_io_put(lh_ice_table_store(t), key, json.data, json.len,
                           NULL, err);
        }
        if (rc == LH_OK) {
            rc = lh__ice_catalog_swap(cat, ns, name, NULL, loc, err);
            if (rc == LH_EEXIST) {
                (void)lh_io_delete(lh_ice_table_store(t), key, NULL);
                rc = lh_err_set(err, LH_EEXIST,
                                "catalog \"%s\" already has a table "
                                "\"%.100s.%.100s\"",
                                lh__ice_catalog_name(cat), ns, name);
            }
        }
    } else if (rc == LH_OK) {
        char key[LH_IO_KEY_MAX + 1];
        snprintf(key, sizeof(key), "%s/metadata/v1.metadata.json",
                 lh__ice_table_folder(t));
        rc = lh_io_put_if_absent(lh_ice_table_store(t), key, json.data,
                                 json.len, NULL, err);
        if (rc == LH_EEXIST) {
            rc = lh_err_set(err, LH_EEXIST, "a table exists at \"%.300s\"",
                            table);
        }
        if (rc == LH_OK) {
            snprintf(key, sizeof(key), "%s/metadata/version-hint.text",
                     lh__ice_table_folder(t));
            rc = lh_io_put(lh_ice_table_store(t), key, "1", 1, NULL, err);
        }
    }
    if (rc == LH_OK) {
        rc = lh__ice_table_refresh(t, err);
    }
    lh_buf_release(&json);
    lh_arena_release(&a);
    if (rc != LH_OK) {
        lh_ice_table_close(t);
        return rc;
    }
    *out = t;
    return LH_OK;
}

lh_rc
lh__ice_publish(const lh_ice_table *t, const void *json, size_t len,
                lh_err *err)
{
    int64_t version = lh__ice_table_version(t) + 1;
    char key[LH_IO_KEY_MAX + 1];
    lh_err e2;
    const char *ns, *name;
    lh_ice_catalog *cat = lh__ice_table_catalog(t, &ns, &name);
    if (cat != NULL) {
        /* A fresh file, then the catalog's conditional pointer swap. */
        char uuid[LH_UUID_STRLEN + 1], loc[LH_IO_KEY_MAX * 2],
            old[LH_IO_KEY_MAX * 2];
        lh_rc rc = uuid_text(uuid, err);
        snprintf(loc, sizeof(loc), "%s/metadata/%05lld-%s.metadata.json",
                 lh_ice_table_meta(t)->location, (long long)version, uuid);
        if (rc == LH_OK) {
            rc = lh_ice_table_key(t, loc, key, sizeof(key), err);
        }
        if (rc == LH_OK) {
            rc = lh_io_put(lh_ice_table_store(t), key, json, len, NULL, err);
        }
        if (rc == LH_OK) {
            lh__ice_table_metadata_location(t, old, sizeof(old));
            rc = lh__ice_catalog_swap(cat, ns, name, old, loc, err);
            if (rc == LH_ECONFLICT) {
                (void)lh_io_delete(lh_ice_table_store(t), key, &e2);
                return LH_EEXIST; /* lost the race */
            }
        }
        return rc;
    }
    snprintf(key, sizeof(key), "%s/metadata/v%lld.metadata.json",
             lh__ice_table_folder(t), (long long)version);
    lh_rc rc =
        lh_io_put_if_absent(lh_ice_table_store(t), key, json, len, NULL, &e2);
    if (rc == LH_EEXIST) {
        return rc; /* lost the race; err untouched */
    }
    if (rc != LH_OK) {
        if (err != NULL) {
            *err = e2;
        }
        return rc;
    }
    char hint[32];
    int n = snprintf(hint, sizeof(hint), "%lld", (long long)version);
    snprintf(key, sizeof(key), "%s/metadata/version-hint.text",
             lh__ice_table_folder(t));
    /* A hint that fails to update only lags: readers step over it. */
    (void)lh_io_put(lh_ice_table_store(t), key, hint, (size_t)n, NULL, &e2);
    return LH_OK;
}

lh_rc
lh_ice_table_create(const char *table, const lh_ice_schema *schema,
                    const lh_ice_partition_spec *spec,
                    const lh_ice_create_opts *o, lh_ice_table **out,
                    lh_err *err)
{
    return create_impl(table, schema, spec, o, NULL, NULL, NULL, out, err);
}

lh_rc
lh_ice_catalog_create_table(lh_ice_catalog *c, const char *ns, const char *name,
                            const char *table, const lh_ice_schema *schema,
                            const lh_ice_partition_spec *spec,
                            const lh_ice_create_opts *o, lh_ice_table **out,
                            lh_err *err)
{
    return create_impl(table, schema, spec, o, c, ns, name, out, err);
}

lh_rc
lh_ice_catalog_load_table(lh_ice_catalog *c, const char *ns, const char *name,
                          const lh_ice_open_opts *o, lh_ice_table **out,
                          lh_err *err)
{
    *out = NULL;
    char loc[LH_IO_KEY_MAX * 2];
    lh_rc rc = lh__ice_catalog_location(c, ns, name, loc, sizeof(loc), err);
    if (rc != LH_OK) {
        return rc;
    }
    /* The table folder: the location without /metadata/<file>. */
    char *slash = strrchr(loc, '/');
    if (slash != NULL) {
        *slash = 0;
        char *up = strrchr(loc, '/');
        if (up != NULL && strcmp(up + 1, "metadata") == 0) {
            *up = 0;
        }
    }
    lh_ice_table *t;
    rc = lh__ice_table_open_empty(loc, o ? o->store : NULL, o ? o->maps : NULL,
                                  o ? o->nmaps : 0, &t, err);
    if (rc == LH_OK) {
        rc = lh__ice_table_set_catalog(t, c, ns, name, err);
    }
    if (rc == LH_OK) {
        rc = lh__ice_table_refresh(t, err);
    }
    if (rc != LH_OK) {
        lh_ice_table_close(t);
        return rc;
    }
    *out = t;
    return LH_OK;
}

/* ---- commits
 * -------------------------------------------------------------------------- */

typedef struct attempt {
    lh_arena a;
    const lh_ice_meta *base;
    int64_t snapshot_id, seq;
    lh_ice_manifest_file *files; /* the new manifest list */
    uint32_t nfiles, cap;
    int64_t added_files, added_rows, deleted_files, deleted_rows;
    int64_t total_files, total_rows;
} attempt;

static lh_rc
push_file(attempt *at, const lh_ice_manifest_file *mf, lh_err *err)
{
    if (at->nfiles == at->cap) {
        uint32_t cap = at->cap ? at->cap * 2 : 16;
        lh_ice_manifest_file *n = lh__ice_alloc_array(&at->a, cap, sizeof(*n));
        if (n == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        if (at->nfiles) {
            memcpy(n, at->files, at->nfiles * sizeof(*n));
        }
        at->files = n;
        at->cap = cap;
    }
    at->files[at->nfiles++] = *mf;
    return LH_OK;
}

static bool
removed(const lh_ice_change *c, const char *path)
{
    for (uint32_t i = 0; i < c->nremove; i++) {
        if (strcmp(c->remove[i], path) == 0) {
            return true;
        }
    }
    return false;
}

/* Writes a manifest of entries; fills mf. */
static lh_rc
put_manifest(const lh_ice_table *t, attempt *at,
             const lh_ice_partition_spec *spec, uint8_t content,
             const lh_ice_entry *entries, uint32_t n, bool inherit,
             lh_ice_manifest_file *mf, lh_err *err)
{
    const lh_ice_meta *m = at->base;
    const lh_ice_schema *schema = lh_ice_meta_current_schema(m);
    lh_ice_type ptype;
    lh_rc rc = lh_ice_spec_partition_type(spec, schema, &at->a, &ptype, err);
    lh_ice_manifest_write_opts wo = {
        m->format_version, content, schema, spec, &ptype, inherit};
    lh_buf body = LH_BUF_INIT;
    if (rc == LH_OK) {
        rc = lh_ice_manifest_write(&wo, entries, n, &body, err);
    }
    char uuid[LH_UUID_STRLEN + 1], loc[LH_IO_KEY_MAX * 2];
    if (rc == LH_OK) {
        rc = uuid_text(uuid, err);
    }
    snprintf(loc, sizeof(loc), "%s/metadata/%s-m%u.avro", m->location, uuid,
             at->nfiles);
    if (rc == LH_OK) {
        char key[LH_IO_KEY_MAX + 1];
        rc = lh_ice_table_key(t, loc, key, sizeof(key), err);
        if (rc == LH_OK) {
            rc = lh_io_put(lh_ice_table_store(t), key, body.data, body.len,
                           NULL, err);
        }
    }
    memset(mf, 0, sizeof(*mf));
    if (rc == LH_OK) {
        mf->path = lh_arena_strdup(&at->a, loc);
        mf->length = (int64_t)body.len;
        mf->spec_id = spec->spec_id;
        mf->content = content;
        mf->sequence_number = at->seq;
        mf->added_snapshot_id = at->snapshot_id;
        int64_t minseq = at->seq;
        for (uint32_t i = 0; i < n; i++) {
            const lh_ice_entry *e = &entries[i];
            int64_t rows = e->file.record_count;
            if (e->status == LH_ICE_ADDED) {
                mf->added_files++;
                mf->added_rows += rows;
            } else if (e->status == LH_ICE_EXISTING) {
                mf->existing_files++;
                mf->existing_rows += rows;
                minseq = LH_MIN(minseq, e->sequence_number);
            } else {
                mf->deleted_files++;
                mf->deleted_rows += rows;
            }
        }
        mf->min_sequence_number = minseq;
        rc = lh_ice_summarize(&ptype, entries, n, &at->a, &mf->partitions, err);
        mf->npartitions = ptype.nfields;
        if (mf->path == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    lh_buf_release(&body);
    return rc;
}

/* The base's current manifests, carried over or rewritten without the
 * removed files; *found counts the removed files seen live. */
static lh_rc
carry_over(const lh_ice_table *t, attempt *at, const lh_ice_change *c,
           uint32_t *found, lh_err *err)
{
    const lh_ice_meta *m = at->base;
    const lh_ice_snapshot *cur = lh_ice_meta_current_snapshot(m);
    *found = 0;
    if (cur == NULL || cur->manifest_list == NULL) {
        return LH_OK;
    }
    lh_buf body = LH_BUF_INIT;
    lh_ice_manifest_list ml;
    lh_rc rc = lh_ice_table_get(t, cur->manifest_list, &body, err);
    if (rc == LH_OK) {
        rc = lh_ice_manifest_list_read((const uint8_t *)body.data, body.len,
                                       cur->manifest_list, &at->a, &ml, err);
    }
    for (uint32_t i = 0; rc == LH_OK && i < ml.nfiles; i++) {
        const lh_ice_manifest_file *mf = &ml.files[i];
        if (c->nremove == 0) {
            if (mf->content == 0) {
                at->total_files += mf->added_files + mf->existing_files;
                at->total_rows += mf->added_rows + mf->existing_rows;
            }
            rc = push_file(at, mf, err);
            continue;
        }
        lh_ice_manifest man;
        rc = lh_ice_table_get(t, mf->path, &body, err);
        if (rc == LH_OK) {
            rc = lh_ice_manifest_read((const uint8_t *)body.data, body.len,
                                      mf->path, mf, m, &at->a, &man, err);
        }
        uint32_t hits = 0;
        for (uint32_t k = 0; rc == LH_OK && k < man.nentries; k++) {
            if (man.entries[k].status != LH_ICE_DELETED &&
                removed(c, man.entries[k].file.path)) {
                hits++;
            }
        }
        if (rc != LH_OK) {
            break;
        }
        if (hits == 0) {
            for (uint32_t k = 0; k < man.nentries; k++) {
                if (man.entries[k].status != LH_ICE_DELETED &&
                    man.content == 0) {
                    at->total_files++;
                    at->total_rows += man.entries[k].file.record_count;
                }
            }
            rc = push_file(at, mf, err);
            continue;
        }
        /* Rewrite: removed files DELETED by this snapshot, the others
         * EXISTING with their sequence numbers written out. */
        lh_ice_entry *es =
            lh__ice_alloc_array(&at->a, man.nentries, sizeof(lh_ice_entry));
        uint32_t ne = 0;
        if (es == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
            break;
        }
        for (uint32_t k = 0; k < man.nentries; k++) {
            lh_ice_entry e = man.entries[k];
            if (e.status == LH_ICE_DELETED) {
                continue;
            }
            if (removed(c, e.file.path)) {
                e.status = LH_ICE_DELETED;
                e.snapshot_id = at->snapshot_id;
                /* A removed file's bounds may be the very values a delete
                 * or an erasure removes: they would outlive the file in
                 * this manifest (the spec makes metrics optional). */
                e.file.lower = e.file.upper = NULL;
                e.file.nlower = e.file.nupper = 0;
                (*found)++;
                if (man.content == 0) {
                    at->deleted_files++;
                    at->deleted_rows += e.file.record_count;
                }
            } else {
                e.status = LH_ICE_EXISTING;
                if (man.content == 0) {
                    at->total_files++;
                    at->total_rows += e.file.record_count;
                }
            }
            es[ne++] = e;
        }
        const lh_ice_partition_spec *spec = lh_ice_meta_spec(m, mf->spec_id);
        lh_ice_manifest_file nmf;
        rc = put_manifest(t, at, spec, mf->content, es, ne, false, &nmf, err);
        if (rc == LH_OK) {
            nmf.sequence_number = at->seq;
            rc = push_file(at, &nmf, err);
        }
    }
    lh_buf_release(&body);
    return rc;
}

static lh_rc
add_entries(const lh_ice_table *t, attempt *at, const lh_ice_data_file *files,
            uint32_t n, uint8_t content, lh_err *err)
{
    if (n == 0) {
        return LH_OK;
    }
    const lh_ice_meta *m = at->base;
    const lh_ice_partition_spec *spec = lh_ice_meta_spec(m, m->default_spec_id);
    lh_ice_entry *es = lh__ice_alloc_array(&at->a, n, sizeof(lh_ice_entry));
    if (es == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < n; i++) {
        es[i].status = LH_ICE_ADDED;
        es[i].snapshot_id = at->snapshot_id;
        es[i].sequence_number = at->seq;
        es[i].file_sequence_number = at->seq;
        es[i].file = files[i];
        if (files[i].spec_id != spec->spec_id) {
            return lh_err_set(err, LH_EINVAL,
                              "file \"%.300s\" was written for partition spec "
                              "%d, the table's is %d",
                              files[i].path, files[i].spec_id, spec->spec_id);
        }
        if (content == 0) {
            at->added_files++;
            at->added_rows += files[i].record_count;
            at->total_files++;
            at->total_rows += files[i].record_count;
        }
    }
    lh_ice_manifest_file mf;
    lh_rc rc = put_manifest(t, at, spec, content, es, n, true, &mf, err);
    if (rc == LH_OK) {
        rc = push_file(at, &mf, err);
    }
    return rc;
}

static void
summary_add(lh_ice_kv *kv, uint32_t *n, lh_arena *a, const char *key, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", (long long)v);
    kv[*n].key = key;
    kv[*n].value = lh_arena_strdup(a, buf);
    (*n)++;
}

/* The new metadata: base plus the snapshot, logs and refs. */
static lh_rc
new_metadata(const lh_ice_table *t, attempt *at, const lh_ice_change *c,
             const char *list_loc, lh_buf *json, lh_err *err)
{
    const lh_ice_meta *b = at->base;
    lh_ice_meta m = *b;
    int64_t now = lh_real_now() / 1000;
    if (now <= b->last_updated_ms) {
        now = b->last_updated_ms + 1;
    }
    m.last_updated_ms = now;
    if (c->timestamp_ms > 0) {
        /* The caller's clock, after every earlier snapshot (the log stays
         * ordered), never after last-updated-ms. */
        now = c->timestamp_ms;
        for (uint32_t i = 0; i < b->nsnapshots; i++) {
            now = LH_MAX(now, b->snapshots[i].timestamp_ms + 1);
        }
        for (uint32_t i = 0; i < b->nsnapshot_log; i++) {
            now = LH_MAX(now, b->snapshot_log[i].timestamp_ms + 1);
        }
        m.last_updated_ms = LH_MAX(m.last_updated_ms, now);
    }
    m.last_sequence_number = at->seq;
    lh_ice_snapshot *snaps =
        lh__ice_alloc_array(&at->a, b->nsnapshots + 1, sizeof(*snaps));
    lh_ice_log_entry *slog =
        lh__ice_alloc_array(&at->a, b->nsnapshot_log + 1, sizeof(*slog));
    lh_ice_log_entry *mlog =
        lh__ice_alloc_array(&at->a, b->nmetadata_log + 1, sizeof(*mlog));
    lh_ice_ref *refs = lh__ice_alloc_array(&at->a, b->nrefs + 1, sizeof(*refs));
    lh_ice_kv *sum =
        lh__ice_alloc_array(&at->a, 16 + c->nsummary, sizeof(*sum));
    if (snaps == NULL || slog == NULL || mlog == NULL || refs == NULL ||
        sum == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    memcpy(snaps, b->snapshots, b->nsnapshots * sizeof(*snaps));
    lh_ice_snapshot *s = &snaps[b->nsnapshots];
    memset(s, 0, sizeof(*s));
    const lh_ice_snapshot *cur = lh_ice_meta_current_snapshot(b);
    s->snapshot_id = at->snapshot_id;
    s->has_parent = cur != NULL;
    s->parent_id = cur ? cur->snapshot_id : 0;
    s->sequence_number = at->seq;
    s->timestamp_ms = now;
    s->manifest_list = list_loc;
    s->has_schema_id = true;
    s->schema_id = b->current_schema_id;
    const char *op = c->operation;
    if (op == NULL) {
        op = c->nremove == 0 && c->ndeletes == 0 ? "append"
             : c->nadd == 0 && c->ndeletes == 0  ? "delete"
             : c->nadd == 0                      ? "delete"
                                                 : "overwrite";
    }
    uint32_t ns = 0;
    sum[ns].key = "operation";
    sum[ns++].value = op;
    summary_add(sum, &ns, &at->a, "added-data-files", at->added_files);
    summary_add(sum, &ns, &at->a, "added-records", at->added_rows);
    summary_add(sum, &ns, &at->a, "deleted-data-files", at->deleted_files);
    summary_add(sum, &ns, &at->a, "deleted-records", at->deleted_rows);
    summary_add(sum, &ns, &at->a, "added-delete-files", c->ndeletes);
    summary_add(sum, &ns, &at->a, "total-data-files", at->total_files);
    summary_add(sum, &ns, &at->a, "total-records", at->total_rows);
    for (uint32_t i = 0; i < c->nsummary; i++) {
        sum[ns++] = c->summary[i];
    }
    sum[ns].key = "engine-name";
    sum[ns++].value = "lakehouse";
    s->operation = op;
    s->summary = sum;
    s->nsummary = ns;
    if (b->format_version >= 3) {
        s->has_first_row_id = true;
        s->first_row_id = b->next_row_id;
        s->has_added_rows = true;
        s->added_rows = at->added_rows;
        m.next_row_id = b->next_row_id + at->added_rows;
    }
    m.snapshots = snaps;
    m.nsnapshots = b->nsnapshots + 1;
    m.has_current_snapshot = true;
    m.current_snapshot_id = at->snapshot_id;
    memcpy(slog, b->snapshot_log, b->nsnapshot_log * sizeof(*slog));
    slog[b->nsnapshot_log].timestamp_ms = now;
    slog[b->nsnapshot_log].snapshot_id = at->snapshot_id;
    m.snapshot_log = slog;
    m.nsnapshot_log = b->nsnapshot_log + 1;
    memcpy(mlog, b->metadata_log, b->nmetadata_log * sizeof(*mlog));
    mlog[b->nmetadata_log].timestamp_ms = b->last_updated_ms;
    char loc[LH_IO_KEY_MAX * 2];
    lh__ice_table_metadata_location(t, loc, sizeof(loc));
    mlog[b->nmetadata_log].metadata_file = lh_arena_strdup(&at->a, loc);
    m.metadata_log = mlog;
    m.nmetadata_log = b->nmetadata_log + 1;
    uint32_t nr = 0;
    for (uint32_t i = 0; i < b->nrefs; i++) {
        if (strcmp(b->refs[i].name, "main") != 0) {
            refs[nr++] = b->refs[i];
        }
    }
    memset(&refs[nr], 0, sizeof(refs[nr]));
    refs[nr].name = "main";
    refs[nr].snapshot_id = at->snapshot_id;
    nr++;
    m.refs = refs;
    m.nrefs = nr;
    return lh_ice_meta_to_json(&m, json, err);
}

lh_rc
lh_ice_commit(lh_ice_table *t, const lh_ice_change *c, int64_t *snapshot_id,
              lh_err *err)
{
    int retries = c->max_retries > 0 ? c->max_retries : RETRIES_DEFAULT;
    lh_rc rc = lh__ice_table_refresh(t, err);
    for (int attempt_no = 0; rc == LH_OK; attempt_no++) {
        attempt at;
        memset(&at, 0, sizeof(at));
        lh_arena_init(&at.a, 0);
        at.base = lh_ice_table_meta(t);
        at.snapshot_id = new_snapshot_id();
        at.seq = at.base->last_sequence_number + 1;
        uint32_t found = 0;
        rc = carry_over(t, &at, c, &found, err);
        if (rc == LH_OK && found < c->nremove) {
            rc = lh_err_set(err, LH_ECONFLICT,
                            "commit conflict: %u of the %u files to remove "
                            "are no longer in the table (removed by a "
                            "concurrent commit)",
                            c->nremove - found, c->nremove);
        }
        if (rc == LH_OK) {
            rc = add_entries(t, &at, c->add, c->nadd, 0, err);
        }
        if (rc == LH_OK) {
            rc = add_entries(t, &at, c->deletes, c->ndeletes, 1, err);
        }
        /* The manifest list, then the metadata. */
        lh_buf body = LH_BUF_INIT;
        char uuid[LH_UUID_STRLEN + 1], loc[LH_IO_KEY_MAX * 2];
        if (rc == LH_OK) {
            rc = uuid_text(uuid, err);
        }
        snprintf(loc, sizeof(loc), "%s/metadata/snap-%lld-%d-%s.avro",
                 at.base->location, (long long)at.snapshot_id, attempt_no + 1,
                 uuid);
        if (rc == LH_OK) {
            lh_ice_manifest_list ml = {at.base->format_version,
                                       true,
                                       true,
                                       at.snapshot_id,
                                       at.seq,
                                       at.files,
                                       at.nfiles};
            const lh_ice_snapshot *cur = lh_ice_meta_current_snapshot(at.base);
            if (at.base->format_version >= 3) {
                int64_t next = at.base->next_row_id;
                for (uint32_t i = 0; i < at.nfiles; i++) {
                    if (at.files[i].content == 0 &&
                        !at.files[i].has_first_row_id) {
                        at.files[i].has_first_row_id = true;
                        at.files[i].first_row_id = next;
                        next +=
                            at.files[i].added_rows + at.files[i].existing_rows;
                    }
                }
            }
            rc = lh_ice_manifest_list_write(
                &ml, at.base->format_version, cur != NULL,
                cur ? cur->snapshot_id : 0, &body, err);
        }
        char key[LH_IO_KEY_MAX + 1];
        if (rc == LH_OK) {
            rc = lh_ice_table_key(t, loc, key, sizeof(key), err);
        }
        if (rc == LH_OK) {
            rc = lh_io_put(lh_ice_table_store(t), key, body.data, body.len,
                           NULL, err);
        }
        const char *list_loc = lh_arena_strdup(&at.a, loc);
        if (rc == LH_OK) {
            lh_buf_reset(&body);
            rc = new_metadata(t, &at, c, list_loc, &body, err);
        }
        int64_t version = lh__ice_table_version(t) + 1;
        if (rc == LH_OK) {
            rc = lh__ice_publish(t, body.data, body.len, err);
        }
        lh_buf_release(&body);
        int64_t won = at.snapshot_id;
        lh_arena_release(&at.a);
        if (rc == LH_OK) {
            if (snapshot_id != NULL) {
                *snapshot_id = won;
            }
            return lh__ice_table_refresh(t, err);
        }
        if (rc != LH_EEXIST) {
            return rc;
        }
        /* Lost the race: the new base, re-validated above next round. */
        if (attempt_no + 1 >= retries) {
            return lh_err_set(err, LH_ECONFLICT,
                              "commit conflict: version %lld was taken by "
                              "another writer %d times in a row",
                              (long long)version, retries);
        }
        rc = lh__ice_table_refresh(t, err);
    }
    return rc;
}

/* ---- schema and partition spec updates
 * ------------------------------------------ */

/* Whether a field of type `from` may become `to` (spec "Schema
 * Evolution": int to long, float to double, decimal precision widening,
 * date to timestamp in v3; nested types keep their kind). */
static bool
promotable(const lh_ice_type *from, const lh_ice_type *to, int version)
{
    if (from->id == to->id) {
        if (from->id == LH_ICE_DECIMAL) {
            return from->scale == to->scale && to->precision >= from->precision;
        }
        if (from->id == LH_ICE_FIXED) {
            return from->length == to->length;
        }
        return true;
    }
    switch (from->id) {
    case LH_ICE_INT:
        return to->id == LH_ICE_LONG;
    case LH_ICE_FLOAT:
        return to->id == LH_ICE_DOUBLE;
    case LH_ICE_DATE:
        return version >= 3 &&
               (to->id == LH_ICE_TIMESTAMP || to->id == LH_ICE_TIMESTAMP_NS);
    case LH_ICE_UNKNOWN:
        return version >= 3;
    default:
        return false;
    }
}

static lh_rc
check_fields(const lh_ice_type *nt, const lh_ice_schema *old, int version,
             int32_t last_column_id, int depth, lh_err *err)
{
    if (depth > 64) {
        return lh_err_set(err, LH_ELIMIT, "schema nested too deep");
    }
    for (uint32_t i = 0; i < nt->nfields; i++) {
        const lh_ice_field *f = &nt->fields[i];
        const lh_ice_field *was = lh_ice_schema_find(old, f->id);
        if (was != NULL) {
            if (!promotable(&was->type, &f->type, version)) {
                char a[64], b[64];
                return lh_err_set(
                    err, LH_EINVAL,
                    "schema update: field %d \"%.60s\" cannot change from %s "
                    "to %s",
                    f->id, f->name, lh_ice_type_name(&was->type, a, sizeof(a)),
                    lh_ice_type_name(&f->type, b, sizeof(b)));
            }
            if (f->required && !was->required) {
                return lh_err_set(err, LH_EINVAL,
                                  "schema update: optional field \"%.60s\" "
                                  "cannot become required",
                                  f->name);
            }
        } else {
            if (f->id <= last_column_id) {
                return lh_err_set(err, LH_EINVAL,
                                  "schema update: new field \"%.60s\" needs "
                                  "an id above last-column-id %d, not %d",
                                  f->name, last_column_id, f->id);
            }
            if (f->required &&
                (!f->initial_default.set || f->initial_default.v.is_null)) {
                return lh_err_set(err, LH_EINVAL,
                                  "schema update: new required field "
                                  "\"%.60s\" needs an initial-default",
                                  f->name);
            }
        }
        lh_rc rc = check_fields(&f->type, old, version, last_column_id,
                                depth + 1, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

lh_rc
lh_ice_update_schema(lh_ice_table *t, const lh_ice_schema *schema, lh_err *err)
{
    lh_rc rc = lh__ice_table_refresh(t, err);
    int32_t base_schema = -1;
    for (int tries = 0; rc == LH_OK && tries < RETRIES_DEFAULT; tries++) {
        const lh_ice_meta *b = lh_ice_table_meta(t);
        if (base_schema >= 0 && b->current_schema_id != base_schema) {
            return lh_err_set(err, LH_ECONFLICT,
                              "commit conflict: the schema changed (to %d) "
                              "while updating it",
                              b->current_schema_id);
        }
        base_schema = b->current_schema_id;
        const lh_ice_schema *cur = lh_ice_meta_current_schema(b);
        rc = check_fields(&schema->type, cur, b->format_version,
                          b->last_column_id, 0, err);
        if (rc != LH_OK) {
            return rc;
        }
        /* Partition sources must stay in the schema. */
        const lh_ice_partition_spec *spec =
            lh_ice_meta_spec(b, b->default_spec_id);
        for (uint32_t i = 0; spec && i < spec->nfields; i++) {
            if (spec->fields[i].transform.kind != LH_ICE_TR_VOID &&
                lh_ice_schema_find(schema, spec->fields[i].source_id) == NULL) {
                return lh_err_set(err, LH_EINVAL,
                                  "schema update: field %d is the source of "
                                  "partition field \"%.60s\"",
                                  spec->fields[i].source_id,
                                  spec->fields[i].name);
            }
        }
        lh_arena a;
        lh_arena_init(&a, 0);
        lh_ice_meta m = *b;
        lh_ice_schema *schemas =
            lh__ice_alloc_array(&a, b->nschemas + 1, sizeof(*schemas));
        if (schemas == NULL) {
            lh_arena_release(&a);
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        memcpy(schemas, b->schemas, b->nschemas * sizeof(*schemas));
        int32_t id = 0;
        for (uint32_t i = 0; i < b->nschemas; i++) {
            id = LH_MAX(id, b->schemas[i].schema_id + 1);
        }
        schemas[b->nschemas] = *schema;
        schemas[b->nschemas].schema_id = id;
        m.schemas = schemas;
        m.nschemas = b->nschemas + 1;
        m.current_schema_id = id;
        m.last_column_id = LH_MAX(b->last_column_id, schema->highest_id);
        m.last_updated_ms =
            LH_MAX(lh_real_now() / 1000, b->last_updated_ms + 1);
        lh_buf json = LH_BUF_INIT;
        rc = lh_ice_meta_to_json(&m, &json, err);
        if (rc == LH_OK) {
            rc = lh__ice_publish(t, json.data, json.len, err);
        }
        lh_buf_release(&json);
        lh_arena_release(&a);
        if (rc != LH_EEXIST) {
            return rc == LH_OK ? lh__ice_table_refresh(t, err) : rc;
        }
        rc = lh__ice_table_refresh(t, err); /* lost the race */
    }
    return rc == LH_OK
               ? lh_err_set(err, LH_ECONFLICT, "commit conflict: lost %d races",
                            RETRIES_DEFAULT)
               : rc;
}

lh_rc
lh_ice_update_spec(lh_ice_table *t, const lh_ice_partition_spec *spec,
                   lh_err *err)
{
    lh_rc rc = lh__ice_table_refresh(t, err);
    int32_t base_schema = -1;
    for (int tries = 0; rc == LH_OK && tries < RETRIES_DEFAULT; tries++) {
        const lh_ice_meta *b = lh_ice_table_meta(t);
        if (base_schema >= 0 && b->current_schema_id != base_schema) {
            return lh_err_set(err, LH_ECONFLICT,
                              "commit conflict: the schema changed while "
                              "updating the partition spec");
        }
        base_schema = b->current_schema_id;
        const lh_ice_schema *cur = lh_ice_meta_current_schema(b);
        for (uint32_t i = 0; i < spec->nfields; i++) {
            const lh_ice_partition_field *pf = &spec->fields[i];
            const lh_ice_field *src = lh_ice_schema_find(cur, pf->source_id);
            lh_ice_type rt;
            if (pf->transform.kind == LH_ICE_TR_UNKNOWN || src == NULL ||
                !lh_ice_transform_result(&pf->transform, &src->type, &rt)) {
                return lh_err_set(err, LH_EINVAL,
                                  "spec update: partition field \"%.60s\" "
                                  "(%.40s of field %d) does not apply",
                                  pf->name, pf->transform.text, pf->source_id);
            }
        }
        /* An equal spec already there becomes the default again. */
        int32_t spec_id = -1, next_id = 0;
        for (uint32_t s = 0; s < b->nspecs; s++) {
            const lh_ice_partition_spec *o = &b->specs[s];
            next_id = LH_MAX(next_id, o->spec_id + 1);
            bool same = o->nfields == spec->nfields;
            for (uint32_t i = 0; same && i < o->nfields; i++) {
                same = o->fields[i].source_id == spec->fields[i].source_id &&
                       strcmp(o->fields[i].name, spec->fields[i].name) == 0 &&
                       strcmp(o->fields[i].transform.text,
                              spec->fields[i].transform.text) == 0;
            }
            if (same) {
                spec_id = o->spec_id;
            }
        }
        lh_arena a;
        lh_arena_init(&a, 0);
        lh_ice_meta m = *b;
        lh_ice_partition_spec *specs =
            lh__ice_alloc_array(&a, b->nspecs + 1, sizeof(*specs));
        lh_ice_partition_field *fields =
            lh__ice_alloc_array(&a, spec->nfields, sizeof(*fields));
        if (specs == NULL || fields == NULL) {
            lh_arena_release(&a);
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        memcpy(specs, b->specs, b->nspecs * sizeof(*specs));
        m.specs = specs;
        if (spec_id < 0) {
            /* Field ids: reused for an equivalent field of any spec, else
             * new above last-partition-id. */
            int32_t last = b->last_partition_id;
            for (uint32_t i = 0; i < spec->nfields; i++) {
                fields[i] = spec->fields[i];
                fields[i].field_id = -1;
                for (uint32_t s = 0; s < b->nspecs && fields[i].field_id < 0;
                     s++) {
                    for (uint32_t k = 0; k < b->specs[s].nfields; k++) {
                        const lh_ice_partition_field *o =
                            &b->specs[s].fields[k];
                        if (o->source_id == fields[i].source_id &&
                            strcmp(o->transform.text,
                                   fields[i].transform.text) == 0) {
                            fields[i].field_id = o->field_id;
                            break;
                        }
                    }
                }
                if (fields[i].field_id < 0) {
                    fields[i].field_id = ++last;
                }
            }
            specs[b->nspecs] =
                (lh_ice_partition_spec){next_id, fields, spec->nfields};
            m.nspecs = b->nspecs + 1;
            m.last_partition_id = last;
            spec_id = next_id;
        }
        m.default_spec_id = spec_id;
        m.last_updated_ms =
            LH_MAX(lh_real_now() / 1000, b->last_updated_ms + 1);
        lh_buf json = LH_BUF_INIT;
        rc = lh_ice_meta_to_json(&m, &json, err);
        if (rc == LH_OK) {
            rc = lh__ice_publish(t, json.data, json.len, err);
        }
        lh_buf_release(&json);
        lh_arena_release(&a);
        if (rc != LH_EEXIST) {
            return rc == LH_OK ? lh__ice_table_refresh(t, err) : rc;
        }
        rc = lh__ice_table_refresh(t, err);
    }
    return rc == LH_OK
               ? lh_err_set(err, LH_ECONFLICT, "commit conflict: lost %d races",
                            RETRIES_DEFAULT)
               : rc;
}
