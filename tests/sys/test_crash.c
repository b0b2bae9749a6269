/*
 * test_crash: crash consistency of the vault under power loss.
 *
 * A base vault holds a table of rows with deterministic payloads and a
 * counter row. For each crash point a fresh copy of it is opened in a child
 * process over tests/lib/crashvfs (below the encryption), a crash is armed
 * at a random write or sync, and a workload of small transactions runs; the
 * child reports each COMMIT that returned through a pipe, and dies at the
 * crash with the disk left as a power loss may leave it. The parent then
 * reopens the vault with the normal file layer and checks: the open
 * succeeds, every page authenticates, integrity_check is ok, the keyslots
 * are intact, and the table is exactly the state after the last reported
 * commit or the one after (whose COMMIT may have reached the disk before
 * the crash), with no trace of rolled-back work. Finally it commits one
 * more transaction to show the vault is usable.
 *
 * Crash points run in parallel worker processes (one work file each); a
 * point's outcome depends only on the seed and its number, so any failure
 * replays alone.
 *
 * Environment: EVAULT_CRASH_POINTS (default 1000), EVAULT_CRASH_SEED
 * (default random, printed), EVAULT_CRASH_ONLY=N to replay only point N,
 * EVAULT_CRASH_JOBS (workers; default the number of CPUs, at most 4),
 * EVAULT_CRASH_KEEP=1 to keep each point's files as the crash left them
 * (work0.evault.crashed*, in the working directory; use with
 * EVAULT_CRASH_ONLY), EVAULT_CRASH_DIR for the scratch directory (default
 * /dev/shm when writable: the power loss is simulated, so real fsyncs
 * during recovery only cost time; else TMPDIR).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../crypto/kdf.h"
#include "../../vault/vault.h"
#include "../lib/crashvfs.h"

#define PASS "correct horse battery staple"
#define NBASE 40      /* rows 1..NBASE in the base vault */
#define NTX 20        /* committed transactions of the workload */
#define WKEY 1000     /* row WKEY+j is inserted by transaction j */
#define RBKEY 5000    /* rows of rolled-back transactions */
#define SPKEY 6000    /* rows of rolled-back savepoints */
#define PAYMAX 9600
#define MAXFAIL_PRINT 10

/* ---- the workload and its model --------------------------------------- */

static uint64_t mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Payload of row key at version ver: 10..3000 bytes, and every seventh key
 * 4500..9500 bytes so that some rows need overflow pages. OUT: buf. */
static size_t payload(uint8_t *buf, int key, int ver)
{
    uint64_t h = mix64((uint64_t)key * 1000003u + (uint64_t)ver);
    size_t n = key % 7 == 0 ? 4500 + h % 5001 : 10 + h % 2991;

    for (size_t i = 0; i < n; i += 8) {
        uint64_t r = mix64(h + i);
        memcpy(buf + i, &r, n - i < 8 ? n - i : 8);
    }
    return n;
}

/* Row deleted by transaction j (j % 3 == 0): a base row or an older
 * workload row. */
static int del_key(int j)
{
    return j % 2 == 0 ? WKEY + j - 4 : j / 3;
}

/* Base row whose payload transaction j (j % 4 == 1) rewrites. */
static int upd_key(int j)
{
    return 10 + j;
}

struct row {
    int key, ver;
};

/* The table after transactions 1..n, sorted by key. OUT: rows. Returns the
 * number of rows. */
static int model(int n, struct row *rows)
{
    int base_ver[NBASE + 1], work[NTX + 1], count = 0;

    for (int b = 1; b <= NBASE; b++)
        base_ver[b] = 0;
    for (int j = 1; j <= NTX; j++)
        work[j] = j <= n;
    for (int j = 1; j <= n; j++) {
        if (j % 3 == 0) {
            int d = del_key(j);
            if (d > WKEY)
                work[d - WKEY] = 0;
            else
                base_ver[d] = -1;
        }
        if (j % 4 == 1)
            base_ver[upd_key(j)] = j;
    }
    for (int b = 1; b <= NBASE; b++)
        if (base_ver[b] >= 0)
            rows[count++] = (struct row){b, base_ver[b]};
    for (int j = 1; j <= NTX; j++)
        if (work[j])
            rows[count++] = (struct row){WKEY + j, 0};
    return count;
}

static int sql(sqlite3 *db, const char *s)
{
    return sqlite3_exec(db, s, NULL, NULL, NULL);
}

static int insert_row(sqlite3 *db, int key, const char *tag, int ver)
{
    static uint8_t buf[PAYMAX];
    sqlite3_stmt *st = NULL;
    size_t n = payload(buf, key, ver);
    int rc = sqlite3_prepare_v2(
        db, "INSERT INTO crash_t(k, tag, payload) VALUES (?1, ?2, ?3)", -1,
        &st, NULL);

    if (rc == SQLITE_OK) {
        sqlite3_bind_int(st, 1, key);
        sqlite3_bind_text(st, 2, tag, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, buf, (int)n, SQLITE_STATIC);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(st);
    return rc;
}

static int update_row(sqlite3 *db, int key, int ver)
{
    static uint8_t buf[PAYMAX];
    sqlite3_stmt *st = NULL;
    size_t n = payload(buf, key, ver);
    int rc = sqlite3_prepare_v2(db, "UPDATE crash_t SET payload=?2 WHERE k=?1",
                                -1, &st, NULL);

    if (rc == SQLITE_OK) {
        sqlite3_bind_int(st, 1, key);
        sqlite3_bind_blob(st, 2, buf, (int)n, SQLITE_STATIC);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(st);
    return rc;
}

static int sqlf(sqlite3 *db, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int sqlf(sqlite3 *db, const char *fmt, ...)
{
    char buf[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return sql(db, buf);
}

/* Messages from the child, each written whole (smaller than PIPE_BUF). */
enum { MSG_COMMIT = 'C', MSG_CRASH = 'S', MSG_END = 'E', MSG_ERROR = 'X' };

struct msg {
    int type;
    long val;
    crashvfs_stats cs;
};

static void send_msg(int fd, int type, long val, const crashvfs_stats *cs)
{
    struct msg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.val = val;
    if (cs)
        m.cs = *cs;
    if (write(fd, &m, sizeof m) != (ssize_t)sizeof m)
        _exit(4);
}

static void on_crash(const crashvfs_stats *cs, void *arg)
{
    send_msg(*(int *)arg, MSG_CRASH, 0, cs);
}

/*
 * The workload: NTX committed transactions, each inserting one row and
 * updating the counter, some deleting or rewriting a row, some with a
 * savepoint rolled back; before every fifth one, a transaction that is
 * rolled back. Reports each commit on fd. Returns 0 or the failing
 * transaction's number.
 */
static int workload(sqlite3 *db, int fd)
{
#define TRY(x)                                                                 \
    do {                                                                       \
        if ((x) != SQLITE_OK)                                                  \
            return j;                                                          \
    } while (0)
    for (int j = 1; j <= NTX; j++) {
        if (j % 5 == 3) {
            TRY(sql(db, "BEGIN IMMEDIATE"));
            TRY(insert_row(db, RBKEY + j, "rolledback", 0));
            TRY(sqlf(db, "UPDATE crash_ctr SET n=%d WHERE id=1", -j));
            TRY(sql(db, "DELETE FROM crash_t WHERE k=2"));
            TRY(update_row(db, 30, 999));
            TRY(sql(db, "ROLLBACK"));
        }
        TRY(sql(db, "BEGIN IMMEDIATE"));
        TRY(insert_row(db, WKEY + j, "committed", 0));
        TRY(sqlf(db, "UPDATE crash_ctr SET n=%d WHERE id=1", j));
        if (j % 3 == 0)
            TRY(sqlf(db, "DELETE FROM crash_t WHERE k=%d", del_key(j)));
        if (j % 4 == 1)
            TRY(update_row(db, upd_key(j), j));
        if (j % 4 == 2) {
            TRY(sql(db, "SAVEPOINT sp"));
            TRY(insert_row(db, SPKEY + j, "rolledback", 0));
            TRY(sqlf(db, "UPDATE crash_ctr SET n=%d WHERE id=1", -j));
            TRY(sqlf(db, "DELETE FROM crash_t WHERE k=%d", WKEY + j));
            TRY(update_row(db, 35, 998));
            TRY(sql(db, "ROLLBACK TO sp"));
            TRY(sql(db, "RELEASE sp"));
        }
        TRY(sql(db, "COMMIT"));
        send_msg(fd, MSG_COMMIT, j, NULL);
    }
    return 0;
#undef TRY
}

/* ---- one crash point ---------------------------------------------------- */

struct outcome {
    int crashed, last, found; /* found: counter value on disk after reopen */
    crashvfs_stats cs;
    int journal_before;       /* non-empty journal left by the crash */
    int journal_after;        /* journal still there after reopen+close */
    int bad_free;             /* the first bad page is free (1), used (0) */
    int only_free;            /* the one failed check: one bad free page */
    int nfail;                /* failed checks */
    char why[512];            /* first failed check, "" if none */
};

static int copy_file(const char *from, const char *to)
{
    char buf[65536];
    int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
    ssize_t n;

    if (in < 0)
        return -1;
    out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0)
        goto done;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            goto done;
    rc = n == 0 ? 0 : -1;
done:
    close(in);
    if (out >= 0)
        close(out);
    return rc;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Child: run the workload over crashvfs with a crash armed. Never returns. */
static void child(const char *work, long event, uint64_t seed, int fd)
{
    vault_open_opts o = {"crashvfs", 0};
    vault *v = NULL;
    ev_err e;
    int j;

    crashvfs_on_crash(on_crash, &fd);
    if (vault_open(&v, work, PASS, strlen(PASS), &o, &e) != 0) {
        fprintf(stderr, "child: vault_open: %s\n", e.msg);
        send_msg(fd, MSG_ERROR, -1, NULL);
        _exit(3);
    }
    crashvfs_arm(event, seed);
    j = workload(vault_db(v), fd);
    if (j != 0) {
        fprintf(stderr, "child: transaction %d failed before the crash: %s\n",
                j, sqlite3_errmsg(vault_db(v)));
        send_msg(fd, MSG_ERROR, j, NULL);
        _exit(3);
    }
    {
        long events = crashvfs_events();
        vault_close(v);
        if (crashvfs_flush() != 0)
            _exit(5);
        send_msg(fd, MSG_END, events, NULL);
    }
    _exit(0);
}

static void why(struct outcome *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void why(struct outcome *r, const char *fmt, ...)
{
    va_list ap;
    r->nfail++;
    if (r->why[0])
        return;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

/* Compare the table with model(n). */
static void check_rows(sqlite3 *db, int n, struct outcome *r)
{
    static uint8_t want[PAYMAX];
    struct row rows[NBASE + NTX];
    sqlite3_stmt *st = NULL;
    int count = model(n, rows), i = 0, rc;

    rc = sqlite3_prepare_v2(db,
                            "SELECT k, tag, payload FROM crash_t ORDER BY k",
                            -1, &st, NULL);
    if (rc != SQLITE_OK) {
        why(r, "cannot read the table: %s", sqlite3_errmsg(db));
        return;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int k = sqlite3_column_int(st, 0);
        const char *tag = (const char *)sqlite3_column_text(st, 1);
        const void *p = sqlite3_column_blob(st, 2);
        size_t plen = (size_t)sqlite3_column_bytes(st, 2), wlen;

        if (tag && strcmp(tag, "rolledback") == 0) {
            why(r, "row %d of a rolled-back transaction or savepoint is "
                   "present",
                k);
            break;
        }
        if (i >= count || rows[i].key != k) {
            why(r, "after transaction %d: row %d %s", n,
                i < count && rows[i].key < k ? rows[i].key : k,
                i < count && rows[i].key < k ? "is missing"
                                             : "should not be there");
            break;
        }
        wlen = payload(want, k, rows[i].ver);
        if (plen != wlen || (wlen && (!p || memcmp(p, want, wlen) != 0))) {
            why(r, "row %d has the wrong payload (%zu bytes, want version %d "
                   "of %zu bytes)",
                k, plen, rows[i].ver, wlen);
            break;
        }
        i++;
    }
    if (!r->why[0] && rc != SQLITE_DONE)
        why(r, "reading the table failed: %s", sqlite3_errmsg(db));
    if (!r->why[0] && i < count)
        why(r, "after transaction %d: row %d is missing", n, rows[i].key);
    sqlite3_finalize(st);
}

/* 1 if page pg belongs to no b-tree (no auto-vacuum: then it is on the
 * freelist), 0 if it does, -1 if that cannot be told (no dbstat). */
static int page_is_free(sqlite3 *db, uint32_t pg)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;

    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM dbstat WHERE pageno=?1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, pg);
        if (sqlite3_step(st) == SQLITE_ROW)
            rc = sqlite3_column_int(st, 0) == 0;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Parent: reopen the crashed vault with the normal file layer and check it. */
static void verify(const char *work, int vacuum, struct outcome *r)
{
    vault_check_result cr = {0};
    sqlite3_stmt *st = NULL;
    vault *v = NULL;
    ev_err e;
    int n = -1000, rc;
    char journal[512];

    snprintf(journal, sizeof journal, "%s-journal", work);
    if (vault_open(&v, work, PASS, strlen(PASS), NULL, &e) != 0) {
        why(r, "reopen failed: %s", e.msg);
        return;
    }
    if (vault_check(v, &cr, NULL, NULL, &e) != 0) {
        why(r, "vault_check could not run: %s", e.msg);
        goto out;
    }
    if (cr.bad_pages) {
        r->bad_free = page_is_free(vault_db(v), cr.first_bad_page);
        why(r, "%llu pages fail authentication, first %u (%s)",
            (unsigned long long)cr.bad_pages, (unsigned)cr.first_bad_page,
            r->bad_free == 1   ? "a free page: SQLite reuses free leaf pages "
                                 "without journaling them"
            : r->bad_free == 0 ? "a page in use"
                               : "in use or free: unknown");
    }
    if (!cr.integrity_ok)
        why(r, "integrity_check: %s", cr.integrity_msg);
    if (!cr.keyslots_ok)
        why(r, "keyslots: %s", cr.keyslot_msg);
    if (!cr.integrity_ok || !cr.keyslots_ok)
        goto out;
    if (sqlite3_prepare_v2(vault_db(v), "SELECT n FROM crash_ctr WHERE id=1",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        why(r, "cannot read the counter: %s", sqlite3_errmsg(vault_db(v)));
        goto out;
    }
    n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    r->found = n;
    if (n < r->last || n > r->last + 1 || n > NTX) {
        why(r, "counter is %d but the last commit reported was %d", n,
            r->last);
        goto out;
    }
    if (!r->crashed && n != NTX) {
        why(r, "no crash, yet the counter is %d", n);
        goto out;
    }
    check_rows(vault_db(v), n, r);
    if (r->nfail)
        goto out;
    /* The recovered vault can be compacted (VACUUM reads every page, free
     * ones included, before any new write reuses a free page), and takes
     * new work. */
    if (vacuum && (rc = sql(vault_db(v), "VACUUM")) != SQLITE_OK) {
        vault_sqlerr(v, rc, "vacuuming", &e);
        why(r, "VACUUM after recovery failed: %s", e.msg);
    } else if (sql(vault_db(v), "BEGIN IMMEDIATE") != SQLITE_OK ||
               insert_row(vault_db(v), 9999, "after", 0) != SQLITE_OK ||
               sql(vault_db(v), "COMMIT") != SQLITE_OK) {
        why(r, "a transaction after recovery failed: %s",
            sqlite3_errmsg(vault_db(v)));
    }
out:
    sqlite3_finalize(st);
    vault_close(v);
    r->journal_after = file_size(journal) > 0;
    r->only_free = r->nfail == 1 && cr.bad_pages == 1 && r->bad_free == 1;
}

/* Run crash point `event` (0: no crash) on a fresh copy of base. */
static void run_point(const char *base, const char *work, long event,
                      uint64_t seed, int vacuum, const char *keep,
                      struct outcome *r)
{
    char journal[512];
    int fds[2], status = 0;
    struct msg m;
    ssize_t got;
    pid_t pid;

    memset(r, 0, sizeof *r);
    snprintf(journal, sizeof journal, "%s-journal", work);
    unlink(work);
    unlink(journal);
    if (copy_file(base, work) != 0) {
        why(r, "cannot copy the base vault: %s", strerror(errno));
        return;
    }
    if (pipe(fds) != 0) {
        why(r, "pipe: %s", strerror(errno));
        return;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        why(r, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        child(work, event, seed, fds[1]);
    }
    close(fds[1]);
    while ((got = read(fds[0], &m, sizeof m)) == (ssize_t)sizeof m) {
        if (m.type == MSG_COMMIT)
            r->last = (int)m.val;
        else if (m.type == MSG_CRASH) {
            r->crashed = 1;
            r->cs = m.cs;
        } else if (m.type == MSG_END)
            r->cs.event = m.val;
        else
            why(r, "the workload failed before the crash (transaction %ld)",
                m.val);
    }
    close(fds[0]);
    if (got != 0)
        why(r, "short message from the child");
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        why(r, "child ended badly (status %#x)", status);
    if (r->why[0])
        return;
    r->journal_before = file_size(journal) > 0;
    if (keep) {
        char to[600];
        snprintf(to, sizeof to, "%s.crashed", work);
        copy_file(work, to);
        snprintf(to, sizeof to, "%s.crashed-journal", work);
        unlink(to);
        if (r->journal_before)
            copy_file(journal, to);
    }
    /* VACUUM where the crash tore a write to the vault file. */
    vacuum |= r->cs.torn[0] > 0;
    verify(work, vacuum, r);
}

/* ---- the test ----------------------------------------------------------- */

static int env_long(const char *name, long dflt, long *out)
{
    const char *s = getenv(name);
    char *end;
    long v;

    *out = dflt;
    if (!s || !*s)
        return 0;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < 0)
        return -1;
    *out = v;
    return 0;
}

static void make_base(const char *path)
{
    kdf_params p;
    vault *v = NULL;
    ev_err e;
    sqlite3 *db;

    assert_int_equal(kdf_profile("test", &p), 0);
    assert_int_equal(vault_create(path, PASS, strlen(PASS), &p, "crash test",
                                  NULL, NULL, &e),
                     0);
    assert_int_equal(vault_open(&v, path, PASS, strlen(PASS), NULL, &e), 0);
    db = vault_db(v);
    assert_int_equal(sql(db, "BEGIN IMMEDIATE;"
                             "CREATE TABLE crash_t(k INTEGER PRIMARY KEY,"
                             " tag TEXT NOT NULL, payload BLOB NOT NULL);"
                             "CREATE TABLE crash_ctr(id INTEGER PRIMARY KEY,"
                             " n INTEGER NOT NULL);"
                             "INSERT INTO crash_ctr VALUES (1, 0);"),
                     SQLITE_OK);
    for (int b = 1; b <= NBASE; b++)
        assert_int_equal(insert_row(db, b, "base", 0), SQLITE_OK);
    assert_int_equal(sql(db, "COMMIT"), SQLITE_OK);
    vault_close(v);
}

struct tally {
    int points, crashed, at_sync, in_journal, commit_on_disk, before_first;
    int journal_before, journal_after, main_pending, hot_torn;
    int torn_main, torn_journal, garbage;
    long torn_writes[2], dropped_writes[2];
};

static void tally_add(struct tally *t, const struct outcome *r)
{
    const crashvfs_stats *cs = &r->cs;
    int main_pending = cs->applied[0] + cs->dropped[0] + cs->torn[0] > 0;

    t->points++;
    if (!r->crashed)
        return;
    t->crashed++;
    t->at_sync += cs->at_sync;
    t->in_journal += cs->in_journal;
    t->commit_on_disk += r->found == r->last + 1;
    t->before_first += r->last == 0;
    t->journal_before += r->journal_before;
    t->journal_after += r->journal_after;
    t->main_pending += main_pending;
    t->hot_torn += r->journal_before && cs->torn[0] > 0;
    t->torn_main += cs->torn[0] > 0;
    t->torn_journal += cs->torn[1] > 0;
    t->garbage += cs->garbage[0] + cs->garbage[1] > 0;
    for (int i = 0; i < 2; i++) {
        t->torn_writes[i] += cs->torn[i];
        t->dropped_writes[i] += cs->dropped[i];
    }
}

/* A point's result, sent whole from a worker (smaller than PIPE_BUF). */
struct result {
    long i, event;
    struct outcome r;
};

_Static_assert(sizeof(struct result) <= PIPE_BUF, "results must be atomic");

struct plan {
    const char *base, *workdir, *keep;
    unsigned long long seed;
    long total, points, only;
};

/* Crash point i: the event to crash at and the crash's own seed. */
static void point_params(const struct plan *p, long i, long *event,
                         uint64_t *cseed)
{
    uint64_t ps = mix64(p->seed ^ mix64((uint64_t)i + 1));
    *event = 1 + (long)(ps % (uint64_t)p->total);
    *cseed = mix64(ps);
}

/* Worker w of nw: run the points i with i % nw == w, each result to fd.
 * Never returns. */
static void worker(const struct plan *p, int w, int nw, int fd)
{
    char work[4200], journal[4300];

    snprintf(work, sizeof work, "%s/work%d.evault", p->workdir, w);
    snprintf(journal, sizeof journal, "%s-journal", work);
    for (long i = w; i < p->points; i += nw) {
        struct result res;
        uint64_t cseed;

        if (p->only >= 0 && i != p->only)
            continue;
        memset(&res, 0, sizeof res);
        res.i = i;
        point_params(p, i, &res.event, &cseed);
        run_point(p->base, work, res.event, cseed, i % 20 == 0, p->keep,
                  &res.r);
        if (write(fd, &res, sizeof res) != (ssize_t)sizeof res)
            _exit(4);
    }
    if (!p->keep) {
        unlink(work);
        unlink(journal);
    }
    _exit(0);
}

static void print_tally(const struct tally *t, int failures, int fail_free,
                        time_t start)
{
    printf("%d crash points in %lds, %d failed (%d of them only by a free "
           "page that fails authentication)\n",
           t->points + failures, (long)(time(NULL) - start), failures,
           fail_free);
    printf("  crashed: %d (at a sync %d, at a write %d; in a journal call "
           "%d, in a vault call %d)\n",
           t->crashed, t->at_sync, t->crashed - t->at_sync, t->in_journal,
           t->crashed - t->in_journal);
    printf("  before the first commit: %d; commit found on disk although "
           "not reported: %d\n",
           t->before_first, t->commit_on_disk);
    printf("  vault writes pending at the crash: %d; torn vault writes: %d "
           "points (%ld writes), torn journal writes: %d points (%ld "
           "writes), garbage sectors: %d points\n",
           t->main_pending, t->torn_main, t->torn_writes[0], t->torn_journal,
           t->torn_writes[1], t->garbage);
    printf("  dropped writes: vault %ld, journal %ld\n", t->dropped_writes[0],
           t->dropped_writes[1]);
    printf("  journal on disk at reopen: %d (with torn vault pages: %d); "
           "journal left after reopen: %d\n",
           t->journal_before, t->hot_torn, t->journal_after);
}

static void test_crash_points(void **state)
{
    char dir[4096], base[4200], work[4200];
    const char *tmp = getenv("TMPDIR"), *keep = getenv("EVAULT_CRASH_KEEP");
    const char *seed_env = getenv("EVAULT_CRASH_SEED");
    const char *crash_dir = getenv("EVAULT_CRASH_DIR");
    long jobs, ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    pid_t pids[16];
    struct plan p;
    struct outcome r;
    struct result res;
    struct tally t;
    int failures = 0, fail_free = 0, fds[2], nw = 0;
    time_t start = time(NULL);
    (void)state;

    memset(&p, 0, sizeof p);
    assert_int_equal(env_long("EVAULT_CRASH_POINTS", 1000, &p.points), 0);
    assert_int_equal(env_long("EVAULT_CRASH_ONLY", -1, &p.only), 0);
    assert_int_equal(
        env_long("EVAULT_CRASH_JOBS", ncpu < 1 ? 1 : ncpu > 4 ? 4 : ncpu,
                 &jobs),
        0);
    if (jobs < 1 || jobs > 16 || p.only >= 0)
        jobs = 1;
    if (seed_env && *seed_env) {
        char *end;
        errno = 0;
        p.seed = strtoull(seed_env, &end, 0);
        assert_true(errno == 0 && *end == '\0');
    } else {
        randombytes_buf(&p.seed, sizeof p.seed);
    }
    printf("crash seed %llu (replay: EVAULT_CRASH_SEED=%llu)\n", p.seed,
           p.seed);
    if (keep && !*keep)
        keep = NULL;

    /* The power loss is simulated: real fsyncs (by the recovery and the
     * checks) only cost time, so prefer a memory file system. */
    if (crash_dir && *crash_dir)
        tmp = crash_dir;
    else if (access("/dev/shm", W_OK | X_OK) == 0)
        tmp = "/dev/shm";
    snprintf(dir, sizeof dir, "%s/evault-crash-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(base, sizeof base, "%s/base.evault", dir);
    snprintf(work, sizeof work, "%s/measure.evault", dir);
    p.base = base;
    p.workdir = keep ? "." : dir;
    p.keep = keep;
    assert_int_equal(crashvfs_register(), SQLITE_OK);
    make_base(base);

    /* A run without a crash: the checker accepts it, and it measures how
     * many writes and syncs the workload makes. */
    run_point(base, work, 0, 0, 1, NULL, &r);
    unlink(work);
    if (r.why[0])
        fail_msg("run without a crash: %s", r.why);
    assert_int_equal(r.crashed, 0);
    assert_int_equal(r.last, NTX);
    p.total = r.cs.event;
    assert_true(p.total > 0);
    printf("workload: %d transactions, %ld writes and syncs; %ld workers\n",
           NTX, p.total, jobs);

    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    for (int w = 0; w < jobs; w++) {
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) {
            close(fds[0]);
            worker(&p, w, (int)jobs, fds[1]);
        }
        nw++;
    }
    close(fds[1]);
    memset(&t, 0, sizeof t);
    while (read(fds[0], &res, sizeof res) == (ssize_t)sizeof res) {
        const struct outcome *o = &res.r;
        if (!o->why[0]) {
            tally_add(&t, o);
            continue;
        }
        fail_free += o->only_free;
        if (failures++ < MAXFAIL_PRINT)
            printf("FAIL crash point %ld (event %ld of %ld, at %s in %s, "
                   "last commit %d): %s\n"
                   "  replay: EVAULT_CRASH_SEED=%llu EVAULT_CRASH_ONLY=%ld\n",
                   res.i, res.event, p.total, o->cs.at_sync ? "sync" : "write",
                   o->cs.in_journal ? "journal" : "vault", o->last, o->why,
                   p.seed, res.i);
    }
    close(fds[0]);
    for (int w = 0; w < nw; w++) {
        int status = 0;
        if (waitpid(pids[w], &status, 0) != pids[w] || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            printf("FAIL worker %d ended badly (status %#x)\n", w, status);
            failures++;
        }
    }
    print_tally(&t, failures, fail_free, start);
    unlink(base);
    rmdir(dir);
    assert_int_equal(failures, 0);
    if (p.only < 0)
        assert_int_equal(t.points, p.points);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_points),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
