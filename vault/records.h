/*
 * records: case records in a vault: incidents, actors, sources, the links
 * between them (involvement with a role, citation), tags and incident
 * types. Schema: migration 2 in schema.c; JSON output: docs/records-schema.md.
 *
 * Writes validate everything first (types exist, enums, dates against their
 * precision, coordinate ranges, text is UTF-8 without control characters)
 * and run in one transaction (a savepoint when the caller already holds
 * one, as import does). Reads return one JSON document built by SQLite's
 * JSON functions, malloc'd: free it with free(). Every function returns 0
 * or a negative EV_ERR_* code with a message in e; nothing prints.
 */
#ifndef EV_RECORDS_H
#define EV_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "vault.h"

#define RECORDS_TITLEMAX 1000
#define RECORDS_TEXTMAX (1024 * 1024) /* descriptions */
#define RECORDS_FIELDMAX 4096         /* locations, urls, contacts */
#define RECORDS_TAGMAX 100

/*
 * Fields of an incident to add, or to change in an edit. NULL (or -1 for
 * ints, 0 for coords) means "not given": on add the default, on edit
 * unchanged. On edit an empty date or end_date clears it (with its
 * precision). precision NULL with a date: inferred from the date's form.
 */
typedef struct records_incident {
    const char *title, *type, *description, *location, *status;
    const char *date, *date_precision;
    const char *end_date, *end_date_precision;
    int coords; /* 1: set lat/lon; -1: clear them (edit); 0: not given */
    double lat, lon;
    int confidential; /* 0, 1, or -1 not given */
    const char *const *tags; /* tags to add */
    size_t ntags;
    const char *const *untags; /* tags to remove (edit only) */
    size_t nuntags;
    const char *uuid; /* add only: the sender's UUID (bundle import); NULL:
                         a new random one */
} records_incident;

typedef struct records_actor {
    const char *name, *kind, *category, *description, *contact;
    const char *const *other_names; /* replaces the list when set_other */
    size_t nother;
    int set_other;
    int confidential;
    const char *uuid; /* add only, as for records_incident */
} records_actor;

typedef struct records_source {
    const char *kind, *title, *description, *date, *date_precision;
    const char *reliability, *consent, *url; /* url "": none (edit) */
    int confidential;
    const char *uuid; /* add only, as for records_incident */
} records_source;

/* Incident list filters; NULL fields filter nothing. since/until are dates
 * (YYYY, YYYY-MM or YYYY-MM-DD) compared with the start date as periods:
 * an incident matches when its start period overlaps [since, until]. */
typedef struct records_filter {
    const char *type, *tag, *since, *until;
} records_filter;

/* Set every field of in/a/s to "not given". */
void records_incident_init(records_incident *in);
void records_actor_init(records_actor *a);
void records_source_init(records_source *s);

/* Parse a latitude (lat != 0) or longitude. OUT: *out. EV_ERR_INVALID. */
int records_parse_coord(const char *text, int lat, double *out, ev_err *e);

/* Resolve a reference (local number or UUID prefix) to a row id of table
 * "incident", "actor" or "source". OUT: *id. */
int records_resolve(vault *v, const char *table, const char *ref, int64_t *id,
                    ev_err *e);

/* Add a record. title and type (incident), name (actor), kind (source)
 * are required. OUT: *id, the new local number. */
int records_incident_add(vault *v, const records_incident *in, int64_t *id,
                         ev_err *e);
int records_actor_add(vault *v, const records_actor *a, int64_t *id,
                      ev_err *e);
int records_source_add(vault *v, const records_source *s, int64_t *id,
                       ev_err *e);

/* Change the given fields of record id; the rest stays. */
int records_incident_edit(vault *v, int64_t id, const records_incident *in,
                          ev_err *e);
/*
 * Amend sealed incident id: a new incident that supersedes it, starting as
 * a copy (fields, tags, actors, sources, evidence) with the changes in in
 * applied; the sealed one stays as it was. EV_ERR_REFUSED when id is not
 * sealed or was already amended. Logged. OUT: *new_id.
 */
int records_incident_amend(vault *v, int64_t id, const records_incident *in,
                           int64_t *new_id, ev_err *e);
int records_actor_edit(vault *v, int64_t id, const records_actor *a,
                       ev_err *e);
int records_source_edit(vault *v, int64_t id, const records_source *s,
                        ev_err *e);

/* One record as JSON (an incident with its actors, sources and evidence).
 * OUT: *json. */
int records_incident_get(vault *v, int64_t id, char **json, ev_err *e);
int records_actor_get(vault *v, int64_t id, char **json, ev_err *e);
int records_source_get(vault *v, int64_t id, char **json, ev_err *e);

/* Lists as JSON: {"incidents": [...]}, {"actors": [...]}, {"sources":
 * [...]}, {"types": [...]}. f may be NULL. OUT: *json. */
int records_incident_list(vault *v, const records_filter *f, char **json,
                          ev_err *e);
int records_actor_list(vault *v, char **json, ev_err *e);
int records_source_list(vault *v, char **json, ev_err *e);
int records_type_list(vault *v, char **json, ev_err *e);

/* Add an incident type: name [a-z0-9-]{1,64}; EV_ERR_EXISTS if it is. */
int records_type_add(vault *v, const char *name, const char *description,
                     ev_err *e);

/* Link actor to incident in role (victim, perpetrator, witness, source,
 * other); degree (carried-out, ordered, suspected) only for perpetrator,
 * may be NULL. Linking again in the same role sets the degree. */
int records_link(vault *v, int64_t incident, int64_t actor, const char *role,
                 const char *degree, ev_err *e);

/* Remove actor from incident in role, or in every role when role is NULL.
 * EV_ERR_NOTFOUND if there was no such link. */
int records_unlink(vault *v, int64_t incident, int64_t actor,
                   const char *role, ev_err *e);

/* Cite source for incident (again: no change); uncite removes it. */
int records_cite(vault *v, int64_t incident, int64_t source, ev_err *e);
int records_uncite(vault *v, int64_t incident, int64_t source, ev_err *e);

/* The actor named exactly name (the oldest if several), or a new one of
 * kind ("person" when NULL). OUT: *id, *created (may be NULL). */
int records_actor_by_name(vault *v, const char *name, const char *kind,
                          int64_t *id, int *created, ev_err *e);

/* Transactions as records uses them: BEGIN IMMEDIATE when none is open
 * (OUT: *own = 1), else a savepoint (*own = 0). records_tx_end commits or
 * releases when ok, else rolls back; pass it the *own of its begin. */
int records_tx_begin(vault *v, int *own, ev_err *e);
int records_tx_end(vault *v, int own, int ok, ev_err *e);

#endif
