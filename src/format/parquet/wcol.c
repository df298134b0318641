/*
 * One leaf column's chunk: pages, dictionary, statistics, page index and
 * Bloom filter (the design is at the top of writer_int.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "format/parquet/bloom.h"
#include "format/parquet/codec.h"
#include "format/parquet/encoding.h"
#include "format/parquet/writer_int.h"

/* ---- ordering ------------------------------------------------------------ */

static int
bytes_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0) {
        return c;
    }
    return al < bl ? -1 : al > bl;
}

/* Big-endian two's complement numbers of the same width. */
static int
dec_cmp(const uint8_t *a, const uint8_t *b, size_t w)
{
    uint8_t x = a[0] ^ 0x80, y = b[0] ^ 0x80;
    if (x != y) {
        return x < y ? -1 : 1;
    }
    return w > 1 ? memcmp(a + 1, b + 1, w - 1) : 0;
}

/* memcmp's sign for n bytes, 8 at a time, without a call (the values
 * compared for statistics are mostly short). */
static inline int
mem_cmp(const uint8_t *a, const uint8_t *b, uint32_t n)
{
    while (n >= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y) {
            x = __builtin_bswap64(x);
            y = __builtin_bswap64(y);
            return x < y ? -1 : 1;
        }
        a += 8;
        b += 8;
        n -= 8;
    }
    for (; n > 0; n--, a++, b++) {
        if (*a != *b) {
            return *a < *b ? -1 : 1;
        }
    }
    return 0;
}

static inline int
str_cmp(const lh_str *a, const lh_str *b)
{
    uint32_t n = a->len < b->len ? a->len : b->len;
    int c = mem_cmp((const uint8_t *)lh_str_data(a),
                    (const uint8_t *)lh_str_data(b), n);
    if (c != 0) {
        return c;
    }
    return a->len < b->len ? -1 : a->len > b->len;
}

/* Orders two encoded bounds of column c (PLAIN bytes; byte arrays maybe
 * cut). */
static int
bound_cmp(const lh__pqw_col *c, const uint8_t *a, size_t al, const uint8_t *b,
          size_t bl)
{
    switch (c->ord) {
    case LH_PQW_ORD_BOOL:
        return (int)a[0] - (int)b[0];
    case LH_PQW_ORD_I32: {
        int32_t x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return x < y ? -1 : x > y;
    }
    case LH_PQW_ORD_I64: {
        int64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return x < y ? -1 : x > y;
    }
    case LH_PQW_ORD_FLOAT: {
        float x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return x < y ? -1 : x > y;
    }
    case LH_PQW_ORD_DOUBLE: {
        double x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return x < y ? -1 : x > y;
    }
    case LH_PQW_ORD_DEC_BE:
        if (al == bl && al > 0) {
            return dec_cmp(a, b, al);
        }
        return bytes_cmp(a, al, b, bl);
    default:
        return bytes_cmp(a, al, b, bl);
    }
}

/* ---- statistics ---------------------------------------------------------- */

static void
stats_reset(lh__pqw_stats *s)
{
    s->has = false;
    s->nulls = 0;
    s->nans = 0;
    memset(&s->min, 0, sizeof s->min);
    memset(&s->max, 0, sizeof s->max);
    lh_buf_reset(&s->minb);
    lh_buf_reset(&s->maxb);
}

static void
stats_release(lh__pqw_stats *s)
{
    lh_buf_release(&s->minb);
    lh_buf_release(&s->maxb);
}

static void
set_bytes(lh_buf *b, const void *p, size_t n)
{
    lh_buf_reset(b);
    lh_buf_append(b, n ? p : "", n);
}

/* Folds the bound candidates mn and mx (byte arrays) into s. */
static void
stats_fold_bytes(const lh__pqw_col *c, lh__pqw_stats *s, const uint8_t *mn,
                 size_t mnl, const uint8_t *mx, size_t mxl)
{
    bool dec = c->ord == LH_PQW_ORD_DEC_BE;
    if (!s->has) {
        set_bytes(&s->minb, mn, mnl);
        set_bytes(&s->maxb, mx, mxl);
        s->has = true;
        return;
    }
    const uint8_t *cmn = (const uint8_t *)s->minb.data;
    const uint8_t *cmx = (const uint8_t *)s->maxb.data;
    if (cmn == NULL || cmx == NULL) {
        return; /* out of memory earlier: the buffers say so */
    }
    int lo = dec ? dec_cmp(mn, cmn, mnl) : bytes_cmp(mn, mnl, cmn, s->minb.len);
    int hi = dec ? dec_cmp(mx, cmx, mxl) : bytes_cmp(mx, mxl, cmx, s->maxb.len);
    if (lo < 0) {
        set_bytes(&s->minb, mn, mnl);
    }
    if (hi > 0) {
        set_bytes(&s->maxb, mx, mxl);
    }
}

#define FOLD_NUM(s, field, mn, mx)                                             \
    do {                                                                       \
        if (!(s)->has) {                                                       \
            (s)->min.field = (mn);                                             \
            (s)->max.field = (mx);                                             \
            (s)->has = true;                                                   \
        } else {                                                               \
            if ((mn) < (s)->min.field) {                                       \
                (s)->min.field = (mn);                                         \
            }                                                                  \
            if ((mx) > (s)->max.field) {                                       \
                (s)->max.field = (mx);                                         \
            }                                                                  \
        }                                                                      \
    } while (0)

/* Folds n staged values into s (NaNs counted, never bounds). */
static void
stats_update(const lh__pqw_col *c, lh__pqw_stats *s, const void *vals,
             uint32_t n)
{
    if (n == 0) {
        return;
    }
    switch (c->ord) {
    case LH_PQW_ORD_NONE:
        return;
    case LH_PQW_ORD_BOOL: {
        const uint8_t *v = vals;
        int32_t mn = 1, mx = 0;
        for (uint32_t i = 0; i < n; i++) {
            mn &= v[i];
            mx |= v[i];
        }
        FOLD_NUM(s, i32, mn, mx);
        return;
    }
    case LH_PQW_ORD_I32: {
        const int32_t *v = vals;
        int32_t mn = v[0], mx = v[0];
        for (uint32_t i = 1; i < n; i++) {
            mn = v[i] < mn ? v[i] : mn;
            mx = v[i] > mx ? v[i] : mx;
        }
        FOLD_NUM(s, i32, mn, mx);
        return;
    }
    case LH_PQW_ORD_I64: {
        const int64_t *v = vals;
        int64_t mn = v[0], mx = v[0];
        for (uint32_t i = 1; i < n; i++) {
            mn = v[i] < mn ? v[i] : mn;
            mx = v[i] > mx ? v[i] : mx;
        }
        FOLD_NUM(s, i64, mn, mx);
        return;
    }
    case LH_PQW_ORD_FLOAT: {
        const float *v = vals;
        float mn = INFINITY, mx = -INFINITY;
        uint32_t nans = 0;
        for (uint32_t i = 0; i < n; i++) {
            float x = v[i];
            if (x != x) {
                nans++;
                continue;
            }
            mn = x < mn ? x : mn;
            mx = x > mx ? x : mx;
        }
        s->nans += nans;
        if (nans < n) {
            FOLD_NUM(s, f, mn, mx);
        }
        return;
    }
    case LH_PQW_ORD_DOUBLE: {
        const double *v = vals;
        double mn = INFINITY, mx = -INFINITY;
        uint32_t nans = 0;
        for (uint32_t i = 0; i < n; i++) {
            double x = v[i];
            if (x != x) {
                nans++;
                continue;
            }
            mn = x < mn ? x : mn;
            mx = x > mx ? x : mx;
        }
        s->nans += nans;
        if (nans < n) {
            FOLD_NUM(s, d, mn, mx);
        }
        return;
    }
    default:
        break;
    }
    if (c->phys == LH_PQ_TYPE_BYTE_ARRAY) {
        const lh_str *v = vals;
        const lh_str *mn = &v[0], *mx = &v[0];
        for (uint32_t i = 1; i < n; i++) {
            if (str_cmp(&v[i], mn) < 0) {
                mn = &v[i];
            } else if (str_cmp(&v[i], mx) > 0) {
                mx = &v[i];
            }
        }
        stats_fold_bytes(c, s, (const uint8_t *)lh_str_data(mn), mn->len,
                         (const uint8_t *)lh_str_data(mx), mx->len);
        return;
    }
    const uint8_t *v = vals;
    size_t w = c->vw;
    const uint8_t *mn = v, *mx = v;
    bool dec = c->ord == LH_PQW_ORD_DEC_BE;
    for (uint32_t i = 1; i < n; i++) {
        const uint8_t *x = v + (size_t)i * w;
        if ((dec ? dec_cmp(x, mn, w) : memcmp(x, mn, w)) < 0) {
            mn = x;
        } else if ((dec ? dec_cmp(x, mx, w) : memcmp(x, mx, w)) > 0) {
            mx = x;
        }
    }
    stats_fold_bytes(c, s, mn, w, mx, w);
}

static void
stats_merge(const lh__pqw_col *c, lh__pqw_stats *dst, const lh__pqw_stats *src)
{
    dst->nulls += src->nulls;
    dst->nans += src->nans;
    if (!src->has) {
        return;
    }
    switch (c->ord) {
    case LH_PQW_ORD_BOOL:
    case LH_PQW_ORD_I32:
        FOLD_NUM(dst, i32, src->min.i32, src->max.i32);
        return;
    case LH_PQW_ORD_I64:
        FOLD_NUM(dst, i64, src->min.i64, src->max.i64);
        return;
    case LH_PQW_ORD_FLOAT:
        FOLD_NUM(dst, f, src->min.f, src->max.f);
        return;
    case LH_PQW_ORD_DOUBLE:
        FOLD_NUM(dst, d, src->min.d, src->max.d);
        return;
    case LH_PQW_ORD_NONE:
        return;
    default:
        if (src->minb.data && src->maxb.data) {
            stats_fold_bytes(c, dst, (const uint8_t *)src->minb.data,
                             src->minb.len, (const uint8_t *)src->maxb.data,
                             src->maxb.len);
        }
        return;
    }
}

/* The length of a prefix of p[0..len) of at most `limit` bytes that does
 * not end inside a UTF-8 character. */
static size_t
utf8_cut(const uint8_t *p, size_t len, size_t limit)
{
    size_t k = limit < len ? limit : len;
    while (k > 0 && k < len && (p[k] & 0xC0) == 0x80) {
        k--;
    }
    return k;
}

static size_t
utf8_put(uint8_t *d, uint32_t cp)
{
    if (cp < 0x80) {
        d[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (uint8_t)(0xC0 | cp >> 6);
        d[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (uint8_t)(0xE0 | cp >> 12);
        d[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (uint8_t)(0xF0 | cp >> 18);
    d[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* An upper bound of p[0..len) of about `limit` bytes into out: a prefix
 * with its last character (byte, for non-strings) incremented. false when
 * there is none (every candidate is at the top of its range). */
static bool
cut_max(const uint8_t *p, size_t len, size_t limit, bool utf8, lh_buf *out)
{
    lh_buf_reset(out);
    if (utf8 && lh_utf8_valid((const char *)p, len)) {
        size_t k = utf8_cut(p, len, limit);
        while (k > 0) {
            size_t st = k - 1;
            while (st > 0 && (p[st] & 0xC0) == 0x80) {
                st--;
            }
            /* Decode the character p[st..k). */
            uint32_t cp;
            size_t n = k - st;
            if (n == 1) {
                cp = p[st];
            } else if (n == 2) {
                cp = (uint32_t)(p[st] & 0x1F) << 6 | (p[st + 1] & 0x3F);
            } else if (n == 3) {
                cp = (uint32_t)(p[st] & 0x0F) << 12 |
                     (uint32_t)(p[st + 1] & 0x3F) << 6 | (p[st + 2] & 0x3F);
            } else {
                cp = (uint32_t)(p[st] & 0x07) << 18 |
                     (uint32_t)(p[st + 1] & 0x3F) << 12 |
                     (uint32_t)(p[st + 2] & 0x3F) << 6 | (p[st + 3] & 0x3F);
            }
            uint32_t next = cp + 1 == 0xD800 ? 0xE000 : cp + 1;
            if (next <= 0x10FFFF) {
                uint8_t enc[4];
                size_t el = utf8_put(enc, next);
                lh_buf_append(out, p, st);
                lh_buf_append(out, enc, el);
                return true;
            }
            k = st;
        }
        return false;
    }
    size_t k = limit < len ? limit : len;
    while (k > 0) {
        if (p[k - 1] != 0xFF) {
            uint8_t last = (uint8_t)(p[k - 1] + 1);
            lh_buf_append(out, p, k - 1);
            lh_buf_append(out, &last, 1);
            return true;
        }
        k--;
    }
    return false;
}

/* The PLAIN bytes of s's min (or max) into out (reset first), byte arrays
 * cut to the stats limit; returns whether the bound is the exact value. */
static bool
bound_bytes(const lh__pqw_col *c, const lh__pqw_stats *s, bool is_max,
            lh_buf *out)
{
    lh_buf_reset(out);
    switch (c->ord) {
    case LH_PQW_ORD_BOOL: {
        uint8_t b = (uint8_t)(is_max ? s->max.i32 : s->min.i32);
        lh_buf_append(out, &b, 1);
        return true;
    }
    case LH_PQW_ORD_I32:
        lh_buf_append(out, is_max ? &s->max.i32 : &s->min.i32, 4);
        return true;
    case LH_PQW_ORD_I64:
        lh_buf_append(out, is_max ? &s->max.i64 : &s->min.i64, 8);
        return true;
    case LH_PQW_ORD_FLOAT: {
        /* A zero bound may hide the other zero: -0.0 for min, +0.0 for
         * max (parquet.thrift, ColumnOrder). */
        float f = is_max ? s->max.f : s->min.f;
        if (f == 0) {
            f = is_max ? 0.0f : -0.0f;
        }
        lh_buf_append(out, &f, 4);
        return true;
    }
    case LH_PQW_ORD_DOUBLE: {
        double d = is_max ? s->max.d : s->min.d;
        if (d == 0) {
            d = is_max ? 0.0 : -0.0;
        }
        lh_buf_append(out, &d, 8);
        return true;
    }
    default:
        break;
    }
    const lh_buf *b = is_max ? &s->maxb : &s->minb;
    const uint8_t *p = (const uint8_t *)(b->data ? b->data : "");
    size_t limit = c->w->o.stats_bytes;
    if (c->phys != LH_PQ_TYPE_BYTE_ARRAY || b->len <= limit) {
        lh_buf_append(out, p, b->len);
        return true;
    }
    if (!is_max) {
        size_t k = c->utf8 ? utf8_cut(p, b->len, limit) : limit;
        lh_buf_append(out, p, k);
        return false;
    }
    if (cut_max(p, b->len, limit, c->utf8, out)) {
        return false;
    }
    lh_buf_reset(out);
    lh_buf_append(out, p, b->len);
    return true;
}

/* ---- dictionary ---------------------------------------------------------- */

static inline void
dict_entry(const lh__pqw_col *c, uint32_t k, const uint8_t **p, size_t *len)
{
    const uint8_t *base = (const uint8_t *)c->dict.plain.data;
    if (c->phys == LH_PQ_TYPE_BYTE_ARRAY) {
        *p = base + c->dict.off[k];
        *len = lh_get_le32(*p - 4);
    } else {
        *p = base + (size_t)k * c->vw;
        *len = c->vw;
    }
}

static bool
dict_rehash(lh__pqw_col *c)
{
    lh__pqw_dict *d = &c->dict;
    size_t ncap = d->slots ? ((size_t)d->mask + 1) * 2 : 1024;
    uint64_t *s = lh_calloc(ncap, sizeof *s);
    if (s == NULL) {
        return false;
    }
    uint32_t mask = (uint32_t)(ncap - 1);
    for (uint32_t k = 0; k < d->n; k++) {
        const uint8_t *p;
        size_t len;
        dict_entry(c, k, &p, &len);
        uint64_t h = XXH3_64bits(p, len);
        uint32_t pos = (uint32_t)h & mask;
        while (s[pos] != 0) {
            pos = (pos + 1) & mask;
        }
        s[pos] = (h >> 32 << 32) | (k + 1);
    }
    lh_free(d->slots);
    d->slots = s;
    d->mask = mask;
    return true;
}

/* The code of value p[0..len) (its staged bytes), added when new. Sets
 * *oom and returns 0 when memory runs out. */
static inline uint32_t
dict_put(lh__pqw_col *c, const void *p, size_t len, bool *oom)
{
    lh__pqw_dict *d = &c->dict;
    uint64_t h = XXH3_64bits(p, len);
    uint64_t tag = h >> 32 << 32;
    uint32_t pos = (uint32_t)h & d->mask;
    const uint8_t *base = (const uint8_t *)d->plain.data;
    for (;;) {
        uint64_t s = d->slots[pos];
        if (s == 0) {
            break;
        }
        if ((s & 0xFFFFFFFF00000000u) == tag) {
            uint32_t k = (uint32_t)s - 1;
            if (c->phys == LH_PQ_TYPE_BYTE_ARRAY) {
                const uint8_t *q = base + d->off[k];
                if (lh_get_le32(q - 4) == len && memcmp(q, p, len) == 0) {
                    return k;
                }
            } else if (memcmp(base + (size_t)k * len, p, len) == 0) {
                return k;
            }
        }
        pos = (pos + 1) & d->mask;
    }
    uint32_t k = d->n;
    if (c->phys == LH_PQ_TYPE_BYTE_ARRAY) {
        if (!lh__pqw_grow_to(&d->off, &d->off_cap, (size_t)k + 1,
                             sizeof *d->off)) {
            *oom = true;
            return 0;
        }
        uint8_t lb[4];
        lh_put_le32(lb, (uint32_t)len);
        lh_buf_append(&d->plain, lb, 4);
        d->off[k] = (uint32_t)d->plain.len;
        lh_buf_append(&d->plain, p, len);
    } else {
        lh_buf_append(&d->plain, p, len);
    }
    if (!lh_buf_ok(&d->plain)) {
        *oom = true;
        return 0;
    }
    d->slots[pos] = tag | (k + 1);
    d->n++;
    if ((size_t)d->n * 2 > (size_t)d->mask + 1 && !dict_rehash(c)) {
        *oom = true;
    }
    return k;
}

static void
dict_reset(lh__pqw_dict *d)
{
    if (d->slots) {
        memset(d->slots, 0, ((size_t)d->mask + 1) * sizeof *d->slots);
    }
    d->n = 0;
    lh_buf_reset(&d->plain);
}

/* ---- hash set (Bloom filter input) ----------------------------------------
 */

static bool
hset_add(lh__pqw_hset *h, uint64_t x)
{
    if (x == 0) {
        h->zero = true;
        return true;
    }
    if (h->s == NULL || ((size_t)h->n + 1) * 2 > (size_t)h->mask + 1) {
        size_t ncap = h->s ? ((size_t)h->mask + 1) * 2 : 1024;
        if (ncap > ((size_t)1 << 31)) {
            return false;
        }
        uint64_t *s = lh_calloc(ncap, sizeof *s);
        if (s == NULL) {
            return false;
        }
        uint32_t mask = (uint32_t)(ncap - 1);
        if (h->s) {
            for (size_t i = 0; i <= h->mask; i++) {
                uint64_t y = h->s[i];
                if (y != 0) {
                    uint32_t pos = (uint32_t)y & mask;
                    while (s[pos] != 0) {
                        pos = (pos + 1) & mask;
                    }
                    s[pos] = y;
                }
            }
        }
        lh_free(h->s);
        h->s = s;
        h->mask = mask;
    }
    uint32_t pos = (uint32_t)x & h->mask;
    while (h->s[pos] != 0) {
        if (h->s[pos] == x) {
            return true;
        }
        pos = (pos + 1) & h->mask;
    }
    h->s[pos] = x;
    h->n++;
    return true;
}

static void
hset_reset(lh__pqw_hset *h)
{
    if (h->s) {
        lh_free(h->s);
        h->s = NULL;
    }
    h->mask = 0;
    h->n = 0;
    h->zero = false;
}

/* ---- lifecycle ----------------------------------------------------------- */

lh_rc
lh__pqw_col_init(lh__pqw_col *c, lh_pq_writer *w, const lh__pqw_node *n,
                 char **path, uint32_t npath, lh_err *err)
{
    (void)err;
    /* phys, conv, ord, vw, utf8, type_length are set by the caller. */
    c->node = n;
    c->w = w;
    c->path = path;
    c->npath = npath;
    c->max_def = n->def;
    c->max_rep = n->rep;
    c->want_dict =
        w->o.dictionary && !n->no_dict && c->phys != LH_PQ_TYPE_BOOLEAN;
    c->dict_mode = c->want_dict;
    c->dict_all = c->want_dict;
    if (c->want_dict && !dict_rehash(c)) {
        return lh__pqw_nomem(err);
    }
    return LH_OK;
}

lh_rc
lh__pqw_col_clone(lh__pqw_col *dst, const lh__pqw_col *src, lh_err *err)
{
    memset(dst, 0, sizeof *dst);
    dst->phys = src->phys;
    dst->type_length = src->type_length;
    dst->conv = src->conv;
    dst->ord = src->ord;
    dst->vw = src->vw;
    dst->utf8 = src->utf8;
    return lh__pqw_col_init(dst, (lh_pq_writer *)src->w, src->node, src->path,
                            src->npath, err);
}

void
lh__pqw_col_release(lh__pqw_col *c)
{
    lh_free(c->def);
    lh_free(c->rep);
    lh_free(c->codes);
    lh_buf_release(&c->vals);
    stats_release(&c->pst);
    stats_release(&c->cst);
    lh_free(c->dict.slots);
    lh_buf_release(&c->dict.plain);
    lh_free(c->dict.off);
    lh_free(c->pages);
    lh_buf_release(&c->pend);
    lh_buf_release(&c->ci_mm);
    hset_reset(&c->bloom);
    lh_buf_release(&c->lv);
    lh_buf_release(&c->head);
    lh_buf_release(&c->hdrs);
    lh_buf_release(&c->conv_buf);
    lh_free(c->tmp32);
    memset(c, 0, sizeof *c);
}

/* ---- pages --------------------------------------------------------------- */

static inline uint8_t *
put_uleb(uint8_t *d, uint64_t v)
{
    while (v >= 0x80) {
        *d++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *d++ = (uint8_t)v;
    return d;
}

/* The shortest run worth an RLE run at bit width bw: one whose packed
 * bits take more bytes than a run's header and value (for 7-bit codes,
 * runs of 3 already: 2 bytes against 2.6). At most 8, the usual rule. */
static inline uint32_t
rle_min_run(int bw)
{
    if (bw <= 0) {
        return 8;
    }
    uint32_t vbytes = ((uint32_t)bw + 7) / 8;
    uint32_t r = (8 * (1 + vbytes) + (uint32_t)bw) / (uint32_t)bw;
    return r < 2 ? 2 : r > 8 ? 8 : r;
}

/* The RLE/bit-packing hybrid (Encodings.md) of v[0..n) at width bw (values
 * must fit): runs of rle_min_run(bw) or more equal values become RLE
 * runs, the rest bit-packed groups of 8, the last padded with zeros.
 * Short RLE runs keep codes byte-aligned, which ZSTD then compresses far
 * better than bit-packed ones (DuckDB writes RLE runs the same way).
 * Faster than lh_pq_rle_encode for the writer's inputs (levels are bytes;
 * an all-equal page is one run). */
#define RLE_ENCODER(NAME, T)                                                   \
    static bool NAME(const T *v, uint32_t n, int bw, lh_buf *out)              \
    {                                                                          \
        size_t vbytes = ((size_t)bw + 7) / 8;                                  \
        size_t worst = ((size_t)n + 7) / 8 * ((size_t)bw + 10) + 16;           \
        if (lh_buf_reserve(out, worst + 1) != LH_OK) {                         \
            return false;                                                      \
        }                                                                      \
        uint8_t *d = (uint8_t *)out->data + out->len;                          \
        uint64_t mask = bw >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << bw) - 1;     \
        uint32_t min_run = rle_min_run(bw);                                    \
        uint32_t i = 0;                                                        \
        while (i < n) {                                                        \
            T x = v[i];                                                        \
            uint32_t j = i + 1;                                                \
            while (j < n && v[j] == x) {                                       \
                j++;                                                           \
            }                                                                  \
            if (j - i >= min_run) {                                            \
                d = put_uleb(d, (uint64_t)(j - i) << 1);                       \
                for (size_t k = 0; k < vbytes; k++) {                          \
                    *d++ = (uint8_t)((uint64_t)x >> (8 * k));                  \
                }                                                              \
                i = j;                                                         \
                continue;                                                      \
            }                                                                  \
            /* Groups of 8 until a run of 8 starts at a group's end. */        \
            uint32_t start = i;                                                \
            for (;;) {                                                         \
                i += 8;                                                        \
                if (i >= n) {                                                  \
                    i = n;                                                     \
                    break;                                                     \
                }                                                              \
                uint32_t k = i + 1;                                            \
                while (k < n && k - i < min_run && v[k] == v[i]) {             \
                    k++;                                                       \
                }                                                              \
                if (k - i >= min_run) {                                        \
                    break;                                                     \
                }                                                              \
            }                                                                  \
            uint32_t groups = (i - start + 7) / 8;                             \
            d = put_uleb(d, (uint64_t)groups << 1 | 1);                        \
            for (uint32_t g = 0; g < groups; g++) {                            \
                uint32_t at = start + g * 8;                                   \
                uint64_t acc = 0;                                              \
                int bits = 0;                                                  \
                for (uint32_t k = 0; k < 8; k++) {                             \
                    uint64_t y =                                               \
                        at + k < n ? ((uint64_t)v[at + k] & mask) : 0;         \
                    acc |= y << bits;                                          \
                    bits += bw;                                                \
                    while (bits >= 8) {                                        \
                        *d++ = (uint8_t)acc;                                   \
                        acc >>= 8;                                             \
                        bits -= 8;                                             \
                    }                                                          \
                }                                                              \
            }                                                                  \
        }                                                                      \
        out->len = (size_t)(d - (uint8_t *)out->data);                         \
        out->data[out->len] = 0;                                               \
        return true;                                                           \
    }

RLE_ENCODER(rle_u8, uint8_t)
RLE_ENCODER(rle_u32, uint32_t)

static lh_rc
too_big(const lh__pqw_col *c, size_t n, lh_err *err)
{
    return lh_err_set(err, LH_ELIMIT,
                      "parquet column \"%s\": a page of %zu bytes is past "
                      "the format's 2 GiB limit",
                      c->node->name, n);
}

static lh_rc
zstd_page(lh__pqw_col *c, const uint8_t *src, size_t n, lh_buf *out,
          lh_err *err)
{
    if (!ALWAYS(c->zctx != NULL)) {
        return lh_err_set(err, LH_EINTERNAL, "no ZSTD context");
    }
    size_t bound = ZSTD_compressBound(n);
    if (lh_buf_reserve(out, bound + 1) != LH_OK) {
        return lh__pqw_nomem(err);
    }
    int level = c->w->o.level ? c->w->o.level : ZSTD_CLEVEL_DEFAULT;
    size_t k = ZSTD_compressCCtx(c->zctx, out->data + out->len, bound,
                                 n ? src : (const uint8_t *)"", n, level);
    if (ZSTD_isError(k)) {
        if (ZSTD_getErrorCode(k) == ZSTD_error_memory_allocation) {
            return lh__pqw_nomem(err);
        }
        return lh_err_set(err, LH_EINTERNAL, "ZSTD compression failed: %s",
                          ZSTD_getErrorName(k));
    }
    out->len += k;
    out->data[out->len] = 0;
    return LH_OK;
}

/* The stored body of a page from src[0..n) (the uncompressed bytes, in
 * `in` at in_off): compressed onto c->head, or, uncompressed, src itself
 * (nothing copied). Sets where the body is. */
static lh_rc
store_body(lh__pqw_col *c, const uint8_t *src, size_t n, uint8_t in,
           size_t in_off, lh__pqw_page *p, lh_err *err)
{
    const lh_pq_writer_opts *o = &c->w->o;
    if (o->codec == LH_PQ_CODEC_UNCOMPRESSED) {
        p->body_buf = in;
        p->body_off = in_off;
        p->body_len = n;
        return LH_OK;
    }
    size_t at = c->head.len;
    lh_rc rc;
    if (o->codec == LH_PQ_CODEC_ZSTD) {
        /* ZSTD_compress would set up a fresh context (megabytes of tables)
         * for every page; one context per thread makes the same bytes. */
        rc = zstd_page(c, src, n, &c->head, err);
    } else {
        rc = lh_pq_compress(o->codec, o->level, n ? src : (const uint8_t *)"",
                            n, &c->head, err);
    }
    if (rc != LH_OK) {
        return rc;
    }
    p->body_buf = LH_PQW_BUF_HEAD;
    p->body_off = at;
    p->body_len = c->head.len - at;
    return LH_OK;
}

/* Appends page header h (sizes and CRC filled here) to c->hdrs. */
static lh_rc
put_header(lh__pqw_col *c, lh_pq_page_header *h, size_t ulen, lh__pqw_page *p,
           const uint8_t *body, lh_err *err)
{
    if (ulen > INT32_MAX || p->body_len > INT32_MAX) {
        return too_big(c, LH_MAX(ulen, p->body_len), err);
    }
    h->uncompressed_page_size = (int32_t)ulen;
    h->compressed_page_size = (int32_t)p->body_len;
    if (c->w->o.page_crc) {
        h->crc = (int32_t)crc32(0L, body, (uInt)p->body_len);
        h->has_crc = true;
    }
    p->hdr_off = c->hdrs.len;
    lh_rc rc = lh_pq_encode_page_header(h, &c->hdrs, err);
    if (rc != LH_OK) {
        return rc;
    }
    p->hdr_len = (uint32_t)(c->hdrs.len - p->hdr_off);
    p->csize = p->hdr_len + (uint32_t)p->body_len;
    p->usize = p->hdr_len + (uint32_t)ulen;
    return lh_buf_ok(&c->hdrs) ? LH_OK : lh__pqw_nomem(err);
}

static const uint8_t *
buf_at(const lh__pqw_col *c, uint8_t which, size_t off)
{
    const lh_buf *b = which == LH_PQW_BUF_HEAD   ? &c->head
                      : which == LH_PQW_BUF_PEND ? &c->pend
                      : which == LH_PQW_BUF_CONV ? &c->conv_buf
                                                 : &c->dict.plain;
    return (const uint8_t *)(b->data ? b->data : "") + off;
}

/* Finishes data page p: its body is `body` (b_len bytes: v1 the levels
 * with their length prefixes, then the values; v2 the levels, then the
 * values of v_len bytes), held in buffer `in` at in_off. */
static lh_rc
emit_data_page(lh__pqw_col *c, lh__pqw_page *p, uint8_t in, size_t in_off,
               size_t b_len, int enc, lh_err *err)
{
    const lh_pq_writer_opts *o = &c->w->o;
    lh_pq_page_header h;
    memset(&h, 0, sizeof h);
    const uint8_t *body = buf_at(c, in, in_off);
    size_t ulen = b_len;
    lh_rc rc;
    if (!o->page_v2) {
        rc = store_body(c, body, b_len, in, in_off, p, err);
        h.type = LH_PQ_PAGE_DATA_PAGE;
        h.has_data_page_header = true;
        h.data_page_header.num_values = (int32_t)p->nent;
        h.data_page_header.encoding = enc;
        h.data_page_header.definition_level_encoding = LH_PQ_ENC_RLE;
        h.data_page_header.repetition_level_encoding = LH_PQ_ENC_RLE;
    } else {
        /* The levels stay uncompressed in front of the values. */
        size_t lvl = (size_t)p->rep_len + p->def_len;
        if (o->codec == LH_PQ_CODEC_UNCOMPRESSED) {
            rc = store_body(c, body, b_len, in, in_off, p, err);
        } else {
            size_t at = c->head.len;
            lh_buf_append(&c->head, lvl ? body : (const uint8_t *)"", lvl);
            lh__pqw_page q;
            rc = lh_buf_ok(&c->head) ? store_body(c, body + lvl, b_len - lvl,
                                                  in, in_off + lvl, &q, err)
                                     : lh__pqw_nomem(err);
            p->body_buf = LH_PQW_BUF_HEAD;
            p->body_off = at;
            p->body_len = c->head.len - at;
        }
        h.type = LH_PQ_PAGE_DATA_PAGE_V2;
        h.has_data_page_header_v2 = true;
        lh_pq_data_page_header_v2 *v2 = &h.data_page_header_v2;
        v2->num_values = (int32_t)p->nent;
        v2->num_nulls = (int32_t)(p->nent - p->nvals);
        v2->num_rows = (int32_t)p->nrows;
        v2->encoding = enc;
        v2->definition_levels_byte_length = (int32_t)p->def_len;
        v2->repetition_levels_byte_length = (int32_t)p->rep_len;
        v2->is_compressed = o->codec != LH_PQ_CODEC_UNCOMPRESSED;
        v2->has_is_compressed = true;
    }
    if (rc != LH_OK) {
        return rc;
    }
    return put_header(c, &h, ulen, p, buf_at(c, p->body_buf, p->body_off), err);
}

/* Appends the page's levels to c->pend in the page's layout: v1 puts a
 * 4-byte length in front of each. */
static lh_rc
put_levels(lh__pqw_col *c, const uint8_t *v, uint32_t n, int16_t max,
           uint32_t *len, lh_err *err)
{
    bool v1 = !c->w->o.page_v2;
    size_t at = c->pend.len;
    if (v1) {
        lh_buf_append(&c->pend, "\0\0\0\0", 4);
    }
    size_t start = c->pend.len;
    if (!lh_buf_ok(&c->pend) ||
        !rle_u8(v, n, lh_pq_bit_width((uint32_t)max), &c->pend)) {
        return lh__pqw_nomem(err);
    }
    *len = (uint32_t)(c->pend.len - start);
    if (v1) {
        lh_put_le32((uint8_t *)c->pend.data + at, *len);
    }
    return LH_OK;
}

/* Closes the page being filled (nothing when it is empty): its levels and
 * values (PLAIN bytes or dictionary codes) go to c->pend, laid out as the
 * page body wants them; compressing waits for the chunk's end, where the
 * columns of a row group are sealed in parallel, and the dictionary is
 * kept or not. */
static lh_rc
close_page(lh__pqw_col *c, lh_err *err)
{
    if (c->nent == 0) {
        return LH_OK;
    }
    if (!lh__pqw_grow_to(&c->pages, &c->pages_cap, (size_t)c->npages + 1,
                         sizeof *c->pages)) {
        return lh__pqw_nomem(err);
    }
    lh__pqw_page *p = &c->pages[c->npages];
    memset(p, 0, sizeof *p);
    p->nent = c->nent;
    p->nvals = c->nvals;
    p->nrows = c->nrows;
    p->first_row = c->page_first_row;
    p->nans = c->pst.nans;
    c->pst.nulls = c->nent - c->nvals;
    lh_rc rc = LH_OK;

    /* Bounds for the column index. */
    if (c->nvals > 0 && c->pst.has) {
        p->has_bounds = true;
        p->min_off = c->ci_mm.len;
        bound_bytes(c, &c->pst, false, &c->lv);
        lh_buf_append(&c->ci_mm, c->lv.data ? c->lv.data : "", c->lv.len);
        p->min_len = (uint32_t)c->lv.len;
        p->max_off = c->ci_mm.len;
        bound_bytes(c, &c->pst, true, &c->lv);
        lh_buf_append(&c->ci_mm, c->lv.data ? c->lv.data : "", c->lv.len);
        p->max_len = (uint32_t)c->lv.len;
    } else if (c->nvals > 0 && c->ord != LH_PQW_ORD_NONE) {
        p->nan_only = true;
    }
    stats_merge(c, &c->cst, &c->pst);

    p->pend_off = c->pend.len;
    if (c->max_rep > 0) {
        rc = put_levels(c, c->rep, c->nent, c->max_rep, &p->rep_len, err);
    }
    if (rc == LH_OK && c->max_def > 0) {
        rc = put_levels(c, c->def, c->nent, c->max_def, &p->def_len, err);
    }
    if (rc != LH_OK) {
        return rc;
    }
    p->lvl_len = (uint32_t)(c->pend.len - p->pend_off);
    size_t vstart = c->pend.len;
    if (c->dict_mode) {
        p->dict = true;
        if (c->nvals > 0) {
            int bw = lh_pq_bit_width(c->dict.n > 0 ? c->dict.n - 1 : 0);
            uint8_t b = (uint8_t)bw;
            lh_buf_append(&c->pend, &b, 1);
            if (!rle_u32(c->codes, c->nvals, bw, &c->pend)) {
                return lh__pqw_nomem(err);
            }
        }
        c->dict_code_bytes += c->pend.len - vstart;
    } else if (c->phys == LH_PQ_TYPE_BOOLEAN) {
        rc = lh_pq_plain_bool_encode((const uint8_t *)c->vals.data, c->nvals,
                                     &c->pend, err);
        if (rc != LH_OK) {
            return rc;
        }
    } else {
        lh_buf_append(&c->pend, c->vals.len ? c->vals.data : "", c->vals.len);
    }
    if (c->pend.len - vstart > INT32_MAX) {
        return too_big(c, c->pend.len - vstart, err);
    }
    p->vals_len = (uint32_t)(c->pend.len - vstart);
    if (!lh_buf_ok(&c->pend) || !lh_buf_ok(&c->ci_mm) ||
        !lh_buf_ok(&c->pst.minb) || !lh_buf_ok(&c->pst.maxb)) {
        return lh__pqw_nomem(err);
    }
    c->npages++;
    c->nent = 0;
    c->nvals = 0;
    c->nrows = 0;
    c->page_first_row = c->rows;
    lh_buf_reset(&c->vals);
    stats_reset(&c->pst);
    return LH_OK;
}

static bool
page_full(const lh__pqw_col *c)
{
    const lh_pq_writer_opts *o = &c->w->o;
    size_t est;
    if (c->dict_mode) {
        int bw = lh_pq_bit_width(c->dict.n > 0 ? c->dict.n - 1 : 0);
        est = ((size_t)c->nvals * (size_t)bw + 7) / 8;
    } else if (c->phys == LH_PQ_TYPE_BOOLEAN) {
        est = c->nvals / 8;
    } else {
        est = c->vals.len;
    }
    return est >= o->page_bytes || (o->page_rows && c->nrows >= o->page_rows) ||
           c->nent >= LH_PQW_PAGE_MAX_ENTRIES;
}

/* Hashes of n staged values for the Bloom filter. */
static bool
bloom_values(lh__pqw_col *c, const uint8_t *v, uint32_t n)
{
    bool ok = true;
    if (c->phys == LH_PQ_TYPE_BYTE_ARRAY) {
        const lh_str *s = (const lh_str *)v;
        for (uint32_t i = 0; i < n && ok; i++) {
            ok = hset_add(&c->bloom,
                          lh_pq_bloom_hash(lh_str_data(&s[i]), s[i].len));
        }
        return ok;
    }
    for (uint32_t i = 0; i < n && ok; i++) {
        ok =
            hset_add(&c->bloom, lh_pq_bloom_hash(v + (size_t)i * c->vw, c->vw));
    }
    return ok;
}

/* dict_put for 4- and 8-byte values: the same table, integer compares. */
#define DICT_PUT_FIXED(NAME, T)                                                \
    static inline uint32_t NAME(lh__pqw_col *c, const uint8_t *p, bool *oom)   \
    {                                                                          \
        lh__pqw_dict *d = &c->dict;                                            \
        T x;                                                                   \
        memcpy(&x, p, sizeof x);                                               \
        uint64_t h = XXH3_64bits(p, sizeof x);                                 \
        uint64_t tag = h >> 32 << 32;                                          \
        uint32_t pos = (uint32_t)h & d->mask;                                  \
        const T *base = (const T *)(const void *)d->plain.data;                \
        for (;;) {                                                             \
            uint64_t s = d->slots[pos];                                        \
            if (s == 0) {                                                      \
                break;                                                         \
            }                                                                  \
            if ((s & 0xFFFFFFFF00000000u) == tag) {                            \
                T y;                                                           \
                memcpy(&y, &base[(uint32_t)s - 1], sizeof y);                  \
                if (x == y) {                                                  \
                    return (uint32_t)s - 1;                                    \
                }                                                              \
            }                                                                  \
            pos = (pos + 1) & d->mask;                                         \
        }                                                                      \
        return dict_put(c, p, sizeof x, oom);                                  \
    }

DICT_PUT_FIXED(dict_put4, uint32_t)
DICT_PUT_FIXED(dict_put8, uint64_t)

/* Dictionary codes of n staged values into c->codes. */
static bool
dict_codes(lh__pqw_col *c, const uint8_t *v, uint32_t n)
{
    bool oom = false;
    uint32_t *out = c->codes + c->nvals;
    if (c->phys == LH_PQ_TYPE_BYTE_ARRAY) {
        const lh_str *s = (const lh_str *)v;
        uint64_t plain = 0;
        for (uint32_t i = 0; i < n && !oom; i++) {
            out[i] = dict_put(c, lh_str_data(&s[i]), s[i].len, &oom);
            plain += 4 + (uint64_t)s[i].len;
        }
        c->dict_plain_bytes += plain;
        return !oom;
    }
    switch (c->vw) {
    case 4:
        for (uint32_t i = 0; i < n && !oom; i++) {
            out[i] = dict_put4(c, v + (size_t)i * 4, &oom);
        }
        break;
    case 8:
        for (uint32_t i = 0; i < n && !oom; i++) {
            out[i] = dict_put8(c, v + (size_t)i * 8, &oom);
        }
        break;
    default:
        for (uint32_t i = 0; i < n && !oom; i++) {
            out[i] = dict_put(c, v + (size_t)i * c->vw, c->vw, &oom);
        }
        break;
    }
    c->dict_plain_bytes += (uint64_t)n * c->vw;
    return !oom;
}

/* PLAIN bytes of n staged values onto c->vals. */
static bool
plain_values(lh__pqw_col *c, const uint8_t *v, uint32_t n)
{
    if (c->phys != LH_PQ_TYPE_BYTE_ARRAY) {
        lh_buf_append(&c->vals, n ? v : (const uint8_t *)"", (size_t)n * c->vw);
        return lh_buf_ok(&c->vals);
    }
    const lh_str *s = (const lh_str *)v;
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        total += 4 + (size_t)s[i].len;
    }
    if (lh_buf_reserve(&c->vals, total) != LH_OK) {
        return false;
    }
    uint8_t *d = (uint8_t *)c->vals.data + c->vals.len;
    for (uint32_t i = 0; i < n; i++) {
        lh_put_le32(d, s[i].len);
        memcpy(d + 4, lh_str_data(&s[i]), s[i].len);
        d += 4 + (size_t)s[i].len;
    }
    c->vals.len += total;
    c->vals.data[c->vals.len] = 0;
    return true;
}

/* Appends whole rows to the open page. */
static lh_rc
page_append(lh__pqw_col *c, const uint8_t *v, uint32_t nv, const uint8_t *def,
            const uint8_t *rep, uint32_t n, lh_err *err)
{
    size_t need = (size_t)c->nent + n;
    if (c->max_def > 0) {
        if (!lh__pqw_grow_to(&c->def, &c->ent_cap, need, 1)) {
            return lh__pqw_nomem(err);
        }
        if (def) {
            memcpy(c->def + c->nent, def, n);
        } else {
            memset(c->def + c->nent, c->max_def, n);
        }
    }
    uint32_t rows = n;
    if (c->max_rep > 0) {
        if (!lh__pqw_grow_to(&c->rep, &c->rep_cap, need, 1)) {
            return lh__pqw_nomem(err);
        }
        if (!ALWAYS(c->def != NULL)) {
            return lh_err_set(err, LH_EINTERNAL, "repeated leaf without def");
        }
        rows = 0;
        for (uint32_t i = 0; i < n; i++) {
            rows += rep[i] == 0;
        }
        memcpy(c->rep + c->nent, rep, n);
    }
    c->nent += n;
    c->nrows += rows;
    c->rows += rows;
    c->values += n;
    const lh_pq_writer_opts *o = &c->w->o;
    if (o->statistics || o->page_index) {
        stats_update(c, &c->pst, v, nv);
    }
    if (c->dict_mode) {
        if (!lh__pqw_grow_to(&c->codes, &c->code_cap, (size_t)c->nvals + nv,
                             sizeof *c->codes) ||
            !dict_codes(c, v, nv)) {
            return lh__pqw_nomem(err);
        }
        c->dict_vals += nv;
    } else {
        if (!plain_values(c, v, nv)) {
            return lh__pqw_nomem(err);
        }
        if (c->node->bloom && !bloom_values(c, v, nv)) {
            return lh__pqw_nomem(err);
        }
    }
    c->nvals += nv;
    return LH_OK;
}

/* A dictionary whose values are nearly all distinct so far will not
 * pay (each value costs its bytes in the dictionary plus a code): stop
 * hashing the chunk's values once enough of them say so. */
static bool
nearly_unique(const lh__pqw_col *c)
{
    uint64_t seen = c->dict_vals;
    return seen >= LH_PQW_DICT_PROBE && (uint64_t)c->dict.n * 10 > seen * 9;
}

lh_rc
lh__pqw_col_add(lh__pqw_col *c, const void *vals, uint32_t nvals,
                const uint8_t *def, const uint8_t *rep, uint32_t nent,
                lh_err *err)
{
    const lh_pq_writer_opts *o = &c->w->o;
    const uint8_t *v = vals;
    uint32_t e = 0, used = 0;
    while (e < nent) {
        /* Pages may close only every LH_PQW_PIECE rows of the chunk (or
         * at page_rows), so where they close depends on the rows alone,
         * not on how batches cut them. */
        uint32_t limit = LH_PQW_PIECE - (uint32_t)(c->rows % LH_PQW_PIECE);
        if (o->page_rows && o->page_rows > c->nrows) {
            limit = LH_MIN(limit, o->page_rows - c->nrows);
        }
        uint32_t take;
        bool crossed = false;
        if (rep == NULL) {
            take = LH_MIN(nent - e, limit);
            if (c->phys == LH_PQ_TYPE_BYTE_ARRAY) {
                /* Long strings: also a boundary at the row where the bytes
                 * since the last one pass a page. */
                const lh_str *sv = (const lh_str *)(const void *)v;
                uint32_t j = 0;
                for (uint32_t i = 0; i < take; i++) {
                    if (def == NULL || def[e + i] == c->max_def) {
                        c->raw_bytes += 4 + (uint64_t)sv[j++].len;
                        if (c->raw_bytes >= o->page_bytes) {
                            take = i + 1;
                            crossed = true;
                            break;
                        }
                    }
                }
            }
        } else {
            uint32_t i = e, rows = 0;
            while (i < nent) {
                if (rep[i] == 0) {
                    if (rows == limit) {
                        break;
                    }
                    rows++;
                }
                i++;
            }
            take = i - e;
        }
        uint32_t nv = take;
        if (def != NULL) {
            nv = 0;
            for (uint32_t i = e; i < e + take; i++) {
                nv += def[i] == c->max_def;
            }
        }
        if (!ALWAYS(used + nv <= nvals)) {
            return lh_err_set(err, LH_EINTERNAL, "levels and values disagree");
        }
        lh_rc rc = page_append(c, v, nv, def ? def + e : NULL,
                               rep ? rep + e : NULL, take, err);
        if (rc != LH_OK) {
            return rc;
        }
        v += (size_t)nv * c->vw;
        used += nv;
        e += take;
        bool boundary = crossed || c->rows % LH_PQW_PIECE == 0 ||
                        (o->page_rows && c->nrows >= o->page_rows);
        if (!boundary) {
            continue; /* the call ended between two boundaries */
        }
        c->raw_bytes = 0;
        bool over =
            c->dict_mode && (c->dict.plain.len > o->dict_bytes ||
                             c->dict.n > c->w->dict_values || nearly_unique(c));
        if (over || page_full(c)) {
            rc = close_page(c, err);
            if (rc != LH_OK) {
                return rc;
            }
        }
        if (over) {
            /* The dictionary stops here; the chunk goes on in PLAIN, and
             * the pages before are decoded into PLAIN when it is sealed. */
            c->dict_mode = false;
            c->dict_all = false;
        }
    }
    return LH_OK;
}

/* ---- the chunk ----------------------------------------------------------- */

/* Page p of dictionary codes as a PLAIN page body in c->conv_buf: its
 * levels as they are, then the codes decoded back into values. */
static lh_rc
dict_to_plain(lh__pqw_col *c, lh__pqw_page *p, lh_err *err)
{
    const uint8_t *body = (const uint8_t *)c->pend.data + p->pend_off;
    const uint8_t *vals = body + p->lvl_len;
    lh_buf_reset(&c->conv_buf);
    lh_buf_append(&c->conv_buf, p->lvl_len ? body : (const uint8_t *)"",
                  p->lvl_len);
    if (p->nvals > 0) {
        if (!lh__pqw_grow_to(&c->tmp32, &c->tmp32_cap, p->nvals,
                             sizeof *c->tmp32)) {
            return lh__pqw_nomem(err);
        }
        lh_rc rc = lh_pq_rle_decode(vals + 1, p->vals_len - 1, vals[0],
                                    c->tmp32, p->nvals, err);
        if (rc != LH_OK) {
            return rc;
        }
        for (uint32_t i = 0; i < p->nvals; i++) {
            const uint8_t *q;
            size_t len;
            dict_entry(c, c->tmp32[i], &q, &len);
            if (c->phys == LH_PQ_TYPE_BYTE_ARRAY) {
                lh_buf_append(&c->conv_buf, q - 4, len + 4);
            } else {
                lh_buf_append(&c->conv_buf, q, len);
            }
        }
    }
    if (!lh_buf_ok(&c->conv_buf)) {
        return lh__pqw_nomem(err);
    }
    if (c->conv_buf.len - p->lvl_len > INT32_MAX) {
        return too_big(c, c->conv_buf.len, err);
    }
    p->vals_len = (uint32_t)(c->conv_buf.len - p->lvl_len);
    return LH_OK;
}

/* The dictionary page: its header and stored body, like a data page's. */
static lh_rc
emit_dict_page(lh__pqw_col *c, lh__pqw_page *d, lh_err *err)
{
    lh_pq_page_header h;
    memset(&h, 0, sizeof h);
    h.type = LH_PQ_PAGE_DICTIONARY_PAGE;
    h.has_dictionary_page_header = true;
    h.dictionary_page_header.num_values = (int32_t)c->dict.n;
    h.dictionary_page_header.encoding = LH_PQ_ENC_PLAIN;
    h.dictionary_page_header.is_sorted = false;
    h.dictionary_page_header.has_is_sorted = true;
    memset(d, 0, sizeof *d);
    lh_rc rc = store_body(c, buf_at(c, LH_PQW_BUF_DICT, 0), c->dict.plain.len,
                          LH_PQW_BUF_DICT, 0, d, err);
    if (rc != LH_OK) {
        return rc;
    }
    return put_header(c, &h, c->dict.plain.len, d,
                      buf_at(c, d->body_buf, d->body_off), err);
}

static lh_pq_bytes
arena_bytes(lh_arena *a, const lh_buf *b, bool *oom)
{
    lh_pq_bytes r = {NULL, 0};
    r.p = lh_arena_memdup(a, b->data ? b->data : "", b->len);
    r.len = (uint32_t)b->len;
    if (r.p == NULL) {
        *oom = true;
    }
    return r;
}

static bool
is_float(const lh__pqw_col *c)
{
    return c->ord == LH_PQW_ORD_FLOAT || c->ord == LH_PQW_ORD_DOUBLE;
}

/* ColumnMetaData.statistics from the chunk's stats. */
static bool
chunk_statistics(lh__pqw_col *c, lh_pq_writer *w, lh_pq_statistics *st)
{
    bool oom = false;
    memset(st, 0, sizeof *st);
    st->null_count = c->cst.nulls;
    st->has_null_count = true;
    if (is_float(c)) {
        st->nan_count = c->cst.nans;
        st->has_nan_count = true;
    }
    if (c->dict_all && c->want_dict) {
        st->distinct_count = c->dict.n;
        st->has_distinct_count = true;
    }
    if (!c->cst.has || c->ord == LH_PQW_ORD_NONE) {
        return !oom;
    }
    bool exact = bound_bytes(c, &c->cst, false, &c->lv);
    st->min_value = arena_bytes(&w->arena, &c->lv, &oom);
    st->has_min_value = true;
    st->is_min_value_exact = exact;
    st->has_is_min_value_exact = true;
    exact = bound_bytes(c, &c->cst, true, &c->lv);
    st->max_value = arena_bytes(&w->arena, &c->lv, &oom);
    st->has_max_value = true;
    st->is_max_value_exact = exact;
    st->has_is_max_value_exact = true;
    if (c->ord != LH_PQW_ORD_BYTES && c->ord != LH_PQW_ORD_DEC_BE) {
        /* The deprecated fields order signed, which numbers agree with. */
        st->min = st->min_value;
        st->has_min = true;
        st->max = st->max_value;
        st->has_max = true;
    }
    return !oom && lh_buf_ok(&c->lv);
}

static lh_rc
page_indexes(lh__pqw_col *c, lh_pq_writer *w, lh_pq_column_chunk *cc,
             lh_err *err)
{
    lh_arena *a = &w->tmp;
    uint32_t np = c->npages;
    lh_pq_offset_index oi;
    memset(&oi, 0, sizeof oi);
    oi.page_locations =
        lh_arena_calloc(a, (np ? np : 1) * sizeof *oi.page_locations);
    if (oi.page_locations == NULL) {
        return lh__pqw_nomem(err);
    }
    oi.n_page_locations = np;
    bool ci_ok = c->ord != LH_PQW_ORD_NONE;
    for (uint32_t i = 0; i < np; i++) {
        const lh__pqw_page *p = &c->pages[i];
        lh_pq_page_location *l = &oi.page_locations[i];
        l->offset = p->file_off;
        l->compressed_page_size = (int32_t)p->csize;
        l->first_row_index = p->first_row;
        if (p->nan_only) {
            ci_ok = false; /* parquet.thrift: no NaN bounds, no index */
        }
    }
    size_t at = w->oi.len;
    lh_rc rc = lh_pq_encode_offset_index(&oi, &w->oi, err);
    if (rc != LH_OK) {
        return rc;
    }
    cc->offset_index_offset = (int64_t)at;
    cc->has_offset_index_offset = true;
    cc->offset_index_length = (int32_t)(w->oi.len - at);
    cc->has_offset_index_length = true;
    if (!ci_ok) {
        return LH_OK;
    }
    lh_pq_column_index ci;
    memset(&ci, 0, sizeof ci);
    size_t n1 = np ? np : 1;
    ci.null_pages = lh_arena_calloc(a, n1 * sizeof *ci.null_pages);
    ci.min_values = lh_arena_calloc(a, n1 * sizeof *ci.min_values);
    ci.max_values = lh_arena_calloc(a, n1 * sizeof *ci.max_values);
    ci.null_counts = lh_arena_calloc(a, n1 * sizeof *ci.null_counts);
    ci.nan_counts = lh_arena_calloc(a, n1 * sizeof *ci.nan_counts);
    if (!ci.null_pages || !ci.min_values || !ci.max_values || !ci.null_counts ||
        !ci.nan_counts) {
        return lh__pqw_nomem(err);
    }
    ci.n_null_pages = ci.n_min_values = ci.n_max_values = np;
    ci.n_null_counts = np;
    bool asc = true, desc = true;
    int prev = -1;
    const uint8_t *mm = (const uint8_t *)(c->ci_mm.data ? c->ci_mm.data : "");
    for (uint32_t i = 0; i < np; i++) {
        const lh__pqw_page *p = &c->pages[i];
        ci.null_counts[i] = p->nent - p->nvals;
        ci.nan_counts[i] = p->nans;
        if (!p->has_bounds) {
            ci.null_pages[i] = true;
            ci.min_values[i].p = mm;
            ci.max_values[i].p = mm;
            continue;
        }
        ci.min_values[i] = (lh_pq_bytes){mm + p->min_off, p->min_len};
        ci.max_values[i] = (lh_pq_bytes){mm + p->max_off, p->max_len};
        if (prev >= 0) {
            const lh__pqw_page *q = &c->pages[prev];
            int lo = bound_cmp(c, mm + q->min_off, q->min_len, mm + p->min_off,
                               p->min_len);
            int hi = bound_cmp(c, mm + q->max_off, q->max_len, mm + p->max_off,
                               p->max_len);
            if (lo > 0 || hi > 0) {
                asc = false;
            }
            if (lo < 0 || hi < 0) {
                desc = false;
            }
        }
        prev = (int)i;
    }
    ci.boundary_order = asc    ? LH_PQ_BOUNDARY_ASCENDING
                        : desc ? LH_PQ_BOUNDARY_DESCENDING
                               : LH_PQ_BOUNDARY_UNORDERED;
    if (is_float(c)) {
        ci.n_nan_counts = np;
    } else {
        ci.nan_counts = NULL;
    }
    at = w->ci.len;
    rc = lh_pq_encode_column_index(&ci, &w->ci, err);
    if (rc != LH_OK) {
        return rc;
    }
    cc->column_index_offset = (int64_t)at;
    cc->has_column_index_offset = true;
    cc->column_index_length = (int32_t)(w->ci.len - at);
    cc->has_column_index_length = true;
    return LH_OK;
}

static lh_rc
bloom_filter(lh__pqw_col *c, lh_pq_writer *w, lh_pq_column_metadata *m,
             lh_err *err)
{
    /* Values that went through the dictionary are its entries. */
    for (uint32_t k = 0; k < c->dict.n; k++) {
        const uint8_t *p;
        size_t len;
        dict_entry(c, k, &p, &len);
        if (!hset_add(&c->bloom, lh_pq_bloom_hash(p, len))) {
            return lh__pqw_nomem(err);
        }
    }
    uint64_t ndv = (uint64_t)c->bloom.n + (c->bloom.zero ? 1 : 0);
    size_t nbytes = lh_pq_bloom_optimal_bytes(ndv, w->o.bloom_fpp);
    uint8_t *bits = lh_arena_calloc(&w->tmp, nbytes);
    if (bits == NULL) {
        return lh__pqw_nomem(err);
    }
    if (c->bloom.zero) {
        lh_pq_bloom_insert(bits, nbytes, 0);
    }
    for (size_t i = 0; c->bloom.s && i <= c->bloom.mask; i++) {
        if (c->bloom.s[i] != 0) {
            lh_pq_bloom_insert(bits, nbytes, c->bloom.s[i]);
        }
    }
    lh_pq_bloom_filter_header h = {
        .num_bytes = (int32_t)nbytes,
        .algorithm = LH_PQ_BLOOM_ALGORITHM_BLOCK,
        .hash = LH_PQ_BLOOM_HASH_XXHASH,
        .compression = LH_PQ_BLOOM_COMPRESSION_UNCOMPRESSED,
    };
    size_t at = w->blooms.len;
    lh_rc rc = lh_pq_encode_bloom_filter_header(&h, &w->blooms, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_buf_append(&w->blooms, bits, nbytes);
    if (!lh_buf_ok(&w->blooms)) {
        return lh__pqw_nomem(err);
    }
    m->bloom_filter_offset = (int64_t)at;
    m->has_bloom_filter_offset = true;
    m->bloom_filter_length = (int32_t)(w->blooms.len - at);
    m->has_bloom_filter_length = true;
    return LH_OK;
}

static void
chunk_reset(lh__pqw_col *c)
{
    c->npages = 0;
    lh_buf_reset(&c->pend);
    lh_buf_reset(&c->ci_mm);
    stats_reset(&c->cst);
    stats_reset(&c->pst);
    c->rows = 0;
    c->values = 0;
    c->page_first_row = 0;
    c->raw_bytes = 0;
    dict_reset(&c->dict);
    c->dict_mode = c->want_dict;
    c->dict_all = c->want_dict;
    c->dict_plain_bytes = 0;
    c->dict_code_bytes = 0;
    c->dict_vals = 0;
    hset_reset(&c->bloom);
}

lh_rc
lh__pqw_col_seal(lh__pqw_col *c, void *zctx, lh_err *err)
{
    c->zctx = zctx;
    lh_rc rc = close_page(c, err);
    if (rc != LH_OK) {
        return rc;
    }
    uint32_t ndict = 0;
    while (ndict < c->npages && c->pages[ndict].dict) {
        ndict++;
    }
    /* Keep the dictionary only when it and the codes are smaller than
     * the PLAIN values they stand for. */
    bool keep =
        ndict > 0 && c->dict.n > 0 && c->dict_all &&
        (uint64_t)c->dict.plain.len + c->dict_code_bytes < c->dict_plain_bytes;
    lh_buf_reset(&c->head);
    lh_buf_reset(&c->hdrs);
    uint64_t usize = 0;
    if (keep) {
        rc = emit_dict_page(c, &c->dict_page, err);
        if (rc != LH_OK) {
            return rc;
        }
        usize += c->dict_page.usize;
    }
    for (uint32_t i = 0; i < c->npages; i++) {
        lh__pqw_page *p = &c->pages[i];
        size_t blen = (size_t)p->lvl_len + p->vals_len;
        if (!p->dict) {
            rc = emit_data_page(c, p, LH_PQW_BUF_PEND, p->pend_off, blen,
                                LH_PQ_ENC_PLAIN, err);
        } else if (keep) {
            rc = emit_data_page(c, p, LH_PQW_BUF_PEND, p->pend_off, blen,
                                LH_PQ_ENC_RLE_DICTIONARY, err);
        } else {
            /* Uncompressed pages point at their body: keep each one's
             * conversion apart (in head, which holds nothing else then). */
            rc = dict_to_plain(c, p, err);
            if (rc == LH_OK) {
                blen = (size_t)p->lvl_len + p->vals_len;
                rc = emit_data_page(c, p, LH_PQW_BUF_CONV, 0, blen,
                                    LH_PQ_ENC_PLAIN, err);
            }
            if (rc == LH_OK && p->body_buf == LH_PQW_BUF_CONV) {
                size_t at = c->head.len;
                lh_buf_append(&c->head, c->conv_buf.data, p->body_len);
                p->body_buf = LH_PQW_BUF_HEAD;
                p->body_off = at;
                if (!lh_buf_ok(&c->head)) {
                    rc = lh__pqw_nomem(err);
                }
            }
        }
        if (rc != LH_OK) {
            return rc;
        }
        usize += p->usize;
    }
    c->keep = keep;
    c->ndict = ndict;
    c->usize = usize;
    return LH_OK;
}

/* Writes one page (header, then body) to the sink; *at advances. */
static lh_rc
write_page(lh__pqw_col *c, lh_pq_writer *w, lh__pqw_page *p, lh_err *err)
{
    p->file_off = (int64_t)w->pos;
    lh_rc rc =
        lh__pqw_sink_write(w, c->hdrs.data + p->hdr_off, p->hdr_len, err);
    if (rc == LH_OK) {
        rc = lh__pqw_sink_write(w, buf_at(c, p->body_buf, p->body_off),
                                p->body_len, err);
    }
    return rc;
}

lh_rc
lh__pqw_col_finish(lh__pqw_col *c, lh_pq_writer *w, lh_pq_column_chunk *cc,
                   lh_err *err)
{
    bool keep = c->keep;
    uint32_t ndict = c->ndict;
    uint64_t start = w->pos;
    lh_rc rc = LH_OK;
    if (keep) {
        rc = write_page(c, w, &c->dict_page, err);
    }
    for (uint32_t i = 0; i < c->npages && rc == LH_OK; i++) {
        rc = write_page(c, w, &c->pages[i], err);
    }
    if (rc != LH_OK) {
        return rc;
    }

    /* The metadata. */
    memset(cc, 0, sizeof *cc);
    cc->file_offset = 0;
    cc->has_meta_data = true;
    lh_pq_column_metadata *m = &cc->meta_data;
    m->type = c->phys;
    bool levels = c->max_def > 0 || c->max_rep > 0;
    bool any_plain = !keep || ndict < c->npages;
    int32_t encs[3];
    uint32_t ne = 0;
    if (keep || any_plain) {
        encs[ne++] = LH_PQ_ENC_PLAIN;
    }
    if (levels) {
        encs[ne++] = LH_PQ_ENC_RLE;
    }
    if (keep) {
        encs[ne++] = LH_PQ_ENC_RLE_DICTIONARY;
    }
    m->encodings = lh_arena_memdup(&w->arena, encs, ne * sizeof *encs);
    m->n_encodings = ne;
    m->path_in_schema = c->path;
    m->n_path_in_schema = c->npath;
    m->codec = w->o.codec;
    m->num_values = c->values;
    m->total_uncompressed_size = (int64_t)c->usize;
    m->total_compressed_size = (int64_t)(w->pos - start);
    m->data_page_offset = c->pages[0].file_off;
    if (keep) {
        m->dictionary_page_offset = (int64_t)start;
        m->has_dictionary_page_offset = true;
    }
    lh_pq_page_encoding_stats es[3];
    uint32_t nes = 0;
    int dp = w->o.page_v2 ? LH_PQ_PAGE_DATA_PAGE_V2 : LH_PQ_PAGE_DATA_PAGE;
    if (keep) {
        es[nes++] = (lh_pq_page_encoding_stats){LH_PQ_PAGE_DICTIONARY_PAGE,
                                                LH_PQ_ENC_PLAIN, 1};
        es[nes++] = (lh_pq_page_encoding_stats){dp, LH_PQ_ENC_RLE_DICTIONARY,
                                                (int32_t)ndict};
    }
    uint32_t nplain = keep ? c->npages - ndict : c->npages;
    if (nplain > 0) {
        es[nes++] =
            (lh_pq_page_encoding_stats){dp, LH_PQ_ENC_PLAIN, (int32_t)nplain};
    }
    m->encoding_stats = lh_arena_memdup(&w->arena, es, nes * sizeof *es);
    m->n_encoding_stats = nes;
    if (!m->encodings || !m->encoding_stats) {
        return lh__pqw_nomem(err);
    }
    if (w->o.statistics) {
        if (!chunk_statistics(c, w, &m->statistics)) {
            return lh__pqw_nomem(err);
        }
        m->has_statistics = true;
    }
    if (w->o.page_index) {
        rc = page_indexes(c, w, cc, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    if (c->node->bloom) {
        rc = bloom_filter(c, w, m, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    chunk_reset(c);
    return LH_OK;
}
