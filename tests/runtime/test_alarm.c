/*
 * Alarms (runtime.h): due by lh_now() (frozen here, as LH_NOW freezes it),
 * run on the pool's workers by the scheduler's thread or on the caller's
 * thread by lh_alarms_run_due, never twice at once, rearmed by what the
 * work returns, and retried after a failure with a growing backoff.
 *
 * Work runs on pool threads, where a cmocka assert cannot unwind: it
 * records what it sees in atomics and the test thread asserts on those.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "runtime/runtime.h"

enum { SPIN_LIMIT_MS = 10000 };

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

typedef struct work {
    atomic_int runs;
    atomic_int concurrent, max_concurrent;
    int fail_first;   /* the first this many runs fail */
    lh_us next_after; /* LH_OK returns now + this (0: disarm) */
    int sleep_ms;     /* each run takes this long */
    lh_us last_run_mono;
    lh_us gaps[8]; /* monotonic time between consecutive runs */
} work;

static lh_rc
work_fn(void *owner, lh_us *next, lh_err *err)
{
    work *w = owner;
    int c = atomic_fetch_add(&w->concurrent, 1) + 1;
    int m = atomic_load(&w->max_concurrent);
    while (c > m && !atomic_compare_exchange_weak(&w->max_concurrent, &m, c)) {
    }
    int n = atomic_fetch_add(&w->runs, 1);
    lh_us mono = lh_mono_now();
    if (n > 0 && n <= 8) {
        w->gaps[n - 1] = mono - w->last_run_mono;
    }
    w->last_run_mono = mono;
    if (w->sleep_ms > 0) {
        sleep_ms(w->sleep_ms);
    }
    atomic_fetch_sub(&w->concurrent, 1);
    if (n < w->fail_first) {
        return lh_err_set(err, LH_EIO, "could not flush \"t\": injected");
    }
    *next = w->next_after > 0 ? lh_now() + w->next_after : 0;
    return LH_OK;
}

static void
wait_runs(work *w, int n)
{
    for (int i = 0; i < SPIN_LIMIT_MS && atomic_load(&w->runs) < n; i++) {
        sleep_ms(1);
    }
    assert_true(atomic_load(&w->runs) >= n);
}

static const lh_us T0 = INT64_C(1767225600) * 1000000; /* 2026-01-01 */

static void
test_run_due_follows_the_clock(void **state)
{
    (void)state;
    lh_time_set_frozen(T0, true);
    lh_alarms *s;
    assert_int_equal(lh_alarms_new(NULL, NULL, &s, NULL), LH_OK);
    work w = {.next_after = 60 * LH_US_PER_SEC};
    lh_alarm a;
    lh_alarm_add(s, &a, "a", work_fn, &w, T0 + 10 * LH_US_PER_SEC);
    int ran = -1, failed = -1;
    lh_us wait = 0;
    lh_alarms_run_due(s, &ran, &failed, &wait, NULL);
    assert_int_equal(ran, 0);
    assert_int_equal(wait, -1); /* armed, but not for now */
    lh_time_set_frozen(T0 + 10 * LH_US_PER_SEC, true);
    lh_alarms_run_due(s, &ran, &failed, &wait, NULL);
    assert_int_equal(ran, 1);
    assert_int_equal(failed, 0);
    /* Rearmed by what the work returned; one run per call even though
     * the clock does not move. */
    assert_int_equal(lh_alarm_due(&a), T0 + 70 * LH_US_PER_SEC);
    lh_alarms_run_due(s, &ran, &failed, &wait, NULL);
    assert_int_equal(ran, 0);
    /* A clock set a year ahead runs it once, not once per minute missed. */
    lh_time_set_frozen(T0 + 365 * LH_US_PER_DAY, true);
    lh_alarms_run_due(s, &ran, NULL, NULL, NULL);
    assert_int_equal(ran, 1);
    assert_int_equal(atomic_load(&w.runs), 2);
    /* lh_alarm_set rearms (earlier), 0 disarms. */
    lh_alarm_set(&a, T0);
    assert_int_equal(lh_alarm_due(&a), T0);
    lh_alarm_set(&a, 0);
    lh_alarms_run_due(s, &ran, NULL, &wait, NULL);
    assert_int_equal(ran, 0);
    assert_int_equal(wait, -1);
    lh_alarm_remove(&a);
    lh_alarms_free(s);
    lh_time_set_frozen(0, false);
}

static void
test_failures_back_off(void **state)
{
    (void)state;
    lh_time_set_frozen(T0, true);
    lh_alarms_opts o = {.backoff_min = 20 * 1000, .backoff_max = 80 * 1000};
    lh_alarms *s;
    assert_int_equal(lh_alarms_new(NULL, &o, &s, NULL), LH_OK);
    work w = {.fail_first = 4, .next_after = 0};
    lh_alarm a;
    lh_alarm_add(s, &a, "flush t/0", work_fn, &w, T0);
    int ran, failed;
    lh_us wait;
    lh_err err;
    lh_alarms_run_due(s, &ran, &failed, &wait, &err);
    assert_int_equal(ran, 1);
    assert_int_equal(failed, 1);
    assert_int_equal(err.code, LH_EIO);
    assert_non_null(strstr(err.msg, "could not flush \"t\""));
    assert_int_equal(lh_alarm_attempts(&a), 1);
    /* Still armed, for after the backoff: half to all of 20 ms. */
    assert_int_equal(lh_alarm_due(&a), T0);
    assert_true(wait > 0 && wait <= 20 * 1000);
    lh_alarms_run_due(s, &ran, NULL, NULL, NULL);
    assert_int_equal(ran, 0); /* not before the backoff passes */
    /* Retry until it succeeds, sleeping what run_due says. */
    int calls = 0;
    while (atomic_load(&w.runs) < 5 && calls++ < 1000) {
        lh_alarms_run_due(s, &ran, NULL, &wait, NULL);
        if (wait > 0) {
            sleep_ms((int)(wait / 1000) + 1);
        }
    }
    assert_int_equal(atomic_load(&w.runs), 5);
    assert_int_equal(lh_alarm_attempts(&a), 0);
    assert_int_equal(lh_alarm_due(&a), 0); /* returned next = 0 */
    /* The waits grew: 10..20, 20..40, 40..80, 40..80 ms (equal jitter,
     * capped): the gaps before runs 2..5 are at least the minimum. */
    assert_true(w.gaps[0] >= 10 * 1000);
    assert_true(w.gaps[1] >= 20 * 1000);
    assert_true(w.gaps[2] >= 40 * 1000);
    assert_true(w.gaps[3] >= 40 * 1000);
    lh_alarm_remove(&a);
    lh_alarms_free(s);
    lh_time_set_frozen(0, false);
}

static void
test_thread_runs_on_pool(void **state)
{
    (void)state;
    lh_time_set_frozen(T0, true);
    lh_pool *pool;
    assert_int_equal(lh_pool_new(4, &pool, NULL), LH_OK);
    lh_alarms *s;
    assert_int_equal(lh_alarms_new(pool, NULL, &s, NULL), LH_OK);
    /* Due every µs of a frozen clock, each run slow: the scheduler keeps
     * submitting it, yet it never runs twice at once. */
    work w = {.next_after = 1, .sleep_ms = 2};
    work idle = {.next_after = 0};
    lh_alarm a, b;
    lh_alarm_add(s, &a, "busy", work_fn, &w, T0);
    lh_alarm_add(s, &b, "idle", work_fn, &idle, T0 + LH_US_PER_DAY);
    wait_runs(&w, 1); /* next = now + 1 µs is not due on a frozen clock */
    sleep_ms(50);
    assert_int_equal(atomic_load(&w.runs), 1);
    lh_time_set_frozen(T0 + 10, true);
    wait_runs(&w, 2);
    /* A far alarm set to now runs (the set wakes the thread). */
    lh_alarm_set(&b, T0);
    wait_runs(&idle, 1);
    assert_int_equal(atomic_load(&w.max_concurrent), 1);
    lh_alarm_remove(&a); /* waits for a run in progress */
    lh_alarm_remove(&b);
    assert_int_equal(atomic_load(&w.concurrent), 0);
    lh_alarms_free(s);
    lh_pool_free(pool);
    lh_time_set_frozen(0, false);
}

static void
test_set_while_running(void **state)
{
    (void)state;
    lh_time_set_frozen(T0, true);
    lh_pool *pool;
    assert_int_equal(lh_pool_new(2, &pool, NULL), LH_OK);
    lh_alarms *s;
    assert_int_equal(lh_alarms_new(pool, NULL, &s, NULL), LH_OK);
    work w = {.next_after = LH_US_PER_DAY, .sleep_ms = 100};
    lh_alarm a;
    lh_alarm_add(s, &a, "a", work_fn, &w, T0);
    wait_runs(&w, 1);
    /* Set during the run to earlier than it will return: that wins. */
    assert_int_equal(atomic_load(&w.concurrent), 1);
    lh_alarm_set(&a, T0 + 5);
    lh_alarm_remove(&a); /* waits for the run to finish */
    assert_int_equal(a.due, T0 + 5);
    lh_alarms_free(s);
    lh_pool_free(pool);
    lh_time_set_frozen(0, false);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_due_follows_the_clock),
        cmocka_unit_test(test_failures_back_off),
        cmocka_unit_test(test_thread_runs_on_pool),
        cmocka_unit_test(test_set_while_running),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
