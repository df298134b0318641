/*
 * Reading a file scan task: the data file through the Parquet reader,
 * columns found by field id (or the table's name mapping), the projection
 * rules for what the file lacks (identity partition value, initial-default,
 * NULL), widening of promoted types, and the deletes that apply (position
 * delete files, deletion vectors, equality delete files) as the batch's
 * selection.
 */
#include <string.h>
#include <strings.h>

#include "format/iceberg/iceberg_int.h"
#include "format/parquet/parquet.h"

enum { COL_FILE = 0, COL_CONST = 1 };

typedef struct out_col {
    int kind;
    uint32_t scan_idx; /* COL_FILE: the column's index in the scan */
    lh_type want;
    lh_value constv; /* COL_CONST */
    const lh_ice_field *field;
} out_col;

struct lh_ice_reader {
    lh_buf file;
    lh_pq_file *pq;
    lh_pq_scan *scan;
    out_col *cols;
    uint32_t ncols;
    uint32_t *scan_cols; /* Parquet top-level columns read */
    uint32_t nscan;
    lh_ice_dv *deleted;
    /* Equality deletes: the key columns (scan indexes) and the keys. */
    uint32_t *eq_scan;
    lh_type *eq_types;
    uint32_t neq;
    lh_map eq_keys;
    lh_arena eq_arena;
    lh_pq_pred *preds;
    uint32_t npreds;
    int64_t pos; /* the row position of the next batch's first row */
    lh_arena batch;
    lh_vector *out;
    uint32_t *sel;
    char path[512];
};

/* ---- the Parquet columns of fields
 * ------------------------------------------------ */

/* The top-level Parquet column holding field id, or -1: by field id, else
 * (a file without ids) by the name mapping's names. */
static int
column_of(const lh_pq_file *pq, int32_t id, const json_t *mapping)
{
    uint32_t n = lh_pq_ncolumns(pq);
    bool any_ids = false;
    for (uint32_t i = 0; i < n; i++) {
        const lh_pq_node *c = lh_pq_column(pq, i);
        if (c->has_field_id) {
            any_ids = true;
            if (c->field_id == id) {
                return (int)i;
            }
        }
    }
    if (any_ids || mapping == NULL) {
        return -1;
    }
    for (size_t k = 0; k < json_array_size(mapping); k++) {
        const json_t *m = json_array_get(mapping, k);
        const json_t *fid = json_object_get(m, "field-id");
        if (!json_is_integer(fid) || json_integer_value(fid) != id) {
            continue;
        }
        const json_t *names = json_object_get(m, "names");
        for (size_t j = 0; j < json_array_size(names); j++) {
            const char *name = json_string_value(json_array_get(names, j));
            if (name != NULL) {
                int c = lh_pq_find_column(pq, name);
                if (c >= 0) {
                    return c;
                }
            }
        }
    }
    return -1;
}

static lh_rc
add_scan_col(lh_ice_reader *r, uint32_t col, uint32_t *idx, lh_err *err)
{
    for (uint32_t i = 0; i < r->nscan; i++) {
        if (r->scan_cols[i] == col) {
            *idx = i;
            return LH_OK;
        }
    }
    uint32_t *n = lh_realloc(r->scan_cols, (r->nscan + 1) * sizeof(*n));
    if (n == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    r->scan_cols = n;
    r->scan_cols[r->nscan] = col;
    *idx = r->nscan++;
    return LH_OK;
}

/* ---- widening
 * ------------------------------------------------------------------------ */

static bool
can_widen(lh_type have, lh_type want)
{
    if (lh_type_equal(have, want)) {
        return true;
    }
    switch (want.id) {
    case LH_T_BIGINT:
        return have.id == LH_T_INTEGER || have.id == LH_T_SMALLINT;
    case LH_T_INTEGER:
        return have.id == LH_T_SMALLINT;
    case LH_T_DOUBLE:
        return have.id == LH_T_REAL;
    case LH_T_DECIMAL:
        return have.id == LH_T_DECIMAL && have.scale == want.scale &&
               have.precision <= want.precision;
    case LH_T_TIMESTAMP:
    case LH_T_TIMESTAMPTZ:
        return have.id == LH_T_DATE || have.id == want.id;
    case LH_T_BLOB:
        return have.id == LH_T_VARCHAR || have.id == LH_T_BLOB;
    case LH_T_VARCHAR:
        return have.id == LH_T_VARCHAR;
    case LH_T_LIST:
    case LH_T_STRUCT:
    case LH_T_MAP:
        return have.id == want.id;
    default:
        return false;
    }
}

/* v converted in place (into the batch arena) to type want. */
static lh_rc
widen(lh_vector *v, uint32_t rows, lh_type want, lh_arena *a, lh_err *err)
{
    lh_type have = v->type;
    if (lh_type_equal(have, want) || lh_type_is_nested(want)) {
        return LH_OK;
    }
    if (v->kind != LH_VEC_FLAT) {
        return lh_err_set(err, LH_EINTERNAL, "widening a non-flat vector");
    }
    bool same_width = lh_type_width(have) == lh_type_width(want);
    if (have.id == LH_T_DECIMAL && want.id == LH_T_DECIMAL && same_width) {
        v->type = want;
        return LH_OK;
    }
    if ((have.id == LH_T_VARCHAR && want.id == LH_T_BLOB) ||
        (have.id == want.id)) {
        v->type = want;
        return LH_OK;
    }
    void *nd = lh_arena_alloc(a, lh_type_width(want) * (rows ? rows : 1));
    if (nd == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < rows; i++) {
        switch (want.id) {
        case LH_T_BIGINT:
            ((int64_t *)nd)[i] = have.id == LH_T_INTEGER
                                     ? ((const int32_t *)v->data)[i]
                                     : ((const int16_t *)v->data)[i];
            break;
        case LH_T_INTEGER:
            ((int32_t *)nd)[i] = ((const int16_t *)v->data)[i];
            break;
        case LH_T_DOUBLE:
            ((double *)nd)[i] = ((const float *)v->data)[i];
            break;
        case LH_T_DECIMAL:
            ((lh_i128 *)nd)[i] = ((const int64_t *)v->data)[i];
            break;
        case LH_T_TIMESTAMP:
        case LH_T_TIMESTAMPTZ:
            ((int64_t *)nd)[i] =
                (int64_t)((const int32_t *)v->data)[i] * LH_US_PER_DAY;
            break;
        default:
            return lh_err_set(err, LH_EINTERNAL, "widening to type %d",
                              want.id);
        }
    }
    v->data = nd;
    v->type = want;
    return LH_OK;
}

/* A CONSTANT vector of value c (type want). */
static lh_rc
constant(lh_vector *v, lh_type want, const lh_value *c, lh_arena *a,
         lh_err *err)
{
    memset(v, 0, sizeof(*v));
    v->type = want;
    v->kind = LH_VEC_CONSTANT;
    size_t w = lh_type_width(want);
    v->data = lh_arena_calloc(a, w ? w : 8);
    v->validity = lh_arena_calloc(a, 8);
    if (v->data == NULL || v->validity == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    if (c == NULL || c->is_null || lh_type_is_nested(want)) {
        return LH_OK; /* validity bit 0 clear: NULL */
    }
    v->validity[0] = 1;
    switch (want.id) {
    case LH_T_BOOLEAN:
        *(uint8_t *)v->data = c->u.b;
        break;
    case LH_T_SMALLINT:
        *(int16_t *)v->data = (int16_t)c->u.i;
        break;
    case LH_T_INTEGER:
    case LH_T_DATE:
        *(int32_t *)v->data = (int32_t)c->u.i;
        break;
    case LH_T_BIGINT:
    case LH_T_TIME:
    case LH_T_TIMESTAMP:
    case LH_T_TIMESTAMPTZ:
        *(int64_t *)v->data = c->u.i;
        break;
    case LH_T_REAL:
        *(float *)v->data = (float)c->u.d;
        break;
    case LH_T_DOUBLE:
        *(double *)v->data = c->u.d;
        break;
    case LH_T_DECIMAL:
        if (want.precision <= 18) {
            *(int64_t *)v->data = (int64_t)c->u.dec;
        } else {
            *(lh_i128 *)v->data = c->u.dec;
        }
        break;
    case LH_T_VARCHAR:
    case LH_T_BLOB:
    case LH_T_JSON: {
        const char *p = lh_arena_memdup(a, c->u.s.p, c->u.s.len + 1);
        if (p == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        *(lh_str *)v->data = lh_str_make(p, (uint32_t)c->u.s.len);
        break;
    }
    case LH_T_UUID:
        *(lh_uuid *)v->data = c->u.uuid;
        break;
    default:
        v->validity[0] = 0;
    }
    return LH_OK;
}

/* ---- deletes
 * ------------------------------------------------------------------------ */

/* Opens a data or delete file. A local store's file is mapped (lh_pq_open),
 * so a scan reads only the footer and the pages it decodes: a point query
 * or a search that prunes to a few pages of a large file no longer reads
 * the whole file. Other stores' files are fetched whole into body. */
static lh_rc
open_file(const lh_ice_table *t, const char *location, lh_buf *body,
          lh_pq_file **pq, lh_err *err)
{
    char key[LH_IO_KEY_MAX + 1];
    lh_rc rc = lh_ice_table_key(t, location, key, sizeof key, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_io_store *store = lh_ice_table_store(t);
    if (lh_io_local_path(store, key, body, NULL) == LH_OK &&
        lh_buf_putc(body, '\0') == LH_OK) {
        rc = lh_pq_open(body->data, pq, err);
        lh_buf_reset(body);
        if (rc != LH_ENOENT) {
            return rc;
        }
        /* Not at its path: let the store say why, as for other stores. */
    }
    rc = lh_io_get(store, key, body, NULL, err);
    if (rc == LH_OK) {
        rc = lh_pq_open_mem((const uint8_t *)body->data, body->len, location,
                            pq, err);
    }
    return rc;
}

static lh_rc
load_position_deletes(lh_ice_reader *r, const lh_ice_table *t,
                      const lh_ice_data_file *data, const lh_ice_data_file *d,
                      lh_err *err)
{
    lh_buf body = LH_BUF_INIT;
    lh_pq_file *pq = NULL;
    lh_pq_scan *scan = NULL;
    lh_rc rc = open_file(t, d->path, &body, &pq, err);
    if (rc != LH_OK) {
        lh_buf_release(&body);
        return rc;
    }
    int pc = column_of(pq, LH_ICE_FIELD_DELETE_FILE_PATH, NULL);
    int qc = column_of(pq, LH_ICE_FIELD_DELETE_POS, NULL);
    if (pc < 0) {
        pc = lh_pq_find_column(pq, "file_path");
    }
    if (qc < 0) {
        qc = lh_pq_find_column(pq, "pos");
    }
    if (pc < 0 || qc < 0) {
        rc = lh_err_set(err, LH_EFORMAT,
                        "position delete file \"%.300s\" has no file_path and "
                        "pos columns",
                        d->path);
    }
    uint32_t cols[2] = {(uint32_t)pc, (uint32_t)qc};
    lh_pq_scan_opts so = {.columns = cols, .ncolumns = 2};
    if (rc == LH_OK) {
        rc = lh_pq_scan_open(pq, &so, &scan, err);
    }
    size_t plen = strlen(data->path);
    while (rc == LH_OK) {
        lh_batch b;
        rc = lh_pq_scan_next(scan, &b, err);
        if (rc != LH_OK || b.count == 0) {
            break;
        }
        if (b.cols[0].type.id != LH_T_VARCHAR &&
            b.cols[0].type.id != LH_T_BLOB) {
            rc = lh_err_set(err, LH_EFORMAT,
                            "position delete file \"%.300s\": file_path is "
                            "not a string",
                            d->path);
            break;
        }
        for (uint32_t i = 0; i < b.count && rc == LH_OK; i++) {
            if (!lh_vec_valid(&b.cols[0], i) || !lh_vec_valid(&b.cols[1], i)) {
                continue;
            }
            const lh_str *s = &((const lh_str *)b.cols[0].data)[i];
            if (s->len != plen || memcmp(lh_str_data(s), data->path, plen)) {
                continue;
            }
            int64_t pos = b.cols[1].type.id == LH_T_INTEGER
                              ? ((const int32_t *)b.cols[1].data)[i]
                              : ((const int64_t *)b.cols[1].data)[i];
            rc = lh_ice_dv_add(r->deleted, pos, err);
        }
    }
    lh_pq_scan_close(scan);
    lh_pq_close(pq);
    lh_buf_release(&body);
    return rc;
}

static lh_rc
load_dv(lh_ice_reader *r, const lh_ice_table *t, const lh_ice_data_file *d,
        lh_err *err)
{
    lh_buf body = LH_BUF_INIT;
    lh_rc rc = lh_ice_table_get(t, d->path, &body, err);
    if (rc == LH_OK &&
        (!d->has_content_offset || d->content_offset < 0 ||
         d->content_size < 0 ||
         (uint64_t)d->content_offset + (uint64_t)d->content_size > body.len)) {
        rc = lh_err_set(err, LH_ECORRUPT,
                        "deletion vector in \"%.300s\": content offset and "
                        "size do not lie in the file",
                        d->path);
    }
    lh_ice_dv *dv = NULL;
    if (rc == LH_OK) {
        rc = lh_ice_dv_parse((const uint8_t *)body.data + d->content_offset,
                             (size_t)d->content_size, &dv, err);
    }
    uint64_t n = dv ? lh_ice_dv_cardinality(dv) : 0;
    int64_t *pos = n ? lh_malloc(n * sizeof(int64_t)) : NULL;
    if (rc == LH_OK && n > 0 && pos == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    uint64_t got = 0;
    if (rc == LH_OK && n > 0) {
        rc = lh_ice_dv_positions(dv, pos, n, &got);
    }
    for (uint64_t i = 0; rc == LH_OK && i < got; i++) {
        rc = lh_ice_dv_add(r->deleted, pos[i], err);
    }
    lh_free(pos);
    lh_ice_dv_free(dv);
    lh_buf_release(&body);
    return rc;
}

/* The key of a row's equality columns. */
static lh_rc
row_key(const lh_vector *const *cols, const lh_type *types, uint32_t n,
        uint32_t row, lh_arena *a, lh_buf *key, lh_err *err)
{
    lh_buf_reset(key);
    for (uint32_t i = 0; i < n; i++) {
        lh_value v;
        lh_rc rc = lh_vector_value(cols[i], row, a, &v, err);
        if (rc != LH_OK) {
            return rc;
        }
        if (v.is_null) {
            lh_buf_puts(key, "\x01N");
        } else {
            v.type.id = types[i].id; /* text of the table's type */
            lh_buf_putc(key, '\x02');
            lh_value_to_text(&v, key);
        }
        lh_buf_putc(key, 0);
    }
    return lh_buf_ok(key) ? LH_OK : lh_err_set(err, LH_ENOMEM, "out of memory");
}

static lh_rc
load_equality_deletes(lh_ice_reader *r, const lh_ice_table *t,
                      const lh_ice_schema *schema, const lh_ice_data_file *d,
                      lh_err *err)
{
    if (r->neq == 0) {
        /* The first equality delete file fixes the key columns. */
        r->eq_scan = lh_calloc(d->nequality_ids, sizeof(uint32_t));
        r->eq_types = lh_calloc(d->nequality_ids, sizeof(lh_type));
        if (r->eq_scan == NULL || r->eq_types == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        for (uint32_t i = 0; i < d->nequality_ids; i++) {
            const lh_ice_field *f =
                lh_ice_schema_find(schema, d->equality_ids[i]);
            if (f == NULL) {
                return lh_err_set(err, LH_EUNSUPPORTED,
                                  "unsupported: equality deletes on field %d, "
                                  "which the schema no longer has",
                                  d->equality_ids[i]);
            }
            int c = column_of(r->pq, f->id, NULL);
            if (c < 0) {
                return lh_err_set(err, LH_EUNSUPPORTED,
                                  "unsupported: equality deletes on field %d, "
                                  "missing from data file \"%.300s\"",
                                  f->id, r->path);
            }
            lh_rc rc = add_scan_col(r, (uint32_t)c, &r->eq_scan[i], err);
            if (rc != LH_OK) {
                return rc;
            }
            r->eq_types[i] = lh_ice_type_to_lh(&f->type);
        }
        r->neq = d->nequality_ids;
    } else if (d->nequality_ids != r->neq) {
        return lh_err_set(err, LH_EUNSUPPORTED,
                          "unsupported: equality delete files with different "
                          "key columns on one data file");
    }
    lh_buf body = LH_BUF_INIT;
    lh_pq_file *pq = NULL;
    lh_pq_scan *scan = NULL;
    lh_rc rc = open_file(t, d->path, &body, &pq, err);
    uint32_t *cols = lh_calloc(r->neq, sizeof(uint32_t));
    if (rc == LH_OK && cols == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; rc == LH_OK && i < r->neq; i++) {
        int c = column_of(pq, d->equality_ids[i], NULL);
        if (c < 0) {
            rc = lh_err_set(err, LH_EFORMAT,
                            "equality delete file \"%.300s\" lacks field %d",
                            d->path, d->equality_ids[i]);
        }
        cols[i] = (uint32_t)c;
    }
    lh_pq_scan_opts so = {.columns = cols, .ncolumns = r->neq};
    if (rc == LH_OK) {
        rc = lh_pq_scan_open(pq, &so, &scan, err);
    }
    lh_buf key = LH_BUF_INIT;
    lh_arena tmp;
    lh_arena_init(&tmp, 0);
    const lh_vector *vs[64];
    while (rc == LH_OK && r->neq <= 64) {
        lh_batch b;
        rc = lh_pq_scan_next(scan, &b, err);
        if (rc != LH_OK || b.count == 0) {
            break;
        }
        for (uint32_t i = 0; i < r->neq && rc == LH_OK; i++) {
            rc = widen(&b.cols[i], b.count, r->eq_types[i], &tmp, err);
            vs[i] = &b.cols[i];
        }
        for (uint32_t row = 0; row < b.count && rc == LH_OK; row++) {
            rc = row_key(vs, r->eq_types, r->neq, row, &tmp, &key, err);
            if (rc == LH_OK && !lh_map_has(&r->eq_keys, key.data, key.len)) {
                rc = lh_map_put(&r->eq_keys, key.data, key.len, (void *)1,
                                NULL) == LH_OK
                         ? LH_OK
                         : lh_err_set(err, LH_ENOMEM, "out of memory");
            }
        }
        lh_arena_reset(&tmp);
    }
    lh_arena_release(&tmp);
    lh_buf_release(&key);
    lh_free(cols);
    lh_pq_scan_close(scan);
    lh_pq_close(pq);
    lh_buf_release(&body);
    return rc;
}

/* ---- predicates for row-group pruning
 * ---------------------------------------------- */

static lh_rc
push_preds(lh_ice_reader *r, const lh_ice_expr *e, int depth, lh_err *err)
{
    if (e == NULL || depth > 64) {
        return LH_OK;
    }
    if (e->op == LH_ICE_OP_AND) {
        lh_rc rc = push_preds(r, e->a, depth + 1, err);
        return rc == LH_OK ? push_preds(r, e->b, depth + 1, err) : rc;
    }
    static const struct {
        uint8_t ice, pq;
    } ops[] = {{LH_ICE_OP_EQ, LH_PQ_EQ},
               {LH_ICE_OP_LT, LH_PQ_LT},
               {LH_ICE_OP_LE, LH_PQ_LE},
               {LH_ICE_OP_GT, LH_PQ_GT},
               {LH_ICE_OP_GE, LH_PQ_GE},
               {LH_ICE_OP_IN, LH_PQ_IN},
               {LH_ICE_OP_IS_NULL, LH_PQ_IS_NULL},
               {LH_ICE_OP_NOT_NULL, LH_PQ_NOT_NULL}};
    int pop = -1;
    for (size_t i = 0; i < LH_ARRAY_LEN(ops); i++) {
        if (ops[i].ice == e->op) {
            pop = ops[i].pq;
        }
    }
    if (pop < 0) {
        return LH_OK;
    }
    int c = column_of(r->pq, e->field_id, NULL);
    if (c < 0) {
        return LH_OK;
    }
    const lh_pq_node *n = lh_pq_column(r->pq, (uint32_t)c);
    if (n->leaf < 0 ||
        (e->nlits > 0 && !lh_type_equal(n->type, e->lits[0].type))) {
        return LH_OK;
    }
    for (uint32_t i = 0; i < e->nlits; i++) {
        if (e->lits[i].is_null) {
            return LH_OK;
        }
    }
    lh_pq_pred *np = lh_realloc(r->preds, (r->npreds + 1) * sizeof(*np));
    if (np == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    r->preds = np;
    r->preds[r->npreds].column = (uint32_t)c;
    r->preds[r->npreds].op = (lh_pq_op)pop;
    r->preds[r->npreds].values = e->lits;
    r->preds[r->npreds].nvalues = e->nlits;
    r->npreds++;
    return LH_OK;
}

/* ---- the reader
 * ------------------------------------------------------------------------ */

static bool
identity_value(const lh_ice_task *task, int32_t field_id, lh_value *out)
{
    const lh_ice_partition_spec *spec = task->spec;
    for (uint32_t i = 0; spec != NULL && i < spec->nfields; i++) {
        const lh_ice_partition_field *pf = &spec->fields[i];
        if (pf->transform.kind == LH_ICE_TR_IDENTITY &&
            pf->source_id == field_id && i < task->file->npartition) {
            *out = task->file->partition[i];
            return true;
        }
    }
    return false;
}

void
lh_ice_read_close(lh_ice_reader *r)
{
    if (r == NULL) {
        return;
    }
    lh_pq_scan_close(r->scan);
    lh_pq_close(r->pq);
    lh_buf_release(&r->file);
    lh_ice_dv_free(r->deleted);
    lh_free(r->cols);
    lh_free(r->scan_cols);
    lh_free(r->eq_scan);
    lh_free(r->eq_types);
    lh_free(r->preds);
    lh_map_release(&r->eq_keys);
    lh_arena_release(&r->eq_arena);
    lh_arena_release(&r->batch);
    lh_free(r->out);
    lh_free(r->sel);
    lh_free(r);
}

lh_rc
lh_ice_read_open(const lh_ice_table *t, const lh_ice_plan *plan,
                 const lh_ice_task *task, const int32_t *field_ids,
                 uint32_t nfields, lh_ice_reader **out, lh_err *err)
{
    *out = NULL;
    const lh_ice_data_file *f = task->file;
    if (f->format == NULL || strcasecmp(f->format, "parquet") != 0) {
        return lh_err_set(err, LH_EUNSUPPORTED,
                          "unsupported: %s data files (\"%.300s\")",
                          f->format && strcasecmp(f->format, "orc") == 0 ? "ORC"
                          : f->format && strcasecmp(f->format, "avro") == 0
                              ? "Avro"
                              : (f->format ? f->format : "unknown"),
                          f->path);
    }
    lh_ice_reader *r = lh_calloc(1, sizeof(*r));
    if (r == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_map_init(&r->eq_keys);
    lh_arena_init(&r->eq_arena, 0);
    lh_arena_init(&r->batch, 0);
    snprintf(r->path, sizeof(r->path), "%s", f->path);
    lh_rc rc = open_file(t, f->path, &r->file, &r->pq, err);
    if (rc == LH_OK && lh_pq_meta(r->pq)->num_rows != f->record_count &&
        f->record_count >= 0) {
        rc = lh_err_set(err, LH_ECORRUPT,
                        "data file \"%.300s\" has %lld rows, its manifest "
                        "says %lld",
                        f->path, (long long)lh_pq_meta(r->pq)->num_rows,
                        (long long)f->record_count);
    }
    json_t *mapping = NULL;
    const char *nm = lh_ice_meta_property(lh_ice_table_meta(t),
                                          "schema.name-mapping.default");
    if (nm != NULL) {
        mapping = json_loads(nm, 0, NULL);
        if (!json_is_array(mapping)) {
            json_decref(mapping);
            mapping = NULL;
        }
    }
    r->cols = lh_calloc(nfields ? nfields : 1, sizeof(out_col));
    r->out = NULL;
    if (rc == LH_OK && r->cols == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    r->ncols = nfields;
    for (uint32_t i = 0; rc == LH_OK && i < nfields; i++) {
        out_col *c = &r->cols[i];
        const lh_ice_field *fl = lh_ice_schema_find(plan->schema, field_ids[i]);
        if (fl == NULL) {
            rc = lh_err_set(err, LH_EINVAL, "field %d is not in the schema",
                            field_ids[i]);
            break;
        }
        c->field = fl;
        c->want = lh_ice_type_to_lh(&fl->type);
        int pc = fl->type.id == LH_ICE_UNKNOWN
                     ? -1
                     : column_of(r->pq, fl->id, mapping);
        if (pc >= 0) {
            const lh_pq_node *n = lh_pq_column(r->pq, (uint32_t)pc);
            if (!can_widen(n->type, c->want)) {
                char have[40], want[40];
                rc = lh_err_set(err, LH_EFORMAT,
                                "column \"%.100s\" of \"%.300s\" is %s, which "
                                "does not read as %s",
                                fl->name, f->path, lh_type_name(n->type, have),
                                lh_type_name(c->want, want));
                break;
            }
            c->kind = COL_FILE;
            rc = add_scan_col(r, (uint32_t)pc, &c->scan_idx, err);
            continue;
        }
        /* Not in the file: the projection rules. */
        c->kind = COL_CONST;
        if (!identity_value(task, fl->id, &c->constv)) {
            if (fl->initial_default.set) {
                c->constv = fl->initial_default.v;
            } else {
                c->constv.is_null = true;
            }
        }
    }
    json_decref(mapping);
    if (rc == LH_OK && task->ndeletes > 0) {
        rc = lh_ice_dv_new(&r->deleted, err);
    }
    for (uint32_t i = 0; rc == LH_OK && i < task->ndeletes; i++) {
        const lh_ice_data_file *d = task->deletes[i];
        if (d->content == LH_ICE_CONTENT_POSITION_DELETES) {
            rc = d->format && strcasecmp(d->format, "puffin") == 0
                     ? load_dv(r, t, d, err)
                     : load_position_deletes(r, t, f, d, err);
        } else {
            rc = load_equality_deletes(r, t, plan->schema, d, err);
        }
    }
    if (rc == LH_OK && task->ndeletes == 0) {
        rc = push_preds(r, task->residual, 0, err);
    }
    if (rc == LH_OK) {
        r->out = lh_calloc(nfields ? nfields : 1, sizeof(lh_vector));
        r->sel = lh_calloc(LH_BATCH_ROWS, sizeof(uint32_t));
        if (r->out == NULL || r->sel == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    if (rc == LH_OK) {
        /* Nothing projected still reads one column, for the row count. */
        if (r->nscan == 0 && lh_pq_ncolumns(r->pq) > 0) {
            uint32_t idx;
            rc = add_scan_col(r, 0, &idx, err);
        }
    }
    if (rc == LH_OK) {
        lh_pq_scan_opts so = {.columns = r->scan_cols,
                              .ncolumns = r->nscan,
                              .preds = r->preds,
                              .npreds = r->npreds};
        rc = lh_pq_scan_open(r->pq, &so, &r->scan, err);
    }
    if (rc != LH_OK) {
        lh_ice_read_close(r);
        return rc;
    }
    *out = r;
    return LH_OK;
}

lh_rc
lh_ice_read_next(lh_ice_reader *r, lh_batch *out, lh_err *err)
{
    memset(out, 0, sizeof(*out));
    lh_arena_reset(&r->batch);
    lh_batch b;
    lh_rc rc = lh_pq_scan_next(r->scan, &b, err);
    if (rc != LH_OK) {
        lh_err_prefix(err, "\"%.300s\"", r->path);
        return rc;
    }
    if (b.count == 0) {
        return LH_OK;
    }
    for (uint32_t i = 0; i < r->ncols && rc == LH_OK; i++) {
        out_col *c = &r->cols[i];
        if (c->kind == COL_CONST) {
            rc = constant(&r->out[i], c->want, &c->constv, &r->batch, err);
            continue;
        }
        r->out[i] = b.cols[c->scan_idx];
        rc = widen(&r->out[i], b.count, c->want, &r->batch, err);
    }
    if (rc != LH_OK) {
        return rc;
    }
    out->count = b.count;
    out->ncols = r->ncols;
    out->cols = r->out;
    if (r->deleted != NULL) {
        uint32_t n = 0;
        lh_buf key = LH_BUF_INIT;
        const lh_vector *vs[64];
        for (uint32_t k = 0; k < r->neq && k < 64; k++) {
            lh_vector *v = &b.cols[r->eq_scan[k]];
            rc = widen(v, b.count, r->eq_types[k], &r->batch, err);
            vs[k] = v;
        }
        for (uint32_t row = 0; row < b.count && rc == LH_OK; row++) {
            if (lh_ice_dv_contains(r->deleted, r->pos + row)) {
                continue;
            }
            if (r->neq > 0) {
                rc =
                    row_key(vs, r->eq_types, r->neq, row, &r->batch, &key, err);
                if (rc == LH_OK && lh_map_has(&r->eq_keys, key.data, key.len)) {
                    continue;
                }
            }
            r->sel[n++] = row;
        }
        lh_buf_release(&key);
        if (n < b.count) {
            out->sel = r->sel;
            out->nsel = n;
        }
    }
    r->pos += b.count;
    return rc;
}
