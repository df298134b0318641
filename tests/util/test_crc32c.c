/* Unit tests: CRC-32C, both implementations. */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util/util_int.h"

typedef uint32_t (*crc_fn)(uint32_t crc, const void *p, size_t n);

/* Bit by bit, straight from the definition: the reference. */
static uint32_t
crc_bitwise(uint32_t crc, const void *p, size_t n)
{
    const uint8_t *b = p;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= b[i];
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
        }
    }
    return ~crc;
}

static void
check_vectors(crc_fn f)
{
    assert_int_equal(f(0, "123456789", 9), 0xE3069283u);
    uint8_t buf[32];
    memset(buf, 0, sizeof(buf));
    assert_int_equal(f(0, buf, 32), 0x8A9136AAu);
    /* RFC 3720 (iSCSI) B.4: 32 bytes of 0xff, ascending, descending. */
    memset(buf, 0xff, sizeof(buf));
    assert_int_equal(f(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++) {
        buf[i] = (uint8_t)i;
    }
    assert_int_equal(f(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++) {
        buf[i] = (uint8_t)(31 - i);
    }
    assert_int_equal(f(0, buf, 32), 0x113FDB5Cu);
    assert_int_equal(f(0, "", 0), 0);
    assert_int_equal(f(0x12345678u, NULL, 0), 0x12345678u);
    assert_int_equal(f(0, "a", 1), 0xC1D04330u);
}

static void
test_vectors_public(void **state)
{
    (void)state;
    check_vectors(lh_crc32c);
}

static void
test_vectors_table(void **state)
{
    (void)state;
    check_vectors(lh__crc32c_sw);
}

static void
test_vectors_sse42(void **state)
{
    (void)state;
    if (!lh__crc32c_has_hw()) {
        skip();
    }
    check_vectors(lh__crc32c_hw);
}

static void
test_reference_is_right(void **state)
{
    (void)state;
    check_vectors(crc_bitwise);
}

static void
test_paths_agree_random(void **state)
{
    (void)state;
    enum { MAX = 4096 };
    uint8_t *buf = malloc(MAX + 16);
    assert_non_null(buf);
    srand(1234);
    for (size_t i = 0; i < MAX + 16; i++) {
        buf[i] = (uint8_t)rand();
    }
    /* Every length up to 300 at every alignment, then longer ones. */
    for (size_t off = 0; off < 16; off++) {
        for (size_t n = 0; n <= 300; n++) {
            uint32_t seed = (uint32_t)rand();
            uint32_t want = crc_bitwise(seed, buf + off, n);
            assert_int_equal(lh__crc32c_sw(seed, buf + off, n), want);
            assert_int_equal(lh__crc32c_hw(seed, buf + off, n), want);
            assert_int_equal(lh_crc32c(seed, buf + off, n), want);
        }
    }
    for (int r = 0; r < 200; r++) {
        size_t off = (size_t)rand() % 16;
        size_t n = (size_t)rand() % MAX;
        uint32_t want = crc_bitwise(0, buf + off, n);
        assert_int_equal(lh__crc32c_sw(0, buf + off, n), want);
        assert_int_equal(lh__crc32c_hw(0, buf + off, n), want);
    }
    free(buf);
}

static void
test_incremental(void **state)
{
    (void)state;
    const char *s = "The quick brown fox jumps over the lazy dog, twice over.";
    size_t n = strlen(s);
    uint32_t whole = lh_crc32c(0, s, n);
    for (size_t cut = 0; cut <= n; cut++) {
        uint32_t c = lh_crc32c(0, s, cut);
        assert_int_equal(lh_crc32c(c, s + cut, n - cut), whole);
        c = lh__crc32c_sw(0, s, cut);
        assert_int_equal(lh__crc32c_hw(c, s + cut, n - cut), whole);
    }
    /* Byte at a time. */
    uint32_t c = 0;
    for (size_t i = 0; i < n; i++) {
        c = lh_crc32c(c, s + i, 1);
    }
    assert_int_equal(c, whole);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_is_right),
        cmocka_unit_test(test_vectors_public),
        cmocka_unit_test(test_vectors_table),
        cmocka_unit_test(test_vectors_sse42),
        cmocka_unit_test(test_paths_agree_random),
        cmocka_unit_test(test_incremental),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
