/*
 * schema: migrations, oldest first. Never edit a shipped migration; add one.
 */
#include "schema.h"

#include <stddef.h>

static const char *const migrations[] = {
    /* 1: container bookkeeping */
    "CREATE TABLE vault_meta("
    "  key TEXT PRIMARY KEY NOT NULL,"
    "  value TEXT NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE keyslot_state("
    "  slot INTEGER PRIMARY KEY CHECK (slot BETWEEN 0 AND 7),"
    "  committed BLOB NOT NULL CHECK (length(committed) = 512),"
    "  pending BLOB CHECK (pending IS NULL OR length(pending) = 512)"
    ");",
};

#define NMIGRATIONS (int)(sizeof migrations / sizeof migrations[0])

int schema_latest(void)
{
    return NMIGRATIONS;
}

int schema_version(sqlite3 *db, int *version, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = EV_ERR_INTERNAL;

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = err_set(e, EV_ERR_IO, "cannot read the schema version: %s",
                     sqlite3_errmsg(db));
        goto out;
    }
    *version = sqlite3_column_int(st, 0);
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

int schema_migrate(sqlite3 *db, ev_err *e)
{
    int v = 0, rc;

    rc = schema_version(db, &v, e);
    if (rc != 0)
        return rc;
    if (v > NMIGRATIONS)
        return err_set(e, EV_ERR_REFUSED,
                       "this vault has schema version %d but this evault "
                       "knows only up to %d: upgrade evault",
                       v, NMIGRATIONS);
    while (v < NMIGRATIONS) {
        char *sql;
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
            return err_set(e, EV_ERR_IO, "cannot start migration: %s",
                           sqlite3_errmsg(db));
        /* Another process may have migrated while we waited for the lock. */
        rc = schema_version(db, &v, e);
        if (rc == 0 && v < NMIGRATIONS) {
            sql = sqlite3_mprintf("%s PRAGMA user_version=%d;", migrations[v],
                                  v + 1);
            if (!sql)
                rc = err_set(e, EV_ERR_NOMEM, "out of memory");
            else if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
                rc = err_set(e, EV_ERR_IO, "schema migration %d failed: %s",
                             v + 1, sqlite3_errmsg(db));
            sqlite3_free(sql);
        }
        if (rc != 0) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            rc = err_set(e, EV_ERR_IO, "cannot commit migration: %s",
                         sqlite3_errmsg(db));
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
        rc = schema_version(db, &v, e);
        if (rc != 0)
            return rc;
    }
    return 0;
}
