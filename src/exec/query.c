/*
 * The public SQL API (lakehouse.h, "SQL"): sessions, prepared statements,
 * results. A statement is parsed at prepare; each execution binds it with
 * the parameter values (so they fold and prune like literals), optimizes,
 * plans and runs it. Queries stream their result batches from the root
 * operator; the other statements run to completion in lh_stmt_execute.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "exec/session.h"
#include "exec/sources.h"
#include "format/parquet/codec.h"
#include "format/parquet/writer.h"

_Static_assert((int)LH_SQL_MAP == (int)LH_T_MAP &&
                   (int)LH_SQL_DECIMAL == (int)LH_T_DECIMAL &&
                   (int)LH_SQL_VECTOR == (int)LH_T_VECTOR,
               "lh_sql_type_id mirrors lh_type_id");

struct lh_stmt {
    lh_session *s;
    lh_arena arena; /* the text and its AST */
    char *text;
    size_t len;
    lh_sql_stmt st;
    lh_value *params;
    int32_t nparams; /* slots in params */
    lh_arena params_arena;
};

typedef enum result_kind {
    RES_NONE = 0, /* a statement without rows */
    RES_ROWS,     /* a query: batches from the root operator */
    RES_STATIC,   /* rows made here (EXPLAIN, SHOW) */
} result_kind;

struct lh_result {
    lh_session *s;
    result_kind kind;
    lh_arena arena; /* plan, physical plan, static rows */
    lh_exec ex;
    bool ex_ready;
    lh_sql_query *q;
    lh_pnode *root;
    lh_xop *op;
    bool opened;
    lh_batch *cur;
    lh_batch static_batch;
    bool static_done;
    size_t ncols;
    lh_column_info *cols;
    lh_type *types;
    int64_t changed;
    uint64_t rows_read;
    bool done;
    char tag[64];
    lh_buf text;
    lh_arena cell_arena;
    size_t max_width; /* table format: cells cut here (0 = the default) */
};

/* ---- sessions
 * -------------------------------------------------------------------- */

static int64_t
default_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || size <= 0) {
        return (int64_t)4 << 30;
    }
    return (int64_t)pages * size / 2;
}

lh_rc
lh_session_open(lh_db *db, const lh_session_options *opts, lh_session **out,
                lh_err *err)
{
    const lh_sql_dialect *d = lh_sql_dialect_find(opts ? opts->dialect : NULL);
    if (d == NULL) {
        return lh_err_set(err, LH_EINVAL, "unknown SQL dialect \"%s\"",
                          opts->dialect);
    }
    lh_session *s = lh_calloc(1, sizeof(lh_session));
    if (s == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = lh__registry_new(&s->reg, err);
    if (rc != LH_OK) {
        lh_free(s);
        return rc;
    }
    s->db = db;
    s->dialect = d;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    s->set.threads = opts && opts->threads > 0 ? opts->threads
                     : cpus > 0                ? (int)cpus
                                               : 1;
    s->set.memory_limit =
        opts && opts->memory_limit > 0 ? opts->memory_limit : default_memory();
    atomic_store(&s->cancel, false);
    lh__catalog_init(s);
    *out = s;
    return LH_OK;
}

void
lh_session_close(lh_session *s)
{
    if (s == NULL) {
        return;
    }
    lh__catalog_release(s);
    lh__registry_free(s->reg);
    lh_free(s->files.root);
    lh_free(s);
}

void
lh_session_cancel(lh_session *s)
{
    atomic_store(&s->cancel, true);
}

static lh_rc
parse_bytes(const char *v, int64_t *out)
{
    char *end;
    double x = strtod(v, &end);
    while (*end == ' ') {
        end++;
    }
    double mul = 1;
    if (strcasecmp(end, "kb") == 0 || strcasecmp(end, "k") == 0 ||
        strcasecmp(end, "kib") == 0) {
        mul = 1024;
    } else if (strcasecmp(end, "mb") == 0 || strcasecmp(end, "m") == 0 ||
               strcasecmp(end, "mib") == 0) {
        mul = 1024.0 * 1024;
    } else if (strcasecmp(end, "gb") == 0 || strcasecmp(end, "g") == 0 ||
               strcasecmp(end, "gib") == 0) {
        mul = 1024.0 * 1024 * 1024;
    } else if (*end != 0 && strcasecmp(end, "b") != 0) {
        return LH_EINVAL;
    }
    if (x <= 0) {
        return LH_EINVAL;
    }
    *out = (int64_t)(x * mul);
    return LH_OK;
}

lh_rc
lh_session_set(lh_session *s, const char *name, const char *value, lh_err *err)
{
    const char *n = strncasecmp(name, "lakehouse.", 10) == 0 ? name + 10 : name;
    if (strcasecmp(n, "integer_division") == 0) {
        if (strcasecmp(value, "float") == 0 ||
            strcasecmp(value, "double") == 0) {
            s->set.int_div_float = true;
        } else if (strcasecmp(value, "truncate") == 0 ||
                   strcasecmp(value, "integer") == 0) {
            s->set.int_div_float = false;
        } else {
            return lh_err_set(err, LH_EINVAL,
                              "integer_division is 'truncate' or 'float', "
                              "not \"%s\"",
                              value);
        }
        return LH_OK;
    }
    if (strcasecmp(n, "division_by_zero") == 0) {
        if (strcasecmp(value, "null") == 0) {
            s->set.div_zero_null = true;
        } else if (strcasecmp(value, "error") == 0) {
            s->set.div_zero_null = false;
        } else {
            return lh_err_set(err, LH_EINVAL,
                              "division_by_zero is 'error' or 'null', not "
                              "\"%s\"",
                              value);
        }
        return LH_OK;
    }
    if (strcasecmp(n, "ungrouped_columns") == 0) {
        if (strcasecmp(value, "any_value") == 0) {
            s->set.ungrouped_any = true;
        } else if (strcasecmp(value, "error") == 0) {
            s->set.ungrouped_any = false;
        } else {
            return lh_err_set(err, LH_EINVAL,
                              "ungrouped_columns is 'error' or 'any_value', "
                              "not \"%s\"",
                              value);
        }
        return LH_OK;
    }
    if (strcasecmp(n, "default_null_order") == 0 ||
        strcasecmp(n, "null_order") == 0) {
        if (strcasecmp(value, "nulls_first") == 0 ||
            strcasecmp(value, "nulls first") == 0) {
            s->set.nulls_first_asc = true;
            s->set.nulls_last_desc = false;
        } else if (strcasecmp(value, "nulls_last") == 0 ||
                   strcasecmp(value, "nulls last") == 0) {
            s->set.nulls_first_asc = false;
            s->set.nulls_last_desc = true;
        } else if (strcasecmp(value, "nulls_last_on_asc_first_on_desc") == 0 ||
                   strcasecmp(value, "postgres") == 0 ||
                   strcasecmp(value, "default") == 0) {
            s->set.nulls_first_asc = false;
            s->set.nulls_last_desc = false;
        } else {
            return lh_err_set(err, LH_EINVAL,
                              "default_null_order is 'nulls_first', "
                              "'nulls_last' or "
                              "'nulls_last_on_asc_first_on_desc', not \"%s\"",
                              value);
        }
        return LH_OK;
    }
    if (strcasecmp(n, "threads") == 0 || strcasecmp(n, "worker_threads") == 0) {
        char *end;
        long t = strtol(value, &end, 10);
        if (*end || t < 1 || t > 64) {
            return lh_err_set(err, LH_EINVAL, "threads is 1..64, not \"%s\"",
                              value);
        }
        s->set.threads = (int)t;
        return LH_OK;
    }
    if (strcasecmp(n, "memory_limit") == 0 || strcasecmp(n, "work_mem") == 0) {
        int64_t b;
        if (parse_bytes(value, &b) != LH_OK) {
            return lh_err_set(err, LH_EINVAL,
                              "memory_limit is a size (\"512MB\"), not "
                              "\"%s\"",
                              value);
        }
        s->set.memory_limit = b;
        return LH_OK;
    }
    if (strcasecmp(n, "hnsw.ef_search") == 0) {
        /* candidates of a vector search (opt_vector.c); 0 = each table's */
        char *end;
        long v = strtol(value, &end, 10);
        if (*end || end == value || v < 0 || v > 10000) {
            return lh_err_set(err, LH_EINVAL,
                              "hnsw.ef_search is 1..10000 (0: the table's), "
                              "not \"%s\"",
                              value);
        }
        s->set.hnsw_ef_search = (uint32_t)v;
        return LH_OK;
    }
    if (strcasecmp(n, "ivfpq.nprobe") == 0 ||
        strcasecmp(n, "ivfpq.refine") == 0) {
        /* the lake's warm index searches (router_knn.c); 0 = each table's */
        bool np = strcasecmp(n, "ivfpq.nprobe") == 0;
        long hi = np ? 65536 : 100;
        char *end;
        long v = strtol(value, &end, 10);
        if (*end || end == value || v < 0 || v > hi) {
            return lh_err_set(err, LH_EINVAL,
                              "%s is 1..%ld (0: the table's), not \"%s\"",
                              np ? "ivfpq.nprobe" : "ivfpq.refine", hi, value);
        }
        *(np ? &s->set.ivfpq_nprobe : &s->set.ivfpq_refine) = (uint32_t)v;
        return LH_OK;
    }
    if (strcasecmp(n, "timezone") == 0 || strcasecmp(n, "time zone") == 0) {
        if (strcasecmp(value, "utc") != 0 && strcasecmp(value, "gmt") != 0 &&
            strcmp(value, "+00") != 0 && strcmp(value, "0") != 0) {
            return lh_err_set(err, LH_EUNSUPPORTED,
                              "unsupported: time zone \"%s\" (timestamps are "
                              "UTC)",
                              value);
        }
        return LH_OK;
    }
    return lh_err_set(err, LH_EINVAL,
                      "unrecognized configuration parameter "
                      "\"%s\"",
                      name);
}

static const char *
setting_value(lh_session *s, const char *name, char *buf, size_t n)
{
    const char *k = strncasecmp(name, "lakehouse.", 10) == 0 ? name + 10 : name;
    if (strcasecmp(k, "integer_division") == 0) {
        return s->set.int_div_float ? "float" : "truncate";
    }
    if (strcasecmp(k, "division_by_zero") == 0) {
        return s->set.div_zero_null ? "null" : "error";
    }
    if (strcasecmp(k, "ungrouped_columns") == 0) {
        return s->set.ungrouped_any ? "any_value" : "error";
    }
    if (strcasecmp(k, "default_null_order") == 0) {
        return s->set.nulls_first_asc   ? "nulls_first"
               : s->set.nulls_last_desc ? "nulls_last"
                                        : "nulls_last_on_asc_first_on_desc";
    }
    if (strcasecmp(k, "threads") == 0) {
        snprintf(buf, n, "%d", s->set.threads);
        return buf;
    }
    if (strcasecmp(k, "memory_limit") == 0) {
        snprintf(buf, n, "%lld", (long long)s->set.memory_limit);
        return buf;
    }
    if (strcasecmp(k, "hnsw.ef_search") == 0) {
        snprintf(buf, n, "%u", s->set.hnsw_ef_search);
        return buf;
    }
    if (strcasecmp(k, "ivfpq.nprobe") == 0) {
        snprintf(buf, n, "%u", s->set.ivfpq_nprobe);
        return buf;
    }
    if (strcasecmp(k, "ivfpq.refine") == 0) {
        snprintf(buf, n, "%u", s->set.ivfpq_refine);
        return buf;
    }
    if (strcasecmp(k, "timezone") == 0) {
        return "UTC";
    }
    return NULL;
}

/* ---- statements
 * ------------------------------------------------------------------------ */

lh_rc
lh_stmt_prepare(lh_session *s, const char *sql, size_t len, size_t *used,
                lh_stmt **out, lh_err *err)
{
    *out = NULL;
    if (len == 0) {
        len = strlen(sql);
    }
    lh_stmt *st = lh_calloc(1, sizeof(lh_stmt));
    if (st == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    st->s = s;
    lh_arena_init(&st->arena, 0);
    lh_arena_init(&st->params_arena, 0);
    st->text = lh_arena_strndup(&st->arena, sql, len);
    st->len = len;
    if (st->text == NULL) {
        lh_stmt_free(st);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_sql_stmt *stmts;
    uint32_t n;
    lh_rc rc =
        lh_sql_parse(st->text, len, s->dialect, &st->arena, &stmts, &n, err);
    if (rc != LH_OK) {
        lh_stmt_free(st);
        return rc;
    }
    if (n == 0) {
        if (used) {
            *used = len;
        }
        lh_stmt_free(st);
        return LH_OK;
    }
    st->st = stmts[0];
    if (used) {
        /* through its ';' */
        size_t e = (size_t)stmts[0].end;
        while (e < len && (isspace((unsigned char)sql[e]) || sql[e] == ';')) {
            e++;
            if (sql[e - 1] == ';') {
                break;
            }
        }
        *used = e;
    }
    *out = st;
    return LH_OK;
}

int
lh_stmt_param_count(const lh_stmt *st)
{
    /* $n: the highest n; ?: their count (the parser numbered them) */
    return st->st.nparams > st->nparams ? st->st.nparams : st->nparams;
}

int
lh_stmt_param_index(const lh_stmt *st, const char *name)
{
    if (name && (name[0] == ':' || name[0] == '$')) {
        name++;
    }
    for (uint32_t i = 0; name && i < st->st.nnamed; i++) {
        if (strcmp(st->st.param_names[i], name) == 0) {
            return (int)i + 1;
        }
    }
    return 0;
}

const char *
lh_stmt_param_name(const lh_stmt *st, int i)
{
    if (i < 1 || (uint32_t)i > st->st.nnamed) {
        return NULL;
    }
    return st->st.param_names[i - 1];
}

lh_rc
lh_stmt_bind_named(lh_stmt *st, const char *name, const lh_cell *v, lh_err *err)
{
    int i = lh_stmt_param_index(st, name);
    if (i == 0) {
        return lh_err_set(err, LH_EINVAL,
                          "the statement has no parameter "
                          ":%s",
                          name && (name[0] == ':' || name[0] == '$') ? name + 1
                                                                     : name);
    }
    return lh_stmt_bind(st, i, v, err);
}

lh_rc
lh_stmt_bind(lh_stmt *st, int i, const lh_cell *v, lh_err *err)
{
    if (i < 1 || i > 65535) {
        return lh_err_set(err, LH_EINVAL, "parameter index %d is out of range",
                          i);
    }
    if (i > st->nparams) {
        lh_value *np = lh_realloc(st->params, (size_t)i * sizeof(lh_value));
        if (np == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        for (int k = st->nparams; k < i; k++) {
            memset(&np[k], 0, sizeof(lh_value));
            np[k].is_null = true;
            np[k].type = lh_sql_type(LH_T_NULL);
        }
        st->params = np;
        st->nparams = i;
    }
    lh_value *p = &st->params[i - 1];
    memset(p, 0, sizeof *p);
    switch (v->kind) {
    case LH_CELL_NULL:
        p->is_null = true;
        p->type = lh_sql_type(LH_T_NULL);
        break;
    case LH_CELL_BOOL:
        p->type = lh_sql_type(LH_T_BOOLEAN);
        p->u.b = v->u.b;
        break;
    case LH_CELL_INT:
        p->type = lh_sql_type(v->u.i >= INT32_MIN && v->u.i <= INT32_MAX
                                  ? LH_T_INTEGER
                                  : LH_T_BIGINT);
        p->u.i = v->u.i;
        break;
    case LH_CELL_DOUBLE:
        p->type = lh_sql_type(LH_T_DOUBLE);
        p->u.d = v->u.d;
        break;
    case LH_CELL_TEXT:
    case LH_CELL_BYTES: {
        char *c = lh_arena_memdup(&st->params_arena, v->u.s.p,
                                  v->u.s.len ? v->u.s.len : 1);
        if (c == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        p->type =
            lh_sql_type(v->kind == LH_CELL_TEXT ? LH_T_VARCHAR : LH_T_BLOB);
        p->u.s.p = c;
        p->u.s.len = v->u.s.len;
        break;
    }
    default:
        return lh_err_set(err, LH_EINVAL, "unknown cell kind %d", v->kind);
    }
    return LH_OK;
}

void
lh_stmt_free(lh_stmt *st)
{
    if (st == NULL) {
        return;
    }
    lh_free(st->params);
    lh_arena_release(&st->params_arena);
    lh_arena_release(&st->arena);
    lh_free(st);
}

/* ---- results
 * ----------------------------------------------------------------------------
 */

static lh_result *
result_new(lh_session *s)
{
    lh_result *r = lh_calloc(1, sizeof(lh_result));
    if (r == NULL) {
        return NULL;
    }
    r->s = s;
    lh_arena_init(&r->arena, 0);
    lh_arena_init(&r->cell_arena, 0);
    r->changed = -1;
    return r;
}

void
lh_result_free(lh_result *r)
{
    if (r == NULL) {
        return;
    }
    lh__op_free(r->op);
    if (r->ex_ready) {
        lh__exec_release(&r->ex);
    }
    lh__catalog_end_statement(r->s);
    lh_buf_release(&r->text);
    lh_arena_release(&r->cell_arena);
    lh_arena_release(&r->arena);
    lh_free(r);
}

static lh_rc
set_columns(lh_result *r, uint32_t n, const char *const *names,
            const lh_type *types, lh_err *err)
{
    r->ncols = n;
    r->cols = lh_arena_calloc(&r->arena, (n ? n : 1) * sizeof(lh_column_info));
    r->types = lh_arena_calloc(&r->arena, (n ? n : 1) * sizeof(lh_type));
    if (r->cols == NULL || r->types == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < n; i++) {
        lh_type t = types[i];
        char tn[48];
        r->types[i] = t;
        r->cols[i].name = lh_arena_strdup(&r->arena, names[i] ? names[i] : "");
        r->cols[i].type = t.id;
        r->cols[i].precision = t.precision;
        r->cols[i].scale = t.scale;
        r->cols[i].length = t.length;
        r->cols[i].dim = t.dim;
        r->cols[i].type_name = lh_arena_strdup(
            &r->arena, t.id == LH_T_NULL ? "NULL" : lh_type_name(t, tn));
        if (r->cols[i].name == NULL || r->cols[i].type_name == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    return LH_OK;
}

size_t
lh_result_column_count(const lh_result *r)
{
    return r->ncols;
}

const lh_column_info *
lh_result_column(const lh_result *r, size_t i)
{
    return i < r->ncols ? &r->cols[i] : NULL;
}

const char *
lh_result_tag(const lh_result *r)
{
    return r->tag;
}

int64_t
lh_result_rows_changed(const lh_result *r)
{
    return r->changed;
}

lh_rc
lh_result_next(lh_result *r, size_t *rows, lh_err *err)
{
    *rows = 0;
    lh_arena_reset(&r->cell_arena);
    if (r->done) {
        return LH_OK;
    }
    if (r->kind == RES_STATIC) {
        if (r->static_done) {
            r->done = true;
            r->cur = NULL;
            return LH_OK;
        }
        r->static_done = true;
        r->cur = &r->static_batch;
        *rows = r->static_batch.count;
        if (*rows == 0) {
            r->done = true;
        }
        return LH_OK;
    }
    if (r->kind != RES_ROWS) {
        r->done = true;
        return LH_OK;
    }
    if (!r->opened) {
        r->opened = true;
        lh_rc rc = lh__op_open(r->op, err);
        if (rc != LH_OK) {
            r->done = true;
            return rc;
        }
    }
    for (;;) {
        lh_batch *b;
        lh_rc rc = lh__op_next(r->op, &b, err);
        if (rc != LH_OK) {
            r->done = true;
            return rc;
        }
        if (b == NULL) {
            r->done = true;
            r->cur = NULL;
            snprintf(r->tag, sizeof r->tag, "SELECT %llu",
                     (unsigned long long)r->rows_read);
            return LH_OK;
        }
        size_t n = b->sel ? b->nsel : b->count;
        if (n == 0) {
            continue;
        }
        r->cur = b;
        r->rows_read += n;
        *rows = n;
        return LH_OK;
    }
}

static uint32_t
phys_row(const lh_result *r, size_t row)
{
    return r->cur->sel ? r->cur->sel[row] : (uint32_t)row;
}

bool
lh_result_is_null(const lh_result *r, size_t row, size_t col)
{
    if (r->cur == NULL || col >= r->ncols) {
        return true;
    }
    const lh_vector *v = &r->cur->cols[col];
    uint32_t pr = phys_row(r, row);
    if (!lh_vec_valid(v, pr)) {
        return true;
    }
    if (v->kind == LH_VEC_DICT && v->dict->validity) {
        return !lh_vec_valid(v->dict, ((const uint32_t *)v->data)[pr]);
    }
    return false;
}

static lh_rc
cell_value(lh_result *r, size_t row, size_t col, lh_value *out, lh_err *err)
{
    if (r->cur == NULL || col >= r->ncols) {
        return lh_err_set(err, LH_EINVAL, "no such row or column");
    }
    lh_rc rc = lh_vector_value(&r->cur->cols[col], phys_row(r, row),
                               &r->cell_arena, out, err);
    if (rc == LH_OK && lh_result_is_null(r, row, col)) {
        out->is_null = true;
    }
    return rc;
}

const char *
lh_result_text(lh_result *r, size_t row, size_t col, size_t *len)
{
    lh_value v;
    if (cell_value(r, row, col, &v, NULL) != LH_OK || v.is_null) {
        if (len) {
            *len = 0;
        }
        return NULL;
    }
    lh_buf_reset(&r->text);
    lh_value_to_text(&v, &r->text);
    if (!lh_buf_ok(&r->text)) {
        return NULL;
    }
    if (r->text.data == NULL) {
        lh_buf_putc(&r->text, 0);
        r->text.len = 0;
    }
    if (len) {
        *len = r->text.len;
    }
    return r->text.data;
}

lh_rc
lh_result_get(lh_result *r, size_t row, size_t col, lh_cell *out, lh_err *err)
{
    lh_value v;
    lh_rc rc = cell_value(r, row, col, &v, err);
    if (rc != LH_OK) {
        return rc;
    }
    memset(out, 0, sizeof *out);
    if (v.is_null) {
        out->kind = LH_CELL_NULL;
        return LH_OK;
    }
    switch (v.type.id) {
    case LH_T_BOOLEAN:
        out->kind = LH_CELL_BOOL;
        out->u.b = v.u.b;
        return LH_OK;
    case LH_T_SMALLINT:
    case LH_T_INTEGER:
    case LH_T_BIGINT:
    case LH_T_DATE:
    case LH_T_TIME:
    case LH_T_TIMESTAMP:
    case LH_T_TIMESTAMPTZ:
        out->kind = LH_CELL_INT;
        out->u.i = v.u.i;
        return LH_OK;
    case LH_T_REAL:
    case LH_T_DOUBLE:
        out->kind = LH_CELL_DOUBLE;
        out->u.d = v.u.d;
        return LH_OK;
    case LH_T_BLOB:
        out->kind = LH_CELL_BYTES;
        out->u.s.p = v.u.s.p;
        out->u.s.len = v.u.s.len;
        return LH_OK;
    case LH_T_VECTOR:
        out->kind = LH_CELL_BYTES;
        out->u.s.p = v.u.vec.v;
        out->u.s.len = v.u.vec.n * sizeof(float);
        return LH_OK;
    default: {
        size_t l;
        const char *t = lh_result_text(r, row, col, &l);
        out->kind = LH_CELL_TEXT;
        out->u.s.p = t ? t : "";
        out->u.s.len = t ? l : 0;
        return LH_OK;
    }
    }
}

lh_rc
lh_result_write(lh_result *r, const char *format, FILE *out, lh_err *err)
{
    if (r->ncols == 0) {
        return LH_OK;
    }
    lh_format fmt;
    lh_rc rc = lh_format_parse(format ? format : "table", &fmt, err);
    if (rc != LH_OK) {
        return rc;
    }
    const char **names = lh_arena_alloc(&r->arena, r->ncols * sizeof(char *));
    if (names == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < r->ncols; i++) {
        names[i] = r->cols[i].name;
    }
    lh_output *o;
    rc = lh_output_new(fmt, out, names, r->types, r->ncols, &o, err);
    if (rc != LH_OK) {
        return rc;
    }
    if (r->max_width) {
        lh_output_set_max_width(o, r->max_width);
    }
    lh_value *vals = lh_calloc(r->ncols, sizeof(lh_value));
    if (vals == NULL) {
        lh_output_free(o);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (;;) {
        size_t n;
        rc = lh_result_next(r, &n, err);
        if (rc != LH_OK || n == 0) {
            break;
        }
        for (size_t i = 0; i < n && rc == LH_OK; i++) {
            for (size_t c = 0; c < r->ncols && rc == LH_OK; c++) {
                rc = cell_value(r, i, c, &vals[c], err);
            }
            if (rc == LH_OK) {
                rc = lh_output_row(o, vals, err);
            }
            if (i % 256 == 255) {
                lh_arena_reset(&r->cell_arena);
            }
        }
        if (rc != LH_OK) {
            break;
        }
    }
    if (rc == LH_OK) {
        rc = lh_output_finish(o, err);
    }
    lh_free(vals);
    lh_output_free(o);
    return rc;
}

/* ---- running statements
 * ---------------------------------------------------------------- */

typedef struct fold_ctx {
    lh_session *s;
    lh_exec *ex;
} fold_ctx;

static lh_rc
fold(void *ud, const lh_bexpr *e, lh_arena *a, lh_value *out, lh_err *err)
{
    fold_ctx *fc = ud;
    lh_pctx pc = {.ex = fc->ex, .a = a, .err = err};
    lh_cscope sc = {0};
    lh_cexpr *c;
    lh_rc rc = lh__compile(&pc, &sc, e, &c);
    if (rc != LH_OK) {
        return rc;
    }
    lh_arena ea;
    lh_arena_init(&ea, 0);
    lh_evalctx ec = {.ex = fc->ex, .arena = &ea, .err = err};
    lh_batch one = {.count = 1};
    const lh_vector *v;
    static const uint32_t zero = 0;
    rc = lh__eval(&ec, c, &one, &zero, 1, &v);
    if (rc == LH_OK) {
        lh_value val;
        rc = lh_vector_value(v, 0, a, &val, err);
        if (rc == LH_OK && !val.is_null &&
            (val.type.id == LH_T_VARCHAR || val.type.id == LH_T_BLOB ||
             val.type.id == LH_T_JSON)) {
            char *p =
                lh_arena_memdup(a, val.u.s.p, val.u.s.len ? val.u.s.len : 1);
            if (p == NULL) {
                rc = lh_err_set(err, LH_ENOMEM, "out of memory");
            }
            val.u.s.p = p;
        }
        if (rc == LH_OK && !val.is_null && val.type.id == LH_T_VECTOR) {
            float *p = lh_arena_memdup(a, val.u.vec.v,
                                       val.u.vec.n * sizeof(float) + 1);
            if (p == NULL) {
                rc = lh_err_set(err, LH_ENOMEM, "out of memory");
            }
            val.u.vec.v = p;
        }
        *out = val;
    }
    lh_arena_release(&ea);
    return rc;
}

/* Runs a physical plan to its end, calling fn on each batch. */
static lh_rc
drain(lh_exec *ex, lh_pnode *n, lh_rc (*fn)(void *ud, lh_batch *b, lh_err *),
      void *ud, lh_err *err)
{
    lh_xop *op;
    lh_rc rc = lh__op_make(ex, n, NULL, NULL, 0, &op, err);
    if (rc != LH_OK) {
        return rc;
    }
    rc = lh__op_open(op, err);
    while (rc == LH_OK) {
        lh_batch *b;
        rc = lh__op_next(op, &b, err);
        if (rc != LH_OK || b == NULL) {
            break;
        }
        if (fn) {
            rc = fn(ud, b, err);
        }
    }
    lh__stats_absorb(op);
    lh__op_free(op);
    return rc;
}

static lh_rc
plan(lh_result *r, const lh_plan *p, lh_pnode **out, lh_err *err)
{
    lh_pctx pc = {.ex = &r->ex, .q = r->q, .a = &r->arena, .err = err};
    return lh__physical(&pc, p, NULL, 0, out);
}

/* ---- INSERT, CREATE TABLE AS
 * --------------------------------------------------------------- */

typedef struct collect {
    lh_memtable *t;
    int64_t rows;
} collect;

static lh_rc
collect_fn(void *ud, lh_batch *b, lh_err *err)
{
    collect *c = ud;
    c->rows += b->sel ? b->nsel : b->count;
    return lh__memtable_append(c->t, b, err);
}

/* Runs the query into a fresh memory table (so that INSERT INTO t SELECT
 * FROM t reads t as it was). */
static lh_rc
run_into(lh_result *r, const lh_plan *q, const char *name, lh_memtable **out,
         int64_t *rows, lh_err *err)
{
    lh_sql_column *cols =
        lh_arena_calloc(&r->arena, (q->ncols + 1) * sizeof(lh_sql_column));
    if (cols == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < q->ncols; i++) {
        cols[i].name = q->names[i] ? q->names[i] : "?column?";
        cols[i].type = q->types[i];
        cols[i].nullable = true;
    }
    lh_memtable *t;
    lh_rc rc = lh__memtable_new(name, cols, q->ncols, &t, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_pnode *n;
    rc = plan(r, q, &n, err);
    collect c = {t, 0};
    if (rc == LH_OK) {
        rc = drain(&r->ex, n, collect_fn, &c, err);
    }
    if (rc != LH_OK) {
        lh__memtable_free(t);
        return rc;
    }
    *out = t;
    *rows = c.rows;
    return LH_OK;
}

static lh_rc
append_all(lh_memtable *to, lh_memtable *from, lh_err *err)
{
    const lh_source *src = lh__memtable_source(from);
    uint32_t nc;
    lh__memtable_cols(from, &nc);
    uint32_t *cols = lh_calloc(nc ? nc : 1, sizeof(uint32_t));
    if (cols == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < nc; i++) {
        cols[i] = i;
    }
    lh_scan_request req = {.cols = cols, .ncols = nc};
    lh_source_scan *s;
    lh_rc rc = src->vt->open(src, &req, NULL, &s, err);
    while (rc == LH_OK) {
        lh_batch b;
        rc = src->vt->next(s, &b, err);
        if (rc != LH_OK || b.count == 0) {
            break;
        }
        rc = lh__memtable_append(to, &b, err);
    }
    if (s) {
        src->vt->close(s);
    }
    lh_free(cols);
    return rc;
}

static lh_rc
exec_insert(lh_result *r, const lh_plan *p, lh_err *err)
{
    const lh_sql_table *t = p->u.insert.table;
    if (t->kind == LH_SQL_TABLE_EVENT) {
        /* appends, after the query ran whole (INSERT INTO t SELECT FROM t
         * reads t as it was) */
        lh_memtable *tmp;
        int64_t rows;
        lh_rc rc = run_into(r, p->children[0], t->name, &tmp, &rows, err);
        if (rc != LH_OK) {
            return rc;
        }
        rc = lh__event_insert(r->s->db, t, lh__memtable_source(tmp), t->ncols,
                              &rows, err);
        lh__memtable_free(tmp);
        if (rc != LH_OK) {
            return rc;
        }
        r->changed = rows;
        snprintf(r->tag, sizeof r->tag, "INSERT 0 %lld", (long long)rows);
        return LH_OK;
    }
    if (t->kind != LH_SQL_TABLE_MEMORY) {
        return lh_err_set(err, LH_EUNSUPPORTED,
                          "unsupported: INSERT into \"%s\"", t->name);
    }
    lh_memtable *target = lh__session_table(r->s, t->name);
    if (target == NULL) {
        return lh_err_set(err, LH_ENOENT, "relation \"%s\" does not exist",
                          t->name);
    }
    lh_memtable *tmp;
    int64_t rows;
    lh_rc rc = run_into(r, p->children[0], t->name, &tmp, &rows, err);
    if (rc != LH_OK) {
        return rc;
    }
    rc = append_all(target, tmp, err);
    lh__memtable_free(tmp);
    if (rc != LH_OK) {
        return rc;
    }
    r->changed = rows;
    snprintf(r->tag, sizeof r->tag, "INSERT 0 %lld", (long long)rows);
    return LH_OK;
}

/* ---- DDL
 * ---------------------------------------------------------------------------------
 */

/* CREATE TABLE in a session over a data directory: an event table
 * (event_ddl.c has the mapping), with CREATE TABLE AS's rows appended as
 * its first events. */
static lh_rc
create_event_table(lh_result *r, const lh_plan *p, lh_err *err)
{
    const lh_ast *a = p->u.ddl.ast;
    const lh_ast_name *nm = &a->u.create_table.name;
    const char *name = nm->parts[nm->n - 1];
    lh_sql_table *et = NULL;
    void *res = NULL;
    lh_arena ta;
    lh_arena_init(&ta, 0);
    bool exists =
        lh__event_table(r->s->db, name, &ta, &et, &res, NULL) == LH_OK;
    lh__event_table_free(res);
    res = NULL;
    lh_arena_release(&ta);
    if (exists || lh__session_view(r->s, name)) {
        if (a->u.create_table.if_not_exists) {
            return LH_OK;
        }
        lh_err_set(err, LH_EEXIST,
                   a->u.create_table.or_replace
                       ? "unsupported: CREATE OR REPLACE of event table "
                         "\"%s\" (DROP TABLE it first)"
                       : "relation \"%s\" already exists",
                   name);
        if (err) {
            err->offset = a->pos;
        }
        return LH_EEXIST;
    }
    lh_memtable *rows = NULL;
    int64_t nrows = 0;
    const lh_sql_column *qcols = NULL;
    uint32_t nq = 0;
    lh_rc rc = LH_OK;
    if (a->u.create_table.as_query) {
        rc = run_into(r, p->children[0], name, &rows, &nrows, err);
        if (rc == LH_OK) {
            qcols = lh__memtable_cols(rows, &nq);
        }
    }
    char *json = NULL;
    if (rc == LH_OK) {
        rc = lh__event_tabledef(a, qcols, nq, &json, err);
    }
    if (rc == LH_OK) {
        rc = lh_table_create(r->s->db, json, strlen(json), err);
        free(json); /* jansson's */
        if (rc == LH_EEXIST || rc == LH_EREADONLY || rc == LH_EINVAL) {
            if (rc == LH_EREADONLY) {
                lh_err_set(err, rc,
                           "cannot create table \"%s\": the data directory "
                           "is open read-only here (another process holds "
                           "it); CREATE TEMP TABLE makes a table of this "
                           "session",
                           name);
            } else if (err) {
                lh_err_prefix(err, "CREATE TABLE %s", name);
            }
            if (err) {
                err->offset = a->pos;
            }
        }
    }
    if (rc == LH_OK && rows != NULL) {
        lh_arena_init(&ta, 0);
        rc = lh__event_table(r->s->db, name, &ta, &et, &res, err);
        if (rc == LH_OK) {
            rc = lh__event_insert(r->s->db, et, lh__memtable_source(rows), nq,
                                  &nrows, err);
        }
        lh__event_table_free(res);
        lh_arena_release(&ta);
        if (rc == LH_OK) {
            r->changed = nrows;
            snprintf(r->tag, sizeof r->tag, "SELECT %lld", (long long)nrows);
        }
    }
    if (rows) {
        lh__memtable_free(rows);
    }
    return rc;
}

static lh_rc
exec_create_table(lh_result *r, const lh_plan *p, lh_err *err)
{
    const lh_ast *a = p->u.ddl.ast;
    const lh_ast_name *nm = &a->u.create_table.name;
    const char *name = nm->parts[nm->n - 1];
    snprintf(r->tag, sizeof r->tag, "CREATE TABLE");
    if (r->s->db != NULL && !a->u.create_table.temporary) {
        return create_event_table(r, p, err);
    }
    bool exists = lh__session_table(r->s, name) || lh__session_view(r->s, name);
    if (exists) {
        if (a->u.create_table.if_not_exists) {
            return LH_OK;
        }
        if (!a->u.create_table.or_replace) {
            lh_err_set(err, LH_EEXIST, "relation \"%s\" already exists", name);
            if (err) {
                err->offset = a->pos;
            }
            return LH_EEXIST;
        }
    }
    if (a->u.create_table.as_query) {
        lh_memtable *t;
        int64_t rows;
        lh_rc rc = run_into(r, p->children[0], name, &t, &rows, err);
        if (rc != LH_OK) {
            return rc;
        }
        if (exists) {
            lh__session_drop_table(r->s, name, err);
        }
        rc = lh__session_add_table(r->s, t, err);
        if (rc != LH_OK) {
            lh__memtable_free(t);
            return rc;
        }
        r->changed = rows;
        snprintf(r->tag, sizeof r->tag, "SELECT %lld", (long long)rows);
        return LH_OK;
    }
    uint32_t n = a->u.create_table.ncols;
    lh_sql_column *cols =
        lh_arena_calloc(&r->arena, (n + 1) * sizeof(lh_sql_column));
    if (cols == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < n; i++) {
        const lh_ast_coldef *c = &a->u.create_table.cols[i];
        for (uint32_t k = 0; k < i; k++) {
            if (strcasecmp(cols[k].name, c->name) == 0) {
                lh_err_set(err, LH_EINVAL,
                           "column \"%s\" specified more than once", c->name);
                if (err) {
                    err->offset = c->pos;
                }
                return LH_EINVAL;
            }
        }
        lh_err te;
        if (lh_type_parse(c->type_text, &cols[i].type, &te) != LH_OK) {
            lh_err_set(err, LH_EINVAL, "%s", te.msg);
            if (err) {
                err->offset = c->type_pos;
            }
            return LH_EINVAL;
        }
        cols[i].name = c->name;
        cols[i].default_sql = c->default_text;
        cols[i].nullable = !c->not_null && !c->primary_key;
        for (uint32_t k = 0; k < a->u.create_table.npk; k++) {
            if (strcasecmp(a->u.create_table.primary_key[k], c->name) == 0) {
                cols[i].nullable = false;
            }
        }
    }
    if (exists) {
        lh__session_drop_table(r->s, name, err);
    }
    lh_memtable *t;
    lh_rc rc = lh__memtable_new(name, cols, n, &t, err);
    if (rc == LH_OK) {
        rc = lh__session_add_table(r->s, t, err);
        if (rc != LH_OK) {
            lh__memtable_free(t);
        }
    }
    return rc;
}

/* DROP TABLE of an event table of the session's data directory (a
 * session table of that name was looked for first). *found false when
 * there is none. */
static lh_rc
drop_event_table(lh_result *r, const char *name, int32_t pos, bool *found,
                 lh_err *err)
{
    lh_err derr;
    lh_rc rc = lh_table_drop(r->s->db, name, &derr);
    *found = rc != LH_ENOENT;
    if (rc == LH_OK || rc == LH_ENOENT) {
        return LH_OK;
    }
    if (rc == LH_EREADONLY) {
        lh_err_set(err, rc,
                   "cannot drop table \"%s\": the data directory is open "
                   "read-only here (another process holds it)",
                   name);
    } else if (err != NULL) {
        *err = derr;
    }
    if (err != NULL) {
        err->offset = pos;
    }
    return rc;
}

static lh_rc
exec_drop(lh_result *r, const lh_plan *p, lh_err *err)
{
    const lh_ast *a = p->u.ddl.ast;
    static const char *const tags[] = {"DROP TABLE", "DROP VIEW", "DROP INDEX"};
    snprintf(r->tag, sizeof r->tag, "%s", tags[a->u.drop.what]);
    for (uint32_t i = 0; i < a->u.drop.nnames; i++) {
        const lh_ast_name *nm = &a->u.drop.names[i];
        const char *name = nm->parts[nm->n - 1];
        bool found;
        if (a->u.drop.what == LH_DROP_TABLE) {
            found = lh__session_table(r->s, name) != NULL;
            if (found) {
                lh__session_drop_table(r->s, name, err);
            } else if (r->s->db != NULL) {
                lh_rc rc = drop_event_table(r, name, a->pos, &found, err);
                if (rc != LH_OK) {
                    return rc;
                }
            }
        } else if (a->u.drop.what == LH_DROP_VIEW) {
            found = lh__session_view(r->s, name) != NULL;
            if (found) {
                lh__session_drop_view(r->s, name, err);
            }
        } else {
            char low[256];
            snprintf(low, sizeof low, "%s", name);
            for (char *c = low; *c; c++) {
                *c = (char)tolower((unsigned char)*c);
            }
            void *v = lh_map_del(&r->s->indexes, low, strlen(low));
            found = v != NULL;
            lh_free(v);
        }
        if (!found && !a->u.drop.if_exists) {
            static const char *const what[] = {"table", "view", "index"};
            lh_err_set(err, LH_ENOENT, "%s \"%s\" does not exist",
                       what[a->u.drop.what], name);
            if (err) {
                err->offset = a->pos;
            }
            return LH_ENOENT;
        }
    }
    return LH_OK;
}

/* The error for ALTER TABLE / CREATE INDEX on a table that is not a
 * session table: an event table of the data directory gets "unsupported"
 * saying why (its columns are its durable definition, its indexes the
 * tiers'), anything else "does not exist". */
static lh_rc
not_session_table(lh_result *r, const char *verb, const char *name, int32_t pos,
                  lh_err *err)
{
    char *json = NULL;
    lh_rc rc = LH_ENOENT;
    if (r->s->db != NULL &&
        lh_table_describe(r->s->db, name, &json, NULL) == LH_OK) {
        lh_free_mem(json);
        rc = LH_EUNSUPPORTED;
        lh_err_set(err, rc,
                   "unsupported: %s on event table \"%s\" (an event table's "
                   "columns and indexes are set when it is created; its hot "
                   "shards index stream and event id, its lake files carry "
                   "statistics and bloom filters)",
                   verb, name);
    } else {
        lh_err_set(err, rc, "relation \"%s\" does not exist", name);
    }
    if (err) {
        err->offset = pos;
    }
    return rc;
}

static lh_rc
exec_index(lh_result *r, const lh_plan *p, lh_err *err)
{
    const lh_ast *a = p->u.ddl.ast;
    snprintf(r->tag, sizeof r->tag, "CREATE INDEX");
    const lh_ast_name *tn = &a->u.create_index.table;
    const char *table = tn->parts[tn->n - 1];
    if (lh__session_table(r->s, table) == NULL) {
        return not_session_table(r, "CREATE INDEX", table, a->pos, err);
    }
    /* memory tables have no secondary indexes: the name is kept so DROP
     * INDEX works */
    if (a->u.create_index.name) {
        char low[256];
        snprintf(low, sizeof low, "%s", a->u.create_index.name);
        for (char *c = low; *c; c++) {
            *c = (char)tolower((unsigned char)*c);
        }
        if (lh_map_has(&r->s->indexes, low, strlen(low))) {
            if (a->u.create_index.if_not_exists) {
                return LH_OK;
            }
            return lh_err_set(err, LH_EEXIST, "relation \"%s\" already exists",
                              a->u.create_index.name);
        }
        char *t = lh_strdup(table);
        if (t == NULL ||
            lh_map_put(&r->s->indexes, low, strlen(low), t, NULL) != LH_OK) {
            lh_free(t);
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    return LH_OK;
}

static lh_rc
exec_alter(lh_result *r, const lh_plan *p, lh_err *err)
{
    const lh_ast *a = p->u.ddl.ast;
    const lh_ast_name *nm = &a->u.alter.name;
    const char *name = nm->parts[nm->n - 1];
    snprintf(r->tag, sizeof r->tag, "ALTER TABLE");
    lh_memtable *t = lh__session_table(r->s, name);
    if (t == NULL) {
        lh_err e2;
        lh_rc rc = not_session_table(r, "ALTER TABLE", name, a->pos, &e2);
        if (rc == LH_ENOENT && a->u.alter.if_exists) {
            return LH_OK;
        }
        if (err) {
            *err = e2;
        }
        return rc;
    }
    uint32_t n;
    const lh_sql_column *old = lh__memtable_cols(t, &n);
    lh_sql_column *cols =
        lh_arena_calloc(&r->arena, (n + 2) * sizeof(lh_sql_column));
    int32_t *from = lh_arena_calloc(&r->arena, (n + 2) * sizeof(int32_t));
    if (cols == NULL || from == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    int found = -1;
    const char *col = a->u.alter.what == LH_ALTER_ADD_COLUMN
                          ? a->u.alter.col.name
                          : a->u.alter.column;
    for (uint32_t i = 0; col && i < n; i++) {
        if (strcasecmp(old[i].name, col) == 0) {
            found = (int)i;
        }
    }
    uint32_t k = 0;
    switch (a->u.alter.what) {
    case LH_ALTER_ADD_COLUMN: {
        if (found >= 0) {
            return lh_err_set(err, LH_EEXIST,
                              "column \"%s\" of relation \"%s\" already "
                              "exists",
                              col, name);
        }
        for (uint32_t i = 0; i < n; i++) {
            cols[k] = old[i];
            from[k++] = (int32_t)i;
        }
        lh_err te;
        if (lh_type_parse(a->u.alter.col.type_text, &cols[k].type, &te) !=
            LH_OK) {
            return lh_err_set(err, LH_EINVAL, "%s", te.msg);
        }
        cols[k].name = col;
        cols[k].nullable = true;
        from[k++] = -1;
        break;
    }
    case LH_ALTER_DROP_COLUMN:
    case LH_ALTER_RENAME_COLUMN:
        if (found < 0) {
            return lh_err_set(err, LH_EINVAL,
                              "column \"%s\" of relation \"%s\" does not "
                              "exist",
                              col, name);
        }
        for (uint32_t i = 0; i < n; i++) {
            if (a->u.alter.what == LH_ALTER_DROP_COLUMN && (int)i == found) {
                continue;
            }
            cols[k] = old[i];
            if ((int)i == found) {
                cols[k].name = a->u.alter.new_name;
            }
            from[k++] = (int32_t)i;
        }
        break;
    case LH_ALTER_RENAME_TABLE: {
        if (lh__session_table(r->s, a->u.alter.new_name)) {
            return lh_err_set(err, LH_EEXIST, "relation \"%s\" already exists",
                              a->u.alter.new_name);
        }
        char low[256];
        snprintf(low, sizeof low, "%s", name);
        for (char *c = low; *c; c++) {
            *c = (char)tolower((unsigned char)*c);
        }
        lh_map_del(&r->s->tables, low, strlen(low));
        lh_rc rc = lh__memtable_rename(t, a->u.alter.new_name, err);
        lh_rc rc2 = lh__session_add_table(r->s, t, err);
        return rc != LH_OK ? rc : rc2;
    }
    }
    return lh__memtable_set_cols(t, cols, k, from, err);
}

/* ---- COPY
 * --------------------------------------------------------------------------------
 */

typedef struct copy_ctx {
    lh_output *o;
    lh_pq_writer *w;
    lh_value *vals;
    uint32_t ncols;
    int64_t rows;
    lh_arena *a;
} copy_ctx;

static lh_rc
copy_fn(void *ud, lh_batch *b, lh_err *err)
{
    copy_ctx *c = ud;
    uint32_t n = b->sel ? b->nsel : b->count;
    c->rows += n;
    if (c->w) {
        return lh_pq_writer_write(c->w, b, err);
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = b->sel ? b->sel[i] : i;
        for (uint32_t k = 0; k < c->ncols; k++) {
            lh_rc rc = lh_vector_value(&b->cols[k], r, c->a, &c->vals[k], err);
            if (rc != LH_OK) {
                return rc;
            }
        }
        lh_rc rc = lh_output_row(c->o, c->vals, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    lh_arena_reset(c->a);
    return LH_OK;
}

static const char *
option_text(const lh_ast_option *o)
{
    return o->value && o->value->kind == LH_AST_LITERAL ? o->value->u.lit.text
                                                        : NULL;
}

/* COPY ... TO 'x.parquet' (CODEC 'snappy', COMPRESSION_LEVEL 9,
 * ROW_GROUP_SIZE 100000): the writer's options. */
static lh_rc
parquet_options(const lh_plan *p, lh_pq_writer_opts *o, lh_err *err)
{
    for (uint32_t i = 0; i < p->u.copy.noptions; i++) {
        const lh_ast_option *op = &p->u.copy.options[i];
        const char *v = option_text(op);
        lh_rc rc = LH_OK;
        if (strcasecmp(op->key, "format") == 0) {
            continue;
        }
        if (v == NULL) {
            rc = lh_err_set(err, LH_EINVAL, "COPY option %s needs a value",
                            op->key);
        } else if (strcasecmp(op->key, "codec") == 0 ||
                   strcasecmp(op->key, "compression") == 0) {
            char low[32];
            snprintf(low, sizeof low, "%s", v);
            for (char *c = low; *c; c++) {
                *c = (char)tolower((unsigned char)*c);
            }
            rc = lh_pq_codec_parse(low, &o->codec, err);
        } else if (strcasecmp(op->key, "compression_level") == 0) {
            o->level = atoi(v);
        } else if (strcasecmp(op->key, "row_group_size") == 0 ||
                   strcasecmp(op->key, "row_group_rows") == 0) {
            long long n = strtoll(v, NULL, 10);
            if (n < 1) {
                rc = lh_err_set(err, LH_EINVAL,
                                "ROW_GROUP_SIZE must be positive");
            }
            o->row_group_rows = (uint64_t)n;
        } else {
            rc = lh_err_set(err, LH_EINVAL,
                            "COPY option \"%s\" is not known for Parquet "
                            "(FORMAT, CODEC, COMPRESSION_LEVEL, "
                            "ROW_GROUP_SIZE)",
                            op->key);
        }
        if (rc != LH_OK) {
            if (err) {
                err->offset = op->pos;
            }
            return rc;
        }
    }
    return LH_OK;
}

static lh_rc
exec_copy(lh_result *r, const lh_plan *p, lh_err *err)
{
    const lh_plan *q = p->children[0];
    lh_pnode *n;
    lh_rc rc = plan(r, q, &n, err);
    if (rc != LH_OK) {
        return rc;
    }
    copy_ctx c = {.ncols = q->ncols};
    lh_arena va;
    lh_arena_init(&va, 0);
    c.a = &va;
    FILE *f = NULL;
    const char *path = p->u.copy.path;
    if (strcmp(p->u.copy.format, "parquet") == 0) {
        lh_pq_wcolumn *wc =
            lh_arena_calloc(&r->arena, (q->ncols + 1) * sizeof(lh_pq_wcolumn));
        if (wc == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        for (uint32_t i = 0; i < q->ncols; i++) {
            wc[i].name = q->names[i];
            wc[i].type = q->types[i];
            wc[i].nullable = true;
        }
        lh_pq_writer_opts o;
        lh_pq_writer_opts_init(&o);
        rc = parquet_options(p, &o, err);
        if (rc != LH_OK) {
            lh_arena_release(&va);
            return rc;
        }
        rc = lh_pq_writer_open_path(path, wc, q->ncols, &o, &c.w, err);
    } else {
        f = fopen(path, "w");
        if (f == NULL) {
            lh_arena_release(&va);
            return lh_err_sys(err, LH_EIO, errno, "could not open \"%s\"",
                              path);
        }
        lh_format fmt = strcmp(p->u.copy.format, "csv") == 0    ? LH_FMT_CSV
                        : strcmp(p->u.copy.format, "json") == 0 ? LH_FMT_JSON
                                                                : LH_FMT_NDJSON;
        rc = lh_output_new(fmt, f, q->names, q->types, q->ncols, &c.o, err);
        c.vals = lh_calloc(q->ncols + 1, sizeof(lh_value));
        if (rc == LH_OK && c.vals == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    if (rc == LH_OK) {
        rc = drain(&r->ex, n, copy_fn, &c, err);
    }
    if (c.w) {
        if (rc == LH_OK) {
            rc = lh_pq_writer_close(c.w, err);
        } else {
            lh_pq_writer_abort(c.w);
        }
    }
    if (c.o) {
        if (rc == LH_OK) {
            rc = lh_output_finish(c.o, err);
        }
        lh_output_free(c.o);
    }
    if (f && fclose(f) != 0 && rc == LH_OK) {
        rc = lh_err_sys(err, LH_EIO, errno, "could not write \"%s\"", path);
    }
    lh_free(c.vals);
    lh_arena_release(&va);
    if (rc != LH_OK) {
        return rc;
    }
    r->changed = c.rows;
    snprintf(r->tag, sizeof r->tag, "COPY %lld", (long long)c.rows);
    return LH_OK;
}

/* ---- EXPLAIN, SHOW
 * -------------------------------------------------------------------------- */

typedef struct lines {
    char **v;
    uint32_t n, cap;
} lines;

static lh_rc
add_line(lh_result *r, lines *l, const char *s, size_t n)
{
    if (l->n == l->cap) {
        uint32_t ncap = l->cap ? l->cap * 2 : 32;
        char **nv = lh_arena_alloc(&r->arena, ncap * sizeof(char *));
        if (nv == NULL) {
            return LH_ENOMEM;
        }
        if (l->n) {
            memcpy(nv, l->v, l->n * sizeof(char *));
        }
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->n] = lh_arena_strndup(&r->arena, s, n);
    return l->v[l->n++] ? LH_OK : LH_ENOMEM;
}

static lh_rc
static_rows(lh_result *r, const lines *l, const char *colname, lh_err *err)
{
    lh_type t = lh_sql_type(LH_T_VARCHAR);
    const char *names[1] = {colname};
    lh_rc rc = set_columns(r, 1, names, &t, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_batch *b = &r->static_batch;
    b->count = l->n;
    b->ncols = 1;
    b->cols = lh_arena_calloc(&r->arena, sizeof(lh_vector));
    if (b->cols == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    rc =
        lh_vector_alloc(&b->cols[0], t, l->n ? l->n : 1, false, &r->arena, err);
    if (rc != LH_OK) {
        return rc;
    }
    for (uint32_t i = 0; i < l->n; i++) {
        ((lh_str *)b->cols[0].data)[i] =
            lh_str_make(l->v[i], (uint32_t)strlen(l->v[i]));
    }
    r->kind = RES_STATIC;
    return LH_OK;
}

static void
explain_node(lh_result *r, const lh_pnode *n, int depth, lh_buf *b, lines *l)
{
    lh_buf_reset(b);
    for (int i = 0; i < depth; i++) {
        lh_buf_puts(b, "  ");
    }
    lh_buf_puts(b, n->vt->name);
    if (n->vt->explain) {
        n->vt->explain(n, NULL, b);
    }
    if (r->ex.analyze) {
        const lh_pstats *ps = lh__stats_of(&r->ex, n);
        if (ps) {
            lh_buf_printf(b, " [rows=%llu time=%.3fms",
                          (unsigned long long)ps->rows, (double)ps->ns / 1e6);
            if (ps->instances > 1) {
                lh_buf_printf(b, " workers=%u", ps->instances);
            }
            const lh_scan_stats *s = &ps->scan;
            if (s->files) {
                lh_buf_printf(b, " files=%llu", (unsigned long long)s->files);
            }
            if (s->row_groups || s->row_groups_pruned) {
                lh_buf_printf(b, " row_groups=%llu pruned=%llu",
                              (unsigned long long)s->row_groups,
                              (unsigned long long)s->row_groups_pruned);
            }
            if (s->pages || s->pages_pruned) {
                lh_buf_printf(b, " pages=%llu pages_pruned=%llu",
                              (unsigned long long)s->pages,
                              (unsigned long long)s->pages_pruned);
            }
            if (s->shards || s->shards_pruned) {
                lh_buf_printf(b, " shards=%llu shards_pruned=%llu",
                              (unsigned long long)s->shards,
                              (unsigned long long)s->shards_pruned);
            }
            if (s->knn.parts) {
                lh_buf_printf(b,
                              " knn: searches=%u exact=%u rounds=%u ef=%u "
                              "filtered=%llu passed=%llu over_fetch=%s",
                              s->knn.parts, s->knn.exact_parts, s->knn.rounds,
                              s->knn.ef, (unsigned long long)s->knn.filter_rows,
                              (unsigned long long)s->knn.filter_pass,
                              s->knn.over_fetched  ? "hit"
                              : s->knn.over_missed ? "missed"
                                                   : "no");
            }
            if (s->knn.lake_rows || s->knn.lake_lists) {
                lh_buf_printf(b,
                              " lake: rows_read=%llu ivfpq_lists=%u "
                              "codes=%llu reranked=%llu",
                              (unsigned long long)s->knn.lake_rows,
                              s->knn.lake_lists,
                              (unsigned long long)s->knn.lake_codes,
                              (unsigned long long)s->knn.lake_reranked);
            }
            lh_buf_puts(b, "]");
        } else {
            lh_buf_puts(b, " [never executed]");
        }
    }
    add_line(r, l, b->data ? b->data : "", b->len);
    for (uint32_t i = 0; i < n->nchildren; i++) {
        explain_node(r, n->children[i], depth + 1, b, l);
    }
}

static lh_rc
exec_explain(lh_result *r, const lh_plan *p, lh_err *err)
{
    const lh_plan *inner = p->children[0];
    lines l = {0};
    lh_buf b = LH_BUF_INIT;
    lh_rc rc = LH_OK;
    const lh_plan *q = inner;
    if (q->kind == LH_PLAN_INSERT || q->kind == LH_PLAN_COPY ||
        q->kind == LH_PLAN_CREATE_TABLE) {
        lh_buf_puts(&b, q->kind == LH_PLAN_INSERT ? "Insert"
                        : q->kind == LH_PLAN_COPY ? "Copy"
                                                  : "CreateTableAs");
        add_line(r, &l, b.data, b.len);
        q = q->nchildren ? q->children[0] : NULL;
    } else if (q->kind >= LH_PLAN_INSERT) {
        lh_buf_release(&b);
        return lh_err_set(err, LH_EINVAL,
                          "EXPLAIN works on queries, INSERT, "
                          "COPY and CREATE TABLE AS");
    }
    if (q) {
        lh_pnode *n;
        rc = plan(r, q, &n, err);
        if (rc == LH_OK && p->u.explain.analyze) {
            r->ex.analyze = true;
            rc = drain(&r->ex, n, NULL, NULL, err);
        }
        if (rc == LH_OK) {
            explain_node(r, n, l.n ? 1 : 0, &b, &l);
        }
    }
    lh_buf_release(&b);
    if (rc != LH_OK) {
        return rc;
    }
    snprintf(r->tag, sizeof r->tag, "EXPLAIN");
    r->max_width = (size_t)1 << 20; /* plans are read whole */
    return static_rows(r, &l, "QUERY PLAN", err);
}

static lh_rc
exec_show(lh_result *r, const lh_plan *p, lh_err *err)
{
    const char *name = p->u.ddl.ast->u.show.name;
    lines l = {0};
    snprintf(r->tag, sizeof r->tag, "SHOW");
    if (strcasecmp(name, "tables") == 0) {
        char **names;
        size_t n;
        lh_rc rc = lh_session_tables(r->s, &names, &n, err);
        if (rc != LH_OK) {
            return rc;
        }
        for (size_t i = 0; i < n && rc == LH_OK; i++) {
            rc = add_line(r, &l, names[i], strlen(names[i]));
        }
        lh_free_strings(names, n);
        return rc == LH_OK ? static_rows(r, &l, "name", err)
                           : lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    if (strncasecmp(name, "describe ", 9) == 0) {
        char *sql;
        lh_rc rc = lh_session_describe(r->s, name + 9, &sql, err);
        if (rc != LH_OK) {
            return rc;
        }
        rc = add_line(r, &l, sql, strlen(sql));
        lh_free_mem(sql);
        return rc == LH_OK ? static_rows(r, &l, "sql", err)
                           : lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    char buf[64];
    const char *v = setting_value(r->s, name, buf, sizeof buf);
    if (v == NULL) {
        return lh_err_set(err, LH_EINVAL,
                          "unrecognized configuration parameter \"%s\"", name);
    }
    lh_rc rc = add_line(r, &l, v, strlen(v));
    return rc == LH_OK ? static_rows(r, &l, name, err)
                       : lh_err_set(err, LH_ENOMEM, "out of memory");
}

/* ---- execute
 * ------------------------------------------------------------------------------
 */

static lh_rc
run_statement(lh_stmt *st, lh_result *r, lh_err *err)
{
    lh_session *s = st->s;
    lh_rc rc = lh_sql_bind(&s->cat, &s->set, st->st.ast, st->text, st->len,
                           st->params, st->nparams, &r->arena, &r->q, err);
    if (rc != LH_OK) {
        return rc;
    }
    rc = lh__exec_init(&r->ex, &s->set, s->reg, &s->cancel);
    if (rc != LH_OK) {
        return rc;
    }
    r->ex_ready = true;
    fold_ctx fc = {s, &r->ex};
    rc = lh_sql_optimize(r->q, &s->set, fold, &fc, &r->arena, err);
    if (rc != LH_OK) {
        return rc;
    }
    const lh_plan *p = r->q->root;
    switch ((lh_plan_kind)p->kind) {
    case LH_PLAN_INSERT:
        return exec_insert(r, p, err);
    case LH_PLAN_COPY:
        return exec_copy(r, p, err);
    case LH_PLAN_CREATE_TABLE:
        return exec_create_table(r, p, err);
    case LH_PLAN_CREATE_VIEW: {
        const lh_ast *a = p->u.ddl.ast;
        const lh_ast_name *nm = &a->u.create_view.name;
        const char *name = nm->parts[nm->n - 1];
        snprintf(r->tag, sizeof r->tag, "CREATE VIEW");
        if (lh__session_table(s, name) ||
            (lh__session_view(s, name) && !a->u.create_view.or_replace)) {
            if (a->u.create_view.if_not_exists) {
                return LH_OK;
            }
            lh_err_set(err, LH_EEXIST, "relation \"%s\" already exists", name);
            if (err) {
                err->offset = a->pos;
            }
            return LH_EEXIST;
        }
        size_t from = (size_t)a->u.create_view.query_pos;
        size_t to = (size_t)st->st.end;
        return lh__session_add_view(s, name, st->text + from, to - from,
                                    a->u.create_view.cols,
                                    a->u.create_view.ncols, err);
    }
    case LH_PLAN_DROP:
        return exec_drop(r, p, err);
    case LH_PLAN_ALTER:
        return exec_alter(r, p, err);
    case LH_PLAN_INDEX:
        return exec_index(r, p, err);
    case LH_PLAN_SET: {
        snprintf(r->tag, sizeof r->tag, "%s", p->u.set.reset ? "RESET" : "SET");
        if (p->u.set.reset) {
            static const char *const defaults[][2] = {
                {"integer_division", "truncate"},
                {"division_by_zero", "error"},
                {"default_null_order", "default"},
                {"hnsw.ef_search", "0"},
                {"ivfpq.nprobe", "0"},
                {"ivfpq.refine", "0"}};
            for (size_t i = 0; i < LH_ARRAY_LEN(defaults); i++) {
                if (strcasecmp(p->u.set.name, defaults[i][0]) == 0) {
                    return lh_session_set(s, defaults[i][0], defaults[i][1],
                                          err);
                }
            }
            return LH_OK;
        }
        lh_buf b = LH_BUF_INIT;
        if (p->u.set.value.type.id == LH_T_BOOLEAN) {
            lh_buf_puts(&b, p->u.set.value.u.b ? "true" : "false");
        } else {
            lh_value_to_text(&p->u.set.value, &b);
        }
        rc = lh_session_set(s, p->u.set.name, b.data ? b.data : "", err);
        lh_buf_release(&b);
        if (rc != LH_OK && err) {
            err->offset = p->pos;
        }
        return rc;
    }
    case LH_PLAN_SHOW:
        return exec_show(r, p, err);
    case LH_PLAN_EXPLAIN:
        return exec_explain(r, p, err);
    case LH_PLAN_NOOP:
        snprintf(r->tag, sizeof r->tag, "%s",
                 p->u.ddl.ast->kind == LH_AST_TRANSACTION
                     ? p->u.ddl.ast->u.txn.verb
                     : "PRAGMA");
        for (char *c = r->tag; *c; c++) {
            *c = (char)toupper((unsigned char)*c);
        }
        return LH_OK;
    default:
        break;
    }
    /* a query */
    rc = plan(r, p, &r->root, err);
    if (rc != LH_OK) {
        return rc;
    }
    rc = set_columns(r, p->ncols, p->names, p->types, err);
    if (rc != LH_OK) {
        return rc;
    }
    rc = lh__op_make(&r->ex, r->root, NULL, NULL, 0, &r->op, err);
    if (rc != LH_OK) {
        return rc;
    }
    r->kind = RES_ROWS;
    return LH_OK;
}

lh_rc
lh_stmt_execute(lh_stmt *st, lh_result **out, lh_err *err)
{
    *out = NULL;
    atomic_store(&st->s->cancel, false);
    lh_result *r = result_new(st->s);
    if (r == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    if (err) {
        lh_err_clear(err);
    }
    lh_rc rc = run_statement(st, r, err);
    if (rc != LH_OK) {
        if (err && err->code == LH_OK) {
            lh_err_set(err, rc, "statement failed");
        }
        lh_result_free(r);
        return rc;
    }
    *out = r;
    return LH_OK;
}

lh_rc
lh_sql_run(lh_session *s, const char *sql, const char *format, FILE *out,
           lh_err *err)
{
    size_t len = strlen(sql), pos = 0;
    /* parse everything first: nothing runs when any statement is wrong */
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_sql_stmt *stmts;
    uint32_t n;
    lh_rc rc = lh_sql_parse(sql, len, s->dialect, &a, &stmts, &n, err);
    lh_arena_release(&a);
    if (rc != LH_OK) {
        return rc;
    }
    for (uint32_t i = 0; i < n; i++) {
        lh_stmt *st;
        size_t used;
        rc = lh_stmt_prepare(s, sql + pos, len - pos, &used, &st, err);
        if (rc != LH_OK) {
            if (err && err->offset >= 0) {
                err->offset += (int64_t)pos;
            }
            return rc;
        }
        if (st == NULL) {
            break;
        }
        lh_result *r;
        rc = lh_stmt_execute(st, &r, err);
        if (rc == LH_OK && i + 1 == n) {
            rc = lh_result_write(r, format, out, err);
        } else if (rc == LH_OK) {
            /* an earlier statement's rows are read and dropped */
            size_t rows;
            do {
                rc = lh_result_next(r, &rows, err);
            } while (rc == LH_OK && rows > 0);
        }
        lh_result_free(r);
        lh_stmt_free(st);
        if (rc != LH_OK) {
            if (err && err->offset >= 0) {
                err->offset += (int64_t)pos;
            }
            return rc;
        }
        pos += used;
    }
    return LH_OK;
}

lh_rc
lh_session_tables(lh_session *s, char ***names, size_t *count, lh_err *err)
{
    lh_arena a;
    lh_arena_init(&a, 0);
    const char **n;
    uint32_t k;
    if (s->cat.table_names(s, &a, &n, &k) != LH_OK) {
        lh_arena_release(&a);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    char **out = lh_calloc(k + 1, sizeof(char *));
    if (out == NULL) {
        lh_arena_release(&a);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < k; i++) {
        out[i] = lh_strdup(n[i]);
        if (out[i] == NULL) {
            lh_free_strings(out, i);
            lh_arena_release(&a);
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    lh_arena_release(&a);
    *names = out;
    *count = k;
    return LH_OK;
}

lh_rc
lh_session_describe(lh_session *s, const char *table, char **sql, lh_err *err)
{
    lh_buf b = LH_BUF_INIT;
    lh_memtable *t = lh__session_table(s, table);
    lh_view *v = t ? NULL : lh__session_view(s, table);
    if (t) {
        uint32_t n;
        const lh_sql_column *cols = lh__memtable_cols(t, &n);
        lh_buf_printf(&b, "CREATE TABLE %s (", lh__memtable_name(t));
        for (uint32_t i = 0; i < n; i++) {
            char tn[48];
            lh_buf_printf(&b, "%s%s %s%s", i ? ", " : "", cols[i].name,
                          lh_type_name(cols[i].type, tn),
                          cols[i].nullable ? "" : " NOT NULL");
        }
        lh_buf_puts(&b, ");");
    } else if (v) {
        lh_buf_printf(&b, "CREATE VIEW %s AS %s;", v->name, v->text);
    } else {
        /* an event table: its payload columns, the envelope as a comment */
        lh_arena a;
        lh_arena_init(&a, 0);
        lh_sql_table *et = NULL;
        void *res = NULL;
        lh_rc rc = lh__event_table(s->db, table, &a, &et, &res, err);
        if (rc == LH_OK) {
            lh_buf_printf(&b, "CREATE TABLE %s (", et->name);
            uint32_t k = 0;
            for (uint32_t i = 0; i < et->ncols; i++) {
                char tn[48];
                if (!et->cols[i].hidden) {
                    lh_buf_printf(&b, "%s%s %s%s", k++ ? ", " : "",
                                  et->cols[i].name,
                                  lh_type_name(et->cols[i].type, tn),
                                  et->cols[i].nullable ? "" : " NOT NULL");
                }
            }
            lh_buf_puts(&b, "); -- event table; hidden:");
            for (uint32_t i = 0; i < et->ncols; i++) {
                if (et->cols[i].hidden) {
                    lh_buf_printf(&b, " %s", et->cols[i].name);
                }
            }
        }
        if (res) {
            lh__event_table_free(res);
        }
        lh_arena_release(&a);
        if (rc == LH_ENOENT) {
            return lh_err_set(err, LH_ENOENT, "relation \"%s\" does not exist",
                              table);
        }
        if (rc != LH_OK) {
            lh_buf_release(&b);
            return rc;
        }
    }
    if (!lh_buf_ok(&b)) {
        lh_buf_release(&b);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    size_t l;
    *sql = lh_buf_take(&b, &l);
    return LH_OK;
}
