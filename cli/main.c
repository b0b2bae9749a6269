/*
 * main: evault's entry point. Hardens the process (no core dumps, not
 * dumpable), parses the options that come before the command, and runs the
 * command from the table below. Usage texts live here too, so that
 * `evault help CMD` and `evault CMD --help` print the same thing.
 */
#define _GNU_SOURCE
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "cli.h"

#define EVAULT_VERSION "0.1.0"

static const struct command commands[] = {
    {"init", cmd_init, "create a new vault",
     "usage: evault [-f FILE] init [--kdf PROFILE] [--name ORGANISATION]\n"
     "\n"
     "Create a new, empty vault at FILE (never replaces an existing file).\n"
     "The passphrase comes from --new-passphrase-file FILE (or\n"
     "--passphrase-file, --passphrase-fd, EVAULT_PASSPHRASE_FILE), else it\n"
     "is asked twice on the terminal. Prints the new vault's id.\n"
     "\n"
     "  --kdf PROFILE        Argon2id cost: interactive, moderate (default)\n"
     "                       or sensitive (libsodium's presets)\n"
     "  --name ORGANISATION  the organisation that keeps this vault\n"},
    {"info", cmd_info, "show the vault's id, format and keyslots",
     "usage: evault [-f FILE] info [--json]\n"
     "\n"
     "Show the vault id, name, creation time, format and schema version,\n"
     "page size, file size and keyslots (no secrets).\n"},
    {"passwd", cmd_passwd, "change the passphrase that unlocked the vault",
     "usage: evault [-f FILE] passwd [--kdf PROFILE]\n"
     "\n"
     "Change the passphrase of the keyslot that unlocked the vault. The new\n"
     "passphrase comes from --new-passphrase-file FILE, else it is asked\n"
     "twice. Only that keyslot is rewritten; the data is not re-encrypted.\n"
     "Needs one free keyslot: the new slot is written before the old one is\n"
     "erased, so a crash never leaves the vault without a passphrase.\n"},
    {"keyslot", cmd_keyslot, "list, add or remove keyslots",
     "usage: evault [-f FILE] keyslot list [--json]\n"
     "       evault [-f FILE] keyslot add [--recovery] [--label L] "
     "[--kdf PROFILE]\n"
     "       evault [-f FILE] keyslot remove N\n"
     "\n"
     "A vault has 8 keyslots, each opening it with its own passphrase or\n"
     "recovery code. 'add' asks for the new passphrase (or reads\n"
     "--new-passphrase-file); 'add --recovery' prints a new recovery code\n"
     "once on stdout: write it down, it is never shown again. 'remove'\n"
     "refuses to remove the last keyslot in use.\n"},
    {"shred", cmd_shred, "crypto-erase the vault for ever",
     "usage: evault [-f FILE] shred [--yes]\n"
     "\n"
     "Overwrite all keyslots with random bytes so that no passphrase or\n"
     "recovery code can ever open the vault again. Needs no passphrase and\n"
     "takes well under a second whatever the vault's size. Asks for\n"
     "confirmation on a terminal unless --yes is given; refuses without\n"
     "--yes when there is no terminal.\n"},
    {"help", cmd_help, "show help for a command",
     "usage: evault help [COMMAND]\n"},
    {NULL, NULL, NULL, NULL},
};

/* The container's commands, then each group's (see cli.h). */
static const struct command *const groups[] = {
    commands, records_commands, evidence_commands, data_commands,
    integrity_commands, partner_commands, bundle_commands, bag_commands,
};

#define NGROUPS (sizeof groups / sizeof groups[0])

static const char global_usage[] =
    "usage: evault [--vault FILE | -f FILE] COMMAND [ARGS]\n"
    "\n"
    "Options for every command:\n"
    "  -f, --vault FILE             the vault (default: $EVAULT_FILE)\n"
    "  --passphrase-file FILE       read the passphrase (or recovery code)\n"
    "                               from the first line of FILE\n"
    "  --passphrase-fd N            read it from file descriptor N\n"
    "  --new-passphrase-file FILE   read a new passphrase from FILE\n"
    "  --json                       one JSON document on stdout\n"
    "  -h, --help                   show help\n"
    "Without a passphrase option, EVAULT_PASSPHRASE_FILE names the file;\n"
    "else evault asks on the terminal.\n"
    "\n"
    "Exit status: 0 ok, 1 error, 2 usage, 3 cannot unlock, 4 integrity\n"
    "failure.\n"
    "\n"
    "Commands:\n";

static const struct command *find(const char *name)
{
    for (size_t g = 0; g < NGROUPS; g++)
        for (const struct command *c = groups[g]; c->name; c++)
            if (strcmp(c->name, name) == 0)
                return c;
    return NULL;
}

static void print_global_usage(FILE *out)
{
    fputs(global_usage, out);
    for (size_t g = 0; g < NGROUPS; g++)
        for (const struct command *c = groups[g]; c->name; c++)
            fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fputs("\nSee 'evault help COMMAND' and evault(1).\n", out);
}

int cli_usage(const char *cmd, int to_stdout)
{
    const struct command *c = cmd ? find(cmd) : NULL;
    FILE *out = to_stdout ? stdout : stderr;

    if (c)
        fputs(c->usage, out);
    else
        print_global_usage(out);
    return to_stdout ? EXIT_OK : EXIT_USAGE;
}

int cmd_help(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
                     strcmp(argv[1], "-h") == 0))
        return cli_usage("help", 1);
    if (argc > 1 && !find(argv[1])) {
        cli_error("no command '%s': see 'evault help'", argv[1]);
        return EXIT_USAGE;
    }
    return cli_usage(argc > 1 ? argv[1] : NULL, 1);
}

static void harden(void)
{
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int main(int argc, char **argv)
{
    const struct command *c;
    int c0, rc;

    harden();
    if (sodium_init() < 0) {
        cli_error("cannot initialise libsodium");
        return EXIT_ERROR;
    }
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("evault %s\n", EVAULT_VERSION);
        return EXIT_OK;
    }
    c0 = cli_getopt(argc, argv, "+", NULL); /* stop at COMMAND */
    if (c0 == '?')
        return cli_usage(NULL, 0);
    if (optind >= argc) {
        if (g_cli.help)
            return cli_usage(NULL, 1);
        cli_error("no command given");
        return cli_usage(NULL, 0);
    }
    c = find(argv[optind]);
    if (!c) {
        cli_error("no command '%s': see 'evault help'", argv[optind]);
        return EXIT_USAGE;
    }
    if (g_cli.help)
        return cli_usage(c->name, 1);
    argc -= optind;
    argv += optind;
    optind = 0; /* GNU getopt: 0 re-initialises; parsing starts at argv[1] */
    rc = c->fn(argc, argv);
    /* Output that never arrived (a full disk, a closed pipe) is an error,
     * not a success: think of a recovery code printed into the void. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write to standard output");
        if (rc == EXIT_OK)
            rc = EXIT_ERROR;
    }
    return rc;
}
