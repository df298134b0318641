/*
 * vindex.c: the hot tier's vector index, one HNSW per shard beside its
 * SQLite file (shard-NNN.db -> shard-NNN.hnsw), ids = event positions.
 *
 * - Open: load the file; a missing, corrupt or foreign one is rebuilt from
 *   the shard's events. The file records the last position it covers: the
 *   events after it are inserted (a crash leaves the file of the last clean
 *   close, so this catches up), and a file covering rows the shard no
 *   longer has, or more than the shard has, is rebuilt.
 * - Append: the handler copies the committed group's embeddings before it
 *   acks, and inserts them after the acks, so appends never wait for the
 *   graph (lh__shard_vindex_take / _feed).
 * - Close: the index is saved (crash-safe: temp file, fsync, rename).
 * Searches (lh__shard_vsearch) may run on any thread beside the inserts
 * (vector.h's HNSW thread rules); between an ack and its insert they scan
 * the group exactly (s->vpending), so an acked event is found at once. The
 * index covers the full embedding with the table definition's metric, M,
 * ef_construction and ef_search ("vector_index"); a file of another
 * metric or M is rebuilt (ef_construction applies to the nodes inserted
 * after a change, ef_search at once).
 */
#include <string.h>

#include "hot/hot_int.h"

static char *
vindex_path(const lh_shard *s)
{
    lh_buf p = LH_BUF_INIT;
    size_t n = strlen(s->path);
    if (n > 3 && strcmp(s->path + n - 3, ".db") == 0) {
        n -= 3;
    }
    lh_buf_append(&p, s->path, n);
    lh_buf_puts(&p, ".hnsw");
    return lh_buf_take(&p, NULL);
}

/* Inserts the shard's events with an embedding and position > after. */
static lh_rc
catch_up(lh_shard *s, int64_t after, lh_err *err)
{
    sqlite3_stmt *st = NULL;
    int r = sqlite3_prepare_v2(s->db,
                               "SELECT position, embedding FROM events WHERE "
                               "position > ? AND embedding IS NOT NULL "
                               "ORDER BY position",
                               -1, &st, NULL);
    if (r != SQLITE_OK) {
        return lh__sqlite_err(s->db, r, "read embeddings", err);
    }
    sqlite3_bind_int64(st, 1, after);
    size_t dim = s->table->def->embedding_dim;
    lh_rc rc = LH_OK;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t pos = sqlite3_column_int64(st, 0);
        const void *b = sqlite3_column_blob(st, 1);
        size_t bytes = (size_t)sqlite3_column_bytes(st, 1);
        if (bytes != dim * sizeof(float)) {
            continue; /* not this table's shape: never indexed */
        }
        rc = lh_hnsw_insert(s->vindex, pos, b, err);
        if (rc == LH_EINVAL) {
            rc = LH_OK; /* a non-finite stored vector: not indexable */
        }
        if (rc != LH_OK) {
            break;
        }
        s->vindex_covers = pos;
    }
    if (rc == LH_OK && r != SQLITE_DONE) {
        rc = lh__sqlite_err(s->db, r, "read embeddings", err);
    }
    sqlite3_finalize(st);
    if (rc == LH_OK) {
        s->vindex_covers = LH_MAX(s->vindex_covers, s->last_position);
    }
    return rc;
}

static lh_rc
count_embedded(lh_shard *s, int64_t upto, int64_t *out, lh_err *err)
{
    sqlite3_stmt *st = NULL;
    int r = sqlite3_prepare_v2(s->db,
                               "SELECT count(*) FROM events WHERE position <= "
                               "? AND embedding IS NOT NULL",
                               -1, &st, NULL);
    if (r != SQLITE_OK) {
        return lh__sqlite_err(s->db, r, "count embeddings", err);
    }
    sqlite3_bind_int64(st, 1, upto);
    r = sqlite3_step(st);
    *out = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return r == SQLITE_ROW ? LH_OK
                           : lh__sqlite_err(s->db, r, "count embeddings", err);
}

lh_rc
lh__shard_vindex_open(lh_shard *s, lh_err *err)
{
    size_t dim = s->table->def->embedding_dim;
    if (dim == 0 || s->db == NULL) {
        return LH_OK;
    }
    char *path = vindex_path(s);
    if (path == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    const lh_tabledef *d = s->table->def;
    lh_hnsw_config c;
    lh_hnsw_config_default(&c, dim, (lh_vec_metric)d->vindex.metric);
    c.m = d->vindex.m;
    c.ef_construction = d->vindex.ef_construction;
    c.ef_search = d->vindex.ef_search;
    uint64_t covers = 0;
    lh_err lerr;
    /* another metric (or dim) than the definition's: LH_EFORMAT, rebuilt */
    lh_rc rc = lh_hnsw_load(path, &c, &covers, &s->vindex, &lerr);
    if (rc == LH_OK && lh_hnsw_config_of(s->vindex)->m != c.m) {
        lh_log(LH_LOG_INFO,
               "vector index \"%s\" has M %u, the table's is %u: rebuilt", path,
               lh_hnsw_config_of(s->vindex)->m, c.m);
        lh_hnsw_free(s->vindex);
        s->vindex = NULL;
        rc = LH_ENOENT;
    }
    if (rc == LH_OK) {
        int64_t have = 0;
        rc = count_embedded(s, (int64_t)covers, &have, err);
        if (rc != LH_OK) {
            goto done;
        }
        /* ahead of the shard, or holding rows the shard no longer has */
        if ((int64_t)covers > s->last_position ||
            (size_t)have != lh_hnsw_count(s->vindex)) {
            lh_log(LH_LOG_INFO, "vector index \"%s\" is stale: rebuilt", path);
            lh_hnsw_free(s->vindex);
            s->vindex = NULL;
        }
    } else if (rc == LH_ENOMEM) {
        if (err != NULL) {
            *err = lerr;
        }
        goto done;
    } else if (rc != LH_ENOENT) {
        lh_log(LH_LOG_WARN, "%s: rebuilt from the events", lerr.msg);
    }
    if (s->vindex == NULL) {
        covers = 0;
        rc = lh_hnsw_new(&c, &s->vindex, err);
        if (rc != LH_OK) {
            goto done;
        }
    }
    s->vindex_covers = (int64_t)covers;
    rc = catch_up(s, (int64_t)covers, err);
done:
    if (rc != LH_OK) {
        lh_hnsw_free(s->vindex);
        s->vindex = NULL;
    }
    lh_free(path);
    return rc;
}

void
lh__shard_vindex_close(lh_shard *s)
{
    if (s->vindex == NULL) {
        return;
    }
    /* A dropped table's index is not saved: its path may name a new
     * table's index file by now. */
    char *path = atomic_load(&s->table->dropped) ? NULL : vindex_path(s);
    lh_err err;
    if (path != NULL &&
        lh_hnsw_save(s->vindex, path, (uint64_t)s->vindex_covers, &err) !=
            LH_OK) {
        /* the next open rebuilds or catches up from the events */
        lh_log(LH_LOG_WARN, "could not save the vector index: %s", err.msg);
    }
    lh_free(path);
    lh_hnsw_free(s->vindex);
    s->vindex = NULL;
}

void
lh__shard_vindex_take(lh_shard *s, lh_msg **msgs, size_t n, lh__vindex_batch *b)
{
    memset(b, 0, sizeof(*b));
    if (s->vindex == NULL) {
        return;
    }
    size_t dim = s->table->def->embedding_dim, count = 0;
    for (size_t i = 0; i < n; i++) {
        lh_shard_req *req = (lh_shard_req *)msgs[i];
        for (size_t k = 0; req->rc == LH_OK && k < req->nevs; k++) {
            count +=
                req->evs[k]->embedding != NULL && !req->evs[k]->ack->duplicate;
        }
    }
    if (count == 0) {
        return;
    }
    b->pos = lh_malloc(count * sizeof(int64_t));
    b->vecs = lh_malloc(count * dim * sizeof(float));
    if (b->pos == NULL || b->vecs == NULL) {
        /* not indexed now: the next open catches up from the events */
        lh_free(b->pos);
        lh_free(b->vecs);
        b->pos = NULL;
        b->vecs = NULL;
        s->vindex_lagging = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        lh_shard_req *req = (lh_shard_req *)msgs[i];
        for (size_t k = 0; req->rc == LH_OK && k < req->nevs; k++) {
            const lh_hot_event *e = req->evs[k];
            if (e->embedding != NULL && !e->ack->duplicate) {
                b->pos[b->n] = e->ack->position;
                memcpy(b->vecs + b->n * dim, e->embedding, dim * sizeof(float));
                b->n++;
            }
        }
    }
    pthread_mutex_lock(&s->vpending_mu);
    s->vpending = *b;
    pthread_mutex_unlock(&s->vpending_mu);
}

void
lh__shard_vindex_feed(lh_shard *s, lh__vindex_batch *b)
{
    size_t dim = s->table->def->embedding_dim;
    for (size_t i = 0; i < b->n; i++) {
        lh_err err;
        if (lh_hnsw_insert(s->vindex, b->pos[i], b->vecs + i * dim, &err) !=
            LH_OK) {
            lh_log(LH_LOG_WARN, "vector index of shard %d: %s", s->index,
                   err.msg);
            s->vindex_lagging = true;
            break;
        }
    }
    /* covers moves only while nothing was skipped: a lagging index keeps
     * its mark, so the next open inserts what is missing */
    if (!s->vindex_lagging && b->n > 0) {
        s->vindex_covers = b->pos[b->n - 1];
    }
    /* A lagging graph misses some of these until the next open; searches
     * stop seeing them here either way (vector.md, "hot index"). */
    pthread_mutex_lock(&s->vpending_mu);
    memset(&s->vpending, 0, sizeof(s->vpending));
    pthread_mutex_unlock(&s->vpending_mu);
    lh_free(b->pos);
    lh_free(b->vecs);
    memset(b, 0, sizeof(*b));
}

lh_rc
lh__shard_vsearch(lh_shard *s, const float *q, size_t k, unsigned ef,
                  const lh_vec_filter *filter, lh_vec_hit *out, size_t *n,
                  lh_err *err)
{
    return lh__shard_vsearch_stats(s, q, k, ef, filter, out, n, NULL, err);
}

lh_rc
lh__shard_vsearch_stats(lh_shard *s, const float *q, size_t k, unsigned ef,
                        const lh_vec_filter *filter, lh_vec_hit *out, size_t *n,
                        lh_hnsw_stats *stats, lh_err *err)
{
    *n = 0;
    if (s->vindex == NULL) {
        return lh_err_set(err, LH_ENOENT,
                          "shard %d of table \"%s\" has no vector index",
                          s->index, s->table->def->name);
    }
    /* The acked group not yet in the graph, exactly: at most k of its
     * nearest (few rows: one group). */
    lh_vec_hit *extra = NULL;
    size_t nextra = 0;
    pthread_mutex_lock(&s->vpending_mu);
    const lh__vindex_batch *p = &s->vpending;
    if (p->n > 0 && k > 0) {
        extra = lh_malloc(p->n * sizeof(*extra));
        if (extra == NULL) {
            pthread_mutex_unlock(&s->vpending_mu);
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        size_t dim = s->table->def->embedding_dim;
        lh_vec_metric m = lh_hnsw_config_of(s->vindex)->metric;
        for (size_t i = 0; i < p->n; i++) {
            if (filter == NULL || lh_vec_filter_pass(filter, p->pos[i])) {
                extra[nextra].id = p->pos[i];
                extra[nextra].dist = lh_vec_dist(lh_vec_kernels_best(), m, q,
                                                 p->vecs + i * dim, dim);
                nextra++;
            }
        }
    }
    pthread_mutex_unlock(&s->vpending_mu);
    lh_rc rc = lh_hnsw_search(s->vindex, q, k, ef, filter, out, n, stats, err);
    if (rc != LH_OK || nextra == 0) {
        lh_free(extra);
        return rc;
    }
    /* merge: the graph may already hold some of the group */
    lh_vec_hits_sort(extra, nextra);
    size_t have = *n;
    for (size_t i = 0; i < nextra && i < k; i++) {
        bool dup = false;
        for (size_t j = 0; j < have && !dup; j++) {
            dup = out[j].id == extra[i].id;
        }
        if (dup) {
            continue;
        }
        if (have < k) {
            out[have++] = extra[i];
        } else if (extra[i].dist < out[have - 1].dist) {
            out[have - 1] = extra[i];
        } else {
            continue;
        }
        lh_vec_hits_sort(out, have);
    }
    *n = have;
    lh_free(extra);
    return LH_OK;
}
