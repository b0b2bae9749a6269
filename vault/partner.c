/*
 * partner: the partner table (schema migration 4) and its rules; see
 * partner.h. Keys are stored in their standard text forms and parsed back
 * (strictly) on every read, so a damaged row fails loudly.
 */
#include "partner.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody.h"
#include "rec.h"

int partner_name_check(const char *name, ev_err *e)
{
    size_t n = name ? strlen(name) : 0;

    if (n == 0 || n > PARTNER_NAMEMAX)
        return err_set(e, EV_ERR_INVALID,
                       "a partner name has 1 to %d bytes", PARTNER_NAMEMAX);
    if (name[0] == '-')
        return err_set(e, EV_ERR_INVALID,
                       "a partner name cannot start with '-'");
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return err_set(e, EV_ERR_INVALID,
                           "a partner name cannot hold control characters");
    return 0;
}

int partner_parse_minisign(msig_pubkey *pub, const char *text, size_t len,
                           ev_err *e)
{
    /* a bare key line, with or without its line end */
    size_t n = len;
    while (n > 0 && (text[n - 1] == '\n'))
        n--;
    if (n == MSIG_PUBKEY_B64LEN && memchr(text, '\n', n) == NULL &&
        msig_pubkey_parse(pub, text, n) == 0)
        return 0;
    if (msig_pubkey_parse_file(pub, text, len) == 0)
        return 0;
    return err_set(e, EV_ERR_INVALID,
                   "not a minisign public key: give the key line (56 "
                   "characters, starting 'RW') or a .pub file made by "
                   "'minisign -G'");
}

static int sqlfail(vault *v, const char *what, ev_err *e)
{
    return vault_sqlerr(v, sqlite3_errcode(vault_db(v)), what, e);
}

int partner_add(vault *v, const char *name, const identity_card_info *info,
                int from_card, partner *out, ev_err *e)
{
    sqlite3 *db = vault_db(v);
    sqlite3_stmt *st = NULL;
    char key[MSIG_PUBKEY_B64LEN + 1], uuid[REC_UUIDLEN + 1];
    char now[REC_TIMELEN + 1], fpr[IDENTITY_FPRLEN + 1], detail[400];
    char recipient[BECH32_AGE_RECIPIENT_LEN + 1];
    identity_public self;
    int rc = partner_name_check(name, e), src;

    if (rc != 0)
        return rc;
    {
        static const uint8_t zero[32] = {0};
        if (!crypto_core_ed25519_is_valid_point(info->sign.pk))
            return err_set(e, EV_ERR_INVALID,
                           "that minisign public key is not a usable "
                           "Ed25519 key");
        uint8_t sk[32], shared[32];
        randombytes_buf(sk, sizeof sk);
        /* a low-order key gives no shared secret: age could never use it */
        int bad = sodium_memcmp(info->box_pk, zero, 32) == 0 ||
                  crypto_scalarmult(shared, sk, info->box_pk) != 0;
        sodium_memzero(sk, sizeof sk);
        sodium_memzero(shared, sizeof shared);
        if (bad)
            return err_set(e, EV_ERR_INVALID,
                           "that age recipient is not a usable X25519 key");
    }
    msig_pubkey_base64(key, &info->sign);
    bech32_age_recipient(recipient, info->box_pk);
    identity_fingerprint(fpr, info->sign.pk, info->box_pk);
    if ((rc = identity_get_public(v, &self, e)) != 0)
        return rc;
    if (strcmp(self.minisign_pubkey, key) == 0)
        return err_set(e, EV_ERR_INVALID,
                       "that is this vault's own key: a partner is someone "
                       "else");
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return sqlfail(v, "adding a partner", e);
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM partner WHERE name = ?1 OR "
                           "minisign_key = ?2",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sqlfail(v, "adding a partner", e);
        goto out;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    if ((src = sqlite3_step(st)) == SQLITE_ROW)
        rc = err_set(e, EV_ERR_EXISTS,
                     strcmp((const char *)sqlite3_column_text(st, 0), name)
                         ? "that key is already partner '%s'"
                         : "partner '%s' exists already: remove it first to "
                           "replace its keys",
                     (const char *)sqlite3_column_text(st, 0));
    else if (src != SQLITE_DONE)
        rc = sqlfail(v, "adding a partner", e);
    sqlite3_finalize(st);
    st = NULL;
    if (rc != 0)
        goto out;
    rec_uuid(uuid);
    rec_now(now);
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO partner(uuid, name, vault_id, "
                           "minisign_key, age_recipient, fingerprint, "
                           "origin, added) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                           "?7, ?8)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sqlfail(v, "adding a partner", e);
        goto out;
    }
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    if (from_card)
        sqlite3_bind_text(st, 3, info->vault_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, recipient, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, fpr, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, from_card ? "card" : "keys", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, now, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = sqlfail(v, "adding a partner", e);
        goto out;
    }
    snprintf(detail, sizeof detail, "partner added from %s: minisign key %s, "
                                    "fingerprint %s",
             from_card ? "a card" : "keys", key, fpr);
    rc = custody_append(v, "create", "partner", uuid, detail, e);
out:
    sqlite3_finalize(st);
    if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = sqlfail(v, "adding a partner", e);
    if (rc != 0)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    if (rc == 0 && out)
        rc = partner_get(v, name, out, e);
    return rc;
}

int partner_remove(vault *v, const char *name, ev_err *e)
{
    sqlite3 *db = vault_db(v);
    partner p;
    sqlite3_stmt *st = NULL;
    char detail[300];
    int rc;

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return sqlfail(v, "removing a partner", e);
    rc = partner_get(v, name, &p, e);
    if (rc == 0 && sqlite3_prepare_v2(db, "DELETE FROM partner WHERE name = "
                                          "?1",
                                      -1, &st, NULL) != SQLITE_OK)
        rc = sqlfail(v, "removing a partner", e);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = sqlfail(v, "removing a partner", e);
    }
    sqlite3_finalize(st);
    if (rc == 0) {
        snprintf(detail, sizeof detail, "partner removed: minisign key %s",
                 p.minisign_key);
        rc = custody_append(v, "remove", "partner", p.uuid, detail, e);
    }
    if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = sqlfail(v, "removing a partner", e);
    if (rc != 0)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static void copy_col(char *dst, size_t n, sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(dst, n, "%s", t ? (const char *)t : "");
}

int partner_get(vault *v, const char *name, partner *out, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, src;

    memset(out, 0, sizeof *out);
    if (sqlite3_prepare_v2(vault_db(v),
                           "SELECT uuid, name, vault_id, minisign_key, "
                           "age_recipient, fingerprint, origin, added FROM "
                           "partner WHERE name = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlfail(v, "reading partners", e);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        copy_col(out->uuid, sizeof out->uuid, st, 0);
        copy_col(out->name, sizeof out->name, st, 1);
        copy_col(out->vault_id, sizeof out->vault_id, st, 2);
        copy_col(out->minisign_key, sizeof out->minisign_key, st, 3);
        copy_col(out->age_recipient, sizeof out->age_recipient, st, 4);
        copy_col(out->fingerprint, sizeof out->fingerprint, st, 5);
        copy_col(out->origin, sizeof out->origin, st, 6);
        copy_col(out->added, sizeof out->added, st, 7);
        if (msig_pubkey_parse(&out->sign, out->minisign_key,
                              strlen(out->minisign_key)) != 0 ||
            bech32_age_parse_recipient(out->box_pk, out->age_recipient,
                                       strlen(out->age_recipient)) != 0)
            rc = err_set(e, EV_ERR_INTEGRITY,
                         "the keys of partner '%s' are damaged", name);
    } else if (src == SQLITE_DONE) {
        rc = err_set(e, EV_ERR_NOTFOUND,
                     "no partner '%s': see 'evault partner list'", name);
    } else {
        rc = vault_sqlerr(v, src, "reading partners", e);
    }
    sqlite3_finalize(st);
    return rc;
}

int partner_list(vault *v, char **json, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    *json = NULL;
    if (sqlite3_prepare_v2(vault_db(v),
                           "SELECT json_object('partners', (SELECT "
                           "json_group_array(json(o)) FROM (SELECT "
                           "json_object('name', name, 'uuid', uuid, "
                           "'vault_id', vault_id, 'minisign_public_key', "
                           "minisign_key, 'age_recipient', age_recipient, "
                           "'fingerprint', fingerprint, 'origin', origin, "
                           "'added', added) AS o FROM partner ORDER BY "
                           "name)))",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlfail(v, "reading partners", e);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *json = strdup((const char *)sqlite3_column_text(st, 0));
        if (!*json)
            rc = err_set(e, EV_ERR_NOMEM, "out of memory");
    } else {
        rc = sqlfail(v, "reading partners", e);
    }
    sqlite3_finalize(st);
    return rc;
}
