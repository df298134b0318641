/*
 * bench_io: the object stores, the local one (a directory under --dir)
 * and the S3 one against s3rver on loopback, in the same run on the same
 * workload:
 *   - put and get of small objects (4 KiB, one at a time: latency p50 and
 *     p99, and objects per second),
 *   - a full listing of them in pages of 1000 (keys per second),
 *   - put and get of large objects (32 MiB; MB/s; the S3 store uploads
 *     them in 16 MiB parts above its 16 MiB threshold here).
 * It prints one table with both stores and the ratio local / s3. s3rver
 * is a Node.js server writing to files, so its column measures the S3
 * store's client (signing, HTTP, XML) plus s3rver, not a real S3.
 *
 *   bench_io [--dir DIR] [--small N] [--large N] [--quick]
 *
 * Without node or s3rver the s3 column says "n/a". Exit 1 when a store
 * call fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tests/io/s3_peer.h"
#include "io/io.h"

typedef struct result {
    double p50_ms, p99_ms, per_sec, mb_per_sec;
    bool ok;
} result;

enum { OPS = 5 };
static const char *const op_names[OPS] = {"put 4 KiB", "get 4 KiB",
                                          "list (pages of 1000)", "put 32 MiB",
                                          "get 32 MiB"};

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void
summarize(double *lat, size_t n, double total_s, size_t bytes, result *r)
{
    qsort(lat, n, sizeof(*lat), cmp_double);
    r->p50_ms = lat[n / 2] * 1e3;
    r->p99_ms = lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] * 1e3;
    r->per_sec = (double)n / total_s;
    r->mb_per_sec = (double)bytes / total_s / 1e6;
    r->ok = true;
}

static bool
check(lh_rc rc, const lh_err *err, const char *what)
{
    if (rc != LH_OK) {
        fprintf(stderr, "bench_io: %s: %s\n", what, err->msg);
        return false;
    }
    return true;
}

/* Runs the workload on s; false when a call failed. */
static bool
run(lh_io_store *s, size_t small, size_t large, result out[OPS])
{
    size_t small_len = 4096, large_len = (size_t)32 << 20;
    char *body = malloc(large_len);
    double *lat = malloc(sizeof(double) * (small > large ? small : large));
    for (size_t i = 0; i < large_len; i++) {
        body[i] = (char)(i * 2654435761u >> 13);
    }
    lh_err err;
    lh_buf b = LH_BUF_INIT;
    char key[64];
    bool ok = true;

    double t0 = now_s();
    for (size_t i = 0; ok && i < small; i++) {
        snprintf(key, sizeof(key), "small/%06zu", i);
        double t = now_s();
        ok = check(lh_io_put(s, key, body, small_len, NULL, &err), &err, key);
        lat[i] = now_s() - t;
    }
    if (ok) {
        summarize(lat, small, now_s() - t0, small * small_len, &out[0]);
    }
    t0 = now_s();
    for (size_t i = 0; ok && i < small; i++) {
        snprintf(key, sizeof(key), "small/%06zu", i);
        double t = now_s();
        ok = check(lh_io_get(s, key, &b, NULL, &err), &err, key) &&
             b.len == small_len;
        lat[i] = now_s() - t;
    }
    if (ok) {
        summarize(lat, small, now_s() - t0, small * small_len, &out[1]);
    }
    /* Listing: one timing for the whole walk, per page for latency. */
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_io_list_opts o = {.prefix = "small/"};
    size_t keys = 0, pages = 0;
    double page_lat[1024];
    t0 = now_s();
    while (ok && pages < 1024) {
        lh_io_page p;
        double t = now_s();
        ok = check(lh_io_list(s, &o, &a, &p, &err), &err, "list");
        page_lat[pages++] = now_s() - t;
        keys += p.count;
        if (!ok || p.next_token == NULL) {
            break;
        }
        o.token = p.next_token;
    }
    if (ok) {
        summarize(page_lat, pages, now_s() - t0, 0, &out[2]);
        out[2].per_sec = (double)keys / (now_s() - t0);
        ok = keys == small;
    }
    lh_arena_release(&a);

    t0 = now_s();
    for (size_t i = 0; ok && i < large; i++) {
        snprintf(key, sizeof(key), "large/%03zu", i);
        double t = now_s();
        ok = check(lh_io_put(s, key, body, large_len, NULL, &err), &err, key);
        lat[i] = now_s() - t;
    }
    if (ok) {
        summarize(lat, large, now_s() - t0, large * large_len, &out[3]);
    }
    t0 = now_s();
    for (size_t i = 0; ok && i < large; i++) {
        snprintf(key, sizeof(key), "large/%03zu", i);
        double t = now_s();
        ok = check(lh_io_get(s, key, &b, NULL, &err), &err, key) &&
             b.len == large_len && memcmp(b.data, body, large_len) == 0;
        lat[i] = now_s() - t;
    }
    if (ok) {
        summarize(lat, large, now_s() - t0, large * large_len, &out[4]);
    }
    lh_buf_release(&b);
    free(lat);
    free(body);
    return ok;
}

static void
cell(const result *r, int op, char *buf, size_t size)
{
    if (!r->ok) {
        snprintf(buf, size, "n/a");
    } else if (op == 2) {
        snprintf(buf, size, "%.0f keys/s, page p50 %.2f ms", r->per_sec,
                 r->p50_ms);
    } else if (op >= 3) {
        snprintf(buf, size, "%.0f MB/s, p50 %.1f ms", r->mb_per_sec, r->p50_ms);
    } else {
        snprintf(buf, size, "%.0f/s, p50 %.2f p99 %.2f ms", r->per_sec,
                 r->p50_ms, r->p99_ms);
    }
}

int
main(int argc, char **argv)
{
    const char *dir = "/tmp";
    size_t small = 2000, large = 4;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (strcmp(argv[i], "--small") == 0 && i + 1 < argc) {
            small = (size_t)atol(argv[++i]);
        } else if (strcmp(argv[i], "--large") == 0 && i + 1 < argc) {
            large = (size_t)atol(argv[++i]);
        } else if (strcmp(argv[i], "--quick") == 0) {
            small = 200;
            large = 1;
        } else {
            fprintf(stderr,
                    "usage: bench_io [--dir DIR] [--small N] [--large N] "
                    "[--quick]\n");
            return 2;
        }
    }
    if (small < 1 || large < 1) {
        fprintf(stderr, "bench_io: --small and --large must be >= 1\n");
        return 2;
    }
    result local[OPS] = {0}, s3[OPS] = {0};
    char root[4096];
    snprintf(root, sizeof(root), "%s/bench-io.XXXXXX", dir);
    if (mkdtemp(root) == NULL) {
        perror("bench_io: mkdtemp");
        return 1;
    }
    lh_io_store *s;
    lh_err err;
    bool ok = check(lh_io_local_open(root, &s, &err), &err, root) &&
              run(s, small, large, local);
    if (s != NULL) {
        lh_io_close(s);
    }
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_io: could not remove %s\n", root);
    }

    s3peer peer = {.pid = -1, .in = -1};
    if (ok && s3peer_start(&peer) && s3peer_make_bucket(&peer, "bench")) {
        setenv("AWS_ACCESS_KEY_ID", S3PEER_KEY, 1);
        setenv("AWS_SECRET_ACCESS_KEY", S3PEER_SECRET, 1);
        unsetenv("AWS_PROFILE");
        char uri[256];
        s3peer_uri(&peer, "bench", "multipart_threshold=16M", uri, sizeof(uri));
        ok = check(lh_io_open(uri, &s, &err), &err, uri) &&
             run(s, small, large, s3);
        lh_io_close(s);
    } else if (ok) {
        fprintf(stderr, "bench_io: s3 column skipped: %s\n", peer.why);
    }
    s3peer_stop(&peer);

    printf("bench_io: %zu small objects, %zu large; local store under %s, "
           "s3 store against s3rver on loopback\n",
           small, large, dir);
    printf("%-22s %-36s %-36s %s\n", "operation", "local", "s3 (s3rver)",
           "local/s3");
    for (int op = 0; op < OPS; op++) {
        char a[64], b[64], ratio[32] = "n/a";
        cell(&local[op], op, a, sizeof(a));
        cell(&s3[op], op, b, sizeof(b));
        if (local[op].ok && s3[op].ok) {
            double x = op >= 3 ? local[op].mb_per_sec / s3[op].mb_per_sec
                               : local[op].per_sec / s3[op].per_sec;
            snprintf(ratio, sizeof(ratio), "%.1fx", x);
        }
        printf("%-22s %-36s %-36s %s\n", op_names[op], a, b, ratio);
    }
    return ok ? 0 : 1;
}
