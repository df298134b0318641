/*
 * `lakehouse parquet write`: a Parquet file from a CSV or NDJSON file
 * (lh_parquet_write in lakehouse.h).
 *
 * CSV is read as output-formats.md writes it (RFC 4180 with a header row;
 * quoted fields with "" escapes, CRLF or LF; an empty unquoted field is
 * NULL, "" the empty string), so `parquet cat --format csv` output comes
 * back as the same values. NDJSON is one JSON object a line (duplicate keys
 * refused); keys are columns, a missing key is NULL.
 *
 * Without a schema the input is read twice: the first pass infers each
 * column's type from its non-NULL values, the second writes. CSV fields:
 * BIGINT when every value is an integer, else DOUBLE when every value is a
 * number (also NaN, Infinity, -Infinity), else BOOLEAN (true/false), else
 * DATE (YYYY-MM-DD), else TIMESTAMP for dates and date-times, TIMESTAMPTZ
 * when one of them has a zone (Z or an offset), else VARCHAR. NDJSON:
 * integers BIGINT, numbers DOUBLE (the strings NaN and +-Infinity count as
 * numbers among numbers), booleans BOOLEAN, strings as CSV text but never
 * numbers or booleans, arrays and objects JSON, and a column mixing kinds
 * JSON. Columns in first-seen order, all nullable; a column with no value
 * is VARCHAR.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "format/parquet/codec.h"
#include "format/parquet/writer.h"

enum { IN_CSV, IN_NDJSON };

typedef struct input {
    const char *path;
    int kind;
    const char *p; /* the whole file */
    size_t len;
    void *map;
    size_t map_len;
    char *heap;
} input;

static lh_rc
nomem(lh_err *err)
{
    return lh_err_set(err, LH_ENOMEM, "out of memory");
}

static const char *
ext_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    return dot ? dot + 1 : "";
}

static lh_rc
input_open(input *in, const char *path, lh_err *err)
{
    memset(in, 0, sizeof *in);
    in->path = path;
    const char *ext = ext_of(path);
    if (strcasecmp(ext, "csv") == 0) {
        in->kind = IN_CSV;
    } else if (strcasecmp(ext, "ndjson") == 0 ||
               strcasecmp(ext, "jsonl") == 0 || strcasecmp(ext, "json") == 0) {
        in->kind = IN_NDJSON;
    } else {
        return lh_err_set(err, LH_EINVAL,
                          "cannot tell the format of \"%s\": name it .csv, "
                          ".ndjson, .jsonl or .json",
                          path);
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return lh_err_sys(err, e == ENOENT ? LH_ENOENT : LH_EIO, e,
                          "cannot open \"%s\"", path);
    }
    struct stat st;
    lh_rc rc = LH_OK;
    if (fstat(fd, &st) != 0) {
        rc = lh_err_sys(err, LH_EIO, errno, "cannot stat \"%s\"", path);
    } else if (S_ISREG(st.st_mode) && st.st_size > 0) {
        in->map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (in->map == MAP_FAILED) {
            in->map = NULL;
            rc = lh_err_sys(err, LH_EIO, errno, "cannot map \"%s\"", path);
        } else {
            in->map_len = (size_t)st.st_size;
            in->p = in->map;
            in->len = in->map_len;
        }
    } else {
        /* A pipe or an empty file: read what there is. */
        lh_buf b;
        lh_buf_init(&b);
        char chunk[65536];
        for (;;) {
            ssize_t k = read(fd, chunk, sizeof chunk);
            if (k < 0 && errno == EINTR) {
                continue;
            }
            if (k < 0) {
                rc = lh_err_sys(err, LH_EIO, errno, "cannot read \"%s\"", path);
                break;
            }
            if (k == 0) {
                break;
            }
            lh_buf_append(&b, chunk, (size_t)k);
        }
        if (rc == LH_OK && !lh_buf_ok(&b)) {
            rc = nomem(err);
        }
        if (rc == LH_OK) {
            in->heap = lh_buf_take(&b, &in->len);
            in->p = in->heap ? in->heap : "";
        }
        lh_buf_release(&b);
    }
    close(fd);
    return rc;
}

static void
input_close(input *in)
{
    if (in->map) {
        munmap(in->map, in->map_len);
    }
    lh_free(in->heap);
    memset(in, 0, sizeof *in);
}

/* ---- CSV ---------------------------------------------------------------- */

typedef struct csv {
    const char *path;
    const char *p, *end;
    uint64_t line;     /* of p, from 1 */
    uint64_t rec_line; /* where the current record starts */
    lh_buf text;       /* the current record's fields, unescaped */
    size_t *off, *len;
    bool *quoted;
    uint32_t nf, cap;
} csv;

static void
csv_init(csv *r, const input *in)
{
    memset(r, 0, sizeof *r);
    r->path = in->path;
    r->p = in->p;
    r->end = in->p + in->len;
    r->line = 1;
    if (r->end - r->p >= 3 && memcmp(r->p, "\xEF\xBB\xBF", 3) == 0) {
        r->p += 3; /* a UTF-8 byte order mark */
    }
}

static void
csv_release(csv *r)
{
    lh_buf_release(&r->text);
    lh_free(r->off);
    lh_free(r->len);
    lh_free(r->quoted);
}

static bool
csv_add_field(csv *r, size_t off, bool quoted)
{
    if (r->nf == r->cap) {
        uint32_t nc = r->cap ? r->cap * 2 : 16;
        size_t *o = lh_realloc(r->off, nc * sizeof *o);
        if (o == NULL) {
            return false;
        }
        r->off = o;
        size_t *l = lh_realloc(r->len, nc * sizeof *l);
        if (l == NULL) {
            return false;
        }
        r->len = l;
        bool *q = lh_realloc(r->quoted, nc * sizeof *q);
        if (q == NULL) {
            return false;
        }
        r->quoted = q;
        r->cap = nc;
    }
    r->off[r->nf] = off;
    r->len[r->nf] = r->text.len - off;
    r->quoted[r->nf] = quoted;
    r->nf++;
    return true;
}

/* The next record's fields: 1, 0 at the end of the input, -1 on error. */
static int
csv_next(csv *r, lh_err *err)
{
    if (r->p >= r->end) {
        return 0;
    }
    r->rec_line = r->line;
    r->nf = 0;
    lh_buf_reset(&r->text);
    for (;;) {
        size_t off = r->text.len;
        bool quoted = false;
        if (r->p < r->end && *r->p == '"') {
            quoted = true;
            r->p++;
            for (;;) {
                if (r->p >= r->end) {
                    lh_err_set(err, LH_EINVAL,
                               "\"%s\" line %llu: a quoted field does not "
                               "end",
                               r->path, (unsigned long long)r->rec_line);
                    return -1;
                }
                const char *q = memchr(r->p, '"', (size_t)(r->end - r->p));
                const char *stop = q ? q : r->end;
                for (const char *s = r->p; s < stop; s++) {
                    r->line += *s == '\n';
                }
                lh_buf_append(&r->text, r->p, (size_t)(stop - r->p));
                r->p = stop;
                if (q == NULL) {
                    continue; /* reports the unterminated field */
                }
                if (q + 1 < r->end && q[1] == '"') {
                    lh_buf_putc(&r->text, '"');
                    r->p = q + 2;
                    continue;
                }
                r->p = q + 1;
                break;
            }
            if (r->p < r->end && *r->p != ',' && *r->p != '\n' &&
                !(*r->p == '\r' && r->p + 1 < r->end && r->p[1] == '\n')) {
                lh_err_set(err, LH_EINVAL,
                           "\"%s\" line %llu: text after the closing quote "
                           "of a field",
                           r->path, (unsigned long long)r->line);
                return -1;
            }
        } else {
            const char *s = r->p;
            while (s < r->end && *s != ',' && *s != '\n' &&
                   !(*s == '\r' && s + 1 < r->end && s[1] == '\n')) {
                s++;
            }
            lh_buf_append(&r->text, r->p, (size_t)(s - r->p));
            r->p = s;
        }
        if (!lh_buf_ok(&r->text) || !csv_add_field(r, off, quoted)) {
            nomem(err);
            return -1;
        }
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end) {
            r->p += *r->p == '\r' ? 2 : 1;
            r->line++;
        }
        return 1;
    }
}

static const char *
csv_field(const csv *r, uint32_t i)
{
    return (r->text.data ? r->text.data : "") + r->off[i];
}

/* ---- NDJSON ------------------------------------------------------------- */

typedef struct ndjson {
    const char *path;
    const char *p, *end;
    uint64_t line; /* of the object returned */
    uint64_t next_line;
    json_t *obj;
} ndjson;

static void
nd_init(ndjson *r, const input *in)
{
    memset(r, 0, sizeof *r);
    r->path = in->path;
    r->p = in->p;
    r->end = in->p + in->len;
    r->next_line = 1;
}

/* The next object (r->obj, owned until the next call): 1, 0 at the end,
 * -1 on error. Blank lines are skipped. */
static int
nd_next(ndjson *r, lh_err *err)
{
    if (r->obj) {
        json_decref(r->obj);
        r->obj = NULL;
    }
    while (r->p < r->end) {
        const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
        const char *e = nl ? nl : r->end;
        const char *s = r->p;
        r->line = r->next_line++;
        r->p = nl ? nl + 1 : r->end;
        const char *t = s;
        while (t < e && (*t == ' ' || *t == '\t' || *t == '\r')) {
            t++;
        }
        if (t == e) {
            continue;
        }
        json_error_t je;
        json_t *j = json_loadb(s, (size_t)(e - s), JSON_REJECT_DUPLICATES, &je);
        if (j == NULL) {
            lh_err_set(err, LH_EINVAL,
                       "\"%s\" line %llu: invalid JSON at character %d: %s",
                       r->path, (unsigned long long)r->line, je.column,
                       je.text);
            return -1;
        }
        if (!json_is_object(j)) {
            json_decref(j);
            lh_err_set(err, LH_EINVAL,
                       "\"%s\" line %llu: expected a JSON object", r->path,
                       (unsigned long long)r->line);
            return -1;
        }
        r->obj = j;
        return 1;
    }
    return 0;
}

static void
nd_release(ndjson *r)
{
    if (r->obj) {
        json_decref(r->obj);
    }
    r->obj = NULL;
}

/* ---- inference ---------------------------------------------------------- */

enum {
    C_INT = 1,
    C_DBL = 2,
    C_BOOL = 4,
    C_DATE = 8,
    C_TS = 16,
    C_ALL = 31,
};

/* JSON kinds seen in a column. */
enum {
    K_INT = 1,
    K_REAL = 2,
    K_BOOL = 4,
    K_STR = 8,
    K_NANSTR = 16,
    K_COMPLEX = 32,
};

typedef struct column {
    char *name;
    lh_type type;
    bool nullable;
    bool has_field_id;
    int32_t field_id;
    bool bloom;
    /* inference */
    unsigned text_mask; /* C_* still possible for the text values */
    bool any_text;
    bool tz;
    unsigned kinds; /* K_* (NDJSON) */
} column;

static bool
is_digits(const char *s, size_t n)
{
    if (n == 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

static bool
is_nan_word(const char *s, size_t n)
{
    return (n == 3 && strncasecmp(s, "nan", 3) == 0) ||
           (n == 8 && strncasecmp(s, "infinity", 8) == 0) ||
           (n == 9 && strncasecmp(s, "-infinity", 9) == 0) ||
           (n == 9 && strncasecmp(s, "+infinity", 9) == 0);
}

/* [+-]digits[.digits][e[+-]digits], or .digits: what a DOUBLE prints. */
static bool
is_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        i++;
    }
    size_t d0 = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        i++;
    }
    size_t digits = i - d0;
    if (i < n && s[i] == '.') {
        i++;
        size_t f0 = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
        digits += i - f0;
    }
    if (digits == 0) {
        return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        size_t e0 = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
        if (i == e0) {
            return false;
        }
    }
    return i == n;
}

static bool
fits_i64(const char *s, size_t n)
{
    size_t i = (n > 0 && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    if (!is_digits(s + i, n - i)) {
        return false;
    }
    while (i + 1 < n && s[i] == '0') {
        i++;
    }
    size_t nd = n - i;
    if (nd != 19) {
        return nd < 19;
    }
    const char *lim =
        s[0] == '-' ? "9223372036854775808" : "9223372036854775807";
    return memcmp(s + i, lim, 19) <= 0;
}

/* Which types text s could be (C_*); *tz when it is a date-time with a
 * zone. */
static unsigned
classify(const char *s, size_t n, bool *tz)
{
    unsigned m = 0;
    *tz = false;
    if (fits_i64(s, n)) {
        m |= C_INT;
    }
    if (is_number(s, n) || is_nan_word(s, n)) {
        m |= C_DBL;
    }
    if ((n == 4 && strncasecmp(s, "true", 4) == 0) ||
        (n == 5 && strncasecmp(s, "false", 5) == 0)) {
        m |= C_BOOL;
    }
    if (n >= 10 && is_digits(s, 4) && s[4] == '-' && is_digits(s + 5, 2) &&
        s[7] == '-' && is_digits(s + 8, 2)) {
        lh_us t;
        bool dt = n >= 16 && (s[10] == 'T' || s[10] == 't' || s[10] == ' ') &&
                  s[13] == ':';
        if ((n == 10 || dt) && lh_time_parse(s, n, &t, NULL) == LH_OK) {
            m |= C_TS;
            if (n == 10) {
                m |= C_DATE;
            } else {
                for (size_t i = 16; i < n; i++) {
                    if (s[i] == 'Z' || s[i] == 'z' || s[i] == '+' ||
                        s[i] == '-') {
                        *tz = true;
                    }
                }
            }
        }
    }
    return m;
}

static void
infer_text(column *c, const char *s, size_t n)
{
    bool tz;
    c->text_mask &= classify(s, n, &tz);
    c->any_text = true;
    c->tz |= tz;
}

static lh_type
text_type(const column *c)
{
    lh_type t;
    memset(&t, 0, sizeof t);
    unsigned m = c->any_text ? c->text_mask : 0;
    t.id = (m & C_INT)    ? LH_T_BIGINT
           : (m & C_DBL)  ? LH_T_DOUBLE
           : (m & C_BOOL) ? LH_T_BOOLEAN
           : (m & C_DATE) ? LH_T_DATE
           : (m & C_TS)   ? (c->tz ? LH_T_TIMESTAMPTZ : LH_T_TIMESTAMP)
                          : LH_T_VARCHAR;
    return t;
}

static void
infer_json(column *c, const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_NULL:
        return;
    case JSON_INTEGER:
        c->kinds |= K_INT;
        return;
    case JSON_REAL:
        c->kinds |= K_REAL;
        return;
    case JSON_TRUE:
    case JSON_FALSE:
        c->kinds |= K_BOOL;
        return;
    case JSON_STRING: {
        const char *s = json_string_value(j);
        size_t n = json_string_length(j);
        c->kinds |= is_nan_word(s, n) ? K_NANSTR : K_STR;
        infer_text(c, s, n);
        return;
    }
    default:
        c->kinds |= K_COMPLEX;
        return;
    }
}

static lh_type
inferred_json_type(const column *c)
{
    lh_type t;
    memset(&t, 0, sizeof t);
    unsigned k = c->kinds;
    if (k & K_COMPLEX) {
        t.id = LH_T_JSON;
    } else if (k == 0) {
        t.id = LH_T_VARCHAR;
    } else if (k == K_BOOL) {
        t.id = LH_T_BOOLEAN;
    } else if (k == K_INT) {
        t.id = LH_T_BIGINT;
    } else if ((k & (K_INT | K_REAL)) && !(k & ~(K_INT | K_REAL | K_NANSTR))) {
        t.id = LH_T_DOUBLE;
    } else if (!(k & ~(K_STR | K_NANSTR))) {
        /* Strings: dates and timestamps, never numbers or booleans. */
        column only = *c;
        only.text_mask &= C_DATE | C_TS;
        t = text_type(&only);
    } else {
        t.id = LH_T_JSON;
    }
    return t;
}

/* ---- the columns --------------------------------------------------------- */

typedef struct cols {
    column *v;
    uint32_t n, cap;
} cols;

static void
cols_release(cols *cs)
{
    for (uint32_t i = 0; i < cs->n; i++) {
        lh_free(cs->v[i].name);
    }
    lh_free(cs->v);
    memset(cs, 0, sizeof *cs);
}

static int
cols_find(const cols *cs, const char *name, size_t len)
{
    for (uint32_t i = 0; i < cs->n; i++) {
        if (strlen(cs->v[i].name) == len &&
            memcmp(cs->v[i].name, name, len) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static column *
cols_add(cols *cs, const char *name, size_t len)
{
    if (cs->n == cs->cap) {
        uint32_t nc = cs->cap ? cs->cap * 2 : 16;
        column *v = lh_realloc(cs->v, nc * sizeof *v);
        if (v == NULL) {
            return NULL;
        }
        cs->v = v;
        cs->cap = nc;
    }
    column *c = &cs->v[cs->n];
    memset(c, 0, sizeof *c);
    c->name = lh_strndup(name, len);
    if (c->name == NULL) {
        return NULL;
    }
    c->nullable = true;
    c->text_mask = C_ALL;
    cs->n++;
    return c;
}

static lh_rc
load_schema(const char *path, cols *cs, lh_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        return lh_err_sys(err, e == ENOENT ? LH_ENOENT : LH_EIO, e,
                          "cannot open schema \"%s\"", path);
    }
    json_error_t je;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    if (root == NULL) {
        return lh_err_set(err, LH_EINVAL, "schema \"%s\" line %d: %s", path,
                          je.line, je.text);
    }
    lh_rc rc = LH_OK;
    json_t *arr = json_object_get(root, "columns");
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        rc = lh_err_set(err, LH_EINVAL,
                        "schema \"%s\": expected {\"columns\": [...]} with "
                        "at least one column",
                        path);
    }
    size_t i;
    json_t *jc;
    json_array_foreach(arr, i, jc)
    {
        if (rc != LH_OK) {
            break;
        }
        json_t *jn = json_object_get(jc, "name");
        json_t *jt = json_object_get(jc, "type");
        json_t *jnull = json_object_get(jc, "nullable");
        json_t *jid = json_object_get(jc, "field_id");
        if (!json_is_string(jn) || json_string_length(jn) == 0 ||
            !json_is_string(jt)) {
            rc = lh_err_set(err, LH_EINVAL,
                            "schema \"%s\": column %zu needs a \"name\" and "
                            "a \"type\"",
                            path, i + 1);
            break;
        }
        const char *name = json_string_value(jn);
        if (cols_find(cs, name, strlen(name)) >= 0) {
            rc = lh_err_set(err, LH_EINVAL,
                            "schema \"%s\": two columns named \"%s\"", path,
                            name);
            break;
        }
        if ((jnull && !json_is_boolean(jnull)) ||
            (jid && !json_is_integer(jid))) {
            rc = lh_err_set(err, LH_EINVAL,
                            "schema \"%s\": column \"%s\": \"nullable\" is a "
                            "boolean and \"field_id\" an integer",
                            path, name);
            break;
        }
        column *c = cols_add(cs, name, strlen(name));
        if (c == NULL) {
            rc = nomem(err);
            break;
        }
        rc = lh_type_parse(json_string_value(jt), &c->type, err);
        if (rc != LH_OK) {
            lh_err_prefix(err, "schema \"%s\": column \"%s\"", path, name);
            break;
        }
        c->nullable = jnull ? json_is_true(jnull) : true;
        if (jid) {
            json_int_t id = json_integer_value(jid);
            if (id < INT32_MIN || id > INT32_MAX) {
                rc = lh_err_set(err, LH_EINVAL,
                                "schema \"%s\": column \"%s\": field_id %lld "
                                "is out of range",
                                path, name, (long long)id);
                break;
            }
            c->has_field_id = true;
            c->field_id = (int32_t)id;
        }
    }
    json_decref(root);
    return rc;
}

/* First pass without a schema: the columns and their types. */
static lh_rc
infer(const input *in, cols *cs, lh_err *err)
{
    lh_rc rc = LH_OK;
    if (in->kind == IN_CSV) {
        csv r;
        csv_init(&r, in);
        int k = csv_next(&r, err);
        if (k == 0) {
            rc = lh_err_set(err, LH_EINVAL, "\"%s\": no header row", in->path);
        } else if (k < 0) {
            rc = LH_EINVAL;
        }
        for (uint32_t i = 0; rc == LH_OK && i < r.nf; i++) {
            const char *name = csv_field(&r, i);
            if (r.len[i] == 0 || cols_find(cs, name, r.len[i]) >= 0) {
                rc = lh_err_set(err, LH_EINVAL,
                                "\"%s\" line 1: column %u's name is empty "
                                "or repeated",
                                in->path, i + 1);
            } else if (cols_add(cs, name, r.len[i]) == NULL) {
                rc = nomem(err);
            }
        }
        while (rc == LH_OK && (k = csv_next(&r, err)) > 0) {
            if (r.nf != cs->n) {
                rc = lh_err_set(err, LH_EINVAL,
                                "\"%s\" line %llu: expected %u fields, found "
                                "%u",
                                in->path, (unsigned long long)r.rec_line, cs->n,
                                r.nf);
                break;
            }
            for (uint32_t i = 0; i < r.nf; i++) {
                if (r.len[i] > 0 || r.quoted[i]) {
                    infer_text(&cs->v[i], csv_field(&r, i), r.len[i]);
                }
            }
        }
        if (rc == LH_OK && k < 0) {
            rc = LH_EINVAL;
        }
        for (uint32_t i = 0; rc == LH_OK && i < cs->n; i++) {
            cs->v[i].type = text_type(&cs->v[i]);
        }
        csv_release(&r);
        return rc;
    }
    ndjson r;
    nd_init(&r, in);
    int k;
    while ((k = nd_next(&r, err)) > 0) {
        const char *key;
        json_t *val;
        json_object_foreach(r.obj, key, val)
        {
            int i = cols_find(cs, key, strlen(key));
            column *c = i >= 0 ? &cs->v[i] : cols_add(cs, key, strlen(key));
            if (c == NULL) {
                rc = nomem(err);
                break;
            }
            infer_json(c, val);
        }
        if (rc != LH_OK) {
            break;
        }
    }
    if (rc == LH_OK && k < 0) {
        rc = LH_EINVAL;
    }
    nd_release(&r);
    if (rc == LH_OK && cs->n == 0) {
        rc = lh_err_set(err, LH_EINVAL,
                        "\"%s\": no rows to infer the columns from (give "
                        "--schema)",
                        in->path);
    }
    for (uint32_t i = 0; rc == LH_OK && i < cs->n; i++) {
        cs->v[i].type = inferred_json_type(&cs->v[i]);
    }
    return rc;
}

static lh_rc
mark_bloom(cols *cs, const char *list, lh_err *err)
{
    const char *p = list;
    while (p && *p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        int i = cols_find(cs, p, n);
        if (i < 0) {
            return lh_err_set(err, LH_EINVAL, "--bloom: no column \"%.*s\"",
                              (int)LH_MIN(n, (size_t)200), p);
        }
        cs->v[i].bloom = true;
        p += n;
        if (*p == ',') {
            p++;
        }
    }
    return LH_OK;
}

/* ---- batches ------------------------------------------------------------- */

typedef struct loader {
    const input *in;
    const cols *cs;
    lh_pq_writer *w;
    lh_arena a; /* the batch: vectors and values */
    lh_vector *vecs;
    uint32_t rows;
    int *map; /* CSV field -> column, or -1 */
    uint32_t nmap;
} loader;

static lh_rc
batch_start(loader *l, lh_err *err)
{
    lh_arena_reset(&l->a);
    for (uint32_t i = 0; i < l->cs->n; i++) {
        lh_rc rc = lh_vector_alloc(&l->vecs[i], l->cs->v[i].type, LH_BATCH_ROWS,
                                   true, &l->a, err);
        if (rc != LH_OK) {
            return rc;
        }
        /* Every row starts NULL: a missing key or field stays NULL. */
        memset(l->vecs[i].validity, 0, (LH_BATCH_ROWS + 63) / 64 * 8);
    }
    l->rows = 0;
    return LH_OK;
}

static lh_rc
batch_flush(loader *l, lh_err *err)
{
    if (l->rows == 0) {
        return LH_OK;
    }
    lh_batch b = {.count = l->rows, .ncols = l->cs->n, .cols = l->vecs};
    lh_rc rc = lh_pq_writer_write(l->w, &b, err);
    if (rc != LH_OK) {
        return rc;
    }
    return batch_start(l, err);
}

static void
put_value(lh_vector *v, uint32_t row, const lh_value *val)
{
    void *d = v->data;
    switch ((lh_type_id)v->type.id) {
    case LH_T_BOOLEAN:
        ((uint8_t *)d)[row] = val->u.b;
        break;
    case LH_T_SMALLINT:
        ((int16_t *)d)[row] = (int16_t)val->u.i;
        break;
    case LH_T_INTEGER:
    case LH_T_DATE:
        ((int32_t *)d)[row] = (int32_t)val->u.i;
        break;
    case LH_T_BIGINT:
    case LH_T_TIME:
    case LH_T_TIMESTAMP:
    case LH_T_TIMESTAMPTZ:
        ((int64_t *)d)[row] = val->u.i;
        break;
    case LH_T_REAL:
        ((float *)d)[row] = (float)val->u.d;
        break;
    case LH_T_DOUBLE:
        ((double *)d)[row] = val->u.d;
        break;
    case LH_T_DECIMAL:
        if (v->type.precision <= 18) {
            ((int64_t *)d)[row] = (int64_t)val->u.dec;
        } else {
            memcpy((char *)d + (size_t)row * sizeof(lh_i128), &val->u.dec,
                   sizeof(lh_i128));
        }
        break;
    case LH_T_VARCHAR:
    case LH_T_BLOB:
    case LH_T_JSON:
        ((lh_str *)d)[row] = lh_str_make(val->u.s.p, (uint32_t)val->u.s.len);
        break;
    case LH_T_INTERVAL:
        ((lh_interval *)d)[row] = val->u.iv;
        break;
    case LH_T_UUID:
        ((lh_uuid *)d)[row] = val->u.uuid;
        break;
    case LH_T_VECTOR:
        memcpy((float *)d + (size_t)row * v->type.dim, val->u.vec.v,
               (size_t)v->type.dim * sizeof(float));
        break;
    default:
        break;
    }
    lh_bit_set(v->validity, row, true);
}

/* Sets row l->rows of column ci from text (CSV) or JSON (NDJSON; j NULL
 * for a missing key). */
static lh_rc
put_cell(loader *l, uint32_t ci, const char *s, size_t n, bool null,
         const json_t *j, uint64_t line, lh_err *err)
{
    const column *c = &l->cs->v[ci];
    lh_value val;
    lh_rc rc;
    if (l->in->kind == IN_CSV) {
        if (null) {
            val.is_null = true;
            rc = LH_OK;
        } else {
            rc = lh_value_from_text(c->type, s, n, &l->a, &val, err);
        }
    } else {
        rc = lh_value_from_json(c->type, j, &l->a, &val, err);
    }
    if (rc == LH_OK && val.is_null && !c->nullable) {
        rc = lh_err_set(err, LH_EINVAL,
                        "NULL in a column that is not "
                        "nullable");
    }
    if (rc != LH_OK) {
        if (rc == LH_EINVAL) {
            lh_err_prefix(err, "\"%s\" line %llu, column \"%s\"", l->in->path,
                          (unsigned long long)line, c->name);
        }
        return rc;
    }
    if (!val.is_null) {
        put_value(&l->vecs[ci], l->rows, &val);
    }
    return LH_OK;
}

static lh_rc
row_done(loader *l, uint64_t line, lh_err *err)
{
    for (uint32_t i = 0; i < l->cs->n; i++) {
        if (!l->cs->v[i].nullable && !lh_vec_valid(&l->vecs[i], l->rows)) {
            return lh_err_set(err, LH_EINVAL,
                              "\"%s\" line %llu, column \"%s\": NULL in a "
                              "column that is not nullable",
                              l->in->path, (unsigned long long)line,
                              l->cs->v[i].name);
        }
    }
    l->rows++;
    return l->rows == LH_BATCH_ROWS ? batch_flush(l, err) : LH_OK;
}

static lh_rc
load_csv(loader *l, lh_err *err)
{
    const cols *cs = l->cs;
    csv r;
    csv_init(&r, l->in);
    lh_rc rc = LH_OK;
    int k = csv_next(&r, err);
    if (k <= 0) {
        csv_release(&r);
        return k == 0 ? lh_err_set(err, LH_EINVAL, "\"%s\": no header row",
                                   l->in->path)
                      : LH_EINVAL;
    }
    /* Header fields to schema columns (a schema may order them its way). */
    l->map = lh_calloc(r.nf, sizeof *l->map);
    l->nmap = r.nf;
    if (l->map == NULL) {
        rc = nomem(err);
    }
    for (uint32_t i = 0; rc == LH_OK && i < r.nf; i++) {
        int ci = cols_find(cs, csv_field(&r, i), r.len[i]);
        for (uint32_t k2 = 0; ci >= 0 && k2 < i; k2++) {
            if (l->map[k2] == ci) {
                ci = -2;
            }
        }
        if (ci < 0) {
            rc = lh_err_set(
                err, LH_EINVAL, "\"%s\" line 1: column \"%.*s\" is %s",
                l->in->path, (int)LH_MIN(r.len[i], (size_t)200),
                csv_field(&r, i), ci == -2 ? "repeated" : "not in the schema");
        } else {
            l->map[i] = ci;
        }
    }
    while (rc == LH_OK && (k = csv_next(&r, err)) > 0) {
        if (r.nf != l->nmap) {
            rc = lh_err_set(err, LH_EINVAL,
                            "\"%s\" line %llu: expected %u fields, found %u",
                            l->in->path, (unsigned long long)r.rec_line,
                            l->nmap, r.nf);
            break;
        }
        for (uint32_t i = 0; rc == LH_OK && i < r.nf; i++) {
            bool null = r.len[i] == 0 && !r.quoted[i];
            rc = put_cell(l, (uint32_t)l->map[i], csv_field(&r, i), r.len[i],
                          null, NULL, r.rec_line, err);
        }
        if (rc == LH_OK) {
            rc = row_done(l, r.rec_line, err);
        }
    }
    if (rc == LH_OK && k < 0) {
        rc = LH_EINVAL;
    }
    csv_release(&r);
    return rc;
}

static lh_rc
load_ndjson(loader *l, lh_err *err)
{
    const cols *cs = l->cs;
    ndjson r;
    nd_init(&r, l->in);
    lh_rc rc = LH_OK;
    int k;
    while (rc == LH_OK && (k = nd_next(&r, err)) > 0) {
        const char *key;
        json_t *val;
        json_object_foreach(r.obj, key, val)
        {
            if (cols_find(cs, key, strlen(key)) < 0) {
                rc = lh_err_set(err, LH_EINVAL,
                                "\"%s\" line %llu: key \"%s\" is not a "
                                "column",
                                l->in->path, (unsigned long long)r.line, key);
                break;
            }
        }
        for (uint32_t i = 0; rc == LH_OK && i < cs->n; i++) {
            rc = put_cell(l, i, NULL, 0, false,
                          json_object_get(r.obj, cs->v[i].name), r.line, err);
        }
        if (rc == LH_OK) {
            rc = row_done(l, r.line, err);
        }
    }
    if (rc == LH_OK && k < 0) {
        rc = LH_EINVAL;
    }
    nd_release(&r);
    return rc;
}

lh_rc
lh_parquet_write(const char *out_path, const char *in_path,
                 const lh_parquet_write_opts *opts, lh_err *err)
{
    lh_parquet_write_opts none;
    memset(&none, 0, sizeof none);
    if (opts == NULL) {
        opts = &none;
    }
    if (out_path == NULL || in_path == NULL) {
        return lh_err_set(err, LH_EINVAL,
                          "parquet write: no input or output "
                          "path");
    }
    lh_pq_writer_opts wo;
    lh_pq_writer_opts_init(&wo);
    lh_rc rc = LH_OK;
    if (opts->codec) {
        rc = lh_pq_codec_parse(opts->codec, &wo.codec, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    if (opts->row_group_rows < 0) {
        return lh_err_set(err, LH_EINVAL,
                          "row group rows must be positive, found %lld",
                          (long long)opts->row_group_rows);
    }
    if (opts->row_group_rows > 0) {
        wo.row_group_rows = (uint64_t)opts->row_group_rows;
    }
    wo.page_v2 = opts->page_v2;

    input in;
    cols cs;
    memset(&cs, 0, sizeof cs);
    loader l;
    memset(&l, 0, sizeof l);
    lh_arena_init(&l.a, 0);
    lh_pq_wcolumn *wc = NULL;
    rc = input_open(&in, in_path, err);
    if (rc != LH_OK) {
        return rc;
    }
    if (opts->schema_path) {
        rc = load_schema(opts->schema_path, &cs, err);
    } else {
        rc = infer(&in, &cs, err);
    }
    if (rc == LH_OK) {
        rc = mark_bloom(&cs, opts->bloom, err);
    }
    if (rc == LH_OK) {
        wc = lh_calloc(cs.n ? cs.n : 1, sizeof *wc);
        l.vecs = lh_calloc(cs.n ? cs.n : 1, sizeof *l.vecs);
        if (wc == NULL || l.vecs == NULL) {
            rc = nomem(err);
        }
    }
    for (uint32_t i = 0; rc == LH_OK && i < cs.n; i++) {
        wc[i].name = cs.v[i].name;
        wc[i].type = cs.v[i].type;
        wc[i].nullable = cs.v[i].nullable;
        wc[i].has_field_id = cs.v[i].has_field_id;
        wc[i].field_id = cs.v[i].field_id;
        wc[i].bloom = cs.v[i].bloom;
    }
    if (rc == LH_OK) {
        rc = lh_pq_writer_open_path(out_path, wc, cs.n, &wo, &l.w, err);
    }
    if (rc == LH_OK) {
        l.in = &in;
        l.cs = &cs;
        rc = batch_start(&l, err);
    }
    if (rc == LH_OK) {
        rc = in.kind == IN_CSV ? load_csv(&l, err) : load_ndjson(&l, err);
    }
    if (rc == LH_OK) {
        rc = batch_flush(&l, err);
    }
    if (l.w) {
        if (rc == LH_OK) {
            rc = lh_pq_writer_close(l.w, err);
        } else {
            lh_pq_writer_abort(l.w);
        }
    }
    lh_arena_release(&l.a);
    lh_free(l.vecs);
    lh_free(l.map);
    lh_free(wc);
    cols_release(&cs);
    input_close(&in);
    return rc;
}
