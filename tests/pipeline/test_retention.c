/*
 * Retention on real shards and a real lake: events whose TTL ran out are
 * invisible at once (stream reads, table reads, SQL over the hot tier) and
 * gone from every tier after a pipeline run (the shards' rows and the
 * lake's files, read back); the table's retention removes what is older
 * (whole lake files dropped, a partly old one rewritten); stream metadata
 * (truncate_before, max_count, max_age) is applied to the lake the same way
 * while reads return what they returned before; an erased stream is
 * unreadable at once and, after a run and snapshot expiry, its payload is
 * in no file under the data directory; and a run killed (SIGKILL) after
 * every step of its retention finishes on the next run with nothing
 * unexpired lost. The expected events are computed from the test's own
 * model of each event (ts, ttl, stream, version, commit time).
 */
#include <ftw.h>
#include <sys/stat.h>

#include "pl_test.h"
/* after cmocka.h, which pl_test.h includes */
#include "../sql/sql_test.h"

#define DAY (24 * PL_HOUR)

/* The test's model of an event: its payload n is its index. */
typedef struct ev {
    char stream[16];
    lh_us ts;
    int64_t ttl; /* seconds, 0 = none */
    int64_t version;
    lh_us committed_at;
} ev;

/* Appends evs[first..first+n) (payload {"n": i, "note": ...}) at clock
 * `at` (their committed_at), filling their versions. */
static void
append_evs(lh_db *db, ev *evs, int first, int n, lh_us at, const char *hint)
{
    lh_time_set_frozen(at, true);
    enum { CALL = 200 };
    lh_event_in in[CALL];
    lh_event_ack acks[CALL];
    char ts[CALL][40], data[CALL][96];
    for (int done = 0; done < n;) {
        int k = n - done < CALL ? n - done : CALL;
        for (int j = 0; j < k; j++) {
            int i = first + done + j;
            pl_ts_text(evs[i].ts, ts[j], sizeof(ts[j]));
            snprintf(data[j], sizeof(data[j]),
                     "{\"n\": %d, \"note\": \"note of %s number %d\"}", i,
                     evs[i].stream, i);
            in[j] = (lh_event_in){.stream = evs[i].stream,
                                  .type = "Numbered",
                                  .ts = ts[j],
                                  .data_json = data[j],
                                  .tier_hint = hint,
                                  .ttl_seconds = evs[i].ttl};
        }
        lh_err err;
        lh_rc rc = lh_append(db, "ev", in, (size_t)k, NULL, acks, &err);
        if (rc != LH_OK) {
            fail_msg("append: %s", err.msg);
        }
        for (int j = 0; j < k; j++) {
            evs[first + done + j].version = acks[j].version;
            evs[first + done + j].committed_at = at;
        }
        done += k;
    }
}

static bool
ttl_live(const ev *e, lh_us now)
{
    return e->ttl == 0 || e->ts + e->ttl * 1000000 > now;
}

/* Every event is where `want` says: once (true) or nowhere. */
static void
assert_present(lh_db *db, int n, const bool *want, const char *when)
{
    int *counts = calloc((size_t)n, sizeof(int));
    pl_account a;
    pl_account_get_counts(db, "ev", &a, counts, n);
    pl_account_free(&a);
    for (int i = 0; i < n; i++) {
        if (counts[i] != (want[i] ? 1 : 0)) {
            fail_msg("%s: event %d is in the tiers %d times, expected %d", when,
                     i, counts[i], want[i] ? 1 : 0);
        }
    }
    free(counts);
}

/* The payloads n of a read, in order, into out (at most max); the count. */
static int
read_ns(lh_reader *r, int64_t *out, int max)
{
    int n = 0;
    lh_err err;
    for (;;) {
        const lh_event *e;
        assert_int_equal(lh_reader_next(r, &e, &err), LH_OK);
        if (e == NULL) {
            break;
        }
        const char *p = strstr(e->data_json, "\"n\":");
        assert_non_null(p);
        assert_true(n < max);
        out[n++] = strtoll(p + 4, NULL, 10);
    }
    lh_reader_close(r);
    return n;
}

static int
read_stream_ns(lh_db *db, const char *stream, int64_t *out, int max)
{
    lh_reader *r;
    lh_err err;
    assert_int_equal(
        lh_read_stream(db, "ev", stream, 0, LH_FORWARD, 0, &r, &err), LH_OK);
    return read_ns(r, out, max);
}

static const char *const TABLE_FMT =
    "{\"name\": \"ev\", \"columns\": [{\"name\": \"n\", \"type\": "
    "\"BIGINT\"}, {\"name\": \"note\", \"type\": \"VARCHAR\"}], "
    "\"hot_window\": \"1h\", \"warm_window\": \"2d\", \"shards\": 2%s}";

static lh_db *
fresh_table(char **dir, const char *extra)
{
    *dir = ht_tmpdir();
    lh_db *db = ht_open(*dir);
    char def[1024];
    snprintf(def, sizeof(def), TABLE_FMT, extra);
    ht_create(db, def);
    return db;
}

/* ---- TTL ----------------------------------------------------------------- */

enum { TTL_N = 400 };

static void
test_ttl(void **state)
{
    (void)state;
    char *dir;
    lh_db *db = fresh_table(&dir, "");
    /* One event every 10 minutes from T0 (66 hours); TTLs of 30 min to
     * 2 days on most, none on every third. */
    static ev evs[TTL_N];
    static const int64_t ttls[] = {0, 1800, 3 * 3600, 2 * 86400};
    for (int i = 0; i < TTL_N; i++) {
        snprintf(evs[i].stream, sizeof(evs[i].stream), "s%d", i % 7);
        evs[i].ts = PL_T0 + i * 10 * PL_MIN;
        evs[i].ttl = ttls[i % 4];
    }
    lh_us end = PL_T0 + TTL_N * 10 * PL_MIN;
    append_evs(db, evs, 0, TTL_N, end, NULL);
    /* Before any pipeline run, at `end`: the reads leave the expired out. */
    lh_us now = end;
    lh_time_set_frozen(now, true);
    int64_t live = 0, live_sum = 0;
    for (int i = 0; i < TTL_N; i++) {
        if (ttl_live(&evs[i], now)) {
            live++;
            live_sum += i;
        }
    }
    assert_true(live > TTL_N / 3 && live < TTL_N);
    static int64_t got[TTL_N];
    lh_reader *r;
    lh_err err;
    assert_int_equal(lh_read_all(db, "ev", "0", false, &r, &err), LH_OK);
    int n = read_ns(r, got, TTL_N);
    assert_int_equal(n, live);
    int64_t sum = 0;
    for (int i = 0; i < n; i++) {
        assert_true(ttl_live(&evs[got[i]], now));
        sum += got[i];
    }
    assert_int_equal(sum, live_sum);
    /* SQL over the hot tier (it holds every event yet). */
    lh_session *s;
    lh_session_options so = {.threads = 1};
    assert_int_equal(lh_session_open(db, &so, &s, &err), LH_OK);
    char want[64];
    snprintf(want, sizeof(want), "count,s\n%lld,%lld\n", (long long)live,
             (long long)live_sum);
    sqlt_expect_csv(s, "SELECT count(*) AS count, sum(n) AS s FROM ev", want);
    lh_session_close(s);
    /* Flush at `end`: the expired events are not written to the lake. */
    lh_pipeline_stats st;
    pl_run(db, now, &st);
    assert_true(st.events_flushed > 0);
    assert_true(st.events_removed > 0);
    bool *w = calloc(TTL_N, sizeof(bool));
    for (int i = 0; i < TTL_N; i++) {
        w[i] = ttl_live(&evs[i], now);
    }
    assert_present(db, TTL_N, w, "after the flush");
    /* A day later: more TTLs ran out, in the lake and in the shards. */
    now = end + DAY;
    pl_run(db, now, &st);
    assert_true(st.events_removed > 0);
    assert_true(st.files_rewritten > 0);
    for (int i = 0; i < TTL_N; i++) {
        w[i] = ttl_live(&evs[i], now);
    }
    assert_present(db, TTL_N, w, "a day later");
    /* The stream reads across tiers return the live versions in order. */
    for (int k = 0; k < 7; k++) {
        char name[16];
        snprintf(name, sizeof(name), "s%d", k);
        n = read_stream_ns(db, name, got, TTL_N);
        int j = 0;
        for (int i = 0; i < TTL_N; i++) {
            if (strcmp(evs[i].stream, name) == 0 && w[i]) {
                assert_true(j < n);
                assert_int_equal(got[j], i);
                j++;
            }
        }
        assert_int_equal(j, n);
    }
    free(w);
    lh_db_close(db);
    ht_rmdir(dir);
    lh_time_set_frozen(0, false);
}

/* ---- the table's retention ------------------------------------------------
 */

enum { RET_N = 1440 };

static void
test_retention(void **state)
{
    (void)state;
    char *dir;
    lh_db *db = fresh_table(&dir, ", \"retention\": \"30d\"");
    /* One event an hour for 60 days. */
    static ev evs[RET_N + 2];
    for (int i = 0; i < RET_N + 2; i++) {
        snprintf(evs[i].stream, sizeof(evs[i].stream), "s%d", i % 11);
        evs[i].ts = PL_T0 + i * PL_HOUR;
    }
    append_evs(db, evs, 0, RET_N, PL_T0 + 61 * DAY, NULL);
    lh_pipeline_stats st;
    /* At day 61 the first 31 days go: not even flushed. */
    pl_run(db, PL_T0 + 61 * DAY, &st);
    assert_true(st.compactions > 0);
    bool w[RET_N + 2];
    int removed = 0;
    for (int i = 0; i < RET_N; i++) {
        w[i] = evs[i].ts >= PL_T0 + 31 * DAY;
        removed += !w[i];
    }
    assert_int_equal(st.events_removed, removed);
    assert_present(db, RET_N, w, "after the first run");
    /* At day 75.5 the first 45.5 days are older. Beside them, in the hot
     * tier behind an event from the future (which holds the flush back), an
     * old one: the purge of the shards removes it. */
    lh_us now = PL_T0 + 75 * DAY + 12 * PL_HOUR;
    strcpy(evs[RET_N].stream, "late");
    evs[RET_N].ts = now + DAY;
    strcpy(evs[RET_N + 1].stream, "late");
    evs[RET_N + 1].ts = PL_T0;
    append_evs(db, evs, RET_N, 2, now, NULL);
    pl_run(db, now, &st);
    lh_us cutoff = now - 30 * DAY;
    removed = 0;
    w[RET_N] = w[RET_N + 1] = true; /* appended since */
    for (int i = 0; i < RET_N + 2; i++) {
        removed += w[i] && evs[i].ts < cutoff;
        w[i] = evs[i].ts >= cutoff;
    }
    assert_false(w[RET_N + 1]);
    assert_int_equal(st.events_removed, removed);
    assert_true(st.files_rewritten > 1); /* dropped ones and the rewrite */
    assert_present(db, RET_N + 2, w, "after the retention");
    /* Again: nothing more goes, no commit. */
    pl_account a;
    pl_account_get(db, "ev", &a);
    int64_t snaps = a.snapshots;
    pl_account_free(&a);
    pl_run(db, now, &st);
    assert_int_equal(st.events_removed, 0);
    pl_account_get(db, "ev", &a);
    assert_int_equal(a.snapshots, snaps);
    pl_account_free(&a);
    lh_db_close(db);
    ht_rmdir(dir);
    lh_time_set_frozen(0, false);
}

/* ---- stream metadata ----------------------------------------------------- */

enum { META_N = 600, META_STREAMS = 6 };

static void
test_stream_meta(void **state)
{
    (void)state;
    char *dir;
    lh_db *db = fresh_table(&dir, "");
    static ev evs[META_N];
    for (int i = 0; i < META_N; i++) {
        snprintf(evs[i].stream, sizeof(evs[i].stream), "s%d", i % META_STREAMS);
        evs[i].ts = PL_T0 + i * 10 * PL_MIN;
    }
    /* Two commit times ten days apart. */
    lh_us c1 = PL_T0 + 5 * DAY, c2 = PL_T0 + 15 * DAY;
    append_evs(db, evs, 0, META_N / 2, c1, NULL);
    append_evs(db, evs, META_N / 2, META_N / 2, c2, NULL);
    lh_pipeline_stats st;
    lh_us now = c2 + PL_HOUR;
    pl_run(db, now, &st);
    assert_int_equal(st.events_flushed, META_N);
    lh_err err;
    lh_stream_meta m1 = {.truncate_before = 40};
    lh_stream_meta m2 = {.max_count = 7};
    lh_stream_meta m3 = {.max_age_s = 5 * 86400};
    assert_int_equal(lh_stream_set_meta(db, "ev", "s1", &m1, &err), LH_OK);
    assert_int_equal(lh_stream_set_meta(db, "ev", "s2", &m2, &err), LH_OK);
    assert_int_equal(lh_stream_set_meta(db, "ev", "s3", &m3, &err), LH_OK);
    lh_time_set_frozen(now, true);
    static int64_t before[META_STREAMS][META_N], after[META_N];
    int nb[META_STREAMS];
    for (int k = 0; k < META_STREAMS; k++) {
        char name[8];
        snprintf(name, sizeof(name), "s%d", k);
        nb[k] = read_stream_ns(db, name, before[k], META_N);
    }
    pl_run(db, now, &st);
    bool w[META_N];
    int removed = 0;
    for (int i = 0; i < META_N; i++) {
        const ev *e = &evs[i];
        int k = i % META_STREAMS;
        w[i] = !(k == 1 && e->version < 40) &&
               !(k == 2 && e->version <= META_N / META_STREAMS - 7) &&
               !(k == 3 && e->committed_at < now - 5 * DAY);
        removed += !w[i];
    }
    assert_int_equal(st.events_removed, removed);
    assert_present(db, META_N, w, "after applying stream metadata");
    /* Reads return what they returned before. */
    for (int k = 0; k < META_STREAMS; k++) {
        char name[8];
        snprintf(name, sizeof(name), "s%d", k);
        int n = read_stream_ns(db, name, after, META_N);
        assert_int_equal(n, nb[k]);
        assert_memory_equal(after, before[k], sizeof(int64_t) * (size_t)n);
    }
    /* Done once: the next run has nothing to do for them. */
    pl_run(db, now + PL_MIN, &st);
    assert_int_equal(st.events_removed, 0);
    lh_db_close(db);
    ht_rmdir(dir);
    lh_time_set_frozen(0, false);
}

/* ---- erasure ------------------------------------------------------------- */

static const char SECRET[] = "note of alice";
static int secret_hits;

static int
grep_file(const char *path, const struct stat *sb, int type, struct FTW *f)
{
    (void)f;
    if (type != FTW_F || sb->st_size == 0) {
        return 0;
    }
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *buf = malloc((size_t)sb->st_size);
    size_t got = fread(buf, 1, (size_t)sb->st_size, fp);
    fclose(fp);
    if (memmem(buf, got, SECRET, strlen(SECRET)) != NULL) {
        fprintf(stderr, "\"%s\" is in %s\n", SECRET, path);
        secret_hits++;
    }
    free(buf);
    return 0;
}

static int
grep_dir(const char *dir)
{
    secret_hits = 0;
    assert_int_equal(nftw(dir, grep_file, 16, FTW_PHYS), 0);
    return secret_hits;
}

enum { ERASE_N = 500 };

static void
test_erase(void **state)
{
    (void)state;
    char *dir;
    lh_db *db = fresh_table(&dir, ", \"snapshot_min_count\": 1, "
                                  "\"snapshot_max_age\": \"1s\"");
    static ev evs[ERASE_N + 1];
    for (int i = 0; i < ERASE_N + 1; i++) {
        snprintf(evs[i].stream, sizeof(evs[i].stream), "%s",
                 i % 5 == 0   ? "alice"
                 : i % 5 == 1 ? "bob"
                              : "carol");
        evs[i].ts = PL_T0 + i * 20 * PL_MIN; /* about 7 days */
    }
    lh_us now = PL_T0 + ERASE_N * 20 * PL_MIN;
    append_evs(db, evs, 0, ERASE_N, now, NULL);
    lh_pipeline_stats st;
    pl_run(db, now, &st); /* flushed, the older days compacted */
    assert_true(st.compactions > 0);
    pl_account a;
    pl_account_get(db, "ev", &a);
    assert_true(a.hot_rows > 0 && a.lake_rows > 0);
    pl_account_free(&a);
    assert_true(grep_dir(dir) > 0);
    static int64_t got[ERASE_N];
    assert_int_equal(read_stream_ns(db, "alice", got, ERASE_N), ERASE_N / 5);
    lh_err err;
    assert_int_equal(lh_stream_erase(db, "ev", "alice", &err), LH_OK);
    /* At once: nothing to read, the version kept. */
    assert_int_equal(read_stream_ns(db, "alice", got, ERASE_N), 0);
    int64_t version;
    lh_stream_meta meta;
    assert_int_equal(lh_stream_info(db, "ev", "alice", &version, &meta, &err),
                     LH_OK);
    assert_int_equal(version, ERASE_N / 5);
    assert_int_equal(meta.truncate_before, ERASE_N / 5 + 1);
    assert_int_equal(lh_stream_erase(db, "ev", "nobody", &err), LH_ENOENT);
    /* The next run rewrites the lake; expiry removes the old files. */
    pl_run(db, now + DAY, &st);
    assert_true(st.events_removed > 0 && st.files_rewritten > 0);
    assert_true(st.expired_snapshots > 0);
    bool w[ERASE_N + 1];
    for (int i = 0; i < ERASE_N + 1; i++) {
        w[i] = strcmp(evs[i].stream, "alice") != 0;
    }
    w[ERASE_N] = false;
    assert_present(db, ERASE_N + 1, w, "after the erasure");
    /* The snapshots of that run are all younger than a second, the
     * policy's age: a run a day later expires those before the rewrite. */
    pl_run(db, now + 2 * DAY, &st);
    assert_true(st.expired_snapshots > 0);
    lh_db_close(db);
    assert_int_equal(grep_dir(dir), 0);
    /* The stream goes on from its version. */
    db = ht_open(dir);
    strcpy(evs[ERASE_N].stream, "alice");
    append_evs(db, evs, ERASE_N, 1, now + DAY, NULL);
    assert_int_equal(evs[ERASE_N].version, ERASE_N / 5 + 1);
    assert_int_equal(read_stream_ns(db, "alice", got, ERASE_N), 1);
    assert_int_equal(got[0], ERASE_N);
    lh_db_close(db);
    ht_rmdir(dir);
    lh_time_set_frozen(0, false);
}

/* ---- crash safety -------------------------------------------------------- */

enum { CRASH_N = 400, CRASH_ALL = CRASH_N + 81 };
static ev crash_evs[CRASH_ALL];
static const lh_us CRASH_T1 = PL_T0 + 10 * DAY;
static const lh_us CRASH_T2 = PL_T0 + 17 * DAY + 12 * PL_HOUR;

typedef struct killer {
    int target, count;
    bool retention; /* count only retention's steps */
    int ours;       /* how many of them were retention's */
} killer;

static void
on_step(void *ctx, const char *step, int shard)
{
    (void)shard;
    killer *k = ctx;
    bool ours = strcmp(step, "purge") == 0 || strcmp(step, "rewrite") == 0 ||
                strcmp(step, "retain") == 0;
    if ((ours || !k->retention) && ++k->count == k->target) {
        raise(SIGKILL);
    }
    k->ours += ours;
}

static bool
crash_visible(const ev *e)
{
    return e->ts >= CRASH_T2 - 10 * DAY && ttl_live(e, CRASH_T2);
}

/* Runs the pipeline at CRASH_T2 in a child killed at step target; true
 * when it was killed. */
static bool
crash_child(const char *dir, int target)
{
    killer k = {target, 0, false, 0};
    lh__pipeline_opts o = {
        .until_idle = true,
        .flush = {.delete_rows = 40, .on_step = on_step, .ctx = &k}};
    return pl_run_child(dir, CRASH_T2, &o);
}

/* The state before: 400 events an hour apart from T0, some with a
 * TTL of 2 or 30 days, flushed and compacted at day 10. */
static char *
crash_fresh(void)
{
    char *dir;
    lh_db *db = fresh_table(&dir, ", \"retention\": \"10d\"");
    append_evs(db, crash_evs, 0, CRASH_N, PL_T0 + 17 * DAY, NULL);
    lh_pipeline_stats st;
    pl_run(db, CRASH_T1, &st);
    /* Then, in one stream (one shard), an event from the future that holds
     * the shard's flush back and 80 short-lived ones behind it: the purge
     * of the shard removes those. */
    append_evs(db, crash_evs, CRASH_N, CRASH_ALL - CRASH_N, CRASH_T1, NULL);
    lh_db_close(db);
    return dir;
}

static void
test_crash(void **state)
{
    (void)state;
    for (int i = 0; i < CRASH_N; i++) {
        snprintf(crash_evs[i].stream, sizeof(crash_evs[i].stream), "s%d",
                 i % 9);
        crash_evs[i].ts = PL_T0 + i * PL_HOUR;
        crash_evs[i].ttl = i % 5 == 0 ? 2 * 86400 : i % 7 == 0 ? 30 * 86400 : 0;
    }
    for (int i = CRASH_N; i < CRASH_ALL; i++) {
        strcpy(crash_evs[i].stream, "late");
        crash_evs[i].ts = i == CRASH_N ? CRASH_T2 + DAY : CRASH_T1;
        crash_evs[i].ttl = i == CRASH_N ? 0 : 3600;
    }
    lh_db *db;
    lh_pipeline_stats st;
    bool w[CRASH_ALL];
    for (int i = 0; i < CRASH_ALL; i++) {
        w[i] = crash_visible(&crash_evs[i]);
    }
    /* The uninterrupted run: how many of its steps are retention's. */
    char *dir = crash_fresh();
    db = ht_open(dir);
    killer none = {-1, 0, false, 0};
    lh__pipeline_opts o = {
        .until_idle = true,
        .flush = {.delete_rows = 40, .on_step = on_step, .ctx = &none}};
    lh_time_set_frozen(CRASH_T2, true);
    lh_err err;
    assert_int_equal(lh__pipeline_run(db, &o, &st, &err), LH_OK);
    assert_present(db, CRASH_ALL, w, "after the uninterrupted run");
    printf("the run has %d steps, %d of them retention's\n", none.count,
           none.ours);
    assert_true(none.ours >= 5);
    lh_db_close(db);
    ht_rmdir(dir);
    int kills = 0;
    for (int target = 1;; target++) {
        dir = crash_fresh();
        bool killed = crash_child(dir, target);
        db = ht_open(dir);
        /* Right after the kill: every visible event still there, once. */
        int *counts = calloc(CRASH_ALL, sizeof(int));
        pl_account a;
        pl_account_get_counts(db, "ev", &a, counts, CRASH_ALL);
        pl_account_free(&a);
        for (int i = 0; i < CRASH_ALL; i++) {
            if (w[i] && counts[i] != 1) {
                fail_msg("killed at step %d: event %d is in the tiers %d "
                         "times",
                         target, i, counts[i]);
            }
            assert_true(counts[i] <= 1);
        }
        free(counts);
        /* The next run finishes the removal. */
        pl_run(db, CRASH_T2, &st);
        assert_present(db, CRASH_ALL, w, "after the run that follows a kill");
        lh_db_close(db);
        ht_rmdir(dir);
        if (!killed) {
            break;
        }
        kills++;
    }
    printf("killed the run after each of its %d steps\n", kills);
    assert_true(kills >= 5);
    lh_time_set_frozen(0, false);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ttl),         cmocka_unit_test(test_retention),
        cmocka_unit_test(test_stream_meta), cmocka_unit_test(test_erase),
        cmocka_unit_test(test_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
