/*
 * bench_parquet: Parquet write and scan, ours against DuckDB 1.5 on the
 * same data in the same run (the goals: write faster than DuckDB's
 * COPY TO with a file no larger than 1.05x; scan at least as fast; scan
 * within 2x of this machine's memory bandwidth for the bytes decoded).
 *
 * Data: the events data set, like an order event: event_id (UUID text),
 * stream, version, type, ts, tenant, product, user_id, revenue
 * (DECIMAL(12,2)), quantity, region and a JSON payload; deterministic, so
 * every run writes the same rows (and our writer the same bytes).
 *
 * 1. Write: ours writes the rows (already in memory as column batches)
 *    with ZSTD; DuckDB loads our file into an in-memory table, then times
 *    COPY t TO ... (FORMAT parquet, COMPRESSION zstd). Rows/s and sizes.
 * 2. Scan, on both files, with 1 and 2 threads: sum(revenue), and a decode
 *    of every column (sums of every number and of every string's length,
 *    the same query on both sides), ours also with late materialization
 *    (keep_dict: dictionary columns as codes, checksums through the
 *    dictionary, as the engine consumes them). Best of 3 runs each.
 * 3. Memory bandwidth: a read-and-sum pass over a 512 MiB buffer, against
 *    the uncompressed bytes of the column chunks a scan decoded.
 *
 * DuckDB runs in bench/parquet_duck.mjs (node, from .npm-peers); without
 * node or the peers the DuckDB columns say "n/a". Exit 1 only when our
 * writer or reader fails.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "format/parquet/parquet.h"
#include "format/parquet/writer.h"

#include "events.h"

#define NCOLS BENCH_EVENT_COLS

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static lh_pq_wcolumn wcols[NCOLS];

static void
init_wcols(void)
{
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_batch b;
    bench_events_batch(0, 1, &a, &b);
    for (int c = 0; c < NCOLS; c++) {
        wcols[c].name = bench_event_names[c];
        wcols[c].type = b.cols[c].type;
        wcols[c].nullable = c == 11;
        wcols[c].has_field_id = true;
        wcols[c].field_id = c + 1;
    }
    lh_arena_release(&a);
}

/* ---- DuckDB ------------------------------------------------------------- */

static char duck_script[4096];

/* Runs parquet_duck.mjs with args; its last stdout line into out. */
static bool
duck(const char *args, char *out, size_t n)
{
    if (!duck_script[0]) {
        return false;
    }
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "node %s %s 2>/dev/null", duck_script, args);
    FILE *p = popen(cmd, "r");
    if (!p) {
        return false;
    }
    out[0] = 0;
    char line[1024];
    while (fgets(line, sizeof line, p)) {
        snprintf(out, n, "%s", line);
    }
    return pclose(p) == 0 && out[0];
}

/* A number after "key": in the script's one-line JSON. */
static double
json_num(const char *s, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(s, k);
    return p ? strtod(p + strlen(k), NULL) : -1;
}

/* ---- our scans ---------------------------------------------------------- */

typedef struct scan_job {
    lh_pq_file *f;
    _Atomic uint32_t *next;
    bool all;  /* every column, else revenue alone */
    bool late; /* dictionary columns as DICT vectors (keep_dict) */
    int64_t sums[NCOLS];
    uint64_t bytes; /* uncompressed bytes of the chunks read */
    bool failed;
    char msg[512];
} scan_job;

/* Row r's value of a FLAT or DICT vector (the code's dictionary entry). */
#define AT(T, v, r)                                                            \
    ((v)->kind == LH_VEC_DICT                                                  \
         ? ((const T *)(v)->dict->data)[((const uint32_t *)(v)->data)[r]]      \
         : ((const T *)(v)->data)[r])

/* The sum of a column's numbers, or of its strings' lengths (wrapping: a
 * checksum, not a total); the same for a FLAT vector and for the DICT
 * vector of the same values. */
static uint64_t
checksum(const lh_vector *v, uint32_t n)
{
    uint64_t acc = 0;
    lh_type_id t = v->kind == LH_VEC_DICT ? v->dict->type.id : v->type.id;
    /* NULL rows count as 0: what a FLAT vector holds under them is
     * arbitrary (batch.h), as is a DICT vector's code. */
#define SUM(expr)                                                              \
    do {                                                                       \
        for (uint32_t r = 0; r < n; r++) {                                     \
            acc += v->validity && !lh_vec_valid(v, r) ? 0 : (uint64_t)(expr);  \
        }                                                                      \
    } while (0)
    switch (t) {
    case LH_T_VARCHAR:
    case LH_T_JSON:
        SUM(AT(lh_str, v, r).len);
        break;
    case LH_T_INTEGER:
        SUM((int64_t)AT(int32_t, v, r));
        break;
    default: /* BIGINT, TIMESTAMPTZ, DECIMAL(12,2) */
        SUM(AT(int64_t, v, r));
        break;
    }
#undef SUM
    return acc;
}

static void *
scan_run(void *arg)
{
    scan_job *j = arg;
    uint32_t rev = 8;
    lh_pq_scan_opts o = {.next_row_group = j->next, .keep_dict = j->late};
    if (!j->all) {
        o.columns = &rev;
        o.ncolumns = 1;
    }
    lh_err err;
    lh_pq_scan *s = NULL;
    if (lh_pq_scan_open(j->f, &o, &s, &err) != LH_OK) {
        j->failed = true;
        snprintf(j->msg, sizeof j->msg, "%s", err.msg);
        return NULL;
    }
    for (;;) {
        lh_batch b;
        if (lh_pq_scan_next(s, &b, &err) != LH_OK) {
            j->failed = true;
            snprintf(j->msg, sizeof j->msg, "%s", err.msg);
            break;
        }
        if (b.count == 0) {
            break;
        }
        for (uint32_t c = 0; c < b.ncols; c++) {
            uint64_t acc = checksum(&b.cols[c], b.count);
            j->sums[j->all ? c : 8] =
                (int64_t)((uint64_t)j->sums[j->all ? c : 8] + acc);
        }
    }
    lh_pq_scan_close(s);
    return NULL;
}

/* Seconds for one scan with `threads` workers; sums into sums[]. mode: 0
 * sum(revenue), 1 every column, 2 every column with late
 * materialization. */
static double
our_scan(lh_pq_file *f, int threads, int mode, int64_t *sums, uint64_t *bytes)
{
    _Atomic uint32_t next = 0;
    scan_job jobs[8];
    pthread_t th[8];
    memset(jobs, 0, sizeof jobs);
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        jobs[i].f = f;
        jobs[i].next = &next;
        jobs[i].all = mode > 0;
        jobs[i].late = mode == 2;
        pthread_create(&th[i], NULL, scan_run, &jobs[i]);
    }
    memset(sums, 0, NCOLS * sizeof *sums);
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        if (jobs[i].failed) {
            fprintf(stderr, "bench_parquet: scan: %s\n", jobs[i].msg);
            exit(1);
        }
        for (int c = 0; c < NCOLS; c++) {
            sums[c] = (int64_t)((uint64_t)sums[c] + (uint64_t)jobs[i].sums[c]);
        }
    }
    double t = now_s() - t0;
    /* The bytes decoded: uncompressed sizes of the chunks read. */
    const lh_pq_file_metadata *m = lh_pq_meta(f);
    *bytes = 0;
    for (uint32_t g = 0; g < m->n_row_groups; g++) {
        for (uint32_t c = 0; c < m->row_groups[g].n_columns; c++) {
            if (mode > 0 || c == 8) {
                *bytes += (uint64_t)m->row_groups[g]
                              .columns[c]
                              .meta_data.total_uncompressed_size;
            }
        }
    }
    return t;
}

static double
best_scan(lh_pq_file *f, int threads, int mode, int64_t *sums, uint64_t *bytes)
{
    double best = 1e30;
    for (int i = 0; i < 3; i++) {
        double t = our_scan(f, threads, mode, sums, bytes);
        best = t < best ? t : best;
    }
    return best;
}

/* GB/s of a read-and-sum pass over 512 MiB (best of 3). */
static double
mem_bandwidth(void)
{
    size_t n = (512u << 20) / 8;
    uint64_t *buf = malloc(n * 8);
    if (!buf) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        buf[i] = i;
    }
    double best = 1e30;
    volatile uint64_t sink = 0;
    for (int k = 0; k < 3; k++) {
        double t0 = now_s();
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (size_t i = 0; i < n; i += 4) {
            s0 += buf[i];
            s1 += buf[i + 1];
            s2 += buf[i + 2];
            s3 += buf[i + 3];
        }
        sink += s0 + s1 + s2 + s3;
        double t = now_s() - t0;
        best = t < best ? t : best;
    }
    (void)sink;
    free(buf);
    return (double)(n * 8) / best / 1e9;
}

static off_t
file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? st.st_size : -1;
}

static void
ratio(char *buf, size_t n, double ours, double theirs)
{
    if (ours > 0 && theirs > 0) {
        snprintf(buf, n, "%.2f", ours / theirs);
    } else {
        snprintf(buf, n, "n/a");
    }
}

/* Best seconds of `runs` writes of the batches to path; -1 on failure. */
static double
write_file(const char *path, const lh_pq_writer_opts *wo,
           const lh_batch *batches, uint32_t nb, int runs)
{
    lh_err err;
    double best = 1e30;
    for (int k = 0; k < runs; k++) {
        lh_pq_writer *w = NULL;
        double t0 = now_s();
        if (lh_pq_writer_open_path(path, wcols, NCOLS, wo, &w, &err) != LH_OK) {
            fprintf(stderr, "bench_parquet: %s\n", err.msg);
            return -1;
        }
        for (uint32_t i = 0; i < nb; i++) {
            if (lh_pq_writer_write(w, &batches[i], &err) != LH_OK) {
                fprintf(stderr, "bench_parquet: write: %s\n", err.msg);
                lh_pq_writer_abort(w);
                return -1;
            }
        }
        if (lh_pq_writer_close(w, &err) != LH_OK) {
            fprintf(stderr, "bench_parquet: close: %s\n", err.msg);
            return -1;
        }
        double t = now_s() - t0;
        best = t < best ? t : best;
    }
    return best;
}

/* The scans of our_scan's modes. "late mat.": every column, dictionary
 * columns as codes into their dictionary (the engine's DICT vectors),
 * the same checksums. DuckDB has one "all columns" time for both. */
static const char *const mode_name[3] = {"sum(revenue)", "all columns",
                                         "all, late mat."};

static int
run(uint64_t rows, const char *dir)
{
    lh_err err;
    char ours_path[4200], duck_path[4200], args[9000], out[1024], r[32];
    snprintf(ours_path, sizeof ours_path, "%s/ours-%" PRIu64 ".parquet", dir,
             rows);
    snprintf(duck_path, sizeof duck_path, "%s/duck-%" PRIu64 ".parquet", dir,
             rows);
    printf("-- %" PRIu64 " rows\n", rows);
    /* Generate the batches in memory first: the write measures writing. */
    uint32_t nb = (uint32_t)((rows + LH_BATCH_ROWS - 1) / LH_BATCH_ROWS);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_batch *batches = calloc(nb, sizeof *batches);
    for (uint32_t i = 0; i < nb; i++) {
        uint64_t start = (uint64_t)i * LH_BATCH_ROWS;
        uint32_t n = (uint32_t)(rows - start < LH_BATCH_ROWS ? rows - start
                                                             : LH_BATCH_ROWS);
        bench_events_batch(start, n, &a, &batches[i]);
    }
    lh_pq_writer_opts wo;
    lh_pq_writer_opts_init(&wo);
    wo.threads = 1;
    double best_w = write_file(ours_path, &wo, batches, nb, 2);
    wo.threads = 2;
    double best_w2 = write_file(ours_path, &wo, batches, nb, 2);
    /* The same rows uncompressed: how close decoding alone comes to the
     * memory bandwidth, without ZSTD in the way. */
    char plain_path[4300];
    snprintf(plain_path, sizeof plain_path, "%s.uncompressed", ours_path);
    lh_pq_writer_opts po = wo;
    po.codec = LH_PQ_CODEC_UNCOMPRESSED;
    if (best_w < 0 || best_w2 < 0 ||
        write_file(plain_path, &po, batches, nb, 1) < 0) {
        return 1;
    }
    free(batches);
    lh_arena_release(&a);
    double ours_wrs = (double)rows / best_w;
    off_t ours_sz = file_size(ours_path);
    printf("write, 1 thread, ZSTD      ours %10.0f rows/s %9.1f MB", ours_wrs,
           (double)ours_sz / 1e6);
    double duck_wrs = -1, duck_sz = -1;
    snprintf(args, sizeof args, "write %s %s 1", ours_path, duck_path);
    if (duck(args, out, sizeof out)) {
        duck_wrs = (double)rows / (json_num(out, "ms") / 1000.0);
        duck_sz = (double)file_size(duck_path);
        ratio(r, sizeof r, ours_wrs, duck_wrs);
        printf(" | duckdb %10.0f rows/s %9.1f MB | speed ratio %s, size "
               "ratio %.3f\n",
               duck_wrs, duck_sz / 1e6, r, (double)ours_sz / duck_sz);
    } else {
        printf(" | duckdb n/a\n");
    }
    printf("write, 2 threads, ZSTD     ours %10.0f rows/s",
           (double)rows / best_w2);
    snprintf(args, sizeof args, "write %s %s.2 2", ours_path, duck_path);
    if (duck(args, out, sizeof out)) {
        double d2 = (double)rows / (json_num(out, "ms") / 1000.0);
        ratio(r, sizeof r, (double)rows / best_w2, d2);
        printf("                 | duckdb %10.0f rows/s                 | "
               "speed ratio %s\n",
               d2, r);
    } else {
        printf(" | duckdb n/a\n");
    }
    double bw = mem_bandwidth();
    printf("memory bandwidth (read+sum, 1 thread): %.1f GB/s\n", bw);
    {
        lh_pq_file *f = NULL;
        if (lh_pq_open(plain_path, &f, &err) != LH_OK) {
            fprintf(stderr, "bench_parquet: %s\n", err.msg);
            return 1;
        }
        int64_t full[NCOLS];
        for (int q = 0; q < 3; q++) {
            int64_t sums[NCOLS];
            uint64_t bytes = 0;
            double t = best_scan(f, 1, q, sums, &bytes);
            printf("our file, uncompressed, %-13s 1 thr  %10.0f rows/s "
                   "(%.2f GB/s decoded, %.2fx of bandwidth time)%s\n",
                   mode_name[q], (double)rows / t, (double)bytes / t / 1e9,
                   t / ((double)bytes / (bw * 1e9)),
                   q == 2 && memcmp(sums, full, sizeof full) != 0
                       ? " | SUMS DIFFER from all columns"
                       : "");
            if (q == 1) {
                memcpy(full, sums, sizeof full);
            }
        }
        lh_pq_close(f);
        unlink(plain_path);
    }
    const char *files[2] = {ours_path, duck_path};
    const char *fname[2] = {"our file", "duckdb's file"};
    for (int fi = 0; fi < 2; fi++) {
        if (file_size(files[fi]) < 0) {
            continue;
        }
        lh_pq_file *f = NULL;
        if (lh_pq_open(files[fi], &f, &err) != LH_OK) {
            fprintf(stderr, "bench_parquet: %s\n", err.msg);
            return 1;
        }
        for (int q = 0; q < 3; q++) {
            bool all = q > 0;
            for (int th = 1; th <= 2; th++) {
                int64_t sums[NCOLS];
                uint64_t bytes = 0;
                double t = best_scan(f, th, q, sums, &bytes);
                double ours_rs = (double)rows / t;
                printf("%-13s %-13s %d thr  ours %10.0f rows/s (%.2f GB/s "
                       "decoded, %.2fx of bandwidth time)",
                       fname[fi], mode_name[q], th, ours_rs,
                       (double)bytes / t / 1e9,
                       t / ((double)bytes / (bw * 1e9)));
                snprintf(args, sizeof args, "scan %s %d %s", files[fi], th,
                         all ? "all" : "revenue");
                if (duck(args, out, sizeof out)) {
                    double drs = (double)rows / (json_num(out, "ms") / 1000.0);
                    ratio(r, sizeof r, ours_rs, drs);
                    double dsum = json_num(out, "revenue");
                    printf(" | duckdb %10.0f rows/s | ratio %s%s\n", drs, r,
                           dsum >= 0 && (int64_t)dsum != sums[8]
                               ? " | SUMS DIFFER"
                               : "");
                } else {
                    printf(" | duckdb n/a\n");
                }
            }
        }
        lh_pq_close(f);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    uint64_t rows = 1000000;
    bool big = false, keep = false;
    const char *dir = "/tmp";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            rows = 20000;
        } else if (strcmp(argv[i], "--keep") == 0) {
            keep = true; /* leave the files for inspection */
        } else if (strcmp(argv[i], "--big") == 0) {
            big = true;
        } else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc) {
            rows = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else {
            fprintf(stderr, "usage: bench_parquet [--rows N] [--big] [--quick] "
                            "[--dir DIR]\n");
            return 2;
        }
    }
    /* bench/parquet_duck.mjs beside the sources; DuckDB from .npm-peers. */
    snprintf(duck_script, sizeof duck_script, "%s", __FILE__);
    char *slash = strrchr(duck_script, '/');
    if (slash) {
        snprintf(slash + 1,
                 sizeof duck_script - (size_t)(slash + 1 - duck_script),
                 "parquet_duck.mjs");
    }
    char probe[1024];
    if (!duck("probe", probe, sizeof probe)) {
        printf("DuckDB peer not available (node + scripts/peers.sh): "
               "ours only\n");
        duck_script[0] = 0;
    }
    init_wcols();
    int rc = run(rows, dir);
    if (rc == 0 && big) {
        rc = run(10000000, dir);
    }
    char p[4200];
    if (keep) {
        return rc;
    }
    snprintf(p, sizeof p, "%s/ours-%" PRIu64 ".parquet", dir, rows);
    unlink(p);
    snprintf(p, sizeof p, "%s/duck-%" PRIu64 ".parquet", dir, rows);
    unlink(p);
    snprintf(p, sizeof p, "%s/duck-%" PRIu64 ".parquet.2", dir, rows);
    unlink(p);
    return rc;
}
