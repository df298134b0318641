/*
 * Maintenance: expiring snapshots (spec "Snapshot Retention Policy") and
 * deleting what only they referenced, and removing orphan files.
 *
 * Expiry commits new metadata first (put-if-absent, as every commit) and
 * deletes files only after that, so a crash leaves at worst files nobody
 * references (orphans), never a snapshot without its files. A file is
 * deleted only when no retained snapshot lists it as live (ADDED or
 * EXISTING); manifests and manifest lists only when no retained snapshot
 * uses them.
 */
#include <stdio.h>
#include <string.h>

#include "format/iceberg/iceberg_int.h"

/* Paths seen: a set of strings. */
typedef struct pathset {
    lh_map m;
} pathset;

static lh_rc
ps_add(pathset *s, const char *p, lh_err *err)
{
    if (lh_map_has(&s->m, p, strlen(p))) {
        return LH_OK;
    }
    return lh_map_put(&s->m, p, strlen(p), (void *)1, NULL) == LH_OK
               ? LH_OK
               : lh_err_set(err, LH_ENOMEM, "out of memory");
}

static bool
ps_has(const pathset *s, const char *p)
{
    return lh_map_has(&s->m, p, strlen(p));
}

/* Adds the snapshot's list, manifests and files to `files` (live entries
 * only when live_only; every entry otherwise). */
static lh_rc
collect(const lh_ice_table *t, const lh_ice_snapshot *s, lh_arena *a,
        pathset *meta_files, pathset *files, bool live_only, lh_err *err)
{
    if (s->manifest_list == NULL) {
        return LH_OK;
    }
    lh_rc rc = ps_add(meta_files, s->manifest_list, err);
    lh_buf body = LH_BUF_INIT;
    lh_ice_manifest_list ml;
    if (rc == LH_OK) {
        rc = lh_ice_table_get(t, s->manifest_list, &body, err);
    }
    if (rc == LH_ENOENT) {
        lh_buf_release(&body);
        return LH_OK; /* already gone: nothing more to find */
    }
    if (rc == LH_OK) {
        rc = lh_ice_manifest_list_read((const uint8_t *)body.data, body.len,
                                       s->manifest_list, a, &ml, err);
    }
    for (uint32_t i = 0; rc == LH_OK && i < ml.nfiles; i++) {
        rc = ps_add(meta_files, ml.files[i].path, err);
        lh_ice_manifest man;
        if (rc == LH_OK) {
            rc = lh_ice_table_get(t, ml.files[i].path, &body, err);
        }
        if (rc == LH_ENOENT) {
            rc = LH_OK;
            continue;
        }
        if (rc == LH_OK) {
            rc = lh_ice_manifest_read((const uint8_t *)body.data, body.len,
                                      ml.files[i].path, &ml.files[i],
                                      lh_ice_table_meta(t), a, &man, err);
        }
        for (uint32_t k = 0; rc == LH_OK && k < man.nentries; k++) {
            if (!live_only || man.entries[k].status != LH_ICE_DELETED) {
                rc = ps_add(files, man.entries[k].file.path, err);
            }
        }
    }
    lh_buf_release(&body);
    return rc;
}

static lh_rc
delete_location(const lh_ice_table *t, const char *loc, uint64_t *n,
                lh_err *err)
{
    char key[LH_IO_KEY_MAX + 1];
    lh_err e2;
    if (lh_ice_table_key(t, loc, key, sizeof(key), &e2) != LH_OK) {
        return LH_OK; /* outside our store: not ours to delete */
    }
    lh_rc rc = lh_io_delete(lh_ice_table_store(t), key, err);
    if (rc == LH_OK) {
        (*n)++;
    }
    return rc;
}

/* The retained snapshot set: refs' snapshots, and main's (every branch's)
 * ancestors younger than the cutoff or among the first retain_last. */
static bool
retained(const lh_ice_meta *m, int64_t id, int64_t older_than_ms,
         int retain_last)
{
    for (uint32_t r = 0; r < m->nrefs; r++) {
        const lh_ice_ref *ref = &m->refs[r];
        if (ref->snapshot_id == id) {
            return true;
        }
        if (ref->is_tag) {
            continue;
        }
        int keep = ref->min_snapshots_to_keep > 0 ? ref->min_snapshots_to_keep
                                                  : retain_last;
        int64_t cutoff = older_than_ms;
        const lh_ice_snapshot *s = lh_ice_meta_snapshot(m, ref->snapshot_id);
        for (int depth = 0; s != NULL && depth <= (int)m->nsnapshots; depth++) {
            bool young = s->timestamp_ms >= cutoff;
            if (depth >= keep && !young) {
                break;
            }
            if (s->snapshot_id == id) {
                return true;
            }
            s = s->has_parent ? lh_ice_meta_snapshot(m, s->parent_id) : NULL;
        }
    }
    return false;
}

lh_rc
lh_ice_expire_snapshots(lh_ice_table *t, int64_t older_than_ms, int retain_last,
                        lh_ice_maintain_stats *st, lh_err *err)
{
    if (retain_last < 1) {
        retain_last = 1;
    }
    for (int attempt = 0; attempt < 20; attempt++) {
        lh_rc rc = lh__ice_table_refresh(t, err);
        if (rc != LH_OK) {
            return rc;
        }
        const lh_ice_meta *m = lh_ice_table_meta(t);
        lh_arena a;
        lh_arena_init(&a, 0);
        lh_ice_snapshot *keep =
            lh__ice_alloc_array(&a, m->nsnapshots, sizeof(*keep));
        lh_ice_log_entry *log =
            lh__ice_alloc_array(&a, m->nsnapshot_log, sizeof(*log));
        uint32_t nkeep = 0, nlog = 0;
        if (keep == NULL || log == NULL) {
            lh_arena_release(&a);
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        for (uint32_t i = 0; i < m->nsnapshots; i++) {
            if (retained(m, m->snapshots[i].snapshot_id, older_than_ms,
                         retain_last)) {
                keep[nkeep++] = m->snapshots[i];
            }
        }
        if (nkeep == m->nsnapshots) {
            lh_arena_release(&a);
            return LH_OK; /* nothing to expire */
        }
        for (uint32_t i = 0; i < m->nsnapshot_log; i++) {
            for (uint32_t k = 0; k < nkeep; k++) {
                if (keep[k].snapshot_id == m->snapshot_log[i].snapshot_id) {
                    log[nlog++] = m->snapshot_log[i];
                    break;
                }
            }
        }
        /* What the retained snapshots use, and what the expired ones did. */
        pathset live_meta, live_files, old_meta, old_files;
        lh_map_init(&live_meta.m);
        lh_map_init(&live_files.m);
        lh_map_init(&old_meta.m);
        lh_map_init(&old_files.m);
        for (uint32_t i = 0; rc == LH_OK && i < nkeep; i++) {
            rc = collect(t, &keep[i], &a, &live_meta, &live_files, true, err);
        }
        for (uint32_t i = 0; rc == LH_OK && i < m->nsnapshots; i++) {
            rc = collect(t, &m->snapshots[i], &a, &old_meta, &old_files, false,
                         err);
        }
        /* The new metadata. */
        lh_ice_meta nm = *m;
        nm.snapshots = keep;
        nm.nsnapshots = nkeep;
        nm.snapshot_log = log;
        nm.nsnapshot_log = nlog;
        nm.last_updated_ms =
            LH_MAX(lh_real_now() / 1000, m->last_updated_ms + 1);
        lh_buf json = LH_BUF_INIT;
        if (rc == LH_OK) {
            rc = lh_ice_meta_to_json(&nm, &json, err);
        }
        if (rc == LH_OK) {
            rc = lh__ice_publish(t, json.data, json.len, err);
        }
        lh_buf_release(&json);
        if (rc == LH_OK) {
            if (st != NULL) {
                st->expired_snapshots += m->nsnapshots - nkeep;
            }
            /* Committed: now the files only the expired ones had. */
            size_t it = 0;
            const void *k;
            size_t kl;
            void *v;
            uint64_t deleted = 0;
            while (rc == LH_OK && lh_map_next(&old_files.m, &it, &k, &kl, &v)) {
                char *p = lh_arena_strndup(&a, k, kl);
                if (p != NULL && !ps_has(&live_files, p)) {
                    rc = delete_location(t, p, &deleted, err);
                }
            }
            it = 0;
            while (rc == LH_OK && lh_map_next(&old_meta.m, &it, &k, &kl, &v)) {
                char *p = lh_arena_strndup(&a, k, kl);
                if (p != NULL && !ps_has(&live_meta, p)) {
                    rc = delete_location(t, p, &deleted, err);
                }
            }
            if (st != NULL) {
                st->deleted_files += deleted;
            }
        }
        lh_map_release(&live_meta.m);
        lh_map_release(&live_files.m);
        lh_map_release(&old_meta.m);
        lh_map_release(&old_files.m);
        lh_arena_release(&a);
        if (rc != LH_EEXIST) {
            if (rc == LH_OK) {
                rc = lh__ice_table_refresh(t, err);
            }
            return rc;
        }
        /* Another writer committed meanwhile: plan the expiry again. */
    }
    return lh_err_set(err, LH_ECONFLICT,
                      "commit conflict: expiring snapshots lost 20 races");
}

lh_rc
lh_ice_remove_orphans(lh_ice_table *t, int64_t older_than_ms,
                      lh_ice_maintain_stats *st, lh_err *err)
{
    lh_rc rc = lh__ice_table_refresh(t, err);
    if (rc != LH_OK) {
        return rc;
    }
    const lh_ice_meta *m = lh_ice_table_meta(t);
    lh_arena a;
    lh_arena_init(&a, 0);
    pathset meta, files;
    lh_map_init(&meta.m);
    lh_map_init(&files.m);
    /* Every file any snapshot lists (DELETED entries too: an older
     * snapshot may still need them), as keys. */
    for (uint32_t i = 0; rc == LH_OK && i < m->nsnapshots; i++) {
        rc = collect(t, &m->snapshots[i], &a, &meta, &files, false, err);
    }
    lh_map keys;
    lh_map_init(&keys);
    lh_map *sets[] = {&meta.m, &files.m};
    for (int s = 0; rc == LH_OK && s < 2; s++) {
        size_t it = 0;
        const void *k;
        size_t kl;
        void *v;
        while (rc == LH_OK && lh_map_next(sets[s], &it, &k, &kl, &v)) {
            char loc[LH_IO_KEY_MAX * 2], key[LH_IO_KEY_MAX + 1];
            snprintf(loc, sizeof(loc), "%.*s", (int)kl, (const char *)k);
            lh_err e2;
            if (lh_ice_table_key(t, loc, key, sizeof(key), &e2) == LH_OK &&
                lh_map_put(&keys, key, strlen(key), (void *)1, NULL) != LH_OK) {
                rc = lh_err_set(err, LH_ENOMEM, "out of memory");
            }
        }
    }
    static const char *const dirs[] = {"data/", "metadata/"};
    for (int d = 0; rc == LH_OK && d < 2; d++) {
        char prefix[LH_IO_KEY_MAX + 1], token[LH_IO_KEY_MAX + 64];
        snprintf(prefix, sizeof(prefix), "%s/%s", lh__ice_table_folder(t),
                 dirs[d]);
        lh_io_list_opts lo = {prefix, NULL, NULL, 0};
        for (;;) {
            lh_arena la;
            lh_arena_init(&la, 0);
            lh_io_page page;
            rc = lh_io_list(lh_ice_table_store(t), &lo, &la, &page, err);
            for (size_t i = 0; rc == LH_OK && i < page.count; i++) {
                const char *key = page.entries[i].key;
                const char *base = strrchr(key, '/');
                base = base ? base + 1 : key;
                if (lh_map_has(&keys, key, strlen(key)) ||
                    strstr(base, ".metadata.json") != NULL ||
                    strcmp(base, "version-hint.text") == 0) {
                    continue; /* referenced, or a table version */
                }
                lh_io_info info;
                lh_err e2;
                if (lh_io_head(lh_ice_table_store(t), key, &info, &e2) !=
                        LH_OK ||
                    info.mtime / 1000 >= older_than_ms) {
                    continue; /* young: maybe a commit in flight */
                }
                rc = lh_io_delete(lh_ice_table_store(t), key, err);
                if (rc == LH_OK && st != NULL) {
                    st->orphans_removed++;
                }
            }
            bool more = rc == LH_OK && page.next_token != NULL;
            if (more) {
                snprintf(token, sizeof(token), "%s", page.next_token);
                lo.token = token;
            }
            lh_arena_release(&la);
            if (!more) {
                break;
            }
        }
    }
    lh_map_release(&keys);
    lh_map_release(&meta.m);
    lh_map_release(&files.m);
    lh_arena_release(&a);
    return rc;
}
