/*
 * The session's catalog: what the binder sees through lh_sql_catalog.
 * Names are matched case-insensitively (stored lowercase).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "exec/session.h"
#include "exec/sources.h"

static void
lower(char *d, const char *s, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++) {
        d[i] = (char)tolower((unsigned char)s[i]);
    }
    d[i] = 0;
}

lh_memtable *
lh__session_table(lh_session *s, const char *name)
{
    char low[256];
    lower(low, name, sizeof low);
    return lh_map_get(&s->tables, low, strlen(low));
}

lh_view *
lh__session_view(lh_session *s, const char *name)
{
    char low[256];
    lower(low, name, sizeof low);
    return lh_map_get(&s->views, low, strlen(low));
}

lh_rc
lh__session_add_table(lh_session *s, lh_memtable *t, lh_err *err)
{
    char low[256];
    lower(low, lh__memtable_name(t), sizeof low);
    if (lh_map_put(&s->tables, low, strlen(low), t, NULL) != LH_OK) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    return LH_OK;
}

lh_rc
lh__session_drop_table(lh_session *s, const char *name, lh_err *err)
{
    (void)err;
    char low[256];
    lower(low, name, sizeof low);
    lh_memtable *t = lh_map_del(&s->tables, low, strlen(low));
    lh__memtable_free(t);
    /* and its indexes (deleting the current key is allowed) */
    size_t it = 0;
    const void *key;
    size_t kl;
    void *v;
    while (lh_map_next(&s->indexes, &it, &key, &kl, &v)) {
        if (strcasecmp((const char *)v, name) == 0) {
            lh_free(lh_map_del(&s->indexes, key, kl));
        }
    }
    return LH_OK;
}

static void
view_free(lh_view *v)
{
    if (v == NULL) {
        return;
    }
    lh_arena_release(&v->arena);
    lh_free(v);
}

lh_rc
lh__session_add_view(lh_session *s, const char *name, const char *text,
                     size_t len, const char *const *cols, uint32_t ncols,
                     lh_err *err)
{
    lh_view *v = lh_calloc(1, sizeof(lh_view));
    if (v == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_arena_init(&v->arena, 0);
    v->name = lh_arena_strdup(&v->arena, name);
    v->text = lh_arena_strndup(&v->arena, text, len);
    v->cols = lh_arena_calloc(&v->arena, (ncols + 1) * sizeof(char *));
    if (!v->name || !v->text || !v->cols) {
        view_free(v);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < ncols; i++) {
        v->cols[i] = lh_arena_strdup(&v->arena, cols[i]);
        if (v->cols[i] == NULL) {
            view_free(v);
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    v->ncols = ncols;
    lh_sql_stmt *st;
    uint32_t n;
    lh_rc rc = lh_sql_parse(v->text, len, s->dialect, &v->arena, &st, &n, err);
    if (rc != LH_OK || n != 1) {
        view_free(v);
        return rc != LH_OK ? rc
                           : lh_err_set(err, LH_EINVAL, "a view is one query");
    }
    v->query = st[0].ast;
    char low[256];
    lower(low, name, sizeof low);
    lh_view *old;
    if (lh_map_put(&s->views, low, strlen(low), v, (void **)&old) != LH_OK) {
        view_free(v);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    view_free(old);
    return LH_OK;
}

lh_rc
lh__session_drop_view(lh_session *s, const char *name, lh_err *err)
{
    (void)err;
    char low[256];
    lower(low, name, sizeof low);
    view_free(lh_map_del(&s->views, low, strlen(low)));
    return LH_OK;
}

/* ---- the binder's callbacks
 * ------------------------------------------------------- */

static lh_rc add_resource(lh_session *s, void (*fn)(void *), void *p,
                          lh_err *err);

static lh_rc
cat_table(void *ud, const lh_ast_name *name, lh_arena *a,
          const lh_sql_table **out, lh_err *err)
{
    lh_session *s = ud;
    const char *n = name->parts[name->n - 1];
    lh_memtable *mt = lh__session_table(s, n);
    if (mt) {
        lh_sql_table *t = lh_arena_calloc(a, sizeof(lh_sql_table));
        if (t == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        t->name = lh__memtable_name(mt);
        t->kind = LH_SQL_TABLE_MEMORY;
        t->cols = lh__memtable_cols(mt, &t->ncols);
        t->ts_col = -1;
        t->source = (void *)lh__memtable_source(mt);
        t->est_rows = (double)lh__memtable_rows(mt) + 1;
        *out = t;
        return LH_OK;
    }
    lh_view *v = lh__session_view(s, n);
    if (v) {
        lh_sql_table *t = lh_arena_calloc(a, sizeof(lh_sql_table));
        if (t == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        t->name = v->name;
        t->kind = LH_SQL_TABLE_VIEW;
        t->view = v->query;
        t->view_cols = (const char *const *)v->cols;
        t->nview_cols = v->ncols;
        t->ts_col = -1;
        *out = t;
        return LH_OK;
    }
    lh_sql_table *et = NULL;
    void *res = NULL;
    lh_rc rc = lh__event_table(s->db, n, a, &et, &res, err);
    if (res) {
        lh_rc rr = add_resource(s, lh__event_table_free, res, err);
        if (rc == LH_OK) {
            rc = rr;
        }
    }
    if (rc == LH_OK) {
        *out = et;
    }
    return rc;
}

static lh_rc
add_resource(lh_session *s, void (*fn)(void *), void *p, lh_err *err)
{
    lh_resource *r = lh_calloc(1, sizeof(lh_resource));
    if (r == NULL) {
        fn(p);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    r->free = fn;
    r->p = p;
    r->next = s->res;
    s->res = r;
    return LH_OK;
}

/* Whether the real path of dir is root or under it. */
static bool
under(const char *root, const char *dir)
{
    char *real = realpath(dir, NULL);
    size_t rl = strlen(root);
    bool ok = real != NULL && strncmp(real, root, rl) == 0 &&
              (real[rl] == '/' || real[rl] == 0 || rl == 1);
    free(real); /* realpath's malloc */
    return ok;
}

lh_rc
lh__file_in_scope(const lh_file_scope *sc, const char *fn, const char *path,
                  lh_err *err)
{
    if (sc == NULL || !sc->on) {
        return LH_OK;
    }
    if (sc->root == NULL) {
        return lh_err_set(err, LH_EREADONLY,
                          "permission denied: %s may not read files in this "
                          "session",
                          fn);
    }
    bool ok = false;
    if (strstr(path, "://") == NULL) {
        /* a glob: the directory before its first wildcard */
        size_t n = strcspn(path, "*?[");
        lh_buf dir = LH_BUF_INIT;
        lh_buf_append(&dir, path, n);
        if (path[n] != 0) {
            char *slash = lh_buf_ok(&dir) && dir.len > 0
                              ? memrchr(dir.data, '/', dir.len)
                              : NULL;
            dir.len = slash == NULL ? 0 : (size_t)(slash - dir.data);
            lh_buf_puts(&dir, slash == NULL       ? "."
                              : slash == dir.data ? "/"
                                                  : "");
        }
        ok = lh_buf_ok(&dir) && dir.len > 0 && under(sc->root, dir.data);
        lh_buf_release(&dir);
    }
    return ok ? LH_OK
              : lh_err_set(err, LH_EREADONLY,
                           "permission denied: %s may read only files under "
                           "the data directory in this session, not \"%s\"",
                           fn, path);
}

static lh_rc
scope_of_arg(lh_session *s, const char *fn, const lh_value *v, lh_err *err)
{
    char *path = lh_strndup(v->u.s.p, v->u.s.len);
    if (path == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = lh__file_in_scope(&s->files, fn, path, err);
    lh_free(path);
    return rc;
}

lh_rc
lh_session_confine(lh_session *s, const char *root, lh_err *err)
{
    char *mine = NULL;
    if (root != NULL) {
        char *real = realpath(root, NULL);
        struct stat st;
        bool dir = real != NULL && stat(real, &st) == 0 && S_ISDIR(st.st_mode);
        mine = dir ? lh_strdup(real) : NULL;
        free(real); /* realpath's malloc */
        if (!dir) {
            return lh_err_set(err, LH_EINVAL,
                              "cannot confine a session to \"%s\": not a "
                              "directory",
                              root);
        }
        if (mine == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    if (s->files.on && (s->files.root == NULL ||
                        (mine != NULL && !under(s->files.root, mine)))) {
        lh_free(mine);
        return lh_err_set(err, LH_EINVAL,
                          "the session is confined already: it may be "
                          "confined further, not widened");
    }
    lh_free(s->files.root);
    s->files.on = true;
    s->files.root = mine;
    return LH_OK;
}

static lh_rc
cat_table_fn(void *ud, const char *name, const lh_value *args, uint32_t nargs,
             const char *const *names, const lh_value *named, uint32_t nnamed,
             lh_arena *a, const lh_sql_table **out, lh_err *err)
{
    lh_session *s = ud;
    lh_sql_table *t = NULL;
    void *res = NULL;
    lh_rc rc;
    if (strcasecmp(name, "read_parquet") == 0 ||
        strcasecmp(name, "parquet_scan") == 0) {
        rc = lh__read_parquet(args, nargs, names, named, nnamed, &s->files, a,
                              &t, &res, err);
        if (res) {
            lh_rc rr = add_resource(s, lh__read_parquet_free, res, err);
            if (rc == LH_OK) {
                rc = rr;
            }
        }
    } else if (strcasecmp(name, "generate_series") == 0 ||
               strcasecmp(name, "range") == 0) {
        rc = lh__series(name, args, nargs, a, &t, &res, err);
        if (res) {
            lh_rc rr = add_resource(s, lh__series_free, res, err);
            if (rc == LH_OK) {
                rc = rr;
            }
        }
    } else if (strcasecmp(name, "iceberg_scan") == 0) {
        /* The table's folder or metadata file; the files its metadata
         * names are the table's (written by whoever could write there). */
        rc = nargs > 0 && !args[0].is_null && args[0].type.id == LH_T_VARCHAR
                 ? scope_of_arg(s, "iceberg_scan", &args[0], err)
                 : LH_OK;
        if (rc != LH_OK) {
            return rc;
        }
        rc = lh__iceberg_scan(args, nargs, names, named, nnamed, a, &t, &res,
                              err);
        if (res) {
            lh_rc rr = add_resource(s, lh__iceberg_scan_free, res, err);
            if (rc == LH_OK) {
                rc = rr;
            }
        }
    } else {
        return LH_ENOENT;
    }
    if (rc == LH_OK) {
        *out = t;
    }
    return rc;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static lh_rc
cat_table_names(void *ud, lh_arena *a, const char ***out, uint32_t *n)
{
    lh_session *s = ud;
    const char **events;
    uint32_t nevents;
    if (lh__event_table_names(s->db, a, &events, &nevents) != LH_OK) {
        return LH_ENOMEM;
    }
    size_t total = s->tables.count + s->views.count + nevents;
    const char **names = lh_arena_alloc(a, (total + 1) * sizeof(char *));
    if (names == NULL) {
        return LH_ENOMEM;
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < nevents; i++) {
        names[k++] = events[i];
    }
    size_t it = 0;
    const void *key;
    size_t kl;
    void *v;
    while (lh_map_next(&s->tables, &it, &key, &kl, &v)) {
        names[k++] = lh__memtable_name(v);
    }
    it = 0;
    while (lh_map_next(&s->views, &it, &key, &kl, &v)) {
        names[k++] = ((lh_view *)v)->name;
    }
    qsort(names, k, sizeof(char *), cmp_names);
    *out = names;
    *n = k;
    return LH_OK;
}

void
lh__catalog_init(lh_session *s)
{
    lh_map_init(&s->tables);
    lh_map_init(&s->views);
    lh_map_init(&s->indexes);
    s->cat.ud = s;
    s->cat.table = cat_table;
    s->cat.table_fn = cat_table_fn;
    s->cat.table_names = cat_table_names;
    s->cat.functions = s->reg;
}

void
lh__catalog_end_statement(lh_session *s)
{
    while (s->res) {
        lh_resource *r = s->res;
        s->res = r->next;
        r->free(r->p);
        lh_free(r);
    }
}

void
lh__catalog_release(lh_session *s)
{
    lh__catalog_end_statement(s);
    size_t it = 0;
    const void *key;
    size_t kl;
    void *v;
    while (lh_map_next(&s->tables, &it, &key, &kl, &v)) {
        lh__memtable_free(v);
    }
    it = 0;
    while (lh_map_next(&s->views, &it, &key, &kl, &v)) {
        view_free(v);
    }
    it = 0;
    while (lh_map_next(&s->indexes, &it, &key, &kl, &v)) {
        lh_free(v);
    }
    lh_map_release(&s->tables);
    lh_map_release(&s->views);
    lh_map_release(&s->indexes);
}
