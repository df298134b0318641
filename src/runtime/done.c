/*
 * lh_done: a countdown a caller waits on (a message's completion).
 *
 * lh_done_signal broadcasts while it holds the mutex and touches nothing
 * after unlocking, so a waiter whose lh_done lives on its stack may return
 * and release it as soon as it sees pending reach 0.
 */
#include <assert.h>
#include <pthread.h>

#include "runtime/runtime.h"

void
lh_done_init(lh_done *d, int pending)
{
    assert(pending >= 0);
    /* With default attributes these cannot fail on Linux (glibc allocates
     * nothing for them), which is why this returns void. */
    int rc = pthread_mutex_init(&d->mu, NULL);
    assert(rc == 0);
    rc = pthread_cond_init(&d->cv, NULL);
    assert(rc == 0);
    (void)rc;
    d->pending = pending;
}

void
lh_done_signal(lh_done *d)
{
    pthread_mutex_lock(&d->mu);
    assert(d->pending > 0 && "lh_done signalled more often than pending");
    if (d->pending > 0 && --d->pending == 0) {
        pthread_cond_broadcast(&d->cv);
    }
    pthread_mutex_unlock(&d->mu);
}

void
lh_done_wait(lh_done *d)
{
    pthread_mutex_lock(&d->mu);
    while (d->pending > 0) {
        pthread_cond_wait(&d->cv, &d->mu);
    }
    pthread_mutex_unlock(&d->mu);
}

void
lh_done_release(lh_done *d)
{
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
}
