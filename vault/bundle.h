/*
 * bundle: sealed handover bundles (docs/FORMAT.md section 14). An export
 * is one age v1 file whose plaintext is a POSIX pax tar (libarchive) of one
 * BagIt 1.0 bag, streamed end to end (no plaintext ever reaches a file),
 * and beside it FILE.minisig, a minisign signature of the encrypted file by
 * the vault identity.
 */
#ifndef EV_BUNDLE_H
#define EV_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "vault.h"

typedef int (*bundle_progress_fn)(void *arg, uint64_t done, uint64_t total);

typedef struct bundle_export_opts {
    /* what: the union of these (at least one given) */
    const int64_t *incidents; /* named explicitly */
    size_t nincidents;
    const char *tag;          /* incidents with this tag */
    const char *since, *until; /* start date range (both or neither) */
    const char *query;        /* full-text search (incidents it finds) */
    int all;
    int redact; /* leave out what must not leave the vault (see FORMAT.md) */
    /* to whom: partner names, or a passphrase (scrypt) */
    const char *const *partners;
    size_t npartners;
    const char *passphrase; /* NULL when partners */
    size_t passphrase_len;
    int scrypt_log_n;       /* 0: the default (18) */
    const char *out_path;   /* FILE; FILE.minisig is written beside it */
    bundle_progress_fn progress;
    void *progress_arg;
} bundle_export_opts;

typedef struct bundle_export_result {
    char uuid[37];
    uint64_t incidents, actors, sources, evidence, seals, log_entries;
    uint64_t payload_bytes, payload_files;
    uint64_t bundle_bytes;
} bundle_export_result;

/*
 * Export. Neither FILE nor FILE.minisig may exist; both appear only when
 * complete (written under hidden names, then linked into place). Logged in
 * the custody log. OUT: *res.
 */
int bundle_export(vault *v, const bundle_export_opts *o,
                  bundle_export_result *res, ev_err *e);

#endif
