/* Shared helpers for the pipeline tests: a table of numbered events with
 * chosen timestamps, and an exact account of where every event is (the
 * lake's rows read back through the Iceberg reader, the shards' rows
 * through SQLite). */
#ifndef LH_PL_TEST_H
#define LH_PL_TEST_H

#include "../hot/hot_test.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <time.h>

#include "pipeline/pipeline_int.h"

/* 2026-01-01 00:00:00 UTC */
#define PL_T0 (INT64_C(1767225600) * 1000000)
#define PL_MIN (INT64_C(60) * 1000000)
#define PL_HOUR (60 * PL_MIN)

static inline void
pl_ts_text(lh_us us, char *buf, size_t n)
{
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Appends events first..first+n-1: event i has stream "s<i % streams>",
 * ts = t0 + i * step, payload {"n": i}, in calls of up to 500. */
static inline void
pl_append(lh_db *db, const char *table, int64_t first, int64_t n, int streams,
          lh_us t0, lh_us step, const char *tier_hint)
{
    enum { CALL = 500 };
    lh_event_in *evs = calloc(CALL, sizeof(*evs));
    char(*bufs)[3][64] = calloc(CALL, sizeof(*bufs));
    for (int64_t done = 0; done < n;) {
        int64_t k = n - done < CALL ? n - done : CALL;
        for (int64_t j = 0; j < k; j++) {
            int64_t i = first + done + j;
            snprintf(bufs[j][0], 64, "s%lld", (long long)(i % streams));
            pl_ts_text(t0 + i * step, bufs[j][1], 64);
            snprintf(bufs[j][2], 64, "{\"n\": %lld}", (long long)i);
            evs[j] = (lh_event_in){.stream = bufs[j][0],
                                   .type = "Numbered",
                                   .ts = bufs[j][1],
                                   .data_json = bufs[j][2],
                                   .tier_hint = tier_hint};
        }
        lh_err err;
        lh_rc rc = lh_append(db, table, evs, (size_t)k, NULL, NULL, &err);
        if (rc != LH_OK) {
            fail_msg("append: %s", err.msg);
        }
        done += k;
    }
    free(bufs);
    free(evs);
}

static inline void
pl_count(int *counts, int max, int64_t n)
{
    if (counts != NULL) {
        assert_true(n >= 0 && n < max);
        counts[n]++;
    }
}

/* lh_pipeline_run(until_idle) at clock now, which must succeed and end
 * idle. */
static inline void
pl_run(lh_db *db, lh_us now, lh_pipeline_stats *st)
{
    lh_time_set_frozen(now, true);
    lh_err err;
    lh_rc rc = lh_pipeline_run(db, true, st, &err);
    if (rc != LH_OK) {
        fail_msg("pipeline run: %s", err.msg);
    }
    assert_true(st->idle);
}

/* lh__pipeline_run(o) on dir at clock now in a child process, which o's
 * step hook may kill (the crash tests): true when SIGKILL ended it, false
 * when it finished. */
static inline bool
pl_run_child(const char *dir, lh_us now, const lh__pipeline_opts *o)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        lh_time_set_frozen(now, true);
        lh_db *db;
        lh_err err;
        if (lh_db_open(dir, NULL, &db, &err) != LH_OK) {
            fprintf(stderr, "child open: %s\n", err.msg);
            _exit(2);
        }
        lh_pipeline_stats st;
        if (lh__pipeline_run(db, o, &st, &err) != LH_OK) {
            fprintf(stderr, "child run: %s\n", err.msg);
            _exit(3);
        }
        lh_db_close(db);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) {
        assert_int_equal(WTERMSIG(status), SIGKILL);
        return true;
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    return false;
}

/* Where the events of a table are. */
typedef struct pl_account {
    int nshards;
    int64_t marks[16];
    int64_t lake_rows, hot_rows, hot_below_mark;
    int64_t last[16];    /* each shard's last position */
    uint8_t *seen[16];   /* per shard, by position: times seen */
    int64_t payload_sum; /* of "n" over lake and hot (past the marks) */
    int64_t lake_files;
    int64_t snapshots;
    int64_t last_snapshot_ms;
} pl_account;

static inline void
pl_account_free(pl_account *a)
{
    for (int i = 0; i < a->nshards; i++) {
        free(a->seen[i]);
    }
}

static inline void
pl_see(pl_account *a, int shard, int64_t pos)
{
    assert_true(shard >= 0 && shard < a->nshards);
    assert_true(pos >= 1 && pos <= a->last[shard]);
    a->seen[shard][pos]++;
}

/* pl_account_get, also counting in counts[n] (NULL: not) the rows of
 * each payload n (0 <= n < max) in the lake and the shards. */
static inline void
pl_account_get_counts(lh_db *db, const char *table, pl_account *a, int *counts,
                      int max)
{
    memset(a, 0, sizeof(*a));
    if (counts != NULL) {
        memset(counts, 0, sizeof(int) * (size_t)max);
    }
    lh_table *t;
    lh_err err;
    assert_int_equal(lh__db_table(db, table, &t, &err), LH_OK);
    a->nshards = t->nshards;
    assert_true(a->nshards <= 16);
    for (int i = 0; i < t->nshards; i++) {
        a->last[i] = t->shards[i].last_position;
        a->seen[i] = calloc((size_t)a->last[i] + 1, 1);
    }
    lh__lake *l;
    lh_rc rc = lh__lake_open(t, &l, &err);
    if (rc != LH_OK) {
        fail_msg("lake: %s", err.msg);
    }
    memcpy(a->marks, l->marks, sizeof(int64_t) * (size_t)t->nshards);
    if (l->ice != NULL) {
        const lh_ice_meta *m = lh_ice_table_meta(l->ice);
        a->snapshots = m->nsnapshots;
        for (uint32_t i = 0; i < m->nsnapshots; i++) {
            /* snapshot times never go back */
            assert_true(m->snapshots[i].timestamp_ms >= a->last_snapshot_ms);
            a->last_snapshot_ms = m->snapshots[i].timestamp_ms;
        }
        lh_arena ar;
        lh_arena_init(&ar, 0);
        lh_ice_plan plan;
        rc = lh_ice_plan_scan(l->ice, NULL, &ar, &plan, &err);
        if (rc != LH_OK) {
            fail_msg("plan: %s", err.msg);
        }
        a->lake_files = plan.ntasks;
        int32_t ids[] = {LH__F_SHARD, LH__F_POSITION, 100};
        for (uint32_t i = 0; i < plan.ntasks; i++) {
            lh_ice_reader *r;
            rc = lh_ice_read_open(l->ice, &plan, &plan.tasks[i], ids, 3, &r,
                                  &err);
            if (rc != LH_OK) {
                fail_msg("read: %s", err.msg);
            }
            for (;;) {
                lh_batch b;
                assert_int_equal(lh_ice_read_next(r, &b, &err), LH_OK);
                if (b.count == 0) {
                    break;
                }
                for (uint32_t k = 0; k < b.count; k++) {
                    int sh = ((const int32_t *)b.cols[0].data)[k];
                    int64_t pos = ((const int64_t *)b.cols[1].data)[k];
                    /* lake rows are at or below their shard's mark */
                    assert_true(pos <= a->marks[sh]);
                    pl_see(a, sh, pos);
                    int64_t n = ((const int64_t *)b.cols[2].data)[k];
                    a->payload_sum += n;
                    a->lake_rows++;
                    pl_count(counts, max, n);
                }
            }
            lh_ice_read_close(r);
        }
        lh_arena_release(&ar);
    }
    for (int i = 0; i < t->nshards; i++) {
        sqlite3 *c;
        assert_int_equal(
            sqlite3_open_v2(t->shards[i].path, &c, SQLITE_OPEN_READONLY, NULL),
            SQLITE_OK);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(c,
                                            "SELECT position, c100 FROM "
                                            "events ORDER BY position",
                                            -1, &st, NULL),
                         SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            int64_t pos = sqlite3_column_int64(st, 0);
            if (pos <= a->marks[i]) {
                a->hot_below_mark++; /* in the lake already */
                continue;
            }
            pl_see(a, i, pos);
            a->payload_sum += sqlite3_column_int64(st, 1);
            a->hot_rows++;
            pl_count(counts, max, sqlite3_column_int64(st, 1));
        }
        sqlite3_finalize(st);
        sqlite3_close(c);
    }
    lh__lake_close(l);
}

static inline void
pl_account_get(lh_db *db, const char *table, pl_account *a)
{
    pl_account_get_counts(db, table, a, NULL, 0);
}

/* Every position of every shard is in exactly one tier. */
static inline void
pl_assert_exactly_once(const pl_account *a, int64_t events, int64_t payload_sum)
{
    int64_t total = 0;
    for (int i = 0; i < a->nshards; i++) {
        for (int64_t p = 1; p <= a->last[i]; p++) {
            if (a->seen[i][p] != 1) {
                fail_msg("shard %d position %lld seen %d times", i,
                         (long long)p, a->seen[i][p]);
            }
        }
        total += a->last[i];
    }
    assert_int_equal(total, events);
    assert_int_equal(a->lake_rows + a->hot_rows, events);
    assert_int_equal(a->payload_sum, payload_sum);
}

#endif
