/*
 * Unit tests: Parquet page compression (src/format/parquet/codec.h). Round
 * trips for every codec and level range, exact-size checks on both sides,
 * decompression bombs, damaged input, the LZ4 fallbacks and concatenated
 * GZIP members on the parquet-testing fixtures (pages located by hand:
 * offsets and sizes read off their page headers), and OOM injection.
 *
 * The fixtures are found through LH_PARQUET_FIXTURES, else at
 * ../../../shared/fixtures/parquet from this file (the workspace layout);
 * the fixture tests skip when neither exists.
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

#include <lz4frame.h>
#include <zlib.h>

#include "format/parquet/codec.h"

static const int codecs[] = {
    LH_PQ_CODEC_UNCOMPRESSED, LH_PQ_CODEC_SNAPPY, LH_PQ_CODEC_GZIP,
    LH_PQ_CODEC_BROTLI,       LH_PQ_CODEC_LZ4,    LH_PQ_CODEC_ZSTD,
    LH_PQ_CODEC_LZ4_RAW,
};

static int
reset_injection(void **state)
{
    (void)state;
    lh_alloc_fail_at(0, false);
    return 0;
}

static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

/* Sample inputs: empty, tiny, incompressible, repetitive, text-like. */
enum { IN_EMPTY, IN_ONE, IN_RANDOM, IN_ZEROS, IN_TEXT, IN_COUNT };

static uint8_t *
make_input(int kind, size_t *len)
{
    static const size_t lens[IN_COUNT] = {0, 1, 100000, 1 << 20, 300000};
    size_t n = lens[kind];
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    uint64_t seed = 1234;
    static const char *const words[] = {"lakehouse ", "parquet ", "page ",
                                        "event ",     "stream ",  "zstd "};
    size_t at = 0;
    while (at < n) {
        switch (kind) {
        case IN_ONE:
            p[at++] = 'x';
            break;
        case IN_RANDOM:
            p[at++] = (uint8_t)rnd(&seed);
            break;
        case IN_ZEROS:
            p[at++] = 0;
            break;
        default: {
            const char *w = words[rnd(&seed) % 6];
            size_t l = strlen(w);
            if (l > n - at) {
                l = n - at;
            }
            memcpy(p + at, w, l);
            at += l;
            break;
        }
        }
    }
    *len = n;
    return p;
}

/* Decompresses into a heap buffer of exactly dstlen bytes (so ASan sees
 * any write past it). */
static lh_rc
decompress_exact(int codec, const uint8_t *src, size_t srclen, size_t dstlen,
                 uint8_t **out, lh_err *err)
{
    uint8_t *dst = malloc(dstlen ? dstlen : 1);
    assert_non_null(dst);
    /* A heap copy of src of exactly srclen, for reads past it. */
    uint8_t *s = malloc(srclen ? srclen : 1);
    assert_non_null(s);
    if (srclen) {
        memcpy(s, src, srclen);
    }
    lh_rc rc = lh_pq_decompress(codec, s, srclen, dst, dstlen, err);
    free(s);
    if (out != NULL && rc == LH_OK) {
        *out = dst;
    } else {
        free(dst);
    }
    return rc;
}

static void
expect_code(lh_rc want, lh_rc got, const lh_err *err)
{
    if (want != got) {
        print_error("want %s, got %s: %s\n", lh_rc_name(want), lh_rc_name(got),
                    got == LH_OK ? "" : err->msg);
        fail();
    }
}

static void
roundtrip(int codec, int level, const uint8_t *in, size_t len)
{
    lh_err err;
    lh_buf b = LH_BUF_INIT;
    lh_buf_append(&b, "hdr", 3); /* compress appends */
    lh_rc rc = lh_pq_compress(codec, level, in, len, &b, &err);
    if (rc != LH_OK) {
        print_error("%s level %d: %s\n", lh_pq_codec_name(codec), level,
                    err.msg);
        fail();
    }
    assert_memory_equal(b.data, "hdr", 3);
    const uint8_t *c = (const uint8_t *)b.data + 3;
    size_t clen = b.len - 3;
    uint8_t *out = NULL;
    rc = decompress_exact(codec, c, clen, len, &out, &err);
    if (rc != LH_OK) {
        print_error("%s level %d, %zu bytes: %s\n", lh_pq_codec_name(codec),
                    level, len, err.msg);
        fail();
    }
    if (len > 0) {
        assert_memory_equal(out, in, len);
    }
    free(out);
    /* One byte more or less than the real size is refused. */
    if (codec != LH_PQ_CODEC_UNCOMPRESSED || len > 0) {
        expect_code(LH_ECORRUPT,
                    decompress_exact(codec, c, clen, len + 1, NULL, &err),
                    &err);
    }
    if (len > 0) {
        expect_code(LH_ECORRUPT,
                    decompress_exact(codec, c, clen, len - 1, NULL, &err),
                    &err);
        assert_non_null(strstr(err.msg, lh_pq_codec_name(codec)));
    }
    /* Cut short, the data is refused. */
    if (clen > 1) {
        lh_rc cut = decompress_exact(codec, c, clen - 1, len, NULL, &err);
        expect_code(LH_ECORRUPT, cut, &err);
    }
    lh_buf_release(&b);
}

static void
test_roundtrip_all_codecs(void **state)
{
    (void)state;
    for (int k = 0; k < IN_COUNT; k++) {
        size_t len;
        uint8_t *in = make_input(k, &len);
        for (size_t c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++) {
            roundtrip(codecs[c], 0, in, len);
        }
        free(in);
    }
}

static void
test_levels(void **state)
{
    (void)state;
    size_t len;
    uint8_t *in = make_input(IN_TEXT, &len);
    const struct {
        int codec, lo, hi;
    } ranges[] = {
        {LH_PQ_CODEC_GZIP, 1, 9},     {LH_PQ_CODEC_BROTLI, 1, 11},
        {LH_PQ_CODEC_ZSTD, -5, 19},   {LH_PQ_CODEC_LZ4, 1, 12},
        {LH_PQ_CODEC_LZ4_RAW, 1, 12},
    };
    lh_err err;
    for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
        /* The ends of each range and one inside; small input keeps the
         * slow levels quick. */
        int lv[3] = {ranges[r].lo, (ranges[r].lo + ranges[r].hi) / 2,
                     ranges[r].hi};
        for (int i = 0; i < 3; i++) {
            if (lv[i] != 0) {
                roundtrip(ranges[r].codec, lv[i], in, 20000);
            }
        }
        lh_buf b = LH_BUF_INIT;
        int bad = ranges[r].codec == LH_PQ_CODEC_ZSTD ? 1000 : ranges[r].hi + 1;
        expect_code(LH_EINVAL,
                    lh_pq_compress(ranges[r].codec, bad, in, 100, &b, &err),
                    &err);
        assert_int_equal(b.len, 0);
        expect_code(
            LH_EINVAL,
            lh_pq_compress(ranges[r].codec, -1000000, in, 100, &b, &err), &err);
        lh_buf_release(&b);
    }
    /* Codecs without levels ignore them. */
    roundtrip(LH_PQ_CODEC_SNAPPY, 5, in, 1000);
    roundtrip(LH_PQ_CODEC_UNCOMPRESSED, 5, in, 1000);
    free(in);
}

static void
test_names(void **state)
{
    (void)state;
    const char *const want[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
    for (int c = 0; c < 8; c++) {
        assert_string_equal(lh_pq_codec_name(c), want[c]);
    }
    assert_string_equal(lh_pq_codec_name(8), "UNKNOWN");
    assert_string_equal(lh_pq_codec_name(-1), "UNKNOWN");
    const struct {
        const char *name;
        int codec;
    } ok[] = {
        {"zstd", LH_PQ_CODEC_ZSTD},
        {"ZSTD", LH_PQ_CODEC_ZSTD},
        {"Snappy", LH_PQ_CODEC_SNAPPY},
        {"gzip", LH_PQ_CODEC_GZIP},
        {"BROTLI", LH_PQ_CODEC_BROTLI},
        {"lz4", LH_PQ_CODEC_LZ4_RAW},
        {"LZ4_RAW", LH_PQ_CODEC_LZ4_RAW},
        {"lz4_hadoop", LH_PQ_CODEC_LZ4},
        {"uncompressed", LH_PQ_CODEC_UNCOMPRESSED},
        {"NONE", LH_PQ_CODEC_UNCOMPRESSED},
    };
    lh_err err;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int c = -1;
        assert_int_equal(lh_pq_codec_parse(ok[i].name, &c, &err), LH_OK);
        assert_int_equal(c, ok[i].codec);
    }
    int c = -1;
    expect_code(LH_EUNSUPPORTED, lh_pq_codec_parse("lzo", &c, &err), &err);
    assert_string_equal(err.msg, "unsupported: LZO codec");
    expect_code(LH_EINVAL, lh_pq_codec_parse("zip", &c, &err), &err);
    assert_non_null(strstr(err.msg, "\"zip\""));
    expect_code(LH_EINVAL, lh_pq_codec_parse("", &c, &err), &err);
    assert_int_equal(c, -1);
}

static void
test_unsupported(void **state)
{
    (void)state;
    lh_err err;
    uint8_t dst[4];
    const uint8_t src[4] = {1, 2, 3, 4};
    expect_code(LH_EUNSUPPORTED,
                lh_pq_decompress(LH_PQ_CODEC_LZO, src, 4, dst, 4, &err), &err);
    assert_string_equal(err.msg, "unsupported: LZO codec");
    expect_code(LH_EUNSUPPORTED, lh_pq_decompress(8, src, 4, dst, 4, &err),
                &err);
    assert_int_equal(strncmp(err.msg, "unsupported: ", 13), 0);
    expect_code(LH_EUNSUPPORTED, lh_pq_decompress(-1, src, 4, dst, 4, &err),
                &err);
    lh_buf b = LH_BUF_INIT;
    expect_code(LH_EUNSUPPORTED,
                lh_pq_compress(LH_PQ_CODEC_LZO, 0, src, 4, &b, &err), &err);
    expect_code(LH_EINVAL, lh_pq_compress(99, 0, src, 4, &b, &err), &err);
    assert_int_equal(b.len, 0);
    lh_buf_release(&b);
    /* An empty page is empty for every codec, without a stream. */
    for (size_t c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++) {
        assert_int_equal(lh_pq_decompress(codecs[c], NULL, 0, NULL, 0, &err),
                         LH_OK);
    }
    /* UNCOMPRESSED must match in size. */
    expect_code(
        LH_ECORRUPT,
        lh_pq_decompress(LH_PQ_CODEC_UNCOMPRESSED, src, 4, dst, 3, &err), &err);
}

/* A 4 MiB page of zeros claims 1000 bytes: every decoder stops at the
 * buffer's end (ASan checks) and reports it. */
static void
test_bombs(void **state)
{
    (void)state;
    size_t len = (size_t)4 << 20;
    uint8_t *zeros = calloc(1, len);
    assert_non_null(zeros);
    lh_err err;
    for (size_t c = 1; c < sizeof(codecs) / sizeof(codecs[0]); c++) {
        lh_buf b = LH_BUF_INIT;
        assert_int_equal(lh_pq_compress(codecs[c], 0, zeros, len, &b, &err),
                         LH_OK);
        assert_true(b.len < len / 10);
        lh_rc rc = decompress_exact(codecs[c], (const uint8_t *)b.data, b.len,
                                    1000, NULL, &err);
        expect_code(LH_ECORRUPT, rc, &err);
        lh_buf_release(&b);
    }
    free(zeros);
}

/* Random bytes and damaged streams: LH_ECORRUPT or, rarely, valid output;
 * never a crash. */
static void
test_garbage(void **state)
{
    (void)state;
    uint64_t seed = 77;
    size_t len;
    uint8_t *in = make_input(IN_TEXT, &len);
    lh_err err;
    for (size_t c = 1; c < sizeof(codecs) / sizeof(codecs[0]); c++) {
        int codec = codecs[c];
        for (int iter = 0; iter < 200; iter++) {
            uint8_t junk[512];
            size_t jl = 1 + rnd(&seed) % sizeof(junk);
            for (size_t i = 0; i < jl; i++) {
                junk[i] = (uint8_t)rnd(&seed);
            }
            lh_rc rc = decompress_exact(
                codec, junk, jl, (size_t)(rnd(&seed) % 4096), NULL, &err);
            assert_true(rc == LH_OK || rc == LH_ECORRUPT);
        }
        lh_buf b = LH_BUF_INIT;
        assert_int_equal(lh_pq_compress(codec, 0, in, 50000, &b, &err), LH_OK);
        for (int iter = 0; iter < 100; iter++) {
            uint8_t *p = malloc(b.len);
            memcpy(p, b.data, b.len);
            p[rnd(&seed) % b.len] ^= (uint8_t)(1 + rnd(&seed) % 255);
            lh_rc rc = decompress_exact(codec, p, b.len, 50000, NULL, &err);
            assert_true(rc == LH_OK || rc == LH_ECORRUPT);
            free(p);
        }
        lh_buf_release(&b);
    }
    free(in);
}

/* Two GZIP members back to back (what Compression.md asks readers to
 * accept), a zlib stream, and trailing junk after a member. */
static void
test_gzip_members(void **state)
{
    (void)state;
    size_t len;
    uint8_t *in = make_input(IN_TEXT, &len);
    lh_err err;
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_pq_compress(LH_PQ_CODEC_GZIP, 0, in, 1000, &b, &err),
                     LH_OK);
    assert_int_equal(
        lh_pq_compress(LH_PQ_CODEC_GZIP, 9, in + 1000, 5000, &b, &err), LH_OK);
    /* An empty member as well. */
    assert_int_equal(lh_pq_compress(LH_PQ_CODEC_GZIP, 0, in, 0, &b, &err),
                     LH_OK);
    uint8_t *out = NULL;
    assert_int_equal(decompress_exact(LH_PQ_CODEC_GZIP, (const uint8_t *)b.data,
                                      b.len, 6000, &out, &err),
                     LH_OK);
    assert_memory_equal(out, in, 6000);
    free(out);
    expect_code(LH_ECORRUPT,
                decompress_exact(LH_PQ_CODEC_GZIP, (const uint8_t *)b.data,
                                 b.len, 1000, NULL, &err),
                &err);
    lh_buf_append(&b, "junk", 4);
    expect_code(LH_ECORRUPT,
                decompress_exact(LH_PQ_CODEC_GZIP, (const uint8_t *)b.data,
                                 b.len, 6000, NULL, &err),
                &err);
    lh_buf_release(&b);

    uLongf zl = compressBound(3000);
    uint8_t *z = malloc(zl);
    assert_int_equal(compress2(z, &zl, in, 3000, 6), Z_OK);
    assert_int_equal(
        decompress_exact(LH_PQ_CODEC_GZIP, z, zl, 3000, &out, &err), LH_OK);
    assert_memory_equal(out, in, 3000);
    free(out);
    free(z);
    free(in);
}

/* LZ4 (codec 5) framing: what we write is Hadoop blocks of at most 64
 * KiB; what we read also includes raw blocks and the LZ4 frame format. */
static void
test_lz4_framings(void **state)
{
    (void)state;
    size_t len;
    uint8_t *in = make_input(IN_TEXT, &len);
    lh_err err;
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_pq_compress(LH_PQ_CODEC_LZ4, 0, in, len, &b, &err),
                     LH_OK);
    const uint8_t *p = (const uint8_t *)b.data;
    size_t at = 0;
    size_t total = 0;
    int blocks = 0;
    while (at < b.len) {
        assert_true(b.len - at >= 8);
        uint32_t ul = (uint32_t)p[at] << 24 | (uint32_t)p[at + 1] << 16 |
                      (uint32_t)p[at + 2] << 8 | p[at + 3];
        uint32_t cl = (uint32_t)p[at + 4] << 24 | (uint32_t)p[at + 5] << 16 |
                      (uint32_t)p[at + 6] << 8 | p[at + 7];
        assert_true(ul <= 65536);
        at += 8 + cl;
        total += ul;
        blocks++;
    }
    assert_int_equal(at, b.len);
    assert_int_equal(total, len);
    assert_int_equal(blocks, (int)((len + 65535) / 65536));
    lh_buf_release(&b);

    /* A raw block under codec 5 (old parquet-cpp). */
    assert_int_equal(
        lh_pq_compress(LH_PQ_CODEC_LZ4_RAW, 0, in, 20000, &b, &err), LH_OK);
    uint8_t *out = NULL;
    assert_int_equal(decompress_exact(LH_PQ_CODEC_LZ4, (const uint8_t *)b.data,
                                      b.len, 20000, &out, &err),
                     LH_OK);
    assert_memory_equal(out, in, 20000);
    free(out);
    lh_buf_release(&b);

    /* The LZ4 frame format under codec 5, and two frames. */
    size_t cap = LZ4F_compressFrameBound(len, NULL);
    uint8_t *fr = malloc(2 * cap);
    size_t f1 = LZ4F_compressFrame(fr, cap, in, 70000, NULL);
    assert_false(LZ4F_isError(f1));
    assert_int_equal(
        decompress_exact(LH_PQ_CODEC_LZ4, fr, f1, 70000, &out, &err), LH_OK);
    assert_memory_equal(out, in, 70000);
    free(out);
    expect_code(LH_ECORRUPT,
                decompress_exact(LH_PQ_CODEC_LZ4, fr, f1, 69999, NULL, &err),
                &err);
    expect_code(LH_ECORRUPT,
                decompress_exact(LH_PQ_CODEC_LZ4, fr, f1, 70001, NULL, &err),
                &err);
    expect_code(
        LH_ECORRUPT,
        decompress_exact(LH_PQ_CODEC_LZ4, fr, f1 - 3, 70000, NULL, &err), &err);
    size_t f2 = LZ4F_compressFrame(fr + f1, cap, in + 70000, 1000, NULL);
    assert_false(LZ4F_isError(f2));
    assert_int_equal(
        decompress_exact(LH_PQ_CODEC_LZ4, fr, f1 + f2, 71000, &out, &err),
        LH_OK);
    assert_memory_equal(out, in, 71000);
    free(out);
    free(fr);
    free(in);
}

/* ---- fixtures ------------------------------------------------------------ */

static char fixture_dir[1024];

static bool
find_fixtures(void)
{
    const char *env = getenv("LH_PARQUET_FIXTURES");
    if (env != NULL) {
        snprintf(fixture_dir, sizeof(fixture_dir), "%s", env);
    } else {
        snprintf(fixture_dir, sizeof(fixture_dir), "%s", __FILE__);
        char *slash = strrchr(fixture_dir, '/');
        if (slash == NULL) {
            return false;
        }
        snprintf(slash, sizeof(fixture_dir) - (size_t)(slash - fixture_dir),
                 "/../../../shared/fixtures/parquet");
    }
    char probe[1100];
    snprintf(probe, sizeof(probe), "%s/README.md", fixture_dir);
    FILE *f = fopen(probe, "rb");
    if (f == NULL) {
        return false;
    }
    fclose(f);
    return true;
}

static uint8_t *
read_fixture(const char *name, size_t *len)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s", fixture_dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        print_error("cannot open fixture %s\n", path);
        fail();
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* One page body of a fixture: [off, off + clen) decompresses to ulen. */
static uint8_t *
fixture_page(const char *name, int codec, size_t off, size_t clen, size_t ulen)
{
    size_t flen;
    uint8_t *file = read_fixture(name, &flen);
    assert_true(off + clen <= flen);
    uint8_t *out = NULL;
    lh_err err;
    lh_rc rc = decompress_exact(codec, file + off, clen, ulen, &out, &err);
    if (rc != LH_OK) {
        print_error("%s: %s\n", name, err.msg);
        fail();
    }
    free(file);
    return out;
}

static void
test_fixture_gzip_members(void **state)
{
    (void)state;
    if (!find_fixtures()) {
        skip();
    }
    /* DataPageV2 at byte 4: uncompressed 4107, compressed 1419, of which
     * 3 bytes of definition levels (uncompressed) come first; the GZIP
     * stream (two members) is bytes 0x37.. of 1416, holding 513 uint64
     * values 1..513. */
    uint8_t *out = fixture_page("concatenated_gzip_members.parquet",
                                LH_PQ_CODEC_GZIP, 0x37, 1416, 4104);
    for (uint64_t i = 0; i < 513; i++) {
        uint64_t v;
        memcpy(&v, out + 8 * i, 8);
        assert_int_equal(v, i + 1);
    }
    free(out);
}

static void
test_fixture_lz4(void **state)
{
    (void)state;
    if (!find_fixtures()) {
        skip();
    }
    /* Dictionary pages of 16 bytes (two int64 timestamps): Hadoop-framed
     * from parquet-mr, raw from old parquet-cpp. */
    uint8_t *a = fixture_page("hadoop_lz4_compressed.parquet", LH_PQ_CODEC_LZ4,
                              0x11, 26, 16);
    uint8_t *b = fixture_page("non_hadoop_lz4_compressed.parquet",
                              LH_PQ_CODEC_LZ4, 0x12, 18, 16);
    assert_memory_equal(a, b, 16);
    const uint8_t want[16] = {0xc0, 0x7a, 0xfc, 0x5e, 0, 0, 0, 0,
                              0xc1, 0x7a, 0xfc, 0x5e, 0, 0, 0, 0};
    assert_memory_equal(a, want, 16);
    free(a);
    free(b);
    /* 400000 bytes in Hadoop blocks of 128 KiB (parquet-mr 1.11): PLAIN
     * byte arrays, the first a 36-byte UUID string. */
    uint8_t *c = fixture_page("hadoop_lz4_compressed_larger.parquet",
                              LH_PQ_CODEC_LZ4, 0x21, 358322, 400000);
    assert_int_equal(c[0], 36);
    assert_memory_equal(c + 4, "c7ce6bef-d5b0-486", 17);
    free(c);
}

/* ---- out of memory ------------------------------------------------------- */

static void
test_oom(void **state)
{
    (void)state;
    size_t len;
    uint8_t *in = make_input(IN_TEXT, &len);
    lh_err err;
    const int lib_alloc[] = {LH_PQ_CODEC_GZIP, LH_PQ_CODEC_BROTLI};
    for (size_t i = 0; i < 2; i++) {
        int codec = lib_alloc[i];
        lh_buf b = LH_BUF_INIT;
        assert_int_equal(lh_pq_compress(codec, 0, in, 10000, &b, &err), LH_OK);
        uint8_t *dst = malloc(10000);
        /* Fail each of the first allocations in turn. */
        for (uint64_t nth = 1; nth <= 4; nth++) {
            lh_alloc_fail_at(nth, true);
            lh_rc rc = lh_pq_decompress(codec, (const uint8_t *)b.data, b.len,
                                        dst, 10000, &err);
            lh_alloc_fail_at(0, false);
            assert_true(rc == LH_OK || rc == LH_ENOMEM);
            if (nth == 1) {
                expect_code(LH_ENOMEM, rc, &err);
            }
            if (codec == LH_PQ_CODEC_BROTLI) {
                continue; /* its encoder exit()s on OOM: see codec.h */
            }
            lh_buf c = LH_BUF_INIT;
            lh_alloc_fail_at(nth, true);
            rc = lh_pq_compress(codec, 0, in, 10000, &c, &err);
            lh_alloc_fail_at(0, false);
            assert_true(rc == LH_OK || rc == LH_ENOMEM);
            if (nth == 1) {
                expect_code(LH_ENOMEM, rc, &err);
            }
            lh_buf_release(&c);
        }
        free(dst);
        lh_buf_release(&b);
    }
    /* The output buffer itself. */
    for (size_t c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++) {
        lh_buf b = LH_BUF_INIT;
        lh_alloc_fail_at(1, true);
        lh_rc rc = lh_pq_compress(codecs[c], 0, in, 1000, &b, &err);
        lh_alloc_fail_at(0, false);
        expect_code(LH_ENOMEM, rc, &err);
        lh_buf_release(&b);
    }
    free(in);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_all_codecs),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_bombs),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_gzip_members),
        cmocka_unit_test(test_lz4_framings),
        cmocka_unit_test(test_fixture_gzip_members),
        cmocka_unit_test(test_fixture_lz4),
        cmocka_unit_test_teardown(test_oom, reset_injection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
