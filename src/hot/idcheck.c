/*
 * Event ids are unique across a table, not only within a shard.
 *
 * A shard's unique index catches an id used twice in that shard, and a
 * retry of an event always lands in the event's own shard (a stream lives
 * in one shard). What the shards cannot see is an id reused for an event of
 * a stream in ANOTHER shard. Looking the id up in every other shard would
 * cost N-1 index probes per event, so the table keeps a Bloom filter of
 * every id it holds (events and dedup rows; ~1% false positives): a miss
 * is the common case and costs a few memory reads, a hit is confirmed by
 * the probes. Calls in flight keep their ids in a map, so two concurrent
 * calls cannot both slip the same new id into two shards.
 *
 * The filter is built on the first append of the process that carries a
 * caller-chosen id (ids we generate are UUIDv7 and unique by construction,
 * but they go into the filter too, so a caller cannot reuse one), by
 * reading the ids of every shard; it doubles (and is rebuilt) when full.
 * Everything here runs under t->stream_mu.
 */
#include <string.h>
#include <xxhash.h>

#include "hot/hot_int.h"

#define FILTER_PROBES 7
#define FILTER_BITS_PER_ID 16 /* at 7 probes: well under 1% false hits */
#define FILTER_MIN_BITS (UINT64_C(1) << 20)

static void
filter_hashes(const lh_uuid *id, uint64_t *h1, uint64_t *h2)
{
    XXH128_hash_t h = XXH3_128bits(id->b, 16);
    *h1 = h.low64;
    *h2 = h.high64 | 1;
}

static void
filter_add(lh_idfilter *f, const lh_uuid *id)
{
    uint64_t h1, h2;
    filter_hashes(id, &h1, &h2);
    for (int k = 0; k < FILTER_PROBES; k++) {
        uint64_t bit = (h1 + (uint64_t)k * h2) & (f->nbits - 1);
        f->bits[bit >> 6] |= UINT64_C(1) << (bit & 63);
    }
    f->count++;
}

static bool
filter_maybe(const lh_idfilter *f, const lh_uuid *id)
{
    uint64_t h1, h2;
    filter_hashes(id, &h1, &h2);
    for (int k = 0; k < FILTER_PROBES; k++) {
        uint64_t bit = (h1 + (uint64_t)k * h2) & (f->nbits - 1);
        if (!(f->bits[bit >> 6] & (UINT64_C(1) << (bit & 63)))) {
            return false;
        }
    }
    return true;
}

void
lh__idfilter_release(lh_idfilter *f)
{
    lh_free(f->bits);
    memset(f, 0, sizeof(*f));
}

lh_rc
lh__probe_conn(lh_table *t, int shard, sqlite3 **out, lh_err *err)
{
    if (t->probe_conns[shard] == NULL) {
        lh_rc rc = lh__shard_open_reader(t->shards[shard].path,
                                         &t->probe_conns[shard], err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    *out = t->probe_conns[shard];
    return LH_OK;
}

/* (Re)builds the filter for at least `want` ids from every shard. */
static lh_rc
filter_build(lh_table *t, uint64_t want, lh_err *err)
{
    uint64_t nbits = FILTER_MIN_BITS;
    while (nbits / FILTER_BITS_PER_ID < want) {
        nbits <<= 1;
    }
    uint64_t *bits = lh_calloc(nbits / 64, sizeof(uint64_t));
    if (bits == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_idfilter f = {bits, nbits, 0};
    for (int i = 0; i < t->nshards; i++) {
        sqlite3 *c;
        lh_rc rc = lh__probe_conn(t, i, &c, err);
        if (rc != LH_OK) {
            lh_free(bits);
            return rc;
        }
        sqlite3_stmt *st = NULL;
        int r = sqlite3_prepare_v2(c,
                                   "SELECT event_id FROM events UNION ALL "
                                   "SELECT event_id FROM dedup",
                                   -1, &st, NULL);
        while (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
            if (sqlite3_column_bytes(st, 0) == 16) {
                lh_uuid id;
                memcpy(id.b, sqlite3_column_blob(st, 0), 16);
                filter_add(&f, &id);
            }
            r = SQLITE_OK;
        }
        sqlite3_finalize(st);
        if (r != SQLITE_DONE) {
            lh_free(bits);
            return lh__sqlite_err(c, r, "read the event ids of a shard", err);
        }
    }
    /* Ids of calls in flight are not in the shards yet. */
    size_t it = 0;
    const void *k;
    size_t kl;
    void *v;
    while (lh_map_next(&t->ids_in_flight, &it, &k, &kl, &v)) {
        lh_uuid id;
        memcpy(id.b, k, 16);
        filter_add(&f, &id);
    }
    lh__idfilter_release(&t->idf);
    t->idf = f;
    return LH_OK;
}

/* Is `id` stored in a shard other than `shard`? Fills stream and version of
 * the event that has it. */
static lh_rc
held_elsewhere(lh_table *t, const lh_uuid *id, int shard, bool *found,
               char *stream, size_t cap, int64_t *version, lh_err *err)
{
    *found = false;
    for (int i = 0; i < t->nshards && !*found; i++) {
        if (i == shard) {
            continue;
        }
        sqlite3 *c;
        lh_rc rc = lh__probe_conn(t, i, &c, err);
        if (rc != LH_OK) {
            return rc;
        }
        sqlite3_stmt *st = NULL;
        int r = sqlite3_prepare_v2(
            c,
            "SELECT stream, version FROM events WHERE event_id = ?1 UNION ALL "
            "SELECT stream, version FROM dedup WHERE event_id = ?1",
            -1, &st, NULL);
        if (r == SQLITE_OK) {
            sqlite3_bind_blob(st, 1, id->b, 16, SQLITE_STATIC);
            r = sqlite3_step(st);
        }
        if (r == SQLITE_ROW) {
            *found = true;
            snprintf(stream, cap, "%s",
                     (const char *)sqlite3_column_text(st, 0));
            *version = sqlite3_column_int64(st, 1);
        }
        sqlite3_finalize(st);
        if (r != SQLITE_ROW && r != SQLITE_DONE) {
            return lh__sqlite_err(c, r, "look up an event id", err);
        }
    }
    return LH_OK;
}

static lh_rc
reused(lh_err *err, const lh_hot_event *e, const char *stream, int64_t version)
{
    char idtxt[LH_UUID_STRLEN + 1];
    lh_uuid_format(&e->id, idtxt);
    lh_err_set(err, LH_EINVAL,
               "event id %s was already used for a different event (stream "
               "\"%s\", version %lld)",
               idtxt, stream, (long long)version);
    if (err != NULL) {
        err->index = (int64_t)e->index;
        snprintf(err->field, sizeof(err->field), "event_id");
    }
    return LH_EINVAL;
}

lh_rc
lh__ids_claim(lh_table *t, const lh_event_in *in, lh_hot_event *evs, size_t n,
              size_t *claimed, lh_err *err)
{
    *claimed = 0;
    lh_rc rc = LH_OK;
    pthread_mutex_lock(&t->stream_mu);
    bool any_given = false;
    for (size_t i = 0; i < n; i++) {
        any_given = any_given || in[i].event_id != NULL;
    }
    if (t->idf.bits == NULL && any_given) {
        rc = filter_build(t, 0, err);
    }
    if (rc == LH_OK && t->idf.bits != NULL &&
        t->idf.count + n > t->idf.nbits / FILTER_BITS_PER_ID) {
        rc = filter_build(t, (t->idf.count + n) * 2, err);
    }
    for (size_t i = 0; i < n && rc == LH_OK; i++) {
        lh_hot_event *e = &evs[i];
        /* In flight in another call: only in the same shard can the shards
         * sort it out (a retry racing its original). */
        void *other = lh_map_get(&t->ids_in_flight, e->id.b, 16);
        if (other != NULL) {
            if ((int)((intptr_t)other - 1) != e->shard) {
                char idtxt[LH_UUID_STRLEN + 1];
                lh_uuid_format(&e->id, idtxt);
                rc = lh_err_set(err, LH_EINVAL,
                                "event id %s is being appended by another "
                                "call for a stream of another shard",
                                idtxt);
                if (err != NULL) {
                    err->index = (int64_t)e->index;
                    snprintf(err->field, sizeof(err->field), "event_id");
                }
            }
            continue;
        }
        if (in[i].event_id != NULL && t->idf.bits != NULL &&
            filter_maybe(&t->idf, &e->id)) {
            bool found;
            char stream[LH_MAX_STREAM + 1];
            int64_t version = 0;
            rc = held_elsewhere(t, &e->id, e->shard, &found, stream,
                                sizeof(stream), &version, err);
            if (rc == LH_OK && found) {
                rc = reused(err, e, stream, version);
            }
            if (rc != LH_OK) {
                break;
            }
        }
        rc = lh_map_put(&t->ids_in_flight, e->id.b, 16,
                        (void *)(intptr_t)(e->shard + 1), NULL);
        if (rc != LH_OK) {
            lh_err_set(err, rc, "out of memory");
            break;
        }
        e->id_claimed = true;
        (*claimed)++;
        if (t->idf.bits != NULL) {
            filter_add(&t->idf, &e->id);
        }
    }
    pthread_mutex_unlock(&t->stream_mu);
    return rc;
}

void
lh__ids_release(lh_table *t, lh_hot_event *evs, size_t n)
{
    pthread_mutex_lock(&t->stream_mu);
    for (size_t i = 0; i < n; i++) {
        if (evs[i].id_claimed) {
            lh_map_del(&t->ids_in_flight, evs[i].id.b, 16);
            evs[i].id_claimed = false;
        }
    }
    pthread_mutex_unlock(&t->stream_mu);
}
