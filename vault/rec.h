/*
 * rec: what every kind of record shares: random UUIDs, local numbers and
 * UUID prefixes as references, UTC timestamps, and dates with a precision
 * (HURIDOCS: exact, estimate, unknown-day, unknown-month-and-day).
 */
#ifndef EV_REC_H
#define EV_REC_H

#include <sqlite3.h>
#include <stdint.h>

#include "err.h"

#define REC_UUIDLEN 36
#define REC_TIMELEN 20 /* "YYYY-MM-DDTHH:MM:SSZ" */

/* A new random (version 4) UUID in lowercase text. OUT: out (37 bytes). */
void rec_uuid(char *out);

/* The current UTC time. OUT: out (REC_TIMELEN + 1 bytes). */
void rec_now(char *out);

/*
 * Check a date against its precision: "exact" and "estimate" take
 * YYYY-MM-DD, "unknown-day" YYYY-MM, "unknown-month-and-day" YYYY; the date
 * must exist (no 2023-02-30). precision NULL: infer it from the date's form
 * (YYYY-MM-DD exact, YYYY-MM unknown-day, YYYY unknown-month-and-day).
 * OUT: *precision_out (a static string). Returns 0 or EV_ERR_INVALID with a
 * message naming what (e.g. "--date").
 */
int rec_date_check(const char *what, const char *date, const char *precision,
                   const char **precision_out, ev_err *e);

/* Check a UTC time "YYYY-MM-DDTHH:MM:SSZ" (or a date, read as midnight). */
int rec_time_check(const char *what, const char *t, ev_err *e);

/*
 * Resolve a reference to a row of table ("incident", "actor", "source",
 * "evidence"): a local number (digits, no leading zero, up to 9 of them) or
 * a unique prefix of at least 4 characters of the UUID (case-insensitive).
 * OUT: *id. EV_ERR_NOTFOUND, or EV_ERR_INVALID for an ambiguous prefix
 * (the message says how many match).
 */
int rec_resolve(sqlite3 *db, const char *table, const char *ref, int64_t *id,
                ev_err *e);

/* The UUID of row id of table. OUT: out (37 bytes). */
int rec_uuid_of(sqlite3 *db, const char *table, int64_t id, char *out,
                ev_err *e);

#endif
