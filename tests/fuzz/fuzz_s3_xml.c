/*
 * fuzz_s3_xml: the parsers of what an S3 server sends (io/s3_xml.c) and
 * of the shared AWS config files (io/s3_conf.c).
 *
 * Byte 0 picks the parser (modulo 6), the rest is the body: an <Error>,
 * a ListBucketResult, an InitiateMultipartUploadResult, a
 * CompleteMultipartUploadResult, an ETag header value, an INI file. What
 * must hold: a parsed listing has a non-empty key per entry, no more
 * entries than "<Contents" occurs in the body, and a token when it is
 * truncated; every ETag given back is quoted and fits; strings are
 * NUL-terminated; a failure sets a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/s3_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *fmt, ...) LH_PRINTF(1, 2);

static void
fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_s3_xml: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

static void
check_etag(const char *etag)
{
    size_t n = strnlen(etag, LH_IO_ETAG_MAX);
    if (n >= LH_IO_ETAG_MAX || n < 3 || etag[0] != '"' || etag[n - 1] != '"') {
        fail("bad etag \"%.*s\"", (int)n, etag);
    }
}

static size_t
occurrences(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle), count = 0;
    for (size_t i = 0; i + k <= n; i++) {
        count += memcmp(s + i, needle, k) == 0;
    }
    return count;
}

static void
check_failure(lh_rc rc, const lh_err *err)
{
    if (rc != LH_EIO && rc != LH_ENOMEM) {
        fail("unexpected code %s", lh_rc_name(rc));
    }
    if (err->msg[0] == '\0') {
        fail("failure without a message");
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    lh_err err = {0};
    switch (data[0] % 6) {
    case 0: {
        lh__s3_error e;
        if (lh__s3_xml_error(body, len, &e) == LH_OK &&
            (strnlen(e.code, sizeof(e.code)) == sizeof(e.code) ||
             strnlen(e.message, sizeof(e.message)) == sizeof(e.message))) {
            fail("error fields not terminated");
        }
        break;
    }
    case 1: {
        lh_arena a;
        lh_arena_init(&a, 0);
        lh__s3_listing l;
        lh_rc rc = lh__s3_xml_list(body, len, &a, &l, &err);
        if (rc == LH_OK) {
            if (l.count > occurrences(body, len, "Contents")) {
                fail("%zu entries from a body with fewer Contents", l.count);
            }
            for (size_t i = 0; i < l.count; i++) {
                if (l.entries[i].key == NULL || l.entries[i].key[0] == '\0') {
                    fail("entry %zu without a key", i);
                }
                if (l.entries[i].etag[0] != '\0') {
                    check_etag(l.entries[i].etag);
                }
            }
            if (l.truncated && l.next_token == NULL) {
                fail("truncated without a token");
            }
        } else {
            check_failure(rc, &err);
        }
        lh_arena_release(&a);
        break;
    }
    case 2: {
        char *id;
        lh_rc rc = lh__s3_xml_initiate(body, len, &id, &err);
        if (rc == LH_OK && (id == NULL || id[0] == '\0')) {
            fail("empty upload id");
        }
        if (rc != LH_OK) {
            check_failure(rc, &err);
        }
        lh_free(id);
        break;
    }
    case 3: {
        char etag[LH_IO_ETAG_MAX];
        bool is_error;
        lh__s3_error e;
        lh_rc rc = lh__s3_xml_complete(body, len, etag, &is_error, &e, &err);
        if (rc == LH_OK && !is_error) {
            check_etag(etag);
        }
        if (rc != LH_OK) {
            check_failure(rc, &err);
        }
        break;
    }
    case 4: {
        char etag[LH_IO_ETAG_MAX];
        if (lh__s3_etag_norm(body, len, etag)) {
            check_etag(etag);
        }
        break;
    }
    default: {
        char *v = NULL;
        if (lh__s3_ini_get(body, len, "profile x", "region", &v) == LH_OK &&
            v != NULL && (strchr(v, '\n') != NULL)) {
            fail("a value runs past its line");
        }
        lh_free(v);
        break;
    }
    }
    return 0;
}
