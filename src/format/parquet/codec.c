/*
 * Page compression: framing and size checks around the Debian libraries
 * (codec.h says which framing each codec uses).
 *
 * The decoders write into the caller's buffer of exactly the size the page
 * header states and report "more than expected" as soon as a library wants
 * to write past it, so a decompression bomb costs at most dstlen bytes and
 * the time to fill them.
 */
#include <limits.h>
#include <string.h>
#include <strings.h>

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <lz4.h>
#include <lz4frame.h>
#include <lz4hc.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "format/parquet/codec.h"

/* Page sizes are int32 in the page header; this also keeps every length
 * inside the int and uInt parameters of zlib and liblz4. */
#define MAX_PAGE ((size_t)INT32_MAX)

/* LZ4's match window: splitting Hadoop blocks here costs no ratio. */
#define LZ4_HADOOP_BLOCK ((size_t)64 << 10)

/* Arrow's default Brotli quality: brotli's own default (11) is several
 * times slower for a few percent. */
#define BROTLI_DEFAULT_LEVEL 8

static const char *const codec_names[] = {
    "UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW",
};

const char *
lh_pq_codec_name(int codec)
{
    if (codec < 0 || (size_t)codec >= LH_ARRAY_LEN(codec_names)) {
        return "UNKNOWN";
    }
    return codec_names[codec];
}

lh_rc
lh_pq_codec_parse(const char *name, int *codec, lh_err *err)
{
    static const struct {
        const char *name;
        int codec;
    } names[] = {
        {"uncompressed", LH_PQ_CODEC_UNCOMPRESSED},
        {"none", LH_PQ_CODEC_UNCOMPRESSED},
        {"snappy", LH_PQ_CODEC_SNAPPY},
        {"gzip", LH_PQ_CODEC_GZIP},
        {"brotli", LH_PQ_CODEC_BROTLI},
        {"zstd", LH_PQ_CODEC_ZSTD},
        {"lz4", LH_PQ_CODEC_LZ4_RAW},
        {"lz4_raw", LH_PQ_CODEC_LZ4_RAW},
        {"lz4_hadoop", LH_PQ_CODEC_LZ4},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(names); i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *codec = names[i].codec;
            return LH_OK;
        }
    }
    if (strcasecmp(name, "lzo") == 0) {
        return lh_err_set(err, LH_EUNSUPPORTED, "unsupported: LZO codec");
    }
    return lh_err_set(err, LH_EINVAL,
                      "unknown compression codec \"%s\" (expected "
                      "uncompressed, snappy, gzip, brotli, zstd, lz4, "
                      "lz4_raw or lz4_hadoop)",
                      name);
}

/* ---- helpers ------------------------------------------------------------- */

static lh_rc
too_long(lh_err *err, int codec, size_t dstlen)
{
    return lh_err_set(err, LH_ECORRUPT,
                      "%s page decompresses to more than the expected %zu "
                      "bytes",
                      lh_pq_codec_name(codec), dstlen);
}

static lh_rc
wrong_size(lh_err *err, int codec, size_t got, size_t dstlen)
{
    return lh_err_set(err, LH_ECORRUPT,
                      "%s page decompresses to %zu bytes, expected %zu",
                      lh_pq_codec_name(codec), got, dstlen);
}

static lh_rc
bad_data(lh_err *err, int codec, const char *why)
{
    return lh_err_set(err, LH_ECORRUPT, "%s page does not decompress: %s",
                      lh_pq_codec_name(codec), why);
}

/* zlib's and brotli's allocations go through lh_malloc (fault injection). */
static voidpf
z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return lh_malloc((size_t)items * size);
}

static void
z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    lh_free(p);
}

static void *
br_alloc(void *opaque, size_t size)
{
    (void)opaque;
    return lh_malloc(size);
}

static void
br_free(void *opaque, void *p)
{
    (void)opaque;
    lh_free(p);
}

/* Room for `need` more bytes at the end of out; lh_buf keeps one byte
 * past len for its NUL, which commit() rewrites. */
static uint8_t *
buf_tail(lh_buf *out, size_t need)
{
    if (lh_buf_reserve(out, need) != LH_OK) {
        return NULL;
    }
    return (uint8_t *)out->data + out->len;
}

static void
buf_commit(lh_buf *out, size_t n)
{
    out->len += n;
    out->data[out->len] = '\0';
}

/* Drops what an unfinished compression appended. */
static void
buf_truncate(lh_buf *out, size_t len)
{
    if (out->data != NULL) {
        out->len = len;
        out->data[len] = '\0';
    }
}

static lh_rc
oom(lh_err *err, int codec)
{
    return lh_err_set(err, LH_ENOMEM, "out of memory compressing with %s",
                      lh_pq_codec_name(codec));
}

/* ---- decompression ------------------------------------------------------- */

static lh_rc
snappy_dec(const uint8_t *src, size_t srclen, uint8_t *dst, size_t dstlen,
           lh_err *err)
{
    size_t n = 0;
    if (snappy_uncompressed_length((const char *)src, srclen, &n) !=
        SNAPPY_OK) {
        return bad_data(err, LH_PQ_CODEC_SNAPPY, "bad length preamble");
    }
    if (n != dstlen) {
        return wrong_size(err, LH_PQ_CODEC_SNAPPY, n, dstlen);
    }
    if (snappy_uncompress((const char *)src, srclen, (char *)dst, &n) !=
            SNAPPY_OK ||
        n != dstlen) {
        return bad_data(err, LH_PQ_CODEC_SNAPPY, "invalid block");
    }
    return LH_OK;
}

static lh_rc
gzip_dec(const uint8_t *src, size_t srclen, uint8_t *dst, size_t dstlen,
         lh_err *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    zs.zalloc = z_alloc;
    zs.zfree = z_free;
    /* 15 + 32: the largest window, and a gzip or zlib header by detection. */
    int zr = inflateInit2(&zs, 15 + 32);
    if (zr != Z_OK) {
        return lh_err_set(err, zr == Z_MEM_ERROR ? LH_ENOMEM : LH_EINTERNAL,
                          "could not start GZIP decompression: %s",
                          zs.msg ? zs.msg : zError(zr));
    }
    zs.next_in = (Bytef *)src;
    zs.avail_in = (uInt)srclen;
    zs.next_out = dst;
    zs.avail_out = (uInt)dstlen;
    lh_rc rc = LH_OK;
    for (;;) {
        zr = inflate(&zs, Z_NO_FLUSH);
        if (zr == Z_STREAM_END) {
            if (zs.avail_in == 0) {
                break;
            }
            /* Another gzip member follows (Compression.md asks readers to
             * accept concatenated members). */
            zr = inflateReset(&zs);
            if (zr != Z_OK) {
                rc = bad_data(err, LH_PQ_CODEC_GZIP, zError(zr));
                break;
            }
            continue;
        }
        if (zr == Z_OK) {
            continue; /* progress was made */
        }
        if (zr == Z_BUF_ERROR && zs.avail_out == 0) {
            rc = too_long(err, LH_PQ_CODEC_GZIP, dstlen);
        } else if (zr == Z_BUF_ERROR) {
            rc = bad_data(err, LH_PQ_CODEC_GZIP, "truncated stream");
        } else if (zr == Z_MEM_ERROR) {
            rc = lh_err_set(err, LH_ENOMEM,
                            "out of memory decompressing a GZIP page");
        } else {
            rc = bad_data(err, LH_PQ_CODEC_GZIP, zs.msg ? zs.msg : zError(zr));
        }
        break;
    }
    /* Not zs.total_out: inflateReset clears it at each member. */
    if (rc == LH_OK && zs.avail_out != 0) {
        rc = wrong_size(err, LH_PQ_CODEC_GZIP, dstlen - zs.avail_out, dstlen);
    }
    inflateEnd(&zs);
    return rc;
}

static lh_rc
brotli_dec(const uint8_t *src, size_t srclen, uint8_t *dst, size_t dstlen,
           lh_err *err)
{
    BrotliDecoderState *s =
        BrotliDecoderCreateInstance(br_alloc, br_free, NULL);
    if (s == NULL) {
        return lh_err_set(err, LH_ENOMEM,
                          "out of memory decompressing a BROTLI page");
    }
    size_t avail_in = srclen;
    const uint8_t *next_in = src;
    size_t avail_out = dstlen;
    uint8_t *next_out = dst;
    BrotliDecoderResult r = BrotliDecoderDecompressStream(
        s, &avail_in, &next_in, &avail_out, &next_out, NULL);
    lh_rc rc = LH_OK;
    switch (r) {
    case BROTLI_DECODER_RESULT_SUCCESS:
        if (avail_in != 0) {
            rc = bad_data(err, LH_PQ_CODEC_BROTLI, "data after the stream");
        } else if (avail_out != 0) {
            rc =
                wrong_size(err, LH_PQ_CODEC_BROTLI, dstlen - avail_out, dstlen);
        }
        break;
    case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
        rc = too_long(err, LH_PQ_CODEC_BROTLI, dstlen);
        break;
    case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
        rc = bad_data(err, LH_PQ_CODEC_BROTLI, "truncated stream");
        break;
    default: {
        BrotliDecoderErrorCode ec = BrotliDecoderGetErrorCode(s);
        if (ec <= BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES &&
            ec >= BROTLI_DECODER_ERROR_ALLOC_BLOCK_TYPE_TREES) {
            rc = lh_err_set(err, LH_ENOMEM,
                            "out of memory decompressing a BROTLI page");
        } else {
            rc =
                bad_data(err, LH_PQ_CODEC_BROTLI, BrotliDecoderErrorString(ec));
        }
        break;
    }
    }
    BrotliDecoderDestroyInstance(s);
    return rc;
}

static lh_rc
zstd_dec(const uint8_t *src, size_t srclen, uint8_t *dst, size_t dstlen,
         lh_err *err)
{
    size_t n = ZSTD_decompress(dst, dstlen, src, srclen);
    if (ZSTD_isError(n)) {
        switch (ZSTD_getErrorCode(n)) {
        case ZSTD_error_dstSize_tooSmall:
            return too_long(err, LH_PQ_CODEC_ZSTD, dstlen);
        case ZSTD_error_memory_allocation:
            return lh_err_set(err, LH_ENOMEM,
                              "out of memory decompressing a ZSTD page");
        default:
            return bad_data(err, LH_PQ_CODEC_ZSTD, ZSTD_getErrorName(n));
        }
    }
    if (n != dstlen) {
        return wrong_size(err, LH_PQ_CODEC_ZSTD, n, dstlen);
    }
    return LH_OK;
}

/* One raw LZ4 block that must fill dst exactly. */
static bool
lz4_block(const uint8_t *src, size_t srclen, uint8_t *dst, size_t dstlen)
{
    int n = LZ4_decompress_safe((const char *)src, (char *)dst, (int)srclen,
                                (int)dstlen);
    return n >= 0 && (size_t)n == dstlen;
}

static uint32_t
load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

/* Arrow's reading of the Hadoop framing: blocks of [ulen][clen][block]
 * until the input ends exactly. Any mismatch means "not Hadoop". */
static bool
lz4_hadoop(const uint8_t *src, size_t srclen, uint8_t *dst, size_t dstlen)
{
    if (srclen < 8) {
        return false;
    }
    while (srclen >= 8) {
        size_t ulen = load_be32(src);
        size_t clen = load_be32(src + 4);
        src += 8;
        srclen -= 8;
        if (clen > srclen || ulen > dstlen) {
            return false;
        }
        if (!lz4_block(src, clen, dst, ulen)) {
            return false;
        }
        src += clen;
        srclen -= clen;
        dst += ulen;
        dstlen -= ulen;
    }
    return srclen == 0 && dstlen == 0;
}

static lh_rc
lz4_frame(const uint8_t *src, size_t srclen, uint8_t *dst, size_t dstlen,
          lh_err *err)
{
    LZ4F_dctx *d = NULL;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION))) {
        return lh_err_set(err, LH_ENOMEM,
                          "out of memory decompressing an LZ4 page");
    }
    size_t in = 0;
    size_t out = 0;
    lh_rc rc = LH_OK;
    while (in < srclen) {
        size_t isz = srclen - in;
        size_t osz = dstlen - out;
        size_t hint = LZ4F_decompress(d, dst + out, &osz, src + in, &isz, NULL);
        if (LZ4F_isError(hint)) {
            rc = bad_data(err, LH_PQ_CODEC_LZ4, LZ4F_getErrorName(hint));
            break;
        }
        in += isz;
        out += osz;
        if (hint != 0 && (in == srclen || (isz == 0 && osz == 0))) {
            /* The frame wants more: output when dst is full, else input. */
            rc = out == dstlen
                     ? too_long(err, LH_PQ_CODEC_LZ4, dstlen)
                     : bad_data(err, LH_PQ_CODEC_LZ4, "truncated frame");
            break;
        }
    }
    if (rc == LH_OK && out != dstlen) {
        rc = wrong_size(err, LH_PQ_CODEC_LZ4, out, dstlen);
    }
    LZ4F_freeDecompressionContext(d);
    return rc;
}

static lh_rc
lz4_dec(const uint8_t *src, size_t srclen, uint8_t *dst, size_t dstlen,
        lh_err *err)
{
    if (lz4_hadoop(src, srclen, dst, dstlen) ||
        lz4_block(src, srclen, dst, dstlen)) {
        return LH_OK;
    }
    static const uint8_t frame_magic[4] = {0x04, 0x22, 0x4d, 0x18};
    if (srclen >= 4 && memcmp(src, frame_magic, 4) == 0) {
        return lz4_frame(src, srclen, dst, dstlen, err);
    }
    return bad_data(err, LH_PQ_CODEC_LZ4,
                    "neither Hadoop-framed nor a raw LZ4 block nor an LZ4 "
                    "frame of the expected size");
}

lh_rc
lh_pq_decompress(int codec, const uint8_t *src, size_t srclen, uint8_t *dst,
                 size_t dstlen, lh_err *err)
{
    if (codec == LH_PQ_CODEC_LZO) {
        return lh_err_set(err, LH_EUNSUPPORTED, "unsupported: LZO codec");
    }
    if (codec < 0 || codec > LH_PQ_CODEC_LZ4_RAW) {
        return lh_err_set(err, LH_EUNSUPPORTED,
                          "unsupported: compression codec %d", codec);
    }
    if (srclen > MAX_PAGE || dstlen > MAX_PAGE) {
        return lh_err_set(err, LH_ECORRUPT,
                          "%s page of %zu bytes (%zu uncompressed) is past "
                          "the 2 GiB page limit",
                          lh_pq_codec_name(codec), srclen, dstlen);
    }
    if (srclen == 0 && dstlen == 0) {
        return LH_OK;
    }
    /* The libraries get real pointers even for empty buffers: pointer
     * arithmetic on NULL is undefined. */
    uint8_t dummy = 0;
    if (src == NULL) {
        src = &dummy;
    }
    if (dst == NULL) {
        dst = &dummy;
    }
    switch (codec) {
    case LH_PQ_CODEC_UNCOMPRESSED:
        if (srclen != dstlen) {
            return wrong_size(err, codec, srclen, dstlen);
        }
        memcpy(dst, src, dstlen);
        return LH_OK;
    case LH_PQ_CODEC_SNAPPY:
        return snappy_dec(src, srclen, dst, dstlen, err);
    case LH_PQ_CODEC_GZIP:
        return gzip_dec(src, srclen, dst, dstlen, err);
    case LH_PQ_CODEC_BROTLI:
        return brotli_dec(src, srclen, dst, dstlen, err);
    case LH_PQ_CODEC_LZ4:
        return lz4_dec(src, srclen, dst, dstlen, err);
    case LH_PQ_CODEC_ZSTD:
        return zstd_dec(src, srclen, dst, dstlen, err);
    case LH_PQ_CODEC_LZ4_RAW:
        if (!lz4_block(src, srclen, dst, dstlen)) {
            return bad_data(err, codec,
                            "not an LZ4 block of the expected size");
        }
        return LH_OK;
    default:
        break;
    }
    return lh_err_set(err, LH_EINTERNAL, "codec %d fell through", codec);
}

/* ---- compression --------------------------------------------------------- */

static lh_rc
gzip_enc(int level, const uint8_t *src, size_t len, lh_buf *out, lh_err *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    zs.zalloc = z_alloc;
    zs.zfree = z_free;
    /* 15 + 16: the largest window with a gzip (not zlib) wrapper. */
    int zr =
        deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    if (zr != Z_OK) {
        return zr == Z_MEM_ERROR
                   ? oom(err, LH_PQ_CODEC_GZIP)
                   : lh_err_set(err, LH_EINTERNAL, "could not start GZIP: %s",
                                zError(zr));
    }
    size_t bound = deflateBound(&zs, (uLong)len);
    uint8_t *dst = buf_tail(out, bound);
    lh_rc rc = LH_OK;
    if (dst == NULL) {
        rc = oom(err, LH_PQ_CODEC_GZIP);
    } else {
        zs.next_in = (Bytef *)src;
        zs.avail_in = (uInt)len;
        zs.next_out = dst;
        zs.avail_out = (uInt)bound;
        zr = deflate(&zs, Z_FINISH);
        if (zr == Z_STREAM_END) {
            buf_commit(out, (size_t)zs.total_out);
        } else if (zr == Z_MEM_ERROR) {
            rc = oom(err, LH_PQ_CODEC_GZIP);
        } else {
            rc = lh_err_set(err, LH_EINTERNAL, "GZIP compression failed: %s",
                            zs.msg ? zs.msg : zError(zr));
        }
    }
    deflateEnd(&zs);
    return rc;
}

static lh_rc
brotli_enc(int level, const uint8_t *src, size_t len, lh_buf *out, lh_err *err)
{
    /* Plain malloc, not lh_malloc: brotli 1.0's encoder calls exit() when
     * an allocation fails (BROTLI_ENCODER_EXIT_ON_OOM), so injected
     * failures must not reach it. */
    BrotliEncoderState *s = BrotliEncoderCreateInstance(NULL, NULL, NULL);
    if (s == NULL) {
        return oom(err, LH_PQ_CODEC_BROTLI);
    }
    BrotliEncoderSetParameter(s, BROTLI_PARAM_QUALITY, (uint32_t)level);
    BrotliEncoderSetParameter(s, BROTLI_PARAM_LGWIN, BROTLI_DEFAULT_WINDOW);
    BrotliEncoderSetParameter(s, BROTLI_PARAM_SIZE_HINT, (uint32_t)len);
    size_t start = out->len;
    size_t avail_in = len;
    const uint8_t *next_in = src;
    size_t step = BrotliEncoderMaxCompressedSize(len);
    if (step == 0) {
        step = len + 1024; /* the bound overflowed; grow as needed */
    }
    lh_rc rc = LH_OK;
    while (!BrotliEncoderIsFinished(s)) {
        uint8_t *next_out = buf_tail(out, step);
        if (next_out == NULL) {
            rc = oom(err, LH_PQ_CODEC_BROTLI);
            break;
        }
        size_t avail_out = step;
        if (!BrotliEncoderCompressStream(s, BROTLI_OPERATION_FINISH, &avail_in,
                                         &next_in, &avail_out, &next_out,
                                         NULL)) {
            rc = oom(err, LH_PQ_CODEC_BROTLI); /* its only failure mode */
            break;
        }
        buf_commit(out, step - avail_out);
    }
    if (rc != LH_OK) {
        buf_truncate(out, start);
    }
    BrotliEncoderDestroyInstance(s);
    return rc;
}

static lh_rc
zstd_enc(int level, const uint8_t *src, size_t len, lh_buf *out, lh_err *err)
{
    size_t bound = ZSTD_compressBound(len);
    uint8_t *dst = buf_tail(out, bound);
    if (dst == NULL) {
        return oom(err, LH_PQ_CODEC_ZSTD);
    }
    size_t n = ZSTD_compress(dst, bound, src, len, level);
    if (ZSTD_isError(n)) {
        if (ZSTD_getErrorCode(n) == ZSTD_error_memory_allocation) {
            return oom(err, LH_PQ_CODEC_ZSTD);
        }
        return lh_err_set(err, LH_EINTERNAL, "ZSTD compression failed: %s",
                          ZSTD_getErrorName(n));
    }
    buf_commit(out, n);
    return LH_OK;
}

/* One raw LZ4 block of src appended at dst (room for LZ4_compressBound);
 * returns its size, 0 on failure. */
static size_t
lz4_enc_block(int level, const uint8_t *src, size_t len, uint8_t *dst)
{
    int cap = LZ4_compressBound((int)len);
    int n;
    if (level <= 1) {
        n = LZ4_compress_default((const char *)src, (char *)dst, (int)len, cap);
    } else {
        n = LZ4_compress_HC((const char *)src, (char *)dst, (int)len, cap,
                            level);
    }
    return n > 0 ? (size_t)n : 0;
}

static void
store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static lh_rc
lz4_enc(int codec, int level, const uint8_t *src, size_t len, lh_buf *out,
        lh_err *err)
{
    size_t start = out->len;
    size_t off = 0;
    do {
        size_t chunk = len - off;
        if (codec == LH_PQ_CODEC_LZ4 && chunk > LZ4_HADOOP_BLOCK) {
            chunk = LZ4_HADOOP_BLOCK;
        }
        size_t prefix = codec == LH_PQ_CODEC_LZ4 ? 8 : 0;
        uint8_t *dst =
            buf_tail(out, prefix + (size_t)LZ4_compressBound((int)chunk));
        if (dst == NULL) {
            buf_truncate(out, start);
            return oom(err, codec);
        }
        size_t n = lz4_enc_block(level, src + off, chunk, dst + prefix);
        if (n == 0 && chunk > 0) {
            buf_truncate(out, start);
            return lh_err_set(err, LH_EINTERNAL, "%s compression failed",
                              lh_pq_codec_name(codec));
        }
        if (prefix) {
            store_be32(dst, (uint32_t)chunk);
            store_be32(dst + 4, (uint32_t)n);
        }
        buf_commit(out, prefix + n);
        off += chunk;
    } while (off < len);
    return LH_OK;
}

static lh_rc
check_level(int codec, int *level, lh_err *err)
{
    int lo;
    int hi;
    int def;
    switch (codec) {
    case LH_PQ_CODEC_GZIP:
        lo = 1, hi = 9, def = 6;
        break;
    case LH_PQ_CODEC_BROTLI:
        lo = 1, hi = BROTLI_MAX_QUALITY, def = BROTLI_DEFAULT_LEVEL;
        break;
    case LH_PQ_CODEC_ZSTD:
        lo = ZSTD_minCLevel(), hi = ZSTD_maxCLevel(), def = ZSTD_CLEVEL_DEFAULT;
        break;
    case LH_PQ_CODEC_LZ4:
    case LH_PQ_CODEC_LZ4_RAW:
        lo = 1, hi = LZ4HC_CLEVEL_MAX, def = 1;
        break;
    default:
        *level = 0; /* no levels */
        return LH_OK;
    }
    if (*level == 0) {
        *level = def;
        return LH_OK;
    }
    if (*level < lo || *level > hi) {
        return lh_err_set(err, LH_EINVAL,
                          "%s compression level %d is out of range [%d, %d]",
                          lh_pq_codec_name(codec), *level, lo, hi);
    }
    return LH_OK;
}

lh_rc
lh_pq_compress(int codec, int level, const uint8_t *src, size_t len,
               lh_buf *out, lh_err *err)
{
    if (codec == LH_PQ_CODEC_LZO) {
        return lh_err_set(err, LH_EUNSUPPORTED, "unsupported: LZO codec");
    }
    if (codec < 0 || codec > LH_PQ_CODEC_LZ4_RAW) {
        return lh_err_set(err, LH_EINVAL, "unknown compression codec %d",
                          codec);
    }
    if (len > MAX_PAGE) {
        return lh_err_set(err, LH_ELIMIT,
                          "page of %zu bytes is past the 2 GiB page limit",
                          len);
    }
    lh_rc rc = check_level(codec, &level, err);
    if (rc != LH_OK) {
        return rc;
    }
    switch (codec) {
    case LH_PQ_CODEC_UNCOMPRESSED:
        if (lh_buf_append(out, src, len) != LH_OK) {
            return oom(err, codec);
        }
        return LH_OK;
    case LH_PQ_CODEC_SNAPPY: {
        size_t n = snappy_max_compressed_length(len);
        uint8_t *dst = buf_tail(out, n);
        if (dst == NULL) {
            return oom(err, codec);
        }
        if (snappy_compress((const char *)src, len, (char *)dst, &n) !=
            SNAPPY_OK) {
            return lh_err_set(err, LH_EINTERNAL, "SNAPPY compression failed");
        }
        buf_commit(out, n);
        return LH_OK;
    }
    case LH_PQ_CODEC_GZIP:
        return gzip_enc(level, src, len, out, err);
    case LH_PQ_CODEC_BROTLI:
        return brotli_enc(level, src, len, out, err);
    case LH_PQ_CODEC_ZSTD:
        return zstd_enc(level, src, len, out, err);
    case LH_PQ_CODEC_LZ4:
    case LH_PQ_CODEC_LZ4_RAW:
        return lz4_enc(codec, level, src, len, out, err);
    default:
        break;
    }
    return lh_err_set(err, LH_EINTERNAL, "codec %d fell through", codec);
}
