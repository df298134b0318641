/*
 * PostgreSQL's implicit cast rules, as the binder needs them: the cost of
 * an implicit cast (for overload resolution), the common type of two
 * types (CASE, UNION, IN, comparisons), and the DECIMAL type of an integer
 * type.
 *
 * The numeric ladder SMALLINT < INTEGER < BIGINT < DECIMAL < REAL < DOUBLE
 * and the temporal one DATE < TIMESTAMP < TIMESTAMPTZ cast upward
 * implicitly; an untyped literal (a string or a parameter) casts to
 * anything; NULL to anything for free. Everything else needs an explicit
 * CAST.
 */
#include "sql/types.h"

static int
numeric_rank(uint8_t id)
{
    switch (id) {
    case LH_T_SMALLINT:
        return 1;
    case LH_T_INTEGER:
        return 2;
    case LH_T_BIGINT:
        return 3;
    case LH_T_DECIMAL:
        return 4;
    case LH_T_REAL:
        return 5;
    case LH_T_DOUBLE:
        return 6;
    default:
        return 0;
    }
}

static int
temporal_rank(uint8_t id)
{
    switch (id) {
    case LH_T_DATE:
        return 1;
    case LH_T_TIMESTAMP:
        return 2;
    case LH_T_TIMESTAMPTZ:
        return 3;
    default:
        return 0;
    }
}

bool
lh_sql_is_integer(uint8_t id)
{
    return id == LH_T_SMALLINT || id == LH_T_INTEGER || id == LH_T_BIGINT;
}

bool
lh_sql_is_numeric(uint8_t id)
{
    return numeric_rank(id) > 0;
}

bool
lh_sql_is_string(uint8_t id)
{
    return id == LH_T_VARCHAR;
}

lh_type
lh_sql_type(uint8_t id)
{
    lh_type t = {.id = id};
    if (id == LH_T_DECIMAL) {
        t.precision = 18;
        t.scale = 3;
    }
    return t;
}

lh_type
lh_sql_decimal_of(lh_type t)
{
    switch (t.id) {
    case LH_T_SMALLINT:
        return (lh_type){.id = LH_T_DECIMAL, .precision = 5};
    case LH_T_INTEGER:
        return (lh_type){.id = LH_T_DECIMAL, .precision = 10};
    case LH_T_BIGINT:
        return (lh_type){.id = LH_T_DECIMAL, .precision = 19};
    default:
        return t;
    }
}

int
lh_sql_cast_cost(lh_type from, bool untyped, uint8_t to)
{
    if (from.id == to || to == LH_FN_ANY) {
        return 0;
    }
    if (from.id == LH_T_NULL) {
        return 0;
    }
    if (untyped) {
        /* a string literal: VARCHAR is its natural type */
        return to == LH_T_VARCHAR ? 0 : 1;
    }
    int a = numeric_rank(from.id), b = numeric_rank(to);
    if (a && b) {
        return b >= a ? b - a : -1;
    }
    a = temporal_rank(from.id);
    b = temporal_rank(to);
    if (a && b) {
        return b >= a ? b - a : -1;
    }
    /* JSON reads as text where text is wanted (->>, string functions) */
    if (from.id == LH_T_JSON && to == LH_T_VARCHAR) {
        return 2;
    }
    return -1;
}

static lh_type
decimal_union(lh_type a, lh_type b)
{
    a = lh_sql_decimal_of(a);
    b = lh_sql_decimal_of(b);
    int s = a.scale > b.scale ? a.scale : b.scale;
    int ia = a.precision - a.scale, ib = b.precision - b.scale;
    int p = (ia > ib ? ia : ib) + s;
    if (p > LH_DECIMAL_MAX_PRECISION) {
        p = LH_DECIMAL_MAX_PRECISION;
    }
    if (s > p) {
        s = p;
    }
    return (lh_type){
        .id = LH_T_DECIMAL, .precision = (uint8_t)p, .scale = (uint8_t)s};
}

bool
lh_sql_common_type(lh_type a, bool a_untyped, lh_type b, bool b_untyped,
                   lh_type *out)
{
    if (a.id == LH_T_NULL) {
        *out = b;
        return true;
    }
    if (b.id == LH_T_NULL) {
        *out = a;
        return true;
    }
    if (a_untyped && b_untyped) {
        *out = lh_sql_type(LH_T_VARCHAR);
        return true;
    }
    if (a_untyped) {
        *out = b;
        return true;
    }
    if (b_untyped) {
        *out = a;
        return true;
    }
    if (a.id == b.id) {
        if (a.id == LH_T_DECIMAL) {
            *out = decimal_union(a, b);
        } else if (a.id == LH_T_VARCHAR) {
            *out = lh_sql_type(LH_T_VARCHAR);
            if (a.length && b.length) {
                out->length = a.length > b.length ? a.length : b.length;
            }
        } else if (a.id == LH_T_VECTOR && a.dim != b.dim) {
            return false;
        } else {
            *out = a;
        }
        return true;
    }
    int ra = numeric_rank(a.id), rb = numeric_rank(b.id);
    if (ra && rb) {
        lh_type hi = ra > rb ? a : b;
        if (hi.id == LH_T_DECIMAL) {
            *out = decimal_union(a, b);
        } else {
            *out = lh_sql_type(hi.id);
        }
        return true;
    }
    ra = temporal_rank(a.id);
    rb = temporal_rank(b.id);
    if (ra && rb) {
        *out = lh_sql_type(ra > rb ? a.id : b.id);
        return true;
    }
    if ((a.id == LH_T_JSON && b.id == LH_T_VARCHAR) ||
        (a.id == LH_T_VARCHAR && b.id == LH_T_JSON)) {
        *out = lh_sql_type(LH_T_VARCHAR);
        return true;
    }
    return false;
}

const char *
lh_sql_type_text(lh_type t, char *buf)
{
    switch ((lh_type_id)t.id) {
    case LH_T_NULL:
        return "unknown";
    case LH_T_BOOLEAN:
        return "boolean";
    case LH_T_SMALLINT:
        return "smallint";
    case LH_T_INTEGER:
        return "integer";
    case LH_T_BIGINT:
        return "bigint";
    case LH_T_REAL:
        return "real";
    case LH_T_DOUBLE:
        return "double precision";
    case LH_T_DECIMAL:
        return "numeric"; /* PostgreSQL names types without their modifiers */
    case LH_T_VARCHAR:
        return t.length ? "character varying" : "text";
    case LH_T_BLOB:
        return "bytea";
    case LH_T_DATE:
        return "date";
    case LH_T_TIME:
        return "time without time zone";
    case LH_T_TIMESTAMP:
        return "timestamp without time zone";
    case LH_T_TIMESTAMPTZ:
        return "timestamp with time zone";
    case LH_T_INTERVAL:
        return "interval";
    case LH_T_UUID:
        return "uuid";
    case LH_T_JSON:
        return "json";
    case LH_T_VECTOR:
        return "vector";
    default:
        return lh_type_name(t, buf);
    }
}

/* [space][+-]digits[space]: an integer, whatever its size */
static bool
is_int_text(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t')) {
        i++;
    }
    if (i < n && (p[i] == '+' || p[i] == '-')) {
        i++;
    }
    size_t d = i;
    while (i < n && p[i] >= '0' && p[i] <= '9') {
        i++;
    }
    if (i == d) {
        return false;
    }
    while (i < n && (p[i] == ' ' || p[i] == '\t')) {
        i++;
    }
    return i == n;
}

void
lh_sql_input_error(lh_type t, const char *text, size_t len, const char *detail,
                   char *out, size_t cap)
{
    char tn[48];
    int shown = (int)(len > 64 ? 64 : len);
    bool integer =
        t.id == LH_T_SMALLINT || t.id == LH_T_INTEGER || t.id == LH_T_BIGINT;
    bool temporal = t.id == LH_T_DATE || t.id == LH_T_TIME ||
                    t.id == LH_T_TIMESTAMP || t.id == LH_T_TIMESTAMPTZ ||
                    t.id == LH_T_INTERVAL || t.id == LH_T_VECTOR;
    if (integer && is_int_text(text, len)) {
        snprintf(out, cap, "value \"%.*s\" is out of range for type %s", shown,
                 text, lh_sql_type_text(t, tn));
    } else if (temporal && detail && detail[0]) {
        /* the reader's message says which form it expects */
        snprintf(out, cap, "invalid input syntax for type %s: \"%.*s\" (%s)",
                 lh_sql_type_text(t, tn), shown, text, detail);
    } else {
        snprintf(out, cap, "invalid input syntax for type %s: \"%.*s\"",
                 lh_sql_type_text(t, tn), shown, text);
    }
}
