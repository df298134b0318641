/*
 * The public SQL API (lakehouse.h, "SQL"): prepare / execute with
 * positional and named parameters, typed results and column metadata,
 * errors with their positions and suggestions, PostgreSQL's semantics
 * where DuckDB's differ, the output formats, the per-query memory limit,
 * cancel, parallel execution giving the serial answer, and a round trip
 * through COPY ... TO 'x.parquet' and read_parquet with pruning.
 */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lakehouse.h"

static lh_session *
open_session(int threads)
{
    lh_err err;
    lh_session_options o = {.threads = threads};
    lh_session *s = NULL;
    assert_int_equal(lh_session_open(NULL, &o, &s, &err), LH_OK);
    return s;
}

/* Runs sql and returns what it prints in `format` (malloc'd). */
static char *
run(lh_session *s, const char *sql, const char *format, lh_rc *rc_out,
    lh_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    lh_rc rc = lh_sql_run(s, sql, format, f, err);
    fclose(f);
    if (rc_out) {
        *rc_out = rc;
    } else if (rc != LH_OK) {
        fail_msg("%s: %s (%s)", sql, err->msg, lh_rc_name(rc));
    }
    return buf;
}

static void
expect_csv(lh_session *s, const char *sql, const char *want)
{
    lh_err err;
    char *got = run(s, sql, "csv", NULL, &err);
    if (strcmp(got, want) != 0) {
        fail_msg("%s\n got:\n%s\n want:\n%s", sql, got, want);
    }
    free(got);
}

static void
expect_error(lh_session *s, const char *sql, lh_rc code, int64_t offset,
             const char *msg_part)
{
    lh_err err;
    lh_rc rc;
    char *got = run(s, sql, "csv", &rc, &err);
    free(got);
    if (rc != code || err.offset != offset ||
        (msg_part && strstr(err.msg, msg_part) == NULL)) {
        fail_msg("%s: got %s @%lld \"%s\", want %s @%lld \"%s\"", sql,
                 lh_rc_name(rc), (long long)err.offset, err.msg,
                 lh_rc_name(code), (long long)offset, msg_part ? msg_part : "");
    }
}

static void
test_typed_results(void **state)
{
    (void)state;
    lh_session *s = open_session(1);
    lh_err err;
    lh_stmt *st;
    size_t used;
    const char *sql = "SELECT 1 AS a, 'x' AS b, 2.50::DECIMAL(5,2) AS c, "
                      "NULL::INTEGER AS d, true AS e, 1.5::DOUBLE AS f";
    assert_int_equal(lh_stmt_prepare(s, sql, 0, &used, &st, &err), LH_OK);
    assert_int_equal(used, strlen(sql));
    lh_result *r;
    assert_int_equal(lh_stmt_execute(st, &r, &err), LH_OK);
    assert_int_equal(lh_result_column_count(r), 6);
    const lh_column_info *c = lh_result_column(r, 2);
    assert_string_equal(c->name, "c");
    assert_int_equal(c->type, LH_SQL_DECIMAL);
    assert_int_equal(c->precision, 5);
    assert_int_equal(c->scale, 2);
    assert_string_equal(c->type_name, "DECIMAL(5,2)");
    assert_int_equal(lh_result_column(r, 0)->type, LH_SQL_INTEGER);
    assert_int_equal(lh_result_column(r, 1)->type, LH_SQL_VARCHAR);
    size_t n;
    assert_int_equal(lh_result_next(r, &n, &err), LH_OK);
    assert_int_equal(n, 1);
    lh_cell v;
    assert_int_equal(lh_result_get(r, 0, 0, &v, &err), LH_OK);
    assert_int_equal(v.kind, LH_CELL_INT);
    assert_int_equal(v.u.i, 1);
    assert_int_equal(lh_result_get(r, 0, 1, &v, &err), LH_OK);
    assert_int_equal(v.kind, LH_CELL_TEXT);
    assert_memory_equal(v.u.s.p, "x", 1);
    size_t tl;
    assert_string_equal(lh_result_text(r, 0, 2, &tl), "2.50");
    assert_true(lh_result_is_null(r, 0, 3));
    assert_null(lh_result_text(r, 0, 3, &tl));
    assert_int_equal(lh_result_get(r, 0, 4, &v, &err), LH_OK);
    assert_int_equal(v.kind, LH_CELL_BOOL);
    assert_true(v.u.b);
    assert_int_equal(lh_result_get(r, 0, 5, &v, &err), LH_OK);
    assert_int_equal(v.kind, LH_CELL_DOUBLE);
    assert_true(v.u.d == 1.5);
    assert_int_equal(lh_result_next(r, &n, &err), LH_OK);
    assert_int_equal(n, 0);
    assert_string_equal(lh_result_tag(r), "SELECT 1");
    lh_result_free(r);
    lh_stmt_free(st);
    lh_session_close(s);
}

static int64_t
one_int(lh_stmt *st)
{
    lh_err err;
    lh_result *r;
    assert_int_equal(lh_stmt_execute(st, &r, &err), LH_OK);
    size_t n;
    assert_int_equal(lh_result_next(r, &n, &err), LH_OK);
    assert_int_equal(n, 1);
    lh_cell v;
    assert_int_equal(lh_result_get(r, 0, 0, &v, &err), LH_OK);
    assert_int_equal(v.kind, LH_CELL_INT);
    lh_result_free(r);
    return v.u.i;
}

static void
test_parameters(void **state)
{
    (void)state;
    lh_session *s = open_session(1);
    lh_err err;
    lh_stmt *st;
    size_t used;
    /* positional $n, executed again with other values */
    assert_int_equal(
        lh_stmt_prepare(s, "SELECT $1 * 10 + $2", 0, &used, &st, &err), LH_OK);
    assert_int_equal(lh_stmt_param_count(st), 2);
    assert_null(lh_stmt_param_name(st, 1));
    lh_cell a = {.kind = LH_CELL_INT, .u.i = 4};
    lh_cell b = {.kind = LH_CELL_TEXT, .u.s = {"2", 1}}; /* untyped text */
    assert_int_equal(lh_stmt_bind(st, 1, &a, &err), LH_OK);
    assert_int_equal(lh_stmt_bind(st, 2, &b, &err), LH_OK);
    assert_int_equal(one_int(st), 42);
    a.u.i = 7;
    assert_int_equal(lh_stmt_bind(st, 1, &a, &err), LH_OK);
    assert_int_equal(one_int(st), 72);
    lh_stmt_free(st);
    /* ? parameters are numbered in order */
    assert_int_equal(lh_stmt_prepare(s, "SELECT ? - ?", 0, &used, &st, &err),
                     LH_OK);
    assert_int_equal(lh_stmt_param_count(st), 2);
    lh_cell x = {.kind = LH_CELL_INT, .u.i = 10};
    lh_cell y = {.kind = LH_CELL_INT, .u.i = 3};
    assert_int_equal(lh_stmt_bind(st, 1, &x, &err), LH_OK);
    assert_int_equal(lh_stmt_bind(st, 2, &y, &err), LH_OK);
    assert_int_equal(one_int(st), 7);
    lh_stmt_free(st);
    /* named: numbered by first appearance, a repeated name is one */
    assert_int_equal(
        lh_stmt_prepare(s, "SELECT :hi - :lo + :hi", 0, &used, &st, &err),
        LH_OK);
    assert_int_equal(lh_stmt_param_count(st), 2);
    assert_string_equal(lh_stmt_param_name(st, 2), "lo");
    assert_int_equal(lh_stmt_param_index(st, ":hi"), 1);
    assert_int_equal(lh_stmt_param_index(st, "nope"), 0);
    lh_cell hi = {.kind = LH_CELL_INT, .u.i = 100};
    lh_cell lo = {.kind = LH_CELL_INT, .u.i = 1};
    assert_int_equal(lh_stmt_bind_named(st, "hi", &hi, &err), LH_OK);
    assert_int_equal(lh_stmt_bind_named(st, ":lo", &lo, &err), LH_OK);
    assert_int_equal(lh_stmt_bind_named(st, "zz", &lo, &err), LH_EINVAL);
    assert_int_equal(one_int(st), 199);
    lh_stmt_free(st);
    /* a missing value is an error at its position */
    assert_int_equal(lh_stmt_prepare(s, "SELECT 1 + $1", 0, &used, &st, &err),
                     LH_OK);
    lh_result *r;
    assert_int_equal(lh_stmt_execute(st, &r, &err), LH_EINVAL);
    assert_int_equal(err.offset, 11);
    lh_stmt_free(st);
    /* several statements, one after the other */
    const char *text = "SELECT 1; SELECT 2;\n  -- done\n";
    assert_int_equal(lh_stmt_prepare(s, text, 0, &used, &st, &err), LH_OK);
    assert_int_equal(one_int(st), 1);
    lh_stmt_free(st);
    size_t at = used;
    assert_int_equal(lh_stmt_prepare(s, text + at, 0, &used, &st, &err), LH_OK);
    assert_int_equal(one_int(st), 2);
    lh_stmt_free(st);
    at += used;
    assert_int_equal(lh_stmt_prepare(s, text + at, 0, &used, &st, &err), LH_OK);
    assert_null(st);
    lh_session_close(s);
}

static void
test_errors(void **state)
{
    (void)state;
    lh_session *s = open_session(1);
    lh_err err;
    char *o = run(s, "CREATE TABLE people (name TEXT, age INTEGER)", NULL, NULL,
                  &err);
    free(o);
    expect_error(s, "SELECT nmae FROM people", LH_EINVAL, 7,
                 "column \"nmae\" does not exist (did you mean \"name\"?)");
    expect_error(s, "SELECT name FROM peple", LH_ENOENT, 17,
                 "relation \"peple\" does not exist (did you mean "
                 "\"people\"?)");
    expect_error(s, "SELECT uper(name) FROM people", LH_EINVAL, 7,
                 "(did you mean \"upper\"?)");
    expect_error(s, "SELECT name FROM people WHERE", LH_EINVAL, 29,
                 "syntax error at end of input");
    expect_error(s, "SELECT 1 +* 2", LH_EINVAL, 10, "syntax error at or near");
    expect_error(s, "SELECT 'a' + 1", LH_EINVAL, 7,
                 "invalid input syntax for type integer: \"a\"");
    expect_error(s, "SELECT age FROM people GROUP BY name", LH_EINVAL, 7,
                 "must appear in the GROUP BY clause");
    /* several statements: the offset is in the whole text */
    expect_error(s, "SELECT 1; SELECT * FROM nope", LH_ENOENT, 24,
                 "relation \"nope\" does not exist");
    /* parsed but not run yet: "unsupported" with a position */
    expect_error(s, "SELECT 1; SELECT * FROM people, LATERAL (SELECT 1) x",
                 LH_EUNSUPPORTED, 32, "unsupported");
    lh_session_close(s);
}

static void
test_postgres_semantics(void **state)
{
    (void)state;
    lh_session *s = open_session(1);
    expect_csv(s, "SELECT 7 / 2 AS a, -7 / 2 AS b, 7 % -3 AS c",
               "a,b,c\n3,-3,1\n");
    expect_error(s, "SELECT 1 / 0", LH_EINVAL, 7, "division by zero");
    expect_error(s, "SELECT 2147483647 + 1", LH_EINVAL, 7,
                 "integer out of range");
    expect_csv(s, "SELECT 0.1 + 0.2 = 0.3 AS exact, 1.10 * 3 AS m",
               "exact,m\ntrue,3.30\n");
    expect_csv(s, "SELECT 99999999999999999999999999999999999999 + 0 AS big",
               "big\n99999999999999999999999999999999999999\n");
    /* NULLs last ascending, first descending */
    expect_csv(s, "SELECT x FROM (VALUES (2), (NULL), (1)) t(x) ORDER BY x",
               "x\n1\n2\n\n");
    expect_csv(s,
               "SELECT x FROM (VALUES (2), (NULL), (1)) t(x) ORDER BY x DESC",
               "x\n\n2\n1\n");
    /* the session settings of DuckDB's semantics, for the conformance
     * suites */
    lh_err err;
    assert_int_equal(lh_session_set(s, "integer_division", "float", &err),
                     LH_OK);
    assert_int_equal(lh_session_set(s, "division_by_zero", "null", &err),
                     LH_OK);
    expect_csv(s, "SELECT 5 / 2 AS a, 1 / 0 AS b", "a,b\n2.5,\n");
    assert_int_equal(lh_session_set(s, "nope", "1", &err), LH_EINVAL);
    lh_session_close(s);
}

static void
test_formats(void **state)
{
    (void)state;
    lh_session *s = open_session(1);
    lh_err err;
    const char *q = "SELECT 1 AS n, 'a,b' AS s, NULL AS z, "
                    "DATE '2024-02-29' AS d";
    char *o = run(s, q, "csv", NULL, &err);
    assert_string_equal(o, "n,s,z,d\n1,\"a,b\",,2024-02-29\n");
    free(o);
    o = run(s, q, "json", NULL, &err);
    assert_string_equal(o, "[\n{\"n\":1,\"s\":\"a,b\",\"z\":null,\"d\":"
                           "\"2024-02-29\"}\n]\n");
    free(o);
    o = run(s, q, "ndjson", NULL, &err);
    assert_string_equal(o, "{\"n\":1,\"s\":\"a,b\",\"z\":null,\"d\":"
                           "\"2024-02-29\"}\n");
    free(o);
    o = run(s, "SELECT 1 AS n UNION ALL SELECT 22", "table", NULL, &err);
    assert_non_null(strstr(o, "(2 rows)"));
    free(o);
    lh_session_close(s);
}

/* Under a 4MB memory_limit, `big` fails with LH_ENOMEM and a message
 * containing `what`; the session then runs `small` within the limit. */
static void
expect_over_limit(const char *big, const char *what, const char *small,
                  const char *csv)
{
    lh_session *s = open_session(1);
    lh_err err;
    assert_int_equal(lh_session_set(s, "memory_limit", "4MB", &err), LH_OK);
    expect_error(s, big, LH_ENOMEM, -1, what);
    expect_csv(s, small, csv);
    lh_session_close(s);
}

static void
test_memory_limit(void **state)
{
    (void)state;
    expect_over_limit("SELECT count(*) FROM (SELECT DISTINCT x FROM "
                      "generate_series(1, 3000000) t(x)) d",
                      "memory",
                      "SELECT count(DISTINCT x % 100) AS c FROM "
                      "generate_series(1, 100000) t(x)",
                      "c\n100\n");
}

static void
test_window_memory_limit(void **state)
{
    (void)state;
    /* the window operator keeps its whole input: 3M rows do not fit */
    expect_over_limit("SELECT max(r) FROM (SELECT row_number() OVER (ORDER "
                      "BY x DESC) AS r FROM generate_series(1, 3000000) t(x)) "
                      "q",
                      "window operator",
                      "SELECT max(r) AS m FROM (SELECT rank() OVER (ORDER BY "
                      "x % 10) AS r FROM generate_series(1, 10000) t(x)) q",
                      "m\n9001\n");
}

typedef struct cancel_arg {
    lh_session *s;
    const char *sql;
    lh_rc rc;
    lh_err err;
} cancel_arg;

static void *
long_query(void *p)
{
    cancel_arg *a = p;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    a->rc = lh_sql_run(a->s, a->sql, "csv", f, &a->err);
    fclose(f);
    free(buf);
    return NULL;
}

/* Runs sql on another thread, cancels it after ms milliseconds: it fails
 * with LH_ECANCELED and the session runs the next statement normally. */
static void
expect_canceled(const char *sql, long ms)
{
    cancel_arg a = {.s = open_session(2), .sql = sql};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, long_query, &a), 0);
    struct timespec ts = {0, ms * 1000 * 1000};
    nanosleep(&ts, NULL);
    lh_session_cancel(a.s);
    pthread_join(t, NULL);
    assert_int_equal(a.rc, LH_ECANCELED);
    expect_csv(a.s, "SELECT 1 AS one", "one\n1\n");
    lh_session_close(a.s);
}

static void
test_cancel(void **state)
{
    (void)state;
    expect_canceled("SELECT count(*) FROM generate_series(1, 100000) a(x), "
                    "generate_series(1, 100000) b(y) WHERE x + y = 3",
                    100);
}

static void
test_window_cancel(void **state)
{
    (void)state;
    /* a sliding frame with EXCLUDE: the segment tree over 2M rows */
    expect_canceled("SELECT max(s) FROM (SELECT sum(x) OVER (ORDER BY x "
                    "ROWS BETWEEN 5000 PRECEDING AND 5000 FOLLOWING "
                    "EXCLUDE CURRENT ROW) AS s FROM generate_series(1, "
                    "2000000) t(x)) q",
                    300);
}

/* q gives the same text on 1 and 2 threads, starting with `head`. */
static void
expect_same_on_threads(const char *q, const char *head)
{
    lh_session *one = open_session(1);
    lh_session *two = open_session(2);
    lh_err err;
    char *a = run(one, q, "csv", NULL, &err);
    char *b = run(two, q, "csv", NULL, &err);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, head));
    free(a);
    free(b);
    lh_session_close(one);
    lh_session_close(two);
}

static void
test_window_explain(void **state)
{
    (void)state;
    /* EXPLAIN shows each window; calls with the same PARTITION BY and
     * ORDER BY share one sort whatever their frames */
    lh_session *s = open_session(1);
    lh_err err;
    char *o = run(s,
                  "EXPLAIN SELECT sum(x) OVER (PARTITION BY x % 2 ORDER BY x "
                  "DESC ROWS BETWEEN 1 PRECEDING AND CURRENT ROW EXCLUDE "
                  "TIES), rank() OVER (PARTITION BY x % 2 ORDER BY x DESC), "
                  "lag(x) OVER (ORDER BY x) FROM generate_series(1, 5) t(x)",
                  "csv", NULL, &err);
    if (strstr(o, "OVER (PARTITION BY (#0 % 2) ORDER BY #0 DESC NULLS FIRST "
                  "ROWS BETWEEN 1 PRECEDING AND CURRENT ROW EXCLUDE TIES)") ==
            NULL ||
        strstr(o, "lag(#0) OVER (ORDER BY #0 NULLS LAST)") == NULL ||
        strstr(o, "(2 sorts)") == NULL) {
        fail_msg("%s", o);
    }
    free(o);
    lh_session_close(s);
}

static void
test_recursive_limits(void **state)
{
    (void)state;
    /* a recursion without end: UNION keeps every row it has seen, so it
     * grows past the limit; UNION ALL keeps two iterations, so it runs
     * until canceled */
    expect_over_limit("WITH RECURSIVE t(n) AS (SELECT 1 UNION SELECT n + 1 "
                      "FROM t) SELECT count(*) FROM t",
                      "memory",
                      "WITH RECURSIVE t(n) AS (SELECT 1 UNION SELECT n + 1 "
                      "FROM t WHERE n < 1000) SELECT count(*) AS c FROM t",
                      "c\n1000\n");
    expect_canceled("WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 "
                    "FROM t) SELECT count(*) FROM t",
                    100);
}

static void
test_window_parallel_equals_serial(void **state)
{
    (void)state;
    /* over Parquet row groups (a parallel source: both workers feed the
     * window), with a total order inside every window */
    char dir[] = "/tmp/lh_sql_win_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], sql[1024];
    snprintf(path, sizeof path, "%s/w.parquet", dir);
    lh_session *s = open_session(1);
    lh_err err;
    snprintf(sql, sizeof sql,
             "COPY (SELECT x FROM generate_series(1, 300000) t(x)) TO '%s' "
             "(ROW_GROUP_SIZE 10000)",
             path);
    free(run(s, sql, "csv", NULL, &err));
    lh_session_close(s);
    snprintf(sql, sizeof sql,
             "SELECT x %% 5 AS k, sum(r) AS r, sum(s) AS s, sum(l) AS l FROM "
             "(SELECT x, row_number() OVER (PARTITION BY x %% 5 ORDER BY x "
             "DESC) AS r, sum(x) OVER (ORDER BY x ROWS BETWEEN 3 PRECEDING "
             "AND CURRENT ROW) AS s, lag(x, 2, 0) OVER (PARTITION BY x %% 5 "
             "ORDER BY x) AS l FROM read_parquet('%s') WHERE x %% 7 <> 0) q "
             "GROUP BY k ORDER BY k",
             path);
    expect_same_on_threads(sql, "k,r,s,l\n0,");
    unlink(path);
    rmdir(dir);
}

static void
test_parallel_equals_serial(void **state)
{
    (void)state;
    expect_same_on_threads(
        "SELECT x % 7 AS k, count(*) AS n, sum(x) AS s, "
        "min(x) AS lo, max(x) AS hi FROM generate_series(1, "
        "1000000) t(x) WHERE x % 3 <> 0 GROUP BY k ORDER BY k",
        "k,n,s,lo,hi\n0,95238,");
}

static void
test_parquet_round_trip(void **state)
{
    (void)state;
    char dir[] = "/tmp/lh_sql_test_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sql[1024];
    lh_session *s = open_session(2);
    lh_err err;
    /* two files; each row group holds 10,000 rows */
    for (int f = 0; f < 2; f++) {
        snprintf(sql, sizeof sql,
                 "COPY (SELECT x AS id, 'k' || (x %% 10) AS key, "
                 "x * 0.5 AS half FROM generate_series(%d, %d) t(x)) TO "
                 "'%s/part%d.parquet' (ROW_GROUP_SIZE 10000)",
                 f * 50000 + 1, f * 50000 + 50000, dir, f);
        char *o = run(s, sql, "csv", NULL, &err);
        free(o);
    }
    snprintf(sql, sizeof sql,
             "SELECT count(*) AS n, sum(id) AS s, min(key) AS k FROM "
             "read_parquet('%s/*.parquet')",
             dir);
    expect_csv(s, sql, "n,s,k\n100000,5000050000,k0\n");
    snprintf(sql, sizeof sql,
             "SELECT key, count(*) AS n FROM read_parquet('%s/*.parquet') "
             "WHERE id BETWEEN 20001 AND 20010 GROUP BY key ORDER BY key "
             "LIMIT 3",
             dir);
    expect_csv(s, sql, "key,n\nk0,1\nk1,1\nk2,1\n");
    /* the row groups outside the range are skipped */
    snprintf(sql, sizeof sql,
             "EXPLAIN ANALYZE SELECT count(*) FROM "
             "read_parquet('%s/*.parquet') WHERE id > 95000",
             dir);
    char *o = run(s, sql, "csv", NULL, &err);
    if (strstr(o, "files=2 row_groups=10 pruned=9") == NULL) {
        fail_msg("%s", o);
    }
    free(o);
    /* min, max and count of whole files come from their statistics, and
     * agree with the scan that a filter forces */
    snprintf(sql, sizeof sql,
             "SELECT min(id) AS a, max(id) AS b, count(*) AS n, count(half) "
             "AS h, max(half) AS m FROM read_parquet('%s/*.parquet')",
             dir);
    expect_csv(s, sql, "a,b,n,h,m\n1,100000,100000,100000,50000.0\n");
    snprintf(sql, sizeof sql,
             "SELECT min(id) AS a, max(id) AS b, count(*) AS n, count(half) "
             "AS h, max(half) AS m FROM read_parquet('%s/*.parquet') WHERE "
             "id > 0",
             dir);
    expect_csv(s, sql, "a,b,n,h,m\n1,100000,100000,100000,50000.0\n");
    snprintf(sql, sizeof sql,
             "EXPLAIN ANALYZE SELECT min(id), count(*) FROM "
             "read_parquet('%s/*.parquet')",
             dir);
    o = run(s, sql, "csv", NULL, &err);
    if (strstr(o, "Values 1 rows") == NULL || strstr(o, "Scan")) {
        fail_msg("%s", o);
    }
    free(o);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM read_parquet('%s/none*')",
             dir);
    expect_error(s, sql, LH_ENOENT, 21, NULL);
    lh_session_close(s);
    for (int f = 0; f < 2; f++) {
        snprintf(sql, sizeof sql, "%s/part%d.parquet", dir, f);
        unlink(sql);
    }
    rmdir(dir);
}

int
main(void)
{
    lh_err err;
    lh_global_init(&err);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typed_results),
        cmocka_unit_test(test_parameters),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_postgres_semantics),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_memory_limit),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_window_memory_limit),
        cmocka_unit_test(test_window_cancel),
        cmocka_unit_test(test_window_parallel_equals_serial),
        cmocka_unit_test(test_window_explain),
        cmocka_unit_test(test_recursive_limits),
        cmocka_unit_test(test_parallel_equals_serial),
        cmocka_unit_test(test_parquet_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
