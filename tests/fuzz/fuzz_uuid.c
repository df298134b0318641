/*
 * fuzz_uuid: lh_uuid_parse. A UUID that parses formats as 36 lowercase
 * characters that parse back to the same 16 bytes; anything that parses
 * had one of the accepted lengths (32, 36, 38 with braces).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *fmt, ...) LH_PRINTF(1, 2);

static void
fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_uuid: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lh_uuid u;
    lh_err err;
    if (lh_uuid_parse((const char *)data, size, &u, &err) != LH_OK) {
        if (err.code != LH_EINVAL) {
            fail("parse failed with %s, not LH_EINVAL", lh_rc_name(err.code));
        }
        return 0;
    }
    if (size != 32 && size != 36 && size != 38) {
        fail("accepted a UUID of %zu bytes", size);
    }
    char buf[LH_UUID_STRLEN + 8];
    memset(buf, 0x5a, sizeof(buf));
    lh_uuid_format(&u, buf);
    if (strlen(buf) != LH_UUID_STRLEN) {
        fail("formatted UUID \"%s\" is not %d characters", buf, LH_UUID_STRLEN);
    }
    for (size_t i = 0; i < LH_UUID_STRLEN; i++) {
        char c = buf[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        bool ok = dash ? c == '-'
                       : ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
        if (!ok) {
            fail("formatted UUID \"%s\" has '%c' at %zu", buf, c, i);
        }
    }
    lh_uuid back;
    if (lh_uuid_parse(buf, LH_UUID_STRLEN, &back, &err) != LH_OK) {
        fail("\"%s\" does not parse back: %s", buf, err.msg);
    }
    if (memcmp(u.b, back.b, sizeof(u.b)) != 0) {
        fail("\"%s\" parses back to other bytes", buf);
    }
    return 0;
}
