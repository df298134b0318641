/* Unit tests: lh_err and lh_rc_name. */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/util.h"

static void
dirty(lh_err *e)
{
    memset(e, 0x5a, sizeof(*e));
    e->msg[sizeof(e->msg) - 1] = '\0';
    e->field[sizeof(e->field) - 1] = '\0';
}

static void
test_set_fills_and_resets(void **state)
{
    (void)state;
    lh_err e;
    dirty(&e);
    lh_rc rc = lh_err_set(&e, LH_EINVAL, "bad column \"%s\" at %d", "qty", 7);
    assert_int_equal(rc, LH_EINVAL);
    assert_int_equal(e.code, LH_EINVAL);
    assert_string_equal(e.msg, "bad column \"qty\" at 7");
    assert_int_equal(e.sys_errno, 0);
    assert_int_equal(e.http_status, 0);
    assert_int_equal(e.offset, -1);
    assert_int_equal(e.index, -1);
    assert_int_equal(e.current_version, -1);
    assert_string_equal(e.field, "");
}

static void
test_null_err_is_fine(void **state)
{
    (void)state;
    assert_int_equal(lh_err_set(NULL, LH_EIO, "x %d", 1), LH_EIO);
    assert_int_equal(lh_err_sys(NULL, LH_ENOSPC, ENOSPC, "write"), LH_ENOSPC);
    lh_err_prefix(NULL, "table \"%s\"", "t");
    lh_err_clear(NULL);
}

static void
test_sys_appends_strerror(void **state)
{
    (void)state;
    lh_err e;
    dirty(&e);
    lh_rc rc = lh_err_sys(&e, LH_EIO, ENOENT, "could not open \"%s\"", "/x");
    assert_int_equal(rc, LH_EIO);
    assert_int_equal(e.sys_errno, ENOENT);
    char want[256];
    snprintf(want, sizeof(want), "could not open \"/x\": %s", strerror(ENOENT));
    assert_string_equal(e.msg, want);
    assert_int_equal(e.offset, -1);
}

static void
test_prefix(void **state)
{
    (void)state;
    lh_err e;
    lh_err_set(&e, LH_ENOENT, "no such object");
    e.offset = 12;
    lh_err_prefix(&e, "manifest \"%s\"", "m1");
    assert_string_equal(e.msg, "manifest \"m1\": no such object");
    lh_err_prefix(&e, "table %d", 3);
    assert_string_equal(e.msg, "table 3: manifest \"m1\": no such object");
    assert_int_equal(e.code, LH_ENOENT);
    assert_int_equal(e.offset, 12); /* prefix keeps the other fields */

    lh_err_set(&e, LH_EIO, "%s", "");
    lh_err_prefix(&e, "outer");
    assert_string_equal(e.msg, "outer");
}

static void
test_long_messages_are_cut(void **state)
{
    (void)state;
    char big[2000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    lh_err e;
    lh_err_set(&e, LH_EINVAL, "%s", big);
    assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
    lh_err_prefix(&e, "p");
    assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
    assert_memory_equal(e.msg, "p: aaa", 6);
    lh_err_sys(&e, LH_EIO, EIO, "%s", big);
    assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
    lh_err_prefix(&e, "%s", big);
    assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
}

static void
test_clear(void **state)
{
    (void)state;
    lh_err e;
    lh_err_set(&e, LH_ECONFLICT, "conflict");
    e.current_version = 5;
    lh_err_clear(&e);
    assert_int_equal(e.code, LH_OK);
    assert_string_equal(e.msg, "");
    assert_int_equal(e.current_version, -1);
}

static void
test_rc_names(void **state)
{
    (void)state;
    assert_string_equal(lh_rc_name(LH_OK), "LH_OK");
    assert_string_equal(lh_rc_name(LH_ECONFLICT), "LH_ECONFLICT");
    assert_string_equal(lh_rc_name(LH_EINTERNAL), "LH_EINTERNAL");
    for (int i = 0; i <= LH_EINTERNAL; i++) {
        const char *n = lh_rc_name((lh_rc)i);
        assert_non_null(n);
        assert_true(strncmp(n, "LH_", 3) == 0);
        assert_string_not_equal(n, "LH_E?");
    }
    assert_string_equal(lh_rc_name((lh_rc)999), "LH_E?");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_fills_and_resets),
        cmocka_unit_test(test_null_err_is_fine),
        cmocka_unit_test(test_sys_appends_strerror),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_long_messages_are_cut),
        cmocka_unit_test(test_clear),
        cmocka_unit_test(test_rc_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
