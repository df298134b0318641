/*
 * The in-memory store: a hash map of key -> object under one mutex; list
 * collects the matching keys and sorts them. For tests: every public call
 * passes through inject() first, which counts it and may sleep or fail it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/io_int.h"

typedef struct object {
    char *data;
    size_t len;
    char etag[LH_IO_ETAG_MAX];
    lh_us mtime;
} object;

typedef struct mem {
    pthread_mutex_t mu;
    lh_map objects; /* key -> object * */
    uint64_t calls;
    uint64_t fail_at; /* the call number that fails, 0 = none */
    lh_rc fail_code;
    int fail_http;
    unsigned fail_percent;
    uint64_t rng;
    uint64_t latency_us;
} mem;

typedef struct part {
    int no;
    char *data;
    size_t len;
} part;

typedef struct upload {
    part *parts;
    size_t count;
    size_t cap;
} upload;

static uint64_t
next_random(uint64_t *x)
{
    /* xorshift64*: repeatable from the seed, good enough to pick faults. */
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * UINT64_C(2685821657736338717);
}

static lh_rc
inject(lh_io_store *s, const char *what, lh_err *err)
{
    mem *m = s->impl;
    pthread_mutex_lock(&m->mu);
    uint64_t n = ++m->calls;
    uint64_t sleep_us = m->latency_us;
    lh_rc code = LH_OK;
    int http = 0;
    if (m->fail_at != 0 && n == m->fail_at) {
        m->fail_at = 0;
        code = m->fail_code;
        http = m->fail_http;
    } else if (m->fail_percent > 0 &&
               next_random(&m->rng) % 100 < m->fail_percent) {
        code = LH_EIO;
        http = 503;
    }
    pthread_mutex_unlock(&m->mu);
    if (sleep_us > 0) {
        struct timespec ts = {(time_t)(sleep_us / 1000000),
                              (long)(sleep_us % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
    if (code != LH_OK) {
        lh_err_set(err, code, "injected failure of call %llu (%s)",
                   (unsigned long long)n, what);
        if (err != NULL) {
            err->http_status = http;
        }
    }
    return code;
}

static void
object_free(object *o)
{
    if (o != NULL) {
        lh_free(o->data);
        lh_free(o);
    }
}

static lh_rc
mem_get(lh_io_store *s, const char *key, uint64_t off, uint64_t len,
        lh_buf *out, lh_io_info *info, lh_err *err)
{
    mem *m = s->impl;
    lh_rc rc = inject(s, "get", err);
    if (rc != LH_OK) {
        return rc;
    }
    pthread_mutex_lock(&m->mu);
    object *o = lh_map_get(&m->objects, key, strlen(key));
    if (o == NULL) {
        rc = lh_err_set(err, LH_ENOENT, "no object \"%s\"", key);
        goto done;
    }
    rc = lh__io_range_fit(key, o->len, off, &len, err);
    if (rc != LH_OK) {
        goto done;
    }
    if (lh_buf_append(out, o->data + off, (size_t)len) != LH_OK) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory reading \"%s\"", key);
        goto done;
    }
    info->size = o->len;
    memcpy(info->etag, o->etag, sizeof(info->etag));
    info->mtime = o->mtime;
done:
    pthread_mutex_unlock(&m->mu);
    return rc;
}

static lh_rc
mem_head(lh_io_store *s, const char *key, lh_io_info *info, lh_err *err)
{
    mem *m = s->impl;
    lh_rc rc = inject(s, "head", err);
    if (rc != LH_OK) {
        return rc;
    }
    pthread_mutex_lock(&m->mu);
    object *o = lh_map_get(&m->objects, key, strlen(key));
    if (o == NULL) {
        rc = lh_err_set(err, LH_ENOENT, "no object \"%s\"", key);
    } else {
        info->size = o->len;
        memcpy(info->etag, o->etag, sizeof(info->etag));
        info->mtime = o->mtime;
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

/* Installs o under key if the conditions hold; takes o either way. */
static lh_rc
install(mem *m, const char *key, object *o, bool if_absent,
        const char *if_match, lh_io_info *info, lh_err *err)
{
    lh_rc rc = LH_OK;
    pthread_mutex_lock(&m->mu);
    object *cur = lh_map_get(&m->objects, key, strlen(key));
    if (if_absent && cur != NULL) {
        rc = lh_err_set(err, LH_EEXIST, "object \"%s\" already exists", key);
        goto done;
    }
    if (if_match != NULL && cur == NULL) {
        rc = lh_err_set(err, LH_ECONFLICT,
                        "object \"%s\" does not exist, expected etag %s", key,
                        if_match);
        goto done;
    }
    if (if_match != NULL && strcmp(cur->etag, if_match) != 0) {
        rc = lh_err_set(err, LH_ECONFLICT,
                        "object \"%s\" has etag %s, expected %s", key,
                        cur->etag, if_match);
        goto done;
    }
    object *old = NULL;
    if (lh_map_put(&m->objects, key, strlen(key), o, (void **)&old) != LH_OK) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory writing \"%s\"", key);
        goto done;
    }
    object_free(old);
    info->size = o->len;
    memcpy(info->etag, o->etag, sizeof(info->etag));
    info->mtime = o->mtime;
    o = NULL;
done:
    pthread_mutex_unlock(&m->mu);
    object_free(o);
    return rc;
}

static object *
object_new(size_t len)
{
    object *o = lh_calloc(1, sizeof(*o));
    if (o == NULL) {
        return NULL;
    }
    o->data = lh_malloc(len);
    if (o->data == NULL) {
        lh_free(o);
        return NULL;
    }
    o->len = len;
    o->mtime = lh_real_now();
    return o;
}

static lh_rc
mem_put(lh_io_store *s, const char *key, const void *data, size_t len,
        bool if_absent, const char *if_match, lh_io_info *info, lh_err *err)
{
    lh_rc rc = inject(s, "put", err);
    if (rc != LH_OK) {
        return rc;
    }
    object *o = object_new(len);
    if (o == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory writing \"%s\"", key);
    }
    memcpy(o->data, data, len);
    lh__io_etag_of(o->data, len, o->etag);
    return install(s->impl, key, o, if_absent, if_match, info, err);
}

static lh_rc
mem_del(lh_io_store *s, const char *key, lh_err *err)
{
    mem *m = s->impl;
    lh_rc rc = inject(s, "delete", err);
    if (rc != LH_OK) {
        return rc;
    }
    pthread_mutex_lock(&m->mu);
    object_free(lh_map_del(&m->objects, key, strlen(key)));
    pthread_mutex_unlock(&m->mu);
    return LH_OK;
}

static lh_rc
stat_entry(void *ctx, const char *key, lh_io_entry *e, lh_err *err)
{
    (void)err;
    object *o = lh_map_get(ctx, key, strlen(key));
    if (o == NULL) {
        return LH_ENOENT;
    }
    e->size = o->len;
    memcpy(e->etag, o->etag, sizeof(e->etag));
    return LH_OK;
}

static lh_rc
mem_list(lh_io_store *s, const lh_io_list_opts *opts, lh_arena *a,
         lh_io_page *page, lh_err *err)
{
    mem *m = s->impl;
    lh_rc rc = inject(s, "list", err);
    if (rc != LH_OK) {
        return rc;
    }
    size_t plen = strlen(opts->prefix);
    pthread_mutex_lock(&m->mu);
    char **keys = lh_malloc((m->objects.count + 1) * sizeof(*keys));
    size_t n = 0;
    if (keys == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory listing objects");
        goto done;
    }
    size_t it = 0;
    const void *k;
    size_t klen;
    void *v;
    while (lh_map_next(&m->objects, &it, &k, &klen, &v)) {
        /* Map keys carry no NUL: copy them as C strings. */
        if (klen >= plen && memcmp(k, opts->prefix, plen) == 0) {
            keys[n] = lh_strndup(k, klen);
            if (keys[n] == NULL) {
                rc = lh_err_set(err, LH_ENOMEM, "out of memory listing");
                goto done;
            }
            n++;
        }
    }
    lh__io_sort_keys(keys, n);
    rc = lh__io_page_fill(keys, n, opts, a, page, stat_entry, &m->objects, err);
done:
    pthread_mutex_unlock(&m->mu);
    for (size_t i = 0; i < n; i++) {
        lh_free(keys[i]);
    }
    lh_free(keys);
    return rc;
}

static lh_rc
mem_upload_begin(lh_io_store *s, const char *key, lh_io_upload **out,
                 lh_err *err)
{
    lh_rc rc = inject(s, "upload begin", err);
    if (rc != LH_OK) {
        return rc;
    }
    upload *up = lh_calloc(1, sizeof(*up));
    if (up == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory starting upload");
    }
    rc = lh__io_upload_new(s, key, up, out, err);
    if (rc != LH_OK) {
        lh_free(up);
    }
    return rc;
}

static lh_rc
mem_upload_part(lh_io_upload *u, int no, const void *data, size_t len,
                lh_err *err)
{
    upload *up = u->impl;
    lh_rc rc = inject(u->s, "upload part", err);
    if (rc != LH_OK) {
        return rc;
    }
    char *copy = lh_malloc(len);
    if (copy == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory in upload \"%s\"",
                          u->key);
    }
    memcpy(copy, data, len);
    for (size_t i = 0; i < up->count; i++) {
        if (up->parts[i].no == no) {
            lh_free(up->parts[i].data);
            up->parts[i].data = copy;
            up->parts[i].len = len;
            return LH_OK;
        }
    }
    if (up->count == up->cap) {
        size_t cap = up->cap == 0 ? 8 : up->cap * 2;
        part *p = lh_realloc(up->parts, cap * sizeof(*p));
        if (p == NULL) {
            lh_free(copy);
            return lh_err_set(err, LH_ENOMEM, "out of memory in upload \"%s\"",
                              u->key);
        }
        up->parts = p;
        up->cap = cap;
    }
    up->parts[up->count++] = (part){no, copy, len};
    return LH_OK;
}

static void
upload_free(lh_io_upload *u)
{
    upload *up = u->impl;
    for (size_t i = 0; i < up->count; i++) {
        lh_free(up->parts[i].data);
    }
    lh_free(up->parts);
    lh_free(up);
    lh__io_upload_free(u);
}

static int
cmp_parts(const void *a, const void *b)
{
    const part *x = a;
    const part *y = b;
    return (x->no > y->no) - (x->no < y->no);
}

static lh_rc
mem_upload_complete(lh_io_upload *u, lh_io_info *info, lh_err *err)
{
    upload *up = u->impl;
    lh_rc rc = inject(u->s, "upload complete", err);
    if (rc != LH_OK) {
        goto done;
    }
    if (up->count == 0) {
        rc = lh_err_set(err, LH_EINVAL, "upload of \"%s\": no parts", u->key);
        goto done;
    }
    qsort(up->parts, up->count, sizeof(*up->parts), cmp_parts);
    size_t total = 0;
    for (size_t i = 0; i < up->count; i++) {
        total += up->parts[i].len;
    }
    object *o = object_new(total);
    if (o == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory completing \"%s\"",
                        u->key);
        goto done;
    }
    size_t at = 0;
    for (size_t i = 0; i < up->count; i++) {
        memcpy(o->data + at, up->parts[i].data, up->parts[i].len);
        at += up->parts[i].len;
    }
    lh__io_etag_of(o->data, total, o->etag);
    rc = install(u->s->impl, u->key, o, false, NULL, info, err);
done:
    upload_free(u);
    return rc;
}

static lh_rc
mem_upload_abort(lh_io_upload *u, lh_err *err)
{
    lh_rc rc = inject(u->s, "upload abort", err);
    upload_free(u);
    return rc;
}

static void
mem_close(lh_io_store *s)
{
    mem *m = s->impl;
    size_t it = 0;
    const void *k;
    size_t klen;
    void *v;
    while (lh_map_next(&m->objects, &it, &k, &klen, &v)) {
        object_free(v);
    }
    lh_map_release(&m->objects);
    pthread_mutex_destroy(&m->mu);
    lh_free(m);
    lh_free(s);
}

static const lh_io_methods mem_methods = {
    .name = "mem",
    .get = mem_get,
    .head = mem_head,
    .put = mem_put,
    .del = mem_del,
    .list = mem_list,
    .upload_begin = mem_upload_begin,
    .upload_part = mem_upload_part,
    .upload_complete = mem_upload_complete,
    .upload_abort = mem_upload_abort,
    .close = mem_close,
};

lh_rc
lh_io_mem_open(lh_io_store **out, lh_err *err)
{
    *out = NULL;
    lh_io_store *s = lh_calloc(1, sizeof(*s));
    mem *m = lh_calloc(1, sizeof(*m));
    if (s == NULL || m == NULL) {
        lh_free(s);
        lh_free(m);
        return lh_err_set(err, LH_ENOMEM, "out of memory opening mem store");
    }
    pthread_mutex_init(&m->mu, NULL);
    lh_map_init(&m->objects);
    s->m = &mem_methods;
    s->impl = m;
    *out = s;
    return LH_OK;
}

static mem *
mem_of(lh_io_store *s)
{
    return s != NULL && s->m == &mem_methods ? s->impl : NULL;
}

lh_rc
lh_io_mem_fail_nth(lh_io_store *s, uint64_t n, lh_rc code, int http_status)
{
    mem *m = mem_of(s);
    if (m == NULL) {
        return LH_EINVAL;
    }
    pthread_mutex_lock(&m->mu);
    m->fail_at = n == 0 ? 0 : m->calls + n;
    m->fail_code = code;
    m->fail_http = http_status;
    pthread_mutex_unlock(&m->mu);
    return LH_OK;
}

lh_rc
lh_io_mem_fail_rate(lh_io_store *s, unsigned percent, uint64_t seed)
{
    mem *m = mem_of(s);
    if (m == NULL || percent > 100) {
        return LH_EINVAL;
    }
    pthread_mutex_lock(&m->mu);
    m->fail_percent = percent;
    m->rng = seed != 0 ? seed : UINT64_C(0x9e3779b97f4a7c15);
    pthread_mutex_unlock(&m->mu);
    return LH_OK;
}

lh_rc
lh_io_mem_set_latency(lh_io_store *s, uint64_t usec)
{
    mem *m = mem_of(s);
    if (m == NULL) {
        return LH_EINVAL;
    }
    pthread_mutex_lock(&m->mu);
    m->latency_us = usec;
    pthread_mutex_unlock(&m->mu);
    return LH_OK;
}

uint64_t
lh_io_mem_calls(lh_io_store *s)
{
    mem *m = mem_of(s);
    if (m == NULL) {
        return 0;
    }
    pthread_mutex_lock(&m->mu);
    uint64_t n = m->calls;
    pthread_mutex_unlock(&m->mu);
    return n;
}
