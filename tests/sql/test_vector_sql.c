/*
 * Vector search in SQL over an event table (exec/fn_vector.c and the
 * embedding column of exec/hot_src.c): ORDER BY embedding <-> '[...]'
 * LIMIT k returns the k nearest events, the same as a brute-force search
 * this test does itself in double precision over the vectors it appended;
 * a WHERE filter combines with it and k rows still come back; events
 * without an embedding are NULL and come last; INSERT takes an embedding
 * and the event API reads it back; bad query vectors are errors that say
 * what is wrong.
 */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lakehouse.h"
#include "sql_test.h"

enum { DIM = 8, N = 600, K = 10 };

static const char *const schema =
    "{\"name\": \"docs\", \"columns\": ["
    "{\"name\": \"n\", \"type\": \"INTEGER\"},"
    "{\"name\": \"topic\", \"type\": \"VARCHAR\"}],"
    " \"shards\": 3, \"embedding_dim\": 8}";

typedef struct fixture {
    char dir[64];
    lh_db *db;
    lh_session *s;
    float vecs[N][DIM];
    int64_t shard[N], position[N];
} fixture;

/* every seventh event has no embedding */
static bool
embedded(int i)
{
    return i % 7 != 3;
}

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(fixture));
    snprintf(f->dir, sizeof f->dir, "/tmp/lh_sql_vector_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    rmdir(f->dir);
    lh_err err;
    assert_int_equal(lh_db_init(f->dir, &err), LH_OK);
    assert_int_equal(lh_db_open(f->dir, NULL, &f->db, &err), LH_OK);
    assert_int_equal(lh_table_create(f->db, schema, strlen(schema), &err),
                     LH_OK);
    unsigned seed = 12345;
    for (int i = 0; i < N; i++) {
        for (int d = 0; d < DIM; d++) {
            seed = seed * 1103515245u + 12345u;
            /* values with short decimal forms, so the query literal is the
             * exact float */
            f->vecs[i][d] = (float)((int)(seed >> 16) % 2001 - 1000) / 64.0f;
        }
        char stream[32], data[64];
        snprintf(stream, sizeof stream, "doc-%d", i);
        snprintf(data, sizeof data, "{\"n\": %d, \"topic\": \"t%d\"}", i,
                 i % 4);
        lh_event_in e = {.stream = stream, .type = "Added", .data_json = data};
        if (embedded(i)) {
            e.embedding = f->vecs[i];
            e.embedding_len = DIM;
        }
        lh_event_ack ack;
        assert_int_equal(lh_append(f->db, "docs", &e, 1, NULL, &ack, &err),
                         LH_OK);
        f->shard[i] = ack.shard;
        f->position[i] = ack.position;
    }
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
    size_t len = 0;
    len += (size_t)snprintf(out + len, cap - len, "'[");
    for (int d = 0; d < DIM; d++) {
        len += (size_t)snprintf(out + len, cap - len, "%s%.9g", d ? "," : "",
                                (double)v[d]);
    }
    snprintf(out + len, cap - len, "]'");
}

typedef struct cand {
    double dist;
    int i;
} cand;

static int
cand_cmp(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    return x->dist < y->dist ? -1 : x->dist > y->dist;
}

/* The k nearest embedded events to q passing keep (topic filter, -1 = all)
 * by brute force in double precision: their n's. */
static int
brute(const fixture *f, const float *q, int topic, int *out)
{
    static cand c[N];
    int m = 0;
    for (int i = 0; i < N; i++) {
        if (!embedded(i) || (topic >= 0 && i % 4 != topic)) {
            continue;
        }
        double s = 0;
        for (int d = 0; d < DIM; d++) {
            double x = (double)f->vecs[i][d] - (double)q[d];
            s += x * x;
        }
        c[m++] = (cand){sqrt(s), i};
    }
    qsort(c, (size_t)m, sizeof(cand), cand_cmp);
    for (int j = 0; j < K && j < m; j++) {
        out[j] = c[j].i;
    }
    return m < K ? m : K;
}

/* "n,dist" lines after the header into ns and dists. */
static int
parse_rows(const char *csv, int *ns, double *dists)
{
    int m = 0;
    size_t at = strcspn(csv, "\n");
    while (csv[at] == '\n' && csv[at + 1] != 0 && m < K) {
        at++;
        assert_int_equal(sscanf(csv + at, "%d,%lf", &ns[m], &dists[m]), 2);
        m++;
        at += strcspn(csv + at, "\n");
    }
    return m;
}

static void
check_knn(fixture *f, const float *q, int topic)
{
    char lit[512], sql[2048];
    literal(q, lit, sizeof lit);
    snprintf(sql, sizeof sql,
             "SELECT n, embedding <-> %s AS d FROM docs %s ORDER BY "
             "embedding <-> %s LIMIT %d",
             lit, topic >= 0 ? "WHERE topic = 't1'" : "", lit, K);
    lh_err err;
    char *got = sqlt_run(f->s, sql, NULL, &err);
    int ns[K], want[K];
    double dists[K];
    int m = parse_rows(got, ns, dists);
    int w = brute(f, q, topic, want);
    assert_int_equal(m, w);
    assert_int_equal(m, K);
    for (int j = 0; j < m; j++) {
        /* float kernels against double: the same order (the data has no
         * near ties at this size) and distances within float rounding */
        if (ns[j] != want[j]) {
            fail_msg("%s\nrow %d: got n=%d, want n=%d\n%s", sql, j, ns[j],
                     want[j], got);
        }
        double s = 0;
        for (int d = 0; d < DIM; d++) {
            double x = (double)f->vecs[want[j]][d] - (double)q[d];
            s += x * x;
        }
        assert_true(fabs(dists[j] - sqrt(s)) <= 1e-4 * (1 + sqrt(s)));
    }
    free(got);
}

static void
test_knn_matches_brute_force(void **state)
{
    fixture *f = *state;
    /* queries: some stored vectors (their own event comes first, at
     * distance 0) and points between them */
    for (int t = 0; t < 6; t++) {
        float q[DIM];
        for (int d = 0; d < DIM; d++) {
            q[d] = t % 2 ? f->vecs[t * 37][d]
                         : (f->vecs[t * 11][d] + f->vecs[t * 13 + 1][d]) / 2;
        }
        check_knn(f, q, -1);
        check_knn(f, q, 1);
    }
    /* a stored vector finds its own event first */
    char lit[512], sql[2048];
    literal(f->vecs[100], lit, sizeof lit);
    snprintf(sql, sizeof sql,
             "SELECT n, embedding <-> %s AS d FROM docs ORDER BY embedding "
             "<-> %s LIMIT 1",
             lit, lit);
    sqlt_expect_csv(f->s, sql, "n,d\n100,0\n");
}

static void
test_nulls_and_functions(void **state)
{
    fixture *f = *state;
    int without = 0;
    for (int i = 0; i < N; i++) {
        without += !embedded(i);
    }
    char want[128];
    snprintf(want, sizeof want, "n,e\n%d,%d\n", N, N - without);
    sqlt_expect_csv(
        f->s, "SELECT count(*) AS n, count(embedding) AS e FROM docs", want);
    /* SELECT * is the payload: the embedding is hidden, but can be named */
    sqlt_expect_csv(f->s, "SELECT * FROM docs WHERE n = 3", "n,topic\n3,t3\n");
    sqlt_expect_csv(f->s,
                    "SELECT vector_dims(embedding) AS d, "
                    "vector_prefix(embedding, 2) AS p FROM docs WHERE n = 0",
                    "d,p\n8,\"[-12.359375,-4.140625]\"\n");
    /* events without an embedding sort last (NULLs last ascending) */
    sqlt_expect_csv(f->s,
                    "SELECT n FROM docs ORDER BY embedding <-> "
                    "'[0,0,0,0,0,0,0,0]' DESC NULLS LAST LIMIT 0",
                    "n\n");
    snprintf(want, sizeof want, "n\n3\n");
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT n FROM docs ORDER BY embedding <-> '[0,0,0,0,0,0,0,0]' "
             "OFFSET %d LIMIT 1",
             N - without);
    sqlt_expect_csv(f->s, sql, want);
}

static void
test_insert_embedding(void **state)
{
    fixture *f = *state;
    sqlt_expect_csv(f->s,
                    "INSERT INTO docs (n, topic, stream, embedding) VALUES "
                    "(9001, 'new', 'doc-new', '[1,2,3,4,5,6,7,8.5]')",
                    "");
    lh_err err;
    lh_reader *r;
    assert_int_equal(
        lh_read_stream(f->db, "docs", "doc-new", 0, LH_FORWARD, 0, &r, &err),
        LH_OK);
    const lh_event *ev;
    assert_int_equal(lh_reader_next(r, &ev, &err), LH_OK);
    assert_non_null(ev);
    assert_int_equal(ev->embedding_len, DIM);
    assert_true(ev->embedding[7] == 8.5f);
    lh_reader_close(r);
    /* found at once by the search */
    sqlt_expect_csv(f->s,
                    "SELECT n FROM docs ORDER BY embedding <-> "
                    "'[1,2,3,4,5,6,7,8.5]' LIMIT 1",
                    "n\n9001\n");
    /* an embedding of the wrong length is refused, nothing is appended */
    lh_rc rc;
    free(sqlt_run(f->s,
                  "INSERT INTO docs (n, embedding) VALUES (9002, '[1,2]')", &rc,
                  &err));
    assert_int_not_equal(rc, LH_OK);
    assert_non_null(strstr(err.msg, "FLOAT[8]"));
    sqlt_expect_csv(f->s, "SELECT count(*) AS c FROM docs WHERE n = 9002",
                    "c\n0\n");
}

static void
test_bad_query_vectors(void **state)
{
    fixture *f = *state;
    lh_err err;
    lh_rc rc;
    free(sqlt_run(f->s,
                  "SELECT n FROM docs ORDER BY embedding <-> '[1,2,3]' "
                  "LIMIT 3",
                  &rc, &err));
    assert_int_equal(rc, LH_EINVAL);
    assert_non_null(strstr(err.msg, "expected FLOAT[8], found 3 elements"));
    free(sqlt_run(f->s,
                  "SELECT n FROM docs ORDER BY embedding <=> "
                  "'[1,2,3,4,5,6,7,Infinity]' LIMIT 3",
                  &rc, &err));
    assert_int_equal(rc, LH_EINVAL);
    assert_non_null(strstr(err.msg, "not a finite number"));
    free(sqlt_run(f->s,
                  "SELECT n FROM docs ORDER BY embedding <#> "
                  "'[1,2,3]'::FLOAT[3] LIMIT 3",
                  &rc, &err));
    assert_int_equal(rc, LH_EINVAL);
    assert_non_null(strstr(err.msg, "different vector dimensions 8 and 3"));
}

int
main(void)
{
    lh_err err;
    lh_global_init(&err);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_knn_matches_brute_force, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_nulls_and_functions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_insert_embedding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_query_vectors, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
