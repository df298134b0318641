/*
 * Parquet encodings (encoding.h; byte layouts in Encodings.md).
 *
 * Bit unpacking, the scan's hot path, goes 32 values at a time through one
 * function per bit width (generated below, fully unrolled so every shift
 * and mask is a constant): value i of width W starts at bit i*W, so one
 * unaligned 64-bit load at byte i*W/8 shifted right by (i*W)%8 holds it
 * whole for W <= 56, and a second load covers W up to 64. The loads read
 * up to 8 (16) bytes past the group's 4*W bytes, so a group that ends near
 * the end of the input is first copied into a zero-padded buffer.
 *
 * DELTA_BINARY_PACKED is read through a small cursor (delta_rd) that can
 * also skip values without unpacking them. The byte-array encodings need
 * that: their data starts where the lengths stream ends, which is only
 * known after walking every block header, so they walk once to find the
 * end and then decode the lengths in chunks on the stack, and never
 * allocate for the lengths.
 */
#include <stdarg.h>
#include <string.h>

#include "format/parquet/encoding.h"

/* Values decoded per chunk when a decoder streams lengths on the stack. */
#define CHUNK 256

/* Encodings.md: run lengths stay below 2^31 so readers can hold them in an
 * int32. */
#define RUN_MAX ((uint32_t)INT32_MAX)

/* A DELTA_BINARY_PACKED block larger than this is refused; writers use 128
 * (parquet-mr, Arrow) up to a few thousand. It keeps per_mb * width / 8
 * far from overflow. */
#define DELTA_MAX_BLOCK ((uint64_t)1 << 30)

static lh_rc corrupt(lh_err *err, size_t off, const char *fmt, ...)
    LH_PRINTF(3, 4);

static lh_rc
corrupt(lh_err *err, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lh_err_setv(err, LH_ECORRUPT, fmt, ap);
    va_end(ap);
    if (err != NULL) {
        err->offset = (int64_t)off;
    }
    return LH_ECORRUPT;
}

static lh_rc
nomem(lh_err *err, const char *what)
{
    return lh_err_set(err, LH_ENOMEM, "%s: out of memory", what);
}

/* Stands in for a NULL input of length 0: arithmetic on NULL is undefined
 * even with offset 0. */
static const uint8_t empty_input[1];

static inline uint64_t
load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline void
store64(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

static inline uint64_t
mask64(unsigned w)
{
    return w >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << w) - 1;
}

static inline unsigned
width64(uint64_t x)
{
    return x == 0 ? 0 : 64 - (unsigned)__builtin_clzll(x);
}

int
lh_pq_bit_width(uint32_t max_value)
{
    return max_value == 0 ? 0 : 32 - __builtin_clz(max_value);
}

/* ---- varints ------------------------------------------------------------- */

/* ULEB128 into *out; false when the input ends inside it or it does not
 * fit 64 bits. */
static bool
get_uleb(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (unsigned shift = 0; p < end; shift += 7) {
        uint8_t b = *p++;
        if (shift == 63 && (b & 0xfe) != 0) {
            return false;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *pp = p;
            *out = v;
            return true;
        }
        if (shift == 63) {
            return false;
        }
    }
    return false;
}

static inline uint64_t
unzigzag(uint64_t u)
{
    return (u >> 1) ^ ((uint64_t)0 - (u & 1));
}

static inline uint64_t
zigzag(int64_t x)
{
    return ((uint64_t)x << 1) ^ ((uint64_t)0 - ((uint64_t)x >> 63));
}

static void
put_uleb(lh_buf *out, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    lh_buf_append(out, tmp, n);
}

/* ---- bit unpacking ------------------------------------------------------- */

#if defined(__clang__)
#define UNROLL32 _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__)
#define UNROLL32 _Pragma("GCC unroll 32")
#else
#define UNROLL32
#endif

/* 32 values of width w (<= 32) from in[0..4w) with 8 readable bytes past
 * it. */
static inline __attribute__((always_inline)) void
unpack32_body(const uint8_t *in, uint32_t *out, const unsigned w)
{
    const uint64_t m = mask64(w);
    UNROLL32
    for (unsigned i = 0; i < 32; i++) {
        unsigned bit = i * w;
        out[i] = (uint32_t)((load64(in + (bit >> 3)) >> (bit & 7)) & m);
    }
}

/* 32 values of width w (<= 64) from in[0..4w) with 16 readable bytes past
 * it. */
static inline __attribute__((always_inline)) void
unpack64_body(const uint8_t *in, uint64_t *out, const unsigned w)
{
    const uint64_t m = mask64(w);
    UNROLL32
    for (unsigned i = 0; i < 32; i++) {
        unsigned bit = i * w;
        unsigned s = bit & 7;
        const uint8_t *q = in + (bit >> 3);
        uint64_t v = load64(q) >> s;
        if (w + s > 64) {
            v |= load64(q + 8) << (64 - s);
        }
        out[i] = v & m;
    }
}

typedef void (*unpack32_fn)(const uint8_t *in, uint32_t *out);
typedef void (*unpack64_fn)(const uint8_t *in, uint64_t *out);

#define DEF32(W)                                                               \
    static void unpack32_##W(const uint8_t *in, uint32_t *out)                 \
    {                                                                          \
        unpack32_body(in, out, W);                                             \
    }
#define DEF64(W)                                                               \
    static void unpack64_##W(const uint8_t *in, uint64_t *out)                 \
    {                                                                          \
        unpack64_body(in, out, W);                                             \
    }
/* clang-format does not settle on one layout for these lists. */
/* clang-format off */
#define EACH_0_32(X)                                                           \
    X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12)       \
    X(13) X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23)         \
    X(24) X(25) X(26) X(27) X(28) X(29) X(30) X(31) X(32)
#define EACH_33_64(X)                                                          \
    X(33) X(34) X(35) X(36) X(37) X(38) X(39) X(40) X(41) X(42) X(43)         \
    X(44) X(45) X(46) X(47) X(48) X(49) X(50) X(51) X(52) X(53) X(54)         \
    X(55) X(56) X(57) X(58) X(59) X(60) X(61) X(62) X(63) X(64)
/* clang-format on */

EACH_0_32(DEF32)
EACH_0_32(DEF64)
EACH_33_64(DEF64)

#define REF32(W) unpack32_##W,
#define REF64(W) unpack64_##W,
static const unpack32_fn unpack32[33] = {EACH_0_32(REF32)};
static const unpack64_fn unpack64[65] = {EACH_0_32(REF64) EACH_33_64(REF64)};

/* Unpacks count values of width w (1..32) from in[0..avail), which holds
 * at least the bytes those values need. */
static void
unpack_run32(const uint8_t *in, size_t avail, unsigned w, uint32_t *out,
             uint32_t count)
{
    unpack32_fn f = unpack32[w];
    size_t group = 4 * (size_t)w;
    while (count >= 32 && avail >= group + 8) {
        f(in, out);
        in += group;
        avail -= group;
        out += 32;
        count -= 32;
    }
    while (count > 0) {
        uint32_t vals[32];
        size_t nb = LH_MIN(avail, group);
        if (avail >= group + 8) {
            f(in, vals); /* a short run inside the data */
        } else {
            uint8_t pad[4 * 32 + 8] = {0};
            memcpy(pad, in, nb);
            f(pad, vals);
        }
        uint32_t take = LH_MIN(count, 32);
        memcpy(out, vals, take * sizeof(uint32_t));
        in += nb;
        avail -= nb;
        out += take;
        count -= take;
    }
}

/* Packs count values of width w (0..64) least significant bit first into
 * dst, which is zeroed and has 9 bytes of room past (count * w + 7) / 8. */
static void
pack_bits(const uint64_t *v, size_t count, unsigned w, uint8_t *dst)
{
    if (w == 0) {
        return;
    }
    for (size_t i = 0; i < count; i++) {
        size_t bit = i * w;
        unsigned s = (unsigned)(bit & 7);
        uint8_t *q = dst + (bit >> 3);
        uint64_t x = v[i] & mask64(w);
        store64(q, load64(q) | (x << s));
        if (s != 0 && w + s > 64) {
            q[8] |= (uint8_t)(x >> (64 - s));
        }
    }
}

/* Appends count (<= 32) values packed at width w. */
static void
put_packed(lh_buf *out, const uint64_t *v, size_t count, unsigned w)
{
    uint8_t tmp[32 * 8 + 16];
    size_t nb = (count * w + 7) / 8;
    memset(tmp, 0, nb + 9);
    pack_bits(v, count, w, tmp);
    lh_buf_append(out, tmp, nb);
}

/* ---- RLE / bit-packing hybrid -------------------------------------------- */

static inline void
fill32(uint32_t *out, uint32_t v, uint64_t n)
{
    if (v == 0) {
        memset(out, 0, n * sizeof(uint32_t));
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        out[i] = v;
    }
}

lh_rc
lh_pq_rle_decode(const uint8_t *p, size_t len, int bit_width, uint32_t *out,
                 uint32_t n, lh_err *err)
{
    if (bit_width < 0 || bit_width > 32) {
        return lh_err_set(err, LH_EINVAL, "RLE: bit width %d is not in 0..32",
                          bit_width);
    }
    if (n == 0) {
        return LH_OK;
    }
    if (bit_width == 0) {
        memset(out, 0, (size_t)n * sizeof(uint32_t));
        return LH_OK;
    }
    if (len == 0) {
        return corrupt(err, 0, "RLE: no data for %u values", n);
    }
    const unsigned w = (unsigned)bit_width;
    const size_t vbytes = (w + 7) / 8;
    const uint64_t vmax = mask64(w);
    const uint8_t *q = p;
    const uint8_t *end = p + len;
    uint32_t done = 0;
    while (done < n) {
        uint64_t h;
        size_t at = (size_t)(q - p);
        if (!get_uleb(&q, end, &h)) {
            return corrupt(err, at,
                           "RLE: the runs end after %u of %u values (byte "
                           "%zu of %zu)",
                           done, n, at, len);
        }
        uint32_t left = n - done;
        size_t avail = (size_t)(end - q);
        if (h & 1) {
            uint64_t groups = h >> 1;
            uint32_t take =
                groups >= (uint64_t)left / 8 + 1 ? left : (uint32_t)groups * 8;
            size_t need = ((uint64_t)take * w + 7) / 8;
            if (need > avail) {
                return corrupt(err, at,
                               "RLE: bit-packed run at byte %zu needs %zu "
                               "bytes, %zu left",
                               at, need, avail);
            }
            unpack_run32(q, avail, w, out + done, take);
            /* Skip the whole run, or what is left of a cut-short last one. */
            q += groups > avail / w ? avail : (size_t)groups * w;
            done += take;
        } else {
            uint64_t count = h >> 1;
            if (vbytes > avail) {
                return corrupt(
                    err, at, "RLE: run at byte %zu ends inside its value", at);
            }
            uint32_t v = 0;
            for (size_t k = 0; k < vbytes; k++) {
                v |= (uint32_t)q[k] << (8 * k);
            }
            if (v > vmax) {
                return corrupt(err, at,
                               "RLE: run value %u at byte %zu does not fit "
                               "in %u bits",
                               v, at, w);
            }
            q += vbytes;
            uint32_t take = count < left ? (uint32_t)count : left;
            fill32(out + done, v, take);
            done += take;
        }
    }
    return LH_OK;
}

static void
rle_put_run(lh_buf *out, uint32_t v, uint32_t count, size_t vbytes)
{
    put_uleb(out, (uint64_t)count << 1);
    uint8_t b[4];
    lh_put_le32(b, v);
    lh_buf_append(out, b, vbytes);
}

/* Bit-packed groups for v[0..count), the last group padded with zeros. */
static void
rle_put_literal(lh_buf *out, const uint32_t *v, uint32_t count, unsigned w)
{
    /* Keep each run's value count (groups * 8) below 2^31. */
    const uint32_t max_vals = (uint32_t)1 << 28;
    while (count > 0) {
        uint32_t c = LH_MIN(count, max_vals);
        uint64_t groups = ((uint64_t)c + 7) / 8;
        put_uleb(out, groups << 1 | 1);
        for (uint32_t i = 0; i < groups * 8; i += 32) {
            uint64_t tmp[32] = {0};
            uint32_t m = LH_MIN(32, c > i ? c - i : 0);
            for (uint32_t k = 0; k < m; k++) {
                tmp[k] = v[i + k];
            }
            size_t nvals = LH_MIN((uint64_t)32, groups * 8 - i);
            put_packed(out, tmp, nvals, w);
        }
        v += c;
        count -= c;
    }
}

lh_rc
lh_pq_rle_encode(const uint32_t *v, uint32_t n, int bit_width, lh_buf *out,
                 lh_err *err)
{
    if (bit_width < 0 || bit_width > 32) {
        return lh_err_set(err, LH_EINVAL, "RLE: bit width %d is not in 0..32",
                          bit_width);
    }
    const unsigned w = (unsigned)bit_width;
    const uint64_t vmax = mask64(w);
    for (uint32_t i = 0; i < n; i++) {
        if (v[i] > vmax) {
            lh_err_set(err, LH_EINVAL,
                       "RLE: value %u (index %u) does not fit in %u bits", v[i],
                       i, w);
            if (err != NULL) {
                err->index = i;
            }
            return LH_EINVAL;
        }
    }
    const size_t vbytes = (w + 7) / 8;
    uint32_t i = 0;
    uint32_t lit = 0; /* pending literals are v[lit..i) */
    while (i < n) {
        uint32_t r = 1;
        while (r < n - i && v[i + r] == v[i] && r < RUN_MAX) {
            r++;
        }
        if (r >= 8) {
            /* Literal groups hold 8 values: borrow the run's first values
             * to fill the last one, if the run stays long enough. */
            uint32_t pending = i - lit;
            uint32_t pad = (8 - pending % 8) % 8;
            if (pending == 0 || r - pad >= 8) {
                if (pending > 0) {
                    rle_put_literal(out, v + lit, pending + pad, w);
                    i += pad;
                    r -= pad;
                }
                rle_put_run(out, v[i], r, vbytes);
                i += r;
                lit = i;
                continue;
            }
        }
        i += r;
    }
    if (lit < n) {
        rle_put_literal(out, v + lit, n - lit, w);
    }
    if (!lh_buf_ok(out)) {
        return nomem(err, "RLE");
    }
    return LH_OK;
}

lh_rc
lh_pq_bitpacked_legacy_decode(const uint8_t *p, size_t len, int bit_width,
                              uint32_t *out, uint32_t n, lh_err *err)
{
    if (bit_width < 0 || bit_width > 32) {
        return lh_err_set(err, LH_EINVAL,
                          "BIT_PACKED: bit width %d is not in 0..32",
                          bit_width);
    }
    const unsigned w = (unsigned)bit_width;
    uint64_t need = ((uint64_t)n * w + 7) / 8;
    if (need > len) {
        return corrupt(err, len,
                       "BIT_PACKED: %u values of %u bits need %llu bytes, "
                       "%zu given",
                       n, w, (unsigned long long)need, len);
    }
    uint64_t bit = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t v = 0;
        for (unsigned k = 0; k < w; k++, bit++) {
            v = v << 1 | ((p[bit >> 3] >> (7 - (bit & 7))) & 1);
        }
        out[i] = v;
    }
    return LH_OK;
}

/* ---- DELTA_BINARY_PACKED ------------------------------------------------- */

#define DBP "DELTA_BINARY_PACKED"

typedef struct delta_rd {
    const uint8_t *start, *p, *end;
    uint64_t per_mb;    /* values per miniblock, a multiple of 32 */
    uint32_t nmb;       /* miniblocks per block */
    unsigned maxw;      /* 32 or 64: the type's width */
    uint64_t left;      /* values of the stream not yet read or skipped */
    uint64_t last;      /* the previous value */
    bool first_pending; /* the header's first value is next */
    uint64_t min_delta;
    const uint8_t *widths; /* this block's miniblock widths */
    uint32_t mb;           /* next miniblock of this block (nmb: none) */
    const uint8_t *data;   /* the current miniblock's next group */
    unsigned w;            /* its width */
    uint64_t mb_left;      /* values left in it (counting pend) */
    /* The rest of a group a read stopped inside: unpacked deltas. */
    uint64_t pend[32];
    unsigned pend_pos, pend_n;
} delta_rd;

static lh_rc
delta_open(delta_rd *r, const uint8_t *p, size_t len, unsigned maxw, uint32_t n,
           lh_err *err)
{
    memset(r, 0, sizeof(*r));
    if (p == NULL) {
        p = empty_input; /* no arithmetic on NULL */
    }
    r->start = r->p = p;
    r->end = p + len;
    r->maxw = maxw;
    if (len == 0 && n == 0) {
        return LH_OK; /* some writers leave an empty stream out entirely */
    }
    uint64_t block, nmb, total, first;
    if (!get_uleb(&r->p, r->end, &block) || !get_uleb(&r->p, r->end, &nmb) ||
        !get_uleb(&r->p, r->end, &total) || !get_uleb(&r->p, r->end, &first)) {
        return corrupt(err, 0, "%s: truncated header (%zu bytes)", DBP, len);
    }
    if (block == 0 || block % 128 != 0 || block > DELTA_MAX_BLOCK) {
        return corrupt(err, 0,
                       "%s: block size %llu is not a positive multiple of "
                       "128 up to 2^30",
                       DBP, (unsigned long long)block);
    }
    if (nmb == 0 || block % nmb != 0 || (block / nmb) % 32 != 0) {
        return corrupt(err, 0,
                       "%s: %llu miniblocks do not split a block of %llu "
                       "values into multiples of 32",
                       DBP, (unsigned long long)nmb, (unsigned long long)block);
    }
    if (total < n) {
        return corrupt(err, 0, "%s: the stream holds %llu values, %u expected",
                       DBP, (unsigned long long)total, n);
    }
    r->per_mb = block / nmb;
    r->nmb = (uint32_t)nmb;
    r->mb = r->nmb;
    r->left = total;
    r->last = unzigzag(first);
    r->first_pending = total > 0;
    return LH_OK;
}

/* Enters the next miniblock (and block, when this one is done). */
static lh_rc
delta_next_mb(delta_rd *r, lh_err *err)
{
    if (r->mb == r->nmb) {
        uint64_t zz;
        size_t at = (size_t)(r->p - r->start);
        if (!get_uleb(&r->p, r->end, &zz)) {
            return corrupt(err, at, "%s: block at byte %zu is truncated", DBP,
                           at);
        }
        r->min_delta = unzigzag(zz);
        if ((size_t)(r->end - r->p) < r->nmb) {
            return corrupt(err, at,
                           "%s: block at byte %zu ends inside its %u bit "
                           "widths",
                           DBP, at, r->nmb);
        }
        r->widths = r->p;
        r->p += r->nmb;
        r->mb = 0;
    }
    unsigned w = r->widths[r->mb];
    size_t at = (size_t)(r->widths + r->mb - r->start);
    if (w > r->maxw) {
        return corrupt(err, at, "%s: miniblock bit width %u exceeds %u", DBP, w,
                       r->maxw);
    }
    uint64_t bytes = r->per_mb / 8 * w;
    if (bytes > (uint64_t)(r->end - r->p)) {
        return corrupt(err, at,
                       "%s: miniblock of %llu bytes runs past the end of "
                       "the data",
                       DBP, (unsigned long long)bytes);
    }
    r->data = r->p;
    r->w = w;
    r->p += bytes;
    r->mb++;
    r->mb_left = r->per_mb;
    return LH_OK;
}

/* Reads count values (count <= r->left) into out, as T (uint32_t or
 * uint64_t) with wrapping arithmetic. */
#define DEFINE_DELTA_READ(NAME, T, UNPACK, SLACK)                              \
    static lh_rc NAME(delta_rd *r, T *out, uint32_t count, lh_err *err)        \
    {                                                                          \
        if (count > 0 && r->first_pending) {                                   \
            *out++ = (T)r->last;                                               \
            r->first_pending = false;                                          \
            r->left--;                                                         \
            count--;                                                           \
        }                                                                      \
        T acc = (T)r->last;                                                    \
        while (count > 0 && r->pend_pos < r->pend_n) {                         \
            acc += (T)r->min_delta + (T)r->pend[r->pend_pos++];                \
            *out++ = acc;                                                      \
            r->mb_left--;                                                      \
            r->left--;                                                         \
            count--;                                                           \
        }                                                                      \
        while (count > 0) {                                                    \
            if (r->mb_left == 0) {                                             \
                lh_rc rc = delta_next_mb(r, err);                              \
                if (rc != LH_OK) {                                             \
                    return rc;                                                 \
                }                                                              \
            }                                                                  \
            const T md = (T)r->min_delta;                                      \
            const size_t group = 4 * (size_t)r->w;                             \
            T tmp[32];                                                         \
            T *d = count >= 32 ? out : tmp;                                    \
            if (r->w == 0) {                                                   \
                memset(d, 0, sizeof(tmp));                                     \
            } else if ((size_t)(r->end - r->data) >= group + (SLACK)) {        \
                UNPACK[r->w](r->data, d);                                      \
            } else {                                                           \
                uint8_t pad[32 * 8 + 16] = {0};                                \
                memcpy(pad, r->data, group);                                   \
                UNPACK[r->w](pad, d);                                          \
            }                                                                  \
            uint32_t take = count < 32 ? count : 32;                           \
            for (uint32_t k = 0; k < take; k++) {                              \
                acc += md + d[k];                                              \
                out[k] = acc;                                                  \
            }                                                                  \
            r->pend_pos = 0;                                                   \
            r->pend_n = 32 - take;                                             \
            for (unsigned k = 0; k < r->pend_n; k++) {                         \
                r->pend[k] = d[take + k];                                      \
            }                                                                  \
            r->data += group;                                                  \
            r->mb_left -= take;                                                \
            r->left -= take;                                                   \
            out += take;                                                       \
            count -= take;                                                     \
        }                                                                      \
        r->last = acc;                                                         \
        return LH_OK;                                                          \
    }

DEFINE_DELTA_READ(delta_read32, uint32_t, unpack32, 8)
DEFINE_DELTA_READ(delta_read64, uint64_t, unpack64, 16)

/* Walks past the values not read, to the end of the stream: the current
 * miniblock's bytes are behind r->p already. */
static lh_rc
delta_skip_rest(delta_rd *r, lh_err *err)
{
    r->pend_pos = r->pend_n = 0;
    if (r->left > 0 && r->first_pending) {
        r->first_pending = false;
        r->left--;
    }
    while (r->left > 0) {
        if (r->mb_left == 0) {
            lh_rc rc = delta_next_mb(r, err);
            if (rc != LH_OK) {
                return rc;
            }
        }
        uint64_t take = LH_MIN(r->left, r->mb_left);
        r->left -= take;
        r->mb_left -= take;
    }
    return LH_OK;
}

/* The stream's end, found by walking a copy of r. */
static lh_rc
delta_end(const delta_rd *r, const uint8_t **end, lh_err *err)
{
    delta_rd c = *r;
    lh_rc rc = delta_skip_rest(&c, err);
    *end = c.p;
    return rc;
}

lh_rc
lh_pq_delta_decode_i32(const uint8_t *p, size_t len, int32_t *out, uint32_t n,
                       size_t *consumed, lh_err *err)
{
    delta_rd r;
    lh_rc rc = delta_open(&r, p, len, 32, n, err);
    if (rc == LH_OK) {
        rc = delta_read32(&r, (uint32_t *)out, n, err);
    }
    if (rc == LH_OK) {
        rc = delta_skip_rest(&r, err);
    }
    if (rc == LH_OK && consumed != NULL) {
        *consumed = (size_t)(r.p - r.start);
    }
    return rc;
}

lh_rc
lh_pq_delta_decode_i64(const uint8_t *p, size_t len, int64_t *out, uint32_t n,
                       size_t *consumed, lh_err *err)
{
    delta_rd r;
    lh_rc rc = delta_open(&r, p, len, 64, n, err);
    if (rc == LH_OK) {
        rc = delta_read64(&r, (uint64_t *)out, n, err);
    }
    if (rc == LH_OK) {
        rc = delta_skip_rest(&r, err);
    }
    if (rc == LH_OK && consumed != NULL) {
        *consumed = (size_t)(r.p - r.start);
    }
    return rc;
}

/* Values as int64 (int32 sign-extended); deltas wrap at the type's width. */
static inline int64_t
get_val(const void *v, bool wide, uint32_t i)
{
    return wide ? ((const int64_t *)v)[i] : ((const int32_t *)v)[i];
}

static inline int64_t
wrap_delta(int64_t cur, int64_t prev, bool wide)
{
    if (wide) {
        return (int64_t)((uint64_t)cur - (uint64_t)prev);
    }
    return (int32_t)((uint32_t)cur - (uint32_t)prev);
}

static lh_rc
delta_encode(const void *v, bool wide, uint32_t n, lh_buf *out, lh_err *err)
{
    enum { BLOCK = 128, NMB = 4, PER_MB = BLOCK / NMB };
    put_uleb(out, BLOCK);
    put_uleb(out, NMB);
    put_uleb(out, n);
    put_uleb(out, zigzag(n > 0 ? get_val(v, wide, 0) : 0));
    for (uint32_t i = 1; i < n;) {
        uint32_t cnt = LH_MIN(n - i, (uint32_t)BLOCK);
        int64_t d[BLOCK];
        int64_t min = INT64_MAX;
        for (uint32_t k = 0; k < cnt; k++) {
            d[k] = wrap_delta(get_val(v, wide, i + k),
                              get_val(v, wide, i + k - 1), wide);
            min = LH_MIN(min, d[k]);
        }
        uint64_t rel[BLOCK] = {0};
        uint8_t widths[NMB] = {0};
        for (uint32_t k = 0; k < cnt; k++) {
            rel[k] = (uint64_t)d[k] - (uint64_t)min;
            unsigned w = width64(rel[k]);
            if (w > widths[k / PER_MB]) {
                widths[k / PER_MB] = (uint8_t)w;
            }
        }
        put_uleb(out, zigzag(min));
        lh_buf_append(out, widths, NMB);
        for (uint32_t mb = 0; mb * PER_MB < cnt; mb++) {
            put_packed(out, rel + mb * PER_MB, PER_MB, widths[mb]);
        }
        i += cnt;
    }
    if (!lh_buf_ok(out)) {
        return nomem(err, DBP);
    }
    return LH_OK;
}

lh_rc
lh_pq_delta_encode_i32(const int32_t *v, uint32_t n, lh_buf *out, lh_err *err)
{
    return delta_encode(v, false, n, out, err);
}

lh_rc
lh_pq_delta_encode_i64(const int64_t *v, uint32_t n, lh_buf *out, lh_err *err)
{
    return delta_encode(v, true, n, out, err);
}

/* ---- DELTA_LENGTH_BYTE_ARRAY --------------------------------------------- */

#define DLBA "DELTA_LENGTH_BYTE_ARRAY"
#define DBA "DELTA_BYTE_ARRAY"

/* Opens the lengths stream at p and finds where the data after it starts. */
static lh_rc
lengths_open(delta_rd *r, const uint8_t *p, size_t len, uint32_t n,
             const uint8_t **data, const char *what, lh_err *err)
{
    lh_rc rc = delta_open(r, p, len, 32, n, err);
    if (rc == LH_OK) {
        rc = delta_end(r, data, err);
    }
    if (rc != LH_OK) {
        lh_err_prefix(err, "%s", what);
    }
    return rc;
}

lh_rc
lh_pq_dlba_decode(const uint8_t *p, size_t len, lh_str *out, uint32_t n,
                  lh_arena *scratch, size_t *consumed, lh_err *err)
{
    if (p == NULL) {
        p = empty_input;
    }
    (void)scratch;
    delta_rd r;
    const uint8_t *data;
    lh_rc rc = lengths_open(&r, p, len, n, &data, DLBA " lengths", err);
    if (rc != LH_OK) {
        return rc;
    }
    size_t avail = (size_t)(p + len - data);
    size_t used = 0;
    for (uint32_t i = 0; i < n;) {
        uint32_t lens[CHUNK];
        uint32_t c = LH_MIN(n - i, (uint32_t)CHUNK);
        rc = delta_read32(&r, lens, c, err);
        if (rc != LH_OK) {
            lh_err_prefix(err, "%s lengths", DLBA);
            return rc;
        }
        for (uint32_t k = 0; k < c; k++, i++) {
            uint32_t l = lens[k];
            if (l > (uint32_t)INT32_MAX) {
                return corrupt(err, 0, "%s: value %u has length %d", DLBA, i,
                               (int32_t)l);
            }
            if (l > avail - used) {
                return corrupt(err, (size_t)(data - p) + used,
                               "%s: value %u of %u bytes runs past the end "
                               "of the data (%zu bytes left)",
                               DLBA, i, l, avail - used);
            }
            out[i] = lh_str_make((const char *)data + used, l);
            used += l;
        }
    }
    if (consumed != NULL) {
        *consumed = (size_t)(data - p) + used;
    }
    return LH_OK;
}

/* Lengths of v as int32 (LH_EINVAL past INT32_MAX) in a new array. */
static lh_rc
lengths_of(const lh_str *v, uint32_t n, int32_t **out, const char *what,
           lh_err *err)
{
    int32_t *lens = lh_malloc((size_t)n * sizeof(int32_t));
    if (lens == NULL) {
        return nomem(err, what);
    }
    for (uint32_t i = 0; i < n; i++) {
        if (v[i].len > (uint32_t)INT32_MAX) {
            lh_free(lens);
            return lh_err_set(err, LH_EINVAL,
                              "%s: value %u of %u bytes is longer than 2^31-1",
                              what, i, v[i].len);
        }
        lens[i] = (int32_t)v[i].len;
    }
    *out = lens;
    return LH_OK;
}

lh_rc
lh_pq_dlba_encode(const lh_str *v, uint32_t n, lh_buf *out, lh_err *err)
{
    int32_t *lens = NULL;
    lh_rc rc = lengths_of(v, n, &lens, DLBA, err);
    if (rc != LH_OK) {
        return rc;
    }
    rc = lh_pq_delta_encode_i32(lens, n, out, err);
    lh_free(lens);
    for (uint32_t i = 0; rc == LH_OK && i < n; i++) {
        lh_buf_append(out, lh_str_data(&v[i]), v[i].len);
    }
    if (rc == LH_OK && !lh_buf_ok(out)) {
        rc = nomem(err, DLBA);
    }
    return rc;
}

/* ---- DELTA_BYTE_ARRAY ---------------------------------------------------- */

/* Pass 1 leaves in out[i]: len = the value's length, prefix = its prefix
 * length (4 bytes, memcpy), u.ptr = its suffix in the input. Pass 2
 * rewrites each into the final view. */
static lh_rc
dba_lengths(const uint8_t *p, size_t len, lh_str *out, uint32_t n,
            uint64_t *long_bytes, lh_err *err)
{
    if (p == NULL) {
        p = empty_input;
    }
    delta_rd pre;
    delta_rd suf;
    const uint8_t *suf_at;
    const uint8_t *data;
    lh_rc rc =
        lengths_open(&pre, p, len, n, &suf_at, DBA " prefix lengths", err);
    if (rc == LH_OK) {
        rc = lengths_open(&suf, suf_at, (size_t)(p + len - suf_at), n, &data,
                          DBA " suffix lengths", err);
    }
    if (rc != LH_OK) {
        return rc;
    }
    size_t avail = (size_t)(p + len - data);
    size_t used = 0;
    uint64_t prev = 0;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n;) {
        uint32_t pl[CHUNK];
        uint32_t sl[CHUNK];
        uint32_t c = LH_MIN(n - i, (uint32_t)CHUNK);
        rc = delta_read32(&pre, pl, c, err);
        if (rc == LH_OK) {
            rc = delta_read32(&suf, sl, c, err);
        }
        if (rc != LH_OK) {
            lh_err_prefix(err, "%s lengths", DBA);
            return rc;
        }
        for (uint32_t k = 0; k < c; k++, i++) {
            if (pl[k] > (uint32_t)INT32_MAX || pl[k] > prev) {
                return corrupt(err, 0,
                               "%s: value %u has a prefix of %d bytes, the "
                               "previous value has %llu",
                               DBA, i, (int32_t)pl[k],
                               (unsigned long long)prev);
            }
            if (sl[k] > (uint32_t)INT32_MAX || sl[k] > avail - used) {
                return corrupt(err, (size_t)(data - p) + used,
                               "%s: suffix %u of %d bytes runs past the end "
                               "of the data (%zu bytes left)",
                               DBA, i, (int32_t)sl[k], avail - used);
            }
            uint64_t l = (uint64_t)pl[k] + sl[k];
            if (l > UINT32_MAX) {
                return corrupt(err, 0, "%s: value %u is longer than 4 GiB", DBA,
                               i);
            }
            if (l > LH_STR_INLINE) {
                total += l;
            }
            memset(&out[i], 0, sizeof(out[i]));
            out[i].len = (uint32_t)l;
            memcpy(out[i].prefix, &pl[k], 4);
            out[i].u.ptr = (const char *)data + used;
            used += sl[k];
            prev = l;
        }
    }
    *long_bytes = total;
    return LH_OK;
}

lh_rc
lh_pq_dba_decode(const uint8_t *p, size_t len, lh_str *out, uint32_t n,
                 lh_arena *a, lh_err *err)
{
    uint64_t total;
    lh_rc rc = dba_lengths(p, len, out, n, &total, err);
    if (rc != LH_OK) {
        return rc;
    }
    char *w = NULL;
    if (total > 0) {
        if (total > SIZE_MAX / 2 ||
            (w = lh_arena_alloc(a, (size_t)total)) == NULL) {
            return lh_err_set(err, LH_ENOMEM,
                              "%s: out of memory for %llu bytes of values", DBA,
                              (unsigned long long)total);
        }
    }
    const char *prev = NULL;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t l = out[i].len;
        uint32_t pl;
        memcpy(&pl, out[i].prefix, 4);
        const char *suffix = out[i].u.ptr;
        char inl[LH_STR_INLINE];
        char *dst = l > LH_STR_INLINE ? w : inl;
        if (pl > 0) {
            memcpy(dst, prev, pl);
        }
        if (l > pl) {
            memcpy(dst + pl, suffix, l - pl);
        }
        out[i] = lh_str_make(dst, l);
        if (l > LH_STR_INLINE) {
            w += l;
        }
        prev = lh_str_data(&out[i]);
    }
    return LH_OK;
}

lh_rc
lh_pq_dba_encode(const lh_str *v, uint32_t n, lh_buf *out, lh_err *err)
{
    int32_t *pre;
    int32_t *suf = NULL;
    lh_rc rc = lengths_of(v, n, &suf, DBA, err);
    if (rc != LH_OK) {
        return rc;
    }
    pre = lh_malloc((size_t)n * sizeof(int32_t));
    if (pre == NULL) {
        lh_free(suf);
        return nomem(err, DBA);
    }
    const char *prev = NULL;
    uint32_t prev_len = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *s = lh_str_data(&v[i]);
        uint32_t m = LH_MIN(prev_len, v[i].len);
        uint32_t k = 0;
        while (k < m && s[k] == prev[k]) {
            k++;
        }
        pre[i] = (int32_t)k;
        suf[i] -= (int32_t)k;
        prev = s;
        prev_len = v[i].len;
    }
    rc = lh_pq_delta_encode_i32(pre, n, out, err);
    if (rc == LH_OK) {
        rc = lh_pq_delta_encode_i32(suf, n, out, err);
    }
    for (uint32_t i = 0; rc == LH_OK && i < n; i++) {
        lh_buf_append(out, lh_str_data(&v[i]) + pre[i], (size_t)suf[i]);
    }
    lh_free(pre);
    lh_free(suf);
    if (rc == LH_OK && !lh_buf_ok(out)) {
        rc = nomem(err, DBA);
    }
    return rc;
}

/* ---- BYTE_STREAM_SPLIT --------------------------------------------------- */

#define BSS "BYTE_STREAM_SPLIT"

lh_rc
lh_pq_bss_decode(const uint8_t *p, size_t len, size_t width, uint32_t n,
                 void *out, lh_err *err)
{
    if (p == NULL) {
        p = empty_input;
    }
    if (width == 0) {
        return lh_err_set(err, LH_EINVAL, "%s: value width 0", BSS);
    }
    if (len % width != 0) {
        return corrupt(err, len,
                       "%s: %zu bytes are not a whole number of %zu-byte "
                       "values",
                       BSS, len, width);
    }
    size_t stride = len / width;
    if (stride < n) {
        return corrupt(err, len, "%s: the streams hold %zu values, %u expected",
                       BSS, stride, n);
    }
    uint8_t *o = out;
    if (width == 4) {
        const uint8_t *s0 = p, *s1 = p + stride, *s2 = s1 + stride,
                      *s3 = s2 + stride;
        for (uint32_t i = 0; i < n; i++) {
            o[4 * (size_t)i] = s0[i];
            o[4 * (size_t)i + 1] = s1[i];
            o[4 * (size_t)i + 2] = s2[i];
            o[4 * (size_t)i + 3] = s3[i];
        }
        return LH_OK;
    }
    if (width == 8) {
        const uint8_t *s[8];
        for (size_t b = 0; b < 8; b++) {
            s[b] = p + b * stride;
        }
        for (uint32_t i = 0; i < n; i++) {
            uint8_t *d = o + 8 * (size_t)i;
            for (size_t b = 0; b < 8; b++) {
                d[b] = s[b][i];
            }
        }
        return LH_OK;
    }
    for (size_t b = 0; b < width; b++) {
        const uint8_t *s = p + b * stride;
        for (uint32_t i = 0; i < n; i++) {
            o[(size_t)i * width + b] = s[i];
        }
    }
    return LH_OK;
}

lh_rc
lh_pq_bss_encode(const void *v, size_t width, uint32_t n, lh_buf *out,
                 lh_err *err)
{
    if (width == 0) {
        return lh_err_set(err, LH_EINVAL, "%s: value width 0", BSS);
    }
    if (n > 0 && width > SIZE_MAX / 2 / n) {
        return nomem(err, BSS);
    }
    size_t total = width * n;
    if (lh_buf_reserve(out, total) != LH_OK) {
        return nomem(err, BSS);
    }
    uint8_t *d = (uint8_t *)out->data + out->len;
    const uint8_t *s = v;
    for (size_t b = 0; b < width; b++) {
        for (uint32_t i = 0; i < n; i++) {
            d[b * n + i] = s[(size_t)i * width + b];
        }
    }
    out->len += total;
    out->data[out->len] = '\0';
    return LH_OK;
}

/* ---- PLAIN --------------------------------------------------------------- */

lh_rc
lh_pq_plain_bool_decode(const uint8_t *p, size_t len, uint8_t *out, uint32_t n,
                        lh_err *err)
{
    size_t need = ((size_t)n + 7) / 8;
    if (need > len) {
        return corrupt(err, len, "PLAIN: %u booleans need %zu bytes, %zu given",
                       n, need, len);
    }
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint8_t b = p[i / 8];
        for (unsigned k = 0; k < 8; k++) {
            out[i + k] = (b >> k) & 1;
        }
    }
    for (; i < n; i++) {
        out[i] = (p[i / 8] >> (i % 8)) & 1;
    }
    return LH_OK;
}

lh_rc
lh_pq_plain_bool_encode(const uint8_t *v, uint32_t n, lh_buf *out, lh_err *err)
{
    uint8_t chunk[64];
    uint32_t i = 0;
    while (i < n) {
        size_t nb = 0;
        for (; nb < sizeof(chunk) && i < n; nb++) {
            uint8_t b = 0;
            for (unsigned k = 0; k < 8 && i < n; k++, i++) {
                b |= (uint8_t)((v[i] != 0) << k);
            }
            chunk[nb] = b;
        }
        lh_buf_append(out, chunk, nb);
    }
    if (!lh_buf_ok(out)) {
        return nomem(err, "PLAIN");
    }
    return LH_OK;
}

lh_rc
lh_pq_plain_ba_decode(const uint8_t *p, size_t len, lh_str *out, uint32_t n,
                      size_t *consumed, lh_err *err)
{
    if (p == NULL) {
        p = empty_input;
    }
    size_t at = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (len - at < 4) {
            return corrupt(err, at,
                           "PLAIN: byte array %u of %u: the data ends at its "
                           "length (byte %zu)",
                           i, n, at);
        }
        uint32_t l = lh_get_le32(p + at);
        at += 4;
        if (l > len - at) {
            return corrupt(err, at - 4,
                           "PLAIN: byte array %u of %u bytes at byte %zu runs "
                           "past the end of the data (%zu bytes)",
                           i, l, at - 4, len);
        }
        out[i] = lh_str_make((const char *)p + at, l);
        at += l;
    }
    if (consumed != NULL) {
        *consumed = at;
    }
    return LH_OK;
}

lh_rc
lh_pq_plain_ba_encode(const lh_str *v, uint32_t n, lh_buf *out, lh_err *err)
{
    for (uint32_t i = 0; i < n; i++) {
        if (v[i].len > (uint32_t)INT32_MAX) {
            return lh_err_set(err, LH_EINVAL,
                              "PLAIN: value %u of %u bytes is longer than "
                              "2^31-1",
                              i, v[i].len);
        }
        uint8_t b[4];
        lh_put_le32(b, v[i].len);
        lh_buf_append(out, b, 4);
        lh_buf_append(out, lh_str_data(&v[i]), v[i].len);
    }
    if (!lh_buf_ok(out)) {
        return nomem(err, "PLAIN");
    }
    return LH_OK;
}
