/*
 * bench_custody: what one custody-log entry (canonical text, SHA-256,
 * Ed25519 signature, INSERT) adds to a command. Three timings on one vault,
 * medians of rounds of N operations each:
 *   entry   custody_append inside an open transaction, as every writing
 *           command does (the entry shares the command's commit);
 *   add     a whole `incident add` write (records_incident_add: its own
 *           transaction, commit and fsync, its entry included);
 *   record  custody_record alone (its own transaction and fsync), as
 *           `evidence extract` and `seal --export` log.
 *
 *   bench_custody DIR [N]
 */
#define _POSIX_C_SOURCE 200809L
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../vault/custody.h"
#include "../vault/records.h"
#include "../vault/vault.h"

#define PASS "bench custody"
#define ROUNDS 7

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    char path[4096];
    double entry[ROUNDS], add[ROUNDS], rec[ROUNDS];
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 200;
    kdf_params kp;
    vault *v = NULL;
    ev_err e;

    if (argc < 2 || n <= 0 || n > 1000000 || sodium_init() < 0) {
        fprintf(stderr, "usage: bench_custody DIR [N]\n");
        return 2;
    }
    snprintf(path, sizeof path, "%s/custody.evault", argv[1]);
    remove(path);
    kdf_profile("test", &kp);
    if (vault_create(path, PASS, strlen(PASS), &kp, "bench", NULL, NULL,
                     &e) != 0 ||
        vault_open(&v, path, PASS, strlen(PASS), NULL, &e) != 0) {
        fprintf(stderr, "bench_custody: %s\n", e.msg);
        return 1;
    }
    for (int r = 0; r < ROUNDS; r++) {
        records_incident in;
        double t = now_ms();
        sqlite3_exec(vault_db(v), "BEGIN IMMEDIATE", NULL, NULL, NULL);
        for (int i = 0; i < n; i++)
            if (custody_append(v, "change", "incident",
                               "00000000-0000-4000-8000-000000000000",
                               "incident 1 edited", &e) != 0)
                goto fail;
        entry[r] = (now_ms() - t) / n;
        sqlite3_exec(vault_db(v), "COMMIT", NULL, NULL, NULL);

        records_incident_init(&in);
        in.title = "benchmark incident";
        in.type = "arrest";
        t = now_ms();
        for (int i = 0; i < n / 10 + 1; i++) {
            int64_t id;
            if (records_incident_add(v, &in, &id, &e) != 0)
                goto fail;
        }
        add[r] = (now_ms() - t) / (n / 10 + 1);

        t = now_ms();
        for (int i = 0; i < n / 10 + 1; i++)
            if (custody_record(v, "extract", "evidence",
                               "00000000-0000-4000-8000-000000000000",
                               "bench", &e) != 0)
                goto fail;
        rec[r] = (now_ms() - t) / (n / 10 + 1);
    }
    printf("@custody entry_ms %.4f add_ms %.4f record_ms %.4f\n",
           median(entry, ROUNDS), median(add, ROUNDS), median(rec, ROUNDS));
    vault_close(v);
    remove(path);
    return 0;
fail:
    fprintf(stderr, "bench_custody: %s\n", e.msg);
    vault_close(v);
    return 1;
}
