/*
 * CREATE TABLE in a session over a data directory: an event table, made by
 * lh_table_create from the same JSON definition a user would write
 * (lh_table_create in lakehouse.h, src/hot/schema.c), so both paths share
 * one set of checks and one normalized form. CREATE TEMP TABLE (and any
 * CREATE TABLE of a session without a data directory) stays a memory
 * table of the session (query.c).
 *
 * The mapping:
 *   columns          name, type (as written: the same type parser), NOT NULL
 *   PRIMARY KEY      NOT NULL; not enforced (events are identified by
 *                    event_id), as Snowflake and Databricks treat it
 *   embedding FLOAT[n]  the envelope's embedding column: embedding_dim n
 *   PARTITION BY e   partition_by, e's text: day(ts), bucket(16, c), c
 *   CLUSTER BY       cluster_by
 *   WITH (k = v)     the definition's key k: numbers as numbers, strings
 *                    as strings; vector_index takes a JSON object text
 * DEFAULT and UNIQUE have no place in an event's definition: refused,
 * naming the column, rather than silently dropped.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec/exec_int.h"
#include "hot/hot_int.h"

static lh_rc at(lh_err *err, int32_t pos, lh_rc code, const char *fmt, ...)
    LH_PRINTF(4, 5);

static lh_rc
at(lh_err *err, int32_t pos, lh_rc code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lh_err_setv(err, code, fmt, ap);
    va_end(ap);
    if (err != NULL) {
        err->offset = pos;
    }
    return code;
}

/* A partition transform's argument: a column, or a width. */
static bool
put_partition_arg(const lh_ast *e, lh_buf *b)
{
    if (e->kind == LH_AST_COLREF && e->u.colref.name.n == 1) {
        lh_buf_puts(b, e->u.colref.name.parts[0]);
        return true;
    }
    if (e->kind == LH_AST_LITERAL && e->u.lit.kind == LH_LIT_INT) {
        lh_buf_puts(b, e->u.lit.text);
        return true;
    }
    return false;
}

/* PARTITION BY's expression as the definition's text ("day(ts)",
 * "bucket(16, tenant_id)", "region"); false when it is none of those. */
static bool
partition_text(const lh_ast *e, lh_buf *b)
{
    if (e->kind != LH_AST_FUNC) {
        return e->kind == LH_AST_COLREF && put_partition_arg(e, b);
    }
    const lh_ast_name *fn = &e->u.func.name;
    if (fn->n != 1 || e->u.func.args.n == 0 || e->u.func.args.n > 2) {
        return false;
    }
    lh_buf_puts(b, fn->parts[0]);
    lh_buf_puts(b, "(");
    for (uint32_t i = 0; i < e->u.func.args.n; i++) {
        if (i > 0) {
            lh_buf_puts(b, ", ");
        }
        if (!put_partition_arg(e->u.func.args.items[i], b)) {
            return false;
        }
    }
    lh_buf_puts(b, ")");
    return true;
}

/* WITH (key = value)'s value as JSON. */
static lh_rc
option_json(const lh_ast_option *o, json_t **out, lh_err *err)
{
    const lh_ast *v = o->value;
    *out = NULL;
    if (v == NULL || v->kind != LH_AST_LITERAL) {
        return at(err, o->pos, LH_EINVAL,
                  "option \"%s\" of CREATE TABLE needs a value (a number or "
                  "a string)",
                  o->key);
    }
    switch (v->u.lit.kind) {
    case LH_LIT_BOOL:
        *out = json_boolean(v->u.lit.b);
        break;
    case LH_LIT_INT: {
        char *end;
        errno = 0;
        long long n = strtoll(v->u.lit.text, &end, 10);
        if (errno != 0 || *end != 0) {
            return at(err, o->pos, LH_EINVAL,
                      "option \"%s\": %s is out of range", o->key,
                      v->u.lit.text);
        }
        *out = json_integer(n);
        break;
    }
    case LH_LIT_NUMBER:
        *out = json_real(strtod(v->u.lit.text, NULL));
        break;
    case LH_LIT_STRING:
        if (strcasecmp(o->key, "vector_index") == 0) {
            json_error_t je;
            *out = json_loads(v->u.lit.text, 0, &je);
            if (*out == NULL) {
                return at(err, o->pos, LH_EINVAL,
                          "option \"vector_index\" must be a JSON object "
                          "such as '{\"metric\": \"cosine\", \"m\": 16}': "
                          "%s",
                          je.text);
            }
        } else {
            *out = json_string(v->u.lit.text);
        }
        break;
    default:
        return at(err, o->pos, LH_EINVAL,
                  "option \"%s\" of CREATE TABLE takes a number or a string",
                  o->key);
    }
    return *out != NULL ? LH_OK : lh_err_set(err, LH_ENOMEM, "out of memory");
}

/* The columns: from the statement (cols NULL) or from a query's result
 * (CREATE TABLE AS). Sets embedding_dim for a column named embedding. */
static lh_rc
columns_json(const lh_ast *a, const lh_sql_column *qcols, uint32_t nq,
             json_t *def, lh_err *err)
{
    json_t *arr = json_array();
    if (arr == NULL || json_object_set_new(def, "columns", arr) != 0) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    uint32_t n = qcols ? nq : a->u.create_table.ncols;
    for (uint32_t i = 0; i < n; i++) {
        const lh_ast_coldef *c = qcols ? NULL : &a->u.create_table.cols[i];
        const char *name = qcols ? qcols[i].name : c->name;
        int32_t pos = c ? c->pos : a->pos;
        lh_type t;
        char tbuf[64];
        const char *type_text;
        if (c) {
            lh_err te;
            if (lh_type_parse(c->type_text, &t, &te) != LH_OK) {
                return at(err, c->type_pos, LH_EINVAL, "%s", te.msg);
            }
            type_text = c->type_text;
            if (c->default_expr != NULL || c->unique) {
                return at(err, pos, LH_EUNSUPPORTED,
                          "unsupported: %s on column \"%s\" of an event "
                          "table (use CREATE TEMP TABLE for a session "
                          "table)",
                          c->unique ? "UNIQUE" : "DEFAULT", name);
            }
        } else {
            t = qcols[i].type;
            type_text = lh_type_name(t, tbuf);
        }
        if (strcasecmp(name, "embedding") == 0 && t.id == LH_T_VECTOR) {
            json_object_set_new(def, "embedding_dim", json_integer(t.dim));
            continue;
        }
        if (lh__envelope_name(name)) {
            return at(err, pos, LH_EINVAL,
                      "column \"%s\" of an event table: the name is taken by "
                      "the event envelope, which every event table has "
                      "(event_id, stream, version, type, ts, committed_at, "
                      "...); rename the column, or use CREATE TEMP TABLE for "
                      "a session table",
                      name);
        }
        bool not_null = c ? c->not_null || c->primary_key : !qcols[i].nullable;
        for (uint32_t k = 0; c && k < a->u.create_table.npk; k++) {
            not_null |= strcasecmp(a->u.create_table.primary_key[k], name) == 0;
        }
        json_t *o = json_pack("{s:s, s:s, s:b}", "name", name, "type",
                              type_text, "nullable", !not_null);
        if (o == NULL || json_array_append_new(arr, o) != 0) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    return LH_OK;
}

lh_rc
lh__event_tabledef(const lh_ast *a, const lh_sql_column *qcols, uint32_t nq,
                   char **json, lh_err *err)
{
    *json = NULL;
    const lh_ast_name *nm = &a->u.create_table.name;
    json_t *def = json_object();
    if (def == NULL ||
        json_object_set_new(def, "name", json_string(nm->parts[nm->n - 1]))) {
        json_decref(def);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = columns_json(a, qcols, nq, def, err);
    const lh_ast *pb = a->u.create_table.partition_by;
    if (rc == LH_OK && pb != NULL) {
        lh_buf b = LH_BUF_INIT;
        if (!partition_text(pb, &b)) {
            rc = at(err, pb->pos, LH_EINVAL,
                    "PARTITION BY of an event table takes a column or a "
                    "transform of one: day(ts), month(ts), bucket(16, col), "
                    "truncate(10, col), identity(col)");
        } else {
            json_object_set_new(def, "partition_by",
                                json_string(b.data ? b.data : ""));
        }
        lh_buf_release(&b);
    }
    if (rc == LH_OK && a->u.create_table.ncluster > 0) {
        json_t *cl = json_array();
        for (uint32_t i = 0; i < a->u.create_table.ncluster; i++) {
            json_array_append_new(cl,
                                  json_string(a->u.create_table.cluster_by[i]));
        }
        json_object_set_new(def, "cluster_by", cl);
    }
    for (uint32_t i = 0; rc == LH_OK && i < a->u.create_table.noptions; i++) {
        const lh_ast_option *o = &a->u.create_table.options[i];
        char key[64];
        size_t k = 0;
        for (; o->key[k] && k + 1 < sizeof key; k++) {
            key[k] = (char)tolower((unsigned char)o->key[k]);
        }
        key[k] = 0;
        if (strcmp(key, "name") == 0 || strcmp(key, "columns") == 0) {
            rc = at(err, o->pos, LH_EINVAL,
                    "option \"%s\" of CREATE TABLE: give it in the statement "
                    "itself",
                    o->key);
            break;
        }
        json_t *v;
        rc = option_json(o, &v, err);
        if (rc == LH_OK) {
            json_object_set_new(def, key, v);
        }
    }
    if (rc == LH_OK) {
        *json = json_dumps(def, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (*json == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    json_decref(def);
    return rc;
}
