/*
 * Running the pipeline: one alarm per shard (runtime.h), whose work is the
 * shard's flush, and one per table for its compaction and snapshot expiry.
 * lh_pipeline_run arms every alarm for now and runs them on the calling thread;
 * a failed flush is logged and, with until_idle, retried after the alarm's
 * backoff (a few times, then its error is the run's). After each run the
 * shard's next look (now + flush_interval) is stored in its meta table as
 * "flush_due". lh_pipeline_start runs the same alarms in the background (a
 * scheduler thread and one worker), each shard's armed for the time it
 * stored: so the timers survive restarts; a watch on the same scheduler
 * looks for tables created since, every WATCH_US, and adds their jobs.
 */
#include <string.h>
#include <time.h>

#include "pipeline/pipeline_int.h"

/* Passes of until_idle over failing jobs before giving up. */
#define IDLE_ATTEMPTS 4
/* How often the background pipeline looks for new tables. */
#define WATCH_US (5 * LH_US_PER_SEC)

typedef struct job {
    lh_alarm alarm;
    lh__lake *lake;
    int shard; /* -1: the table's job (compaction, snapshot expiry) */
    const lh__pipeline_opts *o;
    lh_pipeline_stats *st;
    char name[96];
} job;

static lh_rc
store_due(lh_shard *s, lh_us due, lh_err *err)
{
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st;
    int r = sqlite3_prepare_v2(
        s->db,
        "INSERT OR REPLACE INTO meta(key, value) VALUES ('flush_due', ?)", -1,
        &st, NULL);
    if (r == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, due);
        r = sqlite3_step(st);
        r = r == SQLITE_DONE ? SQLITE_OK : r;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return r == SQLITE_OK ? LH_OK
                          : lh__sqlite_err(s->db, r, "store an alarm", err);
}

/* The table's job: retention, compaction, then snapshot expiry. */
static lh_rc
table_run(job *j, lh_us *next, lh_err *err)
{
    lh__lake *l = j->lake;
    const lh_hot_policy *p = &l->t->def->policy;
    lh_us now = lh_now();
    lh__retention_result rr = {0};
    lh_rc rc = lh__retention(l, now, &j->o->flush, &rr, err);
    j->st->events_removed += rr.hot_removed + rr.lake_removed;
    j->st->files_rewritten += rr.files_rewritten + rr.files_dropped;
    lh__compact_result cr = {0};
    if (rc == LH_OK) {
        rc = lh__compact(l, now, &j->o->flush, &cr, err);
    }
    j->st->compactions += cr.partitions;
    j->st->files_compacted += cr.files_in;
    j->st->files_written += cr.files_out;
    j->st->bytes_written += cr.bytes;
    if (rc == LH_OK && l->ice != NULL) {
        lh_ice_maintain_stats ms = {0};
        pthread_mutex_lock(&l->mu);
        rc = lh_ice_expire_snapshots(l->ice, (now - p->snapshot_max_age) / 1000,
                                     (int)p->snapshot_min_count, &ms, err);
        pthread_mutex_unlock(&l->mu);
        j->st->expired_snapshots += (int64_t)ms.expired_snapshots;
        if (rc != LH_OK) {
            lh_err_prefix(err, "snapshot expiry of \"%s\"", l->t->def->name);
        }
    }
    if (rc != LH_OK) {
        j->st->failures++;
        return rc;
    }
    *next = now + p->flush_interval;
    return LH_OK;
}

static lh_rc job_run_locked(job *j, lh_us *next, lh_err *err);

/* A job runs under its table's maint_mu, which DROP TABLE takes
 * (drop.c): a dropped table's job stops for good (next 0). */
static lh_rc
job_run(void *owner, lh_us *next, lh_err *err)
{
    job *j = owner;
    lh_table *t = j->lake->t;
    pthread_mutex_lock(&t->maint_mu);
    lh_rc rc = LH_OK;
    *next = 0;
    if (!atomic_load(&t->dropped)) {
        rc = job_run_locked(j, next, err);
    }
    pthread_mutex_unlock(&t->maint_mu);
    return rc;
}

static lh_rc
job_run_locked(job *j, lh_us *next, lh_err *err)
{
    if (j->shard < 0) {
        return table_run(j, next, err);
    }
    lh__flush_result r = {0};
    /* One shard's alarm flushes every due shard of its table (one commit
     * for all): the others' alarms then find nothing to do. */
    lh_rc rc = lh__flush_table(j->lake, &j->o->flush, &r, err);
    j->st->flushes += r.commits;
    j->st->events_flushed += r.events;
    j->st->files_written += r.files;
    j->st->bytes_written += r.bytes;
    j->st->finished += r.finished;
    j->st->events_removed += r.expired;
    if (rc != LH_OK) {
        j->st->failures++;
        return rc;
    }
    lh_us due = lh_now() + j->lake->t->def->policy.flush_interval;
    rc = store_due(&j->lake->t->shards[j->shard], due, err);
    *next = due;
    return rc;
}

static void
sleep_us(lh_us us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* The jobs of every table of a database on one scheduler. */
struct lh_pipeline {
    lh_db *db;
    lh_pool *pool; /* background: the thread the jobs run on */
    lh_alarms *alarms;
    char **names;
    size_t ntables;
    lh__lake **lakes;
    job **jobs;
    lh__pipeline_opts o;
    lh_pipeline_stats st;
    size_t cap;     /* of names, lakes and jobs */
    lh_alarm watch; /* background: new tables */
    bool stored;    /* arm shards for their stored due times */
};

/* A shard's stored next look ("flush_due"), or 0. */
static lh_us
stored_due(lh_shard *s)
{
    lh_us due = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT value FROM meta WHERE key = 'flush_due'", -1,
                           &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            due = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->mu);
    return due;
}

static void pipeline_free(lh_pipeline *p);

/* Opens table p->names[i]'s lake and arms its jobs: now, or (p->stored)
 * each shard's for the due time it stored. */
static lh_rc
add_jobs(lh_pipeline *p, size_t i, lh_err *err)
{
    lh_table *t = NULL;
    lh_rc rc = lh__db_table(p->db, p->names[i], &t, err);
    if (rc == LH_OK) {
        rc = lh__lake_open(t, &p->lakes[i], err);
    }
    if (rc == LH_OK) {
        p->jobs[i] = lh_calloc((size_t)t->nshards + 1, sizeof(job));
        if (p->jobs[i] == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    lh_us now = lh_now();
    /* The table's job first: alarms added later run earlier in a pass
     * (lh_alarm_add puts them first), so it runs after the flushes. */
    for (int k = rc == LH_OK ? t->nshards : -1; rc == LH_OK && k >= 0; k--) {
        job *j = &p->jobs[i][k];
        j->lake = p->lakes[i];
        j->shard = k == t->nshards ? -1 : k;
        j->o = &p->o;
        j->st = &p->st;
        lh_us due = now;
        if (j->shard < 0) {
            snprintf(j->name, sizeof(j->name), "compact %s", p->names[i]);
        } else {
            snprintf(j->name, sizeof(j->name), "flush %s/%d", p->names[i], k);
            lh_us sd = p->stored ? stored_due(&t->shards[k]) : 0;
            due = sd > 0 ? sd : now;
        }
        lh_alarm_add(p->alarms, &j->alarm, j->name, job_run, j, due);
    }
    return rc;
}

/* Removes the jobs of dropped tables (their alarms stopped re-arming as
 * they ran), so a table made again under the name gets jobs of its own.
 * On the jobs' one worker: none of them is running. */
static void
forget_dropped(lh_pipeline *p)
{
    size_t keep = 0;
    for (size_t i = 0; i < p->ntables; i++) {
        lh__lake *l = p->lakes[i];
        if (l != NULL && atomic_load(&l->t->dropped)) {
            for (int k = 0; p->jobs[i] != NULL && k <= l->t->nshards; k++) {
                if (p->jobs[i][k].alarm.s != NULL) {
                    lh_alarm_remove(&p->jobs[i][k].alarm);
                }
            }
            lh_free(p->jobs[i]);
            lh__lake_close(l);
            lh_free(p->names[i]);
            continue;
        }
        p->names[keep] = p->names[i];
        p->lakes[keep] = p->lakes[i];
        p->jobs[keep] = p->jobs[i];
        keep++;
    }
    p->ntables = keep;
}

/* The watch (background): the jobs of tables created since the pipeline
 * started or last looked. It runs on the jobs' one worker, so nothing
 * else reads the arrays it grows. */
static lh_rc
watch_run(void *owner, lh_us *next, lh_err *err)
{
    lh_pipeline *p = owner;
    forget_dropped(p);
    char **names;
    size_t n;
    lh_rc rc = lh_table_list(p->db, &names, &n, err);
    for (size_t k = 0; rc == LH_OK && k < n; k++) {
        bool known = false;
        for (size_t i = 0; i < p->ntables && !known; i++) {
            known = strcmp(p->names[i], names[k]) == 0;
        }
        if (known) {
            continue;
        }
        if (p->ntables == p->cap) {
            size_t cap = p->cap * 2 + 4;
            char **nn = lh_realloc(p->names, cap * sizeof(*nn));
            p->names = nn != NULL ? nn : p->names;
            lh__lake **nl = lh_realloc(p->lakes, cap * sizeof(*nl));
            p->lakes = nl != NULL ? nl : p->lakes;
            job **nj = lh_realloc(p->jobs, cap * sizeof(*nj));
            p->jobs = nj != NULL ? nj : p->jobs;
            if (nn == NULL || nl == NULL || nj == NULL) {
                rc = lh_err_set(err, LH_ENOMEM, "out of memory");
                break;
            }
            p->cap = cap;
        }
        size_t i = p->ntables;
        p->names[i] = lh_strdup(names[k]);
        p->lakes[i] = NULL;
        p->jobs[i] = NULL;
        if (p->names[i] == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
            break;
        }
        p->ntables++;
        rc = add_jobs(p, i, err);
        if (rc != LH_OK) {
            /* Nothing was armed (add_jobs arms last, and that cannot
             * fail); the watch's retry tries the table again. */
            lh_free(p->jobs[i]);
            lh__lake_close(p->lakes[i]);
            lh_free(p->names[i]);
            p->ntables--;
        }
    }
    lh_free_strings(names, n);
    *next = lh_now() + WATCH_US;
    return rc;
}

/* Every table's jobs, armed for now (stored: each shard's alarm for the
 * due time its last run stored, when there is one). */
static lh_rc
pipeline_new(lh_db *db, const lh__pipeline_opts *o, bool background,
             bool stored, lh_pipeline **out, lh_err *err)
{
    *out = NULL;
    if (db->readonly) {
        return lh_err_set(err, LH_EREADONLY,
                          "the pipeline needs the database opened for "
                          "writing");
    }
    lh_pipeline *p = lh_calloc(1, sizeof(*p));
    if (p == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    p->db = db;
    p->o = *o;
    lh_rc rc = lh_table_list(db, &p->names, &p->ntables, err);
    if (rc == LH_OK && background) {
        rc = lh_pool_new(1, &p->pool, err);
    }
    lh_alarms_opts ao = {.backoff_min = 100 * 1000,
                         .backoff_max = 2 * LH_US_PER_SEC};
    if (background) {
        ao = (lh_alarms_opts){0}; /* 1 s doubling to 5 min */
    }
    if (rc == LH_OK) {
        rc = lh_alarms_new(p->pool, &ao, &p->alarms, err);
    }
    p->cap = p->ntables;
    p->stored = stored;
    if (rc == LH_OK) {
        p->lakes = lh_calloc(p->ntables + 1, sizeof(*p->lakes));
        p->jobs = lh_calloc(p->ntables + 1, sizeof(*p->jobs));
        if (p->lakes == NULL || p->jobs == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    for (size_t i = 0; rc == LH_OK && i < p->ntables; i++) {
        rc = add_jobs(p, i, err);
    }
    if (rc == LH_OK && background) {
        lh_alarm_add(p->alarms, &p->watch, "watch for new tables", watch_run, p,
                     lh_now() + WATCH_US);
    }
    if (rc != LH_OK) {
        pipeline_free(p);
        return rc;
    }
    *out = p;
    return LH_OK;
}

/* Removes the alarms (waiting for runs in progress); *pending: one was
 * still armed for `now` or earlier (a failure waiting for its retry). */
static void
pipeline_free_pending(lh_pipeline *p, lh_us now, bool *pending)
{
    if (p->watch.s != NULL) {
        lh_alarm_remove(&p->watch); /* first: it grows the arrays */
    }
    for (size_t i = 0; p->jobs != NULL && i < p->ntables; i++) {
        for (int k = 0; p->jobs[i] != NULL && p->lakes[i] != NULL &&
                        k <= p->lakes[i]->t->nshards;
             k++) {
            if (p->jobs[i][k].alarm.s != NULL) {
                if (pending != NULL) {
                    *pending =
                        *pending || lh_alarm_due(&p->jobs[i][k].alarm) <= now;
                }
                lh_alarm_remove(&p->jobs[i][k].alarm);
            }
        }
    }
    lh_alarms_free(p->alarms);
    lh_pool_free(p->pool);
    for (size_t i = 0; p->jobs != NULL && i < p->ntables; i++) {
        lh_free(p->jobs[i]);
        lh__lake_close(p->lakes[i]);
    }
    lh_free(p->jobs);
    lh_free(p->lakes);
    lh_free_strings(p->names, p->ntables);
    lh_free(p);
}

static void
pipeline_free(lh_pipeline *p)
{
    pipeline_free_pending(p, 0, NULL);
}

lh_rc
lh__pipeline_run(lh_db *db, const lh__pipeline_opts *o, lh_pipeline_stats *st,
                 lh_err *err)
{
    if (st != NULL) {
        memset(st, 0, sizeof(*st));
    }
    lh_pipeline *p;
    lh_rc rc = pipeline_new(db, o, false, false, &p, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_us now = lh_now();
    lh_rc first = LH_OK;
    lh_err first_err;
    lh_err_clear(&first_err);
    for (int pass = 0; pass < IDLE_ATTEMPTS; pass++) {
        int ran = 0, failed = 0;
        lh_us wait = -1;
        lh_err e;
        lh_err_clear(&e);
        lh_alarms_run_due(p->alarms, &ran, &failed, &wait, &e);
        if (failed > 0 && first == LH_OK) {
            first = e.code != LH_OK ? e.code : LH_EIO;
            first_err = e;
        }
        if (!o->until_idle || wait < 0) {
            break; /* one pass, or nothing is left to retry */
        }
        first = LH_OK; /* a retry may still succeed */
        lh_err_clear(&first_err);
        if (pass + 1 < IDLE_ATTEMPTS) {
            sleep_us(wait);
        } else {
            first = e.code != LH_OK ? e.code : LH_EIO;
            first_err = e;
        }
    }
    lh_pipeline_stats got = p->st;
    /* Failed alarms stay armed for now: what is left to do. */
    bool pending = false;
    pipeline_free_pending(p, now, &pending);
    got.idle = first == LH_OK && !pending;
    if (st != NULL) {
        *st = got;
    }
    if (first != LH_OK && err != NULL) {
        *err = first_err;
    }
    return first;
}

lh_rc
lh_pipeline_start(lh_db *db, lh_pipeline **out, lh_err *err)
{
    lh__pipeline_opts o = {0};
    return pipeline_new(db, &o, true, true, out, err);
}

void
lh_pipeline_stop(lh_pipeline *p)
{
    if (p != NULL) {
        pipeline_free(p);
    }
}

lh_rc
lh_pipeline_run(lh_db *db, bool until_idle, lh_pipeline_stats *st, lh_err *err)
{
    lh__pipeline_opts o = {.until_idle = until_idle};
    return lh__pipeline_run(db, &o, st, err);
}
