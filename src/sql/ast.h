/*
 * The abstract syntax tree of lakehouse SQL: what the parser (and every
 * dialect, src/sql/dialect/) produces and the binder consumes.
 *
 * Every node lives in the parse arena (lh_sql_parse's `a`) and carries
 * `pos`, the byte offset in the query text where it starts, so that the
 * binder can point at it in an error. Lists are arrays of node pointers.
 * Strings (identifiers, literals) are NUL-terminated copies in the arena;
 * unquoted identifiers are already folded to lowercase, quoted ones are kept
 * as written.
 *
 * The tree is the whole language of the issue, also where execution comes
 * later: the binder answers "unsupported: ..." with a position for what it
 * cannot run yet, never a syntax error.
 */
#ifndef LH_SQL_AST_H
#define LH_SQL_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

/* The deepest expression or query nesting we parse (each level costs a few
 * hundred bytes of stack; ASan's frames are larger). */
#define LH_SQL_MAX_DEPTH 256

typedef struct lh_ast lh_ast;

typedef struct lh_ast_list {
    lh_ast **items;
    uint32_t n;
} lh_ast_list;

/* A possibly qualified name: parts[0].parts[1]... (db.schema.table,
 * t.col). */
typedef struct lh_ast_name {
    const char **parts;
    uint32_t n;
} lh_ast_name;

typedef enum lh_ast_kind {
    /* ---- expressions ---- */
    LH_AST_LITERAL = 1,
    LH_AST_COLREF, /* name: [table.]column */
    LH_AST_STAR,   /* *, t.*; with EXCLUDE (...) */
    LH_AST_PARAM,  /* $1, ?, :name, $name */
    LH_AST_UNARY,
    LH_AST_BINARY,
    LH_AST_FUNC,
    LH_AST_CAST,
    LH_AST_CASE,
    LH_AST_BETWEEN,
    LH_AST_IN_LIST,
    LH_AST_IN_QUERY,
    LH_AST_EXISTS,
    LH_AST_SUBQUERY,   /* scalar */
    LH_AST_QUANTIFIED, /* x op ANY|ALL (subquery) */
    LH_AST_LIKE,       /* LIKE, ILIKE, SIMILAR TO */
    LH_AST_IS,         /* IS [NOT] NULL|TRUE|FALSE|UNKNOWN|DISTINCT FROM */
    LH_AST_ARRAY,      /* [a, b, c] or ARRAY[...] */
    LH_AST_INDEX,      /* a[i] */
    LH_AST_ROW,        /* (a, b) row constructor */
    /* ---- FROM items ---- */
    LH_AST_TABLE,    /* a named table, view or CTE */
    LH_AST_TABLE_FN, /* read_parquet('...'), generate_series(...) */
    LH_AST_DERIVED,  /* (query) AS alias */
    LH_AST_JOIN,
    /* ---- queries ---- */
    LH_AST_SELECT,
    LH_AST_SETOP,
    LH_AST_VALUES,
    /* ---- statements ---- */
    LH_AST_CREATE_TABLE,
    LH_AST_CREATE_VIEW,
    LH_AST_CREATE_INDEX,
    LH_AST_DROP,
    LH_AST_ALTER_TABLE,
    LH_AST_INSERT,
    LH_AST_UPDATE,
    LH_AST_DELETE,
    LH_AST_COPY,
    LH_AST_EXPLAIN,
    LH_AST_SET,
    LH_AST_SHOW,
    LH_AST_TRANSACTION, /* BEGIN, COMMIT, ROLLBACK */
    LH_AST_PRAGMA,
    LH_AST_KIND_COUNT_
} lh_ast_kind;

typedef enum lh_lit_kind {
    LH_LIT_NULL = 0,
    LH_LIT_BOOL,
    LH_LIT_INT,     /* text holds the digits (any size) */
    LH_LIT_NUMBER,  /* 1.5, 1e3: text holds the literal */
    LH_LIT_STRING,  /* '...' */
    LH_LIT_TYPED,   /* DATE '2026-01-01', INTERVAL '1 day', ... */
    LH_LIT_INTERVAL /* INTERVAL '3' DAY, INTERVAL 3 DAY: text + unit */
} lh_lit_kind;

/* Operators of LH_AST_UNARY and LH_AST_BINARY. */
typedef enum lh_op {
    LH_OP_NONE = 0,
    /* unary */
    LH_OP_NEG,
    LH_OP_PLUS,
    LH_OP_NOT,
    LH_OP_BITNOT, /* ~x */
    /* arithmetic */
    LH_OP_ADD,
    LH_OP_SUB,
    LH_OP_MUL,
    LH_OP_DIV,
    LH_OP_INTDIV, /* // (DuckDB): integer division */
    LH_OP_MOD,
    LH_OP_POW, /* ^ */
    /* strings, bits */
    LH_OP_CONCAT, /* || */
    LH_OP_BITAND,
    LH_OP_BITOR,
    LH_OP_BITXOR, /* # */
    LH_OP_SHL,
    LH_OP_SHR,
    /* comparison */
    LH_OP_EQ,
    LH_OP_NE,
    LH_OP_LT,
    LH_OP_LE,
    LH_OP_GT,
    LH_OP_GE,
    /* logic */
    LH_OP_AND,
    LH_OP_OR,
    /* regular expressions (libpcre2) */
    LH_OP_REGEX,     /* ~ */
    LH_OP_REGEX_CI,  /* ~* */
    LH_OP_NREGEX,    /* !~ */
    LH_OP_NREGEX_CI, /* !~* */
    /* JSON */
    LH_OP_JSON_GET,      /* -> */
    LH_OP_JSON_GET_TEXT, /* ->> */
    /* vectors (pgvector's operators) */
    LH_OP_L2_DIST,     /* <-> */
    LH_OP_NEG_IP,      /* <#> */
    LH_OP_COSINE_DIST, /* <=> */
    LH_OP_COUNT_
} lh_op;

typedef enum lh_is_kind {
    LH_IS_NULL = 0,
    LH_IS_TRUE,
    LH_IS_FALSE,
    LH_IS_UNKNOWN,
    LH_IS_DISTINCT_FROM,
} lh_is_kind;

typedef enum lh_join_kind {
    LH_JOIN_INNER = 0,
    LH_JOIN_LEFT,
    LH_JOIN_RIGHT,
    LH_JOIN_FULL,
    LH_JOIN_CROSS,
    /* produced by the binder for subqueries, never by the parser */
    LH_JOIN_SEMI,
    LH_JOIN_ANTI,
    LH_JOIN_MARK,   /* every left row, plus a boolean "has a match" column */
    LH_JOIN_SINGLE, /* left join that errors on a second match (scalar) */
} lh_join_kind;

typedef enum lh_setop_kind {
    LH_SETOP_UNION = 0,
    LH_SETOP_INTERSECT,
    LH_SETOP_EXCEPT,
} lh_setop_kind;

/* GROUP BY items: a plain expression, or one of the grouping constructs
 * whose `items` hold expressions (ROLLUP, CUBE) or sets (GROUPING SETS:
 * each item is an LH_GROUP_SET of expressions; () is an empty set). */
typedef enum lh_group_kind {
    LH_GROUP_EXPR = 0,
    LH_GROUP_ROLLUP,
    LH_GROUP_CUBE,
    LH_GROUP_SETS,
    LH_GROUP_SET,
} lh_group_kind;

typedef struct lh_ast_group {
    uint8_t kind; /* lh_group_kind */
    int32_t pos;
    lh_ast *expr;                /* LH_GROUP_EXPR */
    struct lh_ast_group **items; /* the others */
    uint32_t nitems;
} lh_ast_group;

typedef struct lh_ast_order {
    lh_ast *expr;
    bool desc;
    int8_t nulls_first; /* -1 = default (PostgreSQL: last when ascending) */
} lh_ast_order;

typedef struct lh_ast_order_list {
    lh_ast_order *items;
    uint32_t n;
} lh_ast_order_list;

typedef enum lh_frame_unit {
    LH_FRAME_DEFAULT = 0, /* no frame clause */
    LH_FRAME_ROWS,
    LH_FRAME_RANGE,
    LH_FRAME_GROUPS,
} lh_frame_unit;

typedef enum lh_bound_kind {
    LH_BOUND_UNBOUNDED_PRECEDING = 0,
    LH_BOUND_PRECEDING, /* expr PRECEDING */
    LH_BOUND_CURRENT_ROW,
    LH_BOUND_FOLLOWING,
    LH_BOUND_UNBOUNDED_FOLLOWING,
} lh_bound_kind;

typedef enum lh_exclude_kind {
    LH_EXCLUDE_NO_OTHERS = 0,
    LH_EXCLUDE_CURRENT_ROW,
    LH_EXCLUDE_GROUP,
    LH_EXCLUDE_TIES,
} lh_exclude_kind;

typedef struct lh_ast_window {
    const char *name; /* WINDOW w AS (...): its name; or OVER w */
    const char *base; /* OVER (w ORDER BY ...): the window it refines */
    int32_t pos;
    lh_ast_list partition;
    lh_ast_order_list order;
    uint8_t unit;                 /* lh_frame_unit */
    uint8_t start_kind, end_kind; /* lh_bound_kind */
    lh_ast *start, *end;          /* offsets of PRECEDING / FOLLOWING */
    uint8_t exclude;              /* lh_exclude_kind */
} lh_ast_window;

/* A column definition of CREATE TABLE / ALTER TABLE ADD. */
typedef struct lh_ast_coldef {
    const char *name;
    int32_t pos;
    const char *type_text; /* as written, e.g. "VARCHAR(30)" */
    int32_t type_pos;
    bool not_null;
    bool primary_key;
    bool unique;
    lh_ast *default_expr;
    const char *default_text; /* the expression as written, for the catalog */
} lh_ast_coldef;

/* key = value options: WITH (hot_window = '72h', shards = 4), COPY's
 * (FORMAT parquet, CODEC 'zstd'). value is a literal or an identifier
 * (kept as a LITERAL string). */
typedef struct lh_ast_option {
    const char *key;
    int32_t pos;
    lh_ast *value; /* may be NULL: a flag */
} lh_ast_option;

typedef struct lh_ast_cte {
    const char *name;
    int32_t pos;
    const char **cols; /* optional column names */
    uint32_t ncols;
    lh_ast *query;
    int8_t materialized; /* -1 default, 0 NOT MATERIALIZED, 1 MATERIALIZED */
} lh_ast_cte;

typedef enum lh_drop_kind {
    LH_DROP_TABLE = 0,
    LH_DROP_VIEW,
    LH_DROP_INDEX,
} lh_drop_kind;

typedef enum lh_alter_kind {
    LH_ALTER_ADD_COLUMN = 0,
    LH_ALTER_DROP_COLUMN,
    LH_ALTER_RENAME_COLUMN,
    LH_ALTER_RENAME_TABLE,
} lh_alter_kind;

typedef enum lh_time_travel {
    LH_TT_NONE = 0,
    LH_TT_SYSTEM_TIME, /* FOR SYSTEM_TIME AS OF <ts> (and TIMESTAMP AS OF) */
    LH_TT_VERSION,     /* FOR VERSION AS OF <snapshot> */
} lh_time_travel;

struct lh_ast {
    uint8_t kind; /* lh_ast_kind */
    int32_t pos;  /* byte offset of the first token */
    union {
        struct {
            uint8_t kind; /* lh_lit_kind */
            bool b;
            const char *text;      /* INT, NUMBER, STRING, TYPED value */
            const char *type_text; /* TYPED: "DATE", "TIMESTAMP", ... */
            const char *unit;      /* INTERVAL: "day", "hour", ... or NULL */
        } lit;
        struct {
            lh_ast_name name;
        } colref;
        struct {
            const char *qualifier; /* t.* or NULL */
            const char **exclude;
            uint32_t nexclude;
            bool columns_fn; /* COLUMNS(*) (DuckDB); not yet bound */
        } star;
        struct {
            int32_t index;    /* 1-based: $1, or the n-th ? */
            const char *name; /* :name / $name, else NULL */
        } param;
        struct {
            uint8_t op; /* lh_op */
            lh_ast *arg;
        } unary;
        struct {
            uint8_t op;
            lh_ast *left, *right;
        } binary;
        struct {
            lh_ast_name name;
            lh_ast_list args;
            bool star;               /* count(*) */
            bool distinct;           /* count(DISTINCT x) */
            bool all;                /* count(ALL x): as written, no effect */
            lh_ast_order_list order; /* string_agg(x, ',' ORDER BY y) */
            lh_ast *filter;          /* FILTER (WHERE ...) */
            lh_ast_window *over;     /* window call */
            bool ignore_nulls;       /* lag(x) IGNORE NULLS */
            lh_ast_order_list within_group; /* percentile_cont(...) WITHIN
                                               GROUP (ORDER BY x) */
        } func;
        struct {
            lh_ast *arg;
            const char *type_text;
            int32_t type_pos;
            bool try_cast; /* TRY_CAST: NULL instead of an error */
        } cast;
        struct {
            lh_ast *operand; /* CASE x WHEN ...: x, or NULL */
            lh_ast_list whens, thens;
            lh_ast *else_expr;
        } kase;
        struct {
            lh_ast *arg, *lo, *hi;
            bool negated;
            bool symmetric;
        } between;
        struct {
            lh_ast *arg;
            lh_ast_list list;
            bool negated;
        } in_list;
        struct {
            lh_ast *arg;
            lh_ast *query;
            bool negated;
        } in_query;
        struct {
            lh_ast *query;
            bool negated;
        } exists;
        struct {
            lh_ast *query;
        } subquery;
        struct {
            lh_ast *arg;
            uint8_t op;
            bool all; /* ALL, else ANY / SOME */
            lh_ast *query;
        } quantified;
        struct {
            lh_ast *arg, *pattern, *escape;
            bool negated;
            bool ilike;
            bool similar; /* SIMILAR TO */
        } like;
        struct {
            lh_ast *arg;
            uint8_t what; /* lh_is_kind */
            bool negated;
            lh_ast *right; /* DISTINCT FROM */
        } is;
        struct {
            lh_ast_list items;
        } array;
        struct {
            lh_ast *arg, *index, *upper; /* a[i], a[i:j] */
            bool slice;
        } index;
        struct {
            lh_ast_list items;
        } row;
        /* ---- FROM ---- */
        struct {
            lh_ast_name name;
            const char *alias;
            const char **col_aliases;
            uint32_t ncol_aliases;
            uint8_t travel; /* lh_time_travel */
            lh_ast *travel_expr;
        } table;
        struct {
            lh_ast_name name;
            lh_ast_list args;
            lh_ast_option *named; /* read_parquet('x', hive = true) */
            uint32_t nnamed;
            const char *alias;
            const char **col_aliases;
            uint32_t ncol_aliases;
        } table_fn;
        struct {
            lh_ast *query;
            const char *alias;
            const char **col_aliases;
            uint32_t ncol_aliases;
            bool lateral;
        } derived;
        struct {
            uint8_t kind; /* lh_join_kind */
            bool natural;
            lh_ast *left, *right;
            lh_ast *on;
            const char **using_cols;
            uint32_t nusing;
        } join;
        /* ---- queries ---- */
        struct {
            lh_ast_cte *ctes; /* the WITH of this query, or NULL */
            uint32_t nctes;
            bool recursive;
            bool distinct;
            lh_ast_list distinct_on;
            lh_ast_list targets; /* expressions; aliases in target_alias */
            const char **target_alias;
            lh_ast *from; /* one FROM item: commas become CROSS JOINs */
            lh_ast *where;
            lh_ast_group **group;
            uint32_t ngroup;
            bool group_all; /* GROUP BY ALL */
            lh_ast *having;
            lh_ast *qualify;
            lh_ast_window **windows; /* WINDOW w AS (...) */
            uint32_t nwindows;
            lh_ast_order_list order;
            lh_ast *limit, *offset;
            bool limit_percent;
        } select;
        struct {
            lh_ast_cte *ctes;
            uint32_t nctes;
            bool recursive;
            uint8_t op; /* lh_setop_kind */
            bool all;
            bool by_name; /* UNION BY NAME (DuckDB) */
            lh_ast *left, *right;
            lh_ast_order_list order;
            lh_ast *limit, *offset;
        } setop;
        struct {
            lh_ast_cte *ctes;
            uint32_t nctes;
            bool recursive;
            lh_ast_list rows; /* each an LH_AST_ROW */
            lh_ast_order_list order;
            lh_ast *limit, *offset;
        } values;
        /* ---- statements ---- */
        struct {
            lh_ast_name name;
            bool if_not_exists;
            bool or_replace;
            bool temporary;
            lh_ast_coldef *cols;
            uint32_t ncols;
            const char **primary_key; /* table constraint PRIMARY KEY (..) */
            uint32_t npk;
            lh_ast *partition_by; /* PARTITION BY day(ts) */
            const char **cluster_by;
            uint32_t ncluster;
            lh_ast_option *options; /* WITH (...) */
            uint32_t noptions;
            lh_ast *as_query; /* CREATE TABLE ... AS SELECT */
        } create_table;
        struct {
            lh_ast_name name;
            bool or_replace;
            bool if_not_exists;
            bool temporary;
            const char **cols;
            uint32_t ncols;
            lh_ast *query;
            int32_t query_pos;
        } create_view;
        struct {
            const char *name; /* may be NULL */
            lh_ast_name table;
            bool unique;
            bool if_not_exists;
            lh_ast_list exprs;
            const char *method; /* USING hnsw / bloom */
            lh_ast_option *options;
            uint32_t noptions;
        } create_index;
        struct {
            uint8_t what; /* lh_drop_kind */
            lh_ast_name *names;
            uint32_t nnames;
            bool if_exists;
            bool cascade;
        } drop;
        struct {
            lh_ast_name name;
            uint8_t what; /* lh_alter_kind */
            bool if_exists;
            lh_ast_coldef col;    /* ADD */
            const char *column;   /* DROP / RENAME: the column */
            const char *new_name; /* RENAME ... TO */
        } alter;
        struct {
            lh_ast_name table;
            const char *alias;
            const char **cols;
            uint32_t ncols;
            int32_t *col_pos;
            lh_ast *query; /* VALUES or SELECT; NULL for DEFAULT VALUES */
            bool or_replace;
            lh_ast_list returning;
        } insert;
        struct {
            lh_ast_name table;
            const char **set_cols;
            lh_ast_list set_exprs;
            lh_ast *where;
        } update;
        struct {
            lh_ast_name table;
            lh_ast *where;
        } del;
        struct {
            lh_ast *query;     /* COPY (query) TO ... or COPY t TO: a SELECT */
            lh_ast_name table; /* COPY t ... */
            const char *path;
            int32_t path_pos;
            bool from; /* COPY ... FROM (not supported yet) */
            lh_ast_option *options;
            uint32_t noptions;
        } copy;
        struct {
            lh_ast *stmt;
            bool analyze;
            bool verbose;
        } explain;
        struct {
            const char *name;
            lh_ast *value; /* NULL for RESET */
            bool reset;
            bool local;
        } set;
        struct {
            const char *name; /* SHOW x; SHOW TABLES: "tables" */
        } show;
        struct {
            const char *verb; /* "begin", "commit", "rollback" */
        } txn;
        struct {
            const char *name;
            lh_ast *value;
        } pragma;
    } u;
};

/* Names of operators as written ("+", "||", "~*") and of node kinds (for
 * messages and the printer); never NULL. */
const char *lh_sql_op_text(lh_op op);
const char *lh_sql_ast_kind_name(lh_ast_kind kind);

/* Writes the tree as one S-expression per statement, e.g.
 * (select (targets (+ (col a) (int 1))) (from (table t))), the form of the
 * golden tests in tests/sql/parser/. LH_ENOMEM only (out's sticky rule). */
lh_rc lh_sql_ast_print(const lh_ast *node, lh_buf *out);

#endif
