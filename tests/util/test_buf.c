/* Unit tests: lh_buf. */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "util/util.h"

static int
reset_injection(void **state)
{
    (void)state;
    lh_alloc_fail_at(0, false);
    return 0;
}

static void
test_empty(void **state)
{
    (void)state;
    lh_buf b = LH_BUF_INIT;
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_true(lh_buf_ok(&b));
    size_t len = 99;
    char *s = lh_buf_take(&b, &len);
    assert_non_null(s);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    lh_free(s);
    lh_buf_release(&b);
    lh_buf_release(&b); /* twice is fine */
}

static void
test_appends(void **state)
{
    (void)state;
    lh_buf b;
    lh_buf_init(&b);
    assert_int_equal(lh_buf_puts(&b, "abc"), LH_OK);
    assert_string_equal(b.data, "abc");
    assert_int_equal(lh_buf_putc(&b, 'd'), LH_OK);
    assert_int_equal(lh_buf_append(&b, "efgh", 2), LH_OK);
    assert_int_equal(lh_buf_append(&b, NULL, 0), LH_OK);
    assert_int_equal(lh_buf_printf(&b, "-%d-%s", 42, "x"), LH_OK);
    assert_string_equal(b.data, "abcdef-42-x");
    assert_int_equal(b.len, 11);
    assert_int_equal(b.data[b.len], '\0');
    assert_true(b.cap > b.len);

    /* Binary data with NULs. */
    assert_int_equal(lh_buf_append(&b, "\0\1", 2), LH_OK);
    assert_int_equal(b.len, 13);
    assert_int_equal(b.data[11], 0);
    assert_int_equal(b.data[12], 1);
    assert_int_equal(b.data[13], 0);
    lh_buf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.cap, 0);
}

static void
test_growth_and_long_printf(void **state)
{
    (void)state;
    lh_buf b = LH_BUF_INIT;
    for (int i = 0; i < 10000; i++) {
        assert_int_equal(lh_buf_printf(&b, "%05d,", i), LH_OK);
        assert_int_equal(b.data[b.len], '\0');
    }
    assert_int_equal(b.len, 60000);
    assert_memory_equal(b.data + 6 * 1234, "01234,", 6);

    char big[5000];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    lh_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    size_t cap = b.cap;
    assert_int_equal(lh_buf_printf(&b, "<%s>", big), LH_OK);
    assert_int_equal(b.len, 5001);
    assert_int_equal(b.data[0], '<');
    assert_int_equal(b.data[5000], '>');
    assert_int_equal(b.cap, cap); /* reset kept the capacity */

    /* A printf that does not fit the current room. */
    lh_buf c = LH_BUF_INIT;
    lh_buf_puts(&c, "x");
    assert_int_equal(lh_buf_printf(&c, "%s", big), LH_OK);
    assert_int_equal(c.len, 5000);
    assert_int_equal(strlen(c.data), 5000);
    lh_buf_release(&c);

    lh_buf d = LH_BUF_INIT;
    assert_int_equal(lh_buf_printf(&d, "%s", ""), LH_OK);
    assert_int_equal(d.len, 0);
    lh_buf_release(&d);
    lh_buf_release(&b);
}

static void
test_reserve(void **state)
{
    (void)state;
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_buf_reserve(&b, 1000), LH_OK);
    assert_true(b.cap >= 1001);
    char *before = b.data;
    for (int i = 0; i < 1000; i++) {
        lh_buf_putc(&b, 'a');
    }
    assert_ptr_equal(b.data, before); /* no reallocation */
    assert_int_equal(lh_buf_reserve(&b, SIZE_MAX), LH_ENOMEM);
    assert_false(lh_buf_ok(&b));
    lh_buf_release(&b);
}

static void
test_take(void **state)
{
    (void)state;
    lh_buf b = LH_BUF_INIT;
    lh_buf_puts(&b, "hello");
    size_t len = 0;
    char *s = lh_buf_take(&b, &len);
    assert_string_equal(s, "hello");
    assert_int_equal(len, 5);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    lh_free(s);

    /* Taken after a reset: an empty string. */
    lh_buf_puts(&b, "x");
    lh_buf_reset(&b);
    s = lh_buf_take(&b, NULL);
    assert_string_equal(s, "");
    lh_free(s);
}

static void
test_oom_sticky(void **state)
{
    (void)state;
    lh_buf b = LH_BUF_INIT;
    lh_buf_puts(&b, "keep");
    size_t cap = b.cap;
    lh_alloc_fail_at(1, false); /* only the next allocation fails */
    char big[200];
    memset(big, 'z', sizeof(big));
    assert_int_equal(lh_buf_append(&b, big, sizeof(big)), LH_ENOMEM);
    assert_false(lh_buf_ok(&b));
    /* Later appends fail although memory is back, even small ones. */
    assert_int_equal(lh_buf_putc(&b, 'a'), LH_ENOMEM);
    assert_int_equal(lh_buf_puts(&b, "b"), LH_ENOMEM);
    assert_int_equal(lh_buf_printf(&b, "%d", 1), LH_ENOMEM);
    assert_int_equal(lh_buf_reserve(&b, 1), LH_ENOMEM);
    assert_string_equal(b.data, "keep"); /* data untouched */
    assert_int_equal(b.len, 4);
    assert_int_equal(b.cap, cap);
    size_t len = 99;
    assert_null(lh_buf_take(&b, &len));
    assert_int_equal(len, 0);
    assert_true(lh_buf_ok(&b)); /* taken: a fresh buffer */
    lh_buf_release(&b);
}

static void
test_oom_printf_and_reset(void **state)
{
    (void)state;
    lh_buf b = LH_BUF_INIT;
    lh_buf_puts(&b, "ab");
    lh_alloc_fail_at(1, true);
    char big[300];
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(lh_buf_printf(&b, "%s", big), LH_ENOMEM);
    assert_string_equal(b.data, "ab"); /* the partial write was undone */
    assert_int_equal(b.len, 2);
    lh_alloc_fail_at(0, false);
    /* A reset in the middle of a run (a flush) keeps the failure. */
    lh_buf_reset(&b);
    assert_false(lh_buf_ok(&b));
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(lh_buf_puts(&b, "no"), LH_ENOMEM);
    assert_int_equal(b.len, 0);
    /* Release gives a fresh buffer. */
    lh_buf_release(&b);
    assert_true(lh_buf_ok(&b));
    assert_int_equal(lh_buf_puts(&b, "ok"), LH_OK);
    assert_string_equal(b.data, "ok");
    lh_buf_release(&b);

    /* The very first allocation failing. */
    lh_buf c = LH_BUF_INIT;
    lh_alloc_fail_at(1, false);
    assert_int_equal(lh_buf_putc(&c, 'x'), LH_ENOMEM);
    assert_null(c.data);
    assert_null(lh_buf_take(&c, NULL));
    /* And an empty take failing to allocate its "". */
    lh_alloc_fail_at(1, false);
    assert_null(lh_buf_take(&c, NULL));
    lh_buf_release(&c);
}

static void
test_oom_nth_in_long_run(void **state)
{
    (void)state;
    /* Fail the Nth allocation in a run of appends for every N that the run
     * reaches: the run ends with oom set and a consistent buffer. */
    for (uint64_t n = 1; n <= 12; n++) {
        lh_buf b = LH_BUF_INIT;
        lh_alloc_fail_at(n, false);
        for (int i = 0; i < 20000; i++) {
            lh_buf_printf(&b, "%d;", i);
        }
        lh_alloc_fail_at(0, false);
        assert_false(lh_buf_ok(&b));
        if (b.data != NULL) {
            assert_int_equal(strlen(b.data), b.len);
            assert_true(b.len < b.cap);
        }
        lh_buf_release(&b);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_growth_and_long_printf),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_take),
        cmocka_unit_test_teardown(test_oom_sticky, reset_injection),
        cmocka_unit_test_teardown(test_oom_printf_and_reset, reset_injection),
        cmocka_unit_test_teardown(test_oom_nth_in_long_run, reset_injection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
