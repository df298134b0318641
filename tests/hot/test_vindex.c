/* The hot tier's vector index: fed on append, saved beside each shard's
 * SQLite file on close, loaded on open, and rebuilt from the events when
 * the file is missing, corrupt or stale (a crash before the save). */
#include <math.h>
#include <sys/stat.h>

#include "hot/hot_int.h"
#include "hot_test.h"

enum { DIM = 16, N1 = 300, N2 = 80 };

static const char *table_json =
    "{\"name\": \"docs\", \"columns\": [{\"name\": \"n\", \"type\": \"INT\"}],"
    " \"shards\": 2, \"embedding_dim\": 16}";

static float vecs[N1 + N2][DIM];

static void
append_range(lh_db *db, int from, int to, int64_t *pos, int *shard)
{
    for (int i = from; i < to; i++) {
        char stream[32];
        snprintf(stream, sizeof(stream), "doc-%d", i);
        lh_event_in e = {.stream = stream,
                         .type = "Added",
                         .embedding = vecs[i],
                         .embedding_len = DIM};
        /* every fifth event has no embedding */
        if (i % 5 == 4) {
            e.embedding = NULL;
            e.embedding_len = 0;
        }
        lh_event_ack ack;
        lh_err err;
        if (lh_append(db, "docs", &e, 1, NULL, &ack, &err) != LH_OK) {
            fail_msg("append %d: %s", i, err.msg);
        }
        pos[i] = ack.position;
        shard[i] = ack.shard;
    }
}

static int64_t pos[N1 + N2];
static int shard_of[N1 + N2];

/* Every embedded event's own vector finds it first, in its shard. */
static size_t
check_index(lh_db *db, int upto)
{
    lh_table *t;
    assert_int_equal(lh__db_table(db, "docs", &t, NULL), LH_OK);
    /* Searches find an acked event at once (the pending group is scanned
     * exactly), so they are checked first ... */
    for (int i = 0; i < upto; i++) {
        if (i % 5 == 4) {
            continue;
        }
        lh_vec_hit hit;
        size_t n;
        lh_err err;
        assert_int_equal(lh__shard_vsearch(&t->shards[shard_of[i]], vecs[i], 1,
                                           0, NULL, &hit, &n, &err),
                         LH_OK);
        assert_int_equal(n, 1);
        assert_int_equal(hit.id, pos[i]);
        assert_true(hit.dist == 0.0f);
    }
    /* ... while the graph gets the last group just after its acks: wait
     * for the handler to finish feeding it before counting. */
    size_t total = 0;
    for (int s = 0; s < t->nshards; s++) {
        lh_shard *sh = &t->shards[s];
        assert_non_null(sh->vindex);
        for (int tries = 0;; tries++) {
            pthread_mutex_lock(&sh->vpending_mu);
            size_t pending = sh->vpending.n;
            pthread_mutex_unlock(&sh->vpending_mu);
            if (pending == 0) {
                break;
            }
            assert_true(tries < 5000);
            usleep(1000);
        }
        total += lh_hnsw_count(sh->vindex);
    }
    return total;
}

static void
index_path(const char *dir, int s, char *out, size_t cap)
{
    snprintf(out, cap, "%s/tables/docs/shard-%03d.hnsw", dir, s);
}

static void
copy_file(const char *from, const char *to)
{
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
}

static void
test_fed_saved_loaded_rebuilt(void **state)
{
    (void)state;
    for (int i = 0; i < N1 + N2; i++) {
        for (int d = 0; d < DIM; d++) {
            vecs[i][d] = (float)sin(i * 0.37 + d * 1.3) * (float)(1 + d % 3);
        }
    }
    int embedded1 = N1 - N1 / 5, embedded2 = (N1 + N2) - (N1 + N2) / 5;
    char *dir = ht_tmpdir();
    lh_db *db = ht_open(dir);
    ht_create(db, table_json);
    append_range(db, 0, N1, pos, shard_of);
    assert_int_equal(check_index(db, N1), embedded1);
    lh_db_close(db);
    /* saved beside the shards */
    char p0[600], p1[600], keep[700];
    index_path(dir, 0, p0, sizeof(p0));
    index_path(dir, 1, p1, sizeof(p1));
    struct stat st;
    assert_int_equal(stat(p0, &st), 0);
    assert_int_equal(stat(p1, &st), 0);
    snprintf(keep, sizeof(keep), "%s.old", p0);
    copy_file(p0, keep);
    /* loaded, and fed further */
    db = ht_open(dir);
    append_range(db, N1, N1 + N2, pos, shard_of);
    assert_int_equal(check_index(db, N1 + N2), embedded2);
    lh_db_close(db);
    /* stale: the file from before the last appends (a crash before the
     * save): the events after its mark are inserted */
    copy_file(keep, p0);
    db = ht_open(dir);
    assert_int_equal(check_index(db, N1 + N2), embedded2);
    lh_db_close(db);
    /* corrupt: rebuilt from the events */
    FILE *f = fopen(p1, "r+b");
    assert_non_null(f);
    fseek(f, 100, SEEK_SET);
    fputc(0xee, f);
    fclose(f);
    db = ht_open(dir);
    assert_int_equal(check_index(db, N1 + N2), embedded2);
    lh_db_close(db);
    /* missing: rebuilt */
    unlink(p0);
    unlink(p1);
    db = ht_open(dir);
    assert_int_equal(check_index(db, N1 + N2), embedded2);
    lh_db_close(db);
    /* a file of another shape (the table's dim changed): rebuilt */
    lh_hnsw_config c;
    lh_hnsw_config_default(&c, DIM + 1, LH_VEC_L2);
    lh_hnsw *other;
    assert_int_equal(lh_hnsw_new(&c, &other, NULL), LH_OK);
    assert_int_equal(lh_hnsw_save(other, p0, 999999, NULL), LH_OK);
    lh_hnsw_free(other);
    db = ht_open(dir);
    assert_int_equal(check_index(db, N1 + N2), embedded2);
    lh_db_close(db);
    unlink(keep);
    ht_rmdir(dir);
}

static void
test_no_embedding_no_index(void **state)
{
    (void)state;
    char *dir = ht_tmpdir();
    lh_db *db = ht_open(dir);
    ht_create(db, "{\"name\": \"plain\", \"columns\": [{\"name\": \"n\", "
                  "\"type\": \"INT\"}], \"shards\": 1}");
    lh_table *t;
    assert_int_equal(lh__db_table(db, "plain", &t, NULL), LH_OK);
    assert_null(t->shards[0].vindex);
    float q[4] = {0};
    lh_vec_hit hit;
    size_t n;
    lh_err err;
    assert_int_equal(
        lh__shard_vsearch(&t->shards[0], q, 1, 0, NULL, &hit, &n, &err),
        LH_ENOENT);
    lh_db_close(db);
    char p[600];
    snprintf(p, sizeof(p), "%s/tables/plain/shard-000.hnsw", dir);
    struct stat st;
    assert_int_not_equal(stat(p, &st), 0);
    ht_rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fed_saved_loaded_rebuilt),
        cmocka_unit_test(test_no_embedding_no_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
