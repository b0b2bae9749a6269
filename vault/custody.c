/*
 * custody: the signed, hash-chained custody log (see custody.h).
 *
 * The canonical text of an entry is made by SQLite's json_object from the
 * stored columns, both when appending and when verifying, so the two can
 * never disagree on escaping or number formatting.
 */
#include "custody.h"

#include <nettle/sha2.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "rec.h"

#define SIG_DOMAIN "evault-custody-v1\n"
#define CANON_SQL                                                             \
    "json_object('seq', ?1, 'at', ?2, 'action', ?3, 'object_type', ?4, "    \
    "'object', ?5, 'detail', ?6, 'prev', lower(hex(?7)))"

static int prep(vault *v, const char *sql, sqlite3_stmt **st, ev_err *e)
{
    int rc = sqlite3_prepare_v2(vault_db(v), sql, -1, st, NULL);
    return rc == SQLITE_OK ? 0 : vault_sqlerr(v, rc, "reading the custody log", e);
}

/* The canonical text of an entry, hashed. OUT: hash (32 bytes). */
static int entry_hash(vault *v, sqlite3_int64 seq, const char *at,
                      const char *action, const char *type,
                      const char *object, const char *detail,
                      const uint8_t *prev, uint8_t *hash, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    struct sha256_ctx h;
    int rc = prep(v, "SELECT " CANON_SQL, &st, e);

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, object, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, detail, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 7, prev, 32, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        sha256_init(&h);
        sha256_update(&h, (size_t)sqlite3_column_bytes(st, 0),
                      sqlite3_column_text(st, 0));
        sha256_digest(&h, 32, hash);
    } else {
        rc = vault_sqlerr(v, sqlite3_errcode(vault_db(v)),
                          "writing a custody entry", e);
    }
    sqlite3_finalize(st);
    return rc;
}

static void sig_message(uint8_t *m, const uint8_t *hash)
{
    memcpy(m, SIG_DOMAIN, sizeof SIG_DOMAIN - 1);
    memcpy(m + sizeof SIG_DOMAIN - 1, hash, 32);
}

/* Length of the longest prefix of s of at most max bytes that does not end
 * inside a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return max;
}

int custody_append(vault *v, const char *action, const char *object_type,
                   const char *object, const char *detail, ev_err *e)
{
    identity *id = vault_identity(v);
    sqlite3_stmt *st = NULL;
    uint8_t prev[32] = {0}, hash[32], sig[64];
    uint8_t msg[sizeof SIG_DOMAIN - 1 + 32];
    char at[REC_TIMELEN + 1];
    char *d = NULL;
    sqlite3_int64 seq = 1;
    int rc;

    if (!id || sqlite3_get_autocommit(vault_db(v)))
        return err_set(e, EV_ERR_INTERNAL,
                       "custody entry outside a transaction or before the "
                       "identity is loaded");
    d = strndup(detail ? detail : "", utf8_cut(detail ? detail : "",
                                               CUSTODY_DETAILMAX));
    if (!d)
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    rc = prep(v, "SELECT seq, hash FROM custody ORDER BY seq DESC LIMIT 1",
              &st, e);
    if (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        seq = sqlite3_column_int64(st, 0) + 1;
        if (sqlite3_column_bytes(st, 1) == 32)
            memcpy(prev, sqlite3_column_blob(st, 1), 32);
    }
    sqlite3_finalize(st);
    st = NULL;
    rec_now(at);
    if (rc == 0)
        rc = entry_hash(v, seq, at, action, object_type, object, d, prev,
                        hash, e);
    if (rc == 0) {
        sig_message(msg, hash);
        crypto_sign_detached(sig, NULL, msg, sizeof msg, id->sign->sk);
        rc = prep(v, "INSERT INTO custody(seq, at, action, object_type, "
                     "object, detail, prev_hash, hash, signature) VALUES "
                     "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                  &st, e);
    }
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, seq);
        sqlite3_bind_text(st, 2, at, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, object_type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, object, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, d, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 7, prev, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 8, hash, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 9, sig, 64, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = vault_sqlerr(v, sqlite3_errcode(vault_db(v)),
                              "writing a custody entry", e);
    }
    sqlite3_finalize(st);
    free(d);
    return rc;
}

int custody_record(vault *v, const char *action, const char *object_type,
                   const char *object, const char *detail, ev_err *e)
{
    sqlite3 *db = vault_db(v);
    int own = sqlite3_get_autocommit(db) != 0, rc;

    if (own && sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
                   SQLITE_OK)
        return vault_sqlerr(v, sqlite3_errcode(db), "writing the custody log",
                            e);
    rc = custody_append(v, action, object_type, object, detail, e);
    if (own && rc == 0 &&
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = vault_sqlerr(v, sqlite3_errcode(db), "writing the custody log",
                          e);
    if (own && rc != 0)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int custody_list(vault *v, const char *object, const char *since,
                 char **json, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc;

    *json = NULL;
    if (since && (rc = rec_time_check("--since", since, e)) != 0)
        return rc;
    rc = prep(v,
              "SELECT json_object('entries', (SELECT json_group_array("
              "json(o)) FROM (SELECT json_object('seq', seq, 'at', at, "
              "'action', action, 'object_type', object_type, 'object', "
              "object, 'detail', detail, 'prev', lower(hex(prev_hash)), "
              "'hash', lower(hex(hash)), 'signature', lower(hex(signature))) "
              "AS o FROM custody WHERE (?1 IS NULL OR substr(object, 1, "
              "length(?1)) = ?1) AND (?2 IS NULL OR at >= ?2) ORDER BY seq)))",
              &st, e);
    if (rc != 0)
        return rc;
    if (object)
        sqlite3_bind_text(st, 1, object, -1, SQLITE_STATIC);
    if (since)
        sqlite3_bind_text(st, 2, since, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *json = strdup((const char *)sqlite3_column_text(st, 0));
        if (!*json)
            rc = err_set(e, EV_ERR_NOMEM, "out of memory");
    } else {
        rc = vault_sqlerr(v, sqlite3_errcode(vault_db(v)),
                          "reading the custody log", e);
    }
    sqlite3_finalize(st);
    return rc;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

int custody_verify(vault *v, report *r, uint64_t *entries, uint64_t *bad,
                   ev_err *e)
{
    identity *id = vault_identity(v);
    sqlite3_stmt *st = NULL;
    uint8_t prev[32] = {0}, hash[32];
    uint8_t msg[sizeof SIG_DOMAIN - 1 + 32];
    sqlite3_int64 expect = 1;
    int rc, src;

    *entries = *bad = 0;
    if (!id)
        return err_set(e, EV_ERR_INTERNAL, "no identity loaded");
    rc = prep(v, "SELECT seq, at, action, object_type, object, detail, "
                 "prev_hash, hash, signature FROM custody ORDER BY seq",
              &st, e);
    while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 seq = sqlite3_column_int64(st, 0);
        const void *ph = sqlite3_column_blob(st, 6);
        const void *h = sqlite3_column_blob(st, 7);
        const void *sig = sqlite3_column_blob(st, 8);
        int ok = 1;

        (*entries)++;
        if (seq != expect) {
            report_add(r, "custody log: entry %lld follows entry %lld: "
                          "entries are missing", (long long)seq,
                       (long long)expect - 1);
            ok = 0;
        }
        expect = seq + 1;
        if (sqlite3_column_bytes(st, 6) != 32 ||
            sodium_memcmp(ph, prev, 32) != 0) {
            report_add(r, "custody log: entry %lld does not chain to the "
                          "entry before it", (long long)seq);
            ok = 0;
        }
        rc = entry_hash(v, seq, col_text(st, 1), col_text(st, 2),
                        col_text(st, 3), col_text(st, 4), col_text(st, 5),
                        ph && sqlite3_column_bytes(st, 6) == 32 ? ph : prev,
                        hash, e);
        if (rc != 0)
            break;
        if (sqlite3_column_bytes(st, 7) != 32 ||
            sodium_memcmp(h, hash, 32) != 0) {
            report_add(r, "custody log: entry %lld (%s %s %s) was changed: "
                          "its hash does not match its content",
                       (long long)seq, col_text(st, 2), col_text(st, 3),
                       col_text(st, 4));
            ok = 0;
        }
        sig_message(msg, hash);
        if (sqlite3_column_bytes(st, 8) != 64 ||
            crypto_sign_verify_detached(sig, msg, sizeof msg,
                                        id->sign->pub.pk) != 0) {
            report_add(r, "custody log: entry %lld has a bad signature",
                       (long long)seq);
            ok = 0;
        }
        /* the next entry must chain to what this one claims to be */
        if (sqlite3_column_bytes(st, 7) == 32)
            memcpy(prev, h, 32);
        else
            memcpy(prev, hash, 32);
        *bad += !ok;
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = vault_sqlerr(v, src, "reading the custody log", e);
    sqlite3_finalize(st);
    return rc;
}
