/*
 * The result writers: CSV (RFC 4180), JSON, NDJSON and the psql-like table
 * (output-formats.md). The expected outputs are written out in full: they
 * are the golden files, kept next to the code that checks them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "column_test.h"

static const char *const names[] = {"id", "name", "price", "note"};

static lh_type types[4];
static lh_value rows[3][4];

static int
setup(void **state)
{
    (void)state;
    types[0] = type_of("BIGINT");
    types[1] = type_of("VARCHAR");
    types[2] = type_of("DECIMAL(10,2)");
    types[3] = type_of("VARCHAR");

    rows[0][0] = val_i("BIGINT", 1);
    rows[0][1] = val_s("VARCHAR", "apple", 5);
    rows[0][2] = val_i("DECIMAL(10,2)", 0);
    rows[0][2].u.dec = 150;
    rows[0][3] = val_s("VARCHAR", "fresh", 5);

    rows[1][0] = val_i("BIGINT", 22);
    rows[1][1] = val_s("VARCHAR", "crème brûlée", 15);
    rows[1][2] = val_i("DECIMAL(10,2)", 0);
    rows[1][2].u.dec = 1200;
    rows[1][3] = val_null("VARCHAR");

    static const char note[] = "a very long note that goes past the limit";
    rows[2][0] = val_null("BIGINT");
    rows[2][1] = val_s("VARCHAR", "", 0);
    rows[2][2] = val_i("DECIMAL(10,2)", 0);
    rows[2][2].u.dec = -5;
    rows[2][3] = val_s("VARCHAR", note, sizeof(note) - 1);
    return 0;
}

/* Runs a writer over the first nrows rows; returns what it wrote (free
 * it). max_width 0 leaves the default. */
static char *
render(lh_format fmt, size_t nrows, size_t max_width)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    lh_output *o = NULL;
    lh_err err;
    assert_int_equal(lh_output_new(fmt, f, names, types, 4, &o, &err), LH_OK);
    if (max_width > 0) {
        lh_output_set_max_width(o, max_width);
    }
    for (size_t r = 0; r < nrows; r++) {
        assert_int_equal(lh_output_row(o, rows[r], &err), LH_OK);
    }
    assert_int_equal(lh_output_finish(o, &err), LH_OK);
    lh_output_free(o);
    fclose(f);
    return text;
}

static void
expect_output(lh_format fmt, size_t nrows, size_t max_width, const char *want)
{
    char *got = render(fmt, nrows, max_width);
    assert_string_equal(got, want);
    free(got);
}

/* ---- format names -------------------------------------------------------- */

static void
test_format_parse(void **state)
{
    (void)state;
    lh_format f;
    lh_err err;
    assert_int_equal(lh_format_parse("csv", &f, &err), LH_OK);
    assert_int_equal(f, LH_FMT_CSV);
    assert_int_equal(lh_format_parse("JSON", &f, &err), LH_OK);
    assert_int_equal(f, LH_FMT_JSON);
    assert_int_equal(lh_format_parse("ndjson", &f, &err), LH_OK);
    assert_int_equal(f, LH_FMT_NDJSON);
    assert_int_equal(lh_format_parse("Table", &f, &err), LH_OK);
    assert_int_equal(f, LH_FMT_TABLE);
    assert_int_equal(lh_format_parse("xml", &f, &err), LH_EINVAL);
    assert_string_equal(err.msg, "unknown format \"xml\": expected csv, json, "
                                 "ndjson or table");
    assert_int_equal(lh_format_parse("", &f, &err), LH_EINVAL);
}

/* ---- CSV ----------------------------------------------------------------- */

static const char *
csv(const char *s)
{
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_csv_field(&b, s, strlen(s)), LH_OK);
    const char *r = ring_copy(&b);
    lh_buf_release(&b);
    return r;
}

static void
test_csv_field(void **state)
{
    (void)state;
    assert_string_equal(csv("abc"), "abc");
    assert_string_equal(csv("mid dle"), "mid dle");
    assert_string_equal(csv(""), "\"\"");
    assert_string_equal(csv("a,b"), "\"a,b\"");
    assert_string_equal(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_string_equal(csv("\""), "\"\"\"\"");
    assert_string_equal(csv("line\nbreak"), "\"line\nbreak\"");
    assert_string_equal(csv("cr\rhere"), "\"cr\rhere\"");
    assert_string_equal(csv(" lead"), "\" lead\"");
    assert_string_equal(csv("trail "), "\"trail \"");
    assert_string_equal(csv("\ttab"), "\"\ttab\"");
    assert_string_equal(csv("héllo"), "héllo");
    assert_string_equal(csv("semi;colon"), "semi;colon");
}

static void
test_csv_writer(void **state)
{
    (void)state;
    expect_output(LH_FMT_CSV, 3, 0,
                  "id,name,price,note\n"
                  "1,apple,1.50,fresh\n"
                  "22,crème brûlée,12.00,\n"
                  ",\"\",-0.05,a very long note that goes past the limit\n");
    /* an empty result still has its header */
    expect_output(LH_FMT_CSV, 0, 0, "id,name,price,note\n");
}

static void
test_csv_quoted_header_and_values(void **state)
{
    (void)state;
    const char *const hn[] = {"a,b", "say \"x\"", " c"};
    lh_type ht[3] = {type_of("VARCHAR"), type_of("JSON"), type_of("BLOB")};
    lh_value hv[3] = {
        val_s("VARCHAR", "x\ny", 3),
        val_s("JSON", "{\"k\":[1,2]}", 11),
        val_s("BLOB", "\x01", 1),
    };
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    lh_output *o = NULL;
    lh_err err;
    assert_int_equal(lh_output_new(LH_FMT_CSV, f, hn, ht, 3, &o, &err), LH_OK);
    assert_int_equal(lh_output_row(o, hv, &err), LH_OK);
    assert_int_equal(lh_output_finish(o, &err), LH_OK);
    lh_output_free(o);
    fclose(f);
    assert_string_equal(text, "\"a,b\",\"say \"\"x\"\"\",\" c\"\n"
                              "\"x\ny\",\"{\"\"k\"\":[1,2]}\",\\x01\n");
    free(text);
}

/* ---- JSON and NDJSON ----------------------------------------------------- */

static const char json_rows[] =
    "[\n"
    "{\"id\":1,\"name\":\"apple\",\"price\":1.50,\"note\":\"fresh\"},\n"
    "{\"id\":22,\"name\":\"crème brûlée\",\"price\":12.00,\"note\":null},\n"
    "{\"id\":null,\"name\":\"\",\"price\":-0.05,\"note\":\"a very long note "
    "that goes past the limit\"}\n"
    "]\n";

static void
test_json_writer(void **state)
{
    (void)state;
    expect_output(LH_FMT_JSON, 3, 0, json_rows);
    expect_output(LH_FMT_JSON, 0, 0, "[]\n");
    expect_output(LH_FMT_JSON, 1, 0,
                  "[\n{\"id\":1,\"name\":\"apple\",\"price\":1.50,"
                  "\"note\":\"fresh\"}\n]\n");
}

/* The JSON output is JSON: parse it back and compare, keys in order. */
static void
test_json_writer_parses(void **state)
{
    (void)state;
    char *got = render(LH_FMT_JSON, 3, 0);
    json_error_t jerr;
    json_t *doc = json_loads(got, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        fail_msg("not JSON (%s): %s", jerr.text, got);
    }
    json_t *want = json_pack(
        "[{s:I, s:s, s:f, s:s}, {s:I, s:s, s:f, s:n}, {s:n, s:s, s:f, s:s}]",
        "id", (json_int_t)1, "name", "apple", "price", 1.5, "note", "fresh",
        "id", (json_int_t)22, "name", "crème brûlée", "price", 12.0, "note",
        "id", "name", "", "price", -0.05, "note",
        "a very long note that goes past the limit");
    assert_non_null(want);
    assert_true(json_equal(doc, want));
    /* keys in column order */
    json_t *first = json_array_get(doc, 0);
    size_t i = 0;
    for (void *it = json_object_iter(first); it != NULL;
         it = json_object_iter_next(first, it), i++) {
        assert_string_equal(json_object_iter_key(it), names[i]);
    }
    assert_int_equal(i, 4);
    json_decref(doc);
    json_decref(want);
    free(got);
}

static void
test_ndjson_writer(void **state)
{
    (void)state;
    expect_output(
        LH_FMT_NDJSON, 3, 0,
        "{\"id\":1,\"name\":\"apple\",\"price\":1.50,\"note\":\"fresh\"}\n"
        "{\"id\":22,\"name\":\"crème brûlée\",\"price\":12.00,\"note\":null}\n"
        "{\"id\":null,\"name\":\"\",\"price\":-0.05,\"note\":\"a very long "
        "note that goes past the limit\"}\n");
    expect_output(LH_FMT_NDJSON, 0, 0, "");
    /* each line is a JSON object */
    char *got = render(LH_FMT_NDJSON, 3, 0);
    char *save = NULL;
    int lines = 0;
    for (char *line = strtok_r(got, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save), lines++) {
        json_t *j = json_loads(line, 0, NULL);
        assert_non_null(j);
        assert_true(json_is_object(j));
        json_decref(j);
    }
    assert_int_equal(lines, 3);
    free(got);
}

/* ---- table --------------------------------------------------------------- */

static void
test_table_writer(void **state)
{
    (void)state;
    /* psql's aligned format: centered headers, numbers right-aligned, no
     * padding after a left-aligned last column, cells cut to 20 characters
     * (counted as characters: "crème brûlée" is 12 wide) */
    expect_output(LH_FMT_TABLE, 3, 20,
                  "  id  |     name     | price |         note         \n"
                  "------+--------------+-------+----------------------\n"
                  "    1 | apple        |  1.50 | fresh\n"
                  "   22 | crème brûlée | 12.00 | NULL\n"
                  " NULL |              | -0.05 | a very long note th…\n"
                  "(3 rows)\n");
    /* the default cut is 40 characters */
    expect_output(LH_FMT_TABLE, 3, 0,
                  "  id  |     name     | price |                   note      "
                  "             \n"
                  "------+--------------+-------+-----------------------------"
                  "-------------\n"
                  "    1 | apple        |  1.50 | fresh\n"
                  "   22 | crème brûlée | 12.00 | NULL\n"
                  " NULL |              | -0.05 | a very long note that goes "
                  "past the lim…\n"
                  "(3 rows)\n");
    expect_output(LH_FMT_TABLE, 1, 0,
                  " id | name  | price | note  \n"
                  "----+-------+-------+-------\n"
                  "  1 | apple |  1.50 | fresh\n"
                  "(1 row)\n");
    expect_output(LH_FMT_TABLE, 0, 0,
                  " id | name | price | note \n"
                  "----+------+-------+------\n"
                  "(0 rows)\n");
}

static void
test_table_cells(void **state)
{
    (void)state;
    const char *const tn[] = {"text", "n"};
    lh_type tt[2] = {type_of("VARCHAR"), type_of("DOUBLE")};
    lh_value tv[2][2] = {
        {val_s("VARCHAR", "two\nlines\there", 15), val_d("DOUBLE", 1e300)},
        {val_s("VARCHAR", "€€€€€€€", 21), val_d("DOUBLE", -0.5)},
    };
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    lh_output *o = NULL;
    lh_err err;
    assert_int_equal(lh_output_new(LH_FMT_TABLE, f, tn, tt, 2, &o, &err),
                     LH_OK);
    lh_output_set_max_width(o, 6);
    assert_int_equal(lh_output_row(o, tv[0], &err), LH_OK);
    assert_int_equal(lh_output_row(o, tv[1], &err), LH_OK);
    assert_int_equal(lh_output_finish(o, &err), LH_OK);
    lh_output_free(o);
    fclose(f);
    /* control characters shown escaped, multibyte characters cut whole;
     * the last column is numeric, so right-aligned */
    assert_string_equal(text, "  text  |   n    \n"
                              "--------+--------\n"
                              " two\\n… | 1e+300\n"
                              " €€€€€… |   -0.5\n"
                              "(2 rows)\n");
    free(text);
}

/* ---- failures ------------------------------------------------------------ */

static void
test_write_error(void **state)
{
    (void)state;
    FILE *f = fopen("/dev/full", "w");
    if (f == NULL) {
        skip();
    }
    lh_output *o = NULL;
    lh_err err;
    assert_int_equal(lh_output_new(LH_FMT_CSV, f, names, types, 4, &o, &err),
                     LH_OK);
    assert_int_equal(lh_output_row(o, rows[0], &err), LH_OK); /* buffered */
    assert_int_equal(lh_output_finish(o, &err), LH_EIO);
    assert_int_equal(err.sys_errno, ENOSPC);
    assert_non_null(strstr(err.msg, "could not write output"));
    /* the failure sticks */
    assert_int_equal(lh_output_finish(o, &err), LH_EIO);
    lh_output_free(o);
    fclose(f);
}

/* Every allocation failing in turn: LH_ENOMEM or success, never a crash
 * or a leak (ASan checks the leaks). */
static void
test_out_of_memory(void **state)
{
    (void)state;
    const lh_format fmts[] = {LH_FMT_CSV, LH_FMT_JSON, LH_FMT_NDJSON,
                              LH_FMT_TABLE};
    for (size_t k = 0; k < LH_ARRAY_LEN(fmts); k++) {
        bool succeeded = false;
        for (uint64_t n = 1; n < 200 && !succeeded; n++) {
            char *text = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&text, &len);
            lh_output *o = NULL;
            lh_err err;
            lh_alloc_fail_at(n, false);
            lh_rc rc = lh_output_new(fmts[k], f, names, types, 4, &o, &err);
            for (size_t r = 0; rc == LH_OK && r < 3; r++) {
                rc = lh_output_row(o, rows[r], &err);
            }
            if (rc == LH_OK) {
                rc = lh_output_finish(o, &err);
            }
            lh_alloc_fail_at(0, false);
            assert_true(rc == LH_OK || rc == LH_ENOMEM);
            succeeded = rc == LH_OK;
            lh_output_free(o);
            fclose(f);
            free(text);
        }
        assert_true(succeeded);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_parse),
        cmocka_unit_test(test_csv_field),
        cmocka_unit_test(test_csv_writer),
        cmocka_unit_test(test_csv_quoted_header_and_values),
        cmocka_unit_test(test_json_writer),
        cmocka_unit_test(test_json_writer_parses),
        cmocka_unit_test(test_ndjson_writer),
        cmocka_unit_test(test_table_writer),
        cmocka_unit_test(test_table_cells),
        cmocka_unit_test(test_write_error),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
