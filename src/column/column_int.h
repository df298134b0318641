/*
 * column_int.h: what the files of src/column share and nothing else sees.
 *
 * The module turns values into text and back, and the text forms follow
 * PostgreSQL (design/output-formats.md) so that psql, drivers and our own
 * CLI agree byte for byte:
 *
 *   type.c      type names: parse, canonical name, equality
 *   number.c    doubles and floats in the shortest form that reads back
 *               (PostgreSQL 12+'s float8out/float4out, which use Ryu: the
 *               same digits, fixed notation for decimal exponents -4..14
 *               (-4..5 for REAL), else 1e+300 with at least two exponent
 *               digits); DECIMAL as a 128-bit unscaled integer printed with
 *               exactly `scale` fraction digits, parsed without rounding
 *   temporal.c  DATE, TIME, TIMESTAMP[TZ] and INTERVAL text, both ways
 *               (INTERVAL in IntervalStyle "postgres": "1 year 2 mons
 *               3 days 04:05:06.5", "-1 days +02:00:00")
 *   text.c      lh_value_to_text / lh_value_to_json
 *   input.c     lh_value_from_text / lh_value_from_json
 *   output.c    the CSV, JSON, NDJSON and table writers
 *
 * Error messages quote the offending text through lh__quote, which escapes
 * it and cuts it short so that a megabyte of bad input does not become a
 * megabyte of message.
 */
#ifndef LH_COLUMN_INT_H
#define LH_COLUMN_INT_H

#include <locale.h>

#include "column/column.h"

/* Room for a quoted excerpt: at most LH__QUOTE_MAX bytes of the text, each
 * escaped byte taking up to 4, plus quotes, the cut mark and the NUL. */
#define LH__QUOTE_MAX 64
#define LH__QUOTE_SIZE (LH__QUOTE_MAX * 4 + 8)

/* Writes s[0..n) into buf (LH__QUOTE_SIZE bytes) as "text": `"` and `\`
 * escaped, control bytes as \n, \t, \xNN, cut with "..." past
 * LH__QUOTE_MAX bytes (at a UTF-8 character boundary). Returns buf. */
const char *lh__quote(char *buf, const char *s, size_t n);

/* Number of UTF-8 characters (code points) in s[0..n): bytes that are not
 * continuation bytes. Meaningful for valid UTF-8. */
size_t lh__utf8_chars(const char *s, size_t n);

/* Trims ASCII whitespace from both ends of s[0..*n); returns the start. */
const char *lh__trim(const char *s, size_t *n);

/* printf and strtod read the decimal point from LC_NUMERIC; a program that
 * calls setlocale() would get "0,1". Number formatting and parsing run
 * between these two, which switch this thread to the C locale and back:
 *   locale_t old = lh__c_locale_enter(); ... lh__c_locale_leave(old); */
locale_t lh__c_locale_enter(void);
void lh__c_locale_leave(locale_t old);

/* Case-insensitive comparison of s[0..n) with the NUL-terminated word. */
bool lh__eq_nocase(const char *s, size_t n, const char *word);

/* ---- temporal text (temporal.c) ------------------------------------------ */

/* Append the text forms; LH_ENOMEM only (lh_buf's sticky rule). */
void lh__date_text(lh_buf *b, int64_t days);
void lh__time_text(lh_buf *b, int64_t us);
void lh__timestamp_text(lh_buf *b, int64_t us, bool tz);
void lh__interval_text(lh_buf *b, const lh_interval *iv);

/* Parse the input forms; LH_EINVAL quoting the text and saying what was
 * expected, LH_ELIMIT when the value is out of the type's range. */
lh_rc lh__date_parse(const char *s, size_t n, int64_t *days, lh_err *err);
lh_rc lh__time_parse(const char *s, size_t n, int64_t *us, lh_err *err);
/* tz only chooses the type name in messages: both types convert an offset
 * in the text to UTC, and text without one is read as UTC. */
lh_rc lh__timestamp_parse(const char *s, size_t n, bool tz, int64_t *us,
                          lh_err *err);
lh_rc lh__interval_parse(const char *s, size_t n, lh_interval *iv, lh_err *err);

/* Types whose JSON form is a string holding their text form as is
 * (temporal types, UUID): text.c writes them so, input.c reads them so. */
bool lh__json_as_text(uint8_t id);

#endif
