/*
 * The table sources the session's catalog makes for table functions:
 * read_parquet (parquet_src.c) and generate_series / range (series.c).
 * Each returns a table (in `a`) and a resource the caller frees with the
 * matching _free once the statement is done.
 */
#ifndef LH_EXEC_SOURCES_H
#define LH_EXEC_SOURCES_H

#include "exec/exec.h"

lh_rc lh__read_parquet(const lh_value *args, uint32_t nargs,
                       const char *const *names, const lh_value *named,
                       uint32_t nnamed, lh_arena *a, lh_sql_table **out,
                       void **resource, lh_err *err);
void lh__read_parquet_free(void *resource);

/* generate_series(start, stop [, step]) (inclusive) and range(...)
 * (exclusive of stop; range(n) is 0..n-1), of BIGINT. */
lh_rc lh__series(const char *name, const lh_value *args, uint32_t nargs,
                 lh_arena *a, lh_sql_table **out, void **resource, lh_err *err);
void lh__series_free(void *resource);

#endif
