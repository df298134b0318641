/*
 * ORDER BY embedding <-> q LIMIT k through the hot tier's HNSW (the rule
 * of sql/opt_vector.c, the search of exec/hot_knn.c), against a brute
 * force this test does itself in double precision over the MRL-like
 * vectors it appended (src/vector/mrl.c), and against the exact SQL plan
 * (the same ORDER BY written so the rule does not apply):
 *  - recall@10 of the index path over queries from the same distribution,
 *    unfiltered and with filters passing 50%, 5%, 1% and a few dozen rows
 *    (k rows still come back), and the exact plan's when fewer than k rows
 *    have an embedding (events without one come last, as SQL says);
 *  - EXPLAIN shows the index path, k and ef, or why the plan is exact;
 *  - searches while another thread appends: k rows every time, and an
 *    event is found as soon as its append returns.
 */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lakehouse.h"
#include "sql_test.h"
#include "vector/vector.h"

enum { DIM = 32, N = 4000, NQ = 12, K = 10, MORE = 600 };

static const char *const schema = "{\"name\": \"docs\", \"columns\": ["
                                  "{\"name\": \"i\", \"type\": \"INTEGER\"},"
                                  "{\"name\": \"g\", \"type\": \"INTEGER\"}],"
                                  " \"shards\": 3, \"embedding_dim\": 32}";

typedef struct fixture {
    char dir[64];
    lh_db *db;
    lh_session *s;
    lh_mrl_data data; /* N + MORE base rows (the last MORE appended later) */
} fixture;

/* every 50th event has no embedding */
static bool
embedded(int i)
{
    return i % 50 != 0;
}

static void
append_rows(fixture *f, int from, int to)
{
    lh_event_in evs[100];
    char data[100][64], stream[100][32];
    while (from < to) {
        int n = 0;
        for (; n < 100 && from < to; n++, from++) {
            snprintf(stream[n], sizeof stream[n], "doc-%d", from);
            snprintf(data[n], sizeof data[n], "{\"i\": %d, \"g\": %d}", from,
                     from % 100);
            evs[n] = (lh_event_in){
                .stream = stream[n], .type = "Added", .data_json = data[n]};
            if (embedded(from)) {
                evs[n].embedding = f->data.base + (size_t)from * DIM;
                evs[n].embedding_len = DIM;
            }
        }
        lh_err err;
        assert_int_equal(
            lh_append(f->db, "docs", evs, (size_t)n, NULL, NULL, &err), LH_OK);
    }
}

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(fixture));
    snprintf(f->dir, sizeof f->dir, "/tmp/lh_sql_knn_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    rmdir(f->dir);
    lh_err err;
    lh_mrl_spec sp;
    lh_mrl_spec_default(&sp, N + MORE, NQ, DIM);
    sp.clusters = 20;
    assert_int_equal(lh_mrl_generate(&sp, &f->data, &err), LH_OK);
    assert_int_equal(lh_db_init(f->dir, &err), LH_OK);
    assert_int_equal(lh_db_open(f->dir, NULL, &f->db, &err), LH_OK);
    assert_int_equal(lh_table_create(f->db, schema, strlen(schema), &err),
                     LH_OK);
    append_rows(f, 0, N);
    lh_session_options o = {.threads = 2};
    assert_int_equal(lh_session_open(f->db, &o, &f->s, &err), LH_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    lh_session_close(f->s);
    lh_db_close(f->db);
    lh_mrl_data_release(&f->data);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) {
        return 1;
    }
    free(f);
    return 0;
}

static void
literal(const float *v, char *out, size_t cap)
{
    size_t len = (size_t)snprintf(out, cap, "'[");
    for (int d = 0; d < DIM; d++) {
        len += (size_t)snprintf(out + len, cap - len, "%s%.9g", d ? "," : "",
                                (double)v[d]);
    }
    snprintf(out + len, cap - len, "]'");
}

/* The filters: SQL text and the same predicate over row i. */
static const struct {
    const char *sql;
    int lo, hi; /* g in [lo, hi) */
    int below;  /* and i < below */
} filters[] = {
    {"", 0, 100, N + MORE},
    {"WHERE g < 50", 0, 50, N + MORE},
    {"WHERE g < 5", 0, 5, N + MORE},
    {"WHERE g = 7", 7, 8, N + MORE},
    {"WHERE i < 40", 0, 100, 40},
    {"WHERE i < 8", 0, 100, 8},
    {"WHERE i < 300 AND g >= 98", 98, 100, 300},
};

static bool
passes(int fi, int i)
{
    int g = i % 100;
    return g >= filters[fi].lo && g < filters[fi].hi && i < filters[fi].below;
}

typedef struct cand {
    double dist;
    int i;
} cand;

static int
cand_cmp(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    return x->dist < y->dist ? -1 : x->dist > y->dist ? 1 : x->i - y->i;
}

/* The k rows an exact ORDER BY returns among rows [0, n): the nearest
 * embedded ones passing the filter, then (SQL's NULLS LAST) those without
 * an embedding; their i's into out. */
static int
brute(const fixture *f, const float *q, int fi, int n, int *out)
{
    static cand c[N + MORE];
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (!passes(fi, i)) {
            continue;
        }
        double s = INFINITY;
        if (embedded(i)) {
            s = 0;
            for (int d = 0; d < DIM; d++) {
                double x = (double)f->data.base[(size_t)i * DIM + d] - q[d];
                s += x * x;
            }
        }
        c[m++] = (cand){s, i};
    }
    qsort(c, (size_t)m, sizeof(cand), cand_cmp);
    for (int j = 0; j < K && j < m; j++) {
        out[j] = c[j].i;
    }
    return m < K ? m : K;
}

/* The i's of a one-column CSV result. */
static int
parse_ids(const char *csv, int *out)
{
    int m = 0;
    size_t at = strcspn(csv, "\n");
    while (csv[at] == '\n' && csv[at + 1] != 0 && m < K + 1) {
        at++;
        out[m++] = atoi(csv + at);
        at += strcspn(csv + at, "\n");
    }
    return m;
}

static int
overlap(const int *a, int na, const int *b, int nb)
{
    int hit = 0;
    for (int x = 0; x < na; x++) {
        for (int y = 0; y < nb; y++) {
            hit += a[x] == b[y];
        }
    }
    return hit;
}

/* Runs the filter's query through the index and the exact plan and
 * checks them against the brute force; returns the index path's hits
 * (of *total). */
static int
check_query(fixture *f, const float *q, int fi, int n, int *total)
{
    char lit[1024], sql[4096];
    literal(q, lit, sizeof lit);
    int want[K], got[K + 1], exact[K + 1];
    int w = brute(f, q, fi, n, want);
    lh_err err;
    snprintf(sql, sizeof sql,
             "SELECT i FROM docs %s ORDER BY embedding <-> %s LIMIT %d",
             filters[fi].sql, lit, K);
    char *csv = sqlt_run(f->s, sql, NULL, &err);
    int m = parse_ids(csv, got);
    /* k rows whenever k rows pass */
    if (m != w) {
        fail_msg("%s: %d rows, want %d\n%s", sql, m, w, csv);
    }
    free(csv);
    /* the exact plan: the distance inside an expression the rule does
     * not take; it must equal the brute force exactly */
    snprintf(sql, sizeof sql,
             "SELECT i FROM docs %s ORDER BY (embedding <-> %s) + 0 LIMIT %d",
             filters[fi].sql, lit, K);
    csv = sqlt_run(f->s, sql, NULL, &err);
    int me = parse_ids(csv, exact);
    assert_int_equal(me, w);
    for (int j = 0; j < w; j++) {
        if (exact[j] != want[j]) {
            fail_msg("%s: row %d is %d, want %d", sql, j, exact[j], want[j]);
        }
    }
    free(csv);
    *total += w;
    return overlap(got, m, want, w);
}

static void
test_recall_with_filters(void **state)
{
    fixture *f = *state;
    for (size_t fi = 0; fi < LH_ARRAY_LEN(filters); fi++) {
        int hits = 0, total = 0;
        for (int t = 0; t < NQ; t++) {
            hits += check_query(f, f->data.queries + (size_t)t * DIM, (int)fi,
                                N, &total);
        }
        double recall = (double)hits / total;
        printf("filter \"%s\": recall@%d %.4f over %d queries\n",
               filters[fi].sql, K, recall, NQ);
        /* ef 64 over a few thousand rows per shard: near 1 */
        if (recall < 0.95) {
            fail_msg("filter \"%s\": recall %.4f < 0.95", filters[fi].sql,
                     recall);
        }
    }
    /* a stored vector finds its own event first, at distance 0 */
    char lit[1024], sql[4096], want[64];
    literal(f->data.base + 1234 * DIM, lit, sizeof lit);
    snprintf(sql, sizeof sql,
             "SELECT i, embedding <-> %s AS d FROM docs ORDER BY embedding "
             "<-> %s LIMIT 1",
             lit, lit);
    snprintf(want, sizeof want, "i,d\n1234,0\n");
    sqlt_expect_csv(f->s, sql, want);
}

static void
expect_plan(fixture *f, const char *sql, const char *want)
{
    lh_err err;
    char buf[4096];
    snprintf(buf, sizeof buf, "EXPLAIN %s", sql);
    char *got = sqlt_run(f->s, buf, NULL, &err);
    if (strstr(got, want) == NULL) {
        fail_msg("%s\nwants \"%s\" in:\n%s", buf, want, got);
    }
    free(got);
}

static void
test_explain(void **state)
{
    fixture *f = *state;
    char lit[1024], sql[4096];
    literal(f->data.queries, lit, sizeof lit);
    snprintf(sql, sizeof sql,
             "SELECT i FROM docs WHERE g = 3 ORDER BY embedding <-> %s "
             "LIMIT 7 OFFSET 2",
             lit);
    expect_plan(f, sql, "knn: hnsw index (l2) k=9 ef=64, filtered");
    snprintf(sql, sizeof sql,
             "SELECT i, l2_distance(%s, embedding) AS d FROM docs ORDER BY d "
             "LIMIT 100",
             lit);
    expect_plan(f, sql, "knn: hnsw index (l2) k=100 ef=100");
    snprintf(sql, sizeof sql,
             "SELECT i FROM docs ORDER BY embedding <=> %s LIMIT 5", lit);
    /* (the CSV doubles the quotes around the table's name) */
    expect_plan(f, sql, "is l2, the query's cosine)");
    expect_plan(f, sql, "knn: exact scan (the index of");
    /* not the rule's shape: no knn at all */
    snprintf(sql, sizeof sql,
             "SELECT i FROM docs ORDER BY embedding <-> %s DESC LIMIT 5", lit);
    lh_err err;
    char buf[4200];
    snprintf(buf, sizeof buf, "EXPLAIN %s", sql);
    char *got = sqlt_run(f->s, buf, NULL, &err);
    assert_null(strstr(got, "knn"));
    free(got);
    /* EXPLAIN ANALYZE: how the search went */
    snprintf(sql, sizeof sql,
             "EXPLAIN ANALYZE SELECT i FROM docs WHERE g = 3 ORDER BY "
             "embedding <-> %s LIMIT 5",
             lit);
    got = sqlt_run(f->s, sql, NULL, &err);
    assert_non_null(strstr(got, "knn_shards=3"));
    assert_non_null(strstr(got, "passed=40")); /* g = 3: 40 rows */
    free(got);
}

typedef struct writer {
    fixture *f;
    int from, to;
} writer;

static void *
write_more(void *p)
{
    writer *w = p;
    for (int i = w->from; i < w->to; i += 20) {
        append_rows(w->f, i, i + 20 < w->to ? i + 20 : w->to);
    }
    return NULL;
}

static void
test_search_beside_appends(void **state)
{
    fixture *f = *state;
    writer w = {f, N, N + MORE};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, write_more, &w), 0);
    /* every search sees k rows whatever the writer has done */
    for (int t = 0; t < 3 * NQ; t++) {
        char lit[1024], sql[4096];
        literal(f->data.queries + (size_t)(t % NQ) * DIM, lit, sizeof lit);
        snprintf(sql, sizeof sql,
                 "SELECT i FROM docs %s ORDER BY embedding <-> %s LIMIT %d",
                 t % 2 ? "WHERE g < 5" : "", lit, K);
        lh_err err;
        char *csv = sqlt_run(f->s, sql, NULL, &err);
        int got[K + 1];
        assert_int_equal(parse_ids(csv, got), K);
        free(csv);
    }
    assert_int_equal(pthread_join(th, NULL), 0);
    /* all appended: the index answers as the brute force does */
    int hits = 0, total = 0;
    for (int t = 0; t < NQ; t++) {
        hits += check_query(f, f->data.queries + (size_t)t * DIM, 0, N + MORE,
                            &total);
    }
    assert_true((double)hits / total >= 0.95);
    /* read-your-writes: an event is found once its append returns */
    float v[DIM];
    for (int d = 0; d < DIM; d++) {
        v[d] = 100.0f + (float)d;
    }
    lh_event_in e = {.stream = "new",
                     .type = "Added",
                     .data_json = "{\"i\": 99999, \"g\": 1}",
                     .embedding = v,
                     .embedding_len = DIM};
    lh_err err;
    assert_int_equal(lh_append(f->db, "docs", &e, 1, NULL, NULL, &err), LH_OK);
    char lit[1024], sql[4096];
    literal(v, lit, sizeof lit);
    snprintf(sql, sizeof sql,
             "SELECT i FROM docs WHERE g = 1 ORDER BY embedding <-> %s LIMIT 1",
             lit);
    sqlt_expect_csv(f->s, sql, "i\n99999\n");
}

int
main(void)
{
    lh_err err;
    lh_global_init(&err);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_recall_with_filters, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_explain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_beside_appends, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
