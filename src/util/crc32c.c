/* CRC-32C: slice-by-8 tables, or the SSE4.2 crc32 instruction. */
#include <pthread.h>
#include <string.h>

#include "util/util_int.h"

#if defined(__x86_64__) || defined(__i386__)
#define HAVE_X86 1
#include <nmmintrin.h>
#else
#define HAVE_X86 0
#endif

/* The reflected Castagnoli polynomial 0x1EDC6F41. */
#define POLY 0x82f63b78u

/* Built once; then only read. */
static uint32_t table[8][256];
static bool use_hw;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        }
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        for (int t = 1; t < 8; t++) {
            uint32_t prev = table[t - 1][i];
            table[t][i] = (prev >> 8) ^ table[0][prev & 0xff];
        }
    }
#if HAVE_X86
    __builtin_cpu_init();
    use_hw = __builtin_cpu_supports("sse4.2");
#endif
}

static uint64_t
load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* On the inverted state. */
static uint32_t
crc_sw(uint32_t crc, const uint8_t *p, size_t n)
{
    while (n > 0 && ((uintptr_t)p & 7) != 0) {
        crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
        n--;
    }
    while (n >= 8) {
        uint64_t v = load_le64(p) ^ crc;
        crc = table[7][v & 0xff] ^ table[6][(v >> 8) & 0xff] ^
              table[5][(v >> 16) & 0xff] ^ table[4][(v >> 24) & 0xff] ^
              table[3][(v >> 32) & 0xff] ^ table[2][(v >> 40) & 0xff] ^
              table[1][(v >> 48) & 0xff] ^ table[0][v >> 56];
        p += 8;
        n -= 8;
    }
    while (n > 0) {
        crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
        n--;
    }
    return crc;
}

#if HAVE_X86
/* On the inverted state. */
__attribute__((target("sse4.2"))) static uint32_t
crc_hw(uint32_t crc, const uint8_t *p, size_t n)
{
    while (n > 0 && ((uintptr_t)p & 7) != 0) {
        crc = _mm_crc32_u8(crc, *p++);
        n--;
    }
#if defined(__x86_64__)
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        n -= 8;
    }
    crc = (uint32_t)c;
#endif
    while (n >= 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        crc = _mm_crc32_u32(crc, v);
        p += 4;
        n -= 4;
    }
    while (n > 0) {
        crc = _mm_crc32_u8(crc, *p++);
        n--;
    }
    return crc;
}
#endif

uint32_t
lh__crc32c_sw(uint32_t crc, const void *p, size_t n)
{
    pthread_once(&crc_once, crc_init);
    return ~crc_sw(~crc, p, n);
}

bool
lh__crc32c_has_hw(void)
{
    pthread_once(&crc_once, crc_init);
    return use_hw;
}

uint32_t
lh__crc32c_hw(uint32_t crc, const void *p, size_t n)
{
    pthread_once(&crc_once, crc_init);
#if HAVE_X86
    if (use_hw) {
        return ~crc_hw(~crc, p, n);
    }
#endif
    return ~crc_sw(~crc, p, n);
}

uint32_t
lh_crc32c(uint32_t crc, const void *p, size_t n)
{
    return lh__crc32c_hw(crc, p, n);
}
