/*
 * fuzz_parquet_footer: the Parquet metadata decoders (format/parquet/
 * meta.h) on raw Thrift compact bytes: the input as a FileMetaData (the
 * footer), as a PageHeader, and as the page index and Bloom filter header.
 *
 * Decoding gives LH_OK or LH_ECORRUPT (LH_ENOMEM past the arena's budget),
 * with a message. Whatever decodes encodes, and the encoding decodes to an
 * equal struct that encodes to the same bytes; a page header's *consumed is
 * within the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/parquet/meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decoding can allocate a few hundred times the input (meta.h); the budget
 * keeps a long input's worst case well under libFuzzer's memory limit. */
#define FUZZ_ARENA_BUDGET ((size_t)256 << 20)

static void fail(const char *fmt, ...) LH_PRINTF(1, 2);

static void
fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_parquet_footer: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

static void
check_failure(const char *what, lh_rc rc, const lh_err *err)
{
    if (rc != LH_ECORRUPT && rc != LH_ENOMEM) {
        fail("%s: decode failed with %s", what, lh_rc_name(rc));
    }
    if (err->code != rc || err->msg[0] == '\0') {
        fail("%s: %s without a message", what, lh_rc_name(rc));
    }
}

/* The round trip of one struct kind, written once for the five. */
#define ROUND_TRIP(what, T, decode_call, encode, decode2, equal)               \
    do {                                                                       \
        T s1;                                                                  \
        T s2;                                                                  \
        lh_err err;                                                            \
        lh_rc rc = decode_call;                                                \
        if (rc != LH_OK) {                                                     \
            check_failure(what, rc, &err);                                     \
            break;                                                             \
        }                                                                      \
        lh_buf b1 = LH_BUF_INIT;                                               \
        lh_buf b2 = LH_BUF_INIT;                                               \
        if (encode(&s1, &b1, &err) != LH_OK) {                                 \
            fail("%s: decoded but does not encode: %s", what, err.msg);        \
        }                                                                      \
        if (decode2((const uint8_t *)b1.data, b1.len, a, &s2, &err) !=         \
            LH_OK) {                                                           \
            fail("%s: encoding does not decode: %s", what, err.msg);           \
        }                                                                      \
        if (!equal(&s1, &s2)) {                                                \
            fail("%s: encoding decodes to another struct", what);              \
        }                                                                      \
        if (encode(&s2, &b2, &err) != LH_OK || b1.len != b2.len ||             \
            memcmp(b1.data, b2.data, b1.len) != 0) {                           \
            fail("%s: encoding is not stable", what);                          \
        }                                                                      \
        lh_buf_release(&b1);                                                   \
        lh_buf_release(&b2);                                                   \
    } while (0)

/* The decoders with *consumed, called without it for the second decode. */
static lh_rc
dec_page_header(const uint8_t *p, size_t len, lh_arena *a,
                lh_pq_page_header *out, lh_err *err)
{
    return lh_pq_decode_page_header(p, len, a, out, NULL, err);
}

static lh_rc
dec_column_index(const uint8_t *p, size_t len, lh_arena *a,
                 lh_pq_column_index *out, lh_err *err)
{
    return lh_pq_decode_column_index(p, len, a, out, NULL, err);
}

static lh_rc
dec_offset_index(const uint8_t *p, size_t len, lh_arena *a,
                 lh_pq_offset_index *out, lh_err *err)
{
    return lh_pq_decode_offset_index(p, len, a, out, NULL, err);
}

static lh_rc
dec_bloom(const uint8_t *p, size_t len, lh_arena *a,
          lh_pq_bloom_filter_header *out, lh_err *err)
{
    return lh_pq_decode_bloom_filter_header(p, len, a, out, NULL, err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lh_arena arena;
    lh_arena *a = &arena;
    lh_arena_init(a, FUZZ_ARENA_BUDGET);

    ROUND_TRIP("FileMetaData", lh_pq_file_metadata,
               lh_pq_decode_file_metadata(data, size, a, &s1, &err),
               lh_pq_encode_file_metadata, lh_pq_decode_file_metadata,
               lh_pq_file_metadata_equal);
    lh_arena_reset(a);

    size_t used = SIZE_MAX;
    ROUND_TRIP("PageHeader", lh_pq_page_header,
               lh_pq_decode_page_header(data, size, a, &s1, &used, &err),
               lh_pq_encode_page_header, dec_page_header,
               lh_pq_page_header_equal);
    if (used != SIZE_MAX && used > size) {
        fail("PageHeader: consumed %zu of %zu bytes", used, size);
    }
    lh_arena_reset(a);

    ROUND_TRIP("ColumnIndex", lh_pq_column_index,
               lh_pq_decode_column_index(data, size, a, &s1, NULL, &err),
               lh_pq_encode_column_index, dec_column_index,
               lh_pq_column_index_equal);
    ROUND_TRIP("OffsetIndex", lh_pq_offset_index,
               lh_pq_decode_offset_index(data, size, a, &s1, NULL, &err),
               lh_pq_encode_offset_index, dec_offset_index,
               lh_pq_offset_index_equal);
    ROUND_TRIP("BloomFilterHeader", lh_pq_bloom_filter_header,
               lh_pq_decode_bloom_filter_header(data, size, a, &s1, NULL, &err),
               lh_pq_encode_bloom_filter_header, dec_bloom,
               lh_pq_bloom_filter_header_equal);
    lh_arena_release(a);
    return 0;
}
