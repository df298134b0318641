/*
 * Scan planning (spec "Scan Planning"): the snapshot, its manifest list,
 * manifests pruned by partition summaries, files pruned by partition values
 * and column metrics, and the delete files that apply to each data file.
 *
 * The manifest list and the manifests come parsed from the process's cache
 * when it has them (iceberg_int.h, "cache.c"); the files a plan keeps are
 * copied into its arena, so a plan never depends on a cache entry.
 */
#include <string.h>
#include <strings.h>

#include "format/iceberg/iceberg_int.h"

static lh_rc
choose_snapshot(const lh_ice_meta *m, const lh_ice_scan_opts *o,
                const lh_ice_snapshot **out, lh_err *err)
{
    *out = NULL;
    if (o != NULL && o->has_snapshot_id) {
        *out = lh_ice_meta_snapshot(m, o->snapshot_id);
        if (*out == NULL) {
            return lh_err_set(err, LH_ENOENT, "the table has no snapshot %lld",
                              (long long)o->snapshot_id);
        }
        return LH_OK;
    }
    if (o != NULL && o->has_as_of) {
        return lh_ice_meta_snapshot_at(m, o->as_of_ms, out, err);
    }
    if (o != NULL && o->ref != NULL) {
        const lh_ice_ref *r = lh_ice_meta_ref(m, o->ref);
        if (r == NULL) {
            return lh_err_set(err, LH_ENOENT, "the table has no ref \"%.100s\"",
                              o->ref);
        }
        *out = lh_ice_meta_snapshot(m, r->snapshot_id);
        return LH_OK;
    }
    *out = lh_ice_meta_current_snapshot(m);
    return LH_OK;
}

static bool
values_equal(const lh_value *a, const lh_value *b)
{
    if (a->is_null || b->is_null) {
        return a->is_null == b->is_null;
    }
    return a->type.id == b->type.id && lh_ice_value_cmp(a, b) == 0;
}

static bool
same_partition(const lh_ice_data_file *a, const lh_ice_data_file *b)
{
    if (a->spec_id != b->spec_id || a->npartition != b->npartition) {
        return false;
    }
    for (uint32_t i = 0; i < a->npartition; i++) {
        if (!values_equal(&a->partition[i], &b->partition[i])) {
            return false;
        }
    }
    return true;
}

/* A delete file with its data sequence number. */
typedef struct del {
    const lh_ice_data_file *f;
    int64_t seq;
} del;

typedef struct plan_ctx {
    const lh_ice_table *t;
    const lh_ice_meta *m;
    const lh_ice_schema *schema;
    const lh_ice_expr *filter; /* normalized */
    lh_arena *a;
    lh_err *err;
    lh_ice_plan *out;
    size_t cap;
    del *dels;
    size_t ndels, dcap;
    lh_map dv_by_file; /* referenced_data_file -> del * */
    bool copy;         /* the manifest read is the cache's: copy files */
} plan_ctx;

/* ---- parsed objects through the cache -------------------------------------
 */

typedef lh_rc (*parse_fn)(const void *ctx, const lh_buf *body, const char *name,
                          lh_arena *a, void **out, lh_err *err);

/* The object at loc parsed by fn: from the cache under key (NULL: not
 * cacheable; parsed into a), else read, parsed and offered to it. *pin is
 * the cache entry holding *out (release it when done), or NULL when *out
 * lives in a. */
static lh_rc
parsed(const lh_ice_table *t, const char *loc, const lh_buf *key, lh_arena *a,
       parse_fn fn, const void *ctx, void **out, lh__ice_cached **pin,
       lh_err *err)
{
    *pin = NULL;
    *out = NULL;
    lh__ice_cached *e = key ? lh__ice_cache_get(key->data, key->len) : NULL;
    if (e != NULL) {
        *pin = e;
        *out = lh__ice_cached_obj(e);
        return LH_OK;
    }
    lh_buf body = LH_BUF_INIT;
    lh_rc rc = lh_ice_table_get(t, loc, &body, err);
    if (rc == LH_OK && key != NULL) {
        rc = lh__ice_cache_new(key->data, key->len, &e, err);
    }
    if (rc == LH_OK) {
        rc = fn(ctx, &body, loc, e ? lh__ice_cached_arena(e) : a, out, err);
    }
    lh_buf_release(&body);
    if (rc != LH_OK) {
        lh__ice_cache_release(e);
        return rc;
    }
    if (e != NULL) {
        lh__ice_cache_put(e, *out);
        *pin = e;
    }
    return LH_OK;
}

/* The start of a cache key for an object of the table at loc ("list",
 * "manifest" are the kinds), or false when the table's objects are not
 * cached (the cache is off; metadata without a table uuid). */
static bool
key_start(const lh_ice_table *t, const lh_ice_meta *m, const char *kind,
          const char *loc, lh_buf *k)
{
    if (m->table_uuid == NULL || !lh__ice_cache_enabled()) {
        return false;
    }
    const char *sid = lh__ice_table_store_id(t);
    lh_buf_printf(k, "%s %zu:%s %zu:%s %s", kind, strlen(sid), sid, strlen(loc),
                  loc, m->table_uuid);
    return true;
}

static lh_rc
parse_list(const void *ctx, const lh_buf *body, const char *name, lh_arena *a,
           void **out, lh_err *err)
{
    (void)ctx;
    lh_ice_manifest_list *ml = lh_arena_calloc(a, sizeof(*ml));
    if (ml == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    *out = ml;
    return lh_ice_manifest_list_read((const uint8_t *)body->data, body->len,
                                     name, a, ml, err);
}

typedef struct manifest_ctx {
    const lh_ice_manifest_file *mf;
    const lh_ice_meta *m;
} manifest_ctx;

static lh_rc
parse_manifest(const void *ctx, const lh_buf *body, const char *name,
               lh_arena *a, void **out, lh_err *err)
{
    const manifest_ctx *mc = ctx;
    lh_ice_manifest *man = lh_arena_calloc(a, sizeof(*man));
    if (man == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    *out = man;
    return lh_ice_manifest_read((const uint8_t *)body->data, body->len, name,
                                mc->mf, mc->m, a, man, err);
}

/* The snapshot's manifest list. A snapshot names its list once and
 * forever, so the table's uuid and the snapshot id key it. */
static lh_rc
manifest_list(const lh_ice_table *t, const lh_ice_meta *m,
              const lh_ice_snapshot *s, lh_arena *a,
              const lh_ice_manifest_list **out, lh__ice_cached **pin,
              lh_err *err)
{
    lh_buf k = LH_BUF_INIT;
    bool cache = key_start(t, m, "list", s->manifest_list, &k);
    if (cache) {
        lh_buf_printf(&k, " %lld", (long long)s->snapshot_id);
    }
    if (cache && !lh_buf_ok(&k)) {
        lh_buf_release(&k);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    void *obj = NULL;
    lh_rc rc = parsed(t, s->manifest_list, cache ? &k : NULL, a, parse_list,
                      NULL, &obj, pin, err);
    lh_buf_release(&k);
    *out = obj;
    return rc;
}

/* A manifest, keyed on what its list entry says of it (length, spec,
 * inherited sequence numbers, snapshot and first row id) and the schema
 * that types its partition values. */
static lh_rc
manifest(const lh_ice_table *t, const lh_ice_meta *m,
         const lh_ice_manifest_file *mf, lh_arena *a,
         const lh_ice_manifest **out, lh__ice_cached **pin, lh_err *err)
{
    lh_buf k = LH_BUF_INIT;
    bool cache = key_start(t, m, "manifest", mf->path, &k);
    if (cache) {
        lh_buf_printf(&k, " %lld %d %lld %lld %lld %d:%lld %d",
                      (long long)mf->length, mf->spec_id,
                      (long long)mf->sequence_number,
                      (long long)mf->min_sequence_number,
                      (long long)mf->added_snapshot_id, mf->has_first_row_id,
                      (long long)mf->first_row_id, m->current_schema_id);
    }
    if (cache && !lh_buf_ok(&k)) {
        lh_buf_release(&k);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    manifest_ctx mc = {mf, m};
    void *obj = NULL;
    lh_rc rc = parsed(t, mf->path, cache ? &k : NULL, a, parse_manifest, &mc,
                      &obj, pin, err);
    lh_buf_release(&k);
    *out = obj;
    return rc;
}

/* The file of entry e as the plan keeps it: e's own when the manifest is
 * in the plan's arena, else a copy there. */
static lh_rc
plan_file(plan_ctx *c, const lh_ice_entry *e, const lh_ice_data_file **out)
{
    if (!c->copy) {
        *out = &e->file;
        return LH_OK;
    }
    lh_ice_data_file *f = lh_arena_alloc(c->a, sizeof(*f));
    if (f == NULL) {
        return lh_err_set(c->err, LH_ENOMEM, "out of memory planning");
    }
    *out = f;
    return lh__ice_data_file_copy(c->a, &e->file, f, c->err);
}

static lh_rc
add_task(plan_ctx *c, const lh_ice_entry *e, const lh_ice_partition_spec *spec)
{
    lh_ice_plan *p = c->out;
    if (p->ntasks == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        lh_ice_task *nt = lh__ice_alloc_array(c->a, cap, sizeof(lh_ice_task));
        if (nt == NULL) {
            return lh_err_set(c->err, LH_ENOMEM, "out of memory planning");
        }
        if (p->ntasks) {
            memcpy(nt, p->tasks, p->ntasks * sizeof(*nt));
        }
        p->tasks = nt;
        c->cap = cap;
    }
    const lh_ice_data_file *f = NULL;
    lh_rc rc = plan_file(c, e, &f);
    if (rc != LH_OK) {
        return rc;
    }
    lh_ice_task *t = &p->tasks[p->ntasks++];
    memset(t, 0, sizeof(*t));
    t->file = f;
    t->data_sequence_number = e->sequence_number;
    t->residual = c->filter;
    t->spec = spec;
    p->stats.records += (uint64_t)e->file.record_count;
    return LH_OK;
}

static lh_rc
add_delete(plan_ctx *c, const lh_ice_entry *e)
{
    if (c->ndels == c->dcap) {
        size_t cap = c->dcap ? c->dcap * 2 : 16;
        del *nd = lh_realloc(c->dels, cap * sizeof(*nd));
        if (nd == NULL) {
            return lh_err_set(c->err, LH_ENOMEM, "out of memory planning");
        }
        c->dels = nd;
        c->dcap = cap;
    }
    lh_rc rc = plan_file(c, e, &c->dels[c->ndels].f);
    if (rc != LH_OK) {
        return rc;
    }
    c->dels[c->ndels].seq = e->sequence_number;
    c->ndels++;
    c->out->stats.delete_files++;
    return LH_OK;
}

static lh_rc
read_manifest(plan_ctx *c, const lh_ice_manifest_file *mf)
{
    lh_ice_plan *p = c->out;
    const lh_ice_partition_spec *spec = lh_ice_meta_spec(c->m, mf->spec_id);
    if (spec == NULL) {
        return lh_err_set(c->err, LH_EFORMAT,
                          "manifest \"%.300s\": partition spec %d is not in "
                          "the table metadata",
                          mf->path, mf->spec_id);
    }
    const lh_ice_manifest *man = NULL;
    lh__ice_cached *pin = NULL;
    lh_rc rc = manifest(c->t, c->m, mf, c->a, &man, &pin, c->err);
    if (rc != LH_OK) {
        return rc;
    }
    c->copy = pin != NULL;
    for (uint32_t i = 0; i < man->nentries && rc == LH_OK; i++) {
        const lh_ice_entry *e = &man->entries[i];
        if (e->status == LH_ICE_DELETED) {
            continue;
        }
        if (e->file.content != LH_ICE_CONTENT_DATA) {
            if (lh_ice_expr_may_match_partition(c->filter, spec, c->schema,
                                                &e->file)) {
                rc = add_delete(c, e);
            }
            continue;
        }
        p->stats.files++;
        if (!lh_ice_expr_may_match_partition(c->filter, spec, c->schema,
                                             &e->file)) {
            p->stats.files_pruned_partition++;
            continue;
        }
        if (!lh_ice_expr_may_match_metrics(c->filter, c->schema, &e->file)) {
            p->stats.files_pruned_metrics++;
            continue;
        }
        rc = add_task(c, e, spec);
    }
    lh__ice_cache_release(pin);
    return rc;
}

static bool
is_dv(const lh_ice_data_file *f)
{
    return f->content == LH_ICE_CONTENT_POSITION_DELETES && f->format != NULL &&
           strcasecmp(f->format, "puffin") == 0;
}

/* Which delete files apply to each task. */
static lh_rc
attach_deletes(plan_ctx *c)
{
    if (c->ndels == 0) {
        return LH_OK;
    }
    for (size_t i = 0; i < c->ndels; i++) {
        const lh_ice_data_file *d = c->dels[i].f;
        if (is_dv(d) && d->referenced_data_file != NULL) {
            if (lh_map_put(&c->dv_by_file, d->referenced_data_file,
                           strlen(d->referenced_data_file), &c->dels[i],
                           NULL) != LH_OK) {
                return lh_err_set(c->err, LH_ENOMEM, "out of memory");
            }
        }
    }
    const lh_ice_data_file **buf = lh_malloc((c->ndels + 1) * sizeof(*buf));
    if (buf == NULL) {
        return lh_err_set(c->err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t ti = 0; ti < c->out->ntasks; ti++) {
        lh_ice_task *t = &c->out->tasks[ti];
        const lh_ice_data_file *f = t->file;
        uint32_t n = 0;
        const del *dv = lh_map_get(&c->dv_by_file, f->path, strlen(f->path));
        if (dv != NULL && t->data_sequence_number <= dv->seq &&
            same_partition(f, dv->f)) {
            buf[n++] = dv->f;
        }
        for (size_t i = 0; i < c->ndels; i++) {
            const del *d = &c->dels[i];
            const lh_ice_data_file *df = d->f;
            if (df->content == LH_ICE_CONTENT_POSITION_DELETES) {
                if (is_dv(df) || (dv != NULL && buf[0] == dv->f)) {
                    continue; /* a DV replaces position delete files */
                }
                if (df->referenced_data_file != NULL &&
                    strcmp(df->referenced_data_file, f->path) != 0) {
                    continue;
                }
                if (t->data_sequence_number > d->seq ||
                    !same_partition(f, df)) {
                    continue;
                }
                buf[n++] = df;
            } else if (df->content == LH_ICE_CONTENT_EQUALITY_DELETES) {
                const lh_ice_partition_spec *ds =
                    lh_ice_meta_spec(c->m, df->spec_id);
                bool global = ds != NULL && ds->nfields == 0;
                if (t->data_sequence_number >= d->seq ||
                    (!global && !same_partition(f, df))) {
                    continue;
                }
                buf[n++] = df;
            }
        }
        if (n > 0) {
            const lh_ice_data_file **list =
                lh__ice_alloc_array(c->a, n, sizeof(*list));
            if (list == NULL) {
                lh_free(buf);
                return lh_err_set(c->err, LH_ENOMEM, "out of memory");
            }
            memcpy(list, buf, n * sizeof(*list));
            t->deletes = list;
            t->ndeletes = n;
        }
    }
    lh_free(buf);
    return LH_OK;
}

lh_rc
lh_ice_plan_scan(const lh_ice_table *t, const lh_ice_scan_opts *o, lh_arena *a,
                 lh_ice_plan *out, lh_err *err)
{
    memset(out, 0, sizeof(*out));
    const lh_ice_meta *m = lh_ice_table_meta(t);
    lh_rc rc = choose_snapshot(m, o, &out->snapshot, err);
    if (rc != LH_OK) {
        return rc;
    }
    /* Time travel reads with the snapshot's schema; the current snapshot
     * with the current one (a schema update makes no snapshot). */
    bool travel = o != NULL && (o->has_snapshot_id || o->has_as_of ||
                                (o->ref != NULL && strcmp(o->ref, "main")));
    out->schema = travel && out->snapshot && out->snapshot->has_schema_id
                      ? lh_ice_meta_schema(m, out->snapshot->schema_id)
                      : NULL;
    if (out->schema == NULL) {
        out->schema = lh_ice_meta_current_schema(m);
    }
    if (out->snapshot == NULL) {
        return LH_OK; /* an empty table */
    }
    plan_ctx c;
    memset(&c, 0, sizeof(c));
    c.t = t;
    c.m = m;
    c.schema = out->schema;
    c.a = a;
    c.err = err;
    c.out = out;
    lh_map_init(&c.dv_by_file);
    if (o != NULL && o->filter != NULL) {
        rc = lh_ice_expr_normalize(o->filter, a, &c.filter, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    lh_ice_manifest_list ml;
    memset(&ml, 0, sizeof(ml));
    const lh_ice_snapshot *s = out->snapshot;
    lh__ice_cached *list_pin = NULL;
    if (s->manifest_list != NULL) {
        const lh_ice_manifest_list *l = NULL;
        rc = manifest_list(t, m, s, a, &l, &list_pin, err);
        if (rc == LH_OK) {
            ml = *l;
        }
    } else {
        /* v1 "manifests": no list; each with the default spec. */
        ml.files =
            lh__ice_alloc_array(a, s->nmanifests, sizeof(lh_ice_manifest_file));
        if (ml.files == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        for (uint32_t i = 0; rc == LH_OK && i < s->nmanifests; i++) {
            ml.files[i].path = s->manifests[i];
            ml.files[i].spec_id = m->default_spec_id;
            ml.files[i].added_snapshot_id = s->snapshot_id;
            ml.files[i].added_files = ml.files[i].existing_files = -1;
        }
        ml.nfiles = s->nmanifests;
    }
    for (uint32_t i = 0; rc == LH_OK && i < ml.nfiles; i++) {
        const lh_ice_manifest_file *mf = &ml.files[i];
        out->stats.manifests++;
        if (mf->content == 1) {
            out->stats.delete_manifests++;
        }
        if (mf->added_files == 0 && mf->existing_files == 0) {
            out->stats.manifests_pruned++; /* only DELETED entries */
            continue;
        }
        const lh_ice_partition_spec *spec = lh_ice_meta_spec(m, mf->spec_id);
        if (spec != NULL && c.filter != NULL && mf->npartitions > 0) {
            lh_ice_type ptype;
            lh_rc prc =
                lh_ice_spec_partition_type(spec, out->schema, a, &ptype, err);
            if (prc != LH_OK) {
                rc = prc;
                break;
            }
            if (!lh_ice_expr_may_match_summaries(c.filter, spec, out->schema,
                                                 &ptype, mf)) {
                out->stats.manifests_pruned++;
                continue;
            }
        }
        rc = read_manifest(&c, mf);
    }
    lh__ice_cache_release(list_pin);
    if (rc == LH_OK) {
        rc = attach_deletes(&c);
    }
    lh_free(c.dels);
    lh_map_release(&c.dv_by_file);
    return rc;
}
