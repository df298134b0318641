/*
 * runtime: the thread pool and mailboxes (the Durable Object role).
 *
 * A mailbox serializes the work for one object (a hot-tier shard): messages
 * posted from any thread are handled on a pool thread, never two at once for
 * the same mailbox, in posting order. The handler receives every message that
 * is queued when it runs, as one batch: that is what lets a shard commit
 * many appends in one transaction with one fsync (group commit).
 *
 * Alarms (timers owned by an object, surviving restarts) come with tiering.
 */
#ifndef LH_RUNTIME_H
#define LH_RUNTIME_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/util.h"

/* ---- thread pool ---------------------------------------------------------- */

typedef struct lh_pool lh_pool;
typedef void (*lh_task_fn)(void *arg);

/* Starts nthreads workers (0 = the number of online CPUs). */
lh_rc lh_pool_new(int nthreads, lh_pool **out, lh_err *err);
/* Queues fn(arg) to run on a worker. LH_ENOMEM, or LH_ECANCELED once the
 * pool is shutting down. Safe from any thread, including a worker. */
lh_rc lh_pool_submit(lh_pool *p, lh_task_fn fn, void *arg);
int lh_pool_threads(const lh_pool *p);
/* Runs every queued task, then joins the workers and frees the pool. Must
 * not be called from a worker. NULL is a no-op. */
void lh_pool_free(lh_pool *p);

/* ---- mailbox ---------------------------------------------------------------- */

/* Embed an lh_msg in your message struct (intrusive list: posting never
 * allocates, so it cannot fail for lack of memory). */
typedef struct lh_msg {
    struct lh_msg *next;
} lh_msg;

/* Handles a batch: msgs[0..n) in posting order. Runs on a pool thread; for
 * a given mailbox never concurrently with itself. The handler owns the
 * messages from here on (typically it completes each one, signalling its
 * waiter). */
typedef void (*lh_mailbox_fn)(void *owner, lh_msg **msgs, size_t n);

typedef struct lh_mailbox {
    pthread_mutex_t mu;
    pthread_cond_t idle_cv;
    lh_pool *pool;
    lh_mailbox_fn fn;
    void *owner;
    lh_msg *head, *tail; /* queued, not yet handed to fn */
    size_t queued;
    size_t max_batch; /* at most this many messages per call (0 = no cap) */
    bool scheduled;   /* a drain task is queued or running */
    lh_msg **scratch; /* the array handed to fn */
    size_t scratch_cap;
} lh_mailbox;

lh_rc lh_mailbox_init(lh_mailbox *mb, lh_pool *pool, lh_mailbox_fn fn,
                      void *owner, size_t max_batch, lh_err *err);
/* Queues m and schedules a drain if none is pending. LH_ECANCELED if the
 * pool is shutting down (m was not queued). */
lh_rc lh_mailbox_post(lh_mailbox *mb, lh_msg *m);
/* Blocks until nothing is queued or running for this mailbox. */
void lh_mailbox_drain(lh_mailbox *mb);
/* Drains, then releases the mailbox's resources. */
void lh_mailbox_release(lh_mailbox *mb);

/* ---- a one-shot completion, for a caller waiting on a message --------------- */

typedef struct lh_done {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int pending; /* waits until 0 */
} lh_done;

void lh_done_init(lh_done *d, int pending);
void lh_done_signal(lh_done *d);
void lh_done_wait(lh_done *d);
void lh_done_release(lh_done *d);

#endif
