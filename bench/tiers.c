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
 * Then the tiers as lh_tiers_get reports them. The query latencies of the
 * issue's benchmark (hot point query, warm 1-day and all-tier aggregates
 * against DuckDB) need the query router, which is not there yet.
 * --quick: 20,000 events, a smoke run for ctest. Exit 1 only when a call
 * fails.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lakehouse.h"
#include "util/util.h"

#define CALL 1000
#define T0 (INT64_C(1767225600) * 1000000) /* 2026-01-01 */

static int64_t nevents = 2000000;

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
        } else {
            fprintf(stderr, "usage: bench_tiers [--quick] [--events N]\n");
            return 2;
        }
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
    char cmd[4300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_tiers: could not remove %s\n", top);
    }
    return 0;
}
