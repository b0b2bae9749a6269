/*
 * store: the evidence store (see store.h and docs/evidence-format.md).
 *
 * Layout of this file: opening a source file safely; the streaming ingest
 * (read, hash, chunk rows under a staging key, media type from the first
 * chunk, change detection); evidence rows and links; extract; reading
 * evidence back.
 *
 * Dedup without knowing the hash in advance: a blob row is inserted first
 * under a random 32-byte staging hash, and the chunks reference its integer
 * id. At the end, if the content's hash is already a blob, the savepoint
 * around the inserts is rolled back (the appended pages are simply cut off
 * again); otherwise the blob row alone is updated to the real hash and
 * size. The source file is read exactly once, which matters for slow
 * removable media and keeps change detection to a single pass.
 */
#define _GNU_SOURCE
#include "store.h"
#include "custody.h"

#include <errno.h>
#include <fcntl.h>
#include <magic.h>
#include <nettle/sha2.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../crypto/sha256pipe.h"
#include "chunkread.h"
#include "rec.h"

/* Methods the schema allows (evidence.method CHECK). */
static const char *const methods[] = {"photo",    "video",    "screenshot",
                                      "download", "document", "audio",
                                      "web-archive", "other", NULL};

/* ---- opening a source file -------------------------------------------- */

static const char *kind_of(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISLNK(m))
        return "a symbolic link: give the file it points to";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "a device";
    if (S_ISFIFO(m))
        return "a FIFO (named pipe)";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

int store_open_source(const char *path, int *fd, struct stat *st, ev_err *e)
{
    struct stat lst;
    int f = -1, rc = EV_ERR_INTERNAL, flags;

    *fd = -1;
    /* lstat first: opening a FIFO or a device can block or have effects. */
    if (lstat(path, &lst) != 0) {
        rc = err_set(e, errno == ENOENT ? EV_ERR_NOTFOUND : EV_ERR_IO,
                     "cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(lst.st_mode)) {
        rc = err_set(e, EV_ERR_INVALID, "cannot add '%s': it is %s", path,
                     kind_of(lst.st_mode));
        goto out;
    }
    f = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (f < 0) {
        if (errno == ELOOP)
            rc = err_set(e, EV_ERR_INVALID, "cannot add '%s': it is %s",
                         path, kind_of(S_IFLNK));
        else
            rc = err_set(e, errno == ENOENT ? EV_ERR_NOTFOUND : EV_ERR_IO,
                         "cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    if (fstat(f, st) != 0) {
        rc = err_set(e, EV_ERR_IO, "cannot read '%s': %s", path,
                     strerror(errno));
        goto out;
    }
    /* Replaced between lstat and open? Judge what was opened. */
    if (!S_ISREG(st->st_mode)) {
        rc = err_set(e, EV_ERR_INVALID, "cannot add '%s': it is %s", path,
                     kind_of(st->st_mode));
        goto out;
    }
    flags = fcntl(f, F_GETFL);
    if (flags < 0 || fcntl(f, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        rc = err_set(e, EV_ERR_IO, "cannot read '%s': %s", path,
                     strerror(errno));
        goto out;
    }
    (void)posix_fadvise(f, 0, 0, POSIX_FADV_SEQUENTIAL);
    *fd = f;
    f = -1;
    rc = 0;
out:
    if (f >= 0)
        close(f);
    return rc;
}

/* ---- small helpers ---------------------------------------------------- */

static int exec_sql(vault *v, const char *sql, const char *what, ev_err *e)
{
    int rc = sqlite3_exec(vault_db(v), sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : vault_sqlerr(v, rc, what, e);
}

static int prepare(vault *v, const char *sql, sqlite3_stmt **st, ev_err *e)
{
    int rc = sqlite3_prepare_v2(vault_db(v), sql, -1, st, NULL);
    return rc == SQLITE_OK ? 0 : vault_sqlerr(v, rc, "preparing a query", e);
}

/* Read until buf is full or EOF. Returns bytes read, or -1 (errno set). */
static ssize_t read_full(int fd, uint8_t *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = read(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

static int write_full(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static const char *base_name(const char *path, char *buf, size_t len)
{
    size_t n = strlen(path), start;

    while (n > 1 && path[n - 1] == '/')
        n--;
    start = n;
    while (start > 0 && path[start - 1] != '/')
        start--;
    if (n - start >= len)
        n = start + len - 1;
    memcpy(buf, path + start, n - start);
    buf[n - start] = '\0';
    return buf;
}

static int same_time(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/*
 * Media type of the first chunk. The file is hostile: no decompressors (in
 * process or forked), none of libmagic's built-in parsers for compound
 * documents, ELF, tar, JSON or CSV; soft magic and text detection only,
 * on at most one chunk.
 */
static void media_type(const uint8_t *buf, size_t len, char *out)
{
    const int flags = MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS |
                      MAGIC_NO_COMPRESS_FORK | MAGIC_NO_CHECK_TAR |
                      MAGIC_NO_CHECK_ELF | MAGIC_NO_CHECK_CDF |
                      MAGIC_NO_CHECK_APPTYPE | MAGIC_NO_CHECK_JSON |
                      MAGIC_NO_CHECK_CSV;
    magic_t m = magic_open(flags);
    const char *t = NULL;
    size_t bytes_max = len > 0 ? len : 1;

    snprintf(out, STORE_MEDIAMAX + 1, "application/octet-stream");
    if (!m)
        return;
    if (magic_load(m, NULL) == 0 &&
        magic_setparam(m, MAGIC_PARAM_BYTES_MAX, &bytes_max) == 0)
        t = magic_buffer(m, buf, len);
    if (t && *t && strlen(t) <= STORE_MEDIAMAX &&
        strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789/.+-_") == strlen(t) &&
        strchr(t, '/'))
        snprintf(out, STORE_MEDIAMAX + 1, "%s", t);
    magic_close(m);
}

/* ---- ingest ----------------------------------------------------------- */

struct stream {
    uint8_t staging[STORE_HASHLEN]; /* the blob row's hash until the end */
    int64_t blob_id;                /* OUT: the blob row the chunks hang off */
    uint8_t sha256[STORE_HASHLEN];  /* OUT */
    uint64_t size;                  /* OUT */
    char media[STORE_MEDIAMAX + 1]; /* OUT */
};

/*
 * Read fd to the end into chunk rows under a fresh staging key (with its
 * staging blob row), hashing as it goes. Call inside a savepoint: on error
 * the caller rolls back. st0 is the fstat at open.
 */
static int stream_in(vault *v, int fd, const struct stat *st0,
                     const char *path, store_progress_fn progress, void *arg,
                     struct stream *s, ev_err *e)
{
    sqlite3_stmt *ins = NULL, *blob = NULL;
    struct sha256_ctx h;
    struct stat st1;
    uint8_t *buf = NULL;
    uint64_t total = 0, expect = (uint64_t)st0->st_size;
    int64_t seq = 0;
    char now[REC_TIMELEN + 1];
    int rc = EV_ERR_INTERNAL, src;

    buf = malloc(STORE_CHUNK);
    if (!buf) {
        rc = err_set(e, EV_ERR_NOMEM, "out of memory");
        goto out;
    }
    randombytes_buf(s->staging, sizeof s->staging);
    rec_now(now);
    if ((rc = prepare(v,
                      "INSERT INTO blob(sha256, size, chunk_size, created) "
                      "VALUES (?1, 0, ?2, ?3)",
                      &blob, e)) != 0)
        goto out;
    sqlite3_bind_blob(blob, 1, s->staging, STORE_HASHLEN, SQLITE_STATIC);
    sqlite3_bind_int(blob, 2, STORE_CHUNK);
    sqlite3_bind_text(blob, 3, now, -1, SQLITE_STATIC);
    if ((src = sqlite3_step(blob)) != SQLITE_DONE) {
        rc = vault_sqlerr(v, src, "storing evidence", e);
        goto out;
    }
    s->blob_id = sqlite3_last_insert_rowid(vault_db(v));
    if ((rc = prepare(v,
                      "INSERT INTO chunk(blob_id, seq, data) "
                      "VALUES (?1, ?2, ?3)",
                      &ins, e)) != 0)
        goto out;
    sqlite3_bind_int64(ins, 1, s->blob_id);
    sha256_init(&h);
    for (;;) {
        ssize_t n = read_full(fd, buf, STORE_CHUNK);
        if (n < 0) {
            rc = err_set(e, EV_ERR_IO, "cannot read '%s': %s", path,
                         strerror(errno));
            goto out;
        }
        if (total + (uint64_t)n > expect) {
            rc = err_set(e, EV_ERR_IO,
                         "'%s' grew while it was being read: nothing was "
                         "stored; add it again once nothing writes to it",
                         path);
            goto out;
        }
        if (seq == 0)
            media_type(buf, (size_t)n, s->media);
        if (n > 0) {
            sha256_update(&h, (size_t)n, buf);
            sqlite3_bind_int64(ins, 2, seq);
            sqlite3_bind_blob(ins, 3, buf, (int)n, SQLITE_STATIC);
            src = sqlite3_step(ins);
            sqlite3_reset(ins);
            if (src != SQLITE_DONE) {
                rc = vault_sqlerr(v, src, "storing evidence", e);
                goto out;
            }
            seq++;
            total += (uint64_t)n;
            if (progress && progress(arg, total, expect)) {
                rc = err_set(e, EV_ERR_REFUSED,
                             "cancelled while adding '%s': nothing was "
                             "stored",
                             path);
                goto out;
            }
        }
        if ((size_t)n < STORE_CHUNK)
            break;
    }
    if (fstat(fd, &st1) != 0) {
        rc = err_set(e, EV_ERR_IO, "cannot read '%s': %s", path,
                     strerror(errno));
        goto out;
    }
    if (total != expect || st1.st_size != st0->st_size ||
        st1.st_ino != st0->st_ino || st1.st_dev != st0->st_dev ||
        !same_time(&st1.st_mtim, &st0->st_mtim) ||
        !same_time(&st1.st_ctim, &st0->st_ctim)) {
        rc = err_set(e, EV_ERR_IO,
                     "'%s' changed while it was being read (size or "
                     "modification time): nothing was stored; add it "
                     "again once nothing writes to it",
                     path);
        goto out;
    }
    sha256_digest(&h, STORE_HASHLEN, s->sha256);
    s->size = total;
    rc = 0;
out:
    sqlite3_finalize(ins);
    sqlite3_finalize(blob);
    if (buf) {
        sodium_memzero(buf, STORE_CHUNK);
        free(buf);
    }
    return rc;
}

/* 1 if a blob row with this hash exists, 0 if not, or an error. */
static int blob_exists(vault *v, const uint8_t *sha, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc, src;

    if ((rc = prepare(v, "SELECT 1 FROM blob WHERE sha256 = ?1", &st, e)))
        return rc;
    sqlite3_bind_blob(st, 1, sha, STORE_HASHLEN, SQLITE_STATIC);
    src = sqlite3_step(st);
    rc = src == SQLITE_ROW    ? 1
         : src == SQLITE_DONE ? 0
                              : vault_sqlerr(v, src, "looking up content", e);
    sqlite3_finalize(st);
    return rc;
}

/* Give the staged blob row its content's hash and size. */
static int rekey(vault *v, const struct stream *s, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc, src;

    if ((rc = prepare(v, "UPDATE blob SET sha256 = ?1, size = ?2 WHERE id = ?3",
                      &st, e)) != 0)
        return rc;
    sqlite3_bind_blob(st, 1, s->sha256, STORE_HASHLEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)s->size);
    sqlite3_bind_int64(st, 3, s->blob_id);
    src = sqlite3_step(st);
    sqlite3_finalize(st);
    return src == SQLITE_DONE ? 0 : vault_sqlerr(v, src, "storing evidence", e);
}

/* ---- evidence rows ---------------------------------------------------- */

int store_meta_check(const store_meta *m, ev_err *e)
{
    int ok = 0;

    if (!m)
        return 0;
    if (m->method) {
        for (size_t i = 0; methods[i]; i++)
            ok |= strcmp(m->method, methods[i]) == 0;
        if (!ok)
            return err_set(e, EV_ERR_INVALID,
                           "unknown method '%s': use photo, video, "
                           "screenshot, download, document, audio, "
                           "web-archive or other",
                           m->method);
    }
    if (m->acquired_at && rec_time_check("--acquired-at", m->acquired_at, e))
        return EV_ERR_INVALID;
    return 0;
}

/* The id of an evidence row with this content (linked to incident if
 * incident > 0), or 0 if none, or an error. */
static int64_t find_evidence(vault *v, const uint8_t *sha, int64_t incident,
                             ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int64_t id;
    int rc, src;

    rc = prepare(v,
                 incident > 0
                     ? "SELECT e.id FROM evidence e JOIN evidence_link l ON "
                       "l.evidence_id = e.id WHERE e.sha256 = ?1 AND "
                       "l.incident_id = ?2 ORDER BY e.id LIMIT 1"
                     : "SELECT id FROM evidence WHERE sha256 = ?1 "
                       "ORDER BY id LIMIT 1",
                 &st, e);
    if (rc)
        return rc;
    sqlite3_bind_blob(st, 1, sha, STORE_HASHLEN, SQLITE_STATIC);
    if (incident > 0)
        sqlite3_bind_int64(st, 2, incident);
    src = sqlite3_step(st);
    id = src == SQLITE_ROW    ? sqlite3_column_int64(st, 0)
         : src == SQLITE_DONE ? 0
                              : vault_sqlerr(v, src, "looking up evidence", e);
    sqlite3_finalize(st);
    return id;
}

static int link_evidence(vault *v, int64_t evidence, int64_t incident,
                         ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc, src;

    if ((rc = prepare(v,
                      "INSERT INTO evidence_link(evidence_id, incident_id) "
                      "VALUES (?1, ?2)",
                      &st, e)))
        return rc;
    sqlite3_bind_int64(st, 1, evidence);
    sqlite3_bind_int64(st, 2, incident);
    src = sqlite3_step(st);
    sqlite3_finalize(st);
    return src == SQLITE_DONE ? 0
                              : vault_sqlerr(v, src, "linking evidence", e);
}

static int insert_evidence(vault *v, const struct stream *s,
                           const char *name, const store_meta *m,
                           int64_t *id, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    char uuid[REC_UUIDLEN + 1], now[REC_TIMELEN + 1], at[REC_TIMELEN + 1];
    const char *acq = m ? m->acquired_at : NULL;
    int rc, src;

    rec_uuid(uuid);
    rec_now(now);
    if (!acq)
        acq = now;
    else if (strlen(acq) == 10) { /* a date: midnight UTC */
        snprintf(at, sizeof at, "%sT00:00:00Z", acq);
        acq = at;
    }
    if ((rc = prepare(v,
                      "INSERT INTO evidence(uuid, sha256, original_name, "
                      "size, media_type, method, url, acquired_at, "
                      "acquired_by, description, created) VALUES (?1, ?2, "
                      "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                      &st, e)))
        return rc;
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, s->sha256, STORE_HASHLEN, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)s->size);
    sqlite3_bind_text(st, 5, s->media, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, m && m->method ? m->method : "document", -1,
                      SQLITE_STATIC);
    if (m && m->url)
        sqlite3_bind_text(st, 7, m->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, acq, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, m && m->acquired_by ? m->acquired_by : "", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 10, m && m->description ? m->description : "", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 11, now, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    sqlite3_finalize(st);
    if (src != SQLITE_DONE)
        return vault_sqlerr(v, src, "storing evidence", e);
    *id = sqlite3_last_insert_rowid(vault_db(v));
    return 0;
}

static int incident_exists(vault *v, int64_t incident, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc, src;

    if ((rc = prepare(v, "SELECT 1 FROM incident WHERE id = ?1", &st, e)))
        return rc;
    sqlite3_bind_int64(st, 1, incident);
    src = sqlite3_step(st);
    sqlite3_finalize(st);
    if (src == SQLITE_ROW)
        return 0;
    if (src == SQLITE_DONE)
        return err_set(e, EV_ERR_NOTFOUND, "no incident %lld",
                       (long long)incident);
    return vault_sqlerr(v, src, "looking up the incident", e);
}

/* Custody entry for evidence ev attached to incident: its hash and size,
 * never its name or content. */
static int log_attach(vault *v, int64_t ev, int64_t incident,
                      const uint8_t *sha, uint64_t size, ev_err *e)
{
    char eu[REC_UUIDLEN + 1], iu[REC_UUIDLEN + 1], hex[65], detail[200];
    int rc = rec_uuid_of(vault_db(v), "evidence", ev, eu, e);

    if (rc == 0)
        rc = rec_uuid_of(vault_db(v), "incident", incident, iu, e);
    if (rc != 0)
        return rc;
    sodium_bin2hex(hex, sizeof hex, sha, STORE_HASHLEN);
    snprintf(detail, sizeof detail, "to incident %s, %llu bytes, sha256 %s",
             iu, (unsigned long long)size, hex);
    return custody_append(v, "attach", "evidence", eu, detail, e);
}

int store_evidence_add(vault *v, int64_t incident_id, const char *path,
                       const store_meta *m, store_progress_fn progress,
                       void *arg, store_added *out, ev_err *e)
{
    sqlite3 *db = vault_db(v);
    struct stream s;
    struct stat st0;
    char name[1024];
    int fd = -1, rc = EV_ERR_INTERNAL, own_txn = 0, in_sp = 0, in_chunks = 0;
    int64_t found;

    memset(out, 0, sizeof *out);
    memset(&s, 0, sizeof s);
    if ((rc = store_meta_check(m, e)) != 0)
        goto out;
    if ((rc = store_open_source(path, &fd, &st0, e)) != 0)
        goto out;
    base_name(path, name, sizeof name);
    if (sqlite3_get_autocommit(db)) {
        if ((rc = exec_sql(v, "BEGIN IMMEDIATE", "starting to add evidence",
                           e)) != 0)
            goto out;
        own_txn = 1;
    }
    if ((rc = exec_sql(v, "SAVEPOINT store_add", "adding evidence", e)))
        goto out;
    in_sp = 1;
    if ((rc = incident_exists(v, incident_id, e)) != 0)
        goto out;
    if ((rc = exec_sql(v, "SAVEPOINT store_chunks", "adding evidence", e)))
        goto out;
    in_chunks = 1;
    if ((rc = stream_in(v, fd, &st0, path, progress, arg, &s, e)) != 0)
        goto out;
    if ((rc = blob_exists(v, s.sha256, e)) < 0)
        goto out;
    if (rc == 1) {
        /* Stored already: drop what was just written. */
        out->content_existed = 1;
        if ((rc = exec_sql(v, "ROLLBACK TO store_chunks", "adding evidence",
                           e)))
            goto out;
    } else if ((rc = rekey(v, &s, e)) != 0) {
        goto out;
    }
    if ((rc = exec_sql(v, "RELEASE store_chunks", "adding evidence", e)))
        goto out;
    in_chunks = 0;

    if ((found = find_evidence(v, s.sha256, incident_id, e)) < 0) {
        rc = (int)found;
        goto out;
    }
    if (found > 0) {
        char uuid[REC_UUIDLEN + 1] = "?";
        rec_uuid_of(db, "evidence", found, uuid, NULL);
        rc = err_set(e, EV_ERR_EXISTS,
                     "'%s' is already attached to incident %lld as "
                     "evidence %lld (%s)",
                     path, (long long)incident_id, (long long)found, uuid);
        goto out;
    }
    if ((found = find_evidence(v, s.sha256, 0, e)) < 0) {
        rc = (int)found;
        goto out;
    }
    if (found > 0) {
        out->evidence_id = found;
        out->linked_existing = 1;
    } else if ((rc = insert_evidence(v, &s, name, m, &out->evidence_id, e))) {
        goto out;
    }
    if ((rc = link_evidence(v, out->evidence_id, incident_id, e)) != 0)
        goto out;
    if ((rc = log_attach(v, out->evidence_id, incident_id, s.sha256, s.size,
                         e)) != 0)
        goto out;
    if ((rc = exec_sql(v, "RELEASE store_add", "adding evidence", e)))
        goto out;
    in_sp = 0;
    if (own_txn) {
        if ((rc = exec_sql(v, "COMMIT", "committing evidence", e)) != 0)
            goto out;
        own_txn = 0;
    }
    out->size = s.size;
    memcpy(out->sha256, s.sha256, STORE_HASHLEN);
    snprintf(out->media_type, sizeof out->media_type, "%s", s.media);
    rc = 0;
out:
    if (rc != 0 && !sqlite3_get_autocommit(db)) {
        if (in_chunks || in_sp)
            sqlite3_exec(db, "ROLLBACK TO store_add; RELEASE store_add", NULL,
                         NULL, NULL);
        if (own_txn && !sqlite3_get_autocommit(db))
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (rc != 0) {
        out->evidence_id = 0;
        out->linked_existing = 0;
    }
    if (fd >= 0)
        close(fd);
    sodium_memzero(&s, sizeof s);
    return rc;
}

/* ---- streaming writer (bundle import) ------------------------------------ */

struct store_blob_writer {
    vault *v;
    sqlite3_stmt *ins;
    uint8_t *buf; /* STORE_CHUNK bytes: rows are whole chunks but the last */
    size_t fill;
    int64_t seq;
    struct stream s;
};

void store_blob_abort(store_blob_writer *w)
{
    if (!w)
        return;
    sqlite3_finalize(w->ins);
    if (w->buf) {
        sodium_memzero(w->buf, STORE_CHUNK);
        free(w->buf);
    }
    sodium_memzero(w, sizeof *w);
    free(w);
}

int store_blob_begin(vault *v, store_blob_writer **out, ev_err *e)
{
    store_blob_writer *w = calloc(1, sizeof *w);
    sqlite3_stmt *blob = NULL;
    char now[REC_TIMELEN + 1];
    int rc, src;

    *out = NULL;
    if (!w || !(w->buf = malloc(STORE_CHUNK))) {
        store_blob_abort(w);
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    }
    w->v = v;
    randombytes_buf(w->s.staging, sizeof w->s.staging);
    rec_now(now);
    rc = prepare(v, "INSERT INTO blob(sha256, size, chunk_size, created) "
                    "VALUES (?1, 0, ?2, ?3)", &blob, e);
    if (rc == 0) {
        sqlite3_bind_blob(blob, 1, w->s.staging, STORE_HASHLEN, SQLITE_STATIC);
        sqlite3_bind_int(blob, 2, STORE_CHUNK);
        sqlite3_bind_text(blob, 3, now, -1, SQLITE_STATIC);
        if ((src = sqlite3_step(blob)) != SQLITE_DONE)
            rc = vault_sqlerr(v, src, "storing evidence", e);
    }
    sqlite3_finalize(blob);
    if (rc == 0) {
        w->s.blob_id = sqlite3_last_insert_rowid(vault_db(v));
        rc = prepare(v, "INSERT INTO chunk(blob_id, seq, data) VALUES (?1, "
                        "?2, ?3)", &w->ins, e);
    }
    if (rc != 0) {
        store_blob_abort(w);
        return rc;
    }
    sqlite3_bind_int64(w->ins, 1, w->s.blob_id);
    *out = w;
    return 0;
}

/* Write the buffered chunk as row seq. */
static int flush_chunk(store_blob_writer *w, ev_err *e)
{
    int src;

    if (w->seq == 0)
        media_type(w->buf, w->fill, w->s.media);
    sqlite3_bind_int64(w->ins, 2, w->seq);
    sqlite3_bind_blob(w->ins, 3, w->buf, (int)w->fill, SQLITE_STATIC);
    src = sqlite3_step(w->ins);
    sqlite3_reset(w->ins);
    if (src != SQLITE_DONE)
        return vault_sqlerr(w->v, src, "storing evidence", e);
    w->seq++;
    w->s.size += w->fill;
    w->fill = 0;
    return 0;
}

int store_blob_write(store_blob_writer *w, const uint8_t *buf, size_t len,
                     ev_err *e)
{
    int rc;

    while (len > 0) {
        size_t k = STORE_CHUNK - w->fill;
        if (k > len)
            k = len;
        memcpy(w->buf + w->fill, buf, k);
        w->fill += k;
        buf += k;
        len -= k;
        if (w->fill == STORE_CHUNK && (rc = flush_chunk(w, e)) != 0)
            return rc;
    }
    return 0;
}

int store_blob_end(store_blob_writer *w, const uint8_t sha256[STORE_HASHLEN],
                   int *existed, char media[STORE_MEDIAMAX + 1], ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, src;

    *existed = 0;
    if (w->fill > 0)
        rc = flush_chunk(w, e);
    if (rc == 0)
        memcpy(w->s.sha256, sha256, STORE_HASHLEN);
    if (rc == 0 && (rc = blob_exists(w->v, sha256, e)) == 1) {
        /* stored already: drop the staged copy */
        *existed = 1;
        sqlite3_finalize(w->ins);
        w->ins = NULL;
        rc = 0;
        for (int i = 0; rc == 0 && i < 2; i++) {
            rc = prepare(w->v, i == 0 ? "DELETE FROM chunk WHERE blob_id = ?1"
                                      : "DELETE FROM blob WHERE id = ?1",
                         &st, e);
            if (rc == 0) {
                sqlite3_bind_int64(st, 1, w->s.blob_id);
                if ((src = sqlite3_step(st)) != SQLITE_DONE)
                    rc = vault_sqlerr(w->v, src, "storing evidence", e);
            }
            sqlite3_finalize(st);
            st = NULL;
        }
    } else if (rc == 0) {
        rc = rekey(w->v, &w->s, e);
    }
    if (rc == 0 && media)
        snprintf(media, STORE_MEDIAMAX + 1, "%s",
                 w->s.media[0] ? w->s.media : "application/octet-stream");
    store_blob_abort(w);
    return rc < 0 ? rc : 0;
}

int store_evidence_import(vault *v, const store_import *im, int64_t *id,
                          ev_err *e)
{
    sqlite3_stmt *st = NULL;
    store_meta m = {im->method, im->url, im->acquired_at, im->acquired_by,
                    im->description};
    char now[REC_TIMELEN + 1], at[REC_TIMELEN + 1];
    const char *acq = im->acquired_at;
    int rc, src;

    if ((rc = store_meta_check(&m, e)) != 0)
        return rc;
    if (!acq || !*acq)
        return err_set(e, EV_ERR_INVALID, "evidence %s has no acquisition "
                       "time", im->uuid);
    if (strlen(acq) == 10) {
        snprintf(at, sizeof at, "%sT00:00:00Z", acq);
        acq = at;
    }
    rec_now(now);
    if ((rc = prepare(v,
                      "INSERT INTO evidence(uuid, sha256, original_name, "
                      "size, media_type, method, url, acquired_at, "
                      "acquired_by, description, created) SELECT ?1, "
                      "sha256, ?3, size, ?5, ?6, ?7, ?8, ?9, ?10, ?11 FROM "
                      "blob WHERE sha256 = ?2 AND size = ?4",
                      &st, e)))
        return rc;
    sqlite3_bind_text(st, 1, im->uuid, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, im->sha256, STORE_HASHLEN, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, im->original_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)im->size);
    sqlite3_bind_text(st, 5, im->media_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, im->method ? im->method : "document", -1,
                      SQLITE_STATIC);
    if (im->url)
        sqlite3_bind_text(st, 7, im->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, acq, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, im->acquired_by ? im->acquired_by : "", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 10, im->description ? im->description : "", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 11, now, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    sqlite3_finalize(st);
    if (src != SQLITE_DONE)
        return vault_sqlerr(v, src, "storing evidence", e);
    if (sqlite3_changes(vault_db(v)) != 1)
        return err_set(e, EV_ERR_INTEGRITY, "evidence %s: no content of its "
                       "size and SHA-256 arrived with it", im->uuid);
    *id = sqlite3_last_insert_rowid(vault_db(v));
    return 0;
}

int store_evidence_link(vault *v, int64_t evidence, int64_t incident,
                        ev_err *e)
{
    return link_evidence(v, evidence, incident, e);
}

/* ---- extract ---------------------------------------------------------- */

/* Progress over all contents for store_verify_all. */
typedef struct verify_progress {
    store_progress_fn fn;
    void *arg;
    uint64_t base, total;
} verify_progress;

static int verify_step(void *arg, uint64_t done, uint64_t total)
{
    verify_progress *vp = arg;
    (void)total;
    return vp->fn ? vp->fn(vp->arg, vp->base + done, vp->total) : 0;
}

typedef struct fd_out {
    int fd;
    uint64_t bytes;
} fd_out;

static int fd_sink(void *arg, const uint8_t *buf, size_t len)
{
    fd_out *o = arg;
    /* every 8 MiB, start writing out what is written so far (no wait; a
     * pipe just says ESPIPE): the caller's fsync then has less to do */
    if ((o->bytes + len) >> 23 != o->bytes >> 23)
        (void)sync_file_range(o->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    o->bytes += len;
    return write_full(o->fd, buf, len);
}

int store_blob_extract(vault *v, const uint8_t *sha256, int fd,
                       store_progress_fn progress, void *arg,
                       uint64_t *written, ev_err *e)
{
    fd_out o = {fd, 0};
    return store_blob_stream(v, sha256, fd >= 0 ? fd_sink : NULL, &o,
                             progress, arg, written, e);
}

/* Largest chunk_size a blob row may claim (ingest writes STORE_CHUNK). */
#define CHUNK_MAX (64u << 20)

/*
 * What streaming content out needs beyond one call: the SHA-256 pipe (its
 * thread and buffers), verify's chunk helper (a second connection) and the
 * small page cache. verify keeps one for all contents, so that a vault of
 * many photos does not start a thread, map 8 MiB and open a connection per
 * file; a single extract has one of its own.
 */
typedef struct stream_ctx {
    sha256pipe *pipe;
    uint64_t bufsize;     /* the pipe's buffers */
    chunk_helper *helper; /* bound to pipe */
    int no_helper;        /* one could not be started: do not retry */
    int small_cache;      /* vault_stream_cache(v, 1) is in force */
} stream_ctx;

/* Stop the helper (after its last read: the pipe it fills goes next) and
 * the pipe; the next content starts afresh. */
static void stream_drop(stream_ctx *sc)
{
    if (sc->helper) {
        int64_t hseq;
        chunk_in hin;
        (void)chunk_helper_stop(sc->helper, &hseq, &hin);
        sc->helper = NULL;
    }
    sha256pipe_free(sc->pipe);
    sc->pipe = NULL;
    sc->bufsize = 0;
}

static void stream_end(vault *v, stream_ctx *sc)
{
    stream_drop(sc);
    if (sc->small_cache)
        (void)vault_stream_cache(v, 0);
    sc->small_cache = 0;
}

/* The error for chunk_read's failure crc on chunk seq of content hex. */
static int chunk_error(vault *v, int crc, int64_t seq, const chunk_in *in,
                       const char *hex, ev_err *e)
{
    if (crc == CHUNK_NODATA)
        return err_set(e, EV_ERR_INTEGRITY,
                       "chunk %lld of content %s holds no data: the vault "
                       "was tampered with",
                       (long long)seq, hex);
    if (crc == CHUNK_SIZE)
        return err_set(e, EV_ERR_INTEGRITY,
                       "chunk %lld of content %s has %llu bytes, not %llu: "
                       "the vault was tampered with",
                       (long long)seq, hex, (unsigned long long)in->got,
                       (unsigned long long)in->want);
    return vault_sqlerr(v, in->sqlrc, "reading evidence", e);
}

/* store_blob_stream, with the pipe, helper and cache of sc (kept for the
 * next call), or of its own (sc NULL). */
static int blob_stream(vault *v, stream_ctx *sc, const uint8_t *sha256,
                       store_sink_fn sink, void *sink_arg,
                       store_progress_fn progress, void *arg,
                       uint64_t *written, ev_err *e)
{
    stream_ctx own_sc = {0}, *s = sc ? sc : &own_sc;
    sqlite3_stmt *st = NULL;
    chunk_in in = {vault_db(v), NULL, 0, 0, 0};
    chunk_helper *helper = NULL;
    struct sha256_ctx h;
    uint8_t digest[STORE_HASHLEN], *own = NULL;
    char hex[2 * STORE_HASHLEN + 1];
    uint64_t size, chunk, nchunks, done = 0;
    int64_t seq = 0, blob_id;
    sha256pipe *pipe = NULL;
    int rc = EV_ERR_INTERNAL, src;

    if (written)
        *written = 0;
    sodium_bin2hex(hex, sizeof hex, sha256, STORE_HASHLEN);
    if ((rc = prepare(v,
                      "SELECT size, chunk_size, id FROM blob WHERE sha256=?1",
                      &st, e)))
        goto out;
    sqlite3_bind_blob(st, 1, sha256, STORE_HASHLEN, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        rc = err_set(e, EV_ERR_INTEGRITY,
                     "the content %s is missing from the vault", hex);
        goto out;
    }
    if (src != SQLITE_ROW) {
        rc = vault_sqlerr(v, src, "reading evidence", e);
        goto out;
    }
    if (sqlite3_column_int64(st, 0) < 0 || sqlite3_column_int64(st, 1) <= 0 ||
        sqlite3_column_int64(st, 1) > CHUNK_MAX) {
        rc = err_set(e, EV_ERR_INTEGRITY, "the content %s has a bad size",
                     hex);
        goto out;
    }
    size = (uint64_t)sqlite3_column_int64(st, 0);
    chunk = (uint64_t)sqlite3_column_int64(st, 1);
    blob_id = sqlite3_column_int64(st, 2);
    nchunks = size == 0 ? 0 : (size - 1) / chunk + 1;
    sqlite3_finalize(st);
    st = NULL;

    if ((rc = prepare(v,
                      "SELECT id, seq FROM chunk WHERE blob_id = ?1 "
                      "ORDER BY seq",
                      &st, e)))
        goto out;
    sqlite3_bind_int64(st, 1, blob_id);
    sha256_init(&h);
    /* hash on the other core while this one reads and decrypts, each chunk
     * read straight into a buffer of the hasher's; a small content, or no
     * thread to be had, is hashed here */
    if (nchunks > 1) {
        /* chunks are read once: keep SQLite's cache small meanwhile */
        if (!s->small_cache) {
            if ((src = vault_stream_cache(v, 1)) != SQLITE_OK) {
                rc = vault_sqlerr(v, src, "reading evidence", e);
                goto out;
            }
            s->small_cache = 1;
        }
        if (s->pipe && s->bufsize < chunk)
            stream_drop(s);
        if (!s->pipe && (s->pipe = sha256pipe_new((size_t)chunk)))
            s->bufsize = chunk;
        pipe = s->pipe;
    }
    if (!pipe && nchunks > 0 && !(own = malloc((size_t)chunk))) {
        rc = err_set(e, EV_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* verify's pass (sc, no sink, inside a read transaction): the hasher
     * thread reads chunks too, through a second connection, whenever it
     * waits for data, so that pages are decrypted on both cores */
    if (sc && pipe && !sink && !s->helper && !s->no_helper &&
        !sqlite3_get_autocommit(vault_db(v)) &&
        !(s->helper = chunk_helper_start(v, pipe)))
        s->no_helper = 1;
    if (sc && pipe && !sink)
        helper = s->helper;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        uint64_t want = (uint64_t)seq + 1 < nchunks ? chunk : size - done;
        unsigned slot = 0;
        uint8_t *data;
        if (sqlite3_column_int64(st, 1) != seq || (uint64_t)seq >= nchunks) {
            rc = err_set(e, EV_ERR_INTEGRITY,
                         "chunk %lld of content %s is missing or out of "
                         "place: the vault was tampered with",
                         (long long)seq, hex);
            goto out;
        }
        data = pipe ? sha256pipe_claim(pipe, &slot) : own;
        if (!(helper && sha256pipe_starved(pipe) &&
              chunk_helper_offer(helper, id, seq, want, data, slot))) {
            int crc = chunk_read(&in, id, data, want);
            if (crc != CHUNK_OK) {
                if (pipe)
                    sha256pipe_submit(pipe, slot, 0);
                rc = chunk_error(v, crc, seq, &in, hex, e);
                goto out;
            }
            errno = 0;
            if (sink && sink(sink_arg, data, (size_t)want) != 0) {
                if (pipe)
                    sha256pipe_submit(pipe, slot, 0);
                rc = err_set(e, EV_ERR_IO, "cannot write the evidence: %s",
                             errno ? strerror(errno) : "the output failed");
                goto out;
            }
            if (pipe)
                sha256pipe_submit(pipe, slot, (size_t)want);
            else
                sha256_update(&h, (size_t)want, data);
        }
        done += want;
        seq++;
        if (written)
            *written = done;
        if (progress && progress(arg, done, size)) {
            rc = err_set(e, EV_ERR_REFUSED, "cancelled");
            goto out;
        }
    }
    {
        int64_t hseq = 0;
        chunk_in hin = {0};
        int hrc = chunk_helper_settle(helper, &hseq, &hin);
        if (hrc != CHUNK_OK) {
            rc = chunk_error(v, hrc, hseq, &hin, hex, e);
            goto out;
        }
    }
    if (src != SQLITE_DONE) {
        rc = vault_sqlerr(v, src, "reading evidence", e);
        goto out;
    }
    if ((uint64_t)seq != nchunks) {
        rc = err_set(e, EV_ERR_INTEGRITY,
                     "chunk %lld of content %s is missing: the vault was "
                     "tampered with",
                     (long long)seq, hex);
        goto out;
    }
    if (pipe)
        sha256pipe_final(pipe, digest);
    else
        sha256_digest(&h, STORE_HASHLEN, digest);
    if (sodium_memcmp(digest, sha256, STORE_HASHLEN) != 0) {
        rc = err_set(e, EV_ERR_INTEGRITY,
                     "the extracted content does not match its SHA-256 %s: "
                     "the vault was tampered with",
                     hex);
        goto out;
    }
    rc = 0;
out:
    /* after a failure the pipe may hold part of this content's hash, and
     * the helper a failure of its own: start the next content afresh */
    if (!sc)
        stream_end(v, s);
    else if (rc != 0)
        stream_drop(s);
    if (own) {
        sodium_memzero(own, (size_t)chunk);
        free(own);
    }
    chunk_in_close(&in);
    sqlite3_finalize(st);
    return rc;
}

int store_blob_stream(vault *v, const uint8_t *sha256, store_sink_fn sink,
                      void *sink_arg, store_progress_fn progress, void *arg,
                      uint64_t *written, ev_err *e)
{
    return blob_stream(v, NULL, sha256, sink, sink_arg, progress, arg,
                       written, e);
}

int store_verify_all(vault *v, report *r, store_progress_fn progress,
                     void *arg, uint64_t *files, uint64_t *bytes,
                     uint64_t *bad, ev_err *e)
{
    stream_ctx sc = {0};
    sqlite3_stmt *st = NULL;
    uint64_t total = 0;
    verify_progress vp = {progress, arg, 0, 0};
    int rc, src;

    *files = *bytes = *bad = 0;
    if ((rc = prepare(v, "SELECT coalesce(sum(size), 0) FROM blob", &st, e)))
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        total = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    vp.total = total;
    /* one row per distinct content; the evidence rows that share it are
     * named in a finding */
    if ((rc = prepare(v,
                      "SELECT b.sha256, b.size, (SELECT group_concat(e.id "
                      "|| ' (' || e.uuid || ')', ', ') FROM evidence e "
                      "WHERE e.sha256 = b.sha256) FROM blob b ORDER BY b.id",
                      &st, e)))
        return rc;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        uint8_t sha[STORE_HASHLEN];
        ev_err one;
        const char *who = (const char *)sqlite3_column_text(st, 2);
        uint64_t size = (uint64_t)sqlite3_column_int64(st, 1);

        if (sqlite3_column_bytes(st, 0) != STORE_HASHLEN) {
            report_add(r, "evidence content row with a damaged hash");
            (*bad)++;
            continue;
        }
        memcpy(sha, sqlite3_column_blob(st, 0), STORE_HASHLEN);
        err_clear(&one);
        rc = blob_stream(v, &sc, sha, NULL, NULL, verify_step, &vp, NULL,
                         &one);
        (*files)++;
        vp.base += size;
        if (rc == EV_ERR_INTEGRITY) {
            report_add(r, "evidence %s: %s", who ? who : "(no evidence row)",
                       one.msg);
            (*bad)++;
            rc = 0;
        } else if (rc != 0) {
            *e = one;
            break;
        }
        *bytes += size;
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = vault_sqlerr(v, src, "reading evidence", e);
    stream_end(v, &sc);
    sqlite3_finalize(st);
    return rc;
}

/* ---- reading evidence back -------------------------------------------- */

#define EV_COLUMNS                                                          \
    "e.id, e.uuid, e.sha256, e.size, e.original_name, e.media_type, "        \
    "e.method, e.url, e.acquired_at, e.acquired_by, e.description, "        \
    "e.created"

static char *dup_col(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? strdup(t) : NULL;
}

void store_evidence_clear(store_evidence *ev)
{
    if (!ev)
        return;
    free(ev->original_name);
    free(ev->media_type);
    free(ev->method);
    free(ev->url);
    free(ev->acquired_at);
    free(ev->acquired_by);
    free(ev->description);
    free(ev->created);
    memset(ev, 0, sizeof *ev);
}

static int fill(sqlite3_stmt *st, store_evidence *ev, ev_err *e)
{
    const void *sha = sqlite3_column_blob(st, 2);
    const char *uuid = (const char *)sqlite3_column_text(st, 1);

    memset(ev, 0, sizeof *ev);
    ev->id = sqlite3_column_int64(st, 0);
    snprintf(ev->uuid, sizeof ev->uuid, "%s", uuid ? uuid : "");
    if (sha && sqlite3_column_bytes(st, 2) == STORE_HASHLEN)
        memcpy(ev->sha256, sha, STORE_HASHLEN);
    sodium_bin2hex(ev->sha256_hex, sizeof ev->sha256_hex, ev->sha256,
                   STORE_HASHLEN);
    ev->size = (uint64_t)sqlite3_column_int64(st, 3);
    ev->original_name = dup_col(st, 4);
    ev->media_type = dup_col(st, 5);
    ev->method = dup_col(st, 6);
    ev->url = dup_col(st, 7);
    ev->acquired_at = dup_col(st, 8);
    ev->acquired_by = dup_col(st, 9);
    ev->description = dup_col(st, 10);
    ev->created = dup_col(st, 11);
    if (!ev->original_name || !ev->media_type || !ev->method ||
        !ev->acquired_at || !ev->acquired_by || !ev->description ||
        !ev->created) {
        store_evidence_clear(ev);
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    }
    return 0;
}

int store_evidence_get(vault *v, int64_t id, store_evidence *ev, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc, src;

    memset(ev, 0, sizeof *ev);
    if ((rc = prepare(v, "SELECT " EV_COLUMNS " FROM evidence e WHERE e.id=?1",
                      &st, e)))
        return rc;
    sqlite3_bind_int64(st, 1, id);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        rc = fill(st, ev, e);
    else if (src == SQLITE_DONE)
        rc = err_set(e, EV_ERR_NOTFOUND, "no evidence %lld", (long long)id);
    else
        rc = vault_sqlerr(v, src, "reading evidence", e);
    sqlite3_finalize(st);
    return rc;
}

int store_evidence_list(vault *v, int64_t incident_id,
                        int (*fn)(void *arg, const store_evidence *ev),
                        void *arg, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    store_evidence ev;
    int rc, src;

    rc = prepare(v,
                 incident_id > 0
                     ? "SELECT " EV_COLUMNS " FROM evidence e JOIN "
                       "evidence_link l ON l.evidence_id = e.id WHERE "
                       "l.incident_id = ?1 ORDER BY e.id"
                     : "SELECT " EV_COLUMNS " FROM evidence e ORDER BY e.id",
                 &st, e);
    if (rc)
        return rc;
    if (incident_id > 0)
        sqlite3_bind_int64(st, 1, incident_id);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if ((rc = fill(st, &ev, e)) != 0)
            goto out;
        rc = fn(arg, &ev);
        store_evidence_clear(&ev);
        if (rc != 0)
            goto out;
    }
    rc = src == SQLITE_DONE ? 0 : vault_sqlerr(v, src, "listing evidence", e);
out:
    sqlite3_finalize(st);
    return rc;
}

int store_evidence_incidents(vault *v, int64_t id,
                             int (*fn)(void *arg, int64_t incident_id,
                                       const char *uuid, const char *title),
                             void *arg, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc, src;

    if ((rc = prepare(v,
                      "SELECT i.id, i.uuid, i.title FROM evidence_link l "
                      "JOIN incident i ON i.id = l.incident_id WHERE "
                      "l.evidence_id = ?1 ORDER BY i.id",
                      &st, e)))
        return rc;
    sqlite3_bind_int64(st, 1, id);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        rc = fn(arg, sqlite3_column_int64(st, 0),
                (const char *)sqlite3_column_text(st, 1),
                (const char *)sqlite3_column_text(st, 2));
        if (rc != 0)
            goto out;
    }
    rc = src == SQLITE_DONE ? 0
                            : vault_sqlerr(v, src, "reading evidence links", e);
out:
    sqlite3_finalize(st);
    return rc;
}

int store_evidence_extract(vault *v, int64_t id, int fd,
                           store_progress_fn progress, void *arg,
                           uint64_t *written, ev_err *e)
{
    store_evidence ev;
    uint64_t n = 0;
    int rc;

    if (written)
        *written = 0;
    if ((rc = store_evidence_get(v, id, &ev, e)) != 0)
        return rc;
    rc = store_blob_extract(v, ev.sha256, fd, progress, arg, &n, e);
    if (rc == 0 && n != ev.size)
        rc = err_set(e, EV_ERR_INTEGRITY,
                     "evidence %lld records %llu bytes but its content has "
                     "%llu: the vault was tampered with",
                     (long long)id, (unsigned long long)ev.size,
                     (unsigned long long)n);
    if (rc == 0) {
        char hex[65], detail[120];
        sodium_bin2hex(hex, sizeof hex, ev.sha256, STORE_HASHLEN);
        snprintf(detail, sizeof detail, "%llu bytes, sha256 %s verified",
                 (unsigned long long)n, hex);
        rc = custody_record(v, "extract", "evidence", ev.uuid, detail, e);
    }
    if (written)
        *written = n;
    store_evidence_clear(&ev);
    return rc;
}
