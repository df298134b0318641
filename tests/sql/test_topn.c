/*
 * Top-N with a running bound (op_sort.c, physical.c's link_bound): the
 * scan below an ORDER BY key LIMIT n skips the row groups that cannot
 * beat the n rows kept so far. The answers are checked against the same
 * query with the bound defeated (the key wrapped in an expression, which
 * link_bound does not follow), and the pruning in EXPLAIN ANALYZE.
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
#include <unistd.h>

#include "lakehouse.h"

typedef struct fixture {
    char dir[64];
    lh_session *s; /* one thread: the pruning counts are exact */
} fixture;

static char *
run(lh_session *s, const char *sql)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    lh_err err;
    lh_rc rc = lh_sql_run(s, sql, "csv", f, &err);
    fclose(f);
    if (rc != LH_OK) {
        fail_msg("%s: %s", sql, err.msg);
    }
    return buf;
}

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof f->dir, "/tmp/lh_topn_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    lh_session_options o = {.threads = 1};
    lh_err err;
    assert_int_equal(lh_session_open(NULL, &o, &f->s, &err), LH_OK);
    /* ten row groups each way; every 10th key NULL in the first file */
    char sql[512];
    snprintf(sql, sizeof sql,
             "COPY (SELECT CASE WHEN x %% 10 = 0 AND x > 50000 THEN NULL "
             "ELSE x END AS k, x %% 7 AS m FROM generate_series(1, 100000) "
             "t(x)) TO '%s/up.parquet' (ROW_GROUP_SIZE 10000)",
             f->dir);
    free(run(f->s, sql));
    snprintf(sql, sizeof sql,
             "COPY (SELECT x AS k, x %% 7 AS m FROM generate_series(100000, "
             "1, -1) t(x)) TO '%s/down.parquet' (ROW_GROUP_SIZE 10000)",
             f->dir);
    free(run(f->s, sql));
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    lh_session_close(f->s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* The query (with %s for the directory twice: as written, and its key
 * KEY replaced by KEY + 0, which defeats the bound) gives the same rows;
 * EXPLAIN ANALYZE of the first shows `pruned` row groups pruned. */
static void
check(fixture *f, const char *file, const char *tail, int pruned)
{
    char sql[512], plain[512];
    snprintf(sql, sizeof sql, "SELECT k, m FROM read_parquet('%s/%s') %s",
             f->dir, file, tail);
    /* k + 0 sorts the same (no overflow here) but is no column */
    char tail0[256];
    const char *at = strstr(tail, "ORDER BY k");
    assert_non_null(at);
    snprintf(tail0, sizeof tail0, "%.*sORDER BY k + 0%s", (int)(at - tail),
             tail, at + strlen("ORDER BY k"));
    snprintf(plain, sizeof plain, "SELECT k, m FROM read_parquet('%s/%s') %s",
             f->dir, file, tail0);
    char *a = run(f->s, sql), *b = run(f->s, plain);
    if (strcmp(a, b) != 0) {
        fail_msg("%s\n gave:\n%s\n%s\n gave:\n%s", sql, a, plain, b);
    }
    free(a);
    free(b);
    char explain[600];
    snprintf(explain, sizeof explain, "EXPLAIN ANALYZE %s", sql);
    char *e = run(f->s, explain);
    char want[64];
    snprintf(want, sizeof want, "row_groups=10 pruned=%d", pruned);
    if (strstr(e, want) == NULL) {
        fail_msg("%s: want %s in\n%s", sql, want, e);
    }
    free(e);
}

static void
test_pruned_by_the_bound(void **state)
{
    fixture *f = *state;
    /* ascending keys in ascending files: the first group holds the 5 */
    check(f, "up.parquet", "WHERE m = 3 ORDER BY k LIMIT 5", 9);
    check(f, "up.parquet", "ORDER BY k, m DESC LIMIT 3 OFFSET 2", 9);
    /* descending, NULLs last: the same in the descending file */
    check(f, "down.parquet", "WHERE m = 3 ORDER BY k DESC NULLS LAST LIMIT 5",
          9);
    /* PostgreSQL's default puts NULLs first descending: no bound */
    check(f, "down.parquet", "WHERE m = 3 ORDER BY k DESC LIMIT 5", 0);
    /* the order of the file against the key's: nothing to skip */
    check(f, "up.parquet", "WHERE m = 3 ORDER BY k DESC NULLS LAST LIMIT 5", 0);
    /* more rows than one group holds */
    check(f, "up.parquet", "ORDER BY k LIMIT 25000", 7);
    /* the NULL half of the file sorts last */
    check(f, "up.parquet", "WHERE m = 1 ORDER BY k NULLS LAST LIMIT 7", 9);
}

/* A correlated subquery's top-N runs once per outer row: each run starts
 * without the bound of the one before. */
static void
test_bound_per_run(void **state)
{
    fixture *f = *state;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT a, (SELECT k FROM read_parquet('%s/up.parquet') WHERE k "
             "> a ORDER BY k LIMIT 1) AS next FROM (VALUES (5), (45000), (7), "
             "(3)) v(a) ORDER BY a",
             f->dir);
    char *got = run(f->s, sql);
    assert_string_equal(got, "a,next\n3,4\n5,6\n7,8\n45000,45001\n");
    free(got);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pruned_by_the_bound, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bound_per_run, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
