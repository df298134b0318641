/*
 * One execution's shared state: settings, the memory budget, cancel,
 * the cache of uncorrelated subqueries, EXPLAIN ANALYZE counters.
 */
#include <string.h>

#include "exec/exec_int.h"

lh_rc
lh__exec_init(lh_exec *ex, const lh_sql_settings *set,
              const lh_fn_registry *reg, atomic_bool *cancel)
{
    memset(ex, 0, sizeof *ex);
    ex->set = set;
    ex->reg = reg;
    ex->cancel = cancel;
    ex->threads = set && set->threads > 0 ? set->threads : 1;
    ex->mem.budget = set ? set->memory_limit : 0;
    atomic_store(&ex->mem.used, 0);
    atomic_store(&ex->abort_, false);
    ex->now = lh_now();
    pthread_mutex_init(&ex->mu, NULL);
    pthread_cond_init(&ex->cv, NULL);
    lh_map_init(&ex->pstats);
    return LH_OK;
}

void lh__subcache_free(lh_exec *ex);

void lh__join_builds_free(lh_exec *ex);

struct lh_cleanup {
    struct lh_cleanup *next;
    void (*fn)(void *);
    void *p;
};

void
lh__exec_release(lh_exec *ex)
{
    while (ex->cleanups) {
        struct lh_cleanup *c = ex->cleanups;
        ex->cleanups = c->next;
        c->fn(c->p);
        lh_free(c);
    }
    lh__subcache_free(ex);
    lh__join_builds_free(ex);
    size_t it = 0;
    const void *k;
    size_t kl;
    void *v;
    while (lh_map_next(&ex->pstats, &it, &k, &kl, &v)) {
        lh_free(v);
    }
    lh_map_release(&ex->pstats);
    pthread_mutex_destroy(&ex->mu);
    pthread_cond_destroy(&ex->cv);
}

lh_rc
lh__exec_on_release(lh_exec *ex, void (*fn)(void *), void *p, lh_err *err)
{
    struct lh_cleanup *c = lh_malloc(sizeof *c);
    if (c == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    c->fn = fn;
    c->p = p;
    pthread_mutex_lock(&ex->mu);
    c->next = ex->cleanups;
    ex->cleanups = c;
    pthread_mutex_unlock(&ex->mu);
    return LH_OK;
}

lh_rc
lh__exec_charge(lh_exec *ex, int64_t delta, lh_err *err)
{
    int64_t now = atomic_fetch_add(&ex->mem.used, delta) + delta;
    if (delta > 0 && ex->mem.budget > 0 && now > ex->mem.budget) {
        return lh_err_set(err, LH_ENOMEM,
                          "query memory limit of %lld bytes exceeded",
                          (long long)ex->mem.budget);
    }
    return LH_OK;
}

lh_rc
lh__exec_check_cancel(lh_exec *ex, lh_err *err)
{
    if (ex->cancel && atomic_load(ex->cancel)) {
        return lh_err_set(err, LH_ECANCELED,
                          "canceling statement due to "
                          "user request");
    }
    if (atomic_load(&ex->abort_)) {
        return lh_err_set(err, LH_ECANCELED,
                          "stopped: another worker of "
                          "the query failed");
    }
    return LH_OK;
}

static void
absorb(lh_exec *ex, const lh_xop *op)
{
    if (op->absorbed) {
        return;
    }
    const void *key = &op->node;
    lh_pstats *s = lh_map_get(&ex->pstats, key, sizeof(void *));
    if (s == NULL) {
        s = lh_calloc(1, sizeof(lh_pstats));
        if (s == NULL ||
            lh_map_put(&ex->pstats, key, sizeof(void *), s, NULL) != LH_OK) {
            lh_free(s);
            return;
        }
    }
    s->rows += op->stats.rows;
    s->batches += op->stats.batches;
    s->ns += op->stats.ns;
    s->instances++;
    const lh_scan_stats *a = &op->scan_stats;
    lh_scan_stats *b = &s->scan;
    b->files += a->files;
    b->files_pruned += a->files_pruned;
    b->row_groups += a->row_groups;
    b->row_groups_pruned += a->row_groups_pruned;
    b->pages += a->pages;
    b->pages_pruned += a->pages_pruned;
    b->shards += a->shards;
    b->shards_pruned += a->shards_pruned;
    b->bytes_read += a->bytes_read;
    b->rows += a->rows;
    b->knn.parts += a->knn.parts;
    b->knn.exact_parts += a->knn.exact_parts;
    b->knn.rounds += a->knn.rounds;
    b->knn.ef = LH_MAX(b->knn.ef, a->knn.ef);
    b->knn.filter_rows += a->knn.filter_rows;
    b->knn.filter_pass += a->knn.filter_pass;
    b->knn.distances += a->knn.distances;
    b->knn.over_fetched += a->knn.over_fetched;
    b->knn.over_missed += a->knn.over_missed;
    b->knn.lake_lists += a->knn.lake_lists;
    b->knn.lake_codes += a->knn.lake_codes;
    b->knn.lake_reranked += a->knn.lake_reranked;
    b->knn.lake_rows += a->knn.lake_rows;
    for (uint32_t i = 0; i < op->nchildren; i++) {
        if (op->children[i]) {
            absorb(ex, op->children[i]);
        }
    }
}

void
lh__stats_absorb(const lh_xop *op)
{
    if (!op->ex->analyze) {
        return;
    }
    pthread_mutex_lock(&op->ex->mu);
    absorb(op->ex, op);
    pthread_mutex_unlock(&op->ex->mu);
}

const lh_pstats *
lh__stats_of(lh_exec *ex, const lh_pnode *n)
{
    return lh_map_get(&ex->pstats, &n, sizeof(void *));
}
