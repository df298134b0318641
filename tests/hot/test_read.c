/* Reads: the whole table from checkpoints, following, subscriptions, and
 * stream reads by version and direction. */
#include <pthread.h>

#include "hot/hot_int.h"
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
                     "\"type\": \"BIGINT\"}], \"shards\": 5}");
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
append_n(lh_db *db, int from, int count)
{
    for (int i = from; i < from + count; i++) {
        char stream[32], data[64];
        snprintf(stream, sizeof(stream), "s%d", i % 7);
        snprintf(data, sizeof(data), "{\"n\": %d}", i);
        lh_err err;
        lh_rc rc = ht_append1(db, "ev", stream, "T", data, LH_EXPECT_ANY, 0,
                              NULL, NULL, &err);
        if (rc != LH_OK) {
            fail_msg("append %d: %s", i, err.msg);
        }
    }
}

/* Reads everything after ck; returns how many and fills ns with the "n"
 * payload values (seen[] marks them) and the final checkpoint. */
static int
read_from(lh_db *db, const char *ck, char *seen, int max, char *last_ck,
          size_t ck_size, char *mid_ck, int mid_at)
{
    lh_reader *r;
    lh_err err;
    assert_int_equal(lh_read_all(db, "ev", ck, false, &r, &err), LH_OK);
    const lh_event *ev;
    int count = 0;
    while (lh_reader_next(r, &ev, &err) == LH_OK && ev != NULL) {
        long long n;
        assert_int_equal(sscanf(ev->data_json, "{\"n\":%lld}", &n), 1);
        assert_true(n >= 0 && n < max);
        assert_int_equal(seen[n], 0); /* exactly once */
        seen[n] = 1;
        count++;
        if (mid_ck != NULL && count == mid_at) {
            snprintf(mid_ck, ck_size, "%s", ev->checkpoint);
        }
    }
    snprintf(last_ck, ck_size, "%s", lh_reader_checkpoint(r));
    lh_reader_close(r);
    return count;
}

static void
test_checkpoints(void **state)
{
    fixture *f = *state;
    append_n(f->db, 0, 100);
    char seen[200] = {0}, ck[256], mid[256];
    assert_int_equal(read_from(f->db, "0", seen, 200, ck, sizeof(ck), mid, 40),
                     100);
    /* from the 40th event's checkpoint: exactly the other 60 */
    char seen2[200] = {0};
    char ck2[256];
    int n = read_from(f->db, mid, seen2, 200, ck2, sizeof(ck2), NULL, 0);
    assert_int_equal(n, 60);
    for (int i = 0; i < 100; i++) {
        assert_true(seen[i]);
    }
    /* after the end: nothing, then exactly the new ones */
    char seen3[200] = {0};
    assert_int_equal(
        read_from(f->db, ck, seen3, 200, ck2, sizeof(ck2), NULL, 0), 0);
    append_n(f->db, 100, 25);
    assert_int_equal(
        read_from(f->db, ck, seen3, 200, ck2, sizeof(ck2), NULL, 0), 25);
    for (int i = 100; i < 125; i++) {
        assert_true(seen3[i]);
    }
    /* malformed checkpoints are errors */
    lh_reader *r;
    lh_err err;
    assert_int_equal(lh_read_all(f->db, "ev", "ck1.1.2", false, &r, &err),
                     LH_EINVAL);
    assert_int_equal(lh_read_all(f->db, "ev", "garbage", false, &r, &err),
                     LH_EINVAL);
    assert_int_equal(
        lh_read_all(f->db, "ev", "ck1.1.2.3.4.-5", false, &r, &err), LH_EINVAL);
}

typedef struct writer_arg {
    lh_db *db;
    int from, count;
} writer_arg;

static void *
writer_main(void *p)
{
    writer_arg *w = p;
    usleep(50000);
    append_n(w->db, w->from, w->count);
    return NULL;
}

static void
test_follow(void **state)
{
    fixture *f = *state;
    append_n(f->db, 0, 10);
    lh_reader *r;
    lh_err err;
    assert_int_equal(lh_read_all(f->db, "ev", "0", true, &r, &err), LH_OK);
    writer_arg w = {f->db, 10, 30};
    pthread_t th;
    pthread_create(&th, NULL, writer_main, &w);
    char seen[64] = {0};
    int got = 0;
    int64_t deadline = lh_clock_now() + 10 * INT64_C(1000000);
    while (got < 40) {
        const lh_event *ev;
        assert_int_equal(lh_reader_next(r, &ev, &err), LH_OK);
        if (ev == NULL) {
            lh_rc rc = lh_reader_wait(r, 200, &err);
            assert_true(rc == LH_OK || rc == LH_ETIMEDOUT);
            if (lh_clock_now() > deadline) {
                fail_msg("follow saw %d of 40 events", got);
            }
            continue;
        }
        long long n;
        assert_int_equal(sscanf(ev->data_json, "{\"n\":%lld}", &n), 1);
        assert_int_equal(seen[n], 0);
        seen[n] = 1;
        got++;
    }
    pthread_join(th, NULL);
    /* waiting with nothing new times out, and cancel wins over waiting */
    assert_int_equal(lh_reader_wait(r, 30, &err), LH_ETIMEDOUT);
    lh_reader_cancel(r);
    assert_int_equal(lh_reader_wait(r, 5000, &err), LH_ECANCELED);
    lh_reader_close(r);
}

typedef struct sub_state {
    pthread_mutex_t mu;
    int count;
    int64_t last_pos[8];
    int ordered;
} sub_state;

static int
on_event(void *ud, const lh_event *ev)
{
    sub_state *s = ud;
    pthread_mutex_lock(&s->mu);
    if (ev->position <= s->last_pos[ev->shard]) {
        s->ordered = 0;
    }
    s->last_pos[ev->shard] = ev->position;
    s->count++;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static void
test_subscription(void **state)
{
    fixture *f = *state;
    append_n(f->db, 0, 20);
    sub_state s = {.mu = PTHREAD_MUTEX_INITIALIZER, .ordered = 1};
    lh_subscription *sub;
    lh_err err;
    assert_int_equal(lh_subscribe(f->db, "ev", "0", on_event, &s, &sub, &err),
                     LH_OK);
    append_n(f->db, 20, 20);
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&s.mu);
        int c = s.count;
        pthread_mutex_unlock(&s.mu);
        if (c >= 40) {
            break;
        }
        usleep(10000);
    }
    lh_subscription_close(sub);
    assert_int_equal(s.count, 40);
    assert_true(s.ordered);
}

static void
test_stream_directions(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 10; i++) {
        lh_err err;
        assert_int_equal(ht_append1(f->db, "ev", "one", "T", "{\"n\": 1}",
                                    LH_EXPECT_ANY, 0, NULL, NULL, &err),
                         LH_OK);
    }
    struct {
        int64_t from;
        lh_direction dir;
        int64_t limit;
        int64_t first, count;
    } cases[] = {
        {1, LH_FORWARD, 0, 1, 10}, {4, LH_FORWARD, 0, 4, 7},
        {4, LH_FORWARD, 2, 4, 2},  {-1, LH_BACKWARD, 0, 10, 10},
        {5, LH_BACKWARD, 0, 5, 5}, {-1, LH_BACKWARD, 1, 10, 1},
        {11, LH_FORWARD, 0, 0, 0},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        lh_reader *r;
        lh_err err;
        assert_int_equal(lh_read_stream(f->db, "ev", "one", cases[c].from,
                                        cases[c].dir, cases[c].limit, &r, &err),
                         LH_OK);
        const lh_event *ev;
        int64_t n = 0, first = 0, prev = 0;
        while (lh_reader_next(r, &ev, &err) == LH_OK && ev != NULL) {
            if (n == 0) {
                first = ev->version;
            } else {
                assert_int_equal(ev->version,
                                 prev + (cases[c].dir == LH_FORWARD ? 1 : -1));
            }
            prev = ev->version;
            n++;
        }
        lh_reader_close(r);
        if (n != cases[c].count || (n > 0 && first != cases[c].first)) {
            fail_msg("case %zu: got %lld events from %lld, expected %lld "
                     "from %lld",
                     c, (long long)n, (long long)first,
                     (long long)cases[c].count, (long long)cases[c].first);
        }
    }
    /* an unknown stream reads as empty */
    lh_reader *r;
    lh_err err;
    const lh_event *ev;
    assert_int_equal(
        lh_read_stream(f->db, "ev", "nobody", 1, LH_FORWARD, 0, &r, &err),
        LH_OK);
    assert_int_equal(lh_reader_next(r, &ev, &err), LH_OK);
    assert_null(ev);
    lh_reader_close(r);
}

/* Rows of the shard's events through connection c. */
static int64_t
count_rows(sqlite3 *c)
{
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(c, "SELECT count(*) FROM events", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The pool of read connections: a connection given back is used again and
 * sees what was appended meanwhile; one given back inside a transaction
 * (it would pin an old snapshot) is closed, not kept. */
static void
test_reader_pool(void **state)
{
    fixture *f = *state;
    lh_table *t;
    lh_err err;
    assert_int_equal(lh__db_table(f->db, "ev", &t, &err), LH_OK);
    lh_shard *s = &t->shards[0];
    sqlite3 *a, *b;
    assert_int_equal(lh__shard_reader_get(s, &a, &err), LH_OK);
    int64_t before = count_rows(a);
    lh__shard_reader_put(s, a);
    assert_int_equal(s->nreaders, 1);
    append_n(f->db, 0, 70); /* every stream, so every shard gets some */
    assert_int_equal(lh__shard_reader_get(s, &b, &err), LH_OK);
    assert_ptr_equal(b, a); /* the pooled one */
    assert_int_equal(s->nreaders, 0);
    int64_t after = count_rows(b);
    assert_true(after > before);

    assert_int_equal(sqlite3_exec(b, "BEGIN; SELECT count(*) FROM events;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    lh__shard_reader_put(s, b); /* open transaction: closed */
    assert_int_equal(s->nreaders, 0);

    sqlite3 *c[LH_SHARD_READERS + 2];
    for (int i = 0; i < LH_SHARD_READERS + 2; i++) {
        assert_int_equal(lh__shard_reader_get(s, &c[i], &err), LH_OK);
    }
    for (int i = 0; i < LH_SHARD_READERS + 2; i++) {
        lh__shard_reader_put(s, c[i]);
    }
    assert_int_equal(s->nreaders, LH_SHARD_READERS); /* the rest closed */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_checkpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_pool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscription, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_directions, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
