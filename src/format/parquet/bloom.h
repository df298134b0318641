/*
 * Parquet split-block bloom filters (BloomFilter.md). A filter is z blocks
 * of 32 bytes, each eight little-endian 32-bit words; a value's 64-bit hash
 * picks a block with its top 32 bits and sets (or tests) one bit per word
 * with its low 32 bits times the spec's eight salts. The hash is XXH64 with
 * seed 0 of the value's PLAIN encoding: the little-endian bytes for
 * INT32/INT64/FLOAT/DOUBLE, the bytes without the length prefix for
 * BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY.
 *
 * On disk the bitset follows a Thrift BloomFilterHeader (meta.h); this
 * file only deals with the bitset.
 *
 * Thread rules: no state; check only reads, so any number of threads may
 * check one bitset; insert needs the bitset to itself.
 */
#ifndef LH_FORMAT_PARQUET_BLOOM_H
#define LH_FORMAT_PARQUET_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LH_PQ_BLOOM_BLOCK 32 /* bytes a block */
/* The sizes Arrow and parquet-mr write between: one block, and 128 MiB. */
#define LH_PQ_BLOOM_MIN_BYTES ((size_t)32)
#define LH_PQ_BLOOM_MAX_BYTES ((size_t)128 << 20)

/* XXH64, seed 0, of p[0..len): the hash of a byte array value. */
uint64_t lh_pq_bloom_hash(const void *p, size_t len);
/* The hashes of fixed-width values (of their little-endian bytes; a float's
 * bits as they are, so 0.0 and -0.0 hash apart, as in parquet-mr). */
uint64_t lh_pq_bloom_hash_i32(int32_t v);
uint64_t lh_pq_bloom_hash_i64(int64_t v);
uint64_t lh_pq_bloom_hash_float(float v);
uint64_t lh_pq_bloom_hash_double(double v);

/* Bytes of a filter for ndv distinct values at false-positive probability
 * fpp (Arrow's and parquet-mr's formula: m = -8 ndv / ln(1 - fpp^(1/8))
 * bits), rounded up to a power of two and clamped to [32 bytes, 128 MiB].
 * fpp is clamped into [1e-9, 0.5] (NaN counts as 0.5). */
size_t lh_pq_bloom_optimal_bytes(uint64_t ndv, double fpp);

/* Insert and check on a bitset of nbytes (the caller's: read from a file,
 * or new and zeroed, e.g. lh_arena_calloc of lh_pq_bloom_optimal_bytes).
 * nbytes should be a positive multiple of 32 (the file's numBytes; check
 * that before trusting it): trailing bytes of a partial block are ignored,
 * a bitset below 32 bytes holds nothing (insert does nothing, check says
 * true), and only the first 2^31 - 1 blocks are used (the spec's limit).
 * check only reads, so the bitset may be read-only memory. */
void lh_pq_bloom_insert(uint8_t *bits, size_t nbytes, uint64_t hash);
/* False: no inserted value had this hash. True: probably one did. */
bool lh_pq_bloom_check(const uint8_t *bits, size_t nbytes, uint64_t hash);

#endif
