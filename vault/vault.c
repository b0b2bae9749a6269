/*
 * vault: create, unlock and manage a vault container.
 *
 * Layout of this file:
 *   1. struct vault and small helpers (SQLite error mapping, connection
 *      setup);
 *   2. unlocking: reading the keyslot region and trying a secret on it;
 *   3. keyslot changes, crash-safe through the keyslot_state table: the new
 *      slot images are first committed as "pending" inside the encrypted
 *      database, then written to the region, then marked committed. Opening
 *      a vault finishes an interrupted change and detects any slot that
 *      differs from what evault wrote (tampering);
 *   4. create, open, info, check, shred.
 */
#define _GNU_SOURCE
#include "vault.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../crypto/kdf.h"
#include "../crypto/recovery.h"
#include "custody.h"
#include "identity.h"
#include "schema.h"

struct vault {
    char *path;
    sqlite3 *db;
    vfs_ctx *vfs;
    keyslot_secret *secret; /* sodium_malloc'd */
    uint8_t *meta_key;      /* sodium_malloc'd */
    int slot;               /* keyslot that unlocked */
    identity *ident;        /* loaded by identity_setup */
};

/* Keys in guarded memory for the duration of one operation. */
struct keys {
    keyslot_secret secret;
    uint8_t meta_key[32];
    uint8_t wrap[32];
    uint8_t code[RECOVERY_BYTES];
};

/* ---- helpers ---------------------------------------------------------- */

int vault_sqlerr(vault *v, int sqlrc, const char *what, ev_err *e)
{
    uint32_t bad = v && v->vfs ? vfs_bad_page(v->vfs) : 0;
    const char *path = v ? v->path : "?";
    const char *msg = v && v->db ? sqlite3_errmsg(v->db) : sqlite3_errstr(sqlrc);

    if (bad)
        vfs_bad_page_reset(v->vfs); /* reported once, here */
    if (!bad && sqlrc == SQLITE_IOERR_DATA)
        return err_set(e, EV_ERR_INTEGRITY,
                       "the rollback journal of '%s' failed authentication "
                       "while %s: it is damaged or was tampered with",
                       path, what);
    if (bad)
        return err_set(e, EV_ERR_INTEGRITY,
                       "page %u of '%s' failed authentication while %s: the "
                       "vault is damaged or was tampered with",
                       (unsigned)bad, path, what);
    switch (sqlrc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return err_set(e, EV_ERR_INTEGRITY,
                       "the database in '%s' is damaged (%s) while %s", path,
                       msg, what);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return err_set(e, EV_ERR_BUSY,
                       "'%s' is busy in another process (%s): try again",
                       path, what);
    case SQLITE_NOMEM:
        return err_set(e, EV_ERR_NOMEM, "out of memory while %s", what);
    case SQLITE_CONSTRAINT:
    case SQLITE_ERROR:
        return err_set(e, EV_ERR_INVALID, "%s: %s", what, msg);
    default:
        return err_set(e, EV_ERR_IO, "cannot finish %s on '%s': %s", what,
                       path, msg);
    }
}

static int exec(vault *v, const char *sql, const char *what, ev_err *e)
{
    int rc = sqlite3_exec(v->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : vault_sqlerr(v, rc, what, e);
}

static void rollback(vault *v)
{
    if (v->db && !sqlite3_get_autocommit(v->db))
        sqlite3_exec(v->db, "ROLLBACK", NULL, NULL, NULL);
}

static void keys_free(struct keys *k)
{
    sodium_free(k);
}

static struct keys *keys_new(void)
{
    struct keys *k = sodium_malloc(sizeof *k);
    if (k)
        sodium_memzero(k, sizeof *k);
    return k;
}

/*
 * Authorizer: ATTACH would open another file with this vault's keys. Only
 * the nameless in-memory database that VACUUM attaches is allowed.
 */
static int authorize(void *arg, int action, const char *a1, const char *a2,
                     const char *a3, const char *a4)
{
    (void)arg, (void)a2, (void)a3, (void)a4;
    if (action == SQLITE_ATTACH && !(a1 && a1[0] == '\0'))
        return SQLITE_DENY;
    return SQLITE_OK;
}

/*
 * Busy handler: SQLite's default backs off up to 100 ms between tries, while
 * a busy writer frees the lock for microseconds between commits, so a second
 * process could wait out the first one's whole run. Retry every 0.5-2 ms,
 * with jitter, until VAULT_BUSY_MS have passed.
 */
static int busy_wait(void *arg, int tries)
{
    struct timespec ts = {0, (long)(500 + randombytes_uniform(1500)) * 1000};
    (void)arg;
    if ((long long)tries * 1250 >= (long long)VAULT_BUSY_MS * 1000)
        return 0;
    nanosleep(&ts, NULL);
    return 1;
}

/* SQLite cache sizes (negative: KiB), see db_connect and
 * vault_stream_cache */
#define CACHE_NORMAL "-32768"
#define CACHE_STREAM "-2048"

/* What every connection refuses: writes to the schema by SQL, extensions,
 * and two-argument fts3_tokenizer() (which would let SQL plant a pointer). */
static void harden(sqlite3 *db)
{
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, NULL);
}

/* Open the database through v->vfs and apply evault's connection policy. */
static int db_connect(vault *v, int create, ev_err *e)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW |
                SQLITE_OPEN_EXRESCODE | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(v->path, &v->db, flags, vfs_name(v->vfs));

    if (rc != SQLITE_OK)
        return vault_sqlerr(v, rc, "opening the database", e);
    sqlite3_extended_result_codes(v->db, 1);
    sqlite3_busy_handler(v->db, busy_wait, NULL);
    sqlite3_limit(v->db, SQLITE_LIMIT_ATTACHED, 1); /* VACUUM needs one */
    sqlite3_set_authorizer(v->db, authorize, NULL);
    harden(v->db);
    /* The schema's triggers keep the FTS5 index, which SQLite allows only
     * with a trusted schema. It is: every page is authenticated, so only a
     * holder of the vault's key can have written it. */
    sqlite3_db_config(v->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 1, NULL);
    /* temp_store first: nothing may ever spill plaintext to a temp file.
     * cache_size: a page missing from SQLite's cache costs a read and a
     * decryption of the whole page (16 KiB), not a copy out of the kernel's
     * page cache as for a plain file, so keep up to 32 MiB of pages. */
    return exec(v,
                "PRAGMA temp_store=MEMORY;"
                "PRAGMA journal_mode=DELETE;"
                "PRAGMA synchronous=FULL;"
                "PRAGMA secure_delete=ON;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA cache_size=" CACHE_NORMAL ";",
                "setting up the connection", e);
}

int vault_stream_cache(vault *v, int streaming)
{
    return sqlite3_exec(v->db,
                        streaming ? "PRAGMA cache_size=" CACHE_STREAM
                                  : "PRAGMA cache_size=" CACHE_NORMAL,
                        NULL, NULL, NULL);
}

int vault_page_size_ok(uint32_t P)
{
    return P >= 1024 && P <= 65536 && (P & (P - 1)) == 0;
}

int vault_reader_open(vault *v, sqlite3 **out)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(v->path, &db,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW |
                                 SQLITE_OPEN_EXRESCODE,
                             vfs_name(v->vfs));

    *out = NULL;
    if (rc == SQLITE_OK) {
        harden(db);
        rc = sqlite3_exec(db,
                          "PRAGMA temp_store=MEMORY;"
                          "PRAGMA query_only=ON;"
                          "PRAGMA cache_size=" CACHE_STREAM ";"
                          "BEGIN; SELECT count(*) FROM sqlite_schema;",
                          NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        sqlite3_close(db);
        return rc;
    }
    *out = db;
    return SQLITE_OK;
}

void vault_reader_close(sqlite3 *db)
{
    if (db) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(db);
    }
}

static int fsync_dir_of(const char *path)
{
    char *copy = strdup(path);
    int fd, rc = -1;

    if (!copy)
        return -1;
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        rc = fsync(fd);
        close(fd);
    }
    free(copy);
    return rc;
}

/* ---- unlocking -------------------------------------------------------- */

/*
 * Read the keyslot region with a short-lived descriptor. Only called before
 * this process opens the vault with SQLite, so closing it drops no lock.
 */
static int region_read_file(const char *path, uint8_t *region, ev_err *e)
{
    struct stat st;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0)
        return err_set(e, errno == ENOENT ? EV_ERR_NOTFOUND : EV_ERR_IO,
                       "cannot open '%s': %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(e, EV_ERR_UNLOCK,
                       "cannot unlock '%s': not a regular file", path);
    }
    n = pread(fd, region, KEYSLOT_REGION, 0);
    close(fd);
    if (n != KEYSLOT_REGION || st.st_size < KEYSLOT_REGION)
        return err_set(e, EV_ERR_UNLOCK,
                       "cannot unlock '%s': too short to be an evault file",
                       path);
    return 0;
}

/*
 * Try secret on every slot: as a recovery code on all slots (cheap), then as
 * a passphrase on slots whose Argon2id parameters are plausible. OUT:
 * k->secret, *slot. Returns 0 or EV_ERR_UNLOCK.
 */
static int region_unlock(const uint8_t *region, const char *secret,
                         size_t len, struct keys *k, int *slot)
{
    uint8_t salt[KDF_SALTBYTES];
    kdf_params p;

    if (recovery_parse(k->code, secret, len) == 0) {
        for (int i = 0; i < KEYSLOT_COUNT; i++) {
            const uint8_t *s = region + i * KEYSLOT_SIZE;
            keyslot_kdf(s, salt, &p);
            kdf_recovery(k->wrap, k->code, RECOVERY_BYTES, salt);
            if (keyslot_open(&k->secret, s, k->wrap) == 0) {
                *slot = i;
                return 0;
            }
        }
    }
    for (int i = 0; i < KEYSLOT_COUNT; i++) {
        const uint8_t *s = region + i * KEYSLOT_SIZE;
        keyslot_kdf(s, salt, &p);
        if (!kdf_params_valid(&p))
            continue;
        if (kdf_passphrase(k->wrap, secret, len, salt, &p) != 0)
            continue;
        if (keyslot_open(&k->secret, s, k->wrap) == 0) {
            *slot = i;
            return 0;
        }
    }
    return EV_ERR_UNLOCK;
}

/* ---- keyslot changes -------------------------------------------------- */

static int slot_meta(vault *v, const uint8_t *slot, int index,
                     keyslot_meta *m)
{
    return keyslot_meta_read(m, slot, index, v->meta_key);
}

/* Read the region through SQLite's handle. OUT: region. */
static int region_read_db(vault *v, uint8_t *region, ev_err *e)
{
    int rc = vfs_header_read(v->db, region);
    return rc == SQLITE_OK ? 0 : vault_sqlerr(v, rc, "reading keyslots", e);
}

/*
 * Write slots from images to the region: those in add_mask first, then
 * those in erase_mask, so that a crash never leaves fewer working slots
 * than before and after; each write is followed by an fsync.
 */
static int region_write(vault *v, const uint8_t *images, unsigned add_mask,
                        unsigned erase_mask, ev_err *e)
{
    for (int pass = 0; pass < 2; pass++) {
        unsigned mask = pass == 0 ? add_mask : erase_mask;
        for (int i = 0; i < KEYSLOT_COUNT; i++) {
            int rc;
            if (!(mask & (1u << i)))
                continue;
            rc = vfs_header_write(v->db, i, images + i * KEYSLOT_SIZE);
            if (rc != SQLITE_OK)
                return vault_sqlerr(v, rc, "writing a keyslot", e);
        }
    }
    return 0;
}

/* What keyslot_state holds: committed images, pending ones, and masks. */
struct slot_state {
    uint8_t committed[KEYSLOT_REGION];
    uint8_t pending[KEYSLOT_REGION];
    unsigned seen, pend;
};

/*
 * Inside a transaction: read keyslot_state, then the region (the read of
 * the table takes SQLite's lock first, so the region is read under it).
 * OUT: s, region.
 */
static int slots_load(vault *v, struct slot_state *s, uint8_t *region,
                      ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc;

    s->seen = s->pend = 0;
    rc = sqlite3_prepare_v2(v->db,
                            "SELECT slot, committed, pending FROM "
                            "keyslot_state",
                            -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    for (; rc == SQLITE_ROW; rc = sqlite3_step(st)) {
        int i = sqlite3_column_int(st, 0);
        const void *com = sqlite3_column_blob(st, 1);
        const void *pen = sqlite3_column_blob(st, 2);
        if (i < 0 || i >= KEYSLOT_COUNT || !com ||
            sqlite3_column_bytes(st, 1) != KEYSLOT_SIZE)
            continue;
        s->seen |= 1u << i;
        memcpy(s->committed + i * KEYSLOT_SIZE, com, KEYSLOT_SIZE);
        if (pen && sqlite3_column_bytes(st, 2) == KEYSLOT_SIZE) {
            s->pend |= 1u << i;
            memcpy(s->pending + i * KEYSLOT_SIZE, pen, KEYSLOT_SIZE);
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vault_sqlerr(v, rc, "reading keyslot records", e);
    return region_read_db(v, region, e);
}

/*
 * Compare the region with s: slots equal to their committed image are
 * fine; slots with a pending image are an interrupted change (left to the
 * caller); anything else was changed outside evault. OUT: msg (first
 * problem, empty if none).
 */
static void slots_compare(vault *v, const struct slot_state *s,
                          const uint8_t *region, char *msg, size_t msglen)
{
    msg[0] = '\0';
    if (s->seen != (1u << KEYSLOT_COUNT) - 1) {
        snprintf(msg, msglen, "the keyslot records of '%s' are incomplete",
                 v->path);
        return;
    }
    for (int i = 0; i < KEYSLOT_COUNT; i++) {
        if (s->pend & (1u << i))
            continue;
        if (sodium_memcmp(region + i * KEYSLOT_SIZE,
                          s->committed + i * KEYSLOT_SIZE,
                          KEYSLOT_SIZE) != 0) {
            snprintf(msg, msglen,
                     "keyslot %d of '%s' was changed outside evault", i,
                     v->path);
            return;
        }
    }
}

/* Write pending images to the region and mark them committed. */
static int slots_finish(vault *v, const struct slot_state *s, ev_err *e)
{
    unsigned add = 0, erase = 0;
    int rc;

    for (int i = 0; i < KEYSLOT_COUNT; i++) {
        keyslot_meta m;
        if (!(s->pend & (1u << i)))
            continue;
        if (slot_meta(v, s->pending + i * KEYSLOT_SIZE, i, &m) == 0)
            add |= 1u << i;
        else
            erase |= 1u << i;
    }
    rc = region_write(v, s->pending, add, erase, e);
    if (rc == 0)
        rc = exec(v,
                  "UPDATE keyslot_state SET committed=pending, pending=NULL "
                  "WHERE pending IS NOT NULL",
                  "committing keyslots", e);
    return rc;
}

/*
 * Check the region against keyslot_state; with repair, finish an
 * interrupted change. OUT: msg (tampering found, empty if none).
 */
static int slots_verify(vault *v, int repair, char *msg, size_t msglen,
                        ev_err *e)
{
    uint8_t region[KEYSLOT_REGION];
    struct slot_state *s = sodium_malloc(sizeof *s);
    int rc;

    if (!s)
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    rc = exec(v, "BEGIN", "checking keyslots", e);
    if (rc == 0)
        rc = slots_load(v, s, region, e);
    rollback(v);
    if (rc == 0)
        slots_compare(v, s, region, msg, msglen);
    if (rc == 0 && !msg[0] && s->pend && repair)
        rc = slots_finish(v, s, e);
    sodium_free(s);
    return rc;
}

/*
 * A keyslot change, decided under the write lock by build(): it edits the
 * region image (the current slots) and says which slots it filled (add)
 * and which it erased (erase). Steps: (1) under BEGIN IMMEDIATE, check the
 * region is as evault left it and commit the new images as pending;
 * (2) write them to the region, added slots first; (3) mark them
 * committed. A crash after (1) is finished by the next open.
 */
typedef int (*slots_build_fn)(vault *v, uint8_t *region, void *ctx,
                              unsigned *add, unsigned *erase, ev_err *e);

static int slots_change(vault *v, slots_build_fn build, void *ctx,
                        ev_err *e)
{
    uint8_t region[KEYSLOT_REGION];
    struct slot_state *s = sodium_malloc(sizeof *s);
    sqlite3_stmt *st = NULL;
    unsigned add = 0, erase = 0;
    char msg[256];
    int rc;

    if (!s)
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    rc = exec(v, "BEGIN IMMEDIATE", "starting a keyslot change", e);
    if (rc != 0)
        goto out;
    rc = slots_load(v, s, region, e);
    if (rc != 0)
        goto fail;
    slots_compare(v, s, region, msg, sizeof msg);
    if (msg[0]) {
        rc = err_set(e, EV_ERR_INTEGRITY, "%s", msg);
        goto fail;
    }
    if (s->pend) {
        /* Another process's change (or one a crash interrupted) is between
         * its steps: finish it here, under our lock; it writes the same
         * bytes if it is still running. */
        rc = slots_finish(v, s, e);
        if (rc == 0)
            rc = region_read_db(v, region, e);
        if (rc != 0)
            goto fail;
        s->pend = 0;
    }
    rc = build(v, region, ctx, &add, &erase, e);
    if (rc != 0)
        goto fail;
    if (sqlite3_prepare_v2(v->db,
                           "UPDATE keyslot_state SET pending=?2 WHERE slot=?1",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = vault_sqlerr(v, sqlite3_errcode(v->db), "saving keyslots", e);
        goto fail;
    }
    for (int i = 0; i < KEYSLOT_COUNT; i++) {
        if (!((add | erase) & (1u << i)))
            continue;
        sqlite3_bind_int(st, 1, i);
        sqlite3_bind_blob(st, 2, region + i * KEYSLOT_SIZE, KEYSLOT_SIZE,
                          SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = vault_sqlerr(v, sqlite3_errcode(v->db), "saving keyslots",
                              e);
            goto fail;
        }
        sqlite3_reset(st);
        s->pend |= 1u << i;
        memcpy(s->pending + i * KEYSLOT_SIZE, region + i * KEYSLOT_SIZE,
               KEYSLOT_SIZE);
    }
    sqlite3_finalize(st);
    st = NULL;
    {
        char detail[96], vid[33];
        int n = snprintf(detail, sizeof detail, "keyslots");
        for (int i = 0; i < KEYSLOT_COUNT; i++)
            if ((add | erase) & (1u << i))
                n += snprintf(detail + n, sizeof detail - (size_t)n, " %d %s",
                              i, (erase & (1u << i)) && !(add & (1u << i))
                                     ? "erased"
                                     : "written");
        vault_id_hex(v, vid);
        rc = custody_append(v, "change", "keyslot", vid, detail, e);
        if (rc != 0)
            goto fail;
    }
    rc = exec(v, "COMMIT", "saving keyslots", e);
    if (rc != 0)
        goto fail;
    rc = slots_finish(v, s, e); /* on failure the next open finishes it */
    goto out;
fail:
    sqlite3_finalize(st);
    rollback(v);
out:
    sodium_memzero(region, sizeof region);
    sodium_free(s);
    return rc;
}

/* Find a free slot in region. Returns its index or -1. */
static int free_slot(vault *v, const uint8_t *region)
{
    for (int i = 0; i < KEYSLOT_COUNT; i++) {
        keyslot_meta m;
        if (slot_meta(v, region + i * KEYSLOT_SIZE, i, &m) != 0)
            return i;
    }
    return -1;
}

/* A new slot's key material, derived before the lock is taken. */
struct new_slot {
    struct keys *k; /* k->wrap: the wrap key; k->code: a recovery code */
    uint8_t salt[KDF_SALTBYTES];
    kdf_params kdf;
    keyslot_meta meta;
    int erase;       /* slot to erase in the same change (passwd), or -1 */
    int index;       /* OUT: slot written */
};

static int new_slot_init(struct new_slot *n, int type, const char *label,
                         ev_err *e)
{
    memset(n, 0, sizeof *n);
    n->k = sodium_malloc(sizeof *n->k);
    if (!n->k)
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    sodium_memzero(n->k, sizeof *n->k);
    randombytes_buf(n->salt, sizeof n->salt);
    n->meta.type = type;
    n->meta.created = (uint64_t)time(NULL);
    snprintf(n->meta.label, sizeof n->meta.label, "%s", label);
    n->erase = -1;
    n->index = -1;
    return 0;
}

/* Derive the wrap key of a passphrase slot (the slow Argon2id step). */
static int new_slot_passphrase(struct new_slot *n, const char *pass,
                               size_t len, const kdf_params *p, ev_err *e)
{
    if (!kdf_params_valid(p))
        return err_set(e, EV_ERR_INVALID, "invalid key derivation cost");
    n->kdf = *p;
    if (kdf_passphrase(n->k->wrap, pass, len, n->salt, p) != 0)
        return err_set(e, EV_ERR_NOMEM,
                       "not enough memory for the key derivation");
    return 0;
}

static int build_add(vault *v, uint8_t *region, void *ctx, unsigned *add,
                     unsigned *erase, ev_err *e)
{
    struct new_slot *n = ctx;
    int i = free_slot(v, region);

    if (i < 0)
        return err_set(e, EV_ERR_REFUSED,
                       n->erase >= 0
                           ? "all %d keyslots of '%s' are in use: changing a "
                             "passphrase safely needs one free; remove one "
                             "first"
                           : "all %d keyslots of '%s' are in use: remove one "
                             "first",
                       KEYSLOT_COUNT, v->path);
    if (keyslot_seal(region + i * KEYSLOT_SIZE, i, n->k->wrap, n->salt,
                     n->meta.type == KEYSLOT_PASSPHRASE ? &n->kdf : NULL,
                     v->secret, &n->meta, v->meta_key) != 0)
        return err_set(e, EV_ERR_INTERNAL, "cannot seal keyslot");
    *add = 1u << i;
    if (n->erase >= 0) {
        keyslot_clear(region + n->erase * KEYSLOT_SIZE);
        *erase = 1u << n->erase;
    }
    n->index = i;
    return 0;
}

static void new_slot_clear(struct new_slot *n)
{
    sodium_free(n->k);
    n->k = NULL;
}

int vault_slot_add_passphrase(vault *v, const char *pass, size_t passlen,
                              const kdf_params *kdf, const char *label,
                              int *index, ev_err *e)
{
    struct new_slot n;
    int rc = new_slot_init(&n, KEYSLOT_PASSPHRASE,
                           label ? label : "passphrase", e);

    if (rc == 0)
        rc = new_slot_passphrase(&n, pass, passlen, kdf, e);
    if (rc == 0)
        rc = slots_change(v, build_add, &n, e);
    if (rc == 0 && index)
        *index = n.index;
    new_slot_clear(&n);
    return rc;
}

int vault_slot_add_recovery(vault *v, const char *label, char *code,
                            int *index, ev_err *e)
{
    struct new_slot n;
    int rc = new_slot_init(&n, KEYSLOT_RECOVERY,
                           label ? label : "recovery code", e);

    if (rc == 0) {
        recovery_generate(n.k->code);
        kdf_recovery(n.k->wrap, n.k->code, RECOVERY_BYTES, n.salt);
        rc = slots_change(v, build_add, &n, e);
    }
    if (rc == 0) {
        recovery_format(code, n.k->code);
        if (index)
            *index = n.index;
    }
    new_slot_clear(&n);
    return rc;
}

static int build_remove(vault *v, uint8_t *region, void *ctx, unsigned *add,
                        unsigned *erase, ev_err *e)
{
    int index = *(int *)ctx, used = 0;
    keyslot_meta m;

    (void)add;
    for (int i = 0; i < KEYSLOT_COUNT; i++)
        if (slot_meta(v, region + i * KEYSLOT_SIZE, i, &m) == 0)
            used++;
    if (slot_meta(v, region + index * KEYSLOT_SIZE, index, &m) != 0)
        return err_set(e, EV_ERR_NOTFOUND, "keyslot %d of '%s' is empty",
                       index, v->path);
    if (used <= 1)
        return err_set(e, EV_ERR_REFUSED,
                       "keyslot %d is the last one of '%s': removing it "
                       "would lock the vault for ever; add another first",
                       index, v->path);
    keyslot_clear(region + index * KEYSLOT_SIZE);
    *erase = 1u << index;
    return 0;
}

int vault_slot_remove(vault *v, int index, ev_err *e)
{
    if (index < 0 || index >= KEYSLOT_COUNT)
        return err_set(e, EV_ERR_INVALID,
                       "no keyslot %d: slots are numbered 0 to %d", index,
                       KEYSLOT_COUNT - 1);
    return slots_change(v, build_remove, &index, e);
}

int vault_passwd(vault *v, const char *pass, size_t passlen,
                 const kdf_params *kdf, ev_err *e)
{
    uint8_t region[KEYSLOT_REGION], salt[KDF_SALTBYTES];
    struct new_slot n;
    keyslot_meta m;
    kdf_params p;
    int old = v->slot, rc = region_read_db(v, region, e);

    if (rc != 0)
        return rc;
    if (slot_meta(v, region + old * KEYSLOT_SIZE, old, &m) != 0 ||
        m.type != KEYSLOT_PASSPHRASE)
        return err_set(e, EV_ERR_REFUSED,
                       "'%s' was unlocked with a recovery code, which has no "
                       "passphrase to change: use 'evault keyslot add'",
                       v->path);
    keyslot_kdf(region + old * KEYSLOT_SIZE, salt, &p);
    rc = new_slot_init(&n, KEYSLOT_PASSPHRASE, m.label, e);
    if (rc == 0)
        rc = new_slot_passphrase(&n, pass, passlen, kdf ? kdf : &p, e);
    n.erase = old;
    if (rc == 0)
        rc = slots_change(v, build_add, &n, e);
    if (rc == 0)
        v->slot = n.index;
    new_slot_clear(&n);
    return rc;
}

/* ---- create / open / close -------------------------------------------- */

static vault *vault_alloc(const char *path)
{
    vault *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->path = strdup(path);
    v->secret = sodium_malloc(sizeof *v->secret);
    v->meta_key = sodium_malloc(32);
    if (!v->path || !v->secret || !v->meta_key) {
        vault_close(v);
        return NULL;
    }
    /* sodium_malloc fills with 0xdb: reserved fields must be zero */
    sodium_memzero(v->secret, sizeof *v->secret);
    return v;
}

void vault_close(vault *v)
{
    if (!v)
        return;
    if (v->db)
        sqlite3_close_v2(v->db);
    vfs_free(v->vfs);
    if (v->secret)
        sodium_memzero(v->secret, sizeof *v->secret);
    sodium_free(v->secret);
    sodium_free(v->meta_key);
    identity_free(v->ident);
    free(v->path);
    free(v);
}

sqlite3 *vault_db(vault *v)
{
    return v->db;
}

const char *vault_path(const vault *v)
{
    return v->path;
}

void vault_id_hex(const vault *v, char out[33])
{
    sodium_bin2hex(out, 33, v->secret->vault_id, VAULT_IDBYTES);
}

identity *vault_identity(vault *v)
{
    return v->ident;
}

void vault_set_identity(vault *v, identity *id)
{
    identity_free(v->ident);
    v->ident = id;
}

/* Insert the initial keyslot images and vault metadata. */
static int create_records(vault *v, const uint8_t *region, const char *name,
                          ev_err *e)
{
    sqlite3_stmt *st = NULL;
    char created[32];
    int rc;

    rc = exec(v, "BEGIN IMMEDIATE", "creating the vault", e);
    if (rc != 0)
        return rc;
    rc = sqlite3_prepare_v2(v->db,
                            "INSERT INTO keyslot_state(slot, committed) "
                            "VALUES (?1, ?2)",
                            -1, &st, NULL);
    for (int i = 0; rc == SQLITE_OK && i < KEYSLOT_COUNT; i++) {
        sqlite3_bind_int(st, 1, i);
        sqlite3_bind_blob(st, 2, region + i * KEYSLOT_SIZE, KEYSLOT_SIZE,
                          SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK
                                             : sqlite3_errcode(v->db);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    st = NULL;
    snprintf(created, sizeof created, "%llu",
             (unsigned long long)v->secret->created);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(v->db,
                                "INSERT INTO vault_meta(key, value) VALUES "
                                "('name', ?1), ('created', ?2)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name ? name : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, created, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK
                                             : sqlite3_errcode(v->db);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        rc = vault_sqlerr(v, rc, "creating the vault", e);
        rollback(v);
        return rc;
    }
    return exec(v, "COMMIT", "creating the vault", e);
}

int vault_create(const char *path, const char *pass, size_t passlen,
                 const kdf_params *kdf, const char *name,
                 const vault_open_opts *o, char *id_out, ev_err *e)
{
    uint8_t region[KEYSLOT_REGION];
    char *tmp = NULL, *tmpj = NULL, suffix[17];
    uint8_t rnd[8];
    struct stat st;
    vault *v = NULL;
    int fd = -1, rc = EV_ERR_INTERNAL, reserve = VFS_RESERVE;

    if (lstat(path, &st) == 0 || errno != ENOENT)
        return err_set(e, EV_ERR_EXISTS,
                       "'%s' already exists: evault never overwrites a file; "
                       "choose another name",
                       path);
    if (name && strlen(name) > VAULT_NAMEMAX)
        return err_set(e, EV_ERR_INVALID,
                       "organisation name is longer than %d bytes",
                       VAULT_NAMEMAX);
    if (o && o->page_size && !vault_page_size_ok(o->page_size))
        return err_set(e, EV_ERR_INVALID,
                       "a page size must be a power of two from 1024 to "
                       "65536, not %u",
                       (unsigned)o->page_size);
    v = vault_alloc(path);
    if (!v)
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    v->secret->version = VAULT_FORMAT_VERSION;
    v->secret->page_size = o && o->page_size ? o->page_size : VAULT_PAGE_SIZE;
    randombytes_buf(v->secret->vault_id, VAULT_IDBYTES);
    crypto_kdf_keygen(v->secret->master_key);
    v->secret->created = (uint64_t)time(NULL);
    kdf_subkey(v->meta_key, KDF_SUB_SLOTMETA, v->secret->master_key);
    for (int i = 0; i < KEYSLOT_COUNT; i++)
        keyslot_clear(region + i * KEYSLOT_SIZE);
    {
        struct new_slot n;
        unsigned add = 0, erase = 0;
        rc = new_slot_init(&n, KEYSLOT_PASSPHRASE, "initial passphrase", e);
        if (rc == 0)
            rc = new_slot_passphrase(&n, pass, passlen, kdf, e);
        if (rc == 0)
            rc = build_add(v, region, &n, &add, &erase, e);
        new_slot_clear(&n);
        if (rc != 0)
            goto out;
    }

    /* Build the vault under a temporary name, then link it into place: the
     * final name never holds a half-made vault, and link() never replaces. */
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(suffix, sizeof suffix, rnd, sizeof rnd);
    tmp = sqlite3_mprintf("%s.tmp-%s", path, suffix);
    tmpj = sqlite3_mprintf("%s-journal", tmp);
    if (!tmp || !tmpj) {
        rc = err_set(e, EV_ERR_NOMEM, "out of memory");
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = err_set(e, EV_ERR_IO, "cannot create '%s': %s", tmp,
                     strerror(errno));
        goto out;
    }
    if (write(fd, region, sizeof region) != (ssize_t)sizeof region ||
        fsync(fd) != 0) {
        rc = err_set(e, EV_ERR_IO, "cannot write '%s': %s", tmp,
                     strerror(errno));
        goto out;
    }
    close(fd);
    fd = -1;

    free(v->path);
    v->path = strdup(tmp);
    if (!v->path) {
        rc = err_set(e, EV_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = vfs_new(&v->vfs, v->secret->master_key, v->secret->vault_id,
                 v->secret->page_size, o ? o->base_vfs : NULL);
    if (rc != 0) {
        err_set(e, rc, "cannot set up the encrypting file layer");
        goto out;
    }
    rc = db_connect(v, 1, e);
    if (rc != 0)
        goto out;
    {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA page_size=%u;",
                 (unsigned)v->secret->page_size);
        rc = exec(v, sql, "setting the page size", e);
        if (rc != 0)
            goto out;
    }
    sqlite3_file_control(v->db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
    rc = schema_migrate(v->db, e);
    if (rc == 0)
        rc = create_records(v, region, name, e);
    if (rc == 0)
        rc = identity_setup(v, 1, e);
    if (rc != 0)
        goto out;
    sqlite3_close_v2(v->db);
    v->db = NULL;
    if (link(tmp, path) != 0) {
        rc = err_set(e, errno == EEXIST ? EV_ERR_EXISTS : EV_ERR_IO,
                     "cannot create '%s': %s", path, strerror(errno));
        goto out;
    }
    if (id_out)
        sodium_bin2hex(id_out, 33, v->secret->vault_id, VAULT_IDBYTES);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (tmp) {
        unlink(tmp);
        unlink(tmpj);
    }
    if (rc == 0)
        fsync_dir_of(path);
    sqlite3_free(tmp);
    sqlite3_free(tmpj);
    sodium_memzero(region, sizeof region);
    vault_close(v);
    return rc;
}

/* After a crash recovery: see vfs_launder_free. */
static int launder_after_crash(vault *v, ev_err *e)
{
    uint64_t n = 0;
    int rc = exec(v, "BEGIN IMMEDIATE; SELECT count(*) FROM sqlite_schema;",
                  "recovering after a crash", e);
    if (rc != 0)
        return rc;
    rc = vfs_launder_free(v->db, &n);
    if (rc != SQLITE_OK) {
        rc = vault_sqlerr(v, rc, "recovering after a crash", e);
        rollback(v);
        return rc;
    }
    return exec(v, "COMMIT", "recovering after a crash", e);
}

int vault_open(vault **out, const char *path, const char *secret,
               size_t secretlen, const vault_open_opts *o, ev_err *e)
{
    uint8_t region[KEYSLOT_REGION];
    struct keys *k = NULL;
    vault *v = NULL;
    char msg[256] = "";
    int rc, version = 0;

    *out = NULL;
    rc = region_read_file(path, region, e);
    if (rc != 0)
        return rc;
    k = keys_new();
    v = vault_alloc(path);
    if (!k || !v) {
        rc = err_set(e, EV_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (region_unlock(region, secret, secretlen, k, &v->slot) != 0) {
        rc = err_set(e, EV_ERR_UNLOCK,
                     "cannot unlock '%s': wrong passphrase, or not an evault "
                     "file",
                     path);
        goto out;
    }
    *v->secret = k->secret;
    if (v->secret->version != VAULT_FORMAT_VERSION) {
        rc = err_set(e, EV_ERR_REFUSED,
                     "'%s' has container format %u, which this evault does "
                     "not know: upgrade evault",
                     path, (unsigned)v->secret->version);
        goto out;
    }
    if (!vault_page_size_ok(v->secret->page_size)) {
        rc = err_set(e, EV_ERR_INTEGRITY,
                     "'%s' claims a page size of %u bytes, which no vault "
                     "has: it is damaged",
                     path, (unsigned)v->secret->page_size);
        goto out;
    }
    kdf_subkey(v->meta_key, KDF_SUB_SLOTMETA, v->secret->master_key);
    rc = vfs_new(&v->vfs, v->secret->master_key, v->secret->vault_id,
                 v->secret->page_size, o ? o->base_vfs : NULL);
    if (rc != 0) {
        err_set(e, rc, "cannot set up the encrypting file layer for '%s'",
                path);
        goto out;
    }
    rc = db_connect(v, 0, e);
    if (rc != 0)
        goto out;
    rc = schema_version(v->db, &version, e);
    if (rc != 0) {
        rc = vault_sqlerr(v, sqlite3_errcode(v->db), "reading the schema", e);
        goto out;
    }
    if (version == 0) {
        rc = err_set(e, EV_ERR_INTEGRITY,
                     "'%s' unlocked but holds no database: it was truncated "
                     "or damaged",
                     path);
        goto out;
    }
    rc = schema_migrate(v->db, e);
    if (rc != 0)
        goto out;
    /* SQLite rolled back a crash's journal on the first read above */
    if (vfs_take_recovered(v->vfs)) {
        rc = launder_after_crash(v, e);
        if (rc != 0)
            goto out;
    }
    rc = slots_verify(v, 1, msg, sizeof msg, e);
    if (rc != 0)
        goto out;
    if (msg[0]) {
        rc = err_set(e, EV_ERR_INTEGRITY, "%s", msg);
        goto out;
    }
    rc = identity_setup(v, 0, e);
    if (rc != 0)
        goto out;
    *out = v;
    v = NULL;
    rc = 0;
out:
    sodium_memzero(region, sizeof region);
    keys_free(k);
    vault_close(v);
    return rc;
}

/* ---- info, check, shred ----------------------------------------------- */

int vault_get_info(vault *v, vault_info *info, ev_err *e)
{
    uint8_t region[KEYSLOT_REGION];
    sqlite3_stmt *st = NULL;
    sqlite3_int64 size = 0;
    struct stat sb;
    int rc;

    memset(info, 0, sizeof *info);
    memset(&sb, 0, sizeof sb);
    sodium_bin2hex(info->vault_id, sizeof info->vault_id,
                   v->secret->vault_id, VAULT_IDBYTES);
    info->created = v->secret->created;
    info->format_version = v->secret->version;
    info->page_size = v->secret->page_size;
    info->unlocked_slot = v->slot;
    rc = schema_version(v->db, &info->schema_version, e);
    if (rc != 0)
        return rc;
    if (stat(v->path, &sb) == 0)
        info->file_size = (uint64_t)sb.st_size;
    size = sb.st_size > VFS_HEADER_SIZE ? sb.st_size - VFS_HEADER_SIZE : 0;
    info->page_count = (uint64_t)size / info->page_size;
    rc = sqlite3_prepare_v2(v->db,
                            "SELECT value FROM vault_meta WHERE key='name'", -1,
                            &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        snprintf(info->name, sizeof info->name, "%s",
                 (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return vault_sqlerr(v, rc, "reading the vault name", e);
    rc = region_read_db(v, region, e);
    if (rc != 0)
        return rc;
    for (int i = 0; i < KEYSLOT_COUNT; i++) {
        const uint8_t *s = region + i * KEYSLOT_SIZE;
        vault_slot_info *si = &info->slots[i];
        keyslot_meta m;
        uint8_t salt[KDF_SALTBYTES];
        si->index = i;
        if (slot_meta(v, s, i, &m) != 0)
            continue;
        si->type = m.type;
        si->created = m.created;
        memcpy(si->label, m.label, sizeof si->label);
        if (m.type == KEYSLOT_PASSPHRASE)
            keyslot_kdf(s, salt, &si->kdf);
    }
    return 0;
}

/* Run integrity_check (or one integrity_check per table other than skip)
 * and keep its first complaint in r. */
static void run_integrity(vault *v, vault_check_result *r, const char *skip)
{
    sqlite3_stmt *tables = NULL, *st = NULL;
    int rc = SQLITE_OK;

    r->integrity_ok = 1;
    if (skip &&
        sqlite3_prepare_v2(v->db,
                           "SELECT name FROM sqlite_schema WHERE type = "
                           "'table' AND name <> ?1 AND sql NOT LIKE "
                           "'CREATE VIRTUAL%' UNION ALL SELECT "
                           "'sqlite_schema'",
                           -1, &tables, NULL) != SQLITE_OK)
        rc = sqlite3_errcode(v->db);
    if (tables)
        sqlite3_bind_text(tables, 1, skip, -1, SQLITE_STATIC);
    while (rc == SQLITE_OK) {
        char *sql = NULL;
        if (tables) {
            int trc = sqlite3_step(tables);
            if (trc == SQLITE_DONE)
                break;
            if (trc != SQLITE_ROW) {
                rc = trc;
                break;
            }
            sql = sqlite3_mprintf("PRAGMA integrity_check(\"%w\")",
                                  sqlite3_column_text(tables, 0));
        } else {
            sql = sqlite3_mprintf("PRAGMA integrity_check");
        }
        rc = sql ? sqlite3_prepare_v2(v->db, sql, -1, &st, NULL) : SQLITE_NOMEM;
        sqlite3_free(sql);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        for (; rc == SQLITE_ROW; rc = sqlite3_step(st)) {
            const char *m = (const char *)sqlite3_column_text(st, 0);
            if (m && strcmp(m, "ok") != 0 && r->integrity_ok) {
                r->integrity_ok = 0;
                snprintf(r->integrity_msg, sizeof r->integrity_msg, "%s", m);
            }
        }
        sqlite3_finalize(st);
        st = NULL;
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
        if (!tables)
            break;
    }
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
        r->integrity_ok = 0;
        snprintf(r->integrity_msg, sizeof r->integrity_msg, "%s",
                 vfs_bad_page(v->vfs) ? "a page failed authentication"
                                      : sqlite3_errmsg(v->db));
    }
    sqlite3_finalize(tables);
}

int vault_check(vault *v, vault_check_result *r, vfs_progress_fn progress,
                void *arg, ev_err *e)
{
    vault_check_opts o = {progress, arg, NULL, NULL, NULL};
    return vault_check_ex(v, r, &o, e);
}

int vault_check_ex(vault *v, vault_check_result *r,
                   const vault_check_opts *o, ev_err *e)
{
    vfs_check chk;
    struct stat sb;
    int rc;

    memset(r, 0, sizeof *r);
    memset(&chk, 0, sizeof chk);
    chk.progress = o->progress;
    chk.arg = o->arg;
    vfs_bad_page_reset(v->vfs);
    /* another process's crash, recovered through this connection since
     * open, may have left torn free pages: repair them first */
    rc = exec(v, "SELECT count(*) FROM sqlite_schema", "starting the check",
              e);
    if (rc == 0 && vfs_take_recovered(v->vfs))
        rc = launder_after_crash(v, e);
    if (rc != 0)
        return rc;
    rc = exec(v, "BEGIN; SELECT count(*) FROM sqlite_schema;",
              "starting the check", e);
    if (rc != 0)
        return rc;
    if (o->content) {
        if (stat(v->path, &sb) != 0 ||
            vfs_seen_start(v->vfs, (uint64_t)sb.st_size) != 0) {
            rc = err_set(e, EV_ERR_NOMEM, "cannot start the check");
            goto out;
        }
        rc = o->content(v, o->content_arg, e);
        if (rc != 0)
            goto out;
    }
    run_integrity(v, r, o->content ? o->walked_table : NULL);
    rc = vfs_check_pages(v->db, &chk);
    if (rc != SQLITE_OK) {
        rc = vault_sqlerr(v, rc, "reading pages", e);
        goto out;
    }
    r->pages = chk.pages;
    r->bad_pages = chk.bad;
    r->first_bad_page = chk.first_bad;
    vfs_bad_page_reset(v->vfs);
    rollback(v);
    rc = slots_verify(v, 0, r->keyslot_msg, sizeof r->keyslot_msg, e);
    if (rc != 0)
        goto out;
    r->keyslots_ok = r->keyslot_msg[0] == '\0';
    rc = 0;
out:
    vfs_seen_stop(v->vfs);
    rollback(v);
    return rc;
}

/*
 * Every keyslot is salt, nonces, ciphertext and random fill: 512 random
 * bytes hold about 221 distinct byte values (fewer than 150 essentially
 * never happens). Text, SQLite files and most formats fall far below.
 */
static int region_looks_random(const uint8_t *region)
{
    for (int i = 0; i < KEYSLOT_COUNT; i++) {
        uint8_t seen[256] = {0};
        int distinct = 0;
        for (int j = 0; j < KEYSLOT_SIZE; j++) {
            uint8_t b = region[i * KEYSLOT_SIZE + j];
            distinct += !seen[b];
            seen[b] = 1;
        }
        if (distinct < 150)
            return 0;
    }
    return 1;
}

int vault_shred(const char *path, ev_err *e)
{
    uint8_t region[KEYSLOT_REGION];
    struct stat st;
    char *journal;
    int fd, rc = EV_ERR_IO;

    fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, errno == ENOENT ? EV_ERR_NOTFOUND : EV_ERR_IO,
                       "cannot open '%s': %s", path, strerror(errno));
    /* Without the key nothing proves this is a vault; at least refuse what
     * cannot be one: a vault is the keyslot region plus whole pages, of a
     * size (sealed inside the slots) that is a multiple of 1024. */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size < KEYSLOT_REGION + 1024 ||
        (st.st_size - KEYSLOT_REGION) % 1024 != 0) {
        rc = err_set(e, EV_ERR_INVALID,
                     "'%s' is not an evault file (wrong size or not a "
                     "regular file): nothing shredded",
                     path);
        goto out;
    }
    if (pread(fd, region, sizeof region, 0) != (ssize_t)sizeof region ||
        !region_looks_random(region)) {
        rc = err_set(e, EV_ERR_INVALID,
                     "'%s' does not look like an evault file (its first "
                     "4096 bytes are not random): nothing shredded",
                     path);
        goto out;
    }
    randombytes_buf(region, sizeof region);
    if (pwrite(fd, region, sizeof region, 0) != (ssize_t)sizeof region ||
        fsync(fd) != 0) {
        rc = err_set(e, EV_ERR_IO, "cannot overwrite the keyslots of '%s': %s",
                     path, strerror(errno));
        goto out;
    }
    journal = sqlite3_mprintf("%s-journal", path);
    if (journal) {
        unlink(journal);
        sqlite3_free(journal);
    }
    rc = 0;
out:
    close(fd);
    return rc;
}
