/* Split-block bloom filters (bloom.h; BloomFilter.md). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <xxhash.h>

#include "format/parquet/bloom.h"
#include "util/util.h"

static const uint32_t salt[8] = {0x47b6137bU, 0x44974d91U, 0x8824ad5bU,
                                 0xa2b7289dU, 0x705495c7U, 0x2df1424bU,
                                 0x9efc4947U, 0x5c6bfb31U};

uint64_t
lh_pq_bloom_hash(const void *p, size_t len)
{
    static const uint8_t none[1];
    return XXH64(p != NULL ? p : none, len, 0);
}

static uint64_t
hash_le(uint64_t v, size_t width)
{
    uint8_t b[8];
    for (size_t i = 0; i < width; i++) {
        b[i] = (uint8_t)(v >> (8 * i));
    }
    return XXH64(b, width, 0);
}

uint64_t
lh_pq_bloom_hash_i32(int32_t v)
{
    return hash_le((uint32_t)v, 4);
}

uint64_t
lh_pq_bloom_hash_i64(int64_t v)
{
    return hash_le((uint64_t)v, 8);
}

uint64_t
lh_pq_bloom_hash_float(float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    return hash_le(u, 4);
}

uint64_t
lh_pq_bloom_hash_double(double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    return hash_le(u, 8);
}

size_t
lh_pq_bloom_optimal_bytes(uint64_t ndv, double fpp)
{
    if (!(fpp <= 0.5)) {
        fpp = 0.5; /* also NaN */
    }
    if (fpp < 1e-9) {
        fpp = 1e-9;
    }
    double bits = -8.0 * (double)ndv / log(1.0 - pow(fpp, 1.0 / 8.0));
    double max_bits = (double)LH_PQ_BLOOM_MAX_BYTES * 8;
    if (!(bits < max_bits)) {
        return LH_PQ_BLOOM_MAX_BYTES;
    }
    size_t bytes = LH_PQ_BLOOM_MIN_BYTES;
    while ((double)bytes * 8 < bits) {
        bytes *= 2;
    }
    return bytes;
}

/* Whole blocks of the bitset, at most the spec's 2^31 - 1. */
static inline size_t
nblocks_of(size_t nbytes)
{
    size_t z = nbytes / LH_PQ_BLOOM_BLOCK;
    return z < INT32_MAX ? z : INT32_MAX;
}

void
lh_pq_bloom_insert(uint8_t *bits, size_t nbytes, uint64_t hash)
{
    uint64_t z = nblocks_of(nbytes);
    if (z == 0) {
        return;
    }
    uint8_t *b = bits + (((hash >> 32) * z) >> 32) * LH_PQ_BLOOM_BLOCK;
    uint32_t x = (uint32_t)hash;
    for (int i = 0; i < 8; i++) {
        uint32_t bit = (x * salt[i]) >> 27;
        lh_put_le32(b + 4 * i, lh_get_le32(b + 4 * i) | (uint32_t)1 << bit);
    }
}

bool
lh_pq_bloom_check(const uint8_t *bits, size_t nbytes, uint64_t hash)
{
    uint64_t z = nblocks_of(nbytes);
    if (z == 0) {
        return true;
    }
    const uint8_t *b = bits + (((hash >> 32) * z) >> 32) * LH_PQ_BLOOM_BLOCK;
    uint32_t x = (uint32_t)hash;
    for (int i = 0; i < 8; i++) {
        uint32_t bit = (x * salt[i]) >> 27;
        if ((lh_get_le32(b + 4 * i) & (uint32_t)1 << bit) == 0) {
            return false;
        }
    }
    return true;
}
