/*
 * fuzz_value_json: lh_value_from_json, how an event's payload values are
 * read. The first byte picks the type (see fuzz_value_check.c), the rest is
 * JSON read with jansson as lh_append reads it; a value that converts must
 * survive the text and JSON round trips of fv_check.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "column/column.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
lh_type fv_type_of(uint8_t b);
void fv_check(const lh_value *v, const char *target);

static void
fail(const char *msg, lh_rc rc, const lh_err *err)
{
    fprintf(stderr, "fuzz_value_json: %s: %s (err says %s: %s)\n", msg,
            lh_rc_name(rc), lh_rc_name(err->code), err->msg);
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    lh_type t = fv_type_of(data[0]);
    json_error_t jerr;
    json_t *j =
        json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY, &jerr);
    if (j == NULL) {
        return 0;
    }
    lh_arena a;
    lh_arena_init(&a, (size_t)1 << 20);
    lh_value v;
    lh_err err;
    memset(&err, 0, sizeof(err));
    lh_rc rc = lh_value_from_json(t, j, &a, &v, &err);
    if (rc == LH_OK) {
        if (!lh_type_equal(v.type, t) || v.is_null != json_is_null(j)) {
            fail("converted value has another type or nullness", rc, &err);
        }
        fv_check(&v, "fuzz_value_json");
    } else if (rc != LH_EINVAL && rc != LH_ENOMEM) {
        fail("unexpected code", rc, &err);
    } else if (err.code != rc) {
        fail("err does not match the code", rc, &err);
    }
    json_decref(j);
    lh_arena_release(&a);
    return 0;
}
