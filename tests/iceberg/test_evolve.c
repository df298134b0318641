/*
 * Schema and partition evolution as commits, read by field id: a rename
 * reads the old files' column under the new name, a dropped column is
 * gone, a new column reads NULL (or its initial-default) from old files,
 * columns come in the new order, int widens to long; refused changes name
 * the field; a new partition spec applies to new files while old files
 * keep theirs and still prune by it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ice_write.h"

static lh_ice_schema
parse(lh_arena *a, const char *json)
{
    lh_ice_schema s;
    lh_err err;
    lh_rc rc = lh_ice_schema_parse_json(json, strlen(json), a, &s, &err);
    if (rc != LH_OK) {
        fail_msg("%s", err.msg);
    }
    return s;
}

static void
test_schema_evolution(void **state)
{
    (void)state;
    fixture fx;
    fx_init(&fx, false);
    lh_ice_table *t = create(&fx, 2);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_data_file f = write_file(t, &fx, &a, 0, 50, 7);
    lh_ice_change c = {.add = &f, .nadd = 1};
    commit(t, &c);
    /* Rename name -> label, drop amount, add note (default "n/a") first. */
    lh_ice_schema s2 = parse(
        &a,
        "{\"type\":\"struct\",\"fields\":["
        "{\"id\":5,\"name\":\"note\",\"required\":false,\"type\":\"string\","
        "\"initial-default\":\"n/a\",\"write-default\":\"n/a\"},"
        "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
        "{\"id\":2,\"name\":\"label\",\"required\":false,\"type\":"
        "\"string\"},"
        "{\"id\":3,\"name\":\"day\",\"required\":false,\"type\":\"date\"}]}");
    lh_err err;
    assert_int_equal(lh_ice_update_schema(t, &s2, &err), LH_OK);
    const lh_ice_meta *m = lh_ice_table_meta(t);
    assert_int_equal(m->nschemas, 2);
    assert_int_equal(m->current_schema_id, 1);
    assert_int_equal(m->last_column_id, 5);
    const lh_ice_field *note =
        lh_ice_schema_find(lh_ice_meta_current_schema(m), 5);
    assert_true(note->initial_default.set);
    assert_int_equal(note->initial_default.v.u.s.len, 3);
    /* The old file, by field id under the new schema. */
    lh_arena pa;
    lh_arena_init(&pa, 0);
    lh_ice_plan plan;
    assert_int_equal(lh_ice_plan_scan(t, NULL, &pa, &plan, &err), LH_OK);
    assert_int_equal(plan.schema->schema_id, 1);
    int32_t ids[] = {5, 1, 2};
    lh_ice_reader *r;
    assert_int_equal(
        lh_ice_read_open(t, &plan, &plan.tasks[0], ids, 3, &r, &err), LH_OK);
    lh_batch b;
    assert_int_equal(lh_ice_read_next(r, &b, &err), LH_OK);
    assert_int_equal(b.count, 50);
    lh_value v;
    assert_int_equal(lh_vector_value(&b.cols[0], 3, &pa, &v, &err), LH_OK);
    assert_false(v.is_null);
    assert_int_equal(v.u.s.len, 3);
    assert_memory_equal(v.u.s.p, "n/a", 3); /* initial-default */
    assert_int_equal(lh_vector_value(&b.cols[2], 3, &pa, &v, &err), LH_OK);
    assert_memory_equal(v.u.s.p, "n3", 2); /* "name" renamed "label" */
    lh_ice_read_close(r);
    lh_arena_release(&pa);
    /* The dropped column is gone from the schema: --where on it fails. */
    assert_null(
        lh_ice_schema_find_name(lh_ice_meta_current_schema(m), "amount"));

    /* Refused changes. */
    lh_ice_schema bad = parse(
        &a,
        "{\"type\":\"struct\",\"fields\":["
        "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"string\"}]}");
    assert_int_equal(lh_ice_update_schema(t, &bad, &err), LH_EINVAL);
    assert_non_null(strstr(err.msg, "cannot change from long to string"));
    lh_ice_schema bad2 = parse(
        &a, "{\"type\":\"struct\",\"fields\":["
            "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
            "{\"id\":6,\"name\":\"x\",\"required\":true,\"type\":\"int\"}]}");
    assert_int_equal(lh_ice_update_schema(t, &bad2, &err), LH_EINVAL);
    assert_non_null(strstr(err.msg, "needs an initial-default"));
    lh_ice_schema bad3 = parse(
        &a,
        "{\"type\":\"struct\",\"fields\":["
        "{\"id\":2,\"name\":\"x\",\"required\":true,\"type\":\"string\"}]}");
    assert_int_equal(lh_ice_update_schema(t, &bad3, &err), LH_EINVAL);
    assert_non_null(strstr(err.msg, "cannot become required"));

    /* A handle opened before another schema update applies its own on
     * the new base (it re-reads first): dropped ids cannot come back. */
    lh_ice_table *stale = reopen(&fx);
    lh_ice_schema s3 = parse(
        &a, "{\"type\":\"struct\",\"fields\":["
            "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
            "{\"id\":2,\"name\":\"label\",\"required\":false,\"type\":"
            "\"string\"}]}");
    assert_int_equal(lh_ice_update_schema(t, &s3, &err), LH_OK);
    assert_int_equal(lh_ice_update_schema(stale, &s2, &err), LH_EINVAL);
    assert_non_null(strstr(err.msg, "above last-column-id"));
    lh_ice_schema s4 = parse(
        &a, "{\"type\":\"struct\",\"fields\":["
            "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
            "{\"id\":2,\"name\":\"title\",\"required\":false,\"type\":"
            "\"string\"}]}");
    assert_int_equal(lh_ice_update_schema(stale, &s4, &err), LH_OK);
    assert_non_null(lh_ice_schema_find_name(
        lh_ice_meta_current_schema(lh_ice_table_meta(stale)), "title"));
    assert_int_equal(lh_ice_table_meta(stale)->nschemas, 4);
    lh_ice_table_close(stale);
    lh_ice_table_close(t);
    lh_arena_release(&a);
    fx_release(&fx);
}

static void
test_int_to_long(void **state)
{
    (void)state;
    fixture fx;
    fx_init(&fx, false);
    lh_arena a;
    lh_arena_init(&a, 0);
    /* A table whose "day" is an int first (written so), then a long. */
    fx.schema = parse(
        &a,
        "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
        "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
        "{\"id\":2,\"name\":\"name\",\"required\":false,\"type\":\"string\"},"
        "{\"id\":3,\"name\":\"day\",\"required\":false,\"type\":\"int\"},"
        "{\"id\":4,\"name\":\"amount\",\"required\":false,\"type\":"
        "\"float\"}]}");
    lh_ice_table *t = create(&fx, 2);
    lh_ice_data_writer *w;
    lh_err err;
    assert_int_equal(lh_ice_data_writer_open(&fx.schema, &fx.spec, &w, &err),
                     LH_OK);
    lh_batch b;
    make_batch(&a, 0, 10, 5, &b);
    b.cols[2].type.id = LH_T_INTEGER; /* DATE and INTEGER share int32 */
    b.cols[3].type.id = LH_T_REAL;
    float *fl = lh_arena_alloc(&a, 10 * sizeof(float));
    for (int i = 0; i < 10; i++) {
        fl[i] = (float)i / 4;
    }
    b.cols[3].data = fl;
    assert_int_equal(lh_ice_data_writer_write(w, &b, &err), LH_OK);
    char loc[600];
    snprintf(loc, sizeof(loc), "%s/data/int.parquet",
             lh_ice_table_meta(t)->location);
    lh_ice_data_file f;
    assert_int_equal(lh_ice_data_writer_close(w, t, loc, &a, &f, &err), LH_OK);
    lh_ice_change c = {.add = &f, .nadd = 1};
    commit(t, &c);
    lh_ice_schema wide = parse(
        &a,
        "{\"type\":\"struct\",\"fields\":["
        "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
        "{\"id\":2,\"name\":\"name\",\"required\":false,\"type\":\"string\"},"
        "{\"id\":3,\"name\":\"day\",\"required\":false,\"type\":\"long\"},"
        "{\"id\":4,\"name\":\"amount\",\"required\":false,\"type\":"
        "\"double\"}]}");
    assert_int_equal(lh_ice_update_schema(t, &wide, &err), LH_OK);
    /* Bounds written as 4-byte ints still prune a long predicate. */
    lh_value big = {.type = {.id = LH_T_BIGINT}, .u.i = 6};
    lh_ice_expr e = {
        .op = LH_ICE_OP_GE, .field_id = 3, .lits = &big, .nlits = 1};
    lh_arena pa;
    lh_arena_init(&pa, 0);
    lh_ice_plan plan;
    lh_ice_scan_opts so = {.filter = &e};
    assert_int_equal(lh_ice_plan_scan(t, &so, &pa, &plan, &err), LH_OK);
    assert_int_equal(plan.ntasks, 0);
    so.filter = NULL;
    assert_int_equal(lh_ice_plan_scan(t, &so, &pa, &plan, &err), LH_OK);
    int32_t ids[] = {3, 4};
    lh_ice_reader *r;
    assert_int_equal(
        lh_ice_read_open(t, &plan, &plan.tasks[0], ids, 2, &r, &err), LH_OK);
    lh_batch out;
    assert_int_equal(lh_ice_read_next(r, &out, &err), LH_OK);
    assert_int_equal(out.cols[0].type.id, LH_T_BIGINT);
    assert_int_equal(((const int64_t *)out.cols[0].data)[9], 5);
    assert_int_equal(out.cols[1].type.id, LH_T_DOUBLE);
    assert_true(((const double *)out.cols[1].data)[9] == 2.25);
    lh_ice_read_close(r);
    lh_arena_release(&pa);
    lh_ice_table_close(t);
    lh_arena_release(&a);
    fx_release(&fx);
}

static void
test_partition_evolution(void **state)
{
    (void)state;
    fixture fx;
    fx_init(&fx, false); /* unpartitioned first */
    lh_ice_table *t = create(&fx, 2);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_data_file f0 = write_file(t, &fx, &a, 0, 100, 1);
    lh_ice_change c0 = {.add = &f0, .nadd = 1};
    commit(t, &c0);
    /* Then by day(day). */
    fixture part;
    fx_init(&part, true);
    lh_err err;
    assert_int_equal(lh_ice_update_spec(t, &part.spec, &err), LH_OK);
    const lh_ice_meta *m = lh_ice_table_meta(t);
    assert_int_equal(m->nspecs, 2);
    assert_int_equal(m->default_spec_id, 1);
    assert_int_equal(m->specs[1].fields[0].field_id, 1000);
    lh_ice_partition_spec spec1 = m->specs[1];
    fx.spec = spec1;
    lh_ice_data_file f1 = write_file(t, &fx, &a, 100, 100, 2);
    lh_ice_data_file f2 = write_file(t, &fx, &a, 200, 100, 3);
    lh_ice_data_file both[2] = {f1, f2};
    lh_ice_change c1 = {.add = both, .nadd = 2};
    commit(t, &c1);
    int64_t count, sum;
    uint32_t tasks;
    scan_ids(t, NULL, &count, &sum, &tasks);
    assert_int_equal(count, 300);
    assert_int_equal(tasks, 3);
    /* day = 3: the old unpartitioned file stays (its bounds say day 1 and
     * prune it), the day-2 file is pruned by its partition. */
    lh_value d3 = {.type = {.id = LH_T_DATE}, .u.i = 3};
    lh_ice_expr e = {
        .op = LH_ICE_OP_EQ, .field_id = 3, .lits = &d3, .nlits = 1};
    scan_ids(t, &e, &count, &sum, &tasks);
    assert_int_equal(tasks, 1);
    assert_int_equal(count, 100);
    /* The same spec again: no new spec. */
    assert_int_equal(lh_ice_update_spec(t, &part.spec, &err), LH_OK);
    assert_int_equal(lh_ice_table_meta(t)->nspecs, 2);
    lh_ice_table_close(t);
    lh_arena_release(&a);
    fx_release(&part);
    fx_release(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_evolution),
        cmocka_unit_test(test_int_to_long),
        cmocka_unit_test(test_partition_evolution),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
