/*
 * Table state without reading events: the head checkpoint, waiting for
 * commits, and counters for metrics (lh_table_stats_get).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hot/hot_int.h"

const char *
lh_db_dir(lh_db *db)
{
    return db->dir;
}

bool
lh_db_readonly(lh_db *db)
{
    return db->readonly;
}

void
lh__shard_count_group(lh_shard *s, size_t n)
{
    atomic_fetch_add(&s->groups, 1);
    atomic_fetch_add(&s->group_reqs, n);
    int b = 0;
    while (b < LH_GROUP_BUCKETS - 1 && ((size_t)1 << b) < n) {
        b++;
    }
    atomic_fetch_add(&s->group_size[b], 1);
}

/* One integer from a one-row query on a fresh read connection. */
static lh_rc
shard_query_int(const lh_shard *s, const char *sql, int64_t *out, lh_err *err)
{
    sqlite3 *c = NULL;
    lh_rc rc = lh__shard_open_reader(s->path, &c, err);
    if (rc != LH_OK) {
        return rc;
    }
    sqlite3_stmt *st = NULL;
    int x = sqlite3_prepare_v2(c, sql, -1, &st, NULL);
    if (x == SQLITE_OK) {
        x = sqlite3_step(st);
    }
    if (x == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = LH_OK;
    } else {
        rc = lh__sqlite_err(c, x, "read shard statistics", err);
    }
    sqlite3_finalize(st);
    sqlite3_close(c);
    return rc;
}

lh_rc
lh_table_head(lh_db *db, const char *table, char **checkpoint, lh_err *err)
{
    *checkpoint = NULL;
    lh_table *t;
    lh_rc rc = lh__db_table(db, table, &t, err);
    if (rc != LH_OK) {
        return rc;
    }
    int64_t *pos = lh_calloc((size_t)t->nshards, sizeof(int64_t));
    if (pos == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (int i = 0; i < t->nshards && rc == LH_OK; i++) {
        lh_shard *s = &t->shards[i];
        if (!db->readonly) {
            /* The writer knows: a group commits (or rolls back to where it
             * began) while it holds the shard's mutex, so between groups
             * last_position is what readers see. */
            pthread_mutex_lock(&s->mu);
            pos[i] = s->last_position;
            pthread_mutex_unlock(&s->mu);
            continue;
        }
        rc = shard_query_int(s, "SELECT coalesce(max(position), 0) FROM events",
                             &pos[i], err);
    }
    lh_buf b = LH_BUF_INIT;
    if (rc == LH_OK && lh__checkpoint_format(pos, t->nshards, &b) != LH_OK) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_free(pos);
    if (rc == LH_OK) {
        *checkpoint = lh_buf_take(&b, NULL);
        if (*checkpoint == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    lh_buf_release(&b);
    return rc;
}

lh_rc
lh_table_wait(lh_db *db, const char *table, uint64_t *seen, int timeout_ms,
              lh_err *err)
{
    if (db->readonly) {
        return lh_err_set(err, LH_EREADONLY,
                          "a read-only handle sees no commits of its own");
    }
    lh_table *t;
    lh_rc rc = lh__db_table(db, table, &t, err);
    if (rc != LH_OK) {
        return rc;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    if (timeout_ms > 0) {
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
    }
    pthread_mutex_lock(&t->notify_mu);
    uint64_t now = atomic_load(&t->commits);
    int w = 0;
    while (now == *seen && w != ETIMEDOUT) {
        if (timeout_ms < 0) {
            w = pthread_cond_wait(&t->notify_cv, &t->notify_mu);
        } else if (timeout_ms == 0) {
            w = ETIMEDOUT;
        } else {
            w = pthread_cond_timedwait(&t->notify_cv, &t->notify_mu, &until);
        }
        now = atomic_load(&t->commits);
    }
    pthread_mutex_unlock(&t->notify_mu);
    if (now == *seen) {
        return lh_err_set(err, LH_ETIMEDOUT, "no commit to table \"%s\"",
                          table);
    }
    *seen = now;
    return LH_OK;
}

lh_rc
lh_table_stats_get(lh_db *db, const char *table, unsigned flags,
                   lh_table_stats *out, lh_err *err)
{
    memset(out, 0, sizeof(*out));
    out->hot_events = out->hot_bytes = -1;
    lh_table *t;
    lh_rc rc = lh__db_table(db, table, &t, err);
    if (rc != LH_OK) {
        return rc;
    }
    out->shards = t->nshards;
    for (int i = 0; i < t->nshards; i++) {
        lh_shard *s = &t->shards[i];
        out->commits += atomic_load(&s->groups);
        out->commit_requests += atomic_load(&s->group_reqs);
        for (int b = 0; b < LH_GROUP_BUCKETS; b++) {
            out->group_size[b] += atomic_load(&s->group_size[b]);
        }
    }
    if ((flags & LH_STATS_COUNT) == 0) {
        return LH_OK;
    }
    int64_t events = 0, bytes = 0;
    for (int i = 0; i < t->nshards; i++) {
        lh_shard *s = &t->shards[i];
        int64_t n = 0;
        rc = shard_query_int(s, "SELECT count(*) FROM events", &n, err);
        if (rc != LH_OK) {
            return rc;
        }
        events += n;
        const char *suffix[] = {"", "-wal"};
        for (size_t k = 0; k < LH_ARRAY_LEN(suffix); k++) {
            char path[4096];
            snprintf(path, sizeof(path), "%s%s", s->path, suffix[k]);
            struct stat sb;
            if (stat(path, &sb) == 0) {
                bytes += (int64_t)sb.st_size;
            } else if (errno != ENOENT) {
                return lh_err_sys(err, LH_EIO, errno, "could not stat \"%s\"",
                                  path);
            }
        }
    }
    out->hot_events = events;
    out->hot_bytes = bytes;
    return LH_OK;
}
