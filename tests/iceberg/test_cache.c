/*
 * The process-wide cache of parsed metadata, manifest lists and manifests
 * (iceberg_int.h, "cache.c"):
 *   - a second open and plan of an unchanged table hits for all three;
 *   - a commit by another handle, and by another process, is seen by the
 *     next open (and refresh) at once;
 *   - a table removed and made again at the same folder (v1.metadata.json
 *     and v2.metadata.json written again, another shape) reads only its
 *     own rows;
 *   - a tiny budget (every entry evicted, or only a few held) gives the
 *     answers of no cache at all;
 *   - threads opening, planning and reading while commits land, with the
 *     default budget and with one that evicts all the time.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ice_write.h"

static lh_ice_cache_stats
stats(void)
{
    lh_ice_cache_stats st;
    lh_ice_cache_stats_get(&st);
    return st;
}

/* Appends rows [first, first + n) of day `day` as one commit. */
static void
append_rows(lh_ice_table *t, fixture *fx, int64_t first, uint32_t n,
            int32_t day)
{
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_data_file f = write_file(t, fx, &a, first, n, day);
    lh_ice_change c = {.add = &f, .nadd = 1};
    commit(t, &c);
    lh_arena_release(&a);
}

static void
expect_rows(fixture *fx, int64_t first, int64_t count)
{
    lh_ice_table *t = reopen(fx);
    int64_t n, sum;
    scan_ids(t, NULL, &n, &sum, NULL);
    assert_int_equal(n, count);
    assert_int_equal(sum, count * first + count * (count - 1) / 2);
    lh_ice_table_close(t);
}

static int
setup(void **state)
{
    (void)state;
    lh_ice_cache_set_budget((size_t)64 << 20);
    lh_ice_cache_clear();
    return 0;
}

static void
test_hits_and_commits_seen(void **state)
{
    (void)state;
    fixture fx;
    fx_init(&fx, true);
    lh_ice_table *w = create(&fx, 2);
    append_rows(w, &fx, 0, 100, 20000);
    expect_rows(&fx, 0, 100);
    /* unchanged: the metadata, the list and the manifest all hit */
    lh_ice_cache_stats before = stats();
    expect_rows(&fx, 0, 100);
    lh_ice_cache_stats after = stats();
    assert_int_equal(after.misses, before.misses);
    assert_true(after.hits >= before.hits + 3);
    assert_true(after.entries >= 3);

    /* a commit by another handle: the next open sees it, and so does a
     * refresh of a handle opened before it */
    lh_ice_table *r = reopen(&fx);
    append_rows(w, &fx, 100, 100, 20001);
    expect_rows(&fx, 0, 200);
    lh_err err;
    assert_int_equal(lh_ice_table_refresh(r, &err), LH_OK);
    int64_t n, sum;
    scan_ids(r, NULL, &n, &sum, NULL);
    assert_int_equal(n, 200);
    lh_ice_table_close(r);

    /* a commit by another process */
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        lh_ice_table *c = reopen(&fx);
        append_rows(c, &fx, 200, 100, 20002);
        lh_ice_table_close(c);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    expect_rows(&fx, 0, 300);

    /* a delete by the first handle (files of day 20000 removed) */
    assert_int_equal(lh_ice_table_refresh(w, &err), LH_OK);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_plan plan;
    assert_int_equal(lh_ice_plan_scan(w, NULL, &a, &plan, &err), LH_OK);
    const char *gone = NULL;
    for (uint32_t i = 0; i < plan.ntasks; i++) {
        if (plan.tasks[i].file->partition[0].u.i == 20000) {
            gone = plan.tasks[i].file->path;
        }
    }
    assert_non_null(gone);
    lh_ice_change c = {.remove = &gone, .nremove = 1};
    commit(w, &c);
    lh_arena_release(&a);
    expect_rows(&fx, 100, 200);
    lh_ice_table_close(w);
    fx_release(&fx);
}

static const char *const OTHER_SCHEMA =
    "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":2,\"name\":\"label\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":3,\"name\":\"day\",\"required\":false,\"type\":\"date\"},"
    "{\"id\":4,\"name\":\"amount\",\"required\":false,\"type\":\"double\"}"
    "]}";

/* The trap of DROP TABLE: a table made again in the same folder writes
 * v1.metadata.json, v2.metadata.json... again; the cache must not hand
 * back the old table's parse of them, nor its manifests. */
static void
test_same_folder_made_again(void **state)
{
    (void)state;
    fixture fx;
    fx_init(&fx, false);
    lh_ice_table *t = create(&fx, 2);
    append_rows(t, &fx, 0, 100, 20000);
    append_rows(t, &fx, 100, 100, 20000);
    lh_ice_table_close(t);
    expect_rows(&fx, 0, 200);
    expect_rows(&fx, 0, 200); /* cached now */

    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/t'", fx.dir);
    assert_int_equal(system(cmd), 0);
    /* another shape: a column renamed and partitioned by day */
    fixture fy;
    fx_init(&fy, true);
    snprintf(fy.dir, sizeof(fy.dir), "%s", fx.dir);
    lh_err err;
    assert_int_equal(lh_ice_schema_parse_json(OTHER_SCHEMA,
                                              strlen(OTHER_SCHEMA), &fy.a,
                                              &fy.schema, &err),
                     LH_OK);
    t = create(&fy, 2);
    append_rows(t, &fy, 5000, 30, 20010);
    lh_ice_table_close(t);
    expect_rows(&fy, 5000, 30);
    t = reopen(&fy);
    const lh_ice_meta *m = lh_ice_table_meta(t);
    assert_string_equal(lh_ice_meta_current_schema(m)->type.fields[1].name,
                        "label");
    assert_int_equal(lh_ice_meta_spec(m, m->default_spec_id)->nfields, 1);
    lh_ice_table_close(t);
    lh_arena_release(&fy.a);
    fx_release(&fx);
}

/* Count and sum of the ids of the rows with day >= `from`, without
 * cmocka (threads call it): LH_OK or the failing call's code. */
static lh_rc
count_from(const char *table, int32_t from, int64_t *count, int64_t *sum)
{
    lh_ice_table *t;
    lh_err err;
    lh_rc rc = lh_ice_table_open(table, NULL, &t, &err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_value lit = {.type = {.id = LH_T_DATE}};
    lit.u.i = from;
    lh_ice_expr e = {
        .op = LH_ICE_OP_GE, .field_id = 3, .lits = &lit, .nlits = 1};
    lh_ice_scan_opts so = {.filter = from > 0 ? &e : NULL};
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_plan plan;
    rc = lh_ice_plan_scan(t, &so, &a, &plan, &err);
    *count = *sum = 0;
    int32_t ids[] = {1, 3};
    for (uint32_t i = 0; rc == LH_OK && i < plan.ntasks; i++) {
        lh_ice_reader *r = NULL;
        rc = lh_ice_read_open(t, &plan, &plan.tasks[i], ids, 2, &r, &err);
        while (rc == LH_OK) {
            lh_batch b;
            rc = lh_ice_read_next(r, &b, &err);
            if (rc != LH_OK || b.count == 0) {
                break;
            }
            uint32_t n = b.sel ? b.nsel : b.count;
            for (uint32_t k = 0; k < n; k++) {
                uint32_t row = b.sel ? b.sel[k] : k;
                if (((const int32_t *)b.cols[1].data)[row] >= from) {
                    (*count)++;
                    *sum += ((const int64_t *)b.cols[0].data)[row];
                }
            }
        }
        lh_ice_read_close(r);
    }
    lh_arena_release(&a);
    lh_ice_table_close(t);
    return rc;
}

/* 12 commits of 50 rows, day 20000 + i: answers with the cache off, then
 * with budgets that evict everything or hold only a few entries, must be
 * the same. */
static void
test_tiny_budget(void **state)
{
    (void)state;
    fixture fx;
    fx_init(&fx, true);
    lh_ice_table *t = create(&fx, 2);
    for (int i = 0; i < 12; i++) {
        append_rows(t, &fx, i * 50, 50, 20000 + i);
    }
    lh_ice_table_close(t);
    char table[300];
    snprintf(table, sizeof(table), "%s/t", fx.dir);
    int32_t froms[] = {0, 20003, 20011, 20012};
    int64_t want[4][2];
    lh_ice_cache_set_budget(0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(count_from(table, froms[i], &want[i][0], &want[i][1]),
                         LH_OK);
    }
    assert_int_equal(want[0][0], 600);
    assert_int_equal(want[2][0], 50);
    assert_int_equal(want[3][0], 0);
    assert_int_equal(stats().entries, 0);

    /* an entry's size, to size a budget of about three */
    lh_ice_cache_set_budget((size_t)64 << 20);
    int64_t n, sum;
    assert_int_equal(count_from(table, 0, &n, &sum), LH_OK);
    lh_ice_cache_stats full = stats();
    assert_true(full.entries >= 13); /* metadata, list, 12 manifests */
    size_t each = (size_t)(full.bytes / full.entries);
    size_t budgets[] = {1, 3 * each};
    for (size_t b = 0; b < LH_ARRAY_LEN(budgets); b++) {
        lh_ice_cache_set_budget(budgets[b]);
        lh_ice_cache_stats before = stats();
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 4; i++) {
                assert_int_equal(count_from(table, froms[i], &n, &sum), LH_OK);
                assert_int_equal(n, want[i][0]);
                assert_int_equal(sum, want[i][1]);
            }
        }
        lh_ice_cache_stats after = stats();
        assert_true(after.bytes <= budgets[b]);
        if (b > 0) {
            assert_true(after.evictions > before.evictions);
            assert_true(after.hits > before.hits);
        }
    }
    lh_ice_cache_set_budget((size_t)64 << 20);
    fx_release(&fx);
}

typedef struct reader_ctx {
    const char *table;
    atomic_bool *stop;
    atomic_int failures;
    int64_t reads;
} reader_ctx;

/* Every answer must be a whole number of commits (50 rows each, ids
 * 0..n-1) and never fewer than the thread saw before. */
static void *
reader(void *arg)
{
    reader_ctx *c = arg;
    int64_t last = 0;
    while (!atomic_load(c->stop) || c->reads < 5) {
        int64_t n, sum;
        if (count_from(c->table, 0, &n, &sum) != LH_OK || n % 50 != 0 ||
            sum != n * (n - 1) / 2 || n < last) {
            atomic_fetch_add(&c->failures, 1);
        }
        last = n;
        c->reads++;
    }
    return NULL;
}

static void
concurrent(size_t budget)
{
    lh_ice_cache_set_budget(budget);
    fixture fx;
    fx_init(&fx, true);
    lh_ice_table *t = create(&fx, 2);
    append_rows(t, &fx, 0, 50, 20000);
    char table[300];
    snprintf(table, sizeof(table), "%s/t", fx.dir);
    atomic_bool stop = false;
    enum { THREADS = 3 };
    reader_ctx ctx[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        ctx[i] = (reader_ctx){.table = table, .stop = &stop};
        assert_int_equal(pthread_create(&th[i], NULL, reader, &ctx[i]), 0);
    }
    for (int i = 1; i < 15; i++) {
        append_rows(t, &fx, i * 50, 50, 20000 + i % 4);
    }
    atomic_store(&stop, true);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(atomic_load(&ctx[i].failures), 0);
        assert_true(ctx[i].reads >= 5);
    }
    int64_t n, sum;
    assert_int_equal(count_from(table, 0, &n, &sum), LH_OK);
    assert_int_equal(n, 750);
    lh_ice_table_close(t);
    fx_release(&fx);
    lh_ice_cache_set_budget((size_t)64 << 20);
}

static void
test_concurrent(void **state)
{
    (void)state;
    concurrent((size_t)64 << 20);
    concurrent(8192); /* a few entries: eviction under the readers' feet */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_hits_and_commits_seen, setup),
        cmocka_unit_test_setup(test_same_folder_made_again, setup),
        cmocka_unit_test_setup(test_tiny_budget, setup),
        cmocka_unit_test_setup(test_concurrent, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
