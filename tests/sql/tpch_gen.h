/*
 * tpch_gen: a generator of the TPC-H schema's eight tables
 * (../shared/conformance/tpch/schema.sql, the column types DuckDB's own
 * generator gives), written as Parquet files DIR/<table>.parquet by our
 * writer, for the TPC-H test (tests/sql/test_tpch.c, which runs the same
 * files through DuckDB) and bench/.
 *
 * The rows follow the TPC-H specification's rules (clause 4.2.3) in
 * shape: table sizes by scale factor, sparse order keys, the partsupp
 * supplier formula, customer keys that skip multiples of 3, ship / commit
 * / receipt dates relative to the order date, return flags and line
 * status by the spec's CURRENTDATE, totals from the lines, part names
 * from the spec's colours, types, containers, nations and regions, phone
 * numbers with the country code nationkey + 10, comments from a word list
 * with the phrases the queries look for ("special ... requests",
 * "Customer ... Complaints"). The random streams are our own (splitmix64
 * from a fixed seed), so the rows are deterministic but not dbgen's: the
 * answers in conformance/tpch/answers/ do not apply to them.
 */
#ifndef LH_TESTS_SQL_TPCH_GEN_H
#define LH_TESTS_SQL_TPCH_GEN_H

#include "util/util.h"

/* The eight table names, in the order the generator writes them. */
extern const char *const lh_tpch_tables[8];

/* Writes the eight tables at scale factor sf (> 0; 0.01 is 60k lineitem
 * rows, 1 is 6M) into the directory dir (which must exist), one file each,
 * with row groups of row_group_rows rows (0: the writer's default).
 * LH_EINVAL for a bad sf; the writer's codes, naming the file. */
lh_rc lh_tpch_generate(const char *dir, double sf, uint64_t row_group_rows,
                       lh_err *err);

#endif
