/*
 * test_store: the evidence store through the library: round trips at the
 * chunk boundaries, dedup (the same content is stored once, linked to a
 * second incident, refused twice for one incident), files that are not
 * regular or not readable, files that change while read, cancellation,
 * tampered chunks found on extract and on verify (where the hasher thread
 * reads chunks too, through a second connection), media types, metadata,
 * and adds inside a caller's transaction. Runs in the TMPDIR tests/run.sh gives it.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../crypto/kdf.h"
#include "../../crypto/sha256pipe.h"
#include "../../vault/chunkread.h"
#include "../../vault/rec.h"
#include "../../vault/report.h"
#include "../../vault/store.h"
#include "../../vault/vault.h"

#define PASS "store test passphrase"
#define VFILE "store.evault"

/* ---- helpers ---------------------------------------------------------- */

static vault *fresh_vault(void)
{
    kdf_params p;
    vault *v = NULL;
    ev_err e;

    unlink(VFILE);
    kdf_profile("test", &p);
    err_clear(&e);
    if (vault_create(VFILE, PASS, strlen(PASS), &p, "Org", NULL, NULL, &e))
        fail_msg("vault_create: %s", e.msg);
    if (vault_open(&v, VFILE, PASS, strlen(PASS), NULL, &e))
        fail_msg("vault_open: %s", e.msg);
    return v;
}

static void exec_ok(vault *v, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(vault_db(v), sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

static int64_t add_incident(vault *v, const char *title)
{
    sqlite3_stmt *st = NULL;
    char uuid[REC_UUIDLEN + 1], now[REC_TIMELEN + 1];

    rec_uuid(uuid);
    rec_now(now);
    assert_int_equal(sqlite3_prepare_v2(vault_db(v),
                                        "INSERT INTO incident(uuid, title, "
                                        "type, created, updated) VALUES "
                                        "(?1, ?2, 'arrest', ?3, ?3)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    return sqlite3_last_insert_rowid(vault_db(v));
}

static int64_t count(vault *v, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t n;
    assert_int_equal(sqlite3_prepare_v2(vault_db(v), sql, -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Write len random bytes (or the given bytes) to path. OUT: data (malloc). */
static uint8_t *make_file(const char *path, size_t len, const void *bytes)
{
    uint8_t *data = malloc(len ? len : 1);
    int fd;

    assert_non_null(data);
    if (bytes)
        memcpy(data, bytes, len);
    else
        randombytes_buf(data, len);
    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return data;
}

static void sha256_of(const uint8_t *data, size_t len, uint8_t *out)
{
    crypto_hash_sha256(out, data, len);
}

/* Extract evidence id into a memfd; compare with data. Returns rc. */
static int extract_cmp(vault *v, int64_t id, const uint8_t *data, size_t len,
                       ev_err *e)
{
    int fd = memfd_create("extract", MFD_CLOEXEC), rc;
    uint64_t written = 0;
    struct stat st;

    assert_true(fd >= 0);
    err_clear(e);
    rc = store_evidence_extract(v, id, fd, NULL, NULL, &written, e);
    if (rc == 0) {
        uint8_t *back;
        assert_int_equal(written, len);
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(st.st_size, (off_t)len);
        back = malloc(len ? len : 1);
        assert_non_null(back);
        assert_int_equal(pread(fd, back, len, 0), (ssize_t)len);
        assert_memory_equal(back, data, len);
        free(back);
    }
    close(fd);
    return rc;
}

static int64_t add_ok(vault *v, int64_t incident, const char *path,
                      store_added *a)
{
    ev_err e;
    err_clear(&e);
    if (store_evidence_add(v, incident, path, NULL, NULL, NULL, a, &e))
        fail_msg("store_evidence_add '%s': %s", path, e.msg);
    return a->evidence_id;
}

/* ---- tests ------------------------------------------------------------ */

static void test_round_trips(void **state)
{
    const size_t sizes[] = {0, 1, STORE_CHUNK - 1, STORE_CHUNK,
                            STORE_CHUNK + 1, 3 * STORE_CHUNK + 4321};
    vault *v = fresh_vault();
    int64_t inc = add_incident(v, "round trips");
    (void)state;

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char name[64];
        uint8_t want[32];
        store_added a;
        store_evidence ev;
        ev_err e;
        uint8_t *data;
        int64_t id;

        snprintf(name, sizeof name, "file-%zu.bin", sizes[i]);
        data = make_file(name, sizes[i], NULL);
        id = add_ok(v, inc, name, &a);
        assert_true(id > 0);
        assert_int_equal(a.linked_existing, 0);
        assert_int_equal(a.content_existed, 0);
        assert_int_equal(a.size, sizes[i]);
        sha256_of(data, sizes[i], want);
        assert_memory_equal(a.sha256, want, 32);
        assert_int_equal(extract_cmp(v, id, data, sizes[i], &e), 0);
        assert_int_equal(store_evidence_get(v, id, &ev, &e), 0);
        assert_string_equal(ev.original_name, name);
        assert_int_equal(ev.size, sizes[i]);
        assert_memory_equal(ev.sha256, want, 32);
        assert_string_equal(ev.method, "document");
        assert_null(ev.url);
        assert_int_equal(strlen(ev.acquired_at), REC_TIMELEN);
        store_evidence_clear(&ev);
        free(data);
        unlink(name);
    }
    /* Chunk counts: 0, 1, 1, 1, 2, 4; no staging blob left behind. */
    assert_int_equal(count(v, "SELECT count(*) FROM chunk"), 9);
    assert_int_equal(count(v, "SELECT count(*) FROM blob"), 6);
    assert_int_equal(count(v, "SELECT count(*) FROM blob b WHERE size <> "
                              "(SELECT coalesce(sum(length(data)), 0) FROM "
                              "chunk c WHERE c.blob_id = b.id)"),
                     0);
    assert_int_equal(count(v, "SELECT max(length(data)) FROM chunk"),
                     STORE_CHUNK);
    vault_close(v);
}

static void test_dedup(void **state)
{
    vault *v = fresh_vault();
    int64_t i1 = add_incident(v, "first"), i2 = add_incident(v, "second");
    int64_t id1, id2, chunks;
    store_added a;
    ev_err e;
    uint8_t *data = make_file("a.bin", 2 * STORE_CHUNK + 5, NULL);
    uint8_t *copy = make_file("b-copy.bin", 2 * STORE_CHUNK + 5, data);
    (void)state;

    id1 = add_ok(v, i1, "a.bin", &a);
    chunks = count(v, "SELECT count(*) FROM chunk");
    assert_int_equal(chunks, 3);

    /* Same content, same incident: refused, naming the evidence. */
    err_clear(&e);
    assert_int_equal(store_evidence_add(v, i1, "b-copy.bin", NULL, NULL, NULL,
                                        &a, &e),
                     EV_ERR_EXISTS);
    assert_non_null(strstr(e.msg, "evidence 1 ("));
    assert_int_equal(count(v, "SELECT count(*) FROM chunk"), chunks);
    assert_int_equal(count(v, "SELECT count(*) FROM evidence"), 1);
    assert_int_equal(count(v, "SELECT count(*) FROM blob"), 1);

    /* Same content, other incident: the record is linked, nothing stored. */
    id2 = add_ok(v, i2, "b-copy.bin", &a);
    assert_int_equal(id2, id1);
    assert_int_equal(a.linked_existing, 1);
    assert_int_equal(a.content_existed, 1);
    assert_int_equal(count(v, "SELECT count(*) FROM chunk"), chunks);
    assert_int_equal(count(v, "SELECT count(*) FROM blob"), 1);
    assert_int_equal(count(v, "SELECT count(*) FROM evidence"), 1);
    assert_int_equal(count(v, "SELECT count(*) FROM evidence_link"), 2);
    assert_int_equal(extract_cmp(v, id1, data, 2 * STORE_CHUNK + 5, &e), 0);

    /* Content whose evidence row is gone (blob orphaned): a new record on
     * the stored bytes. */
    exec_ok(v, "DELETE FROM evidence");
    assert_int_equal(count(v, "SELECT count(*) FROM evidence_link"), 0);
    id2 = add_ok(v, i2, "b-copy.bin", &a);
    assert_int_equal(a.linked_existing, 0);
    assert_int_equal(a.content_existed, 1);
    assert_int_equal(count(v, "SELECT count(*) FROM chunk"), chunks);
    assert_int_equal(extract_cmp(v, id2, data, 2 * STORE_CHUNK + 5, &e), 0);
    free(data);
    free(copy);
    vault_close(v);
}

static void test_refused_sources(void **state)
{
    vault *v = fresh_vault();
    int64_t inc = add_incident(v, "refusals");
    store_added a;
    ev_err e;
    (void)state;

    err_clear(&e);
    assert_int_equal(store_evidence_add(v, inc, "no-such-file", NULL, NULL,
                                        NULL, &a, &e),
                     EV_ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "'no-such-file'"));

    assert_int_equal(mkdir("adir", 0700), 0);
    assert_int_equal(store_evidence_add(v, inc, "adir", NULL, NULL, NULL, &a,
                                        &e),
                     EV_ERR_INVALID);
    assert_non_null(strstr(e.msg, "directory"));

    /* A FIFO with no writer: refused at once, never blocks. */
    assert_int_equal(mkfifo("afifo", 0600), 0);
    assert_int_equal(store_evidence_add(v, inc, "afifo", NULL, NULL, NULL, &a,
                                        &e),
                     EV_ERR_INVALID);
    assert_non_null(strstr(e.msg, "FIFO"));

    assert_int_equal(store_evidence_add(v, inc, "/dev/null", NULL, NULL, NULL,
                                        &a, &e),
                     EV_ERR_INVALID);
    assert_non_null(strstr(e.msg, "device"));

    /* a socket file, made without opening any socket */
    assert_int_equal(mknod("asock", S_IFSOCK | 0600, 0), 0);
    assert_int_equal(store_evidence_add(v, inc, "asock", NULL, NULL, NULL, &a,
                                        &e),
                     EV_ERR_INVALID);
    assert_non_null(strstr(e.msg, "socket"));
    unlink("asock");

    free(make_file("target.txt", 10, "0123456789"));
    assert_int_equal(symlink("target.txt", "alink"), 0);
    assert_int_equal(store_evidence_add(v, inc, "alink", NULL, NULL, NULL, &a,
                                        &e),
                     EV_ERR_INVALID);
    assert_non_null(strstr(e.msg, "symbolic link"));

    /* /proc files say size 0 and then have content: "grew". */
    assert_int_equal(store_evidence_add(v, inc, "/proc/self/status", NULL,
                                        NULL, NULL, &a, &e),
                     EV_ERR_IO);
    assert_non_null(strstr(e.msg, "grew"));

    /* Unknown incident, bad method, bad time. */
    assert_int_equal(store_evidence_add(v, 999, "target.txt", NULL, NULL,
                                        NULL, &a, &e),
                     EV_ERR_NOTFOUND);
    {
        store_meta m = {"telepathy", NULL, NULL, NULL, NULL};
        assert_int_equal(store_evidence_add(v, inc, "target.txt", &m, NULL,
                                            NULL, &a, &e),
                         EV_ERR_INVALID);
        assert_non_null(strstr(e.msg, "telepathy"));
        m.method = "photo";
        m.acquired_at = "yesterday";
        assert_int_equal(store_evidence_add(v, inc, "target.txt", &m, NULL,
                                            NULL, &a, &e),
                         EV_ERR_INVALID);
        assert_non_null(strstr(e.msg, "--acquired-at"));
    }
    assert_int_equal(count(v, "SELECT count(*) FROM chunk"), 0);
    assert_int_equal(count(v, "SELECT count(*) FROM blob"), 0);
    assert_int_equal(count(v, "SELECT count(*) FROM evidence"), 0);
    assert_true(sqlite3_get_autocommit(vault_db(v)));
    vault_close(v);
}

/*
 * Unreadable: root reads mode 000 files, so a child drops to nobody. (The
 * test directory is root's 0700 one, so nobody may also be stopped by the
 * directory: EACCES and the same message either way.)
 */
static void test_unreadable(void **state)
{
    int status = 0;
    pid_t pid;
    (void)state;

    free(make_file("secret.txt", 5, "hello"));
    assert_int_equal(chmod("secret.txt", 0), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct stat st;
        ev_err e;
        int fd = -1, rc;
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(3);
        err_clear(&e);
        rc = store_open_source("secret.txt", &fd, &st, &e);
        if (rc == EV_ERR_IO && fd == -1 &&
            (strstr(e.msg, "Permission denied") ||
             strstr(e.msg, "permission denied")))
            _exit(0);
        fprintf(stderr, "rc %d: %s\n", rc, e.msg);
        _exit(1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    chmod("secret.txt", 0600);
}

struct change {
    const char *path;
    int mode; /* 0 grow, 1 rewrite in place, 2 cancel, 3 shrink */
    int calls;
};

static int change_cb(void *arg, uint64_t done, uint64_t total)
{
    struct change *c = arg;
    int fd;
    (void)done;
    (void)total;
    if (c->calls++ != 0)
        return 0;
    if (c->mode == 2)
        return 1;
    fd = open(c->path, O_WRONLY | O_CLOEXEC | (c->mode == 0 ? O_APPEND : 0));
    assert_true(fd >= 0);
    if (c->mode == 0)
        assert_int_equal(write(fd, "more", 4), 4);
    else if (c->mode == 1)
        assert_int_equal(pwrite(fd, "X", 1, 3 * STORE_CHUNK - 10), 1);
    else
        assert_int_equal(ftruncate(fd, 2 * STORE_CHUNK), 0);
    close(fd);
    return 0;
}

static void test_changing_file(void **state)
{
    vault *v = fresh_vault();
    int64_t inc = add_incident(v, "changing");
    const char *const want[] = {"grew", "changed", "cancelled", "changed"};
    (void)state;

    for (int mode = 0; mode < 4; mode++) {
        struct change c = {"moving.bin", mode, 0};
        struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
        store_added a;
        ev_err e;

        free(make_file(c.path, 3 * STORE_CHUNK, NULL));
        /* An old mtime, so that a write in the same clock tick as the open
         * still changes it (timestamps are coarse). */
        assert_int_equal(utimensat(AT_FDCWD, c.path, old, 0), 0);
        err_clear(&e);
        assert_int_equal(store_evidence_add(v, inc, c.path, NULL, change_cb,
                                            &c, &a, &e),
                         mode == 2 ? EV_ERR_REFUSED : EV_ERR_IO);
        if (!strstr(e.msg, want[mode]))
            fail_msg("mode %d: '%s'", mode, e.msg);
        assert_non_null(strstr(e.msg, "nothing was stored"));
        assert_int_equal(a.evidence_id, 0);
        assert_int_equal(count(v, "SELECT count(*) FROM chunk"), 0);
        assert_int_equal(count(v, "SELECT count(*) FROM blob"), 0);
        assert_int_equal(count(v, "SELECT count(*) FROM evidence"), 0);
        assert_true(sqlite3_get_autocommit(vault_db(v)));
        unlink(c.path);
    }
    vault_close(v);
}

static void test_tampered_chunks(void **state)
{
    vault *v = fresh_vault();
    int64_t inc = add_incident(v, "tamper");
    store_added a;
    ev_err e;
    size_t len = 2 * STORE_CHUNK + 100;
    uint8_t *data = make_file("t.bin", len, NULL);
    int64_t id = add_ok(v, inc, "t.bin", &a);
    (void)state;

    assert_int_equal(extract_cmp(v, id, data, len, &e), 0);
    /* Same length, one byte changed: only the hash can tell. */
    exec_ok(v, "UPDATE chunk SET data = randomblob(length(data)) "
               "WHERE seq = 1");
    assert_int_equal(extract_cmp(v, id, data, len, &e), EV_ERR_INTEGRITY);
    assert_non_null(strstr(e.msg, "SHA-256"));
    /* A missing last chunk. */
    exec_ok(v, "DELETE FROM chunk WHERE seq = 2");
    assert_int_equal(extract_cmp(v, id, data, len, &e), EV_ERR_INTEGRITY);
    assert_non_null(strstr(e.msg, "chunk 2"));
    /* A short chunk. */
    exec_ok(v, "UPDATE chunk SET data = substr(data, 1, 1000) WHERE seq = 1");
    assert_int_equal(extract_cmp(v, id, data, len, &e), EV_ERR_INTEGRITY);
    assert_non_null(strstr(e.msg, "bytes, not"));
    /* A missing middle chunk. */
    exec_ok(v, "DELETE FROM chunk WHERE seq = 1");
    assert_int_equal(extract_cmp(v, id, data, len, &e), EV_ERR_INTEGRITY);
    assert_non_null(strstr(e.msg, "chunk 1"));
    /* The evidence row lying about the size. */
    free(data);
    data = make_file("u.bin", 10, "0123456789");
    id = add_ok(v, inc, "u.bin", &a);
    exec_ok(v, "UPDATE evidence SET size = 11 WHERE original_name='u.bin'");
    assert_int_equal(extract_cmp(v, id, data, 10, &e), EV_ERR_INTEGRITY);
    /* An unknown id. */
    assert_int_equal(extract_cmp(v, 4242, data, 10, &e), EV_ERR_NOTFOUND);
    free(data);
    vault_close(v);
}

static int list_cb(void *arg, const store_evidence *ev)
{
    int *n = arg;
    assert_true(ev->id > 0);
    (*n)++;
    return 0;
}

static int inc_cb(void *arg, int64_t id, const char *uuid, const char *title)
{
    int *n = arg;
    assert_true(id > 0);
    assert_int_equal(strlen(uuid), 36);
    assert_non_null(title);
    (*n)++;
    return 0;
}

static void test_metadata_and_types(void **state)
{
    static const uint8_t png[] = {0x89, 'P',  'N',  'G',  '\r', '\n', 0x1a,
                                  '\n', 0,    0,    0,    13,   'I',  'H',
                                  'D',  'R',  0,    0,    0,    1,    0,
                                  0,    0,    1,    8,    2,    0,    0,
                                  0,    0x90, 0x77, 0x53, 0xde};
    vault *v = fresh_vault();
    int64_t i1 = add_incident(v, "one"), i2 = add_incident(v, "two");
    store_meta m = {"photo", "https://example.org/x", "2024-03-01",
                    "field team", "a photo of the gate"};
    store_evidence ev;
    store_added a;
    ev_err e;
    int n = 0;
    (void)state;

    free(make_file("gate.png", sizeof png, png));
    free(make_file("notes.txt", 12, "hello world\n"));
    err_clear(&e);
    assert_int_equal(store_evidence_add(v, i1, "./gate.png", &m, NULL, NULL,
                                        &a, &e),
                     0);
    assert_string_equal(a.media_type, "image/png");
    assert_int_equal(store_evidence_get(v, a.evidence_id, &ev, &e), 0);
    assert_string_equal(ev.original_name, "gate.png");
    assert_string_equal(ev.media_type, "image/png");
    assert_string_equal(ev.method, "photo");
    assert_string_equal(ev.url, "https://example.org/x");
    assert_string_equal(ev.acquired_at, "2024-03-01T00:00:00Z");
    assert_string_equal(ev.acquired_by, "field team");
    assert_string_equal(ev.description, "a photo of the gate");
    assert_int_equal(strlen(ev.sha256_hex), 64);
    store_evidence_clear(&ev);
    assert_int_equal(store_evidence_add(v, i2, "notes.txt", NULL, NULL, NULL,
                                        &a, &e),
                     0);
    assert_string_equal(a.media_type, "text/plain");
    assert_int_equal(store_evidence_add(v, i2, "gate.png", NULL, NULL, NULL,
                                        &a, &e),
                     0);
    assert_int_equal(a.linked_existing, 1);
    assert_int_equal(store_evidence_list(v, 0, list_cb, &n, &e), 0);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(store_evidence_list(v, i1, list_cb, &n, &e), 0);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(store_evidence_list(v, i2, list_cb, &n, &e), 0);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(store_evidence_incidents(v, 1, inc_cb, &n, &e), 0);
    assert_int_equal(n, 2);
    vault_close(v);
}

/* verify's pass over the evidence, as `evault verify` runs it: inside a
 * read transaction, so the hasher thread helps reading. OUT: r. */
static uint64_t verify_bad(vault *v, report *r)
{
    uint64_t files, bytes, bad;
    ev_err e;

    exec_ok(v, "BEGIN; SELECT count(*) FROM sqlite_schema;");
    err_clear(&e);
    if (store_verify_all(v, r, NULL, NULL, &files, &bytes, &bad, &e))
        fail_msg("store_verify_all: %s", e.msg);
    exec_ok(v, "ROLLBACK");
    return bad;
}

/* Each kind of damage on each chunk of a 9-chunk content is found by
 * verify, whichever thread reads that chunk, and named in the report. */
static void test_verify_tampered_each_chunk(void **state)
{
    enum { N = 9 };
    static const char *damage[][2] = {
        {"UPDATE chunk SET data = randomblob(length(data)) WHERE seq = ",
         "SHA-256"},
        {"UPDATE chunk SET data = substr(data, 2) WHERE seq = ", "bytes, not"},
        {"UPDATE chunk SET data = 7 WHERE seq = ", "holds no data"},
        {"DELETE FROM chunk WHERE seq = ", "chunk"},
    };
    size_t len = (N - 1) * STORE_CHUNK + 777;
    uint8_t *data = make_file("v.bin", len, NULL);
    vault *v = fresh_vault();
    int64_t inc = add_incident(v, "verify");
    store_added a;
    report r = {0};
    (void)state;

    add_ok(v, inc, "v.bin", &a);
    assert_int_equal(count(v, "SELECT count(*) FROM chunk"), N);
    assert_int_equal(verify_bad(v, &r), 0);
    assert_int_equal(r.n, 0);
    exec_ok(v, "CREATE TABLE keep AS SELECT * FROM chunk");
    for (size_t d = 0; d < sizeof damage / sizeof damage[0]; d++)
        for (int seq = 0; seq < N; seq++) {
            char sql[200];
            snprintf(sql, sizeof sql, "%s%d", damage[d][0], seq);
            exec_ok(v, sql);
            report_clear(&r);
            assert_int_equal(verify_bad(v, &r), 1);
            assert_int_equal(r.n, 1);
            if (!strstr(r.items[0], damage[d][1]))
                fail_msg("damage %zu on chunk %d: %s", d, seq, r.items[0]);
            exec_ok(v, "DELETE FROM chunk; INSERT INTO chunk SELECT * FROM "
                       "keep");
        }
    report_clear(&r);
    assert_int_equal(verify_bad(v, &r), 0);
    free(data);
    vault_close(v);
}

/*
 * verify keeps one SHA-256 pipe and one helper for all contents: contents
 * of different sizes and chunk sizes (one re-chunked to 2 MiB rows, which
 * the format allows) verify clean, and damage in any one of them is
 * reported for that one alone, the contents after it still verifying.
 */
static void test_verify_many_contents(void **state)
{
    static const size_t sizes[] = {3 * STORE_CHUNK, 4 * STORE_CHUNK,
                                   2 * STORE_CHUNK + 5, 1000,
                                   5 * STORE_CHUNK - 3};
    enum { N = sizeof sizes / sizeof sizes[0] };
    int64_t ids[N], blobs[N];
    vault *v = fresh_vault();
    int64_t inc = add_incident(v, "many");
    report r = {0};
    char sql[400];
    (void)state;

    for (int i = 0; i < N; i++) {
        char path[32];
        store_added a;
        snprintf(path, sizeof path, "m%d.bin", i);
        free(make_file(path, sizes[i], NULL));
        ids[i] = add_ok(v, inc, path, &a);
        snprintf(sql, sizeof sql,
                 "SELECT b.id FROM blob b JOIN evidence e ON e.sha256 = "
                 "b.sha256 WHERE e.id = %lld",
                 (long long)ids[i]);
        blobs[i] = count(v, sql);
    }
    /* content 1 (4 chunks) as 2 rows of 2 MiB */
    snprintf(sql, sizeof sql,
             "UPDATE chunk SET data = CAST(data || (SELECT c.data FROM "
             "chunk c WHERE c.blob_id = chunk.blob_id AND c.seq = chunk.seq "
             "+ 1) AS BLOB) WHERE blob_id = %lld AND seq IN (0, 2);"
             "DELETE FROM chunk WHERE blob_id = %lld AND seq IN (1, 3);"
             "UPDATE chunk SET seq = seq / 2 WHERE blob_id = %lld;"
             "UPDATE blob SET chunk_size = %d WHERE id = %lld;",
             (long long)blobs[1], (long long)blobs[1], (long long)blobs[1],
             2 * STORE_CHUNK, (long long)blobs[1]);
    exec_ok(v, sql);
    assert_int_equal(verify_bad(v, &r), 0);
    assert_int_equal(r.n, 0);
    exec_ok(v, "CREATE TABLE keep AS SELECT * FROM chunk");
    /* new bytes fail at the digest; a short chunk, in mid-stream */
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < N; i++) {
            char who[40];
            if (sizes[i] <= STORE_CHUNK)
                continue; /* one chunk: hashed without the pipe */
            snprintf(sql, sizeof sql,
                     "UPDATE chunk SET data = %s WHERE blob_id = %lld AND "
                     "seq = 1",
                     d ? "substr(data, 2)" : "randomblob(length(data))",
                     (long long)blobs[i]);
            exec_ok(v, sql);
            report_clear(&r);
            assert_int_equal(verify_bad(v, &r), 1);
            assert_int_equal(r.n, 1);
            snprintf(who, sizeof who, "evidence %lld (", (long long)ids[i]);
            if (!strstr(r.items[0], who) ||
                !strstr(r.items[0], d ? "bytes, not" : "SHA-256"))
                fail_msg("damage %d in content %d: %s", d, i, r.items[0]);
            exec_ok(v, "DELETE FROM chunk; INSERT INTO chunk SELECT * FROM "
                       "keep");
        }
    report_clear(&r);
    assert_int_equal(verify_bad(v, &r), 0);
    vault_close(v);
}

/* The helper on its own: chunks offered to it land in the right slots and
 * hash in order; a chunk it cannot read is reported with its number. */
static void test_chunk_helper(void **state)
{
    enum { N = 7 };
    size_t len = N * STORE_CHUNK;
    uint8_t *data = make_file("h.bin", len, NULL);
    uint8_t want[32], got[32];
    vault *v = fresh_vault();
    int64_t inc = add_incident(v, "helper");
    store_added a;
    (void)state;

    add_ok(v, inc, "h.bin", &a);
    exec_ok(v, "CREATE TABLE keep AS SELECT * FROM chunk");
    sha256_of(data, len, want);
    for (int bad = -1; bad < N; bad += 2) {
        sqlite3_stmt *st = NULL;
        chunk_in in = {vault_db(v), NULL, 0, 0, 0}, hin = {0};
        sha256pipe *pipe = sha256pipe_new(STORE_CHUNK);
        chunk_helper *h;
        int64_t hseq = -1;
        int seq = 0, offered = 0;

        if (bad >= 0) {
            char sql[120];
            snprintf(sql, sizeof sql,
                     "UPDATE chunk SET data = zeroblob(5) WHERE seq = %d",
                     bad);
            exec_ok(v, "DELETE FROM chunk; INSERT INTO chunk SELECT * FROM "
                       "keep");
            exec_ok(v, sql);
        }
        exec_ok(v, "BEGIN; SELECT count(*) FROM sqlite_schema;");
        assert_non_null(pipe);
        h = chunk_helper_start(v, pipe);
        assert_non_null(h);
        assert_int_equal(sqlite3_prepare_v2(vault_db(v),
                                            "SELECT id FROM chunk ORDER BY "
                                            "seq",
                                            -1, &st, NULL),
                         SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            unsigned slot;
            uint8_t *buf = sha256pipe_claim(pipe, &slot);
            int64_t id = sqlite3_column_int64(st, 0);
            if (seq % 2) { /* the helper reads every odd chunk */
                int taken;
                while (!(taken = chunk_helper_offer(h, id, seq, STORE_CHUNK,
                                                    buf, slot)) &&
                       !chunk_helper_failed(h))
                    usleep(100);
                if (taken)
                    offered++;
                else /* after a failure: nothing is read any more */
                    sha256pipe_submit(pipe, slot, 0);
            } else {
                assert_int_equal(chunk_read(&in, id, buf, STORE_CHUNK),
                                 CHUNK_OK);
                sha256pipe_submit(pipe, slot, STORE_CHUNK);
            }
            seq++;
        }
        sqlite3_finalize(st);
        assert_int_equal(seq, N);
        /* after a failure, offers already taken may still be read */
        if (bad < 0)
            assert_int_equal(offered, N / 2);
        else
            assert_true(offered >= (bad + 1) / 2);
        if (bad < 0) {
            assert_int_equal(chunk_helper_stop(h, &hseq, &hin), CHUNK_OK);
            sha256pipe_final(pipe, got);
            assert_memory_equal(got, want, 32);
        } else {
            assert_int_equal(chunk_helper_stop(h, &hseq, &hin), CHUNK_SIZE);
            assert_int_equal(hseq, bad);
            assert_int_equal(hin.got, 5);
        }
        chunk_in_close(&in);
        sha256pipe_free(pipe);
        exec_ok(v, "ROLLBACK");
    }
    free(data);
    vault_close(v);
}

static void test_outer_transaction(void **state)
{
    vault *v = fresh_vault();
    int64_t inc = add_incident(v, "txn");
    store_added a;
    ev_err e;
    (void)state;

    free(make_file("x1", 100, NULL));
    free(make_file("x2", STORE_CHUNK + 3, NULL));
    exec_ok(v, "BEGIN IMMEDIATE");
    add_ok(v, inc, "x1", &a);
    add_ok(v, inc, "x2", &a);
    /* A failing add inside leaves the others in the transaction. */
    err_clear(&e);
    assert_int_equal(store_evidence_add(v, inc, "x1", NULL, NULL, NULL, &a,
                                        &e),
                     EV_ERR_EXISTS);
    assert_false(sqlite3_get_autocommit(vault_db(v)));
    assert_int_equal(count(v, "SELECT count(*) FROM evidence"), 2);
    exec_ok(v, "ROLLBACK");
    assert_int_equal(count(v, "SELECT count(*) FROM evidence"), 0);
    assert_int_equal(count(v, "SELECT count(*) FROM chunk"), 0);
    assert_int_equal(count(v, "SELECT count(*) FROM blob"), 0);
    vault_close(v);
}

static int setup(void **state)
{
    const char *t = getenv("TMPDIR");
    (void)state;
    if (t && *t && chdir(t) != 0)
        return -1;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_dedup),
        cmocka_unit_test(test_refused_sources),
        cmocka_unit_test(test_unreadable),
        cmocka_unit_test(test_changing_file),
        cmocka_unit_test(test_tampered_chunks),
        cmocka_unit_test(test_verify_tampered_each_chunk),
        cmocka_unit_test(test_verify_many_contents),
        cmocka_unit_test(test_chunk_helper),
        cmocka_unit_test(test_metadata_and_types),
        cmocka_unit_test(test_outer_transaction),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, setup, NULL);
}
