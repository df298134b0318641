/* io: key rules, argument checks and dispatch to a store's methods. */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "io/io_int.h"

#define RESERVED_PREFIX ".lh-io"
#define LIST_MAX_KEYS 1000

lh_rc
lh_io_key_check_n(const char *key, size_t len, lh_err *err)
{
    if (key == NULL || len == 0) {
        return lh_err_set(err, LH_EINVAL, "invalid object key \"\": empty");
    }
    if (len > LH_IO_KEY_MAX) {
        return lh_err_set(err, LH_EINVAL,
                          "invalid object key \"%.64s...\": longer than %d "
                          "bytes",
                          key, LH_IO_KEY_MAX);
    }
    int n = (int)len;
    if (memchr(key, '\0', len) != NULL) {
        return lh_err_set(err, LH_EINVAL,
                          "invalid object key \"%.*s\": contains NUL", n, key);
    }
    if (key[0] == '/') {
        return lh_err_set(err, LH_EINVAL,
                          "invalid object key \"%.*s\": absolute path", n, key);
    }
    const char *seg = key;
    const char *stop = key + len;
    for (;;) {
        const char *end = memchr(seg, '/', (size_t)(stop - seg));
        size_t slen = (size_t)((end != NULL ? end : stop) - seg);
        if (slen == 0) {
            return lh_err_set(err, LH_EINVAL,
                              "invalid object key \"%.*s\": empty segment", n,
                              key);
        }
        if ((slen == 1 && seg[0] == '.') ||
            (slen == 2 && seg[0] == '.' && seg[1] == '.')) {
            return lh_err_set(err, LH_EINVAL,
                              "invalid object key \"%.*s\": \".\" or \"..\" "
                              "segment",
                              n, key);
        }
        if (slen >= strlen(RESERVED_PREFIX) &&
            memcmp(seg, RESERVED_PREFIX, strlen(RESERVED_PREFIX)) == 0) {
            return lh_err_set(err, LH_EINVAL,
                              "invalid object key \"%.*s\": segments starting "
                              "with \"" RESERVED_PREFIX "\" are reserved",
                              n, key);
        }
        if (end == NULL) {
            break;
        }
        seg = end + 1;
    }
    return LH_OK;
}

lh_rc
lh_io_key_check(const char *key, lh_err *err)
{
    if (key == NULL) {
        return lh_err_set(err, LH_EINVAL, "invalid object key \"\": empty");
    }
    return lh_io_key_check_n(key, strnlen(key, LH_IO_KEY_MAX + 1), err);
}

lh_rc
lh__io_upload_new(lh_io_store *s, const char *key, void *impl,
                  lh_io_upload **out, lh_err *err)
{
    lh_io_upload *u = lh_calloc(1, sizeof(*u));
    char *k = lh_strdup(key);
    if (u == NULL || k == NULL) {
        lh_free(u);
        lh_free(k);
        return lh_err_set(err, LH_ENOMEM, "out of memory starting upload");
    }
    u->s = s;
    u->key = k;
    u->impl = impl;
    *out = u;
    return LH_OK;
}

void
lh__io_upload_free(lh_io_upload *u)
{
    if (u != NULL) {
        lh_free(u->key);
        lh_free(u);
    }
}

void
lh__io_etag_of(const void *data, size_t len, char etag[LH_IO_ETAG_MAX])
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(data, len));
    lh__io_etag_format(c.digest, etag);
}

void
lh__io_etag_format(const unsigned char digest[16], char etag[LH_IO_ETAG_MAX])
{
    static const char hex[] = "0123456789abcdef";
    etag[0] = '"';
    for (size_t i = 0; i < 16; i++) {
        etag[1 + 2 * i] = hex[digest[i] >> 4];
        etag[2 + 2 * i] = hex[digest[i] & 15];
    }
    etag[LH__IO_HASH_ETAG_LEN - 1] = '"';
    etag[LH__IO_HASH_ETAG_LEN] = '\0';
}

lh_rc
lh__io_range_fit(const char *key, uint64_t size, uint64_t off, uint64_t *len,
                 lh_err *err)
{
    if (off > 0 && off >= size) {
        return lh_err_set(err, LH_EINVAL,
                          "range not satisfiable for object \"%s\": offset "
                          "%llu, size %llu",
                          key, (unsigned long long)off,
                          (unsigned long long)size);
    }
    if (*len > size - off) {
        *len = size - off;
    }
    return LH_OK;
}

static int
cmp_keys(const void *a, const void *b)
{
    /* strcmp compares as unsigned char: byte order, as S3 lists. */
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void
lh__io_sort_keys(char **keys, size_t n)
{
    if (n > 1) {
        qsort(keys, n, sizeof(*keys), cmp_keys);
    }
}

lh_rc
lh__io_page_fill(char **keys, size_t n, const lh_io_list_opts *opts,
                 lh_arena *a, lh_io_page *page, lh__io_stat_fn stat, void *ctx,
                 lh_err *err)
{
    size_t max = opts->max_keys == 0 || opts->max_keys > LIST_MAX_KEYS
                     ? LIST_MAX_KEYS
                     : opts->max_keys;
    size_t i = 0;
    while (i < n &&
           ((opts->start_after != NULL &&
             strcmp(keys[i], opts->start_after) <= 0) ||
            (opts->token != NULL && strcmp(keys[i], opts->token) <= 0))) {
        i++;
    }
    page->entries =
        lh_arena_calloc(a, LH_MIN(max, n - i) * sizeof(*page->entries));
    if (page->entries == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory listing objects");
    }
    for (; i < n && page->count < max; i++) {
        lh_io_entry *e = &page->entries[page->count];
        lh_rc rc = stat(ctx, keys[i], e, err);
        if (rc == LH_ENOENT) {
            continue; /* deleted since it was listed */
        }
        if (rc != LH_OK) {
            return rc;
        }
        e->key = lh_arena_strdup(a, keys[i]);
        if (e->key == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory listing objects");
        }
        page->count++;
    }
    if (i < n && page->count > 0) {
        page->next_token = page->entries[page->count - 1].key;
    }
    return LH_OK;
}

/* ---- dispatch ------------------------------------------------------------ */

lh_rc
lh_io_open(const char *uri, lh_io_store **out, lh_err *err)
{
    *out = NULL;
    if (uri == NULL || uri[0] == '\0') {
        return lh_err_set(err, LH_EINVAL, "empty object store uri");
    }
    if (strncmp(uri, "file://", 7) == 0) {
        if (uri[7] != '/') {
            return lh_err_set(err, LH_EINVAL,
                              "invalid object store uri \"%s\": file:// "
                              "needs an absolute path",
                              uri);
        }
        return lh_io_local_open(uri + 7, out, err);
    }
    if (strncmp(uri, "mem://", 6) == 0) {
        return lh_io_mem_open(out, err);
    }
    if (strncmp(uri, "s3://", 5) == 0) {
        return lh_io_s3_open(uri, out, err);
    }
    if (strstr(uri, "://") != NULL) {
        return lh_err_set(err, LH_EINVAL,
                          "invalid object store uri \"%s\": unknown scheme",
                          uri);
    }
    return lh_io_local_open(uri, out, err);
}

void
lh_io_close(lh_io_store *s)
{
    if (s != NULL) {
        s->m->close(s);
    }
}

lh_rc
lh_io_get(lh_io_store *s, const char *key, lh_buf *out, lh_io_info *info,
          lh_err *err)
{
    return lh_io_get_range(s, key, 0, LH_IO_TO_END, out, info, err);
}

lh_rc
lh_io_local_path(lh_io_store *s, const char *key, lh_buf *out, lh_err *err)
{
    lh_rc rc = lh_io_key_check(key, err);
    if (rc != LH_OK) {
        return rc;
    }
    if (s->m->local_path == NULL) {
        return lh_err_set(err, LH_EUNSUPPORTED, "the %s store keeps no files",
                          s->m->name);
    }
    return s->m->local_path(s, key, out, err);
}

lh_rc
lh_io_get_range(lh_io_store *s, const char *key, uint64_t off, uint64_t len,
                lh_buf *out, lh_io_info *info, lh_err *err)
{
    lh_io_info tmp;
    lh_rc rc = lh_io_key_check(key, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_buf_reset(out);
    return s->m->get(s, key, off, len, out, info != NULL ? info : &tmp, err);
}

lh_rc
lh_io_head(lh_io_store *s, const char *key, lh_io_info *info, lh_err *err)
{
    lh_io_info tmp;
    lh_rc rc = lh_io_key_check(key, err);
    if (rc != LH_OK) {
        return rc;
    }
    return s->m->head(s, key, info != NULL ? info : &tmp, err);
}

lh_rc
lh_io_list(lh_io_store *s, const lh_io_list_opts *opts, lh_arena *a,
           lh_io_page *page, lh_err *err)
{
    lh_io_list_opts none = {0};
    page->entries = NULL;
    page->count = 0;
    page->next_token = NULL;
    if (opts == NULL) {
        opts = &none;
    }
    lh_io_list_opts o = *opts;
    if (o.prefix == NULL) {
        o.prefix = "";
    }
    lh_rc rc = s->m->list(s, &o, a, page, err);
    if (rc != LH_OK) {
        page->entries = NULL;
        page->count = 0;
        page->next_token = NULL;
    }
    return rc;
}

static lh_rc
put(lh_io_store *s, const char *key, const void *data, size_t len,
    bool if_absent, const char *if_match, lh_io_info *info, lh_err *err)
{
    lh_io_info tmp;
    lh_rc rc = lh_io_key_check(key, err);
    if (rc != LH_OK) {
        return rc;
    }
    if (data == NULL && len > 0) {
        return lh_err_set(err, LH_EINVAL, "object \"%s\": no data", key);
    }
    return s->m->put(s, key, data != NULL ? data : "", len, if_absent, if_match,
                     info != NULL ? info : &tmp, err);
}

lh_rc
lh_io_put(lh_io_store *s, const char *key, const void *data, size_t len,
          lh_io_info *info, lh_err *err)
{
    return put(s, key, data, len, false, NULL, info, err);
}

lh_rc
lh_io_put_if_absent(lh_io_store *s, const char *key, const void *data,
                    size_t len, lh_io_info *info, lh_err *err)
{
    return put(s, key, data, len, true, NULL, info, err);
}

lh_rc
lh_io_put_if_match(lh_io_store *s, const char *key, const void *data,
                   size_t len, const char *etag, lh_io_info *info, lh_err *err)
{
    if (etag == NULL || etag[0] == '\0') {
        return lh_err_set(err, LH_EINVAL, "object \"%s\": empty etag to match",
                          key != NULL ? key : "");
    }
    return put(s, key, data, len, false, etag, info, err);
}

lh_rc
lh_io_delete(lh_io_store *s, const char *key, lh_err *err)
{
    lh_rc rc = lh_io_key_check(key, err);
    if (rc != LH_OK) {
        return rc;
    }
    return s->m->del(s, key, err);
}

lh_rc
lh_io_upload_begin(lh_io_store *s, const char *key, lh_io_upload **out,
                   lh_err *err)
{
    *out = NULL;
    lh_rc rc = lh_io_key_check(key, err);
    if (rc != LH_OK) {
        return rc;
    }
    return s->m->upload_begin(s, key, out, err);
}

lh_rc
lh_io_upload_part(lh_io_upload *u, int part, const void *data, size_t len,
                  lh_err *err)
{
    if (part < LH_IO_PART_MIN || part > LH_IO_PART_MAX) {
        return lh_err_set(err, LH_EINVAL,
                          "upload of \"%s\": part number %d not in %d..%d",
                          u->key, part, LH_IO_PART_MIN, LH_IO_PART_MAX);
    }
    if (data == NULL && len > 0) {
        return lh_err_set(err, LH_EINVAL, "upload of \"%s\": no data", u->key);
    }
    return u->s->m->upload_part(u, part, data != NULL ? data : "", len, err);
}

lh_rc
lh_io_upload_complete(lh_io_upload *u, lh_io_info *info, lh_err *err)
{
    lh_io_info tmp;
    return u->s->m->upload_complete(u, info != NULL ? info : &tmp, err);
}

lh_rc
lh_io_upload_abort(lh_io_upload *u, lh_err *err)
{
    if (u == NULL) {
        return LH_OK;
    }
    return u->s->m->upload_abort(u, err);
}
