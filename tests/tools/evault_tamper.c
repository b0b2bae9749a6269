/*
 * evault_tamper: a test-only tool that changes a vault the way evault never
 * would, to prove that `evault verify` notices. It unlocks the vault with
 * the library (so pages stay well encrypted and authenticated: this models
 * a bug, or someone holding the passphrase, not a disk-level attacker),
 * turns triggers off on its connection, and runs the SQL given.
 *
 *   evault_tamper VAULT PASSPHRASE-FILE SQL
 *
 * Never installed; built only for the test suite.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../../vault/vault.h"

int main(int argc, char **argv)
{
    char pass[256];
    FILE *f;
    vault *v = NULL;
    ev_err e;
    char *msg = NULL;
    size_t n;
    int off = 0;

    if (argc != 4) {
        fprintf(stderr, "usage: evault_tamper VAULT PASSPHRASE-FILE SQL\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    if (!(f = fopen(argv[2], "r")) || !fgets(pass, sizeof pass, f)) {
        fprintf(stderr, "evault_tamper: cannot read '%s'\n", argv[2]);
        return 1;
    }
    fclose(f);
    n = strcspn(pass, "\r\n");
    pass[n] = '\0';
    err_clear(&e);
    if (vault_open(&v, argv[1], pass, n, NULL, &e) != 0) {
        fprintf(stderr, "evault_tamper: %s\n", e.msg);
        return 1;
    }
    sqlite3_db_config(vault_db(v), SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, &off);
    if (off != 0 || sqlite3_exec(vault_db(v), argv[3], NULL, NULL, &msg) !=
                        SQLITE_OK) {
        fprintf(stderr, "evault_tamper: %s\n", msg ? msg : "triggers stay on");
        sqlite3_free(msg);
        vault_close(v);
        return 1;
    }
    vault_close(v);
    return 0;
}
