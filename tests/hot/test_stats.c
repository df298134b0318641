/* Table state without reading events: the head checkpoint, waiting for
 * commits from another thread, and the statistics counters. */
#include <pthread.h>
#include <sys/stat.h>

#include "hot_test.h"

typedef struct fixture {
    char *dir;
    lh_db *db;
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->dir = ht_tmpdir();
    f->db = ht_open(f->dir);
    ht_create(f->db, "{\"name\": \"ev\", \"columns\": [{\"name\": \"n\", "
                     "\"type\": \"BIGINT\"}], \"shards\": 3}");
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    lh_db_close(f->db);
    ht_rmdir(f->dir);
    free(f);
    return 0;
}

static void
append1(lh_db *db, const char *stream, int n)
{
    char data[64];
    snprintf(data, sizeof(data), "{\"n\": %d}", n);
    lh_err err;
    lh_rc rc = ht_append1(db, "ev", stream, "T", data, LH_EXPECT_ANY, 0, NULL,
                          NULL, &err);
    if (rc != LH_OK) {
        fail_msg("append %d: %s", n, err.msg);
    }
}

static int
count_after(lh_db *db, const char *ck)
{
    lh_reader *r;
    lh_err err;
    assert_int_equal(lh_read_all(db, "ev", ck, false, &r, &err), LH_OK);
    int n = 0;
    const lh_event *ev;
    while (lh_reader_next(r, &ev, &err) == LH_OK && ev != NULL) {
        n++;
    }
    lh_reader_close(r);
    return n;
}

static void
test_head(void **state)
{
    fixture *f = *state;
    lh_err err;
    char *ck = NULL;
    assert_int_equal(lh_table_head(f->db, "ev", &ck, &err), LH_OK);
    assert_string_equal(ck, "ck1.0.0.0");
    lh_free_mem(ck);
    for (int i = 0; i < 20; i++) {
        char s[16];
        snprintf(s, sizeof(s), "s%d", i % 5);
        append1(f->db, s, i);
    }
    assert_int_equal(lh_table_head(f->db, "ev", &ck, &err), LH_OK);
    /* Nothing after the head; what commits later is read from it. */
    assert_int_equal(count_after(f->db, ck), 0);
    append1(f->db, "s9", 100);
    append1(f->db, "s1", 101);
    assert_int_equal(count_after(f->db, ck), 2);
    assert_int_equal(count_after(f->db, "0"), 22);
    lh_free_mem(ck);
    assert_int_equal(lh_table_head(f->db, "nope", &ck, &err), LH_ENOENT);
    assert_null(ck);
    assert_non_null(strstr(err.msg, "\"nope\""));
    assert_string_equal(lh_db_dir(f->db), f->dir);
}

typedef struct appender {
    lh_db *db;
    int delay_ms;
} appender;

static void *
append_later(void *arg)
{
    appender *a = arg;
    usleep((useconds_t)a->delay_ms * 1000);
    append1(a->db, "late", 1);
    return NULL;
}

static void
test_wait(void **state)
{
    fixture *f = *state;
    lh_err err;
    uint64_t seen = 0;
    /* The first call returns at once when anything committed, else it
     * waits; a zero timeout only looks. */
    assert_int_equal(lh_table_wait(f->db, "ev", &seen, 0, &err), LH_ETIMEDOUT);
    append1(f->db, "a", 1);
    assert_int_equal(lh_table_wait(f->db, "ev", &seen, 0, &err), LH_OK);
    assert_int_equal(seen, 1);
    assert_int_equal(lh_table_wait(f->db, "ev", &seen, 50, &err), LH_ETIMEDOUT);
    /* Another thread's commit wakes a waiter long before its timeout. */
    appender a = {f->db, 100};
    pthread_t th;
    pthread_create(&th, NULL, append_later, &a);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(lh_table_wait(f->db, "ev", &seen, 10000, &err), LH_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(th, NULL);
    double waited = (double)(t1.tv_sec - t0.tv_sec) +
                    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(waited >= 0.05);
    assert_true(waited < 5.0);
    assert_int_equal(seen, 2);
    assert_int_equal(lh_table_wait(f->db, "nope", &seen, 0, &err), LH_ENOENT);

    /* A read-only handle cannot see commits of other processes this way. */
    lh_db *ro;
    lh_db_options o = {.flags = LH_OPEN_READONLY};
    assert_int_equal(lh_db_open(f->dir, &o, &ro, &err), LH_OK);
    assert_int_equal(lh_table_wait(ro, "ev", &seen, 0, &err), LH_EREADONLY);
    assert_true(lh_db_readonly(ro));
    assert_false(lh_db_readonly(f->db));
    lh_db_close(ro);
}

typedef struct burst {
    lh_db *db;
    int id;
} burst;

static void *
append_burst(void *arg)
{
    burst *b = arg;
    for (int i = 0; i < 25; i++) {
        char s[32];
        snprintf(s, sizeof(s), "t%d-%d", b->id, i);
        append1(b->db, s, i);
    }
    return NULL;
}

static void
test_stats(void **state)
{
    fixture *f = *state;
    lh_err err;
    lh_table_stats st;
    assert_int_equal(lh_table_stats_get(f->db, "ev", LH_STATS_COUNT, &st, &err),
                     LH_OK);
    assert_int_equal(st.shards, 3);
    assert_int_equal(st.hot_events, 0);
    assert_true(st.hot_bytes > 0); /* the empty shard files */
    assert_int_equal(st.commits, 0);

    /* 8 threads of 25 single-event appends: 200 requests, grouped. */
    pthread_t th[8];
    burst b[8];
    for (int i = 0; i < 8; i++) {
        b[i] = (burst){f->db, i};
        pthread_create(&th[i], NULL, append_burst, &b[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
    }
    assert_int_equal(lh_table_stats_get(f->db, "ev", LH_STATS_COUNT, &st, &err),
                     LH_OK);
    assert_int_equal(st.hot_events, 200);
    assert_int_equal(st.commit_requests, 200);
    assert_true(st.commits >= 1 && st.commits <= 200);
    uint64_t groups = 0, reqs_upper = 0;
    for (int i = 0; i < LH_GROUP_BUCKETS; i++) {
        groups += st.group_size[i];
        reqs_upper += st.group_size[i] << i;
    }
    assert_int_equal(groups, st.commits);
    assert_true(reqs_upper >= st.commit_requests);

    /* A 2-request group lands in bucket 1 (at most 2). */
    lh_event_in evs[2] = {{.stream = "x", .type = "T", .data_json = "{}"},
                          {.stream = "x", .type = "T", .data_json = "{}"}};
    uint64_t before = st.group_size[0];
    assert_int_equal(lh_append(f->db, "ev", evs, 2, NULL, NULL, &err), LH_OK);
    assert_int_equal(lh_table_stats_get(f->db, "ev", 0, &st, &err), LH_OK);
    assert_int_equal(st.hot_events, -1); /* not counted without the flag */
    assert_int_equal(st.hot_bytes, -1);
    assert_int_equal(st.group_size[0], before + 1); /* one call, one part */
    assert_int_equal(st.commit_requests, 201);
    assert_int_equal(lh_table_stats_get(f->db, "nope", 0, &st, &err),
                     LH_ENOENT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
