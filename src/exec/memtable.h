/*
 * Memory tables (memtable.c): session-local rows as column batches, a
 * table source for scans.
 */
#ifndef LH_EXEC_MEMTABLE_H
#define LH_EXEC_MEMTABLE_H

#include "exec/exec.h"

typedef struct lh_memtable lh_memtable;

/* A table of the columns given (copied). */
lh_rc lh__memtable_new(const char *name, const lh_sql_column *cols,
                       uint32_t ncols, lh_memtable **out, lh_err *err);
void lh__memtable_free(lh_memtable *t);
const char *lh__memtable_name(const lh_memtable *t);
uint64_t lh__memtable_rows(const lh_memtable *t);
const lh_sql_column *lh__memtable_cols(const lh_memtable *t, uint32_t *n);
const lh_source *lh__memtable_source(const lh_memtable *t);
/* Copies the selected rows of b (its first ncols columns, already of the
 * table's types) in. LH_EINVAL for a NULL in a NOT NULL column (nothing
 * appended), LH_ENOMEM. Not while a scan of the table runs. */
lh_rc lh__memtable_append(lh_memtable *t, const lh_batch *b, lh_err *err);
/* New columns: from[i] is the old column of new column i, or -1 (NULLs). */
lh_rc lh__memtable_set_cols(lh_memtable *t, const lh_sql_column *cols,
                            uint32_t ncols, const int32_t *from, lh_err *err);
lh_rc lh__memtable_rename(lh_memtable *t, const char *name, lh_err *err);

#endif
