/*
 * The AST as S-expressions, for the parser's golden tests and EXPLAIN's
 * verbose form. One node is "(head child child ...)"; names are written
 * as parsed (folded), strings in single quotes with '' for a quote.
 */
#include <string.h>

#include "sql/ast.h"
#include "sql/parser.h"

static const char *const op_texts[LH_OP_COUNT_] = {
    [LH_OP_NONE] = "?",
    [LH_OP_NEG] = "neg",
    [LH_OP_PLUS] = "pos",
    [LH_OP_NOT] = "not",
    [LH_OP_BITNOT] = "~",
    [LH_OP_ADD] = "+",
    [LH_OP_SUB] = "-",
    [LH_OP_MUL] = "*",
    [LH_OP_DIV] = "/",
    [LH_OP_INTDIV] = "//",
    [LH_OP_MOD] = "%",
    [LH_OP_POW] = "^",
    [LH_OP_CONCAT] = "||",
    [LH_OP_BITAND] = "&",
    [LH_OP_BITOR] = "|",
    [LH_OP_BITXOR] = "#",
    [LH_OP_SHL] = "<<",
    [LH_OP_SHR] = ">>",
    [LH_OP_EQ] = "=",
    [LH_OP_NE] = "<>",
    [LH_OP_LT] = "<",
    [LH_OP_LE] = "<=",
    [LH_OP_GT] = ">",
    [LH_OP_GE] = ">=",
    [LH_OP_AND] = "and",
    [LH_OP_OR] = "or",
    [LH_OP_REGEX] = "~",
    [LH_OP_REGEX_CI] = "~*",
    [LH_OP_NREGEX] = "!~",
    [LH_OP_NREGEX_CI] = "!~*",
    [LH_OP_JSON_GET] = "->",
    [LH_OP_JSON_GET_TEXT] = "->>",
    [LH_OP_L2_DIST] = "<->",
    [LH_OP_NEG_IP] = "<#>",
    [LH_OP_COSINE_DIST] = "<=>",
};

const char *
lh_sql_op_text(lh_op op)
{
    return op < LH_OP_COUNT_ && op_texts[op] ? op_texts[op] : "?";
}

static const char *const kind_names[LH_AST_KIND_COUNT_] = {
    [LH_AST_LITERAL] = "literal",
    [LH_AST_COLREF] = "column reference",
    [LH_AST_STAR] = "*",
    [LH_AST_PARAM] = "parameter",
    [LH_AST_UNARY] = "unary operator",
    [LH_AST_BINARY] = "operator",
    [LH_AST_FUNC] = "function call",
    [LH_AST_CAST] = "CAST",
    [LH_AST_CASE] = "CASE",
    [LH_AST_BETWEEN] = "BETWEEN",
    [LH_AST_IN_LIST] = "IN",
    [LH_AST_IN_QUERY] = "IN (subquery)",
    [LH_AST_EXISTS] = "EXISTS",
    [LH_AST_SUBQUERY] = "subquery",
    [LH_AST_QUANTIFIED] = "ANY/ALL",
    [LH_AST_LIKE] = "LIKE",
    [LH_AST_IS] = "IS",
    [LH_AST_ARRAY] = "array",
    [LH_AST_INDEX] = "subscript",
    [LH_AST_ROW] = "row",
    [LH_AST_TABLE] = "table",
    [LH_AST_TABLE_FN] = "table function",
    [LH_AST_DERIVED] = "derived table",
    [LH_AST_JOIN] = "join",
    [LH_AST_SELECT] = "SELECT",
    [LH_AST_SETOP] = "set operation",
    [LH_AST_VALUES] = "VALUES",
    [LH_AST_CREATE_TABLE] = "CREATE TABLE",
    [LH_AST_CREATE_VIEW] = "CREATE VIEW",
    [LH_AST_CREATE_INDEX] = "CREATE INDEX",
    [LH_AST_DROP] = "DROP",
    [LH_AST_ALTER_TABLE] = "ALTER TABLE",
    [LH_AST_INSERT] = "INSERT",
    [LH_AST_UPDATE] = "UPDATE",
    [LH_AST_DELETE] = "DELETE",
    [LH_AST_COPY] = "COPY",
    [LH_AST_EXPLAIN] = "EXPLAIN",
    [LH_AST_SET] = "SET",
    [LH_AST_SHOW] = "SHOW",
    [LH_AST_TRANSACTION] = "transaction statement",
    [LH_AST_PRAGMA] = "PRAGMA",
};

const char *
lh_sql_ast_kind_name(lh_ast_kind kind)
{
    return kind < LH_AST_KIND_COUNT_ && kind_names[kind] ? kind_names[kind]
                                                         : "node";
}

static void node(lh_buf *b, const lh_ast *n);

static void
quote(lh_buf *b, const char *s)
{
    lh_buf_putc(b, '\'');
    for (; s && *s; s++) {
        if (*s == '\'') {
            lh_buf_putc(b, '\'');
        }
        lh_buf_putc(b, *s);
    }
    lh_buf_putc(b, '\'');
}

static void
name(lh_buf *b, const lh_ast_name *n)
{
    for (uint32_t i = 0; i < n->n; i++) {
        if (i) {
            lh_buf_putc(b, '.');
        }
        lh_buf_puts(b, n->parts[i]);
    }
}

static void
list(lh_buf *b, const char *head, const lh_ast_list *l)
{
    lh_buf_printf(b, " (%s", head);
    for (uint32_t i = 0; i < l->n; i++) {
        lh_buf_putc(b, ' ');
        node(b, l->items[i]);
    }
    lh_buf_putc(b, ')');
}

static void
idents(lh_buf *b, const char *head, const char *const *ids, uint32_t n)
{
    if (n == 0) {
        return;
    }
    lh_buf_printf(b, " (%s", head);
    for (uint32_t i = 0; i < n; i++) {
        lh_buf_printf(b, " %s", ids[i]);
    }
    lh_buf_putc(b, ')');
}

static void
child(lh_buf *b, const char *head, const lh_ast *n)
{
    if (n == NULL) {
        return;
    }
    lh_buf_printf(b, " (%s ", head);
    node(b, n);
    lh_buf_putc(b, ')');
}

static void
order(lh_buf *b, const char *head, const lh_ast_order_list *o)
{
    if (o->n == 0) {
        return;
    }
    lh_buf_printf(b, " (%s", head);
    for (uint32_t i = 0; i < o->n; i++) {
        lh_buf_printf(b, " (%s ", o->items[i].desc ? "desc" : "asc");
        node(b, o->items[i].expr);
        if (o->items[i].nulls_first >= 0) {
            lh_buf_puts(b, o->items[i].nulls_first ? " nulls_first"
                                                   : " nulls_last");
        }
        lh_buf_putc(b, ')');
    }
    lh_buf_putc(b, ')');
}

static void
options(lh_buf *b, const char *head, const lh_ast_option *o, uint32_t n)
{
    if (n == 0) {
        return;
    }
    lh_buf_printf(b, " (%s", head);
    for (uint32_t i = 0; i < n; i++) {
        lh_buf_printf(b, " (%s", o[i].key);
        if (o[i].value) {
            lh_buf_putc(b, ' ');
            node(b, o[i].value);
        }
        lh_buf_putc(b, ')');
    }
    lh_buf_putc(b, ')');
}

static const char *const bound_names[] = {"unbounded_preceding", "preceding",
                                          "current_row", "following",
                                          "unbounded_following"};

static void
window(lh_buf *b, const lh_ast_window *w)
{
    lh_buf_puts(b, "(window");
    if (w->name) {
        lh_buf_printf(b, " %s", w->name);
    }
    if (w->base) {
        lh_buf_printf(b, " (base %s)", w->base);
    }
    if (w->partition.n) {
        list(b, "partition", &w->partition);
    }
    order(b, "order", &w->order);
    if (w->unit != LH_FRAME_DEFAULT) {
        static const char *const units[] = {"", "rows", "range", "groups"};
        lh_buf_printf(b, " (%s %s", units[w->unit], bound_names[w->start_kind]);
        if (w->start) {
            lh_buf_putc(b, ' ');
            node(b, w->start);
        }
        lh_buf_printf(b, " %s", bound_names[w->end_kind]);
        if (w->end) {
            lh_buf_putc(b, ' ');
            node(b, w->end);
        }
        if (w->exclude) {
            static const char *const ex[] = {"", "exclude_current_row",
                                             "exclude_group", "exclude_ties"};
            lh_buf_printf(b, " %s", ex[w->exclude]);
        }
        lh_buf_putc(b, ')');
    }
    lh_buf_putc(b, ')');
}

static void
group(lh_buf *b, const lh_ast_group *g)
{
    static const char *const heads[] = {"", "rollup", "cube", "grouping_sets",
                                        "set"};
    if (g->kind == LH_GROUP_EXPR) {
        node(b, g->expr);
        return;
    }
    lh_buf_printf(b, "(%s", heads[g->kind]);
    for (uint32_t i = 0; i < g->nitems; i++) {
        lh_buf_putc(b, ' ');
        group(b, g->items[i]);
    }
    lh_buf_putc(b, ')');
}

static void
ctes(lh_buf *b, const lh_ast_cte *c, uint32_t n, bool recursive)
{
    if (n == 0) {
        return;
    }
    lh_buf_puts(b, recursive ? " (with_recursive" : " (with");
    for (uint32_t i = 0; i < n; i++) {
        lh_buf_printf(b, " (cte %s", c[i].name);
        idents(b, "cols", c[i].cols, c[i].ncols);
        lh_buf_putc(b, ' ');
        node(b, c[i].query);
        lh_buf_putc(b, ')');
    }
    lh_buf_putc(b, ')');
}

static void
alias(lh_buf *b, const char *a, const char *const *cols, uint32_t n)
{
    if (a) {
        lh_buf_printf(b, " (alias %s", a);
        for (uint32_t i = 0; i < n; i++) {
            lh_buf_printf(b, " %s", cols[i]);
        }
        lh_buf_putc(b, ')');
    }
}

static void
coldef(lh_buf *b, const lh_ast_coldef *c)
{
    lh_buf_printf(b, "(column %s %s", c->name, c->type_text);
    if (c->not_null) {
        lh_buf_puts(b, " not_null");
    }
    if (c->primary_key) {
        lh_buf_puts(b, " primary_key");
    }
    if (c->unique) {
        lh_buf_puts(b, " unique");
    }
    child(b, "default", c->default_expr);
    lh_buf_putc(b, ')');
}

static void
lit(lh_buf *b, const lh_ast *n)
{
    switch ((lh_lit_kind)n->u.lit.kind) {
    case LH_LIT_NULL:
        lh_buf_puts(b, "(null)");
        return;
    case LH_LIT_BOOL:
        lh_buf_puts(b, n->u.lit.b ? "(bool true)" : "(bool false)");
        return;
    case LH_LIT_INT:
        lh_buf_printf(b, "(int %s)", n->u.lit.text);
        return;
    case LH_LIT_NUMBER:
        lh_buf_printf(b, "(num %s)", n->u.lit.text);
        return;
    case LH_LIT_STRING:
        lh_buf_puts(b, "(str ");
        quote(b, n->u.lit.text);
        lh_buf_putc(b, ')');
        return;
    case LH_LIT_TYPED:
        lh_buf_printf(b, "(typed %s ", n->u.lit.type_text);
        quote(b, n->u.lit.text);
        lh_buf_putc(b, ')');
        return;
    case LH_LIT_INTERVAL:
        lh_buf_puts(b, "(interval ");
        quote(b, n->u.lit.text);
        lh_buf_printf(b, " %s)", n->u.lit.unit);
        return;
    }
}

static void
query_tail(lh_buf *b, const lh_ast_order_list *o, const lh_ast *limit,
           const lh_ast *offset)
{
    order(b, "order", o);
    child(b, "limit", limit);
    child(b, "offset", offset);
}

static void
node(lh_buf *b, const lh_ast *n)
{
    if (n == NULL) {
        lh_buf_puts(b, "()");
        return;
    }
    switch ((lh_ast_kind)n->kind) {
    case LH_AST_LITERAL:
        lit(b, n);
        return;
    case LH_AST_COLREF:
        lh_buf_puts(b, "(col ");
        name(b, &n->u.colref.name);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_STAR:
        lh_buf_puts(b, "(star");
        if (n->u.star.qualifier) {
            lh_buf_printf(b, " %s", n->u.star.qualifier);
        }
        idents(b, "exclude", n->u.star.exclude, n->u.star.nexclude);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_PARAM:
        if (n->u.param.name) {
            lh_buf_printf(b, "(param :%s)", n->u.param.name);
        } else {
            lh_buf_printf(b, "(param %d)", (int)n->u.param.index);
        }
        return;
    case LH_AST_UNARY:
        lh_buf_printf(b, "(%s ", lh_sql_op_text(n->u.unary.op));
        node(b, n->u.unary.arg);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_BINARY:
        lh_buf_printf(b, "(%s ", lh_sql_op_text(n->u.binary.op));
        node(b, n->u.binary.left);
        lh_buf_putc(b, ' ');
        node(b, n->u.binary.right);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_FUNC:
        lh_buf_puts(b, "(call ");
        name(b, &n->u.func.name);
        if (n->u.func.distinct) {
            lh_buf_puts(b, " distinct");
        }
        if (n->u.func.star) {
            lh_buf_puts(b, " *");
        }
        for (uint32_t i = 0; i < n->u.func.args.n; i++) {
            lh_buf_putc(b, ' ');
            node(b, n->u.func.args.items[i]);
        }
        order(b, "order", &n->u.func.order);
        order(b, "within_group", &n->u.func.within_group);
        if (n->u.func.ignore_nulls) {
            lh_buf_puts(b, " ignore_nulls");
        }
        child(b, "filter", n->u.func.filter);
        if (n->u.func.over) {
            lh_buf_puts(b, " (over ");
            window(b, n->u.func.over);
            lh_buf_putc(b, ')');
        }
        lh_buf_putc(b, ')');
        return;
    case LH_AST_CAST:
        lh_buf_puts(b, n->u.cast.try_cast ? "(try_cast " : "(cast ");
        node(b, n->u.cast.arg);
        lh_buf_printf(b, " %s)", n->u.cast.type_text);
        return;
    case LH_AST_CASE:
        lh_buf_puts(b, "(case");
        child(b, "operand", n->u.kase.operand);
        for (uint32_t i = 0; i < n->u.kase.whens.n; i++) {
            lh_buf_puts(b, " (when ");
            node(b, n->u.kase.whens.items[i]);
            lh_buf_putc(b, ' ');
            node(b, n->u.kase.thens.items[i]);
            lh_buf_putc(b, ')');
        }
        child(b, "else", n->u.kase.else_expr);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_BETWEEN:
        lh_buf_printf(b, "(%sbetween%s ", n->u.between.negated ? "not_" : "",
                      n->u.between.symmetric ? "_symmetric" : "");
        node(b, n->u.between.arg);
        lh_buf_putc(b, ' ');
        node(b, n->u.between.lo);
        lh_buf_putc(b, ' ');
        node(b, n->u.between.hi);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_IN_LIST:
        lh_buf_puts(b, n->u.in_list.negated ? "(not_in " : "(in ");
        node(b, n->u.in_list.arg);
        list(b, "list", &n->u.in_list.list);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_IN_QUERY:
        lh_buf_puts(b, n->u.in_query.negated ? "(not_in " : "(in ");
        node(b, n->u.in_query.arg);
        lh_buf_putc(b, ' ');
        node(b, n->u.in_query.query);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_EXISTS:
        lh_buf_puts(b, n->u.exists.negated ? "(not_exists " : "(exists ");
        node(b, n->u.exists.query);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_SUBQUERY:
        lh_buf_puts(b, "(subquery ");
        node(b, n->u.subquery.query);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_QUANTIFIED:
        lh_buf_printf(b, "(%s %s ", n->u.quantified.all ? "all" : "any",
                      lh_sql_op_text(n->u.quantified.op));
        node(b, n->u.quantified.arg);
        lh_buf_putc(b, ' ');
        node(b, n->u.quantified.query);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_LIKE:
        lh_buf_printf(b, "(%s%s ", n->u.like.negated ? "not_" : "",
                      n->u.like.similar ? "similar"
                      : n->u.like.ilike ? "ilike"
                                        : "like");
        node(b, n->u.like.arg);
        lh_buf_putc(b, ' ');
        node(b, n->u.like.pattern);
        child(b, "escape", n->u.like.escape);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_IS: {
        static const char *const what[] = {"null", "true", "false", "unknown",
                                           "distinct_from"};
        lh_buf_printf(b, "(is_%s%s ", n->u.is.negated ? "not_" : "",
                      what[n->u.is.what]);
        node(b, n->u.is.arg);
        if (n->u.is.right) {
            lh_buf_putc(b, ' ');
            node(b, n->u.is.right);
        }
        lh_buf_putc(b, ')');
        return;
    }
    case LH_AST_ARRAY:
        lh_buf_puts(b, "(array");
        for (uint32_t i = 0; i < n->u.array.items.n; i++) {
            lh_buf_putc(b, ' ');
            node(b, n->u.array.items.items[i]);
        }
        lh_buf_putc(b, ')');
        return;
    case LH_AST_INDEX:
        lh_buf_puts(b, n->u.index.slice ? "(slice " : "(index ");
        node(b, n->u.index.arg);
        lh_buf_putc(b, ' ');
        node(b, n->u.index.index);
        if (n->u.index.slice) {
            lh_buf_putc(b, ' ');
            node(b, n->u.index.upper);
        }
        lh_buf_putc(b, ')');
        return;
    case LH_AST_ROW:
        lh_buf_puts(b, "(row");
        for (uint32_t i = 0; i < n->u.row.items.n; i++) {
            lh_buf_putc(b, ' ');
            node(b, n->u.row.items.items[i]);
        }
        lh_buf_putc(b, ')');
        return;
    case LH_AST_TABLE:
        lh_buf_puts(b, "(table ");
        name(b, &n->u.table.name);
        alias(b, n->u.table.alias, n->u.table.col_aliases,
              n->u.table.ncol_aliases);
        if (n->u.table.travel) {
            child(b,
                  n->u.table.travel == LH_TT_VERSION ? "version_as_of"
                                                     : "system_time_as_of",
                  n->u.table.travel_expr);
        }
        lh_buf_putc(b, ')');
        return;
    case LH_AST_TABLE_FN:
        lh_buf_puts(b, "(table_fn ");
        name(b, &n->u.table_fn.name);
        for (uint32_t i = 0; i < n->u.table_fn.args.n; i++) {
            lh_buf_putc(b, ' ');
            node(b, n->u.table_fn.args.items[i]);
        }
        options(b, "named", n->u.table_fn.named, n->u.table_fn.nnamed);
        alias(b, n->u.table_fn.alias, n->u.table_fn.col_aliases,
              n->u.table_fn.ncol_aliases);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_DERIVED:
        lh_buf_puts(b, n->u.derived.lateral ? "(lateral " : "(derived ");
        node(b, n->u.derived.query);
        alias(b, n->u.derived.alias, n->u.derived.col_aliases,
              n->u.derived.ncol_aliases);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_JOIN: {
        static const char *const kinds[] = {"inner", "left",  "right",
                                            "full",  "cross", "semi",
                                            "anti",  "mark",  "single"};
        lh_buf_printf(b, "(join %s%s ", n->u.join.natural ? "natural_" : "",
                      kinds[n->u.join.kind]);
        node(b, n->u.join.left);
        lh_buf_putc(b, ' ');
        node(b, n->u.join.right);
        child(b, "on", n->u.join.on);
        idents(b, "using", n->u.join.using_cols, n->u.join.nusing);
        lh_buf_putc(b, ')');
        return;
    }
    case LH_AST_SELECT:
        lh_buf_puts(b, "(select");
        ctes(b, n->u.select.ctes, n->u.select.nctes, n->u.select.recursive);
        if (n->u.select.distinct) {
            lh_buf_puts(b, " distinct");
            if (n->u.select.distinct_on.n) {
                list(b, "on", &n->u.select.distinct_on);
            }
        }
        lh_buf_puts(b, " (targets");
        for (uint32_t i = 0; i < n->u.select.targets.n; i++) {
            lh_buf_putc(b, ' ');
            if (n->u.select.target_alias[i]) {
                lh_buf_puts(b, "(as ");
                node(b, n->u.select.targets.items[i]);
                lh_buf_printf(b, " %s)", n->u.select.target_alias[i]);
            } else {
                node(b, n->u.select.targets.items[i]);
            }
        }
        lh_buf_putc(b, ')');
        child(b, "from", n->u.select.from);
        child(b, "where", n->u.select.where);
        if (n->u.select.ngroup || n->u.select.group_all) {
            lh_buf_puts(b, " (group");
            if (n->u.select.group_all) {
                lh_buf_puts(b, " all");
            }
            for (uint32_t i = 0; i < n->u.select.ngroup; i++) {
                lh_buf_putc(b, ' ');
                group(b, n->u.select.group[i]);
            }
            lh_buf_putc(b, ')');
        }
        child(b, "having", n->u.select.having);
        for (uint32_t i = 0; i < n->u.select.nwindows; i++) {
            lh_buf_putc(b, ' ');
            window(b, n->u.select.windows[i]);
        }
        child(b, "qualify", n->u.select.qualify);
        query_tail(b, &n->u.select.order, n->u.select.limit,
                   n->u.select.offset);
        if (n->u.select.limit_percent) {
            lh_buf_puts(b, " percent");
        }
        lh_buf_putc(b, ')');
        return;
    case LH_AST_SETOP: {
        static const char *const ops[] = {"union", "intersect", "except"};
        lh_buf_printf(b, "(%s%s%s", ops[n->u.setop.op],
                      n->u.setop.all ? "_all" : "",
                      n->u.setop.by_name ? "_by_name" : "");
        ctes(b, n->u.setop.ctes, n->u.setop.nctes, n->u.setop.recursive);
        lh_buf_putc(b, ' ');
        node(b, n->u.setop.left);
        lh_buf_putc(b, ' ');
        node(b, n->u.setop.right);
        query_tail(b, &n->u.setop.order, n->u.setop.limit, n->u.setop.offset);
        lh_buf_putc(b, ')');
        return;
    }
    case LH_AST_VALUES:
        lh_buf_puts(b, "(values");
        ctes(b, n->u.values.ctes, n->u.values.nctes, n->u.values.recursive);
        for (uint32_t i = 0; i < n->u.values.rows.n; i++) {
            lh_buf_putc(b, ' ');
            node(b, n->u.values.rows.items[i]);
        }
        query_tail(b, &n->u.values.order, n->u.values.limit,
                   n->u.values.offset);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_CREATE_TABLE:
        lh_buf_printf(b, "(create_table%s%s%s ",
                      n->u.create_table.temporary ? " temp" : "",
                      n->u.create_table.or_replace ? " or_replace" : "",
                      n->u.create_table.if_not_exists ? " if_not_exists" : "");
        name(b, &n->u.create_table.name);
        for (uint32_t i = 0; i < n->u.create_table.ncols; i++) {
            lh_buf_putc(b, ' ');
            coldef(b, &n->u.create_table.cols[i]);
        }
        idents(b, "primary_key", n->u.create_table.primary_key,
               n->u.create_table.npk);
        child(b, "partition_by", n->u.create_table.partition_by);
        idents(b, "cluster_by", n->u.create_table.cluster_by,
               n->u.create_table.ncluster);
        options(b, "with", n->u.create_table.options,
                n->u.create_table.noptions);
        child(b, "as", n->u.create_table.as_query);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_CREATE_VIEW:
        lh_buf_puts(b, "(create_view ");
        name(b, &n->u.create_view.name);
        idents(b, "cols", n->u.create_view.cols, n->u.create_view.ncols);
        lh_buf_putc(b, ' ');
        node(b, n->u.create_view.query);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_CREATE_INDEX:
        lh_buf_printf(b, "(create_%sindex %s ",
                      n->u.create_index.unique ? "unique_" : "",
                      n->u.create_index.name ? n->u.create_index.name : "-");
        name(b, &n->u.create_index.table);
        if (n->u.create_index.method) {
            lh_buf_printf(b, " (using %s)", n->u.create_index.method);
        }
        list(b, "on", &n->u.create_index.exprs);
        options(b, "with", n->u.create_index.options,
                n->u.create_index.noptions);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_DROP: {
        static const char *const what[] = {"table", "view", "index"};
        lh_buf_printf(b, "(drop_%s%s", what[n->u.drop.what],
                      n->u.drop.if_exists ? " if_exists" : "");
        for (uint32_t i = 0; i < n->u.drop.nnames; i++) {
            lh_buf_putc(b, ' ');
            name(b, &n->u.drop.names[i]);
        }
        lh_buf_putc(b, ')');
        return;
    }
    case LH_AST_ALTER_TABLE:
        lh_buf_puts(b, "(alter_table ");
        name(b, &n->u.alter.name);
        switch (n->u.alter.what) {
        case LH_ALTER_ADD_COLUMN:
            lh_buf_puts(b, " (add ");
            coldef(b, &n->u.alter.col);
            lh_buf_putc(b, ')');
            break;
        case LH_ALTER_DROP_COLUMN:
            lh_buf_printf(b, " (drop %s)", n->u.alter.column);
            break;
        case LH_ALTER_RENAME_COLUMN:
            lh_buf_printf(b, " (rename %s %s)", n->u.alter.column,
                          n->u.alter.new_name);
            break;
        default:
            lh_buf_printf(b, " (rename_to %s)", n->u.alter.new_name);
            break;
        }
        lh_buf_putc(b, ')');
        return;
    case LH_AST_INSERT:
        lh_buf_puts(b, "(insert ");
        name(b, &n->u.insert.table);
        idents(b, "cols", n->u.insert.cols, n->u.insert.ncols);
        lh_buf_putc(b, ' ');
        if (n->u.insert.query) {
            node(b, n->u.insert.query);
        } else {
            lh_buf_puts(b, "(default_values)");
        }
        if (n->u.insert.returning.n) {
            list(b, "returning", &n->u.insert.returning);
        }
        lh_buf_putc(b, ')');
        return;
    case LH_AST_UPDATE:
        lh_buf_puts(b, "(update ");
        name(b, &n->u.update.table);
        for (uint32_t i = 0; i < n->u.update.set_exprs.n; i++) {
            lh_buf_printf(b, " (set %s ", n->u.update.set_cols[i]);
            node(b, n->u.update.set_exprs.items[i]);
            lh_buf_putc(b, ')');
        }
        child(b, "where", n->u.update.where);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_DELETE:
        lh_buf_puts(b, "(delete ");
        name(b, &n->u.del.table);
        child(b, "where", n->u.del.where);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_COPY:
        lh_buf_puts(b, "(copy ");
        if (n->u.copy.query) {
            node(b, n->u.copy.query);
        } else {
            name(b, &n->u.copy.table);
        }
        lh_buf_puts(b, n->u.copy.from ? " from " : " to ");
        quote(b, n->u.copy.path);
        options(b, "with", n->u.copy.options, n->u.copy.noptions);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_EXPLAIN:
        lh_buf_printf(b, "(explain%s ", n->u.explain.analyze ? " analyze" : "");
        node(b, n->u.explain.stmt);
        lh_buf_putc(b, ')');
        return;
    case LH_AST_SET:
        lh_buf_printf(b, "(%s %s", n->u.set.reset ? "reset" : "set",
                      n->u.set.name);
        if (n->u.set.value) {
            lh_buf_putc(b, ' ');
            node(b, n->u.set.value);
        }
        lh_buf_putc(b, ')');
        return;
    case LH_AST_SHOW:
        lh_buf_printf(b, "(show %s)", n->u.show.name);
        return;
    case LH_AST_TRANSACTION:
        lh_buf_printf(b, "(%s)", n->u.txn.verb);
        return;
    case LH_AST_PRAGMA:
        lh_buf_printf(b, "(pragma %s", n->u.pragma.name);
        if (n->u.pragma.value) {
            lh_buf_putc(b, ' ');
            node(b, n->u.pragma.value);
        }
        lh_buf_putc(b, ')');
        return;
    case LH_AST_KIND_COUNT_:
        break;
    }
    lh_buf_puts(b, "(?)");
}

lh_rc
lh_sql_ast_print(const lh_ast *n, lh_buf *out)
{
    node(out, n);
    return lh_buf_ok(out) ? LH_OK : LH_ENOMEM;
}
