/* Type names: parse ("decimal ( 10, 2 )"), canonical name, equality. */
#include <stdio.h>
#include <string.h>

#include "column/column_int.h"

/* PostgreSQL's limit for varchar(n); also keeps n in lh_type.length. */
#define VARCHAR_MAX_LENGTH 10485760u
/* The widest embedding we accept: pgvector's limit for indexes is lower,
 * 65536 covers every model we know of with room to spare. */
#define VECTOR_MAX_DIM 65536u
/* A type name longer than this is not one we know. */
#define NAME_MAX_LEN 96

/* Which arguments a name takes: (p[,s]) / (n), and FLOAT's [n]. */
enum { ARG_NONE = 0, ARG_PAREN = 1, ARG_BRACKET = 2 };

static const struct {
    const char *name;
    uint8_t id;
    uint8_t args;
} names[] = {
    {"BOOLEAN", LH_T_BOOLEAN, ARG_NONE},
    {"BOOL", LH_T_BOOLEAN, ARG_NONE},
    {"SMALLINT", LH_T_SMALLINT, ARG_NONE},
    {"INT2", LH_T_SMALLINT, ARG_NONE},
    {"INT", LH_T_INTEGER, ARG_NONE},
    {"INTEGER", LH_T_INTEGER, ARG_NONE},
    {"INT4", LH_T_INTEGER, ARG_NONE},
    {"BIGINT", LH_T_BIGINT, ARG_NONE},
    {"INT8", LH_T_BIGINT, ARG_NONE},
    {"REAL", LH_T_REAL, ARG_NONE},
    {"FLOAT4", LH_T_REAL, ARG_NONE},
    {"DOUBLE", LH_T_DOUBLE, ARG_NONE},
    {"DOUBLE PRECISION", LH_T_DOUBLE, ARG_NONE},
    {"FLOAT8", LH_T_DOUBLE, ARG_NONE},
    {"FLOAT", LH_T_DOUBLE, ARG_PAREN | ARG_BRACKET},
    {"DECIMAL", LH_T_DECIMAL, ARG_PAREN},
    {"NUMERIC", LH_T_DECIMAL, ARG_PAREN},
    {"VARCHAR", LH_T_VARCHAR, ARG_PAREN},
    {"CHARACTER VARYING", LH_T_VARCHAR, ARG_PAREN},
    {"TEXT", LH_T_VARCHAR, ARG_NONE},
    {"STRING", LH_T_VARCHAR, ARG_NONE},
    {"BLOB", LH_T_BLOB, ARG_NONE},
    {"BYTEA", LH_T_BLOB, ARG_NONE},
    {"DATE", LH_T_DATE, ARG_NONE},
    {"TIME", LH_T_TIME, ARG_NONE},
    {"TIME WITHOUT TIME ZONE", LH_T_TIME, ARG_NONE},
    {"TIMESTAMP", LH_T_TIMESTAMP, ARG_NONE},
    {"TIMESTAMP WITHOUT TIME ZONE", LH_T_TIMESTAMP, ARG_NONE},
    {"TIMESTAMPTZ", LH_T_TIMESTAMPTZ, ARG_NONE},
    {"TIMESTAMP WITH TIME ZONE", LH_T_TIMESTAMPTZ, ARG_NONE},
    {"INTERVAL", LH_T_INTERVAL, ARG_NONE},
    {"UUID", LH_T_UUID, ARG_NONE},
    {"JSON", LH_T_JSON, ARG_NONE},
    {"JSONB", LH_T_JSON, ARG_NONE},
    {"VECTOR", LH_T_VECTOR, ARG_PAREN},
};

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

static bool
is_punct(char c)
{
    return c == '(' || c == ')' || c == ',' || c == '[' || c == ']';
}

/* Upper-cases s and collapses whitespace: one space between two words,
 * none next to punctuation. false when it does not fit in out. */
static bool
normalize(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    bool pending_space = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (is_space(c)) {
            pending_space = o > 0;
            continue;
        }
        if (pending_space && !is_punct(c) && !is_punct(out[o - 1])) {
            if (o + 1 >= cap) {
                return false;
            }
            out[o++] = ' ';
        }
        pending_space = false;
        if (o + 1 >= cap) {
            return false;
        }
        if (c >= 'a' && c <= 'z') {
            c = (char)(c - 'a' + 'A');
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return true;
}

/* One integer argument: an optional '-' and up to 18 digits; *end is
 * where it stopped. The digits are kept for messages. */
static bool
parse_arg(const char *p, const char **end, long long *v, char *text)
{
    const char *q = p;
    if (*q == '-') {
        q++;
    }
    const char *digits = q;
    long long x = 0;
    while (*q >= '0' && *q <= '9') {
        if (q - digits >= 18) {
            return false;
        }
        x = x * 10 + (*q - '0');
        q++;
    }
    if (q == digits) {
        return false;
    }
    memcpy(text, p, (size_t)(q - p));
    text[q - p] = '\0';
    *v = p[0] == '-' ? -x : x;
    *end = q;
    return true;
}

static lh_rc
bad_type(lh_err *err, const char *s, size_t n, const char *expect)
{
    char q[LH__QUOTE_SIZE];
    if (expect == NULL) {
        return lh_err_set(err, LH_EINVAL, "unknown type %s",
                          lh__quote(q, s, n));
    }
    return lh_err_set(err, LH_EINVAL, "malformed type %s: expected %s",
                      lh__quote(q, s, n), expect);
}

static lh_rc
set_decimal(lh_type *out, long long p, const char *ptext, long long sc,
            const char *stext, lh_err *err)
{
    if (p < 1 || p > LH_DECIMAL_MAX_PRECISION) {
        return lh_err_set(err, LH_EINVAL,
                          "DECIMAL precision %s is out of range 1..%d", ptext,
                          LH_DECIMAL_MAX_PRECISION);
    }
    if (sc < 0 || sc > p) {
        return lh_err_set(err, LH_EINVAL,
                          "DECIMAL scale %s is out of range 0..%lld", stext, p);
    }
    out->precision = (uint8_t)p;
    out->scale = (uint8_t)sc;
    return LH_OK;
}

static lh_rc
set_dim(lh_type *out, long long n, const char *ntext, lh_err *err)
{
    if (n < 1 || n > (long long)VECTOR_MAX_DIM) {
        return lh_err_set(err, LH_EINVAL,
                          "vector dimension %s is out of range 1..%u", ntext,
                          VECTOR_MAX_DIM);
    }
    out->dim = (uint32_t)n;
    return LH_OK;
}

/* The arguments after a known word: "(a)", "(a,b)" or "[a]". */
static lh_rc
parse_args(const char *s, size_t n, const char *args, uint8_t id,
           const char *word, lh_type *out, lh_err *err)
{
    char t1[24] = "";
    char t2[24] = "";
    long long a1 = 0;
    long long a2 = 0;
    int nargs = 0;
    const char *p = args;
    char open = *p++;
    char close = open == '(' ? ')' : ']';
    char expect[64];

    if (id == LH_T_DECIMAL) {
        snprintf(expect, sizeof(expect), "%s(p) or %s(p,s)", word, word);
    } else if (id == LH_T_VECTOR && open == '[') {
        snprintf(expect, sizeof(expect), "%s[n]", word);
    } else {
        snprintf(expect, sizeof(expect), "%s(n)", word);
    }
    if (!parse_arg(p, &p, &a1, t1)) {
        return bad_type(err, s, n, expect);
    }
    nargs = 1;
    if (*p == ',') {
        if (!parse_arg(p + 1, &p, &a2, t2)) {
            return bad_type(err, s, n, expect);
        }
        nargs = 2;
    }
    if (*p != close || p[1] != '\0') {
        return bad_type(err, s, n, expect);
    }
    if (id == LH_T_DECIMAL) {
        return set_decimal(out, a1, t1, nargs == 2 ? a2 : 0,
                           nargs == 2 ? t2 : "0", err);
    }
    if (nargs != 1) {
        return bad_type(err, s, n, expect);
    }
    if (id == LH_T_VARCHAR) {
        if (a1 < 1 || a1 > (long long)VARCHAR_MAX_LENGTH) {
            return lh_err_set(err, LH_EINVAL,
                              "VARCHAR length %s is out of range 1..%u", t1,
                              VARCHAR_MAX_LENGTH);
        }
        out->length = (uint32_t)a1;
        return LH_OK;
    }
    if (id == LH_T_DOUBLE && open == '(') {
        /* FLOAT(p), p in binary digits, as in PostgreSQL */
        if (a1 < 1 || a1 > 53) {
            return lh_err_set(err, LH_EINVAL,
                              "FLOAT precision %s is out of range 1..53", t1);
        }
        out->id = a1 <= 24 ? LH_T_REAL : LH_T_DOUBLE;
        return LH_OK;
    }
    return set_dim(out, a1, t1, err);
}

static lh_rc
parse(const char *s, size_t n, lh_type *out, lh_err *err)
{
    char norm[NAME_MAX_LEN + 1];
    if (!normalize(s, n, norm, sizeof(norm)) || norm[0] == '\0') {
        return bad_type(err, s, n, NULL);
    }
    size_t wl = strcspn(norm, "([");
    const char *args = norm + wl;
    for (size_t i = 0; i < LH_ARRAY_LEN(names); i++) {
        if (strlen(names[i].name) != wl ||
            memcmp(names[i].name, norm, wl) != 0) {
            continue;
        }
        uint8_t id = names[i].id;
        out->id = id;
        if (*args == '\0') {
            if (id == LH_T_DECIMAL) {
                out->precision = 18; /* DuckDB's default */
                out->scale = 3;
            } else if (id == LH_T_VECTOR) {
                return bad_type(err, s, n, "VECTOR(n)");
            }
            return LH_OK;
        }
        if (*args == '[' && (names[i].args & ARG_BRACKET)) {
            out->id = LH_T_VECTOR;
            return parse_args(s, n, args, LH_T_VECTOR, names[i].name, out, err);
        }
        if (*args == '(' && (names[i].args & ARG_PAREN)) {
            return parse_args(s, n, args, id, names[i].name, out, err);
        }
        break;
    }
    return bad_type(err, s, n, NULL);
}

lh_rc
lh_type_parse(const char *s, lh_type *out, lh_err *err)
{
    memset(out, 0, sizeof(*out));
    if (s == NULL) {
        return lh_err_set(err, LH_EINVAL, "missing type name");
    }
    size_t n = strlen(s);
    s = lh__trim(s, &n);
    lh_rc rc = parse(s, n, out, err);
    if (rc != LH_OK) {
        memset(out, 0, sizeof(*out));
    }
    return rc;
}

const char *
lh_type_name(lh_type t, char *buf)
{
    static const char *const plain[LH_T_COUNT_] = {
        [LH_T_NULL] = "NULL",
        [LH_T_BOOLEAN] = "BOOLEAN",
        [LH_T_SMALLINT] = "SMALLINT",
        [LH_T_INTEGER] = "INTEGER",
        [LH_T_BIGINT] = "BIGINT",
        [LH_T_REAL] = "REAL",
        [LH_T_DOUBLE] = "DOUBLE",
        [LH_T_DECIMAL] = "DECIMAL",
        [LH_T_VARCHAR] = "VARCHAR",
        [LH_T_BLOB] = "BLOB",
        [LH_T_DATE] = "DATE",
        [LH_T_TIME] = "TIME",
        [LH_T_TIMESTAMP] = "TIMESTAMP",
        [LH_T_TIMESTAMPTZ] = "TIMESTAMPTZ",
        [LH_T_INTERVAL] = "INTERVAL",
        [LH_T_UUID] = "UUID",
        [LH_T_JSON] = "JSON",
        [LH_T_VECTOR] = "FLOAT",
        [LH_T_LIST] = "LIST",
        [LH_T_STRUCT] = "STRUCT",
        [LH_T_MAP] = "MAP",
    };
    /* 40 bytes hold the longest: "FLOAT[4294967295]", "VARCHAR(4294967295)" */
    if (t.id >= LH_T_COUNT_) {
        snprintf(buf, 40, "UNKNOWN(%u)", (unsigned)t.id);
    } else if (t.id == LH_T_DECIMAL) {
        snprintf(buf, 40, "DECIMAL(%u,%u)", (unsigned)t.precision,
                 (unsigned)t.scale);
    } else if (t.id == LH_T_VARCHAR && t.length > 0) {
        snprintf(buf, 40, "VARCHAR(%u)", (unsigned)t.length);
    } else if (t.id == LH_T_VECTOR) {
        snprintf(buf, 40, "FLOAT[%u]", (unsigned)t.dim);
    } else {
        snprintf(buf, 40, "%s", plain[t.id]);
    }
    return buf;
}

bool
lh_type_equal(lh_type a, lh_type b)
{
    if (a.id != b.id) {
        return false;
    }
    switch (a.id) {
    case LH_T_DECIMAL:
        return a.precision == b.precision && a.scale == b.scale;
    case LH_T_VARCHAR:
        return a.length == b.length;
    case LH_T_VECTOR:
        return a.dim == b.dim;
    default:
        return true;
    }
}
