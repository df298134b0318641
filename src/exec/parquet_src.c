/*
 * read_parquet('glob' | ['a', 'b']): Parquet files as a table source.
 *
 * The files are opened when the statement binds (their footers give the
 * columns: the first file's top-level columns, which every other file must
 * also have, by name, with the same types). A scan reads the requested
 * columns of every file in turn with the pushed-down predicates (row
 * groups pruned by statistics and bloom filters, pages by the column
 * index) and keeps dictionary-encoded columns as DICT vectors. Parallel
 * scans share one row-group counter per file, so each row group is read by
 * exactly one worker.
 */
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "exec/exec_int.h"
#include "exec/sources.h"
#include "format/parquet/parquet.h"

typedef struct pq_source {
    lh_source src;
    char **paths;
    lh_pq_file **files;
    uint32_t nfiles;
    uint32_t ncols;
    lh_type *types;
    int32_t **colmap; /* [file][table column] -> file column */
    uint64_t rows;
} pq_source;

typedef struct pq_shared {
    _Atomic uint32_t *next_rg; /* per file */
    _Atomic bool *counted;     /* per file: a worker counted it in stats */
    uint32_t nfiles;
} pq_shared;

struct lh_source_scan {
    pq_source *ps;
    lh_scan_request req;
    pq_shared *shared;
    uint32_t file;
    lh_pq_scan *cur;
    uint32_t *fcols;
    lh_pq_pred *preds;
    uint32_t npreds;
    lh_scan_stats stats;
};

static void
pq_source_free(void *p)
{
    pq_source *ps = p;
    if (ps == NULL) {
        return;
    }
    for (uint32_t i = 0; i < ps->nfiles; i++) {
        lh_pq_close(ps->files ? ps->files[i] : NULL);
        lh_free(ps->paths[i]);
        lh_free(ps->colmap ? ps->colmap[i] : NULL);
    }
    lh_free(ps->files);
    lh_free(ps->paths);
    lh_free(ps->colmap);
    lh_free(ps->types);
    lh_free(ps);
}

/* ---- the source
 * ----------------------------------------------------------------- */

static lh_rc
pq_share(const lh_source *src, const lh_scan_request *req, void **shared,
         lh_err *err)
{
    (void)req;
    const pq_source *ps = src->ud;
    pq_shared *sh = lh_calloc(1, sizeof(pq_shared));
    if (sh == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    sh->nfiles = ps->nfiles;
    sh->next_rg =
        lh_calloc(ps->nfiles ? ps->nfiles : 1, sizeof(_Atomic uint32_t));
    sh->counted = lh_calloc(ps->nfiles ? ps->nfiles : 1, sizeof(_Atomic bool));
    if (sh->next_rg == NULL || sh->counted == NULL) {
        lh_free(sh->next_rg);
        lh_free(sh->counted);
        lh_free(sh);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < ps->nfiles; i++) {
        atomic_store(&sh->next_rg[i], 0);
        atomic_store(&sh->counted[i], false);
    }
    *shared = sh;
    return LH_OK;
}

static void
pq_free_shared(void *shared)
{
    pq_shared *sh = shared;
    if (sh) {
        lh_free(sh->next_rg);
        lh_free(sh->counted);
        lh_free(sh);
    }
}

static lh_rc
pq_open(const lh_source *src, const lh_scan_request *req, void *shared,
        lh_source_scan **out, lh_err *err)
{
    lh_source_scan *s = lh_calloc(1, sizeof(lh_source_scan));
    if (s == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    s->ps = src->ud;
    s->req = *req;
    s->shared = shared;
    s->fcols = lh_calloc(req->ncols ? req->ncols : 1, sizeof(uint32_t));
    s->preds = lh_calloc(req->npreds ? req->npreds : 1, sizeof(lh_pq_pred));
    if (s->fcols == NULL || s->preds == NULL) {
        lh_free(s->fcols);
        lh_free(s->preds);
        lh_free(s);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    *out = s;
    return LH_OK;
}

static void
take_stats(lh_source_scan *s)
{
    if (s->cur == NULL) {
        return;
    }
    lh_pq_scan_stats st;
    lh_pq_scan_get_stats(s->cur, &st);
    s->stats.row_groups += st.row_groups;
    s->stats.row_groups_pruned += st.row_groups_pruned;
    s->stats.pages += st.pages;
    s->stats.pages_pruned += st.pages_pruned;
    s->stats.bytes_read += st.bytes_read;
    s->stats.rows += st.rows;
}

static bool
dyn_value(void *ud, lh_value *v)
{
    return lh_dyn_bound_get(ud, v);
}

/* Opens the scan of file f with the request's columns and predicates. */
static lh_rc
open_file(lh_source_scan *s, uint32_t f, lh_err *err)
{
    pq_source *ps = s->ps;
    for (uint32_t i = 0; i < s->req.ncols; i++) {
        s->fcols[i] = (uint32_t)ps->colmap[f][s->req.cols[i]];
    }
    s->npreds = 0;
    for (uint32_t i = 0; i < s->req.npreds; i++) {
        const lh_scan_pred *p = &s->req.preds[i];
        lh_pq_pred *q = &s->preds[s->npreds];
        const lh_pq_node *node =
            lh_pq_column(ps->files[f], (uint32_t)ps->colmap[f][p->col]);
        if (node->leaf < 0) {
            continue; /* nested: no pruning */
        }
        q->column = (uint32_t)ps->colmap[f][p->col];
        q->values = p->values;
        q->nvalues = p->nvalues;
        if (p->is_null) {
            q->op = LH_PQ_IS_NULL;
        } else if (p->not_null) {
            q->op = LH_PQ_NOT_NULL;
        } else {
            switch (p->op) {
            case LH_OP_EQ:
                q->op = LH_PQ_EQ;
                break;
            case LH_OP_LT:
                q->op = LH_PQ_LT;
                break;
            case LH_OP_LE:
                q->op = LH_PQ_LE;
                break;
            case LH_OP_GT:
                q->op = LH_PQ_GT;
                break;
            case LH_OP_GE:
                q->op = LH_PQ_GE;
                break;
            default:
                q->op = LH_PQ_IN;
                break;
            }
        }
        s->npreds++;
    }
    lh_pq_scan_opts o = {.columns = s->fcols,
                         .ncolumns = s->req.ncols,
                         .preds = s->preds,
                         .npreds = s->npreds,
                         .keep_dict = true,
                         .next_row_group =
                             s->shared ? &s->shared->next_rg[f] : NULL};
    const lh_dyn_bound *b = s->req.bound;
    if (b != NULL && ps->colmap[f][b->col] >= 0) {
        o.dyn_value = dyn_value;
        o.dyn_ud = s->req.bound;
        o.dyn_column = (uint32_t)ps->colmap[f][b->col];
        o.dyn_op = b->op == LH_OP_GE ? LH_PQ_GE : LH_PQ_LE;
    }
    lh_rc rc = lh_pq_scan_open(ps->files[f], &o, &s->cur, err);
    if (rc != LH_OK) {
        lh_err_prefix(err, "\"%s\"", ps->paths[f]);
    }
    return rc;
}

static lh_rc
pq_next(lh_source_scan *s, lh_batch *out, lh_err *err)
{
    pq_source *ps = s->ps;
    for (;;) {
        if (s->cur == NULL) {
            if (s->file >= ps->nfiles) {
                memset(out, 0, sizeof *out);
                return LH_OK;
            }
            lh_rc rc = open_file(s, s->file, err);
            if (rc != LH_OK) {
                return rc;
            }
            /* every worker opens every file (they share its row groups):
             * the first counts it */
            if (s->shared == NULL ||
                !atomic_exchange(&s->shared->counted[s->file], true)) {
                s->stats.files++;
            }
        }
        lh_rc rc = lh_pq_scan_next(s->cur, out, err);
        if (rc != LH_OK) {
            lh_err_prefix(err, "\"%s\"", ps->paths[s->file]);
            return rc;
        }
        if (out->count > 0) {
            /* the file's types are the table's (checked at bind) */
            return LH_OK;
        }
        take_stats(s);
        lh_pq_scan_close(s->cur);
        s->cur = NULL;
        s->file++;
    }
}

static void
pq_stats(const lh_source_scan *s, lh_scan_stats *out)
{
    lh_source_scan *m = (lh_source_scan *)s;
    take_stats(m);
    *out = m->stats;
    /* take_stats is cumulative per open scan: clear so it is not added
     * twice if close follows */
    if (m->cur) {
        lh_pq_scan_close(m->cur);
        m->cur = NULL;
    }
}

static void
pq_close(lh_source_scan *s)
{
    if (s == NULL) {
        return;
    }
    if (s->cur) {
        lh_pq_scan_close(s->cur);
    }
    lh_free(s->fcols);
    lh_free(s->preds);
    lh_free(s);
}

static void
pq_describe(const lh_source *src, lh_buf *out)
{
    const pq_source *ps = src->ud;
    lh_buf_printf(out, "parquet, %u file%s, %llu rows", ps->nfiles,
                  ps->nfiles == 1 ? "" : "s", (unsigned long long)ps->rows);
}

static bool
pq_bounds(const lh_source *src, uint32_t col, uint64_t *rows, int64_t *nulls,
          lh_value *min, lh_value *max, bool *has_values)
{
    const pq_source *ps = src->ud;
    *rows = ps->rows;
    *nulls = 0;
    *has_values = false;
    if (col == UINT32_MAX) {
        return true;
    }
    for (uint32_t f = 0; f < ps->nfiles; f++) {
        lh_value mn, mx;
        bool has;
        int64_t nn;
        if (ps->colmap[f][col] < 0 ||
            !lh_pq_column_bounds(ps->files[f], (uint32_t)ps->colmap[f][col],
                                 &mn, &mx, &has, &nn) ||
            !lh_type_equal(mn.type, ps->types[col])) {
            return false;
        }
        *nulls += nn;
        if (!has) {
            continue;
        }
        if (!*has_values || lh__value_cmp(&mn, min) < 0) {
            *min = mn;
        }
        if (!*has_values || lh__value_cmp(&mx, max) > 0) {
            *max = mx;
        }
        *has_values = true;
    }
    return true;
}

static const lh_source_vt pq_vt = {
    .name = "parquet",
    .share = pq_share,
    .free_shared = pq_free_shared,
    .open = pq_open,
    .next = pq_next,
    .stats = pq_stats,
    .close = pq_close,
    .describe = pq_describe,
    .bounds = pq_bounds,
};

/* ---- read_parquet(...)
 * --------------------------------------------------------------- */

static lh_rc
add_path(pq_source *ps, uint32_t *cap, const char *path, lh_err *err)
{
    if (ps->nfiles == *cap) {
        uint32_t ncap = *cap ? *cap * 2 : 8;
        char **np = lh_realloc(ps->paths, ncap * sizeof(char *));
        if (np == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        ps->paths = np;
        *cap = ncap;
    }
    ps->paths[ps->nfiles] = lh_strdup(path);
    if (ps->paths[ps->nfiles] == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    ps->nfiles++;
    return LH_OK;
}

static lh_rc
expand(pq_source *ps, uint32_t *cap, const lh_value *arg,
       const lh_file_scope *scope, lh_err *err)
{
    if (arg->is_null || arg->type.id != LH_T_VARCHAR) {
        return lh_err_set(err, LH_EINVAL,
                          "read_parquet takes file names or globs (strings)");
    }
    char *pat = lh_strndup(arg->u.s.p, arg->u.s.len);
    if (pat == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    /* The scope before the glob, whose "no file matches" would tell what
     * exists outside; then each match (a link may lead out). */
    lh_rc rc = lh__file_in_scope(scope, "read_parquet", pat, err);
    if (rc != LH_OK) {
        lh_free(pat);
        return rc;
    }
    glob_t g;
    int r = glob(pat, 0, NULL, &g);
    if (r == GLOB_NOMATCH) {
        rc = lh_err_set(err, LH_ENOENT, "no file matches \"%s\"", pat);
    } else if (r != 0) {
        rc = lh_err_set(err, LH_EIO, "could not list \"%s\"", pat);
    } else {
        for (size_t i = 0; i < g.gl_pathc && rc == LH_OK; i++) {
            rc = lh__file_in_scope(scope, "read_parquet", g.gl_pathv[i], err);
            if (rc == LH_OK) {
                rc = add_path(ps, cap, g.gl_pathv[i], err);
            }
        }
        globfree(&g);
    }
    lh_free(pat);
    return rc;
}

lh_rc
lh__read_parquet(const lh_value *args, uint32_t nargs, const char *const *names,
                 const lh_value *named, uint32_t nnamed,
                 const lh_file_scope *scope, lh_arena *a, lh_sql_table **out,
                 void **resource, lh_err *err)
{
    (void)named;
    for (uint32_t i = 0; i < nnamed; i++) {
        if (strcasecmp(names[i], "binary_as_string") != 0 &&
            strcasecmp(names[i], "hive_partitioning") != 0) {
            return lh_err_set(err, LH_EINVAL,
                              "read_parquet has no option \"%s\"", names[i]);
        }
    }
    if (nargs == 0) {
        return lh_err_set(err, LH_EINVAL, "read_parquet needs a file name");
    }
    pq_source *ps = lh_calloc(1, sizeof(pq_source));
    if (ps == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    *resource = ps;
    uint32_t cap = 0;
    lh_rc rc = LH_OK;
    for (uint32_t i = 0; i < nargs && rc == LH_OK; i++) {
        rc = expand(ps, &cap, &args[i], scope, err);
    }
    if (rc != LH_OK) {
        return rc;
    }
    ps->files = lh_calloc(ps->nfiles, sizeof(lh_pq_file *));
    ps->colmap = lh_calloc(ps->nfiles, sizeof(int32_t *));
    if (ps->files == NULL || ps->colmap == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t f = 0; f < ps->nfiles; f++) {
        rc = lh_pq_open(ps->paths[f], &ps->files[f], err);
        if (rc != LH_OK) {
            return rc;
        }
        ps->rows += (uint64_t)lh_pq_meta(ps->files[f])->num_rows;
    }
    /* the columns: the first file's */
    const lh_pq_file *first = ps->files[0];
    ps->ncols = lh_pq_ncolumns(first);
    lh_sql_table *t = lh_arena_calloc(a, sizeof(lh_sql_table));
    lh_sql_column *cols =
        lh_arena_calloc(a, (ps->ncols ? ps->ncols : 1) * sizeof(lh_sql_column));
    ps->types = lh_calloc(ps->ncols ? ps->ncols : 1, sizeof(lh_type));
    if (t == NULL || cols == NULL || ps->types == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t c = 0; c < ps->ncols; c++) {
        const lh_pq_node *node = lh_pq_column(first, c);
        cols[c].name = lh_arena_strdup(a, node->name);
        cols[c].type = node->type;
        cols[c].nullable = node->nullable;
        ps->types[c] = node->type;
        if (cols[c].name == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    for (uint32_t f = 0; f < ps->nfiles; f++) {
        ps->colmap[f] = lh_calloc(ps->ncols ? ps->ncols : 1, sizeof(int32_t));
        if (ps->colmap[f] == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        for (uint32_t c = 0; c < ps->ncols; c++) {
            int k = lh_pq_find_column(ps->files[f], cols[c].name);
            if (k < 0) {
                /* case-insensitive, as names bind */
                for (uint32_t j = 0; j < lh_pq_ncolumns(ps->files[f]); j++) {
                    if (strcasecmp(lh_pq_column(ps->files[f], j)->name,
                                   cols[c].name) == 0) {
                        k = (int)j;
                    }
                }
            }
            if (k < 0) {
                return lh_err_set(err, LH_EINVAL,
                                  "\"%s\" has no column \"%s\" (the first "
                                  "file has it)",
                                  ps->paths[f], cols[c].name);
            }
            if (!lh_type_equal(lh_pq_column(ps->files[f], (uint32_t)k)->type,
                               cols[c].type)) {
                char a1[48], a2[48];
                return lh_err_set(
                    err, LH_EINVAL,
                    "column \"%s\" is %s in \"%s\" but %s in \"%s\"",
                    cols[c].name,
                    lh_type_name(lh_pq_column(ps->files[f], (uint32_t)k)->type,
                                 a1),
                    ps->paths[f], lh_type_name(cols[c].type, a2), ps->paths[0]);
            }
            ps->colmap[f][c] = k;
        }
    }
    ps->src.vt = &pq_vt;
    ps->src.ud = ps;
    t->name = "read_parquet";
    t->kind = LH_SQL_TABLE_FILES;
    t->cols = cols;
    t->ncols = ps->ncols;
    t->ts_col = -1;
    t->source = &ps->src;
    t->est_rows = (double)ps->rows;
    *out = t;
    return LH_OK;
}

void
lh__read_parquet_free(void *resource)
{
    pq_source_free(resource);
}
