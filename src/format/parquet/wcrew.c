/*
 * The writer's helper threads (writer_int.h, "wcrew.c"). One mutex guards
 * two queues of leaf indexes: the fill queue of the batch being written
 * and the seal queue of the row group sealing in the background. Every
 * thread, the caller's included, takes a leaf under the mutex and works on
 * it outside; a leaf is touched by one thread at a time, so the bytes of
 * the file do not depend on which thread did what.
 *
 * Why fill in parallel: encoding (dictionary lookups, levels, statistics)
 * costs several times what compressing does, so a writer that only sealed
 * in the background gained ~15% from a second core. Tasks are leaves, a
 * dozen or so a batch of 2,048 rows (~1 ms of work), so the mutex is taken
 * a few thousand times a second: nothing against the work.
 */
#include <pthread.h>
#include <zstd.h>

#include "format/parquet/writer_int.h"

typedef struct helper_arg {
    struct lh__pqw_crew *crew;
    uint32_t slot; /* its stage and ZSTD context in the writer */
} helper_arg;

struct lh__pqw_crew {
    lh_pq_writer *w;
    pthread_mutex_t mu;
    pthread_cond_t work; /* helpers: a queue has leaves, or quit */
    pthread_cond_t idle; /* the caller: a queue's last leaf is done */
    bool quit;
    /* The fill queue: leaves fill_next.. of the batch fb. */
    const lh_batch *fb;
    uint32_t fstart, fn;
    uint32_t fill_next, fill_total, fill_busy;
    lh_rc fill_rc;
    lh_err fill_err;
    /* The seal queue: leaves seal_next.. of scols. */
    lh__pqw_col *scols;
    uint32_t seal_next, seal_total, seal_busy;
    uint32_t nth;
    pthread_t th[LH_PQW_MAX_THREADS];
    helper_arg args[LH_PQW_MAX_THREADS];
};

static void
seal_leaf(lh_pq_writer *w, lh__pqw_col *cols, uint32_t i, uint32_t slot)
{
    if (w->o.codec == LH_PQ_CODEC_ZSTD && w->zctx[slot] == NULL) {
        w->zctx[slot] = ZSTD_createCCtx();
        if (w->zctx[slot] == NULL) {
            w->seal_rc[i] = lh__pqw_nomem(&w->seal_err[i]);
            return;
        }
    }
    w->seal_rc[i] = lh__pqw_col_seal(&cols[i], w->zctx[slot], &w->seal_err[i]);
}

/* With the mutex held: runs one leaf of the fill queue (the mutex is let
 * go meanwhile). false when the queue is empty. */
static bool
fill_one(lh__pqw_crew *c, uint32_t slot)
{
    if (c->fill_next >= c->fill_total) {
        return false;
    }
    uint32_t leaf = c->fill_next++;
    c->fill_busy++;
    pthread_mutex_unlock(&c->mu);
    lh_err e;
    lh_rc rc = lh__pqw_fill_leaf(c->w, &c->w->stages[slot], leaf, c->fb,
                                 c->fstart, c->fn, &e);
    pthread_mutex_lock(&c->mu);
    if (rc != LH_OK && c->fill_rc == LH_OK) {
        c->fill_rc = rc;
        c->fill_err = e;
    }
    if (--c->fill_busy == 0 && c->fill_next >= c->fill_total) {
        pthread_cond_broadcast(&c->idle);
    }
    return true;
}

/* The same for the seal queue. */
static bool
seal_one(lh__pqw_crew *c, uint32_t slot)
{
    if (c->seal_next >= c->seal_total) {
        return false;
    }
    uint32_t leaf = c->seal_next++;
    c->seal_busy++;
    pthread_mutex_unlock(&c->mu);
    seal_leaf(c->w, c->scols, leaf, slot);
    pthread_mutex_lock(&c->mu);
    if (--c->seal_busy == 0 && c->seal_next >= c->seal_total) {
        pthread_cond_broadcast(&c->idle);
    }
    return true;
}

static void *
helper_main(void *arg)
{
    helper_arg *h = arg;
    lh__pqw_crew *c = h->crew;
    pthread_mutex_lock(&c->mu);
    while (!c->quit) {
        if (!fill_one(c, h->slot) && !seal_one(c, h->slot)) {
            pthread_cond_wait(&c->work, &c->mu);
        }
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

lh_rc
lh__pqw_crew_start(lh_pq_writer *w, lh_err *err)
{
    lh__pqw_crew *c = lh_calloc(1, sizeof *c);
    if (c == NULL) {
        return lh__pqw_nomem(err);
    }
    c->w = w;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->work, NULL);
    pthread_cond_init(&c->idle, NULL);
    for (uint32_t t = 1; t < w->nthreads; t++) {
        c->args[t] = (helper_arg){c, t};
        if (pthread_create(&c->th[c->nth], NULL, helper_main, &c->args[t]) !=
            0) {
            break; /* the threads there are do the work */
        }
        c->nth++;
    }
    if (c->nth == 0) {
        pthread_cond_destroy(&c->idle);
        pthread_cond_destroy(&c->work);
        pthread_mutex_destroy(&c->mu);
        lh_free(c);
        return LH_OK;
    }
    w->crew = c;
    return LH_OK;
}

void
lh__pqw_crew_stop(lh__pqw_crew *c)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&c->mu);
    c->seal_total = c->seal_next; /* nothing more starts */
    while (c->seal_busy > 0 || c->fill_busy > 0) {
        pthread_cond_wait(&c->idle, &c->mu);
    }
    c->quit = true;
    pthread_cond_broadcast(&c->work);
    pthread_mutex_unlock(&c->mu);
    for (uint32_t t = 0; t < c->nth; t++) {
        pthread_join(c->th[t], NULL);
    }
    pthread_cond_destroy(&c->idle);
    pthread_cond_destroy(&c->work);
    pthread_mutex_destroy(&c->mu);
    lh_free(c);
}

lh_rc
lh__pqw_fill(lh_pq_writer *w, const lh_batch *b, uint32_t start, uint32_t n,
             lh_err *err)
{
    lh__pqw_crew *c = w->crew;
    if (c == NULL || w->nleaves < 2) {
        for (uint32_t i = 0; i < w->nleaves; i++) {
            lh_rc rc = lh__pqw_fill_leaf(w, &w->stages[0], i, b, start, n, err);
            if (rc != LH_OK) {
                return rc;
            }
        }
        return LH_OK;
    }
    pthread_mutex_lock(&c->mu);
    c->fb = b;
    c->fstart = start;
    c->fn = n;
    c->fill_next = 0;
    c->fill_total = w->nleaves;
    c->fill_rc = LH_OK;
    pthread_cond_broadcast(&c->work);
    while (fill_one(c, 0)) {
    }
    while (c->fill_busy > 0) {
        pthread_cond_wait(&c->idle, &c->mu);
    }
    c->fill_total = 0;
    c->fill_next = 0;
    c->fb = NULL;
    lh_rc rc = c->fill_rc;
    if (rc != LH_OK && err) {
        *err = c->fill_err;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void
lh__pqw_seal_begin(lh_pq_writer *w, lh__pqw_col *cols)
{
    lh__pqw_crew *c = w->crew;
    if (c == NULL) {
        for (uint32_t i = 0; i < w->nleaves; i++) {
            seal_leaf(w, cols, i, 0);
        }
        return;
    }
    pthread_mutex_lock(&c->mu);
    c->scols = cols;
    c->seal_next = 0;
    c->seal_total = w->nleaves;
    pthread_cond_broadcast(&c->work);
    pthread_mutex_unlock(&c->mu);
}

lh_rc
lh__pqw_seal_wait(lh_pq_writer *w, lh_err *err)
{
    lh__pqw_crew *c = w->crew;
    if (c != NULL) {
        pthread_mutex_lock(&c->mu);
        while (seal_one(c, 0)) {
        }
        while (c->seal_busy > 0) {
            pthread_cond_wait(&c->idle, &c->mu);
        }
        c->seal_total = 0;
        c->seal_next = 0;
        c->scols = NULL;
        pthread_mutex_unlock(&c->mu);
    }
    for (uint32_t i = 0; i < w->nleaves; i++) {
        if (w->seal_rc[i] != LH_OK) {
            if (err) {
                *err = w->seal_err[i];
            }
            return w->seal_rc[i];
        }
    }
    return LH_OK;
}
