/* Concurrency: 32 threads appending to 8 shared streams with exact expected
 * versions. Every attempt either succeeds with the next version or reports
 * a conflict naming a version the stream really reached; at the end each
 * stream holds versions 1..N exactly once, every acknowledged event is where
 * its ack says, and no two events share a (shard, position). */
#include <pthread.h>

#include "hot/hot_int.h"
#include "hot_test.h"

#define NTHREADS 32
#define NSTREAMS 8
#define MAX_BATCH 3

static const char *table_json = "{\"name\": \"c\", \"columns\": [{\"name\": "
                                "\"n\", \"type\": \"BIGINT\"}], \"shards\": 4}";

typedef struct success {
    int stream;
    int nevs;
    char id[MAX_BATCH][37];
    int64_t version[MAX_BATCH];
    int64_t position[MAX_BATCH];
    int32_t shard[MAX_BATCH];
} success;

typedef struct conflict_rec {
    int stream;
    int64_t expected;
    int64_t current;
} conflict_rec;

typedef struct worker {
    lh_db *db;
    int index;
    int attempts_max;
    int batch; /* events per append: 1 or 3 */
    int attempts, other_errors;
    success *ok;
    int nok;
    conflict_rec *conf;
    int nconf;
    char first_error[800]; /* what went wrong, reported by the main thread */
} worker;

static void
stream_name(int i, char *buf, size_t n)
{
    snprintf(buf, n, "s%d", i);
}

static void
worker_error(worker *w, const char *fmt, int64_t a, int64_t b, const char *msg)
{
    w->other_errors++;
    if (w->first_error[0] == 0) {
        char head[200];
        snprintf(head, sizeof(head), fmt, (long long)a, (long long)b);
        snprintf(w->first_error, sizeof(w->first_error),
                 "thread %d: %.200s: %.500s", w->index, head, msg);
    }
}

/* One attempt: append w->batch events to stream si expecting version
 * `expected`. Returns the version to expect next time (-1 = read it). */
static int64_t
attempt(worker *w, int si, int64_t expected)
{
    char stream[16];
    stream_name(si, stream, sizeof(stream));
    char data[MAX_BATCH][64];
    lh_event_in evs[MAX_BATCH];
    memset(evs, 0, sizeof(evs));
    for (int k = 0; k < w->batch; k++) {
        snprintf(data[k], sizeof(data[k]), "{\"n\": %d}",
                 w->index * 100000 + w->attempts * 10 + k);
        evs[k].stream = stream;
        evs[k].type = k == 0 ? "First" : "Next";
        evs[k].data_json = data[k];
    }
    evs[0].expect = LH_EXPECT_EXACT;
    evs[0].expected_version = expected;
    if (w->batch == 3) {
        /* later events of the stream: "any", or the exact version the
         * earlier ones of the call lead to */
        evs[2].expect = LH_EXPECT_EXACT;
        evs[2].expected_version = expected + 2;
    }
    lh_event_ack acks[MAX_BATCH];
    lh_err err;
    w->attempts++;
    lh_rc rc = lh_append(w->db, "c", evs, (size_t)w->batch, NULL, acks, &err);
    if (rc == LH_OK) {
        success *s = &w->ok[w->nok++];
        s->stream = si;
        s->nevs = w->batch;
        for (int k = 0; k < w->batch; k++) {
            memcpy(s->id[k], acks[k].event_id, 37);
            s->version[k] = acks[k].version;
            s->position[k] = acks[k].position;
            s->shard[k] = acks[k].shard;
            if (acks[k].version != expected + 1 + k || acks[k].duplicate) {
                worker_error(w, "ack version %lld, expected %lld",
                             acks[k].version, expected + 1 + k,
                             "wrong version in an ack");
            }
            if (k > 0 && (acks[k].shard != acks[0].shard ||
                          acks[k].position <= acks[k - 1].position)) {
                worker_error(w, "position %lld after %lld", acks[k].position,
                             acks[k - 1].position,
                             "a batch's positions do not ascend in one shard");
            }
        }
        return expected + w->batch;
    }
    if (rc != LH_ECONFLICT) {
        worker_error(w, "rc %lld (expected version %lld)", (int64_t)rc,
                     expected, err.msg);
        return -1;
    }
    conflict_rec *c = &w->conf[w->nconf++];
    c->stream = si;
    c->expected = expected;
    c->current = err.current_version;
    char want[64];
    snprintf(want, sizeof(want), "current version %lld",
             (long long)err.current_version);
    /* Versions only grow: the version we read is behind the real one. */
    if (err.current_version <= expected || strstr(err.msg, want) == NULL) {
        worker_error(w,
                     "conflict reports current version %lld, expected "
                     "more than %lld",
                     err.current_version, expected, err.msg);
    }
    return err.current_version;
}

static void *
worker_main(void *arg)
{
    worker *w = arg;
    int64_t known = -1;
    int si = w->index % NSTREAMS;
    while (w->attempts < w->attempts_max) {
        /* Half the retries trust the version the conflict reported, the
         * others read it again; after a success move to the next stream. */
        if (known < 0 || (w->attempts % 2) == 0) {
            lh_err err;
            char stream[16];
            stream_name(si, stream, sizeof(stream));
            if (lh_stream_info(w->db, "c", stream, &known, NULL, &err) !=
                LH_OK) {
                worker_error(w, "stream_info failed (%lld, %lld)", 0, 0,
                             err.msg);
                return NULL;
            }
        }
        int nok = w->nok;
        known = attempt(w, si, known);
        if (w->nok > nok) {
            si = (si + 1) % NSTREAMS;
            known = -1;
        }
    }
    return NULL;
}

typedef struct seen_event {
    int64_t version, position;
    int32_t shard;
    char id[37];
} seen_event;

static void
check_results(lh_db *db, worker *ws, int nthreads)
{
    lh_err err;
    int64_t successes[NSTREAMS] = {0}, events[NSTREAMS] = {0};
    int attempts = 0, nsucc = 0, nconf = 0;
    for (int t = 0; t < nthreads; t++) {
        if (ws[t].other_errors != 0) {
            fail_msg("%d unexpected results; first: %s", ws[t].other_errors,
                     ws[t].first_error);
        }
        attempts += ws[t].attempts;
        nsucc += ws[t].nok;
        nconf += ws[t].nconf;
        for (int i = 0; i < ws[t].nok; i++) {
            successes[ws[t].ok[i].stream]++;
            events[ws[t].ok[i].stream] += ws[t].ok[i].nevs;
        }
    }
    /* every attempt is a success or a reported conflict */
    if (attempts != nsucc + nconf) {
        fail_msg("%d attempts, but %d successes + %d conflicts", attempts,
                 nsucc, nconf);
    }
    printf("# %d attempts: %d successes, %d conflicts\n", attempts, nsucc,
           nconf);
    assert_true(nconf > 0); /* 32 threads on 8 streams must collide */

    int64_t total = 0;
    for (int si = 0; si < NSTREAMS; si++) {
        char stream[16];
        stream_name(si, stream, sizeof(stream));
        int64_t v = -1;
        assert_int_equal(lh_stream_info(db, "c", stream, &v, NULL, &err),
                         LH_OK);
        if (v != events[si]) {
            fail_msg("stream %s: version %lld, but %lld events were "
                     "acknowledged (%lld appends)",
                     stream, (long long)v, (long long)events[si],
                     (long long)successes[si]);
        }
        total += v;
        /* read it back: versions 1..v, in order, each once */
        seen_event *seen = calloc((size_t)v + 1, sizeof(seen_event));
        lh_reader *r;
        assert_int_equal(
            lh_read_stream(db, "c", stream, 1, LH_FORWARD, 0, &r, &err), LH_OK);
        const lh_event *ev;
        int64_t n = 0;
        while (lh_reader_next(r, &ev, &err) == LH_OK && ev != NULL) {
            n++;
            if (ev->version != n) {
                fail_msg("stream %s: event %lld read has version %lld", stream,
                         (long long)n, (long long)ev->version);
            }
            if (n <= v) {
                seen[n].version = ev->version;
                seen[n].position = ev->position;
                seen[n].shard = ev->shard;
                memcpy(seen[n].id, ev->event_id, 37);
            }
        }
        lh_reader_close(r);
        if (n != v) {
            fail_msg("stream %s: read %lld events, version is %lld", stream,
                     (long long)n, (long long)v);
        }
        /* each acknowledged event is where its ack says */
        for (int t = 0; t < nthreads; t++) {
            for (int i = 0; i < ws[t].nok; i++) {
                const success *s = &ws[t].ok[i];
                if (s->stream != si) {
                    continue;
                }
                for (int k = 0; k < s->nevs; k++) {
                    const seen_event *e = &seen[s->version[k]];
                    if (strcmp(e->id, s->id[k]) != 0 ||
                        e->position != s->position[k] ||
                        e->shard != s->shard[k]) {
                        fail_msg("stream %s version %lld: ack says id %s "
                                 "shard %d position %lld; read gives id %s "
                                 "shard %d position %lld",
                                 stream, (long long)s->version[k], s->id[k],
                                 s->shard[k], (long long)s->position[k], e->id,
                                 e->shard, (long long)e->position);
                    }
                }
            }
        }
        /* a conflict reported a version the stream really reached */
        for (int t = 0; t < nthreads; t++) {
            for (int i = 0; i < ws[t].nconf; i++) {
                const conflict_rec *c = &ws[t].conf[i];
                if (c->stream == si && (c->current < 1 || c->current > v)) {
                    fail_msg("stream %s: a conflict reported current version "
                             "%lld; the stream ended at %lld",
                             stream, (long long)c->current, (long long)v);
                }
            }
        }
        free(seen);
    }

    /* the whole table: every event once, no (shard, position) twice */
    lh_reader *r;
    assert_int_equal(lh_read_all(db, "c", "0", false, &r, &err), LH_OK);
    lh_map ids, slots;
    lh_map_init(&ids);
    lh_map_init(&slots);
    const lh_event *ev;
    int64_t n = 0;
    while (lh_reader_next(r, &ev, &err) == LH_OK && ev != NULL) {
        n++;
        int64_t key[2] = {ev->shard, ev->position};
        if (lh_map_has(&slots, key, sizeof(key))) {
            fail_msg("shard %d position %lld holds two events", ev->shard,
                     (long long)ev->position);
        }
        if (lh_map_has(&ids, ev->event_id, 36)) {
            fail_msg("event %s read twice", ev->event_id);
        }
        assert_int_equal(lh_map_put(&slots, key, sizeof(key), &n, NULL), LH_OK);
        assert_int_equal(lh_map_put(&ids, ev->event_id, 36, &n, NULL), LH_OK);
    }
    lh_reader_close(r);
    lh_map_release(&ids);
    lh_map_release(&slots);
    if (n != total) {
        fail_msg("the table holds %lld events, the streams' versions add up "
                 "to %lld",
                 (long long)n, (long long)total);
    }
}

static void
print_group_commit(lh_db *db)
{
    /* Informational only: how many appends shared an fsync depends on
     * timing, so it is not asserted. */
    lh_table *t;
    lh_err err;
    if (lh__db_table(db, "c", &t, &err) != LH_OK) {
        return;
    }
    uint64_t groups = 0, reqs = 0;
    for (int i = 0; i < t->nshards; i++) {
        groups += atomic_load(&t->shards[i].groups);
        reqs += atomic_load(&t->shards[i].group_reqs);
    }
    printf("# group commit: %llu requests in %llu commits (%.2f per fsync)\n",
           (unsigned long long)reqs, (unsigned long long)groups,
           groups ? (double)reqs / (double)groups : 0.0);
}

static void
run(int batch, int attempts_per_thread)
{
    char *dir = ht_tmpdir();
    lh_db *db = ht_open(dir);
    ht_create(db, table_json);
    worker *ws = calloc(NTHREADS, sizeof(worker));
    pthread_t th[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        ws[t].db = db;
        ws[t].index = t;
        ws[t].batch = batch;
        ws[t].attempts_max = attempts_per_thread;
        ws[t].ok = calloc((size_t)attempts_per_thread, sizeof(success));
        ws[t].conf = calloc((size_t)attempts_per_thread, sizeof(conflict_rec));
        assert_int_equal(pthread_create(&th[t], NULL, worker_main, &ws[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++) {
        pthread_join(th[t], NULL);
    }
    print_group_commit(db);
    check_results(db, ws, NTHREADS);
    /* and the same after a reopen */
    lh_db_close(db);
    db = ht_open(dir);
    check_results(db, ws, NTHREADS);
    lh_db_close(db);
    for (int t = 0; t < NTHREADS; t++) {
        free(ws[t].ok);
        free(ws[t].conf);
    }
    free(ws);
    ht_rmdir(dir);
}

static void
test_single_events(void **state)
{
    (void)state;
    run(1, 40);
}

static void
test_batches_of_three(void **state)
{
    (void)state;
    run(3, 25);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_events),
        cmocka_unit_test(test_batches_of_three),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
