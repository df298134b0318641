/*
 * Result writers: CSV, JSON, NDJSON and the psql-like table
 * (output-formats.md).
 *
 * CSV, JSON and NDJSON stream: each row is formatted into `out` and written
 * to the sink once OUT_FLUSH bytes are pending. The table needs every row
 * to size its columns, so it keeps the cells (already as display text, cut
 * to max_width characters) in an arena until lh_output_finish.
 *
 * The table follows psql's aligned format with border 1: headers centered,
 * numbers right-aligned, other cells left-aligned, " | " between columns,
 * "-+-" under the header, no padding after a left-aligned last column,
 * then "(N rows)". Control characters in cells are shown escaped (\n, \t,
 * \xNN) so that a row stays on one line; psql instead wraps such cells over
 * several lines with "+" marks.
 */
#include <errno.h>
#include <string.h>

#include "column/column_int.h"

#define OUT_FLUSH 65536
#define TABLE_DEFAULT_WIDTH 40
/* "…", U+2026: three bytes, one character */
#define ELLIPSIS "\xe2\x80\xa6"

typedef struct cell {
    const char *p;
    uint32_t len;
    uint32_t chars;
} cell;

struct lh_output {
    lh_format fmt;
    FILE *sink;
    size_t ncols;
    const char **names; /* in arena */
    const char **keys;  /* JSON: "\"name\":" per column, in arena */
    lh_type *types;     /* in arena */
    lh_arena arena;     /* names, types, keys, table cells */
    lh_buf out;         /* formatted, not yet written */
    lh_buf tmp;         /* one value's text */
    lh_buf shown;       /* table: its display text */
    uint64_t rows;
    bool started; /* CSV header / JSON "[" written */
    bool finished;
    lh_rc failed; /* sticky: the first failure */
    size_t max_width;
    cell *cells; /* table: rows * ncols */
    size_t ncells;
    size_t capcells;
    size_t *widths; /* table: characters per column */
};

lh_rc
lh_format_parse(const char *s, lh_format *out, lh_err *err)
{
    static const struct {
        const char *name;
        lh_format fmt;
    } formats[] = {
        {"csv", LH_FMT_CSV},
        {"json", LH_FMT_JSON},
        {"ndjson", LH_FMT_NDJSON},
        {"table", LH_FMT_TABLE},
    };
    char q[LH__QUOTE_SIZE];
    size_t n = s != NULL ? strlen(s) : 0;
    for (size_t i = 0; i < LH_ARRAY_LEN(formats); i++) {
        if (lh__eq_nocase(s, n, formats[i].name)) {
            *out = formats[i].fmt;
            return LH_OK;
        }
    }
    return lh_err_set(err, LH_EINVAL,
                      "unknown format %s: expected csv, json, ndjson or table",
                      lh__quote(q, s != NULL ? s : "", n));
}

static bool
csv_needs_quotes(const char *s, size_t n)
{
    if (n == 0 || s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' ||
        s[n - 1] == '\t') {
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ',' || c == '"' || c == '\n' || c == '\r') {
            return true;
        }
    }
    return false;
}

lh_rc
lh_csv_field(lh_buf *out, const char *s, size_t n)
{
    if (!csv_needs_quotes(s, n)) {
        lh_buf_append(out, s, n);
        return lh_buf_ok(out) ? LH_OK : LH_ENOMEM;
    }
    lh_buf_putc(out, '"');
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') {
            lh_buf_append(out, s + start, i + 1 - start);
            lh_buf_putc(out, '"');
            start = i + 1;
        }
    }
    lh_buf_append(out, s + start, n - start);
    lh_buf_putc(out, '"');
    return lh_buf_ok(out) ? LH_OK : LH_ENOMEM;
}

/* ---- lifecycle ----------------------------------------------------------- */

lh_rc
lh_output_new(lh_format fmt, FILE *sink, const char *const *names,
              const lh_type *types, size_t ncols, lh_output **out, lh_err *err)
{
    *out = NULL;
    if (fmt != LH_FMT_CSV && fmt != LH_FMT_JSON && fmt != LH_FMT_NDJSON &&
        fmt != LH_FMT_TABLE) {
        return lh_err_set(err, LH_EINVAL, "unknown output format %d", (int)fmt);
    }
    lh_output *o = lh_calloc(1, sizeof(*o));
    if (o == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    o->fmt = fmt;
    o->sink = sink;
    o->ncols = ncols;
    o->max_width = TABLE_DEFAULT_WIDTH;
    lh_arena_init(&o->arena, 0);
    lh_buf_init(&o->out);
    lh_buf_init(&o->tmp);
    lh_buf_init(&o->shown);
    size_t nalloc = ncols > 0 ? ncols : 1;
    o->names = lh_arena_calloc(&o->arena, nalloc * sizeof(*o->names));
    o->keys = lh_arena_calloc(&o->arena, nalloc * sizeof(*o->keys));
    o->types = lh_arena_calloc(&o->arena, nalloc * sizeof(*o->types));
    o->widths = lh_arena_calloc(&o->arena, nalloc * sizeof(*o->widths));
    bool ok = o->names != NULL && o->keys != NULL && o->types != NULL &&
              o->widths != NULL;
    for (size_t i = 0; ok && i < ncols; i++) {
        const char *name = names != NULL && names[i] != NULL ? names[i] : "";
        lh_buf_reset(&o->tmp);
        lh_buf_json_string(&o->tmp, name, strlen(name));
        lh_buf_putc(&o->tmp, ':');
        o->names[i] = lh_arena_strdup(&o->arena, name);
        o->keys[i] = lh_buf_ok(&o->tmp)
                         ? lh_arena_strndup(&o->arena, o->tmp.data, o->tmp.len)
                         : NULL;
        o->types[i] = types[i];
        ok = o->names[i] != NULL && o->keys[i] != NULL;
    }
    if (!ok) {
        lh_output_free(o);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    *out = o;
    return LH_OK;
}

void
lh_output_set_max_width(lh_output *o, size_t max_width)
{
    /* one character and the "…" is the least that says anything */
    o->max_width =
        max_width == 0 ? TABLE_DEFAULT_WIDTH : (max_width < 2 ? 2 : max_width);
}

void
lh_output_free(lh_output *o)
{
    if (o == NULL) {
        return;
    }
    lh_buf_release(&o->out);
    lh_buf_release(&o->tmp);
    lh_buf_release(&o->shown);
    lh_free(o->cells);
    lh_arena_release(&o->arena);
    lh_free(o);
}

/* ---- writing ------------------------------------------------------------- */

static lh_rc
fail(lh_output *o, lh_rc rc, lh_err *err)
{
    if (o->failed == LH_OK) {
        o->failed = rc;
    }
    if (rc == LH_ENOMEM) {
        return lh_err_set(err, rc, "out of memory");
    }
    return lh_err_set(err, rc, "could not format a value");
}

/* Writes what is pending when there is enough of it (or all, when
 * `all`). */
static lh_rc
flush(lh_output *o, bool all, lh_err *err)
{
    if (!lh_buf_ok(&o->out)) {
        return fail(o, LH_ENOMEM, err);
    }
    if (o->out.len == 0 || (!all && o->out.len < OUT_FLUSH)) {
        return LH_OK;
    }
    size_t len = o->out.len;
    size_t wrote = fwrite(o->out.data, 1, len, o->sink);
    int e = errno;
    lh_buf_reset(&o->out);
    if (wrote != len) {
        fail(o, LH_EIO, err);
        return lh_err_sys(err, LH_EIO, e, "could not write output");
    }
    return LH_OK;
}

static void
csv_header(lh_output *o)
{
    for (size_t i = 0; i < o->ncols; i++) {
        if (i > 0) {
            lh_buf_putc(&o->out, ',');
        }
        lh_csv_field(&o->out, o->names[i], strlen(o->names[i]));
    }
    lh_buf_putc(&o->out, '\n');
}

static lh_rc
csv_row(lh_output *o, const lh_value *vals)
{
    for (size_t i = 0; i < o->ncols; i++) {
        if (i > 0) {
            lh_buf_putc(&o->out, ',');
        }
        if (vals[i].is_null) {
            continue; /* NULL is an empty unquoted field */
        }
        lh_buf_reset(&o->tmp);
        lh_rc rc = lh_value_to_text(&vals[i], &o->tmp);
        if (rc != LH_OK) {
            return rc;
        }
        lh_csv_field(&o->out, o->tmp.data != NULL ? o->tmp.data : "",
                     o->tmp.len);
    }
    lh_buf_putc(&o->out, '\n');
    return LH_OK;
}

static lh_rc
json_row(lh_output *o, const lh_value *vals)
{
    lh_buf_putc(&o->out, '{');
    for (size_t i = 0; i < o->ncols; i++) {
        if (i > 0) {
            lh_buf_putc(&o->out, ',');
        }
        lh_buf_puts(&o->out, o->keys[i]);
        lh_rc rc = lh_value_to_json(&vals[i], &o->out);
        if (rc != LH_OK) {
            return rc;
        }
    }
    lh_buf_putc(&o->out, '}');
    return LH_OK;
}

static bool
right_aligned(lh_type t)
{
    switch (t.id) {
    case LH_T_SMALLINT:
    case LH_T_INTEGER:
    case LH_T_BIGINT:
    case LH_T_REAL:
    case LH_T_DOUBLE:
    case LH_T_DECIMAL:
        return true;
    default:
        return false;
    }
}

/* Display text of s: control characters escaped, cut to max characters
 * (max >= 2) with "…". Appends to b; returns the characters shown. */
static size_t
display(lh_buf *b, const char *s, size_t n, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = b->len;
    size_t run = 0; /* bytes of s[i - run .. i) to copy as they are */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != 0x7F) {
            run++;
            continue;
        }
        lh_buf_append(b, s + i - run, run);
        run = 0;
        if (c == '\n') {
            lh_buf_puts(b, "\\n");
        } else if (c == '\r') {
            lh_buf_puts(b, "\\r");
        } else if (c == '\t') {
            lh_buf_puts(b, "\\t");
        } else {
            char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            lh_buf_append(b, esc, 4);
        }
    }
    lh_buf_append(b, s + n - run, run);
    if (!lh_buf_ok(b)) {
        return 0;
    }
    const char *d = b->data + start;
    size_t len = b->len - start;
    size_t chars = lh__utf8_chars(d, len);
    if (chars <= max) {
        return chars;
    }
    /* keep max - 1 characters: cut before the max-th one starts */
    size_t seen = 0;
    size_t cut = 0;
    for (; cut < len; cut++) {
        if (((unsigned char)d[cut] & 0xC0) != 0x80 && seen++ == max - 1) {
            break;
        }
    }
    b->len = start + cut;
    b->data[b->len] = '\0';
    lh_buf_puts(b, ELLIPSIS);
    return max;
}

static lh_rc
table_row(lh_output *o, const lh_value *vals)
{
    if (o->ncells + o->ncols > o->capcells) {
        size_t cap = o->capcells == 0 ? 64 * (o->ncols + 1) : o->capcells * 2;
        cell *c = lh_realloc(o->cells, cap * sizeof(*c));
        if (c == NULL) {
            return LH_ENOMEM;
        }
        o->cells = c;
        o->capcells = cap;
    }
    for (size_t i = 0; i < o->ncols; i++) {
        lh_buf_reset(&o->shown);
        size_t chars = 0;
        if (vals[i].is_null) {
            lh_buf_puts(&o->shown, "NULL");
            chars = 4;
        } else {
            lh_buf_reset(&o->tmp);
            lh_rc rc = lh_value_to_text(&vals[i], &o->tmp);
            if (rc != LH_OK) {
                return rc;
            }
            chars = display(&o->shown, o->tmp.data != NULL ? o->tmp.data : "",
                            o->tmp.len, o->max_width);
        }
        if (!lh_buf_ok(&o->shown)) {
            return LH_ENOMEM;
        }
        cell *c = &o->cells[o->ncells + i];
        c->p = lh_arena_memdup(&o->arena,
                               o->shown.data != NULL ? o->shown.data : "",
                               o->shown.len);
        if (c->p == NULL) {
            return LH_ENOMEM;
        }
        c->len = (uint32_t)o->shown.len;
        c->chars = (uint32_t)chars;
        o->widths[i] = LH_MAX(o->widths[i], chars);
    }
    o->ncells += o->ncols;
    return LH_OK;
}

lh_rc
lh_output_row(lh_output *o, const lh_value *vals, lh_err *err)
{
    lh_rc rc = LH_OK;
    if (o->failed != LH_OK) {
        return lh_err_set(err, o->failed, "output failed earlier");
    }
    if (NEVER(o->finished)) {
        return lh_err_set(err, LH_EINVAL, "row after lh_output_finish");
    }
    switch (o->fmt) {
    case LH_FMT_CSV:
        if (!o->started) {
            csv_header(o);
        }
        rc = csv_row(o, vals);
        break;
    case LH_FMT_JSON:
        lh_buf_puts(&o->out, o->started ? ",\n" : "[\n");
        rc = json_row(o, vals);
        break;
    case LH_FMT_NDJSON:
        rc = json_row(o, vals);
        lh_buf_putc(&o->out, '\n');
        break;
    case LH_FMT_TABLE:
        rc = table_row(o, vals);
        break;
    }
    o->started = true;
    if (rc != LH_OK) {
        return fail(o, rc, err);
    }
    o->rows++;
    return flush(o, false, err);
}

static void
spaces(lh_buf *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        lh_buf_putc(b, ' ');
    }
}

static void
table_render(lh_output *o)
{
    lh_buf *b = &o->out;
    size_t nc = o->ncols;
    if (nc > 0) {
        /* headers: display text, centered */
        for (size_t i = 0; i < nc; i++) {
            lh_buf_reset(&o->tmp);
            const char *name = o->names[i];
            size_t chars = display(&o->tmp, name, strlen(name), SIZE_MAX);
            o->widths[i] = LH_MAX(o->widths[i], chars);
            size_t pad = o->widths[i] - chars;
            lh_buf_putc(b, ' ');
            spaces(b, pad / 2);
            lh_buf_append(b, o->tmp.data != NULL ? o->tmp.data : "",
                          o->tmp.len);
            spaces(b, (pad + 1) / 2);
            lh_buf_puts(b, i + 1 < nc ? " |" : " ");
        }
        lh_buf_putc(b, '\n');
        for (size_t i = 0; i < nc; i++) {
            for (size_t k = 0; k < o->widths[i] + 2; k++) {
                lh_buf_putc(b, '-');
            }
            if (i + 1 < nc) {
                lh_buf_putc(b, '+');
            }
        }
        lh_buf_putc(b, '\n');
    }
    for (size_t r = 0; r < o->ncells; r += nc) {
        for (size_t i = 0; i < nc; i++) {
            const cell *c = &o->cells[r + i];
            size_t pad = o->widths[i] - c->chars;
            bool last = i + 1 == nc;
            lh_buf_putc(b, ' ');
            if (right_aligned(o->types[i])) {
                spaces(b, pad);
                lh_buf_append(b, c->p, c->len);
            } else {
                lh_buf_append(b, c->p, c->len);
                if (!last) {
                    spaces(b, pad);
                }
            }
            if (!last) {
                lh_buf_puts(b, " |");
            }
        }
        lh_buf_putc(b, '\n');
        if (b->len >= OUT_FLUSH) {
            /* keep memory flat for big tables; errors surface at the end */
            fwrite(b->data, 1, b->len, o->sink);
            lh_buf_reset(b);
        }
    }
    lh_buf_printf(b, "(%llu %s)\n", (unsigned long long)o->rows,
                  o->rows == 1 ? "row" : "rows");
}

lh_rc
lh_output_finish(lh_output *o, lh_err *err)
{
    if (o->failed != LH_OK) {
        return lh_err_set(err, o->failed, "output failed earlier");
    }
    if (o->finished) {
        return LH_OK;
    }
    o->finished = true;
    switch (o->fmt) {
    case LH_FMT_CSV:
        if (!o->started) {
            csv_header(o);
        }
        break;
    case LH_FMT_JSON:
        lh_buf_puts(&o->out, o->started ? "\n]\n" : "[]\n");
        break;
    case LH_FMT_NDJSON:
        break;
    case LH_FMT_TABLE:
        table_render(o);
        break;
    }
    o->started = true;
    lh_rc rc = flush(o, true, err);
    if (rc != LH_OK) {
        return rc;
    }
    if (fflush(o->sink) != 0 || ferror(o->sink)) {
        int e = errno;
        fail(o, LH_EIO, err);
        return lh_err_sys(err, LH_EIO, e, "could not write output");
    }
    return LH_OK;
}
