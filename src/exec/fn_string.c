/*
 * String functions: || and concat, LIKE / ILIKE (with ESCAPE; the pattern
 * compiled once when it is a constant: prefix, suffix, contains and exact
 * patterns become memcmp / memmem), length and friends (in characters:
 * strings are UTF-8), lower / upper (libutf8proc's case mappings),
 * substring, strpos, replace, the trim family, split_part, left, right,
 * starts_with, repeat, reverse, lpad, rpad, ascii, chr.
 */
#include <string.h>

#include <utf8proc.h>

#include "exec/kernel.h"

#define str_at lh_str_at

static inline int64_t
i64_at(const lh_vector *v, uint32_t r)
{
    uint32_t i = lh_vidx(v, r);
    switch (v->type.id) {
    case LH_T_SMALLINT:
        return ((const int16_t *)v->data)[i];
    case LH_T_INTEGER:
        return ((const int32_t *)v->data)[i];
    default:
        return ((const int64_t *)v->data)[i];
    }
}

lh_rc
lh__put_str(lh_kctx *k, lh_vector *out, uint32_t r, const char *p, size_t len)
{
    if (len > UINT32_MAX) {
        return lh__kerr(k, LH_ELIMIT, "string too long");
    }
    bool oom = false;
    ((lh_str *)out->data)[r] = lh__str_copy(k->arena, p, (uint32_t)len, &oom);
    return oom ? lh_err_set(k->err, LH_ENOMEM, "out of memory") : LH_OK;
}

/* Bytes of the first `chars` characters of s[0..n). */
static size_t
char_bytes(const char *s, size_t n, int64_t chars)
{
    size_t i = 0;
    while (i < n && chars > 0) {
        i++;
        while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80) {
            i++;
        }
        chars--;
    }
    return i;
}

static int64_t
char_count(const char *s, size_t n)
{
    int64_t c = 0;
    for (size_t i = 0; i < n; i++) {
        c += ((unsigned char)s[i] & 0xc0) != 0x80;
    }
    return c;
}

#define ROWS_LOOP                                                              \
    for (uint32_t i = 0; i < n; i++) {                                         \
        uint32_t r = sel ? sel[i] : i;                                         \
        if (!LH_ROW_LIVE(out->validity, r)) {                                  \
            continue;                                                          \
        }

#define ROWS_END }

#define KERNEL(name)                                                           \
    static lh_rc name(lh_kctx *k, const lh_vector *const *args,                \
                      uint32_t nargs, const uint32_t *sel, uint32_t n,         \
                      lh_vector *out)

/* ---- || and concat
 * -------------------------------------------------------------- */

KERNEL(concat2)
{
    (void)nargs;
    lh_buf b = LH_BUF_INIT;
    lh_rc rc = LH_OK;
    ROWS_LOOP
    lh_str x = str_at(args[0], r), y = str_at(args[1], r);
    lh_buf_reset(&b);
    lh_buf_append(&b, lh_str_data(&x), x.len);
    lh_buf_append(&b, lh_str_data(&y), y.len);
    rc = lh_buf_ok(&b) ? lh__put_str(k, out, r, b.data ? b.data : "", b.len)
                       : lh_err_set(k->err, LH_ENOMEM, "out of memory");
    if (rc != LH_OK) {
        break;
    }
    ROWS_END
    lh_buf_release(&b);
    return rc;
}

/* concat(a, b, ...): NULLs count as empty strings */
KERNEL(concat_n)
{
    lh_buf b = LH_BUF_INIT;
    lh_rc rc = LH_OK;
    ROWS_LOOP
    lh_buf_reset(&b);
    for (uint32_t a = 0; a < nargs; a++) {
        if (!lh_vec_valid(args[a], r)) {
            continue;
        }
        lh_str x = str_at(args[a], r);
        lh_buf_append(&b, lh_str_data(&x), x.len);
    }
    rc = lh_buf_ok(&b) ? lh__put_str(k, out, r, b.data ? b.data : "", b.len)
                       : lh_err_set(k->err, LH_ENOMEM, "out of memory");
    if (rc != LH_OK) {
        break;
    }
    ROWS_END
    lh_buf_release(&b);
    return rc;
}

/* Anything concatenates as its text. */
lh_rc
lh__rule_text_args(const lh_fn_def *fn, const lh_type *args, uint32_t nargs,
                   lh_type *want, lh_type *ret, lh_err *err)
{
    (void)fn;
    (void)args;
    (void)err;
    for (uint32_t i = 0; i < nargs; i++) {
        want[i] = lh_sql_type(LH_T_VARCHAR);
    }
    *ret = lh_sql_type(LH_T_VARCHAR);
    return LH_OK;
}

/* ---- LIKE
 * ------------------------------------------------------------------------- */

typedef enum like_kind {
    LIKE_GENERIC = 0,
    LIKE_EXACT,
    LIKE_PREFIX,
    LIKE_SUFFIX,
    LIKE_CONTAINS,
    LIKE_ANY, /* '%' */
} like_kind;

typedef struct like_pat {
    uint8_t kind;
    const char *lit; /* EXACT/PREFIX/SUFFIX/CONTAINS: the literal part */
    size_t len;
    const char *pat; /* GENERIC: the pattern */
    size_t plen;
    int escape; /* -1: none */
    bool ci;
} like_pat;

static inline unsigned char
fold(unsigned char c, bool ci)
{
    return ci && c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Matches s against p with % and _ (one UTF-8 character), iteratively
 * with one backtrack point (the last %): linear for most patterns. */
static bool
like_match(const char *s, size_t n, const char *p, size_t m, int esc, bool ci)
{
    size_t si = 0, pi = 0;
    size_t star_p = (size_t)-1, star_s = 0;
    while (si < n) {
        if (pi < m && p[pi] == '%') {
            star_p = ++pi;
            star_s = si;
            continue;
        }
        if (pi < m && p[pi] == '_') {
            pi++;
            si++;
            while (si < n && ((unsigned char)s[si] & 0xc0) == 0x80) {
                si++;
            }
            continue;
        }
        if (pi < m) {
            size_t q = pi;
            if (esc >= 0 && (unsigned char)p[q] == esc && q + 1 < m) {
                q++;
            }
            if (fold((unsigned char)p[q], ci) ==
                fold((unsigned char)s[si], ci)) {
                pi = q + 1;
                si++;
                continue;
            }
        }
        if (star_p != (size_t)-1) {
            /* let the last % take one more character */
            pi = star_p;
            si = ++star_s;
            while (si < n && ((unsigned char)s[si] & 0xc0) == 0x80) {
                si = ++star_s;
            }
            continue;
        }
        return false;
    }
    while (pi < m && p[pi] == '%') {
        pi++;
    }
    return pi == m;
}

static bool
mem_eq(const char *a, const char *b, size_t n, bool ci)
{
    if (!ci) {
        return memcmp(a, b, n) == 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (fold((unsigned char)a[i], true) !=
            fold((unsigned char)b[i], true)) {
            return false;
        }
    }
    return true;
}

static bool
pat_match(const like_pat *lp, const char *s, size_t n)
{
    switch ((like_kind)lp->kind) {
    case LIKE_ANY:
        return true;
    case LIKE_EXACT:
        return n == lp->len && mem_eq(s, lp->lit, n, lp->ci);
    case LIKE_PREFIX:
        return n >= lp->len && mem_eq(s, lp->lit, lp->len, lp->ci);
    case LIKE_SUFFIX:
        return n >= lp->len &&
               mem_eq(s + n - lp->len, lp->lit, lp->len, lp->ci);
    case LIKE_CONTAINS:
        if (!lp->ci) {
            return lp->len == 0 || memmem(s, n, lp->lit, lp->len) != NULL;
        }
        for (size_t i = 0; i + lp->len <= n; i++) {
            if (mem_eq(s + i, lp->lit, lp->len, true)) {
                return true;
            }
        }
        return false;
    case LIKE_GENERIC:
        break;
    }
    return like_match(s, n, lp->pat, lp->plen, lp->escape, lp->ci);
}

/* Classifies a constant pattern. */
static void
classify(like_pat *lp, lh_arena *a, const char *p, size_t m)
{
    lp->pat = p;
    lp->plen = m;
    lp->kind = LIKE_GENERIC;
    /* the literal characters between leading and trailing % */
    size_t lo = 0, hi = m;
    while (lo < m && p[lo] == '%') {
        lo++;
    }
    if (lo == m) {
        lp->kind = m ? LIKE_ANY : LIKE_EXACT;
        lp->lit = "";
        lp->len = 0;
        return;
    }
    while (hi > lo && p[hi - 1] == '%' &&
           !(hi >= 2 && lp->escape >= 0 &&
             (unsigned char)p[hi - 2] == lp->escape)) {
        hi--;
    }
    /* the middle must hold no wildcard; escapes are unescaped */
    char *lit = lh_arena_alloc(a, hi - lo + 1);
    if (lit == NULL) {
        return;
    }
    size_t ll = 0;
    for (size_t i = lo; i < hi; i++) {
        char c = p[i];
        if (lp->escape >= 0 && (unsigned char)c == lp->escape && i + 1 < hi) {
            lit[ll++] = p[++i];
            continue;
        }
        if (c == '%' || c == '_') {
            return; /* generic */
        }
        lit[ll++] = c;
    }
    lp->lit = lit;
    lp->len = ll;
    bool lead = lo > 0, trail = hi < m;
    lp->kind = lead && trail ? LIKE_CONTAINS
               : lead        ? LIKE_SUFFIX
               : trail       ? LIKE_PREFIX
                             : LIKE_EXACT;
}

static lh_rc
like_prepare(lh_exec *ex, const lh_cexpr *e, lh_arena *a, void **aux,
             lh_err *err)
{
    (void)ex;
    *aux = NULL;
    if (e->args[1]->kind != LH_CX_CONST ||
        (e->nargs > 2 && e->args[2]->kind != LH_CX_CONST)) {
        return LH_OK;
    }
    if (e->args[1]->konst.is_null) {
        return LH_OK;
    }
    like_pat *lp = lh_arena_calloc(a, sizeof(like_pat));
    if (lp == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lp->ci = strcmp(e->fn->name, "ilike") == 0;
    lp->escape = '\\';
    if (e->nargs > 2) {
        const lh_value *ev = &e->args[2]->konst;
        if (ev->is_null || ev->u.s.len > 1) {
            return lh_err_set(err, LH_EINVAL,
                              "invalid escape string (it must be empty or "
                              "one character)");
        }
        lp->escape = ev->u.s.len ? (unsigned char)ev->u.s.p[0] : -1;
    }
    classify(lp, a, e->args[1]->konst.u.s.p, e->args[1]->konst.u.s.len);
    *aux = lp;
    return LH_OK;
}

KERNEL(like)
{
    const like_pat *lp = k->e ? k->e->aux : NULL;
    bool ci = k->e && strcmp(k->e->fn->name, "ilike") == 0;
    uint8_t *o = out->data;
    ROWS_LOOP
    lh_str s = str_at(args[0], r);
    if (lp) {
        o[r] = pat_match(lp, lh_str_data(&s), s.len);
    } else {
        lh_str p = str_at(args[1], r);
        int esc = '\\';
        if (nargs > 2) {
            lh_str e = str_at(args[2], r);
            esc = e.len ? (unsigned char)lh_str_data(&e)[0] : -1;
        }
        o[r] =
            like_match(lh_str_data(&s), s.len, lh_str_data(&p), p.len, esc, ci);
    }
    ROWS_END
    return LH_OK;
}

/* ---- lengths and cases
 * ---------------------------------------------------------------- */

KERNEL(length_k)
{
    (void)nargs;
    (void)k;
    int64_t *o = out->data;
    ROWS_LOOP
    lh_str s = str_at(args[0], r);
    o[r] = char_count(lh_str_data(&s), s.len);
    ROWS_END
    return LH_OK;
}

KERNEL(octet_length_k)
{
    (void)nargs;
    (void)k;
    int64_t *o = out->data;
    ROWS_LOOP
    o[r] = str_at(args[0], r).len;
    ROWS_END
    return LH_OK;
}

static lh_rc
map_case(lh_kctx *k, const lh_vector *const *args, const uint32_t *sel,
         uint32_t n, lh_vector *out, bool upper)
{
    lh_buf b = LH_BUF_INIT;
    lh_rc rc = LH_OK;
    ROWS_LOOP
    lh_str s = str_at(args[0], r);
    const uint8_t *p = (const uint8_t *)lh_str_data(&s);
    lh_buf_reset(&b);
    size_t j = 0;
    while (j < s.len) {
        if (p[j] < 0x80) {
            char c = (char)p[j];
            if (upper && c >= 'a' && c <= 'z') {
                c = (char)(c - 32);
            } else if (!upper && c >= 'A' && c <= 'Z') {
                c = (char)(c + 32);
            }
            lh_buf_putc(&b, c);
            j++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t l =
            utf8proc_iterate(p + j, (utf8proc_ssize_t)(s.len - j), &cp);
        if (l <= 0) {
            lh_buf_putc(&b, (char)p[j]);
            j++;
            continue;
        }
        cp = upper ? utf8proc_toupper(cp) : utf8proc_tolower(cp);
        utf8proc_uint8_t enc[4];
        utf8proc_ssize_t el = utf8proc_encode_char(cp, enc);
        lh_buf_append(&b, enc, (size_t)el);
        j += (size_t)l;
    }
    rc = lh_buf_ok(&b) ? lh__put_str(k, out, r, b.data ? b.data : "", b.len)
                       : lh_err_set(k->err, LH_ENOMEM, "out of memory");
    if (rc != LH_OK) {
        break;
    }
    ROWS_END
    lh_buf_release(&b);
    return rc;
}

KERNEL(lower_k)
{
    (void)nargs;
    return map_case(k, args, sel, n, out, false);
}

KERNEL(upper_k)
{
    (void)nargs;
    return map_case(k, args, sel, n, out, true);
}

/* ---- pieces
 * ---------------------------------------------------------------------------
 */

/* substring(s, start [, len]) in characters; PostgreSQL's rules for a
 * start before 1 (the length counts from there) and a negative length
 * (an error). */
KERNEL(substring_k)
{
    ROWS_LOOP
    lh_str s = str_at(args[0], r);
    const char *p = lh_str_data(&s);
    int64_t start = i64_at(args[1], r);
    int64_t total = char_count(p, s.len);
    int64_t end; /* exclusive, 1-based */
    if (nargs > 2) {
        int64_t len = i64_at(args[2], r);
        if (len < 0) {
            return lh__kerr(k, LH_EINVAL,
                            "negative substring length not "
                            "allowed");
        }
        end = __builtin_add_overflow(start, len, &end) ? INT64_MAX : end;
    } else {
        end = INT64_MAX;
    }
    if (start < 1) {
        start = 1;
    }
    if (end > total + 1) {
        end = total + 1;
    }
    size_t from = 0, to = 0;
    if (end > start) {
        from = char_bytes(p, s.len, start - 1);
        to = from + char_bytes(p + from, s.len - from, end - start);
    }
    lh_rc rc = lh__put_str(k, out, r, p + from, to - from);
    if (rc != LH_OK) {
        return rc;
    }
    ROWS_END
    return LH_OK;
}

KERNEL(strpos_k)
{
    (void)nargs;
    (void)k;
    int64_t *o = out->data;
    ROWS_LOOP
    lh_str s = str_at(args[0], r), t = str_at(args[1], r);
    const char *hit =
        t.len ? memmem(lh_str_data(&s), s.len, lh_str_data(&t), t.len)
              : lh_str_data(&s);
    o[r] =
        hit ? char_count(lh_str_data(&s), (size_t)(hit - lh_str_data(&s))) + 1
            : 0;
    ROWS_END
    return LH_OK;
}

KERNEL(replace_k)
{
    (void)nargs;
    lh_buf b = LH_BUF_INIT;
    lh_rc rc = LH_OK;
    ROWS_LOOP
    lh_str s = str_at(args[0], r), f = str_at(args[1], r),
           t = str_at(args[2], r);
    const char *p = lh_str_data(&s);
    lh_buf_reset(&b);
    if (f.len == 0) {
        lh_buf_append(&b, p, s.len);
    } else {
        size_t j = 0;
        while (j < s.len) {
            const char *hit = memmem(p + j, s.len - j, lh_str_data(&f), f.len);
            if (hit == NULL) {
                lh_buf_append(&b, p + j, s.len - j);
                break;
            }
            lh_buf_append(&b, p + j, (size_t)(hit - (p + j)));
            lh_buf_append(&b, lh_str_data(&t), t.len);
            j = (size_t)(hit - p) + f.len;
        }
    }
    rc = lh_buf_ok(&b) ? lh__put_str(k, out, r, b.data ? b.data : "", b.len)
                       : lh_err_set(k->err, LH_ENOMEM, "out of memory");
    if (rc != LH_OK) {
        break;
    }
    ROWS_END
    lh_buf_release(&b);
    return rc;
}

/* trim family: which ends, and the set of characters (default space) */
static bool
in_set(const char *set, size_t n, const char *c, size_t cl)
{
    for (size_t i = 0; i < n;) {
        size_t l = 1;
        while (i + l < n && ((unsigned char)set[i + l] & 0xc0) == 0x80) {
            l++;
        }
        if (l == cl && memcmp(set + i, c, cl) == 0) {
            return true;
        }
        i += l;
    }
    return false;
}

static lh_rc
trim_impl(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
          const uint32_t *sel, uint32_t n, lh_vector *out, bool left,
          bool right)
{
    ROWS_LOOP
    lh_str s = str_at(args[0], r);
    const char *p = lh_str_data(&s);
    const char *set = " ";
    size_t sn = 1;
    lh_str cs;
    if (nargs > 1) {
        cs = str_at(args[1], r);
        set = lh_str_data(&cs);
        sn = cs.len;
    }
    size_t lo = 0, hi = s.len;
    while (left && lo < hi) {
        size_t l = 1;
        while (lo + l < hi && ((unsigned char)p[lo + l] & 0xc0) == 0x80) {
            l++;
        }
        if (!in_set(set, sn, p + lo, l)) {
            break;
        }
        lo += l;
    }
    while (right && hi > lo) {
        size_t st = hi - 1;
        while (st > lo && ((unsigned char)p[st] & 0xc0) == 0x80) {
            st--;
        }
        if (!in_set(set, sn, p + st, hi - st)) {
            break;
        }
        hi = st;
    }
    lh_rc rc = lh__put_str(k, out, r, p + lo, hi - lo);
    if (rc != LH_OK) {
        return rc;
    }
    ROWS_END
    return LH_OK;
}

KERNEL(trim_k)
{
    return trim_impl(k, args, nargs, sel, n, out, true, true);
}

KERNEL(ltrim_k)
{
    return trim_impl(k, args, nargs, sel, n, out, true, false);
}

KERNEL(rtrim_k)
{
    return trim_impl(k, args, nargs, sel, n, out, false, true);
}

KERNEL(left_k)
{
    (void)nargs;
    ROWS_LOOP
    lh_str s = str_at(args[0], r);
    const char *p = lh_str_data(&s);
    int64_t c = i64_at(args[1], r);
    int64_t total = char_count(p, s.len);
    int64_t take = c >= 0 ? c : total + c;
    if (take < 0) {
        take = 0;
    }
    lh_rc rc = lh__put_str(k, out, r, p, char_bytes(p, s.len, take));
    if (rc != LH_OK) {
        return rc;
    }
    ROWS_END
    return LH_OK;
}

KERNEL(right_k)
{
    (void)nargs;
    ROWS_LOOP
    lh_str s = str_at(args[0], r);
    const char *p = lh_str_data(&s);
    int64_t c = i64_at(args[1], r);
    int64_t total = char_count(p, s.len);
    int64_t take = c >= 0 ? c : total + c;
    if (take < 0) {
        take = 0;
    }
    if (take > total) {
        take = total;
    }
    size_t skip = char_bytes(p, s.len, total - take);
    lh_rc rc = lh__put_str(k, out, r, p + skip, s.len - skip);
    if (rc != LH_OK) {
        return rc;
    }
    ROWS_END
    return LH_OK;
}

KERNEL(starts_with_k)
{
    (void)nargs;
    (void)k;
    uint8_t *o = out->data;
    ROWS_LOOP
    lh_str s = str_at(args[0], r), t = str_at(args[1], r);
    o[r] =
        s.len >= t.len && memcmp(lh_str_data(&s), lh_str_data(&t), t.len) == 0;
    ROWS_END
    return LH_OK;
}

KERNEL(ends_with_k)
{
    (void)nargs;
    (void)k;
    uint8_t *o = out->data;
    ROWS_LOOP
    lh_str s = str_at(args[0], r), t = str_at(args[1], r);
    o[r] = s.len >= t.len &&
           memcmp(lh_str_data(&s) + s.len - t.len, lh_str_data(&t), t.len) == 0;
    ROWS_END
    return LH_OK;
}

KERNEL(contains_k)
{
    (void)nargs;
    (void)k;
    uint8_t *o = out->data;
    ROWS_LOOP
    lh_str s = str_at(args[0], r), t = str_at(args[1], r);
    o[r] = t.len == 0 ||
           memmem(lh_str_data(&s), s.len, lh_str_data(&t), t.len) != NULL;
    ROWS_END
    return LH_OK;
}

KERNEL(split_part_k)
{
    (void)nargs;
    ROWS_LOOP
    lh_str s = str_at(args[0], r), d = str_at(args[1], r);
    int64_t idx = i64_at(args[2], r);
    if (idx == 0) {
        return lh__kerr(k, LH_EINVAL, "field position must not be zero");
    }
    const char *p = lh_str_data(&s);
    /* the fields, to take the idx-th (negative: from the end) */
    size_t starts[1]; /* unused: two passes instead */
    (void)starts;
    int64_t nf = 1;
    if (d.len) {
        for (const char *q = p;
             (q = memmem(q, s.len - (size_t)(q - p), lh_str_data(&d), d.len));
             q += d.len) {
            nf++;
        }
    }
    if (idx < 0) {
        idx = nf + idx + 1;
    }
    const char *res = "";
    size_t rl = 0;
    if (d.len == 0) {
        if (idx == 1) {
            res = p;
            rl = s.len;
        }
    } else if (idx >= 1 && idx <= nf) {
        const char *q = p;
        for (int64_t f = 1; f < idx; f++) {
            q = (const char *)memmem(q, s.len - (size_t)(q - p),
                                     lh_str_data(&d), d.len) +
                d.len;
        }
        const char *e =
            memmem(q, s.len - (size_t)(q - p), lh_str_data(&d), d.len);
        res = q;
        rl = e ? (size_t)(e - q) : s.len - (size_t)(q - p);
    }
    lh_rc rc = lh__put_str(k, out, r, res, rl);
    if (rc != LH_OK) {
        return rc;
    }
    ROWS_END
    return LH_OK;
}

KERNEL(repeat_k)
{
    (void)nargs;
    lh_buf b = LH_BUF_INIT;
    lh_rc rc = LH_OK;
    ROWS_LOOP
    lh_str s = str_at(args[0], r);
    int64_t c = i64_at(args[1], r);
    if (c > 0 && (uint64_t)c * s.len > (256u << 20)) {
        rc = lh__kerr(k, LH_ELIMIT, "requested length too large");
        break;
    }
    lh_buf_reset(&b);
    for (int64_t j = 0; j < c; j++) {
        lh_buf_append(&b, lh_str_data(&s), s.len);
    }
    rc = lh_buf_ok(&b) ? lh__put_str(k, out, r, b.data ? b.data : "", b.len)
                       : lh_err_set(k->err, LH_ENOMEM, "out of memory");
    if (rc != LH_OK) {
        break;
    }
    ROWS_END
    lh_buf_release(&b);
    return rc;
}

KERNEL(reverse_k)
{
    (void)nargs;
    lh_buf b = LH_BUF_INIT;
    lh_rc rc = LH_OK;
    ROWS_LOOP
    lh_str s = str_at(args[0], r);
    const char *p = lh_str_data(&s);
    lh_buf_reset(&b);
    size_t e = s.len;
    while (e > 0) {
        size_t st = e - 1;
        while (st > 0 && ((unsigned char)p[st] & 0xc0) == 0x80) {
            st--;
        }
        lh_buf_append(&b, p + st, e - st);
        e = st;
    }
    rc = lh_buf_ok(&b) ? lh__put_str(k, out, r, b.data ? b.data : "", b.len)
                       : lh_err_set(k->err, LH_ENOMEM, "out of memory");
    if (rc != LH_OK) {
        break;
    }
    ROWS_END
    lh_buf_release(&b);
    return rc;
}

static lh_rc
pad(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
    const uint32_t *sel, uint32_t n, lh_vector *out, bool left)
{
    lh_buf b = LH_BUF_INIT;
    lh_rc rc = LH_OK;
    ROWS_LOOP
    lh_str s = str_at(args[0], r);
    const char *p = lh_str_data(&s);
    int64_t want = i64_at(args[1], r);
    const char *fill = " ";
    size_t fl = 1;
    lh_str fs;
    if (nargs > 2) {
        fs = str_at(args[2], r);
        fill = lh_str_data(&fs);
        fl = fs.len;
    }
    if (want > (1 << 24)) {
        rc = lh__kerr(k, LH_ELIMIT, "requested length too large");
        break;
    }
    int64_t have = char_count(p, s.len);
    lh_buf_reset(&b);
    if (want <= have) {
        lh_buf_append(&b, p, char_bytes(p, s.len, want < 0 ? 0 : want));
    } else {
        int64_t need = want - have;
        lh_buf fillb = LH_BUF_INIT;
        int64_t fc = char_count(fill, fl);
        for (int64_t j = 0; fc > 0 && j < need;) {
            size_t off = 0;
            for (int64_t q = 0; q < fc && j < need; q++, j++) {
                size_t l = char_bytes(fill + off, fl - off, 1);
                lh_buf_append(&fillb, fill + off, l);
                off += l;
            }
        }
        if (left) {
            lh_buf_append(&b, fillb.data ? fillb.data : "", fillb.len);
            lh_buf_append(&b, p, s.len);
        } else {
            lh_buf_append(&b, p, s.len);
            lh_buf_append(&b, fillb.data ? fillb.data : "", fillb.len);
        }
        lh_buf_release(&fillb);
    }
    rc = lh_buf_ok(&b) ? lh__put_str(k, out, r, b.data ? b.data : "", b.len)
                       : lh_err_set(k->err, LH_ENOMEM, "out of memory");
    if (rc != LH_OK) {
        break;
    }
    ROWS_END
    lh_buf_release(&b);
    return rc;
}

KERNEL(lpad_k)
{
    return pad(k, args, nargs, sel, n, out, true);
}

KERNEL(rpad_k)
{
    return pad(k, args, nargs, sel, n, out, false);
}

KERNEL(ascii_k)
{
    (void)nargs;
    (void)k;
    int32_t *o = out->data;
    ROWS_LOOP
    lh_str s = str_at(args[0], r);
    utf8proc_int32_t cp = 0;
    if (s.len) {
        utf8proc_iterate((const utf8proc_uint8_t *)lh_str_data(&s),
                         (utf8proc_ssize_t)s.len, &cp);
    }
    o[r] = cp < 0 ? 0 : cp;
    ROWS_END
    return LH_OK;
}

KERNEL(chr_k)
{
    (void)nargs;
    ROWS_LOOP
    int64_t c = i64_at(args[0], r);
    if (c <= 0 || c > 0x10ffff || !utf8proc_codepoint_valid((int32_t)c)) {
        return lh__kerr(k, LH_EINVAL,
                        "requested character not valid for "
                        "encoding: %lld",
                        (long long)c);
    }
    utf8proc_uint8_t enc[4];
    utf8proc_ssize_t l = utf8proc_encode_char((utf8proc_int32_t)c, enc);
    lh_rc rc = lh__put_str(k, out, r, (const char *)enc, (size_t)l);
    if (rc != LH_OK) {
        return rc;
    }
    ROWS_END
    return LH_OK;
}

/* ---- the table
 * ------------------------------------------------------------------------ */

#define V LH_T_VARCHAR
#define I LH_T_INTEGER
#define BI LH_T_BIGINT
#define S LH_FN_STRICT
#define D LH_FN_DICT_SAFE
#define F(name, n, a, b, c, ret, kern)                                         \
    {                                                                          \
        name, LH_FN_SCALAR, n, {a, b, c}, ret, S, D, NULL, LH_IMPL(kern)       \
    }
#define FC(name, n, a, b, c, ret, kern)                                        \
    {                                                                          \
        name, LH_FN_SCALAR, n, {a, b, c}, ret, S, D | LH_FN_CAN_FAIL, NULL,    \
            LH_IMPL(kern)                                                      \
    }

static const lh_fn_impl like_impl = {.kernel = like, .prepare = like_prepare};

static const lh_fn_def defs[] = {
    {"||", LH_FN_SCALAR, 2, {V, V}, V, S, D, NULL, LH_IMPL(concat2)},
    {"||",
     LH_FN_SCALAR,
     2,
     {LH_FN_ANY, LH_FN_ANY},
     V,
     S,
     D,
     lh__rule_text_args,
     LH_IMPL(concat2)},
    {"concat",
     LH_FN_SCALAR,
     1 | LH_FN_VARIADIC,
     {LH_FN_ANY},
     V,
     LH_FN_NULLS,
     D,
     lh__rule_text_args,
     LH_IMPL(concat_n)},
    {"like", LH_FN_SCALAR, 2, {V, V}, LH_T_BOOLEAN, S, D, NULL, &like_impl},
    {"like", LH_FN_SCALAR, 3, {V, V, V}, LH_T_BOOLEAN, S, D, NULL, &like_impl},
    {"ilike", LH_FN_SCALAR, 2, {V, V}, LH_T_BOOLEAN, S, D, NULL, &like_impl},
    {"ilike", LH_FN_SCALAR, 3, {V, V, V}, LH_T_BOOLEAN, S, D, NULL, &like_impl},
    F("length", 1, V, 0, 0, BI, length_k),
    F("char_length", 1, V, 0, 0, BI, length_k),
    F("character_length", 1, V, 0, 0, BI, length_k),
    F("strlen", 1, V, 0, 0, BI, octet_length_k),
    F("octet_length", 1, V, 0, 0, BI, octet_length_k),
    F("lower", 1, V, 0, 0, V, lower_k),
    F("lcase", 1, V, 0, 0, V, lower_k),
    F("upper", 1, V, 0, 0, V, upper_k),
    F("ucase", 1, V, 0, 0, V, upper_k),
    FC("substring", 2, V, BI, 0, V, substring_k),
    FC("substring", 3, V, BI, BI, V, substring_k),
    FC("substr", 2, V, BI, 0, V, substring_k),
    FC("substr", 3, V, BI, BI, V, substring_k),
    F("strpos", 2, V, V, 0, BI, strpos_k),
    F("instr", 2, V, V, 0, BI, strpos_k),
    F("replace", 3, V, V, V, V, replace_k),
    F("trim", 1, V, 0, 0, V, trim_k),
    F("trim", 2, V, V, 0, V, trim_k),
    F("btrim", 1, V, 0, 0, V, trim_k),
    F("btrim", 2, V, V, 0, V, trim_k),
    F("ltrim", 1, V, 0, 0, V, ltrim_k),
    F("ltrim", 2, V, V, 0, V, ltrim_k),
    F("rtrim", 1, V, 0, 0, V, rtrim_k),
    F("rtrim", 2, V, V, 0, V, rtrim_k),
    F("left", 2, V, BI, 0, V, left_k),
    F("right", 2, V, BI, 0, V, right_k),
    F("starts_with", 2, V, V, 0, LH_T_BOOLEAN, starts_with_k),
    F("ends_with", 2, V, V, 0, LH_T_BOOLEAN, ends_with_k),
    F("contains", 2, V, V, 0, LH_T_BOOLEAN, contains_k),
    FC("split_part", 3, V, V, BI, V, split_part_k),
    FC("repeat", 2, V, BI, 0, V, repeat_k),
    F("reverse", 1, V, 0, 0, V, reverse_k),
    FC("lpad", 2, V, BI, 0, V, lpad_k),
    FC("lpad", 3, V, BI, V, V, lpad_k),
    FC("rpad", 2, V, BI, 0, V, rpad_k),
    FC("rpad", 3, V, BI, V, V, rpad_k),
    F("ascii", 1, V, 0, 0, I, ascii_k),
    FC("chr", 1, BI, 0, 0, V, chr_k),
};

const lh_fn_family lh__fn_string = {"string", defs, LH_ARRAY_LEN(defs)};
