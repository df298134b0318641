/*
 * Unit tests: the Thrift compact protocol (thrift.h) and the Parquet
 * metadata structs (meta.h). Hand-checked bytes for the encoding rules, a
 * round trip of structs with every field set, the footer and page headers of
 * every fixture of parquet-testing (num_rows against the fixtures' README,
 * the footer against hyparquet's decoding where there is one), and bad,
 * truncated and bit-flipped input, which must give an error or a valid
 * decode, never a crash.
 *
 * The fixtures are under ${LH_SHARED_DIR:-<source dir>/../shared}/fixtures/
 * parquet; the tests that need them are skipped, saying why, without them.
 */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "format/parquet/meta.h"
#include "format/parquet/thrift.h"
#include "pq_test.h"

/* ---- helpers ------------------------------------------------------------- */

static lh_arena arena;

static int
setup(void **state)
{
    (void)state;
    lh_arena_init(&arena, 0);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    lh_alloc_fail_at(0, false);
    lh_arena_release(&arena);
    return 0;
}

/* Hex dump of up to 64 bytes into a static buffer, for failure messages. */
static const char *
hex(const void *p, size_t n)
{
    static char buf[64 * 3 + 8];
    const uint8_t *b = p;
    size_t at = 0;
    for (size_t i = 0; i < n && i < 64; i++) {
        at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%02x ", b[i]);
    }
    if (n > 64) {
        snprintf(buf + at, sizeof(buf) - at, "...");
    }
    return buf;
}

static void
assert_bytes(const lh_buf *b, const void *want, size_t n)
{
    if (b->len != n || memcmp(b->data, want, n) != 0) {
        char got[64 * 3 + 8];
        snprintf(got, sizeof(got), "%s", hex(b->data, b->len));
        fail_msg("bytes differ:\n  got  %s\n  want %s", got, hex(want, n));
    }
}

static void
assert_contains(const char *s, const char *part)
{
    if (strstr(s, part) == NULL) {
        fail_msg("\"%s\" does not contain \"%s\"", s, part);
    }
}

/* ---- the compact protocol ------------------------------------------------ */

static void
test_varints_and_zigzag(void **state)
{
    (void)state;
    lh_buf b = LH_BUF_INIT;
    lh_tc_writer w;
    lh_tc_writer_init(&w, &b);
    lh_tc_write_i32(&w, 0);
    lh_tc_write_i32(&w, -1);
    lh_tc_write_i32(&w, 1);
    lh_tc_write_i32(&w, 300);
    lh_tc_write_i64(&w, -64);
    lh_tc_write_i16(&w, -32768);
    lh_tc_write_i8(&w, -2);
    lh_tc_write_double(&w, 1.0);
    lh_tc_write_binary(&w, "hi", 2);
    /* zigzag(300) = 600 = 0x258: d8 04; zigzag(-64) = 127; zigzag(-32768) =
     * 65535: ff ff 03; 1.0 = 0x3ff0000000000000 little-endian. */
    static const uint8_t want[] = {0x00, 0x01, 0x02, 0xd8, 0x04, 0x7f, 0xff,
                                   0xff, 0x03, 0xfe, 0,    0,    0,    0,
                                   0,    0,    0xf0, 0x3f, 0x02, 'h',  'i'};
    assert_bytes(&b, want, sizeof(want));

    lh_err err;
    lh_tc_reader r;
    lh_tc_reader_init(&r, (const uint8_t *)b.data, b.len, &err);
    int32_t i32;
    int64_t i64;
    int16_t i16;
    int8_t i8;
    double d;
    const uint8_t *p;
    uint32_t len;
    int32_t want32[] = {0, -1, 1, 300};
    for (size_t i = 0; i < LH_ARRAY_LEN(want32); i++) {
        assert_int_equal(lh_tc_read_i32(&r, &i32), LH_OK);
        assert_int_equal(i32, want32[i]);
    }
    assert_int_equal(lh_tc_read_i64(&r, &i64), LH_OK);
    assert_int_equal(i64, -64);
    assert_int_equal(lh_tc_read_i16(&r, &i16), LH_OK);
    assert_int_equal(i16, -32768);
    assert_int_equal(lh_tc_read_i8(&r, &i8), LH_OK);
    assert_int_equal(i8, -2);
    assert_int_equal(lh_tc_read_double(&r, &d), LH_OK);
    assert_true(d == 1.0);
    assert_int_equal(lh_tc_read_binary(&r, &p, &len), LH_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(p, "hi", 2);
    assert_int_equal(lh_tc_left(&r), 0);
    assert_int_equal(lh_tc_read_i8(&r, &i8), LH_ECORRUPT);

    /* Extremes of every width round-trip. */
    lh_buf_reset(&b);
    int64_t vals[] = {INT64_MIN, INT64_MAX, INT32_MIN, INT32_MAX, -1, 0};
    for (size_t i = 0; i < LH_ARRAY_LEN(vals); i++) {
        lh_tc_write_i64(&w, vals[i]);
    }
    lh_tc_reader_init(&r, (const uint8_t *)b.data, b.len, &err);
    for (size_t i = 0; i < LH_ARRAY_LEN(vals); i++) {
        assert_int_equal(lh_tc_read_i64(&r, &i64), LH_OK);
        assert_true(i64 == vals[i]);
    }
    lh_buf_release(&b);
}

static void
test_bad_varints(void **state)
{
    (void)state;
    lh_err err;
    lh_tc_reader r;
    int32_t i32;
    int64_t i64;
    uint64_t u;

    static const uint8_t cut[] = {0x80, 0x80};
    lh_tc_reader_init(&r, cut, sizeof(cut), &err);
    assert_int_equal(lh_tc_read_i64(&r, &i64), LH_ECORRUPT);
    assert_contains(err.msg, "varint cut off");

    static const uint8_t eleven[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0x01};
    lh_tc_reader_init(&r, eleven, sizeof(eleven), &err);
    assert_int_equal(lh_tc_read_varint(&r, &u), LH_ECORRUPT);
    assert_contains(err.msg, "longer than 64 bits");

    /* 2^32 does not fit an i32 once unzigzagged. */
    static const uint8_t big[] = {0x80, 0x80, 0x80, 0x80, 0x20};
    lh_tc_reader_init(&r, big, sizeof(big), &err);
    assert_int_equal(lh_tc_read_i32(&r, &i32), LH_ECORRUPT);
    assert_contains(err.msg, "i32 value");

    static const uint8_t bin[] = {0x05, 'a', 'b'};
    const uint8_t *p;
    uint32_t len;
    lh_tc_reader_init(&r, bin, sizeof(bin), &err);
    assert_int_equal(lh_tc_read_binary(&r, &p, &len), LH_ECORRUPT);
    assert_string_equal(err.msg, "binary of 5 bytes exceeds the 2 bytes left");
    assert_int_equal(err.offset, 1);

    /* Bool elements are 1 (true), 2 or 0 (false), nothing else. */
    static const uint8_t bools[] = {1, 2, 0, 3};
    bool v;
    lh_tc_reader_init(&r, bools, sizeof(bools), &err);
    assert_int_equal(lh_tc_read_bool(&r, &v), LH_OK);
    assert_true(v);
    assert_int_equal(lh_tc_read_bool(&r, &v), LH_OK);
    assert_false(v);
    assert_int_equal(lh_tc_read_bool(&r, &v), LH_OK);
    assert_false(v);
    assert_int_equal(lh_tc_read_bool(&r, &v), LH_ECORRUPT);
}

static void
test_field_headers(void **state)
{
    (void)state;
    lh_buf b = LH_BUF_INIT;
    lh_tc_writer w;
    lh_tc_writer_init(&w, &b);
    int16_t saved;
    lh_tc_write_struct_begin(&w, &saved);
    lh_tc_write_field(&w, 1, LH_TC_I32); /* delta 1: 0x15 */
    lh_tc_write_i32(&w, 7);
    lh_tc_write_bool_field(&w, 5, true);  /* delta 4, true: 0x41 */
    lh_tc_write_bool_field(&w, 6, false); /* delta 1, false: 0x12 */
    lh_tc_write_field(&w, 40, LH_TC_I8);  /* delta 34: long form */
    lh_tc_write_i8(&w, 9);
    lh_tc_write_field(&w, 3, LH_TC_I16); /* going back: long form */
    lh_tc_write_i16(&w, 2);
    lh_tc_write_field(&w, 4, LH_TC_LIST);      /* delta 1: 0x19 */
    lh_tc_write_list_begin(&w, LH_TC_BOOL, 2); /* 0x21 */
    lh_tc_write_bool(&w, true);
    lh_tc_write_bool(&w, false);
    lh_tc_write_field(&w, 5, LH_TC_LIST);
    lh_tc_write_list_begin(&w, LH_TC_I32, 15); /* 0xf5 then varint 15 */
    for (int i = 0; i < 15; i++) {
        lh_tc_write_i32(&w, i);
    }
    lh_tc_write_struct_end(&w, saved);
    static const uint8_t want[] = {
        0x15, 0x0e, 0x41, 0x12, 0x03, 0x50, 0x09, 0x04, 0x06, 0x04, 0x19,
        0x21, 0x01, 0x02, 0x19, 0xf5, 0x0f, 0,    2,    4,    6,    8,
        10,   12,   14,   16,   18,   20,   22,   24,   26,   28,   0x00};
    assert_bytes(&b, want, sizeof(want));

    lh_err err;
    lh_tc_reader r;
    lh_tc_field f;
    lh_tc_reader_init(&r, (const uint8_t *)b.data, b.len, &err);
    assert_int_equal(lh_tc_struct_begin(&r, &saved), LH_OK);
    assert_int_equal(lh_tc_field_next(&r, &f), LH_OK);
    assert_int_equal(f.id, 1);
    assert_int_equal(f.type, LH_TC_I32);
    assert_int_equal(lh_tc_skip_field(&r, &f), LH_OK);
    assert_int_equal(lh_tc_field_next(&r, &f), LH_OK);
    assert_int_equal(f.id, 5);
    assert_int_equal(f.type, LH_TC_BOOL);
    assert_true(f.bool_value);
    assert_int_equal(lh_tc_field_next(&r, &f), LH_OK);
    assert_int_equal(f.id, 6);
    assert_int_equal(f.type, LH_TC_BOOL);
    assert_false(f.bool_value);
    assert_int_equal(lh_tc_skip_field(&r, &f), LH_OK);
    assert_int_equal(lh_tc_field_next(&r, &f), LH_OK);
    assert_int_equal(f.id, 40);
    assert_int_equal(lh_tc_skip_field(&r, &f), LH_OK);
    assert_int_equal(lh_tc_field_next(&r, &f), LH_OK);
    assert_int_equal(f.id, 3);
    assert_int_equal(lh_tc_skip_field(&r, &f), LH_OK);
    assert_int_equal(lh_tc_field_next(&r, &f), LH_OK);
    assert_int_equal(f.id, 4);
    uint8_t et;
    uint32_t n;
    assert_int_equal(lh_tc_list_begin(&r, &et, &n), LH_OK);
    assert_int_equal(et, LH_TC_BOOL);
    assert_int_equal(n, 2);
    bool v;
    assert_int_equal(lh_tc_read_bool(&r, &v), LH_OK);
    assert_true(v);
    assert_int_equal(lh_tc_read_bool(&r, &v), LH_OK);
    assert_false(v);
    lh_tc_list_end(&r);
    assert_int_equal(lh_tc_field_next(&r, &f), LH_OK);
    assert_int_equal(f.id, 5);
    assert_int_equal(lh_tc_list_begin(&r, &et, &n), LH_OK);
    assert_int_equal(n, 15);
    for (int32_t i = 0; i < 15; i++) {
        int32_t x;
        assert_int_equal(lh_tc_read_i32(&r, &x), LH_OK);
        assert_int_equal(x, i);
    }
    lh_tc_list_end(&r);
    assert_int_equal(lh_tc_field_next(&r, &f), LH_OK);
    assert_int_equal(f.type, LH_TC_STOP);
    lh_tc_struct_end(&r, saved);
    assert_int_equal(r.depth, 0);
    assert_int_equal(lh_tc_left(&r), 0);
    lh_buf_release(&b);
}

/* Skipping: every type, nested, and the limits. */
static void
test_skip(void **state)
{
    (void)state;
    /* A struct holding one field of every type, maps and sets included. */
    static const uint8_t all[] = {
        0x11,                                             /* 1: bool true */
        0x13, 0x05,                                       /* 2: i8 */
        0x14, 0x04,                                       /* 3: i16 */
        0x15, 0x80, 0x01,                                 /* 4: i32 */
        0x16, 0x02,                                       /* 5: i64 */
        0x17, 1,    2,    3,    4,    5,    6,   7,    8, /* 6: double */
        0x18, 0x01, 'x',                                  /* 7: binary */
        0x19, 0x28, 0x01, 'a',  0x00, /* 8: list<binary>: "a", "" */
        0x1a, 0x21, 0x01, 0x02,       /* 9: set<bool> of 2 */
        0x1b, 0x02, 0x85, 0x00, 0x00, 0x01, 'k', 0x02, /* 10: map<binary,i32> */
        0x1b, 0x00,                                    /* 11: empty map */
        0x1c, 0x1c, 0x11, 0x00, 0x00, /* 12: struct { struct { bool } } */
        0x1d, 1,    2,    3,    4,    5,    6,   7,    8, /* 13: uuid */
        9,    10,   11,   12,   13,   14,   15,  16,   0x19,
        0x0c, /* 14: empty list<struct> */
        0x00};
    lh_err err;
    lh_tc_reader r;
    lh_tc_reader_init(&r, all, sizeof(all), &err);
    assert_int_equal(lh_tc_skip(&r, LH_TC_STRUCT), LH_OK);
    assert_int_equal(lh_tc_left(&r), 0);
    assert_int_equal(r.depth, 0);

    /* Every strict prefix is an error, not a crash. */
    for (size_t n = 0; n < sizeof(all); n++) {
        lh_tc_reader_init(&r, all, n, &err);
        assert_int_equal(lh_tc_skip(&r, LH_TC_STRUCT), LH_ECORRUPT);
    }

    /* A list longer than the bytes left, caught before anything else. */
    static const uint8_t long_list[] = {0xf5, 0x80, 0x92, 0xf4, 0x01, 0, 0};
    lh_tc_reader_init(&r, long_list, sizeof(long_list), &err);
    assert_int_equal(lh_tc_skip(&r, LH_TC_LIST), LH_ECORRUPT);
    assert_string_equal(err.msg,
                        "list of 4000000 elements exceeds the 2 bytes left");
    /* Doubles take 8 bytes each. */
    static const uint8_t doubles[] = {0x27, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    lh_tc_reader_init(&r, doubles, sizeof(doubles), &err);
    assert_int_equal(lh_tc_skip(&r, LH_TC_LIST), LH_ECORRUPT);
    static const uint8_t big_map[] = {0x90, 0x4e, 0x55, 0, 0, 0};
    lh_tc_reader_init(&r, big_map, sizeof(big_map), &err);
    assert_int_equal(lh_tc_skip(&r, LH_TC_MAP), LH_ECORRUPT);
    assert_contains(err.msg, "map of 10000 entries");

    /* Unknown types. */
    static const uint8_t bad_type[] = {0x1e, 0x00};
    lh_tc_reader_init(&r, bad_type, sizeof(bad_type), &err);
    assert_int_equal(lh_tc_skip(&r, LH_TC_STRUCT), LH_ECORRUPT);
    assert_contains(err.msg, "unknown field type 14");
    static const uint8_t bad_elem[] = {0x1f, 0x00};
    lh_tc_reader_init(&r, bad_elem, sizeof(bad_elem), &err);
    assert_int_equal(lh_tc_skip(&r, LH_TC_LIST), LH_ECORRUPT);
    /* A field id past INT16_MAX by delta. */
    static const uint8_t far[] = {0x05, 0xfc, 0xff, 0x03, 0x00, 0xf5, 0x00};
    lh_tc_reader_init(&r, far, sizeof(far), &err);
    assert_int_equal(lh_tc_skip(&r, LH_TC_STRUCT), LH_ECORRUPT);
    assert_contains(err.msg, "field id 32781 out of range");
}

static void
test_depth_limit(void **state)
{
    (void)state;
    /* 64 nested structs are fine; 65 are not. Same for lists. */
    for (int depth = 63; depth <= 66; depth++) {
        uint8_t buf[256];
        size_t n = 0;
        for (int i = 0; i < depth - 1; i++) {
            buf[n++] = 0x1c; /* field 1: struct */
        }
        for (int i = 0; i < depth; i++) {
            buf[n++] = 0x00;
        }
        lh_err err;
        lh_tc_reader r;
        lh_tc_reader_init(&r, buf, n, &err);
        lh_rc rc = lh_tc_skip(&r, LH_TC_STRUCT);
        if (depth <= LH_TC_MAX_DEPTH) {
            assert_int_equal(rc, LH_OK);
        } else {
            assert_int_equal(rc, LH_ECORRUPT);
            assert_string_equal(err.msg, "nesting deeper than 64");
        }

        n = 0;
        for (int i = 0; i < depth - 1; i++) {
            buf[n++] = 0x19; /* list of one list */
        }
        buf[n++] = 0x05; /* empty list<i32> */
        lh_tc_reader_init(&r, buf, n, &err);
        rc = lh_tc_skip(&r, LH_TC_LIST);
        assert_int_equal(rc, depth <= LH_TC_MAX_DEPTH ? LH_OK : LH_ECORRUPT);
    }
    /* A deep bomb inside a footer is an error too (the unknown field 20
     * holds it). */
    uint8_t bomb[20000];
    size_t n = 0;
    bomb[n++] = 0x0c; /* long form: struct, id follows */
    bomb[n++] = 40;   /* zigzag(20) */
    while (n < sizeof(bomb) - 1) {
        bomb[n++] = 0x1c;
    }
    bomb[n++] = 0x00;
    lh_pq_file_metadata m;
    lh_err err;
    assert_int_equal(lh_pq_decode_file_metadata(bomb, n, &arena, &m, &err),
                     LH_ECORRUPT);
    assert_contains(err.msg, "nesting deeper than 64");
}

/* ---- the structs --------------------------------------------------------- */

static const uint8_t page_header_bytes[] = {
    0x15, 0x00,       /* 1: type DATA_PAGE */
    0x15, 0xc8, 0x01, /* 2: uncompressed_page_size 100 */
    0x15, 0x64,       /* 3: compressed_page_size 50 */
    0x15, 0x0d,       /* 4: crc -7 */
    0x1c,             /* 5: data_page_header */
    0x15, 0x14,       /*   1: num_values 10 */
    0x15, 0x10,       /*   2: encoding RLE_DICTIONARY */
    0x15, 0x06,       /*   3: definition_level_encoding RLE */
    0x15, 0x08,       /*   4: repetition_level_encoding BIT_PACKED */
    0x1c,             /*   5: statistics */
    0x36, 0x02,       /*     3: null_count 1 */
    0x28, 0x01, 'z',  /*     5: max_value "z" */
    0x18, 0x00,       /*     6: min_value "" */
    0x11,             /*     7: is_max_value_exact true */
    0x12,             /*     8: is_min_value_exact false */
    0x00, 0x00, 0x00, 'p', 'a', 'g', 'e', /* the page's bytes */
};

static void
test_page_header_bytes(void **state)
{
    (void)state;
    lh_pq_page_header h;
    lh_err err;
    size_t used = 0;
    assert_int_equal(lh_pq_decode_page_header(page_header_bytes,
                                              sizeof(page_header_bytes), &arena,
                                              &h, &used, &err),
                     LH_OK);
    assert_int_equal(used, sizeof(page_header_bytes) - 4);
    assert_int_equal(h.type, LH_PQ_PAGE_DATA_PAGE);
    assert_int_equal(h.uncompressed_page_size, 100);
    assert_int_equal(h.compressed_page_size, 50);
    assert_true(h.has_crc);
    assert_int_equal(h.crc, -7);
    assert_true(h.has_data_page_header);
    assert_false(h.has_dictionary_page_header);
    assert_false(h.has_data_page_header_v2);
    assert_false(h.has_index_page_header);
    const lh_pq_data_page_header *dp = &h.data_page_header;
    assert_int_equal(dp->num_values, 10);
    assert_int_equal(dp->encoding, LH_PQ_ENC_RLE_DICTIONARY);
    assert_int_equal(dp->definition_level_encoding, LH_PQ_ENC_RLE);
    assert_int_equal(dp->repetition_level_encoding, LH_PQ_ENC_BIT_PACKED);
    assert_true(dp->has_statistics);
    const lh_pq_statistics *st = &dp->statistics;
    assert_false(st->has_max);
    assert_false(st->has_min);
    assert_true(st->has_null_count);
    assert_int_equal(st->null_count, 1);
    assert_false(st->has_distinct_count);
    assert_true(st->has_max_value);
    assert_int_equal(st->max_value.len, 1);
    /* Borrowed from the input. */
    assert_ptr_equal(st->max_value.p, page_header_bytes + 23);
    assert_true(st->has_min_value);
    assert_int_equal(st->min_value.len, 0);
    assert_true(st->has_is_max_value_exact);
    assert_true(st->is_max_value_exact);
    assert_true(st->has_is_min_value_exact);
    assert_false(st->is_min_value_exact);
    assert_false(st->has_nan_count);

    /* Encoding gives the same bytes back. */
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_pq_encode_page_header(&h, &b, &err), LH_OK);
    assert_bytes(&b, page_header_bytes, used);
    lh_buf_release(&b);

    /* consumed may be NULL for the page index and Bloom filter header. */
    static const uint8_t bloom[] = {0x15, 0x80, 0x04, 0x1c, 0x1c, 0x00,
                                    0x00, 0x1c, 0x1c, 0x00, 0x00, 0x1c,
                                    0x1c, 0x00, 0x00, 0x00, 0xaa};
    lh_pq_bloom_filter_header bf;
    assert_int_equal(lh_pq_decode_bloom_filter_header(bloom, sizeof(bloom),
                                                      &arena, &bf, &used, &err),
                     LH_OK);
    assert_int_equal(used, sizeof(bloom) - 1);
    assert_int_equal(bf.num_bytes, 256);
    assert_int_equal(bf.algorithm, LH_PQ_BLOOM_ALGORITHM_BLOCK);
    assert_int_equal(bf.hash, LH_PQ_BLOOM_HASH_XXHASH);
    assert_int_equal(bf.compression, LH_PQ_BLOOM_COMPRESSION_UNCOMPRESSED);
    assert_int_equal(lh_pq_decode_bloom_filter_header(bloom, sizeof(bloom),
                                                      &arena, &bf, NULL, &err),
                     LH_OK);
    lh_buf_init(&b);
    assert_int_equal(lh_pq_encode_bloom_filter_header(&bf, &b, &err), LH_OK);
    assert_bytes(&b, bloom, sizeof(bloom) - 1);
    lh_buf_release(&b);
}

/* A FileMetaData with every field of every struct set. */
typedef struct full_meta {
    lh_pq_file_metadata m;
    lh_pq_schema_element schema[12];
    lh_pq_row_group rg[2];
    lh_pq_column_chunk cc[2];
    lh_pq_key_value kv[2];
    lh_pq_column_order orders[3];
    lh_pq_sorting_column sorting[1];
    lh_pq_page_encoding_stats es[2];
    int32_t encodings[3];
    char *path0[2];
    char *path1[1];
    int64_t hist[3];
    int32_t geo_types[2];
} full_meta;

static const uint8_t bin_bytes[] = {0x00, 0xff, 0x10, 'k', 'e', 'y'};

static lh_pq_bytes
bytes_of(size_t off, size_t len)
{
    lh_pq_bytes b = {bin_bytes + off, (uint32_t)len};
    return b;
}

static lh_pq_statistics
full_statistics(void)
{
    lh_pq_statistics s;
    memset(&s, 0, sizeof(s));
    s.max = bytes_of(0, 2);
    s.has_max = true;
    s.min = bytes_of(0, 0);
    s.has_min = true;
    s.null_count = 5;
    s.has_null_count = true;
    s.distinct_count = INT64_MAX;
    s.has_distinct_count = true;
    s.max_value = bytes_of(1, 5);
    s.has_max_value = true;
    s.min_value = bytes_of(2, 1);
    s.has_min_value = true;
    s.is_max_value_exact = true;
    s.has_is_max_value_exact = true;
    s.is_min_value_exact = false;
    s.has_is_min_value_exact = true;
    s.nan_count = 0;
    s.has_nan_count = true;
    return s;
}

static void
build_full(full_meta *f)
{
    memset(f, 0, sizeof(*f));
    lh_pq_file_metadata *m = &f->m;
    m->version = 2;
    m->num_rows = 1234567890123LL;
    m->created_by = "lakehouse test";

    /* The schema: one element per logical type kind with fields, plus an
     * unknown kind and a converted type. */
    lh_pq_schema_element *s = f->schema;
    s[0].name = "root";
    s[0].num_children = 11;
    s[0].has_num_children = true;
    for (int i = 1; i < 12; i++) {
        s[i].has_type = true;
        s[i].type = LH_PQ_TYPE_INT64;
        s[i].has_repetition_type = true;
        s[i].repetition_type = LH_PQ_REP_OPTIONAL;
        s[i].has_logical_type = true;
    }
    s[1].name = "dec";
    s[1].type = LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY;
    s[1].type_length = 16;
    s[1].has_type_length = true;
    s[1].converted_type = LH_PQ_CONV_DECIMAL;
    s[1].has_converted_type = true;
    s[1].scale = 3;
    s[1].has_scale = true;
    s[1].precision = 38;
    s[1].has_precision = true;
    s[1].field_id = -17;
    s[1].has_field_id = true;
    s[1].logical_type.kind = LH_PQ_LT_DECIMAL;
    s[1].logical_type.scale = 3;
    s[1].logical_type.precision = 38;
    s[2].name = "ts";
    s[2].logical_type.kind = LH_PQ_LT_TIMESTAMP;
    s[2].logical_type.is_adjusted_to_utc = true;
    s[2].logical_type.unit = LH_PQ_UNIT_NANOS;
    s[3].name = "t";
    s[3].logical_type.kind = LH_PQ_LT_TIME;
    s[3].logical_type.is_adjusted_to_utc = false;
    s[3].logical_type.unit = LH_PQ_UNIT_MILLIS;
    s[4].name = "i";
    s[4].logical_type.kind = LH_PQ_LT_INTEGER;
    s[4].logical_type.bit_width = 16;
    s[4].logical_type.is_signed = false;
    s[5].name = "v";
    s[5].logical_type.kind = LH_PQ_LT_VARIANT;
    s[5].logical_type.specification_version = 1;
    s[5].logical_type.has_specification_version = true;
    s[6].name = "geo";
    s[6].logical_type.kind = LH_PQ_LT_GEOMETRY;
    s[6].logical_type.crs = "OGC:CRS84";
    s[7].name = "geog";
    s[7].logical_type.kind = LH_PQ_LT_GEOGRAPHY;
    s[7].logical_type.crs = "srid:4326";
    s[7].logical_type.algorithm = LH_PQ_EDGE_KARNEY;
    s[7].logical_type.has_algorithm = true;
    s[8].name = "s";
    s[8].logical_type.kind = LH_PQ_LT_STRING;
    s[9].name = "future";
    s[9].logical_type.kind = 42; /* unknown here */
    s[10].name = "nothing";      /* a union with no member set */
    s[10].logical_type.kind = 0;
    s[11].name = "null";
    s[11].logical_type.kind = LH_PQ_LT_UNKNOWN;
    m->schema = s;
    m->n_schema = 12;

    /* Key/value metadata, a value with a NUL inside, one without value. */
    f->kv[0].key = "k0";
    f->kv[0].value = "a\0b";
    f->kv[0].value_len = 3;
    f->kv[1].key = "only key";
    m->key_value_metadata = f->kv;
    m->n_key_value_metadata = 2;

    f->orders[0].kind = LH_PQ_ORDER_TYPE_DEFINED;
    f->orders[1].kind = LH_PQ_ORDER_IEEE_754_TOTAL;
    f->orders[2].kind = 99;
    m->column_orders = f->orders;
    m->n_column_orders = 3;

    m->encryption_algorithm.kind = LH_PQ_CRYPT_AES_GCM_CTR_V1;
    m->encryption_algorithm.aad_prefix = bytes_of(3, 3);
    m->encryption_algorithm.has_aad_prefix = true;
    m->encryption_algorithm.aad_file_unique = bytes_of(0, 6);
    m->encryption_algorithm.has_aad_file_unique = true;
    m->encryption_algorithm.supply_aad_prefix = true;
    m->encryption_algorithm.has_supply_aad_prefix = true;
    m->has_encryption_algorithm = true;
    m->footer_signing_key_metadata = bytes_of(1, 2);
    m->has_footer_signing_key_metadata = true;

    /* Column 0: every ColumnChunk and ColumnMetaData field. */
    lh_pq_column_chunk *c = &f->cc[0];
    c->file_path = "other.parquet";
    c->file_offset = 4;
    c->has_meta_data = true;
    c->offset_index_offset = 1000;
    c->has_offset_index_offset = true;
    c->offset_index_length = 20;
    c->has_offset_index_length = true;
    c->column_index_offset = 2000;
    c->has_column_index_offset = true;
    c->column_index_length = 30;
    c->has_column_index_length = true;
    c->crypto_metadata.kind = LH_PQ_CRYPT_WITH_COLUMN_KEY;
    c->crypto_metadata.path_in_schema = f->path1;
    c->crypto_metadata.n_path_in_schema = 1;
    c->crypto_metadata.key_metadata = bytes_of(0, 1);
    c->crypto_metadata.has_key_metadata = true;
    c->has_crypto_metadata = true;
    c->encrypted_column_metadata = bytes_of(4, 2);
    c->has_encrypted_column_metadata = true;
    lh_pq_column_metadata *cm = &c->meta_data;
    cm->type = LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY;
    f->encodings[0] = LH_PQ_ENC_PLAIN;
    f->encodings[1] = LH_PQ_ENC_RLE;
    f->encodings[2] = LH_PQ_ENC_ALP;
    cm->encodings = f->encodings;
    cm->n_encodings = 3;
    f->path0[0] = "a";
    f->path0[1] = "dec";
    f->path1[0] = "ts";
    cm->path_in_schema = f->path0;
    cm->n_path_in_schema = 2;
    cm->codec = LH_PQ_CODEC_ZSTD;
    cm->num_values = 100;
    cm->total_uncompressed_size = 5000;
    cm->total_compressed_size = 4000;
    cm->key_value_metadata = f->kv;
    cm->n_key_value_metadata = 1;
    cm->data_page_offset = 40;
    cm->index_page_offset = 30;
    cm->has_index_page_offset = true;
    cm->dictionary_page_offset = 4;
    cm->has_dictionary_page_offset = true;
    cm->statistics = full_statistics();
    cm->has_statistics = true;
    f->es[0].page_type = LH_PQ_PAGE_DICTIONARY_PAGE;
    f->es[0].encoding = LH_PQ_ENC_PLAIN;
    f->es[0].count = 1;
    f->es[1].page_type = LH_PQ_PAGE_DATA_PAGE_V2;
    f->es[1].encoding = LH_PQ_ENC_RLE_DICTIONARY;
    f->es[1].count = 7;
    cm->encoding_stats = f->es;
    cm->n_encoding_stats = 2;
    cm->bloom_filter_offset = 3000;
    cm->has_bloom_filter_offset = true;
    cm->bloom_filter_length = 64;
    cm->has_bloom_filter_length = true;
    f->hist[0] = 1;
    f->hist[1] = -2;
    f->hist[2] = INT64_MIN;
    cm->size_statistics.unencoded_byte_array_data_bytes = 77;
    cm->size_statistics.has_unencoded_byte_array_data_bytes = true;
    cm->size_statistics.repetition_level_histogram = f->hist;
    cm->size_statistics.n_repetition_level_histogram = 3;
    cm->size_statistics.definition_level_histogram = f->hist + 1;
    cm->size_statistics.n_definition_level_histogram = 2;
    cm->has_size_statistics = true;
    lh_pq_geospatial_statistics *g = &cm->geospatial_statistics;
    g->bbox.xmin = -180;
    g->bbox.xmax = 180;
    g->bbox.ymin = -90.5;
    g->bbox.ymax = 0.0 / 0.0; /* a NaN compares by bits */
    g->bbox.zmin = 1e300;
    g->bbox.has_zmin = true;
    g->bbox.zmax = -0.0;
    g->bbox.has_zmax = true;
    g->bbox.mmin = 3;
    g->bbox.has_mmin = true;
    g->bbox.mmax = 4;
    g->bbox.has_mmax = true;
    g->has_bbox = true;
    f->geo_types[0] = 1;
    f->geo_types[1] = 1003;
    g->geospatial_types = f->geo_types;
    g->n_geospatial_types = 2;
    cm->has_geospatial_statistics = true;

    /* Column 1: the least there can be, with an empty but present list. */
    f->cc[1].file_offset = 0;
    f->cc[1].crypto_metadata.kind = LH_PQ_CRYPT_WITH_FOOTER_KEY;
    f->cc[1].has_crypto_metadata = true;

    f->sorting[0].column_idx = 1;
    f->sorting[0].descending = true;
    f->sorting[0].nulls_first = false;
    f->rg[0].columns = f->cc;
    f->rg[0].n_columns = 2;
    f->rg[0].total_byte_size = 9000;
    f->rg[0].num_rows = 100;
    f->rg[0].sorting_columns = f->sorting;
    f->rg[0].n_sorting_columns = 1;
    f->rg[0].file_offset = 4;
    f->rg[0].has_file_offset = true;
    f->rg[0].total_compressed_size = 8000;
    f->rg[0].has_total_compressed_size = true;
    f->rg[0].ordinal = -3;
    f->rg[0].has_ordinal = true;
    /* An empty row group whose optional list is present but empty. */
    f->rg[1].columns = NULL;
    f->rg[1].n_columns = 0;
    f->rg[1].sorting_columns = f->sorting; /* non-NULL, n 0 */
    f->rg[1].n_sorting_columns = 0;
    m->row_groups = f->rg;
    m->n_row_groups = 2;
}

static void
test_file_metadata_round_trip(void **state)
{
    (void)state;
    static full_meta f;
    build_full(&f);
    lh_err err;
    lh_buf b = LH_BUF_INIT;
    if (lh_pq_encode_file_metadata(&f.m, &b, &err) != LH_OK) {
        fail_msg("encode: %s", err.msg);
    }
    lh_pq_file_metadata d;
    if (lh_pq_decode_file_metadata((const uint8_t *)b.data, b.len, &arena, &d,
                                   &err) != LH_OK) {
        fail_msg("decode: %s (at %lld)", err.msg, (long long)err.offset);
    }
    assert_true(lh_pq_file_metadata_equal(&f.m, &d));
    assert_true(lh_pq_file_metadata_equal(&d, &f.m));

    /* Spot checks that do not go through the tables. */
    assert_int_equal(d.version, 2);
    assert_true(d.num_rows == 1234567890123LL);
    assert_string_equal(d.created_by, "lakehouse test");
    assert_int_equal(d.n_schema, 12);
    assert_string_equal(d.schema[0].name, "root");
    assert_false(d.schema[0].has_type);
    assert_false(d.schema[0].has_logical_type);
    assert_int_equal(d.schema[0].num_children, 11);
    assert_int_equal(d.schema[1].type, LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY);
    assert_int_equal(d.schema[1].type_length, 16);
    assert_int_equal(d.schema[1].field_id, -17);
    assert_int_equal(d.schema[1].converted_type, LH_PQ_CONV_DECIMAL);
    assert_int_equal(d.schema[1].logical_type.kind, LH_PQ_LT_DECIMAL);
    assert_int_equal(d.schema[1].logical_type.scale, 3);
    assert_int_equal(d.schema[1].logical_type.precision, 38);
    assert_int_equal(d.schema[2].logical_type.kind, LH_PQ_LT_TIMESTAMP);
    assert_true(d.schema[2].logical_type.is_adjusted_to_utc);
    assert_int_equal(d.schema[2].logical_type.unit, LH_PQ_UNIT_NANOS);
    assert_int_equal(d.schema[3].logical_type.kind, LH_PQ_LT_TIME);
    assert_int_equal(d.schema[3].logical_type.unit, LH_PQ_UNIT_MILLIS);
    assert_int_equal(d.schema[4].logical_type.bit_width, 16);
    assert_false(d.schema[4].logical_type.is_signed);
    assert_int_equal(d.schema[5].logical_type.specification_version, 1);
    assert_string_equal(d.schema[6].logical_type.crs, "OGC:CRS84");
    assert_int_equal(d.schema[7].logical_type.algorithm, LH_PQ_EDGE_KARNEY);
    assert_int_equal(d.schema[9].logical_type.kind, 42);
    assert_true(d.schema[10].has_logical_type);
    assert_int_equal(d.schema[10].logical_type.kind, 0);
    assert_int_equal(d.schema[11].logical_type.kind, LH_PQ_LT_UNKNOWN);
    assert_int_equal(d.n_key_value_metadata, 2);
    assert_int_equal(d.key_value_metadata[0].value_len, 3);
    assert_memory_equal(d.key_value_metadata[0].value, "a\0b", 4);
    assert_string_equal(d.key_value_metadata[1].key, "only key");
    assert_null(d.key_value_metadata[1].value);
    assert_int_equal(d.n_column_orders, 3);
    assert_int_equal(d.column_orders[2].kind, 99);
    assert_int_equal(d.encryption_algorithm.kind, LH_PQ_CRYPT_AES_GCM_CTR_V1);
    assert_true(d.encryption_algorithm.supply_aad_prefix);
    assert_int_equal(d.footer_signing_key_metadata.len, 2);
    assert_int_equal(d.n_row_groups, 2);
    const lh_pq_row_group *rg = &d.row_groups[0];
    assert_int_equal(rg->ordinal, -3);
    assert_int_equal(rg->n_sorting_columns, 1);
    assert_true(rg->sorting_columns[0].descending);
    assert_false(rg->sorting_columns[0].nulls_first);
    assert_non_null(d.row_groups[1].sorting_columns);
    assert_int_equal(d.row_groups[1].n_sorting_columns, 0);
    const lh_pq_column_chunk *c = &rg->columns[0];
    assert_string_equal(c->file_path, "other.parquet");
    assert_int_equal(c->column_index_length, 30);
    assert_int_equal(c->crypto_metadata.kind, LH_PQ_CRYPT_WITH_COLUMN_KEY);
    assert_string_equal(c->crypto_metadata.path_in_schema[0], "ts");
    const lh_pq_column_metadata *cm = &c->meta_data;
    assert_int_equal(cm->n_encodings, 3);
    assert_int_equal(cm->encodings[2], LH_PQ_ENC_ALP);
    assert_string_equal(cm->path_in_schema[1], "dec");
    assert_int_equal(cm->codec, LH_PQ_CODEC_ZSTD);
    assert_int_equal(cm->data_page_offset, 40);
    assert_int_equal(cm->dictionary_page_offset, 4);
    assert_int_equal(cm->bloom_filter_length, 64);
    assert_true(cm->statistics.distinct_count == INT64_MAX);
    assert_int_equal(cm->statistics.max_value.len, 5);
    assert_memory_equal(cm->statistics.max_value.p, bin_bytes + 1, 5);
    assert_int_equal(cm->encoding_stats[1].count, 7);
    assert_true(cm->size_statistics.repetition_level_histogram[2] == INT64_MIN);
    assert_true(cm->geospatial_statistics.bbox.ymin == -90.5);
    assert_true(cm->geospatial_statistics.bbox.zmin == 1e300);
    assert_int_equal(cm->geospatial_statistics.geospatial_types[1], 1003);
    assert_false(rg->columns[1].has_meta_data);
    assert_int_equal(rg->columns[1].crypto_metadata.kind,
                     LH_PQ_CRYPT_WITH_FOOTER_KEY);

    /* Same input, same bytes. */
    lh_buf again = LH_BUF_INIT;
    assert_int_equal(lh_pq_encode_file_metadata(&d, &again, &err), LH_OK);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);

    /* Changing one field is seen. */
    d.row_groups[0].columns[0].meta_data.statistics.null_count = 6;
    assert_false(lh_pq_file_metadata_equal(&f.m, &d));
    d.row_groups[0].columns[0].meta_data.statistics.null_count = 5;
    d.schema[2].logical_type.unit = LH_PQ_UNIT_MICROS;
    assert_false(lh_pq_file_metadata_equal(&f.m, &d));
    d.schema[2].logical_type.unit = LH_PQ_UNIT_NANOS;
    d.key_value_metadata[0].value_len = 2;
    assert_false(lh_pq_file_metadata_equal(&f.m, &d));
    d.key_value_metadata[0].value_len = 3;
    assert_true(lh_pq_file_metadata_equal(&f.m, &d));

    /* Every strict prefix is an error. */
    for (size_t n = 0; n < b.len; n++) {
        lh_pq_file_metadata t;
        if (lh_pq_decode_file_metadata((const uint8_t *)b.data, n, &arena, &t,
                                       &err) == LH_OK) {
            fail_msg("prefix of %zu of %zu bytes decoded", n, b.len);
        }
        assert_int_equal(err.code, LH_ECORRUPT);
    }
    lh_buf_release(&again);
    lh_buf_release(&b);
}

static void
test_page_index_round_trip(void **state)
{
    (void)state;
    lh_err err;
    bool null_pages[] = {false, true, false};
    lh_pq_bytes mins[] = {
        {(const uint8_t *)"a", 1}, {NULL, 0}, {(const uint8_t *)"m", 1}};
    lh_pq_bytes maxs[] = {
        {(const uint8_t *)"k", 1}, {NULL, 0}, {(const uint8_t *)"zz", 2}};
    int64_t counts[] = {0, 10, 2};
    lh_pq_column_index ci;
    memset(&ci, 0, sizeof(ci));
    ci.null_pages = null_pages;
    ci.n_null_pages = 3;
    ci.min_values = mins;
    ci.n_min_values = 3;
    ci.max_values = maxs;
    ci.n_max_values = 3;
    ci.boundary_order = LH_PQ_BOUNDARY_ASCENDING;
    ci.null_counts = counts;
    ci.n_null_counts = 3;
    ci.repetition_level_histograms = counts;
    ci.n_repetition_level_histograms = 3;
    ci.definition_level_histograms = counts;
    ci.n_definition_level_histograms = 2;
    ci.nan_counts = counts;
    ci.n_nan_counts = 1;
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_pq_encode_column_index(&ci, &b, &err), LH_OK);
    lh_pq_column_index ci2;
    size_t used;
    assert_int_equal(lh_pq_decode_column_index((const uint8_t *)b.data, b.len,
                                               &arena, &ci2, &used, &err),
                     LH_OK);
    assert_int_equal(used, b.len);
    assert_true(lh_pq_column_index_equal(&ci, &ci2));
    assert_true(ci2.null_pages[1]);
    assert_false(ci2.null_pages[2]);
    assert_int_equal(ci2.max_values[2].len, 2);
    assert_memory_equal(ci2.max_values[2].p, "zz", 2);
    assert_int_equal(ci2.boundary_order, LH_PQ_BOUNDARY_ASCENDING);

    lh_pq_page_location locs[] = {{4, 100, 0}, {104, 50, 1000}};
    int64_t unenc[] = {7, 8};
    lh_pq_offset_index oi = {locs, 2, unenc, 2};
    lh_buf_reset(&b);
    assert_int_equal(lh_pq_encode_offset_index(&oi, &b, &err), LH_OK);
    lh_pq_offset_index oi2;
    assert_int_equal(lh_pq_decode_offset_index((const uint8_t *)b.data, b.len,
                                               &arena, &oi2, NULL, &err),
                     LH_OK);
    assert_true(lh_pq_offset_index_equal(&oi, &oi2));
    assert_int_equal(oi2.page_locations[1].first_row_index, 1000);
    assert_int_equal(oi2.page_locations[1].compressed_page_size, 50);

    /* Page headers of the other kinds, with is_compressed's default. */
    lh_pq_page_header h;
    memset(&h, 0, sizeof(h));
    h.type = LH_PQ_PAGE_DATA_PAGE_V2;
    h.compressed_page_size = 10;
    h.uncompressed_page_size = 20;
    h.has_data_page_header_v2 = true;
    lh_pq_data_page_header_v2 *v2 = &h.data_page_header_v2;
    v2->num_values = 5;
    v2->num_nulls = 1;
    v2->num_rows = 4;
    v2->encoding = LH_PQ_ENC_DELTA_BINARY_PACKED;
    v2->definition_levels_byte_length = 2;
    v2->repetition_levels_byte_length = 0;
    v2->is_compressed = false;
    v2->has_is_compressed = true;
    h.has_dictionary_page_header = true;
    h.dictionary_page_header.num_values = 3;
    h.dictionary_page_header.encoding = LH_PQ_ENC_PLAIN;
    h.dictionary_page_header.is_sorted = true;
    h.dictionary_page_header.has_is_sorted = true;
    h.has_index_page_header = true;
    lh_buf_reset(&b);
    assert_int_equal(lh_pq_encode_page_header(&h, &b, &err), LH_OK);
    lh_pq_page_header h2;
    assert_int_equal(lh_pq_decode_page_header((const uint8_t *)b.data, b.len,
                                              &arena, &h2, &used, &err),
                     LH_OK);
    assert_true(lh_pq_page_header_equal(&h, &h2));
    assert_true(h2.has_index_page_header);
    assert_false(h2.data_page_header_v2.is_compressed);
    assert_true(h2.dictionary_page_header.is_sorted);

    /* Without is_compressed on the wire it is true (the default). */
    v2->has_is_compressed = false;
    lh_buf_reset(&b);
    assert_int_equal(lh_pq_encode_page_header(&h, &b, &err), LH_OK);
    assert_int_equal(lh_pq_decode_page_header((const uint8_t *)b.data, b.len,
                                              &arena, &h2, &used, &err),
                     LH_OK);
    assert_false(h2.data_page_header_v2.has_is_compressed);
    assert_true(h2.data_page_header_v2.is_compressed);
    assert_true(lh_pq_page_header_equal(&h, &h2));
    lh_buf_release(&b);
}

/* Bytes of a FileMetaData up to ColumnMetaData.path_in_schema's header. */
static size_t
footer_until_path(uint8_t *buf)
{
    static const uint8_t head[] = {
        0x15, 0x02,                         /* 1: version 1 */
        0x19, 0x2c,                         /* 2: schema, 2 structs */
        0x48, 0x01, 'r',  0x15, 0x02, 0x00, /*   {name "r", num_children 1} */
        0x15, 0x04, 0x25, 0x00, 0x18, 0x01,
        'a',  0x00,       /* {INT64, REQUIRED, "a"} */
        0x16, 0x06,       /* 3: num_rows 3 */
        0x19, 0x1c,       /* 4: row_groups, 1 struct */
        0x19, 0x1c,       /*   1: columns, 1 struct */
        0x26, 0x08,       /*     2: file_offset 4 */
        0x1c,             /*     3: meta_data */
        0x15, 0x04,       /*       1: type INT64 */
        0x19, 0x15, 0x00, /*       2: encodings [PLAIN] */
    };
    memcpy(buf, head, sizeof(head));
    return sizeof(head);
}

static void
test_decode_errors(void **state)
{
    (void)state;
    lh_err err;
    lh_pq_file_metadata m;
    uint8_t buf[2048];

    /* The brief's example: a list length past the input. */
    size_t n = footer_until_path(buf);
    static const uint8_t huge_list[] = {0x19, 0xf8, 0x80, 0x92, 0xf4, 0x01};
    memcpy(buf + n, huge_list, sizeof(huge_list));
    n += sizeof(huge_list);
    memset(buf + n, 0, 812);
    n += 812;
    assert_int_equal(lh_pq_decode_file_metadata(buf, n, &arena, &m, &err),
                     LH_ECORRUPT);
    assert_string_equal(err.msg,
                        "parquet footer: ColumnMetaData.path_in_schema: list "
                        "of 4000000 elements exceeds the 812 bytes left");
    assert_string_equal(err.field, "ColumnMetaData.path_in_schema");
    assert_int_equal(err.offset, n - 812);

    /* A complete column chunk without codec: a missing required field. */
    n = footer_until_path(buf);
    static const uint8_t rest[] = {
        0x19, 0x18, 0x01, 'a', /* 3: path_in_schema ["a"] */
        0x26, 0x06,            /* 5: num_values 3 (codec, 4, missing) */
        0x16, 0x40, 0x16, 0x40, 0x26, 0x08, /* 6, 7, 9 */
        0x00,                               /* end of ColumnMetaData */
        0x00,                               /* end of ColumnChunk */
        0x16, 0x40, 0x16, 0x06, 0x00,       /* RowGroup 2, 3; end */
        0x00};                              /* end of FileMetaData */
    memcpy(buf + n, rest, sizeof(rest));
    size_t full = n + sizeof(rest);
    assert_int_equal(lh_pq_decode_file_metadata(buf, full, &arena, &m, &err),
                     LH_ECORRUPT);
    assert_string_equal(
        err.msg,
        "parquet footer: ColumnMetaData.codec: required field is missing");
    /* With the codec it decodes. */
    static const uint8_t codec[] = {0x15, 0x02}; /* field 4 after 3: SNAPPY */
    memmove(buf + n + 4 + 2, buf + n + 4, sizeof(rest) - 4);
    memcpy(buf + n + 4, codec, 2);
    buf[n + 4 + 2] = 0x16; /* num_values is now one after codec */
    full += 2;
    if (lh_pq_decode_file_metadata(buf, full, &arena, &m, &err) != LH_OK) {
        fail_msg("%s", err.msg);
    }
    assert_int_equal(m.row_groups[0].columns[0].meta_data.codec,
                     LH_PQ_CODEC_SNAPPY);
    assert_int_equal(m.row_groups[0].columns[0].meta_data.num_values, 3);
    assert_int_equal(m.num_rows, 3);

    /* A known field with another wire type; the integer types pass for
     * one another when the value fits. */
    uint8_t copy[2048];
    memcpy(copy, buf, full);
    copy[0] = 0x18; /* version as binary */
    assert_int_equal(lh_pq_decode_file_metadata(copy, full, &arena, &m, &err),
                     LH_ECORRUPT);
    assert_string_equal(err.msg, "parquet footer: FileMetaData.version: "
                                 "required field sent as binary, not i32");
    copy[0] = 0x16; /* version as i64 */
    assert_int_equal(lh_pq_decode_file_metadata(copy, full, &arena, &m, &err),
                     LH_OK);
    assert_int_equal(m.version, 1);
    copy[0] = 0x14; /* as i16 */
    assert_int_equal(lh_pq_decode_file_metadata(copy, full, &arena, &m, &err),
                     LH_OK);
    copy[0] = 0x13; /* as i8: another encoding */
    assert_int_equal(lh_pq_decode_file_metadata(copy, full, &arena, &m, &err),
                     LH_ECORRUPT);
    /* encodings as a list of binary: skipped, so missing. */
    memcpy(copy, buf, full);
    copy[n - 2] = 0x18;
    assert_int_equal(lh_pq_decode_file_metadata(copy, full, &arena, &m, &err),
                     LH_ECORRUPT);
    assert_string_equal(err.msg,
                        "parquet footer: ColumnMetaData.encodings: required "
                        "field sent as a list of binary, not of i32");
    assert_int_equal(lh_pq_decode_file_metadata(buf, full, &arena, &m, &err),
                     LH_OK);

    /* More columns than the schema could hold. */
    lh_buf b = LH_BUF_INIT;
    lh_pq_column_chunk cc[3];
    memset(cc, 0, sizeof(cc));
    m.row_groups[0].columns = cc;
    m.row_groups[0].n_columns = 3;
    assert_int_equal(lh_pq_encode_file_metadata(&m, &b, &err), LH_OK);
    assert_int_equal(lh_pq_decode_file_metadata((const uint8_t *)b.data, b.len,
                                                &arena, &m, &err),
                     LH_ECORRUPT);
    assert_contains(err.msg, "row group 0 has 3 columns but the schema only 2");
    lh_buf_release(&b);

    /* Nothing at all, and NULL with 0 bytes. */
    assert_int_equal(lh_pq_decode_file_metadata(buf, 0, &arena, &m, &err),
                     LH_ECORRUPT);
    assert_int_equal(lh_pq_decode_file_metadata(NULL, 0, &arena, &m, &err),
                     LH_ECORRUPT);
    assert_string_equal(
        err.msg, "parquet footer: FileMetaData: struct cut off at the end of "
                 "the input");
    /* An empty struct lacks every required field. */
    static const uint8_t stop[] = {0x00};
    assert_int_equal(lh_pq_decode_file_metadata(stop, 1, &arena, &m, &err),
                     LH_ECORRUPT);
    assert_string_equal(
        err.msg, "parquet footer: FileMetaData.version: required field is "
                 "missing");
    lh_pq_page_header h;
    size_t used;
    assert_int_equal(lh_pq_decode_page_header(stop, 1, &arena, &h, &used, &err),
                     LH_ECORRUPT);
    assert_contains(err.msg, "parquet page header: PageHeader.type");
    /* err may be NULL. */
    assert_int_equal(lh_pq_decode_page_header(stop, 1, &arena, &h, &used, NULL),
                     LH_ECORRUPT);
}

/* Fields and union members unknown here are skipped, whatever they hold. */
static void
test_unknown_fields(void **state)
{
    (void)state;
    static full_meta f;
    build_full(&f);
    lh_err err;
    lh_buf b = LH_BUF_INIT;
    /* The page header of test_page_header_bytes with unknown fields of
     * every kind spliced in before its STOP: 9 (bool), 10 (list of
     * structs), 11 (map), 300 (long form, nested struct). */
    uint8_t buf[256];
    size_t n = 0;
    size_t head = sizeof(page_header_bytes) - 5; /* without STOP and page */
    memcpy(buf, page_header_bytes, head);
    n = head;
    static const uint8_t extra[] = {
        0x41,                                    /* 9: bool */
        0x19, 0x2c, 0x15, 0x02, 0x00, 0x00,      /* 10: list of 2 structs */
        0x1b, 0x01, 0x88, 0x01, 'k',  0x01, 'v', /* 11: map<bin,bin> */
        0x0c, 0xd8, 0x04, 0x1c, 0x00, 0x00,      /* 300: struct { struct {} } */
        0x00};
    memcpy(buf + n, extra, sizeof(extra));
    n += sizeof(extra);
    lh_pq_page_header h;
    size_t used;
    if (lh_pq_decode_page_header(buf, n, &arena, &h, &used, &err) != LH_OK) {
        fail_msg("%s", err.msg);
    }
    assert_int_equal(used, n);
    assert_int_equal(h.data_page_header.num_values, 10);
    /* Re-encoding drops them. */
    assert_int_equal(lh_pq_encode_page_header(&h, &b, &err), LH_OK);
    assert_bytes(&b, page_header_bytes, sizeof(page_header_bytes) - 4);
    lh_buf_release(&b);

    /* A known optional field of another wire type is skipped, as Thrift
     * does (dict-page-offset-zero.parquet has a private list as 15): crc
     * as binary. */
    memcpy(buf, page_header_bytes, sizeof(page_header_bytes));
    buf[7] = 0x18;
    buf[8] = 0x00;
    if (lh_pq_decode_page_header(buf, sizeof(page_header_bytes), &arena, &h,
                                 &used, &err) != LH_OK) {
        fail_msg("%s", err.msg);
    }
    assert_false(h.has_crc);
    assert_true(h.has_data_page_header);
    assert_int_equal(h.data_page_header.statistics.null_count, 1);

    /* A LogicalType member unknown here, with content, and TimeUnit. */
    static const uint8_t elem[] = {0x48, 0x01, 'x', /* 4: name */
                                   0x0c, 0x14,      /* 10: logicalType */
                                   0x0c, 0x3c,      /*   30: a future member */
                                   0x15, 0x02, 0x18,
                                   0x00, 0x00, /*   {i32, binary} */
                                   0x00, 0x00};
    lh_pq_file_metadata m;
    memset(&m, 0, sizeof(m));
    uint8_t fm[64];
    static const uint8_t pre[] = {0x15, 0x02, 0x19, 0x1c};
    memcpy(fm, pre, sizeof(pre));
    memcpy(fm + sizeof(pre), elem, sizeof(elem));
    static const uint8_t post[] = {0x16, 0x00, 0x19, 0x0c, 0x00};
    memcpy(fm + sizeof(pre) + sizeof(elem), post, sizeof(post));
    size_t fl = sizeof(pre) + sizeof(elem) + sizeof(post);
    if (lh_pq_decode_file_metadata(fm, fl, &arena, &m, &err) != LH_OK) {
        fail_msg("%s", err.msg);
    }
    assert_int_equal(m.n_schema, 1);
    assert_true(m.schema[0].has_logical_type);
    assert_int_equal(m.schema[0].logical_type.kind, 30);
    assert_int_equal(m.n_row_groups, 0);
    assert_non_null(m.row_groups);

    /* Several members: the last wins. TIMESTAMP then INTEGER. */
    static const uint8_t two[] = {
        0x48, 0x01, 'x',  0x0c, 0x14, 0x8c,
        0x11, 0x1c, 0x2c, 0x00, 0x00, 0x00, /* TIMESTAMP(utc, MICROS) */
        0x2c, 0x13, 0x10, 0x11, 0x00,       /* INTEGER(16, signed) */
        0x00, 0x00};
    memcpy(fm + sizeof(pre), two, sizeof(two));
    memcpy(fm + sizeof(pre) + sizeof(two), post, sizeof(post));
    fl = sizeof(pre) + sizeof(two) + sizeof(post);
    if (lh_pq_decode_file_metadata(fm, fl, &arena, &m, &err) != LH_OK) {
        fail_msg("%s", err.msg);
    }
    const lh_pq_logical_type *lt = &m.schema[0].logical_type;
    assert_int_equal(lt->kind, LH_PQ_LT_INTEGER);
    assert_int_equal(lt->bit_width, 16);
    assert_true(lt->is_signed);
    assert_false(lt->is_adjusted_to_utc);
    assert_int_equal(lt->unit, 0);
}

static void
test_encode_errors_and_oom(void **state)
{
    (void)state;
    static full_meta f;
    build_full(&f);
    lh_err err;
    lh_buf b = LH_BUF_INIT;

    f.schema[3].name = NULL;
    assert_int_equal(lh_pq_encode_file_metadata(&f.m, &b, &err), LH_EINVAL);
    assert_string_equal(err.msg, "encoding parquet footer: SchemaElement.name: "
                                 "required string is NULL");
    f.schema[3].name = "t";
    f.rg[0].n_sorting_columns = 2;
    f.rg[0].sorting_columns = NULL;
    lh_buf_reset(&b);
    assert_int_equal(lh_pq_encode_file_metadata(&f.m, &b, &err), LH_EINVAL);
    assert_contains(err.msg, "RowGroup.sorting_columns: list has elements");
    build_full(&f);
    f.schema[4].logical_type.kind = 70000;
    lh_buf_reset(&b);
    assert_int_equal(lh_pq_encode_file_metadata(&f.m, &b, &err), LH_EINVAL);
    lh_buf_release(&b);

    /* Out of memory while encoding: every allocation in turn. */
    build_full(&f);
    for (uint64_t nth = 1;; nth++) {
        lh_buf_init(&b);
        lh_alloc_fail_at(nth, false);
        lh_rc rc = lh_pq_encode_file_metadata(&f.m, &b, &err);
        lh_alloc_fail_at(0, false);
        lh_buf_release(&b);
        if (rc == LH_OK) {
            assert_true(nth > 1);
            break;
        }
        assert_int_equal(rc, LH_ENOMEM);
    }

    /* And while decoding, through the arena's budget. */
    assert_int_equal(lh_pq_encode_file_metadata(&f.m, &b, &err), LH_OK);
    int ok = 0;
    for (size_t budget = 256; budget < (1u << 20) && !ok; budget *= 2) {
        lh_arena small;
        lh_arena_init(&small, budget);
        lh_pq_file_metadata m;
        lh_rc rc = lh_pq_decode_file_metadata((const uint8_t *)b.data, b.len,
                                              &small, &m, &err);
        if (rc == LH_OK) {
            ok = 1;
        } else {
            assert_int_equal(rc, LH_ENOMEM);
            assert_contains(err.msg, "parquet footer: ");
            assert_contains(err.msg, "out of memory");
        }
        lh_arena_release(&small);
    }
    assert_true(ok);
    lh_buf_release(&b);
}

/* ---- fixtures ------------------------------------------------------------ */

/* pq_test.h finds them: ${LH_SHARED_DIR:-<source dir>/../shared}. */
#define fixtures pq_fixtures
#define NEED_FIXTURES() PQ_NEED_FIXTURES()

static uint8_t *
read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        fail_msg("could not open \"%s\": %s", path, strerror(errno));
    }
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    long n = ftell(fp);
    assert_true(n >= 0);
    assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
    uint8_t *p = lh_malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return p;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.parquet files of a directory under the fixtures, sorted. */
static size_t
list_parquet(const char *sub, char ***out)
{
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s%s%s", fixtures, sub[0] ? "/" : "", sub);
    DIR *d = opendir(dir);
    if (d == NULL) {
        fail_msg("could not open \"%s\": %s", dir, strerror(errno));
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 9 || strcmp(e->d_name + len - 8, ".parquet") != 0) {
            continue;
        }
        names = realloc(names, (n + 1) * sizeof(*names));
        assert_non_null(names);
        names[n] = malloc(strlen(dir) + len + 2);
        assert_non_null(names[n]);
        sprintf(names[n], "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof(*names), by_name);
    *out = names;
    return n;
}

static void
free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

static const char *
base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The footer's bytes, or false when the file has none we can read. */
static bool
footer_of(const uint8_t *p, size_t n, const uint8_t **fp, size_t *flen)
{
    if (n < 12 || memcmp(p + n - 4, "PAR1", 4) != 0) {
        return false;
    }
    uint32_t len = (uint32_t)p[n - 8] | (uint32_t)p[n - 7] << 8 |
                   (uint32_t)p[n - 6] << 16 | (uint32_t)p[n - 5] << 24;
    if (len > n - 12) {
        return false;
    }
    *fp = p + n - 8 - len;
    *flen = len;
    return true;
}

/* num_rows of a file from the README's table ("rows (footer)"), or -1. */
static int64_t
readme_rows(const char *readme, const char *name)
{
    char pat[300];
    snprintf(pat, sizeof(pat), "\n| `%s` |", name);
    const char *at = strstr(readme, pat);
    if (at == NULL) {
        return -1;
    }
    at += strlen(pat);
    /* Cells: exercises | writer | rows */
    for (int cell = 0; cell < 2; cell++) {
        at = strchr(at, '|');
        if (at == NULL) {
            return -1;
        }
        at++;
    }
    return strtoll(at, NULL, 10);
}

/* Decodes, re-encodes, decodes again; the two decodes are equal and a
 * second encoding gives the same bytes. */
static void
check_round_trip(const char *name, const lh_pq_file_metadata *m)
{
    lh_err err;
    lh_buf b1 = LH_BUF_INIT;
    lh_buf b2 = LH_BUF_INIT;
    if (lh_pq_encode_file_metadata(m, &b1, &err) != LH_OK) {
        fail_msg("%s: encode: %s", name, err.msg);
    }
    lh_pq_file_metadata m2;
    if (lh_pq_decode_file_metadata((const uint8_t *)b1.data, b1.len, &arena,
                                   &m2, &err) != LH_OK) {
        fail_msg("%s: decode of the re-encoding: %s", name, err.msg);
    }
    if (!lh_pq_file_metadata_equal(m, &m2)) {
        fail_msg("%s: re-encoded footer decodes to another struct", name);
    }
    assert_int_equal(lh_pq_encode_file_metadata(&m2, &b2, &err), LH_OK);
    if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0) {
        fail_msg("%s: encoding is not stable", name);
    }
    lh_buf_release(&b1);
    lh_buf_release(&b2);
}

/* Decodes a page header at off; for a valid file it must decode. Returns
 * whether it did. */
static bool
check_page_header(const char *name, const uint8_t *p, size_t n, int64_t off,
                  bool must)
{
    if (off < 0 || (uint64_t)off >= n) {
        if (must) {
            fail_msg("%s: page offset %lld outside the file", name,
                     (long long)off);
        }
        return false;
    }
    lh_err err;
    lh_pq_page_header h;
    size_t used;
    lh_rc rc = lh_pq_decode_page_header(p + off, n - (size_t)off, &arena, &h,
                                        &used, &err);
    if (rc != LH_OK) {
        if (must) {
            fail_msg("%s: page header at %lld: %s", name, (long long)off,
                     err.msg);
        }
        return false;
    }
    if (must) {
        assert_true(h.type >= LH_PQ_PAGE_DATA_PAGE &&
                    h.type <= LH_PQ_PAGE_DATA_PAGE_V2);
        assert_true(h.compressed_page_size >= 0);
        assert_true((uint64_t)off + used + (uint64_t)h.compressed_page_size <=
                    n);
        assert_true(h.has_data_page_header || h.has_data_page_header_v2 ||
                    h.has_dictionary_page_header);
    }
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_pq_encode_page_header(&h, &b, &err), LH_OK);
    lh_pq_page_header h2;
    assert_int_equal(lh_pq_decode_page_header((const uint8_t *)b.data, b.len,
                                              &arena, &h2, &used, &err),
                     LH_OK);
    assert_true(lh_pq_page_header_equal(&h, &h2));
    lh_buf_release(&b);
    return true;
}

/* The page index and Bloom filter header of a column chunk, when it has
 * them. */
static void
check_chunk_extras(const char *name, const uint8_t *p, size_t n,
                   const lh_pq_column_chunk *c, bool must, int *seen)
{
    lh_err err;
    lh_buf b = LH_BUF_INIT;
    if (c->has_column_index_offset && c->has_column_index_length &&
        c->column_index_offset >= 0 && c->column_index_length >= 0 &&
        (uint64_t)c->column_index_offset + (uint64_t)c->column_index_length <=
            n) {
        lh_pq_column_index ci, ci2;
        size_t used;
        lh_rc rc = lh_pq_decode_column_index(p + c->column_index_offset,
                                             (size_t)c->column_index_length,
                                             &arena, &ci, &used, &err);
        if (must && rc != LH_OK) {
            fail_msg("%s: column index: %s", name, err.msg);
        }
        if (rc == LH_OK) {
            seen[0]++;
            assert_int_equal(ci.n_min_values, ci.n_null_pages);
            lh_buf_reset(&b);
            assert_int_equal(lh_pq_encode_column_index(&ci, &b, &err), LH_OK);
            assert_int_equal(lh_pq_decode_column_index((const uint8_t *)b.data,
                                                       b.len, &arena, &ci2,
                                                       NULL, &err),
                             LH_OK);
            assert_true(lh_pq_column_index_equal(&ci, &ci2));
        }
    }
    if (c->has_offset_index_offset && c->has_offset_index_length &&
        c->offset_index_offset >= 0 && c->offset_index_length >= 0 &&
        (uint64_t)c->offset_index_offset + (uint64_t)c->offset_index_length <=
            n) {
        lh_pq_offset_index oi, oi2;
        lh_rc rc = lh_pq_decode_offset_index(p + c->offset_index_offset,
                                             (size_t)c->offset_index_length,
                                             &arena, &oi, NULL, &err);
        if (must && rc != LH_OK) {
            fail_msg("%s: offset index: %s", name, err.msg);
        }
        if (rc == LH_OK) {
            seen[1]++;
            if (must) {
                assert_true(oi.n_page_locations > 0);
                for (uint32_t i = 0; i < oi.n_page_locations; i++) {
                    check_page_header(name, p, n, oi.page_locations[i].offset,
                                      true);
                }
            }
            lh_buf_reset(&b);
            assert_int_equal(lh_pq_encode_offset_index(&oi, &b, &err), LH_OK);
            assert_int_equal(lh_pq_decode_offset_index((const uint8_t *)b.data,
                                                       b.len, &arena, &oi2,
                                                       NULL, &err),
                             LH_OK);
            assert_true(lh_pq_offset_index_equal(&oi, &oi2));
        }
    }
    const lh_pq_column_metadata *cm = &c->meta_data;
    if (c->has_meta_data && cm->has_bloom_filter_offset &&
        cm->bloom_filter_offset >= 0 && (uint64_t)cm->bloom_filter_offset < n) {
        lh_pq_bloom_filter_header bf;
        size_t used;
        lh_rc rc = lh_pq_decode_bloom_filter_header(
            p + cm->bloom_filter_offset, n - (size_t)cm->bloom_filter_offset,
            &arena, &bf, &used, &err);
        if (must && rc != LH_OK) {
            fail_msg("%s: bloom filter header: %s", name, err.msg);
        }
        if (rc == LH_OK) {
            seen[2]++;
            if (must) {
                assert_int_equal(bf.algorithm, LH_PQ_BLOOM_ALGORITHM_BLOCK);
                assert_int_equal(bf.hash, LH_PQ_BLOOM_HASH_XXHASH);
                assert_true(bf.num_bytes > 0);
                if (cm->has_bloom_filter_length) {
                    assert_int_equal(used + (size_t)bf.num_bytes,
                                     cm->bloom_filter_length);
                }
            }
        }
    }
    lh_buf_release(&b);
}

/* The first page of every column chunk: the dictionary page when there is
 * one (dictionary_page_offset 0 is a known writer quirk meaning none; see
 * dict-page-offset-zero.parquet). */
static void
check_pages(const char *name, const uint8_t *p, size_t n,
            const lh_pq_file_metadata *m, bool must, int *seen)
{
    for (uint32_t g = 0; g < m->n_row_groups; g++) {
        const lh_pq_row_group *rg = &m->row_groups[g];
        for (uint32_t c = 0; c < rg->n_columns; c++) {
            const lh_pq_column_chunk *cc = &rg->columns[c];
            if (!cc->has_meta_data) {
                if (must) {
                    fail_msg("%s: column chunk without meta_data", name);
                }
                continue;
            }
            const lh_pq_column_metadata *cm = &cc->meta_data;
            /* A chunk without data pages (0 rows) may say 0. */
            int64_t off = cm->data_page_offset;
            if (cm->has_dictionary_page_offset &&
                cm->dictionary_page_offset >= 4 &&
                (cm->dictionary_page_offset < off || off < 4)) {
                off = cm->dictionary_page_offset;
            }
            if (check_page_header(name, p, n, off, must)) {
                seen[3]++;
            }
            check_chunk_extras(name, p, n, cc, must, seen);
        }
    }
}

static void
test_fixture_footers(void **state)
{
    (void)state;
    NEED_FIXTURES();
    char path[4200];
    snprintf(path, sizeof(path), "%s/README.md", fixtures);
    size_t rlen;
    char *readme = (char *)read_file(path, &rlen);
    readme[rlen] = '\0';

    char **names;
    size_t n = list_parquet("", &names);
    assert_true(n >= 50);
    int decoded = 0;
    int same_bytes = 0;
    int seen[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        const char *name = base_name(names[i]);
        size_t len;
        uint8_t *p = read_file(names[i], &len);
        if (len >= 4 && memcmp(p, "PARE", 4) == 0) {
            printf("skipped %s: encrypted footer\n", name);
            lh_free(p);
            continue;
        }
        const uint8_t *fp = NULL;
        size_t flen = 0;
        if (!footer_of(p, len, &fp, &flen)) {
            fail_msg("%s: no footer", name);
        }
        lh_pq_file_metadata m;
        lh_err err;
        if (lh_pq_decode_file_metadata(fp, flen, &arena, &m, &err) != LH_OK) {
            fail_msg("%s: %s (at byte %lld of %zu)", name, err.msg,
                     (long long)err.offset, flen);
        }
        decoded++;
        int64_t rows = readme_rows(readme, name);
        if (rows < 0) {
            fail_msg("%s is not in the fixtures' README", name);
        }
        if (m.num_rows != rows) {
            fail_msg("%s: num_rows %lld, README says %lld", name,
                     (long long)m.num_rows, (long long)rows);
        }
        assert_true(m.n_schema > 0);
        check_round_trip(name, &m);
        /* How close our encoding is to the writers' own (not required:
         * writers differ in what they leave out). */
        lh_buf b = LH_BUF_INIT;
        assert_int_equal(lh_pq_encode_file_metadata(&m, &b, &err), LH_OK);
        if (b.len == flen && memcmp(b.data, fp, flen) == 0) {
            same_bytes++;
        }
        lh_buf_release(&b);
        check_pages(name, p, len, &m, true, seen);
        lh_free(p);
        lh_arena_reset(&arena);
    }
    printf("decoded %d footers (%d re-encode to the same bytes); %d page "
           "headers, %d column indexes, %d offset indexes, %d bloom filter "
           "headers\n",
           decoded, same_bytes, seen[3], seen[0], seen[1], seen[2]);
    assert_true(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
    free_names(names, n);
    lh_free(readme);
}

/* Name of a JSON enum value in hyparquet's output, to our number. */
static int
enum_value(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) {
        if (names[i] != NULL && strcmp(names[i], s) == 0) {
            return (int)i;
        }
    }
    fail_msg("unknown enum name \"%s\"", s);
    return -1;
}

static const char *const type_names[] = {
    "BOOLEAN", "INT32",  "INT64",      "INT96",
    "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
static const char *const rep_names[] = {"REQUIRED", "OPTIONAL", "REPEATED"};
static const char *const codec_names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP",
                                          "LZO",          "BROTLI", "LZ4",
                                          "ZSTD",         "LZ4_RAW"};

static int64_t
json_int(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v)) {
        fail_msg("hyparquet JSON: \"%s\" is not a number", key);
    }
    return (int64_t)json_number_value(v);
}

static void
compare_hyparquet(const char *name, const char *json_path,
                  const lh_pq_file_metadata *m, size_t flen)
{
    json_error_t jerr;
    /* hyparquet prints INT64_MIN statistics as -9223372036854776000, past
     * jansson's integers: read every number as a double (the fields
     * compared are far below 2^53). */
    json_t *j = json_load_file(json_path, JSON_DECODE_INT_AS_REAL, &jerr);
    if (j == NULL) {
        fail_msg("%s: %s", json_path, jerr.text);
    }
    if (m->num_rows != json_int(j, "num_rows")) {
        fail_msg("%s: num_rows %lld, hyparquet %lld", name,
                 (long long)m->num_rows, (long long)json_int(j, "num_rows"));
    }
    assert_int_equal(m->version, json_int(j, "version"));
    assert_int_equal(flen, json_int(j, "metadata_length"));
    json_t *cb = json_object_get(j, "created_by");
    if (json_is_string(cb)) {
        assert_non_null(m->created_by);
        assert_string_equal(m->created_by, json_string_value(cb));
    }
    json_t *schema = json_object_get(j, "schema");
    assert_int_equal(json_array_size(schema), m->n_schema);
    for (uint32_t i = 0; i < m->n_schema; i++) {
        json_t *el = json_array_get(schema, i);
        const lh_pq_schema_element *se = &m->schema[i];
        assert_string_equal(se->name,
                            json_string_value(json_object_get(el, "name")));
        json_t *t = json_object_get(el, "type");
        assert_int_equal(se->has_type, t != NULL);
        if (t != NULL) {
            assert_int_equal(se->type,
                             enum_value(type_names, LH_ARRAY_LEN(type_names),
                                        json_string_value(t)));
        }
        json_t *rep = json_object_get(el, "repetition_type");
        assert_int_equal(se->has_repetition_type, rep != NULL);
        if (rep != NULL) {
            assert_int_equal(se->repetition_type,
                             enum_value(rep_names, LH_ARRAY_LEN(rep_names),
                                        json_string_value(rep)));
        }
        json_t *nc = json_object_get(el, "num_children");
        assert_int_equal(se->has_num_children, nc != NULL);
        if (nc != NULL) {
            assert_int_equal(se->num_children, json_int(el, "num_children"));
        }
    }
    json_t *rgs = json_object_get(j, "row_groups");
    assert_int_equal(json_array_size(rgs), m->n_row_groups);
    for (uint32_t g = 0; g < m->n_row_groups; g++) {
        json_t *rg = json_array_get(rgs, g);
        const lh_pq_row_group *r = &m->row_groups[g];
        assert_int_equal(r->num_rows, json_int(rg, "num_rows"));
        assert_int_equal(r->total_byte_size, json_int(rg, "total_byte_size"));
        json_t *cols = json_object_get(rg, "columns");
        assert_int_equal(json_array_size(cols), r->n_columns);
        for (uint32_t c = 0; c < r->n_columns; c++) {
            json_t *col = json_array_get(cols, c);
            const lh_pq_column_chunk *cc = &r->columns[c];
            assert_int_equal(cc->file_offset, json_int(col, "file_offset"));
            json_t *md = json_object_get(col, "meta_data");
            assert_true(cc->has_meta_data);
            const lh_pq_column_metadata *cm = &cc->meta_data;
            assert_int_equal(
                cm->codec,
                enum_value(codec_names, LH_ARRAY_LEN(codec_names),
                           json_string_value(json_object_get(md, "codec"))));
            assert_int_equal(cm->data_page_offset,
                             json_int(md, "data_page_offset"));
            assert_int_equal(cm->num_values, json_int(md, "num_values"));
            assert_int_equal(cm->total_compressed_size,
                             json_int(md, "total_compressed_size"));
            json_t *path = json_object_get(md, "path_in_schema");
            assert_int_equal(json_array_size(path), cm->n_path_in_schema);
            for (uint32_t k = 0; k < cm->n_path_in_schema; k++) {
                assert_string_equal(cm->path_in_schema[k],
                                    json_string_value(json_array_get(path, k)));
            }
            json_t *dict = json_object_get(md, "dictionary_page_offset");
            assert_int_equal(cm->has_dictionary_page_offset, dict != NULL);
        }
    }
    json_decref(j);
}

static void
test_fixtures_against_hyparquet(void **state)
{
    (void)state;
    NEED_FIXTURES();
    char **names;
    size_t n = list_parquet("", &names);
    int compared = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = base_name(names[i]);
        char json_path[4400];
        snprintf(json_path, sizeof(json_path),
                 "%s/expected/hyparquet/%.*s.metadata.json", fixtures,
                 (int)(strlen(name) - strlen(".parquet")), name);
        struct stat st;
        if (stat(json_path, &st) != 0) {
            continue;
        }
        size_t len;
        uint8_t *p = read_file(names[i], &len);
        const uint8_t *fp = NULL;
        size_t flen = 0;
        assert_true(footer_of(p, len, &fp, &flen));
        lh_pq_file_metadata m;
        lh_err err;
        if (lh_pq_decode_file_metadata(fp, flen, &arena, &m, &err) != LH_OK) {
            fail_msg("%s: %s", name, err.msg);
        }
        compare_hyparquet(name, json_path, &m, flen);
        compared++;
        lh_free(p);
        lh_arena_reset(&arena);
    }
    printf("compared %d footers with hyparquet's\n", compared);
    assert_true(compared >= 20);
    free_names(names, n);
}

/* xorshift64*, so runs repeat. */
static uint64_t
next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

/* Decoding must give LH_OK or an error code, and a decode that succeeded
 * must survive an encode. Run under ASan this is the no-crash check. */
static void
decode_anything(const uint8_t *p, size_t n)
{
    lh_arena a;
    lh_arena_init(&a, 64u << 20);
    lh_err err;
    lh_pq_file_metadata m;
    lh_rc rc = lh_pq_decode_file_metadata(p, n, &a, &m, &err);
    if (rc == LH_OK) {
        lh_buf b = LH_BUF_INIT;
        assert_int_equal(lh_pq_encode_file_metadata(&m, &b, &err), LH_OK);
        lh_buf_release(&b);
    } else {
        assert_true(rc == LH_ECORRUPT || rc == LH_ENOMEM);
        assert_true(err.msg[0] != '\0');
    }
    lh_pq_page_header h;
    size_t used;
    rc = lh_pq_decode_page_header(p, n, &a, &h, &used, &err);
    if (rc == LH_OK) {
        assert_true(used <= n);
    }
    lh_arena_release(&a);
}

static void
test_bad_data(void **state)
{
    (void)state;
    NEED_FIXTURES();
    char **names;
    size_t n = list_parquet("bad_data", &names);
    assert_true(n > 0);
    int ok = 0;
    int seen[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        size_t len;
        uint8_t *p = read_file(names[i], &len);
        const uint8_t *fp = NULL;
        size_t flen = 0;
        if (footer_of(p, len, &fp, &flen)) {
            lh_pq_file_metadata m;
            lh_err err;
            lh_rc rc = lh_pq_decode_file_metadata(fp, flen, &arena, &m, &err);
            if (rc == LH_OK) {
                ok++;
                check_pages(base_name(names[i]), p, len, &m, false, seen);
            } else {
                printf("%s: %s\n", base_name(names[i]), err.msg);
            }
        }
        /* The whole file as a footer and as a page header too. */
        decode_anything(p, len);
        lh_free(p);
        lh_arena_reset(&arena);
    }
    printf("bad_data: %d of %zu footers decode (their faults are in the "
           "pages)\n",
           ok, n);
    free_names(names, n);
}

static void
test_truncated_and_flipped(void **state)
{
    (void)state;
    NEED_FIXTURES();
    char **names;
    size_t n = list_parquet("", &names);
    uint64_t seed = 0x9e3779b97f4a7c15u;
    size_t runs = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        uint8_t *p = read_file(names[i], &len);
        const uint8_t *fp = NULL;
        size_t flen = 0;
        if (!footer_of(p, len, &fp, &flen)) {
            lh_free(p);
            continue;
        }
        /* An exact-size copy, so ASan sees a read past the end. */
        uint8_t *copy = lh_malloc(flen > 0 ? flen : 1);
        assert_non_null(copy);
        /* Truncations: every length of a small footer, else 300 of them. */
        size_t step = flen <= 3000 ? 1 : flen / 300;
        for (size_t cut = 0; cut < flen; cut += step) {
            uint8_t *t = lh_malloc(cut > 0 ? cut : 1);
            assert_non_null(t);
            memcpy(t, fp, cut);
            decode_anything(t, cut);
            lh_free(t);
            runs++;
        }
        /* Bit flips: one, two and eight bits at a time. */
        for (int k = 0; k < 150; k++) {
            memcpy(copy, fp, flen);
            int flips = k % 3 == 0 ? 1 : (k % 3 == 1 ? 2 : 8);
            for (int f = 0; f < flips; f++) {
                uint64_t r = next_random(&seed);
                copy[(r >> 8) % flen] ^= (uint8_t)(1u << (r & 7));
            }
            decode_anything(copy, flen);
            runs++;
        }
        /* Bytes overwritten with 0xff (long varints, big lengths) and 0. */
        for (int k = 0; k < 50; k++) {
            memcpy(copy, fp, flen);
            uint64_t r = next_random(&seed);
            copy[(r >> 8) % flen] = (r & 1) ? 0xff : 0x00;
            decode_anything(copy, flen);
            runs++;
        }
        lh_free(copy);
        lh_free(p);
    }
    printf("decoded %zu truncated or damaged footers without a crash\n", runs);
    free_names(names, n);
}

static void
test_bloom_filter_file(void **state)
{
    (void)state;
    NEED_FIXTURES();
    char path[4200];
    snprintf(path, sizeof(path), "%s/bloom_filter_bin/bloom_filter.xxhash.bin",
             fixtures);
    size_t len;
    uint8_t *p = read_file(path, &len);
    lh_pq_bloom_filter_header bf;
    size_t used;
    lh_err err;
    if (lh_pq_decode_bloom_filter_header(p, len, &arena, &bf, &used, &err) !=
        LH_OK) {
        fail_msg("%s: %s", path, err.msg);
    }
    assert_int_equal(used + (size_t)bf.num_bytes, len);
    assert_int_equal(bf.algorithm, LH_PQ_BLOOM_ALGORITHM_BLOCK);
    assert_int_equal(bf.hash, LH_PQ_BLOOM_HASH_XXHASH);
    assert_int_equal(bf.compression, LH_PQ_BLOOM_COMPRESSION_UNCOMPRESSED);
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_pq_encode_bloom_filter_header(&bf, &b, &err), LH_OK);
    assert_bytes(&b, p, used);
    lh_buf_release(&b);
    lh_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varints_and_zigzag),
        cmocka_unit_test(test_bad_varints),
        cmocka_unit_test(test_field_headers),
        cmocka_unit_test(test_skip),
        cmocka_unit_test_setup_teardown(test_depth_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_header_bytes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_file_metadata_round_trip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_page_index_round_trip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_decode_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encode_errors_and_oom, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fixture_footers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixtures_against_hyparquet, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_and_flipped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bloom_filter_file, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
