/*
 * Unit tests: split-block bloom filters (src/format/parquet/bloom.h),
 * against parquet-testing's bloom_filter.xxhash.bin (which holds "hello",
 * "parquet", "bloom" and "filter") and by their false-positive rate.
 *
 * The fixture is found through LH_PARQUET_FIXTURES, else at
 * ../../../shared/fixtures/parquet from this file; the test skips when
 * neither exists.
 */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/parquet/bloom.h"
#include "util/util.h"

static bool
read_fixture(const char *name, uint8_t **out, size_t *len)
{
    char path[1200];
    const char *env = getenv("LH_PARQUET_FIXTURES");
    if (env != NULL) {
        snprintf(path, sizeof(path), "%s/%s", env, name);
    } else {
        char dir[1024];
        snprintf(dir, sizeof(dir), "%s", __FILE__);
        char *slash = strrchr(dir, '/');
        if (slash == NULL) {
            return false;
        }
        *slash = '\0';
        snprintf(path, sizeof(path), "%s/../../../shared/fixtures/parquet/%s",
                 dir, name);
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return false;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *out = p;
    *len = (size_t)n;
    return true;
}

static bool
check_str(const uint8_t *bits, size_t nbytes, const char *s)
{
    return lh_pq_bloom_check(bits, nbytes, lh_pq_bloom_hash(s, strlen(s)));
}

static void
test_fixture(void **state)
{
    (void)state;
    uint8_t *file;
    size_t len;
    if (!read_fixture("bloom_filter_bin/bloom_filter.xxhash.bin", &file,
                      &len)) {
        skip();
    }
    /* BloomFilterHeader, compact protocol: field 1 (numBytes, i32) is the
     * first byte 0x15 (delta 1, type i32), then a zigzag varint. */
    assert_int_equal(file[0], 0x15);
    uint64_t zz = 0;
    size_t at = 1;
    for (unsigned shift = 0; at < len; shift += 7) {
        uint8_t b = file[at++];
        zz |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            break;
        }
    }
    size_t nbytes = (size_t)((zz >> 1) ^ (0 - (zz & 1)));
    assert_int_equal(nbytes, 1024);
    assert_true(nbytes < len);
    const uint8_t *bits = file + len - nbytes;

    const char *in[] = {"hello", "parquet", "bloom", "filter"};
    for (int i = 0; i < 4; i++) {
        if (!check_str(bits, nbytes, in[i])) {
            print_error("\"%s\" is not in the fixture's filter\n", in[i]);
            fail();
        }
    }
    int hits = 0;
    char buf[64];
    for (int i = 0; i < 10000; i++) {
        snprintf(buf, sizeof(buf), "not-there-%d", i);
        hits += check_str(bits, nbytes, buf);
    }
    assert_true(hits < 10); /* 4 values in 32 blocks: about 1e-6 each */
    assert_false(check_str(bits, nbytes, "Hello"));
    assert_false(check_str(bits, nbytes, ""));

    /* Our own filter of the same size with the same four values is the
     * same bitset, bit for bit. */
    uint8_t *mine = calloc(1, nbytes);
    for (int i = 0; i < 4; i++) {
        lh_pq_bloom_insert(mine, nbytes,
                           lh_pq_bloom_hash(in[i], strlen(in[i])));
    }
    assert_memory_equal(mine, bits, nbytes);
    free(mine);
    free(file);
}

static void
test_hashes(void **state)
{
    (void)state;
    /* XXH64("", seed 0), from the xxHash reference. */
    assert_true(lh_pq_bloom_hash("", 0) == UINT64_C(0xef46db3751d8e999));
    assert_true(lh_pq_bloom_hash(NULL, 0) == UINT64_C(0xef46db3751d8e999));
    const uint8_t le32[4] = {0x78, 0x56, 0x34, 0x12};
    assert_true(lh_pq_bloom_hash_i32(0x12345678) == lh_pq_bloom_hash(le32, 4));
    const uint8_t m1[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_true(lh_pq_bloom_hash_i64(-1) == lh_pq_bloom_hash(m1, 8));
    assert_true(lh_pq_bloom_hash_i32(-1) == lh_pq_bloom_hash(m1, 4));
    const uint8_t one_f[4] = {0x00, 0x00, 0x80, 0x3f};
    assert_true(lh_pq_bloom_hash_float(1.0f) == lh_pq_bloom_hash(one_f, 4));
    const uint8_t one_d[8] = {0, 0, 0, 0, 0, 0, 0xf0, 0x3f};
    assert_true(lh_pq_bloom_hash_double(1.0) == lh_pq_bloom_hash(one_d, 8));
    assert_true(lh_pq_bloom_hash_double(0.0) != lh_pq_bloom_hash_double(-0.0));
}

static void
test_sizing(void **state)
{
    (void)state;
    assert_int_equal(lh_pq_bloom_optimal_bytes(0, 0.01), 32);
    assert_int_equal(lh_pq_bloom_optimal_bytes(1, 0.01), 32);
    /* -8 * 10000 / ln(1 - 0.01^(1/8)) = 96,8xx bits = 12,1xx bytes, up to
     * the next power of two. */
    assert_int_equal(lh_pq_bloom_optimal_bytes(10000, 0.01), 16384);
    assert_int_equal(lh_pq_bloom_optimal_bytes(UINT64_C(1) << 40, 0.01),
                     LH_PQ_BLOOM_MAX_BYTES);
    assert_int_equal(lh_pq_bloom_optimal_bytes(UINT64_MAX, 1e-12),
                     LH_PQ_BLOOM_MAX_BYTES);
    size_t prev = 0;
    for (uint64_t ndv = 1; ndv < (UINT64_C(1) << 32); ndv *= 3) {
        size_t b = lh_pq_bloom_optimal_bytes(ndv, 0.05);
        assert_true(b >= prev);
        assert_int_equal(b & (b - 1), 0);
        assert_true(b >= 32 && b <= LH_PQ_BLOOM_MAX_BYTES);
        prev = b;
    }
    /* Out-of-range probabilities are clamped, not trusted. */
    assert_true(lh_pq_bloom_optimal_bytes(1000, 0) >=
                lh_pq_bloom_optimal_bytes(1000, 1e-6));
    assert_int_equal(lh_pq_bloom_optimal_bytes(1000, 2.0),
                     lh_pq_bloom_optimal_bytes(1000, 0.5));
    assert_int_equal(lh_pq_bloom_optimal_bytes(1000, NAN),
                     lh_pq_bloom_optimal_bytes(1000, 0.5));
}

static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

/* No false negatives; false positives near what the size promises. */
static void
test_rates(void **state)
{
    (void)state;
    const double fpps[] = {0.1, 0.01, 0.001};
    for (int f = 0; f < 3; f++) {
        const uint64_t ndv = 20000;
        size_t nbytes = lh_pq_bloom_optimal_bytes(ndv, fpps[f]);
        lh_arena a;
        lh_arena_init(&a, 0);
        uint8_t *bits = lh_arena_calloc(&a, nbytes);
        assert_non_null(bits);
        uint64_t seed = 1 + (uint64_t)f;
        for (uint64_t i = 0; i < ndv; i++) {
            lh_pq_bloom_insert(bits, nbytes, lh_pq_bloom_hash_i64((int64_t)i));
        }
        for (uint64_t i = 0; i < ndv; i++) {
            assert_true(lh_pq_bloom_check(bits, nbytes,
                                          lh_pq_bloom_hash_i64((int64_t)i)));
        }
        int fp = 0;
        const int probes = 200000;
        for (int i = 0; i < probes; i++) {
            fp += lh_pq_bloom_check(bits, nbytes, rnd(&seed) | 1) ? 1 : 0;
        }
        double rate = (double)fp / probes;
        print_message("fpp %.3f: %zu bytes, measured %.4f\n", fpps[f], nbytes,
                      rate);
        /* Rounding up to a power of two only lowers the rate. */
        assert_true(rate < fpps[f] * 1.5);
        lh_arena_release(&a);
    }
}

static void
test_edges(void **state)
{
    (void)state;
    uint8_t small[16] = {0};
    /* Below one block: holds nothing, excludes nothing. */
    lh_pq_bloom_insert(small, sizeof(small), 42);
    assert_true(lh_pq_bloom_check(small, sizeof(small), 42));
    assert_true(lh_pq_bloom_check(NULL, 0, 42));
    /* A trailing partial block is ignored: 40 bytes act as 32. */
    uint8_t b40[40] = {0};
    uint8_t b32[32] = {0};
    for (uint64_t h = 0; h < 50; h++) {
        uint64_t x = h * UINT64_C(0x9e3779b97f4a7c15);
        lh_pq_bloom_insert(b40, 40, x);
        lh_pq_bloom_insert(b32, 32, x);
    }
    assert_memory_equal(b40, b32, 32);
    for (int i = 32; i < 40; i++) {
        assert_int_equal(b40[i], 0);
    }
    /* Every block is reachable: the top bits pick it. */
    uint8_t four[128] = {0};
    for (uint64_t blk = 0; blk < 4; blk++) {
        lh_pq_bloom_insert(four, 128, (blk << 62) | 7);
    }
    for (int blk = 0; blk < 4; blk++) {
        int set = 0;
        for (int i = 0; i < 32; i++) {
            set += four[blk * 32 + i] != 0;
        }
        assert_true(set > 0);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture), cmocka_unit_test(test_hashes),
        cmocka_unit_test(test_sizing),  cmocka_unit_test(test_rates),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
