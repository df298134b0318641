/*
 * The lexer and the recursive-descent parser, as the dialects see them
 * (src/sql/dialect/). A dialect file reads tokens with the helpers here and
 * builds nodes of ast.h; the default dialect (postgres.c) adds nothing.
 *
 * The lexer turns the whole text into tokens first (lh_sql_lex), so the
 * parser can look any distance ahead. Identifiers are folded to lowercase
 * unless quoted; keywords are identifiers with a keyword id, so a word that
 * is not reserved can still name a column.
 *
 * Errors: every failure sets err->code (LH_EINVAL for syntax,
 * LH_EUNSUPPORTED for a construct we parse but refuse) and err->offset to
 * the byte offset of the token at fault; messages read like PostgreSQL's
 * (`syntax error at or near "FROM"`, `syntax error at end of input`).
 */
#ifndef LH_SQL_PARSER_H
#define LH_SQL_PARSER_H

#include <string.h>

#include "sql/ast.h"

typedef enum lh_tok_kind {
    LH_TOK_EOF = 0,
    LH_TOK_IDENT,  /* text folded to lowercase; kw set when a keyword */
    LH_TOK_QIDENT, /* "Quoted" identifier, text as written */
    LH_TOK_INT,    /* digits */
    LH_TOK_NUMBER, /* 1.5, .5, 1e3 */
    LH_TOK_STRING, /* text decoded ('' and E'\n' escapes, $$...$$) */
    LH_TOK_BLOB,   /* X'00ff': text holds the hex digits */
    LH_TOK_PARAM,  /* $1, ?, :name, $name: text is "1" or "name" */
    LH_TOK_OP,     /* an operator: text as written, e.g. "<=", "||" */
    LH_TOK_PUNCT,  /* one of ( ) , ; . [ ] { } : text is the character */
} lh_tok_kind;

/* Keyword ids (0 = not a keyword). The table in lexer.c says which are
 * reserved: those never name a column or an alias unless quoted. */
typedef enum lh_kw {
    LH_KW_NONE = 0,
#define LH_KW(id, reserved) LH_KW_##id,
#include "sql/keywords.h"
#undef LH_KW
    LH_KW_COUNT_
} lh_kw;

typedef struct lh_tok {
    uint8_t kind;  /* lh_tok_kind */
    uint16_t kw;   /* lh_kw for IDENT */
    bool reserved; /* kw is a reserved keyword */
    int32_t pos;   /* byte offset in the text */
    uint32_t len;  /* bytes of the token in the text */
    const char *text;
} lh_tok;

/* Appends to a growable node array in the parser's arena. */
typedef struct lh_sql_vec {
    void **items;
    uint32_t n, cap;
} lh_sql_vec;

typedef struct lh_sql_dialect lh_sql_dialect;

typedef struct lh_parser {
    const char *sql;
    size_t len;
    lh_tok *toks;
    uint32_t ntoks;
    uint32_t i; /* the current token */
    lh_arena *a;
    const lh_sql_dialect *dialect;
    lh_err *err;
    int32_t nparams;   /* positional parameters seen (? numbering) */
    bool saw_numbered; /* $n or ? in the statement */
    lh_sql_vec names;  /* :name parameters, numbered by first appearance */
    int32_t names_pos; /* where the first named one is */
    int depth;         /* nesting, bounded so hostile input cannot overflow
                          the stack */
    uint64_t *noquery; /* a bit per token: "(" there starts no query (a
                          failed attempt, so it is never tried twice) */
} lh_parser;

/* Splits sql[0..len) into tokens in `a`, ending with an EOF token.
 * LH_EINVAL for an unterminated string, quoted identifier or comment, or a
 * character that starts no token (err->offset points at it). */
lh_rc lh_sql_lex(const char *sql, size_t len, const lh_sql_dialect *d,
                 lh_arena *a, lh_tok **toks, uint32_t *ntoks, lh_err *err);
/* The keyword id of a lowercase word, or LH_KW_NONE; *reserved says
 * whether it is reserved. */
lh_kw lh_sql_keyword(const char *word, size_t n, bool *reserved);
const char *lh_sql_keyword_text(lh_kw kw);

/* ---- helpers for the parser and the dialects ---------------------------- */

static inline const lh_tok *
lh_sql_peek(const lh_parser *p, uint32_t ahead)
{
    uint32_t j = p->i + ahead;
    return &p->toks[j < p->ntoks ? j : p->ntoks - 1];
}
static inline const lh_tok *
lh_sql_next(lh_parser *p)
{
    const lh_tok *t = &p->toks[p->i];
    if (p->i + 1 < p->ntoks) {
        p->i++;
    }
    return t;
}
static inline bool
lh_sql_is_kw(const lh_tok *t, lh_kw kw)
{
    return t->kind == LH_TOK_IDENT && t->kw == kw;
}
static inline bool
lh_sql_is_punct(const lh_tok *t, char c)
{
    return t->kind == LH_TOK_PUNCT && t->text[0] == c;
}
static inline bool
lh_sql_is_op(const lh_tok *t, const char *op)
{
    return t->kind == LH_TOK_OP && strcmp(t->text, op) == 0;
}
bool lh_sql_accept_kw(lh_parser *p, lh_kw kw);
bool lh_sql_accept_punct(lh_parser *p, char c);
bool lh_sql_accept_op(lh_parser *p, const char *op);
lh_rc lh_sql_expect_kw(lh_parser *p, lh_kw kw);
lh_rc lh_sql_expect_punct(lh_parser *p, char c);

/* Sets a syntax error at token t (`syntax error at or near "x"`, or `at
 * end of input`), with an optional hint appended ("expected ..."). */
lh_rc lh_sql_syntax_error(lh_parser *p, const lh_tok *t, const char *expected);
/* Sets err to code with the message, at byte offset pos. */
lh_rc lh_sql_error_at(lh_parser *p, lh_rc code, int32_t pos, const char *fmt,
                      ...) LH_PRINTF(4, 5);

/* A zeroed node of the kind, at pos; NULL (and err set) when out of
 * memory. */
lh_ast *lh_sql_node(lh_parser *p, lh_ast_kind kind, int32_t pos);
/* An identifier (unreserved keywords allowed) into *out. */
lh_rc lh_sql_parse_ident(lh_parser *p, const char **out);
/* name(.name)* */
lh_rc lh_sql_parse_name(lh_parser *p, lh_ast_name *out);
lh_rc lh_sql_parse_expr(lh_parser *p, lh_ast **out);
/* A comma-separated list of expressions. */
lh_rc lh_sql_parse_expr_list(lh_parser *p, lh_ast_list *out);
/* A query: [WITH ...] SELECT | VALUES | (query), set operations, ORDER
 * BY, LIMIT. */
lh_rc lh_sql_parse_query(lh_parser *p, lh_ast **out);
/* A type name as written (VARCHAR(30), DOUBLE PRECISION, TIMESTAMP WITH
 * TIME ZONE, FLOAT[3], INTEGER[]), normalized to single spaces. */
lh_rc lh_sql_parse_type(lh_parser *p, const char **out, int32_t *pos);
lh_rc lh_sql_parse_order_list(lh_parser *p, lh_ast_order_list *out);

/* Appends to a growable node array in the parser's arena. */
lh_rc lh_sql_vec_push(lh_parser *p, lh_sql_vec *v, void *item);

/* parse_expr.c and parse_stmt.c share these. */
lh_rc lh__sql_parse_window_spec(lh_parser *p, lh_ast_window *w);
lh_rc lh__sql_parse_statement(lh_parser *p, lh_ast **out);
lh_rc lh__sql_parse_options(lh_parser *p, lh_ast_option **out, uint32_t *n);
lh_rc lh__sql_parse_primary(lh_parser *p, lh_ast **out);
lh_rc lh__sql_parse_ident_list(lh_parser *p, const char ***out, uint32_t *n);
char *lh__sql_strdup(lh_parser *p, const char *s, size_t n);
/* Whether the "(" at token i was found to start no query (memo of failed
 * attempts, so backtracking stays linear). */
bool lh__sql_noquery_get(const lh_parser *p, uint32_t i);
void lh__sql_noquery_set(lh_parser *p, uint32_t i);

#endif
