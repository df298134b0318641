/* Unit tests: UUIDs. */
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

#include "util/util.h"

static int
version_of(const lh_uuid *u)
{
    return u->b[6] >> 4;
}

static int
variant_bits(const lh_uuid *u)
{
    return u->b[8] >> 6; /* 0b10 for RFC 9562 */
}

static int64_t
ms_of(const lh_uuid *u)
{
    int64_t ms = 0;
    for (int i = 0; i < 6; i++) {
        ms = (ms << 8) | u->b[i];
    }
    return ms;
}

static int
cmp_uuid(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(lh_uuid));
}

static void
test_v4(void **state)
{
    (void)state;
    enum { N = 2000 };
    lh_uuid *ids = calloc(N, sizeof(*ids));
    assert_non_null(ids);
    for (int i = 0; i < N; i++) {
        assert_int_equal(lh_uuid_v4(&ids[i], NULL), LH_OK);
        assert_int_equal(version_of(&ids[i]), 4);
        assert_int_equal(variant_bits(&ids[i]), 2);
        assert_false(lh_uuid_is_nil(&ids[i]));
    }
    qsort(ids, N, sizeof(*ids), cmp_uuid);
    for (int i = 1; i < N; i++) {
        assert_int_not_equal(cmp_uuid(&ids[i - 1], &ids[i]), 0);
    }
    free(ids);
}

static void
test_v7_layout(void **state)
{
    (void)state;
    /* The timestamp of RFC 9562's v7 example, 017F22E2-79B0-7CC3-... */
    const int64_t ms = INT64_C(0x017F22E279B0);
    lh_uuid u;
    assert_int_equal(lh_uuid_v7(&u, ms, NULL), LH_OK);
    const uint8_t want[6] = {0x01, 0x7f, 0x22, 0xe2, 0x79, 0xb0};
    assert_memory_equal(u.b, want, 6);
    assert_int_equal(ms_of(&u), ms);
    assert_int_equal(version_of(&u), 7);
    assert_int_equal(variant_bits(&u), 2);
    char text[LH_UUID_STRLEN + 1];
    lh_uuid_format(&u, text);
    assert_memory_equal(text, "017f22e2-79b0-7", 15);

    assert_int_equal(lh_uuid_v7(&u, 0, NULL), LH_OK);
    assert_int_equal(ms_of(&u), 0);

    lh_err e;
    assert_int_equal(lh_uuid_v7(&u, -1, &e), LH_EINVAL);
    assert_string_equal(e.msg, "uuid v7 time -1 ms out of range");
    assert_int_equal(lh_uuid_v7(&u, INT64_C(1) << 48, NULL), LH_EINVAL);
}

static void
test_v7_same_ms_increasing(void **state)
{
    (void)state;
    enum { N = 10000 };
    const int64_t ms = INT64_C(1767225600000) + 1000; /* fresh ms */
    lh_uuid prev, u;
    assert_int_equal(lh_uuid_v7(&prev, ms, NULL), LH_OK);
    for (int i = 0; i < N; i++) {
        assert_int_equal(lh_uuid_v7(&u, ms, NULL), LH_OK);
        assert_int_equal(ms_of(&u), ms);
        assert_int_equal(version_of(&u), 7);
        assert_int_equal(variant_bits(&u), 2);
        if (cmp_uuid(&prev, &u) >= 0) {
            char a[37], b[37];
            lh_uuid_format(&prev, a);
            lh_uuid_format(&u, b);
            fail_msg("id %d not increasing: %s then %s", i, a, b);
        }
        /* The text form sorts the same way. */
        char a[37], b[37];
        lh_uuid_format(&prev, a);
        lh_uuid_format(&u, b);
        assert_true(strcmp(a, b) < 0);
        prev = u;
    }
}

static void
test_v7_clock_increasing(void **state)
{
    (void)state;
    enum { N = 10000 };
    lh_uuid prev, u;
    assert_int_equal(lh_uuid_v7(&prev, lh_real_now() / 1000, NULL), LH_OK);
    for (int i = 0; i < N; i++) {
        assert_int_equal(lh_uuid_v7(&u, lh_real_now() / 1000, NULL), LH_OK);
        assert_true(cmp_uuid(&prev, &u) < 0);
        prev = u;
    }
}

static void
test_v7_earlier_ms(void **state)
{
    (void)state;
    /* Later than any ms used so far (year 6429). */
    const int64_t late = INT64_C(1) << 47;
    const int64_t early = late - 3000;
    lh_uuid a, b, b2, c;
    assert_int_equal(lh_uuid_v7(&a, late, NULL), LH_OK);
    /* An earlier ms keeps its own time and sorts before. */
    assert_int_equal(lh_uuid_v7(&b, early, NULL), LH_OK);
    assert_int_equal(ms_of(&b), early);
    assert_true(cmp_uuid(&b, &a) < 0);
    /* ... and does not disturb the count for the newest ms. */
    assert_int_equal(lh_uuid_v7(&c, late, NULL), LH_OK);
    assert_true(cmp_uuid(&a, &c) < 0);
    /* Repeated calls for the older ms count up too. */
    assert_int_equal(lh_uuid_v7(&b2, early, NULL), LH_OK);
    assert_true(cmp_uuid(&b, &b2) < 0);
    for (int i = 0; i < 1000; i++) {
        lh_uuid a2, c2;
        assert_int_equal(lh_uuid_v7(&a2, early, NULL), LH_OK);
        assert_int_equal(lh_uuid_v7(&c2, late, NULL), LH_OK);
        assert_true(cmp_uuid(&b2, &a2) < 0);
        assert_true(cmp_uuid(&c, &c2) < 0);
        b2 = a2;
        c = c2;
    }
}

/* Runs last: after one id for the last ms v7 can hold, ids from the clock
 * (now all older than the newest ms) still count up. */
static void
test_v7_after_far_future(void **state)
{
    (void)state;
    lh_uuid far, prev, u;
    assert_int_equal(lh_uuid_v7(&far, (INT64_C(1) << 48) - 1, NULL), LH_OK);
    assert_int_equal(ms_of(&far), (INT64_C(1) << 48) - 1);
    assert_int_equal(lh_uuid_v7(&prev, lh_real_now() / 1000, NULL), LH_OK);
    for (int i = 0; i < 10000; i++) {
        assert_int_equal(lh_uuid_v7(&u, lh_real_now() / 1000, NULL), LH_OK);
        assert_true(cmp_uuid(&prev, &u) < 0);
        assert_true(cmp_uuid(&u, &far) < 0);
        prev = u;
    }
    const int64_t ms = INT64_C(1767225600000) + 77;
    assert_int_equal(lh_uuid_v7(&prev, ms, NULL), LH_OK);
    for (int i = 0; i < 10000; i++) {
        assert_int_equal(lh_uuid_v7(&u, ms, NULL), LH_OK);
        assert_true(cmp_uuid(&prev, &u) < 0);
        prev = u;
    }
}

#define NTHREADS 4
#define PER_THREAD 5000
static const int64_t shared_ms = INT64_C(1767225600000) + 9000;

static void *
v7_worker(void *arg)
{
    lh_uuid *out = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        if (lh_uuid_v7(&out[i], shared_ms, NULL) != LH_OK) {
            return (void *)1;
        }
    }
    return NULL;
}

static void
test_v7_threads(void **state)
{
    (void)state;
    lh_uuid *ids = calloc(NTHREADS * PER_THREAD, sizeof(*ids));
    assert_non_null(ids);
    pthread_t th[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        assert_int_equal(
            pthread_create(&th[t], NULL, v7_worker, ids + t * PER_THREAD), 0);
    }
    for (int t = 0; t < NTHREADS; t++) {
        void *ret;
        pthread_join(th[t], &ret);
        assert_null(ret);
    }
    /* Each thread's ids increase; all ids are distinct. */
    for (int t = 0; t < NTHREADS; t++) {
        for (int i = 1; i < PER_THREAD; i++) {
            assert_true(cmp_uuid(&ids[t * PER_THREAD + i - 1],
                                 &ids[t * PER_THREAD + i]) < 0);
        }
    }
    qsort(ids, NTHREADS * PER_THREAD, sizeof(*ids), cmp_uuid);
    for (int i = 1; i < NTHREADS * PER_THREAD; i++) {
        assert_true(cmp_uuid(&ids[i - 1], &ids[i]) < 0);
    }
    free(ids);
}

static void
parse_ok(const char *s, const char *want)
{
    lh_uuid u;
    lh_err e;
    lh_rc rc = lh_uuid_parse(s, strlen(s), &u, &e);
    if (rc != LH_OK) {
        fail_msg("parse \"%s\": %s", s, e.msg);
    }
    char text[LH_UUID_STRLEN + 1];
    lh_uuid_format(&u, text);
    assert_string_equal(text, want);
}

static void
test_parse_and_format(void **state)
{
    (void)state;
    const char *canon = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6";
    parse_ok("f81d4fae-7dec-11d0-a765-00a0c91e6bf6", canon);
    parse_ok("F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6", canon);
    parse_ok("{f81d4fae-7dec-11d0-a765-00a0c91e6bf6}", canon);
    parse_ok("{F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6}", canon);
    parse_ok("f81d4fae7dec11d0a76500a0c91e6bf6", canon);
    parse_ok("F81D4FAE7DEC11D0A76500A0C91E6BF6", canon);
    parse_ok("00000000-0000-0000-0000-000000000000",
             "00000000-0000-0000-0000-000000000000");
    parse_ok("ffffffff-ffff-ffff-ffff-ffffffffffff",
             "ffffffff-ffff-ffff-ffff-ffffffffffff");

    lh_uuid u;
    assert_int_equal(lh_uuid_parse(canon, 36, &u, NULL), LH_OK);
    assert_int_equal(u.b[0], 0xf8);
    assert_int_equal(u.b[15], 0xf6);
    assert_false(lh_uuid_is_nil(&u));
    lh_uuid nil;
    memset(&nil, 0, sizeof(nil));
    assert_true(lh_uuid_is_nil(&nil));
    nil.b[15] = 1;
    assert_false(lh_uuid_is_nil(&nil));

    /* len is honoured. */
    char longer[64];
    snprintf(longer, sizeof(longer), "%sXYZ", canon);
    assert_int_equal(lh_uuid_parse(longer, 36, &u, NULL), LH_OK);

    /* Round trip of random ids. */
    for (int i = 0; i < 1000; i++) {
        lh_uuid a, b;
        assert_int_equal(lh_uuid_v4(&a, NULL), LH_OK);
        char text[LH_UUID_STRLEN + 1];
        lh_uuid_format(&a, text);
        assert_int_equal(strlen(text), LH_UUID_STRLEN);
        for (int k = 0; k < LH_UUID_STRLEN; k++) {
            assert_true(text[k] == '-' || (text[k] >= '0' && text[k] <= '9') ||
                        (text[k] >= 'a' && text[k] <= 'f'));
        }
        assert_int_equal(lh_uuid_parse(text, strlen(text), &b, NULL), LH_OK);
        assert_memory_equal(&a, &b, sizeof(a));
    }
}

static void
parse_bad(const char *s, size_t len)
{
    lh_uuid u;
    memset(&u, 0x11, sizeof(u));
    lh_err e;
    if (lh_uuid_parse(s, len, &u, &e) != LH_EINVAL) {
        fail_msg("\"%.*s\" parsed", (int)len, s);
    }
    char want[128];
    snprintf(want, sizeof(want), "invalid uuid \"%.*s\"", (int)len, s);
    assert_string_equal(e.msg, want);
    for (int i = 0; i < 16; i++) {
        assert_int_equal(u.b[i], 0x11); /* untouched */
    }
}

static void
test_parse_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "f81d4fae",
        "f81d4fae-7dec-11d0-a765-00a0c91e6bf",   /* 35 */
        "f81d4fae-7dec-11d0-a765-00a0c91e6bf66", /* 37 */
        "f81d4fae-7dec-11d0-a765-00a0c91e6bg6",  /* g */
        "f81d4fae_7dec-11d0-a765-00a0c91e6bf6",  /* _ */
        "f81d4fa-e7dec-11d0-a765-00a0c91e6bf6",  /* dash moved */
        "f81d4fae-7dec-11d0-a76500a0-c91e6bf6",
        "{f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
        "f81d4fae-7dec-11d0-a765-00a0c91e6bf6}",
        "(f81d4fae-7dec-11d0-a765-00a0c91e6bf6)",
        "{f81d4fae7dec11d0a76500a0c91e6bf6}",
        "f81d4fae7dec11d0a76500a0c91e6bf",
        "f81d4fae7dec11d0a76500a0c91e6bf6a",
        " f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
        "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
        "+81d4fae-7dec-11d0-a765-00a0c91e6bf6",
        "f81d4fae--7dec-11d0-a765-00a0c91e6bf",
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(bad); i++) {
        parse_bad(bad[i], strlen(bad[i]));
    }
    parse_bad("f81d4fae-7dec-11d0-a765-00a0c91e6b\0f", 36);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v4),
        cmocka_unit_test(test_v7_layout),
        cmocka_unit_test(test_v7_same_ms_increasing),
        cmocka_unit_test(test_v7_clock_increasing),
        cmocka_unit_test(test_v7_earlier_ms),
        cmocka_unit_test(test_v7_threads),
        cmocka_unit_test(test_parse_and_format),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_v7_after_far_future),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
