/* cmd_init: `evault init`, create a vault. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"

int cli_kdf_profile(const char *name, kdf_params *p)
{
    const char *testing = getenv("EVAULT_TESTING");

    if (strcmp(name, "test") == 0 && !(testing && strcmp(testing, "1") == 0)) {
        cli_error("--kdf test is only for test suites (set EVAULT_TESTING=1)");
        return EXIT_USAGE;
    }
    if (kdf_profile(name, p) != 0) {
        cli_error("unknown --kdf profile '%s': use interactive, moderate or "
                  "sensitive",
                  name);
        return EXIT_USAGE;
    }
    return 0;
}

int cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {
        {"kdf", required_argument, NULL, 'k'},
        {"name", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    const char *kdf_name = "moderate", *name = NULL, *path;
    kdf_params p;
    secret s = {NULL, 0};
    char id[33];
    ev_err e;
    int c, rc;

    while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
        switch (c) {
        case 'k':
            kdf_name = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        default:
            return cli_usage("init", 0);
        }
    }
    if (g_cli.help)
        return cli_usage("init", 1);
    if (optind != argc)
        return cli_usage("init", 0);
    if ((rc = cli_kdf_profile(kdf_name, &p)) != 0)
        return rc;
    if (name && strlen(name) > VAULT_NAMEMAX) {
        cli_error("--name is longer than %d bytes", VAULT_NAMEMAX);
        return EXIT_USAGE;
    }
    if (!(path = cli_vault_path()))
        return EXIT_USAGE;
    rc = cli_read_new_secret(&s, 1);
    if (rc != 0)
        return rc;
    err_clear(&e);
    rc = vault_create(path, s.buf, s.len, &p, name, NULL, id, &e);
    secret_free(&s);
    if (rc != 0)
        return cli_fail(&e);
    printf("%s\n", id);
    return EXIT_OK;
}
