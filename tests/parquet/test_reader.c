/*
 * The Parquet reader on files other writers made (parquet-testing): every
 * valid fixture reads all its rows, the deliberately broken ones and every
 * file of bad_data/ fail with an error, and truncated and bit-flipped
 * copies of the valid files never crash (this test is what ASan and UBSan
 * run the decoders through). Value-level agreement with DuckDB and
 * hyparquet is checked by tests/parquet/conformance.py.
 */
/* cmocka.h needs these first; the blank line keeps clang-format from
 * sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>

#include "format/parquet/parquet.h"
#include "pq_test.h"

/* Fixtures that are broken on purpose (their README says NEGATIVE). */
static const char *const negative[] = {
    "datapage_v1-corrupt-checksum.parquet",
    "rle-dict-uncompressed-corrupt-checksum.parquet",
    "nation.dict-malformed.parquet",
};

static bool
is_negative(const char *name)
{
    for (size_t i = 0; i < sizeof negative / sizeof *negative; i++) {
        if (strcmp(name, negative[i]) == 0) {
            return true;
        }
    }
    return false;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Reads every row of an opened file, rendering every value as JSON so the
 * nested assembly and the text forms run too. Returns the scan's code. */
static lh_rc
scan_all(lh_pq_file *f, bool skip_crc, int64_t *rows, lh_err *err)
{
    lh_pq_scan_opts o = {.skip_crc = skip_crc};
    lh_pq_scan *s = NULL;
    lh_rc rc = lh_pq_scan_open(f, &o, &s, err);
    lh_buf b;
    lh_buf_init(&b);
    *rows = 0;
    while (rc == LH_OK) {
        lh_batch batch;
        rc = lh_pq_scan_next(s, &batch, err);
        if (rc != LH_OK || batch.count == 0) {
            break;
        }
        *rows += batch.count;
        for (uint32_t c = 0; c < batch.ncols; c++) {
            for (uint32_t r = 0; r < batch.count; r++) {
                lh_buf_reset(&b);
                lh_vector_to_json(&batch.cols[c], r, &b);
            }
        }
    }
    lh_buf_release(&b);
    lh_pq_scan_close(s);
    return rc;
}

typedef void (*file_fn)(const char *path, const char *name);

static int
for_each_file(const char *dir, file_fn fn)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    char path[8192];
    while ((e = readdir(d)) != NULL) {
        if (!ends_with(e->d_name, ".parquet")) {
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        fn(path, e->d_name);
        n++;
    }
    closedir(d);
    return n;
}

static void
check_valid(const char *path, const char *name)
{
    lh_err err;
    lh_pq_file *f = NULL;
    lh_rc rc = lh_pq_open(path, &f, &err);
    if (is_negative(name)) {
        int64_t rows = 0;
        if (rc == LH_OK) {
            rc = scan_all(f, false, &rows, &err);
        }
        if (rc == LH_OK) {
            fail_msg("%s is broken on purpose but read without an error", name);
        }
        lh_pq_close(f);
        return;
    }
    if (rc != LH_OK) {
        fail_msg("%s: %s", name, err.msg);
    }
    int64_t rows = 0;
    rc = scan_all(f, false, &rows, &err);
    if (rc != LH_OK) {
        fail_msg("%s: %s", name, err.msg);
    }
    /* Row groups, not the footer's num_rows: parquet-rs 0.3 wrote 0
     * there (repeated_no_annotation.parquet). */
    int64_t want = 0;
    for (uint32_t g = 0; g < lh_pq_meta(f)->n_row_groups; g++) {
        want += lh_pq_meta(f)->row_groups[g].num_rows;
    }
    if (rows != want) {
        fail_msg("%s: read %lld rows, the row groups say %lld", name,
                 (long long)rows, (long long)want);
    }
    lh_pq_close(f);
}

static int dict_vectors_seen;

/* A scan with keep_dict gives the same values as one without, column by
 * column and row by row. */
static void
check_keep_dict(const char *path, const char *name)
{
    if (is_negative(name)) {
        return;
    }
    lh_err err;
    lh_pq_file *f = NULL;
    assert_int_equal(lh_pq_open(path, &f, &err), LH_OK);
    lh_pq_scan_opts plain = {.batch_rows = 1000};
    lh_pq_scan_opts dict = {.batch_rows = 1000, .keep_dict = true};
    lh_pq_scan *a = NULL, *b = NULL;
    assert_int_equal(lh_pq_scan_open(f, &plain, &a, &err), LH_OK);
    assert_int_equal(lh_pq_scan_open(f, &dict, &b, &err), LH_OK);
    lh_buf x, y;
    lh_buf_init(&x);
    lh_buf_init(&y);
    for (;;) {
        lh_batch ba, bb;
        assert_int_equal(lh_pq_scan_next(a, &ba, &err), LH_OK);
        assert_int_equal(lh_pq_scan_next(b, &bb, &err), LH_OK);
        assert_int_equal(ba.count, bb.count);
        if (ba.count == 0) {
            break;
        }
        for (uint32_t c = 0; c < ba.ncols; c++) {
            dict_vectors_seen += bb.cols[c].kind == LH_VEC_DICT;
            for (uint32_t r = 0; r < ba.count; r++) {
                lh_buf_reset(&x);
                lh_buf_reset(&y);
                lh_vector_to_json(&ba.cols[c], r, &x);
                lh_vector_to_json(&bb.cols[c], r, &y);
                if (x.len != y.len || memcmp(x.data, y.data, x.len) != 0) {
                    fail_msg("%s: column %u row %u: %.*s against %.*s", name, c,
                             r, (int)x.len, x.data, (int)y.len, y.data);
                }
            }
        }
    }
    lh_buf_release(&x);
    lh_buf_release(&y);
    lh_pq_scan_close(a);
    lh_pq_scan_close(b);
    lh_pq_close(f);
}

static void
keep_dict_matches_materialized(void **state)
{
    (void)state;
    PQ_NEED_FIXTURES();
    dict_vectors_seen = 0;
    for_each_file(pq_fixtures, check_keep_dict);
    assert_true(dict_vectors_seen > 10);
}

static void
valid_fixtures_read_every_row(void **state)
{
    (void)state;
    PQ_NEED_FIXTURES();
    int n = for_each_file(pq_fixtures, check_valid);
    assert_true(n >= 60);
}

/* ARROW-GH-43605 writes dictionary indices with bit width 0, which is what
 * a one-value dictionary needs: we read it (as DuckDB and Arrow do since
 * that issue); every other file of bad_data/ must fail. */
static void
check_bad(const char *path, const char *name)
{
    lh_err err;
    lh_pq_file *f = NULL;
    lh_rc rc = lh_pq_open(path, &f, &err);
    int64_t rows = 0;
    if (rc == LH_OK) {
        rc = scan_all(f, false, &rows, &err);
    }
    lh_pq_close(f);
    if (strcmp(name, "ARROW-GH-43605.parquet") == 0) {
        return;
    }
    if (rc == LH_OK) {
        fail_msg("bad_data/%s read without an error", name);
    }
    assert_true(err.msg[0] != 0);
}

static void
bad_data_is_refused(void **state)
{
    (void)state;
    PQ_NEED_FIXTURES();
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/bad_data", pq_fixtures);
    assert_true(for_each_file(dir, check_bad) >= 8);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void
try_bytes(const uint8_t *p, size_t len, bool skip_crc)
{
    lh_err err;
    lh_pq_file *f = NULL;
    if (lh_pq_open_mem(p, len, "mutant", &f, &err) == LH_OK) {
        int64_t rows;
        (void)scan_all(f, skip_crc, &rows, &err);
        lh_pq_close(f);
    }
}

static void
mutate(const char *path, const char *name)
{
    size_t len = 0;
    uint8_t *orig = pq_read_file(path, &len);
    assert_non_null(orig);
    if (len > (2u << 20) || is_negative(name)) {
        free(orig); /* big files cost time, not coverage */
        return;
    }
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    /* Truncations: the reader sees a shorter file (footer moves). */
    for (int i = 1; i <= 12; i++) {
        size_t cut = len * (size_t)i / 13;
        memcpy(copy, orig, cut);
        try_bytes(copy, cut, false);
    }
    /* Byte flips anywhere, with and without CRC checks (most flips in a
     * page with a CRC stop there; skipping it reaches the decoders). */
    for (int i = 0; i < 48; i++) {
        memcpy(copy, orig, len);
        int flips = 1 + (int)(next_rand() % 3);
        for (int k = 0; k < flips; k++) {
            size_t at = next_rand() % len;
            copy[at] ^= (uint8_t)(1 + next_rand() % 255);
        }
        try_bytes(copy, len, i % 2 == 0);
    }
    free(copy);
    free(orig);
}

static void
mutants_never_crash(void **state)
{
    (void)state;
    PQ_NEED_FIXTURES();
    for_each_file(pq_fixtures, mutate);
}

/* Columns read alone equal the same columns of a full read. */
static void
projection_matches_full_read(void **state)
{
    (void)state;
    PQ_NEED_FIXTURES();
    char path[4200];
    snprintf(path, sizeof path, "%s/alltypes_tiny_pages.parquet", pq_fixtures);
    lh_err err;
    lh_pq_file *f = NULL;
    assert_int_equal(lh_pq_open(path, &f, &err), LH_OK);
    int id = lh_pq_find_column(f, "id");
    int sc = lh_pq_find_column(f, "string_col");
    assert_true(id >= 0 && sc >= 0);
    uint32_t cols[2] = {(uint32_t)sc, (uint32_t)id};
    lh_pq_scan_opts po = {.columns = cols, .ncolumns = 2};
    lh_pq_scan *ps = NULL, *fs = NULL;
    assert_int_equal(lh_pq_scan_open(f, &po, &ps, &err), LH_OK);
    assert_int_equal(lh_pq_scan_open(f, NULL, &fs, &err), LH_OK);
    lh_buf a, b;
    lh_buf_init(&a);
    lh_buf_init(&b);
    int64_t rows = 0;
    for (;;) {
        lh_batch pb, fb;
        assert_int_equal(lh_pq_scan_next(ps, &pb, &err), LH_OK);
        assert_int_equal(lh_pq_scan_next(fs, &fb, &err), LH_OK);
        assert_int_equal(pb.count, fb.count);
        if (pb.count == 0) {
            break;
        }
        assert_int_equal(pb.ncols, 2);
        for (uint32_t r = 0; r < pb.count; r++) {
            for (int k = 0; k < 2; k++) {
                lh_buf_reset(&a);
                lh_buf_reset(&b);
                lh_vector_to_json(&pb.cols[k], r, &a);
                lh_vector_to_json(&fb.cols[cols[k]], r, &b);
                assert_int_equal(a.len, b.len);
                assert_memory_equal(a.data, b.data, a.len);
            }
        }
        rows += pb.count;
    }
    assert_int_equal(rows, 7300);
    lh_buf_release(&a);
    lh_buf_release(&b);
    lh_pq_scan_close(ps);
    lh_pq_scan_close(fs);
    lh_pq_close(f);
}

static int64_t
count_rows(lh_pq_file *f, const lh_pq_pred *preds, uint32_t n,
           lh_pq_scan_stats *st)
{
    lh_err err;
    lh_pq_scan_opts o = {.preds = preds, .npreds = n};
    lh_pq_scan *s = NULL;
    assert_int_equal(lh_pq_scan_open(f, &o, &s, &err), LH_OK);
    int64_t rows = 0;
    for (;;) {
        lh_batch b;
        assert_int_equal(lh_pq_scan_next(s, &b, &err), LH_OK);
        if (b.count == 0) {
            break;
        }
        rows += b.count;
    }
    lh_pq_scan_get_stats(s, st);
    lh_pq_scan_close(s);
    return rows;
}

static lh_value
str_value(const char *s)
{
    lh_value v;
    memset(&v, 0, sizeof v);
    v.type.id = LH_T_VARCHAR;
    v.u.s.p = s;
    v.u.s.len = strlen(s);
    return v;
}

/* The fixture's bloom filter holds its 14 strings: an absent string inside
 * the min/max range prunes the row group only through the filter. */
static void
bloom_filter_prunes_absent_values(void **state)
{
    (void)state;
    PQ_NEED_FIXTURES();
    char path[4200];
    snprintf(path, sizeof path, "%s/data_index_bloom_encoding_stats.parquet",
             pq_fixtures);
    lh_err err;
    lh_pq_file *f = NULL;
    assert_int_equal(lh_pq_open(path, &f, &err), LH_OK);
    lh_pq_scan_stats st;
    lh_value present = str_value("brown fox");
    lh_value absent = str_value("mouse"); /* between "Hello" and "today" */
    lh_value outside = str_value("zebra");
    lh_pq_pred p = {
        .column = 0, .op = LH_PQ_EQ, .values = &present, .nvalues = 1};
    assert_int_equal(count_rows(f, &p, 1, &st), 14);
    assert_int_equal(st.row_groups_pruned, 0);
    p.values = &absent;
    assert_int_equal(count_rows(f, &p, 1, &st), 0);
    assert_int_equal(st.row_groups_pruned, 1);
    p.values = &outside;
    assert_int_equal(count_rows(f, &p, 1, &st), 0);
    /* IN prunes only when every value is absent. */
    lh_value both[2] = {absent, present};
    lh_pq_pred in = {.column = 0, .op = LH_PQ_IN, .values = both, .nvalues = 2};
    assert_int_equal(count_rows(f, &in, 1, &st), 14);
    in.nvalues = 1;
    assert_int_equal(count_rows(f, &in, 1, &st), 0);
    /* A range on the statistics. */
    lh_value hi = str_value("zz");
    lh_pq_pred gt = {.column = 0, .op = LH_PQ_GT, .values = &hi, .nvalues = 1};
    assert_int_equal(count_rows(f, &gt, 1, &st), 0);
    gt.op = LH_PQ_LT;
    assert_int_equal(count_rows(f, &gt, 1, &st), 14);
    lh_pq_close(f);
}

/* Counts the rows a scan returns and those of them whose column `col`
 * (INTEGER) equals v. */
static void
scan_count_int(lh_pq_file *f, const lh_pq_scan_opts *o, uint32_t col_pos,
               int32_t v, int64_t *rows, int64_t *hits, lh_pq_scan_stats *st)
{
    lh_err err;
    lh_pq_scan *s = NULL;
    assert_int_equal(lh_pq_scan_open(f, o, &s, &err), LH_OK);
    *rows = *hits = 0;
    for (;;) {
        lh_batch b;
        assert_int_equal(lh_pq_scan_next(s, &b, &err), LH_OK);
        if (b.count == 0) {
            break;
        }
        const lh_vector *c = &b.cols[col_pos];
        for (uint32_t r = 0; r < b.count; r++) {
            *hits += lh_vec_valid(c, r) && ((const int32_t *)c->data)[r] == v;
        }
        *rows += b.count;
    }
    lh_pq_scan_get_stats(s, st);
    lh_pq_scan_close(s);
}

/* The column index prunes pages of the predicate column; the other
 * columns skip the same rows through their offset index, and every row
 * that matches still comes back, with its other columns aligned. */
static void
page_index_prunes_pages(void **state)
{
    (void)state;
    PQ_NEED_FIXTURES();
    char path[4200];
    snprintf(path, sizeof path, "%s/alltypes_tiny_pages.parquet", pq_fixtures);
    lh_err err;
    lh_pq_file *f = NULL;
    assert_int_equal(lh_pq_open(path, &f, &err), LH_OK);
    int id = lh_pq_find_column(f, "id");
    int ic = lh_pq_find_column(f, "int_col");
    int sc = lh_pq_find_column(f, "string_col");
    assert_true(id >= 0 && ic >= 0 && sc >= 0);
    uint32_t cols[3] = {(uint32_t)sc, (uint32_t)id, (uint32_t)ic};
    lh_pq_scan_opts full = {.columns = cols, .ncolumns = 3};
    lh_pq_scan_stats st;
    for (int32_t want = 0; want < 7300; want += 733) {
        int64_t rows, hits, prow, phits;
        scan_count_int(f, &full, 1, want, &rows, &hits, &st);
        assert_int_equal(rows, 7300);
        assert_int_equal(hits, 1);
        lh_value v;
        memset(&v, 0, sizeof v);
        v.type.id = LH_T_INTEGER;
        v.u.i = want;
        lh_pq_pred p = {
            .column = (uint32_t)id, .op = LH_PQ_EQ, .values = &v, .nvalues = 1};
        lh_pq_scan_opts po = full;
        po.preds = &p;
        po.npreds = 1;
        po.batch_rows = 5; /* batches that end inside ranges */
        scan_count_int(f, &po, 1, want, &prow, &phits, &st);
        assert_int_equal(phits, 1);
        assert_true(prow < 7300 / 10);
        assert_true(st.pages_pruned > 0);
        assert_true(st.rows_skipped > 0);
        /* The matching row's other columns are the full scan's. */
        lh_pq_scan *s = NULL;
        assert_int_equal(lh_pq_scan_open(f, &po, &s, &err), LH_OK);
        bool seen = false;
        for (;;) {
            lh_batch b;
            assert_int_equal(lh_pq_scan_next(s, &b, &err), LH_OK);
            if (b.count == 0) {
                break;
            }
            for (uint32_t r = 0; r < b.count; r++) {
                if (((const int32_t *)b.cols[1].data)[r] != want) {
                    continue;
                }
                /* In this file int_col is id % 10, string_col its text. */
                int32_t iv = ((const int32_t *)b.cols[2].data)[r];
                assert_int_equal(iv, want % 10);
                const lh_str *sv = &((const lh_str *)b.cols[0].data)[r];
                assert_int_equal(sv->len, 1);
                assert_int_equal(lh_str_data(sv)[0], '0' + want % 10);
                seen = true;
            }
        }
        assert_true(seen);
        lh_pq_scan_close(s);
    }
    lh_pq_close(f);
}

static void
not_parquet_is_a_format_error(void **state)
{
    (void)state;
    lh_err err;
    lh_pq_file *f = NULL;
    const char *text = "this is not a parquet file at all";
    assert_int_equal(
        lh_pq_open_mem((const uint8_t *)text, strlen(text), "x", &f, &err),
        LH_EFORMAT);
    assert_non_null(strstr(err.msg, "not a Parquet file"));
    assert_int_equal(lh_pq_open("/nonexistent/x.parquet", &f, &err), LH_ENOENT);
    assert_non_null(strstr(err.msg, "/nonexistent/x.parquet"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_fixtures_read_every_row),
        cmocka_unit_test(bad_data_is_refused),
        cmocka_unit_test(mutants_never_crash),
        cmocka_unit_test(projection_matches_full_read),
        cmocka_unit_test(bloom_filter_prunes_absent_values),
        cmocka_unit_test(page_index_prunes_pages),
        cmocka_unit_test(keep_dict_matches_materialized),
        cmocka_unit_test(not_parquet_is_a_format_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
