/*
 * The S3-compatible store: internals shared by s3.c (requests, retries,
 * the operations), s3_conf.c (URI, environment, shared config files) and
 * s3_xml.c (the XML bodies S3 answers with).
 *
 * Requests. Every operation is one or a few HTTP requests made with a
 * libcurl easy handle taken from the store's pool (handles keep their
 * connections alive between requests, so a busy store reuses connections;
 * a CURLSH shares the DNS cache and TLS sessions between the handles).
 * libcurl signs each request with SigV4 (CURLOPT_AWS_SIGV4,
 * "aws:amz:REGION:s3", the keys through CURLOPT_USERNAME/PASSWORD, a
 * session token as an x-amz-security-token header, which libcurl signs
 * like every header we add). libcurl 7.88 signs the path and the query
 * string exactly as they appear in the URL, so we write both in SigV4's
 * canonical form ourselves: every key segment percent-encoded except
 * A-Z a-z 0-9 - . _ ~ (and '/'), query parameters sorted by name, each
 * with an '=' (uploads=, not uploads). We also send x-amz-content-sha256
 * with the SHA-256 of the body, which libcurl then signs as the payload
 * hash (without it, 7.88 signs the hash of an empty body for uploads).
 * tests/io/test_io.c checks the result against AWS's worked example and
 * against botocore's S3SigV4Auth on every kind of request we send.
 *
 * libcurl 7.88 and x-amz-date: when the request carries an X-Amz-Date
 * header of ours (any case), libcurl signs with that time, but it also
 * sends its own copy of the header, so the header goes out twice. The
 * store therefore never sets it: libcurl stamps the time. Only the tests
 * fix the date (lh__io_s3_test_set), to reproduce AWS's worked example.
 *
 * Retries. A request is tried up to 1 + retries times when the answer is
 * 5xx or 429, or the transfer failed (timeout, refused or reset
 * connection, nothing received), never on another status; between tries
 * the store sleeps a random time in [0, min(cap, base * 2^try)) ("full
 * jitter"). Every answer except a 5xx, 429 or transport failure is final.
 *
 * Retried conditional writes. When a try of a conditional PUT (or of a
 * CompleteMultipartUpload) may have been applied though its answer was
 * lost (a timeout, a reset after the request was sent, or a 5xx), a later
 * try can see our own write and get 412 (or 404 NoSuchUpload). So every
 * conditional PUT and every multipart upload carries a random write id as
 * metadata (x-amz-meta-lh-write-id); when a retried request fails its
 * condition after such a try, the store HEADs the object: our write id
 * there means our write landed, and the call returns LH_OK with that
 * object's info. Otherwise it is the conflict it looks like, and the
 * message says that an earlier try's outcome was unknown (our write may
 * have landed and been replaced since), so the caller is not misled.
 *
 * Keys: the store's prefix (from the URI) is prepended to every key and
 * stripped from listed keys; listed keys the lh_io key rules refuse
 * (directory markers "a/", "a//b") are left out of pages.
 */
#ifndef LH_IO_S3_INT_H
#define LH_IO_S3_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "io/io_int.h"

/* S3's bounds: parts of 5 MiB at least (but the last), 5 GiB at most, and
 * a single PUT of 5 GiB at most. */
#define LH__S3_PART_MIN ((uint64_t)5 << 20)
#define LH__S3_PUT_MAX ((uint64_t)5 << 30)

/* ---- configuration (s3_conf.c) ------------------------------------------ */

/* Everything a store needs to know, resolved from the URI, the environment
 * and the shared config files (grammar in io.h). Strings are lh_malloc'd
 * (NULL when absent). */
typedef struct lh__s3_conf {
    char *bucket;
    char *prefix; /* "" or "dir/sub/" (with the final '/') */
    char *scheme; /* "http" or "https" */
    char *host;   /* host[:port] of the endpoint, without the bucket */
    bool virtual_style;
    char *region; /* the signing region ("auto" allowed) */
    char *access_key;
    char *secret_key;
    char *token;             /* session token or NULL */
    char *profile;           /* the profile that was read, for messages */
    long timeout_ms;         /* per try, 0 = none */
    long connect_timeout_ms; /* 0 = libcurl's */
    long retries;
    long retry_base_ms;
    long retry_cap_ms;
    uint64_t multipart_threshold;
    uint64_t part_size;
} lh__s3_conf;

/* Parses an "s3://..." URI and fills c from it, the environment and the
 * shared config files. LH_EINVAL naming the URI and what is wrong with it;
 * LH_EIO when a config file exists but cannot be read. */
lh_rc lh__s3_conf_load(const char *uri, lh__s3_conf *c, lh_err *err);
void lh__s3_conf_release(lh__s3_conf *c);

/* The value of `name` in section `section` of an INI text as AWS's shared
 * files write it ("[default]", "[profile x]", "key = value", '#' and ';'
 * comments, indented lines continue a nested block and are skipped).
 * Returns an lh_malloc'd copy (*out NULL when absent). LH_ENOMEM only. */
lh_rc lh__s3_ini_get(const char *text, size_t len, const char *section,
                     const char *name, char **out);

/* ---- XML bodies (s3_xml.c) ---------------------------------------------- */

/* An <Error> body: S3's Code and Message (cut to fit, "" when absent). */
typedef struct lh__s3_error {
    char code[64];
    char message[256];
} lh__s3_error;

/* A ListBucketResult (ListObjectsV2). Keys are full (with the store's
 * prefix); everything lives in the arena given. */
typedef struct lh__s3_listing {
    lh_io_entry *entries;
    size_t count;
    bool truncated;
    const char *next_token; /* NULL when absent */
} lh__s3_listing;

/* Each parser takes the body as received. LH_EIO "malformed ... response"
 * for anything else than the document it expects (wrong root, bad XML, a
 * DTD, a missing or bad field), LH_ENOMEM. No parser trusts a length or a
 * count from the body. */
/* LH_OK and e filled when the body is an <Error> document, else LH_EIO. */
lh_rc lh__s3_xml_error(const char *body, size_t len, lh__s3_error *e);
lh_rc lh__s3_xml_list(const char *body, size_t len, lh_arena *a,
                      lh__s3_listing *out, lh_err *err);
/* *upload_id is lh_malloc'd. */
lh_rc lh__s3_xml_initiate(const char *body, size_t len, char **upload_id,
                          lh_err *err);
/* The ETag (quoted) of a CompleteMultipartUploadResult, *is_error false.
 * A 200 answer to CompleteMultipartUpload may carry an <Error> instead
 * (S3 does that when the assembly fails after the answer began): then
 * LH_OK with *is_error true and e filled. */
lh_rc lh__s3_xml_complete(const char *body, size_t len,
                          char etag[LH_IO_ETAG_MAX], bool *is_error,
                          lh__s3_error *e, lh_err *err);

/* An ETag as a header or a listing gives it, quoted (added when missing);
 * false when it is empty or does not fit. */
bool lh__s3_etag_norm(const char *s, size_t n, char etag[LH_IO_ETAG_MAX]);

/* ---- test hooks (s3.c) -------------------------------------------------- */

/* For tests only: connect_to ("HOST:PORT:ADDR:PORT2", libcurl's
 * CURLOPT_CONNECT_TO) sends requests for HOST:PORT to ADDR:PORT2 with the
 * Host header unchanged; amz_date ("20130524T000000Z") fixes the signing
 * time (sent as an X-Amz-Date header, see the top of this file). NULL
 * clears either. Not thread-safe: call before the store is used. */
lh_rc lh__io_s3_test_set(lh_io_store *s, const char *connect_to,
                         const char *amz_date);
/* HTTP requests the store has sent, retries included. */
uint64_t lh__io_s3_requests(lh_io_store *s);

#endif
