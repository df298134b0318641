/*
 * bench_queries: SQL over the events data set (events.h) as Parquet, ours
 * against DuckDB 1.5 on the same files with the same thread count, in one
 * run (issue 5's benchmark): point lookup by stream, count, top-10
 * products by revenue (all time and the last 90 days), revenue per day,
 * distinct users, one tenant grouped by region and type, a join with a
 * 10,000-row products table, and ClickBench-style queries
 * (../shared/conformance/clickbench/) adapted to these columns.
 *
 * Each query runs 3 times on each side (best time, wall clock around the
 * statement; ours through lh_sql_run into /dev/null, DuckDB's through
 * bench/queries_duck.mjs's runAndReadAll), then once more on each side for
 * the result, compared row for row (tests/peers/duck.mjs sqlfile renders
 * DuckDB's rows in our output rules; numbers within a relative 1e-9).
 * Prints per query: our ms, DuckDB's ms, the ratio (ours / DuckDB's, lower
 * is better) and whether the results are the same; then the geometric mean
 * of the ratios and the largest. The issue's goal: geometric mean <= 1.0,
 * no query above 2.0, identical results.
 *
 *   bench_queries [--rows N] [--threads T] [--runs R] [--dir DIR]
 *                 [--windows] [--quick]
 *
 * --windows measures window functions instead (row_number, a running sum
 * and lag by stream, a 7-row moving average, a 1,001-row moving sum, a
 * RANGE of one hour, rank per tenant), with the same files and rules.
 * Defaults: 1,000,000 rows, 2 threads, 3 runs, files in a temporary
 * directory under /tmp (removed after). --quick: 50,000 rows, 1 run (ctest).
 * Without node or the peers the DuckDB columns say n/a. Exit 1 when one of
 * our queries fails or a result differs.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "format/parquet/writer.h"
#include "lakehouse.h"

typedef struct query {
    const char *name;
    const char *sql;
} query;

/* Timestamps: the data set starts 2026-01-01 and has a row every 30 s, so
 * 1M rows end near 2026-12-14 ("the last 90 days" is from 2026-09-15). */
static const query queries[] = {
    {"point lookup by stream",
     "SELECT version, type, ts, revenue FROM events WHERE stream = "
     "'order-00012345' ORDER BY version"},
    {"count", "SELECT count(*) FROM events"},
    {"top-10 products by revenue",
     "SELECT product, sum(revenue) AS rev FROM events GROUP BY product "
     "ORDER BY rev DESC, product LIMIT 10"},
    {"top-10 products, last 90 days",
     "SELECT product, sum(revenue) AS rev FROM events WHERE ts >= "
     "TIMESTAMPTZ '2026-09-15 00:00:00+00' GROUP BY product ORDER BY rev "
     "DESC, product LIMIT 10"},
    {"revenue per day",
     "SELECT date_trunc('day', ts) AS day, sum(revenue) AS rev FROM events "
     "GROUP BY 1 ORDER BY 1"},
    {"count distinct users", "SELECT count(DISTINCT user_id) FROM events"},
    {"tenant by region and type",
     "SELECT region, type, count(*) AS n, sum(revenue) AS rev FROM events "
     "WHERE tenant = 'tenant-042' GROUP BY region, type ORDER BY region, type"},
    {"join with products",
     "SELECT p.category, count(*) AS n, sum(e.revenue) AS rev FROM events e "
     "JOIN products p ON e.product = p.product GROUP BY p.category ORDER BY "
     "rev DESC, p.category LIMIT 10"},
    /* ClickBench-style (q00.. of conformance/clickbench, adapted) */
    {"cb q01 filtered count", "SELECT count(*) FROM events WHERE quantity > 5"},
    {"cb q02 sum count avg",
     "SELECT sum(quantity), count(*), avg(revenue) FROM events"},
    {"cb q03 avg", "SELECT avg(user_id) FROM events"},
    {"cb q05 distinct streams", "SELECT count(DISTINCT stream) FROM events"},
    {"cb q06 min max", "SELECT min(ts), max(ts) FROM events"},
    {"cb q08 group count",
     "SELECT region, count(*) AS c FROM events WHERE quantity > 1 GROUP BY "
     "region ORDER BY c DESC, region"},
    {"cb q09 distinct per group",
     "SELECT region, count(DISTINCT user_id) AS u FROM events GROUP BY "
     "region ORDER BY u DESC, region LIMIT 10"},
    {"cb q10 many aggregates",
     "SELECT region, sum(quantity), count(*) AS c, avg(revenue), "
     "count(DISTINCT user_id) FROM events GROUP BY region ORDER BY c DESC, "
     "region LIMIT 10"},
    {"cb q13 filtered group",
     "SELECT type, count(*) AS c FROM events WHERE payload IS NOT NULL "
     "GROUP BY type ORDER BY c DESC, type LIMIT 10"},
    {"cb q16 high-cardinality group",
     "SELECT user_id, count(*) AS c FROM events GROUP BY user_id ORDER BY c "
     "DESC, user_id LIMIT 10"},
    {"cb q17 two-key group",
     "SELECT user_id, type, count(*) AS c FROM events GROUP BY user_id, type "
     "ORDER BY c DESC, user_id, type LIMIT 10"},
    {"cb q21 LIKE count",
     "SELECT count(*) FROM events WHERE stream LIKE '%1234%'"},
    {"cb q24 LIKE top-n",
     "SELECT stream, version, ts FROM events WHERE stream LIKE '%0042%' "
     "ORDER BY ts LIMIT 10"},
    {"cb q28 avg length having",
     "SELECT tenant, avg(length(event_id)) AS l, count(*) AS c FROM events "
     "GROUP BY tenant HAVING count(*) > 100 ORDER BY l DESC, tenant LIMIT 25"},
    {"cb q43 per minute",
     "SELECT date_trunc('minute', ts) AS m, count(*) AS c FROM events WHERE "
     "ts >= TIMESTAMPTZ '2026-03-01 00:00:00+00' AND ts < TIMESTAMPTZ "
     "'2026-03-02 00:00:00+00' GROUP BY 1 ORDER BY 1 LIMIT 10 OFFSET 100"},
};
#define NQ (sizeof queries / sizeof queries[0])

/* --windows: window functions over the same events (each query sums its
 * window's column so that the result is one row to compare). ts is
 * unique, so every window's order is total. */
static const query window_queries[] = {
    {"row_number by stream",
     "SELECT count(*), sum(rn), max(rn) FROM (SELECT row_number() OVER "
     "(PARTITION BY stream ORDER BY ts) AS rn FROM events) q"},
    {"running sum by stream",
     "SELECT sum(rs) FROM (SELECT sum(revenue) OVER (PARTITION BY stream "
     "ORDER BY ts ROWS UNBOUNDED PRECEDING) AS rs FROM events) q"},
    {"7-row moving average",
     "SELECT sum(ma) FROM (SELECT avg(revenue) OVER (ORDER BY ts ROWS "
     "BETWEEN 6 PRECEDING AND CURRENT ROW) AS ma FROM events) q"},
    {"running count, default frame",
     "SELECT sum(c) FROM (SELECT count(*) OVER (PARTITION BY region ORDER "
     "BY quantity) AS c FROM events) q"},
    {"rank by tenant, top 3",
     "SELECT count(*) FROM (SELECT rank() OVER (PARTITION BY tenant ORDER "
     "BY revenue DESC) AS r FROM events) q WHERE r <= 3"},
    {"lag by stream",
     "SELECT sum(d) FROM (SELECT version - lag(version, 1, 0) OVER "
     "(PARTITION BY stream ORDER BY ts) AS d FROM events) q"},
    {"1001-row moving sum",
     "SELECT sum(s) FROM (SELECT sum(quantity) OVER (ORDER BY ts ROWS "
     "BETWEEN 500 PRECEDING AND 500 FOLLOWING) AS s FROM events) q"},
    {"moving max over 1 hour",
     "SELECT sum(m) FROM (SELECT max(quantity) OVER (ORDER BY ts RANGE "
     "BETWEEN INTERVAL '1 hour' PRECEDING AND CURRENT ROW) AS m FROM "
     "events) q"},
};
#define NWQ (sizeof window_queries / sizeof window_queries[0])
#define MAXQ 64
_Static_assert(NQ <= MAXQ && NWQ <= MAXQ, "MAXQ holds every query list");

/* The list this run measures (--windows picks the window queries). */
static const query *qs = queries;
static size_t nq = NQ;

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
die(const char *what, const lh_err *err)
{
    fprintf(stderr, "bench_queries: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

/* ---- the files ------------------------------------------------------------
 */

static void
write_events(const char *path, uint64_t rows)
{
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_batch b;
    bench_events_batch(0, 1, &a, &b);
    lh_pq_wcolumn wc[BENCH_EVENT_COLS];
    memset(wc, 0, sizeof wc);
    for (int c = 0; c < BENCH_EVENT_COLS; c++) {
        wc[c].name = bench_event_names[c];
        wc[c].type = b.cols[c].type;
        wc[c].nullable = c == BENCH_EVENT_COLS - 1;
    }
    lh_err err;
    lh_pq_writer *w;
    if (lh_pq_writer_open_path(path, wc, BENCH_EVENT_COLS, NULL, &w, &err) !=
        LH_OK) {
        die(path, &err);
    }
    for (uint64_t start = 0; start < rows; start += LH_BATCH_ROWS) {
        lh_arena_reset(&a);
        uint32_t n = (uint32_t)(rows - start < LH_BATCH_ROWS ? rows - start
                                                             : LH_BATCH_ROWS);
        bench_events_batch(start, n, &a, &b);
        if (lh_pq_writer_write(w, &b, &err) != LH_OK) {
            die(path, &err);
        }
    }
    if (lh_pq_writer_close(w, &err) != LH_OK) {
        die(path, &err);
    }
    lh_arena_release(&a);
}

/* products(product BIGINT, name VARCHAR, category VARCHAR, price
 * DECIMAL(10,2)): 10,000 rows, 20 categories. */
static void
write_products(const char *path)
{
    lh_type dec = {.id = LH_T_DECIMAL, .precision = 10, .scale = 2};
    lh_pq_wcolumn wc[4] = {{.name = "product", .type = {.id = LH_T_BIGINT}},
                           {.name = "name", .type = {.id = LH_T_VARCHAR}},
                           {.name = "category", .type = {.id = LH_T_VARCHAR}},
                           {.name = "price", .type = dec}};
    lh_err err;
    lh_pq_writer *w;
    if (lh_pq_writer_open_path(path, wc, 4, NULL, &w, &err) != LH_OK) {
        die(path, &err);
    }
    lh_arena a;
    lh_arena_init(&a, 0);
    for (uint32_t start = 0; start < 10000; start += 2000) {
        lh_arena_reset(&a);
        lh_vector v[4];
        for (int c = 0; c < 4; c++) {
            if (lh_vector_alloc(&v[c], wc[c].type, 2000, false, &a, &err) !=
                LH_OK) {
                die("products", &err);
            }
        }
        for (uint32_t i = 0; i < 2000; i++) {
            uint32_t p = start + i;
            ((int64_t *)v[0].data)[i] = p;
            char *s = lh_arena_alloc(&a, 16);
            int n = snprintf(s, 16, "product-%05u", p);
            ((lh_str *)v[1].data)[i] = lh_str_make(s, (uint32_t)n);
            char *c = lh_arena_alloc(&a, 8);
            n = snprintf(c, 8, "cat-%02u", (unsigned)(bench_mix(p) % 20));
            ((lh_str *)v[2].data)[i] = lh_str_make(c, (uint32_t)n);
            ((int64_t *)v[3].data)[i] =
                100 + (int64_t)(bench_mix(p + 1) % 99900);
        }
        lh_batch b = {.count = 2000, .ncols = 4, .cols = v};
        if (lh_pq_writer_write(w, &b, &err) != LH_OK) {
            die(path, &err);
        }
    }
    if (lh_pq_writer_close(w, &err) != LH_OK) {
        die(path, &err);
    }
    lh_arena_release(&a);
}

/* ---- results: NDJSON compared value by value ------------------------------
 */

/* The next value of a flat JSON object line (keys skipped); its text in
 * [*b, *e), false at the end of the line. */
static bool
next_value(const char **p, const char **b, const char **e)
{
    const char *s = *p;
    for (;;) {
        while (*s == ' ' || *s == '{' || *s == '}' || *s == ',' || *s == ':') {
            s++;
        }
        if (*s == 0 || *s == '\n') {
            *p = s;
            return false;
        }
        const char *start = s;
        if (*s == '"') {
            s++;
            while (*s && *s != '"') {
                s += *s == '\\' && s[1] ? 2 : 1;
            }
            if (*s == '"') {
                s++;
            }
        } else {
            while (*s && *s != ',' && *s != '}' && *s != '\n') {
                s++;
            }
        }
        const char *q = s;
        while (*q == ' ') {
            q++;
        }
        if (*start == '"' && *q == ':') {
            s = q + 1; /* a key */
            continue;
        }
        *b = start;
        *e = s;
        *p = s;
        return true;
    }
}

static bool
values_equal(const char *a, size_t na, const char *b, size_t nb)
{
    if (na == nb && memcmp(a, b, na) == 0) {
        return true;
    }
    if (*a == '"' || *b == '"') {
        return false;
    }
    char x[64], y[64];
    if (na >= sizeof x || nb >= sizeof y) {
        return false;
    }
    memcpy(x, a, na);
    x[na] = 0;
    memcpy(y, b, nb);
    y[nb] = 0;
    char *ex, *ey;
    double dx = strtod(x, &ex), dy = strtod(y, &ey);
    if (*ex || *ey) {
        return false;
    }
    double scale = fmax(fabs(dx), fabs(dy));
    return fabs(dx - dy) <= scale * 1e-9;
}

/* Whether two NDJSON results hold the same rows in the same order. */
static bool
same_rows(const char *a, const char *b)
{
    for (;;) {
        const char *ab, *ae, *bb, *be;
        bool ha = next_value(&a, &ab, &ae), hb = next_value(&b, &bb, &be);
        if (ha != hb) {
            return false;
        }
        if (!ha) {
            bool ea = *a == 0, eb = *b == 0;
            if (ea || eb) {
                return ea && eb;
            }
            a++; /* the next line */
            b++;
            continue;
        }
        if (!values_equal(ab, (size_t)(ae - ab), bb, (size_t)(be - bb))) {
            return false;
        }
    }
}

/* ---- DuckDB
 * ------------------------------------------------------------------ */

static char here[4096]; /* this file's directory */

static bool
have_duckdb(void)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "node %s/queries_duck.mjs probe >/dev/null 2>&1",
             here);
    return system(cmd) == 0;
}

static void
put_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            fputc('\\', f);
        }
        fputc(*s, f);
    }
    fputc('"', f);
}

/* DuckDB's best times (ms, -1 when it failed) and results (malloc'd). */
static void
run_duckdb(const char *dir, const char *setup, int threads, int runs,
           double *ms, char **results)
{
    char spec[4200], scripts[4200], cmd[16384];
    snprintf(spec, sizeof spec, "%s/queries.json", dir);
    snprintf(scripts, sizeof scripts, "%s/scripts.ndjson", dir);
    FILE *f = fopen(spec, "w");
    FILE *g = fopen(scripts, "w");
    if (f == NULL || g == NULL) {
        die("could not write the query list", NULL);
    }
    fputs("{\"setup\": ", f);
    put_json_string(f, setup);
    fputs(", \"queries\": [", f);
    put_json_string(g, setup);
    fputc('\n', g);
    for (size_t i = 0; i < nq; i++) {
        fprintf(f, "%s{\"name\": ", i ? ", " : "");
        put_json_string(f, qs[i].name);
        fputs(", \"sql\": ", f);
        put_json_string(f, qs[i].sql);
        fputc('}', f);
        put_json_string(g, qs[i].sql);
        fputc('\n', g);
    }
    fputs("]}\n", f);
    fclose(f);
    fclose(g);
    for (size_t i = 0; i < nq; i++) {
        ms[i] = -1;
        results[i] = NULL;
    }
    snprintf(cmd, sizeof cmd, "node %s/queries_duck.mjs run %s %d %d", here,
             spec, threads, runs);
    FILE *p = popen(cmd, "r");
    char line[1024];
    size_t k = 0;
    while (p && fgets(line, sizeof line, p) && k < nq) {
        const char *m = strstr(line, "\"ms\":");
        if (m) {
            ms[k] = strtod(m + 5, NULL);
        }
        k++;
    }
    if (p) {
        pclose(p);
    }
    /* the results, rendered by duck.mjs (sqlfile: {"#":i} before each) */
    snprintf(cmd, sizeof cmd, "node %s/../tests/peers/duck.mjs sqlfile %s",
             here, scripts);
    p = popen(cmd, "r");
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    long cur = -2;
    char *acc = NULL;
    size_t alen = 0;
    FILE *mem = NULL;
    while (p && (n = getline(&buf, &cap, p)) > 0) {
        if (strncmp(buf, "{\"#\":", 5) == 0) {
            if (mem) {
                fclose(mem);
                if (cur >= 1 && (size_t)cur <= nq) {
                    results[cur - 1] = acc;
                } else {
                    free(acc);
                }
            }
            cur = strtol(buf + 5, NULL, 10);
            bool failed = strstr(buf, "\"error\"") != NULL;
            acc = NULL;
            alen = 0;
            mem = open_memstream(&acc, &alen);
            if (failed) {
                fprintf(mem, "DUCKDB ERROR %s", buf);
            }
            continue;
        }
        if (mem) {
            fputs(buf, mem);
        }
    }
    if (mem) {
        fclose(mem);
        if (cur >= 1 && (size_t)cur <= nq) {
            results[cur - 1] = acc;
        } else {
            free(acc);
        }
    }
    free(buf);
    if (p) {
        pclose(p);
    }
}

/* ---- main
 * ------------------------------------------------------------------------ */

int
main(int argc, char **argv)
{
    uint64_t rows = 1000000;
    int threads = 2, runs = 3;
    const char *dir_arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            rows = 50000;
            runs = 1;
        } else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc) {
            rows = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir_arg = argv[++i];
        } else if (strcmp(argv[i], "--windows") == 0) {
            qs = window_queries;
            nq = NWQ;
        } else {
            fprintf(stderr, "usage: bench_queries [--rows N] [--threads T] "
                            "[--runs R] [--dir DIR] [--windows] [--quick]\n");
            return 2;
        }
    }
    if (threads < 1 || runs < 1 || rows == 0) {
        fprintf(stderr, "bench_queries: bad --rows, --threads or --runs\n");
        return 2;
    }
    snprintf(here, sizeof here, "%s", __FILE__);
    char *slash = strrchr(here, '/');
    if (slash) {
        *slash = 0;
    }
    lh_err err;
    if (lh_global_init(&err) != LH_OK) {
        die("init", &err);
    }
    char dir[4096];
    if (dir_arg) {
        snprintf(dir, sizeof dir, "%s", dir_arg);
    } else {
        snprintf(dir, sizeof dir, "/tmp/lh_bench_queries_XXXXXX");
        if (mkdtemp(dir) == NULL) {
            die("mkdtemp", NULL);
        }
    }
    char events[4200], products[4200];
    snprintf(events, sizeof events, "%s/events.parquet", dir);
    snprintf(products, sizeof products, "%s/products.parquet", dir);
    double t0 = now_ms();
    write_events(events, rows);
    write_products(products);
    printf("bench_queries: %llu events (%s), 10,000 products, %d thread%s, "
           "best of %d (written in %.0f ms)\n",
           (unsigned long long)rows, events, threads, threads == 1 ? "" : "s",
           runs, now_ms() - t0);
    char setup[9000];
    snprintf(setup, sizeof setup,
             "CREATE VIEW events AS SELECT * FROM read_parquet('%s'); CREATE "
             "VIEW products AS SELECT * FROM read_parquet('%s')",
             events, products);

    /* ours */
    lh_session_options so = {.threads = threads};
    lh_session *s;
    if (lh_session_open(NULL, &so, &s, &err) != LH_OK) {
        die("session", &err);
    }
    FILE *null = fopen("/dev/null", "w");
    if (lh_sql_run(s, setup, "csv", null, &err) != LH_OK) {
        die("views", &err);
    }
    double ours[MAXQ];
    char *mine[MAXQ];
    int status = 0;
    for (size_t i = 0; i < nq; i++) {
        ours[i] = -1;
        for (int r = 0; r < runs; r++) {
            double a = now_ms();
            if (lh_sql_run(s, qs[i].sql, "csv", null, &err) != LH_OK) {
                fprintf(stderr, "bench_queries: %s: %s\n", qs[i].name, err.msg);
                ours[i] = -1;
                status = 1;
                break;
            }
            double ms = now_ms() - a;
            ours[i] = ours[i] < 0 || ms < ours[i] ? ms : ours[i];
        }
        size_t len = 0;
        mine[i] = NULL;
        FILE *m = open_memstream(&mine[i], &len);
        if (lh_sql_run(s, qs[i].sql, "ndjson", m, &err) != LH_OK) {
            fprintf(m, "OUR ERROR %s", err.msg);
        }
        fclose(m);
    }
    fclose(null);
    lh_session_close(s);

    /* DuckDB */
    double duck[MAXQ];
    char *theirs[MAXQ];
    bool peer = have_duckdb();
    if (peer) {
        run_duckdb(dir, setup, threads, runs, duck, theirs);
    } else {
        for (size_t i = 0; i < nq; i++) {
            duck[i] = -1;
            theirs[i] = NULL;
        }
    }

    printf("%-32s %10s %10s %7s  %s\n", "query", "ours ms", "duckdb ms",
           "ratio", "results");
    double logsum = 0, worst = 0;
    int nratio = 0, ndiff = 0;
    for (size_t i = 0; i < nq; i++) {
        char o[32], d[32], r[32];
        snprintf(o, sizeof o, ours[i] < 0 ? "failed" : "%.2f", ours[i]);
        snprintf(d, sizeof d, duck[i] < 0 ? "n/a" : "%.2f", duck[i]);
        const char *same = "n/a";
        if (theirs[i]) {
            same = same_rows(mine[i], theirs[i]) ? "same" : "DIFFERENT";
            if (strcmp(same, "same") != 0) {
                ndiff++;
                status = 1;
            }
        }
        if (ours[i] > 0 && duck[i] > 0) {
            double ratio = ours[i] / duck[i];
            snprintf(r, sizeof r, "%.2f", ratio);
            logsum += log(ratio);
            worst = ratio > worst ? ratio : worst;
            nratio++;
        } else {
            snprintf(r, sizeof r, "n/a");
        }
        printf("%-32s %10s %10s %7s  %s\n", qs[i].name, o, d, r, same);
        if (theirs[i] && strcmp(same, "same") != 0) {
            printf("    ours:   %.300s\n    duckdb: %.300s\n", mine[i],
                   theirs[i]);
        }
    }
    if (nratio) {
        printf("geometric mean of the ratios: %.2f (largest %.2f) over %d "
               "queries; %d result%s different\n",
               exp(logsum / nratio), worst, nratio, ndiff,
               ndiff == 1 ? "" : "s");
    } else {
        printf("DuckDB not available (node and scripts/peers.sh): our times "
               "only\n");
    }
    for (size_t i = 0; i < nq; i++) {
        free(mine[i]);
        free(theirs[i]);
    }
    if (dir_arg == NULL) {
        unlink(events);
        unlink(products);
        char p[4200];
        snprintf(p, sizeof p, "%s/queries.json", dir);
        unlink(p);
        snprintf(p, sizeof p, "%s/scripts.ndjson", dir);
        unlink(p);
        rmdir(dir);
    }
    return status;
}
