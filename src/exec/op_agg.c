/*
 * Hash aggregation, with grouping sets. The input pipeline runs on every
 * worker (morsel-driven when it starts at a parallel scan); each worker
 * keeps its own group table per grouping set, and the tables are merged by
 * combining states when the input is done. Aggregates with DISTINCT (and
 * ordered ones, string_agg(x ORDER BY y)) keep one worker, since their
 * partial states do not merge.
 *
 * Per batch and grouping set: the keys of the set are evaluated (the keys
 * outside it are NULL), the group of each row found or made, and each
 * aggregate updated on its rows (narrowed by FILTER, and by a (group,
 * value) table for DISTINCT).
 */
#include <stdlib.h>
#include <string.h>

#include "exec/exec_int.h"

lh_rc lh__gtable_lookup(lh_gtable *g, const lh_vector *const *keys,
                        const uint32_t *sel, uint32_t n, uint32_t *gid,
                        lh_err *err);

/* The kept rows of an ordered aggregate: chunks of (group, arguments,
 * order keys), compact copies in the worker's arena. */
typedef struct ordbuf {
    lh_batch *chunks;
    uint32_t n, cap;
    uint64_t rows;
} ordbuf;

typedef struct agg_worker {
    lh_gtable **tables;   /* per grouping set */
    ordbuf **obufs;       /* per set, per aggregate: ORDER BY's rows */
    lh_gtable ***dtables; /* per set, per aggregate: DISTINCT (group, args) */
    lh_arena arena;       /* aggregate state bytes (strings), scratch */
    lh_arena scratch;     /* per batch */
    lh_evalctx ec;
    uint32_t *gid;
    uint32_t gcap;
} agg_worker;

typedef struct agg_state {
    agg_worker *w;
    uint32_t nworkers;
    uint32_t nsets;
    uint64_t all_keys; /* the set mask of "every key" */
    bool done;
    /* output cursor */
    uint32_t out_set, out_group;
    lh_batch out;
} agg_state;

static uint64_t
set_mask(const lh_agg_cfg *cfg, const agg_state *st, uint32_t s)
{
    return cfg->sets ? cfg->sets[s] : st->all_keys;
}

static lh_rc
worker_init(lh_xop *op, agg_worker *w, lh_err *err)
{
    const lh_agg_cfg *cfg = op->node->cfg;
    agg_state *st = op->state;
    lh_arena_init(&w->arena, 0);
    lh_arena_init(&w->scratch, 0);
    w->ec = op->ec;
    w->ec.arena = &w->scratch;
    w->ec.memo = NULL;
    w->ec.memo_arena = &w->arena;
    w->tables = lh_calloc(st->nsets, sizeof(lh_gtable *));
    w->dtables = lh_calloc(st->nsets, sizeof(lh_gtable **));
    w->obufs = lh_calloc(st->nsets, sizeof(ordbuf *));
    if (w->tables == NULL || w->dtables == NULL || w->obufs == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t s = 0; s < st->nsets; s++) {
        lh_rc rc = lh__gtable_new(op->ex, cfg->group_types, cfg->ngroups,
                                  cfg->state_size, &w->tables[s], err);
        if (rc != LH_OK) {
            return rc;
        }
        w->dtables[s] =
            lh_calloc(cfg->naggs ? cfg->naggs : 1, sizeof(lh_gtable *));
        w->obufs[s] = lh_calloc(cfg->naggs ? cfg->naggs : 1, sizeof(ordbuf));
        if (w->dtables[s] == NULL || w->obufs[s] == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    return LH_OK;
}

static void
worker_release(agg_worker *w, uint32_t nsets, uint32_t naggs)
{
    for (uint32_t s = 0; s < nsets; s++) {
        if (w->tables) {
            lh__gtable_free(w->tables[s]);
        }
        if (w->dtables && w->dtables[s]) {
            for (uint32_t a = 0; a < naggs; a++) {
                lh__gtable_free(w->dtables[s][a]);
            }
            lh_free(w->dtables[s]);
        }
        if (w->obufs && w->obufs[s]) {
            for (uint32_t a = 0; a < naggs; a++) {
                lh_free(w->obufs[s][a].chunks);
            }
            lh_free(w->obufs[s]);
        }
    }
    lh_free(w->tables);
    lh_free(w->dtables);
    lh_free(w->obufs);
    lh_free(w->gid);
    extern void lh__submemo_free(struct submemo * m);
    lh__submemo_free(w->ec.memo);
    lh_arena_release(&w->arena);
    lh_arena_release(&w->scratch);
}

static lh_rc
init_new_groups(const lh_agg_cfg *cfg, lh_gtable *t, uint32_t from, uint32_t to)
{
    for (uint32_t g = from; g < to; g++) {
        uint8_t *row = lh__gtable_state(t, g);
        for (uint32_t a = 0; a < cfg->naggs; a++) {
            if (cfg->aggs[a].impl->init) {
                cfg->aggs[a].impl->init(row + cfg->aggs[a].offset);
            }
        }
    }
    return LH_OK;
}

/* The rows of a DISTINCT aggregate whose (group, arguments) is new. */
static lh_rc
distinct_rows(lh_xop *op, agg_worker *w, uint32_t s, uint32_t a,
              const lh_batch *in, const uint32_t *gid, const uint32_t *rows,
              uint32_t n, const lh_vector *const *args, uint32_t **out,
              uint32_t *nout, lh_err *err)
{
    const lh_agg_cfg *cfg = op->node->cfg;
    const lh_agg_call *c = &cfg->aggs[a];
    uint32_t nk = c->nargs + 1;
    lh_vector *keys[9];
    if (nk > 9) {
        return lh_err_set(err, LH_EUNSUPPORTED,
                          "unsupported: DISTINCT over more than 8 arguments");
    }
    lh_vector *gv;
    lh_rc rc = lh__vec_new(&w->scratch, lh_sql_type(LH_T_BIGINT), in->count,
                           false, &gv, err);
    if (rc != LH_OK) {
        return rc;
    }
    for (uint32_t i = 0; i < n; i++) {
        ((int64_t *)gv->data)[rows[i]] = gid[rows[i]];
    }
    keys[0] = gv;
    for (uint32_t i = 0; i < c->nargs; i++) {
        keys[i + 1] = (lh_vector *)args[i];
    }
    if (w->dtables[s][a] == NULL) {
        lh_type types[9];
        types[0] = lh_sql_type(LH_T_BIGINT);
        for (uint32_t i = 0; i < c->nargs; i++) {
            types[i + 1] = args[i]->type;
        }
        rc = lh__gtable_new(op->ex, types, nk, 0, &w->dtables[s][a], err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    lh_gtable *dt = w->dtables[s][a];
    uint32_t before = lh__gtable_count(dt);
    uint32_t *dg = lh_arena_alloc(&w->scratch, (n ? n : 1) * sizeof(uint32_t));
    uint32_t *res = lh_arena_alloc(&w->scratch, (n ? n : 1) * sizeof(uint32_t));
    if (dg == NULL || res == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    rc = lh__gtable_find(dt, (const lh_vector *const *)keys, in->count, rows, n,
                         dg, err);
    if (rc != LH_OK) {
        return rc;
    }
    /* a row is new when its entry was made in this batch, first time */
    uint32_t k = 0;
    uint32_t next_new = before;
    for (uint32_t i = 0; i < n; i++) {
        if (dg[i] == next_new) {
            res[k++] = rows[i];
            next_new++;
        }
    }
    *out = res;
    *nout = k;
    return LH_OK;
}

/* Keeps rows r[0..rn) of an ordered aggregate: a compact chunk of the
 * group ids, the arguments and the order keys. */
static lh_rc
keep_ordered(agg_worker *w, ordbuf *ob, const lh_agg_call *c,
             const lh_batch *in, const uint32_t *r, uint32_t rn,
             const lh_vector *const *args, lh_err *err)
{
    uint32_t ncols = 1 + c->nargs + c->norder;
    lh_batch tmp = {
        .count = in->count, .sel = (uint32_t *)r, .nsel = rn, .ncols = ncols};
    tmp.cols = lh_arena_calloc(&w->scratch, ncols * sizeof(lh_vector));
    lh_vector *gv;
    lh_rc rc = lh__vec_new(&w->scratch, lh_sql_type(LH_T_INTEGER), in->count,
                           false, &gv, err);
    if (rc != LH_OK || tmp.cols == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < rn; i++) {
        ((int32_t *)gv->data)[r[i]] = (int32_t)w->gid[r[i]];
    }
    tmp.cols[0] = *gv;
    for (uint32_t k = 0; k < c->nargs; k++) {
        tmp.cols[1 + k] = *args[k];
    }
    for (uint32_t k = 0; k < c->norder; k++) {
        const lh_vector *v;
        rc = lh__eval(&w->ec, c->order[k], in, r, rn, &v);
        if (rc != LH_OK) {
            return rc;
        }
        tmp.cols[1 + c->nargs + k] = *v;
    }
    if (ob->n == ob->cap) {
        uint32_t ncap = ob->cap ? ob->cap * 2 : 16;
        lh_batch *nc = lh_realloc(ob->chunks, ncap * sizeof(lh_batch));
        if (nc == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        ob->chunks = nc;
        ob->cap = ncap;
    }
    rc = lh__batch_copy(&w->arena, &tmp, &ob->chunks[ob->n], err);
    if (rc != LH_OK) {
        return rc;
    }
    ob->n++;
    ob->rows += rn;
    return LH_OK;
}

typedef struct ordref {
    uint32_t chunk, row;
} ordref;

typedef struct ordcmp {
    const lh_agg_call *c;
    const ordbuf *ob;
} ordcmp;

/* By group, then the order keys (NULLs as asked), then arrival. */
static int
cmp_ordref(const void *pa, const void *pb, void *ud)
{
    const ordcmp *x = ud;
    const ordref *a = pa, *b = pb;
    const lh_batch *ba = &x->ob->chunks[a->chunk],
                   *bb = &x->ob->chunks[b->chunk];
    int32_t ga = ((const int32_t *)ba->cols[0].data)[a->row];
    int32_t gb = ((const int32_t *)bb->cols[0].data)[b->row];
    if (ga != gb) {
        return ga < gb ? -1 : 1;
    }
    for (uint32_t k = 0; k < x->c->norder; k++) {
        const lh_vector *va = &ba->cols[1 + x->c->nargs + k];
        const lh_vector *vb = &bb->cols[1 + x->c->nargs + k];
        bool na = !lh_vec_valid(va, a->row), nb = !lh_vec_valid(vb, b->row);
        if (na || nb) {
            if (na && nb) {
                continue;
            }
            int r = na ? -1 : 1;
            return x->c->order_nulls_first[k] ? r : -r;
        }
        int r = lh__vec_cmp(va, a->row, vb, b->row);
        if (r) {
            return x->c->order_desc[k] ? -r : r;
        }
    }
    if (a->chunk != b->chunk) {
        return a->chunk < b->chunk ? -1 : 1;
    }
    return a->row < b->row ? -1 : a->row > b->row;
}

/* Feeds the kept rows of the ordered aggregates into their states, in
 * order (one worker: ordered aggregates do not run in parallel). */
static lh_rc
feed_ordered(lh_xop *op, agg_worker *w, lh_err *err)
{
    const lh_agg_cfg *cfg = op->node->cfg;
    agg_state *st = op->state;
    for (uint32_t s = 0; s < st->nsets; s++) {
        for (uint32_t a = 0; a < cfg->naggs; a++) {
            const lh_agg_call *c = &cfg->aggs[a];
            const ordbuf *ob = &w->obufs[s][a];
            if (c->norder == 0 || ob->rows == 0) {
                continue;
            }
            ordref *refs = lh_malloc(ob->rows * sizeof(ordref));
            if (refs == NULL) {
                return lh_err_set(err, LH_ENOMEM, "out of memory");
            }
            uint64_t m = 0;
            for (uint32_t ch = 0; ch < ob->n; ch++) {
                for (uint32_t r = 0; r < ob->chunks[ch].count; r++) {
                    refs[m].chunk = ch;
                    refs[m++].row = r;
                }
            }
            ordcmp x = {c, ob};
            qsort_r(refs, m, sizeof(ordref), cmp_ordref, &x);
            lh_rc rc = LH_OK;
            for (uint64_t at = 0; at < m && rc == LH_OK; at += LH_BATCH_ROWS) {
                lh_arena_reset(&w->scratch);
                uint32_t n =
                    m - at < LH_BATCH_ROWS ? (uint32_t)(m - at) : LH_BATCH_ROWS;
                const lh_vector *args[8];
                void **states = lh_arena_alloc(&w->scratch, n * sizeof(void *));
                if (states == NULL) {
                    rc = lh_err_set(err, LH_ENOMEM, "out of memory");
                    break;
                }
                for (uint32_t k = 0; k < c->nargs && rc == LH_OK; k++) {
                    lh_vector *v;
                    rc =
                        lh__vec_new(&w->scratch, ob->chunks[0].cols[1 + k].type,
                                    n, true, &v, err);
                    for (uint32_t i = 0; i < n && rc == LH_OK; i++) {
                        const ordref *f = &refs[at + i];
                        rc = lh__vec_copy_row(&w->scratch, v, i,
                                              &ob->chunks[f->chunk].cols[1 + k],
                                              f->row, false, err);
                    }
                    args[k] = v;
                }
                for (uint32_t i = 0; i < n && rc == LH_OK; i++) {
                    const ordref *f = &refs[at + i];
                    int32_t g = ((const int32_t *)ob->chunks[f->chunk]
                                     .cols[0]
                                     .data)[f->row];
                    states[i] =
                        (uint8_t *)lh__gtable_state(w->tables[s], (uint32_t)g) +
                        c->offset;
                }
                if (rc == LH_OK) {
                    lh_kctx kc = {.ec = &w->ec, .arena = &w->arena, .err = err};
                    rc = c->impl->update(&kc, states, args, c->nargs, NULL, n);
                }
            }
            lh_free(refs);
            if (rc != LH_OK) {
                return rc;
            }
        }
    }
    return LH_OK;
}

/* Feeds one batch into worker w's tables. */
static lh_rc
consume(lh_xop *op, agg_worker *w, lh_batch *in, lh_err *err)
{
    const lh_agg_cfg *cfg = op->node->cfg;
    agg_state *st = op->state;
    lh_arena_reset(&w->scratch);
    uint32_t n = in->sel ? in->nsel : in->count;
    if (n == 0) {
        return LH_OK;
    }
    if (in->count > w->gcap) {
        uint32_t *ng = lh_realloc(w->gid, (size_t)in->count * sizeof(uint32_t));
        if (ng == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        w->gid = ng;
        w->gcap = in->count;
    }
    w->ec.err = err;
    /* the key vectors once for every set */
    const lh_vector **keys =
        lh_arena_alloc(&w->scratch, (cfg->ngroups + 1) * sizeof(lh_vector *));
    const lh_vector **skeys =
        lh_arena_alloc(&w->scratch, (cfg->ngroups + 1) * sizeof(lh_vector *));
    uint32_t *rows = lh_arena_alloc(&w->scratch, n * sizeof(uint32_t));
    uint32_t *pos = lh_arena_alloc(&w->scratch, n * sizeof(uint32_t));
    if (keys == NULL || skeys == NULL || rows == NULL || pos == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < n; i++) {
        rows[i] = lh_row(in->sel, i);
    }
    for (uint32_t k = 0; k < cfg->ngroups; k++) {
        lh_rc rc = lh__eval(&w->ec, cfg->groups[k], in, in->sel, n, &keys[k]);
        if (rc != LH_OK) {
            return rc;
        }
    }
    for (uint32_t s = 0; s < st->nsets; s++) {
        uint64_t mask = set_mask(cfg, st, s);
        for (uint32_t k = 0; k < cfg->ngroups; k++) {
            if (mask >> k & 1) {
                skeys[k] = keys[k];
            } else {
                lh_vector *nv = lh_arena_alloc(&w->scratch, sizeof(lh_vector));
                lh_value nul = {.type = cfg->group_types[k], .is_null = true};
                if (nv == NULL ||
                    lh__vec_const(&w->scratch, &nul, nv, err) != LH_OK) {
                    return lh_err_set(err, LH_ENOMEM, "out of memory");
                }
                skeys[k] = nv;
            }
        }
        lh_gtable *t = w->tables[s];
        uint32_t before = lh__gtable_count(t);
        lh_rc rc = lh__gtable_find(t, skeys, in->count, in->sel, n, pos, err);
        if (rc != LH_OK) {
            return rc;
        }
        init_new_groups(cfg, t, before, lh__gtable_count(t));
        for (uint32_t i = 0; i < n; i++) {
            w->gid[rows[i]] = pos[i];
        }
        for (uint32_t a = 0; a < cfg->naggs; a++) {
            const lh_agg_call *c = &cfg->aggs[a];
            const uint32_t *r = rows;
            uint32_t rn = n;
            if (c->filter) {
                uint32_t *fr = NULL;
                rc = lh__eval_filter(&w->ec, c->filter, in, r, rn, &fr, &rn);
                if (rc != LH_OK) {
                    return rc;
                }
                r = fr;
                if (rn == 0) {
                    continue;
                }
            }
            const lh_vector *args[8];
            if (c->nargs > 8) {
                return lh_err_set(err, LH_EUNSUPPORTED,
                                  "unsupported: aggregates of more than 8 "
                                  "arguments");
            }
            for (uint32_t k = 0; k < c->nargs; k++) {
                rc = lh__eval(&w->ec, c->args[k], in, r, rn, &args[k]);
                if (rc == LH_OK && args[k]->kind == LH_VEC_DICT) {
                    rc = lh__vec_flatten(&w->scratch, args[k], in->count, r, rn,
                                         &args[k], err);
                }
                if (rc != LH_OK) {
                    return rc;
                }
            }
            if (c->distinct) {
                uint32_t *dr = NULL;
                rc = distinct_rows(op, w, s, a, in, w->gid, r, rn, args, &dr,
                                   &rn, err);
                if (rc != LH_OK) {
                    return rc;
                }
                r = dr;
                if (rn == 0) {
                    continue;
                }
            }
            if (c->norder) {
                rc = keep_ordered(w, &w->obufs[s][a], c, in, r, rn, args, err);
                if (rc != LH_OK) {
                    return rc;
                }
                continue;
            }
            void **states = lh_arena_alloc(&w->scratch, rn * sizeof(void *));
            if (states == NULL) {
                return lh_err_set(err, LH_ENOMEM, "out of memory");
            }
            for (uint32_t i = 0; i < rn; i++) {
                states[i] =
                    (uint8_t *)lh__gtable_state(t, w->gid[r[i]]) + c->offset;
            }
            lh_kctx kc = {.ec = &w->ec, .arena = &w->arena, .err = err};
            rc = c->impl->update(&kc, states, args, c->nargs, r, rn);
            if (rc != LH_OK) {
                return rc;
            }
        }
    }
    return LH_OK;
}

static lh_rc
sink(void *ud, uint32_t worker, lh_batch *b, lh_err *err)
{
    lh_xop *op = ud;
    agg_state *st = op->state;
    return consume(op, &st->w[worker], b, err);
}

/* Merges worker src's tables into worker 0's. */
static lh_rc
merge(lh_xop *op, agg_worker *dst, agg_worker *src, lh_err *err)
{
    const lh_agg_cfg *cfg = op->node->cfg;
    agg_state *st = op->state;
    for (uint32_t s = 0; s < st->nsets; s++) {
        lh_gtable *from = src->tables[s], *to = dst->tables[s];
        uint32_t total = lh__gtable_count(from);
        for (uint32_t g0 = 0; g0 < total; g0 += LH_BATCH_ROWS) {
            lh_arena_reset(&dst->scratch);
            uint32_t n =
                total - g0 < LH_BATCH_ROWS ? total - g0 : LH_BATCH_ROWS;
            lh_vector **keys = lh_arena_alloc(
                &dst->scratch, (cfg->ngroups + 1) * sizeof(lh_vector *));
            uint32_t *gid = lh_arena_alloc(&dst->scratch, n * sizeof(uint32_t));
            if (keys == NULL || gid == NULL) {
                return lh_err_set(err, LH_ENOMEM, "out of memory");
            }
            for (uint32_t k = 0; k < cfg->ngroups; k++) {
                lh_rc rc = lh__gtable_keys(from, k, g0, n, &dst->scratch,
                                           &keys[k], err);
                if (rc != LH_OK) {
                    return rc;
                }
            }
            uint32_t before = lh__gtable_count(to);
            lh_rc rc = lh__gtable_find(to, (const lh_vector *const *)keys, n,
                                       NULL, n, gid, err);
            if (rc != LH_OK) {
                return rc;
            }
            init_new_groups(cfg, to, before, lh__gtable_count(to));
            lh_kctx kc = {.ec = &dst->ec, .arena = &dst->arena, .err = err};
            for (uint32_t i = 0; i < n; i++) {
                uint8_t *d = lh__gtable_state(to, gid[i]);
                const uint8_t *sp = lh__gtable_state(from, g0 + i);
                for (uint32_t a = 0; a < cfg->naggs; a++) {
                    const lh_agg_call *c = &cfg->aggs[a];
                    rc = c->impl->combine(&kc, d + c->offset, sp + c->offset);
                    if (rc != LH_OK) {
                        return rc;
                    }
                }
            }
        }
    }
    return LH_OK;
}

static lh_rc
agg_open(lh_xop *op, lh_err *err)
{
    const lh_agg_cfg *cfg = op->node->cfg;
    agg_state *st = lh__op_calloc(op, sizeof(agg_state));
    if (st == NULL) {
        return lh__op_nomem(op, err);
    }
    op->state = st;
    st->nsets = cfg->sets ? cfg->nsets : 1;
    st->all_keys =
        cfg->ngroups >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << cfg->ngroups) - 1);
    uint32_t nw = lh__pipeline_workers(op, op->node->children[0]);
    for (uint32_t a = 0; a < cfg->naggs; a++) {
        if (cfg->aggs[a].distinct || cfg->aggs[a].norder ||
            cfg->aggs[a].impl->combine == NULL) {
            nw = 1;
        }
    }
    st->w = lh_calloc(nw, sizeof(agg_worker));
    if (st->w == NULL) {
        return lh__op_nomem(op, err);
    }
    st->nworkers = nw;
    for (uint32_t i = 0; i < nw; i++) {
        lh_rc rc = worker_init(op, &st->w[i], err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    lh_rc rc = lh__run_pipeline(op, op->node->children[0], nw, sink, op, err);
    if (rc != LH_OK) {
        return rc;
    }
    for (uint32_t i = 1; i < nw; i++) {
        rc = merge(op, &st->w[0], &st->w[i], err);
        if (rc != LH_OK) {
            return rc;
        }
        worker_release(&st->w[i], st->nsets, cfg->naggs);
        memset(&st->w[i], 0, sizeof(agg_worker));
    }
    rc = feed_ordered(op, &st->w[0], err);
    if (rc != LH_OK) {
        return rc;
    }
    /* no GROUP BY (or the empty grouping set): one row even without input */
    for (uint32_t s = 0; s < st->nsets; s++) {
        if (set_mask(cfg, st, s) == 0 &&
            lh__gtable_count(st->w[0].tables[s]) == 0) {
            lh_vector **none = NULL;
            uint32_t gid;
            lh_vector dummy;
            memset(&dummy, 0, sizeof dummy);
            (void)none;
            lh_vector *keys[64];
            for (uint32_t k = 0; k < cfg->ngroups && k < 64; k++) {
                keys[k] = lh_arena_alloc(&st->w[0].scratch, sizeof(lh_vector));
                lh_value nul = {.type = cfg->group_types[k], .is_null = true};
                if (keys[k] == NULL || lh__vec_const(&st->w[0].scratch, &nul,
                                                     keys[k], err) != LH_OK) {
                    return lh__op_nomem(op, err);
                }
            }
            static const uint32_t zero = 0;
            rc = lh__gtable_find(st->w[0].tables[s],
                                 (const lh_vector *const *)keys, 1, &zero, 1,
                                 &gid, err);
            if (rc != LH_OK) {
                return rc;
            }
            init_new_groups(cfg, st->w[0].tables[s], 0, 1);
        }
    }
    return LH_OK;
}

static lh_rc
agg_next(lh_xop *op, lh_batch **out, lh_err *err)
{
    const lh_agg_cfg *cfg = op->node->cfg;
    agg_state *st = op->state;
    *out = NULL;
    lh__op_reset_batch(op);
    agg_worker *w = &st->w[0];
    while (st->out_set < st->nsets &&
           st->out_group >= lh__gtable_count(w->tables[st->out_set])) {
        st->out_set++;
        st->out_group = 0;
    }
    if (st->out_set >= st->nsets) {
        return LH_OK;
    }
    uint32_t s = st->out_set;
    lh_gtable *t = w->tables[s];
    uint32_t total = lh__gtable_count(t);
    uint32_t n = total - st->out_group;
    if (n > LH_BATCH_ROWS) {
        n = LH_BATCH_ROWS;
    }
    uint32_t from = st->out_group;
    uint32_t ncols = op->node->ncols;
    lh_batch *b = &st->out;
    memset(b, 0, sizeof *b);
    b->count = n;
    b->ncols = ncols;
    b->cols = lh_arena_calloc(&op->batch, ncols * sizeof(lh_vector));
    if (b->cols == NULL) {
        return lh__op_nomem(op, err);
    }
    uint64_t mask = set_mask(cfg, st, s);
    for (uint32_t k = 0; k < cfg->ngroups; k++) {
        if (mask >> k & 1) {
            lh_vector *v;
            lh_rc rc = lh__gtable_keys(t, k, from, n, &op->batch, &v, err);
            if (rc != LH_OK) {
                return rc;
            }
            b->cols[k] = *v;
        } else {
            lh_value nul = {.type = cfg->group_types[k], .is_null = true};
            lh_rc rc = lh__vec_const(&op->batch, &nul, &b->cols[k], err);
            if (rc != LH_OK) {
                return rc;
            }
        }
    }
    void **states = lh_arena_alloc(&op->batch, n * sizeof(void *));
    if (states == NULL) {
        return lh__op_nomem(op, err);
    }
    for (uint32_t a = 0; a < cfg->naggs; a++) {
        const lh_agg_call *c = &cfg->aggs[a];
        for (uint32_t i = 0; i < n; i++) {
            states[i] = (uint8_t *)lh__gtable_state(t, from + i) + c->offset;
        }
        lh_vector *v = &b->cols[cfg->ngroups + a];
        lh_rc rc = lh_vector_alloc(v, c->type, n, true, &op->batch, err);
        if (rc != LH_OK) {
            return rc;
        }
        lh_kctx kc = {.ec = &op->ec, .arena = &op->batch, .err = err};
        rc = c->impl->finalize(&kc, states, n, v);
        if (rc != LH_OK) {
            return rc;
        }
    }
    if (cfg->sets) {
        /* the grouping id: bit (nkeys - 1 - k) set when key k is not
         * grouped in this set (PostgreSQL's GROUPING order) */
        int64_t gid = 0;
        for (uint32_t k = 0; k < cfg->ngroups; k++) {
            if (!(mask >> k & 1)) {
                gid |= (int64_t)1 << (cfg->ngroups - 1 - k);
            }
        }
        lh_value v = {.type = lh_sql_type(LH_T_BIGINT)};
        v.u.i = gid;
        lh_rc rc = lh__vec_const(&op->batch, &v, &b->cols[ncols - 1], err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    st->out_group += n;
    *out = b;
    return LH_OK;
}

static void
agg_close(lh_xop *op)
{
    const lh_agg_cfg *cfg = op->node->cfg;
    agg_state *st = op->state;
    if (st == NULL || st->w == NULL) {
        return;
    }
    for (uint32_t i = 0; i < st->nworkers; i++) {
        worker_release(&st->w[i], st->nsets, cfg->naggs);
    }
    lh_free(st->w);
    st->w = NULL;
}

static void
agg_explain(const lh_pnode *n, const lh_xop *op, lh_buf *out)
{
    (void)op;
    const lh_plan *p = n->plan;
    if (p->u.agg.ngroups) {
        lh_buf_puts(out, " group by ");
        for (uint32_t i = 0; i < p->u.agg.ngroups; i++) {
            if (i) {
                lh_buf_puts(out, ", ");
            }
            lh_sql_expr_text(p->u.agg.groups[i], NULL, out);
        }
        if (p->u.agg.sets) {
            lh_buf_printf(out, " (%u grouping sets)", p->u.agg.nsets);
        }
    }
    for (uint32_t i = 0; i < p->u.agg.naggs; i++) {
        lh_buf_puts(out, i || p->u.agg.ngroups ? ", " : " ");
        lh_sql_expr_text(p->u.agg.aggs[i], NULL, out);
    }
}

const lh_op_vt lh__op_agg = {
    .name = "HashAggregate",
    .pipelines = 1,
    .open = agg_open,
    .next = agg_next,
    .close = agg_close,
    .explain = agg_explain,
};
