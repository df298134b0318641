/*
 * The parser against golden files: the .txt files of tests/sql/parser hold
 * cases separated by blank lines, each the SQL text, a line "----", and the
 * expected output: one S-expression a statement (lh_sql_ast_print), or
 * "error <code> @<offset>: <message>". LH_GOLDEN_UPDATE=1 rewrites the
 * files with what the parser prints now (then review the diff).
 *
 * Also: keyword table order, every token kind, deep nesting bounded,
 * and allocation failures at every step fail cleanly.
 */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/parser.h"
#include "sql/sql.h"

static char golden_dir[4096];

static void
find_golden(void)
{
    snprintf(golden_dir, sizeof golden_dir, "%s", __FILE__);
    char *slash = strrchr(golden_dir, '/');
    if (slash) {
        *slash = 0;
    }
    strncat(golden_dir, "/parser", sizeof golden_dir - strlen(golden_dir) - 1);
}

/* What the parser prints for one case. */
static void
render(const char *sql, lh_buf *out)
{
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_err err;
    lh_sql_stmt *stmts;
    uint32_t n;
    lh_rc rc = lh_sql_parse(sql, strlen(sql), NULL, &a, &stmts, &n, &err);
    if (rc != LH_OK) {
        lh_buf_printf(out, "error %s @%lld: %s\n", lh_rc_name(rc),
                      (long long)err.offset, err.msg);
    } else {
        for (uint32_t i = 0; i < n; i++) {
            assert_int_equal(lh_sql_ast_print(stmts[i].ast, out), LH_OK);
            lh_buf_putc(out, '\n');
        }
    }
    lh_arena_release(&a);
}

static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = 0;
    fclose(f);
    return s;
}

/* Runs one golden file; returns the number of mismatches. */
static int
run_file(const char *path, bool update)
{
    char *text = slurp(path);
    lh_buf rewritten = LH_BUF_INIT;
    int bad = 0, cases = 0;
    char *p = text;
    while (*p) {
        /* blank lines and comment lines between cases */
        while (*p == '\n' || (*p == '#' && (p == text || p[-1] == '\n'))) {
            if (*p == '#') {
                char *e = strchr(p, '\n');
                lh_buf_append(&rewritten, p,
                              e ? (size_t)(e - p + 1) : strlen(p));
                p = e ? e + 1 : p + strlen(p);
                continue;
            }
            lh_buf_putc(&rewritten, '\n');
            p++;
        }
        if (!*p) {
            break;
        }
        char *sep = strstr(p, "\n----\n");
        assert_non_null(sep);
        *sep = 0;
        char *sql = p;
        char *expect = sep + 6;
        char *end = strstr(expect, "\n\n");
        char *next;
        if (end) {
            *end = 0;
            next = end + 1;
        } else {
            next = expect + strlen(expect);
        }
        lh_buf got = LH_BUF_INIT;
        render(sql, &got);
        /* expected text ends without the final newline */
        size_t el = strlen(expect);
        while (el && expect[el - 1] == '\n') {
            expect[--el] = 0;
        }
        if (got.len && got.data[got.len - 1] == '\n') {
            got.data[--got.len] = 0;
        }
        cases++;
        if (strcmp(got.data ? got.data : "", expect) != 0) {
            bad++;
            if (!update) {
                print_error("%s: case %d\n  sql:    %s\n  expect: %s\n"
                            "  got:    %s\n",
                            path, cases, sql, expect, got.data ? got.data : "");
            }
        }
        lh_buf_printf(&rewritten, "%s\n----\n%s\n", sql,
                      got.data ? got.data : "");
        lh_buf_release(&got);
        p = next;
    }
    if (update) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fwrite(rewritten.data, 1, rewritten.len, f);
        fclose(f);
        bad = 0;
    }
    printf("%s: %d cases\n", path, cases);
    lh_buf_release(&rewritten);
    free(text);
    return bad;
}

static void
test_golden(void **state)
{
    (void)state;
    find_golden();
    bool update = getenv("LH_GOLDEN_UPDATE") != NULL;
    DIR *d = opendir(golden_dir);
    assert_non_null(d);
    struct dirent *e;
    int bad = 0, files = 0;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 4 || strcmp(e->d_name + l - 4, ".txt") != 0) {
            continue;
        }
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", golden_dir, e->d_name);
        bad += run_file(path, update);
        files++;
    }
    closedir(d);
    assert_true(files > 0);
    assert_int_equal(bad, 0);
}

static void
test_keywords_sorted(void **state)
{
    (void)state;
    for (int k = 2; k < LH_KW_COUNT_; k++) {
        const char *a = lh_sql_keyword_text((lh_kw)(k - 1));
        const char *b = lh_sql_keyword_text((lh_kw)k);
        if (strcmp(a, b) >= 0) {
            fail_msg("keywords out of order: %s >= %s", a, b);
        }
        char low[32];
        size_t n = strlen(b);
        for (size_t i = 0; i <= n; i++) {
            low[i] = (char)(b[i] >= 'A' && b[i] <= 'Z' ? b[i] + 32 : b[i]);
        }
        bool reserved;
        assert_int_equal(lh_sql_keyword(low, n, &reserved), k);
    }
}

static void
test_deep_nesting(void **state)
{
    (void)state;
    /* 100,000 parentheses: refused with LH_ELIMIT, no stack overflow */
    size_t n = 100000;
    char *sql = malloc(2 * n + 16);
    assert_non_null(sql);
    strcpy(sql, "SELECT ");
    memset(sql + 7, '(', n);
    sql[7 + n] = '1';
    memset(sql + 8 + n, ')', n);
    sql[8 + 2 * n] = 0;
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_err err;
    lh_sql_stmt *stmts;
    uint32_t cnt;
    assert_int_equal(
        lh_sql_parse(sql, strlen(sql), NULL, &a, &stmts, &cnt, &err),
        LH_ELIMIT);
    lh_arena_reset(&a);
    /* and a deep run of unary minus and NOT */
    strcpy(sql, "SELECT ");
    for (size_t i = 0; i < n; i++) {
        sql[7 + i] = (i & 1) ? '-' : '~';
    }
    strcpy(sql + 7 + n, "1");
    assert_int_equal(
        lh_sql_parse(sql, strlen(sql), NULL, &a, &stmts, &cnt, &err),
        LH_ELIMIT);
    /* and nested subqueries that the parser must not try twice */
    lh_arena_reset(&a);
    size_t depth = 100;
    lh_buf b = LH_BUF_INIT;
    lh_buf_puts(&b, "SELECT ");
    for (size_t i = 0; i < depth; i++) {
        lh_buf_puts(&b, "((SELECT 1)+");
    }
    lh_buf_puts(&b, "1");
    for (size_t i = 0; i < depth; i++) {
        lh_buf_puts(&b, ")");
    }
    assert_int_equal(lh_sql_parse(b.data, b.len, NULL, &a, &stmts, &cnt, &err),
                     LH_OK);
    lh_buf_release(&b);
    lh_arena_release(&a);
    free(sql);
}

static void
test_alloc_failures(void **state)
{
    (void)state;
    const char *sql =
        "WITH c(x) AS (SELECT 1) SELECT DISTINCT a, count(*) FILTER (WHERE "
        "b > 1) OVER (PARTITION BY a ORDER BY b ROWS BETWEEN 1 PRECEDING AND "
        "CURRENT ROW) FROM t JOIN u USING (a) WHERE a IN (1, 2) AND b LIKE "
        "'x%' GROUP BY ROLLUP (a, b) HAVING sum(b) > 2 ORDER BY 1 DESC NULLS "
        "LAST LIMIT 10; INSERT INTO t (a) VALUES (1), (2); CREATE TABLE x (a "
        "INT NOT NULL, b VARCHAR(30)) WITH (shards = 4)";
    for (uint64_t k = 1;; k++) {
        lh_arena a;
        lh_arena_init(&a, 0);
        lh_err err;
        lh_sql_stmt *stmts;
        uint32_t n;
        lh_alloc_fail_at(k, false);
        lh_rc rc = lh_sql_parse(sql, strlen(sql), NULL, &a, &stmts, &n, &err);
        lh_alloc_fail_at(0, false);
        lh_arena_release(&a);
        if (rc == LH_OK) {
            assert_int_equal(n, 3);
            break;
        }
        assert_int_equal(rc, LH_ENOMEM);
        assert_true(k < 10000);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_keywords_sorted),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
