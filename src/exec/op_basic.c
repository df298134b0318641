/*
 * The streaming operators: scan (a table source, with its pushed filter),
 * VALUES, filter, project and limit. None keeps rows: each returns a
 * batch over its input's vectors, narrowing the selection or adding
 * computed columns.
 */
#include <string.h>

#include "exec/exec_int.h"

/* ---- scan
 * -------------------------------------------------------------------- */

typedef struct scan_state {
    lh_source_scan *s;
    lh_batch in, out;
    bool done;
    bool knn;      /* the rows are the source's nearest-neighbour answer */
    bool knn_sent; /* ... already returned */
} scan_state;

/* The scan's filter for the source's nearest-neighbour search: pass[i]
 * for the rows of b it keeps. */
static lh_rc
knn_filter(void *ud, const lh_batch *b, uint8_t *pass, lh_err *err)
{
    lh_xop *op = ud;
    const lh_scan_cfg *cfg = op->node->cfg;
    lh__op_reset_batch(op);
    op->ec.err = err;
    uint32_t *sel, k;
    lh_rc rc =
        lh__eval_filter(&op->ec, cfg->filter, b, NULL, b->count, &sel, &k);
    if (rc != LH_OK) {
        return rc;
    }
    memset(pass, 0, b->count);
    for (uint32_t i = 0; i < k; i++) {
        pass[sel[i]] = 1;
    }
    return LH_OK;
}

/* ORDER BY distance LIMIT k: the source's index picks the rows (one
 * batch, in the operator's arena). LH_EUNSUPPORTED: scan instead. */
static lh_rc
knn_open(lh_xop *op, scan_state *st, lh_err *err)
{
    const lh_scan_cfg *cfg = op->node->cfg;
    const lh_plan_knn *kn = cfg->knn;
    lh_knn_request kr = {
        .col = kn->col,
        .metric = kn->metric,
        .q = kn->query->u.vec.v,
        .dim = kn->query->u.vec.n,
        .k = kn->k,
        .ef = kn->ef,
        .nprobe = kn->nprobe,
        .refine = kn->refine,
        .filter = cfg->filter ? knn_filter : NULL,
        .filter_ud = op,
        .filter_cols = cfg->filter_cols,
    };
    lh_knn_stats ks = {0};
    lh_rc rc = cfg->src->vt->knn(cfg->src, &cfg->req, &kr, &op->arena, &st->in,
                                 &ks, err);
    if (rc == LH_OK) {
        st->knn = true;
        op->scan_stats.knn = ks;
        op->scan_stats.rows = st->in.count;
    }
    return rc;
}

static lh_rc
scan_open(lh_xop *op, lh_err *err)
{
    const lh_scan_cfg *cfg = op->node->cfg;
    scan_state *st = lh__op_calloc(op, sizeof(scan_state));
    if (st == NULL) {
        return lh__op_nomem(op, err);
    }
    op->state = st;
    if (cfg->knn) {
        lh_rc rc = knn_open(op, st, err);
        if (rc != LH_EUNSUPPORTED) {
            return rc;
        }
    }
    return cfg->src->vt->open(cfg->src, &cfg->req, op->shared, &st->s, err);
}

/* The source's next batch (a nearest-neighbour scan's one batch, then
 * the end). */
static lh_rc
scan_fetch(const lh_scan_cfg *cfg, scan_state *st, lh_err *err)
{
    if (!st->knn) {
        return cfg->src->vt->next(st->s, &st->in, err);
    }
    if (st->knn_sent) {
        st->in.count = 0;
    }
    st->knn_sent = true;
    return LH_OK;
}

static void scan_close(lh_xop *op);

static lh_rc
scan_next(lh_xop *op, lh_batch **out, lh_err *err)
{
    const lh_scan_cfg *cfg = op->node->cfg;
    scan_state *st = op->state;
    *out = NULL;
    if (st->done) {
        return LH_OK;
    }
    for (;;) {
        lh__op_reset_batch(op);
        lh_rc rc = lh__exec_check_cancel(op->ex, err);
        if (rc != LH_OK) {
            return rc;
        }
        rc = scan_fetch(cfg, st, err);
        if (rc != LH_OK) {
            return rc;
        }
        if (st->in.count == 0) {
            /* done: the source's counters now (EXPLAIN ANALYZE reads them
             * before the operator is freed) and its memory back */
            st->done = true;
            scan_close(op);
            return LH_OK;
        }
        st->out = st->in;
        if (cfg->filter) {
            uint32_t n = st->in.sel ? st->in.nsel : st->in.count;
            uint32_t *sel;
            uint32_t k;
            rc = lh__eval_filter(&op->ec, cfg->filter, &st->in, st->in.sel, n,
                                 &sel, &k);
            if (rc != LH_OK) {
                return rc;
            }
            if (k == 0) {
                continue;
            }
            if (k < st->in.count) {
                st->out.sel = sel;
                st->out.nsel = k;
            }
        }
        *out = &st->out;
        return LH_OK;
    }
}

static void
scan_close(lh_xop *op)
{
    const lh_scan_cfg *cfg = op->node->cfg;
    scan_state *st = op->state;
    if (st && st->s) {
        if (cfg->src->vt->stats) {
            cfg->src->vt->stats(st->s, &op->scan_stats);
        }
        cfg->src->vt->close(st->s);
        st->s = NULL;
    }
}

static void
scan_explain(const lh_pnode *n, const lh_xop *op, lh_buf *out)
{
    (void)op;
    const lh_scan_cfg *cfg = n->cfg;
    const lh_plan *p = n->plan;
    lh_buf_printf(out, " %s", p->u.scan.table->name);
    if (p->u.scan.alias && strcmp(p->u.scan.alias, p->u.scan.table->name)) {
        lh_buf_printf(out, " AS %s", p->u.scan.alias);
    }
    if (cfg->src->vt->explain) {
        lh_buf_puts(out, " (");
        cfg->src->vt->explain(cfg->src, &cfg->req, out);
        lh_buf_puts(out, ")");
    } else if (cfg->src->vt->describe) {
        lh_buf_puts(out, " (");
        cfg->src->vt->describe(cfg->src, out);
        lh_buf_puts(out, ")");
    }
    lh_buf_printf(out, " columns: %u", p->ncols);
    if (p->u.scan.npreds) {
        lh_buf_printf(out, ", pruning predicates: %u", p->u.scan.npreds);
    }
    if (p->u.scan.has_time) {
        char a[40], b[40];
        lh_time_format_iso(p->u.scan.ts_lo == INT64_MIN ? 0 : p->u.scan.ts_lo,
                           a);
        lh_time_format_iso(p->u.scan.ts_hi == INT64_MAX ? 0 : p->u.scan.ts_hi,
                           b);
        lh_buf_printf(out, ", ts range: [%s, %s]",
                      p->u.scan.ts_lo == INT64_MIN ? "-inf" : a,
                      p->u.scan.ts_hi == INT64_MAX ? "+inf" : b);
    }
    if (p->u.scan.filter) {
        lh_buf_puts(out, ", filter: ");
        lh_sql_expr_text(p->u.scan.filter, NULL, out);
    }
    const lh_plan_knn *kn = p->u.scan.knn;
    static const char *const metrics[] = {"l2", "ip", "cosine"};
    if (kn && cfg->knn) {
        lh_buf_printf(out, ", knn: hnsw index (%s) k=%u ef=%u%s",
                      metrics[kn->metric % 3], kn->k, kn->ef,
                      p->u.scan.filter ? ", filtered" : "");
        if (kn->nprobe || kn->refine) {
            /* the lake's warm index, when the table has one (SET) */
            lh_buf_printf(out, ", lake ivfpq nprobe=%u refine=%u", kn->nprobe,
                          kn->refine);
        }
    } else if (kn) {
        lh_buf_printf(out, ", knn: exact scan (%s)",
                      kn->why ? kn->why : "the source offers no index search");
    }
}

const lh_op_vt lh__op_scan = {
    .name = "Scan",
    .open = scan_open,
    .next = scan_next,
    .close = scan_close,
    .explain = scan_explain,
};

/* ---- VALUES
 * -------------------------------------------------------------------- */

typedef struct values_state {
    uint32_t row; /* next row to produce */
    lh_batch out;
} values_state;

static lh_rc
values_open(lh_xop *op, lh_err *err)
{
    values_state *st = lh__op_calloc(op, sizeof(values_state));
    if (st == NULL) {
        return lh__op_nomem(op, err);
    }
    op->state = st;
    return LH_OK;
}

static lh_rc
values_next(lh_xop *op, lh_batch **out, lh_err *err)
{
    const lh_values_cfg *cfg = op->node->cfg;
    values_state *st = op->state;
    *out = NULL;
    if (st->row >= cfg->nrows) {
        return LH_OK;
    }
    lh__op_reset_batch(op);
    uint32_t n = cfg->nrows - st->row;
    if (n > LH_BATCH_ROWS) {
        n = LH_BATCH_ROWS;
    }
    uint32_t ncols = op->node->ncols;
    lh_batch *b = &st->out;
    memset(b, 0, sizeof *b);
    b->count = n;
    b->ncols = ncols;
    b->cols =
        lh_arena_calloc(&op->batch, (ncols ? ncols : 1) * sizeof(lh_vector));
    if (b->cols == NULL) {
        return lh__op_nomem(op, err);
    }
    for (uint32_t c = 0; c < ncols; c++) {
        lh_rc rc = lh_vector_alloc(&b->cols[c], op->node->types[c], n, true,
                                   &op->batch, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    /* one row at a time: VALUES lists are short, their cells constants */
    lh_batch one = {.count = 1};
    for (uint32_t r = 0; r < n; r++) {
        lh_cexpr **row = cfg->rows[st->row + r];
        for (uint32_t c = 0; c < ncols; c++) {
            const lh_vector *v;
            lh_rc rc = lh__eval(&op->ec, row[c], &one, NULL, 1, &v);
            if (rc != LH_OK) {
                return rc;
            }
            rc = lh__vec_copy_row(&op->batch, &b->cols[c], r, v, 0, true, err);
            if (rc != LH_OK) {
                return rc;
            }
        }
    }
    st->row += n;
    *out = b;
    return LH_OK;
}

static void
values_explain(const lh_pnode *n, const lh_xop *op, lh_buf *out)
{
    (void)op;
    const lh_values_cfg *cfg = n->cfg;
    lh_buf_printf(out, " %u rows", cfg->nrows);
}

const lh_op_vt lh__op_values = {
    .name = "Values",
    .open = values_open,
    .next = values_next,
    .explain = values_explain,
};

/* ---- filter
 * ----------------------------------------------------------------------- */

typedef struct filter_state {
    lh_batch out;
} filter_state;

static lh_rc
filter_open(lh_xop *op, lh_err *err)
{
    op->state = lh__op_calloc(op, sizeof(filter_state));
    return op->state ? LH_OK : lh__op_nomem(op, err);
}

static lh_rc
filter_next(lh_xop *op, lh_batch **out, lh_err *err)
{
    const lh_cexpr *pred = op->node->cfg;
    filter_state *st = op->state;
    for (;;) {
        lh__op_reset_batch(op);
        lh_batch *in;
        lh_rc rc = lh__op_next(op->children[0], &in, err);
        if (rc != LH_OK || in == NULL) {
            *out = NULL;
            return rc;
        }
        uint32_t n = in->sel ? in->nsel : in->count;
        uint32_t *sel, k;
        rc = lh__eval_filter(&op->ec, pred, in, in->sel, n, &sel, &k);
        if (rc != LH_OK) {
            return rc;
        }
        if (k == 0) {
            continue;
        }
        st->out = *in;
        if (k < in->count) {
            st->out.sel = sel;
            st->out.nsel = k;
        }
        *out = &st->out;
        return LH_OK;
    }
}

static void
filter_explain(const lh_pnode *n, const lh_xop *op, lh_buf *out)
{
    (void)op;
    lh_buf_puts(out, " ");
    lh_sql_expr_text(n->plan->u.filter.pred, NULL, out);
}

const lh_op_vt lh__op_filter = {
    .name = "Filter",
    .open = filter_open,
    .next = filter_next,
    .explain = filter_explain,
};

/* ---- project
 * ----------------------------------------------------------------------- */

typedef struct project_state {
    lh_batch out;
} project_state;

static lh_rc
project_open(lh_xop *op, lh_err *err)
{
    op->state = lh__op_calloc(op, sizeof(project_state));
    return op->state ? LH_OK : lh__op_nomem(op, err);
}

static lh_rc
project_next(lh_xop *op, lh_batch **out, lh_err *err)
{
    const lh_project_cfg *cfg = op->node->cfg;
    project_state *st = op->state;
    lh__op_reset_batch(op);
    lh_batch *in;
    lh_rc rc = lh__op_next(op->children[0], &in, err);
    if (rc != LH_OK || in == NULL) {
        *out = NULL;
        return rc;
    }
    st->out.count = in->count;
    st->out.sel = in->sel;
    st->out.nsel = in->nsel;
    st->out.ncols = cfg->n;
    st->out.cols =
        lh_arena_alloc(&op->batch, (cfg->n ? cfg->n : 1) * sizeof(lh_vector));
    if (st->out.cols == NULL) {
        return lh__op_nomem(op, err);
    }
    uint32_t n = in->sel ? in->nsel : in->count;
    for (uint32_t i = 0; i < cfg->n; i++) {
        const lh_vector *v;
        rc = lh__eval(&op->ec, cfg->exprs[i], in, in->sel, n, &v);
        if (rc != LH_OK) {
            return rc;
        }
        st->out.cols[i] = *v;
        /* a constant may carry the NULL type's layout: give it ours */
        st->out.cols[i].type = op->node->types[i];
    }
    *out = &st->out;
    return LH_OK;
}

static void
project_explain(const lh_pnode *n, const lh_xop *op, lh_buf *out)
{
    (void)op;
    const lh_plan *p = n->plan;
    for (uint32_t i = 0; i < p->ncols; i++) {
        lh_buf_puts(out, i ? ", " : " ");
        lh_sql_expr_text(p->u.project.exprs[i], NULL, out);
    }
}

const lh_op_vt lh__op_project = {
    .name = "Project",
    .open = project_open,
    .next = project_next,
    .explain = project_explain,
};

/* ---- limit
 * ----------------------------------------------------------------------- */

typedef struct limit_state {
    int64_t skip, left; /* left < 0: no limit */
    lh_batch out;
} limit_state;

static lh_rc
const_count(lh_xop *op, const lh_cexpr *e, int64_t dflt, int64_t *out,
            lh_err *err)
{
    *out = dflt;
    if (e == NULL) {
        return LH_OK;
    }
    lh_batch one = {.count = 1};
    const lh_vector *v;
    lh_rc rc = lh__eval(&op->ec, e, &one, NULL, 1, &v);
    if (rc != LH_OK) {
        return rc;
    }
    if (!lh_vec_valid(v, 0)) {
        return LH_OK; /* LIMIT NULL: no limit */
    }
    lh_value val;
    lh__vec_get(v, 0, &val);
    if (val.u.i < 0) {
        return lh_err_set(err, LH_EINVAL, "%s must not be negative",
                          dflt < 0 ? "LIMIT" : "OFFSET");
    }
    *out = val.u.i;
    return LH_OK;
}

static lh_rc
limit_open(lh_xop *op, lh_err *err)
{
    const lh_limit_cfg *cfg = op->node->cfg;
    limit_state *st = lh__op_calloc(op, sizeof(limit_state));
    if (st == NULL) {
        return lh__op_nomem(op, err);
    }
    op->state = st;
    if (cfg->percent) {
        return lh_err_set(err, LH_EUNSUPPORTED, "unsupported: LIMIT ... %%");
    }
    lh_rc rc = const_count(op, cfg->limit, -1, &st->left, err);
    if (rc == LH_OK) {
        rc = const_count(op, cfg->offset, 0, &st->skip, err);
    }
    return rc;
}

static lh_rc
limit_next(lh_xop *op, lh_batch **out, lh_err *err)
{
    limit_state *st = op->state;
    *out = NULL;
    for (;;) {
        if (st->left == 0) {
            return LH_OK;
        }
        lh__op_reset_batch(op);
        lh_batch *in;
        lh_rc rc = lh__op_next(op->children[0], &in, err);
        if (rc != LH_OK || in == NULL) {
            return rc;
        }
        uint32_t n = in->sel ? in->nsel : in->count;
        uint32_t start = 0;
        if (st->skip > 0) {
            if ((int64_t)n <= st->skip) {
                st->skip -= n;
                continue;
            }
            start = (uint32_t)st->skip;
            st->skip = 0;
        }
        uint32_t take = n - start;
        if (st->left >= 0 && (int64_t)take > st->left) {
            take = (uint32_t)st->left;
        }
        if (st->left > 0) {
            st->left -= take;
        }
        st->out = *in;
        if (start != 0 || take != n) {
            uint32_t *sel = lh_arena_alloc(&op->batch, (take ? take : 1) *
                                                           sizeof(uint32_t));
            if (sel == NULL) {
                return lh__op_nomem(op, err);
            }
            for (uint32_t i = 0; i < take; i++) {
                sel[i] = lh_row(in->sel, start + i);
            }
            st->out.sel = sel;
            st->out.nsel = take;
        }
        *out = &st->out;
        return LH_OK;
    }
}

const lh_op_vt lh__op_limit = {
    .name = "Limit",
    .open = limit_open,
    .next = limit_next,
};
