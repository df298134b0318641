/*
 * runtime: the thread pool and mailboxes (the Durable Object role).
 *
 * A mailbox serializes the work for one object (a hot-tier shard): messages
 * posted from any thread are handled on a pool thread, never two at once for
 * the same mailbox, in posting order. The handler receives every message that
 * is queued when it runs, as one batch: that is what lets a shard commit
 * many appends in one transaction with one fsync (group commit).
 *
 * Design choices the users of this header rely on:
 *
 * - A mailbox's drain is one pool task at a time. After each handler call
 *   it does not loop: if more messages arrived it re-queues itself at the
 *   back of the pool's FIFO and returns. A shard under constant load thus
 *   takes turns with the other mailboxes instead of holding a worker for
 *   ever, and its next batch holds everything posted meanwhile (the fsync
 *   of one batch is the window in which the next one fills).
 * - Posting never allocates: messages are intrusive (lh_msg) and the drain
 *   task node lives in the mailbox (lh_pool_task), so lh_mailbox_post only
 *   fails with LH_ECANCELED.
 * - Shutdown: lh_pool_free stops accepting work from outside the pool, but
 *   tasks running on its workers may still submit (and post) while it
 *   drains; all of that runs before the workers exit. Release mailboxes
 *   before freeing their pool.
 *
 * - Alarms (below) are timers owned by an object: each runs its work on
 *   the pool when it is due, never twice at once, and retries a failure
 *   with exponential backoff. They keep time by lh_now() (so LH_NOW and the
 *   simulated clocks of tests drive them) and wait backoffs on the
 *   monotonic clock. Surviving restarts is the owner's part: it stores the
 *   due time its work returns (the hot tier keeps it in the shard) and arms
 *   the alarm with it again when it opens.
 */
#ifndef LH_RUNTIME_H
#define LH_RUNTIME_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/util.h"

/* ---- thread pool --------------------------------------------------------- */

typedef struct lh_pool lh_pool;
typedef void (*lh_task_fn)(void *arg);

/* The most workers a pool may have (a sanity bound on the argument). */
#define LH_POOL_MAX_THREADS 1024

/* Starts nthreads workers (0 = the number of online CPUs, at least 1).
 * Tasks run in submission order (FIFO), each on one of the workers.
 * LH_EINVAL if nthreads is negative or above LH_POOL_MAX_THREADS;
 * LH_ENOMEM if memory or a thread could not be had. */
lh_rc lh_pool_new(int nthreads, lh_pool **out, lh_err *err);
/* Queues fn(arg) to run on a worker. LH_ENOMEM (the task node could not be
 * allocated; nothing was queued), or LH_ECANCELED once lh_pool_free has
 * begun, unless called from one of this pool's workers: tasks may still
 * submit while the pool drains, and what they submit runs. Safe from any
 * thread, including a worker. */
lh_rc lh_pool_submit(lh_pool *p, lh_task_fn fn, void *arg);

/* A task node owned by the caller, for lh_pool_submit_task. */
typedef struct lh_pool_task {
    struct lh_pool_task *next; /* the pool's queue link */
    lh_task_fn fn;
    void *arg;
} lh_pool_task;

/* As lh_pool_submit, but the queue links t instead of allocating: it cannot
 * fail for lack of memory, only with LH_ECANCELED. The caller sets t->fn
 * and t->arg. t must stay valid, and must not be submitted again, until
 * t->fn starts running; from then on the pool no longer touches t (fn may
 * re-submit or free it). */
lh_rc lh_pool_submit_task(lh_pool *p, lh_pool_task *t);
int lh_pool_threads(const lh_pool *p);
/* Runs every queued task (and what they submit meanwhile), then joins the
 * workers and frees the pool. Must not be called from a worker. NULL is a
 * no-op. */
void lh_pool_free(lh_pool *p);

/* ---- mailbox ------------------------------------------------------------- */

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

/* Caller-owned storage (embed it in the object it serves); the fields are
 * private to mailbox.c. */
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
    lh_pool_task drain_task; /* queued while scheduled: posting never
                                allocates */
} lh_mailbox;

/* Initializes mb to run fn(owner, ...) on pool. max_batch caps the batch
 * size (0 = no cap: everything queued). LH_ENOMEM if the batch array could
 * not be allocated. The pool must outlive the mailbox. */
lh_rc lh_mailbox_init(lh_mailbox *mb, lh_pool *pool, lh_mailbox_fn fn,
                      void *owner, size_t max_batch, lh_err *err);
/* Queues m and schedules a drain if none is pending. m belongs to the
 * mailbox until it is handed to fn. Never allocates. LH_ECANCELED (m was
 * not queued) if a drain had to be scheduled while the pool shuts down and
 * the caller is not one of its workers; while a drain is pending, m is
 * taken and handled before the pool finishes. Safe from any thread,
 * including from fn. */
lh_rc lh_mailbox_post(lh_mailbox *mb, lh_msg *m);
/* Blocks until nothing is queued or running for this mailbox. Must not be
 * called from its own fn (it would wait for itself); from another task of
 * the same pool it holds a worker while it waits, so with a one-thread
 * pool it deadlocks. */
void lh_mailbox_drain(lh_mailbox *mb);
/* Drains, then releases the mailbox's resources. Nothing may post to mb
 * once this is called. */
void lh_mailbox_release(lh_mailbox *mb);

/* ---- alarms ---------------------------------------------------------------
 */

/* An alarm's work. Runs on a pool worker (or on the thread of
 * lh_alarms_run_due), never concurrently with itself. LH_OK with *next the
 * lh_now() time to run again (0: not until lh_alarm_set arms it again); any
 * other code is a failure, logged and retried after a backoff (err says
 * why, for the log). */
typedef lh_rc (*lh_alarm_fn)(void *owner, lh_us *next, lh_err *err);

typedef struct lh_alarms lh_alarms;

/* Caller-owned (embed it in the object it serves); the fields are private
 * to alarm.c and guarded by the scheduler's mutex. */
typedef struct lh_alarm {
    lh_alarms *s;
    lh_alarm_fn fn;
    void *owner;
    const char *name; /* for the log: borrowed for the alarm's life */
    lh_us due;        /* lh_now() time; 0 = not armed */
    lh_us not_before; /* lh_mono_now() time: the backoff */
    int attempts;     /* failures in a row */
    bool running;     /* fn is running (on a worker or run_due) */
    bool set_while_running;
    lh_us set_due;
    unsigned round;        /* the lh_alarms_run_due call it last ran in */
    struct lh_alarm *next; /* the scheduler's list */
    lh_pool_task task;
} lh_alarm;

typedef struct lh_alarms_opts {
    lh_us backoff_min; /* the first retry waits about this: 0 = 1 s */
    lh_us backoff_max; /* retries wait at most this: 0 = 5 min */
} lh_alarms_opts;

/* A scheduler. With a pool, a thread of its own submits each alarm to the
 * pool when it is due (lh_now() reached, backoff passed); without one
 * (NULL), alarms run only through lh_alarms_run_due. opts may be NULL.
 * LH_ENOMEM, LH_EIO (the thread). */
lh_rc lh_alarms_new(lh_pool *pool, const lh_alarms_opts *opts, lh_alarms **out,
                    lh_err *err);
/* Stops the thread and waits for running alarms; every alarm must have
 * been removed (lh_alarm_remove) or is forgotten. NULL is a no-op. */
void lh_alarms_free(lh_alarms *s);
/* Adds a to s, armed for `due` (0 = not armed). a must stay valid until
 * lh_alarm_remove. name is borrowed for the log. */
void lh_alarm_add(lh_alarms *s, lh_alarm *a, const char *name, lh_alarm_fn fn,
                  void *owner, lh_us due);
/* Arms a for `due` (0 disarms) and clears its backoff. While a runs, the
 * earlier of `due` and the time the run returns wins (0 still disarms).
 * Any thread. */
void lh_alarm_set(lh_alarm *a, lh_us due);
/* The time a is armed for (0 = not armed), and its failures in a row. */
lh_us lh_alarm_due(const lh_alarm *a);
int lh_alarm_attempts(const lh_alarm *a);
/* Takes a out of its scheduler, waiting for a run in progress. Not from a's
 * own fn. */
void lh_alarm_remove(lh_alarm *a);
/* Runs, on the calling thread, every alarm due now whose backoff has
 * passed, one after the other; *ran counts the runs, *failed the failures
 * (either may be NULL), and err (may be NULL) gets the first failure's
 * message. A run that fails leaves its alarm armed with a backoff. The
 * soonest time an alarm that did not run now could run goes to *wait_us
 * (monotonic µs from now; -1 when none is armed for now or earlier): what
 * a caller repeating until idle sleeps. */
void lh_alarms_run_due(lh_alarms *s, int *ran, int *failed, lh_us *wait_us,
                       lh_err *err);

/* ---- a one-shot completion, for a caller waiting on a message ------------ */

/* Caller-owned, typically on the waiter's stack: lh_done_signal touches d
 * only while holding its mutex, so the waiter may release d as soon as
 * lh_done_wait returns. */
typedef struct lh_done {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int pending; /* waits until 0 */
} lh_done;

/* pending >= 0: the number of lh_done_signal calls lh_done_wait waits for. */
void lh_done_init(lh_done *d, int pending);
/* Counts one down; wakes the waiters when it reaches 0. Any thread. Calling
 * it more often than `pending` is a bug. */
void lh_done_signal(lh_done *d);
/* Blocks until pending reaches 0 (returns at once if it is). */
void lh_done_wait(lh_done *d);
void lh_done_release(lh_done *d);

#endif
