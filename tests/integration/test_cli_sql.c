/*
 * The `lakehouse sql` contract (issue 5, "CLI"): `sql DIR -c "SQL"
 * [--format ...]` runs the statements in order and prints the last one's
 * rows; exit 0 on success, 2 on a SQL error (its message and position on
 * stderr), 1 otherwise; without -c, statements (and the dot commands)
 * come from stdin.
 */
#include <stdlib.h>
#include <string.h>

#include "it.h"

/* A data directory `db` in a fresh scratch directory (*tmp, for
 * it_rmrf). */
static char *
make_db(char **tmp)
{
    *tmp = it_tmpdir();
    char *db = it_path(*tmp, "db");
    it_result r;
    it_run(&r, NULL, NULL, "init", db, NULL);
    it_expect_code(&r, 0, "init");
    it_result_release(&r);
    return db;
}

static void
expect_out(const it_result *r, const char *want, const char *what)
{
    if (strcmp(r->out, want) != 0) {
        fail_msg("%s: stdout\n%s\nexpected\n%s\n(stderr: %s)", what, r->out,
                 want, r->err);
    }
}

static void
test_statements_and_formats(void **state)
{
    (void)state;
    char *tmp;
    char *db = make_db(&tmp);
    it_result r;
    it_run(&r, NULL, NULL, "sql", db, "-c", "SELECT 1 AS a; SELECT 2 AS b",
           "--format", "csv", NULL);
    it_expect_code(&r, 0, "two statements");
    expect_out(&r, "b\n2\n", "the last statement's rows");
    it_result_release(&r);

    it_run(&r, NULL, NULL, "sql", db, "--format", "ndjson", "-c",
           "SELECT 'x' AS s, NULL AS n, 1.50 AS d", NULL);
    it_expect_code(&r, 0, "ndjson");
    expect_out(&r, "{\"s\":\"x\",\"n\":null,\"d\":1.50}\n", "ndjson");
    it_result_release(&r);

    it_run(&r, NULL, NULL, "sql", db, "-c", "SELECT 1 AS a", "--format", "json",
           NULL);
    it_expect_code(&r, 0, "json");
    expect_out(&r, "[\n{\"a\":1}\n]\n", "json");
    it_result_release(&r);

    it_run(&r, NULL, NULL, "sql", db, "-c",
           "SELECT x, x * x AS sq FROM generate_series(1, 2) t(x)", NULL);
    it_expect_code(&r, 0, "table");
    it_expect_contains(r.out, "(2 rows)", "table footer");
    it_expect_contains(r.out, " sq ", "table header");
    it_result_release(&r);

    /* statements without rows print nothing; DDL and DML in one text */
    it_run(&r, NULL, NULL, "sql", db, "--format", "csv", "-c",
           "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1), (2); "
           "SELECT sum(a) AS s FROM t",
           NULL);
    it_expect_code(&r, 0, "create, insert, select");
    expect_out(&r, "s\n3\n", "sum");
    it_result_release(&r);

    /* CREATE TABLE makes an event table of DIR: the next command sees it,
     * its rows, and the table in `lakehouse table list` */
    it_run(&r, NULL, NULL, "sql", db, "-c",
           "CREATE TABLE visits (page VARCHAR NOT NULL, ms INTEGER) "
           "WITH (shards = 2)",
           NULL);
    it_expect_code(&r, 0, "create an event table");
    it_result_release(&r);
    it_run(&r, NULL, NULL, "sql", db, "-c",
           "INSERT INTO visits VALUES ('/a', 5), ('/b', 7), ('/a', 9)", NULL);
    it_expect_code(&r, 0, "insert in another command");
    it_result_release(&r);
    it_run(&r, NULL, NULL, "sql", db, "--format", "csv", "-c",
           "SELECT page, sum(ms) AS ms, count(DISTINCT stream) AS streams "
           "FROM visits GROUP BY page ORDER BY page",
           NULL);
    it_expect_code(&r, 0, "select in a third");
    expect_out(&r, "page,ms,streams\n/a,14,2\n/b,7,1\n", "rows");
    it_result_release(&r);
    it_run(&r, NULL, NULL, "table", "list", db, NULL);
    it_expect_code(&r, 0, "table list");
    it_expect_contains(r.out, "visits", "listed");
    it_result_release(&r);
    /* `lakehouse table drop`: gone for the next command, and a second
     * drop names the missing table (exit 2) */
    it_run(&r, NULL, NULL, "table", "drop", db, "visits", NULL);
    it_expect_code(&r, 0, "table drop");
    it_result_release(&r);
    it_run(&r, NULL, NULL, "sql", db, "-c", "SELECT count(*) FROM visits",
           NULL);
    it_expect_code(&r, 2, "select from a dropped table");
    it_expect_contains(r.err, "visits", "names it");
    it_result_release(&r);
    it_run(&r, NULL, NULL, "table", "drop", db, "visits", NULL);
    it_expect_contains(r.err, "table \"visits\" does not exist", "again");
    it_result_release(&r);
    /* DROP TABLE in SQL, then the name again with other columns */
    it_run(&r, NULL, NULL, "sql", db, "--format", "csv", "-c",
           "CREATE TABLE visits (x INT); INSERT INTO visits VALUES (4); "
           "DROP TABLE visits; CREATE TABLE visits (y VARCHAR); SELECT "
           "count(*) AS n FROM visits",
           NULL);
    it_expect_code(&r, 0, "drop and create in SQL");
    expect_out(&r, "n\n0\n", "empty");
    it_result_release(&r);
    free(db);
    it_rmrf(tmp);
}

static void
test_exit_codes(void **state)
{
    (void)state;
    char *tmp;
    char *db = make_db(&tmp);
    it_result r;
    /* a SQL error: 2, the message with its position */
    it_run(&r, NULL, NULL, "sql", db, "-c",
           "SELECT 1; SELECT nme FROM (VALUES (1)) t(name)", NULL);
    it_expect_code(&r, 2, "a misspelled column");
    it_expect_contains(r.err, "column \"nme\" does not exist", "message");
    it_expect_contains(r.err, "did you mean \"name\"", "suggestion");
    it_expect_contains(r.err, "position 18", "position");
    it_result_release(&r);

    it_run(&r, NULL, NULL, "sql", db, "-c", "SELECT FROM WHERE", NULL);
    it_expect_code(&r, 2, "a syntax error");
    it_expect_contains(r.err, "syntax error", "syntax");
    it_result_release(&r);

    it_run(&r, NULL, NULL, "sql", db, "-c", "SELECT 1 / 0", NULL);
    it_expect_code(&r, 2, "division by zero");
    it_result_release(&r);

    /* anything else: 1 */
    it_run(&r, NULL, NULL, "sql", "/nonexistent/dir", "-c", "SELECT 1", NULL);
    it_expect_code(&r, 1, "not a data directory");
    it_result_release(&r);

    it_run(&r, NULL, NULL, "sql", db, "-c", "SELECT 1", "--format", "xml",
           NULL);
    it_expect_code(&r, 1, "a bad format");
    it_result_release(&r);

    it_run(&r, NULL, NULL, "sql", db, "--bogus", NULL);
    it_expect_code(&r, 1, "an unknown option");
    it_result_release(&r);
    free(db);
    it_rmrf(tmp);
}

static void
test_piped_statements(void **state)
{
    (void)state;
    char *tmp;
    char *db = make_db(&tmp);
    it_result r;
    /* statements over several lines, dot commands, .mode */
    it_run(&r,
           "CREATE TABLE people (name TEXT, age INTEGER);\n"
           "INSERT INTO people\n  VALUES ('ann', 31), ('bob', 27);\n"
           ".tables\n"
           ".schema people\n"
           ".mode csv\n"
           "SELECT name FROM people\n  ORDER BY age;\n",
           NULL, "sql", db, NULL);
    it_expect_code(&r, 0, "piped statements");
    it_expect_contains(r.out, "people\n", ".tables");
    it_expect_contains(r.out,
                       "CREATE TABLE people (name VARCHAR, age "
                       "INTEGER);",
                       ".schema");
    it_expect_contains(r.out, "name\nbob\nann\n", "csv rows in order");
    it_result_release(&r);

    /* an error does not stop the others; the exit code says there was one */
    it_run(&r, "SELECT 1 AS x;\nSELECT nope;\nSELECT 2 AS y;\n", NULL, "sql",
           db, "--format", "csv", NULL);
    it_expect_code(&r, 2, "an error among piped statements");
    it_expect_contains(r.out, "x\n1\n", "before the error");
    it_expect_contains(r.out, "y\n2\n", "after the error");
    it_expect_contains(r.err, "column \"nope\" does not exist", "message");
    it_result_release(&r);
    free(db);
    it_rmrf(tmp);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statements_and_formats),
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_piped_statements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
