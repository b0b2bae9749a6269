/*
 * bundle: handover bundle export (see bundle.h, docs/FORMAT.md section 14).
 *
 * The pipeline, all streaming: records, seals, custody entries and
 * evidence are written as tar entries (libarchive, pax) under
 * "bundle-<uuid>/"; libarchive's output goes to the age encryptor, whose
 * output goes to a hidden file beside FILE and through BLAKE2b for the
 * minisign signature. Payload files first (each hashed on the way for the
 * manifest), then the tag files: README.txt, bagit.txt, bag-info.txt,
 * manifest-sha256.txt, tagmanifest-sha256.txt and its minisign signature.
 * Only ciphertext is ever written to disk.
 */
#define _GNU_SOURCE
#include "bundle.h"

#include <archive.h>
#include <pthread.h>
#include <archive_entry.h>
#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <nettle/sha2.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../crypto/age.h"
#include "../crypto/msig.h"
#include "bag.h"
#include "custody.h"
#include "identity.h"
#include "partner.h"
#include "rec.h"
#include "records.h"
#include "search.h"
#include "store.h"

#define JB(x) "json(CASE WHEN " x " THEN 'true' ELSE 'false' END)"

/* ---- output: hidden file + signature hash ------------------------------- */

typedef struct outfile {
    int fd;
    char *tmp;
    msig_sign_ctx sig;
    uint64_t bytes;
} outfile;

static int out_write(void *arg, const uint8_t *buf, size_t len)
{
    outfile *o = arg;
    msig_sign_update(&o->sig, buf, len);
    /* every 8 MiB, start writing out what is written so far (no wait):
     * the fsync at the end then has little left to do */
    if ((o->bytes + len) >> 23 != o->bytes >> 23)
        (void)sync_file_range(o->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    o->bytes += len;
    while (len > 0) {
        ssize_t n = write(o->fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A hidden name beside path, created O_EXCL. OUT: o. */
static int out_open(outfile *o, const char *path, ev_err *e)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
    const char *base = slash ? slash + 1 : path;
    size_t n = strlen(path) + 40;

    memset(o, 0, sizeof *o);
    o->fd = -1;
    if (!(o->tmp = malloc(n)))
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    for (int tries = 0; tries < 20; tries++) {
        uint32_t r = randombytes_random();
        snprintf(o->tmp, n, "%.*s.%s.evault-partial-%08x", (int)dirlen, path,
                 base, r);
        o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                 O_CLOEXEC,
                     0600);
        if (o->fd >= 0 || errno != EEXIST)
            break;
    }
    if (o->fd < 0)
        return err_set(e, EV_ERR_IO, "cannot create a file beside '%s': %s",
                       path, strerror(errno));
    msig_sign_init(&o->sig);
    return 0;
}

static void out_discard(outfile *o)
{
    if (o->fd >= 0)
        close(o->fd);
    if (o->tmp)
        unlink(o->tmp);
    free(o->tmp);
    o->tmp = NULL;
    o->fd = -1;
}

/* ---- the encryptor, on a thread of its own -------------------------------- */

/*
 * The tar's bytes are collected into 1 MiB buffers and handed to a writer
 * thread that encrypts them (age) and writes and hashes the ciphertext, so
 * that reading and decrypting the vault (this thread) and encrypting the
 * bundle (the writer) run on two cores. The age encryptor and the output
 * file belong to the writer from wq_start to wq_stop.
 */
#define WQ_BUFS 3
#define WQ_BUFSIZE (1u << 20)

typedef struct wq {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint8_t *buf[WQ_BUFS];
    size_t len[WQ_BUFS];
    unsigned head, tail, count; /* head: being filled; tail: next to write */
    int stop, err, started;
    age_enc *enc;
} wq;

static void *wq_main(void *arg)
{
    wq *q = arg;

    pthread_mutex_lock(&q->mu);
    for (;;) {
        unsigned t;
        while (q->count == 0 && !q->stop)
            pthread_cond_wait(&q->cv, &q->mu);
        if (q->count == 0)
            break;
        t = q->tail;
        int skip = q->err;
        pthread_mutex_unlock(&q->mu);
        int bad = skip ? 1 : age_enc_update(q->enc, q->buf[t], q->len[t]);
        pthread_mutex_lock(&q->mu);
        if (bad)
            q->err = 1;
        q->tail = (t + 1) % WQ_BUFS;
        q->count--;
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

static int wq_start(wq *q, age_enc *enc)
{
    memset(q, 0, sizeof *q);
    q->enc = enc;
    for (int i = 0; i < WQ_BUFS; i++)
        if (!(q->buf[i] = malloc(WQ_BUFSIZE)))
            return -1;
    if (pthread_mutex_init(&q->mu, NULL) != 0)
        return -1;
    if (pthread_cond_init(&q->cv, NULL) != 0) {
        pthread_mutex_destroy(&q->mu);
        return -1;
    }
    if (pthread_create(&q->thread, NULL, wq_main, q) != 0) {
        pthread_cond_destroy(&q->cv);
        pthread_mutex_destroy(&q->mu);
        return -1;
    }
    q->started = 1;
    return 0;
}

/* Hand the buffer being filled to the writer (waits for a free one). */
static void wq_submit(wq *q)
{
    pthread_mutex_lock(&q->mu);
    q->count++;
    q->head = (q->head + 1) % WQ_BUFS;
    pthread_cond_broadcast(&q->cv);
    while (q->count == WQ_BUFS)
        pthread_cond_wait(&q->cv, &q->mu);
    q->len[q->head] = 0;
    pthread_mutex_unlock(&q->mu);
}

static int wq_write(wq *q, const uint8_t *p, size_t len)
{
    while (len > 0) {
        size_t room = WQ_BUFSIZE - q->len[q->head];
        size_t n = len < room ? len : room;
        memcpy(q->buf[q->head] + q->len[q->head], p, n);
        q->len[q->head] += n;
        p += n;
        len -= n;
        if (q->len[q->head] == WQ_BUFSIZE)
            wq_submit(q);
    }
    pthread_mutex_lock(&q->mu);
    int err = q->err;
    pthread_mutex_unlock(&q->mu);
    return err ? -1 : 0;
}

/* Flush what is left (flush: hand over the last partial buffer), stop and
 * join the writer, wipe and free. Returns -1 if the writer failed. */
static int wq_stop(wq *q, int flush)
{
    int err;

    if (!q->started) {
        for (int i = 0; i < WQ_BUFS; i++) {
            free(q->buf[i]);
            q->buf[i] = NULL;
        }
        return -1;
    }
    if (flush && q->len[q->head] > 0)
        wq_submit(q);
    pthread_mutex_lock(&q->mu);
    if (!flush)
        q->err = 1; /* drop what is queued */
    q->stop = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    err = q->err;
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    for (int i = 0; i < WQ_BUFS; i++) {
        sodium_memzero(q->buf[i], WQ_BUFSIZE); /* tar plaintext */
        free(q->buf[i]);
        q->buf[i] = NULL;
    }
    q->started = 0;
    return err ? -1 : 0;
}

/* ---- the tar, into the encryptor ------------------------------------------ */

typedef struct exporter {
    vault *v;
    const bundle_export_opts *o;
    bundle_export_result *res;
    ev_err *e;
    outfile out;
    age_enc *enc;
    wq q;
    struct archive *ar;
    char prefix[64]; /* "bundle-<uuid>/" */
    bag_manifest manifest;
    uint64_t payload_bytes, payload_files, total, done;
    time_t now;
    int failed; /* the encryptor or the file failed */
} exporter;

static la_ssize_t ar_write(struct archive *a, void *arg, const void *buf,
                           size_t len)
{
    exporter *x = arg;
    (void)a;
    if (wq_write(&x->q, buf, len) != 0) {
        x->failed = 1;
        return -1;
    }
    return (la_ssize_t)len;
}

static int ar_fail(exporter *x, const char *what)
{
    return err_set(x->e, EV_ERR_IO, "cannot write the bundle (%s): %s", what,
                   x->failed ? strerror(errno ? errno : EIO)
                             : archive_error_string(x->ar));
}

static int entry_header(exporter *x, const char *path, int64_t size,
                        int is_dir)
{
    struct archive_entry *en = archive_entry_new();
    char full[4200];
    int rc = 0;

    if (!en)
        return err_set(x->e, EV_ERR_NOMEM, "out of memory");
    snprintf(full, sizeof full, "%s%s", x->prefix, path);
    archive_entry_set_pathname(en, full);
    archive_entry_set_filetype(en, is_dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(en, is_dir ? 0755 : 0644);
    archive_entry_set_size(en, is_dir ? 0 : size);
    archive_entry_set_mtime(en, x->now, 0);
    archive_entry_set_uid(en, 0);
    archive_entry_set_gid(en, 0);
    if (archive_write_header(x->ar, en) != ARCHIVE_OK)
        rc = ar_fail(x, path);
    archive_entry_free(en);
    return rc;
}

static int ar_data(exporter *x, const void *buf, size_t len, const char *path)
{
    const uint8_t *p = buf;
    while (len > 0) {
        la_ssize_t n = archive_write_data(x->ar, p, len);
        if (n <= 0)
            return ar_fail(x, path);
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void sha256_mem(uint8_t *out, const void *buf, size_t len)
{
    struct sha256_ctx h;
    sha256_init(&h);
    sha256_update(&h, len, buf);
    sha256_digest(&h, 32, out);
}

/* A payload (data/...) or tag file held in memory. */
static int add_mem(exporter *x, const char *path, const void *buf,
                   size_t len, int payload)
{
    uint8_t h[32];
    int rc = entry_header(x, path, (int64_t)len, 0);

    if (rc == 0)
        rc = ar_data(x, buf, len, path);
    if (rc == 0 && payload) {
        sha256_mem(h, buf, len);
        rc = bag_manifest_add(&x->manifest, path, h, x->e);
        x->payload_bytes += len;
        x->payload_files++;
    }
    return rc;
}

static int ev_sink(void *arg, const uint8_t *buf, size_t len)
{
    exporter *x = arg;
    la_ssize_t n;
    while (len > 0) {
        n = archive_write_data(x->ar, buf, len);
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int ev_progress(void *arg, uint64_t done, uint64_t total)
{
    exporter *x = arg;
    (void)total;
    if (x->o->progress)
        x->o->progress(x->o->progress_arg, x->done + done, x->total);
    return 0;
}

/* An evidence file, streamed from the vault (re-hashed on the way). */
static int add_evidence(exporter *x, const char *path, const uint8_t *sha,
                        uint64_t size)
{
    uint64_t n = 0;
    int rc = entry_header(x, path, (int64_t)size, 0);

    if (rc == 0)
        rc = store_blob_stream(x->v, sha, ev_sink, x, ev_progress, x, &n,
                               x->e);
    if (rc == EV_ERR_IO && !x->failed && archive_errno(x->ar))
        rc = ar_fail(x, path);
    if (rc == 0 && n != size)
        rc = err_set(x->e, EV_ERR_INTEGRITY,
                     "evidence '%s' has %llu bytes, not %llu: run 'evault "
                     "verify'",
                     path, (unsigned long long)n, (unsigned long long)size);
    if (rc == 0)
        rc = bag_manifest_add(&x->manifest, path, sha, x->e);
    x->done += size;
    x->payload_bytes += size;
    x->payload_files++;
    return rc;
}

/* ---- SQL helpers ------------------------------------------------------------ */

#define SEL "(SELECT value FROM json_each(?1))"
#define EX_ACTORS                                                             \
    "(SELECT a2.id FROM actor a2 WHERE a2.id IN (SELECT actor_id FROM "       \
    "involvement WHERE incident_id IN " SEL ") AND NOT (?2 AND "              \
    "a2.confidential))"
#define EX_SOURCES                                                            \
    "(SELECT s2.id FROM source s2 WHERE s2.id IN (SELECT source_id FROM "     \
    "citation WHERE incident_id IN " SEL ") AND NOT (?2 AND "                 \
    "(s2.confidential OR s2.consent = 'no')))"
/* a seal goes out unless redaction withheld something it covers */
#define SEAL_OUT(inc)                                                         \
    "NOT (?2 AND (EXISTS (SELECT 1 FROM involvement v3 JOIN actor a3 ON "     \
    "a3.id = v3.actor_id WHERE v3.incident_id = " inc " AND "                 \
    "a3.confidential) OR EXISTS (SELECT 1 FROM citation c3 JOIN source s3 "   \
    "ON s3.id = c3.source_id WHERE c3.incident_id = " inc " AND "             \
    "(s3.confidential OR s3.consent <> 'yes'))))"

static const char records_sql[] =
    "SELECT json_object('format', 'evault-bundle-records-1', 'bundle', ?3, "
    "'exported_at', ?4, 'sender', json_object('name', ?5, 'vault_id', ?6, "
    "'minisign_public_key', ?7), 'redacted', " JB("?2") ", "
    "'incidents', json((SELECT json_group_array(json(o)) FROM (SELECT "
    "json_object('uuid', i.uuid, 'title', i.title, 'type', i.type, "
    "'status', i.status, 'date', i.start_date, 'date_precision', "
    "i.start_precision, 'end_date', i.end_date, 'end_date_precision', "
    "i.end_precision, 'location', i.location, 'latitude', i.latitude, "
    "'longitude', i.longitude, 'confidential', " JB("i.confidential") ", "
    "'tags', json((SELECT json_group_array(tag) FROM (SELECT tag FROM "
    "incident_tag WHERE incident_id = i.id ORDER BY tag))), 'description', "
    "i.description, 'created', i.created, 'updated', i.updated, "
    "'supersedes', (SELECT p.uuid FROM incident p WHERE p.id = "
    "i.supersedes), 'involvements', json((SELECT json_group_array("
    "json_object('actor', a.uuid, 'role', v.role, 'degree', v.degree)) FROM "
    "involvement v JOIN actor a ON a.id = v.actor_id WHERE v.incident_id = "
    "i.id AND a.id IN " EX_ACTORS ")), 'sources', json((SELECT "
    "json_group_array(s.uuid) FROM citation c JOIN source s ON s.id = "
    "c.source_id WHERE c.incident_id = i.id AND s.id IN " EX_SOURCES ")), "
    "'evidence', json((SELECT json_group_array(ev.uuid) FROM evidence_link "
    "l JOIN evidence ev ON ev.id = l.evidence_id WHERE l.incident_id = "
    "i.id)), 'seal', json((SELECT json_object('uuid', sl.uuid, "
    "'sealed_at', sl.sealed_at, 'sha256', lower(hex(sl.sha256)), 'file', "
    "CASE WHEN " SEAL_OUT("i.id") " THEN 'data/seals/' || i.uuid || "
    "'.json' END) FROM seal sl WHERE sl.incident_id = i.id))) AS o FROM "
    "incident i WHERE i.id IN " SEL " ORDER BY i.start_date IS NULL, "
    "i.start_date, i.id))), ";

/* the second half (C compilers need only accept 4095-byte literals) */
static const char records_sql2[] =
    "'actors', json((SELECT json_group_array(json(o)) FROM (SELECT "
    "json_object('uuid', a.uuid, 'name', a.name, 'kind', a.kind, "
    "'category', a.category, 'other_names', json(a.other_names), "
    "'description', a.description, 'confidential', " JB("a.confidential")
    ") AS o FROM actor a WHERE a.id IN " EX_ACTORS " ORDER BY a.uuid))), "
    "'sources', json((SELECT json_group_array(json(o)) FROM (SELECT "
    "json_object('uuid', s.uuid, 'kind', s.kind, 'title', CASE WHEN ?2 AND "
    "s.consent = 'anonymised' THEN ev_pseudonym(s.uuid) ELSE s.title END, "
    "'description', CASE WHEN ?2 AND s.consent = 'anonymised' THEN '' ELSE "
    "s.description END, 'date', s.date, 'date_precision', "
    "s.date_precision, 'reliability', s.reliability, 'consent', "
    "s.consent, 'url', CASE WHEN ?2 AND s.consent = 'anonymised' THEN NULL "
    "ELSE s.url END, 'confidential', " JB("s.confidential") ") AS o FROM "
    "source s WHERE s.id IN " EX_SOURCES " ORDER BY s.uuid))), "
    "'evidence', json((SELECT json_group_array(json(o)) FROM (SELECT "
    "json_object('uuid', ev.uuid, 'file', ev_bag_name(ev.uuid, "
    "ev.original_name), 'sha256', lower(hex(ev.sha256)), 'size', ev.size, "
    "'original_name', ev.original_name, 'media_type', ev.media_type, "
    "'method', ev.method, 'url', ev.url, 'acquired_at', ev.acquired_at, "
    "'acquired_by', ev.acquired_by, 'description', ev.description) AS o "
    "FROM evidence ev WHERE ev.id IN (SELECT evidence_id FROM evidence_link "
    "WHERE incident_id IN " SEL ") ORDER BY ev.uuid))))";

#define NAMES(role)                                                           \
    "(SELECT group_concat(n, ';') FROM (SELECT a.name || CASE a.kind WHEN "   \
    "'organisation' THEN ' [organisation]' ELSE '' END AS n FROM "            \
    "involvement v JOIN actor a ON a.id = v.actor_id WHERE v.incident_id = "  \
    "i.id AND v.role = '" role "' AND a.id IN " EX_ACTORS " ORDER BY "        \
    "a.name))"

/* The columns `evault import --format csv` reads, so the file re-imports. */
static const char csv_sql[] =
    "SELECT 'title', 'type', 'date', 'date_precision', 'end_date', "
    "'end_date_precision', 'location', 'latitude', 'longitude', 'status', "
    "'confidential', 'tags', 'description', 'victims', 'perpetrators', "
    "'witnesses', 0 AS k, 0 AS d, '' AS sd, 0 AS id UNION ALL SELECT "
    "i.title, i.type, "
    "i.start_date, i.start_precision, i.end_date, i.end_precision, "
    "i.location, i.latitude, i.longitude, i.status, CASE WHEN "
    "i.confidential THEN 'yes' ELSE 'no' END, (SELECT group_concat(tag, "
    "';') FROM (SELECT tag FROM incident_tag WHERE incident_id = i.id ORDER "
    "BY tag)), i.description, " NAMES("victim") ", " NAMES("perpetrator")
    ", " NAMES("witness") ", 1, i.start_date IS NULL, i.start_date, i.id "
    "FROM incident i WHERE i.id IN " SEL " ORDER BY k, d, sd, id";

static const char custody_sql[] =
    "SELECT json_object('seq', seq, 'at', at, 'action', action, "
    "'object_type', object_type, 'object', object, 'detail', detail, "
    "'prev', lower(hex(prev_hash)), 'hash', lower(hex(hash)), 'signature', "
    "lower(hex(signature))) FROM custody WHERE object IN (SELECT uuid FROM "
    "incident WHERE id IN " SEL " UNION ALL SELECT uuid FROM actor WHERE id "
    "IN " EX_ACTORS " UNION ALL SELECT uuid FROM source WHERE id IN "
    EX_SOURCES " UNION ALL SELECT uuid FROM evidence WHERE id IN (SELECT "
    "evidence_id FROM evidence_link WHERE incident_id IN " SEL ")) AND NOT "
    "(?2 AND (EXISTS (SELECT 1 FROM actor a4 WHERE a4.confidential AND "
    "instr(custody.detail, a4.uuid) > 0) OR EXISTS (SELECT 1 FROM source s4 "
    "WHERE (s4.confidential OR s4.consent = 'no') AND instr(custody.detail, "
    "s4.uuid) > 0))) ORDER BY seq";

static const char seals_sql[] =
    "SELECT i.uuid, sl.record, sl.signature FROM seal sl JOIN incident i ON "
    "i.id = sl.incident_id WHERE i.id IN " SEL " AND " SEAL_OUT("i.id")
    " ORDER BY i.uuid";

static const char evidence_sql[] =
    "SELECT ev_bag_name(ev.uuid, ev.original_name), ev.sha256, ev.size FROM "
    "evidence ev WHERE ev.id IN (SELECT evidence_id FROM evidence_link WHERE "
    "incident_id IN " SEL ") ORDER BY ev.uuid";

/* Length of the valid UTF-8 sequence at p (1-4); minus its length for a
 * valid character a file name must not show (C1 controls, direction
 * marks); 0 if it is not valid UTF-8. */
static int utf8_seq(const unsigned char *p)
{
    int n = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2
                               : (p[0] & 0xf0) == 0xe0 ? 3
                               : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
    uint32_t c;

    if (n <= 1)
        return n;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    c = n == 2 ? (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f)
      : n == 3 ? (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 |
                     (p[2] & 0x3f)
               : (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
                     (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
    if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) ||
        (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff))
        return 0;
    /* C1 controls and the marks that reorder how a name displays
     * (U+200E/F, U+202A-E, U+2066-9): "photo<RLO>gpj.exe" */
    if ((c >= 0x80 && c <= 0x9f) || c == 0x200e || c == 0x200f ||
        (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
        return -n;
    return n;
}

/* ev_bag_name(uuid, name): "data/evidence/<uuid8>-<name>", the name valid
 * UTF-8 (anything else, '/', '\\', '%', control characters and
 * direction marks as '_'), no leading '.', at most 100 bytes, cut between
 * characters. '%' is avoided so that the manifest stays checkable with
 * sha256sum -c. */
static void fn_bag_name(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    const char *uuid = (const char *)sqlite3_value_text(argv[0]);
    const unsigned char *name = sqlite3_value_text(argv[1]);
    char out[160], safe[104];
    size_t n = 0;

    (void)argc;
    while (name && *name) {
        int q = utf8_seq(name);
        size_t k = (size_t)(q < 0 ? -q : q);
        if (q <= 0 || (k == 1 && (*name < 0x20 || *name == 0x7f ||
                                  *name == '/' || *name == '\\' ||
                                  *name == '%'))) {
            if (n + 1 > 100)
                break;
            safe[n++] = '_';
            name += k ? k : 1;
            continue;
        }
        if (n + k > 100)
            break;
        memcpy(safe + n, name, k);
        n += k;
        name += k;
    }
    safe[n] = '\0';
    if (n == 0 || safe[0] == '.') {
        memmove(safe + 1, safe, n + 1);
        safe[0] = '_';
    }
    snprintf(out, sizeof out, "data/evidence/%.8s-%s", uuid ? uuid : "",
             safe);
    sqlite3_result_text(cx, out, -1, SQLITE_TRANSIENT);
}

/* ev_pseudonym(uuid): "anonymised-<10 hex>", stable for this vault: keyed
 * BLAKE2b of the uuid under a key derived from the identity. */
static void fn_pseudonym(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    const uint8_t *key = sqlite3_user_data(cx);
    const unsigned char *u = sqlite3_value_text(argv[0]);
    uint8_t h[5];
    char hex[11], out[32];

    (void)argc;
    crypto_generichash(h, sizeof h, u, u ? strlen((const char *)u) : 0, key,
                       32);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(out, sizeof out, "anonymised-%s", hex);
    sqlite3_result_text(cx, out, -1, SQLITE_TRANSIENT);
}

/* The pseudonym key handed to SQLite, wiped when the function goes. */
static void pseudonym_key_free(void *p)
{
    sodium_memzero(p, 32);
    sqlite3_free(p);
}

/* ---- selection -------------------------------------------------------------- */

/* Add the ids a statement yields to the JSON array text *sel ("[1,2]"),
 * skipping duplicates (the SQL that reads it uses IN, so duplicates would
 * only cost space). */
static int sel_add_stmt(vault *v, sqlite3_stmt *st, char **sel, size_t *len,
                        size_t *cap, ev_err *e)
{
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        char num[24];
        int n = snprintf(num, sizeof num, "%s%lld", *len > 1 ? "," : "",
                         (long long)sqlite3_column_int64(st, 0));
        if (*len + (size_t)n + 2 > *cap) {
            size_t nc = *cap * 2 + (size_t)n + 64;
            char *p = realloc(*sel, nc);
            if (!p)
                return err_set(e, EV_ERR_NOMEM, "out of memory");
            *sel = p;
            *cap = nc;
        }
        memcpy(*sel + *len, num, (size_t)n);
        *len += (size_t)n;
        (*sel)[*len] = ']';
        (*sel)[*len + 1] = '\0';
    }
    return src == SQLITE_DONE ? 0
                              : vault_sqlerr(v, src, "choosing incidents", e);
}

/* The incidents to export, as a JSON array of ids. OUT: *sel. */
static int select_incidents(vault *v, const bundle_export_opts *o, char **sel,
                            ev_err *e)
{
    sqlite3 *db = vault_db(v);
    sqlite3_stmt *st = NULL;
    size_t len = 1, cap = 256;
    char *fts = NULL, *explicit = NULL;
    int rc = 0;

    *sel = malloc(cap);
    if (!*sel)
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    snprintf(*sel, cap, "[]"); /* len 1: the closing bracket is rewritten */
    for (size_t i = 0; rc == 0 && i < o->nincidents; i++) {
        if (sqlite3_prepare_v2(db, "SELECT id FROM incident WHERE id = ?1",
                               -1, &st, NULL) != SQLITE_OK) {
            rc = vault_sqlerr(v, sqlite3_errcode(db), "choosing", e);
            break;
        }
        sqlite3_bind_int64(st, 1, o->incidents[i]);
        rc = sel_add_stmt(v, st, sel, &len, &cap, e);
        sqlite3_finalize(st);
    }
    if (rc == 0) {
        explicit = strdup(*sel);
        if (!explicit)
            rc = err_set(e, EV_ERR_NOMEM, "out of memory");
    }
    if (rc == 0 && o->query)
        rc = search_query_plain(o->query, &fts, e);
    if (rc == 0 &&
        sqlite3_prepare_v2(
            db,
            "SELECT id FROM incident i WHERE (?1 OR (?2 IS NOT NULL AND "
            "EXISTS (SELECT 1 FROM incident_tag t WHERE t.incident_id = i.id "
            "AND t.tag = ?2)) OR (?3 IS NOT NULL AND i.start_date IS NOT "
            "NULL AND (i.start_date || substr('-99-99', length(i.start_date) "
            "- 3)) >= ?3 AND i.start_date <= ?4) OR (?5 IS NOT NULL AND i.id "
            "IN (SELECT rowid / 8 FROM search WHERE search MATCH ?5 AND rowid "
            "% 8 = 1))) AND NOT (?6 AND i.confidential AND i.id NOT IN "
            "(SELECT value FROM json_each(?7))) AND i.id NOT IN (SELECT "
            "value FROM json_each(?7)) ORDER BY i.id",
            -1, &st, NULL) != SQLITE_OK)
        rc = vault_sqlerr(v, sqlite3_errcode(db), "choosing incidents", e);
    if (rc == 0) {
        sqlite3_bind_int(st, 1, o->all != 0);
        if (o->tag)
            sqlite3_bind_text(st, 2, o->tag, -1, SQLITE_STATIC);
        if (o->since)
            sqlite3_bind_text(st, 3, o->since, -1, SQLITE_STATIC);
        if (o->until) {
            /* the end of the period --until names: 2023-06 -> 2023-06-99 */
            char until[24];
            snprintf(until, sizeof until, "%.10s%s", o->until,
                     strlen(o->until) == 4   ? "-99-99"
                     : strlen(o->until) == 7 ? "-99"
                                             : "");
            sqlite3_bind_text(st, 4, until, -1, SQLITE_TRANSIENT);
        }
        if (fts)
            sqlite3_bind_text(st, 5, fts, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, o->redact != 0);
        sqlite3_bind_text(st, 7, explicit, -1, SQLITE_STATIC);
        rc = sel_add_stmt(v, st, sel, &len, &cap, e);
        sqlite3_finalize(st);
    }
    sqlite3_free(fts);
    free(explicit);
    if (rc == 0 && len == 1)
        rc = err_set(e, EV_ERR_NOTFOUND,
                     "no incident matches: nothing to export");
    if (rc != 0) {
        free(*sel);
        *sel = NULL;
    }
    return rc;
}

/* ---- payload ------------------------------------------------------------------ */

static void bind_common(sqlite3_stmt *st, const char *sel, int redact)
{
    sqlite3_bind_text(st, 1, sel, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, redact != 0);
}

static int add_records(exporter *x, const char *sel,
                       const identity_public *pub, const char *when)
{
    sqlite3_stmt *st = NULL;
    char *sql = sqlite3_mprintf("%s%s", records_sql, records_sql2);
    int rc;

    if (!sql)
        return err_set(x->e, EV_ERR_NOMEM, "out of memory");
    rc = sqlite3_prepare_v2(vault_db(x->v), sql, -1, &st, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK)
        return vault_sqlerr(x->v, rc, "exporting records", x->e);
    bind_common(st, sel, x->o->redact);
    sqlite3_bind_text(st, 3, x->res->uuid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, when, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, pub->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, pub->vault_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, pub->minisign_pubkey, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(st, 0);
        sqlite3_stmt *cnt = NULL;
        rc = add_mem(x, "data/records.json", text,
                     (size_t)sqlite3_column_bytes(st, 0), 1);
        if (rc == 0 &&
            sqlite3_prepare_v2(vault_db(x->v),
                               "SELECT json_array_length(?1, '$.incidents'), "
                               "json_array_length(?1, '$.actors'), "
                               "json_array_length(?1, '$.sources')",
                               -1, &cnt, NULL) == SQLITE_OK) {
            sqlite3_bind_text(cnt, 1, text, -1, SQLITE_STATIC);
            if (sqlite3_step(cnt) == SQLITE_ROW) {
                x->res->incidents = (uint64_t)sqlite3_column_int64(cnt, 0);
                x->res->actors = (uint64_t)sqlite3_column_int64(cnt, 1);
                x->res->sources = (uint64_t)sqlite3_column_int64(cnt, 2);
            }
        }
        sqlite3_finalize(cnt);
    } else {
        rc = vault_sqlerr(x->v, sqlite3_errcode(vault_db(x->v)),
                          "exporting records", x->e);
    }
    sqlite3_finalize(st);
    return rc;
}

/* A growing text buffer. */
typedef struct tbuf {
    char *p;
    size_t len, cap;
} tbuf;

static int tb_put(tbuf *b, const void *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t nc = (b->cap + n) * 2 + 256;
        char *p = realloc(b->p, nc);
        if (!p)
            return -1;
        b->p = p;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int add_csv(exporter *x, const char *sel)
{
    sqlite3_stmt *st = NULL;
    tbuf b = {NULL, 0, 0};
    int rc = 0, src;

    if (sqlite3_prepare_v2(vault_db(x->v), csv_sql, -1, &st, NULL) !=
        SQLITE_OK)
        return vault_sqlerr(x->v, sqlite3_errcode(vault_db(x->v)),
                            "exporting records", x->e);
    bind_common(st, sel, x->o->redact);
    while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; rc == 0 && c < 16; c++) {
            const char *f = (const char *)sqlite3_column_text(st, c);
            size_t fl = f ? strlen(f) : 0;
            size_t need = fl * 2 + 2;
            char *q = malloc(need + 1);
            size_t ql;
            if (!q) {
                rc = err_set(x->e, EV_ERR_NOMEM, "out of memory");
                break;
            }
            ql = csv_write(q, need, f ? f : "", fl);
            if ((c && tb_put(&b, ",", 1)) || tb_put(&b, q, ql))
                rc = err_set(x->e, EV_ERR_NOMEM, "out of memory");
            free(q);
        }
        if (rc == 0 && tb_put(&b, "\r\n", 2))
            rc = err_set(x->e, EV_ERR_NOMEM, "out of memory");
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = vault_sqlerr(x->v, src, "exporting records", x->e);
    sqlite3_finalize(st);
    if (rc == 0)
        rc = add_mem(x, "data/records.csv", b.p ? b.p : "", b.len, 1);
    free(b.p);
    return rc;
}

static int add_custody(exporter *x, const char *sel)
{
    sqlite3_stmt *st = NULL;
    tbuf b = {NULL, 0, 0};
    int rc = 0, src;

    if (sqlite3_prepare_v2(vault_db(x->v), custody_sql, -1, &st, NULL) !=
        SQLITE_OK)
        return vault_sqlerr(x->v, sqlite3_errcode(vault_db(x->v)),
                            "exporting the custody log", x->e);
    bind_common(st, sel, x->o->redact);
    while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
        if (tb_put(&b, sqlite3_column_text(st, 0),
                   (size_t)sqlite3_column_bytes(st, 0)) ||
            tb_put(&b, "\n", 1))
            rc = err_set(x->e, EV_ERR_NOMEM, "out of memory");
        x->res->log_entries++;
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = vault_sqlerr(x->v, src, "exporting the custody log", x->e);
    sqlite3_finalize(st);
    if (rc == 0)
        rc = add_mem(x, "data/custody.jsonl", b.p ? b.p : "", b.len, 1);
    free(b.p);
    return rc;
}

static int add_seals(exporter *x, const char *sel)
{
    sqlite3_stmt *st = NULL;
    char path[200];
    int rc = 0, src, dir = 0;

    if (sqlite3_prepare_v2(vault_db(x->v), seals_sql, -1, &st, NULL) !=
        SQLITE_OK)
        return vault_sqlerr(x->v, sqlite3_errcode(vault_db(x->v)),
                            "exporting seals", x->e);
    bind_common(st, sel, x->o->redact);
    while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *u = (const char *)sqlite3_column_text(st, 0);
        if (!dir && (rc = entry_header(x, "data/seals", 0, 1)) != 0)
            break;
        dir = 1;
        snprintf(path, sizeof path, "data/seals/%s.json", u);
        rc = add_mem(x, path, sqlite3_column_blob(st, 1),
                     (size_t)sqlite3_column_bytes(st, 1), 1);
        snprintf(path, sizeof path, "data/seals/%s.json.minisig", u);
        if (rc == 0)
            rc = add_mem(x, path, sqlite3_column_text(st, 2),
                         (size_t)sqlite3_column_bytes(st, 2), 1);
        x->res->seals++;
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = vault_sqlerr(x->v, src, "exporting seals", x->e);
    sqlite3_finalize(st);
    return rc;
}

static int add_all_evidence(exporter *x, const char *sel)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, src, dir = 0;

    if (sqlite3_prepare_v2(vault_db(x->v),
                           "SELECT coalesce(sum(size), 0), count(*) FROM "
                           "evidence WHERE id IN (SELECT evidence_id FROM "
                           "evidence_link WHERE incident_id IN " SEL ")",
                           -1, &st, NULL) != SQLITE_OK)
        return vault_sqlerr(x->v, sqlite3_errcode(vault_db(x->v)),
                            "exporting evidence", x->e);
    sqlite3_bind_text(st, 1, sel, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        x->total = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(vault_db(x->v), evidence_sql, -1, &st, NULL) !=
        SQLITE_OK)
        return vault_sqlerr(x->v, sqlite3_errcode(vault_db(x->v)),
                            "exporting evidence", x->e);
    sqlite3_bind_text(st, 1, sel, -1, SQLITE_STATIC);
    while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
        char path[200];
        uint8_t sha[32];
        if (!dir && (rc = entry_header(x, "data/evidence", 0, 1)) != 0)
            break;
        dir = 1;
        if (sqlite3_column_bytes(st, 1) != 32) {
            rc = err_set(x->e, EV_ERR_INTEGRITY, "damaged evidence row");
            break;
        }
        snprintf(path, sizeof path, "%s", sqlite3_column_text(st, 0));
        memcpy(sha, sqlite3_column_blob(st, 1), 32);
        rc = add_evidence(x, path, sha, (uint64_t)sqlite3_column_int64(st, 2));
        x->res->evidence++;
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = vault_sqlerr(x->v, src, "exporting evidence", x->e);
    sqlite3_finalize(st);
    return rc;
}

/* ---- tag files -------------------------------------------------------------- */

static const char readme_fmt[] =
    "This is an evault handover bundle: a BagIt 1.0 bag (RFC 8493).\n"
    "\n"
    "Bundle %s, made %s by \"%s\"\n"
    "(evault vault %s, minisign public key %s).\n"
    "\n"
    "Check it with standard tools, without evault:\n"
    "\n"
    "1. Before decrypting, check the sender's signature of the encrypted\n"
    "   file (sender.pub holds the key line above, as a minisign .pub):\n"
    "     minisign -Vm BUNDLE -p sender.pub\n"
    "2. Decrypt and unpack (age, with your age identity):\n"
    "     age -d -i your-key.txt BUNDLE | tar x\n"
    "3. In this directory, check every file against the manifests:\n"
    "     sha256sum -c manifest-sha256.txt\n"
    "     sha256sum -c tagmanifest-sha256.txt\n"
    "4. Check the sender's signature of the tag manifest (which covers the\n"
    "   manifest, which covers every file):\n"
    "     minisign -Vm tagmanifest-sha256.txt -p sender.pub\n"
    "\n"
    "Contents (data/): records.json (incidents, actors, sources, evidence;\n"
    "schema in evault's docs/FORMAT.md), records.csv (the incidents as a\n"
    "spreadsheet), evidence/ (the original files, bit for bit; their SHA-256\n"
    "is in records.json and the manifest), custody.jsonl (the chain-of-\n"
    "custody entries of these records, each signed by the sender), seals/\n"
    "(sealed records and their minisign signatures: minisign -Vm\n"
    "seals/UUID.json -p sender.pub).\n"
    "\n"
    "records.csv holds text as it was recorded: import it into a spreadsheet\n"
    "as text, since a cell beginning with = + - or @ could act as a formula.\n"
    "%s";

static int add_tagfiles(exporter *x, const identity_public *pub,
                        const char *when)
{
    identity *id = vault_identity(x->v);
    char oxum[BAG_OXUM_MAX], date[11], *readme = NULL, *info = NULL;
    char org[VAULT_NAMEMAX + 1];
    char trusted[300], sig[MSIG_SIGFILE_MAX];
    size_t infolen = 0, rlen;
    bag_manifest tag;
    int rc, n;

    bag_manifest_init(&tag, BAG_MANIFEST_TAG);
    n = snprintf(NULL, 0, readme_fmt, x->res->uuid, when, pub->name,
                 pub->vault_id, pub->minisign_pubkey,
                 x->o->redact ? "\nRedacted: confidential actors and "
                                "sources, sources without consent, and\n"
                                "contact details were left out.\n"
                              : "");
    readme = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (!readme)
        return err_set(x->e, EV_ERR_NOMEM, "out of memory");
    snprintf(readme, (size_t)n + 1, readme_fmt, x->res->uuid, when,
             pub->name, pub->vault_id, pub->minisign_pubkey,
             x->o->redact ? "\nRedacted: confidential actors and sources, "
                            "sources without consent, and\ncontact details "
                            "were left out.\n"
                          : "");
    rlen = (size_t)n;
    /* bag-info values: no control characters, no white space at either
     * end (a vault name may have both) */
    {
        size_t a = 0, b = strlen(pub->name);
        while (a < b && (pub->name[a] == ' ' || pub->name[a] == '\t'))
            a++;
        while (b > a && (pub->name[b - 1] == ' ' || pub->name[b - 1] == '\t'))
            b--;
        snprintf(org, sizeof org, "%.*s", (int)(b - a), pub->name + a);
        for (char *p = org; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = ' ';
        if (!org[0])
            snprintf(org, sizeof org, "(unnamed)");
    }
    memcpy(date, when, 10);
    date[10] = '\0';
    bag_oxum_format(oxum, x->payload_bytes, x->payload_files);
    {
        bag_info_item items[] = {
            {BAG_LABEL_SOURCE_ORG, org},
            {BAG_LABEL_BAGGING_DATE, date},
            {BAG_LABEL_EXTERNAL_ID, x->res->uuid},
            {BAG_LABEL_PAYLOAD_OXUM, oxum},
            {BAG_LABEL_SENDER_VAULT, pub->vault_id},
        };
        rc = bag_info_build(items, sizeof items / sizeof items[0], &info,
                            &infolen, x->e);
    }
    {
        bag_tagfile files[] = {
            {"README.txt", readme, rlen},
            {"bagit.txt", BAG_BAGIT_TXT, sizeof BAG_BAGIT_TXT - 1},
            {"bag-info.txt", info, infolen},
            {"manifest-sha256.txt", x->manifest.text, x->manifest.len},
        };
        for (size_t i = 0; rc == 0 && i < sizeof files / sizeof files[0]; i++)
            rc = add_mem(x, files[i].name, files[i].data, files[i].len, 0);
        if (rc == 0)
            rc = bag_tagmanifest_add(&tag, files,
                                     sizeof files / sizeof files[0], x->e);
    }
    if (rc == 0)
        rc = add_mem(x, "tagmanifest-sha256.txt", tag.text, tag.len, 0);
    if (rc == 0) {
        snprintf(trusted, sizeof trusted,
                 "evault bundle %s tag manifest, sender vault %s, %s",
                 x->res->uuid, pub->vault_id, when);
        if (msig_sign(sig, sizeof sig, id->sign, (const uint8_t *)tag.text,
                      tag.len, "signature from evault vault identity",
                      trusted) != 0)
            rc = err_set(x->e, EV_ERR_INTERNAL, "cannot sign");
    }
    if (rc == 0)
        rc = add_mem(x, "tagmanifest-sha256.txt.minisig", sig, strlen(sig), 0);
    bag_manifest_clear(&tag);
    free(info);
    free(readme);
    return rc;
}

/* ---- export ------------------------------------------------------------------ */

/* Recipients: the partners' age keys, end to end. OUT: *pks. */
static int partner_keys(vault *v, const bundle_export_opts *o, uint8_t **pks,
                        ev_err *e)
{
    *pks = calloc(o->npartners ? o->npartners : 1, AGE_KEYBYTES);
    if (!*pks)
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < o->npartners; i++) {
        partner p;
        int rc = partner_get(v, o->partners[i], &p, e);
        if (rc != 0)
            return rc;
        memcpy(*pks + i * AGE_KEYBYTES, p.box_pk, AGE_KEYBYTES);
    }
    return 0;
}

/* Give the complete file tmp its final name, never replacing a file:
 * rename without replace where the file system has it, else a hard link
 * (vfat and exfat, common on USB sticks, have no hard links). */
static int publish(const char *tmp, const char *final)
{
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -1;
    return link(tmp, final);
}

static int out_write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, s, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

int bundle_export(vault *v, const bundle_export_opts *o,
                  bundle_export_result *res, ev_err *e)
{
    identity *id = vault_identity(v);
    identity_public pub;
    exporter x;
    uint8_t *pks = NULL, pkey[32], *pheap = NULL;
    char when[REC_TIMELEN + 1], *sel = NULL, *sigpath = NULL;
    char sig[MSIG_SIGFILE_MAX], trusted[400], detail[1000];
    outfile sigf;
    struct stat sb;
    locale_t utf8 = (locale_t)0, prev_locale = (locale_t)0;
    int rc, arc = 0, linked = 0;

    memset(res, 0, sizeof *res);
    memset(&x, 0, sizeof x);
    memset(&sigf, 0, sizeof sigf);
    sigf.fd = -1;
    x.out.fd = -1;
    x.v = v;
    x.o = o;
    x.res = res;
    x.e = e;
    bag_manifest_init(&x.manifest, BAG_MANIFEST_PAYLOAD);
    if (!id)
        return err_set(e, EV_ERR_INTERNAL, "no identity loaded");
    if ((o->npartners == 0) == (o->passphrase == NULL))
        return err_set(e, EV_ERR_INVALID,
                       "give partners or a bundle passphrase");
    if (!o->out_path || lstat(o->out_path, &sb) == 0)
        return err_set(e, EV_ERR_EXISTS,
                       "'%s' exists already: evault never overwrites a file",
                       o->out_path ? o->out_path : "");
    sigpath = malloc(strlen(o->out_path) + 9);
    if (!sigpath)
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    snprintf(sigpath, strlen(o->out_path) + 9, "%s.minisig", o->out_path);
    if (lstat(sigpath, &sb) == 0) {
        rc = err_set(e, EV_ERR_EXISTS,
                     "'%s' exists already: evault never overwrites a file",
                     sigpath);
        goto out;
    }
    /* pseudonyms: a key of their own, derived from the identity */
    crypto_generichash(pkey, sizeof pkey, (const uint8_t *)"evault-pseudonym",
                       16, id->sign->sk, 32);
    if (sqlite3_create_function(vault_db(v), "ev_bag_name", 2,
                                SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                fn_bag_name, NULL, NULL) != SQLITE_OK ||
        !(pheap = sqlite3_malloc(32)) ||
        (memcpy(pheap, pkey, 32),
         sqlite3_create_function_v2(vault_db(v), "ev_pseudonym", 1,
                                    SQLITE_UTF8 | SQLITE_DETERMINISTIC, pheap,
                                    fn_pseudonym, NULL, NULL,
                                    pseudonym_key_free)) != SQLITE_OK) {
        rc = err_set(e, EV_ERR_INTERNAL, "cannot register SQL functions");
        goto out;
    }
    if ((rc = identity_get_public(v, &pub, e)) != 0)
        goto out;
    if (o->npartners && (rc = partner_keys(v, o, &pks, e)) != 0)
        goto out;
    /* one read snapshot for everything exported */
    if (sqlite3_exec(vault_db(v), "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        rc = vault_sqlerr(v, sqlite3_errcode(vault_db(v)), "exporting", e);
        goto out;
    }
    if ((rc = select_incidents(v, o, &sel, e)) != 0)
        goto out;
    rec_uuid(res->uuid);
    rec_now(when);
    x.now = time(NULL);
    snprintf(x.prefix, sizeof x.prefix, "bundle-%s/", res->uuid);
    if ((rc = out_open(&x.out, o->out_path, e)) != 0)
        goto out;
    arc = o->npartners ? age_enc_new_x25519(&x.enc, pks, o->npartners,
                                            out_write, &x.out)
                       : age_enc_new_scrypt(&x.enc, o->passphrase,
                                            o->passphrase_len,
                                            o->scrypt_log_n
                                                ? o->scrypt_log_n
                                                : AGE_SCRYPT_LOGN_DEFAULT,
                                            out_write, &x.out);
    if (arc != 0) {
        rc = err_set(e, arc == AGE_ERR_IO ? EV_ERR_IO : EV_ERR_INVALID,
                     "cannot start the age encryption: %s",
                     age_strerror(arc));
        goto out;
    }
    if (wq_start(&x.q, x.enc) != 0) {
        rc = err_set(e, EV_ERR_NOMEM, "cannot start the bundle writer");
        goto out;
    }
    /* libarchive's pax writer converts names through the locale: give it
     * UTF-8 (names were made valid UTF-8 by ev_bag_name) */
    utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (utf8)
        prev_locale = uselocale(utf8);
    x.ar = archive_write_new();
    if (!x.ar || archive_write_set_format_pax_restricted(x.ar) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(x.ar, 1) != ARCHIVE_OK ||
        archive_write_open(x.ar, &x, NULL, ar_write, NULL) != ARCHIVE_OK) {
        rc = err_set(e, EV_ERR_INTERNAL, "cannot start the tar archive");
        goto out;
    }
    rc = entry_header(&x, "", 0, 1);
    if (rc == 0)
        rc = entry_header(&x, "data", 0, 1);
    if (rc == 0)
        rc = add_records(&x, sel, &pub, when);
    if (rc == 0)
        rc = add_csv(&x, sel);
    if (rc == 0)
        rc = add_custody(&x, sel);
    if (rc == 0)
        rc = add_seals(&x, sel);
    if (rc == 0)
        rc = add_all_evidence(&x, sel);
    if (rc == 0)
        rc = add_tagfiles(&x, &pub, when);
    if (rc == 0 && archive_write_close(x.ar) != ARCHIVE_OK)
        rc = ar_fail(&x, "closing the tar");
    if (wq_stop(&x.q, rc == 0) != 0 && rc == 0) {
        x.failed = 1;
        rc = ar_fail(&x, "writing");
    }
    if (rc == 0 && (arc = age_enc_final(x.enc)) != 0)
        rc = err_set(e, EV_ERR_IO, "cannot write '%s': %s", o->out_path,
                     age_strerror(arc));
    if (rc == 0 && fsync(x.out.fd) != 0)
        rc = err_set(e, EV_ERR_IO, "cannot write '%s': %s", o->out_path,
                     strerror(errno));
    sqlite3_exec(vault_db(v), "COMMIT", NULL, NULL, NULL);
    if (rc != 0)
        goto out;
    res->payload_bytes = x.payload_bytes;
    res->payload_files = x.payload_files;
    res->bundle_bytes = x.out.bytes;
    /* the signature of the encrypted file, minisign's prehashed form */
    snprintf(trusted, sizeof trusted,
             "evault bundle %s from vault %s (%s), %s", res->uuid,
             pub.vault_id, pub.name, when);
    for (char *p = trusted; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    if (msig_sign_final(&x.out.sig, sig, sizeof sig, id->sign,
                        "signature from evault vault identity",
                        trusted) != 0) {
        rc = err_set(e, EV_ERR_INTERNAL, "cannot sign the bundle");
        goto out;
    }
    if ((rc = out_open(&sigf, sigpath, e)) != 0)
        goto out;
    if (out_write_all(sigf.fd, sig, strlen(sig)) != 0 || fsync(sigf.fd) != 0) {
        rc = err_set(e, EV_ERR_IO, "cannot write '%s': %s", sigpath,
                     strerror(errno));
        goto out;
    }
    /* both appear only when complete; never over an existing file */
    if (publish(x.out.tmp, o->out_path) != 0) {
        rc = err_set(e, errno == EEXIST ? EV_ERR_EXISTS : EV_ERR_IO,
                     "cannot create '%s': %s", o->out_path, strerror(errno));
        goto out;
    }
    linked = 1;
    if (publish(sigf.tmp, sigpath) != 0) {
        rc = err_set(e, errno == EEXIST ? EV_ERR_EXISTS : EV_ERR_IO,
                     "cannot create '%s': %s", sigpath, strerror(errno));
        goto out;
    }
    linked = 2;
    {
        /* what went out and to whom (partner names) */
        int n = snprintf(detail, sizeof detail,
                         "bundle %s: %llu incidents, %llu evidence files, "
                         "%llu bytes%s, to %s",
                         res->uuid, (unsigned long long)res->incidents,
                         (unsigned long long)res->evidence,
                         (unsigned long long)res->bundle_bytes,
                         o->redact ? ", redacted" : "",
                         o->npartners ? "partners" : "a passphrase");
        for (size_t i = 0; i < o->npartners && n > 0 &&
                           (size_t)n < sizeof detail;
             i++)
            n += snprintf(detail + n, sizeof detail - (size_t)n, "%s'%s'",
                          i ? ", " : " ", o->partners[i]);
    }
    rc = custody_record(v, "export", "bundle", res->uuid, detail, e);
out:
    if (rc != 0 && linked >= 1)
        unlink(o->out_path);
    if (rc != 0 && linked >= 2)
        unlink(sigpath);
    if (x.ar) {
        if (rc != 0)
            archive_write_fail(x.ar);
        archive_write_free(x.ar);
    }
    if (utf8) {
        uselocale(prev_locale);
        freelocale(utf8);
    }
    wq_stop(&x.q, 0); /* a writer still running, or its buffers */
    if (pheap) /* frees and wipes the key */
        sqlite3_create_function_v2(vault_db(v), "ev_pseudonym", 1,
                                   SQLITE_UTF8, NULL, NULL, NULL, NULL, NULL);
    age_enc_free(x.enc);
    out_discard(&x.out);
    out_discard(&sigf);
    if (!sqlite3_get_autocommit(vault_db(v)))
        sqlite3_exec(vault_db(v), "ROLLBACK", NULL, NULL, NULL);
    bag_manifest_clear(&x.manifest);
    sodium_memzero(pkey, sizeof pkey);
    free(pks);
    free(sel);
    free(sigpath);
    return rc;
}
