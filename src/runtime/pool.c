/*
 * The thread pool: a fixed set of workers around one FIFO of task nodes.
 *
 * Tasks are intrusive (lh_pool_task) so that a mailbox can keep its drain
 * task in its own struct and never allocate when it posts. lh_pool_submit
 * wraps fn/arg in a heap node whose task frees the node before calling fn.
 *
 * Idle workers wait on a stack, each on its own condition variable, and a
 * submission wakes the one that went idle last: its stack and caches are
 * warm and a lightly loaded pool keeps running on one or two threads. One
 * shared condition variable would wake the longest idle of them (glibc
 * wakes waiters in order), so a server's 64 workers would take turns,
 * each cold, each with its own malloc arena.
 *
 * Shutdown: lh_pool_free sets `stopping`; from then on submissions from
 * outside the pool get LH_ECANCELED, but a task running on a worker may
 * still submit (a mailbox handler posting to another mailbox, a drain
 * re-queueing itself). A worker exits only when `stopping` is set and the
 * queue is empty. That is enough: once stopping, only a live worker can add
 * to the queue, and it checks the queue again before it exits, so nothing
 * submitted is left behind.
 */
#include <assert.h>
#include <pthread.h>
#include <unistd.h>

#include "runtime/runtime.h"

/* A worker waiting for work (on the pool's idle stack while it waits). */
typedef struct idler {
    pthread_cond_t cv;
    struct idler *next;
    bool woken; /* popped by a submission or by stopping (under mu) */
} idler;

struct lh_pool {
    pthread_mutex_t mu;
    idler *idle; /* the stack of waiting workers, the last idle on top */
    lh_pool_task *head, *tail;
    bool stopping;
    int nthreads;
    pthread_t *threads;
};

/* A node for lh_pool_submit: the pool runs `task`, which frees the node. */
typedef struct heap_task {
    lh_pool_task task;
    lh_task_fn fn;
    void *arg;
} heap_task;

/* The pool whose worker this thread is, if any: lets submit accept work
 * from tasks while the pool drains, and catches lh_pool_free from a
 * worker. */
static _Thread_local lh_pool *tl_worker_of;

static void *
worker_main(void *arg)
{
    lh_pool *p = arg;
    tl_worker_of = p;
    idler me = {.next = NULL, .woken = false};
    pthread_cond_init(&me.cv, NULL);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->head == NULL && !p->stopping) {
            me.woken = false;
            me.next = p->idle;
            p->idle = &me;
            while (!me.woken) {
                pthread_cond_wait(&me.cv, &p->mu);
            }
        }
        lh_pool_task *t = p->head;
        if (t == NULL) {
            break; /* stopping, and nothing left */
        }
        p->head = t->next;
        if (p->head == NULL) {
            p->tail = NULL;
        }
        /* Read before running: fn may re-submit or free its node. */
        lh_task_fn fn = t->fn;
        void *fn_arg = t->arg;
        pthread_mutex_unlock(&p->mu);
        fn(fn_arg);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    pthread_cond_destroy(&me.cv);
    return NULL;
}

/* Wakes the worker that went idle last, if any is waiting. Under mu. */
static void
wake_one(lh_pool *p)
{
    idler *w = p->idle;
    if (w != NULL) {
        p->idle = w->next;
        w->woken = true;
        pthread_cond_signal(&w->cv);
    }
}

static void
run_heap_task(void *arg)
{
    heap_task *h = arg;
    lh_task_fn fn = h->fn;
    void *fn_arg = h->arg;
    lh_free(h);
    fn(fn_arg);
}

/* Wakes the workers to drain the queue and exit, then waits for them. */
static void
stop_and_join(lh_pool *p, int nstarted)
{
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    while (p->idle != NULL) {
        wake_one(p);
    }
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < nstarted; i++) {
        pthread_join(p->threads[i], NULL);
    }
}

static void
destroy(lh_pool *p)
{
    pthread_mutex_destroy(&p->mu);
    lh_free(p->threads);
    lh_free(p);
}

static int
online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) {
        return 1;
    }
    return n > LH_POOL_MAX_THREADS ? LH_POOL_MAX_THREADS : (int)n;
}

lh_rc
lh_pool_new(int nthreads, lh_pool **out, lh_err *err)
{
    *out = NULL;
    if (nthreads < 0 || nthreads > LH_POOL_MAX_THREADS) {
        return lh_err_set(err, LH_EINVAL,
                          "thread pool size %d out of range [0, %d]", nthreads,
                          LH_POOL_MAX_THREADS);
    }
    if (nthreads == 0) {
        nthreads = online_cpus();
    }
    lh_pool *p = lh_calloc(1, sizeof(*p));
    if (p == NULL) {
        return lh_err_set(err, LH_ENOMEM, "could not allocate thread pool");
    }
    p->threads = lh_calloc((size_t)nthreads, sizeof(*p->threads));
    if (p->threads == NULL) {
        lh_free(p);
        return lh_err_set(err, LH_ENOMEM,
                          "could not allocate thread pool of %d threads",
                          nthreads);
    }
    int rc = pthread_mutex_init(&p->mu, NULL);
    if (rc != 0) {
        lh_free(p->threads);
        lh_free(p);
        return lh_err_sys(err, LH_ENOMEM, rc,
                          "could not initialize thread pool mutex");
    }
    p->nthreads = nthreads;
    for (int i = 0; i < nthreads; i++) {
        rc = pthread_create(&p->threads[i], NULL, worker_main, p);
        if (rc != 0) {
            stop_and_join(p, i);
            destroy(p);
            return lh_err_sys(err, LH_ENOMEM, rc,
                              "could not start thread pool worker %d of %d",
                              i + 1, nthreads);
        }
    }
    *out = p;
    return LH_OK;
}

lh_rc
lh_pool_submit_task(lh_pool *p, lh_pool_task *t)
{
    assert(t->fn != NULL);
    t->next = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->stopping && tl_worker_of != p) {
        pthread_mutex_unlock(&p->mu);
        return LH_ECANCELED;
    }
    if (p->tail != NULL) {
        p->tail->next = t;
    } else {
        p->head = t;
    }
    p->tail = t;
    wake_one(p);
    pthread_mutex_unlock(&p->mu);
    return LH_OK;
}

lh_rc
lh_pool_submit(lh_pool *p, lh_task_fn fn, void *arg)
{
    assert(fn != NULL);
    heap_task *h = lh_malloc(sizeof(*h));
    if (h == NULL) {
        return LH_ENOMEM;
    }
    h->task.fn = run_heap_task;
    h->task.arg = h;
    h->fn = fn;
    h->arg = arg;
    lh_rc rc = lh_pool_submit_task(p, &h->task);
    if (rc != LH_OK) {
        lh_free(h);
    }
    return rc;
}

int
lh_pool_threads(const lh_pool *p)
{
    return p->nthreads;
}

void
lh_pool_free(lh_pool *p)
{
    if (p == NULL) {
        return;
    }
    assert(tl_worker_of != p && "lh_pool_free called from its own worker");
    stop_and_join(p, p->nthreads);
    /* The workers exit only on an empty queue. */
    if (NEVER(p->head != NULL)) {
        p->head = p->tail = NULL;
    }
    destroy(p);
}
