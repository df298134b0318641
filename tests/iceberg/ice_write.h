/*
 * Helpers for the Iceberg tests that write tables: a temporary folder, a
 * four-column schema, batches of numbered rows, data files, commits, and
 * a scan that counts and sums the ids of the live rows.
 */
#ifndef LH_TESTS_ICE_WRITE_H
#define LH_TESTS_ICE_WRITE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/iceberg/iceberg_int.h"
#include "ice_test.h"

static const char *const SCHEMA =
    "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":2,\"name\":\"name\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":3,\"name\":\"day\",\"required\":false,\"type\":\"date\"},"
    "{\"id\":4,\"name\":\"amount\",\"required\":false,\"type\":\"double\"}]}";

typedef struct fixture {
    char dir[256];
    lh_arena a;
    lh_ice_schema schema;
    lh_ice_partition_spec spec; /* day(day) */
} fixture;

static inline void
fx_init(fixture *fx, bool partitioned)
{
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/lh-ice-write-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    lh_arena_init(&fx->a, 0);
    lh_err err;
    assert_int_equal(lh_ice_schema_parse_json(SCHEMA, strlen(SCHEMA), &fx->a,
                                              &fx->schema, &err),
                     LH_OK);
    memset(&fx->spec, 0, sizeof(fx->spec));
    if (partitioned) {
        lh_ice_partition_field *pf = lh_arena_calloc(&fx->a, sizeof(*pf));
        pf->source_id = 3;
        pf->source_ids = lh_arena_calloc(&fx->a, sizeof(int32_t));
        pf->source_ids[0] = 3;
        pf->nsource_ids = 1;
        pf->field_id = 1000;
        pf->name = "day_day";
        lh_ice_transform_parse("day", &pf->transform);
        fx->spec.fields = pf;
        fx->spec.nfields = 1;
    }
}

static inline void
fx_release(fixture *fx)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    assert_int_equal(system(cmd), 0);
    lh_arena_release(&fx->a);
}

static inline lh_ice_table *
create_at(fixture *fx, int version, const char *location,
          const lh_ice_path_map *map)
{
    char table[300], loc[320];
    snprintf(table, sizeof(table), "%s/t", fx->dir);
    snprintf(loc, sizeof(loc), "file://%s", table);
    lh_ice_create_opts o = {.location = location ? location : loc,
                            .format_version = version,
                            .maps = map,
                            .nmaps = map ? 1 : 0};
    lh_ice_table *t;
    lh_err err;
    lh_rc rc = lh_ice_table_create(table, &fx->schema, &fx->spec, &o, &t, &err);
    if (rc != LH_OK) {
        fail_msg("create: %s", err.msg);
    }
    return t;
}

static inline lh_ice_table *
create(fixture *fx, int version)
{
    return create_at(fx, version, NULL, NULL);
}

static inline lh_ice_table *
reopen(fixture *fx)
{
    char table[300];
    snprintf(table, sizeof(table), "%s/t", fx->dir);
    lh_ice_table *t;
    lh_err err;
    lh_rc rc = lh_ice_table_open(table, NULL, &t, &err);
    if (rc != LH_OK) {
        fail_msg("open: %s", err.msg);
    }
    return t;
}

/* Rows [first, first + n): id, name "n<id>" (NULL every 7th), day
 * `day`, amount id / 2 (NaN for id 13). */
static inline void
make_batch(lh_arena *a, int64_t first, uint32_t n, int32_t day, lh_batch *b)
{
    lh_vector *cols = lh_arena_calloc(a, 4 * sizeof(lh_vector));
    lh_type t_long = {.id = LH_T_BIGINT}, t_str = {.id = LH_T_VARCHAR},
            t_date = {.id = LH_T_DATE}, t_dbl = {.id = LH_T_DOUBLE};
    lh_err err;
    assert_int_equal(lh_vector_alloc(&cols[0], t_long, n, false, a, &err),
                     LH_OK);
    assert_int_equal(lh_vector_alloc(&cols[1], t_str, n, true, a, &err), LH_OK);
    assert_int_equal(lh_vector_alloc(&cols[2], t_date, n, true, a, &err),
                     LH_OK);
    assert_int_equal(lh_vector_alloc(&cols[3], t_dbl, n, true, a, &err), LH_OK);
    for (uint32_t i = 0; i < n; i++) {
        int64_t id = first + i;
        ((int64_t *)cols[0].data)[i] = id;
        char *s = lh_arena_alloc(a, 32);
        int len = snprintf(s, 32, "n%lld", (long long)id);
        ((lh_str *)cols[1].data)[i] = lh_str_make(s, (uint32_t)len);
        if (id % 7 == 0) {
            lh_bit_set(cols[1].validity, i, false);
        }
        ((int32_t *)cols[2].data)[i] = day;
        ((double *)cols[3].data)[i] = id == 13 ? NAN : (double)id / 2;
    }
    memset(b, 0, sizeof(*b));
    b->count = n;
    b->ncols = 4;
    b->cols = cols;
}

/* Writes rows [first, first+n) of one day as a data file. */
static inline lh_ice_data_file
write_file(lh_ice_table *t, fixture *fx, lh_arena *a, int64_t first, uint32_t n,
           int32_t day)
{
    lh_ice_data_writer *w;
    lh_err err;
    assert_int_equal(lh_ice_data_writer_open(&fx->schema, &fx->spec, &w, &err),
                     LH_OK);
    lh_arena tmp;
    lh_arena_init(&tmp, 0);
    for (uint32_t done = 0; done < n;) {
        uint32_t k = LH_MIN(n - done, (uint32_t)LH_BATCH_ROWS);
        lh_batch b;
        make_batch(&tmp, first + done, k, day, &b);
        lh_rc rc = lh_ice_data_writer_write(w, &b, &err);
        if (rc != LH_OK) {
            fail_msg("write: %s", err.msg);
        }
        done += k;
    }
    lh_arena_release(&tmp);
    char uuid[40], loc[600];
    lh_uuid u;
    lh_uuid_v4(&u, NULL);
    lh_uuid_format(&u, uuid);
    snprintf(loc, sizeof(loc), "%s/data/%s.parquet",
             lh_ice_table_meta(t)->location, uuid);
    lh_ice_data_file f;
    lh_rc rc = lh_ice_data_writer_close(w, t, loc, a, &f, &err);
    if (rc != LH_OK) {
        fail_msg("close: %s", err.msg);
    }
    return f;
}

static inline int64_t
commit(lh_ice_table *t, const lh_ice_change *c)
{
    int64_t id = 0;
    lh_err err;
    lh_rc rc = lh_ice_commit(t, c, &id, &err);
    if (rc != LH_OK) {
        fail_msg("commit: %s", err.msg);
    }
    return id;
}

/* Sum and count of ids of the live rows, through plan + read. */
static inline void
scan_ids(const lh_ice_table *t, const lh_ice_expr *filter, int64_t *count,
         int64_t *sum, uint32_t *tasks)
{
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_scan_opts so = {.filter = filter};
    lh_ice_plan plan;
    lh_err err;
    lh_rc rc = lh_ice_plan_scan(t, &so, &a, &plan, &err);
    if (rc != LH_OK) {
        fail_msg("plan: %s", err.msg);
    }
    *count = *sum = 0;
    if (tasks != NULL) {
        *tasks = plan.ntasks;
    }
    int32_t ids[] = {1, 2};
    for (uint32_t i = 0; i < plan.ntasks; i++) {
        lh_ice_reader *r;
        rc = lh_ice_read_open(t, &plan, &plan.tasks[i], ids, 2, &r, &err);
        if (rc != LH_OK) {
            fail_msg("read: %s", err.msg);
        }
        for (;;) {
            lh_batch b;
            assert_int_equal(lh_ice_read_next(r, &b, &err), LH_OK);
            if (b.count == 0) {
                break;
            }
            uint32_t n = b.sel ? b.nsel : b.count;
            for (uint32_t k = 0; k < n; k++) {
                uint32_t row = b.sel ? b.sel[k] : k;
                int64_t id = ((const int64_t *)b.cols[0].data)[row];
                (*count)++;
                *sum += id;
                assert_int_equal(lh_vec_valid(&b.cols[1], row), id % 7 != 0);
            }
        }
        lh_ice_read_close(r);
    }
    lh_arena_release(&a);
}

#endif
