/*
 * lh_session_confine: a confined session's read_parquet and iceberg_scan
 * read only files under its root (links resolved), with one message for a
 * file outside whether it exists or not, and the confinement can narrow
 * but never widen. The files are written by COPY in an unconfined
 * session.
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
#include <sys/stat.h>
#include <unistd.h>

#include "lakehouse.h"

typedef struct fixture {
    char top[64];     /* holds both directories */
    char inside[96];  /* the root a session is confined to */
    char outside[96]; /* beside it */
} fixture;

static lh_session *
session(void)
{
    lh_session *s = NULL;
    lh_err err;
    assert_int_equal(lh_session_open(NULL, NULL, &s, &err), LH_OK);
    return s;
}

/* Runs sql in s; the code, with err filled. */
static lh_rc
run(lh_session *s, const char *sql, lh_err *err)
{
    FILE *f = fopen("/dev/null", "w");
    assert_non_null(f);
    lh_rc rc = lh_sql_run(s, sql, "csv", f, err);
    fclose(f);
    return rc;
}

static void
copy_to(lh_session *s, const char *path)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "COPY (SELECT x FROM generate_series(1, 10) t(x)) TO '%s'", path);
    lh_err err;
    if (run(s, sql, &err) != LH_OK) {
        fail_msg("%s: %s", sql, err.msg);
    }
}

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    snprintf(f->top, sizeof f->top, "/tmp/lh_confine_XXXXXX");
    assert_non_null(mkdtemp(f->top));
    snprintf(f->inside, sizeof f->inside, "%s/data", f->top);
    snprintf(f->outside, sizeof f->outside, "%s/other", f->top);
    assert_int_equal(mkdir(f->inside, 0755), 0);
    assert_int_equal(mkdir(f->outside, 0755), 0);
    lh_session *s = session();
    char p[160];
    snprintf(p, sizeof p, "%s/a.parquet", f->inside);
    copy_to(s, p);
    snprintf(p, sizeof p, "%s/secret.parquet", f->outside);
    copy_to(s, p);
    lh_session_close(s);
    /* a link inside that leads out */
    char link[160];
    snprintf(p, sizeof p, "%s/secret.parquet", f->outside);
    snprintf(link, sizeof link, "%s/link.parquet", f->inside);
    assert_int_equal(symlink(p, link), 0);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->top);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* sql (with one %s for f->top) in s: LH_OK, or refused with the
 * permission message naming fn. */
static void
expect(lh_session *s, const fixture *f, const char *fmt, bool allowed)
{
    char sql[512];
    snprintf(sql, sizeof sql, fmt, f->top);
    lh_err err;
    lh_rc rc = run(s, sql, &err);
    if (allowed && rc != LH_OK) {
        fail_msg("%s: %s", sql, err.msg);
    }
    if (!allowed && (rc != LH_EREADONLY ||
                     strstr(err.msg, "permission denied: ") != err.msg)) {
        fail_msg("%s: got %s \"%s\", want a permission error", sql,
                 lh_rc_name(rc), rc == LH_OK ? "" : err.msg);
    }
}

static void
test_confined_reads(void **state)
{
    fixture *f = *state;
    lh_session *s = session();
    lh_err err;
    /* unconfined: everything */
    expect(s, f, "SELECT count(*) FROM read_parquet('%s/other/secret.parquet')",
           true);
    assert_int_equal(lh_session_confine(s, f->inside, &err), LH_OK);
    expect(s, f, "SELECT count(*) FROM read_parquet('%s/data/a.parquet')",
           true);
    expect(s, f, "SELECT count(*) FROM read_parquet('%s/data/*.parquet')",
           false); /* the glob matches the link that leads out */
    expect(s, f, "SELECT count(*) FROM read_parquet('%s/data/a*.parquet')",
           true);
    expect(s, f, "SELECT count(*) FROM read_parquet('%s/other/secret.parquet')",
           false);
    expect(s, f, "SELECT count(*) FROM read_parquet('%s/data/../other/*')",
           false);
    expect(s, f, "SELECT count(*) FROM read_parquet('%s/data/link.parquet')",
           false);
    expect(s, f, "SELECT count(*) FROM read_parquet('/etc/passwd')", false);
    expect(s, f, "SELECT * FROM iceberg_scan('%s/other')", false);
    expect(s, f, "SELECT * FROM read_parquet('s3://bucket/x.parquet')", false);
    /* the same words whether the file outside exists or not */
    char sql[256];
    lh_err e1, e2;
    snprintf(sql, sizeof sql, "SELECT * FROM read_parquet('%s/other/*')",
             f->top);
    assert_int_equal(run(s, sql, &e1), LH_EREADONLY);
    snprintf(sql, sizeof sql, "SELECT * FROM read_parquet('%s/nosuch/*')",
             f->top);
    assert_int_equal(run(s, sql, &e2), LH_EREADONLY);
    assert_non_null(strstr(e1.msg, "may read only files under"));
    assert_non_null(strstr(e2.msg, "may read only files under"));
    /* generate_series reads no file */
    expect(s, f, "SELECT count(*) FROM generate_series(1, 3)", true);
    lh_session_close(s);
}

static void
test_narrow_not_widen(void **state)
{
    fixture *f = *state;
    lh_session *s = session();
    lh_err err;
    assert_int_equal(lh_session_confine(s, "/nosuch/dir", &err), LH_EINVAL);
    assert_int_equal(lh_session_confine(s, f->top, &err), LH_OK);
    expect(s, f, "SELECT count(*) FROM read_parquet('%s/other/secret.parquet')",
           true);
    assert_int_equal(lh_session_confine(s, f->inside, &err), LH_OK);
    expect(s, f, "SELECT count(*) FROM read_parquet('%s/other/secret.parquet')",
           false);
    assert_int_equal(lh_session_confine(s, f->top, &err), LH_EINVAL);
    assert_int_equal(lh_session_confine(s, "/", &err), LH_EINVAL);
    expect(s, f, "SELECT count(*) FROM read_parquet('%s/other/secret.parquet')",
           false);
    assert_int_equal(lh_session_confine(s, NULL, &err), LH_OK);
    expect(s, f, "SELECT count(*) FROM read_parquet('%s/data/a.parquet')",
           false);
    assert_int_equal(lh_session_confine(s, f->inside, &err), LH_EINVAL);
    lh_session_close(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_confined_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_narrow_not_widen, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
