/* Unit tests: lh_arena. */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
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
test_alignment_and_no_overlap(void **state)
{
    (void)state;
    lh_arena a;
    lh_arena_init(&a, 0);
    enum { N = 3000 };
    unsigned char *ptrs[N];
    size_t sizes[N];
    for (int i = 0; i < N; i++) {
        sizes[i] = (size_t)(i % 97) + 1;
        ptrs[i] = lh_arena_alloc(&a, sizes[i]);
        assert_non_null(ptrs[i]);
        assert_int_equal((uintptr_t)ptrs[i] % 16, 0);
        memset(ptrs[i], i & 0xff, sizes[i]);
    }
    for (int i = 0; i < N; i++) {
        for (size_t j = 0; j < sizes[i]; j++) {
            assert_int_equal(ptrs[i][j], i & 0xff);
        }
    }
    assert_true(a.used >= 3000);
    assert_true(a.held >= a.used);
    lh_arena_release(&a);
    assert_null(a.head);
    assert_int_equal(a.held, 0);
    assert_int_equal(a.used, 0);
}

static void
test_random_sizes(void **state)
{
    (void)state;
    lh_arena a;
    lh_arena_init(&a, 0);
    srand(42);
    enum { N = 5000 };
    unsigned char **ptrs = calloc(N, sizeof(*ptrs));
    size_t *sizes = calloc(N, sizeof(*sizes));
    assert_non_null(ptrs);
    assert_non_null(sizes);
    size_t want_used = 0;
    for (int i = 0; i < N; i++) {
        /* Mostly small, sometimes past a block. */
        sizes[i] =
            (i % 50 == 0) ? (size_t)(rand() % 300000) : (size_t)(rand() % 600);
        ptrs[i] = lh_arena_alloc(&a, sizes[i]);
        assert_non_null(ptrs[i]);
        assert_int_equal((uintptr_t)ptrs[i] % 16, 0);
        memset(ptrs[i], (i * 7) & 0xff, sizes[i]);
        want_used += sizes[i] ? (sizes[i] + 15) / 16 * 16 : 16;
    }
    for (int i = 0; i < N; i++) {
        for (size_t j = 0; j < sizes[i]; j++) {
            if (ptrs[i][j] != ((i * 7) & 0xff)) {
                fail_msg("allocation %d byte %zu overwritten", i, j);
            }
        }
    }
    assert_int_equal(a.used, want_used);
    assert_true(a.held >= a.used);
    free(ptrs);
    free(sizes);
    lh_arena_release(&a);
}

static void
test_zero_and_huge(void **state)
{
    (void)state;
    lh_arena a;
    lh_arena_init(&a, 0);
    void *p = lh_arena_alloc(&a, 0);
    void *q = lh_arena_alloc(&a, 0);
    assert_non_null(p);
    assert_non_null(q);
    assert_ptr_not_equal(p, q);
    assert_null(lh_arena_alloc(&a, SIZE_MAX));
    assert_null(lh_arena_alloc(&a, SIZE_MAX / 2 + 1));
    lh_arena_release(&a);
}

static void
test_budget_exceeded(void **state)
{
    (void)state;
    const size_t budget = 64 * 1024;
    lh_arena a;
    lh_arena_init(&a, budget);
    size_t got = 0;
    for (;;) {
        void *p = lh_arena_alloc(&a, 1000);
        if (p == NULL) {
            break;
        }
        got += 1000;
        assert_true(a.held <= budget);
        assert_true(got < 10 * budget); /* must stop at some point */
    }
    assert_true(a.held <= budget);
    /* Most of the budget was usable, not lost to block rounding. */
    assert_true(got >= budget * 3 / 4);
    assert_null(lh_arena_alloc(&a, 1000));
    assert_null(lh_arena_alloc(&a, budget)); /* one large block, too big */

    lh_arena_reset(&a);
    assert_int_equal(a.used, 0);
    assert_non_null(lh_arena_alloc(&a, 1000));
    lh_arena_release(&a);
}

static void
test_budget_large_request(void **state)
{
    (void)state;
    lh_arena a;
    lh_arena_init(&a, 100 * 1000);
    assert_null(lh_arena_alloc(&a, 200 * 1000));
    assert_int_equal(a.held, 0);
    void *p = lh_arena_alloc(&a, 60 * 1000);
    assert_non_null(p);
    memset(p, 1, 60 * 1000);
    assert_null(lh_arena_alloc(&a, 60 * 1000));
    assert_true(a.held <= 100 * 1000);
    lh_arena_release(&a);
}

static void
test_budget_below_block_size(void **state)
{
    (void)state;
    /* A budget under the 8 KiB block still serves what fits. */
    lh_arena a;
    lh_arena_init(&a, 4096);
    char *p = lh_arena_alloc(&a, 100);
    assert_non_null(p);
    memset(p, 'x', 100);
    assert_true(a.held <= 4096);
    assert_null(lh_arena_alloc(&a, 5000));
    lh_arena_release(&a);
}

static void
test_large_gets_own_block(void **state)
{
    (void)state;
    lh_arena a;
    lh_arena_init(&a, 0);
    char *s1 = lh_arena_alloc(&a, 16);
    size_t held1 = a.held;
    char *big = lh_arena_alloc(&a, 1 << 20);
    assert_non_null(big);
    memset(big, 0xab, 1 << 20);
    assert_true(a.held >= held1 + (1 << 20));
    /* The small block keeps serving small requests. */
    char *s2 = lh_arena_alloc(&a, 16);
    assert_ptr_equal(s2, s1 + 16);
    lh_arena_release(&a);
}

static void
test_reset_keeps_first_block(void **state)
{
    (void)state;
    lh_arena a;
    lh_arena_init(&a, 0);
    char *first = lh_arena_alloc(&a, 32);
    size_t first_held = a.held;
    for (int i = 0; i < 10000; i++) {
        assert_non_null(lh_arena_alloc(&a, 100));
    }
    assert_non_null(lh_arena_alloc(&a, 500000));
    assert_true(a.held > first_held);
    lh_arena_reset(&a);
    assert_int_equal(a.used, 0);
    assert_int_equal(a.held, first_held);
    assert_non_null(a.head);
    char *again = lh_arena_alloc(&a, 32);
    assert_ptr_equal(again, first); /* the same memory, reused */
    lh_arena_reset(&a);
    lh_arena_reset(&a);
    assert_int_equal(a.held, first_held);
    lh_arena_release(&a);

    /* A first request that was large: reset keeps the normal block. */
    lh_arena_init(&a, 0);
    assert_non_null(lh_arena_alloc(&a, 100000));
    assert_non_null(lh_arena_alloc(&a, 10));
    lh_arena_reset(&a);
    assert_true(a.held > 0 && a.held < 100000);
    lh_arena_release(&a);

    /* Only large requests: reset frees everything. */
    lh_arena_init(&a, 0);
    assert_non_null(lh_arena_alloc(&a, 100000));
    lh_arena_reset(&a);
    assert_int_equal(a.held, 0);
    assert_null(a.head);
    assert_non_null(lh_arena_alloc(&a, 10));
    lh_arena_release(&a);
}

static void
test_malloc_failure(void **state)
{
    (void)state;
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_alloc_fail_at(1, true);
    assert_null(lh_arena_alloc(&a, 10));
    assert_null(lh_arena_alloc(&a, 100000));
    assert_null(lh_arena_strdup(&a, "x"));
    assert_int_equal(a.held, 0);
    lh_alloc_fail_at(0, false);
    assert_non_null(lh_arena_alloc(&a, 10));
    /* Fail the next block: the current one still serves what fits. */
    lh_alloc_fail_at(1, true);
    assert_non_null(lh_arena_alloc(&a, 10));
    assert_null(lh_arena_alloc(&a, 100000));
    lh_alloc_fail_at(0, false);
    lh_arena_release(&a);
}

static void
test_copies(void **state)
{
    (void)state;
    lh_arena a;
    lh_arena_init(&a, 0);
    unsigned char *z = lh_arena_calloc(&a, 300);
    assert_non_null(z);
    for (int i = 0; i < 300; i++) {
        assert_int_equal(z[i], 0);
    }
    /* calloc really zeroes reused memory. */
    memset(z, 0xff, 300);
    lh_arena_reset(&a);
    z = lh_arena_calloc(&a, 300);
    for (int i = 0; i < 300; i++) {
        assert_int_equal(z[i], 0);
    }
    assert_string_equal(lh_arena_strdup(&a, "hello"), "hello");
    assert_string_equal(lh_arena_strdup(&a, ""), "");
    assert_string_equal(lh_arena_strndup(&a, "hello", 2), "he");
    assert_string_equal(lh_arena_strndup(&a, "hi", 99), "hi");
    const char raw[4] = {'a', 'b', 'c', 'd'};
    assert_string_equal(lh_arena_strndup(&a, raw, 4), "abcd");
    int src[5] = {1, 2, 3, 4, 5};
    int *d = lh_arena_memdup(&a, src, sizeof(src));
    assert_memory_equal(d, src, sizeof(src));
    assert_ptr_not_equal(d, src);
    assert_non_null(lh_arena_memdup(&a, src, 0));
    lh_arena_release(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_and_no_overlap),
        cmocka_unit_test(test_random_sizes),
        cmocka_unit_test(test_zero_and_huge),
        cmocka_unit_test(test_budget_exceeded),
        cmocka_unit_test(test_budget_large_request),
        cmocka_unit_test(test_budget_below_block_size),
        cmocka_unit_test(test_large_gets_own_block),
        cmocka_unit_test(test_reset_keeps_first_block),
        cmocka_unit_test_teardown(test_malloc_failure, reset_injection),
        cmocka_unit_test(test_copies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
