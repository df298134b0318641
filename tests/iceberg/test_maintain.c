/*
 * Maintenance: expiring snapshots deletes exactly the files only they
 * used (a replaced data file, old manifest lists) and keeps what retained
 * snapshots read; orphan removal deletes unreferenced files past the
 * cutoff and nothing a snapshot lists; the table reads the same rows
 * before and after. Through lh_iceberg_maintain, as `lakehouse iceberg
 * maintain` calls it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ice_write.h"

static bool
exists_loc(const lh_ice_table *t, const char *loc)
{
    char key[1100];
    lh_err err;
    assert_int_equal(lh_ice_table_key(t, loc, key, sizeof(key), &err), LH_OK);
    lh_io_info info;
    return lh_io_head(lh_ice_table_store(t), key, &info, &err) == LH_OK;
}

static void
maintain(fixture *fx, const char *older, int retain, bool orphans,
         const char *orphans_older, char *out, size_t n)
{
    char table[300];
    snprintf(table, sizeof(table), "%s/t", fx->dir);
    lh_iceberg_maintain_opts o = {.expire_older_than = older,
                                  .retain_last = retain,
                                  .remove_orphans = orphans,
                                  .orphans_older_than = orphans_older};
    FILE *f = tmpfile();
    lh_err err;
    lh_rc rc = lh_iceberg_maintain(table, &o, f, &err);
    if (rc != LH_OK) {
        fail_msg("maintain: %s", err.msg);
    }
    rewind(f);
    size_t got = fread(out, 1, n - 1, f);
    out[got] = 0;
    fclose(f);
}

static void
test_expire_and_orphans(void **state)
{
    (void)state;
    fixture fx;
    fx_init(&fx, false);
    lh_ice_table *t = create(&fx, 2);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_data_file f0 = write_file(t, &fx, &a, 0, 100, 1);
    lh_ice_change c0 = {.add = &f0, .nadd = 1};
    commit(t, &c0);
    lh_ice_data_file f1 = write_file(t, &fx, &a, 100, 100, 1);
    lh_ice_change c1 = {.add = &f1, .nadd = 1};
    commit(t, &c1);
    /* Rewrite f0 (compaction): f0 is then needed only by the first two
     * snapshots. */
    lh_ice_data_file f0b = write_file(t, &fx, &a, 0, 100, 1);
    const char *rm[] = {f0.path};
    lh_ice_change r = {.operation = "replace",
                       .add = &f0b,
                       .nadd = 1,
                       .remove = rm,
                       .nremove = 1};
    commit(t, &r);
    lh_ice_data_file f2 = write_file(t, &fx, &a, 200, 50, 1);
    lh_ice_change c2 = {.add = &f2, .nadd = 1};
    commit(t, &c2);
    const lh_ice_meta *m = lh_ice_table_meta(t);
    assert_int_equal(m->nsnapshots, 4);
    const char *first_list = lh_arena_strdup(&a, m->snapshots[0].manifest_list);
    const char *last_list = lh_arena_strdup(&a, m->snapshots[3].manifest_list);
    int64_t count, sum;
    scan_ids(t, NULL, &count, &sum, NULL);
    assert_int_equal(count, 250);

    /* A cutoff before every snapshot: nothing expires. */
    char out[512];
    maintain(&fx, "2000-01-01T00:00:00Z", 1, false, NULL, out, sizeof(out));
    assert_non_null(strstr(out, "\"expired_snapshots\":0"));
    /* Keep the newest two: the first two go, and f0 with them. */
    maintain(&fx, "2999-01-01T00:00:00Z", 2, false, NULL, out, sizeof(out));
    assert_non_null(strstr(out, "\"expired_snapshots\":2"));
    assert_non_null(strstr(out, "\"snapshots\":2"));
    lh_ice_table *t2 = reopen(&fx);
    assert_int_equal(lh_ice_table_meta(t2)->nsnapshots, 2);
    assert_false(exists_loc(t2, f0.path));
    assert_false(exists_loc(t2, first_list));
    assert_true(exists_loc(t2, f0b.path));
    assert_true(exists_loc(t2, f1.path));
    assert_true(exists_loc(t2, f2.path));
    assert_true(exists_loc(t2, last_list));
    scan_ids(t2, NULL, &count, &sum, NULL);
    assert_int_equal(count, 250);
    assert_int_equal(sum, 250LL * 249 / 2);
    /* Time travel to an expired snapshot is refused, by id. */
    lh_arena pa;
    lh_arena_init(&pa, 0);
    lh_ice_plan plan;
    lh_err err;
    lh_ice_scan_opts old = {.has_snapshot_id = true,
                            .snapshot_id = m->snapshots[0].snapshot_id};
    assert_int_equal(lh_ice_plan_scan(t2, &old, &pa, &plan, &err), LH_ENOENT);
    lh_arena_release(&pa);

    /* Orphans: a stray file under data/ goes, referenced files stay. */
    char stray[400];
    snprintf(stray, sizeof(stray), "%s/t/data/stray.parquet", fx.dir);
    FILE *sf = fopen(stray, "w");
    fputs("junk", sf);
    fclose(sf);
    /* Younger than the cutoff: kept (it may be a commit in flight). */
    maintain(&fx, "2000-01-01T00:00:00Z", 1, true, "2000-01-01T00:00:00Z", out,
             sizeof(out));
    assert_non_null(strstr(out, "\"orphans_removed\":0"));
    struct stat st;
    assert_int_equal(stat(stray, &st), 0);
    maintain(&fx, "2000-01-01T00:00:00Z", 1, true, "2999-01-01T00:00:00Z", out,
             sizeof(out));
    assert_non_null(strstr(out, "\"orphans_removed\":1"));
    assert_int_not_equal(stat(stray, &st), 0);
    lh_ice_table *t3 = reopen(&fx);
    scan_ids(t3, NULL, &count, &sum, NULL);
    assert_int_equal(count, 250);
    assert_true(exists_loc(t3, f2.path));
    lh_ice_table_close(t3);
    lh_ice_table_close(t2);
    lh_ice_table_close(t);
    lh_arena_release(&a);
    fx_release(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expire_and_orphans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
