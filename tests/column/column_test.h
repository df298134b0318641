/*
 * Helpers for the column unit tests: building values, and their text forms
 * as strings that live until the next few calls (a small ring of buffers,
 * enough for one assertion's worth).
 */
#ifndef LH_COLUMN_TEST_H
#define LH_COLUMN_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "column/column.h"

#define RING 8
#define RING_SIZE 4096

static inline char *
ring_next(void)
{
    static char ring[RING][RING_SIZE];
    static int at;
    at = (at + 1) % RING;
    ring[at][0] = '\0';
    return ring[at];
}

static inline const char *
ring_copy(const lh_buf *b)
{
    char *r = ring_next();
    size_t n = b->len < RING_SIZE - 1 ? b->len : RING_SIZE - 1;
    if (n > 0) {
        memcpy(r, b->data, n);
    }
    r[n] = '\0';
    return r;
}

/* The value's text form (lh_value_to_text), asserting success. */
static inline const char *
text_of(const lh_value *v)
{
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_value_to_text(v, &b), LH_OK);
    const char *r = ring_copy(&b);
    lh_buf_release(&b);
    return r;
}

/* The value's JSON form (lh_value_to_json), asserting success. */
static inline const char *
json_of(const lh_value *v)
{
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_value_to_json(v, &b), LH_OK);
    const char *r = ring_copy(&b);
    lh_buf_release(&b);
    return r;
}

static inline lh_type
type_of(const char *name)
{
    lh_type t;
    lh_err err;
    lh_rc rc = lh_type_parse(name, &t, &err);
    if (rc != LH_OK) {
        fail_msg("lh_type_parse(\"%s\"): %s", name, err.msg);
    }
    return t;
}

static inline lh_value
val_i(const char *type, int64_t i)
{
    lh_value v;
    memset(&v, 0, sizeof(v));
    v.type = type_of(type);
    v.u.i = i;
    return v;
}

static inline lh_value
val_d(const char *type, double d)
{
    lh_value v;
    memset(&v, 0, sizeof(v));
    v.type = type_of(type);
    v.u.d = d;
    return v;
}

static inline lh_value
val_s(const char *type, const char *s, size_t n)
{
    lh_value v;
    memset(&v, 0, sizeof(v));
    v.type = type_of(type);
    v.u.s.p = s;
    v.u.s.len = n;
    return v;
}

static inline lh_value
val_null(const char *type)
{
    lh_value v;
    memset(&v, 0, sizeof(v));
    v.type = type_of(type);
    v.is_null = true;
    return v;
}

/* Parses text as type, asserting success; returns the value's text. */
static inline const char *
text_roundtrip(const char *type, const char *in, lh_arena *a)
{
    lh_value v;
    lh_err err;
    lh_rc rc = lh_value_from_text(type_of(type), in, strlen(in), a, &v, &err);
    if (rc != LH_OK) {
        fail_msg("%s from text \"%s\": %s", type, in, err.msg);
    }
    return text_of(&v);
}

/* Parses text as type, asserting failure with code and message. */
static inline void
text_fails(const char *type, const char *in, lh_rc code, const char *msg,
           lh_arena *a)
{
    lh_value v;
    lh_err err;
    lh_rc rc = lh_value_from_text(type_of(type), in, strlen(in), a, &v, &err);
    if (rc == LH_OK) {
        fail_msg("%s from text \"%s\" succeeded: %s", type, in, text_of(&v));
    }
    assert_int_equal(rc, code);
    assert_string_equal(err.msg, msg);
}

#endif
