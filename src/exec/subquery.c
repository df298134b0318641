/*
 * Subqueries in expressions. An uncorrelated one runs once per execution
 * and its result is kept in the lh_exec (PostgreSQL's "init plan"); a
 * correlated one runs for each outer row with the correlated values as
 * its OUTER slots, memoized on those values per operator instance (most
 * correlated subqueries see the same values again and again).
 *
 * A result: SCALAR one value (NULL for no row; more than one row is an
 * error), EXISTS a boolean, IN / ANY / ALL the subquery's column as one
 * FLAT vector of all its rows.
 */
#include <string.h>

#include "exec/exec_int.h"

typedef struct subres {
    bool exists;
    lh_value scalar;
    lh_vector *vals; /* IN/ANY/ALL: the right side of the comparison */
    uint32_t nvals;
} subres;

typedef struct subcache {
    struct subcache *next;
    const lh_cexpr *e;
    subres res;
    lh_arena arena;
    bool done; /* res is there (or the run failed with rc) */
    lh_rc rc;
} subcache;

/* Per-operator memo of correlated results, keyed by the outer values. */
typedef struct submemo {
    lh_map map; /* key bytes -> subres* */
} submemo;

/* Runs the subquery once with `outer` values; the result lives in a. */
static lh_rc
run(lh_evalctx *ec, const lh_cexpr *e, const lh_value *outer, lh_arena *a,
    subres *res)
{
    memset(res, 0, sizeof *res);
    lh_xop *op;
    lh_rc rc = lh__op_make(ec->ex, e->sub, outer, NULL, 0, &op, ec->err);
    if (rc != LH_OK) {
        return rc;
    }
    rc = lh__op_open(op, ec->err);
    uint32_t cap = 0;
    lh_evalctx rc_ec = {.ex = ec->ex, .arena = a, .err = ec->err};
    while (rc == LH_OK) {
        lh_batch *b;
        rc = lh__op_next(op, &b, ec->err);
        if (rc != LH_OK || b == NULL) {
            break;
        }
        uint32_t n = b->sel ? b->nsel : b->count;
        if (n == 0) {
            continue;
        }
        if (e->sub_kind == LH_SUBQ_EXISTS) {
            res->exists = true;
            break; /* one row is enough */
        }
        if (e->sub_kind == LH_SUBQ_SCALAR) {
            if (res->exists || n > 1) {
                rc = lh_err_set(ec->err, LH_EINVAL,
                                "more than one row returned by a subquery "
                                "used as an expression");
                if (ec->err) {
                    ec->err->offset = e->pos;
                }
                break;
            }
            res->exists = true;
            lh_value v;
            lh_vector_value(&b->cols[0], lh_row(b->sel, 0), a, &v, ec->err);
            if (!v.is_null &&
                (v.type.id == LH_T_VARCHAR || v.type.id == LH_T_BLOB ||
                 v.type.id == LH_T_JSON)) {
                char *p =
                    lh_arena_memdup(a, v.u.s.p, v.u.s.len ? v.u.s.len : 1);
                if (p == NULL) {
                    rc = lh_err_set(ec->err, LH_ENOMEM, "out of memory");
                    break;
                }
                v.u.s.p = p;
            }
            res->scalar = v;
            continue;
        }
        /* IN / ANY / ALL: the right side of the comparison for every row */
        const lh_vector *rv;
        rc = lh__eval(&rc_ec, e->cmp->args[1], b, b->sel, n, &rv);
        if (rc != LH_OK) {
            break;
        }
        if (res->nvals + n > cap) {
            uint32_t ncap = cap ? cap * 2 : 1024;
            while (ncap < res->nvals + n) {
                ncap *= 2;
            }
            lh_vector *nv;
            rc = lh__vec_new(a, rv->type, ncap, true, &nv, ec->err);
            if (rc != LH_OK) {
                break;
            }
            for (uint32_t i = 0; i < res->nvals; i++) {
                lh__vec_copy_row(a, nv, i, res->vals, i, false, NULL);
            }
            res->vals = nv;
            cap = ncap;
        }
        for (uint32_t i = 0; i < n; i++) {
            rc = lh__vec_copy_row(a, res->vals, res->nvals++, rv,
                                  lh_row(b->sel, i), true, ec->err);
            if (rc != LH_OK) {
                break;
            }
        }
    }
    lh__op_free(op);
    if (rc == LH_OK && e->sub_kind == LH_SUBQ_SCALAR && !res->exists) {
        res->scalar.is_null = true;
        res->scalar.type = e->type;
    }
    return rc;
}

/* The cached result of an uncorrelated subquery, computed on first use.
 * The first worker to ask computes it outside the exec's lock (the
 * subquery's own operators take that lock: join builds, EXPLAIN ANALYZE
 * counters, nested subqueries); the others wait for it on ex->cv. */
static lh_rc
cached(lh_evalctx *ec, const lh_cexpr *e, const subres **out)
{
    lh_exec *ex = ec->ex;
    pthread_mutex_lock(&ex->mu);
    for (subcache *c = ex->subcache; c; c = c->next) {
        if (c->e == e) {
            while (!c->done) {
                pthread_cond_wait(&ex->cv, &ex->mu);
            }
            lh_rc rc = c->rc;
            pthread_mutex_unlock(&ex->mu);
            if (rc != LH_OK) {
                return lh_err_set(ec->err, rc, "the subquery failed");
            }
            *out = &c->res;
            return LH_OK;
        }
    }
    subcache *c = lh_calloc(1, sizeof(subcache));
    if (c == NULL) {
        pthread_mutex_unlock(&ex->mu);
        return lh_err_set(ec->err, LH_ENOMEM, "out of memory");
    }
    lh_arena_init(&c->arena, 0);
    c->e = e;
    c->next = ex->subcache;
    ex->subcache = c;
    pthread_mutex_unlock(&ex->mu);
    lh_rc rc = run(ec, e, NULL, &c->arena, &c->res);
    pthread_mutex_lock(&ex->mu);
    c->rc = rc;
    c->done = true;
    pthread_cond_broadcast(&ex->cv);
    pthread_mutex_unlock(&ex->mu);
    if (rc != LH_OK) {
        return rc;
    }
    *out = &c->res;
    return LH_OK;
}

void lh__subcache_free(lh_exec *ex);

void
lh__subcache_free(lh_exec *ex)
{
    subcache *c = ex->subcache;
    while (c) {
        subcache *n = c->next;
        lh_arena_release(&c->arena);
        lh_free(c);
        c = n;
    }
    ex->subcache = NULL;
}

void lh__submemo_free(struct submemo *m);

void
lh__submemo_free(struct submemo *m)
{
    if (m) {
        lh_map_release(&m->map);
        lh_free(m);
    }
}

/* The memo key of a tuple of values: type and bytes of each. */
static lh_rc
memo_key(const lh_value *vals, uint32_t n, lh_buf *key)
{
    lh_buf_reset(key);
    for (uint32_t i = 0; i < n; i++) {
        const lh_value *v = &vals[i];
        lh_buf_putc(key, (char)(v->is_null ? 0xff : v->type.id));
        if (v->is_null) {
            continue;
        }
        switch (v->type.id) {
        case LH_T_VARCHAR:
        case LH_T_BLOB:
        case LH_T_JSON: {
            uint32_t l = (uint32_t)v->u.s.len;
            lh_buf_append(key, &l, 4);
            lh_buf_append(key, v->u.s.p, l);
            break;
        }
        case LH_T_REAL:
        case LH_T_DOUBLE:
            lh_buf_append(key, &v->u.d, 8);
            break;
        case LH_T_DECIMAL:
            lh_buf_append(key, &v->u.dec, sizeof(lh_i128));
            break;
        case LH_T_BOOLEAN:
            lh_buf_putc(key, (char)v->u.b);
            break;
        case LH_T_UUID:
            lh_buf_append(key, &v->u.uuid, 16);
            break;
        case LH_T_INTERVAL:
            lh_buf_append(key, &v->u.iv, sizeof(lh_interval));
            break;
        default:
            lh_buf_append(key, &v->u.i, 8);
            break;
        }
    }
    return lh_buf_ok(key) ? LH_OK : LH_ENOMEM;
}

/* The comparison `left op right[j]` for every j, folded into one
 * three-valued result: ANY/IN (OR) or ALL (AND). */
static lh_rc
compare_all(lh_evalctx *ec, const lh_cexpr *e, const lh_vector *left,
            uint32_t lrow, const subres *res, bool *is_null, bool *value)
{
    bool any = e->sub_kind != LH_SUBQ_ALL;
    *is_null = false;
    *value = !any;
    if (res->nvals == 0) {
        return LH_OK; /* IN () false, ALL () true */
    }
    if (!lh_vec_valid(left, lrow)) {
        *is_null = true;
        return LH_OK;
    }
    lh_value lv;
    lh__vec_get(left, lrow, &lv);
    lh_vector lc;
    lh_rc rc = lh__vec_const(ec->arena, &lv, &lc, ec->err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_vector *o;
    rc = lh__vec_new(ec->arena, lh_sql_type(LH_T_BOOLEAN), res->nvals, true, &o,
                     ec->err);
    if (rc != LH_OK) {
        return rc;
    }
    memcpy(o->validity, res->vals->validity,
           ((size_t)res->nvals + 63) / 64 * 8);
    const lh_vector *args[2] = {&lc, res->vals};
    lh_kctx k = {.ec = ec, .e = e->cmp, .arena = ec->arena, .err = ec->err};
    rc = e->cmp->kernel(&k, args, 2, NULL, res->nvals, o);
    if (rc != LH_OK) {
        return rc;
    }
    const uint8_t *d = o->data;
    bool saw_null = false;
    for (uint32_t j = 0; j < res->nvals; j++) {
        if (!lh_vec_valid(o, j)) {
            saw_null = true;
        } else if ((d[j] != 0) == any) {
            *value = any;
            return LH_OK;
        }
    }
    *is_null = saw_null;
    return LH_OK;
}

lh_rc lh__eval_subquery(lh_evalctx *ec, const lh_cexpr *e, const lh_batch *in,
                        const uint32_t *sel, uint32_t n, const lh_vector **out);

lh_rc
lh__eval_subquery(lh_evalctx *ec, const lh_cexpr *e, const lh_batch *in,
                  const uint32_t *sel, uint32_t n, const lh_vector **out)
{
    uint32_t count = in->count;
    lh_vector *o;
    lh_rc rc = lh__vec_new(ec->arena, e->type, count, true, &o, ec->err);
    if (rc != LH_OK) {
        return rc;
    }
    const lh_vector *left = NULL;
    if (e->nargs) {
        rc = lh__eval(ec, e->args[0], in, sel, n, &left);
        if (rc != LH_OK) {
            return rc;
        }
    }
    const lh_vector **ov = NULL;
    lh_value *vals = NULL;
    lh_buf key = LH_BUF_INIT;
    if (e->nouter) {
        ov = lh_arena_alloc(ec->arena, e->nouter * sizeof(lh_vector *));
        vals = lh_arena_alloc(ec->arena, e->nouter * sizeof(lh_value));
        if (ov == NULL || vals == NULL) {
            return lh_err_set(ec->err, LH_ENOMEM, "out of memory");
        }
        for (uint32_t j = 0; j < e->nouter; j++) {
            rc = lh__eval(ec, e->outer_args[j], in, sel, n, &ov[j]);
            if (rc != LH_OK) {
                return rc;
            }
        }
        if (ec->memo == NULL) {
            ec->memo = lh_calloc(1, sizeof(submemo));
            if (ec->memo == NULL) {
                return lh_err_set(ec->err, LH_ENOMEM, "out of memory");
            }
            lh_map_init(&ec->memo->map);
        }
    }
    const subres *once = NULL;
    if (e->nouter == 0) {
        rc = cached(ec, e, &once);
        if (rc != LH_OK) {
            return rc;
        }
    }
    for (uint32_t i = 0; i < n && rc == LH_OK; i++) {
        uint32_t r = lh_row(sel, i);
        const subres *res = once;
        if (res == NULL) {
            for (uint32_t j = 0; j < e->nouter; j++) {
                lh__vec_get(ov[j], r, &vals[j]);
            }
            /* the memo key includes the subquery's identity */
            rc = memo_key(vals, e->nouter, &key);
            if (rc == LH_OK) {
                lh_buf_append(&key, &e, sizeof e);
                rc = lh_buf_ok(&key) ? LH_OK : LH_ENOMEM;
            }
            if (rc != LH_OK) {
                rc = lh_err_set(ec->err, LH_ENOMEM, "out of memory");
                break;
            }
            res = lh_map_get(&ec->memo->map, key.data, key.len);
            if (res == NULL) {
                subres *nr = lh_arena_alloc(ec->memo_arena, sizeof(subres));
                if (nr == NULL) {
                    rc = lh_err_set(ec->err, LH_ENOMEM, "out of memory");
                    break;
                }
                rc = run(ec, e, vals, ec->memo_arena, nr);
                if (rc != LH_OK) {
                    break;
                }
                rc = lh_map_put(&ec->memo->map, key.data, key.len, nr, NULL);
                if (rc != LH_OK) {
                    rc = lh_err_set(ec->err, LH_ENOMEM, "out of memory");
                    break;
                }
                res = nr;
            }
        }
        switch (e->sub_kind) {
        case LH_SUBQ_SCALAR:
            rc = lh__vec_set(ec->arena, o, r, &res->scalar, ec->err);
            break;
        case LH_SUBQ_EXISTS:
            ((uint8_t *)o->data)[r] = res->exists;
            break;
        default: {
            bool is_null, value;
            rc = compare_all(ec, e, left, r, res, &is_null, &value);
            if (rc == LH_OK) {
                if (is_null) {
                    lh_bit_set(o->validity, r, false);
                } else {
                    ((uint8_t *)o->data)[r] = value;
                }
            }
            break;
        }
        }
    }
    lh_buf_release(&key);
    *out = o;
    return rc;
}
