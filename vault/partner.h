/*
 * partner: the people and organisations bundles go to and come from. A
 * partner is a name with a minisign public key (to check what they sign)
 * and an age recipient (to encrypt to them), taken either from an evault
 * partner card (identity.h, self-signed, with a vault id) or given as the
 * keys that the standard `minisign -G` and `age-keygen` tools make.
 * Adding and removing partners is logged in the custody log.
 */
#ifndef EV_PARTNER_H
#define EV_PARTNER_H

#include "err.h"
#include "identity.h"
#include "vault.h"

#define PARTNER_NAMEMAX 200

typedef struct partner {
    char uuid[37];
    char name[PARTNER_NAMEMAX + 1];
    char vault_id[33]; /* "" when added from keys */
    msig_pubkey sign;
    uint8_t box_pk[32];
    char minisign_key[MSIG_PUBKEY_B64LEN + 1];
    char age_recipient[BECH32_AGE_RECIPIENT_LEN + 1];
    char fingerprint[IDENTITY_FPRLEN + 1];
    char origin[8]; /* "card" or "keys" */
    char added[32];
} partner;

/*
 * Check a partner name: 1-200 bytes of UTF-8 text without control
 * characters, not starting with '-'. EV_ERR_INVALID otherwise.
 */
int partner_name_check(const char *name, ev_err *e);

/*
 * Read a minisign public key given as the key line itself or as the text
 * of a .pub file. OUT: *pub. EV_ERR_INVALID when it is neither.
 */
int partner_parse_minisign(msig_pubkey *pub, const char *text, size_t len,
                           ev_err *e) __attribute__((warn_unused_result));

/*
 * Add a partner from a parsed, self-verified card (origin "card") or from
 * keys (info->vault_id empty, origin "keys"; the fingerprint is computed
 * the same way). EV_ERR_EXISTS when the name, or the same minisign key, is
 * already a partner. Logged. OUT: out (may be NULL).
 */
int partner_add(vault *v, const char *name, const identity_card_info *info,
                int from_card, partner *out, ev_err *e);

/* Remove partner name. EV_ERR_NOTFOUND when there is none. Logged. */
int partner_remove(vault *v, const char *name, ev_err *e);

/* Look up partner name. EV_ERR_NOTFOUND when there is none. OUT: *out. */
int partner_get(vault *v, const char *name, partner *out, ev_err *e);

/* All partners as {"partners": [...]} by name. OUT: *json (malloc'd). */
int partner_list(vault *v, char **json, ev_err *e);

#endif
