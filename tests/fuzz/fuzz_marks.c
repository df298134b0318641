/*
 * fuzz_marks: lh__marks_parse, the per-shard positions a lake snapshot's
 * summary records ("lakehouse.hot-positions", read from the object store).
 *
 * The first byte chooses the table's shard count (1..64), the rest is the
 * token (NUL-terminated in a copy). A token that parses gives non-negative
 * positions; formatting them gives text that parses to the same
 * positions and formats to the same text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/pipeline_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FUZZ_SHARDS 64

static void fail(const char *fmt, ...) LH_PRINTF(1, 2);

static void
fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_marks: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    int nshards = 1 + data[0] % MAX_FUZZ_SHARDS;
    char *s = malloc(size);
    if (s == NULL) {
        return 0;
    }
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';

    int64_t pos[MAX_FUZZ_SHARDS];
    int64_t back[MAX_FUZZ_SHARDS];
    lh_err err;
    lh_buf b1 = LH_BUF_INIT;
    lh_buf b2 = LH_BUF_INIT;
    if (lh__marks_parse(s, pos, nshards, &err) != LH_OK) {
        if (err.code != LH_ECORRUPT) {
            fail("parse failed with %s", lh_rc_name(err.code));
        }
        goto done;
    }
    for (int i = 0; i < nshards; i++) {
        if (pos[i] < 0) {
            fail("\"%s\" gave position %lld for shard %d", s, (long long)pos[i],
                 i);
        }
    }
    if (lh__marks_format(pos, nshards, &b1) != LH_OK) {
        goto done; /* out of memory */
    }
    if (lh__marks_parse(b1.data, back, nshards, &err) != LH_OK) {
        fail("\"%s\" formats as \"%s\", which does not parse: %s", s, b1.data,
             err.msg);
    }
    if (memcmp(pos, back, sizeof(int64_t) * (size_t)nshards) != 0) {
        fail("\"%s\" formats as \"%s\", which parses to other positions", s,
             b1.data);
    }
    if (lh__marks_format(back, nshards, &b2) == LH_OK &&
        strcmp(b1.data, b2.data) != 0) {
        fail("\"%s\" formats as \"%s\", then as \"%s\"", s, b1.data, b2.data);
    }
done:
    lh_buf_release(&b1);
    lh_buf_release(&b2);
    free(s);
    return 0;
}
