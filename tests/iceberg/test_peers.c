/*
 * What we write, read by independent implementations (tests/iceberg/
 * peers.mjs): icebird reads our tables over HTTP (a partitioned table
 * with two appends; a table with a position delete file; a table whose
 * schema evolved between its files) with the rows our reader sees, and
 * avsc decodes every manifest and manifest list,
 * the lists resolved against the spec's Avro schema and the manifests'
 * fields checked by id against it. Skipped, saying so, without node or
 * the npm peers.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>

#include "format/parquet/writer.h"
#include "ice_write.h"
#include "lakehouse.h"

static char peers_dir[4096];

static bool
have_peers(void)
{
    const char *d = getenv("LH_PEERS_DIR");
    if (d != NULL && d[0] != 0) {
        snprintf(peers_dir, sizeof(peers_dir), "%s", d);
    } else {
        snprintf(peers_dir, sizeof(peers_dir), "%.3000s/.npm-peers",
                 ice_root());
    }
    char p[4200];
    snprintf(p, sizeof(p), "%s/node_modules/icebird", peers_dir);
    struct stat st;
    return stat(p, &st) == 0 && system("node --version >/dev/null 2>&1") == 0;
}

#define NEED_PEERS()                                                           \
    do {                                                                       \
        if (!have_peers()) {                                                   \
            printf("skipped: node or the test peers are missing (run "         \
                   "scripts/peers.sh)\n");                                     \
            skip();                                                            \
        }                                                                      \
    } while (0)

static int
free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t n = sizeof(a);
    getsockname(s, (struct sockaddr *)&a, &n);
    close(s);
    return ntohs(a.sin_port);
}

/* icebird's rows: count and the sum of "id". */
static void
icebird(const fixture *fx, int port, int64_t *count, int64_t *sum)
{
    char cmd[16384];
    snprintf(
        cmd, sizeof(cmd),
        "LH_PEERS_DIR='%.3000s' node '%.3000s/tests/iceberg/peers.mjs' icebird "
        "'%s' %d t",
        peers_dir, ice_root(), fx->dir, port);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[65536];
    *count = *sum = 0;
    while (fgets(line, sizeof(line), p) != NULL) {
        const char *id = strstr(line, "\"id\":");
        assert_non_null(id);
        (*count)++;
        *sum += strtoll(id + 5, NULL, 10);
        /* Names are NULL every 7th id, as written. */
        int64_t v = strtoll(id + 5, NULL, 10);
        assert_true((strstr(line, "\"name\":null") != NULL) == (v % 7 == 0));
    }
    assert_int_equal(pclose(p), 0);
}

static lh_ice_table *
http_table(fixture *fx, int port, char *loc, size_t nloc, lh_ice_path_map *map,
           char *from, char *to)
{
    snprintf(loc, nloc, "http://127.0.0.1:%d/t", port);
    snprintf(from, 64, "http://127.0.0.1:%d/", port);
    snprintf(to, 300, "file://%s/", fx->dir);
    map->from = from;
    map->to = to;
    return create_at(fx, 2, loc, map);
}

static void
test_icebird_partitioned(void **state)
{
    (void)state;
    NEED_PEERS();
    fixture fx;
    fx_init(&fx, true);
    int port = free_port();
    char loc[128], from[64], to[300];
    lh_ice_path_map map;
    lh_ice_table *t = http_table(&fx, port, loc, sizeof(loc), &map, from, to);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_data_file f[3] = {write_file(t, &fx, &a, 0, 1000, 10),
                             write_file(t, &fx, &a, 1000, 500, 11),
                             write_file(t, &fx, &a, 1500, 300, 12)};
    lh_ice_change c1 = {.add = f, .nadd = 2};
    commit(t, &c1);
    lh_ice_change c2 = {.add = &f[2], .nadd = 1};
    commit(t, &c2);
    int64_t ours_n, ours_sum, theirs_n, theirs_sum;
    scan_ids(t, NULL, &ours_n, &ours_sum, NULL);
    icebird(&fx, port, &theirs_n, &theirs_sum);
    assert_int_equal(ours_n, 1800);
    assert_int_equal(theirs_n, ours_n);
    assert_int_equal(theirs_sum, ours_sum);
    lh_ice_table_close(t);
    lh_arena_release(&a);
    fx_release(&fx);
}

static void
test_icebird_position_deletes(void **state)
{
    (void)state;
    NEED_PEERS();
    fixture fx;
    fx_init(&fx, false);
    int port = free_port();
    char loc[128], from[64], to[300];
    lh_ice_path_map map;
    lh_ice_table *t = http_table(&fx, port, loc, sizeof(loc), &map, from, to);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_data_file f = write_file(t, &fx, &a, 0, 1000, 1);
    lh_ice_change c = {.add = &f, .nadd = 1};
    commit(t, &c);
    /* Delete positions 0..99 through a position delete file. */
    lh_pq_wcolumn cols[2] = {{.name = "file_path",
                              .type = {.id = LH_T_VARCHAR},
                              .has_field_id = true,
                              .field_id = LH_ICE_FIELD_DELETE_FILE_PATH},
                             {.name = "pos",
                              .type = {.id = LH_T_BIGINT},
                              .has_field_id = true,
                              .field_id = LH_ICE_FIELD_DELETE_POS}};
    char dloc[600], key[1100], path[1200];
    snprintf(dloc, sizeof(dloc), "%s/data/pos-deletes.parquet", loc);
    lh_err err;
    assert_int_equal(lh_ice_table_key(t, dloc, key, sizeof(key), &err), LH_OK);
    snprintf(path, sizeof(path), "/%s", key);
    lh_pq_writer *w;
    assert_int_equal(lh_pq_writer_open_path(path, cols, 2, NULL, &w, &err),
                     LH_OK);
    lh_vector v[2];
    lh_vector_alloc(&v[0], cols[0].type, 100, false, &a, &err);
    lh_vector_alloc(&v[1], cols[1].type, 100, false, &a, &err);
    for (int i = 0; i < 100; i++) {
        ((lh_str *)v[0].data)[i] =
            lh_str_make(f.path, (uint32_t)strlen(f.path));
        ((int64_t *)v[1].data)[i] = i;
    }
    lh_batch b = {.count = 100, .ncols = 2, .cols = v};
    assert_int_equal(lh_pq_writer_write(w, &b, &err), LH_OK);
    assert_int_equal(lh_pq_writer_close(w, &err), LH_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    lh_ice_data_file d = {.content = LH_ICE_CONTENT_POSITION_DELETES,
                          .path = dloc,
                          .format = "PARQUET",
                          .record_count = 100,
                          .file_size = st.st_size,
                          .referenced_data_file = f.path};
    lh_ice_change dc = {.deletes = &d, .ndeletes = 1};
    commit(t, &dc);
    int64_t ours_n, ours_sum, theirs_n, theirs_sum;
    scan_ids(t, NULL, &ours_n, &ours_sum, NULL);
    assert_int_equal(ours_n, 900);
    icebird(&fx, port, &theirs_n, &theirs_sum);
    assert_int_equal(theirs_n, ours_n);
    assert_int_equal(theirs_sum, ours_sum);
    lh_ice_table_close(t);
    lh_arena_release(&a);
    fx_release(&fx);
}

/* ---- schema evolution ----------------------------------------------------
 */

/* Rows from NDJSON lines, one JSON object each: the columns named in
 * keys[] rendered as JSON text and joined with '|', sorted. */
typedef struct rowset {
    char **rows;
    size_t n;
} rowset;

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
rowset_read(FILE *f, const char *const *keys, size_t nkeys, rowset *out)
{
    char line[65536];
    out->rows = NULL;
    out->n = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        if (o == NULL) {
            fail_msg("not JSON: %.200s (%s)", line, je.text);
        }
        char buf[4096];
        size_t len = 0;
        for (size_t k = 0; k < nkeys; k++) {
            json_t *v = json_object_get(o, keys[k]);
            /* icebird leaves out a column a file does not have (note, in
             * the file written before it was added) instead of giving
             * NULL: the same value. */
            char *t = v ? json_dumps(v, JSON_ENCODE_ANY) : strdup("null");
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
                                    k ? "|" : "", t);
            free(t);
        }
        json_decref(o);
        out->rows = realloc(out->rows, (out->n + 1) * sizeof(char *));
        out->rows[out->n++] = strdup(buf);
    }
    qsort(out->rows, out->n, sizeof(char *), cmp_str);
}

static void
rowset_release(rowset *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->rows[i]);
    }
    free(r->rows);
}

/* A batch of the evolved schema (id, label, day, note): note is "x<id>"
 * on even ids, NULL on odd ones. */
static void
make_evolved_batch(lh_arena *a, int64_t first, uint32_t n, lh_batch *b)
{
    make_batch(a, first, n, 9, b); /* id, name, day, amount */
    lh_vector *cols = b->cols;
    lh_err err;
    assert_int_equal(lh_vector_alloc(&cols[3], (lh_type){.id = LH_T_VARCHAR}, n,
                                     true, a, &err),
                     LH_OK);
    for (uint32_t i = 0; i < n; i++) {
        int64_t id = first + i;
        char *s = lh_arena_alloc(a, 32);
        int len = snprintf(s, 32, "x%lld", (long long)id);
        ((lh_str *)cols[3].data)[i] = lh_str_make(s, (uint32_t)len);
        lh_bit_set(cols[3].validity, i, id % 2 == 0);
    }
}

static void
test_icebird_schema_evolution(void **state)
{
    (void)state;
    NEED_PEERS();
    fixture fx;
    fx_init(&fx, false);
    int port = free_port();
    char loc[128], from[64], to[300];
    lh_ice_path_map map;
    lh_ice_table *t = http_table(&fx, port, loc, sizeof(loc), &map, from, to);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_data_file f1 = write_file(t, &fx, &a, 0, 300, 7);
    lh_ice_change c1 = {.add = &f1, .nadd = 1};
    commit(t, &c1);
    /* name -> label, amount dropped, note added (no default: NULL in the
     * old file). */
    static const char evolved[] =
        "{\"type\":\"struct\",\"fields\":["
        "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
        "{\"id\":2,\"name\":\"label\",\"required\":false,\"type\":"
        "\"string\"},"
        "{\"id\":3,\"name\":\"day\",\"required\":false,\"type\":\"date\"},"
        "{\"id\":5,\"name\":\"note\",\"required\":false,\"type\":"
        "\"string\"}]}";
    lh_ice_schema s2;
    lh_err err;
    assert_int_equal(
        lh_ice_schema_parse_json(evolved, strlen(evolved), &a, &s2, &err),
        LH_OK);
    assert_int_equal(lh_ice_update_schema(t, &s2, &err), LH_OK);
    /* A second file written with the new schema. */
    const lh_ice_schema *cur = lh_ice_meta_current_schema(lh_ice_table_meta(t));
    lh_ice_data_writer *w;
    assert_int_equal(lh_ice_data_writer_open(cur, &fx.spec, &w, &err), LH_OK);
    lh_batch b;
    make_evolved_batch(&a, 300, 200, &b);
    assert_int_equal(lh_ice_data_writer_write(w, &b, &err), LH_OK);
    char uuid[40], dloc[600];
    lh_uuid u;
    lh_uuid_v4(&u, NULL);
    lh_uuid_format(&u, uuid);
    snprintf(dloc, sizeof(dloc), "%s/data/%s.parquet",
             lh_ice_table_meta(t)->location, uuid);
    lh_ice_data_file f2;
    assert_int_equal(lh_ice_data_writer_close(w, t, dloc, &a, &f2, &err),
                     LH_OK);
    lh_ice_change c2 = {.add = &f2, .nadd = 1};
    commit(t, &c2);
    lh_ice_table_close(t);

    /* Ours, through the public scan (the CLI's), and icebird's. */
    static const char *const keys[] = {"id", "label", "note"};
    char table[300], map_arg[400];
    snprintf(table, sizeof(table), "%s/t", fx.dir);
    snprintf(map_arg, sizeof(map_arg), "%s=%s", from, to);
    const char *maps[] = {map_arg};
    lh_iceberg_scan_opts so = {
        .base = {.path_map = maps, .npath_map = 1, .format = "ndjson"},
        .columns = "id,label,note"};
    FILE *ours_f = tmpfile();
    assert_non_null(ours_f);
    lh_rc rc = lh_iceberg_scan(table, &so, ours_f, &err);
    if (rc != LH_OK) {
        fail_msg("scan: %s", err.msg);
    }
    rewind(ours_f);
    rowset ours, theirs;
    rowset_read(ours_f, keys, 3, &ours);
    fclose(ours_f);
    char cmd[16384];
    snprintf(
        cmd, sizeof(cmd),
        "LH_PEERS_DIR='%.3000s' node '%.3000s/tests/iceberg/peers.mjs' icebird "
        "'%s' %d t",
        peers_dir, ice_root(), fx.dir, port);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    rowset_read(p, keys, 3, &theirs);
    assert_int_equal(pclose(p), 0);
    assert_int_equal(ours.n, 500);
    assert_int_equal(theirs.n, ours.n);
    for (size_t i = 0; i < ours.n; i++) {
        if (strcmp(ours.rows[i], theirs.rows[i]) != 0) {
            fail_msg("row %zu: ours %s, icebird %s", i, ours.rows[i],
                     theirs.rows[i]);
        }
    }
    /* The old file's rows read "name" as "label" and NULL as "note". */
    bool seen_old = false;
    for (size_t i = 0; i < ours.n; i++) {
        seen_old |= strcmp(ours.rows[i], "1|\"n1\"|null") == 0;
    }
    assert_true(seen_old);
    rowset_release(&ours);
    rowset_release(&theirs);
    lh_arena_release(&a);
    fx_release(&fx);
}

static void
test_avsc_reads_manifests(void **state)
{
    (void)state;
    NEED_PEERS();
    ICE_NEED_FIXTURES();
    fixture fx;
    fx_init(&fx, true);
    lh_ice_table *t = create(&fx, 2);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_data_file f[2] = {write_file(t, &fx, &a, 0, 100, 5),
                             write_file(t, &fx, &a, 100, 100, 6)};
    lh_ice_change c = {.add = f, .nadd = 2};
    commit(t, &c);
    const char *rm[] = {f[0].path};
    lh_ice_change r = {.remove = rm, .nremove = 1};
    commit(t, &r);
    char cmd[65536];
    int n = snprintf(
        cmd, sizeof(cmd),
        "LH_PEERS_DIR='%.3000s' node '%.3000s/tests/iceberg/peers.mjs' avsc "
        "'%s/avro_schemas'",
        peers_dir, ice_root(), ice_fixtures);
    char mdir[400];
    snprintf(mdir, sizeof(mdir), "%s/t/metadata", fx.dir);
    DIR *dir = opendir(mdir);
    assert_non_null(dir);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(dir)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len > 5 && strcmp(de->d_name + len - 5, ".avro") == 0) {
            n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " '%s/%s'", mdir,
                          de->d_name);
            files++;
        }
    }
    closedir(dir);
    assert_int_equal(files,
                     4); /* 2 lists, the appended and the rewritten manifest */
    FILE *p = popen(cmd, "r");
    char line[1 << 16];
    int lists = 0, manifests = 0;
    while (fgets(line, sizeof(line), p) != NULL) {
        if (strstr(line, "\"problems\":[]") == NULL) {
            fail_msg("avsc: %.2000s", line);
        }
        if (strstr(line, "\"kind\":\"list\"") != NULL) {
            lists++;
            assert_non_null(strstr(line, "\"snapshot-id\""));
            assert_non_null(strstr(line, "\"format-version\":\"2\""));
        } else {
            manifests++;
            static const char *const keys[] = {"\"schema\"",
                                               "\"schema-id\":\"0\"",
                                               "\"partition-spec\"",
                                               "\"partition-spec-id\":\"0\"",
                                               "\"format-version\":\"2\"",
                                               "\"content\":\"data\""};
            for (size_t k = 0; k < LH_ARRAY_LEN(keys); k++) {
                assert_non_null(strstr(line, keys[k]));
            }
            assert_non_null(strstr(line, "\"day_day\""));
        }
    }
    assert_int_equal(pclose(p), 0);
    assert_int_equal(lists, 2);
    assert_int_equal(manifests, 2);
    lh_ice_table_close(t);
    lh_arena_release(&a);
    fx_release(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_icebird_partitioned),
        cmocka_unit_test(test_icebird_position_deletes),
        cmocka_unit_test(test_icebird_schema_evolution),
        cmocka_unit_test(test_avsc_reads_manifests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
