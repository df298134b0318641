/*
 * Text utilities: initcap (libutf8proc's title case), concat_ws, translate,
 * md5 (lowercase hex text) and sha256 (bytea), OpenSSL's digests; to_hex;
 * pg_typeof and typeof.
 */
#include <string.h>

#include <openssl/evp.h>
#include <utf8proc.h>

#include "exec/kernel.h"

#define V LH_T_VARCHAR
#define S LH_FN_STRICT
#define D LH_FN_DICT_SAFE

#define str_at lh_str_at

static lh_rc
put_buf(lh_kctx *k, lh_vector *out, uint32_t r, const lh_buf *b)
{
    if (!lh_buf_ok(b)) {
        return lh_err_set(k->err, LH_ENOMEM, "out of memory");
    }
    return lh__put_str(k, out, r, b->data ? b->data : "", b->len);
}

#define KERNEL(name)                                                           \
    static lh_rc name(lh_kctx *k, const lh_vector *const *args,                \
                      uint32_t nargs, const uint32_t *sel, uint32_t n,         \
                      lh_vector *out)

/* Decodes one code point at p[0..n) (bytes that are not UTF-8 pass as
 * themselves); returns its length. */
static size_t
next_cp(const uint8_t *p, size_t n, utf8proc_int32_t *cp)
{
    utf8proc_ssize_t l = utf8proc_iterate(p, (utf8proc_ssize_t)n, cp);
    if (l <= 0) {
        *cp = -1;
        return 1;
    }
    return (size_t)l;
}

static void
put_cp(lh_buf *b, utf8proc_int32_t cp, const uint8_t *raw)
{
    if (cp < 0) {
        lh_buf_putc(b, (char)*raw);
        return;
    }
    utf8proc_uint8_t enc[4];
    utf8proc_ssize_t el = utf8proc_encode_char(cp, enc);
    lh_buf_append(b, enc, (size_t)el);
}

/* initcap: the first letter of each run of letters and digits upper case,
 * the rest lower case (PostgreSQL's rule). */
KERNEL(initcap_k)
{
    (void)nargs;
    lh_buf b = LH_BUF_INIT;
    lh_rc rc = LH_OK;
    for (uint32_t i = 0; i < n && rc == LH_OK; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        lh_str s = str_at(args[0], r);
        const uint8_t *p = (const uint8_t *)lh_str_data(&s);
        lh_buf_reset(&b);
        bool in_word = false;
        for (size_t j = 0; j < s.len;) {
            utf8proc_int32_t cp;
            size_t l = next_cp(p + j, s.len - j, &cp);
            if (cp >= 0) {
                utf8proc_category_t c = utf8proc_category(cp);
                bool alnum =
                    (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
                    (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
                if (alnum) {
                    cp = in_word ? utf8proc_tolower(cp) : utf8proc_toupper(cp);
                }
                in_word = alnum;
            } else {
                in_word = false;
            }
            put_cp(&b, cp, p + j);
            j += l;
        }
        rc = put_buf(k, out, r, &b);
    }
    lh_buf_release(&b);
    return rc;
}

/* concat_ws(sep, a, b, ...): the non-NULL values joined by sep; NULL when
 * sep is. */
KERNEL(concat_ws_k)
{
    lh_buf b = LH_BUF_INIT;
    lh_rc rc = LH_OK;
    for (uint32_t i = 0; i < n && rc == LH_OK; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!lh_vec_valid(args[0], r)) {
            lh_bit_set(out->validity, r, false);
            continue;
        }
        lh_str sep = str_at(args[0], r);
        lh_buf_reset(&b);
        bool first = true;
        for (uint32_t a = 1; a < nargs; a++) {
            if (!lh_vec_valid(args[a], r)) {
                continue;
            }
            if (!first) {
                lh_buf_append(&b, lh_str_data(&sep), sep.len);
            }
            first = false;
            lh_str x = str_at(args[a], r);
            lh_buf_append(&b, lh_str_data(&x), x.len);
        }
        rc = put_buf(k, out, r, &b);
        if (out->validity) {
            lh_bit_set(out->validity, r, true);
        }
    }
    lh_buf_release(&b);
    return rc;
}

/* translate(s, from, to): each character of `from` in s becomes the
 * character at the same place in `to`, or is dropped when `to` is
 * shorter. */
KERNEL(translate_k)
{
    (void)nargs;
    lh_buf b = LH_BUF_INIT;
    lh_rc rc = LH_OK;
    for (uint32_t i = 0; i < n && rc == LH_OK; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        lh_str s = str_at(args[0], r), f = str_at(args[1], r),
               t = str_at(args[2], r);
        const uint8_t *sp = (const uint8_t *)lh_str_data(&s);
        const uint8_t *fp = (const uint8_t *)lh_str_data(&f);
        const uint8_t *tp = (const uint8_t *)lh_str_data(&t);
        lh_buf_reset(&b);
        for (size_t j = 0; j < s.len;) {
            utf8proc_int32_t cp;
            size_t l = next_cp(sp + j, s.len - j, &cp);
            /* its index in `from` */
            long idx = -1, at = 0;
            for (size_t q = 0; q < f.len; at++) {
                utf8proc_int32_t fc;
                size_t fl = next_cp(fp + q, f.len - q, &fc);
                if (fl == l && memcmp(fp + q, sp + j, l) == 0) {
                    idx = at;
                    break;
                }
                q += fl;
            }
            if (idx < 0) {
                lh_buf_append(&b, sp + j, l);
            } else {
                size_t q = 0;
                long c = 0;
                while (q < t.len && c < idx) {
                    utf8proc_int32_t tc;
                    q += next_cp(tp + q, t.len - q, &tc);
                    c++;
                }
                if (q < t.len) {
                    utf8proc_int32_t tc;
                    size_t tl = next_cp(tp + q, t.len - q, &tc);
                    lh_buf_append(&b, tp + q, tl);
                }
            }
            j += l;
        }
        rc = put_buf(k, out, r, &b);
    }
    lh_buf_release(&b);
    return rc;
}

/* The digest as lowercase hex text (hex) or as bytes. */
static lh_rc
digest(lh_kctx *k, const lh_vector *const *args, const uint32_t *sel,
       uint32_t n, lh_vector *out, const EVP_MD *md, bool hex_text)
{
    lh_buf b = LH_BUF_INIT;
    lh_rc rc = LH_OK;
    static const char hex[] = "0123456789abcdef";
    for (uint32_t i = 0; i < n && rc == LH_OK; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        lh_str s = str_at(args[0], r);
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned int dl = 0;
        if (EVP_Digest(lh_str_data(&s), s.len, d, &dl, md, NULL) != 1) {
            rc = lh__kerr(k, LH_EINTERNAL, "digest failed");
            break;
        }
        lh_buf_reset(&b);
        for (unsigned int j = 0; j < dl; j++) {
            if (hex_text) {
                lh_buf_putc(&b, hex[d[j] >> 4]);
                lh_buf_putc(&b, hex[d[j] & 15]);
            } else {
                lh_buf_putc(&b, (char)d[j]);
            }
        }
        rc = put_buf(k, out, r, &b);
    }
    lh_buf_release(&b);
    return rc;
}

KERNEL(md5_k)
{
    (void)nargs;
    return digest(k, args, sel, n, out, EVP_md5(), true);
}

KERNEL(sha256_k)
{
    (void)nargs;
    return digest(k, args, sel, n, out, EVP_sha256(), false);
}

/* to_hex(n): the two's complement hex of a BIGINT, lowercase. */
KERNEL(to_hex_k)
{
    (void)nargs;
    lh_buf b = LH_BUF_INIT;
    lh_rc rc = LH_OK;
    for (uint32_t i = 0; i < n && rc == LH_OK; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        int64_t v = ((const int64_t *)args[0]->data)[lh_vidx(args[0], r)];
        lh_buf_reset(&b);
        lh_buf_printf(&b, "%llx", (unsigned long long)v);
        rc = put_buf(k, out, r, &b);
    }
    lh_buf_release(&b);
    return rc;
}

/* pg_typeof(x): PostgreSQL's name of x's type; typeof(x): ours
 * (DuckDB's). Every row the same. */
static lh_rc
type_name_k(lh_kctx *k, const lh_vector *const *args, uint32_t nargs,
            const uint32_t *sel, uint32_t n, lh_vector *out)
{
    (void)nargs;
    char buf[48];
    bool pg = k->e && strcmp(k->e->fn->name, "pg_typeof") == 0;
    const char *t = pg ? lh_sql_type_text(args[0]->type, buf)
                    : args[0]->type.id == LH_T_NULL
                        ? "NULL"
                        : lh_type_name(args[0]->type, buf);
    lh_buf b = LH_BUF_INIT;
    lh_buf_puts(&b, t);
    lh_rc rc = LH_OK;
    for (uint32_t i = 0; i < n && rc == LH_OK; i++) {
        uint32_t r = sel ? sel[i] : i;
        rc = put_buf(k, out, r, &b);
        if (out->validity) {
            lh_bit_set(out->validity, r, true);
        }
    }
    lh_buf_release(&b);
    return rc;
}

/* Any argument, as it is. */
static lh_rc
rule_any_text(const lh_fn_def *fn, const lh_type *args, uint32_t nargs,
              lh_type *want, lh_type *ret, lh_err *err)
{
    (void)fn;
    (void)err;
    for (uint32_t i = 0; i < nargs; i++) {
        want[i] = args[i];
    }
    *ret = lh_sql_type(LH_T_VARCHAR);
    return LH_OK;
}

static const lh_fn_def defs[] = {
    {"pg_typeof",
     LH_FN_SCALAR,
     1,
     {LH_FN_ANY},
     V,
     LH_FN_NULLS,
     0,
     rule_any_text,
     LH_IMPL(type_name_k)},
    {"typeof",
     LH_FN_SCALAR,
     1,
     {LH_FN_ANY},
     V,
     LH_FN_NULLS,
     0,
     rule_any_text,
     LH_IMPL(type_name_k)},
    {"initcap", LH_FN_SCALAR, 1, {V}, V, S, D, NULL, LH_IMPL(initcap_k)},
    {"concat_ws",
     LH_FN_SCALAR,
     2 | LH_FN_VARIADIC,
     {V, LH_FN_ANY},
     V,
     LH_FN_NULLS,
     D,
     lh__rule_text_args,
     LH_IMPL(concat_ws_k)},
    {"translate",
     LH_FN_SCALAR,
     3,
     {V, V, V},
     V,
     S,
     D,
     NULL,
     LH_IMPL(translate_k)},
    {"md5", LH_FN_SCALAR, 1, {V}, V, S, D, NULL, LH_IMPL(md5_k)},
    {"md5", LH_FN_SCALAR, 1, {LH_T_BLOB}, V, S, D, NULL, LH_IMPL(md5_k)},
    /* PostgreSQL's sha256 gives bytea */
    {"sha256",
     LH_FN_SCALAR,
     1,
     {LH_T_BLOB},
     LH_T_BLOB,
     S,
     D,
     NULL,
     LH_IMPL(sha256_k)},
    {"to_hex",
     LH_FN_SCALAR,
     1,
     {LH_T_BIGINT},
     V,
     S,
     D,
     NULL,
     LH_IMPL(to_hex_k)},
};

const lh_fn_family lh__fn_text = {"text", defs, LH_ARRAY_LEN(defs)};
