/*
 * fuzz_value_check.c: what fuzz_value_text and fuzz_value_json share (it is
 * linked into both; it is not a target of its own). The type an input's
 * first byte picks, and the round trips every parsed value must survive:
 *
 * - text: lh_value_to_text, then lh_value_from_text of that text, gives
 *   the same text again (the text form is exact by design: shortest
 *   round-trip digits for REAL and DOUBLE, all digits of DECIMAL, µs for
 *   temporal types);
 * - JSON: lh_value_to_json writes JSON that jansson reads, and
 *   lh_value_from_json of it gives the same JSON again.
 *
 * The few exceptions are listed in json_exempt() with their reasons.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "column/column.h"

/* The two functions the targets call (no header: test code of one folder). */
lh_type fv_type_of(uint8_t b);
void fv_check(const lh_value *v, const char *target);

/* Every type id, and the parameterized types at their edges. */
static const lh_type types[] = {
    {.id = LH_T_NULL},
    {.id = LH_T_BOOLEAN},
    {.id = LH_T_SMALLINT},
    {.id = LH_T_INTEGER},
    {.id = LH_T_BIGINT},
    {.id = LH_T_REAL},
    {.id = LH_T_DOUBLE},
    {.id = LH_T_DECIMAL, .precision = 38, .scale = 10},
    {.id = LH_T_DECIMAL, .precision = 5, .scale = 2},
    {.id = LH_T_DECIMAL, .precision = 38, .scale = 0},
    {.id = LH_T_DECIMAL, .precision = 38, .scale = 38},
    {.id = LH_T_DECIMAL, .precision = 1, .scale = 0},
    {.id = LH_T_VARCHAR},
    {.id = LH_T_VARCHAR, .length = 10},
    {.id = LH_T_BLOB},
    {.id = LH_T_DATE},
    {.id = LH_T_TIME},
    {.id = LH_T_TIMESTAMP},
    {.id = LH_T_TIMESTAMPTZ},
    {.id = LH_T_INTERVAL},
    {.id = LH_T_UUID},
    {.id = LH_T_JSON},
    {.id = LH_T_VECTOR, .dim = 3},
    {.id = LH_T_VECTOR, .dim = 1},
};

/* Enough for any one value of a fuzz input (inputs are a few KiB); past it
 * the parsers must say LH_ENOMEM, which is also worth exercising. */
#define ARENA_BUDGET ((size_t)1 << 20)

static const char *current_target = "fuzz_value";

static void fail(const char *fmt, ...) LH_PRINTF(1, 2);

static void
fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", current_target);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

lh_type
fv_type_of(uint8_t b)
{
    return types[b % LH_ARRAY_LEN(types)];
}

static bool
same(const lh_buf *a, const lh_buf *b)
{
    return a->len == b->len &&
           (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static const char *
text_of(const lh_buf *b)
{
    return b->data != NULL ? b->data : "";
}

/* Significant digits of a DECIMAL's text ("-0012.3400" has 4). */
static int
decimal_digits(const lh_buf *t)
{
    const char *s = text_of(t);
    const char *first = NULL;
    const char *last = NULL;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p >= '1' && *p <= '9') {
            first = first != NULL ? first : p;
            last = p;
        }
    }
    if (first == NULL) {
        return 0;
    }
    int n = 0;
    for (const char *p = first; p <= last; p++) {
        n += *p >= '0' && *p <= '9';
    }
    return n;
}

/* Where the JSON round trip does not hold, by design of JSON or jansson:
 * - DECIMAL past 15 significant digits: lh_value_to_json writes every digit
 *   as a bare number (exact, output-formats.md), but jansson reads numbers
 *   as int64 or double, so more than DBL_DIG digits do not come back, and
 *   an integer past int64 ("99000000000000000000") does not load at all.
 *   Senders pass such values as strings (fuzz_value_json sends both).
 * - REAL/DOUBLE -0, also as a FLOAT[n] element: written as -0, which
 *   jansson reads as the integer 0.
 * The JSON type is compared after one pass (to_json embeds its text as
 * given; lh_value_from_json re-serializes it compactly). */
static bool
json_exempt(const lh_value *v, const lh_buf *text)
{
    switch (v->type.id) {
    case LH_T_DECIMAL:
        return decimal_digits(text) > 15 ||
               (v->type.scale == 0 &&
                (v->u.dec > INT64_MAX || v->u.dec < INT64_MIN));
    case LH_T_REAL:
    case LH_T_DOUBLE:
        return v->u.d == 0 && signbit(v->u.d);
    case LH_T_VECTOR:
        for (uint32_t i = 0; i < v->u.vec.n; i++) {
            if (v->u.vec.v[i] == 0 && signbit(v->u.vec.v[i])) {
                return true;
            }
        }
        return false;
    default:
        return false;
    }
}

static void
check_text(const lh_value *v, const lh_buf *t1)
{
    char tn[40];
    lh_arena a;
    lh_value back;
    lh_err err;
    lh_buf t2 = LH_BUF_INIT;
    lh_arena_init(&a, ARENA_BUDGET);
    memset(&err, 0, sizeof(err));
    lh_rc rc =
        lh_value_from_text(v->type, text_of(t1), t1->len, &a, &back, &err);
    if (rc == LH_ENOMEM) {
        goto done;
    }
    if (rc != LH_OK) {
        fail("%s text \"%.*s\" does not parse back: %s: %s",
             lh_type_name(v->type, tn), (int)LH_MIN(t1->len, 400), text_of(t1),
             lh_rc_name(rc), err.msg);
    }
    rc = lh_value_to_text(&back, &t2);
    if (rc != LH_OK && rc != LH_ENOMEM) {
        fail("lh_value_to_text failed: %s", lh_rc_name(rc));
    }
    if (rc == LH_OK && !same(t1, &t2)) {
        fail("%s text \"%.*s\" reads back as \"%.*s\"",
             lh_type_name(v->type, tn), (int)LH_MIN(t1->len, 400), text_of(t1),
             (int)LH_MIN(t2.len, 400), text_of(&t2));
    }
done:
    lh_buf_release(&t2);
    lh_arena_release(&a);
}

/* to_json(from_json(load(j1))) into j2; false when out of memory. */
static bool
json_pass(const lh_value *v, const lh_buf *j1, lh_buf *j2, bool exempt)
{
    char tn[40];
    json_error_t jerr;
    lh_arena a;
    lh_value back;
    lh_err err;
    bool ok = true;
    json_t *j = json_loadb(text_of(j1), j1->len, JSON_DECODE_ANY, &jerr);
    if (j == NULL) {
        if (!exempt) {
            fail("%s JSON \"%.*s\" does not load: %s",
                 lh_type_name(v->type, tn), (int)LH_MIN(j1->len, 400),
                 text_of(j1), jerr.text);
        }
        return false;
    }
    lh_arena_init(&a, ARENA_BUDGET);
    memset(&err, 0, sizeof(err));
    lh_rc rc = lh_value_from_json(v->type, j, &a, &back, &err);
    json_decref(j);
    if (rc == LH_ENOMEM) {
        ok = false;
        goto done;
    }
    if (rc != LH_OK) {
        fail("%s JSON \"%.*s\" does not read back: %s: %s",
             lh_type_name(v->type, tn), (int)LH_MIN(j1->len, 400), text_of(j1),
             lh_rc_name(rc), err.msg);
    }
    rc = lh_value_to_json(&back, j2);
    if (rc != LH_OK && rc != LH_ENOMEM) {
        fail("lh_value_to_json failed: %s", lh_rc_name(rc));
    }
    ok = rc == LH_OK;
done:
    lh_arena_release(&a);
    return ok;
}

static void
check_json(const lh_value *v, const lh_buf *text)
{
    char tn[40];
    bool exempt = json_exempt(v, text);
    lh_buf j1 = LH_BUF_INIT;
    lh_buf j2 = LH_BUF_INIT;
    lh_buf j3 = LH_BUF_INIT;
    lh_rc rc = lh_value_to_json(v, &j1);
    if (rc != LH_OK && rc != LH_ENOMEM) {
        fail("lh_value_to_json failed: %s", lh_rc_name(rc));
    }
    if (rc != LH_OK || !json_pass(v, &j1, &j2, exempt)) {
        goto done;
    }
    const lh_buf *want = &j1;
    const lh_buf *got = &j2;
    if (v->type.id == LH_T_JSON) {
        if (!json_pass(v, &j2, &j3, false)) {
            goto done;
        }
        want = &j2;
        got = &j3;
    }
    if (!exempt && !same(want, got)) {
        fail("%s JSON \"%.*s\" reads back as \"%.*s\"",
             lh_type_name(v->type, tn), (int)LH_MIN(want->len, 400),
             text_of(want), (int)LH_MIN(got->len, 400), text_of(got));
    }
done:
    lh_buf_release(&j1);
    lh_buf_release(&j2);
    lh_buf_release(&j3);
}

void
fv_check(const lh_value *v, const char *target)
{
    current_target = target;
    if (v->is_null) {
        return;
    }
    lh_buf t1 = LH_BUF_INIT;
    lh_rc rc = lh_value_to_text(v, &t1);
    if (rc != LH_OK && rc != LH_ENOMEM) {
        fail("lh_value_to_text failed: %s", lh_rc_name(rc));
    }
    if (rc == LH_OK) {
        check_text(v, &t1);
        check_json(v, &t1);
    }
    lh_buf_release(&t1);
}
