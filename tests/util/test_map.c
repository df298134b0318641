/* Unit tests: lh_map and lh_hash64. */
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

#include <xxhash.h>

#include "util/util.h"

static int
reset_injection(void **state)
{
    (void)state;
    lh_alloc_fail_at(0, false);
    return 0;
}

static void
test_hash(void **state)
{
    (void)state;
    /* XXH3-64 of the empty input, from the xxHash reference. */
    assert_int_equal(lh_hash64("", 0), UINT64_C(0x2D06800538D394C2));
    assert_int_equal(lh_hash64("abc", 3), XXH3_64bits("abc", 3));
    assert_int_not_equal(lh_hash64("abc", 3), lh_hash64("abd", 3));
}

static void
test_basic(void **state)
{
    (void)state;
    lh_map m;
    lh_map_init(&m);
    int one = 1, two = 2, three = 3;
    assert_null(lh_map_get(&m, "a", 1));
    assert_false(lh_map_has(&m, "a", 1));
    assert_null(lh_map_del(&m, "a", 1));

    void *old = &one;
    assert_int_equal(lh_map_put(&m, "a", 1, &one, &old), LH_OK);
    assert_null(old);
    assert_int_equal(lh_map_put(&m, "b", 1, &two, NULL), LH_OK);
    assert_ptr_equal(lh_map_get(&m, "a", 1), &one);
    assert_ptr_equal(lh_map_get(&m, "b", 1), &two);
    assert_int_equal(m.count, 2);

    assert_int_equal(lh_map_put(&m, "a", 1, &three, &old), LH_OK);
    assert_ptr_equal(old, &one);
    assert_ptr_equal(lh_map_get(&m, "a", 1), &three);
    assert_int_equal(m.count, 2);

    /* Keys are byte strings: a prefix is another key. */
    assert_null(lh_map_get(&m, "ab", 2));
    assert_null(lh_map_get(&m, "a", 0));

    assert_ptr_equal(lh_map_del(&m, "a", 1), &three);
    assert_false(lh_map_has(&m, "a", 1));
    assert_null(lh_map_del(&m, "a", 1));
    assert_int_equal(m.count, 1);
    lh_map_release(&m);
    assert_int_equal(m.count, 0);
    assert_null(m.slots);
}

static void
test_keys_are_copied(void **state)
{
    (void)state;
    lh_map m;
    lh_map_init(&m);
    char key[8] = "temp";
    int v = 7;
    assert_int_equal(lh_map_put(&m, key, 4, &v, NULL), LH_OK);
    memcpy(key, "XXXX", 4);
    assert_ptr_equal(lh_map_get(&m, "temp", 4), &v);
    assert_null(lh_map_get(&m, "XXXX", 4));
    lh_map_release(&m);
}

static void
test_odd_keys_and_null_values(void **state)
{
    (void)state;
    lh_map m;
    lh_map_init(&m);
    int v = 1;
    assert_int_equal(lh_map_put(&m, "", 0, &v, NULL), LH_OK);
    assert_ptr_equal(lh_map_get(&m, "", 0), &v);
    assert_ptr_equal(lh_map_get(&m, NULL, 0), &v);
    const char bin1[3] = {0, 1, 0};
    const char bin2[3] = {0, 1, 1};
    assert_int_equal(lh_map_put(&m, bin1, 3, NULL, NULL), LH_OK);
    assert_true(lh_map_has(&m, bin1, 3)); /* has() tells NULL from absent */
    assert_null(lh_map_get(&m, bin1, 3));
    assert_false(lh_map_has(&m, bin2, 3));
    assert_int_equal(m.count, 2);
    lh_map_release(&m);
}

static char *
key_of(int i, char *buf, size_t *len)
{
    *len = (size_t)snprintf(buf, 32, "key-%d", i);
    return buf;
}

static void
test_100k_with_deletes(void **state)
{
    (void)state;
    enum { N = 100000 };
    lh_map m;
    lh_map_init(&m);
    /* present[i]: whether key i is in the map (reference model). */
    unsigned char *present = calloc(N, 1);
    assert_non_null(present);
    char kb[32];
    size_t kl;
    for (int i = 0; i < N; i++) {
        key_of(i, kb, &kl);
        assert_int_equal(
            lh_map_put(&m, kb, kl, (void *)(uintptr_t)(i + 1), NULL), LH_OK);
        present[i] = 1;
    }
    assert_int_equal(m.count, N);
    assert_true(m.count * 10 <= m.cap * 7);

    /* Delete every third, then re-add half of those with a new value. */
    size_t live = N;
    for (int i = 0; i < N; i += 3) {
        key_of(i, kb, &kl);
        assert_ptr_equal(lh_map_del(&m, kb, kl), (void *)(uintptr_t)(i + 1));
        present[i] = 0;
        live--;
    }
    assert_int_equal(m.count, live);
    for (int i = 0; i < N; i += 6) {
        key_of(i, kb, &kl);
        void *old = (void *)1;
        assert_int_equal(
            lh_map_put(&m, kb, kl, (void *)(uintptr_t)(i + 2), &old), LH_OK);
        assert_null(old);
        present[i] = 2;
        live++;
    }
    assert_int_equal(m.count, live);

    /* Churn: many deletes and inserts of fresh keys, for the tombstones. */
    srand(7);
    for (int r = 0; r < 200000; r++) {
        int i = rand() % N;
        key_of(i, kb, &kl);
        if (present[i]) {
            assert_non_null(lh_map_del(&m, kb, kl));
            present[i] = 0;
            live--;
        } else {
            assert_int_equal(
                lh_map_put(&m, kb, kl, (void *)(uintptr_t)(i + 3), NULL),
                LH_OK);
            present[i] = 3;
            live++;
        }
    }
    assert_int_equal(m.count, live);
    assert_true((m.count + m.tombs) * 10 <= m.cap * 7);

    for (int i = 0; i < N; i++) {
        key_of(i, kb, &kl);
        void *got = lh_map_get(&m, kb, kl);
        if (present[i]) {
            if (got != (void *)(uintptr_t)(i + present[i])) {
                fail_msg("key %d: got %p want %d", i, got, i + present[i]);
            }
        } else if (got != NULL || lh_map_has(&m, kb, kl)) {
            fail_msg("key %d: deleted but found", i);
        }
    }

    /* Iteration visits each live key once, with its value. */
    unsigned char *seen = calloc(N, 1);
    assert_non_null(seen);
    size_t it = 0, n = 0;
    const void *k;
    size_t klen;
    void *v;
    while (lh_map_next(&m, &it, &k, &klen, &v)) {
        char tmp[32];
        assert_true(klen < sizeof(tmp));
        memcpy(tmp, k, klen);
        tmp[klen] = '\0';
        int i = atoi(tmp + 4);
        assert_true(i >= 0 && i < N);
        assert_true(present[i]);
        assert_false(seen[i]);
        assert_ptr_equal(v, (void *)(uintptr_t)(i + present[i]));
        seen[i] = 1;
        n++;
    }
    assert_int_equal(n, live);
    assert_false(lh_map_next(&m, &it, &k, &klen, &v)); /* stays done */
    free(seen);
    free(present);
    lh_map_release(&m);
}

static void
test_delete_while_iterating(void **state)
{
    (void)state;
    lh_map m;
    lh_map_init(&m);
    char kb[32];
    size_t kl;
    for (int i = 0; i < 1000; i++) {
        key_of(i, kb, &kl);
        assert_int_equal(
            lh_map_put(&m, kb, kl, (void *)(uintptr_t)(i + 1), NULL), LH_OK);
    }
    size_t it = 0, visited = 0;
    const void *k;
    size_t klen;
    void *v;
    while (lh_map_next(&m, &it, &k, &klen, &v)) {
        uintptr_t i = (uintptr_t)v - 1;
        visited++;
        if (i % 2 == 0) {
            char copy[32];
            memcpy(copy, k, klen);
            assert_ptr_equal(lh_map_del(&m, copy, klen), v);
        }
    }
    assert_int_equal(visited, 1000);
    assert_int_equal(m.count, 500);
    it = 0;
    size_t left = 0;
    while (lh_map_next(&m, &it, NULL, NULL, &v)) {
        assert_int_equal(((uintptr_t)v - 1) % 2, 1);
        left++;
    }
    assert_int_equal(left, 500);
    lh_map_release(&m);

    /* An empty map iterates zero times. */
    lh_map_init(&m);
    it = 0;
    assert_false(lh_map_next(&m, &it, &k, &klen, &v));
}

static void
test_put_oom_leaves_map_unchanged(void **state)
{
    (void)state;
    lh_map m;
    lh_map_init(&m);
    char kb[32];
    size_t kl;
    int fails = 0;
    /* Fail each allocation once in turn while filling: every put either
     * succeeds or leaves the map as it was. */
    for (int i = 0; i < 2000; i++) {
        key_of(i, kb, &kl);
        size_t before = m.count;
        lh_alloc_fail_at(1, false);
        lh_rc rc = lh_map_put(&m, kb, kl, (void *)(uintptr_t)(i + 1), NULL);
        lh_alloc_fail_at(0, false);
        if (rc == LH_ENOMEM) {
            fails++;
            assert_int_equal(m.count, before);
            assert_false(lh_map_has(&m, kb, kl));
            rc = lh_map_put(&m, kb, kl, (void *)(uintptr_t)(i + 1), NULL);
        }
        assert_int_equal(rc, LH_OK);
    }
    assert_int_equal(fails, 2000); /* each new key allocates */
    for (int i = 0; i < 2000; i++) {
        key_of(i, kb, &kl);
        assert_ptr_equal(lh_map_get(&m, kb, kl), (void *)(uintptr_t)(i + 1));
    }
    /* The second allocation failing: the key copy after a rebuild. */
    int second = 0;
    for (int i = 2000; i < 20000; i++) {
        key_of(i, kb, &kl);
        size_t before = m.count;
        lh_alloc_fail_at(2, false);
        lh_rc rc = lh_map_put(&m, kb, kl, (void *)(uintptr_t)(i + 1), NULL);
        lh_alloc_fail_at(0, false);
        if (rc == LH_ENOMEM) {
            second++;
            assert_int_equal(m.count, before);
            assert_false(lh_map_has(&m, kb, kl));
            rc = lh_map_put(&m, kb, kl, (void *)(uintptr_t)(i + 1), NULL);
        }
        assert_int_equal(rc, LH_OK);
    }
    assert_true(second > 0); /* the map grew a few times on the way */
    for (int i = 0; i < 20000; i++) {
        key_of(i, kb, &kl);
        assert_ptr_equal(lh_map_get(&m, kb, kl), (void *)(uintptr_t)(i + 1));
    }
    /* Replacing needs no memory. */
    lh_alloc_fail_at(1, true);
    key_of(5, kb, &kl);
    assert_int_equal(lh_map_put(&m, kb, kl, NULL, NULL), LH_OK);
    lh_alloc_fail_at(0, false);
    lh_map_release(&m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_keys_are_copied),
        cmocka_unit_test(test_odd_keys_and_null_values),
        cmocka_unit_test(test_100k_with_deletes),
        cmocka_unit_test(test_delete_while_iterating),
        cmocka_unit_test_teardown(test_put_oom_leaves_map_unchanged,
                                  reset_injection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
