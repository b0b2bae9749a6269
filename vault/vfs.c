/*
 * vfs: an encrypting VFS shim, after SQLite's ext/misc/cksumvfs.c.
 *
 * Layout of this file:
 *   1. the per-vault context and the VFS methods (open, delete, ...), which
 *      delegate to the base VFS except xOpen;
 *   2. main database file methods: every page is read whole, authenticated
 *      and decrypted; every write must be one whole page and is encrypted
 *      with a fresh random nonce into the page's reserved bytes;
 *   3. rollback journal methods: an append-only log of encrypted records
 *      (jid, then records), indexed in memory by jmap;
 *   4. the file controls evault uses (keyslot region, full page check).
 *
 * Failing closed: an unexpected write shape, a failed tag or a file kind we
 * do not encrypt becomes an SQLite error, never plaintext on disk and never
 * silent wrong data. Locking is the base VFS's own.
 */
#define _GNU_SOURCE /* sync_file_range */
#include "vfs.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../crypto/aead.h"
#include "../crypto/kdf.h"
#include "../crypto/le.h"
#include "err.h"
#include "jmap.h"

/* Private file-control opcodes (SQLite reserves values below 100 for itself). */
#define FCNTL_EV_HEADER 0x45560001
#define FCNTL_EV_CHECK 0x45560002
/* 0-based index of SQLite's lock-byte page (PENDING_BYTE 0x40000000) */
#define VFS_LOCK_PAGE_INDEX(P) (0x40000000u / (P))
#define FCNTL_EV_LAUNDER 0x45560003

#define JREC_HDR 56       /* nonce 24 + ciphertext 16 + tag 16 */
#define JREC_OVERHEAD 96  /* header + body nonce 24 + body tag 16 */
#define JREC_MAXBODY 65536
#define JID_BYTES 16
#define WB_EVERY (8u << 20) /* start writeback after this many bytes */
/* read-ahead of ciphertext for sequential page reads (see page_cipher) */
#define RA_BYTES (128u << 10)
#define RA_AFTER 2 /* after this many reads, each of the page after the last */

struct vfs_keys {
    uint8_t page[32];
    uint8_t journal[32];
    uint8_t vault_id[16];
};

struct vfs_ctx {
    sqlite3_vfs vfs;          /* registered with SQLite; pAppData = this */
    sqlite3_vfs *base;        /* wrapped VFS */
    struct vfs_keys *keys;    /* sodium_malloc'd */
    uint32_t page_size;
    uint32_t bad_page;
    int recovered; /* a journal with records was opened for writing */
    char name[32];
    /* verify's bitmap of main-database pages authenticated since
     * vfs_seen_start (NULL when off): the page pass skips them */
    uint8_t *seen;
    uint64_t seen_pages;
};

enum { KIND_MAIN = 1, KIND_JOURNAL = 2 };

struct jrec {
    uint64_t doff; /* disk offset of the record */
    uint32_t len;  /* body length */
};

typedef struct evfile {
    sqlite3_file base;
    vfs_ctx *ctx;
    sqlite3_file *real;
    int kind;
    int lock;
    uint8_t *plain; /* sodium_malloc'd: decrypted page or journal record */
    uint8_t *cbuf;  /* ciphertext staging buffer */
    /* page 1, decrypted, and the nonce and tag it was decrypted from:
     * SQLite reads 16 bytes of it at every transaction start */
    uint8_t *p1;
    uint8_t p1_seal[VFS_RESERVE];
    int p1_valid;
    /* journal state */
    uint8_t jid[JID_BYTES];
    int have_jid;
    uint64_t dend; /* end of the last valid record on disk */
    struct jrec *recs;
    size_t nrec, caprec;
    jmap map;
    long cached; /* record whose body is in plain, or -1 */
    int wb_fd;          /* the base file's descriptor, or -1 (writeback) */
    uint64_t wb_bytes;  /* written since writeback was last started */
    /* read-ahead: ciphertext of ra_n pages from page index ra_first (read
     * under the current lock; dropped on any write, truncate or lock
     * change), and the sequential-read detector */
    uint8_t *ra;
    uint64_t ra_first, ra_n;
    uint64_t next_pg; /* index after the page read last */
    int run;          /* reads in a row, each of next_pg */
} evfile;

static const sqlite3_io_methods main_methods;
static const sqlite3_io_methods jrnl_methods;

/* ---- helpers ---------------------------------------------------------- */

static sqlite3_int64 real_size(evfile *f, int *rc)
{
    sqlite3_int64 sz = 0;
    *rc = f->real->pMethods->xFileSize(f->real, &sz);
    return sz;
}

/* ---- main database file ----------------------------------------------- */

/* AD of a page: vault id || 'D' || page number (1-based, LE32). */
static void page_ad(uint8_t *ad, const vfs_ctx *c, uint32_t pgno)
{
    memcpy(ad, c->keys->vault_id, 16);
    ad[16] = 'D';
    le32_put(ad + 17, pgno);
}

static void ra_drop(evfile *f)
{
    f->ra_n = 0;
    f->run = 0;
}

/*
 * The ciphertext of page index pg (0-based), doff its offset on disk: out
 * of the read-ahead buffer, or read now. A run of sequential reads (an
 * overflow chain, a table scan) reads RA_BYTES at once, so that a pread of
 * one page per page does not cost a system call each. The buffer is only
 * ever ciphertext, authenticated when a page of it is used, and it lives
 * only while this handle holds the same lock: another process can only
 * write the file under an exclusive lock, which our shared one keeps out.
 */
static int page_cipher(evfile *f, uint64_t pg, sqlite3_int64 doff,
                       uint8_t **ct)
{
    uint32_t P = f->ctx->page_size;
    uint64_t n = RA_BYTES / P;

    f->run = pg == f->next_pg ? f->run + 1 : 0;
    f->next_pg = pg + 1;
    if (f->ra_n && pg >= f->ra_first && pg < f->ra_first + f->ra_n) {
        *ct = f->ra + (pg - f->ra_first) * P;
        return SQLITE_OK;
    }
    f->ra_n = 0;
    if (f->run >= RA_AFTER && n > 1 && f->lock >= SQLITE_LOCK_SHARED &&
        (f->ra || (f->ra = malloc(RA_BYTES)))) {
        /* a short read (the end of the file) keeps nothing: fall back to
         * the page alone */
        if (f->real->pMethods->xRead(f->real, f->ra, (int)(n * P), doff) ==
            SQLITE_OK) {
            f->ra_first = pg;
            f->ra_n = n;
            *ct = f->ra;
            return SQLITE_OK;
        }
        f->run = 0;
    }
    *ct = f->cbuf;
    return f->real->pMethods->xRead(f->real, f->cbuf, (int)P, doff);
}

/*
 * Read page index pg (0-based) from disk and decrypt it into dst, which has
 * room for dlen bytes: the whole page (P), or only the part SQLite may use
 * (P - VFS_RESERVE: what SQLite's direct reads of overflow pages ask for;
 * 3.40.1 makes none, later versions may), so the plaintext lands where
 * SQLite wants it without a copy. Returns
 * SQLITE_OK, SQLITE_IOERR_SHORT_READ (page wholly past the end: dst zeroed),
 * SQLITE_IOERR_DATA (authentication failed: dst zeroed) or another I/O
 * error. With use_cache, page 1 comes from the cache when its nonce and tag
 * on disk are those it was decrypted from (every write draws a fresh nonce,
 * so equal nonce and tag mean the same page).
 */
static int page_load(evfile *f, uint64_t pg, uint8_t *dst, uint32_t dlen,
                     int use_cache)
{
    vfs_ctx *c = f->ctx;
    uint32_t P = c->page_size, M = P - VFS_RESERVE;
    sqlite3_int64 doff = VFS_HEADER_SIZE + (sqlite3_int64)(pg * P);
    uint8_t ad[21], *ct = f->cbuf;
    int rc;

    if (pg == 0 && use_cache && f->p1_valid &&
        f->real->pMethods->xRead(f->real, ct, VFS_RESERVE,
                                 doff + M) == SQLITE_OK &&
        memcmp(ct, f->p1_seal, VFS_RESERVE) == 0) {
        memcpy(dst, f->p1, dlen);
        return SQLITE_OK;
    }
    rc = page_cipher(f, pg, doff, &ct);
    if (rc == SQLITE_IOERR_SHORT_READ) {
        int src;
        sqlite3_int64 sz = real_size(f, &src);
        if (src != SQLITE_OK)
            return src;
        memset(dst, 0, dlen);
        return sz <= doff ? SQLITE_IOERR_SHORT_READ : SQLITE_IOERR_DATA;
    }
    if (rc != SQLITE_OK)
        return rc;
    page_ad(ad, c, (uint32_t)(pg + 1));
    if (aead_open(dst, ct, M, ct + M, ct + P - 16, ad, sizeof ad,
                  c->keys->page) != 0) {
        sodium_memzero(dst, dlen);
        return SQLITE_IOERR_DATA;
    }
    /* SQLite owns no data in the reserved bytes; hand back zeros. */
    if (dlen > M)
        memset(dst + M, 0, dlen - M);
    if (c->seen && pg < c->seen_pages)
        /* atomic: verify may read through two connections at once */
        __atomic_fetch_or(&c->seen[pg / 8], (uint8_t)(1u << (pg % 8)),
                          __ATOMIC_RELAXED);
    if (pg == 0 && f->p1) {
        memcpy(f->p1, dst, M);
        memset(f->p1 + M, 0, VFS_RESERVE);
        memcpy(f->p1_seal, ct + M, VFS_RESERVE);
        f->p1_valid = 1;
    }
    return SQLITE_OK;
}

static int main_read(sqlite3_file *pf, void *buf, int amt, sqlite3_int64 off)
{
    evfile *f = (evfile *)pf;
    uint32_t P = f->ctx->page_size;
    uint64_t pg = (uint64_t)off / P, in = (uint64_t)off % P;
    /* a read from the page's start of at least its usable part is
     * decrypted straight into SQLite's buffer */
    int direct = (in == 0 && (uint32_t)amt >= P - VFS_RESERVE &&
                  (uint32_t)amt <= P);
    uint8_t *dst = direct ? buf : f->plain;
    uint32_t dlen = direct ? (uint32_t)amt : P;
    int rc;

    if (off < 0 || amt <= 0 || in + (uint64_t)amt > P)
        return SQLITE_IOERR_READ;
    rc = page_load(f, pg, dst, dlen, 1);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)
        sodium_memzero(dst, dlen);
    if (rc == SQLITE_IOERR_DATA && f->lock == SQLITE_LOCK_NONE) {
        /*
         * Without a lock SQLite only reads the header to guess the page
         * size, and trusts nothing it reads; a writer in another process
         * (or a crash being recovered) may have the page half-written.
         * Zeros make SQLite fall back to defaults; real reads happen under
         * a lock and are authenticated.
         */
        memset(buf, 0, (size_t)amt);
        return SQLITE_OK;
    }
    if (rc == SQLITE_IOERR_DATA)
        __atomic_store_n(&f->ctx->bad_page, (uint32_t)(pg + 1),
                         __ATOMIC_RELAXED);
    if (!direct) {
        memcpy(buf, f->plain + in, (size_t)amt);
        sodium_memzero(f->plain, P);
    }
    return rc;
}

static int main_write(sqlite3_file *pf, const void *buf, int amt,
                      sqlite3_int64 off)
{
    evfile *f = (evfile *)pf;
    vfs_ctx *c = f->ctx;
    uint32_t P = c->page_size;
    const uint8_t *p = buf;
    uint8_t ad[21];
    uint64_t pg;
    int rc;

    if (off < 0 || (uint32_t)amt != P || (uint64_t)off % P != 0)
        return SQLITE_IOERR_WRITE;
    pg = (uint64_t)off / P + 1;
    if (pg > 0xFFFFFFFFu)
        return SQLITE_FULL;
    if (pg == 1) {
        /* Page 1 must announce our page size and reserve, or the reserved
         * bytes we overwrite could hold SQLite's data. */
        uint32_t ps = (uint32_t)p[16] << 8 | p[17];
        if (ps == 1)
            ps = 65536;
        if (ps != P || p[20] != VFS_RESERVE)
            return SQLITE_IOERR_WRITE;
    }
    page_ad(ad, c, (uint32_t)pg);
    if (aead_seal(f->cbuf, f->cbuf + P - VFS_RESERVE, f->cbuf + P - 16, p,
                  P - VFS_RESERVE, ad, sizeof ad, c->keys->page) != 0)
        return SQLITE_IOERR_WRITE;
    if (pg == 1)
        f->p1_valid = 0;
    ra_drop(f);
    rc = f->real->pMethods->xWrite(f->real, f->cbuf, (int)P,
                                   VFS_HEADER_SIZE + off);
    if (rc == SQLITE_OK && f->wb_fd >= 0 &&
        (f->wb_bytes += P) >= WB_EVERY) {
        /* start writing the dirty pages out now, without waiting: the
         * fsync at commit then has little left to do */
        (void)sync_file_range(f->wb_fd, 0, 0, SYNC_FILE_RANGE_WRITE);
        f->wb_bytes = 0;
    }
    if (rc == SQLITE_OK && pg == 1 && f->p1) {
        memcpy(f->p1, p, P - VFS_RESERVE);
        memset(f->p1 + P - VFS_RESERVE, 0, VFS_RESERVE);
        memcpy(f->p1_seal, f->cbuf + P - VFS_RESERVE, VFS_RESERVE);
        f->p1_valid = 1;
    }
    return rc;
}

static int main_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
    evfile *f = (evfile *)pf;
    if (size < 0)
        return SQLITE_IOERR_TRUNCATE;
    if (size < f->ctx->page_size)
        f->p1_valid = 0;
    ra_drop(f);
    return f->real->pMethods->xTruncate(f->real, VFS_HEADER_SIZE + size);
}

static int main_size(sqlite3_file *pf, sqlite3_int64 *size)
{
    evfile *f = (evfile *)pf;
    int rc;
    sqlite3_int64 sz = real_size(f, &rc);

    if (rc != SQLITE_OK)
        return rc;
    if (sz < VFS_HEADER_SIZE)
        return SQLITE_IOERR_FSTAT;
    *size = sz - VFS_HEADER_SIZE;
    return SQLITE_OK;
}

static int refuse_pragma(char **a, const char *fmt, const char *val)
{
    a[0] = sqlite3_mprintf(fmt, val);
    return SQLITE_ERROR;
}

/* Pragmas that would put plaintext on disk or weaken crash safety. */
static int main_pragma(evfile *f, char **a)
{
    const char *name = a[1], *val = a[2];

    if (!val)
        return SQLITE_NOTFOUND;
    if (sqlite3_stricmp(name, "journal_mode") == 0 &&
        sqlite3_stricmp(val, "delete") != 0)
        return refuse_pragma(a,
                             "journal_mode=%s is not supported by evault: "
                             "only the encrypted rollback journal (delete) is",
                             val);
    if (sqlite3_stricmp(name, "temp_store") == 0 &&
        sqlite3_stricmp(val, "memory") != 0 && strcmp(val, "2") != 0)
        return refuse_pragma(
            a, "temp_store=%s is not allowed: evault keeps temporary data in "
               "memory so that no plaintext reaches disk",
            val);
    if (sqlite3_stricmp(name, "temp_store_directory") == 0)
        return refuse_pragma(a, "temp_store_directory is not allowed (%s)",
                             val);
    if (sqlite3_stricmp(name, "synchronous") == 0 &&
        (sqlite3_stricmp(val, "off") == 0 || strcmp(val, "0") == 0 ||
         sqlite3_stricmp(val, "no") == 0 ||
         sqlite3_stricmp(val, "false") == 0))
        return refuse_pragma(a,
                             "synchronous=%s is not allowed: evault must not "
                             "lose committed work in a crash",
                             val);
    if (sqlite3_stricmp(name, "page_size") == 0) {
        char want[16];
        snprintf(want, sizeof want, "%u", (unsigned)f->ctx->page_size);
        if (strcmp(val, want) != 0)
            return refuse_pragma(a,
                                 "page_size cannot change after a vault is "
                                 "created (asked for %s)",
                                 val);
    }
    return SQLITE_NOTFOUND;
}

struct hdr_io {
    int write; /* 0: read the whole region; 1: write one slot */
    int index;
    uint8_t *buf;
};

static int check_pages(evfile *f, vfs_check *chk)
{
    uint32_t P = f->ctx->page_size;
    sqlite3_int64 size;
    uint64_t n;
    int rc = main_size(&f->base, &size);

    if (rc != SQLITE_OK)
        return rc;
    n = ((uint64_t)size + P - 1) / P;
    chk->pages = chk->bad = 0;
    chk->first_bad = 0;
    for (uint64_t pg = 0; pg < n; pg++) {
        /* SQLite never writes the page holding the lock bytes (offset
         * 1 GiB, its PENDING_BYTE): in a vault over 1 GiB that slot is a
         * hole that was never encrypted, and nothing ever reads it. */
        if (pg == VFS_LOCK_PAGE_INDEX(P))
            continue;
        /* authenticated already during this check (vfs_seen_start) */
        if (f->ctx->seen && pg < f->ctx->seen_pages &&
            (f->ctx->seen[pg / 8] & (1u << (pg % 8)))) {
            chk->pages++;
            continue;
        }
        rc = page_load(f, pg, f->plain, P, 0); /* verify: really read it */
        if (rc == SQLITE_IOERR_DATA || rc == SQLITE_IOERR_SHORT_READ) {
            chk->bad++;
            if (!chk->first_bad)
                chk->first_bad = (uint32_t)(pg + 1);
            f->ctx->bad_page = (uint32_t)(pg + 1);
        } else if (rc != SQLITE_OK) {
            return rc;
        }
        chk->pages++;
        if (chk->progress && (pg % 256 == 0 || pg + 1 == n) &&
            chk->progress(chk->arg, pg + 1, n))
            break;
    }
    sodium_memzero(f->plain, P);
    return SQLITE_OK;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/*
 * SQLite reuses free-list leaf pages without journaling them (their old
 * content is meaningless), so a crash can leave one half-written: it then
 * fails authentication although it holds no data. After a hot journal was
 * rolled back, give every free leaf page that fails a fresh encryption of
 * zeros. Trunk pages carry the list itself and must authenticate. Call
 * under a write lock. OUT: *count, pages rewritten.
 */
static int launder_free(evfile *f, uint64_t *count)
{
    uint32_t P = f->ctx->page_size, per_trunk = (P - VFS_RESERVE) / 4 - 2;
    sqlite3_int64 size;
    uint64_t npages, walked = 0;
    uint32_t trunk;
    uint8_t *buf = f->plain;
    uint32_t *leaves = NULL;
    int rc = main_size(&f->base, &size);

    *count = 0;
    if (rc != SQLITE_OK)
        return rc;
    npages = (uint64_t)size / P;
    if (npages == 0)
        return SQLITE_OK;
    leaves = malloc(per_trunk * sizeof *leaves);
    if (!leaves)
        return SQLITE_NOMEM;
    rc = page_load(f, 0, buf, P, 0);
    trunk = rc == SQLITE_OK ? be32(buf + 32) : 0;
    while (rc == SQLITE_OK && trunk != 0) {
        uint32_t n, next;
        if (trunk > npages || ++walked > npages) {
            rc = SQLITE_CORRUPT;
            break;
        }
        rc = page_load(f, trunk - 1, buf, P, 0);
        if (rc != SQLITE_OK)
            break;
        next = be32(buf);
        n = be32(buf + 4);
        if (n > per_trunk) {
            rc = SQLITE_CORRUPT;
            break;
        }
        for (uint32_t i = 0; i < n; i++)
            leaves[i] = be32(buf + 8 + 4 * i);
        for (uint32_t i = 0; i < n && rc == SQLITE_OK; i++) {
            if (leaves[i] == 0 || leaves[i] > npages || leaves[i] == 1)
                continue;
            rc = page_load(f, leaves[i] - 1, buf, P, 0);
            if (rc == SQLITE_IOERR_DATA) {
                memset(buf, 0, P);
                rc = main_write(&f->base, buf, (int)P,
                                (sqlite3_int64)(leaves[i] - 1) * P);
                (*count)++;
            }
        }
        trunk = next;
    }
    if (rc == SQLITE_OK && *count)
        rc = f->real->pMethods->xSync(f->real, SQLITE_SYNC_FULL);
    if (rc == SQLITE_IOERR_DATA)
        f->ctx->bad_page = trunk;
    sodium_memzero(buf, P);
    free(leaves);
    return rc;
}

static int main_fcntl(sqlite3_file *pf, int op, void *arg)
{
    evfile *f = (evfile *)pf;

    switch (op) {
    case SQLITE_FCNTL_PRAGMA:
        return main_pragma(f, arg);
    case SQLITE_FCNTL_SIZE_HINT: {
        sqlite3_int64 hint = *(sqlite3_int64 *)arg + VFS_HEADER_SIZE;
        return f->real->pMethods->xFileControl(f->real, op, &hint);
    }
    case SQLITE_FCNTL_MMAP_SIZE:
        /* Memory-mapped pages would be ciphertext: never map. */
        *(sqlite3_int64 *)arg = 0;
        return SQLITE_OK;
    case FCNTL_EV_HEADER: {
        struct hdr_io *h = arg;
        int rc;
        if (!h->write)
            return f->real->pMethods->xRead(f->real, h->buf, VFS_HEADER_SIZE,
                                            0);
        if (h->index < 0 || h->index >= VFS_HEADER_SIZE / 512)
            return SQLITE_MISUSE;
        rc = f->real->pMethods->xWrite(f->real, h->buf, 512,
                                       (sqlite3_int64)h->index * 512);
        if (rc == SQLITE_OK)
            rc = f->real->pMethods->xSync(f->real, SQLITE_SYNC_FULL);
        return rc;
    }
    case FCNTL_EV_CHECK:
        return check_pages(f, arg);
    case FCNTL_EV_LAUNDER:
        return launder_free(f, arg);
    default:
        return f->real->pMethods->xFileControl(f->real, op, arg);
    }
}

/* ---- rollback journal: encrypted append-only log ---------------------- */

/* AD of a journal record header: vault id || 'J' || jid || seq. */
static size_t jhdr_ad(uint8_t *ad, const evfile *f, uint64_t seq)
{
    memcpy(ad, f->ctx->keys->vault_id, 16);
    ad[16] = 'J';
    memcpy(ad + 17, f->jid, JID_BYTES);
    le64_put(ad + 33, seq);
    return 41;
}

/* AD of a record body: the header AD (kind 'j') || offset || length. */
static size_t jbody_ad(uint8_t *ad, const evfile *f, uint64_t seq,
                       uint64_t loff, uint32_t len)
{
    size_t n = jhdr_ad(ad, f, seq);
    ad[16] = 'j';
    le64_put(ad + n, loff);
    le32_put(ad + n + 8, len);
    return n + 12;
}

static int jrec_push(evfile *f, uint64_t doff, uint64_t loff, uint32_t len)
{
    if (f->nrec == f->caprec) {
        size_t cap = f->caprec ? f->caprec * 2 : 64;
        struct jrec *r = realloc(f->recs, cap * sizeof *r);
        if (!r)
            return SQLITE_NOMEM;
        f->recs = r;
        f->caprec = cap;
    }
    if (jmap_put(&f->map, loff, len, (uint32_t)f->nrec) != 0)
        return SQLITE_NOMEM;
    f->recs[f->nrec].doff = doff;
    f->recs[f->nrec].len = len;
    f->nrec++;
    return SQLITE_OK;
}

/*
 * Read record seq at disk offset doff, authenticate header and body, and
 * leave the body in f->plain. OUT: *loff, *len. Returns SQLITE_OK,
 * SQLITE_IOERR_DATA (bad or incomplete record) or an I/O error.
 */
static int jrec_load(evfile *f, uint64_t seq, uint64_t doff, uint64_t *loff,
                     uint32_t *len)
{
    uint8_t hdr[JREC_HDR], h[16], ad[53];
    size_t adlen;
    uint32_t n;
    int rc;

    rc = f->real->pMethods->xRead(f->real, hdr, JREC_HDR,
                                  (sqlite3_int64)doff);
    if (rc == SQLITE_IOERR_SHORT_READ)
        return SQLITE_IOERR_DATA;
    if (rc != SQLITE_OK)
        return rc;
    adlen = jhdr_ad(ad, f, seq);
    if (aead_open(h, hdr + 24, 16, hdr, hdr + 40, ad, adlen,
                  f->ctx->keys->journal) != 0)
        return SQLITE_IOERR_DATA;
    *loff = le64_get(h);
    n = le32_get(h + 8);
    if (n == 0 || n > JREC_MAXBODY || le32_get(h + 12) != 0)
        return SQLITE_IOERR_DATA;
    rc = f->real->pMethods->xRead(f->real, f->cbuf, (int)n + 40,
                                  (sqlite3_int64)(doff + JREC_HDR));
    if (rc == SQLITE_IOERR_SHORT_READ)
        return SQLITE_IOERR_DATA;
    if (rc != SQLITE_OK)
        return rc;
    adlen = jbody_ad(ad, f, seq, *loff, n);
    f->cached = -1;
    if (aead_open(f->plain, f->cbuf + 24, n, f->cbuf, f->cbuf + 24 + n, ad,
                  adlen, f->ctx->keys->journal) != 0)
        return SQLITE_IOERR_DATA;
    *len = n;
    return SQLITE_OK;
}

/*
 * Index an existing journal: every record that authenticates, in order,
 * until the first that does not (a torn or lost tail, exactly what a crash
 * leaves). Opened read-write, the unauthenticated tail is cut off so that
 * stale records can never reappear after new ones.
 */
static int jrnl_scan(evfile *f, int writable)
{
    int rc;
    sqlite3_int64 size = real_size(f, &rc);
    uint64_t doff = JID_BYTES, loff;
    uint32_t len;

    if (rc != SQLITE_OK)
        return rc;
    f->dend = 0;
    if (size >= JID_BYTES) {
        rc = f->real->pMethods->xRead(f->real, f->jid, JID_BYTES, 0);
        if (rc != SQLITE_OK)
            return rc;
        f->have_jid = 1;
        while ((rc = jrec_load(f, f->nrec, doff, &loff, &len)) == SQLITE_OK) {
            rc = jrec_push(f, doff, loff, len);
            if (rc != SQLITE_OK)
                return rc;
            doff += JREC_OVERHEAD + len;
        }
        if (rc != SQLITE_IOERR_DATA)
            return rc;
        f->cached = -1;
        sodium_memzero(f->plain, JREC_MAXBODY);
        if (f->nrec > 0)
            f->dend = doff;
        else
            f->have_jid = 0;
        /* SQLite opens an existing journal for writing to roll it back */
        if (writable && f->nrec > 0)
            f->ctx->recovered = 1;
    }
    if (writable && (uint64_t)size > f->dend)
        return f->real->pMethods->xTruncate(f->real,
                                            (sqlite3_int64)f->dend);
    return SQLITE_OK;
}

static int jrnl_read(sqlite3_file *pf, void *buf, int amt, sqlite3_int64 off)
{
    evfile *f = (evfile *)pf;
    uint8_t *out = buf;
    uint64_t a = (uint64_t)off, b = a + (uint64_t)amt;
    size_t i;

    if (off < 0 || amt < 0)
        return SQLITE_IOERR_READ;
    memset(buf, 0, (size_t)amt);
    for (i = jmap_find(&f->map, a); i < f->map.n && f->map.segs[i].start < b;
         i++) {
        const jmap_seg *s = &f->map.segs[i];
        uint64_t from = s->start > a ? s->start : a;
        uint64_t to = s->end < b ? s->end : b;
        if ((long)s->rec != f->cached) {
            uint64_t lo;
            uint32_t ln;
            int rc = jrec_load(f, s->rec, f->recs[s->rec].doff, &lo, &ln);
            if (rc != SQLITE_OK)
                return rc;
            f->cached = (long)s->rec;
        }
        memcpy(out + (from - a), f->plain + s->roff + (from - s->start),
               (size_t)(to - from));
    }
    return b > jmap_size(&f->map) ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

static int jrnl_write(sqlite3_file *pf, const void *buf, int amt,
                      sqlite3_int64 off)
{
    evfile *f = (evfile *)pf;
    const uint8_t *p = buf;
    int rc;

    if (off < 0 || amt < 0)
        return SQLITE_IOERR_WRITE;
    if (!f->have_jid) {
        randombytes_buf(f->jid, JID_BYTES);
        rc = f->real->pMethods->xWrite(f->real, f->jid, JID_BYTES, 0);
        if (rc != SQLITE_OK)
            return rc;
        f->have_jid = 1;
        f->dend = JID_BYTES;
    }
    while (amt > 0) {
        uint32_t n = amt > JREC_MAXBODY ? JREC_MAXBODY : (uint32_t)amt;
        uint64_t seq = f->nrec;
        uint8_t h[16], ad[53], *r = f->cbuf;
        size_t adlen;

        le64_put(h, (uint64_t)off);
        le32_put(h + 8, n);
        le32_put(h + 12, 0);
        adlen = jhdr_ad(ad, f, seq);
        if (aead_seal(r + 24, r, r + 40, h, 16, ad, adlen,
                      f->ctx->keys->journal) != 0)
            return SQLITE_IOERR_WRITE;
        adlen = jbody_ad(ad, f, seq, (uint64_t)off, n);
        if (aead_seal(r + JREC_HDR + 24, r + JREC_HDR, r + JREC_HDR + 24 + n,
                      p, n, ad, adlen, f->ctx->keys->journal) != 0)
            return SQLITE_IOERR_WRITE;
        rc = f->real->pMethods->xWrite(f->real, r, (int)(JREC_OVERHEAD + n),
                                       (sqlite3_int64)f->dend);
        if (rc != SQLITE_OK)
            return rc;
        rc = jrec_push(f, f->dend, (uint64_t)off, n);
        if (rc != SQLITE_OK)
            return rc;
        f->dend += JREC_OVERHEAD + n;
        p += n;
        off += n;
        amt -= (int)n;
    }
    return SQLITE_OK;
}

static void jrnl_reset(evfile *f)
{
    jmap_clear(&f->map);
    free(f->recs);
    f->recs = NULL;
    f->nrec = f->caprec = 0;
    f->have_jid = 0;
    f->dend = 0;
    f->cached = -1;
}

static int jrnl_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
    evfile *f = (evfile *)pf;

    if (size == 0) {
        jrnl_reset(f);
        return f->real->pMethods->xTruncate(f->real, 0);
    }
    /* A log cannot be cut at a logical offset; SQLite in delete mode only
     * ever truncates to zero. */
    if (size >= 0 && (uint64_t)size >= jmap_size(&f->map))
        return SQLITE_OK;
    return SQLITE_IOERR_TRUNCATE;
}

static int jrnl_size(sqlite3_file *pf, sqlite3_int64 *size)
{
    evfile *f = (evfile *)pf;
    *size = (sqlite3_int64)jmap_size(&f->map);
    return SQLITE_OK;
}

static int jrnl_fcntl(sqlite3_file *pf, int op, void *arg)
{
    evfile *f = (evfile *)pf;
    if (op == SQLITE_FCNTL_SIZE_HINT || op == SQLITE_FCNTL_MMAP_SIZE)
        return SQLITE_NOTFOUND;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

/* ---- methods shared by both kinds ------------------------------------- */

static int ev_close(sqlite3_file *pf)
{
    evfile *f = (evfile *)pf;
    int rc = f->real->pMethods ? f->real->pMethods->xClose(f->real)
                               : SQLITE_OK;
    jrnl_reset(f);
    sodium_free(f->plain);
    sodium_free(f->p1);
    free(f->cbuf);
    free(f->ra);
    f->plain = f->cbuf = f->p1 = f->ra = NULL;
    return rc;
}

static int ev_sync(sqlite3_file *pf, int flags)
{
    evfile *f = (evfile *)pf;
    return f->real->pMethods->xSync(f->real, flags);
}

static int ev_lock(sqlite3_file *pf, int level)
{
    evfile *f = (evfile *)pf;
    int rc = f->real->pMethods->xLock(f->real, level);
    if (rc == SQLITE_OK && f->lock != level)
        ra_drop(f);
    if (rc == SQLITE_OK)
        f->lock = level;
    return rc;
}

static int ev_unlock(sqlite3_file *pf, int level)
{
    evfile *f = (evfile *)pf;
    int rc = f->real->pMethods->xUnlock(f->real, level);
    ra_drop(f); /* whatever happened: from here on, others may write */
    if (rc == SQLITE_OK)
        f->lock = level;
    return rc;
}

static int ev_reserved(sqlite3_file *pf, int *out)
{
    evfile *f = (evfile *)pf;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int ev_sector(sqlite3_file *pf)
{
    evfile *f = (evfile *)pf;
    return f->real->pMethods->xSectorSize(f->real);
}

static int ev_devchar(sqlite3_file *pf)
{
    evfile *f = (evfile *)pf;
    int d = f->real->pMethods->xDeviceCharacteristics(f->real);
    /* Our records and pages are bigger than what the device writes
     * atomically, and appends are not "safe": claim none of it. */
    return d & ~(SQLITE_IOCAP_ATOMIC | SQLITE_IOCAP_ATOMIC512 |
                 SQLITE_IOCAP_ATOMIC1K | SQLITE_IOCAP_ATOMIC2K |
                 SQLITE_IOCAP_ATOMIC4K | SQLITE_IOCAP_ATOMIC8K |
                 SQLITE_IOCAP_ATOMIC16K | SQLITE_IOCAP_ATOMIC32K |
                 SQLITE_IOCAP_ATOMIC64K | SQLITE_IOCAP_SAFE_APPEND |
                 SQLITE_IOCAP_SEQUENTIAL | SQLITE_IOCAP_BATCH_ATOMIC);
}

/* WAL needs shared memory; evault refuses WAL, so these always fail. */
static int ev_shm_map(sqlite3_file *pf, int pg, int sz, int ext,
                      void volatile **pp)
{
    (void)pf, (void)pg, (void)sz, (void)ext;
    *pp = NULL;
    return SQLITE_IOERR_SHMMAP;
}

static int ev_shm_lock(sqlite3_file *pf, int off, int n, int flags)
{
    (void)pf, (void)off, (void)n, (void)flags;
    return SQLITE_IOERR_SHMLOCK;
}

static void ev_shm_barrier(sqlite3_file *pf)
{
    (void)pf;
}

static int ev_shm_unmap(sqlite3_file *pf, int del)
{
    (void)pf, (void)del;
    return SQLITE_OK;
}

/* Mapped pages would be ciphertext: always make SQLite use xRead. */
static int ev_fetch(sqlite3_file *pf, sqlite3_int64 off, int amt, void **pp)
{
    (void)pf, (void)off, (void)amt;
    *pp = NULL;
    return SQLITE_OK;
}

static int ev_unfetch(sqlite3_file *pf, sqlite3_int64 off, void *p)
{
    (void)pf, (void)off, (void)p;
    return SQLITE_OK;
}

static const sqlite3_io_methods main_methods = {
    3,           ev_close,      main_read,     main_write,     main_truncate,
    ev_sync,     main_size,     ev_lock,       ev_unlock,      ev_reserved,
    main_fcntl,  ev_sector,     ev_devchar,    ev_shm_map,     ev_shm_lock,
    ev_shm_barrier, ev_shm_unmap, ev_fetch,    ev_unfetch,
};

static const sqlite3_io_methods jrnl_methods = {
    3,           ev_close,      jrnl_read,     jrnl_write,     jrnl_truncate,
    ev_sync,     jrnl_size,     ev_lock,       ev_unlock,      ev_reserved,
    jrnl_fcntl,  ev_sector,     ev_devchar,    ev_shm_map,     ev_shm_lock,
    ev_shm_barrier, ev_shm_unmap, ev_fetch,    ev_unfetch,
};

/* ---- the VFS ---------------------------------------------------------- */

#define BASE(v) (((vfs_ctx *)(v)->pAppData)->base)

/*
 * The descriptor of a main database file opened by the "unix" VFS, to
 * start writeback early (sync_file_range), or -1. SQLite keeps it in its
 * private unixFile, whose fourth member it has been since 3.7; the value
 * is used only when fstat says it is the file at name, and never to read,
 * write or close anything.
 */
struct unix_head {
    const sqlite3_io_methods *methods;
    sqlite3_vfs *vfs;
    void *inode;
    int h;
};

static int base_fd(const vfs_ctx *c, sqlite3_file *real, const char *name)
{
    struct stat a, b;
    int h;

    if (strcmp(c->base->zName, "unix") != 0)
        return -1;
    h = ((const struct unix_head *)(const void *)real)->h;
    if (h < 0 || fstat(h, &a) != 0 || stat(name, &b) != 0 ||
        a.st_dev != b.st_dev || a.st_ino != b.st_ino)
        return -1;
    return h;
}

static int ev_open(sqlite3_vfs *v, const char *name, sqlite3_file *pf,
                   int flags, int *out_flags)
{
    vfs_ctx *c = v->pAppData;
    evfile *f = (evfile *)pf;
    int kind, rc;
    sqlite3_int64 size;
    size_t bufsz;

    memset(f, 0, sizeof *f);
    f->cached = -1;
    f->wb_fd = -1;
    if (flags & SQLITE_OPEN_MAIN_DB)
        kind = KIND_MAIN;
    else if (flags & SQLITE_OPEN_MAIN_JOURNAL)
        kind = KIND_JOURNAL;
    else
        return SQLITE_CANTOPEN; /* temp files, WAL, super-journals */
    if (!name)
        return SQLITE_CANTOPEN;
    f->ctx = c;
    f->kind = kind;
    f->real = (sqlite3_file *)((char *)pf + ((sizeof(evfile) + 7) & ~(size_t)7));
    rc = c->base->xOpen(c->base, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK)
        return rc;
    bufsz = kind == KIND_MAIN ? c->page_size : JREC_MAXBODY;
    f->plain = sodium_malloc(bufsz);
    f->cbuf = malloc(kind == KIND_MAIN ? c->page_size
                                       : JREC_MAXBODY + JREC_OVERHEAD);
    if (!f->plain || !f->cbuf) {
        rc = SQLITE_NOMEM;
        goto fail;
    }
    if (kind == KIND_MAIN) {
        size = real_size(f, &rc);
        if (rc != SQLITE_OK)
            goto fail;
        if (size < VFS_HEADER_SIZE) {
            rc = SQLITE_CANTOPEN; /* not a vault: no keyslot region */
            goto fail;
        }
        f->p1 = sodium_malloc(c->page_size);
        if (!f->p1) {
            rc = SQLITE_NOMEM;
            goto fail;
        }
        f->wb_fd = base_fd(c, f->real, name);
        f->base.pMethods = &main_methods;
    } else {
        jmap_init(&f->map);
        rc = jrnl_scan(f, (flags & SQLITE_OPEN_READWRITE) != 0);
        if (rc != SQLITE_OK)
            goto fail;
        f->base.pMethods = &jrnl_methods;
    }
    return SQLITE_OK;
fail:
    f->real->pMethods->xClose(f->real);
    jrnl_reset(f);
    sodium_free(f->plain);
    sodium_free(f->p1);
    free(f->cbuf);
    f->plain = f->cbuf = f->p1 = NULL;
    return rc;
}

static int ev_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
    return BASE(v)->xDelete(BASE(v), name, sync_dir);
}

static int ev_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    return BASE(v)->xAccess(BASE(v), name, flags, out);
}

static int ev_fullpath(sqlite3_vfs *v, const char *name, int n, char *out)
{
    return BASE(v)->xFullPathname(BASE(v), name, n, out);
}

/* Loadable extensions are never used: refuse them. */
static void *ev_dlopen(sqlite3_vfs *v, const char *name)
{
    (void)v, (void)name;
    return NULL;
}

static void ev_dlerror(sqlite3_vfs *v, int n, char *msg)
{
    (void)v;
    if (n > 0)
        snprintf(msg, (size_t)n, "evault does not load extensions");
}

static void (*ev_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
    (void)v, (void)h, (void)sym;
    return NULL;
}

static void ev_dlclose(sqlite3_vfs *v, void *h)
{
    (void)v, (void)h;
}

static int ev_random(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    randombytes_buf(out, (size_t)n);
    return n;
}

static int ev_sleep(sqlite3_vfs *v, int us)
{
    return BASE(v)->xSleep(BASE(v), us);
}

static int ev_time(sqlite3_vfs *v, double *t)
{
    return BASE(v)->xCurrentTime(BASE(v), t);
}

static int ev_lasterr(sqlite3_vfs *v, int n, char *msg)
{
    return BASE(v)->xGetLastError ? BASE(v)->xGetLastError(BASE(v), n, msg)
                                  : 0;
}

static int ev_time64(sqlite3_vfs *v, sqlite3_int64 *t)
{
    sqlite3_vfs *b = BASE(v);
    double d;
    int rc;
    if (b->iVersion >= 2 && b->xCurrentTimeInt64)
        return b->xCurrentTimeInt64(b, t);
    rc = b->xCurrentTime(b, &d);
    *t = (sqlite3_int64)(d * 86400000.0);
    return rc;
}

int vfs_new(vfs_ctx **out, const uint8_t *master_key, const uint8_t *vault_id,
            uint32_t page_size, const char *base_vfs)
{
    static unsigned counter;
    vfs_ctx *c = NULL;
    int rc = EV_ERR_INTERNAL;

    *out = NULL;
    if (page_size < 1024 || page_size > 65536 ||
        (page_size & (page_size - 1)) != 0)
        return EV_ERR_INVALID;
    c = calloc(1, sizeof *c);
    if (!c)
        return EV_ERR_NOMEM;
    c->base = sqlite3_vfs_find(base_vfs);
    if (!c->base)
        goto out;
    c->keys = sodium_malloc(sizeof *c->keys);
    if (!c->keys) {
        rc = EV_ERR_NOMEM;
        goto out;
    }
    kdf_subkey(c->keys->page, KDF_SUB_PAGE, master_key);
    kdf_subkey(c->keys->journal, KDF_SUB_JOURNAL, master_key);
    memcpy(c->keys->vault_id, vault_id, 16);
    sodium_mprotect_readonly(c->keys);
    c->page_size = page_size;
    snprintf(c->name, sizeof c->name, "evault-%u", ++counter);

    c->vfs.iVersion = 2;
    c->vfs.szOsFile =
        (int)(((sizeof(evfile) + 7) & ~(size_t)7) + (size_t)c->base->szOsFile);
    c->vfs.mxPathname = c->base->mxPathname;
    c->vfs.zName = c->name;
    c->vfs.pAppData = c;
    c->vfs.xOpen = ev_open;
    c->vfs.xDelete = ev_delete;
    c->vfs.xAccess = ev_access;
    c->vfs.xFullPathname = ev_fullpath;
    c->vfs.xDlOpen = ev_dlopen;
    c->vfs.xDlError = ev_dlerror;
    c->vfs.xDlSym = ev_dlsym;
    c->vfs.xDlClose = ev_dlclose;
    c->vfs.xRandomness = ev_random;
    c->vfs.xSleep = ev_sleep;
    c->vfs.xCurrentTime = ev_time;
    c->vfs.xGetLastError = ev_lasterr;
    c->vfs.xCurrentTimeInt64 = ev_time64;
    if (sqlite3_vfs_register(&c->vfs, 0) != SQLITE_OK)
        goto out;
    *out = c;
    c = NULL;
    rc = 0;
out:
    vfs_free(c);
    return rc;
}

void vfs_free(vfs_ctx *c)
{
    if (!c)
        return;
    if (sqlite3_vfs_find(c->name) == &c->vfs)
        sqlite3_vfs_unregister(&c->vfs);
    vfs_seen_stop(c);
    sodium_free(c->keys);
    free(c);
}

const char *vfs_name(const vfs_ctx *c)
{
    return c->name;
}

uint32_t vfs_bad_page(const vfs_ctx *c)
{
    return __atomic_load_n(&c->bad_page, __ATOMIC_RELAXED);
}

void vfs_bad_page_reset(vfs_ctx *c)
{
    __atomic_store_n(&c->bad_page, 0, __ATOMIC_RELAXED);
}

int vfs_take_recovered(vfs_ctx *c)
{
    int r = c->recovered;
    c->recovered = 0;
    return r;
}

int vfs_header_read(sqlite3 *db, uint8_t *region)
{
    struct hdr_io h = {0, -1, region};
    return sqlite3_file_control(db, "main", FCNTL_EV_HEADER, &h);
}

int vfs_header_write(sqlite3 *db, int index, const uint8_t *slot)
{
    struct hdr_io h = {1, index, (uint8_t *)slot};
    return sqlite3_file_control(db, "main", FCNTL_EV_HEADER, &h);
}

int vfs_launder_free(sqlite3 *db, uint64_t *count)
{
    return sqlite3_file_control(db, "main", FCNTL_EV_LAUNDER, count);
}

int vfs_seen_start(vfs_ctx *c, uint64_t file_bytes)
{
    uint64_t n = file_bytes / c->page_size + 1;

    vfs_seen_stop(c);
    c->seen = calloc(n / 8 + 1, 1);
    if (!c->seen)
        return -1;
    c->seen_pages = n;
    return 0;
}

void vfs_seen_stop(vfs_ctx *c)
{
    free(c->seen);
    c->seen = NULL;
    c->seen_pages = 0;
}

int vfs_check_pages(sqlite3 *db, vfs_check *chk)
{
    return sqlite3_file_control(db, "main", FCNTL_EV_CHECK, chk);
}
