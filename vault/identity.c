/*
 * identity: the vault's signing and age keys (see identity.h), and partner
 * cards.
 *
 * A partner card is LF-terminated text, in this order:
 *   evault-partner-card-v1
 *   name: <organisation name>
 *   vault-id: <32 hex digits>
 *   minisign-public-key: <minisign public key line>
 *   age-recipient: <age1...>
 *   fingerprint: <8 groups of 5 digits>
 *   created: <UTC time>
 *   signature: <base64 Ed25519 signature of every byte above this line>
 */
#include "identity.h"

#include <nettle/sha2.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody.h"
#include "rec.h"

#define CARD_MAGIC "evault-partner-card-v1\n"
#define FPR_DOMAIN "evault-identity-v1"

void identity_free(identity *id)
{
    if (!id)
        return;
    msig_keypair_free(id->sign);
    sodium_free(id->box_sk);
    free(id);
}

static identity *identity_new(void)
{
    identity *id = calloc(1, sizeof *id);
    if (!id)
        return NULL;
    id->box_sk = sodium_malloc(32);
    if (!id->box_sk) {
        free(id);
        return NULL;
    }
    return id;
}

/* Load the identity row. *found 0 when there is none. OUT: *out. */
static int load(vault *v, identity **out, int *found, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    identity *id = NULL;
    int rc = 0, src;

    *out = NULL;
    *found = 0;
    src = sqlite3_prepare_v2(vault_db(v),
                             "SELECT key_id, sign_sk, box_sk, box_pk, created "
                             "FROM identity WHERE id = 1",
                             -1, &st, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_step(st);
    if (src == SQLITE_DONE)
        goto out;
    if (src != SQLITE_ROW) {
        rc = vault_sqlerr(v, src, "reading the vault identity", e);
        goto out;
    }
    *found = 1;
    if (sqlite3_column_bytes(st, 0) != MSIG_KEYIDBYTES ||
        sqlite3_column_bytes(st, 1) != MSIG_SECRETKEYBYTES ||
        sqlite3_column_bytes(st, 2) != 32 ||
        sqlite3_column_bytes(st, 3) != 32) {
        rc = err_set(e, EV_ERR_INTEGRITY, "the vault identity is damaged");
        goto out;
    }
    id = identity_new();
    if (!id) {
        rc = err_set(e, EV_ERR_NOMEM, "out of memory");
        goto out;
    }
    id->sign = msig_keypair_from_secret(sqlite3_column_blob(st, 1),
                                        sqlite3_column_blob(st, 0));
    memcpy(id->box_sk, sqlite3_column_blob(st, 2), 32);
    memcpy(id->box_pk, sqlite3_column_blob(st, 3), 32);
    snprintf(id->created, sizeof id->created, "%s",
             (const char *)sqlite3_column_text(st, 4));
    {
        uint8_t pk[32];
        crypto_scalarmult_base(pk, id->box_sk);
        if (!id->sign || sodium_memcmp(pk, id->box_pk, 32) != 0)
            rc = err_set(e, EV_ERR_INTEGRITY, "the vault identity is "
                                              "damaged: its keys do not "
                                              "match");
    }
    if (rc == 0) {
        *out = id;
        id = NULL;
    }
out:
    /* the statement held secret key bytes: finalize frees its copies */
    sqlite3_finalize(st);
    identity_free(id);
    return rc;
}

/* Make and store a new identity, logged. Inside a write transaction. */
static int make(vault *v, int new_vault, ev_err *e)
{
    identity *id = identity_new();
    sqlite3_stmt *st = NULL;
    char vid[33], detail[160], keyid[17];
    int rc = 0;

    if (!id || !(id->sign = msig_keypair_new())) {
        identity_free(id);
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    }
    crypto_box_keypair(id->box_pk, id->box_sk);
    rec_now(id->created);
    if (sqlite3_prepare_v2(vault_db(v),
                           "INSERT INTO identity(id, key_id, sign_sk, "
                           "sign_pk, box_sk, box_pk, created) VALUES (1, ?1, "
                           "?2, ?3, ?4, ?5, ?6)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = vault_sqlerr(v, sqlite3_errcode(vault_db(v)),
                          "storing the vault identity", e);
        goto out;
    }
    sqlite3_bind_blob(st, 1, id->sign->pub.keyid, MSIG_KEYIDBYTES,
                      SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, id->sign->sk, MSIG_SECRETKEYBYTES,
                      SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, id->sign->pub.pk, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, id->box_sk, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, id->box_pk, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, id->created, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = vault_sqlerr(v, sqlite3_errcode(vault_db(v)),
                          "storing the vault identity", e);
        goto out;
    }
    vault_set_identity(v, id);
    id = NULL;
    vault_id_hex(v, vid);
    if (new_vault)
        rc = custody_append(v, "create", "vault", vid, "vault created", e);
    if (rc == 0) {
        identity_public pub;
        rc = identity_get_public(v, &pub, e);
        memcpy(keyid, pub.key_id, sizeof keyid);
        snprintf(detail, sizeof detail, "signing key %s%s", keyid,
                 new_vault ? "" : " (added to an existing vault)");
    }
    if (rc == 0)
        rc = custody_append(v, "create", "identity", vid, detail, e);
out:
    sqlite3_finalize(st);
    identity_free(id);
    return rc;
}

int identity_setup(vault *v, int new_vault, ev_err *e)
{
    identity *id = NULL;
    int found = 0, rc = load(v, &id, &found, e);

    if (rc != 0 || found) {
        if (rc == 0)
            vault_set_identity(v, id);
        return rc;
    }
    if (sqlite3_exec(vault_db(v), "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
        SQLITE_OK)
        return vault_sqlerr(v, sqlite3_errcode(vault_db(v)),
                            "creating the vault identity", e);
    /* another process may have made it while we waited for the lock */
    rc = load(v, &id, &found, e);
    if (rc == 0 && found)
        vault_set_identity(v, id);
    else if (rc == 0)
        rc = make(v, new_vault, e);
    if (rc == 0 && sqlite3_exec(vault_db(v), "COMMIT", NULL, NULL, NULL) !=
                       SQLITE_OK)
        rc = vault_sqlerr(v, sqlite3_errcode(vault_db(v)),
                          "creating the vault identity", e);
    if (rc != 0) {
        sqlite3_exec(vault_db(v), "ROLLBACK", NULL, NULL, NULL);
        vault_set_identity(v, NULL);
    }
    return rc;
}

void identity_fingerprint(char *out, const uint8_t sign_pk[32],
                          const uint8_t box_pk[32])
{
    struct sha256_ctx h;
    uint8_t d[32];
    size_t at = 0;

    sha256_init(&h);
    sha256_update(&h, sizeof FPR_DOMAIN - 1, (const uint8_t *)FPR_DOMAIN);
    sha256_update(&h, 32, sign_pk);
    sha256_update(&h, 32, box_pk);
    sha256_digest(&h, sizeof d, d);
    for (int i = 0; i < 8; i++)
        at += (size_t)snprintf(out + at, IDENTITY_FPRLEN + 1 - at, "%s%05u",
                               i ? " " : "",
                               (unsigned)(d[2 * i] << 8 | d[2 * i + 1]));
}

static void key_id_text(char out[17], const uint8_t keyid[8])
{
    unsigned long long n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | keyid[i];
    snprintf(out, 17, "%016llX", n);
}

int identity_get_public(vault *v, identity_public *out, ev_err *e)
{
    identity *id = vault_identity(v);
    sqlite3_stmt *st = NULL;

    memset(out, 0, sizeof *out);
    if (!id)
        return err_set(e, EV_ERR_INTERNAL, "no identity loaded");
    vault_id_hex(v, out->vault_id);
    if (sqlite3_prepare_v2(vault_db(v),
                           "SELECT value FROM vault_meta WHERE key = 'name'",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        snprintf(out->name, sizeof out->name, "%s",
                 (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    snprintf(out->created, sizeof out->created, "%s", id->created);
    key_id_text(out->key_id, id->sign->pub.keyid);
    msig_pubkey_base64(out->minisign_pubkey, &id->sign->pub);
    bech32_age_recipient(out->age_recipient, id->box_pk);
    identity_fingerprint(out->fingerprint, id->sign->pub.pk, id->box_pk);
    return 0;
}

/* A malloc'd printf: NULL when out of memory. OUT: *len. */
static char *fmt_alloc(int *len, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static char *fmt_alloc(int *len, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !(s = malloc((size_t)n + 1)))
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    *len = n;
    return s;
}

/* A card field value: printable, no control characters. */
static int card_value_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

int identity_card(vault *v, char **card, ev_err *e)
{
    identity *id = vault_identity(v);
    identity_public pub;
    uint8_t sig[64];
    char sigb64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
    char *body = NULL, *out = NULL;
    int n, rc = identity_get_public(v, &pub, e);

    *card = NULL;
    if (rc != 0)
        return rc;
    if (!card_value_ok(pub.name))
        return err_set(e, EV_ERR_INVALID, "the vault name holds control "
                                          "characters: it cannot go on a "
                                          "card");
    body = fmt_alloc(&n,
                 CARD_MAGIC "name: %s\nvault-id: %s\nminisign-public-key: "
                            "%s\nage-recipient: %s\nfingerprint: %s\n"
                            "created: %s\n",
                 pub.name, pub.vault_id, pub.minisign_pubkey,
                 pub.age_recipient, pub.fingerprint, pub.created);
    if (!body)
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    crypto_sign_detached(sig, NULL, (const uint8_t *)body, (size_t)n,
                         id->sign->sk);
    sodium_bin2base64(sigb64, sizeof sigb64, sig, sizeof sig,
                      sodium_base64_VARIANT_ORIGINAL);
    out = fmt_alloc(&n, "%ssignature: %s\n", body, sigb64);
    if (!out)
        rc = err_set(e, EV_ERR_NOMEM, "out of memory");
    free(body);
    *card = out;
    return rc;
}

/* The next line of text[*at..len) must be "<key>: <value>\n". OUT: value
 * copied into val (valsize bytes). */
static int card_field(const char *text, size_t len, size_t *at,
                      const char *key, char *val, size_t valsize)
{
    size_t kl = strlen(key), start = *at, end;
    const char *nl = memchr(text + start, '\n', len - start);

    if (!nl)
        return -1;
    end = (size_t)(nl - text);
    if (end - start < kl + 2 || memcmp(text + start, key, kl) != 0 ||
        memcmp(text + start + kl, ": ", 2) != 0 ||
        end - start - kl - 2 >= valsize)
        return -1;
    memcpy(val, text + start + kl + 2, end - start - kl - 2);
    val[end - start - kl - 2] = '\0';
    if (strlen(val) != end - start - kl - 2 || !card_value_ok(val))
        return -1;
    *at = end + 1;
    return 0;
}

int identity_card_parse(identity_card_info *info, const char *text,
                        size_t len, ev_err *e)
{
    char pk[MSIG_PUBKEY_B64LEN + 2], sigb64[100], fpr[IDENTITY_FPRLEN + 1];
    uint8_t sig[64];
    size_t at = sizeof CARD_MAGIC - 1, body_len, siglen = 0;

    memset(info, 0, sizeof *info);
    if (len > IDENTITY_CARD_MAX || len < at ||
        memcmp(text, CARD_MAGIC, at) != 0)
        return err_set(e, EV_ERR_INVALID, "not an evault partner card");
    if (card_field(text, len, &at, "name", info->name, sizeof info->name) ||
        card_field(text, len, &at, "vault-id", info->vault_id,
                   sizeof info->vault_id) ||
        card_field(text, len, &at, "minisign-public-key", pk, sizeof pk) ||
        card_field(text, len, &at, "age-recipient", info->age_recipient,
                   sizeof info->age_recipient) ||
        card_field(text, len, &at, "fingerprint", info->fingerprint,
                   sizeof info->fingerprint) ||
        card_field(text, len, &at, "created", info->created,
                   sizeof info->created))
        goto bad;
    body_len = at;
    if (card_field(text, len, &at, "signature", sigb64, sizeof sigb64) ||
        at != len || strlen(info->vault_id) != 32 ||
        strspn(info->vault_id, "0123456789abcdef") != 32 ||
        msig_pubkey_parse(&info->sign, pk, strlen(pk)) != 0 ||
        bech32_age_parse_recipient(info->box_pk, info->age_recipient,
                                   strlen(info->age_recipient)) != 0 ||
        sodium_base642bin(sig, sizeof sig, sigb64, strlen(sigb64), NULL,
                          &siglen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        siglen != sizeof sig)
        goto bad;
    {
        /* libsodium's decoder reads bytes 0x80-0xff as '/': accept only
         * the one canonical spelling, so a card is exactly what was signed
         * or rejected */
        char again[sizeof sigb64];
        sodium_bin2base64(again, sizeof again, sig, sizeof sig,
                          sodium_base64_VARIANT_ORIGINAL);
        if (strcmp(again, sigb64) != 0)
            goto bad;
    }
    if (crypto_sign_verify_detached(sig, (const uint8_t *)text, body_len,
                                    info->sign.pk) != 0) {
        memset(info, 0, sizeof *info);
        return err_set(e, EV_ERR_INTEGRITY, "the partner card's signature "
                                            "does not verify: it was "
                                            "changed or damaged");
    }
    identity_fingerprint(fpr, info->sign.pk, info->box_pk);
    if (strcmp(fpr, info->fingerprint) != 0) {
        memset(info, 0, sizeof *info);
        return err_set(e, EV_ERR_INTEGRITY, "the partner card's fingerprint "
                                            "does not match its keys");
    }
    return 0;
bad:
    memset(info, 0, sizeof *info);
    return err_set(e, EV_ERR_INVALID, "malformed partner card");
}
