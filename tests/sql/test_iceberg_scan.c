/*
 * iceberg_scan() in SQL (exec/iceberg_src.c) on the lineitem_iceberg
 * fixture (written by Spark: two snapshots, the second an overwrite):
 * row counts of both snapshots, TPC-H Q6 at both (the fixture's dbgen
 * cross-check, the same numbers tests/iceberg/conformance.py gets from
 * DuckDB), the table folder and a metadata file, an error with its
 * position. Skipped, saying so, without the shared fixtures.
 */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../iceberg/ice_test.h"
#include "lakehouse.h"
#include "sql_test.h"

#define Q6                                                                     \
    "SELECT count(*) AS n, sum(l_extendedprice * l_discount) FILTER (WHERE "   \
    "l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01' AND "  \
    "l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24) AS q6 FROM "        \
    "iceberg_scan('%s'%s)"

static void
test_lineitem(void **state)
{
    (void)state;
    ICE_NEED_FIXTURES();
    char table[4200], sql[8192];
    snprintf(table, sizeof table, "%s/tables/lineitem_iceberg", ice_fixtures);
    lh_err err;
    lh_session_options o = {.threads = 2};
    lh_session *s;
    assert_int_equal(lh_session_open(NULL, &o, &s, &err), LH_OK);
    snprintf(sql, sizeof sql, Q6, table, "");
    sqlt_expect_csv(s, sql, "n,q6\n51793,1077536.9101\n");
    snprintf(sql, sizeof sql, Q6, table, ", snapshot_id = 7817332053627255703");
    sqlt_expect_csv(s, sql, "n,q6\n60175,1193053.2253\n");
    char meta[4300];
    snprintf(meta, sizeof meta, "%s/metadata/v1.metadata.json", table);
    snprintf(sql, sizeof sql, Q6, meta, "");
    sqlt_expect_csv(s, sql, "n,q6\n60175,1193053.2253\n");
    /* columns by name, a filter, a join with itself */
    snprintf(sql, sizeof sql,
             "SELECT l_returnflag, count(*) AS n FROM iceberg_scan('%s') "
             "WHERE l_orderkey < 1000 GROUP BY 1 ORDER BY 1",
             table);
    char *a = sqlt_run(s, sql, NULL, &err);
    assert_non_null(strstr(a, "l_returnflag,n\nA,"));
    free(a);
    lh_rc rc;
    free(sqlt_run(s, "SELECT * FROM iceberg_scan('/nonexistent/table')", &rc,
                  &err));
    assert_int_equal(rc, LH_ENOENT);
    assert_int_equal(err.offset, 14);
    lh_session_close(s);
}

int
main(void)
{
    lh_err err;
    lh_global_init(&err);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lineitem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
