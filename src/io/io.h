/*
 * io: the object store. One interface (a table of function pointers, like
 * sqlite3_io_methods) with one file per implementation: the local
 * filesystem (local.c, the default), an in-memory store with fault
 * injection for tests (mem.c), and S3-compatible stores over libcurl
 * (s3.c; its design is at the top of s3_int.h).
 *
 * Keys are '/'-separated relative paths of at most LH_IO_KEY_MAX bytes: not
 * empty, not starting with '/', no empty, "." or ".." segment, no NUL, and
 * no segment starting with ".lh-io" (reserved for the local store's lock,
 * temporary and multipart files). A bad key is LH_EINVAL naming the key,
 * from every call that takes one.
 *
 * ETags are opaque strings in double quotes, as S3 sends them; compare them
 * byte for byte. The local and memory stores use the XXH3-128 hash of the
 * content in lowercase hex, so equal content has equal ETags. S3 uses the
 * MD5 of a plainly put object (also equal for equal content) but another
 * form for multipart uploads and encrypted objects.
 *
 * Errors, from every call: LH_EINVAL (bad key or argument), LH_ENOMEM, LH_EIO
 * (the OS or the remote failed; err->sys_errno or err->http_status says
 * how), plus the codes listed at each call. `err` may be NULL everywhere.
 *
 * Thread rules: a store may be used from any number of threads at once;
 * an lh_io_upload by one thread at a time. Conditional writes are atomic
 * against other threads and, for the local store, other processes.
 *
 * The S3 store maps a final HTTP answer to codes this way (err->http_status
 * holds the status, the message S3's error Code and Message):
 *   404                    LH_ENOENT (put_if_match: LH_ECONFLICT; delete of
 *                          a missing key: LH_OK)
 *   412                    put_if_absent: LH_EEXIST; put_if_match:
 *                          LH_ECONFLICT naming both ETags
 *   409                    LH_ECONFLICT (a concurrent conditional write)
 *   400, 411, 416          LH_EINVAL (416: "range not satisfiable")
 *   413, EntityTooLarge    LH_ELIMIT
 *   405, 501               LH_EUNSUPPORTED (e.g. a store without
 *                          conditional writes or without AbortMultipartUpload)
 *   401, 403, 301, other   LH_EIO
 *   429, 5xx               retried; LH_EIO when the tries run out
 * Transport failures (timeouts, refused or reset connections) are retried
 * too, then give LH_ETIMEDOUT (a timeout) or LH_EIO. No other 4xx is
 * retried. A retried conditional write that finds its own earlier try
 * applied returns LH_OK (s3_int.h says how it knows); when it cannot tell,
 * the conflict's message says that an earlier try's outcome is unknown.
 */
#ifndef LH_IO_H
#define LH_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* S3's limit on key length. */
#define LH_IO_KEY_MAX 1024
/* Room for an ETag with its quotes and NUL: XXH3-128 is 34 bytes quoted;
 * S3 multipart ETags are an MD5 hex plus "-<parts>" (at most 42). */
#define LH_IO_ETAG_MAX 80
/* Length meaning "to the end of the object" for lh_io_get_range. */
#define LH_IO_TO_END UINT64_MAX
/* S3's part numbers. */
#define LH_IO_PART_MIN 1
#define LH_IO_PART_MAX 10000

typedef struct lh_io_store lh_io_store;
typedef struct lh_io_upload lh_io_upload;

/* What head, get and the writes report about an object. */
typedef struct lh_io_info {
    uint64_t size;
    char etag[LH_IO_ETAG_MAX]; /* quoted, NUL-terminated */
    lh_us mtime;               /* last modification, µs since the epoch */
} lh_io_info;

/* One key of a listing; key is allocated in the listing's arena. */
typedef struct lh_io_entry {
    const char *key;
    uint64_t size;
    char etag[LH_IO_ETAG_MAX];
} lh_io_entry;

/* Which keys to list: those starting with prefix ("" or NULL = all), in
 * byte order, after start_after (NULL = from the first) and after the
 * position of token (NULL = first page; else a previous page's next_token),
 * at most max_keys of them (0 = 1000, S3's default and maximum). */
typedef struct lh_io_list_opts {
    const char *prefix;
    const char *start_after;
    const char *token;
    size_t max_keys;
} lh_io_list_opts;

/* One page of a listing; everything in it lives in the arena passed to
 * lh_io_list. next_token is NULL on the last page. */
typedef struct lh_io_page {
    lh_io_entry *entries;
    size_t count;
    const char *next_token;
} lh_io_page;

/* What an implementation provides. Keys reach it already validated; the
 * public functions below are the only callers. Each method has the
 * contract of the lh_io_ function of the same name. */
typedef struct lh_io_methods {
    const char *name; /* "local", "mem", "s3" */
    lh_rc (*get)(lh_io_store *s, const char *key, uint64_t off, uint64_t len,
                 lh_buf *out, lh_io_info *info, lh_err *err);
    lh_rc (*head)(lh_io_store *s, const char *key, lh_io_info *info,
                  lh_err *err);
    /* if_match NULL: unconditional put; if_absent: put_if_absent. */
    lh_rc (*put)(lh_io_store *s, const char *key, const void *data, size_t len,
                 bool if_absent, const char *if_match, lh_io_info *info,
                 lh_err *err);
    lh_rc (*del)(lh_io_store *s, const char *key, lh_err *err);
    lh_rc (*list)(lh_io_store *s, const lh_io_list_opts *opts, lh_arena *a,
                  lh_io_page *page, lh_err *err);
    lh_rc (*upload_begin)(lh_io_store *s, const char *key, lh_io_upload **out,
                          lh_err *err);
    lh_rc (*upload_part)(lh_io_upload *u, int part, const void *data,
                         size_t len, lh_err *err);
    /* Both free u, whatever they return. */
    lh_rc (*upload_complete)(lh_io_upload *u, lh_io_info *info, lh_err *err);
    lh_rc (*upload_abort)(lh_io_upload *u, lh_err *err);
    void (*close)(lh_io_store *s);
    /* Optional (NULL: the store has no files): the file holding key. */
    lh_rc (*local_path)(lh_io_store *s, const char *key, lh_buf *out,
                        lh_err *err);
} lh_io_methods;

/* A store: the methods and the implementation's state. Made by lh_io_open
 * (or an implementation's own constructor), freed by lh_io_close. */
struct lh_io_store {
    const lh_io_methods *m;
    void *impl;
};

/* ---- opening ------------------------------------------------------------ */

/* Opens the store a URI names:
 *   "file:///abs/dir" or a plain path  the local store rooted at that
 *                                      directory, which must exist
 *                                      (LH_ENOENT otherwise);
 *   "mem://name"                       a new, empty memory store (the name
 *                                      is a label; each call makes a new
 *                                      store);
 *   "s3://bucket[/prefix][?k=v&...]"   an S3-compatible store (below).
 * Other schemes are LH_EINVAL. *out is the caller's, to lh_io_close.
 *
 * The S3 URI. Keys live under "prefix/" in the bucket (no prefix: at the
 * bucket's top). Parameters (values percent-encoded; each at most once;
 * an unknown one is LH_EINVAL):
 *   endpoint=http[s]://host[:port]  the server (no path). Default:
 *       $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, the profile's
 *       endpoint_url, else AWS (https://s3.REGION.amazonaws.com, or
 *       s3.amazonaws.com for us-east-1)
 *   region=NAME        the signing region; "auto" (Cloudflare R2) needs an
 *       endpoint. Default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's
 *       region, else us-east-1
 *   style=path|virtual addressing: http://host/bucket/key or
 *       http://bucket.host/key. Default: path with an endpoint (MinIO,
 *       Ceph, R2, s3rver), virtual for AWS
 *   profile=NAME       the profile of the shared files (default
 *       $AWS_PROFILE, else "default")
 *   timeout_ms=N       each try's time limit (default 0: none; a transfer
 *       that moves no byte for 30 s fails anyway)
 *   connect_timeout_ms=N (default 10000)
 *   retries=N          tries after the first (default 4, at most 100)
 *   retry_base_ms=N, retry_cap_ms=N  the backoff (default 100, 5000)
 *   multipart_threshold=SIZE  lh_io_put of more bytes than this uploads in
 *       parts (default 64MiB; conditional puts never do)
 *   part_size=SIZE     their size (default 16MiB, at least 5MiB)
 * SIZE is bytes with an optional K, M or G (binary) suffix.
 * Credentials: $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY (with
 * $AWS_SESSION_TOKEN) unless the URI names a profile; else the profile's
 * aws_access_key_id, aws_secret_access_key and aws_session_token from the
 * credentials file ($AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials,
 * section [NAME]) or the config file ($AWS_CONFIG_FILE, else
 * ~/.aws/config, section [profile NAME] or [default]); with none, requests
 * go unsigned (public buckets). A profile named but found in neither file
 * is LH_EINVAL. The environment and the files are read once, at open. */
lh_rc lh_io_open(const char *uri, lh_io_store **out, lh_err *err);
/* The same, one implementation each. */
lh_rc lh_io_local_open(const char *root, lh_io_store **out, lh_err *err);
lh_rc lh_io_mem_open(lh_io_store **out, lh_err *err);
lh_rc lh_io_s3_open(const char *uri, lh_io_store **out, lh_err *err);
/* Frees the store. Uploads still open must be completed or aborted first.
 * NULL is a no-op. */
void lh_io_close(lh_io_store *s);

/* LH_OK or LH_EINVAL naming the key (rules at the top of this file). The
 * calls below take keys as C strings, which cannot hold a NUL: a key from
 * outside, given as (ptr, len), goes through lh_io_key_check_n first, which
 * refuses a NUL anywhere in it. */
lh_rc lh_io_key_check(const char *key, lh_err *err);
lh_rc lh_io_key_check_n(const char *key, size_t len, lh_err *err);

/* ---- reading ------------------------------------------------------------ */

/* Replaces out's contents (the caller's buffer: it frees it) with the
 * object. info (may be NULL) gets the object's size, ETag and mtime.
 * LH_ENOENT when there is no such key. */
lh_rc lh_io_get(lh_io_store *s, const char *key, lh_buf *out, lh_io_info *info,
                lh_err *err);
/* As lh_io_get, the bytes [off, off + len) only. A range running past the
 * end is cut at the end, as HTTP does; len = LH_IO_TO_END reads to the end.
 * An offset at or past the end (except 0 on an empty object) is LH_EINVAL
 * "range not satisfiable". info->size is the whole object's size. */
lh_rc lh_io_get_range(lh_io_store *s, const char *key, uint64_t off,
                      uint64_t len, lh_buf *out, lh_io_info *info, lh_err *err);
/* The file system path of key's object when the store keeps objects as
 * files (the local store), into out (the caller's buffer), so a reader can
 * map the file and touch only the bytes it needs; the object need not
 * exist. LH_EUNSUPPORTED for stores without files (memory, S3): read them
 * with lh_io_get_range. The file is the store's: read it, never write. */
lh_rc lh_io_local_path(lh_io_store *s, const char *key, lh_buf *out,
                       lh_err *err);
/* Size, ETag and mtime. LH_ENOENT when there is no such key. */
lh_rc lh_io_head(lh_io_store *s, const char *key, lh_io_info *info,
                 lh_err *err);

/* A page of the keys that opts selects (opts may be NULL: all keys, first
 * page). Entries, keys and next_token are allocated in `a` (the caller's;
 * they live until it is reset); on failure `page` is empty. Listing is not
 * a snapshot: keys written meanwhile may or may not show. A token is only
 * good for the store that gave it (S3's are opaque). On S3, keys that the
 * rules above refuse (another tool's "dir/" markers, "a//b") are left out,
 * so a page may hold fewer than max_keys entries, even none, and still
 * have a next_token. */
lh_rc lh_io_list(lh_io_store *s, const lh_io_list_opts *opts, lh_arena *a,
                 lh_io_page *page, lh_err *err);

/* ---- writing ------------------------------------------------------------ */

/* Creates or replaces the object with data[0..len) (copied; the caller
 * keeps data). Readers see the old object or the new one, never a mix,
 * and after LH_OK the object survives a crash. info (may be NULL) gets the
 * new object's size, ETag and mtime. LH_ENOSPC: the store is full and
 * nothing was written. */
lh_rc lh_io_put(lh_io_store *s, const char *key, const void *data, size_t len,
                lh_io_info *info, lh_err *err);
/* As lh_io_put, only when the key does not exist: LH_EEXIST otherwise (and
 * nothing written). Of racing writers exactly one succeeds. */
lh_rc lh_io_put_if_absent(lh_io_store *s, const char *key, const void *data,
                          size_t len, lh_io_info *info, lh_err *err);
/* As lh_io_put, only when the object's ETag is `etag` (quoted, as head
 * gave it): LH_ECONFLICT naming both ETags otherwise, and LH_ECONFLICT too
 * when the object does not exist. Of writers racing from the same ETag
 * exactly one succeeds. */
lh_rc lh_io_put_if_match(lh_io_store *s, const char *key, const void *data,
                         size_t len, const char *etag, lh_io_info *info,
                         lh_err *err);
/* Deletes the object; a missing key is LH_OK, as in S3. */
lh_rc lh_io_delete(lh_io_store *s, const char *key, lh_err *err);

/* ---- multipart upload ---------------------------------------------------- */

/* Starts an upload of key. *out is the caller's until it passes it to
 * lh_io_upload_complete or lh_io_upload_abort, which free it. Nothing is
 * visible under key until complete. */
lh_rc lh_io_upload_begin(lh_io_store *s, const char *key, lh_io_upload **out,
                         lh_err *err);
/* Stores part number `part` (LH_IO_PART_MIN..LH_IO_PART_MAX, else
 * LH_EINVAL) from data[0..len) (copied). Parts may come in any order; a
 * part sent twice replaces the first. S3 wants every part but the last to
 * be at least 5 MiB; the local and memory stores take any size.
 * LH_ENOSPC: the part was not stored (the upload stays usable). */
lh_rc lh_io_upload_part(lh_io_upload *u, int part, const void *data, size_t len,
                        lh_err *err);
/* Publishes the parts in part-number order as one object, atomically as
 * lh_io_put does, and frees u. LH_EINVAL when no part was sent. On any
 * failure the upload is aborted (nothing published, the parts removed). */
lh_rc lh_io_upload_complete(lh_io_upload *u, lh_io_info *info, lh_err *err);
/* Drops the parts and frees u; nothing is published. NULL is a no-op. */
lh_rc lh_io_upload_abort(lh_io_upload *u, lh_err *err);

/* ---- memory store fault injection (tests) ------------------------------- */

/* These apply to stores from lh_io_mem_open / "mem://" only (LH_EINVAL
 * otherwise). Every call that reaches the store (past the argument
 * checks: a bad key is not counted) counts as one, and calls on an upload
 * count against its store. */

/* The Nth call from now (1 = the next) fails with `code` and err's
 * http_status set to http_status (0 for none; 503 to act like a throttled
 * S3), without touching the store. n = 0 turns it off. */
lh_rc lh_io_mem_fail_nth(lh_io_store *s, uint64_t n, lh_rc code,
                         int http_status);
/* Each call fails with probability percent/100 (LH_EIO, http_status 503),
 * drawn from a generator seeded with seed, so runs repeat. 0 = off. */
lh_rc lh_io_mem_fail_rate(lh_io_store *s, unsigned percent, uint64_t seed);
/* Each call sleeps usec microseconds first (0 = off). */
lh_rc lh_io_mem_set_latency(lh_io_store *s, uint64_t usec);
/* Calls made on the store since it was opened (failed ones too). */
uint64_t lh_io_mem_calls(lh_io_store *s);

#endif
