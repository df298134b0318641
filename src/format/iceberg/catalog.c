/*
 * The embedded catalog: a SQLite file with the tables of Iceberg's JDBC
 * catalog and pyiceberg's SqlCatalog, so either can open it:
 *
 *   iceberg_tables (catalog_name, table_namespace, table_name,
 *                   metadata_location, previous_metadata_location,
 *                   iceberg_type)           primary key: the first three
 *   iceberg_namespace_properties (catalog_name, namespace, property_key,
 *                   property_value)         primary key: the first three
 *
 * (iceberg_type is the JDBC catalog's V1 column, 'TABLE' here; pyiceberg
 * reads the other five.) A table's versions are
 * metadata/<NNNNN>-<uuid>.metadata.json (spec "Metastore Tables"); a commit
 * writes its new one under a fresh name and swaps the pointer with
 *
 *   UPDATE iceberg_tables SET metadata_location = :new,
 *          previous_metadata_location = :old
 *    WHERE catalog_name = :c AND table_namespace = :ns
 *      AND table_name = :t AND metadata_location = :old
 *
 * in one transaction: one row changed is the win, none a lost race (the
 * commit reloads and retries, as on file-system tables). The same UPDATE
 * runs unchanged on PostgreSQL when the catalog moves there.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "format/iceberg/iceberg_int.h"

struct lh_ice_catalog {
    sqlite3 *db;
    char *name;
};

static const char *const SCHEMA_SQL =
    "CREATE TABLE IF NOT EXISTS iceberg_tables ("
    " catalog_name VARCHAR(255) NOT NULL,"
    " table_namespace VARCHAR(255) NOT NULL,"
    " table_name VARCHAR(255) NOT NULL,"
    " metadata_location VARCHAR(1000),"
    " previous_metadata_location VARCHAR(1000),"
    " iceberg_type VARCHAR(5),"
    " PRIMARY KEY (catalog_name, table_namespace, table_name));"
    "CREATE TABLE IF NOT EXISTS iceberg_namespace_properties ("
    " catalog_name VARCHAR(255) NOT NULL,"
    " namespace VARCHAR(255) NOT NULL,"
    " property_key VARCHAR(255),"
    " property_value VARCHAR(1000),"
    " PRIMARY KEY (catalog_name, namespace, property_key));";

static lh_rc
db_err(sqlite3 *db, lh_rc code, const char *what, lh_err *err)
{
    int ec = sqlite3_extended_errcode(db);
    if ((ec & 0xff) == SQLITE_BUSY || (ec & 0xff) == SQLITE_LOCKED) {
        code = LH_ECONFLICT;
    }
    return lh_err_set(err, code, "catalog: %s: %s", what, sqlite3_errmsg(db));
}

lh_rc
lh_ice_catalog_open(const char *path, const char *name, lh_ice_catalog **out,
                    lh_err *err)
{
    *out = NULL;
    lh_ice_catalog *c = lh_calloc(1, sizeof(*c));
    if (c == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    c->name = lh_strdup(name ? name : "lakehouse");
    int rc = sqlite3_open_v2(path, &c->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                 SQLITE_OPEN_FULLMUTEX,
                             NULL);
    lh_rc r = LH_OK;
    if (c->name == NULL) {
        r = lh_err_set(err, LH_ENOMEM, "out of memory");
    } else if (rc != SQLITE_OK) {
        r = lh_err_set(err, LH_EIO, "could not open catalog \"%.300s\": %s",
                       path, c->db ? sqlite3_errmsg(c->db) : "out of memory");
    } else {
        sqlite3_busy_timeout(c->db, 10000);
        char *msg = NULL;
        if (sqlite3_exec(c->db, SCHEMA_SQL, NULL, NULL, &msg) != SQLITE_OK) {
            r = lh_err_set(err, LH_EIO, "catalog \"%.300s\": %s", path,
                           msg ? msg : "could not create its tables");
        }
        sqlite3_free(msg);
    }
    if (r != LH_OK) {
        lh_ice_catalog_close(c);
        return r;
    }
    *out = c;
    return LH_OK;
}

void
lh_ice_catalog_close(lh_ice_catalog *c)
{
    if (c == NULL) {
        return;
    }
    sqlite3_close(c->db);
    lh_free(c->name);
    lh_free(c);
}

lh_rc
lh__ice_catalog_location(lh_ice_catalog *c, const char *ns, const char *name,
                         char *buf, size_t n, lh_err *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT metadata_location FROM iceberg_tables "
                           "WHERE catalog_name = ? AND table_namespace = ? "
                           "AND table_name = ?",
                           -1, &st, NULL) != SQLITE_OK) {
        return db_err(c->db, LH_EIO, "select", err);
    }
    sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    lh_rc r = LH_OK;
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL) {
        snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
    } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        r = lh_err_set(err, LH_ENOENT,
                       "catalog \"%s\" has no table \"%.100s.%.100s\"", c->name,
                       ns, name);
    } else {
        r = db_err(c->db, LH_EIO, "select", err);
    }
    sqlite3_finalize(st);
    return r;
}

lh_rc
lh__ice_catalog_swap(lh_ice_catalog *c, const char *ns, const char *name,
                     const char *old_loc, const char *new_loc, lh_err *err)
{
    sqlite3_stmt *st;
    const char *sql =
        old_loc == NULL
            ? "INSERT INTO iceberg_tables (catalog_name, table_namespace, "
              "table_name, metadata_location, previous_metadata_location, "
              "iceberg_type) VALUES (?1, ?2, ?3, ?5, NULL, 'TABLE') ON "
              "CONFLICT DO NOTHING"
            : "UPDATE iceberg_tables SET metadata_location = ?5, "
              "previous_metadata_location = ?4 WHERE catalog_name = ?1 AND "
              "table_namespace = ?2 AND table_name = ?3 AND "
              "metadata_location = ?4";
    if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        return db_err(c->db, LH_EIO, "begin", err);
    }
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        lh_rc r = db_err(c->db, LH_EIO, "prepare", err);
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
    }
    sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    if (old_loc != NULL) {
        sqlite3_bind_text(st, 4, old_loc, -1, SQLITE_STATIC);
    }
    sqlite3_bind_text(st, 5, new_loc, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int changed = sqlite3_changes(c->db);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        lh_rc r = db_err(c->db, LH_EIO, "update", err);
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
    }
    if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        lh_rc r = db_err(c->db, LH_EIO, "commit", err);
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
    }
    if (changed != 1) {
        return old_loc == NULL ? LH_EEXIST : LH_ECONFLICT;
    }
    return LH_OK;
}

const char *
lh__ice_catalog_name(const lh_ice_catalog *c)
{
    return c->name;
}

lh_rc
lh_ice_catalog_list(lh_ice_catalog *c, const char *ns, lh_buf *out, lh_err *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT table_name FROM iceberg_tables WHERE "
                           "catalog_name = ? AND table_namespace = ? ORDER BY "
                           "table_name",
                           -1, &st, NULL) != SQLITE_OK) {
        return db_err(c->db, LH_EIO, "select", err);
    }
    sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ns, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lh_buf_puts(out, (const char *)sqlite3_column_text(st, 0));
        lh_buf_putc(out, '\n');
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        return db_err(c->db, LH_EIO, "select", err);
    }
    return lh_buf_ok(out) ? LH_OK : lh_err_set(err, LH_ENOMEM, "out of memory");
}
