/*
 * bench_store: setup helper for the evidence-store benchmark
 * (bench/bench_store.sh) and, until `evault incident add` exists, for
 * tests/cli/t130-evidence.sh.
 *
 *   bench_store mkvault VAULT PASSFILE KDF N
 *       create VAULT (passphrase: the first line of PASSFILE; KDF: a
 *       profile name such as "interactive" or "test") holding N incidents
 *       titled "incident 1".."incident N".
 *
 * Everything timed is the real `evault` binary; this program only prepares.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "../crypto/kdf.h"
#include "../vault/rec.h"
#include "../vault/vault.h"

static int read_pass(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f || !fgets(buf, (int)len, f)) {
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return 0;
}

static int mkvault(const char *path, const char *passfile, const char *kdf,
                   long n)
{
    char pass[1024], uuid[REC_UUIDLEN + 1], now[REC_TIMELEN + 1];
    char title[64];
    kdf_params p;
    vault *v = NULL;
    sqlite3_stmt *st = NULL;
    ev_err e;
    int rc = 1;

    err_clear(&e);
    if (read_pass(passfile, pass, sizeof pass) != 0 ||
        kdf_profile(kdf, &p) != 0) {
        fprintf(stderr, "bench_store: bad passphrase file or KDF profile\n");
        return 1;
    }
    if (vault_create(path, pass, strlen(pass), &p, "bench", NULL, NULL, &e) ||
        vault_open(&v, path, pass, strlen(pass), NULL, &e)) {
        fprintf(stderr, "bench_store: %s\n", e.msg);
        goto out;
    }
    if (sqlite3_prepare_v2(vault_db(v),
                           "INSERT INTO incident(uuid, title, type, created, "
                           "updated) VALUES (?1, ?2, 'other', ?3, ?3)",
                           -1, &st, NULL) != SQLITE_OK)
        goto sqlfail;
    rec_now(now);
    for (long i = 1; i <= n; i++) {
        rec_uuid(uuid);
        snprintf(title, sizeof title, "incident %ld", i);
        sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, title, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            goto sqlfail;
        sqlite3_reset(st);
    }
    rc = 0;
    goto out;
sqlfail:
    fprintf(stderr, "bench_store: %s\n", sqlite3_errmsg(vault_db(v)));
out:
    sqlite3_finalize(st);
    vault_close(v);
    sodium_memzero(pass, sizeof pass);
    return rc;
}

int main(int argc, char **argv)
{
    char *end;
    long n;

    if (sodium_init() < 0)
        return 1;
    if (argc == 6 && strcmp(argv[1], "mkvault") == 0) {
        n = strtol(argv[5], &end, 10);
        if (*end || n < 0 || n > 1000000)
            return 2;
        return mkvault(argv[2], argv[3], argv[4], n);
    }
    fprintf(stderr, "usage: bench_store mkvault VAULT PASSFILE KDF N\n");
    return 2;
}
