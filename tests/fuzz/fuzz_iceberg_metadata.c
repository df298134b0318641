/*
 * fuzz_iceberg_metadata: lh_ice_meta_parse on table metadata JSON (plain,
 * gzip or zstd). What parses is consistent: the current schema and the
 * default spec exist, and (v2, v3) our JSON of it parses back and prints
 * the same JSON again. What does not parse says why with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/iceberg/iceberg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *fmt, ...) LH_PRINTF(1, 2);

static void
fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_iceberg_metadata: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_meta *m = NULL;
    lh_err err;
    lh_rc rc = lh_ice_meta_parse(data, size, &a, &m, &err);
    if (rc != LH_OK) {
        if (err.msg[0] == 0) {
            fail("%s without a message", lh_rc_name(rc));
        }
        lh_arena_release(&a);
        return 0;
    }
    if (lh_ice_meta_current_schema(m) == NULL ||
        lh_ice_meta_spec(m, m->default_spec_id) == NULL) {
        fail("parsed metadata without its current schema or default spec");
    }
    if (m->format_version >= 2) {
        lh_buf b1 = LH_BUF_INIT, b2 = LH_BUF_INIT;
        if (lh_ice_meta_to_json(m, &b1, &err) != LH_OK) {
            fail("could not write parsed metadata: %s", err.msg);
        }
        lh_ice_meta *m2;
        if (lh_ice_meta_parse((const uint8_t *)b1.data, b1.len, &a, &m2,
                              &err) != LH_OK) {
            fail("our JSON does not parse: %s\n%s", err.msg, b1.data);
        }
        if (lh_ice_meta_to_json(m2, &b2, &err) != LH_OK ||
            strcmp(b1.data, b2.data) != 0) {
            fail("JSON differs after a round trip:\n%s\n%s", b1.data, b2.data);
        }
        lh_buf_release(&b1);
        lh_buf_release(&b2);
    }
    lh_arena_release(&a);
    return 0;
}
