/*
 * vfs: the encrypting SQLite VFS shim under every vault connection.
 *
 * One instance is registered per unlocked vault (name "evault-<n>"), holding
 * that vault's page and journal keys; it wraps a base VFS ("unix", or a
 * fault-injecting VFS in tests). The main database file starts after the
 * 4096-byte keyslot region; each page is encrypted with XChaCha20-Poly1305,
 * nonce and tag in the page's 40 reserved bytes. The rollback journal is an
 * append-only log of encrypted records. Every other file kind (WAL, temp
 * files, super-journals) is refused. See docs/FORMAT.md.
 */
#ifndef EV_VFS_H
#define EV_VFS_H

#include <sqlite3.h>
#include <stdint.h>

#define VFS_HEADER_SIZE 4096 /* keyslot region before page 1 */
#define VFS_RESERVE 40       /* nonce (24) + tag (16) per page */

typedef struct vfs_ctx vfs_ctx;

/*
 * Register a new VFS instance for one vault. master_key (32 bytes) and
 * vault_id (16 bytes) are copied into guarded memory; page_size is the
 * vault's fixed page size; base_vfs names the VFS to wrap (NULL: the
 * default). OUT: *out. Returns 0, or a negative EV_ERR_* code.
 */
int vfs_new(vfs_ctx **out, const uint8_t *master_key, const uint8_t *vault_id,
            uint32_t page_size, const char *base_vfs);

/* Unregister and wipe. Accepts NULL. Close every connection first. */
void vfs_free(vfs_ctx *c);

/* The name to pass to sqlite3_open_v2. */
const char *vfs_name(const vfs_ctx *c);

/* Number of the last page that failed authentication (1-based), or 0. */
uint32_t vfs_bad_page(const vfs_ctx *c);
void vfs_bad_page_reset(vfs_ctx *c);

/*
 * Read the keyslot region through the connection's own file handle (so that
 * SQLite's POSIX locks are never dropped by a second descriptor). OUT: region
 * (VFS_HEADER_SIZE bytes). Returns an SQLite result code.
 */
int vfs_header_read(sqlite3 *db, uint8_t *region);

/* Write one 512-byte keyslot at index and fsync. Returns an SQLite code. */
int vfs_header_write(sqlite3 *db, int index, const uint8_t *slot);

/* Progress callback for vfs_check_pages: return non-zero to stop. */
typedef int (*vfs_progress_fn)(void *arg, uint64_t done, uint64_t total);

typedef struct vfs_check {
    uint64_t pages;     /* OUT: pages read */
    uint64_t bad;       /* OUT: pages that failed authentication */
    uint32_t first_bad; /* OUT: first bad page number, 0 if none */
    vfs_progress_fn progress;
    void *arg;
} vfs_check;

/*
 * Read and authenticate every page of the main database (free pages too).
 * Call inside a read transaction. OUT: chk counts. Returns an SQLite code;
 * SQLITE_OK even when pages are bad (see chk->bad).
 */
int vfs_check_pages(sqlite3 *db, vfs_check *chk);

/*
 * Remember which main-database pages (of a file of file_bytes) authenticate
 * from now on, so that a later vfs_check_pages in the same read transaction
 * counts them without reading them again: verify reads most pages once,
 * through the check that needs them. Returns -1 when out of memory.
 */
int vfs_seen_start(vfs_ctx *c, uint64_t file_bytes);

/* Stop and forget (accepts a context that never started). */
void vfs_seen_stop(vfs_ctx *c);

/*
 * 1 if SQLite rolled back a hot journal through this VFS since the last
 * call (it opens an existing journal with records for writing only to roll
 * it back), then reset.
 */
int vfs_take_recovered(vfs_ctx *c);

/*
 * After a hot journal was rolled back: free-list leaf pages that fail
 * authentication (SQLite reuses them without journaling, so a crash can
 * tear them; they hold no data) get a fresh encryption of zeros. Trunk
 * pages must authenticate. Call inside BEGIN IMMEDIATE. OUT: *count, pages
 * rewritten. Returns an SQLite code.
 */
int vfs_launder_free(sqlite3 *db, uint64_t *count);

#endif
