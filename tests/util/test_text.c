/* Unit tests: UTF-8 validation and JSON string escaping. */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include <jansson.h>

#include "util/util.h"

static int
reset_injection(void **state)
{
    (void)state;
    lh_alloc_fail_at(0, false);
    return 0;
}

#define U8(s) (s), (sizeof(s) - 1)

static void
test_utf8_valid(void **state)
{
    (void)state;
    assert_true(lh_utf8_valid(U8("")));
    assert_true(lh_utf8_valid(U8("plain ascii \x01\x7f")));
    assert_true(lh_utf8_valid(U8("\0with nul")));
    assert_true(lh_utf8_valid(U8("\xc2\x80")));         /* U+0080 */
    assert_true(lh_utf8_valid(U8("\xdf\xbf")));         /* U+07FF */
    assert_true(lh_utf8_valid(U8("\xe0\xa0\x80")));     /* U+0800 */
    assert_true(lh_utf8_valid(U8("\xe2\x82\xac")));     /* € */
    assert_true(lh_utf8_valid(U8("\xed\x9f\xbf")));     /* U+D7FF */
    assert_true(lh_utf8_valid(U8("\xee\x80\x80")));     /* U+E000 */
    assert_true(lh_utf8_valid(U8("\xef\xbf\xbf")));     /* U+FFFF */
    assert_true(lh_utf8_valid(U8("\xf0\x90\x80\x80"))); /* U+10000 */
    assert_true(lh_utf8_valid(U8("\xf0\x9f\x98\x80"))); /* 😀 */
    assert_true(lh_utf8_valid(U8("\xf4\x8f\xbf\xbf"))); /* U+10FFFF */
    assert_true(lh_utf8_valid(U8("h\xc3\xa9llo w\xc3\xb6rld")));

    /* Overlongs. */
    assert_false(lh_utf8_valid(U8("\xc0\x80")));
    assert_false(lh_utf8_valid(U8("\xc1\xbf")));
    assert_false(lh_utf8_valid(U8("\xe0\x80\x80")));
    assert_false(lh_utf8_valid(U8("\xe0\x9f\xbf")));
    assert_false(lh_utf8_valid(U8("\xf0\x80\x80\x80")));
    assert_false(lh_utf8_valid(U8("\xf0\x8f\xbf\xbf")));
    /* Surrogates. */
    assert_false(lh_utf8_valid(U8("\xed\xa0\x80")));
    assert_false(lh_utf8_valid(U8("\xed\xbf\xbf")));
    assert_false(lh_utf8_valid(U8("\xed\xa0\xbd\xed\xb8\x80"))); /* CESU */
    /* Past U+10FFFF and bytes that never occur. */
    assert_false(lh_utf8_valid(U8("\xf4\x90\x80\x80")));
    assert_false(lh_utf8_valid(U8("\xf5\x80\x80\x80")));
    assert_false(lh_utf8_valid(U8("\xf8\x88\x80\x80\x80")));
    assert_false(lh_utf8_valid(U8("\xff")));
    assert_false(lh_utf8_valid(U8("\xfe")));
    /* Lone continuation bytes and truncated sequences. */
    assert_false(lh_utf8_valid(U8("\x80")));
    assert_false(lh_utf8_valid(U8("a\xbf")));
    assert_false(lh_utf8_valid(U8("\xc3")));
    assert_false(lh_utf8_valid(U8("\xe2\x82")));
    assert_false(lh_utf8_valid(U8("\xf0\x9f\x98")));
    assert_false(lh_utf8_valid(U8("\xc3(")));
    assert_false(lh_utf8_valid(U8("\xe2\x28\xa1")));
    assert_false(lh_utf8_valid(U8("\xf0\x9f\x98\x28")));
    /* n is honoured: a valid prefix of an invalid string. */
    assert_true(lh_utf8_valid("ab\xff", 2));
    assert_false(lh_utf8_valid("\xe2\x82\xac", 2));
}

/* Every code point encodes and validates; every surrogate does not. */
static void
test_utf8_exhaustive(void **state)
{
    (void)state;
    for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
        unsigned char b[4];
        size_t n;
        if (cp < 0x80) {
            b[0] = (unsigned char)cp;
            n = 1;
        } else if (cp < 0x800) {
            b[0] = (unsigned char)(0xc0 | cp >> 6);
            b[1] = (unsigned char)(0x80 | (cp & 0x3f));
            n = 2;
        } else if (cp < 0x10000) {
            b[0] = (unsigned char)(0xe0 | cp >> 12);
            b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
            b[2] = (unsigned char)(0x80 | (cp & 0x3f));
            n = 3;
        } else {
            b[0] = (unsigned char)(0xf0 | cp >> 18);
            b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
            b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
            b[3] = (unsigned char)(0x80 | (cp & 0x3f));
            n = 4;
        }
        bool surrogate = cp >= 0xd800 && cp <= 0xdfff;
        if (lh_utf8_valid((const char *)b, n) == surrogate) {
            fail_msg("U+%04X judged %s", cp, surrogate ? "valid" : "invalid");
        }
    }
}

static void
check_json(const char *in, size_t n, const char *want)
{
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_buf_json_string(&b, in, n), LH_OK);
    assert_string_equal(b.data, want);
    assert_int_equal(b.len, strlen(want));
    lh_buf_release(&b);
}

static void
test_json_escapes(void **state)
{
    (void)state;
    check_json(U8(""), "\"\"");
    check_json(U8("plain"), "\"plain\"");
    check_json(U8("a\"b"), "\"a\\\"b\"");
    check_json(U8("a\\b"), "\"a\\\\b\"");
    check_json(U8("\n\t\r\b\f"), "\"\\n\\t\\r\\b\\f\"");
    check_json(U8("\x01\x1f"), "\"\\u0001\\u001f\"");
    check_json(U8("nul\0here"), "\"nul\\u0000here\"");
    check_json(U8("/ and \x7f stay"), "\"/ and \x7f stay\"");
    check_json(U8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"),
               "\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"");
    /* Not UTF-8: each bad byte becomes U+FFFD, so the output is JSON. */
    check_json(U8("a\xffz"), "\"a\xef\xbf\xbdz\"");
    check_json(U8("\xc0\x80"), "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    check_json(U8("\xed\xa0\x80"), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    check_json(U8("cut \xe2\x82"), "\"cut \xef\xbf\xbd\xef\xbf\xbd\"");
    /* n is honoured. */
    check_json("abc\"", 3, "\"abc\"");

    /* Appends to what the buffer holds. */
    lh_buf b = LH_BUF_INIT;
    lh_buf_puts(&b, "{\"k\":");
    lh_buf_json_string(&b, U8("v\n"));
    lh_buf_putc(&b, '}');
    assert_string_equal(b.data, "{\"k\":\"v\\n\"}");
    lh_buf_release(&b);
}

/* jansson reads back every byte value as the same string. */
static void
test_json_round_trip_jansson(void **state)
{
    (void)state;
    char all[128];
    for (int i = 0; i < 128; i++) {
        all[i] = (char)i;
    }
    lh_buf b = LH_BUF_INIT;
    lh_buf_puts(&b, "[");
    assert_int_equal(lh_buf_json_string(&b, all, sizeof(all)), LH_OK);
    lh_buf_puts(&b, ",");
    const char *uni = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf";
    assert_int_equal(lh_buf_json_string(&b, uni, strlen(uni)), LH_OK);
    lh_buf_puts(&b, "]");
    json_error_t jerr;
    json_t *j = json_loadb(b.data, b.len, JSON_ALLOW_NUL, &jerr);
    if (j == NULL) {
        fail_msg("jansson: %s in %s", jerr.text, b.data);
    }
    json_t *s0 = json_array_get(j, 0);
    assert_int_equal(json_string_length(s0), sizeof(all));
    assert_memory_equal(json_string_value(s0), all, sizeof(all));
    assert_string_equal(json_string_value(json_array_get(j, 1)), uni);
    json_decref(j);
    lh_buf_release(&b);
}

static void
test_json_oom(void **state)
{
    (void)state;
    lh_buf b = LH_BUF_INIT;
    lh_alloc_fail_at(1, false);
    assert_int_equal(lh_buf_json_string(&b, U8("x")), LH_ENOMEM);
    assert_false(lh_buf_ok(&b));
    lh_buf_release(&b);

    /* Failing mid-string, on growth. */
    char big[1000];
    memset(big, '\n', sizeof(big));
    lh_buf c = LH_BUF_INIT;
    lh_buf_puts(&c, "x");
    lh_alloc_fail_at(1, false);
    assert_int_equal(lh_buf_json_string(&c, big, sizeof(big)), LH_ENOMEM);
    lh_buf_release(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_exhaustive),
        cmocka_unit_test(test_json_escapes),
        cmocka_unit_test(test_json_round_trip_jansson),
        cmocka_unit_test_teardown(test_json_oom, reset_injection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
