/*
 * schema: the vault's SQL schema and its ordered migrations. The schema
 * version is PRAGMA user_version; migration N takes version N-1 to N and runs
 * in its own transaction, so a vault made by any earlier evault opens in
 * every later one.
 */
#ifndef EV_SCHEMA_H
#define EV_SCHEMA_H

#include <sqlite3.h>

#include "err.h"

/* The version this build creates and understands. */
int schema_latest(void);

/* Current version of db. OUT: *version. Returns 0 or EV_ERR_*. */
int schema_version(sqlite3 *db, int *version, ev_err *e);

/*
 * Apply every migration above the current version. Refuses a vault whose
 * version is newer than this build knows. Returns 0 or EV_ERR_*.
 */
int schema_migrate(sqlite3 *db, ev_err *e);

#endif
