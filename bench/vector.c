/*
 * bench_vector: vector search, ours against the peers on the same data in
 * the same run (issue 8's Benchmark section).
 *
 * 1. HNSW against hnswlib (Debian's header-only libhnswlib-dev, compiled
 *    here with -O3 -march=native from bench/vector_hnswlib.cpp): the same
 *    M and ef_construction, build time with 1 and 2 threads, bytes per
 *    vector, recall@10 against QPS over a sweep of ef with 1 and 2 search
 *    threads. Goal: at every recall level from 0.90 to 0.99 at least
 *    hnswlib's QPS, and a build no slower.
 * 2. IVF-PQ against faiss's IndexIVFPQ (Debian's python3-faiss with
 *    /usr/bin/python3, bench/vector_faiss.py): the same nlist, m, nprobe and
 *    k-means iterations; recall@10 with and without re-ranking against QPS,
 *    training and add time. Goal: at least 2x faiss's QPS at equal recall.
 * 3. Tiered MRL search (hot HNSW on full vectors, warm IVF-PQ on a 256-d
 *    prefix, cold clustered scan on a 64-d prefix, merged by full-dimension
 *    distance) against the exact full-dimension scan. Goal at 1M x 1024
 *    (--tiered-n 1000000): recall@10 >= 0.95 and >= 10x faster.
 * 4. SQL kNN (--sql-n N): ORDER BY embedding <-> q LIMIT 10 over an event
 *    table through the hot tier's index, against the exact SQL plan (a full
 *    scan) and hnswlib's graph alone at equal recall, and with a WHERE.
 * 5. SQL kNN across the tiers (--lake-n N): a third of the events hot, a
 *    third warm, a third cold; the index path (HNSW, the warm IVF-PQ
 *    columns) against the exact SQL plan and faiss IndexIVFPQ.
 *
 * The peers run as child processes between our runs (ours build, theirs
 * build, ours sweep, theirs sweep), so the shared cores' noise hits both.
 * QPS points run each batch of queries until 0.5 s have passed. Ratios at
 * a recall level compare the best QPS each side reaches at or above it.
 *
 * Options: --dir D (data files; scripts/bench.sh passes a temporary one),
 * --quick (tiny sizes, ours only: ctest), --hnsw-n N, --ivf-n N,
 * --tiered-n N, --sql-n N, --lake-n N (0 skips a part), --skip-peers. Ground
 * truth is cached next to this program (vector-cache/), so reruns skip the
 * brute force.
 */
#include <libgen.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lakehouse.h"
#include "vector/vector_int.h"

#ifndef LH_BENCH_SRC_DIR
#define LH_BENCH_SRC_DIR "bench"
#endif

enum { K = 10, MAXPTS = 64 };

static char work_dir[1024] = "/tmp";
static char cache_dir[1024] = "vector-cache";
static bool quick, skip_peers;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, const lh_err *err)
{
    fprintf(stderr, "bench_vector: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

static void
write_file(const char *name, const void *p, size_t n, char *path)
{
    snprintf(path, 1100, "%s/%s", work_dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "bench_vector: cannot write %s\n", path);
        exit(1);
    }
}

/* A sweep point: threads, knob (ef / nprobe), refine, recall, qps. */
typedef struct point {
    int threads, knob, refine;
    double recall, qps;
} point;

typedef struct curve {
    point p[MAXPTS];
    int n;
} curve;

/* The best QPS at recall >= r with `threads` (and refine filter, -1 any). */
static double
qps_at(const curve *c, int threads, int refine, double r)
{
    double best = 0;
    for (int i = 0; i < c->n; i++) {
        const point *p = &c->p[i];
        if (p->threads == threads && (refine < 0 || p->refine == refine) &&
            p->recall >= r && p->qps > best) {
            best = p->qps;
        }
    }
    return best;
}

static double
best_recall(const curve *c, int threads, int refine)
{
    double best = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->p[i].threads == threads &&
            (refine < 0 || c->p[i].refine == refine) && c->p[i].recall > best) {
            best = c->p[i].recall;
        }
    }
    return best;
}

/* Runs `run(ctx, q)` for every query on `threads` threads, repeating the
 * batch until 0.5 s; returns queries per second. */
typedef void (*query_fn)(void *ctx, size_t q);

typedef struct batch {
    query_fn run;
    void *ctx;
    _Atomic size_t next;
    size_t nq;
} batch;

static void
batch_part(void *ctx, size_t from, size_t to, unsigned t)
{
    (void)from;
    (void)to;
    (void)t;
    batch *b = ctx;
    for (;;) {
        size_t q = atomic_fetch_add(&b->next, 1);
        if (q >= b->nq) {
            return;
        }
        b->run(b->ctx, q);
    }
}

static double
time_queries(query_fn run, void *ctx, size_t nq, unsigned threads)
{
    double t0 = now_s(), el;
    size_t rounds = 0;
    do {
        batch b = {run, ctx, 0, nq};
        lh__vec_parallel(threads, threads, batch_part, &b);
        rounds++;
        el = now_s() - t0;
    } while (el < (quick ? 0.05 : 0.5));
    return (double)(rounds * nq) / el;
}

static lh_mrl_data
make_data(size_t n, size_t nq, size_t dim, float decay)
{
    lh_mrl_spec s;
    lh_mrl_spec_default(&s, n, nq, dim);
    s.decay = decay;
    s.threads = 2;
    lh_mrl_data d;
    lh_err err;
    double t0 = now_s();
    if (lh_mrl_generate(&s, &d, &err) != LH_OK) {
        die("generate", &err);
    }
    printf("data: %zu x %zu MRL-like (%zu clusters, decay %.0f), %zu "
           "queries, generated in %.1f s\n",
           n, dim, s.clusters, (double)decay, nq, now_s() - t0);
    return d;
}

static int64_t *
ground_truth(const lh_mrl_data *d)
{
    int64_t *gt = malloc(d->spec.nq * K * sizeof(int64_t));
    lh_err err;
    double t0 = now_s();
    if (lh_mrl_ground_truth(d, LH_VEC_L2, K, 0, 2, cache_dir, gt, &err) !=
        LH_OK) {
        die("ground truth", &err);
    }
    printf("exact top-%d by brute force (or the cache): %.1f s\n", K,
           now_s() - t0);
    return gt;
}

static bool
have(const char *path)
{
    return access(path, R_OK) == 0;
}

/* Reads a peer's output lines into a curve; fn handles other lines. */
static void
read_peer(FILE *p, curve *c, int kind, double *a, double *b, double *cc,
          double *dd)
{
    char line[512];
    while (fgets(line, sizeof(line), p) != NULL) {
        point pt = {0};
        int t;
        double v;
        if (kind == 0 && sscanf(line, "search %d %d %lf %lf", &pt.threads,
                                &pt.knob, &pt.recall, &pt.qps) == 4) {
            pt.refine = 1;
            if (c->n < MAXPTS) {
                c->p[c->n++] = pt;
            }
        } else if (kind == 1 &&
                   sscanf(line, "search %d %d %d %lf %lf", &pt.threads,
                          &pt.knob, &pt.refine, &pt.recall, &pt.qps) == 5) {
            if (c->n < MAXPTS) {
                c->p[c->n++] = pt;
            }
        } else if (sscanf(line, "build_s %lf", &v) == 1) {
            *a = v;
        } else if (sscanf(line, "bytes_per_vector %lf", &v) == 1) {
            *b = v;
        } else if (sscanf(line, "train_s %d %lf", &t, &v) == 2) {
            (t == 1 ? a : b)[0] = v;
        } else if (sscanf(line, "add_s %d %lf", &t, &v) == 2) {
            (t == 1 ? cc : dd)[0] = v;
        } else {
            fputs(line, stdout);
        }
    }
}

/* ---- 1. HNSW against hnswlib ---------------------------------------- */

typedef struct hq {
    lh_hnsw *h;
    const float *qs;
    size_t dim;
    unsigned ef;
    int64_t *found;
} hq;

static void
hnsw_query(void *ctx, size_t q)
{
    hq *c = ctx;
    lh_vec_hit hits[K];
    size_t n = 0;
    lh_hnsw_search(c->h, c->qs + q * c->dim, K, c->ef, NULL, hits, &n, NULL,
                   NULL);
    for (size_t i = 0; i < K; i++) {
        c->found[q * K + i] = i < n ? hits[i].id : -1;
    }
}

static const int efs[] = {10, 16, 24, 32, 48, 64, 96, 128, 192, 256};

/* One line: ours / hnswlib QPS at recall 0.90 .. 0.99 with `threads`. */
static void
print_equal_recall(const curve *ours, const curve *theirs, int threads)
{
    const double levels[] = {0.90, 0.95, 0.97, 0.98, 0.99};
    for (size_t i = 0; i < LH_ARRAY_LEN(levels); i++) {
        double a = qps_at(ours, threads, -1, levels[i]);
        double b = qps_at(theirs, threads, -1, levels[i]);
        if (a > 0 && b > 0) {
            printf("  %.2f: %.2fx", levels[i], a / b);
        } else {
            printf("  %.2f: %s", levels[i],
                   a > 0   ? "hnswlib never reaches it"
                   : b > 0 ? "ours never reaches it"
                           : "neither reaches it");
        }
    }
    printf("\n");
}

/* Compiles the hnswlib driver to drv; false (said why) when there is no
 * peer to run: --quick, --skip-peers, no libhnswlib-dev, no compiler. */
static bool
hnswlib_driver(const char *drv)
{
    bool peer = !skip_peers && !quick && have("/usr/include/hnswlib/hnswlib.h");
    if (peer) {
        char cmd[3000];
        snprintf(cmd, sizeof(cmd),
                 "c++ -O3 -march=native -std=c++17 -pthread -w -o %s "
                 "%s/vector_hnswlib.cpp",
                 drv, LH_BENCH_SRC_DIR);
        peer = system(cmd) == 0;
        if (!peer) {
            printf("hnswlib: the driver did not compile: %s\n", cmd);
        }
    } else if (!quick && !skip_peers) {
        printf("hnswlib: /usr/include/hnswlib missing (make bench installs "
               "libhnswlib-dev)\n");
    }
    return peer;
}

static void
bench_hnsw(size_t n, size_t dim)
{
    size_t nq = quick ? 100 : 1000;
    printf("\n== HNSW vs hnswlib: M 16, ef_construction 200, k %d\n", K);
    lh_mrl_data d = make_data(n, nq, dim, 4.0f);
    int64_t *gt = ground_truth(&d);
    int64_t *ids = malloc(n * sizeof(int64_t));
    for (size_t i = 0; i < n; i++) {
        ids[i] = (int64_t)i;
    }
    char bpath[1100] = "", qpath[1100] = "", gpath[1100] = "", ipath[1100],
         drv[1100];
    snprintf(ipath, sizeof(ipath), "%s/hnswlib.index", work_dir);
    snprintf(drv, sizeof(drv), "%s/vector_hnswlib", work_dir);
    bool peer = hnswlib_driver(drv);
    if (peer) {
        write_file("hnsw-base.f32", d.base, n * dim * 4, bpath);
        write_file("hnsw-queries.f32", d.queries, nq * dim * 4, qpath);
        write_file("hnsw-gt.i64", gt, nq * K * 8, gpath);
    }
    lh_hnsw_config cfg;
    lh_hnsw_config_default(&cfg, dim, LH_VEC_L2);
    cfg.m = 16;
    cfg.ef_construction = 200;
    curve ours = {0}, theirs = {0};
    double ob[3] = {0}, tb[3] = {0}, tbytes = 0;
    lh_hnsw *h = NULL;
    char efl[256] = "";
    for (size_t i = 0; i < LH_ARRAY_LEN(efs); i++) {
        snprintf(efl + strlen(efl), sizeof(efl) - strlen(efl), "%s%d",
                 i ? "," : "", efs[i]);
    }
    for (unsigned bt = 1; bt <= 2; bt++) {
        lh_hnsw_free(h);
        lh_err err;
        double t0 = now_s();
        if (lh_hnsw_build(&cfg, ids, d.base, n, bt, &h, &err) != LH_OK) {
            die("hnsw build", &err);
        }
        ob[bt] = now_s() - t0;
        printf("build, %u thread%s: ours %.2f s", bt, bt > 1 ? "s" : "",
               ob[bt]);
        fflush(stdout);
        if (peer) {
            char cmd[6000];
            /* the build only (an ef list it does not sweep: the 2-thread
             * run's sweep below is the one measured) */
            snprintf(cmd, sizeof(cmd),
                     "%s %s %s %s %zu %zu %zu %d 16 200 %u %s %s %s", drv,
                     bpath, qpath, gpath, n, nq, dim, K, bt, ipath,
                     bt == 2 ? efl : "10", bt == 2 ? "1,2" : "1");
            FILE *p = popen(cmd, "r");
            curve tmp = {0};
            double bs = 0, bytes = 0, x0 = 0, x1 = 0;
            read_peer(p, &tmp, 0, &bs, &bytes, &x0, &x1);
            pclose(p);
            tb[bt] = bs;
            tbytes = bytes;
            if (bt == 2) {
                theirs = tmp;
            }
            printf(", hnswlib %.2f s, ours/hnswlib time %.2f", bs, ob[bt] / bs);
        }
        printf("\n");
    }
    int64_t *found = malloc(nq * K * sizeof(int64_t));
    for (unsigned st = 1; st <= 2; st++) {
        for (size_t i = 0; i < LH_ARRAY_LEN(efs); i++) {
            hq c = {h, d.queries, dim, (unsigned)efs[i], found};
            point p = {(int)st, efs[i], 1, 0, 0};
            p.qps = time_queries(hnsw_query, &c, nq, st);
            p.recall = lh_vec_recall(found, K, gt, K, nq, K);
            ours.p[ours.n++] = p;
        }
    }
    printf("memory: ours %.1f bytes/vector (%zu-d float32 = %zu)",
           (double)lh_hnsw_memory(h) / (double)n, dim, dim * 4);
    if (peer) {
        printf(", hnswlib %.1f (its saved index)", tbytes);
    }
    printf("\n%-8s %5s  %-16s %-16s %s\n", "threads", "ef", "ours rec / QPS",
           "hnswlib rec/QPS", "QPS ratio");
    for (int i = 0; i < ours.n; i++) {
        const point *o = &ours.p[i];
        const point *t = NULL;
        for (int j = 0; j < theirs.n; j++) {
            if (theirs.p[j].threads == o->threads &&
                theirs.p[j].knob == o->knob) {
                t = &theirs.p[j];
            }
        }
        printf("%-8d %5d  %.4f %9.0f", o->threads, o->knob, o->recall, o->qps);
        if (t != NULL) {
            printf("  %.4f %9.0f  %.2f", t->recall, t->qps, o->qps / t->qps);
        }
        printf("\n");
    }
    if (peer) {
        for (int st = 1; st <= 2; st++) {
            printf("at equal recall, %d thread%s:", st, st > 1 ? "s" : "");
            print_equal_recall(&ours, &theirs, st);
        }
        printf("build time ratio (ours/hnswlib, < 1 is faster): 1 thread "
               "%.2f, 2 threads %.2f\n",
               ob[1] / tb[1], ob[2] / tb[2]);
    }
    lh_hnsw_free(h);
    free(found);
    free(ids);
    free(gt);
    if (bpath[0] != 0) {
        unlink(bpath);
        unlink(qpath);
        unlink(gpath);
    }
    lh_mrl_data_release(&d);
}

/* ---- 2. IVF-PQ against faiss
 * -------------------------------------------------- */

typedef struct iq {
    lh_ivfpq *x;
    const lh_mrl_data *d;
    size_t nprobe, refine;
    int64_t *found;
} iq;

static const float *
fetch_base(void *ctx, int64_t id, float *buf)
{
    (void)buf;
    const lh_mrl_data *d = ctx;
    return d->base + (size_t)id * d->spec.dim;
}

static void
ivf_query(void *ctx, size_t q)
{
    iq *c = ctx;
    size_t dim = c->d->spec.dim;
    lh_vec_hit hits[K * 16];
    size_t n = 0;
    const float *qv = c->d->queries + q * dim;
    lh_ivfpq_search(c->x, qv, K * c->refine, c->nprobe, NULL, hits, &n, NULL);
    if (c->refine > 1) {
        lh_vec_rerank(lh_vec_kernels_best(), LH_VEC_L2, qv, dim, hits, n,
                      fetch_base, (void *)c->d, K, &n, NULL);
    }
    for (size_t i = 0; i < K; i++) {
        c->found[q * K + i] = i < n ? hits[i].id : -1;
    }
}

static const int nprobes[] = {1, 2, 4, 8, 16, 32, 64};
static const int refines[] = {1, 4};

static void
bench_ivfpq(size_t n, size_t dim, size_t nlist, size_t m)
{
    size_t nq = quick ? 100 : 1000;
    unsigned iters = quick ? 4 : 20;
    printf("\n== IVF-PQ vs faiss IndexIVFPQ: nlist %zu, m %zu (8-bit codes), "
           "%u k-means iterations, k %d\n",
           nlist, m, iters, K);
    lh_mrl_data d = make_data(n, nq, dim, 4.0f);
    int64_t *gt = ground_truth(&d);
    int64_t *ids = malloc(n * sizeof(int64_t));
    for (size_t i = 0; i < n; i++) {
        ids[i] = (int64_t)i;
    }
    bool peer = !skip_peers && !quick && have("/usr/bin/python3");
    if (peer) {
        peer = system("/usr/bin/python3 -c 'import faiss' 2>/dev/null") == 0;
        if (!peer) {
            printf("faiss: python3-faiss missing (make bench installs it)\n");
        }
    }
    char bpath[1100] = "", qpath[1100] = "", gpath[1100] = "";
    if (peer) {
        write_file("ivf-base.f32", d.base, n * dim * 4, bpath);
        write_file("ivf-queries.f32", d.queries, nq * dim * 4, qpath);
        write_file("ivf-gt.i64", gt, nq * K * 8, gpath);
    }
    lh_ivfpq *x = NULL;
    double otrain[3] = {0}, oadd[3] = {0};
    for (unsigned t = 1; t <= 2; t++) {
        lh_ivfpq_free(x);
        lh_ivfpq_config c;
        lh_ivfpq_config_default(&c, dim, LH_VEC_L2, nlist, m);
        c.train_iters = iters;
        c.threads = t;
        lh_err err;
        double t0 = now_s();
        if (lh_ivfpq_train(&c, d.base, n, dim, &x, &err) != LH_OK) {
            die("ivfpq train", &err);
        }
        otrain[t] = now_s() - t0;
        t0 = now_s();
        if (lh_ivfpq_add(x, ids, d.base, n, dim, t, &err) != LH_OK) {
            die("ivfpq add", &err);
        }
        oadd[t] = now_s() - t0;
    }
    curve ours = {0}, theirs = {0};
    double ttrain[3] = {0}, tadd[3] = {0};
    if (peer) {
        char cmd[6000], npl[128] = "", rfl[64] = "";
        for (size_t i = 0; i < LH_ARRAY_LEN(nprobes); i++) {
            snprintf(npl + strlen(npl), sizeof(npl) - strlen(npl), "%s%d",
                     i ? "," : "", nprobes[i]);
        }
        for (size_t i = 0; i < LH_ARRAY_LEN(refines); i++) {
            snprintf(rfl + strlen(rfl), sizeof(rfl) - strlen(rfl), "%s%d",
                     i ? "," : "", refines[i]);
        }
        snprintf(cmd, sizeof(cmd),
                 "/usr/bin/python3 %s/vector_faiss.py %s %s %s %zu %zu %zu %d "
                 "%zu %zu %u %s %s 1,2",
                 LH_BENCH_SRC_DIR, bpath, qpath, gpath, n, nq, dim, K, nlist, m,
                 iters, npl, rfl);
        FILE *p = popen(cmd, "r");
        read_peer(p, &theirs, 1, &ttrain[1], &ttrain[2], &tadd[1], &tadd[2]);
        pclose(p);
    }
    int64_t *found = malloc(nq * K * sizeof(int64_t));
    for (unsigned st = 1; st <= 2; st++) {
        for (size_t i = 0; i < LH_ARRAY_LEN(nprobes); i++) {
            for (size_t r = 0; r < LH_ARRAY_LEN(refines); r++) {
                iq c = {x, &d, (size_t)nprobes[i], (size_t)refines[r], found};
                point p = {(int)st, nprobes[i], refines[r], 0, 0};
                p.qps = time_queries(ivf_query, &c, nq, st);
                p.recall = lh_vec_recall(found, K, gt, K, nq, K);
                ours.p[ours.n++] = p;
            }
        }
    }
    for (unsigned t = 1; t <= 2; t++) {
        printf("train, %u thread%s: ours %.2f s", t, t > 1 ? "s" : "",
               otrain[t]);
        if (peer) {
            printf(", faiss %.2f s (ratio %.2f)", ttrain[t],
                   otrain[t] / ttrain[t]);
        }
        printf("; add: ours %.2f s", oadd[t]);
        if (peer) {
            printf(", faiss %.2f s (ratio %.2f)", tadd[t], oadd[t] / tadd[t]);
        }
        printf("\n");
    }
    printf("%-8s %6s %6s  %-16s %-16s %s\n", "threads", "nprobe", "refine",
           "ours rec / QPS", "faiss rec / QPS", "QPS ratio");
    for (int i = 0; i < ours.n; i++) {
        const point *o = &ours.p[i];
        const point *t = NULL;
        for (int j = 0; j < theirs.n; j++) {
            if (theirs.p[j].threads == o->threads &&
                theirs.p[j].knob == o->knob &&
                theirs.p[j].refine == o->refine) {
                t = &theirs.p[j];
            }
        }
        printf("%-8d %6d %6d  %.4f %9.0f", o->threads, o->knob, o->refine,
               o->recall, o->qps);
        if (t != NULL) {
            printf("  %.4f %9.0f  %.2f", t->recall, t->qps, o->qps / t->qps);
        }
        printf("\n");
    }
    if (peer) {
        for (int st = 1; st <= 2; st++) {
            for (size_t r = 0; r < LH_ARRAY_LEN(refines); r++) {
                int rf = refines[r];
                double top = LH_MIN(best_recall(&ours, st, rf),
                                    best_recall(&theirs, st, rf));
                printf("at equal recall, %d thread%s, %s:", st,
                       st > 1 ? "s" : "", rf > 1 ? "re-ranked x4" : "PQ order");
                const double fr[] = {0.5, 0.7, 0.8, 0.9, 0.95, 1.0};
                for (size_t i = 0; i < LH_ARRAY_LEN(fr); i++) {
                    double lv = floor(top * fr[i] * 100) / 100;
                    double a = qps_at(&ours, st, rf, lv);
                    double b = qps_at(&theirs, st, rf, lv);
                    if (a > 0 && b > 0) {
                        printf("  %.2f: %.2fx", lv, a / b);
                    }
                }
                printf("\n");
            }
        }
    }
    lh_ivfpq_free(x);
    free(found);
    free(ids);
    free(gt);
    if (bpath[0] != 0) {
        unlink(bpath);
        unlink(qpath);
        unlink(gpath);
    }
    lh_mrl_data_release(&d);
}

/* ---- 3. the tiered MRL search
 * ------------------------------------------------------ */

typedef struct cold_rows {
    const float *rows; /* layout order */
    size_t dim;
} cold_rows;

static const float *
cold_fetch(void *ctx, uint64_t from, uint64_t n, size_t *stride)
{
    (void)n;
    cold_rows *c = ctx;
    *stride = c->dim;
    return c->rows + from * c->dim;
}

typedef struct tq {
    const lh_vec_tiers *t;
    const lh_vec_tier_params *p;
    const lh_mrl_data *d;
    int64_t *found;
} tq;

static void
tier_query(void *ctx, size_t q)
{
    tq *c = ctx;
    size_t dim = c->d->spec.dim;
    lh_vec_hit hits[K];
    size_t n = 0;
    lh_vec_tiered_search(c->t, c->d->queries + q * dim, K, c->p, NULL, hits, &n,
                         NULL, NULL);
    for (size_t i = 0; i < K; i++) {
        c->found[q * K + i] = i < n ? hits[i].id : -1;
    }
}

typedef struct xq {
    const lh_mrl_data *d;
    int64_t *found;
} xq;

static void
exact_query(void *ctx, size_t q)
{
    xq *c = ctx;
    size_t dim = c->d->spec.dim;
    const lh_vec_kernels *k = lh_vec_kernels_best();
    lh__vec_pair heap[K];
    lh__vec_topk t = {heap, 0, K};
    const float *qv = c->d->queries + q * dim;
    for (size_t i = 0; i < c->d->spec.n; i++) {
        lh__vec_topk_offer(
            &t, (lh__vec_pair){k->l2sq(qv, c->d->base + i * dim, dim),
                               (uint32_t)i});
    }
    lh__vec_pairs_sort(heap, t.n);
    for (size_t i = 0; i < K; i++) {
        c->found[q * K + i] = i < t.n ? (int64_t)heap[i].i : -1;
    }
}

static void
bench_tiered(size_t n, size_t dim)
{
    size_t nq = quick ? 50 : n >= 500000 ? 200 : 500;
    /* decay 8: the 64-d prefix holds 63% of the variance and the 256-d
     * one 98%, as in MRL-trained models (at decay 4 the 64-d prefix would
     * hold only 39%) */
    printf("\n== tiered MRL search vs the exact full-dimension scan\n");
    lh_mrl_data d = make_data(n, nq, dim, 8.0f);
    int64_t *gt = ground_truth(&d);
    int64_t *ids = malloc(n * sizeof(int64_t));
    for (size_t i = 0; i < n; i++) {
        ids[i] = (int64_t)i;
    }
    /* hot 5%, warm 45%, cold 50% */
    size_t nhot = n / 20, nwarm = n * 9 / 20, ncold = n - nhot - nwarm;
    lh_err err;
    double t0 = now_s();
    lh_hnsw_config hc;
    lh_hnsw_config_default(&hc, dim, LH_VEC_L2);
    hc.ef_construction = 100;
    lh_hnsw *hot;
    if (lh_hnsw_build(&hc, ids, d.base, nhot, 2, &hot, &err) != LH_OK) {
        die("hot build", &err);
    }
    double thot = now_s() - t0;
    t0 = now_s();
    size_t wdim = LH_MIN(dim, (size_t)256);
    lh_ivfpq_config wc;
    size_t nlist = 16;
    while (nlist * nlist < nwarm * 2) {
        nlist *= 2;
    }
    lh_ivfpq_config_default(&wc, wdim, LH_VEC_L2, nlist, wdim / 8);
    wc.threads = 2;
    wc.train_iters = 10;
    wc.max_points_per_centroid = 64;
    lh_ivfpq *warm;
    const float *wb = d.base + nhot * dim;
    if (lh_ivfpq_train(&wc, wb, nwarm, dim, &warm, &err) != LH_OK ||
        lh_ivfpq_add(warm, ids + nhot, wb, nwarm, dim, 2, &err) != LH_OK) {
        die("warm build", &err);
    }
    double twarm = now_s() - t0;
    t0 = now_s();
    lh_cold_config cc;
    lh_cold_config_default(&cc, dim, LH_VEC_L2, ncold);
    cc.threads = 2;
    uint32_t *order = malloc(ncold * sizeof(uint32_t));
    lh_cold *cold;
    const float *cb = d.base + (nhot + nwarm) * dim;
    if (lh_cold_build(&cc, ids + nhot + nwarm, cb, ncold, order, &cold, &err) !=
        LH_OK) {
        die("cold build", &err);
    }
    float *rows = malloc(ncold * dim * sizeof(float));
    for (size_t p = 0; p < ncold; p++) {
        memcpy(rows + p * dim, cb + (size_t)order[p] * dim,
               dim * sizeof(float));
    }
    free(order);
    double tcold = now_s() - t0;
    printf("tiers: hot %zu rows (HNSW, %zu-d, %.1f s), warm %zu (IVF-PQ on "
           "%zu-d, nlist %zu, m %zu, %.1f s), cold %zu (%zu clusters on "
           "%zu-d, %.1f s)\n",
           nhot, dim, thot, nwarm, wdim, nlist, wdim / 8, twarm, ncold,
           cc.nclusters, cc.prefix, tcold);
    cold_rows cr = {rows, dim};
    lh_vec_tiers t = {.dim = dim,
                      .metric = LH_VEC_L2,
                      .hot = hot,
                      .warm = warm,
                      .warm_fetch = fetch_base,
                      .warm_ctx = &d,
                      .cold = cold,
                      .cold_rows = cold_fetch,
                      .cold_ctx = &cr};
    int64_t *found = malloc(nq * K * sizeof(int64_t));
    /* the exact scan: a sample of queries (it is slow), 1 thread */
    size_t nx = quick ? 5 : 20;
    xq xc = {&d, found};
    double xs = now_s();
    for (size_t q = 0; q < nx; q++) {
        exact_query(&xc, q);
    }
    double exact_qps = (double)nx / (now_s() - xs);
    printf("exact scan: %.1f ms/query (1 thread)\n", 1000.0 / exact_qps);
    const struct {
        unsigned ef;
        size_t wp, wr, cp, cr;
    } ps[] = {{32, 8, 10, 8, 10},
              {64, 16, 10, 16, 20},
              {64, 32, 20, 32, 20},
              {128, 48, 20, 48, 40},
              {128, 64, 40, 64, 50}};
    printf("%-28s %8s %10s %10s\n", "hot ef / warm nprobe,refine / cold",
           "recall", "ms/query", "vs exact");
    for (size_t i = 0; i < LH_ARRAY_LEN(ps); i++) {
        lh_vec_tier_params p = {ps[i].ef, ps[i].wp, ps[i].wr, ps[i].cp,
                                ps[i].cr};
        tq c = {&t, &p, &d, found};
        double qps = time_queries(tier_query, &c, nq, 1);
        double r = lh_vec_recall(found, K, gt, K, nq, K);
        char label[64];
        snprintf(label, sizeof(label), "%u / %zu,%zu / %zu,%zu", ps[i].ef,
                 ps[i].wp, ps[i].wr, ps[i].cp, ps[i].cr);
        printf("%-28s %8.4f %10.3f %9.1fx\n", label, r, 1000.0 / qps,
               qps / exact_qps);
    }
    lh_hnsw_free(hot);
    lh_ivfpq_free(warm);
    lh_cold_free(cold);
    free(rows);
    free(found);
    free(ids);
    free(gt);
    lh_mrl_data_release(&d);
}

/* ---- 4. SQL: ORDER BY embedding <-> q LIMIT k -------------------------
 *
 * The same kind of data in an event table of the hot tier (one shard, so
 * one graph as hnswlib's; M 16, ef_construction 200), queried through
 * lh_sql_run as text (parse, bind, optimize, the index search, the rows
 * read back, CSV out): recall@10 and QPS over a sweep of SET
 * hnsw.ef_search, against the exact SQL plan (the same query with the
 * distance inside an expression, which the rule leaves alone: a full
 * scan) and against hnswlib's graph alone at equal recall; then with a
 * WHERE that passes 10% of the rows. One thread (a session runs one
 * statement at a time). */

typedef struct sqlq {
    lh_session *s;
    char **sql; /* per query */
    int64_t *found;
} sqlq;

static void
sql_query(void *ctx, size_t q)
{
    sqlq *c = ctx;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lh_err err;
    if (f == NULL || lh_sql_run(c->s, c->sql[q], "csv", f, &err) != LH_OK) {
        die("sql", &err);
    }
    fclose(f);
    size_t at = strcspn(buf, "\n"), i = 0;
    while (buf[at] == '\n' && buf[at + 1] != 0 && i < K) {
        at++;
        c->found[q * K + i++] = strtoll(buf + at, NULL, 10);
        at += strcspn(buf + at, "\n");
    }
    while (i < K) {
        c->found[q * K + i++] = -1;
    }
    free(buf);
}

/* The statement of each query: the index path, or (exact) the same order
 * in an expression; filter "" or a WHERE. */
static char **
sql_texts(const lh_mrl_data *d, size_t nq, bool exact, const char *filter)
{
    size_t dim = d->spec.dim;
    char **out = calloc(nq, sizeof(char *));
    for (size_t q = 0; q < nq; q++) {
        size_t cap = dim * 20 + 256, len = 0;
        char *lit = malloc(cap);
        for (size_t j = 0; j < dim; j++) {
            len +=
                (size_t)snprintf(lit + len, cap - len, "%s%.9g", j ? "," : "",
                                 (double)d->queries[q * dim + j]);
        }
        out[q] = malloc(cap + 256);
        snprintf(out[q], cap + 256,
                 exact ? "SELECT i FROM vec %s ORDER BY (embedding <-> '[%s]') "
                         "+ 0 LIMIT %d"
                       : "SELECT i FROM vec %s ORDER BY embedding <-> '[%s]' "
                         "LIMIT %d",
                 filter, lit, K);
        free(lit);
    }
    return out;
}

static void
free_texts(char **t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i]);
    }
    free(t);
}

/* Exact top K among rows whose i % 100 < 10 (the filtered queries'). */
static void
filtered_truth(const lh_mrl_data *d, size_t nq, int64_t *gt)
{
    size_t dim = d->spec.dim;
    const lh_vec_kernels *k = lh_vec_kernels_best();
    for (size_t q = 0; q < nq; q++) {
        lh__vec_pair heap[K];
        lh__vec_topk t = {heap, 0, K};
        for (size_t i = 0; i < d->spec.n; i++) {
            if (i % 100 < 10) {
                lh__vec_topk_offer(
                    &t, (lh__vec_pair){k->l2sq(d->queries + q * dim,
                                               d->base + i * dim, dim),
                                       (uint32_t)i});
            }
        }
        lh__vec_pairs_sort(heap, t.n);
        for (size_t i = 0; i < K; i++) {
            gt[q * K + i] = i < t.n ? (int64_t)heap[i].i : -1;
        }
    }
}

static lh_session *
sql_load(const lh_mrl_data *d, const char *dir, lh_db **db)
{
    lh_err err;
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0 || lh_db_init(dir, &err) != LH_OK ||
        lh_db_open(dir, NULL, db, &err) != LH_OK) {
        die("database", &err);
    }
    char def[512];
    snprintf(def, sizeof(def),
             "{\"name\": \"vec\", \"columns\": [{\"name\": \"i\", "
             "\"type\": \"BIGINT\"}, {\"name\": \"g\", \"type\": "
             "\"INTEGER\"}], \"shards\": 1, \"embedding_dim\": %zu, "
             "\"vector_index\": {\"m\": 16, \"ef_construction\": 200}}",
             d->spec.dim);
    if (lh_table_create(*db, def, strlen(def), &err) != LH_OK) {
        die("table", &err);
    }
    enum { B = 1000 };
    lh_event_in *evs = calloc(B, sizeof(lh_event_in));
    char(*data)[48] = calloc(B, 48);
    double t0 = now_s();
    for (size_t from = 0; from < d->spec.n; from += B) {
        size_t n = LH_MIN((size_t)B, d->spec.n - from);
        for (size_t j = 0; j < n; j++) {
            size_t i = from + j;
            snprintf(data[j], 48, "{\"i\": %zu, \"g\": %zu}", i, i % 100);
            evs[j] = (lh_event_in){.stream = "s",
                                   .type = "V",
                                   .data_json = data[j],
                                   .embedding = d->base + i * d->spec.dim,
                                   .embedding_len = d->spec.dim};
        }
        if (lh_append(*db, "vec", evs, n, NULL, NULL, &err) != LH_OK) {
            die("append", &err);
        }
    }
    /* the shard inserts a group into its graph after acking it, before the
     * next group: one more event (without an embedding) waits for the
     * last group's inserts, so the timings below do not overlap them */
    evs[0] = (lh_event_in){.stream = "s", .type = "V", .data_json = "{}"};
    if (lh_append(*db, "vec", evs, 1, NULL, NULL, &err) != LH_OK) {
        die("append", &err);
    }
    printf("appended %zu events (HNSW inserts beside: 1 shard, 1 thread) in "
           "%.1f s\n",
           d->spec.n, now_s() - t0);
    free(evs);
    free(data);
    lh_session_options o = {.threads = 1};
    lh_session *s;
    if (lh_session_open(*db, &o, &s, &err) != LH_OK) {
        die("session", &err);
    }
    return s;
}

static void
bench_sql(size_t n, size_t dim)
{
    size_t nq = quick ? 20 : 200, nx = quick ? 5 : 10;
    printf("\n== SQL kNN: ORDER BY embedding <-> q LIMIT %d, index vs the "
           "exact SQL plan vs hnswlib\n",
           K);
    lh_mrl_data d = make_data(n, nq, dim, 4.0f);
    int64_t *gt = ground_truth(&d);
    char dir[1100], drv[1100], ipath[1100], bpath[1100] = "", qpath[1100],
                                            gpath[1100];
    snprintf(dir, sizeof(dir), "%s/vector-sql-db", work_dir);
    snprintf(drv, sizeof(drv), "%s/vector_hnswlib", work_dir);
    snprintf(ipath, sizeof(ipath), "%s/hnswlib-sql.index", work_dir);
    lh_db *db;
    lh_session *s = sql_load(&d, dir, &db);
    int64_t *found = malloc(nq * K * sizeof(int64_t));
    /* the exact plan: a few queries (each reads every embedding) */
    char **ex = sql_texts(&d, nx, true, "");
    sqlq c = {s, ex, found};
    double xqps = time_queries(sql_query, &c, nx, 1);
    double xrec = lh_vec_recall(found, K, gt, K, nx, K);
    free_texts(ex, nx);
    printf("exact SQL plan (full scan): recall %.4f, %.2f QPS\n", xrec, xqps);
    char **ix = sql_texts(&d, nq, false, "");
    curve ours = {0}, theirs = {0};
    char efl[256] = "";
    for (size_t i = 0; i < LH_ARRAY_LEN(efs); i++) {
        snprintf(efl + strlen(efl), sizeof(efl) - strlen(efl), "%s%d",
                 i ? "," : "", efs[i]);
        char set[64];
        snprintf(set, sizeof(set), "SET hnsw.ef_search = %d", efs[i]);
        lh_err err;
        if (lh_sql_run(s, set, "csv", NULL, &err) != LH_OK) {
            die("set", &err);
        }
        c.sql = ix;
        point p = {1, efs[i], 1, 0, 0};
        p.qps = time_queries(sql_query, &c, nq, 1);
        p.recall = lh_vec_recall(found, K, gt, K, nq, K);
        ours.p[ours.n++] = p;
    }
    if (hnswlib_driver(drv)) {
        write_file("sql-base.f32", d.base, n * dim * 4, bpath);
        write_file("sql-queries.f32", d.queries, nq * dim * 4, qpath);
        write_file("sql-gt.i64", gt, nq * K * 8, gpath);
        char cmd[6000];
        snprintf(cmd, sizeof(cmd),
                 "%s %s %s %s %zu %zu %zu %d 16 200 1 %s %s 1", drv, bpath,
                 qpath, gpath, n, nq, dim, K, ipath, efl);
        FILE *p = popen(cmd, "r");
        double bs = 0, bytes = 0, x0 = 0, x1 = 0;
        read_peer(p, &theirs, 0, &bs, &bytes, &x0, &x1);
        pclose(p);
        printf("hnswlib (the graph alone, no SQL): built in %.1f s\n", bs);
    }
    printf("%5s  %-18s %-18s %-10s %s\n", "ef", "SQL index rec/QPS",
           "hnswlib rec/QPS", "vs hnswlib", "vs exact SQL");
    for (int i = 0; i < ours.n; i++) {
        const point *o = &ours.p[i];
        printf("%5d  %.4f %10.0f", o->knob, o->recall, o->qps);
        if (i < theirs.n) {
            printf("   %.4f %10.0f  %6.2f", theirs.p[i].recall, theirs.p[i].qps,
                   o->qps / theirs.p[i].qps);
        } else {
            printf("   %18s %8s", "", "");
        }
        printf("  %8.0fx\n", o->qps / xqps);
    }
    if (theirs.n > 0) {
        printf("SQL index / hnswlib QPS at equal recall:");
        print_equal_recall(&ours, &theirs, 1);
    }
    double r95 = qps_at(&ours, 1, -1, 0.95);
    printf("SQL index / exact SQL plan at recall >= 0.95: %.0fx\n", r95 / xqps);
    free_texts(ix, nq);
    /* a WHERE passing 10%: the filter's pass, then the filtered search */
    filtered_truth(&d, nq, gt);
    lh_err err;
    if (lh_sql_run(s, "SET hnsw.ef_search = 64", "csv", NULL, &err) != LH_OK) {
        die("set", &err);
    }
    ix = sql_texts(&d, nq, false, "WHERE g < 10");
    c.sql = ix;
    double fq = time_queries(sql_query, &c, nq, 1);
    double fr = lh_vec_recall(found, K, gt, K, nq, K);
    free_texts(ix, nq);
    ex = sql_texts(&d, nx, true, "WHERE g < 10");
    c.sql = ex;
    double fxq = time_queries(sql_query, &c, nx, 1);
    double fxr = lh_vec_recall(found, K, gt, K, nx, K);
    free_texts(ex, nx);
    printf("WHERE g < 10 (10%% of rows), ef 64: index recall %.4f %.1f QPS, "
           "exact plan recall %.4f %.2f QPS, ratio %.1fx\n",
           fr, fq, fxr, fxq, fq / fxq);
    lh_session_close(s);
    lh_db_close(db);
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        printf("could not remove %s\n", dir);
    }
    if (bpath[0] != 0) {
        unlink(bpath);
        unlink(qpath);
        unlink(gpath);
    }
    free(found);
    free(gt);
    lh_mrl_data_release(&d);
}

/* ---- 5. SQL kNN across the tiers
 * ---------------------------------------------
 * N events a third each in the hot tier, the warm files and the cold files
 * (their ts 0 h, 5 h and 5 days old under a frozen clock, one pipeline
 * run), the table's warm IVF-PQ at nlist / pq_m / nprobe / refine: the
 * index path (HNSW + warm index + the cold files' carried codes, merged by
 * full-vector distance) against the exact SQL plan and faiss IndexIVFPQ
 * (same nlist, m, nprobe, refine) over the same vectors. One thread. */

static lh_us
lake_ts(size_t i, lh_us now)
{
    return i % 3 == 0   ? now - INT64_C(5) * 86400 * 1000000
           : i % 3 == 1 ? now - INT64_C(5) * 3600 * 1000000
                        : now;
}

static lh_session *
lake_load(const lh_mrl_data *d, const char *dir, size_t nlist, size_t nprobe,
          size_t refine, lh_us now, lh_db **db)
{
    lh_err err;
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0 || lh_db_init(dir, &err) != LH_OK ||
        lh_db_open(dir, NULL, db, &err) != LH_OK) {
        die("database", &err);
    }
    char def[768];
    snprintf(def, sizeof(def),
             "{\"name\": \"vec\", \"columns\": [{\"name\": \"i\", "
             "\"type\": \"BIGINT\"}, {\"name\": \"g\", \"type\": "
             "\"INTEGER\"}], \"shards\": 2, \"embedding_dim\": %zu, "
             "\"hot_window\": \"1h\", \"warm_window\": \"2d\", "
             "\"warm_row_group_rows\": 4096, \"vector_index\": {\"nlist\": "
             "%zu, \"nprobe\": %zu, \"refine\": %zu}}",
             d->spec.dim, nlist, nprobe, refine);
    if (lh_table_create(*db, def, strlen(def), &err) != LH_OK) {
        die("table", &err);
    }
    enum { B = 1000 };
    lh_event_in *evs = calloc(B, sizeof(lh_event_in));
    char(*data)[48] = calloc(B, 48);
    char(*ts)[32] = calloc(B, 32);
    char(*stream)[16] = calloc(B, 16);
    size_t m = 0;
    /* oldest first: a flush moves each shard's due prefix */
    for (size_t third = 0; third < 3; third++) {
        for (size_t i = third; i < d->spec.n; i += 3) {
            snprintf(data[m], 48, "{\"i\": %zu, \"g\": %zu}", i, i % 100);
            time_t sec = (time_t)(lake_ts(i, now) / 1000000);
            struct tm tm;
            gmtime_r(&sec, &tm);
            strftime(ts[m], 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
            snprintf(stream[m], 16, "s%zu", i % 64);
            evs[m] = (lh_event_in){.stream = stream[m],
                                   .type = "V",
                                   .ts = ts[m],
                                   .data_json = data[m],
                                   .embedding = d->base + i * d->spec.dim,
                                   .embedding_len = d->spec.dim};
            if (++m == B || i + 3 >= d->spec.n) {
                if (lh_append(*db, "vec", evs, m, NULL, NULL, &err) != LH_OK) {
                    die("append", &err);
                }
                m = 0;
            }
        }
    }
    free(evs);
    free(data);
    free(ts);
    free(stream);
    double t0 = now_s();
    lh_pipeline_stats st;
    if (lh_pipeline_run(*db, true, &st, &err) != LH_OK) {
        die("pipeline", &err);
    }
    printf("%zu events: %lld flushed to the lake (warm index trained and "
           "written), %lld partitions compacted to cold, in %.1f s\n",
           d->spec.n, (long long)st.events_flushed, (long long)st.compactions,
           now_s() - t0);
    lh_session_options o = {.threads = 1};
    lh_session *s;
    if (lh_session_open(*db, &o, &s, &err) != LH_OK) {
        die("session", &err);
    }
    return s;
}

static void
bench_lake(size_t n, size_t dim)
{
    size_t nq = quick ? 20 : 200, nx = quick ? 3 : 5;
    size_t nlist = quick ? 32 : 256, nprobe = 16, refine = 10;
    size_t pq_m = LH_MIN(dim, (size_t)256) / 8;
    printf("\n== SQL kNN over hot + warm + cold: ORDER BY embedding <-> q "
           "LIMIT %d, %zu x %zu, nlist %zu, pq_m %zu, nprobe %zu, refine "
           "%zu\n",
           K, n, dim, nlist, pq_m, nprobe, refine);
    lh_mrl_data d = make_data(n, nq, dim, 4.0f);
    int64_t *gt = ground_truth(&d);
    char dir[1100], bpath[1100] = "", qpath[1100], gpath[1100];
    snprintf(dir, sizeof(dir), "%s/vector-lake-db", work_dir);
    lh_us now = INT64_C(1767225600) * 1000000 + INT64_C(30) * 86400 * 1000000;
    lh_time_set_frozen(now, true);
    lh_db *db;
    lh_session *s = lake_load(&d, dir, nlist, nprobe, refine, now, &db);
    int64_t *found = malloc(nq * K * sizeof(int64_t));
    char **ex = sql_texts(&d, nx, true, "");
    sqlq c = {s, ex, found};
    double xqps = time_queries(sql_query, &c, nx, 1);
    double xrec = lh_vec_recall(found, K, gt, K, nx, K);
    free_texts(ex, nx);
    char **ix = sql_texts(&d, nq, false, "");
    c.sql = ix;
    double qps = time_queries(sql_query, &c, nq, 1);
    double rec = lh_vec_recall(found, K, gt, K, nq, K);
    free_texts(ix, nq);
    printf("exact SQL plan: recall %.4f, %.2f QPS\n", xrec, xqps);
    printf("tiered index path: recall %.4f, %.1f QPS (%.1fx the exact plan)\n",
           rec, qps, qps / xqps);
    bool peer = !quick && !skip_peers &&
                system("/usr/bin/python3 -c 'import faiss' 2>/dev/null") == 0;
    if (peer) {
        write_file("lake-base.f32", d.base, n * dim * 4, bpath);
        write_file("lake-queries.f32", d.queries, nq * dim * 4, qpath);
        write_file("lake-gt.i64", gt, nq * K * 8, gpath);
        char cmd[6000];
        snprintf(cmd, sizeof(cmd),
                 "/usr/bin/python3 %s/vector_faiss.py %s %s %s %zu %zu %zu %d "
                 "%zu %zu 20 %zu %zu 1",
                 LH_BENCH_SRC_DIR, bpath, qpath, gpath, n, nq, dim, K, nlist,
                 pq_m, nprobe, refine);
        FILE *p = popen(cmd, "r");
        curve theirs = {0};
        double t1 = 0, t2 = 0, a1 = 0, a2 = 0;
        read_peer(p, &theirs, 1, &t1, &t2, &a1, &a2);
        pclose(p);
        if (theirs.n > 0) {
            printf("faiss IndexIVFPQ (the index alone, in memory, refined "
                   "x%zu): recall %.4f, %.0f QPS; ours / faiss QPS %.3f\n",
                   refine, theirs.p[0].recall, theirs.p[0].qps,
                   qps / theirs.p[0].qps);
        }
        unlink(bpath);
        unlink(qpath);
        unlink(gpath);
    }
    lh_session_close(s);
    lh_db_close(db);
    lh_time_set_frozen(0, false);
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        printf("could not remove %s\n", dir);
    }
    free(found);
    free(gt);
    lh_mrl_data_release(&d);
}

int
main(int argc, char **argv)
{
    size_t hnsw_n = 100000, ivf_n = 200000, tiered_n = 200000, sql_n = 50000,
           lake_n = 60000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            snprintf(work_dir, sizeof(work_dir), "%s", argv[++i]);
        } else if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--skip-peers") == 0) {
            skip_peers = true;
        } else if (strcmp(argv[i], "--hnsw-n") == 0 && i + 1 < argc) {
            hnsw_n = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--ivf-n") == 0 && i + 1 < argc) {
            ivf_n = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--tiered-n") == 0 && i + 1 < argc) {
            tiered_n = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--sql-n") == 0 && i + 1 < argc) {
            sql_n = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--lake-n") == 0 && i + 1 < argc) {
            lake_n = strtoull(argv[++i], NULL, 10);
        } else {
            /* other programs' options (scripts/bench.sh passes them all) */
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows in a log */
    char self[1024];
    snprintf(self, sizeof(self), "%s", argv[0]);
    snprintf(cache_dir, sizeof(cache_dir), "%s/vector-cache", dirname(self));
    if (quick) {
        hnsw_n = 3000;
        ivf_n = 5000;
        tiered_n = 8000;
        sql_n = 2000;
        lake_n = 3000;
    }
    printf("bench_vector: kernels %s, 2-core machine shared with other "
           "work (numbers are noisy)\n",
           lh_vec_kernels_best()->name);
    if (hnsw_n > 0) {
        bench_hnsw(hnsw_n, quick ? 32 : 128);
    }
    if (ivf_n > 0) {
        bench_ivfpq(ivf_n, quick ? 32 : 128, quick ? 32 : 1024, quick ? 8 : 16);
    }
    if (tiered_n > 0) {
        bench_tiered(tiered_n, quick ? 128 : 1024);
    }
    if (sql_n > 0) {
        bench_sql(sql_n, quick ? 32 : 128);
    }
    if (lake_n > 0) {
        bench_lake(lake_n, quick ? 32 : 128);
    }
    return 0;
}
