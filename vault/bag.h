/*
 * bag: BagIt 1.0 (RFC 8493) for handover bundles. Two halves, neither of
 * which prints or touches a vault:
 *
 *   - builders for the tag files evault writes: bagit.txt, bag-info.txt
 *     from label/value pairs, and payload and tag manifests built one
 *     entry at a time ("hex  path\n", SHA-256, paths percent-encoded as
 *     RFC 8493 says);
 *   - a validator for a bag extracted into a directory (`evault bag check`,
 *     later bundle import), which collects every finding into a report.
 *
 * Paths. Every path in a bag is relative to the bag's top directory and
 * '/'-separated. evault accepts only safe paths (bag_path_check): no
 * leading '/', no empty, '.' or '..' component, no backslash, no NUL, no
 * control character (C0, DEL, C1; so no CR or LF either), valid UTF-8, at
 * most BAG_PATH_MAX bytes and 255 bytes a component. This is stricter than
 * RFC 8493, which allows CR and LF in names: a bag holding such a name is
 * reported invalid, because import refuses such names anyway.
 *
 * Percent-encoding. In manifests RFC 8493 encodes '%', CR and LF in paths
 * as %25, %0D and %0A (bag_path_encode). Since CR and LF never pass
 * bag_path_check, only '%' is ever encoded in what evault writes. A
 * manifest line whose path holds '%' is not checkable with `sha256sum -c`
 * (it would look for the file "100%25.txt", not "100%.txt"); evault's
 * exporter should avoid '%' in payload names for that reason.
 *
 * Case. Two names "differ only by case" when they are equal after folding
 * ASCII letters and the upper-case letters of Latin-1, Latin Extended-A,
 * Greek and Cyrillic (U+0400-U+042F) to lower case; this is not full
 * Unicode case folding (no normalisation either).
 *
 * Algorithms. Manifests for sha256 and sha512 are checked (nettle); any
 * other manifest-ALG.txt or tagmanifest-ALG.txt is a finding ("algorithm
 * not supported"), and manifest-sha256.txt is required.
 */
#ifndef EV_BAG_H
#define EV_BAG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "report.h"

/* Bounds. A bag beyond one of them is reported invalid. */
#define BAG_PATH_MAX 4095             /* bytes in a path (decoded) */
#define BAG_NAME_MAX 255              /* bytes in one path component */
#define BAG_MAX_FILES 1000000         /* entries in the bag, per manifest */
#define BAG_MAX_DEPTH 64              /* directory levels below the bag */
#define BAG_MAX_LINE 16384            /* bytes in one line of a tag file */
#define BAG_MAX_MANIFEST (256u << 20) /* bytes in one (tag) manifest */
#define BAG_MAX_BAGINFO (1u << 20)    /* bytes in bag-info.txt */
#define BAG_MAX_NAMEBYTES (256u << 20) /* all paths held in memory */
#define BAG_MAX_FINDINGS 1000 /* bad lines reported per manifest */

#define BAG_SHA256_LEN 32
#define BAG_QMAX 320 /* bytes of a name quoted by bag_quote */
#define BAG_OXUM_MAX 44 /* "bytes.count" with two uint64 and a NUL */

/* The bagit.txt evault writes; bag_check accepts only these two lines (with
 * LF, CRLF or CR line ends, the encoding's name in any case). */
#define BAG_BAGIT_TXT \
    "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"

/* bag-info.txt labels evault writes (RFC 8493 reserved ones, and ours). */
#define BAG_LABEL_SOURCE_ORG "Source-Organization"
#define BAG_LABEL_BAGGING_DATE "Bagging-Date"         /* YYYY-MM-DD */
#define BAG_LABEL_EXTERNAL_ID "External-Identifier"   /* the bundle UUID */
#define BAG_LABEL_PAYLOAD_OXUM "Payload-Oxum"         /* bytes.count */
#define BAG_LABEL_SENDER_VAULT "Evault-Sender-Vault-Id"

/* Progress: bytes done out of total (the same shape as vfs_progress_fn, so
 * cli_progress fits). The return value is ignored. */
typedef int (*bag_progress_fn)(void *arg, uint64_t done, uint64_t total);

/* ---- paths ----------------------------------------------------------------- */

/*
 * Check that path (NUL-terminated) is a safe bag path as described above.
 * Returns 0, or EV_ERR_INVALID with the reason in e ("path 'x' has a '..'
 * component").
 */
int bag_path_check(const char *path, ev_err *e);

/*
 * Percent-encode '%', CR and LF in path for a manifest line (RFC 8493
 * section 2.1.3); everything else is copied. OUT: *out, malloc'd,
 * NUL-terminated. Returns 0 or EV_ERR_NOMEM.
 */
int bag_path_encode(const char *path, char **out, ev_err *e);

/*
 * Decode a manifest's path field of len bytes: %25, %0D and %0A (hex digits
 * in either case) become '%', CR and LF; any other '%' is an error (a 1.0
 * bag encodes every '%'). OUT: *out malloc'd, NUL-terminated (it may hold
 * NUL bytes from the input: *outlen is the length). Returns 0,
 * EV_ERR_INVALID or EV_ERR_NOMEM.
 */
int bag_path_decode(const char *enc, size_t len, char **out, size_t *outlen,
                    ev_err *e);

/* ---- builders ----------------------------------------------------------- */

/* A bag-info.txt element. */
typedef struct bag_info_item {
    const char *label;
    const char *value;
} bag_info_item;

/*
 * Format "bytes.count" for Payload-Oxum. OUT: out (BAG_OXUM_MAX bytes).
 */
void bag_oxum_format(char out[BAG_OXUM_MAX], uint64_t bytes, uint64_t count);

/*
 * bag-info.txt from n items, in the order given, one "Label: value\n" line
 * each (values are never folded onto continuation lines). Labels: 1 to 128
 * printable ASCII characters, no ':', not beginning or ending with a space.
 * Values: valid UTF-8 without control characters other than TAB (so no CR
 * or LF), not beginning or ending with whitespace, at most BAG_MAX_LINE - 200
 * bytes. Payload-Oxum must have the form digits.digits and Bagging-Date
 * YYYY-MM-DD; a label may appear only once. OUT: *out (malloc'd,
 * NUL-terminated) and *len. Returns 0, EV_ERR_INVALID naming the item, or
 * EV_ERR_NOMEM.
 */
int bag_info_build(const bag_info_item *items, size_t n, char **out,
                   size_t *len, ev_err *e);

enum { BAG_MANIFEST_PAYLOAD = 0, BAG_MANIFEST_TAG = 1 };

struct bag_names; /* private: the names added so far */

/*
 * A manifest being built: text holds the manifest-sha256.txt (or
 * tagmanifest-sha256.txt) so far, count its lines.
 */
typedef struct bag_manifest {
    char *text;
    size_t len, cap;
    size_t count;
    int kind; /* BAG_MANIFEST_PAYLOAD or BAG_MANIFEST_TAG */
    struct bag_names *names;
} bag_manifest;

/* Start an empty manifest of kind BAG_MANIFEST_PAYLOAD or _TAG. */
void bag_manifest_init(bag_manifest *m, int kind);

/*
 * Append "hex  path\n" for a file of the bag with the given SHA-256; the
 * path is percent-encoded in the line. path must pass bag_path_check, lie
 * under "data/" in a payload manifest and outside it in a tag manifest, and
 * must not be listed already, differ only by case from a name (file or
 * directory) already listed, be a directory of a file already listed or
 * have one as a directory. At most BAG_MAX_FILES lines and
 * BAG_MAX_MANIFEST bytes. Returns 0, or EV_ERR_INVALID / EV_ERR_NOMEM with
 * the manifest unchanged.
 */
int bag_manifest_add(bag_manifest *m, const char *path,
                     const uint8_t sha256[BAG_SHA256_LEN], ev_err *e);

/* Free the text and the names; m is empty again (NULL is fine). */
void bag_manifest_clear(bag_manifest *m);

/* A tag file that evault has in memory. */
typedef struct bag_tagfile {
    const char *name; /* e.g. "bagit.txt", "manifest-sha256.txt" */
    const void *data;
    size_t len;
} bag_tagfile;

/*
 * Hash each of the n tag files (SHA-256) and add it to m, which must have
 * been started as BAG_MANIFEST_TAG: this is tagmanifest-sha256.txt. Returns
 * as bag_manifest_add (EV_ERR_INTERNAL for a payload manifest); after a
 * failure the files before the failing one stay added.
 */
int bag_tagmanifest_add(bag_manifest *m, const bag_tagfile *files, size_t n,
                        ev_err *e);

/* ---- tag files in memory (bundle import reads them from a tar) -------- */

/*
 * Check bagit.txt text of len bytes: exactly "BagIt-Version: 1.0" and
 * "Tag-File-Character-Encoding: UTF-8" (LF, CRLF or CR line ends, the
 * encoding's name in any case, no byte order mark). Findings go to r.
 * Returns 0 if there were none, -1 otherwise.
 */
int bag_bagit_check(const char *text, size_t len, report *r);

/* Called by bag_manifest_parse for each well-formed line: path (decoded,
 * NUL-terminated, a safe path), its digest and line number. Return 0 to go
 * on, anything else to stop (returned as is). */
typedef int (*bag_manifest_fn)(void *arg, const char *path,
                               const uint8_t sha256[BAG_SHA256_LEN],
                               unsigned long line);

/*
 * Parse a SHA-256 manifest (kind BAG_MANIFEST_PAYLOAD: paths under data/,
 * or BAG_MANIFEST_TAG: paths outside it) held in memory, named name in
 * findings. Malformed lines (no separator, a digest that is not 64 hex
 * digits, a bad %-sequence, an unsafe path, a path on the wrong side of
 * data/, a line over BAG_MAX_LINE bytes) are added to r and skipped;
 * duplicates are the caller's to find. At most BAG_MAX_FINDINGS bad lines
 * and BAG_MAX_FILES entries: beyond either, one more finding says so and
 * the rest is not read. Returns 0, what fn returned, or EV_ERR_NOMEM.
 */
int bag_manifest_parse(const char *text, size_t len, const char *name,
                       int kind, bag_manifest_fn fn, void *arg, report *r,
                       ev_err *e);

/* s (n bytes) fit to quote in a message: control characters, invalid UTF-8
 * and direction marks escaped, cut beyond BAG_QMAX bytes. OUT: buf. */
const char *bag_quote(char buf[BAG_QMAX], const char *s, size_t n);

/* ---- validator -------------------------------------------------------------- */

/* bag-info.txt as parsed: labels and values in file order (continuation
 * lines joined with one space). */
typedef struct bag_info {
    char **labels;
    char **values;
    size_t n;
} bag_info;

/* The first value for label (compared case-insensitively), else NULL. */
const char *bag_info_get(const bag_info *bi, const char *label);

void bag_info_clear(bag_info *bi);

/*
 * Parse bag-info.txt text of len bytes: "Label: value" lines (LF, CRLF or
 * CR line ends), continuation lines begin with a space or a tab. Problems
 * (a line without ':', an empty label, invalid UTF-8, a continuation with
 * nothing to continue, an over-long line, a repeated Payload-Oxum) are added
 * to r, prefixed "bag-info.txt". OUT: bi. Returns 0 or EV_ERR_NOMEM.
 */
int bag_info_parse(const char *text, size_t len, bag_info *bi, report *r,
                   ev_err *e);

/* What bag_check looked at. */
typedef struct bag_check_result {
    int valid;              /* 1: no finding */
    int complete;           /* 0: a bound stopped the check early */
    uint64_t files;         /* payload files: regular files under data/ */
    uint64_t bytes;         /* their total size */
    uint64_t hashed_bytes;  /* bytes read to check digests (all files) */
    uint64_t tagfiles;      /* regular files outside data/ */
    unsigned manifests;     /* payload manifests checked */
    unsigned tagmanifests;  /* tag manifests checked */
    char manifest_names[4][32]; /* their names, in byte order */
    bag_info info;          /* bag-info.txt (empty if there is none) */
} bag_check_result;

void bag_check_result_clear(bag_check_result *res);

/*
 * Validate the bag in the directory dir (which may be a symbolic link to
 * the directory; nothing inside it is followed). Checks, collecting every
 * finding in r (each names the file concerned):
 *   - bagit.txt is exactly version 1.0 with encoding UTF-8 (LF, CRLF or CR
 *     line ends, no byte order mark);
 *   - bag-info.txt, if present, parses; its Payload-Oxum, if present,
 *     matches the payload's size and file count;
 *   - manifest-sha256.txt exists; every payload or tag manifest of a
 *     supported algorithm parses, with safe paths (payload ones under
 *     data/, tag ones outside it), each listed once;
 *   - every regular file under data/ is listed in every payload manifest,
 *     every regular file outside data/ except the tag manifests and their
 *     ".minisig" signatures in every tag manifest; every listed file exists,
 *     is a regular file and has the listed digest;
 *   - the bag holds only regular files and directories (no symbolic links,
 *     FIFOs, sockets, devices), no unsafe names, no two names that differ
 *     only by case, no fetch.txt, and a data/ directory.
 * Files are opened component by component relative to the bag's directory
 * with O_NOFOLLOW, so no path leaves the bag, and hashed in 64 KiB reads.
 * progress (may be NULL) gets the bytes hashed so far and the total.
 * OUT: res (cleared first; free with bag_check_result_clear), findings
 * appended to r. Returns 0 when the check ran (the bag is valid when
 * res->valid), or EV_ERR_IO when dir cannot be opened as a directory,
 * EV_ERR_NOMEM.
 */
int bag_check(const char *dir, bag_check_result *res, report *r,
              bag_progress_fn progress, void *progress_arg, ev_err *e)
    __attribute__((warn_unused_result));

/* As bag_check, on an open directory (dirfd is not closed). */
int bag_check_at(int dirfd, bag_check_result *res, report *r,
                 bag_progress_fn progress, void *progress_arg, ev_err *e)
    __attribute__((warn_unused_result));

#endif
