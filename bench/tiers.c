/*
 * bench_tiers: the pipeline's throughput (issue 6, "Benchmark").
 *
 * One table of N events (--events, default 2,000,000) over 365 days, with
 * the default shards and policy but a 72 h hot window, on a fresh database
 * in a temporary directory:
 *
 * 1. ingest alone: the first half of the events, 1,000 a call from one
 *    thread (the baseline);
 * 2. flush: lh_pipeline_run with the clock a day past the last event: every
 *    event moves from SQLite to a committed Iceberg snapshot (Parquet
 *    written, committed, deleted from the shards): events/s;
 * 3. ingest while flushing: the second half appended by one thread while
 *    another runs the pipeline in a loop (each run flushes what was
 *    appended since the last one): events/s of both, and the ratio of
 *    ingest with and without the flushes beside it (the goal: ingest never
 *    waits on a flush for more than one group commit, so close to 1).
 *
 * 4. compaction: the clock moved so that 276 days are past the warm window
 *    (400 d here, so that steps 2 and 3 measure flushes alone): the
 *    partitions rewritten and the time it took.
 *
 * 5. queries through the tier router, with 1 % more events appended to
 *    the hot tier (so hot, warm and cold all hold events): the latency of
 *    a point query on a hot stream (p50, p99 of 200) and on one whose
 *    events are in the lake (of 50), of a 1-day aggregate
 *    in the warm tier and of an aggregate over every tier (p50 of 10 and
 *    5), and the all-tier aggregate's rate beside the same query over the
 *    hot tier alone (measured after step 1, half the events in SQLite);
 *    then the same queries in DuckDB over the same rows written as one
 *    plain Parquet file (COPY ... TO), best of 5 on both sides, and the
 *    ratio.
 *
 * Then the tiers as lh_tiers_get reports them. --quick: 20,000 events, a
 * smoke run for ctest; --keep leaves the database (its directory printed)
 * for profiling queries on it. Exit 1 only when a call fails.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "format/iceberg/iceberg.h"
#include "lakehouse.h"
#include "util/util.h"

#define CALL 1000
#define T0 (INT64_C(1767225600) * 1000000) /* 2026-01-01 */

static int64_t nevents = 2000000;
static bool keep; /* --keep: leave the database for a later look */

static void
die(const char *what, const lh_err *err)
{
    fprintf(stderr, "bench_tiers: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

static double
secs(lh_us since)
{
    return (double)(lh_mono_now() - since) / 1e6;
}

/* Events [first, first + n): event i at T0 + i * (365 d / N). */
static void
append_range(lh_db *db, int64_t first, int64_t n)
{
    lh_event_in *evs = calloc(CALL, sizeof(*evs));
    char(*buf)[3][96] = calloc(CALL, sizeof(*buf));
    lh_us step = 365 * LH_US_PER_DAY / nevents;
    for (int64_t done = 0; done < n;) {
        int64_t k = LH_MIN(n - done, CALL);
        for (int64_t j = 0; j < k; j++) {
            int64_t i = first + done + j;
            lh_us ts = T0 + i * step;
            time_t s = (time_t)(ts / 1000000);
            struct tm tm;
            gmtime_r(&s, &tm);
            snprintf(buf[j][0], 96, "order-%lld", (long long)(i / 4));
            strftime(buf[j][1], 96, "%Y-%m-%dT%H:%M:%SZ", &tm);
            snprintf(buf[j][2], 96,
                     "{\"tenant\": \"t%lld\", \"qty\": %lld, \"price\": "
                     "\"%lld.%02lld\"}",
                     (long long)(i % 97), (long long)(1 + i % 5),
                     (long long)(i % 300), (long long)(i % 100));
            static const char *const types[] = {
                "OrderPlaced", "OrderPaid", "OrderShipped", "OrderDelivered"};
            evs[j] = (lh_event_in){.stream = buf[j][0],
                                   .type = types[i % 4],
                                   .ts = buf[j][1],
                                   .data_json = buf[j][2]};
        }
        lh_err err;
        if (lh_append(db, "orders", evs, (size_t)k, NULL, NULL, &err) !=
            LH_OK) {
            die("append", &err);
        }
        done += k;
    }
    free(buf);
    free(evs);
}

/* ---- queries ------------------------------------------------------------ */

static char here[4096]; /* this file's directory */

/* n events in the last day before now, in streams hot-0 .. hot-99. */
static void
append_hot(lh_db *db, int64_t n)
{
    lh_event_in evs[CALL];
    char buf[CALL][2][64];
    lh_us now = lh_now();
    for (int64_t done = 0; done < n;) {
        int64_t k = LH_MIN(n - done, CALL);
        for (int64_t j = 0; j < k; j++) {
            int64_t i = done + j;
            lh_us ts = now - LH_US_PER_DAY + i * (LH_US_PER_DAY / n);
            time_t sec = (time_t)(ts / 1000000);
            struct tm tm;
            gmtime_r(&sec, &tm);
            snprintf(buf[j][0], 64, "hot-%lld", (long long)(i % 100));
            strftime(buf[j][1], 64, "%Y-%m-%dT%H:%M:%SZ", &tm);
            evs[j] = (lh_event_in){
                .stream = buf[j][0],
                .type = "OrderPlaced",
                .ts = buf[j][1],
                .data_json = "{\"tenant\": \"t1\", \"qty\": 1, \"price\": "
                             "\"1.00\"}"};
        }
        lh_err err;
        if (lh_append(db, "orders", evs, (size_t)k, NULL, NULL, &err) !=
            LH_OK) {
            die("append", &err);
        }
        done += k;
    }
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Runs sql `runs` times; ms[] sorted (the caller's, runs long). */
static void
timed(lh_session *s, const char *sql, int runs, double *ms)
{
    FILE *null = fopen("/dev/null", "w");
    for (int i = 0; i < runs; i++) {
        lh_us t = lh_mono_now();
        lh_err err;
        if (lh_sql_run(s, sql, "csv", null, &err) != LH_OK) {
            die(sql, &err);
        }
        ms[i] = (double)(lh_mono_now() - t) / 1000.0;
    }
    fclose(null);
    qsort(ms, (size_t)runs, sizeof(double), cmp_double);
}

static const char *const ALL_TIERS =
    "SELECT type, count(*), sum(qty), sum(price) FROM orders GROUP BY type";

/* The all-tier aggregate over the hot tier alone: ms (best of 3). */
static double
hot_only_aggregate(lh_db *db)
{
    lh_session *s;
    lh_err err;
    lh_session_options so = {.threads = 2};
    if (lh_session_open(db, &so, &s, &err) != LH_OK) {
        die("session", &err);
    }
    double ms[3];
    timed(s, ALL_TIERS, 3, ms);
    lh_session_close(s);
    return ms[0];
}

/* DuckDB's best times (ms; -1 when it failed) of the queries, after
 * setup (which makes the view orders). */
static void
duckdb_times(const char *top, const char *setup, const char *const *sql, int n,
             double *ms)
{
    for (int i = 0; i < n; i++) {
        ms[i] = -1;
    }
    char cmd[16384], spec[4300];
    snprintf(cmd, sizeof cmd, "node %s/queries_duck.mjs probe >/dev/null 2>&1",
             here);
    if (system(cmd) != 0) {
        return;
    }
    snprintf(spec, sizeof spec, "%s/tiers.json", top);
    FILE *f = fopen(spec, "w");
    if (f == NULL) {
        return;
    }
    fprintf(f, "{\"setup\": \"%s\", \"queries\": [", setup);
    for (int i = 0; i < n; i++) {
        fprintf(f, "%s{\"name\": \"q%d\", \"sql\": \"%s\"}", i ? ", " : "", i,
                sql[i]);
    }
    fputs("]}\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "node %s/queries_duck.mjs run %s 2 5", here,
             spec);
    FILE *p = popen(cmd, "r");
    char line[1024];
    int k = 0;
    while (p && k < n && fgets(line, sizeof line, p)) {
        const char *m = strstr(line, "\"ms\":");
        if (m) {
            ms[k] = strtod(m + 5, NULL);
        }
        k++;
    }
    if (p) {
        pclose(p);
    }
}

static void
ratio(const char *name, double ours, double duck)
{
    if (duck < 0) {
        printf("%-22s ours %9.2f ms | duckdb n/a\n", name, ours);
    } else {
        printf("%-22s ours %9.2f ms | duckdb %9.2f ms | ours/duckdb %.2f\n",
               name, ours, duck, ours / duck);
    }
}

/* "CREATE VIEW orders AS SELECT * FROM read_parquet([...])" over the data
 * files of the lake's current snapshot (malloc'd), or NULL. */
static char *
lake_files_view(const char *dir)
{
    char store[4300];
    char *abs = realpath(dir, NULL);
    if (abs == NULL) {
        return NULL;
    }
    snprintf(store, sizeof store, "file://%s/lake", abs);
    free(abs);
    lh_ice_open_opts o = {.store = store};
    lh_ice_table *t;
    lh_err err;
    if (lh_ice_table_open("orders", &o, &t, &err) != LH_OK) {
        return NULL;
    }
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_plan plan;
    lh_buf b = LH_BUF_INIT;
    if (lh_ice_plan_scan(t, NULL, &a, &plan, &err) == LH_OK) {
        lh_buf_puts(&b, "CREATE VIEW orders AS SELECT * FROM read_parquet([");
        for (uint32_t i = 0; i < plan.ntasks; i++) {
            const char *p = plan.tasks[i].file->path;
            if (strncmp(p, "file://", 7) == 0) {
                p += 7;
            }
            lh_buf_printf(&b, "%s'%s'", i ? "," : "", p);
        }
        lh_buf_puts(&b, "])");
    }
    lh_arena_release(&a);
    lh_ice_table_close(t);
    char *out = lh_buf_ok(&b) && b.len ? strdup(b.data) : NULL;
    lh_buf_release(&b);
    return out;
}

static void
queries(lh_db *db, const char *top, const char *dir, double hot_ms,
        int64_t hot_rows)
{
    int64_t extra = LH_MAX(nevents / 100, 1000);
    append_hot(db, extra);
    lh_session *s;
    lh_err err;
    lh_session_options so = {.threads = 2};
    if (lh_session_open(db, &so, &s, &err) != LH_OK) {
        die("session", &err);
    }
    /* day 300 is warm: compaction took days 0..275 */
    char day[160];
    snprintf(day, sizeof day,
             "SELECT tenant, count(*), sum(price) FROM orders WHERE ts >= "
             "TIMESTAMP '2026-10-28 00:00:00' AND ts < TIMESTAMP "
             "'2026-10-29 00:00:00' GROUP BY tenant");
    const char *sql[] = {
        "SELECT count(*), max(version) FROM orders WHERE stream = 'hot-17'",
        day, ALL_TIERS};
    double point[200], warm[10], all[5], lake[50];
    timed(s, sql[0], 200, point);
    /* a stream whose events are all in the lake (warm) */
    timed(s,
          "SELECT count(*), max(version) FROM orders WHERE stream = "
          "'order-200000'",
          50, lake);
    timed(s, sql[1], 10, warm);
    timed(s, sql[2], 5, all);
    printf("point query, hot stream: p50 %.2f ms, p99 %.2f ms\n", point[100],
           point[197]);
    printf("point query, lake stream: p50 %.2f ms, p99 %.2f ms\n", lake[25],
           lake[49]);
    printf("1-day warm aggregate:    p50 %.2f ms\n", warm[5]);
    printf("all-tier aggregate:      p50 %.2f ms (%lld events, %.1f M "
           "events/s); hot tier alone: %.2f ms (%lld events, %.1f M "
           "events/s)\n",
           all[2], (long long)(nevents + extra),
           (double)(nevents + extra) / all[2] / 1e3, hot_ms,
           (long long)hot_rows, (double)hot_rows / hot_ms / 1e3);
    /* the same rows as one plain Parquet file, for DuckDB */
    char file[4300], copy[4600];
    snprintf(file, sizeof file, "%s/plain.parquet", top);
    snprintf(copy, sizeof copy,
             "COPY (SELECT stream, version, type, ts, tenant, qty, price FROM "
             "orders) TO '%s'",
             file);
    FILE *null = fopen("/dev/null", "w");
    if (lh_sql_run(s, copy, "csv", null, &err) != LH_OK) {
        die("copy to parquet", &err);
    }
    fclose(null);
    double duck[3];
    char *setup = malloc(strlen(file) + 100);
    sprintf(setup, "CREATE VIEW orders AS SELECT * FROM read_parquet('%s')",
            file);
    duckdb_times(top, setup, sql, 3, duck);
    free(setup);
    ratio("point query (best)", point[0], duck[0]);
    ratio("1-day aggregate (best)", warm[0], duck[1]);
    ratio("all-tier agg. (best)", all[0], duck[2]);
    /* DuckDB over the lake's own files (the current snapshot's: the same
     * layout as ours, without the 1 % in the hot tier) */
    setup = lake_files_view(dir);
    if (setup != NULL) {
        duckdb_times(top, setup, sql + 2, 1, duck);
        ratio("all-tier, lake files", all[0], duck[0]);
        free(setup);
    }
    lh_session_close(s);
}

typedef struct flusher {
    lh_db *db;
    atomic_bool stop;
    int64_t events, runs;
    double seconds;
} flusher;

static void *
flush_loop(void *arg)
{
    flusher *f = arg;
    lh_us t = lh_mono_now();
    while (!atomic_load(&f->stop)) {
        lh_pipeline_stats st;
        lh_err err;
        if (lh_pipeline_run(f->db, false, &st, &err) != LH_OK) {
            die("pipeline run", &err);
        }
        f->events += st.events_flushed;
        f->runs++;
    }
    f->seconds = secs(t);
    return NULL;
}

int
main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            nevents = 20000;
        } else if (strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
            nevents = atoll(argv[++i]);
        } else if (strcmp(argv[i], "--keep") == 0) {
            keep = true;
        } else {
            fprintf(stderr,
                    "usage: bench_tiers [--quick] [--events N] [--keep]\n");
            return 2;
        }
    }
    snprintf(here, sizeof here, "%s", __FILE__);
    char *slash = strrchr(here, '/');
    if (slash != NULL) {
        *slash = 0;
    }
    const char *parent = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char top[4096];
    snprintf(top, sizeof(top), "%s/lh-bench-tiers-XXXXXX", parent);
    if (mkdtemp(top) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/data", top);
    lh_time_set_frozen(T0 + 366 * LH_US_PER_DAY, true);
    lh_db *db;
    lh_err err;
    lh_db_options o = {.flags = LH_OPEN_CREATE};
    if (lh_db_open(dir, &o, &db, &err) != LH_OK) {
        die("open", &err);
    }
    const char *def =
        "{\"name\": \"orders\", \"columns\": [{\"name\": \"tenant\", "
        "\"type\": \"VARCHAR\"}, {\"name\": \"qty\", \"type\": \"INT\"}, "
        "{\"name\": \"price\", \"type\": \"DECIMAL(10,2)\"}], "
        "\"cluster_by\": [\"tenant\"], \"warm_window\": \"400d\"}";
    if (lh_table_create(db, def, strlen(def), &err) != LH_OK) {
        die("create", &err);
    }
    int64_t half = nevents / 2;
    printf("bench_tiers: %lld events over 365 days\n", (long long)nevents);

    lh_us t = lh_mono_now();
    append_range(db, 0, half);
    double ingest_alone = (double)half / secs(t);
    printf("ingest alone:          %10.0f events/s (%lld events)\n",
           ingest_alone, (long long)half);
    double hot_ms = hot_only_aggregate(db);

    t = lh_mono_now();
    lh_pipeline_stats st;
    if (lh_pipeline_run(db, true, &st, &err) != LH_OK) {
        die("pipeline run", &err);
    }
    double fs = secs(t);
    printf("flush:                 %10.0f events/s (%lld events, %lld files, "
           "%.1f MB, %lld commits, %.2f s)\n",
           (double)st.events_flushed / fs, (long long)st.events_flushed,
           (long long)st.files_written, (double)st.bytes_written / 1e6,
           (long long)st.flushes, fs);

    flusher f = {.db = db};
    pthread_t th;
    pthread_create(&th, NULL, flush_loop, &f);
    t = lh_mono_now();
    append_range(db, half, nevents - half);
    double ingest_busy = (double)(nevents - half) / secs(t);
    atomic_store(&f.stop, true);
    pthread_join(th, NULL);
    printf("ingest while flushing: %10.0f events/s (%lld events; %lld "
           "pipeline runs beside it flushed %lld events)\n",
           ingest_busy, (long long)(nevents - half), (long long)f.runs,
           (long long)f.events);
    printf("ratio ingest while flushing / alone: %.2f\n",
           ingest_busy / ingest_alone);

    /* Compaction: the clock where the first 276 days are past the 400 d
     * warm window. */
    lh_time_set_frozen(T0 + 676 * LH_US_PER_DAY, true);
    t = lh_mono_now();
    if (lh_pipeline_run(db, true, &st, &err) != LH_OK) {
        die("pipeline run", &err);
    }
    double cs = secs(t);
    printf("compaction:            %lld partitions (%lld files) in %.2f s; "
           "%lld snapshots expired\n",
           (long long)st.compactions, (long long)st.files_compacted, cs,
           (long long)st.expired_snapshots);

    queries(db, top, dir, hot_ms, half);

    lh_tier_stats *ts;
    size_t n;
    if (lh_tiers_get(db, "orders", &ts, &n, &err) != LH_OK) {
        die("tiers", &err);
    }
    for (size_t i = 0; i < n; i++) {
        printf("tier %-4s %10lld rows %6lld files %12lld bytes\n", ts[i].tier,
               (long long)ts[i].rows, (long long)ts[i].files,
               (long long)ts[i].bytes);
    }
    lh_free_mem(ts);
    lh_db_close(db);
    if (keep) {
        printf("kept the database in %s\n", dir);
        return 0;
    }
    char cmd[4300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_tiers: could not remove %s\n", top);
    }
    return 0;
}
