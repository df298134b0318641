/*
 * exec_int.h: the executor's private structures. docs/internals/sql.md is
 * the design; in short:
 *
 *   physical.c   logical plan -> physical nodes (lh_pnode): column ids
 *                resolved to batch positions, expressions compiled
 *   expr.c       compiled expressions (lh_cexpr) evaluated over batches
 *   cast.c       CAST kernels for every pair of types
 *   func.c       the registry: the family tables, indexed by name
 *   fn_*.c       scalar function families; agg_*.c aggregates
 *   hash.c       hashing vectors, the group table of aggregates, DISTINCT
 *                and set operations
 *   op_*.c       one operator each (lh_op_vt)
 *   memtable.c   session-local tables; catalog.c the session's catalog;
 *   parquet_src.c read_parquet; query.c the public API
 *
 * Threads: pnodes and cexprs are immutable once built and shared; an lh_xop
 * (operator instance) and its evaluation context belong to one thread.
 */
#ifndef LH_EXEC_INT_H
#define LH_EXEC_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "column/batch.h"
#include "exec/exec.h"
#include "sql/plan.h"
#include "sql/types.h"

/* ---- memory ----------------------------------------------------------------
 */

/* The query's byte budget, shared by its operators and threads. */
typedef struct lh_xmem {
    _Atomic int64_t used;
    int64_t budget; /* 0 = none */
} lh_xmem;

/* ---- the run ---------------------------------------------------------------
 */

typedef struct lh_pnode lh_pnode;
typedef struct lh_xop lh_xop;
typedef struct lh_cexpr lh_cexpr;

/* One execution of a statement: what every operator of it shares. */
struct lh_exec {
    const lh_sql_settings *set;
    const lh_fn_registry *reg;
    lh_xmem mem;
    atomic_bool *cancel; /* may be NULL */
    int threads;
    lh_us now; /* now() for the whole statement */
    /* cached results of uncorrelated subqueries (init plans) */
    pthread_mutex_t mu;
    struct subcache *subcache;
    bool analyze;       /* EXPLAIN ANALYZE: time the operators */
    atomic_bool abort_; /* a worker failed: the others stop */
    /* EXPLAIN ANALYZE: totals per physical node (pnode* -> lh_pstats*),
     * under mu, filled as operator instances finish */
    lh_map pstats;
    /* hash-join builds shared by the instances of parallel pipelines */
    struct join_shared *joins;
    pthread_cond_t cv;
    /* the running WITH RECURSIVE operators and their work tables
     * (op_recursive.c), under mu */
    struct rec_work *recs;
    /* freed with the execution (compiled regexes and the like) */
    struct lh_cleanup *cleanups;
};

/* What EXPLAIN ANALYZE shows for a node: its instances' totals. */
typedef struct lh_pstats {
    uint64_t rows, batches, ns;
    uint32_t instances;
    lh_scan_stats scan;
} lh_pstats;

/* Adds op's (and its children's) counters into ex->pstats. */
void lh__stats_absorb(const lh_xop *op);
/* The totals of a node, or NULL when it never ran. Borrowed. */
const lh_pstats *lh__stats_of(lh_exec *ex, const lh_pnode *n);

lh_rc lh__exec_init(lh_exec *ex, const lh_sql_settings *set,
                    const lh_fn_registry *reg, atomic_bool *cancel);
void lh__exec_release(lh_exec *ex);
/* Charges delta bytes (may be negative); LH_ENOMEM past the budget. */
lh_rc lh__exec_charge(lh_exec *ex, int64_t delta, lh_err *err);
/* Calls fn(p) when the execution is released (in reverse order).
 * LH_ENOMEM (fn is not called then: the caller frees p). */
lh_rc lh__exec_on_release(lh_exec *ex, void (*fn)(void *), void *p,
                          lh_err *err);
lh_rc lh__exec_check_cancel(lh_exec *ex, lh_err *err);

/* ---- compiled expressions
 * ---------------------------------------------------- */

typedef enum lh_cx_kind {
    LH_CX_INPUT = 1, /* a column of the input batch */
    LH_CX_OUTER,     /* a correlated value of the enclosing query */
    LH_CX_CONST,
    LH_CX_CALL,
    LH_CX_CAST,
    LH_CX_AND,
    LH_CX_OR,
    LH_CX_NOT,
    LH_CX_IS_NULL,
    LH_CX_IS_BOOL,
    LH_CX_CASE,
    LH_CX_COALESCE,
    LH_CX_IN,
    LH_CX_SUBQUERY,
} lh_cx_kind;

typedef struct lh_evalctx lh_evalctx;

/* What a kernel gets besides its vectors. */
typedef struct lh_kctx {
    lh_evalctx *ec;
    const lh_cexpr *e; /* the call (position, aux state) */
    lh_arena *arena;   /* for result bytes (strings): the batch's */
    lh_err *err;
} lh_kctx;

/* A scalar kernel: computes rows sel[0..n) (0..n when sel is NULL) of out
 * from args (FLAT or CONSTANT vectors), each at the same row index. out is
 * FLAT, allocated for the batch; for strict functions its validity is
 * already the AND of the arguments' (NULL: all valid), and rows it marks
 * NULL need not be computed (and must not fail). */
typedef lh_rc (*lh_kernel_fn)(lh_kctx *k, const lh_vector *const *args,
                              uint32_t nargs, const uint32_t *sel, uint32_t n,
                              lh_vector *out);

/* Aggregate implementation. States are `state_size` bytes (8-aligned) in
 * the operator's group table; update gets one state pointer per input
 * row it is given (states[i] for row sel ? sel[i] : i). */
typedef struct lh_agg_impl {
    uint32_t state_size;
    void (*init)(void *state);
    lh_rc (*update)(lh_kctx *k, void *const *states,
                    const lh_vector *const *args, uint32_t nargs,
                    const uint32_t *sel, uint32_t n);
    /* dst += src (partial states of workers or tiers). NULL when states
     * cannot merge (string_agg); such a state must then stay valid when
     * copied byte for byte and updated afterwards (a window's running
     * aggregate snapshots it so) */
    lh_rc (*combine)(lh_kctx *k, void *dst, const void *src);
    /* out[row] for each state, rows 0..n */
    lh_rc (*finalize)(lh_kctx *k, void *const *states, uint32_t n,
                      lh_vector *out);
} lh_agg_impl;

/* A window-only function (fn_window.c): which one; op_window.c computes
 * them over the sorted partition (they need its peers and frames, which
 * no per-row kernel sees). */
typedef enum lh_win_code {
    LH_WIN_ROW_NUMBER = 1,
    LH_WIN_RANK,
    LH_WIN_DENSE_RANK,
    LH_WIN_PERCENT_RANK,
    LH_WIN_CUME_DIST,
    LH_WIN_NTILE,
    LH_WIN_LAG,
    LH_WIN_LEAD,
    LH_WIN_FIRST_VALUE,
    LH_WIN_LAST_VALUE,
    LH_WIN_NTH_VALUE,
} lh_win_code;

typedef struct lh_win_impl {
    uint8_t code; /* lh_win_code */
} lh_win_impl;

/* What lh_fn_def.impl points to. */
typedef struct lh_fn_impl {
    lh_kernel_fn kernel;    /* scalar */
    const lh_agg_impl *agg; /* aggregate */
    const lh_win_impl *win; /* window-only function */
    /* Builds per-call immutable state when some arguments are constant
     * (LIKE patterns, regexes): *aux, allocated in a, is shared by every
     * thread; what lives outside the arena is freed by a function given
     * to lh__exec_on_release(ex, ...). */
    lh_rc (*prepare)(lh_exec *ex, const lh_cexpr *e, lh_arena *a, void **aux,
                     lh_err *err);
} lh_fn_impl;

struct lh_cexpr {
    uint8_t kind; /* lh_cx_kind */
    bool negated;
    uint8_t what;
    bool try_cast;
    lh_type type;
    int32_t pos;
    uint32_t col;   /* INPUT: position; OUTER: slot */
    lh_value konst; /* CONST */
    lh_vector kvec; /* CONST as a CONSTANT vector */
    const lh_fn_def *fn;
    lh_kernel_fn kernel; /* CALL, CAST */
    lh_cexpr **args;
    uint32_t nargs;
    /* CASE: args = whens..., thens..., else (nargs = 2n + 1) */
    uint32_t ncase;
    void *aux; /* prepared state (LIKE, regex, IN set) */
    /* SUBQUERY */
    const lh_pnode *sub;
    uint8_t sub_kind;
    lh_cexpr **outer_args; /* per correlated id: its value here */
    uint32_t nouter;
    lh_cexpr *cmp; /* IN/ANY/ALL: arg op (the subquery's column, as
                      OUTER slot nouter) */
};

/* The state of evaluating expressions in one operator instance. */
struct lh_evalctx {
    lh_exec *ex;
    lh_arena *arena;       /* results: the operator's batch arena */
    const lh_value *outer; /* correlated values (OUTER slots), or NULL */
    lh_err *err;
    /* per-operator memo of correlated subquery results */
    struct submemo *memo;
    lh_arena *memo_arena;
};

/* Evaluates e over the selected rows of `in` (the batch's sel, or a
 * narrower sel when given; n rows). *out is FLAT, CONSTANT or DICT, valid
 * at those rows; it lives in ec->arena (or is an input vector). */
lh_rc lh__eval(lh_evalctx *ec, const lh_cexpr *e, const lh_batch *in,
               const uint32_t *sel, uint32_t n, const lh_vector **out);
/* Evaluates a predicate and narrows: *out_sel (allocated in ec->arena)
 * gets the rows among sel[0..n) where it is TRUE; *out_n their count. */
lh_rc lh__eval_filter(lh_evalctx *ec, const lh_cexpr *e, const lh_batch *in,
                      const uint32_t *sel, uint32_t n, uint32_t **out_sel,
                      uint32_t *out_n);

/* Compiles a bound expression against an input layout: ids[0..nids) are
 * the input batch's columns; outer[0..nouter) the correlated ids of the
 * enclosing subquery (OUTER slots). */
typedef struct lh_cscope {
    const uint32_t *ids;
    uint32_t nids;
    const uint32_t *outer;
    uint32_t nouter;
    const struct lh_cscope *parent; /* unused: outer covers every level */
} lh_cscope;

typedef struct lh_pctx lh_pctx;
lh_rc lh__compile(lh_pctx *pc, const lh_cscope *sc, const lh_bexpr *e,
                  lh_cexpr **out);

/* The cast kernel from one type to another, or NULL when there is none. */
lh_kernel_fn lh__cast_kernel(lh_type from, lh_type to);

/* ---- vectors
 * ----------------------------------------------------------------- */

static inline uint32_t
lh_row(const uint32_t *sel, uint32_t i)
{
    return sel ? sel[i] : i;
}

/* Index of row r in a FLAT or CONSTANT vector's data. */
static inline uint32_t
lh_vidx(const lh_vector *v, uint32_t r)
{
    return v->kind == LH_VEC_CONSTANT ? 0 : r;
}

/* A FLAT vector of type t for `rows` rows in a, with a validity bitmap
 * when nullable. LH_ENOMEM. */
lh_rc lh__vec_new(lh_arena *a, lh_type t, uint32_t rows, bool nullable,
                  lh_vector **out, lh_err *err);
/* A CONSTANT vector holding v (strings copied into a). */
lh_rc lh__vec_const(lh_arena *a, const lh_value *v, lh_vector *out,
                    lh_err *err);
/* v flattened to FLAT at the rows sel[0..n) (a DICT gathered, a CONSTANT
 * repeated); v itself when it is FLAT. */
lh_rc lh__vec_flatten(lh_arena *a, const lh_vector *v, uint32_t count,
                      const uint32_t *sel, uint32_t n, const lh_vector **out,
                      lh_err *err);
/* Row r of v as a value (strings borrowed from v). */
void lh__vec_get(const lh_vector *v, uint32_t r, lh_value *out);
/* Writes value into row r of a FLAT vector (strings copied into a). */
lh_rc lh__vec_set(lh_arena *a, lh_vector *v, uint32_t r, const lh_value *val,
                  lh_err *err);
/* Copies row sr of src into row dr of FLAT dst (strings copied into a
 * when copy_strings). */
lh_rc lh__vec_copy_row(lh_arena *a, lh_vector *dst, uint32_t dr,
                       const lh_vector *src, uint32_t sr, bool copy_strings,
                       lh_err *err);
/* dst[at + i] = src[rows[i]] for i < n (dst FLAT of the same type;
 * strings stay views into src's memory; validity copied when dst has a
 * bitmap). */
void lh__vec_gather(lh_vector *dst, uint32_t at, const lh_vector *src,
                    const uint32_t *rows, uint32_t n);
/* A compact copy of the selected rows of a batch (FLAT vectors, strings
 * copied) in a: for operators that keep rows. */
lh_rc lh__batch_copy(lh_arena *a, const lh_batch *in, lh_batch *out,
                     lh_err *err);
lh_str lh__str_copy(lh_arena *a, const char *p, uint32_t len, bool *oom);
/* Compares row ra of a with row rb of b (same type): <0, 0, >0; NULLs
 * are not handled here. */
int lh__vec_cmp(const lh_vector *a, uint32_t ra, const lh_vector *b,
                uint32_t rb);
bool lh__vec_eq(const lh_vector *a, uint32_t ra, const lh_vector *b,
                uint32_t rb);
/* Hashes rows sel[0..n) of v into h (combine: mix into what h holds). */
void lh__vec_hash(const lh_vector *v, const uint32_t *sel, uint32_t n,
                  uint64_t *h, bool combine);
int lh__value_cmp(const lh_value *a, const lh_value *b);

/* ---- the group table
 * ---------------------------------------------------------- */

/* Distinct key tuples, each with a group index (insertion order) and an
 * aggregate state row. Keys compare NULL = NULL (GROUP BY, DISTINCT). */
typedef struct lh_gtable lh_gtable;

lh_rc lh__gtable_new(lh_exec *ex, const lh_type *key_types, uint32_t nkeys,
                     uint32_t state_size, lh_gtable **out, lh_err *err);
/* Finds or inserts the key rows sel[0..n) of keys: gid[i] receives the
 * group of row i, and *nnew how many groups were made (their state rows
 * are zeroed; the caller initializes them: groups [before, after)). */
lh_rc lh__gtable_find(lh_gtable *g, const lh_vector *const *keys,
                      uint32_t count, const uint32_t *sel, uint32_t n,
                      uint32_t *gid, lh_err *err);
uint32_t lh__gtable_count(const lh_gtable *g);
void *lh__gtable_state(lh_gtable *g, uint32_t gid);
/* Key column k of groups [from, from + n) into out (FLAT, rows 0..n). */
lh_rc lh__gtable_keys(lh_gtable *g, uint32_t k, uint32_t from, uint32_t n,
                      lh_arena *a, lh_vector **out, lh_err *err);
void lh__gtable_free(lh_gtable *g);

/* ---- operators
 * ------------------------------------------------------------------ */

typedef struct lh_op_stats {
    uint64_t rows, batches;
    uint64_t ns;
} lh_op_stats;

typedef struct lh_op_vt {
    const char *name;
    /* bit i: child i is consumed through lh__run_pipeline (the operator
     * makes its instances, one per worker), so lh__op_make skips it */
    uint8_t pipelines;
    lh_rc (*open)(lh_xop *op, lh_err *err);
    /* *out: a batch borrowed until the next call, or NULL at the end */
    lh_rc (*next)(lh_xop *op, lh_batch **out, lh_err *err);
    void (*close)(lh_xop *op);
    /* details for EXPLAIN (after the name), and with analyze the run's */
    void (*explain)(const lh_pnode *n, const lh_xop *op, lh_buf *out);
} lh_op_vt;

struct lh_pnode {
    const lh_op_vt *vt;
    const lh_plan *plan;
    lh_pnode **children;
    uint32_t nchildren;
    uint32_t ncols;
    const lh_type *types;
    const uint32_t *ids; /* the output columns' ids */
    void *cfg;           /* the operator's immutable configuration */
    bool parallel;       /* the subtree is a pipeline over a morsel source */
    /* correlated subquery plans: the ids of their OUTER slots */
    const uint32_t *outer;
    uint32_t nouter;
};

struct lh_xop {
    const lh_pnode *node;
    lh_exec *ex;
    lh_xop **children;
    uint32_t nchildren;
    void *state;
    lh_arena arena; /* kept until close; charged to the query */
    lh_arena batch; /* reset at every next */
    int64_t charged;
    lh_evalctx ec;
    lh_op_stats stats;
    lh_scan_stats scan_stats; /* scans: what the source pruned */
    bool absorbed;
    /* parallel instances of one pipeline share this (the morsel queue of
     * their source) */
    void *shared;
    uint32_t worker;
};

/* Makes the operator instances of a physical subtree (not opened).
 * outer: the correlated values its OUTER slots read (may be NULL). */
lh_rc lh__op_make(lh_exec *ex, const lh_pnode *n, const lh_value *outer,
                  void *shared, uint32_t worker, lh_xop **out, lh_err *err);
lh_rc lh__op_open(lh_xop *op, lh_err *err);
lh_rc lh__op_next(lh_xop *op, lh_batch **out, lh_err *err);
void lh__op_free(lh_xop *op);
/* Allocation from the operator's arena, charged to the query budget. */
void *lh__op_alloc(lh_xop *op, size_t n);
void *lh__op_calloc(lh_xop *op, size_t n);
/* The error for a failed lh__op_alloc. */
lh_rc lh__op_nomem(lh_xop *op, lh_err *err);
/* Resets the batch arena (at the start of next). */
void lh__op_reset_batch(lh_xop *op);

/* Runs a physical subtree to completion on `threads` workers when it is
 * parallel (each worker its own instances; `sink` is called with each
 * batch under no lock, with the worker number; it must be thread-safe
 * across workers only for its own per-worker state). */
typedef lh_rc (*lh_sink_fn)(void *ud, uint32_t worker, lh_batch *b,
                            lh_err *err);
lh_rc lh__run_pipeline(lh_xop *owner, const lh_pnode *n, uint32_t nworkers,
                       lh_sink_fn sink, void *ud, lh_err *err);
/* How many workers a pipeline over n gets (1 unless it is parallel). */
uint32_t lh__pipeline_workers(const lh_xop *owner, const lh_pnode *n);

/* The operator tables (op_*.c). */
extern const lh_op_vt lh__op_scan;
extern const lh_op_vt lh__op_values;
extern const lh_op_vt lh__op_filter;
extern const lh_op_vt lh__op_project;
extern const lh_op_vt lh__op_agg;
extern const lh_op_vt lh__op_join;
extern const lh_op_vt lh__op_sort;
extern const lh_op_vt lh__op_limit;
extern const lh_op_vt lh__op_distinct;
extern const lh_op_vt lh__op_setop;
extern const lh_op_vt lh__op_window;
extern const lh_op_vt lh__op_recursive;
extern const lh_op_vt lh__op_cte_scan;

/* ---- physical planning
 * ------------------------------------------------------------ */

struct lh_pctx {
    lh_exec *ex;
    const lh_sql_query *q;
    lh_arena *a;
    lh_err *err;
    /* RECURSIVE nodes being built: CTE_SCANs find their node here */
    const lh_plan *rec_stack[16];
    struct rec_state *rec_state[16];
    uint32_t nrec;
};

lh_rc lh__physical(lh_pctx *pc, const lh_plan *p, const uint32_t *outer,
                   uint32_t nouter, lh_pnode **out);

/* Physical configurations the operator files share with physical.c. */
typedef struct lh_scan_cfg {
    const lh_source *src;
    lh_scan_request req;
    lh_cexpr *filter; /* over the scan's output columns */
    /* ORDER BY distance LIMIT k through the source's index (lh_plan_knn,
     * index true, and the source has vt->knn), or NULL */
    const lh_plan_knn *knn;
    bool *filter_cols; /* knn: per output column, read by the filter */
} lh_scan_cfg;

typedef struct lh_project_cfg {
    lh_cexpr **exprs;
    uint32_t n;
} lh_project_cfg;

typedef struct lh_agg_call {
    const lh_fn_def *fn;
    const lh_agg_impl *impl;
    lh_cexpr **args;
    uint32_t nargs;
    lh_cexpr *filter;
    bool distinct;
    uint32_t offset; /* of its state in the group's row */
    lh_type type;
    /* string_agg(x ORDER BY y): the rows are kept and fed in this order
     * once the input is done */
    lh_cexpr **order;
    bool *order_desc, *order_nulls_first;
    uint32_t norder;
} lh_agg_call;

typedef struct lh_agg_cfg {
    lh_cexpr **groups;
    uint32_t ngroups;
    lh_type *group_types;
    lh_agg_call *aggs;
    uint32_t naggs;
    uint32_t state_size;
    const uint64_t *sets; /* NULL: one set of every key */
    uint32_t nsets;
} lh_agg_cfg;

typedef struct lh_join_cfg {
    uint8_t kind;
    lh_cexpr **lkeys, **rkeys; /* over the left / right input */
    uint32_t nkeys;
    lh_cexpr *cond; /* over the left columns then the right ones */
    uint32_t nleft, nright;
} lh_join_cfg;

typedef struct lh_sort_cfg {
    lh_cexpr **keys;
    bool *desc, *nulls_first;
    uint32_t nkeys;
    int64_t limit; /* top-N: keep the first limit + offset rows; -1 = all */
    /* top-N over a scan: the worst kept first key, for the scan to prune
     * with (physical.c links them; op_sort.c resets and publishes) */
    lh_dyn_bound *bound;
} lh_sort_cfg;

typedef struct lh_limit_cfg {
    lh_cexpr *limit, *offset;
    bool percent;
} lh_limit_cfg;

typedef struct lh_distinct_cfg {
    lh_cexpr **on; /* keys */
    uint32_t non;
} lh_distinct_cfg;

typedef struct lh_setop_cfg {
    uint8_t op;
    bool all;
} lh_setop_cfg;

typedef struct lh_values_cfg {
    lh_cexpr ***rows;
    uint32_t nrows;
} lh_values_cfg;

/* The window operator (op_window.c). Every expression it needs per row
 * (partition and order keys, arguments, FILTER, frame offsets and RANGE
 * bounds) is evaluated once as the input arrives and kept beside the
 * input's columns: "slots" number the input columns [0, nin) then those
 * expressions. */
typedef struct lh_window_sortspec {
    uint32_t *part; /* slots of the PARTITION BY keys */
    lh_type *part_types;
    uint32_t npart;
    uint32_t *order; /* slots of the ORDER BY keys */
    bool *desc, *nulls_first;
    uint32_t norder;
} lh_window_sortspec;

typedef struct lh_window_call {
    const lh_fn_def *fn;
    const lh_agg_impl *agg; /* an aggregate over the frame, or NULL */
    uint8_t code;           /* window-only: lh_win_code */
    uint32_t *args;         /* slots */
    uint32_t nargs;
    int32_t filter; /* slot of FILTER (WHERE ...), or -1 */
    uint32_t sort;  /* index of its lh_window_sortspec */
    uint8_t unit, start_kind, end_kind, exclude; /* the frame (plan.h) */
    int32_t start, end;         /* slots of the offsets, or -1 */
    int32_t rkey, rstart, rend; /* RANGE offsets: slots, or -1 */
    bool rdesc, rnulls_first;   /* RANGE: the key's direction */
    lh_type type;
    int32_t pos;
} lh_window_call;

typedef struct lh_window_cfg {
    lh_cexpr **exprs; /* slots [nin, nin + nexprs) */
    uint32_t nexprs;
    lh_window_sortspec *sorts;
    uint32_t nsorts;
    lh_window_call *calls; /* output columns after the input's */
    uint32_t ncalls;
} lh_window_cfg;

/* WITH RECURSIVE (op_recursive.c): the Recursive node of p with its
 * anchor and step built (the step's work-table scans find it), and a
 * work-table scan's configuration for n. */
lh_rc lh__recursive_build(lh_pctx *pc, const lh_plan *p, const uint32_t *outer,
                          uint32_t nouter, lh_pnode **out);
lh_rc lh__cte_scan_build(lh_pctx *pc, const lh_plan *p, lh_pnode *n);

/* Builds the window operator's configuration for n (a WINDOW plan node,
 * its child already built); sc is the child's scope. */
lh_rc lh__window_build(lh_pctx *pc, const lh_plan *p, const lh_cscope *sc,
                       lh_pnode *n);

/* ---- the registry
 * ----------------------------------------------------------------- */

/* A family: one fn_*.c / agg_*.c file's table. */
typedef struct lh_fn_family {
    const char *name;
    const lh_fn_def *defs;
    uint32_t n;
} lh_fn_family;

extern const lh_fn_family lh__fn_arith;
extern const lh_fn_family lh__fn_compare;
extern const lh_fn_family lh__fn_string;
extern const lh_fn_family lh__fn_math;
extern const lh_fn_family lh__fn_time;
extern const lh_fn_family lh__fn_text;
extern const lh_fn_family lh__fn_regex;
extern const lh_fn_family lh__agg_basic;
extern const lh_fn_family lh__fn_window;
extern const lh_fn_family lh__fn_vector;

lh_rc lh__registry_new(lh_fn_registry **out, lh_err *err);
void lh__registry_free(lh_fn_registry *r);

/* The JSON definition (lh_table_create's) of the event table that CREATE
 * TABLE `a` describes (event_ddl.c): its columns from the statement, or
 * from qcols[0..nq) when qcols is given (CREATE TABLE AS). *json is
 * freed with free(). LH_EINVAL / LH_EUNSUPPORTED at the offending
 * clause's position. */
lh_rc lh__event_tabledef(const lh_ast *a, const lh_sql_column *qcols,
                         uint32_t nq, char **json, lh_err *err);

/* Errors from kernels, at the expression's position. */
lh_rc lh__kerr(lh_kctx *k, lh_rc code, const char *fmt, ...) LH_PRINTF(3, 4);

#endif
