/*
 * opt_vector.c: the nearest-neighbour rule of the optimizer.
 *
 *   Limit k [OFFSET m]
 *     Sort (one key: distance(col, constant vector) ASC NULLS LAST)
 *       [Project ...]
 *         Scan t [filter]
 *
 * where t offers a nearest-neighbour index over `col` (lh_sql_table.knn)
 * becomes the same plan with the scan marked (lh_plan_knn): the executor
 * asks the source for the k + m rows nearest to the constant, passing the
 * scan's filter, instead of reading every row. The sort and limit stay
 * above, so the rows come out ordered by the exact distance the query
 * computes; the index only picks them. The answer is the exact plan's
 * whenever the index finds the true nearest rows (recall 1), except that
 * rows whose column is NULL are never returned (pgvector's indexes do the
 * same; the exact plan would put them last).
 *
 * The distances: `<->` and l2_distance (L2), `<=>` and cosine_distance
 * (cosine), `<#>` (negative inner product) ascending, inner_product
 * descending. The index answers only when its metric is the query's;
 * otherwise the scan is marked with the reason and runs exactly, so that
 * EXPLAIN says why. Several sort keys, NULLS FIRST, a filter left above
 * the scan, time travel or k past LH_SQL_KNN_MAX leave the plan alone.
 */
#include <string.h>

#include "sql/optimize_int.h"

/* lh_vec_metric's values (vector.h), which the SQL layer does not include */
enum { METRIC_L2 = 0, METRIC_IP = 1, METRIC_COS = 2 };

static const char *const metric_names[] = {"l2", "ip", "cosine"};

static const struct {
    const char *fn;
    uint8_t metric;
    bool desc; /* the order that puts the nearest first */
} dist_fns[] = {
    {"<->", METRIC_L2, false},  {"l2_distance", METRIC_L2, false},
    {"<=>", METRIC_COS, false}, {"cosine_distance", METRIC_COS, false},
    {"<#>", METRIC_IP, false},  {"inner_product", METRIC_IP, true},
};

/* The expression behind column id `id` of a projection, or NULL. */
static const lh_bexpr *
through_project(const lh_plan *proj, uint32_t id)
{
    for (uint32_t i = 0; i < proj->ncols; i++) {
        if (proj->cols[i] == id) {
            return proj->u.project.exprs[i];
        }
    }
    return NULL;
}

static bool
const_count(const lh_bexpr *e, int64_t *out)
{
    if (e == NULL) {
        *out = 0;
        return true;
    }
    if (e->kind != LH_BX_CONST || e->u.c.is_null) {
        return false;
    }
    switch ((lh_type_id)e->type.id) {
    case LH_T_SMALLINT:
    case LH_T_INTEGER:
    case LH_T_BIGINT:
        *out = e->u.c.u.i;
        return *out >= 0;
    default:
        return false;
    }
}

/* Marks the scan under the Limit p when the plan has the rule's shape.
 * False only when out of memory. */
static bool
knn_limit(lh_plan *p, const lh_sql_settings *set, lh_arena *a)
{
    if (p->nchildren != 1 || p->u.limit.percent) {
        return true;
    }
    lh_plan *sort = p->children[0];
    if (sort->kind != LH_PLAN_SORT || sort->u.sort.nkeys != 1 ||
        sort->u.sort.keys[0].nulls_first) {
        return true;
    }
    const lh_order_key *key = &sort->u.sort.keys[0];
    lh_plan *below = sort->children[0], *proj = NULL;
    if (below->kind == LH_PLAN_PROJECT) {
        proj = below;
        below = proj->children[0];
    }
    if (below->kind != LH_PLAN_SCAN || below->u.scan.table == NULL ||
        below->u.scan.travel || below->u.scan.knn != NULL) {
        return true;
    }
    lh_plan *scan = below;
    const lh_sql_table *t = scan->u.scan.table;
    if (!t->knn && t->knn_why == NULL) {
        return true; /* no index of any kind: nothing to say */
    }
    const lh_bexpr *e = key->expr;
    if (e->kind == LH_BX_COL && proj != NULL) {
        e = through_project(proj, e->u.col);
    }
    if (e == NULL || e->kind != LH_BX_CALL || e->u.call.nargs != 2) {
        return true;
    }
    int fn = -1;
    for (size_t i = 0; i < LH_ARRAY_LEN(dist_fns) && fn < 0; i++) {
        if (strcmp(e->u.call.fn->name, dist_fns[i].fn) == 0 &&
            dist_fns[i].desc == key->desc) {
            fn = (int)i;
        }
    }
    if (fn < 0) {
        return true;
    }
    const lh_bexpr *x = e->u.call.args[0], *q = e->u.call.args[1];
    if (x->kind == LH_BX_CONST) {
        const lh_bexpr *tmp = x;
        x = q;
        q = tmp;
    }
    int col = lh__opt_scan_col(scan, x);
    if (col < 0 || (uint32_t)col != t->knn_col || q->kind != LH_BX_CONST ||
        q->u.c.is_null || q->type.id != LH_T_VECTOR ||
        q->u.c.u.vec.n != t->cols[col].type.dim) {
        /* a bad query vector errors in the exact plan, with its text */
        return true;
    }
    int64_t limit, offset;
    if (!const_count(p->u.limit.limit, &limit) ||
        !const_count(p->u.limit.offset, &offset) || limit == 0 ||
        limit > LH_SQL_KNN_MAX || offset > LH_SQL_KNN_MAX - limit) {
        return true;
    }
    lh_plan_knn *kn = lh_arena_calloc(a, sizeof(lh_plan_knn));
    if (kn == NULL) {
        return false;
    }
    kn->col = (uint32_t)col;
    kn->metric = dist_fns[fn].metric;
    kn->query = &q->u.c;
    kn->k = (uint32_t)(limit + offset);
    uint32_t ef =
        set && set->hnsw_ef_search ? set->hnsw_ef_search : t->knn_ef_search;
    kn->ef = LH_MAX(kn->k, ef);
    kn->nprobe = set ? set->ivfpq_nprobe : 0;
    kn->refine = set ? set->ivfpq_refine : 0;
    kn->index = t->knn && t->knn_metric == kn->metric;
    if (!t->knn) {
        kn->why = t->knn_why;
    } else if (!kn->index) {
        lh_buf b = LH_BUF_INIT;
        lh_buf_printf(&b, "the index of \"%s\" is %s, the query's %s", t->name,
                      metric_names[t->knn_metric % 3],
                      metric_names[kn->metric]);
        kn->why = lh_buf_ok(&b) ? lh_arena_strdup(a, b.data) : NULL;
        lh_buf_release(&b);
        if (kn->why == NULL) {
            return false;
        }
    }
    scan->u.scan.knn = kn;
    return true;
}

bool
lh__opt_knn(lh_plan *p, const lh_sql_settings *set, lh_arena *a)
{
    for (uint32_t i = 0; i < p->nchildren; i++) {
        if (!lh__opt_knn(p->children[i], set, a)) {
            return false;
        }
    }
    return p->kind != LH_PLAN_LIMIT || knn_limit(p, set, a);
}
