/*
 * Sort and top-N. The input (run on every worker of its pipeline) is
 * copied into chunks together with its evaluated sort keys; then an
 * array of row references is sorted by the keys (ties keep input order,
 * so equal rows come out as they went in) and the rows are gathered in
 * that order.
 *
 * Top-N (a LIMIT above, cfg->limit >= 0): a worker's rows are cut back to
 * the best `limit` whenever it holds more than twice that, so memory stays
 * proportional to the limit, not the input; the first cut comes as soon
 * as it holds `limit` rows. After each cut the worst kept first key is
 * published to the scan below when physical.c linked one (cfg->bound),
 * which skips row groups that cannot beat it: ORDER BY ts LIMIT 10 over
 * files in ts order reads the first row groups that hold 10 matches.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/exec_int.h"

typedef struct chunk {
    lh_batch b;   /* input columns, then the keys */
    uint32_t seq; /* order of arrival, for stable ties */
} chunk;

typedef struct rowref {
    uint32_t chunk, row;
} rowref;

typedef struct sort_worker {
    chunk *chunks;
    uint32_t nchunks, cap;
    uint64_t rows;
    /* top-N: after a cut, row bound_row of chunks[0] is the worst of the
     * `limit` best so far; a later row that does not sort before it can
     * never be kept */
    bool has_bound;
    uint32_t bound_row;
    lh_arena arena;
    lh_arena scratch;
    lh_evalctx ec;
} sort_worker;

typedef struct sort_state {
    sort_worker *w;
    uint32_t nworkers;
    chunk *chunks; /* all workers' */
    uint32_t nchunks;
    rowref *order;
    uint64_t nrows, pos;
    lh_batch out;
} sort_state;

typedef struct cmp_ctx {
    const lh_sort_cfg *cfg;
    const chunk *chunks;
    uint32_t nin; /* input columns: keys start here */
} cmp_ctx;

/* Row ra of ba against row rb of bb by the sort keys (columns nin...);
 * 0 on a tie. */
static int
cmp_keys(const lh_sort_cfg *cfg, uint32_t nin, const lh_batch *ba, uint32_t ra,
         const lh_batch *bb, uint32_t rb)
{
    for (uint32_t k = 0; k < cfg->nkeys; k++) {
        const lh_vector *va = &ba->cols[nin + k];
        const lh_vector *vb = &bb->cols[nin + k];
        bool na = !lh_vec_valid(va, ra), nb = !lh_vec_valid(vb, rb);
        int r;
        if (na || nb) {
            if (na && nb) {
                continue;
            }
            /* NULL first or last whatever the direction */
            r = na ? -1 : 1;
            if (!cfg->nulls_first[k]) {
                r = -r;
            }
            return r;
        }
        r = lh__vec_cmp(va, ra, vb, rb);
        if (r) {
            return cfg->desc[k] ? -r : r;
        }
    }
    return 0;
}

static int
cmp_rows(const void *pa, const void *pb, void *ud)
{
    const cmp_ctx *c = ud;
    const rowref *a = pa, *b = pb;
    const lh_batch *ba = &c->chunks[a->chunk].b, *bb = &c->chunks[b->chunk].b;
    int r = cmp_keys(c->cfg, c->nin, ba, a->row, bb, b->row);
    if (r) {
        return r;
    }
    uint32_t sa = c->chunks[a->chunk].seq, sb = c->chunks[b->chunk].seq;
    if (sa != sb) {
        return sa < sb ? -1 : 1;
    }
    return a->row < b->row ? -1 : a->row > b->row;
}

static lh_rc
add_chunk(sort_worker *w, const lh_batch *b, uint32_t seq, lh_err *err)
{
    if (w->nchunks == w->cap) {
        uint32_t ncap = w->cap ? w->cap * 2 : 16;
        chunk *nc = lh_realloc(w->chunks, ncap * sizeof(chunk));
        if (nc == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory sorting");
        }
        w->chunks = nc;
        w->cap = ncap;
    }
    w->chunks[w->nchunks].b = *b;
    w->chunks[w->nchunks].seq = seq;
    w->nchunks++;
    w->rows += b->count;
    return LH_OK;
}

/* Keeps only the best `keep` rows of a worker (top-N). */
static lh_rc
cut(lh_xop *op, sort_worker *w, uint64_t keep, lh_err *err)
{
    const lh_sort_cfg *cfg = op->node->cfg;
    uint64_t n = w->rows;
    rowref *refs = lh_malloc((n ? n : 1) * sizeof(rowref));
    if (refs == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory sorting");
    }
    uint64_t k = 0;
    for (uint32_t c = 0; c < w->nchunks; c++) {
        for (uint32_t r = 0; r < w->chunks[c].b.count; r++) {
            refs[k].chunk = c;
            refs[k].row = r;
            k++;
        }
    }
    cmp_ctx cc = {cfg, w->chunks, op->node->children[0]->ncols};
    qsort_r(refs, n, sizeof(rowref), cmp_rows, &cc);
    if (keep > n) {
        keep = n;
    }
    /* one new chunk with the kept rows, in a fresh arena */
    lh_arena fresh;
    lh_arena_init(&fresh, 0);
    lh_batch nb = {.count = (uint32_t)keep, .ncols = w->chunks[0].b.ncols};
    nb.cols = lh_arena_calloc(&fresh, nb.ncols * sizeof(lh_vector));
    lh_rc rc =
        nb.cols ? LH_OK : lh_err_set(err, LH_ENOMEM, "out of memory sorting");
    for (uint32_t col = 0; col < nb.ncols && rc == LH_OK; col++) {
        const lh_vector *proto = &w->chunks[0].b.cols[col];
        rc = lh_vector_alloc(&nb.cols[col], proto->type,
                             keep ? (uint32_t)keep : 1, true, &fresh, err);
        for (uint64_t i = 0; i < keep && rc == LH_OK; i++) {
            rc = lh__vec_copy_row(&fresh, &nb.cols[col], (uint32_t)i,
                                  &w->chunks[refs[i].chunk].b.cols[col],
                                  refs[i].row, true, err);
        }
    }
    uint32_t seq = w->chunks[0].seq;
    lh_free(refs);
    if (rc != LH_OK) {
        lh_arena_release(&fresh);
        return rc;
    }
    int64_t before = (int64_t)w->arena.held;
    lh_arena_release(&w->arena);
    w->arena = fresh;
    lh__exec_charge(op->ex, (int64_t)w->arena.held - before, NULL);
    w->nchunks = 0;
    w->rows = 0;
    w->has_bound = keep > 0 && keep == (uint64_t)cfg->limit;
    w->bound_row = keep > 0 ? (uint32_t)keep - 1 : 0;
    return add_chunk(w, &nb, seq, err);
}

/* Tightens cfg->bound with w's worst kept first key (after a cut that
 * kept `limit` rows). A NULL there: the top N holds NULLs, no bound. */
static void
publish(const lh_sort_cfg *cfg, uint32_t nin, const sort_worker *w)
{
    if (cfg->bound == NULL || !w->has_bound) {
        return;
    }
    const lh_vector *key = &w->chunks[0].b.cols[nin];
    if (!lh_vec_valid(key, w->bound_row)) {
        return;
    }
    lh_value v;
    lh__vec_get(key, w->bound_row, &v);
    lh_dyn_bound *b = cfg->bound;
    pthread_mutex_lock(&b->mu);
    int c = b->set ? lh__value_cmp(&v, &b->value) : 0;
    if (!b->set || (cfg->desc[0] ? c > 0 : c < 0)) {
        b->value = v;
        b->set = true;
    }
    pthread_mutex_unlock(&b->mu);
}

static lh_rc
sink(void *ud, uint32_t worker, lh_batch *in, lh_err *err)
{
    lh_xop *op = ud;
    const lh_sort_cfg *cfg = op->node->cfg;
    sort_state *st = op->state;
    sort_worker *w = &st->w[worker];
    lh_arena_reset(&w->scratch);
    w->ec.err = err;
    uint32_t n = in->sel ? in->nsel : in->count;
    if (n == 0) {
        return LH_OK;
    }
    /* the input's columns plus the keys, then one compact copy */
    lh_batch wide = *in;
    wide.ncols = in->ncols + cfg->nkeys;
    wide.cols = lh_arena_alloc(&w->scratch, wide.ncols * sizeof(lh_vector));
    if (wide.cols == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory sorting");
    }
    memcpy(wide.cols, in->cols, in->ncols * sizeof(lh_vector));
    for (uint32_t k = 0; k < cfg->nkeys; k++) {
        const lh_vector *v;
        lh_rc rc = lh__eval(&w->ec, cfg->keys[k], in, in->sel, n, &v);
        if (rc != LH_OK) {
            return rc;
        }
        wide.cols[in->ncols + k] = *v;
    }
    if (w->has_bound) {
        /* top-N: only rows that sort before the worst kept one (a tie
         * arrived later, so it sorts after) */
        bool plain = true;
        for (uint32_t k = 0; k < cfg->nkeys; k++) {
            const lh_vector *v = &wide.cols[in->ncols + k];
            plain = plain && !(v->kind == LH_VEC_DICT && v->dict->validity);
        }
        uint32_t *keep =
            plain ? lh_arena_alloc(&w->scratch, n * sizeof(uint32_t)) : NULL;
        if (keep) {
            uint32_t kn = 0;
            const lh_batch *bb = &w->chunks[0].b;
            for (uint32_t i = 0; i < n; i++) {
                uint32_t r = lh_row(in->sel, i);
                if (cmp_keys(cfg, in->ncols, &wide, r, bb, w->bound_row) < 0) {
                    keep[kn++] = r;
                }
            }
            if (kn == 0) {
                return LH_OK;
            }
            wide.sel = keep;
            wide.nsel = kn;
        }
    }
    size_t before = w->arena.held;
    lh_batch copy;
    lh_rc rc = lh__batch_copy(&w->arena, &wide, &copy, err);
    if (rc == LH_OK) {
        rc = lh__exec_charge(op->ex, (int64_t)(w->arena.held - before), err);
    }
    if (rc == LH_OK) {
        /* arrival order across workers only matters within a worker */
        rc = add_chunk(w, &copy, worker * 0x10000000u + w->nchunks, err);
    }
    if (rc == LH_OK && cfg->limit >= 0 &&
        (w->rows > (uint64_t)cfg->limit * 2 + LH_BATCH_ROWS ||
         (cfg->bound != NULL && !w->has_bound && cfg->limit > 0 &&
          w->rows >= (uint64_t)cfg->limit))) {
        rc = cut(op, w, (uint64_t)cfg->limit, err);
        publish(cfg, in->ncols, w);
    }
    return rc;
}

static lh_rc
sort_open(lh_xop *op, lh_err *err)
{
    const lh_sort_cfg *cfg = op->node->cfg;
    sort_state *st = lh__op_calloc(op, sizeof(sort_state));
    if (st == NULL) {
        return lh__op_nomem(op, err);
    }
    op->state = st;
    if (cfg->bound != NULL) {
        /* a correlated subquery's plan runs again: a bound of the last
         * run is no bound of this one */
        pthread_mutex_lock(&cfg->bound->mu);
        cfg->bound->set = false;
        pthread_mutex_unlock(&cfg->bound->mu);
    }
    uint32_t nw = lh__pipeline_workers(op, op->node->children[0]);
    st->w = lh_calloc(nw, sizeof(sort_worker));
    if (st->w == NULL) {
        return lh__op_nomem(op, err);
    }
    st->nworkers = nw;
    for (uint32_t i = 0; i < nw; i++) {
        lh_arena_init(&st->w[i].arena, 0);
        lh_arena_init(&st->w[i].scratch, 0);
        st->w[i].ec = op->ec;
        st->w[i].ec.arena = &st->w[i].scratch;
        st->w[i].ec.memo = NULL;
    }
    lh_rc rc = lh__run_pipeline(op, op->node->children[0], nw, sink, op, err);
    if (rc != LH_OK) {
        return rc;
    }
    uint32_t total = 0;
    for (uint32_t i = 0; i < nw; i++) {
        total += st->w[i].nchunks;
        st->nrows += st->w[i].rows;
    }
    st->chunks = lh_malloc((total ? total : 1) * sizeof(chunk));
    st->order = lh_malloc((st->nrows ? st->nrows : 1) * sizeof(rowref));
    if (st->chunks == NULL || st->order == NULL) {
        return lh__op_nomem(op, err);
    }
    uint64_t k = 0;
    for (uint32_t i = 0; i < nw; i++) {
        for (uint32_t c = 0; c < st->w[i].nchunks; c++) {
            st->chunks[st->nchunks] = st->w[i].chunks[c];
            for (uint32_t r = 0; r < st->w[i].chunks[c].b.count; r++) {
                st->order[k].chunk = st->nchunks;
                st->order[k].row = r;
                k++;
            }
            st->nchunks++;
        }
    }
    cmp_ctx cc = {cfg, st->chunks, op->node->children[0]->ncols};
    qsort_r(st->order, st->nrows, sizeof(rowref), cmp_rows, &cc);
    if (cfg->limit >= 0 && st->nrows > (uint64_t)cfg->limit) {
        st->nrows = (uint64_t)cfg->limit;
    }
    return LH_OK;
}

static lh_rc
sort_next(lh_xop *op, lh_batch **out, lh_err *err)
{
    sort_state *st = op->state;
    *out = NULL;
    lh__op_reset_batch(op);
    if (st->pos >= st->nrows) {
        return LH_OK;
    }
    uint32_t n =
        (uint32_t)(st->nrows - st->pos < LH_BATCH_ROWS ? st->nrows - st->pos
                                                       : LH_BATCH_ROWS);
    uint32_t ncols = op->node->ncols;
    lh_batch *b = &st->out;
    memset(b, 0, sizeof *b);
    b->count = n;
    b->ncols = ncols;
    b->cols = lh_arena_calloc(&op->batch, ncols * sizeof(lh_vector));
    if (b->cols == NULL) {
        return lh__op_nomem(op, err);
    }
    for (uint32_t c = 0; c < ncols; c++) {
        lh_rc rc = lh_vector_alloc(&b->cols[c], op->node->types[c], n, true,
                                   &op->batch, err);
        if (rc != LH_OK) {
            return rc;
        }
        for (uint32_t i = 0; i < n; i++) {
            const rowref *r = &st->order[st->pos + i];
            lh__vec_copy_row(NULL, &b->cols[c], i,
                             &st->chunks[r->chunk].b.cols[c], r->row, false,
                             NULL);
        }
    }
    st->pos += n;
    *out = b;
    return LH_OK;
}

static void
sort_close(lh_xop *op)
{
    sort_state *st = op->state;
    if (st == NULL) {
        return;
    }
    for (uint32_t i = 0; st->w && i < st->nworkers; i++) {
        lh__exec_charge(op->ex, -(int64_t)st->w[i].arena.held, NULL);
        lh_free(st->w[i].chunks);
        lh_arena_release(&st->w[i].arena);
        lh_arena_release(&st->w[i].scratch);
        extern void lh__submemo_free(struct submemo * m);
        lh__submemo_free(st->w[i].ec.memo);
    }
    lh_free(st->w);
    lh_free(st->chunks);
    lh_free(st->order);
    st->w = NULL;
    st->chunks = NULL;
    st->order = NULL;
}

static void
sort_explain(const lh_pnode *n, const lh_xop *op, lh_buf *out)
{
    (void)op;
    const lh_plan *p = n->plan;
    const lh_sort_cfg *cfg = n->cfg;
    for (uint32_t i = 0; i < p->u.sort.nkeys; i++) {
        lh_buf_puts(out, i ? ", " : " ");
        lh_sql_expr_text(p->u.sort.keys[i].expr, NULL, out);
        lh_buf_puts(out, p->u.sort.keys[i].desc ? " DESC" : "");
    }
    if (cfg->limit >= 0) {
        lh_buf_printf(out, " (top %lld)", (long long)cfg->limit);
    }
}

const lh_op_vt lh__op_sort = {
    .name = "Sort",
    .pipelines = 1,
    .open = sort_open,
    .next = sort_next,
    .close = sort_close,
    .explain = sort_explain,
};
