/*
 * iceberg_scan('table folder' | 'x.metadata.json' [, snapshot_id => N]
 * [, as_of => 'ts']): an Iceberg table as a table source, through the
 * Iceberg module's scan planning and task reading (format/iceberg).
 *
 * The table is opened and its scan planned when the statement binds (the
 * plan's schema gives the columns: the snapshot's top-level fields). A
 * task is a data file with its delete files; parallel scans share a task
 * counter. Rows removed by position deletes, deletion vectors and equality
 * deletes come out of the reader's selection. The scan's pruning
 * predicates go to the planner as an Iceberg filter (files pruned by
 * partition values and column metrics, EXPLAIN ANALYZE's files_pruned);
 * the scan operator still checks every row.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "exec/exec_int.h"
#include "exec/sources.h"
#include "format/iceberg/iceberg.h"

typedef struct ice_source {
    lh_source src;
    lh_ice_table *t;
    bool borrowed;  /* lh__iceberg_source_new: the caller's table */
    lh_arena arena; /* the plan of bind time; the columns of _new */
    lh_ice_scan_opts opts;
    lh_ice_plan plan;
    bool planned; /* plan is the unfiltered one (iceberg_scan) */
    uint32_t ncols;
    int32_t *field_ids; /* per table column */
    /* lh__iceberg_source_new: per table column, its type and the lake's
     * (id LH_T_NULL: the schema has no such field); NULL for iceberg_scan,
     * whose columns are the schema's */
    const lh_sql_column *cols;
    lh_type *lake_types;
    char *path;
} ice_source;

typedef struct ice_shared {
    lh_arena arena;
    lh_ice_plan plan; /* with the request's filter */
    _Atomic uint32_t next_task;
    uint64_t pruned;
} ice_shared;

struct lh_source_scan {
    ice_source *is;
    lh_scan_request req;
    ice_shared *shared, *own;
    const lh_ice_plan *plan;
    uint32_t next_local;
    lh_ice_reader *cur;
    int32_t *fids; /* the fields the reader reads */
    uint32_t nfids;
    /* With columns to fill or convert (mapped): per requested column, its
     * index in the reader's batch (-1: NULL) and whether to convert. */
    bool mapped;
    int32_t *slot;
    bool *convert;
    lh_vector *vecs;
    lh_arena arena; /* converted vectors of the current batch */
    lh_scan_stats stats;
};

static void
ice_source_free(void *p)
{
    ice_source *is = p;
    if (is == NULL) {
        return;
    }
    if (!is->borrowed) {
        lh_ice_table_close(is->t);
    }
    lh_arena_release(&is->arena);
    lh_free(is->field_ids);
    lh_free(is->path);
    lh_free(is);
}

static bool
same_type(lh_type a, lh_type b)
{
    return a.id == b.id &&
           (a.id != LH_T_DECIMAL ||
            (a.precision == b.precision && a.scale == b.scale)) &&
           (a.id != LH_T_VECTOR || a.dim == b.dim);
}

/* Whether column col's values are the lake's: its predicates' literals
 * then have the field's type, as the planner needs. */
static bool
pred_pushable(const ice_source *is, uint32_t col)
{
    return is->cols == NULL ||
           (is->lake_types[col].id != LH_T_NULL &&
            same_type(is->lake_types[col], is->cols[col].type));
}

/* The request's pruning predicates as an Iceberg filter (AND of leaves),
 * or NULL. */
static const lh_ice_expr *
request_filter(const ice_source *is, const lh_scan_request *req, lh_arena *a)
{
    const lh_ice_expr *acc = NULL;
    for (uint32_t i = 0; i < req->npreds; i++) {
        const lh_scan_pred *p = &req->preds[i];
        if (!pred_pushable(is, p->col)) {
            continue;
        }
        lh_ice_expr *e = lh_arena_calloc(a, sizeof(lh_ice_expr));
        if (e == NULL) {
            return NULL;
        }
        e->field_id = is->field_ids[p->col];
        e->lits = p->values;
        e->nlits = p->nvalues;
        if (p->is_null) {
            e->op = LH_ICE_OP_IS_NULL;
        } else if (p->not_null) {
            e->op = LH_ICE_OP_NOT_NULL;
        } else {
            switch (p->op) {
            case LH_OP_EQ:
                e->op = LH_ICE_OP_EQ;
                break;
            case LH_OP_LT:
                e->op = LH_ICE_OP_LT;
                break;
            case LH_OP_LE:
                e->op = LH_ICE_OP_LE;
                break;
            case LH_OP_GT:
                e->op = LH_ICE_OP_GT;
                break;
            case LH_OP_GE:
                e->op = LH_ICE_OP_GE;
                break;
            default:
                e->op = LH_ICE_OP_IN;
                break;
            }
            if (e->nlits == 0 || (e->op != LH_ICE_OP_IN && e->nlits != 1)) {
                continue;
            }
        }
        if (acc == NULL) {
            acc = e;
            continue;
        }
        lh_ice_expr *and = lh_arena_calloc(a, sizeof(lh_ice_expr));
        if (and == NULL) {
            return NULL;
        }
        and->op = LH_ICE_OP_AND;
        and->a = acc;
        and->b = e;
        acc = and;
    }
    return acc;
}

/* A plan with the request's filter (files pruned), in sh. */
static lh_rc
plan_request(const ice_source *is, const lh_scan_request *req, ice_shared *sh,
             lh_err *err)
{
    lh_arena_init(&sh->arena, 0);
    atomic_store(&sh->next_task, 0);
    lh_ice_scan_opts o = is->opts;
    o.filter = request_filter(is, req, &sh->arena);
    if (o.filter == NULL && is->planned) {
        sh->plan = is->plan;
        return LH_OK;
    }
    lh_rc rc = lh_ice_plan_scan(is->t, &o, &sh->arena, &sh->plan, err);
    if (rc == LH_OK) {
        sh->pruned = sh->plan.stats.files_pruned_partition +
                     sh->plan.stats.files_pruned_metrics;
    }
    return rc;
}

void
lh__iceberg_shared_stats(const void *shared, uint32_t *files,
                         uint64_t *files_pruned, uint32_t *manifests,
                         uint32_t *manifests_pruned)
{
    const ice_shared *sh = shared;
    *files = sh->plan.ntasks;
    *files_pruned = sh->pruned;
    *manifests = sh->plan.stats.manifests;
    *manifests_pruned = sh->plan.stats.manifests_pruned;
}

static lh_rc
ice_share(const lh_source *src, const lh_scan_request *req, void **shared,
          lh_err *err)
{
    ice_shared *sh = lh_calloc(1, sizeof(ice_shared));
    if (sh == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = plan_request(src->ud, req, sh, err);
    if (rc != LH_OK) {
        lh_arena_release(&sh->arena);
        lh_free(sh);
        return rc;
    }
    *shared = sh;
    return LH_OK;
}

static void
ice_free_shared(void *shared)
{
    ice_shared *sh = shared;
    if (sh) {
        lh_arena_release(&sh->arena);
        lh_free(sh);
    }
}

static void ice_close(lh_source_scan *s);

static lh_rc
ice_open(const lh_source *src, const lh_scan_request *req, void *shared,
         lh_source_scan **out, lh_err *err)
{
    ice_source *is = src->ud;
    lh_source_scan *s = lh_calloc(1, sizeof(lh_source_scan));
    if (s == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    s->is = is;
    s->req = *req;
    s->shared = shared;
    lh_arena_init(&s->arena, 0);
    size_t n = req->ncols ? req->ncols : 1;
    s->fids = lh_calloc(n, sizeof(int32_t));
    s->slot = lh_calloc(n, sizeof(int32_t));
    s->convert = lh_calloc(n, sizeof(bool));
    s->vecs = lh_calloc(n, sizeof(lh_vector));
    if (s->fids == NULL || s->slot == NULL || s->convert == NULL ||
        s->vecs == NULL) {
        ice_close(s);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < req->ncols; i++) {
        uint32_t col = req->cols[i];
        if (is->cols != NULL && is->lake_types[col].id == LH_T_NULL) {
            s->slot[i] = -1; /* not in the lake: NULL */
            s->mapped = true;
            continue;
        }
        s->slot[i] = (int32_t)s->nfids;
        s->fids[s->nfids++] = is->field_ids[col];
        if (is->cols != NULL &&
            !same_type(is->lake_types[col], is->cols[col].type)) {
            s->convert[i] = true;
            s->mapped = true;
        }
    }
    if (s->shared == NULL) {
        s->own = lh_calloc(1, sizeof(ice_shared));
        lh_rc rc = s->own ? plan_request(is, req, s->own, err)
                          : lh_err_set(err, LH_ENOMEM, "out of memory");
        if (rc != LH_OK) {
            if (s->own) {
                lh_arena_release(&s->own->arena);
            }
            lh_free(s->own);
            s->own = NULL;
            ice_close(s);
            return rc;
        }
    }
    ice_shared *sh = s->shared ? s->shared : s->own;
    s->plan = &sh->plan;
    /* the files of the table and those the filter pruned: counted once */
    if (s->shared == NULL || atomic_load(&sh->next_task) == 0) {
        s->stats.files_pruned = sh->pruned;
    }
    *out = s;
    return LH_OK;
}

/* A lake value as the table column's type (the lake's schema of an event
 * table: pipeline_int.h); false when there is no such conversion. */
static bool
convert_value(lh_arena *a, lh_type want, lh_value *v)
{
    if (v->is_null) {
        v->type = want;
        return true;
    }
    uint8_t f = v->type.id;
    bool ok = false;
    if (lh_sql_is_integer(want.id) && lh_sql_is_integer(f)) {
        ok = true; /* u.i holds every width */
    } else if ((want.id == LH_T_REAL || want.id == LH_T_DOUBLE) &&
               (f == LH_T_REAL || f == LH_T_DOUBLE)) {
        ok = true; /* u.d holds both */
    } else if ((want.id == LH_T_JSON || want.id == LH_T_VARCHAR) &&
               (f == LH_T_VARCHAR || f == LH_T_JSON)) {
        ok = true;
    } else if (want.id == LH_T_VECTOR && f == LH_T_BLOB &&
               v->u.s.len == (size_t)want.dim * sizeof(float)) {
        /* FLOAT[n] as its floats' little-endian bytes */
        float *x = lh_arena_alloc(a, v->u.s.len ? v->u.s.len : 1);
        if (x == NULL) {
            return false;
        }
        memcpy(x, v->u.s.p, v->u.s.len);
        v->u.vec.v = x;
        v->u.vec.n = want.dim;
        ok = true;
    }
    if (ok) {
        v->type = want;
    }
    return ok;
}

static lh_rc
convert_column(lh_source_scan *s, const lh_batch *in, uint32_t c,
               const lh_vector *from, lh_vector *to, lh_err *err)
{
    const lh_sql_column *col = &s->is->cols[s->req.cols[c]];
    lh_rc rc = lh_vector_alloc(to, col->type, in->count, true, &s->arena, err);
    uint32_t n = in->sel ? in->nsel : in->count;
    for (uint32_t k = 0; rc == LH_OK && k < n; k++) {
        uint32_t row = in->sel ? in->sel[k] : k;
        lh_value v;
        rc = lh_vector_value(from, row, &s->arena, &v, err);
        if (rc != LH_OK) {
            break;
        }
        if (!convert_value(&s->arena, col->type, &v)) {
            char a[40], b[40];
            return lh_err_set(err, LH_EUNSUPPORTED,
                              "unsupported: column \"%s\" is %s in the lake, "
                              "which cannot be read as %s",
                              col->name, lh_type_name(from->type, a),
                              lh_type_name(col->type, b));
        }
        rc = lh__vec_set(&s->arena, to, row, &v, err);
    }
    return rc;
}

/* The reader's batch as the requested columns: NULL for those the lake
 * lacks, converted where its type is not the table's. */
static lh_rc
map_batch(lh_source_scan *s, lh_batch *b, lh_err *err)
{
    lh_arena_reset(&s->arena);
    for (uint32_t c = 0; c < s->req.ncols; c++) {
        lh_rc rc = LH_OK;
        if (s->slot[c] < 0) {
            lh_value nv = {.type = s->is->cols[s->req.cols[c]].type,
                           .is_null = true};
            rc = lh__vec_const(&s->arena, &nv, &s->vecs[c], err);
        } else if (s->convert[c]) {
            rc =
                convert_column(s, b, c, &b->cols[s->slot[c]], &s->vecs[c], err);
        } else {
            s->vecs[c] = b->cols[s->slot[c]];
        }
        if (rc != LH_OK) {
            return rc;
        }
    }
    b->cols = s->vecs;
    b->ncols = s->req.ncols;
    return LH_OK;
}

static lh_rc
ice_next(lh_source_scan *s, lh_batch *out, lh_err *err)
{
    ice_shared *sh = s->shared ? s->shared : s->own;
    for (;;) {
        if (s->cur == NULL) {
            uint32_t i = atomic_fetch_add(&sh->next_task, 1);
            if (i >= s->plan->ntasks) {
                memset(out, 0, sizeof *out);
                return LH_OK;
            }
            lh_rc rc = lh_ice_read_open(s->is->t, s->plan, &s->plan->tasks[i],
                                        s->fids, s->nfids, &s->cur, err);
            if (rc != LH_OK) {
                return rc;
            }
            s->stats.files++;
        }
        lh_rc rc = lh_ice_read_next(s->cur, out, err);
        if (rc != LH_OK) {
            return rc;
        }
        if (out->count > 0) {
            s->stats.rows += out->sel ? out->nsel : out->count;
            return s->mapped ? map_batch(s, out, err) : LH_OK;
        }
        lh_ice_read_close(s->cur);
        s->cur = NULL;
    }
}

static void
ice_stats(const lh_source_scan *s, lh_scan_stats *out)
{
    *out = s->stats;
}

static void
ice_close(lh_source_scan *s)
{
    if (s == NULL) {
        return;
    }
    lh_ice_read_close(s->cur);
    if (s->own) {
        lh_arena_release(&s->own->arena);
        lh_free(s->own);
    }
    lh_free(s->fids);
    lh_free(s->slot);
    lh_free(s->convert);
    lh_free(s->vecs);
    lh_arena_release(&s->arena);
    lh_free(s);
}

static void
ice_describe(const lh_source *src, lh_buf *out)
{
    const ice_source *is = src->ud;
    lh_buf_printf(out, "iceberg, %u file%s, %llu rows", is->plan.ntasks,
                  is->plan.ntasks == 1 ? "" : "s",
                  (unsigned long long)is->plan.stats.records);
}

static const lh_source_vt ice_vt = {
    .name = "iceberg",
    .share = ice_share,
    .free_shared = ice_free_shared,
    .open = ice_open,
    .next = ice_next,
    .stats = ice_stats,
    .close = ice_close,
    .describe = ice_describe,
};

lh_rc
lh__iceberg_scan(const lh_value *args, uint32_t nargs, const char *const *names,
                 const lh_value *named, uint32_t nnamed, lh_arena *a,
                 lh_sql_table **out, void **resource, lh_err *err)
{
    if (nargs != 1 || args[0].is_null || args[0].type.id != LH_T_VARCHAR) {
        return lh_err_set(err, LH_EINVAL,
                          "iceberg_scan takes the table's folder or metadata "
                          "file (a string)");
    }
    ice_source *is = lh_calloc(1, sizeof(ice_source));
    if (is == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    *resource = is;
    lh_arena_init(&is->arena, 0);
    for (uint32_t i = 0; i < nnamed; i++) {
        const lh_value *v = &named[i];
        if (strcasecmp(names[i], "snapshot_id") == 0 && !v->is_null &&
            (v->type.id == LH_T_BIGINT || v->type.id == LH_T_INTEGER ||
             (v->type.id == LH_T_DECIMAL && v->type.scale == 0 &&
              v->type.precision <= 18))) {
            is->opts.has_snapshot_id = true;
            is->opts.snapshot_id =
                v->type.id == LH_T_DECIMAL ? (int64_t)v->u.dec : v->u.i;
        } else if (strcasecmp(names[i], "as_of") == 0 && !v->is_null &&
                   (v->type.id == LH_T_TIMESTAMP ||
                    v->type.id == LH_T_TIMESTAMPTZ)) {
            is->opts.has_as_of = true;
            is->opts.as_of_ms = v->u.i / 1000;
        } else {
            return lh_err_set(err, LH_EINVAL,
                              "iceberg_scan has no option \"%s\" of that type "
                              "(snapshot_id => BIGINT, as_of => TIMESTAMP)",
                              names[i]);
        }
    }
    is->path = lh_strndup(args[0].u.s.p, args[0].u.s.len);
    if (is->path == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = lh_ice_table_open(is->path, NULL, &is->t, err);
    if (rc == LH_OK) {
        rc = lh_ice_plan_scan(is->t, &is->opts, &is->arena, &is->plan, err);
    }
    if (rc != LH_OK) {
        lh_err_prefix(err, "iceberg_scan(\"%s\")", is->path);
        return rc;
    }
    const lh_ice_type *st = &is->plan.schema->type;
    is->ncols = st->nfields;
    lh_sql_table *t = lh_arena_calloc(a, sizeof(lh_sql_table));
    lh_sql_column *cols =
        lh_arena_calloc(a, (is->ncols ? is->ncols : 1) * sizeof(lh_sql_column));
    is->field_ids = lh_calloc(is->ncols ? is->ncols : 1, sizeof(int32_t));
    if (t == NULL || cols == NULL || is->field_ids == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t c = 0; c < is->ncols; c++) {
        const lh_ice_field *f = &st->fields[c];
        cols[c].name = lh_arena_strdup(a, f->name);
        cols[c].type = lh_ice_type_to_lh(&f->type);
        cols[c].nullable = !f->required;
        is->field_ids[c] = f->id;
        if (cols[c].name == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    is->planned = true;
    is->src.vt = &ice_vt;
    is->src.ud = is;
    t->name = "iceberg_scan";
    t->kind = LH_SQL_TABLE_FILES;
    t->cols = cols;
    t->ncols = is->ncols;
    t->ts_col = -1;
    t->source = &is->src;
    t->est_rows = (double)is->plan.stats.records + 1;
    *out = t;
    return LH_OK;
}

void
lh__iceberg_scan_free(void *resource)
{
    ice_source_free(resource);
}

lh_rc
lh__iceberg_source_new(lh_ice_table *t, bool has_snapshot, int64_t snapshot_id,
                       const lh_sql_column *cols, const int32_t *field_ids,
                       uint32_t ncols, lh_source **out, lh_err *err)
{
    ice_source *is = lh_calloc(1, sizeof(ice_source));
    if (is == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    is->t = t;
    is->borrowed = true;
    lh_arena_init(&is->arena, 0);
    is->ncols = ncols;
    is->opts.has_snapshot_id = has_snapshot;
    is->opts.snapshot_id = snapshot_id;
    const lh_ice_meta *m = lh_ice_table_meta(t);
    const lh_ice_snapshot *snap =
        has_snapshot ? lh_ice_meta_snapshot(m, snapshot_id) : NULL;
    /* the schema the planner reads the snapshot with (lh_ice_plan_scan) */
    const lh_ice_schema *schema = snap && snap->has_schema_id
                                      ? lh_ice_meta_schema(m, snap->schema_id)
                                      : NULL;
    if (schema == NULL) {
        schema = lh_ice_meta_current_schema(m);
    }
    size_t n = ncols ? ncols : 1;
    lh_sql_column *c = lh_arena_calloc(&is->arena, n * sizeof(*c));
    is->lake_types = lh_arena_calloc(&is->arena, n * sizeof(lh_type));
    is->field_ids = lh_calloc(n, sizeof(int32_t));
    if (c == NULL || is->lake_types == NULL || is->field_ids == NULL) {
        ice_source_free(is);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < ncols; i++) {
        c[i] = cols[i];
        is->field_ids[i] = field_ids[i];
        const lh_ice_field *f = field_ids[i] > 0 && schema
                                    ? lh_ice_schema_find(schema, field_ids[i])
                                    : NULL;
        is->lake_types[i] =
            f ? lh_ice_type_to_lh(&f->type) : lh_sql_type(LH_T_NULL);
    }
    is->cols = c;
    is->src.vt = &ice_vt;
    is->src.ud = is;
    *out = &is->src;
    return LH_OK;
}

void
lh__iceberg_source_free(lh_source *src)
{
    ice_source_free(src ? src->ud : NULL);
}
