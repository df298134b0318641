/*
 * The lexer: SQL text to tokens (parser.h). PostgreSQL's lexical rules,
 * with the additions DuckDB users expect ($name and ? parameters, //):
 *   identifiers   [A-Za-z_\x80-\xff][A-Za-z0-9_$\x80-\xff]*, folded to
 *                 lowercase; "quoted" kept as written ("" is a quote);
 *                 `backticks` when the dialect allows them
 *   strings       'it''s', E'\n\t\\\'', $$any$$, $tag$any$tag$, X'00ff'
 *                 (a BLOB), N'..'; adjacent strings separated by a line
 *                 break concatenate, as the standard says
 *   numbers       12, 1.5, .5, 1e-3, 1.
 *   parameters    $1, ?, :name, $name
 *   comments      -- to the end of the line, nested block comments
 */
#include <ctype.h>
#include <string.h>

#include "sql/dialect/dialect.h"
#include "sql/parser.h"

typedef struct kwdef {
    const char *word;
    bool reserved;
} kwdef;

static const kwdef keywords[] = {
    {"", false},
#define LH_KW(id, reserved) {#id, reserved},
#include "sql/keywords.h"
#undef LH_KW
};

lh_kw
lh_sql_keyword(const char *word, size_t n, bool *reserved)
{
    *reserved = false;
    if (n == 0 || n > 24) {
        return LH_KW_NONE;
    }
    char up[32];
    for (size_t i = 0; i < n; i++) {
        up[i] = (char)toupper((unsigned char)word[i]);
    }
    up[n] = 0;
    size_t lo = 1, hi = LH_ARRAY_LEN(keywords);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(keywords[mid].word, up);
        if (c == 0) {
            *reserved = keywords[mid].reserved;
            return (lh_kw)mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return LH_KW_NONE;
}

const char *
lh_sql_keyword_text(lh_kw kw)
{
    return kw > 0 && kw < LH_KW_COUNT_ ? keywords[kw].word : "";
}

/* ---- the scanner --------------------------------------------------------- */

typedef struct lexer {
    const char *s;
    size_t n, i;
    lh_arena *a;
    const lh_sql_dialect *d;
    lh_err *err;
    lh_tok *toks;
    uint32_t ntoks, cap;
} lexer;

static lh_rc
lex_error(lexer *lx, size_t pos, const char *fmt, const char *what)
{
    lh_err_set(lx->err, LH_EINVAL, fmt, what);
    if (lx->err) {
        lx->err->offset = (int64_t)pos;
    }
    return LH_EINVAL;
}

static lh_rc
push(lexer *lx, lh_tok_kind kind, size_t pos, size_t len, const char *text,
     size_t tlen)
{
    if (lx->ntoks == lx->cap) {
        uint32_t ncap = lx->cap ? lx->cap * 2 : 64;
        lh_tok *nt = lh_arena_alloc(lx->a, ncap * sizeof(lh_tok));
        if (nt == NULL) {
            return lh_err_set(lx->err, LH_ENOMEM, "out of memory");
        }
        if (lx->ntoks) {
            memcpy(nt, lx->toks, lx->ntoks * sizeof(lh_tok));
        }
        lx->toks = nt;
        lx->cap = ncap;
    }
    if (pos > INT32_MAX || len > UINT32_MAX) {
        return lex_error(lx, 0, "%s", "query text is too long");
    }
    char *t = lh_arena_strndup(lx->a, text, tlen);
    if (t == NULL) {
        return lh_err_set(lx->err, LH_ENOMEM, "out of memory");
    }
    lh_tok *tok = &lx->toks[lx->ntoks++];
    memset(tok, 0, sizeof *tok);
    tok->kind = (uint8_t)kind;
    tok->pos = (int32_t)pos;
    tok->len = (uint32_t)len;
    tok->text = t;
    return LH_OK;
}

static bool
ident_start(unsigned char c)
{
    return isalpha(c) || c == '_' || c >= 0x80;
}

static bool
ident_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* Skips white space and comments; LH_EINVAL for an unterminated block
 * comment. Returns whether a line break was crossed (string
 * continuation). */
static lh_rc
skip_space(lexer *lx, bool *newline)
{
    *newline = false;
    for (;;) {
        if (lx->i >= lx->n) {
            return LH_OK;
        }
        char c = lx->s[lx->i];
        if (c == '\n') {
            *newline = true;
            lx->i++;
        } else if (isspace((unsigned char)c)) {
            lx->i++;
        } else if (c == '-' && lx->i + 1 < lx->n && lx->s[lx->i + 1] == '-') {
            while (lx->i < lx->n && lx->s[lx->i] != '\n') {
                lx->i++;
            }
        } else if (c == '/' && lx->i + 1 < lx->n && lx->s[lx->i + 1] == '*') {
            size_t start = lx->i;
            int depth = 0;
            do {
                if (lx->i + 1 < lx->n && lx->s[lx->i] == '/' &&
                    lx->s[lx->i + 1] == '*') {
                    depth++;
                    lx->i += 2;
                } else if (lx->i + 1 < lx->n && lx->s[lx->i] == '*' &&
                           lx->s[lx->i + 1] == '/') {
                    depth--;
                    lx->i += 2;
                } else if (lx->i < lx->n) {
                    lx->i++;
                } else {
                    return lex_error(lx, start, "%s",
                                     "unterminated /* comment");
                }
            } while (depth > 0);
        } else {
            return LH_OK;
        }
    }
}

/* A quoted run: q...q with qq as an escaped q; with `escapes`, backslash
 * escapes too (E'...'). Appends the decoded bytes to b. */
static lh_rc
quoted(lexer *lx, char q, bool escapes, lh_buf *b, const char *what)
{
    size_t start = lx->i;
    lx->i++; /* the opening quote */
    for (;;) {
        if (lx->i >= lx->n) {
            return lex_error(lx, start, "unterminated %s", what);
        }
        char c = lx->s[lx->i];
        if (c == q) {
            if (lx->i + 1 < lx->n && lx->s[lx->i + 1] == q) {
                lh_buf_putc(b, q);
                lx->i += 2;
                continue;
            }
            lx->i++;
            return LH_OK;
        }
        if (escapes && c == '\\' && lx->i + 1 < lx->n) {
            char e = lx->s[lx->i + 1];
            lx->i += 2;
            switch (e) {
            case 'n':
                lh_buf_putc(b, '\n');
                break;
            case 't':
                lh_buf_putc(b, '\t');
                break;
            case 'r':
                lh_buf_putc(b, '\r');
                break;
            case 'b':
                lh_buf_putc(b, '\b');
                break;
            case 'f':
                lh_buf_putc(b, '\f');
                break;
            case '0':
                return lex_error(lx, lx->i - 2, "%s",
                                 "invalid escape \\0: strings cannot hold "
                                 "a zero byte");
            default:
                lh_buf_putc(b, e);
                break;
            }
            continue;
        }
        lh_buf_putc(b, c);
        lx->i++;
    }
}

/* $tag$...$tag$ starting at lx->i ('$'); false if this is not a dollar
 * quote (then nothing is consumed). */
static bool
dollar_quote(lexer *lx, lh_buf *b, lh_rc *rc)
{
    size_t j = lx->i + 1;
    while (j < lx->n && lx->s[j] != '$' &&
           ident_char((unsigned char)lx->s[j]) && lx->s[j] != '$') {
        if (j == lx->i + 1 && isdigit((unsigned char)lx->s[j])) {
            return false; /* $1 is a parameter */
        }
        j++;
    }
    if (j >= lx->n || lx->s[j] != '$') {
        return false;
    }
    size_t taglen = j - lx->i + 1; /* $tag$ */
    const char *tag = lx->s + lx->i;
    size_t k = j + 1;
    for (; k + taglen <= lx->n; k++) {
        if (memcmp(lx->s + k, tag, taglen) == 0) {
            lh_buf_append(b, lx->s + j + 1, k - (j + 1));
            lx->i = k + taglen;
            *rc = LH_OK;
            return true;
        }
    }
    *rc = lex_error(lx, lx->i, "%s", "unterminated dollar-quoted string");
    return true;
}

/* Operators, longest first. */
static const char *const ops[] = {
    "->>", "<->", "<#>", "<=>", "!~*", "->", "<=", ">=", "<>", "!=",
    "==",  "||",  "::",  "//",  "<<",  ">>", "~*", "!~", "**", "@>",
    "<@",  "&&",  "+",   "-",   "*",   "/",  "%",  "^",  "<",  ">",
    "=",   "~",   "&",   "|",   "#",   "!",  "@",
};

static lh_rc
lex_string_token(lexer *lx, size_t start, bool escapes, lh_tok_kind kind)
{
    lh_buf b = LH_BUF_INIT;
    lh_rc rc = quoted(lx, '\'', escapes, &b, "quoted string");
    /* 'a'
     * 'b' is 'ab' (SQL standard; PostgreSQL too) */
    while (rc == LH_OK) {
        size_t save = lx->i;
        bool nl;
        rc = skip_space(lx, &nl);
        if (rc != LH_OK || !nl || lx->i >= lx->n || lx->s[lx->i] != '\'') {
            lx->i = save;
            break;
        }
        rc = quoted(lx, '\'', escapes, &b, "quoted string");
    }
    if (rc == LH_OK && !lh_buf_ok(&b)) {
        rc = lh_err_set(lx->err, LH_ENOMEM, "out of memory");
    }
    if (rc == LH_OK) {
        if (memchr(b.data ? b.data : "", 0, b.len) != NULL) {
            rc = lex_error(lx, start, "%s", "strings cannot hold a zero byte");
        } else {
            rc = push(lx, kind, start, lx->i - start, b.data ? b.data : "",
                      b.len);
        }
    }
    lh_buf_release(&b);
    return rc;
}

static lh_rc
lex_one(lexer *lx)
{
    size_t start = lx->i;
    const char *s = lx->s;
    unsigned char c = (unsigned char)s[start];
    char c1 = start + 1 < lx->n ? s[start + 1] : 0;

    /* strings with a prefix: E'..', X'..', N'..' */
    if ((c == 'e' || c == 'E') && c1 == '\'') {
        lx->i++;
        return lex_string_token(lx, start, true, LH_TOK_STRING);
    }
    if ((c == 'x' || c == 'X') && c1 == '\'') {
        lx->i++;
        return lex_string_token(lx, start, false, LH_TOK_BLOB);
    }
    if ((c == 'n' || c == 'N') && c1 == '\'') {
        lx->i++;
        return lex_string_token(lx, start, false, LH_TOK_STRING);
    }
    if (c == '\'') {
        return lex_string_token(lx, start, false, LH_TOK_STRING);
    }
    if (ident_start(c)) {
        size_t j = start;
        while (j < lx->n && ident_char((unsigned char)s[j])) {
            j++;
        }
        size_t len = j - start;
        char *low = lh_arena_strndup(lx->a, s + start, len);
        if (low == NULL) {
            return lh_err_set(lx->err, LH_ENOMEM, "out of memory");
        }
        for (size_t k = 0; k < len; k++) {
            low[k] = (char)tolower((unsigned char)low[k]);
        }
        lx->i = j;
        lh_rc rc = push(lx, LH_TOK_IDENT, start, len, low, len);
        if (rc == LH_OK) {
            lh_tok *t = &lx->toks[lx->ntoks - 1];
            bool reserved;
            t->kw = (uint16_t)lh_sql_keyword(low, len, &reserved);
            t->reserved = reserved;
        }
        return rc;
    }
    if (c == '"' || (c == '`' && lx->d && lx->d->backtick_identifiers)) {
        lh_buf b = LH_BUF_INIT;
        lh_rc rc = quoted(lx, (char)c, false, &b, "quoted identifier");
        if (rc == LH_OK && b.len == 0) {
            rc = lex_error(lx, start, "%s", "zero-length quoted identifier");
        }
        if (rc == LH_OK && !lh_buf_ok(&b)) {
            rc = lh_err_set(lx->err, LH_ENOMEM, "out of memory");
        }
        if (rc == LH_OK) {
            rc = push(lx, LH_TOK_QIDENT, start, lx->i - start, b.data, b.len);
        }
        lh_buf_release(&b);
        return rc;
    }
    if (isdigit(c) || (c == '.' && isdigit((unsigned char)c1))) {
        size_t j = start;
        bool real = false;
        while (j < lx->n && isdigit((unsigned char)s[j])) {
            j++;
        }
        if (j < lx->n && s[j] == '.' &&
            !(j + 1 < lx->n && s[j + 1] == '.')) { /* 1..2 is not 1. */
            real = true;
            j++;
            while (j < lx->n && isdigit((unsigned char)s[j])) {
                j++;
            }
        }
        if (j < lx->n && (s[j] == 'e' || s[j] == 'E')) {
            size_t k = j + 1;
            if (k < lx->n && (s[k] == '+' || s[k] == '-')) {
                k++;
            }
            if (k < lx->n && isdigit((unsigned char)s[k])) {
                real = true;
                j = k;
                while (j < lx->n && isdigit((unsigned char)s[j])) {
                    j++;
                }
            }
        }
        lx->i = j;
        if (j < lx->n && ident_start((unsigned char)s[j])) {
            return lex_error(lx, start, "%s",
                             "trailing junk after numeric literal");
        }
        return push(lx, real ? LH_TOK_NUMBER : LH_TOK_INT, start, j - start,
                    s + start, j - start);
    }
    if (c == '$') {
        lh_buf b = LH_BUF_INIT;
        lh_rc rc = LH_OK;
        if (dollar_quote(lx, &b, &rc)) {
            if (rc == LH_OK && !lh_buf_ok(&b)) {
                rc = lh_err_set(lx->err, LH_ENOMEM, "out of memory");
            }
            if (rc == LH_OK) {
                rc = push(lx, LH_TOK_STRING, start, lx->i - start,
                          b.data ? b.data : "", b.len);
            }
            lh_buf_release(&b);
            return rc;
        }
        lh_buf_release(&b);
        size_t j = start + 1;
        if (j < lx->n && isdigit((unsigned char)s[j])) {
            while (j < lx->n && isdigit((unsigned char)s[j])) {
                j++;
            }
        } else {
            while (j < lx->n && ident_char((unsigned char)s[j]) &&
                   s[j] != '$') {
                j++;
            }
        }
        if (j == start + 1) {
            return lex_error(lx, start, "%s",
                             "\"$\" must start a parameter ($1, $name) or a "
                             "dollar-quoted string");
        }
        lx->i = j;
        return push(lx, LH_TOK_PARAM, start, j - start, s + start + 1,
                    j - start - 1);
    }
    if (c == '?') {
        lx->i++; /* numbered by the parser, per statement */
        return push(lx, LH_TOK_PARAM, start, 1, "?", 1);
    }
    if (c == ':' && c1 != ':' && ident_start((unsigned char)c1) &&
        !(lx->d && lx->d->colon_paths)) {
        size_t j = start + 1;
        while (j < lx->n && ident_char((unsigned char)s[j])) {
            j++;
        }
        /* a[1:n] is a slice, not a parameter: a name right after '[' or
         * an operand keeps its colon */
        lh_tok *prev = lx->ntoks ? &lx->toks[lx->ntoks - 1] : NULL;
        bool slice = prev && (prev->kind == LH_TOK_INT ||
                              (prev->kind == LH_TOK_IDENT && !prev->reserved) ||
                              prev->kind == LH_TOK_QIDENT ||
                              (prev->kind == LH_TOK_PUNCT &&
                               (prev->text[0] == ')' || prev->text[0] == '[')));
        if (!slice) {
            lx->i = j;
            return push(lx, LH_TOK_PARAM, start, j - start, s + start + 1,
                        j - start - 1);
        }
    }
    if (strchr("(),;.[]{}:", (int)c) != NULL && c != 0 &&
        !(c == ':' && c1 == ':')) {
        lx->i++;
        return push(lx, LH_TOK_PUNCT, start, 1, s + start, 1);
    }
    for (size_t k = 0; k < LH_ARRAY_LEN(ops); k++) {
        size_t ol = strlen(ops[k]);
        if (start + ol <= lx->n && memcmp(s + start, ops[k], ol) == 0) {
            lx->i += ol;
            return push(lx, LH_TOK_OP, start, ol, ops[k], ol);
        }
    }
    char what[8];
    if (c >= 0x20 && c < 0x7f) {
        snprintf(what, sizeof what, "%c", c);
    } else {
        snprintf(what, sizeof what, "\\x%02x", c);
    }
    return lex_error(lx, start, "syntax error at or near \"%s\"", what);
}

lh_rc
lh_sql_lex(const char *sql, size_t len, const lh_sql_dialect *d, lh_arena *a,
           lh_tok **toks, uint32_t *ntoks, lh_err *err)
{
    lexer lx = {.s = sql, .n = len, .a = a, .d = d, .err = err};
    for (;;) {
        bool nl;
        lh_rc rc = skip_space(&lx, &nl);
        if (rc != LH_OK) {
            return rc;
        }
        if (lx.i >= lx.n) {
            break;
        }
        if (sql[lx.i] == 0) {
            return lex_error(&lx, lx.i, "%s",
                             "query text cannot hold a zero byte");
        }
        rc = lex_one(&lx);
        if (rc != LH_OK) {
            return rc;
        }
    }
    lh_rc rc = push(&lx, LH_TOK_EOF, len, 0, "", 0);
    if (rc != LH_OK) {
        return rc;
    }
    *toks = lx.toks;
    *ntoks = lx.ntoks;
    return LH_OK;
}
