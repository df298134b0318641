/*
 * The SQLite catalog: the JDBC / pyiceberg tables and columns, the
 * pointer swap as a conditional UPDATE (a stale writer's swap fails and
 * its commit retries on the new base; racing writers with their own
 * connections all land), previous_metadata_location kept, and DIR:NAME
 * tables of a lakehouse database through the public scan call.
 */
#include <pthread.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "ice_write.h"

typedef struct cat_fx {
    fixture fx;
    char db[300];   /* the lakehouse database folder */
    char path[400]; /* DB/iceberg/catalog.db */
    char folder[400], loc[420];
} cat_fx;

static void
cat_init(cat_fx *c)
{
    fx_init(&c->fx, false);
    snprintf(c->db, sizeof(c->db), "%s/db", c->fx.dir);
    lh_err err;
    assert_int_equal(lh_db_init(c->db, &err), LH_OK);
    char ice[350];
    snprintf(ice, sizeof(ice), "%s/iceberg", c->db);
    assert_int_equal(mkdir(ice, 0755), 0);
    snprintf(c->path, sizeof(c->path), "%s/catalog.db", ice);
    snprintf(c->folder, sizeof(c->folder), "%s/warehouse/default/events", ice);
    snprintf(c->loc, sizeof(c->loc), "file://%s", c->folder);
}

static lh_ice_table *
load(lh_ice_catalog *cat)
{
    lh_ice_table *t;
    lh_err err;
    lh_rc rc =
        lh_ice_catalog_load_table(cat, "default", "events", NULL, &t, &err);
    if (rc != LH_OK) {
        fail_msg("load: %s", err.msg);
    }
    return t;
}

static void
test_catalog_tables(void **state)
{
    (void)state;
    cat_fx c;
    cat_init(&c);
    lh_ice_catalog *cat;
    lh_err err;
    assert_int_equal(lh_ice_catalog_open(c.path, NULL, &cat, &err), LH_OK);
    lh_ice_create_opts co = {.location = c.loc};
    lh_ice_table *t;
    lh_rc rc =
        lh_ice_catalog_create_table(cat, "default", "events", c.folder,
                                    &c.fx.schema, &c.fx.spec, &co, &t, &err);
    if (rc != LH_OK) {
        fail_msg("create: %s", err.msg);
    }
    lh_ice_table *dup;
    assert_int_equal(lh_ice_catalog_create_table(cat, "default", "events",
                                                 c.folder, &c.fx.schema,
                                                 &c.fx.spec, &co, &dup, &err),
                     LH_EEXIST);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_table *stale = load(cat);
    for (int i = 0; i < 3; i++) {
        lh_ice_data_file f = write_file(t, &c.fx, &a, i * 10, 10, 1);
        lh_ice_change ch = {.add = &f, .nadd = 1};
        commit(t, &ch);
    }
    /* The stale handle's commit loses the swap once, then lands. */
    lh_ice_data_file f = write_file(stale, &c.fx, &a, 30, 10, 1);
    lh_ice_change ch = {.add = &f, .nadd = 1};
    commit(stale, &ch);
    lh_ice_table *t2 = load(cat);
    int64_t count, sum;
    scan_ids(t2, NULL, &count, &sum, NULL);
    assert_int_equal(count, 40);
    assert_int_equal(sum, 40 * 39 / 2);
    assert_int_equal(lh_ice_table_meta(t2)->nsnapshots, 4);

    /* What Iceberg's JDBC catalog and pyiceberg read. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(c.path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT catalog_name, table_namespace, table_name, "
                           "metadata_location, previous_metadata_location, "
                           "iceberg_type FROM iceberg_tables",
                           -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "lakehouse");
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "default");
    assert_string_equal((const char *)sqlite3_column_text(st, 2), "events");
    const char *cur = (const char *)sqlite3_column_text(st, 3);
    const char *prev = (const char *)sqlite3_column_text(st, 4);
    assert_non_null(strstr(cur, "/metadata/00004-"));
    assert_non_null(strstr(prev, "/metadata/00003-"));
    assert_true(strncmp(cur, c.loc, strlen(c.loc)) == 0);
    assert_string_equal((const char *)sqlite3_column_text(st, 5), "TABLE");
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT catalog_name, namespace, "
                                        "property_key, property_value FROM "
                                        "iceberg_namespace_properties",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* DIR:NAME through the public API, as `lakehouse iceberg scan` has it. */
    char table[400];
    snprintf(table, sizeof(table), "%s:events", c.db);
    lh_iceberg_scan_opts so = {.base = {.format = "csv"}, .columns = "id"};
    FILE *out = tmpfile();
    rc = lh_iceberg_scan(table, &so, out, &err);
    if (rc != LH_OK) {
        fail_msg("scan %s: %s", table, err.msg);
    }
    rewind(out);
    char line[64];
    int lines = 0;
    while (fgets(line, sizeof(line), out) != NULL) {
        lines++;
    }
    fclose(out);
    assert_int_equal(lines, 41);
    snprintf(table, sizeof(table), "%s:default.nope", c.db);
    out = tmpfile();
    assert_int_equal(lh_iceberg_scan(table, &so, out, &err), LH_ENOENT);
    assert_non_null(strstr(err.msg, "default.nope"));
    fclose(out);

    lh_ice_table_close(t2);
    lh_ice_table_close(stale);
    lh_ice_table_close(t);
    lh_ice_catalog_close(cat);
    lh_arena_release(&a);
    fx_release(&c.fx);
}

typedef struct racer {
    cat_fx *c;
    int id;
    char msg[512];
    lh_rc rc;
} racer;

static void *
race(void *arg)
{
    racer *r = arg;
    lh_ice_catalog *cat;
    lh_err err;
    r->rc = lh_ice_catalog_open(r->c->path, NULL, &cat, &err);
    lh_ice_table *t = r->rc == LH_OK ? load(cat) : NULL;
    lh_arena a;
    lh_arena_init(&a, 0);
    for (int i = 0; r->rc == LH_OK && i < 6; i++) {
        lh_ice_data_file f =
            write_file(t, &r->c->fx, &a, (r->id * 6 + i) * 10, 10, 1);
        lh_ice_change ch = {.add = &f, .nadd = 1};
        r->rc = lh_ice_commit(t, &ch, NULL, &err);
    }
    if (r->rc != LH_OK) {
        snprintf(r->msg, sizeof(r->msg), "%s", err.msg);
    }
    lh_arena_release(&a);
    lh_ice_table_close(t);
    lh_ice_catalog_close(cat);
    return NULL;
}

static void
test_catalog_race(void **state)
{
    (void)state;
    cat_fx c;
    cat_init(&c);
    lh_ice_catalog *cat;
    lh_err err;
    assert_int_equal(lh_ice_catalog_open(c.path, NULL, &cat, &err), LH_OK);
    lh_ice_create_opts co = {.location = c.loc};
    lh_ice_table *t;
    assert_int_equal(lh_ice_catalog_create_table(cat, "default", "events",
                                                 c.folder, &c.fx.schema,
                                                 &c.fx.spec, &co, &t, &err),
                     LH_OK);
    enum { WRITERS = 4 };
    racer rs[WRITERS];
    pthread_t th[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        rs[i] = (racer){&c, i, "", LH_OK};
        pthread_create(&th[i], NULL, race, &rs[i]);
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(th[i], NULL);
        if (rs[i].rc != LH_OK) {
            fail_msg("writer %d: %s", i, rs[i].msg);
        }
    }
    lh_ice_table *t2 = load(cat);
    int64_t count, sum;
    scan_ids(t2, NULL, &count, &sum, NULL);
    assert_int_equal(count, WRITERS * 60);
    assert_int_equal(sum, (int64_t)WRITERS * 60 * (WRITERS * 60 - 1) / 2);
    assert_int_equal(lh_ice_table_meta(t2)->nsnapshots, WRITERS * 6);
    lh_ice_table_close(t2);
    lh_ice_table_close(t);
    lh_ice_catalog_close(cat);
    fx_release(&c.fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalog_tables),
        cmocka_unit_test(test_catalog_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
