/*
 * The window-only functions: row_number, rank, dense_rank, percent_rank,
 * cume_dist, ntile, lag, lead, first_value, last_value, nth_value. Their
 * entries name what to compute (lh_win_code); op_window.c computes them
 * over each sorted partition, because they need the partition's order,
 * peers and frames. Aggregates over a frame are the aggregates of
 * agg_basic.c.
 *
 * Result types: the ranks and ntile are BIGINT, percent_rank and
 * cume_dist DOUBLE; lag, lead and the value functions keep their
 * argument's type (lag's default is cast to it).
 */
#include "exec/exec_int.h"

/* lag(x, n, default): the type of x (of default when x is NULL) */
static lh_rc
rule_value(const lh_fn_def *fn, const lh_type *args, uint32_t nargs,
           lh_type *want, lh_type *ret, lh_err *err)
{
    (void)fn;
    (void)err;
    lh_type t = args[0];
    if (t.id == LH_T_NULL && nargs == 3 && args[2].id != LH_T_NULL) {
        t = args[2];
    }
    if (t.id == LH_T_NULL) {
        t = lh_sql_type(LH_T_VARCHAR);
    }
    *ret = t;
    want[0] = t;
    if (nargs == 3) {
        want[2] = t;
    }
    return LH_OK;
}

#define W LH_FN_WINDOW
#define N LH_FN_NULLS
#define ANY LH_FN_ANY
#define IMPLW(c) (&(const lh_fn_impl){.win = &(const lh_win_impl){c}})

static const lh_fn_def defs[] = {
    {"row_number",
     W,
     0,
     {0},
     LH_T_BIGINT,
     N,
     0,
     NULL,
     IMPLW(LH_WIN_ROW_NUMBER)},
    {"rank", W, 0, {0}, LH_T_BIGINT, N, 0, NULL, IMPLW(LH_WIN_RANK)},
    {"dense_rank",
     W,
     0,
     {0},
     LH_T_BIGINT,
     N,
     0,
     NULL,
     IMPLW(LH_WIN_DENSE_RANK)},
    {"percent_rank",
     W,
     0,
     {0},
     LH_T_DOUBLE,
     N,
     0,
     NULL,
     IMPLW(LH_WIN_PERCENT_RANK)},
    {"cume_dist", W, 0, {0}, LH_T_DOUBLE, N, 0, NULL, IMPLW(LH_WIN_CUME_DIST)},
    {"ntile",
     W,
     1,
     {LH_T_BIGINT},
     LH_T_BIGINT,
     N,
     0,
     NULL,
     IMPLW(LH_WIN_NTILE)},
    {"lag", W, 1, {ANY}, LH_T_NULL, N, 0, rule_value, IMPLW(LH_WIN_LAG)},
    {"lag",
     W,
     2,
     {ANY, LH_T_BIGINT},
     LH_T_NULL,
     N,
     0,
     rule_value,
     IMPLW(LH_WIN_LAG)},
    {"lag",
     W,
     3,
     {ANY, LH_T_BIGINT, ANY},
     LH_T_NULL,
     N,
     0,
     rule_value,
     IMPLW(LH_WIN_LAG)},
    {"lead", W, 1, {ANY}, LH_T_NULL, N, 0, rule_value, IMPLW(LH_WIN_LEAD)},
    {"lead",
     W,
     2,
     {ANY, LH_T_BIGINT},
     LH_T_NULL,
     N,
     0,
     rule_value,
     IMPLW(LH_WIN_LEAD)},
    {"lead",
     W,
     3,
     {ANY, LH_T_BIGINT, ANY},
     LH_T_NULL,
     N,
     0,
     rule_value,
     IMPLW(LH_WIN_LEAD)},
    {"first_value",
     W,
     1,
     {ANY},
     LH_T_NULL,
     N,
     0,
     rule_value,
     IMPLW(LH_WIN_FIRST_VALUE)},
    {"last_value",
     W,
     1,
     {ANY},
     LH_T_NULL,
     N,
     0,
     rule_value,
     IMPLW(LH_WIN_LAST_VALUE)},
    {"nth_value",
     W,
     2,
     {ANY, LH_T_BIGINT},
     LH_T_NULL,
     N,
     0,
     rule_value,
     IMPLW(LH_WIN_NTH_VALUE)},
};

const lh_fn_family lh__fn_window = {"window", defs, LH_ARRAY_LEN(defs)};
