/*
 * bench_sql: the container benchmark's workload, run side by side on a
 * plain SQLite file and on an encrypted container.
 *
 * One source, two binaries (`make bench` builds both):
 *   - bench_sql, linked with libsqlite3 and libevault: modes "plain" (the
 *     default VFS) and "vault" (vault_create + vault_open, "interactive"
 *     KDF; the workload only touches vault_db()). Also measures unlock time
 *     against the KDF alone (--unlock) and builds large vaults for the shred
 *     timing (--make-vault).
 *   - bench_sqlcipher (-DBENCH_SQLCIPHER), linked with Debian's libsqlcipher
 *     (its symbols clash with libsqlite3's): modes "sqlc-plain" (SQLCipher's
 *     engine without a key) and "sqlcipher" (PRAGMA key, cipher_page_size
 *     4096). With --cipher-defaults the keyed mode is "sqlc-default":
 *     SQLCipher as it comes (1024-byte pages), for context.
 *
 * The workload: 200,000 incident-like rows inserted in transactions of
 * 1,000, CREATE INDEX, 10,000 point reads through that index, one full
 * scan. Every mode gets the same SQL, the same rows (a fixed-seed PRNG) and
 * the same pragmas: journal_mode=DELETE, synchronous=FULL and the two
 * pragmas a vault connection always sets (temp_store=MEMORY,
 * secure_delete=ON), so that a ratio measures the encryption layer and not
 * a difference of policy (--no-policy drops them). Plain SQLite and
 * SQLCipher get page size 4096 and SQLite's default cache; the vault keeps
 * what every vault has: 16 KiB pages and a 32 MiB cache of decrypted pages.
 * Open and KDF time are outside the timed phases.
 *
 * The two modes alternate within each repetition (the order flips from one
 * repetition to the next) and the summary quotes medians: this VM is noisy.
 * Lines starting with '@' are for bench/run.sh:
 *   @run MODE REP INSERT INDEX READS SCAN TOTAL CPU  (milliseconds; CPU
 *                                                     is user+system time)
 *   @unlock OPEN_MS KDF_MS                         (one pair per repetition)
 *   @unlock_nokdf OPEN_MS                          (vault with minimal KDF)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#ifndef BENCH_SQLCIPHER
#include <sodium.h>

#include "../crypto/kdf.h"
#include "../vault/vault.h"
#endif

#define PASSPHRASE "correct horse battery staple, bench edition"
#define MAXREPS 99
#define NPHASE 4

enum { PH_INSERT, PH_INDEX, PH_READS, PH_SCAN };
static const char *const phase_name[NPHASE] = {"insert", "index", "reads",
                                               "scan"};

struct opts {
    int reps, rep_base, policy;
    int cipher_defaults; /* SQLCipher's own page size (1024) and settings */
    long rows, txn, reads;
    int unlock;
    const char *only; /* run one mode alone (profiling) */
    const char *dir;
    const char *make_vault;
    long make_mb;
};

/* ---- small helpers ---------------------------------------------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* CPU time of this process (user + system), ms: less sensitive than wall
 * time to other load on the machine, blind to time spent waiting on fsync. */
static double cpu_ms(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
    double s[MAXREPS];

    if (n <= 0)
        return 0;
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* xorshift64*: the same rows in every mode and every repetition. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* A bijection on 32 bits (murmur3's finaliser): unique, unordered keys. */
static uint32_t mix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

/* "INC-" and 8 hex digits; hand-rolled, so that row generation stays a
 * small part of the insert phase in every mode. */
static void case_no(char *buf, size_t len, long i)
{
    static const char hex[] = "0123456789ABCDEF";
    uint32_t h = mix32((uint32_t)i);

    if (len < 13)
        return;
    memcpy(buf, "INC-", 4);
    for (int k = 0; k < 8; k++)
        buf[4 + k] = hex[(h >> (28 - 4 * k)) & 15];
    buf[12] = '\0';
}

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        fprintf(stderr, "bench_sql: '%s': %s\n", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* ---- the workload ----------------------------------------------------- */

static const char *const words[] = {
    "seized",   "laptop",  "phone",    "report",   "witness", "statement",
    "vehicle",  "harbour", "warehouse", "invoice", "camera",  "footage",
    "transfer", "account", "suspect",  "evidence", "chain",   "custody",
    "sealed",   "bag",     "drive",    "image",    "hash",    "verified",
    "officer",  "station", "north",    "south",    "district", "night",
    "morning",  "entry",
};
#define NWORDS (sizeof words / sizeof words[0])

static const char *const statuses[] = {"open", "triage", "review", "closed",
                                       "archived"};
static const char *const people[] = {
    "A. Okafor", "B. Lindqvist", "C. Moreau", "D. Haddad", "E. Novak",
    "F. Tanaka", "G. Silva",     "H. Keller", "I. Rossi",  "J. Walsh",
};
static const char *const places[] = {
    "Harbour District", "Old Town",   "Airport Road", "North Quay",
    "Station Square",   "Mill Lane",  "Riverside",    "Industrial Estate",
};

/* Fill buf with an 80-240 character summary of pseudo-random words. */
static int make_summary(char *buf, size_t cap, uint64_t *s)
{
    size_t target = 80 + (size_t)(rng_next(s) % 161), n = 0;

    while (n < target) {
        const char *w = words[rng_next(s) % NWORDS];
        size_t k = strlen(w);
        if (n + k + 1 >= cap)
            break;
        if (n)
            buf[n++] = ' ';
        memcpy(buf + n, w, k);
        n += k;
    }
    return (int)n;
}

static int phase_insert(sqlite3 *db, const struct opts *o)
{
    static const char *const create =
        "CREATE TABLE bench_incident("
        "  id INTEGER PRIMARY KEY,"
        "  case_no TEXT NOT NULL,"
        "  opened INTEGER NOT NULL,"
        "  severity INTEGER NOT NULL,"
        "  status TEXT NOT NULL,"
        "  reporter TEXT NOT NULL,"
        "  location TEXT NOT NULL,"
        "  summary TEXT NOT NULL,"
        "  digest BLOB NOT NULL)";
    sqlite3_stmt *st = NULL;
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    char cno[24], summary[300];
    uint8_t digest[32];
    int rc = -1;

    if (exec(db, create) != 0)
        return -1;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO bench_incident(case_no, opened, severity, "
                           "status, reporter, location, summary, digest) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                           -1, &st, NULL) != SQLITE_OK)
        goto out;
    for (long i = 0; i < o->rows;) {
        if (exec(db, "BEGIN") != 0)
            goto out;
        for (long k = 0; k < o->txn && i < o->rows; k++, i++) {
            int n;
            case_no(cno, sizeof cno, i);
            n = make_summary(summary, sizeof summary, &s);
            for (size_t j = 0; j < sizeof digest; j += 8) {
                uint64_t r = rng_next(&s);
                memcpy(digest + j, &r, 8);
            }
            sqlite3_bind_text(st, 1, cno, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2,
                               1600000000 + (sqlite3_int64)(rng_next(&s) %
                                                            150000000));
            sqlite3_bind_int(st, 3, 1 + (int)(rng_next(&s) % 5));
            sqlite3_bind_text(st, 4, statuses[rng_next(&s) % 5], -1,
                              SQLITE_STATIC);
            sqlite3_bind_text(st, 5, people[rng_next(&s) % 10], -1,
                              SQLITE_STATIC);
            sqlite3_bind_text(st, 6, places[rng_next(&s) % 8], -1,
                              SQLITE_STATIC);
            sqlite3_bind_text(st, 7, summary, n, SQLITE_STATIC);
            sqlite3_bind_blob(st, 8, digest, sizeof digest, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE) {
                fprintf(stderr, "bench_sql: insert: %s\n", sqlite3_errmsg(db));
                goto out;
            }
            sqlite3_reset(st);
        }
        if (exec(db, "COMMIT") != 0)
            goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

static int phase_reads(sqlite3 *db, const struct opts *o)
{
    sqlite3_stmt *st = NULL;
    uint64_t s = 0xD1B54A32D192ED03ULL, bytes = 0;
    char cno[24];
    long found = 0;
    int rc = -1;

    if (sqlite3_prepare_v2(db,
                           "SELECT id, opened, severity, status, reporter, "
                           "location, summary, digest FROM bench_incident "
                           "WHERE case_no = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        goto out;
    for (long i = 0; i < o->reads; i++) {
        case_no(cno, sizeof cno, (long)(rng_next(&s) % (uint64_t)o->rows));
        sqlite3_bind_text(st, 1, cno, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            bytes += (uint64_t)sqlite3_column_bytes(st, 6) +
                     (uint64_t)sqlite3_column_bytes(st, 7);
            found++;
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            goto fail;
    }
    if (found != o->reads || bytes == 0) {
        fprintf(stderr, "bench_sql: point reads found %ld of %ld rows\n",
                found, o->reads);
        rc = -1;
        goto out;
    }
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "bench_sql: read: %s\n", sqlite3_errmsg(db));
    rc = -1;
out:
    sqlite3_finalize(st);
    return rc;
}

static int phase_scan(sqlite3 *db, const struct opts *o)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;

    /* length(summary) and the LIKE make SQLite read every row of the table
     * itself, not a smaller index. */
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*), sum(length(summary)), "
                           "sum(location LIKE '%harbour%') FROM bench_incident",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        fprintf(stderr, "bench_sql: scan: %s\n", sqlite3_errmsg(db));
        goto out;
    }
    if (sqlite3_column_int64(st, 0) != o->rows) {
        fprintf(stderr, "bench_sql: scan counted %lld rows, not %ld\n",
                (long long)sqlite3_column_int64(st, 0), o->rows);
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

/* The pragmas every mode is given. A vault keeps the page size it was
 * created with (16 KiB; it refuses any other), and its own cache size. */
static int setup_pragmas(sqlite3 *db, const struct opts *o, int vault)
{
    if (!o->cipher_defaults && !vault &&
        exec(db, "PRAGMA page_size=4096;") != 0)
        return -1;
    if (exec(db, "PRAGMA journal_mode=DELETE;"
                 "PRAGMA synchronous=FULL;") != 0)
        return -1;
    if (o->policy && exec(db, "PRAGMA temp_store=MEMORY;"
                              "PRAGMA secure_delete=ON;") != 0)
        return -1;
    return 0;
}

/* Run the four phases on db. OUT: ms[NPHASE] (wall), ms[NPHASE + 1] (CPU,
 * all phases). */
static int workload(sqlite3 *db, const struct opts *o, int vault, double *ms)
{
    double t0, t1, c0;

    if (setup_pragmas(db, o, vault) != 0)
        return -1;
    c0 = cpu_ms();
    t0 = now_ms();
    if (phase_insert(db, o) != 0)
        return -1;
    t1 = now_ms();
    ms[PH_INSERT] = t1 - t0;
    if (exec(db, "CREATE INDEX bench_incident_case ON bench_incident(case_no)") != 0)
        return -1;
    t0 = now_ms();
    ms[PH_INDEX] = t0 - t1;
    if (phase_reads(db, o) != 0)
        return -1;
    t1 = now_ms();
    ms[PH_READS] = t1 - t0;
    if (phase_scan(db, o) != 0)
        return -1;
    ms[PH_SCAN] = now_ms() - t1;
    ms[NPHASE + 1] = cpu_ms() - c0;
    return 0;
}

/* ---- modes ------------------------------------------------------------ */

struct mode {
    const char *name;
    int (*run)(const struct opts *o, const char *path, double *ms);
};

static int run_plain(const struct opts *o, const char *path, double *ms)
{
    sqlite3 *db = NULL;
    int rc = -1;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_sql: cannot open '%s': %s\n", path,
                db ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    rc = workload(db, o, 0, ms);
out:
    sqlite3_close(db);
    return rc;
}

#ifdef BENCH_SQLCIPHER

static int run_sqlcipher(const struct opts *o, const char *path, double *ms)
{
    sqlite3 *db = NULL;
    int rc = -1;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_sqlcipher: cannot open '%s': %s\n", path,
                db ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    /* Key and page size first; the count forces SQLCipher's PBKDF2 now,
     * outside the timed phases (the vault's Argon2id is outside too). */
    if (exec(db, "PRAGMA key='" PASSPHRASE "';") != 0 ||
        (!o->cipher_defaults &&
         exec(db, "PRAGMA cipher_page_size=4096;") != 0) ||
        exec(db, "SELECT count(*) FROM sqlite_master") != 0)
        goto out;
    rc = workload(db, o, 0, ms);
out:
    sqlite3_close(db);
    return rc;
}

static struct mode modes[2] = {
    {"sqlc-plain", run_plain},
    {"sqlcipher", run_sqlcipher},
};

#else

static int run_vault(const struct opts *o, const char *path, double *ms)
{
    kdf_params p;
    vault *v = NULL;
    ev_err e;
    int rc = -1;

    err_clear(&e);
    if (kdf_profile("interactive", &p) != 0 ||
        vault_create(path, PASSPHRASE, strlen(PASSPHRASE), &p, "bench", NULL,
                     NULL, &e) != 0 ||
        vault_open(&v, path, PASSPHRASE, strlen(PASSPHRASE), NULL, &e) != 0) {
        fprintf(stderr, "bench_sql: vault '%s': %s\n", path, e.msg);
        goto out;
    }
    rc = workload(vault_db(v), o, 1, ms);
out:
    vault_close(v);
    return rc;
}

static const struct mode modes[2] = {
    {"plain", run_plain},
    {"vault", run_vault},
};

/*
 * Unlock cost: alternate vault_open() (which runs Argon2id once on the
 * first slot) with kdf_passphrase() alone on the same parameters, then time
 * opening a vault whose keyslot has the minimal "test" cost, a direct
 * measure of everything unlock does besides the KDF.
 */
static int bench_unlock(const struct opts *o, const char *dir)
{
    char path[4096], path2[4096];
    double open_ms[MAXREPS], kdf_ms[MAXREPS], diff[MAXREPS], nokdf[MAXREPS];
    uint8_t salt[KDF_SALTBYTES], key[KDF_KEYBYTES];
    kdf_params p, pt;
    vault *v = NULL;
    ev_err e;
    int n = o->unlock, rc = -1;

    err_clear(&e);
    snprintf(path, sizeof path, "%s/unlock.evault", dir);
    snprintf(path2, sizeof path2, "%s/unlock-nokdf.evault", dir);
    if (kdf_profile("interactive", &p) != 0 || kdf_profile("test", &pt) != 0)
        return -1;
    if (vault_create(path, PASSPHRASE, strlen(PASSPHRASE), &p, "bench", NULL,
                     NULL, &e) != 0 ||
        vault_create(path2, PASSPHRASE, strlen(PASSPHRASE), &pt, "bench",
                     NULL, NULL, &e) != 0) {
        fprintf(stderr, "bench_sql: vault_create: %s\n", e.msg);
        goto out;
    }
    randombytes_buf(salt, sizeof salt);
    for (int i = 0; i < n; i++) {
        double t0 = now_ms();
        if (vault_open(&v, path, PASSPHRASE, strlen(PASSPHRASE), NULL, &e) !=
            0) {
            fprintf(stderr, "bench_sql: vault_open: %s\n", e.msg);
            goto out;
        }
        open_ms[i] = now_ms() - t0;
        vault_close(v);
        v = NULL;
        t0 = now_ms();
        if (kdf_passphrase(key, PASSPHRASE, strlen(PASSPHRASE), salt, &p) !=
            0)
            goto out;
        kdf_ms[i] = now_ms() - t0;
        diff[i] = open_ms[i] - kdf_ms[i];
        printf("@unlock %.3f %.3f\n", open_ms[i], kdf_ms[i]);
    }
    for (int i = 0; i < n; i++) {
        double t0 = now_ms();
        if (vault_open(&v, path2, PASSPHRASE, strlen(PASSPHRASE), NULL, &e) !=
            0) {
            fprintf(stderr, "bench_sql: vault_open: %s\n", e.msg);
            goto out;
        }
        nokdf[i] = now_ms() - t0;
        vault_close(v);
        v = NULL;
        printf("@unlock_nokdf %.3f\n", nokdf[i]);
    }
    printf("unlock (interactive KDF, median of %d): vault_open %.1f ms, "
           "kdf_passphrase alone %.1f ms\n"
           "  unlock minus KDF: %.1f ms (difference of medians), %.1f ms "
           "(median of paired differences)\n"
           "  vault_open with the minimal 'test' KDF: %.1f ms\n",
           n, median(open_ms, n), median(kdf_ms, n),
           median(open_ms, n) - median(kdf_ms, n), median(diff, n),
           median(nokdf, n));
    rc = 0;
out:
    sodium_memzero(key, sizeof key);
    vault_close(v);
    unlink(path);
    unlink(path2);
    return rc;
}

/* Build a vault of about mb MiB (1 MiB blobs, 16 per transaction). */
static int make_vault(const char *path, long mb)
{
    kdf_params p;
    vault *v = NULL;
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    uint64_t s = 42;
    uint8_t *blob = malloc(1 << 20);
    ev_err e;
    int rc = -1;

    err_clear(&e);
    if (!blob || kdf_profile("interactive", &p) != 0)
        goto out;
    if (vault_create(path, PASSPHRASE, strlen(PASSPHRASE), &p, "bench", NULL,
                     NULL, &e) != 0 ||
        vault_open(&v, path, PASSPHRASE, strlen(PASSPHRASE), NULL, &e) != 0) {
        fprintf(stderr, "bench_sql: vault '%s': %s\n", path, e.msg);
        goto out;
    }
    db = vault_db(v);
    if (exec(db, "CREATE TABLE filler(id INTEGER PRIMARY KEY, b BLOB)") != 0 ||
        sqlite3_prepare_v2(db, "INSERT INTO filler(b) VALUES (?1)", -1, &st,
                           NULL) != SQLITE_OK)
        goto out;
    for (long i = 0; i < mb; i++) {
        if (i % 16 == 0 && exec(db, "BEGIN") != 0)
            goto out;
        for (size_t j = 0; j < (1u << 20); j += 8) {
            uint64_t r = rng_next(&s);
            memcpy(blob + j, &r, 8);
        }
        sqlite3_bind_blob(st, 1, blob, 1 << 20, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "bench_sql: filling '%s': %s\n", path,
                    sqlite3_errmsg(db));
            goto out;
        }
        sqlite3_reset(st);
        if ((i % 16 == 15 || i + 1 == mb) && exec(db, "COMMIT") != 0)
            goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    vault_close(v);
    free(blob);
    return rc;
}

#endif

/* ---- driver ----------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_sql [--reps N] [--rep-base N] [--rows N] [--txn N]\n"
            "                 [--reads N] [--no-policy] [--only MODE] [--dir DIR]"
#ifdef BENCH_SQLCIPHER
            " [--cipher-defaults]"
#else
            " [--unlock N]\n"
            "       bench_sql --make-vault PATH --mb N"
#endif
            "\n");
}

static int scratch_file(char *buf, size_t len, const char *dir,
                        const char *mode, int rep)
{
    char j[4200];
    int n = snprintf(buf, len, "%s/%s-%d.db", dir, mode, rep);

    if (n < 0 || (size_t)n >= len)
        return -1;
    unlink(buf);
    snprintf(j, sizeof j, "%s-journal", buf);
    unlink(j);
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {3, 1, 1, 0, 200000, 1000, 10000, 0, NULL, NULL, NULL, 0};
    double ms[2][MAXREPS][NPHASE + 2];
    char dirbuf[4096], path[4096];
    int made_dir = 0, rc = 1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        long v = 0;
        int ok = 1;

        if (strcmp(a, "--no-policy") == 0) {
            o.policy = 0;
            continue;
        }
#ifdef BENCH_SQLCIPHER
        if (strcmp(a, "--cipher-defaults") == 0) {
            /* SQLCipher as it comes: 1024-byte pages, no page_size pragma. */
            o.cipher_defaults = 1;
            modes[0].name = "sqlc-plain-dflt";
            modes[1].name = "sqlc-default";
            continue;
        }
#endif
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (!val) {
            usage(stderr);
            return 2;
        }
        i++;
        if (strcmp(a, "--dir") == 0)
            o.dir = val;
        else if (strcmp(a, "--only") == 0)
            o.only = val;
        else if (strcmp(a, "--make-vault") == 0)
            o.make_vault = val;
        else if (strcmp(a, "--reps") == 0 && (ok = !parse_long(val, 0, MAXREPS, &v)))
            o.reps = (int)v;
        else if (strcmp(a, "--rep-base") == 0 && (ok = !parse_long(val, 1, 1000000, &v)))
            o.rep_base = (int)v;
        else if (strcmp(a, "--rows") == 0 && (ok = !parse_long(val, 1, 100000000, &v)))
            o.rows = v;
        else if (strcmp(a, "--txn") == 0 && (ok = !parse_long(val, 1, 100000000, &v)))
            o.txn = v;
        else if (strcmp(a, "--reads") == 0 && (ok = !parse_long(val, 0, 100000000, &v)))
            o.reads = v;
        else if (strcmp(a, "--unlock") == 0 && (ok = !parse_long(val, 0, MAXREPS, &v)))
            o.unlock = (int)v;
        else if (strcmp(a, "--mb") == 0 && (ok = !parse_long(val, 1, 1 << 20, &v)))
            o.make_mb = v;
        else
            ok = 0;
        if (!ok) {
            fprintf(stderr, "bench_sql: bad option '%s %s'\n", a, val);
            usage(stderr);
            return 2;
        }
    }

#ifndef BENCH_SQLCIPHER
    if (sodium_init() < 0) {
        fprintf(stderr, "bench_sql: cannot initialise libsodium\n");
        return 1;
    }
    if (o.make_vault) {
        if (o.make_mb <= 0) {
            usage(stderr);
            return 2;
        }
        return make_vault(o.make_vault, o.make_mb) == 0 ? 0 : 1;
    }
#endif

    if (!o.dir) {
        const char *t = getenv("TMPDIR");
        snprintf(dirbuf, sizeof dirbuf, "%s/evault-bench.XXXXXX",
                 t && *t ? t : "/tmp");
        if (!mkdtemp(dirbuf)) {
            fprintf(stderr, "bench_sql: cannot create a scratch directory: "
                            "%s\n",
                    strerror(errno));
            return 1;
        }
        o.dir = dirbuf;
        made_dir = 1;
    }
    printf("# %s with SQLite %s: %ld rows, transactions of %ld, %ld point "
           "reads, %d repetition(s), policy pragmas %s, in %s\n",
           argv[0], sqlite3_libversion(), o.rows, o.txn, o.reads, o.reps,
           o.policy ? "on" : "off", o.dir);
    fflush(stdout);

    for (int r = 0; r < o.reps; r++) {
        int rep = o.rep_base + r;
        for (int k = 0; k < 2; k++) {
            /* Flip the order on every repetition: neither mode always
             * runs on a warmer (or more crowded) machine. */
            int m = rep % 2 ? k : 1 - k;
            double *t = ms[m][r];
            if (o.only && strcmp(o.only, modes[m].name) != 0) {
                memset(t, 0, sizeof ms[m][r]);
                continue;
            }
            if (scratch_file(path, sizeof path, o.dir, modes[m].name, rep) !=
                0)
                goto out;
            if (modes[m].run(&o, path, t) != 0) {
                fprintf(stderr, "bench_sql: mode %s failed\n", modes[m].name);
                goto out;
            }
            scratch_file(path, sizeof path, o.dir, modes[m].name, rep);
            t[NPHASE] = 0;
            for (int ph = 0; ph < NPHASE; ph++)
                t[NPHASE] += t[ph];
            printf("@run %s %d %.1f %.1f %.1f %.1f %.1f %.1f\n", modes[m].name,
                   rep, t[0], t[1], t[2], t[3], t[4], t[5]);
            fflush(stdout);
        }
    }

    if (o.reps == 0)
        goto unlock;
    printf("%-12s", "median ms");
    for (int ph = 0; ph <= NPHASE + 1; ph++)
        printf("%10s", ph < NPHASE ? phase_name[ph] : ph == NPHASE ? "total" : "cpu");
    printf("\n");
    {
        double med[2][NPHASE + 2];
        for (int m = 0; m < 2; m++) {
            printf("%-12s", modes[m].name);
            for (int ph = 0; ph <= NPHASE + 1; ph++) {
                double col[MAXREPS];
                for (int r = 0; r < o.reps; r++)
                    col[r] = ms[m][r][ph];
                med[m][ph] = median(col, o.reps);
                printf("%10.1f", med[m][ph]);
            }
            printf("\n");
        }
        printf("%-12s", "ratio");
        for (int ph = 0; ph <= NPHASE + 1; ph++)
            printf("%10.2f", med[0][ph] > 0 ? med[1][ph] / med[0][ph] : 0);
        printf("   (%s / %s)\n", modes[1].name, modes[0].name);
    }

unlock:
#ifndef BENCH_SQLCIPHER
    if (o.unlock > 0 && bench_unlock(&o, o.dir) != 0)
        goto out;
#endif
    rc = 0;
out:
    if (made_dir)
        rmdir(o.dir);
    return rc;
}
