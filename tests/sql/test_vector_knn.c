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

#include "../vector/knn_test.h"
#include "lakehouse.h"
#include "sql_test.h"
#include "util/util.h"
#include "vector/vector.h"

enum { DIM = 32, N = 4000, NQ = 12, K = 10, MORE = 600 };

#define COLUMNS                                                                \
    "{\"name\": \"docs\", \"columns\": ["                                      \
    "{\"name\": \"i\", \"type\": \"INTEGER\"},"                                \
    "{\"name\": \"g\", \"type\": \"INTEGER\"}],"                               \
    " \"shards\": 3, \"embedding_dim\": 32"
static const char *const schema = COLUMNS "}";
/* the index in cosine, M 8, ef_search 20 */
static const char *const schema_cos =
    COLUMNS ", \"vector_index\": {\"metric\": \"cosine\", \"m\": 8, "
            "\"ef_search\": 20}}";

/* lh_vec_metric's values */
enum { L2 = 0, IP = 1, COS = 2 };
static const char *const ops[] = {"<->", "<#>", "<=>"};

typedef struct fixture {
    char dir[64];
    lh_db *db;
    lh_session *s;
    lh_mrl_data data; /* N + MORE base rows (the last MORE appended later) */
    int metric;       /* of the queries check_query runs */
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

static void
open_db(fixture *f)
{
    lh_err err;
    assert_int_equal(lh_db_open(f->dir, NULL, &f->db, &err), LH_OK);
    lh_session_options o = {.threads = 2};
    assert_int_equal(lh_session_open(f->db, &o, &f->s, &err), LH_OK);
}

static void
close_db(fixture *f)
{
    lh_session_close(f->s);
    lh_db_close(f->db);
}

/* The data, and a new database with the table of definition def. */
static fixture *
new_fixture(const char *def)
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
    open_db(f);
    assert_int_equal(lh_table_create(f->db, def, strlen(def), &err), LH_OK);
    return f;
}

static int
setup_with(void **state, const char *def)
{
    fixture *f = new_fixture(def);
    append_rows(f, 0, N);
    *state = f;
    return 0;
}

static int
setup(void **state)
{
    return setup_with(state, schema);
}

static int
setup_cos(void **state)
{
    return setup_with(state, schema_cos);
}

static int
teardown(void **state)
{
    fixture *f = *state;
    close_db(f);
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
    knnt_literal(v, DIM, out, cap);
}

/* The filters: SQL text and the same predicate over row i. */
static const knnt_filter filters[] = {
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
    return knnt_passes(&filters[fi], i);
}

typedef knnt_cand cand;

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
            s = knnt_dist(f->metric, f->data.base + (size_t)i * DIM, q, DIM);
        }
        c[m++] = (cand){s, i};
    }
    qsort(c, (size_t)m, sizeof(cand), knnt_cand_cmp);
    for (int j = 0; j < K && j < m; j++) {
        out[j] = c[j].i;
    }
    return m < K ? m : K;
}

/* The i's of a one-column CSV result. */
static int
parse_ids(const char *csv, int *out)
{
    return knnt_parse_ids(csv, out, K + 1);
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
             "SELECT i FROM docs %s ORDER BY embedding %s %s LIMIT %d",
             filters[fi].sql, ops[f->metric], lit, K);
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
             "SELECT i FROM docs %s ORDER BY (embedding %s %s) + 0 LIMIT %d",
             filters[fi].sql, ops[f->metric], lit, K);
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

/* recall@K of the index path over the NQ queries with filter fi among
 * rows [0, n), each query also checked against the exact plan. */
static void
check_recall(fixture *f, size_t fi, int n, double floor)
{
    int hits = 0, total = 0;
    for (int t = 0; t < NQ; t++) {
        hits += check_query(f, f->data.queries + (size_t)t * DIM, (int)fi, n,
                            &total);
    }
    double recall = (double)hits / total;
    printf("%s, filter \"%s\": recall@%d %.4f over %d queries\n",
           ops[f->metric], filters[fi].sql, K, recall, NQ);
    if (recall < floor) {
        fail_msg("%s, filter \"%s\": recall %.4f < %.2f", ops[f->metric],
                 filters[fi].sql, recall, floor);
    }
}

static void
test_recall_with_filters(void **state)
{
    fixture *f = *state;
    for (size_t fi = 0; fi < LH_ARRAY_LEN(filters); fi++) {
        /* ef 64 over a few thousand rows per shard: near 1 */
        check_recall(f, fi, N, 0.95);
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

/* EXPLAIN ANALYZE of a filtered search shows the three texts. */
static void
expect_analyze(fixture *f, const char *where, const char *lit, const char *a,
               const char *b, const char *c)
{
    char sql[4096];
    snprintf(sql, sizeof sql,
             "EXPLAIN ANALYZE SELECT i FROM docs WHERE %s ORDER BY embedding "
             "<-> %s LIMIT 5",
             where, lit);
    lh_err err;
    char *got = sqlt_run(f->s, sql, NULL, &err);
    const char *want[] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        if (strstr(got, want[i]) == NULL) {
            fail_msg("%s\nwants \"%s\" in:\n%s", sql, want[i], got);
        }
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
    /* EXPLAIN ANALYZE: how the search went. 1%: too few among the
     * nearest 16 k of all rows; then the bitmap of the 40 rows g = 3
     * passes, searched in each of the 3 shards */
    expect_analyze(f, "g = 3", lit, "over_fetch=missed", "searches=6",
                   "filtered=4000 passed=40");
    /* 50%: the nearest 16 k of all rows hold k passing ones */
    expect_analyze(f, "g < 50", lit, "over_fetch=hit", "searches=3",
                   "filtered=0");
}

/* $1 as the query vector: the plan is bound again at each execution, so
 * one prepared statement answers each vector through the index, as the
 * literal query does. */
static void
test_parameter(void **state)
{
    fixture *f = *state;
    const char *q = "SELECT i FROM docs ORDER BY embedding <-> $1 LIMIT 10";
    lh_err err;
    lh_stmt *st;
    assert_int_equal(lh_stmt_prepare(f->s, q, strlen(q), NULL, &st, &err),
                     LH_OK);
    for (int t = 0; t < 3; t++) {
        char lit[1024], sql[4096];
        literal(f->data.queries + (size_t)t * DIM, lit, sizeof lit);
        /* the literal without its quotes is the parameter's text */
        size_t n = strlen(lit);
        lh_cell c = {.kind = LH_CELL_TEXT};
        c.u.s.p = lit + 1;
        c.u.s.len = n - 2;
        assert_int_equal(lh_stmt_bind(st, 1, &c, &err), LH_OK);
        lh_result *r;
        assert_int_equal(lh_stmt_execute(st, &r, &err), LH_OK);
        int got[K + 1], m = 0;
        size_t rows;
        while (lh_result_next(r, &rows, &err) == LH_OK && rows > 0) {
            for (size_t i = 0; i < rows && m < K + 1; i++) {
                lh_cell v;
                assert_int_equal(lh_result_get(r, i, 0, &v, &err), LH_OK);
                got[m++] = (int)v.u.i;
            }
        }
        lh_result_free(r);
        snprintf(sql, sizeof sql,
                 "SELECT i FROM docs ORDER BY embedding <-> %s LIMIT 10", lit);
        char *csv = sqlt_run(f->s, sql, NULL, &err);
        int want[K + 1];
        int w = parse_ids(csv, want);
        free(csv);
        assert_int_equal(m, w);
        for (int j = 0; j < m; j++) {
            assert_int_equal(got[j], want[j]);
        }
    }
    /* ... through the index */
    const char *ex = "EXPLAIN SELECT i FROM docs ORDER BY embedding <-> $1 "
                     "LIMIT 10";
    lh_stmt *est;
    assert_int_equal(lh_stmt_prepare(f->s, ex, strlen(ex), NULL, &est, &err),
                     LH_OK);
    char lit[1024];
    literal(f->data.queries, lit, sizeof lit);
    lh_cell lc = {.kind = LH_CELL_TEXT};
    lc.u.s.p = lit + 1;
    lc.u.s.len = strlen(lit) - 2;
    assert_int_equal(lh_stmt_bind(est, 1, &lc, &err), LH_OK);
    lh_result *er;
    assert_int_equal(lh_stmt_execute(est, &er, &err), LH_OK);
    bool indexed = false;
    size_t rows;
    while (lh_result_next(er, &rows, &err) == LH_OK && rows > 0) {
        for (size_t i = 0; i < rows; i++) {
            lh_cell v;
            assert_int_equal(lh_result_get(er, i, 0, &v, &err), LH_OK);
            indexed = indexed ||
                      (v.kind == LH_CELL_TEXT &&
                       memmem(v.u.s.p, v.u.s.len, "hnsw index", 10) != NULL);
        }
    }
    assert_true(indexed);
    lh_result_free(er);
    lh_stmt_free(est);
    /* a parameter of the wrong length names the type */
    lh_cell c = {.kind = LH_CELL_TEXT};
    c.u.s.p = "[1,2,3]";
    c.u.s.len = 7;
    assert_int_equal(lh_stmt_bind(st, 1, &c, &err), LH_OK);
    lh_result *r = NULL;
    assert_int_not_equal(lh_stmt_execute(st, &r, &err), LH_OK);
    assert_non_null(strstr(err.msg, "FLOAT[32]"));
    lh_result_free(r);
    lh_stmt_free(st);
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
    check_recall(f, 0, N + MORE, 0.95);
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

static void
expect_error(fixture *f, const char *sql, const char *want)
{
    lh_err err;
    lh_rc rc;
    free(sqlt_run(f->s, sql, &rc, &err));
    assert_int_not_equal(rc, LH_OK);
    if (strstr(err.msg, want) == NULL) {
        fail_msg("%s: \"%s\" wants \"%s\"", sql, err.msg, want);
    }
}

/* The M and metric the shard's index file holds (vector.md, "HNSW file"). */
static void
file_header(const fixture *f, int shard, uint32_t *metric, uint32_t *m)
{
    char path[128];
    snprintf(path, sizeof path, "%s/tables/docs/shard-%03d.hnsw", f->dir,
             shard);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    uint8_t h[24];
    assert_int_equal(fread(h, 1, sizeof h, fp), sizeof h);
    fclose(fp);
    memcpy(metric, h + 16, 4);
    memcpy(m, h + 20, 4);
}

/* Rewrites the table's definition file: from -> to, once. */
static void
edit_definition(const fixture *f, const char *from, const char *to)
{
    char path[128];
    snprintf(path, sizeof path, "%s/tables/docs/table.json", f->dir);
    knnt_edit_file(path, from, to);
}

static void
test_index_settings(void **state)
{
    fixture *f = *state;
    char lit[1024], sql[4096];
    literal(f->data.queries, lit, sizeof lit);
    /* the definition's metric, M and ef_search */
    lh_err err;
    char *json;
    assert_int_equal(lh_table_describe(f->db, "docs", &json, &err), LH_OK);
    assert_non_null(strstr(json, "\"metric\": \"cosine\""));
    assert_non_null(strstr(json, "\"m\": 8"));
    assert_non_null(strstr(json, "\"ef_construction\": 200"));
    assert_non_null(strstr(json, "\"ef_search\": 20"));
    /* and the lake's defaults: 32 dims in 4 code bytes */
    assert_non_null(strstr(json, "\"nlist\": 256"));
    assert_non_null(strstr(json, "\"pq_m\": 4"));
    assert_non_null(strstr(json, "\"nprobe\": 16"));
    lh_free(json);
    snprintf(sql, sizeof sql,
             "SELECT i FROM docs ORDER BY embedding <=> %s LIMIT %d", lit, K);
    expect_plan(f, sql, "knn: hnsw index (cosine) k=10 ef=20");
    f->metric = COS;
    check_recall(f, 0, N, 0.9);
    check_recall(f, 2, N, 0.9);
    check_recall(f, 5, N, 1);
    /* L2 on a cosine index: exact, and EXPLAIN says why */
    snprintf(sql, sizeof sql,
             "SELECT i FROM docs ORDER BY embedding <-> %s LIMIT %d", lit, K);
    expect_plan(f, sql, "is cosine, the query's l2)");
    f->metric = L2;
    check_recall(f, 3, N, 1);
    /* SET hnsw.ef_search: this session's searches */
    snprintf(sql, sizeof sql,
             "SELECT i FROM docs ORDER BY embedding <=> %s LIMIT %d", lit, K);
    free(sqlt_run(f->s, "SET hnsw.ef_search = 150", NULL, &err));
    sqlt_expect_csv(f->s, "SHOW hnsw.ef_search", "hnsw.ef_search\n150\n");
    expect_plan(f, sql, "knn: hnsw index (cosine) k=10 ef=150");
    free(sqlt_run(f->s, "SET hnsw.ef_search = 3", NULL, &err));
    expect_plan(f, sql, "k=10 ef=10"); /* never below k */
    free(sqlt_run(f->s, "RESET hnsw.ef_search", NULL, &err));
    expect_plan(f, sql, "k=10 ef=20");
    expect_error(f, "SET hnsw.ef_search = 'many'",
                 "hnsw.ef_search is 1..10000");
    expect_error(f, "SET hnsw.ef_search = 20000", "not \"20000\"");
    /* bad definitions name what is wrong */
    static const struct {
        const char *index, *want;
    } bad[] = {
        {"{\"metric\": \"dot\"}", "must be \"l2\", \"ip\" or \"cosine\""},
        {"{\"m\": 1}", "\"m\" must be an integer from 2 to 256"},
        {"{\"ef_search\": 0}", "\"ef_search\" must be an integer from 1"},
        {"{\"ef\": 10}", "unknown key \"ef\" in \"vector_index\""},
        /* the lake's keys: 4 dims cannot be cut in 3 code bytes */
        {"{\"pq_m\": 3}", "\"pq_m\" (3) must divide the 4 dims"},
        {"{\"nprobe\": 0}", "\"nprobe\" must be an integer from 1"},
        {"[16]", "\"vector_index\" must be an object"},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(bad); i++) {
        char def[512];
        snprintf(def, sizeof def,
                 "{\"name\": \"bad\", \"columns\": [], \"embedding_dim\": 4, "
                 "\"vector_index\": %s}",
                 bad[i].index);
        assert_int_equal(lh_table_create(f->db, def, strlen(def), &err),
                         LH_EINVAL);
        if (strstr(err.msg, bad[i].want) == NULL) {
            fail_msg("%s: \"%s\" wants \"%s\"", def, err.msg, bad[i].want);
        }
        assert_string_equal(err.field, "vector_index");
    }
    const char *none = "{\"name\": \"bad\", \"columns\": [], "
                       "\"vector_index\": {\"m\": 8}}";
    assert_int_equal(lh_table_create(f->db, none, strlen(none), &err),
                     LH_EINVAL);
    assert_non_null(strstr(err.msg, "of a table with an embedding_dim"));
    /* another metric and M in the definition: the indexes are rebuilt */
    close_db(f);
    uint32_t metric, m;
    file_header(f, 0, &metric, &m);
    assert_int_equal(metric, COS);
    assert_int_equal(m, 8);
    edit_definition(f, "\"cosine\"", "\"ip\"");
    edit_definition(f, "\"m\": 8", "\"m\": 12");
    open_db(f);
    snprintf(sql, sizeof sql,
             "SELECT i FROM docs ORDER BY embedding <#> %s LIMIT %d", lit, K);
    expect_plan(f, sql, "knn: hnsw index (ip) k=10 ef=20");
    f->metric = IP;
    check_recall(f, 0, N, 0.9);
    check_recall(f, 3, N, 1);
    close_db(f);
    for (int shard = 0; shard < 3; shard++) {
        file_header(f, shard, &metric, &m);
        assert_int_equal(metric, IP);
        assert_int_equal(m, 12);
    }
    open_db(f); /* for the teardown */
}

/* Events that left the hot tier (flushed to the lake by the pipeline)
 * are out of the index too: the index path still returns k rows, the
 * exact plan's. */
static void
test_flushed_rows(void **state)
{
    (void)state;
    const lh_us t0 = INT64_C(1767225600) * 1000000; /* 2026-01-01 */
    const lh_us hour = INT64_C(3600) * 1000000;
    lh_time_set_frozen(t0, true);
    fixture *f = new_fixture(COLUMNS ", \"hot_window\": \"1h\"}");
    lh_err err;
    /* the first half five hours old: due to leave the hot tier */
    enum { HALF = N / 2 };
    lh_event_in evs[100];
    char data[100][64], ts[100][32];
    for (int from = 0; from < N; from += 100) {
        for (int j = 0; j < 100; j++) {
            int i = from + j;
            snprintf(data[j], sizeof data[j], "{\"i\": %d, \"g\": %d}", i,
                     i % 100);
            time_t sec = (time_t)((t0 - (i < HALF ? 5 * hour : 0)) / 1000000);
            struct tm tm;
            gmtime_r(&sec, &tm);
            strftime(ts[j], sizeof ts[j], "%Y-%m-%dT%H:%M:%SZ", &tm);
            evs[j] = (lh_event_in){.stream = data[j],
                                   .type = "Added",
                                   .ts = ts[j],
                                   .data_json = data[j],
                                   .embedding = f->data.base + (size_t)i * DIM,
                                   .embedding_len = DIM};
        }
        assert_int_equal(lh_append(f->db, "docs", evs, 100, NULL, NULL, &err),
                         LH_OK);
    }
    lh_pipeline_stats st;
    assert_int_equal(lh_pipeline_run(f->db, true, &st, &err), LH_OK);
    assert_int_equal(st.events_flushed, HALF);
    char lit[1024], sql[4096];
    for (int t = 0; t < NQ; t++) {
        literal(f->data.queries + (size_t)t * DIM, lit, sizeof lit);
        for (int fi = 0; fi < 2; fi++) {
            const char *where = fi ? "WHERE g < 20" : "";
            int got[K + 1], exact[K + 1];
            snprintf(sql, sizeof sql,
                     "SELECT i FROM docs %s ORDER BY embedding <-> %s LIMIT %d",
                     where, lit, K);
            char *csv = sqlt_run(f->s, sql, NULL, &err);
            int m = parse_ids(csv, got);
            free(csv);
            snprintf(sql, sizeof sql,
                     "SELECT i FROM docs %s ORDER BY (embedding <-> %s) + 0 "
                     "LIMIT %d",
                     where, lit, K);
            csv = sqlt_run(f->s, sql, NULL, &err);
            int me = parse_ids(csv, exact);
            free(csv);
            assert_int_equal(m, K);
            assert_int_equal(me, K);
            /* recall 1 at this size: the same rows (never one the index
             * still held after its event left) */
            assert_int_equal(overlap(got, m, exact, me), K);
        }
    }
    *state = f;
    lh_time_set_frozen(0, false);
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
        cmocka_unit_test_setup_teardown(test_parameter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_beside_appends, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_index_settings, setup_cos,
                                        teardown),
        cmocka_unit_test_teardown(test_flushed_rows, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
