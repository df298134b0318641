/*
 * The logical plan: what the binder produces from an AST, the optimizer
 * rewrites and the executor (src/exec/) turns into operators. See
 * docs/internals/sql.md, "Plans and column ids".
 *
 * Every column a plan node produces has a query-wide id; a node lists the
 * ids of its output (cols) with their types, and expressions refer to
 * columns by id. Everything lives in the statement's arena and is
 * immutable once lh_sql_optimize returns: the executor only reads it.
 */
#ifndef LH_SQL_PLAN_H
#define LH_SQL_PLAN_H

#include "sql/ast.h"
#include "sql/catalog.h"
#include "sql/func.h"

/* Session settings that change semantics (SET name = value). */
typedef struct lh_sql_settings {
    bool int_div_float;      /* integer_division = 'float': 5 / 2 = 2.5 */
    bool div_zero_null;      /* division_by_zero = 'null': x / 0 IS NULL */
    bool nulls_first_asc;    /* default_null_order = 'nulls_first' (ASC) */
    bool nulls_last_desc;    /* default_null_order = 'nulls_last' (DESC too) */
    bool ungrouped_any;      /* ungrouped_columns = 'any_value': SQLite's bare
                                columns in an aggregate query (any row's value
                                of the group) instead of an error */
    int threads;             /* 0 = every core */
    int64_t memory_limit;    /* bytes per query; 0 = the default */
    uint32_t hnsw_ef_search; /* SET hnsw.ef_search; 0 = each table's */
    /* SET ivfpq.nprobe, ivfpq.refine: the lake's warm index searches
     * (router_knn.c); 0 = each table's vector_index */
    uint32_t ivfpq_nprobe, ivfpq_refine;
} lh_sql_settings;

/* ---- bound expressions ----------------------------------------------------
 */

typedef struct lh_plan lh_plan;
typedef struct lh_bexpr lh_bexpr;

typedef enum lh_bx_kind {
    LH_BX_CONST = 1, /* c; untyped marks a string literal or parameter not
                        yet given a type by its context */
    LH_BX_COL,       /* a column by id */
    LH_BX_PARAM,     /* $n (index), bound at execution */
    LH_BX_CALL,      /* a scalar function of the registry */
    LH_BX_CAST,
    LH_BX_AND, /* args[0..n): three-valued */
    LH_BX_OR,
    LH_BX_NOT,
    LH_BX_IS_NULL,  /* negated: IS NOT NULL */
    LH_BX_IS_BOOL,  /* IS [NOT] TRUE / FALSE: what = 1 (TRUE) or 0 (FALSE) */
    LH_BX_CASE,     /* whens/thens, else (NULL when absent) */
    LH_BX_COALESCE, /* args */
    LH_BX_IN,       /* arg IN (list); negated */
    LH_BX_SUBQUERY, /* scalar, EXISTS, IN or ANY/ALL over a plan */
    LH_BX_AGG,      /* an aggregate call (only before the AGGREGATE node
                       takes it; then a COL of the node's output) */
    LH_BX_WINDOW,   /* a window call (likewise for WINDOW) */
    LH_BX_GROUPING, /* grouping(a, b): bits of the keys not grouped */
} lh_bx_kind;

typedef enum lh_subq_kind {
    LH_SUBQ_SCALAR = 0,
    LH_SUBQ_EXISTS,
    LH_SUBQ_IN,  /* arg IN (query); negated for NOT IN */
    LH_SUBQ_ANY, /* arg op ANY (query) */
    LH_SUBQ_ALL, /* arg op ALL (query) */
} lh_subq_kind;

typedef struct lh_order_key {
    lh_bexpr *expr;
    bool desc;
    bool nulls_first;
} lh_order_key;

typedef struct lh_window_spec {
    lh_bexpr **partition;
    uint32_t npartition;
    lh_order_key *order;
    uint32_t norder;
    uint8_t unit;                 /* lh_frame_unit (DEFAULT = RANGE UNBOUNDED
                                     PRECEDING .. CURRENT ROW with ORDER BY,
                                     the whole partition without) */
    uint8_t start_kind, end_kind; /* lh_bound_kind */
    lh_bexpr *start, *end;        /* offsets (ROWS, GROUPS: BIGINT) */
    uint8_t exclude;
    /* RANGE with an offset (one ORDER BY key): the binder writes the
     * bounds as expressions, order key -/+ offset in the key's direction
     * (range_start, range_end, NULL for other bound kinds), and the key
     * cast to their type (range_key). The frame of a row runs from the
     * first row whose range_key is not before its range_start to the last
     * one not after its range_end. */
    lh_bexpr *range_key, *range_start, *range_end;
} lh_window_spec;

struct lh_bexpr {
    uint8_t kind; /* lh_bx_kind */
    bool untyped; /* CONST / PARAM: type still open (string literal) */
    bool negated;
    uint8_t what;
    lh_type type;
    int32_t pos; /* byte offset in the statement text, -1 when made up */
    union {
        lh_value c; /* CONST (strings in the statement's arena) */
        uint32_t col;
        int32_t param; /* 1-based */
        struct {
            const lh_fn_def *fn;
            lh_bexpr **args;
            uint32_t nargs;
        } call;
        struct {
            lh_bexpr *arg;
            bool try_cast;
        } cast;
        struct {
            lh_bexpr **args;
            uint32_t n;
        } list; /* AND, OR, NOT (1), IS_NULL (1), IS_BOOL (1), COALESCE,
                   GROUPING (the key columns) */
        struct {
            lh_bexpr **whens, **thens;
            uint32_t n;
            lh_bexpr *else_expr;
        } kase;
        struct {
            lh_bexpr *arg;
            lh_bexpr **list;
            uint32_t n;
        } in;
        struct {
            uint8_t kind; /* lh_subq_kind */
            uint8_t op;   /* ANY/ALL: lh_op of the comparison */
            lh_plan *plan;
            lh_bexpr *arg;        /* IN, ANY, ALL */
            const lh_fn_def *cmp; /* IN/ANY/ALL: arg op plan's column */
            uint32_t *outer;      /* correlated: ids of outer columns used */
            lh_type *outer_types; /* and their types */
            uint32_t nouter;
        } sub;
        struct {
            const lh_fn_def *fn;
            lh_bexpr **args;
            uint32_t nargs;
            bool distinct;
            lh_bexpr *filter;
            lh_order_key *order; /* string_agg(x ORDER BY y), WITHIN GROUP */
            uint32_t norder;
            lh_window_spec *over; /* WINDOW */
            bool ignore_nulls;
        } agg;
    } u;
};

/* ---- plan nodes ------------------------------------------------------------
 */

typedef enum lh_plan_kind {
    LH_PLAN_SCAN = 1,
    LH_PLAN_VALUES,
    LH_PLAN_FILTER,
    LH_PLAN_PROJECT,
    LH_PLAN_AGGREGATE,
    LH_PLAN_JOIN,
    LH_PLAN_SORT,
    LH_PLAN_LIMIT,
    LH_PLAN_DISTINCT,
    LH_PLAN_SETOP,
    LH_PLAN_WINDOW,
    LH_PLAN_CTE_SCAN,  /* the working table of WITH RECURSIVE */
    LH_PLAN_RECURSIVE, /* WITH RECURSIVE: children anchor, step */
    /* statements */
    LH_PLAN_INSERT,
    LH_PLAN_COPY,
    LH_PLAN_CREATE_TABLE,
    LH_PLAN_CREATE_VIEW,
    LH_PLAN_DROP,
    LH_PLAN_ALTER,
    LH_PLAN_INDEX,
    LH_PLAN_SET,
    LH_PLAN_SHOW,
    LH_PLAN_EXPLAIN,
    LH_PLAN_NOOP, /* BEGIN, COMMIT, PRAGMA we accept and ignore */
    LH_PLAN_KIND_COUNT_
} lh_plan_kind;

/* A scan's pushed-down predicate: column op constant(s), ANDed. The scan
 * uses them to prune (row groups, pages, shards, tiers); the filter above
 * still checks every row unless `exact` (the source applied it). */
typedef struct lh_scan_pred {
    uint32_t col; /* index into the table's columns */
    uint8_t op;   /* LH_OP_EQ .. LH_OP_GE, or LH_OP_NONE for IN (values) */
    bool is_null, not_null;
    const lh_value *values;
    uint32_t nvalues;
} lh_scan_pred;

/* A scan that answers ORDER BY distance(column, constant) LIMIT k from
 * its table's nearest-neighbour index (opt_vector.c): it returns at most k
 * rows passing its filter, the nearest first, for the sort and limit above
 * to order and cut exactly. With `index` false the scan is a plain one and
 * `why` says why the index was not used (EXPLAIN prints it). */
typedef struct lh_plan_knn {
    uint32_t col;          /* the table column searched */
    uint8_t metric;        /* of the ORDER BY: lh_vec_metric */
    bool index;            /* the table's index answers */
    const lh_value *query; /* the constant query vector */
    uint32_t k;            /* LIMIT + OFFSET */
    uint32_t ef;           /* candidates: max(k, ef_search) */
    uint32_t nprobe;       /* the lake's lists searched; 0: the table's */
    uint32_t refine;       /* ... re-ranked per row wanted; 0: the table's */
    const char *why;       /* !index: the reason */
} lh_plan_knn;

struct lh_plan {
    uint8_t kind; /* lh_plan_kind */
    lh_plan **children;
    uint32_t nchildren;
    uint32_t *cols;     /* output column ids */
    lh_type *types;     /* their types */
    const char **names; /* their names (for results and EXPLAIN) */
    uint32_t ncols;
    double est_rows;
    int32_t pos;
    union {
        struct {
            const lh_sql_table *table;
            const char *alias;
            uint32_t *table_cols; /* per output column: index in table->cols */
            lh_scan_pred *preds;
            uint32_t npreds;
            lh_bexpr *filter;     /* conjuncts pushed into the scan (checked by
                                     the scan operator itself) */
            bool has_time;        /* the ts range below is known */
            int64_t ts_lo, ts_hi; /* inclusive µs bounds on table->ts_col */
            uint8_t travel;       /* lh_time_travel */
            lh_bexpr *travel_expr;
            const lh_plan_knn *knn; /* nearest-neighbour search, or NULL */
        } scan;
        struct {
            lh_bexpr ***rows; /* rows[r][c] */
            uint32_t nrows;
        } values;
        struct {
            lh_bexpr *pred;
        } filter;
        struct {
            lh_bexpr **exprs; /* one per output column */
        } project;
        struct {
            lh_bexpr **groups; /* output cols [0, ngroups) */
            uint32_t ngroups;
            lh_bexpr **aggs; /* LH_BX_AGG; output cols [ngroups, ...) */
            uint32_t naggs;
            /* GROUPING SETS: each set is a bitmask of the group keys it
             * keeps; NULL = one set of every key. With sets, one more
             * output column follows the aggregates: the grouping id. */
            uint64_t *sets;
            uint32_t nsets;
        } agg;
        struct {
            uint8_t kind;   /* lh_join_kind */
            lh_bexpr *cond; /* the residual condition (NULL = true) */
            lh_bexpr **lkeys, **rkeys; /* equi-join keys (optimizer) */
            uint32_t nkeys;
            bool *null_eq;     /* per key: IS NOT DISTINCT FROM */
            uint32_t mark_col; /* MARK: id of the boolean column */
        } join;
        struct {
            lh_order_key *keys;
            uint32_t nkeys;
        } sort;
        struct {
            lh_bexpr *limit, *offset; /* constants after folding, or NULL */
            bool percent;
        } limit;
        struct {
            lh_bexpr **on; /* DISTINCT ON keys, or NULL = every column */
            uint32_t non;
        } distinct;
        struct {
            uint8_t op; /* lh_setop_kind */
            bool all;
        } setop;
        struct {
            lh_bexpr **calls; /* LH_BX_WINDOW, output after the input's */
            uint32_t ncalls;
        } window;
        struct {
            uint32_t *cte_cols; /* CTE_SCAN: the ids of RECURSIVE's output
                                   this scan reads */
            bool union_all;
        } cte;
        struct {
            const lh_sql_table *table;
            uint32_t *map; /* per table column: the query column feeding
                              it, or UINT32_MAX for its default */
            lh_bexpr **defaults;
        } insert;
        struct {
            const char *path;
            int32_t path_pos;
            const char *format; /* "parquet" or "csv" */
            const lh_ast_option *options;
            uint32_t noptions;
        } copy;
        struct {
            const lh_ast *ast;    /* DDL statements carry their AST; the
                                     executor's catalog applies them */
            const lh_plan *query; /* CREATE TABLE AS */
        } ddl;
        struct {
            const char *name;
            lh_value value;
            bool reset;
        } set;
        struct {
            bool analyze;
            bool verbose;
        } explain;
    } u;
};

/* A bound statement. */
typedef struct lh_sql_query {
    lh_plan *root;
    uint32_t ncols_total;     /* ids handed out: [0, ncols_total) */
    int32_t nparams;          /* the highest $n used */
    const char **param_names; /* [i] names $i+1 when it was :name */
    const char *text;
    size_t text_len;
} lh_sql_query;

/* ---- binding, optimizing, explaining ---------------------------------------
 */

/* Binds a statement: names through cat, types, implicit casts, subqueries.
 * params (nparams values, may be NULL) are the values of $1..$n: they are
 * bound as constants (untyped for text), so they fold and prune like
 * literals. sql is the text the AST came from (for the position of errors
 * and view definitions). The plan lives in `a`.
 * Errors carry err->offset: LH_EINVAL (names, types, grouping),
 * LH_ENOENT (a table that does not exist), LH_EUNSUPPORTED, LH_ENOMEM, and
 * whatever the catalog's table functions return. */
lh_rc lh_sql_bind(const lh_sql_catalog *cat, const lh_sql_settings *set,
                  const lh_ast *stmt, const char *sql, size_t sql_len,
                  const lh_value *params, int32_t nparams, lh_arena *a,
                  lh_sql_query **out, lh_err *err);

/* Evaluates a constant expression (no columns, no parameters left); the
 * optimizer's folding hook, implemented by the executor. LH_OK with *out;
 * an error leaves the expression unfolded (it may never run). */
typedef lh_rc (*lh_sql_fold_fn)(void *ud, const lh_bexpr *e, lh_arena *a,
                                lh_value *out, lh_err *err);

/* Rewrites q's plan in place (before anyone executes it): see sql.md,
 * "Plans and column ids". LH_ENOMEM only. */
lh_rc lh_sql_optimize(lh_sql_query *q, const lh_sql_settings *set,
                      lh_sql_fold_fn fold, void *fold_ud, lh_arena *a,
                      lh_err *err);

/* The plan as an indented tree, one node a line (EXPLAIN). */
lh_rc lh_sql_explain(const lh_sql_query *q, lh_buf *out);
/* One expression as SQL-like text (for EXPLAIN and messages). */
lh_rc lh_sql_expr_text(const lh_bexpr *e, const lh_sql_query *q, lh_buf *out);

/* Helpers the executor shares. */
bool lh_sql_expr_equal(const lh_bexpr *a, const lh_bexpr *b);
/* Room for one more item in an array of the arena: `items` holds n
 * items of elem bytes in *cap slots; when full, a copy twice as large (at
 * least `first` slots) is returned and *cap updated, else items itself.
 * NULL when the arena is out of memory (nothing changed). */
void *lh_sql_grow(lh_arena *a, void *items, uint32_t n, uint32_t *cap,
                  size_t elem, uint32_t first);
/* Calls fn with the address of each direct child of e that is set, in
 * order: call and cast arguments, list members, CASE branches, IN's
 * argument and list, a quantified subquery's left side (its plan is not
 * entered), an aggregate's or window's arguments, FILTER, ORDER BY and
 * PARTITION BY. Stops at the first rc that is not LH_OK and returns it.
 * fn may replace the child through the slot. */
lh_rc lh_sql_expr_children(lh_bexpr *e, lh_rc (*fn)(lh_bexpr **slot, void *ud),
                           void *ud);
/* The first scalar signature named `name` taking exactly these types (no
 * casts), or NULL. */
const lh_fn_def *lh_sql_find_exact(const lh_fn_registry *r, const char *name,
                                   const lh_type *args, uint32_t nargs);

#endif
