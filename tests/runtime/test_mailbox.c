/*
 * Mailboxes with real threads: serialization, exactly-once delivery in
 * posting order, batching (group commit), fairness among mailboxes,
 * shutdown and out-of-memory behaviour.
 *
 * Handlers run on pool threads, where a cmocka assert cannot unwind: they
 * count what goes wrong in atomics, and the test thread asserts on those
 * after lh_mailbox_drain (whose mutex orders the handler's plain writes
 * before the test's reads).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/runtime.h"

enum { MAX_PRODUCERS = 16 };

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

typedef struct msg {
    lh_msg link; /* first, so an lh_msg * is the msg * */
    int producer;
    int seq;
    lh_done *entered; /* if set, the handler signals it at this message */
    lh_done *gate;    /* if set, the handler then waits for it */
    lh_done *done;    /* if set, the handler signals it after `result` */
    int result;
} msg;

/* A mailbox and what its handler observed. */
typedef struct box {
    lh_mailbox mb;
    int per_producer; /* messages each producer posts */
    int sleep_ms;     /* per handler call: makes batches form */
    atomic_bool in_handler;
    atomic_int overlaps;     /* calls that found another call running */
    atomic_int order_errors; /* a producer's message out of order */
    atomic_int cap_errors;   /* a batch larger than max_batch */
    atomic_int calls;
    atomic_long handled;
    _Atomic size_t max_n;
    /* Plain data: only the (serialized) handler writes these. */
    int last_seq[MAX_PRODUCERS];
    unsigned char *seen; /* [producer * per_producer + seq] */
} box;

static void
box_handler(void *owner, lh_msg **msgs, size_t n)
{
    box *b = owner;
    if (atomic_exchange(&b->in_handler, true)) {
        atomic_fetch_add(&b->overlaps, 1);
    }
    if (b->mb.max_batch != 0 && n > b->mb.max_batch) {
        atomic_fetch_add(&b->cap_errors, 1);
    }
    if (n > atomic_load(&b->max_n)) {
        atomic_store(&b->max_n, n);
    }
    for (size_t i = 0; i < n; i++) {
        msg *m = (msg *)msgs[i];
        if (m->entered != NULL) {
            lh_done_signal(m->entered);
        }
        if (m->gate != NULL) {
            lh_done_wait(m->gate);
        }
        if (m->seq != b->last_seq[m->producer] + 1) {
            atomic_fetch_add(&b->order_errors, 1);
        }
        b->last_seq[m->producer] = m->seq;
        if (b->seen != NULL) {
            b->seen[m->producer * b->per_producer + m->seq]++;
        }
        atomic_fetch_add(&b->handled, 1);
        if (m->done != NULL) {
            m->result = m->seq * 2;
            lh_done_signal(m->done); /* m may be gone after this */
        }
    }
    atomic_fetch_add(&b->calls, 1);
    if (b->sleep_ms > 0) {
        sleep_ms(b->sleep_ms);
    }
    atomic_store(&b->in_handler, false);
}

static void
box_init(box *b, lh_pool *pool, size_t max_batch, int producers,
         int per_producer)
{
    memset(b, 0, sizeof(*b));
    b->per_producer = per_producer;
    for (int i = 0; i < MAX_PRODUCERS; i++) {
        b->last_seq[i] = -1;
    }
    b->seen = calloc((size_t)producers * (size_t)per_producer + 1, 1);
    assert_non_null(b->seen);
    assert_int_equal(
        lh_mailbox_init(&b->mb, pool, box_handler, b, max_batch, NULL), LH_OK);
}

/* Releases the mailbox and checks the handler saw every message of
 * `producers` x per_producer exactly once, in order, one call at a time. */
static void
box_check_release(box *b, int producers)
{
    lh_mailbox_release(&b->mb);
    assert_int_equal(atomic_load(&b->overlaps), 0);
    assert_int_equal(atomic_load(&b->order_errors), 0);
    assert_int_equal(atomic_load(&b->cap_errors), 0);
    assert_int_equal(atomic_load(&b->handled),
                     (long)producers * b->per_producer);
    for (int p = 0; p < producers; p++) {
        assert_int_equal(b->last_seq[p], b->per_producer - 1);
        for (int s = 0; s < b->per_producer; s++) {
            assert_int_equal(b->seen[p * b->per_producer + s], 1);
        }
    }
    free(b->seen);
    b->seen = NULL;
}

/* ---- producers ----------------------------------------------------------- */

typedef struct producer {
    box **boxes; /* posts seq 0..n-1 to each box in turn */
    int nboxes;
    int id;
    int n;
    msg *msgs; /* n * nboxes */
    pthread_t th;
    atomic_int post_errors;
} producer;

static void *
producer_main(void *arg)
{
    producer *p = arg;
    for (int s = 0; s < p->n; s++) {
        for (int b = 0; b < p->nboxes; b++) {
            msg *m = &p->msgs[s * p->nboxes + b];
            *m = (msg){.producer = p->id, .seq = s};
            if (lh_mailbox_post(&p->boxes[b]->mb, &m->link) != LH_OK) {
                atomic_fetch_add(&p->post_errors, 1);
            }
        }
        if (s % 64 == 0) {
            sched_yield(); /* interleave producers on few CPUs */
        }
    }
    return NULL;
}

/* Runs `nprod` producers, each posting n messages to every box, and joins
 * them. */
static void
run_producers(box **boxes, int nboxes, int nprod, int n)
{
    assert_true(nprod <= MAX_PRODUCERS);
    producer *ps = calloc((size_t)nprod, sizeof(*ps));
    assert_non_null(ps);
    for (int i = 0; i < nprod; i++) {
        ps[i].boxes = boxes;
        ps[i].nboxes = nboxes;
        ps[i].id = i;
        ps[i].n = n;
        ps[i].msgs = calloc((size_t)n * (size_t)nboxes, sizeof(msg));
        assert_non_null(ps[i].msgs);
        assert_int_equal(pthread_create(&ps[i].th, NULL, producer_main, &ps[i]),
                         0);
    }
    for (int i = 0; i < nprod; i++) {
        assert_int_equal(pthread_join(ps[i].th, NULL), 0);
        assert_int_equal(atomic_load(&ps[i].post_errors), 0);
    }
    /* The messages must outlive their handling. */
    for (int b = 0; b < nboxes; b++) {
        lh_mailbox_drain(&boxes[b]->mb);
    }
    for (int i = 0; i < nprod; i++) {
        free(ps[i].msgs);
    }
    free(ps);
}

/* Posts msgs[0..n) (seq 0..n-1 of producer 0) to b, the first alone: the
 * handler is held at it, so the others all queue behind. Returns with the
 * handler still held; signal `gate` to let it go. */
static void
post_behind_gate(box *b, msg *msgs, int n, lh_done *gate)
{
    lh_done entered;
    lh_done_init(&entered, 1);
    lh_done_init(gate, 1);
    for (int i = 0; i < n; i++) {
        msgs[i] = (msg){.producer = 0, .seq = i};
    }
    msgs[0].entered = &entered;
    msgs[0].gate = gate;
    assert_int_equal(lh_mailbox_post(&b->mb, &msgs[0].link), LH_OK);
    lh_done_wait(&entered);
    lh_done_release(&entered);
    for (int i = 1; i < n; i++) {
        assert_int_equal(lh_mailbox_post(&b->mb, &msgs[i].link), LH_OK);
    }
}

/* ---- tests --------------------------------------------------------------- */

static void
test_many_producers_one_mailbox(void **state)
{
    (void)state;
    enum { PRODUCERS = 8, PER = 10000 };
    lh_pool *pool = NULL;
    assert_int_equal(lh_pool_new(4, &pool, NULL), LH_OK);
    static box b;
    box_init(&b, pool, 0, PRODUCERS, PER);
    box *boxes[] = {&b};
    run_producers(boxes, 1, PRODUCERS, PER);
    box_check_release(&b, PRODUCERS);
    lh_pool_free(pool);
}

/* Group commit: while the handler sleeps (its "fsync"), posts pile up and
 * the next call gets them all. */
static void
test_slow_handler_gets_batches(void **state)
{
    (void)state;
    enum { PRODUCERS = 4, PER = 300 };
    lh_pool *pool = NULL;
    assert_int_equal(lh_pool_new(2, &pool, NULL), LH_OK);
    static box b;
    box_init(&b, pool, 0, PRODUCERS, PER);
    b.sleep_ms = 1;
    box *boxes[] = {&b};
    run_producers(boxes, 1, PRODUCERS, PER);
    int calls = atomic_load(&b.calls);
    size_t max_n = atomic_load(&b.max_n);
    box_check_release(&b, PRODUCERS);
    lh_pool_free(pool);
    assert_true(max_n > 1);
    assert_true(calls < PRODUCERS * PER);
    print_message("slow handler: %d calls for %d messages, largest batch "
                  "%zu\n",
                  calls, PRODUCERS * PER, max_n);
}

static void
test_max_batch_caps_calls(void **state)
{
    (void)state;
    enum { N = 100 };
    lh_pool *pool = NULL;
    assert_int_equal(lh_pool_new(2, &pool, NULL), LH_OK);
    static box b;
    box_init(&b, pool, 3, 1, N + 1);
    static msg msgs[N + 1];
    lh_done gate;
    post_behind_gate(&b, msgs, N + 1, &gate);
    lh_done_signal(&gate);
    lh_mailbox_drain(&b.mb);
    assert_int_equal(atomic_load(&b.max_n), 3);
    assert_int_equal(atomic_load(&b.calls), 1 + N / 3 + (N % 3 != 0));
    box_check_release(&b, 1);
    lh_done_release(&gate);
    lh_pool_free(pool);
}

static void
test_many_mailboxes_two_threads(void **state)
{
    (void)state;
    enum { BOXES = 16, PRODUCERS = 4, PER = 500 };
    lh_pool *pool = NULL;
    assert_int_equal(lh_pool_new(2, &pool, NULL), LH_OK);
    static box bs[BOXES];
    box *boxes[BOXES];
    for (int i = 0; i < BOXES; i++) {
        box_init(&bs[i], pool, (size_t)i % 4 * 8, PRODUCERS, PER);
        boxes[i] = &bs[i];
    }
    run_producers(boxes, BOXES, PRODUCERS, PER);
    for (int i = 0; i < BOXES; i++) {
        box_check_release(&bs[i], PRODUCERS);
    }
    lh_pool_free(pool);
}

/* ---- fairness ------------------------------------------------------------ */

/* Mailbox A keeps itself busy for ever (each call posts again) until B's
 * handler runs; on a one-thread pool B runs only if A's drain yields the
 * worker between calls. */
typedef struct fair_ctx {
    lh_mailbox a, b;
    msg ma, mb;
    atomic_bool stop;
    atomic_bool starved;
    long rounds;
} fair_ctx;

enum { FAIR_MAX_ROUNDS = 1000000 };

static void
busy_handler(void *owner, lh_msg **msgs, size_t n)
{
    fair_ctx *c = owner;
    (void)msgs;
    (void)n;
    if (atomic_load(&c->stop)) {
        return;
    }
    if (++c->rounds >= FAIR_MAX_ROUNDS) {
        atomic_store(&c->starved, true);
        return;
    }
    if (lh_mailbox_post(&c->a, &c->ma.link) != LH_OK) {
        atomic_store(&c->starved, true);
    }
}

static void
stop_handler(void *owner, lh_msg **msgs, size_t n)
{
    fair_ctx *c = owner;
    (void)msgs;
    (void)n;
    atomic_store(&c->stop, true);
}

static void
test_busy_mailbox_does_not_starve_others(void **state)
{
    (void)state;
    lh_pool *pool = NULL;
    assert_int_equal(lh_pool_new(1, &pool, NULL), LH_OK);
    static fair_ctx c;
    assert_int_equal(lh_mailbox_init(&c.a, pool, busy_handler, &c, 0, NULL),
                     LH_OK);
    assert_int_equal(lh_mailbox_init(&c.b, pool, stop_handler, &c, 0, NULL),
                     LH_OK);
    assert_int_equal(lh_mailbox_post(&c.a, &c.ma.link), LH_OK);
    assert_int_equal(lh_mailbox_post(&c.b, &c.mb.link), LH_OK);
    lh_mailbox_release(&c.b);
    lh_mailbox_release(&c.a);
    lh_pool_free(pool);
    assert_false(atomic_load(&c.starved));
    assert_true(atomic_load(&c.stop));
    print_message("busy mailbox ran %ld rounds before the other one\n",
                  c.rounds);
}

/* ---- request / reply ----------------------------------------------------- */

typedef struct requester {
    box *b;
    int id;
    int n;
    pthread_t th;
    atomic_int errors;
} requester;

/* Posts one message at a time with an lh_done on the stack and waits for
 * its reply, as an appending client does. */
static void *
requester_main(void *arg)
{
    requester *r = arg;
    for (int s = 0; s < r->n; s++) {
        lh_done done;
        lh_done_init(&done, 1);
        msg m = {.producer = r->id, .seq = s, .done = &done, .result = -1};
        if (lh_mailbox_post(&r->b->mb, &m.link) != LH_OK) {
            atomic_fetch_add(&r->errors, 1);
            lh_done_release(&done);
            continue;
        }
        lh_done_wait(&done);
        lh_done_release(&done);
        if (m.result != s * 2) {
            atomic_fetch_add(&r->errors, 1);
        }
    }
    return NULL;
}

/* Runs `n` requesters of `per` requests each against b, and checks every
 * reply. */
static void
run_requesters(box *b, int n, int per)
{
    static requester rs[MAX_PRODUCERS];
    assert_true(n <= MAX_PRODUCERS);
    for (int i = 0; i < n; i++) {
        rs[i] = (requester){.b = b, .id = i, .n = per};
        assert_int_equal(
            pthread_create(&rs[i].th, NULL, requester_main, &rs[i]), 0);
    }
    for (int i = 0; i < n; i++) {
        assert_int_equal(pthread_join(rs[i].th, NULL), 0);
        assert_int_equal(atomic_load(&rs[i].errors), 0);
    }
}

static void
test_request_reply_with_done(void **state)
{
    (void)state;
    enum { REQUESTERS = 6, PER = 2000 };
    lh_pool *pool = NULL;
    assert_int_equal(lh_pool_new(2, &pool, NULL), LH_OK);
    static box b;
    box_init(&b, pool, 0, REQUESTERS, PER);
    run_requesters(&b, REQUESTERS, PER);
    box_check_release(&b, REQUESTERS);
    lh_pool_free(pool);
}

/* Group commit as a shard sees it: each client waits for its own reply,
 * and while the handler is in its 1 ms "fsync" the other clients' requests
 * queue up and go together in the next call. */
static void
test_group_commit_with_waiting_clients(void **state)
{
    (void)state;
    enum { REQUESTERS = 6, PER = 100 };
    lh_pool *pool = NULL;
    assert_int_equal(lh_pool_new(2, &pool, NULL), LH_OK);
    static box b;
    box_init(&b, pool, 0, REQUESTERS, PER);
    b.sleep_ms = 1;
    run_requesters(&b, REQUESTERS, PER);
    int calls = atomic_load(&b.calls);
    size_t max_n = atomic_load(&b.max_n);
    box_check_release(&b, REQUESTERS);
    lh_pool_free(pool);
    print_message("group commit: %d calls for %d requests, largest batch "
                  "%zu\n",
                  calls, REQUESTERS * PER, max_n);
    assert_true(max_n > 1);
    assert_true(max_n <= REQUESTERS);
    assert_true(calls < REQUESTERS * PER);
}

/* ---- shutdown ------------------------------------------------------------ */

typedef struct shutdown_ctx {
    lh_mailbox gated; /* its handler waits for `gate`, then posts to `inner` */
    lh_mailbox inner; /* posted to from a worker while the pool shuts down */
    lh_mailbox outer; /* posted to from outside while the pool shuts down */
    lh_done gate;
    msg gate_msg, inner_msg, outer_msg;
    atomic_int inner_post_rc;
    atomic_int inner_handled;
    atomic_int outer_handled;
} shutdown_ctx;

static void
gated_handler(void *owner, lh_msg **msgs, size_t n)
{
    shutdown_ctx *c = owner;
    (void)msgs;
    (void)n;
    lh_done_wait(&c->gate);
    atomic_store(&c->inner_post_rc,
                 (int)lh_mailbox_post(&c->inner, &c->inner_msg.link));
}

static void
count_inner(void *owner, lh_msg **msgs, size_t n)
{
    shutdown_ctx *c = owner;
    (void)msgs;
    atomic_fetch_add(&c->inner_handled, (int)n);
}

static void
count_outer(void *owner, lh_msg **msgs, size_t n)
{
    shutdown_ctx *c = owner;
    (void)msgs;
    atomic_fetch_add(&c->outer_handled, (int)n);
}

static void
noop_task(void *arg)
{
    (void)arg;
}

static void *
free_pool_thread(void *arg)
{
    lh_pool_free(arg);
    return NULL;
}

static void
test_post_while_pool_shuts_down(void **state)
{
    (void)state;
    lh_pool *pool = NULL;
    assert_int_equal(lh_pool_new(1, &pool, NULL), LH_OK);
    static shutdown_ctx c;
    atomic_store(&c.inner_post_rc, -1);
    lh_done_init(&c.gate, 1);
    assert_int_equal(
        lh_mailbox_init(&c.gated, pool, gated_handler, &c, 0, NULL), LH_OK);
    assert_int_equal(lh_mailbox_init(&c.inner, pool, count_inner, &c, 0, NULL),
                     LH_OK);
    assert_int_equal(lh_mailbox_init(&c.outer, pool, count_outer, &c, 0, NULL),
                     LH_OK);
    assert_int_equal(lh_mailbox_post(&c.gated, &c.gate_msg.link), LH_OK);

    pthread_t freer;
    assert_int_equal(pthread_create(&freer, NULL, free_pool_thread, pool), 0);
    /* The pool stays valid until the gate opens; wait for it to refuse. */
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (lh_pool_submit(pool, noop_task, NULL) != LH_ECANCELED) {
        assert_true(elapsed_ms(&start) < SPIN_LIMIT_MS);
        sched_yield();
    }
    assert_int_equal(lh_mailbox_post(&c.outer, &c.outer_msg.link),
                     LH_ECANCELED);
    lh_done_signal(&c.gate);
    assert_int_equal(pthread_join(freer, NULL), 0);

    assert_int_equal(atomic_load(&c.inner_post_rc), LH_OK);
    assert_int_equal(atomic_load(&c.inner_handled), 1);
    assert_int_equal(atomic_load(&c.outer_handled), 0);
    /* All idle: releasing after the pool is gone touches no pool. */
    lh_mailbox_release(&c.gated);
    lh_mailbox_release(&c.inner);
    lh_mailbox_release(&c.outer);
    lh_done_release(&c.gate);
}

/* ---- the batch array: growth, and growth failing ------------------------- */

/* Holds the handler on a first message while 1000 more queue, then lets
 * it go with every allocation failing (fail = true) or not. */
static void
run_gated_backlog(bool fail, size_t *max_n, int *calls)
{
    enum { N = 1000 };
    lh_pool *pool = NULL;
    assert_int_equal(lh_pool_new(1, &pool, NULL), LH_OK);
    static box b;
    box_init(&b, pool, 0, 1, N + 1);
    static msg msgs[N + 1];
    lh_done gate;
    post_behind_gate(&b, msgs, N + 1, &gate);
    if (fail) {
        lh_alloc_fail_at(1, true);
    }
    lh_done_signal(&gate);
    lh_mailbox_drain(&b.mb);
    lh_alloc_fail_at(0, false);
    *max_n = atomic_load(&b.max_n);
    *calls = atomic_load(&b.calls);
    box_check_release(&b, 1);
    lh_done_release(&gate);
    lh_pool_free(pool);
}

static void
test_batch_array_grows(void **state)
{
    (void)state;
    size_t max_n;
    int calls;
    run_gated_backlog(false, &max_n, &calls);
    assert_int_equal(max_n, 1000);
    assert_int_equal(calls, 2);
}

static void
test_batch_array_growth_fails_loses_nothing(void **state)
{
    (void)state;
    size_t max_n;
    int calls;
    run_gated_backlog(true, &max_n, &calls);
    /* Stuck at its initial size, it hands the backlog over in pieces. */
    assert_true(max_n > 1);
    assert_true(max_n < 1000);
    assert_true(calls > 2);
}

static void
test_init_enomem(void **state)
{
    (void)state;
    lh_pool *pool = NULL;
    assert_int_equal(lh_pool_new(1, &pool, NULL), LH_OK);
    lh_mailbox mb;
    lh_err err;
    lh_alloc_fail_at(1, false);
    assert_int_equal(lh_mailbox_init(&mb, pool, box_handler, NULL, 0, &err),
                     LH_ENOMEM);
    lh_alloc_fail_at(0, false);
    assert_int_equal(err.code, LH_ENOMEM);
    lh_pool_free(pool);
}

/* Posting allocates nothing: it works with every allocation failing. */
static void
test_post_needs_no_memory(void **state)
{
    (void)state;
    enum { PRODUCERS = 2, PER = 2000 };
    lh_pool *pool = NULL;
    assert_int_equal(lh_pool_new(2, &pool, NULL), LH_OK);
    static box b;
    box_init(&b, pool, 16, PRODUCERS, PER); /* 16: the array never grows */
    box *boxes[] = {&b};
    lh_alloc_fail_at(1, true);
    run_producers(boxes, 1, PRODUCERS, PER);
    lh_alloc_fail_at(0, false);
    box_check_release(&b, PRODUCERS);
    lh_pool_free(pool);
}

static void
test_drain_idle_mailbox(void **state)
{
    (void)state;
    lh_pool *pool = NULL;
    assert_int_equal(lh_pool_new(1, &pool, NULL), LH_OK);
    static box b;
    box_init(&b, pool, 0, 1, 1);
    lh_mailbox_drain(&b.mb);
    static msg m = {.producer = 0, .seq = 0};
    assert_int_equal(lh_mailbox_post(&b.mb, &m.link), LH_OK);
    lh_mailbox_drain(&b.mb);
    assert_int_equal(atomic_load(&b.handled), 1);
    lh_mailbox_drain(&b.mb);
    box_check_release(&b, 1);
    lh_pool_free(pool);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_producers_one_mailbox),
        cmocka_unit_test(test_slow_handler_gets_batches),
        cmocka_unit_test(test_max_batch_caps_calls),
        cmocka_unit_test(test_many_mailboxes_two_threads),
        cmocka_unit_test(test_busy_mailbox_does_not_starve_others),
        cmocka_unit_test(test_request_reply_with_done),
        cmocka_unit_test(test_group_commit_with_waiting_clients),
        cmocka_unit_test(test_post_while_pool_shuts_down),
        cmocka_unit_test(test_batch_array_grows),
        cmocka_unit_test(test_batch_array_growth_fails_loses_nothing),
        cmocka_unit_test(test_init_enomem),
        cmocka_unit_test(test_post_needs_no_memory),
        cmocka_unit_test(test_drain_idle_mailbox),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
