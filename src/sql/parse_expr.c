/*
 * Expressions: precedence climbing over PostgreSQL's operator table
 * (lowest first):
 *    1 OR   2 AND   3 NOT   4 IS ISNULL NOTNULL   5 < > = <= >= <> != ==
 *    6 BETWEEN IN LIKE ILIKE SIMILAR   7 any other operator (|| ~ -> & ...)
 *    8 + -   9 * / % //   10 ^   11 AT TIME ZONE   12 unary + - ~
 *    13 [] and ::
 * Special forms: CASE, CAST / TRY_CAST, EXTRACT, POSITION, SUBSTRING,
 * TRIM, typed literals (DATE '...'), INTERVAL, subqueries, EXISTS, ARRAY,
 * function calls with DISTINCT, ORDER BY, FILTER, WITHIN GROUP, IGNORE
 * NULLS and OVER.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/dialect/dialect.h"
#include "sql/parser.h"

enum {
    BP_OR = 1,
    BP_AND,
    BP_NOT,
    BP_IS,
    BP_CMP,
    BP_LIKE,
    BP_OTHER,
    BP_ADD,
    BP_MUL,
    BP_POW,
    BP_AT,
    BP_UNARY,
    BP_POSTFIX,
};

/* ---- small helpers --------------------------------------------------------
 */

char *
lh__sql_strdup(lh_parser *p, const char *s, size_t n)
{
    char *d = lh_arena_strndup(p->a, s, n);
    if (d == NULL) {
        lh_err_set(p->err, LH_ENOMEM, "out of memory");
    }
    return d;
}

lh_rc
lh_sql_error_at(lh_parser *p, lh_rc code, int32_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lh_err_setv(p->err, code, fmt, ap);
    va_end(ap);
    if (p->err) {
        p->err->offset = pos;
    }
    return code;
}

lh_rc
lh_sql_syntax_error(lh_parser *p, const lh_tok *t, const char *expected)
{
    char extra[160] = "";
    if (expected) {
        snprintf(extra, sizeof extra, " (expected %s)", expected);
    }
    if (t->kind == LH_TOK_EOF) {
        return lh_sql_error_at(p, LH_EINVAL, t->pos,
                               "syntax error at end of input%s", extra);
    }
    int n = t->len > 60 ? 60 : (int)t->len;
    return lh_sql_error_at(p, LH_EINVAL, t->pos,
                           "syntax error at or near \"%.*s\"%s", n,
                           p->sql + t->pos, extra);
}

bool
lh_sql_accept_kw(lh_parser *p, lh_kw kw)
{
    if (lh_sql_is_kw(lh_sql_peek(p, 0), kw)) {
        lh_sql_next(p);
        return true;
    }
    return false;
}

bool
lh_sql_accept_punct(lh_parser *p, char c)
{
    if (lh_sql_is_punct(lh_sql_peek(p, 0), c)) {
        lh_sql_next(p);
        return true;
    }
    return false;
}

bool
lh_sql_accept_op(lh_parser *p, const char *op)
{
    if (lh_sql_is_op(lh_sql_peek(p, 0), op)) {
        lh_sql_next(p);
        return true;
    }
    return false;
}

lh_rc
lh_sql_expect_kw(lh_parser *p, lh_kw kw)
{
    if (lh_sql_accept_kw(p, kw)) {
        return LH_OK;
    }
    char want[40];
    snprintf(want, sizeof want, "%s", lh_sql_keyword_text(kw));
    return lh_sql_syntax_error(p, lh_sql_peek(p, 0), want);
}

lh_rc
lh_sql_expect_punct(lh_parser *p, char c)
{
    if (lh_sql_accept_punct(p, c)) {
        return LH_OK;
    }
    char want[8] = {'"', c, '"', 0};
    return lh_sql_syntax_error(p, lh_sql_peek(p, 0), want);
}

lh_ast *
lh_sql_node(lh_parser *p, lh_ast_kind kind, int32_t pos)
{
    lh_ast *n = lh_arena_calloc(p->a, sizeof(lh_ast));
    if (n == NULL) {
        lh_err_set(p->err, LH_ENOMEM, "out of memory");
        return NULL;
    }
    n->kind = (uint8_t)kind;
    n->pos = pos;
    return n;
}

lh_rc
lh_sql_vec_push(lh_parser *p, lh_sql_vec *v, void *item)
{
    if (v->n == v->cap) {
        uint32_t ncap = v->cap ? v->cap * 2 : 4;
        void **ni = lh_arena_alloc(p->a, ncap * sizeof(void *));
        if (ni == NULL) {
            return lh_err_set(p->err, LH_ENOMEM, "out of memory");
        }
        if (v->n) {
            memcpy(ni, v->items, v->n * sizeof(void *));
        }
        v->items = ni;
        v->cap = ncap;
    }
    v->items[v->n++] = item;
    return LH_OK;
}

lh_rc
lh_sql_parse_ident(lh_parser *p, const char **out)
{
    const lh_tok *t = lh_sql_peek(p, 0);
    if (t->kind == LH_TOK_QIDENT || (t->kind == LH_TOK_IDENT && !t->reserved)) {
        lh_sql_next(p);
        *out = t->text;
        return LH_OK;
    }
    return lh_sql_syntax_error(p, t, "a name");
}

lh_rc
lh_sql_parse_name(lh_parser *p, lh_ast_name *out)
{
    lh_sql_vec v = {0};
    for (;;) {
        const char *part = NULL;
        lh_rc rc = lh_sql_parse_ident(p, &part);
        if (rc != LH_OK) {
            return rc;
        }
        rc = lh_sql_vec_push(p, &v, (void *)part);
        if (rc != LH_OK) {
            return rc;
        }
        if (!(lh_sql_is_punct(lh_sql_peek(p, 0), '.') &&
              lh_sql_peek(p, 1)->kind != LH_TOK_OP &&
              !lh_sql_is_punct(lh_sql_peek(p, 1), '('))) {
            break;
        }
        const lh_tok *nx = lh_sql_peek(p, 1);
        if (!(nx->kind == LH_TOK_IDENT || nx->kind == LH_TOK_QIDENT)) {
            break;
        }
        lh_sql_next(p);
    }
    out->parts = (const char **)v.items;
    out->n = v.n;
    return LH_OK;
}

lh_rc
lh_sql_parse_expr_list(lh_parser *p, lh_ast_list *out)
{
    lh_sql_vec v = {0};
    do {
        lh_ast *e;
        lh_rc rc = lh_sql_parse_expr(p, &e);
        if (rc == LH_OK) {
            rc = lh_sql_vec_push(p, &v, e);
        }
        if (rc != LH_OK) {
            return rc;
        }
    } while (lh_sql_accept_punct(p, ','));
    out->items = (lh_ast **)v.items;
    out->n = v.n;
    return LH_OK;
}

lh_rc
lh_sql_parse_order_list(lh_parser *p, lh_ast_order_list *out)
{
    uint32_t cap = 4, n = 0;
    lh_ast_order *items = lh_arena_alloc(p->a, cap * sizeof(lh_ast_order));
    if (items == NULL) {
        return lh_err_set(p->err, LH_ENOMEM, "out of memory");
    }
    do {
        if (n == cap) {
            lh_ast_order *ni =
                lh_arena_alloc(p->a, 2 * cap * sizeof(lh_ast_order));
            if (ni == NULL) {
                return lh_err_set(p->err, LH_ENOMEM, "out of memory");
            }
            memcpy(ni, items, n * sizeof(lh_ast_order));
            items = ni;
            cap *= 2;
        }
        lh_ast_order *o = &items[n++];
        memset(o, 0, sizeof *o);
        o->nulls_first = -1;
        lh_rc rc = lh_sql_parse_expr(p, &o->expr);
        if (rc != LH_OK) {
            return rc;
        }
        if (lh_sql_accept_kw(p, LH_KW_DESC)) {
            o->desc = true;
        } else {
            lh_sql_accept_kw(p, LH_KW_ASC);
        }
        if (lh_sql_accept_kw(p, LH_KW_NULLS)) {
            if (lh_sql_accept_kw(p, LH_KW_FIRST)) {
                o->nulls_first = 1;
            } else if (lh_sql_accept_kw(p, LH_KW_LAST)) {
                o->nulls_first = 0;
            } else {
                return lh_sql_syntax_error(p, lh_sql_peek(p, 0),
                                           "FIRST or LAST");
            }
        }
    } while (lh_sql_accept_punct(p, ','));
    out->items = items;
    out->n = n;
    return LH_OK;
}

/* ---- type names ------------------------------------------------------------
 */

static bool
word_is(const lh_tok *t, const char *w)
{
    return t->kind == LH_TOK_IDENT && strcmp(t->text, w) == 0;
}

lh_rc
lh_sql_parse_type(lh_parser *p, const char **out, int32_t *pos)
{
    const lh_tok *t = lh_sql_peek(p, 0);
    if (!(t->kind == LH_TOK_IDENT || t->kind == LH_TOK_QIDENT)) {
        return lh_sql_syntax_error(p, t, "a type name");
    }
    *pos = t->pos;
    lh_buf b = LH_BUF_INIT;
    lh_sql_next(p);
    for (const char *c = t->text; *c; c++) {
        lh_buf_putc(&b, (char)toupper((unsigned char)*c));
    }
    /* multi-word names */
    if (word_is(t, "double") && word_is(lh_sql_peek(p, 0), "precision")) {
        lh_sql_next(p);
        lh_buf_puts(&b, " PRECISION");
    } else if ((word_is(t, "character") || word_is(t, "char")) &&
               word_is(lh_sql_peek(p, 0), "varying")) {
        lh_sql_next(p);
        lh_buf_puts(&b, " VARYING");
    }
    bool temporal = word_is(t, "timestamp") || word_is(t, "time");
    /* (n) or (p, s) */
    if (lh_sql_is_punct(lh_sql_peek(p, 0), '(')) {
        lh_sql_next(p);
        lh_buf_putc(&b, '(');
        for (int k = 0;; k++) {
            const lh_tok *num = lh_sql_peek(p, 0);
            bool neg = false;
            if (lh_sql_is_op(num, "-")) {
                lh_sql_next(p);
                num = lh_sql_peek(p, 0);
                neg = true;
            }
            if (num->kind != LH_TOK_INT) {
                lh_buf_release(&b);
                return lh_sql_syntax_error(p, num, "a number");
            }
            lh_sql_next(p);
            if (k) {
                lh_buf_putc(&b, ',');
            }
            if (neg) {
                lh_buf_putc(&b, '-');
            }
            lh_buf_puts(&b, num->text);
            if (!lh_sql_accept_punct(p, ',')) {
                break;
            }
        }
        if (!lh_sql_accept_punct(p, ')')) {
            lh_buf_release(&b);
            return lh_sql_syntax_error(p, lh_sql_peek(p, 0), "\")\"");
        }
        lh_buf_putc(&b, ')');
    }
    if (temporal) {
        bool with = word_is(lh_sql_peek(p, 0), "with");
        bool without = word_is(lh_sql_peek(p, 0), "without");
        if ((with || without) && word_is(lh_sql_peek(p, 1), "time") &&
            word_is(lh_sql_peek(p, 2), "zone")) {
            lh_sql_next(p);
            lh_sql_next(p);
            lh_sql_next(p);
            if (with) {
                lh_buf_puts(&b, " WITH TIME ZONE");
            }
        }
    }
    /* FLOAT[3], INTEGER[] */
    while (lh_sql_is_punct(lh_sql_peek(p, 0), '[')) {
        lh_sql_next(p);
        lh_buf_putc(&b, '[');
        const lh_tok *num = lh_sql_peek(p, 0);
        if (num->kind == LH_TOK_INT) {
            lh_sql_next(p);
            lh_buf_puts(&b, num->text);
        }
        if (!lh_sql_accept_punct(p, ']')) {
            lh_buf_release(&b);
            return lh_sql_syntax_error(p, lh_sql_peek(p, 0), "\"]\"");
        }
        lh_buf_putc(&b, ']');
    }
    if (!lh_buf_ok(&b)) {
        lh_buf_release(&b);
        return lh_err_set(p->err, LH_ENOMEM, "out of memory");
    }
    const char *text = lh__sql_strdup(p, b.data, b.len);
    lh_buf_release(&b);
    if (text == NULL) {
        return LH_ENOMEM;
    }
    if (p->dialect && p->dialect->type_name) {
        const char *m = p->dialect->type_name(text);
        if (m) {
            text = m;
        }
    }
    *out = text;
    return LH_OK;
}

/* ---- primaries ------------------------------------------------------------
 */

static lh_rc parse_bp(lh_parser *p, int min_bp, lh_ast **out);

static lh_rc
enter(lh_parser *p)
{
    if (++p->depth > LH_SQL_MAX_DEPTH) {
        return lh_sql_error_at(p, LH_ELIMIT, lh_sql_peek(p, 0)->pos,
                               "expression nested too deeply (more than %d "
                               "levels)",
                               LH_SQL_MAX_DEPTH);
    }
    return LH_OK;
}

static lh_ast *
literal(lh_parser *p, lh_lit_kind kind, int32_t pos, const char *text)
{
    lh_ast *n = lh_sql_node(p, LH_AST_LITERAL, pos);
    if (n) {
        n->u.lit.kind = (uint8_t)kind;
        n->u.lit.text = text;
    }
    return n;
}

/* Does the token at `ahead` start a query (after any number of "(")? */
static bool
starts_query(const lh_parser *p, uint32_t ahead)
{
    const lh_tok *t = lh_sql_peek(p, ahead);
    while (lh_sql_is_punct(t, '(')) {
        t = lh_sql_peek(p, ++ahead);
    }
    return lh_sql_is_kw(t, LH_KW_SELECT) || lh_sql_is_kw(t, LH_KW_WITH) ||
           lh_sql_is_kw(t, LH_KW_VALUES) || lh_sql_is_kw(t, LH_KW_TABLE);
}

bool
lh__sql_noquery_get(const lh_parser *p, uint32_t i)
{
    return p->noquery && (p->noquery[i / 64] >> (i % 64)) & 1;
}

void
lh__sql_noquery_set(lh_parser *p, uint32_t i)
{
    if (p->noquery == NULL) {
        p->noquery = lh_arena_calloc(p->a, (p->ntoks / 64 + 1) * 8);
        if (p->noquery == NULL) {
            return; /* only an optimization */
        }
    }
    p->noquery[i / 64] |= (uint64_t)1 << (i % 64);
}

/* "(" query ")" at the current token, when it is one: *out is the query
 * and the tokens are consumed; *out NULL (nothing consumed) when the
 * parenthesis holds an expression instead. */
static lh_rc
try_paren_query(lh_parser *p, lh_ast **out)
{
    *out = NULL;
    uint32_t save = p->i;
    if (!starts_query(p, 1) || lh__sql_noquery_get(p, save)) {
        return LH_OK;
    }
    lh_sql_next(p); /* ( */
    lh_ast *q;
    lh_rc rc = lh_sql_parse_query(p, &q);
    if (rc == LH_OK && lh_sql_accept_punct(p, ')')) {
        *out = q;
        return LH_OK;
    }
    if (rc == LH_ENOMEM || rc == LH_ELIMIT) {
        return rc;
    }
    /* ((SELECT 1) + 2): the outer parenthesis holds an expression; what
     * the attempt said is forgotten */
    lh_err_clear(p->err);
    lh__sql_noquery_set(p, save);
    p->i = save;
    return LH_OK;
}

static lh_rc
parse_case(lh_parser *p, int32_t pos, lh_ast **out)
{
    lh_ast *n = lh_sql_node(p, LH_AST_CASE, pos);
    if (n == NULL) {
        return LH_ENOMEM;
    }
    lh_rc rc;
    if (!lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_WHEN)) {
        rc = lh_sql_parse_expr(p, &n->u.kase.operand);
        if (rc != LH_OK) {
            return rc;
        }
    }
    lh_sql_vec whens = {0}, thens = {0};
    while (lh_sql_accept_kw(p, LH_KW_WHEN)) {
        lh_ast *w, *t;
        rc = lh_sql_parse_expr(p, &w);
        if (rc == LH_OK) {
            rc = lh_sql_expect_kw(p, LH_KW_THEN);
        }
        if (rc == LH_OK) {
            rc = lh_sql_parse_expr(p, &t);
        }
        if (rc == LH_OK) {
            rc = lh_sql_vec_push(p, &whens, w);
        }
        if (rc == LH_OK) {
            rc = lh_sql_vec_push(p, &thens, t);
        }
        if (rc != LH_OK) {
            return rc;
        }
    }
    if (whens.n == 0) {
        return lh_sql_syntax_error(p, lh_sql_peek(p, 0), "WHEN");
    }
    if (lh_sql_accept_kw(p, LH_KW_ELSE)) {
        rc = lh_sql_parse_expr(p, &n->u.kase.else_expr);
        if (rc != LH_OK) {
            return rc;
        }
    }
    rc = lh_sql_expect_kw(p, LH_KW_END);
    if (rc != LH_OK) {
        return rc;
    }
    n->u.kase.whens.items = (lh_ast **)whens.items;
    n->u.kase.whens.n = whens.n;
    n->u.kase.thens.items = (lh_ast **)thens.items;
    n->u.kase.thens.n = thens.n;
    *out = n;
    return LH_OK;
}

static lh_rc
parse_cast(lh_parser *p, int32_t pos, bool try_cast, lh_ast **out)
{
    lh_rc rc = lh_sql_expect_punct(p, '(');
    if (rc != LH_OK) {
        return rc;
    }
    lh_ast *n = lh_sql_node(p, LH_AST_CAST, pos);
    if (n == NULL) {
        return LH_ENOMEM;
    }
    n->u.cast.try_cast = try_cast;
    rc = lh_sql_parse_expr(p, &n->u.cast.arg);
    if (rc == LH_OK) {
        rc = lh_sql_expect_kw(p, LH_KW_AS);
    }
    if (rc == LH_OK) {
        rc = lh_sql_parse_type(p, &n->u.cast.type_text, &n->u.cast.type_pos);
    }
    if (rc == LH_OK) {
        rc = lh_sql_expect_punct(p, ')');
    }
    *out = n;
    return rc;
}

static lh_ast *
func_node(lh_parser *p, int32_t pos, const char *name, lh_ast **args,
          uint32_t nargs)
{
    lh_ast *n = lh_sql_node(p, LH_AST_FUNC, pos);
    const char **parts = lh_arena_alloc(p->a, sizeof(char *));
    lh_ast **a = lh_arena_alloc(p->a, (nargs ? nargs : 1) * sizeof(lh_ast *));
    if (n == NULL || parts == NULL || a == NULL) {
        lh_err_set(p->err, LH_ENOMEM, "out of memory");
        return NULL;
    }
    parts[0] = name;
    n->u.func.name.parts = parts;
    n->u.func.name.n = 1;
    if (nargs) {
        memcpy(a, args, nargs * sizeof(lh_ast *));
    }
    n->u.func.args.items = a;
    n->u.func.args.n = nargs;
    return n;
}

/* EXTRACT(field FROM x), POSITION(a IN b), SUBSTRING(x FROM a FOR b),
 * TRIM([BOTH|LEADING|TRAILING] [chars] FROM x), OVERLAY is not here.
 * Returns LH_OK with *out NULL when the call is an ordinary one. */
static lh_rc
special_call(lh_parser *p, const lh_tok *name, lh_ast **out)
{
    *out = NULL;
    const char *w = name->text;
    int32_t pos = name->pos;
    uint32_t save = p->i;
    lh_rc rc;
    if (strcmp(w, "extract") == 0) {
        const lh_tok *f = lh_sql_peek(p, 1);
        if (!(f->kind == LH_TOK_IDENT || f->kind == LH_TOK_STRING ||
              f->kind == LH_TOK_QIDENT) ||
            !lh_sql_is_kw(lh_sql_peek(p, 2), LH_KW_FROM)) {
            return LH_OK;
        }
        lh_sql_next(p); /* ( */
        lh_sql_next(p); /* field */
        lh_sql_next(p); /* FROM */
        lh_ast *args[2];
        args[0] = literal(p, LH_LIT_STRING, f->pos, f->text);
        if (args[0] == NULL) {
            return LH_ENOMEM;
        }
        rc = lh_sql_parse_expr(p, &args[1]);
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, ')');
        }
        if (rc == LH_OK) {
            *out = func_node(p, pos, "date_part", args, 2);
            rc = *out ? LH_OK : LH_ENOMEM;
        }
        return rc;
    }
    if (strcmp(w, "position") == 0) {
        lh_sql_next(p); /* ( */
        lh_ast *args[2];
        /* the needle is parsed above IN, so "a IN b" is not a test */
        rc = parse_bp(p, BP_LIKE + 1, &args[0]);
        if (rc != LH_OK || !lh_sql_accept_kw(p, LH_KW_IN)) {
            p->i = save;
            if (p->err) {
                lh_err_clear(p->err);
            }
            return rc == LH_ENOMEM ? rc : LH_OK;
        }
        rc = lh_sql_parse_expr(p, &args[1]);
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, ')');
        }
        if (rc == LH_OK) {
            /* position(needle IN haystack) = strpos(haystack, needle) */
            lh_ast *sw[2] = {args[1], args[0]};
            *out = func_node(p, pos, "strpos", sw, 2);
            rc = *out ? LH_OK : LH_ENOMEM;
        }
        return rc;
    }
    if (strcmp(w, "substring") == 0 || strcmp(w, "substr") == 0) {
        lh_sql_next(p); /* ( */
        lh_ast *args[3] = {NULL, NULL, NULL};
        rc = lh_sql_parse_expr(p, &args[0]);
        if (rc != LH_OK) {
            return rc;
        }
        if (!lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_FROM) &&
            !lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_FOR)) {
            p->i = save;
            return LH_OK;
        }
        uint32_t n = 1;
        if (lh_sql_accept_kw(p, LH_KW_FROM)) {
            rc = lh_sql_parse_expr(p, &args[n++]);
        } else {
            args[n++] = literal(p, LH_LIT_INT, pos, "1");
        }
        if (rc == LH_OK && lh_sql_accept_kw(p, LH_KW_FOR)) {
            rc = lh_sql_parse_expr(p, &args[n++]);
        }
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, ')');
        }
        if (rc == LH_OK) {
            *out = func_node(p, pos, "substring", args, n);
            rc = *out ? LH_OK : LH_ENOMEM;
        }
        return rc;
    }
    if (strcmp(w, "trim") == 0) {
        lh_sql_next(p); /* ( */
        const char *fn = "trim";
        if (lh_sql_accept_kw(p, LH_KW_BOTH)) {
            fn = "trim";
        } else if (lh_sql_accept_kw(p, LH_KW_LEADING)) {
            fn = "ltrim";
        } else if (lh_sql_accept_kw(p, LH_KW_TRAILING)) {
            fn = "rtrim";
        }
        lh_ast *chars = NULL, *arg = NULL;
        if (!lh_sql_accept_kw(p, LH_KW_FROM)) {
            rc = lh_sql_parse_expr(p, &chars);
            if (rc != LH_OK) {
                return rc;
            }
            if (lh_sql_accept_kw(p, LH_KW_FROM)) {
                rc = lh_sql_parse_expr(p, &arg);
            } else if (lh_sql_accept_punct(p, ',')) {
                /* trim(x, chars): the ordinary form */
                arg = chars;
                rc = lh_sql_parse_expr(p, &chars);
            } else {
                arg = chars;
                chars = NULL;
            }
        } else {
            rc = lh_sql_parse_expr(p, &arg);
        }
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, ')');
        }
        if (rc == LH_OK) {
            lh_ast *args[2] = {arg, chars};
            *out = func_node(p, pos, fn, args, chars ? 2 : 1);
            rc = *out ? LH_OK : LH_ENOMEM;
        }
        return rc;
    }
    return LH_OK;
}

static lh_rc
parse_window_ref(lh_parser *p, lh_ast_window **out)
{
    lh_ast_window *w = lh_arena_calloc(p->a, sizeof(lh_ast_window));
    if (w == NULL) {
        return lh_err_set(p->err, LH_ENOMEM, "out of memory");
    }
    w->pos = lh_sql_peek(p, 0)->pos;
    *out = w;
    if (!lh_sql_is_punct(lh_sql_peek(p, 0), '(')) {
        return lh_sql_parse_ident(p, &w->name); /* OVER w */
    }
    lh_sql_next(p);
    lh_rc rc = lh__sql_parse_window_spec(p, w);
    if (rc == LH_OK) {
        rc = lh_sql_expect_punct(p, ')');
    }
    return rc;
}

static lh_rc
parse_bound(lh_parser *p, uint8_t *kind, lh_ast **expr)
{
    if (lh_sql_accept_kw(p, LH_KW_UNBOUNDED)) {
        if (lh_sql_accept_kw(p, LH_KW_PRECEDING)) {
            *kind = LH_BOUND_UNBOUNDED_PRECEDING;
            return LH_OK;
        }
        if (lh_sql_accept_kw(p, LH_KW_FOLLOWING)) {
            *kind = LH_BOUND_UNBOUNDED_FOLLOWING;
            return LH_OK;
        }
        return lh_sql_syntax_error(p, lh_sql_peek(p, 0),
                                   "PRECEDING or FOLLOWING");
    }
    if (lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_CURRENT) &&
        lh_sql_is_kw(lh_sql_peek(p, 1), LH_KW_ROW)) {
        lh_sql_next(p);
        lh_sql_next(p);
        *kind = LH_BOUND_CURRENT_ROW;
        return LH_OK;
    }
    /* the offset stops before AND (BETWEEN x PRECEDING AND ...) */
    lh_rc rc = parse_bp(p, BP_AND + 1, expr);
    if (rc != LH_OK) {
        return rc;
    }
    if (lh_sql_accept_kw(p, LH_KW_PRECEDING)) {
        *kind = LH_BOUND_PRECEDING;
    } else if (lh_sql_accept_kw(p, LH_KW_FOLLOWING)) {
        *kind = LH_BOUND_FOLLOWING;
    } else {
        return lh_sql_syntax_error(p, lh_sql_peek(p, 0),
                                   "PRECEDING or FOLLOWING");
    }
    return LH_OK;
}

lh_rc
lh__sql_parse_window_spec(lh_parser *p, lh_ast_window *w)
{
    lh_rc rc;
    const lh_tok *t = lh_sql_peek(p, 0);
    if ((t->kind == LH_TOK_IDENT && !t->reserved && t->kw != LH_KW_PARTITION &&
         t->kw != LH_KW_ROWS && t->kw != LH_KW_RANGE &&
         t->kw != LH_KW_GROUPS) ||
        t->kind == LH_TOK_QIDENT) {
        lh_sql_next(p);
        w->base = t->text;
    }
    if (lh_sql_accept_kw(p, LH_KW_PARTITION)) {
        rc = lh_sql_expect_kw(p, LH_KW_BY);
        if (rc == LH_OK) {
            rc = lh_sql_parse_expr_list(p, &w->partition);
        }
        if (rc != LH_OK) {
            return rc;
        }
    }
    if (lh_sql_accept_kw(p, LH_KW_ORDER)) {
        rc = lh_sql_expect_kw(p, LH_KW_BY);
        if (rc == LH_OK) {
            rc = lh_sql_parse_order_list(p, &w->order);
        }
        if (rc != LH_OK) {
            return rc;
        }
    }
    if (lh_sql_accept_kw(p, LH_KW_ROWS)) {
        w->unit = LH_FRAME_ROWS;
    } else if (lh_sql_accept_kw(p, LH_KW_RANGE)) {
        w->unit = LH_FRAME_RANGE;
    } else if (lh_sql_accept_kw(p, LH_KW_GROUPS)) {
        w->unit = LH_FRAME_GROUPS;
    } else {
        return LH_OK;
    }
    if (lh_sql_accept_kw(p, LH_KW_BETWEEN)) {
        rc = parse_bound(p, &w->start_kind, &w->start);
        if (rc == LH_OK) {
            rc = lh_sql_expect_kw(p, LH_KW_AND);
        }
        if (rc == LH_OK) {
            rc = parse_bound(p, &w->end_kind, &w->end);
        }
    } else {
        rc = parse_bound(p, &w->start_kind, &w->start);
        w->end_kind = LH_BOUND_CURRENT_ROW;
    }
    if (rc != LH_OK) {
        return rc;
    }
    if (lh_sql_accept_kw(p, LH_KW_EXCLUDE)) {
        if (lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_CURRENT) &&
            lh_sql_is_kw(lh_sql_peek(p, 1), LH_KW_ROW)) {
            lh_sql_next(p);
            lh_sql_next(p);
            w->exclude = LH_EXCLUDE_CURRENT_ROW;
        } else if (lh_sql_accept_kw(p, LH_KW_GROUP)) {
            w->exclude = LH_EXCLUDE_GROUP;
        } else if (lh_sql_accept_kw(p, LH_KW_TIES)) {
            w->exclude = LH_EXCLUDE_TIES;
        } else if (lh_sql_accept_kw(p, LH_KW_NO)) {
            rc = lh_sql_expect_kw(p, LH_KW_OTHERS);
            w->exclude = LH_EXCLUDE_NO_OTHERS;
        } else {
            return lh_sql_syntax_error(p, lh_sql_peek(p, 0),
                                       "CURRENT ROW, GROUP, TIES or NO "
                                       "OTHERS");
        }
    }
    return rc;
}

/* name( ... ) [WITHIN GROUP (...)] [FILTER (WHERE ...)] [IGNORE NULLS]
 * [OVER ...]; the name is parsed, the current token is "(". */
static lh_rc
parse_call(lh_parser *p, lh_ast_name name, int32_t pos, lh_ast **out)
{
    lh_ast *n = lh_sql_node(p, LH_AST_FUNC, pos);
    if (n == NULL) {
        return LH_ENOMEM;
    }
    if (p->dialect && p->dialect->function_name && name.n == 1) {
        const char *m = p->dialect->function_name(name.parts[0]);
        if (m) {
            name.parts[0] = m;
        }
    }
    n->u.func.name = name;
    lh_sql_next(p); /* ( */
    lh_rc rc = LH_OK;
    if (lh_sql_is_op(lh_sql_peek(p, 0), "*") &&
        lh_sql_is_punct(lh_sql_peek(p, 1), ')')) {
        lh_sql_next(p);
        n->u.func.star = true;
    } else if (!lh_sql_is_punct(lh_sql_peek(p, 0), ')')) {
        if (lh_sql_accept_kw(p, LH_KW_DISTINCT)) {
            n->u.func.distinct = true;
        } else if (lh_sql_accept_kw(p, LH_KW_ALL)) {
            n->u.func.all = true;
        }
        rc = lh_sql_parse_expr_list(p, &n->u.func.args);
        if (rc == LH_OK && lh_sql_accept_kw(p, LH_KW_ORDER)) {
            rc = lh_sql_expect_kw(p, LH_KW_BY);
            if (rc == LH_OK) {
                rc = lh_sql_parse_order_list(p, &n->u.func.order);
            }
        }
        if (rc == LH_OK && lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_IGNORE)) {
            lh_sql_next(p);
            rc = lh_sql_expect_kw(p, LH_KW_NULLS);
            n->u.func.ignore_nulls = true;
        }
    }
    if (rc == LH_OK) {
        rc = lh_sql_expect_punct(p, ')');
    }
    if (rc == LH_OK && lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_WITHIN)) {
        lh_sql_next(p);
        rc = lh_sql_expect_kw(p, LH_KW_GROUP);
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, '(');
        }
        if (rc == LH_OK) {
            rc = lh_sql_expect_kw(p, LH_KW_ORDER);
        }
        if (rc == LH_OK) {
            rc = lh_sql_expect_kw(p, LH_KW_BY);
        }
        if (rc == LH_OK) {
            rc = lh_sql_parse_order_list(p, &n->u.func.within_group);
        }
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, ')');
        }
    }
    if (rc == LH_OK && lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_FILTER) &&
        lh_sql_is_punct(lh_sql_peek(p, 1), '(')) {
        lh_sql_next(p);
        lh_sql_next(p);
        lh_sql_accept_kw(p, LH_KW_WHERE); /* DuckDB lets WHERE out */
        rc = lh_sql_parse_expr(p, &n->u.func.filter);
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, ')');
        }
    }
    if (rc == LH_OK && (lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_IGNORE) ||
                        lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_RESPECT))) {
        n->u.func.ignore_nulls = lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_IGNORE);
        lh_sql_next(p);
        rc = lh_sql_expect_kw(p, LH_KW_NULLS);
    }
    if (rc == LH_OK && lh_sql_accept_kw(p, LH_KW_OVER)) {
        rc = parse_window_ref(p, &n->u.func.over);
    }
    *out = n;
    return rc;
}

/* INTERVAL '1 day' | INTERVAL '3' DAY | INTERVAL 3 DAY | INTERVAL (x) DAY */
static bool
interval_unit(const lh_tok *t)
{
    static const char *const units[] = {
        "year",         "years",   "month",       "months",       "day",
        "days",         "hour",    "hours",       "minute",       "minutes",
        "second",       "seconds", "millisecond", "milliseconds", "microsecond",
        "microseconds", "week",    "weeks",       "quarter",      "quarters",
        "decade",       "decades", "century",     "centuries",    "millennium",
        "millennia"};
    if (t->kind != LH_TOK_IDENT) {
        return false;
    }
    for (size_t i = 0; i < LH_ARRAY_LEN(units); i++) {
        if (strcmp(t->text, units[i]) == 0) {
            return true;
        }
    }
    return false;
}

static lh_rc
parse_interval(lh_parser *p, int32_t pos, lh_ast **out)
{
    const lh_tok *v = lh_sql_peek(p, 0);
    bool neg = false;
    if (lh_sql_is_op(v, "-") && (lh_sql_peek(p, 1)->kind == LH_TOK_INT ||
                                 lh_sql_peek(p, 1)->kind == LH_TOK_NUMBER)) {
        neg = true;
        lh_sql_next(p);
        v = lh_sql_peek(p, 0);
    }
    if (v->kind == LH_TOK_STRING || v->kind == LH_TOK_INT ||
        v->kind == LH_TOK_NUMBER) {
        lh_sql_next(p);
        const char *text = v->text;
        if (neg) {
            size_t l = strlen(text);
            char *t = lh_arena_alloc(p->a, l + 2);
            if (t == NULL) {
                return lh_err_set(p->err, LH_ENOMEM, "out of memory");
            }
            t[0] = '-';
            memcpy(t + 1, text, l + 1);
            text = t;
        }
        lh_ast *n = literal(p, LH_LIT_INTERVAL, pos, text);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        if (interval_unit(lh_sql_peek(p, 0))) {
            n->u.lit.unit = lh_sql_next(p)->text;
            /* INTERVAL '1' DAY TO SECOND and the like: the text decides */
            if (lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_TO) &&
                interval_unit(lh_sql_peek(p, 1))) {
                lh_sql_next(p);
                lh_sql_next(p);
                n->u.lit.unit = NULL;
            }
        } else if (v->kind != LH_TOK_STRING) {
            return lh_sql_syntax_error(p, lh_sql_peek(p, 0),
                                       "an interval unit (DAY, HOUR, ...)");
        }
        if (n->u.lit.unit == NULL) {
            n->u.lit.kind = LH_LIT_TYPED;
            n->u.lit.type_text = "INTERVAL";
        }
        *out = n;
        return LH_OK;
    }
    if (lh_sql_is_punct(v, '(')) {
        lh_sql_next(p);
        lh_ast *e;
        lh_rc rc = lh_sql_parse_expr(p, &e);
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, ')');
        }
        if (rc != LH_OK) {
            return rc;
        }
        if (!interval_unit(lh_sql_peek(p, 0))) {
            return lh_sql_syntax_error(p, lh_sql_peek(p, 0),
                                       "an interval unit (DAY, HOUR, ...)");
        }
        lh_ast *one = literal(p, LH_LIT_INTERVAL, pos, "1");
        lh_ast *mul = lh_sql_node(p, LH_AST_BINARY, pos);
        if (one == NULL || mul == NULL) {
            return LH_ENOMEM;
        }
        one->u.lit.unit = lh_sql_next(p)->text;
        mul->u.binary.op = LH_OP_MUL;
        mul->u.binary.left = e;
        mul->u.binary.right = one;
        *out = mul;
        return LH_OK;
    }
    return lh_sql_syntax_error(p, v, "an interval value");
}

/* Type names that may prefix a string literal: DATE '2026-01-01'. */
static bool
literal_type_word(const char *w)
{
    static const char *const words[] = {
        "date",    "time",    "timestamp", "timestamptz", "uuid",    "json",
        "jsonb",   "boolean", "bool",      "decimal",     "numeric", "integer",
        "int",     "bigint",  "smallint",  "real",        "double",  "float",
        "varchar", "text",    "blob",      "bytea",       "int2",    "int4",
        "int8",    "float4",  "float8"};
    for (size_t i = 0; i < LH_ARRAY_LEN(words); i++) {
        if (strcmp(w, words[i]) == 0) {
            return true;
        }
    }
    return false;
}

static lh_rc
parse_star(lh_parser *p, const char *qualifier, int32_t pos, lh_ast **out)
{
    lh_ast *n = lh_sql_node(p, LH_AST_STAR, pos);
    if (n == NULL) {
        return LH_ENOMEM;
    }
    n->u.star.qualifier = qualifier;
    if (lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_EXCLUDE)) {
        lh_sql_next(p);
        lh_sql_vec v = {0};
        bool paren = lh_sql_accept_punct(p, '(');
        do {
            const char *c = NULL;
            lh_rc rc = lh_sql_parse_ident(p, &c);
            if (rc == LH_OK) {
                rc = lh_sql_vec_push(p, &v, (void *)c);
            }
            if (rc != LH_OK) {
                return rc;
            }
        } while (paren && lh_sql_accept_punct(p, ','));
        if (paren) {
            lh_rc rc = lh_sql_expect_punct(p, ')');
            if (rc != LH_OK) {
                return rc;
            }
        }
        n->u.star.exclude = (const char **)v.items;
        n->u.star.nexclude = v.n;
    }
    *out = n;
    return LH_OK;
}

static lh_rc
parse_ident_primary(lh_parser *p, lh_ast **out)
{
    const lh_tok *t = lh_sql_peek(p, 0);
    int32_t pos = t->pos;
    /* typed literal: DATE '2026-01-01' */
    if (t->kind == LH_TOK_IDENT && literal_type_word(t->text) &&
        lh_sql_peek(p, 1)->kind == LH_TOK_STRING) {
        lh_sql_next(p);
        const lh_tok *s = lh_sql_next(p);
        lh_ast *n = literal(p, LH_LIT_TYPED, pos, s->text);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        char up[16];
        size_t i = 0;
        for (; t->text[i] && i < sizeof up - 1; i++) {
            up[i] = (char)toupper((unsigned char)t->text[i]);
        }
        up[i] = 0;
        n->u.lit.type_text = lh__sql_strdup(p, up, i);
        *out = n;
        return n->u.lit.type_text ? LH_OK : LH_ENOMEM;
    }
    if (t->kind == LH_TOK_IDENT && lh_sql_is_punct(lh_sql_peek(p, 1), '(')) {
        lh_sql_next(p);
        lh_rc rc = special_call(p, t, out);
        if (rc != LH_OK || *out) {
            return rc;
        }
        lh_ast_name name;
        const char **parts = lh_arena_alloc(p->a, sizeof(char *));
        if (parts == NULL) {
            return lh_err_set(p->err, LH_ENOMEM, "out of memory");
        }
        parts[0] = t->text;
        name.parts = parts;
        name.n = 1;
        return parse_call(p, name, pos, out);
    }
    if (t->kind == LH_TOK_IDENT && t->reserved) {
        return lh_sql_syntax_error(p, t, NULL);
    }
    /* a.b.c, a.*, schema.f(x) */
    lh_sql_vec v = {0};
    for (;;) {
        const lh_tok *part = lh_sql_next(p);
        lh_rc rc = lh_sql_vec_push(p, &v, (void *)part->text);
        if (rc != LH_OK) {
            return rc;
        }
        if (!lh_sql_is_punct(lh_sql_peek(p, 0), '.')) {
            break;
        }
        const lh_tok *nx = lh_sql_peek(p, 1);
        if (lh_sql_is_op(nx, "*")) {
            lh_sql_next(p);
            lh_sql_next(p);
            /* t.* : the qualifier is the last part (schema.t.* keeps t) */
            return parse_star(p, part->text, pos, out);
        }
        if (!(nx->kind == LH_TOK_IDENT || nx->kind == LH_TOK_QIDENT)) {
            return lh_sql_syntax_error(p, nx, "a name after \".\"");
        }
        lh_sql_next(p);
    }
    lh_ast_name name = {(const char **)v.items, v.n};
    if (lh_sql_is_punct(lh_sql_peek(p, 0), '(')) {
        return parse_call(p, name, pos, out);
    }
    lh_ast *n = lh_sql_node(p, LH_AST_COLREF, pos);
    if (n == NULL) {
        return LH_ENOMEM;
    }
    n->u.colref.name = name;
    *out = n;
    return LH_OK;
}

static lh_rc
parse_array(lh_parser *p, int32_t pos, char close, lh_ast **out)
{
    lh_ast *n = lh_sql_node(p, LH_AST_ARRAY, pos);
    if (n == NULL) {
        return LH_ENOMEM;
    }
    lh_rc rc = LH_OK;
    if (!lh_sql_is_punct(lh_sql_peek(p, 0), close)) {
        rc = lh_sql_parse_expr_list(p, &n->u.array.items);
    }
    if (rc == LH_OK) {
        rc = lh_sql_expect_punct(p, close);
    }
    *out = n;
    return rc;
}

lh_rc
lh__sql_parse_primary(lh_parser *p, lh_ast **out)
{
    if (p->dialect && p->dialect->primary) {
        uint32_t save = p->i;
        *out = NULL;
        lh_rc rc = p->dialect->primary(p, out);
        if (rc != LH_OK || *out) {
            return rc;
        }
        p->i = save;
    }
    const lh_tok *t = lh_sql_peek(p, 0);
    int32_t pos = t->pos;
    lh_ast *n;
    switch ((lh_tok_kind)t->kind) {
    case LH_TOK_INT:
        lh_sql_next(p);
        *out = literal(p, LH_LIT_INT, pos, t->text);
        return *out ? LH_OK : LH_ENOMEM;
    case LH_TOK_NUMBER:
        lh_sql_next(p);
        *out = literal(p, LH_LIT_NUMBER, pos, t->text);
        return *out ? LH_OK : LH_ENOMEM;
    case LH_TOK_STRING:
        lh_sql_next(p);
        *out = literal(p, LH_LIT_STRING, pos, t->text);
        return *out ? LH_OK : LH_ENOMEM;
    case LH_TOK_BLOB: {
        lh_sql_next(p);
        size_t l = strlen(t->text);
        char *hex = lh_arena_alloc(p->a, l + 3);
        if (hex == NULL) {
            return lh_err_set(p->err, LH_ENOMEM, "out of memory");
        }
        hex[0] = '\\';
        hex[1] = 'x';
        memcpy(hex + 2, t->text, l + 1);
        n = literal(p, LH_LIT_TYPED, pos, hex);
        if (n) {
            n->u.lit.type_text = "BLOB";
        }
        *out = n;
        return n ? LH_OK : LH_ENOMEM;
    }
    case LH_TOK_PARAM:
        lh_sql_next(p);
        n = lh_sql_node(p, LH_AST_PARAM, pos);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        if (strcmp(t->text, "?") == 0) {
            n->u.param.index = ++p->nparams;
            p->saw_numbered = true;
        } else if (isdigit((unsigned char)t->text[0])) {
            long v = strtol(t->text, NULL, 10);
            if (v < 1 || v > 65535) {
                return lh_sql_error_at(p, LH_EINVAL, pos,
                                       "parameter $%s is out of range "
                                       "1..65535",
                                       t->text);
            }
            n->u.param.index = (int32_t)v;
            p->saw_numbered = true;
            if (v > p->nparams) {
                p->nparams = (int32_t)v; /* the count: the highest $n */
            }
        } else {
            /* a name: the position of its first appearance */
            n->u.param.name = t->text;
            uint32_t k = 0;
            while (k < p->names.n && strcmp(p->names.items[k], t->text) != 0) {
                k++;
            }
            if (k == p->names.n) {
                if (p->names.n == 0) {
                    p->names_pos = pos;
                }
                lh_rc rc = lh_sql_vec_push(p, &p->names, (void *)t->text);
                if (rc != LH_OK) {
                    return rc;
                }
            }
            n->u.param.index = (int32_t)k + 1;
        }
        if (p->saw_numbered && p->names.n) {
            return lh_sql_error_at(p, LH_EINVAL,
                                   n->u.param.name ? pos : p->names_pos,
                                   "a statement cannot mix named and "
                                   "positional parameters");
        }
        *out = n;
        return LH_OK;
    case LH_TOK_PUNCT:
        if (t->text[0] == '(') {
            lh_ast *q;
            lh_rc rc = try_paren_query(p, &q);
            if (rc != LH_OK) {
                return rc;
            }
            if (q) {
                n = lh_sql_node(p, LH_AST_SUBQUERY, pos);
                if (n == NULL) {
                    return LH_ENOMEM;
                }
                n->u.subquery.query = q;
                *out = n;
                return LH_OK;
            }
            lh_sql_next(p);
            lh_ast *e;
            rc = lh_sql_parse_expr(p, &e);
            if (rc != LH_OK) {
                return rc;
            }
            if (lh_sql_is_punct(lh_sql_peek(p, 0), ',')) {
                /* (a, b): a row */
                lh_sql_vec v = {0};
                rc = lh_sql_vec_push(p, &v, e);
                while (rc == LH_OK && lh_sql_accept_punct(p, ',')) {
                    rc = lh_sql_parse_expr(p, &e);
                    if (rc == LH_OK) {
                        rc = lh_sql_vec_push(p, &v, e);
                    }
                }
                if (rc != LH_OK) {
                    return rc;
                }
                n = lh_sql_node(p, LH_AST_ROW, pos);
                if (n == NULL) {
                    return LH_ENOMEM;
                }
                n->u.row.items.items = (lh_ast **)v.items;
                n->u.row.items.n = v.n;
                e = n;
            }
            rc = lh_sql_expect_punct(p, ')');
            *out = e;
            return rc;
        }
        if (t->text[0] == '[') {
            lh_sql_next(p);
            return parse_array(p, pos, ']', out);
        }
        return lh_sql_syntax_error(p, t, NULL);
    case LH_TOK_QIDENT:
        return parse_ident_primary(p, out);
    case LH_TOK_IDENT:
        break;
    case LH_TOK_OP:
    case LH_TOK_EOF:
        return lh_sql_syntax_error(p, t, NULL);
    }
    /* keywords with a meaning of their own */
    switch ((lh_kw)t->kw) {
    case LH_KW_NULL:
        lh_sql_next(p);
        *out = literal(p, LH_LIT_NULL, pos, NULL);
        return *out ? LH_OK : LH_ENOMEM;
    case LH_KW_TRUE:
    case LH_KW_FALSE:
        lh_sql_next(p);
        *out = literal(p, LH_LIT_BOOL, pos, NULL);
        if (*out) {
            (*out)->u.lit.b = t->kw == LH_KW_TRUE;
        }
        return *out ? LH_OK : LH_ENOMEM;
    case LH_KW_CASE:
        lh_sql_next(p);
        return parse_case(p, pos, out);
    case LH_KW_CAST:
        lh_sql_next(p);
        return parse_cast(p, pos, false, out);
    case LH_KW_TRY_CAST:
        if (lh_sql_is_punct(lh_sql_peek(p, 1), '(')) {
            lh_sql_next(p);
            return parse_cast(p, pos, true, out);
        }
        break;
    case LH_KW_EXISTS: {
        lh_sql_next(p);
        lh_rc rc = lh_sql_expect_punct(p, '(');
        if (rc != LH_OK) {
            return rc;
        }
        n = lh_sql_node(p, LH_AST_EXISTS, pos);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        rc = lh_sql_parse_query(p, &n->u.exists.query);
        if (rc == LH_OK) {
            rc = lh_sql_expect_punct(p, ')');
        }
        *out = n;
        return rc;
    }
    case LH_KW_INTERVAL:
        if (lh_sql_peek(p, 1)->kind == LH_TOK_STRING ||
            lh_sql_peek(p, 1)->kind == LH_TOK_INT ||
            lh_sql_peek(p, 1)->kind == LH_TOK_NUMBER ||
            lh_sql_is_op(lh_sql_peek(p, 1), "-") ||
            lh_sql_is_punct(lh_sql_peek(p, 1), '(')) {
            lh_sql_next(p);
            return parse_interval(p, pos, out);
        }
        break;
    case LH_KW_ARRAY:
        if (lh_sql_is_punct(lh_sql_peek(p, 1), '[')) {
            lh_sql_next(p);
            lh_sql_next(p);
            return parse_array(p, pos, ']', out);
        }
        if (lh_sql_is_punct(lh_sql_peek(p, 1), '(')) {
            lh_sql_next(p);
            lh_sql_next(p);
            n = lh_sql_node(p, LH_AST_FUNC, pos);
            lh_ast *q;
            lh_rc rc = lh_sql_parse_query(p, &q);
            if (rc == LH_OK) {
                rc = lh_sql_expect_punct(p, ')');
            }
            if (rc != LH_OK) {
                return rc;
            }
            return lh_sql_error_at(p, LH_EUNSUPPORTED, pos,
                                   "unsupported: ARRAY(subquery)");
        }
        break;
    case LH_KW_CURRENT_DATE:
    case LH_KW_CURRENT_TIME:
    case LH_KW_CURRENT_TIMESTAMP:
    case LH_KW_LOCALTIME:
    case LH_KW_LOCALTIMESTAMP:
        lh_sql_next(p);
        if (lh_sql_is_punct(lh_sql_peek(p, 0), '(') &&
            lh_sql_is_punct(lh_sql_peek(p, 1), ')')) {
            lh_sql_next(p);
            lh_sql_next(p);
        }
        *out = func_node(p, pos, t->text, NULL, 0);
        return *out ? LH_OK : LH_ENOMEM;
    case LH_KW_LEFT:
    case LH_KW_RIGHT:
        if (lh_sql_is_punct(lh_sql_peek(p, 1), '(')) {
            lh_ast_name name;
            const char **parts = lh_arena_alloc(p->a, sizeof(char *));
            if (parts == NULL) {
                return lh_err_set(p->err, LH_ENOMEM, "out of memory");
            }
            parts[0] = t->text;
            name.parts = parts;
            name.n = 1;
            lh_sql_next(p);
            return parse_call(p, name, pos, out);
        }
        break;
    default:
        break;
    }
    return parse_ident_primary(p, out);
}

/* ---- operators ------------------------------------------------------------
 */

typedef struct binop {
    const char *text;
    uint8_t op;
    uint8_t bp;
} binop;

static const binop binops[] = {
    {"=", LH_OP_EQ, BP_CMP},
    {"==", LH_OP_EQ, BP_CMP},
    {"<>", LH_OP_NE, BP_CMP},
    {"!=", LH_OP_NE, BP_CMP},
    {"<", LH_OP_LT, BP_CMP},
    {"<=", LH_OP_LE, BP_CMP},
    {">", LH_OP_GT, BP_CMP},
    {">=", LH_OP_GE, BP_CMP},
    {"+", LH_OP_ADD, BP_ADD},
    {"-", LH_OP_SUB, BP_ADD},
    {"*", LH_OP_MUL, BP_MUL},
    {"/", LH_OP_DIV, BP_MUL},
    {"//", LH_OP_INTDIV, BP_MUL},
    {"%", LH_OP_MOD, BP_MUL},
    {"^", LH_OP_POW, BP_POW},
    {"**", LH_OP_POW, BP_POW},
    {"||", LH_OP_CONCAT, BP_OTHER},
    {"&", LH_OP_BITAND, BP_OTHER},
    {"|", LH_OP_BITOR, BP_OTHER},
    {"#", LH_OP_BITXOR, BP_OTHER},
    {"<<", LH_OP_SHL, BP_OTHER},
    {">>", LH_OP_SHR, BP_OTHER},
    {"~", LH_OP_REGEX, BP_OTHER},
    {"~*", LH_OP_REGEX_CI, BP_OTHER},
    {"!~", LH_OP_NREGEX, BP_OTHER},
    {"!~*", LH_OP_NREGEX_CI, BP_OTHER},
    {"->", LH_OP_JSON_GET, BP_OTHER},
    {"->>", LH_OP_JSON_GET_TEXT, BP_OTHER},
    {"<->", LH_OP_L2_DIST, BP_OTHER},
    {"<#>", LH_OP_NEG_IP, BP_OTHER},
    {"<=>", LH_OP_COSINE_DIST, BP_OTHER},
};

static const binop *
find_binop(const lh_tok *t)
{
    if (t->kind != LH_TOK_OP) {
        return NULL;
    }
    for (size_t i = 0; i < LH_ARRAY_LEN(binops); i++) {
        if (strcmp(binops[i].text, t->text) == 0) {
            return &binops[i];
        }
    }
    return NULL;
}

static lh_rc
binary(lh_parser *p, uint8_t op, int32_t pos, lh_ast *l, lh_ast *r,
       lh_ast **out)
{
    lh_ast *n = lh_sql_node(p, LH_AST_BINARY, pos);
    if (n == NULL) {
        return LH_ENOMEM;
    }
    n->u.binary.op = op;
    n->u.binary.left = l;
    n->u.binary.right = r;
    *out = n;
    return LH_OK;
}

static lh_rc
parse_prefix(lh_parser *p, lh_ast **out)
{
    const lh_tok *t = lh_sql_peek(p, 0);
    int32_t pos = t->pos;
    uint8_t op = 0;
    int bp = 0;
    if (lh_sql_is_kw(t, LH_KW_NOT)) {
        op = LH_OP_NOT;
        bp = BP_NOT;
    } else if (lh_sql_is_op(t, "-")) {
        op = LH_OP_NEG;
        bp = BP_UNARY;
    } else if (lh_sql_is_op(t, "+")) {
        op = LH_OP_PLUS;
        bp = BP_UNARY;
    } else if (lh_sql_is_op(t, "~")) {
        op = LH_OP_BITNOT;
        bp = BP_UNARY;
    }
    if (op) {
        lh_sql_next(p);
        /* -9223372036854775808 is one literal */
        const lh_tok *num = lh_sql_peek(p, 0);
        if (op == LH_OP_NEG &&
            (num->kind == LH_TOK_INT || num->kind == LH_TOK_NUMBER) &&
            !lh_sql_is_op(lh_sql_peek(p, 1), "^") &&
            !lh_sql_is_op(lh_sql_peek(p, 1), "::") &&
            !lh_sql_is_punct(lh_sql_peek(p, 1), '[')) {
            lh_sql_next(p);
            size_t l = strlen(num->text);
            char *text = lh_arena_alloc(p->a, l + 2);
            if (text == NULL) {
                return lh_err_set(p->err, LH_ENOMEM, "out of memory");
            }
            text[0] = '-';
            memcpy(text + 1, num->text, l + 1);
            *out =
                literal(p, num->kind == LH_TOK_INT ? LH_LIT_INT : LH_LIT_NUMBER,
                        pos, text);
            return *out ? LH_OK : LH_ENOMEM;
        }
        lh_ast *arg;
        lh_rc rc = parse_bp(p, bp, &arg);
        if (rc != LH_OK) {
            return rc;
        }
        lh_ast *n = lh_sql_node(p, LH_AST_UNARY, pos);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        n->u.unary.op = op;
        n->u.unary.arg = arg;
        *out = n;
        return LH_OK;
    }
    return lh__sql_parse_primary(p, out);
}

/* x::type, x[i], x[i:j], after a primary; and the dialect's postfix. */
static lh_rc
parse_postfix(lh_parser *p, lh_ast **inout)
{
    for (;;) {
        const lh_tok *t = lh_sql_peek(p, 0);
        if (lh_sql_is_op(t, "::")) {
            lh_sql_next(p);
            lh_ast *n = lh_sql_node(p, LH_AST_CAST, t->pos);
            if (n == NULL) {
                return LH_ENOMEM;
            }
            n->u.cast.arg = *inout;
            lh_rc rc =
                lh_sql_parse_type(p, &n->u.cast.type_text, &n->u.cast.type_pos);
            if (rc != LH_OK) {
                return rc;
            }
            n->pos = (*inout)->pos;
            *inout = n;
        } else if (lh_sql_is_punct(t, '[')) {
            lh_sql_next(p);
            lh_ast *n = lh_sql_node(p, LH_AST_INDEX, t->pos);
            if (n == NULL) {
                return LH_ENOMEM;
            }
            n->u.index.arg = *inout;
            lh_rc rc = LH_OK;
            if (!lh_sql_is_punct(lh_sql_peek(p, 0), ':')) {
                rc = lh_sql_parse_expr(p, &n->u.index.index);
            }
            if (rc == LH_OK && lh_sql_accept_punct(p, ':')) {
                n->u.index.slice = true;
                if (!lh_sql_is_punct(lh_sql_peek(p, 0), ']')) {
                    rc = lh_sql_parse_expr(p, &n->u.index.upper);
                }
            }
            if (rc == LH_OK) {
                rc = lh_sql_expect_punct(p, ']');
            }
            if (rc != LH_OK) {
                return rc;
            }
            *inout = n;
        } else if (p->dialect && p->dialect->postfix) {
            uint32_t save = p->i;
            lh_ast *n = NULL;
            lh_rc rc = p->dialect->postfix(p, *inout, &n);
            if (rc != LH_OK) {
                return rc;
            }
            if (n == NULL) {
                p->i = save;
                return LH_OK;
            }
            *inout = n;
        } else {
            return LH_OK;
        }
    }
}

/* The infix forms that start with a keyword: [NOT] BETWEEN / IN / LIKE /
 * ILIKE / SIMILAR TO, IS ..., ISNULL, NOTNULL, AT TIME ZONE. *matched
 * false when the current token starts none of them. */
static lh_rc
parse_keyword_infix(lh_parser *p, int min_bp, lh_ast **left, bool *matched)
{
    *matched = false;
    const lh_tok *t = lh_sql_peek(p, 0);
    if (t->kind != LH_TOK_IDENT) {
        return LH_OK;
    }
    int32_t pos = (*left)->pos;
    bool negated = false;
    uint32_t ahead = 0;
    if (t->kw == LH_KW_NOT) {
        const lh_tok *u = lh_sql_peek(p, 1);
        if (!(lh_sql_is_kw(u, LH_KW_BETWEEN) || lh_sql_is_kw(u, LH_KW_IN) ||
              lh_sql_is_kw(u, LH_KW_LIKE) || lh_sql_is_kw(u, LH_KW_ILIKE) ||
              lh_sql_is_kw(u, LH_KW_SIMILAR))) {
            return LH_OK;
        }
        negated = true;
        ahead = 1;
        t = u;
    }
    lh_rc rc;
    switch ((lh_kw)t->kw) {
    case LH_KW_BETWEEN: {
        if (BP_LIKE < min_bp) {
            return LH_OK;
        }
        p->i += ahead + 1;
        lh_ast *n = lh_sql_node(p, LH_AST_BETWEEN, pos);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        n->u.between.arg = *left;
        n->u.between.negated = negated;
        if (lh_sql_accept_kw(p, LH_KW_SYMMETRIC)) {
            n->u.between.symmetric = true;
        } else {
            lh_sql_accept_kw(p, LH_KW_ASYMMETRIC);
        }
        rc = parse_bp(p, BP_LIKE + 1, &n->u.between.lo);
        if (rc == LH_OK) {
            rc = lh_sql_expect_kw(p, LH_KW_AND);
        }
        if (rc == LH_OK) {
            rc = parse_bp(p, BP_LIKE + 1, &n->u.between.hi);
        }
        *left = n;
        *matched = true;
        return rc;
    }
    case LH_KW_IN: {
        if (BP_LIKE < min_bp) {
            return LH_OK;
        }
        p->i += ahead + 1;
        if (!lh_sql_is_punct(lh_sql_peek(p, 0), '(')) {
            return lh_sql_syntax_error(p, lh_sql_peek(p, 0), "\"(\"");
        }
        lh_ast *q;
        rc = try_paren_query(p, &q);
        if (rc != LH_OK) {
            return rc;
        }
        lh_ast *n;
        if (q) {
            n = lh_sql_node(p, LH_AST_IN_QUERY, pos);
            if (n == NULL) {
                return LH_ENOMEM;
            }
            n->u.in_query.arg = *left;
            n->u.in_query.query = q;
            n->u.in_query.negated = negated;
        } else {
            lh_sql_next(p); /* ( */
            n = lh_sql_node(p, LH_AST_IN_LIST, pos);
            if (n == NULL) {
                return LH_ENOMEM;
            }
            n->u.in_list.arg = *left;
            n->u.in_list.negated = negated;
            if (!lh_sql_is_punct(lh_sql_peek(p, 0), ')')) {
                rc = lh_sql_parse_expr_list(p, &n->u.in_list.list);
            }
            if (rc == LH_OK) {
                rc = lh_sql_expect_punct(p, ')');
            }
        }
        *left = n;
        *matched = true;
        return rc;
    }
    case LH_KW_LIKE:
    case LH_KW_ILIKE:
    case LH_KW_SIMILAR: {
        if (BP_LIKE < min_bp) {
            return LH_OK;
        }
        p->i += ahead + 1;
        lh_ast *n = lh_sql_node(p, LH_AST_LIKE, pos);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        n->u.like.arg = *left;
        n->u.like.negated = negated;
        n->u.like.ilike = t->kw == LH_KW_ILIKE;
        if (t->kw == LH_KW_SIMILAR) {
            n->u.like.similar = true;
            rc = lh_sql_expect_kw(p, LH_KW_TO);
            if (rc != LH_OK) {
                return rc;
            }
        }
        rc = parse_bp(p, BP_LIKE + 1, &n->u.like.pattern);
        if (rc == LH_OK && lh_sql_accept_kw(p, LH_KW_ESCAPE)) {
            rc = parse_bp(p, BP_LIKE + 1, &n->u.like.escape);
        }
        *left = n;
        *matched = true;
        return rc;
    }
    case LH_KW_IS: {
        if (BP_IS < min_bp) {
            return LH_OK;
        }
        lh_sql_next(p);
        lh_ast *n = lh_sql_node(p, LH_AST_IS, pos);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        n->u.is.arg = *left;
        n->u.is.negated = lh_sql_accept_kw(p, LH_KW_NOT);
        rc = LH_OK;
        if (lh_sql_accept_kw(p, LH_KW_NULL)) {
            n->u.is.what = LH_IS_NULL;
        } else if (lh_sql_accept_kw(p, LH_KW_TRUE)) {
            n->u.is.what = LH_IS_TRUE;
        } else if (lh_sql_accept_kw(p, LH_KW_FALSE)) {
            n->u.is.what = LH_IS_FALSE;
        } else if (lh_sql_accept_kw(p, LH_KW_UNKNOWN)) {
            n->u.is.what = LH_IS_UNKNOWN;
        } else if (lh_sql_accept_kw(p, LH_KW_DISTINCT)) {
            n->u.is.what = LH_IS_DISTINCT_FROM;
            rc = lh_sql_expect_kw(p, LH_KW_FROM);
            if (rc == LH_OK) {
                rc = parse_bp(p, BP_IS + 1, &n->u.is.right);
            }
        } else {
            return lh_sql_syntax_error(p, lh_sql_peek(p, 0),
                                       "NULL, TRUE, FALSE, UNKNOWN or "
                                       "DISTINCT FROM");
        }
        *left = n;
        *matched = true;
        return rc;
    }
    case LH_KW_ISNULL:
    case LH_KW_NOTNULL: {
        if (BP_IS < min_bp) {
            return LH_OK;
        }
        lh_sql_next(p);
        lh_ast *n = lh_sql_node(p, LH_AST_IS, pos);
        if (n == NULL) {
            return LH_ENOMEM;
        }
        n->u.is.arg = *left;
        n->u.is.what = LH_IS_NULL;
        n->u.is.negated = t->kw == LH_KW_NOTNULL;
        *left = n;
        *matched = true;
        return LH_OK;
    }
    case LH_KW_AT:
        if (BP_AT < min_bp || !word_is(lh_sql_peek(p, 1), "time") ||
            !lh_sql_is_kw(lh_sql_peek(p, 2), LH_KW_ZONE)) {
            return LH_OK;
        }
        p->i += 3;
        lh_ast *zone;
        rc = parse_bp(p, BP_AT + 1, &zone);
        if (rc == LH_OK) {
            lh_ast *args[2] = {zone, *left};
            *left = func_node(p, pos, "timezone", args, 2);
            rc = *left ? LH_OK : LH_ENOMEM;
        }
        *matched = true;
        return rc;
    default:
        return LH_OK;
    }
}

static lh_rc
parse_bp(lh_parser *p, int min_bp, lh_ast **out)
{
    lh_rc rc = enter(p);
    if (rc != LH_OK) {
        return rc;
    }
    lh_ast *left;
    rc = parse_prefix(p, &left);
    if (rc == LH_OK) {
        rc = parse_postfix(p, &left);
    }
    while (rc == LH_OK) {
        const lh_tok *t = lh_sql_peek(p, 0);
        if (lh_sql_is_kw(t, LH_KW_AND) || lh_sql_is_kw(t, LH_KW_OR)) {
            int bp = t->kw == LH_KW_AND ? BP_AND : BP_OR;
            if (bp < min_bp) {
                break;
            }
            lh_sql_next(p);
            lh_ast *right;
            rc = parse_bp(p, bp + 1, &right);
            if (rc == LH_OK) {
                rc = binary(p, bp == BP_AND ? LH_OP_AND : LH_OP_OR, left->pos,
                            left, right, &left);
            }
            continue;
        }
        bool matched;
        rc = parse_keyword_infix(p, min_bp, &left, &matched);
        if (rc != LH_OK || matched) {
            continue;
        }
        const binop *b = find_binop(t);
        if (b == NULL || b->bp < min_bp) {
            break;
        }
        lh_sql_next(p);
        /* comparison with ANY / ALL / SOME (subquery) */
        if (b->bp == BP_CMP &&
            (lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_ANY) ||
             lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_ALL) ||
             lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_SOME)) &&
            lh_sql_is_punct(lh_sql_peek(p, 1), '(')) {
            bool all = lh_sql_is_kw(lh_sql_peek(p, 0), LH_KW_ALL);
            lh_sql_next(p);
            lh_ast *q;
            rc = try_paren_query(p, &q);
            if (rc != LH_OK) {
                break;
            }
            if (q == NULL) {
                rc = lh_sql_error_at(p, LH_EUNSUPPORTED, t->pos,
                                     "unsupported: ANY/ALL over an array "
                                     "(use IN, or a subquery)");
                break;
            }
            lh_ast *n = lh_sql_node(p, LH_AST_QUANTIFIED, left->pos);
            if (n == NULL) {
                rc = LH_ENOMEM;
                break;
            }
            n->u.quantified.arg = left;
            n->u.quantified.op = b->op;
            n->u.quantified.all = all;
            n->u.quantified.query = q;
            left = n;
            continue;
        }
        lh_ast *right;
        /* all binary operators associate to the left */
        rc = parse_bp(p, b->bp + 1, &right);
        if (rc == LH_OK) {
            rc = binary(p, b->op, left->pos, left, right, &left);
        }
    }
    p->depth--;
    *out = left;
    return rc;
}

lh_rc
lh_sql_parse_expr(lh_parser *p, lh_ast **out)
{
    return parse_bp(p, BP_OR, out);
}
