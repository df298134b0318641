/*
 * Regular expressions through libpcre2 (UTF-8 mode): the operators ~ ~*
 * !~ !~*, regexp_like, regexp_count, regexp_replace (PostgreSQL's flags:
 * i case-insensitive, g every match, n newline-sensitive, x extended, c
 * case-sensitive; replacement text with \1..\9 and \&), and DuckDB's
 * regexp_extract(s, pattern[, group]).
 *
 * A constant pattern (and flags) is compiled once per call site by
 * `prepare` (the compiled code is shared by every thread: PCRE2 allows
 * concurrent matching with separate match data); otherwise each row's
 * pattern is compiled, with the previous one kept when the next row has
 * the same text. Syntax is PCRE's, which agrees with PostgreSQL's advanced
 * regular expressions on everything common (classes, quantifiers, groups,
 * anchors, alternation).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#include "exec/kernel.h"

#define V LH_T_VARCHAR
#define S LH_FN_STRICT
#define D LH_FN_DICT_SAFE
#define DF (LH_FN_DICT_SAFE | LH_FN_CAN_FAIL)

#define str_at lh_str_at

typedef struct rx {
    pcre2_code *code;
    bool global; /* 'g' */
} rx;

/* PostgreSQL flag letters to PCRE2 options. */
static lh_rc
flags_of(lh_kctx *k, const char *f, size_t n, bool ci, uint32_t *opts,
         bool *global)
{
    /* PostgreSQL's default: '.' and [^x] match a newline, ^ $ only at the
     * ends */
    *opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOTALL;
    if (ci) {
        *opts |= PCRE2_CASELESS;
    }
    *global = false;
    for (size_t i = 0; i < n; i++) {
        switch (f[i]) {
        case 'i':
            *opts |= PCRE2_CASELESS;
            break;
        case 'c':
            *opts &= ~(uint32_t)PCRE2_CASELESS;
            break;
        case 'g':
            *global = true;
            break;
        case 'n':
        case 'm':
            *opts |= PCRE2_MULTILINE;
            *opts &= ~(uint32_t)PCRE2_DOTALL;
            break;
        case 's':
            *opts |= PCRE2_DOTALL;
            break;
        case 'x':
            *opts |= PCRE2_EXTENDED;
            break;
        default:
            return lh__kerr(k, LH_EINVAL,
                            "invalid regular expression option: "
                            "\"%c\"",
                            f[i]);
        }
    }
    return LH_OK;
}

static lh_rc
compile(lh_kctx *k, const char *p, size_t n, uint32_t opts, pcre2_code **out)
{
    int ec;
    PCRE2_SIZE eo;
    *out = pcre2_compile((PCRE2_SPTR)p, n, opts, &ec, &eo, NULL);
    if (*out == NULL) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return lh__kerr(k, LH_EINVAL,
                        "invalid regular expression: %s at "
                        "offset %zu",
                        (const char *)msg, (size_t)eo);
    }
    pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE); /* best effort */
    return LH_OK;
}

static bool
is_ci_op(const char *name)
{
    return strcmp(name, "~*") == 0 || strcmp(name, "!~*") == 0;
}

/* The argument index of the flags, or -1. */
static int
flags_arg(const lh_cexpr *e)
{
    const char *nm = e->fn->name;
    if (strcmp(nm, "regexp_replace") == 0) {
        return e->nargs > 3 ? 3 : -1;
    }
    if (strcmp(nm, "regexp_like") == 0 || strcmp(nm, "regexp_count") == 0) {
        return e->nargs > 2 ? 2 : -1;
    }
    return -1;
}

static void
free_rx(void *p)
{
    rx *x = p;
    if (x && x->code) {
        pcre2_code_free(x->code);
        x->code = NULL;
    }
}

static lh_rc
rx_prepare(lh_exec *ex, const lh_cexpr *e, lh_arena *a, void **aux, lh_err *err)
{
    *aux = NULL;
    int fa = flags_arg(e);
    if (e->args[1]->kind != LH_CX_CONST || e->args[1]->konst.is_null ||
        (fa >= 0 &&
         (e->args[fa]->kind != LH_CX_CONST || e->args[fa]->konst.is_null))) {
        return LH_OK;
    }
    lh_kctx k = {.e = e, .arena = a, .err = err};
    uint32_t opts;
    bool global;
    const lh_value *fv = fa >= 0 ? &e->args[fa]->konst : NULL;
    lh_rc rc = flags_of(&k, fv ? fv->u.s.p : "", fv ? fv->u.s.len : 0,
                        is_ci_op(e->fn->name), &opts, &global);
    if (rc != LH_OK) {
        return rc;
    }
    rx *x = lh_arena_calloc(a, sizeof(rx));
    if (x == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    x->global = global;
    rc = compile(&k, e->args[1]->konst.u.s.p, e->args[1]->konst.u.s.len, opts,
                 &x->code);
    if (rc != LH_OK) {
        return rc;
    }
    if (lh__exec_on_release(ex, free_rx, x, err) != LH_OK) {
        pcre2_code_free(x->code);
        return LH_ENOMEM;
    }
    *aux = x;
    return LH_OK;
}

/* The per-batch matcher: the prepared regex, or one compiled from row r's
 * pattern (kept while the pattern text repeats). */
typedef struct matcher {
    const rx *fixed;
    rx own;
    lh_buf last; /* pattern + '\0' + flags of `own` */
    pcre2_match_data *md;
} matcher;

static lh_rc
matcher_init(lh_kctx *k, matcher *m)
{
    memset(m, 0, sizeof *m);
    m->fixed = k->e ? k->e->aux : NULL;
    m->md = pcre2_match_data_create(32, NULL);
    return m->md ? LH_OK : lh_err_set(k->err, LH_ENOMEM, "out of memory");
}

static void
matcher_free(matcher *m)
{
    free_rx(&m->own);
    lh_buf_release(&m->last);
    pcre2_match_data_free(m->md);
}

static lh_rc
matcher_get(lh_kctx *k, matcher *m, const lh_vector *const *args, uint32_t r,
            const rx **out)
{
    if (m->fixed) {
        *out = m->fixed;
        return LH_OK;
    }
    int fa = k->e ? flags_arg(k->e) : -1;
    lh_str p = str_at(args[1], r);
    lh_str f = {0};
    if (fa >= 0) {
        f = str_at(args[fa], r);
    }
    lh_buf key = LH_BUF_INIT;
    lh_buf_append(&key, lh_str_data(&p), p.len);
    lh_buf_putc(&key, 0);
    lh_buf_append(&key, lh_str_data(&f), f.len);
    if (!lh_buf_ok(&key)) {
        lh_buf_release(&key);
        return lh_err_set(k->err, LH_ENOMEM, "out of memory");
    }
    if (m->own.code && key.len == m->last.len &&
        memcmp(key.data, m->last.data, key.len) == 0) {
        lh_buf_release(&key);
        *out = &m->own;
        return LH_OK;
    }
    free_rx(&m->own);
    lh_buf_release(&m->last);
    m->last = key;
    uint32_t opts;
    bool global;
    lh_rc rc = flags_of(k, lh_str_data(&f), f.len,
                        k->e && is_ci_op(k->e->fn->name), &opts, &global);
    if (rc == LH_OK) {
        m->own.global = global;
        rc = compile(k, lh_str_data(&p), p.len, opts, &m->own.code);
    }
    *out = &m->own;
    return rc;
}

static int
match_at(const rx *x, pcre2_match_data *md, const char *s, size_t n,
         size_t from)
{
    return pcre2_match(x->code, (PCRE2_SPTR)s, n, from, 0, md, NULL);
}

#define KERNEL(name)                                                           \
    static lh_rc name(lh_kctx *k, const lh_vector *const *args,                \
                      uint32_t nargs, const uint32_t *sel, uint32_t n,         \
                      lh_vector *out)

/* ~, ~*, !~, !~*, regexp_like */
KERNEL(rx_match)
{
    (void)nargs;
    matcher m;
    lh_rc rc = matcher_init(k, &m);
    bool neg = k->e && k->e->fn->name[0] == '!';
    uint8_t *o = out->data;
    for (uint32_t i = 0; i < n && rc == LH_OK; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        const rx *x;
        rc = matcher_get(k, &m, args, r, &x);
        if (rc != LH_OK) {
            break;
        }
        lh_str s = str_at(args[0], r);
        int res = match_at(x, m.md, lh_str_data(&s), s.len, 0);
        if (res < 0 && res != PCRE2_ERROR_NOMATCH) {
            rc = lh__kerr(k, LH_EINVAL, "regular expression failed (%d)", res);
            break;
        }
        o[r] = (res >= 0) != neg;
    }
    matcher_free(&m);
    return rc;
}

KERNEL(rx_count)
{
    (void)nargs;
    matcher m;
    lh_rc rc = matcher_init(k, &m);
    int64_t *o = out->data;
    for (uint32_t i = 0; i < n && rc == LH_OK; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        const rx *x;
        rc = matcher_get(k, &m, args, r, &x);
        if (rc != LH_OK) {
            break;
        }
        lh_str s = str_at(args[0], r);
        const char *sp = lh_str_data(&s);
        int64_t c = 0;
        size_t at = 0;
        while (at <= s.len && match_at(x, m.md, sp, s.len, at) >= 0) {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m.md);
            c++;
            at = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
        }
        o[r] = c;
    }
    matcher_free(&m);
    return rc;
}

/* Appends the replacement for the match in ov (\1..\9 groups, \& the
 * whole match, \\ a backslash). */
static void
append_replacement(lh_buf *b, const char *s, const PCRE2_SIZE *ov, int ngroups,
                   const char *rep, size_t rn)
{
    for (size_t i = 0; i < rn; i++) {
        if (rep[i] == '\\' && i + 1 < rn) {
            char c = rep[i + 1];
            int g = c == '&' ? 0 : (c >= '1' && c <= '9') ? c - '0' : -1;
            if (g >= 0) {
                if (g < ngroups && ov[2 * g] != PCRE2_UNSET) {
                    lh_buf_append(b, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
                }
                i++;
                continue;
            }
            if (c == '\\') {
                lh_buf_putc(b, '\\');
                i++;
                continue;
            }
        }
        lh_buf_putc(b, rep[i]);
    }
}

KERNEL(rx_replace)
{
    (void)nargs;
    matcher m;
    lh_rc rc = matcher_init(k, &m);
    lh_buf b = LH_BUF_INIT;
    for (uint32_t i = 0; i < n && rc == LH_OK; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        const rx *x;
        rc = matcher_get(k, &m, args, r, &x);
        if (rc != LH_OK) {
            break;
        }
        lh_str s = str_at(args[0], r), rep = str_at(args[2], r);
        const char *sp = lh_str_data(&s);
        lh_buf_reset(&b);
        size_t at = 0, copied = 0;
        while (at <= s.len) {
            int res = match_at(x, m.md, sp, s.len, at);
            if (res < 0) {
                break;
            }
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m.md);
            lh_buf_append(&b, sp + copied, ov[0] - copied);
            append_replacement(&b, sp, ov, res, lh_str_data(&rep), rep.len);
            copied = ov[1];
            if (!x->global) {
                break;
            }
            if (ov[1] == ov[0]) { /* an empty match: step over a character */
                if (ov[1] >= s.len) {
                    break;
                }
                size_t l = 1;
                while (ov[1] + l < s.len &&
                       ((unsigned char)sp[ov[1] + l] & 0xc0) == 0x80) {
                    l++;
                }
                lh_buf_append(&b, sp + ov[1], l);
                copied = ov[1] + l;
                at = copied;
            } else {
                at = ov[1];
            }
        }
        if (copied < s.len) {
            lh_buf_append(&b, sp + copied, s.len - copied);
        }
        rc = lh_buf_ok(&b) ? lh__put_str(k, out, r, b.data ? b.data : "", b.len)
                           : lh_err_set(k->err, LH_ENOMEM, "out of memory");
    }
    lh_buf_release(&b);
    matcher_free(&m);
    return rc;
}

/* regexp_extract(s, pattern[, group]): the group of the first match, ''
 * when there is none (DuckDB's). */
KERNEL(rx_extract)
{
    matcher m;
    lh_rc rc = matcher_init(k, &m);
    for (uint32_t i = 0; i < n && rc == LH_OK; i++) {
        uint32_t r = sel ? sel[i] : i;
        if (!LH_ROW_LIVE(out->validity, r)) {
            continue;
        }
        const rx *x;
        rc = matcher_get(k, &m, args, r, &x);
        if (rc != LH_OK) {
            break;
        }
        int64_t g = 0;
        if (nargs > 2) {
            g = ((const int64_t *)args[2]->data)[lh_vidx(args[2], r)];
        }
        lh_str s = str_at(args[0], r);
        const char *sp = lh_str_data(&s);
        int res = match_at(x, m.md, sp, s.len, 0);
        const char *p = "";
        size_t len = 0;
        if (res >= 0) {
            uint32_t ng = pcre2_get_ovector_count(m.md);
            if (g < 0 || (uint64_t)g >= ng) {
                rc = lh__kerr(k, LH_EINVAL, "regexp_extract: no group %lld",
                              (long long)g);
                break;
            }
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m.md);
            if ((int64_t)res > g && ov[2 * g] != PCRE2_UNSET) {
                p = sp + ov[2 * g];
                len = ov[2 * g + 1] - ov[2 * g];
            }
        }
        rc = lh__put_str(k, out, r, p, len);
    }
    matcher_free(&m);
    return rc;
}

static const lh_fn_impl match_impl = {.kernel = rx_match,
                                      .prepare = rx_prepare};
static const lh_fn_impl count_impl = {.kernel = rx_count,
                                      .prepare = rx_prepare};
static const lh_fn_impl replace_impl = {.kernel = rx_replace,
                                        .prepare = rx_prepare};
static const lh_fn_impl extract_impl = {.kernel = rx_extract,
                                        .prepare = rx_prepare};

#define B LH_T_BOOLEAN
static const lh_fn_def defs[] = {
    {"~", LH_FN_SCALAR, 2, {V, V}, B, S, DF, NULL, &match_impl},
    {"~*", LH_FN_SCALAR, 2, {V, V}, B, S, DF, NULL, &match_impl},
    {"!~", LH_FN_SCALAR, 2, {V, V}, B, S, DF, NULL, &match_impl},
    {"!~*", LH_FN_SCALAR, 2, {V, V}, B, S, DF, NULL, &match_impl},
    {"regexp_like", LH_FN_SCALAR, 2, {V, V}, B, S, DF, NULL, &match_impl},
    {"regexp_like", LH_FN_SCALAR, 3, {V, V, V}, B, S, DF, NULL, &match_impl},
    {"regexp_matches", LH_FN_SCALAR, 2, {V, V}, B, S, DF, NULL, &match_impl},
    {"regexp_count",
     LH_FN_SCALAR,
     2,
     {V, V},
     LH_T_BIGINT,
     S,
     DF,
     NULL,
     &count_impl},
    {"regexp_count",
     LH_FN_SCALAR,
     3,
     {V, V, V},
     LH_T_BIGINT,
     S,
     DF,
     NULL,
     &count_impl},
    {"regexp_replace",
     LH_FN_SCALAR,
     3,
     {V, V, V},
     V,
     S,
     DF,
     NULL,
     &replace_impl},
    {"regexp_replace",
     LH_FN_SCALAR,
     4,
     {V, V, V, V},
     V,
     S,
     DF,
     NULL,
     &replace_impl},
    {"regexp_extract", LH_FN_SCALAR, 2, {V, V}, V, S, DF, NULL, &extract_impl},
    {"regexp_extract",
     LH_FN_SCALAR,
     3,
     {V, V, LH_T_BIGINT},
     V,
     S,
     DF,
     NULL,
     &extract_impl},
};

const lh_fn_family lh__fn_regex = {"regex", defs, LH_ARRAY_LEN(defs)};
