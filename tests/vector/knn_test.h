/*
 * Helpers of the SQL nearest-neighbour tests (tests/sql/test_vector_knn.c,
 * tests/router/test_router_knn.c): a query vector as SQL text, the ids of
 * a one-column CSV result, and the brute force's candidates.
 */
#ifndef LH_TESTS_KNN_TEST_H
#define LH_TESTS_KNN_TEST_H

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* v[0..dim) as the literal '[v0,v1,...]'. */
static inline void
knnt_literal(const float *v, int dim, char *out, size_t cap)
{
    size_t len = (size_t)snprintf(out, cap, "'[");
    for (int d = 0; d < dim; d++) {
        len += (size_t)snprintf(out + len, cap - len, "%s%.9g", d ? "," : "",
                                (double)v[d]);
    }
    snprintf(out + len, cap - len, "]'");
}

/* The integers of a one-column CSV result (after its header), at most
 * max of them. */
static inline int
knnt_parse_ids(const char *csv, int *out, int max)
{
    int m = 0;
    size_t at = strcspn(csv, "\n");
    while (csv[at] == '\n' && csv[at + 1] != 0 && m < max) {
        at++;
        out[m++] = atoi(csv + at);
        at += strcspn(csv + at, "\n");
    }
    return m;
}

/* A brute force's candidate: by distance, then row. */
typedef struct knnt_cand {
    double dist;
    int i;
} knnt_cand;

static inline int
knnt_cand_cmp(const void *a, const void *b)
{
    const knnt_cand *x = a, *y = b;
    return x->dist < y->dist ? -1 : x->dist > y->dist ? 1 : x->i - y->i;
}

/* Replaces the first `from` in the file at path by `to` (a table's
 * definition edited behind the database's back). Needs cmocka.h. */
static inline void
knnt_edit_file(const char *path, const char *from, const char *to)
{
    char buf[8192], out[8192];
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = 0;
    char *at = strstr(buf, from);
    assert_non_null(at);
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - buf), buf, to,
             at + strlen(from));
    fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(out, 1, strlen(out), fp), strlen(out));
    fclose(fp);
}

/* A WHERE of the tests on rows {i, g = i % 100}: its SQL text and the
 * same predicate, g in [lo, hi) and i < below. */
typedef struct knnt_filter {
    const char *sql;
    int lo, hi;
    int below;
} knnt_filter;

static inline bool
knnt_passes(const knnt_filter *f, int i)
{
    int g = i % 100;
    return g >= f->lo && g < f->hi && i < f->below;
}

/* The metric's distance (0 l2 squared, 1 -dot, 2 cosine) in double. */
static inline double
knnt_dist(int metric, const float *v, const float *q, int dim)
{
    double l2 = 0, dot = 0, vv = 0, qq = 0;
    for (int d = 0; d < dim; d++) {
        double x = (double)v[d] - q[d];
        l2 += x * x;
        dot += (double)v[d] * q[d];
        vv += (double)v[d] * v[d];
        qq += (double)q[d] * q[d];
    }
    return metric == 0   ? l2
           : metric == 1 ? -dot
                         : 1 - dot / (sqrt(vv) * sqrt(qq));
}

#endif
