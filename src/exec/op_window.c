/*
 * The window operator: window functions and aggregates over frames
 * (docs/internals/sql.md, "Windows").
 *
 * The input (run on every worker of its pipeline) is kept whole, each
 * batch with the expressions the calls need evaluated beside its columns
 * ("slots", exec_int.h); then the slots are concatenated into one column
 * of N rows each. Calls with the same PARTITION BY and ORDER BY share one
 * sort: a permutation of the rows, ordered by the ORDER BY keys (a radix
 * sort of normalized 64-bit keys for one fixed-width key, else a
 * comparison sort with the row index as the last key, so ties keep input
 * order), then grouped by partition with a stable counting sort over the
 * partition ids a hash table gives (hash.c). Within the sorted order each
 * partition is a range of positions, and each peer group (rows with equal
 * ORDER BY keys) a range within it.
 *
 * Each call is computed for every position, in sorted space, into a
 * column that is then scattered back to input order; the output is the
 * input's rows in the last sort's order with the calls' columns beside.
 *
 * Frames: [start, end) per position, from ROWS (positions), GROUPS (peer
 * groups) or RANGE (a binary search on the ORDER BY key for the bounds
 * the binder computed, key -/+ offset); EXCLUDE removes the current row,
 * its group or its ties, which leaves up to three ranges.
 *
 * Aggregates over frames, per partition, by the shape of the frame:
 *   whole partition  one state, updated once;
 *   growing (UNBOUNDED PRECEDING start, no EXCLUDE)  one running state,
 *     updated as the end moves and snapshotted at each row (init +
 *     combine, or a byte copy for states that cannot combine);
 *   narrow (every frame at most NAIVE_MAX rows)  a fresh state per row
 *     updated over the frame;
 *   other  a segment tree of states over the partition (combine), its
 *     leaves TREE_LEAF rows each, so a frame costs O(log n) combines
 *     and at most 2 * TREE_LEAF row updates: O(n log n) whatever the
 *     frame.
 * The per-row states are finalized a block at a time into the result.
 *
 * Memory: the whole input, the sorted arguments and the states are
 * charged to the query's budget (memory_limit); past it the query fails
 * with a message saying so (windows do not spill to disk yet).
 */
#include <stdlib.h>
#include <string.h>

#include "exec/exec_int.h"

#define NAIVE_MAX 32
#define TREE_LEAF 32 /* rows a leaf of the segment tree */
#define BLOCK 1024   /* rows finalized at once (a multiple of 64) */

/* ---- building ----------------------------------------------------------- */

typedef struct wbuild {
    lh_pctx *pc;
    const lh_cscope *sc;
    const lh_bexpr **src; /* per extra slot: its expression */
    lh_cexpr **exprs;
    uint32_t n, cap, cap2;
} wbuild;

static lh_rc
build_err(lh_pctx *pc, lh_rc code, int32_t pos, const char *what)
{
    lh_err_set(pc->err, code, "%s", what);
    if (pc->err) {
        pc->err->offset = pos;
    }
    return code;
}

/* The slot holding e's value: an input column as is, else an expression
 * evaluated as the input arrives (one slot per distinct expression). */
static lh_rc
slot_of(wbuild *w, const lh_bexpr *e, int32_t *out)
{
    if (e->kind == LH_BX_COL) {
        for (uint32_t i = 0; i < w->sc->nids; i++) {
            if (w->sc->ids[i] == e->u.col) {
                *out = (int32_t)i;
                return LH_OK;
            }
        }
    }
    for (uint32_t i = 0; i < w->n; i++) {
        if (lh_sql_expr_equal(w->src[i], e)) {
            *out = (int32_t)(w->sc->nids + i);
            return LH_OK;
        }
    }
    uint32_t c1 = w->cap, c2 = w->cap2;
    const lh_bexpr **ns =
        lh_sql_grow(w->pc->a, w->src, w->n, &c1, sizeof(lh_bexpr *), 8);
    lh_cexpr **ne =
        lh_sql_grow(w->pc->a, w->exprs, w->n, &c2, sizeof(lh_cexpr *), 8);
    if (ns == NULL || ne == NULL) {
        return lh_err_set(w->pc->err, LH_ENOMEM,
                          "out of memory planning the query");
    }
    w->src = ns;
    w->exprs = ne;
    w->cap = c1;
    w->cap2 = c2;
    lh_rc rc = lh__compile(w->pc, w->sc, e, &w->exprs[w->n]);
    if (rc != LH_OK) {
        return rc;
    }
    w->src[w->n] = e;
    *out = (int32_t)(w->sc->nids + w->n++);
    return LH_OK;
}

static lh_rc
slot_opt(wbuild *w, const lh_bexpr *e, int32_t *out)
{
    *out = -1;
    return e ? slot_of(w, e, out) : LH_OK;
}

static bool
same_sort(const lh_window_spec *a, const lh_window_spec *b)
{
    if (a->npartition != b->npartition || a->norder != b->norder) {
        return false;
    }
    for (uint32_t i = 0; i < a->npartition; i++) {
        if (!lh_sql_expr_equal(a->partition[i], b->partition[i])) {
            return false;
        }
    }
    for (uint32_t i = 0; i < a->norder; i++) {
        if (a->order[i].desc != b->order[i].desc ||
            a->order[i].nulls_first != b->order[i].nulls_first ||
            !lh_sql_expr_equal(a->order[i].expr, b->order[i].expr)) {
            return false;
        }
    }
    return true;
}

static lh_rc
build_sort(wbuild *w, const lh_window_spec *ws, lh_window_sortspec *s)
{
    lh_pctx *pc = w->pc;
    s->npart = ws->npartition;
    s->norder = ws->norder;
    s->part = lh_arena_calloc(pc->a, (s->npart + 1) * sizeof(uint32_t));
    s->part_types = lh_arena_calloc(pc->a, (s->npart + 1) * sizeof(lh_type));
    s->order = lh_arena_calloc(pc->a, (s->norder + 1) * sizeof(uint32_t));
    s->desc = lh_arena_calloc(pc->a, s->norder + 1);
    s->nulls_first = lh_arena_calloc(pc->a, s->norder + 1);
    if (!s->part || !s->part_types || !s->order || !s->desc ||
        !s->nulls_first) {
        return lh_err_set(pc->err, LH_ENOMEM,
                          "out of memory planning the query");
    }
    for (uint32_t i = 0; i < s->npart; i++) {
        int32_t sl;
        lh_rc rc = slot_of(w, ws->partition[i], &sl);
        if (rc != LH_OK) {
            return rc;
        }
        s->part[i] = (uint32_t)sl;
        s->part_types[i] = ws->partition[i]->type;
    }
    for (uint32_t i = 0; i < s->norder; i++) {
        int32_t sl;
        lh_rc rc = slot_of(w, ws->order[i].expr, &sl);
        if (rc != LH_OK) {
            return rc;
        }
        s->order[i] = (uint32_t)sl;
        s->desc[i] = ws->order[i].desc;
        s->nulls_first[i] = ws->order[i].nulls_first;
    }
    return LH_OK;
}

lh_rc
lh__window_build(lh_pctx *pc, const lh_plan *p, const lh_cscope *sc,
                 lh_pnode *n)
{
    uint32_t nc = p->u.window.ncalls;
    lh_window_cfg *cfg = lh_arena_calloc(pc->a, sizeof(lh_window_cfg));
    const lh_window_spec **reps =
        lh_arena_calloc(pc->a, (nc + 1) * sizeof(lh_window_spec *));
    if (cfg == NULL || reps == NULL) {
        return lh_err_set(pc->err, LH_ENOMEM,
                          "out of memory planning the query");
    }
    cfg->calls = lh_arena_calloc(pc->a, (nc + 1) * sizeof(lh_window_call));
    cfg->sorts = lh_arena_calloc(pc->a, (nc + 1) * sizeof(lh_window_sortspec));
    if (cfg->calls == NULL || cfg->sorts == NULL) {
        return lh_err_set(pc->err, LH_ENOMEM,
                          "out of memory planning the query");
    }
    cfg->ncalls = nc;
    wbuild w = {.pc = pc, .sc = sc};
    for (uint32_t i = 0; i < nc; i++) {
        const lh_bexpr *e = p->u.window.calls[i];
        const lh_window_spec *ws = e->u.agg.over;
        lh_window_call *c = &cfg->calls[i];
        const lh_fn_impl *impl = e->u.agg.fn->impl;
        c->fn = e->u.agg.fn;
        c->type = e->type;
        c->pos = e->pos;
        if (c->fn->kind == LH_FN_WINDOW && impl && impl->win) {
            c->code = impl->win->code;
        } else if (impl && impl->agg) {
            c->agg = impl->agg;
        } else {
            return build_err(pc, LH_EINTERNAL, e->pos,
                             "window function without an implementation");
        }
        if (e->u.agg.distinct) {
            return build_err(pc, LH_EUNSUPPORTED, e->pos,
                             "unsupported: DISTINCT in a window aggregate");
        }
        if (e->u.agg.norder) {
            return build_err(pc, LH_EUNSUPPORTED, e->pos,
                             "unsupported: ORDER BY inside a window "
                             "aggregate's arguments");
        }
        if (e->u.agg.ignore_nulls) {
            return build_err(pc, LH_EUNSUPPORTED, e->pos,
                             "unsupported: IGNORE NULLS in window functions");
        }
        if (e->u.agg.filter && c->agg == NULL) {
            return build_err(pc, LH_EINVAL, e->pos,
                             "FILTER is not implemented for non-aggregate "
                             "window functions");
        }
        c->nargs = e->u.agg.nargs;
        c->args = lh_arena_calloc(pc->a, (c->nargs + 1) * sizeof(uint32_t));
        if (c->args == NULL) {
            return lh_err_set(pc->err, LH_ENOMEM,
                              "out of memory planning the query");
        }
        for (uint32_t k = 0; k < c->nargs; k++) {
            int32_t sl;
            lh_rc rc = slot_of(&w, e->u.agg.args[k], &sl);
            if (rc != LH_OK) {
                return rc;
            }
            c->args[k] = (uint32_t)sl;
        }
        lh_rc rc = slot_opt(&w, e->u.agg.filter, &c->filter);
        if (rc != LH_OK) {
            return rc;
        }
        uint32_t s = 0;
        while (s < cfg->nsorts && !same_sort(reps[s], ws)) {
            s++;
        }
        if (s == cfg->nsorts) {
            reps[s] = ws;
            rc = build_sort(&w, ws, &cfg->sorts[s]);
            if (rc != LH_OK) {
                return rc;
            }
            cfg->nsorts++;
        }
        c->sort = s;
        c->unit = ws->unit;
        c->start_kind = ws->start_kind;
        c->end_kind = ws->end_kind;
        c->exclude = ws->exclude;
        c->rdesc = ws->norder && ws->order[0].desc;
        c->rnulls_first = ws->norder && ws->order[0].nulls_first;
        rc = slot_opt(&w, ws->start, &c->start);
        if (rc == LH_OK) {
            rc = slot_opt(&w, ws->end, &c->end);
        }
        if (rc == LH_OK) {
            rc = slot_opt(&w, ws->range_key, &c->rkey);
        }
        if (rc == LH_OK) {
            rc = slot_opt(&w, ws->range_start, &c->rstart);
        }
        if (rc == LH_OK) {
            rc = slot_opt(&w, ws->range_end, &c->rend);
        }
        if (rc != LH_OK) {
            return rc;
        }
    }
    cfg->exprs = w.exprs;
    cfg->nexprs = w.n;
    n->cfg = cfg;
    return LH_OK;
}

/* ---- state -------------------------------------------------------------- */

typedef struct wworker {
    lh_batch *chunks;
    uint32_t nchunks, cap;
    uint64_t rows;
    lh_arena arena;
    lh_arena scratch;
    lh_evalctx ec;
} wworker;

/* One sort: the permutation, its partitions and peer groups. */
typedef struct wsort {
    uint32_t *perm;   /* sorted position -> input row */
    uint32_t *pstart; /* partition starts (npart + 1 entries) */
    uint32_t npart;
    uint32_t *grp; /* sorted position -> peer group */
    uint32_t *gb;  /* peer group starts (ngroups + 1 entries) */
    uint32_t ngroups;
} wsort;

typedef struct wstate {
    wworker *w;
    uint32_t nworkers;
    uint32_t nin, nslots;
    uint32_t nrows;
    lh_vector *cols; /* the slots, N rows each, input order */
    lh_vector *res;  /* the calls' results, input order */
    uint32_t *iota;  /* 0, 1, ..., N - 1 */
    const uint32_t *out_perm;
    uint32_t pos;
    lh_batch out;
} wstate;

/* Charges what op's arena grew by since the last call: LH_ENOMEM with a
 * message saying what the window operator holds, past the budget. */
static lh_rc
wcharge(lh_xop *op, lh_err *err)
{
    int64_t delta = (int64_t)op->arena.held - op->charged;
    if (delta <= 0) {
        return LH_OK;
    }
    op->charged += delta;
    if (lh__exec_charge(op->ex, delta, NULL) != LH_OK) {
        return lh_err_set(err, LH_ENOMEM,
                          "query memory limit of %lld bytes exceeded: the "
                          "window operator keeps its whole input and its "
                          "states in memory (%lld bytes so far; windows do "
                          "not spill to disk yet)",
                          (long long)op->ex->mem.budget,
                          (long long)op->charged);
    }
    return LH_OK;
}

static lh_rc
wnomem(lh_xop *op, lh_err *err)
{
    return lh_err_set(err, LH_ENOMEM,
                      "out of memory in the window operator (%lld bytes "
                      "held)",
                      (long long)op->charged);
}

static void *
walloc(lh_xop *op, size_t n)
{
    return lh_arena_alloc(&op->arena, n ? n : 1);
}

static lh_rc
kerr_at(lh_err *err, int32_t pos, lh_rc code, const char *msg)
{
    lh_err_set(err, code, "%s", msg);
    if (err) {
        err->offset = pos;
    }
    return code;
}

/* ---- the input ---------------------------------------------------------- */

static lh_rc
wsink(void *ud, uint32_t worker, lh_batch *in, lh_err *err)
{
    lh_xop *op = ud;
    const lh_window_cfg *cfg = op->node->cfg;
    wstate *st = op->state;
    wworker *w = &st->w[worker];
    lh_arena_reset(&w->scratch);
    w->ec.err = err;
    uint32_t n = in->sel ? in->nsel : in->count;
    if (n == 0) {
        return LH_OK;
    }
    lh_batch wide = *in;
    wide.ncols = in->ncols + cfg->nexprs;
    wide.cols = lh_arena_alloc(&w->scratch, wide.ncols * sizeof(lh_vector));
    if (wide.cols == NULL) {
        return wnomem(op, err);
    }
    memcpy(wide.cols, in->cols, in->ncols * sizeof(lh_vector));
    for (uint32_t k = 0; k < cfg->nexprs; k++) {
        const lh_vector *v;
        lh_rc rc = lh__eval(&w->ec, cfg->exprs[k], in, in->sel, n, &v);
        if (rc != LH_OK) {
            return rc;
        }
        wide.cols[in->ncols + k] = *v;
    }
    size_t before = w->arena.held;
    lh_batch copy;
    lh_rc rc = lh__batch_copy(&w->arena, &wide, &copy, err);
    if (rc != LH_OK) {
        return rc;
    }
    if (lh__exec_charge(op->ex, (int64_t)(w->arena.held - before), NULL) !=
        LH_OK) {
        return lh_err_set(err, LH_ENOMEM,
                          "query memory limit of %lld bytes exceeded: the "
                          "window operator keeps its whole input in memory "
                          "(windows do not spill to disk yet)",
                          (long long)op->ex->mem.budget);
    }
    if (w->nchunks == w->cap) {
        uint32_t ncap = w->cap ? w->cap * 2 : 16;
        lh_batch *nc = lh_realloc(w->chunks, ncap * sizeof(lh_batch));
        if (nc == NULL) {
            return wnomem(op, err);
        }
        w->chunks = nc;
        w->cap = ncap;
    }
    w->chunks[w->nchunks++] = copy;
    w->rows += copy.count;
    return LH_OK;
}

static lh_type
slot_type(const lh_xop *op, uint32_t s)
{
    const lh_window_cfg *cfg = op->node->cfg;
    const lh_pnode *child = op->node->children[0];
    return s < child->ncols ? child->types[s]
                            : cfg->exprs[s - child->ncols]->type;
}

/* Concatenates the workers' chunks into one column per slot. */
static lh_rc
concat(lh_xop *op, wstate *st, lh_err *err)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < st->nworkers; i++) {
        total += st->w[i].rows;
    }
    if (total >= UINT32_MAX) {
        return lh_err_set(err, LH_EUNSUPPORTED,
                          "unsupported: a window over more than %u rows",
                          UINT32_MAX - 1);
    }
    uint32_t n = st->nrows = (uint32_t)total;
    st->cols = walloc(op, st->nslots * sizeof(lh_vector));
    st->iota = walloc(op, ((size_t)n + LH_BATCH_ROWS) * sizeof(uint32_t));
    if (st->cols == NULL || st->iota == NULL) {
        return wnomem(op, err);
    }
    for (uint32_t i = 0; i < n + LH_BATCH_ROWS; i++) {
        st->iota[i] = i;
    }
    for (uint32_t s = 0; s < st->nslots; s++) {
        lh_type t = slot_type(op, s);
        if (lh_type_is_nested(t)) {
            return lh_err_set(err, LH_EUNSUPPORTED,
                              "unsupported: LIST, MAP or STRUCT columns "
                              "through a window");
        }
        lh_rc rc = lh_vector_alloc(&st->cols[s], t, n, true, &op->arena, err);
        if (rc != LH_OK) {
            return rc;
        }
        uint32_t at = 0;
        for (uint32_t i = 0; i < st->nworkers; i++) {
            for (uint32_t c = 0; c < st->w[i].nchunks; c++) {
                const lh_batch *b = &st->w[i].chunks[c];
                lh__vec_gather(&st->cols[s], at, &b->cols[s], st->iota,
                               b->count);
                at += b->count;
            }
        }
    }
    return wcharge(op, err);
}

/* ---- sorting ------------------------------------------------------------ */

typedef struct ordctx {
    const lh_window_sortspec *s;
    const lh_vector *cols;
} ordctx;

/* Rows a and b by the ORDER BY keys: 0 for peers. */
static int
cmp_order(const ordctx *c, uint32_t a, uint32_t b)
{
    for (uint32_t k = 0; k < c->s->norder; k++) {
        const lh_vector *v = &c->cols[c->s->order[k]];
        bool na = !lh_vec_valid(v, a), nb = !lh_vec_valid(v, b);
        if (na || nb) {
            if (na && nb) {
                continue;
            }
            int r = na ? -1 : 1;
            return c->s->nulls_first[k] ? r : -r;
        }
        int r = lh__vec_cmp(v, a, v, b);
        if (r) {
            return c->s->desc[k] ? -r : r;
        }
    }
    return 0;
}

static int
cmp_rows(const void *pa, const void *pb, void *ud)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    int r = cmp_order(ud, a, b);
    return r ? r : (a > b) - (a < b);
}

/* A fixed-width key as an unsigned 64-bit number in the key's order;
 * false for types that do not fit. */
static bool
norm_key(const lh_vector *v, uint32_t r, uint64_t *out)
{
    const void *d = v->data;
    switch (v->type.id) {
    case LH_T_BOOLEAN:
        *out = ((const bool *)d)[r];
        return true;
    case LH_T_SMALLINT:
        *out = (uint64_t)(int64_t)((const int16_t *)d)[r] ^ (1ull << 63);
        return true;
    case LH_T_INTEGER:
    case LH_T_DATE:
        *out = (uint64_t)(int64_t)((const int32_t *)d)[r] ^ (1ull << 63);
        return true;
    case LH_T_BIGINT:
    case LH_T_TIME:
    case LH_T_TIMESTAMP:
    case LH_T_TIMESTAMPTZ:
        *out = (uint64_t)((const int64_t *)d)[r] ^ (1ull << 63);
        return true;
    case LH_T_DECIMAL:
        if (v->type.precision > 18) {
            return false;
        }
        *out = (uint64_t)((const int64_t *)d)[r] ^ (1ull << 63);
        return true;
    case LH_T_DOUBLE:
    case LH_T_REAL: {
        double x = v->type.id == LH_T_DOUBLE ? ((const double *)d)[r]
                                             : ((const float *)d)[r];
        if (x != x) {
            x = __builtin_inf(); /* NaN sorts with the largest */
        }
        uint64_t u;
        x = x == 0 ? 0 : x; /* -0 = 0 */
        memcpy(&u, &x, 8);
        *out = (u >> 63) ? ~u : u | (1ull << 63);
        return true;
    }
    default:
        return false;
    }
}

/* LSD radix sort of (key, row) pairs by key, 16 bits a pass (stable). */
static lh_rc
radix_sort(lh_xop *op, uint64_t *key, uint32_t *row, uint32_t n, lh_err *err)
{
    uint64_t *k2 = lh_malloc((size_t)(n ? n : 1) * 8);
    uint32_t *r2 = lh_malloc((size_t)(n ? n : 1) * 4);
    uint32_t *cnt = lh_malloc(65536 * 4);
    if (k2 == NULL || r2 == NULL || cnt == NULL) {
        lh_free(k2);
        lh_free(r2);
        lh_free(cnt);
        return wnomem(op, err);
    }
    uint64_t *ks = key, *kd = k2;
    uint32_t *rs = row, *rd = r2;
    for (int pass = 0; pass < 4; pass++) {
        int shift = pass * 16;
        memset(cnt, 0, 65536 * 4);
        for (uint32_t i = 0; i < n; i++) {
            cnt[(ks[i] >> shift) & 0xffff]++;
        }
        if (n == 0 || cnt[(ks[0] >> shift) & 0xffff] == n) {
            continue; /* every key has this digit */
        }
        uint32_t sum = 0;
        for (uint32_t d = 0; d < 65536; d++) {
            uint32_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (uint32_t i = 0; i < n; i++) {
            uint32_t at = cnt[(ks[i] >> shift) & 0xffff]++;
            kd[at] = ks[i];
            rd[at] = rs[i];
        }
        uint64_t *tk = ks;
        ks = kd;
        kd = tk;
        uint32_t *tr = rs;
        rs = rd;
        rd = tr;
    }
    if (rs != row) {
        memcpy(row, rs, (size_t)n * 4);
    }
    lh_free(k2);
    lh_free(r2);
    lh_free(cnt);
    return LH_OK;
}

/* Sorts perm (the rows 0..n) by the ORDER BY keys, stably. */
static lh_rc
sort_by_order(lh_xop *op, wstate *st, const lh_window_sortspec *s,
              uint32_t *perm, lh_err *err)
{
    uint32_t n = st->nrows;
    ordctx oc = {s, st->cols};
    const lh_vector *v = s->norder == 1 ? &st->cols[s->order[0]] : NULL;
    uint64_t probe;
    if (v == NULL || n < 64 || !norm_key(v, 0, &probe)) {
        qsort_r(perm, n, sizeof(uint32_t), cmp_rows, &oc);
        return LH_OK;
    }
    /* NULLs first or last (stably), then the others by their key */
    uint32_t nn = 0;
    for (uint32_t i = 0; i < n; i++) {
        nn += !lh_vec_valid(v, i);
    }
    uint32_t nullat = s->nulls_first[0] ? 0 : n - nn;
    uint32_t valat = s->nulls_first[0] ? nn : 0;
    uint64_t *key = lh_malloc((size_t)(n - nn ? n - nn : 1) * 8);
    if (key == NULL) {
        return wnomem(op, err);
    }
    uint32_t vi = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!lh_vec_valid(v, i)) {
            perm[nullat++] = i;
            continue;
        }
        uint64_t k;
        norm_key(v, i, &k);
        key[vi] = s->desc[0] ? ~k : k;
        perm[valat + vi++] = i;
    }
    /* event data often arrives in its ORDER BY order (ts): then the
     * rows are sorted already */
    uint32_t k = 1;
    while (k < vi && key[k - 1] <= key[k]) {
        k++;
    }
    lh_rc rc =
        k >= vi
            ? LH_OK
            : radix_sort(op, key, perm + (s->nulls_first[0] ? nn : 0), vi, err);
    lh_free(key);
    return rc;
}

/* Whether sorted positions i - 1 and i are peers; one 64-bit key without
 * NULLs compares directly. */
static inline bool
peers(const ordctx *oc, const int64_t *k64, const uint32_t *perm, uint32_t i)
{
    if (k64) {
        return k64[perm[i - 1]] == k64[perm[i]];
    }
    return cmp_order(oc, perm[i - 1], perm[i]) == 0;
}

/* The sort of s: perm, partitions, peer groups. */
static lh_rc
make_sort(lh_xop *op, wstate *st, const lh_window_sortspec *s, wsort *ws,
          lh_err *err)
{
    uint32_t n = st->nrows;
    uint32_t *perm = walloc(op, (size_t)n * 4);
    ws->grp = walloc(op, (size_t)n * 4);
    ws->gb = walloc(op, ((size_t)n + 1) * 4);
    if (perm == NULL || ws->grp == NULL || ws->gb == NULL) {
        return wnomem(op, err);
    }
    memcpy(perm, st->iota, (size_t)n * 4);
    lh_rc rc = wcharge(op, err);
    if (rc == LH_OK && s->norder) {
        rc = sort_by_order(op, st, s, perm, err);
    }
    if (rc != LH_OK) {
        return rc;
    }
    if (s->npart == 0) {
        ws->perm = perm;
        ws->npart = 1;
        ws->pstart = walloc(op, 2 * 4);
        if (ws->pstart == NULL) {
            return wnomem(op, err);
        }
        ws->pstart[0] = 0;
        ws->pstart[1] = n;
    } else {
        /* partition ids by hashing the keys, then a stable counting sort
         * of the ordered rows by partition */
        lh_gtable *g;
        rc = lh__gtable_new(op->ex, s->part_types, s->npart, 0, &g, err);
        if (rc != LH_OK) {
            return rc;
        }
        uint32_t *gid = lh_malloc((size_t)(n ? n : 1) * 4);
        const lh_vector *keys[64];
        if (gid == NULL || s->npart > 64) {
            lh__gtable_free(g);
            lh_free(gid);
            return gid ? lh_err_set(err, LH_EUNSUPPORTED,
                                    "unsupported: more than 64 PARTITION BY "
                                    "keys")
                       : wnomem(op, err);
        }
        for (uint32_t k = 0; k < s->npart; k++) {
            keys[k] = &st->cols[s->part[k]];
        }
        for (uint32_t b = 0; b < n && rc == LH_OK; b += LH_BATCH_ROWS) {
            uint32_t m = n - b < LH_BATCH_ROWS ? n - b : LH_BATCH_ROWS;
            rc = lh__gtable_find(g, keys, n, st->iota + b, m, gid + b, err);
        }
        uint32_t np = rc == LH_OK ? lh__gtable_count(g) : 0;
        lh__gtable_free(g);
        ws->pstart = walloc(op, ((size_t)np + 1) * 4);
        ws->perm = walloc(op, (size_t)n * 4);
        if (rc == LH_OK && (ws->pstart == NULL || ws->perm == NULL)) {
            rc = wnomem(op, err);
        }
        if (rc != LH_OK) {
            lh_free(gid);
            return rc;
        }
        memset(ws->pstart, 0, ((size_t)np + 1) * 4);
        for (uint32_t i = 0; i < n; i++) {
            ws->pstart[gid[i] + 1]++;
        }
        for (uint32_t p = 0; p < np; p++) {
            ws->pstart[p + 1] += ws->pstart[p];
        }
        /* fill using a moving cursor per partition (pstart[p] is reused
         * as the cursor, then restored) */
        uint32_t *cur = lh_malloc((size_t)(np ? np : 1) * 4);
        if (cur == NULL) {
            lh_free(gid);
            return wnomem(op, err);
        }
        memcpy(cur, ws->pstart, (size_t)np * 4);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t r = perm[i];
            ws->perm[cur[gid[r]]++] = r;
        }
        lh_free(cur);
        lh_free(gid);
        ws->npart = np;
    }
    /* peer groups, never across partitions */
    ordctx oc = {s, st->cols};
    const int64_t *k64 = NULL;
    if (s->norder == 1) {
        const lh_vector *v = &st->cols[s->order[0]];
        uint8_t id = v->type.id;
        bool nonull = true;
        for (uint32_t w = 0; v->validity && w < (n + 63) / 64 && nonull; w++) {
            uint64_t want = w == n / 64 ? ((uint64_t)1 << (n % 64)) - 1 : ~0ull;
            nonull = (v->validity[w] & want) == want;
        }
        if (nonull && (id == LH_T_BIGINT || id == LH_T_TIMESTAMP ||
                       id == LH_T_TIMESTAMPTZ || id == LH_T_TIME ||
                       (id == LH_T_DECIMAL && v->type.precision <= 18))) {
            k64 = v->data;
        }
    }
    uint32_t ng = 0;
    for (uint32_t p = 0; p < ws->npart; p++) {
        for (uint32_t i = ws->pstart[p]; i < ws->pstart[p + 1]; i++) {
            if (i == ws->pstart[p] ||
                (s->norder && !peers(&oc, k64, ws->perm, i))) {
                ws->gb[ng++] = i;
            }
            ws->grp[i] = ng - 1;
        }
    }
    ws->gb[ng] = n;
    ws->ngroups = ng;
    return wcharge(op, err);
}

/* ---- frames ------------------------------------------------------------- */

/* What a call's computation needs of one partition. */
typedef struct wpart {
    const wsort *ws;
    uint32_t ps, pe;   /* the partition's positions */
    uint32_t g0, g1;   /* its peer groups [g0, g1) */
    uint32_t nlo, nhi; /* RANGE: positions whose key is not NULL */
} wpart;

static lh_rc
read_offset(const wstate *st, int32_t slot, uint32_t row, bool start,
            int32_t pos, int64_t *out, lh_err *err)
{
    const lh_vector *v = &st->cols[slot];
    if (!lh_vec_valid(v, row)) {
        return kerr_at(err, pos, LH_EINVAL,
                       start ? "frame starting offset must not be null"
                             : "frame ending offset must not be null");
    }
    int64_t x = ((const int64_t *)v->data)[row];
    if (x < 0) {
        return kerr_at(err, pos, LH_EINVAL,
                       start ? "frame starting offset must not be negative"
                             : "frame ending offset must not be negative");
    }
    *out = x;
    return LH_OK;
}

/* A RANGE offset must be neither NULL nor negative (PostgreSQL). */
static lh_rc
check_range_offset(const wstate *st, int32_t slot, uint32_t row, int32_t pos,
                   lh_err *err)
{
    lh_value v;
    lh__vec_get(&st->cols[slot], row, &v);
    bool bad = v.is_null;
    if (!bad) {
        switch (v.type.id) {
        case LH_T_SMALLINT:
        case LH_T_INTEGER:
        case LH_T_BIGINT:
            bad = v.u.i < 0;
            break;
        case LH_T_REAL:
        case LH_T_DOUBLE:
            bad = !(v.u.d >= 0);
            break;
        case LH_T_DECIMAL:
            bad = v.u.dec < 0;
            break;
        case LH_T_INTERVAL:
            bad = v.u.iv.months < 0 || v.u.iv.days < 0 || v.u.iv.micros < 0;
            break;
        default:
            break;
        }
    }
    return bad ? kerr_at(err, pos, LH_EINVAL,
                         "invalid preceding or following size in window "
                         "function")
               : LH_OK;
}

/* RANGE: the first position in [lo, hi) whose key is not before (end:
 * is after) the bound of row `row`, in the key's direction. */
static uint32_t
range_search(const wstate *st, const lh_window_call *c, uint32_t lo,
             uint32_t hi, const uint32_t *perm, int32_t bslot, uint32_t row,
             bool end)
{
    const lh_vector *k = &st->cols[c->rkey];
    const lh_vector *b = &st->cols[bslot];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int r = lh__vec_cmp(k, perm[mid], b, row);
        if (c->rdesc) {
            r = -r;
        }
        /* start: the prefix before the bound (r < 0); end: the prefix
         * not after it (r <= 0) */
        if (end ? r <= 0 : r < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* The frame [*fs, *fe) of position i. */
static lh_rc
frame_of(const wstate *st, const lh_window_call *c, const wpart *p, uint32_t i,
         uint32_t *fs, uint32_t *fe, lh_err *err)
{
    const wsort *ws = p->ws;
    uint32_t g = ws->grp[i];
    uint32_t row = ws->perm[i];
    if (c->unit == LH_FRAME_DEFAULT) {
        /* with ORDER BY: RANGE UNBOUNDED PRECEDING to the last peer;
         * without, a partition is one peer group: all of it */
        *fs = p->ps;
        *fe = ws->gb[g + 1];
        return LH_OK;
    }
    for (int side = 0; side < 2; side++) {
        uint8_t kind = side == 0 ? c->start_kind : c->end_kind;
        uint32_t at = 0;
        int64_t off = 0;
        lh_rc rc = LH_OK;
        switch (kind) {
        case LH_BOUND_UNBOUNDED_PRECEDING:
            at = p->ps;
            break;
        case LH_BOUND_UNBOUNDED_FOLLOWING:
            at = p->pe;
            break;
        case LH_BOUND_CURRENT_ROW:
            if (c->unit == LH_FRAME_ROWS) {
                at = side == 0 ? i : i + 1;
            } else {
                at = side == 0 ? ws->gb[g] : ws->gb[g + 1];
            }
            break;
        case LH_BOUND_PRECEDING:
        case LH_BOUND_FOLLOWING: {
            bool prec = kind == LH_BOUND_PRECEDING;
            if (c->unit == LH_FRAME_RANGE) {
                int32_t oslot = side == 0 ? c->start : c->end;
                rc = check_range_offset(st, oslot, row, c->pos, err);
                if (rc != LH_OK) {
                    return rc;
                }
                if (!lh_vec_valid(&st->cols[c->rkey], row)) {
                    /* a NULL key's frame is its peers (the NULLs) */
                    at = side == 0 ? ws->gb[g] : ws->gb[g + 1];
                } else {
                    at = range_search(st, c, p->nlo, p->nhi, ws->perm,
                                      side == 0 ? c->rstart : c->rend, row,
                                      side == 1);
                }
                break;
            }
            rc = read_offset(st, side == 0 ? c->start : c->end, row, side == 0,
                             c->pos, &off, err);
            if (rc != LH_OK) {
                return rc;
            }
            if (off > ((int64_t)1 << 40)) {
                off = (int64_t)1 << 40; /* past any partition */
            }
            if (c->unit == LH_FRAME_ROWS) {
                int64_t x = (int64_t)i + (prec ? -off : off) + side;
                at = x < (int64_t)p->ps   ? p->ps
                     : x > (int64_t)p->pe ? p->pe
                                          : (uint32_t)x;
            } else { /* GROUPS */
                int64_t x = (int64_t)g + (prec ? -off : off) + side;
                at = x < (int64_t)p->g0    ? p->ps
                     : x >= (int64_t)p->g1 ? p->pe
                                           : ws->gb[x];
            }
            break;
        }
        default:
            break;
        }
        if (side == 0) {
            *fs = at;
        } else {
            *fe = at < *fs ? *fs : at;
        }
    }
    return LH_OK;
}

/* The frame of position i minus its EXCLUDE: up to three ranges (r[2k],
 * r[2k+1]); returns how many. */
static uint32_t
frame_ranges(const lh_window_call *c, const wpart *p, uint32_t i, uint32_t fs,
             uint32_t fe, uint32_t *r)
{
    if (c->exclude == LH_EXCLUDE_NO_OTHERS || fs >= fe) {
        r[0] = fs;
        r[1] = fe;
        return fs < fe;
    }
    uint32_t g = p->ws->grp[i];
    uint32_t gl = p->ws->gb[g], gh = p->ws->gb[g + 1];
    /* the excluded ranges, in order */
    uint32_t x[4], nx = 0;
    switch (c->exclude) {
    case LH_EXCLUDE_CURRENT_ROW:
        x[0] = i;
        x[1] = i + 1;
        nx = 1;
        break;
    case LH_EXCLUDE_GROUP:
        x[0] = gl;
        x[1] = gh;
        nx = 1;
        break;
    default: /* TIES */
        x[0] = gl;
        x[1] = i;
        x[2] = i + 1;
        x[3] = gh;
        nx = 2;
        break;
    }
    uint32_t n = 0, at = fs;
    for (uint32_t k = 0; k < nx && at < fe; k++) {
        uint32_t a = x[2 * k], b = x[2 * k + 1];
        if (b <= at || a >= b) {
            continue;
        }
        if (a > at) {
            r[2 * n] = at;
            r[2 * n + 1] = a < fe ? a : fe;
            n++;
        }
        at = b;
    }
    if (at < fe) {
        r[2 * n] = at;
        r[2 * n + 1] = fe;
        n++;
    }
    return n;
}

/* ---- window-only functions ---------------------------------------------- */

static int64_t
i64_at(const lh_vector *v, uint32_t r)
{
    return ((const int64_t *)v->data)[r];
}

static void
copy_value(lh_vector *out, uint32_t i, const lh_vector *src, uint32_t j)
{
    if (!lh_vec_valid(src, j)) {
        lh_bit_set(out->validity, i, false);
        return;
    }
    lh__vec_copy_row(NULL, out, i, src, j, false, NULL);
}

/* The k-th row (0-based) of a frame's ranges, or UINT32_MAX. */
static uint32_t
nth_row(const uint32_t *r, uint32_t nr, uint64_t k, bool from_end)
{
    for (uint32_t q = 0; q < nr; q++) {
        uint32_t idx = from_end ? nr - 1 - q : q;
        uint64_t len = r[2 * idx + 1] - r[2 * idx];
        if (k < len) {
            return from_end ? r[2 * idx + 1] - 1 - (uint32_t)k
                            : r[2 * idx] + (uint32_t)k;
        }
        k -= len;
    }
    return UINT32_MAX;
}

/* argv: the arguments in sorted order; out: the result in sorted order. */
static lh_rc
win_fn(const wstate *st, const lh_window_call *c, const wpart *p,
       const lh_vector *const *argv, lh_vector *out, lh_err *err)
{
    const wsort *ws = p->ws;
    uint32_t np = p->pe - p->ps;
    int64_t *o64 = out->data;
    double *od = out->data;
    for (uint32_t i = p->ps; i < p->pe; i++) {
        uint32_t g = ws->grp[i];
        switch (c->code) {
        case LH_WIN_ROW_NUMBER:
            o64[i] = i - p->ps + 1;
            break;
        case LH_WIN_RANK:
            o64[i] = ws->gb[g] - p->ps + 1;
            break;
        case LH_WIN_DENSE_RANK:
            o64[i] = g - p->g0 + 1;
            break;
        case LH_WIN_PERCENT_RANK:
            od[i] =
                np > 1 ? (double)(ws->gb[g] - p->ps) / (double)(np - 1) : 0.0;
            break;
        case LH_WIN_CUME_DIST:
            od[i] = (double)(ws->gb[g + 1] - p->ps) / (double)np;
            break;
        case LH_WIN_NTILE: {
            if (!lh_vec_valid(argv[0], i)) {
                lh_bit_set(out->validity, i, false);
                break;
            }
            int64_t nb = i64_at(argv[0], i);
            if (nb <= 0) {
                return kerr_at(err, c->pos, LH_EINVAL,
                               "argument of ntile must be greater than zero");
            }
            /* the first np % nb buckets have one row more */
            uint64_t q = np / (uint64_t)nb, rem = np % (uint64_t)nb;
            uint64_t k = i - p->ps;
            uint64_t big = rem * (q + 1);
            o64[i] =
                (int64_t)(k < big ? k / (q + 1) + 1 : (k - big) / q + rem + 1);
            break;
        }
        case LH_WIN_LAG:
        case LH_WIN_LEAD: {
            int64_t off = 1;
            if (c->nargs > 1) {
                if (!lh_vec_valid(argv[1], i)) {
                    lh_bit_set(out->validity, i, false);
                    break;
                }
                off = i64_at(argv[1], i);
            }
            if (c->code == LH_WIN_LAG) {
                off = -off;
            }
            int64_t j = (int64_t)i + off;
            if (off != INT64_MIN && j >= (int64_t)p->ps && j < (int64_t)p->pe) {
                copy_value(out, i, argv[0], (uint32_t)j);
            } else if (c->nargs > 2) {
                copy_value(out, i, argv[2], i);
            } else {
                lh_bit_set(out->validity, i, false);
            }
            break;
        }
        default: { /* value functions over the frame */
            uint32_t fs, fe, r[6];
            lh_rc rc = frame_of(st, c, p, i, &fs, &fe, err);
            if (rc != LH_OK) {
                return rc;
            }
            uint32_t nr = frame_ranges(c, p, i, fs, fe, r);
            uint32_t j = UINT32_MAX;
            if (c->code == LH_WIN_FIRST_VALUE) {
                j = nth_row(r, nr, 0, false);
            } else if (c->code == LH_WIN_LAST_VALUE) {
                j = nth_row(r, nr, 0, true);
            } else {
                if (!lh_vec_valid(argv[1], i)) {
                    lh_bit_set(out->validity, i, false);
                    break;
                }
                int64_t k = i64_at(argv[1], i);
                if (k <= 0) {
                    return kerr_at(err, c->pos, LH_EINVAL,
                                   "argument of nth_value must be greater "
                                   "than zero");
                }
                j = nth_row(r, nr, (uint64_t)k - 1, false);
            }
            if (j == UINT32_MAX) {
                lh_bit_set(out->validity, i, false);
            } else {
                copy_value(out, i, argv[0], j);
            }
            break;
        }
        }
    }
    return LH_OK;
}

/* ---- aggregates over frames --------------------------------------------- */

typedef struct aggrun {
    lh_xop *op;
    const lh_window_call *c;
    const lh_agg_impl *impl;
    uint32_t ss; /* state stride */
    const lh_vector *const *argv;
    const lh_vector *filter; /* sorted; NULL = every row */
    lh_kctx k;
    void **ptrs;    /* LH_BATCH_ROWS state pointers for update */
    uint32_t *sel;  /* LH_BATCH_ROWS positions */
    char *block;    /* BLOCK states: one per row of the block */
    void **bstates; /* their pointers (or shared ones) for finalize */
    char *tree;     /* segment tree: 2 * leaves states */
    uint32_t leaves, tree_cap, tree_ps;
    char *run; /* the running state */
} aggrun;

static void
state_init(const aggrun *a, void *s)
{
    memset(s, 0, a->ss);
    if (a->impl->init) {
        a->impl->init(s);
    }
}

/* Adds the rows [lo, hi) (those passing FILTER) into state s. */
static lh_rc
add_rows(aggrun *a, void *s, uint32_t lo, uint32_t hi)
{
    while (lo < hi) {
        uint32_t m = 0;
        while (lo < hi && m < LH_BATCH_ROWS) {
            if (a->filter == NULL || (lh_vec_valid(a->filter, lo) &&
                                      ((const bool *)a->filter->data)[lo])) {
                a->sel[m] = lo;
                a->ptrs[m] = s;
                m++;
            }
            lo++;
        }
        if (m) {
            lh_rc rc = a->impl->update(&a->k, a->ptrs, a->argv, a->c->nargs,
                                       a->sel, m);
            if (rc != LH_OK) {
                return rc;
            }
        }
    }
    return LH_OK;
}

/* dst = a copy of src (init + combine; a byte copy without combine). */
static lh_rc
snapshot(aggrun *a, void *dst, const void *src)
{
    if (a->impl->combine == NULL) {
        memcpy(dst, src, a->ss);
        return LH_OK;
    }
    state_init(a, dst);
    return a->impl->combine(&a->k, dst, src);
}

static void *
tree_node(const aggrun *a, uint32_t n)
{
    return a->tree + (size_t)n * a->ss;
}

/* The segment tree over positions [ps, pe): leaf j holds the rows [ps +
 * j * TREE_LEAF, ...) (a leaf a row would cost a state a row: 32 times
 * the memory), leaves at [L, 2L), node n = combine(2n, 2n + 1). */
static lh_rc
tree_build(aggrun *a, uint32_t ps, uint32_t pe, lh_err *err)
{
    uint32_t nl = (pe - ps + TREE_LEAF - 1) / TREE_LEAF, L = 1;
    while (L < nl) {
        L *= 2;
    }
    if (2 * L > a->tree_cap) {
        a->tree = lh_arena_alloc(&a->op->arena, (size_t)2 * L * a->ss);
        if (a->tree == NULL) {
            return wnomem(a->op, err);
        }
        a->tree_cap = 2 * L;
        lh_rc rc = wcharge(a->op, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    a->leaves = L;
    a->tree_ps = ps;
    for (uint32_t n = 1; n < 2 * L; n++) {
        state_init(a, tree_node(a, n));
    }
    /* each row into its leaf */
    for (uint32_t lo = ps; lo < pe;) {
        uint32_t m = 0;
        while (lo < pe && m < LH_BATCH_ROWS) {
            if (a->filter == NULL || (lh_vec_valid(a->filter, lo) &&
                                      ((const bool *)a->filter->data)[lo])) {
                a->sel[m] = lo;
                a->ptrs[m] = tree_node(a, L + (lo - ps) / TREE_LEAF);
                m++;
            }
            lo++;
        }
        if (m) {
            lh_rc rc = a->impl->update(&a->k, a->ptrs, a->argv, a->c->nargs,
                                       a->sel, m);
            if (rc != LH_OK) {
                return rc;
            }
        }
    }
    for (uint32_t n = L - 1; n >= 1; n--) {
        lh_rc rc =
            a->impl->combine(&a->k, tree_node(a, n), tree_node(a, 2 * n));
        if (rc == LH_OK) {
            rc = a->impl->combine(&a->k, tree_node(a, n),
                                  tree_node(a, 2 * n + 1));
        }
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

/* s += the rows [lo, hi) (positions), in order: the rows of the partial
 * leaves at either end one by one, the whole leaves between through the
 * tree. */
static lh_rc
tree_query(aggrun *a, void *s, uint32_t lo, uint32_t hi)
{
    uint32_t jl = (lo - a->tree_ps + TREE_LEAF - 1) / TREE_LEAF;
    uint32_t jh = (hi - a->tree_ps) / TREE_LEAF;
    if (jl >= jh) {
        return add_rows(a, s, lo, hi);
    }
    lh_rc rc = add_rows(a, s, lo, a->tree_ps + jl * TREE_LEAF);
    if (rc != LH_OK) {
        return rc;
    }
    uint32_t right[64], nright = 0;
    uint32_t l = jl + a->leaves, h = jh + a->leaves;
    while (l < h) {
        if (l & 1) {
            rc = a->impl->combine(&a->k, s, tree_node(a, l++));
            if (rc != LH_OK) {
                return rc;
            }
        }
        if (h & 1) {
            right[nright++] = --h;
        }
        l >>= 1;
        h >>= 1;
    }
    while (nright) {
        rc = a->impl->combine(&a->k, s, tree_node(a, right[--nright]));
        if (rc != LH_OK) {
            return rc;
        }
    }
    return add_rows(a, s, a->tree_ps + jh * TREE_LEAF, hi);
}

/* Finalizes the states of positions [b0, b0 + m) (b0 a multiple of 64)
 * into out. */
static lh_rc
flush_block(aggrun *a, lh_vector *out, uint32_t b0, uint32_t m)
{
    if (m == 0) {
        return LH_OK;
    }
    lh_vector view = *out;
    view.data = (char *)out->data + (size_t)b0 * lh_type_width(out->type);
    view.validity = out->validity + b0 / 64;
    return a->impl->finalize(&a->k, a->bstates, m, &view);
}

typedef enum agg_mode {
    MODE_WHOLE = 1,
    MODE_RUNNING,
    MODE_NAIVE,
    MODE_TREE,
} agg_mode;

/* One call over every partition of its sort, into out (sorted order). */
static lh_rc
agg_fn(lh_xop *op, const wstate *st, const lh_window_call *c,
       const wpart *parts, const lh_vector *const *argv,
       const lh_vector *filter, lh_vector *out, lh_err *err)
{
    aggrun a = {.op = op,
                .c = c,
                .impl = c->agg,
                .ss = (c->agg->state_size + 15) & ~15u,
                .argv = argv,
                .filter = filter};
    if (a.ss == 0) {
        a.ss = 16;
    }
    a.k = (lh_kctx){.ec = &op->ec, .arena = &op->arena, .err = err};
    a.ptrs = walloc(op, LH_BATCH_ROWS * sizeof(void *));
    a.sel = walloc(op, LH_BATCH_ROWS * sizeof(uint32_t));
    a.block = walloc(op, (size_t)BLOCK * a.ss);
    a.bstates = walloc(op, BLOCK * sizeof(void *));
    a.run = walloc(op, a.ss);
    if (!a.ptrs || !a.sel || !a.block || !a.bstates || !a.run) {
        return wnomem(op, err);
    }
    uint32_t n = st->nrows;
    uint32_t b0 = 0; /* the block being filled: [b0, i) */
    uint32_t p = 0;
    agg_mode mode = 0;
    uint32_t prev_end = 0;
    void *whole_state = NULL;
    lh_rc rc = LH_OK;
    for (uint32_t i = 0; i < n && rc == LH_OK; i++) {
        if ((i & 0xffff) == 0xffff) {
            rc = lh__exec_check_cancel(op->ex, err);
            if (rc != LH_OK) {
                break;
            }
        }
        if (i - b0 == BLOCK) {
            rc = flush_block(&a, out, b0, BLOCK);
            b0 = i;
            if (rc != LH_OK) {
                break;
            }
        }
        if (i == 0 || i == parts[p].pe) {
            /* a new partition: choose how to aggregate its frames */
            while (i == parts[p].pe) {
                p++;
            }
            const wpart *pp = &parts[p];
            bool whole = c->exclude == LH_EXCLUDE_NO_OTHERS &&
                         ((c->unit == LH_FRAME_DEFAULT && c->rkey < 0 &&
                           pp->g1 - pp->g0 == 1) ||
                          (c->unit != LH_FRAME_DEFAULT &&
                           c->start_kind == LH_BOUND_UNBOUNDED_PRECEDING &&
                           c->end_kind == LH_BOUND_UNBOUNDED_FOLLOWING));
            bool growing = c->exclude == LH_EXCLUDE_NO_OTHERS &&
                           (c->unit == LH_FRAME_DEFAULT ||
                            c->start_kind == LH_BOUND_UNBOUNDED_PRECEDING);
            if (whole) {
                mode = MODE_WHOLE;
                /* its own state: rows of the previous partition in this
                 * block still point at theirs */
                whole_state = walloc(op, a.ss);
                if (whole_state == NULL) {
                    rc = wnomem(op, err);
                    break;
                }
                state_init(&a, whole_state);
                rc = add_rows(&a, whole_state, pp->ps, pp->pe);
            } else if (growing) {
                mode = MODE_RUNNING;
                state_init(&a, a.run);
                prev_end = pp->ps;
            } else {
                /* the widest frame decides between a fresh state per
                 * row and the tree */
                uint32_t widest = 0;
                for (uint32_t j = pp->ps; j < pp->pe && rc == LH_OK; j++) {
                    uint32_t fs, fe;
                    rc = frame_of(st, c, pp, j, &fs, &fe, err);
                    widest = fe - fs > widest ? fe - fs : widest;
                }
                if (rc != LH_OK) {
                    break;
                }
                if (widest <= NAIVE_MAX || c->agg->combine == NULL) {
                    mode = MODE_NAIVE;
                } else {
                    mode = MODE_TREE;
                    rc = tree_build(&a, pp->ps, pp->pe, err);
                }
            }
            if (rc != LH_OK) {
                break;
            }
        }
        const wpart *pp = &parts[p];
        void *s = a.block + (size_t)(i - b0) * a.ss;
        a.bstates[i - b0] = s;
        switch (mode) {
        case MODE_WHOLE:
            a.bstates[i - b0] = whole_state;
            break;
        case MODE_RUNNING: {
            uint32_t fs, fe;
            rc = frame_of(st, c, pp, i, &fs, &fe, err);
            if (rc != LH_OK) {
                break;
            }
            if (fe < prev_end) { /* never for these frames; be safe */
                state_init(&a, a.run);
                prev_end = pp->ps;
            }
            rc = add_rows(&a, a.run, prev_end, fe);
            prev_end = fe;
            if (rc == LH_OK) {
                rc = snapshot(&a, s, a.run);
            }
            break;
        }
        default: {
            uint32_t fs, fe, r[6];
            rc = frame_of(st, c, pp, i, &fs, &fe, err);
            if (rc != LH_OK) {
                break;
            }
            uint32_t nr = frame_ranges(c, pp, i, fs, fe, r);
            state_init(&a, s);
            for (uint32_t q = 0; q < nr && rc == LH_OK; q++) {
                rc = mode == MODE_NAIVE
                         ? add_rows(&a, s, r[2 * q], r[2 * q + 1])
                         : tree_query(&a, s, r[2 * q], r[2 * q + 1]);
            }
            break;
        }
        }
    }
    if (rc == LH_OK) {
        rc = flush_block(&a, out, b0, n - b0);
    }
    if (rc == LH_OK) {
        rc = wcharge(op, err);
    }
    return rc;
}

/* ---- computing ---------------------------------------------------------- */

/* dst[perm[i]] = src[i] for i < n (FLAT vectors of one type). */
static void
scatter(lh_vector *dst, const lh_vector *src, const uint32_t *perm, uint32_t n)
{
    size_t w = lh_type_width(dst->type);
    const char *s = src->data;
    char *d = dst->data;
    switch (w) {
    case 8:
        for (uint32_t i = 0; i < n; i++) {
            ((uint64_t *)d)[perm[i]] = ((const uint64_t *)s)[i];
        }
        break;
    case 4:
        for (uint32_t i = 0; i < n; i++) {
            ((uint32_t *)d)[perm[i]] = ((const uint32_t *)s)[i];
        }
        break;
    default:
        for (uint32_t i = 0; i < n; i++) {
            memcpy(d + (size_t)perm[i] * w, s + (size_t)i * w, w);
        }
        break;
    }
    for (uint32_t i = 0; i < n; i++) {
        lh_bit_set(dst->validity, perm[i], lh_vec_valid(src, i));
    }
}

/* A slot in sorted order. */
static lh_rc
sorted_slot(lh_xop *op, const wstate *st, const wsort *ws, uint32_t slot,
            lh_vector **out, lh_err *err)
{
    lh_vector *v = walloc(op, sizeof(lh_vector));
    if (v == NULL) {
        return wnomem(op, err);
    }
    lh_rc rc = lh_vector_alloc(v, st->cols[slot].type, st->nrows, true,
                               &op->arena, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh__vec_gather(v, 0, &st->cols[slot], ws->perm, st->nrows);
    *out = v;
    return LH_OK;
}

static lh_rc
compute_call(lh_xop *op, wstate *st, const lh_window_call *c, const wsort *ws,
             wpart *parts, lh_vector *res, lh_err *err)
{
    lh_vector *argv[16] = {0};
    if (c->nargs > 16) {
        return lh_err_set(err, LH_EUNSUPPORTED,
                          "unsupported: window calls of more than 16 "
                          "arguments");
    }
    lh_rc rc = LH_OK;
    for (uint32_t k = 0; k < c->nargs && rc == LH_OK; k++) {
        rc = sorted_slot(op, st, ws, c->args[k], &argv[k], err);
    }
    lh_vector *filter = NULL;
    if (rc == LH_OK && c->filter >= 0) {
        rc = sorted_slot(op, st, ws, (uint32_t)c->filter, &filter, err);
    }
    lh_vector out;
    if (rc == LH_OK) {
        rc = lh_vector_alloc(&out, c->type, st->nrows, true, &op->arena, err);
    }
    if (rc == LH_OK) {
        rc = wcharge(op, err);
    }
    if (rc != LH_OK) {
        return rc;
    }
    /* RANGE offsets: where each partition's non-NULL keys are */
    for (uint32_t p = 0; p < ws->npart; p++) {
        wpart *pp = &parts[p];
        pp->nlo = pp->ps;
        pp->nhi = pp->pe;
        if (c->rkey < 0) {
            continue;
        }
        const lh_vector *k = &st->cols[c->rkey];
        uint32_t nn = 0;
        for (uint32_t i = pp->ps; i < pp->pe; i++) {
            nn += !lh_vec_valid(k, ws->perm[i]);
        }
        if (c->rnulls_first) {
            pp->nlo += nn;
        } else {
            pp->nhi -= nn;
        }
    }
    if (c->agg) {
        rc = agg_fn(op, st, c, parts, (const lh_vector *const *)argv, filter,
                    &out, err);
    } else {
        for (uint32_t p = 0; p < ws->npart && rc == LH_OK; p++) {
            if ((p & 1023) == 0) {
                rc = lh__exec_check_cancel(op->ex, err);
            }
            if (rc == LH_OK) {
                rc = win_fn(st, c, &parts[p], (const lh_vector *const *)argv,
                            &out, err);
            }
        }
    }
    if (rc == LH_OK) {
        scatter(res, &out, ws->perm, st->nrows);
    }
    return rc;
}

static lh_rc
window_open(lh_xop *op, lh_err *err)
{
    const lh_window_cfg *cfg = op->node->cfg;
    const lh_pnode *child = op->node->children[0];
    wstate *st = lh__op_calloc(op, sizeof(wstate));
    if (st == NULL) {
        return lh__op_nomem(op, err);
    }
    op->state = st;
    st->nin = child->ncols;
    st->nslots = child->ncols + cfg->nexprs;
    uint32_t nw = lh__pipeline_workers(op, child);
    st->w = lh_calloc(nw, sizeof(wworker));
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
    lh_rc rc = lh__run_pipeline(op, child, nw, wsink, op, err);
    if (rc == LH_OK) {
        rc = concat(op, st, err);
    }
    if (rc != LH_OK) {
        return rc;
    }
    st->res = walloc(op, (cfg->ncalls + 1) * sizeof(lh_vector));
    if (st->res == NULL) {
        return wnomem(op, err);
    }
    for (uint32_t c = 0; c < cfg->ncalls && rc == LH_OK; c++) {
        rc = lh_vector_alloc(&st->res[c], cfg->calls[c].type, st->nrows, true,
                             &op->arena, err);
    }
    st->out_perm = st->iota;
    for (uint32_t s = 0; s < cfg->nsorts && rc == LH_OK && st->nrows; s++) {
        wsort ws;
        rc = make_sort(op, st, &cfg->sorts[s], &ws, err);
        if (rc != LH_OK) {
            break;
        }
        wpart *parts = walloc(op, (ws.npart + 1) * sizeof(wpart));
        if (parts == NULL) {
            rc = wnomem(op, err);
            break;
        }
        for (uint32_t p = 0; p < ws.npart; p++) {
            parts[p] = (wpart){.ws = &ws,
                               .ps = ws.pstart[p],
                               .pe = ws.pstart[p + 1],
                               .g0 = ws.grp[ws.pstart[p]],
                               .g1 = ws.grp[ws.pstart[p + 1] - 1] + 1};
        }
        /* a sentinel past the last partition */
        parts[ws.npart] = (wpart){.ws = &ws, .ps = st->nrows, .pe = UINT32_MAX};
        for (uint32_t c = 0; c < cfg->ncalls && rc == LH_OK; c++) {
            if (cfg->calls[c].sort == s) {
                rc = compute_call(op, st, &cfg->calls[c], &ws, parts,
                                  &st->res[c], err);
            }
        }
        st->out_perm = ws.perm;
    }
    return rc;
}

static lh_rc
window_next(lh_xop *op, lh_batch **out, lh_err *err)
{
    wstate *st = op->state;
    *out = NULL;
    lh__op_reset_batch(op);
    if (st->pos >= st->nrows) {
        return LH_OK;
    }
    uint32_t n = st->nrows - st->pos < LH_BATCH_ROWS ? st->nrows - st->pos
                                                     : LH_BATCH_ROWS;
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
        const lh_vector *src =
            c < st->nin ? &st->cols[c] : &st->res[c - st->nin];
        lh_rc rc = lh_vector_alloc(&b->cols[c], op->node->types[c], n, true,
                                   &op->batch, err);
        if (rc != LH_OK) {
            return rc;
        }
        lh__vec_gather(&b->cols[c], 0, src, st->out_perm + st->pos, n);
    }
    st->pos += n;
    *out = b;
    return LH_OK;
}

static void
window_close(lh_xop *op)
{
    wstate *st = op->state;
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
    st->w = NULL;
}

static void
window_explain(const lh_pnode *n, const lh_xop *op, lh_buf *out)
{
    (void)op;
    const lh_plan *p = n->plan;
    const lh_window_cfg *cfg = n->cfg;
    for (uint32_t i = 0; i < p->u.window.ncalls; i++) {
        lh_buf_puts(out, i ? ", " : " ");
        lh_sql_expr_text(p->u.window.calls[i], NULL, out);
    }
    lh_buf_printf(out, " (%u sort%s)", cfg->nsorts,
                  cfg->nsorts == 1 ? "" : "s");
}

const lh_op_vt lh__op_window = {
    .name = "Window",
    .pipelines = 1,
    .open = window_open,
    .next = window_next,
    .close = window_close,
    .explain = window_explain,
};
