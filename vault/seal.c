/*
 * seal: sealing, reading and checking sealed incidents (see seal.h).
 *
 * The canonical record is built by one SQL statement from SQLite's JSON
 * functions: keys are written in byte order at every level, arrays are
 * sorted (actors, sources and evidence by UUID, involvements by actor UUID
 * then role, tags by text), no white space; strings are as json_object
 * escapes them (", \ and control characters; other UTF-8 as is). Each
 * array is aggregated from an ORDER BY subquery that SQLite does not
 * flatten into an aggregate, so its order is the sorted one.
 */
#include "seal.h"

#include <nettle/sha2.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody.h"
#include "identity.h"
#include "rec.h"

#define SEAL_FORMAT "evault-sealed-record-1"
#define JB(x) "json(CASE WHEN " x " THEN 'true' ELSE 'false' END)"
#define ARR(obj, from)                                                        \
    "json((SELECT json_group_array(json(o)) FROM (SELECT " obj " AS o " from \
    ")))"

static const char canon_sql[] =
    "SELECT json_object("
    "'actors', " ARR("json_object('category', a.category, 'confidential', "
                     JB("a.confidential") ", 'description', a.description, "
                     "'kind', a.kind, 'name', a.name, 'other_names', "
                     "json(a.other_names), 'uuid', a.uuid)",
                     "FROM actor a WHERE a.id IN (SELECT actor_id FROM "
                     "involvement WHERE incident_id = ?1) ORDER BY a.uuid") ","
    "'evidence', " ARR("json_object('acquired_at', ev.acquired_at, "
                       "'acquired_by', ev.acquired_by, 'description', "
                       "ev.description, 'media_type', ev.media_type, "
                       "'method', ev.method, 'original_name', "
                       "ev.original_name, 'sha256', lower(hex(ev.sha256)), "
                       "'size', ev.size, 'url', ev.url, 'uuid', ev.uuid)",
                       "FROM evidence ev JOIN evidence_link l ON "
                       "l.evidence_id = ev.id WHERE l.incident_id = ?1 "
                       "ORDER BY ev.uuid") ","
    "'format', '" SEAL_FORMAT "',"
    "'incident', json((SELECT json_object('confidential', "
    JB("i.confidential") ", 'created', i.created, 'date', i.start_date, "
    "'date_precision', i.start_precision, 'description', i.description, "
    "'end_date', i.end_date, 'end_date_precision', i.end_precision, "
    "'latitude', i.latitude, 'location', i.location, 'longitude', "
    "i.longitude, 'status', i.status, 'supersedes', (SELECT p.uuid FROM "
    "incident p WHERE p.id = i.supersedes), 'tags', "
    ARR("json_quote(t.tag)", "FROM incident_tag t WHERE t.incident_id = i.id ORDER BY "
                 "t.tag") ", "
    "'title', i.title, 'type', i.type, 'updated', i.updated, 'uuid', "
    "i.uuid) FROM incident i WHERE i.id = ?1)),"
    "'involvements', " ARR("json_object('actor', a.uuid, 'degree', "
                           "inv.degree, 'role', inv.role)",
                           "FROM involvement inv JOIN actor a ON a.id = "
                           "inv.actor_id WHERE inv.incident_id = ?1 ORDER "
                           "BY a.uuid, inv.role") ","
    "'seal', json_object('sealed_at', ?3, 'signer', ?4, 'uuid', ?2, "
    "'vault_id', ?5),"
    "'sources', " ARR("json_object('confidential', " JB("s.confidential")
                      ", 'consent', s.consent, 'date', s.date, "
                      "'date_precision', s.date_precision, 'description', "
                      "s.description, 'kind', s.kind, 'reliability', "
                      "s.reliability, 'title', s.title, 'url', s.url, "
                      "'uuid', s.uuid)",
                      "FROM source s WHERE s.id IN (SELECT source_id FROM "
                      "citation WHERE incident_id = ?1) ORDER BY s.uuid") ")"
    " WHERE EXISTS (SELECT 1 FROM incident WHERE id = ?1)";

static int sqlfail(vault *v, const char *what, ev_err *e)
{
    return vault_sqlerr(v, sqlite3_errcode(vault_db(v)), what, e);
}

int seal_canonical(vault *v, int64_t id, const char *seal_uuid,
                   const char *sealed_at, const char *signer,
                   const char *vault_id, char **out, size_t *len, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, src;

    *out = NULL;
    *len = 0;
    if (sqlite3_prepare_v2(vault_db(v), canon_sql, -1, &st, NULL) !=
        SQLITE_OK)
        return sqlfail(v, "serialising an incident", e);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, seal_uuid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, sealed_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, signer, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, vault_id, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        *len = (size_t)sqlite3_column_bytes(st, 0);
        *out = malloc(*len + 1);
        if (!*out)
            rc = err_set(e, EV_ERR_NOMEM, "out of memory");
        else
            memcpy(*out, sqlite3_column_text(st, 0), *len + 1);
    } else if (src == SQLITE_DONE) {
        rc = err_set(e, EV_ERR_NOTFOUND, "no incident %lld", (long long)id);
    } else {
        rc = sqlfail(v, "serialising an incident", e);
    }
    sqlite3_finalize(st);
    return rc;
}

int seal_is_sealed(vault *v, int64_t id, int *sealed, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int src;

    *sealed = 0;
    if (sqlite3_prepare_v2(vault_db(v),
                           "SELECT 1 FROM seal WHERE incident_id = ?1", -1,
                           &st, NULL) != SQLITE_OK)
        return sqlfail(v, "reading seals", e);
    sqlite3_bind_int64(st, 1, id);
    src = sqlite3_step(st);
    *sealed = src == SQLITE_ROW;
    sqlite3_finalize(st);
    return src == SQLITE_ROW || src == SQLITE_DONE
               ? 0
               : vault_sqlerr(v, src, "reading seals", e);
}

static void sha256_of(uint8_t *out, const char *m, size_t len)
{
    struct sha256_ctx h;
    sha256_init(&h);
    sha256_update(&h, len, (const uint8_t *)m);
    sha256_digest(&h, 32, out);
}

int seal_incident(vault *v, int64_t id, char *seal_uuid, ev_err *e)
{
    identity *ident = vault_identity(v);
    identity_public pub;
    sqlite3_stmt *st = NULL;
    char uuid[REC_UUIDLEN + 1], inc_uuid[REC_UUIDLEN + 1], at[REC_TIMELEN + 1];
    char trusted[300], detail[200], hex[65];
    char *rec = NULL, sig[MSIG_SIGFILE_MAX];
    uint8_t hash[32];
    size_t len = 0;
    int rc, sealed = 0;

    if (sqlite3_exec(vault_db(v), "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
        SQLITE_OK)
        return sqlfail(v, "sealing an incident", e);
    rc = rec_uuid_of(vault_db(v), "incident", id, inc_uuid, e);
    if (rc == 0)
        rc = seal_is_sealed(v, id, &sealed, e);
    if (rc == 0 && sealed)
        rc = err_set(e, EV_ERR_EXISTS, "incident %lld is already sealed",
                     (long long)id);
    if (rc == 0)
        rc = identity_get_public(v, &pub, e);
    if (rc == 0) {
        rec_uuid(uuid);
        rec_now(at);
        rc = seal_canonical(v, id, uuid, at, pub.key_id, pub.vault_id, &rec,
                            &len, e);
    }
    if (rc == 0) {
        sha256_of(hash, rec, len);
        snprintf(trusted, sizeof trusted,
                 "evault seal %s incident %s sealed_at %s vault %s", uuid,
                 inc_uuid, at, pub.vault_id);
        if (msig_sign(sig, sizeof sig, ident->sign, (const uint8_t *)rec,
                      len, "signature from evault vault identity", trusted) !=
            0)
            rc = err_set(e, EV_ERR_INTERNAL, "cannot sign the seal");
    }
    if (rc == 0 &&
        sqlite3_prepare_v2(vault_db(v),
                           "INSERT INTO seal(uuid, incident_id, sealed_at, "
                           "record, sha256, signature) VALUES (?1, ?2, ?3, "
                           "?4, ?5, ?6)",
                           -1, &st, NULL) != SQLITE_OK)
        rc = sqlfail(v, "sealing an incident", e);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, id);
        sqlite3_bind_text(st, 3, at, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 4, rec, (int)len, SQLITE_STATIC);
        sqlite3_bind_blob(st, 5, hash, 32, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, sig, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = sqlfail(v, "sealing an incident", e);
    }
    sqlite3_finalize(st);
    if (rc == 0) {
        sodium_bin2hex(hex, sizeof hex, hash, 32);
        snprintf(detail, sizeof detail, "seal %s sha256 %s", uuid, hex);
        rc = custody_append(v, "seal", "incident", inc_uuid, detail, e);
    }
    if (rc == 0 &&
        sqlite3_exec(vault_db(v), "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = sqlfail(v, "sealing an incident", e);
    if (rc != 0)
        sqlite3_exec(vault_db(v), "ROLLBACK", NULL, NULL, NULL);
    else if (seal_uuid)
        memcpy(seal_uuid, uuid, sizeof uuid);
    free(rec);
    return rc;
}

void seal_info_clear(seal_info *s)
{
    free(s->record);
    free(s->signature);
    memset(s, 0, sizeof *s);
}

int seal_get(vault *v, int64_t id, seal_info *out, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, src;

    memset(out, 0, sizeof *out);
    if (sqlite3_prepare_v2(vault_db(v),
                           "SELECT s.uuid, i.uuid, s.sealed_at, s.record, "
                           "s.sha256, s.signature FROM seal s JOIN incident "
                           "i ON i.id = s.incident_id WHERE s.incident_id = "
                           "?1",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlfail(v, "reading a seal", e);
    sqlite3_bind_int64(st, 1, id);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW && sqlite3_column_bytes(st, 4) == 32) {
        snprintf(out->uuid, sizeof out->uuid, "%s", sqlite3_column_text(st, 0));
        snprintf(out->incident_uuid, sizeof out->incident_uuid, "%s",
                 sqlite3_column_text(st, 1));
        snprintf(out->sealed_at, sizeof out->sealed_at, "%s",
                 sqlite3_column_text(st, 2));
        out->record_len = (size_t)sqlite3_column_bytes(st, 3);
        out->record = malloc(out->record_len + 1);
        out->signature = strdup((const char *)sqlite3_column_text(st, 5));
        memcpy(out->sha256, sqlite3_column_blob(st, 4), 32);
        if (!out->record || !out->signature)
            rc = err_set(e, EV_ERR_NOMEM, "out of memory");
        else {
            memcpy(out->record, sqlite3_column_blob(st, 3), out->record_len);
            out->record[out->record_len] = '\0';
        }
    } else if (src == SQLITE_ROW || src == SQLITE_DONE) {
        rc = src == SQLITE_DONE
                 ? err_set(e, EV_ERR_NOTFOUND,
                           "incident %lld is not sealed: see 'evault seal'",
                           (long long)id)
                 : err_set(e, EV_ERR_INTEGRITY, "the seal of incident %lld "
                                                "is damaged",
                           (long long)id);
    } else {
        rc = vault_sqlerr(v, src, "reading a seal", e);
    }
    sqlite3_finalize(st);
    if (rc != 0)
        seal_info_clear(out);
    return rc;
}

/* Check one seal row; add findings to r. OUT: *ok. */
static int verify_one(vault *v, sqlite3_stmt *st, const identity_public *pub,
                      report *r, int *ok, ev_err *e)
{
    identity *ident = vault_identity(v);
    const char *uuid = (const char *)sqlite3_column_text(st, 0);
    const char *inc = (const char *)sqlite3_column_text(st, 6);
    const char *rec = sqlite3_column_blob(st, 3);
    const char *sigtext = (const char *)sqlite3_column_text(st, 5);
    size_t len = (size_t)sqlite3_column_bytes(st, 3);
    int64_t id = sqlite3_column_int64(st, 1);
    uint8_t hash[32];
    msig_sig sig;
    char *now = NULL, signer[17] = "";
    size_t nowlen = 0;
    int rc;

    *ok = 1;
    if (!uuid)
        uuid = "";
    if (!inc)
        inc = "?";
    if (!sigtext)
        sigtext = "";
    sha256_of(hash, rec ? rec : "", len);
    if (sqlite3_column_bytes(st, 4) != 32 ||
        sodium_memcmp(hash, sqlite3_column_blob(st, 4), 32) != 0) {
        report_add(r, "seal %s of incident %lld (%s): its record does not "
                      "match its SHA-256",
                   uuid, (long long)id, inc);
        *ok = 0;
    }
    if (msig_sig_parse(&sig, sigtext, strlen(sigtext)) != 0 ||
        msig_verify(NULL, 0, &ident->sign->pub, &sig,
                    (const uint8_t *)(rec ? rec : ""), len) != 0) {
        report_add(r, "seal %s of incident %lld (%s): bad signature", uuid,
                   (long long)id, inc);
        *ok = 0;
    }
    /* the signer recorded in the record is the one whose key we hold */
    snprintf(signer, sizeof signer, "%s", pub->key_id);
    rc = seal_canonical(v, id, uuid, (const char *)sqlite3_column_text(st, 2),
                        signer, pub->vault_id, &now, &nowlen, e);
    if (rc == EV_ERR_NOTFOUND) {
        report_add(r, "seal %s: its incident %lld is gone", uuid,
                   (long long)id);
        *ok = 0;
        rc = 0;
    } else if (rc == 0 && (nowlen != len || memcmp(now, rec, len) != 0)) {
        report_add(r, "incident %lld (%s) changed since it was sealed (seal "
                      "%s)",
                   (long long)id, inc, uuid);
        *ok = 0;
    }
    free(now);
    return rc;
}

int seal_verify_all(vault *v, report *r, uint64_t *seals, uint64_t *bad,
                    ev_err *e)
{
    identity_public pub;
    sqlite3_stmt *st = NULL;
    report failed = {0}; /* uuids of the seals found bad */
    int rc, src = SQLITE_DONE;

    *seals = *bad = 0;
    rc = identity_get_public(v, &pub, e);
    if (rc != 0)
        return rc;
    if (sqlite3_prepare_v2(vault_db(v),
                           "SELECT s.uuid, s.incident_id, s.sealed_at, "
                           "s.record, s.sha256, s.signature, i.uuid FROM "
                           "seal s LEFT JOIN incident i ON i.id = "
                           "s.incident_id ORDER BY s.id",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlfail(v, "reading seals", e);
    while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
        int ok = 1;
        (*seals)++;
        rc = verify_one(v, st, &pub, r, &ok, e);
        *bad += !ok;
        if (!ok)
            report_add(&failed, "%s", sqlite3_column_text(st, 0));
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = vault_sqlerr(v, src, "reading seals", e);
    sqlite3_finalize(st);
    st = NULL;
    /* every seal the custody log recorded must still be there, with the
     * hash it was logged with: a removed seal would free its incident */
    if (rc == 0 &&
        sqlite3_prepare_v2(vault_db(v),
                           "SELECT c.seq, c.object, substr(c.detail, 6, 36) "
                           "FROM custody c WHERE c.action = 'seal' AND "
                           "c.object_type = 'incident' AND NOT EXISTS "
                           "(SELECT 1 FROM seal s JOIN incident i ON i.id = "
                           "s.incident_id WHERE s.uuid = substr(c.detail, 6, "
                           "36) AND i.uuid = c.object AND lower(hex("
                           "s.sha256)) = substr(c.detail, 50, 64)) ORDER BY "
                           "c.seq",
                           -1, &st, NULL) != SQLITE_OK)
        rc = sqlfail(v, "reading seals", e);
    while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *su = (const char *)sqlite3_column_text(st, 2);
        int counted = 0;
        report_add(r, "seal %s of incident %s, recorded in custody entry "
                      "%lld, is missing or was replaced",
                   su, (const char *)sqlite3_column_text(st, 1),
                   (long long)sqlite3_column_int64(st, 0));
        /* a seal already found bad above is one failed seal, not two */
        for (size_t i = 0; su && i < failed.n; i++)
            counted |= strcmp(failed.items[i], su) == 0;
        *bad += !counted;
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = vault_sqlerr(v, src, "reading seals", e);
    sqlite3_finalize(st);
    report_clear(&failed);
    return rc;
}
