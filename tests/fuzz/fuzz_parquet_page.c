/*
 * fuzz_parquet_page: the Parquet page decoders of
 * src/format/parquet/{encoding,codec}.h on outside bytes. Input layout:
 *
 *   byte 0      the decoder, modulo 10: 0 RLE hybrid, 1 BIT_PACKED, 2
 *               DELTA_BINARY_PACKED int32, 3 ... int64, 4
 *               DELTA_LENGTH_BYTE_ARRAY, 5 DELTA_BYTE_ARRAY, 6
 *               BYTE_STREAM_SPLIT, 7 PLAIN booleans, 8 PLAIN byte arrays,
 *               9 decompression
 *   byte 1      its parameter: the bit width (modulo 33), the value width
 *               (1 + modulo 16), or the codec (modulo 8)
 *   bytes 2..3  n, little endian: values to decode (decompression: the
 *               expected size)
 *   the rest    the page bytes
 *
 * Besides "no crash, no sanitizer report": failures are LH_ECORRUPT (or
 * LH_EUNSUPPORTED for LZO and LH_ENOMEM past the arena budget); whatever
 * decodes encodes again to bytes that decode to the same values;
 * consumed lengths stay inside the input; views point into it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/parquet/codec.h"
#include "format/parquet/encoding.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *fmt, ...) LH_PRINTF(1, 2);

static void
fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_parquet_page: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

static void
expect_fail_code(lh_rc rc, const lh_err *err, const char *what)
{
    if (rc != LH_ECORRUPT && rc != LH_ENOMEM) {
        fail("%s failed with %s, not LH_ECORRUPT: %s", what, lh_rc_name(rc),
             err->msg);
    }
}

/* A copy of b's bytes in a buffer of exactly its length. */
static uint8_t *
exact(const lh_buf *b)
{
    uint8_t *p = malloc(b->len ? b->len : 1);
    if (p == NULL) {
        abort();
    }
    if (b->len) {
        memcpy(p, b->data, b->len);
    }
    return p;
}

static void
fuzz_rle(const uint8_t *p, size_t len, int bw, uint32_t n, bool legacy)
{
    uint32_t *out = malloc(((size_t)n + 1) * 4);
    uint32_t *back = malloc(((size_t)n + 1) * 4);
    lh_err err;
    lh_rc rc = legacy ? lh_pq_bitpacked_legacy_decode(p, len, bw, out, n, &err)
                      : lh_pq_rle_decode(p, len, bw, out, n, &err);
    if (rc != LH_OK) {
        expect_fail_code(rc, &err, legacy ? "BIT_PACKED" : "RLE");
        goto done;
    }
    uint64_t max = bw == 32 ? UINT32_MAX : ((uint64_t)1 << bw) - 1;
    for (uint32_t i = 0; i < n; i++) {
        if (out[i] > max) {
            fail("value %u of %u bits decoded as %u", i, bw, out[i]);
        }
    }
    lh_buf b = LH_BUF_INIT;
    if (lh_pq_rle_encode(out, n, bw, &b, &err) != LH_OK) {
        fail("re-encoding RLE failed: %s", err.msg);
    }
    uint8_t *q = exact(&b);
    if (lh_pq_rle_decode(q, b.len, bw, back, n, &err) != LH_OK ||
        (n > 0 && memcmp(out, back, (size_t)n * 4) != 0)) {
        fail("RLE round trip of %u values at width %d differs", n, bw);
    }
    free(q);
    lh_buf_release(&b);
done:
    free(back);
    free(out);
}

static void
fuzz_delta(const uint8_t *p, size_t len, uint32_t n, bool wide)
{
    size_t w = wide ? 8 : 4;
    void *out = malloc(((size_t)n + 1) * w);
    void *back = malloc(((size_t)n + 1) * w);
    lh_err err;
    size_t used = 0;
    lh_rc rc = wide ? lh_pq_delta_decode_i64(p, len, out, n, &used, &err)
                    : lh_pq_delta_decode_i32(p, len, out, n, &used, &err);
    if (rc != LH_OK) {
        expect_fail_code(rc, &err, "DELTA_BINARY_PACKED");
        goto done;
    }
    if (used > len) {
        fail("DELTA_BINARY_PACKED consumed %zu of %zu bytes", used, len);
    }
    lh_buf b = LH_BUF_INIT;
    rc = wide ? lh_pq_delta_encode_i64(out, n, &b, &err)
              : lh_pq_delta_encode_i32(out, n, &b, &err);
    if (rc != LH_OK) {
        fail("re-encoding DELTA_BINARY_PACKED failed: %s", err.msg);
    }
    uint8_t *q = exact(&b);
    size_t used2 = 0;
    rc = wide ? lh_pq_delta_decode_i64(q, b.len, back, n, &used2, &err)
              : lh_pq_delta_decode_i32(q, b.len, back, n, &used2, &err);
    if (rc != LH_OK || used2 != b.len ||
        (n > 0 && memcmp(out, back, (size_t)n * w) != 0)) {
        fail("DELTA_BINARY_PACKED round trip of %u values differs", n);
    }
    free(q);
    lh_buf_release(&b);
done:
    free(back);
    free(out);
}

static void
same_strings(const lh_str *a, const lh_str *b, uint32_t n, const char *what)
{
    for (uint32_t i = 0; i < n; i++) {
        if (!lh_str_eq(&a[i], &b[i])) {
            fail("%s round trip: value %u differs", what, i);
        }
    }
}

static void
inside(const lh_str *v, uint32_t n, const uint8_t *p, size_t len,
       const char *what)
{
    for (uint32_t i = 0; i < n; i++) {
        if (v[i].len > LH_STR_INLINE &&
            ((const uint8_t *)v[i].u.ptr < p ||
             (const uint8_t *)v[i].u.ptr + v[i].len > p + len)) {
            fail("%s: value %u points outside the input", what, i);
        }
    }
}

static void
fuzz_strings(const uint8_t *p, size_t len, uint32_t n, int kind)
{
    static const char *const names[] = {"DELTA_LENGTH_BYTE_ARRAY",
                                        "DELTA_BYTE_ARRAY", "PLAIN"};
    lh_str *out = malloc(((size_t)n + 1) * sizeof(lh_str));
    lh_str *back = malloc(((size_t)n + 1) * sizeof(lh_str));
    lh_arena a;
    lh_arena a2; /* the second decode's, so it gets the same budget */
    lh_arena_init(&a, (size_t)16 << 20);
    lh_arena_init(&a2, (size_t)16 << 20);
    lh_err err;
    size_t used = 0;
    lh_rc rc;
    if (kind == 0) {
        rc = lh_pq_dlba_decode(p, len, out, n, NULL, &used, &err);
    } else if (kind == 1) {
        rc = lh_pq_dba_decode(p, len, out, n, &a, &err);
    } else {
        rc = lh_pq_plain_ba_decode(p, len, out, n, &used, &err);
    }
    if (rc != LH_OK) {
        expect_fail_code(rc, &err, names[kind]);
        goto done;
    }
    if (used > len) {
        fail("%s consumed %zu of %zu bytes", names[kind], used, len);
    }
    if (kind != 1) {
        inside(out, n, p, len, names[kind]);
    }
    lh_buf b = LH_BUF_INIT;
    if (kind == 0) {
        rc = lh_pq_dlba_encode(out, n, &b, &err);
    } else if (kind == 1) {
        rc = lh_pq_dba_encode(out, n, &b, &err);
    } else {
        rc = lh_pq_plain_ba_encode(out, n, &b, &err);
    }
    if (rc != LH_OK) {
        fail("re-encoding %s failed: %s", names[kind], err.msg);
    }
    if (kind == 2 &&
        (b.len != used || (used > 0 && memcmp(b.data, p, used) != 0))) {
        fail("PLAIN byte arrays re-encode to other bytes");
    }
    uint8_t *q = exact(&b);
    size_t used2 = 0;
    if (kind == 0) {
        rc = lh_pq_dlba_decode(q, b.len, back, n, NULL, &used2, &err);
    } else if (kind == 1) {
        rc = lh_pq_dba_decode(q, b.len, back, n, &a2, &err);
    } else {
        rc = lh_pq_plain_ba_decode(q, b.len, back, n, &used2, &err);
    }
    if (rc != LH_OK) {
        fail("%s does not decode its own encoding: %s", names[kind], err.msg);
    }
    same_strings(out, back, n, names[kind]);
    free(q);
    lh_buf_release(&b);
done:
    lh_arena_release(&a2);
    lh_arena_release(&a);
    free(back);
    free(out);
}

static void
fuzz_bss(const uint8_t *p, size_t len, size_t width, uint32_t n)
{
    uint8_t *out = malloc((size_t)n * width + 1);
    lh_err err;
    lh_rc rc = lh_pq_bss_decode(p, len, width, n, out, &err);
    if (rc != LH_OK) {
        expect_fail_code(rc, &err, "BYTE_STREAM_SPLIT");
    } else if (len == (size_t)n * width) {
        lh_buf b = LH_BUF_INIT;
        if (lh_pq_bss_encode(out, width, n, &b, &err) != LH_OK ||
            b.len != len || (len > 0 && memcmp(b.data, p, len) != 0)) {
            fail("BYTE_STREAM_SPLIT re-encodes to other bytes");
        }
        lh_buf_release(&b);
    }
    free(out);
}

static void
fuzz_bool(const uint8_t *p, size_t len, uint32_t n)
{
    uint8_t *out = malloc((size_t)n + 1);
    lh_err err;
    lh_rc rc = lh_pq_plain_bool_decode(p, len, out, n, &err);
    if ((rc == LH_OK) != (len >= ((size_t)n + 7) / 8)) {
        fail("PLAIN booleans: %s for %u values in %zu bytes", lh_rc_name(rc), n,
             len);
    }
    if (rc == LH_OK) {
        for (uint32_t i = 0; i < n; i++) {
            if (out[i] > 1) {
                fail("PLAIN boolean %u decoded as %u", i, out[i]);
            }
        }
    } else {
        expect_fail_code(rc, &err, "PLAIN booleans");
    }
    free(out);
}

static void
fuzz_codec(const uint8_t *p, size_t len, int codec, size_t dstlen)
{
    uint8_t *out = malloc(dstlen ? dstlen : 1);
    lh_err err;
    lh_rc rc = lh_pq_decompress(codec, p, len, out, dstlen, &err);
    if (rc != LH_OK) {
        if (rc != LH_EUNSUPPORTED || codec != LH_PQ_CODEC_LZO) {
            expect_fail_code(rc, &err, lh_pq_codec_name(codec));
        }
        goto done;
    }
    lh_buf b = LH_BUF_INIT;
    if (lh_pq_compress(codec, 0, out, dstlen, &b, &err) != LH_OK) {
        fail("%s: compressing failed: %s", lh_pq_codec_name(codec), err.msg);
    }
    uint8_t *q = exact(&b);
    uint8_t *back = malloc(dstlen ? dstlen : 1);
    if (lh_pq_decompress(codec, q, b.len, back, dstlen, &err) != LH_OK ||
        (dstlen > 0 && memcmp(out, back, dstlen) != 0)) {
        fail("%s round trip of %zu bytes differs", lh_pq_codec_name(codec),
             dstlen);
    }
    free(back);
    free(q);
    lh_buf_release(&b);
done:
    free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4) {
        return 0;
    }
    int sel = data[0] % 10;
    int param = data[1];
    uint32_t n = (uint32_t)data[2] | (uint32_t)data[3] << 8;
    /* The page in a buffer of its own exact size, so reads past it are
     * caught. */
    size_t len = size - 4;
    uint8_t *p = malloc(len ? len : 1);
    if (p == NULL) {
        abort();
    }
    if (len) {
        memcpy(p, data + 4, len);
    }
    switch (sel) {
    case 0:
    case 1:
        fuzz_rle(p, len, param % 33, n, sel == 1);
        break;
    case 2:
    case 3:
        fuzz_delta(p, len, n, sel == 3);
        break;
    case 4:
    case 5:
        fuzz_strings(p, len, n, sel - 4);
        break;
    case 6:
        fuzz_bss(p, len, 1 + (size_t)(param % 16), n);
        break;
    case 7:
        fuzz_bool(p, len, n);
        break;
    case 8:
        fuzz_strings(p, len, n, 2);
        break;
    default:
        fuzz_codec(p, len, param % 8, n);
        break;
    }
    free(p);
    return 0;
}
