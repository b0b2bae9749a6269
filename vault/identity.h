/*
 * identity: the vault's own keys. Every vault has one Ed25519 signing key
 * (with a minisign key id: it signs seals, custody entries, partner cards
 * and bundles, and `minisign -V` checks its signatures) and one X25519 key
 * (its age recipient, for bundles sent to it). Both are made once, stored
 * only inside the encrypted database (table identity), and loaded into
 * guarded memory at unlock.
 *
 * The public side is shown as a minisign public key, an age recipient and
 * a fingerprint that two people can read to each other: eight groups of
 * five digits derived from both public keys.
 */
#ifndef EV_IDENTITY_H
#define EV_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "../crypto/bech32.h"
#include "../crypto/msig.h"
#include "err.h"
#include "vault.h"

#define IDENTITY_FPRLEN 47 /* "12345 67890 ..." 8 x 5 digits, 7 spaces */
#define IDENTITY_CARD_MAX 2048

typedef struct identity {
    msig_keypair *sign; /* sodium_malloc'd */
    uint8_t *box_sk;    /* sodium_malloc'd, 32 bytes */
    uint8_t box_pk[32];
    char created[32];
} identity;

/* The public face of an identity, ready to print. */
typedef struct identity_public {
    char name[VAULT_NAMEMAX + 1];
    char vault_id[33];
    char created[32];
    char key_id[17]; /* minisign's %016X */
    char minisign_pubkey[MSIG_PUBKEY_B64LEN + 1];
    char age_recipient[BECH32_AGE_RECIPIENT_LEN + 1];
    char fingerprint[IDENTITY_FPRLEN + 1];
} identity_public;

/*
 * Load the vault's identity into guarded memory, making it first when the
 * vault has none (a new vault, or one made before schema 3). Making one is
 * recorded in the custody log; new_vault adds the vault's own creation
 * entry before it. Called by vault_create and vault_open.
 */
int identity_setup(vault *v, int new_vault, ev_err *e);

/* Wipe and free. Accepts NULL. */
void identity_free(identity *id);

/* The public face of v's identity. OUT: *out. */
int identity_get_public(vault *v, identity_public *out, ev_err *e);

/*
 * The fingerprint of a signing key and an age key: SHA-256 of
 * "evault-identity-v1" || sign_pk || box_pk, its first 16 bytes read as
 * eight big-endian 16-bit numbers, each printed as five digits.
 * OUT: out (IDENTITY_FPRLEN + 1 bytes).
 */
void identity_fingerprint(char *out, const uint8_t sign_pk[32],
                          const uint8_t box_pk[32]);

/*
 * A partner card for v: the lines of docs/FORMAT.md section "Partner
 * card", signed by v's signing key. OUT: *card (malloc'd text).
 */
int identity_card(vault *v, char **card, ev_err *e);

/* A parsed and self-verified partner card. */
typedef struct identity_card_info {
    char name[VAULT_NAMEMAX + 1];
    char vault_id[33];
    msig_pubkey sign;
    uint8_t box_pk[32];
    char age_recipient[BECH32_AGE_RECIPIENT_LEN + 1];
    char fingerprint[IDENTITY_FPRLEN + 1];
    char created[32];
} identity_card_info;

/*
 * Parse a partner card (hostile input) and check its self-signature and
 * that its fingerprint matches its keys. OUT: *info. EV_ERR_INVALID for a
 * malformed card, EV_ERR_INTEGRITY for a bad signature or fingerprint.
 */
int identity_card_parse(identity_card_info *info, const char *text,
                        size_t len, ev_err *e)
    __attribute__((warn_unused_result));

#endif
