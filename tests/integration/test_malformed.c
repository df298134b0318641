/*
 * Real bad files. A damaged shard file, a damaged lakehouse.json or
 * table.json must give an error that names the file: an exit code, no
 * crash (a signal), no hang (each command has 30 s). Malformed input files
 * are refused with exit 2 and leave the store exactly as it was; putting
 * the good file back makes the store readable again, unchanged.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "it.h"

static const char *schema_t =
    "{\"name\": \"t\", \"columns\": [{\"name\": \"qty\", \"type\": "
    "\"BIGINT\"}, {\"name\": \"pad\", \"type\": \"VARCHAR\"}], \"shards\": "
    "1}";
static const char *schema_u =
    "{\"name\": \"u\", \"columns\": [{\"name\": \"qty\", \"type\": "
    "\"BIGINT\"}], \"shards\": 2}";

#define NEVENTS 400

typedef struct fixture {
    char *top, *dir;
    char *shard;    /* DIR/tables/t/shard-000.db */
    char *before;   /* `read t --from 0` before any damage */
    char *before_u; /* the same for table u */
} fixture;

static char *
read_out(const fixture *f, const char *table)
{
    it_result r;
    it_run(&r, NULL, NULL, "read", f->dir, table, "--from", "0", NULL);
    it_expect_code(&r, 0, "read --from 0");
    free(r.err);
    return r.out;
}

/* Two tables, NEVENTS events in t, made once and copied for each test. */
static char *template_top, *template_dir;

static int
group_setup(void **state)
{
    (void)state;
    template_top = it_tmpdir();
    template_dir = it_path(template_top, "data");
    const char *schemas[] = {schema_t, schema_u, NULL};
    it_make_db(template_dir, schemas);
    /* enough events for dozens of pages */
    lh_buf in = LH_BUF_INIT;
    for (int i = 0; i < NEVENTS; i++) {
        lh_buf_printf(&in,
                      "{\"stream\": \"s%d\", \"type\": \"T\", \"data\": "
                      "{\"qty\": %d, \"pad\": \"%0400d\"}}\n",
                      i % 7, i, i);
    }
    it_result r;
    it_run(&r, in.data, NULL, "append", template_dir, "t", "--batch", "40",
           NULL);
    it_expect_code(&r, 0, "append");
    it_result_release(&r);
    it_run(&r, "{\"stream\": \"x\", \"type\": \"T\"}\n", NULL, "append",
           template_dir, "u", NULL);
    it_expect_code(&r, 0, "append");
    it_result_release(&r);
    lh_buf_release(&in);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    free(template_dir);
    it_rmrf(template_top);
    return 0;
}

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->top = it_tmpdir();
    f->dir = it_path(f->top, "data");
    it_copy_tree(template_dir, f->dir);
    f->shard = it_path(f->dir, "tables/t/shard-000.db");
    f->before = read_out(f, "t");
    f->before_u = read_out(f, "u");
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    free(f->before);
    free(f->before_u);
    free(f->shard);
    free(f->dir);
    it_rmrf(f->top);
    free(f);
    return 0;
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        fail_msg("open %s: %s", path, strerror(errno));
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

static void
put_bytes(const char *path, const char *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    if (fp == NULL || fwrite(data, 1, len, fp) != len || fclose(fp) != 0) {
        fail_msg("write %s", path);
    }
}

static void
overwrite(const char *path, long off, size_t n, unsigned seed)
{
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    fseek(fp, off, SEEK_SET);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        fputc((int)(seed >> 16) & 0xff, fp);
    }
    fclose(fp);
}

/* A page of the events table's b-tree in the middle of the file (so a
 * full read must cross it), from SQLite's dbstat; the middle page of the
 * file when dbstat is not compiled in. Returns the byte offset. */
static long
events_leaf_offset(const char *path, size_t file_len)
{
    sqlite3 *db = NULL;
    long off = (long)(file_len / 2 / 4096 * 4096);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return off;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT pageno FROM dbstat WHERE name = 'events' "
                           "AND pagetype = 'leaf' ORDER BY pageno",
                           -1, &st, NULL) == SQLITE_OK) {
        long pages[4096];
        int n = 0;
        while (sqlite3_step(st) == SQLITE_ROW && n < 4096) {
            pages[n++] = (long)sqlite3_column_int64(st, 0);
        }
        if (n > 0) {
            off = (pages[n / 2] - 1) * 4096;
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return off;
}

/* Runs the command; it must fail with exit code `code` (not a signal) and
 * a message naming `file`. */
static void
expect_named_failure(const char *what, int code, const char *file,
                     const char *input, const char *const *args)
{
    it_result r;
    it_runv(&r, input, NULL, args);
    if (r.code != code || strstr(r.err, file) == NULL) {
        fail_msg("%s: exit %d (expected %d), stderr \"%s\" (expected it to "
                 "name \"%s\")",
                 what, r.code, code, r.err, file);
    }
    printf("# %s: %s", what, r.err);
    it_result_release(&r);
}

static void
expect_unchanged(const fixture *f)
{
    char *now = read_out(f, "t");
    if (strcmp(now, f->before) != 0) {
        fail_msg("table t reads differently after the good file is back "
                 "(%zu bytes, %zu before)",
                 strlen(now), strlen(f->before));
    }
    free(now);
    now = read_out(f, "u");
    assert_string_equal(now, f->before_u);
    free(now);
}

/* ---- a damaged shard ------------------------------------------------------
 */

static void
test_garbage_in_a_shard(void **state)
{
    fixture *f = *state;
    size_t len;
    char *good = slurp(f->shard, &len);
    long off = events_leaf_offset(f->shard, len);
    printf("# overwriting 4 KiB at offset %ld of %zu\n", off, len);
    overwrite(f->shard, off, 4096, 7);
    const char *read_all[] = {"read", f->dir, "t", "--from", "0", NULL};
    expect_named_failure("read --from 0", 1, "shard-000.db", NULL, read_all);
    /* the other table is not affected */
    char *u = read_out(f, "u");
    assert_string_equal(u, f->before_u);
    free(u);
    const char *append_u[] = {"append", f->dir, "u", NULL};
    it_result r;
    it_runv(&r, "{\"stream\": \"y\", \"type\": \"T\"}\n", NULL, append_u);
    it_expect_code(&r, 0, "append to an undamaged table");
    it_result_release(&r);
    /* the good file back: everything reads as before (u has one more) */
    put_bytes(f->shard, good, len);
    char *now = read_out(f, "t");
    assert_string_equal(now, f->before);
    free(now);
    free(good);
}

static void
test_shard_header_destroyed(void **state)
{
    fixture *f = *state;
    size_t len;
    char *good = slurp(f->shard, &len);
    overwrite(f->shard, 0, 100, 11);
    const char *read_all[] = {"read", f->dir, "t", "--from", "0", NULL};
    expect_named_failure("read --from 0", 1, "shard-000.db", NULL, read_all);
    const char *read_s[] = {"read", f->dir, "t", "--stream", "s1", NULL};
    expect_named_failure("read --stream", 1, "shard-000.db", NULL, read_s);
    const char *append[] = {"append", f->dir, "t", NULL};
    expect_named_failure("append", 1, "shard-000.db",
                         "{\"stream\": \"s1\", \"type\": \"T\"}\n", append);
    put_bytes(f->shard, good, len);
    expect_unchanged(f);
    free(good);
}

static void
test_truncated_shard(void **state)
{
    fixture *f = *state;
    size_t len;
    char *good = slurp(f->shard, &len);
    assert_int_equal(truncate(f->shard, (off_t)(len / 2)), 0);
    const char *read_all[] = {"read", f->dir, "t", "--from", "0", NULL};
    expect_named_failure("read --from 0 of a half shard", 1, "shard-000.db",
                         NULL, read_all);
    assert_int_equal(truncate(f->shard, 0), 0);
    expect_named_failure("read --from 0 of an empty shard", 1, "shard-000.db",
                         NULL, read_all);
    const char *append[] = {"append", f->dir, "t", NULL};
    expect_named_failure("append to an empty shard", 1, "shard-000.db",
                         "{\"stream\": \"s1\", \"type\": \"T\"}\n", append);
    put_bytes(f->shard, good, len);
    expect_unchanged(f);
    free(good);
}

/* ---- damaged definitions
 * ------------------------------------------------------ */

static void
test_bad_lakehouse_json(void **state)
{
    fixture *f = *state;
    char *path = it_path(f->dir, "lakehouse.json");
    size_t len;
    char *good = slurp(path, &len);
    const char *read_all[] = {"read", f->dir, "t", "--from", "0", NULL};
    const char *append[] = {"append", f->dir, "t", NULL};
    const char *ev = "{\"stream\": \"s1\", \"type\": \"T\"}\n";
    const char *variants[] = {"", "{\"format\": \"lakeho", "\x01\x02\xff{{{",
                              "[]",
                              ("{\"format\": \"other\", "
                               "\"format_version\": 1}")};
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        put_bytes(path, variants[i], strlen(variants[i]));
        expect_named_failure("read with a damaged lakehouse.json", 1,
                             "lakehouse.json", NULL, read_all);
        expect_named_failure("append with a damaged lakehouse.json", 1,
                             "lakehouse.json", ev, append);
    }
    /* a newer format is refused as such */
    const char *newer = "{\"format\": \"lakehouse\", \"format_version\": 99}";
    put_bytes(path, newer, strlen(newer));
    it_result r;
    it_runv(&r, NULL, NULL, read_all);
    it_expect_code(&r, 1, "read with format_version 99");
    it_expect_contains(r.err, "format version 99", "format_version 99");
    it_result_release(&r);
    /* init does not overwrite a damaged directory */
    put_bytes(path, "{", 1);
    it_run(&r, NULL, NULL, "init", f->dir, NULL);
    if (r.code == 0) {
        fail_msg("init over a damaged data directory succeeded: %s", r.out);
    }
    it_result_release(&r);
    put_bytes(path, good, len);
    expect_unchanged(f);
    free(good);
    free(path);
}

static void
test_bad_table_json(void **state)
{
    fixture *f = *state;
    char *path = it_path(f->dir, "tables/t/table.json");
    size_t len;
    char *good = slurp(path, &len);
    const char *read_all[] = {"read", f->dir, "t", "--from", "0", NULL};
    const char *append[] = {"append", f->dir, "t", NULL};
    const char *ev = "{\"stream\": \"s1\", \"type\": \"T\"}\n";
    const char *variants[] = {
        "", "\xff\xfe\x00garbage", "{\"name\": \"t\", \"columns\": [",
        ("{\"name\": \"t\", \"columns\": [{\"name\": \"qty\", \"type\": "
         "\"NOPE\"}]}"),
        "{\"name\": \"t\", \"columns\": [], \"shards\": -3}"};
    size_t lens[] = {0, 10, strlen(variants[2]), strlen(variants[3]),
                     strlen(variants[4])};
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        put_bytes(path, variants[i], lens[i]);
        expect_named_failure("read with a damaged table.json", 1,
                             "tables/t/table.json", NULL, read_all);
        expect_named_failure("append with a damaged table.json", 1,
                             "tables/t/table.json", ev, append);
    }
    /* a definition that disagrees with its shards: 1 shard said 3 */
    char *edited = strdup(good);
    char *sh = strstr(edited, "\"shards\": 1");
    assert_non_null(sh);
    sh[10] = '3';
    put_bytes(path, edited, strlen(edited));
    free(edited);
    expect_named_failure("append with a table.json of 3 shards", 1,
                         "shard-000.db", ev, append);
    put_bytes(path, good, len);
    expect_unchanged(f);
    free(good);
    free(path);
}

/* ---- malformed input leaves the store as it was -----------------------------
 */

static void
test_malformed_input_changes_nothing(void **state)
{
    fixture *f = *state;
    lh_buf big = LH_BUF_INIT;
    lh_buf_puts(&big, "{\"stream\": \"s1\", \"type\": \"T\", \"data\": "
                      "{\"pad\": \"");
    for (int i = 0; i < 200000; i++) {
        lh_buf_puts(&big, "\\u00e9x");
    }
    lh_buf_puts(&big, "\"}, \"bogus\": 1}\n");
    lh_buf deep = LH_BUF_INIT;
    lh_buf_puts(&deep, "{\"stream\": \"s1\", \"type\": \"T\", \"data\": "
                       "{\"pad\": ");
    for (int i = 0; i < 100000; i++) {
        lh_buf_putc(&deep, '[');
    }
    lh_buf_puts(&deep, "\n");
    const char *inputs[] = {
        "\x7f"
        "ELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\n",
        "{\"stream\": \"s1\", \"type\": \"T\", \"data\": {\"pad\": "
        "\"\xc3\x28\"}}\n",
        "{\"stream\": \"s1\", \"type\": \"T\", \"data\": {\"qty\": "
        "99999999999999999999999}}\n",
        "{\"stream\": \"s1\", \"type\": \"T\", \"data\": {\"qty\": 1.5}}\n",
        "{\"stream\": \"s1\", \"type\": \"T\", \"data\": {\"qty\": 1, "
        "\"qty\": 2}}\n",
        "{\"stream\": \"s1\", \"type\": \"T\", \"data\": \"qty\"}\n",
        "{\"stream\": 7, \"type\": \"T\"}\n",
        "{\"stream\": \"\", \"type\": \"T\"}\n",
        "{\"stream\": \"s1\", \"type\": \"T\", \"event_id\": "
        "\"00000000-0000-0000-0000-000000000000\"}\n",
        big.data,
        deep.data,
    };
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        /* a good event first in the same call: it must not land either */
        lh_buf in = LH_BUF_INIT;
        lh_buf_puts(&in, "{\"stream\": \"s1\", \"type\": \"Good\"}\n");
        lh_buf_puts(&in, inputs[i]);
        it_result r;
        it_run(&r, in.data, NULL, "append", f->dir, "t", "--batch", "2", NULL);
        if (r.code != 2 || strstr(r.err, "line 2") == NULL) {
            fail_msg("malformed input %zu (%.60s): exit %d, stderr \"%.300s\"; "
                     "expected 2 naming line 2",
                     i, inputs[i], r.code, r.err);
        }
        it_result_release(&r);
        lh_buf_release(&in);
    }
    lh_buf_release(&big);
    lh_buf_release(&deep);
    char *now = read_out(f, "t");
    if (strcmp(now, f->before) != 0) {
        fail_msg("malformed input changed table t (%zu bytes, %zu before)",
                 strlen(now), strlen(f->before));
    }
    free(now);
    /* a malformed schema leaves no half-made table behind */
    char *schema = it_path(f->top, "bad-schema.json");
    it_write_file(schema, "{\"name\": \"v\", \"columns\": [{\"name\": \"a\"");
    it_result r;
    it_run(&r, NULL, NULL, "table", "create", f->dir, "--schema", schema, NULL);
    it_expect_code(&r, 2, "table create with a truncated schema");
    it_result_release(&r);
    it_run(&r, NULL, NULL, "table", "list", f->dir, NULL);
    it_expect_code(&r, 0, "table list");
    assert_string_equal(r.out, "t\nu\n");
    it_result_release(&r);
    free(schema);
    /* and the store takes good events as before */
    it_run(&r, "{\"stream\": \"s1\", \"type\": \"T\"}\n", NULL, "append",
           f->dir, "t", NULL);
    it_expect_code(&r, 0, "append after malformed input");
    char want[64];
    /* stream s1 had the events i = 1, 8, 15, ... below NEVENTS */
    snprintf(want, sizeof(want), "\"version\":%d", (NEVENTS - 2) / 7 + 2);
    it_expect_contains(r.out, want, "append after malformed input");
    it_result_release(&r);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_garbage_in_a_shard, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_shard_header_destroyed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_truncated_shard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_lakehouse_json, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_table_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_input_changes_nothing,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
