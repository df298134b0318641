/*
 * The optimizer's rules kept in files of their own (optimize.c runs them).
 */
#ifndef LH_SQL_OPTIMIZE_INT_H
#define LH_SQL_OPTIMIZE_INT_H

#include "sql/plan.h"

/* The most rows (LIMIT + OFFSET) a nearest-neighbour scan returns: one
 * batch. A larger LIMIT runs the exact plan. */
#define LH_SQL_KNN_MAX 2048

/* The table column (index in the table's columns) a column of a scan's
 * output is, or -1 when e is not a COL of the scan. */
int lh__opt_scan_col(const lh_plan *scan, const lh_bexpr *e);

/* opt_vector.c: marks the scans under ORDER BY distance(col, constant)
 * LIMIT k whose table has a nearest-neighbour index (lh_plan_knn). The
 * plan's shape is final (after pruning and scan predicates). False when
 * out of memory (the plan is then unchanged or partly marked, and still
 * valid). */
bool lh__opt_knn(lh_plan *p, const lh_sql_settings *set, lh_arena *a);

#endif
