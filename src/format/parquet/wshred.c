/*
 * Batches to leaves (writer_int.h, "Rows to leaves"): a flat column's
 * values gathered into a staging array of physical values, nested columns
 * shredded row by row into definition and repetition levels (Dremel), and
 * either handed to the leaf's chunk (lh__pqw_col_add). Each thread filling
 * leaves has its own staging (lh__pqw_stage), so leaves fill in parallel.
 */
#include <string.h>

#include "format/parquet/writer_int.h"

/* Rows of a nested column shredded at a time (a flat one takes
 * LH_PQW_PIECE). */
#define NESTED_PIECE 256

/* Converts row rr of FLAT vector f into the staged physical value at d. */
static inline void
conv_one(const lh__pqw_col *c, const lh_vector *f, uint32_t rr, uint8_t *d)
{
    const uint8_t *data = f->data;
    switch (c->conv) {
    case LH_PQW_CV_BOOL:
        d[0] = data[rr] != 0;
        return;
    case LH_PQW_CV_I16: {
        int32_t x = ((const int16_t *)f->data)[rr];
        memcpy(d, &x, 4);
        return;
    }
    case LH_PQW_CV_I64_I32: {
        int32_t x = (int32_t)((const int64_t *)f->data)[rr];
        memcpy(d, &x, 4);
        return;
    }
    case LH_PQW_CV_DEC_BE: {
        lh_i128 x;
        memcpy(&x, data + (size_t)rr * sizeof x, sizeof x);
        unsigned __int128 u = (unsigned __int128)x;
        for (int32_t i = c->type_length - 1; i >= 0; i--) {
            d[i] = (uint8_t)u;
            u >>= 8;
        }
        return;
    }
    case LH_PQW_CV_INTERVAL: {
        lh_interval iv;
        memcpy(&iv, data + (size_t)rr * sizeof iv, sizeof iv);
        uint32_t p[3] = {(uint32_t)iv.months, (uint32_t)iv.days,
                         (uint32_t)(iv.micros / 1000)};
        for (int k = 0; k < 3; k++) {
            d[4 * k] = (uint8_t)p[k];
            d[4 * k + 1] = (uint8_t)(p[k] >> 8);
            d[4 * k + 2] = (uint8_t)(p[k] >> 16);
            d[4 * k + 3] = (uint8_t)(p[k] >> 24);
        }
        return;
    }
    default:
        memcpy(d, data + (size_t)rr * c->vw, c->vw);
        return;
    }
}

static bool
range_valid(const lh_vector *v, uint32_t r0, uint32_t n)
{
    if (v->validity == NULL) {
        return true;
    }
    uint32_t r = r0, end = r0 + n;
    while (r < end && (r & 63)) {
        if (!lh__pqw_bit(v->validity, r)) {
            return false;
        }
        r++;
    }
    while (r + 64 <= end) {
        if (v->validity[r >> 6] != UINT64_MAX) {
            return false;
        }
        r += 64;
    }
    for (; r < end; r++) {
        if (!lh__pqw_bit(v->validity, r)) {
            return false;
        }
    }
    return true;
}

/* Room in the staging arrays for nent level entries and nv values. */
static bool
stage_reserve(lh__pqw_stage *st, const lh__pqw_col *c, size_t nent, size_t nv)
{
    size_t vb = nv * c->vw + 16;
    if (vb > st->vals_cap) {
        size_t nc = LH_MAX(vb, LH_MAX(st->vals_cap * 2, (size_t)4096));
        uint8_t *p = lh_realloc(st->vals, nc);
        if (p == NULL) {
            return false;
        }
        st->vals = p;
        st->vals_cap = nc;
    }
    if (nent > st->ent_cap) {
        size_t nc = LH_MAX(nent, LH_MAX(st->ent_cap * 2, (size_t)1024));
        uint8_t *d = lh_realloc(st->def, nc);
        if (d == NULL) {
            return false;
        }
        st->def = d;
        uint8_t *r = lh_realloc(st->rep, nc);
        if (r == NULL) {
            return false;
        }
        st->rep = r;
        st->ent_cap = nc;
    }
    return true;
}

#define COPY_LOOP(T)                                                           \
    do {                                                                       \
        const T *src = v->data;                                                \
        T *dst = (T *)(void *)st->vals;                                        \
        for (uint32_t k = 0; k < n; k++) {                                     \
            uint32_t r = idx ? idx[k] : r0 + k;                                \
            bool ok = vb == NULL || lh__pqw_bit(vb, r);                        \
            dl[k] = ok;                                                        \
            dst[nv] = src[r];                                                  \
            nv += ok;                                                          \
        }                                                                      \
    } while (0)

/* A flat column's rows into its leaf. */
static lh_rc
write_flat(lh__pqw_stage *st, lh__pqw_col *c, const lh_vector *v,
           const uint32_t *idx, uint32_t r0, uint32_t n, lh_err *err)
{
    if (v->kind == LH_VEC_FLAT && idx == NULL && c->conv == LH_PQW_CV_COPY &&
        range_valid(v, r0, n)) {
        const uint8_t *vals = (const uint8_t *)v->data + (size_t)r0 * c->vw;
        return lh__pqw_col_add(c, vals, n, NULL, NULL, n, err);
    }
    if (!stage_reserve(st, c, n, n)) {
        return lh__pqw_nomem(err);
    }
    uint8_t *dl = st->def;
    uint32_t nv = 0;
    const uint64_t *vb = v->validity;
    if (v->kind == LH_VEC_FLAT && c->conv == LH_PQW_CV_COPY && c->vw == 4) {
        COPY_LOOP(uint32_t);
    } else if (v->kind == LH_VEC_FLAT && c->conv == LH_PQW_CV_COPY &&
               c->vw == 8) {
        COPY_LOOP(uint64_t);
    } else if (v->kind == LH_VEC_FLAT && c->conv == LH_PQW_CV_COPY &&
               c->vw == sizeof(lh_str)) {
        COPY_LOOP(lh_str);
    } else {
        for (uint32_t k = 0; k < n; k++) {
            uint32_t r = idx ? idx[k] : r0 + k;
            const lh_vector *f;
            uint32_t rr;
            bool ok = lh__pqw_row_at(v, r, &f, &rr);
            dl[k] = ok;
            if (ok) {
                conv_one(c, f, rr, st->vals + (size_t)nv * c->vw);
                nv++;
            }
        }
    }
    return lh__pqw_col_add(c, st->vals, nv, c->max_def > 0 ? dl : NULL, NULL, n,
                           err);
}

/* Shredding a nested column into one leaf's staging (Dremel). */
typedef struct shred {
    lh__pqw_stage *st;
    lh__pqw_col *c;
    const lh__pqw_node *const *chain;
    uint32_t nchain;
    bool oom;
} shred;

static inline void
push_entry(shred *s, int16_t d, int16_t r)
{
    lh__pqw_stage *st = s->st;
    if (st->nent >= st->ent_cap &&
        !stage_reserve(st, s->c, (size_t)st->nent + 1, st->nvals)) {
        s->oom = true;
        return;
    }
    st->def[st->nent] = (uint8_t)d;
    st->rep[st->nent] = (uint8_t)r;
    st->nent++;
}

static void
push_value(shred *s, int16_t d, int16_t r, const lh_vector *f, uint32_t rr)
{
    lh__pqw_stage *st = s->st;
    size_t need = ((size_t)st->nvals + 1) * s->c->vw + 16;
    if (need > st->vals_cap &&
        !stage_reserve(st, s->c, st->nent, (size_t)st->nvals + 1)) {
        s->oom = true;
        return;
    }
    push_entry(s, d, r);
    if (!s->oom) {
        conv_one(s->c, f, rr, st->vals + (size_t)st->nvals * s->c->vw);
        st->nvals++;
    }
}

static void
shred_row(shred *s, uint32_t k, const lh_vector *v, uint32_t row,
          int16_t d_slot, int16_t r, int depth)
{
    const lh__pqw_node *n = s->chain[k];
    const lh_vector *f;
    uint32_t rr;
    if (s->oom || depth > LH_PQW_MAX_DEPTH + 2) {
        return;
    }
    if (!lh__pqw_row_at(v, row, &f, &rr)) {
        push_entry(s, d_slot, r); /* checked: n is nullable */
        return;
    }
    switch (n->shape) {
    case LH_PQW_PRIM:
        push_value(s, n->def, r, f, rr);
        return;
    case LH_PQW_STRUCT:
    case LH_PQW_KV: {
        const lh__pqw_node *child = s->chain[k + 1];
        uint32_t i = (uint32_t)(child - n->children);
        shred_row(s, k + 1, f->children[i], rr, n->def, r, depth + 1);
        return;
    }
    case LH_PQW_LIST:
    case LH_PQW_MAP: {
        const uint32_t *off = f->data;
        uint32_t b = off[rr], e = off[rr + 1];
        if (b >= e) {
            push_entry(s, n->def, r);
            return;
        }
        for (uint32_t j = b; j < e && !s->oom; j++) {
            shred_row(s, k + 1, f->children[0], j, (int16_t)(n->def + 1),
                      j == b ? r : (int16_t)(n->rep + 1), depth + 1);
        }
        return;
    }
    case LH_PQW_VECTOR: {
        lh__pqw_stage *st = s->st;
        uint32_t dim = f->type.dim;
        if (!stage_reserve(st, s->c, (size_t)st->nent + dim,
                           (size_t)st->nvals + dim)) {
            s->oom = true;
            return;
        }
        const float *src = (const float *)f->data + (size_t)rr * dim;
        memcpy(st->vals + (size_t)st->nvals * 4, src, (size_t)dim * 4);
        memset(st->def + st->nent, n->def + 1, dim);
        st->rep[st->nent] = (uint8_t)r;
        memset(st->rep + st->nent + 1, n->rep + 1, dim - 1);
        st->nent += dim;
        st->nvals += dim;
        return;
    }
    default:
        return;
    }
}

static lh_rc
write_nested(const lh_pq_writer *w, lh__pqw_stage *st, uint32_t leaf,
             const lh_vector *v, const uint32_t *idx, uint32_t r0, uint32_t n,
             lh_err *err)
{
    lh__pqw_col *c = &w->cols[leaf];
    shred s = {st, c, w->chains[leaf], w->nchain[leaf], false};
    st->nent = 0;
    st->nvals = 0;
    for (uint32_t k = 0; k < n && !s.oom; k++) {
        shred_row(&s, 0, v, idx ? idx[k] : r0 + k, 0, 0, 0);
    }
    if (s.oom) {
        return lh__pqw_nomem(err);
    }
    return lh__pqw_col_add(c, st->vals, st->nvals,
                           c->max_def > 0 ? st->def : NULL,
                           c->max_rep > 0 ? st->rep : NULL, st->nent, err);
}

void
lh__pqw_stage_release(lh__pqw_stage *st)
{
    lh_free(st->vals);
    lh_free(st->def);
    lh_free(st->rep);
    memset(st, 0, sizeof *st);
}

lh_rc
lh__pqw_fill_leaf(const lh_pq_writer *w, lh__pqw_stage *st, uint32_t leaf,
                  const lh_batch *b, uint32_t start, uint32_t n, lh_err *err)
{
    const lh__pqw_node *top = w->chains[leaf][0];
    const lh_vector *v = &b->cols[top - w->root.children];
    const uint32_t *sel = b->sel ? b->sel + start : NULL;
    bool flat = top->shape == LH_PQW_PRIM;
    uint32_t piece = flat ? LH_PQW_PIECE : NESTED_PIECE;
    for (uint32_t k = 0; k < n; k += piece) {
        uint32_t m = LH_MIN(piece, n - k);
        const uint32_t *idx = sel ? sel + k : NULL;
        lh_rc rc =
            flat ? write_flat(st, &w->cols[leaf], v, idx, start + k, m, err)
                 : write_nested(w, st, leaf, v, idx, start + k, m, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}
