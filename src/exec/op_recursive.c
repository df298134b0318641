/*
 * WITH RECURSIVE: the Recursive operator and the work-table scan
 * (docs/internals/sql.md, "WITH RECURSIVE").
 *
 * Recursive (children: the anchor, the step) streams: it returns the
 * anchor's rows, then runs the step once over them (the step's WorkTable
 * scans read the rows of the previous iteration), returns what that
 * produced, runs the step over those, and so on until an iteration
 * produces no row. With UNION (not ALL) a row already produced is dropped
 * (a group table of every row so far), which is what makes cyclic graphs
 * end. Each iteration's rows live in one of two arenas taken in turn: the
 * rows of iteration k are returned, then read by iteration k + 1, and the
 * arena is reused by iteration k + 2. A LIMIT above stops pulling, so a
 * query whose recursion never ends on its own still can.
 *
 * The step is instantiated afresh for each iteration (plans are
 * immutable; a hash join or aggregate in it starts empty each time). Its
 * WorkTable scans find the current work table through the execution's
 * list of running Recursive operators (lh_exec.recs), by their node.
 */
#include <string.h>

#include "exec/exec_int.h"

/* The running Recursive operators of an execution (innermost first). */
typedef struct rec_work {
    const lh_pnode *node;
    const lh_batch *batches; /* the work table: the previous iteration's */
    uint32_t nbatches;
    struct rec_work *next;     /* ex->recs */
    struct rec_work *next_own; /* this thread's */
} rec_work;

/* The Recursive operators running on this thread, innermost first: a
 * work-table scan looks here first, so that the same plan running on two
 * threads at once (a correlated subquery under a parallel scan) reads
 * its own work table; a scan on a worker thread of the step (a parallel
 * join build) falls back to the execution's list. */
static __thread rec_work *own_recs;

/* What a WorkTable scan reads: its Recursive node, and per output
 * column the column of that node's output. */
typedef struct cte_cfg {
    const lh_pnode *rec;
    uint32_t *map;
} cte_cfg;

struct rec_state {
    lh_pnode *node;
};

/* ---- building ----------------------------------------------------------- */

lh_rc
lh__recursive_build(lh_pctx *pc, const lh_plan *p, const uint32_t *outer,
                    uint32_t nouter, lh_pnode **out)
{
    lh_pnode *anchor;
    lh_rc rc = lh__physical(pc, p->children[0], outer, nouter, &anchor);
    if (rc != LH_OK) {
        return rc;
    }
    lh_pnode *n = lh_arena_calloc(pc->a, sizeof(lh_pnode));
    lh_pnode **kids = lh_arena_calloc(pc->a, 2 * sizeof(lh_pnode *));
    struct rec_state *rs = lh_arena_calloc(pc->a, sizeof(struct rec_state));
    if (n == NULL || kids == NULL || rs == NULL) {
        return lh_err_set(pc->err, LH_ENOMEM,
                          "out of memory planning the query");
    }
    n->vt = &lh__op_recursive;
    n->plan = p;
    n->ncols = p->ncols;
    n->types = p->types;
    n->ids = p->cols;
    n->nchildren = 2;
    n->children = kids;
    n->outer = outer;
    n->nouter = nouter;
    if (pc->nrec == LH_ARRAY_LEN(pc->rec_stack)) {
        return lh_err_set(pc->err, LH_ELIMIT,
                          "WITH RECURSIVE nested more than %u deep",
                          (unsigned)LH_ARRAY_LEN(pc->rec_stack));
    }
    rs->node = n;
    pc->rec_stack[pc->nrec] = p;
    pc->rec_state[pc->nrec] = rs;
    pc->nrec++;
    lh_pnode *step;
    rc = lh__physical(pc, p->children[1], outer, nouter, &step);
    pc->nrec--;
    if (rc != LH_OK) {
        return rc;
    }
    if (step->ncols != n->ncols || anchor->ncols != n->ncols) {
        return lh_err_set(pc->err, LH_EINTERNAL,
                          "WITH RECURSIVE: the parts' columns differ");
    }
    kids[0] = anchor;
    kids[1] = step;
    *out = n;
    return LH_OK;
}

lh_rc
lh__cte_scan_build(lh_pctx *pc, const lh_plan *p, lh_pnode *n)
{
    /* the innermost Recursive node whose output this scan reads */
    const lh_pnode *rec = NULL;
    for (uint32_t k = pc->nrec; k-- > 0 && rec == NULL;) {
        const lh_plan *r = pc->rec_stack[k];
        for (uint32_t i = 0; i < r->ncols && p->ncols; i++) {
            if (r->cols[i] == p->u.cte.cte_cols[0]) {
                rec = pc->rec_state[k]->node;
                break;
            }
        }
    }
    cte_cfg *cfg = lh_arena_calloc(pc->a, sizeof(cte_cfg));
    if (cfg == NULL) {
        return lh_err_set(pc->err, LH_ENOMEM,
                          "out of memory planning the query");
    }
    cfg->map = lh_arena_calloc(pc->a, (p->ncols + 1) * sizeof(uint32_t));
    if (cfg->map == NULL) {
        return lh_err_set(pc->err, LH_ENOMEM,
                          "out of memory planning the query");
    }
    if (rec == NULL) {
        return lh_err_set(pc->err, LH_EINTERNAL,
                          "a work table outside its WITH RECURSIVE");
    }
    for (uint32_t i = 0; i < p->ncols; i++) {
        uint32_t j = 0;
        while (j < rec->ncols && rec->ids[j] != p->u.cte.cte_cols[i]) {
            j++;
        }
        if (j == rec->ncols) {
            return lh_err_set(pc->err, LH_EINTERNAL,
                              "a work table column outside its WITH "
                              "RECURSIVE");
        }
        cfg->map[i] = j;
    }
    cfg->rec = rec;
    n->cfg = cfg;
    return LH_OK;
}

/* ---- Recursive ---------------------------------------------------------- */

typedef struct rec_op {
    rec_work work;      /* our entry in ex->recs */
    bool registered;    /* work is on the list */
    lh_arena it[2];     /* the rows of iterations, in turn */
    int cur;            /* it[cur] holds the rows being returned */
    int64_t charged[2]; /* what each arena's rows charged the budget */
    lh_batch *batches[2];
    uint32_t nbatches[2], cap[2];
    uint32_t pos;  /* next batch of it[cur] to return */
    bool anchored; /* the anchor has run */
    bool done;
    uint64_t iterations;
    lh_gtable *seen; /* UNION: every row so far */
    uint32_t *gid, *keep;
} rec_op;

static lh_rc
rec_open(lh_xop *op, lh_err *err)
{
    rec_op *st = lh__op_calloc(op, sizeof(rec_op));
    if (st == NULL) {
        return lh__op_nomem(op, err);
    }
    op->state = st;
    lh_arena_init(&st->it[0], 0);
    lh_arena_init(&st->it[1], 0);
    if (!op->node->plan->u.cte.union_all) {
        st->gid = lh__op_alloc(op, LH_BATCH_ROWS * sizeof(uint32_t));
        st->keep = lh__op_alloc(op, LH_BATCH_ROWS * sizeof(uint32_t));
        if (st->gid == NULL || st->keep == NULL) {
            return lh__op_nomem(op, err);
        }
        lh_rc rc = lh__gtable_new(op->ex, op->node->types, op->node->ncols, 0,
                                  &st->seen, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    st->work.node = op->node;
    pthread_mutex_lock(&op->ex->mu);
    st->work.next = op->ex->recs;
    op->ex->recs = &st->work;
    pthread_mutex_unlock(&op->ex->mu);
    st->work.next_own = own_recs;
    own_recs = &st->work;
    st->registered = true;
    return LH_OK;
}

/* Keeps a copy of b's rows (UNION: those never produced before) in
 * iteration arena k. */
static lh_rc
keep_batch(lh_xop *op, rec_op *st, int k, const lh_batch *b, lh_err *err)
{
    uint32_t n = b->sel ? b->nsel : b->count;
    if (n == 0) {
        return LH_OK;
    }
    lh_batch in = *b;
    if (st->seen) {
        /* new groups are numbered in order of first appearance: a row is
         * new when its group is the next number */
        uint32_t before = lh__gtable_count(st->seen);
        const lh_vector *keys[64];
        if (b->ncols > 64) {
            return lh_err_set(err, LH_EUNSUPPORTED,
                              "unsupported: WITH RECURSIVE ... UNION over "
                              "more than 64 columns");
        }
        for (uint32_t c = 0; c < b->ncols; c++) {
            keys[c] = &b->cols[c];
        }
        lh_rc rc =
            lh__gtable_find(st->seen, keys, b->count, b->sel, n, st->gid, err);
        if (rc != LH_OK) {
            return rc;
        }
        uint32_t m = 0, next = before;
        for (uint32_t i = 0; i < n; i++) {
            if (st->gid[i] == next) {
                st->keep[m++] = lh_row(b->sel, i);
                next++;
            }
        }
        if (m == 0) {
            return LH_OK;
        }
        in.sel = st->keep;
        in.nsel = m;
    }
    size_t before = st->it[k].held;
    lh_batch copy;
    lh_rc rc = lh__batch_copy(&st->it[k], &in, &copy, err);
    if (rc == LH_OK) {
        int64_t delta = (int64_t)(st->it[k].held - before);
        st->charged[k] += delta;
        rc = lh__exec_charge(op->ex, delta, err);
    }
    if (rc != LH_OK) {
        return rc;
    }
    if (st->nbatches[k] == st->cap[k]) {
        uint32_t ncap = st->cap[k] ? st->cap[k] * 2 : 16;
        lh_batch *nb = lh_realloc(st->batches[k], ncap * sizeof(lh_batch));
        if (nb == NULL) {
            return lh__op_nomem(op, err);
        }
        st->batches[k] = nb;
        st->cap[k] = ncap;
    }
    st->batches[k][st->nbatches[k]++] = copy;
    return LH_OK;
}

static void
clear_iteration(lh_xop *op, rec_op *st, int k)
{
    lh__exec_charge(op->ex, -st->charged[k], NULL);
    st->charged[k] = 0;
    lh_arena_reset(&st->it[k]);
    st->nbatches[k] = 0;
}

/* Drains x (opened here unless `opened`) into iteration arena k. */
static lh_rc
drain(lh_xop *op, rec_op *st, lh_xop *x, bool opened, int k, lh_err *err)
{
    lh_rc rc = opened ? LH_OK : lh__op_open(x, err);
    while (rc == LH_OK) {
        lh_batch *b;
        rc = lh__op_next(x, &b, err);
        if (rc != LH_OK || b == NULL) {
            break;
        }
        rc = keep_batch(op, st, k, b, err);
    }
    return rc;
}

/* Runs the step over the rows of it[cur] into it[1 - cur]. */
static lh_rc
iterate(lh_xop *op, rec_op *st, lh_err *err)
{
    lh_rc rc = lh__exec_check_cancel(op->ex, err);
    if (rc != LH_OK) {
        return rc;
    }
    int nk = 1 - st->cur;
    clear_iteration(op, st, nk);
    st->work.batches = st->batches[st->cur];
    st->work.nbatches = st->nbatches[st->cur];
    lh_xop *x;
    rc = lh__op_make(op->ex, op->node->children[1], op->ec.outer, NULL, 0, &x,
                     err);
    if (rc != LH_OK) {
        return rc;
    }
    rc = drain(op, st, x, false, nk, err);
    lh__stats_absorb(x);
    lh__op_free(x);
    st->iterations++;
    return rc;
}

static lh_rc
rec_next(lh_xop *op, lh_batch **out, lh_err *err)
{
    rec_op *st = op->state;
    *out = NULL;
    if (!st->anchored) {
        st->anchored = true;
        lh_rc rc = drain(op, st, op->children[0], true, 0, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    while (!st->done) {
        if (st->pos < st->nbatches[st->cur]) {
            *out = &st->batches[st->cur][st->pos++];
            return LH_OK;
        }
        /* every row of this iteration returned: the next one */
        if (st->nbatches[st->cur] == 0) {
            st->done = true;
            break;
        }
        lh_rc rc = iterate(op, st, err);
        if (rc != LH_OK) {
            return rc;
        }
        st->cur = 1 - st->cur;
        st->pos = 0;
    }
    return LH_OK;
}

static void
rec_close(lh_xop *op)
{
    rec_op *st = op->state;
    if (st == NULL) {
        return;
    }
    if (st->registered) {
        pthread_mutex_lock(&op->ex->mu);
        for (rec_work **w = &op->ex->recs; *w; w = &(*w)->next) {
            if (*w == &st->work) {
                *w = st->work.next;
                break;
            }
        }
        pthread_mutex_unlock(&op->ex->mu);
        for (rec_work **w = &own_recs; *w; w = &(*w)->next_own) {
            if (*w == &st->work) {
                *w = st->work.next_own;
                break;
            }
        }
        st->registered = false;
    }
    for (int k = 0; k < 2; k++) {
        clear_iteration(op, st, k);
        lh_arena_release(&st->it[k]);
        lh_free(st->batches[k]);
        st->batches[k] = NULL;
    }
    if (st->seen) {
        lh__gtable_free(st->seen);
        st->seen = NULL;
    }
}

static void
rec_explain(const lh_pnode *n, const lh_xop *op, lh_buf *out)
{
    lh_buf_puts(out, n->plan->u.cte.union_all ? " UNION ALL" : " UNION");
    if (op && op->state) {
        const rec_op *st = op->state;
        lh_buf_printf(out, " (%llu iterations)",
                      (unsigned long long)st->iterations);
    }
}

const lh_op_vt lh__op_recursive = {
    .name = "Recursive",
    .pipelines = 2, /* the step: made afresh for each iteration */
    .open = rec_open,
    .next = rec_next,
    .close = rec_close,
    .explain = rec_explain,
};

/* ---- WorkTable ---------------------------------------------------------- */

typedef struct cte_op {
    const rec_work *work;
    uint32_t pos;
    lh_batch out;
} cte_op;

static lh_rc
cte_open(lh_xop *op, lh_err *err)
{
    const cte_cfg *cfg = op->node->cfg;
    cte_op *st = lh__op_calloc(op, sizeof(cte_op));
    if (st == NULL) {
        return lh__op_nomem(op, err);
    }
    op->state = st;
    for (const rec_work *w = own_recs; w && st->work == NULL; w = w->next_own) {
        st->work = w->node == cfg->rec ? w : NULL;
    }
    pthread_mutex_lock(&op->ex->mu);
    for (const rec_work *w = op->ex->recs; w && st->work == NULL; w = w->next) {
        st->work = w->node == cfg->rec ? w : NULL;
    }
    pthread_mutex_unlock(&op->ex->mu);
    if (st->work == NULL) {
        return lh_err_set(err, LH_EINTERNAL,
                          "a work table read outside its WITH RECURSIVE");
    }
    return LH_OK;
}

static lh_rc
cte_next(lh_xop *op, lh_batch **out, lh_err *err)
{
    const cte_cfg *cfg = op->node->cfg;
    cte_op *st = op->state;
    *out = NULL;
    lh__op_reset_batch(op);
    if (st->pos >= st->work->nbatches) {
        return LH_OK;
    }
    const lh_batch *b = &st->work->batches[st->pos++];
    st->out = *b;
    st->out.ncols = op->node->ncols;
    st->out.cols =
        lh_arena_alloc(&op->batch, (op->node->ncols + 1) * sizeof(lh_vector));
    if (st->out.cols == NULL) {
        return lh__op_nomem(op, err);
    }
    for (uint32_t c = 0; c < op->node->ncols; c++) {
        st->out.cols[c] = b->cols[cfg->map[c]];
    }
    *out = &st->out;
    return LH_OK;
}

const lh_op_vt lh__op_cte_scan = {
    .name = "WorkTable",
    .open = cte_open,
    .next = cte_next,
};
