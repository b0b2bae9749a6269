/*
 * test_canary: no plaintext of vault content ever reaches disk.
 *
 * Records holding unique random canary strings are written through the
 * library: committed, in a rolled-back transaction, under a rolled-back
 * savepoint, in a transaction big enough to spill SQLite's cache into the
 * file, and while a page holding a canary is being changed (so its old image
 * sits in the journal). VACUUM, CREATE INDEX and a large ORDER BY on an
 * unindexed column run with a tiny cache, where stock SQLite would spill to
 * temporary files. At each stage a forked child (so that closing its file
 * descriptors never drops this process's POSIX locks) scans every file under
 * TMPDIR, recursively, and every file this process holds open there (deleted
 * temporary files included), for each canary as raw bytes, lowercase and
 * uppercase hex, and base64 and base64url at all three alignments; and
 * checks that only the vault and its journal exist. An inotify watch records
 * every name created in TMPDIR during the run. The test runs with TMPDIR set
 * to a fresh directory by tests/run.sh.
 *
 * test_evidence_canary does the same for the evidence store: a file whose
 * content holds a canary (at the start, across a chunk boundary and at the
 * end) and whose name is a canary is ingested from a directory beside
 * TMPDIR, with a scan in the middle of the ingest transaction, then
 * extracted, deduplicated and refused as a duplicate.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../crypto/kdf.h"
#include "../../vault/rec.h"
#include "../../vault/records.h"
#include "../../vault/store.h"
#include "../../vault/vault.h"

#define NCANARY 8
#define CANARY_LEN 40 /* "EVCANARY" + 32 hex digits */
#define NFORMS 9 /* raw, hex, HEX, 3 x base64, 3 x base64url */
#define NEEDLE_MAX 128
#define BULK_ROWS 3000
#define PASS "canary passphrase"
#define VAULT_FILE "canary.evault"
#define JOURNAL_FILE "canary.evault-journal"

struct needle {
    char s[NEEDLE_MAX];
    size_t len;
    int canary, form;
};

static const char *const form_name[NFORMS] = {
    "raw",       "hex",          "HEX",          "base64/0",
    "base64/1",  "base64/2",     "base64url/0",  "base64url/1",
    "base64url/2",
};

static char g_dir[4096];
static char g_vault[4200];
static char g_canary[NCANARY][CANARY_LEN + 1];
static struct needle g_needles[NCANARY * NFORMS];
static size_t g_nneedles;
static int g_inotify = -1;

/* ---- canaries and their encodings ------------------------------------- */

static void canary_new(char *out)
{
    uint8_t r[16];
    char hex[33];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(hex, sizeof hex, r, sizeof r);
    snprintf(out, CANARY_LEN + 1, "EVCANARY%s", hex);
}

static void add_needle(int canary, int form, const char *s, size_t len)
{
    struct needle *n = &g_needles[g_nneedles++];
    assert_true(len > 0 && len < NEEDLE_MAX);
    memcpy(n->s, s, len);
    n->s[len] = '\0';
    n->len = len;
    n->canary = canary;
    n->form = form;
}

/*
 * The base64 text that appears whatever bytes precede the canary: drop the
 * canary bytes that share a 3-byte group with what comes before (skip, for
 * a canary starting at offset 3k + align), then encode only whole groups.
 */
static void add_base64(int canary, int form, const char *c, int align,
                       int variant)
{
    size_t skip = (size_t)((3 - align) % 3), n = (CANARY_LEN - skip) / 3 * 3;
    char out[NEEDLE_MAX];
    sodium_bin2base64(out, sizeof out, (const uint8_t *)c + skip, n, variant);
    add_needle(canary, form, out, strlen(out));
}

static void needles_build(void)
{
    g_nneedles = 0;
    for (int i = 0; i < NCANARY; i++) {
        const char *c = g_canary[i];
        char hex[2 * CANARY_LEN + 1];
        sodium_bin2hex(hex, sizeof hex, (const uint8_t *)c, CANARY_LEN);
        add_needle(i, 0, c, CANARY_LEN);
        add_needle(i, 1, hex, 2 * CANARY_LEN);
        for (char *p = hex; *p; p++)
            if (*p >= 'a' && *p <= 'f')
                *p = (char)(*p - 'a' + 'A');
        add_needle(i, 2, hex, 2 * CANARY_LEN);
        for (int a = 0; a < 3; a++) {
            add_base64(i, 3 + a, c, a, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
            add_base64(i, 6 + a, c, a, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        }
    }
}

/* Number of needles found in buf; the first is described in what. */
static int scan_buf(const uint8_t *buf, size_t len, char *what, size_t wlen)
{
    int hits = 0;
    for (size_t i = 0; i < g_nneedles; i++) {
        const struct needle *n = &g_needles[i];
        const uint8_t *p = memmem(buf, len, n->s, n->len);
        if (!p)
            continue;
        if (!hits)
            snprintf(what, wlen, "canary %d as %s at offset %zu", n->canary,
                     form_name[n->form], (size_t)(p - buf));
        hits++;
    }
    return hits;
}

/* ---- scanning (in a child process) ------------------------------------ */

static int scan_fd(int fd, const char *name)
{
    struct stat st;
    uint8_t *buf;
    size_t done = 0;
    char what[256];
    int hits;

    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        fprintf(stderr, "scan: out of memory for '%s'\n", name);
        return 1;
    }
    while (done < (size_t)st.st_size) {
        ssize_t n = pread(fd, buf + done, (size_t)st.st_size - done,
                          (off_t)done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    hits = scan_buf(buf, done, what, sizeof what);
    if (hits)
        fprintf(stderr, "LEAK in '%s' (%zu bytes): %d needles, first %s\n",
                name, done, hits, what);
    free(buf);
    return hits;
}

/* Scan the tree under dir; count files not in allowed. */
static int scan_tree(const char *dir, const char *const *allowed,
                     int *unexpected, int *nfiles)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int hits = 0;

    if (!d) {
        fprintf(stderr, "scan: cannot open '%s': %s\n", dir, strerror(errno));
        return 1;
    }
    while ((de = readdir(d)) != NULL) {
        char path[8192];
        struct stat st;
        int ok = 0;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (lstat(path, &st) != 0)
            continue; /* gone meanwhile */
        if (dir == g_dir)
            for (int i = 0; allowed[i]; i++)
                ok |= strcmp(de->d_name, allowed[i]) == 0;
        if (!ok) {
            fprintf(stderr, "unexpected file under TMPDIR: '%s'\n", path);
            (*unexpected)++;
        }
        if (S_ISDIR(st.st_mode)) {
            hits += scan_tree(path, allowed, unexpected, nfiles);
        } else if (S_ISREG(st.st_mode)) {
            int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            (*nfiles)++;
            if (fd >= 0) {
                hits += scan_fd(fd, path);
                close(fd);
            }
        }
    }
    closedir(d);
    return hits;
}

/* Files the process holds open under TMPDIR, deleted ones included. */
static int scan_open_fds(int *nfds)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    size_t dl = strlen(g_dir);
    int hits = 0;

    if (!d)
        return 0;
    while ((de = readdir(d)) != NULL) {
        char link[300], target[8192];
        ssize_t n;
        int fd;

        if (de->d_name[0] == '.')
            continue;
        snprintf(link, sizeof link, "/proc/self/fd/%s", de->d_name);
        n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (strncmp(target, g_dir, dl) != 0 || target[dl] != '/')
            continue;
        fd = open(link, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        (*nfds)++;
        if (strstr(target, " (deleted)"))
            fprintf(stderr, "open deleted file under TMPDIR: '%s'\n", target);
        hits += scan_fd(fd, target);
        close(fd);
    }
    closedir(d);
    return hits;
}

/*
 * Scan everything from a child and check that only the vault (and, with
 * journal set, its journal) exist. Fails the test on any finding.
 */
static int scan_run(const char *stage, int journal)
{
    const char *const allowed[] = {VAULT_FILE, journal ? JOURNAL_FILE : NULL,
                                   NULL};
    int status = 0;
    pid_t pid;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int unexpected = 0, nfiles = 0, nfds = 0, hits;
        hits = scan_tree(g_dir, allowed, &unexpected, &nfiles);
        hits += scan_open_fds(&nfds);
        fprintf(stderr, "scan %-44s %d files, %d open fds: %d hits, %d "
                        "unexpected files\n",
                stage, nfiles, nfds, hits, unexpected);
        fflush(stderr);
        _exit(hits || unexpected ? 1 : 0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

static void scan_all(const char *stage, int journal)
{
    struct stat st;

    if (journal && stat(JOURNAL_FILE, &st) != 0)
        fail_msg("%s: no journal beside the vault", stage);
    if (scan_run(stage, journal) != 0)
        fail_msg("scan '%s' found plaintext or unexpected files", stage);
}

/* Discard inotify events so far (the scanner's own control files). */
static void inotify_drain(void)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (read(g_inotify, buf, sizeof buf) > 0)
        ;
}

/* Every name created in TMPDIR since the watch started must be ours. */
static void inotify_check(void)
{
    char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
    int bad = 0;

    for (;;) {
        ssize_t n = read(g_inotify, buf, sizeof buf);
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            const char *nm = ev->len ? ev->name : "";
            size_t vl = strlen(VAULT_FILE);
            int ok = strcmp(nm, VAULT_FILE) == 0 ||
                     strcmp(nm, JOURNAL_FILE) == 0 ||
                     /* vault_create's staging file and its journal */
                     (strncmp(nm, VAULT_FILE ".tmp-", vl + 5) == 0 &&
                      (strlen(nm) == vl + 5 + 16 ||
                       strcmp(nm + vl + 5 + 16, "-journal") == 0));
            if (ev->mask & IN_Q_OVERFLOW) {
                print_message("inotify queue overflowed\n");
                bad++;
            } else if (!ok) {
                print_message("created under TMPDIR: '%s'\n", nm);
                bad++;
            }
            p += sizeof *ev + ev->len;
        }
    }
    assert_int_equal(bad, 0);
}

/* ---- vault helpers ---------------------------------------------------- */

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : sqlite3_errstr(rc));
}

static void exec_text(sqlite3 *db, const char *sql, const char *a)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
}

static sqlite3_int64 count_text(sqlite3 *db, const char *sql, const char *a)
{
    sqlite3_stmt *st = NULL;
    sqlite3_int64 n;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (a)
        sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static long long file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        fail_msg("cannot stat '%s': %s", path, strerror(errno));
    return (long long)st.st_size;
}

/* OUT: the journal's size. */
static long long journal_present(const char *stage)
{
    long long n = file_size(JOURNAL_FILE);
    print_message("%s: journal %lld bytes, vault %lld bytes\n", stage, n,
                  file_size(VAULT_FILE));
    return n;
}

/* ---- the tests -------------------------------------------------------- */

/* The scanner finds every encoding, wherever the canary starts. */
static void test_scanner(void **state)
{
    uint8_t raw[3 + CANARY_LEN + 3], buf[512];
    char what[256], text[512];
    (void)state;

    for (int i = 0; i < NCANARY; i++)
        canary_new(g_canary[i]);
    needles_build();
    assert_int_equal(g_nneedles, NCANARY * NFORMS);
    for (int k = 0; k < 3; k++) {
        randombytes_buf(raw, sizeof raw);
        memcpy(raw + k, g_canary[5], CANARY_LEN);
        sodium_bin2base64(text, sizeof text, raw, k + CANARY_LEN + 2,
                          sodium_base64_VARIANT_ORIGINAL);
        assert_true(scan_buf((uint8_t *)text, strlen(text), what,
                             sizeof what) >= 1);
        sodium_bin2base64(text, sizeof text, raw, k + CANARY_LEN + 1,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        assert_true(scan_buf((uint8_t *)text, strlen(text), what,
                             sizeof what) >= 1);
    }
    sodium_bin2hex(text, sizeof text, (const uint8_t *)g_canary[2],
                   CANARY_LEN);
    randombytes_buf(buf, sizeof buf);
    memcpy(buf + 7, text, 2 * CANARY_LEN);
    assert_true(scan_buf(buf, sizeof buf, what, sizeof what) >= 1);
    for (char *p = text; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    memcpy(buf + 7, text, 2 * CANARY_LEN);
    assert_true(scan_buf(buf, sizeof buf, what, sizeof what) >= 1);
    memcpy(buf + 300, g_canary[7], CANARY_LEN);
    assert_true(scan_buf(buf, sizeof buf, what, sizeof what) >= 2);
    /* And no false positive on random bytes. */
    randombytes_buf(buf, sizeof buf);
    assert_int_equal(scan_buf(buf, sizeof buf, what, sizeof what), 0);

    /* The whole scan sees an empty directory as clean, then a file with
     * a canary in it, then a deleted file still held open. */
    assert_int_equal(scan_run("control: empty", 0), 0);
    {
        int fd = open("control", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                      0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, 2 * CANARY_LEN), 2 * CANARY_LEN);
        close(fd);
        assert_int_not_equal(scan_run("control: file (must fail)", 0), 0);
        fd = open("control", O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(unlink("control"), 0);
        assert_int_not_equal(scan_run("control: open deleted (must fail)", 0),
                             0);
        close(fd);
        assert_int_equal(scan_run("control: empty again", 0), 0);
    }
    inotify_drain();
}

static void test_canary(void **state)
{
    kdf_params p;
    ev_err e;
    vault *v = NULL;
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    long long before;
    int rc;
    (void)state;

    for (int i = 0; i < NCANARY; i++)
        canary_new(g_canary[i]);
    needles_build();
    memset(&e, 0, sizeof e);
    assert_int_equal(kdf_profile("test", &p), 0);

    /* C0: committed. */
    if (vault_create(g_vault, PASS, strlen(PASS), &p, "canary org", NULL,
                     NULL, &e))
        fail_msg("vault_create: %s", e.msg);
    scan_all("after create", 0);
    if (vault_open(&v, g_vault, PASS, strlen(PASS), NULL, &e))
        fail_msg("vault_open: %s", e.msg);
    db = vault_db(v);
    exec_ok(db, "CREATE TABLE rec(id INTEGER PRIMARY KEY, tag TEXT,"
                " note TEXT NOT NULL);"
                "CREATE TABLE bulk(id INTEGER PRIMARY KEY, k TEXT NOT NULL,"
                " v TEXT NOT NULL)");
    exec_text(db, "INSERT INTO rec(id, tag, note) VALUES (1, 'c0', ?1)",
              g_canary[0]);
    scan_all("after a committed canary", 0);

    /* C1: inserted in a transaction that is rolled back. Inserting on the
     * page that holds C0 puts C0's page image in the journal. */
    exec_ok(db, "BEGIN IMMEDIATE");
    exec_text(db, "INSERT INTO rec(id, tag, note) VALUES (2, 'c1', ?1)",
              g_canary[1]);
    journal_present("open transaction");
    scan_all("in a transaction to be rolled back", 1);
    exec_ok(db, "ROLLBACK");
    scan_all("after ROLLBACK", 0);

    /* C2 committed around a savepoint that inserts C3, overwrites C0 with
     * C4, and is rolled back. */
    exec_ok(db, "BEGIN IMMEDIATE");
    exec_text(db, "INSERT INTO rec(id, tag, note) VALUES (3, 'c2', ?1)",
              g_canary[2]);
    exec_ok(db, "SAVEPOINT sp");
    exec_text(db, "INSERT INTO rec(id, tag, note) VALUES (4, 'c3', ?1)",
              g_canary[3]);
    exec_text(db, "UPDATE rec SET note=?1 WHERE id=1", g_canary[4]);
    scan_all("inside a savepoint", 1);
    exec_ok(db, "ROLLBACK TO sp; RELEASE sp; COMMIT");
    scan_all("after a savepoint rollback", 0);

    /* A write transaction that changes the page holding C0 and C2 (its old
     * image goes to the journal), then C5 in BULK_ROWS rows with a cache so
     * small that SQLite spills pages into the file before COMMIT. */
    exec_ok(db, "PRAGMA cache_size=8");
    before = file_size(VAULT_FILE);
    exec_ok(db, "BEGIN IMMEDIATE; UPDATE rec SET tag=tag||'-touched'");
    journal_present("page with C0 changed");
    scan_all("C0's page image in the journal", 1);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO bulk(k, v) VALUES "
                                        "(hex(randomblob(12)), ?1 || ' ' || "
                                        "hex(randomblob(250)))",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, g_canary[5], -1, SQLITE_STATIC);
    for (int i = 0; i < BULK_ROWS; i++) {
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    st = NULL;
    journal_present("after the spill");
    /* The cache spilled: new pages reached the file before COMMIT. */
    assert_true(file_size(VAULT_FILE) > before + 1000 * 1024);
    scan_all("big transaction, cache spilled", 1);
    exec_ok(db, "COMMIT");
    scan_all("after the big COMMIT", 0);

    /* C6 written over every bulk row, spilled, then rolled back. */
    exec_ok(db, "BEGIN IMMEDIATE");
    exec_text(db, "UPDATE bulk SET v=?1 || substr(v, 41)", g_canary[6]);
    /* Every bulk page's old image is in the journal. */
    assert_true(journal_present("spilled UPDATE") > 1000 * 1024);
    scan_all("spilled UPDATE to be rolled back", 1);
    exec_ok(db, "ROLLBACK");
    assert_int_equal(count_text(db, "SELECT count(*) FROM bulk WHERE "
                                    "substr(v, 1, 40)=?1",
                                g_canary[5]),
                     BULK_ROWS);

    /* A temporary table holding C7: temp_store=MEMORY keeps it off disk. */
    exec_ok(db, "CREATE TEMP TABLE scratch(x TEXT)");
    exec_text(db, "INSERT INTO scratch SELECT ?1 || v FROM bulk", g_canary[7]);
    scan_all("temp table filled", 0);
    exec_ok(db, "DROP TABLE scratch");

    /* Index build and big sort on an unindexed column: the sorter. */
    exec_ok(db, "CREATE INDEX bulk_v ON bulk(v, k)");
    scan_all("after CREATE INDEX", 0);
    exec_ok(db, "DROP INDEX bulk_v");
    rc = sqlite3_prepare_v2(db,
                            "SELECT k, v FROM bulk ORDER BY substr(v, 42), k",
                            -1, &st, NULL);
    assert_int_equal(rc, SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW); /* all rows sorted now */
    scan_all("during a large ORDER BY", 0);
    {
        int n = 1;
        char prev[600];
        snprintf(prev, sizeof prev, "%s",
                 (const char *)sqlite3_column_text(st, 1) + 41);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *cur = (const char *)sqlite3_column_text(st, 1) + 41;
            assert_true(strcmp(prev, cur) <= 0);
            snprintf(prev, sizeof prev, "%s", cur);
            n++;
        }
        assert_int_equal(rc, SQLITE_DONE);
        assert_int_equal(n, BULK_ROWS);
    }
    sqlite3_finalize(st);
    st = NULL;
    rc = sqlite3_prepare_v2(db,
                            "SELECT count(DISTINCT substr(v, 1, 60)), "
                            "group_concat(k) FROM (SELECT k, v FROM bulk "
                            "ORDER BY v DESC)",
                            -1, &st, NULL);
    assert_int_equal(rc, SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    sqlite3_finalize(st);
    st = NULL;

    /* VACUUM rebuilds the whole database through a temporary one. */
    exec_ok(db, "DELETE FROM bulk WHERE id % 3 = 0");
    before = file_size(VAULT_FILE);
    rc = sqlite3_exec(db, "VACUUM", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        int r2 = vault_sqlerr(v, rc, "vacuuming", &e);
        fail_msg("VACUUM failed (%s, ev code %d): %s", sqlite3_errstr(rc), r2,
                 e.msg);
    }
    print_message("VACUUM: %lld -> %lld bytes\n", before,
                  file_size(VAULT_FILE));
    assert_true(file_size(VAULT_FILE) < before); /* it did rebuild */
    scan_all("after VACUUM", 0);

    /* What was committed is there; what was rolled back is not. */
    assert_int_equal(count_text(db, "SELECT count(*) FROM rec WHERE note=?1",
                                g_canary[0]),
                     1);
    assert_int_equal(count_text(db, "SELECT count(*) FROM rec WHERE note=?1",
                                g_canary[2]),
                     1);
    for (int i = 1; i < NCANARY; i++) {
        if (i == 2 || i == 5)
            continue;
        assert_int_equal(count_text(db,
                                    "SELECT (SELECT count(*) FROM rec WHERE "
                                    "instr(note, ?1)) + (SELECT count(*) "
                                    "FROM bulk WHERE instr(v, ?1))",
                                    g_canary[i]),
                         0);
    }
    assert_int_equal(count_text(db, "SELECT count(*) FROM bulk WHERE "
                                    "substr(v, 1, 40)=?1",
                                g_canary[5]),
                     BULK_ROWS - BULK_ROWS / 3);
    vault_close(v);
    v = NULL;
    scan_all("after close", 0);

    /* And again after a fresh open and a full check. */
    if (vault_open(&v, g_vault, PASS, strlen(PASS), NULL, &e))
        fail_msg("vault_open: %s", e.msg);
    {
        vault_check_result r;
        if (vault_check(v, &r, NULL, NULL, &e))
            fail_msg("vault_check: %s", e.msg);
        assert_int_equal(r.bad_pages, 0);
        assert_true(r.integrity_ok);
        assert_true(r.keyslots_ok);
    }
    vault_close(v);
    scan_all("after reopen and check", 0);
    inotify_check();
}

/* ---- evidence content and file names ---------------------------------- */

static int g_mid_scan = -1;

static int mid_ingest(void *arg, uint64_t done, uint64_t total)
{
    (void)arg;
    (void)total;
    /* Second chunk written, transaction open, journal beside the vault. */
    if (done == 2 * (uint64_t)STORE_CHUNK && g_mid_scan < 0)
        g_mid_scan = scan_run("evidence: in the ingest transaction", 1);
    return 0;
}

static void test_evidence_canary(void **state)
{
    char src[4300], path[4400], uuid[REC_UUIDLEN + 1], now[REC_TIMELEN + 1];
    const size_t len = 3 * STORE_CHUNK + 777;
    const size_t at[] = {0, STORE_CHUNK - 20, 2 * STORE_CHUNK + 5,
                         3 * STORE_CHUNK + 777 - CANARY_LEN};
    uint8_t *data, *back;
    kdf_params p;
    store_added a;
    vault *v = NULL;
    ev_err e;
    int fd;
    (void)state;

    for (int i = 0; i < NCANARY; i++)
        canary_new(g_canary[i]);
    needles_build();
    inotify_drain();
    unlink(VAULT_FILE);
    unlink(JOURNAL_FILE);

    /* The source lives beside TMPDIR, not in it: only the vault may hold
     * its content or name. */
    snprintf(src, sizeof src, "%s-src", g_dir);
    assert_int_equal(mkdir(src, 0700), 0);
    snprintf(path, sizeof path, "%s/%s.txt", src, g_canary[1]);
    data = malloc(len);
    back = malloc(len);
    assert_non_null(data);
    assert_non_null(back);
    randombytes_buf(data, len);
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
        memcpy(data + at[i], g_canary[0], CANARY_LEN);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);

    memset(&e, 0, sizeof e);
    assert_int_equal(kdf_profile("test", &p), 0);
    if (vault_create(g_vault, PASS, strlen(PASS), &p, "canary org", NULL,
                     NULL, &e))
        fail_msg("vault_create: %s", e.msg);
    if (vault_open(&v, g_vault, PASS, strlen(PASS), NULL, &e))
        fail_msg("vault_open: %s", e.msg);
    /* Records through the records API, with canaries in incident text,
     * actor names and contact details, and a source description. */
    {
        char desc[200], other[100], contact[100], sdesc[100];
        const char *const others[] = {other};
        records_incident in;
        records_actor ac;
        records_source so;
        int64_t inc = 0, act = 0, src_id = 0;

        snprintf(desc, sizeof desc, "detained near %s for posts",
                 g_canary[3]);
        snprintf(other, sizeof other, "alias %s", g_canary[5]);
        snprintf(contact, sizeof contact, "signal %s", g_canary[6]);
        snprintf(sdesc, sizeof sdesc, "interview with %s", g_canary[7]);
        for (int i = 0; i < 2; i++) {
            memset(&in, 0, sizeof in);
            in.title = g_canary[2];
            in.type = "detention";
            in.description = desc;
            in.location = g_canary[3];
            in.confidential = -1;
            if (records_incident_add(v, &in, &inc, &e))
                fail_msg("records_incident_add: %s", e.msg);
        }
        memset(&ac, 0, sizeof ac);
        ac.name = g_canary[4];
        ac.kind = "person";
        ac.contact = contact;
        ac.other_names = others;
        ac.nother = 1;
        ac.set_other = 1;
        if (records_actor_add(v, &ac, &act, &e))
            fail_msg("records_actor_add: %s", e.msg);
        if (records_link(v, inc, act, "victim", NULL, &e))
            fail_msg("records_link: %s", e.msg);
        memset(&so, 0, sizeof so);
        so.kind = "interview";
        so.description = sdesc;
        if (records_source_add(v, &so, &src_id, &e))
            fail_msg("records_source_add: %s", e.msg);
        (void)uuid;
        (void)now;
    }
    scan_all("evidence: vault with incidents", 0);

    g_mid_scan = -1;
    if (store_evidence_add(v, 1, path, NULL, mid_ingest, NULL, &a, &e))
        fail_msg("store_evidence_add: %s", e.msg);
    assert_int_equal(g_mid_scan, 0);
    scan_all("evidence: after ingest", 0);
    assert_int_equal(count_text(vault_db(v),
                                "SELECT count(*) FROM evidence WHERE "
                                "original_name = ?1 || '.txt'",
                                g_canary[1]),
                     1);

    fd = memfd_create("canary-extract", MFD_CLOEXEC);
    assert_true(fd >= 0);
    if (store_evidence_extract(v, a.evidence_id, fd, NULL, NULL, NULL, &e))
        fail_msg("store_evidence_extract: %s", e.msg);
    assert_int_equal(pread(fd, back, len, 0), (ssize_t)len);
    assert_memory_equal(back, data, len);
    close(fd);
    scan_all("evidence: after extract", 0);

    /* Dedup to a second incident (chunks written, then rolled back), and
     * the duplicate refused for the first. */
    if (store_evidence_add(v, 2, path, NULL, NULL, NULL, &a, &e))
        fail_msg("store_evidence_add (dedup): %s", e.msg);
    assert_int_equal(a.linked_existing, 1);
    assert_int_equal(store_evidence_add(v, 1, path, NULL, NULL, NULL, &a, &e),
                     EV_ERR_EXISTS);
    scan_all("evidence: after dedup and duplicate", 0);
    vault_close(v);
    scan_all("evidence: after close", 0);
    inotify_check();

    unlink(path);
    rmdir(src);
    free(data);
    free(back);
}

static int setup(void **state)
{
    const char *t = getenv("TMPDIR");
    (void)state;

    if (t && *t) {
        if (!realpath(t, g_dir))
            return -1;
    } else {
        /* Not under run.sh: make our own, and point every temp file at it. */
        snprintf(g_dir, sizeof g_dir, "/tmp/evault-canary.XXXXXX");
        if (!mkdtemp(g_dir) || setenv("TMPDIR", g_dir, 1) != 0)
            return -1;
    }
    /* SQLite prefers SQLITE_TMPDIR: make sure it also lands here. */
    if (setenv("SQLITE_TMPDIR", g_dir, 1) != 0 || chdir(g_dir) != 0)
        return -1;
    snprintf(g_vault, sizeof g_vault, "%s/%s", g_dir, VAULT_FILE);
    unlink(g_vault);
    g_inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (g_inotify < 0 ||
        inotify_add_watch(g_inotify, g_dir, IN_CREATE | IN_MOVED_TO) < 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(g_vault);
    if (g_inotify >= 0)
        close(g_inotify);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scanner),
        cmocka_unit_test(test_canary),
        cmocka_unit_test(test_evidence_canary),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, setup, teardown);
}
