/*
 * Integration tests of `lakehouse parquet write`: the CLI binary built
 * beside this test (build/lakehouse) runs as a real process. Type
 * inference from CSV and NDJSON, --schema, options, bad input (exit 2
 * naming the line and column, nothing left at the output path), and the
 * CSV round trip through `parquet cat --format csv`.
 */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/util.h"

extern char **environ;

static char bin[4200];
static char dir[64];

/* ---- helpers ------------------------------------------------------------- */

static const char *
path_of(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static void
put_file(const char *name, const char *text)
{
    FILE *f = fopen(path_of(name), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    lh_buf b = LH_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        lh_buf_append(&b, chunk, n);
    }
    fclose(f);
    size_t len;
    return lh_buf_take(&b, &len);
}

typedef struct result {
    int status;
    char *out, *err;
} result;

static void
result_free(result *r)
{
    lh_free(r->out);
    lh_free(r->err);
    memset(r, 0, sizeof *r);
}

/* Runs the CLI with args (NULL-terminated), capturing stdout and
 * stderr. */
static result
run(const char *first, ...)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = first;
    va_list ap;
    va_start(ap, first);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 31) {
        argv[n++] = a;
    }
    va_end(ap);
    argv[n] = NULL;
    char outp[512], errp[512];
    snprintf(outp, sizeof outp, "%s/.stdout", dir);
    snprintf(errp, sizeof errp, "%s/.stderr", dir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, outp, O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&fa, 2, errp, O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    pid_t pid;
    int rc = posix_spawn(&pid, bin, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(rc, 0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    result r;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = slurp(outp);
    r.err = slurp(errp);
    unlink(outp);
    unlink(errp);
    return r;
}

static void
expect_status(const result *r, int want)
{
    if (r->status != want) {
        print_error("exit %d, want %d\nstdout: %s\nstderr: %s\n", r->status,
                    want, r->out ? r->out : "", r->err ? r->err : "");
        fail();
    }
}

static void
expect_text(const char *got, const char *want)
{
    if (got == NULL || strcmp(got, want) != 0) {
        print_error("got:\n%s\nwant:\n%s\n", got ? got : "(null)", want);
        fail();
    }
}

/* Files in the test directory (the output and temporary files). */
static int
count_files(void)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            n++;
        }
    }
    closedir(d);
    return n;
}

/* The "columns" of `parquet inspect --format json` as "name TYPE[ NOT
 * NULL][ id=N]" lines. */
static char *
columns_of(const char *file)
{
    result r =
        run("parquet", "inspect", path_of(file), "--format", "json", NULL);
    expect_status(&r, 0);
    json_error_t je;
    json_t *j = json_loads(r.out, 0, &je);
    assert_non_null(j);
    lh_buf b = LH_BUF_INIT;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(j, "columns"), i, c)
    {
        lh_buf_printf(
            &b, "%s %s%s", json_string_value(json_object_get(c, "name")),
            json_string_value(json_object_get(c, "type")),
            json_is_true(json_object_get(c, "nullable")) ? "" : " NOT NULL");
        json_t *id = json_object_get(c, "field_id");
        if (id) {
            lh_buf_printf(&b, " id=%lld", (long long)json_integer_value(id));
        }
        lh_buf_puts(&b, "\n");
    }
    json_decref(j);
    result_free(&r);
    size_t len;
    return lh_buf_take(&b, &len);
}

static char *
cat(const char *file, const char *format)
{
    result r = run("parquet", "cat", path_of(file), "--format", format, NULL);
    expect_status(&r, 0);
    char *out = r.out;
    r.out = NULL;
    result_free(&r);
    return out;
}

static int
setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/lh-wcli-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] != '.' ||
                (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)) {
                unlink(path_of(e->d_name));
            }
        }
        closedir(d);
    }
    rmdir(dir);
    return 0;
}

/* ---- inference ----------------------------------------------------------- */

static void
test_csv_inference(void **state)
{
    (void)state;
    put_file("in.csv",
             "i,d,b,day,ts,tz,s,n,mixed\r\n"
             "1,1.5,true,2024-01-02,2024-01-02 10:00:00,2024-01-02T10:00:00Z,"
             "hello,,1\r\n"
             "-9223372036854775808,NaN,false,2024-02-29,"
             "2024-01-02T10:00:00.123456,2024-01-02 10:00:00+02:00,\"a,b\",,x"
             "\r\n"
             "9223372036854775807,-Infinity,TRUE,1999-12-31,2024-01-02,"
             "2024-01-02 10:00:00,\"\",,2\r\n");
    result r = run("parquet", "write", path_of("out.parquet"), "--from",
                   path_of("in.csv"), NULL);
    expect_status(&r, 0);
    result_free(&r);
    char *cols = columns_of("out.parquet");
    expect_text(cols, "i BIGINT\nd DOUBLE\nb BOOLEAN\nday DATE\n"
                      "ts TIMESTAMP\ntz TIMESTAMPTZ\ns VARCHAR\nn VARCHAR\n"
                      "mixed VARCHAR\n");
    lh_free(cols);
    char *out = cat("out.parquet", "csv");
    expect_text(out,
                "i,d,b,day,ts,tz,s,n,mixed\n"
                "1,1.5,true,2024-01-02,2024-01-02 10:00:00,"
                "2024-01-02 10:00:00+00,hello,,1\n"
                "-9223372036854775808,NaN,false,2024-02-29,"
                "2024-01-02 10:00:00.123456,2024-01-02 08:00:00+00,\"a,b\",,x\n"
                "9223372036854775807,-Infinity,true,1999-12-31,"
                "2024-01-02 00:00:00,2024-01-02 10:00:00+00,\"\",,2\n");
    lh_free(out);
}

static void
test_ndjson_inference(void **state)
{
    (void)state;
    put_file("in.ndjson",
             "{\"a\":1,\"b\":1.5,\"c\":true,\"d\":\"2024-01-01\","
             "\"e\":\"2024-01-01T00:00:00Z\",\"f\":[1,2],\"g\":\"x\","
             "\"h\":1}\n"
             "{\"a\":2,\"b\":2,\"c\":false,\"d\":null,"
             "\"e\":\"2024-01-01 05:00:00+05\",\"f\":{\"k\":\"v\"},"
             "\"g\":\"y\",\"h\":\"one\",\"i\":\"NaN\"}\n"
             "\n"
             "  {\"b\":\"NaN\",\"x\":null}\r\n");
    result r = run("parquet", "write", path_of("out.parquet"), "--from",
                   path_of("in.ndjson"), NULL);
    expect_status(&r, 0);
    result_free(&r);
    char *cols = columns_of("out.parquet");
    expect_text(cols, "a BIGINT\nb DOUBLE\nc BOOLEAN\nd DATE\n"
                      "e TIMESTAMPTZ\nf JSON\ng VARCHAR\nh JSON\ni VARCHAR\n"
                      "x VARCHAR\n");
    lh_free(cols);
    char *out = cat("out.parquet", "ndjson");
    expect_text(out,
                "{\"a\":1,\"b\":1.5,\"c\":true,\"d\":\"2024-01-01\","
                "\"e\":\"2024-01-01 00:00:00+00\",\"f\":[1,2],\"g\":\"x\","
                "\"h\":1,\"i\":null,\"x\":null}\n"
                "{\"a\":2,\"b\":2,\"c\":false,\"d\":null,"
                "\"e\":\"2024-01-01 00:00:00+00\",\"f\":{\"k\":\"v\"},"
                "\"g\":\"y\",\"h\":\"one\",\"i\":\"NaN\",\"x\":null}\n"
                "{\"a\":null,\"b\":\"NaN\",\"c\":null,\"d\":null,\"e\":null,"
                "\"f\":null,\"g\":null,\"h\":null,\"i\":null,\"x\":null}\n");
    lh_free(out);
}

/* ---- --schema and the round trip ------------------------------------------
 */

static const char *schema_json =
    "{\"name\":\"t\",\"columns\":["
    "{\"name\":\"id\",\"type\":\"BIGINT\",\"nullable\":false,\"field_id\":1},"
    "{\"name\":\"price\",\"type\":\"DECIMAL(10,2)\",\"field_id\":2},"
    "{\"name\":\"big\",\"type\":\"DECIMAL(38,3)\"},"
    "{\"name\":\"qty\",\"type\":\"SMALLINT\"},"
    "{\"name\":\"n\",\"type\":\"INTEGER\"},"
    "{\"name\":\"r\",\"type\":\"REAL\"},"
    "{\"name\":\"d\",\"type\":\"DOUBLE\"},"
    "{\"name\":\"ok\",\"type\":\"BOOLEAN\"},"
    "{\"name\":\"note\",\"type\":\"VARCHAR(200)\"},"
    "{\"name\":\"raw\",\"type\":\"BLOB\"},"
    "{\"name\":\"doc\",\"type\":\"JSON\"},"
    "{\"name\":\"day\",\"type\":\"DATE\"},"
    "{\"name\":\"at\",\"type\":\"TIME\"},"
    "{\"name\":\"ts\",\"type\":\"TIMESTAMP\"},"
    "{\"name\":\"tz\",\"type\":\"TIMESTAMPTZ\"},"
    "{\"name\":\"u\",\"type\":\"UUID\"},"
    "{\"name\":\"iv\",\"type\":\"INTERVAL\"},"
    "{\"name\":\"emb\",\"type\":\"FLOAT[3]\"}"
    "],\"partition_by\":\"day(ts)\"}";

/* As `parquet cat --format csv` prints it: every form canonical. */
static const char *roundtrip_csv =
    "id,price,big,qty,n,r,d,ok,note,raw,doc,day,at,ts,tz,u,iv,emb\n"
    "1,12.50,-99999999999999999999999999999999999.999,-32768,-2147483648,"
    "0.1,1e+300,true,plain,\\x00ff,\"{\"\"a\"\": [1, 2]}\",2026-11-25,"
    "12:00:00.5,2026-11-25 12:00:00.123,2026-11-25 12:00:00+00,"
    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,1 day 02:00:00,\"[0.1,0.2,0.3]\"\n"
    "2,,,,,,,,,,,,,,,,,\n"
    "3,-0.01,0.000,32767,2147483647,-Infinity,NaN,false,\"\",\\x,null,"
    "0001-01-01,00:00:00,1970-01-01 00:00:00,1970-01-01 00:00:00+00,"
    "00000000-0000-0000-0000-000000000000,00:00:00,\"[-1,0,1e+20]\"\n"
    "4,0.00,1.000,0,0,-0,-0,true,\"a, \"\"quoted\"\"\n"
    "two-line value\",\\x41,\"\"\"str\"\"\",9999-12-31,23:59:59.999999,"
    "9999-12-31 23:59:59.999999,2000-02-29 00:00:00.000001+00,"
    "ffffffff-ffff-ffff-ffff-ffffffffffff,1 year 2 mons -3 days,"
    "\"[1,2,3]\"\n"
    "5,1.00,2.500,7,8,3.5,2.25,false,\" leading and trailing \","
    "\\x,[],1999-01-01,01:02:03,1999-01-01 01:02:03,1999-01-01 01:02:03+00,"
    ",,\n"
    "6,99999999.99,1.000,1,1,1,1,true,h\xc3\xa9llo \xe2\x9c\x93,\\x00,"
    "\"{\"\"k\"\":{\"\"n\"\":null}}\",2024-02-29,10:00:00,"
    "2024-02-29 10:00:00,2024-02-29 10:00:00+00,"
    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12,3 mons,\"[0,0,0]\"\n";

static void
test_schema_and_roundtrip(void **state)
{
    (void)state;
    put_file("schema.json", schema_json);
    put_file("in.csv", roundtrip_csv);
    static const char *const variants[][6] = {
        {"--codec", "zstd", NULL},
        {"--codec", "snappy", "--page-v2", NULL},
        {"--codec", "gzip", "--row-group-rows", "2", NULL},
        {"--codec", "uncompressed", "--bloom", "id,note,u", NULL},
        {"--codec", "lz4", "--page-v2", "--row-group-rows", "1", NULL},
        {"--codec", "brotli", NULL},
    };
    for (size_t v = 0; v < LH_ARRAY_LEN(variants); v++) {
        const char *const *x = variants[v];
        result r = run("parquet", "write", path_of("out.parquet"), "--from",
                       path_of("in.csv"), "--schema", path_of("schema.json"),
                       x[0], x[1], x[2], x[3], x[4], x[5], NULL);
        expect_status(&r, 0);
        result_free(&r);
        char *out = cat("out.parquet", "csv");
        expect_text(out, roundtrip_csv);
        lh_free(out);
    }
    char *cols = columns_of("out.parquet");
    expect_text(cols,
                "id BIGINT NOT NULL id=1\nprice DECIMAL(10,2) id=2\n"
                "big DECIMAL(38,3)\nqty SMALLINT\nn INTEGER\nr REAL\n"
                "d DOUBLE\nok BOOLEAN\nnote VARCHAR\nraw BLOB\ndoc JSON\n"
                "day DATE\nat TIME\nts TIMESTAMP\ntz TIMESTAMPTZ\nu UUID\n"
                "iv INTERVAL\nemb LIST<REAL>\n");
    lh_free(cols);

    /* The header may order the columns its own way; missing columns are
     * NULL. */
    put_file("few.csv", "note,id\nhello,5\n,6\n");
    result r =
        run("parquet", "write", path_of("few.parquet"), "--from",
            path_of("few.csv"), "--schema", path_of("schema.json"), NULL);
    expect_status(&r, 0);
    result_free(&r);
    char *out = cat("few.parquet", "csv");
    expect_text(out, "id,price,big,qty,n,r,d,ok,note,raw,doc,day,at,ts,tz,u,"
                     "iv,emb\n"
                     "5,,,,,,,,hello,,,,,,,,,\n"
                     "6,,,,,,,,,,,,,,,,,\n");
    lh_free(out);

    /* NDJSON with the same schema: its JSON forms. */
    put_file("in.ndjson",
             "{\"id\":1,\"price\":12.5,\"big\":\"-1.5\",\"emb\":[1,2,3],"
             "\"doc\":{\"a\":[1,2]},\"tz\":\"2026-01-01T00:00:00+01:00\","
             "\"raw\":\"\\\\x00ff\"}\n"
             "{\"id\":2}\n");
    r = run("parquet", "write", path_of("nd.parquet"), "--from",
            path_of("in.ndjson"), "--schema", path_of("schema.json"), NULL);
    expect_status(&r, 0);
    result_free(&r);
    out = cat("nd.parquet", "ndjson");
    expect_text(out,
                "{\"id\":1,\"price\":12.50,\"big\":-1.500,\"qty\":null,"
                "\"n\":null,\"r\":null,\"d\":null,\"ok\":null,\"note\":null,"
                "\"raw\":\"\\\\x00ff\",\"doc\":{\"a\":[1,2]},\"day\":null,"
                "\"at\":null,\"ts\":null,\"tz\":\"2025-12-31 23:00:00+00\","
                "\"u\":null,\"iv\":null,\"emb\":[1,2,3]}\n"
                "{\"id\":2,\"price\":null,\"big\":null,\"qty\":null,"
                "\"n\":null,\"r\":null,\"d\":null,\"ok\":null,\"note\":null,"
                "\"raw\":null,\"doc\":null,\"day\":null,\"at\":null,"
                "\"ts\":null,\"tz\":null,\"u\":null,\"iv\":null,"
                "\"emb\":null}\n");
    lh_free(out);
}

static void
test_options(void **state)
{
    (void)state;
    put_file("in.csv", "a,s,b\n1,x,true\n2,y,false\n3,,true\n");
    result r = run("parquet", "write", path_of("o.parquet"), "--from",
                   path_of("in.csv"), "--codec", "snappy", "--row-group-rows",
                   "2", "--bloom", "s,a", "--page-v2", NULL);
    expect_status(&r, 0);
    result_free(&r);
    r = run("parquet", "inspect", path_of("o.parquet"), "--format", "json",
            NULL);
    expect_status(&r, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    json_t *rgs = json_object_get(j, "row_groups");
    assert_int_equal(json_array_size(rgs), 2);
    json_t *c0 =
        json_array_get(json_object_get(json_array_get(rgs, 0), "columns"), 0);
    json_t *c2 =
        json_array_get(json_object_get(json_array_get(rgs, 0), "columns"), 2);
    assert_string_equal(json_string_value(json_object_get(c0, "codec")),
                        "SNAPPY");
    assert_true(json_is_true(json_object_get(c0, "bloom_filter")));
    assert_true(json_is_false(json_object_get(c2, "bloom_filter")));
    assert_true(json_is_true(json_object_get(c0, "column_index")));
    assert_true(json_is_true(json_object_get(c0, "offset_index")));
    json_decref(j);
    result_free(&r);

    /* Bad options: exit 2, nothing written. */
    int before = count_files();
    r = run("parquet", "write", path_of("x.parquet"), "--from",
            path_of("in.csv"), "--codec", "nope", NULL);
    expect_status(&r, 2);
    assert_non_null(strstr(r.err, "nope"));
    result_free(&r);
    r = run("parquet", "write", path_of("x.parquet"), "--from",
            path_of("in.csv"), "--bloom", "zz", NULL);
    expect_status(&r, 2);
    assert_non_null(strstr(r.err, "\"zz\""));
    result_free(&r);
    r = run("parquet", "write", path_of("x.parquet"), "--from",
            path_of("in.csv"), "--bloom", "b", NULL);
    expect_status(&r, 2); /* BOOLEAN */
    result_free(&r);
    r = run("parquet", "write", path_of("x.parquet"), "--from",
            path_of("in.csv"), "--row-group-rows", "0", NULL);
    expect_status(&r, 2);
    result_free(&r);
    r = run("parquet", "write", path_of("x.parquet"), NULL);
    expect_status(&r, 2);
    result_free(&r);
    r = run("parquet", "write", path_of("x.parquet"), "--from",
            path_of("in.txt"), NULL);
    expect_status(&r, 2);
    result_free(&r);
    r = run("parquet", "write", path_of("x.parquet"), "--from",
            path_of("in.csv"), "--schema", path_of("missing.json"), NULL);
    expect_status(&r, 1);
    result_free(&r);
    /* A missing input is the OS's failure: exit 1. */
    r = run("parquet", "write", path_of("x.parquet"), "--from",
            path_of("missing.csv"), NULL);
    expect_status(&r, 1);
    result_free(&r);
    r = run("parquet", "write", "/nonexistent-dir/x.parquet", "--from",
            path_of("in.csv"), NULL);
    expect_status(&r, 1);
    result_free(&r);
    assert_int_equal(count_files(), before);
}

/* ---- bad input ------------------------------------------------------------
 */

/* Writes `text` as `name` and expects exit 2 with `want` in the message
 * and nothing at the output path. */
static void
expect_refused(const char *name, const char *text, const char *schema,
               const char *want)
{
    put_file(name, text);
    int before = count_files();
    result r = schema
                   ? run("parquet", "write", path_of("bad.parquet"), "--from",
                         path_of(name), "--schema", path_of(schema), NULL)
                   : run("parquet", "write", path_of("bad.parquet"), "--from",
                         path_of(name), NULL);
    expect_status(&r, 2);
    if (strstr(r.err, want) == NULL) {
        print_error("stderr %s lacks %s\n", r.err, want);
        fail();
    }
    result_free(&r);
    struct stat st;
    assert_int_not_equal(stat(path_of("bad.parquet"), &st), 0);
    assert_int_equal(count_files(), before); /* no temporary file */
}

static void
test_bad_input(void **state)
{
    (void)state;
    put_file("s.json", "{\"columns\":[{\"name\":\"id\",\"type\":\"BIGINT\","
                       "\"nullable\":false},{\"name\":\"qty\",\"type\":"
                       "\"INTEGER\"},{\"name\":\"note\",\"type\":"
                       "\"VARCHAR(3)\"}]}");
    expect_refused("a.csv", "id,qty,note\n1,2,x\n2,3,y\n3,abc,z\n", "s.json",
                   "line 4, column \"qty\": invalid INTEGER \"abc\"");
    /* Line numbers count the lines inside quoted fields. */
    expect_refused("b.csv", "id,qty,note\n1,2,\"x\ny\"\n2,99999999999,z\n",
                   "s.json", "line 4, column \"qty\"");
    expect_refused("c.csv", "id,qty,note\n1,2,x\n,3,y\n", "s.json",
                   "line 3, column \"id\": NULL");
    expect_refused("d.csv", "id,qty,note\n1,2,toolong\n", "s.json",
                   "line 2, column \"note\"");
    expect_refused("e.csv", "id,qty,note\n1,2\n", "s.json",
                   "line 2: expected 3 fields, found 2");
    expect_refused("f.csv", "id,qty,note\n1,2,\"open\n", "s.json",
                   "line 2: a quoted field does not end");
    expect_refused("g.csv", "id,what\n1,2\n", "s.json",
                   "column \"what\" is not in the schema");
    expect_refused("h.csv", "a,a\n1,2\n", NULL, "empty or repeated");
    expect_refused("i.csv", "id,qty,note\n1,\"2\"x,z\n", "s.json",
                   "line 2: text after the closing quote");
    expect_refused("j.csv", "", NULL, "no header row");
    expect_refused("a.ndjson", "{\"id\":1}\n{\"id\":2,\"zz\":1}\n", "s.json",
                   "line 2: key \"zz\" is not a column");
    expect_refused("b.ndjson", "{\"id\":1}\n\n{\"id\":\n", "s.json",
                   "line 3: invalid JSON");
    expect_refused("c.ndjson", "{\"id\":1,\"id\":2}\n", "s.json",
                   "line 1: invalid JSON");
    expect_refused("d.ndjson", "[1]\n", "s.json",
                   "line 1: expected a JSON object");
    expect_refused("e.ndjson", "{\"id\":1,\"qty\":\"x\"}\n", "s.json",
                   "line 1, column \"qty\": expected INTEGER");
    expect_refused("f.ndjson", "{\"qty\":1}\n", "s.json",
                   "line 1, column \"id\": NULL");
    expect_refused("g.ndjson", "", NULL, "no rows");
    put_file("bad.json", "{\"columns\":[{\"name\":\"x\",\"type\":\"FOO\"}]}");
    expect_refused("k.csv", "x\n1\n", "bad.json", "unknown type \"FOO\"");

    /* A file already at the output path stays as it was. */
    put_file("bad.parquet", "precious");
    put_file("l.csv", "id,qty,note\n1,x,y\n");
    result r = run("parquet", "write", path_of("bad.parquet"), "--from",
                   path_of("l.csv"), "--schema", path_of("s.json"), NULL);
    expect_status(&r, 2);
    result_free(&r);
    char *kept = slurp(path_of("bad.parquet"));
    expect_text(kept, "precious");
    lh_free(kept);
    unlink(path_of("bad.parquet"));
}

/* A larger CSV through cat: many row groups and pages, every row back. */
static void
test_large_roundtrip(void **state)
{
    (void)state;
    lh_buf b = LH_BUF_INIT;
    lh_buf_puts(&b, "id,name,score,when\n");
    for (int i = 0; i < 30000; i++) {
        lh_buf_printf(&b, "%d,name %d,%d.5,2024-01-%02d %02d:00:00\n", i,
                      i % 777, i % 1000, 1 + i % 28, i % 24);
    }
    put_file("big.csv", b.data);
    result r = run("parquet", "write", path_of("big.parquet"), "--from",
                   path_of("big.csv"), "--row-group-rows", "7000", NULL);
    expect_status(&r, 0);
    result_free(&r);
    char *out = cat("big.parquet", "csv");
    expect_text(out, b.data);
    lh_free(out);
    lh_buf_release(&b);
}

int
main(void)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        return 77;
    }
    self[n] = 0;
    char *slash = strrchr(self, '/');
    *slash = 0;
    snprintf(bin, sizeof bin, "%s/lakehouse", self);
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "test_write_cli: no CLI at %s; skipped\n", bin);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_csv_inference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ndjson_inference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_and_roundtrip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_roundtrip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
