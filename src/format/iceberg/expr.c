/*
 * Predicates for scan planning: NOT pushed to the leaves, inclusive
 * projection through partition transforms (spec "Scan Planning"), and the
 * three pruning tests (manifest partition summaries, a file's partition
 * values, a file's column metrics), plus row evaluation for residuals.
 *
 * Each test answers "may a row of this match": false only when no row can.
 * A leaf on a field without metrics, bounds or a partition on its source
 * is true.
 */
#include <math.h>
#include <string.h>

#include "format/iceberg/iceberg_int.h"

static lh_ice_expr *
node_new(lh_arena *a, uint8_t op)
{
    lh_ice_expr *e = lh_arena_calloc(a, sizeof(*e));
    if (e != NULL) {
        e->op = op;
    }
    return e;
}

static uint8_t
negate_op(uint8_t op)
{
    switch (op) {
    case LH_ICE_OP_TRUE:
        return LH_ICE_OP_FALSE;
    case LH_ICE_OP_FALSE:
        return LH_ICE_OP_TRUE;
    case LH_ICE_OP_EQ:
        return LH_ICE_OP_NE;
    case LH_ICE_OP_NE:
        return LH_ICE_OP_EQ;
    case LH_ICE_OP_LT:
        return LH_ICE_OP_GE;
    case LH_ICE_OP_LE:
        return LH_ICE_OP_GT;
    case LH_ICE_OP_GT:
        return LH_ICE_OP_LE;
    case LH_ICE_OP_GE:
        return LH_ICE_OP_LT;
    case LH_ICE_OP_IS_NULL:
        return LH_ICE_OP_NOT_NULL;
    case LH_ICE_OP_NOT_NULL:
        return LH_ICE_OP_IS_NULL;
    case LH_ICE_OP_IS_NAN:
        return LH_ICE_OP_NOT_NAN;
    case LH_ICE_OP_NOT_NAN:
        return LH_ICE_OP_IS_NAN;
    case LH_ICE_OP_IN:
        return LH_ICE_OP_NOT_IN;
    case LH_ICE_OP_NOT_IN:
        return LH_ICE_OP_IN;
    default:
        return LH_ICE_OP_TRUE; /* NOT STARTS_WITH: cannot prune */
    }
}

static lh_rc
norm(const lh_ice_expr *e, bool neg, lh_arena *a, int depth,
     const lh_ice_expr **out)
{
    if (depth > 256) {
        return LH_ELIMIT;
    }
    lh_ice_expr *n;
    lh_rc rc;
    switch (e->op) {
    case LH_ICE_OP_NOT:
        return norm(e->a, !neg, a, depth + 1, out);
    case LH_ICE_OP_AND:
    case LH_ICE_OP_OR:
        n = node_new(a, (e->op == LH_ICE_OP_AND) != neg ? LH_ICE_OP_AND
                                                        : LH_ICE_OP_OR);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        rc = norm(e->a, neg, a, depth + 1, &n->a);
        if (rc == LH_OK) {
            rc = norm(e->b, neg, a, depth + 1, &n->b);
        }
        *out = n;
        return rc;
    default:
        if (!neg) {
            *out = e;
            return LH_OK;
        }
        n = node_new(a, negate_op(e->op));
        if (n == NULL) {
            return LH_ENOMEM;
        }
        if (e->op == LH_ICE_OP_STARTS_WITH) {
            *out = n; /* TRUE */
            return LH_OK;
        }
        n->field_id = e->field_id;
        n->lits = e->lits;
        n->nlits = e->nlits;
        *out = n;
        return LH_OK;
    }
}

lh_rc
lh_ice_expr_normalize(const lh_ice_expr *e, lh_arena *a,
                      const lh_ice_expr **out, lh_err *err)
{
    lh_rc rc = norm(e, false, a, 0, out);
    if (rc != LH_OK) {
        return lh_err_set(err, rc,
                          rc == LH_ENOMEM ? "out of memory"
                                          : "predicate nested too "
                                            "deep");
    }
    return LH_OK;
}

/* ---- comparing against bounds
 * ---------------------------------------------------- */

static bool
is_nan(const lh_value *v)
{
    return (v->type.id == LH_T_REAL || v->type.id == LH_T_DOUBLE) &&
           isnan(v->u.d);
}

/* Given a range [lo, hi] of the non-null values (either may be missing)
 * and whether nulls / non-null values exist, may the leaf match? */
typedef struct range {
    bool has_lo, has_hi;
    lh_value lo, hi;
    int nulls;  /* 1 some, 0 none, -1 unknown */
    int values; /* 1 some non-null, 0 none, -1 unknown */
    int nans;   /* 1 some, 0 none, -1 unknown */
} range;

static bool
range_may_match(uint8_t op, const lh_value *lits, uint32_t nlits,
                const range *r)
{
    switch (op) {
    case LH_ICE_OP_IS_NULL:
        return r->nulls != 0;
    case LH_ICE_OP_NOT_NULL:
        return r->values != 0;
    case LH_ICE_OP_IS_NAN:
        return r->nans != 0;
    case LH_ICE_OP_NOT_NAN:
        return true;
    case LH_ICE_OP_NE:
    case LH_ICE_OP_NOT_IN:
    case LH_ICE_OP_TRUE:
        return true;
    case LH_ICE_OP_FALSE:
        return false;
    default:
        break;
    }
    if (r->values == 0) {
        return false; /* only nulls: no comparison is true */
    }
    if (nlits == 0) {
        return op != LH_ICE_OP_IN;
    }
    if (op == LH_ICE_OP_IN) {
        for (uint32_t i = 0; i < nlits; i++) {
            if (range_may_match(LH_ICE_OP_EQ, &lits[i], 1, r)) {
                return true;
            }
        }
        return false;
    }
    const lh_value *x = &lits[0];
    if (x->is_null) {
        return false;
    }
    if (is_nan(x)) {
        return true; /* bounds exclude NaN */
    }
    int clo = r->has_lo ? lh_ice_value_cmp(&r->lo, x) : -1; /* lo vs x */
    int chi = r->has_hi ? lh_ice_value_cmp(&r->hi, x) : 1;  /* hi vs x */
    switch (op) {
    case LH_ICE_OP_EQ:
        return (!r->has_lo || clo <= 0) && (!r->has_hi || chi >= 0);
    case LH_ICE_OP_LT:
        return !r->has_lo || clo < 0;
    case LH_ICE_OP_LE:
        return !r->has_lo || clo <= 0;
    case LH_ICE_OP_GT:
        return !r->has_hi || chi > 0;
    case LH_ICE_OP_GE:
        return !r->has_hi || chi >= 0;
    case LH_ICE_OP_STARTS_WITH: {
        /* Values starting with x lie in [x, x + 0xff...]: compare the
         * bounds' prefixes of x's length. */
        if (x->type.id != LH_T_VARCHAR && x->type.id != LH_T_BLOB) {
            return true;
        }
        size_t n = x->u.s.len;
        if (r->has_lo) {
            lh_value l = r->lo;
            l.u.s.len = LH_MIN(l.u.s.len, n);
            if (lh_ice_value_cmp(&l, x) > 0) {
                return false;
            }
        }
        if (r->has_hi) {
            lh_value h = r->hi;
            h.u.s.len = LH_MIN(h.u.s.len, n);
            if (lh_ice_value_cmp(&h, x) < 0) {
                return false;
            }
        }
        return true;
    }
    default:
        return true;
    }
}

/* ---- inclusive projection
 * -------------------------------------------------------- */

/* The projection through a transform that keeps order (truncate, the
 * time transforms): x < v implies t(x) <= t(v), and so on. */
static bool
order_preserving(uint8_t op, uint8_t *pop)
{
    switch (op) {
    case LH_ICE_OP_EQ:
        *pop = LH_ICE_OP_EQ;
        return true;
    case LH_ICE_OP_LT:
    case LH_ICE_OP_LE:
        *pop = LH_ICE_OP_LE;
        return true;
    case LH_ICE_OP_GT:
    case LH_ICE_OP_GE:
        *pop = LH_ICE_OP_GE;
        return true;
    default:
        return false;
    }
}

/* The projected leaf on a partition field: *op and lit, or false when the
 * projection is TRUE (no pruning). */
static bool
project(const lh_ice_partition_field *pf, const lh_ice_type *src, uint8_t op,
        const lh_value *lit, uint8_t *pop, lh_value *plit)
{
    const lh_ice_transform *tr = &pf->transform;
    if (tr->kind == LH_ICE_TR_UNKNOWN || tr->kind == LH_ICE_TR_VOID) {
        return false;
    }
    if (op == LH_ICE_OP_IS_NULL || op == LH_ICE_OP_NOT_NULL) {
        /* Every transform maps null to null and only null. */
        *pop = op;
        return true;
    }
    if (lit == NULL || lit->is_null || is_nan(lit)) {
        return false;
    }
    lh_err err;
    if (lh_ice_transform_apply(tr, src, lit, plit, &err) != LH_OK) {
        return false;
    }
    switch (tr->kind) {
    case LH_ICE_TR_IDENTITY:
        *pop = op;
        return op != LH_ICE_OP_NE && op != LH_ICE_OP_IS_NAN &&
               op != LH_ICE_OP_NOT_NAN;
    case LH_ICE_TR_BUCKET:
        *pop = LH_ICE_OP_EQ;
        return op == LH_ICE_OP_EQ;
    case LH_ICE_TR_TRUNCATE:
        if (op == LH_ICE_OP_STARTS_WITH) {
            /* Values starting with x truncate to a prefix of x or to x
             * cut at W: only prunable when x is no longer than W. */
            if (src->id != LH_ICE_STRING || plit->u.s.len != lit->u.s.len) {
                return false;
            }
            *pop = LH_ICE_OP_STARTS_WITH;
            return true;
        }
        return order_preserving(op, pop);
    case LH_ICE_TR_YEAR:
    case LH_ICE_TR_MONTH:
    case LH_ICE_TR_DAY:
    case LH_ICE_TR_HOUR:
        return order_preserving(op, pop);
    default:
        return false;
    }
}

/* What a partition test needs for one partition field: its summary range
 * (manifests) or its value (files). */
typedef struct ptest {
    const lh_ice_partition_spec *spec;
    const lh_ice_schema *schema;
    const lh_ice_type *ptype;       /* summaries */
    const lh_ice_manifest_file *mf; /* summaries */
    const lh_ice_data_file *file;   /* values */
} ptest;

static bool
partition_range(const ptest *t, uint32_t i, range *r)
{
    memset(r, 0, sizeof(*r));
    r->nans = -1;
    if (t->file != NULL) {
        if (i >= t->file->npartition) {
            return false;
        }
        const lh_value *v = &t->file->partition[i];
        r->nulls = v->is_null ? 1 : 0;
        r->values = v->is_null ? 0 : 1;
        if (!v->is_null) {
            r->has_lo = r->has_hi = true;
            r->lo = r->hi = *v;
            r->nans = is_nan(v) ? 1 : 0;
        }
        return true;
    }
    if (t->mf == NULL || i >= t->mf->npartitions || t->ptype == NULL ||
        i >= t->ptype->nfields) {
        return false;
    }
    const lh_ice_field_summary *s = &t->mf->partitions[i];
    const lh_ice_type *ft = &t->ptype->fields[i].type;
    r->nulls = s->contains_null ? 1 : 0;
    r->values = -1;
    r->nans = s->has_contains_nan ? (s->contains_nan ? 1 : 0) : -1;
    if (s->has_lower && lh_ice_value_from_bytes(ft, s->lower, s->nlower, &r->lo,
                                                NULL) == LH_OK) {
        r->has_lo = true;
    }
    if (s->has_upper && lh_ice_value_from_bytes(ft, s->upper, s->nupper, &r->hi,
                                                NULL) == LH_OK) {
        r->has_hi = true;
    }
    if (!r->has_lo && !r->has_hi && !s->contains_null) {
        r->values = -1; /* no bounds (NaNs only, or none written) */
    } else if (!r->has_lo && !r->has_hi && s->contains_null && r->nans != 1) {
        r->values = 0; /* every value null */
    }
    return true;
}

static bool
leaf_partition(const lh_ice_expr *e, const ptest *t)
{
    if (e->op == LH_ICE_OP_TRUE) {
        return true;
    }
    if (e->op == LH_ICE_OP_FALSE) {
        return false;
    }
    const lh_ice_field *src = lh_ice_schema_find(t->schema, e->field_id);
    if (src == NULL) {
        return true;
    }
    for (uint32_t i = 0; i < t->spec->nfields; i++) {
        const lh_ice_partition_field *pf = &t->spec->fields[i];
        if (pf->nsource_ids != 1 || pf->source_id != e->field_id) {
            continue;
        }
        range r;
        if (!partition_range(t, i, &r)) {
            continue;
        }
        if (e->op == LH_ICE_OP_IN) {
            bool any = false;
            for (uint32_t k = 0; k < e->nlits && !any; k++) {
                uint8_t pop;
                lh_value plit;
                any = !project(pf, &src->type, LH_ICE_OP_EQ, &e->lits[k], &pop,
                               &plit) ||
                      range_may_match(pop, &plit, 1, &r);
            }
            if (!any) {
                return false;
            }
            continue;
        }
        uint8_t pop;
        lh_value plit;
        if (!project(pf, &src->type, e->op, e->nlits ? &e->lits[0] : NULL, &pop,
                     &plit)) {
            continue;
        }
        if (!range_may_match(pop, &plit, 1, &r)) {
            return false;
        }
    }
    return true;
}

static bool
walk_partition(const lh_ice_expr *e, const ptest *t, int depth)
{
    if (depth > 256) {
        return true;
    }
    switch (e->op) {
    case LH_ICE_OP_AND:
        return walk_partition(e->a, t, depth + 1) &&
               walk_partition(e->b, t, depth + 1);
    case LH_ICE_OP_OR:
        return walk_partition(e->a, t, depth + 1) ||
               walk_partition(e->b, t, depth + 1);
    case LH_ICE_OP_NOT:
        return true; /* not normalized: cannot prune */
    default:
        return leaf_partition(e, t);
    }
}

bool
lh_ice_expr_may_match_summaries(const lh_ice_expr *e,
                                const lh_ice_partition_spec *spec,
                                const lh_ice_schema *schema,
                                const lh_ice_type *partition_type,
                                const lh_ice_manifest_file *mf)
{
    if (e == NULL || spec == NULL || mf->npartitions != spec->nfields) {
        return true;
    }
    ptest t = {spec, schema, partition_type, mf, NULL};
    return walk_partition(e, &t, 0);
}

bool
lh_ice_expr_may_match_partition(const lh_ice_expr *e,
                                const lh_ice_partition_spec *spec,
                                const lh_ice_schema *schema,
                                const lh_ice_data_file *f)
{
    if (e == NULL || spec == NULL || f->npartition != spec->nfields) {
        return true;
    }
    ptest t = {spec, schema, NULL, NULL, f};
    return walk_partition(e, &t, 0);
}

/* ---- column metrics
 * ---------------------------------------------------------------- */

static const lh_ice_metric *
find_metric(const lh_ice_metric *m, uint32_t n, int32_t id)
{
    for (uint32_t i = 0; i < n; i++) {
        if (m[i].id == id) {
            return &m[i];
        }
    }
    return NULL;
}

static const lh_ice_bound *
find_bound(const lh_ice_bound *b, uint32_t n, int32_t id)
{
    for (uint32_t i = 0; i < n; i++) {
        if (b[i].id == id) {
            return &b[i];
        }
    }
    return NULL;
}

/* Whether two values compare by lh_ice_value_cmp: the same type, or both
 * integers, or both floats (bounds written before a promotion). */
static bool
comparable(const lh_value *a, const lh_value *b)
{
    uint8_t x = a->type.id, y = b->type.id;
    if (x == y) {
        return x != LH_T_DECIMAL || a->type.scale == b->type.scale;
    }
    bool ix = x == LH_T_INTEGER || x == LH_T_BIGINT || x == LH_T_SMALLINT;
    bool iy = y == LH_T_INTEGER || y == LH_T_BIGINT || y == LH_T_SMALLINT;
    bool fx = x == LH_T_REAL || x == LH_T_DOUBLE;
    bool fy = y == LH_T_REAL || y == LH_T_DOUBLE;
    return (ix && iy) || (fx && fy);
}

static bool
leaf_metrics(const lh_ice_expr *e, const lh_ice_schema *schema,
             const lh_ice_data_file *f)
{
    if (e->op == LH_ICE_OP_TRUE) {
        return true;
    }
    if (e->op == LH_ICE_OP_FALSE) {
        return false;
    }
    const lh_ice_field *fl = lh_ice_schema_find(schema, e->field_id);
    if (fl == NULL || !lh_ice_type_is_primitive(&fl->type)) {
        return true;
    }
    range r;
    memset(&r, 0, sizeof(r));
    r.nulls = r.values = r.nans = -1;
    const lh_ice_metric *vc =
        find_metric(f->value_counts, f->nvalue_counts, e->field_id);
    const lh_ice_metric *nc =
        find_metric(f->null_counts, f->nnull_counts, e->field_id);
    const lh_ice_metric *nan =
        find_metric(f->nan_counts, f->nnan_counts, e->field_id);
    if (nc != NULL) {
        r.nulls = nc->v > 0 ? 1 : 0;
    }
    if (nan != NULL) {
        r.nans = nan->v > 0 ? 1 : 0;
    }
    if (vc != NULL && nc != NULL) {
        int64_t nonnull = vc->v - nc->v - (nan ? nan->v : 0);
        r.values = (nonnull > 0 || (nan == NULL && vc->v > nc->v)) ? 1
                   : (nan != NULL)                                 ? 0
                                                                   : -1;
    }
    if (r.nulls == -1 && vc != NULL && vc->v == 0) {
        r.nulls = 0;
        r.values = 0;
    }
    const lh_ice_bound *lo = find_bound(f->lower, f->nlower, e->field_id);
    const lh_ice_bound *hi = find_bound(f->upper, f->nupper, e->field_id);
    if (lo != NULL && lh_ice_value_from_bytes(&fl->type, lo->p, lo->n, &r.lo,
                                              NULL) == LH_OK) {
        r.has_lo = true;
    }
    if (hi != NULL && lh_ice_value_from_bytes(&fl->type, hi->p, hi->n, &r.hi,
                                              NULL) == LH_OK) {
        r.has_hi = true;
    }
    /* Bounds of a promoted column decode as the old type's values: the
     * literal is of the new type; compare like with like. */
    if (r.has_lo && e->nlits > 0 && !comparable(&r.lo, &e->lits[0])) {
        r.has_lo = r.has_hi = false;
    }
    if (r.values == 1 && r.nans == 1 &&
        (e->op == LH_ICE_OP_LT || e->op == LH_ICE_OP_GT)) {
        /* fine: NaN never compares; bounds cover the others */
    }
    return range_may_match(e->op, e->lits, e->nlits, &r);
}

static bool
walk_metrics(const lh_ice_expr *e, const lh_ice_schema *schema,
             const lh_ice_data_file *f, int depth)
{
    if (depth > 256) {
        return true;
    }
    switch (e->op) {
    case LH_ICE_OP_AND:
        return walk_metrics(e->a, schema, f, depth + 1) &&
               walk_metrics(e->b, schema, f, depth + 1);
    case LH_ICE_OP_OR:
        return walk_metrics(e->a, schema, f, depth + 1) ||
               walk_metrics(e->b, schema, f, depth + 1);
    case LH_ICE_OP_NOT:
        return true;
    default:
        return leaf_metrics(e, schema, f);
    }
}

bool
lh_ice_expr_may_match_metrics(const lh_ice_expr *e, const lh_ice_schema *schema,
                              const lh_ice_data_file *f)
{
    if (e == NULL || f->record_count == 0) {
        return e == NULL;
    }
    return walk_metrics(e, schema, f, 0);
}

/* ---- rows
 * ----------------------------------------------------------------------------
 */

/* 1 true, 0 false, -1 unknown (NULL). */
static int
eval3(const lh_ice_expr *e, lh_ice_value_fn value, void *ctx, int depth)
{
    if (depth > 256) {
        return -1;
    }
    int a, b;
    switch (e->op) {
    case LH_ICE_OP_TRUE:
        return 1;
    case LH_ICE_OP_FALSE:
        return 0;
    case LH_ICE_OP_AND:
        a = eval3(e->a, value, ctx, depth + 1);
        if (a == 0) {
            return 0;
        }
        b = eval3(e->b, value, ctx, depth + 1);
        return b == 0 ? 0 : (a == 1 && b == 1) ? 1 : -1;
    case LH_ICE_OP_OR:
        a = eval3(e->a, value, ctx, depth + 1);
        if (a == 1) {
            return 1;
        }
        b = eval3(e->b, value, ctx, depth + 1);
        return b == 1 ? 1 : (a == 0 && b == 0) ? 0 : -1;
    case LH_ICE_OP_NOT:
        a = eval3(e->a, value, ctx, depth + 1);
        return a < 0 ? -1 : !a;
    default:
        break;
    }
    lh_value v;
    if (!value(ctx, e->field_id, &v)) {
        v.is_null = true;
    }
    switch (e->op) {
    case LH_ICE_OP_IS_NULL:
        return v.is_null;
    case LH_ICE_OP_NOT_NULL:
        return !v.is_null;
    case LH_ICE_OP_IS_NAN:
        return v.is_null ? -1 : is_nan(&v);
    case LH_ICE_OP_NOT_NAN:
        return v.is_null ? -1 : !is_nan(&v);
    default:
        break;
    }
    if (v.is_null) {
        return -1;
    }
    if (e->op == LH_ICE_OP_IN || e->op == LH_ICE_OP_NOT_IN) {
        bool found = false;
        for (uint32_t i = 0; i < e->nlits && !found; i++) {
            found = !e->lits[i].is_null && !is_nan(&v) &&
                    lh_ice_value_cmp(&v, &e->lits[i]) == 0;
        }
        return (e->op == LH_ICE_OP_IN) == found;
    }
    if (e->nlits == 0 || e->lits[0].is_null) {
        return -1;
    }
    const lh_value *x = &e->lits[0];
    if (e->op == LH_ICE_OP_STARTS_WITH) {
        return v.u.s.len >= x->u.s.len &&
               memcmp(v.u.s.p, x->u.s.p, x->u.s.len) == 0;
    }
    if (is_nan(&v) || is_nan(x)) {
        return e->op == LH_ICE_OP_NE; /* NaN equals nothing */
    }
    int c = lh_ice_value_cmp(&v, x);
    switch (e->op) {
    case LH_ICE_OP_EQ:
        return c == 0;
    case LH_ICE_OP_NE:
        return c != 0;
    case LH_ICE_OP_LT:
        return c < 0;
    case LH_ICE_OP_LE:
        return c <= 0;
    case LH_ICE_OP_GT:
        return c > 0;
    case LH_ICE_OP_GE:
        return c >= 0;
    default:
        return -1;
    }
}

bool
lh_ice_expr_eval(const lh_ice_expr *e, lh_ice_value_fn value, void *ctx)
{
    return e == NULL || eval3(e, value, ctx, 0) == 1;
}
