/*
 * fuzz_sql_parse: lh_sql_parse on any bytes. Must hold: a failure has one
 * of the parser's codes, a message, and an offset inside the text; a
 * success prints (lh_sql_ast_print) every statement, and statement spans
 * are ordered and inside the text. The arena has a budget, so a runaway
 * allocation shows up as LH_ENOMEM rather than an out-of-memory kill.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/sql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *fmt, ...) LH_PRINTF(1, 2);

static void
fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_sql_parse: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lh_arena a;
    lh_arena_init(&a, (size_t)256 << 20);
    lh_err err;
    memset(&err, 0, sizeof err);
    lh_sql_stmt *stmts;
    uint32_t n;
    lh_rc rc =
        lh_sql_parse((const char *)data, size, NULL, &a, &stmts, &n, &err);
    if (rc != LH_OK) {
        if (rc != LH_EINVAL && rc != LH_EUNSUPPORTED && rc != LH_ELIMIT &&
            rc != LH_ENOMEM) {
            fail("unexpected code %s", lh_rc_name(rc));
        }
        if (err.code != rc || err.msg[0] == 0) {
            fail("error without its code or message (%s)", lh_rc_name(rc));
        }
        if (rc != LH_ENOMEM && (err.offset < 0 || (size_t)err.offset > size)) {
            fail("offset %lld outside the text of %zu bytes",
                 (long long)err.offset, size);
        }
    } else {
        int32_t last = 0;
        lh_buf b = LH_BUF_INIT;
        for (uint32_t i = 0; i < n; i++) {
            if (stmts[i].start < last || stmts[i].end < stmts[i].start ||
                (size_t)stmts[i].end > size) {
                fail("statement %u spans [%d, %d) of %zu bytes", i,
                     (int)stmts[i].start, (int)stmts[i].end, size);
            }
            last = stmts[i].end;
            lh_buf_reset(&b);
            if (lh_sql_ast_print(stmts[i].ast, &b) != LH_OK) {
                fail("printing statement %u failed", i);
            }
        }
        lh_buf_release(&b);
    }
    lh_arena_release(&a);
    return 0;
}
