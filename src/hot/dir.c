/*
 * The data directory: its format file, the writer's lock, and the tables
 * found under tables/.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hot/hot_int.h"

#define FORMAT_FILE "lakehouse.json"
#define LOCK_FILE "LOCK"
/* In a table's directory: DROP TABLE committed (lh__table_drop_begin). */
#define DROPPED_FILE "DROPPED"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void
global_init_once(void)
{
    lh_log_init();
    /* No memory statistics: SQLite keeps them under one mutex that every
     * allocation of every connection takes, and the readers of parallel
     * queries and of the server's sessions contend on it. Refused
     * (harmlessly) when SQLite was initialized before us. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
}

lh_rc
lh_global_init(lh_err *err)
{
    pthread_once(&global_once, global_init_once);
    return lh_time_check_env(err);
}

void
lh_free_mem(void *p)
{
    lh_free(p);
}

void
lh_free_strings(char **names, size_t count)
{
    if (names == NULL) {
        return;
    }
    for (size_t i = 0; i < count; i++) {
        lh_free(names[i]);
    }
    lh_free(names);
}

static char *
path_join(const char *a, const char *b)
{
    lh_buf p = LH_BUF_INIT;
    lh_buf_printf(&p, "%s/%s", a, b);
    return lh_buf_take(&p, NULL);
}

static lh_rc
fsync_dir(const char *dir, lh_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return lh_err_sys(err, LH_EIO, errno, "could not open directory \"%s\"",
                          dir);
    }
    int r = fsync(fd);
    int e = errno;
    close(fd);
    if (r != 0) {
        return lh_err_sys(err, LH_EIO, e, "could not fsync directory \"%s\"",
                          dir);
    }
    return LH_OK;
}

/* Writes a small file durably: a temporary name, fsync, rename, fsync of
 * the directory. */
static lh_rc
write_file_durable(const char *dir, const char *name, const char *data,
                   size_t len, lh_err *err)
{
    char *tmp = NULL, *final = NULL;
    lh_buf b = LH_BUF_INIT;
    lh_buf_printf(&b, "%s/.%s.tmp", dir, name);
    tmp = lh_buf_take(&b, NULL);
    final = path_join(dir, name);
    if (tmp == NULL || final == NULL) {
        lh_free(tmp);
        lh_free(final);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = LH_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = lh_err_sys(err, errno == ENOSPC ? LH_ENOSPC : LH_EIO, errno,
                        "could not create \"%s\"", tmp);
        goto done;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            rc = lh_err_sys(err, errno == ENOSPC ? LH_ENOSPC : LH_EIO, errno,
                            "could not write \"%s\"", tmp);
            close(fd);
            unlink(tmp);
            goto done;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        rc = lh_err_sys(err, LH_EIO, errno, "could not fsync \"%s\"", tmp);
        close(fd);
        unlink(tmp);
        goto done;
    }
    close(fd);
    if (rename(tmp, final) != 0) {
        rc = lh_err_sys(err, LH_EIO, errno, "could not rename \"%s\"", tmp);
        unlink(tmp);
        goto done;
    }
    rc = fsync_dir(dir, err);
done:
    lh_free(tmp);
    lh_free(final);
    return rc;
}

static lh_rc
read_file(const char *path, char **out, size_t *len, lh_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return lh_err_sys(err, errno == ENOENT ? LH_ENOENT : LH_EIO, errno,
                          "could not open \"%s\"", path);
    }
    lh_buf b = LH_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        lh_buf_append(&b, chunk, n);
        if (b.len > (16u << 20)) {
            break;
        }
    }
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        lh_buf_release(&b);
        return lh_err_set(err, LH_EIO, "could not read \"%s\"", path);
    }
    if (b.len > (16u << 20)) {
        lh_buf_release(&b);
        return lh_err_set(err, LH_ELIMIT, "file \"%s\" is too large", path);
    }
    if (!lh_buf_ok(&b)) {
        lh_buf_release(&b);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    *out = lh_buf_take(&b, len);
    return LH_OK;
}

static lh_rc
mkdir_p(const char *dir, lh_err *err)
{
    char *p = lh_strdup(dir);
    if (p == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                lh_rc rc = lh_err_sys(err, LH_EIO, errno,
                                      "could not create directory \"%s\"", p);
                lh_free(p);
                return rc;
            }
            *s = '/';
        }
    }
    lh_rc rc = LH_OK;
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        rc = lh_err_sys(err, errno == ENOSPC ? LH_ENOSPC : LH_EIO, errno,
                        "could not create directory \"%s\"", p);
    }
    lh_free(p);
    return rc;
}

/* LH_OK when DIR holds a data directory of our format version. */
static lh_rc
check_format(const char *dir, lh_err *err)
{
    char *path = path_join(dir, FORMAT_FILE);
    if (path == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    char *text = NULL;
    size_t len = 0;
    lh_rc rc = read_file(path, &text, &len, err);
    if (rc == LH_ENOENT) {
        rc = lh_err_set(err, LH_ENOENT,
                        "\"%s\" is not a lakehouse data directory (no %s; "
                        "create one with \"lakehouse init %s\")",
                        dir, FORMAT_FILE, dir);
    }
    if (rc != LH_OK) {
        lh_free(path);
        return rc;
    }
    json_error_t jerr;
    json_t *j = json_loadb(text, len, 0, &jerr);
    const json_t *fv = j ? json_object_get(j, "format_version") : NULL;
    const json_t *fm = j ? json_object_get(j, "format") : NULL;
    if (!json_is_string(fm) ||
        strcmp(json_string_value(fm), "lakehouse") != 0 ||
        !json_is_integer(fv)) {
        rc = lh_err_set(err, LH_ECORRUPT,
                        "\"%s\" is damaged: expected {\"format\": "
                        "\"lakehouse\", \"format_version\": N}",
                        path);
    } else if (json_integer_value(fv) != LH_FORMAT_VERSION) {
        rc = lh_err_set(err, LH_EFORMAT,
                        "data directory \"%s\" has format version %lld; this "
                        "lakehouse reads format version %d",
                        dir, (long long)json_integer_value(fv),
                        LH_FORMAT_VERSION);
    }
    json_decref(j);
    lh_free(text);
    lh_free(path);
    return rc;
}

lh_rc
lh_db_init(const char *dir, lh_err *err)
{
    lh_rc rc = lh_global_init(err);
    if (rc != LH_OK) {
        return rc;
    }
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            return lh_err_set(err, LH_EINVAL,
                              "\"%s\" exists and is not a "
                              "directory",
                              dir);
        }
        lh_err ferr;
        lh_rc frc = check_format(dir, &ferr);
        if (frc == LH_OK) {
            return lh_err_set(err, LH_EEXIST,
                              "\"%s\" is already a lakehouse data directory",
                              dir);
        }
        if (frc != LH_ENOENT) {
            if (err != NULL) {
                *err = ferr;
            }
            return frc;
        }
        DIR *d = opendir(dir);
        if (d != NULL) {
            struct dirent *e;
            bool empty = true;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") != 0 &&
                    strcmp(e->d_name, "..") != 0) {
                    empty = false;
                }
            }
            closedir(d);
            if (!empty) {
                return lh_err_set(err, LH_EINVAL,
                                  "\"%s\" is not empty and not a lakehouse "
                                  "data directory",
                                  dir);
            }
        }
    }
    rc = mkdir_p(dir, err);
    char *tables = path_join(dir, "tables");
    if (rc == LH_OK && tables == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    if (rc == LH_OK) {
        rc = mkdir_p(tables, err);
    }
    lh_free(tables);
    if (rc != LH_OK) {
        return rc;
    }
    char now[32];
    lh_time_format_iso(lh_now(), now);
    lh_buf b = LH_BUF_INIT;
    lh_buf_printf(&b,
                  "{\"format\": \"lakehouse\", \"format_version\": %d, "
                  "\"created_at\": \"%s\"}\n",
                  LH_FORMAT_VERSION, now);
    if (!lh_buf_ok(&b)) {
        lh_buf_release(&b);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    /* The format file is written last: its presence marks the directory
     * complete. */
    rc = write_file_durable(dir, FORMAT_FILE, b.data, b.len, err);
    lh_buf_release(&b);
    return rc;
}

/* Takes the writer's lock: an fcntl() lock, released by the kernel when the
 * process dies, so a crash never leaves the directory locked. */
static lh_rc
take_lock(lh_db *db, lh_err *err)
{
    char *path = path_join(db->dir, LOCK_FILE);
    if (path == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        lh_rc rc =
            lh_err_sys(err, LH_EIO, errno, "could not open \"%s\"", path);
        lh_free(path);
        return rc;
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        int e = errno;
        struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        long pid = -1;
        if (fcntl(fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK) {
            pid = (long)q.l_pid;
        }
        close(fd);
        lh_free(path);
        if (e == EACCES || e == EAGAIN) {
            return lh_err_set(err, LH_ELOCKED,
                              "data directory \"%s\" is in use by process %ld "
                              "(one process writes a data directory at a "
                              "time)",
                              db->dir, pid);
        }
        return lh_err_sys(err, LH_EIO, e, "could not lock \"%s\"", db->dir);
    }
    char pidbuf[32];
    int n = snprintf(pidbuf, sizeof(pidbuf), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pidbuf, (size_t)n, 0) != n) {
        /* The pid is informational; the lock itself is what counts. */
        lh_log(LH_LOG_DEBUG, "could not write pid to \"%s\"", path);
    }
    lh_free(path);
    db->lock_fd = fd;
    return LH_OK;
}

static void
table_free(lh_table *t)
{
    if (t == NULL) {
        return;
    }
    for (int i = 0; t->shards != NULL && i < t->nshards; i++) {
        if (t->shards[i].mb_ready) {
            lh_mailbox_release(&t->shards[i].mb);
            t->shards[i].mb_ready = false;
        }
        lh__shard_close(&t->shards[i]);
    }
    lh_free(t->shards);
    for (int i = 0; t->probe_conns != NULL && i < t->nshards; i++) {
        if (t->probe_conns[i] != NULL && atomic_load(&t->dropped)) {
            /* as lh__shard_close: never the files of a new table */
            sqlite3_db_config(t->probe_conns[i],
                              SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
        }
        sqlite3_close(t->probe_conns[i]);
    }
    lh_free(t->probe_conns);
    lh__idfilter_release(&t->idf);
    lh_map_release(&t->ids_in_flight);
    size_t it = 0;
    const void *k;
    size_t kl;
    void *v;
    while (lh_map_next(&t->stream_keys, &it, &k, &kl, &v)) {
        lh_free(v);
    }
    lh_map_release(&t->stream_keys);
    pthread_mutex_destroy(&t->stream_mu);
    pthread_mutex_destroy(&t->maint_mu);
    pthread_mutex_destroy(&t->notify_mu);
    pthread_cond_destroy(&t->notify_cv);
    lh_ivfpq_pool_free(t->warm_pool);
    lh__tabledef_free(t->def);
    lh_free(t->dir);
    lh_free(t);
}

/* Builds the in-memory table for a definition whose directory exists. */
static lh_rc
table_load(lh_db *db, lh_tabledef *def, const char *tdir, bool create,
           lh_table **out, lh_err *err)
{
    lh_table *t = lh_calloc(1, sizeof(*t));
    if (t == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    t->db = db;
    t->def = def;
    t->nshards = def->nshards;
    pthread_mutex_init(&t->stream_mu, NULL);
    pthread_mutex_init(&t->maint_mu, NULL);
    pthread_mutex_init(&t->notify_mu, NULL);
    pthread_cond_init(&t->notify_cv, NULL);
    t->warm_pool = def->embedding_dim > 0 ? lh_ivfpq_pool_new() : NULL;
    lh_map_init(&t->stream_keys);
    lh_map_init(&t->ids_in_flight);
    t->dir = lh_strdup(tdir);
    t->shards = lh_calloc((size_t)def->nshards, sizeof(lh_shard));
    t->probe_conns = lh_calloc((size_t)def->nshards, sizeof(sqlite3 *));
    if (t->dir == NULL || t->shards == NULL || t->probe_conns == NULL) {
        t->def = NULL;
        table_free(t);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = LH_OK;
    for (int i = 0; i < def->nshards && rc == LH_OK; i++) {
        lh_shard *s = &t->shards[i];
        s->table = t;
        s->index = i;
        pthread_mutex_init(&s->mu, NULL);
        pthread_mutex_init(&s->vpending_mu, NULL);
        pthread_mutex_init(&s->readers_mu, NULL);
        lh_buf p = LH_BUF_INIT;
        lh_buf_printf(&p, "%s/shard-%03d.db", tdir, i);
        s->path = lh_buf_take(&p, NULL);
        if (s->path == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
            break;
        }
        if (!db->readonly) {
            rc = lh__shard_open(s, create, err);
            if (rc == LH_OK) {
                rc = lh_mailbox_init(&s->mb, db->pool, lh__shard_handle, s, 0,
                                     err);
                s->mb_ready = rc == LH_OK;
            }
        }
    }
    if (rc != LH_OK) {
        t->def = NULL;
        table_free(t);
        return rc;
    }
    *out = t;
    return LH_OK;
}

typedef struct broken_table {
    lh_rc code;
    char msg[];
} broken_table;

static lh_rc
remember_broken(lh_db *db, const char *name, lh_rc code, const lh_err *why)
{
    const char *msg = why != NULL ? why->msg : "the table could not be opened";
    size_t n = strlen(msg);
    broken_table *b = lh_malloc(sizeof(*b) + n + 1);
    if (b == NULL) {
        return LH_ENOMEM;
    }
    b->code = code;
    memcpy(b->msg, msg, n + 1);
    lh_log(LH_LOG_WARN, "table \"%s\" is unavailable: %s", name, msg);
    void *old = NULL;
    if (lh_map_put(&db->broken, name, strlen(name), b, &old) != LH_OK) {
        lh_free(b);
        return LH_ENOMEM;
    }
    lh_free(old);
    return LH_OK;
}

static lh_rc
load_tables(lh_db *db, lh_err *err)
{
    char *tdir = path_join(db->dir, "tables");
    if (tdir == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    DIR *d = opendir(tdir);
    if (d == NULL) {
        lh_rc rc =
            lh_err_sys(err, LH_ECORRUPT, errno, "could not open \"%s\"", tdir);
        lh_free(tdir);
        return rc;
    }
    lh_rc rc = LH_OK;
    struct dirent *e;
    while (rc == LH_OK && (e = readdir(d)) != NULL) {
        size_t nl = strlen(e->d_name);
        if (e->d_name[0] == '.' && nl > 9 &&
            strcmp(e->d_name + nl - 8, ".dropped") == 0 && !db->readonly) {
            /* a dropped table's directory, moved aside (the drop was
             * interrupted before it removed it, or its process closed
             * with a query still holding it) */
            char *aside = path_join(tdir, e->d_name);
            if (aside != NULL) {
                lh__remove_tree(aside);
            }
            lh_free(aside);
            continue;
        }
        if (e->d_name[0] == '.' || !lh__name_valid(e->d_name)) {
            continue; /* ".", "..", and half-created ".name.tmp" dirs */
        }
        lh_err terr; /* this table's error: it fails alone */
        lh_err_clear(&terr);
        char *dir = path_join(tdir, e->d_name);
        char *marker = dir ? path_join(dir, DROPPED_FILE) : NULL;
        struct stat mst;
        bool dropping = marker != NULL && stat(marker, &mst) == 0;
        lh_free(marker);
        char *def_path = dir ? path_join(dir, "table.json") : NULL;
        char *text = NULL;
        size_t len = 0;
        lh_tabledef *def = NULL;
        lh_table *t = NULL;
        if (def_path == NULL) {
            rc = lh_err_set(&terr, LH_ENOMEM, "out of memory");
        } else {
            rc = read_file(def_path, &text, &len, &terr);
        }
        if (rc == LH_OK) {
            rc = lh__tabledef_parse(text, len, &def, &terr);
            if (rc != LH_OK) {
                lh_err_prefix(&terr, "table definition \"%s\"", def_path);
                rc = LH_ECORRUPT;
                terr.code = rc;
            }
        }
        if (rc == LH_OK && dropping) {
            /* DROP TABLE committed and a crash interrupted it: the name
             * stays reserved until DROP TABLE runs again (it removes the
             * lake, which this layer does not know) */
            rc = lh_map_put(&db->dropping, def->name, strlen(def->name), def,
                            NULL);
            if (rc != LH_OK) {
                lh__tabledef_free(def);
                lh_err_set(&terr, rc, "out of memory");
            }
            if (err != NULL && rc != LH_OK) {
                *err = terr;
            }
            lh_free(text);
            lh_free(def_path);
            lh_free(dir);
            continue;
        }
        if (rc == LH_OK) {
            rc = table_load(db, def, dir, false, &t, &terr);
            if (rc != LH_OK) {
                lh__tabledef_free(def);
            }
        }
        if (rc == LH_OK) {
            rc = lh_map_put(&db->tables, def->name, strlen(def->name), t, NULL);
            if (rc != LH_OK) {
                table_free(t);
                lh_err_set(&terr, rc, "out of memory");
            }
        } else if (rc != LH_ENOMEM) {
            /* One damaged table must not take the others down: remember
             * why, and refuse only that table. */
            rc = remember_broken(db, e->d_name, rc, &terr);
        }
        if (rc != LH_OK && err != NULL) {
            *err = terr;
        }
        lh_free(text);
        lh_free(def_path);
        lh_free(dir);
    }
    closedir(d);
    lh_free(tdir);
    return rc;
}

lh_rc
lh_db_open(const char *dir, const lh_db_options *opts, lh_db **out, lh_err *err)
{
    *out = NULL;
    lh_rc rc = lh_global_init(err);
    if (rc != LH_OK) {
        return rc;
    }
    unsigned flags = opts ? opts->flags : 0;
    if (flags & LH_OPEN_CREATE) {
        lh_err ierr;
        rc = lh_db_init(dir, &ierr);
        if (rc != LH_OK && rc != LH_EEXIST) {
            if (err != NULL) {
                *err = ierr;
            }
            return rc;
        }
    }
    rc = check_format(dir, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_db *db = lh_calloc(1, sizeof(*db));
    if (db == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    db->dir = lh_strdup(dir);
    db->lock_fd = -1;
    db->readonly = (flags & LH_OPEN_READONLY) != 0;
    db->dedup_window = opts && opts->dedup_window_s > 0
                           ? opts->dedup_window_s * LH_US_PER_SEC
                           : LH_DEDUP_WINDOW_DEFAULT;
    pthread_mutex_init(&db->mu, NULL);
    lh_map_init(&db->tables);
    lh_map_init(&db->broken);
    lh_map_init(&db->dropping);
    if (db->dir == NULL) {
        lh_db_close(db);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    if (!db->readonly) {
        rc = take_lock(db, err);
        if (rc == LH_OK) {
            /* Shard work is mostly waiting on fsync, not CPU: more
             * threads than cores let more shards commit at once. */
            long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
            db->ncpu = (int)LH_MAX(ncpu, 1);
            int threads = (int)LH_MIN(LH_MAX(ncpu, 1) * 4, 32);
            if (opts && opts->threads > 0) {
                threads = opts->threads;
            }
            rc = lh_pool_new(threads, &db->pool, err);
        }
        if (rc == LH_OK) {
            rc = lh__checkpointer_start(db, err);
        }
    }
    if (rc == LH_OK) {
        rc = load_tables(db, err);
    }
    if (rc != LH_OK) {
        lh_db_close(db);
        return rc;
    }
    *out = db;
    return LH_OK;
}

void
lh_db_close(lh_db *db)
{
    if (db == NULL) {
        return;
    }
    /* Mailboxes first (they finish in-flight groups on the pool), then the
     * pool, then the shards' connections. */
    size_t it = 0;
    const void *k;
    size_t kl;
    void *v;
    lh_table *dl = db->dropped;
    bool more = true;
    while (more) {
        lh_table *t = NULL;
        if (lh_map_next(&db->tables, &it, &k, &kl, &v)) {
            t = v;
        } else if (dl != NULL) {
            t = dl;
            dl = dl->dropped_next;
        } else {
            more = false;
        }
        for (int i = 0; t != NULL && i < t->nshards; i++) {
            if (t->shards[i].mb_ready) {
                lh_mailbox_release(&t->shards[i].mb);
                t->shards[i].mb_ready = false;
            }
        }
    }
    lh__checkpointer_stop(db);
    lh_pool_free(db->pool);
    it = 0;
    while (lh_map_next(&db->tables, &it, &k, &kl, &v)) {
        table_free(v);
    }
    lh_map_release(&db->tables);
    while (db->dropped != NULL) {
        lh_table *t = db->dropped;
        db->dropped = t->dropped_next;
        table_free(t); /* its connections close without touching the
                          files (lh__shard_close), which are gone */
    }
    it = 0;
    while (lh_map_next(&db->broken, &it, &k, &kl, &v)) {
        lh_free(v);
    }
    lh_map_release(&db->broken);
    it = 0;
    while (lh_map_next(&db->dropping, &it, &k, &kl, &v)) {
        lh__tabledef_free(v);
    }
    lh_map_release(&db->dropping);
    pthread_mutex_destroy(&db->mu);
    if (db->lock_fd >= 0) {
        close(db->lock_fd); /* releases the fcntl lock */
    }
    lh_free(db->dir);
    lh_free(db);
}

lh_rc
lh__db_table(lh_db *db, const char *name, lh_table **out, lh_err *err)
{
    char folded[LH_MAX_NAME + 1];
    size_t n = strlen(name);
    if (n == 0 || n > LH_MAX_NAME) {
        return lh_err_set(err, LH_ENOENT, "table \"%s\" does not exist", name);
    }
    for (size_t i = 0; i <= n; i++) {
        folded[i] =
            (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    }
    pthread_mutex_lock(&db->mu);
    lh_table *t = lh_map_get(&db->tables, folded, n);
    const broken_table *b = lh_map_get(&db->broken, folded, n);
    lh_rc bcode = b != NULL ? b->code : LH_OK;
    char bmsg[sizeof(((lh_err *)0)->msg)];
    if (b != NULL) {
        snprintf(bmsg, sizeof(bmsg), "%s", b->msg);
    }
    pthread_mutex_unlock(&db->mu);
    if (t == NULL && bcode != LH_OK) {
        return lh_err_set(err, bcode, "%s", bmsg);
    }
    if (t == NULL) {
        return lh_err_set(err, LH_ENOENT, "table \"%s\" does not exist", name);
    }
    *out = t;
    return LH_OK;
}

/* Removes a directory of plain files (a half-built table). */
static void
remove_flat_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            char *p = path_join(dir, e->d_name);
            if (p != NULL) {
                unlink(p);
            }
            lh_free(p);
        }
    }
    closedir(d);
    rmdir(dir);
}

lh_rc
lh_table_create(lh_db *db, const char *json, size_t len, lh_err *err)
{
    if (db->readonly) {
        return lh_err_set(err, LH_EREADONLY,
                          "cannot create a table through a read-only handle");
    }
    lh_tabledef *def = NULL;
    lh_rc rc = lh__tabledef_parse(json, len, &def, err);
    if (rc != LH_OK) {
        return rc;
    }
    pthread_mutex_lock(&db->mu);
    char *tables = path_join(db->dir, "tables");
    char *tmp = NULL, *final = NULL;
    lh_table *t = NULL;
    if (lh_map_has(&db->dropping, def->name, strlen(def->name))) {
        rc = lh_err_set(err, LH_EEXIST,
                        "table \"%s\" is being dropped (if no DROP TABLE is "
                        "running, one was interrupted: DROP TABLE %s again "
                        "finishes it)",
                        def->name, def->name);
        goto done;
    }
    if (lh_map_has(&db->tables, def->name, strlen(def->name)) ||
        lh_map_has(&db->broken, def->name, strlen(def->name))) {
        rc = lh_err_set(err, LH_EEXIST, "table \"%s\" already exists",
                        def->name);
        goto done;
    }
    lh_buf b = LH_BUF_INIT;
    lh_buf_printf(&b, "%s/.%s.tmp", tables ? tables : "", def->name);
    tmp = lh_buf_take(&b, NULL);
    final = tables ? path_join(tables, def->name) : NULL;
    if (tmp == NULL || final == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        goto done;
    }
    /* Build the table in a hidden directory, then rename it into place: a
     * crash leaves either no table or a complete one. */
    remove_flat_dir(tmp); /* left by a crash during an earlier create */
    if (mkdir(tmp, 0755) != 0) {
        rc = lh_err_sys(err, errno == ENOSPC ? LH_ENOSPC : LH_EIO, errno,
                        "could not create directory \"%s\"", tmp);
        goto done;
    }
    rc = write_file_durable(tmp, "table.json", def->json, strlen(def->json),
                            err);
    if (rc == LH_OK) {
        /* Create the shard files in the temporary directory. */
        rc = table_load(db, def, tmp, true, &t, err);
        if (rc == LH_OK) {
            def = NULL; /* owned by t */
            for (int i = 0; i < t->nshards; i++) {
                lh_mailbox_release(&t->shards[i].mb);
                t->shards[i].mb_ready = false;
            }
            lh_tabledef *keep = t->def;
            t->def = NULL;
            table_free(t);
            t = NULL;
            def = keep;
        }
    }
    if (rc == LH_OK && rename(tmp, final) != 0) {
        rc = lh_err_sys(err, LH_EIO, errno, "could not rename \"%s\"", tmp);
    }
    if (rc == LH_OK) {
        rc = fsync_dir(tables, err);
    }
    if (rc == LH_OK) {
        rc = table_load(db, def, final, false, &t, err);
        if (rc == LH_OK) {
            def = NULL;
            rc = lh_map_put(&db->tables, t->def->name, strlen(t->def->name), t,
                            NULL);
            if (rc != LH_OK) {
                table_free(t);
                lh_err_set(err, rc, "out of memory");
            }
        }
    }
done:
    pthread_mutex_unlock(&db->mu);
    lh__tabledef_free(def);
    lh_free(tables);
    lh_free(tmp);
    lh_free(final);
    return rc;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

lh_rc
lh_table_list(lh_db *db, char ***names, size_t *count, lh_err *err)
{
    pthread_mutex_lock(&db->mu);
    size_t n = db->tables.count;
    char **out = lh_calloc(n + 1, sizeof(char *));
    size_t i = 0, it = 0;
    const void *k;
    size_t kl;
    void *v;
    lh_rc rc = out ? LH_OK : LH_ENOMEM;
    while (rc == LH_OK && lh_map_next(&db->tables, &it, &k, &kl, &v)) {
        out[i] = lh_strndup(k, kl);
        rc = out[i] ? LH_OK : LH_ENOMEM;
        i++;
    }
    pthread_mutex_unlock(&db->mu);
    if (rc != LH_OK) {
        lh_free_strings(out, i);
        return lh_err_set(err, rc, "out of memory");
    }
    qsort(out, i, sizeof(char *), cmp_str);
    *names = out;
    *count = i;
    return LH_OK;
}

lh_rc
lh_table_describe(lh_db *db, const char *table, char **json, lh_err *err)
{
    lh_table *t;
    lh_rc rc = lh__db_table(db, table, &t, err);
    if (rc != LH_OK) {
        return rc;
    }
    *json = lh_strdup(t->def->json);
    return *json ? LH_OK : lh_err_set(err, LH_ENOMEM, "out of memory");
}

/* ---- DROP TABLE ------------------------------------------------------------
 * A drop is three steps (pipeline/drop.c runs them): the DROPPED marker
 * in the table's directory is the commit point (lh__table_drop_begin);
 * then the lake goes; then the directory is renamed aside, which frees the
 * name, and removed (lh__table_drop_end). A crash after the marker leaves
 * the name reserved (db->dropping, found again at open) until DROP TABLE
 * runs again; an aside directory is removed at the next open. */

void (*lh__drop_step_hook)(int step);

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP) {
        rmdir(path);
    } else {
        unlink(path);
    }
    return 0; /* best effort: go on */
}

void
lh__remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Folds a table name as lh__db_table does; false when too long. */
static bool
fold_name(const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    if (n == 0 || n >= cap) {
        return false;
    }
    for (size_t i = 0; i <= n; i++) {
        out[i] =
            (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    }
    return true;
}

lh_rc
lh__table_drop_begin(lh_db *db, const char *name, lh_table **out,
                     const lh_tabledef **def, lh_err *err)
{
    *out = NULL;
    *def = NULL;
    char folded[LH_MAX_NAME + 1];
    if (!fold_name(name, folded, sizeof folded)) {
        return lh_err_set(err, LH_ENOENT, "table \"%s\" does not exist", name);
    }
    size_t n = strlen(folded);
    pthread_mutex_lock(&db->mu);
    lh_rc rc = LH_OK;
    const lh_tabledef *pending = lh_map_get(&db->dropping, folded, n);
    lh_table *t = lh_map_get(&db->tables, folded, n);
    bool broken = lh_map_has(&db->broken, folded, n);
    char *tdir = NULL;
    if (pending != NULL) {
        *def = pending; /* an interrupted drop: run the rest again */
        goto done;
    }
    if (t == NULL && !broken) {
        rc = lh_err_set(err, LH_ENOENT, "table \"%s\" does not exist", name);
        goto done;
    }
    lh_buf b = LH_BUF_INIT;
    lh_buf_printf(&b, "%s/tables/%s", db->dir, folded);
    tdir = lh_buf_take(&b, NULL);
    lh_tabledef *keep = NULL;
    if (tdir != NULL && t == NULL) {
        /* a table that could not be opened: its definition, when it still
         * parses, says where its lake is */
        char *dp = path_join(tdir, "table.json"), *text = NULL;
        size_t len = 0;
        lh_err ignore;
        if (dp != NULL && read_file(dp, &text, &len, &ignore) == LH_OK) {
            lh__tabledef_parse(text, len, &keep, &ignore);
        }
        lh_free(text);
        lh_free(dp);
    } else if (t != NULL) {
        keep = t->def;
    }
    rc = tdir != NULL ? write_file_durable(tdir, DROPPED_FILE, "", 0, err)
                      : lh_err_set(err, LH_ENOMEM, "out of memory");
    if (rc != LH_OK) {
        if (t == NULL) {
            lh__tabledef_free(keep);
        }
        lh_err_prefix(err, "DROP TABLE %s", name);
        goto done;
    }
    if (keep == NULL) {
        /* a broken table without a readable definition: a stand-in with
         * its name, so the lake is looked for where the default puts it */
        char json[LH_MAX_NAME + 64];
        snprintf(json, sizeof json,
                 "{\"name\":\"%s\",\"columns\":[{\"name\":\"x\",\"type\":"
                 "\"INT\"}]}",
                 folded);
        lh_err ignore;
        lh__tabledef_parse(json, strlen(json), &keep, &ignore);
    }
    lh_tabledef *copy = keep;
    if (t != NULL) {
        /* the reservation owns its own definition: t keeps t->def */
        copy = NULL;
        lh_err ignore;
        lh__tabledef_parse(t->def->json, strlen(t->def->json), &copy, &ignore);
    }
    if (copy == NULL ||
        lh_map_put(&db->dropping, folded, n, copy, NULL) != LH_OK) {
        /* committed on disk: the next open finds the marker */
        lh__tabledef_free(copy);
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        goto done;
    }
    *def = copy;
    if (t != NULL) {
        atomic_store(&t->dropped, true);
        lh_map_del(&db->tables, folded, n);
        t->dropped_next = db->dropped;
        db->dropped = t;
        *out = t;
        /* idle readers close now, without touching the files */
        for (int i = 0; i < t->nshards; i++) {
            lh__shard_readers_drop(&t->shards[i]);
        }
    } else {
        lh_free(lh_map_del(&db->broken, folded, n));
    }
done:
    pthread_mutex_unlock(&db->mu);
    lh_free(tdir);
    if (rc == LH_OK && lh__drop_step_hook != NULL) {
        lh__drop_step_hook(1);
    }
    return rc;
}

lh_rc
lh__table_drop_end(lh_db *db, const char *name, lh_err *err)
{
    char folded[LH_MAX_NAME + 1];
    if (!fold_name(name, folded, sizeof folded)) {
        return lh_err_set(err, LH_ENOENT, "table \"%s\" does not exist", name);
    }
    size_t n = strlen(folded);
    char *tables = path_join(db->dir, "tables");
    lh_buf b = LH_BUF_INIT;
    lh_buf_printf(&b, "%s/%s", tables ? tables : "", folded);
    char *tdir = lh_buf_take(&b, NULL);
    lh_buf_printf(&b, "%s/.%s.%lld.dropped", tables ? tables : "", folded,
                  (long long)lh_mono_now());
    char *aside = lh_buf_take(&b, NULL);
    lh_rc rc = LH_OK;
    pthread_mutex_lock(&db->mu);
    if (tables == NULL || tdir == NULL || aside == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
    } else if (rename(tdir, aside) != 0 && errno != ENOENT) {
        rc = lh_err_sys(err, LH_EIO, errno, "could not rename \"%s\"", tdir);
    } else {
        rc = fsync_dir(tables, err);
    }
    if (rc == LH_OK) {
        lh__tabledef_free(lh_map_del(&db->dropping, folded, n));
    }
    pthread_mutex_unlock(&db->mu);
    if (rc == LH_OK) {
        if (lh__drop_step_hook != NULL) {
            lh__drop_step_hook(3);
        }
        /* Files still open (the dropped table's connections, closed when
         * the database closes) keep their space until then. */
        lh__remove_tree(aside);
    } else {
        lh_err_prefix(err, "DROP TABLE %s", name);
    }
    lh_free(tables);
    lh_free(tdir);
    lh_free(aside);
    return rc;
}
