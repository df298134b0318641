/*
 * DROP TABLE (lh_table_drop): the table's shards and its lake, in an order
 * a crash cannot make lose an acknowledged event of a table that is still
 * there, nor leave a lake that a new table of the same name would adopt.
 *
 *   1. wait for the table's pipeline job in progress (t->maint_mu);
 *   2. the DROPPED marker in its directory: the commit point
 *      (lh__table_drop_begin, hot/dir.c); the name stays reserved;
 *   3. the lake goes: on a local store, its folder is renamed aside and
 *      removed; on another store, every object under "<name>/" is deleted;
 *   4. the directory is renamed aside (the name is free) and removed
 *      (lh__table_drop_end).
 *
 * A crash after 2 leaves the name reserved: DROP TABLE again runs 3 and 4
 * (lh__table_drop_begin finds the reservation the next open rebuilt).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "io/io.h"
#include "pipeline/pipeline_int.h"

/* Removes lake folder `dir`/`name` of a local store: renamed aside first,
 * so a crash while removing it leaves no half table under the name, and
 * asides an earlier interrupted drop left are swept. */
static lh_rc
remove_local_lake(const char *dir, const char *name, lh_err *err)
{
    lh_buf b = LH_BUF_INIT;
    lh_buf_printf(&b, "%s/%s", dir, name);
    char *from = lh_buf_take(&b, NULL);
    lh_buf_printf(&b, "%s/.%s.%lld.dropped", dir, name,
                  (long long)lh_mono_now());
    char *to = lh_buf_take(&b, NULL);
    lh_buf_printf(&b, ".%s.", name);
    char *mine = lh_buf_take(&b, NULL);
    lh_rc rc = LH_OK;
    if (from == NULL || to == NULL || mine == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
    } else if (rename(from, to) != 0 && errno != ENOENT) {
        rc = lh_err_sys(err, LH_EIO, errno, "could not rename \"%s\"", from);
    }
    DIR *d = rc == LH_OK ? opendir(dir) : NULL;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, mine, strlen(mine)) == 0 && n > 8 &&
            strcmp(e->d_name + n - 8, ".dropped") == 0) {
            lh_buf_printf(&b, "%s/%s", dir, e->d_name);
            char *p = lh_buf_take(&b, NULL);
            if (p != NULL) {
                lh__remove_tree(p);
            }
            lh_free(p);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    lh_free(from);
    lh_free(to);
    lh_free(mine);
    return rc;
}

/* Deletes every object of table `name` in the store at uri. */
static lh_rc
remove_store_lake(const char *uri, const char *name, lh_err *err)
{
    lh_io_store *st = NULL;
    lh_rc rc = lh_io_open(uri, &st, err);
    char prefix[LH_MAX_NAME + 2];
    snprintf(prefix, sizeof prefix, "%s/", name);
    lh_arena a;
    lh_arena_init(&a, 0);
    /* Deleting while listing would move later pages under S3's
     * continuation: each round lists the first page again until none is
     * left. */
    while (rc == LH_OK) {
        lh_io_list_opts o = {.prefix = prefix, .max_keys = 1000};
        lh_io_page page;
        rc = lh_io_list(st, &o, &a, &page, err);
        if (rc != LH_OK || page.count == 0) {
            break;
        }
        for (size_t i = 0; rc == LH_OK && i < page.count; i++) {
            rc = lh_io_delete(st, page.entries[i].key, err);
            if (rc == LH_ENOENT) {
                rc = LH_OK;
            }
        }
        lh_arena_reset(&a);
    }
    lh_arena_release(&a);
    lh_io_close(st);
    return rc;
}

lh_rc
lh_table_drop(lh_db *db, const char *name, lh_err *err)
{
    if (db->readonly) {
        return lh_err_set(err, LH_EREADONLY,
                          "cannot drop a table through a read-only handle");
    }
    lh_table *t = NULL;
    lh_err ignore;
    if (lh__db_table(db, name, &t, &ignore) != LH_OK) {
        t = NULL; /* being dropped, broken, or missing: begin tells */
    }
    if (t != NULL) {
        pthread_mutex_lock(&t->maint_mu);
    }
    lh_table *got = NULL;
    const lh_tabledef *def = NULL;
    lh_rc rc = lh__table_drop_begin(db, name, &got, &def, err);
    if (t != NULL) {
        /* a job that takes maint_mu from now on sees t->dropped (or t was
         * dropped by another call before this one) */
        pthread_mutex_unlock(&t->maint_mu);
    }
    if (rc != LH_OK) {
        return rc;
    }
    char *uri = NULL;
    rc = lh__lake_store_uri(db, def, false, &uri, err);
    if (rc == LH_OK && strncmp(uri, "file://", 7) == 0) {
        rc = remove_local_lake(uri + 7, def->name, err);
    } else if (rc == LH_OK) {
        rc = remove_store_lake(uri, def->name, err);
    }
    lh_free(uri);
    if (rc == LH_OK && lh__drop_step_hook != NULL) {
        lh__drop_step_hook(2);
    }
    if (rc == LH_OK) {
        rc = lh__table_drop_end(db, name, err);
    } else {
        lh_err_prefix(err,
                      "DROP TABLE %s: the table is gone, its lake not yet "
                      "(DROP TABLE %s again finishes it)",
                      name, name);
    }
    return rc;
}
