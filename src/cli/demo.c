/*
 * lakehouse demo DIR [--events N] [--customers N] [--seed S]
 *
 * A year of an online shop's order events in one table, moved through the
 * tiers by the pipeline under a simulated clock, then queried. The clock
 * (lh_clock_set, what LH_NOW sets for one command) steps through the year
 * one day at a time: each day's events are appended with that day's
 * timestamps and commit times, and every 30 days the pipeline runs as it
 * would have then (flushes past the 72 h hot window, compactions past the
 * 90 d warm window, TTLs). At the end the newest days are in the hot tier,
 * the last three months warm, the rest cold.
 *
 * The events: customers are the streams ("customer-00042"), how often each
 * one orders is skewed (a power law: the first customers order most);
 * event types OrderPlaced, OrderPaid, OrderShipped, OrderRefunded and
 * CartAbandoned (with a TTL of 7 days: the pipeline removes them);
 * amounts log-normal; five regions of unequal size; more orders at
 * weekends and in November and December. Deterministic for a seed.
 *
 * It prints what it did, with timings, the tiers (as `lakehouse tiers`
 * does), a stream read back from every tier, a few queries with their
 * timings and EXPLAIN, and the erasure of one customer. The queries are
 * written to mean something whichever tiers SQL reads (today the hot tier;
 * with the query router every tier).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"

const char cli_demo_usage[] = "  lakehouse demo DIR [--events N] "
                              "[--customers N] [--seed S]\n";

#define DEMO_START INT64_C(1735689600000000) /* 2025-01-01T00:00:00Z */
#define DEMO_DAYS 365
#define DAY_US (INT64_C(86400) * 1000000)
#define CALL 1000
#define PIPELINE_EVERY 30 /* simulated days between pipeline runs */

static const char *const TABLE =
    "{\"name\": \"orders\", \"columns\": ["
    "{\"name\": \"order_id\", \"type\": \"BIGINT\", \"nullable\": false},"
    "{\"name\": \"region\", \"type\": \"VARCHAR(16)\", \"nullable\": false},"
    "{\"name\": \"channel\", \"type\": \"VARCHAR(8)\"},"
    "{\"name\": \"sku\", \"type\": \"VARCHAR(16)\"},"
    "{\"name\": \"items\", \"type\": \"INTEGER\"},"
    "{\"name\": \"amount\", \"type\": \"DECIMAL(10,2)\"}],"
    " \"partition_by\": \"day(ts)\", \"cluster_by\": [\"region\"],"
    " \"hot_window\": \"72h\", \"warm_window\": \"90d\", \"shards\": 4}";

static const char *const REGIONS[] = {"eu-west", "us-east", "us-west",
                                      "ap-south", "sa-east"};
static const double REGION_W[] = {0.34, 0.30, 0.18, 0.12, 0.06};

/* xorshift64*: a fixed sequence for a seed, whatever the libc. */
typedef struct rng {
    uint64_t s;
} rng;

static double
uniform(rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return (double)((r->s * UINT64_C(2685821657736338717)) >> 11) /
           9007199254740992.0;
}

static double
gauss(rng *r)
{
    double u = uniform(r), v = uniform(r);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

static int
pick(rng *r, const double *w, int n)
{
    double u = uniform(r);
    for (int i = 0; i < n - 1; i++) {
        if (u < w[i]) {
            return i;
        }
        u -= w[i];
    }
    return n - 1;
}

static double
secs_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) +
           (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* How busy a day is: weekends and the year's end are busier. */
static double
day_weight(int d)
{
    int wday = (d + 3) % 7; /* 2025-01-01 was a Wednesday: 0 = Monday */
    double w = wday >= 5 ? 1.35 : 1.0;
    if (d >= 304) { /* November, December */
        w *= 1.8;
    }
    return w * (1.0 + 0.15 * sin(d / 58.0));
}

typedef struct demo {
    lh_db *db;
    rng r;
    int64_t customers;
    int64_t next_order;
    lh_pipeline_stats total;
    int runs;
    double pipeline_s;
} demo;

static void
ts_text(int64_t us, char *buf, size_t n)
{
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
run_pipeline(demo *d)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    lh_pipeline_stats st;
    lh_err err;
    lh_rc rc = lh_pipeline_run(d->db, true, &st, &err);
    d->pipeline_s += secs_since(&t0);
    if (rc != LH_OK) {
        return cli_fail(&err, rc);
    }
    d->runs++;
    d->total.flushes += st.flushes;
    d->total.events_flushed += st.events_flushed;
    d->total.files_written += st.files_written;
    d->total.compactions += st.compactions;
    d->total.events_removed += st.events_removed;
    d->total.expired_snapshots += st.expired_snapshots;
    return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* One day's n events, appended at the end of that day. */
static int
append_day(demo *d, int day, int64_t n)
{
    static lh_event_in in[CALL];
    static char stream[CALL][24], ts[CALL][32], data[CALL][200];
    int64_t t0 = DEMO_START + day * DAY_US;
    lh_clock_set(t0 + DAY_US - 1);
    /* The day's timestamps, in order. */
    int64_t *offs = malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
    if (offs == NULL) {
        fprintf(stderr, "lakehouse: out of memory\n");
        return EXIT_FAIL;
    }
    for (int64_t i = 0; i < n; i++) {
        offs[i] = (int64_t)(uniform(&d->r) * (double)(DAY_US - 1));
    }
    qsort(offs, (size_t)n, sizeof(*offs), cmp_i64);
    static const char *const TYPES[] = {"OrderPlaced", "OrderPaid",
                                        "OrderShipped", "OrderRefunded",
                                        "CartAbandoned"};
    static const double TYPE_W[] = {0.38, 0.31, 0.23, 0.03, 0.05};
    static const char *const CHANNELS[] = {"web", "app", "store"};
    static const double CHANNEL_W[] = {0.55, 0.35, 0.10};
    int rc = 0;
    for (int64_t done = 0; rc == 0 && done < n;) {
        int k = (int)(n - done < CALL ? n - done : CALL);
        for (int j = 0; j < k; j++) {
            /* power law: u^3 puts most orders on the first customers */
            double u = uniform(&d->r);
            int64_t c = (int64_t)(u * u * u * (double)d->customers);
            int type = pick(&d->r, TYPE_W, 5);
            int region =
                (int)(c % 5 == 0 ? pick(&d->r, REGION_W, 5) : (c * 7) % 5);
            int64_t order =
                type == 0
                    ? ++d->next_order
                    : 1 + (int64_t)(uniform(&d->r) * (double)d->next_order);
            double amount = exp(3.6 + 0.75 * gauss(&d->r));
            int items = 1 + (int)(uniform(&d->r) * uniform(&d->r) * 8);
            snprintf(stream[j], sizeof(stream[j]), "customer-%05lld",
                     (long long)c);
            ts_text(t0 + offs[done + j], ts[j], sizeof(ts[j]));
            snprintf(data[j], sizeof(data[j]),
                     "{\"order_id\": %lld, \"region\": \"%s\", \"channel\": "
                     "\"%s\", \"sku\": \"SKU-%04d\", \"items\": %d, "
                     "\"amount\": %.2f}",
                     (long long)order, REGIONS[region],
                     CHANNELS[pick(&d->r, CHANNEL_W, 3)],
                     (int)(uniform(&d->r) * uniform(&d->r) * 2000), items,
                     type == 3 ? -amount : amount);
            in[j] = (lh_event_in){.stream = stream[j],
                                  .type = TYPES[type],
                                  .ts = ts[j],
                                  .data_json = data[j],
                                  .ttl_seconds = type == 4 ? 7 * 86400 : 0};
        }
        lh_err err;
        lh_rc r = lh_append(d->db, "orders", in, (size_t)k, NULL, NULL, &err);
        if (r != LH_OK) {
            rc = cli_fail(&err, r);
        }
        done += k;
    }
    free(offs);
    return rc;
}

/* Prints a query, its rows and time, then its plan. */
static int
show_query(lh_session *s, const char *title, const char *sql)
{
    printf("\n-- %s\n%s;\n", title, sql);
    fflush(stdout);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    lh_err err;
    lh_rc rc = lh_sql_run(s, sql, "table", stdout, &err);
    double ms = secs_since(&t0) * 1000.0;
    if (rc != LH_OK) {
        return cli_fail(&err, rc);
    }
    printf("Time: %.1f ms\n", ms);
    char explain[2048];
    snprintf(explain, sizeof(explain), "EXPLAIN %s", sql);
    printf("EXPLAIN\n");
    fflush(stdout);
    rc = lh_sql_run(s, explain, "table", stdout, &err);
    return rc == LH_OK ? 0 : cli_fail(&err, rc);
}

static int
show_queries(demo *d)
{
    lh_session *s;
    lh_err err;
    lh_rc rc = lh_session_open(d->db, NULL, &s, &err);
    if (rc != LH_OK) {
        return cli_fail(&err, rc);
    }
    char last_day[256], sql[1024];
    char day[32];
    ts_text(DEMO_START + (DEMO_DAYS - 1) * DAY_US, day, sizeof(day));
    snprintf(last_day, sizeof(last_day), "ts >= TIMESTAMP '%.10s'", day);
    int r =
        show_query(s, "what each event type amounts to (every tier SQL reads)",
                   "SELECT type, count(*) AS events, sum(amount) AS "
                   "amount FROM orders GROUP BY type ORDER BY events DESC");
    if (r == 0) {
        snprintf(sql, sizeof(sql),
                 "SELECT region, count(*) AS orders, sum(amount) AS revenue, "
                 "round(avg(amount), 2) AS avg_amount FROM orders WHERE "
                 "type = 'OrderPaid' AND %s GROUP BY region ORDER BY revenue "
                 "DESC",
                 last_day);
        r = show_query(s, "the last day's revenue by region (the hot tier)",
                       sql);
    }
    if (r == 0) {
        r = show_query(s, "the busiest customer's latest events (one stream)",
                       "SELECT version, type, ts, order_id, amount FROM orders "
                       "WHERE stream = 'customer-00000' ORDER BY version DESC "
                       "LIMIT 5");
    }
    if (r == 0) {
        r = show_query(s,
                       "paid orders per month (one row per month SQL can see)",
                       "SELECT date_trunc('month', ts) AS month, count(*) AS "
                       "orders, sum(amount) AS revenue FROM orders WHERE type "
                       "= 'OrderPaid' GROUP BY 1 ORDER BY 1");
    }
    lh_session_close(s);
    return r;
}

/* The event-sourcing read of a stream: every tier, in version order;
 * *count, *last (its last version) and *ordered filled. */
static lh_rc
read_stream(demo *d, const char *stream, int64_t *count, int64_t *last,
            bool *ordered, lh_err *err)
{
    lh_reader *rd;
    lh_rc rc =
        lh_read_stream(d->db, "orders", stream, 0, LH_FORWARD, 0, &rd, err);
    *count = *last = 0;
    *ordered = true;
    while (rc == LH_OK) {
        const lh_event *e;
        rc = lh_reader_next(rd, &e, err);
        if (rc != LH_OK || e == NULL) {
            break;
        }
        *ordered = *ordered && e->version > *last;
        *last = e->version;
        (*count)++;
    }
    lh_reader_close(rd);
    return rc;
}

static int
show_stream_read(demo *d)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    lh_err err;
    int64_t n, last;
    bool ordered;
    lh_rc rc = read_stream(d, "customer-00000", &n, &last, &ordered, &err);
    if (rc != LH_OK) {
        return cli_fail(&err, rc);
    }
    printf("\n-- the stream customer-00000 read back from every tier: %lld "
           "events (versions %s, last %lld) in %.1f ms\n",
           (long long)n, ordered ? "ascending" : "OUT OF ORDER",
           (long long)last, secs_since(&t0) * 1000.0);
    return 0;
}

/* A customer's right to erasure: unreadable at once, out of the lake at
 * the next pipeline run (at the same time: no more TTLs run out). */
static int
show_erasure(demo *d)
{
    char stream[32];
    snprintf(stream, sizeof(stream), "customer-%05lld",
             (long long)(d->customers * 3 / 4));
    lh_err err;
    int64_t before, after, last;
    bool ordered;
    lh_rc rc = read_stream(d, stream, &before, &last, &ordered, &err);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (rc == LH_OK && before > 0) {
        rc = lh_stream_erase(d->db, "orders", stream, &err);
    }
    double erase_ms = secs_since(&t0) * 1000.0;
    if (rc == LH_OK) {
        rc = read_stream(d, stream, &after, &last, &ordered, &err);
    }
    if (rc != LH_OK) {
        return cli_fail(&err, rc);
    }
    printf("\n-- right to erasure: lakehouse erase DIR orders %s\n"
           "erased: %lld events, %lld readable after (gone from the hot "
           "tier in %.1f ms)\n",
           stream, (long long)before, (long long)after, erase_ms);
    int64_t removed = d->total.events_removed;
    double s0 = d->pipeline_s;
    int r = run_pipeline(d);
    if (r == 0) {
        printf("the next pipeline run removed the other %lld from the lake "
               "in %.2f s; the files they were in go with snapshot expiry\n",
               (long long)(d->total.events_removed - removed),
               d->pipeline_s - s0);
    }
    return r;
}

int
cli_demo(int argc, char **argv)
{
    opt opts[] = {{"events", true, NULL, false},
                  {"customers", true, NULL, false},
                  {"seed", true, NULL, false}};
    args a;
    int r = cli_parse_args(argc, argv, opts, 3, &a);
    if (r != 0) {
        return r;
    }
    if (a.npos != 1) {
        return cli_usage_error("%s", "demo DIR [--events N] [--customers N] "
                                     "[--seed S]");
    }
    int64_t events = 100000, customers = 0, seed = 42;
    if ((opts[0].set && !cli_parse_int(opts[0].value, 1, &events)) ||
        (opts[1].set && !cli_parse_int(opts[1].value, 1, &customers)) ||
        (opts[2].set && !cli_parse_int(opts[2].value, 0, &seed))) {
        return cli_usage_error("%s", "--events, --customers and --seed take "
                                     "whole numbers (events and customers "
                                     ">= 1)");
    }
    if (customers == 0) {
        customers = events / 40 > 50 ? events / 40 : 50;
    }
    const char *dir = a.pos[0];
    struct stat sb;
    if (stat(dir, &sb) == 0) {
        fprintf(stderr,
                "lakehouse: \"%s\" exists: the demo makes a new data "
                "directory (remove it or name another)\n",
                dir);
        return EXIT_BADINPUT;
    }
    struct timespec t_all;
    clock_gettime(CLOCK_MONOTONIC, &t_all);
    lh_err err;
    lh_rc rc = lh_db_init(dir, &err);
    demo d = {.r = {(uint64_t)seed * 0x9E3779B97F4A7C15ull + 1},
              .customers = customers};
    if (rc == LH_OK) {
        lh_clock_set(DEMO_START);
        rc = lh_db_open(dir, NULL, &d.db, &err);
    }
    if (rc == LH_OK) {
        rc = lh_table_create(d.db, TABLE, strlen(TABLE), &err);
    }
    if (rc != LH_OK) {
        return cli_fail(&err, rc);
    }
    printf("lakehouse demo: %lld order events of %lld customers, "
           "2025-01-01 to 2025-12-31, into %s\n",
           (long long)events, (long long)customers, dir);
    double wsum = 0;
    for (int day = 0; day < DEMO_DAYS; day++) {
        wsum += day_weight(day);
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t appended = 0;
    double acc = 0, ingest_s = 0;
    for (int day = 0; r == 0 && day < DEMO_DAYS; day++) {
        acc += (double)events * day_weight(day) / wsum;
        int64_t n = (int64_t)(acc + 0.5) - appended;
        struct timespec ta;
        clock_gettime(CLOCK_MONOTONIC, &ta);
        r = append_day(&d, day, n);
        ingest_s += secs_since(&ta);
        appended += n;
        if (r == 0 && (day + 1) % PIPELINE_EVERY == 0) {
            r = run_pipeline(&d);
        }
    }
    if (r == 0) {
        lh_clock_set(DEMO_START + DEMO_DAYS * DAY_US);
        r = run_pipeline(&d);
    }
    if (r != 0) {
        lh_db_close(d.db);
        return r;
    }
    printf("ingest: %lld events in %d simulated days: %.2f s (%.0f "
           "events/s)\n",
           (long long)appended, DEMO_DAYS, ingest_s,
           ingest_s > 0 ? (double)appended / ingest_s : 0.0);
    printf("pipeline: %d runs, one every %d simulated days: flushed %lld "
           "events in %lld files (%lld commits), compacted %lld partitions "
           "into the cold tier, removed %lld expired events, expired %lld "
           "snapshots: %.2f s\n",
           d.runs, PIPELINE_EVERY, (long long)d.total.events_flushed,
           (long long)d.total.files_written, (long long)d.total.flushes,
           (long long)d.total.compactions, (long long)d.total.events_removed,
           (long long)d.total.expired_snapshots, d.pipeline_s);
    printf("simulated: %.2f s in all\n\n", secs_since(&t0));
    lh_tier_stats *ts = NULL;
    size_t nts = 0;
    rc = lh_tiers_get(d.db, "orders", &ts, &nts, &err);
    if (rc == LH_OK) {
        printf("-- the tiers at 2026-01-01 (lakehouse tiers %s)\n", dir);
        cli_tiers_print(ts, nts);
    }
    lh_free_mem(ts);
    if (rc != LH_OK) {
        r = cli_fail(&err, rc);
    }
    if (r == 0) {
        r = show_stream_read(&d);
    }
    if (r == 0) {
        r = show_queries(&d);
    }
    if (r == 0) {
        r = show_erasure(&d);
    }
    lh_db_close(d.db);
    if (r == 0) {
        printf("\ndemo: %.2f s in all; the data stays in %s (try `lakehouse "
               "sql %s`)\n",
               secs_since(&t_all), dir, dir);
    }
    return r;
}
