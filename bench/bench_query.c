/*
 * bench_query: query times on a loaded vault, for issue 3's target "with
 * 100,000 incidents and 300,000 actors loaded, `incident list --since
 * --until` for one month and `search` for a rare word each under 50 ms
 * after unlock".
 *
 * 1. Load: a vault ("interactive" KDF) filled through direct SQL on
 *    vault_db(), in transactions of 10,000 rows, so that the schema's
 *    triggers build the full-text index as the record commands would:
 *    incidents with generated but realistic text (titles, 25-60 word
 *    descriptions, a city, 0-3 tags, start dates spread over ten years
 *    2015-2024) and actors (names, other names, a description, contact
 *    details that are never indexed). A rare word appears in 3 incidents
 *    and 1 actor. Fixed-seed PRNG: every run loads the same data.
 * 2. Then, --reps times, each time as a fresh command would: vault_open
 *    (timed: unlock, KDF included), then ONE query (timed: the first query
 *    after unlock, on a cold connection cache), vault_close. Queries:
 *      month   the SQL `incident list --since --until` runs for one month:
 *              SELECT ... FROM incident WHERE start_date BETWEEN ? AND ?
 *              ORDER BY start_date (index incident_by_start), all rows read
 *      rare    search_run() for the rare word (default limit 20)
 *      common  search_run() for a word in about one record in ten
 *              (context: ranking many matches; no target)
 *    The month changes from one repetition to the next.
 *
 * Lines starting with '@' are for bench/run.sh:
 *   @qload INCIDENTS ACTORS MS BYTES
 *   @qunlock MS             (one per open)
 *   @qmonth MS ROWS
 *   @qrare MS HITS
 *   @qcommon MS HITS
 *   @qvault PATH            (with --keep: the vault and PATH.pass, its
 *                            passphrase, stay for timing the CLI)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "../crypto/kdf.h"
#include "../vault/search.h"
#include "../vault/vault.h"

#define PASSPHRASE "correct horse battery staple, query bench"
#define RARE_WORD "quetzalcoatlus"
#define COMMON_WORD "arrested"
#define MAXREPS 99
#define TXN 10000

struct opts {
    long incidents, actors;
    int reps, keep;
    const char *dir;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
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

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static unsigned pick(uint64_t *s, unsigned n)
{
    return (unsigned)(rng_next(s) % n);
}

#define N(a) ((unsigned)(sizeof a / sizeof a[0]))

static const char *const words[] = {
    "the", "a", "of", "in", "and", "to", "was", "were", "by", "at", "on",
    "after", "before", "during", "with", "from", "for", "his", "her", "their",
    "police", "officers", "court", "judge", "prosecutor", "lawyer", "family",
    "relatives", "journalist", "blogger", "activist", "defender", "editor",
    "reporter", "students", "protesters", "residents", "witnesses", "crowd",
    "arrested", "questioned", "searched", "charged", "released", "summoned",
    "threatened", "followed", "filmed", "beaten", "fined", "sentenced",
    "warned", "blocked", "closed", "seized", "confiscated", "interrogated",
    "office", "apartment", "newsroom", "station", "building", "square",
    "street", "border", "reservoir", "village", "district", "capital",
    "phone", "laptop", "camera", "documents", "posts", "video", "article",
    "report", "website", "channel", "account", "statement", "complaint",
    "appeal", "hearing", "trial", "verdict", "probation", "detention",
    "custody", "investigation", "case", "charges", "law", "decree", "ban",
    "days", "hours", "weeks", "night", "morning", "evening", "later", "again",
    "without", "warrant", "explanation", "access", "counsel", "medical",
    "care", "visit", "allowed", "denied", "reported", "according", "sources",
    "local", "independent", "media", "outlet", "organisation", "registered",
    "foreign", "agent", "funding", "inspection", "tax", "audit", "licence",
    "revoked", "extremism", "false", "information", "public", "order",
    "disorder", "calls", "mass", "riots", "insult", "authorities", "official",
    "security", "service", "committee", "ministry", "interior", "prosecutors",
    "general", "regional", "city", "administration", "unknown", "men",
    "plain", "clothes", "car", "taken", "home", "released", "bail",
};

static const char *const cities[] = {
    "Bishkek", "Osh", "Jalal-Abad", "Karakol", "Naryn", "Talas", "Batken",
    "Tokmok", "Kara-Balta", "Uzgen", "Kyzyl-Kiya", "Balykchy", "Cholpon-Ata",
    "Kant", "Kochkor", "At-Bashy", "Toktogul", "Kerben", "Nookat", "Aravan",
};

static const char *const types[] = {
    "arrest", "detention", "criminal-charge", "trial", "conviction",
    "online-threat", "harassment", "intimidation", "surveillance",
    "physical-attack", "raid-or-search", "deportation", "travel-ban",
    "website-blocking", "media-closure", "ngo-restriction", "protest-ban",
    "protest-dispersal", "restrictive-law", "other",
};

static const char *const title_verbs[] = {
    "Arrest of", "Detention of", "Charges against", "Trial of",
    "Threats against", "Harassment of", "Search of the home of",
    "Travel ban on", "Summons for", "Attack on", "Surveillance of",
    "Fine for", "Deportation of", "Interrogation of",
};

static const char *const roles[] = {
    "journalist", "blogger", "activist", "lawyer", "human rights defender",
    "editor", "student", "poet", "researcher", "trade unionist",
};

static const char *const first[] = {
    "Aigul", "Bakyt", "Chynara", "Daniyar", "Elmira", "Farhod", "Gulnara",
    "Iskender", "Jyldyz", "Kanat", "Leila", "Maksat", "Nurlan", "Olga",
    "Perizat", "Ruslan", "Saltanat", "Timur", "Ulan", "Venera", "Zarina",
    "Azamat", "Bermet", "Dilnoza", "Emil", "Feruza", "Gulzat", "Ilyas",
    "Kamila", "Marat",
};

static const char *const last[] = {
    "Abdyldaev", "Bekova", "Chotonov", "Djumabaeva", "Esenaliev", "Ibraimova",
    "Jusupov", "Kasymova", "Mamytov", "Nazarova", "Omurbekov", "Rakhimova",
    "Sadykov", "Tashieva", "Usenov", "Zhakypova", "Alymkulov", "Baitikova",
    "Kadyrov", "Myrzaeva", "Orozbekov", "Satybaldieva", "Toktomushev",
    "Asanova", "Beishenaliev", "Duishenova", "Kurmanov", "Osmonova",
};

static const char *const tags[] = {
    "press-freedom", "online", "protest", "water-dispute", "elections",
    "ngo-law", "media-law", "exile", "women-defenders", "lgbt", "courts",
    "police", "border", "social-media", "foreign-agents", "corruption",
    "land", "labour", "minorities", "students",
};

static int exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "bench_query: %s: %s\n", sql, err ? err : "?");
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

static void uuid_for(uint64_t *s, char *out)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    size_t o = 0;
    for (int i = 0; i < 16; i += 8) {
        uint64_t r = rng_next(s);
        memcpy(b + i, &r, 8);
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

/* A sentence-like text of n words, appended to s. */
static void text_of(uint64_t *s, sqlite3_str *t, int n)
{
    for (int i = 0; i < n; i++) {
        const char *w = words[pick(s, N(words))];
        if (i)
            sqlite3_str_appendchar(t, 1, ' ');
        if (i == 0) {
            sqlite3_str_appendchar(t, 1, (char)(w[0] - 32 * (w[0] >= 'a')));
            sqlite3_str_appendall(t, w + 1);
        } else {
            sqlite3_str_appendall(t, w);
        }
        if (i % 12 == 11)
            sqlite3_str_appendchar(t, 1, '.');
    }
    sqlite3_str_appendchar(t, 1, '.');
}

/* Days since 1970-01-01 of y-m-d (proleptic Gregorian). */
static void date_of(long day, char *out, size_t len)
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%d", &tm);
}

#define DAY0 16436 /* 2015-01-01 */
#define NDAYS 3652 /* ten years */

static int load_incidents(sqlite3 *db, long n, uint64_t *s)
{
    sqlite3_stmt *ins = NULL, *tag = NULL;
    char uuid[37], date[16];
    int rc = -1;

    if (sqlite3_prepare_v2(db,
                           "INSERT INTO incident(id, uuid, title, type,"
                           " description, location, start_date,"
                           " start_precision, status, created, updated)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
                           " '2024-12-31T12:00:00Z', '2024-12-31T12:00:00Z')",
                           -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO incident_tag VALUES"
                               " (?1, ?2)",
                           -1, &tag, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_query: %s\n", sqlite3_errmsg(db));
        goto out;
    }
    for (long i = 1; i <= n; i++) {
        sqlite3_str *title = sqlite3_str_new(NULL), *desc = sqlite3_str_new(NULL);
        char *ti, *de;
        const char *city = cities[pick(s, N(cities))];
        unsigned ntags = pick(s, 4);
        int step;

        if ((i - 1) % TXN == 0 && exec(db, "BEGIN") != 0)
            goto out;
        uuid_for(s, uuid);
        date_of(DAY0 + (long)pick(s, NDAYS), date, sizeof date);
        sqlite3_str_appendf(title, "%s %s %s %s in %s",
                            title_verbs[pick(s, N(title_verbs))],
                            roles[pick(s, N(roles))], first[pick(s, N(first))],
                            last[pick(s, N(last))], city);
        text_of(s, desc, 25 + (int)pick(s, 36));
        if (i % 33333 == 7) /* three incidents in 100,000 */
            sqlite3_str_appendall(desc, " Fossil " RARE_WORD " exhibit.");
        ti = sqlite3_str_finish(title);
        de = sqlite3_str_finish(desc);
        if (!ti || !de) {
            sqlite3_free(ti);
            sqlite3_free(de);
            goto out;
        }
        sqlite3_bind_int64(ins, 1, i);
        sqlite3_bind_text(ins, 2, uuid, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, ti, -1, sqlite3_free);
        sqlite3_bind_text(ins, 4, types[pick(s, N(types))], -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 5, de, -1, sqlite3_free);
        sqlite3_bind_text(ins, 6, city, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 7, date, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 8, pick(s, 5) ? "exact" : "estimate", -1,
                          SQLITE_STATIC);
        sqlite3_bind_text(ins, 9,
                          (const char *const[]){"confirmed", "likely",
                                                "possible",
                                                "unverified"}[pick(s, 4)],
                          -1, SQLITE_STATIC);
        step = sqlite3_step(ins);
        sqlite3_reset(ins);
        if (step != SQLITE_DONE) {
            fprintf(stderr, "bench_query: incident %ld: %s\n", i,
                    sqlite3_errmsg(db));
            goto out;
        }
        for (unsigned t = 0; t < ntags; t++) {
            sqlite3_bind_int64(tag, 1, i);
            sqlite3_bind_text(tag, 2, tags[pick(s, N(tags))], -1,
                              SQLITE_STATIC);
            step = sqlite3_step(tag);
            sqlite3_reset(tag);
            if (step != SQLITE_DONE) {
                fprintf(stderr, "bench_query: tag: %s\n", sqlite3_errmsg(db));
                goto out;
            }
        }
        if ((i % TXN == 0 || i == n) && exec(db, "COMMIT") != 0)
            goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(ins);
    sqlite3_finalize(tag);
    return rc;
}

static int load_actors(sqlite3 *db, long n, uint64_t *s)
{
    static const char *const cats[] = {
        "journalist", "blogger", "activist", "human-rights-defender",
        "lawyer", "media-outlet", "ngo", "state-body", "court", "police",
    };
    sqlite3_stmt *ins = NULL;
    char uuid[37], name[128], other[256], contact[128];
    int rc = -1;

    if (sqlite3_prepare_v2(db,
                           "INSERT INTO actor(id, uuid, kind, name,"
                           " other_names, category, description, contact,"
                           " created, updated) VALUES (?1, ?2, ?3, ?4, ?5,"
                           " ?6, ?7, ?8, '2024-12-31T12:00:00Z',"
                           " '2024-12-31T12:00:00Z')",
                           -1, &ins, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_query: %s\n", sqlite3_errmsg(db));
        goto out;
    }
    for (long i = 1; i <= n; i++) {
        sqlite3_str *desc = sqlite3_str_new(NULL);
        const char *f = first[pick(s, N(first))], *l = last[pick(s, N(last))];
        char *de;
        int step;

        if ((i - 1) % TXN == 0 && exec(db, "BEGIN") != 0)
            goto out;
        uuid_for(s, uuid);
        snprintf(name, sizeof name, "%s %s", f, l);
        snprintf(other, sizeof other, "[\"%c. %s\", \"%s %s-uulu\"]", f[0],
                 l, f, l);
        snprintf(contact, sizeof contact, "+996 %03u %06u",
                 pick(s, 1000), pick(s, 1000000));
        text_of(s, desc, 8 + (int)pick(s, 20));
        if (i == n / 2)
            sqlite3_str_appendall(desc, " Collects " RARE_WORD " fossils.");
        if (!(de = sqlite3_str_finish(desc)))
            goto out;
        sqlite3_bind_int64(ins, 1, i);
        sqlite3_bind_text(ins, 2, uuid, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, pick(s, 8) ? "person" : "organisation", -1,
                          SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 5, other, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 6, cats[pick(s, N(cats))], -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 7, de, -1, sqlite3_free);
        sqlite3_bind_text(ins, 8, contact, -1, SQLITE_STATIC);
        step = sqlite3_step(ins);
        sqlite3_reset(ins);
        if (step != SQLITE_DONE) {
            fprintf(stderr, "bench_query: actor %ld: %s\n", i,
                    sqlite3_errmsg(db));
            goto out;
        }
        if ((i % TXN == 0 || i == n) && exec(db, "COMMIT") != 0)
            goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(ins);
    return rc;
}

/* The month list: every row of one month, in date order. OUT: *rows. */
static int q_month(vault *v, int month, long *rows)
{
    sqlite3_stmt *st = NULL;
    char since[16], until[16];
    int y = 2015 + month / 12, m = month % 12 + 1, rc;

    snprintf(since, sizeof since, "%04d-%02d-01", y, m);
    snprintf(until, sizeof until, "%04d-%02d-31", y, m);
    if (sqlite3_prepare_v2(vault_db(v),
                           "SELECT id, uuid, title, type, start_date,"
                           " start_precision, end_date, end_precision,"
                           " location, status, confidential FROM incident"
                           " WHERE start_date BETWEEN ?1 AND ?2"
                           " ORDER BY start_date, id",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, since, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, until, -1, SQLITE_STATIC);
    *rows = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* Touch the text, as printing would. */
        if (sqlite3_column_bytes(st, 2) > 0)
            (*rows)++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int count_hit(void *arg, const search_hit *h)
{
    long *n = arg;
    (*n) += h->label[0] != '\0';
    return 0;
}

static int q_search(vault *v, const char *word, long *hits)
{
    search_opts o = {SEARCH_ANY, 0, NULL, NULL, 0};
    char *fts = NULL;
    ev_err e;
    int rc;

    *hits = 0;
    err_clear(&e);
    if (search_query_plain(word, &fts, &e) != 0)
        return -1;
    rc = search_run(v, fts, &o, count_hit, hits, &e);
    if (rc != 0)
        fprintf(stderr, "bench_query: search: %s\n", e.msg);
    sqlite3_free(fts);
    return rc;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    *out = strtol(s, &end, 10);
    return errno || end == s || *end || *out < lo || *out > hi ? -1 : 0;
}

int main(int argc, char **argv)
{
    struct opts o = {100000, 300000, 7, 0, NULL};
    double unlock[3][MAXREPS], q[3][MAXREPS], t0;
    long nrows[3] = {0, 0, 0};
    char path[4096], passpath[4200];
    static const char *const qname[3] = {"month", "rare", "common"};
    kdf_params p;
    vault *v = NULL;
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    struct stat sb;
    ev_err e;
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        long x;
        if (strcmp(a, "--keep") == 0) {
            o.keep = 1;
            continue;
        }
        if (!val)
            goto usage;
        i++;
        if (strcmp(a, "--dir") == 0)
            o.dir = val;
        else if (strcmp(a, "--incidents") == 0 &&
                 parse_long(val, 1, 10000000, &x) == 0)
            o.incidents = x;
        else if (strcmp(a, "--actors") == 0 &&
                 parse_long(val, 1, 10000000, &x) == 0)
            o.actors = x;
        else if (strcmp(a, "--reps") == 0 &&
                 parse_long(val, 1, MAXREPS, &x) == 0)
            o.reps = (int)x;
        else
            goto usage;
    }
    if (!o.dir)
        goto usage;
    if (sodium_init() < 0 || kdf_profile("interactive", &p) != 0)
        return 1;
    snprintf(path, sizeof path, "%s/query.evault", o.dir);
    snprintf(passpath, sizeof passpath, "%s.pass", path);
    unlink(path);
    err_clear(&e);

    /* 1. load */
    t0 = now_ms();
    if (vault_create(path, PASSPHRASE, strlen(PASSPHRASE), &p, "bench", NULL,
                     NULL, &e) != 0 ||
        vault_open(&v, path, PASSPHRASE, strlen(PASSPHRASE), NULL, &e) != 0) {
        fprintf(stderr, "bench_query: vault '%s': %s\n", path, e.msg);
        goto out;
    }
    if (load_incidents(vault_db(v), o.incidents, &seed) != 0 ||
        load_actors(vault_db(v), o.actors, &seed) != 0)
        goto out;
    vault_close(v);
    v = NULL;
    stat(path, &sb);
    printf("@qload %ld %ld %.1f %lld\n", o.incidents, o.actors,
           now_ms() - t0, (long long)sb.st_size);
    fflush(stdout);

    /* 2. unlock + one query, as a fresh command would */
    for (int r = 0; r < o.reps; r++) {
        for (int k = 0; k < 3; k++) {
            long n = 0;
            int qrc;
            t0 = now_ms();
            if (vault_open(&v, path, PASSPHRASE, strlen(PASSPHRASE), NULL,
                           &e) != 0) {
                fprintf(stderr, "bench_query: vault_open: %s\n", e.msg);
                goto out;
            }
            unlock[k][r] = now_ms() - t0;
            t0 = now_ms();
            qrc = k == 0   ? q_month(v, (r * 37 + 5) % 120, &n)
                  : k == 1 ? q_search(v, RARE_WORD, &n)
                           : q_search(v, COMMON_WORD, &n);
            q[k][r] = now_ms() - t0;
            vault_close(v);
            v = NULL;
            if (qrc != 0) {
                fprintf(stderr, "bench_query: query %s failed\n", qname[k]);
                goto out;
            }
            nrows[k] = n;
            printf("@qunlock %.3f\n@q%s %.3f %ld\n", unlock[k][r], qname[k],
                   q[k][r], n);
            fflush(stdout);
        }
    }
    {
        double all[3 * MAXREPS];
        int m = 0;
        for (int k = 0; k < 3; k++)
            for (int r = 0; r < o.reps; r++)
                all[m++ % MAXREPS] = unlock[k][r];
        printf("# %ld incidents, %ld actors, %lld MiB; median of %d:"
               " unlock %.1f ms (interactive KDF),"
               " month list %.2f ms (%ld rows), rare-word search %.2f ms"
               " (%ld hits), common-word search %.2f ms (%ld hits)\n",
               o.incidents, o.actors, (long long)sb.st_size >> 20, o.reps,
               median(all, m < MAXREPS ? m : MAXREPS), median(q[0], o.reps),
               nrows[0], median(q[1], o.reps), nrows[1],
               median(q[2], o.reps), nrows[2]);
    }
    if (o.keep) {
        int fd = open(passpath, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
                      0600);
        if (fd < 0 || write(fd, PASSPHRASE "\n", strlen(PASSPHRASE) + 1) < 0)
            goto out;
        close(fd);
        printf("@qvault %s\n", path);
    }
    rc = 0;
out:
    vault_close(v);
    if (!o.keep || rc != 0)
        unlink(path);
    return rc;
usage:
    fprintf(stderr, "usage: bench_query --dir DIR [--incidents N] "
                    "[--actors N] [--reps N] [--keep]\n");
    return 2;
}
