/* cmd_keyslot: `evault keyslot list|add|remove` and `evault passwd`. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../crypto/recovery.h"
#include "cli.h"
#include "json.h"

static int keyslot_list(vault *v)
{
    vault_info info;
    ev_err e;
    int rc;

    err_clear(&e);
    if (vault_get_info(v, &info, &e) != 0)
        return cli_fail(&e);
    if (g_cli.json) {
        json_doc *d = json_new(0);
        if (!d)
            return EXIT_ERROR;
        json_str(d, "$.vault_id", info.vault_id);
        cli_print_slots(&info, d);
        rc = json_print(d);
        json_free(d);
        return rc ? EXIT_ERROR : EXIT_OK;
    }
    cli_print_slots(&info, NULL);
    return EXIT_OK;
}

static int keyslot_add(vault *v, int recovery, const char *label,
                       const kdf_params *kdf)
{
    secret s = {NULL, 0};
    char *code = NULL;
    int index = -1, rc;
    ev_err e;

    err_clear(&e);
    if (recovery) {
        code = sodium_malloc(RECOVERY_TEXTLEN + 1);
        if (!code)
            return EXIT_ERROR;
        rc = vault_slot_add_recovery(v, label, code, &index, &e);
        if (rc != 0) {
            sodium_free(code);
            return cli_fail(&e);
        }
        if (printf("%s\n", code) < 0 || fflush(stdout) != 0 ||
            ferror(stdout)) {
            /* Nobody saw the code: a slot no one can use must not stay. */
            sodium_free(code);
            err_clear(&e);
            if (vault_slot_remove(v, index, &e) != 0)
                cli_error("%s", e.msg);
            cli_error("cannot write the recovery code to standard output: "
                      "keyslot %d was removed again",
                      index);
            return EXIT_ERROR;
        }
        sodium_free(code);
        fprintf(stderr,
                "evault: recovery code added in keyslot %d; it is shown only "
                "this once: write it down and keep it apart from this "
                "computer\n",
                index);
        return EXIT_OK;
    }
    if ((rc = cli_read_new_secret(&s, 0)) != 0)
        return rc;
    rc = vault_slot_add_passphrase(v, s.buf, s.len, kdf, label, &index, &e);
    secret_free(&s);
    if (rc != 0)
        return cli_fail(&e);
    printf("%d\n", index);
    return EXIT_OK;
}

/* Parse a keyslot number. OUT: *n. Returns 0 or EXIT_USAGE. */
static int slot_number(const char *arg, long *n)
{
    char *end;

    errno = 0;
    *n = strtol(arg, &end, 10);
    if (errno || *end || end == arg || *n < 0 || *n >= KEYSLOT_COUNT) {
        cli_error("'%s' is not a keyslot number (0 to %d)", arg,
                  KEYSLOT_COUNT - 1);
        return EXIT_USAGE;
    }
    return 0;
}

static int keyslot_remove(vault *v, long n)
{
    ev_err e;

    err_clear(&e);
    if (vault_slot_remove(v, (int)n, &e) != 0)
        return cli_fail(&e);
    fprintf(stderr, "evault: keyslot %ld removed\n", n);
    return EXIT_OK;
}

int cmd_keyslot(int argc, char **argv)
{
    static const struct option opts[] = {
        {"recovery", no_argument, NULL, 'r'},
        {"label", required_argument, NULL, 'l'},
        {"kdf", required_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    const char *label = NULL, *kdf_name = "moderate", *sub;
    int recovery = 0, c, rc, kdf_given = 0;
    long slot = -1;
    kdf_params p;
    vault *v = NULL;

    /* Options may come before or after the subcommand (getopt permutes). */
    while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
        switch (c) {
        case 'r':
            recovery = 1;
            break;
        case 'l':
            label = optarg;
            break;
        case 'k':
            kdf_name = optarg;
            kdf_given = 1;
            break;
        default:
            return cli_usage("keyslot", 0);
        }
    }
    if (g_cli.help || optind >= argc)
        return cli_usage("keyslot", g_cli.help);
    sub = argv[optind++];
    if (g_cli.help)
        return cli_usage("keyslot", 1);
    if (label && strlen(label) > KEYSLOT_LABELMAX) {
        cli_error("--label is longer than %d bytes", KEYSLOT_LABELMAX);
        return EXIT_USAGE;
    }
    if ((rc = cli_kdf_profile(kdf_name, &p)) != 0)
        return rc;
    if (strcmp(sub, "list") == 0) {
        if (optind != argc)
            return cli_usage("keyslot", 0);
    } else if (strcmp(sub, "add") == 0) {
        if (optind != argc || (recovery && kdf_given))
            return cli_usage("keyslot", 0);
    } else if (strcmp(sub, "remove") == 0) {
        if (optind + 1 != argc)
            return cli_usage("keyslot", 0);
        if ((rc = slot_number(argv[optind], &slot)) != 0)
            return rc;
    } else {
        cli_error("no keyslot command '%s': use list, add or remove", sub);
        return EXIT_USAGE;
    }
    if ((rc = cli_open_vault(&v)) != 0)
        return rc;
    if (strcmp(sub, "list") == 0)
        rc = keyslot_list(v);
    else if (strcmp(sub, "add") == 0)
        rc = keyslot_add(v, recovery, label, &p);
    else
        rc = keyslot_remove(v, slot);
    vault_close(v);
    return rc;
}

int cmd_passwd(int argc, char **argv)
{
    static const struct option opts[] = {
        {"kdf", required_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    const char *kdf_name = NULL;
    kdf_params p;
    secret s = {NULL, 0};
    vault *v = NULL;
    ev_err e;
    int c, rc;

    while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
        if (c != 'k')
            return cli_usage("passwd", 0);
        kdf_name = optarg;
    }
    if (g_cli.help)
        return cli_usage("passwd", 1);
    if (optind != argc)
        return cli_usage("passwd", 0);
    if (kdf_name && (rc = cli_kdf_profile(kdf_name, &p)) != 0)
        return rc;
    if ((rc = cli_open_vault(&v)) != 0)
        return rc;
    rc = cli_read_new_secret(&s, 0);
    if (rc == 0) {
        err_clear(&e);
        rc = vault_passwd(v, s.buf, s.len, kdf_name ? &p : NULL, &e);
        rc = rc == 0 ? EXIT_OK : cli_fail(&e);
    }
    secret_free(&s);
    vault_close(v);
    if (rc == EXIT_OK)
        fprintf(stderr, "evault: passphrase changed\n");
    return rc;
}
