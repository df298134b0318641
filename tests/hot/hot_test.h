/* Shared helpers for the hot-tier tests: a fresh data directory per test,
 * and a few one-line appends. */
#ifndef LH_HOT_TEST_H
#define LH_HOT_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lakehouse.h"

static inline char *
ht_tmpdir(void)
{
    char tmpl[] = "/tmp/lh-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    char *out = malloc(strlen(d) + 6);
    sprintf(out, "%s/data", d);
    return out;
}

static inline void
ht_rmdir(char *dir)
{
    char cmd[600];
    /* dir is ".../lh-test-XXXXXX/data": remove the parent */
    size_t n = strlen(dir) - strlen("/data");
    snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)n, dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
    free(dir);
}

static inline lh_db *
ht_open(const char *dir)
{
    lh_db *db = NULL;
    lh_err err;
    lh_db_options o = {.flags = LH_OPEN_CREATE};
    lh_rc rc = lh_db_open(dir, &o, &db, &err);
    if (rc != LH_OK) {
        fail_msg("open %s: %s", dir, err.msg);
    }
    return db;
}

static inline void
ht_create(lh_db *db, const char *json)
{
    lh_err err;
    lh_rc rc = lh_table_create(db, json, strlen(json), &err);
    if (rc != LH_OK) {
        fail_msg("create table: %s", err.msg);
    }
}

/* Appends one event; returns the code and fills ack and err. */
static inline lh_rc
ht_append1(lh_db *db, const char *table, const char *stream, const char *type,
           const char *data, lh_expect ex, int64_t ver, const char *id,
           lh_event_ack *ack, lh_err *err)
{
    lh_event_in ev = {.stream = stream,
                      .type = type,
                      .data_json = data,
                      .expect = ex,
                      .expected_version = ver,
                      .event_id = id};
    return lh_append(db, table, &ev, 1, NULL, ack, err);
}

#endif
