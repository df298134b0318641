/*
 * A table opened from its metadata file on an object store, and the rules
 * that turn the locations inside its metadata into store keys (iceberg.h,
 * "tables"): path maps, URI schemes, relative paths.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/iceberg/iceberg_int.h"

#define KEY_MAX LH_IO_KEY_MAX

struct lh_ice_table {
    lh_io_store *store;
    char *store_uri;  /* "s3://b/p" or "" (local: keys are under root) */
    char *local_root; /* a local store's root directory, or NULL */
    char *metadata_key;
    char *table_key;  /* the table folder (metadata/'s parent) */
    char *table_name; /* its last segment */
    lh_ice_path_map *maps;
    uint32_t nmaps;
    char *store_id;       /* the store in cache keys */
    lh__ice_cached *ment; /* the current metadata's cache entry */
    lh__ice_cached **old; /* earlier versions' (refresh keeps what callers
                             may still point into) */
    uint32_t nold;
    lh_ice_meta *meta;
    int64_t version; /* N of v<N>.metadata.json, or -1 */
    /* A catalog table: the catalog (borrowed) and its names, and the
     * current metadata's location as the catalog holds it. */
    lh_ice_catalog *cat;
    char *cat_ns, *cat_name;
    char *metadata_loc;
};

static bool
has_scheme(const char *s)
{
    if (!isalpha((unsigned char)s[0])) {
        return false;
    }
    const char *p = s + 1;
    while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.') {
        p++;
    }
    return *p == ':' && p - s > 1; /* "C:" is not a scheme here */
}

/* Appends path to out[0..n) collapsing "//" and "./" and refusing "..". */
static bool
normalize(const char *path, char *out, size_t n)
{
    size_t o = 0;
    const char *s = path;
    while (*s) {
        while (*s == '/') {
            s++;
        }
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 0) {
            break;
        }
        if (len == 1 && s[0] == '.') {
            s += len;
            continue;
        }
        if (len == 2 && s[0] == '.' && s[1] == '.') {
            return false;
        }
        if (o + len + 2 > n) {
            return false;
        }
        if (o > 0) {
            out[o++] = '/';
        }
        memcpy(out + o, s, len);
        o += len;
        s += len;
    }
    out[o] = 0;
    return o > 0;
}

/* A user's local path with "." and ".." resolved lexically (the path may
 * not exist yet, so no realpath). */
static void
resolve_dots(const char *in, char *out, size_t n)
{
    size_t o = 0;
    const char *s = in;
    out[0] = 0;
    while (*s) {
        while (*s == '/') {
            s++;
        }
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 0 || (len == 1 && s[0] == '.')) {
            s += len;
            continue;
        }
        if (len == 2 && s[0] == '.' && s[1] == '.') {
            while (o > 0 && out[o - 1] != '/') {
                o--;
            }
            if (o > 0) {
                o--;
            }
            out[o] = 0;
            s += len;
            continue;
        }
        if (o + len + 2 > n) {
            break;
        }
        out[o++] = '/';
        memcpy(out + o, s, len);
        o += len;
        out[o] = 0;
        s += len;
    }
    if (o == 0 && n > 1) {
        out[0] = '/';
        out[1] = 0;
    }
}

/* A local absolute path (after file: or without a scheme) as a key. */
static lh_rc
local_key(const lh_ice_table *t, const char *path, const char *location,
          char *buf, size_t n, lh_err *err)
{
    if (t->local_root == NULL) {
        return lh_err_set(err, LH_EINVAL,
                          "location \"%.300s\" is a local path, but the "
                          "store is \"%.200s\" (map it with --path-map "
                          "FROM=TO)",
                          location, t->store_uri);
    }
    size_t rl = strlen(t->local_root);
    const char *rest = path;
    if (rl > 0) {
        if (strncmp(path, t->local_root, rl) != 0 ||
            (path[rl] != '/' && path[rl] != 0)) {
            return lh_err_set(err, LH_EINVAL,
                              "location \"%.300s\" is outside the store "
                              "\"%.200s\" (map it with --path-map FROM=TO)",
                              location, t->local_root);
        }
        rest = path + rl;
    }
    if (!normalize(rest, buf, n)) {
        return lh_err_set(err, LH_EINVAL, "bad location \"%.300s\"", location);
    }
    return LH_OK;
}

lh_rc
lh_ice_table_key(const lh_ice_table *t, const char *location, char *buf,
                 size_t n, lh_err *err)
{
    char mapped[KEY_MAX * 2 + 16];
    const char *loc = location;
    for (uint32_t i = 0; i < t->nmaps; i++) {
        size_t fl = strlen(t->maps[i].from);
        if (fl > 0 && strncmp(location, t->maps[i].from, fl) == 0) {
            snprintf(mapped, sizeof(mapped), "%s%s", t->maps[i].to,
                     location + fl);
            loc = mapped;
            break;
        }
    }
    if (strncmp(loc, "file:", 5) == 0) {
        const char *p = loc + 5;
        if (strncmp(p, "//", 2) == 0) {
            p += 2; /* file:///abs or file://host/abs (host ignored) */
            if (*p != '/') {
                p = strchr(p, '/');
                if (p == NULL) {
                    return lh_err_set(err, LH_EINVAL, "bad location \"%.300s\"",
                                      location);
                }
            }
        }
        return local_key(t, p, location, buf, n, err);
    }
    if (has_scheme(loc)) {
        size_t ul = strlen(t->store_uri);
        if (ul == 0 || strncmp(loc, t->store_uri, ul) != 0 ||
            (loc[ul] != '/' && loc[ul] != 0)) {
            return lh_err_set(err, LH_EINVAL,
                              "location \"%.300s\" is outside the store "
                              "\"%.200s\" (map it with --path-map FROM=TO)",
                              location,
                              ul ? t->store_uri
                                 : (t->local_root ? t->local_root : ""));
        }
        if (!normalize(loc + ul, buf, n)) {
            return lh_err_set(err, LH_EINVAL, "bad location \"%.300s\"",
                              location);
        }
        return LH_OK;
    }
    if (loc[0] == '/') {
        return local_key(t, loc, location, buf, n, err);
    }
    /* Relative: against the table folder's parent when it starts with the
     * table folder's name, else against the table folder. */
    const char *p = loc;
    while (strncmp(p, "./", 2) == 0) {
        p += 2;
    }
    size_t nl = strlen(t->table_name);
    char joined[KEY_MAX * 3 + 16];
    bool under_parent =
        nl > 0 && strncmp(p, t->table_name, nl) == 0 && p[nl] == '/';
    if (under_parent) {
        const char *slash = strrchr(t->table_key, '/');
        size_t pl = slash ? (size_t)(slash - t->table_key) : 0;
        snprintf(joined, sizeof(joined), "%.*s/%s", (int)pl, t->table_key, p);
    } else {
        snprintf(joined, sizeof(joined), "%s/%s", t->table_key, p);
    }
    if (!normalize(joined, buf, n)) {
        return lh_err_set(err, LH_EINVAL, "bad location \"%.300s\"", location);
    }
    return LH_OK;
}

lh_rc
lh_ice_table_get(const lh_ice_table *t, const char *location, lh_buf *out,
                 lh_err *err)
{
    char key[KEY_MAX + 1];
    lh_rc rc = lh_ice_table_key(t, location, key, sizeof(key), err);
    if (rc == LH_OK) {
        rc = lh_io_get(t->store, key, out, NULL, err);
    }
    return rc;
}

void
lh_ice_table_close(lh_ice_table *t)
{
    if (t == NULL) {
        return;
    }
    lh_io_close(t->store);
    lh_free(t->store_uri);
    lh_free(t->local_root);
    lh_free(t->metadata_key);
    lh_free(t->table_key);
    lh_free(t->table_name);
    for (uint32_t i = 0; i < t->nmaps; i++) {
        lh_free((char *)t->maps[i].from);
        lh_free((char *)t->maps[i].to);
    }
    lh_free(t->maps);
    lh_free(t->cat_ns);
    lh_free(t->cat_name);
    lh_free(t->metadata_loc);
    lh_free(t->store_id);
    lh__ice_cache_release(t->ment);
    for (uint32_t i = 0; i < t->nold; i++) {
        lh__ice_cache_release(t->old[i]);
    }
    lh_free(t->old);
    lh_free(t);
}

const lh_ice_meta *
lh_ice_table_meta(const lh_ice_table *t)
{
    return t->meta;
}

const char *
lh_ice_table_metadata_key(const lh_ice_table *t)
{
    return t->metadata_key;
}

lh_io_store *
lh_ice_table_store(const lh_ice_table *t)
{
    return t->store;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The version number of a metadata file name: "v12.metadata.json",
 * "00012-<uuid>.metadata.json", "v3.gz.metadata.json"; -1 otherwise. */
static int64_t
metadata_version(const char *name)
{
    if (!ends_with(name, ".metadata.json") &&
        !ends_with(name, ".metadata.json.gz")) {
        return -1;
    }
    const char *p = name[0] == 'v' ? name + 1 : name;
    if (!isdigit((unsigned char)*p)) {
        return -1;
    }
    int64_t v = 0;
    while (isdigit((unsigned char)*p) && v < INT64_MAX / 10) {
        v = v * 10 + (*p++ - '0');
    }
    return (*p == '.' || *p == '-') ? v : -1;
}

/* The metadata file of a table folder. */
static lh_rc
find_metadata(lh_ice_table *t, const char *folder, char **out, lh_err *err)
{
    char key[KEY_MAX + 1];
    lh_buf hint = LH_BUF_INIT;
    snprintf(key, sizeof(key), "%s/metadata/version-hint.text", folder);
    lh_err e2;
    lh_rc rc = lh_io_get(t->store, key, &hint, NULL, &e2);
    if (rc == LH_OK) {
        char v[64];
        size_t n = 0;
        for (size_t i = 0; i < hint.len && n + 1 < sizeof(v); i++) {
            if (!isspace((unsigned char)hint.data[i])) {
                v[n++] = hint.data[i];
            }
        }
        v[n] = 0;
        lh_buf_release(&hint);
        static const char *const forms[] = {"%s/metadata/v%s.metadata.json",
                                            "%s/metadata/v%s.gz.metadata.json",
                                            "%s/metadata/%s"};
        for (size_t i = 0; i < LH_ARRAY_LEN(forms); i++) {
            snprintf(key, sizeof(key), forms[i], folder, v);
            lh_io_info info;
            if (n > 0 && lh_io_head(t->store, key, &info, NULL) == LH_OK) {
                /* A writer may have published v<N+1> and died before the
                 * hint: step forward while the next version exists. */
                char *end;
                long long hv = strtoll(v, &end, 10);
                if (i == 0 && *end == 0 && hv >= 0) {
                    char next[KEY_MAX + 1];
                    for (;;) {
                        snprintf(next, sizeof(next),
                                 "%s/metadata/v%lld.metadata.json", folder,
                                 hv + 1);
                        if (lh_io_head(t->store, next, &info, NULL) != LH_OK) {
                            break;
                        }
                        hv++;
                        snprintf(key, sizeof(key), "%s", next);
                    }
                }
                *out = lh_strdup(key);
                return *out ? LH_OK
                            : lh_err_set(err, LH_ENOMEM, "out of memory");
            }
        }
    }
    lh_buf_release(&hint);
    /* The highest-numbered metadata file. */
    char prefix[KEY_MAX + 1];
    snprintf(prefix, sizeof(prefix), "%s/metadata/", folder);
    lh_io_list_opts lo = {prefix, NULL, NULL, 0};
    int64_t best = -1;
    char *best_key = NULL;
    char token[KEY_MAX + 64];
    for (;;) {
        lh_arena a;
        lh_arena_init(&a, 0);
        lh_io_page page;
        rc = lh_io_list(t->store, &lo, &a, &page, err);
        if (rc != LH_OK) {
            lh_arena_release(&a);
            lh_free(best_key);
            return rc;
        }
        for (size_t i = 0; i < page.count; i++) {
            const char *name = page.entries[i].key + strlen(prefix);
            if (strchr(name, '/') != NULL) {
                continue;
            }
            int64_t v = metadata_version(name);
            if (v > best) {
                best = v;
                lh_free(best_key);
                best_key = lh_strdup(page.entries[i].key);
            }
        }
        bool more = page.next_token != NULL;
        if (more) {
            snprintf(token, sizeof(token), "%s", page.next_token);
            lo.token = token;
        }
        lh_arena_release(&a);
        if (!more) {
            break;
        }
    }
    if (best_key == NULL) {
        return lh_err_set(err, LH_ENOENT,
                          "no Iceberg table at \"%.300s\": no "
                          "metadata/version-hint.text and no "
                          "metadata/*.metadata.json",
                          folder);
    }
    *out = best_key;
    return LH_OK;
}

static lh_rc
set_folder(lh_ice_table *t)
{
    /* <folder>/metadata/<file>: the folder; else the file's directory. */
    char *k = lh_strdup(t->metadata_key);
    if (k == NULL) {
        return LH_ENOMEM;
    }
    char *slash = strrchr(k, '/');
    if (slash != NULL) {
        *slash = 0;
        char *up = strrchr(k, '/');
        const char *last = up ? up + 1 : k;
        if (strcmp(last, "metadata") == 0) {
            if (up != NULL) {
                *up = 0;
            } else {
                k[0] = 0;
            }
        }
    } else {
        k[0] = 0;
    }
    t->table_key = k;
    const char *name = strrchr(k, '/');
    t->table_name = lh_strdup(name ? name + 1 : k);
    return t->table_name ? LH_OK : LH_ENOMEM;
}

/* The store and the table's key (normalized into norm). */
static lh_rc
open_handle(const char *table, const lh_ice_open_opts *opts, lh_ice_table **out,
            char *norm, size_t nnorm, lh_err *err)
{
    *out = NULL;
    lh_ice_table *t = lh_calloc(1, sizeof(*t));
    if (t == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = LH_OK;
    const char *store = opts ? opts->store : NULL;
    char abs[KEY_MAX * 2 + 1];
    const char *tkey = table;
    if (store == NULL || strncmp(store, "file://", 7) == 0 ||
        !has_scheme(store)) {
        /* A local store: the given root, or "/" for a local path. */
        const char *root = store == NULL                       ? "/"
                           : strncmp(store, "file://", 7) == 0 ? store + 7
                                                               : store;
        char rootbuf[KEY_MAX * 2 + 2];
        if (root[0] != '/') {
            char cwd[KEY_MAX];
            if (getcwd(cwd, sizeof(cwd)) == NULL) {
                lh_ice_table_close(t);
                return lh_err_sys(err, LH_EIO, errno, "getcwd");
            }
            int w = snprintf(rootbuf, sizeof(rootbuf), "%s/%s", cwd, root);
            if (w < 0 || (size_t)w >= sizeof(rootbuf)) {
                lh_ice_table_close(t);
                return lh_err_set(err, LH_ELIMIT, "store path too long");
            }
            root = rootbuf;
        }
        char rootres[KEY_MAX + 1];
        resolve_dots(root, rootres, sizeof(rootres));
        root = rootres;
        size_t rl = strlen(root);
        while (rl > 1 && root[rl - 1] == '/') {
            rl--;
        }
        t->local_root = lh_strndup(root, rl == 1 ? 0 : rl);
        t->store_uri = lh_strdup("");
        if (t->local_root == NULL || t->store_uri == NULL) {
            lh_ice_table_close(t);
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        rc = lh_io_local_open(rl == 0 || rl == 1 ? "/" : t->local_root,
                              &t->store, err);
        if (rc != LH_OK) {
            lh_ice_table_close(t);
            return rc;
        }
        /* The table: a path (absolute, or relative to the working
         * directory without a store; a key in the store with one). */
        const char *path = table;
        if (strncmp(path, "file:", 5) == 0) {
            path += 5;
            while (path[0] == '/' && path[1] == '/') {
                path++;
            }
        }
        if (path[0] != '/' && store == NULL) {
            char cwd[KEY_MAX];
            if (getcwd(cwd, sizeof(cwd)) == NULL) {
                lh_ice_table_close(t);
                return lh_err_sys(err, LH_EIO, errno, "getcwd");
            }
            snprintf(abs, sizeof(abs), "%s/%s", cwd, path);
            path = abs;
        }
        if (path[0] == '/') {
            char key[KEY_MAX + 1], res[KEY_MAX * 2 + 1];
            resolve_dots(path, res, sizeof(res));
            rc = local_key(t, res, table, key, sizeof(key), err);
            if (rc != LH_OK) {
                lh_ice_table_close(t);
                return rc;
            }
            snprintf(abs, sizeof(abs), "%s", key);
            tkey = abs;
        } else {
            tkey = path;
        }
    } else {
        rc = lh_io_open(store, &t->store, err);
        if (rc != LH_OK) {
            lh_ice_table_close(t);
            return rc;
        }
        size_t ul = strlen(store);
        while (ul > 0 && store[ul - 1] == '/') {
            ul--;
        }
        const char *q = strchr(store, '?'); /* endpoint=... is not a path */
        if (q != NULL && (size_t)(q - store) < ul) {
            ul = (size_t)(q - store);
        }
        t->store_uri = lh_strndup(store, ul);
        if (t->store_uri == NULL) {
            lh_ice_table_close(t);
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        if (strncmp(table, t->store_uri, ul) == 0 && table[ul] == '/') {
            tkey = table + ul + 1;
        }
    }
    if (opts != NULL && opts->nmaps > 0) {
        t->maps = lh_calloc(opts->nmaps, sizeof(*t->maps));
        if (t->maps == NULL) {
            lh_ice_table_close(t);
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        for (uint32_t i = 0; i < opts->nmaps; i++) {
            t->maps[i].from = lh_strdup(opts->maps[i].from);
            t->maps[i].to = lh_strdup(opts->maps[i].to);
            t->nmaps++;
            if (t->maps[i].from == NULL || t->maps[i].to == NULL) {
                lh_ice_table_close(t);
                return lh_err_set(err, LH_ENOMEM, "out of memory");
            }
        }
    }
    if (!normalize(tkey, norm, nnorm)) {
        lh_ice_table_close(t);
        return lh_err_set(err, LH_EINVAL, "bad table path \"%.300s\"", table);
    }
    lh_buf id = LH_BUF_INIT;
    if (t->store_uri[0] != 0) {
        lh_buf_puts(&id, t->store_uri);
    } else {
        lh_buf_printf(&id, "file://%s", t->local_root);
    }
    t->store_id = lh_buf_ok(&id) ? lh_strdup(id.data) : NULL;
    lh_buf_release(&id);
    if (t->store_id == NULL) {
        lh_ice_table_close(t);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    t->version = -1;
    *out = t;
    return LH_OK;
}

/* The parsed metadata of the bytes just read from key (info: what the
 * store said of them), from the cache when the same bytes were parsed
 * before (the ETag proves them: iceberg_int.h, "cache.c"). *out holds one
 * reference. */
static lh_rc
parse_metadata(const lh_ice_table *t, const char *key, const lh_buf *body,
               const lh_io_info *info, lh__ice_cached **out, lh_err *err)
{
    *out = NULL;
    lh_buf k = LH_BUF_INIT;
    lh_buf_printf(&k, "meta %zu:%s %zu:%s %llu %s", strlen(t->store_id),
                  t->store_id, strlen(key), key, (unsigned long long)info->size,
                  info->etag);
    if (!lh_buf_ok(&k)) {
        lh_buf_release(&k);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    bool cacheable = info->etag[0] != 0 && lh__ice_cache_enabled();
    lh__ice_cached *e = cacheable ? lh__ice_cache_get(k.data, k.len) : NULL;
    lh_rc rc = LH_OK;
    if (e == NULL) {
        rc = lh__ice_cache_new(k.data, k.len, &e, err);
        lh_ice_meta *m = NULL;
        if (rc == LH_OK) {
            rc = lh_ice_meta_parse((const uint8_t *)body->data, body->len,
                                   lh__ice_cached_arena(e), &m, err);
            if (rc != LH_OK) {
                lh_err_prefix(err, "\"%.300s\"", key);
                lh__ice_cache_release(e);
                e = NULL;
            }
        }
        if (rc == LH_OK && cacheable) {
            lh__ice_cache_put(e, m);
        } else if (rc == LH_OK) {
            /* kept by this handle alone */
            lh__ice_cached_set(e, m);
        }
    }
    lh_buf_release(&k);
    *out = e;
    return rc;
}

/* Loads the metadata file at key as the table's current version. */
static lh_rc
load(lh_ice_table *t, const char *key, lh_err *err)
{
    lh_buf body = LH_BUF_INIT;
    lh_io_info info;
    memset(&info, 0, sizeof(info));
    lh_rc rc = lh_io_get(t->store, key, &body, &info, err);
    lh__ice_cached *e = NULL;
    if (rc == LH_OK) {
        rc = parse_metadata(t, key, &body, &info, &e, err);
    }
    lh_buf_release(&body);
    char *k = rc == LH_OK ? lh_strdup(key) : NULL;
    lh__ice_cached **old =
        rc == LH_OK && t->ment != NULL
            ? lh_realloc(t->old, (t->nold + 1) * sizeof(*t->old))
            : t->old;
    if (rc == LH_OK && (k == NULL || (t->ment != NULL && old == NULL))) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    if (rc != LH_OK) {
        lh_free(k);
        lh__ice_cache_release(e);
        return rc;
    }
    t->old = old;
    if (t->ment != NULL) {
        t->old[t->nold++] = t->ment;
    }
    t->ment = e;
    t->meta = lh__ice_cached_obj(e);
    lh_free(t->metadata_key);
    t->metadata_key = k;
    const char *base = strrchr(k, '/');
    base = base ? base + 1 : k;
    t->version =
        (base[0] == 'v' || t->cat != NULL) && ends_with(base, ".metadata.json")
            ? metadata_version(base)
            : -1;
    return LH_OK;
}

lh_rc
lh_ice_table_open(const char *table, const lh_ice_open_opts *opts,
                  lh_ice_table **out, lh_err *err)
{
    char norm[KEY_MAX + 1];
    lh_ice_table *t;
    *out = NULL;
    lh_rc rc = open_handle(table, opts, &t, norm, sizeof(norm), err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_io_info info;
    lh_err e2;
    bool is_file = (ends_with(norm, ".json") || ends_with(norm, ".json.gz")) &&
                   lh_io_head(t->store, norm, &info, &e2) == LH_OK;
    char *key = NULL;
    if (is_file) {
        key = lh_strdup(norm);
        rc = key ? LH_OK : lh_err_set(err, LH_ENOMEM, "out of memory");
    } else {
        rc = find_metadata(t, norm, &key, err);
    }
    if (rc == LH_OK) {
        t->metadata_key = key;
        key = NULL;
        if (set_folder(t) != LH_OK) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    if (rc == LH_OK) {
        char *k = lh_strdup(t->metadata_key);
        rc = k ? load(t, k, err) : lh_err_set(err, LH_ENOMEM, "out of memory");
        lh_free(k);
    }
    lh_free(key);
    if (rc != LH_OK) {
        lh_ice_table_close(t);
        return rc;
    }
    *out = t;
    return LH_OK;
}

lh_rc
lh__ice_table_open_empty(const char *table, const char *store,
                         const lh_ice_path_map *maps, uint32_t nmaps,
                         lh_ice_table **out, lh_err *err)
{
    char norm[KEY_MAX + 1];
    lh_ice_open_opts o = {store, maps, nmaps};
    lh_rc rc = open_handle(table, &o, out, norm, sizeof(norm), err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_ice_table *t = *out;
    t->table_key = lh_strdup(norm);
    const char *name = strrchr(norm, '/');
    t->table_name = lh_strdup(name ? name + 1 : norm);
    if (t->table_key == NULL || t->table_name == NULL) {
        lh_ice_table_close(t);
        *out = NULL;
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    return LH_OK;
}

const char *
lh__ice_table_store_id(const lh_ice_table *t)
{
    return t->store_id;
}

const char *
lh__ice_table_folder(const lh_ice_table *t)
{
    return t->table_key;
}

int64_t
lh__ice_table_version(const lh_ice_table *t)
{
    return t->version;
}

lh_rc
lh__ice_table_refresh(lh_ice_table *t, lh_err *err)
{
    if (t->cat != NULL) {
        char loc[KEY_MAX * 2], key[KEY_MAX + 1];
        lh_rc rc = lh__ice_catalog_location(t->cat, t->cat_ns, t->cat_name, loc,
                                            sizeof(loc), err);
        if (rc == LH_OK) {
            rc = lh_ice_table_key(t, loc, key, sizeof(key), err);
        }
        if (rc == LH_OK) {
            rc = load(t, key, err);
        }
        if (rc == LH_OK) {
            lh_free(t->metadata_loc);
            t->metadata_loc = lh_strdup(loc);
            if (t->metadata_loc == NULL) {
                rc = lh_err_set(err, LH_ENOMEM, "out of memory");
            }
        }
        return rc;
    }
    if (t->metadata_key != NULL && t->version < 0) {
        return lh_err_set(err, LH_EREADONLY,
                          "table \"%.300s\" was opened from a metadata file "
                          "not named v<N>.metadata.json: read-only",
                          t->metadata_key);
    }
    char *key = NULL;
    lh_rc rc = find_metadata(t, t->table_key, &key, err);
    if (rc == LH_OK) {
        rc = load(t, key, err);
    }
    lh_free(key);
    return rc;
}

lh_rc
lh_ice_table_refresh(lh_ice_table *t, lh_err *err)
{
    return lh__ice_table_refresh(t, err);
}

lh_rc
lh__ice_table_set_catalog(lh_ice_table *t, lh_ice_catalog *c, const char *ns,
                          const char *name, lh_err *err)
{
    t->cat = c;
    t->cat_ns = lh_strdup(ns);
    t->cat_name = lh_strdup(name);
    if (t->cat_ns == NULL || t->cat_name == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    return LH_OK;
}

lh_ice_catalog *
lh__ice_table_catalog(const lh_ice_table *t, const char **ns, const char **name)
{
    if (ns != NULL) {
        *ns = t->cat_ns;
    }
    if (name != NULL) {
        *name = t->cat_name;
    }
    return t->cat;
}

lh_rc
lh__ice_table_metadata_location(const lh_ice_table *t, char *buf, size_t n)
{
    if (t->metadata_loc != NULL) {
        snprintf(buf, n, "%s", t->metadata_loc);
        return LH_OK;
    }
    const char *base = t->metadata_key ? strrchr(t->metadata_key, '/') : NULL;
    snprintf(buf, n, "%s/metadata/%s", t->meta ? t->meta->location : "",
             base ? base + 1 : (t->metadata_key ? t->metadata_key : ""));
    return LH_OK;
}
