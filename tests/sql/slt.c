/*
 * slt: the sqllogictest runner. Reads SQLite's and DuckDB's record formats
 * (../shared/conformance/sqllogictest/README.md) and runs each record
 * through the public SQL API on a session without a data directory (its
 * tables live in memory, one fresh session per file).
 *
 *   slt [--mode sqlite|duckdb|lakehouse] [--engine NAME] [--verbose] [--stop]
 *       [--max-failures N] [--expect-pass PCT] FILE|DIR...
 *
 * --mode picks the semantics the file's answers assume: sqlite (integer
 * division truncates, x / 0 is NULL) or duckdb (5 / 2 = 2.5, x / 0 is
 * NULL, NULLs last both ways), or lakehouse: ours (PostgreSQL's: x / 0
 * is an error), SQLite's record format, UTF-8 text kept, and the text
 * after "----" of a `statement error` must be part of the error message.
 * Default: by the path (".../duckdb/..." is duckdb). --engine is the name
 * skipif/onlyif compare with (default "lakehouse": onlyif mysql records are
 * skipped, skipif postgresql ones run).
 *
 * Accounting: a record passes, fails, or is skipped. Skipped are the
 * records for other engines, the DuckDB-only directives (require, loop,
 * mode skip), and statements our engine answers with "unsupported: ...":
 * each skip is counted under the construct that caused it and the totals
 * are printed per file and overall. Exit 1 when the pass rate of the
 * records run is below --expect-pass (default 0: never); 77 (skipped)
 * when a path given is not there.
 */
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "lakehouse.h"

typedef struct counts {
    long pass, fail, skip;
} counts;

typedef struct reason {
    char text[96];
    long n;
} reason;

typedef struct runner {
    const char *engine;
    int mode; /* 0 sqlite, 1 duckdb, -1 by path */
    bool verbose;
    bool stop;
    long max_failures;
    counts total;
    reason reasons[256];
    int nreasons;
    long failures_shown;
} runner;

static void
add_reason(runner *r, const char *why)
{
    char t[96];
    snprintf(t, sizeof t, "%s", why);
    /* "unsupported: X (detail)" -> "unsupported: X" */
    char *paren = strstr(t, " (");
    if (paren) {
        *paren = 0;
    }
    for (int i = 0; i < r->nreasons; i++) {
        if (strcmp(r->reasons[i].text, t) == 0) {
            r->reasons[i].n++;
            return;
        }
    }
    if (r->nreasons < (int)(sizeof r->reasons / sizeof r->reasons[0])) {
        snprintf(r->reasons[r->nreasons].text, sizeof r->reasons[0].text, "%s",
                 t);
        r->reasons[r->nreasons++].n = 1;
    }
}

/* ---- reading records
 * --------------------------------------------------------- */

typedef struct lines {
    char **v;
    size_t n, pos;
} lines;

static bool
read_lines(const char *path, lines *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return false;
    }
    size_t cap = 1024;
    out->v = malloc(cap * sizeof(char *));
    out->n = out->pos = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    while ((n = getline(&line, &lcap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
            line[--n] = 0;
        }
        if (out->n == cap) {
            cap *= 2;
            out->v = realloc(out->v, cap * sizeof(char *));
        }
        out->v[out->n++] = strdup(line);
    }
    free(line);
    fclose(f);
    return true;
}

static void
free_lines(lines *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i]);
    }
    free(l->v);
}

static bool
blank(const char *s)
{
    for (; *s; s++) {
        if (!isspace((unsigned char)*s)) {
            return false;
        }
    }
    return true;
}

/* ---- rendering
 * ------------------------------------------------------------------- */

typedef struct strs {
    char **v;
    size_t n, cap;
} strs;

static void
push(strs *s, const char *t)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = realloc(s->v, s->cap * sizeof(char *));
    }
    s->v[s->n++] = strdup(t);
}

static void
free_strs(strs *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i]);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* One value as the SQLite driver prints it for its column letter. */
static void
render_sqlite(lh_result *res, size_t row, size_t col, char letter, char *out,
              size_t cap, bool keep_utf8)
{
    if (lh_result_is_null(res, row, col)) {
        snprintf(out, cap, "NULL");
        return;
    }
    lh_cell c;
    lh_err err;
    if (lh_result_get(res, row, col, &c, &err) != LH_OK) {
        snprintf(out, cap, "ERROR");
        return;
    }
    const lh_column_info *ci = lh_result_column(res, col);
    if (letter == 'I') {
        long long v = 0;
        if (c.kind == LH_CELL_INT) {
            v = c.u.i;
        } else if (c.kind == LH_CELL_DOUBLE) {
            v = (long long)c.u.d;
        } else if (c.kind == LH_CELL_BOOL) {
            v = c.u.b;
        } else if (c.kind == LH_CELL_TEXT) {
            v = strtoll(c.u.s.p, NULL, 10); /* "12.75" -> 12, "abc" -> 0 */
        }
        snprintf(out, cap, "%lld", v);
        return;
    }
    if (letter == 'R') {
        double d = 0;
        if (c.kind == LH_CELL_INT) {
            d = (double)c.u.i;
        } else if (c.kind == LH_CELL_DOUBLE) {
            d = c.u.d;
        } else if (c.kind == LH_CELL_TEXT) {
            d = strtod(c.u.s.p, NULL);
        }
        snprintf(out, cap, "%.3f", d);
        return;
    }
    (void)ci;
    size_t len;
    const char *t = lh_result_text(res, row, col, &len);
    if (t == NULL || len == 0) {
        snprintf(out, cap, "(empty)");
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < len && k + 1 < cap; i++) {
        unsigned char ch = (unsigned char)t[i];
        out[k++] = (ch < 0x20 || (ch > 0x7e && !keep_utf8)) ? '@' : (char)ch;
    }
    out[k] = 0;
}

/* DuckDB's rendering: text as printed, NULL, (empty). */
static void
render_duckdb(lh_result *res, size_t row, size_t col, char *out, size_t cap)
{
    if (lh_result_is_null(res, row, col)) {
        snprintf(out, cap, "NULL");
        return;
    }
    size_t len;
    const char *t = lh_result_text(res, row, col, &len);
    if (t == NULL || len == 0) {
        snprintf(out, cap, "(empty)");
        return;
    }
    snprintf(out, cap, "%.*s", (int)len, t);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* rows of ncols values: sort rows by their values in order */
static size_t sort_ncols;

static int
cmp_row(const void *a, const void *b)
{
    char *const *x = a;
    char *const *y = b;
    for (size_t i = 0; i < sort_ncols; i++) {
        int c = strcmp(x[i], y[i]);
        if (c) {
            return c;
        }
    }
    return 0;
}

static void
md5_hex(const strs *vals, char *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
    for (size_t i = 0; i < vals->n; i++) {
        EVP_DigestUpdate(ctx, vals->v[i], strlen(vals->v[i]));
        EVP_DigestUpdate(ctx, "\n", 1);
    }
    unsigned char d[16];
    unsigned int dl;
    EVP_DigestFinal_ex(ctx, d, &dl);
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < 16; i++) {
        sprintf(out + 2 * i, "%02x", d[i]);
    }
}

/* DuckDB's runner casts the expected text to the column's type: a
 * BOOLEAN column's "1"/"0" are true/false */
static bool
bool_equal(const char *a, const char *b)
{
    if (strcmp(b, "true") == 0 || strcmp(b, "false") == 0) {
        const char *t = a;
        a = b;
        b = t;
    }
    if (strcmp(a, "true") == 0) {
        return strcmp(b, "1") == 0;
    }
    if (strcmp(a, "false") == 0) {
        return strcmp(b, "0") == 0;
    }
    return false;
}

static bool
num_equal(const char *a, const char *b)
{
    if (bool_equal(a, b)) {
        return true;
    }
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    if (*ea || *eb || ea == a || eb == b) {
        return false;
    }
    if (x == y) {
        return true;
    }
    double m = fabs(x) > fabs(y) ? fabs(x) : fabs(y);
    return fabs(x - y) <= 1e-6 * (m > 1 ? m : 1);
}

/* PostgreSQL's interval text ("1 mon", "-2 years +4 days") in DuckDB's
 * words ("1 month", "-2 years 4 days") */
static void
duck_interval(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; in[i] && o + 8 < cap; i++) {
        if (strncmp(in + i, " mons", 5) == 0 &&
            (in[i + 5] == 0 || in[i + 5] == ' ')) {
            memcpy(out + o, " months", 7);
            o += 7;
            i += 4;
        } else if (strncmp(in + i, " mon", 4) == 0 &&
                   (in[i + 4] == 0 || in[i + 4] == ' ')) {
            memcpy(out + o, " month", 6);
            o += 6;
            i += 3;
        } else if (in[i] == '+' && i > 0 && in[i - 1] == ' ') {
            continue;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = 0;
}

static bool
duck_equal(const char *want, const char *got)
{
    if (strcmp(want, got) == 0 || num_equal(want, got) ||
        (strcmp(want, "(empty)") == 0 && got[0] == 0)) {
        return true;
    }
    char norm[4200];
    duck_interval(got, norm, sizeof norm);
    return strcmp(want, norm) == 0;
}

/* ---- running
 * ---------------------------------------------------------------------- */

typedef struct file_state {
    runner *r;
    const char *path;
    bool duckdb;
    bool native; /* --mode lakehouse: our semantics, messages checked */
    long hash_threshold;
    lh_session *s;
    counts c;
    bool halted;
} file_state;

static void
fail(file_state *fs, size_t line, const char *sql, const char *what)
{
    fs->c.fail++;
    if (fs->r->verbose && (fs->r->max_failures == 0 ||
                           fs->r->failures_shown < fs->r->max_failures)) {
        fs->r->failures_shown++;
        fprintf(stderr, "%s:%zu: %s\n  %s\n", fs->path, line, what, sql);
    }
}

/* Runs sql; *res the result (or NULL and err) */
static lh_rc
run_sql(file_state *fs, const char *sql, lh_result **res, lh_err *err)
{
    *res = NULL;
    lh_stmt *st;
    size_t used;
    lh_rc rc = lh_stmt_prepare(fs->s, sql, 0, &used, &st, err);
    if (rc != LH_OK) {
        return rc;
    }
    if (st == NULL) {
        return lh_stmt_prepare(fs->s, "SELECT 1 WHERE false", 0, &used, &st,
                               err); /* empty statement: a no-op */
    }
    rc = lh_stmt_execute(st, res, err);
    lh_stmt_free(st);
    return rc;
}

static bool
is_unsupported(lh_rc rc)
{
    return rc == LH_EUNSUPPORTED;
}

/* DuckDB's harness knobs (debug_force_external, verification, threads):
 * nothing to do here, README.md says to ignore them */
static bool
duck_knob(const char *sql)
{
    static const char *const knobs[] = {"debug_",
                                        "verify",
                                        "enable_verification",
                                        "threads",
                                        "order_by_non_integer_literal",
                                        "enable_profiling",
                                        "explain_output",
                                        "disable_verification",
                                        "force_"};
    while (*sql == ' ' || *sql == '\t') {
        sql++;
    }
    const char *rest;
    if (strncasecmp(sql, "SET ", 4) == 0) {
        rest = sql + 4;
    } else if (strncasecmp(sql, "PRAGMA ", 7) == 0) {
        rest = sql + 7;
    } else {
        return false;
    }
    while (*rest == ' ') {
        rest++;
    }
    for (size_t i = 0; i < sizeof knobs / sizeof *knobs; i++) {
        if (strncasecmp(rest, knobs[i], strlen(knobs[i])) == 0) {
            return true;
        }
    }
    return false;
}

static void
do_statement(file_state *fs, size_t line, bool expect_ok, const char *sql,
             const char *want_msg)
{
    lh_result *res;
    lh_err err;
    if (fs->duckdb && duck_knob(sql)) {
        return; /* not counted: nothing of ours ran */
    }
    lh_rc rc = run_sql(fs, sql, &res, &err);
    if (rc == LH_OK) {
        /* drain the rows of a query used as a statement */
        size_t n;
        lh_rc r2;
        do {
            r2 = lh_result_next(res, &n, &err);
        } while (r2 == LH_OK && n > 0);
        lh_result_free(res);
        rc = r2;
    }
    if (expect_ok && is_unsupported(rc)) {
        fs->c.skip++;
        add_reason(fs->r, err.msg);
        return;
    }
    if ((rc == LH_OK) == expect_ok) {
        if (!expect_ok && fs->native && want_msg &&
            strstr(err.msg, want_msg) == NULL) {
            char what[1200];
            snprintf(what, sizeof what,
                     "error \"%s\", expected one with "
                     "\"%s\"",
                     err.msg, want_msg);
            fail(fs, line, sql, what);
            return;
        }
        fs->c.pass++;
        return;
    }
    char what[700];
    snprintf(what, sizeof what, "statement %s: %s",
             expect_ok ? "failed" : "should have failed",
             rc == LH_OK ? "(it ran)" : err.msg);
    fail(fs, line, sql, what);
}

static void
do_query(file_state *fs, size_t line, const char *types, const char *sortmode,
         const char *sql, const strs *expect)
{
    lh_result *res;
    lh_err err;
    lh_rc rc = run_sql(fs, sql, &res, &err);
    strs vals = {0};
    size_t ncols = 0;
    if (rc == LH_OK) {
        ncols = lh_result_column_count(res);
        size_t n;
        char buf[4096];
        if (ncols == 0 && lh_result_rows_changed(res) >= 0) {
            /* DuckDB answers INSERT with the count */
            snprintf(buf, sizeof buf, "%lld",
                     (long long)lh_result_rows_changed(res));
            push(&vals, buf);
            ncols = 1;
        }
        while ((rc = lh_result_next(res, &n, &err)) == LH_OK && n > 0) {
            for (size_t i = 0; i < n; i++) {
                for (size_t c = 0; c < ncols; c++) {
                    char letter = c < strlen(types) ? types[c] : 'T';
                    if (fs->duckdb) {
                        render_duckdb(res, i, c, buf, sizeof buf);
                    } else {
                        render_sqlite(res, i, c, letter, buf, sizeof buf,
                                      fs->native);
                    }
                    push(&vals, buf);
                }
            }
        }
        lh_result_free(res);
    }
    if (rc != LH_OK) {
        if (is_unsupported(rc)) {
            fs->c.skip++;
            add_reason(fs->r, err.msg);
        } else {
            char what[700];
            snprintf(what, sizeof what, "query failed: %s", err.msg);
            fail(fs, line, sql, what);
        }
        free_strs(&vals);
        return;
    }
    if (ncols != strlen(types) && !fs->duckdb) {
        char what[128];
        snprintf(what, sizeof what, "%zu columns, the record says %zu", ncols,
                 strlen(types));
        fail(fs, line, sql, what);
        free_strs(&vals);
        return;
    }
    /* sort as the record asks */
    if (ncols && strcmp(sortmode, "rowsort") == 0) {
        size_t rows = vals.n / ncols;
        char **tmp = malloc((vals.n ? vals.n : 1) * sizeof(char *));
        if (vals.n) {
            memcpy(tmp, vals.v, vals.n * sizeof(char *));
        }
        /* sort row blocks: an array of row pointers */
        char ***rowp = malloc((rows ? rows : 1) * sizeof(char **));
        for (size_t i = 0; i < rows; i++) {
            rowp[i] = &tmp[i * ncols];
        }
        sort_ncols = ncols;
        /* qsort over pointers to rows */
        int (*cmp)(const void *, const void *) = cmp_row;
        (void)cmp;
        for (size_t i = 1; i < rows; i++) { /* insertion sort: stable */
            char **key = rowp[i];
            size_t j = i;
            while (j > 0 && cmp_row(rowp[j - 1], key) > 0) {
                rowp[j] = rowp[j - 1];
                j--;
            }
            rowp[j] = key;
        }
        char **sorted = malloc((vals.n ? vals.n : 1) * sizeof(char *));
        for (size_t i = 0; i < rows; i++) {
            memcpy(&sorted[i * ncols], rowp[i], ncols * sizeof(char *));
        }
        if (vals.n) {
            memcpy(vals.v, sorted, vals.n * sizeof(char *));
        }
        free(sorted);
        free(rowp);
        free(tmp);
    } else if (strcmp(sortmode, "valuesort") == 0) {
        if (vals.n) {
            qsort(vals.v, vals.n, sizeof(char *), cmp_str);
        }
    }
    /* compare */
    bool ok = true;
    char why[600] = "";
    if (!fs->duckdb && expect->n == 1 &&
        strstr(expect->v[0], " values hashing to ")) {
        long n = strtol(expect->v[0], NULL, 10);
        char hash[33];
        md5_hex(&vals, hash);
        const char *want = strstr(expect->v[0], "hashing to ") + 11;
        if ((long)vals.n != n || strcmp(hash, want) != 0) {
            ok = false;
            snprintf(why, sizeof why, "%zu values hashing to %s, expected %s",
                     vals.n, hash, expect->v[0]);
        }
    } else if (fs->duckdb) {
        /* one row a line, values tab-separated; or one value a line */
        strs want = {0};
        for (size_t i = 0; i < expect->n; i++) {
            char *line_copy = strdup(expect->v[i]);
            char *save = NULL;
            for (char *tok = strtok_r(line_copy, "\t", &save); tok;
                 tok = strtok_r(NULL, "\t", &save)) {
                push(&want, tok);
            }
            free(line_copy);
        }
        if (want.n != vals.n) {
            ok = false;
            snprintf(why, sizeof why, "%zu values (%zu rows), expected %zu",
                     vals.n, ncols ? vals.n / ncols : 0, want.n);
        }
        for (size_t i = 0; ok && i < vals.n; i++) {
            if (!duck_equal(want.v[i], vals.v[i])) {
                ok = false;
                snprintf(why, sizeof why,
                         "value %zu (row %zu col %zu): got "
                         "\"%s\", expected \"%s\"",
                         i + 1, ncols ? i / ncols + 1 : 0,
                         ncols ? i % ncols + 1 : 0, vals.v[i], want.v[i]);
            }
        }
        free_strs(&want);
    } else {
        if (vals.n > (size_t)fs->hash_threshold && fs->hash_threshold > 0 &&
            expect->n != vals.n) {
            /* the record holds the values themselves: compare them */
        }
        if (vals.n != expect->n) {
            ok = false;
            snprintf(why, sizeof why, "%zu values, expected %zu", vals.n,
                     expect->n);
        }
        for (size_t i = 0; ok && i < vals.n; i++) {
            if (strcmp(vals.v[i], expect->v[i]) != 0) {
                ok = false;
                snprintf(why, sizeof why,
                         "value %zu: got \"%s\", expected "
                         "\"%s\"",
                         i + 1, vals.v[i], expect->v[i]);
            }
        }
    }
    if (ok) {
        fs->c.pass++;
    } else {
        fail(fs, line, sql, why);
    }
    free_strs(&vals);
}

/* Joins lines [from, to) with newlines. */
static char *
join(lines *l, size_t from, size_t to)
{
    size_t len = 1;
    for (size_t i = from; i < to; i++) {
        len += strlen(l->v[i]) + 1;
    }
    char *s = malloc(len);
    s[0] = 0;
    for (size_t i = from; i < to; i++) {
        strcat(s, l->v[i]);
        if (i + 1 < to) {
            strcat(s, "\n");
        }
    }
    return s;
}

static bool
engine_is(const runner *r, const char *db)
{
    return strcasecmp(db, r->engine) == 0;
}

static void
run_file(runner *r, const char *path)
{
    lines l;
    if (!read_lines(path, &l)) {
        fprintf(stderr, "slt: could not read %s\n", path);
        r->total.fail++;
        return;
    }
    file_state fs = {.r = r, .path = path, .hash_threshold = 8};
    fs.duckdb = r->mode == 1 || (r->mode < 0 && strstr(path, "duckdb") != NULL);
    lh_err err;
    lh_session_options so = {.threads = 1};
    if (lh_session_open(NULL, &so, &fs.s, &err) != LH_OK) {
        fprintf(stderr, "slt: %s\n", err.msg);
        exit(1);
    }
    fs.native = r->mode == 2;
    if (!fs.native) {
        lh_session_set(fs.s, "division_by_zero", "null", &err);
    }
    if (!fs.native && !fs.duckdb) {
        /* SQLite's bare columns in aggregate queries */
        lh_session_set(fs.s, "ungrouped_columns", "any_value", &err);
    }
    if (fs.duckdb) {
        lh_session_set(fs.s, "integer_division", "float", &err);
        lh_session_set(fs.s, "default_null_order", "nulls_last", &err);
        fs.hash_threshold = 0;
    }
    bool skip_file = false;
    size_t i = 0;
    while (i < l.n && !fs.halted && !skip_file) {
        char *line = l.v[i];
        if (blank(line) || line[0] == '#') {
            i++;
            continue;
        }
        /* conditions */
        bool skip = false;
        const char *skip_why = NULL;
        while (i < l.n && (strncmp(l.v[i], "skipif ", 7) == 0 ||
                           strncmp(l.v[i], "onlyif ", 7) == 0)) {
            char db[64];
            sscanf(l.v[i] + 7, "%63s", db);
            bool is = engine_is(r, db);
            if (strncmp(l.v[i], "skipif", 6) == 0 ? is : !is) {
                skip = true;
                skip_why = strncmp(l.v[i], "onlyif", 6) == 0
                               ? "onlyif another engine"
                               : "skipif lakehouse";
            }
            i++;
        }
        if (i >= l.n) {
            break;
        }
        line = l.v[i];
        size_t rec_line = i + 1;
        char w[32] = "";
        sscanf(line, "%31s", w);
        if (strcmp(w, "halt") == 0) {
            if (!skip) {
                fs.halted = true;
            }
            i++;
            continue;
        }
        if (strcmp(w, "hash-threshold") == 0) {
            fs.hash_threshold = strtol(line + 15, NULL, 10);
            i++;
            continue;
        }
        if (strcmp(w, "require") == 0 || strcmp(w, "load") == 0 ||
            strcmp(w, "restart") == 0) {
            if (strcmp(w, "require") == 0 && !skip) {
                char why[128];
                snprintf(why, sizeof why, "require %s", line + 8);
                add_reason(r, why);
                skip_file = true;
            }
            i++;
            continue;
        }
        if (strcmp(w, "loop") == 0 || strcmp(w, "foreach") == 0 ||
            strcmp(w, "concurrentloop") == 0) {
            /* not run: skip to endloop, counting the records inside */
            while (i < l.n && strncmp(l.v[i], "endloop", 7) != 0) {
                if (strncmp(l.v[i], "query", 5) == 0 ||
                    strncmp(l.v[i], "statement", 9) == 0) {
                    fs.c.skip++;
                    add_reason(r, "loop");
                }
                i++;
            }
            i++;
            continue;
        }
        if (strcmp(w, "mode") == 0 || strcmp(w, "endloop") == 0) {
            i++;
            continue;
        }
        if (strcmp(w, "statement") == 0) {
            bool ok = strncmp(line + 10, "ok", 2) == 0;
            size_t s = ++i;
            while (i < l.n && !blank(l.v[i]) && strcmp(l.v[i], "----") != 0) {
                i++;
            }
            size_t e = i;
            /* statement error may carry an expected message (checked in
             * --mode lakehouse: the error's text must contain it) */
            const char *want_msg = NULL;
            if (i < l.n && strcmp(l.v[i], "----") == 0) {
                if (i + 1 < l.n && !blank(l.v[i + 1])) {
                    want_msg = l.v[i + 1];
                }
                while (i < l.n && !blank(l.v[i])) {
                    i++;
                }
            }
            if (skip) {
                fs.c.skip++;
                add_reason(r, skip_why);
                continue;
            }
            char *sql = join(&l, s, e);
            do_statement(&fs, rec_line, ok, sql, want_msg);
            free(sql);
            if (fs.c.fail && r->stop) {
                break;
            }
            continue;
        }
        if (strcmp(w, "query") == 0) {
            char types[64] = "", sortmode[32] = "nosort";
            sscanf(line + 6, "%63s %31s", types, sortmode);
            if (strncmp(sortmode, "label", 5) == 0) {
                strcpy(sortmode, "nosort");
            }
            size_t s = ++i;
            while (i < l.n && strcmp(l.v[i], "----") != 0 && !blank(l.v[i])) {
                i++;
            }
            size_t e = i;
            strs expect = {0};
            if (i < l.n && strcmp(l.v[i], "----") == 0) {
                i++;
                while (i < l.n && !blank(l.v[i])) {
                    push(&expect, l.v[i]);
                    i++;
                }
            }
            if (skip) {
                fs.c.skip++;
                add_reason(r, skip_why);
                free_strs(&expect);
                continue;
            }
            char *sql = join(&l, s, e);
            do_query(&fs, rec_line, types, sortmode, sql, &expect);
            free(sql);
            free_strs(&expect);
            if (fs.c.fail && r->stop) {
                break;
            }
            continue;
        }
        /* unknown directive */
        i++;
    }
    lh_session_close(fs.s);
    free_lines(&l);
    long run = fs.c.pass + fs.c.fail;
    printf("%-70s pass %6ld  fail %5ld  skip %5ld  (%.1f%%)\n", path, fs.c.pass,
           fs.c.fail, fs.c.skip,
           run ? 100.0 * (double)fs.c.pass / (double)run : 100.0);
    r->total.pass += fs.c.pass;
    r->total.fail += fs.c.fail;
    r->total.skip += fs.c.skip;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
run_path(runner *r, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "slt: no such file %s\n", path);
        r->total.fail++;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(r, path);
        return;
    }
    DIR *d = opendir(path);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            names = realloc(names, cap * sizeof(char *));
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(char *), cmp_names);
    for (size_t i = 0; i < n; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", path, names[i]);
        struct stat s2;
        if (stat(p, &s2) == 0 &&
            (S_ISDIR(s2.st_mode) || strstr(names[i], ".test"))) {
            run_path(r, p);
        }
        free(names[i]);
    }
    free(names);
}

static int
cmp_reason(const void *a, const void *b)
{
    const reason *x = a, *y = b;
    return x->n < y->n ? 1 : x->n > y->n ? -1 : 0;
}

int
main(int argc, char **argv)
{
    runner r = {.engine = "lakehouse", .mode = -1};
    double expect_pass = 0;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        const char *a = argv[first];
        if (strcmp(a, "--mode") == 0 && first + 1 < argc) {
            const char *m = argv[++first];
            r.mode = strcmp(m, "duckdb") == 0      ? 1
                     : strcmp(m, "lakehouse") == 0 ? 2
                                                   : 0;
        } else if (strcmp(a, "--engine") == 0 && first + 1 < argc) {
            r.engine = argv[++first];
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            r.verbose = true;
        } else if (strcmp(a, "--stop") == 0) {
            r.stop = true;
        } else if (strcmp(a, "--max-failures") == 0 && first + 1 < argc) {
            r.max_failures = strtol(argv[++first], NULL, 10);
        } else if (strcmp(a, "--expect-pass") == 0 && first + 1 < argc) {
            expect_pass = strtod(argv[++first], NULL);
        } else {
            fprintf(stderr, "slt: unknown option %s\n", a);
            return 2;
        }
    }
    if (first >= argc) {
        fprintf(stderr,
                "usage: slt [--mode sqlite|duckdb|lakehouse] [--verbose] "
                "[--expect-pass PCT] FILE|DIR...\n");
        return 2;
    }
    for (int i = first; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr,
                    "slt: %s is not there (the shared suites are "
                    "missing?): skipped\n",
                    argv[i]);
            return 77; /* CTest: skipped */
        }
    }
    lh_err err;
    lh_global_init(&err);
    for (int i = first; i < argc; i++) {
        run_path(&r, argv[i]);
    }
    long run = r.total.pass + r.total.fail;
    double pct = run ? 100.0 * (double)r.total.pass / (double)run : 100.0;
    printf("TOTAL pass %ld  fail %ld  skip %ld  pass rate %.2f%% of %ld run\n",
           r.total.pass, r.total.fail, r.total.skip, pct, run);
    qsort(r.reasons, (size_t)r.nreasons, sizeof(reason), cmp_reason);
    for (int i = 0; i < r.nreasons; i++) {
        printf("  skipped %6ld  %s\n", r.reasons[i].n, r.reasons[i].text);
    }
    return pct + 1e-9 < expect_pass ? 1 : 0;
}
