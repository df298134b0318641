/*
 * fuzz_value_text: lh_value_from_text, the text input of every type (CSV
 * import, SQL literals, the CLI). The first byte picks the type (see
 * fuzz_value_check.c), the rest is the text; a value that parses must
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
    fprintf(stderr, "fuzz_value_text: %s: %s (err says %s: %s)\n", msg,
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
    /* An exact-size copy of the text: a read past it is an ASan error. */
    size_t n = size - 1;
    char *s = malloc(n > 0 ? n : 1);
    if (s == NULL) {
        return 0;
    }
    memcpy(s, data + 1, n);

    lh_arena a;
    lh_arena_init(&a, (size_t)1 << 20);
    lh_value v;
    lh_err err;
    memset(&err, 0, sizeof(err));
    lh_rc rc = lh_value_from_text(t, s, n, &a, &v, &err);
    if (rc == LH_OK) {
        if (!lh_type_equal(v.type, t) || v.is_null) {
            fail("parsed value has another type or is NULL", rc, &err);
        }
        fv_check(&v, "fuzz_value_text");
    } else if (rc != LH_EINVAL && rc != LH_ENOMEM) {
        fail("unexpected code", rc, &err);
    } else if (err.code != rc) {
        fail("err does not match the code", rc, &err);
    }
    lh_arena_release(&a);
    free(s);
    return 0;
}
