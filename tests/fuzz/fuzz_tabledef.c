/*
 * fuzz_tabledef: lh__tabledef_parse, the table definition JSON a user
 * writes (lh_table_create) and the data directory stores (table.json).
 *
 * The input is the JSON. A definition that parses is freed with
 * lh__tabledef_free; its normalized form (what table.json holds) must parse
 * too and normalize to the same text, since reopening a data directory
 * reads it back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hot/hot_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *fmt, ...) LH_PRINTF(1, 2);

static void
fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_tabledef: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lh_tabledef *d = NULL;
    lh_err err;
    lh_rc rc = lh__tabledef_parse((const char *)data, size, &d, &err);
    if (rc != LH_OK) {
        if (d != NULL) {
            fail("failed with %s but set *out", lh_rc_name(rc));
        }
        if (err.code != rc) {
            fail("returned %s, err says %s", lh_rc_name(rc),
                 lh_rc_name(err.code));
        }
        return 0;
    }
    if (d->json == NULL || d->nshards < 1 || d->nshards > LH_MAX_SHARDS ||
        d->ncols > LH_MAX_COLUMNS || d->hot_window <= 0 ||
        d->warm_window <= 0 || d->shard_col >= (int)d->ncols) {
        fail("parsed a definition that breaks its own limits");
    }
    lh_tabledef *again = NULL;
    if (lh__tabledef_parse(d->json, strlen(d->json), &again, &err) != LH_OK) {
        if (err.code != LH_ENOMEM) {
            fail("the normalized definition does not parse: %s\n%s", err.msg,
                 d->json);
        }
    } else if (strcmp(d->json, again->json) != 0) {
        fail("normalizing twice differs:\n%s\n%s", d->json, again->json);
    }
    lh__tabledef_free(again);
    lh__tabledef_free(d);
    return 0;
}
