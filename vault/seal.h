/*
 * seal: sealed incidents. A seal freezes an incident with everything linked
 * to it: its canonical record (deterministic JSON, docs/FORMAT.md "Sealed
 * record") holds the incident, its involvements, actors, sources and the
 * SHA-256 of every evidence file; the seal stores that text, its SHA-256
 * and a minisign signature of it by the vault identity. Triggers (schema
 * migration 3) then refuse any change to the incident and what it covers;
 * a change is made by amending, which creates a new version.
 */
#ifndef EV_SEAL_H
#define EV_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "report.h"
#include "vault.h"

/*
 * Seal incident id. EV_ERR_EXISTS when it is already sealed. Logged.
 * OUT: seal_uuid (37 bytes, may be NULL).
 */
int seal_incident(vault *v, int64_t id, char *seal_uuid, ev_err *e);

/* Is incident id sealed? OUT: *sealed. */
int seal_is_sealed(vault *v, int64_t id, int *sealed, ev_err *e);

/*
 * The canonical record of incident id as it is now, under the seal fields
 * given (seal uuid, sealed_at, signer key id, vault id). OUT: *out
 * (malloc'd, not NUL-terminated), *len.
 */
int seal_canonical(vault *v, int64_t id, const char *seal_uuid,
                   const char *sealed_at, const char *signer,
                   const char *vault_id, char **out, size_t *len, ev_err *e);

/* A stored seal, for export. */
typedef struct seal_info {
    char uuid[37];
    char incident_uuid[37];
    char sealed_at[32];
    char *record; /* malloc'd canonical record */
    size_t record_len;
    char *signature; /* malloc'd minisign signature file text */
    uint8_t sha256[32];
} seal_info;

/* Read the seal of incident id. EV_ERR_NOTFOUND if not sealed. */
int seal_get(vault *v, int64_t id, seal_info *out, ev_err *e);
void seal_info_clear(seal_info *s);

/*
 * Check every seal: its stored hash is the SHA-256 of its record, its
 * signature verifies under the vault identity, and the record recomputed
 * from the database now is byte for byte the sealed one. Each failure is
 * added to r. OUT: *seals, *bad.
 */
int seal_verify_all(vault *v, report *r, uint64_t *seals, uint64_t *bad,
                    ev_err *e);

#endif
