/*
 * tarbag: read one BagIt bag from a tar stream (bundle import), checking it
 * on the way in without ever writing it to a file. The tar is read with
 * libarchive (tar formats only: ustar, pax, GNU; no compression) from a
 * caller's read function, so the plaintext can come straight from an age
 * decryptor. Nothing here prints or touches a vault: payload files go to a
 * caller's sink, which is how import streams evidence into the vault.
 *
 * Entry rules (docs/FORMAT.md 14.2), each breach stops the read at once
 * with a message naming the entry: only regular files and directories (no
 * symbolic or hard links, devices, FIFOs, sparse files); every entry under
 * one top directory (a leading "./" is ignored), or none; paths safe as
 * bag_path_check says, at most BAG_MAX_DEPTH levels; at the bag's top only
 * the tag files TARBAG_TAG_NAMES and the data/ directory; no file twice,
 * no two payload names differing only by case; tag files within their size
 * bounds; once bag-info.txt has been read, no payload beyond its
 * Payload-Oxum (so a tar bomb stops at the first byte too many).
 *
 * After the end of the tar (the age stream is read to its end too, so that
 * truncation is caught): bagit.txt, bag-info.txt (External-Identifier and
 * Payload-Oxum required), manifest-sha256.txt (every payload file listed
 * once, with its digest), tagmanifest-sha256.txt (every tag file but the
 * tag manifest and its signature). These findings are all collected.
 * Checking tagmanifest-sha256.txt.minisig is the caller's job (it knows
 * the key).
 */
#ifndef EV_TARBAG_H
#define EV_TARBAG_H

#include <stddef.h>
#include <stdint.h>

#include "bag.h"
#include "err.h"
#include "report.h"

/* The tag files a bundle's bag may hold at its top, by index. */
enum {
    TARBAG_BAGIT,
    TARBAG_BAGINFO,
    TARBAG_MANIFEST,
    TARBAG_TAGMANIFEST,
    TARBAG_TAGSIG, /* tagmanifest-sha256.txt.minisig */
    TARBAG_README,
    TARBAG_NTAGS
};

#define TARBAG_KEEP_MAX (256u << 20)  /* one payload file kept in memory */
#define TARBAG_KEPT_MAX (512u << 20)  /* all of them */

/* What the sink wants done with a payload file. */
enum { TARBAG_HASH = 0, TARBAG_STREAM = 1, TARBAG_KEEP = 2 };

/*
 * Where payload files (regular files under data/) go. begin: a file of
 * size bytes at path (in the bag, "data/..."); return TARBAG_HASH (only
 * hash it), TARBAG_STREAM (pass its bytes to data, then call end),
 * TARBAG_KEEP (keep it in memory: tarbag_file.data) or a negative EV_ERR_*
 * with a message in e to stop. data and end return 0 or a negative
 * EV_ERR_*. end (TARBAG_STREAM files only) gets the SHA-256 of exactly the
 * bytes data got. Any of the
 * functions may be NULL (files are then only hashed).
 */
typedef struct tarbag_sink {
    int (*begin)(void *arg, const char *path, uint64_t size, ev_err *e);
    int (*data)(void *arg, const uint8_t *buf, size_t len, ev_err *e);
    int (*end)(void *arg, const char *path,
               const uint8_t sha256[BAG_SHA256_LEN], uint64_t size,
               ev_err *e);
    void *arg;
} tarbag_sink;

/*
 * The next block of the tar stream: OUT *buf, *len (valid until the next
 * call); *len 0 at the end. Return 0, or a negative EV_ERR_* with a
 * message in e (e.g. the age stream did not verify).
 */
typedef int (*tarbag_read_fn)(void *arg, const uint8_t **buf, size_t *len,
                              ev_err *e);

typedef struct tarbag_file {
    char *path; /* "data/..." */
    uint64_t size;
    uint8_t sha256[BAG_SHA256_LEN];
    uint8_t *data; /* TARBAG_KEEP: the bytes (size of them), else NULL */
    int listed;    /* seen in manifest-sha256.txt */
    int used;      /* free for the caller to mark */
} tarbag_file;

typedef struct tarbag {
    char *root;          /* the top directory's name ("" when none) */
    tarbag_file *files;  /* payload files, sorted by path after the read */
    size_t nfiles, cap;
    uint64_t payload_bytes, kept_bytes;
    char *tag[TARBAG_NTAGS]; /* tag files' contents (NUL-terminated) */
    size_t taglen[TARBAG_NTAGS];
    uint8_t tagsha[TARBAG_NTAGS][BAG_SHA256_LEN];
    bag_info info; /* bag-info.txt, parsed */
    uint64_t oxum_bytes, oxum_files;
    int have_oxum;
    uint64_t tar_bytes; /* plaintext bytes read */
    bag_manifest names; /* payload names seen (duplicate and case checks) */
} tarbag;

/* The name of tag file i ("bagit.txt", ...). */
const char *tarbag_tag_name(int i);

void tarbag_init(tarbag *tb);
void tarbag_clear(tarbag *tb);

/*
 * Read and check the bag from rd as described above. OUT: tb (initialised
 * by the caller; files sorted by path), findings in r. Returns 0 when the
 * bag is whole and consistent; EV_ERR_INTEGRITY with the first problem in
 * e (the stream, an entry, or the first of the findings in r); a sink's or
 * rd's error as they returned it; EV_ERR_NOMEM.
 */
int tarbag_read(tarbag *tb, tarbag_read_fn rd, void *rarg,
                const tarbag_sink *sink, report *r, ev_err *e)
    __attribute__((warn_unused_result));

/* The payload file at path, or NULL (after tarbag_read). */
const tarbag_file *tarbag_find(const tarbag *tb, const char *path);

#endif
