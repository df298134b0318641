/*
 * bench_iceberg: scan planning on a table of 10,000 data files in 100
 * manifests (one manifest a commit, 100 files of one partition each) with
 * a predicate that keeps 1% of the partitions, cold (a fresh table handle
 * and an empty cache of parsed objects: metadata, manifest list and
 * manifests read and parsed) and warm (the same handle again, the parsed
 * manifests from the cache: iceberg.h, "the cache"); and the latency of those
 * 100 commits on the local store. No independent Iceberg planner runs here
 * without a download (DuckDB's iceberg extension, pyiceberg), so there is no
 * ratio: the numbers stand alone.
 *
 * The same then runs on s3rver (tests/peers/s3rver.mjs, on loopback) with
 * a fifth of the commits, when node and s3rver are there: the commit
 * latency there is HTTP round trips, not fsyncs.
 *
 *   bench_iceberg --dir DIR [--files N] [--manifests M] [--quick]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tests/io/s3_peer.h"
#include "format/iceberg/iceberg_int.h"

static int
cmp_us(const void *a, const void *b)
{
    lh_us x = *(const lh_us *)a, y = *(const lh_us *)b;
    return x < y ? -1 : x > y;
}

static void
die(const char *what, const lh_err *err)
{
    fprintf(stderr, "bench_iceberg: %s: %s\n", what, err->msg);
    exit(1);
}

static const char *const SCHEMA =
    "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"p\",\"required\":true,\"type\":\"int\"},"
    "{\"id\":2,\"name\":\"id\",\"required\":true,\"type\":\"long\"}]}";

static int
bench(const char *label, const char *store, const char *table, const char *loc,
      int files, int manifests)
{
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_err err;
    lh_ice_schema schema;
    if (lh_ice_schema_parse_json(SCHEMA, strlen(SCHEMA), &a, &schema, &err)) {
        die("schema", &err);
    }
    lh_ice_partition_field pf = {.source_id = 1, .field_id = 1000, .name = "p"};
    int32_t src = 1;
    pf.source_ids = &src;
    pf.nsource_ids = 1;
    lh_ice_transform_parse("identity", &pf.transform);
    lh_ice_partition_spec spec = {0, &pf, 1};
    lh_ice_create_opts co = {.store = store, .location = loc};
    lh_ice_open_opts oo = {store, NULL, 0};
    lh_ice_table *t;
    if (lh_ice_table_create(table, &schema, &spec, &co, &t, &err) != LH_OK) {
        die("create", &err);
    }
    int per = files / manifests;
    lh_us *commit_us = calloc((size_t)manifests, sizeof(lh_us));
    lh_ice_data_file *df = calloc((size_t)per, sizeof(*df));
    for (int m = 0; m < manifests; m++) {
        lh_arena fa;
        lh_arena_init(&fa, 0);
        for (int k = 0; k < per; k++) {
            lh_ice_data_file *f = &df[k];
            memset(f, 0, sizeof(*f));
            char path[1300];
            snprintf(path, sizeof(path), "%s/data/p=%d/f%05d.parquet", loc, m,
                     k);
            f->path = lh_arena_strdup(&fa, path);
            f->format = "PARQUET";
            f->record_count = 1000;
            f->file_size = 65536;
            f->partition = lh_arena_calloc(&fa, sizeof(lh_value));
            f->partition[0].type.id = LH_T_INTEGER;
            f->partition[0].u.i = m;
            f->npartition = 1;
            /* id bounds: 1000 ids a file, disjoint. */
            int64_t lo = ((int64_t)m * per + k) * 1000, hi = lo + 999;
            f->lower = lh_arena_calloc(&fa, 2 * sizeof(lh_ice_bound));
            f->upper = lh_arena_calloc(&fa, 2 * sizeof(lh_ice_bound));
            uint8_t *b = lh_arena_alloc(&fa, 24);
            lh_put_le32(b, (uint32_t)m);
            memcpy(b + 4, &lo, 8);
            memcpy(b + 12, &hi, 8);
            f->lower[0] = (lh_ice_bound){1, b, 4};
            f->upper[0] = (lh_ice_bound){1, b, 4};
            f->lower[1] = (lh_ice_bound){2, b + 4, 8};
            f->upper[1] = (lh_ice_bound){2, b + 12, 8};
            f->nlower = f->nupper = 2;
        }
        lh_ice_change c = {.add = df, .nadd = (uint32_t)per};
        lh_us t0 = lh_mono_now();
        if (lh_ice_commit(t, &c, NULL, &err) != LH_OK) {
            die("commit", &err);
        }
        commit_us[m] = lh_mono_now() - t0;
        lh_arena_release(&fa);
    }
    qsort(commit_us, (size_t)manifests, sizeof(lh_us), cmp_us);
    printf("%s: %d commits of %d files each (the manifest list carried "
           "over): median %.2f ms, p90 %.2f ms, max %.2f ms\n",
           label, manifests, per, commit_us[manifests / 2] / 1000.0,
           commit_us[manifests * 9 / 10] / 1000.0,
           commit_us[manifests - 1] / 1000.0);
    lh_value lit = {.type = {.id = LH_T_INTEGER}, .u.i = manifests / 2};
    lh_ice_expr e = {
        .op = LH_ICE_OP_EQ, .field_id = 1, .lits = &lit, .nlits = 1};
    lh_ice_scan_opts so = {.filter = &e};
    int runs = 20;
    lh_us cold[20], warm[20];
    lh_ice_plan_stats st;
    uint32_t tasks = 0;
    for (int r = 0; r < runs; r++) {
        lh_ice_cache_clear();
        lh_us t0 = lh_mono_now();
        lh_ice_table *ct;
        if (lh_ice_table_open(table, &oo, &ct, &err) != LH_OK) {
            die("open", &err);
        }
        lh_arena pa;
        lh_arena_init(&pa, 0);
        lh_ice_plan plan;
        if (lh_ice_plan_scan(ct, &so, &pa, &plan, &err) != LH_OK) {
            die("plan", &err);
        }
        cold[r] = lh_mono_now() - t0;
        lh_arena_release(&pa);
        lh_ice_table_close(ct);
        lh_arena_init(&pa, 0);
        t0 = lh_mono_now();
        if (lh_ice_plan_scan(t, &so, &pa, &plan, &err) != LH_OK) {
            die("plan", &err);
        }
        warm[r] = lh_mono_now() - t0;
        st = plan.stats;
        tasks = plan.ntasks;
        lh_arena_release(&pa);
    }
    qsort(cold, (size_t)runs, sizeof(lh_us), cmp_us);
    qsort(warm, (size_t)runs, sizeof(lh_us), cmp_us);
    printf("%s: plan p = %d on %d files in %d manifests: %u tasks, %u "
           "manifests pruned by summaries, %llu files read from manifests\n",
           label, manifests / 2, files, manifests, tasks, st.manifests_pruned,
           (unsigned long long)st.files);
    printf("  cold (open + plan): median %.3f ms; warm (plan): median %.3f "
           "ms\n",
           cold[runs / 2] / 1000.0, warm[runs / 2] / 1000.0);
    /* Without pruning: every manifest read. */
    lh_ice_scan_opts all = {0};
    lh_us t0 = lh_mono_now();
    lh_arena pa;
    lh_arena_init(&pa, 0);
    lh_ice_plan plan;
    if (lh_ice_plan_scan(t, &all, &pa, &plan, &err) != LH_OK) {
        die("plan", &err);
    }
    printf("  no predicate: %u tasks in %.3f ms\n", plan.ntasks,
           (lh_mono_now() - t0) / 1000.0);
    int ok =
        tasks == (uint32_t)per && plan.ntasks == (uint32_t)(per * manifests);
    lh_arena_release(&pa);
    lh_ice_table_close(t);
    free(commit_us);
    free(df);
    lh_arena_release(&a);
    if (!ok) {
        fprintf(stderr, "bench_iceberg: wrong plan (%u tasks)\n", tasks);
        return 1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    const char *dir = "/tmp";
    int files = 10000, manifests = 100;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (strcmp(argv[i], "--files") == 0 && i + 1 < argc) {
            files = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--manifests") == 0 && i + 1 < argc) {
            manifests = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--quick") == 0) {
            files = 400;
            manifests = 20;
        }
    }
    if (files < manifests || manifests < 1) {
        fprintf(stderr, "bench_iceberg: --files must be >= --manifests >= 1\n");
        return 2;
    }
    char table[1024], loc[1100], cmd[1200];
    snprintf(table, sizeof(table), "%s/bench-iceberg-%d", dir, (int)getpid());
    snprintf(loc, sizeof(loc), "file://%s", table);
    int rc = bench("local store", NULL, table, loc, files, manifests);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", table);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_iceberg: could not remove %s\n", table);
    }
    s3peer peer = {.pid = -1, .in = -1};
    if (rc == 0 && s3peer_start(&peer) &&
        s3peer_make_bucket(&peer, "bench-iceberg")) {
        char uri[256];
        s3peer_uri(&peer, "bench-iceberg", NULL, uri, sizeof(uri));
        int m = LH_MAX(manifests / 5, 2);
        rc = bench("s3rver", uri, "t", "s3://bench-iceberg/t", files / 5, m);
    } else if (rc == 0) {
        printf("s3rver: skipped (%s)\n", peer.why);
    }
    s3peer_stop(&peer);
    return rc;
}
