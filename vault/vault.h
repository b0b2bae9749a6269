/*
 * vault: the container. Create, unlock, inspect and check a vault file, and
 * manage its keyslots. A vault is one file: a 4096-byte region of eight
 * keyslots, then an SQLite database whose every page is encrypted by vfs.
 *
 * Every function returns 0 or a negative EV_ERR_* code and fills the ev_err
 * it is given; nothing here prints or exits.
 */
#ifndef EV_VAULT_H
#define EV_VAULT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "../crypto/keyslot.h"
#include "err.h"
#include "vfs.h"

#define VAULT_FORMAT_VERSION 1
#define VAULT_PAGE_SIZE 16384
#define VAULT_BUSY_MS 10000
#define VAULT_NAMEMAX 200

typedef struct vault vault;

typedef struct vault_open_opts {
    const char *base_vfs; /* NULL: SQLite's default ("unix") */
    /* vault_create only: the page size, a power of two from 1024 to
     * 65536 (0: VAULT_PAGE_SIZE). Older vaults have 4096. */
    uint32_t page_size;
} vault_open_opts;

/* Whether P is a page size a vault may have. */
int vault_page_size_ok(uint32_t P);

/*
 * Create a new vault at path with one passphrase keyslot (label "initial
 * passphrase"). Refuses to replace anything at path; the file appears only
 * when complete (written beside it, then linked into place), mode 0600.
 * name is the organisation's name (may be NULL). kdf: Argon2id cost.
 * OUT: id_out (33 bytes, may be NULL): the new vault id in hex.
 */
int vault_create(const char *path, const char *pass, size_t passlen,
                 const kdf_params *kdf, const char *name,
                 const vault_open_opts *o, char *id_out, ev_err *e);

/*
 * Unlock the vault at path with secret (a passphrase or a recovery code),
 * open its database, bring its schema up to date and check that its
 * keyslots are the ones it last wrote (finishing an interrupted keyslot
 * change). OUT: *out. EV_ERR_UNLOCK for a wrong secret or a file that is
 * not a vault; EV_ERR_INTEGRITY for tampering.
 */
int vault_open(vault **out, const char *path, const char *secret,
               size_t secretlen, const vault_open_opts *o, ev_err *e);

/* Close the database, unregister the VFS and wipe keys. Accepts NULL. */
void vault_close(vault *v);

/*
 * The connection, for the layers above (records, search...). It carries an
 * authorizer that refuses ATTACH of any file: a layer that installs its own
 * authorizer must keep refusing SQLITE_ATTACH of a non-empty file name.
 */
sqlite3 *vault_db(vault *v);

/*
 * Page-cache size for streaming: while streaming is set, vault_db(v) keeps
 * only a small cache (evidence chunks are read once; filling a 32 MiB cache
 * with pages that are never read again costs a page fault per 4 KiB), and
 * unset brings back the normal cache. Returns an SQLite code.
 */
int vault_stream_cache(vault *v, int streaming);

/*
 * A second, read-only connection to v's database through the same VFS, in
 * a read transaction of its own: for a helper thread that reads alongside
 * vault_db(v) while that connection holds a read transaction (so both see
 * the same state: no writer can commit in between). OUT: *out. Returns an
 * SQLite code. Close with vault_reader_close; only reads, no authorizer;
 * the small streaming cache.
 */
int vault_reader_open(vault *v, sqlite3 **out);
void vault_reader_close(sqlite3 *db);

/* The vault id in hex. OUT: out (33 bytes). */
void vault_id_hex(const vault *v, char out[33]);

/* The vault's identity keys (identity.h), NULL before identity_setup. */
struct identity *vault_identity(vault *v);

/* Hand id to v, which frees it on close (replacing any earlier one). */
void vault_set_identity(vault *v, struct identity *id);
const char *vault_path(const vault *v);

/*
 * Map an SQLite result code from a statement on this vault to an EV_ERR_*
 * code with a message; a page that failed authentication becomes
 * EV_ERR_INTEGRITY naming the page. what says what was being done.
 */
int vault_sqlerr(vault *v, int sqlrc, const char *what, ev_err *e);

typedef struct vault_slot_info {
    int index;
    int type; /* KEYSLOT_EMPTY, _PASSPHRASE, _RECOVERY */
    kdf_params kdf;
    uint64_t created;
    char label[KEYSLOT_LABELMAX + 1];
} vault_slot_info;

typedef struct vault_info {
    char vault_id[33]; /* hex */
    char name[VAULT_NAMEMAX + 1];
    uint64_t created;
    int format_version;
    int schema_version;
    uint32_t page_size;
    uint64_t file_size;
    uint64_t page_count;
    int unlocked_slot;
    vault_slot_info slots[KEYSLOT_COUNT];
} vault_info;

/* Describe the vault; no secrets. OUT: info. */
int vault_get_info(vault *v, vault_info *info, ev_err *e);

/*
 * Replace the passphrase of the keyslot that unlocked v. The new slot is
 * written to a free slot before the old one is erased, so a crash leaves
 * the old or the new passphrase working. kdf NULL keeps the slot's cost.
 */
int vault_passwd(vault *v, const char *pass, size_t passlen,
                 const kdf_params *kdf, ev_err *e);

/* Add a passphrase keyslot. label may be NULL. OUT: *index. */
int vault_slot_add_passphrase(vault *v, const char *pass, size_t passlen,
                              const kdf_params *kdf, const char *label,
                              int *index, ev_err *e);

/*
 * Add a recovery keyslot with a fresh code. OUT: code (RECOVERY_TEXTLEN+1
 * bytes, the only copy: show it once, then wipe it), *index.
 */
int vault_slot_add_recovery(vault *v, const char *label, char *code,
                            int *index, ev_err *e);

/* Erase keyslot index. Refuses to erase the last one in use. */
int vault_slot_remove(vault *v, int index, ev_err *e);

/*
 * Crypto-erase the vault at path without unlocking it: overwrite all eight
 * keyslots with random bytes and fsync, so no passphrase or code can ever
 * open it again. Also removes a leftover journal. Takes milliseconds.
 */
int vault_shred(const char *path, ev_err *e);

typedef struct vault_check_result {
    uint64_t pages;
    uint64_t bad_pages;
    uint32_t first_bad_page;
    int integrity_ok;
    char integrity_msg[256]; /* first message of integrity_check if not ok */
    int keyslots_ok;
    char keyslot_msg[256];
} vault_check_result;

/*
 * Full read of the container: authenticate every page, run PRAGMA
 * integrity_check, and compare the keyslot region with what the vault last
 * wrote. OUT: r. Returns 0 when the checks ran (look at r), EV_ERR_* when
 * they could not.
 */
int vault_check(vault *v, vault_check_result *r, vfs_progress_fn progress,
                void *arg, ev_err *e);

/* What vault_check_ex does besides vault_check's checks. */
typedef struct vault_check_opts {
    vfs_progress_fn progress; /* page pass progress (may be NULL) */
    void *arg;
    /* Run first, inside the check's read transaction (one snapshot for
     * everything): the pages it reads are authenticated once, and the page
     * pass then skips them. Returns 0 or EV_ERR_*. May be NULL. */
    int (*content)(vault *v, void *arg, ev_err *e);
    void *content_arg;
    /* A table whose every row content walks (through its b-tree and
     * overflow pages): integrity_check then checks every other table one
     * by one instead of reading that one's pages a second time. */
    const char *walked_table;
} vault_check_opts;

/* vault_check with a content pass (verify). OUT: r. */
int vault_check_ex(vault *v, vault_check_result *r,
                   const vault_check_opts *o, ev_err *e);

#endif
