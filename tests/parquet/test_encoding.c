/*
 * Unit tests: Parquet encodings (src/format/parquet/encoding.h). Round
 * trips over random and edge-case data, the worked examples of
 * Encodings.md byte for byte, and corrupt or truncated input, which must
 * give LH_ECORRUPT (and, under the sanitizers, touch nothing it should
 * not). test_speed prints decode rates (not asserted).
 *
 * LH_PQ_WRITE_SEEDS=<dir> also writes encoded samples there, named for the
 * fuzz_parquet_page target's selector byte (tests/fuzz/fuzz_parquet_page.c
 * says the input layout).
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
#include <time.h>

#include "format/parquet/encoding.h"

static const uint32_t sizes[] = {0,  1,  7,   8,   9,   31,
                                 32, 33, 127, 128, 129, 10000};

/* ---- helpers ------------------------------------------------------------- */

static uint64_t
rnd(uint64_t *s)
{
    /* xorshift64* */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

static uint64_t
mask_of(unsigned w)
{
    return w >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << w) - 1;
}

static void
expect_u32(const uint32_t *want, const uint32_t *got, uint32_t n,
           const char *what)
{
    for (uint32_t i = 0; i < n; i++) {
        if (want[i] != got[i]) {
            print_error("%s: value %u: want %u, got %u\n", what, i, want[i],
                        got[i]);
            fail();
        }
    }
}

static void
expect_u64(const uint64_t *want, const uint64_t *got, uint32_t n,
           const char *what)
{
    for (uint32_t i = 0; i < n; i++) {
        if (want[i] != got[i]) {
            print_error("%s: value %u: want %llu, got %llu\n", what, i,
                        (unsigned long long)want[i],
                        (unsigned long long)got[i]);
            fail();
        }
    }
}

static void
expect_bytes(const uint8_t *want, size_t wlen, const lh_buf *got)
{
    if (got->len != wlen || memcmp(want, got->data, wlen) != 0) {
        print_error("encoded %zu bytes, want %zu:\n  got ", got->len, wlen);
        for (size_t i = 0; i < got->len; i++) {
            print_error("%02x ", (uint8_t)got->data[i]);
        }
        print_error("\n want ");
        for (size_t i = 0; i < wlen; i++) {
            print_error("%02x ", want[i]);
        }
        print_error("\n");
        fail();
    }
}

static void
expect_corrupt(lh_rc rc, const lh_err *err, const char *prefix)
{
    if (rc != LH_ECORRUPT) {
        print_error("want LH_ECORRUPT, got %s (%s)\n", lh_rc_name(rc),
                    rc == LH_OK ? "" : err->msg);
        fail();
    }
    if (strncmp(err->msg, prefix, strlen(prefix)) != 0) {
        print_error("message \"%s\" does not start with \"%s\"\n", err->msg,
                    prefix);
        fail();
    }
}

static void
expect_str_eq(const lh_str *want, const lh_str *got, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (want[i].len != got[i].len ||
            memcmp(lh_str_data(&want[i]), lh_str_data(&got[i]), want[i].len) !=
                0) {
            print_error("string %u: want \"%.*s\", got \"%.*s\"\n", i,
                        (int)want[i].len, lh_str_data(&want[i]),
                        (int)got[i].len, lh_str_data(&got[i]));
            fail();
        }
        assert_true(lh_str_eq(&want[i], &got[i]));
    }
}

/* A heap copy of b's bytes of exactly b->len bytes, so ASan sees any read
 * past the end. */
static uint8_t *
exact_copy(const lh_buf *b)
{
    uint8_t *p = malloc(b->len ? b->len : 1);
    assert_non_null(p);
    if (b->len) {
        memcpy(p, b->data, b->len);
    }
    return p;
}

static void
write_seed(const char *name, uint8_t sel, uint8_t param, uint16_t n,
           const void *p, size_t len)
{
    const char *dir = getenv("LH_PQ_WRITE_SEEDS");
    if (dir == NULL) {
        return;
    }
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint8_t head[4] = {sel, param, (uint8_t)n, (uint8_t)(n >> 8)};
    fwrite(head, 1, 4, f);
    fwrite(p, 1, len, f);
    fclose(f);
}

/* Value patterns for the integer round trips, each within `w` bits. */
enum { PAT_RANDOM, PAT_RUNS, PAT_CONST, PAT_ALTERNATE, PAT_RAMP, PAT_COUNT };

static void
fill_pattern(uint64_t *v, uint32_t n, unsigned w, int pat, uint64_t *seed)
{
    uint64_t m = mask_of(w);
    uint64_t run_val = 0;
    uint32_t run_left = 0;
    for (uint32_t i = 0; i < n; i++) {
        switch (pat) {
        case PAT_RANDOM:
            v[i] = rnd(seed) & m;
            break;
        case PAT_RUNS:
            if (run_left == 0) {
                run_left = 1 + (uint32_t)(rnd(seed) % 40);
                run_val = rnd(seed) & m;
            }
            run_left--;
            v[i] = run_val;
            break;
        case PAT_CONST:
            v[i] = m;
            break;
        case PAT_ALTERNATE:
            v[i] = (i & 1) ? m : 0;
            break;
        default:
            v[i] = (uint64_t)i & m;
            break;
        }
    }
}

/* ---- bit width ----------------------------------------------------------- */

static void
test_bit_width(void **state)
{
    (void)state;
    assert_int_equal(lh_pq_bit_width(0), 0);
    assert_int_equal(lh_pq_bit_width(1), 1);
    assert_int_equal(lh_pq_bit_width(2), 2);
    assert_int_equal(lh_pq_bit_width(3), 2);
    assert_int_equal(lh_pq_bit_width(4), 3);
    assert_int_equal(lh_pq_bit_width(255), 8);
    assert_int_equal(lh_pq_bit_width(256), 9);
    assert_int_equal(lh_pq_bit_width(UINT32_MAX), 32);
    assert_int_equal(lh_pq_bit_width(0x80000000u), 32);
}

/* ---- RLE / bit-packing hybrid -------------------------------------------- */

static void
test_rle_spec_examples(void **state)
{
    (void)state;
    lh_err err;
    uint32_t out[16];
    const uint32_t seq[8] = {0, 1, 2, 3, 4, 5, 6, 7};

    /* Encodings.md: 0..7 at width 3 bit-pack to 10001000 11000110
     * 11111010; one group of 8 is the header (1 << 1 | 1). */
    const uint8_t packed[] = {0x03, 0x88, 0xc6, 0xfa};
    assert_int_equal(lh_pq_rle_decode(packed, sizeof(packed), 3, out, 8, &err),
                     LH_OK);
    expect_u32(seq, out, 8, "bit-packed example");
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_pq_rle_encode(seq, 8, 3, &b, &err), LH_OK);
    expect_bytes(packed, sizeof(packed), &b);
    lh_buf_release(&b);

    /* An RLE run: 100 times 5 at width 3 = header 200 (0xc8 0x01), then
     * the value in one byte. */
    const uint8_t run[] = {0xc8, 0x01, 0x05};
    uint32_t big[100];
    uint32_t fives[100];
    for (int i = 0; i < 100; i++) {
        fives[i] = 5;
    }
    assert_int_equal(lh_pq_rle_decode(run, sizeof(run), 3, big, 100, &err),
                     LH_OK);
    expect_u32(fives, big, 100, "RLE run");
    assert_int_equal(lh_pq_rle_encode(fives, 100, 3, &b, &err), LH_OK);
    expect_bytes(run, sizeof(run), &b);
    lh_buf_release(&b);

    /* Values of 9..16 bits take two bytes in an RLE run, little endian. */
    const uint8_t run2[] = {0x10, 0x34, 0x12};
    assert_int_equal(lh_pq_rle_decode(run2, sizeof(run2), 13, out, 8, &err),
                     LH_OK);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(out[i], 0x1234);
    }
    write_seed("rle-spec-example", 0, 3, 8, packed, sizeof(packed));
    write_seed("rle-run", 0, 3, 100, run, sizeof(run));
}

static void
test_bitpacked_legacy_spec_example(void **state)
{
    (void)state;
    lh_err err;
    uint32_t out[8];
    const uint32_t seq[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    /* Encodings.md: 00000101 00111001 01110111. */
    const uint8_t p[] = {0x05, 0x39, 0x77};
    assert_int_equal(lh_pq_bitpacked_legacy_decode(p, 3, 3, out, 8, &err),
                     LH_OK);
    expect_u32(seq, out, 8, "BIT_PACKED example");
    expect_corrupt(lh_pq_bitpacked_legacy_decode(p, 2, 3, out, 8, &err), &err,
                   "BIT_PACKED: ");
    assert_int_equal(lh_pq_bitpacked_legacy_decode(p, 3, 33, out, 8, &err),
                     LH_EINVAL);
    /* 30 values of 2 bits: 8 bytes (the spec's example size). */
    uint8_t z[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0};
    uint32_t lv[30];
    assert_int_equal(lh_pq_bitpacked_legacy_decode(z, 8, 2, lv, 30, &err),
                     LH_OK);
    for (int i = 0; i < 30; i++) {
        assert_int_equal(lv[i], 3);
    }
    write_seed("bitpacked-legacy", 1, 3, 8, p, sizeof(p));
}

static void
rle_roundtrip_one(const uint32_t *v, uint32_t n, unsigned w)
{
    lh_err err;
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_pq_rle_encode(v, n, (int)w, &b, &err), LH_OK);
    uint8_t *p = exact_copy(&b);
    uint32_t *out = malloc(((size_t)n + 1) * sizeof(uint32_t));
    assert_non_null(out);
    lh_rc rc = lh_pq_rle_decode(p, b.len, (int)w, out, n, &err);
    if (rc != LH_OK) {
        print_error("width %u, n %u: %s\n", w, n, err.msg);
        fail();
    }
    expect_u32(v, out, n, "RLE round trip");
    /* A prefix decodes to the same values. */
    if (n > 3) {
        assert_int_equal(lh_pq_rle_decode(p, b.len, (int)w, out, n / 3, &err),
                         LH_OK);
        expect_u32(v, out, n / 3, "RLE prefix");
    }
    /* Cutting bytes off either fails cleanly or (when only padding went)
     * still gives the values. */
    for (size_t cut = 1; cut <= b.len && cut <= 16; cut++) {
        rc = lh_pq_rle_decode(p, b.len - cut, (int)w, out, n, &err);
        if (rc == LH_OK) {
            expect_u32(v, out, n, "RLE cut padding");
        } else {
            expect_corrupt(rc, &err, "RLE: ");
        }
    }
    free(out);
    free(p);
    lh_buf_release(&b);
}

static void
test_rle_roundtrip(void **state)
{
    (void)state;
    uint64_t seed = 0x1234567;
    uint64_t *v64 = malloc(10000 * sizeof(uint64_t));
    uint32_t *v = malloc(10000 * sizeof(uint32_t));
    assert_non_null(v64);
    assert_non_null(v);
    for (unsigned w = 0; w <= 32; w++) {
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            for (int pat = 0; pat < PAT_COUNT; pat++) {
                uint32_t n = sizes[s];
                fill_pattern(v64, n, w, pat, &seed);
                for (uint32_t i = 0; i < n; i++) {
                    v[i] = (uint32_t)v64[i];
                }
                rle_roundtrip_one(v, n, w);
            }
        }
    }
    free(v);
    free(v64);
}

/* Runs long enough to be RLE broken by short literal stretches, at every
 * alignment against the groups of 8. */
static void
test_rle_mixed_alignment(void **state)
{
    (void)state;
    uint32_t v[200];
    for (uint32_t lit = 0; lit < 20; lit++) {
        for (uint32_t run = 1; run < 30; run++) {
            uint32_t n = 0;
            for (uint32_t k = 0; k < lit; k++) {
                v[n++] = k % 3;
            }
            for (uint32_t k = 0; k < run; k++) {
                v[n++] = 5;
            }
            for (uint32_t k = 0; k < lit; k++) {
                v[n++] = (k + 1) % 7;
            }
            rle_roundtrip_one(v, n, 3);
        }
    }
}

static void
test_rle_errors(void **state)
{
    (void)state;
    lh_err err;
    uint32_t out[64];
    /* Out of data: an RLE run of 16 read as 17 values. */
    const uint8_t run16[] = {0x20, 0x01};
    assert_int_equal(lh_pq_rle_decode(run16, 2, 1, out, 16, &err), LH_OK);
    expect_corrupt(lh_pq_rle_decode(run16, 2, 1, out, 17, &err), &err, "RLE: ");
    /* No data at all. */
    expect_corrupt(lh_pq_rle_decode(run16, 0, 1, out, 1, &err), &err, "RLE: ");
    expect_corrupt(lh_pq_rle_decode(NULL, 0, 4, out, 1, &err), &err, "RLE: ");
    /* A run value wider than the bit width. */
    const uint8_t wide[] = {0x10, 0x02};
    expect_corrupt(lh_pq_rle_decode(wide, 2, 1, out, 8, &err), &err,
                   "RLE: run value 2");
    /* The run's value is cut off. */
    const uint8_t cut[] = {0x10, 0x34};
    expect_corrupt(lh_pq_rle_decode(cut, 2, 13, out, 8, &err), &err, "RLE: ");
    /* A varint that never ends, and one past 64 bits. */
    const uint8_t endless[] = {0xff, 0xff, 0xff};
    expect_corrupt(lh_pq_rle_decode(endless, 3, 2, out, 8, &err), &err,
                   "RLE: ");
    uint8_t huge[12];
    memset(huge, 0xff, sizeof(huge));
    huge[11] = 0x01;
    expect_corrupt(lh_pq_rle_decode(huge, 12, 2, out, 8, &err), &err, "RLE: ");
    /* A bit-packed run claiming 2^62 groups with 2 bytes behind it: the 8
     * values we want need 2 bytes at width 2, so it decodes. */
    const uint8_t claim[] = {0x81, 0x80, 0x80, 0x80, 0x80, 0x80,
                             0x80, 0x80, 0x80, 0x01, 0xe4, 0xe4};
    assert_int_equal(lh_pq_rle_decode(claim, sizeof(claim), 2, out, 8, &err),
                     LH_OK);
    expect_corrupt(lh_pq_rle_decode(claim, sizeof(claim), 2, out, 9, &err),
                   &err, "RLE: bit-packed run");
    /* Zero-length runs are skipped, not looped on. */
    const uint8_t zeros[] = {0x00, 0x05, 0x01, 0x02, 0x01};
    assert_int_equal(lh_pq_rle_decode(zeros, sizeof(zeros), 3, out, 1, &err),
                     LH_OK);
    assert_int_equal(out[0], 1);
    /* Bit width 0: every value is 0 whatever the bytes. */
    out[0] = 99;
    assert_int_equal(lh_pq_rle_decode(NULL, 0, 0, out, 64, &err), LH_OK);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[63], 0);
    /* Bad widths and values on both sides. */
    assert_int_equal(lh_pq_rle_decode(run16, 2, 33, out, 1, &err), LH_EINVAL);
    assert_int_equal(lh_pq_rle_decode(run16, 2, -1, out, 1, &err), LH_EINVAL);
    lh_buf b = LH_BUF_INIT;
    const uint32_t big[2] = {1, 8};
    assert_int_equal(lh_pq_rle_encode(big, 2, 3, &b, &err), LH_EINVAL);
    assert_int_equal(err.index, 1);
    assert_int_equal(lh_pq_rle_encode(big, 2, 33, &b, &err), LH_EINVAL);
    lh_buf_release(&b);
}

/* Every truncation and many random corruptions of a real encoding: an
 * error or values, never a crash (the sanitizers watch). */
static void
test_rle_fuzzish(void **state)
{
    (void)state;
    uint64_t seed = 99;
    uint32_t v[300];
    uint32_t out[300];
    lh_err err;
    for (int iter = 0; iter < 300; iter++) {
        unsigned w = (unsigned)(rnd(&seed) % 33);
        uint64_t tmp[300];
        fill_pattern(tmp, 300, w, (int)(rnd(&seed) % PAT_COUNT), &seed);
        for (int i = 0; i < 300; i++) {
            v[i] = (uint32_t)tmp[i];
        }
        lh_buf b = LH_BUF_INIT;
        assert_int_equal(lh_pq_rle_encode(v, 300, (int)w, &b, &err), LH_OK);
        uint8_t *p = exact_copy(&b);
        for (int k = 0; k < 8 && b.len > 0; k++) {
            p[rnd(&seed) % b.len] ^= (uint8_t)(1u << (rnd(&seed) % 8));
        }
        lh_rc rc = lh_pq_rle_decode(p, b.len, (int)w, out, 300, &err);
        assert_true(rc == LH_OK || rc == LH_ECORRUPT);
        if (rc == LH_OK) {
            for (int i = 0; i < 300; i++) {
                assert_true((uint64_t)out[i] <= mask_of(w));
            }
        }
        free(p);
        lh_buf_release(&b);
    }
}

/* ---- DELTA_BINARY_PACKED ------------------------------------------------- */

static void
test_delta_spec_examples(void **state)
{
    (void)state;
    lh_err err;
    lh_buf b = LH_BUF_INIT;
    int32_t out[8];
    size_t used;

    /* Example 1 (1..5) with a real block size: 128 values in 4
     * miniblocks, 5 values, first 1 (zigzag 2); one block: min delta 1
     * (zigzag 2), all four widths 0, no data. */
    const int32_t ex1[5] = {1, 2, 3, 4, 5};
    const uint8_t ex1_bytes[] = {0x80, 0x01, 0x04, 0x05, 0x02,
                                 0x02, 0x00, 0x00, 0x00, 0x00};
    assert_int_equal(lh_pq_delta_encode_i32(ex1, 5, &b, &err), LH_OK);
    expect_bytes(ex1_bytes, sizeof(ex1_bytes), &b);
    lh_buf_release(&b);
    assert_int_equal(lh_pq_delta_decode_i32(ex1_bytes, sizeof(ex1_bytes), out,
                                            5, &used, &err),
                     LH_OK);
    assert_memory_equal(out, ex1, sizeof(ex1));
    assert_int_equal(used, sizeof(ex1_bytes));

    /* Example 2 (7, 5, 3, 1, 2, 3, 4, 5): first 7 (zigzag 14), min delta
     * -2 (zigzag 3), relative deltas 0 0 0 3 3 3 3 at width 2 in the first
     * miniblock, padded to 32 values (8 bytes): 0xc0 0x3f then zeros. */
    const int32_t ex2[8] = {7, 5, 3, 1, 2, 3, 4, 5};
    const uint8_t ex2_bytes[] = {0x80, 0x01, 0x04, 0x08, 0x0e, 0x03,
                                 0x02, 0x00, 0x00, 0x00, 0xc0, 0x3f,
                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    assert_int_equal(lh_pq_delta_encode_i32(ex2, 8, &b, &err), LH_OK);
    expect_bytes(ex2_bytes, sizeof(ex2_bytes), &b);
    lh_buf_release(&b);
    assert_int_equal(lh_pq_delta_decode_i32(ex2_bytes, sizeof(ex2_bytes), out,
                                            8, &used, &err),
                     LH_OK);
    assert_memory_equal(out, ex2, sizeof(ex2));
    assert_int_equal(used, sizeof(ex2_bytes));
    int64_t out64[8];
    assert_int_equal(lh_pq_delta_decode_i64(ex2_bytes, sizeof(ex2_bytes), out64,
                                            8, &used, &err),
                     LH_OK);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(out64[i], ex2[i]);
    }

    /* The examples as the spec writes them, with block size 8: the spec
     * itself says that is invalid, and (like Arrow) we refuse it. */
    const uint8_t spec8[] = {0x08, 0x01, 0x08, 0x0e, 0x03,
                             0x02, 0xc0, 0x3f, 0x00, 0x00};
    expect_corrupt(
        lh_pq_delta_decode_i32(spec8, sizeof(spec8), out, 8, &used, &err), &err,
        "DELTA_BINARY_PACKED: block size 8");
    write_seed("delta-example2-i32", 2, 0, 8, ex2_bytes, sizeof(ex2_bytes));
    write_seed("delta-example2-i64", 3, 0, 8, ex2_bytes, sizeof(ex2_bytes));
}

static void
delta_roundtrip64(const int64_t *v, uint32_t n)
{
    lh_err err;
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_pq_delta_encode_i64(v, n, &b, &err), LH_OK);
    size_t enc_len = b.len;
    /* Trailing bytes (what follows in DELTA_LENGTH_BYTE_ARRAY) must not
     * change the values or the consumed length. */
    lh_buf_append(&b, "tail", 4);
    uint8_t *p = exact_copy(&b);
    int64_t *out = malloc(((size_t)n + 1) * sizeof(int64_t));
    assert_non_null(out);
    size_t used = 0;
    lh_rc rc = lh_pq_delta_decode_i64(p, b.len, out, n, &used, &err);
    if (rc != LH_OK) {
        print_error("n %u: %s\n", n, err.msg);
        fail();
    }
    expect_u64((const uint64_t *)v, (const uint64_t *)out, n, "delta i64");
    assert_int_equal(used, enc_len);
    /* A prefix decodes the same and still consumes the whole stream. */
    if (n > 2) {
        uint32_t k = n / 2 + 1;
        assert_int_equal(lh_pq_delta_decode_i64(p, b.len, out, k, &used, &err),
                         LH_OK);
        expect_u64((const uint64_t *)v, (const uint64_t *)out, k,
                   "delta i64 prefix");
        assert_int_equal(used, enc_len);
    }
    /* Asking for one more than the stream holds is corrupt. */
    expect_corrupt(lh_pq_delta_decode_i64(p, b.len, out, n + 1, &used, &err),
                   &err, "DELTA_BINARY_PACKED: ");
    /* So is the stream without its last byte (when it has blocks). */
    if (n > 1) {
        expect_corrupt(
            lh_pq_delta_decode_i64(p, enc_len - 1, out, n, &used, &err), &err,
            "DELTA_BINARY_PACKED: ");
    }
    free(out);
    free(p);
    lh_buf_release(&b);
}

static void
delta_roundtrip32(const int32_t *v, uint32_t n)
{
    lh_err err;
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_pq_delta_encode_i32(v, n, &b, &err), LH_OK);
    size_t enc_len = b.len;
    lh_buf_append(&b, "tail", 4);
    uint8_t *p = exact_copy(&b);
    int32_t *out = malloc(((size_t)n + 1) * sizeof(int32_t));
    assert_non_null(out);
    size_t used = 0;
    lh_rc rc = lh_pq_delta_decode_i32(p, b.len, out, n, &used, &err);
    if (rc != LH_OK) {
        print_error("n %u: %s\n", n, err.msg);
        fail();
    }
    expect_u32((const uint32_t *)v, (const uint32_t *)out, n, "delta i32");
    assert_int_equal(used, enc_len);
    if (n > 2) {
        uint32_t k = n / 2 + 1;
        assert_int_equal(lh_pq_delta_decode_i32(p, b.len, out, k, &used, &err),
                         LH_OK);
        expect_u32((const uint32_t *)v, (const uint32_t *)out, k,
                   "delta i32 prefix");
        assert_int_equal(used, enc_len);
    }
    expect_corrupt(lh_pq_delta_decode_i32(p, b.len, out, n + 1, &used, &err),
                   &err, "DELTA_BINARY_PACKED: ");
    free(out);
    free(p);
    lh_buf_release(&b);
}

/* Deltas of exactly w bits (relative to a random start), for every w; plus
 * the patterns, and the wrap-around extremes. */
static void
test_delta_roundtrip(void **state)
{
    (void)state;
    uint64_t seed = 42;
    int64_t *v = malloc(10000 * sizeof(int64_t));
    int32_t *v32 = malloc(10000 * sizeof(int32_t));
    uint64_t *tmp = malloc(10000 * sizeof(uint64_t));
    assert_non_null(v);
    assert_non_null(v32);
    assert_non_null(tmp);
    for (unsigned w = 0; w <= 64; w++) {
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            uint32_t n = sizes[s];
            for (int pat = 0; pat < PAT_COUNT; pat++) {
                fill_pattern(tmp, n, w, pat, &seed);
                uint64_t acc = rnd(&seed);
                for (uint32_t i = 0; i < n; i++) {
                    acc += tmp[i]; /* wraps: deltas of up to w bits */
                    v[i] = (int64_t)acc;
                    v32[i] = (int32_t)(uint32_t)acc;
                }
                delta_roundtrip64(v, n);
                if (w <= 32) {
                    delta_roundtrip32(v32, n);
                }
            }
        }
    }
    /* The extremes, alternating: every delta wraps. */
    for (uint32_t i = 0; i < 300; i++) {
        v[i] = (i % 3 == 0) ? INT64_MIN : (i % 3 == 1) ? INT64_MAX : 0;
        v32[i] = (i % 3 == 0) ? INT32_MIN : (i % 3 == 1) ? INT32_MAX : -1;
    }
    delta_roundtrip64(v, 300);
    delta_roundtrip32(v32, 300);
    /* Full-range random values: miniblocks of width 64 and 32. */
    for (uint32_t i = 0; i < 1000; i++) {
        v[i] = (int64_t)rnd(&seed);
        v32[i] = (int32_t)(uint32_t)rnd(&seed);
    }
    delta_roundtrip64(v, 1000);
    delta_roundtrip32(v32, 1000);
    /* Decreasing values: negative min deltas. */
    for (uint32_t i = 0; i < 1000; i++) {
        v[i] = (INT64_C(1) << 40) - (int64_t)i * 977;
        v32[i] = 1000000 - (int32_t)i * (int32_t)(i % 13);
    }
    delta_roundtrip64(v, 1000);
    delta_roundtrip32(v32, 1000);
    free(tmp);
    free(v32);
    free(v);
}

/* A hand-built stream: header, then one block with the given widths and
 * body bytes. */
static size_t
delta_stream(uint8_t *buf, uint32_t count, const uint8_t widths[4], size_t body)
{
    size_t n = 0;
    buf[n++] = 0x80; /* block 128 */
    buf[n++] = 0x01;
    buf[n++] = 0x04; /* 4 miniblocks */
    buf[n++] = (uint8_t)count;
    buf[n++] = 0x00; /* first value 0 */
    buf[n++] = 0x02; /* min delta 1 */
    memcpy(buf + n, widths, 4);
    n += 4;
    memset(buf + n, 0, body);
    return n + body;
}

static void
test_delta_errors(void **state)
{
    (void)state;
    lh_err err;
    int64_t out[200];
    int32_t o32[200];
    size_t used;
    uint8_t buf[1200];

    /* A miniblock wider than the type. */
    const uint8_t w70[4] = {70, 0, 0, 0};
    size_t len = delta_stream(buf, 10, w70, 4 * 70);
    expect_corrupt(lh_pq_delta_decode_i64(buf, len, out, 10, &used, &err), &err,
                   "DELTA_BINARY_PACKED: miniblock bit width 70 exceeds 64");
    assert_int_equal(err.offset, 6);
    const uint8_t w33[4] = {33, 0, 0, 0};
    len = delta_stream(buf, 10, w33, 4 * 33);
    expect_corrupt(lh_pq_delta_decode_i32(buf, len, o32, 10, &used, &err), &err,
                   "DELTA_BINARY_PACKED: miniblock bit width 33 exceeds 32");
    assert_int_equal(lh_pq_delta_decode_i64(buf, len, out, 10, &used, &err),
                     LH_OK);

    /* Widths of miniblocks the values do not reach may be anything. */
    const uint8_t junk[4] = {1, 200, 255, 77};
    len = delta_stream(buf, 10, junk, 4);
    assert_int_equal(lh_pq_delta_decode_i32(buf, len, o32, 10, &used, &err),
                     LH_OK);
    assert_int_equal(used, len);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(o32[i], i);
    }
    /* ... but one that is reached is checked. */
    len = delta_stream(buf, 40, junk, 4);
    expect_corrupt(lh_pq_delta_decode_i32(buf, len, o32, 40, &used, &err), &err,
                   "DELTA_BINARY_PACKED: miniblock bit width 200");

    /* Bad headers. */
    const uint8_t zero_block[] = {0x00, 0x04, 0x01, 0x00};
    expect_corrupt(lh_pq_delta_decode_i32(zero_block, 4, o32, 1, &used, &err),
                   &err, "DELTA_BINARY_PACKED: block size 0");
    const uint8_t odd_mb[] = {0x80, 0x01, 0x03, 0x01, 0x00};
    expect_corrupt(lh_pq_delta_decode_i32(odd_mb, 5, o32, 1, &used, &err), &err,
                   "DELTA_BINARY_PACKED: 3 miniblocks");
    const uint8_t mb16[] = {0x80, 0x01, 0x08, 0x01, 0x00};
    expect_corrupt(lh_pq_delta_decode_i32(mb16, 5, o32, 1, &used, &err), &err,
                   "DELTA_BINARY_PACKED: 8 miniblocks");
    const uint8_t no_mb[] = {0x80, 0x01, 0x00, 0x01, 0x00};
    expect_corrupt(lh_pq_delta_decode_i32(no_mb, 5, o32, 1, &used, &err), &err,
                   "DELTA_BINARY_PACKED: 0 miniblocks");
    const uint8_t huge_block[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                  0x80, 0x80, 0x01, 0x01, 0x01, 0x00};
    expect_corrupt(lh_pq_delta_decode_i32(huge_block, sizeof(huge_block), o32,
                                          1, &used, &err),
                   &err, "DELTA_BINARY_PACKED: block size");
    const uint8_t few[] = {0x80, 0x01, 0x04, 0x02, 0x00,
                           0x02, 0x00, 0x00, 0x00, 0x00};
    expect_corrupt(
        lh_pq_delta_decode_i32(few, sizeof(few), o32, 3, &used, &err), &err,
        "DELTA_BINARY_PACKED: the stream holds 2 values");
    expect_corrupt(lh_pq_delta_decode_i32(few, 3, o32, 1, &used, &err), &err,
                   "DELTA_BINARY_PACKED: truncated header");
    /* The header claims 2^40 values but the data ends. */
    const uint8_t many[] = {0x80, 0x01, 0x04, 0x80, 0x80, 0x80, 0x80, 0x80,
                            0x20, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00};
    expect_corrupt(
        lh_pq_delta_decode_i32(many, sizeof(many), o32, 5, &used, &err), &err,
        "DELTA_BINARY_PACKED: ");
    /* An empty stream for no values (some writers leave it out). */
    assert_int_equal(lh_pq_delta_decode_i32(NULL, 0, o32, 0, &used, &err),
                     LH_OK);
    assert_int_equal(used, 0);
    expect_corrupt(lh_pq_delta_decode_i32(NULL, 0, o32, 1, &used, &err), &err,
                   "DELTA_BINARY_PACKED: truncated header");

    /* Every truncation and random damage of a real stream. */
    uint64_t seed = 5;
    int64_t v[200];
    for (int i = 0; i < 200; i++) {
        v[i] = (int64_t)(rnd(&seed) % 100000) - 50000;
    }
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_pq_delta_encode_i64(v, 200, &b, &err), LH_OK);
    for (size_t l = 0; l < b.len; l++) {
        uint8_t *p = malloc(l ? l : 1);
        memcpy(p, b.data, l);
        expect_corrupt(lh_pq_delta_decode_i64(p, l, out, 200, &used, &err),
                       &err, "DELTA_BINARY_PACKED: ");
        free(p);
    }
    for (int iter = 0; iter < 500; iter++) {
        uint8_t *p = exact_copy(&b);
        p[rnd(&seed) % b.len] = (uint8_t)rnd(&seed);
        lh_rc rc = lh_pq_delta_decode_i64(p, b.len, out, 200, &used, &err);
        assert_true(rc == LH_OK || rc == LH_ECORRUPT);
        assert_true(rc != LH_OK || used <= b.len);
        free(p);
    }
    lh_buf_release(&b);
}

/* ---- DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY ------------------------ */

static lh_str
S(const char *s)
{
    return lh_str_make(s, (uint32_t)strlen(s));
}

static void
test_dlba_spec_example(void **state)
{
    (void)state;
    lh_err err;
    const lh_str v[4] = {S("Hello"), S("World"), S("Foobar"), S("ABCDEF")};
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_pq_dlba_encode(v, 4, &b, &err), LH_OK);
    /* DeltaEncoding(5, 5, 6, 6), then the bytes back to back. */
    int32_t lens[4];
    size_t used;
    assert_int_equal(lh_pq_delta_decode_i32((const uint8_t *)b.data, b.len,
                                            lens, 4, &used, &err),
                     LH_OK);
    assert_int_equal(lens[0], 5);
    assert_int_equal(lens[1], 5);
    assert_int_equal(lens[2], 6);
    assert_int_equal(lens[3], 6);
    assert_int_equal(b.len - used, 22);
    assert_memory_equal(b.data + used, "HelloWorldFoobarABCDEF", 22);
    lh_str out[4];
    assert_int_equal(lh_pq_dlba_decode((const uint8_t *)b.data, b.len, out, 4,
                                       NULL, &used, &err),
                     LH_OK);
    assert_int_equal(used, b.len);
    expect_str_eq(v, out, 4);
    write_seed("dlba-spec-example", 4, 0, 4, b.data, b.len);
    lh_buf_release(&b);
}

static void
test_dba_spec_example(void **state)
{
    (void)state;
    lh_err err;
    const lh_str v[4] = {S("axis"), S("axle"), S("babble"), S("babyhood")};
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_pq_dba_encode(v, 4, &b, &err), LH_OK);
    /* DeltaEncoding(0, 2, 0, 3), DeltaEncoding(4, 2, 6, 5),
     * "axislebabbleyhood". */
    const uint8_t *p = (const uint8_t *)b.data;
    int32_t pre[4];
    int32_t suf[4];
    size_t u1;
    size_t u2;
    assert_int_equal(lh_pq_delta_decode_i32(p, b.len, pre, 4, &u1, &err),
                     LH_OK);
    assert_int_equal(
        lh_pq_delta_decode_i32(p + u1, b.len - u1, suf, 4, &u2, &err), LH_OK);
    const int32_t want_pre[4] = {0, 2, 0, 3};
    const int32_t want_suf[4] = {4, 2, 6, 5};
    assert_memory_equal(pre, want_pre, sizeof(pre));
    assert_memory_equal(suf, want_suf, sizeof(suf));
    assert_int_equal(b.len - u1 - u2, 17);
    assert_memory_equal(p + u1 + u2, "axislebabbleyhood", 17);
    lh_str out[4];
    lh_arena a;
    lh_arena_init(&a, 0);
    assert_int_equal(lh_pq_dba_decode(p, b.len, out, 4, &a, &err), LH_OK);
    expect_str_eq(v, out, 4);
    write_seed("dba-spec-example", 5, 0, 4, b.data, b.len);
    lh_arena_release(&a);
    lh_buf_release(&b);
}

/* Random strings of 0..max bytes; with `shared`, sorted-ish words that
 * share prefixes with their neighbours. The bytes live in pool. */
static void
make_strings(lh_str *v, uint32_t n, uint32_t max, bool shared, char *pool,
             uint64_t *seed)
{
    size_t at = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = max ? (uint32_t)(rnd(seed) % (max + 1)) : 0;
        char *s = pool + at;
        uint32_t keep = 0;
        if (shared && i > 0) {
            keep = (uint32_t)(rnd(seed) % (v[i - 1].len + 1));
            if (keep > len) {
                len = keep;
            }
            memcpy(s, lh_str_data(&v[i - 1]), keep);
        }
        for (uint32_t k = keep; k < len; k++) {
            s[k] = (char)('a' + rnd(seed) % 26);
        }
        v[i] = lh_str_make(s, len);
        at += len;
    }
}

static void
test_byte_array_roundtrips(void **state)
{
    (void)state;
    uint64_t seed = 7;
    lh_str *v = malloc(10000 * sizeof(lh_str));
    lh_str *out = malloc(10000 * sizeof(lh_str));
    char *pool = malloc(10000 * 200);
    assert_non_null(v);
    assert_non_null(out);
    assert_non_null(pool);
    lh_err err;
    const uint32_t maxes[] = {0, 5, 12, 13, 40, 150};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
            for (int shared = 0; shared < 2; shared++) {
                uint32_t n = sizes[s];
                make_strings(v, n, maxes[m], shared, pool, &seed);

                /* PLAIN */
                lh_buf b = LH_BUF_INIT;
                size_t used;
                assert_int_equal(lh_pq_plain_ba_encode(v, n, &b, &err), LH_OK);
                lh_buf_append(&b, "xyz", 3);
                uint8_t *p = exact_copy(&b);
                assert_int_equal(
                    lh_pq_plain_ba_decode(p, b.len, out, n, &used, &err),
                    LH_OK);
                assert_int_equal(used, b.len - 3);
                expect_str_eq(v, out, n);
                for (uint32_t i = 0; i < n; i++) {
                    if (out[i].len > LH_STR_INLINE) {
                        /* A view into the page, not a copy. */
                        assert_true((const uint8_t *)out[i].u.ptr >= p &&
                                    (const uint8_t *)out[i].u.ptr < p + b.len);
                    }
                }
                free(p);
                lh_buf_release(&b);

                /* DELTA_LENGTH_BYTE_ARRAY */
                assert_int_equal(lh_pq_dlba_encode(v, n, &b, &err), LH_OK);
                lh_buf_append(&b, "xyz", 3);
                p = exact_copy(&b);
                assert_int_equal(
                    lh_pq_dlba_decode(p, b.len, out, n, NULL, &used, &err),
                    LH_OK);
                assert_int_equal(used, b.len - 3);
                expect_str_eq(v, out, n);
                for (uint32_t i = 0; i < n; i++) {
                    if (out[i].len > LH_STR_INLINE) {
                        assert_true((const uint8_t *)out[i].u.ptr >= p &&
                                    (const uint8_t *)out[i].u.ptr < p + b.len);
                    }
                }
                free(p);
                lh_buf_release(&b);

                /* DELTA_BYTE_ARRAY: materialized, the input can go. */
                assert_int_equal(lh_pq_dba_encode(v, n, &b, &err), LH_OK);
                p = exact_copy(&b);
                lh_arena a;
                lh_arena_init(&a, 0);
                lh_rc rc = lh_pq_dba_decode(p, b.len, out, n, &a, &err);
                if (rc != LH_OK) {
                    print_error("DBA n %u: %s\n", n, err.msg);
                    fail();
                }
                memset(p, 0, b.len);
                free(p);
                expect_str_eq(v, out, n);
                lh_arena_release(&a);
                lh_buf_release(&b);
            }
        }
    }
    free(pool);
    free(out);
    free(v);
}

static void
test_byte_array_errors(void **state)
{
    (void)state;
    lh_err err;
    lh_str out[8];
    size_t used;
    /* PLAIN: a length past the end, and a cut length. */
    const uint8_t plain[] = {0x03, 0, 0, 0, 'a', 'b', 'c', 0x05, 0, 0, 0, 'x'};
    assert_int_equal(lh_pq_plain_ba_decode(plain, 7, out, 1, &used, &err),
                     LH_OK);
    assert_int_equal(used, 7);
    expect_corrupt(
        lh_pq_plain_ba_decode(plain, sizeof(plain), out, 2, &used, &err), &err,
        "PLAIN: byte array 1 of 5 bytes");
    expect_corrupt(lh_pq_plain_ba_decode(plain, 9, out, 2, &used, &err), &err,
                   "PLAIN: ");
    assert_int_equal(lh_pq_plain_ba_decode(NULL, 0, out, 0, &used, &err),
                     LH_OK);

    /* DELTA_LENGTH_BYTE_ARRAY: lengths past the data, negative lengths. */
    const lh_str v[3] = {S("one"), S("two"), S("three")};
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_pq_dlba_encode(v, 3, &b, &err), LH_OK);
    expect_corrupt(lh_pq_dlba_decode((const uint8_t *)b.data, b.len - 1, out, 3,
                                     NULL, &used, &err),
                   &err, "DELTA_LENGTH_BYTE_ARRAY: value 2 of 5 bytes");
    lh_buf_release(&b);
    const int32_t neg[2] = {3, -1};
    assert_int_equal(lh_pq_delta_encode_i32(neg, 2, &b, &err), LH_OK);
    lh_buf_append(&b, "abcdef", 6);
    expect_corrupt(lh_pq_dlba_decode((const uint8_t *)b.data, b.len, out, 2,
                                     NULL, &used, &err),
                   &err, "DELTA_LENGTH_BYTE_ARRAY: value 1 has length -1");
    lh_buf_release(&b);
    expect_corrupt(lh_pq_dlba_decode(NULL, 0, out, 1, NULL, &used, &err), &err,
                   "DELTA_LENGTH_BYTE_ARRAY lengths: DELTA_BINARY_PACKED: ");

    /* DELTA_BYTE_ARRAY: a prefix longer than the previous value. */
    const int32_t pre[2] = {0, 4};
    const int32_t suf[2] = {3, 1};
    assert_int_equal(lh_pq_delta_encode_i32(pre, 2, &b, &err), LH_OK);
    assert_int_equal(lh_pq_delta_encode_i32(suf, 2, &b, &err), LH_OK);
    lh_buf_append(&b, "abcd", 4);
    lh_arena a;
    lh_arena_init(&a, 0);
    expect_corrupt(
        lh_pq_dba_decode((const uint8_t *)b.data, b.len, out, 2, &a, &err),
        &err,
        "DELTA_BYTE_ARRAY: value 1 has a prefix of 4 bytes, the "
        "previous value has 3");
    lh_buf_release(&b);
    /* A first value with a prefix. */
    const int32_t pre1[1] = {1};
    assert_int_equal(lh_pq_delta_encode_i32(pre1, 1, &b, &err), LH_OK);
    assert_int_equal(lh_pq_delta_encode_i32(suf, 1, &b, &err), LH_OK);
    lh_buf_append(&b, "abc", 3);
    expect_corrupt(
        lh_pq_dba_decode((const uint8_t *)b.data, b.len, out, 1, &a, &err),
        &err, "DELTA_BYTE_ARRAY: value 0 has a prefix");
    lh_buf_release(&b);

    /* A small page that expands a lot: 2000 values of 1000 bytes each from
     * one 1000-byte suffix; past a budget it is LH_ENOMEM. */
    static lh_str big_out[2000];
    static int32_t pre_n[2000];
    static int32_t suf_n[2000];
    for (int i = 0; i < 2000; i++) {
        pre_n[i] = i == 0 ? 0 : 1000;
        suf_n[i] = i == 0 ? 1000 : 0;
    }
    assert_int_equal(lh_pq_delta_encode_i32(pre_n, 2000, &b, &err), LH_OK);
    assert_int_equal(lh_pq_delta_encode_i32(suf_n, 2000, &b, &err), LH_OK);
    for (int i = 0; i < 1000; i++) {
        lh_buf_putc(&b, (char)('a' + i % 26));
    }
    lh_arena small;
    lh_arena_init(&small, 1 << 20);
    assert_int_equal(lh_pq_dba_decode((const uint8_t *)b.data, b.len, big_out,
                                      2000, &small, &err),
                     LH_ENOMEM);
    assert_int_equal(lh_pq_dba_decode((const uint8_t *)b.data, b.len, big_out,
                                      2000, &a, &err),
                     LH_OK);
    assert_int_equal(big_out[1999].len, 1000);
    assert_memory_equal(lh_str_data(&big_out[1999]), b.data + b.len - 1000,
                        1000);
    lh_arena_release(&small);
    lh_buf_release(&b);
    lh_arena_release(&a);

    /* Random damage to real encodings of both. */
    uint64_t seed = 11;
    static lh_str vals[300];
    static char pool[300 * 40];
    make_strings(vals, 300, 39, true, pool, &seed);
    for (int iter = 0; iter < 400; iter++) {
        bool dba = iter & 1;
        lh_buf e = LH_BUF_INIT;
        if (dba) {
            assert_int_equal(lh_pq_dba_encode(vals, 300, &e, &err), LH_OK);
        } else {
            assert_int_equal(lh_pq_dlba_encode(vals, 300, &e, &err), LH_OK);
        }
        uint8_t *p = exact_copy(&e);
        size_t len = e.len;
        if (iter % 4 < 2) {
            p[rnd(&seed) % len] = (uint8_t)rnd(&seed);
        } else {
            len = (size_t)(rnd(&seed) % len);
        }
        static lh_str o[300];
        lh_arena_init(&a, 0);
        lh_rc rc = dba ? lh_pq_dba_decode(p, len, o, 300, &a, &err)
                       : lh_pq_dlba_decode(p, len, o, 300, NULL, &used, &err);
        assert_true(rc == LH_OK || rc == LH_ECORRUPT);
        lh_arena_release(&a);
        free(p);
        lh_buf_release(&e);
    }
}

/* ---- BYTE_STREAM_SPLIT --------------------------------------------------- */

static void
test_bss(void **state)
{
    (void)state;
    lh_err err;
    /* Encodings.md's three floats. */
    const uint8_t raw[12] = {0xaa, 0xbb, 0xcc, 0xdd, 0x00, 0x11,
                             0x22, 0x33, 0xa3, 0xb4, 0xc5, 0xd6};
    const uint8_t split[12] = {0xaa, 0x00, 0xa3, 0xbb, 0x11, 0xb4,
                               0xcc, 0x22, 0xc5, 0xdd, 0x33, 0xd6};
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_pq_bss_encode(raw, 4, 3, &b, &err), LH_OK);
    expect_bytes(split, 12, &b);
    lh_buf_release(&b);
    uint8_t out[12];
    assert_int_equal(lh_pq_bss_decode(split, 12, 4, 3, out, &err), LH_OK);
    assert_memory_equal(out, raw, 12);
    write_seed("bss-spec-example", 6, 4, 3, split, 12);

    /* Every width up to 17 (FIXED_LEN_BYTE_ARRAY) at every size. */
    uint64_t seed = 3;
    uint8_t *v = malloc(10000 * 17);
    uint8_t *o = malloc(10000 * 17);
    assert_non_null(v);
    assert_non_null(o);
    for (size_t w = 1; w <= 17; w++) {
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            uint32_t n = sizes[s];
            for (size_t i = 0; i < n * w; i++) {
                v[i] = (uint8_t)rnd(&seed);
            }
            assert_int_equal(lh_pq_bss_encode(v, w, n, &b, &err), LH_OK);
            assert_int_equal(b.len, n * w);
            uint8_t *p = exact_copy(&b);
            assert_int_equal(lh_pq_bss_decode(p, b.len, w, n, o, &err), LH_OK);
            if (n > 0) {
                assert_memory_equal(o, v, n * w);
            }
            /* Fewer values than the streams hold: the first ones. */
            if (n > 1) {
                assert_int_equal(lh_pq_bss_decode(p, b.len, w, n - 1, o, &err),
                                 LH_OK);
                assert_memory_equal(o, v, (n - 1) * w);
            }
            if (w > 1 && n > 0) {
                expect_corrupt(lh_pq_bss_decode(p, b.len - 1, w, n, o, &err),
                               &err, "BYTE_STREAM_SPLIT: ");
            }
            expect_corrupt(lh_pq_bss_decode(p, b.len, w, n + 1, o, &err), &err,
                           "BYTE_STREAM_SPLIT: ");
            free(p);
            lh_buf_release(&b);
        }
    }
    assert_int_equal(lh_pq_bss_decode(split, 12, 0, 3, out, &err), LH_EINVAL);
    assert_int_equal(lh_pq_bss_encode(raw, 0, 3, &b, &err), LH_EINVAL);
    assert_int_equal(lh_pq_bss_decode(NULL, 0, 8, 0, out, &err), LH_OK);
    lh_buf_release(&b);
    free(o);
    free(v);
}

/* ---- PLAIN booleans ------------------------------------------------------ */

static void
test_plain_bool(void **state)
{
    (void)state;
    lh_err err;
    /* LSB first: true false true true false false false false | true. */
    const uint8_t v[9] = {1, 0, 1, 1, 0, 0, 0, 0, 1};
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_pq_plain_bool_encode(v, 9, &b, &err), LH_OK);
    const uint8_t want[2] = {0x0d, 0x01};
    expect_bytes(want, 2, &b);
    uint8_t out[10];
    assert_int_equal(lh_pq_plain_bool_decode(want, 2, out, 9, &err), LH_OK);
    assert_memory_equal(out, v, 9);
    expect_corrupt(lh_pq_plain_bool_decode(want, 1, out, 9, &err), &err,
                   "PLAIN: 9 booleans");
    lh_buf_release(&b);

    uint64_t seed = 17;
    uint8_t *r = malloc(10000);
    uint8_t *o = malloc(10000);
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        uint32_t n = sizes[s];
        for (uint32_t i = 0; i < n; i++) {
            r[i] = (uint8_t)(rnd(&seed) & 1);
        }
        assert_int_equal(lh_pq_plain_bool_encode(r, n, &b, &err), LH_OK);
        assert_int_equal(b.len, (n + 7) / 8);
        uint8_t *p = exact_copy(&b);
        assert_int_equal(lh_pq_plain_bool_decode(p, b.len, o, n, &err), LH_OK);
        if (n > 0) {
            assert_memory_equal(o, r, n);
        }
        free(p);
        lh_buf_release(&b);
    }
    free(o);
    free(r);
    write_seed("plain-bool", 7, 0, 9, want, 2);
    const uint8_t plain[] = {0x03, 0, 0, 0, 'a', 'b', 'c', 0x05, 0, 0, 0, 'x'};
    write_seed("plain-byte-array", 8, 0, 2, plain, sizeof(plain));
}

/* ---- speed (printed, not asserted) --------------------------------------- */

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_speed(void **state)
{
    (void)state;
    enum { N = 1 << 22 };
    uint64_t seed = 1;
    uint32_t *v = malloc(N * sizeof(uint32_t));
    uint32_t *o = malloc(N * sizeof(uint32_t));
    int64_t *v64 = malloc(N * sizeof(int64_t));
    int64_t *o64 = malloc(N * sizeof(int64_t));
    assert_non_null(v);
    assert_non_null(o);
    assert_non_null(v64);
    assert_non_null(o64);
    /* Touch the outputs first: page faults are not decoding. */
    memset(o, 1, N * sizeof(uint32_t));
    memset(o64, 1, N * sizeof(int64_t));
    lh_err err;
    const int widths[] = {1, 3, 8, 12, 20, 32};
    for (size_t k = 0; k < sizeof(widths) / sizeof(widths[0]); k++) {
        int w = widths[k];
        for (uint32_t i = 0; i < N; i++) {
            v[i] = (uint32_t)(rnd(&seed) & mask_of((unsigned)w));
        }
        lh_buf b = LH_BUF_INIT;
        assert_int_equal(lh_pq_rle_encode(v, N, w, &b, &err), LH_OK);
        double t0 = now_s();
        int reps = 5;
        for (int r = 0; r < reps; r++) {
            assert_int_equal(
                lh_pq_rle_decode((const uint8_t *)b.data, b.len, w, o, N, &err),
                LH_OK);
        }
        double dt = now_s() - t0;
        assert_memory_equal(o, v, N * sizeof(uint32_t));
        print_message("RLE bit-packed width %2d: %7.0f M values/s\n", w,
                      (double)N * reps / dt / 1e6);
        lh_buf_release(&b);
    }
    /* Levels-like data: long runs. */
    for (uint32_t i = 0; i < N; i++) {
        v[i] = (i / 1000) & 1;
    }
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_pq_rle_encode(v, N, 1, &b, &err), LH_OK);
    double t0 = now_s();
    for (int r = 0; r < 5; r++) {
        assert_int_equal(
            lh_pq_rle_decode((const uint8_t *)b.data, b.len, 1, o, N, &err),
            LH_OK);
    }
    print_message("RLE runs of 1000:         %7.0f M values/s\n",
                  (double)N * 5 / (now_s() - t0) / 1e6);
    lh_buf_release(&b);

    /* Delta: timestamps a few ms apart (narrow miniblocks), and random. */
    for (int kind = 0; kind < 2; kind++) {
        uint64_t acc = UINT64_C(1700000000000000);
        for (uint32_t i = 0; i < N; i++) {
            acc += kind == 0 ? rnd(&seed) % 5000 : rnd(&seed) >> 1;
            v64[i] = (int64_t)acc; /* wraps: any int64 sequence */
        }
        assert_int_equal(lh_pq_delta_encode_i64(v64, N, &b, &err), LH_OK);
        t0 = now_s();
        size_t used;
        for (int r = 0; r < 5; r++) {
            assert_int_equal(lh_pq_delta_decode_i64((const uint8_t *)b.data,
                                                    b.len, o64, N, &used, &err),
                             LH_OK);
        }
        double dt = now_s() - t0;
        assert_memory_equal(o64, v64, N * sizeof(int64_t));
        print_message("DELTA i64 %s: %7.0f M values/s (%.2f bytes/value)\n",
                      kind == 0 ? "narrow (13 bits)" : "wide (63 bits)  ",
                      (double)N * 5 / dt / 1e6, (double)b.len / N);
        lh_buf_release(&b);
    }
    int32_t *v32 = (int32_t *)v;
    int32_t *o32 = (int32_t *)o;
    for (uint32_t i = 0; i < N; i++) {
        v32[i] = (int32_t)(i * 3 + (uint32_t)(rnd(&seed) % 100));
    }
    assert_int_equal(lh_pq_delta_encode_i32(v32, N, &b, &err), LH_OK);
    t0 = now_s();
    size_t used;
    for (int r = 0; r < 5; r++) {
        assert_int_equal(lh_pq_delta_decode_i32((const uint8_t *)b.data, b.len,
                                                o32, N, &used, &err),
                         LH_OK);
    }
    print_message("DELTA i32 (8 bits):          %7.0f M values/s\n",
                  (double)N * 5 / (now_s() - t0) / 1e6);
    lh_buf_release(&b);
    free(o64);
    free(v64);
    free(o);
    free(v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bit_width),
        cmocka_unit_test(test_rle_spec_examples),
        cmocka_unit_test(test_bitpacked_legacy_spec_example),
        cmocka_unit_test(test_rle_roundtrip),
        cmocka_unit_test(test_rle_mixed_alignment),
        cmocka_unit_test(test_rle_errors),
        cmocka_unit_test(test_rle_fuzzish),
        cmocka_unit_test(test_delta_spec_examples),
        cmocka_unit_test(test_delta_roundtrip),
        cmocka_unit_test(test_delta_errors),
        cmocka_unit_test(test_dlba_spec_example),
        cmocka_unit_test(test_dba_spec_example),
        cmocka_unit_test(test_byte_array_roundtrips),
        cmocka_unit_test(test_byte_array_errors),
        cmocka_unit_test(test_bss),
        cmocka_unit_test(test_plain_bool),
        cmocka_unit_test(test_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
