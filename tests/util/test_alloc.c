/* Unit tests: lh_malloc and friends, fault injection. */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
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
test_basic(void **state)
{
    (void)state;
    char *p = lh_malloc(10);
    assert_non_null(p);
    memset(p, 'x', 10);
    p = lh_realloc(p, 1000);
    assert_non_null(p);
    assert_int_equal(p[9], 'x');
    lh_free(p);
    lh_free(NULL);

    int *z = lh_calloc(100, sizeof(int));
    assert_non_null(z);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(z[i], 0);
    }
    lh_free(z);

    /* Zero sizes still give a live block: NULL only means failure. */
    void *m0 = lh_malloc(0);
    assert_non_null(m0);
    m0 = lh_realloc(m0, 0);
    assert_non_null(m0);
    lh_free(m0);
    void *c0 = lh_calloc(0, 8);
    assert_non_null(c0);
    lh_free(c0);
    void *r = lh_realloc(NULL, 16);
    assert_non_null(r);
    lh_free(r);
}

static void
test_calloc_overflow(void **state)
{
    (void)state;
    assert_null(lh_calloc(SIZE_MAX / 2, 4));
}

static void
test_strdup(void **state)
{
    (void)state;
    char *s = lh_strdup("hello");
    assert_string_equal(s, "hello");
    lh_free(s);
    s = lh_strndup("hello", 3);
    assert_string_equal(s, "hel");
    lh_free(s);
    s = lh_strndup("hi", 10);
    assert_string_equal(s, "hi");
    lh_free(s);
    s = lh_strdup("");
    assert_string_equal(s, "");
    lh_free(s);
    /* strndup reads no further than n: a non-terminated source is fine. */
    char raw[3] = {'a', 'b', 'c'};
    s = lh_strndup(raw, sizeof(raw));
    assert_string_equal(s, "abc");
    lh_free(s);
}

static void
test_fail_nth_once(void **state)
{
    (void)state;
    void *p[6];
    lh_alloc_fail_at(3, false);
    for (int i = 0; i < 6; i++) {
        p[i] = lh_malloc(8);
    }
    assert_non_null(p[0]);
    assert_non_null(p[1]);
    assert_null(p[2]);
    assert_non_null(p[3]);
    assert_non_null(p[4]);
    assert_non_null(p[5]);
    for (int i = 0; i < 6; i++) {
        lh_free(p[i]);
    }
}

static void
test_fail_sticky_all_kinds(void **state)
{
    (void)state;
    lh_alloc_fail_at(2, true);
    void *a = lh_malloc(8);
    assert_non_null(a);
    assert_null(lh_malloc(8));
    assert_null(lh_calloc(1, 8));
    assert_null(lh_strdup("x"));
    assert_null(lh_strndup("xy", 1));
    void *b = lh_realloc(a, 64);
    assert_null(b); /* a is untouched */
    lh_alloc_fail_at(0, false);
    b = lh_realloc(a, 64);
    assert_non_null(b);
    lh_free(b);
}

static void
test_fail_first(void **state)
{
    (void)state;
    lh_alloc_fail_at(1, false);
    assert_null(lh_malloc(1));
    void *p = lh_malloc(1);
    assert_non_null(p);
    lh_free(p);
}

static void
test_rearm_restarts_count(void **state)
{
    (void)state;
    lh_alloc_fail_at(2, false);
    void *a = lh_malloc(1);
    assert_non_null(a);
    lh_alloc_fail_at(2, false); /* counted from now again */
    void *b = lh_malloc(1);
    assert_non_null(b);
    assert_null(lh_malloc(1));
    lh_free(a);
    lh_free(b);
}

#define NTHREADS 8
#define PER_THREAD 5000

static atomic_int failures;

static void *
alloc_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        void *p = lh_malloc(16);
        if (p == NULL) {
            atomic_fetch_add(&failures, 1);
        }
        lh_free(p);
    }
    return NULL;
}

static int
run_threads(void)
{
    pthread_t th[NTHREADS];
    atomic_store(&failures, 0);
    for (int i = 0; i < NTHREADS; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, alloc_worker, NULL), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
    }
    return atomic_load(&failures);
}

static void
test_threads_exactly_one_failure(void **state)
{
    (void)state;
    lh_alloc_fail_at(NTHREADS * PER_THREAD / 2, false);
    assert_int_equal(run_threads(), 1);
    lh_alloc_fail_at(0, false);
    assert_int_equal(run_threads(), 0);
}

static void
test_threads_sticky_count(void **state)
{
    (void)state;
    int total = NTHREADS * PER_THREAD;
    lh_alloc_fail_at(1001, true);
    assert_int_equal(run_threads(), total - 1000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_basic, reset_injection),
        cmocka_unit_test_teardown(test_calloc_overflow, reset_injection),
        cmocka_unit_test_teardown(test_strdup, reset_injection),
        cmocka_unit_test_teardown(test_fail_nth_once, reset_injection),
        cmocka_unit_test_teardown(test_fail_sticky_all_kinds, reset_injection),
        cmocka_unit_test_teardown(test_fail_first, reset_injection),
        cmocka_unit_test_teardown(test_rearm_restarts_count, reset_injection),
        cmocka_unit_test_teardown(test_threads_exactly_one_failure,
                                  reset_injection),
        cmocka_unit_test_teardown(test_threads_sticky_count, reset_injection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
