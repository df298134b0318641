/*
 * Alarms: timers owned by objects (runtime.h).
 *
 * One scheduler holds a list of alarms under its mutex. With a pool, its
 * thread wakes when an alarm is set or added, or when the soonest one may
 * be due, and submits each due alarm to the pool as its own task (the task
 * node lives in the alarm, so that cannot fail for lack of memory). "Due"
 * is lh_now() >= due and lh_mono_now() >= not_before: the first follows the
 * product's clock, which LH_NOW may freeze, so the thread never sleeps
 * longer than TICK_US before looking again; the second is the backoff of a
 * failed run, real time whatever the clock says (a frozen clock must not
 * turn a retry into a busy loop).
 *
 * Invariant (under s->mu): `running` is set by whoever starts a run (the
 * thread, or lh_alarms_run_due) and cleared by the run when it is done, so
 * an alarm never runs twice at once, and lh_alarm_remove waits for it.
 */
#include <string.h>
#include <time.h>

#include "runtime/runtime.h"

/* The longest the thread sleeps without looking at lh_now() again: a
 * frozen or jumping clock is seen within a second. */
#define TICK_US (1000 * 1000)
#define BACKOFF_MIN_DEFAULT (1000 * 1000)
#define BACKOFF_MAX_DEFAULT (300 * 1000 * 1000)

struct lh_alarms {
    lh_pool *pool;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* wakes the thread: add, set, stop */
    pthread_cond_t idle_cv; /* a run finished */
    lh_alarm *head;
    bool stop;
    bool has_thread;
    pthread_t thread;
    lh_us backoff_min, backoff_max;
    uint64_t rng;
    unsigned round; /* lh_alarms_run_due's calls: one run an alarm a call */
};

/* xorshift64*: jitter only, no need for anything better. */
static uint64_t
next_random(lh_alarms *s)
{
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return s->rng * UINT64_C(2685821657736338717);
}

/* The wait before retry number `attempts` (>= 1): backoff_min doubling,
 * capped at backoff_max, and "equal jitter" (half fixed, half random) so
 * that alarms failing together do not retry together. */
static lh_us
backoff(lh_alarms *s, int attempts)
{
    lh_us d = s->backoff_min;
    for (int i = 1; i < attempts && d < s->backoff_max; i++) {
        d *= 2;
    }
    d = LH_MIN(d, s->backoff_max);
    lh_us half = d / 2;
    return half + (lh_us)(next_random(s) % (uint64_t)(half + 1));
}

/* Runs a's work on this thread; a->running was set by the caller. */
static lh_rc
run_one(lh_alarms *s, lh_alarm *a, lh_err *err)
{
    lh_us next = 0;
    lh_err e;
    lh_err_clear(&e);
    lh_rc rc = a->fn(a->owner, &next, &e);
    pthread_mutex_lock(&s->mu);
    a->running = false;
    if (rc == LH_OK) {
        a->attempts = 0;
        a->not_before = 0;
        a->due = next;
    } else {
        a->attempts++;
        lh_us wait = backoff(s, a->attempts);
        a->not_before = lh_mono_now() + wait;
        lh_log(LH_LOG_WARN,
               "alarm \"%s\" failed (%d in a row; again in %lld ms): %s",
               a->name ? a->name : "?", a->attempts, (long long)(wait / 1000),
               e.msg);
        if (err != NULL) {
            *err = e;
        }
    }
    if (a->set_while_running) {
        a->set_while_running = false;
        if (a->set_due == 0) {
            a->due = 0;
        } else if (rc != LH_OK || a->due == 0 || a->set_due < a->due) {
            a->due = a->set_due;
        }
        a->not_before = 0;
    }
    pthread_cond_broadcast(&s->idle_cv);
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static void
run_task(void *arg)
{
    lh_alarm *a = arg;
    (void)run_one(a->s, a, NULL);
}

static bool
runnable(const lh_alarm *a, lh_us now, lh_us mono)
{
    return a->due != 0 && !a->running && a->due <= now && a->not_before <= mono;
}

static void *
thread_main(void *arg)
{
    lh_alarms *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        lh_us now = lh_now(), mono = lh_mono_now();
        lh_us wait = TICK_US;
        for (lh_alarm *a = s->head; a != NULL; a = a->next) {
            if (runnable(a, now, mono)) {
                a->task.fn = run_task;
                a->task.arg = a;
                a->running = true;
                if (lh_pool_submit_task(s->pool, &a->task) != LH_OK) {
                    a->running = false; /* the pool is stopping */
                }
                continue;
            }
            if (a->due == 0 || a->running) {
                continue;
            }
            if (a->due > now) {
                wait = LH_MIN(wait, a->due - now);
            }
            if (a->not_before > mono) {
                wait = LH_MIN(wait, a->not_before - mono);
            }
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)(wait % 1000000) * 1000;
        ts.tv_sec += (time_t)(wait / 1000000) + ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

lh_rc
lh_alarms_new(lh_pool *pool, const lh_alarms_opts *opts, lh_alarms **out,
              lh_err *err)
{
    *out = NULL;
    lh_alarms *s = lh_calloc(1, sizeof(*s));
    if (s == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    s->pool = pool;
    s->backoff_min =
        opts && opts->backoff_min > 0 ? opts->backoff_min : BACKOFF_MIN_DEFAULT;
    s->backoff_max =
        opts && opts->backoff_max > 0 ? opts->backoff_max : BACKOFF_MAX_DEFAULT;
    s->backoff_max = LH_MAX(s->backoff_max, s->backoff_min);
    s->rng = (uint64_t)lh_mono_now() ^ (uint64_t)(uintptr_t)s;
    s->rng |= 1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_cond_init(&s->idle_cv, NULL);
    if (pool != NULL) {
        int e = pthread_create(&s->thread, NULL, thread_main, s);
        if (e != 0) {
            lh_alarms_free(s);
            return lh_err_sys(err, LH_EIO, e,
                              "could not start the alarm thread");
        }
        s->has_thread = true;
    }
    *out = s;
    return LH_OK;
}

void
lh_alarms_free(lh_alarms *s)
{
    if (s == NULL) {
        return;
    }
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (s->has_thread) {
        pthread_join(s->thread, NULL);
    }
    pthread_mutex_lock(&s->mu);
    for (lh_alarm *a = s->head; a != NULL; a = a->next) {
        while (a->running) {
            pthread_cond_wait(&s->idle_cv, &s->mu);
        }
    }
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pthread_cond_destroy(&s->idle_cv);
    lh_free(s);
}

void
lh_alarm_add(lh_alarms *s, lh_alarm *a, const char *name, lh_alarm_fn fn,
             void *owner, lh_us due)
{
    memset(a, 0, sizeof(*a));
    a->s = s;
    a->fn = fn;
    a->owner = owner;
    a->name = name;
    a->due = due;
    pthread_mutex_lock(&s->mu);
    a->next = s->head;
    s->head = a;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void
lh_alarm_set(lh_alarm *a, lh_us due)
{
    lh_alarms *s = a->s;
    pthread_mutex_lock(&s->mu);
    if (a->running) {
        a->set_while_running = true;
        a->set_due = due;
    } else {
        a->due = due;
        a->not_before = 0;
    }
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

lh_us
lh_alarm_due(const lh_alarm *a)
{
    pthread_mutex_lock(&a->s->mu);
    lh_us due = a->due;
    pthread_mutex_unlock(&a->s->mu);
    return due;
}

int
lh_alarm_attempts(const lh_alarm *a)
{
    pthread_mutex_lock(&a->s->mu);
    int n = a->attempts;
    pthread_mutex_unlock(&a->s->mu);
    return n;
}

void
lh_alarm_remove(lh_alarm *a)
{
    lh_alarms *s = a->s;
    if (s == NULL) {
        return;
    }
    pthread_mutex_lock(&s->mu);
    while (a->running) {
        pthread_cond_wait(&s->idle_cv, &s->mu);
    }
    for (lh_alarm **p = &s->head; *p != NULL; p = &(*p)->next) {
        if (*p == a) {
            *p = a->next;
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    a->s = NULL;
}

void
lh_alarms_run_due(lh_alarms *s, int *ran, int *failed, lh_us *wait_us,
                  lh_err *err)
{
    int nran = 0, nfailed = 0;
    bool first_failure = true;
    pthread_mutex_lock(&s->mu);
    unsigned round = ++s->round;
    for (;;) {
        lh_us now = lh_now(), mono = lh_mono_now();
        lh_alarm *pick = NULL;
        for (lh_alarm *a = s->head; a != NULL && pick == NULL; a = a->next) {
            if (runnable(a, now, mono) && a->round != round) {
                pick = a;
            }
        }
        if (pick == NULL) {
            break;
        }
        pick->running = true;
        pick->round = round;
        pthread_mutex_unlock(&s->mu);
        lh_rc rc = run_one(s, pick, first_failure ? err : NULL);
        pthread_mutex_lock(&s->mu);
        nran++;
        if (rc != LH_OK) {
            nfailed++;
            first_failure = false;
        }
    }
    lh_us wait = -1;
    lh_us now = lh_now(), mono = lh_mono_now();
    for (lh_alarm *a = s->head; a != NULL; a = a->next) {
        if (a->due == 0 || a->due > now) {
            continue;
        }
        lh_us w = a->not_before > mono ? a->not_before - mono : 0;
        wait = wait < 0 ? w : LH_MIN(wait, w);
    }
    pthread_mutex_unlock(&s->mu);
    if (ran != NULL) {
        *ran = nran;
    }
    if (failed != NULL) {
        *failed = nfailed;
    }
    if (wait_us != NULL) {
        *wait_us = wait;
    }
}
