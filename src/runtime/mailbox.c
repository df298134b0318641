/*
 * Mailboxes: one object's work, serialized on the pool.
 *
 * Invariant (under mb->mu): !scheduled implies the queue is empty. post
 * sets `scheduled` when it queues the drain task; only the drain clears it,
 * and only after it found the queue empty. So there is at most one drain
 * task per mailbox, queued or running, and it is the only reader of
 * `scratch` and the only one taking messages off the queue: handler calls
 * never overlap and batches come out in posting order.
 *
 * After a handler call the drain re-queues itself at the back of the pool
 * rather than looping (see runtime.h: fairness among mailboxes). Growing
 * the batch array may fail: the drain then hands over what fits and leaves
 * the rest queued for its next round, so no message is lost or reordered.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "runtime/runtime.h"

/* The batch array starts this big (or max_batch, if smaller) and grows on
 * demand: enough for the usual group-commit batch without a realloc, and
 * small (512 bytes) for a mailbox that sees little traffic. */
#define INITIAL_BATCH_CAP 64

/* Makes room for `want` messages in mb->scratch if memory allows; on
 * failure the array keeps its size. */
static void
grow_scratch(lh_mailbox *mb, size_t want)
{
    size_t cap = mb->scratch_cap * 2;
    if (cap < want) {
        cap = want;
    }
    if (mb->max_batch != 0 && cap > mb->max_batch) {
        cap = mb->max_batch;
    }
    if (cap > SIZE_MAX / sizeof(*mb->scratch)) {
        return;
    }
    lh_msg **s = lh_realloc(mb->scratch, cap * sizeof(*s));
    if (s == NULL) {
        return;
    }
    mb->scratch = s;
    mb->scratch_cap = cap;
}

/* Moves the next batch from the queue into mb->scratch; returns its size.
 * Called with mb->mu held. */
static size_t
take_batch(lh_mailbox *mb)
{
    size_t want = mb->queued;
    if (mb->max_batch != 0 && want > mb->max_batch) {
        want = mb->max_batch;
    }
    if (want > mb->scratch_cap) {
        grow_scratch(mb, want);
    }
    size_t n = LH_MIN(want, mb->scratch_cap);
    for (size_t i = 0; i < n; i++) {
        lh_msg *m = mb->head;
        mb->head = m->next;
        m->next = NULL;
        mb->scratch[i] = m;
    }
    if (mb->head == NULL) {
        mb->tail = NULL;
    }
    mb->queued -= n;
    return n;
}

/* The drain task: hands one batch to fn, then either goes idle or
 * re-queues itself. It touches mb only while holding mb->mu once it has
 * cleared `scheduled` or re-queued, since lh_mailbox_release (or the next
 * drain) may proceed as soon as the mutex is dropped. */
static void
drain_task(void *arg)
{
    lh_mailbox *mb = arg;
    pthread_mutex_lock(&mb->mu);
    assert(mb->scheduled);
    for (;;) {
        size_t n = take_batch(mb);
        pthread_mutex_unlock(&mb->mu);
        if (ALWAYS(n > 0)) {
            mb->fn(mb->owner, mb->scratch, n);
        }
        pthread_mutex_lock(&mb->mu);
        if (mb->head == NULL) {
            mb->scheduled = false;
            pthread_cond_broadcast(&mb->idle_cv);
            break;
        }
        /* We run on a worker of mb->pool, so this is accepted even while
         * the pool shuts down; should it not be, keep draining here. */
        lh_rc rc = lh_pool_submit_task(mb->pool, &mb->drain_task);
        if (ALWAYS(rc == LH_OK)) {
            break;
        }
    }
    pthread_mutex_unlock(&mb->mu);
}

lh_rc
lh_mailbox_init(lh_mailbox *mb, lh_pool *pool, lh_mailbox_fn fn, void *owner,
                size_t max_batch, lh_err *err)
{
    assert(pool != NULL && fn != NULL);
    memset(mb, 0, sizeof(*mb));
    size_t cap = INITIAL_BATCH_CAP;
    if (max_batch != 0 && max_batch < cap) {
        cap = max_batch;
    }
    mb->scratch = lh_malloc(cap * sizeof(*mb->scratch));
    if (mb->scratch == NULL) {
        return lh_err_set(err, LH_ENOMEM,
                          "could not allocate mailbox batch of %zu", cap);
    }
    int rc = pthread_mutex_init(&mb->mu, NULL);
    if (rc != 0) {
        lh_free(mb->scratch);
        mb->scratch = NULL;
        return lh_err_sys(err, LH_ENOMEM, rc,
                          "could not initialize mailbox mutex");
    }
    rc = pthread_cond_init(&mb->idle_cv, NULL);
    if (rc != 0) {
        pthread_mutex_destroy(&mb->mu);
        lh_free(mb->scratch);
        mb->scratch = NULL;
        return lh_err_sys(err, LH_ENOMEM, rc,
                          "could not initialize mailbox condition");
    }
    mb->scratch_cap = cap;
    mb->pool = pool;
    mb->fn = fn;
    mb->owner = owner;
    mb->max_batch = max_batch;
    mb->drain_task.fn = drain_task;
    mb->drain_task.arg = mb;
    return LH_OK;
}

lh_rc
lh_mailbox_post(lh_mailbox *mb, lh_msg *m)
{
    m->next = NULL;
    pthread_mutex_lock(&mb->mu);
    if (mb->tail != NULL) {
        mb->tail->next = m;
    } else {
        mb->head = m;
    }
    mb->tail = m;
    mb->queued++;
    if (!mb->scheduled) {
        lh_rc rc = lh_pool_submit_task(mb->pool, &mb->drain_task);
        if (rc != LH_OK) {
            /* Not scheduled means the queue was empty: m is all of it. */
            assert(mb->head == m && mb->queued == 1);
            mb->head = mb->tail = NULL;
            mb->queued = 0;
            pthread_mutex_unlock(&mb->mu);
            return rc;
        }
        mb->scheduled = true;
    }
    pthread_mutex_unlock(&mb->mu);
    return LH_OK;
}

void
lh_mailbox_drain(lh_mailbox *mb)
{
    pthread_mutex_lock(&mb->mu);
    while (mb->scheduled || mb->head != NULL) {
        pthread_cond_wait(&mb->idle_cv, &mb->mu);
    }
    pthread_mutex_unlock(&mb->mu);
}

void
lh_mailbox_release(lh_mailbox *mb)
{
    lh_mailbox_drain(mb);
    pthread_cond_destroy(&mb->idle_cv);
    pthread_mutex_destroy(&mb->mu);
    lh_free(mb->scratch);
    mb->scratch = NULL;
    mb->scratch_cap = 0;
}
