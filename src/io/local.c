/*
 * The local filesystem store. A key is a path under the root directory.
 *
 * Every write goes to a temporary file ".lh-io-tmp.<uuid>" in the target's
 * directory, is fsynced, then published by rename() (put, put_if_match) or
 * link() (put_if_absent, which fails with EEXIST atomically), and the
 * directory is fsynced, so after LH_OK the object survives a crash and a
 * reader sees the old object or the new one. Parent directories are made
 * as needed and their parents fsynced.
 *
 * Publishing (rename, link, unlink) happens under an OFD lock
 * (F_OFD_SETLKW) on ROOT/.lh-io.lock, opened for each call: OFD locks
 * exclude other threads and other processes alike, so put_if_match's
 * compare-then-rename is atomic against every writer of this root. Data is
 * written before the lock is taken, so the lock is held only for the
 * compare (which hashes the current object) and the rename.
 *
 * Multipart parts live in ROOT/.lh-io-multipart/<upload id>/<part>;
 * complete concatenates them into a temporary file in the target's
 * directory and publishes it as put does.
 *
 * Names starting with ".lh-io" are reserved (lh_io_key_check refuses them)
 * and never listed.
 *
 * Leftovers of killed writers. A temporary file is created as
 * ".lh-io-new.<uuid>", locked (an OFD write lock on the file itself, held
 * through its fd until the file is published or removed) and only then
 * renamed to ".lh-io-tmp.<uuid>". So a ".lh-io-tmp." file that nobody holds
 * locked belongs to a dead writer: listing removes each one it passes
 * (probing with F_OFD_SETLK, which fails while the writer lives). An
 * upload holds a lock on ".lh-io-multipart/<id>/lock" the same way (made
 * in "<id>.new" and renamed), and opening the store removes the upload
 * directories nobody holds. Only a writer killed between creating a
 * ".lh-io-new." name and renaming it (a few microseconds) leaves a file
 * that cannot be told from a live one; those are removed after an hour.
 * Leftovers are invisible to readers and listings either way.
 *
 * The ETag is the XXH3-128 of the content, computed when asked for (get,
 * head, list, the compare of put_if_match): it costs a read of the object.
 * A directory cannot also be an object: with "a/b" stored, "a" cannot be
 * (LH_EINVAL on put), unlike S3.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "io/io_int.h"

#define LOCK_NAME ".lh-io.lock"
#define TMP_PREFIX ".lh-io-tmp."
#define NEW_PREFIX ".lh-io-new."
/* Age after which an unlocked ".lh-io-new." name (see the top) goes. */
#define NEW_MAX_AGE_SEC (60 * 60)
#define MULTIPART_DIR ".lh-io-multipart"
#define RESERVED ".lh-io"
#define CHUNK (1u << 16)

typedef struct local {
    char *root;
} local;

typedef struct upload {
    char *dir;  /* ROOT/.lh-io-multipart/<id> */
    int lockfd; /* holds <dir>/lock while the upload is open */
} upload;

static lh_rc
errno_rc(int e)
{
    switch (e) {
    case ENOSPC:
    case EDQUOT:
        return LH_ENOSPC;
    case ENOENT:
        return LH_ENOENT;
    case ENOMEM:
        return LH_ENOMEM;
    case ENOTDIR:
    case EISDIR:
    case ENAMETOOLONG:
        return LH_EINVAL;
    default:
        return LH_EIO;
    }
}

static lh_rc
sys_err(lh_err *err, int e, const char *what, const char *key)
{
    return lh_err_sys(err, errno_rc(e), e, "could not %s object \"%s\"", what,
                      key);
}

static lh_rc
oom(lh_err *err, const char *key)
{
    return lh_err_set(err, LH_ENOMEM, "out of memory on object \"%s\"", key);
}

/* Sets b to the root joined with rel[0..n). */
static lh_rc
join(const local *l, const char *rel, size_t n, lh_buf *b)
{
    lh_buf_reset(b);
    lh_buf_puts(b, l->root);
    lh_buf_putc(b, '/');
    lh_buf_append(b, rel, n);
    return lh_buf_ok(b) ? LH_OK : LH_ENOMEM;
}

static int
fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    int e = fsync(fd) == 0 ? 0 : errno;
    close(fd);
    return e;
}

/* fsyncs the directory holding path (which is ROOT/... and has a '/'). */
static int
fsync_parent(const char *path)
{
    char *dir = lh_strndup(path, (size_t)(strrchr(path, '/') - path));
    if (dir == NULL) {
        return ENOMEM;
    }
    int e = fsync_path(dir);
    lh_free(dir);
    return e;
}

/* Makes the directories of path below the root (root_len bytes of path),
 * fsyncing the parent of each one made. Returns 0 or an errno. */
static int
make_dirs(char *path, size_t root_len)
{
    for (char *p = path + root_len + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        int e = 0;
        if (mkdir(path, 0755) == 0) {
            e = fsync_parent(path);
        } else if (errno != EEXIST) {
            e = errno;
        }
        *p = '/';
        if (e != 0) {
            return e;
        }
    }
    return 0;
}

/* Takes an OFD write lock on fd without waiting; 0 or an errno (EAGAIN:
 * someone holds it). */
static int
lock_fd(int fd)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    return fcntl(fd, F_OFD_SETLK, &fl) == 0 ? 0 : errno;
}

/* Creates a temporary file in the directory of `target` (a path), locked
 * by the returned fd for as long as it stays open (see the top); its path
 * goes to tmp. Returns the fd or -1 with errno set. */
static int
tmp_open(const char *target, lh_buf *tmp)
{
    lh_uuid u;
    char id[LH_UUID_STRLEN + 1];
    if (lh_uuid_v4(&u, NULL) != LH_OK) {
        errno = EIO;
        return -1;
    }
    lh_uuid_format(&u, id);
    size_t dir_len = (size_t)(strrchr(target, '/') - target);
    lh_buf fresh = LH_BUF_INIT;
    lh_buf_append(&fresh, target, dir_len);
    lh_buf_printf(&fresh, "/" NEW_PREFIX "%s", id);
    lh_buf_reset(tmp);
    lh_buf_append(tmp, target, dir_len);
    lh_buf_printf(tmp, "/" TMP_PREFIX "%s", id);
    if (!lh_buf_ok(tmp) || !lh_buf_ok(&fresh)) {
        lh_buf_release(&fresh);
        errno = ENOMEM;
        return -1;
    }
    int fd = open(fresh.data, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    int e = fd < 0 ? errno : lock_fd(fd);
    if (fd >= 0 && e == 0 && rename(fresh.data, tmp->data) != 0) {
        e = errno;
    }
    if (fd >= 0 && e != 0) {
        unlink(fresh.data);
        close(fd);
        fd = -1;
    }
    lh_buf_release(&fresh);
    errno = e;
    return fd;
}

/* Removes the leftover of a dead writer at path (a ".lh-io-tmp." or
 * ".lh-io-new." name, see the top); a live writer's file stays. */
static void
sweep_file(const char *path, const char *name)
{
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        return; /* gone meanwhile, or not ours to judge */
    }
    struct stat st;
    bool dead = false;
    if (strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
        dead = lock_fd(fd) == 0;
    } else if (fstat(fd, &st) == 0 &&
               st.st_mtim.tv_sec + NEW_MAX_AGE_SEC < time(NULL)) {
        /* The age first: a fresh ".lh-io-new." file is a writer between
         * its open and its lock, and our probe would take the lock
         * before the writer does (its lock_fd would then fail). */
        dead = lock_fd(fd) == 0;
    }
    if (dead) {
        unlink(path); /* under our lock: no writer can be using it */
    }
    close(fd);
}

static int
write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Takes the store's lock; returns its fd (close to release) or -1. */
static int
lock_take(const local *l, lh_err *err)
{
    lh_buf p = LH_BUF_INIT;
    if (join(l, LOCK_NAME, strlen(LOCK_NAME), &p) != LH_OK) {
        lh_buf_release(&p);
        lh_err_set(err, LH_ENOMEM, "out of memory locking the object store");
        return -1;
    }
    int fd = open(p.data, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        lh_err_sys(err, errno_rc(errno), errno, "could not open \"%s\"",
                   p.data);
        lh_buf_release(&p);
        return -1;
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    while (fcntl(fd, F_OFD_SETLKW, &fl) != 0) {
        if (errno != EINTR) {
            lh_err_sys(err, LH_EIO, errno, "could not lock \"%s\"", p.data);
            close(fd);
            lh_buf_release(&p);
            return -1;
        }
    }
    lh_buf_release(&p);
    return fd;
}

/* Reads the open file fd: its size and mtime into info, the XXH3-128 of
 * all of it into info->etag, and bytes [off, off+len) appended to out (out
 * may be NULL: no bytes wanted). */
static lh_rc
read_fd(int fd, const char *key, uint64_t off, uint64_t len, lh_buf *out,
        lh_io_info *info, lh_err *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        return sys_err(err, errno, "stat", key);
    }
    if (!S_ISREG(st.st_mode)) {
        return lh_err_set(err, LH_ENOENT, "no object \"%s\"", key);
    }
    uint64_t size = (uint64_t)st.st_size;
    if (out != NULL) {
        lh_rc rc = lh__io_range_fit(key, size, off, &len, err);
        if (rc != LH_OK) {
            return rc;
        }
        if (lh_buf_reserve(out, (size_t)len) != LH_OK) {
            return oom(err, key);
        }
    }
    XXH3_state_t *h = XXH3_createState();
    char *chunk = lh_malloc(CHUNK);
    lh_rc rc = LH_OK;
    if (h == NULL || chunk == NULL) {
        rc = oom(err, key);
        goto done;
    }
    XXH3_128bits_reset(h);
    uint64_t at = 0;
    for (;;) {
        ssize_t r = read(fd, chunk, CHUNK);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            rc = sys_err(err, errno, "read", key);
            goto done;
        }
        if (r == 0) {
            break;
        }
        XXH3_128bits_update(h, chunk, (size_t)r);
        if (out != NULL && at + (uint64_t)r > off && at < off + len) {
            uint64_t from = at < off ? off - at : 0;
            uint64_t to = LH_MIN((uint64_t)r, off + len - at);
            lh_buf_append(out, chunk + from, (size_t)(to - from));
        }
        at += (uint64_t)r;
    }
    if (out != NULL && !lh_buf_ok(out)) {
        rc = oom(err, key);
        goto done;
    }
    if (at != size) {
        /* Objects are replaced by rename, never changed in place. */
        rc = lh_err_set(err, LH_EIO, "object \"%s\" changed while read", key);
        goto done;
    }
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(h));
    lh__io_etag_format(c.digest, info->etag);
    info->size = size;
    info->mtime =
        (lh_us)st.st_mtim.tv_sec * LH_US_PER_SEC + st.st_mtim.tv_nsec / 1000;
done:
    XXH3_freeState(h);
    lh_free(chunk);
    return rc;
}

static lh_rc
read_path(const char *path, const char *key, uint64_t off, uint64_t len,
          lh_buf *out, lh_io_info *info, lh_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR) {
            return lh_err_set(err, LH_ENOENT, "no object \"%s\"", key);
        }
        return sys_err(err, e, "open", key);
    }
    lh_rc rc = read_fd(fd, key, off, len, out, info, err);
    close(fd);
    return rc;
}

static lh_rc
local_get(lh_io_store *s, const char *key, uint64_t off, uint64_t len,
          lh_buf *out, lh_io_info *info, lh_err *err)
{
    lh_buf p = LH_BUF_INIT;
    lh_rc rc = join(s->impl, key, strlen(key), &p);
    if (rc == LH_OK) {
        rc = read_path(p.data, key, off, len, out, info, err);
    } else {
        oom(err, key);
    }
    lh_buf_release(&p);
    return rc;
}

static lh_rc
local_head(lh_io_store *s, const char *key, lh_io_info *info, lh_err *err)
{
    lh_buf p = LH_BUF_INIT;
    lh_rc rc = join(s->impl, key, strlen(key), &p);
    if (rc == LH_OK) {
        rc = read_path(p.data, key, 0, 0, NULL, info, err);
    } else {
        oom(err, key);
    }
    lh_buf_release(&p);
    return rc;
}

/* Publishes the fsynced temporary file tmp as path (the object key), under
 * the store's lock, checking the condition; then fsyncs the directory. The
 * temporary file is gone afterwards, whatever happens. */
static lh_rc
publish(const local *l, const char *tmp, const char *path, const char *key,
        bool if_absent, const char *if_match, lh_err *err)
{
    lh_rc rc = LH_OK;
    int lock = lock_take(l, err);
    if (lock < 0) {
        unlink(tmp);
        return err != NULL ? err->code : LH_EIO;
    }
    if (if_absent) {
        if (link(tmp, path) != 0) {
            int e = errno;
            rc = e == EEXIST ? lh_err_set(err, LH_EEXIST,
                                          "object \"%s\" already exists", key)
                             : sys_err(err, e, "create", key);
        }
        unlink(tmp);
    } else {
        if (if_match != NULL) {
            lh_io_info cur;
            lh_err e2;
            lh_rc r = read_path(path, key, 0, 0, NULL, &cur, &e2);
            if (r == LH_ENOENT) {
                rc = lh_err_set(err, LH_ECONFLICT,
                                "object \"%s\" does not exist, expected etag "
                                "%s",
                                key, if_match);
            } else if (r != LH_OK) {
                rc = r;
                if (err != NULL) {
                    *err = e2;
                }
            } else if (strcmp(cur.etag, if_match) != 0) {
                rc = lh_err_set(err, LH_ECONFLICT,
                                "object \"%s\" has etag %s, expected %s", key,
                                cur.etag, if_match);
            }
        }
        if (rc == LH_OK && rename(tmp, path) != 0) {
            rc = sys_err(err, errno, "rename", key);
        }
        if (rc != LH_OK) {
            unlink(tmp);
        }
    }
    if (rc == LH_OK) {
        int e = fsync_parent(path);
        if (e != 0) {
            rc = sys_err(err, e, "sync directory of", key);
        }
    }
    close(lock);
    return rc;
}

/* A temporary file being filled for key: its path, fd and running hash. */
typedef struct writer {
    lh_buf path; /* the object's path */
    lh_buf tmp;  /* the temporary file's */
    int fd;
    XXH3_state_t *h;
    uint64_t size;
} writer;

static lh_rc
writer_open(const local *l, const char *key, writer *w, lh_err *err)
{
    memset(w, 0, sizeof(*w));
    w->fd = -1;
    if (join(l, key, strlen(key), &w->path) != LH_OK) {
        return oom(err, key);
    }
    w->h = XXH3_createState();
    if (w->h == NULL) {
        return oom(err, key);
    }
    XXH3_128bits_reset(w->h);
    int e = make_dirs(w->path.data, strlen(l->root));
    if (e != 0) {
        return sys_err(err, e, "make directories for", key);
    }
    w->fd = tmp_open(w->path.data, &w->tmp);
    if (w->fd < 0) {
        return sys_err(err, errno, "create temporary file for", key);
    }
    return LH_OK;
}

static lh_rc
writer_write(writer *w, const char *key, const void *data, size_t len,
             lh_err *err)
{
    int e = write_all(w->fd, data, len);
    if (e != 0) {
        return sys_err(err, e, "write", key);
    }
    XXH3_128bits_update(w->h, data, len);
    w->size += len;
    return LH_OK;
}

/* fsyncs and closes the temporary file, fills info, publishes. */
static lh_rc
writer_publish(const local *l, writer *w, const char *key, bool if_absent,
               const char *if_match, lh_io_info *info, lh_err *err)
{
    struct stat st;
    int e = fsync(w->fd) != 0 || fstat(w->fd, &st) != 0 ? errno : 0;
    if (e != 0) {
        return sys_err(err, e, "write", key); /* writer_release unlinks */
    }
    /* The fd (and with it the lock that marks the file as live) stays
     * open until the file is published or gone. */
    lh_rc rc =
        publish(l, w->tmp.data, w->path.data, key, if_absent, if_match, err);
    lh_buf_reset(&w->tmp); /* publish removed it */
    close(w->fd);
    w->fd = -1;
    if (rc != LH_OK) {
        return rc;
    }
    XXH128_canonical_t can;
    XXH128_canonicalFromHash(&can, XXH3_128bits_digest(w->h));
    lh__io_etag_format(can.digest, info->etag);
    info->size = w->size;
    info->mtime =
        (lh_us)st.st_mtim.tv_sec * LH_US_PER_SEC + st.st_mtim.tv_nsec / 1000;
    return LH_OK;
}

/* Frees w; removes the temporary file if it is still there. */
static void
writer_release(writer *w)
{
    if (w->fd >= 0) {
        close(w->fd);
    }
    if (w->tmp.len > 0) {
        unlink(w->tmp.data);
    }
    XXH3_freeState(w->h);
    lh_buf_release(&w->path);
    lh_buf_release(&w->tmp);
}

static lh_rc
local_put(lh_io_store *s, const char *key, const void *data, size_t len,
          bool if_absent, const char *if_match, lh_io_info *info, lh_err *err)
{
    writer w;
    lh_rc rc = writer_open(s->impl, key, &w, err);
    if (rc == LH_OK) {
        rc = writer_write(&w, key, data, len, err);
    }
    if (rc == LH_OK) {
        rc = writer_publish(s->impl, &w, key, if_absent, if_match, info, err);
    }
    writer_release(&w);
    return rc;
}

static lh_rc
local_del(lh_io_store *s, const char *key, lh_err *err)
{
    lh_buf p = LH_BUF_INIT;
    if (join(s->impl, key, strlen(key), &p) != LH_OK) {
        lh_buf_release(&p);
        return oom(err, key);
    }
    lh_rc rc = LH_OK;
    int lock = lock_take(s->impl, err);
    if (lock < 0) {
        lh_buf_release(&p);
        return err != NULL ? err->code : LH_EIO;
    }
    if (unlink(p.data) == 0) {
        int e = fsync_parent(p.data);
        if (e != 0) {
            rc = sys_err(err, e, "sync directory of", key);
        }
    } else if (errno != ENOENT && errno != ENOTDIR && errno != EISDIR) {
        rc = sys_err(err, errno, "delete", key);
    }
    close(lock);
    lh_buf_release(&p);
    return rc;
}

/* ---- list ---------------------------------------------------------------- */

typedef struct walk {
    char **keys;
    size_t n;
    size_t cap;
    const char *prefix;
    size_t root_len;
} walk;

static lh_rc
walk_add(walk *w, const char *key)
{
    if (w->n == w->cap) {
        size_t cap = w->cap == 0 ? 64 : w->cap * 2;
        char **k = lh_realloc(w->keys, cap * sizeof(*k));
        if (k == NULL) {
            return LH_ENOMEM;
        }
        w->keys = k;
        w->cap = cap;
    }
    w->keys[w->n] = lh_strdup(key);
    if (w->keys[w->n] == NULL) {
        return LH_ENOMEM;
    }
    w->n++;
    return LH_OK;
}

/* Collects the files under path (a buffer holding ROOT/<dir>) whose keys
 * start with the prefix, skipping reserved names. */
static lh_rc
walk_dir(walk *w, lh_buf *path, lh_err *err)
{
    DIR *d = opendir(path->data);
    if (d == NULL) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return LH_OK;
        }
        return lh_err_sys(err, LH_EIO, errno, "could not list \"%s\"",
                          path->data);
    }
    lh_rc rc = LH_OK;
    size_t base = path->len;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0 ||
            strncmp(name, NEW_PREFIX, strlen(NEW_PREFIX)) == 0) {
            path->len = base;
            lh_buf_putc(path, '/');
            lh_buf_puts(path, name);
            if (lh_buf_ok(path)) {
                sweep_file(path->data, name);
            }
            continue;
        }
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
            strncmp(name, RESERVED, strlen(RESERVED)) == 0) {
            continue;
        }
        path->len = base;
        lh_buf_putc(path, '/');
        lh_buf_puts(path, name);
        if (!lh_buf_ok(path)) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory listing objects");
            break;
        }
        const char *key = path->data + w->root_len + 1;
        size_t klen = strlen(key);
        size_t plen = strlen(w->prefix);
        /* Descend only where keys can still match the prefix. */
        if (strncmp(key, w->prefix, LH_MIN(klen, plen)) != 0) {
            continue;
        }
        struct stat st;
        if (lstat(path->data, &st) != 0) {
            continue; /* removed meanwhile */
        }
        if (S_ISDIR(st.st_mode)) {
            rc = walk_dir(w, path, err);
        } else if (S_ISREG(st.st_mode) && klen >= plen) {
            if (walk_add(w, key) != LH_OK) {
                rc =
                    lh_err_set(err, LH_ENOMEM, "out of memory listing objects");
            }
        }
        if (rc != LH_OK) {
            break;
        }
    }
    closedir(d);
    path->len = base;
    path->data[base] = '\0';
    return rc;
}

static lh_rc
stat_entry(void *ctx, const char *key, lh_io_entry *e, lh_err *err)
{
    lh_io_info info;
    lh_err e2;
    lh_rc rc = local_head(ctx, key, &info, &e2);
    if (rc == LH_OK) {
        e->size = info.size;
        memcpy(e->etag, info.etag, sizeof(e->etag));
    } else if (rc != LH_ENOENT && err != NULL) {
        *err = e2;
    }
    return rc;
}

static lh_rc
local_list(lh_io_store *s, const lh_io_list_opts *opts, lh_arena *a,
           lh_io_page *page, lh_err *err)
{
    local *l = s->impl;
    walk w = {.prefix = opts->prefix, .root_len = strlen(l->root)};
    lh_buf path = LH_BUF_INIT;
    lh_buf_puts(&path, l->root);
    /* Start in the deepest directory the prefix names. */
    const char *slash = strrchr(opts->prefix, '/');
    if (slash != NULL) {
        lh_buf_putc(&path, '/');
        lh_buf_append(&path, opts->prefix, (size_t)(slash - opts->prefix));
    }
    lh_rc rc = lh_buf_ok(&path)
                   ? walk_dir(&w, &path, err)
                   : lh_err_set(err, LH_ENOMEM, "out of memory listing");
    if (rc == LH_OK) {
        lh__io_sort_keys(w.keys, w.n);
        rc = lh__io_page_fill(w.keys, w.n, opts, a, page, stat_entry, s, err);
    }
    for (size_t i = 0; i < w.n; i++) {
        lh_free(w.keys[i]);
    }
    lh_free(w.keys);
    lh_buf_release(&path);
    return rc;
}

/* ---- multipart ----------------------------------------------------------- */

static void
remove_upload_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                unlinkat(dirfd(d), de->d_name, 0);
            }
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Whether the upload directory dir (".lh-io-multipart/<id>[.new]") was
 * left by a dead writer: its lock is free (or, lacking a lock file, or
 * named ".new", it is also older than NEW_MAX_AGE_SEC). */
static bool
upload_dir_dead(const char *dir, const char *name)
{
    lh_buf p = LH_BUF_INIT;
    lh_buf_printf(&p, "%s/lock", dir);
    if (!lh_buf_ok(&p)) {
        return false;
    }
    size_t n = strlen(name);
    bool fresh = n > 4 && strcmp(name + n - 4, ".new") == 0;
    struct stat st;
    bool old =
        stat(dir, &st) == 0 && st.st_mtim.tv_sec + NEW_MAX_AGE_SEC < time(NULL);
    if (fresh && !old) {
        /* A writer between making "<id>.new/lock" and locking it: a probe
         * now could take the lock first and fail its upload_begin. */
        lh_buf_release(&p);
        return false;
    }
    int fd = open(p.data, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    lh_buf_release(&p);
    if (fd < 0) {
        return errno == ENOENT && old;
    }
    bool free_lock = lock_fd(fd) == 0;
    close(fd); /* a probe: the lock goes with the fd */
    return free_lock && (!fresh || old);
}

/* Removes the upload directories of dead writers (see the top). */
static void
sweep_uploads(const local *l)
{
    lh_buf p = LH_BUF_INIT;
    lh_buf_printf(&p, "%s/" MULTIPART_DIR, l->root);
    DIR *d = lh_buf_ok(&p) ? opendir(p.data) : NULL;
    if (d == NULL) {
        lh_buf_release(&p);
        return;
    }
    size_t base = p.len;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        p.len = base;
        lh_buf_printf(&p, "/%s", de->d_name);
        if (lh_buf_ok(&p) && upload_dir_dead(p.data, de->d_name)) {
            remove_upload_dir(p.data);
        }
    }
    closedir(d);
    lh_buf_release(&p);
}

static lh_rc
local_upload_begin(lh_io_store *s, const char *key, lh_io_upload **out,
                   lh_err *err)
{
    local *l = s->impl;
    lh_uuid u;
    char id[LH_UUID_STRLEN + 1];
    lh_rc rc = lh_uuid_v4(&u, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_uuid_format(&u, id);
    upload *up = lh_calloc(1, sizeof(*up));
    lh_buf dir = LH_BUF_INIT;
    lh_buf fresh = LH_BUF_INIT; /* <id>.new/lock, renamed to <id>/ */
    lh_buf_printf(&dir, "%s/" MULTIPART_DIR "/%s", l->root, id);
    lh_buf_printf(&fresh, "%s.new/lock", dir.data);
    if (up == NULL || !lh_buf_ok(&dir) || !lh_buf_ok(&fresh)) {
        lh_free(up);
        lh_buf_release(&dir);
        lh_buf_release(&fresh);
        return oom(err, key);
    }
    up->lockfd = -1;
    int e = make_dirs(fresh.data, strlen(l->root));
    if (e == 0) {
        up->lockfd =
            open(fresh.data, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        e = up->lockfd < 0 ? errno : lock_fd(up->lockfd);
    }
    fresh.len -= strlen("/lock");
    fresh.data[fresh.len] = '\0'; /* the <id>.new directory */
    if (e == 0 && rename(fresh.data, dir.data) != 0) {
        e = errno;
    }
    if (e != 0) {
        remove_upload_dir(fresh.data);
        if (up->lockfd >= 0) {
            close(up->lockfd);
        }
        lh_free(up);
        lh_buf_release(&dir);
        lh_buf_release(&fresh);
        return sys_err(err, e, "start upload of", key);
    }
    lh_buf_release(&fresh);
    up->dir = lh_buf_take(&dir, NULL);
    rc = lh__io_upload_new(s, key, up, out, err);
    if (rc != LH_OK) {
        remove_upload_dir(up->dir);
        close(up->lockfd);
        lh_free(up->dir);
        lh_free(up);
    }
    return rc;
}

static lh_rc
local_upload_part(lh_io_upload *u, int no, const void *data, size_t len,
                  lh_err *err)
{
    upload *up = u->impl;
    lh_buf target = LH_BUF_INIT;
    lh_buf tmp = LH_BUF_INIT;
    lh_rc rc = LH_OK;
    lh_buf_printf(&target, "%s/%05d", up->dir, no);
    if (!lh_buf_ok(&target)) {
        rc = oom(err, u->key);
        goto done;
    }
    int fd = tmp_open(target.data, &tmp);
    if (fd < 0) {
        rc = sys_err(err, errno, "write part of", u->key);
        goto done;
    }
    int e = write_all(fd, data, len);
    if (e == 0 && fsync(fd) != 0) {
        e = errno;
    }
    if (e == 0 && rename(tmp.data, target.data) != 0) {
        e = errno;
    }
    if (e != 0) {
        unlink(tmp.data);
        rc = sys_err(err, e, "write part of", u->key);
    }
    close(fd); /* after the rename: the lock marks the file as live */
done:
    lh_buf_release(&target);
    lh_buf_release(&tmp);
    return rc;
}

static void
upload_free(lh_io_upload *u)
{
    upload *up = u->impl;
    remove_upload_dir(up->dir);
    close(up->lockfd);
    lh_free(up->dir);
    lh_free(up);
    lh__io_upload_free(u);
}

static int
cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a;
    int y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The part numbers stored for the upload, sorted; *n = 0 when none. */
static lh_rc
upload_parts(const upload *up, const char *key, int **parts, size_t *n,
             lh_err *err)
{
    *parts = NULL;
    *n = 0;
    DIR *d = opendir(up->dir);
    if (d == NULL) {
        return sys_err(err, errno, "complete upload of", key);
    }
    int *p = lh_malloc(LH_IO_PART_MAX * sizeof(*p));
    if (p == NULL) {
        closedir(d);
        return oom(err, key);
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL && *n < LH_IO_PART_MAX) {
        char *end;
        long v = strtol(de->d_name, &end, 10);
        if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && *end == '\0') {
            p[(*n)++] = (int)v;
        }
    }
    closedir(d);
    qsort(p, *n, sizeof(*p), cmp_int);
    *parts = p;
    return LH_OK;
}

static lh_rc
append_part(writer *w, const upload *up, int no, const char *key, char *chunk,
            lh_err *err)
{
    char name[32];
    snprintf(name, sizeof(name), "/%05d", no);
    lh_buf p = LH_BUF_INIT;
    lh_buf_puts(&p, up->dir);
    lh_buf_puts(&p, name);
    if (!lh_buf_ok(&p)) {
        lh_buf_release(&p);
        return oom(err, key);
    }
    int fd = open(p.data, O_RDONLY | O_CLOEXEC);
    lh_buf_release(&p);
    if (fd < 0) {
        return sys_err(err, errno, "read part of", key);
    }
    lh_rc rc = LH_OK;
    for (;;) {
        ssize_t r = read(fd, chunk, CHUNK);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            rc = sys_err(err, errno, "read part of", key);
            break;
        }
        if (r == 0) {
            break;
        }
        rc = writer_write(w, key, chunk, (size_t)r, err);
        if (rc != LH_OK) {
            break;
        }
    }
    close(fd);
    return rc;
}

static lh_rc
local_upload_complete(lh_io_upload *u, lh_io_info *info, lh_err *err)
{
    local *l = u->s->impl;
    int *parts = NULL;
    size_t n = 0;
    char *chunk = NULL;
    writer w;
    bool opened = false;
    lh_rc rc = upload_parts(u->impl, u->key, &parts, &n, err);
    if (rc == LH_OK && n == 0) {
        rc = lh_err_set(err, LH_EINVAL, "upload of \"%s\": no parts", u->key);
    }
    if (rc == LH_OK) {
        chunk = lh_malloc(CHUNK);
        rc = chunk != NULL ? LH_OK : oom(err, u->key);
    }
    if (rc == LH_OK) {
        rc = writer_open(l, u->key, &w, err);
        opened = true;
    }
    for (size_t i = 0; rc == LH_OK && i < n; i++) {
        rc = append_part(&w, u->impl, parts[i], u->key, chunk, err);
    }
    if (rc == LH_OK) {
        rc = writer_publish(l, &w, u->key, false, NULL, info, err);
    }
    if (opened) {
        writer_release(&w);
    }
    lh_free(chunk);
    lh_free(parts);
    upload_free(u);
    return rc;
}

static lh_rc
local_upload_abort(lh_io_upload *u, lh_err *err)
{
    (void)err;
    upload_free(u);
    return LH_OK;
}

static void
local_close(lh_io_store *s)
{
    local *l = s->impl;
    lh_free(l->root);
    lh_free(l);
    lh_free(s);
}

static lh_rc
local_path(lh_io_store *s, const char *key, lh_buf *out, lh_err *err)
{
    return join(s->impl, key, strlen(key), out) == LH_OK ? LH_OK
                                                         : oom(err, key);
}

static const lh_io_methods local_methods = {
    .name = "local",
    .get = local_get,
    .head = local_head,
    .put = local_put,
    .del = local_del,
    .list = local_list,
    .upload_begin = local_upload_begin,
    .upload_part = local_upload_part,
    .upload_complete = local_upload_complete,
    .upload_abort = local_upload_abort,
    .close = local_close,
    .local_path = local_path,
};

lh_rc
lh_io_local_open(const char *root, lh_io_store **out, lh_err *err)
{
    *out = NULL;
    struct stat st;
    if (root == NULL || root[0] == '\0') {
        return lh_err_set(err, LH_EINVAL, "empty object store root");
    }
    if (stat(root, &st) != 0) {
        return lh_err_sys(err, errno_rc(errno), errno,
                          "could not open object store \"%s\"", root);
    }
    if (!S_ISDIR(st.st_mode)) {
        return lh_err_set(err, LH_EINVAL,
                          "object store root \"%s\" is not a directory", root);
    }
    lh_io_store *s = lh_calloc(1, sizeof(*s));
    local *l = lh_calloc(1, sizeof(*l));
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/') {
        n--; /* keys are joined with one '/' */
    }
    char *r = lh_strndup(root, n == 1 && root[0] == '/' ? 0 : n);
    if (s == NULL || l == NULL || r == NULL) {
        lh_free(s);
        lh_free(l);
        lh_free(r);
        return lh_err_set(err, LH_ENOMEM, "out of memory opening \"%s\"", root);
    }
    l->root = r;
    s->m = &local_methods;
    s->impl = l;
    sweep_uploads(l);
    *out = s;
    return LH_OK;
}
