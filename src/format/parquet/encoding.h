/*
 * Parquet value and level encodings (Encodings.md), both directions:
 * the RLE/bit-packing hybrid (levels, dictionary indices, booleans), the
 * deprecated BIT_PACKED levels (decode only), DELTA_BINARY_PACKED,
 * DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT, and PLAIN
 * for BOOLEAN and BYTE_ARRAY (PLAIN for fixed-width types is the
 * little-endian bytes themselves: a memcpy on the hosts we build for).
 *
 * Decoders read bytes from outside: every length and count is checked
 * against the input, nothing is allocated in proportion to what the input
 * claims, and malformed input gives LH_ECORRUPT with a message that starts
 * with the encoding's name ("DELTA_BINARY_PACKED: miniblock bit width 70
 * exceeds 64"). Each decoder produces exactly the n values the caller asks
 * for (the page header's count) and fails when the data holds fewer.
 *
 * Encoders append to an lh_buf (LH_ENOMEM through its sticky oom; on any
 * error out->len is unspecified but out stays valid) and return LH_EINVAL
 * for values the encoding cannot hold.
 *
 * Thread rules: no state; any thread.
 */
#ifndef LH_FORMAT_PARQUET_ENCODING_H
#define LH_FORMAT_PARQUET_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "column/batch.h"
#include "util/util.h"

/* Bits needed for values 0..max_value: 0 for 0, 1 for 1, 2 for 2..3, up
 * to 32. The bit width of levels (max level) and dictionary indices (the
 * dictionary's size - 1). */
int lh_pq_bit_width(uint32_t max_value);

/* ---- RLE / bit-packing hybrid ------------------------------------------ */

/* Decodes exactly n values of bit_width (0..32) from p[0..len), the encoded
 * runs without the 4-byte length prefix that v1 levels carry. Values of a
 * bit-packed group past n are ignored, and the last bit-packed run may be
 * cut short after the bytes the n values need (Arrow reads such files).
 * With bit_width 0 every value is 0 and the bytes are not read. An RLE
 * run's value must fit bit_width. LH_EINVAL for bit_width outside 0..32,
 * LH_ECORRUPT "RLE: ..." when the runs end before n values or a value does
 * not fit. */
lh_rc lh_pq_rle_decode(const uint8_t *p, size_t len, int bit_width,
                       uint32_t *out, uint32_t n, lh_err *err);

/* Appends v[0..n) as RLE/bit-packed runs (no length prefix: v1 levels and
 * v1 RLE booleans put the 4-byte little-endian length in front of these
 * bytes). Runs of 8 or more equal values become RLE runs, the rest
 * bit-packed groups of 8 (the last padded with zeros). LH_EINVAL for
 * bit_width outside 0..32 or a value that does not fit in it. */
lh_rc lh_pq_rle_encode(const uint32_t *v, uint32_t n, int bit_width,
                       lh_buf *out, lh_err *err);

/* The deprecated BIT_PACKED level encoding: n values of bit_width bits
 * packed most significant bit first, (n * bit_width + 7) / 8 bytes.
 * LH_EINVAL for bit_width outside 0..32, LH_ECORRUPT when len is short. */
lh_rc lh_pq_bitpacked_legacy_decode(const uint8_t *p, size_t len, int bit_width,
                                    uint32_t *out, uint32_t n, lh_err *err);

/* ---- DELTA_BINARY_PACKED ----------------------------------------------- */

/* Decode n values from the stream at p[0..len); *consumed gets the stream's
 * whole length (through the last block's padding, and past values beyond n
 * when its header counts more), because DELTA_LENGTH_BYTE_ARRAY and
 * DELTA_BYTE_ARRAY put data after it. Arithmetic wraps (two's
 * complement), so any int32/int64 sequence round-trips. Unused miniblocks'
 * bit widths are not checked (the spec lets them be arbitrary).
 * LH_ECORRUPT "DELTA_BINARY_PACKED: ..." for a bad header (block size not
 * a positive multiple of 128, miniblocks not multiples of 32 values), a
 * value count below n, a used miniblock wider than the type (32 or 64
 * bits), or data that ends early. consumed may be NULL. */
lh_rc lh_pq_delta_decode_i32(const uint8_t *p, size_t len, int32_t *out,
                             uint32_t n, size_t *consumed, lh_err *err);
lh_rc lh_pq_delta_decode_i64(const uint8_t *p, size_t len, int64_t *out,
                             uint32_t n, size_t *consumed, lh_err *err);

/* Appends v[0..n) with blocks of 128 values in 4 miniblocks of 32 (what
 * parquet-mr and Arrow write). LH_ENOMEM. */
lh_rc lh_pq_delta_encode_i32(const int32_t *v, uint32_t n, lh_buf *out,
                             lh_err *err);
lh_rc lh_pq_delta_encode_i64(const int64_t *v, uint32_t n, lh_buf *out,
                             lh_err *err);

/* ---- DELTA_LENGTH_BYTE_ARRAY ------------------------------------------- */

/* Decodes n byte arrays: views INTO p (lh_str_make: values longer than 12
 * bytes point into p, so p must outlive them). *consumed (may be NULL) gets
 * the bytes used, lengths and data. The lengths are decoded in chunks on
 * the stack: `scratch` is not used and may be NULL (the parameter stays so
 * callers need not change if that does). LH_ECORRUPT
 * "DELTA_LENGTH_BYTE_ARRAY: ..." for a negative length or data shorter
 * than the lengths say. */
lh_rc lh_pq_dlba_decode(const uint8_t *p, size_t len, lh_str *out, uint32_t n,
                        lh_arena *scratch, size_t *consumed, lh_err *err);

/* Appends the lengths (DELTA_BINARY_PACKED) then the bytes of v[0..n).
 * LH_EINVAL for a value longer than INT32_MAX bytes. */
lh_rc lh_pq_dlba_encode(const lh_str *v, uint32_t n, lh_buf *out, lh_err *err);

/* ---- DELTA_BYTE_ARRAY -------------------------------------------------- */

/* Decodes n values (prefix lengths, then suffixes as
 * DELTA_LENGTH_BYTE_ARRAY) from the whole of p[0..len). Values longer than
 * 12 bytes are materialized in `a` (one block for the page), so they do not
 * borrow p; shorter ones are inline in their lh_str. LH_ECORRUPT
 * "DELTA_BYTE_ARRAY: ..." for a prefix longer than the previous value (or
 * than 0 for the first) and everything the two inner decoders refuse;
 * LH_ENOMEM when `a` is out of memory or past its budget (a page of
 * repeated long prefixes can ask for far more memory than its size: the
 * budget is the limit). */
lh_rc lh_pq_dba_decode(const uint8_t *p, size_t len, lh_str *out, uint32_t n,
                       lh_arena *a, lh_err *err);

/* Appends the prefix lengths shared with each previous value, then the
 * suffixes as DELTA_LENGTH_BYTE_ARRAY. LH_EINVAL for a value longer than
 * INT32_MAX bytes; LH_ENOMEM. */
lh_rc lh_pq_dba_encode(const lh_str *v, uint32_t n, lh_buf *out, lh_err *err);

/* ---- BYTE_STREAM_SPLIT ------------------------------------------------- */

/* Decodes n values of `width` bytes (4 and 8 for FLOAT/INT32 and
 * DOUBLE/INT64, any FIXED_LEN_BYTE_ARRAY width) into out (n * width
 * bytes). p[0..len) must be whole streams: len a multiple of width, and the
 * stream length len / width (the page's value count) at least n.
 * LH_EINVAL for width 0; LH_ECORRUPT "BYTE_STREAM_SPLIT: ..." otherwise. */
lh_rc lh_pq_bss_decode(const uint8_t *p, size_t len, size_t width, uint32_t n,
                       void *out, lh_err *err);

/* Appends the width streams of v[0..n) (n * width bytes). LH_EINVAL for
 * width 0. */
lh_rc lh_pq_bss_encode(const void *v, size_t width, uint32_t n, lh_buf *out,
                       lh_err *err);

/* ---- PLAIN ------------------------------------------------------------- */

/* BOOLEAN: n bits, least significant bit first, into out[i] = 0 or 1.
 * LH_ECORRUPT when len < (n + 7) / 8. */
lh_rc lh_pq_plain_bool_decode(const uint8_t *p, size_t len, uint8_t *out,
                              uint32_t n, lh_err *err);
/* Appends (n + 7) / 8 bytes; any non-zero v[i] is true. */
lh_rc lh_pq_plain_bool_encode(const uint8_t *v, uint32_t n, lh_buf *out,
                              lh_err *err);

/* BYTE_ARRAY: n values of [4-byte little-endian length][bytes], as views
 * INTO p (p must outlive them). *consumed (may be NULL) gets the bytes
 * used. LH_ECORRUPT "PLAIN: ..." when a length runs past len. */
lh_rc lh_pq_plain_ba_decode(const uint8_t *p, size_t len, lh_str *out,
                            uint32_t n, size_t *consumed, lh_err *err);
lh_rc lh_pq_plain_ba_encode(const lh_str *v, uint32_t n, lh_buf *out,
                            lh_err *err);

#endif
