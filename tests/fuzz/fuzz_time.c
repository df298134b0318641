/*
 * fuzz_time: lh_time_parse, lh_duration_parse and lh_time_format_iso.
 *
 * The input is text (NUL-terminated in a copy). Properties:
 * - a timestamp that parses formats as ISO-8601 text that parses back to
 *   the same instant;
 * - a duration that parses is >= 0 and a whole number of milliseconds (ms
 *   is the smallest unit), and "<that many>ms" parses back to it;
 * - the first 8 bytes, read as an instant, format in fewer than 32 bytes,
 *   and (in the years the parser reads) parse back.
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
    fprintf(stderr, "fuzz_time: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

/* lh_time_parse reads years 0001..9999 only, while lh_time_format_iso writes
 * any year ("0000-12-31T23:00:00Z", "+10000-01-01T..."), so an offset can
 * carry an instant out of the parser's range. The parser refuses such
 * instants (an offset that moves one out is an error), so the round trip
 * is checked for
 * instants whose UTC year is 1..9999. */
static bool
in_parser_years(lh_us t)
{
    static const lh_us lo = INT64_C(-62135596800) * LH_US_PER_SEC;
    static const lh_us hi = INT64_C(253402300800) * LH_US_PER_SEC;
    return t >= lo && t < hi;
}

static void
check_format(lh_us t, const char *from)
{
    char buf[40];
    memset(buf, 0x5a, sizeof(buf));
    size_t n = lh_time_format_iso(t, buf);
    if (n >= 32 || buf[n] != '\0' || strlen(buf) != n) {
        fail("lh_time_format_iso(%lld) wrote %zu bytes", (long long)t, n);
    }
    if (!in_parser_years(t)) {
        return;
    }
    lh_us back = 0;
    lh_err err;
    if (lh_time_parse(buf, n, &back, &err) != LH_OK) {
        fail("\"%s\" (from %s) does not parse back: %s", buf, from, err.msg);
    }
    if (back != t) {
        fail("\"%s\" (from %s) parses back as %lld, not %lld", buf, from,
             (long long)back, (long long)t);
    }
}

static void
check_duration(const char *s)
{
    lh_us d = 0;
    lh_err err;
    if (lh_duration_parse(s, &d, &err) != LH_OK) {
        return;
    }
    if (d < 0 || d % 1000 != 0) {
        fail("duration \"%s\" parsed as %lld us", s, (long long)d);
    }
    char again[32];
    snprintf(again, sizeof(again), "%lldms", (long long)(d / 1000));
    lh_us back = 0;
    if (lh_duration_parse(again, &back, &err) != LH_OK || back != d) {
        fail("duration \"%s\" = %lld us, but \"%s\" reads back as %lld: %s", s,
             (long long)d, again, (long long)back, err.msg);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';

    lh_us t = 0;
    lh_err err;
    if (lh_time_parse(s, size, &t, &err) == LH_OK) {
        check_format(t, s);
    }
    check_duration(s);
    if (size >= 8) {
        uint64_t u = 0;
        for (int i = 0; i < 8; i++) {
            u = u << 8 | data[i];
        }
        check_format((lh_us)u, "raw bytes");
    }
    free(s);
    return 0;
}
