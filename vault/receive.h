/*
 * receive: import a handover bundle from a partner (`evault import-bundle`,
 * docs/FORMAT.md 14.2). In order, each step refusing the bundle before the
 * next one runs:
 *
 *   1. FILE.minisig must verify against the partner's minisign key (a
 *      streaming pass over the encrypted file), unless the caller says
 *      otherwise (no_signature; logged);
 *   2. the age header must name this vault's identity (or the passphrase);
 *   3. in one write transaction, the tar is read straight out of the age
 *      decryptor (tarbag.c: entry rules, manifests, Payload-Oxum), evidence
 *      streaming into the store as it comes; the tag manifest's signature
 *      must be the partner's; the records in data/records.json go in with
 *      their UUIDs and the bundle's provenance, the sender's seals are kept
 *      byte for byte after their signatures check;
 *   4. the encrypted file must not have changed since step 1; then COMMIT.
 *
 * Any failure rolls the transaction back: the vault is as it was. Records
 * whose UUID the vault holds already are left as they are (their
 * provenance gains the bundle); a bundle imported before changes nothing.
 */
#ifndef EV_RECEIVE_H
#define EV_RECEIVE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "report.h"
#include "vault.h"

typedef int (*receive_progress_fn)(void *arg, uint64_t done, uint64_t total);

typedef struct receive_opts {
    const char *path;    /* FILE (FILE.minisig beside it) */
    const char *partner; /* the sender, by partner name */
    int no_signature;    /* do not require FILE.minisig and the tag
                            manifest's signature (logged) */
    const char *passphrase; /* scrypt bundles; NULL: the vault identity */
    size_t passphrase_len;
    receive_progress_fn progress;
    void *progress_arg;
} receive_opts;

typedef struct receive_result {
    char uuid[37];            /* the bundle */
    int already;              /* imported before (at `received`): no change */
    char received[32];
    char sender_vault_id[33]; /* "" if the bag does not say */
    char sender_name[256];
    int signature_checked;
    uint64_t incidents, actors, sources, evidence; /* new records */
    uint64_t present;         /* records the vault held already */
    uint64_t new_contents;    /* evidence contents not stored before */
    uint64_t seals;           /* sender seals kept */
    uint64_t ignored;         /* payload files no record refers to */
    uint64_t bytes;           /* size of FILE */
} receive_result;

/*
 * Import o->path from partner o->partner as described above. OUT: *res;
 * findings about the bag (all of them, when the manifests disagree) in r.
 * Returns 0 (also when res->already), EV_ERR_NOTFOUND (no such partner,
 * FILE missing), EV_ERR_INTEGRITY (signature, decryption, tar or bag
 * rules, manifests, records that do not fit together; e names the entry),
 * EV_ERR_IO, EV_ERR_NOMEM, EV_ERR_BUSY.
 */
int receive_bundle(vault *v, const receive_opts *o, receive_result *res,
                   report *r, ev_err *e)
    __attribute__((warn_unused_result));

/*
 * verify: every received seal must still hash to its SHA-256 and carry a
 * signature by the key it was received with. Failures go to r. OUT:
 * *checked, *bad.
 */
int receive_verify_seals(vault *v, report *r, uint64_t *checked,
                         uint64_t *bad, ev_err *e);

#endif
