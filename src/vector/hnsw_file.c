/*
 * HNSW persistence: the file format is in docs/internals/vector.md ("HNSW
 * file"). Saving writes a temporary file beside the target, fsyncs it,
 * renames it over the target and fsyncs the directory, so a crash leaves
 * the old file or the new one, never a mix. Loading checks everything
 * before trusting it: a file that fails is LH_ECORRUPT and the caller
 * rebuilds from its rows.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vector/hnsw_int.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the hnsw file is written in host order: little-endian hosts only"
#endif

#define HNSW_MAGIC "LHHNSW01"
#define HNSW_END "LHHNSWOK"
#define HNSW_VERSION 1
#define HNSW_HDR 64
#define HNSW_TRAILER 12 /* crc32c, end magic */

typedef struct writer {
    int fd;
    uint8_t *buf;
    size_t n, cap;
    uint32_t crc;
    int errnum; /* first write error */
} writer;

static void
w_flush(writer *w)
{
    size_t off = 0;
    while (off < w->n && w->errnum == 0) {
        ssize_t r = write(w->fd, w->buf + off, w->n - off);
        if (r < 0) {
            if (errno != EINTR) {
                w->errnum = errno;
            }
            continue;
        }
        off += (size_t)r;
    }
    w->n = 0;
}

static void
w_put(writer *w, const void *p, size_t len)
{
    const uint8_t *b = p;
    w->crc = lh_crc32c(w->crc, p, len);
    while (len > 0) {
        size_t take = LH_MIN(len, w->cap - w->n);
        memcpy(w->buf + w->n, b, take);
        w->n += take;
        b += take;
        len -= take;
        if (w->n == w->cap) {
            w_flush(w);
        }
    }
}

static void
w_u32(writer *w, uint32_t v)
{
    w_put(w, &v, 4);
}

static lh_rc
sys_rc(int e)
{
    return e == ENOSPC || e == EDQUOT ? LH_ENOSPC : LH_EIO;
}

/* Writes the live nodes in slot order, renumbered 0..n-1. */
static void
write_graph(lh_hnsw *h, writer *w, const uint32_t *remap, uint32_t n,
            uint64_t covers)
{
    uint32_t ns = atomic_load(&h->n_slots);
    uint64_t e = atomic_load(&h->entry);
    uint32_t entry = UINT32_MAX, top = 0;
    if (e != HNSW_NO_ENTRY && remap[(uint32_t)e] != UINT32_MAX) {
        entry = remap[(uint32_t)e];
        top = (uint32_t)(e >> 32);
    }
    uint8_t hdr[HNSW_HDR] = {0};
    memcpy(hdr, HNSW_MAGIC, 8);
    uint32_t f32[6] = {
        HNSW_VERSION, (uint32_t)h->cfg.dim,   (uint32_t)h->cfg.metric,
        h->m,         h->cfg.ef_construction, h->cfg.ef_search};
    memcpy(hdr + 8, f32, sizeof(f32));
    uint64_t nn = n;
    memcpy(hdr + 32, &nn, 8);
    memcpy(hdr + 40, &covers, 8);
    memcpy(hdr + 48, &entry, 4);
    memcpy(hdr + 52, &top, 4);
    memcpy(hdr + 56, &h->cfg.seed, 8);
    w_put(w, hdr, HNSW_HDR);
    for (uint32_t s = 0; s < ns; s++) {
        if (remap[s] != UINT32_MAX) {
            w_put(w, &hnsw_at(h, s)->id, 8);
        }
    }
    for (uint32_t s = 0; s < ns; s++) {
        if (remap[s] != UINT32_MAX) {
            w_put(w, &hnsw_at(h, s)->level, 1);
        }
    }
    uint8_t zero[8] = {0};
    w_put(w, zero, (8 - n % 8) % 8);
    for (uint32_t s = 0; s < ns; s++) {
        if (remap[s] != UINT32_MAX) {
            w_put(w, hnsw_vec(h, hnsw_at(h, s)), h->cfg.dim * sizeof(float));
        }
    }
    /* lists: level 0 of every node, then levels 1.. of each node in turn;
     * each padded to its capacity (m0 or m) so offsets are fixed */
    for (unsigned pass = 0; pass < 2; pass++) {
        for (uint32_t s = 0; s < ns; s++) {
            if (remap[s] == UINT32_MAX) {
                continue;
            }
            hnsw_node *nd = hnsw_at(h, s);
            unsigned from = pass == 0 ? 0 : 1;
            unsigned to = pass == 0 ? 0 : nd->level;
            for (unsigned l = from; l <= to; l++) {
                _Atomic uint32_t *ln =
                    l == 0 ? nd->links0
                           : nd->upper + (size_t)(l - 1) * (h->m + 1);
                unsigned cap = l == 0 ? h->m0 : h->m;
                uint32_t cnt = LH_MIN(atomic_load(&ln[0]), cap);
                uint32_t out[HNSW_MAX_M0 + 1] = {0};
                uint32_t k = 0;
                for (uint32_t i = 1; i <= cnt; i++) {
                    uint32_t x = remap[atomic_load(&ln[i])];
                    if (x != UINT32_MAX) {
                        out[1 + k++] = x;
                    }
                }
                out[0] = k;
                w_put(w, out, (cap + 1) * sizeof(uint32_t));
            }
        }
    }
}

lh_rc
lh_hnsw_save(lh_hnsw *h, const char *path, uint64_t covers, lh_err *err)
{
    pthread_rwlock_wrlock(&h->maint);
    lh_rc rc = LH_OK;
    uint32_t *remap = NULL;
    writer w = {.fd = -1};
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >=
        (int)sizeof(tmp)) {
        rc = lh_err_set(err, LH_EINVAL, "path too long: \"%s\"", path);
        goto done;
    }
    if (atomic_load(&h->n_deleted) > 0) {
        rc = lh__hnsw_repair_locked(h);
        if (rc != LH_OK) {
            rc = lh_err_set(err, rc, "out of memory saving \"%s\"", path);
            goto done;
        }
    }
    uint32_t ns = atomic_load(&h->n_slots), n = 0;
    remap = lh_malloc(((size_t)ns + 1) * sizeof(uint32_t));
    w.cap = 1 << 20;
    w.buf = lh_malloc(w.cap);
    if (remap == NULL || w.buf == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory saving \"%s\"", path);
        goto done;
    }
    for (uint32_t s = 0; s < ns; s++) {
        uint8_t f = atomic_load(hnsw_flags(h, s));
        remap[s] =
            (f & (HNSW_READY | HNSW_DELETED)) == HNSW_READY ? n++ : UINT32_MAX;
    }
    w.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w.fd < 0) {
        rc = lh_err_sys(err, sys_rc(errno), errno, "could not create \"%s\"",
                        tmp);
        goto done;
    }
    write_graph(h, &w, remap, n, covers);
    uint32_t crc = w.crc;
    w_u32(&w, crc);
    w_put(&w, HNSW_END, 8);
    w_flush(&w);
    if (w.errnum == 0 && fsync(w.fd) != 0) {
        w.errnum = errno;
    }
    if (close(w.fd) != 0 && w.errnum == 0) {
        w.errnum = errno;
    }
    w.fd = -1;
    if (w.errnum != 0) {
        rc = lh_err_sys(err, sys_rc(w.errnum), w.errnum,
                        "could not write \"%s\"", tmp);
        unlink(tmp);
        goto done;
    }
    if (rename(tmp, path) != 0) {
        rc = lh_err_sys(err, LH_EIO, errno, "could not rename \"%s\"", tmp);
        unlink(tmp);
        goto done;
    }
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
done:
    if (w.fd >= 0) {
        close(w.fd);
        unlink(tmp);
    }
    lh_free(w.buf);
    lh_free(remap);
    pthread_rwlock_unlock(&h->maint);
    return rc;
}

/* ---- load ---- */

static lh_rc
read_all(const char *path, uint8_t **out, size_t *len, lh_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return lh_err_sys(err, errno == ENOENT ? LH_ENOENT : LH_EIO, errno,
                          "could not open \"%s\"", path);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return lh_err_sys(err, LH_EIO, e, "could not stat \"%s\"", path);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *b = lh_malloc(n + 1);
    if (b == NULL) {
        close(fd);
        return lh_err_set(err, LH_ENOMEM, "out of memory reading \"%s\"", path);
    }
    size_t off = 0;
    while (off < n) {
        ssize_t r = read(fd, b + off, n - off);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            close(fd);
            lh_free(b);
            return lh_err_sys(err, LH_EIO, e, "could not read \"%s\"", path);
        }
        off += (size_t)r;
    }
    close(fd);
    *out = b;
    *len = n;
    return LH_OK;
}

static lh_rc
corrupt(lh_err *err, const char *path, const char *why)
{
    return lh_err_set(err, LH_ECORRUPT, "hnsw file \"%s\" is corrupt: %s", path,
                      why);
}

static uint32_t
u32at(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t
u64at(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Checks the list at p (cap + 1 words) against n nodes. */
static bool
list_ok(const uint8_t *p, unsigned cap, uint64_t n, const uint8_t *levels,
        unsigned level)
{
    uint32_t cnt = u32at(p);
    if (cnt > cap) {
        return false;
    }
    for (uint32_t i = 1; i <= cnt; i++) {
        uint32_t t = u32at(p + 4 * i);
        /* A link at level l leads to a node that has level l: searches
         * read the target's level-l list. */
        if (t >= n || levels[t] < level) {
            return false;
        }
    }
    return true;
}

static lh_rc
parse(const char *path, const uint8_t *b, size_t len,
      const lh_hnsw_config *want, uint64_t *covers, lh_hnsw **out, lh_err *err)
{
    if (len < HNSW_HDR + HNSW_TRAILER || memcmp(b, HNSW_MAGIC, 8) != 0 ||
        memcmp(b + len - 8, HNSW_END, 8) != 0) {
        return corrupt(err, path, "not an hnsw file, or cut short");
    }
    if (lh_crc32c(0, b, len - HNSW_TRAILER) != u32at(b + len - 12)) {
        return corrupt(err, path, "checksum mismatch");
    }
    if (u32at(b + 8) != HNSW_VERSION) {
        return lh_err_set(err, LH_EFORMAT,
                          "hnsw file \"%s\" has format version %u, not %u",
                          path, u32at(b + 8), HNSW_VERSION);
    }
    lh_hnsw_config c;
    lh_hnsw_config_default(&c, u32at(b + 12), (lh_vec_metric)u32at(b + 16));
    c.m = u32at(b + 20);
    c.ef_construction = u32at(b + 24);
    c.ef_search = u32at(b + 28);
    c.seed = u64at(b + 56);
    uint64_t n = u64at(b + 32);
    uint32_t entry = u32at(b + 48), top = u32at(b + 52);
    if (c.metric > LH_VEC_COS || c.dim == 0 || c.dim > LH_VEC_MAX_DIM ||
        c.m < 2 || c.m > HNSW_MAX_M0 / 2 || n >= (UINT64_C(1) << 30)) {
        return corrupt(err, path, "bad header");
    }
    if (want != NULL && (want->dim != c.dim || want->metric != c.metric)) {
        return lh_err_set(
            err, LH_EFORMAT,
            "hnsw file \"%s\" holds %zu-d %s vectors, not %zu-d %s", path,
            c.dim, lh_vec_metric_name(c.metric), want->dim,
            lh_vec_metric_name(want->metric));
    }
    if (want != NULL) {
        /* settings of searches and of inserts to come, not of the graph */
        c.ef_construction = want->ef_construction;
        c.ef_search = want->ef_search;
        c.max_elements = want->max_elements;
    }
    c.max_elements = LH_MAX(c.max_elements, n);
    /* sizes, before touching the sections */
    size_t body = len - HNSW_HDR - HNSW_TRAILER;
    size_t fixed = (size_t)n * 8 + (size_t)((n + 7) / 8 * 8);
    if (n > body / 8 || fixed > body) {
        return corrupt(err, path, "sizes do not add up");
    }
    const uint8_t *ids = b + HNSW_HDR;
    const uint8_t *levels = ids + n * 8;
    uint64_t uppers = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (levels[i] > HNSW_MAX_LEVEL) {
            return corrupt(err, path, "level out of range");
        }
        uppers += levels[i];
    }
    unsigned m0 = 2 * c.m;
    uint64_t need =
        fixed + n * c.dim * 4 + n * (m0 + 1) * 4 + uppers * (c.m + 1) * 4;
    if (need != body) {
        return corrupt(err, path, "sizes do not add up");
    }
    if ((n == 0) != (entry == UINT32_MAX) ||
        (n > 0 && (entry >= n || levels[entry] != top))) {
        return corrupt(err, path, "bad entry point");
    }
    const uint8_t *vecs = levels + (n + 7) / 8 * 8;
    const uint8_t *l0 = vecs + n * c.dim * 4;
    const uint8_t *up = l0 + n * (m0 + 1) * 4;
    for (uint64_t i = 0; i < n; i++) {
        if (!list_ok(l0 + i * (m0 + 1) * 4, m0, n, levels, 0)) {
            return corrupt(err, path, "link out of range");
        }
    }
    /* Node i's upper lists are levels[i] lists in a row, level 1 first. */
    const uint8_t *ul = up;
    for (uint64_t i = 0; i < n; i++) {
        for (unsigned l = 1; l <= levels[i]; l++) {
            if (!list_ok(ul, c.m, n, levels, l)) {
                return corrupt(err, path, "link out of range");
            }
            ul += (size_t)(c.m + 1) * 4;
        }
    }
    lh_hnsw *h;
    lh_rc rc = lh_hnsw_new(&c, &h, err);
    if (rc != LH_OK) {
        return rc == LH_EINVAL ? corrupt(err, path, "bad settings") : rc;
    }
    const uint8_t *upp = up;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t s = 0;
        rc = lh__hnsw_alloc_slot(h, &s, err);
        if (rc != LH_OK) {
            goto fail;
        }
        hnsw_node *nd = hnsw_at(h, s);
        nd->id = (int64_t)u64at(ids + i * 8);
        nd->level = levels[i];
        float *v = hnsw_vec(h, nd);
        memcpy(v, vecs + i * c.dim * 4, c.dim * 4);
        for (size_t d = 0; d < c.dim; d++) {
            if (!isfinite(v[d])) {
                rc = corrupt(err, path, "vector not finite");
                goto fail;
            }
        }
        memcpy((void *)nd->links0, l0 + i * (m0 + 1) * 4, (m0 + 1) * 4);
        if (nd->level > 0) {
            size_t words = (size_t)nd->level * (c.m + 1);
            nd->upper = lh_malloc(words * 4);
            if (nd->upper == NULL) {
                rc = lh_err_set(err, LH_ENOMEM, "out of memory loading \"%s\"",
                                path);
                goto fail;
            }
            memcpy((void *)nd->upper, upp, words * 4);
            upp += words * 4;
        }
        uint32_t old;
        if (lh__hnsw_map_put(&h->map, nd->id, s, &old) != LH_OK) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory loading \"%s\"",
                            path);
            goto fail;
        }
        if (old != UINT32_MAX) {
            rc = corrupt(err, path, "an id appears twice");
            goto fail;
        }
        atomic_store(hnsw_flags(h, s), HNSW_READY);
    }
    atomic_store(&h->n_live, (size_t)n);
    if (n > 0) {
        atomic_store(&h->entry, (uint64_t)top << 32 | entry);
    }
    if (covers != NULL) {
        *covers = u64at(b + 40);
    }
    *out = h;
    return LH_OK;
fail:
    lh_hnsw_free(h);
    return rc;
}

lh_rc
lh_hnsw_load(const char *path, const lh_hnsw_config *want, uint64_t *covers,
             lh_hnsw **out, lh_err *err)
{
    *out = NULL;
    uint8_t *b = NULL;
    size_t len = 0;
    lh_rc rc = read_all(path, &b, &len, err);
    if (rc != LH_OK) {
        return rc;
    }
    rc = parse(path, b, len, want, covers, out, err);
    lh_free(b);
    return rc;
}

lh_rc
lh_hnsw_load_mem(const void *p, size_t len, const char *name,
                 const lh_hnsw_config *want, uint64_t *covers, lh_hnsw **out,
                 lh_err *err)
{
    *out = NULL;
    return parse(name, p, len, want, covers, out, err);
}
