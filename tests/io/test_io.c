/* Unit tests: the object store. One contract suite runs against every
 * store (each test gets a fresh store from a factory: a temporary
 * directory, a memory store, a new bucket of a real s3rver on loopback);
 * then what only the local store promises (crash safety, a full disk,
 * other processes, temporary files of killed writers) and the memory
 * store's fault injection. What only the S3 store does (signatures,
 * retries, configuration) is in test_s3.c. */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io/io.h"
#include "s3_peer.h"

/* ---- fixtures ------------------------------------------------------------ */

typedef enum kind { LOCAL, MEM, S3 } kind;

typedef struct factory {
    const char *name;
    kind kind;
    /* The store honours If-None-Match / If-Match. s3rver ignores both on
     * PUT (LIBRARY-NOTES.md), so the conditional tests skip there; their
     * request shape and the status mapping are tested in test_s3.c. */
    bool conditional;
    /* A multipart object's ETag equals that of the same bytes put whole
     * (true of XXH3 ETags; not of S3's, which hash the parts' MD5s). */
    bool content_etag;
    /* The store has AbortMultipartUpload (s3rver answers 405). */
    bool has_abort;
    /* The size every multipart part but the last must have (S3: 5 MiB). */
    size_t min_part;
    /* Listings come in byte order, as S3's do. s3rver keeps objects as
     * directories and lists in the order of a depth-first walk ("o/a/b"
     * before "o/a-b"), so that one check skips there. */
    bool byte_order;
} factory;

static const factory local_factory = {"local", LOCAL, true, true,
                                      true,    0,     true};
static const factory mem_factory = {"mem", MEM, true, true, true, 0, true};
static const factory s3_factory = {"s3",  S3,       false, false,
                                   false, 5u << 20, false};

/* The s3rver the s3 group runs against (started in main). */
static s3peer peer;
static int buckets_made;

typedef struct fixture {
    const factory *f;
    lh_io_store *s;
    char dir[64]; /* the local store's root */
} fixture;

static void
rm_rf(const char *path)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", path);
    }
}

static int
setup(void **state)
{
    const factory *f = *state;
    fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    fx->f = f;
    lh_err err;
    if (f->kind == LOCAL) {
        strcpy(fx->dir, "/tmp/lh-io-test.XXXXXX");
        assert_non_null(mkdtemp(fx->dir));
        char uri[96];
        snprintf(uri, sizeof(uri), "file://%s", fx->dir);
        assert_int_equal(lh_io_open(uri, &fx->s, &err), LH_OK);
    } else if (f->kind == MEM) {
        assert_int_equal(lh_io_open("mem://test", &fx->s, &err), LH_OK);
    } else {
        char bucket[32], uri[256];
        snprintf(bucket, sizeof(bucket), "lh-test-%03d", ++buckets_made);
        assert_true(s3peer_make_bucket(&peer, bucket));
        s3peer_uri(&peer, bucket, NULL, uri, sizeof(uri));
        lh_rc rc = lh_io_open(uri, &fx->s, &err);
        if (rc != LH_OK) {
            fail_msg("open %s: %s", uri, err.msg);
        }
    }
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    fixture *fx = *state;
    lh_io_close(fx->s);
    if (fx->f->kind == LOCAL) {
        rm_rf(fx->dir);
    }
    free(fx);
    return 0;
}

static void
put_ok(lh_io_store *s, const char *key, const char *text, lh_io_info *info)
{
    lh_err err;
    lh_rc rc = lh_io_put(s, key, text, strlen(text), info, &err);
    if (rc != LH_OK) {
        fail_msg("put \"%s\": %s: %s", key, lh_rc_name(rc), err.msg);
    }
}

static void
expect_content(lh_io_store *s, const char *key, const char *text)
{
    lh_buf b = LH_BUF_INIT;
    lh_err err;
    lh_rc rc = lh_io_get(s, key, &b, NULL, &err);
    if (rc != LH_OK) {
        fail_msg("get \"%s\": %s: %s", key, lh_rc_name(rc), err.msg);
    }
    assert_int_equal(b.len, strlen(text));
    assert_memory_equal(b.data != NULL ? b.data : "", text, b.len);
    lh_buf_release(&b);
}

/* Number of keys a full listing of prefix shows, paging by `page`. */
static size_t
count_keys(lh_io_store *s, const char *prefix, size_t page)
{
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_io_list_opts o = {.prefix = prefix, .max_keys = page};
    size_t total = 0;
    for (;;) {
        lh_io_page p;
        lh_err err;
        lh_rc rc = lh_io_list(s, &o, &a, &p, &err);
        if (rc != LH_OK) {
            fail_msg("list \"%s\": %s: %s", prefix, lh_rc_name(rc), err.msg);
        }
        total += p.count;
        if (p.next_token == NULL) {
            break;
        }
        o.token = p.next_token;
    }
    lh_arena_release(&a);
    return total;
}

/* ---- the contract -------------------------------------------------------- */

static void
test_put_get_head(void **state)
{
    fixture *fx = *state;
    lh_io_store *s = fx->s;
    lh_io_info put1, got, head;
    lh_err err;
    lh_buf b = LH_BUF_INIT;

    put_ok(s, "a/b/c.txt", "hello", &put1);
    assert_int_equal(put1.size, 5);
    assert_int_equal(strlen(put1.etag), 34);
    assert_int_equal(put1.etag[0], '"');
    assert_int_equal(put1.etag[33], '"');
    assert_true(put1.mtime > 0);

    assert_int_equal(lh_io_get(s, "a/b/c.txt", &b, &got, &err), LH_OK);
    assert_string_equal(b.data, "hello");
    assert_int_equal(got.size, 5);
    assert_string_equal(got.etag, put1.etag);
    assert_int_equal(lh_io_head(s, "a/b/c.txt", &head, &err), LH_OK);
    assert_int_equal(head.size, 5);
    assert_string_equal(head.etag, put1.etag);

    /* Overwrite: new content, new ETag; the same content, the same ETag. */
    lh_io_info put2;
    put_ok(s, "a/b/c.txt", "world!", &put2);
    assert_string_not_equal(put2.etag, put1.etag);
    expect_content(s, "a/b/c.txt", "world!");
    lh_io_info other;
    put_ok(s, "other", "world!", &other);
    assert_string_equal(other.etag, put2.etag);

    /* Empty objects exist. */
    put_ok(s, "empty", "", NULL);
    assert_int_equal(lh_io_get(s, "empty", &b, &got, &err), LH_OK);
    assert_int_equal(b.len, 0);
    assert_int_equal(got.size, 0);

    assert_int_equal(lh_io_get(s, "a/b/missing", &b, NULL, &err), LH_ENOENT);
    assert_non_null(strstr(err.msg, "a/b/missing"));
    assert_int_equal(lh_io_head(s, "nope", &head, &err), LH_ENOENT);
    /* A "directory" of the local store is no object. */
    assert_int_equal(lh_io_head(s, "a/b", &head, &err), LH_ENOENT);
    lh_buf_release(&b);
}

static void
test_range(void **state)
{
    fixture *fx = *state;
    lh_io_store *s = fx->s;
    lh_buf b = LH_BUF_INIT;
    lh_io_info info;
    lh_err err;
    put_ok(s, "r", "0123456789", NULL);

    assert_int_equal(lh_io_get_range(s, "r", 2, 3, &b, &info, &err), LH_OK);
    assert_string_equal(b.data, "234");
    assert_int_equal(info.size, 10);
    assert_int_equal(lh_io_get_range(s, "r", 8, 100, &b, NULL, &err), LH_OK);
    assert_string_equal(b.data, "89");
    assert_int_equal(lh_io_get_range(s, "r", 0, LH_IO_TO_END, &b, NULL, &err),
                     LH_OK);
    assert_string_equal(b.data, "0123456789");
    assert_int_equal(lh_io_get_range(s, "r", 9, 0, &b, NULL, &err), LH_OK);
    assert_int_equal(b.len, 0);

    assert_int_equal(lh_io_get_range(s, "r", 10, 1, &b, NULL, &err), LH_EINVAL);
    assert_non_null(strstr(err.msg, "range not satisfiable"));
    assert_int_equal(lh_io_get_range(s, "r", 1000, 1, &b, NULL, &err),
                     LH_EINVAL);
    assert_int_equal(lh_io_get_range(s, "zz", 0, 1, &b, NULL, &err), LH_ENOENT);

    /* A range of a large object crossing read chunks. */
    size_t n = 300000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++) {
        big[i] = (char)('a' + i % 23);
    }
    big[n] = '\0';
    put_ok(s, "big", big, NULL);
    assert_int_equal(lh_io_get_range(s, "big", 65530, 70000, &b, &info, &err),
                     LH_OK);
    assert_int_equal(b.len, 70000);
    assert_memory_equal(b.data, big + 65530, 70000);
    assert_int_equal(info.size, n);
    free(big);
    lh_buf_release(&b);
}

static void
test_put_if_absent(void **state)
{
    fixture *fx = *state;
    if (!fx->f->conditional) {
        print_message("skipped on %s: it ignores If-None-Match / If-Match on "
                      "PUT (LIBRARY-NOTES.md; test_s3.c checks the requests "
                      "and the status mapping)\n",
                      fx->f->name);
        skip();
    }
    lh_io_store *s = fx->s;
    lh_err err;
    lh_io_info info;
    assert_int_equal(lh_io_put_if_absent(s, "x/once", "1", 1, &info, &err),
                     LH_OK);
    assert_int_equal(info.size, 1);
    assert_int_equal(lh_io_put_if_absent(s, "x/once", "22", 2, NULL, &err),
                     LH_EEXIST);
    assert_non_null(strstr(err.msg, "x/once"));
    expect_content(s, "x/once", "1");
    /* Nothing of the refused write is left to list. */
    assert_int_equal(count_keys(s, "", 0), 1);
}

static void
test_put_if_match(void **state)
{
    fixture *fx = *state;
    if (!fx->f->conditional) {
        print_message("skipped on %s: it ignores If-None-Match / If-Match on "
                      "PUT (LIBRARY-NOTES.md; test_s3.c checks the requests "
                      "and the status mapping)\n",
                      fx->f->name);
        skip();
    }
    lh_io_store *s = fx->s;
    lh_err err;
    lh_io_info v1, v2;
    put_ok(s, "m", "v1", &v1);
    assert_int_equal(lh_io_put_if_match(s, "m", "v2", 2, v1.etag, &v2, &err),
                     LH_OK);
    assert_string_not_equal(v1.etag, v2.etag);
    expect_content(s, "m", "v2");

    /* A stale ETag: the message names both. */
    assert_int_equal(lh_io_put_if_match(s, "m", "v3", 2, v1.etag, NULL, &err),
                     LH_ECONFLICT);
    assert_non_null(strstr(err.msg, v1.etag));
    assert_non_null(strstr(err.msg, v2.etag));
    expect_content(s, "m", "v2");

    /* A missing object does not match anything. */
    assert_int_equal(lh_io_put_if_match(s, "gone", "v", 1, v1.etag, NULL, &err),
                     LH_ECONFLICT);
    assert_int_equal(lh_io_head(s, "gone", &v2, &err), LH_ENOENT);
    assert_int_equal(lh_io_put_if_match(s, "m", "v", 1, "", NULL, &err),
                     LH_EINVAL);
    assert_int_equal(count_keys(s, "", 0), 1);
}

static void
test_delete(void **state)
{
    fixture *fx = *state;
    lh_io_store *s = fx->s;
    lh_err err;
    lh_io_info info;
    put_ok(s, "d/1", "x", NULL);
    put_ok(s, "d/2", "y", NULL);
    assert_int_equal(lh_io_delete(s, "d/1", &err), LH_OK);
    assert_int_equal(lh_io_head(s, "d/1", &info, &err), LH_ENOENT);
    assert_int_equal(lh_io_delete(s, "d/1", &err), LH_OK);
    assert_int_equal(lh_io_delete(s, "never/was", &err), LH_OK);
    expect_content(s, "d/2", "y");
    assert_int_equal(count_keys(s, "", 0), 1);
}

static void
test_list(void **state)
{
    fixture *fx = *state;
    lh_io_store *s = fx->s;
    lh_err err;
    char key[64];
    for (int i = 249; i >= 0; i--) {
        snprintf(key, sizeof(key), "p/%03d", i);
        put_ok(s, key, key, NULL);
    }
    put_ok(s, "p2", "x", NULL);
    put_ok(s, "pa/b", "x", NULL);
    put_ok(s, "q/x", "x", NULL);
    /* Byte order across "directories": '-' < '/' < '0'. */
    put_ok(s, "o/a0", "x", NULL);
    put_ok(s, "o/a/b", "x", NULL);
    put_ok(s, "o/a-b", "x", NULL);

    lh_arena a;
    lh_arena_init(&a, 0);
    lh_io_list_opts o = {.prefix = "p/", .max_keys = 100};
    lh_io_page p;
    size_t sizes[3] = {100, 100, 50};
    int next = 0;
    for (int page = 0; page < 3; page++) {
        assert_int_equal(lh_io_list(s, &o, &a, &p, &err), LH_OK);
        assert_int_equal(p.count, sizes[page]);
        for (size_t i = 0; i < p.count; i++) {
            snprintf(key, sizeof(key), "p/%03d", next++);
            assert_string_equal(p.entries[i].key, key);
            assert_int_equal(p.entries[i].size, 5);
            lh_io_info h;
            assert_int_equal(lh_io_head(s, key, &h, &err), LH_OK);
            assert_string_equal(p.entries[i].etag, h.etag);
        }
        if (page < 2) {
            assert_non_null(p.next_token);
        } else {
            assert_null(p.next_token);
        }
        o.token = p.next_token;
    }

    o = (lh_io_list_opts){.prefix = "o/"};
    assert_int_equal(lh_io_list(s, &o, &a, &p, &err), LH_OK);
    assert_int_equal(p.count, 3);
    if (fx->f->byte_order) {
        assert_string_equal(p.entries[0].key, "o/a-b");
        assert_string_equal(p.entries[1].key, "o/a/b");
        assert_string_equal(p.entries[2].key, "o/a0");
    } else {
        print_message("%s: listing order across directories not checked "
                      "(s3rver walks its directories depth-first)\n",
                      fx->f->name);
    }

    o = (lh_io_list_opts){.prefix = "p/", .start_after = "p/239"};
    assert_int_equal(lh_io_list(s, &o, &a, &p, &err), LH_OK);
    assert_int_equal(p.count, 10);
    assert_string_equal(p.entries[0].key, "p/240");

    assert_int_equal(count_keys(s, "p", 7), 252);
    assert_int_equal(count_keys(s, "p/1", 0), 100);
    assert_int_equal(count_keys(s, "p/24", 3), 10);
    assert_int_equal(count_keys(s, "", 1000), 256);
    assert_int_equal(count_keys(s, "", 0), 256);
    assert_int_equal(count_keys(s, "nothing/", 10), 0);
    assert_int_equal(count_keys(s, "q/x", 10), 1);
    lh_arena_release(&a);
}

/* n bytes of c, malloc'ed. */
static char *
filled(char c, size_t n)
{
    char *p = malloc(n + 1);
    assert_non_null(p);
    memset(p, c, n);
    p[n] = '\0';
    return p;
}

static void
test_multipart(void **state)
{
    fixture *fx = *state;
    lh_io_store *s = fx->s;
    lh_err err;
    lh_io_upload *u;
    lh_io_info info, same;
    /* Parts but the last are of the store's minimum size (3 bytes where
     * there is none, as "aaa"), the last is short. */
    size_t unit = fx->f->min_part > 0 ? fx->f->min_part : 3;
    char *a = filled('a', unit);
    char *b = filled('b', unit);
    char *B = filled('B', unit + 1);
    lh_buf want = LH_BUF_INIT;
    lh_buf_printf(&want, "%s%sccc", a, B);

    assert_int_equal(lh_io_upload_begin(s, "mp/obj", &u, &err), LH_OK);
    assert_int_equal(lh_io_upload_part(u, 3, "ccc", 3, &err), LH_OK);
    assert_int_equal(lh_io_upload_part(u, 1, a, unit, &err), LH_OK);
    assert_int_equal(lh_io_upload_part(u, 2, b, unit, &err), LH_OK);
    assert_int_equal(lh_io_upload_part(u, 2, B, unit + 1, &err), LH_OK);
    assert_int_equal(lh_io_upload_part(u, 0, "x", 1, &err), LH_EINVAL);
    assert_int_equal(lh_io_upload_part(u, 10001, "x", 1, &err), LH_EINVAL);
    assert_int_equal(lh_io_head(s, "mp/obj", &info, &err), LH_ENOENT);
    assert_int_equal(count_keys(s, "", 0), 0);
    assert_int_equal(lh_io_upload_complete(u, &info, &err), LH_OK);
    expect_content(s, "mp/obj", want.data);
    assert_int_equal(info.size, want.len);
    put_ok(s, "plain", want.data, &same);
    if (fx->f->content_etag) {
        assert_string_equal(info.etag, same.etag);
    }
    lh_io_info h;
    assert_int_equal(lh_io_head(s, "mp/obj", &h, &err), LH_OK);
    assert_string_equal(h.etag, info.etag);
    assert_int_equal(count_keys(s, "", 0), 2);

    /* Abort leaves nothing (s3rver has no AbortMultipartUpload: 405, and
     * its parts stay where no listing shows them). */
    assert_int_equal(lh_io_upload_begin(s, "mp/aborted", &u, &err), LH_OK);
    assert_int_equal(lh_io_upload_part(u, 1, "zzz", 3, &err), LH_OK);
    assert_int_equal(lh_io_upload_abort(u, &err),
                     fx->f->has_abort ? LH_OK : LH_EUNSUPPORTED);
    assert_int_equal(lh_io_head(s, "mp/aborted", &info, &err), LH_ENOENT);
    assert_int_equal(count_keys(s, "", 0), 2);
    assert_int_equal(lh_io_upload_abort(NULL, &err), LH_OK);

    /* No parts: refused, nothing published. */
    assert_int_equal(lh_io_upload_begin(s, "mp/none", &u, &err), LH_OK);
    assert_int_equal(lh_io_upload_complete(u, &info, &err), LH_EINVAL);
    assert_int_equal(lh_io_head(s, "mp/none", &info, &err), LH_ENOENT);

    /* Large parts, replacing an object. */
    size_t n = LH_MAX((size_t)200000, fx->f->min_part);
    char *part = malloc(n);
    assert_non_null(part);
    assert_int_equal(lh_io_upload_begin(s, "plain", &u, &err), LH_OK);
    for (int i = 4; i >= 1; i--) {
        memset(part, 'a' + i, n);
        assert_int_equal(lh_io_upload_part(u, i * 10, part, n, &err), LH_OK);
    }
    assert_int_equal(lh_io_upload_complete(u, &info, &err), LH_OK);
    assert_int_equal(info.size, 4 * n);
    lh_buf got = LH_BUF_INIT;
    assert_int_equal(lh_io_get(s, "plain", &got, NULL, &err), LH_OK);
    assert_int_equal(got.len, 4 * n);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(got.data[(size_t)i * n], 'b' + i);
        assert_int_equal(got.data[(size_t)i * n + n - 1], 'b' + i);
    }
    assert_int_equal(count_keys(s, "", 0), 2);
    lh_buf_release(&got);
    lh_buf_release(&want);
    free(part);
    free(a);
    free(b);
    free(B);
}

static void
test_bad_keys(void **state)
{
    fixture *fx = *state;
    lh_io_store *s = fx->s;
    lh_err err;
    lh_buf b = LH_BUF_INIT;
    lh_io_info info;
    lh_io_upload *u;
    static const char *bad[] = {
        "",
        "/abs",
        "a//b",
        "a/",
        "./a",
        "a/./b",
        "a/../b",
        "..",
        ".",
        "a/..",
        "x/.lh-io.lock",
        ".lh-io-multipart/x",
        "d/.lh-io-tmp.1",
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(bad); i++) {
        const char *k = bad[i];
        assert_int_equal(lh_io_put(s, k, "x", 1, NULL, &err), LH_EINVAL);
        assert_non_null(strstr(err.msg, k));
        assert_int_equal(lh_io_get(s, k, &b, NULL, &err), LH_EINVAL);
        assert_int_equal(lh_io_head(s, k, &info, &err), LH_EINVAL);
        assert_int_equal(lh_io_delete(s, k, &err), LH_EINVAL);
        assert_int_equal(lh_io_put_if_absent(s, k, "x", 1, NULL, &err),
                         LH_EINVAL);
        assert_int_equal(lh_io_put_if_match(s, k, "x", 1, "\"e\"", NULL, &err),
                         LH_EINVAL);
        assert_int_equal(lh_io_upload_begin(s, k, &u, &err), LH_EINVAL);
        assert_null(u);
    }
    assert_int_equal(lh_io_put(s, NULL, "x", 1, NULL, &err), LH_EINVAL);
    assert_int_equal(lh_io_key_check_n("a\0b", 3, &err), LH_EINVAL);
    assert_non_null(strstr(err.msg, "contains NUL"));
    assert_int_equal(lh_io_key_check_n("a/b", 3, &err), LH_OK);
    assert_int_equal(lh_io_key_check_n("a/b/", 3, &err), LH_OK);
    assert_int_equal(lh_io_key_check_n("a/", 2, &err), LH_EINVAL);

    /* 1024 bytes is the limit (segments short enough for any filesystem). */
    char key[LH_IO_KEY_MAX + 2];
    for (size_t i = 0; i < LH_IO_KEY_MAX + 1; i++) {
        key[i] = i % 100 == 99 ? '/' : 'k';
    }
    key[LH_IO_KEY_MAX] = '\0';
    assert_int_equal(lh_io_put(s, key, "x", 1, NULL, &err), LH_OK);
    expect_content(s, key, "x");
    key[LH_IO_KEY_MAX] = 'k';
    key[LH_IO_KEY_MAX + 1] = '\0';
    assert_int_equal(lh_io_put(s, key, "x", 1, NULL, &err), LH_EINVAL);
    assert_non_null(strstr(err.msg, "longer than 1024"));
    assert_int_equal(count_keys(s, "", 0), 1);
    lh_buf_release(&b);
}

enum { RACERS = 8, ROUNDS = 10 };

typedef struct racer {
    lh_io_store *s;
    pthread_barrier_t *go;
    const char *etag;
    int id;
    lh_rc rc;
} racer;

static void *
race(void *arg)
{
    racer *r = arg;
    char body[32];
    snprintf(body, sizeof(body), "writer %d", r->id);
    lh_err err;
    pthread_barrier_wait(r->go);
    r->rc = lh_io_put_if_match(r->s, "race", body, strlen(body), r->etag, NULL,
                               &err);
    return NULL;
}

static void
test_concurrent_if_match(void **state)
{
    fixture *fx = *state;
    if (!fx->f->conditional) {
        print_message("skipped on %s: it ignores If-None-Match / If-Match on "
                      "PUT (LIBRARY-NOTES.md; test_s3.c checks the requests "
                      "and the status mapping)\n",
                      fx->f->name);
        skip();
    }
    for (int round = 0; round < ROUNDS; round++) {
        lh_io_info base;
        char body[32];
        snprintf(body, sizeof(body), "base %d", round);
        put_ok(fx->s, "race", body, &base);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, RACERS);
        pthread_t t[RACERS];
        racer r[RACERS];
        for (int i = 0; i < RACERS; i++) {
            r[i] = (racer){fx->s, &go, base.etag, i, LH_EINTERNAL};
            assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
        }
        int wins = 0;
        int winner = -1;
        for (int i = 0; i < RACERS; i++) {
            pthread_join(t[i], NULL);
            if (r[i].rc == LH_OK) {
                wins++;
                winner = i;
            } else {
                assert_int_equal(r[i].rc, LH_ECONFLICT);
            }
        }
        pthread_barrier_destroy(&go);
        assert_int_equal(wins, 1);
        snprintf(body, sizeof(body), "writer %d", winner);
        expect_content(fx->s, "race", body);
    }
    assert_int_equal(count_keys(fx->s, "", 0), 1);
}

/* ---- local store only ---------------------------------------------------- */

static void
test_open(void **state)
{
    (void)state;
    lh_io_store *s;
    lh_err err;
    assert_int_equal(lh_io_open("mem://a", &s, &err), LH_OK);
    lh_io_close(s);
    assert_int_equal(lh_io_open("s3://b/prefix?nope=1", &s, &err), LH_EINVAL);
    assert_null(s);
    assert_non_null(strstr(err.msg, "unknown parameter \"nope\""));
    assert_int_equal(lh_io_open("ftp://x", &s, &err), LH_EINVAL);
    assert_int_equal(lh_io_open("file://relative", &s, &err), LH_EINVAL);
    assert_int_equal(lh_io_open("/nonexistent/lh-io-xyz", &s, &err), LH_ENOENT);
    assert_int_equal(lh_io_open("", &s, &err), LH_EINVAL);
    char dir[] = "/tmp/lh-io-open.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char withslash[64];
    snprintf(withslash, sizeof(withslash), "%s/", dir);
    assert_int_equal(lh_io_open(withslash, &s, &err), LH_OK);
    put_ok(s, "k", "v", NULL);
    lh_io_close(s);
    char path[96];
    snprintf(path, sizeof(path), "%s/k", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(lh_io_mem_fail_nth(NULL, 1, LH_EIO, 0), LH_EINVAL);
    rm_rf(dir);
}

/* Names in dir (recursively) starting with ".lh-io-tmp". */
static int
count_temp_files(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "find '%s' -name '.lh-io-tmp*' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    int n = -1;
    assert_int_equal(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

/* A child overwrites one large object in a loop, alternating two bodies,
 * and is killed at a different moment each round: the key is then absent
 * (killed before the first put finished) or exactly one of the bodies. */
static void
test_crash_mid_write(void **state)
{
    fixture *fx = *state;
    size_t n = 16u << 20;
    char *body[2];
    for (int v = 0; v < 2; v++) {
        body[v] = malloc(n);
        assert_non_null(body[v]);
        for (size_t i = 0; i < n; i++) {
            body[v][i] = (char)('A' + (i + (size_t)v) % 26);
        }
    }
    int absent = 0, whole[2] = {0, 0};
    for (int round = 0; round < 10; round++) {
        char key[32];
        snprintf(key, sizeof(key), "crash/%d", round);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            for (unsigned v = 0;; v++) {
                lh_io_put(fx->s, key, body[v % 2], n, NULL, NULL);
            }
        }
        struct timespec ts = {0, (long)(round * 50 + 2) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);

        lh_buf b = LH_BUF_INIT;
        lh_io_info info;
        lh_err err;
        lh_rc rc = lh_io_get(fx->s, key, &b, &info, &err);
        if (rc == LH_ENOENT) {
            absent++;
        } else {
            assert_int_equal(rc, LH_OK);
            assert_int_equal(info.size, n);
            assert_int_equal(b.len, n);
            int v = b.data[0] == 'A' ? 0 : 1;
            assert_memory_equal(b.data, body[v], n);
            whole[v]++;
        }
        lh_buf_release(&b);
    }
    /* A killed writer's temporary files never show as keys, and a listing
     * that passes them removes them (their writers' locks are gone). */
    int left = count_temp_files(fx->dir);
    assert_int_equal(count_keys(fx->s, "", 0), (size_t)(whole[0] + whole[1]));
    print_message("crash: %d absent, %d + %d whole, %d temporary files of "
                  "killed writers, removed by the listing\n",
                  absent, whole[0], whole[1], left);
    assert_int_equal(count_temp_files(fx->dir), 0);
    free(body[0]);
    free(body[1]);
}

/* Writers in other processes: exactly one of them wins each round. */
static void
test_cross_process_if_match(void **state)
{
    fixture *fx = *state;
    for (int round = 0; round < 5; round++) {
        lh_io_info base;
        put_ok(fx->s, "xp", "base", &base);
        pid_t pids[RACERS];
        for (int i = 0; i < RACERS; i++) {
            pids[i] = fork();
            assert_true(pids[i] >= 0);
            if (pids[i] == 0) {
                char body[32];
                snprintf(body, sizeof(body), "proc %d", i);
                lh_rc rc = lh_io_put_if_match(fx->s, "xp", body, strlen(body),
                                              base.etag, NULL, NULL);
                _exit(rc == LH_OK ? 0 : rc == LH_ECONFLICT ? 1 : 2);
            }
        }
        int wins = 0;
        for (int i = 0; i < RACERS; i++) {
            int status;
            assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
            assert_true(WIFEXITED(status));
            assert_true(WEXITSTATUS(status) <= 1);
            wins += WEXITSTATUS(status) == 0;
        }
        assert_int_equal(wins, 1);
    }
    assert_int_equal(count_temp_files(fx->dir), 0);
}

/* Upload directories under the root's .lh-io-multipart. */
static int
count_upload_dirs(const char *root)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/.lh-io-multipart", root);
    DIR *d = opendir(path);
    if (d == NULL) {
        return 0;
    }
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        n += de->d_name[0] != '.';
    }
    closedir(d);
    return n;
}

/* The sweep removes only what dead writers left: a writer in another
 * process keeps putting while this one lists (and so sweeps) without
 * pause, and every put succeeds; an upload open here survives a reopen
 * of the store, one of a killed process does not. */
static void
test_sweep_live(void **state)
{
    fixture *fx = *state;
    size_t n = 1u << 20;
    char *body = malloc(n);
    assert_non_null(body);
    memset(body, 'w', n);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (int i = 0; i < 60; i++) {
            char key[32];
            snprintf(key, sizeof(key), "live/%d", i % 4);
            lh_err err;
            if (lh_io_put(fx->s, key, body, n, NULL, &err) != LH_OK) {
                fprintf(stderr, "sweep: put %d failed: %s\n", i, err.msg);
                _exit(1);
            }
        }
        _exit(0);
    }
    int status;
    int lists = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        count_keys(fx->s, "", 0);
        lists++;
    }
    free(body); /* before the asserts, which leave on a failure */
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    print_message("sweep: %d listings beside 60 puts of 1 MiB\n", lists);
    assert_int_equal(count_keys(fx->s, "live/", 0), 4);
    assert_int_equal(count_temp_files(fx->dir), 0);

    lh_err err;
    lh_io_upload *mine;
    assert_int_equal(lh_io_upload_begin(fx->s, "up/mine", &mine, &err), LH_OK);
    assert_int_equal(lh_io_upload_part(mine, 1, "mine", 4, &err), LH_OK);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        lh_io_upload *theirs;
        lh_io_upload_begin(fx->s, "up/theirs", &theirs, NULL);
        lh_io_upload_part(theirs, 1, "theirs", 6, NULL);
        kill(getpid(), SIGKILL);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(count_upload_dirs(fx->dir), 2);
    lh_io_store *again;
    assert_int_equal(lh_io_local_open(fx->dir, &again, &err), LH_OK);
    assert_int_equal(count_upload_dirs(fx->dir), 1); /* theirs is gone */
    lh_io_close(again);
    assert_int_equal(lh_io_upload_complete(mine, NULL, &err), LH_OK);
    expect_content(fx->s, "up/mine", "mine");
    assert_int_equal(count_upload_dirs(fx->dir), 0);
}

static void
test_full_disk(void **state)
{
    (void)state;
    char mnt[] = "/tmp/lh-io-tmpfs.XXXXXX";
    assert_non_null(mkdtemp(mnt));
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0) {
        int e = errno;
        rmdir(mnt);
        print_message("skipped: cannot mount a tmpfs: %s\n", strerror(e));
        skip();
    }
    lh_io_store *s;
    lh_err err;
    assert_int_equal(lh_io_local_open(mnt, &s, &err), LH_OK);
    size_t n = 2u << 20;
    char *big = calloc(1, n);
    assert_non_null(big);
    assert_int_equal(lh_io_put(s, "d/big", big, n, NULL, &err), LH_ENOSPC);
    assert_int_equal(err.sys_errno, ENOSPC);
    assert_int_equal(lh_io_put_if_absent(s, "d/big", big, n, NULL, &err),
                     LH_ENOSPC);
    lh_io_upload *u;
    assert_int_equal(lh_io_upload_begin(s, "d/mp", &u, &err), LH_OK);
    assert_int_equal(lh_io_upload_part(u, 1, big, n, &err), LH_ENOSPC);
    assert_int_equal(lh_io_upload_part(u, 1, big, 600000, &err), LH_OK);
    assert_int_equal(lh_io_upload_part(u, 2, big, 600000, &err), LH_ENOSPC);
    assert_int_equal(lh_io_upload_complete(u, NULL, &err), LH_ENOSPC);
    assert_int_equal(count_keys(s, "", 0), 0);
    assert_int_equal(count_temp_files(mnt), 0);
    /* The space came back: a small write works. */
    put_ok(s, "d/small", "ok", NULL);
    assert_int_equal(count_keys(s, "", 0), 1);
    lh_io_close(s);
    free(big);
    if (umount(mnt) != 0) {
        umount2(mnt, MNT_DETACH);
    }
    rmdir(mnt);
}

/* ---- memory store fault injection ---------------------------------------- */

static void
test_mem_faults(void **state)
{
    fixture *fx = *state;
    lh_io_store *s = fx->s;
    lh_err err;
    lh_io_info info;
    uint64_t c0 = lh_io_mem_calls(s);

    assert_int_equal(lh_io_mem_fail_nth(s, 2, LH_EIO, 503), LH_OK);
    put_ok(s, "k", "v1", NULL);
    assert_int_equal(lh_io_put(s, "k", "v2", 2, NULL, &err), LH_EIO);
    assert_int_equal(err.http_status, 503);
    expect_content(s, "k", "v1"); /* the failed put changed nothing */
    assert_int_equal(lh_io_mem_calls(s), c0 + 3);

    assert_int_equal(lh_io_mem_fail_nth(s, 1, LH_ENOSPC, 0), LH_OK);
    assert_int_equal(lh_io_head(s, "k", &info, &err), LH_ENOSPC);
    assert_int_equal(lh_io_head(s, "k", &info, &err), LH_OK);

    /* A failed complete publishes nothing. */
    lh_io_upload *u;
    assert_int_equal(lh_io_upload_begin(s, "up", &u, &err), LH_OK);
    assert_int_equal(lh_io_upload_part(u, 1, "x", 1, &err), LH_OK);
    assert_int_equal(lh_io_mem_fail_nth(s, 1, LH_EIO, 500), LH_OK);
    assert_int_equal(lh_io_upload_complete(u, &info, &err), LH_EIO);
    assert_int_equal(lh_io_head(s, "up", &info, &err), LH_ENOENT);

    /* A failure rate repeats with its seed. */
    bool pattern[2][200];
    for (int run = 0; run < 2; run++) {
        assert_int_equal(lh_io_mem_fail_rate(s, 30, 42), LH_OK);
        int failed = 0;
        for (int i = 0; i < 200; i++) {
            lh_rc rc = lh_io_head(s, "k", &info, &err);
            pattern[run][i] = rc != LH_OK;
            if (rc != LH_OK) {
                assert_int_equal(rc, LH_EIO);
                assert_int_equal(err.http_status, 503);
                failed++;
            }
        }
        assert_in_range(failed, 30, 90);
    }
    assert_memory_equal(pattern[0], pattern[1], sizeof(pattern[0]));
    assert_int_equal(lh_io_mem_fail_rate(s, 0, 0), LH_OK);
    assert_int_equal(lh_io_mem_fail_rate(s, 101, 0), LH_EINVAL);

    assert_int_equal(lh_io_mem_set_latency(s, 20000), LH_OK);
    lh_us t0 = lh_mono_now();
    assert_int_equal(lh_io_head(s, "k", &info, &err), LH_OK);
    assert_true(lh_mono_now() - t0 >= 20000);
    assert_int_equal(lh_io_mem_set_latency(s, 0), LH_OK);
}

/* Fails the Nth allocation for each N until a whole run gets through:
 * every call returns LH_OK or LH_ENOMEM, and (under ASan) nothing leaks. */
static void
test_out_of_memory(void **state)
{
    fixture *fx = *state;
    lh_io_store *s = fx->s;
    bool done = false;
    for (uint64_t n = 1; !done; n++) {
        assert_true(n < 10000);
        lh_err err;
        lh_buf b = LH_BUF_INIT;
        lh_arena a;
        lh_arena_init(&a, 0);
        lh_io_page p;
        lh_io_upload *u = NULL;
        lh_rc rc[6];
        lh_alloc_fail_at(n, false);
        rc[0] = lh_io_put(s, "o/k", "value", 5, NULL, &err);
        rc[1] = lh_io_get(s, "o/k", &b, NULL, &err);
        rc[2] = lh_io_list(s, NULL, &a, &p, &err);
        rc[3] = lh_io_upload_begin(s, "o/mp", &u, &err);
        rc[4] = u != NULL ? lh_io_upload_part(u, 1, "p", 1, &err) : LH_OK;
        rc[5] = u != NULL ? lh_io_upload_complete(u, NULL, &err) : LH_OK;
        lh_alloc_fail_at(0, false);
        done = true;
        for (size_t i = 0; i < LH_ARRAY_LEN(rc); i++) {
            if (rc[i] != LH_OK) {
                /* The get finds nothing when the put failed. */
                if (!(i == 1 && rc[i] == LH_ENOENT && rc[0] != LH_OK)) {
                    assert_int_equal(rc[i], LH_ENOMEM);
                }
                done = false;
            }
        }
        lh_buf_release(&b);
        lh_arena_release(&a);
        assert_int_equal(lh_io_delete(s, "o/k", &err), LH_OK);
        assert_int_equal(lh_io_delete(s, "o/mp", &err), LH_OK);
    }
    assert_int_equal(count_keys(s, "", 0), 0);
}

/* A local store names the file that holds an object (readers map it to
 * read only what they touch); other stores keep no files and say so. */
static void
test_local_path(void **state)
{
    fixture *fx = *state;
    lh_err err;
    lh_buf b = LH_BUF_INIT;
    assert_int_equal(lh_io_put(fx->s, "d/obj", "abcdef", 6, NULL, &err), LH_OK);
    lh_rc rc = lh_io_local_path(fx->s, "d/obj", &b, &err);
    if (fx->f->kind != LOCAL) {
        assert_int_equal(rc, LH_EUNSUPPORTED);
        assert_non_null(strstr(err.msg, "keeps no files"));
        lh_buf_release(&b);
        return;
    }
    assert_int_equal(rc, LH_OK);
    assert_int_equal(lh_buf_putc(&b, '\0'), LH_OK);
    char want[128];
    snprintf(want, sizeof want, "%s/d/obj", fx->dir);
    assert_string_equal(b.data, want);
    FILE *f = fopen(b.data, "rb");
    assert_non_null(f);
    char got[16] = {0};
    assert_int_equal(fread(got, 1, sizeof got, f), 6);
    fclose(f);
    assert_memory_equal(got, "abcdef", 6);
    assert_int_equal(lh_io_local_path(fx->s, "../x", &b, &err), LH_EINVAL);
    lh_buf_release(&b);
}

#define CONTRACT(fac)                                                          \
    cmocka_unit_test_prestate_setup_teardown(test_put_get_head, setup,         \
                                             teardown, (void *)&(fac)),        \
        cmocka_unit_test_prestate_setup_teardown(test_range, setup, teardown,  \
                                                 (void *)&(fac)),              \
        cmocka_unit_test_prestate_setup_teardown(test_put_if_absent, setup,    \
                                                 teardown, (void *)&(fac)),    \
        cmocka_unit_test_prestate_setup_teardown(test_put_if_match, setup,     \
                                                 teardown, (void *)&(fac)),    \
        cmocka_unit_test_prestate_setup_teardown(test_delete, setup, teardown, \
                                                 (void *)&(fac)),              \
        cmocka_unit_test_prestate_setup_teardown(test_list, setup, teardown,   \
                                                 (void *)&(fac)),              \
        cmocka_unit_test_prestate_setup_teardown(test_multipart, setup,        \
                                                 teardown, (void *)&(fac)),    \
        cmocka_unit_test_prestate_setup_teardown(test_bad_keys, setup,         \
                                                 teardown, (void *)&(fac)),    \
        cmocka_unit_test_prestate_setup_teardown(                              \
            test_concurrent_if_match, setup, teardown, (void *)&(fac)),        \
        cmocka_unit_test_prestate_setup_teardown(test_out_of_memory, setup,    \
                                                 teardown, (void *)&(fac)),    \
        cmocka_unit_test_prestate_setup_teardown(test_local_path, setup,       \
                                                 teardown, (void *)&(fac))

static void
test_s3_missing(void **state)
{
    (void)state;
    print_message("skipped: no s3rver: %s\n", peer.why);
    skip();
}

int
main(void)
{
    const struct CMUnitTest local_tests[] = {
        CONTRACT(local_factory),
        cmocka_unit_test(test_open),
        cmocka_unit_test_prestate_setup_teardown(
            test_crash_mid_write, setup, teardown, (void *)&local_factory),
        cmocka_unit_test_prestate_setup_teardown(test_cross_process_if_match,
                                                 setup, teardown,
                                                 (void *)&local_factory),
        cmocka_unit_test_prestate_setup_teardown(
            test_sweep_live, setup, teardown, (void *)&local_factory),
        cmocka_unit_test(test_full_disk),
    };
    const struct CMUnitTest mem_tests[] = {
        CONTRACT(mem_factory),
        cmocka_unit_test_prestate_setup_teardown(
            test_mem_faults, setup, teardown, (void *)&mem_factory),
    };
    const struct CMUnitTest s3_tests[] = {
        CONTRACT(s3_factory),
    };
    const struct CMUnitTest s3_missing[] = {
        cmocka_unit_test(test_s3_missing),
    };
    int failed =
        cmocka_run_group_tests_name("io/local", local_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("io/mem", mem_tests, NULL, NULL);
    if (s3peer_start(&peer)) {
        failed +=
            cmocka_run_group_tests_name("io/s3 (s3rver)", s3_tests, NULL, NULL);
    } else {
        failed += cmocka_run_group_tests_name("io/s3 (s3rver)", s3_missing,
                                              NULL, NULL);
    }
    s3peer_stop(&peer);
    return failed;
}
