/*
 * Parquet page compression (Compression.md). The codec ids are
 * parquet.thrift's CompressionCodec numbers, LH_PQ_CODEC_* in meta.h.
 * Every codec is the Debian library's (zlib, libsnappy, libbrotli, liblz4,
 * libzstd); this file only frames and checks.
 *
 * Framing per codec:
 *   UNCOMPRESSED  the bytes as they are
 *   SNAPPY        one raw Snappy block (not the framed "sz" format)
 *   GZIP          gzip members (RFC 1952); a page may hold several
 *                 concatenated members, which are read one after another.
 *                 A zlib stream is accepted too (zlib's header detection).
 *   LZO           refused (no Debian LZO library is linked)
 *   BROTLI        one Brotli stream
 *   LZ4           deprecated Hadoop framing: blocks of [4-byte big-endian
 *                 uncompressed length][4-byte big-endian compressed length]
 *                 [raw LZ4 block]. Like Arrow, a page that does not parse
 *                 that way is read as one raw LZ4 block (old parquet-cpp)
 *                 and then as the LZ4 frame format.
 *   ZSTD          one or more Zstandard frames
 *   LZ4_RAW       one raw LZ4 block
 *
 * Thread rules: no state; any thread.
 */
#ifndef LH_FORMAT_PARQUET_CODEC_H
#define LH_FORMAT_PARQUET_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "format/parquet/meta.h"
#include "util/util.h"

/* The codec's thrift name ("ZSTD", "LZ4_RAW", "UNCOMPRESSED"); "UNKNOWN"
 * for a number parquet.thrift does not define. Static storage. */
const char *lh_pq_codec_name(int codec);

/* A codec chosen by name, case-insensitive: "uncompressed" or "none",
 * "snappy", "gzip", "brotli", "zstd", "lz4" and "lz4_raw" (both
 * LH_PQ_CODEC_LZ4_RAW: like Arrow and DuckDB, a user's "lz4" gets the
 * interoperable block codec; the spec asks writers not to offer the
 * deprecated Hadoop one), "lz4_hadoop" (LH_PQ_CODEC_LZ4). LH_EUNSUPPORTED
 * for "lzo" ("unsupported: LZO codec"), LH_EINVAL naming any other text. */
lh_rc lh_pq_codec_parse(const char *name, int *codec, lh_err *err);

/* Decompresses one page body src[0..srclen) into dst[0..dstlen), where
 * dstlen is the exact uncompressed size the page header states. Nothing is
 * allocated in proportion to what the data claims (a 4 KB page that
 * inflates to gigabytes stops at dstlen); the libraries' own working state
 * is bounded (zlib and brotli's decoder allocate through lh_malloc, zstd
 * and the lz4 frame decoder through malloc). srclen == 0 with dstlen == 0
 * is an empty page for every codec.
 * Returns LH_OK when exactly dstlen bytes came out; LH_ECORRUPT (naming
 * the codec) for data that does not decompress or gives another size;
 * LH_EUNSUPPORTED ("unsupported: ...") for LZO and codec numbers the spec
 * does not define; LH_ENOMEM. dst's contents are unspecified on error. */
lh_rc lh_pq_decompress(int codec, const uint8_t *src, size_t srclen,
                       uint8_t *dst, size_t dstlen, lh_err *err);

/* Compresses src[0..len) and appends the result to out. level 0 is the
 * codec's default: GZIP 6 (zlib's), BROTLI 8 (Arrow's; brotli's own 11 is
 * several times slower), ZSTD 3, LZ4/LZ4_RAW 1 (the fast compressor; 2..12
 * use LZ4HC). Ranges: GZIP 1..9, BROTLI 1..11, ZSTD zstd's
 * [ZSTD_minCLevel(), ZSTD_maxCLevel()], LZ4 1..12; UNCOMPRESSED and SNAPPY
 * ignore the level. LZ4 (Hadoop) writes one block per 64 KiB of input:
 * LZ4's window is 64 KiB, so the split costs no ratio, and each block fits
 * the 256 KiB buffer of Hadoop's own decompressor.
 * LH_EINVAL for a level out of range or an unknown codec, LH_EUNSUPPORTED
 * for LZO, LH_ELIMIT for input past 2 GiB (page sizes are int32 in the
 * page header), LH_ENOMEM (out's sticky oom). On error out->len is as it
 * was.
 * BROTLI caveat: libbrotlienc 1.0 calls exit() when malloc fails while
 * compressing; it allocates through malloc, so lh_malloc's fault injection
 * does not reach it. */
lh_rc lh_pq_compress(int codec, int level, const uint8_t *src, size_t len,
                     lh_buf *out, lh_err *err);

#endif
