/*
 * custody: the chain-of-custody log. Every action that creates, changes,
 * attaches, extracts, seals, exports, imports or removes something appends
 * one entry, in the same transaction as the change it records.
 *
 * An entry's canonical text (docs/FORMAT.md, "Custody log") is a JSON
 * object with the keys seq, at, action, object_type, object, detail, prev
 * in that order, as SQLite's json_object writes it; hash = SHA-256 of that
 * text; signature = Ed25519 by the vault identity over
 * "evault-custody-v1\n" || hash. prev is the previous entry's hash (32 zero
 * bytes for entry 1), so the entries form a chain. Triggers refuse UPDATE,
 * DELETE and out-of-order INSERT on the table.
 */
#ifndef EV_CUSTODY_H
#define EV_CUSTODY_H

#include <stdint.h>

#include "err.h"
#include "report.h"
#include "vault.h"

#define CUSTODY_DETAILMAX 1000

/*
 * Append an entry. Must run inside a write transaction (the caller's), so
 * that the entry commits or rolls back with the change it records. object
 * is a record's UUID (or the vault id for the vault itself); detail is a
 * short text with no secrets and no evidence content (truncated to
 * CUSTODY_DETAILMAX bytes at a character boundary).
 */
int custody_append(vault *v, const char *action, const char *object_type,
                   const char *object, const char *detail, ev_err *e);

/*
 * Append an entry in a transaction of its own (or the caller's, when one
 * is open): for actions that change nothing else, such as an extract.
 */
int custody_record(vault *v, const char *action, const char *object_type,
                   const char *object, const char *detail, ev_err *e);

/*
 * The log as {"entries": [...]}, oldest first. object: only entries whose
 * object starts with this text (NULL: all); since: only entries at or
 * after this UTC time or date (NULL: all). OUT: *json (malloc'd).
 */
int custody_list(vault *v, const char *object, const char *since,
                 char **json, ev_err *e);

/*
 * Check the whole chain: sequence numbers 1..n without gaps, each entry's
 * hash over its canonical text, each prev link, each signature by the
 * vault identity. Each failure is added to r naming the entry. OUT:
 * *entries (entries checked), *bad (entries failing).
 */
int custody_verify(vault *v, report *r, uint64_t *entries, uint64_t *bad,
                   ev_err *e);

#endif
