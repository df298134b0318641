/*
 * Hash join (inner, left, right, full, semi, anti) and the nested-loop
 * join for conditions without equality keys (cross joins, theta joins).
 *
 * Build: the right input (the optimizer puts the smaller side there) runs
 * on every worker of its pipeline and is copied into chunks with its key
 * columns; then one chained hash table over all rows (rows with a NULL
 * key are never inserted: they match nothing). Inside a parallel pipeline
 * the instances of one join share one build (made by the first, under the
 * exec's lock).
 *
 * Probe: for each left batch, every (left row, right row) pair whose keys
 * are equal is listed; the pairs become output batches, filtered by the
 * residual condition, which also decides which left rows matched. Then,
 * by kind: unmatched left rows with NULLs (LEFT, FULL), matched left rows
 * once (SEMI), unmatched ones (ANTI); at the end, unmatched right rows
 * with NULLs on the left (RIGHT, FULL).
 */
#include <string.h>

#include "exec/exec_int.h"

typedef struct build {
    lh_batch *chunks; /* right columns, then the keys */
    uint32_t nchunks, cap;
    uint64_t nrows;
    uint32_t *rchunk, *rrow; /* per global row */
    uint64_t *hash;
    uint32_t *heads; /* bucket -> row + 1 */
    uint32_t *next;  /* row -> row + 1 */
    uint32_t mask;
    lh_arena arena;
    lh_arena scratch[64];
    lh_evalctx ec[64];
    uint32_t nworkers;
    /* per worker: chunks before merging */
    struct {
        lh_batch *chunks;
        uint32_t n, cap;
    } wc[64];
    int64_t charged;
    lh_exec *ex;
} build;

typedef struct join_shared {
    struct join_shared *next;
    const lh_pnode *node;
    const void *shared;
    build *b;
    int refs;
} join_shared;

typedef struct join_state {
    build *b;
    bool own_build;
    uint8_t *matched; /* RIGHT/FULL: per build row */
    /* the current probe batch */
    lh_batch *in;
    const lh_vector **lkeys;
    uint64_t *h;
    uint32_t hcap;
    /* its pairs */
    uint32_t *pl, *pr; /* left row, build row */
    uint64_t npairs, paircap, pairpos;
    uint8_t *lmatched; /* per left row of the batch */
    bool extras_done;
    bool probe_done;
    uint64_t right_pos; /* unmatched build rows emitted so far */
    lh_batch out;
    lh_arena probe_arena; /* the current probe batch's evaluations */
} join_state;

/* ---- build
 * ---------------------------------------------------------------------- */

static lh_rc
build_sink(void *ud, uint32_t worker, lh_batch *in, lh_err *err)
{
    lh_xop *op = ud;
    const lh_join_cfg *cfg = op->node->cfg;
    join_state *st = op->state;
    build *b = st->b;
    lh_arena_reset(&b->scratch[worker]);
    b->ec[worker].err = err;
    uint32_t n = in->sel ? in->nsel : in->count;
    if (n == 0) {
        return LH_OK;
    }
    lh_batch wide = *in;
    wide.ncols = in->ncols + cfg->nkeys;
    wide.cols = lh_arena_alloc(
        &b->scratch[worker], (wide.ncols ? wide.ncols : 1) * sizeof(lh_vector));
    if (wide.cols == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory building a join");
    }
    memcpy(wide.cols, in->cols, in->ncols * sizeof(lh_vector));
    for (uint32_t k = 0; k < cfg->nkeys; k++) {
        const lh_vector *v;
        lh_rc rc = lh__eval(&b->ec[worker], cfg->rkeys[k], in, in->sel, n, &v);
        if (rc != LH_OK) {
            return rc;
        }
        wide.cols[in->ncols + k] = *v;
    }
    /* the arena is shared by the workers: copy under the lock */
    pthread_mutex_lock(&op->ex->mu);
    size_t before = b->arena.held;
    lh_batch copy;
    lh_rc rc = lh__batch_copy(&b->arena, &wide, &copy, err);
    int64_t delta = (int64_t)(b->arena.held - before);
    b->charged += delta;
    pthread_mutex_unlock(&op->ex->mu);
    if (rc == LH_OK) {
        rc = lh__exec_charge(op->ex, delta, err);
    }
    if (rc != LH_OK) {
        return rc;
    }
    if (b->wc[worker].n == b->wc[worker].cap) {
        uint32_t ncap = b->wc[worker].cap ? b->wc[worker].cap * 2 : 16;
        lh_batch *nc =
            lh_realloc(b->wc[worker].chunks, ncap * sizeof(lh_batch));
        if (nc == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory building a join");
        }
        b->wc[worker].chunks = nc;
        b->wc[worker].cap = ncap;
    }
    b->wc[worker].chunks[b->wc[worker].n++] = copy;
    return LH_OK;
}

static void
build_free(build *b)
{
    if (b == NULL) {
        return;
    }
    for (uint32_t i = 0; i < 64; i++) {
        lh_free(b->wc[i].chunks);
        lh_arena_release(&b->scratch[i]);
        extern void lh__submemo_free(struct submemo * m);
        lh__submemo_free(b->ec[i].memo);
    }
    lh_free(b->chunks);
    lh_free(b->rchunk);
    lh_free(b->rrow);
    lh_free(b->hash);
    lh_free(b->heads);
    lh_free(b->next);
    lh__exec_charge(b->ex, -b->charged, NULL);
    lh_arena_release(&b->arena);
    lh_free(b);
}

static lh_rc
build_run(lh_xop *op, build *b, lh_err *err)
{
    const lh_join_cfg *cfg = op->node->cfg;
    const lh_pnode *right = op->node->children[1];
    uint32_t nw = lh__pipeline_workers(op, right);
    if (nw > 64) {
        nw = 64;
    }
    b->nworkers = nw;
    for (uint32_t i = 0; i < nw; i++) {
        lh_arena_init(&b->scratch[i], 0);
        b->ec[i] = op->ec;
        b->ec[i].arena = &b->scratch[i];
        b->ec[i].memo = NULL;
    }
    lh_rc rc = lh__run_pipeline(op, right, nw, build_sink, op, err);
    if (rc != LH_OK) {
        return rc;
    }
    for (uint32_t i = 0; i < nw; i++) {
        b->nchunks += b->wc[i].n;
    }
    b->chunks = lh_malloc((b->nchunks ? b->nchunks : 1) * sizeof(lh_batch));
    if (b->chunks == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory building a join");
    }
    uint32_t c = 0;
    for (uint32_t i = 0; i < nw; i++) {
        for (uint32_t k = 0; k < b->wc[i].n; k++) {
            b->chunks[c++] = b->wc[i].chunks[k];
            b->nrows += b->wc[i].chunks[k].count;
        }
    }
    if (b->nrows >= UINT32_MAX - 1) {
        return lh_err_set(err, LH_ELIMIT,
                          "a join's build side has more than 4 billion rows");
    }
    uint64_t nr = b->nrows ? b->nrows : 1;
    b->rchunk = lh_malloc(nr * sizeof(uint32_t));
    b->rrow = lh_malloc(nr * sizeof(uint32_t));
    b->hash = lh_malloc(nr * sizeof(uint64_t));
    b->next = lh_calloc(nr, sizeof(uint32_t));
    uint32_t nb = 16;
    while (nb < b->nrows * 2) {
        nb *= 2;
    }
    b->heads = lh_calloc(nb, sizeof(uint32_t));
    b->mask = nb - 1;
    if (!b->rchunk || !b->rrow || !b->hash || !b->next || !b->heads) {
        return lh_err_set(err, LH_ENOMEM, "out of memory building a join");
    }
    int64_t bytes = (int64_t)(nr * 20 + (uint64_t)nb * 4);
    b->charged += bytes;
    rc = lh__exec_charge(op->ex, bytes, err);
    if (rc != LH_OK) {
        return rc;
    }
    uint32_t nin = op->node->children[1]->ncols;
    uint64_t g = 0;
    for (uint32_t ci = 0; ci < b->nchunks; ci++) {
        const lh_batch *ch = &b->chunks[ci];
        uint64_t *h = b->hash + g;
        for (uint32_t k = 0; k < cfg->nkeys; k++) {
            lh__vec_hash(&ch->cols[nin + k], NULL, ch->count, h, k > 0);
        }
        for (uint32_t r = 0; r < ch->count; r++, g++) {
            b->rchunk[g] = ci;
            b->rrow[g] = r;
            bool null_key = false;
            for (uint32_t k = 0; k < cfg->nkeys && !null_key; k++) {
                null_key = !lh_vec_valid(&ch->cols[nin + k], r);
            }
            if (null_key || cfg->nkeys == 0) {
                continue;
            }
            uint32_t bucket = (uint32_t)b->hash[g] & b->mask;
            b->next[g] = b->heads[bucket];
            b->heads[bucket] = (uint32_t)g + 1;
        }
    }
    return LH_OK;
}

/* The build of this join: shared by the instances of a parallel
 * pipeline, private otherwise. */
static lh_rc
get_build(lh_xop *op, lh_err *err)
{
    join_state *st = op->state;
    lh_exec *ex = op->ex;
    if (op->shared == NULL) {
        st->b = lh_calloc(1, sizeof(build));
        if (st->b == NULL) {
            return lh__op_nomem(op, err);
        }
        st->b->ex = ex;
        lh_arena_init(&st->b->arena, 0);
        st->own_build = true;
        return build_run(op, st->b, err);
    }
    pthread_mutex_lock(&ex->mu);
    join_shared *js = ex->joins;
    for (; js; js = js->next) {
        if (js->node == op->node && js->shared == op->shared) {
            break;
        }
    }
    if (js) {
        /* another instance builds (or built) it: wait for it */
        while (js->refs == 0) {
            pthread_cond_wait(&ex->cv, &ex->mu);
        }
        st->b = js->b;
        pthread_mutex_unlock(&ex->mu);
        return st->b ? LH_OK
                     : lh_err_set(err, LH_ECANCELED,
                                  "the shared join build failed");
    }
    js = lh_calloc(1, sizeof(join_shared));
    build *b = lh_calloc(1, sizeof(build));
    if (js == NULL || b == NULL) {
        lh_free(js);
        lh_free(b);
        pthread_mutex_unlock(&ex->mu);
        return lh__op_nomem(op, err);
    }
    b->ex = ex;
    lh_arena_init(&b->arena, 0);
    js->node = op->node;
    js->shared = op->shared;
    js->next = ex->joins;
    ex->joins = js;
    pthread_mutex_unlock(&ex->mu);
    st->b = b;
    lh_rc rc = build_run(op, b, err);
    pthread_mutex_lock(&ex->mu);
    if (rc != LH_OK) {
        build_free(b);
        b = NULL;
    }
    js->b = b;
    js->refs = 1; /* done */
    pthread_cond_broadcast(&ex->cv);
    pthread_mutex_unlock(&ex->mu);
    st->b = b;
    return rc;
}

/* ---- probe
 * ------------------------------------------------------------------------- */

static lh_rc
add_pair(join_state *st, uint32_t l, uint32_t r, lh_err *err)
{
    if (st->npairs == st->paircap) {
        uint64_t ncap = st->paircap ? st->paircap * 2 : 4096;
        uint32_t *nl = lh_realloc(st->pl, ncap * sizeof(uint32_t));
        if (nl == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory joining");
        }
        st->pl = nl;
        uint32_t *nr = lh_realloc(st->pr, ncap * sizeof(uint32_t));
        if (nr == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory joining");
        }
        st->pr = nr;
        st->paircap = ncap;
    }
    st->pl[st->npairs] = l;
    st->pr[st->npairs] = r;
    st->npairs++;
    return LH_OK;
}

/* Lists the pairs of the current probe batch. */
static lh_rc
pairs(lh_xop *op, join_state *st, lh_err *err)
{
    const lh_join_cfg *cfg = op->node->cfg;
    build *b = st->b;
    lh_batch *in = st->in;
    uint32_t n = in->sel ? in->nsel : in->count;
    st->npairs = 0;
    st->pairpos = 0;
    uint32_t nin = op->node->children[1]->ncols;
    if (cfg->nkeys == 0) {
        for (uint32_t i = 0; i < n; i++) {
            for (uint64_t g = 0; g < b->nrows; g++) {
                lh_rc rc = add_pair(st, lh_row(in->sel, i), (uint32_t)g, err);
                if (rc != LH_OK) {
                    return rc;
                }
            }
        }
        return LH_OK;
    }
    lh_arena_reset(&st->probe_arena);
    lh_evalctx ec = op->ec;
    ec.arena = &st->probe_arena;
    for (uint32_t k = 0; k < cfg->nkeys; k++) {
        lh_rc rc = lh__eval(&ec, cfg->lkeys[k], in, in->sel, n, &st->lkeys[k]);
        if (rc != LH_OK) {
            return rc;
        }
    }
    if (n > st->hcap) {
        uint64_t *nh = lh_realloc(st->h, (size_t)n * sizeof(uint64_t));
        if (nh == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory joining");
        }
        st->h = nh;
        st->hcap = n;
    }
    for (uint32_t k = 0; k < cfg->nkeys; k++) {
        lh__vec_hash(st->lkeys[k], in->sel, n, st->h, k > 0);
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = lh_row(in->sel, i);
        bool null_key = false;
        for (uint32_t k = 0; k < cfg->nkeys && !null_key; k++) {
            null_key = !lh_vec_valid(st->lkeys[k], r);
        }
        if (null_key) {
            continue;
        }
        uint64_t h = st->h[i];
        for (uint32_t g = b->heads[(uint32_t)h & b->mask]; g;
             g = b->next[g - 1]) {
            uint32_t gi = g - 1;
            if (b->hash[gi] != h) {
                continue;
            }
            const lh_batch *ch = &b->chunks[b->rchunk[gi]];
            uint32_t rr = b->rrow[gi];
            bool eq = true;
            for (uint32_t k = 0; k < cfg->nkeys && eq; k++) {
                eq = lh__vec_eq(st->lkeys[k], r, &ch->cols[nin + k], rr);
            }
            if (eq) {
                lh_rc rc = add_pair(st, r, gi, err);
                if (rc != LH_OK) {
                    return rc;
                }
                if (cfg->kind == LH_JOIN_SEMI && cfg->cond == NULL) {
                    break;
                }
                if (cfg->kind == LH_JOIN_ANTI && cfg->cond == NULL) {
                    break;
                }
            }
        }
    }
    return LH_OK;
}

/* Output batch layout: left columns (when the kind has them), then the
 * right ones. */
static lh_rc
alloc_out(lh_xop *op, join_state *st, uint32_t n, lh_err *err)
{
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
        lh_rc rc = lh_vector_alloc(&b->cols[c], op->node->types[c], n ? n : 1,
                                   true, &op->batch, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

/* Build rows grows[0..n) into the right columns of out, at rows at[i]
 * (at NULL: i). Strings are views into the build's arena, which outlives
 * the output. */
static void
gather_right(join_state *st, lh_batch *out, uint32_t first_col,
             const uint32_t *grows, const uint32_t *at, uint32_t n,
             uint32_t nright)
{
    build *b = st->b;
    for (uint32_t c = 0; c < nright; c++) {
        lh_vector *dst = &out->cols[first_col + c];
        size_t w = lh_type_width(dst->type);
        char *d = dst->data;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t g = grows[i], dr = at ? at[i] : i;
            const lh_vector *src = &b->chunks[b->rchunk[g]].cols[c];
            uint32_t r = b->rrow[g];
            if (src->kind != LH_VEC_FLAT) {
                lh__vec_copy_row(NULL, dst, dr, src, r, false, NULL);
                continue;
            }
            /* the common case without a call per row */
            bool valid = lh_vec_valid(src, r);
            if (dst->validity != NULL) {
                lh_bit_set(dst->validity, dr, valid);
            }
            if (!valid) {
                continue;
            }
            const char *s = src->data;
            switch (w) {
            case 4:
                ((uint32_t *)d)[dr] = ((const uint32_t *)s)[r];
                break;
            case 8:
                ((uint64_t *)d)[dr] = ((const uint64_t *)s)[r];
                break;
            case 16:
                memcpy(d + (size_t)dr * 16, s + (size_t)r * 16, 16);
                break;
            default:
                memcpy(d + (size_t)dr * w, s + (size_t)r * w, w);
                break;
            }
        }
    }
}

/* Whether rows[0..n) increase strictly: then they can be the selection
 * vector of the probe batch itself. */
static bool
increasing(const uint32_t *rows, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        if (rows[i] <= rows[i - 1]) {
            return false;
        }
    }
    return true;
}

/* The next batch of pairs, filtered by the condition; *out NULL when the
 * pairs of this probe batch are used up. */
static lh_rc
emit_pairs(lh_xop *op, join_state *st, lh_batch **out, lh_err *err)
{
    const lh_join_cfg *cfg = op->node->cfg;
    uint8_t kind = cfg->kind;
    bool pair_out = kind == LH_JOIN_INNER || kind == LH_JOIN_LEFT ||
                    kind == LH_JOIN_RIGHT || kind == LH_JOIN_FULL ||
                    kind == LH_JOIN_CROSS;
    while (st->pairpos < st->npairs) {
        uint32_t n = (uint32_t)(st->npairs - st->pairpos < LH_BATCH_ROWS
                                    ? st->npairs - st->pairpos
                                    : LH_BATCH_ROWS);
        const uint32_t *pl = st->pl + st->pairpos;
        const uint32_t *pr = st->pr + st->pairpos;
        st->pairpos += n;
        lh__op_reset_batch(op);
        /* the joined rows: left then right, for the condition and out */
        lh_batch j = {.count = n, .ncols = cfg->nleft + cfg->nright};
        j.cols = lh_arena_calloc(&op->batch,
                                 (j.ncols ? j.ncols : 1) * sizeof(lh_vector));
        if (j.cols == NULL) {
            return lh__op_nomem(op, err);
        }
        if (pair_out && cfg->cond == NULL && kind != LH_JOIN_CROSS &&
            increasing(pl, n)) {
            /* Each probe row matched once at most (a key into a unique
             * build side): the probe batch's columns go out as they are,
             * selected by the matching rows, and the build side's values
             * are put at those rows. */
            uint32_t count = st->in->count;
            j.count = count;
            memcpy(j.cols, st->in->cols, cfg->nleft * sizeof(lh_vector));
            for (uint32_t c = 0; c < cfg->nright; c++) {
                lh_rc rc = lh_vector_alloc(&j.cols[cfg->nleft + c],
                                           op->node->children[1]->types[c],
                                           count, true, &op->batch, err);
                if (rc != LH_OK) {
                    return rc;
                }
            }
            gather_right(st, &j, cfg->nleft, pr, pl, n, cfg->nright);
            for (uint32_t i = 0; i < n; i++) {
                st->lmatched[pl[i]] = 1;
                if (st->matched) {
                    st->matched[pr[i]] = 1;
                }
            }
            st->out = j;
            st->out.sel = st->pl + (st->pairpos - n); /* pl, writable */
            st->out.nsel = n;
            *out = &st->out;
            return LH_OK;
        }
        for (uint32_t c = 0; c < cfg->nleft; c++) {
            lh_rc rc = lh_vector_alloc(&j.cols[c], st->in->cols[c].type, n,
                                       true, &op->batch, err);
            if (rc != LH_OK) {
                return rc;
            }
            lh__vec_gather(&j.cols[c], 0, &st->in->cols[c], pl, n);
        }
        for (uint32_t c = 0; c < cfg->nright; c++) {
            lh_rc rc = lh_vector_alloc(&j.cols[cfg->nleft + c],
                                       op->node->children[1]->types[c], n, true,
                                       &op->batch, err);
            if (rc != LH_OK) {
                return rc;
            }
        }
        lh_batch jr = j;
        jr.cols = j.cols;
        gather_right(st, &jr, cfg->nleft, pr, NULL, n, cfg->nright);
        uint32_t *sel = NULL;
        uint32_t k = n;
        if (cfg->cond) {
            lh_rc rc =
                lh__eval_filter(&op->ec, cfg->cond, &j, NULL, n, &sel, &k);
            if (rc != LH_OK) {
                return rc;
            }
        }
        for (uint32_t i = 0; i < k; i++) {
            uint32_t p = sel ? sel[i] : i;
            st->lmatched[pl[p]] = 1;
            if (st->matched) {
                st->matched[pr[p]] = 1;
            }
        }
        if (!pair_out || k == 0) {
            continue;
        }
        st->out = j;
        if (k < n) {
            st->out.sel = sel;
            st->out.nsel = k;
        }
        *out = &st->out;
        return LH_OK;
    }
    *out = NULL;
    return LH_OK;
}

/* After a probe batch's pairs: the rows the kind adds for left rows. */
static lh_rc
emit_extras(lh_xop *op, join_state *st, lh_batch **out, lh_err *err)
{
    const lh_join_cfg *cfg = op->node->cfg;
    uint8_t kind = cfg->kind;
    *out = NULL;
    if (kind != LH_JOIN_LEFT && kind != LH_JOIN_FULL && kind != LH_JOIN_SEMI &&
        kind != LH_JOIN_ANTI) {
        return LH_OK;
    }
    lh__op_reset_batch(op);
    lh_batch *in = st->in;
    uint32_t n = in->sel ? in->nsel : in->count;
    bool want = kind == LH_JOIN_SEMI;
    uint32_t *rows = lh_arena_alloc(&op->batch, (n ? n : 1) * sizeof(uint32_t));
    if (rows == NULL) {
        return lh__op_nomem(op, err);
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = lh_row(in->sel, i);
        if ((st->lmatched[r] != 0) == want) {
            rows[k++] = r;
        }
    }
    if (k == 0) {
        return LH_OK;
    }
    if (kind == LH_JOIN_SEMI || kind == LH_JOIN_ANTI) {
        /* the left batch itself, narrowed */
        st->out = *in;
        st->out.ncols = op->node->ncols;
        st->out.sel = rows;
        st->out.nsel = k;
        *out = &st->out;
        return LH_OK;
    }
    lh_rc rc = alloc_out(op, st, k, err);
    if (rc != LH_OK) {
        return rc;
    }
    for (uint32_t c = 0; c < cfg->nleft; c++) {
        lh__vec_gather(&st->out.cols[c], 0, &in->cols[c], rows, k);
    }
    for (uint32_t c = 0; c < cfg->nright; c++) {
        lh_vector *v = &st->out.cols[cfg->nleft + c];
        memset(v->validity, 0, ((size_t)k + 63) / 64 * 8);
    }
    *out = &st->out;
    return LH_OK;
}

/* At the end: right rows no left row matched (RIGHT, FULL). */
static lh_rc
emit_right(lh_xop *op, join_state *st, lh_batch **out, lh_err *err)
{
    const lh_join_cfg *cfg = op->node->cfg;
    *out = NULL;
    if (st->matched == NULL) {
        return LH_OK;
    }
    build *b = st->b;
    lh__op_reset_batch(op);
    uint32_t *rows =
        lh_arena_alloc(&op->batch, LH_BATCH_ROWS * sizeof(uint32_t));
    if (rows == NULL) {
        return lh__op_nomem(op, err);
    }
    uint32_t k = 0;
    while (st->right_pos < b->nrows && k < LH_BATCH_ROWS) {
        if (!st->matched[st->right_pos]) {
            rows[k++] = (uint32_t)st->right_pos;
        }
        st->right_pos++;
    }
    if (k == 0) {
        return LH_OK;
    }
    lh_rc rc = alloc_out(op, st, k, err);
    if (rc != LH_OK) {
        return rc;
    }
    for (uint32_t c = 0; c < cfg->nleft; c++) {
        memset(st->out.cols[c].validity, 0, ((size_t)k + 63) / 64 * 8);
    }
    gather_right(st, &st->out, cfg->nleft, rows, NULL, k, cfg->nright);
    *out = &st->out;
    return LH_OK;
}

static lh_rc
join_open(lh_xop *op, lh_err *err)
{
    const lh_join_cfg *cfg = op->node->cfg;
    join_state *st = lh__op_calloc(op, sizeof(join_state));
    if (st == NULL) {
        return lh__op_nomem(op, err);
    }
    op->state = st;
    lh_arena_init(&st->probe_arena, 0);
    st->lkeys = lh__op_calloc(op, (cfg->nkeys + 1) * sizeof(lh_vector *));
    if (st->lkeys == NULL) {
        return lh__op_nomem(op, err);
    }
    lh_rc rc = get_build(op, err);
    if (rc != LH_OK) {
        return rc;
    }
    if (cfg->kind == LH_JOIN_RIGHT || cfg->kind == LH_JOIN_FULL) {
        st->matched = lh_calloc(st->b->nrows ? st->b->nrows : 1, 1);
        if (st->matched == NULL) {
            return lh__op_nomem(op, err);
        }
    }
    st->extras_done = true;
    return LH_OK;
}

static lh_rc
join_next(lh_xop *op, lh_batch **out, lh_err *err)
{
    join_state *st = op->state;
    for (;;) {
        if (st->in && st->pairpos < st->npairs) {
            lh_rc rc = emit_pairs(op, st, out, err);
            if (rc != LH_OK || *out) {
                return rc;
            }
        }
        if (st->in && !st->extras_done) {
            st->extras_done = true;
            lh_rc rc = emit_extras(op, st, out, err);
            if (rc != LH_OK || *out) {
                return rc;
            }
        }
        if (st->probe_done) {
            return emit_right(op, st, out, err);
        }
        lh_batch *in;
        lh_rc rc = lh__op_next(op->children[0], &in, err);
        if (rc != LH_OK) {
            return rc;
        }
        if (in == NULL) {
            st->probe_done = true;
            st->in = NULL;
            continue;
        }
        st->in = in;
        st->extras_done = false;
        lh_free(st->lmatched);
        st->lmatched = lh_calloc(in->count ? in->count : 1, 1);
        if (st->lmatched == NULL) {
            return lh__op_nomem(op, err);
        }
        if (st->b->nrows == 0) {
            st->npairs = 0;
            st->pairpos = 0;
            continue;
        }
        rc = pairs(op, st, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
}

static void
join_close(lh_xop *op)
{
    join_state *st = op->state;
    if (st == NULL) {
        return;
    }
    if (st->own_build) {
        build_free(st->b);
    }
    st->b = NULL;
    lh_free(st->matched);
    lh_free(st->lmatched);
    lh_free(st->pl);
    lh_free(st->pr);
    lh_free(st->h);
    lh_arena_release(&st->probe_arena);
    st->matched = st->lmatched = NULL;
    st->pl = st->pr = NULL;
    st->h = NULL;
}

void lh__join_builds_free(lh_exec *ex);

void
lh__join_builds_free(lh_exec *ex)
{
    for (join_shared *js = ex->joins; js;) {
        join_shared *n = js->next;
        build_free(js->b);
        lh_free(js);
        js = n;
    }
    ex->joins = NULL;
}

static void
join_explain(const lh_pnode *n, const lh_xop *op, lh_buf *out)
{
    (void)op;
    static const char *const kinds[] = {"inner", "left",  "right",
                                        "full",  "cross", "semi",
                                        "anti",  "mark",  "single"};
    const lh_plan *p = n->plan;
    lh_buf_printf(out, " %s", kinds[p->u.join.kind]);
    for (uint32_t i = 0; i < p->u.join.nkeys; i++) {
        lh_buf_puts(out, i ? " AND " : " on ");
        lh_sql_expr_text(p->u.join.lkeys[i], NULL, out);
        lh_buf_puts(out, " = ");
        lh_sql_expr_text(p->u.join.rkeys[i], NULL, out);
    }
    if (p->u.join.cond) {
        lh_buf_puts(out, p->u.join.nkeys ? " filter " : " cond ");
        lh_sql_expr_text(p->u.join.cond, NULL, out);
    }
}

const lh_op_vt lh__op_join = {
    .name = "HashJoin",
    .pipelines = 2, /* the build side */
    .open = join_open,
    .next = join_next,
    .close = join_close,
    .explain = join_explain,
};
