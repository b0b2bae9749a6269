/* cmd_shred: `evault shred`, crypto-erase a vault without unlocking it. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_shred(int argc, char **argv)
{
    static const struct option opts[] = {
        {"yes", no_argument, NULL, 'y'},
        {NULL, 0, NULL, 0},
    };
    const char *path;
    char question[512];
    int yes = 0, c;
    ev_err e;

    while ((c = cli_getopt(argc, argv, "y", opts)) != -1) {
        if (c != 'y')
            return cli_usage("shred", 0);
        yes = 1;
    }
    if (g_cli.help)
        return cli_usage("shred", 1);
    if (optind != argc)
        return cli_usage("shred", 0);
    if (!(path = cli_vault_path()))
        return EXIT_USAGE;
    if (!yes) {
        snprintf(question, sizeof question,
                 "Destroy every key of '%s'? Nothing will ever open it "
                 "again.",
                 path);
        if (!cli_has_tty()) {
            cli_error("refusing to shred '%s' without --yes when not on a "
                      "terminal",
                      path);
            return EXIT_USAGE;
        }
        if (!cli_confirm(question)) {
            cli_error("not shredded");
            return EXIT_ERROR;
        }
    }
    err_clear(&e);
    if (vault_shred(path, &e) != 0)
        return cli_fail(&e);
    fprintf(stderr,
            "evault: '%s' shredded: its keyslots are overwritten and it can "
            "never be unlocked; the file may now be deleted\n",
            path);
    return EXIT_OK;
}
