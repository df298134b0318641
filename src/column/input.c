/*
 * Values from text (PostgreSQL's input forms) and from JSON (jansson).
 *
 * Both check what they read against the type: integer ranges, DECIMAL
 * digits (never rounded), VARCHAR(n) in characters, calendar dates, vector
 * lengths. Every failure is LH_EINVAL (DECIMAL overflow included: to the
 * caller it is one more bad value) with a message that says what was
 * expected and what was found; the caller prefixes the field name.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "column/column_int.h"

/* ---- shared checks ------------------------------------------------------- */

static lh_rc
nomem(lh_err *err)
{
    return lh_err_set(err, LH_ENOMEM, "out of memory");
}

/* s[0..n) and a NUL in the arena (lh_arena_strndup would stop at a NUL
 * inside) */
static char *
arena_copy(lh_arena *a, const char *s, size_t n)
{
    char *d = lh_arena_alloc(a, n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void
int_range(uint8_t id, int64_t *min, int64_t *max)
{
    if (id == LH_T_SMALLINT) {
        *min = INT16_MIN;
        *max = INT16_MAX;
    } else if (id == LH_T_INTEGER) {
        *min = INT32_MIN;
        *max = INT32_MAX;
    } else {
        *min = INT64_MIN;
        *max = INT64_MAX;
    }
}

typedef enum num_rc { NUM_OK, NUM_BAD, NUM_RANGE, NUM_NOMEM } num_rc;

/* "[+-]digits" (already trimmed) into int64 */
static num_rc
parse_i64(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    int64_t v = 0; /* accumulated negative: INT64_MIN has no positive */
    *out = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    if (i == n) {
        return NUM_BAD;
    }
    bool range = false;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return NUM_BAD;
        }
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_sub_overflow(v, s[i] - '0', &v)) {
            range = true; /* keep checking the syntax */
        }
    }
    if (range || (!neg && v == INT64_MIN)) {
        return NUM_RANGE;
    }
    *out = neg ? v : -v;
    return NUM_OK;
}

/* PostgreSQL's parse_bool: prefixes of true/false/yes/no, on/off, 1/0 */
static bool
parse_bool(const char *s, size_t n, bool *out)
{
    static const struct {
        const char *word;
        size_t min;
        bool val;
    } words[] = {
        {"true", 1, true}, {"false", 1, false}, {"yes", 1, true},
        {"no", 1, false},  {"on", 2, true},     {"off", 2, false},
        {"1", 1, true},    {"0", 1, false},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(words); i++) {
        size_t wl = strlen(words[i].word);
        if (n >= words[i].min && n <= wl &&
            strncasecmp(s, words[i].word, n) == 0) {
            *out = words[i].val;
            return true;
        }
    }
    return false;
}

/* "NaN", "Infinity", "-Infinity" and PostgreSQL's other spellings */
static bool
special_double(const char *s, size_t n, double *out)
{
    if (lh__eq_nocase(s, n, "nan")) {
        *out = NAN;
        return true;
    }
    const char *p = s;
    size_t k = n;
    bool neg = false;
    if (k > 0 && (p[0] == '+' || p[0] == '-')) {
        neg = p[0] == '-';
        p++;
        k--;
    }
    if (lh__eq_nocase(p, k, "infinity") || lh__eq_nocase(p, k, "inf")) {
        *out = neg ? -INFINITY : INFINITY;
        return true;
    }
    return false;
}

/* A double or float literal (trimmed) with strtod/strtof rules, as
 * PostgreSQL's float8in/float4in. */
static num_rc
parse_float(const char *s, size_t n, bool single, double *out)
{
    char small[64];
    char *tmp = small;
    num_rc rc = NUM_OK;

    *out = 0;
    if (special_double(s, n, out)) {
        return NUM_OK;
    }
    if (n == 0) {
        return NUM_BAD;
    }
    if (n >= sizeof(small)) {
        tmp = lh_malloc(n + 1);
        if (tmp == NULL) {
            return NUM_NOMEM;
        }
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end = NULL;
    errno = 0;
    locale_t old = lh__c_locale_enter();
    double d = single ? (double)strtof(tmp, &end) : strtod(tmp, &end);
    lh__c_locale_leave(old);
    if (end != tmp + n || isnan(d) || isinf(d)) {
        /* strtod's own nan/inf spellings are not ours */
        rc = (end == tmp + n && isinf(d) && errno == ERANGE) ? NUM_RANGE
                                                             : NUM_BAD;
    } else if (errno == ERANGE && d == 0) {
        rc = NUM_RANGE; /* underflow to zero; subnormals are fine */
    }
    if (tmp != small) {
        lh_free(tmp);
    }
    *out = rc == NUM_OK ? d : 0;
    return rc;
}

/* "\x0aff": hex pairs after \x, whitespace allowed between pairs (as
 * PostgreSQL's bytea input); out has room for (n - 2) / 2 bytes */
static bool
hex_decode(const char *s, size_t n, unsigned char *out, size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 2; i < n;) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            i++;
            continue;
        }
        if (i + 1 >= n) {
            return false;
        }
        int hi = lh_hex_digit(c);
        int lo = lh_hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out[o++] = (unsigned char)(hi << 4 | lo);
        i += 2;
    }
    *outlen = o;
    return true;
}

/* PostgreSQL's bytea escape format: bytes as they are, "\\" for a
 * backslash, "\ooo" octal; out has room for n bytes */
static bool
escape_decode(const char *s, size_t n, unsigned char *out, size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\') {
            out[o++] = (unsigned char)s[i++];
        } else if (i + 1 < n && s[i + 1] == '\\') {
            out[o++] = '\\';
            i += 2;
        } else if (i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
                   s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' &&
                   s[i + 3] <= '7') {
            out[o++] =
                (unsigned char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 |
                                (s[i + 3] - '0'));
            i += 4;
        } else {
            return false;
        }
    }
    *outlen = o;
    return true;
}

static int
b64_val(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

/* Standard base64 (RFC 4648 section 4), padded or not; out has room for
 * n * 3 / 4 bytes */
static bool
b64_decode(const char *s, size_t n, unsigned char *out, size_t *outlen)
{
    size_t pad = 0;
    while (n > 0 && s[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    if (n % 4 == 1 || (pad > 0 && (n + pad) % 4 != 0)) {
        return false;
    }
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_val(s[i]);
        if (v < 0) {
            return false;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    *outlen = o;
    return true;
}

static bool
is_hex_blob(const char *s, size_t n)
{
    return n >= 2 && s[0] == '\\' && (s[1] == 'x' || s[1] == 'X');
}

typedef enum blob_form { BLOB_TEXT, BLOB_JSON } blob_form;

/* BLOB from "\x..." hex, else escape format (text) or base64 (JSON) */
static bool
blob_decode(const char *s, size_t n, blob_form form, lh_arena *a, lh_value *out,
            bool *oom)
{
    unsigned char *buf = lh_arena_alloc(a, n + 1);
    size_t len = 0;
    bool ok = false;
    *oom = buf == NULL;
    if (buf == NULL) {
        return false;
    }
    if (is_hex_blob(s, n)) {
        ok = hex_decode(s, n, buf, &len);
    } else if (form == BLOB_TEXT) {
        ok = escape_decode(s, n, buf, &len);
    } else {
        ok = b64_decode(s, n, buf, &len);
    }
    out->u.s.p = (const char *)buf;
    out->u.s.len = len;
    return ok;
}

/* VARCHAR: valid UTF-8, no NUL (PostgreSQL's text cannot hold one), at
 * most t.length characters */
static lh_rc
varchar_value(lh_type t, const char *s, size_t n, lh_arena *a, lh_value *out,
              lh_err *err)
{
    char q[LH__QUOTE_SIZE];
    char tn[40];
    if (!lh_utf8_valid(s, n)) {
        return lh_err_set(err, LH_EINVAL, "invalid UTF-8 in string %s",
                          lh__quote(q, s, n));
    }
    if (memchr(s, '\0', n) != NULL) {
        return lh_err_set(err, LH_EINVAL,
                          "string %s contains a NUL character (\\u0000)",
                          lh__quote(q, s, n));
    }
    if (t.length > 0) {
        size_t chars = lh__utf8_chars(s, n);
        if (chars > t.length) {
            return lh_err_set(err, LH_EINVAL,
                              "string of %zu characters is longer than %s",
                              chars, lh_type_name(t, tn));
        }
    }
    char *copy = arena_copy(a, s, n);
    if (copy == NULL) {
        return nomem(err);
    }
    out->u.s.p = copy;
    out->u.s.len = n;
    return LH_OK;
}

/* ---- from text ----------------------------------------------------------- */

static lh_rc
blob_text(const char *s, size_t n, lh_arena *a, lh_value *out, lh_err *err)
{
    char q[LH__QUOTE_SIZE];
    bool oom = false;
    if (blob_decode(s, n, BLOB_TEXT, a, out, &oom)) {
        return LH_OK;
    }
    out->u.s.p = NULL;
    out->u.s.len = 0;
    if (oom) {
        return nomem(err);
    }
    return lh_err_set(err, LH_EINVAL,
                      "invalid BLOB %s: expected \"\\x\" and hex digits, or "
                      "bytes with \"\\\\\" and \"\\ooo\" escapes",
                      lh__quote(q, s, n));
}

static lh_rc
invalid_text(lh_err *err, lh_type t, const char *s, size_t n)
{
    char q[LH__QUOTE_SIZE];
    char tn[40];
    return lh_err_set(err, LH_EINVAL, "invalid %s %s", lh_type_name(t, tn),
                      lh__quote(q, s, n));
}

static lh_rc
range_text(lh_err *err, lh_type t, const char *s, size_t n)
{
    char q[LH__QUOTE_SIZE];
    char tn[40];
    return lh_err_set(err, LH_EINVAL, "value %s is out of range for %s",
                      lh__quote(q, s, n), lh_type_name(t, tn));
}

/* Checks a double for REAL: finite values must survive the narrowing. */
static bool
fits_real(double d)
{
    float f = (float)d;
    return !isfinite(d) || (isfinite(f) && (f != 0 || d == 0));
}

/* pgvector's input: "[1, 2.5, -3e-2]", exactly t.dim finite numbers */
static lh_rc
vector_text(lh_type t, const char *s, size_t n, lh_arena *a, lh_value *out,
            lh_err *err)
{
    char q[LH__QUOTE_SIZE];
    char tn[40];
    if (n < 2 || s[0] != '[' || s[n - 1] != ']') {
        return lh_err_set(err, LH_EINVAL,
                          "invalid %s %s: expected \"[x,y,...]\"",
                          lh_type_name(t, tn), lh__quote(q, s, n));
    }
    char *tmp = lh_malloc(n + 1);
    if (tmp == NULL) {
        return nomem(err);
    }
    memcpy(tmp, s, n);
    tmp[n - 1] = '\0'; /* drop the ']' */
    /* count first, then parse into an array of that size */
    uint32_t count = 0;
    float *v = NULL;
    lh_rc rc = LH_OK;
    locale_t old = lh__c_locale_enter();
    for (int pass = 0; pass < 2 && rc == LH_OK; pass++) {
        char *p = tmp + 1;
        uint32_t i = 0;
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        while (*p != '\0') {
            char *end = NULL;
            errno = 0;
            float f = strtof(p, &end);
            if (end == p || !isfinite(f) || errno == ERANGE) {
                rc = lh_err_set(err, LH_EINVAL,
                                "invalid %s %s: element %u is not a finite "
                                "number",
                                lh_type_name(t, tn), lh__quote(q, s, n), i);
                break;
            }
            if (v != NULL && i < count) {
                v[i] = f;
            }
            i++;
            p = end;
            while (*p == ' ' || *p == '\t') {
                p++;
            }
            if (*p == ',') {
                p++;
                if (*p == '\0') {
                    rc = lh_err_set(err, LH_EINVAL,
                                    "invalid %s %s: expected a number after "
                                    "','",
                                    lh_type_name(t, tn), lh__quote(q, s, n));
                    break;
                }
            } else if (*p != '\0') {
                rc = lh_err_set(err, LH_EINVAL,
                                "invalid %s %s: expected ',' or ']'",
                                lh_type_name(t, tn), lh__quote(q, s, n));
                break;
            }
        }
        if (rc != LH_OK || pass == 1) {
            break;
        }
        count = i;
        if (count == 0 || (t.dim > 0 && count != t.dim)) {
            rc = lh_err_set(err, LH_EINVAL, "expected %s, found %u elements",
                            lh_type_name(t, tn), count);
            break;
        }
        v = lh_arena_alloc(a, count * sizeof(float));
        if (v == NULL) {
            rc = nomem(err);
        }
    }
    lh__c_locale_leave(old);
    lh_free(tmp);
    if (rc == LH_OK) {
        out->u.vec.v = v;
        out->u.vec.n = count;
    }
    return rc;
}

static lh_rc
json_text(const char *s, size_t n, lh_arena *a, lh_value *out, lh_err *err)
{
    char q[LH__QUOTE_SIZE];
    json_error_t jerr;
    if (memchr(s, '\0', n) != NULL) {
        /* jansson would stop reading there */
        return lh_err_set(err, LH_EINVAL, "invalid JSON %s: a NUL byte",
                          lh__quote(q, s, n));
    }
    json_t *j = json_loadb(s, n, JSON_DECODE_ANY, &jerr);
    if (j == NULL) {
        return lh_err_set(err, LH_EINVAL, "invalid JSON %s: %s",
                          lh__quote(q, s, n), jerr.text);
    }
    json_decref(j);
    char *copy = arena_copy(a, s, n);
    if (copy == NULL) {
        return nomem(err);
    }
    out->u.s.p = copy;
    out->u.s.len = n;
    return LH_OK;
}

static lh_rc
from_text(lh_type t, const char *raw, size_t rawlen, lh_arena *a, lh_value *out,
          lh_err *err)
{
    size_t n = rawlen;
    const char *s = lh__trim(raw, &n);
    int64_t min = 0;
    int64_t max = 0;

    switch ((lh_type_id)t.id) {
    case LH_T_BOOLEAN:
        if (!parse_bool(s, n, &out->u.b)) {
            return invalid_text(err, t, s, n);
        }
        return LH_OK;
    case LH_T_SMALLINT:
    case LH_T_INTEGER:
    case LH_T_BIGINT: {
        int_range(t.id, &min, &max);
        num_rc r = parse_i64(s, n, &out->u.i);
        if (r == NUM_BAD) {
            return invalid_text(err, t, s, n);
        }
        if (r == NUM_RANGE || out->u.i < min || out->u.i > max) {
            out->u.i = 0;
            return range_text(err, t, s, n);
        }
        return LH_OK;
    }
    case LH_T_REAL:
    case LH_T_DOUBLE: {
        num_rc r = parse_float(s, n, t.id == LH_T_REAL, &out->u.d);
        if (r == NUM_NOMEM) {
            return nomem(err);
        }
        if (r == NUM_BAD) {
            return invalid_text(err, t, s, n);
        }
        if (r == NUM_RANGE) {
            return range_text(err, t, s, n);
        }
        return LH_OK;
    }
    case LH_T_DECIMAL: {
        lh_rc rc =
            lh_decimal_parse(s, n, t.precision, t.scale, &out->u.dec, err);
        if (rc == LH_ELIMIT && err != NULL) {
            err->code = LH_EINVAL;
        }
        return rc == LH_ELIMIT ? LH_EINVAL : rc;
    }
    case LH_T_VARCHAR:
        return varchar_value(t, raw, rawlen, a, out, err);
    case LH_T_BLOB:
        return blob_text(raw, rawlen, a, out, err);
    case LH_T_DATE:
        return lh__date_parse(s, n, &out->u.i, err);
    case LH_T_TIME:
        return lh__time_parse(s, n, &out->u.i, err);
    case LH_T_TIMESTAMP:
    case LH_T_TIMESTAMPTZ:
        return lh__timestamp_parse(s, n, t.id == LH_T_TIMESTAMPTZ, &out->u.i,
                                   err);
    case LH_T_INTERVAL:
        return lh__interval_parse(s, n, &out->u.iv, err);
    case LH_T_UUID:
        if (lh_uuid_parse(s, n, &out->u.uuid, NULL) != LH_OK) {
            return invalid_text(err, t, s, n);
        }
        return LH_OK;
    case LH_T_JSON:
        return json_text(raw, rawlen, a, out, err);
    case LH_T_VECTOR:
        return vector_text(t, s, n, a, out, err);
    case LH_T_NULL:
        return lh_err_set(err, LH_EINVAL, "a NULL-typed value has no text");
    case LH_T_LIST:
    case LH_T_STRUCT:
    case LH_T_MAP:
    case LH_T_COUNT_:
        break;
    }
    return lh_err_set(err, LH_EINVAL, "unknown type id %u", (unsigned)t.id);
}

lh_rc
lh_value_from_text(lh_type t, const char *s, size_t len, lh_arena *a,
                   lh_value *out, lh_err *err)
{
    memset(out, 0, sizeof(*out));
    out->type = t;
    lh_rc rc = from_text(t, s, len, a, out, err);
    if (rc != LH_OK) {
        memset(&out->u, 0, sizeof(out->u));
    }
    return rc;
}

/* ---- from JSON ----------------------------------------------------------- */

/* "string \"abc\"", "number 1.5", "an array of 2 elements", ... */
static const char *
describe(const json_t *j, char *buf, size_t cap)
{
    char q[LH__QUOTE_SIZE];
    char num[32];
    switch (json_typeof(j)) {
    case JSON_STRING:
        snprintf(buf, cap, "string %s",
                 lh__quote(q, json_string_value(j), json_string_length(j)));
        break;
    case JSON_INTEGER:
        snprintf(buf, cap, "number %" JSON_INTEGER_FORMAT,
                 json_integer_value(j));
        break;
    case JSON_REAL:
        lh_double_format(json_real_value(j), num);
        snprintf(buf, cap, "number %s", num);
        break;
    case JSON_TRUE:
        snprintf(buf, cap, "true");
        break;
    case JSON_FALSE:
        snprintf(buf, cap, "false");
        break;
    case JSON_NULL:
        snprintf(buf, cap, "null");
        break;
    case JSON_OBJECT:
        snprintf(buf, cap, "an object");
        break;
    case JSON_ARRAY:
        snprintf(buf, cap, "an array of %zu element%s", json_array_size(j),
                 json_array_size(j) == 1 ? "" : "s");
        break;
    }
    return buf;
}

static lh_rc
mismatch(lh_err *err, lh_type t, const json_t *j)
{
    char tn[40];
    char what[LH__QUOTE_SIZE + 16];
    return lh_err_set(err, LH_EINVAL, "expected %s, found %s",
                      lh_type_name(t, tn), describe(j, what, sizeof(what)));
}

static lh_rc
range_json(lh_err *err, lh_type t, const json_t *j)
{
    char tn[40];
    char what[LH__QUOTE_SIZE + 16];
    /* "value 70000", not "value number 70000" */
    const char *d = describe(j, what, sizeof(what));
    if (strncmp(d, "number ", 7) == 0) {
        d += 7;
    } else if (strncmp(d, "string ", 7) == 0) {
        d += 7;
    }
    return lh_err_set(err, LH_EINVAL, "value %s is out of range for %s", d,
                      lh_type_name(t, tn));
}

/* A JSON number that is a whole number: integers, and reals like 1e3. */
static bool
json_whole(const json_t *j, int64_t *out, bool *range)
{
    *range = false;
    if (json_is_integer(j)) {
        *out = json_integer_value(j);
        return true;
    }
    if (json_is_real(j)) {
        double d = json_real_value(j);
        if (d != floor(d)) {
            return false;
        }
        /* 2^63 is the first double past INT64_MAX */
        if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) {
            *range = true;
            return true;
        }
        *out = (int64_t)d;
        return true;
    }
    return false;
}

static lh_rc
int_json(lh_type t, const json_t *j, lh_value *out, lh_err *err)
{
    int64_t min = 0;
    int64_t max = 0;
    bool range = false;
    int_range(t.id, &min, &max);
    if (json_is_string(j) && t.id == LH_T_BIGINT) {
        /* big integers travel as strings: JavaScript loses them past 2^53 */
        num_rc r =
            parse_i64(json_string_value(j), json_string_length(j), &out->u.i);
        if (r == NUM_BAD) {
            return mismatch(err, t, j);
        }
        if (r == NUM_RANGE) {
            return range_json(err, t, j);
        }
        return LH_OK;
    }
    if (!json_whole(j, &out->u.i, &range)) {
        return mismatch(err, t, j);
    }
    if (range || out->u.i < min || out->u.i > max) {
        out->u.i = 0;
        return range_json(err, t, j);
    }
    return LH_OK;
}

static lh_rc
float_json(lh_type t, const json_t *j, lh_value *out, lh_err *err)
{
    double d = 0;
    if (json_is_integer(j)) {
        d = (double)json_integer_value(j);
    } else if (json_is_real(j)) {
        d = json_real_value(j);
    } else if (!json_is_string(j) ||
               !special_double(json_string_value(j), json_string_length(j),
                               &d)) {
        return mismatch(err, t, j);
    }
    if (t.id == LH_T_REAL) {
        if (!fits_real(d)) {
            return range_json(err, t, j);
        }
        d = (double)(float)d;
    }
    out->u.d = d;
    return LH_OK;
}

static lh_rc
decimal_json(lh_type t, const json_t *j, lh_value *out, lh_err *err)
{
    char num[40];
    const char *s = num;
    size_t n = 0;
    if (json_is_integer(j)) {
        n = (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                             json_integer_value(j));
    } else if (json_is_real(j)) {
        /* the shortest text of the double is what the sender meant */
        n = lh_double_format(json_real_value(j), num);
    } else if (json_is_string(j)) {
        s = json_string_value(j);
        n = json_string_length(j);
    } else {
        return mismatch(err, t, j);
    }
    lh_rc rc = lh_decimal_parse(s, n, t.precision, t.scale, &out->u.dec, err);
    if (rc == LH_EINVAL && json_is_string(j)) {
        return mismatch(err, t, j);
    }
    if (rc == LH_ELIMIT) {
        if (json_is_real(j) && t.precision > DBL_DIG) {
            lh_err_set(err, LH_EINVAL,
                       "value %s is out of range for DECIMAL(%u,%u) (a JSON "
                       "number holds about %d digits: send values with more "
                       "as strings, such as \"123.45\")",
                       num, (unsigned)t.precision, (unsigned)t.scale, DBL_DIG);
        } else if (err != NULL) {
            err->code = LH_EINVAL;
        }
        return LH_EINVAL;
    }
    return rc;
}

/* BLOB from "\x..." hex or standard base64 */
static lh_rc
blob_json(lh_type t, const json_t *j, lh_arena *a, lh_value *out, lh_err *err)
{
    bool oom = false;
    if (!json_is_string(j)) {
        return mismatch(err, t, j);
    }
    if (!blob_decode(json_string_value(j), json_string_length(j), BLOB_JSON, a,
                     out, &oom)) {
        out->u.s.p = NULL;
        out->u.s.len = 0;
        if (oom) {
            return nomem(err);
        }
        char what[LH__QUOTE_SIZE + 16];
        return lh_err_set(err, LH_EINVAL,
                          "expected BLOB as \"\\\\x\" and hex digits or as "
                          "base64, found %s",
                          describe(j, what, sizeof(what)));
    }
    return LH_OK;
}

static lh_rc
vector_json(lh_type t, const json_t *j, lh_arena *a, lh_value *out, lh_err *err)
{
    char tn[40];
    char what[LH__QUOTE_SIZE + 16];
    if (!json_is_array(j)) {
        return mismatch(err, t, j);
    }
    size_t n = json_array_size(j);
    if (n == 0 || (t.dim > 0 && n != t.dim)) {
        return mismatch(err, t, j);
    }
    if (n > UINT32_MAX) {
        return mismatch(err, t, j);
    }
    float *v = lh_arena_alloc(a, n * sizeof(float));
    if (v == NULL) {
        return nomem(err);
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(j, i);
        double d = 0;
        if (json_is_integer(e)) {
            d = (double)json_integer_value(e);
        } else if (json_is_real(e)) {
            d = json_real_value(e);
        } else {
            return lh_err_set(err, LH_EINVAL,
                              "element %zu of %s is not a finite number: "
                              "found %s",
                              i, lh_type_name(t, tn),
                              describe(e, what, sizeof(what)));
        }
        if (!isfinite((float)d)) {
            return lh_err_set(err, LH_EINVAL,
                              "element %zu of %s is out of range for REAL: "
                              "found %s",
                              i, lh_type_name(t, tn),
                              describe(e, what, sizeof(what)));
        }
        v[i] = (float)d;
    }
    out->u.vec.v = v;
    out->u.vec.n = (uint32_t)n;
    return LH_OK;
}

/* Compact JSON text, like json_dumps(JSON_COMPACT | JSON_ENCODE_ANY) but
 * with reals in the shortest form (jansson prints 0.1 as
 * 0.10000000000000001); a real that prints as a whole number keeps a
 * ".0" so that it reads back as a real. */
static void
dump_json(lh_buf *b, const json_t *j)
{
    char num[40];
    size_t n = 0;
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        json_t *o = (json_t *)j; /* jansson's iterators are not const */
        bool first = true;
        lh_buf_putc(b, '{');
        for (void *it = json_object_iter(o); it != NULL;
             it = json_object_iter_next(o, it)) {
            if (!first) {
                lh_buf_putc(b, ',');
            }
            first = false;
            lh_buf_json_string(b, json_object_iter_key(it),
                               json_object_iter_key_len(it));
            lh_buf_putc(b, ':');
            dump_json(b, json_object_iter_value(it));
        }
        lh_buf_putc(b, '}');
        break;
    }
    case JSON_ARRAY:
        lh_buf_putc(b, '[');
        for (size_t i = 0; i < json_array_size(j); i++) {
            if (i > 0) {
                lh_buf_putc(b, ',');
            }
            dump_json(b, json_array_get(j, i));
        }
        lh_buf_putc(b, ']');
        break;
    case JSON_STRING:
        lh_buf_json_string(b, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        lh_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        break;
    case JSON_REAL:
        n = lh_double_format(json_real_value(j), num);
        lh_buf_append(b, num, n);
        if (strpbrk(num, ".e") == NULL) {
            lh_buf_puts(b, ".0");
        }
        break;
    case JSON_TRUE:
        lh_buf_puts(b, "true");
        break;
    case JSON_FALSE:
        lh_buf_puts(b, "false");
        break;
    case JSON_NULL:
        lh_buf_puts(b, "null");
        break;
    }
}

static lh_rc
json_json(const json_t *j, lh_arena *a, lh_value *out, lh_err *err)
{
    lh_buf b = LH_BUF_INIT;
    dump_json(&b, j);
    if (!lh_buf_ok(&b)) {
        lh_buf_release(&b);
        return nomem(err);
    }
    char *copy = arena_copy(a, b.data, b.len);
    size_t len = b.len;
    lh_buf_release(&b);
    if (copy == NULL) {
        return nomem(err);
    }
    out->u.s.p = copy;
    out->u.s.len = len;
    return LH_OK;
}

static lh_rc
from_json(lh_type t, const json_t *j, lh_arena *a, lh_value *out, lh_err *err)
{
    if (lh__json_as_text(t.id)) {
        if (!json_is_string(j)) {
            return mismatch(err, t, j);
        }
        return from_text(t, json_string_value(j), json_string_length(j), a, out,
                         err);
    }
    switch ((lh_type_id)t.id) {
    case LH_T_BOOLEAN:
        if (!json_is_boolean(j)) {
            return mismatch(err, t, j);
        }
        out->u.b = json_is_true(j);
        return LH_OK;
    case LH_T_SMALLINT:
    case LH_T_INTEGER:
    case LH_T_BIGINT:
        return int_json(t, j, out, err);
    case LH_T_REAL:
    case LH_T_DOUBLE:
        return float_json(t, j, out, err);
    case LH_T_DECIMAL:
        return decimal_json(t, j, out, err);
    case LH_T_VARCHAR:
        if (!json_is_string(j)) {
            return mismatch(err, t, j);
        }
        return varchar_value(t, json_string_value(j), json_string_length(j), a,
                             out, err);
    case LH_T_BLOB:
        return blob_json(t, j, a, out, err);
    case LH_T_JSON:
        return json_json(j, a, out, err);
    case LH_T_VECTOR:
        return vector_json(t, j, a, out, err);
    case LH_T_NULL:
        return mismatch(err, t, j);
    default:
        break;
    }
    return lh_err_set(err, LH_EINVAL, "unknown type id %u", (unsigned)t.id);
}

lh_rc
lh_value_from_json(lh_type t, const json_t *j, lh_arena *a, lh_value *out,
                   lh_err *err)
{
    memset(out, 0, sizeof(*out));
    out->type = t;
    if (j == NULL || json_is_null(j)) {
        out->is_null = true;
        return LH_OK;
    }
    lh_rc rc = from_json(t, j, a, out, err);
    if (rc != LH_OK) {
        memset(&out->u, 0, sizeof(out->u));
    }
    return rc;
}
