/*
 * store: the evidence store. Files go into the vault as content-addressed
 * blobs (one `blob` row per distinct SHA-256, the bytes in numbered `chunk`
 * rows of STORE_CHUNK bytes) and are described by `evidence` rows linked to
 * incidents through `evidence_link`. See docs/evidence-format.md.
 *
 * Ingest reads a file once, in bounded memory whatever its size, hashing
 * (nettle's SHA-256) in the same pass, and rejects a file that changes while
 * it is read. Extract streams the chunks back out and recomputes the hash.
 * Every function returns 0 or a negative EV_ERR_* code and fills the ev_err
 * it is given; nothing here prints.
 */
#ifndef EV_STORE_H
#define EV_STORE_H

#include <stdint.h>
#include <sys/stat.h>

#include "err.h"
#include "report.h"
#include "vault.h"

#define STORE_CHUNK (1024 * 1024) /* bytes per chunk row (the last is short) */
#define STORE_HASHLEN 32
#define STORE_MEDIAMAX 128

/* Progress: bytes done of total; return non-zero to cancel (EV_ERR_REFUSED). */
typedef int (*store_progress_fn)(void *arg, uint64_t done, uint64_t total);

/*
 * Open path for ingest: refuses symbolic links, directories, devices, FIFOs,
 * sockets and files it cannot read, with a message naming the file and the
 * reason. Never blocks on a FIFO (it is refused before it is opened).
 * OUT: *fd (close it), *st (the fstat at open). Returns 0, EV_ERR_NOTFOUND,
 * EV_ERR_INVALID (not a regular file) or EV_ERR_IO.
 */
int store_open_source(const char *path, int *fd, struct stat *st, ev_err *e);

/* What an evidence row says about an acquisition. NULL fields: defaults. */
typedef struct store_meta {
    const char *method;      /* photo, video, ...; NULL: "document" */
    const char *url;         /* NULL: none */
    const char *acquired_at; /* "YYYY-MM-DDTHH:MM:SSZ" or a date; NULL: now */
    const char *acquired_by; /* NULL: "" */
    const char *description; /* NULL: "" */
} store_meta;

/* Check a store_meta before any work (method name, time form). */
int store_meta_check(const store_meta *m, ev_err *e);

typedef struct store_added {
    int64_t evidence_id;        /* OUT: new, or the existing one linked */
    int linked_existing;        /* OUT: 1 if an existing record was linked */
    int content_existed;        /* OUT: 1 if the bytes were already stored */
    uint64_t size;              /* OUT */
    uint8_t sha256[STORE_HASHLEN];       /* OUT */
    char media_type[STORE_MEDIAMAX + 1]; /* OUT */
} store_added;

/*
 * Attach the file at path to incident incident_id. In one savepoint (inside
 * the caller's transaction if one is open, else in a BEGIN IMMEDIATE
 * transaction of its own): stream the file into chunk rows under a random
 * staging key while hashing it, then either give the chunks the content's
 * SHA-256 (new content) or roll them back (the content is already stored).
 * Then: if an evidence record with that content is already linked to the
 * incident, EV_ERR_EXISTS naming it and nothing changes; if one exists for
 * other incidents, it is linked to this one (out->linked_existing; m is not
 * used); else a new evidence record is made from m and the file's base
 * name. A file whose size, mtime or ctime changes during the read, or that
 * grows past its size at open, is rejected (EV_ERR_IO) with nothing stored.
 * progress (may be NULL) is called after each chunk. OUT: out.
 */
int store_evidence_add(vault *v, int64_t incident_id, const char *path,
                       const store_meta *m, store_progress_fn progress,
                       void *arg, store_added *out, ev_err *e);

/*
 * Stream the content whose SHA-256 is sha256 to fd, recomputing the hash.
 * EV_ERR_INTEGRITY if a chunk is missing, short, long or out of place, if
 * the total differs from the blob's size, or if the hash differs; the bytes
 * written before the failure are already out (the caller discards them).
 * EV_ERR_IO if fd cannot be written. fd < 0: only check, write nothing.
 * OUT: *written (may be NULL).
 */
int store_blob_extract(vault *v, const uint8_t *sha256, int fd,
                       store_progress_fn progress, void *arg,
                       uint64_t *written, ev_err *e)
    __attribute__((warn_unused_result));

/* An evidence record, as read back. Strings are owned by the struct. */
typedef struct store_evidence {
    int64_t id;
    char uuid[37];
    uint8_t sha256[STORE_HASHLEN];
    char sha256_hex[2 * STORE_HASHLEN + 1];
    uint64_t size;
    char *original_name, *media_type, *method, *url; /* url may be NULL */
    char *acquired_at, *acquired_by, *description, *created;
} store_evidence;

/* Read evidence row id. OUT: ev (free with store_evidence_clear). */
int store_evidence_get(vault *v, int64_t id, store_evidence *ev, ev_err *e);
void store_evidence_clear(store_evidence *ev);

/*
 * Call fn for each evidence record, by id; incident_id > 0: only those
 * linked to that incident. fn returning non-zero stops (returned as is).
 */
int store_evidence_list(vault *v, int64_t incident_id,
                        int (*fn)(void *arg, const store_evidence *ev),
                        void *arg, ev_err *e);

/* Call fn for each incident evidence id is linked to, by incident id. */
int store_evidence_incidents(vault *v, int64_t id,
                             int (*fn)(void *arg, int64_t incident_id,
                                       const char *uuid, const char *title),
                             void *arg, ev_err *e);

/* Where store_blob_stream sends the bytes: 0, or non-zero to stop. */
typedef int (*store_sink_fn)(void *arg, const uint8_t *buf, size_t len);

/*
 * store_blob_extract to a callback instead of a file descriptor (sink NULL:
 * only check). Same checks and errors; a failing sink is EV_ERR_IO.
 */
int store_blob_stream(vault *v, const uint8_t *sha256, store_sink_fn sink,
                      void *sink_arg, store_progress_fn progress, void *arg,
                      uint64_t *written, ev_err *e);

/*
 * Re-hash every stored content (verify): each must have all its chunks in
 * place and match its size and SHA-256. Each failure is added to r naming
 * the evidence rows that share the content. OUT: *files (contents
 * checked), *bytes, *bad.
 */
int store_verify_all(vault *v, report *r, store_progress_fn progress,
                     void *arg, uint64_t *files, uint64_t *bytes,
                     uint64_t *bad, ev_err *e);

/* Extract evidence id's content to fd (store_blob_extract). */
int store_evidence_extract(vault *v, int64_t id, int fd,
                           store_progress_fn progress, void *arg,
                           uint64_t *written, ev_err *e)
    __attribute__((warn_unused_result));

/* ---- bundle import ------------------------------------------------------- */

typedef struct store_blob_writer store_blob_writer;

/*
 * Stream content of unknown hash into the store (bundle import): chunk rows
 * under a random staging key. Call inside the caller's write transaction;
 * on any failure the caller rolls it back. OUT: *w.
 */
int store_blob_begin(vault *v, store_blob_writer **w, ev_err *e);

/* Append len bytes (stored in STORE_CHUNK rows as they fill). */
int store_blob_write(store_blob_writer *w, const uint8_t *buf, size_t len,
                     ev_err *e);

/*
 * Finish: sha256 is the SHA-256 of exactly the bytes written (the caller
 * hashed them on the way; verify re-hashes stored content). If content
 * with that hash is stored already the staged copy is deleted (*existed =
 * 1), else the staged rows take the hash. OUT: *existed, media (the type
 * sniffed from the first chunk; may be NULL). Frees w whatever happens.
 */
int store_blob_end(store_blob_writer *w, const uint8_t sha256[STORE_HASHLEN],
                   int *existed, char media[STORE_MEDIAMAX + 1], ev_err *e);

/* Free w without finishing (the caller's rollback removes its rows). */
void store_blob_abort(store_blob_writer *w);

/* An evidence record that arrived in a bundle, with the sender's UUID. */
typedef struct store_import {
    const char *uuid;
    uint8_t sha256[STORE_HASHLEN];
    uint64_t size;
    const char *original_name, *media_type, *method, *url;
    const char *acquired_at, *acquired_by, *description;
} store_import;

/*
 * Insert evidence row im, whose content (that size and hash) must be stored
 * already (EV_ERR_INTEGRITY if not). method and acquired_at are checked as
 * for store_evidence_add. Not logged. OUT: *id.
 */
int store_evidence_import(vault *v, const store_import *im, int64_t *id,
                          ev_err *e);

/* Link evidence row evidence to incident (not logged). */
int store_evidence_link(vault *v, int64_t evidence, int64_t incident,
                        ev_err *e);

#endif
