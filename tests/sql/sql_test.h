/*
 * Helpers for the SQL tests that run statements through lh_sql_run and
 * compare their CSV (test_events.c, test_iceberg_scan.c). Include after
 * cmocka.h.
 */
#ifndef LH_TESTS_SQL_TEST_H
#define LH_TESTS_SQL_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lakehouse.h"

/* What sql prints as CSV (malloc'd). With rc_out the statement may fail
 * (its code there, err filled); without, a failure fails the test. */
static inline char *
sqlt_run(lh_session *s, const char *sql, lh_rc *rc_out, lh_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    lh_rc rc = lh_sql_run(s, sql, "csv", f, err);
    fclose(f);
    if (rc_out) {
        *rc_out = rc;
    } else if (rc != LH_OK) {
        fail_msg("%s: %s (%s)", sql, err->msg, lh_rc_name(rc));
    }
    return buf;
}

static inline void
sqlt_expect_csv(lh_session *s, const char *sql, const char *want)
{
    lh_err err;
    char *got = sqlt_run(s, sql, NULL, &err);
    if (strcmp(got, want) != 0) {
        fail_msg("%s\n got:\n%s\n want:\n%s", sql, got, want);
    }
    free(got);
}

#endif
