/*
 * receive: see receive.h. Laid out as: reading FILE (signature pass, the
 * age read callback), the tarbag sink that streams evidence into the store,
 * then the records of data/records.json (types, actors, sources, evidence,
 * incidents and their links, seals), provenance and the log, and
 * receive_bundle, which runs the steps in one transaction.
 */
#include "receive.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <nettle/sha2.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../crypto/age.h"
#include "../crypto/msig.h"
#include "custody.h"
#include "identity.h"
#include "partner.h"
#include "rec.h"
#include "records.h"
#include "store.h"
#include "tarbag.h"

#define READ_BUF (1024 * 1024)
#define RECORDS_PATH "data/records.json"
#define CUSTODY_PATH "data/custody.jsonl"
#define SEALS_DIR "data/seals/"
#define EVIDENCE_DIR "data/evidence/"
#define SPACE_MARGIN (16u << 20) /* free bytes to leave beside the vault */

static int uuid_ok(const char *s)
{
    if (!s || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-'
                 : !((s[i] >= '0' && s[i] <= '9') ||
                     (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    }
    return 1;
}

static int hex32_ok(const char *s)
{
    if (!s || strlen(s) != 32)
        return 0;
    for (int i = 0; i < 32; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* Valid UTF-8 of at most max bytes without control characters (but TAB and
 * LF when multiline). NULL is fine. */
static int text_ok(const char *s, size_t max, int multiline)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n;

    if (!s)
        return 1;
    if ((n = strlen(s)) > max)
        return 0;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2
                              : (c & 0xf0) == 0xe0 ? 3
                              : (c & 0xf8) == 0xf0 ? 4 : 0;
        uint32_t cp = k == 1 ? c : k == 2 ? c & 0x1f : k == 3 ? c & 0x0f
                                                              : c & 0x07;
        if (k == 0 || i + k > n)
            return 0;
        for (size_t j = 1; j < k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + j] & 0x3f);
        }
        if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) ||
            (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        if ((cp < 0x20 && !(multiline && (cp == '\t' || cp == '\n'))) ||
            cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
            return 0;
        i += k;
    }
    return 1;
}

/* ---- the file ------------------------------------------------------------ */

typedef struct rx {
    vault *v;
    const receive_opts *o;
    receive_result *res;
    ev_err *e;
    partner p;
    int fd;
    struct stat st;
    uint64_t done, total; /* progress over both passes */
    atomic_uint_fast64_t read_bytes; /* by the pump (second pass) */
    int read_errno;                  /* the pump's read error */
    age_dec *dec;
    struct pump *pump;
    /* sink */
    store_blob_writer *w;
    uint8_t (*fresh)[32]; /* contents this import stored */
    size_t nfresh, capfresh;
    char trusted_uuid[37], trusted_vault[33]; /* from FILE.minisig */
} rx;

static void progress(rx *x, size_t n)
{
    x->done += n;
    if (x->o->progress)
        x->o->progress(x->o->progress_arg, x->done, x->total);
}

/* Open path for reading without following a link and without blocking on
 * a FIFO (the caller checks that it is a regular file). */
static int open_regular(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    int fl;

    if (fd >= 0 && ((fl = fcntl(fd, F_GETFL)) < 0 ||
                    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static int read_small(const char *path, size_t max, char **out, size_t *len)
{
    int fd = open_regular(path);
    struct stat st;
    char *b = NULL;
    ssize_t k;
    size_t got = 0;

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size > max || !(b = malloc(max + 1))) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    while (got < max + 1 && (k = read(fd, b + got, max + 1 - got)) != 0) {
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    if (got > max) {
        free(b);
        errno = EINVAL;
        return -1;
    }
    b[got] = '\0';
    *out = b;
    *len = got;
    return 0;
}

/* Pull "evault bundle UUID from vault VID" out of a trusted comment. */
static void trusted_parse(rx *x, const char *t)
{
    static const char a[] = "evault bundle ", b[] = " from vault ";
    if (strncmp(t, a, sizeof a - 1) != 0)
        return;
    t += sizeof a - 1;
    if (strlen(t) < 36 + sizeof b - 1 + 32 ||
        strncmp(t + 36, b, sizeof b - 1) != 0)
        return;
    snprintf(x->trusted_uuid, sizeof x->trusted_uuid, "%.36s", t);
    snprintf(x->trusted_vault, sizeof x->trusted_vault, "%.32s",
             t + 36 + sizeof b - 1);
    if (!uuid_ok(x->trusted_uuid) || !hex32_ok(x->trusted_vault))
        x->trusted_uuid[0] = x->trusted_vault[0] = '\0';
}

/* Step 1: FILE.minisig over the encrypted bytes. */
static int check_file_signature(rx *x)
{
    char *sigpath = NULL, *text = NULL, trusted[MSIG_TRUSTED_MAX + 1];
    uint8_t *buf = NULL;
    msig_sig sig;
    msig_verify_ctx ctx;
    size_t len;
    int rc = 0;
    ssize_t k;

    if (!(sigpath = malloc(strlen(x->o->path) + 9)) ||
        !(buf = malloc(READ_BUF))) {
        rc = err_set(x->e, EV_ERR_NOMEM, "out of memory");
        goto out;
    }
    snprintf(sigpath, strlen(x->o->path) + 9, "%s.minisig", x->o->path);
    if (read_small(sigpath, MSIG_SIGFILE_MAX, &text, &len) != 0) {
        rc = err_set(x->e, EV_ERR_INTEGRITY,
                     errno == ENOENT
                         ? "'%s' is missing: a bundle is checked against its "
                           "sender's signature before anything else (give "
                           "--no-signature to import it unchecked; that is "
                           "logged)"
                         : "cannot read the signature '%s': it is not a "
                           "small regular file",
                     sigpath);
        goto out;
    }
    if (msig_sig_parse(&sig, text, len) != 0) {
        rc = err_set(x->e, EV_ERR_INTEGRITY, "'%s' is not a minisign "
                     "signature", sigpath);
        goto out;
    }
    if (msig_verify_init(&ctx, &x->p.sign, &sig) != 0) {
        rc = err_set(x->e, EV_ERR_INTEGRITY,
                     "'%s' was not made by partner '%s' (key %s): the "
                     "bundle is refused, nothing was decrypted",
                     sigpath, x->p.name, x->p.minisign_key);
        goto out;
    }
    while ((k = read(x->fd, buf, READ_BUF)) != 0) {
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = err_set(x->e, EV_ERR_IO, "cannot read '%s': %s", x->o->path,
                         strerror(errno));
            if (msig_verify_final(&ctx, NULL, 0) == 0)
                rc = EV_ERR_INTERNAL; /* cannot be: it was not finished */
            goto out;
        }
        msig_verify_update(&ctx, buf, (size_t)k);
        progress(x, (size_t)k);
    }
    if (msig_verify_final(&ctx, trusted, sizeof trusted) != 0) {
        rc = err_set(x->e, EV_ERR_INTEGRITY,
                     "the signature '%s' does not verify with the key of "
                     "partner '%s': the bundle was changed, or is not "
                     "theirs; nothing was decrypted",
                     sigpath, x->p.name);
        goto out;
    }
    trusted_parse(x, trusted);
    if (lseek(x->fd, 0, SEEK_SET) != 0)
        rc = err_set(x->e, EV_ERR_IO, "cannot read '%s': %s", x->o->path,
                     strerror(errno));
out:
    free(sigpath);
    free(text);
    if (buf) {
        sodium_memzero(buf, READ_BUF);
        free(buf);
    }
    return rc;
}

/* Runs on the pump's thread once it has started (the header is read on
 * the caller's): no progress calls from here, only a counter. */
static int age_read(void *arg, uint8_t *buf, size_t len, size_t *got)
{
    rx *x = arg;
    ssize_t k;

    do
        k = read(x->fd, buf, len);
    while (k < 0 && errno == EINTR);
    if (k < 0) {
        x->read_errno = errno;
        return -1;
    }
    *got = (size_t)k;
    atomic_fetch_add(&x->read_bytes, (uint_fast64_t)k);
    return 0;
}

/*
 * The pump: age decryption on a thread of its own, a few verified 64 KiB
 * chunks ahead of the tar reader (which, with the evidence going into the
 * vault, is the other core's work). A chunk is handed over only once it
 * has verified, as age_dec_read hands it out; the first failure is
 * reported after the chunks before it, as the decryptor reports it.
 */
#define PUMP_BUFS 8

typedef struct pump {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint8_t *buf[PUMP_BUFS];
    size_t len[PUMP_BUFS];
    unsigned head, tail, count; /* head: next to fill; tail: next to read */
    int holding;  /* the reader holds buf[tail] */
    int done;     /* the producer has finished (end or error) */
    int arc;      /* its age error, 0 at the end */
    int stop;     /* the reader asks it to stop */
    age_dec *dec;
} pump;

static void *pump_main(void *arg)
{
    pump *p = arg;

    for (;;) {
        const uint8_t *b;
        size_t n;
        int arc;

        pthread_mutex_lock(&p->mu);
        while (p->count == PUMP_BUFS && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        pthread_mutex_unlock(&p->mu);
        arc = age_dec_read(p->dec, &b, &n);
        if (arc == 0 && n > 0)
            memcpy(p->buf[p->head], b, n);
        pthread_mutex_lock(&p->mu);
        if (arc != 0 || n == 0) {
            p->arc = arc;
            p->done = 1;
        } else {
            p->len[p->head] = n;
            p->head = (p->head + 1) % PUMP_BUFS;
            p->count++;
        }
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        if (arc != 0 || n == 0)
            break;
    }
    return NULL;
}

static void pump_free(pump *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    for (int i = 0; i < PUMP_BUFS; i++) {
        if (p->buf[i]) {
            sodium_memzero(p->buf[i], AGE_CHUNKBYTES);
            free(p->buf[i]);
        }
    }
    free(p);
}

static pump *pump_new(age_dec *dec)
{
    pump *p = calloc(1, sizeof *p);
    int ok = p != NULL;

    for (int i = 0; ok && i < PUMP_BUFS; i++)
        ok = (p->buf[i] = malloc(AGE_CHUNKBYTES)) != NULL;
    if (ok && pthread_mutex_init(&p->mu, NULL) != 0)
        ok = 0;
    else if (ok && pthread_cond_init(&p->cv, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        ok = 0;
    } else if (ok) {
        p->dec = dec;
        if (pthread_create(&p->thread, NULL, pump_main, p) != 0) {
            pthread_cond_destroy(&p->cv);
            pthread_mutex_destroy(&p->mu);
            ok = 0;
        }
    }
    if (!ok && p) {
        for (int i = 0; i < PUMP_BUFS; i++)
            free(p->buf[i]);
        free(p);
        p = NULL;
    }
    return p;
}

/* The next chunk: 0 with *len > 0, 0 with *len == 0 at the end, or the
 * producer's age error. */
static int pump_read(pump *p, const uint8_t **buf, size_t *len)
{
    int arc = 0;

    pthread_mutex_lock(&p->mu);
    if (p->holding) {
        p->holding = 0;
        p->tail = (p->tail + 1) % PUMP_BUFS;
        p->count--;
        pthread_cond_broadcast(&p->cv);
    }
    while (p->count == 0 && !p->done)
        pthread_cond_wait(&p->cv, &p->mu);
    if (p->count > 0) {
        *buf = p->buf[p->tail];
        *len = p->len[p->tail];
        p->holding = 1;
    } else {
        *buf = NULL;
        *len = 0;
        arc = p->arc;
    }
    pthread_mutex_unlock(&p->mu);
    return arc;
}

static int age_fail(rx *x, int arc)
{
    const char *why = age_dec_error(x->dec);
    switch (arc) {
    case AGE_ERR_IO:
        return err_set(x->e, EV_ERR_IO, "cannot read '%s': %s", x->o->path,
                       strerror(x->read_errno));
    case AGE_ERR_NOMATCH:
        return err_set(x->e, EV_ERR_INTEGRITY,
                       x->o->passphrase
                           ? "'%s' is not encrypted with that passphrase"
                           : "'%s' is not encrypted to this vault (its age "
                             "header names other recipients)",
                       x->o->path);
    case AGE_ERR_MAC:
        return err_set(x->e, EV_ERR_INTEGRITY, "'%s': the age header's MAC "
                       "does not verify (the header was changed)",
                       x->o->path);
    default:
        return err_set(x->e, EV_ERR_INTEGRITY, "'%s' does not decrypt: %s",
                       x->o->path, why && *why ? why : age_strerror(arc));
    }
}

static int tar_read(void *arg, const uint8_t **buf, size_t *len, ev_err *e)
{
    rx *x = arg;
    int arc = pump_read(x->pump, buf, len);
    uint64_t now = x->done + atomic_load(&x->read_bytes);

    (void)e;
    if (x->o->progress)
        x->o->progress(x->o->progress_arg, now, x->total);
    return arc == 0 ? 0 : age_fail(x, arc);
}

/* ---- the sink: evidence into the store ------------------------------------ */

static int sink_begin(void *arg, const char *path, uint64_t size, ev_err *e)
{
    rx *x = arg;
    struct statvfs sv;
    int rc;

    /* the plaintext is never larger than the bundle: a tar header that
     * says otherwise lies (and must not decide by the free disk space) */
    if (size > x->res->bytes)
        return err_set(e, EV_ERR_INTEGRITY, "tar entry '%s' claims %llu "
                       "bytes, more than the whole bundle holds (%llu): "
                       "the bundle is truncated or the entry lies; refused",
                       path, (unsigned long long)size,
                       (unsigned long long)x->res->bytes);
    if (strcmp(path, RECORDS_PATH) == 0 || strcmp(path, CUSTODY_PATH) == 0 ||
        strncmp(path, SEALS_DIR, sizeof SEALS_DIR - 1) == 0)
        return TARBAG_KEEP;
    if (strncmp(path, EVIDENCE_DIR, sizeof EVIDENCE_DIR - 1) != 0)
        return TARBAG_HASH;
    if (statvfs(vault_path(x->v), &sv) == 0 &&
        (uint64_t)sv.f_bavail * sv.f_frsize < size + SPACE_MARGIN)
        return err_set(e, EV_ERR_IO, "not enough free space beside the vault "
                       "for '%s' (%llu bytes): nothing was imported",
                       path, (unsigned long long)size);
    if ((rc = store_blob_begin(x->v, &x->w, e)) != 0)
        return rc;
    return TARBAG_STREAM;
}

static int sink_data(void *arg, const uint8_t *buf, size_t len, ev_err *e)
{
    rx *x = arg;
    return store_blob_write(x->w, buf, len, e);
}

static int sink_end(void *arg, const char *path, const uint8_t *sha,
                    uint64_t size, ev_err *e)
{
    rx *x = arg;
    store_blob_writer *w = x->w;
    int existed = 0, rc;

    (void)path;
    (void)size;
    x->w = NULL;
    if ((rc = store_blob_end(w, sha, &existed, NULL, e)) != 0)
        return rc;
    if (existed)
        return 0;
    if (x->nfresh == x->capfresh) {
        size_t cap = x->capfresh ? x->capfresh * 2 : 16;
        uint8_t(*n)[32] = realloc(x->fresh, cap * sizeof *n);
        if (!n)
            return err_set(e, EV_ERR_NOMEM, "out of memory");
        x->fresh = n;
        x->capfresh = cap;
    }
    memcpy(x->fresh[x->nfresh++], sha, 32);
    x->res->new_contents++;
    return 0;
}

/* ---- records ------------------------------------------------------------- */

static int prep(rx *x, const char *sql, sqlite3_stmt **st)
{
    int src = sqlite3_prepare_v2(vault_db(x->v), sql, -1, st, NULL);
    return src == SQLITE_OK ? 0 : vault_sqlerr(x->v, src, "importing", x->e);
}

static const char *col(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL
               ? NULL
               : (const char *)sqlite3_column_text(st, i);
}

/* A problem with the records: the bundle is refused. */
static int bad_record(rx *x, const char *what, const char *uuid, int rc)
{
    char msg[EV_ERRMAX];

    if (rc == EV_ERR_NOMEM || rc == EV_ERR_IO || rc == EV_ERR_BUSY ||
        rc == EV_ERR_INTERNAL)
        return rc;
    snprintf(msg, sizeof msg, "%s", x->e->msg);
    return err_set(x->e, EV_ERR_INTEGRITY, RECORDS_PATH ": %s %s: %s", what,
                   uuid ? uuid : "(no uuid)", msg);
}

/* The local id of the record with this uuid in table, 0 if none. */
static int64_t local_id(rx *x, const char *table, const char *uuid)
{
    sqlite3_stmt *st = NULL;
    char sql[80];
    int64_t id = 0;
    int src;

    snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE uuid = ?1", table);
    if (prep(x, sql, &st) != 0)
        return -1;
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    else if (src != SQLITE_DONE)
        id = -1, (void)vault_sqlerr(x->v, src, "looking up a record", x->e);
    sqlite3_finalize(st);
    return id;
}

static int provenance(rx *x, int64_t bundle, const char *type,
                      const char *uuid)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(x, "INSERT OR IGNORE INTO provenance(object_type, object, "
                     "bundle_id) VALUES (?1, ?2, ?3)", &st);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, bundle);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = vault_sqlerr(x->v, sqlite3_errcode(vault_db(x->v)),
                              "recording provenance", x->e);
    }
    sqlite3_finalize(st);
    return rc;
}

/* 1 if the vault's record uuid came from an earlier bundle of this
 * partner (so this bundle may add its provenance), 0 if not, or an error. */
static int from_partner(rx *x, const char *uuid)
{
    sqlite3_stmt *st = NULL;
    int src, rc = prep(x, "SELECT 1 FROM provenance p JOIN bundle_import b "
                          "ON b.id = p.bundle_id WHERE p.object = ?1 AND "
                          "b.partner_key = ?2", &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, x->p.minisign_key, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    rc = src == SQLITE_ROW    ? 1
         : src == SQLITE_DONE ? 0
                              : vault_sqlerr(x->v, src, "importing", x->e);
    sqlite3_finalize(st);
    return rc;
}

/* Record uuid the vault holds already: its provenance gains this bundle
 * only when it came from this partner before (a bundle cannot claim the
 * receiver's own records). */
static int present(rx *x, int64_t bundle, const char *type, const char *uuid)
{
    int rc = from_partner(x, uuid);
    x->res->present++;
    return rc == 1 ? provenance(x, bundle, type, uuid) : rc;
}

/* The uuids records.json carries, by kind, in a temporary table (in
 * memory: temp_store is MEMORY): links may only point at these, and no
 * uuid may appear twice. */
static int bundle_uuids(rx *x, const char *json, size_t len)
{
    sqlite3_stmt *st = NULL;
    int rc, src;

    if (sqlite3_exec(vault_db(x->v),
                     "CREATE TEMP TABLE rx_uuid(uuid TEXT NOT NULL PRIMARY "
                     "KEY, kind TEXT NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK)
        return vault_sqlerr(x->v, sqlite3_errcode(vault_db(x->v)),
                            "importing", x->e);
    rc = prep(x, "INSERT INTO temp.rx_uuid SELECT value ->> '$.uuid', "
                 "'actor' FROM json_each(?1, '$.actors') UNION ALL SELECT "
                 "value ->> '$.uuid', 'source' FROM json_each(?1, "
                 "'$.sources') UNION ALL SELECT value ->> '$.uuid', "
                 "'evidence' FROM json_each(?1, '$.evidence') UNION ALL "
                 "SELECT value ->> '$.uuid', 'incident' FROM json_each(?1, "
                 "'$.incidents')", &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, json, (int)len, SQLITE_STATIC);
    src = sqlite3_step(st);
    sqlite3_finalize(st);
    if ((src & 0xff) == SQLITE_CONSTRAINT)
        return err_set(x->e, EV_ERR_INTEGRITY, RECORDS_PATH ": a record "
                       "has no uuid, or a uuid appears twice");
    return src == SQLITE_DONE ? 0
                              : vault_sqlerr(x->v, src, "importing", x->e);
}

/* 1 if uuid is a record of kind in the bundle, 0 if not, or an error. */
static int in_bundle(rx *x, const char *kind, const char *uuid)
{
    sqlite3_stmt *st = NULL;
    int src, rc = prep(x, "SELECT 1 FROM temp.rx_uuid WHERE uuid = ?1 AND "
                          "kind = ?2", &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    rc = src == SQLITE_ROW    ? 1
         : src == SQLITE_DONE ? 0
                              : vault_sqlerr(x->v, src, "importing", x->e);
    sqlite3_finalize(st);
    return rc;
}

/* The text values of JSON array json (NULL: none). OUT: *out (free with
 * strv_free), *n. */
static int strv(rx *x, const char *json, char ***out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    char **v = NULL;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (!json)
        return 0;
    if ((rc = prep(x, "SELECT value FROM json_each(?1)", &st)) != 0)
        return rc;
    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        if (*n == cap) {
            char **nv = realloc(v, (cap = cap ? cap * 2 : 8) * sizeof *nv);
            if (!nv) {
                rc = err_set(x->e, EV_ERR_NOMEM, "out of memory");
                break;
            }
            v = nv;
        }
        if (!(v[*n] = strdup(s ? s : ""))) {
            rc = err_set(x->e, EV_ERR_NOMEM, "out of memory");
            break;
        }
        (*n)++;
    }
    sqlite3_finalize(st);
    *out = v;
    return rc;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Each record of a kind: the SQL reads the fields from the array. */
typedef struct rkind {
    const char *name, *table, *sql;
    int (*add)(rx *x, sqlite3_stmt *st, const char *uuid, int64_t *id);
} rkind;

static int add_actor(rx *x, sqlite3_stmt *st, const char *uuid, int64_t *id)
{
    records_actor a;
    char **names = NULL;
    size_t n = 0;
    int rc;

    records_actor_init(&a);
    a.uuid = uuid;
    a.name = col(st, 1);
    a.kind = col(st, 2);
    a.category = col(st, 3);
    a.description = col(st, 5);
    a.confidential = sqlite3_column_int(st, 6) != 0;
    if ((rc = strv(x, col(st, 4), &names, &n)) == 0) {
        a.other_names = (const char *const *)names;
        a.nother = n;
        a.set_other = 1;
        rc = records_actor_add(x->v, &a, id, x->e);
    }
    strv_free(names, n);
    return rc;
}

static int add_source(rx *x, sqlite3_stmt *st, const char *uuid, int64_t *id)
{
    records_source s;

    records_source_init(&s);
    s.uuid = uuid;
    s.kind = col(st, 1);
    s.title = col(st, 2);
    s.description = col(st, 3);
    s.date = col(st, 4);
    s.date_precision = col(st, 5);
    s.reliability = col(st, 6);
    s.consent = col(st, 7);
    s.url = col(st, 8);
    s.confidential = sqlite3_column_int(st, 9) != 0;
    return records_source_add(x->v, &s, id, x->e);
}

static int ensure_type(rx *x, const char *type)
{
    sqlite3_stmt *st = NULL;
    int rc, have = 0;

    if (!type)
        return 0;
    if ((rc = prep(x, "SELECT 1 FROM incident_type WHERE name = ?1", &st)))
        return rc;
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    have = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return have ? 0 : records_type_add(x->v, type, "received in a bundle",
                                       x->e);
}

static int add_incident(rx *x, sqlite3_stmt *st, const char *uuid,
                        int64_t *id)
{
    records_incident in;
    char **tags = NULL;
    size_t n = 0;
    int rc;

    records_incident_init(&in);
    in.uuid = uuid;
    in.title = col(st, 1);
    in.type = col(st, 2);
    in.status = col(st, 3);
    in.date = col(st, 4);
    in.date_precision = col(st, 5);
    in.end_date = col(st, 6);
    in.end_date_precision = col(st, 7);
    in.location = col(st, 8);
    if (sqlite3_column_type(st, 9) != SQLITE_NULL ||
        sqlite3_column_type(st, 10) != SQLITE_NULL) {
        in.coords = 1;
        in.lat = sqlite3_column_double(st, 9);
        in.lon = sqlite3_column_double(st, 10);
    }
    in.confidential = sqlite3_column_int(st, 11) != 0;
    in.description = col(st, 13);
    if ((rc = ensure_type(x, in.type)) == 0 &&
        (rc = strv(x, col(st, 12), &tags, &n)) == 0) {
        in.tags = (const char *const *)tags;
        in.ntags = n;
        rc = records_incident_add(x->v, &in, id, x->e);
    }
    strv_free(tags, n);
    return rc;
}

static const rkind kinds[] = {
    {"actor", "actor",
     "SELECT json_extract(value, '$.uuid'), json_extract(value, '$.name'), "
     "json_extract(value, '$.kind'), json_extract(value, '$.category'), "
     "json_extract(value, '$.other_names'), json_extract(value, "
     "'$.description'), json_extract(value, '$.confidential') FROM "
     "json_each(?1, '$.actors')",
     add_actor},
    {"source", "source",
     "SELECT json_extract(value, '$.uuid'), json_extract(value, '$.kind'), "
     "json_extract(value, '$.title'), json_extract(value, '$.description'), "
     "json_extract(value, '$.date'), json_extract(value, "
     "'$.date_precision'), json_extract(value, '$.reliability'), "
     "json_extract(value, '$.consent'), json_extract(value, '$.url'), "
     "json_extract(value, '$.confidential') FROM json_each(?1, '$.sources')",
     add_source},
    {"incident", "incident",
     "SELECT json_extract(value, '$.uuid'), json_extract(value, '$.title'), "
     "json_extract(value, '$.type'), json_extract(value, '$.status'), "
     "json_extract(value, '$.date'), json_extract(value, "
     "'$.date_precision'), json_extract(value, '$.end_date'), "
     "json_extract(value, '$.end_date_precision'), json_extract(value, "
     "'$.location'), json_extract(value, '$.latitude'), json_extract(value, "
     "'$.longitude'), json_extract(value, '$.confidential'), "
     "json_extract(value, '$.tags'), json_extract(value, '$.description') "
     "FROM json_each(?1, '$.incidents')",
     add_incident},
};

static int import_kind(rx *x, const rkind *k, const char *json, size_t len,
                       int64_t bundle, uint64_t *count)
{
    sqlite3_stmt *st = NULL;
    int rc, src;

    if ((rc = prep(x, k->sql, &st)) != 0)
        return rc;
    sqlite3_bind_text(st, 1, json, (int)len, SQLITE_STATIC);
    while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *uuid = col(st, 0);
        int64_t id;
        if (!uuid_ok(uuid)) {
            rc = err_set(x->e, EV_ERR_INTEGRITY, RECORDS_PATH ": %s with a "
                         "missing or malformed uuid", k->name);
            break;
        }
        if ((id = local_id(x, k->table, uuid)) < 0)
            rc = x->e->code;
        else if (id > 0)
            rc = present(x, bundle, k->name, uuid);
        else if ((rc = k->add(x, st, uuid, &id)) != 0)
            rc = bad_record(x, k->name, uuid, rc);
        else if (++(*count), 1)
            rc = provenance(x, bundle, k->name, uuid);
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = bad_record(x, k->name, NULL,
                        err_set(x->e, EV_ERR_INVALID, "%s",
                                sqlite3_errmsg(vault_db(x->v))));
    sqlite3_finalize(st);
    return rc;
}

/* Evidence rows: each names its file in the bag, which must have arrived
 * under data/evidence/ with the size and hash the record gives. */
static int import_evidence(rx *x, const tarbag *tb, const char *json,
                           size_t len, int64_t bundle)
{
    sqlite3_stmt *st = NULL;
    int rc, src;

    rc = prep(x, "SELECT json_extract(value, '$.uuid'), json_extract(value, "
                 "'$.file'), json_extract(value, '$.sha256'), "
                 "json_extract(value, '$.size'), json_extract(value, "
                 "'$.original_name'), json_extract(value, '$.media_type'), "
                 "json_extract(value, '$.method'), json_extract(value, "
                 "'$.url'), json_extract(value, '$.acquired_at'), "
                 "json_extract(value, '$.acquired_by'), json_extract(value, "
                 "'$.description') FROM json_each(?1, '$.evidence')",
              &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, json, (int)len, SQLITE_STATIC);
    while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *uuid = col(st, 0), *file = col(st, 1), *hex = col(st, 2);
        const tarbag_file *f = NULL;
        store_import im;
        size_t hl = 0;
        int64_t id;

        memset(&im, 0, sizeof im);
        if (!uuid_ok(uuid)) {
            rc = err_set(x->e, EV_ERR_INTEGRITY, RECORDS_PATH ": evidence "
                         "with a missing or malformed uuid");
            break;
        }
        if (file && strncmp(file, EVIDENCE_DIR, sizeof EVIDENCE_DIR - 1) == 0)
            f = tarbag_find(tb, file);
        if (!f || !hex ||
            sodium_hex2bin(im.sha256, sizeof im.sha256, hex, strlen(hex),
                           NULL, &hl, NULL) != 0 ||
            hl != 32 || strlen(hex) != 64 ||
            sodium_memcmp(im.sha256, f->sha256, 32) != 0 ||
            sqlite3_column_int64(st, 3) != (sqlite3_int64)f->size) {
            rc = err_set(x->e, EV_ERR_INTEGRITY,
                         RECORDS_PATH ": evidence %s: its file '%s' is not "
                         "in the bag under " EVIDENCE_DIR " with the size "
                         "and SHA-256 the record gives",
                         uuid, file ? file : "(none)");
            break;
        }
        ((tarbag_file *)f)->used = 1;
        if ((id = local_id(x, "evidence", uuid)) < 0) {
            rc = x->e->code;
            break;
        }
        if (id > 0) {
            rc = present(x, bundle, "evidence", uuid);
            continue;
        } else {
            im.uuid = uuid;
            im.size = f->size;
            im.original_name = col(st, 4) ? col(st, 4) : "";
            im.media_type = col(st, 5) ? col(st, 5)
                                       : "application/octet-stream";
            im.method = col(st, 6);
            im.url = col(st, 7);
            im.acquired_at = col(st, 8);
            im.acquired_by = col(st, 9);
            im.description = col(st, 10);
            if (!text_ok(im.original_name, 4096, 0) ||
                !text_ok(im.media_type, STORE_MEDIAMAX, 0) ||
                !text_ok(im.url, RECORDS_FIELDMAX, 0) ||
                !text_ok(im.acquired_by, RECORDS_FIELDMAX, 0) ||
                !text_ok(im.description, RECORDS_TEXTMAX, 1))
                rc = err_set(x->e, EV_ERR_INVALID, "a text field is too "
                             "long, not UTF-8 or holds control characters");
            else
                rc = store_evidence_import(x->v, &im, &id, x->e);
            if (rc != 0) {
                rc = bad_record(x, "evidence", uuid, rc);
                break;
            }
            x->res->evidence++;
        }
        rc = provenance(x, bundle, "evidence", uuid);
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = vault_sqlerr(x->v, src, "importing evidence", x->e);
    sqlite3_finalize(st);
    return rc;
}

/* Links of the incidents this import created: involvements, citations,
 * evidence, the version they supersede. Incidents the vault held already
 * keep their own links. */
/* 1 if incident inc is other or a version other supersedes (directly or
 * not): inc superseding other would close a loop. 0 if not, or an error. */
static int supersedes_loop(rx *x, int64_t inc, int64_t other)
{
    sqlite3_stmt *st = NULL;
    int src, rc = prep(x, "WITH RECURSIVE up(id) AS (SELECT ?1 UNION SELECT "
                          "p.supersedes FROM incident p JOIN up ON p.id = "
                          "up.id WHERE p.supersedes IS NOT NULL) SELECT 1 "
                          "FROM up WHERE id = ?2", &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, other);
    sqlite3_bind_int64(st, 2, inc);
    src = sqlite3_step(st);
    rc = src == SQLITE_ROW    ? 1
         : src == SQLITE_DONE ? 0
                              : vault_sqlerr(x->v, src, "importing", x->e);
    sqlite3_finalize(st);
    return rc;
}

static int import_links(rx *x, const char *json, size_t len,
                        int64_t first_new)
{
    static const char sql[] =
        "SELECT i.value ->> '$.uuid', 'actor', v.value ->> '$.actor', "
        "v.value ->> '$.role', v.value ->> '$.degree' FROM json_each(?1, "
        "'$.incidents') i, json_each(i.value, '$.involvements') v UNION ALL "
        "SELECT i.value ->> '$.uuid', 'source', s.value, NULL, NULL FROM "
        "json_each(?1, '$.incidents') i, json_each(i.value, '$.sources') s "
        "UNION ALL SELECT i.value ->> '$.uuid', 'evidence', ev.value, NULL, "
        "NULL FROM json_each(?1, '$.incidents') i, json_each(i.value, "
        "'$.evidence') ev UNION ALL SELECT i.value ->> '$.uuid', "
        "'supersedes', i.value ->> '$.supersedes', NULL, NULL FROM "
        "json_each(?1, '$.incidents') i WHERE i.value ->> '$.supersedes' IS "
        "NOT NULL";
    sqlite3_stmt *st = NULL;
    int rc, src;

    if ((rc = prep(x, sql, &st)) != 0)
        return rc;
    sqlite3_bind_text(st, 1, json, (int)len, SQLITE_STATIC);
    while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *iu = col(st, 0), *kind = col(st, 1), *ref = col(st, 2);
        int sup = strcmp(kind, "supersedes") == 0;
        int64_t inc, other;

        /* only incidents this import created (row ids only grow): those
         * the vault held already keep their own links */
        if (!iu || (inc = local_id(x, "incident", iu)) < 0) {
            rc = iu ? x->e->code : 0;
            continue;
        }
        if (inc < first_new)
            continue;
        /* links go only to records the bundle carries (not to the
         * receiver's own); a version may supersede one held here */
        if (!sup && ref && (rc = in_bundle(x, kind, ref)) != 1) {
            if (rc == 0)
                rc = err_set(x->e, EV_ERR_INTEGRITY, RECORDS_PATH
                             ": incident %s refers to %s %s, which is not "
                             "in the bundle", iu, kind, ref);
            break;
        }
        rc = 0;
        other = ref ? local_id(x, sup ? "incident" : kind, ref) : 0;
        if (other < 0) {
            rc = x->e->code;
            break;
        }
        if (other == 0) {
            if (sup)
                continue; /* the earlier version did not come along */
            rc = err_set(x->e, EV_ERR_INTEGRITY, RECORDS_PATH ": incident "
                         "%s refers to %s %s, which is not in the bundle",
                         iu, kind, ref ? ref : "(none)");
            break;
        }
        if (sup && (rc = supersedes_loop(x, inc, other)) != 0) {
            if (rc == 1)
                rc = err_set(x->e, EV_ERR_INTEGRITY, RECORDS_PATH
                             ": incident %s would supersede itself (through "
                             "incident %s)", iu, ref);
            break;
        }
        if (strcmp(kind, "actor") == 0)
            rc = records_link(x->v, inc, other, col(st, 3), col(st, 4),
                              x->e);
        else if (strcmp(kind, "source") == 0)
            rc = records_cite(x->v, inc, other, x->e);
        else if (!sup)
            rc = store_evidence_link(x->v, other, inc, x->e);
        else {
            sqlite3_stmt *up = NULL;
            if ((rc = prep(x, "UPDATE incident SET supersedes = ?1 WHERE id = "
                              "?2", &up)) == 0) {
                sqlite3_bind_int64(up, 1, other);
                sqlite3_bind_int64(up, 2, inc);
                if (sqlite3_step(up) != SQLITE_DONE)
                    rc = vault_sqlerr(x->v, sqlite3_errcode(vault_db(x->v)),
                                      "importing", x->e);
            }
            sqlite3_finalize(up);
        }
        if (rc != 0)
            rc = bad_record(x, "incident", iu, rc);
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = vault_sqlerr(x->v, src, "importing links", x->e);
    sqlite3_finalize(st);
    return rc;
}

/* The sender's seals: data/seals/UUID.json and its .minisig, which must be
 * by the partner's key and hash to what records.json says. */
/* 1 if the signed record rf is the seal records.json says: an evault
 * sealed record of incident iu, seal su, sealed at at. */
static int seal_matches(rx *x, const tarbag_file *rf, const char *iu,
                        const char *su, const char *at)
{
    sqlite3_stmt *st = NULL;
    int ok = 0;

    if (prep(x, "SELECT json_valid(?1) AND ?1 ->> '$.format' = "
                "'evault-sealed-record-1' AND ?1 ->> '$.incident.uuid' = ?2 "
                "AND ?1 ->> '$.seal.uuid' = ?3 AND ?1 ->> '$.seal.sealed_at' "
                "= ?4", &st) != 0)
        return 0;
    sqlite3_bind_text(st, 1, (const char *)rf->data, (int)rf->size,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 2, iu, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, su, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, at, -1, SQLITE_STATIC);
    ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1 &&
         !memchr(rf->data, '\0', rf->size);
    sqlite3_finalize(st);
    return ok;
}

static int import_seals(rx *x, const tarbag *tb, const char *json, size_t len,
                        int64_t bundle, int64_t first_new)
{
    sqlite3_stmt *st = NULL, *ins = NULL;
    int rc, src;

    rc = prep(x, "SELECT value ->> '$.uuid', value ->> '$.seal.uuid', value "
                 "->> '$.seal.sealed_at', value ->> '$.seal.sha256', value "
                 "->> '$.seal.file' FROM json_each(?1, '$.incidents') WHERE "
                 "value ->> '$.seal.file' IS NOT NULL", &st);
    if (rc == 0)
        rc = prep(x, "INSERT OR IGNORE INTO received_seal(bundle_id, "
                     "incident, seal, sealed_at, record, sha256, signature, "
                     "signer_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                  &ins);
    if (rc) {
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_bind_text(st, 1, json, (int)len, SQLITE_STATIC);
    while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *iu = col(st, 0), *su = col(st, 1), *at = col(st, 2),
                   *hex = col(st, 3), *file = col(st, 4);
        char want[80], sigpath[128], got[65];
        const tarbag_file *rf = NULL, *sf = NULL;
        uint8_t sha[32];
        msig_sig sig;

        if (uuid_ok(iu) && uuid_ok(su) && at && hex) {
            snprintf(want, sizeof want, SEALS_DIR "%s.json", iu);
            snprintf(sigpath, sizeof sigpath, "%s.minisig", want);
            if (strcmp(file, want) == 0) {
                rf = tarbag_find(tb, want);
                sf = tarbag_find(tb, sigpath);
            }
        }
        if (!rf || !sf || !rf->data || !sf->data) {
            rc = err_set(x->e, EV_ERR_INTEGRITY, RECORDS_PATH ": the seal of "
                         "incident %s is not in the bag as " SEALS_DIR
                         "UUID.json with its .minisig",
                         iu ? iu : "(no uuid)");
            break;
        }
        crypto_hash_sha256(sha, rf->data, rf->size);
        sodium_bin2hex(got, sizeof got, sha, sizeof sha);
        if (strcmp(got, hex) != 0 ||
            msig_sig_parse(&sig, (const char *)sf->data, sf->size) != 0 ||
            msig_verify(NULL, 0, &x->p.sign, &sig, rf->data, rf->size) != 0) {
            rc = err_set(x->e, EV_ERR_INTEGRITY, "'%s': the sealed record "
                         "does not match its hash or its signature by "
                         "partner '%s'", want, x->p.name);
            break;
        }
        if (!seal_matches(x, rf, iu, su, at)) {
            rc = err_set(x->e, EV_ERR_INTEGRITY, "'%s' is not the sealed "
                         "record of incident %s (seal %s, sealed at %s) "
                         "that " RECORDS_PATH " says it is", want, iu, su,
                         at);
            break;
        }
        /* kept only on incidents this import created or that came from
         * this partner before: never on the receiver's own */
        {
            int64_t id = local_id(x, "incident", iu);
            int mine = id >= first_new;
            if (id < 0) {
                rc = x->e->code;
                break;
            }
            if (!mine && (rc = from_partner(x, iu)) != 1) {
                if (rc < 0)
                    break;
                rc = 0;
                continue;
            }
            rc = 0;
        }
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, bundle);
        sqlite3_bind_text(ins, 2, iu, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, su, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, at, -1, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 5, rf->data, (int)rf->size, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 6, sha, 32, SQLITE_STATIC);
        sqlite3_bind_text(ins, 7, (const char *)sf->data, (int)sf->size,
                          SQLITE_STATIC);
        sqlite3_bind_text(ins, 8, x->p.minisign_key, -1, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = vault_sqlerr(x->v, sqlite3_errcode(vault_db(x->v)),
                              "keeping a seal", x->e);
        else
            x->res->seals += (uint64_t)sqlite3_changes(vault_db(x->v));
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = vault_sqlerr(x->v, src, "importing seals", x->e);
    sqlite3_finalize(st);
    sqlite3_finalize(ins);
    return rc;
}

/* Contents this import stored that no evidence record uses: removed
 * (their files were checked against the manifest, and are counted). */
static int drop_unused(rx *x)
{
    sqlite3_stmt *a = NULL, *b = NULL;
    int rc = prep(x, "DELETE FROM chunk WHERE blob_id = (SELECT id FROM blob "
                     "WHERE sha256 = ?1) AND NOT EXISTS (SELECT 1 FROM "
                     "evidence WHERE sha256 = ?1)", &a);
    if (rc == 0)
        rc = prep(x, "DELETE FROM blob WHERE sha256 = ?1 AND NOT EXISTS "
                     "(SELECT 1 FROM evidence WHERE sha256 = ?1)", &b);
    for (size_t i = 0; rc == 0 && i < x->nfresh; i++) {
        sqlite3_bind_blob(a, 1, x->fresh[i], 32, SQLITE_STATIC);
        sqlite3_bind_blob(b, 1, x->fresh[i], 32, SQLITE_STATIC);
        if (sqlite3_step(a) != SQLITE_DONE || sqlite3_step(b) != SQLITE_DONE)
            rc = vault_sqlerr(x->v, sqlite3_errcode(vault_db(x->v)),
                              "importing evidence", x->e);
        else if (sqlite3_changes(vault_db(x->v)) > 0)
            x->res->new_contents--;
        sqlite3_reset(a);
        sqlite3_reset(b);
    }
    sqlite3_finalize(a);
    sqlite3_finalize(b);
    return rc;
}

/* ---- the bag's identity and the import row ------------------------------ */

static int check_tag_signature(rx *x, const tarbag *tb)
{
    msig_sig sig;

    if (x->o->no_signature)
        return 0;
    if (!tb->tag[TARBAG_TAGSIG])
        return err_set(x->e, EV_ERR_INTEGRITY, "the bag has no "
                       "tagmanifest-sha256.txt.minisig: its tag manifest is "
                       "not signed by partner '%s'", x->p.name);
    if (msig_sig_parse(&sig, tb->tag[TARBAG_TAGSIG],
                       tb->taglen[TARBAG_TAGSIG]) != 0 ||
        msig_verify(NULL, 0, &x->p.sign, &sig,
                    (const uint8_t *)tb->tag[TARBAG_TAGMANIFEST],
                    tb->taglen[TARBAG_TAGMANIFEST]) != 0)
        return err_set(x->e, EV_ERR_INTEGRITY, "tagmanifest-sha256.txt.minisig "
                       "is not a signature of the tag manifest by partner "
                       "'%s'", x->p.name);
    return 0;
}

static int check_identity(rx *x, const tarbag *tb)
{
    const char *id = bag_info_get(&tb->info, BAG_LABEL_EXTERNAL_ID);
    const char *vid = bag_info_get(&tb->info, BAG_LABEL_SENDER_VAULT);
    const char *org = bag_info_get(&tb->info, BAG_LABEL_SOURCE_ORG);
    const char *date = bag_info_get(&tb->info, BAG_LABEL_BAGGING_DATE);

    if (!uuid_ok(id))
        return err_set(x->e, EV_ERR_INTEGRITY, "bag-info.txt: "
                       "External-Identifier is not a bundle UUID");
    if (vid && !hex32_ok(vid))
        return err_set(x->e, EV_ERR_INTEGRITY, "bag-info.txt: "
                       "Evault-Sender-Vault-Id is not a vault id");
    /* the two values kept in bundle_import: text fit to show */
    if (!text_ok(org, 1000, 0) || !text_ok(date, 32, 0))
        return err_set(x->e, EV_ERR_INTEGRITY, "bag-info.txt: "
                       "Source-Organization or Bagging-Date is too long or "
                       "holds control characters");
    if (x->trusted_uuid[0] && (strcmp(x->trusted_uuid, id) != 0 ||
                               !vid || strcmp(x->trusted_vault, vid) != 0))
        return err_set(x->e, EV_ERR_INTEGRITY, "the bundle's signature names "
                       "bundle %s from vault %s, but its bag says %s from %s",
                       x->trusted_uuid, x->trusted_vault, id,
                       vid ? vid : "(no vault)");
    if (x->p.vault_id[0] && vid && strcmp(x->p.vault_id, vid) != 0)
        return err_set(x->e, EV_ERR_INTEGRITY, "the bundle comes from vault "
                       "%s, but partner '%s' is vault %s", vid, x->p.name,
                       x->p.vault_id);
    snprintf(x->res->uuid, sizeof x->res->uuid, "%s", id);
    snprintf(x->res->sender_vault_id, sizeof x->res->sender_vault_id, "%s",
             vid ? vid : "");
    snprintf(x->res->sender_name, sizeof x->res->sender_name, "%s",
             org ? org : "");
    if (org && strlen(org) >= sizeof x->res->sender_name) {
        /* cut between characters, not inside one */
        size_t n = sizeof x->res->sender_name - 1;
        while (n > 0 && ((unsigned char)org[n] & 0xc0) == 0x80)
            n--;
        x->res->sender_name[n] = '\0';
    }
    return 0;
}

/* 1 and res->received if the bundle was imported before, 0, or an error. */
static int imported_before(rx *x)
{
    sqlite3_stmt *st = NULL;
    int src, rc = prep(x, "SELECT received FROM bundle_import WHERE uuid = ?1",
                  &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, x->res->uuid, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        snprintf(x->res->received, sizeof x->res->received, "%s",
                 (const char *)sqlite3_column_text(st, 0));
        rc = 1;
    } else if (src != SQLITE_DONE) {
        rc = vault_sqlerr(x->v, src, "looking up earlier imports", x->e);
    }
    sqlite3_finalize(st);
    return rc;
}

static int insert_import(rx *x, const tarbag *tb, int64_t *id)
{
    const tarbag_file *cf = tarbag_find(tb, CUSTODY_PATH);
    const char *date = bag_info_get(&tb->info, BAG_LABEL_BAGGING_DATE);
    const char *org = bag_info_get(&tb->info, BAG_LABEL_SOURCE_ORG);
    sqlite3_stmt *st = NULL;
    int rc = prep(x, "INSERT INTO bundle_import(uuid, partner, partner_key, "
                     "sender_vault_id, sender_name, bagging_date, "
                     "signature_checked, received, bundle_bytes, custody) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, x->res->uuid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, x->p.name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, x->p.minisign_key, -1, SQLITE_STATIC);
    if (x->res->sender_vault_id[0])
        sqlite3_bind_text(st, 4, x->res->sender_vault_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, org ? org : "", -1, SQLITE_STATIC);
    if (date)
        sqlite3_bind_text(st, 6, date, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, !x->o->no_signature);
    sqlite3_bind_text(st, 8, x->res->received, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)x->res->bytes);
    if (cf && cf->data)
        sqlite3_bind_blob(st, 10, cf->data, (int)cf->size, SQLITE_STATIC);
    else
        sqlite3_bind_zeroblob(st, 10, 0);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = vault_sqlerr(x->v, sqlite3_errcode(vault_db(x->v)),
                          "recording the import", x->e);
    else
        *id = sqlite3_last_insert_rowid(vault_db(x->v));
    sqlite3_finalize(st);
    return rc;
}

/* One more than the largest incident row id (new rows get larger ones). */
static int64_t max_incident(rx *x)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;

    if (prep(x, "SELECT coalesce(max(id), 0) + 1 FROM incident", &st) == 0 &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Everything after the bag checked out, inside the transaction. */
static int import_records(rx *x, const tarbag *tb)
{
    const tarbag_file *rf = tarbag_find(tb, RECORDS_PATH);
    sqlite3_stmt *st = NULL;
    const char *json;
    char detail[CUSTODY_DETAILMAX];
    int64_t bundle = 0, first_new = 0;
    size_t len;
    int rc, ok = 0;

    if (!rf || !rf->data)
        return err_set(x->e, EV_ERR_INTEGRITY, "the bag has no "
                       RECORDS_PATH ": it is not an evault bundle");
    json = (const char *)rf->data;
    len = rf->size;
    if ((rc = prep(x, "SELECT json_valid(?1) AND ?1 ->> '$.format' = "
                      "'evault-bundle-records-1' AND ?1 ->> '$.bundle' = ?2",
                   &st)) != 0)
        return rc;
    sqlite3_bind_text(st, 1, json, (int)len, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, x->res->uuid, -1, SQLITE_STATIC);
    ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    if (!ok || memchr(json, '\0', len))
        return err_set(x->e, EV_ERR_INTEGRITY, RECORDS_PATH " is not JSON "
                       "in the evault-bundle-records-1 format for bundle %s",
                       x->res->uuid);
    if ((rc = insert_import(x, tb, &bundle)) != 0 ||
        (rc = bundle_uuids(x, json, len)) != 0)
        return rc;
    if ((rc = import_kind(x, &kinds[0], json, len, bundle,
                          &x->res->actors)) != 0 ||
        (rc = import_kind(x, &kinds[1], json, len, bundle,
                          &x->res->sources)) != 0 ||
        (rc = import_evidence(x, tb, json, len, bundle)) != 0 ||
        (first_new = max_incident(x)) < 0 ||
        (rc = import_kind(x, &kinds[2], json, len, bundle,
                          &x->res->incidents)) != 0 ||
        (rc = import_links(x, json, len, first_new)) != 0 ||
        (rc = import_seals(x, tb, json, len, bundle, first_new)) != 0 ||
        (rc = drop_unused(x)) != 0)
        return first_new < 0 ? (int)first_new : rc;
    for (size_t i = 0; i < tb->nfiles; i++) {
        const char *p = tb->files[i].path;
        if (strncmp(p, EVIDENCE_DIR, sizeof EVIDENCE_DIR - 1) == 0
                ? !tb->files[i].used
                : strcmp(p, RECORDS_PATH) && strcmp(p, CUSTODY_PATH) &&
                      strcmp(p, "data/records.csv") &&
                      strncmp(p, SEALS_DIR, sizeof SEALS_DIR - 1))
            x->res->ignored++;
    }
    snprintf(detail, sizeof detail,
             "from partner %s (vault %s): %llu incidents, %llu actors, %llu "
             "sources, %llu evidence, %llu seals, %llu already here; "
             "signatures %s",
             x->p.name, x->res->sender_vault_id[0] ? x->res->sender_vault_id
                                                   : "unknown",
             (unsigned long long)x->res->incidents,
             (unsigned long long)x->res->actors,
             (unsigned long long)x->res->sources,
             (unsigned long long)x->res->evidence,
             (unsigned long long)x->res->seals,
             (unsigned long long)x->res->present,
             x->o->no_signature ? "NOT checked (--no-signature)" : "checked");
    if (sqlite3_exec(vault_db(x->v), "DROP TABLE temp.rx_uuid", NULL, NULL,
                     NULL) != SQLITE_OK)
        return vault_sqlerr(x->v, sqlite3_errcode(vault_db(x->v)),
                            "importing", x->e);
    return custody_append(x->v, "import", "bundle", x->res->uuid, detail,
                          x->e);
}

int receive_bundle(vault *v, const receive_opts *o, receive_result *res,
                   report *r, ev_err *e)
{
    rx x;
    tarbag tb;
    tarbag_sink sink;
    struct stat st1;
    struct identity *id = vault_identity(v);
    sqlite3 *db = vault_db(v);
    int rc, arc, began = 0;

    memset(res, 0, sizeof *res);
    memset(&x, 0, sizeof x);
    tarbag_init(&tb);
    x.v = v;
    x.o = o;
    x.res = res;
    x.e = e;
    x.fd = -1;
    if ((rc = partner_get(v, o->partner, &x.p, e)) != 0)
        goto out;
    if (!id && !o->passphrase) {
        rc = err_set(e, EV_ERR_INTERNAL, "the vault has no identity");
        goto out;
    }
    x.fd = open_regular(o->path);
    if (x.fd < 0 || fstat(x.fd, &x.st) != 0 || !S_ISREG(x.st.st_mode)) {
        rc = err_set(e, x.fd < 0 && errno == ENOENT ? EV_ERR_NOTFOUND
                                                     : EV_ERR_IO,
                     "cannot read '%s': %s", o->path,
                     x.fd < 0 ? strerror(errno) : "not a regular file");
        goto out;
    }
    res->bytes = (uint64_t)x.st.st_size;
    res->signature_checked = !o->no_signature;
    x.total = res->bytes * (o->no_signature ? 1 : 2);
    if (!o->no_signature && (rc = check_file_signature(&x)) != 0)
        goto out;
    arc = o->passphrase
              ? age_dec_new_scrypt(&x.dec, o->passphrase, o->passphrase_len,
                                   0, age_read, &x)
              : age_dec_new_x25519(&x.dec, id->box_sk, age_read, &x);
    if (arc != 0) {
        rc = err_set(e, EV_ERR_NOMEM, "cannot start decrypting: %s",
                     age_strerror(arc));
        goto out;
    }
    if ((arc = age_dec_header(x.dec)) != 0) {
        rc = age_fail(&x, arc);
        goto out;
    }
    if (!(x.pump = pump_new(x.dec))) {
        rc = err_set(e, EV_ERR_NOMEM, "cannot start decrypting");
        goto out;
    }
    rec_now(res->received);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = vault_sqlerr(v, sqlite3_errcode(db), "starting the import", e);
        goto out;
    }
    began = 1;
    sink.begin = sink_begin;
    sink.data = sink_data;
    sink.end = sink_end;
    sink.arg = &x;
    if ((rc = tarbag_read(&tb, tar_read, &x, &sink, r, e)) != 0)
        goto out;
    if (fstat(x.fd, &st1) != 0 || st1.st_size != x.st.st_size ||
        st1.st_ino != x.st.st_ino || st1.st_mtim.tv_sec != x.st.st_mtim.tv_sec ||
        st1.st_mtim.tv_nsec != x.st.st_mtim.tv_nsec ||
        st1.st_ctim.tv_sec != x.st.st_ctim.tv_sec ||
        st1.st_ctim.tv_nsec != x.st.st_ctim.tv_nsec) {
        rc = err_set(e, EV_ERR_INTEGRITY, "'%s' changed while it was read: "
                     "nothing was imported", o->path);
        goto out;
    }
    if ((rc = check_tag_signature(&x, &tb)) != 0 ||
        (rc = check_identity(&x, &tb)) != 0)
        goto out;
    if ((rc = imported_before(&x)) < 0)
        goto out;
    if (rc == 1) {
        res->already = 1;
        res->new_contents = 0;
        rc = 0;
        goto out; /* rolled back below: nothing changes */
    }
    if ((rc = import_records(&x, &tb)) != 0)
        goto out;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = vault_sqlerr(v, sqlite3_errcode(db), "committing the import", e);
        goto out;
    }
    began = 0;
out:
    store_blob_abort(x.w);
    if (began && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    pump_free(x.pump); /* before the decryptor it uses */
    age_dec_free(x.dec);
    if (x.fd >= 0)
        close(x.fd);
    free(x.fresh);
    tarbag_clear(&tb);
    if (rc != 0 && !res->already) {
        uint64_t bytes = res->bytes;
        memset(res, 0, sizeof *res);
        res->bytes = bytes;
    }
    return rc;
}

int receive_verify_seals(vault *v, report *r, uint64_t *checked,
                         uint64_t *bad, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, src;

    *checked = *bad = 0;
    src = sqlite3_prepare_v2(vault_db(v),
                             "SELECT s.incident, s.record, s.sha256, "
                             "s.signature, s.signer_key, b.partner FROM "
                             "received_seal s JOIN bundle_import b ON b.id = "
                             "s.bundle_id ORDER BY s.id",
                             -1, &st, NULL);
    if (src != SQLITE_OK)
        return vault_sqlerr(v, src, "reading received seals", e);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        const uint8_t *rec = sqlite3_column_blob(st, 1);
        size_t rlen = (size_t)sqlite3_column_bytes(st, 1);
        const char *sigt = (const char *)sqlite3_column_text(st, 3),
                   *key = (const char *)sqlite3_column_text(st, 4);
        uint8_t sha[32];
        msig_pubkey pub;
        msig_sig sig;
        int ok;

        crypto_hash_sha256(sha, rec ? rec : (const uint8_t *)"", rlen);
        ok = sqlite3_column_bytes(st, 2) == 32 &&
             sodium_memcmp(sha, sqlite3_column_blob(st, 2), 32) == 0 &&
             sigt && key &&
             msig_pubkey_parse(&pub, key, strlen(key)) == 0 &&
             msig_sig_parse(&sig, sigt, strlen(sigt)) == 0 &&
             msig_verify(NULL, 0, &pub, &sig, rec ? rec : sha, rlen) == 0;
        (*checked)++;
        if (!ok) {
            (*bad)++;
            report_add(r, "received seal of incident %s (from partner %s): "
                          "the record does not match its hash or signature",
                       (const char *)sqlite3_column_text(st, 0),
                       (const char *)sqlite3_column_text(st, 5));
        }
    }
    if (src != SQLITE_DONE)
        rc = vault_sqlerr(v, src, "reading received seals", e);
    sqlite3_finalize(st);
    return rc;
}
