/*
 * Scanning a Parquet file into column batches: row group by row group,
 * page by page, only the projected columns, skipping row groups the
 * predicates rule out (statistics, bloom filters).
 *
 * Nested columns are assembled from definition and repetition levels into
 * offsets and validity bitmaps. Every node of the schema tree owns a slot
 * array per batch; an entry (d, r) of a leaf opens a new slot in node X
 * when r <= X.rep (X does not continue an earlier slot) and d >= X.d_reach
 * (X is reached at all); the slot is valid when d >= X.d_valid. Nodes with
 * several leaves below them take their slots from the first leaf only: the
 * other leaves agree on the shape and fill only their own nodes.
 *
 * Memory: a batch lives in the scan's batch arena and in the pages it
 * points into; pages used up during one call are freed at the start of the
 * next, which is when the batch's life ends.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "format/parquet/bloom.h"
#include "format/parquet/reader_int.h"

typedef struct leaf_cur {
    const lh_pq_node *node;
    const lh_pq_column_metadata *cm;
    uint64_t start, pos, end;
    int64_t ent_left; /* entries the chunk still holds (num_values) */
    int64_t row;      /* flat columns: the row of the next entry */
    const lh_pq_offset_index *oi; /* pages' first rows, when skipping */
    lh_pq_dict dict;
    lh_pq_page *cur;
    char where[192];
} leaf_cur;

typedef struct node_out {
    uint64_t *valid;
    size_t valid_words;
    uint8_t *data;
    size_t data_cap;
    uint32_t nslots;
} node_out;

struct lh_pq_scan {
    lh_pq_file *f;
    bool check_crc;
    bool keep_dict; /* flat dictionary-encoded columns as LH_VEC_DICT */
    uint32_t batch_rows;
    uint32_t *cols;
    uint32_t ncols;
    lh_pq_pred *preds;
    uint32_t npreds;
    leaf_cur *leaves; /* one per file leaf; node NULL when not projected */
    node_out *outs;   /* one per node */
    uint32_t rg;      /* next row group to open */
    _Atomic uint32_t *shared_rg; /* or the counter shared with other scans */
    bool (*dyn_value)(void *, lh_value *); /* opts' running predicate */
    void *dyn_ud;
    uint32_t dyn_column;
    lh_pq_op dyn_op;
    uint32_t cur_rg;
    /* Rows of the open row group that the page index leaves in (sorted,
     * disjoint); batches come from these ranges only. */
    struct row_range {
        int64_t begin, end;
    } * ranges;
    uint32_t nranges, range_i, ranges_cap;
    int64_t cur_row;
    bool flat_only;    /* every projected column is primitive */
    lh_arena rg_arena; /* page indexes of the open row group */
    lh_arena batch;
    lh_vector *vecs;
    lh_pq_page *retired;
    lh_pq_page *pool; /* recycled pages */
    node_out *flat;   /* per projected column: a flat column's buffers */
    lh_pq_scan_stats stats;
    bool failed;
};

static void
retire(lh_pq_scan *s, lh_pq_page *p)
{
    if (p) {
        p->next = s->retired;
        s->retired = p;
    }
}

static void
free_retired(lh_pq_scan *s)
{
    while (s->retired) {
        lh_pq_page *n = s->retired->next;
        lh__pq_page_recycle(s->retired, &s->pool);
        s->retired = n;
    }
}

static void
mark_leaves(lh_pq_scan *s, const lh_pq_node *n)
{
    if (n->leaf >= 0) {
        s->leaves[n->leaf].node = n;
    }
    for (uint32_t i = 0; i < n->nchildren; i++) {
        mark_leaves(s, &n->children[i]);
    }
}

lh_rc
lh_pq_scan_open(lh_pq_file *f, const lh_pq_scan_opts *opts, lh_pq_scan **out,
                lh_err *err)
{
    *out = NULL;
    lh_pq_scan_opts none;
    memset(&none, 0, sizeof none);
    if (!opts) {
        opts = &none;
    }
    uint32_t ncols = opts->columns ? opts->ncolumns : lh_pq_ncolumns(f);
    for (uint32_t i = 0; opts->columns && i < ncols; i++) {
        if (opts->columns[i] >= lh_pq_ncolumns(f)) {
            return lh_err_set(err, LH_EINVAL,
                              "column %u is out of range: the file has %u",
                              opts->columns[i], lh_pq_ncolumns(f));
        }
    }
    for (uint32_t i = 0; i < opts->npreds; i++) {
        if (opts->preds[i].column >= lh_pq_ncolumns(f)) {
            return lh_err_set(err, LH_EINVAL,
                              "predicate on column %u: out of range",
                              opts->preds[i].column);
        }
        if (lh_pq_column(f, opts->preds[i].column)->leaf < 0) {
            return lh_err_set(err, LH_EINVAL,
                              "predicate on nested column \"%s\"",
                              lh_pq_column(f, opts->preds[i].column)->name);
        }
    }
    lh_pq_scan *s = calloc(1, sizeof *s);
    if (!s) {
        return lh_err_set(err, LH_ENOMEM, "out of memory opening a scan");
    }
    s->f = f;
    s->check_crc = !opts->skip_crc;
    s->keep_dict = opts->keep_dict;
    s->batch_rows = opts->batch_rows && opts->batch_rows < LH_BATCH_ROWS
                        ? opts->batch_rows
                        : LH_BATCH_ROWS;
    s->ncols = ncols;
    s->npreds = opts->npreds;
    s->shared_rg = opts->next_row_group;
    if (opts->dyn_value != NULL && opts->dyn_column < lh_pq_ncolumns(f) &&
        lh_pq_column(f, opts->dyn_column)->leaf >= 0) {
        s->dyn_value = opts->dyn_value;
        s->dyn_ud = opts->dyn_ud;
        s->dyn_column = opts->dyn_column;
        s->dyn_op = opts->dyn_op;
    }
    lh_arena_init(&s->batch, 0);
    lh_arena_init(&s->rg_arena, 0);
    s->cols = calloc(ncols ? ncols : 1, sizeof *s->cols);
    s->preds = calloc(opts->npreds ? opts->npreds : 1, sizeof *s->preds);
    s->leaves = calloc(f->nleaves ? f->nleaves : 1, sizeof *s->leaves);
    s->outs = calloc(f->nnodes ? f->nnodes : 1, sizeof *s->outs);
    s->flat = calloc(ncols ? ncols : 1, sizeof *s->flat);
    if (!s->cols || !s->preds || !s->leaves || !s->outs || !s->flat) {
        lh_pq_scan_close(s);
        return lh_err_set(err, LH_ENOMEM, "out of memory opening a scan");
    }
    s->flat_only = true;
    for (uint32_t i = 0; i < ncols; i++) {
        s->cols[i] = opts->columns ? opts->columns[i] : i;
        mark_leaves(s, lh_pq_column(f, s->cols[i]));
        s->flat_only &= lh_pq_column(f, s->cols[i])->leaf >= 0;
    }
    if (opts->npreds) {
        memcpy(s->preds, opts->preds, opts->npreds * sizeof *s->preds);
    }
    *out = s;
    return LH_OK;
}

void
lh_pq_scan_close(lh_pq_scan *s)
{
    if (!s) {
        return;
    }
    for (uint32_t i = 0; s->leaves && i < s->f->nleaves; i++) {
        lh__pq_page_free(s->leaves[i].cur);
        lh__pq_page_free(s->leaves[i].dict.page);
    }
    free_retired(s);
    lh__pq_pool_give(&s->pool);
    for (uint32_t i = 0; s->outs && i < s->f->nnodes; i++) {
        free(s->outs[i].valid);
        free(s->outs[i].data);
    }
    for (uint32_t i = 0; s->flat && i < s->ncols; i++) {
        free(s->flat[i].valid);
        free(s->flat[i].data);
    }
    free(s->flat);
    lh_arena_release(&s->batch);
    lh_arena_release(&s->rg_arena);
    free(s->ranges);
    free(s->cols);
    free(s->preds);
    free(s->leaves);
    free(s->outs);
    free(s);
}

void
lh_pq_scan_get_stats(const lh_pq_scan *s, lh_pq_scan_stats *out)
{
    *out = s->stats;
}

/* ---- pruning ------------------------------------------------------------ */

static int
cmp_values(const lh_value *a, const lh_value *b)
{
    switch ((lh_type_id)a->type.id) {
    case LH_T_REAL:
    case LH_T_DOUBLE:
        return a->u.d < b->u.d ? -1 : a->u.d > b->u.d;
    case LH_T_DECIMAL:
        return a->u.dec < b->u.dec ? -1 : a->u.dec > b->u.dec;
    case LH_T_VARCHAR:
    case LH_T_BLOB: {
        size_t n = a->u.s.len < b->u.s.len ? a->u.s.len : b->u.s.len;
        int c = n ? memcmp(a->u.s.p, b->u.s.p, n) : 0;
        if (c) {
            return c;
        }
        return a->u.s.len < b->u.s.len ? -1 : a->u.s.len > b->u.s.len;
    }
    default:
        return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
    }
}

/* Whether min/max bounds (of a chunk or of a page) order this column as
 * its type does: the file must record TYPE_ORDER for it, and floats need
 * the order recorded at all (without it, NaN handling is unknown). */
static bool
order_known(const lh_pq_file *f, const lh_pq_node *leaf)
{
    uint32_t li = (uint32_t)leaf->leaf;
    if (f->meta.n_column_orders > li) {
        return f->meta.column_orders[li].kind == LH_PQ_ORDER_TYPE_DEFINED;
    }
    return leaf->type.id != LH_T_REAL && leaf->type.id != LH_T_DOUBLE;
}

/* The statistics' bounds, when they may be trusted for this column. */
static bool
stats_bounds(const lh_pq_file *f, const lh_pq_node *leaf,
             const lh_pq_statistics *st, lh_value *mn, lh_value *mx)
{
    if (!order_known(f, leaf)) {
        return false;
    }
    if (st->has_min_value && st->has_max_value) {
        return lh__pq_stat_value(leaf, st->min_value, mn) &&
               lh__pq_stat_value(leaf, st->max_value, mx);
    }
    /* The deprecated fields used signed order: only trust them where that
     * is the type's order. */
    if (!st->has_min || !st->has_max || leaf->conv != LH_PQ_CV_NONE ||
        leaf->el->type == LH_PQ_TYPE_BYTE_ARRAY ||
        leaf->el->type == LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY) {
        return false;
    }
    return lh__pq_stat_value(leaf, st->min, mn) &&
           lh__pq_stat_value(leaf, st->max, mx);
}

bool
lh_pq_column_bounds(const lh_pq_file *f, uint32_t i, lh_value *min,
                    lh_value *max, bool *has_values, int64_t *nulls)
{
    const lh_pq_node *leaf = lh_pq_column(f, i);
    *has_values = false;
    *nulls = 0;
    if (leaf == NULL || leaf->leaf < 0 || leaf->el == NULL) {
        return false;
    }
    switch ((lh_type_id)leaf->type.id) {
    case LH_T_SMALLINT:
    case LH_T_INTEGER:
    case LH_T_BIGINT:
    case LH_T_DECIMAL:
    case LH_T_DATE:
    case LH_T_TIME:
    case LH_T_TIMESTAMP:
    case LH_T_TIMESTAMPTZ:
        break;
    default:
        return false;
    }
    if (leaf->el->type == LH_PQ_TYPE_BYTE_ARRAY ||
        leaf->el->type == LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY ||
        leaf->el->type == LH_PQ_TYPE_INT96) {
        return false;
    }
    const lh_pq_file_metadata *m = lh_pq_meta(f);
    for (uint32_t g = 0; g < m->n_row_groups; g++) {
        const lh_pq_row_group *rg = &m->row_groups[g];
        if ((uint32_t)leaf->leaf >= rg->n_columns) {
            return false;
        }
        const lh_pq_column_chunk *cc = &rg->columns[leaf->leaf];
        if (!cc->has_meta_data || !cc->meta_data.has_statistics) {
            return false;
        }
        const lh_pq_statistics *st = &cc->meta_data.statistics;
        if (!st->has_null_count) {
            return false;
        }
        *nulls += st->null_count;
        if (st->null_count >= rg->num_rows) {
            continue; /* only NULLs here */
        }
        lh_value mn, mx;
        if (!stats_bounds(f, leaf, st, &mn, &mx)) {
            return false;
        }
        if (!*has_values || cmp_values(&mn, min) < 0) {
            *min = mn;
        }
        if (!*has_values || cmp_values(&mx, max) > 0) {
            *max = mx;
        }
        *has_values = true;
    }
    return true;
}

/* The PLAIN bytes of a value as the file would store it, for bloom
 * probes; false when the column's conversion is not invertible here. */
static bool
plain_bytes(const lh_pq_node *leaf, const lh_value *v, uint8_t *tmp,
            const void **p, size_t *len)
{
    if (v->is_null) {
        return false;
    }
    int t = leaf->el->type;
    if (leaf->conv == LH_PQ_CV_STR &&
        (leaf->type.id == LH_T_VARCHAR || leaf->type.id == LH_T_BLOB ||
         leaf->type.id == LH_T_JSON)) {
        *p = v->u.s.p;
        *len = v->u.s.len;
        return true;
    }
    if (leaf->conv != LH_PQ_CV_NONE) {
        return false;
    }
    if (t == LH_PQ_TYPE_INT32 && leaf->type.id != LH_T_REAL) {
        int32_t x = (int32_t)v->u.i;
        memcpy(tmp, &x, 4);
        *len = 4;
    } else if (t == LH_PQ_TYPE_INT64 && leaf->type.id != LH_T_DECIMAL) {
        memcpy(tmp, &v->u.i, 8);
        *len = 8;
    } else if (t == LH_PQ_TYPE_DOUBLE) {
        memcpy(tmp, &v->u.d, 8);
        *len = 8;
    } else if (t == LH_PQ_TYPE_FLOAT) {
        float x = (float)v->u.d;
        memcpy(tmp, &x, 4);
        *len = 4;
    } else {
        return false;
    }
    *p = tmp;
    return true;
}

/* True when the chunk's bloom filter shows none of the values is there. */
static bool
bloom_excludes(const lh_pq_file *f, const lh_pq_node *leaf,
               const lh_pq_column_metadata *cm, const lh_value *vals,
               uint32_t n)
{
    if (!cm->has_bloom_filter_offset || cm->bloom_filter_offset <= 0 ||
        (uint64_t)cm->bloom_filter_offset >= f->size) {
        return false;
    }
    uint64_t off = (uint64_t)cm->bloom_filter_offset;
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_pq_bloom_filter_header h;
    size_t used = 0;
    lh_err e;
    bool excluded = false;
    if (lh_pq_decode_bloom_filter_header(f->base + off, f->size - off, &a, &h,
                                         &used, &e) == LH_OK &&
        h.num_bytes > 0 && (uint64_t)h.num_bytes <= f->size - off - used &&
        (h.num_bytes % 32) == 0) {
        const uint8_t *bits = f->base + off + used;
        excluded = true;
        for (uint32_t i = 0; i < n && excluded; i++) {
            uint8_t tmp[16];
            const void *p;
            size_t len;
            if (!plain_bytes(leaf, &vals[i], tmp, &p, &len)) {
                excluded = false;
                break;
            }
            uint64_t hash = lh_pq_bloom_hash(p, len);
            if (lh_pq_bloom_check(bits, (size_t)h.num_bytes, hash)) {
                excluded = false;
            }
        }
    }
    lh_arena_release(&a);
    return excluded;
}

/* True when no value in [mn, mx] can satisfy p (a comparison or IN). */
static bool
bounds_exclude(const lh_pq_pred *p, const lh_value *mn, const lh_value *mx)
{
    uint32_t nv = p->op == LH_PQ_IN ? p->nvalues : 1;
    const lh_value *v = &p->values[0];
    bool out = false;
    switch (p->op) {
    case LH_PQ_EQ:
    case LH_PQ_IN:
        out = true;
        for (uint32_t i = 0; i < nv && out; i++) {
            v = &p->values[i];
            out = v->is_null || cmp_values(v, mn) < 0 || cmp_values(v, mx) > 0;
        }
        break;
    case LH_PQ_LT:
        out = v->is_null || cmp_values(mn, v) >= 0;
        break;
    case LH_PQ_LE:
        out = v->is_null || cmp_values(mn, v) > 0;
        break;
    case LH_PQ_GT:
        out = v->is_null || cmp_values(mx, v) <= 0;
        break;
    case LH_PQ_GE:
        out = v->is_null || cmp_values(mx, v) < 0;
        break;
    default:
        break;
    }
    return out;
}

static bool
pred_excludes(const lh_pq_scan *s, const lh_pq_row_group *rg,
              const lh_pq_pred *p)
{
    const lh_pq_node *leaf = lh_pq_column(s->f, p->column);
    const lh_pq_column_metadata *cm = &rg->columns[leaf->leaf].meta_data;
    const lh_pq_statistics *st = cm->has_statistics ? &cm->statistics : NULL;
    bool all_null = st && st->has_null_count && st->null_count == rg->num_rows;
    if (p->op == LH_PQ_IS_NULL) {
        return st && st->has_null_count && st->null_count == 0;
    }
    if (p->op == LH_PQ_NOT_NULL || all_null) {
        return all_null;
    }
    uint32_t nv = p->op == LH_PQ_IN ? p->nvalues : 1;
    if (nv == 0 || p->nvalues < nv) {
        return p->op == LH_PQ_IN; /* IN () matches nothing */
    }
    lh_value mn, mx;
    if (st && stats_bounds(s->f, leaf, st, &mn, &mx) &&
        bounds_exclude(p, &mn, &mx)) {
        return true;
    }
    if (p->op == LH_PQ_EQ || p->op == LH_PQ_IN) {
        return bloom_excludes(s->f, leaf, cm, p->values, nv);
    }
    return false;
}

/* ---- page index ------------------------------------------------------- */

/* The chunk's offset index, checked against the chunk, or NULL. */
static const lh_pq_offset_index *
load_offset_index(lh_pq_scan *s, const lh_pq_column_chunk *cc, int64_t rows,
                  uint64_t start, uint64_t end)
{
    const lh_pq_file *f = s->f;
    if (!cc->has_offset_index_offset || !cc->has_offset_index_length ||
        cc->offset_index_offset < 0 || cc->offset_index_length <= 0 ||
        (uint64_t)cc->offset_index_offset > f->size ||
        (uint64_t)cc->offset_index_length >
            f->size - (uint64_t)cc->offset_index_offset) {
        return NULL;
    }
    lh_pq_offset_index *oi = lh_arena_alloc(&s->rg_arena, sizeof *oi);
    lh_err e;
    if (!oi ||
        lh_pq_decode_offset_index(f->base + cc->offset_index_offset,
                                  (size_t)cc->offset_index_length, &s->rg_arena,
                                  oi, NULL, &e) != LH_OK ||
        oi->n_page_locations == 0) {
        return NULL;
    }
    /* A damaged index must not send the reader astray: pages inside the
     * chunk, first rows increasing from 0 and inside the row group. */
    for (uint32_t i = 0; i < oi->n_page_locations; i++) {
        const lh_pq_page_location *pl = &oi->page_locations[i];
        if (pl->offset < 0 || (uint64_t)pl->offset < start ||
            (uint64_t)pl->offset >= end || pl->first_row_index < 0 ||
            pl->first_row_index >= rows ||
            (i == 0 ? pl->first_row_index != 0
                    : pl->first_row_index <=
                          oi->page_locations[i - 1].first_row_index)) {
            return NULL;
        }
    }
    return oi;
}

/* Whether page i (per the column index) may hold a row matching p. */
static bool
page_may_match(const lh_pq_scan *s, const lh_pq_node *leaf,
               const lh_pq_column_index *ci, uint32_t i, const lh_pq_pred *p)
{
    bool all_null = ci->null_pages[i];
    if (p->op == LH_PQ_IS_NULL) {
        return all_null || i >= ci->n_null_counts || ci->null_counts[i] > 0;
    }
    if (all_null) {
        return false;
    }
    if (p->op == LH_PQ_NOT_NULL) {
        return true;
    }
    lh_value mn, mx;
    return !(order_known(s->f, leaf) &&
             lh__pq_stat_value(leaf, ci->min_values[i], &mn) &&
             lh__pq_stat_value(leaf, ci->max_values[i], &mx) &&
             bounds_exclude(p, &mn, &mx));
}

static bool
add_range(struct row_range **r, uint32_t *n, uint32_t *cap, int64_t b,
          int64_t e)
{
    if (*n && (*r)[*n - 1].end == b) {
        (*r)[*n - 1].end = e; /* adjacent pages merge */
        return true;
    }
    if (*n == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 16;
        struct row_range *p = realloc(*r, nc * sizeof *p);
        if (!p) {
            return false;
        }
        *r = p;
        *cap = nc;
    }
    (*r)[(*n)++] = (struct row_range){b, e};
    return true;
}

/* Narrows s->ranges to the rows whose pages may match every predicate,
 * through each predicate column's column index and offset index (where
 * the file has them). Only for scans of primitive columns: nested columns
 * cannot skip rows without assembling them. */
static void
prune_pages(lh_pq_scan *s, const lh_pq_row_group *rg)
{
    const lh_pq_file *f = s->f;
    for (uint32_t k = 0; k < s->npreds; k++) {
        const lh_pq_pred *p = &s->preds[k];
        const lh_pq_node *leaf = lh_pq_column(f, p->column);
        const lh_pq_column_chunk *cc = &rg->columns[leaf->leaf];
        const lh_pq_column_metadata *cm = &cc->meta_data;
        if (p->op == LH_PQ_IN && p->nvalues == 0) {
            continue; /* row groups already handle IN () */
        }
        if (!cc->has_column_index_offset || !cc->has_column_index_length ||
            cc->column_index_offset < 0 || cc->column_index_length <= 0 ||
            (uint64_t)cc->column_index_offset > f->size ||
            (uint64_t)cc->column_index_length >
                f->size - (uint64_t)cc->column_index_offset) {
            continue;
        }
        uint64_t start = (uint64_t)cm->data_page_offset;
        const lh_pq_offset_index *oi =
            load_offset_index(s, cc, rg->num_rows, 0,
                              start + (uint64_t)cm->total_compressed_size);
        lh_pq_column_index ci;
        lh_err e;
        if (!oi ||
            lh_pq_decode_column_index(f->base + cc->column_index_offset,
                                      (size_t)cc->column_index_length,
                                      &s->rg_arena, &ci, NULL, &e) != LH_OK) {
            continue;
        }
        uint32_t np = oi->n_page_locations;
        if (ci.n_null_pages != np || ci.n_min_values != np ||
            ci.n_max_values != np) {
            continue;
        }
        /* Intersect the current ranges with the matching pages' rows. */
        struct row_range *out = NULL;
        uint32_t nout = 0, cap = 0;
        uint32_t ri = 0;
        bool ok = true;
        for (uint32_t i = 0; i < np && ok; i++) {
            int64_t b = oi->page_locations[i].first_row_index;
            int64_t e2 = i + 1 < np ? oi->page_locations[i + 1].first_row_index
                                    : rg->num_rows;
            if (!page_may_match(s, leaf, &ci, i, p)) {
                s->stats.pages_pruned++;
                continue;
            }
            while (ri < s->nranges && s->ranges[ri].end <= b) {
                ri++;
            }
            for (uint32_t j = ri; j < s->nranges && s->ranges[j].begin < e2;
                 j++) {
                int64_t lo = s->ranges[j].begin > b ? s->ranges[j].begin : b;
                int64_t hi = s->ranges[j].end < e2 ? s->ranges[j].end : e2;
                if (lo < hi) {
                    ok = add_range(&out, &nout, &cap, lo, hi);
                }
            }
        }
        if (!ok) {
            free(out);
            continue; /* out of memory: read those rows after all */
        }
        free(s->ranges);
        s->ranges = out;
        s->nranges = nout;
        s->ranges_cap = cap;
    }
}

/* ---- row groups --------------------------------------------------------- */

static void
close_rg(lh_pq_scan *s)
{
    for (uint32_t i = 0; i < s->f->nleaves; i++) {
        leaf_cur *lc = &s->leaves[i];
        retire(s, lc->cur);
        retire(s, lc->dict.page);
        lc->cur = NULL;
        lc->oi = NULL;
        memset(&lc->dict, 0, sizeof lc->dict);
    }
    s->nranges = s->range_i = 0;
    lh_arena_reset(&s->rg_arena);
}

/* Opens the next row group with rows that the predicates do not rule
 * out. false at the end of the file. */
static bool
open_rg(lh_pq_scan *s)
{
    const lh_pq_file_metadata *m = &s->f->meta;
    for (;;) {
        uint32_t g = s->shared_rg ? atomic_fetch_add(s->shared_rg, 1) : s->rg++;
        if (g >= m->n_row_groups) {
            break;
        }
        const lh_pq_row_group *rg = &m->row_groups[g];
        s->stats.row_groups++;
        if (rg->num_rows == 0) {
            continue;
        }
        bool pruned = false;
        for (uint32_t i = 0; i < s->npreds && !pruned; i++) {
            pruned = pred_excludes(s, rg, &s->preds[i]);
        }
        lh_value dv;
        if (!pruned && s->dyn_value != NULL && s->dyn_value(s->dyn_ud, &dv)) {
            lh_pq_pred dp = {s->dyn_column, s->dyn_op, &dv, 1};
            pruned = pred_excludes(s, rg, &dp);
        }
        if (pruned) {
            s->stats.row_groups_pruned++;
            continue;
        }
        s->nranges = 0;
        s->range_i = 0;
        if (!add_range(&s->ranges, &s->nranges, &s->ranges_cap, 0,
                       rg->num_rows)) {
            s->nranges = 0;
        }
        if (s->flat_only && s->npreds && s->nranges) {
            prune_pages(s, rg);
            if (s->nranges == 0) {
                s->stats.row_groups_pruned++;
                lh_arena_reset(&s->rg_arena);
                continue;
            }
        }
        bool partial = s->nranges != 1 || s->ranges[0].begin != 0 ||
                       s->ranges[0].end != rg->num_rows;
        for (uint32_t i = 0; i < s->f->nleaves; i++) {
            leaf_cur *lc = &s->leaves[i];
            if (!lc->node) {
                continue;
            }
            const lh_pq_column_metadata *cm = &rg->columns[i].meta_data;
            uint64_t start = (uint64_t)cm->data_page_offset;
            /* Some writers put 0 here when there is no dictionary. */
            if (cm->has_dictionary_page_offset &&
                cm->dictionary_page_offset > 0 &&
                cm->dictionary_page_offset < cm->data_page_offset) {
                start = (uint64_t)cm->dictionary_page_offset;
            }
            lc->cm = cm;
            lc->start = lc->pos = start;
            lc->end = start + (uint64_t)cm->total_compressed_size;
            lc->ent_left = cm->num_values;
            lc->row = 0;
            lc->oi = partial ? load_offset_index(s, &rg->columns[i],
                                                 rg->num_rows, start, lc->end)
                             : NULL;
            snprintf(lc->where, sizeof lc->where, "column \"%s\", row group %u",
                     lc->node->name, g);
        }
        s->cur_rg = g;
        s->cur_row = 0;
        return true;
    }
    return false;
}

/* Makes lc->cur a page with entries left; false at the chunk's end. */
static lh_rc
next_page(lh_pq_scan *s, leaf_cur *lc, bool *have, lh_err *err)
{
    *have = false;
    while (!lc->cur || lc->cur->ent_pos >= lc->cur->nent) {
        if (lc->cur) {
            retire(s, lc->cur);
            lc->cur = NULL;
        }
        if (lc->ent_left <= 0) {
            return LH_OK;
        }
        lh_pq_page *pg = NULL;
        uint64_t before = lc->pos;
        lh_rc rc =
            lh__pq_read_page(s->f, lc->node, lc->cm, &lc->pos, lc->end,
                             s->check_crc, s->keep_dict && !lc->node->parent,
                             &lc->dict, &pg, &s->pool, lc->where, err);
        if (rc != LH_OK) {
            return rc;
        }
        s->stats.bytes_read += lc->pos - before;
        if (pg) {
            s->stats.pages++;
            if ((int64_t)pg->nent > lc->ent_left) {
                lh__pq_page_free(pg);
                return lh_err_set(err, LH_ECORRUPT,
                                  "%s: pages hold more values than the "
                                  "chunk's %lld",
                                  lc->where, (long long)lc->cm->num_values);
            }
            lc->ent_left -= pg->nent;
            lc->cur = pg;
        }
    }
    *have = true;
    return LH_OK;
}

static lh_rc
short_chunk(const leaf_cur *lc, lh_err *err)
{
    return lh_err_set(err, LH_ECORRUPT,
                      "%s: the column chunk holds fewer rows than its row "
                      "group",
                      lc->where);
}

/* ---- flat columns ------------------------------------------------------- */

/* Moves a primitive column's cursor to row `target` of the row group:
 * whole pages are jumped over through the offset index (reading the
 * dictionary page first when the jump would pass it), the rest is
 * consumed from decoded pages. */
static lh_rc
skip_rows(lh_pq_scan *s, leaf_cur *lc, int64_t target, lh_err *err)
{
    s->stats.rows_skipped += (uint64_t)(target - lc->row);
    while (lc->row < target) {
        lh_pq_page *pg = lc->cur;
        if (pg && pg->ent_pos < pg->nent) {
            uint32_t take = pg->nent - pg->ent_pos;
            if ((int64_t)take > target - lc->row) {
                take = (uint32_t)(target - lc->row);
            }
            uint32_t valid = take;
            if (pg->def) {
                valid = 0;
                for (uint32_t i = 0; i < take; i++) {
                    valid +=
                        pg->def[pg->ent_pos + i] == (uint32_t)lc->node->max_def;
                }
            }
            pg->ent_pos += take;
            pg->val_pos += valid;
            lc->row += take;
            continue;
        }
        const lh_pq_offset_index *oi = lc->oi;
        if (oi) {
            const lh_pq_page_location *pl = oi->page_locations;
            uint32_t j = 0;
            while (j + 1 < oi->n_page_locations &&
                   pl[j + 1].first_row_index <= target) {
                j++;
            }
            if (pl[j].first_row_index > lc->row &&
                (uint64_t)pl[j].offset >= lc->pos) {
                if (!lc->dict.page && lc->pos == lc->start &&
                    lc->start < (uint64_t)pl[0].offset) {
                    lh_pq_page *dp = NULL;
                    lh_rc rc = lh__pq_read_page(
                        s->f, lc->node, lc->cm, &lc->pos, lc->end, s->check_crc,
                        s->keep_dict, &lc->dict, &dp, &s->pool, lc->where, err);
                    if (rc != LH_OK) {
                        return rc;
                    }
                    if (dp) { /* not a dictionary after all: read on */
                        lc->ent_left -= dp->nent;
                        lc->cur = dp;
                        continue;
                    }
                }
                lc->ent_left -= pl[j].first_row_index - lc->row;
                lc->row = pl[j].first_row_index;
                lc->pos = (uint64_t)pl[j].offset;
                continue;
            }
        }
        bool have;
        lh_rc rc = next_page(s, lc, &have, err);
        if (rc != LH_OK) {
            return rc;
        }
        if (!have) {
            return short_chunk(lc, err);
        }
    }
    return LH_OK;
}

static lh_rc grow(node_out *o, uint32_t slot, size_t w, lh_err *err);

static lh_rc
read_flat(lh_pq_scan *s, leaf_cur *lc, uint32_t n, lh_vector *v, node_out *buf,
          lh_err *err)
{
    const lh_pq_node *leaf = lc->node;
    size_t w = lh_type_width(leaf->type);
    bool nullable = leaf->max_def > 0;
    lh_rc rc;
    memset(v, 0, sizeof *v);
    v->type = leaf->type;
    uint32_t filled = 0;
    while (filled < n) {
        bool have;
        rc = next_page(s, lc, &have, err);
        if (rc != LH_OK) {
            return rc;
        }
        if (!have) {
            return short_chunk(lc, err);
        }
        lh_pq_page *pg = lc->cur;
        uint32_t take = pg->nent - pg->ent_pos;
        if (take > n - filled) {
            take = n - filled;
        }
        const uint32_t *def = pg->def ? pg->def + pg->ent_pos : NULL;
        uint32_t nvalid = take;
        if (def) {
            nvalid = 0;
            for (uint32_t i = 0; i < take; i++) {
                nvalid += def[i] == (uint32_t)leaf->max_def;
            }
        }
        if (!pg->vals && filled == 0 && take == n) {
            /* Late materialization: the batch is codes into the chunk's
             * dictionary, which stays a vector of its own. */
            lh_vector *dv = lh_arena_calloc(&s->batch, sizeof *dv);
            if (!dv) {
                return lh_err_set(err, LH_ENOMEM,
                                  "out of memory building a "
                                  "batch");
            }
            dv->type = leaf->type;
            dv->kind = LH_VEC_FLAT;
            dv->data = lc->dict.vals;
            v->kind = LH_VEC_DICT;
            v->dict = dv;
            v->dict_size = lc->dict.n;
            const uint32_t *codes = pg->codes + pg->val_pos;
            if (nvalid == take) {
                v->data = (void *)codes;
            } else {
                rc = grow(buf, n, 4, err);
                if (rc != LH_OK) {
                    return rc;
                }
                uint32_t *out = (uint32_t *)buf->data;
                v->data = out;
                v->validity = buf->valid;
                memset(v->validity, 0xff, ((size_t)n + 63) / 64 * 8);
                for (uint32_t i = 0, q = 0; i < take; i++) {
                    bool ok = def[i] == (uint32_t)leaf->max_def;
                    out[i] = ok ? codes[q++] : 0;
                    if (!ok) {
                        lh_bit_set(v->validity, i, false);
                    }
                }
            }
            pg->ent_pos += take;
            pg->val_pos += nvalid;
            filled += take;
            continue;
        }
        const uint8_t *src =
            pg->vals ? (const uint8_t *)pg->vals + (size_t)pg->val_pos * w
                     : NULL;
        if (src && filled == 0 && take == n && nvalid == take) {
            /* The whole batch sits in this page without nulls: point at
             * the page's values instead of copying them. */
            v->data = (void *)src;
        } else {
            if (!v->data) {
                /* The scan's own buffers, reused batch after batch. */
                rc = grow(buf, n, w, err);
                if (rc != LH_OK) {
                    return rc;
                }
                v->data = buf->data;
                if (nullable) {
                    v->validity = buf->valid;
                    memset(v->validity, 0xff, ((size_t)n + 63) / 64 * 8);
                }
            }
            uint8_t *dst = (uint8_t *)v->data + (size_t)filled * w;
            if (!src) {
                /* Codes kept for a batch that crosses pages: gather. */
                const uint32_t *codes = pg->codes + pg->val_pos;
                if (nvalid == take) {
                    lh__pq_gather(&lc->dict, codes, take, w, dst);
                } else {
                    for (uint32_t i = 0, q = 0; i < take; i++) {
                        if (def[i] == (uint32_t)leaf->max_def) {
                            lh__pq_gather(&lc->dict, codes + q++, 1, w,
                                          dst + (size_t)i * w);
                        } else {
                            lh_bit_set(v->validity, filled + i, false);
                        }
                    }
                }
            } else if (nvalid == take) {
                memcpy(dst, src, (size_t)take * w);
            } else {
                const uint8_t *q = src;
                for (uint32_t i = 0; i < take; i++) {
                    if (def[i] == (uint32_t)leaf->max_def) {
                        memcpy(dst + (size_t)i * w, q, w);
                        q += w;
                    } else {
                        lh_bit_set(v->validity, filled + i, false);
                    }
                }
            }
        }
        pg->ent_pos += take;
        pg->val_pos += nvalid;
        filled += take;
    }
    lc->row += n;
    return LH_OK;
}

/* ---- nested columns ----------------------------------------------------- */

static lh_rc
grow(node_out *o, uint32_t slot, size_t w, lh_err *err)
{
    size_t words = (size_t)slot / 64 + 1;
    if (words > o->valid_words) {
        size_t nw = o->valid_words ? o->valid_words * 2 : 64;
        while (nw < words) {
            nw *= 2;
        }
        uint64_t *p = realloc(o->valid, nw * 8);
        if (!p) {
            return lh_err_set(err, LH_ENOMEM,
                              "out of memory assembling "
                              "nested values");
        }
        o->valid = p;
        o->valid_words = nw;
    }
    size_t need = ((size_t)slot + 2) * w;
    if (need > o->data_cap) {
        size_t nc = o->data_cap ? o->data_cap * 2 : 4096;
        while (nc < need) {
            nc *= 2;
        }
        uint8_t *p = realloc(o->data, nc);
        if (!p) {
            return lh_err_set(err, LH_ENOMEM,
                              "out of memory assembling "
                              "nested values");
        }
        o->data = p;
        o->data_cap = nc;
    }
    return LH_OK;
}

static lh_rc
assemble_leaf(lh_pq_scan *s, leaf_cur *lc, uint32_t nrows, lh_err *err)
{
    const lh_pq_node *leaf = lc->node;
    const lh_pq_node *path[80];
    int plen = 0;
    for (const lh_pq_node *x = leaf; x; x = x->parent) {
        if (plen == 80) {
            return lh_err_set(err, LH_EUNSUPPORTED,
                              "unsupported: nesting deeper than 80 levels");
        }
        path[plen++] = x;
    }
    for (int i = 0; i < plen / 2; i++) { /* top first */
        const lh_pq_node *t = path[i];
        path[i] = path[plen - 1 - i];
        path[plen - 1 - i] = t;
    }
    size_t w = lh_type_width(leaf->type);
    uint32_t rows = 0;
    for (;;) {
        bool have;
        lh_rc rc = next_page(s, lc, &have, err);
        if (rc != LH_OK) {
            return rc;
        }
        if (!have) {
            return rows == nrows ? LH_OK : short_chunk(lc, err);
        }
        lh_pq_page *pg = lc->cur;
        for (; pg->ent_pos < pg->nent; pg->ent_pos++) {
            uint32_t r = pg->rep ? pg->rep[pg->ent_pos] : 0;
            uint32_t d =
                pg->def ? pg->def[pg->ent_pos] : (uint32_t)leaf->max_def;
            if (r == 0) {
                if (rows == nrows) {
                    return LH_OK;
                }
                rows++;
            } else if (rows == 0) {
                return lh_err_set(err, LH_ECORRUPT,
                                  "%s: the first value of a row group "
                                  "continues a row",
                                  lc->where);
            }
            for (int k = 0; k < plen; k++) {
                const lh_pq_node *x = path[k];
                if (d < (uint32_t)x->d_reach) {
                    break;
                }
                if (r > (uint32_t)x->rep || x->first_leaf != leaf->leaf) {
                    continue;
                }
                node_out *o = &s->outs[x->id];
                bool is_list =
                    x->type.id == LH_T_LIST || x->type.id == LH_T_MAP;
                size_t xw = x->leaf >= 0 ? w : is_list ? 4 : 0;
                uint32_t slot = o->nslots;
                rc = grow(o, slot, xw, err);
                if (rc != LH_OK) {
                    return rc;
                }
                o->nslots++;
                bool valid = d >= (uint32_t)x->d_valid;
                lh_bit_set(o->valid, slot, valid);
                if (is_list) {
                    ((uint32_t *)o->data)[slot] =
                        s->outs[x->children[0].id].nslots;
                } else if (x->leaf >= 0) {
                    uint8_t *dst = o->data + (size_t)slot * w;
                    if (valid) {
                        if (pg->val_pos >= pg->nvals) {
                            return lh_err_set(err, LH_ECORRUPT,
                                              "%s: more levels than values",
                                              lc->where);
                        }
                        memcpy(dst,
                               (const uint8_t *)pg->vals +
                                   (size_t)pg->val_pos * w,
                               w);
                        pg->val_pos++;
                    } else {
                        memset(dst, 0, w);
                    }
                }
            }
        }
    }
}

/* Builds the vector of node x from the slot arrays. */
static lh_rc
build_vector(lh_pq_scan *s, const lh_pq_node *x, lh_vector *v, lh_err *err)
{
    node_out *o = &s->outs[x->id];
    memset(v, 0, sizeof *v);
    v->type = x->type;
    v->kind = LH_VEC_FLAT;
    v->validity = x->d_valid > x->d_reach ? o->valid : NULL;
    if (x->leaf >= 0) {
        v->data = o->data;
        return LH_OK;
    }
    if (x->type.id == LH_T_LIST || x->type.id == LH_T_MAP) {
        lh_rc rc = grow(o, o->nslots, 4, err);
        if (rc != LH_OK) {
            return rc;
        }
        ((uint32_t *)o->data)[o->nslots] = s->outs[x->children[0].id].nslots;
        v->data = o->data;
    }
    v->nchildren = x->nchildren;
    v->children = lh_arena_alloc(&s->batch, x->nchildren * sizeof *v->children);
    const char **names =
        lh_arena_alloc(&s->batch, x->nchildren * sizeof *names);
    lh_vector *kids = lh_arena_alloc(&s->batch, x->nchildren * sizeof *kids);
    if (!v->children || !names || !kids) {
        return lh_err_set(err, LH_ENOMEM, "out of memory building a batch");
    }
    for (uint32_t i = 0; i < x->nchildren; i++) {
        lh_rc rc = build_vector(s, &x->children[i], &kids[i], err);
        if (rc != LH_OK) {
            return rc;
        }
        v->children[i] = &kids[i];
        names[i] = x->children[i].name;
    }
    v->child_names = names;
    return LH_OK;
}

static void
reset_outs(lh_pq_scan *s, const lh_pq_node *x)
{
    s->outs[x->id].nslots = 0;
    for (uint32_t i = 0; i < x->nchildren; i++) {
        reset_outs(s, &x->children[i]);
    }
}

static lh_rc
read_nested(lh_pq_scan *s, const lh_pq_node *top, uint32_t n, lh_vector *v,
            lh_err *err)
{
    reset_outs(s, top);
    for (int32_t li = top->first_leaf; li >= 0 && li < (int32_t)s->f->nleaves;
         li++) {
        leaf_cur *lc = &s->leaves[li];
        /* Leaves of one top-level column are consecutive. */
        const lh_pq_node *t = lc->node;
        while (t && t->parent) {
            t = t->parent;
        }
        if (t != top) {
            break;
        }
        lh_rc rc = assemble_leaf(s, lc, n, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    if (s->outs[top->id].nslots != n) {
        return lh_err_set(err, LH_ECORRUPT,
                          "column \"%s\": assembled %u rows of %u", top->name,
                          s->outs[top->id].nslots, n);
    }
    return build_vector(s, top, v, err);
}

lh_rc
lh_pq_scan_next(lh_pq_scan *s, lh_batch *out, lh_err *err)
{
    memset(out, 0, sizeof *out);
    if (s->failed) {
        return lh_err_set(err, LH_EINVAL, "the scan failed earlier");
    }
    free_retired(s);
    lh_arena_reset(&s->batch);
    while (s->range_i >= s->nranges) {
        close_rg(s);
        free_retired(s);
        if (!open_rg(s)) {
            return LH_OK;
        }
    }
    const struct row_range *r = &s->ranges[s->range_i];
    if (s->cur_row < r->begin) {
        /* Rows the page index ruled out: move every column past them. */
        for (uint32_t c = 0; c < s->ncols; c++) {
            const lh_pq_node *top = lh_pq_column(s->f, s->cols[c]);
            lh_rc rc = skip_rows(s, &s->leaves[top->leaf], r->begin, err);
            if (rc != LH_OK) {
                s->failed = true;
                return rc;
            }
        }
        s->cur_row = r->begin;
    }
    uint32_t n = r->end - s->cur_row < (int64_t)s->batch_rows
                     ? (uint32_t)(r->end - s->cur_row)
                     : s->batch_rows;
    lh_vector *vecs =
        lh_arena_calloc(&s->batch, (s->ncols ? s->ncols : 1) * sizeof *vecs);
    if (!vecs) {
        s->failed = true;
        return lh_err_set(err, LH_ENOMEM, "out of memory building a batch");
    }
    for (uint32_t c = 0; c < s->ncols; c++) {
        const lh_pq_node *top = lh_pq_column(s->f, s->cols[c]);
        lh_rc rc;
        if (top->leaf >= 0) {
            rc = read_flat(s, &s->leaves[top->leaf], n, &vecs[c], &s->flat[c],
                           err);
        } else {
            rc = read_nested(s, top, n, &vecs[c], err);
        }
        if (rc != LH_OK) {
            s->failed = true;
            return rc;
        }
    }
    s->cur_row += n;
    if (s->cur_row == r->end) {
        s->range_i++;
    }
    s->stats.rows += n;
    out->count = n;
    out->ncols = s->ncols;
    out->cols = vecs;
    return LH_OK;
}
