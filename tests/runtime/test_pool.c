/*
 * The thread pool and lh_done, with real threads.
 *
 * Handlers run on pool threads, where a cmocka assert cannot unwind: they
 * record what they see in atomics and the test thread asserts on those.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "runtime/runtime.h"

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Spinning for a state another thread reaches: fail instead of hanging
 * when it never comes. */
enum { SPIN_LIMIT_MS = 10000 };

static long
elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000 +
           (now.tv_nsec - since->tv_nsec) / 1000000;
}

static void
count_task(void *arg)
{
    atomic_int *n = arg;
    atomic_fetch_add(n, 1);
}

/* Blocks its worker until the lh_done it is given is signalled. */
static void
gate_task(void *arg)
{
    lh_done_wait(arg);
}

static void
test_new_rejects_bad_size(void **state)
{
    (void)state;
    static char dummy;
    lh_pool *p = (lh_pool *)&dummy; /* must come back NULL */
    lh_err err;
    assert_int_equal(lh_pool_new(-1, &p, &err), LH_EINVAL);
    assert_int_equal(err.code, LH_EINVAL);
    assert_null(p);
    assert_int_equal(lh_pool_new(LH_POOL_MAX_THREADS + 1, &p, NULL), LH_EINVAL);
    assert_null(p);
}

static void
test_zero_threads_means_cpus(void **state)
{
    (void)state;
    lh_pool *p = NULL;
    assert_int_equal(lh_pool_new(0, &p, NULL), LH_OK);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    assert_int_equal(lh_pool_threads(p), cpus < 1 ? 1 : cpus);
    lh_pool_free(p);
}

static void
test_free_null_is_noop(void **state)
{
    (void)state;
    lh_pool_free(NULL);
}

static void
test_runs_every_task(void **state)
{
    (void)state;
    enum { N = 20000 };
    lh_pool *p = NULL;
    assert_int_equal(lh_pool_new(4, &p, NULL), LH_OK);
    assert_int_equal(lh_pool_threads(p), 4);
    atomic_int ran = 0;
    for (int i = 0; i < N; i++) {
        assert_int_equal(lh_pool_submit(p, count_task, &ran), LH_OK);
    }
    lh_pool_free(p);
    assert_int_equal(atomic_load(&ran), N);
}

typedef struct order_rec {
    int order[1000];
    int n;
} order_rec;

typedef struct order_task {
    order_rec *rec;
    int i;
} order_task;

static void
record_order(void *arg)
{
    order_task *t = arg;
    t->rec->order[t->rec->n++] = t->i;
}

static void
test_fifo_on_one_thread(void **state)
{
    (void)state;
    lh_pool *p = NULL;
    assert_int_equal(lh_pool_new(1, &p, NULL), LH_OK);
    static order_rec rec; /* written by the one worker, read after join */
    static order_task tasks[1000];
    rec.n = 0;
    for (int i = 0; i < 1000; i++) {
        tasks[i] = (order_task){&rec, i};
        assert_int_equal(lh_pool_submit(p, record_order, &tasks[i]), LH_OK);
    }
    lh_pool_free(p);
    assert_int_equal(rec.n, 1000);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(rec.order[i], i);
    }
}

static void
slow_task(void *arg)
{
    sleep_ms(20);
    count_task(arg);
}

static void
test_free_runs_queued_tasks(void **state)
{
    (void)state;
    lh_pool *p = NULL;
    assert_int_equal(lh_pool_new(2, &p, NULL), LH_OK);
    atomic_int ran = 0;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(lh_pool_submit(p, slow_task, &ran), LH_OK);
    }
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(lh_pool_submit(p, count_task, &ran), LH_OK);
    }
    lh_pool_free(p); /* well before the slow tasks are through */
    assert_int_equal(atomic_load(&ran), 1010);
}

/* ---- shutdown: outsiders are refused, tasks may still submit ------------- */

enum { CHAIN_LEN = 1000 };

typedef struct shutdown_ctx {
    lh_pool *pool;
    lh_done gate;
    atomic_int chain_ran;
    atomic_int chain_refused;
} shutdown_ctx;

static void
chain_task(void *arg)
{
    shutdown_ctx *c = arg;
    if (atomic_fetch_add(&c->chain_ran, 1) + 1 < CHAIN_LEN) {
        if (lh_pool_submit(c->pool, chain_task, c) != LH_OK) {
            atomic_fetch_add(&c->chain_refused, 1);
        }
    }
}

/* Waits for the gate, then starts the chain: every link is submitted by a
 * worker after lh_pool_free has begun. */
static void
gate_then_chain(void *arg)
{
    shutdown_ctx *c = arg;
    lh_done_wait(&c->gate);
    if (lh_pool_submit(c->pool, chain_task, c) != LH_OK) {
        atomic_fetch_add(&c->chain_refused, 1);
    }
}

static void *
free_pool_thread(void *arg)
{
    lh_pool_free(arg);
    return NULL;
}

static void
test_shutdown_refuses_outsiders_runs_tasks(void **state)
{
    (void)state;
    static shutdown_ctx c;
    atomic_store(&c.chain_ran, 0);
    atomic_store(&c.chain_refused, 0);
    lh_done_init(&c.gate, 1);
    assert_int_equal(lh_pool_new(2, &c.pool, NULL), LH_OK);
    assert_int_equal(lh_pool_submit(c.pool, gate_then_chain, &c), LH_OK);

    pthread_t freer;
    assert_int_equal(pthread_create(&freer, NULL, free_pool_thread, c.pool), 0);
    /* The pool stays valid: lh_pool_free cannot return before the gate. */
    atomic_int ran = 0;
    int accepted = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        lh_rc rc = lh_pool_submit(c.pool, count_task, &ran);
        if (rc == LH_ECANCELED) {
            break;
        }
        assert_int_equal(rc, LH_OK);
        accepted++;
        assert_true(elapsed_ms(&start) < SPIN_LIMIT_MS);
        sched_yield();
    }
    lh_done_signal(&c.gate);
    assert_int_equal(pthread_join(freer, NULL), 0);

    assert_int_equal(atomic_load(&ran), accepted);
    assert_int_equal(atomic_load(&c.chain_refused), 0);
    assert_int_equal(atomic_load(&c.chain_ran), CHAIN_LEN);
    lh_done_release(&c.gate);
}

/* ---- out of memory ------------------------------------------------------- */

static void
test_submit_enomem_then_works(void **state)
{
    (void)state;
    lh_pool *p = NULL;
    assert_int_equal(lh_pool_new(2, &p, NULL), LH_OK);
    atomic_int ran = 0;
    lh_alloc_fail_at(1, false);
    assert_int_equal(lh_pool_submit(p, count_task, &ran), LH_ENOMEM);
    lh_alloc_fail_at(1, true);
    assert_int_equal(lh_pool_submit(p, count_task, &ran), LH_ENOMEM);
    assert_int_equal(lh_pool_submit(p, count_task, &ran), LH_ENOMEM);
    lh_alloc_fail_at(0, false);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(lh_pool_submit(p, count_task, &ran), LH_OK);
    }
    lh_pool_free(p);
    assert_int_equal(atomic_load(&ran), 100);
}

/* Submission by caller-owned node needs no memory at all. */
static void
test_submit_task_ignores_oom(void **state)
{
    (void)state;
    lh_pool *p = NULL;
    assert_int_equal(lh_pool_new(2, &p, NULL), LH_OK);
    atomic_int ran = 0;
    lh_pool_task tasks[10];
    lh_alloc_fail_at(1, true);
    for (int i = 0; i < 10; i++) {
        tasks[i].fn = count_task;
        tasks[i].arg = &ran;
        assert_int_equal(lh_pool_submit_task(p, &tasks[i]), LH_OK);
    }
    lh_pool_free(p);
    lh_alloc_fail_at(0, false);
    assert_int_equal(atomic_load(&ran), 10);
}

static void
test_new_each_allocation_fails(void **state)
{
    (void)state;
    for (uint64_t n = 1;; n++) {
        lh_pool *p = NULL;
        lh_err err;
        lh_alloc_fail_at(n, false);
        lh_rc rc = lh_pool_new(3, &p, &err);
        lh_alloc_fail_at(0, false);
        if (rc == LH_OK) {
            assert_true(n > 1); /* at least one allocation was tried */
            atomic_int ran = 0;
            assert_int_equal(lh_pool_submit(p, count_task, &ran), LH_OK);
            lh_pool_free(p);
            assert_int_equal(atomic_load(&ran), 1);
            break;
        }
        assert_int_equal(rc, LH_ENOMEM);
        assert_int_equal(err.code, LH_ENOMEM);
        assert_null(p);
        assert_true(n < 100);
    }
}

/* ---- lh_done ------------------------------------------------------------- */

typedef struct signaller {
    lh_done *done;
    atomic_int *count;
    int delay_ms;
} signaller;

static void *
signal_thread(void *arg)
{
    signaller *s = arg;
    sleep_ms(s->delay_ms);
    atomic_fetch_add(s->count, 1);
    lh_done_signal(s->done);
    return NULL;
}

static void
test_done_many_signallers(void **state)
{
    (void)state;
    enum { N = 8 };
    lh_done d;
    atomic_int count = 0;
    lh_done_init(&d, N);
    pthread_t th[N];
    signaller s[N];
    for (int i = 0; i < N; i++) {
        s[i] = (signaller){&d, &count, (i * 7) % 5};
        assert_int_equal(pthread_create(&th[i], NULL, signal_thread, &s[i]), 0);
    }
    lh_done_wait(&d);
    assert_int_equal(atomic_load(&count), N);
    /* A second wait returns at once. */
    lh_done_wait(&d);
    for (int i = 0; i < N; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
    }
    lh_done_release(&d);
}

static void
test_done_zero_does_not_wait(void **state)
{
    (void)state;
    lh_done d;
    lh_done_init(&d, 0);
    lh_done_wait(&d);
    lh_done_release(&d);
}

static void
signal_task(void *arg)
{
    lh_done_signal(arg);
}

/* The usual shape: a waiter with lh_done on its stack, released as soon as
 * the wait returns, while signallers may still be unlocking. */
static void
test_done_on_stack_from_pool(void **state)
{
    (void)state;
    lh_pool *p = NULL;
    assert_int_equal(lh_pool_new(4, &p, NULL), LH_OK);
    for (int round = 0; round < 2000; round++) {
        lh_done d;
        lh_done_init(&d, 3);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(lh_pool_submit(p, signal_task, &d), LH_OK);
        }
        lh_done_wait(&d);
        lh_done_release(&d);
    }
    lh_pool_free(p);
}

static void
test_gate_helper_unblocks(void **state)
{
    (void)state;
    lh_pool *p = NULL;
    assert_int_equal(lh_pool_new(1, &p, NULL), LH_OK);
    lh_done gate;
    lh_done_init(&gate, 1);
    atomic_int ran = 0;
    assert_int_equal(lh_pool_submit(p, gate_task, &gate), LH_OK);
    assert_int_equal(lh_pool_submit(p, count_task, &ran), LH_OK);
    sleep_ms(20);
    assert_int_equal(atomic_load(&ran), 0); /* FIFO, one worker: blocked */
    lh_done_signal(&gate);
    lh_pool_free(p);
    assert_int_equal(atomic_load(&ran), 1);
    lh_done_release(&gate);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_rejects_bad_size),
        cmocka_unit_test(test_zero_threads_means_cpus),
        cmocka_unit_test(test_free_null_is_noop),
        cmocka_unit_test(test_runs_every_task),
        cmocka_unit_test(test_fifo_on_one_thread),
        cmocka_unit_test(test_free_runs_queued_tasks),
        cmocka_unit_test(test_shutdown_refuses_outsiders_runs_tasks),
        cmocka_unit_test(test_submit_enomem_then_works),
        cmocka_unit_test(test_submit_task_ignores_oom),
        cmocka_unit_test(test_new_each_allocation_fails),
        cmocka_unit_test(test_done_many_signallers),
        cmocka_unit_test(test_done_zero_does_not_wait),
        cmocka_unit_test(test_done_on_stack_from_pool),
        cmocka_unit_test(test_gate_helper_unblocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
