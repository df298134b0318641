/*
 * Writing tables: create, append, overwrite, row-level deletes (position
 * delete files, v3 deletion vectors), optimistic concurrency (a stale
 * writer's removal conflicts; racing appenders all land exactly once),
 * and what we wrote read back by our own reader: rows, metrics, manifest
 * header keys, partition summaries, version-hint.text.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "format/iceberg/iceberg_int.h"
#include "format/parquet/parquet.h"
#include "format/parquet/writer.h"
#include "ice_test.h"
#include "ice_write.h"

static void
test_append_and_read(void **state)
{
    (void)state;
    fixture fx;
    fx_init(&fx, true);
    lh_ice_table *t = create(&fx, 2);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_data_file f[3];
    f[0] = write_file(t, &fx, &a, 0, 5000, 100);
    f[1] = write_file(t, &fx, &a, 5000, 100, 101);
    lh_ice_change c = {.add = f, .nadd = 2};
    int64_t s1 = commit(t, &c);
    f[2] = write_file(t, &fx, &a, 5100, 900, 102);
    lh_ice_kv hot = {"lakehouse.hot-positions", "0:1200,1:877"};
    lh_ice_change c2 = {
        .add = &f[2], .nadd = 1, .summary = &hot, .nsummary = 1};
    int64_t s2 = commit(t, &c2);
    assert_true(s1 != s2);

    /* Metrics of the first file. */
    const lh_ice_data_file *d = &f[0];
    assert_int_equal(d->record_count, 5000);
    assert_int_equal(d->nvalue_counts, 4);
    assert_int_equal(d->null_counts[1].id, 2);
    assert_int_equal(d->null_counts[1].v, 715); /* 0, 7, ..., 4998 */
    assert_int_equal(d->nnan_counts, 1);
    assert_int_equal(d->nan_counts[0].v, 1);
    lh_ice_type t_long = {.id = LH_ICE_LONG};
    lh_value lo, hi;
    lh_err err;
    assert_int_equal(lh_ice_value_from_bytes(&t_long, d->lower[0].p,
                                             d->lower[0].n, &lo, &err),
                     LH_OK);
    assert_int_equal(lh_ice_value_from_bytes(&t_long, d->upper[0].p,
                                             d->upper[0].n, &hi, &err),
                     LH_OK);
    assert_int_equal(lo.u.i, 0);
    assert_int_equal(hi.u.i, 4999);
    assert_true(d->ncolumn_sizes == 4 && d->column_sizes[0].v > 0);
    assert_int_equal(d->partition[0].u.i, 100);

    /* Reopened from the folder: version-hint.text says 3. */
    lh_ice_table *t2 = reopen(&fx);
    const lh_ice_meta *m = lh_ice_table_meta(t2);
    assert_int_equal(m->nsnapshots, 2);
    assert_int_equal(m->current_snapshot_id, s2);
    assert_int_equal(m->last_sequence_number, 2);
    assert_non_null(strstr(lh_ice_table_metadata_key(t2), "v3.metadata.json"));
    const lh_ice_snapshot *cur = lh_ice_meta_current_snapshot(m);
    bool saw = false;
    for (uint32_t i = 0; i < cur->nsummary; i++) {
        if (strcmp(cur->summary[i].key, "lakehouse.hot-positions") == 0) {
            saw = strcmp(cur->summary[i].value, "0:1200,1:877") == 0;
        }
        if (strcmp(cur->summary[i].key, "total-records") == 0) {
            assert_string_equal(cur->summary[i].value, "6000");
        }
    }
    assert_true(saw);
    char hint[400];
    snprintf(hint, sizeof(hint), "%s/t/metadata/version-hint.text", fx.dir);
    size_t hn;
    uint8_t *hp = pq_read_file(hint, &hn);
    assert_int_equal(hn, 1);
    assert_int_equal(hp[0], '3');
    free(hp);
    int64_t count, sum;
    uint32_t tasks;
    scan_ids(t2, NULL, &count, &sum, &tasks);
    assert_int_equal(count, 6000);
    assert_int_equal(sum, 6000LL * 5999 / 2);
    assert_int_equal(tasks, 3);
    /* Partition pruning: day >= 102 keeps the last file only. */
    lh_value v102 = {.type = {.id = LH_T_DATE}, .u.i = 102};
    lh_ice_expr e = {
        .op = LH_ICE_OP_GE, .field_id = 3, .lits = &v102, .nlits = 1};
    scan_ids(t2, &e, &count, &sum, &tasks);
    assert_int_equal(tasks, 1);
    assert_int_equal(count, 900);
    /* Manifest summaries prune the first manifest (days 100-101). */
    lh_arena pa;
    lh_arena_init(&pa, 0);
    lh_ice_plan plan;
    lh_ice_scan_opts so = {.filter = &e};
    assert_int_equal(lh_ice_plan_scan(t2, &so, &pa, &plan, &err), LH_OK);
    assert_int_equal(plan.stats.manifests, 2);
    assert_int_equal(plan.stats.manifests_pruned, 1);
    /* The manifest's header keys and schema, read back. */
    lh_buf body = LH_BUF_INIT;
    assert_int_equal(
        lh_ice_table_get(t2, plan.tasks[0].file->path, &body, &err), LH_OK);
    lh_pq_file *pq;
    assert_int_equal(
        lh_pq_open_mem((const uint8_t *)body.data, body.len, "f", &pq, &err),
        LH_OK);
    const lh_pq_file_metadata *fm = lh_pq_meta(pq);
    bool has_schema = false;
    for (uint32_t i = 0; i < fm->n_key_value_metadata; i++) {
        has_schema = has_schema || strcmp(fm->key_value_metadata[i].key,
                                          "iceberg.schema") == 0;
    }
    assert_true(has_schema);
    assert_int_equal(lh_pq_column(pq, 0)->field_id, 1);
    lh_pq_close(pq);
    lh_buf_release(&body);
    lh_arena_release(&pa);
    lh_ice_table_close(t2);
    lh_ice_table_close(t);
    lh_arena_release(&a);
    fx_release(&fx);
}

static void
test_overwrite_and_conflict(void **state)
{
    (void)state;
    fixture fx;
    fx_init(&fx, false);
    lh_ice_table *t = create(&fx, 2);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_data_file f0 = write_file(t, &fx, &a, 0, 100, 1);
    lh_ice_data_file f1 = write_file(t, &fx, &a, 100, 100, 1);
    lh_ice_data_file both[2] = {f0, f1};
    lh_ice_change c = {.add = both, .nadd = 2};
    commit(t, &c);
    lh_ice_table *stale = reopen(&fx);
    /* Replace f0 by a rewrite of its rows (compaction). */
    lh_ice_data_file f0b = write_file(t, &fx, &a, 0, 100, 1);
    const char *rm[] = {f0.path};
    lh_ice_change r = {.operation = "replace",
                       .add = &f0b,
                       .nadd = 1,
                       .remove = rm,
                       .nremove = 1};
    commit(t, &r);
    int64_t count, sum;
    scan_ids(t, NULL, &count, &sum, NULL);
    assert_int_equal(count, 200);
    /* The stale handle removes f0 too: a conflict, nothing written. */
    lh_ice_change r2 = {.remove = rm, .nremove = 1};
    lh_err err;
    assert_int_equal(lh_ice_commit(stale, &r2, NULL, &err), LH_ECONFLICT);
    assert_non_null(strstr(err.msg, "no longer in the table"));
    /* The stale handle's append still lands (appends always apply). */
    lh_ice_data_file f2 = write_file(stale, &fx, &a, 200, 50, 1);
    lh_ice_change ap = {.add = &f2, .nadd = 1};
    commit(stale, &ap);
    lh_ice_table *t3 = reopen(&fx);
    scan_ids(t3, NULL, &count, &sum, NULL);
    assert_int_equal(count, 250);
    assert_int_equal(sum, 250LL * 249 / 2);
    assert_int_equal(lh_ice_table_meta(t3)->nsnapshots, 3);
    /* Delete f1 entirely. */
    const char *rm1[] = {f1.path};
    lh_ice_change del = {.remove = rm1, .nremove = 1};
    commit(t3, &del);
    scan_ids(t3, NULL, &count, &sum, NULL);
    assert_int_equal(count, 150);
    assert_string_equal(
        lh_ice_meta_current_snapshot(lh_ice_table_meta(t3))->operation,
        "delete");
    lh_ice_table_close(t3);
    lh_ice_table_close(stale);
    lh_ice_table_close(t);
    lh_arena_release(&a);
    fx_release(&fx);
}

/* A position delete file (v2) and a deletion vector (v3) on one file. */
static void
test_row_level_deletes(void **state)
{
    (void)state;
    for (int version = 2; version <= 3; version++) {
        fixture fx;
        fx_init(&fx, false);
        lh_ice_table *t = create(&fx, version);
        lh_arena a;
        lh_arena_init(&a, 0);
        lh_ice_data_file f = write_file(t, &fx, &a, 0, 3000, 1);
        lh_ice_change c = {.add = &f, .nadd = 1};
        commit(t, &c);
        static const int64_t gone[] = {0, 1, 2047, 2048, 2999};
        lh_ice_data_file d;
        memset(&d, 0, sizeof(d));
        d.content = LH_ICE_CONTENT_POSITION_DELETES;
        d.record_count = 5;
        d.referenced_data_file = f.path;
        char loc[600];
        lh_buf body = LH_BUF_INIT;
        lh_err err;
        if (version == 2) {
            /* Parquet: file_path, pos (reserved ids). */
            lh_pq_wcolumn cols[2] = {
                {.name = "file_path",
                 .type = {.id = LH_T_VARCHAR},
                 .has_field_id = true,
                 .field_id = LH_ICE_FIELD_DELETE_FILE_PATH},
                {.name = "pos",
                 .type = {.id = LH_T_BIGINT},
                 .has_field_id = true,
                 .field_id = LH_ICE_FIELD_DELETE_POS}};
            snprintf(loc, sizeof(loc), "%s/data/deletes.parquet",
                     lh_ice_table_meta(t)->location);
            char key[1100];
            assert_int_equal(lh_ice_table_key(t, loc, key, sizeof(key), &err),
                             LH_OK);
            char path[1200];
            snprintf(path, sizeof(path), "/%s", key);
            lh_pq_writer *w;
            assert_int_equal(
                lh_pq_writer_open_path(path, cols, 2, NULL, &w, &err), LH_OK);
            lh_vector v[2];
            lh_vector_alloc(&v[0], cols[0].type, 5, false, &a, &err);
            lh_vector_alloc(&v[1], cols[1].type, 5, false, &a, &err);
            for (int i = 0; i < 5; i++) {
                ((lh_str *)v[0].data)[i] =
                    lh_str_make(f.path, (uint32_t)strlen(f.path));
                ((int64_t *)v[1].data)[i] = gone[i];
            }
            lh_batch b = {.count = 5, .ncols = 2, .cols = v};
            assert_int_equal(lh_pq_writer_write(w, &b, &err), LH_OK);
            assert_int_equal(lh_pq_writer_close(w, &err), LH_OK);
            d.format = "PARQUET";
            struct stat st;
            assert_int_equal(stat(path, &st), 0);
            d.file_size = st.st_size;
        } else {
            lh_ice_dv *dv;
            assert_int_equal(lh_ice_dv_new(&dv, &err), LH_OK);
            for (int i = 0; i < 5; i++) {
                lh_ice_dv_add(dv, gone[i], &err);
            }
            lh_buf blob = LH_BUF_INIT;
            assert_int_equal(lh_ice_dv_serialize(dv, &blob, &err), LH_OK);
            lh_ice_dv_free(dv);
            lh_ice_kv props[] = {{"referenced-data-file", f.path},
                                 {"cardinality", "5"}};
            int32_t fields[] = {LH_ICE_FIELD_POS};
            lh_ice_puffin_blob pb = {.type = "deletion-vector-v1",
                                     .fields = fields,
                                     .nfields = 1,
                                     .snapshot_id = -1,
                                     .sequence_number = -1,
                                     .properties = props,
                                     .nproperties = 2};
            assert_int_equal(
                lh_ice_puffin_write(&body, &pb, &blob, 1, "lakehouse", &err),
                LH_OK);
            lh_ice_puffin pf;
            assert_int_equal(lh_ice_puffin_read((const uint8_t *)body.data,
                                                body.len, "dv", &a, &pf, &err),
                             LH_OK);
            snprintf(loc, sizeof(loc), "%s/data/dv.puffin",
                     lh_ice_table_meta(t)->location);
            char key[1100];
            assert_int_equal(lh_ice_table_key(t, loc, key, sizeof(key), &err),
                             LH_OK);
            assert_int_equal(lh_io_put(lh_ice_table_store(t), key, body.data,
                                       body.len, NULL, &err),
                             LH_OK);
            d.format = "PUFFIN";
            d.file_size = (int64_t)body.len;
            d.has_content_offset = true;
            d.content_offset = pf.blobs[0].offset;
            d.content_size = pf.blobs[0].length;
            lh_buf_release(&blob);
        }
        d.path = loc;
        lh_ice_change dc = {.deletes = &d, .ndeletes = 1};
        commit(t, &dc);
        lh_ice_table *t2 = reopen(&fx);
        int64_t count, sum;
        scan_ids(t2, NULL, &count, &sum, NULL);
        assert_int_equal(count, 2995);
        assert_int_equal(sum, 3000LL * 2999 / 2 - (0 + 1 + 2047 + 2048 + 2999));
        assert_string_equal(
            lh_ice_meta_current_snapshot(lh_ice_table_meta(t2))->operation,
            "delete");
        if (version == 3) {
            assert_int_equal(lh_ice_table_meta(t2)->next_row_id, 3000);
        }
        lh_ice_table_close(t2);
        lh_ice_table_close(t);
        lh_buf_release(&body);
        lh_arena_release(&a);
        fx_release(&fx);
    }
}

typedef struct racer {
    fixture *fx;
    int id;
    int commits;
    lh_rc rc;
    char msg[512];
} racer;

static void *
race(void *arg)
{
    racer *r = arg;
    lh_ice_table *t = reopen(r->fx);
    lh_arena a;
    lh_arena_init(&a, 0);
    for (int i = 0; i < r->commits && r->rc == LH_OK; i++) {
        int64_t first = (int64_t)(r->id * r->commits + i) * 10;
        lh_ice_data_file f = write_file(t, r->fx, &a, first, 10, 1);
        lh_ice_change c = {.add = &f, .nadd = 1};
        lh_err err;
        r->rc = lh_ice_commit(t, &c, NULL, &err);
        if (r->rc != LH_OK) {
            snprintf(r->msg, sizeof(r->msg), "%s", err.msg);
        }
    }
    lh_arena_release(&a);
    lh_ice_table_close(t);
    return NULL;
}

/* Writers race to commit appends: every row lands exactly once. */
static void
test_concurrent_appends(void **state)
{
    (void)state;
    fixture fx;
    fx_init(&fx, false);
    lh_ice_table *t = create(&fx, 2);
    enum { WRITERS = 4, COMMITS = 8 };
    racer rs[WRITERS];
    pthread_t th[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        rs[i] = (racer){&fx, i, COMMITS, LH_OK, ""};
        pthread_create(&th[i], NULL, race, &rs[i]);
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(th[i], NULL);
        if (rs[i].rc != LH_OK) {
            fail_msg("writer %d: %s", i, rs[i].msg);
        }
    }
    lh_ice_table *t2 = reopen(&fx);
    int64_t count, sum;
    scan_ids(t2, NULL, &count, &sum, NULL);
    int64_t n = WRITERS * COMMITS * 10;
    assert_int_equal(count, n);
    assert_int_equal(sum, n * (n - 1) / 2);
    assert_int_equal(lh_ice_table_meta(t2)->nsnapshots, WRITERS * COMMITS);
    lh_ice_table_close(t2);
    lh_ice_table_close(t);
    fx_release(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_read),
        cmocka_unit_test(test_overwrite_and_conflict),
        cmocka_unit_test(test_row_level_deletes),
        cmocka_unit_test(test_concurrent_appends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
