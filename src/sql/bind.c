/*
 * The binder's entry point, column ids, scopes and names, and the FROM
 * clause: tables, views, CTEs, table functions, derived tables and joins
 * (ON, USING, NATURAL; LATERAL). See bind_int.h for the files.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sql/bind_int.h"

/* ---- errors and memory ------------------------------------------------------
 */

lh_rc
lh__bind_error(binder *b, lh_rc code, int32_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lh_err_setv(b->err, code, fmt, ap);
    va_end(ap);
    if (b->err) {
        b->err->offset = pos;
    }
    return code;
}

lh_rc
lh__bind_nomem(binder *b)
{
    return lh_err_set(b->err, LH_ENOMEM, "out of memory binding the query");
}

void *
lh__bind_alloc(binder *b, size_t n)
{
    void *p = lh_arena_calloc(b->a, n);
    if (p == NULL) {
        lh__bind_nomem(b);
    }
    return p;
}

uint32_t
lh__bind_new_id(binder *b, lh_type t, const char *name)
{
    if (b->next_id == b->id_cap) {
        uint32_t ncap = b->id_cap ? b->id_cap * 2 : 64;
        lh_type *nt = lh_arena_alloc(b->a, ncap * sizeof(lh_type));
        const char **nn = lh_arena_alloc(b->a, ncap * sizeof(char *));
        if (nt == NULL || nn == NULL) {
            return UINT32_MAX;
        }
        if (b->next_id) {
            memcpy(nt, b->id_types, b->next_id * sizeof(lh_type));
            memcpy(nn, b->id_names, b->next_id * sizeof(char *));
        }
        b->id_types = nt;
        b->id_names = nn;
        b->id_cap = ncap;
    }
    b->id_types[b->next_id] = t;
    b->id_names[b->next_id] = name ? name : "?column?";
    return b->next_id++;
}

lh_plan *
lh__plan_new(binder *b, lh_plan_kind kind, uint32_t nchildren, uint32_t ncols)
{
    lh_plan *p = lh__bind_alloc(b, sizeof(lh_plan));
    if (p == NULL) {
        return NULL;
    }
    p->kind = (uint8_t)kind;
    p->pos = -1;
    p->nchildren = nchildren;
    p->children =
        lh__bind_alloc(b, (nchildren ? nchildren : 1) * sizeof(lh_plan *));
    p->ncols = ncols;
    p->cols = lh__bind_alloc(b, (ncols ? ncols : 1) * sizeof(uint32_t));
    p->types = lh__bind_alloc(b, (ncols ? ncols : 1) * sizeof(lh_type));
    p->names = lh__bind_alloc(b, (ncols ? ncols : 1) * sizeof(char *));
    if (!p->children || !p->cols || !p->types || !p->names) {
        return NULL;
    }
    return p;
}

/* ---- suggestions --------------------------------------------------------- */

/* Levenshtein distance, case-insensitive, of short names (longer ones
 * count as far apart). */
static int
distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) {
        return 99;
    }
    int row[64];
    for (size_t j = 0; j <= lb; j++) {
        row[j] = (int)j;
    }
    for (size_t i = 1; i <= la; i++) {
        int prev = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cur = row[j];
            int cost = tolower((unsigned char)a[i - 1]) ==
                               tolower((unsigned char)b[j - 1])
                           ? 0
                           : 1;
            int best = prev + cost;
            if (row[j] + 1 < best) {
                best = row[j] + 1;
            }
            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

const char *
lh__suggest(const char *name, const char *const *cands, uint32_t n)
{
    const char *best = NULL;
    int best_d = 99;
    size_t len = strlen(name);
    /* at most a third of the name may change, and at most 3 edits */
    int limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
    for (uint32_t i = 0; i < n; i++) {
        if (cands[i] == NULL || strcasecmp(cands[i], name) == 0) {
            continue;
        }
        int d = distance(name, cands[i]);
        if (d <= limit && d < best_d) {
            best_d = d;
            best = cands[i];
        }
    }
    return best;
}

void
lh__suggest_append(binder *b, const char *name, const char *const *cands,
                   uint32_t n)
{
    const char *s = lh__suggest(name, cands, n);
    if (s && b->err) {
        size_t l = strlen(b->err->msg);
        snprintf(b->err->msg + l, sizeof b->err->msg - l,
                 " (did you mean \"%s\"?)", s);
    }
}

/* ---- scopes and names ------------------------------------------------------
 */

lh_rc
lh__scope_add(binder *b, bind_scope *s, const char *qual, const char *name,
              uint32_t id, lh_type t, bool hidden)
{
    bind_col *nc =
        lh_sql_grow(b->a, s->cols, s->n, &s->cap, sizeof(bind_col), 16);
    if (nc == NULL) {
        return lh__bind_nomem(b);
    }
    s->cols = nc;
    bind_col *c = &s->cols[s->n++];
    memset(c, 0, sizeof *c);
    c->qual = qual;
    c->name = name;
    c->id = id;
    c->type = t;
    c->hidden = hidden;
    return LH_OK;
}

static lh_rc
record_outer(binder *b, bind_scope *s, uint32_t id)
{
    for (uint32_t i = 0; i < s->nouter; i++) {
        if (s->outer[i] == id) {
            return LH_OK;
        }
    }
    uint32_t *no = lh_sql_grow(b->a, s->outer, s->nouter, &s->outer_cap,
                               sizeof(uint32_t), 8);
    if (no == NULL) {
        return lh__bind_nomem(b);
    }
    s->outer = no;
    s->outer[s->nouter++] = id;
    return LH_OK;
}

/* Finds qual.name (qual may be NULL) among s's own columns: the index, -1
 * when absent, -2 when ambiguous. */
static int
scope_find(const bind_scope *s, const char *qual, const char *name)
{
    int found = -1;
    for (uint32_t i = 0; i < s->n; i++) {
        const bind_col *c = &s->cols[i];
        if (strcasecmp(c->name, name) != 0) {
            continue;
        }
        if (qual) {
            if (c->qual == NULL || strcasecmp(c->qual, qual) != 0) {
                continue;
            }
        } else if (c->using_dup) {
            continue;
        }
        if (found >= 0) {
            /* the same column reached twice (t.* merged) is no ambiguity;
             * an exact-case match wins over a folded one */
            if (s->cols[found].id == c->id) {
                continue;
            }
            bool exact_new = strcmp(c->name, name) == 0;
            bool exact_old = strcmp(s->cols[found].name, name) == 0;
            if (exact_new && !exact_old) {
                found = (int)i;
                continue;
            }
            if (exact_old && !exact_new) {
                continue;
            }
            return -2;
        }
        found = (int)i;
    }
    return found;
}

static bool
scope_has_qual(const bind_scope *s, const char *qual)
{
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->cols[i].qual && strcasecmp(s->cols[i].qual, qual) == 0) {
            return true;
        }
    }
    return false;
}

lh_bexpr *
lh__bx_col(binder *b, uint32_t id, lh_type t)
{
    lh_bexpr *e = lh__bind_alloc(b, sizeof(lh_bexpr));
    if (e) {
        e->kind = LH_BX_COL;
        e->type = t;
        e->u.col = id;
        e->pos = -1;
    }
    return e;
}

/* Every visible column name from s outwards, for suggestions. */
static void
column_names(binder *b, const bind_scope *s, const char ***out, uint32_t *n)
{
    uint32_t total = 0;
    for (const bind_scope *x = s; x; x = x->parent) {
        total += x->n;
    }
    const char **names = lh_arena_alloc(b->a, (total + 1) * sizeof(char *));
    *n = 0;
    *out = names;
    if (names == NULL) {
        return;
    }
    for (const bind_scope *x = s; x; x = x->parent) {
        for (uint32_t i = 0; i < x->n; i++) {
            names[(*n)++] = x->cols[i].name;
        }
    }
}

lh_rc
lh__bind_colref(binder *b, bind_scope *s, const lh_ast *ref, lh_bexpr **out)
{
    const lh_ast_name *nm = &ref->u.colref.name;
    const char *name = nm->parts[nm->n - 1];
    const char *qual = nm->n >= 2 ? nm->parts[nm->n - 2] : NULL;
    if (nm->n > 4) {
        return lh__bind_error(b, LH_EINVAL, ref->pos,
                              "improper qualified name (too many dotted "
                              "names)");
    }
    for (bind_scope *x = s; x; x = x->parent) {
        int i = scope_find(x, qual, name);
        if (i == -2) {
            return lh__bind_error(b, LH_EINVAL, ref->pos,
                                  "column reference \"%s\" is ambiguous", name);
        }
        if (i >= 0) {
            const bind_col *c = &x->cols[i];
            /* correlated: every scope between uses it from outside */
            for (bind_scope *y = s; y != x; y = y->parent) {
                lh_rc rc = record_outer(b, y, c->id);
                if (rc != LH_OK) {
                    return rc;
                }
            }
            *out = lh__bx_col(b, c->id, c->type);
            if (*out == NULL) {
                return LH_ENOMEM;
            }
            (*out)->pos = ref->pos;
            return LH_OK;
        }
    }
    if (qual) {
        bool known = false;
        for (bind_scope *x = s; x && !known; x = x->parent) {
            known = scope_has_qual(x, qual);
        }
        if (!known) {
            lh__bind_error(b, LH_EINVAL, ref->pos,
                           "missing FROM-clause entry for table \"%s\"", qual);
            return LH_EINVAL;
        }
        lh__bind_error(b, LH_EINVAL, ref->pos, "column %s.%s does not exist",
                       qual, name);
    } else {
        lh__bind_error(b, LH_EINVAL, ref->pos, "column \"%s\" does not exist",
                       name);
    }
    const char **names;
    uint32_t n;
    column_names(b, s, &names, &n);
    if (names) {
        lh__suggest_append(b, name, names, n);
    }
    return LH_EINVAL;
}

/* ---- FROM -------------------------------------------------------------------
 */

/* Makes the output of `p` visible in s under `qual`, renamed by the
 * aliases (fewer aliases than columns rename the first ones). */
static lh_rc
expose(binder *b, bind_scope *s, lh_plan *p, const char *qual,
       const char *const *aliases, uint32_t naliases, const bool *hidden,
       int32_t pos)
{
    if (naliases > p->ncols) {
        return lh__bind_error(b, LH_EINVAL, pos,
                              "table \"%s\" has %u columns available but %u "
                              "columns specified",
                              qual ? qual : "?", p->ncols, naliases);
    }
    for (uint32_t i = 0; i < p->ncols; i++) {
        const char *name = i < naliases ? aliases[i] : p->names[i];
        if (i < naliases) {
            p->names[i] = name;
        }
        lh_rc rc = lh__scope_add(b, s, qual, name, p->cols[i], p->types[i],
                                 hidden ? hidden[i] : false);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

static lh_rc
bind_table_scan(binder *b, bind_scope *s, const lh_sql_table *t,
                const char *qual, const lh_ast *ast, lh_plan **out)
{
    lh_plan *p = lh__plan_new(b, LH_PLAN_SCAN, 0, t->ncols);
    if (p == NULL) {
        return LH_ENOMEM;
    }
    p->pos = ast->pos;
    p->u.scan.table = t;
    p->u.scan.alias = qual;
    p->u.scan.table_cols = lh__bind_alloc(b, (t->ncols + 1) * sizeof(uint32_t));
    bool *hidden = lh__bind_alloc(b, t->ncols + 1);
    if (p->u.scan.table_cols == NULL || hidden == NULL) {
        return LH_ENOMEM;
    }
    for (uint32_t i = 0; i < t->ncols; i++) {
        p->cols[i] = lh__bind_new_id(b, t->cols[i].type, t->cols[i].name);
        if (p->cols[i] == UINT32_MAX) {
            return lh__bind_nomem(b);
        }
        p->types[i] = t->cols[i].type;
        p->names[i] = t->cols[i].name;
        p->u.scan.table_cols[i] = i;
        hidden[i] = t->cols[i].hidden;
    }
    p->est_rows = t->est_rows > 0 ? t->est_rows : 1000;
    const char *const *aliases = NULL;
    uint32_t naliases = 0;
    if (ast->kind == LH_AST_TABLE) {
        aliases = ast->u.table.col_aliases;
        naliases = ast->u.table.ncol_aliases;
        p->u.scan.travel = ast->u.table.travel;
        if (ast->u.table.travel) {
            bind_scope empty = {0};
            lh_rc rc = lh__bind_expr(b, &empty, ast->u.table.travel_expr, 0,
                                     &p->u.scan.travel_expr);
            if (rc != LH_OK) {
                return rc;
            }
        }
    } else if (ast->kind == LH_AST_TABLE_FN) {
        aliases = ast->u.table_fn.col_aliases;
        naliases = ast->u.table_fn.ncol_aliases;
    }
    *out = p;
    return expose(b, s, p, qual, aliases, naliases, hidden, ast->pos);
}

/* A derived table, CTE or view: the query bound in its own scope, then
 * exposed under qual. */
static lh_rc
bind_derived(binder *b, bind_scope *s, bind_scope *parent, const lh_ast *q,
             const char *qual, const char *const *aliases, uint32_t naliases,
             int32_t pos, lh_plan **out)
{
    lh_rc rc = lh__bind_query(b, parent, q, out);
    if (rc != LH_OK) {
        return rc;
    }
    /* names of a derived table's output may be shared by several FROM
     * items; the plan keeps its own copy */
    lh_plan *p = *out;
    if (naliases) {
        const char **names = lh__bind_alloc(b, p->ncols * sizeof(char *));
        if (names == NULL) {
            return LH_ENOMEM;
        }
        memcpy(names, p->names, p->ncols * sizeof(char *));
        p->names = names;
    }
    return expose(b, s, p, qual, aliases, naliases, NULL, pos);
}

static bind_cte *
find_cte(bind_scope *s, const char *name, bind_scope **home)
{
    for (bind_scope *x = s; x; x = x->parent) {
        for (uint32_t i = x->nctes; i-- > 0;) {
            if (strcasecmp(x->ctes[i].name, name) == 0) {
                *home = x;
                return &x->ctes[i];
            }
        }
    }
    return NULL;
}

static lh_rc
bind_cte_ref(binder *b, bind_scope *s, bind_cte *c, bind_scope *home,
             const lh_ast *ast, lh_plan **out)
{
    const char *alias = ast->u.table.alias ? ast->u.table.alias : c->name;
    if (c->work) {
        /* WITH RECURSIVE: inside the recursive part, the working table */
        lh_plan *w = c->work;
        c->used = true;
        lh_plan *p = lh__plan_new(b, LH_PLAN_CTE_SCAN, 0, w->ncols);
        if (p == NULL) {
            return LH_ENOMEM;
        }
        p->u.cte.cte_cols = w->cols;
        for (uint32_t i = 0; i < w->ncols; i++) {
            p->cols[i] = lh__bind_new_id(b, w->types[i], w->names[i]);
            p->types[i] = w->types[i];
            p->names[i] = w->names[i];
        }
        p->est_rows = 100;
        *out = p;
        return expose(b, s, p, alias, ast->u.table.col_aliases,
                      ast->u.table.ncol_aliases, NULL, ast->pos);
    }
    if (c->binding) {
        return lh__bind_error(b, LH_EINVAL, ast->pos,
                              "recursive reference to query \"%s\" must not "
                              "appear within its non-recursive term",
                              c->name);
    }
    /* the CTE's query sees the CTEs defined before it (and outer ones);
     * a recursive one also sees itself */
    bind_scope cs = {0};
    cs.parent = home->parent;
    cs.ctes = home->ctes;
    cs.nctes = (uint32_t)(c - home->ctes) + (c->recursive ? 1 : 0);
    lh_plan *p;
    lh_rc rc;
    const lh_ast *q = c->def->query;
    if (c->recursive && q->kind == LH_AST_SETOP &&
        q->u.setop.op == LH_SETOP_UNION && q->u.setop.nctes == 0 &&
        q->u.setop.order.n == 0 && !q->u.setop.limit && !q->u.setop.offset) {
        rc = lh__bind_recursive(b, &cs, c, &p);
    } else {
        rc = lh__bind_query(b, &cs, q, &p);
    }
    if (rc != LH_OK) {
        return rc;
    }
    if (c->def->ncols > p->ncols) {
        return lh__bind_error(b, LH_EINVAL, c->def->pos,
                              "WITH query \"%s\" has %u columns available but "
                              "%u columns specified",
                              c->name, p->ncols, c->def->ncols);
    }
    const char **names = lh__bind_alloc(b, (p->ncols + 1) * sizeof(char *));
    if (names == NULL) {
        return LH_ENOMEM;
    }
    memcpy(names, p->names, p->ncols * sizeof(char *));
    for (uint32_t i = 0; i < c->def->ncols; i++) {
        names[i] = c->def->cols[i];
    }
    p->names = names;
    *out = p;
    return expose(b, s, p, alias, ast->u.table.col_aliases,
                  ast->u.table.ncol_aliases, NULL, ast->pos);
}

static lh_rc
table_not_found(binder *b, const lh_ast *ast, const char *name)
{
    lh__bind_error(b, LH_ENOENT, ast->pos, "relation \"%s\" does not exist",
                   name);
    const char **names = NULL;
    uint32_t n = 0;
    if (b->cat->table_names &&
        b->cat->table_names(b->cat->ud, b->a, &names, &n) == LH_OK) {
        lh__suggest_append(b, name, names, n);
    }
    return LH_ENOENT;
}

static lh_rc
bind_table(binder *b, bind_scope *s, const lh_ast *ast, lh_plan **out)
{
    const lh_ast_name *nm = &ast->u.table.name;
    const char *name = nm->parts[nm->n - 1];
    const char *qual = ast->u.table.alias ? ast->u.table.alias : name;
    if (nm->n == 1) {
        bind_scope *home;
        bind_cte *c = find_cte(s, name, &home);
        if (c) {
            return bind_cte_ref(b, s, c, home, ast, out);
        }
    }
    const lh_sql_table *t = NULL;
    lh_rc rc = LH_ENOENT;
    if (b->cat->table) {
        rc = b->cat->table(b->cat->ud, nm, b->a, &t, b->err);
    }
    if (rc == LH_ENOENT) {
        return table_not_found(b, ast, name);
    }
    if (rc != LH_OK) {
        if (b->err && b->err->offset < 0) {
            b->err->offset = ast->pos;
        }
        return rc;
    }
    if (t->kind == LH_SQL_TABLE_VIEW) {
        if (++b->depth > 64) {
            return lh__bind_error(b, LH_ELIMIT, ast->pos,
                                  "views nested too deeply (is view \"%s\" "
                                  "defined through itself?)",
                                  name);
        }
        /* the view's query binds on its own: no outer columns */
        bind_scope vs = {0};
        lh_plan *p;
        rc = lh__bind_query(b, &vs, t->view, &p);
        b->depth--;
        if (rc != LH_OK) {
            lh_err_prefix(b->err, "view \"%s\"", name);
            if (b->err) {
                b->err->offset = ast->pos;
            }
            return rc;
        }
        if (t->nview_cols) {
            const char **names =
                lh__bind_alloc(b, (p->ncols + 1) * sizeof(char *));
            if (names == NULL) {
                return LH_ENOMEM;
            }
            memcpy(names, p->names, p->ncols * sizeof(char *));
            for (uint32_t i = 0; i < t->nview_cols && i < p->ncols; i++) {
                names[i] = t->view_cols[i];
            }
            p->names = names;
        }
        *out = p;
        return expose(b, s, p, qual, ast->u.table.col_aliases,
                      ast->u.table.ncol_aliases, NULL, ast->pos);
    }
    if (ast->u.table.travel && t->kind != LH_SQL_TABLE_EVENT) {
        return lh__bind_error(b, LH_EUNSUPPORTED, ast->pos,
                              "unsupported: time travel on \"%s\" (only "
                              "event tables keep history)",
                              name);
    }
    return bind_table_scan(b, s, t, qual, ast, out);
}

/* A constant argument of a table function: literals, negated numbers,
 * typed literals and arrays of those (as their elements, flattened). */
static lh_rc
const_arg(binder *b, const lh_ast *e, const char *fn, lh_value **vals,
          uint32_t *n, uint32_t *cap)
{
    if (e->kind == LH_AST_ARRAY) {
        for (uint32_t i = 0; i < e->u.array.items.n; i++) {
            lh_rc rc =
                const_arg(b, e->u.array.items.items[i], fn, vals, n, cap);
            if (rc != LH_OK) {
                return rc;
            }
        }
        return LH_OK;
    }
    bind_scope empty = {0};
    lh_bexpr *x;
    lh_rc rc = lh__bind_expr(b, &empty, e, 0, &x);
    if (rc != LH_OK) {
        return rc;
    }
    if (x->kind == LH_BX_CAST && x->u.cast.arg->kind == LH_BX_CONST &&
        x->u.cast.arg->untyped) {
        x = x->u.cast.arg; /* 'x'::VARCHAR */
    }
    if (x->kind != LH_BX_CONST) {
        return lh__bind_error(b, LH_EINVAL, e->pos,
                              "the arguments of %s must be constants", fn);
    }
    lh_value *nv = lh_sql_grow(b->a, *vals, *n, cap, sizeof(lh_value), 8);
    if (nv == NULL) {
        return lh__bind_nomem(b);
    }
    *vals = nv;
    (*vals)[(*n)++] = x->u.c;
    return LH_OK;
}

static lh_rc
bind_table_fn(binder *b, bind_scope *s, const lh_ast *ast, lh_plan **out)
{
    const lh_ast_name *nm = &ast->u.table_fn.name;
    const char *name = nm->parts[nm->n - 1];
    lh_value *args = NULL, *named = NULL;
    uint32_t nargs = 0, cap = 0, nnamed = 0, ncap = 0;
    for (uint32_t i = 0; i < ast->u.table_fn.args.n; i++) {
        lh_rc rc = const_arg(b, ast->u.table_fn.args.items[i], name, &args,
                             &nargs, &cap);
        if (rc != LH_OK) {
            return rc;
        }
    }
    const char **names =
        lh__bind_alloc(b, (ast->u.table_fn.nnamed + 1) * sizeof(char *));
    if (names == NULL) {
        return LH_ENOMEM;
    }
    for (uint32_t i = 0; i < ast->u.table_fn.nnamed; i++) {
        const lh_ast_option *o = &ast->u.table_fn.named[i];
        uint32_t before = nnamed;
        lh_rc rc = const_arg(b, o->value, name, &named, &nnamed, &ncap);
        if (rc != LH_OK) {
            return rc;
        }
        if (nnamed != before + 1) {
            return lh__bind_error(b, LH_EINVAL, o->pos,
                                  "option \"%s\" of %s takes one value", o->key,
                                  name);
        }
        names[i] = o->key;
    }
    const lh_sql_table *t = NULL;
    lh_rc rc = LH_ENOENT;
    if (b->cat->table_fn) {
        lh_err_clear(b->err);
        rc = b->cat->table_fn(b->cat->ud, name, args, nargs, names, named,
                              nnamed, b->a, &t, b->err);
    }
    if (rc == LH_ENOENT && (b->err == NULL || b->err->msg[0] == 0)) {
        lh__bind_error(b, LH_EINVAL, ast->pos,
                       "table function \"%s\" does not exist", name);
        static const char *const known[] = {"read_parquet", "iceberg_scan",
                                            "generate_series", "range"};
        lh__suggest_append(b, name, known, LH_ARRAY_LEN(known));
        return LH_EINVAL;
    }
    if (rc != LH_OK) {
        if (b->err) {
            b->err->offset = ast->pos;
        }
        return rc;
    }
    const char *qual = ast->u.table_fn.alias ? ast->u.table_fn.alias : name;
    return bind_table_scan(b, s, t, qual, ast, out);
}

/* USING / NATURAL: the join condition l.c = r.c for each column, the
 * right side's copy reachable only qualified, and for FULL joins the
 * merged column as COALESCE(l, r) through a projection. */
static lh_rc
bind_using(binder *b, bind_scope *s, uint32_t lstart, uint32_t rstart,
           const lh_ast *ast, const char *const *cols, uint32_t ncols,
           lh_plan *join, lh_plan **out)
{
    lh_bexpr **conds = lh__bind_alloc(b, (ncols + 1) * sizeof(lh_bexpr *));
    uint32_t *lidx = lh__bind_alloc(b, (ncols + 1) * sizeof(uint32_t));
    uint32_t *ridx = lh__bind_alloc(b, (ncols + 1) * sizeof(uint32_t));
    if (!conds || !lidx || !ridx) {
        return LH_ENOMEM;
    }
    for (uint32_t k = 0; k < ncols; k++) {
        int li = -1, ri = -1;
        for (uint32_t i = lstart; i < rstart; i++) {
            if (!s->cols[i].using_dup && !s->cols[i].hidden &&
                strcasecmp(s->cols[i].name, cols[k]) == 0) {
                if (li >= 0) {
                    return lh__bind_error(b, LH_EINVAL, ast->pos,
                                          "common column name \"%s\" appears "
                                          "more than once in left table",
                                          cols[k]);
                }
                li = (int)i;
            }
        }
        for (uint32_t i = rstart; i < s->n; i++) {
            if (!s->cols[i].using_dup &&
                strcasecmp(s->cols[i].name, cols[k]) == 0) {
                if (ri >= 0) {
                    return lh__bind_error(b, LH_EINVAL, ast->pos,
                                          "common column name \"%s\" appears "
                                          "more than once in right table",
                                          cols[k]);
                }
                ri = (int)i;
            }
        }
        if (li < 0 || ri < 0) {
            return lh__bind_error(b, LH_EINVAL, ast->pos,
                                  "column \"%s\" specified in USING clause "
                                  "does not exist in %s table",
                                  cols[k], li < 0 ? "left" : "right");
        }
        lidx[k] = (uint32_t)li;
        ridx[k] = (uint32_t)ri;
        lh_bexpr *args[2] = {lh__bx_col(b, s->cols[li].id, s->cols[li].type),
                             lh__bx_col(b, s->cols[ri].id, s->cols[ri].type)};
        if (!args[0] || !args[1]) {
            return LH_ENOMEM;
        }
        lh_rc rc = lh__bind_call(b, "=", ast->pos, args, 2, &conds[k]);
        if (rc != LH_OK) {
            return rc;
        }
    }
    join->u.join.cond = ncols == 1 ? conds[0]
                                   : lh__bx_list(b, LH_BX_AND, conds, ncols,
                                                 lh_sql_type(LH_T_BOOLEAN));
    if (ncols && join->u.join.cond == NULL) {
        return LH_ENOMEM;
    }
    *out = join;
    uint8_t kind = join->u.join.kind;
    for (uint32_t k = 0; k < ncols; k++) {
        bind_col *l = &s->cols[lidx[k]], *r = &s->cols[ridx[k]];
        if (kind == LH_JOIN_RIGHT) {
            r->using_head = true;
            l->using_dup = true;
        } else {
            l->using_head = true;
            r->using_dup = true;
        }
    }
    if (kind != LH_JOIN_FULL || ncols == 0) {
        return LH_OK;
    }
    /* FULL JOIN USING: the visible column is COALESCE(l.c, r.c) */
    lh_plan *p = lh__plan_new(b, LH_PLAN_PROJECT, 1, join->ncols + ncols);
    if (p == NULL) {
        return LH_ENOMEM;
    }
    p->children[0] = join;
    p->u.project.exprs =
        lh__bind_alloc(b, (join->ncols + ncols) * sizeof(lh_bexpr *));
    if (p->u.project.exprs == NULL) {
        return LH_ENOMEM;
    }
    for (uint32_t i = 0; i < join->ncols; i++) {
        p->cols[i] = join->cols[i];
        p->types[i] = join->types[i];
        p->names[i] = join->names[i];
        p->u.project.exprs[i] = lh__bx_col(b, join->cols[i], join->types[i]);
        if (p->u.project.exprs[i] == NULL) {
            return LH_ENOMEM;
        }
    }
    for (uint32_t k = 0; k < ncols; k++) {
        bind_col *l = &s->cols[lidx[k]], *r = &s->cols[ridx[k]];
        lh_type t;
        if (!lh_sql_common_type(l->type, false, r->type, false, &t)) {
            t = l->type;
        }
        lh_bexpr *args[2];
        lh_rc rc =
            lh__bind_cast(b, lh__bx_col(b, l->id, l->type), t, false, &args[0]);
        if (rc == LH_OK) {
            rc = lh__bind_cast(b, lh__bx_col(b, r->id, r->type), t, false,
                               &args[1]);
        }
        if (rc != LH_OK) {
            return rc;
        }
        lh_bexpr *co = lh__bx_list(b, LH_BX_COALESCE, args, 2, t);
        if (co == NULL) {
            return LH_ENOMEM;
        }
        uint32_t j = join->ncols + k;
        p->cols[j] = lh__bind_new_id(b, t, l->name);
        p->types[j] = t;
        p->names[j] = l->name;
        p->u.project.exprs[j] = co;
        l->using_dup = true;
        l->using_head = false;
        r->using_dup = true;
        rc = lh__scope_add(b, s, NULL, l->name, p->cols[j], t, false);
        if (rc != LH_OK) {
            return rc;
        }
        s->cols[s->n - 1].using_head = true;
    }
    p->est_rows = join->est_rows;
    *out = p;
    return LH_OK;
}

static lh_rc
bind_join(binder *b, bind_scope *s, const lh_ast *ast, lh_plan **out)
{
    lh_plan *l, *r;
    lh_rc rc = lh__bind_from(b, s, ast->u.join.left, &l);
    if (rc != LH_OK) {
        return rc;
    }
    uint32_t rstart = s->n;
    uint32_t lstart = 0;
    /* the left side's columns start where this join's FROM item did: find
     * them as those added since the left item began (all of s when this
     * join is the whole FROM) */
    (void)lstart;
    const lh_ast *right = ast->u.join.right;
    if (right->kind == LH_AST_DERIVED && right->u.derived.lateral) {
        /* LATERAL: the subquery sees the columns to its left */
        rc = bind_derived(b, s, s, right->u.derived.query,
                          right->u.derived.alias, right->u.derived.col_aliases,
                          right->u.derived.ncol_aliases, right->pos, &r);
        if (rc == LH_OK) {
            return lh__bind_error(b, LH_EUNSUPPORTED, right->pos,
                                  "unsupported: LATERAL subqueries");
        }
        return rc;
    }
    rc = lh__bind_from(b, s, right, &r);
    if (rc != LH_OK) {
        return rc;
    }
    lh_plan *j = lh__plan_new(b, LH_PLAN_JOIN, 2, l->ncols + r->ncols);
    if (j == NULL) {
        return LH_ENOMEM;
    }
    j->pos = ast->pos;
    j->children[0] = l;
    j->children[1] = r;
    j->u.join.kind = ast->u.join.kind;
    memcpy(j->cols, l->cols, l->ncols * sizeof(uint32_t));
    memcpy(j->cols + l->ncols, r->cols, r->ncols * sizeof(uint32_t));
    memcpy(j->types, l->types, l->ncols * sizeof(lh_type));
    memcpy(j->types + l->ncols, r->types, r->ncols * sizeof(lh_type));
    memcpy(j->names, l->names, l->ncols * sizeof(char *));
    memcpy(j->names + l->ncols, r->names, r->ncols * sizeof(char *));
    j->est_rows = ast->u.join.kind == LH_JOIN_CROSS
                      ? l->est_rows * r->est_rows
                      : (l->est_rows > r->est_rows ? l->est_rows : r->est_rows);
    /* find where the left item's columns begin in s */
    uint32_t lbegin = rstart;
    for (uint32_t i = 0; i < rstart; i++) {
        for (uint32_t k = 0; k < l->ncols; k++) {
            if (s->cols[i].id == l->cols[k]) {
                lbegin = i < lbegin ? i : lbegin;
            }
        }
    }
    if (ast->u.join.natural) {
        /* USING every name both sides share (visible columns) */
        const char **common =
            lh__bind_alloc(b, (s->n - rstart + 1) * sizeof(char *));
        uint32_t nc = 0;
        if (common == NULL) {
            return LH_ENOMEM;
        }
        for (uint32_t i = rstart; i < s->n; i++) {
            if (s->cols[i].hidden || s->cols[i].using_dup) {
                continue;
            }
            for (uint32_t k = lbegin; k < rstart; k++) {
                if (!s->cols[k].hidden && !s->cols[k].using_dup &&
                    strcasecmp(s->cols[k].name, s->cols[i].name) == 0) {
                    common[nc++] = s->cols[i].name;
                    break;
                }
            }
        }
        if (nc == 0 && ast->u.join.kind == LH_JOIN_INNER) {
            j->u.join.kind = LH_JOIN_CROSS;
        }
        return bind_using(b, s, lbegin, rstart, ast, common, nc, j, out);
    }
    if (ast->u.join.nusing) {
        return bind_using(b, s, lbegin, rstart, ast, ast->u.join.using_cols,
                          ast->u.join.nusing, j, out);
    }
    if (ast->u.join.on) {
        rc = lh__bind_bool(b, s, ast->u.join.on, 0, "JOIN/ON", &j->u.join.cond);
        if (rc != LH_OK) {
            return rc;
        }
    }
    *out = j;
    return LH_OK;
}

lh_rc
lh__bind_from(binder *b, bind_scope *s, const lh_ast *from, lh_plan **out)
{
    if (++b->depth > LH_SQL_MAX_DEPTH) {
        return lh__bind_error(b, LH_ELIMIT, from->pos,
                              "FROM clause nested too deeply");
    }
    lh_rc rc;
    switch (from->kind) {
    case LH_AST_TABLE:
        rc = bind_table(b, s, from, out);
        break;
    case LH_AST_TABLE_FN:
        rc = bind_table_fn(b, s, from, out);
        break;
    case LH_AST_DERIVED:
        if (from->u.derived.lateral) {
            rc = lh__bind_error(b, LH_EUNSUPPORTED, from->pos,
                                "unsupported: LATERAL subqueries");
            break;
        }
        /* a derived table sees the outer query's scopes (it may be
         * correlated inside a subquery), not its siblings; it does see
         * this query's WITH (a scope of the CTEs alone) */
        {
            bind_scope with = {0};
            bind_scope *parent = s->parent;
            if (s->nctes) {
                with.parent = s->parent;
                with.ctes = s->ctes;
                with.nctes = s->nctes;
                parent = &with;
            }
            rc =
                bind_derived(b, s, parent, from->u.derived.query,
                             from->u.derived.alias, from->u.derived.col_aliases,
                             from->u.derived.ncol_aliases, from->pos, out);
        }
        break;
    case LH_AST_JOIN:
        rc = bind_join(b, s, from, out);
        break;
    default:
        rc = lh__bind_error(b, LH_EINVAL, from->pos, "unexpected %s in FROM",
                            lh_sql_ast_kind_name((lh_ast_kind)from->kind));
        break;
    }
    b->depth--;
    return rc;
}

/* ---- the entry point
 * ---------------------------------------------------------
 */

lh_rc
lh_sql_bind(const lh_sql_catalog *cat, const lh_sql_settings *set,
            const lh_ast *stmt, const char *sql, size_t sql_len,
            const lh_value *params, int32_t nparams, lh_arena *a,
            lh_sql_query **out, lh_err *err)
{
    static const lh_sql_settings defaults;
    binder b = {
        .cat = cat,
        .set = set ? set : &defaults,
        .a = a,
        .err = err,
        .sql = sql,
        .sql_len = sql_len,
        .params = params,
        .nparams = nparams,
    };
    lh_err_clear(err);
    lh_sql_query *q = lh__bind_alloc(&b, sizeof(lh_sql_query));
    if (q == NULL) {
        return LH_ENOMEM;
    }
    lh_rc rc = lh__bind_statement(&b, stmt, &q->root);
    if (rc != LH_OK) {
        if (err && err->code == LH_OK) {
            lh_err_set(err, rc, "could not bind the statement");
        }
        return rc;
    }
    q->ncols_total = b.next_id;
    q->nparams = b.max_param;
    q->text = sql;
    q->text_len = sql_len;
    *out = q;
    return LH_OK;
}
