/*
 * DISTINCT [ON] and the set operations, over the group table (NULLs are
 * equal here, as the standard says for DISTINCT and set operations).
 *
 * DISTINCT streams: a row goes out when its key makes a new group, so the
 * first row of each key passes in input order (after a sort, that is
 * DISTINCT ON's "first row"). UNION ALL streams both inputs; UNION is
 * DISTINCT over both. INTERSECT and EXCEPT [ALL] first count the right
 * input's rows per value, then stream the left input, letting a row out
 * by those counts.
 */
#include <string.h>

#include "exec/exec_int.h"

lh_rc lh__gtable_lookup(lh_gtable *g, const lh_vector *const *keys,
                        const uint32_t *sel, uint32_t n, uint32_t *gid,
                        lh_err *err);

typedef struct dist_state {
    lh_gtable *t;
    lh_batch out;
    uint32_t side; /* set operations: the child being read */
    bool right_done;
} dist_state;

typedef struct counts {
    int64_t l, r, emitted;
} counts;

static lh_rc
open_table(lh_xop *op, uint32_t nkeys, const lh_type *types, uint32_t state,
           dist_state **out, lh_err *err)
{
    dist_state *st = lh__op_calloc(op, sizeof(dist_state));
    if (st == NULL) {
        return lh__op_nomem(op, err);
    }
    op->state = st;
    *out = st;
    return lh__gtable_new(op->ex, types, nkeys, state, &st->t, err);
}

static void
dist_close(lh_xop *op)
{
    dist_state *st = op->state;
    if (st) {
        lh__gtable_free(st->t);
        st->t = NULL;
    }
}

/* The rows of `in` whose key tuple is new. */
static lh_rc
new_rows(lh_xop *op, dist_state *st, lh_batch *in, const lh_vector *const *keys,
         uint32_t **out, uint32_t *nout, lh_err *err)
{
    uint32_t n = in->sel ? in->nsel : in->count;
    uint32_t *gid = lh_arena_alloc(&op->batch, (n ? n : 1) * sizeof(uint32_t));
    uint32_t *res = lh_arena_alloc(&op->batch, (n ? n : 1) * sizeof(uint32_t));
    if (gid == NULL || res == NULL) {
        return lh__op_nomem(op, err);
    }
    uint32_t before = lh__gtable_count(st->t);
    lh_rc rc = lh__gtable_find(st->t, keys, in->count, in->sel, n, gid, err);
    if (rc != LH_OK) {
        return rc;
    }
    uint32_t k = 0, next = before;
    for (uint32_t i = 0; i < n; i++) {
        if (gid[i] == next) {
            res[k++] = lh_row(in->sel, i);
            next++;
        }
    }
    *out = res;
    *nout = k;
    return LH_OK;
}

/* ---- DISTINCT
 * ----------------------------------------------------------------- */

static lh_rc
distinct_open(lh_xop *op, lh_err *err)
{
    const lh_distinct_cfg *cfg = op->node->cfg;
    lh_type types[64];
    if (cfg->non > 64) {
        return lh_err_set(err, LH_ELIMIT, "DISTINCT over more than 64 columns");
    }
    for (uint32_t i = 0; i < cfg->non; i++) {
        types[i] = cfg->on[i]->type;
    }
    dist_state *st;
    return open_table(op, cfg->non, types, 0, &st, err);
}

static lh_rc
distinct_next(lh_xop *op, lh_batch **out, lh_err *err)
{
    const lh_distinct_cfg *cfg = op->node->cfg;
    dist_state *st = op->state;
    for (;;) {
        lh__op_reset_batch(op);
        lh_batch *in;
        lh_rc rc = lh__op_next(op->children[0], &in, err);
        if (rc != LH_OK || in == NULL) {
            *out = NULL;
            return rc;
        }
        uint32_t n = in->sel ? in->nsel : in->count;
        const lh_vector *keys[64];
        for (uint32_t i = 0; i < cfg->non; i++) {
            rc = lh__eval(&op->ec, cfg->on[i], in, in->sel, n, &keys[i]);
            if (rc != LH_OK) {
                return rc;
            }
        }
        uint32_t *rows, k;
        rc = new_rows(op, st, in, keys, &rows, &k, err);
        if (rc != LH_OK) {
            return rc;
        }
        if (k == 0) {
            continue;
        }
        st->out = *in;
        st->out.sel = rows;
        st->out.nsel = k;
        *out = &st->out;
        return LH_OK;
    }
}

const lh_op_vt lh__op_distinct = {
    .name = "Distinct",
    .open = distinct_open,
    .next = distinct_next,
    .close = dist_close,
};

/* ---- set operations
 * ------------------------------------------------------------ */

static lh_rc
setop_open(lh_xop *op, lh_err *err)
{
    const lh_setop_cfg *cfg = op->node->cfg;
    uint32_t n = op->node->ncols;
    if (n > 64) {
        return lh_err_set(err, LH_ELIMIT,
                          "set operations over more than 64 columns");
    }
    dist_state *st = NULL;
    bool counted = cfg->op != LH_SETOP_UNION;
    if (cfg->op == LH_SETOP_UNION && cfg->all) {
        st = lh__op_calloc(op, sizeof(dist_state));
        op->state = st;
        return st ? LH_OK : lh__op_nomem(op, err);
    }
    lh_rc rc = open_table(op, n, op->node->types, counted ? sizeof(counts) : 0,
                          &st, err);
    if (rc != LH_OK || !counted) {
        return rc;
    }
    /* count the right side's rows per value */
    for (;;) {
        lh__op_reset_batch(op);
        lh_batch *in;
        rc = lh__op_next(op->children[1], &in, err);
        if (rc != LH_OK || in == NULL) {
            return rc;
        }
        uint32_t m = in->sel ? in->nsel : in->count;
        const lh_vector *keys[64];
        for (uint32_t i = 0; i < n; i++) {
            keys[i] = &in->cols[i];
        }
        uint32_t *gid =
            lh_arena_alloc(&op->batch, (m ? m : 1) * sizeof(uint32_t));
        if (gid == NULL) {
            return lh__op_nomem(op, err);
        }
        rc = lh__gtable_find(st->t, keys, in->count, in->sel, m, gid, err);
        if (rc != LH_OK) {
            return rc;
        }
        for (uint32_t i = 0; i < m; i++) {
            ((counts *)lh__gtable_state(st->t, gid[i]))->r++;
        }
    }
}

static lh_rc
setop_next(lh_xop *op, lh_batch **out, lh_err *err)
{
    const lh_setop_cfg *cfg = op->node->cfg;
    dist_state *st = op->state;
    uint32_t ncols = op->node->ncols;
    for (;;) {
        uint32_t side = st->side;
        if (side > 1 || (side == 1 && cfg->op != LH_SETOP_UNION)) {
            *out = NULL;
            return LH_OK;
        }
        lh__op_reset_batch(op);
        lh_batch *in;
        lh_rc rc = lh__op_next(op->children[side], &in, err);
        if (rc != LH_OK) {
            return rc;
        }
        if (in == NULL) {
            st->side++;
            continue;
        }
        uint32_t n = in->sel ? in->nsel : in->count;
        if (cfg->op == LH_SETOP_UNION && cfg->all) {
            st->out = *in;
            st->out.ncols = ncols;
            *out = &st->out;
            return LH_OK;
        }
        const lh_vector *keys[64];
        for (uint32_t i = 0; i < ncols; i++) {
            keys[i] = &in->cols[i];
        }
        uint32_t *rows, k = 0;
        if (cfg->op == LH_SETOP_UNION) {
            rc = new_rows(op, st, in, keys, &rows, &k, err);
            if (rc != LH_OK) {
                return rc;
            }
        } else {
            uint32_t *gid =
                lh_arena_alloc(&op->batch, (n ? n : 1) * sizeof(uint32_t));
            rows = lh_arena_alloc(&op->batch, (n ? n : 1) * sizeof(uint32_t));
            if (gid == NULL || rows == NULL) {
                return lh__op_nomem(op, err);
            }
            rc = lh__gtable_find(st->t, keys, in->count, in->sel, n, gid, err);
            if (rc != LH_OK) {
                return rc;
            }
            for (uint32_t i = 0; i < n; i++) {
                counts *c = lh__gtable_state(st->t, gid[i]);
                c->l++;
                bool emit;
                if (cfg->op == LH_SETOP_INTERSECT) {
                    emit = cfg->all ? c->emitted < c->r
                                    : c->r > 0 && c->emitted == 0;
                } else {
                    emit =
                        cfg->all ? c->l > c->r : c->r == 0 && c->emitted == 0;
                }
                if (emit) {
                    c->emitted++;
                    rows[k++] = lh_row(in->sel, i);
                }
            }
        }
        if (k == 0) {
            continue;
        }
        st->out = *in;
        st->out.ncols = ncols;
        st->out.sel = rows;
        st->out.nsel = k;
        *out = &st->out;
        return LH_OK;
    }
}

static void
setop_explain(const lh_pnode *n, const lh_xop *op, lh_buf *out)
{
    (void)op;
    static const char *const ops[] = {"UNION", "INTERSECT", "EXCEPT"};
    const lh_setop_cfg *cfg = n->cfg;
    lh_buf_printf(out, " %s%s", ops[cfg->op], cfg->all ? " ALL" : "");
}

const lh_op_vt lh__op_setop = {
    .name = "SetOp",
    .open = setop_open,
    .next = setop_next,
    .close = dist_close,
    .explain = setop_explain,
};
