/*
 * Bound expressions: structural equality (grouping keys, deduplicated
 * aggregates, ORDER BY matching a target) and text for EXPLAIN.
 */
#include <stdio.h>
#include <string.h>

#include "sql/plan.h"
#include "sql/types.h"

static bool
value_equal(const lh_value *a, const lh_value *b)
{
    if (!lh_type_equal(a->type, b->type) || a->is_null != b->is_null) {
        return false;
    }
    if (a->is_null) {
        return true;
    }
    switch (a->type.id) {
    case LH_T_BOOLEAN:
        return a->u.b == b->u.b;
    case LH_T_REAL:
    case LH_T_DOUBLE:
        return memcmp(&a->u.d, &b->u.d, sizeof(double)) == 0;
    case LH_T_DECIMAL:
        return a->u.dec == b->u.dec;
    case LH_T_VARCHAR:
    case LH_T_BLOB:
    case LH_T_JSON:
        return a->u.s.len == b->u.s.len &&
               memcmp(a->u.s.p, b->u.s.p, a->u.s.len) == 0;
    case LH_T_UUID:
        return memcmp(&a->u.uuid, &b->u.uuid, sizeof(lh_uuid)) == 0;
    case LH_T_INTERVAL:
        return a->u.iv.months == b->u.iv.months &&
               a->u.iv.days == b->u.iv.days && a->u.iv.micros == b->u.iv.micros;
    case LH_T_VECTOR:
        return a->u.vec.n == b->u.vec.n &&
               memcmp(a->u.vec.v, b->u.vec.v, a->u.vec.n * sizeof(float)) == 0;
    case LH_T_NULL:
        return true;
    default:
        return a->u.i == b->u.i;
    }
}

static bool
list_equal(lh_bexpr *const *a, lh_bexpr *const *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (!lh_sql_expr_equal(a[i], b[i])) {
            return false;
        }
    }
    return true;
}

static bool
keys_equal(const lh_order_key *a, const lh_order_key *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (a[i].desc != b[i].desc || a[i].nulls_first != b[i].nulls_first ||
            !lh_sql_expr_equal(a[i].expr, b[i].expr)) {
            return false;
        }
    }
    return true;
}

static bool
window_equal(const lh_window_spec *a, const lh_window_spec *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    return a->npartition == b->npartition && a->norder == b->norder &&
           a->unit == b->unit && a->start_kind == b->start_kind &&
           a->end_kind == b->end_kind && a->exclude == b->exclude &&
           list_equal(a->partition, b->partition, a->npartition) &&
           keys_equal(a->order, b->order, a->norder) &&
           lh_sql_expr_equal(a->start, b->start) &&
           lh_sql_expr_equal(a->end, b->end);
}

bool
lh_sql_expr_equal(const lh_bexpr *a, const lh_bexpr *b)
{
    if (a == b) {
        return true;
    }
    if (a == NULL || b == NULL || a->kind != b->kind ||
        a->negated != b->negated || a->what != b->what ||
        !lh_type_equal(a->type, b->type)) {
        return false;
    }
    switch ((lh_bx_kind)a->kind) {
    case LH_BX_CONST:
        return a->untyped == b->untyped && value_equal(&a->u.c, &b->u.c);
    case LH_BX_COL:
        return a->u.col == b->u.col;
    case LH_BX_PARAM:
        return a->u.param == b->u.param;
    case LH_BX_CALL:
        return a->u.call.fn == b->u.call.fn &&
               a->u.call.nargs == b->u.call.nargs &&
               list_equal(a->u.call.args, b->u.call.args, a->u.call.nargs);
    case LH_BX_CAST:
        return a->u.cast.try_cast == b->u.cast.try_cast &&
               lh_sql_expr_equal(a->u.cast.arg, b->u.cast.arg);
    case LH_BX_AND:
    case LH_BX_OR:
    case LH_BX_NOT:
    case LH_BX_IS_NULL:
    case LH_BX_IS_BOOL:
    case LH_BX_COALESCE:
    case LH_BX_GROUPING:
        return a->u.list.n == b->u.list.n &&
               list_equal(a->u.list.args, b->u.list.args, a->u.list.n);
    case LH_BX_CASE:
        return a->u.kase.n == b->u.kase.n &&
               list_equal(a->u.kase.whens, b->u.kase.whens, a->u.kase.n) &&
               list_equal(a->u.kase.thens, b->u.kase.thens, a->u.kase.n) &&
               lh_sql_expr_equal(a->u.kase.else_expr, b->u.kase.else_expr);
    case LH_BX_IN:
        return a->u.in.n == b->u.in.n &&
               lh_sql_expr_equal(a->u.in.arg, b->u.in.arg) &&
               list_equal(a->u.in.list, b->u.in.list, a->u.in.n);
    case LH_BX_SUBQUERY:
        return a->u.sub.plan == b->u.sub.plan && a->u.sub.kind == b->u.sub.kind;
    case LH_BX_AGG:
    case LH_BX_WINDOW:
        return a->u.agg.fn == b->u.agg.fn && a->u.agg.nargs == b->u.agg.nargs &&
               a->u.agg.distinct == b->u.agg.distinct &&
               a->u.agg.norder == b->u.agg.norder &&
               a->u.agg.ignore_nulls == b->u.agg.ignore_nulls &&
               list_equal(a->u.agg.args, b->u.agg.args, a->u.agg.nargs) &&
               lh_sql_expr_equal(a->u.agg.filter, b->u.agg.filter) &&
               keys_equal(a->u.agg.order, b->u.agg.order, a->u.agg.norder) &&
               window_equal(a->u.agg.over, b->u.agg.over);
    }
    return false;
}

/* ---- text -----------------------------------------------------------------
 */

static void text(const lh_bexpr *e, const lh_sql_query *q, lh_buf *out);

static void
args(lh_bexpr *const *a, uint32_t n, const lh_sql_query *q, lh_buf *out)
{
    for (uint32_t i = 0; i < n; i++) {
        if (i) {
            lh_buf_puts(out, ", ");
        }
        text(a[i], q, out);
    }
}

static bool
is_op(const char *name)
{
    return !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_');
}

static void window_text(const lh_window_spec *w, const lh_sql_query *q,
                        lh_buf *out);

static void
text(const lh_bexpr *e, const lh_sql_query *q, lh_buf *out)
{
    (void)q;
    if (e == NULL) {
        lh_buf_puts(out, "NULL");
        return;
    }
    char tn[48];
    switch ((lh_bx_kind)e->kind) {
    case LH_BX_CONST:
        if (e->u.c.is_null) {
            lh_buf_puts(out, "NULL");
        } else if (e->type.id == LH_T_VARCHAR || e->untyped ||
                   e->type.id == LH_T_DATE || e->type.id == LH_T_TIMESTAMP ||
                   e->type.id == LH_T_TIMESTAMPTZ) {
            lh_buf b = LH_BUF_INIT;
            lh_value_to_text(&e->u.c, &b);
            lh_buf_putc(out, '\'');
            for (size_t i = 0; i < b.len; i++) {
                if (b.data[i] == '\'') {
                    lh_buf_putc(out, '\'');
                }
                lh_buf_putc(out, b.data[i]);
            }
            lh_buf_putc(out, '\'');
            lh_buf_release(&b);
        } else {
            lh_value_to_text(&e->u.c, out);
        }
        return;
    case LH_BX_COL:
        lh_buf_printf(out, "#%u", e->u.col);
        return;
    case LH_BX_PARAM:
        lh_buf_printf(out, "$%d", (int)e->u.param);
        return;
    case LH_BX_CALL: {
        const char *name = e->u.call.fn->name;
        if (is_op(name) && e->u.call.nargs == 2) {
            lh_buf_putc(out, '(');
            text(e->u.call.args[0], q, out);
            lh_buf_printf(out, " %s ", name);
            text(e->u.call.args[1], q, out);
            lh_buf_putc(out, ')');
        } else if (is_op(name) && e->u.call.nargs == 1) {
            lh_buf_printf(out, "(%s", name);
            text(e->u.call.args[0], q, out);
            lh_buf_putc(out, ')');
        } else {
            lh_buf_printf(out, "%s(", name);
            args(e->u.call.args, e->u.call.nargs, q, out);
            lh_buf_putc(out, ')');
        }
        return;
    }
    case LH_BX_CAST:
        lh_buf_puts(out, "CAST(");
        text(e->u.cast.arg, q, out);
        lh_buf_printf(out, " AS %s)", lh_sql_type_text(e->type, tn));
        return;
    case LH_BX_AND:
    case LH_BX_OR:
        lh_buf_putc(out, '(');
        for (uint32_t i = 0; i < e->u.list.n; i++) {
            if (i) {
                lh_buf_puts(out, e->kind == LH_BX_AND ? " AND " : " OR ");
            }
            text(e->u.list.args[i], q, out);
        }
        lh_buf_putc(out, ')');
        return;
    case LH_BX_NOT:
        lh_buf_puts(out, "(NOT ");
        text(e->u.list.args[0], q, out);
        lh_buf_putc(out, ')');
        return;
    case LH_BX_IS_NULL:
        lh_buf_putc(out, '(');
        text(e->u.list.args[0], q, out);
        lh_buf_puts(out, e->negated ? " IS NOT NULL)" : " IS NULL)");
        return;
    case LH_BX_IS_BOOL:
        lh_buf_putc(out, '(');
        text(e->u.list.args[0], q, out);
        lh_buf_printf(out, " IS %s%s)", e->negated ? "NOT " : "",
                      e->what ? "TRUE" : "FALSE");
        return;
    case LH_BX_COALESCE:
        lh_buf_puts(out, "COALESCE(");
        args(e->u.list.args, e->u.list.n, q, out);
        lh_buf_putc(out, ')');
        return;
    case LH_BX_GROUPING:
        lh_buf_puts(out, "GROUPING(");
        args(e->u.list.args, e->u.list.n, q, out);
        lh_buf_putc(out, ')');
        return;
    case LH_BX_CASE:
        lh_buf_puts(out, "CASE");
        for (uint32_t i = 0; i < e->u.kase.n; i++) {
            lh_buf_puts(out, " WHEN ");
            text(e->u.kase.whens[i], q, out);
            lh_buf_puts(out, " THEN ");
            text(e->u.kase.thens[i], q, out);
        }
        if (e->u.kase.else_expr) {
            lh_buf_puts(out, " ELSE ");
            text(e->u.kase.else_expr, q, out);
        }
        lh_buf_puts(out, " END");
        return;
    case LH_BX_IN:
        lh_buf_putc(out, '(');
        text(e->u.in.arg, q, out);
        lh_buf_puts(out, e->negated ? " NOT IN (" : " IN (");
        args(e->u.in.list, e->u.in.n, q, out);
        lh_buf_puts(out, "))");
        return;
    case LH_BX_SUBQUERY: {
        static const char *const kinds[] = {"SUBQUERY", "EXISTS", "IN", "ANY",
                                            "ALL"};
        lh_buf_printf(out, "%s(", kinds[e->u.sub.kind]);
        if (e->u.sub.arg) {
            text(e->u.sub.arg, q, out);
        }
        lh_buf_printf(out, "%s)", e->u.sub.nouter ? " correlated" : "");
        return;
    }
    case LH_BX_AGG:
    case LH_BX_WINDOW:
        lh_buf_printf(out, "%s(%s", e->u.agg.fn->name,
                      e->u.agg.distinct ? "DISTINCT " : "");
        if (e->u.agg.nargs == 0 &&
            strcmp(e->u.agg.fn->name, "count_star") == 0) {
            lh_buf_putc(out, '*');
        }
        args(e->u.agg.args, e->u.agg.nargs, q, out);
        lh_buf_putc(out, ')');
        if (e->u.agg.filter) {
            lh_buf_puts(out, " FILTER (WHERE ");
            text(e->u.agg.filter, q, out);
            lh_buf_putc(out, ')');
        }
        if (e->kind == LH_BX_WINDOW && e->u.agg.over) {
            window_text(e->u.agg.over, q, out);
        }
        return;
    }
}

/* " OVER (PARTITION BY ... ORDER BY ... frame)" (EXPLAIN). */
static void
window_text(const lh_window_spec *w, const lh_sql_query *q, lh_buf *out)
{
    static const char *const units[] = {"", "ROWS", "RANGE", "GROUPS"};
    static const char *const bounds[] = {"UNBOUNDED PRECEDING", "PRECEDING",
                                         "CURRENT ROW", "FOLLOWING",
                                         "UNBOUNDED FOLLOWING"};
    static const char *const excl[] = {"", " EXCLUDE CURRENT ROW",
                                       " EXCLUDE GROUP", " EXCLUDE TIES"};
    const char *sep = "";
    lh_buf_puts(out, " OVER (");
    if (w->npartition) {
        lh_buf_puts(out, "PARTITION BY ");
        args(w->partition, w->npartition, q, out);
        sep = " ";
    }
    for (uint32_t i = 0; i < w->norder; i++) {
        lh_buf_puts(out, i ? ", " : sep);
        lh_buf_puts(out, i ? "" : "ORDER BY ");
        text(w->order[i].expr, q, out);
        lh_buf_puts(out, w->order[i].desc ? " DESC" : "");
        lh_buf_puts(out,
                    w->order[i].nulls_first ? " NULLS FIRST" : " NULLS LAST");
        sep = " ";
    }
    if (w->unit && w->unit < 4 && w->start_kind < 5 && w->end_kind < 5 &&
        w->exclude < 4) {
        lh_buf_printf(out, "%s%s BETWEEN ", sep, units[w->unit]);
        if (w->start) {
            text(w->start, q, out);
            lh_buf_putc(out, ' ');
        }
        lh_buf_printf(out, "%s AND ", bounds[w->start_kind]);
        if (w->end) {
            text(w->end, q, out);
            lh_buf_putc(out, ' ');
        }
        lh_buf_printf(out, "%s%s", bounds[w->end_kind], excl[w->exclude]);
    }
    lh_buf_putc(out, ')');
}

lh_rc
lh_sql_expr_text(const lh_bexpr *e, const lh_sql_query *q, lh_buf *out)
{
    text(e, q, out);
    return lh_buf_ok(out) ? LH_OK : LH_ENOMEM;
}

lh_rc
lh_sql_expr_children(lh_bexpr *e, lh_rc (*fn)(lh_bexpr **slot, void *ud),
                     void *ud)
{
#define VISIT(slot)                                                            \
    do {                                                                       \
        if ((slot) != NULL) {                                                  \
            lh_rc rc_ = fn(&(slot), ud);                                       \
            if (rc_ != LH_OK) {                                                \
                return rc_;                                                    \
            }                                                                  \
        }                                                                      \
    } while (0)
    if (e == NULL) {
        return LH_OK;
    }
    switch ((lh_bx_kind)e->kind) {
    case LH_BX_CALL:
        for (uint32_t i = 0; i < e->u.call.nargs; i++) {
            VISIT(e->u.call.args[i]);
        }
        break;
    case LH_BX_CAST:
        VISIT(e->u.cast.arg);
        break;
    case LH_BX_AND:
    case LH_BX_OR:
    case LH_BX_NOT:
    case LH_BX_IS_NULL:
    case LH_BX_IS_BOOL:
    case LH_BX_COALESCE:
    case LH_BX_GROUPING:
        for (uint32_t i = 0; i < e->u.list.n; i++) {
            VISIT(e->u.list.args[i]);
        }
        break;
    case LH_BX_CASE:
        for (uint32_t i = 0; i < e->u.kase.n; i++) {
            VISIT(e->u.kase.whens[i]);
            VISIT(e->u.kase.thens[i]);
        }
        VISIT(e->u.kase.else_expr);
        break;
    case LH_BX_IN:
        VISIT(e->u.in.arg);
        for (uint32_t i = 0; i < e->u.in.n; i++) {
            VISIT(e->u.in.list[i]);
        }
        break;
    case LH_BX_SUBQUERY:
        VISIT(e->u.sub.arg);
        break;
    case LH_BX_AGG:
    case LH_BX_WINDOW:
        for (uint32_t i = 0; i < e->u.agg.nargs; i++) {
            VISIT(e->u.agg.args[i]);
        }
        VISIT(e->u.agg.filter);
        for (uint32_t i = 0; i < e->u.agg.norder; i++) {
            VISIT(e->u.agg.order[i].expr);
        }
        if (e->u.agg.over) {
            lh_window_spec *w = e->u.agg.over;
            for (uint32_t i = 0; i < w->npartition; i++) {
                VISIT(w->partition[i]);
            }
            for (uint32_t i = 0; i < w->norder; i++) {
                VISIT(w->order[i].expr);
            }
            VISIT(w->start);
            VISIT(w->end);
            VISIT(w->range_key);
            VISIT(w->range_start);
            VISIT(w->range_end);
        }
        break;
    case LH_BX_CONST:
    case LH_BX_COL:
    case LH_BX_PARAM:
        break;
    }
    return LH_OK;
#undef VISIT
}

void *
lh_sql_grow(lh_arena *a, void *items, uint32_t n, uint32_t *cap, size_t elem,
            uint32_t first)
{
    if (n < *cap) {
        return items;
    }
    uint32_t ncap = *cap ? *cap * 2 : first;
    void *ni = lh_arena_alloc(a, (size_t)ncap * elem);
    if (ni == NULL) {
        return NULL;
    }
    if (n) {
        memcpy(ni, items, (size_t)n * elem);
    }
    *cap = ncap;
    return ni;
}
