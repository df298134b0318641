/*
 * Physical planning: each logical node becomes an lh_pnode with its
 * operator table and an immutable configuration (compiled expressions over
 * its input's layout). And the life of operator instances: making them
 * (children first), opening, pulling batches (with cancellation and
 * EXPLAIN ANALYZE timing), freeing; and running a pipeline on several
 * workers, each with its own instances over a shared morsel source.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "exec/exec_int.h"

static lh_pnode *
pnode(lh_pctx *pc, const lh_op_vt *vt, const lh_plan *p, uint32_t nchildren)
{
    lh_pnode *n = lh_arena_calloc(pc->a, sizeof(lh_pnode));
    if (n == NULL) {
        lh_err_set(pc->err, LH_ENOMEM, "out of memory planning the query");
        return NULL;
    }
    n->vt = vt;
    n->plan = p;
    n->ncols = p->ncols;
    n->types = p->types;
    n->ids = p->cols;
    n->nchildren = nchildren;
    if (nchildren) {
        n->children = lh_arena_calloc(pc->a, nchildren * sizeof(lh_pnode *));
        if (n->children == NULL) {
            lh_err_set(pc->err, LH_ENOMEM, "out of memory planning the query");
            return NULL;
        }
    }
    return n;
}

static void *
pcalloc(lh_pctx *pc, size_t n)
{
    void *p = lh_arena_calloc(pc->a, n ? n : 1);
    if (p == NULL) {
        lh_err_set(pc->err, LH_ENOMEM, "out of memory planning the query");
    }
    return p;
}

/* A scope over a child's output (and the correlated ids). */
static lh_cscope
scope_of(const lh_pnode *child, const uint32_t *outer, uint32_t nouter)
{
    lh_cscope s = {.ids = child ? child->ids : NULL,
                   .nids = child ? child->ncols : 0,
                   .outer = outer,
                   .nouter = nouter};
    return s;
}

static lh_rc
compile_opt(lh_pctx *pc, const lh_cscope *sc, const lh_bexpr *e, lh_cexpr **out)
{
    *out = NULL;
    return e ? lh__compile(pc, sc, e, out) : LH_OK;
}

static lh_rc
build_agg(lh_pctx *pc, const lh_plan *p, lh_pnode *n, const lh_cscope *sc)
{
    lh_agg_cfg *cfg = pcalloc(pc, sizeof(lh_agg_cfg));
    if (cfg == NULL) {
        return LH_ENOMEM;
    }
    cfg->ngroups = p->u.agg.ngroups;
    cfg->groups = pcalloc(pc, cfg->ngroups * sizeof(lh_cexpr *));
    cfg->group_types = pcalloc(pc, cfg->ngroups * sizeof(lh_type));
    cfg->naggs = p->u.agg.naggs;
    cfg->aggs = pcalloc(pc, cfg->naggs * sizeof(lh_agg_call));
    if (!cfg->groups || !cfg->group_types || !cfg->aggs) {
        return LH_ENOMEM;
    }
    for (uint32_t i = 0; i < cfg->ngroups; i++) {
        lh_rc rc = lh__compile(pc, sc, p->u.agg.groups[i], &cfg->groups[i]);
        if (rc != LH_OK) {
            return rc;
        }
        cfg->group_types[i] = p->u.agg.groups[i]->type;
    }
    uint32_t off = 0;
    for (uint32_t i = 0; i < cfg->naggs; i++) {
        const lh_bexpr *a = p->u.agg.aggs[i];
        lh_agg_call *c = &cfg->aggs[i];
        c->fn = a->u.agg.fn;
        const lh_fn_impl *impl = c->fn->impl;
        if (impl == NULL || impl->agg == NULL) {
            return lh_err_set(pc->err, LH_EINTERNAL,
                              "aggregate %s has no implementation",
                              c->fn->name);
        }
        c->impl = impl->agg;
        c->type = a->type;
        c->distinct = a->u.agg.distinct;
        c->nargs = a->u.agg.nargs;
        c->args = pcalloc(pc, c->nargs * sizeof(lh_cexpr *));
        if (c->args == NULL) {
            return LH_ENOMEM;
        }
        for (uint32_t k = 0; k < c->nargs; k++) {
            lh_rc rc = lh__compile(pc, sc, a->u.agg.args[k], &c->args[k]);
            if (rc != LH_OK) {
                return rc;
            }
        }
        lh_rc rc = compile_opt(pc, sc, a->u.agg.filter, &c->filter);
        if (rc != LH_OK) {
            return rc;
        }
        if (a->u.agg.norder) {
            c->norder = a->u.agg.norder;
            c->order = pcalloc(pc, c->norder * sizeof(lh_cexpr *));
            c->order_desc = pcalloc(pc, c->norder * sizeof(bool));
            c->order_nulls_first = pcalloc(pc, c->norder * sizeof(bool));
            if (c->order == NULL || c->order_desc == NULL ||
                c->order_nulls_first == NULL) {
                return LH_ENOMEM;
            }
            for (uint32_t k = 0; k < c->norder; k++) {
                rc = lh__compile(pc, sc, a->u.agg.order[k].expr, &c->order[k]);
                if (rc != LH_OK) {
                    return rc;
                }
                c->order_desc[k] = a->u.agg.order[k].desc;
                c->order_nulls_first[k] = a->u.agg.order[k].nulls_first;
            }
        }
        c->offset = off;
        off += (c->impl->state_size + 15) & ~15u;
    }
    cfg->state_size = off;
    cfg->sets = p->u.agg.sets;
    cfg->nsets = p->u.agg.nsets;
    n->cfg = cfg;
    return LH_OK;
}

static lh_rc
build_order(lh_pctx *pc, const lh_order_key *keys, uint32_t nkeys,
            const lh_cscope *sc, lh_sort_cfg *cfg)
{
    cfg->nkeys = nkeys;
    cfg->keys = pcalloc(pc, nkeys * sizeof(lh_cexpr *));
    cfg->desc = pcalloc(pc, nkeys * sizeof(bool));
    cfg->nulls_first = pcalloc(pc, nkeys * sizeof(bool));
    if (!cfg->keys || !cfg->desc || !cfg->nulls_first) {
        return LH_ENOMEM;
    }
    for (uint32_t i = 0; i < nkeys; i++) {
        lh_rc rc = lh__compile(pc, sc, keys[i].expr, &cfg->keys[i]);
        if (rc != LH_OK) {
            return rc;
        }
        cfg->desc[i] = keys[i].desc;
        cfg->nulls_first[i] = keys[i].nulls_first;
    }
    cfg->limit = -1;
    return LH_OK;
}

/* min(c), max(c), count(c) and count(*) of a whole table, without a
 * filter, from its source's exact bounds (Parquet statistics): a VALUES
 * node of one row instead of a scan. False (nothing made) when the plan
 * is not of that shape or the source does not know. */
static bool
stats_aggregate(lh_pctx *pc, const lh_plan *p, lh_pnode **out)
{
    if (p->kind != LH_PLAN_AGGREGATE || p->u.agg.ngroups || p->u.agg.sets ||
        p->u.agg.naggs == 0 || p->ncols != p->u.agg.naggs) {
        return false;
    }
    const lh_plan *c = p->children[0];
    const lh_plan *proj = NULL;
    if (c->kind == LH_PLAN_PROJECT) {
        proj = c;
        c = c->children[0];
    }
    if (c->kind != LH_PLAN_SCAN || c->u.scan.filter || c->u.scan.npreds ||
        c->u.scan.has_time || c->u.scan.travel || c->u.scan.table == NULL) {
        return false;
    }
    const lh_source *src = c->u.scan.table->source;
    if (src == NULL || src->vt->bounds == NULL) {
        return false;
    }
    lh_bexpr **consts = pcalloc(pc, p->ncols * sizeof(lh_bexpr *));
    if (consts == NULL) {
        return false;
    }
    for (uint32_t i = 0; i < p->u.agg.naggs; i++) {
        const lh_bexpr *a = p->u.agg.aggs[i];
        if (a->kind != LH_BX_AGG || a->u.agg.filter || a->u.agg.norder) {
            return false;
        }
        const char *fn = a->u.agg.fn->name;
        bool star = strcmp(fn, "count_star") == 0;
        bool is_min = strcmp(fn, "min") == 0, is_max = strcmp(fn, "max") == 0;
        bool is_count = strcmp(fn, "count") == 0 && !a->u.agg.distinct;
        if (!star && !is_min && !is_max && !is_count) {
            return false;
        }
        uint32_t col = UINT32_MAX;
        if (!star) {
            if (a->u.agg.nargs != 1 || a->u.agg.args[0]->kind != LH_BX_COL) {
                return false;
            }
            uint32_t id = a->u.agg.args[0]->u.col;
            if (proj) {
                /* through a projection of plain columns */
                bool found = false;
                for (uint32_t k = 0; k < proj->ncols && !found; k++) {
                    if (proj->cols[k] == id) {
                        const lh_bexpr *x = proj->u.project.exprs[k];
                        if (x->kind != LH_BX_COL) {
                            return false;
                        }
                        id = x->u.col;
                        found = true;
                    }
                }
                if (!found) {
                    return false;
                }
            }
            for (uint32_t k = 0; k < c->ncols; k++) {
                if (c->cols[k] == id) {
                    col = c->u.scan.table_cols[k];
                }
            }
            if (col == UINT32_MAX) {
                return false;
            }
        }
        uint64_t rows;
        int64_t nulls;
        lh_value mn, mx;
        bool has;
        if (!src->vt->bounds(src, col, &rows, &nulls, &mn, &mx, &has)) {
            return false;
        }
        lh_bexpr *k = pcalloc(pc, sizeof(lh_bexpr));
        if (k == NULL) {
            return false;
        }
        k->kind = LH_BX_CONST;
        k->type = a->type;
        k->pos = -1;
        if (star || is_count) {
            k->u.c.type = a->type;
            k->u.c.u.i = (int64_t)rows - (star ? 0 : nulls);
        } else if (!has) {
            k->u.c.type = a->type;
            k->u.c.is_null = true;
        } else {
            k->u.c = is_min ? mn : mx;
            if (!lh_type_equal(k->u.c.type, a->type)) {
                return false;
            }
        }
        consts[i] = k;
    }
    lh_pnode *n = pnode(pc, &lh__op_values, p, 0);
    lh_values_cfg *cfg = pcalloc(pc, sizeof(lh_values_cfg));
    if (n == NULL || cfg == NULL) {
        return false;
    }
    cfg->nrows = 1;
    cfg->rows = pcalloc(pc, sizeof(lh_cexpr **));
    if (cfg->rows == NULL ||
        (cfg->rows[0] = pcalloc(pc, p->ncols * sizeof(lh_cexpr *))) == NULL) {
        return false;
    }
    lh_cscope vs = {0};
    for (uint32_t i = 0; i < p->ncols; i++) {
        if (lh__compile(pc, &vs, consts[i], &cfg->rows[0][i]) != LH_OK) {
            return false;
        }
    }
    n->cfg = cfg;
    *out = n;
    return true;
}

typedef struct knn_cols {
    const lh_plan *scan;
    bool *cols;
} knn_cols;

static lh_rc
mark_cols(lh_bexpr **slot, void *ud)
{
    knn_cols *kc = ud;
    const lh_bexpr *e = *slot;
    const lh_plan *p = kc->scan;
    for (uint32_t i = 0; i < p->ncols; i++) {
        /* a subquery's correlation may read any column: all, to be safe */
        kc->cols[i] = kc->cols[i] || e->kind == LH_BX_SUBQUERY ||
                      (e->kind == LH_BX_COL && p->cols[i] == e->u.col);
    }
    return lh_sql_expr_children(*slot, mark_cols, ud);
}

/* A nearest-neighbour scan: which of its columns the filter reads (the
 * source evaluates the filter over those only). */
static lh_rc
knn_cfg(lh_pctx *pc, const lh_plan *p, lh_scan_cfg *cfg)
{
    cfg->knn = p->u.scan.knn;
    cfg->filter_cols = pcalloc(pc, (p->ncols + 1) * sizeof(bool));
    if (cfg->filter_cols == NULL) {
        return LH_ENOMEM;
    }
    knn_cols kc = {p, cfg->filter_cols};
    lh_bexpr *f = p->u.scan.filter;
    return f ? mark_cols(&f, &kc) : LH_OK;
}

/* A top-N whose first key is a plain column of a scan below it (through
 * filters and projections of columns) gets a bound that the scan shares
 * (exec.h, lh_dyn_bound): the scan then skips what cannot beat the N
 * rows kept so far. Fixed-width keys that sort NULLs last only (a NULL
 * that sorts first would beat any bound). */
static lh_rc
link_bound(lh_pctx *pc, lh_pnode *sort)
{
    lh_sort_cfg *cfg = sort->cfg;
    if (cfg->nkeys == 0 || cfg->nulls_first[0] ||
        cfg->keys[0]->kind != LH_CX_INPUT) {
        return LH_OK;
    }
    uint32_t c = cfg->keys[0]->col;
    lh_pnode *n = sort->children[0];
    while (n->vt == &lh__op_filter || n->vt == &lh__op_project) {
        if (n->vt == &lh__op_project) {
            const lh_project_cfg *pj = n->cfg;
            if (c >= pj->n || pj->exprs[c]->kind != LH_CX_INPUT) {
                return LH_OK;
            }
            c = pj->exprs[c]->col;
        }
        n = n->children[0];
    }
    if (n->vt != &lh__op_scan || c >= n->ncols) {
        return LH_OK;
    }
    switch (n->types[c].id) {
    case LH_T_SMALLINT:
    case LH_T_INTEGER:
    case LH_T_BIGINT:
    case LH_T_DOUBLE:
    case LH_T_DATE:
    case LH_T_TIMESTAMP:
    case LH_T_TIMESTAMPTZ:
        break;
    default:
        return LH_OK;
    }
    lh_scan_cfg *scan = n->cfg;
    lh_dyn_bound *b = pcalloc(pc, sizeof(lh_dyn_bound));
    if (b == NULL) {
        return LH_ENOMEM;
    }
    b->col = scan->req.cols[c];
    b->op = cfg->desc[0] ? LH_OP_GE : LH_OP_LE;
    /* The mutex lives as long as the plan's arena, which frees memory
     * without destructors: a default mutex holds no resources. */
    pthread_mutex_init(&b->mu, NULL);
    scan->req.bound = b;
    cfg->bound = b;
    return LH_OK;
}

bool
lh_dyn_bound_get(lh_dyn_bound *b, lh_value *out)
{
    pthread_mutex_lock(&b->mu);
    bool set = b->set;
    if (set) {
        *out = b->value;
    }
    pthread_mutex_unlock(&b->mu);
    return set;
}

lh_rc
lh__physical(lh_pctx *pc, const lh_plan *p, const uint32_t *outer,
             uint32_t nouter, lh_pnode **out)
{
    lh_pnode *kids[2] = {NULL, NULL};
    lh_rc rc;
    if (stats_aggregate(pc, p, out)) {
        return LH_OK;
    }
    bool recursive = p->kind == LH_PLAN_RECURSIVE;
    if (!recursive) {
        for (uint32_t i = 0; i < p->nchildren && i < 2; i++) {
            rc = lh__physical(pc, p->children[i], outer, nouter, &kids[i]);
            if (rc != LH_OK) {
                return rc;
            }
        }
    }
    lh_cscope sc = scope_of(kids[0], outer, nouter);
    lh_pnode *n = NULL;
    switch ((lh_plan_kind)p->kind) {
    case LH_PLAN_SCAN: {
        n = pnode(pc, &lh__op_scan, p, 0);
        lh_scan_cfg *cfg = pcalloc(pc, sizeof(lh_scan_cfg));
        if (n == NULL || cfg == NULL) {
            return LH_ENOMEM;
        }
        const lh_sql_table *t = p->u.scan.table;
        cfg->src = t->source;
        if (cfg->src == NULL) {
            return lh_err_set(pc->err, LH_EINTERNAL,
                              "table \"%s\" has no source", t->name);
        }
        cfg->req.cols = p->u.scan.table_cols;
        cfg->req.ncols = p->ncols;
        cfg->req.preds = p->u.scan.preds;
        cfg->req.npreds = p->u.scan.npreds;
        cfg->req.has_time = p->u.scan.has_time;
        cfg->req.ts_lo = p->u.scan.ts_lo;
        cfg->req.ts_hi = p->u.scan.ts_hi;
        cfg->req.travel = p->u.scan.travel;
        if (p->u.scan.travel_expr) {
            const lh_bexpr *te = p->u.scan.travel_expr;
            if (te->kind != LH_BX_CONST) {
                return lh_err_set(pc->err, LH_EINVAL,
                                  "the time travel point must be a "
                                  "constant");
            }
            cfg->req.travel_value = te->u.c;
        }
        lh_cscope ss = {
            .ids = p->cols, .nids = p->ncols, .outer = outer, .nouter = nouter};
        rc = compile_opt(pc, &ss, p->u.scan.filter, &cfg->filter);
        if (rc != LH_OK) {
            return rc;
        }
        n->cfg = cfg;
        n->parallel = cfg->src->vt->share != NULL;
        if (p->u.scan.knn && p->u.scan.knn->index && cfg->src->vt->knn) {
            /* one search for the whole query: not split into morsels */
            rc = knn_cfg(pc, p, cfg);
            if (rc != LH_OK) {
                return rc;
            }
            n->parallel = false;
        }
        break;
    }
    case LH_PLAN_VALUES: {
        n = pnode(pc, &lh__op_values, p, 0);
        lh_values_cfg *cfg = pcalloc(pc, sizeof(lh_values_cfg));
        if (n == NULL || cfg == NULL) {
            return LH_ENOMEM;
        }
        cfg->nrows = p->u.values.nrows;
        cfg->rows = pcalloc(pc, cfg->nrows * sizeof(lh_cexpr **));
        if (cfg->rows == NULL) {
            return LH_ENOMEM;
        }
        lh_cscope vs = {.outer = outer, .nouter = nouter};
        for (uint32_t r = 0; r < cfg->nrows; r++) {
            cfg->rows[r] = pcalloc(pc, p->ncols * sizeof(lh_cexpr *));
            if (cfg->rows[r] == NULL) {
                return LH_ENOMEM;
            }
            for (uint32_t c = 0; c < p->ncols; c++) {
                rc = lh__compile(pc, &vs, p->u.values.rows[r][c],
                                 &cfg->rows[r][c]);
                if (rc != LH_OK) {
                    return rc;
                }
            }
        }
        n->cfg = cfg;
        break;
    }
    case LH_PLAN_FILTER: {
        n = pnode(pc, &lh__op_filter, p, 1);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        lh_cexpr *pred;
        rc = lh__compile(pc, &sc, p->u.filter.pred, &pred);
        if (rc != LH_OK) {
            return rc;
        }
        n->cfg = pred;
        n->parallel = kids[0]->parallel;
        break;
    }
    case LH_PLAN_PROJECT: {
        n = pnode(pc, &lh__op_project, p, 1);
        lh_project_cfg *cfg = pcalloc(pc, sizeof(lh_project_cfg));
        if (n == NULL || cfg == NULL) {
            return LH_ENOMEM;
        }
        cfg->n = p->ncols;
        cfg->exprs = pcalloc(pc, p->ncols * sizeof(lh_cexpr *));
        if (cfg->exprs == NULL) {
            return LH_ENOMEM;
        }
        for (uint32_t i = 0; i < p->ncols; i++) {
            rc = lh__compile(pc, &sc, p->u.project.exprs[i], &cfg->exprs[i]);
            if (rc != LH_OK) {
                return rc;
            }
        }
        n->cfg = cfg;
        n->parallel = kids[0]->parallel;
        break;
    }
    case LH_PLAN_AGGREGATE:
        n = pnode(pc, &lh__op_agg, p, 1);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        rc = build_agg(pc, p, n, &sc);
        if (rc != LH_OK) {
            return rc;
        }
        break;
    case LH_PLAN_JOIN: {
        n = pnode(pc, &lh__op_join, p, 2);
        lh_join_cfg *cfg = pcalloc(pc, sizeof(lh_join_cfg));
        if (n == NULL || cfg == NULL) {
            return LH_ENOMEM;
        }
        cfg->kind = p->u.join.kind;
        if (cfg->kind == LH_JOIN_MARK || cfg->kind == LH_JOIN_SINGLE) {
            return lh_err_set(pc->err, LH_EUNSUPPORTED,
                              "unsupported: mark and single joins");
        }
        lh_cscope ls = scope_of(kids[0], outer, nouter);
        lh_cscope rs = scope_of(kids[1], outer, nouter);
        cfg->nkeys = p->u.join.nkeys;
        cfg->lkeys = pcalloc(pc, cfg->nkeys * sizeof(lh_cexpr *));
        cfg->rkeys = pcalloc(pc, cfg->nkeys * sizeof(lh_cexpr *));
        if (cfg->lkeys == NULL || cfg->rkeys == NULL) {
            return LH_ENOMEM;
        }
        for (uint32_t i = 0; i < cfg->nkeys; i++) {
            rc = lh__compile(pc, &ls, p->u.join.lkeys[i], &cfg->lkeys[i]);
            if (rc == LH_OK) {
                rc = lh__compile(pc, &rs, p->u.join.rkeys[i], &cfg->rkeys[i]);
            }
            if (rc != LH_OK) {
                return rc;
            }
        }
        /* the residual condition sees left then right columns */
        uint32_t nl = kids[0]->ncols, nr = kids[1]->ncols;
        uint32_t *both = pcalloc(pc, (nl + nr) * sizeof(uint32_t));
        if (both == NULL) {
            return LH_ENOMEM;
        }
        memcpy(both, kids[0]->ids, nl * sizeof(uint32_t));
        memcpy(both + nl, kids[1]->ids, nr * sizeof(uint32_t));
        lh_cscope bs = {
            .ids = both, .nids = nl + nr, .outer = outer, .nouter = nouter};
        rc = compile_opt(pc, &bs, p->u.join.cond, &cfg->cond);
        if (rc != LH_OK) {
            return rc;
        }
        cfg->nleft = nl;
        cfg->nright = nr;
        n->cfg = cfg;
        /* the probe side streams through: a pipeline continues */
        n->parallel = kids[0]->parallel && cfg->kind != LH_JOIN_RIGHT &&
                      cfg->kind != LH_JOIN_FULL;
        break;
    }
    case LH_PLAN_SORT: {
        n = pnode(pc, &lh__op_sort, p, 1);
        lh_sort_cfg *cfg = pcalloc(pc, sizeof(lh_sort_cfg));
        if (n == NULL || cfg == NULL) {
            return LH_ENOMEM;
        }
        rc = build_order(pc, p->u.sort.keys, p->u.sort.nkeys, &sc, cfg);
        if (rc != LH_OK) {
            return rc;
        }
        n->cfg = cfg;
        break;
    }
    case LH_PLAN_LIMIT: {
        n = pnode(pc, &lh__op_limit, p, 1);
        lh_limit_cfg *cfg = pcalloc(pc, sizeof(lh_limit_cfg));
        if (n == NULL || cfg == NULL) {
            return LH_ENOMEM;
        }
        lh_cscope empty = {.outer = outer, .nouter = nouter};
        rc = compile_opt(pc, &empty, p->u.limit.limit, &cfg->limit);
        if (rc == LH_OK) {
            rc = compile_opt(pc, &empty, p->u.limit.offset, &cfg->offset);
        }
        if (rc != LH_OK) {
            return rc;
        }
        cfg->percent = p->u.limit.percent;
        n->cfg = cfg;
        /* top-N: a sort below keeps only what the limit can return */
        if (kids[0]->vt == &lh__op_sort && !cfg->percent &&
            (cfg->limit == NULL || cfg->limit->kind == LH_CX_CONST) &&
            (cfg->offset == NULL || cfg->offset->kind == LH_CX_CONST)) {
            int64_t lim = cfg->limit && !cfg->limit->konst.is_null
                              ? cfg->limit->konst.u.i
                              : -1;
            int64_t off = cfg->offset && !cfg->offset->konst.is_null
                              ? cfg->offset->konst.u.i
                              : 0;
            if (lim >= 0 && off >= 0 && lim < INT64_MAX - off) {
                ((lh_sort_cfg *)kids[0]->cfg)->limit = lim + off;
                rc = link_bound(pc, kids[0]);
                if (rc != LH_OK) {
                    return rc;
                }
            }
        }
        break;
    }
    case LH_PLAN_DISTINCT: {
        n = pnode(pc, &lh__op_distinct, p, 1);
        lh_distinct_cfg *cfg = pcalloc(pc, sizeof(lh_distinct_cfg));
        if (n == NULL || cfg == NULL) {
            return LH_ENOMEM;
        }
        cfg->non = p->u.distinct.non;
        cfg->on = pcalloc(pc, cfg->non * sizeof(lh_cexpr *));
        if (cfg->on == NULL) {
            return LH_ENOMEM;
        }
        for (uint32_t i = 0; i < cfg->non; i++) {
            rc = lh__compile(pc, &sc, p->u.distinct.on[i], &cfg->on[i]);
            if (rc != LH_OK) {
                return rc;
            }
        }
        n->cfg = cfg;
        break;
    }
    case LH_PLAN_SETOP: {
        n = pnode(pc, &lh__op_setop, p, 2);
        lh_setop_cfg *cfg = pcalloc(pc, sizeof(lh_setop_cfg));
        if (n == NULL || cfg == NULL) {
            return LH_ENOMEM;
        }
        cfg->op = p->u.setop.op;
        cfg->all = p->u.setop.all;
        n->cfg = cfg;
        break;
    }
    case LH_PLAN_WINDOW:
        n = pnode(pc, &lh__op_window, p, 1);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        rc = lh__window_build(pc, p, &sc, n);
        if (rc != LH_OK) {
            return rc;
        }
        break;
    case LH_PLAN_RECURSIVE:
        return lh__recursive_build(pc, p, outer, nouter, out);
    case LH_PLAN_CTE_SCAN:
        n = pnode(pc, &lh__op_cte_scan, p, 0);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        rc = lh__cte_scan_build(pc, p, n);
        if (rc != LH_OK) {
            return rc;
        }
        break;
    default:
        return lh_err_set(pc->err, LH_EINTERNAL,
                          "plan node %d is not an operator", p->kind);
    }
    for (uint32_t i = 0; i < n->nchildren; i++) {
        n->children[i] = kids[i];
    }
    n->outer = outer;
    n->nouter = nouter;
    *out = n;
    return LH_OK;
}

/* ---- operator instances
 * ---------------------------------------------------------- */

lh_rc
lh__op_make(lh_exec *ex, const lh_pnode *n, const lh_value *outer, void *shared,
            uint32_t worker, lh_xop **out, lh_err *err)
{
    lh_xop *op = lh_calloc(1, sizeof(lh_xop));
    if (op == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory starting the query");
    }
    op->node = n;
    op->ex = ex;
    op->shared = shared;
    op->worker = worker;
    lh_arena_init(&op->arena, 0);
    lh_arena_init(&op->batch, 0);
    op->ec.ex = ex;
    op->ec.arena = &op->batch;
    op->ec.outer = outer;
    op->ec.err = err;
    op->ec.memo_arena = &op->arena;
    op->nchildren = n->nchildren;
    if (n->nchildren) {
        op->children = lh_calloc(n->nchildren, sizeof(lh_xop *));
        if (op->children == NULL) {
            lh_free(op);
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    for (uint32_t i = 0; i < n->nchildren; i++) {
        if (n->vt->pipelines & (1u << i)) {
            continue; /* the operator makes these per worker */
        }
        lh_rc rc = lh__op_make(ex, n->children[i], outer, shared, worker,
                               &op->children[i], err);
        if (rc != LH_OK) {
            lh__op_free(op);
            return rc;
        }
    }
    *out = op;
    return LH_OK;
}

lh_rc
lh__op_open(lh_xop *op, lh_err *err)
{
    op->ec.err = err;
    for (uint32_t i = 0; i < op->nchildren; i++) {
        if (op->children[i]) {
            lh_rc rc = lh__op_open(op->children[i], err);
            if (rc != LH_OK) {
                return rc;
            }
        }
    }
    return op->node->vt->open ? op->node->vt->open(op, err) : LH_OK;
}

static uint64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

lh_rc
lh__op_next(lh_xop *op, lh_batch **out, lh_err *err)
{
    lh_rc rc = lh__exec_check_cancel(op->ex, err);
    if (rc != LH_OK) {
        return rc;
    }
    op->ec.err = err;
    uint64_t t0 = op->ex->analyze ? mono_ns() : 0;
    rc = op->node->vt->next(op, out, err);
    if (op->ex->analyze) {
        op->stats.ns += mono_ns() - t0;
    }
    if (rc == LH_OK && *out) {
        op->stats.batches++;
        op->stats.rows += (*out)->sel ? (*out)->nsel : (*out)->count;
    }
    return rc;
}

void
lh__op_free(lh_xop *op)
{
    if (op == NULL) {
        return;
    }
    if (op->node->vt->close) {
        op->node->vt->close(op);
    }
    for (uint32_t i = 0; i < op->nchildren; i++) {
        lh__op_free(op->children[i]);
    }
    lh_free(op->children);
    extern void lh__submemo_free(struct submemo * m);
    lh__submemo_free(op->ec.memo);
    lh__exec_charge(op->ex, -op->charged, NULL);
    lh_arena_release(&op->arena);
    lh_arena_release(&op->batch);
    lh_free(op);
}

void *
lh__op_alloc(lh_xop *op, size_t n)
{
    size_t before = op->arena.held;
    void *p = lh_arena_alloc(&op->arena, n);
    if (p == NULL) {
        return NULL;
    }
    int64_t delta = (int64_t)(op->arena.held - before);
    if (delta) {
        op->charged += delta;
        if (lh__exec_charge(op->ex, delta, NULL) != LH_OK) {
            return NULL;
        }
    }
    return p;
}

void *
lh__op_calloc(lh_xop *op, size_t n)
{
    void *p = lh__op_alloc(op, n);
    if (p) {
        memset(p, 0, n);
    }
    return p;
}

lh_rc
lh__op_nomem(lh_xop *op, lh_err *err)
{
    if (op->ex->mem.budget &&
        atomic_load(&op->ex->mem.used) > op->ex->mem.budget) {
        return lh_err_set(err, LH_ENOMEM,
                          "query memory limit of %lld bytes exceeded "
                          "(%s)",
                          (long long)op->ex->mem.budget, op->node->vt->name);
    }
    return lh_err_set(err, LH_ENOMEM, "out of memory (%s)", op->node->vt->name);
}

void
lh__op_reset_batch(lh_xop *op)
{
    lh_arena_reset(&op->batch);
}

/* ---- pipelines
 * --------------------------------------------------------------------- */

/* The scan a pipeline starts at (through filters, projections and join
 * probe sides). */
static const lh_pnode *
pipeline_source(const lh_pnode *n)
{
    while (n->vt != &lh__op_scan) {
        if (n->nchildren == 0) {
            return NULL;
        }
        n = n->children[0];
    }
    return n;
}

uint32_t
lh__pipeline_workers(const lh_xop *owner, const lh_pnode *n)
{
    int t = owner->ex->threads;
    if (!n->parallel || t <= 1) {
        return 1;
    }
    /* small inputs are not worth a thread */
    const lh_pnode *src = pipeline_source(n);
    if (src == NULL || src->plan->est_rows < 65536) {
        return 1;
    }
    return (uint32_t)(t > 64 ? 64 : t);
}

typedef struct worker {
    pthread_t th;
    lh_xop *op;
    uint32_t index;
    lh_sink_fn sink;
    void *ud;
    lh_rc rc;
    lh_err err;
} worker;

static lh_rc
drain(lh_xop *op, uint32_t index, lh_sink_fn sink, void *ud, lh_err *err)
{
    lh_rc rc = lh__op_open(op, err);
    while (rc == LH_OK) {
        lh_batch *b;
        rc = lh__op_next(op, &b, err);
        if (rc != LH_OK || b == NULL) {
            break;
        }
        rc = sink(ud, index, b, err);
    }
    return rc;
}

static void *
worker_main(void *arg)
{
    worker *w = arg;
    w->rc = drain(w->op, w->index, w->sink, w->ud, &w->err);
    if (w->rc != LH_OK) {
        atomic_store(&w->op->ex->abort_, true); /* the others stop */
    }
    return NULL;
}

lh_rc
lh__run_pipeline(lh_xop *owner, const lh_pnode *n, uint32_t nworkers,
                 lh_sink_fn sink, void *ud, lh_err *err)
{
    lh_exec *ex = owner->ex;
    if (nworkers <= 1) {
        lh_xop *op;
        lh_rc rc = lh__op_make(ex, n, owner->ec.outer, NULL, 0, &op, err);
        if (rc != LH_OK) {
            return rc;
        }
        rc = drain(op, 0, sink, ud, err);
        /* merge the subtree's stats into the owner's view: EXPLAIN
         * ANALYZE reads them from the pnode-level totals */
        lh__stats_absorb(op);
        lh__op_free(op);
        return rc;
    }
    const lh_pnode *src = pipeline_source(n);
    const lh_scan_cfg *sc = src ? src->cfg : NULL;
    void *shared = NULL;
    if (sc == NULL || sc->src->vt->share == NULL) {
        return lh__run_pipeline(owner, n, 1, sink, ud, err);
    }
    if (sc->src->vt->parallelism != NULL) {
        uint32_t units = sc->src->vt->parallelism(sc->src, &sc->req);
        if (units < nworkers) {
            return lh__run_pipeline(owner, n, units, sink, ud, err);
        }
    }
    lh_rc rc = sc->src->vt->share(sc->src, &sc->req, &shared, err);
    if (rc != LH_OK) {
        return rc;
    }
    worker *ws = lh_calloc(nworkers, sizeof(worker));
    if (ws == NULL) {
        sc->src->vt->free_shared(shared);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    uint32_t made = 0;
    for (; made < nworkers; made++) {
        worker *w = &ws[made];
        w->index = made;
        w->sink = sink;
        w->ud = ud;
        lh_err_clear(&w->err);
        rc = lh__op_make(ex, n, owner->ec.outer, shared, made, &w->op, err);
        if (rc != LH_OK) {
            break;
        }
    }
    uint32_t started = 0;
    if (rc == LH_OK) {
        for (; started < made; started++) {
            if (pthread_create(&ws[started].th, NULL, worker_main,
                               &ws[started]) != 0) {
                rc = lh_err_set(err, LH_ENOMEM,
                                "could not start a worker "
                                "thread");
                break;
            }
        }
    }
    for (uint32_t i = 0; i < started; i++) {
        pthread_join(ws[i].th, NULL);
        if (rc == LH_OK && ws[i].rc != LH_OK) {
            rc = ws[i].rc;
            if (err) {
                *err = ws[i].err;
            }
        }
    }
    for (uint32_t i = 0; i < made; i++) {
        lh__stats_absorb(ws[i].op);
        lh__op_free(ws[i].op);
    }
    lh_free(ws);
    sc->src->vt->free_shared(shared);
    return rc;
}
