/*
 * Conformance on the one full table written by a real engine (Spark):
 * fixtures/iceberg/tables/lineitem_iceberg, opened from its folder
 * (version-hint.text), its relative paths resolved against the folder that
 * holds it. Row counts at both snapshots, TPC-H Q6 (dbgen's SF 0.01 answer
 * at the first snapshot, PySpark's at the current one) computed from our
 * scan with a small filter and sum, time travel by id, timestamp and ref,
 * and pruning by column bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "format/iceberg/iceberg.h"
#include "ice_test.h"

#define FIRST 7817332053627255703LL
#define CURRENT 2354745328521181395LL

/* Field ids of the lineitem schema. */
enum { ORDERKEY = 1, QUANTITY = 5, PRICE = 6, DISCOUNT = 7, SHIPDATE = 11 };

static lh_ice_table *
open_lineitem(void)
{
    char path[8192];
    snprintf(path, sizeof(path), "%s/tables/lineitem_iceberg", ice_fixtures);
    lh_ice_table *t;
    lh_err err;
    lh_rc rc = lh_ice_table_open(path, NULL, &t, &err);
    if (rc != LH_OK) {
        fail_msg("%s", err.msg);
    }
    return t;
}

typedef struct q6 {
    int64_t rows;
    lh_i128 revenue; /* scale 4 */
    int64_t q6_rows;
} q6;

static q6
run(const lh_ice_table *t, const lh_ice_scan_opts *so, lh_ice_plan_stats *st)
{
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_plan plan;
    lh_err err;
    lh_rc rc = lh_ice_plan_scan(t, so, &a, &plan, &err);
    if (rc != LH_OK) {
        fail_msg("plan: %s", err.msg);
    }
    if (st != NULL) {
        *st = plan.stats;
    }
    q6 r = {0, 0, 0};
    const int32_t ids[] = {QUANTITY, PRICE, DISCOUNT, SHIPDATE};
    int32_t lo = (int32_t)lh_days_from_civil(1994, 1, 1);
    int32_t hi = (int32_t)lh_days_from_civil(1995, 1, 1);
    for (uint32_t i = 0; i < plan.ntasks; i++) {
        lh_ice_reader *rd;
        rc = lh_ice_read_open(t, &plan, &plan.tasks[i], ids, 4, &rd, &err);
        if (rc != LH_OK) {
            fail_msg("read: %s", err.msg);
        }
        for (;;) {
            lh_batch b;
            rc = lh_ice_read_next(rd, &b, &err);
            if (rc != LH_OK) {
                fail_msg("read: %s", err.msg);
            }
            if (b.count == 0) {
                break;
            }
            assert_int_equal(b.ncols, 4);
            assert_int_equal(b.cols[0].type.id, LH_T_DECIMAL);
            assert_int_equal(b.cols[0].type.precision, 15);
            assert_int_equal(b.cols[3].type.id, LH_T_DATE);
            uint32_t n = b.sel ? b.nsel : b.count;
            for (uint32_t k = 0; k < n; k++) {
                uint32_t row = b.sel ? b.sel[k] : k;
                r.rows++;
                if (!lh_vec_valid(&b.cols[0], row) ||
                    !lh_vec_valid(&b.cols[1], row) ||
                    !lh_vec_valid(&b.cols[2], row) ||
                    !lh_vec_valid(&b.cols[3], row)) {
                    continue;
                }
                int64_t qty = ((const int64_t *)b.cols[0].data)[row];
                int64_t price = ((const int64_t *)b.cols[1].data)[row];
                int64_t disc = ((const int64_t *)b.cols[2].data)[row];
                int32_t ship = ((const int32_t *)b.cols[3].data)[row];
                if (ship >= lo && ship < hi && disc >= 5 && disc <= 7 &&
                    qty < 2400) {
                    r.revenue += (lh_i128)price * disc;
                    r.q6_rows++;
                }
            }
        }
        lh_ice_read_close(rd);
    }
    lh_arena_release(&a);
    return r;
}

static void
expect_revenue(lh_i128 got, const char *want)
{
    char buf[64];
    lh_decimal_format(got, 4, buf);
    assert_string_equal(buf, want);
}

static void
test_row_counts_and_q6(void **state)
{
    (void)state;
    ICE_NEED_FIXTURES();
    lh_ice_table *t = open_lineitem();
    const lh_ice_meta *m = lh_ice_table_meta(t);
    assert_int_equal(m->current_snapshot_id, CURRENT);
    assert_non_null(strstr(lh_ice_table_metadata_key(t), "v2.metadata.json"));
    lh_ice_plan_stats st;
    q6 cur = run(t, NULL, &st);
    assert_int_equal(cur.rows, 51793);
    expect_revenue(cur.revenue, "1077536.9101");
    assert_int_equal(st.manifests, 2);
    assert_int_equal(st.files, 1); /* the DELETED entry is not live */

    lh_ice_scan_opts so = {.has_snapshot_id = true, .snapshot_id = FIRST};
    q6 first = run(t, &so, NULL);
    assert_int_equal(first.rows, 60175);
    expect_revenue(first.revenue, "1193053.2253");
    /* The same at the first snapshot's time, and one ms before the second. */
    const lh_ice_snapshot *s1 = lh_ice_meta_snapshot(m, FIRST);
    const lh_ice_snapshot *s2 = lh_ice_meta_snapshot(m, CURRENT);
    lh_ice_scan_opts at = {.has_as_of = true, .as_of_ms = s2->timestamp_ms - 1};
    assert_true(s2->timestamp_ms - 1 >= s1->timestamp_ms);
    assert_int_equal(run(t, &at, NULL).rows, 60175);
    at.as_of_ms = s2->timestamp_ms;
    assert_int_equal(run(t, &at, NULL).rows, 51793);
    lh_ice_scan_opts ref = {.ref = "main"};
    assert_int_equal(run(t, &ref, NULL).rows, 51793);
    /* Errors name what is missing. */
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_plan plan;
    lh_err err;
    lh_ice_scan_opts bad = {.has_snapshot_id = true, .snapshot_id = 42};
    assert_int_equal(lh_ice_plan_scan(t, &bad, &a, &plan, &err), LH_ENOENT);
    assert_non_null(strstr(err.msg, "42"));
    lh_ice_scan_opts early = {.has_as_of = true, .as_of_ms = 1000};
    assert_int_equal(lh_ice_plan_scan(t, &early, &a, &plan, &err), LH_ENOENT);
    lh_ice_scan_opts nref = {.ref = "nope"};
    assert_int_equal(lh_ice_plan_scan(t, &nref, &a, &plan, &err), LH_ENOENT);
    lh_arena_release(&a);
    lh_ice_table_close(t);
}

/* A filter the file's bounds rule out prunes it; one they allow keeps it,
 * and the answer stays the same. */
static void
test_pruning(void **state)
{
    (void)state;
    ICE_NEED_FIXTURES();
    lh_ice_table *t = open_lineitem();
    lh_value big = {.type = {.id = LH_T_BIGINT}, .u.i = 1000000000};
    lh_ice_expr e = {
        .op = LH_ICE_OP_GT, .field_id = ORDERKEY, .lits = &big, .nlits = 1};
    lh_ice_scan_opts so = {.filter = &e};
    lh_ice_plan_stats st;
    q6 r = run(t, &so, &st);
    assert_int_equal(r.rows, 0);
    assert_int_equal(st.files_pruned_metrics, 1);
    /* NOT (orderkey > 1e9) keeps the file. */
    lh_ice_expr not = {.op = LH_ICE_OP_NOT, .a = &e};
    so.filter = &not ;
    r = run(t, &so, &st);
    assert_int_equal(r.rows, 51793);
    assert_int_equal(st.files_pruned_metrics, 0);
    /* A date range inside the bounds keeps it; Q6 is unchanged. */
    lh_value d = {.type = {.id = LH_T_DATE},
                  .u.i = lh_days_from_civil(1994, 1, 1)};
    lh_ice_expr ge = {
        .op = LH_ICE_OP_GE, .field_id = SHIPDATE, .lits = &d, .nlits = 1};
    so.filter = &ge;
    r = run(t, &so, &st);
    expect_revenue(r.revenue, "1077536.9101");
    /* IS NULL on a column without nulls prunes. */
    lh_ice_expr isnull = {.op = LH_ICE_OP_IS_NULL, .field_id = ORDERKEY};
    so.filter = &isnull;
    r = run(t, &so, &st);
    assert_int_equal(st.files_pruned_metrics, 1);
    lh_ice_table_close(t);
}

/* Locations: relative ones against the folder holding the table, path maps
 * for tables written elsewhere, absolute ones outside the store refused. */
static void
test_locations(void **state)
{
    (void)state;
    ICE_NEED_FIXTURES();
    lh_ice_table *t = open_lineitem();
    char key[2048];
    lh_err err;
    assert_int_equal(lh_ice_table_key(t, "lineitem_iceberg/data/x.parquet", key,
                                      sizeof(key), &err),
                     LH_OK);
    assert_non_null(strstr(key, "tables/lineitem_iceberg/data/x.parquet"));
    assert_int_equal(
        lh_ice_table_key(t, "data/y.parquet", key, sizeof(key), &err), LH_OK);
    assert_non_null(strstr(key, "lineitem_iceberg/data/y.parquet"));
    assert_int_equal(
        lh_ice_table_key(t, "file:///tmp/z.parquet", key, sizeof(key), &err),
        LH_OK);
    assert_string_equal(key, "tmp/z.parquet");
    assert_int_equal(lh_ice_table_key(t, "s3://bucket/t/data/a.parquet", key,
                                      sizeof(key), &err),
                     LH_EINVAL);
    assert_non_null(strstr(err.msg, "--path-map"));
    assert_int_equal(
        lh_ice_table_key(t, "lineitem_iceberg/../../x", key, sizeof(key), &err),
        LH_EINVAL);
    lh_ice_table_close(t);

    /* The same table through a store rooted at the fixtures and a map from
     * where it "was" written. */
    char root[8192];
    snprintf(root, sizeof(root), "file://%s/tables", ice_fixtures);
    lh_ice_path_map map = {"hdfs://nn:8020/wh/", "lineitem_iceberg/"};
    lh_ice_open_opts o = {root, &map, 1};
    assert_int_equal(lh_ice_table_open("lineitem_iceberg/metadata/"
                                       "v1.metadata.json",
                                       &o, &t, &err),
                     LH_OK);
    assert_int_equal(lh_ice_table_key(t, "hdfs://nn:8020/wh/data/a.parquet",
                                      key, sizeof(key), &err),
                     LH_OK);
    assert_string_equal(key, "lineitem_iceberg/data/a.parquet");
    assert_int_equal(run(t, NULL, NULL).rows, 60175); /* v1 is current */
    lh_ice_table_close(t);
    /* No table there. */
    assert_int_equal(lh_ice_table_open("/nonexistent-dir/t", NULL, &t, &err),
                     LH_ENOENT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_row_counts_and_q6),
        cmocka_unit_test(test_pruning),
        cmocka_unit_test(test_locations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
