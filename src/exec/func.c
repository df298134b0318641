/*
 * The function registry: every family's table, indexed by name. To add a
 * family, write its fn_*.c / agg_*.c file with a `const lh_fn_family` and
 * add one line to `families` below (and its extern to exec_int.h).
 */
#include <string.h>

#include "exec/exec_int.h"

static const lh_fn_family *const families[] = {
    &lh__fn_compare, /* one line a family */
    &lh__fn_arith,   &lh__fn_string, &lh__fn_text,
    &lh__fn_regex,   &lh__fn_math,   &lh__fn_time,
    &lh__agg_basic,  &lh__fn_window, &lh__fn_vector,
};

typedef struct entry {
    const lh_fn_def **defs;
    uint32_t n, cap;
} entry;

struct lh_fn_registry {
    lh_map by_name; /* name -> entry* */
    const char **names;
    uint32_t nnames;
};

void
lh__registry_free(lh_fn_registry *r)
{
    if (r == NULL) {
        return;
    }
    size_t it = 0;
    const void *k;
    size_t kl;
    void *v;
    while (lh_map_next(&r->by_name, &it, &k, &kl, &v)) {
        entry *e = v;
        lh_free(e->defs);
        lh_free(e);
    }
    lh_map_release(&r->by_name);
    lh_free(r->names);
    lh_free(r);
}

lh_rc
lh__registry_new(lh_fn_registry **out, lh_err *err)
{
    lh_fn_registry *r = lh_calloc(1, sizeof(lh_fn_registry));
    if (r == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_map_init(&r->by_name);
    uint32_t total = 0;
    for (size_t f = 0; f < LH_ARRAY_LEN(families); f++) {
        total += families[f]->n;
    }
    r->names = lh_calloc(total + 1, sizeof(char *));
    if (r->names == NULL) {
        lh__registry_free(r);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (size_t f = 0; f < LH_ARRAY_LEN(families); f++) {
        for (uint32_t i = 0; i < families[f]->n; i++) {
            const lh_fn_def *d = &families[f]->defs[i];
            size_t nl = strlen(d->name);
            entry *e = lh_map_get(&r->by_name, d->name, nl);
            if (e == NULL) {
                e = lh_calloc(1, sizeof(entry));
                if (e == NULL ||
                    lh_map_put(&r->by_name, d->name, nl, e, NULL) != LH_OK) {
                    lh_free(e);
                    lh__registry_free(r);
                    return lh_err_set(err, LH_ENOMEM, "out of memory");
                }
                /* operators are not suggested as names */
                if ((d->name[0] >= 'a' && d->name[0] <= 'z') ||
                    d->name[0] == '_') {
                    r->names[r->nnames++] = d->name;
                }
            }
            if (e->n == e->cap) {
                uint32_t ncap = e->cap ? e->cap * 2 : 4;
                const lh_fn_def **nd =
                    lh_realloc(e->defs, ncap * sizeof(lh_fn_def *));
                if (nd == NULL) {
                    lh__registry_free(r);
                    return lh_err_set(err, LH_ENOMEM, "out of memory");
                }
                e->defs = nd;
                e->cap = ncap;
            }
            e->defs[e->n++] = d;
        }
    }
    *out = r;
    return LH_OK;
}

const lh_fn_def *const *
lh_fn_lookup(const lh_fn_registry *r, const char *name, uint32_t *n)
{
    entry *e = r ? lh_map_get(&r->by_name, name, strlen(name)) : NULL;
    if (e == NULL) {
        *n = 0;
        return NULL;
    }
    *n = e->n;
    return e->defs;
}

const char *const *
lh_fn_names(const lh_fn_registry *r, uint32_t *n)
{
    *n = r->nnames;
    return r->names;
}

const lh_fn_def *
lh_sql_find_exact(const lh_fn_registry *r, const char *name,
                  const lh_type *args, uint32_t nargs)
{
    uint32_t n;
    const lh_fn_def *const *c = lh_fn_lookup(r, name, &n);
    for (uint32_t i = 0; i < n; i++) {
        if (c[i]->kind != LH_FN_SCALAR || (c[i]->nargs & 0x7f) != nargs) {
            continue;
        }
        bool ok = true;
        for (uint32_t k = 0; k < nargs && ok; k++) {
            ok = c[i]->args[k] == args[k].id || c[i]->args[k] == LH_FN_ANY;
        }
        if (ok) {
            return c[i];
        }
    }
    return NULL;
}
